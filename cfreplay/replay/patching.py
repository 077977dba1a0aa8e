"""vcrpy's HTTP client patches, built once per process and pointed at the cassette in use.

For every cassette, vcrpy builds its patches anew: it re-imports each client it
supports (a failed import for each one not installed), subclasses its stub
connections with the cassette as a class attribute, and enters a
``mock.patch`` per replaced attribute — then undoes all of it on exit.  Each
connection a stub opens goes through ``force_reset``, another round of
``mock.patch`` objects.  Together that is most of a replayed test's cost.

Here the patches are built once, with a stand-in for "the cassette in use" as
the stubs' cassette, so one set of stub classes serves every cassette.  Entering
the outermost cassette assigns the replacements; leaving it restores the
originals (exactly: an attribute that was inherited is deleted again, as
``mock.patch`` does).  Nested cassettes only change what the stand-in points at.
Outside a cassette nothing is patched, as with vcrpy.

A cassette with its own ``custom_patches`` or ``skip_patchers`` keeps vcrpy's
per-cassette patching, and so does any cassette entered while a foreign vcrpy
cassette is active (the table would capture that cassette's patches).
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import vcr.patch
import vcr.stubs

__all__ = ["CASSETTE_IN_USE", "current", "eligible", "in_use"]

_MISSING: Final = object()


class _CassetteInUse:
    """What vcrpy's stubs see as their cassette: the innermost cassette cfreplay has entered."""

    __slots__ = ()

    # vcrpy's patch builder reads these while building (no cassette is in use then).
    skip_patchers: tuple[str, ...] = ()
    custom_patches: tuple[Any, ...] = ()

    @property
    def _path(self) -> str:
        return str(_stack[-1]._path) if _stack else "<no cassette in use>"

    def __getattr__(self, name: str) -> Any:
        if not _stack:
            raise AttributeError(f"no cassette is in use (looking up {name!r})")
        return getattr(_stack[-1], name)

    def __len__(self) -> int:
        return len(_stack[-1]) if _stack else 0

    def __contains__(self, request: Any) -> bool:
        return bool(_stack) and request in _stack[-1]

    def __repr__(self) -> str:
        return f"<cassette in use: {self._path}>"


CASSETTE_IN_USE: Final = _CassetteInUse()

_stack: list[Any] = []  # cassettes entered through in_use(), innermost last
_lock = threading.RLock()


class _Table:
    """The replacements for every client, and what ``force_reset`` puts back per connection."""

    def __init__(self) -> None:
        self.patches: list[tuple[Any, str, Any]] = []
        self.removers: list[Any] = []
        for patcher in vcr.patch.CassettePatcherBuilder(CASSETTE_IN_USE).build():
            if isinstance(patcher, vcr.patch.ConnectionRemover):
                self.removers.append(patcher)
            else:
                self.patches.append((patcher.getter(), patcher.attribute, patcher.new))
        self.resets = [(patcher.getter(), patcher.attribute, patcher.new) for patcher in vcr.patch.reset_patchers()]
        self.patches.append((vcr.patch, "force_reset", self.force_reset))
        self.patches.append((vcr.stubs, "parse_headers", _parse_headers))
        self._saved: list[tuple[Any, str, Any]] = []

    def apply(self) -> None:
        saved = []
        try:
            for target, attribute, replacement in self.patches:
                saved.append((target, attribute, _own_value(target, attribute)))
                setattr(target, attribute, replacement)
        except BaseException:
            _restore(saved)
            raise
        self._saved = saved

    def remove(self) -> None:
        saved, self._saved = self._saved, []
        try:
            # vcrpy closes the stub connections the cassette left in urllib3's pools.
            for remover in self.removers:
                remover.__exit__(None, None, None)
                remover._connection_pool_to_connections.clear()
        finally:
            _restore(saved)

    @contextmanager
    def force_reset(self) -> Iterator[None]:
        """vcrpy's ``force_reset`` (real classes back while a stub builds its real connection), minus mock."""
        saved = [(target, attribute, getattr(target, attribute)) for target, attribute, _real in self.resets]
        for target, attribute, real in self.resets:
            setattr(target, attribute, real)
        try:
            yield
        finally:
            for (target, attribute, replacement), (_t, _a, real) in zip(saved, self.resets, strict=True):
                # As vcrpy: if something newer replaced the real class meanwhile, keep it.
                if getattr(target, attribute) is real:
                    setattr(target, attribute, replacement)


def _own_value(target: Any, attribute: str) -> Any:
    """The attribute as *target* itself holds it (a descriptor, not what it binds to), as mock.patch saves it."""
    try:
        return target.__dict__[attribute]
    except (AttributeError, KeyError):  # inherited: deleted again on restore
        return _MISSING


def _restore(saved: list[tuple[Any, str, Any]]) -> None:
    for target, attribute, original in reversed(saved):
        if original is _MISSING:
            delattr(target, attribute)
        else:
            setattr(target, attribute, original)


# A header vcrpy's parse (the email parser over "name:value\r\n" lines) reads back unchanged.
_PLAIN_NAME: Final = re.compile(r"[!#-'*+.0-9A-Z^-z|~-]+")
_PLAIN_VALUE: Final = re.compile(r"(?:[!-~][ -~]*)?")
_vcr_parse_headers: Final[Callable[[dict[str, list[str]]], http.client.HTTPMessage]] = vcr.stubs.parse_headers


def _parse_headers(header_list: dict[str, list[str]]) -> http.client.HTTPMessage:
    """vcrpy's ``parse_headers`` (run twice for every replayed response), without the email parser.

    The message is built header by header, which is what the parser produces for
    plain ASCII names and values; anything else (non-ASCII, folded lines, leading
    blanks) goes through vcrpy's own function.
    """
    message = http.client.HTTPMessage()
    for name, values in header_list.items():
        if not _PLAIN_NAME.fullmatch(name):
            return _vcr_parse_headers(header_list)
        for value in values:
            if not _PLAIN_VALUE.fullmatch(value):
                return _vcr_parse_headers(header_list)
            message[name] = value
    return message


_table: _Table | None = None


def _clients_unpatched() -> bool:
    """No vcrpy cassette (anyone's) is patching http.client or urllib3 right now."""
    import http.client

    if http.client.HTTPConnection is not vcr.patch._HTTPConnection:
        return False
    connection = getattr(vcr.patch, "conn", None)
    real = getattr(vcr.patch, "_connHTTPConnection", None)
    return connection is None or real is None or connection.HTTPConnection is real


def eligible(cassette: Any) -> bool:
    """Whether the shared patches can serve *cassette* (else vcrpy patches for it, as usual)."""
    if getattr(cassette, "custom_patches", ()) or getattr(cassette, "skip_patchers", ()):
        return False
    with _lock:
        return bool(_stack) or _clients_unpatched()


@contextmanager
def in_use(cassette: Any) -> Iterator[Any]:
    """Patch the clients (if no other cassette has) and point the stubs at *cassette*."""
    global _table
    with _lock:
        if _table is None:
            _table = _Table()
        outermost = not _stack
        if outermost:
            _table.apply()
        _stack.append(cassette)
    try:
        yield cassette
    finally:
        with _lock:
            # Threads may leave in any order: remove this cassette, wherever it is.
            for position in range(len(_stack) - 1, -1, -1):
                if _stack[position] is cassette:
                    del _stack[position]
                    break
            if not _stack:
                _table.remove()


def current() -> Any:
    """The innermost cassette entered through :func:`in_use` (None outside one)."""
    return _stack[-1] if _stack else None
