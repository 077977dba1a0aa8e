"""Replaying N requests from an N-interaction cassette: cfreplay, vcrpy and an O(1) floor, in one run.

For each size N (``--sizes``, default 10, 100, 1000, 5000) the script writes a
cassette of N distinct interactions into a temporary directory, as vcrpy writes
YAML (``cassette.dumps(data, "yaml")``) plus ``metadata: {recorded_at: ...}``.
Each is ``GET https://api.sys.example.com/v2/apps/<guid>`` answered by a small
JSON app envelope (one of a few ``factories.app_envelope()`` bodies, with the
URL's guid put in) and the headers Cloud Controller sends.  Then all N requests
are replayed, in recorded order, through one ``requests.Session`` sending
``Authorization: bearer <JWT>`` (a UAA-shaped token from cfreplay's factories), inside:

* cfreplay: ``cfreplay.use_cassette(path, freeze_time=False)`` (replay only; the
  clock is not the subject);
* vcrpy: plain ``vcr.use_cassette(path, record_mode="none")``.  vcrpy finds a
  recording by a linear scan, so the loop is quadratic: sizes above
  ``--vcrpy-max`` (default 1000) are not run but extrapolated from the measured
  sizes with t = a*N + b*N^2 and marked "(extrapolated)";
* floor: the same requests answered from a dict keyed by (method, url), built
  before the clock starts, by a ``requests.adapters.HTTPAdapter`` subclass whose
  ``send`` looks the answer up and builds the response the way ``HTTPAdapter``
  does (a urllib3 ``HTTPResponse`` over the body, then ``build_response``): the
  client's own cost per request with an O(1) lookup and no network.

Only the replay loop is timed (``time.perf_counter``, best of ``--repeat`` rounds,
more rounds at small N); entering the context, which loads the cassette, is
timed apart and printed separately (first enter in the process).  Printed: seconds per
loop, microseconds per request, cfreplay's speed-up over vcrpy and its ratio to
the floor, and how flat cfreplay's per-request time stays from the smallest to the
largest N.  ``--profile N`` also prints cProfile's top entries for cfreplay's
replay loop at N.  ``--instructions`` counts the loops in instructions instead (valgrind's
callgrind, which a shared machine's load does not move): per size, four processes build the
same cassette and answers, then do nothing more, run the floor's loop, enter the cassette,
or enter it and run cfreplay's loop; a loop's count is its process's less the one before it.
The script exits 0 whatever the figures.

Run it::

    .venv/bin/python bench/replay.py
    .venv/bin/python bench/replay.py --sizes 10,100,1000,5000 --vcrpy-max 5000 --repeat 1 --json
    .venv/bin/python bench/replay.py --sizes 1000 --profile 1000
    .venv/bin/python bench/replay.py --sizes 100,1000,5000 --instructions   # ~10 min on 2 cores, needs valgrind
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import io
import json
import platform
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import requests
import requests.adapters
import urllib3
import vcr

import cfreplay
from cfreplay import cassette
from cfreplay.cf import factories

HOST = "https://api.sys.example.com"
RECORDED_AT = "2026-11-28T00:00:00Z"
TARGET_VS_VCRPY = 100.0  # at the largest N: cfreplay at least this many times faster than vcrpy
TARGET_VS_FLOOR = 1.5  # ... and at most this many times the O(1) floor, at every N (issue 15)
TARGET_FLAT = 1.5  # per-request time at the largest N over that at the smallest (not in the issue: "flat")
BODIES = 4  # distinct app envelopes; the rest reuse them with the guid swapped in
SEED = 1

# --------------------------------------------------------------------------- cassettes


def _templates() -> list[tuple[str, str]]:
    """A few app envelopes as CC serialises them, with the guid each must be given."""
    out = []
    for index in range(BODIES):
        envelope = factories.app_envelope(seed=SEED + index)
        out.append((json.dumps(envelope, indent=2), envelope["metadata"]["guid"]))
    return out


def build(n: int, templates: list[tuple[str, str]]) -> dict[str, Any]:
    """N distinct GETs of an app, each answered by a small JSON body, as vcrpy records them."""
    rng = random.Random(SEED * 1_000_003 + n)
    interactions = []
    for index in range(n):
        guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        template, template_guid = templates[index % len(templates)]
        body = template.replace(template_guid, guid)
        interactions.append({
            "request": {
                "body": None,
                "headers": {"Accept": ["*/*"], "Accept-Encoding": ["gzip, deflate"], "Connection": ["keep-alive"],
                            "User-Agent": [f"python-requests/{requests.__version__}"]},
                "method": "GET",
                "uri": f"{HOST}/v2/apps/{guid}",
            },
            "response": {
                "body": {"string": body},
                "headers": {"Content-Type": ["application/json;charset=utf-8"],
                            "X-VCAP-Request-ID": [str(uuid.UUID(int=rng.getrandbits(128), version=4))],
                            "Content-Length": [str(len(body.encode()))], "X-Content-Type-Options": ["nosniff"]},
                "status": {"code": 200, "message": "OK"},
            },
        })  # fmt: skip
    return {"interactions": interactions, "metadata": {"recorded_at": RECORDED_AT}, "version": 1}


def urls_of(data: dict[str, Any]) -> list[str]:
    return [interaction["request"]["uri"] for interaction in data["interactions"]]


# --------------------------------------------------------------------------- the O(1) floor


class DictAdapter(requests.adapters.HTTPAdapter):
    """Answers from a dict keyed by (method, url), through urllib3's response and requests' own build."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, str, list[tuple[str, str]], bytes]]) -> None:
        super().__init__()
        self.answers = answers

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        status, reason, headers, body = self.answers[(request.method or "GET", request.url or "")]
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body), headers=headers, status=status, reason=reason,
            preload_content=False, decode_content=True, request_url=request.url,
        )  # fmt: skip
        return self.build_response(request, raw)


def floor_answers(data: dict[str, Any]) -> dict[tuple[str, str], tuple[int, str, list[tuple[str, str]], bytes]]:
    answers = {}
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        headers = [(name, value) for name, values in response["headers"].items() for value in values]
        body = response["body"]["string"]
        answers[(request["method"], request["uri"])] = (
            response["status"]["code"], response["status"]["message"], headers,
            body.encode() if isinstance(body, str) else body,
        )  # fmt: skip
    return answers


# --------------------------------------------------------------------------- the three contenders


#: Every request carries a bearer token, as a CC client's do (the recorder sanitizes what it
#: sees of a live request; replaying such a request must not pay for that).
BEARER: Final = "bearer " + factories.access_token(seed=7)


def _loop(session: requests.Session, urls: list[str]) -> float:
    """Replay every URL once, with a bearer token; the seconds it took.  Every answer must be a 200 with a body."""
    session.headers["Authorization"] = BEARER
    get = session.get
    start = time.perf_counter()
    for url in urls:
        response = get(url)
        if response.status_code != 200 or not response.content:
            raise RuntimeError(f"{url}: {response.status_code}")
    return time.perf_counter() - start


def run_cfreplay(path: Path, urls: list[str]) -> tuple[float, float]:
    """(enter seconds, replay-loop seconds) for one round inside cfreplay.use_cassette."""
    context = cfreplay.use_cassette(path, record_mode="none", freeze_time=False)
    start = time.perf_counter()
    active = context.__enter__()
    entered = time.perf_counter() - start
    try:
        with requests.Session() as session:
            seconds = _loop(session, urls)
        if active.play_count != len(urls):
            raise RuntimeError(f"cfreplay played {active.play_count} of {len(urls)} interactions")
    finally:
        context.__exit__(None, None, None)
    return entered, seconds


def run_vcrpy(path: Path, urls: list[str]) -> tuple[float, float]:
    context = vcr.use_cassette(str(path), record_mode="none")
    start = time.perf_counter()
    played = context.__enter__()
    entered = time.perf_counter() - start
    try:
        with requests.Session() as session:
            seconds = _loop(session, urls)
        if played.play_count != len(urls):
            raise RuntimeError(f"vcrpy played {played.play_count} of {len(urls)} interactions")
    finally:
        context.__exit__(None, None, None)
    return entered, seconds


def run_floor(answers: dict[tuple[str, str], Any], urls: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    session = requests.Session()
    adapter = DictAdapter(answers)
    session.mount("https://", adapter)
    entered = time.perf_counter() - start
    with session:
        seconds = _loop(session, urls)
    return entered, seconds


def best_of(rounds: int, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """(first enter, best loop) over *rounds* runs."""
    first_enter, loops = None, []
    for _ in range(rounds):
        gc.collect()
        entered, seconds = run()
        first_enter = entered if first_enter is None else first_enter
        loops.append(seconds)
    return first_enter or 0.0, min(loops)


def extrapolate(measured: dict[int, float], n: int) -> float | None:
    """t(n) from t = a*N + b*N^2 through the two largest measured sizes (pure N^2 if that fit is off)."""
    if not measured:
        return None
    sizes = sorted(measured)
    big = sizes[-1]
    if len(sizes) >= 2:
        small = sizes[-2]
        t1, t2 = measured[small], measured[big]
        b = (t2 / big - t1 / small) / (big - small)
        a = t1 / small - b * small
        if a >= 0 and b > 0:
            return a * n + b * n * n
    return measured[big] * (n / big) ** 2


# --------------------------------------------------------------------------- report


def measure(sizes: list[int], vcrpy_max: int, repeat: int, workdir: Path) -> list[dict[str, Any]]:
    templates = _templates()
    rows = []
    vcrpy_measured: dict[int, float] = {}
    for n in sizes:
        data = build(n, templates)
        path = workdir / f"replay-{n}.yaml"
        payload = cassette.dumps(data, "yaml")
        path.write_bytes(payload)
        urls = urls_of(data)
        answers = floor_answers(data)
        rounds = max(repeat, min(50, 1000 // n))  # small N: more rounds against timer noise
        row: dict[str, Any] = {"n": n, "mb": len(payload) / 1e6, "rounds": rounds}
        for tool, run in (
            ("floor", lambda answers=answers, urls=urls: run_floor(answers, urls)),
            ("cfreplay", lambda path=path, urls=urls: run_cfreplay(path, urls)),
            ("vcrpy", lambda path=path, urls=urls: run_vcrpy(path, urls)),
        ):
            if tool == "vcrpy" and n > vcrpy_max:
                row[tool] = {"enter_s": None, "replay_s": extrapolate(vcrpy_measured, n), "extrapolated": True}
                continue
            try:
                entered, seconds = best_of(rounds, run)
            except Exception as error:  # a benchmark reports a broken contender, it does not crash
                row[tool] = {"error": f"{type(error).__name__}: {error}"}
                continue
            row[tool] = {"enter_s": entered, "replay_s": seconds, "extrapolated": False}
            if tool == "vcrpy":
                vcrpy_measured[n] = seconds
        for tool in ("floor", "cfreplay", "vcrpy"):
            seconds = row[tool].get("replay_s")
            if seconds is not None:
                row[tool]["us_per_request"] = seconds / n * 1e6
        ours = row["cfreplay"].get("replay_s")
        theirs, floor = row["vcrpy"].get("replay_s"), row["floor"].get("replay_s")
        row["speedup_vs_vcrpy"] = theirs / ours if ours and theirs else None
        row["ratio_to_floor"] = ours / floor if ours and floor else None
        rows.append(row)
    return rows


def profile(n: int, workdir: Path, top: int = 25) -> str:
    """cProfile of cfreplay's replay loop at N (the cassette already entered): top entries by own time,
    then cfreplay's and vcrpy's by cumulative time."""
    data = build(n, _templates())
    path = workdir / f"profile-{n}.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    urls = urls_of(data)
    profiler = cProfile.Profile()
    with cfreplay.use_cassette(path, record_mode="none", freeze_time=False), requests.Session() as session:
        profiler.enable()
        _loop(session, urls)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"cfreplay/|vcr/", top)
    return out.getvalue()


# --------------------------------------------------------------------------- counted in instructions

_COUNT_MODES: Final = ("setup", "floor", "enter", "cfreplay")


def count_worker(mode: str, n: int, workdir: Path) -> None:
    """One process of ``--instructions``: everything up to *mode*, so that differences isolate a loop."""
    data = build(n, _templates())
    path = workdir / f"count-{n}-{mode}.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    urls, answers = urls_of(data), floor_answers(data)
    requests.Session().close()  # requests' lazy imports, paid in every mode
    if mode == "floor":
        run_floor(answers, urls)
    elif mode == "enter":
        context = cfreplay.use_cassette(path, record_mode="none", freeze_time=False)
        context.__enter__()
        context.__exit__(None, None, None)
    elif mode == "cfreplay":
        run_cfreplay(path, urls)


def _instructions(mode: str, n: int, workdir: Path) -> int:
    from instructions import callgrind  # beside this file, as instructions.py imports process.py

    return callgrind([sys.executable, __file__, "--count-worker", mode, str(n), str(workdir)], f"{mode} at N={n}")


def count(sizes: list[int], workdir: Path) -> list[dict[str, Any]]:
    """Per size: millions of instructions per request for the floor's loop and cfreplay's, and their ratio."""
    import concurrent.futures

    rows = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for n in sizes:
            found = pool.map(_instructions, _COUNT_MODES, [n] * len(_COUNT_MODES), [workdir] * len(_COUNT_MODES))
            counts = dict(zip(_COUNT_MODES, found, strict=True))
            floor = (counts["floor"] - counts["setup"]) / n / 1e6
            ours = (counts["cfreplay"] - counts["enter"]) / n / 1e6
            rows.append({"n": n, "floor_m": floor, "cfreplay_m": ours, "ratio_to_floor": ours / floor})
    return rows


def main_instructions(sizes: list[int]) -> int:
    import shutil

    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing counted")
        return 0
    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-replay-") as tmp:
        rows = count(sizes, Path(tmp))
    print("Replay N requests from an N-interaction cassette, counted in instructions (callgrind)")
    print(f"Python {platform.python_version()}; cfreplay {cfreplay.__version__}, vcrpy {vcr.__version__}\n")
    print(f"{'N':>6} {'floor M/req':>12} {'cfreplay M/req':>15} {'/floor':>7}")
    for row in rows:
        print(f"{row['n']:>6} {row['floor_m']:>12.2f} {row['cfreplay_m']:>15.2f} {row['ratio_to_floor']:>6.2f}x")
    worst = max(row["ratio_to_floor"] for row in rows)
    per = [row["cfreplay_m"] for row in rows]
    verdict = "met" if worst <= TARGET_VS_FLOOR else "NOT met"
    print(f"\nat most {worst:.2f}x the floor at any N (target <= {TARGET_VS_FLOOR:g}x, {verdict}); "
          f"cfreplay per request from the flattest to the steepest: {max(per) / min(per):.3f}x")  # fmt: skip
    return 0


def _fmt(value: float | None, spec: str, extrapolated: bool = False) -> str:
    if value is None:
        return "-"
    return format(value, spec) + (" (extrapolated)" if extrapolated else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", default="10,100,1000,5000", help="interactions per cassette (default: 10,100,1000,5000)"
    )
    parser.add_argument(
        "--vcrpy-max", type=int, default=1000, help="largest N vcrpy runs; above, extrapolated (default: 1000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed rounds per tool and size; the best counts (default: 3)"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile cfreplay's replay loop at N")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--instructions", action="store_true", help="count the loops in instructions (valgrind) instead of timing them"
    )
    parser.add_argument("--count-worker", nargs=3, metavar=("MODE", "N", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_worker:
        mode, n, workdir = args.count_worker
        count_worker(mode, int(n), Path(workdir))
        return 0
    sizes = sorted({max(1, int(size)) for size in args.sizes.split(",") if size.strip()})
    if args.instructions:
        return main_instructions(sizes)
    repeat = max(1, args.repeat)

    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-replay-") as tmp:
        rows = measure(sizes, args.vcrpy_max, repeat, Path(tmp))
        try:
            profiled = profile(args.profile, Path(tmp)) if args.profile > 0 else None
        except Exception as error:  # exit 0 whatever happens
            profiled = f"(the profiled run failed: {type(error).__name__}: {error})"

    largest, smallest = rows[-1], rows[0]
    per = [row["cfreplay"].get("us_per_request") for row in rows]
    flat = per[-1] / min(p for p in per if p) if all(per) else None
    meets = {
        "vs_vcrpy": bool(largest["speedup_vs_vcrpy"] and largest["speedup_vs_vcrpy"] >= TARGET_VS_VCRPY),
        "vs_floor": all(row["ratio_to_floor"] and row["ratio_to_floor"] <= TARGET_VS_FLOOR for row in rows),
        "flat": bool(flat and flat <= TARGET_FLAT),
    }
    report: dict[str, Any] = {
        "benchmark": "replay N requests from an N-interaction cassette",
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {"cfreplay": cfreplay.__version__, "vcrpy": vcr.__version__, "requests": requests.__version__},
        "repeat": repeat,
        "vcrpy_max": args.vcrpy_max,
        "rows": rows,
        "flatness": flat,
        "targets": {"speedup_vs_vcrpy": TARGET_VS_VCRPY, "ratio_to_floor": TARGET_VS_FLOOR, "flatness": TARGET_FLAT},
        "meets_target": meets,
    }
    if args.json:
        if profiled is not None:
            report["profile"] = profiled
        print(json.dumps(report, indent=2))
        return 0

    print(f"Replay N requests from an N-interaction cassette, best of {repeat} rounds (more at small N)")
    print(f"Python {report['python']} on {report['platform']}")
    print(f"cfreplay {cfreplay.__version__}, vcrpy {vcr.__version__}, requests {requests.__version__}")
    print("replay loop only; 'enter' is entering the context (loading the cassette), first time in this process\n")
    head = f"{'N':>6} {'MB':>6}  {'floor µs/req':>12} {'cfreplay µs/req':>15} {'vcrpy µs/req':>27}"
    print(head + f" {'cfreplay s':>11} {'vcrpy s':>22} {'x vcrpy':>8} {'/floor':>7}")
    for row in rows:
        fl, ours, theirs = row["floor"], row["cfreplay"], row["vcrpy"]
        ext = bool(theirs.get("extrapolated"))
        print(
            f"{row['n']:>6} {row['mb']:>6.2f}  {_fmt(fl.get('us_per_request'), '12.1f')} "
            f"{_fmt(ours.get('us_per_request'), '15.1f')} {_fmt(theirs.get('us_per_request'), '12.1f', ext):>27} "
            f"{_fmt(ours.get('replay_s'), '11.3f')} {_fmt(theirs.get('replay_s'), '8.2f', ext):>22} "
            f"{_fmt(row['speedup_vs_vcrpy'], '7.1f')}x {_fmt(row['ratio_to_floor'], '6.2f')}x"
        )
        for tool in ("cfreplay", "vcrpy", "floor"):
            if "error" in row[tool]:
                print(f"       {tool} failed: {row[tool]['error']}")
    print("\nenter (load) s:  " + "  ".join(
        f"N={row['n']}: cfreplay {_fmt(row['cfreplay'].get('enter_s'), '.3f')}"
        f" vcrpy {_fmt(row['vcrpy'].get('enter_s'), '.3f')}" for row in rows
    ))  # fmt: skip

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    n = largest["n"]
    print(f"\nat N={n}: cfreplay {_fmt(largest['speedup_vs_vcrpy'], '.1f')}x faster than vcrpy "
          f"(target >= {TARGET_VS_VCRPY:g}x, {verdict(meets['vs_vcrpy'])}); "
          f"{_fmt(largest['ratio_to_floor'], '.2f')}x the O(1) floor, at most "
          f"{_fmt(max((row['ratio_to_floor'] or 0.0) for row in rows), '.2f')}x at any N "
          f"(target <= {TARGET_VS_FLOOR:g}x at every N, {verdict(meets['vs_floor'])})")  # fmt: skip
    print(f"flatness: cfreplay µs/request at N={n} over the lowest ({smallest['n']}..{n}): {_fmt(flat, '.2f')}x "
          f"(target <= {TARGET_FLAT:g}x, {verdict(meets['flat'])})")  # fmt: skip
    if profiled is not None:
        print(f"\ncProfile of cfreplay's replay loop at N={args.profile}:\n{profiled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
