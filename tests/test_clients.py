"""One cassette, every client: what requests (or httpx) recorded, every supported client replays alike.

The cassette is recorded against a fake Cloud Controller + UAA started here on
127.0.0.1 (one gzip response among them), then replayed with the server gone and
the network blocked by requests, httpx (sync and async), urllib3 and aiohttp.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import json
import secrets
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
import pytest
import requests
import urllib3
import yaml

import cfreplay
from cfreplay import factories, network, redaction, tokens
from cfreplay.sanitizer import Sanitizer
from cfreplay.scanner import scan_file

# ----------------------------------------------------------------------------- the fake foundation


class FakeCloud:
    """UAA ``POST /oauth/token`` (real JWTs, random per grant, and a JSESSIONID cookie),
    ``GET /v2/apps/<guid>`` (bearer required), gzip ``GET /v2/info``, and
    ``POST /v2/apps/<guid>/restage`` (401 CF-InvalidAuthToken first, then 201), and
    ``GET /v2/apps/<guid>/env``: gzip, chunked, with an env secret and service credentials."""

    def __init__(self) -> None:
        self.username = f"dev-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(18)
        self.guid = str(uuid.uuid4())
        self.access_tokens: list[str] = []
        self.refresh_tokens: list[str] = []
        self.cookies: list[str] = []
        self.env_secrets = (secrets.token_urlsafe(20), secrets.token_urlsafe(20))
        self.served = 0
        self.restages = 0
        self._lock = threading.Lock()
        cloud = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                cloud.handle(self)

            def do_POST(self) -> None:
                cloud.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True).start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._httpd.shutdown()
            self._httpd.server_close()

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.served += 1
            status, headers, payload = self._answer(handler, body)
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if ("Transfer-Encoding", "chunked") in headers:
            for start in range(0, len(payload), 64):
                chunk = payload[start : start + 64]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.wfile.write(payload)

    def _answer(
        self, handler: http.server.BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path = urllib.parse.urlsplit(handler.path).path
        scheme, _, credential = (handler.headers.get("Authorization") or "").partition(" ")
        authorized = scheme.lower() == "bearer" and bool(self.access_tokens) and credential == self.access_tokens[-1]
        invalid = factories.error_response("InvalidAuthToken")
        if handler.command == "POST" and path == "/oauth/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("username") != self.username or form.get("password") != self.password:
                return _json(401, {"error": "unauthorized", "error_description": "Bad credentials"})
            now = int(time.time())
            claims = {"jti": secrets.token_hex(16), "sub": str(uuid.uuid4()), "iat": now, "exp": now + 600}
            access = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")
            refresh = secrets.token_urlsafe(32)
            cookie = secrets.token_hex(16)
            self.access_tokens.append(access)
            self.refresh_tokens.append(refresh)
            self.cookies.append(cookie)
            grant = {"access_token": access, "token_type": "bearer", "refresh_token": refresh, "expires_in": 599}
            status, headers, payload = _json(200, grant)
            return status, [*headers, ("Set-Cookie", f"JSESSIONID={cookie}; Path=/; HttpOnly")], payload
        if handler.command == "GET" and path == f"/v2/apps/{self.guid}":
            if not authorized:
                return invalid.status, list(invalid.headers), invalid.body
            return _json(200, factories.app_envelope("staging", guid=self.guid, seed=self.guid))
        if handler.command == "GET" and path == "/v2/info":
            payload = gzip.compress(json.dumps(factories.info()).encode())
            headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
            return 200, [*headers, ("Content-Length", str(len(payload)))], payload
        if handler.command == "GET" and path == f"/v2/apps/{self.guid}/env":
            if not authorized:
                return invalid.status, list(invalid.headers), invalid.body
            payload = gzip.compress(json.dumps(self.env(*self.env_secrets)).encode())
            headers = [("Content-Type", "application/json;charset=utf-8"), ("Content-Encoding", "gzip")]
            return 200, [*headers, ("Transfer-Encoding", "chunked")], payload
        if handler.command == "POST" and path == f"/v2/apps/{self.guid}/restage":
            self.restages += 1
            if self.restages == 1 or not authorized:
                return invalid.status, list(invalid.headers), invalid.body
            restaged = factories.restage_response(factories.app_envelope("staged", guid=self.guid, seed=self.guid))
            return restaged.status, list(restaged.headers), restaged.body
        return _json(404, {"code": 10000, "description": "Unknown request", "error_code": "CF-NotFound"})

    @staticmethod
    def env(password: str, service_password: str) -> dict[str, Any]:
        """``GET /v2/apps/:guid/env``: a secret user variable and a bound service's credentials."""
        service = {
            "name": "db",
            "label": "p-mysql",
            "credentials": {
                "uri": f"mysql://admin:{service_password}@db.internal:3306/app",
                "password": service_password,
            },
        }
        return {
            "staging_env_json": {},
            "running_env_json": {},
            "environment_json": {"DB_PASSWORD": password, "SPRING_PROFILES_ACTIVE": "cloud"},
            "system_env_json": {"VCAP_SERVICES": {"p-mysql": [service]}},
        }


def _json(status: int, document: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    payload = json.dumps(document).encode()
    return status, [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(payload)))], payload


# ----------------------------------------------------------------------------- one script, five clients

Result = tuple[int, Any]
Send = Callable[[str, str, dict[str, str], bytes | None], Result]
AsyncSend = Callable[[str, str, dict[str, str], bytes | None], Awaitable[Result]]


@dataclass(frozen=True)
class Target:
    base: str
    guid: str
    username: str
    password: str


def _steps(target: Target) -> tuple[tuple[str, str, dict[str, str], bytes | None], ...]:
    form = {"grant_type": "password", "client_id": "cf", "username": target.username, "password": target.password}
    return (
        (
            "POST",
            f"{target.base}/oauth/token",
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            urllib.parse.urlencode(form).encode(),
        ),
    )


def _authorized(target: Target, token: str) -> tuple[tuple[str, str, dict[str, str], bytes | None], ...]:
    auth = {"Authorization": f"bearer {token}", "Accept": "application/json"}
    restage = f"{target.base}/v2/apps/{target.guid}/restage"
    return (
        ("GET", f"{target.base}/v2/apps/{target.guid}", auth, None),
        ("GET", f"{target.base}/v2/info", {"Accept": "application/json", "Accept-Encoding": "gzip"}, None),
        ("GET", f"{target.base}/v2/apps/{target.guid}/env", {**auth, "Accept-Encoding": "gzip"}, None),
        ("POST", restage, auth, None),
        ("POST", restage, auth, None),
    )


def script(send: Send, target: Target) -> list[Result]:
    """Log in, read the app, the gzip /v2/info and the gzip, chunked env; restage twice (401, then 201)."""
    results = [send(*step) for step in _steps(target)]
    token = results[0][1]["access_token"]
    results += [send(*step) for step in _authorized(target, token)]
    return results


async def async_script(send: AsyncSend, target: Target) -> list[Result]:
    results = [await send(*step) for step in _steps(target)]
    token = results[0][1]["access_token"]
    results += [await send(*step) for step in _authorized(target, token)]
    return results


def with_requests(target: Target) -> list[Result]:
    with requests.Session() as session:

        def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Result:
            response = session.request(method, url, headers=headers, data=body, timeout=5)
            return response.status_code, response.json()

        return script(send, target)


def with_httpx(target: Target) -> list[Result]:
    with httpx.Client(timeout=5) as client:

        def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Result:
            response = client.request(method, url, headers=headers, content=body)
            return response.status_code, response.json()

        return script(send, target)


def with_httpx_async(target: Target) -> list[Result]:
    async def run() -> list[Result]:
        async with httpx.AsyncClient(timeout=5) as client:

            async def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Result:
                response = await client.request(method, url, headers=headers, content=body)
                return response.status_code, response.json()

            return await async_script(send, target)

    return asyncio.run(run())


def with_urllib3(target: Target) -> list[Result]:
    with urllib3.PoolManager() as pool:

        def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Result:
            response = pool.request(method, url, headers=headers, body=body, timeout=5, retries=False)
            return response.status, json.loads(response.data)

        return script(send, target)


def with_aiohttp(target: Target) -> list[Result]:
    async def run() -> list[Result]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

            async def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Result:
                async with session.request(method, url, headers=headers, data=body) as response:
                    return response.status, json.loads(await response.read())

            return await async_script(send, target)

    return asyncio.run(run())


CLIENTS: dict[str, Callable[[Target], list[Result]]] = {
    "requests": with_requests,
    "httpx": with_httpx,
    "httpx-async": with_httpx_async,
    "urllib3": with_urllib3,
    "aiohttp": with_aiohttp,
}
RECORDERS = tuple(sorted(CLIENTS))
STATUSES = [200, 200, 200, 200, 401, 201]
LOGIN, APP, INFO, ENV, STALE, RESTAGED = range(6)
#: The env as every client must get it back: the secret variable and the credentials hidden as CC hides them.
SANITIZED_ENV = {
    "staging_env_json": {},
    "running_env_json": {},
    "environment_json": {"DB_PASSWORD": redaction.REDACTED, "SPRING_PROFILES_ACTIVE": "cloud"},
    "system_env_json": {
        "VCAP_SERVICES": {
            "p-mysql": [
                {"name": "db", "label": "p-mysql", "credentials": {"redacted_message": "[PRIVATE DATA HIDDEN]"}}
            ]
        }
    },
}


# ----------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Recording:
    path: Path
    target: Target
    live: list[Result]
    secrets: tuple[str, ...]
    served: int


@pytest.fixture(scope="module", params=RECORDERS)
def recording(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The script recorded with one client; the server is gone afterwards."""
    recorder: str = request.param
    cloud = FakeCloud()
    try:
        target = Target(cloud.base, cloud.guid, cloud.username, cloud.password)
        path = tmp_path_factory.mktemp(f"recorded-with-{recorder}") / "cassette.yaml"
        with cfreplay.use_cassette(path, record_mode="once"):
            live = CLIENTS[recorder](target)
    finally:
        cloud.stop()
    planted = (cloud.password, *cloud.access_tokens, *cloud.refresh_tokens, *cloud.cookies, *cloud.env_secrets)
    return Recording(path, target, live, planted, cloud.served)


def recorded_answers(path: Path) -> list[Result]:
    """Status and JSON body of every interaction, as the cassette holds them."""
    interactions = yaml.safe_load(path.read_bytes())["interactions"]
    return [
        (interaction["response"]["status"]["code"], json.loads(interaction["response"]["body"]["string"]))
        for interaction in interactions
    ]


def test_recording_is_live_and_the_cassette_is_clean(recording: Recording) -> None:
    live = recording.live
    assert [status for status, _ in live] == STATUSES and recording.served == 6
    assert live[LOGIN][1]["access_token"] == recording.secrets[1]  # the client got the real token…
    assert not tokens.is_test_token(live[LOGIN][1]["access_token"])
    assert live[RESTAGED][0] == 201  # …and the server took it
    assert live[INFO][1] == factories.info()  # gzip, decoded by the recording client
    assert live[ENV][1] == FakeCloud.env(*recording.secrets[-2:])  # gzip and chunked, secrets and all
    raw = recording.path.read_bytes()
    for secret in recording.secrets:
        assert secret.encode() not in raw
    assert scan_file(recording.path) == []
    document = yaml.safe_load(raw)
    assert "recorded_at" in document["metadata"]
    for step, body in ((INFO, factories.info()), (ENV, SANITIZED_ENV)):
        response = document["interactions"][step]["response"]
        assert "content-encoding" not in {name.lower() for name in response["headers"]}  # stored decoded
        assert json.loads(response["body"]["string"]) == body


# ----------------------------------------------------------------------------- replay


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address that reaches the real ``socket.connect`` through cfreplay's guard."""
    reached: list[Any] = []
    original = network._original_connect

    def spy(sock: socket.socket, address: Any) -> None:
        reached.append(address)
        original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", socket.socket.connect)
    monkeypatch.setattr(network, "_original_connect", spy)
    return reached


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_every_client_replays_the_cassette(recording: Recording, client: str, connect_spy: list[Any]) -> None:
    expected = recorded_answers(recording.path)
    with cfreplay.use_cassette(recording.path) as active:
        replayed = CLIENTS[client](recording.target)
        assert active.all_played
    assert connect_spy == []
    assert replayed == expected
    assert [status for status, _ in replayed] == STATUSES
    # What holds no secret comes back exactly as it went live, the gzip body included.
    for step in (APP, INFO, STALE, RESTAGED):
        assert replayed[step] == recording.live[step]
    assert replayed[ENV] == (200, SANITIZED_ENV)
    grant = replayed[LOGIN][1]
    assert tokens.is_test_token(grant["access_token"]) and redaction.is_placeholder(grant["refresh_token"])
    live_claims = jwt.decode(recording.live[LOGIN][1]["access_token"], options={"verify_signature": False})
    fake_claims = jwt.decode(grant["access_token"], options={"verify_signature": False})
    assert fake_claims["exp"] == live_claims["exp"]


# ----------------------------------------------------------------------------- unmatched, per client


def _unmatched(client: str, url: str, headers: dict[str, str]) -> None:
    if client == "requests":
        requests.get(url, headers=headers, timeout=5)
    elif client == "httpx":
        httpx.get(url, headers=headers, timeout=5)
    elif client == "httpx-async":

        async def get() -> None:
            async with httpx.AsyncClient(timeout=5) as http:
                await http.get(url, headers=headers)

        asyncio.run(get())
    elif client == "urllib3":
        with urllib3.PoolManager() as pool:
            pool.request("GET", url, headers=headers, timeout=5, retries=False)
    else:

        async def fetch() -> None:
            async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
                await response.read()

        asyncio.run(fetch())


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_every_client_raises_a_sanitized_unmatched_request(
    recording: Recording, client: str, connect_spy: list[Any]
) -> None:
    secret = secrets.token_urlsafe(24)
    real_jwt = jwt.encode({"sub": "someone", "exp": int(time.time()) + 600}, secrets.token_hex(32), algorithm="HS256")
    url = f"{recording.target.base}/v2/apps/{recording.target.guid}?access_token={secret}"
    with cfreplay.use_cassette(recording.path), pytest.raises(cfreplay.UnmatchedRequest) as raised:
        _unmatched(client, url, {"Authorization": f"bearer {real_jwt}"})
    shown = str(raised.value) + repr(raised.value)
    assert secret not in shown and real_jwt not in shown
    assert f"?access_token={Sanitizer().placeholder(secret)}" in shown
    assert "(the closest differ in query)" in shown
    assert connect_spy == []
