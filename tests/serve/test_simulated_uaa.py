"""The simulator's UAA against UAA's own token services: refreshed grants, claims, error bodies and challenges.

Driven through :meth:`Simulator.handle` (no sockets); tokens decoded without verification.
The user's password and the confidential client's secret are drawn from the seed at test time.
"""

from __future__ import annotations

import base64
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from cfreplay.cf import cfapi, tokens
from cfreplay.serve.simulator import CLIENT_CREDENTIALS_CLIENT_ID, Simulator
from cfreplay.types import Response

BASE = "http://127.0.0.1:9"
CF = {"Authorization": cfapi.CF_CLIENT_BASIC}


def post(simulator: Simulator, form: dict[str, str], headers: dict[str, str] | None = None) -> Response:
    body = urllib.parse.urlencode(form).encode()
    return simulator.handle("POST", "/oauth/token", CF if headers is None else headers, body)


def login(simulator: Simulator, **form: str) -> dict[str, Any]:
    answer = post(
        simulator, {"grant_type": "password", "username": simulator.username, "password": simulator.password, **form}
    )
    assert answer.status == 200, answer.body
    document: dict[str, Any] = answer.json()
    return document


def refresh(simulator: Simulator, refresh_token: str, **form: str) -> Response:
    return post(simulator, {"grant_type": "refresh_token", "refresh_token": refresh_token, **form})


def claims_of(token: str) -> dict[str, Any]:
    return tokens.decode_unverified(token)[1]


@pytest.fixture
def simulator() -> Simulator:
    return Simulator(seed=7, base_url=BASE)


# --------------------------------------------------------------------------- tokens


def test_a_refresh_keeps_the_password_grant_login_time_and_audience(simulator: Simulator) -> None:
    first = login(simulator)
    answer = refresh(simulator, first["refresh_token"])
    assert answer.status == 200
    refreshed = answer.json()
    before, after = claims_of(first["access_token"]), claims_of(refreshed["access_token"])
    assert after["grant_type"] == "password"  # not refresh_token (UaaTokenServices#refreshAccessToken)
    assert after["auth_time"] == before["auth_time"] and after["aud"] == before["aud"]
    assert after["client_auth_method"] == "none" and after["jti"] != before["jti"]
    id_claims = claims_of(refreshed["id_token"])
    assert id_claims["grant_type"] == "password" and id_claims["auth_time"] == before["auth_time"]
    # A refresh hands IdTokenCreator an id of its own; a login hands it the access token's.
    assert claims_of(first["id_token"])["jti"] == before["jti"]
    assert id_claims["jti"] != after["jti"]
    assert refreshed["refresh_token"] == first["refresh_token"]  # the cf client's is not rotated
    assert simulator.handle("GET", "/v2/apps", {"Authorization": f"bearer {refreshed['access_token']}"}).status == 200


def test_the_cf_clients_tokens_say_client_auth_method_none_and_a_secret_clients_do_not(simulator: Simulator) -> None:
    issued = login(simulator)
    assert claims_of(issued["access_token"])["client_auth_method"] == "none"
    assert claims_of(issued["refresh_token"])["client_auth_method"] == "none"
    assert "revocable" not in claims_of(issued["access_token"])  # jwt.revocable is off by default
    assert claims_of(issued["id_token"])["cid"] == "cf"
    credentials = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_CREDENTIALS_CLIENT_ID,
        "client_secret": simulator.client_secret,
    }
    answer = post(simulator, credentials, headers={})
    assert answer.status == 200
    claims = claims_of(answer.json()["access_token"])
    assert "client_auth_method" not in claims and claims["grant_type"] == "client_credentials"
    assert claims["aud"] == cfapi.audience(claims["scope"], CLIENT_CREDENTIALS_CLIENT_ID)


def test_a_refresh_token_is_stateless_like_uaas() -> None:
    # A JWT refresh token that is not revocable is checked by signature and claims alone: any
    # repeatable simulator with the same seed (so the same key) accepts it.
    issuer = Simulator(seed=11, base_url=BASE, repeatable=True)
    other = Simulator(seed=11, base_url=BASE, repeatable=True)
    answer = refresh(other, login(issuer)["refresh_token"])
    assert answer.status == 200 and claims_of(answer.json()["access_token"])["grant_type"] == "password"


# --------------------------------------------------------------------------- refresh errors


def bearer_challenge(error: str, description: str) -> str:
    return f'Bearer error="{error}", error_description="{description}"'


@pytest.mark.parametrize(
    ("case", "status", "error", "description"),
    [
        # TokenEndpoint, before the token services see the request.
        ("missing", 400, "invalid_request", "refresh_token parameter not provided"),
        ("empty", 400, "invalid_request", "refresh_token parameter not provided"),
        # TokenValidationService: not JWT-shaped, so looked up as an opaque token id.
        ("opaque", 401, "invalid_token", "The token expired, was revoked, or the token ID is incorrect."),
        # JwtHelper.decode (Nimbus): JWT-shaped but not a JWT.
        ("undecodable", 401, "invalid_token", "Invalid token"),
        # JwtTokenSignedByThisUAA: an access token is no refresh token; a jti is required.
        ("access token", 401, "invalid_token", "Invalid refresh token."),
        ("no jti", 401, "invalid_token", "The token must contain a jti claim."),
    ],
)
def test_refresh_errors_as_uaa_words_them(
    simulator: Simulator, case: str, status: int, error: str, description: str
) -> None:
    issued = login(simulator)
    form = {"grant_type": "refresh_token"}
    if case == "empty":
        form["refresh_token"] = ""
    elif case == "opaque":
        form["refresh_token"] = "0123456789abcdef0123456789abcdef-r"
    elif case == "undecodable":
        form["refresh_token"] = "not.a.jwt"
    elif case == "access token":
        form["refresh_token"] = issued["access_token"]
    elif case == "no jti":
        claims = claims_of(issued["refresh_token"])
        del claims["jti"]
        form["refresh_token"] = tokens.sign(claims, key=simulator._uaa._signing_key)
    answer = post(simulator, form)
    assert (answer.status, answer.json()) == (status, {"error": error, "error_description": description})
    assert answer.header("WWW-Authenticate") == (bearer_challenge(error, description) if status == 401 else None)


def test_an_expired_refresh_token_names_its_expiry_as_java_prints_a_date(simulator: Simulator) -> None:
    issued = login(simulator)
    exp = claims_of(issued["refresh_token"])["exp"]
    with freeze_time(datetime.now(UTC) + timedelta(days=31), tick=True):
        answer = refresh(simulator, issued["refresh_token"])
    # UaaTokenServices since UAA 4.9.0: "Invalid refresh token expired at " + new Date(…), UTC JVM.
    expired = datetime.fromtimestamp(exp, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    description = f"Invalid refresh token expired at {expired}"
    assert (answer.status, answer.json()) == (401, {"error": "invalid_token", "error_description": description})
    assert answer.header("WWW-Authenticate") == bearer_challenge("invalid_token", description)


def test_a_refresh_cannot_widen_the_scope(simulator: Simulator) -> None:
    issued = login(simulator, scope="openid cloud_controller.read")
    answer = refresh(simulator, issued["refresh_token"], scope="uaa.user openid")
    # InvalidScopeException(msg, tokenScopes): the requested TreeSet's toString, and the
    # refresh token's scopes as an extra "scope" key.
    assert answer.status == 400 and answer.header("WWW-Authenticate") is None
    assert answer.json() == {
        "error": "invalid_scope",
        "error_description": "Unable to narrow the scope of the client authentication to [openid, uaa.user].",
        "scope": "cloud_controller.read openid",
    }
    narrowed = refresh(simulator, issued["refresh_token"], scope="openid")
    assert narrowed.status == 200 and claims_of(narrowed.json()["access_token"])["scope"] == ["openid"]


# --------------------------------------------------------------------------- client and scope errors


def test_bad_credentials_come_before_a_bad_scope(simulator: Simulator) -> None:
    # The password-grant filter authenticates the user first, then validates the scope parameter.
    form = {"grant_type": "password", "username": simulator.username, "password": "wrong", "scope": "nope"}
    answer = post(simulator, form)
    assert (answer.status, answer.json()["error"]) == (401, "invalid_client")
    form["password"] = simulator.password
    answer = post(simulator, form)
    assert answer.status == 400 and answer.header("WWW-Authenticate") == 'Basic realm="UAA/client"'
    assert answer.json() == {
        "error": "invalid_scope",
        "error_description": "nope is invalid. Please use a valid scope name in the request",
    }


def test_scope_parameters_split_as_uaa_splits_them(simulator: Simulator) -> None:
    # OAuth2Utils#parseParameterList: a TreeSet of split("[\\s+]"): a comma separates nothing.
    plus = login(simulator, scope="openid+cloud_controller.read")
    assert claims_of(plus["access_token"])["scope"] == ["openid", "cloud_controller.read"]
    comma = post(
        simulator,
        {"grant_type": "password", "username": simulator.username, "password": simulator.password, "scope": "b,a"},
    )
    assert comma.json()["error_description"] == "b,a is invalid. Please use a valid scope name in the request"


def test_a_client_credentials_scope_outside_the_authorities(simulator: Simulator) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_CREDENTIALS_CLIENT_ID,
        "client_secret": simulator.client_secret,
        "scope": "uaa.admin cloud_controller.read",
    }
    answer = post(simulator, form, headers={})
    # UaaOauth2RequestValidator: the first invalid scope of the sorted set, and the client's
    # authorities (a HashSet) as "scope"; the endpoint's 400 carries no challenge.
    assert answer.status == 400 and answer.header("WWW-Authenticate") is None
    assert answer.json() == {
        "error": "invalid_scope",
        "error_description": "Invalid scope: uaa.admin",
        "scope": "cloud_controller.read cloud_controller.write cloud_controller.admin",
    }


@pytest.mark.parametrize(
    ("credential", "description"),
    [(b"cf", "Invalid basic authentication token"), (b"\xff\xfe", None)],
)
def test_a_malformed_basic_header_is_bad_credentials(
    simulator: Simulator, credential: bytes, description: str | None
) -> None:
    headers = {"Authorization": "Basic " + base64.b64encode(credential).decode()}
    if description is None:
        headers = {"Authorization": "Basic %%%"}
        description = "Failed to decode basic authentication token"
    answer = post(simulator, {"grant_type": "password"}, headers=headers)
    assert (answer.status, answer.json()) == (401, {"error": "invalid_client", "error_description": description})
    # UaaExceptionTranslator hard-codes the challenge's text whatever the message.
    assert answer.header("WWW-Authenticate") == (
        'Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"'
    )
