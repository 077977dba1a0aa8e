"""What redacted looks like: CC's own markers and cfreplay's placeholders.

The sanitizer writes these and the scanner accepts them, so both read them
from here.  A value that is already redacted is never touched again, which
makes sanitizing idempotent.
"""

from __future__ import annotations

import re
from typing import Final

from cfreplay import cfapi, tokens

__all__ = ["PLACEHOLDER_PREFIX", "REDACTED", "is_placeholder", "is_public_jwt", "is_redacted"]

#: What a client-supplied credential (a password, a client secret) becomes: CC's own
#: ``***``.  A constant, so a live request sanitized at replay time matches its recording.
REDACTED: Final = cfapi.REDACTED_CREDENTIAL
#: Tokens, codes and cookie values become ``cfreplay-redacted-`` and 16 hex digits of a
#: keyed hash: the same secret gives the same placeholder everywhere in a run, so echoed
#: values still line up, and neither the secret nor its length can be read back.
PLACEHOLDER_PREFIX: Final = "cfreplay-redacted-"
PLACEHOLDER_PATTERN: Final = re.compile(r"cfreplay-redacted-[0-9a-f]{16}")

#: CC's and the CLI's own redaction markers (CCNG app/presenters/helpers/censorship.rb).
MARKERS: Final = frozenset({
    cfapi.PRIVATE_DATA_HIDDEN, cfapi.PRIVATE_DATA_HIDDEN_IN_LISTS, cfapi.REDACTED, cfapi.REDACTED_CREDENTIAL,
    "PRIVATE DATA HIDDEN", "PRIVATE_DATA_HIDDEN", "",
})  # fmt: skip


def is_placeholder(value: str) -> bool:
    return PLACEHOLDER_PATTERN.fullmatch(value) is not None


def is_redacted(value: str) -> bool:
    """A marker, a cfreplay placeholder, or a JWT signed with a published key."""
    return value in MARKERS or is_placeholder(value) or is_public_jwt(value)


def is_public_jwt(token: str) -> bool:
    """A JWT signed with cfreplay's test key or CC's documentation secret: published, so no secret."""
    return tokens.JWT_PATTERN.fullmatch(token) is not None and (
        tokens.is_test_token(token) or tokens.is_test_token(token, key=tokens.CC_DOCS_SECRET)
    )
