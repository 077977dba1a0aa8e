"""The documented exchange (apidocs, cf-release v224), reproduced byte for byte.

The expected body is committed in tests/data; the expected token is checked by its
SHA-256 so that no JWT literal is committed.  When the reference page is present beside
the repository (as in CI), the test also reads the page itself.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest

import cfreplay
from cfreplay.cf import factories
from cfreplay.cf.cfapi import SEED_API_VERSION

DATA = Path(__file__).parents[1] / "data"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "seed-restage-an-app.txt"

APP_GUID = "c462b988-8644-4bf6-83cb-32a12c3d1564"
REQUEST_ID = "b8fcfa2f-1042-49e5-9611-aae741f89f24"
STAMP = "2015-11-03T00:54:16Z"
TOKEN_SHA256 = "f4956d7c17d22d58fafc325846d324a068288f52cfe4d3d86f3be465c8de500a"

PAGE_APP = {
    "guid": APP_GUID,
    "created_at": STAMP,
    "updated_at": STAMP,
    "name": "name-2319",
    "production": False,
    "space_guid": "879e3af7-de9c-4313-96b5-46d8589d2fb1",
    "stack_guid": "9d26dede-5e3a-465c-acac-65e8b19deffb",
    "buildpack": None,
    "detected_buildpack": None,
    "environment_json": None,
    "memory": 1024,
    "instances": 1,
    "disk_quota": 1024,
    "command": None,
    "console": False,
    "debug": None,
    "staging_task_id": None,
    "health_check_type": "port",
    "health_check_timeout": None,
    "diego": False,
    "docker_image": None,
    "package_updated_at": STAMP,
    "detected_start_command": "",
    "enable_ssh": True,
    "ports": None,
}


def _response() -> cfreplay.Response:
    with cfreplay.seeded(0, now=datetime(2015, 11, 3, 0, 54, 16, tzinfo=UTC)) as seeder:
        app = factories.app_envelope("stopped", "staging", api_version=SEED_API_VERSION, seed=seeder, **PAGE_APP)
        return factories.restage_response(
            app,
            api_version=SEED_API_VERSION,
            seed=seeder,
            version="caf0179d-bac4-41db-8361-19a855b40db6",
            request_id=REQUEST_ID,
        )


def _docs_token() -> str:
    return factories.docs_access_token(
        user_id="uaa-id-396",
        email="email-292@somedomain.com",
        scope=["cloud_controller.admin"],
        aud=["cloud_controller"],
        exp=1447116856,
    )


def test_the_body_is_the_documented_body_byte_for_byte() -> None:
    expected = (DATA / "seed-restage-response-body.json").read_bytes()
    response = _response()
    assert len(expected) == 1158
    assert response.body == expected


def test_the_headers_are_the_documented_headers_in_order() -> None:
    assert _response().headers == (
        ("Content-Type", "application/json;charset=utf-8"),
        ("Location", f"/v2/apps/{APP_GUID}"),
        ("X-VCAP-Request-ID", REQUEST_ID),
        ("Content-Length", "1158"),
        ("X-Content-Type-Options", "nosniff"),
    )
    assert _response().status == 201


def test_the_documented_era_is_2_43_and_not_the_default() -> None:
    assert str(SEED_API_VERSION) == "2.43.0"
    cfreplay.validate(_response().json(), SEED_API_VERSION)
    # The default era is the newest (cfapi.DEFAULT_API_VERSION): the documented one is asked for by name.
    assert cfreplay.DEFAULT_API_VERSION > SEED_API_VERSION


def test_the_request_is_the_documented_request() -> None:
    request = factories.restage_request(APP_GUID, token=_docs_token())
    assert request.method == "POST"
    assert request.path == f"/v2/apps/{APP_GUID}/restage"
    assert [name for name, _ in request.headers] == ["Authorization", "Host", "Content-Type", "Cookie"]
    assert request.header("Host") == "example.org"
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.header("Cookie") == ""
    assert request.body == b""
    scheme, token = request.header("Authorization").split(" ")  # type: ignore[union-attr]
    assert scheme == "bearer"
    assert hashlib.sha256(token.encode()).hexdigest() == TOKEN_SHA256


def test_the_documented_token_decodes_to_the_documented_claims() -> None:
    token = _docs_token()
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "HS256"}
    assert list(jwt.get_unverified_header(token)) == ["typ", "alg"]
    with warnings.catch_warnings():  # CC's docs secret is shorter than RFC 7518 recommends
        # PyJWT 2.10 added the warning; 2.8 and 2.9 verify short keys silently.
        warnings.simplefilter("ignore", getattr(jwt.warnings, "InsecureKeyLengthWarning", UserWarning))
        claims = jwt.decode(
            token, "tokensecret", algorithms=["HS256"], options={"verify_exp": False}, audience="cloud_controller"
        )
    assert claims == {
        "user_id": "uaa-id-396",
        "email": "email-292@somedomain.com",
        "scope": ["cloud_controller.admin"],
        "aud": ["cloud_controller"],
        "exp": 1447116856,
    }
    # exp is exactly seven days after the example's created_at.
    assert claims["exp"] - 1446512056 == 7 * 86400


@pytest.mark.skipif(not REFERENCE.exists(), reason="the reference page lives beside the repository, in shared/")
def test_against_the_reference_page_itself() -> None:
    page = REFERENCE.read_text()
    body = page.split("Body\n\n", 1)[1].split("\n\nHeaders", 1)[0].encode()
    assert _response().body == body
    headers = page.rsplit("Headers\n\n", 1)[1].strip().splitlines()
    assert [f"{k}: {v}" for k, v in _response().headers] == headers
    token = re.search(r"Authorization: bearer (\S+)", page)
    assert token is not None
    assert token[1] == _docs_token()
