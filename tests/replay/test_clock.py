"""cfreplay's freeze replaces exactly what freezegun's does, and undoes it, without freezegun's per-start walk."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import freezegun
import freezegun.api
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfreplay import cassette
from cfreplay.replay import clock

MOMENT = dt.datetime(2015, 11, 3, 0, 54, 16)
CLOCK_FUNCTIONS: dict[str, Any] = {
    "time": time.time,
    "monotonic": time.monotonic,
    "perf_counter": time.perf_counter,
    "localtime": time.localtime,
    "gmtime": time.gmtime,
    "strftime": time.strftime,
    "time_ns": time.time_ns,
    "datetime": dt.datetime,
    "date": dt.date,
}


@pytest.fixture
def planted() -> Iterator[list[str]]:
    """Registers throwaway modules in sys.modules; removes them afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        sys.modules.pop(name, None)
        clock._copies_cache.pop(name, None)


def plant(names: list[str], name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    names.append(name)
    return module


def replaced_by(freezer: Any) -> set[tuple[str, str]]:
    """What a started freeze replaced, as (module or class name, attribute)."""
    return {(getattr(owner, "__name__", repr(owner)), attribute) for owner, attribute, _real in freezer.undo_changes}


def freezegun_freeze(*, fresh: bool = True) -> Any:
    """freezegun's own freeze_time, as cfreplay configures it (ticking, asyncio real, default ignore list)."""
    if fresh:
        # freezegun's own cache can be stale (a module first seen while frozen holds the fake,
        # and the entry outlives the restore): compare with a fresh look through everything.
        # Looking through a module with getattr() can import lazily exposed submodules
        # (dateutil's), which the freeze that imports them cannot see yet: warm up first.
        with freezegun.freeze_time(MOMENT):
            pass
        freezegun.api._GLOBAL_MODULES_CACHE.clear()
    return freezegun.freeze_time(MOMENT, tick=True, real_asyncio=True)


def test_replaces_what_freezegun_replaces_across_every_loaded_module(planted: list[str]) -> None:
    plant(planted, "cfreplay_test_app.clocks", **{f"my_{name}": value for name, value in CLOCK_FUNCTIONS.items()})
    plant(planted, "cfreplay_test_app.plain", time=time.time, sleep=time.sleep, x=1)
    theirs = freezegun_freeze()
    theirs.start()
    try:
        # pytest's own copies (_pytest.timing) are deliberately left alone: see the next test.
        expected = {pair for pair in replaced_by(theirs) if not pair[0].startswith(clock._OWN_CLOCK_PACKAGES)}
    finally:
        theirs.stop()
    ours = clock._freeze(MOMENT)
    ours.start()
    try:
        got = replaced_by(ours)
        module = sys.modules["cfreplay_test_app.clocks"]
        assert module.my_datetime.now().date() == MOMENT.date()
        assert abs(module.my_time() - MOMENT.replace(tzinfo=dt.UTC).timestamp()) < 60
        assert dt.datetime.now().year == 2015 and time.time() < 1.5e9
    finally:
        ours.stop()
    assert ("cfreplay_test_app.clocks", "my_time") in expected
    assert got == expected


def test_pytest_keeps_its_own_clock_while_the_test_sees_the_frozen_one() -> None:
    import _pytest.timing

    with clock.frozen_at(MOMENT):
        assert _pytest.timing.time() > 1.7e9  # durations in pytest's reports stay real
        assert time.time() < 1.5e9  # called from here (a test module), the clock is frozen
    theirs = freezegun_freeze()
    with theirs:
        assert _pytest.timing.time() < 1.5e9  # what freezegun alone would do


def test_everything_is_restored_after_stop(planted: list[str]) -> None:
    module = plant(planted, "cfreplay_test_app.restored", **CLOCK_FUNCTIONS)
    before_module = dict(module.__dict__)
    before_time = {name: getattr(time, name) for name in ("time", "monotonic", "perf_counter", "gmtime", "time_ns")}
    loop = asyncio.new_event_loop()
    loop.close()
    loop_class = type(loop)
    before_loop_time = loop_class.__dict__.get("time")
    with clock.frozen_at(MOMENT):
        assert module.time is not before_module["time"]
        assert dt.datetime is freezegun.api.FakeDatetime
    assert module.__dict__ == before_module
    assert {name: getattr(time, name) for name in before_time} == before_time
    assert dt.datetime is freezegun.api.real_datetime and dt.date is freezegun.api.real_date
    assert loop_class.__dict__.get("time") is before_loop_time
    assert uuid._UuidCreate is freezegun.api.real_uuid_create  # type: ignore[attr-defined]
    assert not freezegun.api.freeze_factories


def test_a_copy_added_after_an_earlier_freeze_is_frozen_too(planted: list[str]) -> None:
    module = plant(planted, "cfreplay_test_app.grows", x=1)
    with clock.frozen_at(MOMENT):
        pass
    module.now = time.time  # the namespace grew since it was looked through
    with clock.frozen_at(MOMENT):
        assert module.now() < 1.5e9
    assert module.now is time.time


def test_a_module_replaced_under_the_same_name_is_looked_through_again(planted: list[str]) -> None:
    plant(planted, "cfreplay_test_app.swapped", x=1, y=2)
    with clock.frozen_at(MOMENT):
        pass
    planted.remove("cfreplay_test_app.swapped")
    replacement = plant(planted, "cfreplay_test_app.swapped", x=1, now=time.time)  # same size, new object
    with clock.frozen_at(MOMENT):
        assert replacement.now() < 1.5e9


def test_an_attribute_rebound_since_it_was_seen_is_left_alone(planted: list[str]) -> None:
    module = plant(planted, "cfreplay_test_app.rebound", now=time.time)
    with clock.frozen_at(MOMENT):
        pass

    def mine() -> float:
        return 42.0

    module.now = mine  # same size: the cache still lists "now", but it no longer holds the clock
    with clock.frozen_at(MOMENT):
        assert module.now is mine
    assert module.now is mine


def test_a_module_still_being_imported_is_not_cached(planted: list[str]) -> None:
    module = plant(planted, "cfreplay_test_app.importing", x=1)
    module.__spec__ = types.SimpleNamespace(_initializing=True)  # type: ignore[assignment]
    with clock.frozen_at(MOMENT):
        pass
    assert "cfreplay_test_app.importing" not in clock._copies_cache


def test_ignored_packages_keep_their_real_clock_like_freezegun(planted: list[str]) -> None:
    module = plant(planted, "selenium.cfreplay_test_clock", now=time.time)  # in freezegun's default ignore list
    with clock.frozen_at(MOMENT):
        assert module.now is time.__dict__.get("time") or module.now is freezegun.api.real_time
        assert module.now() > 1.7e9


@pytest.mark.parametrize("outer_is_ours", [True, False])
def test_nests_with_freezegun_either_way(outer_is_ours: bool) -> None:
    later = dt.datetime(2020, 5, 17, 12, 0, 0)
    outer = clock.frozen_at(MOMENT) if outer_is_ours else freezegun.freeze_time(MOMENT, tick=True)
    with outer:
        with freezegun.freeze_time(later) if outer_is_ours else clock.frozen_at(later):
            assert dt.datetime.now().year == 2020
        assert dt.datetime.now().year == 2015
    assert dt.datetime.now().year > 2020


def test_falls_back_to_freezegun_start_when_its_internals_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_start = freezegun.api._freeze_time.start

    def counting_start(self: Any) -> Any:
        calls.append("freezegun")
        return real_start(self)

    monkeypatch.setattr(freezegun.api._freeze_time, "start", counting_start)
    with clock.frozen_at(MOMENT):
        pass
    assert calls == []
    monkeypatch.setattr(clock, "_COMPATIBLE", False)
    with clock.frozen_at(MOMENT):
        assert dt.datetime.now().year == 2015
    assert calls == ["freezegun"]


def test_imports_when_freezeguns_freezer_class_is_gone() -> None:
    """A freezegun that renamed ``_freeze_time``: cfreplay still imports (and freezes with freezegun's start())."""
    code = (
        "import freezegun.api\n"
        "del freezegun.api._freeze_time\n"
        "from cfreplay.replay import clock\n"
        "print(clock._COMPATIBLE)\n"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr[-500:]


_EXAMPLES = itertools.count()
ATTRIBUTE_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(
    modules=st.lists(
        st.dictionaries(ATTRIBUTE_NAMES, st.sampled_from([*CLOCK_FUNCTIONS.values(), time.sleep, 1, "x"]), max_size=6),
        min_size=1,
        max_size=5,
    ),
    rounds=st.integers(min_value=1, max_value=3),
)
def test_property_same_replacements_as_freezegun(modules: list[dict[str, Any]], rounds: int) -> None:
    # Fresh names per example: freezegun's cache is keyed by name and validated by id(), which can be reused.
    run = next(_EXAMPLES)
    names = [f"cfreplay_test_prop.r{run}m{i}" for i in range(len(modules))]
    try:
        for name, attributes in zip(names, modules, strict=True):
            module = types.ModuleType(name)
            module.__dict__.update(attributes)
            sys.modules[name] = module
        theirs = freezegun_freeze(fresh=False)
        theirs.start()
        try:
            expected = {pair for pair in replaced_by(theirs) if pair[0].startswith("cfreplay_test_prop.")}
        finally:
            theirs.stop()
        for _ in range(rounds):  # the first round fills the cache, later ones read it
            ours = clock._freeze(MOMENT)
            ours.start()
            try:
                got = {pair for pair in replaced_by(ours) if pair[0].startswith("cfreplay_test_prop.")}
            finally:
                ours.stop()
            assert got == expected
            for name, attributes in zip(names, modules, strict=True):
                assert sys.modules[name].__dict__.items() >= attributes.items()
    finally:
        for name in names:
            sys.modules.pop(name, None)
            clock._copies_cache.pop(name, None)


def test_the_event_loop_class_is_the_one_asyncio_makes() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    assert clock._event_loop_class() is type(loop)


def test_a_policy_that_makes_its_own_loops_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    class OwnLoop(asyncio.SelectorEventLoop):
        pass

    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            return OwnLoop()

    monkeypatch.setattr(asyncio.events, "_event_loop_policy", Policy())
    assert clock._event_loop_class() is OwnLoop

    async def nap() -> float:
        await asyncio.sleep(0.01)  # would hang if OwnLoop's clock were frozen
        return 1.0

    with clock.frozen_at(MOMENT):
        assert asyncio.run(nap()) == 1.0
        assert OwnLoop.time is not asyncio.BaseEventLoop.time
    assert OwnLoop.time is asyncio.BaseEventLoop.time


def test_libraries_the_code_under_test_calls_see_the_frozen_clock() -> None:
    """A client checking its token's exp with PyJWT must not see it expired during replay."""
    import secrets

    import jwt

    key = secrets.token_hex(32)
    recorded = MOMENT.replace(tzinfo=dt.UTC)
    token = jwt.encode({"exp": int(recorded.timestamp()) + 600}, key, algorithm="HS256")
    with clock.frozen_at(MOMENT):
        assert jwt.decode(token, key, algorithms=["HS256"])["exp"] > time.time()
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, key, algorithms=["HS256"])


# --------------------------------------------------------------------------- sleeping in replay


def test_a_sleep_returns_at_once_and_moves_the_frozen_clock() -> None:
    with clock.frozen_at(MOMENT):
        start_real = freezegun.api.real_perf_counter()  # freezegun fakes perf_counter: read the real one
        before, monotonic = time.time(), time.monotonic()
        time.sleep(30)
        slept_real = freezegun.api.real_perf_counter() - start_real
        assert 30 <= time.time() - before < 31
        assert 30 <= time.monotonic() - monotonic < 31
        assert dt.datetime.now() >= MOMENT + dt.timedelta(seconds=30)
    assert slept_real < 1
    assert time.sleep.__module__ == "time"  # the real one is back


def test_a_polling_loop_with_a_deadline_expires_where_it_did() -> None:
    """A poller giving up after 60 s of time.time(): recorded polls are replayed, then the same timeout."""
    with clock.frozen_at(MOMENT):
        deadline = time.time() + 60
        polls = 0
        while time.time() < deadline:
            polls += 1
            time.sleep(5)
    assert polls == 12


def test_asyncio_sleep_moves_the_clock_too() -> None:
    async def poll() -> float:
        start = time.time()
        await asyncio.sleep(45)
        return time.time() - start

    with clock.frozen_at(MOMENT):
        started = freezegun.api.real_perf_counter()
        assert 45 <= asyncio.run(poll()) < 46
        assert freezegun.api.real_perf_counter() - started < 1


def test_other_threads_and_skip_sleep_false_sleep_for_real() -> None:
    import threading

    slept: list[float] = []

    def worker() -> None:
        started = freezegun.api.real_perf_counter()
        time.sleep(0.2)
        slept.append(freezegun.api.real_perf_counter() - started)

    with clock.frozen_at(MOMENT):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert slept[0] >= 0.2
    with clock.frozen_at(MOMENT, skip_sleep=False):
        started = freezegun.api.real_perf_counter()
        time.sleep(0.2)
        assert freezegun.api.real_perf_counter() - started >= 0.2


def test_a_negative_sleep_is_refused_as_time_sleep_refuses_it() -> None:
    with clock.frozen_at(MOMENT), pytest.raises(ValueError, match="must be non-negative"):
        time.sleep(-1)


# --------------------------------------------------------------------------- what a freeze costs, and leaves


def test_between_freezes_the_clock_is_real_and_nothing_stays_replaced(planted: list[str]) -> None:
    """Per-test freezing: each freeze installs freezegun's fakes and its stop takes every one of them out again."""
    module = plant(planted, "cfreplay_test_app.between", now=time.time, today=dt.date)
    for _ in range(3):
        with clock.frozen_at(MOMENT):
            assert time.time() < 1.5e9 and module.now() < 1.5e9
            assert module.now is not freezegun.api.real_time
        assert time.time is freezegun.api.real_time and time.monotonic is freezegun.api.real_monotonic
        assert dt.datetime is freezegun.api.real_datetime and dt.date is freezegun.api.real_date
        assert module.now is freezegun.api.real_time and module.today is freezegun.api.real_date
        assert time.time() > 1.7e9 and dt.datetime.now().year > 2020
        assert not freezegun.api.freeze_factories and not freezegun.api.ignore_lists
        assert freezegun.api.real_datetime not in __import__("copyreg").dispatch_table


def test_a_freeze_looks_for_clock_copies_again_only_when_sys_modules_changed(
    planted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[int] = []
    real_now = clock._Walk.now

    def counting_now() -> Any:
        walks.append(1)
        return real_now()

    monkeypatch.setattr(clock._Walk, "now", staticmethod(counting_now))
    for _ in range(2):  # a process's first walk may import lazy modules (as freezegun's does): sys.modules changes
        with clock.frozen_at(MOMENT):
            pass
    walks.clear()
    with clock.frozen_at(MOMENT):
        pass
    assert walks == []  # nothing changed: the last search's copies are reused
    module = plant(planted, "cfreplay_test_app.walked", x=1)
    with clock.frozen_at(MOMENT):
        pass
    assert walks == [1]  # a new module
    setattr(module, "later", time.time)  # noqa: B010
    with clock.frozen_at(MOMENT):
        assert module.__dict__["later"]() < 1.5e9
    assert walks == [1, 1]  # a namespace grew
    plant(planted, "cfreplay_test_app.walked_last", x=1)  # so the next one is replaced where it stands
    sys.modules["cfreplay_test_app.walked"] = replacement = types.ModuleType("cfreplay_test_app.walked")
    replacement.__dict__["now"] = time.time  # same name, same place in sys.modules, another object
    with clock.frozen_at(MOMENT):
        assert replacement.__dict__["now"]() < 1.5e9
    assert walks == [1, 1, 1]


def test_stop_looks_at_modules_only_when_one_was_loaded_while_frozen(
    planted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    restored: list[set[str]] = []
    real_restore = clock._restore_loaded_since

    def counting(loaded: set[str], *args: Any) -> None:
        restored.append(loaded)
        real_restore(loaded, *args)

    monkeypatch.setattr(clock, "_restore_loaded_since", counting)
    with clock.frozen_at(MOMENT):
        pass
    assert restored == []
    with clock.frozen_at(MOMENT):
        # Imported while frozen, `from time import time` takes the fake: as with freezegun, stop() puts
        # the real function back in it.
        module = plant(planted, "cfreplay_test_app.imported_while_frozen", now=time.time, moment=dt.datetime)
        assert module.now is freezegun.api.fake_time and module.moment is freezegun.api.FakeDatetime
    assert restored == [{"cfreplay_test_app.imported_while_frozen"}]
    assert module.now is freezegun.api.real_time and module.moment is freezegun.api.real_datetime


@settings(max_examples=30, deadline=None)
@given(
    attributes=st.dictionaries(
        ATTRIBUTE_NAMES, st.sampled_from([*CLOCK_FUNCTIONS.values(), time.sleep, 1, "x"]), max_size=6
    ),
    loaded_while_frozen=st.booleans(),
)
def test_property_stop_leaves_what_freezeguns_stop_leaves(
    attributes: dict[str, Any], loaded_while_frozen: bool
) -> None:
    """cfreplay's stop() against freezegun's, for a module there before the freeze or loaded during it."""
    run = next(_EXAMPLES)
    left: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for name, freezer in (
        (f"cfreplay_test_stop.r{run}ours", clock._freeze(MOMENT)),
        (f"cfreplay_test_stop.r{run}theirs", freezegun_freeze(fresh=False)),
    ):
        try:
            if not loaded_while_frozen:
                sys.modules[name] = types.ModuleType(name)
                sys.modules[name].__dict__.update(attributes)
            freezer.start()
            try:
                if loaded_while_frozen:  # its copies are what a module imported now gets: the fakes
                    fakes = {id(real): fake for real, fake in clock._clock_pairs()}
                    sys.modules[name] = types.ModuleType(name)
                    sys.modules[name].__dict__.update({k: fakes.get(id(v), v) for k, v in attributes.items()})
            finally:
                freezer.stop()
            state = {k: v for k, v in sys.modules[name].__dict__.items() if not k.startswith("__")}
            clocks = {attr: getattr(time, attr) for attr in ("time", "monotonic", "perf_counter", "gmtime", "time_ns")}
            left.append((state, {**clocks, "datetime": dt.datetime, "date": dt.date}))
        finally:
            sys.modules.pop(name, None)
            clock._copies_cache.pop(name, None)
    assert left[0] == left[1]
    assert left[0][0] == attributes  # every fake taken out again


def test_a_freeze_left_open_until_the_interpreter_exits_says_nothing(tmp_path: Path) -> None:
    """A cassette entered and never left (a script, a REPL): exiting prints no 'Exception ignored'."""
    recorded = {
        "request": {"body": None, "headers": {}, "method": "GET", "uri": "https://api.example.com/v2/info"},
        "response": {"body": {"string": "{}"}, "headers": {}, "recorded_at": "2019-03-04T05:06:07Z",
                     "status": {"code": 200, "message": "OK"}},
    }  # fmt: skip
    (tmp_path / "info.yaml").write_bytes(cassette.dumps({"interactions": [recorded], "version": 1}, "yaml"))
    script = tmp_path / "left_open.py"
    script.write_text(
        "import datetime, cfreplay\n"
        "context = cfreplay.use_cassette(r'%s', record_mode='none')\n"
        "context.__enter__()\n"
        "import email.mime.text  # a module loaded while frozen: stopping would restore it\n"
        "print(datetime.datetime.now().year)\n" % (tmp_path / "info.yaml")
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2019\n"  # the clock was frozen at the recording
    assert done.stderr == ""


def test_blocks_left_out_of_order_give_the_real_sleeps_back() -> None:
    """Found probing: two frozen blocks left outer-first left time.sleep returning at once for the rest of the run."""
    real_sleep, real_async_sleep = time.sleep, asyncio.sleep
    first, second = clock.frozen_at(MOMENT), clock.frozen_at(MOMENT + dt.timedelta(days=1))
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert time.sleep is not real_sleep  # the block still open keeps its sleeps
    second.__exit__(None, None, None)
    assert time.sleep is real_sleep and asyncio.sleep is real_async_sleep
    started = time.monotonic()
    time.sleep(0.05)
    assert time.monotonic() - started >= 0.05  # a real sleep again


def test_a_sleep_in_another_thread_is_real_while_a_block_is_open() -> None:
    slept: list[float] = []

    def sleeper() -> None:
        started = time.perf_counter()
        time.sleep(0.05)
        slept.append(time.perf_counter() - started)

    with clock.frozen_at(MOMENT):
        thread = threading.Thread(target=sleeper)
        thread.start()
        thread.join()
    assert slept and slept[0] >= 0.05


def test_a_module_that_warns_when_read_freezes_under_warnings_as_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search for clock copies reads every module's attributes, as freezegun does: a name
    that warns when read (a deprecated alias) must not fail a suite run with ``-W error``."""
    import warnings

    module = types.ModuleType("cfreplay_test_warns_when_read")

    def module_getattr(name: str) -> Any:
        if name == "old_name":
            warnings.warn("old_name is deprecated", DeprecationWarning, stacklevel=2)
            return 1
        raise AttributeError(name)

    module.__getattr__ = module_getattr  # type: ignore[method-assign]
    module.__dir__ = lambda: ["old_name", "now"]  # type: ignore[method-assign]
    module.now = time.time  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    moment = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with clock.frozen_at(moment):
            assert abs(module.now() - moment.timestamp()) < 60  # the module's copy took the fake
        with clock.frozen_at(moment):  # and again, from the cache of copies
            assert abs(module.now() - moment.timestamp()) < 60
    assert module.now is time.time


_UNREADABLE = object()


def _read(module: Any, name: str) -> Any:
    try:
        return getattr(module, name)
    except (ImportError, AttributeError, TypeError):
        return _UNREADABLE


def _freezeguns_search(module: Any, real_ids: set[int]) -> tuple[tuple[str, Any], ...]:
    """freezegun's start(), as an oracle written apart from clock.py: getattr for every name dir() lists."""
    try:
        names = dir(module)
    except (ImportError, TypeError):
        return ()
    pairs = ((name, _read(module, name)) for name in names)
    return tuple((name, value) for name, value in pairs if value is not _UNREADABLE and id(value) in real_ids)


def test_every_loaded_module_is_searched_as_freezegun_searches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain modules are read through their namespace: the same copies as dir() and getattr find, in every module
    this test process holds; and a module with its own __dir__, or a ModuleType subclass, is read freezegun's way."""
    import warnings

    real_ids = clock._the_fakes().real_ids
    lazy = types.ModuleType("cfreplay_test_lazy_clock")
    lazy.__getattr__ = lambda name: time.monotonic if name == "lazy_clock" else None  # type: ignore[method-assign]
    lazy.__dir__ = lambda: ["lazy_clock"]  # type: ignore[method-assign]

    class Wrapped(types.ModuleType):  # a module's stand-in (lazy loaders, deprecation wrappers)
        @property
        def shown(self) -> Any:
            return time.time

        def __dir__(self) -> list[str]:
            return ["shown"]

    wrapped = Wrapped("cfreplay_test_wrapped_clock")
    plain = types.ModuleType("cfreplay_test_plain_clock")
    plain.tick, plain.today = time.perf_counter, dt.date  # type: ignore[attr-defined]
    for module in (lazy, wrapped, plain):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    assert clock._look_through(lazy, real_ids) == (("lazy_clock", time.monotonic),)
    assert clock._look_through(wrapped, real_ids) == (("shown", time.time),)
    assert clock._look_through(plain, real_ids) == (("tick", time.perf_counter), ("today", dt.date))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, module in list(sys.modules.items()):
            assert clock._look_through(module, real_ids) == _freezeguns_search(module, real_ids), name
