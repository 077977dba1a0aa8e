"""The one write path: sanitize, prove it clean, write it atomically.

Every cassette cfreplay writes goes through :func:`write_cassette` — recording
(the pytest plugin and ``use_cassette``), ``cfreplay record``, ``import``,
``sanitize`` and ``convert``:

1. the data is sanitized with the caller's :class:`~cfreplay.Sanitizer` (so the
   project's ``[tool.cfreplay.sanitize]`` rules apply);
2. the bytes that would be written are scanned with the same rule table; a
   finding fails the write with :class:`SecretLeft`, which names the rule and the
   location and never the value;
3. under an exclusive lock on the cassette's directory (the one recorders take),
   the file is checked against what the caller read: if someone else changed it
   meanwhile, the write either merges (recordings: every interaction on disk is
   kept, new ones are appended) or stops with :class:`CassetteChanged`;
4. the file is replaced atomically (temporary file, ``fsync``, ``os.replace``),
   keeping its mode and, where the process may, its owner.

Nothing is written unless all of that succeeds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from cfreplay import cassette as cassette_files
from cfreplay.errors import CassetteChanged, CassetteError, SecretLeft

__all__ = [
    "TOOL_DIRS",
    "CassetteChanged",
    "Conversion",
    "SecretLeft",
    "convert",
    "convert_file",
    "destination_for",
    "directory_lock",
    "fingerprint",
    "is_virtualenv",
    "iter_cassette_files",
    "merge_recordings",
    "prove_clean",
    "sanitize_file",
    "write_cassette",
]

#: What a caller saw before deciding what to write: the file's identity (device, inode,
#: size, modification time), or ``None`` when it did not exist.  A rename over it (another
#: writer's atomic write) or an edit in place changes it.
Fingerprint = tuple[int, int, int, int] | None
#: Pass as ``expected`` to write whatever the file holds now.
ANY: Final = "*"


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint:
    """What *path* is now (see :data:`Fingerprint`), or ``None`` when there is no such file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CassetteError(path, f"cannot be read: {error.strerror or error}") from None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@contextlib.contextmanager
def directory_lock(directory: str | os.PathLike[str]) -> Iterator[None]:
    """An exclusive lock on a cassette directory: writers (xdist workers, ``sanitize``) take turns."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def prove_clean(payload: bytes, path: str | os.PathLike[str], sanitizer: Any) -> None:
    """Raise :class:`SecretLeft` when the scanner, with *sanitizer*'s rules, finds anything in *payload*."""
    from cfreplay.hygiene import scanner

    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:  # pragma: no cover - dumps writes UTF-8
        raise CassetteError(path, "would not be UTF-8 text") from None
    findings = scanner.scan_text(text, path=str(path), cassette=True, table=sanitizer.table)
    if findings:
        first = findings[0]
        where = f"interaction {first.interaction} " if first.interaction is not None else ""
        more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
        raise SecretLeft(
            path,
            f"would still hold a secret after sanitizing ({first.rule} at {where}{first.location}{more}); "
            "nothing was written — please report this",
        )


def write_cassette(
    path: str | os.PathLike[str],
    data: dict[str, Any],
    fmt: cassette_files.Format,
    sanitizer: Any,
    *,
    expected: Fingerprint | str = ANY,
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> Any:
    """Sanitize *data* in place, prove it clean and write it to *path* atomically; returns the report.

    *expected* is what the caller saw at *path* (:func:`fingerprint`; ``None`` for no
    file).  If the file differs when the lock is held, *merge* (given the data on disk
    and the new data) says what to write instead, or, without one,
    :class:`CassetteChanged` is raised.
    """
    target = Path(path)
    report = sanitizer.sanitize_data(data, path=target)
    payload = _serialise(data, fmt, target)
    prove_clean(payload, target, sanitizer)
    target.parent.mkdir(parents=True, exist_ok=True)
    with directory_lock(target.parent):
        if expected != ANY:
            current = fingerprint(target)
            if current != expected:
                if merge is None or current is None:
                    raise CassetteChanged(
                        target, "was changed by someone else meanwhile; nothing was written (run again)"
                    )
                on_disk = cassette_files.load(target).data
                merged = merge(on_disk, data)
                report.extend(sanitizer.sanitize_data(merged, path=target))
                payload = _serialise(merged, fmt, target)
                prove_clean(payload, target, sanitizer)
        cassette_files.atomic_write(target, payload)
    return report


def _serialise(data: dict[str, Any], fmt: cassette_files.Format, path: Path) -> bytes:
    try:
        return cassette_files.dumps(data, fmt)
    except (TypeError, ValueError) as error:
        raise CassetteError(path, f"cannot be serialised as {fmt}: {error}") from None


def merge_recordings(on_disk: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Everything on disk, then our interactions that are not there yet, in our order.

    Two xdist workers recording into one cassette each keep what they recorded.
    """
    seen = {_identity(interaction) for interaction in on_disk.get("interactions") or []}
    merged = dict(on_disk)
    merged["interactions"] = list(on_disk.get("interactions") or [])
    for interaction in ours.get("interactions") or []:
        identity = _identity(interaction)
        if identity not in seen:
            seen.add(identity)
            merged["interactions"].append(interaction)
    for key, value in ours.items():
        if key != "interactions":
            merged.setdefault(key, value)
    return merged


def _identity(interaction: Any) -> str:
    return json.dumps(interaction, sort_keys=True, default=lambda v: v.hex() if isinstance(v, bytes) else repr(v))


def sanitize_file(path: str | os.PathLike[str], sanitizer: Any, *, check: bool = False) -> Any:
    """Sanitize the cassette at *path* in place; returns the report.

    The file is rewritten only when a secret was replaced (a clean cassette keeps its
    bytes and mtime), and only if it is still what was read: a change made meanwhile
    stops the rewrite with :class:`CassetteChanged`.  With *check*, nothing is written.
    """
    target = Path(path)
    expected = fingerprint(target)
    original = cassette_files.read_bytes(target)
    loaded = cassette_files.loads(original, path=target)
    report = sanitizer.sanitize_cassette(loaded)
    if not report or check:
        return report
    payload = _serialise(loaded.data, loaded.format, target)
    prove_clean(payload, target, sanitizer)
    with directory_lock(target.parent):
        if fingerprint(target) != expected:
            raise CassetteChanged(target, "was changed by someone else while it was sanitized; nothing was written")
        cassette_files.atomic_write(target, payload)
    return report


# --------------------------------------------------------------------------- converting YAML <-> JSON


_SUFFIXES: Final[dict[cassette_files.Format, str]] = {"json": ".json", "yaml": ".yaml"}


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert_file` did with one cassette.

    ``written`` is False when nothing was written: the source already was in the
    target format (``destination == source``), or the destination already held
    exactly the converted cassette.
    """

    source: Path
    destination: Path
    format: cassette_files.Format
    interactions: int
    written: bool
    source_removed: bool = False
    #: What was sanitized on the way (a cassette recorded by cfreplay: nothing).
    report: Any = None

    @property
    def same_format(self) -> bool:
        return self.destination == self.source


def destination_for(path: str | os.PathLike[str], to: cassette_files.Format) -> Path:
    """Where converting *path* to *to* writes: beside it, ``x.yaml`` -> ``x.json``, ``x.json`` -> ``x.yaml``."""
    return Path(path).with_suffix(_SUFFIXES[to])


def convert(
    path: str | os.PathLike[str],
    to: cassette_files.Format,
    *,
    sanitizer: Any = None,
    force: bool = False,
    remove_source: bool = False,
) -> Path:
    """Convert the cassette at *path* to *to* (``"json"`` or ``"yaml"``) beside it; returns the new file's path.

    See :func:`convert_file`, which also says what was done.
    """
    return convert_file(path, to, sanitizer=sanitizer, force=force, remove_source=remove_source).destination


def convert_file(
    path: str | os.PathLike[str],
    to: cassette_files.Format,
    *,
    sanitizer: Any = None,
    force: bool = False,
    remove_source: bool = False,
) -> Conversion:
    """Write the cassette at *path* in format *to*, next to it, through the one write path.

    Like every cassette cfreplay writes, the result is sanitized (with *sanitizer*, by
    default one with the project's configuration) and proven clean; otherwise the data
    is written exactly as vcrpy's serializer for *to* writes it, and read back before
    anything is written: what :func:`cassette.load` gives for the new file equals the
    (sanitized) source.  The one normalisation is vcrpy's own: a body that YAML stores
    as ``!!binary`` but that is UTF-8 text is written to JSON as that text, as vcrpy's
    JSON serializer does.  A body that is not UTF-8 (gzip, images) cannot be stored in
    vcrpy's JSON format at all, so such a cassette is refused.  The destination takes
    the source's permission bits.

    Raises :class:`CassetteError` (nothing written, the source untouched) when the
    source cannot be read or is not a cassette, when it cannot be converted
    losslessly, when the destination exists and differs (unless *force*), or when
    the destination cannot be written.  With *remove_source*, the source is removed
    once the destination holds the converted cassette.
    """
    if to not in cassette_files.FORMATS:
        raise ValueError(f"cannot convert to {to!r}: formats are {', '.join(cassette_files.FORMATS)}")
    if sanitizer is None:
        from cfreplay.hygiene.rules import SanitizeConfig
        from cfreplay.hygiene.sanitizer import Sanitizer

        sanitizer = Sanitizer(SanitizeConfig.from_pyproject(path))
    source = Path(path)
    loaded = cassette_files.load(source)
    count = len(loaded)
    if loaded.format == to:
        return Conversion(source, source, to, count, written=False)
    destination = destination_for(source, to)
    report = sanitizer.sanitize_data(loaded.data, path=source)
    data = _normalised(loaded.data, source) if to == "json" else loaded.data
    try:
        payload = cassette_files.dumps(data, to)
    except (TypeError, ValueError, yaml.YAMLError):
        raise CassetteError(source, f"cannot be converted to {to}: it holds a value {to} cannot store") from None
    try:
        back = cassette_files.loads(payload, path=destination, format=to).data
    except CassetteError:
        back = None
    if back != data:
        where = _difference(data, back)
        raise CassetteError(source, f"cannot be converted to {to} losslessly: {where} would change")
    prove_clean(payload, destination, sanitizer)
    written = _write_converted(source, destination, payload, force=force)
    removed = False
    if remove_source:
        try:
            source.unlink()
        except OSError as error:
            raise CassetteError(
                source, f"was converted to {destination} but cannot be removed: {error.strerror or error}"
            ) from None
        removed = True
    return Conversion(source, destination, to, count, written=written, source_removed=removed, report=report)


def _write_converted(source: Path, destination: Path, payload: bytes, *, force: bool) -> bool:
    """Write *payload* to *destination* unless it already holds it; False when nothing needed writing."""
    try:
        same = destination.exists() and os.path.samefile(source, destination)
    except OSError:
        same = False
    if same:
        raise CassetteError(destination, f"is the source {source} itself (a link); nothing was written")
    if destination.exists() or destination.is_symlink():
        if destination.is_file() and cassette_files.read_bytes(destination) == payload:
            return False
        if not destination.is_file():
            raise CassetteError(destination, "exists and is not a regular file; nothing was written")
        if not force:
            raise CassetteError(destination, f"exists and differs from {source} converted (--force replaces it)")
    try:
        mode = source.stat().st_mode & 0o7777
    except OSError:
        mode = None
    expected = fingerprint(destination)
    with directory_lock(destination.parent):
        if fingerprint(destination) != expected:
            raise CassetteChanged(destination, "was changed by someone else meanwhile; nothing was written")
        cassette_files.atomic_write(destination, payload, mode=mode)
    return True


def _text(value: bytes, path: Path, index: int, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise CassetteError(
            path,
            f"has a binary {what} (not UTF-8 text), which vcrpy's JSON format cannot store; keep this cassette YAML",
            interaction=index,
        ) from None


def _normalised(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """*data* with bytes bodies as text, as vcrpy's serializer hands them to ``json.dumps`` (a shallow rebuild)."""
    interactions = []
    for index, interaction in enumerate(data["interactions"]):
        request, response = interaction["request"], interaction["response"]
        if isinstance(request.get("body"), bytes):
            request = {**request, "body": _text(request["body"], path, index, "request body")}
        body = response["body"]
        if isinstance(body["string"], bytes):
            response = {**response, "body": {**body, "string": _text(body["string"], path, index, "response body")}}
        if request is not interaction["request"] or response is not interaction["response"]:
            interaction = {**interaction, "request": request, "response": response}
        interactions.append(interaction)
    return {**data, "interactions": interactions}


def _difference(data: dict[str, Any], back: Any) -> str:
    """Where *back* first differs from *data*, named without quoting any value."""
    if not isinstance(back, dict):
        return "the cassette"
    for key in sorted(set(data) | set(back), key=str):
        if key == "interactions" and isinstance(back.get(key), list):
            ours, theirs = data[key], back[key]
            for index, (mine, other) in enumerate(zip(ours, theirs, strict=False)):
                if mine != other:
                    parts = [part for part in ("request", "response") if mine.get(part) != other.get(part)]
                    return f"interaction {index} ({', '.join(parts) or 'its keys'})"
            if len(ours) != len(theirs):
                return "the number of interactions"
        elif data.get(key) != back.get(key) or (key in data) != (key in back):
            return f"top-level key {key!r}" if isinstance(key, str) else "a top-level key that is not a string"
    return "the cassette"


# --------------------------------------------------------------------------- finding cassettes

#: Tool folders no walk below a folder enters (hidden ones are skipped too, here; the
#: scanner's own list adds the hidden ones it names, see ``scanner.SKIP_DIRS``).
TOOL_DIRS: Final = frozenset({"__pycache__", "node_modules", "venv", "dist", "build"})


def is_virtualenv(directory: str | os.PathLike[str]) -> bool:
    """Whether *directory* is a virtualenv (it holds ``pyvenv.cfg``), whatever it is called.

    Below a folder, ``scan`` and ``sanitize`` skip one: ``cfreplay scan .`` in a project
    whose environment is ``env/`` would otherwise read every installed package.
    """
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def iter_cassette_files(paths: Iterable[str | os.PathLike[str]]) -> Iterable[Path]:
    """Files named directly, and the YAML and JSON files below directories.

    Sorted; hidden folders, tool folders and virtualenvs skipped; below a directory only
    regular files count (a FIFO would block the reader).
    """
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = []
            for directory, subdirectories, files in os.walk(path):
                # Pruned, not filtered: a skipped folder (a virtualenv's thousands of files) is never listed.
                subdirectories[:] = [d for d in subdirectories if not _skipped(directory, d)]
                for name in files:
                    child = Path(directory, name)
                    if child.suffix.lower() in (".yaml", ".yml", ".json") and _regular(child):
                        found.append(child)
            yield from sorted(found)
        else:
            yield path


def _skipped(parent: str, name: str) -> bool:
    """A folder :func:`iter_cassette_files` does not walk into: hidden, a tool's, or a virtualenv."""
    return name.startswith(".") or name in TOOL_DIRS or is_virtualenv(os.path.join(parent, name))


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
