"""A process-wide patch shared by every block open across the process, whatever order they close in.

Patching a module attribute on entering a block and putting back "what was there" on
leaving it is only right when blocks close innermost first.  Cassettes do not promise
that: two may be left outer-first (an ``ExitStack`` used by hand, a recorder per
thread), and "what was there" is then the other block's patch, left installed for the
rest of the process.  So each such patch keeps its open blocks here, and is told the
blocks still open after every change: it installs itself when the first opens, follows
the latest, and puts back what it found when the last closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["OpenBlocks"]

T = TypeVar("T")


class OpenBlocks(Generic[T]):
    """The blocks open now, oldest first, each holding a value; *changed* follows them.

    *changed* is called under :attr:`lock` with the values still open after each open and
    each close.  If it raises on an open, that block is not open (and the error goes on).
    """

    def __init__(self, changed: Callable[[list[T]], None]) -> None:
        self.lock = threading.RLock()
        self._open: list[list[T]] = []  # one-item lists, told apart by identity: a value may be open twice
        self._changed = changed

    def values(self) -> list[T]:
        """The values of the open blocks, oldest first."""
        return [entry[0] for entry in self._open]

    def latest(self) -> T | None:
        """The value of the block opened last and still open (None when none is)."""
        open_now = self._open
        return open_now[-1][0] if open_now else None

    @contextmanager
    def opened(self, value: T) -> Iterator[T]:
        """A block holding *value*, open until the ``with`` ends."""
        entry = [value]
        with self.lock:
            self._open.append(entry)
            try:
                self._changed(self.values())
            except BaseException:
                self._close(entry)
                raise
        try:
            yield value
        finally:
            with self.lock:
                self._close(entry)
                self._changed(self.values())

    def _close(self, entry: list[T]) -> None:
        for position in range(len(self._open) - 1, -1, -1):
            if self._open[position] is entry:
                del self._open[position]
                return
