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
import secrets
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from cfreplay.cf import cfapi, factories, tokens
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


@dataclass(frozen=True)
class _RefreshGrant:
    client_id: str
    scopes: tuple[str, ...]
    auth_time: int
    exp: int


class _Refusal(Exception):
    """A UAA error: HTTP status, OAuth ``error`` and ``error_description``."""

    def __init__(self, status: int, error: str, description: str, *, realm: str = "UAA/oauth") -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.realm = realm


class Uaa:
    """UAA's token endpoint and the state behind it: the clients, live access tokens, refresh grants.

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
        self._refresh_grants: dict[str, _RefreshGrant] = {}

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
                raise _Refusal(405, "method_not_allowed", f"Request method '{exchange.method}' is not supported")
            if exchange.query:
                # UaaTokenEndpoint with query strings disabled (UAA …/oauth/UaaTokenEndpoint.java,
                # HttpMethodNotSupportedAdvice.java): 406, not 400.
                raise _Refusal(406, "query_string_not_allowed", "Parameters must be passed in the body of the request")
            grant_type = form.get("grant_type")
            if not grant_type:
                raise _Refusal(400, "invalid_request", "Missing grant type")
            if grant_type not in ("password", "refresh_token", "client_credentials"):
                raise _Refusal(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
            if grant_type not in self._clients[client_id].grants:
                raise _Refusal(401, "invalid_client", f"Unauthorized grant type: {grant_type}")
            if grant_type == "password":
                document = self._password_grant(client_id, form)
            elif grant_type == "refresh_token":
                document = self._refresh_grant(client_id, form)
            else:
                scopes = _narrow(form.get("scope", ""), self._clients[client_id].scopes)
                document = self._issue("client_credentials", client_id, scopes, int(time.time()))
            return self._json(exchange, 200, document, cookies=True)
        except _Refusal as refusal:
            return self._error(exchange, refusal)

    def _authenticate_client(self, exchange: Exchange, form: Mapping[str, str]) -> str:
        header = exchange.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _Refusal(
                    401, "unauthorized", "Failed to decode basic authentication token", realm="UAA/client"
                ) from None
            client_id, _, secret = decoded.partition(":")
        elif "client_id" in form:
            client_id, secret = form["client_id"], form.get("client_secret", "")
        else:
            raise _Refusal(
                401, "unauthorized", "An Authentication object was not found in the SecurityContext", realm="UAA/client"
            )
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise _Refusal(401, "unauthorized", "Bad credentials", realm="UAA/client")
        return client_id

    def _password_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        username, password = form.get("username", ""), form.get("password", "")
        # UAA looks users up case-insensitively; the password must match exactly.
        if username.casefold() != self._directory.username.casefold() or not hmac.compare_digest(
            password.encode(), self._directory.password.encode()
        ):
            raise _Refusal(401, "unauthorized", "Bad credentials")
        scopes = _narrow(form.get("scope", ""), self._clients[client_id].scopes)
        return self._issue("password", client_id, scopes, int(time.time()))

    def _refresh_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        # UAA's answers (UaaTokenServices.refreshAccessToken, TokenValidation): a refresh token
        # that cannot be used is invalid_token (401); only a wrong client is invalid_grant (400).
        value = form.get("refresh_token", "")
        if not value:
            raise _Refusal(401, "invalid_token", "Invalid refresh token (empty token)")
        if tokens.try_decode(value) is None:
            # UAA appends the token it could not decode; a simulator does not echo secrets.
            raise _Refusal(401, "invalid_token", "Invalid token (could not decode)")
        if not tokens.is_test_token(value, key=self._signing_key):
            raise _Refusal(401, "invalid_token", "Could not verify token signature.")
        claims = tokens.decode_unverified(value)[1]
        grant = self._refresh_grants.get(str(claims.get("jti")))
        if grant is None:
            raise _Refusal(401, "invalid_token", "Invalid refresh token.")
        if grant.client_id != client_id:
            raise _Refusal(400, "invalid_grant", f"Wrong client for this refresh token: {grant.client_id}")
        if time.time() > grant.exp:
            expired = datetime.fromtimestamp(grant.exp, UTC).strftime(_JAVA_DATE)
            raise _Refusal(401, "invalid_token", f"Invalid refresh token expired at {expired}")
        scopes = _narrow(form.get("scope", ""), grant.scopes, refresh=True)
        return self._issue("refresh_token", client_id, scopes, grant.auth_time, refresh_token=value)

    def _issue(
        self,
        grant_type: str,
        client_id: str,
        scopes: Sequence[str],
        auth_time: int,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, Any]:
        """A token response from the factories, re-signed to name this simulator and its one user."""
        user_grant = grant_type != "client_credentials"
        document = factories.token_response(
            grant_type=grant_type,
            username=self._directory.username if user_grant else None,
            client_id=client_id,
            scopes=scopes,
            expires_in=self._directory.token_lifetime,
            # Fresh randomness: token ids must not repeat across simulators with one seed
            # (unless this one was asked to repeat itself).
            seed=Seeder(int(self._hex(8), 16), now="wall"),
        )
        updates: dict[str, Any] = {"iss": f"{self._directory.uaa_url}/oauth/token"}
        if user_grant:
            updates.update(user_id=self._directory.user_id, sub=self._directory.user_id, auth_time=auth_time)
        for key in ("access_token", "id_token"):
            if key in document:
                document[key] = self._resign(document[key], updates)
        if "refresh_token" in document:
            # UAA's refresh grant hands back the refresh token it was given (non-rotating).
            document["refresh_token"] = refresh_token or self._resign(document["refresh_token"], updates)
            refresh_claims = tokens.decode_unverified(document["refresh_token"])[1]
            self._refresh_grants.setdefault(
                str(refresh_claims["jti"]),
                _RefreshGrant(client_id, tuple(scopes), auth_time, int(refresh_claims["exp"])),
            )
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
        extra: list[tuple[str, str]] = []
        if refusal.status == 401:
            # Spring's OAuth2 entry points: "Basic" for client authentication, "Bearer" otherwise.
            scheme = "Basic" if refusal.realm == "UAA/client" else "Bearer"
            extra.append(
                (
                    "WWW-Authenticate",
                    f'{scheme} realm="{refusal.realm}", error="{refusal.error}", '
                    f'error_description="{refusal.description}"',
                )
            )
        document = {"error": refusal.error, "error_description": refusal.description}
        return self._json(exchange, refusal.status, document, extra=extra)


def _narrow(requested: str, allowed: Sequence[str], *, refresh: bool = False) -> tuple[str, ...]:
    """The scopes a token gets: all it may have, or the subset asked for (UAA refuses any other)."""
    wanted = requested.replace(",", " ").split()
    if not wanted:
        return tuple(allowed)
    missing = [scope for scope in wanted if scope not in allowed]
    if missing:
        if refresh:
            listed = ", ".join(wanted)
            raise _Refusal(
                400, "invalid_scope", f"Unable to narrow the scope of the client authentication to [{listed}]."
            )
        raise _Refusal(
            400,
            "invalid_scope",
            f"Invalid scope: {', '.join(missing)}. "
            "Did you know that you can get default scopes by simply sending no value?",
        )
    return tuple(scope for scope in allowed if scope in wanted)
