"""What redacted looks like, and how a secret becomes its replacement.

The sanitizer writes these and the scanner accepts them, so both read them from
here.  A value that is already redacted is never touched again, which makes
sanitizing idempotent:

* CC's own markers (``***``, ``[PRIVATE DATA HIDDEN]``, ``[REDACTED]``…);
* cfreplay's placeholders, ``cfreplay-redacted-`` and 16 hex digits of an HMAC
  keyed per run: the same secret maps to the same placeholder everywhere in a
  run (a refresh token sent back still matches the one issued, a CSRF field its
  cookie), while neither the secret nor its length can be read back;
* JWTs signed with a published key (cfreplay's test key, CC's documentation
  key): fakes, recognisable as such.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
import uuid
from typing import TYPE_CHECKING, Any, Final

from cfreplay.cf import censorship, tokens
from cfreplay.hygiene import detectors, rules

if TYPE_CHECKING:  # Faker takes ~60 ms to import; most cassettes hold no PII to fake
    from faker import Faker

__all__ = ["PLACEHOLDER_PREFIX", "REDACTED", "Redactor", "is_placeholder", "is_public_jwt", "is_redacted", "mask"]

#: What a client-supplied credential (a password, a client secret) becomes: CC's own
#: ``***``.  A constant, so a live request sanitized at replay time matches its recording.
REDACTED: Final = censorship.REDACTED_CREDENTIAL
PLACEHOLDER_PREFIX: Final = rules.PLACEHOLDER_PREFIX
PLACEHOLDER_PATTERN: Final = rules.PLACEHOLDER_PATTERN
_PLACEHOLDER_LENGTH: Final = len(PLACEHOLDER_PREFIX) + 16
_HEX: Final = frozenset("0123456789abcdef")

#: CC's and the CLI's own redaction markers (CCNG app/presenters/helpers/censorship.rb).
MARKERS: Final = frozenset({
    censorship.PRIVATE_DATA_HIDDEN, censorship.PRIVATE_DATA_HIDDEN_IN_LISTS, censorship.REDACTED,
    censorship.REDACTED_CREDENTIAL,
    "PRIVATE DATA HIDDEN", "PRIVATE_DATA_HIDDEN", "[PRIVATE DATA HIDDEN]", "",
})  # fmt: skip

# A run's key: placeholders are consistent within one process and unlinkable across runs.
_RUN_KEY: Final = secrets.token_bytes(32)


def is_placeholder(value: str) -> bool:
    """``cfreplay-redacted-`` and 16 lower-case hex digits (a token id may carry UAA's ``-r`` suffix)."""
    if value.endswith("-r"):
        value = value[:-2]
    return (
        len(value) == _PLACEHOLDER_LENGTH
        and value.startswith(PLACEHOLDER_PREFIX)
        and _HEX.issuperset(value[len(PLACEHOLDER_PREFIX) :])
    )


def is_redacted(value: str) -> bool:
    """A marker, a cfreplay placeholder, or a JWT signed with a published key; or such glued to placeholders.

    Replacing glues them (``token=<token><private key>`` becomes ``token=<fake><placeholder>``):
    read again, such a value must be what was left, or sanitizing would never settle.
    """
    if value in MARKERS or is_placeholder(value) or is_public_jwt(value):
        return True
    if PLACEHOLDER_PREFIX not in value:
        return False
    rest = PLACEHOLDER_PATTERN.sub("", value)
    return not rest or rest in MARKERS or is_public_jwt(rest)


@functools.lru_cache(maxsize=8192)
def is_public_jwt(token: str) -> bool:
    """A JWT signed with cfreplay's test key or CC's documentation secret: published, so no secret."""
    return rules.token_kind(token) == "jwt" and tokens.is_published(token)


def mask(rule: str, value: str) -> str:
    """Enough to recognise a finding, never enough to use it, and never its length."""
    if rule in ("jwt", "jwe"):
        return "eyJ…"
    return value[:2] + "…" if len(value) >= 12 else "…"


class Redactor:
    """Makes replacements: placeholders, ``***`` and fake JWTs, consistent for one key.

    One instance per sanitizer: its caches keep a token's fake the same wherever the
    token appears, and the Faker it makes for PII is made on first use.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else _RUN_KEY
        self._jwts: dict[str, str] = {}
        self._identities: dict[str, str] = {}

    def _digest(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._key, f"{purpose}\0{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def placeholder(self, secret: str) -> str:
        """The placeholder for a token-like secret: the same for the same secret, all run long."""
        return PLACEHOLDER_PREFIX + self._digest("placeholder", secret)[:8].hex()

    def token_id(self, jti: str) -> str:
        """A ``jti``'s placeholder, keeping UAA's ``-r`` suffix of refresh-token ids."""
        suffix = "-r" if jti.endswith("-r") else ""
        return self.placeholder(jti.removesuffix("-r")) + suffix

    def by_name(self, passwordish: bool, value: str) -> str:
        """A fake for a JWT; ``***`` for a credential the client chose; a placeholder for one the server issued."""
        if rules.token_kind(value) == "jwt":
            return self.fake_jwt(value)
        return REDACTED if passwordish else self.placeholder(value)

    def fake_jwt(self, token: str) -> str:
        """A structurally valid fake of *token*, signed with cfreplay's published test key."""
        if is_public_jwt(token):
            return token
        fake = self._jwts.get(token)
        if fake is None:
            fake = self._jwts[token] = self._new_fake(token)
        return fake

    def _new_fake(self, token: str) -> str:
        decoded = tokens.try_decode(_urlsafe(token))
        # Anything JWT-shaped that does not decode is still a secret: it gets a minimal fake.
        header, claims = decoded if decoded is not None else ({"typ": "JWT"}, {"jti": self.placeholder(token)})
        clients = {claims.get("client_id"), claims.get("cid")}
        fake_claims: dict[str, Any] = {}
        for name, value in claims.items():
            if name == "jti" and isinstance(value, str) and not is_placeholder(value):
                fake_claims[name] = self.token_id(value)
            elif name in rules.PII_CLAIMS and isinstance(value, str) and value not in clients:
                fake_claims[name] = self.identity(value)
            else:
                fake_claims[name] = value
        fake_header = dict(header)
        if "kid" in fake_header:
            fake_header["kid"] = tokens.TEST_KEY_ID
        return tokens.sign(fake_claims, header=fake_header)

    def identity(self, value: str) -> str:
        """A stable Faker stand-in for an email, user name or user id."""
        known = self._identities.get(value)
        if known is None:
            known = self._identities[value] = self._new_identity(value)
        return known

    def _new_identity(self, value: str) -> str:
        digest = self._digest("pii", value)
        try:
            uuid.UUID(value)
        except ValueError:
            pass
        else:
            return str(uuid.UUID(bytes=digest[:16], version=4))
        with _FAKER_LOCK:  # seeding and drawing must not interleave between threads
            faker = _faker()
            faker.seed_instance(int.from_bytes(digest[:8], "big"))
            name = faker.user_name()
            return f"{name}@{faker.safe_domain_name()}" if "@" in value else name


_FAKER_LOCK: Final = threading.Lock()


@functools.cache
def _faker() -> Faker:
    """One Faker for the process: making one costs tens of milliseconds (it discovers its providers)."""
    from faker import Faker

    return Faker("en_US")


def _urlsafe(token: str) -> str:
    """A standard-base64 JWT (``+``, ``/``, padding, JSON-escaped slashes) in the URL-safe alphabet it should use."""
    token = detectors.unescape_slashes(token)
    if "+" not in token and "/" not in token and "=" not in token:
        return token
    parts = []
    for part in token.split("."):
        try:
            parts.append(base64.urlsafe_b64encode(base64.b64decode(part + "=" * (-len(part) % 4))).decode().rstrip("="))
        except ValueError:
            parts.append(part)
    return ".".join(parts)
