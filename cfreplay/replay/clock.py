"""Time during replay: frozen, ticking, where the cassette was recorded.

A recorded UAA token carries ``exp``.  Replayed later with the real clock, it
looks expired, the client refreshes it, and the test dies on a request that was
never recorded.  Freezing the clock at the recording instant (ticking, so
timeouts and sleeps still advance, and with asyncio's own clock left real so
event loops do not stall) makes replay see the world as recording did.

The freezing is freezegun's — its fake ``datetime``, ``time.time``… and its
stack of active freezes, so a test's own ``freeze_time`` nests with cfreplay's.
Only the search for copies of the clock functions (``from time import time`` in
some module) is cfreplay's.  freezegun's ``start()`` hashes ``dir()`` of every
loaded module on every freeze to decide whether its cache of those copies is
still valid: about 3 ms per test with a test toolchain loaded, the largest
single cost of a replayed test.  cfreplay keeps the same cache but validates an
entry by the module's identity and the size of its namespace, which costs a
tenth of a microsecond per module; a module is looked through again (with
``dir()``, as freezegun does) only when it is new or its namespace grew or
shrank.
"""

from __future__ import annotations

import asyncio
import copyreg
import datetime as _datetime
import operator
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType
from typing import Any, Final

import freezegun
import freezegun.api as _api

__all__ = ["frozen_at"]

#: Which calls see real time is freezegun's decision, made with its own default ignore list
#: only (threading, queue, multiprocessing…): cfreplay adds nothing to it.  A library the
#: code under test calls — PyJWT checking a recorded token's ``exp``, requests or aiohttp
#: expiring a recorded cookie — must see the frozen clock, or replay would drift from what
#: recording saw.  (An earlier cfreplay listed its dependencies and the HTTP clients here to
#: spare freezegun's per-freeze walk over them; that walk is now cached, and the list made
#: PyJWT call a recorded token expired.)

#: Packages whose copies of the clock functions are never replaced, though calls from them
#: are not given real time either: pytest keeps its own copies (``_pytest.timing``) exactly
#: so that a test mocking the clock cannot distort its durations (pytest issue #185), and
#: replacing them only made every report go through freezegun's fakes.
_OWN_CLOCK_PACKAGES: Final = ("_pytest", "pluggy")

# What start() uses from freezegun's module.  All of it exists from freezegun 1.2 to at
# least 1.5; should a release rename any of it, freezing falls back to freezegun's own
# start() (slower, same behaviour) rather than break.
_API_NAMES: Final = (
    "freeze_factories", "tz_offsets", "ignore_lists", "tick_flags", "TickingDateTimeFactory",
    "FakeDatetime", "FakeDate", "real_datetime", "real_date", "pickle_fake_datetime", "pickle_fake_date",
    "fake_time", "fake_monotonic", "fake_perf_counter", "fake_localtime", "fake_gmtime", "fake_strftime",
    "real_time", "real_monotonic", "real_perf_counter", "real_localtime", "real_gmtime", "real_strftime",
    "uuid_generate_time_attr", "real_clock", "_freeze_time",
)  # fmt: skip
_COMPATIBLE: Final = all(hasattr(_api, name) for name in _API_NAMES)

# Module name -> (the module, len(its namespace) when looked through, the clock copies it
# held then as (attribute name, real object)).  Valid for one ignore list.
_copies_cache: dict[str, tuple[ModuleType, int, tuple[tuple[str, Any], ...]]] = {}
_cache_ignore: tuple[str, ...] = ()


def _clock_pairs() -> list[tuple[Any, Any]]:
    """(real, fake) for every clock function freezegun replaces, in freezegun's order."""
    pairs: list[tuple[Any, Any]] = [
        (_api.real_date, _api.FakeDate),
        (_api.real_datetime, _api.FakeDatetime),
        (_api.real_gmtime, _api.fake_gmtime),
        (_api.real_localtime, _api.fake_localtime),
        (_api.real_monotonic, _api.fake_monotonic),
        (_api.real_perf_counter, _api.fake_perf_counter),
        (_api.real_strftime, _api.fake_strftime),
        (_api.real_time, _api.fake_time),
    ]
    for real_name, fake_name in (
        ("real_time_ns", "fake_time_ns"),
        ("real_monotonic_ns", "fake_monotonic_ns"),
        ("real_perf_counter_ns", "fake_perf_counter_ns"),
        ("real_clock", "fake_clock"),
    ):
        real, fake = getattr(_api, real_name, None), getattr(_api, fake_name, None)
        if real is not None and fake is not None:
            pairs.append((real, fake))
    return pairs


def _skipped(name: str, module: ModuleType, ignore: tuple[str, ...]) -> bool:
    """The modules freezegun's start() leaves alone."""
    return (
        name == _api.__name__
        or name.startswith(ignore)
        or name.endswith(".six.moves")
        or getattr(module, "__name__", None) in (None, "datetime", "time")
    )


def _look_through(module: ModuleType, real_ids: set[int]) -> tuple[tuple[str, Any], ...]:
    """The module's attributes that are real clock functions: freezegun's own search."""
    found = []
    try:
        names = dir(module)
    except (ImportError, TypeError):
        return ()
    for name in names:
        try:
            value = getattr(module, name)
        except (ImportError, AttributeError, TypeError):
            continue
        if id(value) in real_ids:
            found.append((name, value))
    return tuple(found)


# The last walk: sys.modules' items, their namespace sizes, and what was found.  When
# nothing changed since (the common case between two tests), the walk is skipped.
_last_walk: tuple[list[tuple[str, Any]], list[int], list[tuple[ModuleType, str, Any]]] | None = None
_namespace = operator.attrgetter("__dict__")
_second = operator.itemgetter(1)


def _clock_copies(ignore: tuple[str, ...], real_ids: set[int]) -> list[tuple[ModuleType, str, Any]]:
    """Every (module, attribute, real clock function) to replace, from the cache where valid."""
    global _cache_ignore, _last_walk
    if ignore != _cache_ignore:
        _copies_cache.clear()
        _cache_ignore = ignore
        _last_walk = None
    items = list(sys.modules.items())
    try:  # map/attrgetter run in C: a few hundredths of a microsecond per module
        sizes = list(map(len, map(_namespace, map(_second, items))))
    except (AttributeError, TypeError):  # something that is not a module sits in sys.modules
        sizes = None
    if _last_walk is not None and sizes is not None and items == _last_walk[0] and sizes == _last_walk[1]:
        return [(module, attribute, real) for module, attribute, real in _last_walk[2]
                if module.__dict__.get(attribute) is real]  # fmt: skip
    copies = []
    cache_get = _copies_cache.get
    for name, module in items:
        try:
            size = len(module.__dict__)
        except (AttributeError, TypeError):  # not a module (some packages put other objects here)
            continue
        entry = cache_get(name)
        if entry is None or entry[0] is not module or entry[1] != size:
            found = () if _skipped(name, module, ignore) else _look_through(module, real_ids)
            # A module still being imported will grow: look at it again next time.
            if not getattr(getattr(module, "__spec__", None), "_initializing", False):
                _copies_cache[name] = (module, size, found)
        else:
            found = entry[2]
        for attribute, real in found:
            # freezegun would write the fake over whatever is there now; cfreplay only
            # replaces what is still the real function.
            if module.__dict__.get(attribute) is real:
                copies.append((module, attribute, real))
    # A module that was mid-import grows before the next freeze, so the sizes will differ.
    _last_walk = (items, sizes, copies) if sizes is not None else None
    return copies


#: freezegun's freezer class, when it has one by that name: without it, no subclass (and no import error).
_Freezer: Any = getattr(_api, "_freeze_time", object)


class _IncrementalFreeze(_Freezer):  # type: ignore[misc]
    """freezegun's ``freeze_time`` whose ``start()`` finds clock copies through the cache above.

    Everything else — the fakes, the stacks of active freezes, ``stop()`` — is
    freezegun's, so a freeze started here is stopped and nested exactly as one
    of freezegun's.
    """

    def start(self) -> Any:
        if not _COMPATIBLE or self.auto_tick_seconds or not self.tick:
            return super().start()
        factory = _api.TickingDateTimeFactory(self.time_to_freeze, _api.real_datetime.now())
        nested = len(_api.freeze_factories) > 0
        _api.freeze_factories.append(factory)
        _api.tz_offsets.append(self.tz_offset)
        _api.ignore_lists.append(self.ignore)
        _api.tick_flags.append(self.tick)
        if nested:  # the outer freeze already replaced everything
            return factory

        _datetime.datetime = _api.FakeDatetime  # type: ignore[misc]
        _datetime.date = _api.FakeDate  # type: ignore[misc]
        pairs = _clock_pairs()
        for real, fake in pairs:
            if real is not _api.real_date and real is not _api.real_datetime:
                setattr(time, real.__name__, fake)
        if _api.uuid_generate_time_attr:
            setattr(uuid, _api.uuid_generate_time_attr, None)
        uuid._UuidCreate = None  # type: ignore[attr-defined]
        uuid._last_timestamp = None  # type: ignore[attr-defined]
        copyreg.dispatch_table[_api.real_datetime] = _api.pickle_fake_datetime
        copyreg.dispatch_table[_api.real_date] = _api.pickle_fake_date

        # What freezegun's stop() reads to undo this start.
        self.fake_names = tuple(fake.__name__ for _real, fake in pairs)
        self.reals = {id(fake): real for real, fake in pairs}
        self.modules_at_start = set(sys.modules)
        fakes = {id(real): fake for real, fake in pairs}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for module, attribute, real in _clock_copies((*self.ignore, *_OWN_CLOCK_PACKAGES), set(fakes)):
                setattr(module, attribute, fakes[id(real)])
                self.undo_changes.append((module, attribute, real))

        if self.real_asyncio:
            # As freezegun does: event loops keep real monotonic time, or asyncio.sleep() would hang.
            loop_class = _event_loop_class()
            undo: list[tuple[Any, str, Any]] = self.undo_changes
            undo.append((loop_class, "time", loop_class.time))
            real_monotonic: Callable[[], float] = _api.real_monotonic
            loop_class.time = lambda self: real_monotonic()  # type: ignore[method-assign]
        return factory


def _event_loop_class() -> type[asyncio.AbstractEventLoop]:
    """The class of the loops asyncio makes now.

    freezegun makes (and closes) a loop to find out, on every freeze.  asyncio's own
    policies name the class they instantiate; any other policy is asked as freezegun does.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # policies are deprecated from Python 3.14
        policy = asyncio.get_event_loop_policy()
    base = getattr(asyncio.events, "BaseDefaultEventLoopPolicy", None) or getattr(
        asyncio.events, "_BaseDefaultEventLoopPolicy", None
    )
    factory = getattr(policy, "_loop_factory", None)
    if (
        base is not None
        and type(policy).new_event_loop is base.new_event_loop
        and isinstance(factory, type)
        and issubclass(factory, asyncio.AbstractEventLoop)
    ):
        return factory
    loop = asyncio.new_event_loop()
    loop.close()
    return type(loop)


def _freeze(moment: datetime, *, tick: bool = True) -> Any:
    # freeze_time() adds freezegun's configured default ignore list; build through it, then re-class.
    freezer = freezegun.freeze_time(moment, tick=tick, real_asyncio=True)
    if _COMPATIBLE:
        freezer.__class__ = _IncrementalFreeze
    return freezer


@contextmanager
def frozen_at(moment: datetime, *, skip_sleep: bool = True, tick: bool = True) -> Iterator[None]:
    """Within the block, ``time.time()``, ``datetime.now()``… start at *moment* and tick on.

    With *skip_sleep*, ``time.sleep(s)`` and ``await asyncio.sleep(s)`` in the thread that
    entered the block return at once and move the frozen clock *s* seconds forward: a
    polling loop replays at full speed, and a deadline computed from ``time.time()`` or
    ``time.monotonic()`` still passes where it did when recorded.  Other threads (a server
    the test runs) sleep for real.

    ``tick=False`` stops the clock at *moment* except for those skipped sleeps:
    what a byte-identical recording needs (the ``cfreplay_simulator`` fixture's).
    """
    with _freeze(moment, tick=tick) as factory:
        if skip_sleep:
            with _sleeps_move_the_clock(factory):
                yield
        else:
            yield


@contextmanager
def _sleeps_move_the_clock(factory: Any) -> Iterator[None]:
    """Patch ``time.sleep`` and ``asyncio.sleep`` to advance *factory* (a freezegun time factory) instead."""
    owner = threading.get_ident()
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def advance(seconds: float) -> bool:
        if threading.get_ident() != owner or not seconds > 0:
            return False
        # Both of freezegun's factories date everything from time_to_freeze (public since 1.0).
        factory.time_to_freeze += _datetime.timedelta(seconds=seconds)
        return True

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")  # as time.sleep says it
        real_sleep(0 if advance(seconds) else seconds)  # 0: other threads still get their turn

    async def async_sleep(delay: float, result: Any = None) -> Any:
        return await real_async_sleep(0 if advance(delay) else delay, result)

    time.sleep = sleep  # type: ignore[assignment]
    asyncio.sleep = async_sleep
    try:
        yield
    finally:
        time.sleep = real_sleep
        asyncio.sleep = real_async_sleep
