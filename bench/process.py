"""What a user feels: one whole pytest process per tool, side by side, the floor in the same run.

The script writes ``--tests`` (default 500) one-interaction cassettes — each a
``POST /v2/apps/<guid>/restage`` with a bearer token, answered by CC's 201, as cfreplay
writes them — and one suite of ``--tests`` tests per tool.  Every test makes its one
restage request and asserts the status; only the mechanism that answers differs:

* ``floor``: requests with ``HTTPAdapter.send`` answering from a dict, no I/O at all;
* ``responses``: ``@responses.activate`` with the answer registered in the test;
* ``loopback``: a real request to a stdlib ``http.server`` on 127.0.0.1, started once;
* ``cfreplay``: ``@pytest.mark.cfreplay`` (YAML, clock frozen: the defaults), and with
  ``freeze_time=False``, and both again with JSON cassettes;
* ``pytest-recording``: ``@pytest.mark.vcr`` with ``--record-mode=none``;
* ``vcrpy``: ``with vcr.use_cassette(path, record_mode="none")`` in each test;
* ``respx`` (httpx, so beside its own floor ``floor-httpx``: httpx with a
  ``MockTransport``).

Each suite runs in its own process (``python -m pytest -q -p no:cacheprovider`` with
every other tool's plugin disabled; Faker's plugin, which comes with cfreplay, is loaded in
cfreplay's rows only, as on a user's machine).  Each suite first runs once untimed, writing the
caches a user's machine has after a first run (bytecode, and pytest's rewritten
plugin and test modules: without them every process would compile them again, which
weighs on a plugin by its size, not by what it does per test); that cold wall time is
printed too.  Then the suites round-robin for ``--repeat`` rounds (default 3), and the
best wall time of each is kept.  Printed per tool: the whole
process (seconds), ms per test (wall / tests), ms per test over the floor, and the
in-process median of one test's setup + call + teardown (the lowest over the rounds),
measured by a hook in the suite's conftest with ``time.perf_counter`` (real time even
under a frozen clock), and the whole process's CPU time (user + system, from
``getrusage(RUSAGE_CHILDREN)``, the lowest over the rounds) with its excess over the
floor's per test: on a shared machine it moves far less between rounds than wall time.
Nothing is derived from differences of differences: the floor is simply another row.

Run it in a virtualenv without the test extra's other pytest plugins (they load into
every process and add the same cost to every row)::

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install -e . pytest-recording responses respx httpx requests
    .venv/bin/python bench/process.py --python /tmp/bench-venv/bin/python

A tool the interpreter cannot import is skipped.  ``--before PYTHON`` also runs every
cfreplay suite with another interpreter (another build of cfreplay, e.g. one with
``PYTHONPATH`` pointing at an older checkout), in the same rounds, as rows marked
``[before]``: a before/after comparison under the same machine load.  The script exits 0
whatever the figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Final

from cfreplay import cassette
from cfreplay.cf import factories

HOST = "https://api.sys.example.com"
RECORDED_AT = "2026-12-01T00:00:00Z"
SEED = 11
TOKEN = "cfreplay-redacted-" + "0" * 16  # what a sanitized cassette holds; matchers ignore headers

# --------------------------------------------------------------------------- the generated suites

_TIMING_HOOK = """

import time as _time_for_bench  # bound before any freeze: perf_counter stays real

_DURATIONS = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = _time_for_bench.perf_counter()
    yield
    _DURATIONS.append(_time_for_bench.perf_counter() - start)


def pytest_sessionfinish(session):
    import json as _json
    import os as _os

    with open(_os.environ["BENCH_DURATIONS"], "w") as out:
        _json.dump(_DURATIONS, out)
"""

_COMMON = """\
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
ANSWERS = json.loads((ROOT / "answers.json").read_text())
"""

_FLOOR = """
import io

import requests.adapters
import urllib3


def _send(self, request, *args, **kwargs):
    status, reason, headers, body = ANSWERS[request.url]
    raw = urllib3.HTTPResponse(body=io.BytesIO(body.encode()), headers=headers, status=status, reason=reason,
                               preload_content=False, decode_content=True, request_url=request.url)
    return self.build_response(request, raw)


@pytest.fixture(autouse=True, scope="session")
def _canned():
    original = requests.adapters.HTTPAdapter.send
    requests.adapters.HTTPAdapter.send = _send
    yield
    requests.adapters.HTTPAdapter.send = original
"""

_FLOOR_HTTPX = """
import httpx


def _answer(request):
    status, reason, headers, body = ANSWERS[str(request.url)]
    return httpx.Response(status, headers=headers, content=body.encode())


@pytest.fixture(autouse=True, scope="session")
def _canned():
    original = httpx.HTTPTransport.handle_request
    httpx.HTTPTransport.handle_request = lambda self, request: _answer(request)
    yield
    httpx.HTTPTransport.handle_request = original
"""

_LOOPBACK = """
import http.server
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, reason, headers, body = ANSWERS[HOST + self.path]
        data = body.encode()
        self.send_response(status, reason)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


HOST = "https://api.sys.example.com"


@pytest.fixture(scope="session")
def loopback():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
"""

# Each tool's settings fixtures are overridden at module scope, as both document them.
_CFREPLAY = """

@pytest.fixture(scope="module")
def cfreplay_cassette_dir():
    return ROOT / "{folder}"


@pytest.fixture(scope="module")
def cfreplay_config():
    return {config}
"""

_RECORDING = """

@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(ROOT / "cassettes")
"""

_POST = 'requests.post("{url}", headers={{"Authorization": "bearer {token}"}})'
_BODIES: dict[str, tuple[str, str, str]] = {
    # name: (imports, decorator, body) — {name}, {url}, {post} are filled per test
    "floor": ("import requests", "", "assert {post}.status_code == 201"),
    "floor-httpx": (
        "import httpx\n\nCLIENT = httpx.Client()",
        "",
        'assert CLIENT.post("{url}", headers={{"Authorization": "bearer t"}}).status_code == 201',
    ),
    "responses": (
        "import requests\nimport responses",
        "@responses.activate\n",
        'status, reason, headers, body = ANSWERS["{url}"]\n    '
        'responses.add(responses.POST, "{url}", body=body, status=status, headers={{k: v for k, v in headers.items() '
        "if k.lower() != 'content-length'}})\n    assert {post}.status_code == 201",
    ),
    "respx": (
        "import httpx\nimport respx\nCLIENT = httpx.Client()",
        "@respx.mock\n",
        'status, reason, headers, body = ANSWERS["{url}"]\n    '
        'respx.post("{url}").mock(return_value=httpx.Response(status, headers=headers, content=body.encode()))\n    '
        'assert CLIENT.post("{url}", headers={{"Authorization": "bearer t"}}).status_code == 201',
    ),
    "loopback": (
        "import requests",
        "",
        'assert requests.post(loopback + "{path}", headers={{"Authorization": "bearer t"}}).status_code == 201',
    ),
    "cfreplay": ("import requests", '@pytest.mark.cfreplay("{name}")\n', "assert {post}.status_code == 201"),
    "pytest-recording": ("import requests", "@pytest.mark.vcr\n", "assert {post}.status_code == 201"),
    "vcrpy": (
        "import requests\nimport vcr",
        "",
        'with vcr.use_cassette(str(ROOT / "cassettes" / "{name}.yaml"), record_mode="none"):\n        '
        "assert {post}.status_code == 201",
    ),
}

# Every other tool's suite runs without cfreplay's plugins: cfreplay's own, and Faker's, which
# comes with cfreplay (its `faker` fixture imports Faker in every process: 728 M instructions,
# 0.15-0.25 s) and which a user of another tool would not have.  cfreplay's rows keep Faker's
# plugin: a cfreplay user has it unless they turn it off (the README's "Start-up").
_NOT_CFREPLAY: Final = ("cfreplay", "faker", "recording")

# label: (body kind, conftest extra, plugins disabled, extra pytest args)
SUITES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "floor": ("floor", _FLOOR, _NOT_CFREPLAY, ()),
    "responses": ("responses", "", _NOT_CFREPLAY, ()),
    "loopback 127.0.0.1": ("loopback", _LOOPBACK, _NOT_CFREPLAY, ()),
    "cfreplay YAML, frozen (default)": (
        "cfreplay", _CFREPLAY.format(folder="cassettes", config="{}"), ("recording",), ()),
    "cfreplay YAML, freeze_time=False": (
        "cfreplay", _CFREPLAY.format(folder="cassettes", config='{"freeze_time": False}'), ("recording",), ()),
    "cfreplay JSON, frozen": (
        "cfreplay", _CFREPLAY.format(folder="cassettes-json", config='{"serializer": "json"}'), ("recording",), ()),
    "cfreplay JSON, freeze_time=False": (
        "cfreplay", _CFREPLAY.format(folder="cassettes-json", config='{"serializer": "json", "freeze_time": False}'),
        ("recording",), ()),
    "pytest-recording 0.14": ("pytest-recording", _RECORDING, ("cfreplay", "faker"), ("--record-mode=none",)),
    "vcrpy": ("vcrpy", "", _NOT_CFREPLAY, ()),
    "floor (httpx)": ("floor-httpx", _FLOOR_HTTPX, _NOT_CFREPLAY, ()),
    "respx (httpx)": ("respx", "", _NOT_CFREPLAY, ()),
}  # fmt: skip
_NEEDS: dict[str, str] = {
    "responses": "responses",
    "pytest-recording": "pytest_recording",
    "respx": "respx",
    "floor-httpx": "httpx",
    "vcrpy": "vcr",
}


def _interaction(url: str, body: str) -> dict[str, Any]:
    return {
        "request": {
            "body": None,
            "headers": {"Accept": ["*/*"], "Accept-Encoding": ["gzip, deflate"], "Authorization": [f"bearer {TOKEN}"],
                        "Connection": ["keep-alive"], "Content-Length": ["0"], "User-Agent": ["python-requests/2.32"]},
            "method": "POST",
            "uri": url,
        },
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["application/json;charset=utf-8"], "Content-Length": [str(len(body))],
                        "Location": [url.removesuffix("/restage")], "X-Content-Type-Options": ["nosniff"]},
            "recorded_at": RECORDED_AT,
            "status": {"code": 201, "message": "Created"},
        },
    }  # fmt: skip


def generate(root: Path, tests: int) -> list[str]:
    rng = random.Random(SEED)
    (root / "cassettes").mkdir()
    (root / "cassettes-json").mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    answers: dict[str, Any] = {}
    rows = []
    template = factories.restage_response(seed=SEED)
    template_guid = json.loads(template.body)["metadata"]["guid"]
    for index in range(tests):
        guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = template.body.decode().replace(template_guid, guid)
        name = f"test_restage_{index:04d}"
        url = f"{HOST}/v2/apps/{guid}/restage"
        data: dict[str, Any] = {"interactions": [_interaction(url, body)], "version": 1}
        (root / "cassettes" / f"{name}.yaml").write_bytes(cassette.dumps(data, "yaml"))
        (root / "cassettes-json" / f"{name}.json").write_bytes(cassette.dumps(data, "json"))
        answers[url] = (201, "Created", {k: v[0] for k, v in data["interactions"][0]["response"]["headers"].items()},
                        body)  # fmt: skip
        rows.append((name, url))
    (root / "answers.json").write_text(json.dumps(answers))
    labels = []
    for label, (kind, extra, _, _) in SUITES.items():
        folder = root / _folder(label)
        folder.mkdir()
        (folder / "conftest.py").write_text(_COMMON + extra + _TIMING_HOOK)
        imports, decorator, body = _BODIES[kind]
        lines = [imports, "import pytest", "from conftest import ROOT, ANSWERS", ""]
        for name, url in rows:
            path = url.removeprefix(HOST)
            post = _POST.format(url=url, token=TOKEN)
            fixture = "loopback" if kind == "loopback" else ""
            lines += ["", f"{decorator.format(name=name)}def {name}({fixture}):",
                      "    " + body.format(name=name, url=url, post=post, path=path), ""]  # fmt: skip
        (folder / "test_restage.py").write_text("\n".join(lines))
        labels.append(label)
    return labels


def _folder(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label)


def _available(python: str, kind: str) -> bool:
    module = _NEEDS.get(kind)
    if module is None:
        return True
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False).returncode == 0


def run_once(python: str, root: Path, label: str) -> tuple[float, float, list[float], str | None]:
    _, _, blocked, extra = SUITES[label]
    folder = root / _folder(label)
    durations = folder / "durations.json"
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    for plugin in blocked:
        argv += ["-p", f"no:{plugin}"]
    argv += [*extra, str(folder)]
    # Bytecode caches are written and read, as on a user's machine: without them every
    # process would compile (and pytest rewrite) every plugin's modules again.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["BENCH_DURATIONS"] = str(durations)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The process's own CPU time (user + system): what the other tenants of a shared machine
    # move least, where wall time moves by a tenth between rounds.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        return wall, cpu, [], output[-1] if output else f"exit {completed.returncode}"
    return wall, cpu, json.loads(durations.read_text()), None


BEFORE = " [before]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before", default=None, help="also run the cfreplay suites with this interpreter")
    parser.add_argument("--only", action="append", default=[], help="run only suites whose label contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-process-") as temporary:
        root = Path(temporary)
        labels = generate(root, args.tests)
        if args.only:
            labels = [label for label in labels if label.startswith("floor") or any(o in label for o in args.only)]
        labels = [label for label in labels if _available(args.python, SUITES[label][0])]
        if args.before:
            twice = [(label, label + BEFORE) if label.startswith("cfreplay") else (label,) for label in labels]
            labels = [label for pair in twice for label in pair]
        best: dict[str, float] = {}
        cpus: dict[str, float] = {}
        medians: dict[str, float] = {}
        errors: dict[str, str] = {}
        cold: dict[str, float] = {}
        for label in labels:  # the first run of each: caches written (bytecode, pytest's rewrites)
            python = args.before if label.endswith(BEFORE) else args.python
            cold[label], _, _, _ = run_once(python, root, label.removesuffix(BEFORE))
        for _ in range(args.repeat):
            for label in labels:  # round-robin: drift in the machine hits every tool alike
                python = args.before if label.endswith(BEFORE) else args.python
                wall, cpu, durations, error = run_once(python, root, label.removesuffix(BEFORE))
                if error:
                    errors[label] = error
                    continue
                best[label] = min(wall, best.get(label, float("inf")))
                cpus[label] = min(cpu, cpus.get(label, float("inf")))
                medians[label] = min(statistics.median(durations) * 1000, medians.get(label, float("inf")))
    probe = "import sys, pytest; print(sys.version.split()[0], pytest.__version__)"
    version = subprocess.run([args.python, "-c", probe], capture_output=True, text=True, check=False).stdout.split()
    print(f"What a user feels: {args.tests} tests, one restage request each, each tool in its own pytest process,")
    print(f"round-robin, best of {args.repeat}. {datetime.date.today()}, Python {version[0] if version else '?'}, "
          f"pytest {version[1] if len(version) > 1 else '?'}, {platform.platform()}")  # fmt: skip
    print()
    width = max(36, *(len(label) for label in labels))
    print(f"{'tool':{width}} {'process s':>9} {'ms/test':>8} {'over floor':>10} {'in-process ms':>13} {'cold s':>7} "
          f"{'CPU s':>6} {'CPU over floor':>14}")  # fmt: skip
    for label in labels:
        if label in errors and label not in best:
            print(f"{label:{width}} failed: {errors[label]}")
            continue
        floor = "floor (httpx)" if "httpx" in label else "floor"
        per_test = best[label] / args.tests * 1000
        over = (best[label] - best[floor]) / args.tests * 1000 if floor in best else float("nan")
        cpu_over = (cpus[label] - cpus[floor]) / args.tests * 1000 if floor in cpus else float("nan")
        print(f"{label:{width}} {best[label]:9.3f} {per_test:8.2f} {over:+10.2f} {medians[label]:13.2f} "
              f"{cold.get(label, float('nan')):7.3f} {cpus[label]:6.3f} {cpu_over:+14.2f}")  # fmt: skip
    print()
    if "pytest-recording 0.14" in best and "floor" in best:
        theirs = best["pytest-recording 0.14"] - best["floor"]
        theirs_cpu = cpus["pytest-recording 0.14"] - cpus["floor"]
        in_process = medians["pytest-recording 0.14"] - medians["floor"]
        for name, target in (("cfreplay YAML, frozen (default)", 0.35), ("cfreplay JSON, frozen", 0.25)):
            for label in (name, name + BEFORE):
                if label in best:
                    ratio = (best[label] - best["floor"]) / theirs
                    inner = (medians[label] - medians["floor"]) / in_process
                    by_cpu = (cpus[label] - cpus["floor"]) / theirs_cpu
                    verdict = "met" if ratio <= target else "NOT met"
                    print(f"{label}: over the floor {ratio:.2f}x pytest-recording's (target <= {target}x: {verdict}); "
                          f"in-process {inner:.2f}x; by CPU time {by_cpu:.2f}x")  # fmt: skip
    if "loopback 127.0.0.1" in best and "cfreplay YAML, frozen (default)" in best:
        cheaper = best["cfreplay YAML, frozen (default)"] < best["loopback 127.0.0.1"]
        print(f"a default replayed test is {'cheaper' if cheaper else 'NOT cheaper'} than a real loopback request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
