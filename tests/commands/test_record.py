"""`cfreplay record` and `cfreplay serve --simulate`, end to end against simulators on 127.0.0.1.

Every test runs with HOME and CF_HOME in a temporary directory (so a developer's own
``~/.cf/config.json`` is never read) and without CF_USERNAME/CF_PASSWORD.  Every value a
simulator hands out while a test runs (its password and client secret, each token, token
id and cookie value) is collected by wrapping ``Simulator.handle``, and each cassette is
searched for all of them, raw and unescaped.  No token is written in this file: they are
issued or signed at test time.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest
import requests

import cfreplay
from cfreplay import cassette
from cfreplay.cf import tokens
from cfreplay.commands.cli import main
from cfreplay.hygiene import scanner
from cfreplay.serve.simulator import RunningSimulator, Simulator, run
from cfreplay.types import Response

DATA = Path(__file__).parents[1] / "data"
DOCS_GUID = "c462b988-8644-4bf6-83cb-32a12c3d1564"
# SHA-256 of the token on CC's apidocs page (as in test_seed_exchange): no JWT literal here.
DOCS_TOKEN_SHA256 = "f4956d7c17d22d58fafc325846d324a068288f52cfe4d3d86f3be465c8de500a"
CF_BASIC = {"Authorization": "Basic Y2Y6", "Accept": "application/json"}
UNKNOWN_GUID = "00000000-0000-4000-8000-000000000000"


# --------------------------------------------------------------------------- isolation and helpers


@pytest.fixture(autouse=True)
def cf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and CF_HOME in tmp (no real cf login is ever read), no CF_USERNAME, cwd in tmp."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CF_HOME", str(home))
    monkeypatch.delenv("CF_USERNAME", raising=False)
    monkeypatch.delenv("CF_PASSWORD", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@dataclass
class Issued:
    """What every simulator answered while the test ran."""

    simulators: list[Simulator] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def secrets(self) -> set[str]:
        found: set[str] = set()
        for simulator in self.simulators:
            found |= {simulator.password, simulator.client_secret}
        for response in self.responses:
            for name, value in response.headers:
                if name.lower() == "set-cookie":
                    found.add(value.split(";", 1)[0].partition("=")[2])
            try:
                document = json.loads(response.body)
            except ValueError:
                continue
            if isinstance(document, dict):
                found |= {
                    str(document[k]) for k in ("access_token", "refresh_token", "id_token", "jti") if k in document
                }
        return {value for value in found if value}


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> Issued:
    """Wraps ``Simulator.handle`` (the class, so the CLI's embedded simulator is seen too)."""
    seen = Issued()
    original = Simulator.handle

    def handle(self: Simulator, method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> Response:
        response = original(self, method, path, headers, body)
        if not any(known is self for known in seen.simulators):
            seen.simulators.append(self)
        seen.responses.append(response)
        return response

    monkeypatch.setattr(Simulator, "handle", handle)
    return seen


@pytest.fixture
def cf(issued: Issued) -> Iterator[RunningSimulator]:
    with run(seed=0) as running:
        yield running


def record(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["record", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def seeded_guid(name: str, seed: int = 0) -> str:
    """The guid the embedded simulator (same seed) gives *name*: the world comes from the seed."""
    return Simulator(seed=seed, base_url="http://127.0.0.1:1").app(name).guid


def password_grant(cf: RunningSimulator) -> dict[str, Any]:
    data = {"grant_type": "password", "username": cf.username, "password": cf.password}
    response = requests.post(f"{cf.url}/oauth/token", data=data, headers=CF_BASIC, timeout=5)
    assert response.status_code == 200, response.text
    grant: dict[str, Any] = response.json()
    return grant


def exchange(path: Path) -> list[tuple[str, str, int]]:
    """(method, path, status) of each recorded interaction."""
    return [
        (i["request"]["method"], urllib.parse.urlsplit(i["request"]["uri"]).path, i["response"]["status"]["code"])
        for i in cassette.load(path).interactions
    ]


def response_json(interaction: Mapping[str, Any]) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


def _json_unescape(text: str) -> str:
    simple = {"n": "\n", "t": "\t", "r": "\r", "/": "/", '"': '"', "\\": "\\", "'": "'"}
    return re.sub(
        r"\\(?:u([0-9a-fA-F]{4})|(.))",
        lambda m: chr(int(m[1], 16)) if m[1] else simple.get(m[2], m[2]),
        text,
    )


def _views(path: Path) -> list[str]:
    """The file as text, URL-decoded and JSON-unescaped, and its parsed bodies decoded the same ways."""
    text = path.read_bytes().decode("utf-8")
    data = cassette.load(path).data
    bodies = []
    for interaction in data["interactions"]:
        request_body = interaction["request"].get("body")
        if isinstance(request_body, bytes):
            request_body = request_body.decode("utf-8", "replace")
        bodies += [str(request_body or ""), str(interaction["response"]["body"].get("string") or "")]
    flat = json.dumps(data, ensure_ascii=False, default=str)
    result = [text, flat, *bodies]
    for view in list(result):
        result += [urllib.parse.unquote(view), urllib.parse.unquote_plus(view), _json_unescape(view)]
    return result


def assert_no_leak(path: Path, issued_values: set[str], *also: str) -> None:
    """None of the values is in the cassette: raw bytes, URL-decoded, JSON-unescaped, parsed."""
    wanted = issued_values | set(also)
    raw = path.read_bytes()
    views = _views(path)
    leaked = sorted(value for value in wanted if value.encode() in raw or any(value in view for view in views))
    assert not leaked, f"{len(leaked)} issued secret(s) in {path}: {[value[:6] + '…' for value in leaked]}"


def assert_nothing_written(directory: Path) -> None:
    """No cassette and no leftover temporary (.NAME.recording) file."""
    assert not directory.exists() or sorted(p.name for p in directory.iterdir()) == []


# --------------------------------------------------------------------------- the leak search itself


def _cassette_with_body(path: Path, body: str) -> Path:
    interaction = {
        "request": {"body": body, "headers": {}, "method": "POST", "uri": "http://127.0.0.1:9/oauth/token"},
        "response": {"body": {"string": "{}"}, "headers": {}, "status": {"code": 200, "message": "OK"}},
    }
    path.write_bytes(cassette.dumps({"interactions": [interaction], "version": 1}, "yaml"))
    return path


@pytest.mark.parametrize("encoding", ["plain", "percent-encoded", "json-escaped"])
def test_the_leak_search_sees_through_url_and_json_escapes(tmp_path: Path, encoding: str) -> None:
    value = secrets.token_hex(16)
    if encoding == "percent-encoded":
        body = "refresh_token=" + "".join(f"%{byte:02X}" for byte in value.encode())
    elif encoding == "json-escaped":
        body = '{"token":"' + "".join(f"\\u{ord(char):04x}" for char in value) + '"}'
    else:
        body = f"refresh_token={value}"
    path = _cassette_with_body(tmp_path / "planted.yaml", body)
    assert value.encode() not in path.read_bytes() or encoding == "plain"
    with pytest.raises(AssertionError, match=r"1 issued secret\(s\) in "):
        assert_no_leak(path, {value})
    assert_no_leak(path, {secrets.token_hex(16)})


# --------------------------------------------------------------------------- 1. no login: the embedded simulator


def test_with_no_login_it_records_from_the_embedded_simulator(
    capsys: pytest.CaptureFixture[str], issued: Issued, tmp_path: Path
) -> None:
    out = tmp_path / "cassettes" / "restage.yaml"
    code, stdout, stderr = record(capsys, "restage", "my-app", "-o", str(out))
    assert (code, stderr) == (0, "")
    [simulator] = issued.simulators  # the CLI ran exactly one simulator of its own
    guid = simulator.app("my-app").guid
    assert stdout.splitlines() == [
        f"recorded 4 interactions from the embedded simulator at {simulator.base_url} (no --api and no cf login)",
        "  restage: 201 Created, package_state PENDING",
        "  sanitized: cookie ×5, form-field ×1, jwt ×5, token-id ×1",
        "  scan: clean",
        f"  written: {out}",
    ]
    # The cf CLI v6's sequence: cf login, then the app looked up in the targeted space.
    assert exchange(out) == [
        ("GET", "/v2/info", 200),
        ("POST", "/oauth/token", 200),
        ("GET", f"/v2/spaces/{simulator.space_guid}/apps", 200),
        ("POST", f"/v2/apps/{guid}/restage", 201),
    ]
    lookup = cassette.load(out).interactions[2]["request"]["uri"]
    assert urllib.parse.urlsplit(lookup).query == "q=name%3Amy-app&inline-relations-depth=1"
    assert len(cassette.load(out)) == 4
    assert scanner.scan_file(out) == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["restage.yaml"]  # the temporary file was moved

    issued_values = issued.secrets()
    # password, client secret, access/id/refresh tokens, jti, 3 distinct cookie values
    assert {simulator.password, simulator.client_secret} <= issued_values and len(issued_values) >= 9
    assert_no_leak(out, issued_values)
    assert not any(value in stdout for value in issued_values)


def test_app_by_guid_and_the_default_output_path(capsys: pytest.CaptureFixture[str], issued: Issued) -> None:
    guid = seeded_guid("stopped-app")
    code, stdout, stderr = record(capsys, "restage", guid)
    out = Path("cassettes") / f"restage-{guid}.yaml"
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0].startswith("recorded 3 interactions from the embedded simulator at http://127.0.0.1:")
    assert stdout.splitlines()[-1] == f"  written: {out}"
    # A guid is not looked up by name: no GET /v2/apps?q=name:… is recorded.
    assert exchange(out) == [
        ("GET", "/v2/info", 200),
        ("POST", "/oauth/token", 200),
        ("POST", f"/v2/apps/{guid}/restage", 201),
    ]
    assert response_json(cassette.load(out).interactions[-1])["entity"]["name"] == "stopped-app"
    assert scanner.scan_file(out) == []
    assert_no_leak(out, issued.secrets())


def test_a_json_output_path_records_a_json_cassette(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "restage.json"
    code, _, stderr = record(capsys, "restage", "my-app", "-o", str(out))
    assert (code, stderr) == (0, "")
    assert cassette.load(out).format == "json"


def test_from_docs_to_a_json_path_writes_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "docs.json"
    assert main(["record", "--from-docs", "-o", str(out)]) == 0
    capsys.readouterr()
    assert cassette.load(out).format == "json"


# --------------------------------------------------------------------------- 2. --wait


def test_wait_records_the_polls_until_staged(
    capsys: pytest.CaptureFixture[str], issued: Issued, tmp_path: Path
) -> None:
    out = tmp_path / "wait.yaml"
    code, stdout, stderr = record(capsys, "restage", "stopped-app", "--wait", "-o", str(out))
    guid = seeded_guid("stopped-app")
    assert code == 0
    # stderr is no terminal here: one plain progress line per poll.
    assert stderr == (
        "| staging: PENDING (poll 1)\n/ staging: PENDING (poll 2)\n- staging: STAGED (poll 3)\n"
        "| starting: 0 of 4 instances running (poll 1)\n/ starting: 4 of 4 instances running (poll 2)\n"
    )
    assert stdout.startswith("recorded 15 interactions from the embedded simulator at ")
    # The restage's own answer, then what the polls saw: the 201 never said STAGED.
    assert stdout.splitlines()[1:4] == [
        "  restage: 201 Created, package_state PENDING",
        "  staging: STAGED after 3 polls",
        "  instances: RUNNING",
    ]
    interactions = cassette.load(out).interactions
    polls = [
        i for i, (m, p, _) in zip(interactions, exchange(out), strict=True) if (m, p) == ("GET", f"/v2/apps/{guid}")
    ]
    # Three polls until STAGED, then one more in the cf CLI's closing display.
    assert [response_json(i)["entity"]["package_state"] for i in polls] == ["PENDING", "PENDING", "STAGED", "STAGED"]
    app = f"/v2/apps/{guid}"
    # After staging the cf CLI v6 reads instances (and their stats) until one runs, then shows the app.
    assert [(m, p) for m, p, _ in exchange(out)[7:]] == [
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
        ("GET", app),
        ("GET", f"{app}/summary"),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
    ]
    states = [set(map(itemgetter("state"), response_json(interactions[i]).values())) for i in (7, 9)]
    assert states == [{"STARTING"}, {"RUNNING"}]
    assert exchange(out)[3] == ("POST", f"/v2/apps/{guid}/restage", 201)
    assert scanner.scan_file(out) == []
    assert_no_leak(out, issued.secrets())


def test_wait_timeout_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out" / "slow.yaml"
    with run(polls_to_stage=1000) as slow:
        monkeypatch.setenv("CF_USERNAME", slow.username)
        monkeypatch.setenv("CF_PASSWORD", slow.password)
        code, stdout, stderr = record(
            capsys, "restage", "my-app", "--api", slow.url, "--wait", "--timeout", "0.5", "-o", str(out)
        )
        assert slow.simulator.app("my-app").package_state == "PENDING"  # the restage did happen
    assert (code, stdout) == (2, "")
    assert stderr == (
        "| staging: PENDING (poll 1)\n"
        "cfreplay: error: staging did not finish within 0.5 s (still PENDING); nothing was written\n"
    )
    assert_nothing_written(out.parent)


# --------------------------------------------------------------------------- 3. targets


@pytest.mark.parametrize("scheme", ["", "bearer "])
def test_api_with_a_token(
    capsys: pytest.CaptureFixture[str], cf: RunningSimulator, issued: Issued, tmp_path: Path, scheme: str
) -> None:
    token = password_grant(cf)["access_token"]
    out = tmp_path / "token.yaml"
    code, stdout, stderr = record(
        capsys, "restage", "my-app", "--api", f"{cf.url}/", "--token", scheme + token, "-o", str(out)
    )
    guid = cf.simulator.app("my-app").guid
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0] == f"recorded 2 interactions from {cf.url} (--token)"
    assert exchange(out) == [("GET", "/v2/apps", 200), ("POST", f"/v2/apps/{guid}/restage", 201)]
    assert cf.simulator.app("my-app").package_state == "PENDING"  # it restaged the simulator's app
    assert scanner.scan_file(out) == []
    assert_no_leak(out, issued.secrets(), token)


def test_api_with_cf_username_and_password(
    capsys: pytest.CaptureFixture[str],
    cf: RunningSimulator,
    issued: Issued,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CF_USERNAME", cf.username)
    monkeypatch.setenv("CF_PASSWORD", cf.password)
    out = tmp_path / "login.yaml"
    code, stdout, stderr = record(capsys, "restage", "docker-app", "--api", cf.url, "-o", str(out))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0] == f"recorded 4 interactions from {cf.url} (CF_USERNAME)"
    assert [status for _, _, status in exchange(out)] == [200, 200, 200, 201]
    assert scanner.scan_file(out) == []
    assert_no_leak(out, issued.secrets())


def test_api_alone_is_a_usage_error(capsys: pytest.CaptureFixture[str], cf: RunningSimulator, tmp_path: Path) -> None:
    code, stdout, stderr = record(
        capsys, "restage", "my-app", "--api", f"{cf.url}/", "-o", str(tmp_path / "o" / "x.yaml")
    )
    assert (code, stdout) == (2, "")
    assert (
        stderr == f"cfreplay: error: --api {cf.url} needs --token, or CF_USERNAME and CF_PASSWORD in the environment\n"
    )
    assert cf.simulator.requests == []
    assert_nothing_written(tmp_path / "o")


def write_cf_config(cf_home: Path, cf: RunningSimulator, access_token: str, refresh_token: str) -> Path:
    """A cf CLI config.json (the fields the cf CLI writes after `cf login`) pointing at *cf*."""
    config = cf_home / ".cf" / "config.json"
    config.parent.mkdir(exist_ok=True)
    document = {
        "ConfigVersion": 3,
        "Target": cf.url,
        "APIVersion": "2.293.0",
        "AuthorizationEndpoint": cf.url,
        "UaaEndpoint": cf.url,
        "AccessToken": f"bearer {access_token}",
        "RefreshToken": refresh_token,
        "SSLDisabled": True,
        "UAAOAuthClient": "cf",
        "UAAOAuthClientSecret": "",
    }
    config.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return config


def test_the_cf_clis_own_login_and_its_refresh(
    capsys: pytest.CaptureFixture[str], cf: RunningSimulator, issued: Issued, tmp_path: Path, cf_home: Path
) -> None:
    grant = password_grant(cf)
    config = write_cf_config(cf_home, cf, grant["access_token"], grant["refresh_token"])

    first = tmp_path / "first.yaml"
    code, stdout, stderr = record(capsys, "restage", "my-app", "-o", str(first))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0] == f"recorded 2 interactions from {cf.url} (cf CLI login, {config})"
    assert [status for _, _, status in exchange(first)] == [200, 201]

    # The token in the cf config expires: CC answers 401 CF-InvalidAuthToken, the refresh
    # grant at UaaEndpoint gets a new one and the restage is retried once.
    cf.simulator.expire_tokens()
    docker = cf.simulator.app("docker-app").guid
    second = tmp_path / "second.yaml"
    code, stdout, stderr = record(capsys, "restage", docker, "-o", str(second))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[:2] == [
        f"recorded 3 interactions from {cf.url} (cf CLI login, {config})",
        "  restage: 201 Created, package_state PENDING",
    ]
    assert exchange(second) == [
        ("POST", f"/v2/apps/{docker}/restage", 401),
        ("POST", "/oauth/token", 200),
        ("POST", f"/v2/apps/{docker}/restage", 201),
    ]
    refused, granted, _ = cassette.load(second).interactions
    assert response_json(refused)["error_code"] == "CF-InvalidAuthToken"
    assert urllib.parse.parse_qs(granted["request"]["body"])["grant_type"] == ["refresh_token"]
    assert [(r.method, r.status) for r in cf.simulator.requests[-3:]] == [("POST", 401), ("POST", 200), ("POST", 201)]

    # By name, the refresh happens on the list call; the cf config is still the expired one.
    third = tmp_path / "third.yaml"
    code, _, _ = record(capsys, "restage", "stopped-app", "-o", str(third))
    assert code == 0
    assert [(m, s) for m, _, s in exchange(third)] == [("GET", 401), ("POST", 200), ("GET", 200), ("POST", 201)]

    for path in (first, second, third):
        assert scanner.scan_file(path) == []
        assert_no_leak(path, issued.secrets())


def test_a_logged_out_cf_config_falls_back_to_the_embedded_simulator(
    capsys: pytest.CaptureFixture[str], cf_home: Path, tmp_path: Path
) -> None:
    config = cf_home / ".cf" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"Target": "http://127.0.0.1:9", "AccessToken": "", "RefreshToken": ""}))
    code, stdout, _ = record(capsys, "restage", "my-app", "-o", str(tmp_path / "x.yaml"))
    assert code == 0
    assert stdout.startswith("recorded 4 interactions from the embedded simulator at http://127.0.0.1:")


def test_an_unreadable_cf_config_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], cf_home: Path, tmp_path: Path
) -> None:
    config = cf_home / ".cf" / "config.json"
    config.parent.mkdir()
    config.write_text("{not json")
    code, stdout, stderr = record(capsys, "restage", "my-app", "-o", str(tmp_path / "o" / "x.yaml"))
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"cfreplay: error: {config}: cannot read the cf CLI's config: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n"
    )
    assert_nothing_written(tmp_path / "o")


# --------------------------------------------------------------------------- 4. errors


@contextlib.contextmanager
def _closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening, and held while in use.

    Closing the probe before the request (as this test once did) let another test's server
    (xdist runs them side by side) take the port in between, and the request was answered.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


ERROR_CASES = [
    "unreachable",
    "bad token, by name",
    "bad token, by guid",
    "unknown app name",
    "unknown guid",
    "bad password",
    "refresh refused",
]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_are_one_line_exit_2_and_write_nothing(
    capsys: pytest.CaptureFixture[str],
    cf: RunningSimulator,
    tmp_path: Path,
    cf_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    url = cf.url
    my_app = cf.simulator.app("my-app").guid
    # Signed with a key of nobody's: CC (the simulator) cannot verify it.
    forged = tokens.sign({"jti": secrets.token_hex(8), "aud": ["cloud_controller"]}, key=secrets.token_hex(32))
    argv: list[str] = ["restage", "my-app", "--api", url, "--token", forged]
    held = contextlib.ExitStack()
    if case == "unreachable":
        port = held.enter_context(_closed_port())
        # hex: a urlsafe token starts with "-" one time in 64, and argparse takes it for an option
        argv = ["restage", "my-app", "--api", f"http://127.0.0.1:{port}", "--token", secrets.token_hex(24)]
        refused = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"
        message = f"cannot reach http://127.0.0.1:{port}/v2/apps?q=name%3Amy-app&inline-relations-depth=1: {refused}"
    elif case == "bad token, by name":
        message = "listing apps was refused: 401 CF-InvalidAuthToken: Invalid Auth Token (log in again: cf login)"
    elif case == "bad token, by guid":
        argv[1] = my_app
        message = "restage was refused: 401 CF-InvalidAuthToken: Invalid Auth Token (log in again: cf login)"
    elif case == "unknown app name":
        argv = ["restage", "no-such-app", "--api", url, "--token", password_grant(cf)["access_token"]]
        message = f"no app named 'no-such-app' at {url}"
    elif case == "unknown guid":
        argv = ["restage", UNKNOWN_GUID, "--api", url, "--token", password_grant(cf)["access_token"]]
        message = f"no app '{UNKNOWN_GUID}' at {url}: 404 CF-AppNotFound: The app could not be found: {UNKNOWN_GUID}"
    elif case == "bad password":
        monkeypatch.setenv("CF_USERNAME", cf.username)
        monkeypatch.setenv("CF_PASSWORD", secrets.token_hex(12))
        argv = ["restage", "my-app", "--api", url]
        message = f"could not log in at {url}/oauth/token: 401 Bad credentials"
    else:  # the cf config's token has expired and its refresh token was never issued here
        grant = password_grant(cf)
        write_cf_config(cf_home, cf, grant["access_token"], tokens.sign({"jti": "x-r"}, key=secrets.token_hex(32)))
        cf.simulator.expire_tokens()
        argv = ["restage", "my-app"]
        message = f"could not refresh at {url}/oauth/token: 401 Could not verify token signature."
    out = tmp_path / "out" / "restage.yaml"
    with held:
        code, stdout, stderr = record(capsys, *argv, "-o", str(out))
    assert (code, stdout) == (2, "")
    assert stderr == f"cfreplay: error: {message}\n"
    assert_nothing_written(out.parent)
    assert cf.simulator.app("my-app").package_state == "STAGED"  # nothing was restaged


@pytest.fixture
def not_http() -> Iterator[int]:
    """A port on 127.0.0.1 whose listener answers any request with an SSH banner, not HTTP."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(5)

        def answer_once() -> None:
            with suppress(OSError):
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        yield listener.getsockname()[1]
        thread.join(timeout=5)


def test_an_api_that_does_not_speak_http_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, not_http: int
) -> None:
    out = tmp_path / "out" / "x.yaml"
    api = f"http://127.0.0.1:{not_http}"
    code, stdout, stderr = record(
        capsys, "restage", "my-app", "--api", api, "--token", secrets.token_hex(16), "-o", str(out)
    )
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"cfreplay: error: cannot reach {api}/v2/apps") and stderr.count("\n") == 1
    assert_nothing_written(out.parent)


def test_a_failed_recording_leaves_an_existing_cassette_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "restage.yaml"
    assert record(capsys, "restage", "my-app", "-o", str(out))[0] == 0
    before = out.read_bytes()
    code, _, stderr = record(capsys, "restage", "no-such-app", "-o", str(out))
    assert code == 2 and stderr.startswith("cfreplay: error: no app named 'no-such-app' at http://127.0.0.1:")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "restage.yaml", "work"]


@pytest.mark.parametrize(
    ("app", "error_code", "description"),
    [
        ("staging-app", "CF-NotStaged", "App has not finished staging"),
        ("no-bits-app", "CF-AppPackageInvalid", "The app package is invalid: bits have not been uploaded"),
        ("zero-app", "CF-StagingError", "Staging error: App must have at least 1 instance to stage."),
    ],
)
def test_a_refused_restage_is_recorded_with_a_note(
    capsys: pytest.CaptureFixture[str], issued: Issued, tmp_path: Path, app: str, error_code: str, description: str
) -> None:
    out = tmp_path / f"{app}.yaml"
    code, stdout, stderr = record(capsys, "restage", app, "-o", str(out))
    assert (code, stderr) == (0, "")
    lines = stdout.splitlines()
    assert lines[0].startswith("recorded 4 interactions from the embedded simulator")
    assert lines[1:3] == ["  restage: 400 Bad Request", f"  note: restage answered 400 {error_code}: {description}"]
    assert lines[-1] == f"  written: {out}"
    last = cassette.load(out).interactions[-1]
    assert exchange(out)[-1] == ("POST", f"/v2/apps/{seeded_guid(app)}/restage", 400)
    assert (response_json(last)["error_code"], response_json(last)["description"]) == (error_code, description)
    assert scanner.scan_file(out) == []
    assert_no_leak(out, issued.secrets())


# --------------------------------------------------------------------------- 5. --from-docs


def test_from_docs_writes_the_documented_exchange(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "docs" / "restage.yaml"
    code = main(["record", "--from-docs", "-o", str(out)])
    stdout, stderr = capsys.readouterr()
    assert (code, stderr) == (0, "")
    assert stdout == (
        "recorded 1 interaction from the documented exchange (apidocs, cf-release v224)\n"
        "  restage: 201 Created, package_state PENDING\n"
        "  sanitized: nothing to sanitize\n"
        "  scan: clean\n"
        f"  written: {out}\n"
    )
    [interaction] = cassette.load(out).interactions
    request, response = interaction["request"], interaction["response"]
    assert response["body"]["string"].encode() == (DATA / "seed-restage-response-body.json").read_bytes()
    assert response["status"] == {"code": 201, "message": "Created"}
    assert response["headers"] == {
        "Content-Type": ["application/json;charset=utf-8"],
        "Location": [f"/v2/apps/{DOCS_GUID}"],
        "X-VCAP-Request-ID": ["b8fcfa2f-1042-49e5-9611-aae741f89f24"],
        "Content-Length": ["1158"],
        "X-Content-Type-Options": ["nosniff"],
    }
    assert (request["method"], request["uri"]) == ("POST", f"https://example.org/v2/apps/{DOCS_GUID}/restage")
    scheme, token = request["headers"]["Authorization"][0].split(" ")
    assert scheme == "bearer"
    assert hashlib.sha256(token.encode()).hexdigest() == DOCS_TOKEN_SHA256
    assert tokens.is_test_token(token, key=tokens.CC_DOCS_SECRET) and not tokens.is_test_token(token)
    assert scanner.scan_file(out) == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["restage.yaml"]

    # It replays: the documented body, byte for byte.
    with cfreplay.use_cassette(out):
        replayed = requests.post(f"https://example.org/v2/apps/{DOCS_GUID}/restage", timeout=5)
    assert replayed.status_code == 201
    assert replayed.content == (DATA / "seed-restage-response-body.json").read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from-docs", "restage", "my-app"], "--from-docs takes only -o/--output"),
        (["restage", "my-app", "--from-docs"], "--from-docs takes only -o/--output"),
        (["--from-docs", "--api", "http://127.0.0.1:9"], "--from-docs takes only -o/--output"),
        (["--from-docs", "--wait"], "--from-docs takes only -o/--output"),
        ([], "say what to record: 'cfreplay record restage APP' (or 'cfreplay record --from-docs')"),
        (["restage"], "say what to record: 'cfreplay record restage APP' (or 'cfreplay record --from-docs')"),
    ],
)
def test_record_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, stdout, stderr = record(capsys, *argv)
    assert (code, stdout) == (2, "")
    assert stderr == f"cfreplay: error: {message}\n"
    assert_nothing_written(Path("cassettes"))


# --------------------------------------------------------------------------- 6. replay what was recorded


def _restage_with_cloudfoundry_client(
    url: str, username: str, password: str, guid: str, between: Callable[[], None] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    client_module: Any = pytest.importorskip("cloudfoundry_client.client")
    client = client_module.CloudFoundryClient(url)
    client.init_with_user_credentials(username, password)
    app = client.v2.apps.get(guid)
    if between is not None:
        between()
    restaged = client.v2.apps.restage(guid)
    return dict(app), dict(restaged)


def _summary(resource: Mapping[str, Any]) -> tuple[str, str, str, str]:
    entity = resource["entity"]
    return entity["name"], resource["metadata"]["guid"], entity["package_state"], entity["state"]


@pytest.mark.parametrize("expire", [False, True], ids=["plain", "401-refresh-retry"])
def test_a_cloudfoundry_client_recording_replays_offline(issued: Issued, tmp_path: Path, expire: bool) -> None:
    path = tmp_path / "cf-python-client.yaml"
    with run(seed=3) as live:
        url, username, password = live.url, live.username, live.password
        guid = live.simulator.app("docker-app").guid
        with cfreplay.use_cassette(path, record_mode="once") as active:
            assert not active.offline
            got, restaged = _restage_with_cloudfoundry_client(
                url, username, password, guid, live.simulator.expire_tokens if expire else None
            )
    assert _summary(got) == ("docker-app", guid, "STAGED", "STARTED")
    assert _summary(restaged) == ("docker-app", guid, "PENDING", "STARTED")
    statuses = [status for _, _, status in exchange(path)]
    assert statuses[-3:] == ([401, 200, 201] if expire else [200, 200, 201])
    assert scanner.scan_file(path) == []
    assert_no_leak(path, issued.secrets())

    # The simulator is gone; replay blocks sockets, and the same code gets the same answers.
    with cfreplay.use_cassette(path) as active:
        assert active.offline
        got_again, restaged_again = _restage_with_cloudfoundry_client(url, username, password, guid)
        assert active.all_played
    assert _summary(got_again) == _summary(got)
    assert _summary(restaged_again) == _summary(restaged)
    assert restaged_again["entity"] == restaged["entity"]


def test_a_cfreplay_record_cassette_replays_with_requests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "restage.yaml"
    assert record(capsys, "restage", "my-app", "-o", str(out))[0] == 0
    recorded = cassette.load(out).interactions[-1]
    with cfreplay.use_cassette(out) as active:
        assert active.offline
        response = requests.post(recorded["request"]["uri"], timeout=5)
    assert response.status_code == 201
    assert response.json() == response_json(recorded)
    assert _summary(response.json()) == ("my-app", seeded_guid("my-app"), "PENDING", "STARTED")


# --------------------------------------------------------------------------- 7. serve --simulate


def test_serve_simulate_in_a_real_subprocess() -> None:
    command = [sys.executable, "-m", "cfreplay", "serve", "--simulate", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.readline().rstrip("\n")
            match = re.fullmatch(r"simulating Cloud Controller v2 \+ UAA at (http://127\.0\.0\.1:\d+)", first)
            assert match is not None, first
            url = match[1]
            assert process.stdout.readline().startswith(f"  log in: cf login -a {url} -u admin@example.com -p ")
            info = requests.get(f"{url}/v2/info", timeout=5)
            assert info.status_code == 200 and info.json()["token_endpoint"] == url
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert time.monotonic() - started < 3
            assert process.stdout.read() == "  stop: Ctrl-C\n"
            assert process.stderr.read() == ""
        finally:
            if process.poll() is None:
                process.kill()


def test_a_token_without_write_scope_is_refused_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], cf: RunningSimulator, tmp_path: Path
) -> None:
    data = {"grant_type": "password", "username": cf.username, "password": cf.password}
    data["scope"] = "openid cloud_controller.read"
    response = requests.post(f"{cf.url}/oauth/token", data=data, headers=CF_BASIC, timeout=5)
    read_only = response.json()["access_token"]
    out = tmp_path / "out" / "read-only.yaml"
    code, stdout, stderr = record(capsys, "restage", "my-app", "--api", cf.url, "--token", read_only, "-o", str(out))
    assert (code, stdout) == (2, "")
    assert stderr == (
        "cfreplay: error: restage was refused: 403 CF-InsufficientScope: Your token lacks the necessary "
        "scopes to access this resource. (a space developer's login can)\n"
    )
    assert_nothing_written(out.parent)
    assert cf.simulator.app("my-app").package_state == "STAGED"  # nothing was restaged
