"""Blocking the network during replay, so a test provably touches nothing outside.

While a cassette replays, every ``connect`` of an internet socket raises
:class:`cfreplay.NetworkBlocked` (an ``AssertionError``, so HTTP clients do not
swallow it as a connection error and retry), unless the host is allowed.  Unix
sockets are never blocked: pytest-xdist and local tooling use them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from cfreplay.errors import NetworkBlocked

__all__ = ["block_network"]

_INTERNET: Final = (socket.AF_INET, socket.AF_INET6)
_LOCK: Final = threading.Lock()
_depth = 0
_allowed: list[frozenset[str]] = []
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def _host_of(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family not in _INTERNET or not _allowed:
        return
    host = _host_of(address)
    allowed = _allowed[-1]
    if host in allowed or (("localhost" in allowed) and host in ("127.0.0.1", "::1")):
        return
    port = address[1] if isinstance(address, tuple) and len(address) > 1 else "?"
    raise NetworkBlocked(
        f"cfreplay blocked a connection to {host}:{port}: the test is replaying a cassette, and replay "
        "never touches the network. Record the request (--cfreplay-record-mode=once) or allow the host "
        "(--cfreplay-allow-hosts)."
    )


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _refuse_or_pass(self, address)
    _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _refuse_or_pass(self, address)
    return _original_connect_ex(self, address)


def _refuse_or_pass(sock: socket.socket, address: Any) -> None:
    try:
        _check(sock, address)
    except NetworkBlocked:
        # Callers such as socket.create_connection close the socket only on OSError;
        # NetworkBlocked is an AssertionError, so close it here or it leaks.
        sock.close()
        raise


@contextmanager
def block_network(allow_hosts: Iterable[str] = ()) -> Iterator[None]:
    """Within the block, refuse internet connections except to *allow_hosts*.

    Blocks nest (the innermost allow list applies) and are thread-safe to
    enter; the socket methods are restored when the outermost block ends.
    """
    global _depth
    with _LOCK:
        if _depth == 0:
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
        _depth += 1
        _allowed.append(frozenset(allow_hosts))
    try:
        yield
    finally:
        with _LOCK:
            _allowed.pop()
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _original_connect  # type: ignore[method-assign]
                socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
