"""What Cloud Controller shows in place of a secret (CCNG app/presenters/helpers/censorship.rb).

Its own module, apart from :mod:`cfreplay.cf.cfapi` (which re-exports it): the sanitizer
writes these markers, and replay loads the sanitizer without the API model, whose import
builds the whole catalog (some 20 ms a process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "PRIVATE_DATA_HIDDEN",
    "PRIVATE_DATA_HIDDEN_IN_LISTS",
    "REDACTED",
    "REDACTED_CREDENTIAL",
    "REDACTED_MESSAGE",
]

PRIVATE_DATA_HIDDEN: Final = "[PRIVATE DATA HIDDEN]"
PRIVATE_DATA_HIDDEN_IN_LISTS: Final = "[PRIVATE DATA HIDDEN IN LISTS]"
REDACTED: Final = "[REDACTED]"
REDACTED_CREDENTIAL: Final = "***"
#: The object CC shows in place of a secret object.
REDACTED_MESSAGE: Final[Mapping[str, str]] = {"redacted_message": PRIVATE_DATA_HIDDEN}
