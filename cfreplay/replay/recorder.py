"""Record and replay: the one place that builds ``vcr.VCR``.

``use_cassette`` wraps vcrpy with what a CF test suite needs:

* **Sanitized before written.**  Every request and response goes through the
  sanitizer in vcrpy's ``before_record_request``/``before_record_response``
  hooks.  vcrpy hands the response hook a deep copy, so the live response the
  code under test receives keeps its real token (it may need it for the next
  call).  On replay the same request hook sanitizes live requests before
  matching, so they find their sanitized recordings (what the matchers read of
  them: with the default matchers, the method and URI; the rest is sanitized for
  the cassette's report when that is read).
* **Safe, atomic files.**  Cassettes are read with cfreplay's safe loader and
  written through a temporary file and ``os.replace`` under a directory lock, so
  parallel recorders (pytest-xdist) never interleave or truncate a file.  Each
  cassette records when it was recorded (``metadata.recorded_at``).
* **Offline by default.**  ``record_mode="none"``; while a cassette only
  replays, every socket connect fails with :class:`cfreplay.NetworkBlocked`.
* **Frozen time.**  Replay freezes the clock (ticking) at ``recorded_at``, so
  token expiry checks behave as they did while recording.
* **Errors that do not leak.**  A request with no recording raises
  :class:`cfreplay.UnmatchedRequest` whose message is passed through the
  sanitizer; vcrpy's own message would print the live request's token.

What replay takes from vcrpy's internals (an indexed Cassette, client patches built once
per process) it takes through :mod:`cfreplay.replay._vcr`, which falls back to vcrpy's
public ``VCR.use_cassette`` where a vcrpy release has changed them.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import inspect
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import vcr
import vcr.errors
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request as VcrRequest

from cfreplay import cassette as cassette_files
from cfreplay.errors import (
    CassetteError,
    OptionError,
    UnmatchedRequest,
    UnplayedInteractions,
)
from cfreplay.hygiene import bodies, writing
from cfreplay.hygiene.sanitizer import Change, Report, SanitizeConfig, Sanitizer
from cfreplay.replay import _sources, _vcr, clock, options, patching
from cfreplay.replay.network import block_network
from cfreplay.types import RECORD_MODES, RecordMode

__all__ = [
    "RECORD_MODES",
    "ActiveCassette",
    "recorded_at",
    "use_cassette",
]

_F = TypeVar("_F", bound=Callable[..., Any])


# ----------------------------------------------------------------------------- files


class _Serializer:
    """vcrpy serializer over cfreplay's safe loader and byte-exact dumper.

    Every exchange carries the moment it was recorded (``response.recorded_at``):
    new episodes keep the old ones' dates, and re-recorded exchanges get new ones.
    """

    def __init__(self, fmt: cassette_files.Format, sanitizer: Sanitizer) -> None:
        self.format = fmt
        self.sanitizer = sanitizer
        #: What the file was when this cassette loaded it: a write finding it changed merges.
        self.baseline: writing.Fingerprint | str = writing.ANY
        #: What the enter that made this cassette read of its files, handed to the loader once.
        self.looked: _sources.Looked | None = None

    def deserialize(self, text: str) -> dict[str, Any]:
        return cassette_files.loads(text, path=f"<{self.format} cassette>", format=self.format).data

    def stamp(self, data: dict[str, Any]) -> dict[str, Any]:
        """Date every exchange; no top-level key (vcrpy 9.4 then returns a third value pytest-recording
        cannot unpack).  Exchanges recorded now were stamped as they happened (``_Hooks.response``);
        one loaded from an older cassette keeps its date (its ``metadata`` one, else now)."""
        metadata = data.pop("metadata", None)
        inherited = metadata.get("recorded_at") if isinstance(metadata, dict) else None
        fallback = inherited if isinstance(inherited, str) else cassette_files.stamp(datetime.now(UTC))
        for interaction in data.get("interactions") or []:
            response = interaction.get("response")
            if isinstance(response, dict):
                response.setdefault("recorded_at", fallback)
        return data

    def serialize(self, data: dict[str, Any]) -> str:
        return cassette_files.dumps(self.stamp(data), self.format).decode("utf-8")


_FORMATS: Final = ("yaml", "json")


def _check_vcrpy_has(vcr_kwargs: dict[str, Any]) -> None:
    """Refuse an option the installed vcrpy does not know (options.VCRPY names some older releases lack):
    vcrpy would drop it without a word."""
    for name in vcr_kwargs:
        if name not in _vcr.CASSETTE_OPTIONS:
            version = getattr(vcr, "__version__", "(unknown version)")
            raise OptionError(f"use_cassette(): {name} needs a newer vcrpy than the installed {version}")


class _Persister:
    """Loads with the safe loader (errors name the file); saves atomically under a directory lock."""

    @staticmethod
    def load_cassette(cassette_path: str | os.PathLike[str], serializer: _Serializer) -> Any:
        path = Path(cassette_path)
        serializer.baseline = _baseline(path, serializer)
        data = serializer.looked.take(path) if serializer.looked is not None else _sources.BROKEN
        if data is _sources.BROKEN:  # not read yet (or it cannot be parsed: then _sources.parsed says why)
            data = _sources.parsed(path) if path.is_file() else _sources.NO_FILE
        if data is _sources.NO_FILE or data is None:
            raise CassetteNotFoundError()  # an empty file is recorded again, as vcrpy does
        try:
            return _vcr.from_data(cast(dict[str, Any], data))
        except CassetteError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise CassetteError(path, f"cannot be replayed: {error}") from None
        finally:
            _sources.release(path)

    @staticmethod
    def save_cassette(
        cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: _Serializer
    ) -> None:
        path = Path(cassette_path)
        data = _vcr.to_data(cassette_dict)
        if serializer.format == "json":
            problem = _binary_body(cassette_dict)
            if problem:
                raise CassetteError(path, f"cannot be saved as JSON: {problem}")
        # Sanitized again, scanned, and written under the directory lock; if another
        # recorder (an xdist worker) wrote the file meanwhile, both recordings are kept.
        writing.write_cassette(
            path,
            serializer.stamp(data),
            serializer.format,
            serializer.sanitizer,
            expected=serializer.baseline,
            merge=writing.merge_recordings,
        )
        serializer.baseline = writing.fingerprint(path)


class _CombinedPersister(_Persister):
    """Loads the cassette and, after its interactions, those of the extra cassettes (a missing one is skipped).

    Only a cassette that replays reads extras, so nothing of theirs is ever written back.
    """

    def __init__(self, extras: Sequence[Path]) -> None:
        self.extras = tuple(extras)

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: _Serializer) -> Any:  # type: ignore[override]
        first = Path(cassette_path)
        loaded = []
        for path in (first, *self.extras):
            try:
                loaded.append(_Persister.load_cassette(path, serializer))
            except CassetteNotFoundError:
                continue
        serializer.baseline = _baseline(first, serializer)
        if not loaded:
            raise CassetteNotFoundError()
        requests = [request for found in loaded for request in found[0]]
        responses = [response for found in loaded for response in found[1]]
        return (requests, responses, *loaded[0][2:])


def _baseline(path: Path, serializer: _Serializer) -> writing.Fingerprint:
    """What the file at *path* was as this cassette read it: a write that finds it changed since merges.

    The enter's own look at the file when it made one (its stat, taken before reading, so a
    change after the read reads as a change), else the file as it is now.
    """
    known = serializer.looked.fingerprint(path) if serializer.looked is not None else None
    return known if known is not None else writing.fingerprint(path)


def _binary_body(cassette_dict: dict[str, Any]) -> str:
    """Which interaction holds a body vcrpy's JSON format cannot store (it is not UTF-8)."""
    pairs = zip(cassette_dict["requests"], cassette_dict["responses"], strict=False)
    for index, (request, response) in enumerate(pairs):
        for side, body in (("request", request.body), ("response", (response.get("body") or {}).get("string"))):
            if isinstance(body, bytes):
                try:
                    body.decode("utf-8")
                except UnicodeDecodeError:
                    return (
                        f"interaction {index} has a binary {side} body (not UTF-8 text), which vcrpy's JSON "
                        "format cannot store; record it into a .yaml cassette"
                    )
    return ""


def recorded_at(path: str | os.PathLike[str]) -> datetime | None:
    """When the recording of the cassette at *path* began (see :func:`cfreplay.cassette.recorded_at`)."""
    try:
        data = _sources.parsed(Path(path))
    except (CassetteError, CassetteNotFoundError):
        return None
    return cassette_files.recorded_at(data) if data is not None else None


# ----------------------------------------------------------------------------- sanitizing hooks


# While cassettes are loaded (vcrpy runs the record hooks on what it loads), what is known of
# them: _WRITTEN, cfreplay wrote every one; _CLEAN, every one was written by cfreplay or
# scanned clean (nothing to sanitize, but another tool's compressed bodies still to decode);
# None, nothing.
_TRUSTED_LOAD: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("cfreplay_trusted_load", default=None)
_WRITTEN: Final = "written"
_CLEAN: Final = "clean"
# True while any cassette is being loaded.
_LOADING: Final[contextvars.ContextVar[bool]] = contextvars.ContextVar("cfreplay_loading", default=False)


#: vcrpy's matchers that read a request's method and URI and nothing else.
_URI_MATCHERS: Final = frozenset({"method", "uri", "url", "scheme", "host", "port", "path", "query"})


def _vcrpy_default_match_on() -> tuple[str, ...] | None:
    """The matchers a cassette uses when none are named (None if this vcrpy does not say)."""
    try:
        default = inspect.signature(vcr.VCR.__init__).parameters["match_on"].default
    except (KeyError, TypeError, ValueError):
        return None
    return tuple(default) if isinstance(default, (list, tuple)) else None


_DEFAULT_MATCH_ON: Final = _vcrpy_default_match_on()


class _DeferredReport(Report):
    """A report some of whose sanitizing waits until someone reads it (:meth:`defer`).

    What a replay's live requests would have had replaced is still counted, and in the
    same order, but only worked out when the report is read.
    """

    def __init__(self) -> None:
        self._pending: list[Callable[[], object]] = []
        super().__init__()

    @property
    def changes(self) -> list[Change]:
        if self._pending:
            pending, self._pending = self._pending, []
            for work in pending:
                work()
        return self._changes

    @changes.setter
    def changes(self, value: list[Change]) -> None:
        self._changes = value

    def defer(self, work: Callable[[], object]) -> None:
        self._pending.append(work)


# URIs of live requests and what they are sanitized, per sanitizer: suites replay the same
# endpoints (/v2/info, /oauth/token…) in test after test.
_sanitized_uris: weakref.WeakKeyDictionary[Sanitizer, dict[str, str]] = weakref.WeakKeyDictionary()
_SANITIZED_URIS_LIMIT: Final = 4096


class _Hooks:
    """vcrpy's before-record hooks, sanitizing with one Sanitizer (so replacements stay consistent).

    A cassette that only replays (*writes* false) and matches on the method and URI alone
    (*match_on*: the default matchers, or any of :data:`_URI_MATCHERS`) uses a live request
    only to find its recording, so only its URI is sanitized to match; the rest (a bearer
    token in a header, a body) is sanitized only if the report is read.
    """

    def __init__(
        self,
        sanitizer: Sanitizer,
        *,
        writes: bool = True,
        passthrough: frozenset[str] = frozenset(),
        match_on: Sequence[str] | None = None,
    ) -> None:
        self.sanitizer = sanitizer
        # Hosts whose live requests go to the network and are never recorded (allow_hosts).
        self.passthrough = passthrough
        # Loaded requests are always sanitized (live ones are, and they must match), but
        # loaded responses only matter if the cassette may be written back.
        self.writes = writes
        self.report = _DeferredReport()
        matchers = match_on if match_on is not None else _DEFAULT_MATCH_ON
        self._uri_only = not writes and matchers is not None and _URI_MATCHERS.issuperset(matchers)
        # vcrpy calls the request hook for every lookup of a live request, sometimes on
        # copies; sanitizing each distinct request once keeps matching cheap and the
        # report from counting one replacement several times.
        self._seen: dict[tuple[Any, ...], VcrRequest] = {}
        # The live request last asked about and its answer: vcrpy asks up to three times per
        # lookup (can it play, is it in there, play it), most often with the same object.
        self._last: tuple[VcrRequest, VcrRequest | None, Any, int] | None = None

    def request(self, request: VcrRequest) -> VcrRequest | None:
        if _TRUSTED_LOAD.get() is not None:
            return request  # sanitized when written, or scanned clean: the sanitizer would change nothing
        loading = _LOADING.get()
        last = self._last
        # The same object, its body and headers still the ones it had (http.client's stub fills
        # one request in as the client writes it; it is looked up only once complete).
        if (
            not loading
            and last is not None
            and last[0] is request
            and last[2] is request.body
            and last[3] == len(request.headers)
        ):
            return last[1]
        if self.passthrough and not loading and (request.host or "").lower() in self.passthrough:
            self._last = (request, None, request.body, len(request.headers))
            return None  # vcrpy leaves it to the network and records nothing of it
        body = request.body
        key = (request.method, request.uri, body if isinstance(body, (bytes, str, type(None))) else id(body),
               tuple(sorted(_vcr.header_pairs(request.headers))))  # fmt: skip
        clean = self._seen.get(key)
        if clean is None:
            if self._uri_only and not loading:
                clean = self._seen[key] = self._uri_sanitized(request)
                self.report.defer(functools.partial(self._sanitize_request, request))
            else:
                clean = self._seen[key] = self._sanitize_request(request)
        if not loading:
            self._last = (request, clean, body, len(request.headers))
        return clean

    def _uri_sanitized(self, request: VcrRequest) -> VcrRequest:
        """*request* as the matchers of a replay see it sanitized: its URI is (method and URI are all they read)."""
        uri = request.uri
        known = _sanitized_uris.get(self.sanitizer)
        if known is None:
            known = _sanitized_uris[self.sanitizer] = {}
        clean = known.get(uri)
        if clean is None:
            clean = uri
            if self.sanitizer.may_hold_secrets((), (uri,)):
                # The walk sanitizes a request's URI before, and apart from, its headers and body.
                interaction = {
                    "request": {"method": request.method, "uri": uri, "headers": {}, "body": None},
                    "response": {"status": {"code": 0}, "headers": {}, "body": {"string": ""}},
                }
                self.sanitizer.sanitize_interaction(interaction, None, Report())  # the report counts it when read
                clean = interaction["request"]["uri"]
            if len(known) >= _SANITIZED_URIS_LIMIT:
                known.clear()
            known[uri] = clean
        return request if clean == uri else VcrRequest(request.method, clean, request.body, request.headers)

    def _sanitize_request(self, request: VcrRequest) -> VcrRequest:
        body = request.body
        texts = [request.uri, *request.headers.values()]
        if isinstance(body, (str, bytes)):
            texts.append(body if isinstance(body, str) else body.decode("utf-8", "replace"))
        if not self.sanitizer.may_hold_secrets(request.headers.keys(), texts):
            return request  # nothing any rule could change: skip building a sanitized copy
        headers = {name: [value] for name, value in request.headers.items()}
        interaction = {
            "request": {"method": request.method, "uri": request.uri, "headers": headers, "body": request.body},
            "response": {"status": {"code": 0}, "headers": {}, "body": {"string": ""}},
        }
        self.sanitizer.sanitize_interaction(interaction, None, self.report)
        side = interaction["request"]
        return VcrRequest(side["method"], side["uri"], side["body"], side["headers"])

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        trusted = _TRUSTED_LOAD.get()
        if trusted == _WRITTEN:
            return response
        if _compressed(response):
            _store_decoded(response)
            if trusted == _CLEAN:
                return response
        elif trusted == _CLEAN or (_LOADING.get() and not self.writes):
            return response  # replay only: nothing is written back
        if not _LOADING.get():
            # A live exchange: dated as it happens, so replay's clock starts where recording did.
            response.setdefault("recorded_at", cassette_files.stamp(datetime.now(UTC)))
        # vcrpy passes a deep copy here: the live response keeps its real values.
        interaction = {"request": {"method": "GET", "uri": "", "headers": {}, "body": None}, "response": response}
        self.sanitizer.sanitize_interaction(interaction, None, self.report)
        return response


@contextlib.contextmanager
def _loading(path: str, also: Sequence[Path] = (), trusted: str | None = None) -> Iterator[None]:
    """While vcrpy loads the cassette at *path*, and those *also* read (and runs the record hooks on what it loads).

    *trusted*: what the caller knows of them (``_WRITTEN``, ``_CLEAN``), if it has looked.
    """
    # cfreplay sanitized what it wrote: loading only that, the sanitizing hooks can stand aside.
    if trusted is None:
        present = [candidate for candidate in (Path(path), *also) if candidate.is_file()]
        written = bool(present) and all(_sources.file_written_by_cfreplay(candidate) for candidate in present)
        trusted = _WRITTEN if written else None
    trust = _TRUSTED_LOAD.set(trusted)
    loading = _LOADING.set(True)
    # (vcrpy loads only within use_cassette's enter, which pauses the cyclic collector.)
    try:
        yield
    finally:
        _LOADING.reset(loading)
        _TRUSTED_LOAD.reset(trust)


def _shared_patches(cassette: Any) -> AbstractContextManager[Any] | None:
    """The clients patched once per process, pointed at *cassette*; None where vcrpy must patch for it."""
    return patching.in_use(cassette) if patching.eligible(cassette) else None


def _compressed(response: dict[str, Any]) -> bool:
    return any(name.lower() == "content-encoding" for name in response.get("headers") or {})


def _store_decoded(response: dict[str, Any]) -> None:
    """A compressed response kept decoded, its Content-Encoding dropped and Content-Length recomputed.

    Clients replay a recorded compressed body differently (requests decodes it again,
    vcrpy stores requests' bodies already decoded under a header that still says gzip,
    httpx trusts the header), so a cassette keeps the body as the application saw it.
    """
    headers: dict[str, list[str]] = response.get("headers") or {}
    container = response.get("body") or {}
    body = container.get("string")
    codings = bodies.content_encoding(headers)
    if body:
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "surrogateescape")
        decoded = bodies.decode(raw, codings) if codings else None
        if decoded is not None:
            # Bytes, as vcrpy keeps every body in memory (its stubs play only bytes); written
            # out, a UTF-8 body still becomes text (vcrpy's serialize converts it).
            container["string"] = decoded.data
            for name in list(headers):
                if name.lower() == "content-length":
                    headers[name] = [str(len(decoded.data))]
    for name in [name for name in headers if name.lower() == "content-encoding"]:
        del headers[name]


_unmatched_classes: weakref.WeakKeyDictionary[Sanitizer, type[Exception]] = weakref.WeakKeyDictionary()


_SANITIZERS: dict[SanitizeConfig, Sanitizer] = {}


def _sanitizer_for(config: SanitizeConfig) -> Sanitizer:
    """One Sanitizer per project configuration and process: results depend only on the run's key
    and the rules, and its caches pay across tests."""
    known = _SANITIZERS.get(config)
    if known is None:
        known = _SANITIZERS[config] = Sanitizer(config)
    return known


def _unmatched_class(sanitizer: Sanitizer) -> type[Exception]:
    """vcrpy's unmatched-request error, as a cfreplay UnmatchedRequest with a sanitized message (one per sanitizer)."""
    known = _unmatched_classes.get(sanitizer)
    if known is None:
        known = _unmatched_classes[sanitizer] = _new_unmatched_class(sanitizer)
    return known


def _new_unmatched_class(sanitizer: Sanitizer) -> type[Exception]:

    class CfreplayUnmatchedRequest(UnmatchedRequest, vcr.errors.CannotOverwriteExistingCassetteException):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("cassette") is patching.CASSETTE_IN_USE:  # name the cassette itself, not the stand-in
                kwargs["cassette"] = patching.current()
            failed = kwargs.get("failed_request")
            if isinstance(failed, VcrRequest):
                kwargs["failed_request"] = _Hooks(sanitizer).request(failed)
            vcr.errors.CannotOverwriteExistingCassetteException.__init__(self, *args, **kwargs)
            # vcrpy's diagnosis, sanitized, with cfreplay's own advice instead of vcrpy's.
            diagnosis = str(self).split("\nHow to fix:", 1)[0].rstrip()
            message = sanitizer.sanitize_text(diagnosis)
            self.args = (f"{message}\n\n{_ADVICE[getattr(self, 'reason', 'no_match')]}",)

    CfreplayUnmatchedRequest.__name__ = CfreplayUnmatchedRequest.__qualname__ = "UnmatchedRequest"
    CfreplayUnmatchedRequest.__module__ = "cfreplay"
    return CfreplayUnmatchedRequest


@contextlib.contextmanager
def _unmatched_as_cfreplays(sanitizer: Sanitizer) -> Iterator[None]:
    """Within the block, a request no recording answers raises cfreplay's UnmatchedRequest, sanitized."""
    error_class: Any = _unmatched_class(sanitizer)  # built with vcrpy's keywords, which type[Exception] lacks
    with _vcr.unmatched_raised_as(error_class):
        try:
            yield
        except vcr.errors.CannotOverwriteExistingCassetteException as error:
            if type(error) is not vcr.errors.CannotOverwriteExistingCassetteException:
                raise  # cfreplay's already, or not about a request (vcrpy's MissingMetadataError)
            # A stub raised vcrpy's own error, so this vcrpy no longer lets cfreplay replace it
            # where it is raised.  Its message prints the live request, token and all: it does
            # not leave the cassette (which is still in use here, to be named) as it is.
            raise error_class(cassette=error.cassette, failed_request=error.failed_request) from None


_ADVICE: Final = {
    "cassette_not_found": "How to fix: record the cassette first: run pytest with --cfreplay-record-mode=once "
    "(or use_cassette(..., record_mode='once')).",
    "already_played": "How to fix: the recording was already played back; record the request again "
    "(--cfreplay-record-mode=new_episodes), or pass allow_playback_repeats=True if the test repeats it on purpose.",
    "no_match": "How to fix: if the request changed on purpose, record it again with "
    "--cfreplay-record-mode=new_episodes; if what differs changes on every run (a timestamp, a random id), "
    "loosen match_on in @pytest.mark.cfreplay(...) or cfreplay_config.",
    "nothing_similar": "How to fix: record the request with --cfreplay-record-mode=new_episodes, or check that "
    "the test points at the host the cassette was recorded against.",
}

# ----------------------------------------------------------------------------- the cassette context


@dataclass
class ActiveCassette:
    """The cassette a block or test runs in."""

    path: Path
    record_mode: RecordMode
    recorded_at: datetime | None
    frozen: bool
    offline: bool
    vcr_cassette: Any = None
    report: Report = field(default_factory=Report)
    #: The other cassettes this replay reads (``extra_cassettes``; empty while recording).
    extra_cassettes: tuple[Path, ...] = ()
    sanitizer: Sanitizer | None = field(default=None, repr=False)

    @property
    def play_count(self) -> int:
        return int(self.vcr_cassette.play_count) if self.vcr_cassette is not None else 0

    @property
    def all_played(self) -> bool:
        return bool(self.vcr_cassette.all_played) if self.vcr_cassette is not None else False

    def __len__(self) -> int:
        return len(self.vcr_cassette) if self.vcr_cassette is not None else 0

    def unplayed(self) -> list[tuple[str, str]]:
        """The recorded interactions not played so far, as ``(method, uri)``, in recorded order."""
        if self.vcr_cassette is None:
            return []
        counts = self.vcr_cassette.play_counts
        return [
            (str(request.method), str(request.uri))
            for index, (request, _response) in enumerate(self.vcr_cassette.data)
            if counts[index] == 0
        ]

    def assert_all_played(self) -> None:
        """Raise :class:`cfreplay.UnplayedInteractions` if this replay left recorded interactions unplayed.

        A cassette that records is never checked: what it holds is being decided.
        """
        __tracebackhide__ = True  # pytest shows the message, not this method
        unplayed = self.unplayed() if self.offline else []
        if not unplayed:
            return
        clean = self.sanitizer.sanitize_text if self.sanitizer is not None else str
        shown = [(method, clean(uri)) for method, uri in unplayed]
        total = len(self)
        lines = "\n".join(f"  {method} {uri}" for method, uri in shown)
        raise UnplayedInteractions(
            f"{clean(str(self.path))}: {total - len(shown)} of {total} recorded interactions were played, "
            f"{len(shown)} never were (assert_all_played):\n{lines}\n"
            "How to fix: if the code no longer sends these requests, record the cassette again "
            "(record_mode 'all' with drop_unused_requests=True); if it should, find out why it did not.",
            shown,
        )


# vcrpy's merged configuration per serializer, record mode and options (see _vcr.Template).
_TEMPLATES: dict[tuple[Any, ...], _vcr.Template] = {}
_TEMPLATES_LIMIT: Final = 64


def _options_key(vcr_kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """*vcr_kwargs* as a dictionary key; None when a value is not plain data (a hook, a patch)."""
    items: list[tuple[str, Any]] = []
    for name, value in sorted(vcr_kwargs.items()):
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            value = (type(value).__name__, *value)
        elif not isinstance(value, (bool, int, str, type(None))):
            return None
        items.append((name, value))
    return tuple(items)


def _template(serializer: str, record_mode: str, vcr_kwargs: dict[str, Any]) -> _vcr.Template:
    """vcrpy's configuration for cassettes with these settings, merged once per process."""
    options = _options_key(vcr_kwargs)
    key = (serializer, record_mode, options)
    known = _TEMPLATES.get(key) if options is not None else None
    if known is None:
        name = f"cfreplay-{serializer}"
        config = vcr.VCR(serializer=name, record_mode=record_mode, decode_compressed_response=False)
        # A stand-in, looked up by name: each cassette brings its own serializer, persister and hooks.
        config.register_serializer(name, object())
        known = _vcr.Template(config, vcr_kwargs)
        if options is not None:
            if len(_TEMPLATES) >= _TEMPLATES_LIMIT:
                _TEMPLATES.pop(next(iter(_TEMPLATES)))
            _TEMPLATES[key] = known
    return known


class use_cassette(contextlib.ContextDecorator):
    """Record or replay HTTP traffic through a sanitized cassette; a context manager and a decorator.

    ``record_mode`` is vcrpy's (``none``, ``once``, ``new_episodes``, ``all``)
    and defaults to ``none``: replay only.  While the cassette only replays the
    network is blocked (except *allow_hosts*) and, with ``freeze_time=True``,
    the clock is frozen (ticking) at the moment the cassette was recorded, and
    ``time.sleep`` / ``asyncio.sleep`` in the test's thread return at once and move
    that clock on by the time asked (``skip_sleep=False``: they sleep for real).
    Requests to *allow_hosts* (one name, names separated by commas, or a list)
    go to the network and are never recorded.  *extra_cassettes* are replayed
    from too, after the cassette's own recordings; only *path* is recorded into.
    With *assert_all_played*, a replay that ends cleanly with recordings it never
    played raises :class:`cfreplay.UnplayedInteractions`.

    The vcrpy options cfreplay passes on are in :data:`cfreplay.replay.options.VCRPY`
    (``match_on``, ``allow_playback_repeats``…); any other keyword, or a value of the
    wrong type, raises :class:`cfreplay.OptionError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record_mode: RecordMode = "none",
        freeze_time: bool = True,
        skip_sleep: bool = True,
        allow_hosts: str | Iterable[str] = (),
        sanitizer: Sanitizer | None = None,
        sanitize_config: SanitizeConfig | None = None,
        serializer: str | None = None,
        assert_all_played: bool = False,
        extra_cassettes: Sequence[str | os.PathLike[str]] = (),
        **vcr_kwargs: Any,
    ) -> None:
        for hook in ("before_record_request", "before_record_response", "before_record"):
            if hook in vcr_kwargs:
                raise OptionError(f"{hook} is cfreplay's (it sanitizes); use before_save_interaction instead")
        given = {
            "record_mode": record_mode, "freeze_time": freeze_time, "skip_sleep": skip_sleep,
            "allow_hosts": allow_hosts, "sanitizer": sanitizer, "sanitize_config": sanitize_config,
            "serializer": serializer, "assert_all_played": assert_all_played, "extra_cassettes": extra_cassettes,
        }  # fmt: skip
        options.check({name: value for name, value in given.items() if value is not None}, where="use_cassette()")
        options.check(vcr_kwargs, where="use_cassette()")  # cfreplay's own were taken by name above
        _check_vcrpy_has(vcr_kwargs)
        if record_mode not in RECORD_MODES:
            raise OptionError(f"record_mode {record_mode!r} is not one of {', '.join(RECORD_MODES)}")
        self.path = Path(path)
        self.record_mode = record_mode
        self.freeze_time = freeze_time
        self.skip_sleep = skip_sleep
        self.allow_hosts = options.hosts(allow_hosts, where="use_cassette()")
        self.assert_all_played = assert_all_played
        self.extra_cassettes = tuple(Path(extra) for extra in extra_cassettes)
        # The project's [tool.cfreplay.sanitize] applies to every cassette written, whoever
        # writes it: pytest passes the one at its rootdir, everyone else gets the working
        # directory's.
        config = sanitize_config if sanitize_config is not None else SanitizeConfig.from_pyproject()
        self.sanitizer = sanitizer or _sanitizer_for(config)
        self.serializer = serializer or ("json" if self.path.suffix == ".json" else "yaml")
        if self.serializer not in _FORMATS:
            raise OptionError(f"serializer {self.serializer!r} is not one of yaml, json")
        self.vcr_kwargs = vcr_kwargs
        self._stack: contextlib.ExitStack | None = None
        self._active: ActiveCassette | None = None

    def _vcr(self, hooks: _Hooks, serializer: _Serializer, persister: Any) -> vcr.VCR:
        name = f"cfreplay-{self.serializer}"
        instance = vcr.VCR(
            serializer=name,
            record_mode=self.record_mode,
            before_record_request=hooks.request,
            before_record_response=hooks.response,
            decode_compressed_response=False,
        )
        instance.register_serializer(name, serializer)
        instance.register_persister(persister)
        return instance

    def __enter__(self) -> ActiveCassette:
        # From the first read to vcrpy's last object, an enter builds acyclic data: a large
        # cassette's parse, its scan and vcrpy's copies are never swept while they are built,
        # and the parse, let go once vcrpy has its objects, is never swept at all.
        with cassette_files.collector_paused():
            return self._enter()

    def _enter(self) -> ActiveCassette:
        looked = _sources.Looked()  # each file read once by this enter
        # An empty file is recorded again (as vcrpy does), so it does not count as a cassette.
        exists = looked.has_content(self.path)
        replay_only = self.record_mode == "none" or (self.record_mode == "once" and exists)
        # Extra cassettes are read only by a replay: a recording would copy them into this one.
        extras = self.extra_cassettes if replay_only else ()
        sources = [path for path in (self.path, *extras) if looked.has_content(path)] if replay_only else []
        moment = looked.recorded_at(sources[0]) if sources and self.freeze_time else None
        scanned_clean = [
            version
            for source in sources
            if (
                version := _sources.warn_if_dirty(
                    source, self.sanitizer, written_by_cfreplay=looked.written_by_cfreplay(source)
                )
            )
            is not None
        ]
        active = ActiveCassette(self.path, self.record_mode, moment, frozen=moment is not None, offline=replay_only)
        active.extra_cassettes, active.sanitizer = extras, self.sanitizer
        hooks = _Hooks(
            self.sanitizer,
            writes=not replay_only,
            passthrough=options.passthrough(self.allow_hosts),
            match_on=self.vcr_kwargs.get("match_on"),
        )
        active.report = hooks.report
        serializer = _Serializer("json" if self.serializer == "json" else "yaml", self.sanitizer)
        serializer.looked = looked
        persister = _CombinedPersister(extras) if extras else _Persister
        files = (self.path, *extras)
        trusted = _WRITTEN if looked.trusted(files) else _CLEAN if looked.clean(files, scanned_clean) else None
        loading = functools.partial(_loading, also=extras, trusted=trusted)
        stack = contextlib.ExitStack()
        try:
            template = _template(self.serializer, self.record_mode, self.vcr_kwargs)
            if template.usable:
                context = template.context(
                    str(self.path),
                    serializer=serializer,
                    persister=persister,
                    hooks=(hooks.request, hooks.response),
                    loading=loading,
                    shared=_shared_patches,
                )
            else:
                # vcrpy takes per-cassette options (allow_playback_repeats…) in use_cassette, not VCR().
                context = _vcr.cassette_context(
                    self._vcr(hooks, serializer, persister),
                    str(self.path),
                    self.vcr_kwargs,
                    hooks=(hooks.request, hooks.response),
                    loading=loading,
                    shared=_shared_patches,
                )
            active.vcr_cassette = stack.enter_context(context)
            stack.enter_context(_unmatched_as_cfreplays(self.sanitizer))
            if replay_only:
                stack.enter_context(block_network(self.allow_hosts))
            if moment is not None:
                stack.enter_context(clock.frozen_at(moment, skip_sleep=self.skip_sleep))
        except BaseException:
            stack.close()
            raise
        self._stack, self._active = stack, active
        return active

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        stack, self._stack = self._stack, None
        active, self._active = self._active, None
        if stack is not None:
            stack.__exit__(exc_type, exc, traceback)
        # Only a block that ended cleanly: a failure already says what went wrong.
        if exc_type is None and self.assert_all_played and active is not None:
            active.assert_all_played()

    def __call__(self, function: _F) -> _F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._recreate():
                    return await function(*args, **kwargs)

            return cast(_F, run_async)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._recreate():
                return function(*args, **kwargs)

        return cast(_F, run)

    def _recreate(self) -> use_cassette:
        """A fresh context per call, so a decorated function is reentrant and thread-safe."""
        return use_cassette(
            self.path,
            record_mode=self.record_mode,
            freeze_time=self.freeze_time,
            skip_sleep=self.skip_sleep,
            allow_hosts=self.allow_hosts,
            sanitizer=self.sanitizer,
            serializer=self.serializer,
            assert_all_played=self.assert_all_played,
            extra_cassettes=self.extra_cassettes,
            **copy.copy(self.vcr_kwargs),
        )
