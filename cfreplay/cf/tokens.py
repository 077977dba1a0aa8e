"""JWT minting and checking with cfreplay's published test key.

Every JWT cfreplay writes — in factories, and later in place of a real token
the sanitizer removes — is signed with :data:`TEST_KEY`.  The key is public on
purpose: a token that verifies with it is recognisably fake, so the scanner can
tell it from a captured secret, and code under test can still decode it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "CC_DOCS_SECRET",
    "JWT_PATTERN",
    "TEST_KEY",
    "TEST_KEY_ID",
    "decode_unverified",
    "is_published",
    "is_test_token",
    "sign",
    "try_decode",
]

#: cfreplay's published HS256 test key.  Not a secret; never use it to protect anything.
TEST_KEY: Final = "cfreplay-published-test-key-not-a-secret"
#: The ``kid`` of tokens signed with :data:`TEST_KEY`.
TEST_KEY_ID: Final = "cfreplay-test-key"
#: CC's own test ``uaa.symmetric_secret``, which signs the token on the apidocs pages
#: (CCNG config/cloud_controller.yml).  Public, and shorter than HS256 recommends.
CC_DOCS_SECRET: Final = "tokensecret"


@lru_cache(maxsize=1)
def _hs256() -> Any:
    # PyJWT (~5 ms to import) is loaded by the first token signed, not by every process that
    # imports this module: replaying, scanning and sanitizing only read tokens.
    from jwt.algorithms import HMACAlgorithm

    return HMACAlgorithm(HMACAlgorithm.SHA256)


#: A JWT in text: base64url header and payload that both open with ``{"`` (``eyJ``).
JWT_PATTERN: Final = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def sign(
    claims: Mapping[str, Any],
    *,
    key: str = TEST_KEY,
    kid: str | None = TEST_KEY_ID,
    jku: str | None = None,
    docs_header: bool = False,
    header: Mapping[str, Any] | None = None,
) -> str:
    """Sign *claims* (kept in their order) with HS256.

    The header follows UAA's order, ``alg, jku, kid, typ``; ``docs_header=True``
    gives the ``{"typ":"JWT","alg":"HS256"}`` header of CC's documentation, and
    *header* gives a header of your own (its ``alg`` becomes ``HS256``).
    """
    head: dict[str, Any]
    if header is not None:
        head = {**header, "alg": "HS256"}
    elif docs_header:
        head = {"typ": "JWT", "alg": "HS256"}
    else:
        head = {"alg": "HS256"}
        if jku is not None:
            head["jku"] = jku
        if kid is not None:
            head["kid"] = kid
        head["typ"] = "JWT"
    # PyJWT always writes "typ" first; UAA writes it last.  So the segments are
    # joined here and PyJWT's own HS256 implementation signs them.
    from jwt.utils import base64url_encode

    signing_input = b".".join(
        base64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (head, dict(claims))
    )
    hs256 = _hs256()
    signature = hs256.sign(signing_input, hs256.prepare_key(key))
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of *token*, without checking its signature or expiry.

    Plain base64url and JSON: PyJWT's decoder validates every character in
    Python and costs ~30x more, which matters when sanitizing thousands of tokens.
    Raises ``ValueError`` for anything that is not a JWT with JSON-object parts.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three dot-separated parts")
    decoded = []
    for part in parts[:2]:
        try:
            value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a JWT: {error}") from None
        if not isinstance(value, dict):
            raise ValueError("not a JWT: header and payload must be JSON objects")
        decoded.append(value)
    return decoded[0], decoded[1]


def try_decode(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Header and claims of *token*, or ``None`` if it is JWT-shaped but not a decodable JWT."""
    try:
        return decode_unverified(token)
    except ValueError:
        return None


def is_test_token(token: str, *, key: str = TEST_KEY) -> bool:
    """Whether *token* is an HS256 JWT whose signature verifies with *key* (default: the test key).

    Only the signature is checked (no expiry, audience or claim checks): this
    answers "who signed it", which is what the scanner and sanitizer ask of
    every JWT they meet, so it is one HMAC and no JSON parsing.
    """
    head, _, signature = token.rpartition(".")
    if not head or "." not in head or not signature:
        return False
    try:
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (ValueError, binascii.Error):
        return False
    expected = _hs256().sign(head.encode("ascii", "replace"), _prepared_key(key))
    return hmac.compare_digest(expected, given)


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states for *key* (RFC 2104), computed once."""
    block = hashlib.sha256().block_size
    key = hashlib.sha256(key).digest() if len(key) > block else key.ljust(block, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


_PUBLISHED: Final = tuple(_hmac_pads(key.encode("utf-8")) for key in (TEST_KEY, CC_DOCS_SECRET))
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")


def is_published(token: str) -> bool:
    """Whether *token* is an HS256 JWT signed with a published key (the test key or CC's docs key).

    Two HMACs from precomputed key states: the scanner and the sanitizer ask this of every
    JWT they meet, and most are foreign.
    """
    head, _, signature = token.rpartition(".")
    if not head or "." not in head or not signature:
        return False
    try:
        # Strict: a lenient decoder stops at the first '=', so '<published>=<anything>' would
        # verify and keep whatever was glued after it (a key, a password).
        given = binascii.a2b_base64(
            signature.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(signature) % 4), strict_mode=True
        )
        message = head.encode("ascii")
    except (binascii.Error, UnicodeEncodeError):
        return False
    for inner_pad, outer_pad in _PUBLISHED:
        inner, outer = inner_pad.copy(), outer_pad.copy()
        inner.update(message)
        outer.update(inner.digest())
        if hmac.compare_digest(outer.digest(), given):
            return True
    return False


@lru_cache(maxsize=8)
def _prepared_key(key: str) -> bytes:
    prepared: bytes = _hs256().prepare_key(key)
    return prepared
