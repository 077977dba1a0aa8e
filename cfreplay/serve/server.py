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
STAGED, and a fourth poll is unmatched.  With ``repeat=True`` (``cfreplay
serve --repeat``) a request whose recordings were all played gets the last of
them again: the fourth poll answers STAGED, and a client may ask for
``/v2/info`` as often as it likes.

What a client is told keeps it on the served address.  The recorded hosts
(every request's, and every one ``/`` and ``/v2/info`` advertise:
``token_endpoint``, ``authorization_endpoint``, ``doppler_logging_endpoint``…)
are rewritten, scheme and port included, to where the cassettes are served, in
every response header (``Location``…) and text body (``next_url``, ``url``
fields, the endpoints): ``https://api.sys.example.com/v2/apps?page=2`` becomes
``http://127.0.0.1:<port>/v2/apps?page=2`` and ``wss://doppler…:443`` becomes
``ws://127.0.0.1:<port>``.  Other hosts (a buildpack's GitHub URL) are left
alone, and so is ``app_ssh_endpoint``, a ``host:port`` without a scheme.
``Content-Length`` always fits the body sent.  A compressed body (cfreplay
stores responses decoded, so only a cassette another tool wrote holds one) is
decoded when it is gzip or deflate and names a recorded host, and then sent
rewritten and decoded, without its ``Content-Encoding``; otherwise, and for any
other coding (br, zstd), it is sent byte for byte as recorded.

An unmatched request gets CC's own ``404 CF-NotFound`` envelope and one log
line naming it and the nearest recording.  Header values are never logged:
they hold tokens.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import zlib
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
# The documents in which a foundation advertises its other hosts (UAA, login, doppler…).
_DISCOVERY_PATHS: Final = frozenset({"/", "/v2/info"})
_URL_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
# A compressed body is opened to be rewritten only up to this size.
_MAX_INFLATED: Final = 64 * 1024 * 1024


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


def _advertised_hosts(document: Any) -> set[str]:
    """Host names of every absolute HTTP or WebSocket URL in a discovery document (``/``, ``/v2/info``)."""
    if isinstance(document, dict):
        return set().union(*(_advertised_hosts(value) for value in document.values()))
    if isinstance(document, list):
        return set().union(*(_advertised_hosts(value) for value in document))
    if isinstance(document, str) and "://" in document:
        try:
            split = urlsplit(document)
        except ValueError:
            return set()
        if split.scheme.lower() in _URL_SCHEMES and split.hostname:
            return {split.hostname.lower()}
    return set()


def _request_hosts(uri: str) -> set[str]:
    """The host a recorded request went to (none for a relative URI)."""
    try:
        host = urlsplit(uri).hostname if "://" in uri.split("?", 1)[0] else None
    except ValueError:
        return set()
    return {host.lower()} if host else set()


def _discovered_hosts(response: Response) -> set[str]:
    """The hosts a recorded ``/`` or ``/v2/info`` answer advertises (none if it is not JSON)."""
    body = _inflated(response.body, _codings(response)) if _codings(response) else response.body
    try:
        return _advertised_hosts(json.loads(body)) if body is not None else set()
    except ValueError:  # not JSON, or not UTF-8
        return set()


def _codings(response: Response) -> list[str]:
    """The response's content codings, in the order they were applied."""
    return [
        coding.strip().lower()
        for name, value in response.headers
        if name.lower() == "content-encoding"
        for coding in value.split(",")
        if coding.strip()
    ]


def _origin_pattern(hosts: set[str]) -> re.Pattern[str] | None:
    """What an origin on one of *hosts* looks like in text: scheme, ``://`` (or JSON's ``:\\/\\/``), host, port."""
    if not hosts:
        return None
    # The look-ahead refuses a longer name (api.example.com.evil); an IPv6 host is written in brackets.
    names = "|".join(
        rf"\[{re.escape(host)}\]" if ":" in host else re.escape(host)
        for host in sorted(hosts, key=lambda h: (-len(h), h))
    )
    return re.compile(rf"\b(?P<scheme>https?|wss?)(?P<sep>://|:\\/\\/)(?:{names})(?::\d+)?(?![\w.:-])", re.IGNORECASE)


def _inflated(body: bytes, codings: Sequence[str]) -> bytes | None:
    """*body* decoded from gzip and deflate (outermost coding last), or ``None`` if it cannot be."""
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            return None
        # gzip: a gzip header (or zlib's, which some servers send); deflate: zlib, or raw as some servers do.
        attempts = (zlib.MAX_WBITS | 32,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
        for wbits in attempts:
            opener = zlib.decompressobj(wbits)
            try:
                data = opener.decompress(body, _MAX_INFLATED)
            except zlib.error:
                continue
            if opener.unconsumed_tail or opener.unused_data or not opener.eof:
                return None  # too large, several members, or truncated: sent as recorded
            body = data
            break
        else:
            return None
    return body


def _rewritten(response: Response, pattern: re.Pattern[str], served: str) -> Response:
    """*response* with every origin *pattern* matches replaced by the *served* one (``http://host:port``)."""
    netloc = urlsplit(served).netloc

    def origin(match: re.Match[str]) -> str:
        scheme = "ws" if match["scheme"].lower().startswith("ws") else "http"
        return f"{scheme}{match['sep']}{netloc}"

    headers = [(name, pattern.sub(origin, value)) for name, value in response.headers]
    codings = _codings(response)
    body = _inflated(response.body, codings) if codings else response.body
    text: str | None = None
    if body is not None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is not None and pattern.search(text) is not None:
        body = pattern.sub(origin, text).encode("utf-8")
        if codings:  # sent decoded from now on
            headers = [(name, value) for name, value in headers if name.lower() != "content-encoding"]
    else:
        body = response.body
    headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return dataclasses.replace(response, headers=tuple(headers), body=body)


class CassetteServer:
    """Cassettes loaded for replay: ``handle()`` answers one request, without I/O.

    Loading happens here, so a missing or malformed cassette raises
    :class:`cfreplay.CassetteError` before anything listens.  ``handle`` is
    thread-safe.  ``unmatched`` lists ``"METHOD /path?query"`` for every request
    that found no recording, in arrival order.  With *repeat*, a request whose
    recordings were all played gets the last of them again.  ``served_url``
    (``http://host:port``; :func:`run` sets it) is where clients reach this
    server: the recorded hosts are rewritten to it in what is sent.  ``None``
    (the default): responses go out with the recorded hosts.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        log: Callable[[str], None] | None = None,
        repeat: bool = False,
        served_url: str | None = None,
    ) -> None:
        self.unmatched: list[str] = []
        self.repeat = repeat
        self.served_url = served_url
        self._log: Callable[[str], None] = log if log is not None else _log.warning
        self._lock = threading.Lock()
        self._recordings: list[_Recording] = []
        # Unplayed recordings per key, in recorded order: popping one is playing it.
        self._queues: dict[_Key, deque[_Recording]] = {}
        # The last recording played per key: what repeat plays again.
        self._last: dict[_Key, _Recording] = {}
        # Responses rewritten for served_url, by recording (id) and the URL they were rewritten for.
        self._sent: dict[tuple[int, str], Response] = {}
        hosts: set[str] = set()
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
                hosts |= _request_hosts(request["uri"])
                if uri_path in _DISCOVERY_PATHS:
                    hosts |= _discovered_hosts(recording.response)
        self._origins = _origin_pattern(hosts)

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
                played = self._last[key] = queue.popleft()
                return self._outgoing(played)
            if self.repeat and key in self._last:
                return self._outgoing(self._last[key])
            line = f"{method} {uri_path}" + (f"?{query}" if query else "")
            self.unmatched.append(line)
        self._log(f"cfreplay serve: no recording for {line}; {self._nearest(key, method, uri_path)}")
        return factories.error_response("NotFound")

    def _outgoing(self, recording: _Recording) -> Response:
        """The response to send for *recording*: rewritten to ``served_url`` (once), or as recorded."""
        served = self.served_url
        if served is None or self._origins is None:
            return recording.response
        cache_key = (id(recording), served)
        sent = self._sent.get(cache_key)
        if sent is None:
            sent = self._sent[cache_key] = _rewritten(recording.response, self._origins, served)
        return sent

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
def run(
    paths: Sequence[Path],
    *,
    port: int = 0,
    log: Callable[[str], None] | None = None,
    repeat: bool = False,
) -> Iterator[RunningServer]:
    """Serve *paths* on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    Cassettes load first: a :class:`cfreplay.CassetteError` is raised before anything listens.
    The recorded hosts are rewritten to the served address; *repeat* plays the last
    recording of a request again once all of them were played.
    """
    replay = CassetteServer(paths, log=log, repeat=repeat)

    def handle_at(url: str) -> loopback.Handle:
        replay.served_url = url
        return replay.handle

    with loopback.listen(handle_at, port=port, name="cfreplay-serve") as listening:
        yield RunningServer(listening, replay)


def serve(
    paths: Sequence[Path],
    *,
    port: int = 0,
    ready: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
    repeat: bool = False,
) -> None:
    """Serve *paths* until SIGINT or SIGTERM, then shut down cleanly and return.

    ``ready(url)`` is called once the server listens (stdout is flushed after it,
    so a parent reading a pipe sees a printed URL at once).  Signals reach only
    the main thread, so call this from there; elsewhere use :func:`run`.
    """
    loopback.serve_until_signalled(
        lambda: run(paths, port=port, log=log, repeat=repeat),
        lambda running: ready(running.url) if ready is not None else None,
    )
