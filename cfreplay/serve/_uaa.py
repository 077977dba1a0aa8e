"""The simulator's UAA: ``POST /oauth/token`` with its clients, grants and errors, and the tokens it issued.

Apart from CC on purpose: CC only asks :meth:`Uaa.live_claims` whether a bearer
token is one this UAA issued and has not expired or revoked, as a real CC checks
UAA's signature.  Token bodies come from cfreplay's factories, re-signed with a
key of this UAA's own (reference §4 for the grants and their errors).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import random
import re
import secrets
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from cfreplay.cf import cfapi, factories, tokens
from cfreplay.cf._java import java_hash_map_order, java_hash_set_order
from cfreplay.cf.seeding import Seeder
from cfreplay.serve._exchange import Exchange
from cfreplay.types import Response

__all__ = ["TOKEN_PATH", "Uaa", "UaaDirectory"]

#: UAA's one route the simulator serves.
TOKEN_PATH: Final = "/oauth/token"
#: What the client_credentials client may ask for.
_CLIENT_SCOPES: Final = ("cloud_controller.admin", "cloud_controller.read", "cloud_controller.write")
_SIGNING_KEY_ID: Final = "simulator-key-1"
_JAVA_DATE: Final = "%a %b %d %H:%M:%S UTC %Y"
#: What UAA takes for a JWT rather than an opaque token id (UAA UaaTokenUtils#jwtPattern).
_JWT_SHAPE: Final = re.compile(r"[a-zA-Z0-9_\-\\=]*\.[a-zA-Z0-9_\-\\=]*\.[a-zA-Z0-9_\-\\=]*")
#: Java's ``\s`` (ASCII whitespace) or ``+``: how UAA splits a scope parameter.
_SCOPE_SEPARATOR: Final = re.compile("[ \t\n\x0b\f\r+]")
#: What Java's ``String.trim()`` strips: every character up to and including the space.
_JAVA_TRIMMED: Final = "".join(map(chr, range(0x21)))


class UaaDirectory(Protocol):
    """What UAA reads of the simulator each time it needs it: where it is, its one user, the token lifetime."""

    uaa_url: str
    token_lifetime: int
    username: str
    user_id: str
    password: str


@dataclass(frozen=True)
class _Client:
    secret: str
    grants: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def public(self) -> bool:
        """An empty secret, as the cf client's: UAA writes ``client_auth_method: none`` into its tokens."""
        return not self.secret


class _Refusal(Exception):
    """A UAA error: HTTP status, the body's ``error``, ``error_description`` (and any extra keys), its challenge.

    *challenge* is the whole ``WWW-Authenticate`` value, or ``None`` for no header: who
    answers decides it (see :func:`_filter_refusal` and :func:`_endpoint_refusal`).
    """

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        challenge: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.challenge = challenge
        self.extra = dict(extra or {})


def _filter_refusal(status: int, error: str, description: str) -> _Refusal:
    """An error raised in the token endpoint's authentication filters (client, then password-grant user).

    Both answer through UAA's ``basicAuthenticationEntryPoint`` (UAA spring-servlet.xml: realm
    ``UAA/client``, type ``Basic``; oauth-endpoints.xml wires it to the password-grant filter
    too), whose ``enhanceResponse`` always writes ``Basic realm="UAA/client"`` and appends the
    translator's ``error=…, error_description=…`` when there is one: a 401 has one, a 400 not.
    """
    challenge = 'Basic realm="UAA/client"'
    if status == 401:
        challenge += f', error="{error}", error_description="{description}"'
    return _Refusal(status, error, description, challenge=challenge)


def _bad_credentials(description: str = "Bad credentials") -> _Refusal:
    """A ``BadCredentialsException`` from client or user authentication, as UAA 76.26.0+ answers it.

    UaaExceptionTranslator (UAA f55b95a048, "return invalid_client in oauth2 error code",
    v76.26.0) turns it into ``invalid_client`` in the body, but hard-codes the challenge's
    ``error="unauthorized", error_description="Bad credentials"`` whatever the message (the
    entry point then adds its realm).  Before 76.26.0 the body said ``unauthorized``; the
    ``invalid_grant`` of Spring's password granter is older still: UAA authenticates the
    password grant's user in a filter (BackwardsCompatibleTokenEndpointAuthenticationFilter).
    """
    challenge = 'Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"'
    return _Refusal(401, "invalid_client", description, challenge=challenge)


def _endpoint_refusal(status: int, error: str, description: str, *, extra: Mapping[str, str] | None = None) -> _Refusal:
    """An error the token endpoint itself raises (grants, refresh tokens, scopes).

    Its exception handler uses the default translator, with no entry point and so no realm:
    a 401 gets ``Bearer error="…", error_description="…"``, anything else no challenge (UAA
    oauth/provider/error/DefaultWebResponseExceptionTranslator.java#handleOAuth2Exception).
    """
    challenge = f'Bearer error="{error}", error_description="{description}"' if status == 401 else None
    return _Refusal(status, error, description, challenge=challenge, extra=extra)


class Uaa:
    """UAA's token endpoint and the state behind it: the clients and the live access tokens.

    *directory* is read at each request (the user's password, the base URL …);
    the clients are fixed here: the cf CLI's public ``cf`` client and one
    confidential client for the client_credentials grant.  *entropy* is where
    token ids, cookies and the signing key come from: ``None`` for fresh
    randomness, or a seeded ``random.Random`` for answers that repeat.
    """

    def __init__(
        self, directory: UaaDirectory, *, client_id: str, client_secret: str, entropy: random.Random | None = None
    ) -> None:
        self._directory = directory
        self._entropy = entropy
        self._clients: dict[str, _Client] = {
            cfapi.CF_CLIENT_ID: _Client("", ("password", "refresh_token"), cfapi.DEVELOPER_SCOPES),
            client_id: _Client(client_secret, ("client_credentials",), _CLIENT_SCOPES),
        }
        self._live_access: set[str] = set()
        # Like a real UAA, the simulator signs with a key of its own, not cfreplay's published
        # test key: its tokens are secrets to the sanitizer, so no recording keeps one.
        self._signing_key = self._hex(32)

    def _hex(self, nbytes: int) -> str:
        """*nbytes* random bytes as hex: fresh, or from the seeded *entropy*."""
        if self._entropy is None:
            return secrets.token_hex(nbytes)
        return f"{self._entropy.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def expire_tokens(self) -> None:
        """Every access token issued so far stops being live; refresh tokens still work."""
        self._live_access.clear()

    def live_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of an access token this UAA signed and has not expired or revoked, else ``None``."""
        if not token or not tokens.is_test_token(token, key=self._signing_key):
            return None
        decoded = tokens.try_decode(token)
        if decoded is None:
            return None
        claims = decoded[1]
        exp = claims.get("exp")
        if claims.get("jti") not in self._live_access or not isinstance(exp, int) or time.time() > exp:
            return None
        return claims

    def token(self, exchange: Exchange) -> Response:
        """Answer a request to :data:`TOKEN_PATH`, whatever its method: UAA checks the client first."""
        try:
            form = {
                key: values[0]
                for key, values in urllib.parse.parse_qs(
                    exchange.body.decode("utf-8", "replace"), keep_blank_values=True
                ).items()
            }
            # UAA authenticates the client in a filter, before the endpoint looks at the request.
            client_id = self._authenticate_client(exchange, form)
            if exchange.method != "POST":
                raise _Refusal(
                    405, "method_not_allowed", f"Request method '{exchange.method}' is not supported", challenge=None
                )
            if exchange.query:
                # UaaTokenEndpoint with query strings disabled (UAA …/oauth/UaaTokenEndpoint.java,
                # HttpMethodNotSupportedAdvice.java): 406, not 400.
                raise _Refusal(
                    406,
                    "query_string_not_allowed",
                    "Parameters must be passed in the body of the request",
                    challenge=None,
                )
            grant_type = form.get("grant_type")
            if not grant_type:
                raise _endpoint_refusal(400, "invalid_request", "Missing grant type")
            if grant_type not in ("password", "refresh_token", "client_credentials"):
                raise _endpoint_refusal(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
            client = self._clients[client_id]
            if grant_type not in client.grants:
                raise _endpoint_refusal(401, "invalid_client", f"Unauthorized grant type: {grant_type}")
            if grant_type == "password":
                document = self._password_grant(client_id, form)
            elif grant_type == "refresh_token":
                document = self._refresh_grant(client_id, form)
            else:
                scopes = self._client_credentials_scopes(form.get("scope"), client.scopes)
                document = self._issue("client_credentials", client_id, scopes, int(time.time()))
            return self._json(exchange, 200, document, cookies=True)
        except _Refusal as refusal:
            return self._error(exchange, refusal)

    def _authenticate_client(self, exchange: Exchange, form: Mapping[str, str]) -> str:
        # UAA ClientBasicAuthenticationFilter (a Basic header), else the client_id/client_secret
        # form parameters; every failure is a BadCredentialsException but the missing client.
        header = exchange.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _bad_credentials("Failed to decode basic authentication token") from None
            if ":" not in decoded:
                raise _bad_credentials("Invalid basic authentication token")
            client_id, _, secret = decoded.partition(":")
        elif "client_id" in form:
            client_id, secret = form["client_id"], form.get("client_secret", "")
        else:
            raise _filter_refusal(401, "unauthorized", "An Authentication object was not found in the SecurityContext")
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise _bad_credentials()
        return client_id

    def _password_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        username, password = form.get("username", ""), form.get("password", "")
        # UAA looks users up case-insensitively; the password must match exactly.  An unknown
        # user and a wrong password read the same (UAA AuthzAuthenticationManager.java).
        if username.casefold() != self._directory.username.casefold() or not hmac.compare_digest(
            password.encode(), self._directory.password.encode()
        ):
            raise _bad_credentials()
        # Once the user is in, the same filter builds the authorization request, which checks
        # the scope parameter against the client's scopes (UAA BackwardsCompatibleToken-
        # EndpointAuthenticationFilter#doFilter, UaaAuthorizationRequestManager#validateParameters).
        scopes = self._clients[client_id].scopes
        requested = _scope_parameter(form.get("scope"))
        for scope in requested:
            if scope not in scopes:
                raise _filter_refusal(
                    400, "invalid_scope", f"{scope} is invalid. Please use a valid scope name in the request"
                )
        granted = tuple(scope for scope in scopes if scope in requested) if requested else scopes
        return self._issue("password", client_id, granted, int(time.time()))

    def _client_credentials_scopes(self, parameter: str | None, authorities: Sequence[str]) -> tuple[str, ...]:
        # The endpoint's scope check for client_credentials: against the client's authorities,
        # whose set it lists as "scope" (UAA UaaOauth2RequestValidator.java, InvalidScopeException).
        requested = _scope_parameter(parameter)
        for scope in requested:
            if scope not in authorities:
                valid = " ".join(java_hash_map_order(authorities))
                raise _endpoint_refusal(400, "invalid_scope", f"Invalid scope: {scope}", extra={"scope": valid})
        return tuple(scope for scope in authorities if scope in requested) if requested else tuple(authorities)

    def _refresh_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        """UAA's refresh grant, its checks in UAA's order and worded as UAA words them.

        The order: TokenEndpoint, TokenValidationService, JwtTokenSignedByThisUAA, then
        UaaTokenServices#refreshAccessToken.  A JWT refresh token is stateless in UAA unless
        revocable: what it carries (client, scopes, grant, login time) is what the new tokens
        get, and any simulator holding the key accepts it.
        """
        value = form.get("refresh_token")
        if not value:
            raise _endpoint_refusal(400, "invalid_request", "refresh_token parameter not provided")
        if not _JWT_SHAPE.fullmatch(value):
            # Not a JWT: UAA looks the value up as an opaque token id, and finds none here.
            raise _endpoint_refusal(
                401, "invalid_token", "The token expired, was revoked, or the token ID is incorrect."
            )
        decoded = tokens.try_decode(value)
        if decoded is None:
            raise _endpoint_refusal(401, "invalid_token", "Invalid token")
        if not tokens.is_test_token(value, key=self._signing_key):
            raise _endpoint_refusal(401, "invalid_token", "Could not verify token signature.")
        claims = decoded[1]
        jti = claims.get("jti")
        if jti is None:
            raise _endpoint_refusal(401, "invalid_token", "The token must contain a jti claim.")
        if not str(jti).endswith("-r"):
            raise _endpoint_refusal(401, "invalid_token", "Invalid refresh token.")
        granted = tuple(str(scope) for scope in claims.get("granted_scopes") or ())
        if claims.get("cid") != client_id:
            raise _endpoint_refusal(400, "invalid_grant", f"Wrong client for this refresh token: {claims.get('cid')}")
        exp = int(claims.get("exp") or 0)
        if time.time() > exp:
            # Java's Date.toString() in a UTC JVM; the text since UAA 4.9.0 (e640e11c84), which
            # stopped echoing the token: "Invalid refresh token (expired): <token> expired at …" before.
            expired = datetime.fromtimestamp(exp, UTC).strftime(_JAVA_DATE)
            raise _endpoint_refusal(401, "invalid_token", f"Invalid refresh token expired at {expired}")
        requested = _scope_parameter(form.get("scope"))
        if requested and not set(requested) <= set(granted):
            # Java's Set.toString() of the requested TreeSet, and the token's scopes as "scope".
            raise _endpoint_refusal(
                400,
                "invalid_scope",
                f"Unable to narrow the scope of the client authentication to [{', '.join(requested)}].",
                extra={"scope": " ".join(java_hash_set_order(granted))},
            )
        scopes = tuple(scope for scope in granted if scope in requested) if requested else granted
        # The new access token keeps the refresh token's grant type (password), login time and
        # id: UaaTokenServices#refreshAccessToken passes claims.getGrantType() and getAuthTime() on.
        return self._issue(
            str(claims.get("grant_type") or "password"),
            client_id,
            scopes,
            int(claims.get("auth_time") or 0),
            refresh_token=value,
        )

    def _issue(
        self,
        grant_type: str,
        client_id: str,
        scopes: Sequence[str],
        auth_time: int,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, Any]:
        """A token response from the factories, re-signed to name this simulator and its one user.

        *grant_type* is the grant the tokens record (for a refresh, the refresh token's own);
        *refresh_token* the token a refresh grant was given, handed back unchanged.
        """
        user_grant = grant_type != "client_credentials"
        document = factories.token_response(
            grant_type=grant_type,
            username=self._directory.username if user_grant else None,
            client_id=client_id,
            scopes=scopes,
            expires_in=self._directory.token_lifetime,
            public_client=self._clients[client_id].public,
            # Fresh randomness: token ids must not repeat across simulators with one seed
            # (unless this one was asked to repeat itself).
            seed=Seeder(int(self._hex(8), 16), now="wall"),
        )
        updates: dict[str, Any] = {"iss": f"{self._directory.uaa_url}/oauth/token"}
        if user_grant:
            updates.update(user_id=self._directory.user_id, sub=self._directory.user_id, auth_time=auth_time)
        document["access_token"] = self._resign(document["access_token"], updates)
        if "id_token" in document:
            id_updates = dict(updates)
            if refresh_token is not None:
                # A refresh hands IdTokenCreator an id of its own, not the new access token's
                # (UaaTokenServices#refreshAccessToken: generateUniqueTokenId() twice).
                id_updates["jti"] = self._hex(16)
            document["id_token"] = self._resign(document["id_token"], id_updates)
        if "refresh_token" in document:
            # The cf client's refresh token is not rotated: an empty secret is "empty" to UAA,
            # not "none", and refreshTokenRotate is off (RefreshTokenCreator#shouldRotateRefreshTokens).
            document["refresh_token"] = refresh_token or self._resign(document["refresh_token"], updates)
        self._live_access.add(str(document["jti"]))
        return document

    def _resign(self, token: str, updates: Mapping[str, Any]) -> str:
        header, claims = tokens.decode_unverified(token)
        header["jku"] = f"{self._directory.uaa_url}/token_keys"
        header["kid"] = _SIGNING_KEY_ID
        claims.update({key: value for key, value in updates.items() if key in claims})
        return tokens.sign(claims, header=header, key=self._signing_key)

    def _json(
        self,
        exchange: Exchange,
        status: int,
        document: Mapping[str, Any],
        *,
        cookies: bool = False,
        extra: Sequence[tuple[str, str]] = (),
    ) -> Response:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        headers = [
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("Content-Type", "application/json;charset=UTF-8"),
            ("X-XSS-Protection", "1; mode=block"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-VCAP-Request-ID", exchange.request_id),
            ("Content-Length", str(len(body))),
            *extra,
        ]
        if cookies:
            # UAA's session and CSRF cookies (reference §5); fresh values, as UAA's are.
            expires = email.utils.formatdate(time.time() + 86400, usegmt=True)
            headers.append(("Set-Cookie", f"JSESSIONID={self._hex(16).upper()}; Path=/; Secure; HttpOnly"))
            csrf = base64.urlsafe_b64encode(bytes.fromhex(self._hex(16))).decode("ascii").rstrip("=")[:22]
            headers.append(("Set-Cookie", f"X-Uaa-Csrf={csrf}; Path=/; Max-Age=86400; Expires={expires}; HttpOnly"))
        return Response(status, tuple(headers), body)

    def _error(self, exchange: Exchange, refusal: _Refusal) -> Response:
        extra = [("WWW-Authenticate", refusal.challenge)] if refusal.challenge is not None else []
        document = {"error": refusal.error, "error_description": refusal.description, **refusal.extra}
        return self._json(exchange, refusal.status, document, extra=extra)


def _scope_parameter(value: str | None) -> tuple[str, ...]:
    """The ``scope`` parameter as UAA reads it: a sorted set (UAA OAuth2Utils#parseParameterList).

    Java's ``split("[\\s+]")`` on single spaces or pluses, so a doubled space makes an empty
    scope that no client has; trailing empty strings are dropped, as Java's ``split`` does.
    """
    if value is None or not value.strip(_JAVA_TRIMMED):
        return ()
    parts = _SCOPE_SEPARATOR.split(value)
    while parts and not parts[-1]:
        parts.pop()
    return tuple(sorted(set(parts)))
