"""The exceptions cfreplay raises.

Every error cfreplay raises on purpose derives from :class:`CfreplayError`, so
callers can catch the whole family with one ``except``::

    CfreplayError
    ├── ApiVersionError      an API version cfreplay cannot read, or that does not fit the request
    ├── UnknownNameError     an unknown error name, trait or field (with suggestions)
    ├── SchemaError          a value that breaks the v2 schema, naming the field
    ├── CassetteError        a cassette file that cannot be read or written, naming the file
    │   │                    (and the interaction, when known)
    │   ├── SecretLeft       a cassette that would still hold a secret after sanitizing
    │   └── CassetteChanged  a cassette someone else changed while cfreplay worked on it
    ├── BodyTooLarge         a body that decodes past the limit (a compression bomb?; also a ValueError)
    ├── RecordError          ``cfreplay record`` could not complete; nothing was written
    ├── TrafficFormatError   captured traffic ``cfreplay import`` cannot read (``path:line: message``)
    ├── OptionError          a keyword a cassette does not take, or of the wrong type (also a TypeError)
    ├── UnmatchedRequest     a request replay found no recording for (also an AssertionError)
    ├── UnplayedInteractions recorded interactions a replay never played, with
    │                        ``assert_all_played`` (also an AssertionError)
    └── NetworkBlocked       a connection or name lookup attempted during replay (also an AssertionError)

    SecretWarning (a UserWarning)  a replayed cassette that still holds secrets

The last three derive from ``AssertionError`` so that pytest reports a failed
test, not a crash, and HTTP clients do not mistake them for connection errors.

``SchemaError`` also derives from ``ValueError`` and ``UnknownNameError`` from
``LookupError``, so code written against the built-in types keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from os import PathLike

__all__ = [
    "ApiVersionError",
    "BodyTooLarge",
    "CassetteChanged",
    "CassetteError",
    "CfreplayError",
    "NetworkBlocked",
    "OptionError",
    "RecordError",
    "SchemaError",
    "SecretLeft",
    "SecretWarning",
    "TrafficFormatError",
    "UnknownNameError",
    "UnmatchedRequest",
    "UnplayedInteractions",
]


class CfreplayError(Exception):
    """Base class of every error cfreplay raises on purpose."""


class ApiVersionError(CfreplayError, ValueError):
    """An API version that is not a Cloud Controller v2 version (``2.N`` or ``2.N.P``)."""


class UnknownNameError(CfreplayError, LookupError):
    """A name (error, trait, fake kind) that cfreplay does not know.

    The message lists the closest known names, so a typo explains itself.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else (f"known: {', '.join(self.known)}")
        super().__init__(f"unknown {kind} {name!r}; {hint}")


class SchemaError(CfreplayError, ValueError):
    """A value that does not fit the v2 schema of the chosen API version.

    ``field`` is the dotted path of the offending field (``entity.memory``),
    ``reason`` says what is wrong with it, ``api_version`` the era checked.
    """

    def __init__(self, field: str, reason: str, api_version: str) -> None:
        self.field = field
        self.reason = reason
        self.api_version = api_version
        super().__init__(f"{field}: {reason} (API {api_version})")


class CassetteError(CfreplayError):
    """A cassette that cannot be loaded, sanitized or saved.

    ``path`` names the file and ``interaction`` the zero-based index of the
    interaction at fault, when it is known.  The message never quotes a header
    or body value, so it is safe to print in CI logs.
    """

    def __init__(self, path: str | PathLike[str], message: str, *, interaction: int | None = None) -> None:
        self.path = str(path)
        self.interaction = interaction
        self.reason = message
        where = f"{self.path}: interaction {interaction}" if interaction is not None else self.path
        super().__init__(f"{where}: {message}")


class SecretLeft(CassetteError):
    """A cassette that would still hold a secret after sanitizing: nothing was written.

    The message names the rule and the place, never the value.
    """


class CassetteChanged(CassetteError):
    """A cassette that someone else changed while cfreplay worked on it: nothing was written."""


class NetworkBlocked(CfreplayError, AssertionError):
    """A test tried to open a network connection, or to look a host name up, while replaying a cassette."""


class OptionError(CfreplayError, TypeError):
    """A keyword ``use_cassette``, ``@pytest.mark.cfreplay`` or ``cfreplay_config`` does not take, or a value of the
    wrong type.

    The message names the keyword and, for a typo, the keyword meant.
    """


class UnplayedInteractions(CfreplayError, AssertionError):
    """A replay with ``assert_all_played`` ended with recorded interactions it never played.

    The message says how many of how many were played and lists the others (method and
    URI, passed through the sanitizer).  ``unplayed`` holds them as ``(method, uri)`` pairs.
    """

    def __init__(self, message: str, unplayed: Iterable[tuple[str, str]] = ()) -> None:
        self.unplayed = tuple(unplayed)
        super().__init__(message)


class UnmatchedRequest(CfreplayError, AssertionError):
    """Replay met a request that no recorded interaction matches.

    The message names the cassette, the record mode, the request and the
    closest recorded requests with the matcher that failed for each — all of it
    passed through the sanitizer, so it never prints a token into a CI log.
    """


class SecretWarning(UserWarning):
    """A cassette entered for replay still holds what ``cfreplay sanitize`` would remove.

    Replay goes on (the test may be what proves the cassette needs sanitizing), but
    the file should not be committed as it is.  ``-W error::cfreplay.SecretWarning``
    makes it fail the run.
    """


class BodyTooLarge(CfreplayError, ValueError):
    """A body that decodes to more than the limit (``cfreplay.hygiene.bodies.MAX_DECODED``)."""

    def __init__(self, encoding: str, limit: int) -> None:
        super().__init__(f"its {encoding} body decodes to more than {limit // (1024 * 1024)} MiB (a bomb?)")


class RecordError(CfreplayError):
    """Recording could not complete; nothing was written."""


class TrafficFormatError(CfreplayError):
    """Traffic that cannot be imported: one line, ``<path>:<line>: <message>`` (line when known)."""

    def __init__(self, path: str, message: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
