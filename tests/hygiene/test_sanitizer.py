"""The sanitizer against a leak corpus built at test time: one case per place secrets hide.

Secrets are generated here (never committed in clear).  Each case checks that the
secret is gone from the written bytes and from every decoding of them, that the
cassette still loads in vcrpy, and that what is not secret is unchanged.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
import secrets
import urllib.parse
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import jwt
import pytest
import vcr.serialize
from hypothesis import given
from vcr.serializers import jsonserializer, yamlserializer

from cfreplay import cassette
from cfreplay.cf import factories, tokens
from cfreplay.errors import CassetteError, CfreplayError
from cfreplay.hygiene import redaction
from cfreplay.hygiene.sanitizer import Report, SanitizeConfig, Sanitizer

Interaction = dict[str, Any]


def secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(24)


def real_jwt(**claims: Any) -> str:
    """A JWT signed with a key nobody publishes: to the sanitizer, a captured secret."""
    body = {
        "jti": secrets.token_hex(16),
        "sub": "5f0c3b1e-8a0b-4c56-9f3e-2b1d0c9e8a71",
        "scope": ["cloud_controller.read"],
        "client_id": "cf",
        "user_name": f"{secrets.token_hex(4)}@corp.example",
        "email": f"{secrets.token_hex(4)}@corp.example",
        "iat": 1700000000,
        "exp": 1700043199,
        **claims,
    }
    return jwt.encode(body, secrets.token_hex(32), algorithm="HS256", headers={"kid": "key-1"})


def interaction(
    *,
    method: str = "GET",
    uri: str = "https://api.sys.example.com/v2/apps",
    request_headers: dict[str, list[str]] | None = None,
    request_body: str | bytes | None = None,
    status: int = 200,
    response_headers: dict[str, list[str]] | None = None,
    response_body: str | bytes = '{"total_results": 0}',
) -> Interaction:
    return {
        "request": {
            "body": request_body,
            "headers": request_headers or {"Accept": ["application/json"]},
            "method": method,
            "uri": uri,
        },
        "response": {
            "body": {"string": response_body},
            "headers": response_headers or {"Content-Type": ["application/json;charset=utf-8"]},
            "status": {"code": status, "message": "OK"},
        },
    }


def data_of(*interactions: Interaction) -> dict[str, Any]:
    return {"interactions": list(interactions), "version": 1}


def views(raw: bytes) -> list[str]:
    """The written bytes and every decoding of them a reader could apply."""
    text = raw.decode("utf-8", errors="replace")
    found = [text, urllib.parse.unquote(text), urllib.parse.unquote_plus(text)]
    found.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text))
    found.append(text.replace("\\/", "/"))
    for blob in re.findall(r"[A-Za-z0-9+/=\n ]{24,}", text):
        try:
            decoded = base64.b64decode(re.sub(r"\s", "", blob))
        except ValueError:
            continue
        for candidate in (decoded, _maybe_decompress(decoded)):
            if candidate:
                found.append(candidate.decode("utf-8", errors="replace"))
    return found


def _maybe_decompress(data: bytes) -> bytes | None:
    for decode in (gzip.decompress, zlib.decompress, lambda d: zlib.decompress(d, -15)):
        try:
            return decode(data)
        except (OSError, EOFError, zlib.error):
            continue
    return None


def sanitized_bytes(data: dict[str, Any], fmt: str = "yaml", **config: Any) -> tuple[bytes, Report, dict[str, Any]]:
    copied = copy.deepcopy(data)
    report = Sanitizer(SanitizeConfig(**config)).sanitize_data(copied)
    return cassette.dumps(copied, fmt), report, copied  # type: ignore[arg-type]


def assert_gone(raw: bytes, *hidden: str) -> None:
    for value in hidden:
        for view in views(raw):
            assert value not in view


def assert_loads_in_vcrpy(raw: bytes, fmt: str) -> None:
    serializer = yamlserializer if fmt == "yaml" else jsonserializer
    requests_, responses = vcr.serialize.deserialize(raw.decode("utf-8"), serializer)
    assert len(requests_) == len(responses) >= 1


# ------------------------------------------------------------------------------ the corpus

Case = Callable[[], tuple[Interaction, list[str], Callable[[Interaction], None]]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


def unchanged(path: tuple[str, ...], value: Any) -> Callable[[Interaction], None]:
    def check(result: Interaction) -> None:
        node: Any = result
        for key in path:
            node = node[key]
        assert node == value

    return check


def _both(*checks: Callable[[Interaction], None]) -> Callable[[Interaction], None]:
    def check(result: Interaction) -> None:
        for each in checks:
            each(result)

    return check


@case("bearer-jwt-lowercase")
def _() -> Any:
    token = real_jwt()
    i = interaction(request_headers={"Authorization": [f"bearer {token}"], "Accept": ["application/json"]})
    email = tokens.decode_unverified(token)[1]["email"]
    return i, [token, email, token.split(".")[1]], unchanged(("request", "headers", "Accept"), ["application/json"])


@case("bearer-opaque-uppercase-scheme")
def _() -> Any:
    value = secret()
    i = interaction(request_headers={"AUTHORIZATION": [f"BEARER {value}"]})

    def check(result: Interaction) -> None:
        assert result["request"]["headers"]["AUTHORIZATION"][0].startswith("BEARER cfreplay-redacted-")

    return i, [value], check


@case("proxy-authorization-basic")
def _() -> Any:
    client_secret = secret()
    basic = base64.b64encode(f"autoscaler:{client_secret}".encode()).decode()
    i = interaction(request_headers={"Proxy-Authorization": [f"Basic {basic}"], "Authorization": ["Basic Y2Y6"]})

    def check(result: Interaction) -> None:
        headers = result["request"]["headers"]
        assert headers["Authorization"] == ["Basic Y2Y6"]  # the cf CLI's public client stays
        _, value = headers["Proxy-Authorization"][0].split()
        assert base64.b64decode(value) == b"autoscaler:***"

    return i, [client_secret, basic], check


@case("cookies-request-and-set-cookie")
def _() -> Any:
    session, vcap, csrf = secret(), secret(), secret()
    i = interaction(
        request_headers={"Cookie": [f"JSESSIONID={session}; __VCAP_ID__={vcap}"]},
        response_headers={
            "Set-Cookie": [f"JSESSIONID={session}; Path=/; Secure; HttpOnly", f"X-Uaa-Csrf={csrf}; Max-Age=86400"],
        },
    )

    def check(result: Interaction) -> None:
        cookie = result["request"]["headers"]["Cookie"][0]
        set_cookie = result["response"]["headers"]["Set-Cookie"]
        assert cookie.startswith("JSESSIONID=cfreplay-redacted-") and "; __VCAP_ID__=cfreplay-redacted-" in cookie
        assert set_cookie[0].endswith("; Path=/; Secure; HttpOnly")
        assert set_cookie[1].endswith("; Max-Age=86400")
        # the session echoed back maps to the same placeholder
        assert cookie.split(";")[0] == set_cookie[0].split(";")[0]

    return i, [session, vcap, csrf], check


@case("location-code-and-presigned-url")
def _() -> Any:
    code, signature, credential = secret(), secret(), secret()
    location = (
        f"https://blobstore.example.com/droplets/x?X-Amz-Credential={credential}&X-Amz-Expires=3600"
        f"&X-Amz-Signature={signature}"
    )
    i = interaction(
        status=302,
        response_headers={"Location": [location]},
        uri="https://login.sys.example.com/oauth/authorize?client_id=ssh-proxy&response_type=code",
    )
    i["response"]["headers"]["Location"].append(f"https://app.example.com/cb?code={code}&state=abc")

    def check(result: Interaction) -> None:
        loc = result["response"]["headers"]["Location"]
        assert "X-Amz-Expires=3600" in loc[0]
        assert loc[1].endswith("&state=abc")

    return i, [code, signature, credential], check


@case("www-authenticate-jwt")
def _() -> Any:
    token = real_jwt()
    i = interaction(
        status=401,
        response_headers={"WWW-Authenticate": [f'Bearer error="invalid_token", error_description="{token}"']},
    )

    def check(result: Interaction) -> None:
        assert result["response"]["headers"]["WWW-Authenticate"][0].startswith('Bearer error="invalid_token"')

    return i, [token], check


@case("route-service-signature-header")
def _() -> Any:
    value = secret()
    return interaction(request_headers={"X-CF-Proxy-Signature": [value]}), [value], lambda r: None


@case("uri-query-fragment-userinfo")
def _() -> Any:
    token, password, refresh = secret(), secret(), secret()
    uri = f"https://admin:{password}@api.sys.example.com/v2/apps?q=name%3Aweb&access_token={token}#refresh_token={refresh}"
    i = interaction(uri=uri)

    def check(result: Interaction) -> None:
        assert result["request"]["uri"].startswith("https://***:***@api.sys.example.com/v2/apps?q=name%3Aweb&")

    return i, [token, password, refresh], check


@case("next-url-in-json")
def _() -> Any:
    token = secret()
    body = json.dumps({"total_results": 120, "next_url": f"/v2/apps?page=2&access_token={token}", "resources": []})
    i = interaction(response_body=body)

    def check(result: Interaction) -> None:
        document = json.loads(result["response"]["body"]["string"])
        assert document["total_results"] == 120
        assert document["next_url"].startswith("/v2/apps?page=2&access_token=cfreplay-redacted-")

    return i, [token], check


@case("uaa-form-body")
def _() -> Any:
    values = {name: secret() for name in ("password", "client_secret", "code", "passcode", "assertion", "token")}
    refresh = real_jwt(jti=secrets.token_hex(16) + "-r")
    body = "grant_type=password&username=ada&" + "&".join(f"{k}={v}" for k, v in values.items())
    body += f"&refresh_token={refresh}"
    i = interaction(
        method="POST",
        uri="https://uaa.sys.example.com/oauth/token",
        request_headers={"Content-Type": ["application/x-www-form-urlencoded"], "Authorization": ["Basic Y2Y6"]},
        request_body=body,
    )

    def check(result: Interaction) -> None:
        form = urllib.parse.parse_qs(result["request"]["body"])
        assert form["grant_type"] == ["password"]
        assert form["username"] == ["ada"]
        assert form["password"] == ["***"]
        assert form["client_secret"] == ["***"]
        assert redaction.is_placeholder(form["code"][0])
        assert tokens.is_test_token(form["refresh_token"][0])

    return i, [*values.values(), refresh], check


@case("uaa-token-response")
def _() -> Any:
    access, refresh = real_jwt(), real_jwt()
    jti = tokens.decode_unverified(access)[1]["jti"]
    body = json.dumps(
        {"access_token": access, "token_type": "bearer", "id_token": real_jwt(), "refresh_token": refresh,
         "expires_in": 43199, "scope": "openid cloud_controller.read", "jti": jti}
    )  # fmt: skip
    i = interaction(method="POST", uri="https://uaa.sys.example.com/oauth/token", response_body=body)

    def check(result: Interaction) -> None:
        document = json.loads(result["response"]["body"]["string"])
        assert list(document) == [
            "access_token",
            "token_type",
            "id_token",
            "refresh_token",
            "expires_in",
            "scope",
            "jti",
        ]
        assert document["token_type"] == "bearer" and document["expires_in"] == 43199
        header, claims = tokens.decode_unverified(document["access_token"])
        assert tokens.is_test_token(document["access_token"])
        assert header["kid"] == tokens.TEST_KEY_ID
        assert claims["jti"] == document["jti"]  # the token id still matches its token
        assert (
            claims["exp"] == 1700043199 and claims["iat"] == 1700000000 and claims["scope"] == ["cloud_controller.read"]
        )
        assert claims["client_id"] == "cf"

    return i, [access, refresh, jti], check


@case("nested-json-secrets")
def _() -> Any:
    password, broker, client = secret(), secret(), secret()
    body = json.dumps(
        {"entity": {"name": "broker", "auth_username": "admin", "auth_password": broker,
                    "nested": [{"config": {"password": password, "port": 5432}}], "client_secret": client}}
    )  # fmt: skip
    i = interaction(method="POST", uri="https://api.sys.example.com/v2/service_brokers", request_body=body)

    def check(result: Interaction) -> None:
        document = json.loads(result["request"]["body"])["entity"]
        assert document["auth_username"] == "admin"
        assert document["nested"][0]["config"] == {"password": "***", "port": 5432}
        assert document["auth_password"] == "***"

    return i, [password, broker, client], check


@case("docker-credentials")
def _() -> Any:
    docker_password, docker_user = secret(), secret()
    request = json.dumps({"name": "web", "docker_image": "org/web:1", "docker_credentials_json": {
        "docker_user": docker_user, "docker_password": docker_password, "docker_email": "a@b.example"}})  # fmt: skip
    response = json.dumps({"entity": {"docker_credentials": {"username": docker_user, "password": "***"}}})
    i = interaction(method="POST", request_body=request, response_body=response)

    def check(result: Interaction) -> None:
        assert json.loads(result["request"]["body"])["docker_credentials_json"] == {
            "redacted_message": "[PRIVATE DATA HIDDEN]"
        }
        assert json.loads(result["request"]["body"])["docker_image"] == "org/web:1"
        entity = json.loads(result["response"]["body"]["string"])["entity"]
        # CC >= 2.82 shows the user name and "***" itself: that is what a cassette keeps.
        assert entity["docker_credentials"] == {"username": docker_user, "password": "***"}

    return i, [docker_password], check


@case("service-credentials-and-vcap-services")
def _() -> Any:
    uri, password = f"postgres://u:{secret()}@db.example:5432/x", secret()
    binding = {"entity": {"app_guid": "a", "credentials": {"uri": uri, "password": password}}}
    env = {"system_env_json": {"VCAP_SERVICES": {"postgres": [{"name": "db", "credentials": {"password": password}}]}}}
    i = interaction(response_body=json.dumps({"resources": [binding], "env": env}))

    def check(result: Interaction) -> None:
        document = json.loads(result["response"]["body"]["string"])
        assert document["resources"][0]["entity"] == {
            "app_guid": "a",
            "credentials": {"redacted_message": "[PRIVATE DATA HIDDEN]"},
        }
        service = document["env"]["system_env_json"]["VCAP_SERVICES"]["postgres"][0]
        assert service == {"name": "db", "credentials": {"redacted_message": "[PRIVATE DATA HIDDEN]"}}

    return i, [uri.split(":")[2].split("@")[0], password], check


@case("environment-json")
def _() -> Any:
    db_password, token, pw = secret(), real_jwt(), secret()
    env = {"DB_PASSWORD": db_password, "LOG_LEVEL": "info", "UPSTREAM": f"Bearer {token}",
           "DATABASE_URL": f"postgres://app:{pw}@db.example/x"}  # fmt: skip
    i = interaction(response_body=json.dumps({"entity": {"name": "web", "environment_json": env}}, indent=2))

    def check(result: Interaction) -> None:
        env_after = json.loads(result["response"]["body"]["string"])["entity"]["environment_json"]
        assert env_after["DB_PASSWORD"] == "***"
        assert env_after["LOG_LEVEL"] == "info"
        assert env_after["DATABASE_URL"] == "postgres://***:***@db.example/x"
        assert result["response"]["body"]["string"].startswith('{\n  "entity": {\n')  # layout kept

    return i, [db_password, token, pw], check


@case("environment-variable-group-endpoint")
def _() -> Any:
    value = secret()
    i = interaction(
        uri="https://api.sys.example.com/v2/config/environment_variable_groups/running",
        response_body=json.dumps({"SIGNING_SECRET": value, "TZ": "UTC"}),
    )
    return i, [value], lambda r: None


@case("jwt-in-error-description-and-path")
def _() -> Any:
    token, other = real_jwt(), real_jwt()
    body = json.dumps({"description": f"Invalid token {token}", "error_code": "CF-InvalidAuthToken", "code": 1000})
    i = interaction(uri=f"https://api.sys.example.com/v2/tokens/{other}/revoke", status=401, response_body=body)

    def check(result: Interaction) -> None:
        document = json.loads(result["response"]["body"]["string"])
        assert document["code"] == 1000 and document["error_code"] == "CF-InvalidAuthToken"

    return i, [token, other], check


@case("json-escaped-jwt-in-text")
def _() -> Any:
    token = real_jwt()
    escaped = "".join(f"\\u{ord(c):04x}" if c in "ey" else c for c in token)
    i = interaction(
        response_headers={"Content-Type": ["text/html"]}, response_body=f"<script>var t = '{escaped}';</script>"
    )
    return i, [token, escaped], lambda r: None


@case("json-escapes-in-json")
def _() -> Any:
    token, password = real_jwt(), secret()
    raw = '{"hook": "https:\\/\\/ci:' + password + '@ci.example\\/x", "t": "\\u0065' + token[1:] + '"}'
    i = interaction(response_body=raw)
    return i, [token, password], lambda r: None


@case("escaped-slash-userinfo-in-text")
def _() -> Any:
    password = secret()
    body = 'var hook = "https:\\/\\/ci:' + password + '@ci.example\\/x";'
    i = interaction(response_headers={"Content-Type": ["application/javascript"]}, response_body=body)

    def check(result: Interaction) -> None:
        assert result["response"]["body"]["string"] == 'var hook = "https:\\/\\/***:***@ci.example\\/x";'

    return i, [password], check


@case("base64-wrapped-jwt")
def _() -> Any:
    token = real_jwt()
    blob = base64.b64encode(json.dumps({"auth": f"Bearer {token}"}).encode()).decode()
    i = interaction(response_body=json.dumps({"state": blob}))
    return i, [token, blob], lambda r: None


@case("gzip-response")
def _() -> Any:
    token = real_jwt()
    raw = gzip.compress(json.dumps({"access_token": token, "token_type": "bearer"}).encode())
    i = interaction(
        response_headers={"Content-Encoding": ["gzip"], "Content-Length": [str(len(raw))]}, response_body=raw
    )

    def check(result: Interaction) -> None:
        headers = result["response"]["headers"]
        body = result["response"]["body"]["string"]
        assert "Content-Encoding" not in headers
        assert headers["Content-Length"] == [str(len(body.encode()))]
        assert json.loads(body)["token_type"] == "bearer"

    return i, [token], check


@case("deflate-response")
def _() -> Any:
    password = secret()
    raw = zlib.compress(json.dumps({"password": password}).encode())
    i = interaction(response_headers={"Content-Encoding": ["deflate"]}, response_body=raw)
    return i, [password], lambda r: None


@case("binary-body")
def _() -> Any:
    token = real_jwt()
    raw = f"token={token}\n".encode() + bytes([0xC3, 0xA9])
    i = interaction(response_headers={"Content-Type": ["text/plain"]}, response_body=raw)

    def check(result: Interaction) -> None:
        assert isinstance(result["response"]["body"]["string"], bytes)
        assert result["response"]["body"]["string"].endswith(bytes([0xC3, 0xA9]))

    return i, [token], check


# vcrpy's JSON serializer cannot hold a non-UTF-8 body, so that case is YAML only.
CORPUS = [(name, fmt) for name in sorted(CASES) for fmt in ("yaml", "json") if (name, fmt) != ("binary-body", "json")]


@pytest.mark.parametrize(("name", "fmt"), CORPUS)
def test_leak_corpus(name: str, fmt: str) -> None:
    planted, hidden, check = CASES[name]()
    raw, report, result = sanitized_bytes(data_of(planted), fmt)
    assert report, f"{name}: nothing was reported"
    assert_gone(raw, *hidden)
    assert_loads_in_vcrpy(raw, fmt)
    check(result["interactions"][0])
    for change in report.changes:
        assert change.interaction == 0
        for value in hidden:
            assert value not in change.location and value not in change.rule
    assert all(value not in report.summary() for value in hidden)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sanitizing_twice_changes_nothing(name: str) -> None:
    planted, _, _ = CASES[name]()
    sanitizer = Sanitizer()
    once = data_of(planted)
    sanitizer.sanitize_data(once)
    twice = copy.deepcopy(once)
    report = Sanitizer().sanitize_data(twice)  # another run, another key: still nothing to do
    assert not report, report.summary()
    assert cassette.dumps(twice, "yaml") == cassette.dumps(once, "yaml")


def test_a_clean_cassette_is_left_byte_identical(tmp_path: Path) -> None:
    clean = data_of(
        interaction(response_body=factories.restage_response(seed=1).body.decode()),
        interaction(request_headers={"Authorization": ["Basic Y2Y6"]}, response_body="plain text with code 200"),
    )
    path = tmp_path / "clean.yaml"
    path.write_bytes(cassette.dumps(clean, "yaml"))
    before = path.stat().st_mtime_ns
    assert not Sanitizer().sanitize_file(path)
    assert path.stat().st_mtime_ns == before


def test_factory_tokens_are_already_safe() -> None:
    body = json.dumps(factories.token_response(seed=3))
    data = data_of(interaction(response_body=body))
    assert not Sanitizer().sanitize_data(data)


def test_the_same_secret_maps_to_the_same_replacement_across_cassettes() -> None:
    token, refresh = real_jwt(), secret()
    sanitizer = Sanitizer()
    first = data_of(
        interaction(response_body=json.dumps({"access_token": token, "refresh_token": refresh})),
        interaction(request_headers={"Authorization": [f"Bearer {token}"]}),
    )
    second = data_of(
        interaction(
            method="POST",
            request_headers={"Content-Type": ["application/x-www-form-urlencoded"]},
            request_body=f"grant_type=refresh_token&refresh_token={refresh}",
        )
    )
    sanitizer.sanitize_data(first)
    sanitizer.sanitize_data(second)
    issued = json.loads(first["interactions"][0]["response"]["body"]["string"])
    sent = first["interactions"][1]["request"]["headers"]["Authorization"][0]
    assert sent == f"Bearer {issued['access_token']}"
    refreshed = urllib.parse.parse_qs(second["interactions"][0]["request"]["body"])["refresh_token"][0]
    assert refreshed == issued["refresh_token"]


def test_replacements_do_not_reveal_length_or_an_unkeyed_hash() -> None:
    short, long = "pw1", secrets.token_hex(40)
    a, b = Sanitizer(key=b"k" * 32), Sanitizer(key=b"j" * 32)
    assert len(a.placeholder(short)) == len(a.placeholder(long))
    assert a.placeholder(short) != b.placeholder(short)  # keyed: no rainbow table across runs
    assert a.placeholder(short) == a.placeholder(short)


def test_fake_jwts_keep_claims_and_replace_pii() -> None:
    token = real_jwt(user_id="5f0c3b1e-8a0b-4c56-9f3e-2b1d0c9e8a71", origin="uaa", zid="uaa")
    header, claims = tokens.decode_unverified(token)
    fake = Sanitizer().fake_jwt(token)
    fake_header, fake_claims = tokens.decode_unverified(fake)
    assert list(fake_header) == list(header) and fake_header["alg"] == "HS256"
    assert list(fake_claims) == list(claims)
    for kept in ("scope", "client_id", "iat", "exp", "origin", "zid"):
        assert fake_claims[kept] == claims[kept]
    for replaced in ("email", "user_name", "user_id", "sub", "jti"):
        assert fake_claims[replaced] != claims[replaced]
    assert fake_claims["sub"] == fake_claims["user_id"]  # one person stays one person
    assert "@" in fake_claims["email"]
    assert jwt.decode(fake, tokens.TEST_KEY, algorithms=["HS256"], options={"verify_exp": False})


def test_redact_all_env_option_and_pyproject_config(tmp_path: Path) -> None:
    env = {"LOG_LEVEL": "info", "REGION": "eu-1"}
    data = data_of(interaction(response_body=json.dumps({"environment_json": env})))
    copied = copy.deepcopy(data)
    assert not Sanitizer().sanitize_data(copied)
    Sanitizer(SanitizeConfig(redact_all_env=True)).sanitize_data(copied)
    assert json.loads(copied["interactions"][0]["response"]["body"]["string"])["environment_json"] == {
        "LOG_LEVEL": "***",
        "REGION": "***",
    }
    session, sid, key, otp = secret(), secret(), "sk_live_" + secrets.token_hex(12), secret()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.cfreplay.sanitize]\n"
        'headers = ["X-Session"]\njson-keys = ["session_blob"]\nquery-params = ["sid"]\n'
        'form-fields = ["otp"]\npatterns = ["(sk_live_[0-9a-f]{24})"]\n'
    )
    config = SanitizeConfig.from_pyproject(tmp_path / "sub" / "dir")
    assert config.headers == ("X-Session",)
    planted = data_of(
        interaction(
            method="POST",
            uri=f"https://api.example.com/x?sid={sid}",
            request_headers={"X-Session": [session], "Content-Type": ["application/x-www-form-urlencoded"]},
            request_body=f"otp={otp}&keep=1",
            response_body=json.dumps({"session_blob": session, "note": f"key {key}"}),
        )
    )
    raw, report, result = sanitized_bytes(planted, **vars(config))
    assert_gone(raw, session, sid, key, otp)
    assert "keep=1" in result["interactions"][0]["request"]["body"]
    # The project's pattern and the built-in stripe-key rule both match: the table's order decides.
    assert report.counts()["stripe-key"] == 1 and report.counts()["pattern"] == 0
    acme = "acme_" + secrets.token_hex(12)
    body = json.dumps({"note": f"vendor key {acme}"})
    raw, report, _ = sanitized_bytes(data_of(interaction(response_body=body)), patterns=("(acme_[0-9a-f]{24})",))
    assert_gone(raw, acme)
    assert report.counts() == {"pattern": 1}


def test_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cfreplay.sanitize]\nheaderz = ["X"]\n')
    with pytest.raises(CfreplayError) as raised:
        SanitizeConfig.from_pyproject(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'pyproject.toml'}: unknown key 'headerz' in [tool.cfreplay.sanitize]; known: disable, "
        "form-fields, headers, json-keys, patterns, query-params, redact-all-env"
    )
    with pytest.raises(CfreplayError, match=r"sanitize pattern '\(' is not a valid regex"):
        SanitizeConfig(patterns=("(",))


def test_report_counts_per_rule_and_interaction() -> None:
    token = real_jwt()
    data = data_of(
        interaction(request_headers={"Authorization": [f"bearer {token}"]}),
        interaction(request_headers={"Cookie": [f"a={secret()}; b={secret()}"]}),
    )
    report = Sanitizer().sanitize_data(data)
    assert report.by_interaction() == {0: {"jwt": 1}, 1: {"cookie": 2}}
    assert report.summary() == "3 replacements in 2 interactions: cookie ×2, jwt ×1"


# ------------------------------------------------------------------------------ files


def test_sanitize_file_rewrites_atomically_and_keeps_mode(tmp_path: Path) -> None:
    token = real_jwt()
    path = tmp_path / "c.yaml"
    path.write_bytes(
        cassette.dumps(data_of(interaction(request_headers={"Authorization": [f"bearer {token}"]})), "yaml")
    )
    path.chmod(0o640)
    assert Sanitizer().sanitize_file(path, check=True)
    assert token in path.read_text()  # --check writes nothing
    assert Sanitizer().sanitize_file(path)
    assert token not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_a_failed_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = real_jwt()
    path = tmp_path / "c.yaml"
    path.write_bytes(
        cassette.dumps(data_of(interaction(request_headers={"Authorization": [f"bearer {token}"]})), "yaml")
    )
    before = path.read_bytes()

    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cassette.os, "replace", fail)
    with pytest.raises(CassetteError, match="cannot be written: No space left on device"):
        Sanitizer().sanitize_file(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_dangerous_cassettes_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"interactions:\n- !!python/object/apply:os.system ['touch {marker}']\nversion: 1\n")
    before = path.read_bytes()
    with pytest.raises(CassetteError, match="refused a dangerous !!python tag"):
        Sanitizer().sanitize_file(path)
    assert not marker.exists()
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------ properties

PLANTERS: list[Callable[[str], Interaction]] = [
    lambda s: interaction(request_headers={"Authorization": [f"Bearer {s}"]}),
    lambda s: interaction(request_headers={"Cookie": [f"JSESSIONID={s}"]}),
    lambda s: interaction(response_headers={"Set-Cookie": [f"__VCAP_ID__={s}; Path=/"]}),
    lambda s: interaction(uri=f"https://api.example.com/v2/apps?token={s}"),
    lambda s: interaction(uri=f"https://u:{s}@api.example.com/v2/apps"),
    lambda s: interaction(
        method="POST",
        request_body=f"grant_type=password&password={s}",
        request_headers={"Content-Type": ["application/x-www-form-urlencoded"]},
    ),
    lambda s: interaction(response_body=json.dumps({"deep": [{"x": {"refresh_token": s}}]})),
    lambda s: interaction(response_body=json.dumps({"environment_json": {"API_TOKEN": s}})),
    lambda s: interaction(response_body=json.dumps({"credentials": {"anything": s}})),
    lambda s: interaction(response_body=json.dumps({"next_url": f"/v2/apps?page=2&access_token={s}"})),
    lambda s: interaction(
        response_headers={"Content-Encoding": ["gzip"]},
        response_body=gzip.compress(json.dumps({"client_secret": s}).encode()),
    ),
]

SECRETS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=20, max_size=60)


@given(value=SECRETS, planter=st.sampled_from(range(len(PLANTERS))), fmt=st.sampled_from(["yaml", "json"]))
def test_random_secrets_in_random_places_are_gone(value: str, planter: int, fmt: str) -> None:
    raw, report, _ = sanitized_bytes(data_of(PLANTERS[planter](value)), fmt)
    assert report
    assert_gone(raw, value)
    assert_loads_in_vcrpy(raw, fmt)


@given(claims=st.dictionaries(st.sampled_from(["email", "user_name", "sub", "scope", "nonce"]), SECRETS, max_size=4))
def test_random_jwts_anywhere_become_test_signed_fakes(claims: dict[str, str]) -> None:
    token = real_jwt(**claims)
    raw, _, result = sanitized_bytes(data_of(interaction(response_body=f"see {token} here")))
    assert_gone(raw, token)
    fakes = tokens.JWT_PATTERN.findall(result["interactions"][0]["response"]["body"]["string"])
    assert len(fakes) == 1 and tokens.is_test_token(fakes[0])


def test_a_repeated_header_is_sanitized_alike_and_reported_each_time() -> None:
    """Header results are memoised per value; every occurrence is still changed and reported."""
    bearer = {
        "Authorization": [f"bearer {secrets.token_urlsafe(24)}"],
        "Cookie": [f"JSESSIONID={secrets.token_hex(16)}"],
    }
    first = interaction(request_headers=copy.deepcopy(bearer))
    second = interaction(request_headers=copy.deepcopy(bearer))
    sanitizer, report = Sanitizer(), Report()
    sanitizer.sanitize_interaction(first, 0, report)
    sanitizer.sanitize_interaction(second, 1, report)
    assert first["request"]["headers"] == second["request"]["headers"] != bearer
    assert [(c.interaction, c.location) for c in report.changes] == [
        (0, "request.headers.Authorization"),
        (0, "request.headers.Cookie"),
        (1, "request.headers.Authorization"),
        (1, "request.headers.Cookie"),
    ]
    fresh = interaction(request_headers=copy.deepcopy(bearer))
    Sanitizer().sanitize_interaction(fresh, 0, Report())
    assert fresh["request"]["headers"].keys() == first["request"]["headers"].keys()
