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

What this takes of vcrpy's internals (its patch builder, the stand-in's duck-typing
of a Cassette) lives in :mod:`cfreplay.replay._vcr`; where that adapter finds them
changed, vcrpy's own patching serves every cassette and this module is not used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from cfreplay.replay import _requests_lane, _vcr
from cfreplay.replay._open_blocks import OpenBlocks

__all__ = ["CASSETTE_IN_USE", "current", "eligible", "in_use"]

_MISSING: Final = object()


def current() -> Any:
    """The innermost cassette entered through :func:`in_use` (None outside one)."""
    return _cassettes.latest()


#: What vcrpy's stubs see as their cassette: the innermost cassette cfreplay has entered.
CASSETTE_IN_USE: Final = _vcr.CassetteInUse(current)


class _Table:
    """The replacements for every client, and what they replaced while they are in."""

    def __init__(self, clients: _vcr.ClientPatches) -> None:
        self.patches = _last_of_each(clients.patches)
        self.force_reset = clients.force_reset
        self._clients = clients
        self._saved: list[tuple[Any, str, Any]] = []
        self._requests_lane = _requests_lane_for(clients)

    def apply(self) -> None:
        saved: list[tuple[Any, str, Any]] = []
        try:
            for target, attribute, replacement in self.patches:
                saved.append((target, attribute, _own_value(target, attribute)))
                setattr(target, attribute, replacement)
            if self._requests_lane is not None:
                adapter_class, requests_send, lane = self._requests_lane
                # Only over requests' own send: a mock in its place (responses…) answers first, as without us.
                if adapter_class.__dict__.get("send") is requests_send:
                    saved.append((adapter_class, "send", requests_send))
                    setattr(adapter_class, "send", lane)  # noqa: B010 - any class, as the patches above
        except BaseException:
            _restore(saved)
            raise
        self._saved = saved

    def remove(self) -> None:
        saved, self._saved = self._saved, []
        try:
            self._clients.close_connections()
        finally:
            _restore(saved)


def _last_of_each(patches: list[tuple[Any, str, Any]]) -> list[tuple[Any, str, Any]]:
    """One patch per attribute: the last one given, which is what assigning them all in order leaves.

    vcrpy patches urllib3 once as itself and once as ``requests.packages.urllib3``, which
    modern requests makes the very same modules: a third of the table assigned twice.
    Restoring the originals after either order gives the same result.
    """
    kept: dict[tuple[int, str], tuple[Any, str, Any]] = {}
    for target, attribute, replacement in patches:
        kept.pop((id(target), attribute), None)  # re-inserted: it goes where its last patch stood
        kept[(id(target), attribute)] = (target, attribute, replacement)
    return list(kept.values())


def _requests_lane_for(clients: _vcr.ClientPatches) -> tuple[type, Any, Any] | None:
    """requests' HTTPAdapter, its own ``send``, and the lane that answers inside it (None: requests uses the stubs)."""
    adapters = sys.modules.get("requests.adapters")  # vcrpy's patch module has imported requests, if installed
    adapter_class = getattr(adapters, "HTTPAdapter", None)
    if adapter_class is None or not clients.urllib3_plays_as_expected:
        return None
    found = _requests_lane.lane_for(adapter_class, current)
    return None if found is None else (adapter_class, *found)


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


_table: _Table | None = None
# Set when vcrpy's patch builder made a patcher the adapter does not know: vcrpy patches every cassette.
_unknown_patchers = False


def _built() -> _Table | None:
    """The table, built on first use (None for good if vcrpy's patches cannot be shared)."""
    global _table, _unknown_patchers
    if _table is None and not _unknown_patchers:
        clients = _vcr.ClientPatches.build(CASSETTE_IN_USE)
        if clients is None:
            _unknown_patchers = True
        else:
            _table = _Table(clients)
    return _table


def eligible(cassette: Any) -> bool:
    """Whether the shared patches can serve *cassette* (else vcrpy patches for it, as usual)."""
    if getattr(cassette, "custom_patches", ()) or getattr(cassette, "skip_patchers", ()):
        return False
    with _cassettes.lock:
        return (bool(_cassettes.values()) or _vcr.clients_unpatched()) and _built() is not None


@contextmanager
def in_use(cassette: Any) -> Iterator[Any]:
    """Patch the clients (if no other cassette has) and point the stubs at *cassette*.

    Only for a cassette :func:`eligible` accepted.
    """
    with _cassettes.lock:
        if _built() is None:
            raise RuntimeError("vcrpy's patches cannot be shared: ask eligible() before in_use()")
    with _cassettes.opened(cassette):
        yield cassette


_applied = False


def _follow(open_cassettes: list[Any]) -> None:
    """Assign the replacements when the first cassette opens; restore the originals when the last closes."""
    global _applied
    if open_cassettes and not _applied:
        assert _table is not None  # in_use() built it
        _table.apply()
        _applied = True
    elif not open_cassettes and _applied:
        _applied = False
        assert _table is not None
        _table.remove()


#: The cassettes entered through in_use(), oldest first; they may be left in any order (threads).
_cassettes: Final[OpenBlocks[Any]] = OpenBlocks(_follow)
