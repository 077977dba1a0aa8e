"""Replay cassettes as an HTTP server on 127.0.0.1, for clients that cannot run inside Python.

The cf CLI, Go clients and curl cannot be patched by vcrpy, but they can be
pointed at a URL.  Two layers, as in :mod:`cfreplay.serve.simulator`:

* :class:`CassetteServer` loads the cassettes and answers
  ``handle(method, path, headers, body)`` with a :class:`cfreplay.Response`;
  it does no I/O, so matching is tested without sockets.
* :func:`run` (a context manager, for tests) and :func:`serve` (blocking, for
  ``cfreplay serve CASSETTE...``) put it behind a ``ThreadingHTTPServer`` bound
  to 127.0.0.1 only.

Matching follows Python replay (:class:`cfreplay.replay.recorder.use_cassette`) with
one difference: the client talks to 127.0.0.1:<port>, not to the host it was
recorded against, so scheme, host and port are not compared.  A request matches
on method, path and query (as a sorted list of pairs, like vcrpy's ``query``
matcher).  Identical requests, across every cassette in the order given, play
in recorded order, and each recording plays once (vcrpy without
``allow_playback_repeats``): three recorded polls answer PENDING, PENDING,
STAGED, and a fourth poll is unmatched.

An unmatched request gets CC's own ``404 CF-NotFound`` envelope and one log
line naming it and the nearest recording.  Header values are never logged:
they hold tokens.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from cfreplay import cassette as cassette_files
from cfreplay.cf import factories
from cfreplay.serve import loopback
from cfreplay.types import Response

__all__ = ["HOST", "CassetteServer", "RunningServer", "run", "serve"]

HOST: Final = loopback.HOST

_log = logging.getLogger(__name__)

# What a request is matched on: method, path, query pairs sorted (vcrpy's query matcher).
_Key = tuple[str, str, tuple[tuple[str, str], ...]]

# Framing and hop-by-hop headers describe the recorded connection, not this one
# (RFC 9110 §7.6.1): the body is sent whole, so Content-Length is recomputed.
_DROPPED_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class _RecordedResponse(Response):
    """A :class:`Response` that keeps the recorded reason phrase (CC's may differ from Python's)."""

    recorded_reason: str = ""

    @property
    def reason(self) -> str:
        return self.recorded_reason or super().reason


@dataclass(frozen=True)
class _Recording:
    """One interaction, ready to send: where it came from, its request line, and its response."""

    source: str  # "<cassette path>#<interaction index>", for log lines
    method: str
    path: str
    query: str
    response: Response

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")


def _split_target(target: str) -> tuple[str, str]:
    """``(path, query)`` of a request target or recorded URI; an empty path is ``/``, as vcrpy compares."""
    if "://" in target.split("?", 1)[0]:
        parts = urlsplit(target)  # a recorded URI, or an absolute-form request target
        return parts.path or "/", parts.query
    # Not urlsplit: it reads a path starting with "//" as a host.
    path, _, query = target.partition("?")
    return path.split("#", 1)[0] or "/", query.split("#", 1)[0]


def _key(method: str, path: str, query: str) -> _Key:
    return (method.upper(), path, tuple(sorted(parse_qsl(query))))


def _recorded_response(response: Mapping[str, Any]) -> Response:
    """The response a vcrpy interaction holds, with framing fit for the body actually sent."""
    stored = response["body"]["string"]
    decoded = isinstance(stored, str)
    body = stored.encode("utf-8") if decoded else bytes(stored)
    headers: list[tuple[str, str]] = []
    for name, values in (response.get("headers") or {}).items():
        lowered = name.lower()
        # Text bodies were decoded (vcrpy's decode_compressed_response): they are sent as is.
        if lowered in _DROPPED_HEADERS or (decoded and lowered == "content-encoding"):
            continue
        headers.extend((name, value) for value in values)
    headers.append(("Content-Length", str(len(body))))
    status = response["status"]
    reason = status.get("message")
    return _RecordedResponse(int(status["code"]), tuple(headers), body, reason if isinstance(reason, str) else "")


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):  # the shorter string bounds the prefix
        if x != y:
            break
        length += 1
    return length


class CassetteServer:
    """Cassettes loaded for replay: ``handle()`` answers one request, without I/O.

    Loading happens here, so a missing or malformed cassette raises
    :class:`cfreplay.CassetteError` before anything listens.  ``handle`` is
    thread-safe.  ``unmatched`` lists ``"METHOD /path?query"`` for every request
    that found no recording, in arrival order.
    """

    def __init__(self, paths: Sequence[Path], *, log: Callable[[str], None] | None = None) -> None:
        self.unmatched: list[str] = []
        self._log: Callable[[str], None] = log if log is not None else _log.warning
        self._lock = threading.Lock()
        self._recordings: list[_Recording] = []
        # Unplayed recordings per key, in recorded order: popping one is playing it.
        self._queues: dict[_Key, deque[_Recording]] = {}
        for path in paths:
            loaded = cassette_files.load(path)
            for index, interaction in enumerate(loaded.interactions):
                request = interaction["request"]
                method = request["method"].upper()
                uri_path, query = _split_target(request["uri"])
                recording = _Recording(
                    f"{path}#{index}", method, uri_path, query, _recorded_response(interaction["response"])
                )
                self._recordings.append(recording)
                self._queues.setdefault(_key(method, uri_path, query), deque()).append(recording)

    def __len__(self) -> int:
        return len(self._recordings)

    @property
    def remaining(self) -> int:
        """How many recordings have not been played yet."""
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Response:
        """The next unplayed recording of this request, or CC's 404 ``CF-NotFound``.

        *headers* and *body* are not matched on (the client's token differs from
        the sanitized one recorded); they are accepted so callers pass the whole request.
        """
        method = method.upper()
        uri_path, query = _split_target(path)
        key = _key(method, uri_path, query)
        with self._lock:
            queue = self._queues.get(key)
            if queue:
                return queue.popleft().response
            line = f"{method} {uri_path}" + (f"?{query}" if query else "")
            self.unmatched.append(line)
        self._log(f"cfreplay serve: no recording for {line}; {self._nearest(key, method, uri_path)}")
        return factories.error_response("NotFound")

    def _nearest(self, key: _Key, method: str, path: str) -> str:
        """What the log line says about the closest recording, so the fix is obvious."""
        same = [r for r in self._recordings if _key(r.method, r.path, r.query) == key]
        if same:
            where = ", ".join(r.source for r in same)
            return f"all {len(same)} recording(s) of it were already played ({where})"
        if not self._recordings:
            return "the cassettes hold no recordings"
        other_query = [r for r in self._recordings if r.method == method and r.path == path]
        if other_query:
            nearest = other_query[0]
            return f"nearest recorded request: {nearest.request_line} ({nearest.source}), a different query"
        # Longest common path prefix; among equals the same method, then the earliest recording.
        nearest = max(
            self._recordings,
            key=lambda r: (_common_prefix(r.path, path), r.method == method),
        )
        return f"nearest recorded request: {nearest.request_line} ({nearest.source})"


# --------------------------------------------------------------------------- HTTP


class RunningServer:
    """Cassettes being served: where, the :class:`CassetteServer` answering, and how to stop."""

    def __init__(self, listening: loopback.Listening, server: CassetteServer) -> None:
        self.url = listening.url
        self.server = server
        self._listening = listening

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the host is always 127.0.0.1."""
        return self._listening.address

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        self._listening.stop()


@contextmanager
def run(paths: Sequence[Path], *, port: int = 0, log: Callable[[str], None] | None = None) -> Iterator[RunningServer]:
    """Serve *paths* on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    Cassettes load first: a :class:`cfreplay.CassetteError` is raised before anything listens.
    """
    replay = CassetteServer(paths, log=log)
    with loopback.listen(lambda _url: replay.handle, port=port, name="cfreplay-serve") as listening:
        yield RunningServer(listening, replay)


def serve(
    paths: Sequence[Path],
    *,
    port: int = 0,
    ready: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Serve *paths* until SIGINT or SIGTERM, then shut down cleanly and return.

    ``ready(url)`` is called once the server listens (stdout is flushed after it,
    so a parent reading a pipe sees a printed URL at once).  Signals reach only
    the main thread, so call this from there; elsewhere use :func:`run`.
    """
    loopback.serve_until_signalled(
        lambda: run(paths, port=port, log=log),
        lambda running: ready(running.url) if ready is not None else None,
    )
