"""What cfreplay knows about UAA: the cf CLI's client, grant types, token response keys and claims.

Sources are named as ``UAA <path>`` (cloudfoundry/uaa) next to each fact.
:mod:`cfreplay.cf.cfapi` re-exports all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ACCESS_TOKEN_CLAIMS",
    "CF_CLIENT_BASIC",
    "CF_CLIENT_ID",
    "DEFAULT_EXPIRES_IN",
    "DEVELOPER_SCOPES",
    "GRANT_TYPES",
    "JWT_HEADER_KEYS",
    "PII_CLAIMS",
    "TOKEN_RESPONSE_KEYS",
    "audience",
]

#: The cf CLI's public client: id ``cf``, empty secret, ``Authorization: Basic Y2Y6``.
CF_CLIENT_ID: Final = "cf"
CF_CLIENT_BASIC: Final = "Basic Y2Y6"
DEFAULT_EXPIRES_IN: Final = 43199
#: Keys of a successful ``POST /oauth/token`` answer, in order
#: (UAA OAuth2AccessTokenJackson2Serializer.java).
TOKEN_RESPONSE_KEYS: Final = ("access_token", "token_type", "id_token", "refresh_token", "expires_in", "scope", "jti")
GRANT_TYPES: Final = ("password", "refresh_token", "client_credentials", "authorization_code")


@dataclass(frozen=True)
class _Claim:
    """An access-token claim: which grants carry it (``None`` = all)."""

    name: str
    grants: tuple[str, ...] | None = None
    doc: str = ""


_USER_GRANTS: Final = ("password", "refresh_token", "authorization_code")

#: Access-token JWT claims in UAA's insertion order (UAA UaaTokenServices.java#createJWTAccessToken).
ACCESS_TOKEN_CLAIMS: Final[tuple[_Claim, ...]] = (
    _Claim("jti", doc="32 hex chars since UAA 3.3.0"),
    _Claim("sub", doc="user id for user grants, else the client id"),
    _Claim("authorities", ("client_credentials",), "client authorities"),
    _Claim("scope", doc="JSON array"),
    _Claim("client_id"),
    _Claim("cid"),
    _Claim("azp"),
    _Claim("revocable"),
    _Claim("grant_type"),
    _Claim("user_id", _USER_GRANTS),
    _Claim("origin", _USER_GRANTS, "uaa for internal users"),
    _Claim("user_name", _USER_GRANTS),
    _Claim("email", _USER_GRANTS),
    _Claim("auth_time", _USER_GRANTS),
    _Claim("rev_sig"),
    _Claim("iat"),
    _Claim("exp"),
    _Claim("iss", doc="the token endpoint URL"),
    _Claim("zid", doc="uaa for the default zone"),
    _Claim("aud", doc="resource ids (scope prefixes) and the client id"),
)
#: JWT header keys in UAA's order (UAA HeaderParameters.java).
JWT_HEADER_KEYS: Final = ("alg", "jku", "kid", "typ")
#: Claims that identify a person; the sanitizer replaces them in fakes.
PII_CLAIMS: Final = ("email", "user_name", "user_id", "sub")
#: Scopes the cf client asks for on behalf of an ordinary space developer.
DEVELOPER_SCOPES: Final = (
    "openid",
    "routing.router_groups.read",
    "cloud_controller.read",
    "password.write",
    "cloud_controller.write",
    "uaa.user",
)


def audience(scopes: Sequence[str], client_id: str) -> list[str]:
    """UAA's ``aud``: the resource ids the scopes name (their prefix), then the client id."""
    resources: list[str] = []
    for scope in scopes:
        resource = scope.split(".", 1)[0]
        if resource not in resources:
            resources.append(resource)
    if client_id not in resources:
        resources.append(client_id)
    return resources
