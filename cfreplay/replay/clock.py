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
entry by the module's identity and the size of its namespace; a module is looked
through again (with ``dir()``, as freezegun does) only when it is new or its
namespace grew or shrank.  When nothing in ``sys.modules`` changed since the last
freeze (the common case between two tests) even that check is one comparison of
the list of modules and one of their namespace sizes, read in C (:class:`_Walk`):
some 20 µs with 850 modules loaded.  ``stop()`` is freezegun's too, except that it
looks for modules loaded during the freeze (whose copies took the fakes) only when
the list of module names changed, instead of comparing two sets of every name.

Each freeze installs the fakes and each stop takes them out: between two tests
nothing of freezegun's is in place.  (Keeping the fakes installed for a whole test
session would not be the same: freezegun's ``FakeDatetime.now()`` and
``FakeDate.today()`` fail with no freeze active, and copies of the real classes
made between tests would still have to be looked for.)
"""

from __future__ import annotations

import asyncio
import copyreg
import datetime as _datetime
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import MappingProxyType, ModuleType
from typing import Any, Final

import freezegun
import freezegun.api as _api

from cfreplay.replay._open_blocks import OpenBlocks

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
    "uuid_generate_time_attr", "real_uuid_generate_time", "real_uuid_create", "real_clock", "_freeze_time",
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
    """The module's attributes that are real clock functions: freezegun's own search.

    freezegun reads ``getattr(module, name)`` for each name ``dir(module)`` lists.  For a
    plain module (a ``ModuleType`` without its own ``__dir__``), ``dir`` lists the keys of
    its namespace and ``getattr`` gives their values (a PEP 562 ``__getattr__`` only answers
    names that are not there; the type's own descriptors, ``__dict__``, ``__class__`` and
    ``__annotations__``, are no clock), so the namespace is read directly: the first freeze
    of a process reads every loaded module, some 100,000 attributes.  Any other module is
    read as freezegun reads it.
    """
    namespace = getattr(module, "__dict__", None)
    if type(module) is ModuleType and type(namespace) is dict and "__dir__" not in namespace:
        # Most modules hold no clock at all: asked in C first, value by value, with no Python frame per value.
        if real_ids.isdisjoint(map(id, namespace.values())):
            return ()
        return tuple(sorted((name, value) for name, value in namespace.items() if id(value) in real_ids))
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


class _Walk:
    """What sys.modules held when the clock copies were last looked for, to skip the next search when nothing changed.

    Nothing changed means: the same entries (by identity, in the same order, the same last name)
    and every namespace the same size.  Sizes are read through the namespaces themselves, kept
    from the walk (a module's ``__dict__`` is fixed for its life), by ``map(len, ...)`` in C.
    """

    __slots__ = ("copies", "last", "namespaces", "sizes", "values")

    def __init__(self, values: list[Any], last: Any, namespaces: list[dict[str, Any]]) -> None:
        self.values = values
        self.last = last
        self.namespaces = namespaces
        self.sizes = list(map(len, namespaces))
        self.copies: list[tuple[ModuleType, str, Any]] = []

    @classmethod
    def now(cls) -> _Walk | None:
        """sys.modules as it is; None when an entry has no namespace to measure (then every freeze walks)."""
        values = list(sys.modules.values())
        last = next(reversed(sys.modules), None)
        try:  # a module's dict; a class's mappingproxy (Python 3.11 keeps two in sys.modules: typing.io, typing.re)
            namespaces = [module.__dict__ for module in values]
        except AttributeError:
            return None
        if not all(type(namespace) in _NAMESPACES for namespace in namespaces):
            return None
        return cls(values, last, namespaces)

    def unchanged(self) -> bool:
        # List equality compares identical entries without calling their __eq__.
        return (
            list(sys.modules.values()) == self.values
            and next(reversed(sys.modules), None) == self.last
            and list(map(len, self.namespaces)) == self.sizes
        )


_NAMESPACES: Final = (dict, MappingProxyType)

# The last search; when sys.modules has not changed since (the common case between two tests), it is not repeated.
_last_walk: _Walk | None = None


def _clock_copies(ignore: tuple[str, ...], real_ids: set[int]) -> list[tuple[ModuleType, str, Any]]:
    """Every (module, attribute, real clock function) to replace, from the cache where valid."""
    global _cache_ignore, _last_walk
    if ignore != _cache_ignore:
        _copies_cache.clear()
        _cache_ignore = ignore
        _last_walk = None
    if _last_walk is not None and _last_walk.unchanged():
        return [(module, attribute, real) for module, attribute, real in _last_walk.copies
                if module.__dict__.get(attribute) is real]  # fmt: skip
    walk = _Walk.now()  # before looking through anything: a module that grows meanwhile is looked at again
    with warnings.catch_warnings():
        # As freezegun's start(): reading a module's attributes may warn (a deprecated name).
        warnings.simplefilter("ignore")
        copies = _look_for_copies(ignore, real_ids)
    # A module that was mid-import grows before the next freeze, so the sizes will differ.
    if walk is not None:
        walk.copies = copies
    _last_walk = walk
    return copies


def _look_for_copies(ignore: tuple[str, ...], real_ids: set[int]) -> list[tuple[ModuleType, str, Any]]:
    """:func:`_clock_copies` when sys.modules changed: each module looked through again where its namespace did."""
    copies = []
    cache_get = _copies_cache.get
    for name, module in list(sys.modules.items()):
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
    return copies


#: freezegun's freezer class, when it has one by that name: without it, no subclass (and no import error).
_Freezer: Any = getattr(_api, "_freeze_time", object)


class _Fakes:
    """freezegun's fakes and the real functions they stand for, as its start() and stop() pair them."""

    def __init__(self) -> None:
        pairs = _clock_pairs()
        #: (name in the time module, real, fake) for the functions of the time module.
        self.time_module = tuple(
            (real.__name__, real, fake)
            for real, fake in pairs
            if real is not _api.real_date and real is not _api.real_datetime
        )
        #: What freezegun's stop() reads of a started freeze.
        self.fake_names = tuple(fake.__name__ for _real, fake in pairs)
        self.reals = {id(fake): real for real, fake in pairs}
        self.fakes = {id(real): fake for real, fake in pairs}
        self.real_ids = set(self.fakes)


_fakes: _Fakes | None = None


def _the_fakes() -> _Fakes:
    global _fakes
    if _fakes is None:
        _fakes = _Fakes()
    return _fakes


class _IncrementalFreeze(_Freezer):  # type: ignore[misc]
    """freezegun's ``freeze_time`` whose ``start()`` finds clock copies through the cache above.

    The fakes and the stacks of active freezes are freezegun's, and ``start()`` and
    ``stop()`` do what freezegun's do, so a freeze started here nests with freezegun's
    either way.  Where freezegun's ``stop()`` compares the set of loaded modules with
    the one at start (two sets of every module name per freeze), this one looks for
    modules loaded meanwhile only when the list of names changed.
    """

    undo_changes: list[tuple[Any, str, Any]]  # freezegun's: what stop() sets back

    def start(self) -> Any:
        # Set below when this start is cfreplay's: then stop() is too.
        self.__dict__.pop("_cfreplay_modules", None)
        if not _COMPATIBLE or self.auto_tick_seconds or not self.tick:
            return super().start()
        factory = _api.TickingDateTimeFactory(self.time_to_freeze, _api.real_datetime.now())
        nested = len(_api.freeze_factories) > 0
        _api.freeze_factories.append(factory)
        _api.tz_offsets.append(self.tz_offset)
        _api.ignore_lists.append(self.ignore)
        _api.tick_flags.append(self.tick)
        # The module names at start (None for a nested start, which replaces nothing).
        self._cfreplay_modules: list[str] | None = None
        if nested:  # the outer freeze already replaced everything
            return factory

        _datetime.datetime = _api.FakeDatetime  # type: ignore[misc]
        _datetime.date = _api.FakeDate  # type: ignore[misc]
        known = _the_fakes()
        for name, _real, fake in known.time_module:
            setattr(time, name, fake)
        if _api.uuid_generate_time_attr:
            setattr(uuid, _api.uuid_generate_time_attr, None)
        uuid._UuidCreate = None  # type: ignore[attr-defined]
        uuid._last_timestamp = None  # type: ignore[attr-defined]
        copyreg.dispatch_table[_api.real_datetime] = _api.pickle_fake_datetime
        copyreg.dispatch_table[_api.real_date] = _api.pickle_fake_date

        # What freezegun's stop() would read to undo this start (stop() below reads the module names).
        self.fake_names = known.fake_names
        self.reals = known.reals
        self._cfreplay_modules = list(sys.modules)
        fakes = known.fakes
        undo: list[tuple[Any, str, Any]] = self.undo_changes
        for module, attribute, real in _clock_copies((*self.ignore, *_OWN_CLOCK_PACKAGES), known.real_ids):
            if type(module) is ModuleType:
                setattr(module, attribute, fakes[id(real)])
            else:
                with warnings.catch_warnings():  # a module's stand-in may warn when written to, as freezegun allows
                    warnings.simplefilter("ignore")
                    setattr(module, attribute, fakes[id(real)])
            undo.append((module, attribute, real))

        if self.real_asyncio:
            # As freezegun does: event loops keep real monotonic time, or asyncio.sleep() would hang.
            loop_class = _event_loop_class()
            # The class's own attribute, or _INHERITED: freezegun sets the inherited one back on the class.
            undo.append((loop_class, "time", loop_class.__dict__.get("time", _INHERITED)))
            real_monotonic: Callable[[], float] = _api.real_monotonic
            loop_class.time = lambda self: real_monotonic()  # type: ignore[method-assign]
        return factory

    def stop(self) -> None:
        started_at = self.__dict__.pop("_cfreplay_modules", _NOT_STARTED_HERE)
        if started_at is _NOT_STARTED_HERE:
            super().stop()  # freezegun's start(): freezegun's stop()
            return
        _api.freeze_factories.pop()
        _api.ignore_lists.pop()
        _api.tick_flags.pop()
        _api.tz_offsets.pop()
        if _api.freeze_factories:
            return
        _datetime.datetime = _api.real_datetime  # type: ignore[misc]
        _datetime.date = _api.real_date  # type: ignore[misc]
        copyreg.dispatch_table.pop(_api.real_datetime)
        copyreg.dispatch_table.pop(_api.real_date)
        for owner, attribute, original in self.undo_changes:
            if original is _INHERITED:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self.undo_changes = []
        # Modules loaded while frozen took the fakes: back to the real functions, as freezegun
        # does.  (A freeze started nested saw no modules at start, so every module is "new".)
        names = list(sys.modules)
        if started_at is None or names != started_at:
            _restore_loaded_since(set(names) - set(started_at or ()), self.ignore, _the_fakes())
        for name, real, _fake in _the_fakes().time_module:
            setattr(time, name, real)
        time.clock = _api.real_clock  # type: ignore[attr-defined]  # freezegun's stop() sets it, even to None
        if _api.uuid_generate_time_attr:
            setattr(uuid, _api.uuid_generate_time_attr, _api.real_uuid_generate_time)
        uuid._UuidCreate = _api.real_uuid_create  # type: ignore[attr-defined]
        uuid._last_timestamp = None  # type: ignore[attr-defined]


_NOT_STARTED_HERE: Final = object()
_INHERITED: Final = object()  # an attribute the owner did not hold itself: deleted again on stop


def _restore_loaded_since(loaded: set[str], ignore: tuple[str, ...], known: _Fakes) -> None:
    """freezegun's stop() for the modules *loaded* during a freeze: every fake they hold is the real one again."""
    if sys.is_finalizing():
        return  # a freeze left open until the interpreter exits: its modules are being torn down
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in loaded:
            module = sys.modules.get(name, None)
            if name is None or module is None:
                continue
            if name.startswith(ignore) or name.endswith(".six.moves"):
                continue
            if not hasattr(module, "__name__") or module.__name__ in ("datetime", "time"):
                continue
            for attribute in dir(module):
                if attribute in known.fake_names:
                    continue
                try:
                    value = getattr(module, attribute)
                except (ImportError, AttributeError, TypeError):
                    continue
                real = known.reals.get(id(value))
                if real:
                    setattr(module, attribute, real)


def _event_loop_class() -> type[asyncio.AbstractEventLoop]:
    """The class of the loops asyncio makes now.

    freezegun makes (and closes) a loop to find out, on every freeze.  asyncio's own
    policies name the class they instantiate; any other policy is asked as freezegun does.
    """
    if sys.version_info < (3, 14):
        policy = asyncio.get_event_loop_policy()
    else:  # pragma: no cover - policies are deprecated from Python 3.14
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
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
    """Patch ``time.sleep`` and ``asyncio.sleep`` to advance *factory* (a freezegun time factory) instead.

    One pair of patches serves every block open in the process, so blocks may end in any
    order (two cassettes left outer-first, one per thread) and the real functions come back
    when the last one ends: a sleep in a thread advances the clock of that thread's latest
    open block, and sleeps for real in any other thread.
    """

    def advance(seconds: float) -> None:
        # Both of freezegun's factories date everything from time_to_freeze (public since 1.0).
        factory.time_to_freeze += _datetime.timedelta(seconds=seconds)

    with _SLEEPERS.opened((threading.get_ident(), advance)):
        yield


#: time.sleep and asyncio.sleep as they were when the first block opened (kept after, for a sleep in flight).
_REAL_SLEEPS: Final[list[Any]] = [time.sleep, asyncio.sleep]
_sleeps_installed = False


def _follow_sleepers(open_now: list[tuple[int, Callable[[float], None]]]) -> None:
    """Install the sleeps when the first block opens; put back what was there when the last closes."""
    global _sleeps_installed
    if open_now and not _sleeps_installed:
        _REAL_SLEEPS[:] = [time.sleep, asyncio.sleep]
        time.sleep = _sleep  # type: ignore[assignment]
        asyncio.sleep = _async_sleep
        _sleeps_installed = True
    elif not open_now and _sleeps_installed:
        time.sleep, asyncio.sleep = _REAL_SLEEPS
        _sleeps_installed = False


#: The blocks whose sleeps move a clock, oldest first: (thread, advance).
_SLEEPERS: Final[OpenBlocks[tuple[int, Callable[[float], None]]]] = OpenBlocks(_follow_sleepers)


def _advanced(seconds: float) -> bool:
    """Whether the calling thread's latest open block took *seconds* on its clock."""
    if not seconds > 0:
        return False
    ident = threading.get_ident()
    for owner, advance in reversed(_SLEEPERS.values()):
        if owner == ident:
            advance(seconds)
            return True
    return False


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")  # as time.sleep says it
    _REAL_SLEEPS[0](0 if _advanced(seconds) else seconds)  # 0: other threads still get their turn


async def _async_sleep(delay: float, result: Any = None) -> Any:
    return await _REAL_SLEEPS[1](0 if _advanced(delay) else delay, result)
