"""The pytest plugin (registered through the ``pytest11`` entry point).

A marked test runs inside its cassette::

    @pytest.mark.cfreplay
    def test_restage(): ...                         # tests/cassettes/<module>/test_restage.yaml

    @pytest.mark.cfreplay("cfreplay:restage/201")   # a cassette shipped with cfreplay
    def test_restage_shipped(): ...

    @pytest.mark.cfreplay("mine.yaml", "shared/login")  # records into mine.yaml, replays from both
    def test_two(): ...

Settings come from three places; the first that sets one wins:

1. the command line: ``--cfreplay-record-mode``, ``--cfreplay-allow-hosts``,
   ``--cfreplay-assert-all-played``;
2. the marker: ``@pytest.mark.cfreplay(name, record_mode=..., freeze_time=..., ...)``;
3. the ``cfreplay_config`` fixture, overridable per directory in a ``conftest.py``.

The marker and ``cfreplay_config`` take the keywords ``use_cassette`` takes
(:mod:`cfreplay.replay.options`); a keyword they do not know, or a value of the wrong
type, fails the test with one line naming the test and the keyword.

The default is the safe one: replay only (``record_mode="none"``), network
blocked, clock frozen at the recording instant.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import re
import weakref
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, Final, NoReturn

import pytest

from cfreplay.errors import OptionError
from cfreplay.replay import options as cassette_options
from cfreplay.types import RECORD_MODES

if TYPE_CHECKING:
    from cfreplay.replay.recorder import ActiveCassette
    from cfreplay.serve.simulator import Simulator

__all__ = [
    "SIMULATED_AT",
    "SIMULATOR_UAA_URL",
    "SIMULATOR_URL",
    "SimulatedTarget",
    "cfreplay_cassette",
    "cfreplay_cassette_dir",
    "cfreplay_config",
    "cfreplay_simulator",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_setup",
]

MARKER: Final = (
    "cfreplay(*cassette_names, record_mode=None, freeze_time=True, skip_sleep=True, allow_hosts=(), "
    "assert_all_played=False, "
    "match_on=None, allow_playback_repeats=False, serializer=None): run the test inside a sanitized cassette "
    "(replay only by default); the first name is recorded into, every one is replayed from"
)
#: Names of cassettes shipped with cfreplay start with this (``cfreplay.shipped.PREFIX``).
SHIPPED_PREFIX: Final = "cfreplay:"
_MAX_NAME: Final = 100
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.-]+")
# A cassette name that is already a portable file name without a suffix (the common case).
# (No dot, no leading or trailing underscore: _safe_name would keep it as it is.)
_PLAIN_NAME: Final = re.compile(rf"[A-Za-z0-9-](?:[A-Za-z0-9_-]{{0,{_MAX_NAME - 2}}}[A-Za-z0-9-])?")
# What the marker and cfreplay_config take: use_cassette's keywords, less the extra cassettes
# (the marker's other names).
_ACCEPTED: Final = tuple(name for name in (*cassette_options.OWN, *cassette_options.VCRPY) if name != "extra_cassettes")
# A cassette name ending in one of these keeps it, and it says the format.
_SUFFIXES: Final = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
# The cassette of a test that asked for assert_all_played, checked when the test has passed.
_ALL_PLAYED_KEY: Final = pytest.StashKey["ActiveCassette"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cfreplay", "cfreplay: sanitized Cloud Foundry cassettes")
    group.addoption(
        "--cfreplay-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="record mode for every cfreplay cassette (default: none, replay only; beats markers and config)",
    )
    group.addoption(
        "--cfreplay-allow-hosts",
        default=None,
        metavar="HOST[,HOST…]",
        help="hosts whose traffic goes to the network, never to a cassette, also while replaying "
        "(e.g. 127.0.0.1 for a local server)",
    )
    group.addoption(
        "--cfreplay-assert-all-played",
        action="store_true",
        default=None,
        help="fail a passing test whose replay left recorded interactions unplayed (beats markers and config)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.addinivalue_line("markers", SIMULATOR_MARKER)
    _import_without_rewriting(config.pluginmanager)


def _import_without_rewriting(plugins: pytest.PytestPluginManager) -> None:
    """cfreplay's modules imported from here on load as any library's, not through pytest's assertion rewriter.

    pytest marks every package of a distribution that registers a plugin for assertion
    rewriting, so that a plugin's assertion helpers report like a test's.  cfreplay has no
    assertion helpers: its ``assert`` statements only narrow types.  Loaded through the
    rewriter, each module pays pytest's own finder, cache directory check and ``.pyc``
    reader, written in Python: 100 M instructions, a sixth of what a process paid once for
    its first replayed cassette.  The rewriter keeps the marks in ``_must_rewrite`` (a set
    of names) and its answers in ``_marked_for_rewrite_cache``, in every pytest cfreplay
    supports; anything else found there is left alone.  (A conftest that registers
    ``cfreplay`` for rewriting itself is undone too: there is nothing in it to rewrite.)
    """
    hook = getattr(plugins, "rewrite_hook", None)
    marked, answers = getattr(hook, "_must_rewrite", None), getattr(hook, "_marked_for_rewrite_cache", None)
    if not isinstance(marked, set) or not isinstance(answers, dict) or _PACKAGE not in marked:
        return
    marked.discard(_PACKAGE)
    for name in [name for name in answers if name == _PACKAGE or name.startswith(_PACKAGE + ".")]:
        del answers[name]


_PACKAGE: Final = __name__.partition(".")[0]


@pytest.fixture(scope="module")
def cfreplay_config() -> dict[str, Any]:
    """Defaults for every cassette below this point; override in a ``conftest.py``.

    Module-scoped, as pytest-recording's ``vcr_config``: built once per test module, not
    once per test.  An override may have any scope (a function-scoped one sees the test).

    Keys: ``record_mode``, ``freeze_time``, ``allow_hosts``, ``assert_all_played``,
    ``serializer`` (``"yaml"``, the default, or ``"json"``: ``<test>.json`` cassettes,
    which load several times faster), ``sanitizer``, ``sanitize_config`` and the vcrpy
    options cfreplay passes on (``match_on``, ``allow_playback_repeats``…: see
    :data:`cfreplay.replay.options.VCRPY`).  Any other key fails the test.
    """
    return {}


@pytest.fixture(scope="module")
def cfreplay_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test's cassettes live: ``<test dir>/cassettes/<module>`` (module-scoped; an override may be narrower)."""
    module = request.node.path.stem if request.node.path is not None else "tests"
    return Path(request.node.path).parent / "cassettes" / module


def _safe_name(name: str) -> str:
    """A portable file name from a test id.

    Only ASCII letters, digits, ``_``, ``.`` and ``-`` survive (so the name fits any
    file system in bytes, not just characters).  When anything had to be folded or
    cut, a hash of the original id is appended, so ``test[a/b]`` and ``test[a b]``
    never share a cassette.
    """
    safe = _UNSAFE.sub("_", name).strip("._") or "cassette"
    if safe == name and len(safe) <= _MAX_NAME:
        return safe
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{safe[: _MAX_NAME - 13]}-{digest}"


def _test_name(request: pytest.FixtureRequest) -> str:
    """``Class.test[param]`` for methods, so same-named tests in two classes differ."""
    cls = request.node.cls
    return f"{cls.__name__}.{request.node.name}" if cls is not None else str(request.node.name)


# Whether a test function names ``vcr`` among its parameters, per function (parametrized tests share one).
_ASKS_FOR_VCR: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _asks_for_vcr(function: Any) -> bool:
    try:
        return _ASKS_FOR_VCR[function]
    except (KeyError, TypeError):  # TypeError: not weakly referenceable
        pass
    asks = "vcr" in inspect.signature(function).parameters
    with contextlib.suppress(TypeError):
        _ASKS_FOR_VCR[function] = asks
    return asks


def _refuse_double_patching(request: pytest.FixtureRequest) -> None:
    # pytest-recording's ``vcr`` fixture is autouse, so it is in every test's fixture
    # names; only the marker, or the test asking for ``vcr`` itself, activates it.
    # A test that names ``vcr`` has it among its fixtures: without it, no signature to read.
    if request.node.get_closest_marker("vcr") is not None or (
        "vcr" in request.fixturenames and _asks_for_vcr(request.function)
    ):
        pytest.fail(
            f"{request.node.nodeid} uses cfreplay and also pytest-recording/pytest-vcr (the 'vcr' marker or "
            "fixture): both would patch the HTTP clients and the cassettes would fight. Keep one: drop "
            "@pytest.mark.vcr, or drop @pytest.mark.cfreplay and the cfreplay_cassette fixture.",
            pytrace=False,
        )


def _fail(request: pytest.FixtureRequest, message: str) -> NoReturn:
    """Fail the test with one line that names it."""
    pytest.fail(f"{request.node.nodeid}: {message}", pytrace=False)


def _directory(request: pytest.FixtureRequest, directory: Any) -> Path:
    """What a ``cfreplay_cassette_dir`` override returned, as a Path: a str as well (pytest-recording's
    ``vcr_cassette_dir`` returns one, and overrides move across as they are)."""
    if isinstance(directory, (str, os.PathLike)):
        with contextlib.suppress(TypeError):  # a PathLike of bytes
            return Path(directory)
    kind = type(directory).__name__
    _fail(request, f"cfreplay_cassette_dir must return a path (a str or a pathlib.Path), not {kind}")


def _settings(request: pytest.FixtureRequest, config: Any) -> tuple[list[str | None], dict[str, Any]]:
    """Cassette names (None: the test's own) and settings: command line, then marker, then the config fixture."""
    if not isinstance(config, Mapping):
        _fail(request, f"cfreplay_config must return a dict, not {type(config).__name__}")
    try:
        cassette_options.check(config, where="cfreplay_config", accepted=_ACCEPTED)
    except OptionError as error:
        _fail(request, str(error))
    settings: dict[str, Any] = dict(config)
    names: list[str | None] = [None]
    marker = request.node.get_closest_marker("cfreplay")
    if marker is not None:
        where = "@pytest.mark.cfreplay"
        keywords = dict(marker.kwargs)
        given = list(marker.args)
        if "cassette_name" in keywords:
            if given:
                _fail(request, f"{where}: name the cassette once, as its first argument or as cassette_name=")
            given = [keywords.pop("cassette_name")]
        try:
            cassette_options.check(keywords, where=where, accepted=(*_ACCEPTED, "cassette_name"))
        except OptionError as error:
            _fail(request, str(error))
        for position, name in enumerate(given):
            if not isinstance(name, str) and not (name is None and position == 0):
                _fail(request, f"{where}: cassette names are strings, not {type(name).__name__} ({name!r})")
        names = given or [None]
        settings.update({k: v for k, v in keywords.items() if v is not None})
    option = request.config.option
    if option.cfreplay_record_mode is not None:
        settings["record_mode"] = option.cfreplay_record_mode
    if option.cfreplay_allow_hosts:
        try:
            given_hosts = option.cfreplay_allow_hosts
            settings["allow_hosts"] = cassette_options.hosts(given_hosts, where="--cfreplay-allow-hosts")
        except OptionError as error:
            _fail(request, str(error))
    if option.cfreplay_assert_all_played:
        settings["assert_all_played"] = True
    return names, settings


def _cassette_path(request: pytest.FixtureRequest, name: str | None, directory: Path, serializer: Any) -> Path:
    """Where the cassette *name* lives: shipped, ``<directory>/<name>`` as given, or the test's own.

    A name keeps a ``.yaml``, ``.yml`` or ``.json`` suffix (else it gets the serializer's);
    ``/`` makes folders below *directory*, never above it.  A part that is not a portable
    file name is folded as test names are.
    """
    if name is None:
        return directory / f"{_safe_name(_test_name(request))}{'.json' if serializer == 'json' else '.yaml'}"
    if _PLAIN_NAME.fullmatch(name):  # what _named_path would make of it, without parsing it as a path
        return directory / f"{name}{'.json' if serializer == 'json' else '.yaml'}"
    return _named_path(request, name, directory, serializer)


def _named_path(request: pytest.FixtureRequest, name: str, directory: Path, serializer: Any) -> Path:
    """:func:`_cassette_path` for a cassette *name*, whatever it holds."""
    if name.startswith(SHIPPED_PREFIX):
        from cfreplay import shipped  # builds with the factories: imported only when a test asks

        return shipped.path(name)
    windows = PureWindowsPath(name)
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or windows.drive or windows.root or ".." in parts or not parts:
        _fail(
            request,
            f"@pytest.mark.cfreplay: the cassette name {name!r} must stay inside the cassette directory "
            f"({directory}): no absolute path, no '..'",
        )
    *folders, last = parts
    suffix = PurePosixPath(last).suffix
    if suffix.lower() in _SUFFIXES:
        last = last[: -len(suffix)]
    else:
        suffix = ".json" if serializer == "json" else ".yaml"
    return directory.joinpath(*(_safe_name(folder) for folder in folders), f"{_safe_name(last)}{suffix}")


@pytest.fixture
def cfreplay_cassette(
    request: pytest.FixtureRequest, cfreplay_config: dict[str, Any], cfreplay_cassette_dir: Path
) -> Iterator[ActiveCassette]:
    """The cassette the test runs in; requesting it activates one for unmarked tests too."""
    _refuse_double_patching(request)
    names, settings = _settings(request, cfreplay_config)
    directory = _directory(request, cfreplay_cassette_dir)
    path, *extras = (_cassette_path(request, name, directory, settings.get("serializer")) for name in names)
    if names[0] is not None and names[0].startswith(SHIPPED_PREFIX):
        settings["record_mode"] = "none"  # shipped cassettes are never re-recorded
    elif names[0] is not None and path.suffix.lower() in _SUFFIXES:
        settings["serializer"] = _SUFFIXES[path.suffix.lower()]  # the name says the format
    if extras:
        settings["extra_cassettes"] = extras
    # Checked once the test has passed (pytest_runtest_call), never on top of a failure.
    check_all_played = settings.pop("assert_all_played", False)
    settings.setdefault("sanitize_config", _project_config(request.config))
    try:
        # recorded against the simulator if the test asks for it
        with _cassette(request, path, settings) as active:
            if check_all_played:
                request.node.stash[_ALL_PLAYED_KEY] = active
            try:
                yield active
            finally:
                with contextlib.suppress(KeyError):
                    del request.node.stash[_ALL_PLAYED_KEY]
    except OptionError as error:  # a value the marker or config got wrong (record_mode='sometimes')
        _fail(request, str(error))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """With ``assert_all_played``, a test that passed fails if its replay left recordings unplayed."""
    __tracebackhide__ = True  # the report is the message: no frames of cfreplay's
    result = yield  # raises if the test failed: then it already says what went wrong
    active = item.stash.get(_ALL_PLAYED_KEY, None)
    if active is not None:
        active.assert_all_played()
    return result


_CONFIG_KEY: Final = pytest.StashKey[Any]()


def _project_config(config: pytest.Config) -> Any:
    """The ``[tool.cfreplay.sanitize]`` of the pyproject.toml at (or above) pytest's rootdir, read once."""
    known = config.stash.get(_CONFIG_KEY, None)
    if known is None:
        from cfreplay.hygiene.rules import SanitizeConfig

        known = config.stash[_CONFIG_KEY] = SanitizeConfig.from_pyproject(config.rootpath)
    return known


@pytest.fixture(autouse=True)
def _cfreplay_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("cfreplay") is not None:
        request.getfixturevalue("cfreplay_cassette")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked by now asks for ``cfreplay_cassette`` where ``_cfreplay_marker`` stood.

    The cassette opens at the same point of the setup as the autouse fixture would
    open it (through ``request.getfixturevalue``), without that extra fixture and
    lookup.  A test marked later (a fixture applying the marker) still has the
    autouse fixture, which looks for the marker when it runs.  The list is the
    item's own copy: parametrized tests share the one pytest computed.
    """
    names = getattr(item, "fixturenames", None)
    if not isinstance(names, list) or "_cfreplay_marker" not in names or item.get_closest_marker("cfreplay") is None:
        return
    position = names.index("_cfreplay_marker")
    before, after = names[:position], [name for name in names[position + 1 :] if name != "cfreplay_cassette"]
    here = [] if "cfreplay_cassette" in before else ["cfreplay_cassette"]  # asked for earlier: opens there
    item.fixturenames = [*before, *here, *after]  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- the simulator fixture

#: Where ``cfreplay_simulator``'s Cloud Controller answers: a name that never resolves (RFC 6761),
#: routed to the simulator inside the process while a test records, so no cassette holds a port.
SIMULATOR_URL: Final = "http://api.cfreplay.invalid"
#: Where its UAA answers (``/v2/info``'s token and authorization endpoints); routed the same way.
SIMULATOR_UAA_URL: Final = "http://uaa.cfreplay.invalid"
#: The instant every recording against the simulator happens at (the clock stands still there,
#: sleeps excepted), so it dates every such cassette and replay freezes there too.
SIMULATED_AT: Final = datetime(2025, 1, 1, tzinfo=UTC)
SIMULATOR_MARKER: Final = (
    "cfreplay_simulator(*, seed=0, api_version=None, token_lifetime=None, polls_to_stage=None): the world of the "
    "simulator the cfreplay_simulator fixture records against (changing it means recording again)"
)
_SIMULATOR_OPTIONS: Final = ("seed", "api_version", "token_lifetime", "polls_to_stage")
_SIMULATOR_KEY: Final = pytest.StashKey["SimulatedTarget"]()
# Placeholders in simulator recordings come from a fixed key, so they repeat from run to run:
# what they stand for (the simulator's seeded tokens and cookies) is no secret.
_SIMULATOR_SANITIZE_KEY: Final = hashlib.sha256(b"cfreplay: the simulator's recordings").digest()
_simulator_sanitizers: dict[Any, Any] = {}


@dataclass(frozen=True)
class SimulatedTarget:
    """What ``cfreplay_simulator`` gives a test: where to point a client, whom to log in as, and the simulator.

    ``url`` and ``uaa_url`` are :data:`SIMULATOR_URL` and :data:`SIMULATOR_UAA_URL`
    in both modes.  ``simulator`` is the :class:`cfreplay.simulator.Simulator` built
    from ``seed`` in both modes too (its apps, guids and password are the same), but
    it is served only while the test records (``served``); in replay it answers
    nothing, so what it counts (``requests``) stays empty there and what you do to
    it (``expire_tokens()``) changes nothing the cassette does not already hold.
    """

    url: str
    uaa_url: str
    username: str
    password: str
    seed: int | str
    simulator: Simulator
    served: bool


@pytest.fixture
def cfreplay_simulator(request: pytest.FixtureRequest, cfreplay_cassette: ActiveCassette) -> SimulatedTarget:
    """The embedded CC v2 + UAA simulator, recorded into the test's cassette; replayed without it.

    While the cassette records, the simulator serves at ``SimulatedTarget.url``
    (its names are routed to it inside this process), with its randomness drawn
    from the seed and the clock stopped at :data:`SIMULATED_AT`: the same test
    records byte-identical cassettes.  While it replays, nothing is started and
    vcrpy answers.  The test's code is the same in both modes.  The seed is 0,
    or ``@pytest.mark.cfreplay_simulator(seed=…)`` on the test, class or module.
    """
    target: SimulatedTarget | None = request.node.stash.get(_SIMULATOR_KEY, None)
    if target is None:
        pytest.fail(
            "cfreplay_simulator must be named as an argument of the test or of a fixture it uses, not reached "
            "through request.getfixturevalue(): the cassette has to know about it before it opens.",
            pytrace=False,
        )
    return target


def _simulator_options(request: pytest.FixtureRequest) -> tuple[int | str, dict[str, Any]]:
    """The seed and the other simulator options of the closest ``cfreplay_simulator`` marker."""
    marker = request.node.get_closest_marker("cfreplay_simulator")
    if marker is None:
        return 0, {}
    unknown = sorted(set(marker.kwargs) - set(_SIMULATOR_OPTIONS))
    if marker.args or unknown:
        what = f"does not take {', '.join(unknown)}" if unknown else "takes keywords only"
        pytest.fail(f"@pytest.mark.cfreplay_simulator {what}: {SIMULATOR_MARKER}", pytrace=False)
    options = dict(marker.kwargs)
    seed = options.pop("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        pytest.fail(f"@pytest.mark.cfreplay_simulator: seed must be an int or a str, not {seed!r}", pytrace=False)
    return seed, options


def _simulator_sanitizer(config: Any) -> Any:
    """The sanitizer of simulator recordings: the project's rules, placeholders from a fixed key."""
    known = _simulator_sanitizers.get(config)
    if known is None:
        from cfreplay.hygiene.sanitizer import Sanitizer

        known = _simulator_sanitizers[config] = Sanitizer(config, key=_SIMULATOR_SANITIZE_KEY)
    return known


def _cassette(
    request: pytest.FixtureRequest, path: Path, settings: dict[str, Any]
) -> contextlib.AbstractContextManager[ActiveCassette]:
    """The test's cassette; for a test that uses ``cfreplay_simulator``, recorded against the simulator."""
    from cfreplay.replay.recorder import use_cassette  # vcrpy and the sanitizer load with the first cassette

    if "cfreplay_simulator" not in request.fixturenames:
        return use_cassette(path, **settings)  # itself: no generator around it, every test enters one
    return _simulated_cassette(request, path, settings)


@contextlib.contextmanager
def _simulated_cassette(
    request: pytest.FixtureRequest, path: Path, settings: dict[str, Any]
) -> Iterator[ActiveCassette]:
    """The cassette of a test that uses ``cfreplay_simulator``: recorded against the simulator, replayed without it."""
    from cfreplay.replay.recorder import use_cassette

    seed, options = _simulator_options(request)
    settings.setdefault("sanitizer", _simulator_sanitizer(settings.get("sanitize_config")))
    from cfreplay.replay import clock
    from cfreplay.serve import simulator

    world: dict[str, Any] = dict(seed=seed, now=SIMULATED_AT, repeatable=True, **options)
    # Entered after the cassette and left after it, so the cassette is written under the frozen clock.
    with contextlib.ExitStack() as outlasting, use_cassette(path, **settings) as active:
        if active.offline:
            built = simulator.Simulator(base_url=SIMULATOR_URL, uaa_url=SIMULATOR_UAA_URL, **world)
        else:
            # Stopped, not ticking: what a test does between two requests cannot change a byte. Sleeps
            # move it on as they do in replay (unless skip_sleep=False), so deadlines still pass.
            skip_sleep = bool(settings.get("skip_sleep", True))
            outlasting.enter_context(clock.frozen_at(SIMULATED_AT, tick=False, skip_sleep=skip_sleep))
            running = outlasting.enter_context(simulator.run(url=SIMULATOR_URL, uaa_url=SIMULATOR_UAA_URL, **world))
            built = running.simulator
        request.node.stash[_SIMULATOR_KEY] = SimulatedTarget(
            url=SIMULATOR_URL,
            uaa_url=SIMULATOR_UAA_URL,
            username=built.username,
            password=built.password,
            seed=seed,
            simulator=built,
            served=not active.offline,
        )
        yield active
