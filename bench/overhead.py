"""Per-test overhead of a replayed cassette: cfreplay's pytest plugin against pytest-recording, in one run.

The script generates, in a temporary directory, ``--tests`` (default 200) small
cassettes, one per test, each one ``GET https://api.sys.example.com/v2/apps/<guid>``
answered by a small app envelope (vcrpy's YAML, ``cassette.dumps``, with the
``response.recorded_at`` cfreplay writes, which vcrpy ignores), and the same suite of
``--tests`` tests in several variants.  Each test makes its one ``requests.get``
and asserts the status:

* baseline: no cassette; ``requests.adapters.HTTPAdapter.send`` is patched for the
  session to answer from a dict (through urllib3's response and requests'
  ``build_response``), so the test itself costs what it would anyway;
* cfreplay: ``@pytest.mark.cfreplay("<test name>")``, with ``cfreplay_cassette_dir``
  overridden in the conftest to point at the cassettes; plugin defaults (replay only,
  network blocked, clock frozen at ``recorded_at``);
* cfreplay, ``freeze_time=False`` (through ``cfreplay_config``): the same without
  the frozen clock, to show what freezing costs;
* cfreplay with the same cassettes as JSON (``serializer: "json"`` in ``cfreplay_config``);
* pytest-recording: ``@pytest.mark.vcr``, ``vcr_cassette_dir`` overridden, run
  with ``--record-mode=none``; the same cassette bytes (cfreplay no longer writes a
  top-level ``metadata`` key, which pytest-recording 0.14's persister cannot unpack).

Each suite runs as ``<python> -m pytest -q -p no:cacheprovider -p no:randomly`` in
a subprocess (``--python``, default this interpreter; pytest-recording must not go
into the project's virtualenv, see ``bench/README.md``), best wall time of
``--repeat`` (default 3), suites alternating.  Every suite runs with only its own
plugin loaded (``-p no:recording`` or ``-p no:cfreplay``), and is compared with the
baseline run under the same plugins.  Every suite also runs with only its first test
selected (``-k``, after collecting them all), so one-off costs — importing the plugin,
and whatever the first cassette of a session loads (vcrpy, the patches) — stay out of
the per-test figure: ms/test is ``((suite - first) - (baseline - baseline first)) /
(tests - 1)``, what each further test's cassette costs (fixtures, loading, patching
and unpatching the clients, replay).  The first cassette's extra cost and the plain
average ``(suite - baseline) / tests`` are printed beside it.  Printed: ms/test, and
the ratio cfreplay/pytest-recording next to the targets (<= 1 ms/test, <= 0.35x).  If the
interpreter cannot import pytest-recording its rows are skipped.  ``--profile``
also prints cProfile's top entries for the cfreplay suite's tests (a hook in its
conftest profiles each test's setup, call and teardown, nothing else).  The
script exits 0 whatever the figures.

Run it::

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install -e . pytest-recording requests
    .venv/bin/python bench/overhead.py --python /tmp/bench-venv/bin/python
    .venv/bin/python bench/overhead.py --python /tmp/bench-venv/bin/python --tests 1000 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from cfreplay import cassette
from cfreplay.cf import factories

HOST = "https://api.sys.example.com"
FIRST_TEST = "test_app_0000"
RECORDED_AT = "2026-11-28T00:00:00Z"
TARGET_MS = 1.0
TARGET_RATIO = 0.35
SEED = 1
PYTEST_ARGS = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")

# --------------------------------------------------------------------------- the generated suites

_BASELINE_CONFTEST = """\
import io
import json
from pathlib import Path

import pytest
import requests.adapters
import urllib3

ANSWERS = json.loads((Path(__file__).parent.parent / "answers.json").read_text())


def _send(self, request, *args, **kwargs):
    status, reason, headers, body = ANSWERS[request.url]
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(body.encode()), headers=headers, status=status, reason=reason,
        preload_content=False, decode_content=True, request_url=request.url,
    )
    return self.build_response(request, raw)


@pytest.fixture(autouse=True, scope="session")
def _stub_adapter():
    original = requests.adapters.HTTPAdapter.send
    requests.adapters.HTTPAdapter.send = _send
    yield
    requests.adapters.HTTPAdapter.send = original
"""

_CFREPLAY_CONFTEST = """\
from pathlib import Path

import pytest

CASSETTES = Path(__file__).parent.parent / "cassettes"


@pytest.fixture
def cfreplay_cassette_dir():
    return CASSETTES
{extra}"""

_JSON_CASSETTES = """

@pytest.fixture
def cfreplay_cassette_dir():
    return CASSETTES.parent / "cassettes-json"


@pytest.fixture
def cfreplay_config():
    return {"serializer": "json"}
"""

_NO_FREEZE = """

@pytest.fixture
def cfreplay_config():
    return {"freeze_time": False}
"""

_RECORDING_CONFTEST = """\
from pathlib import Path

import pytest

CASSETTES = Path(__file__).parent.parent / "cassettes-vcrpy"


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(CASSETTES)
"""

# name: (conftest, marker line or "", plugins blocked)
VARIANTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "baseline-none": (_BASELINE_CONFTEST, "", ("cfreplay", "recording")),
    "baseline-cfreplay": (_BASELINE_CONFTEST, "", ("recording",)),
    "cfreplay": (_CFREPLAY_CONFTEST.format(extra=""), '@pytest.mark.cfreplay("{name}")\n', ("recording",)),
    "cfreplay-nofreeze": (_CFREPLAY_CONFTEST.format(extra=_NO_FREEZE), '@pytest.mark.cfreplay("{name}")\n',
                          ("recording",)),
    "cfreplay-json": (_CFREPLAY_CONFTEST.format(extra=_JSON_CASSETTES), '@pytest.mark.cfreplay("{name}")\n',
                      ("recording",)),
    "baseline-recording": (_BASELINE_CONFTEST, "", ("cfreplay",)),
    "pytest-recording": (_RECORDING_CONFTEST, "@pytest.mark.vcr\n", ("cfreplay",)),
}  # fmt: skip
# row label, suite, its baseline
ROWS = (
    ("cfreplay", "cfreplay", "baseline-cfreplay"),
    ("cfreplay (freeze_time=False)", "cfreplay-nofreeze", "baseline-cfreplay"),
    ("cfreplay, JSON cassettes", "cfreplay-json", "baseline-cfreplay"),
    ("pytest-recording", "pytest-recording", "baseline-recording"),
)
RECORDING_SUITES = ("baseline-recording", "pytest-recording")


def _interaction(guid: str, body: str) -> dict[str, Any]:
    return {
        "request": {
            "body": None,
            "headers": {"Accept": ["*/*"], "Accept-Encoding": ["gzip, deflate"], "Connection": ["keep-alive"],
                        "User-Agent": ["python-requests/2.34.2"]},
            "method": "GET",
            "uri": f"{HOST}/v2/apps/{guid}",
        },
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["application/json;charset=utf-8"], "Content-Length": [str(len(body))],
                        "X-Content-Type-Options": ["nosniff"]},
            "recorded_at": RECORDED_AT,
            "status": {"code": 200, "message": "OK"},
        },
    }  # fmt: skip


def generate(root: Path, tests: int) -> None:
    """Cassettes, the baseline's answers, and one directory per variant (conftest + test module)."""
    rng = random.Random(SEED)
    templates = []
    for index in range(4):
        envelope = factories.app_envelope(seed=SEED + index)
        templates.append((json.dumps(envelope, indent=2), envelope["metadata"]["guid"]))
    (root / "cassettes").mkdir()
    (root / "cassettes-vcrpy").mkdir()
    (root / "cassettes-json").mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")  # the rootdir: no project settings leak in
    answers, names, urls = {}, [], []
    for index in range(tests):
        guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        template, template_guid = templates[index % len(templates)]
        body = template.replace(template_guid, guid)
        name = f"test_app_{index:04d}"
        # As cfreplay writes them (each exchange dated in its response): both tools read the same bytes.
        data = {"interactions": [_interaction(guid, body)], "version": 1}
        (root / "cassettes" / f"{name}.yaml").write_bytes(cassette.dumps(data, "yaml"))
        (root / "cassettes-json" / f"{name}.json").write_bytes(cassette.dumps(data, "json"))
        (root / "cassettes-vcrpy" / f"{name}.yaml").write_bytes(cassette.dumps(data, "yaml"))
        url = f"{HOST}/v2/apps/{guid}"
        response = data["interactions"][0]["response"]
        headers = {key: values[0] for key, values in response["headers"].items()}
        answers[url] = (200, "OK", headers, body)
        names.append(name)
        urls.append(url)
    (root / "answers.json").write_text(json.dumps(answers))
    for variant, (conftest, marker, _) in VARIANTS.items():
        directory = root / variant
        directory.mkdir()
        (directory / "conftest.py").write_text(conftest)
        lines = ["import pytest", "import requests", ""]
        for name, url in zip(names, urls, strict=True):
            lines += ["", f"{marker.format(name=name)}def {name}():",
                      f'    assert requests.get("{url}").status_code == 200', ""]  # fmt: skip
        (directory / "test_apps.py").write_text("\n".join(lines))


# --------------------------------------------------------------------------- running them


def command(python: str, root: Path, variant: str, *, first_only: bool = False) -> list[str]:
    blocked = [arg for plugin in VARIANTS[variant][2] for arg in ("-p", f"no:{plugin}")]
    extra = ["--record-mode=none"] if variant == "pytest-recording" else []
    # The one-test run still collects every test (-k deselects after collection), so the
    # difference to the full run is the other tests' own cost and nothing else.
    select = ["-k", FIRST_TEST] if first_only else []
    return [python, *PYTEST_ARGS, *blocked, *extra, *select, "--rootdir", str(root), str(root / variant)]


def run_suite(
    python: str, root: Path, variant: str, tests: int, *, first_only: bool = False
) -> tuple[float, str | None]:
    """Wall seconds for one run of the suite (or of its first test only), and an error if a test did not pass."""
    argv = command(python, root, variant, first_only=first_only)
    start = time.perf_counter()
    completed = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else completed.stderr.strip()
    passed = 1 if first_only else tests
    if completed.returncode != 0 or not re.search(rf"\b{passed} passed\b", summary):
        return seconds, f"exit {completed.returncode}: {summary[-300:]}"
    return seconds, None


def importable(python: str, module: str) -> bool:
    completed = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return completed.returncode == 0


def measure(python: str, root: Path, tests: int, repeat: int, variants: list[str]) -> dict[str, dict[str, Any]]:
    """Best wall time of each suite, whole (``best_s``) and its first test alone (``first_s``)."""
    results: dict[str, dict[str, Any]] = {
        variant: {"best_s": float("inf"), "first_s": float("inf"), "error": None} for variant in variants
    }
    for variant in variants:  # warm the file cache and the .pyc files
        run_suite(python, root, variant, tests)
    for _ in range(repeat):
        for variant in variants:
            for key, first_only in (("best_s", False), ("first_s", True)):
                seconds, error = run_suite(python, root, variant, tests, first_only=first_only)
                if error:
                    results[variant]["error"] = error
                results[variant][key] = min(results[variant][key], seconds)
    return results


_PROFILE_HOOK = """

import cProfile
import os

_PROFILER = cProfile.Profile()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _PROFILER.enable()
    yield
    _PROFILER.disable()


def pytest_sessionfinish(session):
    _PROFILER.dump_stats(os.environ["CFREPLAY_BENCH_PROFILE"])
"""


def profile(python: str, root: Path, top: int = 25) -> str:
    """cProfile of the cfreplay suite's tests (setup, call and teardown of each; not collection or
    start-up): top entries by own time, then cfreplay/vcrpy/freezegun entries by cumulative time."""
    directory, output = root / "cfreplay", root / "cfreplay.prof"
    conftest = directory / "conftest.py"
    original = conftest.read_text()
    conftest.write_text(original + _PROFILE_HOOK)
    try:
        env = {**os.environ, "CFREPLAY_BENCH_PROFILE": str(output)}
        subprocess.run(command(python, root, "cfreplay"), cwd=root, env=env, capture_output=True, check=False)
    finally:
        conftest.write_text(original)
    if not output.exists():
        return "(the profiled run failed)"
    out = io.StringIO()
    stats = pstats.Stats(str(output), stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"cfreplay/|vcr/|freezegun/", top)
    if os.environ.get("CFREPLAY_BENCH_PROFILE_DUMP"):
        shutil.copyfile(output, os.environ["CFREPLAY_BENCH_PROFILE_DUMP"])
    return out.getvalue()


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs the suites (default: this one)")
    parser.add_argument("--tests", type=int, default=200, help="tests per suite, one cassette each (default: 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per suite; the best counts (default: 3)")
    parser.add_argument("--profile", action="store_true", help="also profile one run of the cfreplay suite")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    tests, repeat = max(1, args.tests), max(1, args.repeat)

    versions = subprocess.run(
        [args.python, "-c", "import platform, pytest; print(platform.python_version(), pytest.__version__)"],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    has_recording = importable(args.python, "pytest_recording")
    variants = [v for v in VARIANTS if has_recording or v not in RECORDING_SUITES]
    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-overhead-") as tmp:
        root = Path(tmp)
        generate(root, tests)
        results = measure(args.python, root, tests, repeat, variants)
        profiled = profile(args.python, root) if args.profile else None

    rows = []
    for label, suite, base in ROWS:
        if suite not in results:
            rows.append({"tool": label, "skipped": "pytest-recording is not importable by --python"})
            continue
        error = results[suite]["error"] or results[base]["error"]
        seconds, floor = results[suite]["best_s"], results[base]["best_s"]
        # Each test after the first: what the suite adds over its one-test run, less what the
        # baseline adds over its own (the tests' own requests.get and pytest's per-test work).
        marginal = (seconds - results[suite]["first_s"]) - (floor - results[base]["first_s"])
        rows.append({"tool": label, "suite_s": seconds, "baseline_s": floor, "error": error,
                     "first_test_s": results[suite]["first_s"], "baseline_first_test_s": results[base]["first_s"],
                     "ms_per_test": marginal / max(1, tests - 1) * 1e3,
                     "ms_per_test_incl_one_off": (seconds - floor) / tests * 1e3})  # fmt: skip
    by_tool = {row["tool"]: row for row in rows}
    ours, theirs = by_tool["cfreplay"].get("ms_per_test"), by_tool["pytest-recording"].get("ms_per_test")
    ratio = ours / theirs if ours is not None and theirs else None
    session = {
        plugin: (results[base]["best_s"] - results["baseline-none"]["best_s"]) * 1e3
        for plugin, base in (("cfreplay", "baseline-cfreplay"), ("pytest-recording", "baseline-recording"))
        if base in results
    }
    # The first cassette of a session pays one-off costs (importing vcrpy, building patches).
    first_cassette = {
        row["tool"]: (row["first_test_s"] - row["baseline_first_test_s"]) * 1e3 for row in rows if "skipped" not in row
    }
    meets = bool(ours is not None and ours <= TARGET_MS and ratio is not None and ratio <= TARGET_RATIO)
    report: dict[str, Any] = {
        "benchmark": "per-test overhead of a replayed cassette",
        "date": datetime.date.today().isoformat(),
        "python": versions[0] if versions else None,
        "pytest": versions[1] if len(versions) > 1 else None,
        "interpreter": args.python,
        "platform": platform.platform(),
        "tests": tests,
        "repeat": repeat,
        "suites_best_s": {variant: result["best_s"] for variant, result in results.items()},
        "rows": rows,
        "plugin_session_cost_ms": session,
        "first_cassette_ms": first_cassette,
        "ratio_cfreplay_over_pytest_recording": ratio,
        "target": {"ms_per_test": TARGET_MS, "ratio": TARGET_RATIO},
        "meets_target": meets,
    }
    if args.json:
        if profiled is not None:
            report["profile"] = profiled
        print(json.dumps(report, indent=2))
        return 0

    print(f"Per-test overhead of a replayed cassette: {tests} tests, one cassette and one requests.get each, "
          f"best of {repeat}")  # fmt: skip
    print(f"Python {report['python']}, pytest {report['pytest']} ({args.python}) on {report['platform']}\n")
    print(f"{'tool':<30} {'suite s':>8} {'baseline s':>11} {'ms/test':>8} {'first test ms':>14} {'avg ms/test':>12}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['tool']:<30} skipped: {row['skipped']}")
            continue
        print(f"{row['tool']:<30} {row['suite_s']:>8.3f} {row['baseline_s']:>11.3f} {row['ms_per_test']:>8.2f} "
              f"{first_cassette[row['tool']]:>14.1f} {row['ms_per_test_incl_one_off']:>12.2f}")  # fmt: skip
        if row["error"]:
            print(f"    not every test passed: {row['error']}")
    print(f"\nbaseline with no cassette plugin: {results['baseline-none']['best_s']:.3f} s; loading the plugin "
          "itself (once per session): " + ", ".join(f"{k} {v:+.0f} ms" for k, v in session.items()))  # fmt: skip
    verdict = "met" if meets else "NOT met"
    shown = "-" if ratio is None else f"{ratio:.2f}x"
    shown_ms = "-" if ours is None else f"{ours:.2f} ms"
    print(f"ratio cfreplay/pytest-recording: {shown}; cfreplay {shown_ms}/test "
          f"(target: <= {TARGET_MS:g} ms/test and <= {TARGET_RATIO:g}x pytest-recording, {verdict})")  # fmt: skip
    if profiled is not None:
        print(f"\ncProfile of one run of the cfreplay suite:\n{profiled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
