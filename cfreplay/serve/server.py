"""Replay cassettes as an HTTP server on 127.0.0.1, for clients that cannot run inside Python.

The cf CLI, Go clients and curl cannot be patched by vcrpy, but they can be
pointed at a URL.  Two layers, as in :mod:`cfreplay.serve.simulator`:

* :class:`CassetteServer` loads the cassettes and answers
  ``handle(method, path, headers, body)`` with a :class:`cfreplay.Response`;
  it does no I/O, so matching is tested without sockets.
* :func:`run` (a context manager, for tests) and :func:`serve` (blocking, for
  ``cfreplay serve CASSETTE...``) put it behind a ``ThreadingHTTPServer`` bound
  to 127.0.0.1 only.

Matching follows Python replay (:class:`cfreplay.replay.recorder.use_cassette`).
*match_on* names what a request must match, with vcrpy's matcher names
(:data:`MATCHERS`); the default is method, path and query (as a sorted list of
pairs, like vcrpy's ``query`` matcher).  The client talks to 127.0.0.1:<port>,
not to the host it was recorded against, so ``scheme``, ``host`` and ``port``
are refused, and ``uri`` (``url``) compares the path and the query string as
sent, without the origin.  ``body`` is vcrpy's body matcher (form and JSON
bodies compared parsed, others byte for byte), ``raw_body`` compares bytes, and
``headers`` asks that every header the recording has be sent with the same
value, except those that describe the connection or the client program rather
than the request (:data:`IGNORED_HEADERS`); vcrpy's own ``headers`` compares
every header both ways, which a client on another machine never passes.  As in
replay, a request is matched as the recorder would have written it: given
*sanitize* (``cfreplay serve`` passes the project's sanitizer), every live
request, and every recorded one, is sanitized before it is compared, so a
password sent in a form body meets the recording's ``***``.

Identical requests (equal under *match_on*), across every cassette in the order
given, play in recorded order, and each recording plays once (vcrpy without
``allow_playback_repeats``): three recorded polls answer PENDING, PENDING,
STAGED, and a fourth poll is unmatched.  With ``repeat=True`` (``cfreplay serve
--repeat``) a request whose recordings were all played gets the last of them
again: the fourth poll answers STAGED, and a client may ask for ``/v2/info`` as
often as it likes.

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
line naming it, the nearest recording and the matchers it fails.  Header and
body values are never logged: they hold tokens.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from cfreplay import cassette as cassette_files
from cfreplay.cf import factories
from cfreplay.errors import CassetteError, UnknownNameError
from cfreplay.serve import _rewriting, loopback
from cfreplay.types import Response

__all__ = [
    "DEFAULT_MATCH_ON",
    "HOST",
    "IGNORED_HEADERS",
    "MATCHERS",
    "CassetteServer",
    "RunningServer",
    "checked_match_on",
    "run",
    "serve",
]

HOST: Final = loopback.HOST

#: The matchers a served request can be held to, by the names vcrpy's ``match_on`` takes.
MATCHERS: Final = ("method", "path", "query", "uri", "url", "body", "raw_body", "headers")
#: What a request must match unless told otherwise: replay's keys, less the origin.
DEFAULT_MATCH_ON: Final = ("method", "path", "query")
#: Request headers the ``headers`` matcher passes over: they describe this connection
#: (Host names the served address; framing and RFC 9110 §7.6.1's hop-by-hop headers), or the
#: client program rather than the request (User-Agent, and Accept-Encoding, which the server
#: ignores anyway: bodies go out as recorded).  A client on another machine differs in all of them.
IGNORED_HEADERS: Final = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
    "trailer", "upgrade", "user-agent", "accept-encoding",
})  # fmt: skip

_log = logging.getLogger(__name__)

# vcrpy's matchers that say where a request went: behind a served address they never match.
_REFUSED_MATCHERS: Final = {
    "scheme": "clients reach the server over http",
    "host": "clients reach the server at 127.0.0.1, not at the recorded host",
    "port": "clients reach the server at its own port, not at the recorded one",
}

# Framing and hop-by-hop headers describe the recorded connection, not this one
# (RFC 9110 §7.6.1): the body is sent whole, so Content-Length is recomputed.
_DROPPED_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
# The documents in which a foundation advertises its other hosts (UAA, login, doppler…).
_DISCOVERY_PATHS: Final = frozenset({"/", "/v2/info"})


@dataclass(frozen=True)
class _RecordedResponse(Response):
    """A :class:`Response` that keeps the recorded reason phrase (CC's may differ from Python's)."""

    recorded_reason: str = ""

    @property
    def reason(self) -> str:
        return self.recorded_reason or super().reason


@dataclass(frozen=True, eq=False)
class _Request:
    """A request as matching sees it: live or recorded, sanitized when a sanitizer is given."""

    method: str
    path: str
    query: str
    # One value per name, the first (as vcrpy keeps a recorded request's), names as written.
    headers: tuple[tuple[str, str], ...]
    body: bytes | None  # None for no body, so an empty POST matches one recorded with None

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def line(self) -> str:
        return f"{self.method} {self.target}"

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, eq=False)
class _Recording:
    """One interaction, ready to send: where it came from, its request, and its response."""

    source: str  # "<cassette path>#<interaction index>", for log lines
    request: _Request
    response: Response


def _split_target(target: str) -> tuple[str, str]:
    """``(path, query)`` of a request target or recorded URI; an empty path is ``/``, as vcrpy compares."""
    if "://" in target.split("?", 1)[0]:
        parts = urlsplit(target)  # a recorded URI, or an absolute-form request target
        return parts.path or "/", parts.query
    # Not urlsplit: it reads a path starting with "//" as a host.
    path, _, query = target.partition("?")
    return path.split("#", 1)[0] or "/", query.split("#", 1)[0]


def _as_request(recorded: Mapping[str, Any]) -> _Request:
    """A request as a cassette holds it (``method``, ``uri``, ``headers`` of value lists, ``body``) for matching."""
    path, query = _split_target(str(recorded["uri"]))
    headers: dict[str, tuple[str, str]] = {}
    for name, values in (recorded.get("headers") or {}).items():
        listed = values if isinstance(values, (list, tuple)) else [values]
        if listed and name.lower() not in headers:
            headers[name.lower()] = (str(name), str(listed[0]))
    body = recorded.get("body")
    if isinstance(body, str):
        body = body.encode("utf-8")  # as vcrpy's Request stores a text body
    data = bytes(body) if isinstance(body, (bytes, bytearray)) else None
    return _Request(str(recorded["method"]).upper(), path, query, tuple(headers.values()), data or None)


# What each keyed matcher compares: requests with equal keys pass it.
_KEYS: Final[Mapping[str, Callable[[_Request], Hashable]]] = {
    "method": lambda r: r.method,
    "path": lambda r: r.path,
    "query": lambda r: tuple(sorted(parse_qsl(r.query))),
    "uri": lambda r: (r.path, r.query),
    "url": lambda r: (r.path, r.query),
}


def _body_differs(live: _Request, recorded: _Request) -> str | None:
    # vcrpy takes a quarter of a second to import: only a server matching bodies pays for it.
    import vcr.matchers
    import vcr.request

    def as_vcrpy(request: _Request) -> Any:
        # The URI is not compared (the body matcher reads only the body and the headers).
        return vcr.request.Request(request.method, request.target, request.body, dict(request.headers))

    try:
        vcr.matchers.body(as_vcrpy(live), as_vcrpy(recorded))  # vcrpy's order: the request, then the recording
    except AssertionError:
        return "body"
    return None


def _raw_body_differs(live: _Request, recorded: _Request) -> str | None:
    return "raw_body" if live.body != recorded.body else None


def _headers_differ(live: _Request, recorded: _Request) -> str | None:
    differing = [
        name for name, value in recorded.headers if name.lower() not in IGNORED_HEADERS and live.header(name) != value
    ]
    # Names only: the values hold tokens.
    return f"headers ({', '.join(differing)})" if differing else None


# The matchers without a key: each says how a request differs from a recording, or None.
_CHECKS: Final[Mapping[str, Callable[[_Request, _Request], str | None]]] = {
    "body": _body_differs,
    "raw_body": _raw_body_differs,
    "headers": _headers_differ,
}


def checked_match_on(names: Iterable[str]) -> tuple[str, ...]:
    """*names* as matchers a server can apply, in order, each once; blanks are dropped.

    Raises :class:`cfreplay.UnknownNameError` for a name that is no matcher (with the
    closest one), and :class:`ValueError` for ``scheme``, ``host`` and ``port`` or for none at all.
    """
    checked: list[str] = []
    for raw in names:
        name = raw.strip()
        if name in _REFUSED_MATCHERS:
            raise ValueError(f"{name!r} cannot be matched when serving: {_REFUSED_MATCHERS[name]} (leave it out)")
        if name and name not in MATCHERS:
            raise UnknownNameError("matcher", name, MATCHERS)
        if name and name not in checked:
            checked.append(name)
    if not checked:
        raise ValueError(f"name at least one matcher (e.g. {','.join(DEFAULT_MATCH_ON)})")
    return tuple(checked)


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
    that found no recording, in arrival order.  With *repeat*, a request whose
    recordings were all played gets the last of them again.  ``served_url``
    (``http://host:port``; :func:`run` sets it) is where clients reach this
    server: the recorded hosts are rewritten to it in what is sent.  ``None``
    (the default): responses go out with the recorded hosts.

    *match_on* names what a request must match (:data:`MATCHERS`; checked with
    :func:`checked_match_on`).  *sanitize* takes a request as a cassette holds it
    (a dict of ``method``, ``uri``, ``headers`` mapping names to lists of values,
    and ``body``) and returns it sanitized; every recorded and every live request
    goes through it before matching, as replay sanitizes both.  Without it,
    requests are compared as they are.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        log: Callable[[str], None] | None = None,
        repeat: bool = False,
        served_url: str | None = None,
        match_on: Iterable[str] = DEFAULT_MATCH_ON,
        sanitize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.unmatched: list[str] = []
        self.repeat = repeat
        self.served_url = served_url
        self.match_on = checked_match_on(match_on)
        self._log: Callable[[str], None] = log if log is not None else _log.warning
        self._sanitize = sanitize
        self._keys = [_KEYS[name] for name in self.match_on if name in _KEYS]
        self._checks = [_CHECKS[name] for name in self.match_on if name in _CHECKS]
        self._lock = threading.Lock()
        self._recordings: list[_Recording] = []
        # Every recording per key, in recorded order; the unplayed ones in a queue of their own.
        # The key settles the keyed matchers; body and headers are checked on its few recordings.
        self._keyed: dict[tuple[Hashable, ...], list[_Recording]] = {}
        self._queues: dict[tuple[Hashable, ...], deque[_Recording]] = {}
        # Responses rewritten for served_url, by recording (id) and the URL they were rewritten for.
        self._sent: dict[tuple[int, str], Response] = {}
        hosts: set[str] = set()
        for path in paths:
            loaded = cassette_files.load(path)
            for index, interaction in enumerate(loaded.interactions):
                recorded = interaction["request"]
                try:
                    sanitized = self._sanitized(dict(recorded))
                except Exception as error:  # the sanitizer's own (too deep, too large): the cassette's fault
                    reason = f"its request cannot be sanitized ({type(error).__name__})"
                    raise CassetteError(path, reason, interaction=index) from None
                request = _as_request(sanitized)
                recording = _Recording(f"{path}#{index}", request, _recorded_response(interaction["response"]))
                self._recordings.append(recording)
                key = self._key(request)
                self._keyed.setdefault(key, []).append(recording)
                self._queues.setdefault(key, deque()).append(recording)
                hosts |= _rewriting.request_hosts(recorded["uri"])
                if request.path in _DISCOVERY_PATHS:
                    hosts |= _rewriting.discovered_hosts(recording.response)
        self._origins = _rewriting.origin_pattern(hosts)

    def __len__(self) -> int:
        return len(self._recordings)

    @property
    def remaining(self) -> int:
        """How many recordings have not been played yet."""
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Response:
        """The next unplayed recording this request matches, or CC's 404 ``CF-NotFound``."""
        live = {
            "method": method.upper(),
            # The served origin, so the sanitizer reads the URI as it would a recorded one.
            "uri": path if "://" in path.split("?", 1)[0] else (self.served_url or f"http://{HOST}") + path,
            "headers": {name: [value] for name, value in headers.items()},
            "body": body or None,
        }
        try:
            sanitized = self._sanitized(live)
        except Exception as error:  # the sanitizer's own (too deep, too large): a request nothing can match
            target_path, _ = _split_target(path)
            line = f"{method.upper()} {target_path}"  # not the query: it was not sanitized
            with self._lock:
                self.unmatched.append(line)
            self._log(f"cfreplay serve: no recording for {line}; it cannot be sanitized ({type(error).__name__})")
            return factories.error_response("NotFound")
        request = _as_request(sanitized)
        key = self._key(request)
        with self._lock:
            queue = self._queues.get(key)
            if queue:
                # The first unplayed one it matches: identical requests play in recorded order.
                position = next((i for i, recording in enumerate(queue) if self._passes(request, recording)), None)
                if position is not None:
                    played = queue[position]
                    del queue[position]
                    return self._outgoing(played)
            if self.repeat:
                # All it matches were played (or there are none): the last recorded plays again.
                again = next((r for r in reversed(self._keyed.get(key, ())) if self._passes(request, r)), None)
                if again is not None:
                    return self._outgoing(again)
            self.unmatched.append(request.line)
        self._log(f"cfreplay serve: no recording for {request.line}; {self._nearest(request)}")
        return factories.error_response("NotFound")

    def _sanitized(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize(request) if self._sanitize is not None else request

    def _key(self, request: _Request) -> tuple[Hashable, ...]:
        return tuple(key(request) for key in self._keys)

    def _passes(self, request: _Request, recording: _Recording) -> bool:
        """Whether *request* passes the matchers without a key (its key already equals the recording's)."""
        return all(check(request, recording.request) is None for check in self._checks)

    def _differences(self, request: _Request, recording: _Recording) -> list[str]:
        """The matchers *recording* fails for *request*, in ``match_on`` order (what replay's message names)."""
        recorded = recording.request
        differing: list[str] = []
        for name in self.match_on:
            if name in _KEYS:
                if _KEYS[name](request) != _KEYS[name](recorded):
                    differing.append(name)
            elif (difference := _CHECKS[name](request, recorded)) is not None:
                differing.append(difference)
        return differing

    def _outgoing(self, recording: _Recording) -> Response:
        """The response to send for *recording*: rewritten to ``served_url`` (once), or as recorded."""
        served = self.served_url
        if served is None or self._origins is None:
            return recording.response
        cache_key = (id(recording), served)
        sent = self._sent.get(cache_key)
        if sent is None:
            sent = self._sent[cache_key] = _rewriting.rewritten(recording.response, self._origins, served)
        return sent

    def _nearest(self, request: _Request) -> str:
        """What the log line says about the closest recording, so the fix is obvious."""
        if not self._recordings:
            return "the cassettes hold no recordings"
        compared = [(recording, self._differences(request, recording)) for recording in self._recordings]
        same = [recording for recording, differing in compared if not differing]
        if same:
            where = ", ".join(r.source for r in same)
            return f"all {len(same)} recording(s) of it were already played ({where})"
        # As vcrpy ranks them: the most matchers passed; then the longest common path prefix,
        # the same method, and the earliest recording.
        nearest, differing = max(
            compared,
            key=lambda item: (
                -len(item[1]),
                _common_prefix(item[0].request.path, request.path),
                item[0].request.method == request.method,
            ),
        )
        names = ", ".join(differing[:-1]) + " and " + differing[-1] if len(differing) > 1 else differing[0]
        return f"nearest recorded request: {nearest.request.line} ({nearest.source}), which differs in {names}"


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
    match_on: Iterable[str] = DEFAULT_MATCH_ON,
    sanitize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[RunningServer]:
    """Serve *paths* on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    Cassettes load first: a :class:`cfreplay.CassetteError` is raised before anything listens.
    The recorded hosts are rewritten to the served address; *repeat* plays the last
    recording of a request again once all of them were played; *match_on* and
    *sanitize* are :class:`CassetteServer`'s.
    """
    replay = CassetteServer(paths, log=log, repeat=repeat, match_on=match_on, sanitize=sanitize)

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
    match_on: Iterable[str] = DEFAULT_MATCH_ON,
    sanitize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Serve *paths* until SIGINT or SIGTERM, then shut down cleanly and return.

    ``ready(url)`` is called once the server listens (stdout is flushed after it,
    so a parent reading a pipe sees a printed URL at once).  Signals reach only
    the main thread, so call this from there; elsewhere use :func:`run`.
    """
    loopback.serve_until_signalled(
        lambda: run(paths, port=port, log=log, repeat=repeat, match_on=match_on, sanitize=sanitize),
        lambda running: ready(running.url) if ready is not None else None,
    )
