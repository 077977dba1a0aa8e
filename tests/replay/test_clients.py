"""One cassette, every client: what requests (or httpx) recorded, every supported client replays alike.

The cassette is recorded against a fake Cloud Controller + UAA started here on
127.0.0.1 (one gzip response among them), then replayed with the server gone and
the network blocked by requests, httpx (sync and async), urllib3 and aiohttp.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
import time
import urllib.parse
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
from fakecloud import FakeCloud

import cfreplay
from cfreplay.cf import factories, tokens
from cfreplay.hygiene import redaction
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import scan_file

# ----------------------------------------------------------------------------- the fake foundation


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
    assert all("recorded_at" in interaction["response"] for interaction in document["interactions"])
    for step, body in ((INFO, factories.info()), (ENV, SANITIZED_ENV)):
        response = document["interactions"][step]["response"]
        assert "content-encoding" not in {name.lower() for name in response["headers"]}  # stored decoded
        assert json.loads(response["body"]["string"]) == body


# ----------------------------------------------------------------------------- replay


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


def test_a_gzip_body_kept_compressed_by_another_recorder_replays_decoded(
    tmp_path: Path, connect_spy: list[Any]
) -> None:
    """A foreign cassette may keep a gzip body as it came (``!!binary``, Content-Encoding kept: http.client,
    other tools); cfreplay replays it decoded, to every client.

    Loading such a cassette stores the body decoded, and it must stay bytes in memory:
    as text it reached vcrpy's stubs, which play only bytes, and every client failed.
    """
    from cfreplay import cassette as cassette_files

    info = factories.info()
    url = "https://api.example.com/v2/info"
    response = {"status": {"code": 200, "message": "OK"}, "body": {"string": gzip.compress(json.dumps(info).encode())},
                "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]}}  # fmt: skip
    document = {"version": 1, "interactions": [{"request": {"method": "GET", "uri": url, "body": None, "headers": {}},
                                                 "response": response}]}  # fmt: skip
    path = tmp_path / "foreign.yaml"
    path.write_bytes(cassette_files.dumps(document, "yaml"))
    assert b"!!binary" in path.read_bytes()
    with cfreplay.use_cassette(path, record_mode="none", freeze_time=False, allow_playback_repeats=True):
        assert requests.get(url, timeout=5).json() == info
        assert httpx.get(url).json() == info
        assert json.loads(urllib3.request("GET", url).data) == info
    assert connect_spy == []
