"""The embedded CC v2 + UAA simulator, over real HTTP (run()) and as a state machine (Simulator.handle)."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from freezegun import freeze_time

import cfreplay
from cfreplay.cf import cfapi, factories, tokens
from cfreplay.serve.simulator import (
    CLIENT_CREDENTIALS_CLIENT_ID,
    DEFAULT_APP_NAMES,
    USERNAME,
    HandledRequest,
    RunningSimulator,
    Simulator,
    run,
)

CF_BASIC = {"Authorization": "Basic Y2Y6", "Accept": "application/json"}
LATEST = str(cfapi.LATEST_API_VERSION)


@pytest.fixture
def cf() -> Iterator[RunningSimulator]:
    with run(seed=0) as running:
        yield running


def login(cf: RunningSimulator, **form: str) -> requests.Response:
    data = {"grant_type": "password", "username": cf.username, "password": cf.password, "scope": "", **form}
    return requests.post(f"{cf.url}/oauth/token", data=data, headers=CF_BASIC, timeout=5)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def access_token(cf: RunningSimulator, **form: str) -> str:
    response = login(cf, **form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def restage(cf: RunningSimulator, guid: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{cf.url}/v2/apps/{guid}/restage", headers=headers, timeout=5)


def cc_error(response: requests.Response) -> tuple[int, str, int]:
    body = response.json()
    return response.status_code, body["error_code"], body["code"]


# --------------------------------------------------------------------------- discovery


def test_root_and_info_point_every_endpoint_at_the_simulator(cf: RunningSimulator) -> None:
    root = requests.get(f"{cf.url}/", timeout=5)
    links = root.json()["links"]
    assert root.status_code == 200 and root.headers["Content-Type"] == cfapi.JSON_CONTENT_TYPE
    assert links["cloud_controller_v2"] == {"href": f"{cf.url}/v2", "meta": {"version": LATEST}}
    assert links["login"]["href"] == links["uaa"]["href"] == links["self"]["href"] == cf.url
    assert links["cloud_controller_v3"]["href"] == f"{cf.url}/v3"
    assert links["logging"]["href"].startswith("ws://127.0.0.1:") and links["log_stream"]["href"] == cf.url

    info = requests.get(f"{cf.url}/v2/info", timeout=5)
    assert info.status_code == 200 and info.content.startswith(b'{"name":')  # /v2/info is compact
    assert info.json()["authorization_endpoint"] == info.json()["token_endpoint"] == cf.url
    assert info.json()["api_version"] == LATEST
    assert list(info.json()) == [f.name for f in cfapi.info_fields(cfapi.LATEST_API_VERSION)]


def test_every_response_carries_a_request_id_and_the_router_cookie(cf: RunningSimulator) -> None:
    fresh = requests.get(f"{cf.url}/v2/info", timeout=5)
    echoed = requests.get(f"{cf.url}/v2/info", headers={"X-Vcap-Request-Id": "router/id 42"}, timeout=5)
    prefix, _, generated = echoed.headers["X-VCAP-Request-ID"].partition("::")
    assert len(fresh.headers["X-VCAP-Request-ID"]) == 36 and "::" not in fresh.headers["X-VCAP-Request-ID"]
    assert prefix == "routerid42" and len(generated) == 36  # stripped to [\w-], as CC does
    assert fresh.headers["Set-Cookie"] == f"__VCAP_ID__={cf.simulator.vcap_instance_id}; Path=/; HttpOnly; Secure"
    assert fresh.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_routes_are_cc_not_found_without_a_trailing_newline(cf: RunningSimulator) -> None:
    for method, path in (("GET", "/v2/spaces"), ("GET", f"/v2/apps/{cf.simulator.app('my-app').guid}/restage")):
        response = requests.request(method, f"{cf.url}{path}", timeout=5)
        assert cc_error(response) == (404, "CF-NotFound", 10000)
        assert response.content == b'{"description":"Unknown request","error_code":"CF-NotFound","code":10000}'


# --------------------------------------------------------------------------- the happy path


def test_login_list_restage_and_poll_until_staged(cf: RunningSimulator) -> None:
    token = access_token(cf)
    listed = requests.get(f"{cf.url}/v2/apps", params={"q": "name:my-app"}, headers=bearer(token), timeout=5)
    page = listed.json()
    assert listed.status_code == 200 and page["total_results"] == 1 and page["total_pages"] == 1
    app = page["resources"][0]
    guid = app["metadata"]["guid"]
    assert app["entity"]["name"] == "my-app" and app["entity"]["space_url"].startswith("/v2/spaces/")
    cfreplay.validate(app, LATEST)

    restaged = restage(cf, guid, bearer(token))
    body = restaged.json()
    assert restaged.status_code == 201 and restaged.headers["Location"] == f"/v2/apps/{guid}"
    assert (body["entity"]["state"], body["entity"]["package_state"]) == ("STARTED", "PENDING")
    assert "space_url" not in body["entity"]  # the 201 has no relation links (reference §1.1)
    assert body["entity"]["version"] != app["entity"]["version"]

    states = []
    for _ in range(cf.simulator.polls_to_stage + 1):
        polled = requests.get(f"{cf.url}/v2/apps/{guid}", headers=bearer(token), timeout=5).json()
        cfreplay.validate(polled, LATEST)
        states.append(polled["entity"]["package_state"])
    assert states == ["PENDING", "PENDING", "STAGED"]
    assert polled["entity"]["staging_task_id"] == body["entity"]["staging_task_id"]
    assert list(polled["entity"]) == list(app["entity"])  # links back, in presenter order
    assert HandledRequest("POST", f"/v2/apps/{guid}/restage", 201) in cf.simulator.requests


def test_token_response_is_uaa_shaped_and_names_the_simulator(cf: RunningSimulator) -> None:
    response = login(cf)
    body = response.json()
    assert list(body) == ["access_token", "token_type", "id_token", "refresh_token", "expires_in", "scope", "jti"]
    assert body["expires_in"] == 43199 and body["token_type"] == "bearer"
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store"
    cookies = response.raw.headers.getlist("Set-Cookie")
    assert [c.split("=", 1)[0] for c in cookies] == ["JSESSIONID", "X-Uaa-Csrf"]
    assert cookies[0].endswith("; Path=/; Secure; HttpOnly") and "; Max-Age=86400; Expires=" in cookies[1]
    header, claims = tokens.decode_unverified(body["access_token"])
    # Signed with the simulator's own key, like a real UAA: to cfreplay's sanitizer it is a secret.
    assert not tokens.is_test_token(body["access_token"]) and header["jku"] == f"{cf.url}/token_keys"
    assert header["kid"] == "simulator-key-1"
    assert claims["iss"] == f"{cf.url}/oauth/token" and claims["jti"] == body["jti"]
    assert claims["user_name"] == claims["email"] == USERNAME
    assert claims["user_id"] == claims["sub"] == cf.simulator.user_id
    assert claims["exp"] - claims["iat"] == 43199 and abs(claims["iat"] - time.time()) < 5  # the real clock
    assert tokens.decode_unverified(login(cf).json()["access_token"])[1]["user_id"] == cf.simulator.user_id


# --------------------------------------------------------------------------- restage errors


@pytest.mark.parametrize(
    ("name", "status", "error_code", "code", "description"),
    [
        ("staging-app", 400, "CF-NotStaged", 170002, "App has not finished staging"),
        ("no-bits-app", 400, "CF-AppPackageInvalid", 150001, "The app package is invalid: bits have not been uploaded"),
        ("zero-app", 400, "CF-StagingError", 170001, "Staging error: App must have at least 1 instance to stage."),
    ],
)
def test_restage_refuses_apps_cc_cannot_stage(
    cf: RunningSimulator, name: str, status: int, error_code: str, code: int, description: str
) -> None:
    response = restage(cf, cf.simulator.app(name).guid, bearer(access_token(cf)))
    assert cc_error(response) == (status, error_code, code)
    assert response.json()["description"] == description
    assert response.content.endswith(b"}\n")  # controller-raised errors end in a newline


def test_restage_authentication_and_lookup_errors(cf: RunningSimulator) -> None:
    guid = cf.simulator.app("my-app").guid
    unknown = "00000000-0000-4000-8000-000000000000"
    read_only = access_token(cf, scope="openid cloud_controller.read")
    foreign = factories.access_token(seed=1, now="wall")  # signed with the test key, never issued here

    assert cc_error(restage(cf, guid, {})) == (401, "CF-NotAuthenticated", 10002)
    assert cc_error(restage(cf, guid, CF_BASIC)) == (401, "CF-NotAuthenticated", 10002)
    assert cc_error(restage(cf, guid, bearer("not-a-jwt"))) == (401, "CF-InvalidAuthToken", 1000)
    assert cc_error(restage(cf, guid, bearer(foreign))) == (401, "CF-InvalidAuthToken", 1000)
    assert cc_error(restage(cf, guid, bearer(read_only))) == (403, "CF-InsufficientScope", 10007)
    # CC looks the app up before it checks the token's scopes (reference §1.1).
    for token in (read_only, access_token(cf)):
        missing = restage(cf, unknown, bearer(token))
        assert cc_error(missing) == (404, "CF-AppNotFound", 100004)
        assert missing.json()["description"] == f"The app could not be found: {unknown}"
    # Reads need only cloud_controller.read, and every CC endpoint needs a token.
    assert requests.get(f"{cf.url}/v2/apps/{guid}", headers=bearer(read_only), timeout=5).status_code == 200
    assert cc_error(requests.get(f"{cf.url}/v2/apps", timeout=5)) == (401, "CF-NotAuthenticated", 10002)


def test_restaging_twice_is_not_staged_until_staging_finishes(cf: RunningSimulator) -> None:
    token = access_token(cf)
    guid = cf.simulator.app("stopped-app").guid
    assert restage(cf, guid, bearer(token)).status_code == 201
    assert cc_error(restage(cf, guid, bearer(token))) == (400, "CF-NotStaged", 170002)
    assert cf.simulator.app(guid).state == "STARTED"


# --------------------------------------------------------------------------- tokens


def test_expired_tokens_refresh_and_the_retry_succeeds(cf: RunningSimulator) -> None:
    tokens_ = login(cf).json()
    guid = cf.simulator.app("docker-app").guid
    cf.simulator.expire_tokens()

    refused = restage(cf, guid, bearer(tokens_["access_token"]))
    assert cc_error(refused) == (401, "CF-InvalidAuthToken", 1000)
    refreshed = requests.post(
        f"{cf.url}/oauth/token",
        data={"grant_type": "refresh_token", "scope": "", "refresh_token": tokens_["refresh_token"]},
        headers=CF_BASIC,
        timeout=5,
    )
    assert refreshed.status_code == 200 and refreshed.json()["refresh_token"] == tokens_["refresh_token"]
    assert refreshed.json()["access_token"] != tokens_["access_token"]
    assert restage(cf, guid, bearer(refreshed.json()["access_token"])).status_code == 201
    assert cc_error(restage(cf, guid, bearer(tokens_["access_token"]))) == (401, "CF-InvalidAuthToken", 1000)


def test_client_credentials_grant(cf: RunningSimulator) -> None:
    secret = cf.simulator.client_secret
    response = requests.post(
        f"{cf.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_CREDENTIALS_CLIENT_ID, "client_secret": secret},
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 200 and "refresh_token" not in body and "id_token" not in body
    claims = tokens.decode_unverified(body["access_token"])[1]
    assert claims["sub"] == claims["client_id"] == CLIENT_CREDENTIALS_CLIENT_ID and "user_id" not in claims
    assert restage(cf, cf.simulator.app("my-app").guid, bearer(body["access_token"])).status_code == 201
    assert secret not in json.dumps(body) and secret not in cf.password


def uaa_post(cf: RunningSimulator, path: str, data: dict[str, str], headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{cf.url}{path}", data=data, headers=headers, timeout=5)


BAD_CREDENTIALS = 'Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"'
NO_CLIENT = "An Authentication object was not found in the SecurityContext"


@pytest.mark.parametrize(
    ("case", "status", "error", "description", "challenge"),
    [
        # UAA 76.26.0+: invalid_client in the body, a hard-coded "unauthorized" in the challenge.
        ("bad password", 401, "invalid_client", "Bad credentials", BAD_CREDENTIALS),
        ("unknown user", 401, "invalid_client", "Bad credentials", BAD_CREDENTIALS),
        ("bad client secret", 401, "invalid_client", "Bad credentials", BAD_CREDENTIALS),
        (
            "no client",
            401,
            "unauthorized",
            NO_CLIENT,
            f'Basic realm="UAA/client", error="unauthorized", error_description="{NO_CLIENT}"',
        ),
        ("query string", 406, "query_string_not_allowed", "Parameters must be passed in the body of the request", None),
        (
            "cf client credentials",
            401,
            "invalid_client",
            "Unauthorized grant type: client_credentials",
            'Bearer error="invalid_client", error_description="Unauthorized grant type: client_credentials"',
        ),
        ("unknown grant", 400, "unsupported_grant_type", "Unsupported grant type: implicit-ish", None),
        (
            "bad refresh token",
            401,
            "invalid_token",
            "The token expired, was revoked, or the token ID is incorrect.",
            'Bearer error="invalid_token", error_description="The token expired, was revoked, or the token ID is '
            'incorrect."',
        ),
        (
            "foreign refresh token",
            401,
            "invalid_token",
            "Could not verify token signature.",
            'Bearer error="invalid_token", error_description="Could not verify token signature."',
        ),
        (
            "unknown scope",
            400,
            "invalid_scope",
            "cloud_controller.admin is invalid. Please use a valid scope name in the request",
            'Basic realm="UAA/client"',
        ),
    ],
)
def test_uaa_errors(
    cf: RunningSimulator, case: str, status: int, error: str, description: str, challenge: str | None
) -> None:
    password = {"grant_type": "password", "username": cf.username, "password": cf.password}
    path, data, headers = "/oauth/token", dict(password), dict(CF_BASIC)
    if case == "bad password":
        data["password"] = "wrong"
    elif case == "unknown user":
        data["username"] = "nobody@example.com"
    elif case == "bad client secret":
        # built here, not written out: a literal Basic credential is what the scanner rejects
        headers["Authorization"] = "Basic " + base64.b64encode(b"cfreplay-client:wrong").decode()
    elif case == "no client":
        del headers["Authorization"]
    elif case == "query string":
        path = f"/oauth/token?grant_type=password&username={cf.username}"
    elif case == "cf client credentials":
        data = {"grant_type": "client_credentials"}
    elif case == "unknown grant":
        data = {"grant_type": "implicit-ish"}
    elif case == "bad refresh token":
        data = {"grant_type": "refresh_token", "refresh_token": "garbage"}
    elif case == "foreign refresh token":
        forged = tokens.sign({"jti": "x-r"}, key="some-other-key")
        data = {"grant_type": "refresh_token", "refresh_token": forged}
    elif case == "unknown scope":
        data["scope"] = "cloud_controller.admin"
    response = uaa_post(cf, path, data, headers)
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}
    assert list(response.json()) == ["error", "error_description"]
    assert response.headers.get("WWW-Authenticate") == challenge
    assert "Set-Cookie" not in response.headers


def test_an_access_token_expires_on_the_real_clock() -> None:
    simulator = Simulator(base_url="http://127.0.0.1:9", token_lifetime=60)
    form = f"grant_type=password&username={simulator.username}&password={simulator.password}".encode()
    issued = simulator.handle("POST", "/oauth/token", {"Authorization": "Basic Y2Y6"}, form).json()
    headers = {"Authorization": f"bearer {issued['access_token']}"}
    assert simulator.handle("GET", "/v2/apps", headers).status == 200
    with freeze_time(datetime.now(UTC) + timedelta(seconds=120), tick=True):
        assert simulator.handle("GET", "/v2/apps", headers).json()["error_code"] == "CF-InvalidAuthToken"


# --------------------------------------------------------------------------- lists


def test_pagination_links_walk_the_real_app_set(cf: RunningSimulator) -> None:
    headers = bearer(access_token(cf))
    url: str | None = "/v2/apps?results-per-page=2"
    names, pages = [], []
    while url is not None:
        page = requests.get(f"{cf.url}{url}", headers=headers, timeout=5).json()
        pages.append(page)
        names += [resource["entity"]["name"] for resource in page["resources"]]
        url = page["next_url"]
    assert names == list(DEFAULT_APP_NAMES)
    assert [(p["total_results"], p["total_pages"]) for p in pages] == [(6, 3)] * 3
    assert pages[0]["prev_url"] is None and pages[2]["next_url"] is None
    assert pages[0]["next_url"] == "/v2/apps?order-direction=asc&page=2&results-per-page=2"
    assert pages[2]["prev_url"] == "/v2/apps?order-direction=asc&page=2&results-per-page=2"

    desc = requests.get(
        f"{cf.url}/v2/apps", params={"order-direction": "desc", "results-per-page": "4"}, headers=headers, timeout=5
    ).json()
    assert [r["entity"]["name"] for r in desc["resources"]] == list(reversed(DEFAULT_APP_NAMES))[:4]
    assert desc["next_url"] == "/v2/apps?order-direction=desc&page=2&results-per-page=4"

    beyond = requests.get(f"{cf.url}/v2/apps?page=9&results-per-page=2", headers=headers, timeout=5).json()
    assert beyond["resources"] == [] and beyond["prev_url"] == "/v2/apps?order-direction=asc&page=8&results-per-page=2"


def test_list_filters(cf: RunningSimulator) -> None:
    headers = bearer(access_token(cf))
    space = cf.simulator.space_guid
    queries = [f"space_guid:{space}", "name IN my-app,zero-app,nonexistent"]
    params: dict[str, str | list[str]] = {"q": queries, "results-per-page": "1"}
    page = requests.get(f"{cf.url}/v2/apps", params=params, headers=headers, timeout=5).json()
    assert page["total_results"] == 2 and page["resources"][0]["entity"]["name"] == "my-app"
    assert page["next_url"] == cfapi.page_url(cfapi.APPS_PATH, 2, 1, q=queries)
    single = requests.get(f"{cf.url}/v2/apps", params={"q": "name:docker-app"}, headers=headers, timeout=5).json()
    assert [r["entity"]["docker_image"] is not None for r in single["resources"]] == [True]
    none = requests.get(f"{cf.url}/v2/apps", params={"q": "stack_guid:nope"}, headers=headers, timeout=5).json()
    assert (none["total_results"], none["total_pages"], none["resources"]) == (0, 1, [])


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("results-per-page=101", "The query parameter is invalid: results_per_page must be <= 100"),
        ("results-per-page=0", "The query parameter is invalid: results_per_page must be >= 1"),
        ("q=memory:1024", "The query parameter is invalid: memory"),
    ],
)
def test_bad_list_queries(cf: RunningSimulator, query: str, description: str) -> None:
    response = requests.get(f"{cf.url}/v2/apps?{query}", headers=bearer(access_token(cf)), timeout=5)
    assert cc_error(response) == (400, "CF-BadQueryParameter", 10005)
    assert response.json()["description"] == description


# --------------------------------------------------------------------------- the world and the server


def world(simulator: Simulator) -> list[tuple[str, str]]:
    return [(app.guid, app.name) for app in simulator.apps]


def test_the_seed_fixes_the_world() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    first, again = (Simulator(seed=7, base_url="http://127.0.0.1:1", now=moment) for _ in range(2))
    other = Simulator(seed=8, base_url="http://127.0.0.1:1", now=moment)
    assert world(first) == world(again) and [app.envelope for app in first.apps] == [a.envelope for a in again.apps]
    assert (first.password, first.client_secret, first.user_id) == (again.password, again.client_secret, again.user_id)
    assert [name for _, name in world(first)] == list(DEFAULT_APP_NAMES) == [name for _, name in world(other)]
    assert {guid for guid, _ in world(first)}.isdisjoint(guid for guid, _ in world(other))
    assert first.password != other.password and len(first.password) >= 16
    # Wall-clock simulators draw the same guids and names too.
    assert world(Simulator(seed=7, base_url="http://127.0.0.1:1")) == world(first)


def test_apps_follow_the_api_version() -> None:
    old = Simulator(seed=1, base_url="http://127.0.0.1:1", api_version="2.43.0")
    for app in old.apps:
        cfreplay.validate(app.envelope, "2.43.0")
    form = f"grant_type=password&username={old.username}&password={old.password}".encode()
    token = old.handle("POST", "/oauth/token", {"Authorization": "Basic Y2Y6"}, form).json()["access_token"]
    got = old.handle("GET", f"/v2/apps/{old.app('my-app').guid}", {"Authorization": f"bearer {token}"})
    assert got.body.startswith(b'{\n  "metadata"')  # 2.43 pretty-prints
    # No package check before 2.63 and no instance check before 2.93: both restage.
    for name in ("no-bits-app", "zero-app"):
        restaged = old.handle("POST", f"/v2/apps/{old.app(name).guid}/restage", {"Authorization": f"bearer {token}"})
        assert restaged.status == 201


def test_staging_can_take_time_instead_of_polls() -> None:
    simulator = Simulator(base_url="http://127.0.0.1:1", staging_seconds=0)
    form = f"grant_type=password&username={simulator.username}&password={simulator.password}".encode()
    token = simulator.handle("POST", "/oauth/token", {"Authorization": "Basic Y2Y6"}, form).json()["access_token"]
    headers, guid = {"Authorization": f"bearer {token}"}, simulator.app("my-app").guid
    assert simulator.handle("POST", f"/v2/apps/{guid}/restage", headers).status == 201
    assert simulator.handle("GET", f"/v2/apps/{guid}", headers).json()["entity"]["package_state"] == "STAGED"


def test_the_server_listens_on_loopback_only_and_stops_cleanly() -> None:
    session = requests.Session()
    with run() as running:
        host, port = running.address
        assert (host, running.url) == ("127.0.0.1", f"http://127.0.0.1:{port}")
        assert session.get(f"{running.url}/v2/info", timeout=5).status_code == 200  # a kept-alive connection
        # Refused on IPv6 loopback (or IPv6 is off): OSError either way, whatever its text.
        with pytest.raises(OSError):  # noqa: PT011
            socket.create_connection(("::1", port), timeout=1).close()
    with session, pytest.raises(requests.ConnectionError):
        session.get(f"{running.url}/v2/info", timeout=5)


def test_serve_shuts_down_on_sigterm() -> None:
    code = "from cfreplay.serve.simulator import serve; serve(port=0, ready=print)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            assert requests.get(f"{url}/v2/info", timeout=5).json()["token_endpoint"] == url
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert time.monotonic() - started < 2
        finally:
            if process.poll() is None:
                process.kill()


# --------------------------------------------------------------------------- cf-python-client


def test_cloudfoundry_client_drives_the_simulator(cf: RunningSimulator) -> None:
    client_module: Any = pytest.importorskip("cloudfoundry_client.client")
    client = client_module.CloudFoundryClient(cf.url)
    client.init_with_user_credentials(cf.username, cf.password)
    guid = cf.simulator.app("my-app").guid

    app = client.v2.apps.get(guid)
    assert (app["entity"]["name"], app["entity"]["package_state"]) == ("my-app", "STAGED")
    assert client.v2.apps.restage(guid)["entity"]["package_state"] == "PENDING"
    assert [a["entity"]["name"] for a in client.v2.apps.list(**{"results-per-page": 4})] == list(DEFAULT_APP_NAMES)

    cf.simulator.expire_tokens()
    docker = cf.simulator.app("docker-app").guid
    assert client.v2.apps.restage(docker)["entity"]["package_state"] == "PENDING"
    assert cf.simulator.requests[-3:] == [
        HandledRequest("POST", f"/v2/apps/{docker}/restage", 401),
        HandledRequest("POST", "/oauth/token", 200),
        HandledRequest("POST", f"/v2/apps/{docker}/restage", 201),
    ]


# --------------------------------------------------------------------------- names instead of a port


def test_run_under_names_answers_there_and_names_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[Any] = []
    resolver = socket.getaddrinfo

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return resolver(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with run(seed=0, url="http://api.sim.invalid", uaa_url="http://uaa.sim.invalid") as cf:
        port = cf.address[1]
        assert (cf.url, cf.uaa_url) == ("http://api.sim.invalid", "http://uaa.sim.invalid")
        root = requests.get(f"{cf.url}/", timeout=5)
        links = root.json()["links"]
        assert links["self"]["href"] == cf.url and links["login"]["href"] == links["uaa"]["href"] == cf.uaa_url
        info = requests.get(f"{cf.url}/v2/info", timeout=5).json()
        assert info["authorization_endpoint"] == info["token_endpoint"] == cf.uaa_url
        assert info["doppler_logging_endpoint"] == "ws://api.sim.invalid"
        granted = requests.post(
            f"{info['token_endpoint']}/oauth/token",
            data={"grant_type": "password", "username": cf.username, "password": cf.password},
            headers=CF_BASIC,
            timeout=5,
        )
        header, claims = tokens.decode_unverified(granted.json()["access_token"])
        assert claims["iss"] == "http://uaa.sim.invalid/oauth/token"
        assert header["jku"] == "http://uaa.sim.invalid/token_keys"
        for answer in (root, granted):
            assert f":{port}".encode() not in answer.content and b"127.0.0.1" not in answer.content
            assert not any(f":{port}" in value for value in answer.headers.values())
        assert [r.path for r in cf.simulator.requests] == ["/", "/v2/info", "/oauth/token"]
    assert socket.getaddrinfo is spy  # the route ends with the block…
    assert looked_up == []  # …and no resolver was ever asked for the names


def test_cloudfoundry_client_follows_the_names() -> None:
    client_module: Any = pytest.importorskip("cloudfoundry_client.client")
    with run(seed=0, url="http://api.sim.invalid", uaa_url="http://uaa.sim.invalid") as named:
        client = client_module.CloudFoundryClient(named.url)
        client.init_with_user_credentials(named.username, named.password)
        assert client.v2.apps.get(named.simulator.app("my-app").guid)["entity"]["name"] == "my-app"
        assert ("POST", "/oauth/token", 200) in named.simulator.requests


@pytest.mark.parametrize("url", ["https://api.sim.invalid", "http://api.sim.invalid/v2", "http://", "api.sim.invalid"])
def test_run_refuses_urls_it_cannot_serve_under(url: str) -> None:
    with pytest.raises(ValueError, match="plain HTTP at the root of a host"), run(url=url):
        pytest.fail("served")


def exchange(simulator: Simulator) -> list[tuple[int, tuple[tuple[str, str], ...], bytes]]:
    """Log in, list, restage, poll, refresh after expiry: every answer, whole."""
    form = f"grant_type=password&username={simulator.username}&password={simulator.password}".encode()
    answers = [simulator.handle("POST", "/oauth/token", {"Authorization": "Basic Y2Y6"}, form)]
    grant = answers[0].json()
    bearer_ = {"Authorization": f"bearer {grant['access_token']}"}
    guid = simulator.app("my-app").guid
    answers += [
        simulator.handle("GET", "/v2/info", {}),
        simulator.handle("GET", "/v2/apps?results-per-page=2", bearer_),
        simulator.handle("POST", f"/v2/apps/{guid}/restage", bearer_),
        *(simulator.handle("GET", f"/v2/apps/{guid}", bearer_) for _ in range(3)),
    ]
    simulator.expire_tokens()
    refresh = f"grant_type=refresh_token&refresh_token={grant['refresh_token']}".encode()
    answers += [
        simulator.handle("GET", f"/v2/apps/{guid}", bearer_),
        simulator.handle("POST", "/oauth/token", {"Authorization": "Basic Y2Y6"}, refresh),
    ]
    return [(answer.status, answer.headers, answer.body) for answer in answers]


def test_repeatable_simulators_answer_the_same_requests_byte_for_byte() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    with freeze_time(moment):
        first, again = (
            exchange(Simulator(seed=3, base_url="http://api.sim.invalid", repeatable=True)) for _ in range(2)
        )
        fresh = exchange(Simulator(seed=3, base_url="http://api.sim.invalid"))
        other = exchange(Simulator(seed=4, base_url="http://api.sim.invalid", repeatable=True))
    assert [status for status, _, _ in first] == [200, 200, 200, 201, 200, 200, 200, 401, 200]
    assert first == again
    # Not repeatable: request ids, tokens and cookies are fresh every time.
    assert [h for _, h, _ in fresh] != [h for _, h, _ in first] and fresh[0][2] != first[0][2]
    assert other[0][2] != first[0][2]
