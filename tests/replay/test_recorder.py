"""``cfreplay.use_cassette`` against a fake Cloud Controller + UAA started here on 127.0.0.1.

Recording sees the live server; replay runs with the server idle or gone and the
network blocked.  Every secret the fake server hands out is generated per test.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import json
import os
import re
import secrets
import socket
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import freezegun
import httpx
import jwt
import pytest
import requests
import yaml
from fakecloud import STATES, FakeCloud

import cfreplay
from cfreplay.cf import factories, tokens
from cfreplay.hygiene import redaction
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import scan_file
from cfreplay.replay import network
from cfreplay.replay.recorder import recorded_at

# ----------------------------------------------------------------------------- the fake foundation


# ----------------------------------------------------------------------------- the code under test


class CfClient:
    """A small CF v2 client as a tool would write it: login, refresh on CF-InvalidAuthToken, poll staging."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.access_token = ""
        self.refresh_token = ""
        self.events: list[tuple[str, str, int]] = []

    def _send(self, method: str, path: str, *, form: dict[str, str] | None = None) -> requests.Response:
        headers = {"Accept": "application/json"}
        if form is None:
            headers["Authorization"] = f"bearer {self.access_token}"
        response = self.http.request(method, self.base + path, data=form, headers=headers, timeout=5)
        self.events.append((method, path, response.status_code))
        return response

    def _take(self, response: requests.Response) -> dict[str, Any]:
        response.raise_for_status()
        grant: dict[str, Any] = response.json()
        self.access_token = grant["access_token"]
        self.refresh_token = grant["refresh_token"]
        return grant

    def login(self, username: str, password: str) -> dict[str, Any]:
        form = {"grant_type": "password", "client_id": "cf", "username": username, "password": password}
        return self._take(self._send("POST", "/oauth/token", form=form))

    def refresh(self) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "client_id": "cf", "refresh_token": self.refresh_token}
        return self._take(self._send("POST", "/oauth/token", form=form))

    def call(self, method: str, path: str) -> requests.Response:
        response = self._send(method, path)
        if response.status_code == 401 and response.json().get("error_code") == "CF-InvalidAuthToken":
            self.refresh()
            response = self._send(method, path)
        return response

    def token_expires_in(self) -> float:
        claims = jwt.decode(self.access_token, options={"verify_signature": False})
        return float(claims["exp"]) - time.time()

    def token_expired(self) -> bool:
        return self.token_expires_in() <= 0


@dataclass
class Flow:
    """What the code under test saw."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    restage: tuple[int, Any] = (0, None)
    polls: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, str, int]] = field(default_factory=list)


def run_flow(base: str, guid: str, username: str, password: str) -> tuple[Flow, CfClient]:
    """Log in, restage (the first try meets a stale-token 401), poll until staged, read /v2/info."""
    client = CfClient(base)
    flow = Flow()
    with client.http:
        flow.grants.append(client.login(username, password))
        first_token = client.access_token
        restaged = client.call("POST", f"/v2/apps/{guid}/restage")
        assert client.access_token != first_token  # the 401 made the client refresh
        flow.grants.append({"access_token": client.access_token, "refresh_token": client.refresh_token})
        flow.restage = (restaged.status_code, restaged.json())
        while True:
            app = client.call("GET", f"/v2/apps/{guid}").json()
            flow.polls.append(app)
            if app["entity"]["package_state"] == "STAGED":
                break
        flow.info = client.http.get(base + "/v2/info", timeout=5).json()
    flow.events = client.events
    return flow, client


def record(cloud: FakeCloud, path: Path) -> tuple[Flow, CfClient]:
    with cfreplay.use_cassette(path, record_mode="once") as active:
        assert not active.offline and not active.frozen
        return run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)


EXPECTED_EVENTS_TEMPLATE = [
    ("POST", "/oauth/token", 200),
    ("POST", "/v2/apps/{guid}/restage", 401),
    ("POST", "/oauth/token", 200),
    ("POST", "/v2/apps/{guid}/restage", 201),
    ("GET", "/v2/apps/{guid}", 200),
    ("GET", "/v2/apps/{guid}", 200),
    ("GET", "/v2/apps/{guid}", 200),
]


def expected_events(guid: str) -> list[tuple[str, str, int]]:
    return [(method, path.format(guid=guid), status) for method, path, status in EXPECTED_EVENTS_TEMPLATE]


def planted_secrets(cloud: FakeCloud) -> list[str]:
    return [cloud.password, *cloud.access_tokens, *cloud.refresh_tokens, *cloud.cookies]


# ----------------------------------------------------------------------------- recording


def test_recording_hands_live_values_to_the_code_and_writes_none_of_them(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    before = datetime.now(UTC).replace(microsecond=0)
    flow, client = record(cloud, path)
    after = datetime.now(UTC)

    # Live: the real tokens reached the client, and the server accepted them on the next calls.
    assert flow.events == expected_events(cloud.guid)
    assert len(cloud.access_tokens) == 2 and len(cloud.refresh_tokens) == 2 and len(cloud.cookies) == 2
    assert flow.grants[0]["access_token"] == cloud.access_tokens[0]
    assert flow.grants[0]["refresh_token"] == cloud.refresh_tokens[0]
    assert client.access_token == cloud.access_tokens[1] and client.refresh_token == cloud.refresh_tokens[1]
    assert not tokens.is_test_token(client.access_token)
    assert client.http.cookies.get("JSESSIONID") == cloud.cookies[1]
    assert [app["entity"]["package_state"] for app in flow.polls] == list(STATES)
    assert flow.restage[0] == 201 and flow.restage[1]["metadata"]["guid"] == cloud.guid
    assert flow.info["api_version"] == str(cfreplay.DEFAULT_API_VERSION)
    assert cloud.served == 8

    # On disk: none of the secrets, in any form the scanner knows.
    raw = path.read_bytes()
    for secret in planted_secrets(cloud):
        assert secret.encode() not in raw
        assert urllib.parse.quote(secret, safe="").encode() not in raw
    assert scan_file(path) == []
    data = yaml.safe_load(raw)
    interactions = data["interactions"]
    assert len(interactions) == 8
    login_body = interactions[0]["request"]["body"]
    assert f"password={redaction.REDACTED}" in urllib.parse.unquote(login_body)
    recorded_grant = json.loads(interactions[0]["response"]["body"]["string"])
    assert tokens.is_test_token(recorded_grant["access_token"])
    assert redaction.is_placeholder(recorded_grant["refresh_token"])
    # The fake keeps the claims code reads: exp and iat survive sanitizing.
    live_claims = jwt.decode(cloud.access_tokens[0], options={"verify_signature": False})
    fake_claims = jwt.decode(recorded_grant["access_token"], options={"verify_signature": False})
    assert (fake_claims["exp"], fake_claims["iat"]) == (live_claims["exp"], live_claims["iat"])
    set_cookie = interactions[0]["response"]["headers"]["Set-Cookie"][0]
    assert re.fullmatch(r"JSESSIONID=cfreplay-redacted-[0-9a-f]{16}; Path=/; HttpOnly", set_cookie)
    # Echoed values still line up: the cookie sent back and the refresh token sent back
    # carry the placeholders of the values the server handed out.
    cookie = set_cookie.split(";")[0]
    assert interactions[1]["request"]["headers"]["Cookie"] == [cookie]
    refresh_form = dict(urllib.parse.parse_qsl(interactions[2]["request"]["body"]))
    assert refresh_form["refresh_token"] == recorded_grant["refresh_token"]
    assert interactions[1]["request"]["headers"]["Authorization"] == [f"bearer {recorded_grant['access_token']}"]

    # When each exchange was recorded, and no key of its own (pytest-recording cannot load one).
    assert "metadata" not in data
    stamps = [interaction["response"]["recorded_at"] for interaction in interactions]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) for stamp in stamps)
    assert stamps == sorted(stamps)
    moment = recorded_at(path)
    assert moment is not None and before.replace(microsecond=0) <= moment <= after
    assert moment == datetime.strptime(stamps[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)  # the first exchange


def test_record_mode_once_replays_an_existing_cassette(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    recorded, _ = record(cloud, path)
    written = path.read_bytes()
    served = cloud.served
    with cfreplay.use_cassette(path, record_mode="once") as active:
        assert active.offline
        replayed, _ = run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)
    assert cloud.served == served
    assert replayed.polls == recorded.polls
    assert path.read_bytes() == written


def test_record_mode_new_episodes_adds_sanitized_interactions(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    record(cloud, path)
    with cfreplay.use_cassette(path, record_mode="new_episodes") as active:
        assert not active.offline and not active.frozen
        # The recorded restage 401 replays; the extra login goes to the server.
        assert requests.post(f"{cloud.base}/v2/apps/{cloud.guid}/restage", timeout=5).status_code == 401
        extra = {"grant_type": "password", "username": cloud.username, "password": cloud.password}
        grant = requests.post(f"{cloud.base}/oauth/token?login_hint=uaa", data=extra, timeout=5).json()
    assert grant["access_token"] == cloud.access_tokens[-1]  # live, real
    assert cloud.served == 9
    assert len(yaml.safe_load(path.read_bytes())["interactions"]) == 9
    raw = path.read_bytes()
    assert all(secret.encode() not in raw for secret in planted_secrets(cloud))
    assert scan_file(path) == []


def test_a_json_cassette_records_and_replays(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    live, _ = record(cloud, path)
    document = json.loads(path.read_bytes())
    assert len(document["interactions"]) == 8
    assert all("recorded_at" in interaction["response"] for interaction in document["interactions"])
    assert all(secret.encode() not in path.read_bytes() for secret in planted_secrets(cloud))
    assert scan_file(path) == []
    cloud.stop()
    with cfreplay.use_cassette(path):
        replayed, _ = run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)
    assert replayed.polls == live.polls and replayed.info == live.info and replayed.events == live.events


def test_an_empty_cassette_file_is_recorded_under_once(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_bytes(b"")
    blocked = ""
    with warnings.catch_warnings():
        # A blocked connect leaves urllib3's socket open (see test_a_blocked_connect_leaves_no_socket_open):
        # collect it here, so its ResourceWarning cannot fail a later test.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with cfreplay.use_cassette(path, record_mode="once") as active:
                info = requests.get(f"{cloud.base}/v2/info", timeout=5).json()
        except cfreplay.NetworkBlocked as error:
            blocked = str(error)
        gc.collect()
    assert not blocked, blocked
    assert not active.offline and cloud.served == 1
    assert info["api_version"] == str(cfreplay.DEFAULT_API_VERSION)
    assert len(yaml.safe_load(path.read_bytes())["interactions"]) == 1


# ----------------------------------------------------------------------------- replay


@pytest.fixture
def recorded(cloud: FakeCloud, tmp_path: Path) -> tuple[Path, Flow]:
    path = tmp_path / "flow.yaml"
    flow, _ = record(cloud, path)
    return path, flow


def test_replay_gives_the_recorded_entities_without_touching_the_server(
    cloud: FakeCloud, recorded: tuple[Path, Flow]
) -> None:
    path, live = recorded
    served = cloud.served
    with cfreplay.use_cassette(path) as active:
        assert active.record_mode == "none" and active.offline and active.frozen
        replayed, client = run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)
        assert active.all_played and active.play_count == len(active) == 8
    assert cloud.served == served  # the server was up and heard nothing
    assert replayed.events == live.events == expected_events(cloud.guid)
    assert replayed.polls == live.polls
    assert replayed.restage == live.restage
    assert replayed.info == live.info
    # The tokens came back as their sanitized stand-ins: public fakes and placeholders.
    for grant in replayed.grants:
        assert tokens.is_test_token(grant["access_token"])
        assert redaction.is_placeholder(grant["refresh_token"])
    assert replayed.grants[0]["access_token"] != replayed.grants[1]["access_token"]
    assert client.access_token == replayed.grants[1]["access_token"]


def test_replay_runs_with_the_server_gone(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, live = recorded
    cloud.stop()
    with cfreplay.use_cassette(path):
        replayed, _ = run_flow(cloud.base, cloud.guid, cloud.username, "not the recorded password")
    assert replayed.polls == live.polls and replayed.events == live.events


INTERNET = (
    ("203.0.113.7", 443, socket.AF_INET),
    ("2001:db8::7", 443, socket.AF_INET6),
    ("8.8.8.8", 53, socket.AF_INET),
)


def _can_open(family: socket.AddressFamily) -> bool:
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
    except OSError:  # a host without IPv6
        return False
    return True


def test_replay_blocks_every_internet_connect(recorded: tuple[Path, Flow], connect_spy: list[Any]) -> None:
    path, _ = recorded
    with cfreplay.use_cassette(path):
        for host, port, family in INTERNET:
            if not _can_open(family):
                continue
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                with pytest.raises(cfreplay.NetworkBlocked) as blocked:
                    sock.connect((host, port))
                assert isinstance(blocked.value, AssertionError)
                assert f"cfreplay blocked a connection to {host}:{port}" in str(blocked.value)
                with pytest.raises(cfreplay.NetworkBlocked):
                    sock.connect_ex((host, port))
        # An HTTP client never gets as far as a socket: vcrpy answers, or refuses, first.
        with pytest.raises(cfreplay.UnmatchedRequest):
            requests.get("http://203.0.113.7/v2/info", timeout=5)
    assert connect_spy == []
    # Outside the block the guard is gone.
    assert socket.socket.connect is network._original_connect


def test_a_blocked_connect_leaves_no_socket_open(recorded: tuple[Path, Flow]) -> None:
    path, _ = recorded
    blocked = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with cfreplay.use_cassette(path):
            try:
                socket.create_connection(("203.0.113.7", 443), timeout=5).close()
            except cfreplay.NetworkBlocked:
                blocked = True
        gc.collect()
    assert blocked
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []


def test_replay_of_the_whole_flow_never_reaches_connect(
    cloud: FakeCloud, recorded: tuple[Path, Flow], connect_spy: list[Any]
) -> None:
    path, live = recorded
    served = cloud.served
    with cfreplay.use_cassette(path):
        replayed, _ = run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)
    assert connect_spy == [] and cloud.served == served
    assert replayed.polls == live.polls


def test_allow_hosts_lets_a_local_connect_through(
    cloud: FakeCloud, recorded: tuple[Path, Flow], connect_spy: list[Any]
) -> None:
    path, _ = recorded
    with cfreplay.use_cassette(path, allow_hosts=["127.0.0.1"]):
        with socket.create_connection(("127.0.0.1", cloud.port), timeout=5) as sock:
            sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(cfreplay.NetworkBlocked):
            sock.connect(("203.0.113.7", 443))
    assert connect_spy == [("127.0.0.1", cloud.port)]


# ----------------------------------------------------------------------------- sequences


def test_polling_replays_pending_pending_staged_in_order(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, _ = recorded
    cloud.stop()
    url = f"{cloud.base}/v2/apps/{cloud.guid}"
    with cfreplay.use_cassette(path, match_on=["method", "path"]):
        states = [requests.get(url, timeout=5).json()["entity"]["package_state"] for _ in STATES]
        with pytest.raises(cfreplay.UnmatchedRequest) as exhausted:
            requests.get(url, timeout=5)
    assert states == list(STATES)
    assert "it matches 3 recorded interactions, but they have all been played back" in str(exhausted.value)


def test_the_stale_token_retry_replays_in_order(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, live = recorded
    cloud.stop()
    restage = f"{cloud.base}/v2/apps/{cloud.guid}/restage"
    with cfreplay.use_cassette(path, match_on=["method", "path"]):
        login = requests.post(f"{cloud.base}/oauth/token", data={"grant_type": "password"}, timeout=5)
        first = requests.post(restage, timeout=5)
        grant = requests.post(f"{cloud.base}/oauth/token", data={"grant_type": "refresh_token"}, timeout=5)
        second = requests.post(restage, timeout=5)
    assert [login.status_code, first.status_code, grant.status_code, second.status_code] == [200, 401, 200, 201]
    assert first.json()["error_code"] == "CF-InvalidAuthToken"
    assert first.json() == json.loads(factories.error_response("InvalidAuthToken").body)
    assert second.json() == live.restage[1]
    assert login.json()["access_token"] != grant.json()["access_token"]


def test_allow_playback_repeats_reaches_vcrpy(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, _ = recorded
    cloud.stop()
    url = f"{cloud.base}/v2/apps/{cloud.guid}"
    with cfreplay.use_cassette(path, allow_playback_repeats=True, match_on=["method", "path"]):
        states = [requests.get(url, timeout=5).json()["entity"]["package_state"] for _ in range(5)]
    assert len(states) == 5 and set(states) <= set(STATES)


def test_replays_are_identical_fifty_times(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, _ = recorded
    cloud.stop()
    flows = []
    for _ in range(50):
        with cfreplay.use_cassette(path):
            flows.append(run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)[0])
    assert all(flow == flows[0] for flow in flows)


# ----------------------------------------------------------------------------- time

PAST = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def recorded_in_the_past(cloud: FakeCloud, tmp_path: Path) -> Path:
    """A cassette recorded while the clock (everyone's, the server's too) read PAST."""
    path = tmp_path / "past.yaml"
    with freezegun.freeze_time(PAST, tick=True):
        record(cloud, path)
    cloud.stop()
    return path


def test_recorded_at_is_the_recording_instant(recorded_in_the_past: Path) -> None:
    first = yaml.safe_load(recorded_in_the_past.read_bytes())["interactions"][0]["response"]["recorded_at"]
    assert first == "2021-03-04T05:06:07Z"
    assert recorded_at(recorded_in_the_past) == PAST


def test_replay_starts_the_clock_at_the_first_exchange_not_at_the_save(cloud: FakeCloud, tmp_path: Path) -> None:
    """A recording that outlived its token: replay must see the clock the first request saw."""
    path = tmp_path / "long.yaml"
    # Not ticking: freezegun 1.4 (the lowest allowed) has no tick() on a ticking freeze.
    with freezegun.freeze_time(PAST) as frozen, cfreplay.use_cassette(path, record_mode="once"):
        requests.get(f"{cloud.base}/v2/info", timeout=5)
        frozen.tick(timedelta(hours=2))  # the rest of the session, long after the first token expired
        requests.get(f"{cloud.base}/v2/info?again=1", timeout=5)
    stamps = [i["response"]["recorded_at"] for i in yaml.safe_load(path.read_bytes())["interactions"]]
    assert stamps == ["2021-03-04T05:06:07Z", "2021-03-04T07:06:07Z"]
    assert recorded_at(path) == PAST


def test_cassettes_with_metadata_still_date_their_replay(recorded: tuple[Path, Flow], cloud: FakeCloud) -> None:
    """cfreplay before per-exchange stamps wrote metadata.recorded_at: it still dates the replay."""
    path, _ = recorded
    cloud.stop()
    document = yaml.safe_load(path.read_bytes())
    for interaction in document["interactions"]:
        del interaction["response"]["recorded_at"]
    document["metadata"] = {"recorded_at": "2018-01-02T03:04:05Z", "recorded_with": "cfreplay"}
    path.write_text(yaml.safe_dump(document))
    assert recorded_at(path) == datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_without_metadata_the_first_date_header_is_the_recording_instant(
    recorded: tuple[Path, Flow], cloud: FakeCloud
) -> None:
    path, _ = recorded
    cloud.stop()
    document = yaml.safe_load(path.read_bytes())
    for interaction in document["interactions"]:
        del interaction["response"]["recorded_at"]
        interaction["response"]["headers"]["Date"] = ["Tue, 02 Jun 2020 10:20:30 GMT"]
    path.write_text(yaml.safe_dump(document))
    moment = datetime(2020, 6, 2, 10, 20, 30, tzinfo=UTC)
    assert recorded_at(path) == moment
    seen = replay_and_read_clock(path, cloud)
    assert moment.timestamp() <= seen.time < moment.timestamp() + 30


def test_re_recording_everything_updates_recorded_at(recorded_in_the_past: Path, tmp_path: Path) -> None:
    fresh = FakeCloud()
    try:
        before = datetime.now(UTC).replace(microsecond=0)
        with cfreplay.use_cassette(recorded_in_the_past, record_mode="all", drop_unused_requests=True):
            run_flow(fresh.base, fresh.guid, fresh.username, fresh.password)
    finally:
        fresh.stop()
    assert len(yaml.safe_load(recorded_in_the_past.read_bytes())["interactions"]) == 8  # only the new recording
    moment = recorded_at(recorded_in_the_past)
    assert moment is not None and moment >= before


@dataclass
class Clock:
    """What the code under test read from the clock at the end of a replayed flow."""

    time: float
    now: datetime
    token_expires_in: float
    token_expired: bool


def replay_and_read_clock(path: Path, cloud: FakeCloud, **options: Any) -> Clock:
    with cfreplay.use_cassette(path, **options):
        _, client = run_flow(cloud.base, cloud.guid, cloud.username, cloud.password)
        return Clock(time.time(), datetime.now(UTC), client.token_expires_in(), client.token_expired())


def test_replay_freezes_the_clock_at_recorded_at(recorded_in_the_past: Path, cloud: FakeCloud) -> None:
    with cfreplay.use_cassette(recorded_in_the_past) as active:
        assert active.frozen and active.recorded_at == PAST
    seen = replay_and_read_clock(recorded_in_the_past, cloud)
    assert PAST.timestamp() <= seen.time < PAST.timestamp() + 30
    assert PAST <= seen.now < PAST + timedelta(seconds=30)
    # A token valid while recording (exp = PAST + 600) is valid while replaying.
    assert not seen.token_expired and 500 < seen.token_expires_in <= 600
    assert time.time() > PAST.timestamp() + 86400  # the real clock is back


def test_the_clock_ticks_during_replay(recorded_in_the_past: Path) -> None:
    with cfreplay.use_cassette(recorded_in_the_past):
        start = time.time()
        time.sleep(0.05)
        assert time.time() - start >= 0.04


def test_freeze_time_false_keeps_the_real_clock(recorded_in_the_past: Path, cloud: FakeCloud) -> None:
    with cfreplay.use_cassette(recorded_in_the_past, freeze_time=False) as active:
        assert not active.frozen and active.recorded_at is None
    before = time.time()
    seen = replay_and_read_clock(recorded_in_the_past, cloud, freeze_time=False)
    assert before <= seen.time <= time.time()
    assert abs(seen.now.timestamp() - seen.time) < 5
    assert seen.token_expired  # what replay without the frozen clock gets wrong


def test_an_edited_recorded_at_is_the_instant_replay_sees(recorded: tuple[Path, Flow], cloud: FakeCloud) -> None:
    path, _ = recorded
    cloud.stop()
    text = path.read_text()
    stamps = {i["response"]["recorded_at"] for i in yaml.safe_load(text)["interactions"]}
    for stamp in stamps:
        text = text.replace(f"recorded_at: '{stamp}'", "recorded_at: '2019-12-31T23:59:30Z'")
    path.write_text(text)
    moment = datetime(2019, 12, 31, 23, 59, 30, tzinfo=UTC)
    assert recorded_at(path) == moment
    seen = replay_and_read_clock(path, cloud)
    assert moment.timestamp() <= seen.time < moment.timestamp() + 30
    assert moment <= seen.now < moment + timedelta(seconds=30)


# ----------------------------------------------------------------------------- unmatched requests


def test_a_missing_cassette_is_unmatched_and_stays_missing(
    cloud: FakeCloud, tmp_path: Path, connect_spy: list[Any]
) -> None:
    path = tmp_path / "nested" / "missing.yaml"
    with cfreplay.use_cassette(path) as active:
        assert active.offline and not active.frozen and active.recorded_at is None
        with pytest.raises(cfreplay.UnmatchedRequest) as raised:
            requests.get(f"{cloud.base}/v2/info", timeout=5)
    assert isinstance(raised.value, AssertionError)
    message = str(raised.value)
    assert message.startswith(
        "Can't play back this request: the cassette doesn't exist, and record_mode 'none' doesn't record new ones."
    )
    assert f"Cassette: {path}\n  record_mode: none\n" in message
    assert message.endswith(
        "How to fix: record the cassette first: run pytest with --cfreplay-record-mode=once "
        "(or use_cassette(..., record_mode='once'))."
    )
    assert not path.exists() and not path.parent.exists()
    assert cloud.served == 0 and connect_spy == []


def test_unmatched_request_message_word_for_word_and_without_secrets(
    cloud: FakeCloud, recorded: tuple[Path, Flow]
) -> None:
    path, _ = recorded
    cloud.stop()
    secret = secrets.token_urlsafe(24)
    real_jwt = jwt.encode({"sub": "someone", "exp": int(time.time()) + 600}, secrets.token_hex(32), algorithm="HS256")
    url = f"{cloud.base}/v2/apps/{cloud.guid}?access_token={secret}"
    with pytest.raises(cfreplay.UnmatchedRequest) as raised, cfreplay.use_cassette(path):
        requests.get(url, headers={"Authorization": f"bearer {real_jwt}"}, timeout=5)
    error = raised.value
    placeholder = Sanitizer().placeholder(secret)
    sanitized_url = f"{cloud.base}/v2/apps/{cloud.guid}?access_token={placeholder}"
    recorded_url = f"{cloud.base}/v2/apps/{cloud.guid}"
    differs = f"     query differs: [('access_token', '{placeholder}')] != []"
    expected = "\n".join(
        [
            "Can't play back this request: no recorded interaction matches it (the closest differ in query).",
            "record_mode 'none' doesn't record new requests.",
            "",
            f"  GET {sanitized_url}",
            "",
            f"Cassette: {path}",
            "  record_mode: none",
            "  match_on: method, scheme, host, port, path, query",
            "  interactions: 8 recorded, 0 played",
            "",
            "Closest recorded requests:",
            f"  1. GET {recorded_url}",
            differs,
            f"  2. GET {recorded_url}",
            differs,
            f"  3. GET {recorded_url}",
            differs,
            "",
            "How to fix: if the request changed on purpose, record it again with "
            "--cfreplay-record-mode=new_episodes; if what differs changes on every run (a timestamp, a random id), "
            "loosen match_on in @pytest.mark.cfreplay(...) or cfreplay_config.",
        ]
    )
    assert str(error) == expected
    assert type(error).__name__ == "UnmatchedRequest" and isinstance(error, AssertionError)
    for shown in (str(error), repr(error), str(error.args)):
        assert secret not in shown and real_jwt not in shown
        assert urllib.parse.quote(secret, safe="") not in shown
    failed = getattr(error, "failed_request", None)  # vcrpy's attribute, sanitized too
    assert failed is not None and secret not in failed.uri and real_jwt not in str(failed.headers)


@pytest.mark.parametrize("match_on", [["method", "path", "body"], ["method", "path", "headers"]])
def test_unmatched_request_hides_secrets_in_bodies_and_headers(
    cloud: FakeCloud, recorded: tuple[Path, Flow], match_on: list[str]
) -> None:
    path, _ = recorded
    cloud.stop()
    password, refresh, cookie, signature = (secrets.token_urlsafe(24) for _ in range(4))
    real_jwt = jwt.encode({"sub": "someone", "exp": int(time.time()) + 600}, secrets.token_hex(32), algorithm="HS256")
    form = {"grant_type": "password", "username": "someone-else", "password": password, "refresh_token": refresh}
    headers = {"Authorization": f"bearer {real_jwt}", "Cookie": f"JSESSIONID={cookie}", "X-Signature": signature}
    config = cfreplay.SanitizeConfig(headers=("X-Signature",))
    with (
        cfreplay.use_cassette(path, match_on=match_on, sanitize_config=config),
        pytest.raises(cfreplay.UnmatchedRequest) as raised,
    ):
        requests.post(f"{cloud.base}/oauth/token", data=form, headers=headers, timeout=5)
    shown = str(raised.value) + repr(raised.value)
    differs = "body" if "body" in match_on else "headers"
    assert f"(the closest differ in {differs})" in shown and f"     {differs} differs" in shown
    for secret in (password, refresh, cookie, signature, real_jwt):
        assert secret not in shown
    assert (f"password={urllib.parse.quote(redaction.REDACTED)}" in shown) is ("body" in match_on)


# ----------------------------------------------------------------------------- decorator


def test_decorating_a_function(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, live = recorded
    cloud.stop()

    @cfreplay.use_cassette(path)
    def poll(guid: str) -> str:
        """Reads the app's package state."""
        state: str = requests.get(f"{cloud.base}/v2/apps/{guid}", timeout=5).json()["entity"]["package_state"]
        return state

    assert poll.__name__ == "poll" and poll.__doc__ == "Reads the app's package state."
    assert poll(cloud.guid) == "PENDING"
    assert poll(cloud.guid) == "PENDING"  # a fresh cassette per call, so it starts over
    assert live.polls[0]["entity"]["package_state"] == "PENDING"

    @cfreplay.use_cassette(path)
    def reach_out() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(("203.0.113.7", 443))

    with pytest.raises(cfreplay.NetworkBlocked):
        reach_out()


def test_decorating_an_async_function(cloud: FakeCloud, recorded: tuple[Path, Flow]) -> None:
    path, live = recorded
    cloud.stop()

    @cfreplay.use_cassette(path)
    async def info() -> dict[str, Any]:
        await asyncio.sleep(0.01)  # the frozen clock leaves the event loop's own clock alone
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{cloud.base}/v2/info", timeout=5)
            document: dict[str, Any] = response.json()
            return document

    assert inspect.iscoroutinefunction(info)
    assert asyncio.run(info()) == live.info
    assert asyncio.run(info()) == live.info


# ----------------------------------------------------------------------------- bad arguments and files


def test_unknown_record_mode(tmp_path: Path) -> None:
    with pytest.raises(cfreplay.CfreplayError) as raised:
        cfreplay.use_cassette(tmp_path / "x.yaml", record_mode="sometimes")  # type: ignore[arg-type]
    assert str(raised.value) == "record_mode 'sometimes' is not one of none, once, new_episodes, all"


@pytest.mark.parametrize("hook", ["before_record_request", "before_record_response", "before_record"])
def test_sanitizing_hooks_are_cfreplays(tmp_path: Path, hook: str) -> None:
    options: dict[str, Any] = {hook: lambda value: value}
    with pytest.raises(cfreplay.CfreplayError) as raised:
        cfreplay.use_cassette(tmp_path / "x.yaml", **options)
    assert str(raised.value) == f"{hook} is cfreplay's (it sanitizes); use before_save_interaction instead"


def test_unknown_serializer(tmp_path: Path) -> None:
    with pytest.raises(cfreplay.CfreplayError) as raised:
        cfreplay.use_cassette(tmp_path / "x.yaml", serializer="toml")
    assert str(raised.value) == "serializer 'toml' is not one of yaml, json"


def test_a_corrupt_cassette_names_the_file_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: FakeCloud
) -> None:
    ran: list[tuple[object, ...]] = []

    def payload(*args: object) -> str:  # what the tag would call, were it run
        ran.append(args)
        return ""

    monkeypatch.setattr(time, "ctime", payload)
    path = tmp_path / "evil.yaml"
    path.write_text(
        "interactions:\n- !!python/object/apply:time.ctime []\nversion: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(cfreplay.CassetteError) as raised, cfreplay.use_cassette(path):
        requests.get(f"{cloud.base}/v2/info", timeout=5)
    assert raised.value.path == str(path)
    assert str(raised.value).startswith(f"{path}: refused a dangerous !!python tag at line 2")
    assert ran == [] and cloud.served == 0


# ----------------------------------------------------------------------------- the parse cache is bounded


def test_the_parse_cache_keeps_small_cassettes_within_a_byte_budget_and_lets_large_ones_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed data is about twelve times the file: the cache is bounded by the files' bytes, and a
    cassette above the budget is parsed once per enter and dropped once vcrpy has loaded it."""
    from cfreplay import cassette as cassette_files
    from cfreplay import shipped
    from cfreplay.replay import _sources

    source = shipped.path("cfreplay:restage/201")
    size = source.stat().st_size
    small = [tmp_path / f"small-{i}.yaml" for i in range(4)]
    for path in small:
        path.write_bytes(source.read_bytes())
    large = tmp_path / "large.yaml"
    data = cassette_files.load(source).data
    data["interactions"] = [copy.deepcopy(data["interactions"][0]) for _ in range(6)]
    large.write_bytes(cassette_files.dumps(data, "yaml"))
    assert large.stat().st_size > 2 * size + 1
    monkeypatch.setattr(_sources, "PARSED_BUDGET", 2 * size + 1)  # room for two small ones
    monkeypatch.setattr(_sources, "PARSED", {})
    monkeypatch.setattr(_sources, "LARGE", {})
    parses: list[Path] = []
    real_loads = cassette_files.loads

    def counting_loads(raw: bytes, *args: Any, **kwargs: Any) -> Any:
        parses.append(kwargs.get("path"))
        return real_loads(raw, *args, **kwargs)

    monkeypatch.setattr(cassette_files, "loads", counting_loads)
    restage = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"
    for path in [*small, small[-1]]:
        with cfreplay.use_cassette(path):
            assert requests.post(restage, timeout=5).status_code == 201
    assert parses == small  # each parsed once per enter (its first look is reused), the last again from the cache
    assert sum(key[1] for key in _sources.PARSED) <= _sources.PARSED_BUDGET
    assert len(_sources.PARSED) == 2
    parses.clear()
    with cfreplay.use_cassette(large, allow_playback_repeats=True):
        assert requests.post(restage, timeout=5).status_code == 201
    assert parses == [large]  # parsed once for the whole enter
    assert _sources.LARGE == {} and all(key[0] != str(large) for key in _sources.PARSED)  # let go after the load


# ----------------------------------------------------------------------------- what entering a cassette costs


def _restage_cassette(tmp_path: Path, name: str = "restage.yaml") -> Path:
    from cfreplay import shipped

    path = tmp_path / name
    path.write_bytes(shipped.path("cfreplay:restage/201").read_bytes())
    return path


def _restage_url() -> str:
    from cfreplay import shipped

    return f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"


def test_an_enter_reads_each_cassette_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is it there, is it empty, when was it recorded, did cfreplay write it, the load: one look each file."""
    from cfreplay.replay import _sources

    main, extra = _restage_cassette(tmp_path), _restage_cassette(tmp_path, "extra.yaml")
    looked: list[Path] = []
    real_versioned = _sources._versioned  # what every look at a file's data goes through

    def counting(path: Path, *args: Any) -> Any:
        looked.append(Path(path))
        return real_versioned(path, *args)

    monkeypatch.setattr(_sources, "_versioned", counting)
    with cfreplay.use_cassette(main, extra_cassettes=[extra]) as active:
        assert requests.post(_restage_url(), timeout=5).status_code == 201
    assert sorted(looked) == sorted([main, extra])
    assert active.frozen and len(active) == 2


def test_a_replay_stats_each_cassette_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is it a regular file, which version, what to compare a later write with: one stat answers all three."""
    main, extra = _restage_cassette(tmp_path), _restage_cassette(tmp_path, "extra.yaml")
    stats: list[Path] = []
    real_stat = os.stat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if isinstance(path, (str, os.PathLike)) and Path(path) in (main, extra):
            stats.append(Path(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    with cfreplay.use_cassette(main, extra_cassettes=[extra]) as active:
        assert requests.post(_restage_url(), timeout=5).status_code == 201
    monkeypatch.undo()
    assert sorted(stats) == sorted([main, extra])
    assert active.vcr_cassette is not None and active.vcr_cassette.play_count == 1


def _foreign_cassette(tmp_path: Path, interactions: int) -> Path:
    """The restage exchange *interactions* times, each at its own URI, as another tool would have written it."""
    from cfreplay import cassette as cassette_files
    from cfreplay import shipped

    data = cassette_files.load(shipped.path("cfreplay:restage/201")).data
    data.get("metadata", {}).pop("recorded_with", None)
    template = data["interactions"][0]
    template["response"].pop("recorded_at", None)
    data["interactions"] = []
    for number in range(interactions):
        interaction = copy.deepcopy(template)
        interaction["request"]["uri"] += f"?attempt={number}"
        data["interactions"].append(interaction)
    path = tmp_path / "foreign.yaml"
    path.write_bytes(cassette_files.dumps(data, "yaml"))
    assert not cassette_files.written_by_cfreplay(cassette_files.load(path).data)
    return path


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each run of the cyclic collector while the test runs."""
    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        yield runs
    finally:
        gc.callbacks.remove(count)


def test_an_enter_builds_its_data_without_the_cyclic_collector_and_leaves_it_running(
    tmp_path: Path, collections: list[int]
) -> None:
    """Parsing, scanning and vcrpy's copies are acyclic: sweeping them while they are built is wasted (and
    the parse of a large cassette, let go after the load, need never be swept at all)."""
    path = _foreign_cassette(tmp_path, 1000)
    context = cfreplay.use_cassette(path, allow_playback_repeats=True)
    collections.clear()
    active = context.__enter__()
    try:
        during = len(collections)  # (a list would be an allocation: the deferred collection would run first)
        assert gc.isenabled()
        assert requests.post(_restage_url() + "?attempt=999", timeout=5).status_code == 201
    finally:
        context.__exit__(None, None, None)
    # At most the one young collection deferred to the first allocation after the build.
    assert len(active) == 1000 and during <= 1 and gc.isenabled()


def test_an_enter_that_fails_leaves_the_collector_running_and_one_turned_off_stays_off(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [1]\nversion: 1\n")
    with pytest.raises(cfreplay.CassetteError):
        cfreplay.use_cassette(broken).__enter__()
    assert gc.isenabled()
    gc.disable()
    try:
        with cfreplay.use_cassette(_foreign_cassette(tmp_path, 3)):
            assert requests.post(_restage_url() + "?attempt=2", timeout=5).status_code == 201
        assert not gc.isenabled()  # someone else's choice
    finally:
        gc.enable()


def _bearer() -> str:
    claims = {"jti": secrets.token_hex(8), "user_name": "dev", "exp": int(time.time()) + 600, "client_id": "cf"}
    return jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")


def test_a_replay_matched_on_method_and_uri_sanitizes_only_the_uri_until_the_report_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default matchers read the method and the URI: what sanitizing the rest changes is reported all the same."""
    path = _restage_cassette(tmp_path)
    token = _bearer()
    walked: list[dict[str, Any]] = []
    real_sanitize = Sanitizer.sanitize_interaction

    def spying(self: Sanitizer, interaction: dict[str, Any], *args: Any) -> None:
        walked.append(copy.deepcopy(interaction["request"]))
        real_sanitize(self, interaction, *args)

    monkeypatch.setattr(Sanitizer, "sanitize_interaction", spying)
    reports = []
    for match_on in (None, ["method", "uri", "body"]):  # the defaults; then a matcher that reads the body
        options: dict[str, Any] = {"match_on": match_on} if match_on else {}
        with cfreplay.use_cassette(path, **options) as active:
            walked.clear()
            headers = {"Authorization": f"bearer {token}"}
            assert requests.post(_restage_url(), headers=headers, timeout=5).status_code == 201
            looked_at_headers = any(request["headers"] for request in walked)
            assert looked_at_headers is (match_on is not None)
            reports.append([(change.location, change.rule) for change in active.report.changes])
    assert any("Authorization" in location for location, _rule in reports[0])
    assert reports[0] == reports[1]  # the same changes, counted once each


def test_cassettes_with_the_same_settings_share_vcrpys_merged_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vcr

    from cfreplay.replay import recorder

    monkeypatch.setattr(recorder, "_TEMPLATES", {})
    merges: list[dict[str, Any]] = []
    real_merge = vcr.VCR.get_merged_config

    def counting(self: Any, **options: Any) -> Any:
        merges.append(options)
        return real_merge(self, **options)

    monkeypatch.setattr(vcr.VCR, "get_merged_config", counting)
    path = _restage_cassette(tmp_path)
    for _ in range(3):
        with cfreplay.use_cassette(path):
            assert requests.post(_restage_url(), timeout=5).status_code == 201
    assert len(merges) == 1
    with cfreplay.use_cassette(path, allow_playback_repeats=True) as outer:
        assert requests.post(_restage_url(), timeout=5).status_code == 201
        with cfreplay.use_cassette(_restage_cassette(tmp_path, "inner.yaml")) as inner:
            assert requests.post(_restage_url(), timeout=5).status_code == 201
            # What a cassette remembers of its file is its own, shared configuration or not.
            assert outer.vcr_cassette._serializer is not inner.vcr_cassette._serializer
            assert outer.vcr_cassette._match_on is not inner.vcr_cassette._match_on
    assert len(merges) == 2  # other options, another merge
    assert outer.vcr_cassette.allow_playback_repeats and not inner.vcr_cassette.allow_playback_repeats


def test_a_live_request_asked_about_again_is_answered_from_the_last_answer_until_it_changes() -> None:
    """vcrpy asks the request hook up to three times per lookup: one computation, unless the request changed."""
    from vcr.request import Request as VcrRequest

    from cfreplay.replay import recorder

    hooks = recorder._Hooks(Sanitizer(), writes=False)
    computed: list[str] = []
    real = hooks._uri_sanitized

    def counting(request: Any) -> Any:
        computed.append(request.uri)
        return real(request)

    hooks._uri_sanitized = counting  # type: ignore[method-assign]
    token = _bearer()
    live = VcrRequest("GET", f"https://api.example.com/v2/apps?access_token={token}", None, {"Accept": "*/*"})
    first = hooks.request(live)
    assert hooks.request(live) is first and hooks.request(live) is first
    assert len(computed) == 1 and first is not None and token not in first.uri
    live.headers["X-Extra"] = "1"  # the same object, changed: asked about anew
    assert hooks.request(live) is not None and len(computed) == 2
    other = VcrRequest("GET", live.uri, None, {"Accept": "*/*"})  # an equal request, another object
    assert hooks.request(other) is not None
    assert len(computed) == 2  # its answer was already known by its contents


def _without_blocking_on(fifo: Path, work: Any) -> None:
    """Runs *work* in a thread; fails the test if it is still blocked (on the FIFO at *fifo*) after 10 s."""
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # give the blocked reader its EOF before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the enter blocked on a FIFO")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (os.mkfifo)")
def test_a_cassette_swapped_for_a_fifo_after_the_enter_looked_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enter's stat saw a regular file; what is opened is checked again: a FIFO put there since never blocks."""
    from cfreplay.replay import _sources

    path = _restage_cassette(tmp_path)
    real_key = _sources._parsed_key

    def swapped(file: Path, *args: Any) -> Any:
        key = real_key(file, *args)  # after the stat, before the read: the file becomes a FIFO
        if Path(file) == path and path.is_file():
            path.unlink()
            os.mkfifo(path)
        return key

    monkeypatch.setattr(_sources, "_parsed_key", swapped)
    outcome: dict[str, Any] = {}

    def look() -> None:
        outcome["found"] = _sources.Looked()(path)

    _without_blocking_on(path, look)
    assert outcome["found"] is _sources.BROKEN  # loading then names the problem
    with pytest.raises(cfreplay.CassetteError, match="is not a regular file"):
        _sources.parsed(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (os.mkfifo)")
@pytest.mark.parametrize("record_mode", ["none", "once", "new_episodes", "all"])
@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_named_as_the_cassette_is_refused_in_one_line_at_enter(
    tmp_path: Path, record_mode: str, kind: str
) -> None:
    """Not taken for a missing cassette ("couldn't be loaded", or a write failing after the test): named as it is."""
    path = tmp_path / "restage.yaml"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    outcome: dict[str, Any] = {}

    def enter() -> None:
        try:
            with cfreplay.use_cassette(path, record_mode=record_mode):  # type: ignore[arg-type]
                outcome["entered"] = True
        except Exception as error:  # the outer test judges what was raised
            outcome["error"] = error

    _without_blocking_on(path, enter)
    error = outcome.get("error")
    assert isinstance(error, cfreplay.CassetteError), outcome
    fifo = "is not a regular file (a FIFO, socket or device)"
    expected = "is a directory, not a cassette" if kind == "directory" else fifo
    assert expected in str(error) and "\n" not in str(error)
    assert (path.is_dir() if kind == "directory" else path.is_fifo()) and os.listdir(tmp_path) == ["restage.yaml"]
