"""The secret scanner: every rule, every place a secret hides, and what must stay quiet.

Every secret here is made at test time (``secrets.token_urlsafe``, or a JWT signed with a
random key) and every cassette is written with ``cassette.dumps`` or recorded with vcrpy,
so this file holds no secret itself (a test checks that, too).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import json
import secrets
import string
import threading
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jwt
import pytest
import vcr
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cfreplay import cassette
from cfreplay.cf import cfapi, factories, tokens
from cfreplay.errors import CassetteError
from cfreplay.hygiene import bodies, redaction, rules
from cfreplay.hygiene.rules import RuleTable, SanitizeConfig
from cfreplay.hygiene.scanner import Finding, rule_ids, scan_file, scan_paths, scan_text

API = "https://api.sys.example.com"
UAA = "https://uaa.sys.example.com"
JWT_MASK = "eyJ" + "…"


# --------------------------------------------------------------------------- fixtures


def foreign_jwt(**claims: Any) -> str:
    """A UAA-shaped token signed with a key nobody published: a real secret to the scanner."""
    _, uaa_claims = tokens.decode_unverified(factories.access_token())
    return jwt.encode({**uaa_claims, **claims}, secrets.token_hex(32), algorithm="HS256")


def opaque() -> str:
    return secrets.token_urlsafe(24)


def exchange(
    *,
    method: str = "GET",
    uri: str = f"{API}/v2/apps",
    request_headers: dict[str, str | list[str]] | None = None,
    request_body: str | bytes | None = None,
    status: int = 200,
    response_headers: dict[str, str | list[str]] | None = None,
    body: str | bytes = "",
) -> dict[str, Any]:
    """One interaction in vcrpy's dict shape (header values are lists)."""

    def listed(headers: dict[str, str | list[str]] | None) -> dict[str, list[str]]:
        return {name: value if isinstance(value, list) else [value] for name, value in (headers or {}).items()}

    return {
        "request": {"body": request_body, "headers": listed(request_headers), "method": method, "uri": uri},
        "response": {
            "body": {"string": body},
            "headers": listed(response_headers),
            "status": {"code": status, "message": "OK"},
        },
    }


def filler() -> dict[str, Any]:
    """An interaction with nothing secret in it: factories' app and public test-key token."""
    app = factories.app_envelope()
    return exchange(
        uri=f"{API}{cfapi.app_path(app['metadata']['guid'])}",
        request_headers={"Authorization": f"bearer {factories.access_token()}", "Accept": "application/json"},
        response_headers={"Content-Type": cfapi.JSON_CONTENT_TYPE},
        body=json.dumps(app, indent=2),
    )


def dump(interactions: Sequence[dict[str, Any]], fmt: cassette.Format = "yaml") -> str:
    return cassette.dumps({"interactions": list(interactions), "version": 1}, fmt).decode("utf-8")


def scan(interactions: Sequence[dict[str, Any]], fmt: cassette.Format = "yaml") -> list[Finding]:
    return scan_text(dump(interactions, fmt), path=f"cassette.{fmt}")


def assert_hidden(finding: Finding, secret: str) -> None:
    """The masked value gives nothing away: not the secret, nor any six characters of it."""
    assert secret not in finding.masked
    assert not any(secret[i : i + 6] in finding.masked for i in range(len(secret) - 5))
    assert finding.masked == JWT_MASK or len(finding.masked) <= 3


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --------------------------------------------------------------------------- the API


def test_finding_to_dict_and_rules() -> None:
    finding = Finding("c.yaml", 0, "request.uri", "url-query", "…", 9)
    assert finding.to_dict() == {
        "path": "c.yaml",
        "line": 9,
        "interaction": 0,
        "location": "request.uri",
        "rule": "url-query",
        "masked": "…",
    }
    # Findings are named by the rule table's ids, in its order: one definition for both tools.
    assert rule_ids() == tuple(rule.id for rule in rules.RULES)
    assert rule_ids(RuleTable(SanitizeConfig(disable=("github-token",)))).count("github-token") == 0


def test_masking_never_reveals_length() -> None:
    short, long = secrets.token_urlsafe(6)[:8], secrets.token_urlsafe(40)
    found = scan([exchange(request_headers={"Cookie": f"a={short}; b={long}"})])
    assert sorted(f.masked for f in found) == sorted(["…", long[:2] + "…"])


# --------------------------------------------------------------------------- JWTs and bearer tokens


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_foreign_jwt_in_authorization_header(fmt: cassette.Format) -> None:
    token = foreign_jwt()
    text = dump([filler(), exchange(request_headers={"Authorization": f"bearer {token}"})], fmt)
    finding = only(scan_text(text, path=f"c.{fmt}"))
    # Reported once, as a JWT, not again as a bearer token.
    assert (finding.rule, finding.interaction, finding.location) == ("jwt", 1, "request.headers.Authorization")
    assert finding.masked == JWT_MASK
    assert finding.line == line_of(text, token)
    assert_hidden(finding, token)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_opaque_bearer_token(scheme: str) -> None:
    token = opaque()
    finding = only(scan([exchange(request_headers={"Authorization": f"{scheme} {token}"})]))
    assert (finding.rule, finding.interaction, finding.location) == (
        "authorization",
        0,
        "request.headers.Authorization",
    )
    assert_hidden(finding, token)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_bearer_token_with_json_escaped_slashes(fmt: cassette.Format) -> None:
    # Base64 tokens hold slashes. In prose a bearer token must hold a digit (README): the last
    # part has one. The first part has only letters, so the token is only seen whole when the
    # escaped slash (\/ in the body, \\/ once the body is a string of a JSON cassette) is read
    # through: it once stopped there in JSON cassettes, one random token in fourteen.
    letters = "".join(secrets.choice(string.ascii_letters) for _ in range(16))
    token = f"{letters}/{secrets.token_urlsafe(12)}7"
    body = json.dumps({"header": f"Bearer {token}"}).replace("/", "\\/")
    finding = only(scan([exchange(body=body)], fmt))
    assert (finding.rule, finding.location) == ("authorization", "response.body")
    assert_hidden(finding, token)


def test_foreign_jwt_in_token_response_body() -> None:
    body = factories.token_response()
    body["access_token"] = token = foreign_jwt()
    found = scan([filler(), filler(), exchange(method="POST", uri=f"{UAA}/oauth/token", body=json.dumps(body))])
    # The response's jti names that real token (it can revoke it): it goes too.
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("jwt", 2, "response.body"),
        ("token-id", 2, "response.body"),
    ]
    assert_hidden(found[0], token)


def test_a_token_responses_jti_stays_when_its_token_is_published() -> None:
    body = factories.token_response()  # signed with the published test key: its jti is a fake's
    assert scan([exchange(method="POST", uri=f"{UAA}/oauth/token", body=json.dumps(body))]) == []


def test_jwt_signed_with_unknown_key_even_if_it_claims_the_test_kid() -> None:
    claims = tokens.decode_unverified(factories.access_token())[1]
    forged = tokens.sign(claims, key=secrets.token_hex(16))  # kid says cfreplay-test-key, key says otherwise
    assert only(scan([exchange(request_headers={"Authorization": f"Bearer {forged}"})])).rule == "jwt"


# --------------------------------------------------------------------------- basic, keys, forms, queries


def test_basic_credentials_with_a_client_secret() -> None:
    secret = opaque()
    credential = base64.b64encode(f"cf-admin:{secret}".encode()).decode()
    finding = only(
        scan(
            [
                exchange(
                    method="POST", uri=f"{UAA}/oauth/token", request_headers={"Authorization": f"Basic {credential}"}
                )
            ]
        )
    )
    assert (finding.rule, finding.location) == ("authorization", "request.headers.Authorization")
    assert_hidden(finding, credential)
    assert_hidden(finding, secret)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("pretty", [True, False])
def test_secret_key_in_json_body(fmt: cassette.Format, pretty: bool) -> None:
    secret = secrets.token_hex(16)  # token_format=opaque: a short id, not a JWT
    body = factories.token_response(opaque=True)
    body.pop("jti")
    body["access_token"] = secret
    body.pop("refresh_token")
    text = json.dumps(body, indent=2 if pretty else None)
    finding = only(scan([filler(), exchange(method="POST", uri=f"{UAA}/oauth/token", body=text)], fmt))
    assert (finding.rule, finding.interaction, finding.location) == ("secret-key", 1, "response.body")
    assert_hidden(finding, secret)


SECRET_KEYS = (
    "access_token", "idToken", "TOKEN", "password", "newPassword", "PASSWORD", "passwd", "client_secret",
    "clientSecret", "SECRET", "passcode", "userPasscode", "PASSCODE", "credential", "CREDENTIAL", "api_key", "apiKey",
    "API_KEY", "privateKey", "DB_PWD", "HOOK_SIGNATURE", "AWS_CREDENTIALS", "key_passphrase",
)  # fmt: skip
#: Names that are secret only as environment variables (the env policy's wider words).
ENV_NAMES = ("DB_OTP", "BASIC_AUTH", "TLS_CERT", "SSH_PRIVATE", "SESSION", "PW_SALT", "SENTRY_DSN", "SECRET_KEY_BASE")


@pytest.mark.parametrize("pretty", [True, False])
@pytest.mark.parametrize("key", SECRET_KEYS)
def test_every_secret_key_ending(key: str, pretty: bool) -> None:
    secret = opaque()
    body = json.dumps({"name": "x", key: secret, "guid": "g"}, indent=2 if pretty else None)
    finding = only(scan([exchange(body=body)]))
    assert (finding.rule, finding.location) == ("secret-key", "response.body")
    assert_hidden(finding, secret)


@pytest.mark.parametrize("name", ENV_NAMES)
def test_env_names_are_secret_in_env_maps_only(name: str) -> None:
    secret = opaque()
    inside = json.dumps({"entity": {"environment_json": {name: secret, "LOG_LEVEL": "debug"}}}, indent=2)
    finding = only(scan([exchange(body=inside)]))
    assert (finding.rule, finding.location) == ("env-value", "response.body")
    outside = json.dumps({"entity": {"labels": {name: secret}}}, indent=2)
    assert scan([exchange(body=outside)]) == []


@pytest.mark.parametrize("key", ["token_type", "token_endpoint", "host_key", "error_code", "keyword", "monkey"])
def test_keys_that_only_look_secret(key: str) -> None:
    assert scan([exchange(body=json.dumps({key: opaque()}, indent=2))]) == []


def test_secret_key_in_request_body_and_env_var_names() -> None:
    password, token = opaque(), opaque()
    broker = {"name": "db", "broker_url": "https://broker.example.com", "auth_username": "u", "auth_password": password}
    app = factories.app_envelope(environment_json={"GITHUB_TOKEN": token, "LOG_LEVEL": "debug"})
    found = scan(
        [
            exchange(method="POST", uri=f"{API}/v2/service_brokers", request_body=json.dumps(broker)),
            exchange(body=json.dumps(app, indent=2)),
        ]
    )
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("secret-key", 0, "request.body"),
        ("secret-key", 1, "response.body"),
    ]
    assert_hidden(found[0], password)
    assert_hidden(found[1], token)


@pytest.mark.parametrize("indent", [None, 2])
def test_redaction_markers_folded_by_yaml_are_read_whole(indent: int | None) -> None:
    # The YAML emitter folds long lines at spaces, so a marker with spaces may be split
    # across lines; it must still be read as the marker, not as "[PRIVATE".  Shifting the
    # text one character at a time puts a fold inside the marker for some of the shifts.
    folded = 0
    for shift in range(40):
        body = json.dumps({"note": "n" * shift, "password": cfapi.PRIVATE_DATA_HIDDEN}, indent=indent)
        text = dump([exchange(body=body)])
        value = text[text.index("password") : text.index("HIDDEN")]
        folded += "\n" in value
        assert scan_text(text, path="c.yaml") == [], text
    assert folded


@pytest.mark.parametrize("key", ["docker_credentials", "docker_credentials_json"])
def test_docker_credentials(key: str) -> None:
    password = opaque()
    if key == "docker_credentials":
        credentials = {"username": "deployer", "password": password}
    else:
        credentials = {"docker_user": "deployer", "docker_password": password, "docker_email": "d@example.com"}
    request = {"name": "web", "docker_image": "example/web:1", key: credentials}
    finding = only(scan([exchange(method="POST", uri=f"{API}/v2/apps", request_body=json.dumps(request))]))
    assert (finding.rule, finding.location) == ("docker-credentials", "request.body")
    assert_hidden(finding, password)


@pytest.mark.parametrize("first", [True, False])
def test_form_secret(first: bool) -> None:
    password = opaque()
    fields = [("grant_type", "password"), ("password", password), ("username", "dev@example.com")]
    if first:
        fields.insert(0, fields.pop(1))
    form = urllib.parse.urlencode(fields)
    finding = only(scan([exchange(method="POST", uri=f"{UAA}/oauth/token", request_body=form)]))
    assert (finding.rule, finding.location) == ("form-field", "request.body")
    assert_hidden(finding, password)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_query_secret_in_uri_and_location_header(fmt: cassette.Format) -> None:
    token, code = opaque(), opaque()
    found = scan(
        [
            exchange(uri=f"{API}/v2/info?results-per-page=5&Access_Token={token}"),
            exchange(status=302, response_headers={"Location": f"https://app.example.com/cb?state=x&code={code}"}),
        ],
        fmt,
    )
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("url-query", 0, "request.uri"),
        ("url-query", 1, "response.headers.Location"),
    ]
    assert_hidden(found[0], token)
    assert_hidden(found[1], code)


def test_query_secret_in_a_body_url_but_not_redacted_ones() -> None:
    secret = opaque()
    body = json.dumps({"next_url": f"/v2/apps?page=2&token={secret}", "prev_url": "/v2/apps?page=1&token=%2A%2A%2A"})
    finding = only(scan([exchange(body=body)]))
    assert (finding.rule, finding.location) == ("url-query", "response.body")
    assert_hidden(finding, secret)


def test_url_userinfo() -> None:
    password = opaque()
    credentials = {
        "syslog_drain_url": f"postgres://admin:{password}@db.example.com:5432/app",
        "redacted": "https://***:***@github.com/org/buildpack.git",
        "hidden": f"https://user:{cfapi.PRIVATE_DATA_HIDDEN}@example.com",
    }
    finding = only(scan([exchange(body=json.dumps({"entity": credentials}))]))
    assert (finding.rule, finding.location) == ("url-userinfo", "response.body")
    assert_hidden(finding, password)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_cookies(fmt: cassette.Format) -> None:
    session, csrf, vcap = opaque(), opaque(), opaque()
    found = scan(
        [
            exchange(request_headers={"Cookie": f"JSESSIONID={session}; X-Uaa-Csrf={csrf}"}),
            exchange(response_headers={"Set-Cookie": [f"__VCAP_ID__={vcap}; Path=/; HttpOnly", "empty=; Path=/"]}),
        ],
        fmt,
    )
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("cookie", 0, "request.headers.Cookie"),
        ("cookie", 0, "request.headers.Cookie"),
        ("cookie", 1, "response.headers.Set-Cookie"),
    ]
    for finding, secret in zip(found, (session, csrf, vcap), strict=True):
        assert_hidden(finding, secret)


def test_crlf_line_endings_change_nothing() -> None:
    token, session = foreign_jwt(), opaque()
    interactions = [
        exchange(request_headers={"Authorization": f"Bearer {opaque()}"}),
        exchange(
            response_headers={"Set-Cookie": f"JSESSIONID={session}", "Content-Encoding": "gzip"},
            body=gzip.compress(token.encode()),
        ),
    ]
    text = dump(interactions)
    expected = [(f.rule, f.interaction, f.location, f.line) for f in scan_text(text, path="c.yaml")]
    assert len(expected) == 3
    crlf = scan_text(text.replace("\n", "\r\n"), path="c.yaml")
    assert [(f.rule, f.interaction, f.location, f.line) for f in crlf] == expected


def test_project_patterns() -> None:
    key = "acme_" + secrets.token_hex(12)
    text = dump([exchange(body=json.dumps({"note": f"vendor {key}"}))])
    assert scan_text(text, path="c.yaml") == []
    for pattern in (r"(acme_[0-9a-f]{24})", r"acme_[0-9a-f]{24}"):
        table = RuleTable(SanitizeConfig(patterns=(pattern,)))
        finding = only(scan_text(text, path="c.yaml", table=table))
        assert (finding.rule, finding.location) == ("pattern", "response.body")
        assert_hidden(finding, key)
    placeholder = redaction.PLACEHOLDER_PREFIX + secrets.token_hex(8)
    table = RuleTable(SanitizeConfig(patterns=("cfreplay-.*",)))
    assert scan_text(placeholder, path="c.txt", cassette=False, table=table) == []


# --------------------------------------------------------------------------- hidden by encoding


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "br", "zstd", "latin-1"])
def test_binary_bodies_are_decoded_as_their_headers_say(encoding: str) -> None:
    token = foreign_jwt()
    raw = json.dumps({"access_token": token, "note": "café"}).encode("latin-1")
    headers: dict[str, str | list[str]] = {}
    if encoding == "raw-deflate":
        packer = zlib.compressobj(wbits=-15)
        data, headers["Content-Encoding"] = packer.compress(raw) + packer.flush(), "deflate"
    elif encoding == "latin-1":
        data = raw
    else:
        data, headers["Content-Encoding"] = bodies.encode(raw, (encoding,)), encoding
    text = dump([filler(), exchange(response_headers=headers, body=data)])
    assert "!!binary" in text
    finding = only(scan_text(text, path="c.yaml"))
    label = {"raw-deflate": "deflate", "latin-1": "binary"}.get(encoding, encoding)
    assert (finding.rule, finding.interaction, finding.location) == ("jwt", 1, f"response.body ({label})")
    assert finding.line == line_of(text, "!!binary")
    assert_hidden(finding, token)


def test_an_archive_sent_without_content_encoding_is_opaque() -> None:
    """A droplet or app-bits tarball is data, not a body to open: neither tool inflates it."""
    data = gzip.compress(foreign_jwt().encode())
    text = dump([exchange(response_headers={"Content-Type": "application/octet-stream"}, body=data)])
    assert scan_text(text, path="c.yaml") == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_json_escaped_jwt(fmt: cassette.Format) -> None:
    token = foreign_jwt()
    hidden = "\\u0065" + token[1:].replace(".", "\\u002e")  # eyJ… as JSON escapes
    body = '{"note": "' + hidden + '"}'
    finding = only(scan([exchange(body=body)], fmt))
    assert (finding.rule, finding.location) == ("jwt", "response.body (json-escaped)")
    assert_hidden(finding, token)


def test_url_encoded_jwt_and_escaped_slashes() -> None:
    token, password = foreign_jwt(), opaque()
    hidden = "%65" + token[1:].replace(".", "%2E")
    found = scan(
        [
            exchange(uri=f"{API}/v2/apps?state={hidden}"),
            exchange(body=json.dumps({"url": f"https://u:{password}@host.example.com/"}).replace("/", "\\/")),
        ]
    )
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("jwt", 0, "request.uri (url-encoded)"),
        ("url-userinfo", 1, "response.body"),
    ]
    assert_hidden(found[0], token)
    assert_hidden(found[1], password)


@pytest.mark.parametrize("prefix", ["", "x", "xy", '{"auth": "'])
def test_base64_wrapped_jwt(prefix: str) -> None:
    token = foreign_jwt()
    blob = base64.b64encode(f"{prefix}{token}".encode()).decode()
    finding = only(scan([exchange(body=json.dumps({"config": blob}))]))
    assert (finding.rule, finding.location) == ("jwt", "response.body (base64)")
    assert_hidden(finding, token)


def test_base64_wrapped_bearer_token() -> None:
    token = opaque() + "7"  # a token in prose counts when it holds a digit
    blob = base64.urlsafe_b64encode(f"Authorization: Bearer {token}".encode()).decode()
    finding = only(scan([exchange(request_headers={"X-Forwarded-Auth": blob})]))
    assert (finding.rule, finding.location) == ("authorization", "request.headers.X-Forwarded-Auth (base64)")
    assert_hidden(finding, token)


# --------------------------------------------------------------------------- plain files


def test_plain_files_report_jwts_and_bearer_tokens_only(tmp_path: Path) -> None:
    token, bearer, password = foreign_jwt(), opaque(), opaque()
    source = tmp_path / "test_client.py"
    source.write_text(
        "def test_client(token):\n"
        f'    ok = f"bearer {{token}}"\n'
        '    also_ok = "Bearer " + token\n'
        f'    leaked = "{token}"\n'
        f'    headers = {{"Authorization": "Bearer {bearer}"}}\n'
        f'    form = "grant_type=password&password={password}"\n'
    )
    fixture = tmp_path / "token.json"
    fixture.write_text(json.dumps({"access_token": token, "password": password}, indent=2))
    found = scan_paths([tmp_path]).findings
    assert [(Path(f.path).name, f.line, f.interaction, f.location, f.rule) for f in found] == [
        ("test_client.py", 4, None, "line 4", "jwt"),
        ("test_client.py", 5, None, "line 5", "authorization"),
        ("token.json", 2, None, "line 2", "jwt"),
    ]


def test_this_file_holds_no_secret() -> None:
    assert scan_file(__file__) == []


# --------------------------------------------------------------------------- what must stay quiet


def test_factories_cassette_is_clean() -> None:
    body = factories.token_response()
    app = factories.app_envelope("docker", api_version="2.90")
    interactions = [
        exchange(
            method="POST",
            uri=f"{UAA}/oauth/token",
            request_headers={"Authorization": cfapi.CF_CLIENT_BASIC, "Content-Type": cfapi.FORM_CONTENT_TYPE},
            request_body="grant_type=password&password=%2A%2A%2A&username=dev%40example.com",
            body=json.dumps(body),
        ),
        exchange(
            uri=f"{API}/v2/info",
            request_headers={"Authorization": f"bearer {body['access_token']}"},
            body=json.dumps(factories.info()),
        ),
        exchange(uri=f"{API}/v2/apps?q=name%3Aweb", body=json.dumps(factories.list_page(count=3), indent=2)),
        exchange(uri=f"{API}{cfapi.app_path(app['metadata']['guid'])}", body=json.dumps(app, indent=2)),
        exchange(
            method="POST",
            uri=f"{API}{cfapi.restage_path(app['metadata']['guid'])}",
            request_headers={"Authorization": f"bearer {factories.docs_access_token(user_id='u', email='e', exp=1)}"},
            status=201,
            body=factories.restage_response(app, api_version="2.90").body.decode(),
        ),
        exchange(body=factories.error_response("AppNotFound").body.decode()),
    ]
    for fmt in ("yaml", "json"):
        assert scan(interactions, fmt) == []  # type: ignore[arg-type]


def test_markers_and_placeholders_are_not_findings() -> None:
    placeholder = redaction.PLACEHOLDER_PREFIX + secrets.token_hex(8)
    body = {
        "token_type": "bearer",
        "token_endpoint": f"{UAA}",
        "code": 100004,
        "expires_in": 43199,
        "jti": placeholder,
        "access_token": placeholder,
        "password": cfapi.REDACTED_CREDENTIAL,
        "client_secret": cfapi.PRIVATE_DATA_HIDDEN,
        "auth_password": None,
        "docker_credentials": {"username": "u", "password": cfapi.REDACTED_CREDENTIAL},
        "docker_credentials_json": dict(cfapi.REDACTED_MESSAGE),
        "credentials": dict(cfapi.REDACTED_MESSAGE),
        "syslog_drain_url": "https://***:***@db.example.com",
        "dashboard_url": f"https://user:{cfapi.PRIVATE_DATA_HIDDEN_IN_LISTS}@broker.example.com",
        "passwordLastModified": "2015-11-03T00:54:16Z",
    }
    interactions = [
        exchange(
            uri=f"{API}/v2/apps?access_token={placeholder}&code=***",
            request_headers={
                "Authorization": f"Bearer {placeholder}",
                "Cookie": f"JSESSIONID={placeholder}; __VCAP_ID__=",
                "Proxy-Authorization": "Basic " + base64.b64encode(b"client:***").decode(),
            },
            request_body=f"grant_type=refresh_token&refresh_token={placeholder}&password=%2A%2A%2A",
            response_headers={"Set-Cookie": f"X-Uaa-Csrf={placeholder}; Path=/", "Authorization": "Basic Y2Y6"},
            body=json.dumps(body, indent=2),
        )
    ]
    for fmt in ("yaml", "json"):
        assert scan(interactions, fmt) == []  # type: ignore[arg-type]


def test_prose_and_code_mentions_are_not_findings() -> None:
    text = (
        "Send the token as `Authorization: bearer <token>`; UAA answers token_type bearer.\n"
        "Basic auth works too, e.g. Basic Y2Y6 for the cf client.\n"
        'headers["Authorization"] = "Bearer " + token\n'
        'headers["Authorization"] = f"bearer {token}"\n'
        'assert header.startswith("BEARER cfreplay-redacted-")\n'
        "guid: 42485e3a-0a5d-4f34-abaa-9455e3e70682, version 0b4e9c3e-6d1b-4f3a-9b51-6a3d0d8a2c11\n"
    )
    assert scan_text(text, path="README.md", cassette=False) == []


# --------------------------------------------------------------------------- recorded for real


@pytest.fixture
def uaa_like_server() -> Iterator[tuple[str, str, str]]:
    """A 127.0.0.1 server answering with a gzip token body and a session cookie."""
    token, session = foreign_jwt(), opaque()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = gzip.compress(json.dumps({"access_token": token, "token_type": "bearer"}).encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Set-Cookie", f"JSESSIONID={session}; Path=/; HttpOnly")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", token, session
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cassette_recorded_by_vcrpy(tmp_path: Path, uaa_like_server: tuple[str, str, str]) -> None:
    url, token, session = uaa_like_server
    bearer = foreign_jwt()
    path = tmp_path / "recorded.yaml"
    with vcr.use_cassette(str(path), record_mode="all"):
        request = urllib.request.Request(f"{url}/userinfo", headers={"Authorization": f"Bearer {bearer}"})
        with urllib.request.urlopen(request) as response:
            response.read()
    found = scan_file(path)
    assert [(f.rule, f.interaction, f.location) for f in found] == [
        ("jwt", 0, "request.headers.Authorization"),
        ("jwt", 0, "response.body (gzip)"),
        ("cookie", 0, "response.headers.Set-Cookie"),
    ]
    for finding, secret in zip(found, (bearer, token, session), strict=True):
        assert_hidden(finding, secret)


# --------------------------------------------------------------------------- dangerous and unreadable files


DANGEROUS = {
    "python-tag": "interactions:\n- request: !!python/object/apply:os.system ['true']\nversion: 1\n",
    "verbatim-tag": "interactions:\n- !<tag:yaml.org,2002:python/object/apply:os.system> ['true']\nversion: 1\n",
    "tag-directive": "%TAG !p! tag:yaml.org,2002:python/\n---\ninteractions: !p!object/apply:os.system ['true']\n",
    "escaped-tag": "interactions:\n- request: !!pyth%6Fn/object/apply:os.system ['true']\nversion: 1\n",
}


@pytest.mark.parametrize("name", sorted(DANGEROUS))
def test_dangerous_yaml_is_never_clean(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(DANGEROUS[name])
    with pytest.raises(CassetteError) as raised:
        scan_file(path)
    assert raised.value.path == str(path)
    result = scan_paths([tmp_path])
    assert [error.path for error in result.errors] == [str(path)]
    assert result.findings == []


def test_yaml_that_is_no_cassette_is_never_clean_with_a_python_tag(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("hooks: !!python/object/apply:os.system ['true']\n")
    (tmp_path / "plain.yml").write_text("name: !!str tagged but harmless\nlist: [a, b]\n")
    (tmp_path / "broken.yml").write_text("a: [unclosed\n  !x\n")
    with pytest.raises(CassetteError, match="dangerous"):
        scan_file(tmp_path / "config.yaml")
    result = scan_paths([tmp_path])
    assert [Path(error.path).name for error in result.errors] == ["config.yaml"]
    assert result.files == 2


def test_a_body_that_mentions_a_python_tag_is_scanned_normally() -> None:
    text = dump([exchange(body="see !!python/object in the docs, and !<this>")])
    assert scan_text(text, path="c.yaml") == []


def test_unreadable_and_binary_inputs(tmp_path: Path) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"interactions:\x00\x01")
    (tmp_path / "latin.json").write_bytes('{"interactions": [], "note": "caf\xe9"}'.encode("latin-1"))
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + secrets.token_bytes(64))
    (tmp_path / "notes.txt").write_text("nothing here\n")
    for name in ("binary.yaml", "latin.json"):
        with pytest.raises(CassetteError):
            scan_file(tmp_path / name)
    with pytest.raises(CassetteError, match="no such file"):
        scan_file(tmp_path / "missing.yaml")
    assert scan_file(tmp_path / "picture.png") == []
    result = scan_paths([tmp_path, tmp_path / "missing.yaml"])
    assert sorted(Path(error.path).name for error in result.errors) == ["binary.yaml", "latin.json", "missing.yaml"]
    assert (result.files, result.bytes) == (1, len("nothing here\n"))


def test_directories_are_walked_skipping_tool_directories(tmp_path: Path) -> None:
    token = foreign_jwt()
    text = dump([exchange(request_headers={"Authorization": f"bearer {token}"})])
    for directory in (".git", ".venv", "node_modules", "__pycache__", ".hypothesis", "dist", "build", "nested/deep"):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "cassette.yaml").write_text(text)
    seen: list[Path] = []
    result = scan_paths([tmp_path], on_file=seen.append)
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in result.findings] == ["nested/deep/cassette.yaml"]
    assert seen == [tmp_path / "nested" / "deep" / "cassette.yaml"]


def test_output_order_is_deterministic(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yaml", "c.json"):
        interactions = [exchange(request_headers={"Authorization": f"Bearer {opaque()}"}) for _ in range(3)]
        (tmp_path / name).write_text(dump(interactions, "json" if name.endswith("json") else "yaml"))
    files = sorted(tmp_path.iterdir())
    forward, backward = scan_paths(files), scan_paths(list(reversed(files)))
    assert forward.findings == backward.findings
    assert [(Path(f.path).name, f.line) for f in forward.findings] == sorted(
        (Path(f.path).name, f.line) for f in forward.findings
    )
    assert [f.interaction for f in forward.findings] == [0, 1, 2] * 3


# --------------------------------------------------------------------------- recall, as a property


def _secret(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_TOKEN = st.binary(min_size=18, max_size=40).map(_secret)
_KINDS = (
    "bearer-jwt",
    "bearer-opaque",
    "basic",
    "cookie",
    "set-cookie",
    "query",
    "location",
    "form",
    "body-key",
    "env",
    "docker",
    "userinfo",
    "gzip-jwt",
    "escaped-jwt",
    "encoded-jwt",
    "base64-jwt",
)


def _plant(kind: str, secret: str) -> tuple[dict[str, Any], str, str]:
    """An interaction hiding *secret* the *kind* way, and the (rule, location) expected for it."""
    if kind.endswith("jwt"):
        secret = jwt.encode({"sub": secret, "iat": 1}, hashlib.sha256(secret.encode()).hexdigest(), algorithm="HS256")
    if kind == "bearer-jwt":
        return exchange(request_headers={"Authorization": f"bearer {secret}"}), "jwt", "request.headers.Authorization"
    if kind == "bearer-opaque":
        return (
            exchange(request_headers={"Authorization": f"Bearer {secret}"}),
            "authorization",
            "request.headers.Authorization",
        )
    if kind == "basic":
        credential = base64.b64encode(f"client:{secret}".encode()).decode()
        return (
            exchange(request_headers={"Authorization": f"Basic {credential}"}),
            "authorization",
            "request.headers.Authorization",
        )
    if kind == "cookie":
        return exchange(request_headers={"Cookie": f"JSESSIONID={secret}"}), "cookie", "request.headers.Cookie"
    if kind == "set-cookie":
        headers = {"Set-Cookie": f"__VCAP_ID__={secret}; Path=/"}
        return exchange(response_headers=headers), "cookie", "response.headers.Set-Cookie"
    if kind == "query":
        return exchange(uri=f"{API}/v2/apps?page=1&refresh_token={secret}"), "url-query", "request.uri"
    if kind == "location":
        headers = {"Location": f"https://app.example.com/cb?code={secret}"}
        return exchange(status=302, response_headers=headers), "url-query", "response.headers.Location"
    if kind == "form":
        return (
            exchange(method="POST", request_body=f"grant_type=password&password={secret}"),
            "form-field",
            "request.body",
        )
    if kind == "body-key":
        body = json.dumps({"client_id": "app", "client_secret": secret}, indent=2)
        return exchange(body=body), "secret-key", "response.body"
    if kind == "env":
        app = factories.app_envelope(environment_json={"DB_PASSWORD": secret})
        return exchange(body=json.dumps(app, indent=2)), "secret-key", "response.body"
    if kind == "docker":
        body = json.dumps({"docker_credentials": {"username": "u", "password": secret}})
        return exchange(method="PUT", request_body=body), "docker-credentials", "request.body"
    if kind == "userinfo":
        # Not under "credentials": that object is hidden whole (the credentials rule).
        body = json.dumps({"entity": {"name": "db", "dashboard_url": f"mysql://u:{secret}@db:3306/x"}})
        return exchange(body=body), "url-userinfo", "response.body"
    if kind == "gzip-jwt":
        headers = {"Content-Encoding": "gzip"}
        return exchange(response_headers=headers, body=gzip.compress(secret.encode())), "jwt", "response.body (gzip)"
    if kind == "escaped-jwt":
        return exchange(body='{"x": "\\u0065' + secret[1:] + '"}'), "jwt", "response.body (json-escaped)"
    if kind == "encoded-jwt":
        return exchange(uri=f"{API}/v2/apps?state=%65{secret[1:]}"), "jwt", "request.uri (url-encoded)"
    assert kind == "base64-jwt"
    blob = base64.b64encode(f"token={secret}".encode()).decode()
    return exchange(body=json.dumps({"blob": blob})), "jwt", "response.body (base64)"


@given(
    plan=st.lists(st.tuples(st.sampled_from(_KINDS), _TOKEN, st.integers(0, 2)), min_size=1, max_size=6),
    fmt=st.sampled_from(["yaml", "json"]),
)
def test_planted_secrets_are_always_found(plan: list[tuple[str, str, int]], fmt: cassette.Format) -> None:
    interactions: list[dict[str, Any]] = []
    expected: list[tuple[int, str, str]] = []
    planted: list[str] = []
    for kind, secret, fillers in plan:
        if fmt == "json" and kind == "gzip-jwt":
            kind = "escaped-jwt"  # JSON cassettes hold text bodies only
        interactions.extend(filler() for _ in range(fillers))
        interaction, rule, location = _plant(kind, secret)
        expected.append((len(interactions), rule, location))
        interactions.append(interaction)
        planted.append(secret)
    found = scan(interactions, fmt)
    assert [(f.interaction, f.rule, f.location) for f in found] == expected
    for finding in found:
        for secret in planted:
            assert secret not in finding.masked


def test_metadata_nested_too_deep_is_an_error_naming_the_file(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(300):
        deep = {"a": deep}
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"interactions": [exchange()], "version": 1, "metadata": deep}, indent=4) + "\n")
    result = scan_paths([path])
    expected = f"{path}: holds JSON nested deeper than 200 levels in 'metadata'"
    assert [str(error) for error in result.errors] == [expected]


def test_metadata_read_only_with_the_interactions_is_reported_once() -> None:
    """An alias in the cassette's own keys to an anchor in an interaction: the whole file is parsed, once."""
    token = foreign_jwt()
    text = dump([exchange(request_headers={"X-Note": "NOTE"})])
    text = text.replace("- NOTE", f"- &note 'token {token}'")
    text = text.replace("version: 1", "metadata:\n  note: *note\nversion: 1")
    found = scan_text(text, path="c.yaml")
    assert sorted((f.interaction if f.interaction is not None else -1, f.rule, f.location) for f in found) == [
        (-1, "jwt", "metadata"),
        (0, "jwt", "request.headers.X-Note"),
    ]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_cfreplays_own_recording_stamps_stay_on_the_fast_path(tmp_path: Path, fmt: cassette.Format) -> None:
    """Each exchange cfreplay records carries response.recorded_at: vcrpy's layout plus that line, read raw."""
    token = foreign_jwt()
    interactions = [exchange(request_headers={"Authorization": f"bearer {token}"}), exchange()]
    for interaction in interactions:
        interaction["response"]["recorded_at"] = "2026-12-02T01:02:03Z"
    path = tmp_path / f"c.{fmt}"
    path.write_text(dump(interactions, fmt))
    result = scan_paths([path])
    assert result.exact == 0
    assert [(f.interaction, f.rule, f.location) for f in result.findings] == [
        (0, "jwt", "request.headers.Authorization")
    ]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_apps_of_the_default_era_stay_on_the_fast_path(tmp_path: Path, fmt: cassette.Format) -> None:
    """Every app from 2.82 carries docker_credentials, null or with CC's redacted password: settled raw.

    Sending each such interaction to the exact engine made scanning a session of apps seven
    times slower; an object holding a real password still goes there and is found.
    """

    plain = factories.app_envelope(seed=1)
    assert plain["entity"]["docker_credentials"] == {"username": None, "password": None}
    docker = factories.app_envelope("docker", seed=2)
    docker["entity"]["docker_credentials"] = {"username": "deployer", "password": cfapi.REDACTED_CREDENTIAL}
    bodies = [json.dumps(plain), json.dumps(docker), json.dumps(plain, indent=2)]
    path = tmp_path / f"apps.{fmt}"
    path.write_text(dump([exchange(body=body) for body in bodies], fmt))
    result = scan_paths([path])
    assert (result.exact, result.findings) == (0, [])

    leaked = secrets.token_urlsafe(12)
    docker["entity"]["docker_credentials"]["password"] = leaked
    path.write_text(dump([exchange(body=json.dumps(docker))], fmt))
    result = scan_paths([path])
    assert [(f.rule, f.location) for f in result.findings] == [("docker-credentials", "response.body")]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize(
    "credentials",
    [{"username": None, "password": None}, {"username": "deployer", "password": cfapi.REDACTED_CREDENTIAL}, {}, None],
    ids=["null", "redacted", "empty", "none"],
)
def test_keys_after_a_redacted_credentials_object_are_still_read(
    tmp_path: Path, fmt: cassette.Format, credentials: dict[str, Any] | None
) -> None:
    """The keys inside a redacted object are skipped, and not one key past its closing brace."""
    leaked = secrets.token_urlsafe(12)
    body = {"entity": {"docker_credentials": credentials, "password": leaked, "name": "web"}}
    path = tmp_path / f"apps.{fmt}"
    compact = json.dumps(body, separators=(",", ":"))
    path.write_text(dump([exchange(body=json.dumps(body)), exchange(body=compact)], fmt))
    result = scan_paths([path])  # by the signal pass alone: the exact engine would find it whatever it skipped
    assert [(f.interaction, f.rule, f.location) for f in result.findings] == [
        (0, "secret-key", "response.body"),
        (1, "secret-key", "response.body"),
    ]
    # A key after "docker_credentials": null might still be inside it, for all the raw text
    # shows: that one is the exact engine's to settle (reading the key is what sends it there).
    assert result.exact == (1 if credentials is None else 0)


_MANIFEST_RESPONSE = (
    "interactions:\n- request:\n    body: null\n    headers:\n      Accept:\n      - '*/*'\n    method: GET\n"
    "    uri: https://api.example.com/v3/apps/g/manifest\n  response:\n    body:\n"
    '      string: "applications:\\n- name: web\\n  env:\\n    DB_PASSWORD: {secret}\\n"\n'
    "    headers:\n{content_type}      Date:\n      - Tue, 01 Dec 2026 00:00:00 GMT\n"
    "    status:\n      code: 200\n      message: OK\nversion: 1\n"
)


@pytest.mark.parametrize(
    ("content_type", "yaml_body"),
    [
        ("      - application/x-yaml\n", True),
        ("      - APPLICATION/X-YAML\n", True),
        ("      - 'application/x-yaml'\n", True),
        ('      - "application/x-\\x79aml"\n', True),  # an escape spells it
        ("      - text/plain;\n        x=yaml\n", True),  # folded onto a second line
        ("      - application/json\n", False),
    ],
    ids=["plain", "upper-case", "single-quoted", "escaped", "folded", "json"],
)
def test_a_content_type_that_says_yaml_however_written_has_its_body_read_as_yaml(
    tmp_path: Path, content_type: str, yaml_body: bool
) -> None:
    """The header pass skips a one-line Content-Type that cannot say YAML; every other spelling is read."""
    secret = secrets.token_hex(12)
    path = tmp_path / "manifest.yaml"
    path.write_text(_MANIFEST_RESPONSE.format(secret=secret, content_type="      Content-Type:\n" + content_type))
    result = scan_paths([path])
    assert result.exact == (1 if yaml_body else 0)
    assert [(f.rule, f.location) for f in result.findings] == ([("secret-key", "response.body")] if yaml_body else [])


def test_a_virtualenv_below_a_folder_is_skipped_whatever_its_name(tmp_path: Path) -> None:
    """``cfreplay scan .`` and ``sanitize .`` in a project whose environment is ``env/`` read no installed package."""
    from cfreplay.hygiene.writing import iter_cassette_files

    leaked = f"ghp_{secrets.token_hex(18)}"
    env = tmp_path / "env"
    (env / "lib" / "site-packages").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    inside = env / "lib" / "site-packages" / "recorded.yaml"
    inside.write_text(dump([exchange(body=json.dumps({"token": leaked}))], "yaml"))
    ours = tmp_path / "cassettes" / "ours.yaml"
    ours.parent.mkdir()
    ours.write_text(dump([exchange(body=json.dumps({"token": leaked}))], "yaml"))

    assert [Path(f.path) for f in scan_paths([tmp_path]).findings] == [ours]
    assert list(iter_cassette_files([tmp_path])) == [ours]
    # Named, it is read: the skip is for what a walk below a folder meets.
    assert {Path(f.path) for f in scan_paths([tmp_path, inside]).findings} == {ours, inside}
    (env / "pyvenv.cfg").unlink()  # no longer a virtualenv: an ordinary folder, walked
    assert {Path(f.path) for f in scan_paths([tmp_path]).findings} == {ours, inside}


@pytest.mark.parametrize("where", ["uri", "header", "body", "before the interactions", "after them"])
def test_a_scalar_folded_with_a_backslash_mid_word_is_read_joined(tmp_path: Path, where: str) -> None:
    """A double-quoted YAML scalar may be folded anywhere with a backslash: its lines join with
    no space, which raw text does not show, so the parser reads it (``client_sec`` + ``ret=``)."""
    secret = secrets.token_urlsafe(16)
    folded = f'"https://api.example.com/v2/info?client_sec\\\n      ret={secret}"'
    uri, header, body = '"https://api.example.com/v2/info"', "'*/*'", "'{}'"
    top = bottom = ""
    if where == "uri":
        uri = folded
    elif where == "header":
        header = folded
    elif where == "body":
        body = folded
    elif where == "before the interactions":
        top = f"metadata:\n  origin: {folded}\n"
    else:
        bottom = f"metadata:\n  origin: {folded}\n"
    text = (
        f"{top}interactions:\n- request:\n    body: null\n    headers:\n      Referer:\n      - {header}\n"
        f"    method: GET\n    uri: {uri}\n  response:\n    body:\n      string: {body}\n"
        "    headers:\n      Date:\n      - today\n    status:\n      code: 200\n      message: OK\n"
        f"{bottom}version: 1\n"
    )
    assert f"client_secret={secret}" in json.dumps(yaml.safe_load(text))  # YAML joins it
    path = tmp_path / "folded.yaml"
    path.write_text(text)
    assert [f.rule for f in scan_paths([path]).findings] == ["url-query"]
