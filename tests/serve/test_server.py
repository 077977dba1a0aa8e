"""``cfreplay.serve.server``: cassettes replayed over real HTTP (run(), serve()) and as a handler (CassetteServer)."""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.commands.cli import main
from cfreplay.errors import CassetteError, UnknownNameError
from cfreplay.hygiene.sanitizer import Report, Sanitizer
from cfreplay.serve.server import CassetteServer, RunningServer, checked_match_on, run, serve
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
    assert f"nearest recorded request: GET /v2/apps/{GUID} " in lines[-1]
    assert lines[-1].endswith("restage.yaml#1), which differs in query")  # the matcher it fails, as replay names it
    assert replay.handle("POST", f"/v2/apps/{GUID}/restagex", {}, b"").status == 404
    assert f"nearest recorded request: POST /v2/apps/{GUID}/restage " in lines[-1]
    assert lines[-1].endswith("which differs in path")
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


# --------------------------------------------------------------------------- what clients are told


def json_response(document: Any, *, status: int = 200, extra: Sequence[tuple[str, str]] = ()) -> Response:
    body = json.dumps(document).encode("utf-8")
    headers = (("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(body))), *extra)
    return Response(status, headers, body)


def page(number: int, guid: str) -> dict[str, Any]:
    app = factories.app_envelope("started", "staged", seed=number, guid=guid)
    app["metadata"]["url"] = f"{HOST_URI}/v2/apps/{guid}"  # absolute, as some proxies and v3 write them
    return {
        "total_results": 2,
        "total_pages": 2,
        "prev_url": None if number == 1 else f"{HOST_URI}/v2/apps?page=1&results-per-page=1",
        "next_url": f"{HOST_URI}/v2/apps?page=2&results-per-page=1" if number == 1 else None,
        "resources": [app],
    }


def on_host(origin: str, recorded: dict[str, Any]) -> dict[str, Any]:
    recorded["request"]["uri"] = recorded["request"]["uri"].replace(HOST_URI, origin, 1)
    return recorded


@pytest.fixture
def foundation_cassette(tmp_path: Path) -> Path:
    """A login and a paged listing recorded against https://api.sys.example.com and its UAA."""
    token = {"access_token": "eyJ.fake.token", "token_type": "bearer", "expires_in": 599}
    escaped = json.dumps({"issuer": "https://uaa.sys.example.com/oauth/token"}).replace("/", "\\/")
    recorded = [
        interaction("GET", "/", json_response(factories.root())),
        interaction("GET", "/v2/info", json_response(factories.info())),
        on_host("https://uaa.sys.example.com", interaction("POST", "/oauth/token", json_response(token))),
        interaction("GET", "/v2/apps?results-per-page=1", json_response(page(1, GUID))),
        interaction("GET", "/v2/apps?page=2&results-per-page=1", json_response(page(2, OTHER_GUID))),
        interaction(
            "GET", "/login", Response(302, (("Location", "https://login.sys.example.com/login?next=%2F"),), b"")
        ),
        interaction(
            "GET",
            "/elsewhere",
            Response(200, (("Content-Type", "application/json"),), b""),
            body=escaped[:-1]
            + ', "mirror": "https://api.sys.example.com.evil.org/v2", "ssh": "ssh.sys.example.com:2222"}',
        ),
    ]
    return write_cassette(tmp_path / "foundation.yaml", recorded)


def test_recorded_hosts_become_the_served_address_so_clients_stay_on_it(foundation_cassette: Path) -> None:
    with run([foundation_cassette]) as running, requests.Session() as session:
        served = running.url
        ws = served.replace("http://", "ws://")
        links = session.get(f"{served}/", timeout=5).json()["links"]
        assert links["self"]["href"] == links["login"]["href"] == links["uaa"]["href"] == served
        assert links["cloud_controller_v2"]["href"] == f"{served}/v2"
        assert links["logging"]["href"] == ws  # wss://doppler.sys.example.com:443: scheme and port too
        assert links["app_ssh"]["href"] == "ssh.sys.example.com:2222"  # host:port, no scheme: not HTTP

        info = session.get(f"{served}/v2/info", timeout=5)
        assert info.json()["authorization_endpoint"] == info.json()["token_endpoint"] == served
        assert info.json()["doppler_logging_endpoint"] == ws
        assert info.json()["routing_endpoint"] == f"{served}/routing"
        assert info.raw.headers.getlist("Content-Length") == [str(len(info.content))]

        # A client that follows what it is told: the token endpoint, then next_url to the last page.
        token = session.post(f"{info.json()['token_endpoint']}/oauth/token", timeout=5)
        assert token.json()["access_token"] == "eyJ.fake.token"
        listing = session.get(f"{served}/v2/apps?results-per-page=1", timeout=5).json()
        assert listing["next_url"] == f"{served}/v2/apps?page=2&results-per-page=1"
        assert listing["resources"][0]["metadata"]["url"] == f"{served}/v2/apps/{GUID}"
        assert listing["resources"][0]["entity"]["buildpack"] == page(1, GUID)["resources"][0]["entity"]["buildpack"]
        last = session.get(listing["next_url"], timeout=5)
        assert last.status_code == 200 and last.json()["prev_url"] == f"{served}/v2/apps?page=1&results-per-page=1"
        assert last.json()["resources"][0]["metadata"]["guid"] == OTHER_GUID

        redirect = session.get(f"{served}/login", allow_redirects=False, timeout=5)
        assert (redirect.status_code, redirect.headers["Location"]) == (302, f"{served}/login?next=%2F")

        other = session.get(f"{served}/elsewhere", timeout=5)
        assert other.json() == {
            "issuer": f"{served}/oauth/token",  # JSON's escaped slashes are rewritten as well, and stay escaped
            "mirror": "https://api.sys.example.com.evil.org/v2",  # another host that merely starts alike
            "ssh": "ssh.sys.example.com:2222",
        }
        assert b"\\/\\/127.0.0.1:" in other.content
        assert running.server.unmatched == []


def test_without_a_served_address_responses_keep_the_recorded_hosts(foundation_cassette: Path) -> None:
    replay = CassetteServer([foundation_cassette])
    recorded = cassette.load(foundation_cassette).interactions[1]["response"]["body"]["string"]
    assert replay.handle("GET", "/v2/info", {}, b"").body == recorded.encode()


def test_repeat_plays_the_last_recording_again_instead_of_404(restage_cassette: Path) -> None:
    lines: list[str] = []
    replay = CassetteServer([restage_cassette], log=lines.append, repeat=True)
    states = [replay.handle("GET", f"/v2/apps/{GUID}", {}, b"").json()["entity"]["package_state"] for _ in range(5)]
    assert states == ["PENDING", "PENDING", "STAGED", "STAGED", "STAGED"]
    first = replay.handle("POST", f"/v2/apps/{GUID}/restage", {}, b"")
    again = replay.handle("POST", f"/v2/apps/{GUID}/restage", {}, b"")
    assert first == again and first.status == 201
    assert replay.handle("GET", "/v2/info", {}, b"").status == 404  # never recorded: still CC's 404
    assert replay.unmatched == ["GET /v2/info"] and len(lines) == 1
    assert replay.remaining == 0


def test_repeat_over_http_answers_v2_info_as_often_as_asked(foundation_cassette: Path) -> None:
    with run([foundation_cassette], repeat=True) as running, requests.Session() as session:
        answers = [session.get(f"{running.url}/v2/info", timeout=5) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert answers[2].json()["token_endpoint"] == running.url
    with run([foundation_cassette]) as running:  # without it, each recording plays once
        assert requests.get(f"{running.url}/v2/info", timeout=5).status_code == 200
        assert requests.get(f"{running.url}/v2/info", timeout=5).status_code == 404


def test_compressed_bodies_naming_a_recorded_host_are_sent_decoded_and_rewritten(tmp_path: Path) -> None:
    naming = json.dumps({"token_endpoint": "https://uaa.sys.example.com"}).encode()
    silent = gzip.compress(json.dumps({"name": "no host here"}).encode())

    def coded(path: str, coding: str, body: bytes) -> dict[str, Any]:
        return interaction("GET", path, Response(200, (("Content-Encoding", coding),), b""), body=body)

    recorded = [
        coded("/v2/info", "gzip", gzip.compress(naming)),
        coded("/silent", "gzip", silent),
        coded("/deflated", "deflate", zlib.compress(naming)),
        coded("/brotli", "br", b"\x8b\x03\x80opaque\x03"),
    ]
    path = write_cassette(tmp_path / "compressed.yaml", recorded)
    replay = CassetteServer([path], served_url="http://127.0.0.1:9")
    expected = json.dumps({"token_endpoint": "http://127.0.0.1:9"}).encode()
    for target in ("/v2/info", "/deflated"):
        sent = replay.handle("GET", target, {}, b"")
        assert sent.body == expected
        assert sent.headers == (("Content-Length", str(len(expected))),)  # decoded: no Content-Encoding left
    untouched = replay.handle("GET", "/silent", {}, b"")  # nothing to rewrite: byte for byte
    assert untouched.body == silent
    assert untouched.headers == (("Content-Encoding", "gzip"), ("Content-Length", str(len(silent))))
    opaque = replay.handle("GET", "/brotli", {}, b"")
    assert opaque.body == b"\x8b\x03\x80opaque\x03"
    assert opaque.headers == (("Content-Encoding", "br"), ("Content-Length", "10"))


# --------------------------------------------------------------------------- match_on: body and headers

FORM = "application/x-www-form-urlencoded"


def with_request(
    recorded: dict[str, Any], *, headers: Mapping[str, str] | None = None, body: str | None = None
) -> dict[str, Any]:
    """*recorded* with the request headers and body given (vcrpy's layout: a list of values per name)."""
    if headers is not None:
        recorded["request"]["headers"] = {name: [value] for name, value in headers.items()}
    recorded["request"]["body"] = body
    return recorded


def token_response(access_token: str, refresh_token: str) -> Response:
    return json_response({"access_token": access_token, "refresh_token": refresh_token, "token_type": "bearer"})


@pytest.fixture
def grants_cassette(tmp_path: Path) -> Path:
    """Two POSTs to /oauth/token, the refresh grant recorded first: only their bodies tell them apart."""
    recorded = [
        with_request(
            interaction("POST", "/oauth/token", token_response("refreshed-access", "refreshed-refresh")),
            headers={"Content-Type": FORM},
            body="grant_type=refresh_token&refresh_token=first-refresh",
        ),
        with_request(
            interaction("POST", "/oauth/token", token_response("first-access", "first-refresh")),
            headers={"Content-Type": FORM},
            body="grant_type=password&username=admin&password=%2A%2A%2A&client_id=cf",
        ),
    ]
    return write_cassette(tmp_path / "grants.yaml", recorded)


def test_two_token_grants_are_told_apart_by_body(grants_cassette: Path) -> None:
    lines: list[str] = []
    with run([grants_cassette], match_on=("method", "path", "body"), log=lines.append) as running:
        # Form fields in another order than recorded: vcrpy's body matcher compares forms parsed.
        password = {"client_id": "cf", "password": "***", "grant_type": "password", "username": "admin"}
        login = requests.post(f"{running.url}/oauth/token", data=password, timeout=5)
        assert login.json()["access_token"] == "first-access"
        refresh = {"grant_type": "refresh_token", "refresh_token": login.json()["refresh_token"]}
        assert requests.post(f"{running.url}/oauth/token", data=refresh, timeout=5).json()["access_token"] == (
            "refreshed-access"
        )
        stale = {"grant_type": "refresh_token", "refresh_token": "never-issued"}
        assert requests.post(f"{running.url}/oauth/token", data=stale, timeout=5).status_code == 404
    assert running.server.unmatched == ["POST /oauth/token"]
    assert lines[-1].endswith("grants.yaml#0), which differs in body")
    assert "never-issued" not in lines[-1]  # bodies are not logged


def test_default_match_on_ignores_bodies_and_plays_in_recorded_order(grants_cassette: Path) -> None:
    replay = CassetteServer([grants_cassette])
    assert replay.match_on == ("method", "path", "query")
    password = b"grant_type=password&username=admin&password=%2A%2A%2A&client_id=cf"
    first = replay.handle("POST", "/oauth/token", {"Content-Type": FORM}, password)
    assert first.json()["access_token"] == "refreshed-access"  # the first recorded, whatever the body
    assert replay.handle("POST", "/oauth/token", {}, b"").json()["access_token"] == "first-access"
    assert replay.remaining == 0


def test_an_accept_header_pair_is_told_apart_by_headers(tmp_path: Path) -> None:
    recorded_headers = {
        "User-Agent": "python-requests/2.32.3",
        "Accept-Encoding": "gzip, deflate",
        "Connection": "keep-alive",
    }
    as_json = json_response({"format": "json"})
    as_text = Response(200, (("Content-Type", "text/plain"),), b"format: text")
    path = write_cassette(
        tmp_path / "accept.yaml",
        [
            with_request(
                interaction("GET", "/v2/info", as_json), headers={**recorded_headers, "Accept": "application/json"}
            ),
            with_request(interaction("GET", "/v2/info", as_text), headers={**recorded_headers, "Accept": "text/plain"}),
        ],
    )
    lines: list[str] = []
    replay = CassetteServer([path], match_on=("method", "path", "headers"), log=lines.append, repeat=True)
    # Another client (curl here): its User-Agent, Accept-Encoding and Host are not the recording's, and do not count.
    client = {"User-Agent": "curl/8.5.0", "Host": "127.0.0.1:8080", "X-Extra": "sent, never recorded"}
    assert replay.handle("GET", "/v2/info", {**client, "accept": "text/plain"}, b"").body == b"format: text"
    assert replay.handle("GET", "/v2/info", {**client, "Accept": "application/json"}, b"").json() == {"format": "json"}
    # --repeat holds with the new key: the same Accept gets its own recording again, not the other one.
    assert replay.handle("GET", "/v2/info", {**client, "Accept": "text/plain"}, b"").body == b"format: text"
    assert replay.handle("GET", "/v2/info", {**client, "Accept": "application/xml"}, b"").status == 404
    assert lines == [
        f"cfreplay serve: no recording for GET /v2/info; nearest recorded request: GET /v2/info ({path}#0), "
        "which differs in headers (Accept)"  # the header's name, never its value
    ]
    assert replay.remaining == 0


def test_identical_requests_under_the_new_keys_play_in_recorded_order(tmp_path: Path) -> None:
    polls = [
        with_request(interaction("GET", f"/v2/apps/{GUID}", poll), headers={"Accept": "application/json"})
        for poll in POLLS
    ]
    path = write_cassette(tmp_path / "polls.yaml", polls)
    lines: list[str] = []
    replay = CassetteServer([path], match_on=("method", "uri", "headers", "body"), log=lines.append)
    accept = {"Accept": "application/json"}
    states = [replay.handle("GET", f"/v2/apps/{GUID}", accept, b"").json()["entity"]["package_state"] for _ in POLLS]
    assert states == ["PENDING", "PENDING", "STAGED"]
    assert replay.handle("GET", f"/v2/apps/{GUID}", accept, b"").status == 404
    assert "all 3 recording(s) of it were already played" in lines[-1]


def test_checked_match_on_refuses_the_origin_and_unknown_names() -> None:
    assert checked_match_on([" method", "body ", "", "method"]) == ("method", "body")
    with pytest.raises(UnknownNameError, match=r"^unknown matcher 'bdy'; did you mean 'body'\?$"):
        checked_match_on(["method", "bdy"])
    for origin in ("host", "port", "scheme"):
        with pytest.raises(ValueError, match=f"'{origin}' cannot be matched when serving"):
            checked_match_on(["method", origin])
    with pytest.raises(ValueError, match="at least one matcher"):
        checked_match_on(["", " "])


@pytest.mark.parametrize(
    ("match_on", "error"),
    [
        ("method,bdy", "--match-on: unknown matcher 'bdy'; did you mean 'body'?"),
        (
            "method,host",
            "--match-on: 'host' cannot be matched when serving: clients reach the server at 127.0.0.1, "
            "not at the recorded host (leave it out)",
        ),
    ],
)
def test_cli_refuses_a_bad_matcher_in_one_line_with_exit_2(
    grants_cassette: Path, capsys: pytest.CaptureFixture[str], match_on: str, error: str
) -> None:
    assert main(["serve", str(grants_cassette), "--match-on", match_on]) == 2
    assert capsys.readouterr() == ("", f"cfreplay: error: {error}\n")


def sanitized_grants(tmp_path: Path) -> tuple[Path, str]:
    """A login recorded live (fresh secrets) and sanitized as the recorder writes it; and its password."""
    password, refresh_token = secrets.token_hex(12), secrets.token_hex(16)
    live = [
        with_request(
            interaction("POST", "/oauth/token", token_response(secrets.token_hex(20), refresh_token)),
            headers={"Content-Type": FORM},
            body=f"grant_type=password&username=admin&password={password}&client_id=cf",
        ),
        with_request(
            interaction("POST", "/oauth/token", token_response("refreshed-" + secrets.token_hex(20), refresh_token)),
            headers={"Content-Type": FORM},
            body=f"grant_type=refresh_token&refresh_token={refresh_token}",
        ),
    ]
    data = {"version": 1, "interactions": live, "metadata": {"recorded_with": "cfreplay"}}
    assert Sanitizer().sanitize_data(data)
    path = tmp_path / "login.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    written = path.read_text(encoding="utf-8")
    assert password not in written and refresh_token not in written and "password=%2A%2A%2A" in written
    return path, password


def sanitizing_with(sanitizer: Sanitizer) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What cfreplay serve passes as ``sanitize``: a request sanitized as the recorder would write it."""

    def sanitize(request: dict[str, Any]) -> dict[str, Any]:
        interaction = {"request": request, "response": {"status": {"code": 0}, "headers": {}, "body": {"string": ""}}}
        sanitizer.sanitize_interaction(interaction, None, Report())
        return dict(interaction["request"])

    return sanitize


def test_body_matching_meets_a_sanitized_recording(tmp_path: Path) -> None:
    path, password = sanitized_grants(tmp_path)
    login = {"grant_type": "password", "username": "admin", "password": password, "client_id": "cf"}
    # Another run's sanitizer (another placeholder key): the password still meets the recording's ***.
    sanitize = sanitizing_with(Sanitizer(key=secrets.token_bytes(32)))
    lines: list[str] = []
    with run([path], match_on=("method", "path", "body"), sanitize=sanitize, log=lines.append) as running:
        refresh = requests.post(f"{running.url}/oauth/token", data=login, timeout=5).json()["refresh_token"]
        # The client sends back the (sanitized) refresh token it was served: left alone, it matches too.
        again = requests.post(
            f"{running.url}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}, timeout=5
        )
        assert again.status_code == 200 and again.json()["access_token"].startswith("cfreplay-redacted-")
        assert running.server.remaining == 0 and lines == []

    # Unsanitized, the live password never equals the recorded ***: the 404 names the body, not the password.
    with run([path], match_on=("method", "path", "body"), log=lines.append) as running:
        assert requests.post(f"{running.url}/oauth/token", data=login, timeout=5).status_code == 404
    assert lines[-1].endswith("login.yaml#0), which differs in body") and password not in lines[-1]


def test_cli_serve_sanitizes_live_requests_before_matching_bodies(tmp_path: Path) -> None:
    path, password = sanitized_grants(tmp_path)
    command = [sys.executable, "-m", "cfreplay", "serve", str(path), "--match-on", "method,path,body"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split(" at ")[1].split(" ")[0]
            # By order this would get the login's answer; by body it matches nothing.
            early = requests.post(
                f"{url}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, timeout=5
            )
            assert early.status_code == 404
            login = {"grant_type": "password", "username": "admin", "password": password, "client_id": "cf"}
            assert requests.post(f"{url}/oauth/token", data=login, timeout=5).status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stderr.count("no recording for POST /oauth/token") == 1 and "differs in body" in stderr
    assert password not in stderr


def test_a_request_the_sanitizer_cannot_read_is_unmatched_and_a_recording_is_a_cassette_error(
    grants_cassette: Path,
) -> None:
    def refuses(request: dict[str, Any]) -> dict[str, Any]:
        if "secret" in request["uri"]:
            raise RecursionError("nested too deep")
        return request

    lines: list[str] = []
    replay = CassetteServer([grants_cassette], match_on=("method", "path", "body"), sanitize=refuses, log=lines.append)
    assert replay.handle("POST", "/oauth/token?secret=1", {}, b"").status == 404
    assert replay.unmatched == ["POST /oauth/token"]  # without the query it could not sanitize
    assert lines == ["cfreplay serve: no recording for POST /oauth/token; it cannot be sanitized (RecursionError)"]
    with pytest.raises(CassetteError, match=r"grants.yaml: interaction 0: its request cannot be sanitized"):
        CassetteServer([grants_cassette], sanitize=lambda request: refuses({**request, "uri": "secret"}))


@pytest.mark.parametrize("depth", [900, 5000])
def test_a_deeply_nested_discovery_document_is_read_without_recursion(depth: int) -> None:
    """A hostile /v2/info body neither overflows the stack nor stops the server loading its cassettes."""
    from cfreplay.serve import _rewriting
    from cfreplay.types import Response

    body = ('{"a":' * depth + '"https://uaa.deep.example"' + "}" * depth).encode()
    response = Response(200, (("Content-Type", "application/json"),), body)
    assert _rewriting.discovered_hosts(response) == ({"uaa.deep.example"} if depth < 1000 else set())
