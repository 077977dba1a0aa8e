"""The exceptions cfreplay raises.

Every error cfreplay raises on purpose derives from :class:`CfreplayError`, so
callers can catch the whole family with one ``except``::

    CfreplayError
    ├── ApiVersionError      an API version string cfreplay cannot read
    ├── UnknownNameError     an unknown error name, trait or field (with suggestions)
    └── SchemaError          a value that breaks the v2 schema, naming the field

``SchemaError`` also derives from ``ValueError`` and ``UnknownNameError`` from
``LookupError``, so code written against the built-in types keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["ApiVersionError", "CfreplayError", "SchemaError", "UnknownNameError"]


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
