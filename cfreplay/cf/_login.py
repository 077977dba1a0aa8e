"""What a client reads to log in: ``GET /`` and ``GET /v2/info`` (where UAA is), then UAA's tokens.

Public as :mod:`cfreplay.factories` / :mod:`cfreplay.cf.factories`.  Tokens are
UAA-shaped (claims and header in UAA's order) and signed with cfreplay's
published test key, or CC's docs secret for :func:`docs_access_token`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cfreplay.cf import cfapi, tokens
from cfreplay.cf._draw import DEFAULT_SYSTEM_DOMAIN, SeedArg, VersionArg, seeder
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.errors import SchemaError, UnknownNameError

__all__ = ["access_token", "docs_access_token", "draw_access_token", "info", "root", "token_response"]


def _v3_version(version: ApiVersion) -> str:
    # CC ships v2 and v3 from one release; 2.141.0 went with 3.76.0 (cf-python-client's
    # fixtures), and both minors advance together.  Approximate for other releases.
    return f"3.{max(0, version.minor - 65)}.0"


def info(
    *,
    api_version: VersionArg = None,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    v2_disabled: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """``GET /v2/info`` of a foundation at *system_domain*, fields of the era in CC's order."""
    version = ApiVersion.parse(api_version)
    d = system_domain
    values: dict[str, Any] = {
        "name": "",
        "build": "",
        "support": "",
        "version": 0,
        "description": "",
        "authorization_endpoint": f"https://login.{d}",
        "token_endpoint": f"https://uaa.{d}",
        "min_cli_version": None,
        "min_recommended_cli_version": None,
        "app_ssh_endpoint": f"ssh.{d}:2222",
        "app_ssh_host_key_fingerprint": "a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a",
        "app_ssh_oauth_client": "ssh-proxy",
        "logging_endpoint": f"wss://loggregator.{d}:4443",
        "bits_endpoint": None,
        "doppler_logging_endpoint": f"wss://doppler.{d}:443",
        "api_version": str(version),
        "osbapi_version": "2.15",
        "routing_endpoint": f"https://api.{d}/routing",
    }
    if v2_disabled:
        values["support"] = cfapi.V2_DISABLED_SUPPORT
        values["api_version"] = ""
    fields = cfapi.info_fields(version)
    known = {f.name for f in fields}
    for key in overrides:
        if key not in known:
            raise SchemaError(f"info.{key}", "not a /v2/info field of this API version", str(version))
    values.update(overrides)
    return {f.name: values[f.name] for f in fields}


def root(
    *, api_version: VersionArg = None, system_domain: str = DEFAULT_SYSTEM_DOMAIN, v2_disabled: bool = False
) -> dict[str, Any]:
    """``GET /``: the links document cf-python-client reads first."""
    version = ApiVersion.parse(api_version)
    d = system_domain
    hrefs = {
        "self": f"https://api.{d}",
        "bits_service": None,
        "cloud_controller_v2": f"https://api.{d}/v2",
        "cloud_controller_v3": f"https://api.{d}/v3",
        "network_policy_v0": f"https://api.{d}/networking/v0/external",
        "network_policy_v1": f"https://api.{d}/networking/v1/external",
        "login": f"https://login.{d}",
        "uaa": f"https://uaa.{d}",
        "credhub": None,
        "routing": f"https://api.{d}/routing",
        "logging": f"wss://doppler.{d}:443",
        "log_cache": f"https://log-cache.{d}",
        "log_stream": f"https://log-stream.{d}",
        "app_ssh": f"ssh.{d}:2222",
    }
    meta = {
        "version": str(version),
        "host_key_fingerprint": "a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a",
        "oauth_client": "ssh-proxy",
    }
    links: dict[str, Any] = {}
    for name, meta_keys in cfapi.ROOT_LINKS.items():
        if name == "cloud_controller_v2" and v2_disabled:
            continue
        href = hrefs[name]
        if href is None:
            links[name] = None
            continue
        link: dict[str, Any] = {"href": href}
        if meta_keys:
            link["meta"] = {k: (_v3_version(version) if name == "cloud_controller_v3" else meta[k]) for k in meta_keys}
        links[name] = link
    return {"links": links}


def _user_identity(s: Seeder, username: str | None) -> tuple[str, str, str]:
    faker = s.faker
    user_name = username or faker.user_name()
    email = user_name if "@" in user_name else f"{user_name}@{faker.free_email_domain()}"
    return s.uuid(), user_name, email


def access_token(
    *,
    grant_type: str = "password",
    username: str | None = None,
    client_id: str = cfapi.CF_CLIENT_ID,
    scopes: Sequence[str] = cfapi.DEVELOPER_SCOPES,
    expires_in: int = cfapi.DEFAULT_EXPIRES_IN,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> str:
    """A UAA-shaped access token (claims and header as UAA emits them), signed with cfreplay's test key.

    ``iat`` is the factory clock and ``exp`` is ``iat + expires_in``.
    """
    return draw_access_token(seeder(seed, now), grant_type, username, client_id, scopes, expires_in, system_domain)[0]


def draw_access_token(
    s: Seeder,
    grant_type: str,
    username: str | None,
    client_id: str,
    scopes: Sequence[str],
    expires_in: int,
    system_domain: str,
) -> tuple[str, dict[str, Any]]:
    """A signed access token and its claims, drawn from *s* (``restage_request`` draws one too)."""
    if grant_type not in cfapi.GRANT_TYPES:
        raise UnknownNameError("grant type", grant_type, cfapi.GRANT_TYPES)
    issued = int(s.now().timestamp())
    user_grant = grant_type != "client_credentials"
    user_id, user_name, email = _user_identity(s, username) if user_grant else ("", "", "")
    values: dict[str, Any] = {
        "jti": s.hex(32),
        "sub": user_id if user_grant else client_id,
        "authorities": list(scopes),
        "scope": list(scopes),
        "client_id": client_id,
        "cid": client_id,
        "azp": client_id,
        "revocable": True,
        "grant_type": grant_type,
        "user_id": user_id,
        "origin": "uaa",
        "user_name": user_name,
        "email": email,
        "auth_time": issued - s.random.randint(0, 3600),
        "rev_sig": s.hex(8),
        "iat": issued,
        "exp": issued + expires_in,
        "iss": f"https://uaa.{system_domain}/oauth/token",
        "zid": "uaa",
        "aud": cfapi.audience(scopes, client_id),
    }
    claims = {c.name: values[c.name] for c in cfapi.ACCESS_TOKEN_CLAIMS if c.grants is None or grant_type in c.grants}
    return tokens.sign(claims, jku=f"https://uaa.{system_domain}/token_keys"), claims


def token_response(
    *,
    grant_type: str = "password",
    username: str | None = None,
    client_id: str = cfapi.CF_CLIENT_ID,
    scopes: Sequence[str] = cfapi.DEVELOPER_SCOPES,
    expires_in: int = cfapi.DEFAULT_EXPIRES_IN,
    opaque: bool = False,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> dict[str, Any]:
    """The JSON body of a successful ``POST /oauth/token``, keys in UAA's order.

    User grants get an ``id_token`` (when ``openid`` is in scope) and a refresh
    token; ``client_credentials`` gets neither.  ``opaque=True`` mimics
    ``token_format=opaque``: the access token is a short id, not a JWT.
    """
    s = seeder(seed, now)
    access, claims = draw_access_token(s, grant_type, username, client_id, scopes, expires_in, system_domain)
    jku = f"https://uaa.{system_domain}/token_keys"
    body: dict[str, Any] = {"access_token": s.hex(32) if opaque else access, "token_type": "bearer"}
    user_grant = grant_type != "client_credentials"
    if user_grant and "openid" in scopes:
        id_claims = {
            k: claims[k]
            for k in ("sub", "user_name", "origin", "iss", "client_id", "zid", "user_id", "azp", "iat", "exp", "email")
        }
        id_claims["aud"] = [client_id]
        id_claims["scope"] = ["openid"]
        id_claims["jti"] = s.hex(32)
        body["id_token"] = tokens.sign(id_claims, jku=jku)
    if user_grant:
        refresh_claims = {
            "jti": f"{s.hex(32)}-r",
            "sub": claims["sub"],
            "iat": claims["iat"],
            "exp": claims["iat"] + 30 * 86400,
            "cid": client_id,
            "client_id": client_id,
            "iss": claims["iss"],
            "zid": "uaa",
            "aud": claims["aud"],
            "granted_scopes": list(scopes),
            "amr": ["pwd"],
            "auth_time": claims["auth_time"],
            "acr": {"values": ["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"]},
            "azp": client_id,
            "grant_type": grant_type,
            "user_name": claims["user_name"],
            "origin": "uaa",
            "user_id": claims["user_id"],
            "rev_sig": claims["rev_sig"],
        }
        body["refresh_token"] = s.hex(32) + "-r" if opaque else tokens.sign(refresh_claims, jku=jku)
    body["expires_in"] = expires_in
    body["scope"] = " ".join(scopes)
    body["jti"] = claims["jti"]
    return {key: body[key] for key in cfapi.TOKEN_RESPONSE_KEYS if key in body}


def docs_access_token(
    *,
    user_id: str,
    email: str,
    scope: Sequence[str] = ("cloud_controller.admin",),
    aud: Sequence[str] = ("cloud_controller",),
    exp: int,
) -> str:
    """A token shaped like those on CC's apidocs pages (not UAA-shaped; see reference §4.3).

    Signed with CC's public test secret ``tokensecret``, header ``typ`` first, as the docs have it.
    """
    claims = {"user_id": user_id, "email": email, "scope": list(scope), "aud": list(aud), "exp": exp}
    return tokens.sign(claims, key=tokens.CC_DOCS_SECRET, docs_header=True)
