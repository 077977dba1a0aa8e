"""The simulator's route table, without sockets: which service answers which method and path."""

from __future__ import annotations

import json

import pytest

from cfreplay.cf import cfapi
from cfreplay.serve.simulator import Simulator

BASE = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator(seed=3, base_url=BASE)


def bearer(simulator: Simulator) -> dict[str, str]:
    answer = simulator.handle(
        "POST",
        "/oauth/token",
        {"Authorization": cfapi.CF_CLIENT_BASIC, "Content-Type": cfapi.FORM_CONTENT_TYPE},
        f"grant_type=password&username={simulator.username}&password={simulator.password}".encode(),
    )
    return {"Authorization": f"bearer {json.loads(answer.body)['access_token']}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/"),
        ("HEAD", "/"),
        ("GET", "/v2/info/"),
        ("POST", "/v2/apps"),
        ("GET", "/v2/apps/"),
        ("POST", "/v2/apps/restage"),
        ("PUT", "/v2/apps/{guid}"),
        ("GET", "/v2/apps/{guid}/restage"),
        ("POST", "/v2/apps/{guid}/restage/"),
        ("GET", "/v2/spaces"),
        ("GET", "/oauth/token/"),
    ],
)
def test_near_misses_are_cc_unknown_routes(simulator: Simulator, method: str, path: str) -> None:
    # Unknown routes are answered before authentication, so even an authorized request gets 404.
    guid = simulator.app("my-app").guid
    response = simulator.handle(method, path.format(guid=guid), bearer(simulator))
    assert response.status == 404
    assert json.loads(response.body)["error_code"] == "CF-NotFound"


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/v2/info"), ("get", "/v2/apps?page=1")])
def test_cc_routes_answer_their_method(simulator: Simulator, method: str, path: str) -> None:
    assert simulator.handle(method, path, bearer(simulator)).status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_uaa_answers_every_method_on_its_path_after_client_authentication(simulator: Simulator, method: str) -> None:
    unauthenticated = simulator.handle(method, "/oauth/token", {})
    assert unauthenticated.status == 401
    assert json.loads(unauthenticated.body)["error"] == "unauthorized"
    wrong_method = simulator.handle(method, "/oauth/token", {"Authorization": cfapi.CF_CLIENT_BASIC})
    assert wrong_method.status == 405
    assert json.loads(wrong_method.body)["error"] == "method_not_allowed"


def test_cc_refusals_are_answered_by_each_app_route(simulator: Simulator) -> None:
    guid = simulator.app("my-app").guid
    for method, path in (("GET", "/v2/apps"), ("GET", f"/v2/apps/{guid}"), ("POST", f"/v2/apps/{guid}/restage")):
        response = simulator.handle(method, path, {})
        assert (response.status, json.loads(response.body)["error_code"]) == (401, "CF-NotAuthenticated")


def test_a_crash_is_cc_unknown_error(monkeypatch: pytest.MonkeyPatch) -> None:
    simulator = Simulator(seed=3, base_url=BASE)

    def crash(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(simulator, "_route", crash)
    response = simulator.handle("GET", "/v2/info", {})
    assert response.status == 500
    assert json.loads(response.body)["error_code"] == "UnknownError"
    assert simulator.requests[-1].status == 500


def test_expired_tokens_are_refused_by_cc_and_fresh_ones_accepted() -> None:
    simulator = Simulator(seed=3, base_url=BASE)
    headers = bearer(simulator)
    assert simulator.handle("GET", "/v2/apps", headers).status == 200
    simulator.expire_tokens()
    refused = simulator.handle("GET", "/v2/apps", headers)
    assert (refused.status, json.loads(refused.body)["error_code"]) == (401, "CF-InvalidAuthToken")
    assert simulator.handle("GET", "/v2/apps", bearer(simulator)).status == 200
