"""Turn captured HTTP traffic (HAR files, cf CLI traces) into vcrpy cassettes.

Two sources are read:

* **HAR 1.2**, as browser devtools and mitmproxy export it: one interaction per
  entry.  HAR bodies are normally stored already decoded, so a
  ``Content-Encoding`` header is dropped when the stored body is not actually
  compressed, and ``Content-Length`` is set to the body that is kept; otherwise
  an HTTP client would try to decompress, or wait for, bytes replay never sends.
  Cookies that an exporter lists only in the ``cookies`` arrays (Chrome and
  Firefox leave ``Cookie``/``Set-Cookie`` out of ``headers`` at times) become
  those headers, so the sanitizer sees and redacts them.
* **cf CLI traces** (``CF_TRACE=true`` or ``CF_TRACE=<file>``), all three
  generations (see the Cloud Controller v2 reference, section 6): legacy raw
  dumps (≤ v6.42), legacy with ``Host:`` run into the next header (≥ v6.43) and
  the current format whose body follows the headers with no blank line.  ANSI
  colours, CRLF and output between blocks are tolerated.  In the legacy formats
  a ``Content-Length`` takes exactly that many bytes of body, so a text body
  with blank lines in it stays whole.

The result is *unsanitized*: the trace's own redactions
(``[PRIVATE DATA HIDDEN]``) are kept as they are, but HAR files and CC form
bodies hold live secrets.  Callers must run the sanitizer before writing it.

Captured traffic is never lost silently.  An *incomplete* exchange — a request
with no response (a trace's REQUEST with no RESPONSE, a HAR entry with status 0
or none), a block the file ends inside of, a body shorter than its
``Content-Length`` (or HAR ``content.size``/``bodySize``) — raises
:class:`TrafficFormatError`, unless ``partial=True`` asks to leave it out and
list it (:class:`Imported`).  Every other malformed input raises too, one line
naming the file and, where it is known, the line (for HAR, the line the entry
starts on, and the entry's zero-based index).

Each format has a module of its own (``_har``, ``_cf_trace``), and what both share
(incomplete exchanges, headers, the interactions they build) is in ``_traffic``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from cfreplay import cassette
from cfreplay.commands._cf_trace import has_marker, read_cf_trace
from cfreplay.commands._har import read_entries, read_har
from cfreplay.commands._traffic import Drops, Interaction, earliest
from cfreplay.errors import CassetteError, CfreplayError, TrafficFormatError

__all__ = [
    "Format",
    "Imported",
    "detect_format",
    "import_files",
    "import_traffic",
    "parse_cf_trace",
    "parse_har",
]

Format = Literal["har", "cf-trace"]

_STAMP: Final = "%Y-%m-%dT%H:%M:%SZ"


# --- results and the one-format entry points ----------------------------------------------


@dataclass(frozen=True)
class Imported:
    """What :func:`import_traffic` read.

    ``data`` is the unsanitized cassette (vcrpy version 1); ``dropped`` lists the
    incomplete exchanges left out of it (only with ``partial=True``), each an error
    whose ``str()`` is ``path:line: reason``.
    """

    data: dict[str, Any]
    dropped: tuple[TrafficFormatError, ...] = ()


def parse_har(text: str, *, path: str = "<har>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a HAR 1.2 document; an entry with no answer (status 0) is an error."""
    return read_har(text, path, Drops(partial=False))[0]


def parse_cf_trace(text: str, *, path: str = "<trace>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a cf CLI trace, any of its three formats; other output is ignored.

    An incomplete exchange (a REQUEST with no RESPONSE, a block the text ends inside of, a
    body shorter than its ``Content-Length``) raises :class:`TrafficFormatError`.
    """
    return read_cf_trace(text, path, Drops(partial=False))[0]


# --- files ---------------------------------------------------------------------------------


def detect_format(path: Path, text: str) -> Format:
    """``har`` for JSON with ``log.entries``, ``cf-trace`` for text with REQUEST:/RESPONSE: blocks."""
    name = str(path)
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        read_entries(text, name)
        return "har"
    if has_marker(text):
        return "cf-trace"
    raise TrafficFormatError(name, "is neither a HAR file nor a cf CLI trace (no REQUEST: or RESPONSE: block)")


def _read_text(path: Path) -> str:
    try:
        # Only regular files: a FIFO would block the import forever, a device never ends.
        raw = cassette.read_bytes(path, noun="traffic file")
    except CassetteError as error:
        raise TrafficFormatError(str(path), error.reason) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TrafficFormatError(str(path), f"is not UTF-8 text (bad byte at offset {error.start})") from None


_Parser = Callable[[str, str, Drops], tuple[list[Interaction], datetime | None]]


def import_traffic(paths: Sequence[Path], *, fmt: Format | None = None, partial: bool = False) -> Imported:
    """One unsanitized cassette (vcrpy version 1) of every complete exchange in *paths*, in order.

    *fmt* forces the format of every file; by default each file's is detected.  The
    earliest timestamp of the exchanges kept dates every one (``response.recorded_at``;
    omitted when none is found).

    An incomplete exchange raises :class:`TrafficFormatError` naming ``path:line``; with
    *partial* it is left out and listed in :attr:`Imported.dropped` instead.  When no
    complete exchange is left, that raises too: there is nothing to write.
    """
    if not paths:
        raise CfreplayError("no traffic files to import")
    drops = Drops(partial)
    interactions: list[Interaction] = []
    first: datetime | None = None
    for path in paths:
        text = _read_text(path)
        kind = fmt or detect_format(path, text)
        parse: _Parser = read_har if kind == "har" else read_cf_trace
        dropped_before = len(drops.dropped)
        found, moment = parse(text, str(path), drops)
        if not found and len(drops.dropped) == dropped_before:
            raise TrafficFormatError(str(path), "holds no HTTP exchange to import")
        interactions.extend(found)
        first = earliest(first, moment)
    if not interactions:
        head = drops.dropped[0]
        count = len(drops.dropped)
        raise TrafficFormatError(
            head.path, f"{head.reason}; no complete HTTP exchange is left to import ({count} dropped)", line=head.line
        )
    if first is not None:
        # Replay freezes the clock at the capture's first moment (cassette.recorded_at): each
        # exchange carries it where cfreplay dates exchanges, inside the response, so plain
        # vcrpy and pytest-recording load the cassette unchanged (no top-level metadata).
        stamp = first.strftime(_STAMP)
        for interaction in interactions:
            interaction["response"].setdefault("recorded_at", stamp)
    return Imported({"interactions": interactions, "version": 1}, tuple(drops.dropped))


def import_files(paths: Sequence[Path], *, fmt: Format | None = None) -> dict[str, Any]:
    """One unsanitized cassette (vcrpy version 1) of every exchange in *paths*, in order.

    The cassette of :func:`import_traffic`; any incomplete exchange raises
    :class:`TrafficFormatError`.
    """
    return import_traffic(paths, fmt=fmt).data
