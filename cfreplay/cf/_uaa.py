"""What cfreplay knows about UAA: the cf CLI's client, grant types, token response keys and claims.

Sources are named as ``UAA <path>`` (cloudfoundry/uaa) next to each fact.
:mod:`cfreplay.cf.cfapi` re-exports its public names (``__all__``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cfreplay.cf._java import java_hash_set_order

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
# ID_TOKEN_CLAIMS and REFRESH_TOKEN_CLAIMS are imported from here by the token factories;
# they join __all__ once cfapi re-exports them (every name in __all__ must be,
# tests/cf/test_rooms.py).

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

#: Access-token JWT claims in UAA's insertion order (UAA UaaTokenServices.java#createJWTAccessToken,
#: a LinkedHashMap).  ``client_auth_method`` and ``revocable`` are only there on conditions, below.
ACCESS_TOKEN_CLAIMS: Final[tuple[_Claim, ...]] = (
    _Claim("jti", doc="32 hex chars since UAA 3.3.0"),
    # An "additional root claim", put right after the jti and the az_attr/nonce extras.
    # UAA writes it only when the client did not authenticate with a secret: "none" for an
    # empty secret such as the cf CLI's cf client (UAA ClientDetailsAuthenticationProvider
    # sets "empty", UaaTokenServices#addRootClaimEntry writes it as "none"; since UAA 76.24.0,
    # 874c62dabb), or "private_key_jwt".  A client secret leaves no trace: UAA never writes
    # client_secret_basic or client_secret_post into a token.
    _Claim("client_auth_method", doc="none for an empty client secret (the cf client), since UAA 76.24.0"),
    _Claim("sub", doc="user id for user grants, else the client id"),
    _Claim("authorities", ("client_credentials",), "client authorities"),
    _Claim("scope", doc="JSON array"),
    _Claim("client_id"),
    _Claim("cid"),
    _Claim("azp"),
    # Only for a revocable token: isOpaque || TokenPolicy.jwtRevocable, and jwt.revocable is
    # false by default (UAA UaaTokenServices#createAccessToken, TokenPolicy.java).
    _Claim("revocable", doc="true, and only for a revocable token (opaque, or jwt.revocable: true)"),
    # A refresh grant keeps the original grant: refreshAccessToken hands on claims.getGrantType().
    _Claim("grant_type", doc="the grant that authenticated the user, also in refreshed tokens"),
    _Claim("user_id", _USER_GRANTS),
    _Claim("origin", _USER_GRANTS, "uaa for internal users"),
    _Claim("user_name", _USER_GRANTS),
    _Claim("email", _USER_GRANTS),
    _Claim("auth_time", _USER_GRANTS),
    _Claim("rev_sig", doc="murmur3 hash as Integer.toHexString: up to 8 hex chars, no leading zeros"),
    _Claim("iat"),
    _Claim("exp"),
    _Claim("iss", doc="the token endpoint URL"),
    _Claim("zid", doc="uaa for the default zone"),
    _Claim("aud", doc="resource ids: the client id and scope prefixes, in Java HashSet order"),
)
#: Refresh-token JWT claims in UAA's insertion order (UAA RefreshTokenCreator.java#buildJwtToken).
#: ``acr`` only comes from SAML or external OIDC logins (an internal user's password login sets
#: ``amr: ["pwd"]`` alone, UAA AuthzAuthenticationManager.java); ``client_auth_method`` arrives
#: with the additional root claims; ``revocable`` only for a revocable refresh token.  There is
#: no ``azp``.
REFRESH_TOKEN_CLAIMS: Final = (
    "jti",
    "sub",
    "iat",
    "exp",
    "cid",
    "client_id",
    "iss",
    "zid",
    "aud",
    "granted_scopes",
    "amr",
    "auth_time",
    "acr",
    "client_auth_method",
    "grant_type",
    "user_name",
    "origin",
    "user_id",
    "revocable",
    "rev_sig",
)
#: id_token claims as UAA's IdToken bean serializes them (UAA oauth/openid/IdToken.java, filled by
#: IdTokenCreator.java): the plain public fields in declaration order, then (Jackson re-adds
#: renamed properties last) the ``@JsonProperty``-renamed ones, then the getter-only
#: ``auth_time`` and ``user_id``.  Since UAA 76.31.0 (9e9874075a) the bean goes through
#: ``getClaimMap()``, a ``java.util.HashMap``, before it is signed, so a token shows these in
#: :func:`cfreplay.cf._java.java_hash_map_order`; this order only breaks ties within a bucket.
#: Claims that need the ``profile``, ``roles`` or ``user_attributes`` scopes, a ``nonce`` or an
#: earlier login (``previous_logon_time``) are left out: the cf client asks for none of them.
ID_TOKEN_CLAIMS: Final = (
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "amr",
    "azp",
    "scope",
    "email",
    "zid",
    "origin",
    "jti",
    "email_verified",
    "cid",
    "client_id",
    "grant_type",
    "user_name",
    "rev_sig",
    "auth_time",
    "user_id",
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
    """UAA's ``aud``: the client id and the resource id of each scope, in Java ``HashSet`` order.

    The resource ids (UAA UaaAuthorizationRequestManager.java#getResourceIds, the same since UAA
    2.0): the client id, then for each scope ``openid`` for ``openid`` (scopeToResource), or the
    scope up to its *last* dot (``a.b.c`` gives ``a.b``) unless it has no dot, ends with one or
    is ``uaa.none``.  That LinkedHashSet is then copied into a ``HashSet`` by ``OAuth2Request``
    (UAA oauth/provider/OAuth2Request.java), which ``createJWTAccessToken`` lists as it iterates
    (``UaaStringUtils.getValuesOrDefaultValue``): so the order is the HashSet's, which puts the
    client id wherever its hash falls - ``cloud_controller, password, cf, openid`` for the cf
    client's classic four scopes, as production cf tokens show.  (UAA-Tokens.md's 2014 example
    shows the same rule under Java 7's different hash spreading.)
    """
    resources = [client_id]
    for scope in scopes:
        if scope == "openid":
            resources.append("openid")
        elif "." in scope and not scope.endswith(".") and scope != "uaa.none":
            resources.append(scope[: scope.rindex(".")])
    return java_hash_set_order(resources)
