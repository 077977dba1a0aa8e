"""Serving a request handler over HTTP on 127.0.0.1: shared by the simulator and ``serve``.

Both answer requests with a :class:`cfreplay.Response` from a plain function
``handle(method, path_with_query, headers, body)``; this module owns the HTTP
part: a keep-alive server bound to loopback only (never resolving the host
name, which can stall offline), daemon threads, a prompt and complete
``stop()`` (kept-alive connections are closed, so nothing answers afterwards),
and serving in the foreground until SIGINT or SIGTERM.

:func:`routed` makes host names reach a loopback server from inside this
process: while it is active, ``socket.getaddrinfo`` answers those names with
127.0.0.1 and the server's port, without asking any resolver.  A simulator can
then call itself ``http://api.cfreplay.invalid`` (a name RFC 6761 guarantees
never resolves anywhere), and nothing a client records holds its port.
"""

from __future__ import annotations

import logging
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Final, TypeVar

from cfreplay.types import Response

__all__ = ["HOST", "Handle", "Listening", "listen", "routed", "serve_until_signalled"]

HOST: Final = "127.0.0.1"
_log = logging.getLogger("cfreplay.serve.loopback")
_T = TypeVar("_T")

Handle = Callable[[str, str, Mapping[str, str], bytes], Response]


class _Server(ThreadingHTTPServer):
    # Handler threads must never keep the process (or a test run) alive.
    daemon_threads = True

    def __init__(self, port: int, *, server_name: str | None, head_as_get: bool) -> None:
        self.handle: Handle | None = None
        self.software = server_name
        self.head_as_get = head_as_get
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.bound()

    def bound(self) -> tuple[str, int]:
        """The listening ``(host, port)``."""
        host, port = self.socket.getsockname()[:2]
        return str(host), int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """End kept-alive connections, so no handler thread answers after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients' sessions expect
    server: _Server

    def version_string(self) -> str:
        return self.server.software or super().version_string()

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def _dispatch(self) -> None:
        handle = self.server.handle
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # CC and UAA clients do not stream request bodies; refusing keeps the connection sane.
            self.send_error(411, "Length Required")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if handle is None or length < 0:
            self.send_error(503 if handle is None else 400, None if handle is None else "Bad Content-Length")
            return
        body = self.rfile.read(length) if length else b""
        method = "GET" if self.command == "HEAD" and self.server.head_as_get else self.command
        response = handle(method, self.path, dict(self.headers.items()), body)
        if self.server.software is not None:
            self.send_response(response.status, response.reason or None)
        else:
            # No Date or Server of this server's: a replay sends the recorded ones.
            self.send_response_only(response.status, response.reason or None)
        for key, value in response.headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304) and response.status >= 200:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class Listening:
    """A handler being served: where, and how to stop."""

    def __init__(self, url: str, server: _Server, thread: threading.Thread) -> None:
        self.url = url
        self._server = server
        self._thread = thread
        self._stopped = False

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the host is always 127.0.0.1."""
        return self._server.bound()

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def listen(
    make_handle: Callable[[str], Handle],
    *,
    port: int = 0,
    name: str = "cfreplay",
    server_name: str | None = None,
    head_as_get: bool = False,
) -> Iterator[Listening]:
    """Serve on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    *make_handle* receives the URL once the port is bound (a simulator names
    itself in its documents) and returns the handler.  *server_name* makes
    responses carry ``Server`` and ``Date`` as a live server's do; without it
    only the handler's headers go out.  *head_as_get* answers HEAD like GET
    without a body, as Sinatra does.
    """
    server = _Server(port, server_name=server_name, head_as_get=head_as_get)
    try:
        host, bound = server.bound()
        url = f"http://{host}:{bound}"
        server.handle = make_handle(url)
        # A short poll interval keeps stop() prompt; the loop is one select() per tick.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{name}-{bound}", daemon=True
        )
        thread.start()
    except BaseException:
        server.server_close()
        raise
    listening = Listening(url, server, thread)
    try:
        yield listening
    finally:
        listening.stop()


def serve_until_signalled(open_: Callable[[], AbstractContextManager[_T]], ready: Callable[[_T], None]) -> None:
    """Enter ``open_()``, call *ready*, and hold until SIGINT or SIGTERM; then leave cleanly.

    Signals reach only the main thread, so this must run there.  stdout and
    stderr are flushed after *ready*, so a parent reading a pipe sees a
    printed URL at once.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("serve() waits for SIGINT/SIGTERM, which only the main thread receives; use run() instead")
    stopping = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Handlers go in before the server starts, so an early signal is not lost.
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_() as opened:
            ready(opened)
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
            while not stopping.wait(0.1):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


# --------------------------------------------------------------------------- names routed to loopback

_ROUTES_LOCK: Final = threading.Lock()
#: Host name (lower case) -> the ports it is routed to, innermost block last.
_routes: dict[str, list[int]] = {}
#: What ``socket.getaddrinfo`` was when routing started: every other name still goes there.
_resolver: Callable[..., Any] = socket.getaddrinfo


def _routed_port(host: Any) -> int | None:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return None
    ports = _routes.get(host.lower().rstrip("."))
    return ports[-1] if ports else None


def _routed_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
    routed_port = _routed_port(host)
    if routed_port is None:
        return _resolver(host, port, family, type, proto, flags)
    if family not in (socket.AF_UNSPEC, socket.AF_INET):
        raise socket.gaierror(socket.EAI_FAMILY, f"{host} is routed to {HOST}, an IPv4 address")
    socktype = type or socket.SOCK_STREAM
    protocol = proto or (socket.IPPROTO_TCP if socktype == socket.SOCK_STREAM else 0)
    return [(socket.AF_INET, socktype, protocol, "", (HOST, routed_port))]


@contextmanager
def routed(hosts: Iterable[str], port: int) -> Iterator[None]:
    """Within the block, this process resolves each of *hosts* to 127.0.0.1:*port*, whatever port is asked.

    Only ``socket.getaddrinfo`` is answered (what ``socket.create_connection``,
    urllib3, httpx, asyncio and aiohttp resolve with); no resolver is asked for
    these names, so none sees them.  Blocks nest: the innermost route of a name
    wins, and ``socket.getaddrinfo`` is restored when the last block ends (if
    nobody replaced it meanwhile; then it keeps passing other names through).
    """
    global _resolver
    names = [host.lower().rstrip(".") for host in hosts]
    with _ROUTES_LOCK:
        if socket.getaddrinfo is not _routed_getaddrinfo:
            _resolver = socket.getaddrinfo
            socket.getaddrinfo = _routed_getaddrinfo
        for name in names:
            _routes.setdefault(name, []).append(port)
    try:
        yield
    finally:
        with _ROUTES_LOCK:
            for name in names:
                ports = _routes[name]
                ports.pop()
                if not ports:
                    del _routes[name]
            if not _routes and socket.getaddrinfo is _routed_getaddrinfo:
                socket.getaddrinfo = _resolver
