"""Cassette files: safe loading, structural checks, byte-stable and atomic saving.

A cassette is vcrpy's format, version 1, as YAML or JSON::

    {"version": 1, "interactions": [{"request": {...}, "response": {...}}, ...], "metadata": {...}}

Loading uses a safe YAML loader only (libyaml's when available): any ``!!python/...``
tag is refused before anything is constructed, so a crafted cassette cannot run
code.  Every problem — truncated, binary, malformed, not a cassette, unknown
version, dangerous tag — raises :class:`cfreplay.CassetteError` naming the file
and, when known, the interaction.

Saving serialises exactly as vcrpy does (so a load/save round trip of a vcrpy
cassette is byte-identical) and replaces the file atomically: a temporary file
in the same directory, ``fsync``, ``os.replace``, the original's mode kept.  On
any failure the original is untouched and no temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from cfreplay.errors import CassetteError

try:  # libyaml is several times faster; the pure-Python classes behave the same.
    from yaml import CSafeDumper as _SafeDumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = [
    "RECORDED_AT_FORMAT",
    "Cassette",
    "atomic_write",
    "collector_paused",
    "detect_format",
    "dumps",
    "load",
    "loads",
    "not_a_regular_file",
    "read_bytes",
    "recorded_at",
    "save",
    "stamp",
    "written_by_cfreplay",
    "yaml_data",
]

Format = Literal["yaml", "json"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)
FORMAT_VERSION: Final = 1
_PYTHON_TAG: Final = "tag:yaml.org,2002:python/"


@dataclass
class Cassette:
    """A loaded cassette: where it came from, its format, and its data (vcrpy's dict)."""

    path: Path
    format: Format
    data: dict[str, Any] = field(default_factory=lambda: {"interactions": [], "version": FORMAT_VERSION})
    #: Whether one object may stand in several places of :attr:`data` (a YAML alias): the
    #: sanitizer then follows every place a secret it replaced stood.  ``False`` only when
    #: the text it was loaded from holds no anchor with its alias (JSON never does).
    aliased: bool = field(default=True, compare=False)

    @property
    def interactions(self) -> list[dict[str, Any]]:
        interactions: list[dict[str, Any]] = self.data["interactions"]
        return interactions

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.interactions)

    def __len__(self) -> int:
        return len(self.interactions)


def detect_format(path: Path, text: bytes | None = None) -> Format:
    """JSON for ``.json`` files (or content that starts with ``{``), YAML otherwise."""
    if path.suffix.lower() == ".json":
        return "json"
    if path.suffix.lower() in (".yaml", ".yml"):
        return "yaml"
    return "json" if text is not None and text.lstrip()[:1] == b"{" else "yaml"


#: Opening never waits: a FIFO without a writer (or a device) opens at once, and is refused by what the open file is.
_OPEN_FLAGS: Final = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def not_a_regular_file(path: Path, mode: int, *, noun: str = "cassette") -> CassetteError:
    """The one-line error for something at *path* (of ``st_mode`` *mode*) that is there but is no file to read."""
    if stat.S_ISDIR(mode):
        return CassetteError(path, f"is a directory, not a {noun}")
    return CassetteError(path, f"is not a regular file (a FIFO, socket or device), not a {noun}")


def read_bytes(path: Path, *, noun: str = "cassette") -> bytes:
    """A file's bytes, or a :class:`CassetteError` that says in one line why they cannot be had.

    Only regular files are read: a FIFO would block the reader forever and a device
    never ends.  The file is opened without waiting and what was opened is checked, so a
    file swapped for a FIFO after someone looked at it is refused all the same.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise CassetteError(path, f"no such {noun}") from None
    except IsADirectoryError:
        raise CassetteError(path, f"is a directory, not a {noun}") from None
    except OSError as error:
        raise CassetteError(path, f"cannot be read: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # POSIX opens a directory read-only
            raise not_a_regular_file(path, info.st_mode, noun=noun)
        chunks = []
        wanted = info.st_size + 1  # one read for the whole file; a file still growing takes more
        while chunk := os.read(fd, wanted):
            chunks.append(chunk)
            wanted = 1 << 16
        return b"".join(chunks) if len(chunks) != 1 else chunks[0]
    except OSError as error:
        raise CassetteError(path, f"cannot be read: {error.strerror or error}") from None
    finally:
        os.close(fd)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a cassette's data is built, as it was after.

    A cassette is a great many small objects without cycles: the collector would sweep
    them again and again while they are built (most of vcrpy's load time), and a large
    cassette's parse, let go as soon as vcrpy has its own objects, need never be swept at
    all.  Nested pauses are free; a collector someone else turned off stays off.  (The
    switch is process-wide: another thread allocating meanwhile is not collected either,
    for as long as the load lasts.)
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def load(path: str | os.PathLike[str]) -> Cassette:
    """Read and check the cassette at *path*."""
    path = Path(path)
    return loads(read_bytes(path), path=path)


def loads(raw: bytes | str, *, path: str | os.PathLike[str] = "<cassette>", format: Format | None = None) -> Cassette:
    """Parse cassette text; *path* only names the source in errors."""
    path = path if isinstance(path, Path) else Path(path)
    try:
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
    except UnicodeEncodeError:
        raise CassetteError(path, "is not valid Unicode text (it holds a lone surrogate)") from None
    if b"\x00" in data:
        raise CassetteError(path, "is binary (it holds NUL bytes), not a YAML or JSON cassette")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CassetteError(path, f"is not UTF-8 text (bad byte at offset {error.start})") from None
    fmt = format or detect_format(path, data)
    with collector_paused():
        document = _parse_json(text, path) if fmt == "json" else _parse_yaml(text, path)
    aliased = fmt == "yaml" and _may_alias(text)
    if aliased:
        _check_expansion(document, path)
    _check(document, path)
    return Cassette(path, fmt, document, aliased)


#: An alias as libyaml reads one: ``*`` and a name of letters, digits, ``_`` and ``-``.
_ALIAS: Final = re.compile(r"\*([0-9A-Za-z_-]+)")
#: What may stand before an alias's ``*``: blanks after an indicator, or the indicator itself.
_BEFORE_ALIAS: Final = frozenset(" \t\r\n:-,[{?")
#: Past this many alias names, looking for each one's anchor costs more than counting the nodes.
_MANY_ANCHORS: Final = 64


def _may_alias(text: str) -> bool:
    """Whether *text* may use a YAML alias: ``*name`` where a node starts, and ``&name`` somewhere.

    Only then can it expand past its size (a bomb needs both), or one object stand in two
    places.  Conservative: text that only looks like an alias costs an expansion count,
    never a wrong answer.  Every search opens on a literal (``*``, then ``&name``), so a
    20 MB cassette without aliases is answered at memory speed.
    """
    if "&" not in text or "*" not in text:
        return False
    names = set()
    for match in _ALIAS.finditer(text):
        at = match.start()
        if at == 0 or text[at - 1] in _BEFORE_ALIAS:
            names.add(match.group(1))
            if len(names) > _MANY_ANCHORS:
                return True
    return any(re.search("&" + re.escape(name) + "(?![0-9A-Za-z_-])", text) for name in names)


#: How many nodes a cassette may expand to through YAML aliases: a few kilobytes of
#: anchors and aliases ("billion laughs") can stand for billions of nodes.
MAX_NODES: Final = 10_000_000


def _check_expansion(document: Any, path: Path) -> None:
    """Refuse a document whose aliases expand past :data:`MAX_NODES` (counted without expanding)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        if key in sizes:
            continue
        children = list(node.keys()) + list(node.values()) if isinstance(node, dict) else node
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if isinstance(child, (dict, list)))
            continue
        total = 1
        for child in children:
            total += sizes.get(id(child), 1) if isinstance(child, (dict, list)) else 1
            if total > MAX_NODES:
                raise CassetteError(path, f"expands through YAML aliases to more than {MAX_NODES:,} nodes (a bomb?)")
        sizes[key] = total


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CassetteError(
            path, f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise CassetteError(path, "is nested too deeply to be a cassette") from None


def _line(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark
    return f" at line {mark.line + 1}" if mark is not None else ""


# --------------------------------------------------------------------------- YAML from events
#
# PyYAML's constructor, not libyaml's parser, is most of a large cassette's load: it builds a
# node for every scalar, then walks the nodes in Python resolving and constructing each.  A
# cassette is plain data (mappings, sequences, strings, a few ints, nulls and !!binary), so
# building it straight from libyaml's events, resolving plain scalars with the same implicit
# resolvers, yields the same objects in about half the time.  Anything beyond plain data (an
# unknown or !!python tag, a merge key, a complex key, several documents) hands the text to
# PyYAML's safe loader, which then decides exactly as before (and raises the same errors).

_STR: Final = "tag:yaml.org,2002:str"
_BINARY: Final = "tag:yaml.org,2002:binary"
_CONSTRUCTED: Final = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "null", "bool", "float", "timestamp"))
_RESOLVERS: Final = yaml.SafeLoader.yaml_implicit_resolvers
_NO_KEY: Final = object()
#: Distinct plain scalar texts one load remembers the value of (a bound for hostile files).
_PLAIN_TEXTS: Final = 1 << 16


class _NotPlainData(Exception):
    """The document needs PyYAML's full loader."""


def _scalar(event: yaml.ScalarEvent, constructor: yaml.constructor.SafeConstructor) -> Any:
    tag, value = event.tag, event.value
    if tag is None or tag == "!":  # no tag, or the non-specific one: PyYAML's composer resolves it
        if not event.implicit[0]:
            return value
        for resolved, pattern in (*_RESOLVERS.get(value[:1], ()), *_RESOLVERS.get(None, ())):
            if pattern.match(value):
                tag = resolved
                break
        else:
            return value
    if tag == _STR:
        return value
    if tag == _BINARY or tag in _CONSTRUCTED:
        return constructor.construct_object(yaml.ScalarNode(tag, value, style=event.style), deep=True)
    raise _NotPlainData(tag)


def _from_events(text: str) -> Any:
    loader = _SafeLoader(text)
    try:
        return _build(loader.get_event, loader)
    finally:
        loader.dispose()


_STARTS: Final = {yaml.MappingStartEvent: "tag:yaml.org,2002:map", yaml.SequenceStartEvent: "tag:yaml.org,2002:seq"}
_ENDS: Final = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _open(event: Any, anchors: dict[str, Any]) -> list[Any]:
    """A new collection for a start event: [container, pending key]."""
    if event.tag not in (None, _STARTS[event.__class__]):
        raise _NotPlainData(event.tag)
    container: Any = {} if event.__class__ is yaml.MappingStartEvent else []
    if event.anchor is not None:
        anchors[event.anchor] = container
    return [container, _NO_KEY]


def _alias(event: Any, anchors: dict[str, Any]) -> Any:
    if event.anchor not in anchors:
        raise _NotPlainData("an alias to an unknown anchor")  # PyYAML names the error
    return anchors[event.anchor]


def _key(value: Any) -> Any:
    if isinstance(value, (dict, list)) or value == "<<":
        raise _NotPlainData("a complex or merge key")
    return value


def _build(next_event: Any, constructor: yaml.constructor.SafeConstructor) -> Any:
    # One loop over every event of a large file: scalars and their placing stay inline (a
    # call per value would cost a fifth of the gain); the rarer events have helpers.
    stack: list[list[Any]] = []  # [container, pending key] for each open collection
    anchors: dict[str, Any] = {}
    roots: list[Any] = []
    # Plain scalars repeat (keys, header names, status codes: 15,600 distinct texts among
    # 212,000 in a 5000-interaction cassette): each text is resolved once.  What is not a
    # string (int, float, bool, None, datetime: immutable) is then shared; a string is still
    # the event's own object, as before: one string object in two places is what a YAML
    # alias loads to, and the sanitizer replaces an alias's every occurrence (hygiene._aliases).
    plain: dict[str, Any] = {}
    while True:
        event = next_event()
        kind = event.__class__
        if kind is yaml.ScalarEvent:
            if event.tag is None and event.implicit[0]:
                value = plain.get(event.value, _NO_KEY)
                if value is _NO_KEY:
                    value = _scalar(event, constructor)
                    if len(plain) < _PLAIN_TEXTS:
                        plain[event.value] = value
                elif value.__class__ is str:
                    value = event.value
            else:
                value = _scalar(event, constructor)
            if event.anchor is not None:
                anchors[event.anchor] = value
        elif kind in _ENDS:
            value = stack.pop()[0]
        elif kind in _STARTS:
            stack.append(_open(event, anchors))
            continue
        elif kind is yaml.AliasEvent:
            value = _alias(event, anchors)
        elif kind is yaml.StreamEndEvent:
            if len(roots) > 1:
                raise _NotPlainData("several documents")
            return roots[0] if roots else None
        else:
            continue  # stream and document starts, document ends
        if not stack:
            roots.append(value)
            continue
        top = stack[-1]
        if top[0].__class__ is list:
            top[0].append(value)
        elif top[1] is _NO_KEY:
            top[1] = _key(value)
        else:
            top[0][top[1]] = value
            top[1] = _NO_KEY


def yaml_data(text: str) -> Any:
    """The YAML document *text* as PyYAML's safe loader builds it (raises what it raises), about twice as fast."""
    try:
        return _from_events(text)
    except _NotPlainData:
        return yaml.load(text, Loader=_SafeLoader)


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        try:
            return _from_events(text)
        except _NotPlainData:
            return yaml.load(text, Loader=_SafeLoader)
    except yaml.constructor.ConstructorError as error:
        problem = str(error.problem or "")
        if _PYTHON_TAG in problem or "!!python/" in problem:
            raise CassetteError(
                path,
                f"refused a dangerous !!python tag{_line(error)}; cassettes hold plain data only (nothing was run)",
            ) from None
        if "could not determine a constructor" in problem:
            raise CassetteError(
                path, f"holds an unsupported YAML tag{_line(error)}; cassettes hold plain data only"
            ) from None
        raise CassetteError(path, f"is not valid YAML: {problem or 'malformed'}{_line(error)}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "malformed"
        raise CassetteError(path, f"is not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise CassetteError(path, "is nested too deeply to be a cassette") from None
    except (ValueError, IndexError, AttributeError, TypeError, OverflowError):
        # PyYAML's safe constructors let Python's own errors through for typed scalars
        # they cannot build (2001-02-30, an empty !!int, a 5000-digit integer).
        raise CassetteError(path, "is not valid YAML: it holds a value that cannot be constructed") from None


def _check(document: Any, path: Path) -> None:
    """Refuse anything that is not a vcrpy version-1 cassette, naming the interaction at fault."""
    if not isinstance(document, dict) or "interactions" not in document:
        raise CassetteError(path, "is not a cassette (no top-level 'interactions' list)")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # True == 1, but is no version
        raise CassetteError(path, f"has cassette format version {version!r}; cfreplay reads version 1 (vcrpy >= 1.0)")
    interactions = document["interactions"]
    if not isinstance(interactions, list):
        raise CassetteError(path, "is not a cassette ('interactions' is not a list)")
    metadata = document.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise CassetteError(path, "has 'metadata' that is not a mapping")
    for index, interaction in enumerate(interactions):
        problem = _interaction_problem(interaction)
        if problem:
            raise CassetteError(path, problem, interaction=index)


def _headers_problem(headers: Any, side: str) -> str | None:
    if not isinstance(headers, dict):
        return f"{side} headers are not a mapping"
    for name, values in headers.items():
        if not isinstance(name, str):
            return f"{side} has a header name that is not a string"
        if not isinstance(values, list):
            return f"{side} header {name!r} is not a list of strings"
        for value in values:  # a loop, not all(): this runs for every header of every load
            if not isinstance(value, str):
                return f"{side} header {name!r} is not a list of strings"
    return None


def _interaction_problem(interaction: Any) -> str | None:
    if not isinstance(interaction, dict):
        return "is not a mapping"
    request, response = interaction.get("request"), interaction.get("response")
    if not isinstance(request, dict):
        return "has no request mapping"
    if not isinstance(response, dict):
        return "has no response mapping"
    for key in ("method", "uri"):
        if not isinstance(request.get(key), str):
            return f"request has no {key} string"
    problem = _headers_problem(request.get("headers", {}), "request")
    if problem:
        return problem
    if not isinstance(request.get("body"), (str, bytes, type(None))):
        return "request body is not text, bytes or null"
    status = response.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("code"), int) or isinstance(status.get("code"), bool):
        return "response has no status code"
    problem = _headers_problem(response.get("headers", {}), "response")
    if problem:
        return problem
    body = response.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("string"), (str, bytes)):
        return "response body has no 'string' of text or bytes"  # vcrpy cannot replay it otherwise
    return None


def dumps(data: Mapping[str, Any], format: Format) -> bytes:
    """Serialise cassette data exactly as vcrpy's serializers write it."""
    if format == "json":
        return (json.dumps(data, indent=4) + "\n").encode("utf-8")
    text: str = yaml.dump(dict(data), Dumper=_SafeDumper)
    return text.encode("utf-8")


def save(cassette: Cassette, path: str | os.PathLike[str] | None = None) -> None:
    """Write *cassette* atomically to *path* (default: where it was loaded from)."""
    target = Path(path) if path is not None else cassette.path
    try:
        payload = dumps(cassette.data, cassette.format)
    except (TypeError, ValueError, yaml.YAMLError) as error:
        raise CassetteError(target, f"cannot be serialised as {cassette.format}: {error}") from None
    atomic_write(target, payload)


_UMASK_LOCK: Final = threading.Lock()


def _new_file_mode() -> int:
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike[str], payload: bytes, *, mode: int | None = None) -> None:
    """Replace *path* with *payload* all at once, or not at all.

    The bytes go to a temporary file beside the target, are flushed to disk,
    take the original's permission bits (or *mode*, when given), and replace it with ``os.replace``;
    a symlinked target is written through.  On any error, including
    ``KeyboardInterrupt``, the temporary file is removed and the original stays
    byte-identical.
    """
    target = Path(os.path.realpath(path))
    owner: tuple[int, int] | None = None
    try:
        existing = target.stat()
        kept = existing.st_mode & 0o7777
        owner = (existing.st_uid, existing.st_gid)
    except FileNotFoundError:
        kept = _new_file_mode()
    except OSError as error:
        raise CassetteError(path, f"cannot be written: {error.strerror or error}") from None
    mode = kept if mode is None else mode & 0o7777
    temporary: str | None = None
    deferred = _defer_signals()
    try:
        try:
            fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".cfreplay-tmp", dir=target.parent)
        finally:
            # A SIGINT/SIGTERM that came while the file was being created is handled here,
            # once its name is known: the except clause below removes it.
            if deferred is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, deferred)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if owner is not None:
            _keep_owner(temporary, owner)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        if isinstance(error, OSError):
            raise CassetteError(path, f"cannot be written: {error.strerror or error}") from None
        raise
    _fsync_directory(target.parent)


#: Signals whose handlers must not run between creating the temporary file and knowing its name.
_DEFERRED_SIGNALS: Final = frozenset({signal.SIGINT, signal.SIGTERM})


def _defer_signals() -> set[int | signal.Signals] | None:
    """Block SIGINT and SIGTERM in the main thread (the only one Python runs handlers in); the old mask."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None  # pragma: no cover - Windows, or a thread that never runs handlers
    return signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)


def _keep_owner(temporary: str, owner: tuple[int, int]) -> None:
    """Give the new file the old one's owner and group, where this process may (root may; others keep theirs)."""
    current = os.stat(temporary)
    if (current.st_uid, current.st_gid) == owner:
        return
    with contextlib.suppress(PermissionError):
        os.chown(temporary, owner[0], owner[1])


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- when a cassette was recorded

#: How cfreplay writes when an exchange was recorded: UTC to the second, as Ruby VCR does.
RECORDED_AT_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def stamp(moment: datetime) -> str:
    """*moment* as cfreplay writes ``recorded_at``."""
    return moment.astimezone(UTC).strftime(RECORDED_AT_FORMAT)


# RECORDED_AT_FORMAT as cfreplay writes it (two digits each): read without strptime, which
# costs some 20 µs a stamp (its locale-aware regex), and every replay reads a cassette's stamps.
_STAMP: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def _parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        written = _STAMP.fullmatch(value)
        if written is not None:
            year, month, day, hour, minute, second = map(int, written.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        # Anything else strptime reads the format from (one-digit fields, blanks).
        return datetime.strptime(value, RECORDED_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def recorded_at(data: Mapping[str, Any]) -> datetime | None:
    """When the recording of cassette *data* began: the moment replay freezes the clock at.

    Read, in order: the earliest ``response.recorded_at`` (cfreplay writes one per
    exchange; inside the response, where vcrpy and pytest-recording ignore it, and where
    vcrpy's sorted YAML keeps ``request`` first); Ruby VCR's ``recorded_at`` beside
    ``request``; ``metadata.recorded_at`` (cfreplay before per-exchange stamps); else the
    first response's ``Date`` header.  ``None`` when nothing dates it.
    """
    interactions = [i for i in data.get("interactions") or [] if isinstance(i, Mapping)]
    stamps = [
        moment
        for interaction in interactions
        for holder in (interaction.get("response"), interaction)
        if isinstance(holder, Mapping) and (moment := _parse_stamp(holder.get("recorded_at"))) is not None
    ]
    if stamps:
        return min(stamps)
    metadata = data.get("metadata")
    if isinstance(metadata, Mapping) and (moment := _parse_stamp(metadata.get("recorded_at"))) is not None:
        return moment
    for interaction in interactions:
        response = interaction.get("response")
        headers = response.get("headers") if isinstance(response, Mapping) else None
        for name, values in (headers or {}).items():
            if str(name).lower() == "date" and values:
                with contextlib.suppress(TypeError, ValueError, IndexError):
                    return parsedate_to_datetime(values[0]).astimezone(UTC)
    return None


def written_by_cfreplay(data: Mapping[str, Any]) -> bool:
    """Whether cfreplay wrote cassette *data* (its write path proved it clean then).

    Every exchange cfreplay records carries ``response.recorded_at``; cassettes written
    before that carry ``metadata.recorded_with: cfreplay…``.
    """
    metadata = data.get("metadata")
    recorded_with = metadata.get("recorded_with") if isinstance(metadata, Mapping) else None
    if isinstance(recorded_with, str) and recorded_with.startswith("cfreplay"):
        return True
    interactions = data.get("interactions") or []
    return bool(interactions) and all(
        isinstance(i, Mapping) and isinstance(i.get("response"), Mapping) and "recorded_at" in i["response"]
        for i in interactions
    )
