"""vcrpy's internals, used in this one module, and vcrpy's public behaviour when they change.

cfreplay needs only vcrpy's public API — ``vcr.VCR`` and its ``use_cassette``, custom
serializers and persisters, the matchers, the errors — to record and replay.  Replay
through that alone costs more, though: vcrpy compares a live request with every
recording (O(N²) for N requests from an N-interaction cassette), deep-copies the request
on every lookup, and builds and undoes its client patches for every cassette.  To spare
that, cfreplay relies on what vcrpy does not document, and only here:

* ``vcr.cassette.Cassette``, subclassed as :class:`IndexedCassette`, which finds
  recordings through an index.  It overrides ``_load``, ``append``, ``rewind``,
  ``_responses``, ``play_response`` and ``__contains__``, and shares their instance state
  with the rest of vcrpy's Cassette: ``_path``, ``_match_on``, ``_before_record_request``,
  ``_before_record_response``, ``data``, ``dirty``, ``play_counts``,
  ``allow_playback_repeats``, ``_loaded_count``, ``_played_interactions``; and
  ``_old_interactions``, emptied after a load unless ``drop_unused_requests`` is set (the
  only use vcrpy 9.4 makes of it).
* ``vcr.cassette.CassetteContextDecorator``, subclassed: its ``(cls, args_getter)``
  constructor, and ``_patch_generator(cassette)``, overridden so that a cassette uses the
  client patches :mod:`cfreplay.replay.patching` builds once per process.
* ``VCR.get_merged_config`` and the keys of what it returns: cfreplay's sanitizing hooks
  go in unwrapped, because vcrpy's wrapper deep-copies the request on every lookup; and a
  :class:`Template` merges once for every cassette with the same settings, filling in
  each cassette's own ``path``, ``serializer``, ``persister`` and hooks.
* ``vcr.patch``: ``CassettePatcherBuilder(cassette).build()`` (``mock.patch`` objects,
  read through ``getter``/``attribute``/``new``, and ``ConnectionRemover`` objects, whose
  ``_connection_pool_to_connections`` is emptied once they have closed what they hold),
  ``reset_patchers()``, ``force_reset`` (replaced by an equivalent without ``mock``), and
  ``_HTTPConnection``, ``conn``, ``_connHTTPConnection`` (to see whether some other vcrpy
  cassette is patching); ``vcr.stubs.parse_headers``, replaced by a faster equivalent
  while the shared patches are in.
* ``vcr.util.CaseInsensitiveDict._store`` (``{lower name: (name, value)}``): :func:`header_pairs`
  reads a request's headers from it, as ``items()`` gives them, one call instead of two per header.
* ``vcr.stubs.VCRHTTPResponse``, ``VCRConnection``, ``vcr.stubs.compat.get_header_items`` and
  ``vcr.stubs.urllib3_stubs._VCRRequestsConnectionMixin``: :func:`urllib3_answer` builds
  the response the urllib3 stubs would give, for :mod:`cfreplay.replay._requests_lane`
  to answer requests inside its adapter — only where
  :attr:`ClientPatches.urllib3_plays_as_expected` finds those stubs installed, else
  requests goes through the stubs as every other client does.

Two more uses are not part of that fast path: cfreplay needs them either way.  vcrpy's
stub modules raise ``CannotOverwriteExistingCassetteException`` by their own module-level
name for it, which :func:`unmatched_raised_as` replaces, so that an unmatched request
raises cfreplay's sanitized error where it happens (a stub module without the name is
skipped, and :mod:`cfreplay.replay.recorder` converts the error as it leaves the
cassette instead).  And ``vcr.serialize.serialize``/``deserialize``, which vcrpy's own
filesystem persister (its documented example of a persister) calls, turn vcrpy's Request
objects into cassette data and back while cfreplay reads and writes the files itself.

**The check.**  On import, every name above is looked up, and a probe runs: an
:class:`IndexedCassette` is loaded, through the overridden context, from two recordings
of one request, then played back as vcrpy's stubs play it.  Checked with vcrpy 9.2.0 and
9.4.2, the oldest and the newest pyproject.toml allows: the fast path holds on both.
(vcrpy 9.2 remembers a loaded interaction for ``drop_unused_requests`` once per play;
:class:`IndexedCassette` remembers it once, as 9.4 does.)

**The fallback.**  If a name is missing or the probe goes wrong, :data:`FAST_PATH` is
False, :data:`REASON` says why, and :func:`cassette_context` hands out vcrpy's own
``VCR.use_cassette(path, **options)``: vcrpy's Cassette, its hook chain and its patching
per cassette.  cfreplay's hooks, persister, serializer, errors, network block and clock
all apply as before, and replays give the same answers.  What is lost is speed: matching
is a linear scan again, every request looked up and every response loaded is
deep-copied, the clients are patched anew for every cassette, headers go through the
email parser.  (And for a cassette whose path vcrpy transforms — ``path_transformer``,
``cassette_library_dir`` — whether the file is cfreplay's own, which loads without being
sanitized again, is judged by the path as given.)  One part is checked late, when the
first cassette builds the shared patches: should vcrpy's builder make a patcher of a
kind not named above, :meth:`ClientPatches.build` says so and vcrpy patches every
cassette itself, the rest of the fast path kept.  The fallback is silent — no warning,
since suites run with warnings as errors — so :data:`REASON` is where to look.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import http.client
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Final, cast

import vcr
import vcr.cassette
import vcr.errors
import vcr.matchers
import vcr.patch
import vcr.serialize
import vcr.stubs
import vcr.stubs.compat
import vcr.util
from vcr.request import Request

from cfreplay.replay import matchers
from cfreplay.replay._open_blocks import OpenBlocks

__all__ = [
    "CASSETTE_OPTIONS",
    "FAST_PATH",
    "REASON",
    "CassetteInUse",
    "ClientPatches",
    "IndexedCassette",
    "Template",
    "cassette_context",
    "clients_unpatched",
    "from_data",
    "header_pairs",
    "parse_headers",
    "to_data",
    "unmatched_raised_as",
    "urllib3_answer",
]

# A hook that takes a request (or a response) and returns it, changed or not (None drops it).
_Hook = Callable[[Any], Any]
# Wraps the loading of the cassette at a path (cfreplay trusts its own files, pauses the collector).
_Loading = Callable[[str], AbstractContextManager[Any]]
# The shared client patches for a cassette, or None where vcrpy must patch for it.
_SharedPatches = Callable[[Any], AbstractContextManager[Any] | None]

# Looked up when this module loads, and at no other time: should a vcrpy release drop one,
# the fast path is off (see _incompatibility) rather than cfreplay failing to import.
_Cassette: Any = getattr(vcr.cassette, "Cassette", object)
_Context: Any = getattr(vcr.cassette, "CassetteContextDecorator", object)
_vcr_parse_headers: Final[Any] = getattr(vcr.stubs, "parse_headers", None)
# The headers vcrpy's urllib3 stubs give a played response (None without urllib3 2: requests keeps the stubs).
_HTTPHeaderDict: Any = getattr(sys.modules.get("urllib3"), "HTTPHeaderDict", None)


# ----------------------------------------------------------------------------- cassette options


def _cassette_options() -> frozenset[str]:
    """The keywords ``VCR.use_cassette`` acts on in this vcrpy: the ``VCR`` ones and the Cassette's own."""
    names: set[str] = set()
    for function in (vcr.VCR.__init__, _Cassette.__init__):
        with contextlib.suppress(TypeError, ValueError):
            names.update(inspect.signature(function).parameters)
    return frozenset(names - {"self"})


#: Every option this vcrpy's cassettes take (some of cfreplay's vcrpy options came in later releases).
CASSETTE_OPTIONS: Final = _cassette_options()


# ----------------------------------------------------------------------------- cassette data


class _Passthrough:
    """A vcrpy serializer over data already parsed: cfreplay parses (and caches) the files itself."""

    @staticmethod
    def deserialize(data: Any) -> Any:
        return data


class _Capture:
    """A vcrpy serializer that hands back the data vcrpy shaped, for cfreplay's one write path."""

    @staticmethod
    def serialize(data: dict[str, Any]) -> dict[str, Any]:
        return data


def from_data(data: Mapping[str, Any]) -> Any:
    """What a vcrpy persister's ``load_cassette`` returns for parsed data: (requests, responses[, metadata])."""
    return vcr.serialize.deserialize(data, _Passthrough)


def to_data(cassette_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The cassette data (``version``, ``interactions``…) vcrpy would hand a serializer for *cassette_dict*."""
    data: dict[str, Any] = vcr.serialize.serialize(cassette_dict, _Capture)
    return data


# ----------------------------------------------------------------------------- indexed matching


_PLAIN: Final = (str, bytes, int, float, bool, type(None))


def _copied(value: Any) -> Any:
    """A deep copy of cassette data (dicts, lists, strings, bytes, numbers); anything else via copy.deepcopy.

    A recorded response may be changed by whoever replays it (vcrpy's stub drops its
    Transfer-Encoding header) while the parsed file is shared across loads, so it is
    copied — without deepcopy's memo and dispatch, which plain data does not need.
    """
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in _PLAIN:
        return value
    return copy.deepcopy(value)


class IndexedCassette(_Cassette):  # type: ignore[misc]
    """vcrpy's Cassette, finding recordings through an index instead of a scan.

    Recordings are filed under :func:`cfreplay.replay.matchers.index_key`, in recorded
    order, so identical requests still replay first-recorded-first (a poll
    while staging, a 401 and its retry).  A cursor per key skips what has been
    played, so even N identical requests cost O(N) in all.  Semantics are
    vcrpy's: record modes and ``allow_playback_repeats`` behave the same, and
    matchers without a key (body, headers, custom) are checked on the
    candidates.  Mismatch diagnostics stay vcrpy's linear search: they run once.

    *cfreplay_loading*, if given, wraps the loading of the file (called with its path).
    """

    def __init__(self, *args: Any, cfreplay_loading: _Loading | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loading = cfreplay_loading
        self._index: dict[tuple[Any, ...], list[int]] = {}
        self._cursor: dict[tuple[Any, ...], int] = {}
        self._exact = matchers.is_exact(self._match_on)
        self._last_candidates: tuple[Any, tuple[Any, ...], list[int]] | None = None

    def _load(self) -> None:
        if self._loading is None:
            super()._load()
        else:
            with self._loading(str(self._path)):
                super()._load()
        if not self.drop_unused_requests:
            # vcrpy keeps every loaded request and response as it came from the file (before
            # the hooks), and reads them only to drop unused requests.  Without that option
            # they are dead weight: for a foreign cassette, a second copy of every interaction
            # for the memory and the cyclic collector to carry (~15 objects an interaction).
            self._old_interactions.clear()

    def append(self, request: Any, response: Any) -> None:
        # vcrpy's append, with a copy made for plain data instead of copy.deepcopy (most of a
        # load's time at thousands of interactions); then the new recording is indexed.
        request = self._before_record_request(request)
        if not request:
            return
        response = self._before_record_response(_copied(response))
        if response is None:
            return
        self.data.append((request, response))
        self.dirty = True
        self._index.setdefault(matchers.index_key(request, self._match_on), []).append(len(self.data) - 1)
        self._last_candidates = None

    def rewind(self) -> None:
        super().rewind()
        self._cursor.clear()
        self._last_candidates = None

    def _candidates(self, request: Any) -> tuple[tuple[Any, ...], list[int]]:
        if request is None:  # a request the hooks leave out (an allowed host's): never in the cassette
            return (), []
        key = matchers.index_key(request, self._match_on)
        found = self._index.get(key, [])
        if not self._exact:
            found = [i for i in found if vcr.matchers.requests_match(request, self.data[i][0], self._match_on)]
        return key, found

    def _responses(self, request: Any) -> Iterator[tuple[int, Any]]:
        _, found = self._candidates(self._before_record_request(request))
        for index in found:
            yield index, self.data[index][1]

    def _next_playable(self, request: Any, *, consume: bool) -> int | None:
        # vcrpy asks twice per request (can_play_response_for, then play_response): the
        # hooks and the key are computed once, for the very request object it asked about.
        memo = self._last_candidates
        if memo is not None and memo[0] is request:
            key, found = memo[1], memo[2]
        else:
            key, found = self._candidates(self._before_record_request(request))
            self._last_candidates = (request, key, found)
        if not found:
            return None
        if self.allow_playback_repeats:
            return found[0]
        position = self._cursor.get(key, 0) if self._exact else 0
        while position < len(found) and self.play_counts[found[position]] > 0:
            position += 1
        if self._exact:
            self._cursor[key] = position + 1 if consume and position < len(found) else position
        return found[position] if position < len(found) else None

    def __contains__(self, request: Any) -> bool:
        return self._next_playable(request, consume=False) is not None

    def play_response(self, request: Any) -> Any:
        index = self._next_playable(request, consume=True)
        if index is None:
            raise vcr.errors.UnhandledHTTPRequestError(
                f"The cassette ({self._path!r}) doesn't contain the request ({request!r}) asked for"
            )
        response = self.data[index][1]
        # Each loaded interaction once, for drop_unused_requests (as vcrpy 9.4 does; 9.2 added one per play).
        if self.play_counts[index] == 0 and index < self._loaded_count:
            self._played_interactions.append((self.data[index][0], response))
        self.play_counts[index] += 1
        return response


def _vcrpy_patches(cassette: Any) -> None:
    """Where no shared patches serve a cassette: vcrpy patches for it, as it always does."""


class _CassetteContext(_Context):  # type: ignore[misc]
    """vcrpy's cassette context, patching the clients through *shared* where the shared patches serve the cassette."""

    def __init__(
        self, cls: Any, args_getter: Callable[[], dict[str, Any]], shared: _SharedPatches = _vcrpy_patches
    ) -> None:
        super().__init__(cls, args_getter)
        self._shared = shared

    def _patch_generator(self, cassette: Any) -> Iterator[Any]:
        patches = self._shared(cassette)
        if patches is None:
            yield from super()._patch_generator(cassette)
        else:
            with patches:
                yield cassette

    def __exit__(self, *exc_info: Any) -> None:
        _unpatching_if_it_fails(self, lambda: super(_CassetteContext, self).__exit__(*exc_info))


# vcrpy options that need its own hook chain (it filters and deep-copies each request).
_FILTER_OPTIONS: Final = (
    "filter_headers",
    "filter_query_parameters",
    "filter_post_data_parameters",
    "ignore_hosts",
    "ignore_localhost",
    "decode_compressed_response",
)


def _fast_context(
    config: Any, path: str, options: Mapping[str, Any], hooks: tuple[_Hook, _Hook], loading: _Loading,
    shared: _SharedPatches,
) -> Any:  # fmt: skip
    """vcrpy's config merging (so options mean what they mean to vcrpy), with the indexed Cassette in place of its own.

    vcrpy wraps the request hook in a chain that deep-copies the request on every
    lookup (three per replayed request): most of replay's cost.  cfreplay's hook
    never changes the request it is given, so without vcrpy's filter options the
    chain is not needed and the hooks go in as they are.
    """
    direct = not any(option in options for option in _FILTER_OPTIONS)
    merged: list[dict[str, Any]] = []

    def arguments() -> dict[str, Any]:
        # vcrpy asks on entering and again on leaving: merged once, each caller given its own copy.
        if not merged:
            merged.append(config.get_merged_config(path=path, **options))
            if direct:
                merged[0]["before_record_request"], merged[0]["before_record_response"] = hooks
            merged[0]["cfreplay_loading"] = loading  # a keyword of IndexedCassette's, past vcrpy to it
        return dict(merged[0])

    return _CassetteContext(IndexedCassette, arguments, shared)


class Template:
    """vcrpy's merged configuration for a ``vcr.VCR`` and options, merged once for every cassette that shares them.

    vcrpy merges a VCR's settings with a cassette's options on entering each cassette
    and again on leaving it.  What a template holds depends only on the VCR's settings
    and the options; what is a cassette's own — its path, serializer and persister
    (they remember the file the cassette loaded), its hooks — each :meth:`context` puts
    in.  Only on the fast path, and only without vcrpy's filter options (whose hook
    chain wraps the cassette's own hooks): :meth:`usable` says whether this one can serve.
    """

    def __init__(self, config: Any, options: Mapping[str, Any]) -> None:
        self._direct = not any(option in options for option in _FILTER_OPTIONS)
        self._merged: dict[str, Any] = config.get_merged_config(**options) if self._direct else {}

    @property
    def usable(self) -> bool:
        return FAST_PATH and self._direct

    def context(
        self,
        path: str,
        *,
        serializer: Any,
        persister: Any,
        hooks: tuple[_Hook, _Hook],
        loading: _Loading,
        shared: _SharedPatches,
    ) -> AbstractContextManager[Any]:
        """The context of the cassette at *path* (as :func:`cassette_context` makes it on the fast path)."""
        if not self.usable:
            raise RuntimeError("this template cannot serve a cassette: ask Template.usable first")
        merged = dict(self._merged)
        merged["path"] = path
        merged["serializer"], merged["persister"] = serializer, persister
        merged["before_record_request"], merged["before_record_response"] = hooks
        merged["match_on"] = list(merged["match_on"])  # each Cassette its own list, as vcrpy gives it
        merged["cfreplay_loading"] = loading  # a keyword of IndexedCassette's, past vcrpy to it
        context: AbstractContextManager[Any] = _CassetteContext(IndexedCassette, lambda: dict(merged), shared)
        return context


def _unpatching_if_it_fails(context: Any, exit_context: Callable[[], object]) -> None:
    """*exit_context* (vcrpy's ``CassetteContextDecorator.__exit__``), the clients unpatched even when it fails.

    vcrpy saves the cassette, then finishes the generator that holds the patches: a save
    that raises (``SecretLeft``, a full disk, ``CassetteChanged``) skipped the finishing,
    and every client stayed patched until the garbage collector reached that generator —
    the next test's requests went to a cassette that was gone.  The generator is closed
    then (its ``with`` blocks unpatch), and the save's error goes on.
    """
    try:
        exit_context()
    except BaseException:
        finish = getattr(context, _FINISH, None)
        if finish is not None:
            setattr(context, _FINISH, None)
            finish.close()
        raise


#: vcrpy's name for the generator that holds a cassette's patches (``self.__finish``).
_FINISH: Final = "_CassetteContextDecorator__finish"


class _PublicContext:
    """vcrpy's own ``VCR.use_cassette`` context, with cfreplay's *loading* around entering it (where it loads)."""

    def __init__(self, context: Any, loading: Callable[[], AbstractContextManager[Any]]) -> None:
        self._context = context
        self._loading = loading

    def __enter__(self) -> Any:
        with self._loading():
            return self._context.__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        _unpatching_if_it_fails(self._context, lambda: self._context.__exit__(exc_type, exc, traceback))


def cassette_context(
    config: Any,
    path: str,
    options: Mapping[str, Any],
    *,
    hooks: tuple[_Hook, _Hook],
    loading: _Loading,
    shared: _SharedPatches,
) -> AbstractContextManager[Any]:
    """The context of the cassette at *path*: entering it loads the file and patches the clients.

    *config* is the ``vcr.VCR`` with cfreplay's serializer, persister, record mode and
    *hooks* (request, response); *options* are the caller's other ``use_cassette``
    keywords.  *loading* wraps the loading of the file (called with its path);
    *shared* gives the shared client patches for a cassette, or None where vcrpy must
    patch for it.  On the fast path the cassette is an :class:`IndexedCassette`; else
    this is ``config.use_cassette(path, **options)``, *shared* unused.  (A
    :class:`Template` makes the same context without merging the configuration again.)
    """
    if FAST_PATH:
        context: AbstractContextManager[Any] = _fast_context(config, path, options, hooks, loading, shared)
        return context
    return _PublicContext(config.use_cassette(path, **options), functools.partial(loading, path))


# ----------------------------------------------------------------------------- client patches


class CassetteInUse:
    """What vcrpy's stubs see as their cassette: the one *current* returns (None outside every cassette)."""

    __slots__ = ("_current",)

    # vcrpy's patch builder reads these while building (no cassette is in use then).
    skip_patchers: tuple[str, ...] = ()
    custom_patches: tuple[Any, ...] = ()

    def __init__(self, current: Callable[[], Any]) -> None:
        self._current = current

    @property
    def _path(self) -> str:
        # vcrpy names its stub subclasses and its error messages after the cassette's _path.
        cassette = self._current()
        return str(cassette._path) if cassette is not None else "<no cassette in use>"

    def __getattr__(self, name: str) -> Any:
        cassette = self._current()
        if cassette is None:
            raise AttributeError(f"no cassette is in use (looking up {name!r})")
        return getattr(cassette, name)

    def __len__(self) -> int:
        cassette = self._current()
        return len(cassette) if cassette is not None else 0

    def __contains__(self, request: Any) -> bool:
        cassette = self._current()
        return cassette is not None and request in cassette

    def __repr__(self) -> str:
        return f"<cassette in use: {self._path}>"


_PATCH_FIELDS: Final = ("getter", "attribute", "new")


class ClientPatches:
    """vcrpy's client patches for one cassette, as ``(target, attribute, replacement)`` to assign.

    Besides vcrpy's own replacements, ``patches`` holds two of cfreplay's: vcrpy's
    ``force_reset`` (entered each time a stub opens a real connection) without ``mock``,
    and :func:`parse_headers`.  Build with :meth:`build`.
    """

    def __init__(
        self, patches: list[tuple[Any, str, Any]], removers: list[Any], resets: list[tuple[Any, str, Any]]
    ) -> None:
        self.patches = patches
        self._removers = removers
        self._resets = resets
        self.patches.append((vcr.patch, "force_reset", self.force_reset))
        self.patches.append((vcr.stubs, "parse_headers", parse_headers))

    @property
    def urllib3_plays_as_expected(self) -> bool:
        """Whether urllib3's pools get vcrpy's urllib3 stubs, which answer as :func:`urllib3_answer` does.

        That is a ``VCRConnection`` whose played response ``_VCRRequestsConnectionMixin``
        gives an ``HTTPHeaderDict`` of headers (vcrpy 9.4).  Another stub in their place (a
        vcrpy that answers differently) means requests is left to the stubs.
        """
        mixin = getattr(getattr(vcr.stubs, "urllib3_stubs", None), "_VCRRequestsConnectionMixin", None)
        connection = getattr(vcr.stubs, "VCRConnection", None)
        installed: dict[Any, Any] = {}
        for target, attribute, replacement in self.patches:
            if attribute == "ConnectionCls":
                installed[target] = replacement  # the later patch wins, as when they are applied
        pools = [getattr(target, "__name__", "") for target in installed]
        parts = (
            mixin, connection, _HTTPHeaderDict, getattr(vcr.stubs, "VCRHTTPResponse", None),
            getattr(vcr.stubs.compat, "get_header_items", None),
        )  # fmt: skip
        if None in parts or sorted(pools) != ["HTTPConnectionPool", "HTTPSConnectionPool"]:
            return False
        expected = [mixin, connection]
        return all(
            [owner for owner in stub.__mro__ if "getresponse" in owner.__dict__][:2] == expected
            for stub in installed.values()
        )

    @classmethod
    def build(cls, cassette: Any) -> ClientPatches | None:
        """What vcrpy's patch builder makes for *cassette*; None if it makes a patcher this adapter does not know."""
        patches, removers = [], []
        for patcher in vcr.patch.CassettePatcherBuilder(cassette).build():
            if isinstance(patcher, vcr.patch.ConnectionRemover):
                if not hasattr(patcher, "_connection_pool_to_connections"):
                    return None
                removers.append(patcher)
            elif all(hasattr(patcher, name) for name in _PATCH_FIELDS):
                patches.append((patcher.getter(), patcher.attribute, patcher.new))
            else:
                return None
        resets = []
        for patcher in vcr.patch.reset_patchers():
            if not all(hasattr(patcher, name) for name in _PATCH_FIELDS):
                return None
            resets.append((patcher.getter(), patcher.attribute, patcher.new))
        return cls(patches, removers, resets)

    def close_connections(self) -> None:
        """What vcrpy does as a cassette ends: close the stub connections it left in urllib3's pools."""
        for remover in self._removers:
            remover.__exit__(None, None, None)
            remover._connection_pool_to_connections.clear()

    @contextlib.contextmanager
    def force_reset(self) -> Iterator[None]:
        """vcrpy's ``force_reset`` (real classes back while a stub builds its real connection), minus mock."""
        saved = [(target, attribute, getattr(target, attribute)) for target, attribute, _real in self._resets]
        for target, attribute, real in self._resets:
            setattr(target, attribute, real)
        try:
            yield
        finally:
            for (target, attribute, replacement), (_t, _a, real) in zip(saved, self._resets, strict=True):
                # As vcrpy: if something newer replaced the real class meanwhile, keep it.
                if getattr(target, attribute) is real:
                    setattr(target, attribute, replacement)


def urllib3_answer(cassette: Any, method: str, uri: str, body: Any, headers: Any) -> Any | None:
    """What vcrpy's urllib3 stub connection gives urllib3 for this request, if *cassette* plays it; else None.

    The same steps as ``VCRConnection.request`` then ``getresponse`` and the urllib3
    mixin's header conversion, for a request *cassette* can play (the question and the
    play are the cassette's own, hooks and counts included).  *uri* must be the absolute
    URI the stub would have built from the connection's host and port and urllib3's
    request target.  Only where :attr:`ClientPatches.urllib3_plays_as_expected`.
    """
    request = Request(method=method, uri=uri, body=body, headers=headers or {})
    if not cassette.can_play_response_for(request):
        return None
    answer = vcr.stubs.VCRHTTPResponse(cassette.play_response(request), request.uri)
    # The mixin's HTTPHeaderDict(answer.getheaders()), whose items come from parsing the recorded
    # headers again: the message already parsed from them gives the same items, in the same order.
    answer.headers = _HTTPHeaderDict(list(vcr.stubs.compat.get_header_items(answer.msg)))
    return answer


def header_pairs(headers: Any) -> Any:
    """(name, value) for each header of a vcrpy Request, as ``headers.items()`` gives them, without a call per header.

    vcrpy's ``CaseInsensitiveDict`` keeps ``{lower name: (name, value)}`` in ``_store``;
    any other mapping (a vcrpy that changed it) goes through ``items()``.
    """
    store = getattr(headers, "_store", None)
    if type(store) is dict and isinstance(headers, vcr.util.CaseInsensitiveDict):
        return store.values()
    return headers.items()


def clients_unpatched() -> bool:
    """No vcrpy cassette (anyone's) is patching http.client or urllib3 right now."""
    if http.client.HTTPConnection is not vcr.patch._HTTPConnection:
        return False
    connection = getattr(vcr.patch, "conn", None)  # None without urllib3
    real = getattr(vcr.patch, "_connHTTPConnection", None)
    return connection is None or real is None or connection.HTTPConnection is real


# A header vcrpy's parse (the email parser over "name:value\r\n" lines) reads back unchanged.
_PLAIN_NAME: Final = re.compile(r"[!#-'*+.0-9A-Z^-z|~-]+")
_PLAIN_VALUE: Final = re.compile(r"(?:[!-~][ -~]*)?")


def parse_headers(header_list: dict[str, list[str]]) -> http.client.HTTPMessage:
    """vcrpy's ``parse_headers`` (run twice for every replayed response), without the email parser.

    The message is built header by header, which is what the parser produces for
    plain ASCII names and values; anything else (non-ASCII, folded lines, leading
    blanks) goes through vcrpy's own function.
    """
    message = http.client.HTTPMessage()
    for name, values in header_list.items():
        if not _PLAIN_NAME.fullmatch(name):
            return cast(http.client.HTTPMessage, _vcr_parse_headers(header_list))
        for value in values:
            if not _PLAIN_VALUE.fullmatch(value):
                return cast(http.client.HTTPMessage, _vcr_parse_headers(header_list))
            message[name] = value
    return message


# ----------------------------------------------------------------------------- unmatched requests


# vcrpy's stubs raise the error by their own module-level name; these are all of them (9.2 to 9.4).
_STUB_MODULES: Final = ("vcr.stubs", "vcr.stubs.httpx_stubs", "vcr.stubs.aiohttp_stubs", "vcr.stubs.tornado_stubs")
_UNMATCHED: Final = "CannotOverwriteExistingCassetteException"


def unmatched_raised_as(error_class: type[Exception]) -> contextlib.ExitStack:
    """Until the stack closes, vcrpy's stubs raise *error_class* for a request they may not play or record.

    Swaps may close in any order (two cassettes left outer-first, one per thread): the stubs
    raise the class of the latest swap still open, and vcrpy's own once none is.  A stub
    module not loaded yet, or that no longer holds the name, is left alone.
    """
    stack = contextlib.ExitStack()
    stack.enter_context(_UNMATCHED_SWAPS.opened(error_class))
    return stack


#: vcrpy's own class per stub module, while any swap is open.
_VCRPYS_OWN: Final[dict[str, Any]] = {}


def _follow_swaps(open_classes: list[type[Exception]]) -> None:
    """Each stub module's name for the error: the latest open swap's class, or vcrpy's own."""
    latest = open_classes[-1] if open_classes else None
    for name in _STUB_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if name not in _VCRPYS_OWN:
            if latest is None:
                continue  # never swapped: nothing to put back
            own = getattr(module, _UNMATCHED, None)
            if own is None:
                continue  # this vcrpy's stub no longer holds the name
            _VCRPYS_OWN[name] = own
        # What mock.patch.object would do for a module attribute, without building a patcher.
        setattr(module, _UNMATCHED, latest if latest is not None else _VCRPYS_OWN[name])
    if latest is None:
        _VCRPYS_OWN.clear()


_UNMATCHED_SWAPS: Final[OpenBlocks[type[Exception]]] = OpenBlocks(_follow_swaps)


# ----------------------------------------------------------------------------- the check


#: What the fast path looks up, by owner (dotted from ``vcr``).  All of it exists in vcrpy 9.2.0 and 9.4.2.
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "vcr.cassette": ("Cassette", "CassetteContextDecorator"),
    "vcr.cassette.Cassette": ("load", "_load", "append", "rewind", "_responses", "play_response", "__contains__"),
    "vcr.cassette.CassetteContextDecorator": ("_patch_generator",),
    "vcr.config.VCR": ("get_merged_config",),
    "vcr.errors": ("UnhandledHTTPRequestError",),
    "vcr.matchers": ("requests_match",),
    "vcr.patch": ("CassettePatcherBuilder", "ConnectionRemover", "reset_patchers", "force_reset", "_HTTPConnection"),
    "vcr.patch.CassettePatcherBuilder": ("build",),
    "vcr.stubs": ("parse_headers",),
}
#: The instance state IndexedCassette shares with vcrpy's Cassette.
_CASSETTE_STATE: Final = (
    "_path", "_match_on", "_before_record_request", "_before_record_response", "data", "dirty", "play_counts",
    "allow_playback_repeats", "_loaded_count", "_played_interactions", "_old_interactions", "drop_unused_requests",
)  # fmt: skip
#: What IndexedCassette adds: a vcrpy that uses any of these names itself would be confused.
_OWN_STATE: Final = (
    "_loading", "_index", "_cursor", "_exact", "_candidates", "_next_playable", "_last_candidates",
)  # fmt: skip


def _owner(dotted: str) -> Any:
    found: Any = vcr
    for name in dotted.split(".")[1:]:
        found = getattr(found, name, None)
    return found


def _missing_names() -> str:
    for dotted, names in _REQUIRED.items():
        owner = _owner(dotted)
        if owner is None:
            return f"{dotted} is gone"
        missing = [name for name in names if not hasattr(owner, name)]
        if missing:
            return f"{dotted} has no {', '.join(missing)}"
    plain = vcr.cassette.Cassette(path="<cfreplay probe>")
    missing = [name for name in _CASSETTE_STATE if not hasattr(plain, name)]
    if missing:
        return f"a vcr.cassette.Cassette has no {', '.join(missing)}"
    taken = [name for name in _OWN_STATE if hasattr(plain, name)]
    if taken:
        return f"vcr.cassette.Cassette uses {', '.join(taken)} itself"
    if not hasattr(vcr.patch.ConnectionRemover(object), "_connection_pool_to_connections"):
        return "a vcr.patch.ConnectionRemover has no _connection_pool_to_connections"
    return ""


def _same(value: Any) -> Any:
    return value


def _probe() -> str:
    """What goes wrong loading two recordings of one request through the fast path and playing them back."""
    request: dict[str, Any] = {"method": "GET", "uri": "http://cfreplay.invalid/probe", "body": None, "headers": {}}
    status = {"code": 200, "message": "OK"}
    data = {
        "version": 1,
        "interactions": [
            {"request": request, "response": {"status": status, "headers": {}, "body": {"string": text}}}
            for text in ("first", "second")
        ],
    }
    saved: list[Any] = []

    class Persister:
        @staticmethod
        def load_cassette(cassette_path: str, serializer: Any) -> Any:
            return from_data(data)

        @staticmethod
        def save_cassette(cassette_path: str, cassette_dict: Any, serializer: Any) -> None:
            saved.append(cassette_path)

    loads: list[str] = []
    patched: list[Any] = []

    def loading(path: str) -> AbstractContextManager[None]:
        loads.append(path)
        return contextlib.nullcontext()

    def shared(cassette: Any) -> AbstractContextManager[Any]:
        patched.append(cassette)
        return contextlib.nullcontext(cassette)

    config = vcr.VCR(record_mode="none")
    config.register_persister(Persister)
    live = Request("GET", request["uri"], None, {})
    with _fast_context(config, "<cfreplay probe>", {}, (_same, _same), loading, shared) as cassette:
        played = []
        for _ in range(3):
            if live not in cassette:
                break
            played.append(cassette.play_response(live)["body"]["string"])
        try:
            cassette.play_response(live)
        except vcr.errors.UnhandledHTTPRequestError:
            exhausted = True
        else:
            exhausted = False
        problems = {
            "the cassette is not an IndexedCassette": type(cassette) is not IndexedCassette,
            "the file was not loaded through IndexedCassette._load": loads != ["<cfreplay probe>"],
            "the clients were not patched through _patch_generator": patched != [cassette],
            "the recordings did not play once each, in recorded order": played != [b"first", b"second"],
            "a played cassette still answered": not exhausted,
            "the cassette does not count what it played": (len(cassette), cassette.play_count) != (2, 2),
            "a loaded cassette is marked as changed": cassette.dirty,
        }
    if saved:
        problems["a replay-only cassette was saved"] = True
    return next((problem for problem, wrong in problems.items() if wrong), "")


def _incompatibility() -> str:
    """Why the fast path cannot run on the vcrpy installed ('' when it can)."""
    try:
        problem = _missing_names() or _probe()
    except Exception as error:  # whatever a changed vcrpy raises, its public path may still work
        problem = f"the probe failed: {type(error).__name__}: {error}"
    return f"vcrpy {getattr(vcr, '__version__', '(unknown version)')}: {problem}" if problem else ""


#: Why :data:`FAST_PATH` is off (empty when it is on).
REASON: Final = _incompatibility()
#: Whether cassettes are vcrpy's internals used as this module knows them; else vcrpy's public behaviour.
FAST_PATH: Final = not REASON
