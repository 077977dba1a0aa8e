"""The one write path (``cfreplay.hygiene.writing``) seen from every writer: recording, import, convert and sanitize.

A project's ``[tool.cfreplay.sanitize]`` applies whoever writes; a write the scanner would
not call clean writes nothing; a cassette someone else changed meanwhile is never
overwritten (recorders merge, ``sanitize`` stops); owner and mode survive a rewrite; a
signal leaves no half-written file; FIFOs, decompression bombs, deep JSON and YAML alias
bombs are refused in one line without hanging.  Every secret is generated per test, and
the only servers are started here on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from leaks import API, UAA, Secrets, exchange

import cfreplay
from cfreplay import cassette
from cfreplay.commands.cli import main
from cfreplay.errors import CassetteChanged, CassetteError, SecretLeft
from cfreplay.hygiene import bodies, writing
from cfreplay.hygiene.rules import SanitizeConfig
from cfreplay.hygiene.sanitizer import Report, Sanitizer

pytest_plugins = ["pytester"]

# Inner pytest runs: as strict as this suite, with only the plugins they need.
STRICT = (
    "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:anyio", "-p", "no:randomly",
    "-p", "no:recording",  # pytest-recording is installed for tests/replay/test_pytest_recording.py
    "--strict-markers", "-W", "error",
)  # fmt: skip

# A project that sends its own session header and keeps its own secrets in CC documents.
PYPROJECT = """\
[tool.cfreplay.sanitize]
headers = ["X-Session"]
json-keys = ["session_blob"]
patterns = ["(acme_[0-9a-f]{24})"]
"""
CONFIG = SanitizeConfig(headers=("X-Session",), json_keys=("session_blob",), patterns=(r"(acme_[0-9a-f]{24})",))
APP_GUID = "6064d98a-95e6-400b-bc03-be65e6d59622"
TMP_SUFFIX = ".cfreplay-tmp"


# ----------------------------------------------------------------------------- the project's secrets


@dataclass(frozen=True)
class Project:
    """What only the project's own rules know to be secret, generated for each test."""

    session: str  # the X-Session header the project's client sends
    blob: str  # "session_blob" in the app document
    key: str  # an acme_ key, found by the project's pattern

    @classmethod
    def generate(cls) -> Project:
        return cls(secrets.token_hex(20), secrets.token_urlsafe(24), f"acme_{secrets.token_hex(12)}")

    def values(self) -> dict[str, str]:
        return {"X-Session header": self.session, "session_blob": self.blob, "acme key": self.key}


def app_document(guid: str, project: Project) -> dict[str, Any]:
    """``GET /v2/apps/:guid`` as CC v2 answers it, with the project's secrets where its app keeps them."""
    return {
        "metadata": {
            "guid": guid,
            "url": f"/v2/apps/{guid}",
            "created_at": "2015-11-03T00:54:16Z",
            "updated_at": "2015-11-03T00:54:18Z",
        },
        "entity": {
            "name": "web",
            "state": "STARTED",
            "instances": 2,
            "memory": 256,
            "docker_image": f"registry.example.com/acme/web:{project.key}",
            "session_blob": project.blob,
            "space_guid": "a8f4f6d3-0b23-4d7a-8c1d-6f2e2b0c9a11",
        },
    }


def app_interaction(project: Project, guid: str = APP_GUID) -> dict[str, Any]:
    return exchange(
        uri=f"{API}/v2/apps/{guid}",
        request_headers={"X-Session": [project.session]},
        body=json.dumps(app_document(guid, project), indent=2),
    )


def token_interaction(token: str) -> dict[str, Any]:
    """UAA's client-credentials grant for the cf CLI's public client, answering with a real (foreign) JWT."""
    grant = {"access_token": token, "token_type": "bearer", "expires_in": 599, "scope": "cloud_controller.read"}
    return exchange(
        method="POST",
        uri=f"{UAA}/oauth/token",
        request_headers={"Authorization": ["Basic Y2Y6"], "Content-Type": ["application/x-www-form-urlencoded"]},
        request_body="grant_type=client_credentials",
        body=json.dumps(grant),
    )


def bearer_interaction(token: str, guid: str = APP_GUID) -> dict[str, Any]:
    """The cf CLI reading an app with its bearer token."""
    body = json.dumps({"metadata": {"guid": guid}, "entity": {"name": "web", "state": "STARTED"}})
    return exchange(uri=f"{API}/v2/apps/{guid}", request_headers={"Authorization": [f"bearer {token}"]}, body=body)


def write_raw(path: Path, *interactions: dict[str, Any], fmt: cassette.Format = "yaml") -> bytes:
    """A cassette as vcrpy writes it (no cfreplay metadata), not sanitized."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = cassette.dumps({"interactions": list(interactions), "version": 1}, fmt)
    path.write_bytes(payload)
    return payload


def assert_free_of(path: Path, values: dict[str, str]) -> None:
    """Neither the bytes nor the parsed cassette (a value folded across YAML lines) hold any of *values*."""
    raw = path.read_bytes()
    parsed = json.dumps(cassette.load(path).data, default=lambda v: v.decode("latin-1"))
    for what, value in values.items():
        assert value.encode() not in raw, f"{what} is in {path.name}"
        assert value not in parsed, f"{what} is in {path.name}"


def leftovers(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.name.endswith(TMP_SUFFIX))


def token_parts(token: str) -> dict[str, str]:
    _head, payload, signature = token.split(".")
    return {"token": token, "token payload": payload, "token signature": signature}


@pytest.fixture
def project() -> Project:
    return Project.generate()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project checkout holding the pyproject.toml, as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


# ----------------------------------------------------------------------------- a Cloud Controller on 127.0.0.1


class _Httpd(http.server.ThreadingHTTPServer):
    daemon_threads = True
    project: Project
    hits: list[str]
    delay: float


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        httpd = cast(_Httpd, self.server)
        httpd.hits.append(self.path)
        time.sleep(httpd.delay)  # keeps parallel recorders' cassettes open at the same time
        if self.headers.get("X-Session") != httpd.project.session:
            self._send(401, {"code": 1000, "description": "Invalid Auth Token", "error_code": "CF-InvalidAuthToken"})
            return
        self._send(200, app_document(self.path.rsplit("/", 1)[-1], httpd.project))

    def _send(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Vcap-Request-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class Controller:
    """``GET /v2/apps/:guid`` on 127.0.0.1: wants the project's X-Session, answers with its secrets."""

    def __init__(self, project: Project, delay: float = 0.0) -> None:
        self.httpd = _Httpd(("127.0.0.1", 0), _Handler)
        self.httpd.project, self.httpd.hits, self.httpd.delay = project, [], delay
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()
        self.running = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def hits(self) -> list[str]:
        return self.httpd.hits

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def controller(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Controller]:
    """A running controller; inner pytest suites find it (and the session to send) in the environment."""
    running = Controller(project, delay=0.05)
    monkeypatch.setenv("CFREPLAY_WP_URL", running.url)
    monkeypatch.setenv("CFREPLAY_WP_SESSION", project.session)
    try:
        yield running
    finally:
        running.stop()


def read_app(controller: Controller, project: Project, guid: str = APP_GUID) -> dict[str, Any]:
    with requests.get(f"{controller.url}/v2/apps/{guid}", headers={"X-Session": project.session}, timeout=5) as got:
        assert got.status_code == 200
        document: dict[str, Any] = got.json()
    return document


# ============================================================================= 1. the project's rules, every writer


INNER_RECORD = """
import os

import pytest
import requests

URL = os.environ["CFREPLAY_WP_URL"]
SESSION = os.environ["CFREPLAY_WP_SESSION"]


@pytest.mark.cfreplay
def test_read_app(cfreplay_cassette):
    response = requests.get(f"{URL}/v2/apps/{guid}", headers={"X-Session": SESSION}, timeout=5)
    assert response.status_code == 200
    assert response.json()["entity"]["session_blob"]  # recording: the live document, real values
    assert not cfreplay_cassette.offline
""".replace("{guid}", APP_GUID)


def test_pytest_plugin_recording_applies_the_rootdir_pyproject(
    pytester: pytest.Pytester, controller: Controller, project: Project
) -> None:
    # pytest runs from outside the project (no pyproject.toml at or above its working directory):
    # only the rootdir's configuration can know the project's names.
    root = pytester.path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "test_inner.py").write_text(INNER_RECORD, encoding="utf-8")

    result = pytester.runpytest_subprocess(*STRICT, "--cfreplay-record-mode=once", "project/test_inner.py", timeout=120)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"rootdir: {root}*"])
    assert controller.hits == [f"/v2/apps/{APP_GUID}"]
    path = root / "cassettes" / "test_inner" / "test_read_app.yaml"
    assert [i["request"]["uri"] for i in cassette.load(path)] == [f"{controller.url}/v2/apps/{APP_GUID}"]
    assert_free_of(path, project.values())
    assert leftovers(pytester.path) == []


def test_use_cassette_applies_the_working_directory_pyproject(
    workdir: Path, controller: Controller, project: Project
) -> None:
    path = workdir / "cassettes" / "read_app.yaml"

    with cfreplay.use_cassette(path, record_mode="once") as active:
        live = read_app(controller, project)

    assert live["entity"]["session_blob"] == project.blob  # the code under test saw the real value
    assert {"secret-header", "secret-key", "pattern"} <= set(active.report.counts())
    assert_free_of(path, project.values())
    assert cassette.written_by_cfreplay(cassette.load(path).data)


def test_import_of_a_har_file_applies_the_working_directory_pyproject(
    workdir: Path, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = {
        "startedDateTime": "2024-03-01T10:15:31.500Z",
        "request": {
            "method": "GET",
            "url": f"{API}/v2/apps/{APP_GUID}",
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Accept", "value": "application/json"},
                {"name": "X-Session", "value": project.session},
            ],
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/json;charset=utf-8"}],
            "content": {"mimeType": "application/json", "text": json.dumps(app_document(APP_GUID, project))},
        },
    }
    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [entry]}}
    (workdir / "capture.har").write_text(json.dumps(har, indent=2), encoding="utf-8")

    assert main(["import", "capture.har", "-o", "cassettes/app.yaml"]) == 0

    out = capsys.readouterr().out
    assert "secret-header ×1" in out and "secret-key ×1" in out and "pattern ×1" in out
    assert_free_of(workdir / "cassettes" / "app.yaml", project.values())


def test_convert_applies_the_project_pyproject(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Project
) -> None:
    source = workdir / "cassettes" / "app.yaml"
    original = write_raw(source, app_interaction(project))

    assert main(["convert", "--to", "json", str(source)]) == 0

    assert_free_of(source.with_suffix(".json"), project.values())
    assert source.read_bytes() == original  # convert writes beside the source, never over it

    # The API's default sanitizer reads the pyproject above the cassette, wherever the process runs.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    second = workdir / "cassettes" / "second.yaml"
    write_raw(second, app_interaction(project))
    done = writing.convert_file(second, "json")
    assert done.written and {"secret-header", "secret-key", "pattern"} <= set(done.report.counts())
    assert_free_of(second.with_suffix(".json"), project.values())


def test_sanitize_applies_the_working_directory_pyproject(
    workdir: Path, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workdir / "cassettes" / "app.yaml"
    write_raw(path, app_interaction(project))

    assert main(["sanitize", str(path)]) == 0

    out = capsys.readouterr().out
    assert "pattern ×1" in out and "secret-header ×1" in out and "secret-key ×1" in out
    assert_free_of(path, project.values())
    assert main(["scan", str(path)]) == 0


def test_scan_flags_the_projects_header_and_pattern(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workdir / "cassettes" / "app.yaml"
    write_raw(path, app_interaction(project))

    assert main(["scan", "--format", "json", str(path)]) == 1

    out = capsys.readouterr().out
    found = {(f["rule"], f["location"]) for f in json.loads(out)["findings"]}
    assert ("secret-header", "request.headers.X-Session") in found
    assert ("pattern", "response.body") in found
    assert ("secret-key", "response.body") in found
    assert all(value not in out for value in project.values().values())  # masked, never the value

    # Run from outside the project, the built-in rules alone do not know these names; --config does.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["scan", "--format", "json", str(path)]) == 0
    capsys.readouterr()
    assert main(["scan", "--format", "json", "--config", str(workdir / "pyproject.toml"), str(path)]) == 1
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {"secret-header", "pattern"} <= rules


# ============================================================================= 2. a write the scanner refuses


class Blind(Sanitizer):
    """A sanitizer with a blind spot that covers everything: it replaces nothing, while its rules still scan."""

    def sanitize_interaction(self, interaction: dict[str, Any], index: int | None, report: Report) -> None:
        return None

    def sanitize_data(self, data: dict[str, Any], *, path: str | os.PathLike[str] = "<cassette>") -> Report:
        return Report()


def test_write_cassette_refuses_what_the_scanner_still_finds_and_writes_nothing(tmp_path: Path) -> None:
    token = Secrets().jwt()
    path = tmp_path / "cassettes" / "read_app.yaml"
    data = {"interactions": [bearer_interaction(token)], "version": 1}

    with pytest.raises(SecretLeft) as raised:
        writing.write_cassette(path, data, "yaml", Blind())

    message = str(raised.value)
    assert message.startswith(f"{path}: would still hold a secret after sanitizing (jwt at interaction 0 ")
    assert "request.headers.Authorization" in message and "nothing was written" in message
    assert all(part not in message for part in token_parts(token).values())
    assert not path.exists() and list(tmp_path.rglob("*")) == []  # not even the directory


def test_a_refused_write_leaves_the_existing_cassette_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "read_app.yaml"
    clean = Sanitizer()
    before = write_raw(path, bearer_interaction(clean.fake_jwt(Secrets().jwt())))
    data = {"interactions": [bearer_interaction(Secrets().jwt(), guid=str(uuid.uuid4()))], "version": 1}

    with pytest.raises(SecretLeft, match=r"\(jwt at interaction 0 request\.headers\.Authorization\)"):
        writing.write_cassette(path, data, "yaml", Blind(), expected=writing.fingerprint(path))

    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_recording_with_a_secret_left_raises_secret_left_and_writes_nothing(
    tmp_path: Path, controller: Controller, project: Project
) -> None:
    token = Secrets().jwt()
    path = tmp_path / "cassettes" / "read_app.yaml"

    with (
        pytest.raises(SecretLeft) as raised,
        cfreplay.use_cassette(path, record_mode="once", sanitizer=Blind(CONFIG)),
        requests.get(
            f"{controller.url}/v2/apps/{APP_GUID}",
            headers={"X-Session": project.session, "Authorization": f"bearer {token}"},
            timeout=5,
        ) as response,
    ):
        assert response.status_code == 200

    message = str(raised.value)
    assert "would still hold a secret after sanitizing" in message and "interaction 0" in message
    assert all(part not in message for part in {**token_parts(token), **project.values()}.values())
    assert not path.exists() and leftovers(tmp_path) == []


# ============================================================================= 3. someone else changed it meanwhile


def _other_writer(monkeypatch: pytest.MonkeyPatch, victim: Path, theirs: bytes, *, in_place: bool) -> None:
    """Another process rewrites *victim* after cfreplay read it and before it writes (while it proves its work)."""
    real = writing.prove_clean

    def meanwhile(payload: bytes, target: str | os.PathLike[str], sanitizer: Any) -> None:
        if Path(target) == victim and victim.read_bytes() != theirs:
            if in_place:
                victim.write_bytes(theirs)  # an editor saving over the file
            else:
                cassette.atomic_write(victim, theirs)  # a teammate's `cfreplay record` landing
        real(payload, target, sanitizer)

    monkeypatch.setattr(writing, "prove_clean", meanwhile)


@pytest.mark.parametrize("in_place", [False, True], ids=["renamed-over", "edited-in-place"])
def test_sanitize_file_stops_when_the_cassette_changed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> None:
    token = Secrets().jwt()
    path = tmp_path / "read_app.yaml"
    write_raw(path, bearer_interaction(token))
    theirs = cassette.dumps(
        {"interactions": [token_interaction(Sanitizer().fake_jwt(Secrets().jwt()))], "version": 1}, "yaml"
    )
    _other_writer(monkeypatch, path, theirs, in_place=in_place)

    with pytest.raises(CassetteChanged) as raised:
        writing.sanitize_file(path, Sanitizer())

    assert str(raised.value) == f"{path}: was changed by someone else while it was sanitized; nothing was written"
    assert path.read_bytes() == theirs  # the other writer's work is kept
    assert leftovers(tmp_path) == []


def test_sanitize_cli_reports_a_changed_cassette_in_one_line_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cassettes"
    first, second = folder / "a_read_app.yaml", folder / "b_login.yaml"
    write_raw(first, bearer_interaction(Secrets().jwt()))
    write_raw(second, token_interaction(Secrets().jwt()))
    theirs = cassette.dumps(
        {"interactions": [bearer_interaction(Sanitizer().fake_jwt(Secrets().jwt()))], "version": 1}, "yaml"
    )
    _other_writer(monkeypatch, first, theirs, in_place=False)

    code = main(["sanitize", str(folder)])

    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        f"cfreplay: error: {first}: was changed by someone else while it was sanitized; nothing was written"
    ]
    assert first.read_bytes() == theirs
    assert f"sanitized {second}: " in out and "2 files checked: 1 sanitized, 1 failed" in out
    assert main(["scan", str(second)]) == 0  # the batch went on


def test_import_over_a_cassette_that_changed_meanwhile_stops_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "app.yaml"
    write_raw(output, bearer_interaction(Sanitizer().fake_jwt(Secrets().jwt())))
    entry = {
        "request": {"method": "GET", "url": f"{API}/v2/apps/{APP_GUID}", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": '{"entity": {"name": "web"}}'}},
    }
    (tmp_path / "capture.har").write_text(json.dumps({"log": {"entries": [entry]}}), encoding="utf-8")
    rerecorded = bearer_interaction(Sanitizer().fake_jwt(Secrets().jwt()), guid=str(uuid.uuid4()))
    theirs = cassette.dumps({"interactions": [rerecorded], "version": 1}, "yaml")
    _other_writer(monkeypatch, output, theirs, in_place=False)

    code = main(["import", "capture.har", "-o", str(output)])

    assert code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"cfreplay: error: {output}: was changed by someone else meanwhile; nothing was written (run again)"
    ]
    assert output.read_bytes() == theirs


# ============================================================================= 4. parallel recorders lose nothing


INNER_SHARED = """
import os

import pytest
import requests

URL = os.environ["CFREPLAY_WP_URL"]
SESSION = os.environ["CFREPLAY_WP_SESSION"]


@pytest.mark.parametrize("n", range(8))
@pytest.mark.cfreplay("shared", record_mode="new_episodes")
def test_read_app(n):
    guid = f"6064d98a-95e6-400b-bc03-{n:012d}"
    response = requests.get(f"{URL}/v2/apps/{guid}", headers={"X-Session": SESSION}, timeout=5)
    assert response.status_code == 200
    assert response.json()["metadata"]["guid"] == guid
"""


def test_xdist_workers_recording_into_one_cassette_keep_every_interaction(
    pytester: pytest.Pytester, controller: Controller, project: Project
) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makepyfile(test_shared=INNER_SHARED)

    result = pytester.runpytest_subprocess(*STRICT, "-n", "4", timeout=120)

    result.assert_outcomes(passed=8)
    assert len(controller.hits) == 8
    path = pytester.path / "cassettes" / "test_shared" / "shared.yaml"
    uris = sorted(i["request"]["uri"] for i in cassette.load(path))
    assert uris == [f"{controller.url}/v2/apps/6064d98a-95e6-400b-bc03-{n:012d}" for n in range(8)]
    assert_free_of(path, project.values())
    assert leftovers(pytester.path) == []


@pytest.mark.parametrize("existing", [False, True], ids=["new-cassette", "existing-cassette"])
def test_two_recorders_interleaved_on_one_cassette_keep_both(
    tmp_path: Path, controller: Controller, project: Project, existing: bool
) -> None:
    path = tmp_path / "shared.yaml"
    guids = [str(uuid.uuid4()) for _ in range(3)]
    if existing:
        with cfreplay.use_cassette(path, record_mode="new_episodes", sanitize_config=CONFIG):
            read_app(controller, project, guids[0])
    first = cfreplay.use_cassette(path, record_mode="new_episodes", sanitize_config=CONFIG)
    second = cfreplay.use_cassette(path, record_mode="new_episodes", sanitize_config=CONFIG)

    first.__enter__()
    try:
        read_app(controller, project, guids[1])  # recorded into the first (the innermost)
        second.__enter__()
        try:
            read_app(controller, project, guids[2])  # recorded into the second
        finally:
            first.__exit__(None, None, None)  # the first leaves while the second is still open
    finally:
        second.__exit__(None, None, None)

    recorded = [i["request"]["uri"].rsplit("/", 1)[-1] for i in cassette.load(path)]
    assert recorded == (guids if existing else guids[1:])
    assert_free_of(path, project.values())
    assert leftovers(tmp_path) == []


# ============================================================================= 5. owner and mode survive a rewrite


def test_sanitize_keeps_the_cassettes_mode(tmp_path: Path) -> None:
    path = tmp_path / "read_app.yaml"
    write_raw(path, bearer_interaction(Secrets().jwt()))
    os.chmod(path, 0o640)
    before = path.stat()

    assert main(["sanitize", str(path)]) == 0

    after = path.stat()
    assert after.st_ino != before.st_ino  # it was rewritten (atomically, a new file)
    assert stat.S_IMODE(after.st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
@pytest.mark.parametrize("writer", ["sanitize", "re-record"])
def test_a_rewrite_keeps_the_cassettes_owner_and_mode(
    tmp_path: Path, controller: Controller, project: Project, writer: str
) -> None:
    path = tmp_path / "read_app.yaml"
    if writer == "sanitize":
        write_raw(path, bearer_interaction(Secrets().jwt()))
    else:
        with cfreplay.use_cassette(path, record_mode="new_episodes", sanitize_config=CONFIG):
            read_app(controller, project)
    os.chmod(path, 0o640)
    os.chown(path, 1234, 1234)
    before = path.stat()

    if writer == "sanitize":
        assert main(["sanitize", str(path)]) == 0
    else:
        with cfreplay.use_cassette(path, record_mode="new_episodes", sanitize_config=CONFIG):
            read_app(controller, project, str(uuid.uuid4()))
        assert len(cassette.load(path)) == 2

    after = path.stat()
    assert after.st_ino != before.st_ino
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (1234, 1234, 0o640)


# ============================================================================= 6. signals mid-write


SIGNAL_SCRIPT = """
import os
import signal
import sys
import tempfile

from cfreplay.commands import cli

signum = getattr(signal, sys.argv[1])
where = sys.argv[2]

if where == "fsync":
    real_fsync = os.fsync

    def fsync(fd):  # the signal lands while the new bytes are on their way to disk
        os.fsync = real_fsync
        os.kill(os.getpid(), signum)
        return real_fsync(fd)

    os.fsync = fsync
else:
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):  # the signal lands as the temporary file has just been created
        tempfile.mkstemp = real_mkstemp
        made = real_mkstemp(*args, **kwargs)
        os.kill(os.getpid(), signum)
        return made

    tempfile.mkstemp = mkstemp

sys.argv = ["cfreplay", *sys.argv[3:]]
cli.main_entry()
"""

SIGNAL_CASES = [
    pytest.param("sanitize", signal.SIGTERM, "fsync", id="sanitize-SIGTERM"),
    pytest.param("sanitize", signal.SIGINT, "fsync", id="sanitize-SIGINT"),
    pytest.param("convert", signal.SIGTERM, "fsync", id="convert-SIGTERM"),
    pytest.param("import", signal.SIGINT, "fsync", id="import-SIGINT"),
    pytest.param(
        "sanitize",
        signal.SIGTERM,
        "mkstemp",
        id="sanitize-SIGTERM-just-after-mkstemp",
    ),
]


@pytest.mark.parametrize(("command", "signum", "where"), SIGNAL_CASES)
def test_a_signal_mid_write_leaves_no_half_written_file(
    tmp_path: Path, command: str, signum: signal.Signals, where: str
) -> None:
    path = tmp_path / "read_app.yaml"
    original = write_raw(path, bearer_interaction(Secrets().jwt()))
    argv = {
        "sanitize": ["sanitize", str(path)],
        "convert": ["convert", "--to", "json", str(path)],
        "import": ["import", "capture.har", "-o", "imported.yaml"],
    }[command]
    if command == "import":
        entry = {
            "request": {"method": "GET", "url": f"{API}/v2/info", "headers": []},
            "response": {"status": 200, "headers": [], "content": {"text": '{"api_version": "2.150.0"}'}},
        }
        (tmp_path / "capture.har").write_text(json.dumps({"log": {"entries": [entry]}}), encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())

    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_SCRIPT, signum.name, where, *argv],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 128 + signum, done.stderr
    assert done.stderr.decode().splitlines() == [
        f"cfreplay: interrupted by {signum.name}; no file was left half-written"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file, no new cassette
    assert path.read_bytes() == original


# ============================================================================= 7. FIFOs


def _run_guarded(argv: list[str], fifo: Path) -> int:
    """``main(argv)`` in a thread; if it blocks on *fifo*, a writer opens it to let it go, and the test fails."""
    outcome: dict[str, int] = {}
    worker = threading.Thread(target=lambda: outcome.update(code=main(argv)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():
        descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # the blocked reader gets EOF
        os.close(descriptor)
        worker.join(timeout=30)
        pytest.fail(f"cfreplay {' '.join(argv)} blocked on the FIFO {fifo.name}")
    return outcome["code"]


@pytest.fixture
def fifo_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs named pipes (os.mkfifo)")
    folder = tmp_path / "cassettes"
    dirty = folder / "read_app.yaml"
    write_raw(dirty, bearer_interaction(Secrets().jwt()))
    fifo = folder / "stuck.yaml"
    os.mkfifo(fifo)
    return folder, dirty, fifo


def test_scan_and_sanitize_of_a_directory_skip_a_fifo(
    fifo_folder: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, dirty, fifo = fifo_folder

    assert _run_guarded(["scan", str(folder)], fifo) == 1
    out, err = capsys.readouterr()
    assert f"{dirty}:" in out and "stuck" not in out + err and "in 1 of 1 file scanned" in out

    assert _run_guarded(["sanitize", str(folder)], fifo) == 0
    out, err = capsys.readouterr()
    assert "1 file checked: 1 sanitized, 0 failed" in out and err == ""

    assert _run_guarded(["convert", "--to", "json", str(folder)], fifo) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["read_app.json", "read_app.yaml", "stuck.yaml"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert main(["scan", str(folder)]) == 0


@pytest.mark.parametrize("command", [["scan"], ["sanitize"], ["convert", "--to", "json"]], ids=lambda c: c[0])
def test_naming_a_fifo_is_a_one_line_error(
    fifo_folder: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    _folder, _dirty, fifo = fifo_folder

    assert _run_guarded([*command, str(fifo)], fifo) == 2

    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"cfreplay: error: {fifo}: is not a regular file (a FIFO, socket or device), not a "
        + ("file" if command == ["scan"] else "cassette")
    ]


# ============================================================================= 8. bombs and depth


@cache
def _bomb(coding: str) -> bytes:
    """A body that inflates to just past the cap: a few kilobytes on disk, more than 64 MiB decoded."""
    return bodies.encode(bytes(bodies.MAX_DECODED + (1 << 20)), (coding,))


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("side", ["response", "request"])
def test_a_decompression_bomb_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], coding: str, side: str
) -> None:
    folder = tmp_path / "cassettes"
    if side == "response":  # GET /v2/info, which CC serves gzipped
        bomb = exchange(uri=f"{API}/v2/info", response_headers={"Content-Encoding": [coding]}, body=_bomb(coding))
    else:  # app bits uploaded with a Content-Encoding
        bomb = exchange(
            method="PUT",
            uri=f"{API}/v2/apps/{APP_GUID}/bits",
            request_headers={"Content-Encoding": [coding]},
            request_body=_bomb(coding),
        )
    path = folder / "info.yaml"
    original = write_raw(path, bomb)
    dirty = folder / "login.yaml"
    write_raw(dirty, token_interaction(Secrets().jwt()))

    assert main(["sanitize", str(path), str(dirty)]) == 2

    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"cfreplay: error: {path}: interaction 0: its {coding} body decodes to more than 64 MiB (a bomb?)"
    ]
    assert path.read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == ["info.yaml", "login.yaml"]  # nothing big written
    assert "2 files checked: 1 sanitized, 1 failed" in out

    assert main(["scan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"cfreplay: error: {path}: cannot be proven clean: its {coding} body decodes to more than 64 MiB (a bomb?)"
    ]


def _depths() -> list[Any]:
    return [pytest.param(depth, id=f"depth-{depth}") for depth in (250, 1000, 100_000)]


def deep_body(depth: int, password: str) -> str:
    """A service-binding-shaped document nested *depth* levels, a password at the bottom."""
    return '{"entity": ' * depth + json.dumps({"credentials_hint": "db", "password": password}) + "}" * depth


@pytest.mark.parametrize("depth", _depths())
def test_sanitize_refuses_deep_json_in_one_line_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    folder = tmp_path / "cassettes"
    password = secrets.token_urlsafe(18)
    deep = folder / "a_bindings.yaml"
    original = write_raw(deep, exchange(uri=f"{API}/v2/service_bindings", body=deep_body(depth, password)))
    dirty = folder / "b_login.yaml"
    write_raw(dirty, token_interaction(Secrets().jwt()))

    code = main(["sanitize", str(folder)])

    out, err = capsys.readouterr()
    assert err.splitlines() == [f"cfreplay: error: {deep}: interaction 0: holds JSON nested deeper than 200 levels"]
    assert code == 2
    assert deep.read_bytes() == original
    assert f"sanitized {dirty}: " in out and main(["scan", str(dirty)]) == 0


@pytest.mark.parametrize("depth", [250, 1000, 100_000], ids=lambda d: f"depth-{d}")
def test_the_write_path_never_writes_a_deep_json_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    password = secrets.token_urlsafe(18)
    data = {"interactions": [exchange(uri=f"{API}/v2/service_bindings", body=deep_body(depth, password))], "version": 1}
    path = tmp_path / "bindings.yaml"

    with pytest.raises(CassetteError) as raised:
        writing.write_cassette(path, data, "yaml", Sanitizer())

    assert password not in str(raised.value) and "\n" not in str(raised.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def alias_bomb(gap: str) -> str:
    """A "billion laughs" in a cassette's metadata: ten levels of ten aliases, *gap* before each anchor and alias."""
    lines = ["interactions: []", "version: 1", "metadata:", f"  l0:{gap}&l0 [{', '.join(['lol'] * 10)}]"]
    for level in range(1, 10):
        aliases = ",".join([f"{gap}*l{level - 1}"] * 10)
        lines.append(f"  l{level}:{gap}&l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


GAPS = [pytest.param(" ", id="one-space"), pytest.param("  ", id="two-spaces")]


@pytest.mark.parametrize("gap", GAPS)
def test_loading_a_yaml_alias_bomb_is_refused(tmp_path: Path, gap: str) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(alias_bomb(gap), encoding="utf-8")

    with pytest.raises(CassetteError) as raised:
        cassette.load(path)

    assert str(raised.value) == f"{path}: expands through YAML aliases to more than 10,000,000 nodes (a bomb?)"


@pytest.mark.parametrize("gap", GAPS)
@pytest.mark.parametrize("command", ["scan", "sanitize"])
def test_scan_and_sanitize_refuse_a_yaml_alias_bomb_quickly(tmp_path: Path, command: str, gap: str) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(alias_bomb(gap), encoding="utf-8")

    # A subprocess, so a walk through a billion nodes can be stopped: this is a hang guard, not a benchmark.
    done = subprocess.run(
        [sys.executable, "-m", "cfreplay", command, str(path)], capture_output=True, timeout=10, check=False
    )

    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"cfreplay: error: {path}: expands through YAML aliases to more than 10,000,000 nodes (a bomb?)"
    ]


# ============================================================================= 9. SecretWarning on replay


def test_replaying_a_foreign_cassette_with_a_secret_warns_until_it_is_sanitized(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cassettes" / "login.yaml"
    token = Secrets().jwt()
    write_raw(path, token_interaction(token))  # as vcrpy (or pytest-recording) wrote it: no cfreplay metadata

    def replay() -> None:
        with cfreplay.use_cassette(path):
            form = {"grant_type": "client_credentials"}
            with requests.post(
                f"{UAA}/oauth/token", data=form, headers={"Authorization": "Basic Y2Y6"}, timeout=5
            ) as got:
                assert got.status_code == 200

    with pytest.warns(cfreplay.SecretWarning) as caught:
        replay()

    assert len(caught) == 1
    message = str(caught[0].message)
    assert str(path) in message and "jwt ×1" in message and f"cfreplay sanitize {path}" in message
    assert all(part not in message for part in token_parts(token).values())

    assert main(["sanitize", str(path)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", cfreplay.SecretWarning)
        replay()


def test_replaying_a_clean_cassette_does_not_warn(workdir: Path, controller: Controller, project: Project) -> None:
    recorded = workdir / "cassettes" / "read_app.yaml"
    with cfreplay.use_cassette(recorded, record_mode="once"):
        read_app(controller, project)
    foreign_clean = workdir / "cassettes" / "login.yaml"
    write_raw(foreign_clean, token_interaction(Sanitizer().fake_jwt(Secrets().jwt())))
    controller.stop()

    with warnings.catch_warnings():
        warnings.simplefilter("error", cfreplay.SecretWarning)
        with cfreplay.use_cassette(recorded) as active:
            assert read_app(controller, project)["entity"]["name"] == "web"
        assert active.offline and active.play_count == 1
        with cfreplay.use_cassette(foreign_clean):
            pass


# The scan's verdict on a foreign cassette is the sanitizer's (one definition of a secret):
# a version that scans clean has nothing to sanitize, so loading it skips the sanitizer.


def _loaded_requests(path: Path) -> list[tuple[str, str, dict[str, str], Any]]:
    with cfreplay.use_cassette(path) as active:
        return [(r.method, r.uri, dict(r.headers), r.body) for r in active.vcr_cassette.requests]


def _count_sanitizing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = Sanitizer.sanitize_interaction

    def counting(self: Sanitizer, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Sanitizer, "sanitize_interaction", counting)
    return calls


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_a_foreign_cassette_that_scans_clean_loads_without_the_sanitizer_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    from cfreplay.replay import _sources

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cassettes" / "read.yaml"
    fake = Sanitizer().fake_jwt(Secrets().jwt())  # a published-key token: nothing to replace
    interaction = bearer_interaction(fake)
    body = interaction["response"]["body"]["string"].encode()
    if compressed:  # kept compressed, as other recorders do: still decoded for the clients
        interaction["response"]["body"]["string"] = gzip.compress(body)
        interaction["response"]["headers"]["Content-Encoding"] = ["gzip"]
    write_raw(path, interaction, token_interaction(fake))
    assert not cassette.written_by_cfreplay(cassette.load(path).data)

    calls = _count_sanitizing(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cfreplay.SecretWarning)
        trusted = _loaded_requests(path)
        assert calls == [0]
        with cfreplay.use_cassette(path):
            got = requests.get(f"{API}/v2/apps/{APP_GUID}", headers={"Authorization": f"bearer {fake}"}, timeout=5)
        assert got.json() == json.loads(body)
        assert "Content-Encoding" not in got.headers

    # Without the verdict the sanitizer reads every request, and loads the same ones.
    monkeypatch.setattr(_sources, "warn_if_dirty", lambda *args, **kwargs: None)
    assert _loaded_requests(path) == trusted
    assert calls[0] >= 2


def test_a_foreign_cassette_with_a_secret_is_still_sanitized_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cassettes" / "read.yaml"
    token = Secrets().jwt()
    write_raw(path, bearer_interaction(token))

    calls = _count_sanitizing(monkeypatch)
    with pytest.warns(cfreplay.SecretWarning):
        loaded = _loaded_requests(path)
    assert calls[0] >= 1
    assert all(part not in repr(loaded) for part in token_parts(token).values())


def test_a_cassette_changed_while_it_is_scanned_is_neither_trusted_nor_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfreplay.replay import _sources

    path = tmp_path / "read.yaml"
    write_raw(path, bearer_interaction(Sanitizer().fake_jwt(Secrets().jwt())))
    real = _sources._dirt

    def changed_meanwhile(file: Path, sanitizer: Sanitizer) -> str | None:
        verdict = real(file, sanitizer)
        info = file.stat()
        os.utime(file, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
        return verdict

    monkeypatch.setattr(_sources, "_dirt", changed_meanwhile)
    sanitizer = Sanitizer()
    assert _sources.warn_if_dirty(path, sanitizer) is None
    assert not _sources.SCANNED.get(sanitizer.table)  # nothing remembered

    monkeypatch.setattr(_sources, "_dirt", real)
    version = _sources.warn_if_dirty(path, sanitizer)
    assert version is not None and version[0] == os.path.abspath(path)
    looked = _sources.Looked()
    assert looked.clean([path], [version])
    os.utime(path, ns=(0, 1))  # another version than the one found clean
    assert not _sources.Looked().clean([path], [version])


def test_a_cassette_named_without_a_cassette_suffix_is_scanned_as_one_before_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """use_cassette takes any name; its scan must read the file as the cassette it is.

    Read as a plain file (only the rules that need no context), a client secret in a query
    went unseen: no warning, and the recording, taken for clean, was not sanitized to match
    the sanitized live request.
    """
    monkeypatch.chdir(tmp_path)
    secret = secrets.token_urlsafe(16)
    uri = f"{API}/v2/info?client_secret={secret}"
    path = tmp_path / "info.cassette"
    write_raw(path, exchange(uri=uri))

    with pytest.warns(cfreplay.SecretWarning, match=r"url-query ×1"), cfreplay.use_cassette(path):
        assert requests.get(uri, timeout=5).status_code == 200


def test_a_clean_verdict_counts_for_its_own_rule_table_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the built-in rules find clean holds a secret by the project's: scanned again, warned about."""
    monkeypatch.chdir(tmp_path)
    secret = secrets.token_urlsafe(16)
    path = tmp_path / "cassettes" / "app.yaml"
    write_raw(path, exchange(uri=f"{API}/v2/apps/{APP_GUID}", body=json.dumps({"entity": {"ticketData": secret}})))

    with warnings.catch_warnings():
        warnings.simplefilter("error", cfreplay.SecretWarning)
        with cfreplay.use_cassette(path):
            pass
    project = SanitizeConfig(json_keys=("ticketData",))
    with (
        pytest.warns(cfreplay.SecretWarning, match=r"secret-key ×1"),
        cfreplay.use_cassette(path, sanitize_config=project) as active,
    ):
        got = requests.get(f"{API}/v2/apps/{APP_GUID}", timeout=5).json()
    assert got == {"entity": {"ticketData": secret}}  # replay plays what was recorded
    assert active.play_count == 1
