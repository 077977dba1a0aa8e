"""What the recorder reads from cassette files, parsed once.

A suite replays the same cassettes over and over: :func:`parsed` keeps each file's parse
(bounded by the files' size), :func:`warn_if_dirty` scans a file not written by cfreplay
once per version of it, and :class:`Looked` is what one ``use_cassette`` enter read of its
files, each looked at once.  Used by :mod:`cfreplay.replay.recorder` only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import weakref
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from vcr.persisters.filesystem import CassetteNotFoundError

from cfreplay import cassette as cassette_files
from cfreplay.errors import CassetteError, CfreplayError, SecretWarning
from cfreplay.hygiene.rules import RuleTable
from cfreplay.hygiene.sanitizer import Sanitizer

__all__ = [
    "BROKEN",
    "LARGE",
    "NO_FILE",
    "PARSED",
    "PARSED_BUDGET",
    "PARSED_LIMIT",
    "SCANNED",
    "Looked",
    "file_written_by_cfreplay",
    "parsed",
    "release",
    "warn_if_dirty",
]


# Parsed cassettes by (path, size, mtime): a suite that replays one cassette in many
# tests parses it once per process.  vcrpy builds fresh request objects from the data
# and each response is copied as it loads (by vcrpy, or ``IndexedCassette.append``) before anyone
# may change it, so sharing it is safe.  Parsed data takes about twelve times the file's
# bytes, so what is kept is bounded by the files' size: up to PARSED_BUDGET bytes of
# small cassettes, and a larger one only from its first look (is it empty? when was it
# recorded?) until vcrpy has loaded it (release), so after a load of a 20 MB cassette only
# vcrpy's own objects stay alive, as with vcrpy alone.
PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}
PARSED_LIMIT: Final = 64
PARSED_BUDGET: Final = 8 * 1024 * 1024
LARGE: dict[tuple[str, int, int], dict[str, Any]] = {}


# PARSED's size in bytes (the sum of its keys' sizes), as last counted: (id, length, bytes).
# Counted again only when the dict or its length is not what this module left (tests replace it).
_parsed_size: tuple[int, int, int] = (0, 0, 0)


def _parsed_key(path: Path, info: os.stat_result | None = None) -> tuple[str, int, int]:
    """The version of the file: (absolute path, size, mtime); *info*, its stat if just taken."""
    if info is None:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise CassetteNotFoundError() from None
    return os.path.abspath(path), info.st_size, info.st_mtime_ns


def parsed(path: Path) -> dict[str, Any] | None:
    """The cassette's data, parsed once per version of the file; ``None`` for an empty file."""
    return _versioned(path)[1]


def _versioned(path: Path, info: os.stat_result | None = None) -> tuple[tuple[str, int, int], dict[str, Any] | None]:
    """The version of the file (path, size, mtime) and its data, as :func:`parsed` (*info*: its stat, if just taken)."""
    global _parsed_size
    key = _parsed_key(path, info)
    cached = PARSED.get(key) or LARGE.get(key)
    if cached is not None:
        return key, cached
    raw = cassette_files.read_bytes(path)
    if not raw.strip():
        return key, None
    data = cassette_files.loads(raw, path=path).data  # parses with the cyclic collector paused
    if key[1] > PARSED_BUDGET:
        LARGE.clear()
        LARGE[key] = data
        return key, data
    ident, count, size = _parsed_size
    if ident != id(PARSED) or count != len(PARSED):
        size = sum(k[1] for k in PARSED)
    while PARSED and (len(PARSED) >= PARSED_LIMIT or size + key[1] > PARSED_BUDGET):
        oldest = next(iter(PARSED))
        del PARSED[oldest]
        size -= oldest[1]
    PARSED[key] = data
    _parsed_size = (id(PARSED), len(PARSED), size + key[1])
    return key, data


def release(path: Path) -> None:
    """vcrpy has built its objects from *path*'s data: a large cassette's parse is let go."""
    if LARGE:
        with contextlib.suppress(CassetteNotFoundError):
            LARGE.pop(_parsed_key(path), None)


# Scan verdicts per rule table, by (path, size, mtime): a suite replaying one cassette in
# many tests scans it once per process.  A verdict is the warning to give (None: the scan
# found nothing), or _UNSCANNED when the file could not be scanned (loading names the
# problem).  Weakly keyed by the table itself: a verdict spares the sanitizer, so it must
# never pass to another table that happens to get a dead one's id.
SCANNED: weakref.WeakKeyDictionary[RuleTable, dict[tuple[str, int, int], str | None]] = weakref.WeakKeyDictionary()
_UNSCANNED: Final = "\0unscanned"


def warn_if_dirty(
    path: Path, sanitizer: Sanitizer, *, written_by_cfreplay: bool | None = None
) -> tuple[str, int, int] | None:
    """Warn (:class:`cfreplay.SecretWarning`) when a cassette about to replay holds findings.

    Cassettes cfreplay wrote went through the write path's scan: they stay on the fast
    path.  Any other (vcrpy's, pytest-recording's, hand-edited) is scanned once.
    (*written_by_cfreplay*: already known, so the file is not looked at again.)

    Returns the version of the file (path, size, mtime) the scan found clean, if it did:
    the scanner flags exactly what the sanitizer would change, so loading that version
    has nothing to sanitize.  ``None`` for cfreplay's own files (they need no scan), a
    file with findings, one that could not be scanned or one that changed while scanned.
    """
    if written_by_cfreplay if written_by_cfreplay is not None else file_written_by_cfreplay(path):
        return None
    version = _version(path)
    if version is None:
        return None
    known = SCANNED.get(sanitizer.table)
    if known is None:
        known = SCANNED[sanitizer.table] = {}
    verdict = known.get(version, _UNSCANNED)
    if version not in known:
        verdict = _dirt(path, sanitizer)
        if _version(path) != version:
            version = None  # changed while it was read: the verdict is not this version's
        else:
            known[version] = verdict
    if verdict is not None and verdict != _UNSCANNED:
        import warnings

        warnings.warn(SecretWarning(verdict), stacklevel=3)
    return version if verdict is None else None


def _version(path: Path) -> tuple[str, int, int] | None:
    try:
        return _parsed_key(path)
    except (CassetteNotFoundError, OSError):
        return None


def _dirt(path: Path, sanitizer: Sanitizer) -> str | None:
    from cfreplay.hygiene import scanner

    # Read as the cassette it is, whatever its name: scan_file would take a file named
    # other than .yaml/.yml/.json for a plain file, and run only the rules that need no context.
    try:
        text = cassette_files.read_bytes(path).decode("utf-8")
        findings = scanner.scan_text(text, path=str(path), cassette=True, table=sanitizer.table)
    except (CfreplayError, UnicodeDecodeError):
        return _UNSCANNED  # loading names the problem
    if not findings:
        return None
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    rules = ", ".join(f"{rule} ×{count}" for rule, count in sorted(counts.items()))
    return (
        f"{path} holds {len(findings)} secret{'s' if len(findings) != 1 else ''} ({rules}); replaying it anyway. "
        f"Run 'cfreplay sanitize {path}' before committing it."
    )


def file_written_by_cfreplay(path: Path) -> bool:
    try:
        data = parsed(path)
    except (CassetteNotFoundError, CassetteError):
        return False
    return data is not None and cassette_files.written_by_cfreplay(data)


# The errors Path.is_file takes for "no such file" (pathlib's _IGNORED_ERRNOS).
_ABSENT: Final = frozenset((errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP))

# What one enter found of a file, besides its data (or None, for an empty file).
NO_FILE: Final = object()
BROKEN: Final = object()  # there is a file, and it cannot be parsed


class Looked:
    """The cassette files one enter reads, each looked at once: there, empty, broken, or its data.

    Entering asks several questions of each file (is it there, is it empty, when was
    it recorded, did cfreplay write it, then the load itself); each used to stat the
    file and look its data up again.  The answers are: not empty or blank,
    :func:`~cfreplay.replay.recorder.recorded_at`, :func:`file_written_by_cfreplay` and the
    recorder's ``_loading``; the data goes to the loader once (:meth:`take`) and is not kept after.
    """

    def __init__(self) -> None:
        self._found: dict[Path, Any] = {}
        #: The version of each file (path, size, mtime) whose data this enter read.
        self._versions: dict[Path, tuple[str, int, int]] = {}
        #: Each regular file's :func:`cfreplay.hygiene.writing.fingerprint`, from the stat taken before reading it.
        self._fingerprints: dict[Path, tuple[int, int, int, int]] = {}

    def __call__(self, path: Path) -> Any:
        found = self._found.get(path, self)
        if found is self:
            # One stat answers "is it a regular file" (as Path.is_file) and dates the version read.
            try:
                info: os.stat_result | None = os.stat(path)
            except OSError as error:
                if error.errno not in _ABSENT:
                    raise  # as Path.is_file: a file that cannot be looked at is not taken for a missing one
                info = None
            except ValueError:  # an unrepresentable path (a NUL in it), as Path.is_file
                info = None
            if info is None:
                found = NO_FILE
            elif not stat.S_ISREG(info.st_mode):
                # A directory or FIFO where the cassette should be is a mistake to name, not a
                # cassette to record: vcrpy would call it missing, then fail to write it.
                raise cassette_files.not_a_regular_file(path, info.st_mode)
            else:
                self._fingerprints[path] = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
                try:
                    self._versions[path], found = _versioned(path, info)
                except CassetteNotFoundError:
                    found = NO_FILE
                except CassetteError:
                    found = BROKEN
            self._found[path] = found
        return found

    def fingerprint(self, path: Path) -> tuple[int, int, int, int] | None:
        """The file as it was when this enter read it (None if it did not read a regular file there)."""
        return self._fingerprints.get(path)

    def has_content(self, path: Path) -> bool:
        """Not empty or blank (a file that cannot be parsed counts, so loading names the problem)."""
        return self(path) not in (NO_FILE, None)

    def data(self, path: Path) -> dict[str, Any] | None:
        """The parsed data; None for no file, an empty one, or one that cannot be parsed."""
        found = self(path)
        return None if found is NO_FILE or found is BROKEN else found

    def written_by_cfreplay(self, path: Path) -> bool:
        data = self.data(path)
        return data is not None and cassette_files.written_by_cfreplay(data)

    def recorded_at(self, path: Path) -> datetime | None:
        data = self.data(path)
        return cassette_files.recorded_at(data) if data is not None else None

    def trusted(self, paths: Iterable[Path]) -> bool:
        """What the recorder's ``_loading`` decides: every file there was written by cfreplay (and one is there)."""
        present = [path for path in paths if self(path) is not NO_FILE]
        return bool(present) and all(self.written_by_cfreplay(path) for path in present)

    def clean(self, paths: Iterable[Path], scanned_clean: Iterable[tuple[str, int, int]]) -> bool:
        """Every file there (and one is) was written by cfreplay, or is the version a scan found clean."""
        clean = set(scanned_clean)
        present = [path for path in paths if self(path) is not NO_FILE]
        return bool(present) and all(
            self.written_by_cfreplay(path) or self._versions.get(path) in clean for path in present
        )

    def take(self, path: Path) -> Any:
        """The file's data (or None, NO_FILE) for the loader, let go of here; BROKEN if unknown or unparsable."""
        return self._found.pop(path, BROKEN)
