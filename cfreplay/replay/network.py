"""Blocking the network during replay, so a test provably touches nothing outside.

While a cassette replays, every ``connect`` of an internet socket and every host
name lookup (``socket.getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``) raises
:class:`cfreplay.NetworkBlocked` (an ``AssertionError``, so HTTP clients do not
swallow it as a connection error and retry), unless the host is allowed.  Unix
sockets are never blocked: pytest-xdist and local tooling use them; nor are lookups
of numeric addresses, which never leave the machine.

``localhost``, ``127.0.0.1`` and ``::1`` are one host: allowing one allows all three.
The addresses an allowed name resolves to may be connected to for the rest of the block.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from cfreplay.errors import NetworkBlocked
from cfreplay.replay.options import passthrough

__all__ = ["block_network"]

_INTERNET: Final = (socket.AF_INET, socket.AF_INET6)
_LOCK: Final = threading.Lock()
_depth = 0
_allowed: list[set[str]] = []  # per block, innermost last: allowed names and the addresses they resolved to
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo
_original_gethostbyname = socket.gethostbyname
_original_gethostbyname_ex = socket.gethostbyname_ex
_ADVICE: Final = (
    "the test is replaying a cassette, and replay never touches the network. Record the request "
    "(--cfreplay-record-mode=once) or allow the host (--cfreplay-allow-hosts, allow_hosts=)."
)


def _host_of(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family not in _INTERNET or not _allowed:
        return
    host = _host_of(address).lower()
    if host in _allowed[-1]:
        return
    port = address[1] if isinstance(address, tuple) and len(address) > 1 else "?"
    raise NetworkBlocked(f"cfreplay blocked a connection to {host}:{port}: {_ADVICE}")


def _lookup(host: Any) -> set[str] | None:
    """Check a lookup of *host* before it runs: the allow list to remember its addresses in, if it is an
    allowed name; None for a lookup that needs no permission (no block, no host, a numeric address).

    Raises :class:`cfreplay.NetworkBlocked` for any other name.
    """
    if not _allowed or host is None:
        return None
    name = (host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)).lower()
    allowed = _allowed[-1]
    if name in allowed:
        return allowed
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        if name:
            raise NetworkBlocked(f"cfreplay blocked a lookup of the host name {name!r}: {_ADVICE}") from None
    return None


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    allowed = _lookup(host)
    found = _original_getaddrinfo(host, *args, **kwargs)
    if allowed is not None:  # an allowed name: connecting to its addresses is connecting to it
        allowed.update(str(entry[4][0]).lower() for entry in found if entry[0] in _INTERNET)
    return found


def _guarded_gethostbyname(host: str) -> str:
    allowed = _lookup(host)
    address = _original_gethostbyname(host)
    if allowed is not None:
        allowed.add(address)
    return address


def _guarded_gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
    allowed = _lookup(host)
    found = _original_gethostbyname_ex(host)
    if allowed is not None:
        allowed.update(found[2])
    return found


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
    """Within the block, refuse internet connections and host name lookups except to *allow_hosts*.

    Blocks nest (the innermost allow list applies) and are thread-safe to
    enter; the socket functions are restored when the outermost block ends.
    """
    global _depth
    with _LOCK:
        if _depth == 0:
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
            socket.getaddrinfo = _guarded_getaddrinfo
            socket.gethostbyname = _guarded_gethostbyname
            socket.gethostbyname_ex = _guarded_gethostbyname_ex
        _depth += 1
        _allowed.append(set(passthrough(host.lower() for host in allow_hosts)))
    try:
        yield
    finally:
        with _LOCK:
            _allowed.pop()
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _original_connect  # type: ignore[method-assign]
                socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
                socket.getaddrinfo = _original_getaddrinfo
                socket.gethostbyname = _original_gethostbyname
                socket.gethostbyname_ex = _original_gethostbyname_ex
