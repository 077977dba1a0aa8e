"""The pytest plugin end to end: real pytest runs (pytester) of small test suites that use it.

An inner suite that replays a cassette (a blocked network, a frozen clock) runs in a
subprocess, so nothing it patches can leak into this one; only suites that do neither run
in process.  Recording goes to an HTTP server on 127.0.0.1 started here, which hands out
secrets generated for the run.  Every subprocess also carries a network spy: an audit hook,
below any patching, that logs each socket connect and name lookup and refuses anything but
127.0.0.1.  Inner tests report what they saw through a JSON-lines file (``observe``).

pytest-recording is not installed in the test environment; a conftest stands in for it,
including its autouse ``vcr`` fixture, which cfreplay must tolerate.
"""

from __future__ import annotations

import http.server
import json
import re
import secrets
import string
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cfreplay.replay.recorder  # noqa: F401  (see below)
from cfreplay import cassette, shipped

# Loaded here, before any pytester snapshot of sys.modules: pytester drops the modules an
# in-process run imported, but `from cfreplay.replay import _vcr` then still finds the first
# run's module as an attribute of the package the outer process keeps, and a later run would
# mix two generations of vcrpy's classes (its CassetteNotFoundError no longer caught).

pytest_plugins = ["pytester"]

# Every inner run is as strict as this suite (unknown markers and any warning fail it) and
# loads only the plugins it needs: each of the others costs startup time in every subprocess.
STRICT = (
    "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:anyio", "-p", "no:randomly",
    "-p", "no:recording",  # pytest-recording is installed for tests/replay/test_pytest_recording.py
    "--strict-markers", "-W", "error",
)  # fmt: skip
APP_GUID = "6064d98a-95e6-400b-bc03-be65e6d59622"


# ----------------------------------------------------------------------------- a local server


@dataclass(frozen=True)
class Planted:
    """The secrets one server hands out, all generated for this run."""

    access_token: str
    refresh_token: str
    cookie: str
    password: str

    def values(self) -> dict[str, str]:
        _head, payload, signature = self.access_token.split(".")
        return {
            "access_token": self.access_token,
            "access_token payload": payload,
            "access_token signature": signature,
            "refresh_token": self.refresh_token,
            "cookie": self.cookie,
            "password": self.password,
        }


def _planted() -> Planted:
    now = int(time.time())
    claims = {
        "jti": uuid.uuid4().hex,
        "sub": str(uuid.uuid4()),
        "scope": ["cloud_controller.read", "cloud_controller.write"],
        "client_id": "cf",
        "cid": "cf",
        "grant_type": "password",
        "user_id": str(uuid.uuid4()),
        "user_name": f"user-{secrets.token_hex(4)}",
        "email": f"user-{secrets.token_hex(4)}@example.org",
        "iat": now,
        "exp": now + 599,
        "iss": "http://127.0.0.1/oauth/token",
        "zid": "uaa",
        "aud": ["cloud_controller", "cf"],
    }
    # A real token: signed with a key nobody has published.
    access_token = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")
    return Planted(access_token, secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(12))


class _Httpd(http.server.ThreadingHTTPServer):
    planted: Planted
    hits: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    """UAA's password grant (``POST /oauth/token``) and CC's ``GET /v2/apps/:guid``."""

    def do_POST(self) -> None:
        httpd = cast(_Httpd, self.server)
        httpd.hits.append(f"POST {self.path}")
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if form.get("password") != [httpd.planted.password]:
            self._send(401, {"error": "unauthorized"})
            return
        body = {
            "access_token": httpd.planted.access_token,
            "token_type": "bearer",
            "refresh_token": httpd.planted.refresh_token,
            "expires_in": 599,
            "scope": "cloud_controller.read cloud_controller.write",
            "jti": uuid.uuid4().hex,
        }
        self._send(200, body, cookie=f"JSESSIONID={httpd.planted.cookie}; Path=/; HttpOnly")

    def do_GET(self) -> None:
        httpd = cast(_Httpd, self.server)
        httpd.hits.append(f"GET {self.path}")
        guid = self.path.rsplit("/", 1)[-1]
        self._send(200, {"metadata": {"guid": guid, "url": self.path}, "entity": {"name": "web", "state": "STARTED"}})

    def _send(self, status: int, body: dict[str, Any], *, cookie: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class Server:
    """A server on 127.0.0.1 that a test can stop half way."""

    def __init__(self) -> None:
        self.httpd = _Httpd(("127.0.0.1", 0), _Handler)
        self.httpd.planted = _planted()
        self.httpd.hits = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def planted(self) -> Planted:
        return self.httpd.planted

    @property
    def hits(self) -> list[str]:
        return self.httpd.hits

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A running server; inner suites find it (and what it planted) in the environment."""
    running = Server()
    monkeypatch.setenv("CFREPLAY_TEST_URL", running.url)
    for name, value in (
        ("TOKEN", running.planted.access_token),
        ("REFRESH", running.planted.refresh_token),
        ("COOKIE", running.planted.cookie),
        ("PASSWORD", running.planted.password),
    ):
        monkeypatch.setenv(f"CFREPLAY_TEST_{name}", value)
    try:
        yield running
    finally:
        running.stop()


# ----------------------------------------------------------------------------- a network spy


SPY_CONFTEST = '''
import json
import os
import socket
import sys

_LOG = os.environ["CFREPLAY_SPY_LOG"]
_LOCAL = ("127.0.0.1", "::1", "localhost", "None")


def _audit(event, args):
    """Log every internet socket connect and name lookup; refuse any outside 127.0.0.1."""
    if event == "socket.connect":
        if args[0].family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(args[1][0])
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    else:
        return
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": event, "host": host}) + "\\n")
    if host not in _LOCAL:
        raise RuntimeError(f"test harness: this suite never leaves 127.0.0.1 (tried {host})")


sys.addaudithook(_audit)
'''


@dataclass
class Spy:
    log: Path

    def events(self) -> list[dict[str, str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def connects(self) -> list[str]:
        return [event["host"] for event in self.events() if event["event"] == "socket.connect"]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def spy(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Spy:
    """The spy conftest at the root of the inner suite; its log lives outside the suite's tree."""
    log = tmp_path / "spy.log"
    monkeypatch.setenv("CFREPLAY_SPY_LOG", str(log))
    pytester.makeconftest(SPY_CONFTEST)
    return Spy(log)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner suite in a subprocess of its own."""
    return pytester.runpytest_subprocess(*STRICT, *args, timeout=120)


def run_inprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """For inner suites that neither replay a cassette (no frozen clock) nor load the spy (an audit hook is forever)."""
    return pytester.runpytest_inprocess(*STRICT, *args)


def files_under(root: Path) -> set[str]:
    """Every file of an inner suite's tree, less bytecode and what pytester itself writes there."""
    ours = {"stdout", "stderr"}
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.relative_to(root).parts[0] not in ours
        and not p.relative_to(root).parts[0].startswith("runpytest-")
    }


@dataclass
class Results:
    """What inner tests observed, one JSON line each (xdist workers append side by side)."""

    path: Path

    def read(self) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in self.path.read_text().splitlines()] if self.path.exists() else []
        self.path.unlink(missing_ok=True)
        seen = {row["test"]: row for row in rows}
        assert len(seen) == len(rows), "an inner test reported twice"
        return seen


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Results:
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv("CFREPLAY_TEST_RESULTS", str(path))
    return Results(path)


# Inner helper: record what a test saw, for the outer test to compare.
OBSERVE = """
import json
import os


def observe(test, **row):
    with open(os.environ["CFREPLAY_TEST_RESULTS"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"test": test, **row}) + "\\n")
"""


# ----------------------------------------------------------------------------- registration


def test_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.cfreplay(*cassette_names, record_mode=None, freeze_time=True, skip_sleep=True, "
            "allow_hosts=(), assert_all_played=False, match_on=None, allow_playback_repeats=False, serializer=None): "
            "run the test inside a sanitized cassette (replay only by default); the first name is recorded into, "
            "every one is replayed from"
        ]
    )


REWRITE_CONFTEST = """
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # Before cfreplay's own pytest_configure, the package is marked as pytest marks it in a
    # user's site-packages (pytest < 9 does not mark an editable install's, as this checkout's;
    # mark_rewrite() would warn that cfreplay, loaded plainly then, cannot be rewritten).
    hook = config.pluginmanager.rewrite_hook
    hook._must_rewrite.add("cfreplay")
    hook._marked_for_rewrite_cache.clear()
"""

REWRITE_TEST = """
import importlib
import sys

from _pytest.assertion.rewrite import AssertionRewritingHook


def test_cfreplay_modules_load_without_the_rewriter(request):
    assert "cfreplay.hygiene.rules" not in sys.modules  # loaded here for the first time
    rules = importlib.import_module("cfreplay.hygiene.rules")
    assert not isinstance(rules.__loader__, AssertionRewritingHook)
    assert "cfreplay" not in request.config.pluginmanager.rewrite_hook._must_rewrite


def test_a_test_module_is_still_rewritten():
    assert isinstance(sys.modules[__name__].__loader__, AssertionRewritingHook)
"""


def test_cfreplay_modules_load_as_a_library_s_not_through_the_assertion_rewriter(pytester: pytest.Pytester) -> None:
    # pytest marks a plugin's whole package for assertion rewriting; cfreplay has no assertion
    # helpers, and its modules imported through the rewriter cost a process ~100 M instructions.
    pytester.makeconftest(REWRITE_CONFTEST)
    pytester.makepyfile(test_rewrite=REWRITE_TEST)
    result = run(pytester, "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=2)


def test_options_are_in_their_group_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    group = text.index("cfreplay: sanitized Cloud Foundry cassettes:")
    section = text[group : text.index("\n\n", group)]
    assert "--cfreplay-record-mode={none,once,new_episodes,all}" in section
    assert "--cfreplay-allow-hosts=HOST[,HOST…]" in section
    assert "--cfreplay-assert-all-played" in section
    # Every option of the plugin, and nothing of it elsewhere.
    everywhere = set(re.findall(r"--cfreplay-[a-z-]+", text))
    assert everywhere == set(re.findall(r"--cfreplay-[a-z-]+", section))
    assert len(everywhere) >= 3


# ----------------------------------------------------------------------------- record, then replay offline


INNER_LOGIN = """
import os

import pytest
import requests

from cfreplay.hygiene import redaction
from cfreplay.cf import tokens

URL = os.environ["CFREPLAY_TEST_URL"]
PLANTED = {name: os.environ[f"CFREPLAY_TEST_{name.upper()}"] for name in ("token", "refresh", "cookie", "password")}
GUID = "{guid}"


@pytest.mark.cfreplay
def test_login_then_read_app(cfreplay_cassette):
    form = {"grant_type": "password", "username": "admin", "password": PLANTED["password"]}
    response = requests.post(f"{URL}/oauth/token", data=form, timeout=5)
    assert response.status_code == 200
    token = response.json()
    cookie = response.cookies["JSESSIONID"]
    if cfreplay_cassette.offline:
        # Replayed: what the cassette holds, sanitized, yet still shaped as the client expects.
        assert cfreplay_cassette.frozen and cfreplay_cassette.recorded_at is not None
        assert token["access_token"] != PLANTED["token"] and tokens.is_test_token(token["access_token"])
        assert tokens.decode_unverified(token["access_token"])[1]["scope"] == [
            "cloud_controller.read", "cloud_controller.write"
        ]
        assert redaction.is_placeholder(token["refresh_token"])
        assert redaction.is_placeholder(cookie)
    else:
        # Recording: the code under test receives the live, real values.
        assert cfreplay_cassette.record_mode == "once" and not cfreplay_cassette.frozen
        assert (token["access_token"], token["refresh_token"], cookie) == (
            PLANTED["token"], PLANTED["refresh"], PLANTED["cookie"]
        )
    app = requests.get(
        f"{URL}/v2/apps/{GUID}",
        headers={"Authorization": f"bearer {token['access_token']}"},
        cookies={"JSESSIONID": cookie},
        timeout=5,
    )
    assert app.status_code == 200
    assert app.json()["metadata"]["guid"] == GUID
    assert app.json()["entity"]["name"] == "web"
""".replace("{guid}", APP_GUID)


def test_records_a_sanitized_cassette_then_replays_it_offline(
    pytester: pytest.Pytester, server: Server, spy: Spy
) -> None:
    pytester.makepyfile(test_inner=INNER_LOGIN)

    recorded = run(pytester, "--cfreplay-record-mode=once")
    recorded.assert_outcomes(passed=1)
    assert server.hits == ["POST /oauth/token", f"GET /v2/apps/{APP_GUID}"]
    assert spy.connects() == ["127.0.0.1"] * 2  # the spy does see real connects

    path = pytester.path / "cassettes" / "test_inner" / "test_login_then_read_app.yaml"
    assert path.is_file()
    assert sorted((pytester.path / "cassettes").rglob("*")) == [path.parent, path]  # no temporary file left
    raw = path.read_bytes()
    data = cassette.load(path).data
    parsed = json.dumps(data)  # a secret folded across YAML lines would still show here
    for what, secret in server.planted.values().items():
        assert secret.encode() not in raw, f"{what} is in the cassette"
        assert secret not in parsed, f"{what} is in the cassette"
    assert [i["request"]["uri"] for i in data["interactions"]] == [
        f"{server.url}/oauth/token",
        f"{server.url}/v2/apps/{APP_GUID}",
    ]
    assert "password=%2A%2A%2A" in data["interactions"][0]["request"]["body"]
    assert "metadata" not in data  # pytest-recording 0.14.1 fails on a top-level metadata key
    stamps = [i["response"]["recorded_at"] for i in data["interactions"]]  # one per exchange, when it happened
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) for stamp in stamps), stamps
    assert stamps == sorted(stamps)

    server.stop()
    spy.clear()
    replayed = run(pytester)
    replayed.assert_outcomes(passed=1)
    assert spy.connects() == []  # not one socket connect: the server being gone did not matter
    assert path.read_bytes() == raw  # replay rewrites nothing


INNER_OFFLINE = """
import os
import socket

import pytest
import requests

URL = os.environ["CFREPLAY_TEST_URL"]


@pytest.mark.cfreplay
def test_no_cassette_yet():
    requests.get(f"{URL}/v2/apps/x", timeout=5)


@pytest.mark.cfreplay
def test_raw_socket():
    host, port = URL.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.connect((host, int(port)))
"""


def test_a_missing_cassette_fails_the_test_without_network_or_files(
    pytester: pytest.Pytester, server: Server, spy: Spy
) -> None:
    pytester.makepyfile(test_offline=INNER_OFFLINE)
    before = files_under(pytester.path)

    result = run(pytester)  # replay only, the default, with the server up and reachable

    result.assert_outcomes(failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "E * cfreplay.UnmatchedRequest: Can't play back this request: the cassette doesn't exist*",
            "E * How to fix: record the cassette first: run pytest with --cfreplay-record-mode=once*",
            "E * cfreplay.errors.NetworkBlocked: cfreplay blocked a connection to 127.0.0.1:*",
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.stdout.no_fnmatch_line("*ERROR at *")
    assert server.hits == []
    assert spy.connects() == []
    assert files_under(pytester.path) == before  # no cassette, no directory, nothing


# ----------------------------------------------------------------------------- fixtures, config and precedence


INNER_PRECEDENCE = """
import os

import pytest
import requests

import cfreplay
from cfreplay import shipped
from helpers import observe

URL = os.environ["CFREPLAY_TEST_URL"]


def fetch(test, active):
    try:
        requests.get(f"{URL}/v2/apps/{test}", timeout=5)
        outcome = "ok"
    except cfreplay.UnmatchedRequest:
        outcome = "unmatched"
    observe(test, mode=active.record_mode, offline=active.offline, outcome=outcome, path=str(active.path))

"""

PRECEDENCE_ROOT = (
    INNER_PRECEDENCE
    + """
def test_root_default(cfreplay_cassette):
    fetch("root_default", cfreplay_cassette)


@pytest.mark.cfreplay("cfreplay:restage/201", record_mode="all")
def test_shipped(cfreplay_cassette):
    response = requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage", timeout=5)
    observe("shipped", mode=cfreplay_cassette.record_mode, offline=cfreplay_cassette.offline,
            outcome=response.status_code, path=str(cfreplay_cassette.path))
"""
)

CFG_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_config():
    return {"record_mode": "once"}
"""

PRECEDENCE_CFG = (
    INNER_PRECEDENCE
    + """
def test_from_config(cfreplay_cassette):
    fetch("from_config", cfreplay_cassette)


@pytest.mark.cfreplay(record_mode="none")
def test_marker_none(cfreplay_cassette):
    fetch("marker_none", cfreplay_cassette)
"""
)

ELSEWHERE_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_cassette_dir(request):
    return request.config.rootpath / "recorded" / "here"
"""

PRECEDENCE_ELSEWHERE = (
    INNER_PRECEDENCE
    + """
@pytest.mark.cfreplay("named", record_mode="once")
def test_named(cfreplay_cassette):
    fetch("named", cfreplay_cassette)
"""
)


def test_config_fixture_marker_and_command_line_take_precedence_in_turn(
    pytester: pytest.Pytester, server: Server, spy: Spy, results: Results
) -> None:
    pytester.makepyfile(helpers=OBSERVE, test_root=PRECEDENCE_ROOT)
    cfg = pytester.mkpydir("cfg")
    (cfg / "conftest.py").write_text(CFG_CONFTEST)
    (cfg / "test_prec.py").write_text(PRECEDENCE_CFG)
    elsewhere = pytester.mkpydir("elsewhere")
    (elsewhere / "conftest.py").write_text(ELSEWHERE_CONFTEST)
    (elsewhere / "test_dir.py").write_text(PRECEDENCE_ELSEWHERE)
    root_file = pytester.path / "cassettes" / "test_root" / "test_root_default.yaml"
    config_file = cfg / "cassettes" / "test_prec" / "test_from_config.yaml"
    marker_file = cfg / "cassettes" / "test_prec" / "test_marker_none.yaml"
    named_file = pytester.path / "recorded" / "here" / "named.yaml"
    shipped_201 = shipped.path("cfreplay:restage/201")
    shipped_bytes = shipped_201.read_bytes()

    # No command line: the conftest's cfreplay_config (once) holds below cfg/ only; the marker beats it.
    run(pytester).assert_outcomes(passed=5)
    seen = results.read()
    assert {test: (row["mode"], row["outcome"]) for test, row in seen.items()} == {
        "root_default": ("none", "unmatched"),  # the safe default
        "from_config": ("once", "ok"),  # an unmarked test asking for cfreplay_cassette gets one
        "marker_none": ("none", "unmatched"),
        "named": ("once", "ok"),
        "shipped": ("none", 201),
    }
    assert (seen["from_config"]["path"], seen["named"]["path"]) == (str(config_file), str(named_file))
    assert config_file.is_file() and named_file.is_file()
    assert not root_file.exists() and not marker_file.exists()
    assert not (elsewhere / "cassettes").exists()  # cfreplay_cassette_dir sent it to recorded/here/
    assert sorted(server.hits) == ["GET /v2/apps/from_config", "GET /v2/apps/named"]

    # The command line beats marker and config alike: everything records, except a shipped cassette.
    run(pytester, "--cfreplay-record-mode=all").assert_outcomes(passed=5)
    seen = results.read()
    assert {test: (row["mode"], row["outcome"], row["offline"]) for test, row in seen.items()} == {
        "root_default": ("all", "ok", False),
        "from_config": ("all", "ok", False),
        "marker_none": ("all", "ok", False),
        "named": ("all", "ok", False),
        "shipped": ("none", 201, True),
    }
    assert root_file.is_file() and marker_file.is_file()
    assert len(server.hits) == 2 + 4
    assert shipped_201.read_bytes() == shipped_bytes
    assert set(spy.connects()) == {"127.0.0.1"}  # and no name lookup of the shipped cassettes' host


JSON_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_config():
    return {"serializer": "json"}
"""

JSON_SUITE = (
    INNER_PRECEDENCE
    + """
@pytest.mark.cfreplay
def test_json(cfreplay_cassette):
    fetch("json", cfreplay_cassette)
"""
)


def test_serializer_json_in_the_config_names_and_writes_json_cassettes(
    pytester: pytest.Pytester, server: Server, spy: Spy, results: Results
) -> None:
    pytester.makepyfile(helpers=OBSERVE, conftest=JSON_CONFTEST, test_fmt=JSON_SUITE)
    recorded = pytester.path / "cassettes" / "test_fmt" / "test_json.json"
    run(pytester, "--cfreplay-record-mode=once").assert_outcomes(passed=1)
    assert results.read()["json"]["path"] == str(recorded)
    document = json.loads(recorded.read_text())  # JSON, not YAML in a .json file
    assert document["interactions"][0]["request"]["uri"].endswith("/v2/apps/json")
    assert not (pytester.path / "cassettes" / "test_fmt" / "test_json.yaml").exists()
    hits = len(server.hits)
    run(pytester).assert_outcomes(passed=1)  # replayed from the JSON, the server not asked again
    assert results.read()["json"] == {"test": "json", "mode": "none", "offline": True, "outcome": "ok",
                                      "path": str(recorded)}  # fmt: skip
    assert len(server.hits) == hits


# ----------------------------------------------------------------------------- file names


LONG = "x" * 150
NAMES_SUITE = f"""
import os

import pytest
import requests

URL = os.environ["CFREPLAY_TEST_URL"]
IDS = ["a/b", "with space", "[brackets]", "{LONG}-first", "{LONG}-second", "tab\\there", "..", "ünï"]


@pytest.mark.parametrize("value", IDS, ids=IDS)
@pytest.mark.cfreplay
def test_names(value):
    assert requests.get(f"{{URL}}/v2/apps/{{len(value)}}", timeout=5).status_code == 200


@pytest.mark.cfreplay
def test_{"y" * 120}():
    assert requests.get(f"{{URL}}/v2/apps/long", timeout=5).status_code == 200
"""


def test_parametrized_and_long_test_names_become_safe_unique_file_names(
    pytester: pytest.Pytester, server: Server
) -> None:
    pytester.makepyfile(test_names=NAMES_SUITE)

    run_inprocess(pytester, "--cfreplay-record-mode=once").assert_outcomes(passed=9)

    folder = pytester.path / "cassettes" / "test_names"
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 9  # one file per test: no two collapsed into one
    for name in names:
        assert re.fullmatch(r"test_[A-Za-z0-9_.-]+\.yaml", name), name
        assert len(name) <= 100 + len(".yaml"), name
    long_ones = [name for name in names if len(name) > 60]
    assert len(long_ones) == 3
    for name in long_ones:
        assert re.fullmatch(r"test_[a-z_]+-[0-9a-f]{12}\.yaml", name), name  # cut, with a hash to stay unique
    # Folded ids carry a hash of the original id too, so ids differing only in unsafe characters never clash.
    for stem in ("test_names_a_b", "test_names_with_space", "test_names_brackets"):
        assert any(re.fullmatch(rf"{stem}-[0-9a-f]{{12}}\.yaml", name) for name in names), (stem, names)
    assert len(server.hits) == 9


def test_parametrized_ids_that_differ_only_in_unsafe_characters_get_their_own_cassettes(
    pytester: pytest.Pytester, results: Results
) -> None:
    pytester.makepyfile(
        helpers=OBSERVE,
        test_clash="""
        import pytest

        from helpers import observe


        @pytest.mark.parametrize("value", ["a/b", "a b", "a_b"], ids=["a/b", "a b", "a_b"])
        def test_p(value, request, cfreplay_cassette):
            observe(request.node.name, path=str(cfreplay_cassette.path))
        """,
    )
    run_inprocess(pytester).assert_outcomes(passed=3)
    paths = {test: row["path"] for test, row in results.read().items()}
    assert len(paths) == 3
    assert len(set(paths.values())) == 3, paths


def test_same_named_methods_of_two_classes_get_their_own_cassettes(pytester: pytest.Pytester, results: Results) -> None:
    pytester.makepyfile(
        helpers=OBSERVE,
        test_clash="""
        from helpers import observe


        class TestA:
            def test_same(self, cfreplay_cassette):
                observe("TestA", path=str(cfreplay_cassette.path))


        class TestB:
            def test_same(self, cfreplay_cassette):
                observe("TestB", path=str(cfreplay_cassette.path))
        """,
    )
    run_inprocess(pytester).assert_outcomes(passed=2)
    paths = {test: row["path"] for test, row in results.read().items()}
    assert paths["TestA"] != paths["TestB"], paths


def test_a_long_non_ascii_cassette_name_still_records(
    pytester: pytest.Pytester, server: Server, results: Results
) -> None:
    pytester.makepyfile(
        helpers=OBSERVE,
        test_clash="""
        import os

        import pytest
        import requests

        from helpers import observe


        @pytest.mark.cfreplay("アプリの再ステージ" * 10)
        def test_restage(cfreplay_cassette):
            observe("restage", path=str(cfreplay_cassette.path))
            requests.get(os.environ["CFREPLAY_TEST_URL"] + "/v2/apps/x", timeout=5)
        """,
    )
    result = run_inprocess(pytester, "--cfreplay-record-mode=once")
    name = Path(results.read()["restage"]["path"]).name
    assert len(name.encode()) <= 255, f"{len(name.encode())} bytes"
    result.assert_outcomes(passed=1)


# ----------------------------------------------------------------------------- the clock, shipped cassettes


RECORDED_AT = "2011-02-03T04:05:06Z"
CLOCK_USER = """
from datetime import datetime, timezone
from time import time  # bound at import, as code under test often does


def epoch():
    return time()


def now():
    return datetime.now(timezone.utc)
"""

INNER_CLOCK = """
import os
import time
from datetime import datetime, timezone

import pytest
import requests

import clockuser
from cfreplay import cassette, shipped

RESTAGE = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"
RECORDED = datetime(2011, 2, 3, 4, 5, 6, tzinfo=timezone.utc).timestamp()
OUTER_NOW = float(os.environ["CFREPLAY_TEST_NOW"])


@pytest.mark.cfreplay("restage")
def test_frozen_at_recorded_at(cfreplay_cassette):
    assert cfreplay_cassette.frozen
    assert abs(clockuser.epoch() - RECORDED) < 60
    assert clockuser.now().strftime("%Y-%m-%d %H:%M") == "2011-02-03 04:05"
    first = clockuser.epoch()
    time.sleep(0.01)
    assert clockuser.epoch() > first  # frozen, but ticking
    assert requests.post(RESTAGE, timeout=5).status_code == 201


@pytest.mark.cfreplay("restage", freeze_time=False)
def test_marker_opts_out(cfreplay_cassette):
    assert not cfreplay_cassette.frozen
    assert abs(clockuser.epoch() - OUTER_NOW) < 300
    assert requests.post(RESTAGE, timeout=5).status_code == 201


@pytest.mark.cfreplay("cfreplay:restage/201")
def test_shipped_restage(cfreplay_cassette):
    response = requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage")
    assert response.status_code == 201
    assert response.json()["entity"]["package_state"] == "PENDING"
    assert cfreplay_cassette.path == shipped.path("restage/201")
    stamp = cassette.load(cfreplay_cassette.path).interactions[0]["response"]["recorded_at"]
    assert clockuser.now().strftime("%Y-%m-%dT%H:%M") == stamp[:16]


def test_clock_is_real_again_after_a_cassette():
    assert abs(clockuser.epoch() - OUTER_NOW) < 300
    assert abs(time.time() - OUTER_NOW) < 300
"""

NOFREEZE_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_config():
    return {"freeze_time": False}
"""

INNER_NOFREEZE = """
import os

import pytest
import requests

import clockuser
from cfreplay import shipped


@pytest.mark.cfreplay("restage")
def test_config_opts_out(cfreplay_cassette):
    assert cfreplay_cassette.offline and not cfreplay_cassette.frozen
    assert abs(clockuser.epoch() - float(os.environ["CFREPLAY_TEST_NOW"])) < 300
    assert requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage", timeout=5).status_code == 201
"""


def test_replay_freezes_the_clock_the_code_under_test_sees(
    pytester: pytest.Pytester, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CFREPLAY_TEST_NOW", str(time.time()))
    pytester.makepyfile(clockuser=CLOCK_USER, test_clock=INNER_CLOCK)
    nofreeze = pytester.mkpydir("nofreeze")
    (nofreeze / "conftest.py").write_text(NOFREEZE_CONFTEST)
    (nofreeze / "test_nofreeze.py").write_text(INNER_NOFREEZE)
    # A project cassette of a restage, recorded (say) in 2011.
    shipped_201 = shipped.path("cfreplay:restage/201")
    stamp = cassette.load(shipped_201).interactions[0]["response"]["recorded_at"]
    restage = shipped_201.read_text().replace(stamp, RECORDED_AT)
    for folder in (pytester.path / "cassettes" / "test_clock", nofreeze / "cassettes" / "test_nofreeze"):
        folder.mkdir(parents=True)
        (folder / "restage.yaml").write_text(restage)

    run(pytester).assert_outcomes(passed=5)

    assert spy.events() == []  # not one connect, not even a name lookup


# ----------------------------------------------------------------------------- pytest-xdist, repeated replays


INNER_MANY = """
import hashlib
import os

import pytest
import requests

from cfreplay.cf import tokens
from helpers import observe

URL = os.environ["CFREPLAY_TEST_URL"]


def login_and_read(name, active):
    form = {"grant_type": "password", "username": "admin", "password": os.environ["CFREPLAY_TEST_PASSWORD"]}
    login = requests.post(f"{URL}/oauth/token", data=form, timeout=5)
    apps = [requests.get(f"{URL}/v2/apps/{name}-{i}", timeout=5) for i in range(2)]
    assert [app.json()["metadata"]["guid"] for app in apps] == [f"{name}-0", f"{name}-1"]
    token = login.json()["access_token"]
    return {
        "status": [r.status_code for r in (login, *apps)],
        "body": hashlib.sha256(b"".join(r.content for r in (login, *apps))).hexdigest(),
        "token": token,
        "fake_token": tokens.is_test_token(token),
        "offline": active.offline,
        "played": active.play_count,
    }


@pytest.mark.parametrize("round", range(50))
@pytest.mark.cfreplay("test_app_0")
def test_repeat(round, cfreplay_cassette):
    observe(f"repeat{round}", **login_and_read("app0", cfreplay_cassette))

"""
MANY = 4


def test_xdist_records_whole_cassettes_and_fifty_replays_of_one_agree(
    pytester: pytest.Pytester, server: Server, spy: Spy, results: Results
) -> None:
    tests = "".join(
        f"\n@pytest.mark.cfreplay\ndef test_app_{n}(cfreplay_cassette):\n"
        f"    observe('app{n}', **login_and_read('app{n}', cfreplay_cassette))\n\n"
        for n in range(MANY)
    )
    pytester.makepyfile(helpers=OBSERVE, test_many=INNER_MANY + tests)

    # Recording in two workers at once: each test writes its own cassette, whole.
    run(pytester, "-n", "2", "--cfreplay-record-mode=once", "-k", "not repeat").assert_outcomes(passed=MANY)
    live = results.read()
    assert live["app0"]["token"] == server.planted.access_token and not live["app0"]["offline"]
    folder = pytester.path / "cassettes" / "test_many"
    assert sorted(p.name for p in folder.iterdir()) == [f"test_app_{n}.yaml" for n in range(MANY)]
    recorded = {}
    for n in range(MANY):
        path = folder / f"test_app_{n}.yaml"
        uris = [i["request"]["uri"] for i in cassette.load(path).interactions]
        assert uris == [f"{server.url}/oauth/token", f"{server.url}/v2/apps/app{n}-0", f"{server.url}/v2/apps/app{n}-1"]
        recorded[path] = path.read_bytes()
        assert server.planted.access_token.encode() not in recorded[path]
    assert len(server.hits) == 3 * MANY

    # Replaying in two workers: each test with its own cassette, and 50 more on test_app_0's.
    server.stop()
    spy.clear()
    run(pytester, "-n", "2").assert_outcomes(passed=MANY + 50)
    replayed = results.read()
    assert spy.connects() == []
    assert {path: path.read_bytes() for path in recorded} == recorded

    assert sorted(replayed) == sorted([f"app{n}" for n in range(MANY)] + [f"repeat{i}" for i in range(50)])
    app0 = {**replayed["app0"], "test": ""}
    assert app0["status"] == [200, 200, 200] and app0["offline"] and app0["fake_token"] and app0["played"] == 3
    assert app0["token"] != server.planted.access_token
    # The 50 replays of one cassette: all identical, and identical to its own test's replay.
    assert [{**replayed[f"repeat{i}"], "test": ""} for i in range(50)] == [app0] * 50
    assert len({replayed[f"app{n}"]["body"] for n in range(MANY)}) == MANY  # each test got its own cassette


# ----------------------------------------------------------------------------- pytest-recording


# pytest-recording as cfreplay can see it: the `vcr` marker, and the `vcr` fixture (autouse in
# pytest-recording 0.14).  Merely installed, it must not make cfreplay refuse anything.
FAKE_RECORDING_CONFTEST = """
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "vcr: Mark the test as using VCR.py.")


@pytest.fixture(autouse={autouse})
def vcr(request):
    yield None
"""

INNER_BOTH = """
import pytest

RAN = []


@pytest.mark.vcr
@pytest.mark.cfreplay("cfreplay:restage/201")
def test_both_markers():
    RAN.append("both markers")


@pytest.mark.cfreplay("cfreplay:restage/201")
def test_marker_and_vcr_fixture(vcr):
    RAN.append("vcr fixture")


def test_both_fixtures(vcr, cfreplay_cassette):
    RAN.append("both fixtures")


@pytest.mark.vcr
def test_vcr_alone():
    pass


def test_no_refused_test_ran():
    assert RAN == []
"""


def test_a_test_that_also_uses_pytest_recording_is_refused_with_a_message(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_RECORDING_CONFTEST.replace("{autouse}", "False"))
    pytester.makepyfile(test_both=INNER_BOTH)

    result = run(pytester)

    result.assert_outcomes(passed=2, errors=3)
    for test in ("test_both_markers", "test_marker_and_vcr_fixture", "test_both_fixtures"):
        result.stdout.fnmatch_lines(
            [
                f"test_both.py::{test} uses cfreplay and also pytest-recording/pytest-vcr (the 'vcr' marker or "
                "fixture): both would patch the HTTP clients and the cassettes would fight. Keep one: drop "
                "@pytest.mark.vcr, or drop @pytest.mark.cfreplay and the cfreplay_cassette fixture.",
            ]
        )


def test_cfreplay_works_when_pytest_recording_is_merely_installed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_RECORDING_CONFTEST.replace("{autouse}", "True"))
    pytester.makepyfile(
        test_quickstart="""
        import pytest
        import requests

        from cfreplay import shipped


        @pytest.mark.cfreplay("cfreplay:restage/201")
        def test_restage_starts_staging():
            response = requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage")
            assert response.status_code == 201
        """
    )
    run(pytester).assert_outcomes(passed=1)


# ----------------------------------------------------------------------------- cfreplay_simulator


SIMULATED_SUITE = """
import threading
import time

import httpx
import pytest
import requests

from helpers import observe


def simulator_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("cfreplay-simulator")]


def test_login_list_restage_poll_refresh(cfreplay_simulator):
    cf = cfreplay_simulator
    with requests.Session() as session:
        info = session.get(f"{cf.url}/v2/info").json()
        form = {"grant_type": "password", "username": cf.username, "password": cf.password}
        grant = session.post(f"{info['token_endpoint']}/oauth/token", data=form, auth=("cf", "")).json()
        headers = {"Authorization": f"bearer {grant['access_token']}"}
        first = session.get(f"{cf.url}/v2/apps", params={"results-per-page": 4}, headers=headers).json()
        second = session.get(f"{cf.url}{first['next_url']}", headers=headers).json()
        guid = cf.simulator.app("my-app").guid
        restaged = session.post(f"{cf.url}/v2/apps/{guid}/restage", headers=headers).status_code
        states, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            states.append(session.get(f"{cf.url}/v2/apps/{guid}", headers=headers).json()["entity"]["package_state"])
            if states[-1] == "STAGED":
                break
            time.sleep(3)
        cf.simulator.expire_tokens()
        expired = session.get(f"{cf.url}/v2/apps/{guid}", headers=headers).status_code
        refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        renewed = session.post(f"{cf.uaa_url}/oauth/token", data=refresh, auth=("cf", "")).json()["access_token"]
        again = session.get(f"{cf.url}/v2/apps/{guid}", headers={"Authorization": f"bearer {renewed}"}).status_code
    observe(
        "login",
        served=cf.served,
        threads=simulator_threads(),
        names=[app["entity"]["name"] for app in first["resources"] + second["resources"]],
        restaged=restaged,
        states=states,
        expired=expired,
        again=again,
        guid=guid,
        urls=[cf.url, cf.uaa_url, info["token_endpoint"]],
    )


@pytest.mark.cfreplay_simulator(seed=7)
def test_seeded_world_through_httpx(cfreplay_simulator):
    cf = cfreplay_simulator
    form = {"grant_type": "password", "username": cf.username, "password": cf.password}
    with httpx.Client() as client:
        token = client.post(f"{cf.uaa_url}/oauth/token", data=form, auth=("cf", "")).json()["access_token"]
        listed = client.get(
            f"{cf.url}/v2/apps", params={"q": "name:docker-app"}, headers={"Authorization": f"bearer {token}"}
        ).json()
    observe(
        "seeded",
        served=cf.served,
        threads=simulator_threads(),
        seed=cf.seed,
        guid=listed["resources"][0]["metadata"]["guid"],
        expected=cf.simulator.app("docker-app").guid,
    )
"""


def without_threads(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "threads"}  # a thread's name holds its port


def _ports_named(raw: bytes) -> set[bytes]:
    return set(re.findall(rb"cfreplay\.invalid:(\d+)", raw))


def test_simulator_fixture_records_identical_cassettes_that_replay_offline_in_parallel(
    pytester: pytest.Pytester, spy: Spy, results: Results
) -> None:
    pytester.makepyfile(helpers=OBSERVE, test_sim=SIMULATED_SUITE)
    folder = pytester.path / "cassettes" / "test_sim"

    run(pytester, "--cfreplay-record-mode=once").assert_outcomes(passed=2)
    recorded = results.read()
    first = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    assert sorted(first) == ["test_login_list_restage_poll_refresh.yaml", "test_seeded_world_through_httpx.yaml"]
    login, seeded = recorded["login"], recorded["seeded"]
    assert login["served"] is True and len(login["threads"]) == 1  # recording: the simulator serves
    assert login["names"] == ["my-app", "docker-app", "stopped-app", "staging-app", "no-bits-app", "zero-app"]
    assert (login["restaged"], login["states"], login["expired"], login["again"]) == (
        201, ["PENDING", "PENDING", "STAGED"], 401, 200,
    )  # fmt: skip
    # The URLs the test used, and the token endpoint /v2/info told it: the same in both modes.
    assert login["urls"] == [
        "http://api.cfreplay.invalid",
        "http://uaa.cfreplay.invalid",
        "http://uaa.cfreplay.invalid",
    ]
    assert seeded["seed"] == 7 and seeded["guid"] == seeded["expected"] != login["guid"]
    port = login["threads"][0].rsplit("-", 1)[1]  # the thread is named after the port it serves
    for raw in first.values():
        # Nothing names the simulator's port or address: not the URIs, not the bodies (/v2/info, next_url, the
        # token endpoint, the tokens' issuer); only /v2/info's app_ssh_endpoint names SSH's port, 2222.
        assert b"127.0.0.1" not in raw and f":{port}/".encode() not in raw
        assert _ports_named(raw) <= {b"2222"}
        assert b"http://api.cfreplay.invalid/v2/apps" in raw or b"http://uaa.cfreplay.invalid/oauth/token" in raw
    # The clients reached the simulator on 127.0.0.1, and no resolver was asked for the names (the spy,
    # an audit hook below any patching, refuses and logs any lookup of a host that is not local).
    assert set(spy.connects()) == {"127.0.0.1"}
    assert [e for e in spy.events() if e["event"] == "socket.getaddrinfo" and "invalid" in e["host"]] == []

    for path in folder.iterdir():
        path.unlink()
    run(pytester, "--cfreplay-record-mode=all").assert_outcomes(passed=2)
    assert {name: without_threads(row) for name, row in results.read().items()} == {
        name: without_threads(row) for name, row in recorded.items()
    }
    assert {path.name: path.read_bytes() for path in sorted(folder.iterdir())} == first  # byte for byte

    spy.clear()
    run(pytester, "-n", "2").assert_outcomes(passed=2)  # replay only, the default: the network is blocked
    replayed = results.read()
    for name in ("login", "seeded"):
        assert replayed[name]["served"] is False and replayed[name]["threads"] == []  # nothing was started
        assert {**without_threads(replayed[name]), "served": True} == without_threads(recorded[name])
    assert spy.connects() == []
    assert {path.name: path.read_bytes() for path in sorted(folder.iterdir())} == first


def test_simulator_marker_takes_the_simulator_options_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marks="""
        import pytest


        @pytest.mark.cfreplay_simulator(sed=7)
        def test_misspelt(cfreplay_simulator):
            pass


        @pytest.mark.cfreplay_simulator(7)
        def test_positional(cfreplay_simulator):
            pass


        @pytest.mark.cfreplay_simulator(seed=[7])
        def test_not_a_seed(cfreplay_simulator):
            pass
        """
    )
    result = run_inprocess(pytester)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.cfreplay_simulator does not take sed: cfreplay_simulator(*, seed=0, *",
            "*@pytest.mark.cfreplay_simulator takes keywords only: *",
            "*@pytest.mark.cfreplay_simulator: seed must be an int or a str, not [[]7[]]*",
        ]
    )
    assert not (pytester.path / "cassettes").exists()


# ----------------------------------------------------------------------------- strict keywords


INNER_MISTAKES = """
import pytest

RAN = []


@pytest.mark.cfreplay(record_mod="once")
def test_typo():
    RAN.append("typo")


@pytest.mark.cfreplay(freeze=False)
def test_freeze():
    RAN.append("freeze")


@pytest.mark.cfreplay(cassette="shared")
def test_cassette():
    RAN.append("cassette")


@pytest.mark.cfreplay(freeze_time="no")
def test_type():
    RAN.append("type")


@pytest.mark.cfreplay(match_on="path")
def test_match_on():
    RAN.append("match_on")


@pytest.mark.cfreplay(record_mode="sometimes")
def test_mode():
    RAN.append("mode")


@pytest.mark.cfreplay(filter_headers=["authorization"])
def test_filter():
    RAN.append("filter")


@pytest.mark.cfreplay("../outside")
def test_dotdot():
    RAN.append("dotdot")


@pytest.mark.cfreplay("/etc/cassette.yaml")
def test_absolute():
    RAN.append("absolute")


@pytest.mark.cfreplay("a", cassette_name="b")
def test_named_twice():
    RAN.append("named twice")


@pytest.mark.cfreplay("a", 3)
def test_not_a_name():
    RAN.append("not a name")


def test_none_ran():
    assert RAN == []
"""

TYPO_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_config():
    return {"freez_time": False}
"""


def test_marker_and_config_mistakes_fail_the_test_with_one_line_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mistakes=INNER_MISTAKES)
    cfg = pytester.mkpydir("cfg")
    (cfg / "conftest.py").write_text(TYPO_CONFTEST)
    (cfg / "test_cfg.py").write_text(
        'import pytest\n\n\n@pytest.mark.cfreplay("cfreplay:restage/201")\ndef test_config():\n    pass\n'
    )
    before = files_under(pytester.path)

    result = run(pytester)

    result.assert_outcomes(passed=1, errors=12)
    directory = pytester.path / "cassettes" / "test_mistakes"
    outside = f"must stay inside the cassette directory ({directory}): no absolute path, no '..'"
    marker = "test_mistakes.py::{}: @pytest.mark.cfreplay: {}"
    expected = [
        marker.format("test_typo", "unknown keyword 'record_mod'; did you mean 'record_mode'?"),
        marker.format("test_freeze", "unknown keyword 'freeze'; did you mean 'freeze_time'?"),
        marker.format("test_cassette", "unknown keyword 'cassette'; did you mean 'cassette_name'?"),
        marker.format("test_type", "freeze_time must be True or False, not str"),
        marker.format("test_match_on", "match_on must be a list of matcher names, not str"),
        "test_mistakes.py::test_mode: record_mode 'sometimes' is not one of none, once, new_episodes, all",
        marker.format(
            "test_filter",
            "filter_headers is not supported: not needed: the sanitizer removes secret headers; name others in "
            "[tool.cfreplay.sanitize] headers",
        ),
        marker.format("test_dotdot", f"the cassette name '../outside' {outside}"),
        marker.format("test_absolute", f"the cassette name '/etc/cassette.yaml' {outside}"),
        marker.format("test_named_twice", "name the cassette once, as its first argument or as cassette_name="),
        marker.format("test_not_a_name", "cassette names are strings, not int (3)"),
        "cfg/test_cfg.py::test_config: cfreplay_config: unknown keyword 'freez_time'; did you mean 'freeze_time'?",
    ]
    lines = result.stdout.lines
    for line in expected:
        assert line in lines, line  # the whole message, alone on its line
    assert sum(line.startswith("ERROR ") for line in lines) == 12
    result.stdout.no_fnmatch_line("*Traceback*")
    assert files_under(pytester.path) == before  # no cassette, no directory


# ----------------------------------------------------------------------------- allowed hosts


INNER_ALLOW = """
import os
import socket

import pytest
import requests

import cfreplay
from cfreplay import shipped

URL = os.environ["CFREPLAY_TEST_URL"]
RESTAGE = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"


@pytest.mark.cfreplay("cfreplay:restage/201", allow_hosts="localhost")
def test_marker(cfreplay_cassette):
    assert cfreplay_cassette.offline
    assert requests.post(RESTAGE, timeout=5).status_code == 201
    assert requests.get(f"{URL}/v2/apps/marker", timeout=5).json()["metadata"]["guid"] == "marker"
    with pytest.raises(cfreplay.UnmatchedRequest):
        requests.get("http://203.0.113.7/v2/apps/elsewhere", timeout=5)
    with pytest.raises(cfreplay.NetworkBlocked):
        socket.getaddrinfo("api.sys.example.com", 443)


@pytest.mark.cfreplay("cfreplay:restage/201")
def test_command_line():
    assert requests.post(RESTAGE, timeout=5).status_code == 201
    assert requests.get(f"{URL}/v2/apps/cli", timeout=5).json()["metadata"]["guid"] == "cli"
"""


def test_allowed_hosts_reach_a_local_server_while_the_cassette_replays(
    pytester: pytest.Pytester, server: Server, spy: Spy
) -> None:
    pytester.makepyfile(test_allow=INNER_ALLOW)

    run(pytester, "-k", "marker").assert_outcomes(passed=1)
    assert server.hits == ["GET /v2/apps/marker"]

    refused = run(pytester, "-k", "command_line")
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["E * cfreplay.UnmatchedRequest: *"])
    assert server.hits == ["GET /v2/apps/marker"]

    run(pytester, "-k", "command_line", "--cfreplay-allow-hosts=api.other.example, 127.0.0.1").assert_outcomes(passed=1)
    assert server.hits == ["GET /v2/apps/marker", "GET /v2/apps/cli"]
    assert spy.connects() == ["127.0.0.1", "127.0.0.1"]
    assert {event["host"] for event in spy.events()} == {"127.0.0.1"}  # api.sys.example.com never looked up
    assert not (pytester.path / "cassettes").exists()  # nothing recorded


# ----------------------------------------------------------------------------- assert_all_played


INNER_PLAYED = """
import os

import pytest
import requests

URL = os.environ["CFREPLAY_TEST_URL"]
COUNT = int(os.environ["CFREPLAY_TEST_COUNT"])


def read_apps():
    for name in ("a", "b", "c")[:COUNT]:
        assert requests.get(f"{URL}/v2/apps/{name}", timeout=5).status_code == 200


@pytest.mark.cfreplay
def test_option():
    read_apps()


@pytest.mark.cfreplay(assert_all_played=True)
def test_marker():
    read_apps()


@pytest.mark.cfreplay(assert_all_played=True)
def test_fails_anyway():
    read_apps()
    assert COUNT == 3, "the test's own failure"
"""

PLAYED_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_config():
    return {"assert_all_played": True}
"""


def test_assert_all_played_fails_a_passing_test_that_left_recordings_unplayed(
    pytester: pytest.Pytester, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_played=INNER_PLAYED)
    cfg = pytester.mkpydir("cfg")
    (cfg / "conftest.py").write_text(PLAYED_CONFTEST)
    (cfg / "test_cfg.py").write_text(INNER_PLAYED.replace("def test_", "def test_cfg_"))
    monkeypatch.setenv("CFREPLAY_TEST_COUNT", "3")
    run(pytester, "--cfreplay-record-mode=once").assert_outcomes(passed=6)
    server.stop()
    run(pytester, "--cfreplay-assert-all-played").assert_outcomes(passed=6)  # every recording played

    monkeypatch.setenv("CFREPLAY_TEST_COUNT", "1")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=5)
    path = pytester.path / "cassettes" / "test_played" / "test_marker.yaml"
    result.stdout.fnmatch_lines(
        [
            f"E   cfreplay.errors.UnplayedInteractions: {path}: 1 of 3 recorded interactions were played, 2 never "
            "were (assert_all_played):",
            f"      GET {server.url}/v2/apps/b",
            f"      GET {server.url}/v2/apps/c",
            "    How to fix: if the code no longer sends these requests, record the cassette again *",
            "All traceback entries are hidden. *",  # the message is the report: no frames of cfreplay's
        ]
    )
    summary = [line for line in result.stdout.lines if line.startswith("FAILED ")]
    unplayed = sorted(line.split(" ")[1] for line in summary if "UnplayedInteraction" in line)
    assert unplayed == [
        "cfg/test_cfg.py::test_cfg_marker",
        "cfg/test_cfg.py::test_cfg_option",
        "test_played.py::test_marker",
    ]
    own = sorted(line.split(" ")[1] for line in summary if "AssertionError: the test" in line)
    assert own == ["cfg/test_cfg.py::test_cfg_fails_anyway", "test_played.py::test_fails_anyway"]
    result.stdout.no_fnmatch_line("*ERROR*")

    # The option asks it of every test; recording (here: new_episodes, all replayed) is never judged.
    run(pytester, "--cfreplay-assert-all-played", "-k", "option").assert_outcomes(failed=2)
    recording = run(pytester, "--cfreplay-assert-all-played", "--cfreplay-record-mode=new_episodes")
    recording.assert_outcomes(passed=4, failed=2)
    recording.stdout.no_fnmatch_line("*UnplayedInteractions*")


# ----------------------------------------------------------------------------- cassette names


INNER_NAMES = """
import os

import pytest
import requests

from helpers import observe

URL = os.environ["CFREPLAY_TEST_URL"]


def fetch(test, active, *apps):
    for app in apps:
        assert requests.get(f"{URL}/v2/apps/{app}", timeout=5).json()["metadata"]["guid"] == app
    observe(test, path=str(active.path), extras=[str(p) for p in active.extra_cassettes], offline=active.offline)


@pytest.mark.cfreplay("shared.yaml")
def test_shared(cfreplay_cassette):
    fetch("shared", cfreplay_cassette, "shared")


@pytest.mark.cfreplay("sub/deeper/x")
def test_sub(cfreplay_cassette):
    fetch("sub", cfreplay_cassette, "sub")


@pytest.mark.cfreplay("data.json")
def test_json(cfreplay_cassette):
    fetch("json", cfreplay_cassette, "json")


@pytest.mark.cfreplay("mine")
def test_mine(cfreplay_cassette):
    fetch("mine", cfreplay_cassette, "mine")


@pytest.mark.cfreplay
def test_default(cfreplay_cassette):
    fetch("default", cfreplay_cassette, "default")


@pytest.mark.cfreplay("mine", "shared.yaml", "sub/deeper/x.yaml", assert_all_played=True)
def test_several(cfreplay_cassette):
    fetch("several", cfreplay_cassette, "mine", "shared", "sub")
"""


def test_cassette_names_are_used_as_given_and_several_are_replayed_from(
    pytester: pytest.Pytester, server: Server, results: Results
) -> None:
    pytester.makepyfile(helpers=OBSERVE, test_names=INNER_NAMES)
    folder = pytester.path / "cassettes" / "test_names"

    run(pytester, "--cfreplay-record-mode=once", "-k", "not several").assert_outcomes(passed=5)
    recorded = results.read()
    assert {test: row["path"] for test, row in recorded.items()} == {
        "shared": str(folder / "shared.yaml"),
        "sub": str(folder / "sub" / "deeper" / "x.yaml"),
        "json": str(folder / "data.json"),
        "mine": str(folder / "mine.yaml"),
        "default": str(folder / "test_default.yaml"),
    }
    assert files_under(folder) == {"shared.yaml", "sub/deeper/x.yaml", "data.json", "mine.yaml", "test_default.yaml"}
    assert json.loads((folder / "data.json").read_text())["interactions"][0]["request"]["uri"].endswith("/json")
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}

    server.stop()
    run(pytester, "-k", "several").assert_outcomes(passed=1)
    several = results.read()["several"]
    assert several["path"] == str(folder / "mine.yaml") and several["offline"]
    assert several["extras"] == [str(folder / "shared.yaml"), str(folder / "sub" / "deeper" / "x.yaml")]
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before


# ----------------------------------------------------------------------------- sleeping in replay

INNER_SLEEP = """
import time

import pytest
import requests

from cfreplay import shipped

REAL_SLEEP = time.sleep
RESTAGE = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"


@pytest.mark.cfreplay("cfreplay:restage/201")
def test_a_poll_interval_costs_nothing():
    before = time.time()
    assert requests.post(RESTAGE, timeout=5).status_code == 201
    time.sleep(3600)
    assert 3600 <= time.time() - before < 3600 + 60  # the frozen clock moved on by the hour slept


@pytest.mark.cfreplay("cfreplay:restage/201", skip_sleep=False)
def test_the_marker_opts_out():
    assert time.sleep is REAL_SLEEP


@pytest.mark.cfreplay("cfreplay:restage/201", skip_slep=False)
def test_a_typo_is_named():
    pass
"""


def test_replayed_sleeps_return_at_once_unless_the_marker_opts_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sleep=INNER_SLEEP)
    result = run(pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_sleep.py::test_a_typo_is_named: @pytest.mark.cfreplay: unknown keyword 'skip_slep'; "
         "did you mean 'skip_sleep'?*"]
    )  # fmt: skip


# ----------------------------------------------------------------------------- where the cassette opens


SETUP_ORDER_CONFTEST = '''
import socket

import freezegun.api
import http.client
import pytest
import vcr.patch

from helpers import observe

_CONNECT = socket.socket.connect  # before any cassette


@pytest.fixture(scope="module", autouse=True)
def late_marker(request):
    """Marks a module's tests from a module-scoped fixture: after the plugin's setup hook has looked."""
    if request.module.__name__.endswith("test_late"):
        request.applymarker(pytest.mark.cfreplay("cfreplay:restage/201"))


def pytest_sessionfinish(session):
    observe(
        "after the session",
        time_real=__import__("time").time is freezegun.api.real_time,
        datetime_real=__import__("datetime").datetime is freezegun.api.real_datetime,
        frozen=len(freezegun.api.freeze_factories),
        connect_real=socket.socket.connect is _CONNECT,
        clients_real=http.client.HTTPConnection is vcr.patch._HTTPConnection,
    )
'''

SETUP_ORDER_TESTS = '''
import time

import pytest
import requests

from cfreplay import shipped
from helpers import observe

RESTAGE = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"


@pytest.fixture
def staged():
    """The test's own fixture: set up once its cassette is open, so replayed, under the frozen clock."""
    return requests.post(RESTAGE, timeout=5).status_code, time.time()


@pytest.mark.cfreplay("cfreplay:restage/201")
def test_a_fixture_of_the_test_runs_inside_its_cassette(staged, request):
    status, at = staged
    observe("fixture", status=status, at=at, names=request.fixturenames)


@pytest.mark.parametrize(
    "marked", [pytest.param(True, marks=pytest.mark.cfreplay("cfreplay:restage/201")), False], ids=["on", "off"]
)
def test_siblings(marked, request):
    observe(f"sibling {marked}", cassette="cfreplay_cassette" in request.fixturenames, now=time.time())


@pytest.mark.usefixtures("cfreplay_cassette")
@pytest.mark.cfreplay("cfreplay:restage/201")
def test_asked_for_twice(request):
    observe("twice", names=request.fixturenames, status=requests.post(RESTAGE, timeout=5).status_code)
'''

SETUP_ORDER_LATE = """
import time

import requests

from cfreplay import shipped
from helpers import observe


def test_marked_by_a_fixture(request):
    status = requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage", timeout=5).status_code
    observe("late", cassette="cfreplay_cassette" in request.fixturenames, status=status, now=time.time())
"""


def test_a_marked_test_opens_its_cassette_where_the_autouse_fixture_did_and_nothing_stays_patched(
    pytester: pytest.Pytester, spy: Spy, results: Results
) -> None:
    """The cassette opens before the test's own fixtures, only for the marked one of two parametrized siblings,
    also for a test marked by a fixture, and after the session the clock, the sockets and the clients are real."""
    pytester.makepyfile(helpers=OBSERVE, test_order=SETUP_ORDER_TESTS, test_late=SETUP_ORDER_LATE)
    pytester.makeconftest(SPY_CONFTEST + SETUP_ORDER_CONFTEST)
    run(pytester).assert_outcomes(passed=5)
    seen = results.read()
    stamp = cassette.load(shipped.path("cfreplay:restage/201")).interactions[0]["response"]["recorded_at"]
    recorded = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    assert seen["fixture"]["status"] == 201 and abs(seen["fixture"]["at"] - recorded) < 60
    names = seen["fixture"]["names"]
    assert names.count("cfreplay_cassette") == 1 and "_cfreplay_marker" not in names
    assert names.index("cfreplay_cassette") < names.index("staged")
    assert seen["sibling True"]["cassette"] and abs(seen["sibling True"]["now"] - recorded) < 60
    assert not seen["sibling False"]["cassette"] and seen["sibling False"]["now"] > time.time() - 300
    assert seen["twice"]["status"] == 201 and seen["twice"]["names"].count("cfreplay_cassette") == 1
    assert seen["late"] == {"test": "late", "cassette": True, "status": 201, "now": seen["late"]["now"]}
    assert abs(seen["late"]["now"] - recorded) < 60
    assert seen["after the session"] == {
        "test": "after the session", "time_real": True, "datetime_real": True, "frozen": 0, "connect_real": True,
        "clients_real": True,
    }  # fmt: skip
    assert spy.events() == []


@given(st.text(alphabet=string.ascii_letters + string.digits + "_-._/:é \\", min_size=1, max_size=110))
@settings(max_examples=300, deadline=None)
def test_property_a_plain_cassette_name_takes_the_short_way_to_the_same_path(name: str) -> None:
    from cfreplay import plugin

    class Request:
        class node:  # what _cassette_path reads of a pytest request
            name, cls, nodeid = "test_x", None, "test_x.py::test_x"

    directory = Path("/project/tests/cassettes/test_x")

    def path(short: bool) -> object:
        way = plugin._cassette_path if short else plugin._named_path
        try:
            return way(Request, name, directory, "json" if len(name) % 2 else None)  # type: ignore[arg-type]
        except BaseException as error:  # the failure must be the same too
            return type(error)

    assert path(short=True) == path(short=False)


def test_the_config_and_cassette_dir_fixtures_serve_a_module_scoped_fixture(pytester: pytest.Pytester) -> None:
    """cfreplay_config and cfreplay_cassette_dir are module-scoped, as pytest-recording's are: a module-scoped
    fixture may ask for them, and a function-scoped override still serves the tests below it."""
    pytester.makepyfile(
        test_scopes="""
        import pytest


        @pytest.fixture(scope="module")
        def shared(cfreplay_cassette_dir, cfreplay_config):
            return cfreplay_cassette_dir, cfreplay_config


        def test_module_scoped(shared, request):
            folder, config = shared
            assert folder == request.path.parent / "cassettes" / "test_scopes"
            assert config == {}
        """
    )
    sub = pytester.mkpydir("sub")
    (sub / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef cfreplay_config(request):\n"
        "    return {'freeze_time': request.node.name.endswith('frozen')}\n"
    )
    (sub / "test_override.py").write_text(
        "def test_frozen(cfreplay_config):\n    assert cfreplay_config == {'freeze_time': True}\n\n\n"
        "def test_thawed(cfreplay_config):\n    assert cfreplay_config == {'freeze_time': False}\n"
    )
    run(pytester).assert_outcomes(passed=3)


STR_DIR_CONFTEST = """
import pytest


@pytest.fixture
def cfreplay_cassette_dir(request):
    return {value}
"""

STR_DIR_TEST = """
import pytest
import requests

from cfreplay import shipped


@pytest.mark.cfreplay("restage")
def test_from_a_str_dir():
    assert requests.post(f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage").status_code == 201
"""


def test_a_cassette_dir_override_may_return_a_str_as_pytest_recordings_does(pytester: pytest.Pytester) -> None:
    """pytest-recording's vcr_cassette_dir returns a str; an override moved across as it is works."""
    (pytester.path / "mine").mkdir()
    (pytester.path / "mine" / "restage.yaml").write_bytes(shipped.path("cfreplay:restage/201").read_bytes())
    pytester.makeconftest(STR_DIR_CONFTEST.format(value='str(request.config.rootpath / "mine")'))
    pytester.makepyfile(test_str_dir=STR_DIR_TEST)
    run(pytester).assert_outcomes(passed=1)


def test_a_cassette_dir_override_of_another_type_is_one_line_naming_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STR_DIR_CONFTEST.format(value="42"))
    pytester.makepyfile(test_str_dir=STR_DIR_TEST)
    result = run_inprocess(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_from_a_str_dir: cfreplay_cassette_dir must return a path (a str or a pathlib.Path), not int"]
    )
    assert "Traceback" not in result.stdout.str()
