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
from cfreplay.cf._java import java_hash_map_order
from cfreplay.cf._uaa import ID_TOKEN_CLAIMS, REFRESH_TOKEN_CLAIMS
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.errors import ApiVersionError, SchemaError, UnknownNameError

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
    """``GET /v2/info`` of a foundation at *system_domain*, fields of the era in CC's order.

    ``v2_disabled`` is what CC answers with v2 switched off, from 2.256
    (:data:`cfreplay.cf.cfapi.V2_DISABLED_INFO_SINCE`; before, ``/v2/info`` went with the rest of v2).
    """
    version = ApiVersion.parse(api_version)
    if v2_disabled and version < cfapi.V2_DISABLED_INFO_SINCE:
        raise ApiVersionError(
            f"API {version} does not answer /v2/info with v2 switched off; that came in {cfapi.V2_DISABLED_INFO_SINCE}"
        )
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
    # A conditional field (the bits service's endpoint) is only there when the foundation has it.
    return {f.name: values[f.name] for f in fields if not f.conditional or f.name in overrides}


def root(
    *, api_version: VersionArg = None, system_domain: str = DEFAULT_SYSTEM_DOMAIN, v2_disabled: bool = False
) -> dict[str, Any]:
    """``GET /``: the links document cf-python-client reads first, with the links of the era in CC's order.

    CC serves it from 2.63 (:data:`cfreplay.cf.cfapi.ROOT_SINCE`); v2 can be switched
    off, dropping the ``cloud_controller_v2`` link, from 2.246.
    """
    version = ApiVersion.parse(api_version)
    if version < cfapi.ROOT_SINCE:
        raise ApiVersionError(f"GET / is not served by API {version}; it first appears in {cfapi.ROOT_SINCE}")
    if v2_disabled and version < cfapi.ROOT_V2_LAST_SINCE:
        raise ApiVersionError(f"API {version} cannot switch v2 off; that came in {cfapi.ROOT_V2_LAST_SINCE}")
    d = system_domain
    hrefs = {
        "self": f"https://api.{d}",
        # The bits service was an opt-in few foundations ran: off, CC writes null.
        "bits_service": None,
        "cloud_controller_v2": f"https://api.{d}/v2",
        "cloud_controller_v3": f"https://api.{d}/v3",
        "network_policy": f"https://api.{d}/networking/v0/external",
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
    for root_link in cfapi.root_links(version, v2_enabled=not v2_disabled):
        name = root_link.name
        href = hrefs[name]
        if href is None:
            links[name] = None
            continue
        link: dict[str, Any] = {"href": href}
        if root_link.meta:
            link["meta"] = {
                k: (_v3_version(version) if name == "cloud_controller_v3" else meta[k]) for k in root_link.meta
            }
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
    public_client: bool | None = None,
    revocable: bool = False,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> str:
    """A UAA-shaped access token (claims and header as UAA emits them), signed with cfreplay's test key.

    ``iat`` is the factory clock and ``exp`` is ``iat + expires_in``.  ``grant_type="refresh_token"``
    is a refreshed password grant: UAA keeps the original grant in the token.  *public_client*
    says the client authenticated with an empty secret (default: only the cf CLI's ``cf``),
    which UAA records as ``client_auth_method: none``; *revocable* is UAA's ``jwt.revocable``
    token policy (off by default), which adds ``revocable: true``.
    """
    s = seeder(seed, now)
    return draw_access_token(
        s, grant_type, username, client_id, scopes, expires_in, system_domain, public_client, revocable
    )[0]


def _is_public(client_id: str, public_client: bool | None) -> bool:
    # The cf CLI's client has an empty secret (reference §4.1); any other is assumed to have one.
    return client_id == cfapi.CF_CLIENT_ID if public_client is None else public_client


def _rev_sig(s: Seeder) -> str:
    # UAA's revocation hash is an int written by Integer.toHexString (UAA UaaTokenUtils.java
    # #getRevocationHash): 1 to 8 hex digits, never zero-padded.
    return f"{int(s.hex(8), 16):x}"


def draw_access_token(
    s: Seeder,
    grant_type: str,
    username: str | None,
    client_id: str,
    scopes: Sequence[str],
    expires_in: int,
    system_domain: str,
    public_client: bool | None = None,
    revocable: bool = False,
) -> tuple[str, dict[str, Any]]:
    """A signed access token and its claims, drawn from *s* (``restage_request`` draws one too)."""
    if grant_type not in cfapi.GRANT_TYPES:
        raise UnknownNameError("grant type", grant_type, cfapi.GRANT_TYPES)
    issued = int(s.now().timestamp())
    user_grant = grant_type != "client_credentials"
    user_id, user_name, email = _user_identity(s, username) if user_grant else ("", "", "")
    values: dict[str, Any] = {
        "jti": s.hex(32),
        "client_auth_method": "none",
        "sub": user_id if user_grant else client_id,
        "authorities": list(scopes),
        "scope": list(scopes),
        "client_id": client_id,
        "cid": client_id,
        "azp": client_id,
        "revocable": True,
        # UAA's refresh grant hands on the grant type the refresh token carries
        # (UaaTokenServices#refreshAccessToken: claims.getGrantType()): a refreshed cf token says
        # "password", never "refresh_token".
        "grant_type": "password" if grant_type == "refresh_token" else grant_type,
        "user_id": user_id,
        "origin": "uaa",
        "user_name": user_name,
        "email": email,
        "auth_time": issued - s.random.randint(0, 3600),
        "rev_sig": _rev_sig(s),
        "iat": issued,
        "exp": issued + expires_in,
        "iss": f"https://uaa.{system_domain}/oauth/token",
        "zid": "uaa",
        "aud": cfapi.audience(scopes, client_id),
    }
    absent: set[str] = set()
    if not _is_public(client_id, public_client):
        absent.add("client_auth_method")
    if not revocable:
        absent.add("revocable")
    claims = {
        c.name: values[c.name]
        for c in cfapi.ACCESS_TOKEN_CLAIMS
        if (c.grants is None or grant_type in c.grants) and c.name not in absent
    }
    return tokens.sign(claims, jku=f"https://uaa.{system_domain}/token_keys"), claims


def _id_token_claims(access: dict[str, Any], client_id: str) -> dict[str, Any]:
    """The id_token UAA issues next to *access* (UAA IdTokenCreator.java), in UAA's key order.

    One user, one client, one moment: ``jti`` is the access token's (UAA hands IdTokenCreator the
    access token id), ``exp`` its expiry (the id token validity resolves to the access token's),
    ``rev_sig`` the same hash of client and user, ``amr`` the password login's ``pwd``.  An
    internal user has no ``acr``; a user created through SCIM is verified.
    """
    values: dict[str, Any] = {
        "sub": access["user_id"],
        "aud": [client_id],
        "iss": access["iss"],
        "exp": access["exp"],
        "iat": access["iat"],
        "amr": ["pwd"],
        "azp": client_id,
        "scope": ["openid"],
        "email": access["email"],
        "zid": access["zid"],
        "origin": access["origin"],
        "jti": access["jti"],
        "email_verified": True,
        "cid": client_id,
        "client_id": client_id,
        "grant_type": access["grant_type"],
        "user_name": access["user_name"],
        "rev_sig": access["rev_sig"],
        "auth_time": access["auth_time"],
        "user_id": access["user_id"],
    }
    # UAA signs IdToken.getClaimMap(), a HashMap (UAA >= 76.31.0): the keys come out in its order.
    return {key: values[key] for key in java_hash_map_order(ID_TOKEN_CLAIMS)}


def _refresh_token_claims(s: Seeder, access: dict[str, Any], scopes: Sequence[str]) -> dict[str, Any]:
    """A refresh token for the grant behind *access* (UAA RefreshTokenCreator.java), 30 days long."""
    values: dict[str, Any] = {
        "jti": f"{s.hex(32)}-r",
        "sub": access["sub"],
        "iat": access["iat"],
        "exp": access["iat"] + 30 * 86400,
        "cid": access["cid"],
        "client_id": access["client_id"],
        "iss": access["iss"],
        "zid": access["zid"],
        "aud": access["aud"],
        "granted_scopes": list(scopes),
        "amr": ["pwd"],
        "auth_time": access["auth_time"],
        "grant_type": access["grant_type"],
        "user_name": access["user_name"],
        "origin": access["origin"],
        "user_id": access["user_id"],
        "rev_sig": access["rev_sig"],
    }
    # The same conditions as the access token's: both come from one request and one token policy.
    for optional in ("client_auth_method", "revocable"):
        if optional in access:
            values[optional] = access[optional]
    return {key: values[key] for key in REFRESH_TOKEN_CLAIMS if key in values}


def token_response(
    *,
    grant_type: str = "password",
    username: str | None = None,
    client_id: str = cfapi.CF_CLIENT_ID,
    scopes: Sequence[str] = cfapi.DEVELOPER_SCOPES,
    expires_in: int = cfapi.DEFAULT_EXPIRES_IN,
    opaque: bool = False,
    public_client: bool | None = None,
    revocable: bool = False,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> dict[str, Any]:
    """The JSON body of a successful ``POST /oauth/token``, keys in UAA's order.

    User grants get an ``id_token`` (when ``openid`` is in scope) and a refresh
    token; ``client_credentials`` gets neither.  ``opaque=True`` mimics
    ``token_format=opaque``: the access token is its own ``jti`` and the refresh
    token its ``…-r`` id, not JWTs.  *public_client* and *revocable* as for
    :func:`access_token`.
    """
    s = seeder(seed, now)
    access, claims = draw_access_token(
        s, grant_type, username, client_id, scopes, expires_in, system_domain, public_client, revocable
    )
    jku = f"https://uaa.{system_domain}/token_keys"
    # An opaque token is the token id itself (UAA UaaTokenServices#persistRevocableToken).
    body: dict[str, Any] = {"access_token": claims["jti"] if opaque else access, "token_type": "bearer"}
    user_grant = grant_type != "client_credentials"
    if user_grant and "openid" in scopes:
        body["id_token"] = tokens.sign(_id_token_claims(claims, client_id), jku=jku)
    if user_grant:
        refresh_claims = _refresh_token_claims(s, claims, scopes)
        body["refresh_token"] = refresh_claims["jti"] if opaque else tokens.sign(refresh_claims, jku=jku)
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
