"""``cfreplay.serve.server``: cassettes replayed over real HTTP (run(), serve()) and as a handler (CassetteServer)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.errors import CassetteError
from cfreplay.serve.server import CassetteServer, RunningServer, run, serve
from cfreplay.types import Response

GUID = "6064d98a-95e6-400b-bc03-be65e6d59622"
OTHER_GUID = "2f1c7a0e-7c55-4a5e-9a1c-0d1b0c6b2a11"
HOST_URI = "https://api.sys.example.com"
NOT_FOUND = factories.error_response("NotFound")


def interaction(
    method: str,
    path: str,
    response: Response,
    *,
    reason: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
    body: str | bytes | None = None,
) -> dict[str, Any]:
    """A vcrpy v1 interaction recorded against HOST_URI (no Authorization: nothing secret in the file)."""
    headers: dict[str, list[str]] = {}
    for name, value in (*response.headers, *extra_headers):
        headers.setdefault(name, []).append(value)
    return {
        "request": {
            "method": method,
            "uri": HOST_URI + path,
            "headers": {"Accept": ["application/json"]},
            "body": None,
        },
        "response": {
            "status": {"code": response.status, "message": reason if reason is not None else response.reason},
            "headers": headers,
            "body": {"string": response.body.decode("utf-8") if body is None else body},
        },
    }


def poll_response(guid: str, package_state: str, seed: int) -> Response:
    app = factories.app_envelope("started", "staged", seed=seed, guid=guid)
    app["entity"]["package_state"] = package_state
    body = json.dumps(app, indent=2).encode("utf-8")
    headers = (
        ("Content-Type", "application/json;charset=utf-8"),
        ("X-VCAP-Request-ID", f"req-{package_state.lower()}-{seed}"),
        ("Content-Length", str(len(body))),
    )
    return Response(200, headers, body)


def write_cassette(path: Path, interactions: Sequence[Mapping[str, Any]]) -> Path:
    data = {"version": 1, "interactions": list(interactions), "metadata": {"recorded_with": "cfreplay"}}
    path.write_bytes(cassette.dumps(data, "json" if path.suffix == ".json" else "yaml"))
    return path


RESTAGE = factories.restage_response(
    factories.app_envelope("started", "staged", seed=3, guid=GUID), seed=3, warnings=("one", "two")
)
POLLS = [poll_response(GUID, state, seed) for seed, state in enumerate(("PENDING", "PENDING", "STAGED"))]


@pytest.fixture
def restage_cassette(tmp_path: Path) -> Path:
    recorded = [
        interaction(
            "POST",
            f"/v2/apps/{GUID}/restage",
            RESTAGE,
            # Multi-valued, and a reason phrase that is not Python's: both must come back as recorded.
            extra_headers=(("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")),
            reason="Created Just So",
        ),
        *(interaction("GET", f"/v2/apps/{GUID}", poll) for poll in POLLS),
    ]
    return write_cassette(tmp_path / "restage.yaml", recorded)


@pytest.fixture
def served(restage_cassette: Path) -> Iterator[tuple[RunningServer, list[str]]]:
    lines: list[str] = []
    with run([restage_cassette], log=lines.append) as running:
        yield running, lines


def raw_headers(response: requests.Response) -> list[tuple[str, str]]:
    return list(response.raw.headers.items())


# --------------------------------------------------------------------------- over HTTP


def test_restage_replays_status_reason_headers_and_body(
    served: tuple[RunningServer, list[str]], restage_cassette: Path
) -> None:
    running, lines = served
    response = requests.post(f"{running.url}/v2/apps/{GUID}/restage", timeout=5)
    assert (response.status_code, response.reason) == (201, "Created Just So")
    assert response.content == RESTAGE.body
    stored = cassette.load(restage_cassette).interactions[0]["response"]["headers"]
    expected = [(name, value) for name, values in stored.items() for value in values]
    # Content-Length is recomputed and sent last; every other header is the recording's, in order.
    sent = raw_headers(response)
    assert [h for h in sent if h[0] != "Content-Length"] == [h for h in expected if h[0] != "Content-Length"]
    assert response.raw.headers.getlist("Content-Length") == [str(len(RESTAGE.body))]
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert "Server" not in response.headers and "Date" not in response.headers  # only what was recorded
    assert lines == [] and running.server.unmatched == []


def test_polls_play_in_order_then_404_with_log_naming_the_nearest(served: tuple[RunningServer, list[str]]) -> None:
    running, lines = served
    with requests.Session() as session:  # one kept-alive connection, as a polling client has
        states = [session.get(f"{running.url}/v2/apps/{GUID}", timeout=5).json()["entity"]["package_state"]
                  for _ in POLLS]  # fmt: skip
        assert states == ["PENDING", "PENDING", "STAGED"]
        fourth = session.get(f"{running.url}/v2/apps/{GUID}", headers={"Authorization": "bearer hidden"}, timeout=5)
    assert fourth.status_code == NOT_FOUND.status
    assert fourth.content == NOT_FOUND.body
    assert fourth.json()["error_code"] == "CF-NotFound"
    assert fourth.headers["Content-Type"] == NOT_FOUND.header("Content-Type")
    assert running.server.unmatched == [f"GET /v2/apps/{GUID}"]
    assert len(lines) == 1
    assert f"GET /v2/apps/{GUID}" in lines[0] and "already played" in lines[0] and "restage.yaml#1" in lines[0]
    assert "hidden" not in lines[0]  # header values never reach the log


def test_unmatched_log_names_same_path_with_other_query_or_longest_prefix(restage_cassette: Path) -> None:
    lines: list[str] = []
    replay = CassetteServer([restage_cassette], log=lines.append)
    assert replay.handle("GET", f"/v2/apps/{GUID}?inline-relations-depth=1", {}, b"").status == 404
    assert f"nearest recorded request: GET /v2/apps/{GUID} " in lines[-1] and "different query" in lines[-1]
    assert replay.handle("POST", f"/v2/apps/{GUID}/restagex", {}, b"").status == 404
    assert f"nearest recorded request: POST /v2/apps/{GUID}/restage " in lines[-1]
    assert replay.unmatched == [f"GET /v2/apps/{GUID}?inline-relations-depth=1", f"POST /v2/apps/{GUID}/restagex"]
    assert replay.remaining == 4 and len(replay) == 4


def test_query_matches_as_sorted_pairs_and_host_is_ignored(tmp_path: Path) -> None:
    listing = poll_response(GUID, "STAGED", 9)
    path = write_cassette(tmp_path / "q.json", [interaction("GET", "/v2/apps?q=name:x&page=2", listing)])
    replay = CassetteServer([path])
    assert replay.handle("get", "http://elsewhere:1/v2/apps?page=2&q=name%3Ax", {}, b"").body == listing.body
    assert replay.remaining == 0


def test_two_cassettes_served_together_in_order(tmp_path: Path) -> None:
    first = write_cassette(tmp_path / "a.yaml", [interaction("GET", f"/v2/apps/{GUID}", POLLS[0])])
    second = write_cassette(
        tmp_path / "b.yaml",
        [
            interaction("GET", f"/v2/apps/{GUID}", POLLS[2]),
            interaction("GET", f"/v2/apps/{OTHER_GUID}", poll_response(OTHER_GUID, "STAGED", 7)),
        ],
    )
    with run([first, second]) as running:
        other = requests.get(f"{running.url}/v2/apps/{OTHER_GUID}", timeout=5)
        assert other.json()["metadata"]["guid"] == OTHER_GUID
        states = [requests.get(f"{running.url}/v2/apps/{GUID}", timeout=5).json()["entity"]["package_state"]
                  for _ in range(2)]  # fmt: skip
        assert states == ["PENDING", "STAGED"]  # first cassette's recording first


def test_framing_headers_fit_the_body_sent(tmp_path: Path) -> None:
    text = '{"ok": true}'
    recorded = Response(200, (("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")), b"")
    compressed = Response(200, (("Content-Encoding", "gzip"), ("Content-Length", "999")), b"")
    path = write_cassette(
        tmp_path / "f.yaml",
        [
            interaction("GET", "/decoded", recorded, body=text),
            interaction("GET", "/raw", compressed, body=b"\x1f\x8b raw bytes"),
        ],
    )
    replay = CassetteServer([path])
    decoded = replay.handle("GET", "/decoded", {}, b"")
    assert decoded.headers == (("Content-Length", str(len(text))),) and decoded.body == text.encode()
    raw = replay.handle("GET", "/raw", {}, b"")
    assert raw.headers == (("Content-Encoding", "gzip"), ("Content-Length", "12"))


def test_load_errors_propagate_before_serving(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such cassette"), run([tmp_path / "missing.yaml"]):
        pytest.fail("served a missing cassette")
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n", encoding="utf-8")
    with pytest.raises(CassetteError, match="not valid YAML"):
        CassetteServer([bad])


def test_curl_smoke(served: tuple[RunningServer, list[str]]) -> None:
    curl = shutil.which("curl") or ("/usr/bin/curl" if Path("/usr/bin/curl").exists() else None)
    if curl is None:
        pytest.skip("curl is not installed")
    running, _ = served
    completed = subprocess.run(
        [curl, "-s", "-i", "-X", "POST", f"{running.url}/v2/apps/{GUID}/restage"],
        capture_output=True,
        timeout=10,
        check=True,
    )
    head, _, body = completed.stdout.partition(b"\r\n\r\n")
    assert head.split(b"\r\n", 1)[0] == b"HTTP/1.1 201 Created Just So"
    assert body == RESTAGE.body


# --------------------------------------------------------------------------- serve() in a subprocess


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_shuts_down_on_signal(restage_cassette: Path, signum: int) -> None:
    code = (
        "from pathlib import Path; from cfreplay.serve.server import serve; "
        f"serve([Path({str(restage_cassette)!r})], ready=print)"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            response = requests.post(f"{url}/v2/apps/{GUID}/restage", timeout=5)
            assert (response.status_code, response.content) == (201, RESTAGE.body)
            started = time.monotonic()
            process.send_signal(signum)
            assert process.wait(timeout=5) == 0
            assert time.monotonic() - started < 2
        finally:
            if process.poll() is None:
                process.kill()


def test_serve_refuses_other_threads(restage_cassette: Path) -> None:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            serve([restage_cassette])
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=5)
    assert len(errors) == 1 and "main thread" in str(errors[0])
