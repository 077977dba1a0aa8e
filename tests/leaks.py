"""Secrets planted where Cloud Controller and UAA traffic hides them: one plant per place the rule table knows.

Every plant builds one realistic interaction (CC and UAA paths, headers and bodies as
the cf CLI, cf-python-client and UAA send them) around secrets generated at test time,
and says which rule must report it and where.  ``tests/test_agreement.py`` plants them
in generated cassettes and holds the scanner and the sanitizer to each other.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt as pyjwt

from cfreplay.cf import factories, tokens

API = "https://api.sys.example.com"
UAA = "https://uaa.sys.example.com"
APP = "/v2/apps/c462b988-8644-4bf6-83cb-32a12c3d1564"

Interaction = dict[str, Any]


class Secrets:
    """Secret values, made from a seed so a failing example reproduces (never committed in clear)."""

    def __init__(self, source: Callable[[int], bytes] | None = None) -> None:
        self._bytes = source or secrets.token_bytes

    def token(self, size: int = 18) -> str:
        return base64.urlsafe_b64encode(self._bytes(size)).decode().rstrip("=").replace("-", "x").replace("_", "y")

    def hex(self, size: int = 16) -> str:
        return self._bytes(size).hex()

    def alnum(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(alphabet[b % len(alphabet)] for b in self._bytes(length))

    def jwt(self, **claims: Any) -> str:
        """A UAA-shaped token signed with a key nobody published."""
        _, uaa = tokens.decode_unverified(factories.access_token(seed=1))
        return pyjwt.encode({**uaa, "jti": self.hex(), **claims}, self.hex(32), algorithm="HS256")


def exchange(
    *,
    method: str = "GET",
    uri: str = f"{API}{APP}",
    request_headers: dict[str, list[str]] | None = None,
    request_body: str | bytes | None = None,
    status: int = 200,
    response_headers: dict[str, list[str]] | None = None,
    body: str | bytes = "{}",
) -> Interaction:
    headers = {"Accept": ["application/json"], "User-Agent": ["cf/6.53.0 (go1.13.8; amd64 linux)"]}
    headers.update(request_headers or {})
    response = {"Content-Type": ["application/json;charset=utf-8"], "X-Vcap-Request-Id": ["3f1c2a9e-6b2d-4c1e"]}
    response.update(response_headers or {})
    return {
        "request": {"body": request_body, "headers": headers, "method": method, "uri": uri},
        "response": {"body": {"string": body}, "headers": response, "status": {"code": status, "message": "OK"}},
    }


@dataclass
class Plant:
    """One planted secret: the interaction holding it, and the finding it must give."""

    interaction: Interaction
    rule: str
    location: str
    secrets: list[str]
    #: JSON-only bodies can be compressed (YAML stores the bytes as !!binary).
    body_side: str | None = None
    top_level: dict[str, Any] = field(default_factory=dict)
    #: vcrpy's JSON cannot hold a body that is not UTF-8.
    yaml_only: bool = False


PLANTS: dict[str, Callable[[Secrets], Plant]] = {}


def plant(name: str) -> Callable[[Callable[[Secrets], Plant]], Callable[[Secrets], Plant]]:
    def register(function: Callable[[Secrets], Plant]) -> Callable[[Secrets], Plant]:
        PLANTS[name] = function
        return function

    return register


def app_body(s: Secrets, **entity: Any) -> str:
    app = factories.app_envelope(seed=3)
    app["entity"].update(entity)
    return json.dumps(app, indent=2)


# --------------------------------------------------------------------------- headers


@plant("bearer-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    i = exchange(request_headers={"Authorization": [f"bearer {token}"]})
    return Plant(i, "jwt", "request.headers.Authorization", [token])


@plant("bearer-opaque")
def _(s: Secrets) -> Plant:
    token = s.token()
    i = exchange(request_headers={"Authorization": [f"Bearer {token}"]})
    return Plant(i, "authorization", "request.headers.Authorization", [token])


@plant("bearer-short-no-digits")
def _(s: Secrets) -> Plant:
    token = "".join(c for c in s.token(12) if c.isalpha())[:10] or "abcdefghij"
    i = exchange(request_headers={"Authorization": [f"bearer {token}"]})
    return Plant(i, "authorization", "request.headers.Authorization", [token])


@plant("basic-client-secret")
def _(s: Secrets) -> Plant:
    secret = s.token()
    credential = base64.b64encode(f"cf-admin:{secret}".encode()).decode()
    i = exchange(method="POST", uri=f"{UAA}/oauth/token", request_headers={"Authorization": [f"Basic {credential}"]})
    return Plant(i, "authorization", "request.headers.Authorization", [secret])


@plant("basic-without-colon")
def _(s: Secrets) -> Plant:
    token = s.token()
    credential = base64.b64encode(token.encode()).decode()
    i = exchange(request_headers={"Authorization": [f"Basic {credential}"]})
    return Plant(i, "authorization", "request.headers.Authorization", [credential])


@plant("other-schemes")
def _(s: Secrets) -> Plant:
    token, response = s.token(), s.hex()
    i = exchange(
        request_headers={
            "Authorization": [f"Token {token}"],
            "Proxy-Authorization": [f'Digest username="admin", realm="cf", nonce="abc", response="{response}"'],
        }
    )
    return Plant(i, "authorization", "request.headers.Authorization", [token, response])


@plant("negotiate")
def _(s: Secrets) -> Plant:
    blob = base64.b64encode(s._bytes(48)).decode()
    i = exchange(request_headers={"Authorization": [f"Negotiate {blob}"]})
    return Plant(i, "authorization", "request.headers.Authorization", [blob])


@plant("cookies")
def _(s: Secrets) -> Plant:
    session, csrf = s.token(), s.token()
    i = exchange(request_headers={"Cookie": [f"JSESSIONID={session}; X-Uaa-Csrf={csrf}; __VCAP_ID__={s.hex(8)}"]})
    return Plant(i, "cookie", "request.headers.Cookie", [session, csrf])


@plant("set-cookie-joined")
def _(s: Secrets) -> Plant:
    first, second = s.token(), s.token()
    value = f"JSESSIONID={first}; Path=/; Secure; HttpOnly, X-Uaa-Csrf={second}; Expires=Wed, 21 Oct 2026 07:28:00 GMT"
    i = exchange(method="POST", uri=f"{UAA}/login.do", response_headers={"Set-Cookie": [value]})
    return Plant(i, "cookie", "response.headers.Set-Cookie", [first, second])


@plant("proxy-signature")
def _(s: Secrets) -> Plant:
    signature = s.token(48)
    i = exchange(request_headers={"X-Cf-Proxy-Signature": [signature], "X-Cf-Forwarded-Url": [f"{API}/v2/info"]})
    return Plant(i, "secret-header", "request.headers.X-Cf-Proxy-Signature", [signature])


@plant("api-key-header")
def _(s: Secrets) -> Plant:
    key = s.token()
    i = exchange(request_headers={"X-Api-Key": [key]})
    return Plant(i, "secret-header", "request.headers.X-Api-Key", [key])


# --------------------------------------------------------------------------- URLs


@plant("query-token")
def _(s: Secrets) -> Plant:
    token = s.token()
    i = exchange(uri=f"{API}/v2/info?results-per-page=5&Access_Token={token}")
    return Plant(i, "url-query", "request.uri", [token])


@plant("query-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    i = exchange(uri=f"{UAA}/userinfo?access_token={token}")
    return Plant(i, "jwt", "request.uri", [token])


@plant("location-code")
def _(s: Secrets) -> Plant:
    code = s.token(6)
    i = exchange(
        uri=f"{UAA}/oauth/authorize?client_id=ssh-proxy&response_type=code",
        status=302,
        response_headers={"Location": [f"{UAA}/login?code={code}&state=x"]},
    )
    return Plant(i, "url-query", "response.headers.Location", [code])


@plant("presigned-aws")
def _(s: Secrets) -> Plant:
    signature, token = s.hex(32), s.token(60)
    url = (
        "https://cc-droplets.s3.amazonaws.com/ab/cd/droplet?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential=AKIDEXAMPLE%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z"
        f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token={token}&X-Amz-Signature={signature}"
    )
    i = exchange(uri=f"{API}{APP}/droplet/download", status=302, response_headers={"Location": [url]})
    return Plant(i, "url-query", "response.headers.Location", [signature, token])


@plant("presigned-gcs")
def _(s: Secrets) -> Plant:
    signature = s.hex(128)
    url = (
        "https://storage.googleapis.com/cc-packages/ab/cd/package?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        f"&X-Goog-Credential=cc%40project.iam.gserviceaccount.com%2F20261201%2Fauto%2Fstorage%2Fgoog4_request"
        f"&X-Goog-Date=20261201T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature={signature}"
    )
    i = exchange(uri=f"{API}{APP}/download", status=302, response_headers={"Location": [url]})
    return Plant(i, "url-query", "response.headers.Location", [signature])


@plant("presigned-azure")
def _(s: Secrets) -> Plant:
    signature = urllib.parse.quote(base64.b64encode(s._bytes(32)).decode(), safe="")
    url = f"https://ccblobs.blob.core.windows.net/droplets/ab/cd?sv=2021-08-06&se=2026-12-01T01%3A00%3A00Z&sr=b&sp=r&sig={signature}"
    i = exchange(uri=f"{API}{APP}/droplet/download", status=302, response_headers={"Location": [url]})
    return Plant(i, "url-query", "response.headers.Location", [urllib.parse.unquote(signature)])


@plant("nested-redirect")
def _(s: Secrets) -> Plant:
    code = s.token(8)
    inner = f"https://app.example.com/callback?code={code}&state=abc"
    i = exchange(uri=f"{UAA}/login?redirect={urllib.parse.quote(inner, safe='')}")
    return Plant(i, "url-query", "request.uri", [code])


@plant("revoke-path")
def _(s: Secrets) -> Plant:
    token_id = s.hex()
    i = exchange(method="DELETE", uri=f"{UAA}/oauth/token/revoke/{token_id}")
    return Plant(i, "url-path", "request.uri", [token_id])


@plant("userinfo-empty-user")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = json.dumps(
        {"entity": {"name": "cache", "syslog_drain_url": f"redis://:{password}@redis.example.com:6379/0"}}
    )
    i = exchange(uri=f"{API}/v2/user_provided_service_instances", body=body)
    return Plant(i, "url-userinfo", "response.body", [password])


@plant("userinfo-slash-and-at")
def _(s: Secrets) -> Plant:
    password = f"{s.token(6)}/{s.token(6)}@{s.token(6)}"
    body = json.dumps({"name": "db-broker", "broker_url": f"https://broker:{password}@broker.example.com:8443/v2"})
    i = exchange(method="POST", uri=f"{API}/v2/service_brokers", request_body=body)
    return Plant(i, "url-userinfo", "request.body", [password])


@plant("buildpack-userinfo")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = app_body(s, buildpack=f"https://deploy:{password}@git.example.com/org/buildpack.git")
    return Plant(exchange(body=body), "url-userinfo", "response.body", [password], body_side="response")


# --------------------------------------------------------------------------- forms


@plant("form-password")
def _(s: Secrets) -> Plant:
    password = s.token()
    form = urllib.parse.urlencode([("grant_type", "password"), ("username", "dev@example.com"), ("password", password)])
    i = exchange(
        method="POST",
        uri=f"{UAA}/oauth/token",
        request_headers={"Content-Type": ["application/x-www-form-urlencoded"], "Authorization": ["Basic Y2Y6"]},
        request_body=form,
    )
    return Plant(i, "form-field", "request.body", [password])


@plant("form-first-field")
def _(s: Secrets) -> Plant:
    secret = s.token()
    form = urllib.parse.urlencode([("client_secret", secret), ("grant_type", "client_credentials")])
    i = exchange(method="POST", uri=f"{UAA}/oauth/token", request_body=form)
    return Plant(i, "form-field", "request.body", [secret])


@plant("saml-post")
def _(s: Secrets) -> Plant:
    assertion = base64.b64encode(b"<samlp:Response>" + s._bytes(64) + b"</samlp:Response>").decode()
    form = urllib.parse.urlencode([("SAMLResponse", assertion), ("RelayState", "cloudfoundry-uaa-sp")])
    i = exchange(method="POST", uri=f"{UAA}/saml/SSO/alias/cloudfoundry-saml-login", request_body=form)
    return Plant(i, "form-field", "request.body", [assertion])


@plant("csrf-field")
def _(s: Secrets) -> Plant:
    csrf = s.token()
    form = urllib.parse.urlencode([("username", "dev@example.com"), ("X-Uaa-Csrf", csrf)])
    i = exchange(
        method="POST", uri=f"{UAA}/login.do", request_headers={"Cookie": [f"X-Uaa-Csrf={csrf}"]}, request_body=form
    )
    return Plant(i, "form-field", "request.body", [csrf])


# --------------------------------------------------------------------------- JSON bodies


@plant("token-response")
def _(s: Secrets) -> Plant:
    body = factories.token_response(seed=2, opaque=True)
    body["access_token"] = access = s.hex()
    body.pop("refresh_token", None)
    i = exchange(method="POST", uri=f"{UAA}/oauth/token", body=json.dumps(body))
    return Plant(i, "secret-key", "response.body", [access], body_side="response")


@plant("token-response-jwts")
def _(s: Secrets) -> Plant:
    body = factories.token_response(seed=2)
    body["access_token"] = access = s.jwt()
    body["refresh_token"] = refresh = s.jwt(jti=s.hex() + "-r")
    i = exchange(method="POST", uri=f"{UAA}/oauth/token", body=json.dumps(body))
    return Plant(i, "jwt", "response.body", [access, refresh], body_side="response")


@plant("password-reset-code")
def _(s: Secrets) -> Plant:
    code = s.token(8)
    i = exchange(
        method="POST", uri=f"{UAA}/password_resets", status=201, body=json.dumps({"code": code, "user_id": "u-1"})
    )
    return Plant(i, "secret-key", "response.body", [code], body_side="response")


@plant("broker-password")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = {"name": "db", "broker_url": "https://broker.example.com", "auth_username": "u", "auth_password": password}
    i = exchange(method="POST", uri=f"{API}/v2/service_brokers", request_body=json.dumps(body))
    return Plant(i, "secret-key", "request.body", [password], body_side="request")


@plant("parameters-passphrase")
def _(s: Secrets) -> Plant:
    passphrase = s.token()
    body = {"name": "tls", "service_plan_guid": "p-1", "parameters": {"key_passphrase": passphrase, "size": 2048}}
    i = exchange(method="POST", uri=f"{API}/v2/service_instances", request_body=json.dumps(body))
    return Plant(i, "secret-key", "request.body", [passphrase], body_side="request")


@plant("parameters-pem")
def _(s: Secrets) -> Plant:
    material = base64.b64encode(s._bytes(90)).decode()
    kind = "RSA " + "PRIVATE" + " KEY"  # assembled: `cfreplay scan tests/` must not flag this file
    pem = f"-----BEGIN {kind}-----\n{material[:64]}\n{material[64:]}\n-----END {kind}-----\n"
    body = {
        "name": "tls",
        "parameters": {"certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "tls_key": pem},
    }
    i = exchange(method="POST", uri=f"{API}/v2/service_instances", request_body=json.dumps(body, indent=2))
    return Plant(i, "private-key", "request.body", [material[:40]], body_side="request")


@plant("duplicate-keys")
def _(s: Secrets) -> Plant:
    first, second = s.token(), s.token()
    body = '{"name": "db", "password": "' + first + '", "password": "' + second + '"}'
    i = exchange(method="PUT", uri=f"{API}/v2/service_brokers/b-1", request_body=body)
    return Plant(i, "secret-key", "request.body", [first, second], body_side="request")


@plant("credentials-object")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = {
        "metadata": {"guid": "sb-1"},
        "entity": {"credentials": {"uri": "mysql://db.example.com", "password": password}},
    }
    i = exchange(uri=f"{API}/v2/service_bindings/sb-1", body=json.dumps(body, indent=2))
    return Plant(i, "credentials", "response.body", [password], body_side="response")


@plant("docker-credentials-json")
def _(s: Secrets) -> Plant:
    password = s.token()
    creds = {"docker_user": "deployer", "docker_password": password, "docker_email": "d@example.com"}
    body = json.dumps({"name": "web", "docker_image": "example/web:1", "docker_credentials_json": creds})
    i = exchange(method="POST", uri=f"{API}/v2/apps", request_body=body)
    return Plant(i, "docker-credentials", "request.body", [password], body_side="request")


@plant("docker-credentials")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = json.dumps({"name": "web", "docker_credentials": {"username": "deployer", "password": password}})
    i = exchange(method="PUT", uri=f"{API}{APP}", request_body=body)
    return Plant(i, "docker-credentials", "request.body", [password], body_side="request")


@plant("jti")
def _(s: Secrets) -> Plant:
    jti = s.hex()
    body = {"access_token": tokens.sign({"jti": "x"}), "token_type": "bearer", "jti": jti}
    i = exchange(method="POST", uri=f"{UAA}/oauth/token", body=json.dumps(body))
    return Plant(i, "token-id", "response.body", [jti], body_side="response")


# --------------------------------------------------------------------------- env maps


@plant("env-secret-name")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = app_body(s, environment_json={"DB_PASSWORD": password, "LOG_LEVEL": "debug"})
    return Plant(exchange(body=body), "secret-key", "response.body", [password], body_side="response")


@plant("env-dsn")
def _(s: Secrets) -> Plant:
    dsn = f"{s.hex()}-{s.hex(4)}"
    body = app_body(s, environment_json={"SENTRY_DSN": dsn})
    return Plant(exchange(body=body), "env-value", "response.body", [dsn], body_side="response")


@plant("env-github-token")
def _(s: Secrets) -> Plant:
    token = "ghp_" + s.alnum(36)
    body = app_body(s, environment_json={"DEPLOY_HELPER": token})
    return Plant(exchange(body=body), "github-token", "response.body", [token], body_side="response")


@plant("env-stripe-key")
def _(s: Secrets) -> Plant:
    key = "sk_live_" + s.alnum(24)
    body = json.dumps({"environment_json": {"PAYMENTS": key}})
    i = exchange(method="PUT", uri=f"{API}{APP}", request_body=body)
    return Plant(i, "stripe-key", "request.body", [key], body_side="request")


@plant("env-slack-webhook")
def _(s: Secrets) -> Plant:
    hook = f"T{s.alnum(8)}/B{s.alnum(8)}/{s.alnum(24)}"
    body = app_body(s, environment_json={"NOTIFY_URL": f"https://hooks.slack.com/services/{hook}"})
    return Plant(exchange(body=body), "slack-webhook", "response.body", [hook], body_side="response")


@plant("env-java-opts")
def _(s: Secrets) -> Plant:
    password = s.token()
    opts = f"-Xmx512m -Dspring.datasource.password={password} -Djava.security.egd=file:///dev/urandom"
    body = app_body(s, environment_json={"JAVA_OPTS": opts})
    return Plant(exchange(body=body), "command-line", "response.body", [password], body_side="response")


@plant("env-json-string")
def _(s: Secrets) -> Plant:
    password = s.token()
    inner = json.dumps({"spring.datasource.url": "jdbc:postgresql://db/app", "spring.datasource.password": password})
    body = app_body(s, environment_json={"SPRING_APPLICATION_JSON": inner})
    return Plant(exchange(body=body), "secret-key", "response.body", [password], body_side="response")


@plant("vcap-services-string")
def _(s: Secrets) -> Plant:
    password = s.token()
    services = json.dumps({"p-mysql": [{"name": "db", "credentials": {"username": "u", "password": password}}]})
    body = json.dumps({"environment_json": {"VCAP_SERVICES": services}})
    i = exchange(method="PUT", uri=f"{API}{APP}", request_body=body)
    return Plant(i, "credentials", "request.body", [password], body_side="request")


@plant("env-group")
def _(s: Secrets) -> Plant:
    value = s.token()
    i = exchange(
        method="PUT",
        uri=f"{API}/v2/config/environment_variable_groups/running",
        request_body=json.dumps({"HTTP_AUTH": value, "REGION": "eu"}),
    )
    return Plant(i, "env-value", "request.body", [value], body_side="request")


@plant("app-command")
def _(s: Secrets) -> Plant:
    password = s.token()
    body = app_body(s, command=f"bin/migrate --db-password={password} && bundle exec puma")
    return Plant(exchange(body=body), "command-line", "response.body", [password], body_side="response")


# --------------------------------------------------------------------------- tokens hidden by encoding


@plant("jwe")
def _(s: Secrets) -> Plant:
    header = base64.urlsafe_b64encode(b'{"alg":"RSA-OAEP","enc":"A256GCM"}').decode().rstrip("=")
    parts = [header] + [base64.urlsafe_b64encode(s._bytes(n)).decode().rstrip("=") for n in (64, 12, 40, 16)]
    token = ".".join(parts)
    i = exchange(body=json.dumps({"id_token_encrypted": token, "note": "x"}))
    return Plant(i, "jwe", "response.body", [token], body_side="response")


@plant("standard-base64-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    head, payload, signature = token.split(".")
    signature = base64.b64encode(s._bytes(33)).decode()
    standard = f"{head}.{payload}.{signature}"
    if "/" not in standard:
        standard = standard + "/x"
    body = json.dumps({"note": f"token {standard}"}).replace("/", "\\/")
    i = exchange(uri=f"{UAA}/introspect", body=body)
    return Plant(i, "jwt", "response.body", [signature], body_side="response")


@plant("escaped-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    hidden = "\\u0065" + token[1:].replace(".", "\\u002e")
    i = exchange(response_headers={"Content-Type": ["text/plain"]}, body='log: "' + hidden + '"')
    return Plant(i, "jwt", "response.body", [token.rsplit(".", 1)[1]], body_side="response")


@plant("base64-wrapped-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    blob = base64.b64encode(f'{{"auth": "{token}"}}'.encode()).decode()
    i = exchange(body=json.dumps({"config": blob}))
    return Plant(i, "jwt", "response.body", [token], body_side="response")


@plant("binary-body-jwt")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    raw = b"\x89PNG\r\n\x1a\n\x00\x00" + f"tEXtauth {token}".encode() + bytes([0xFF, 0xC3])
    i = exchange(response_headers={"Content-Type": ["image/png"]}, body=raw)
    return Plant(i, "jwt", "response.body", [token], yaml_only=True)


@plant("prose-bearer")
def _(s: Secrets) -> Plant:
    token = s.hex(20)
    body = json.dumps({"description": f"request failed: Authorization: Bearer {token} was rejected", "error_code": "X"})
    i = exchange(status=401, body=body)
    return Plant(i, "authorization", "response.body", [token], body_side="response")


# --------------------------------------------------------------------------- the cassette's own keys


@plant("metadata")
def _(s: Secrets) -> Plant:
    token = s.jwt()
    return Plant(exchange(), "jwt", "metadata", [token], top_level={"metadata": {"note": token}})


PLANT_NAMES = tuple(sorted(PLANTS))
