"""The pytest plugin (registered through the ``pytest11`` entry point).

A marked test runs inside its cassette::

    @pytest.mark.cfreplay
    def test_restage(): ...                         # tests/cassettes/<module>/test_restage.yaml

    @pytest.mark.cfreplay("cfreplay:restage/201")   # a cassette shipped with cfreplay
    def test_restage_shipped(): ...

Settings come from three places; the first that sets one wins:

1. the command line: ``--cfreplay-record-mode``, ``--cfreplay-allow-hosts``;
2. the marker: ``@pytest.mark.cfreplay(name, record_mode=..., freeze_time=..., ...)``;
3. the ``cfreplay_config`` fixture, overridable per directory in a ``conftest.py``.

The default is the safe one: replay only (``record_mode="none"``), network
blocked, clock frozen at the recording instant.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from cfreplay.types import RECORD_MODES

if TYPE_CHECKING:
    from cfreplay.replay.recorder import ActiveCassette

__all__ = [
    "cfreplay_cassette",
    "cfreplay_cassette_dir",
    "cfreplay_config",
    "pytest_addoption",
    "pytest_configure",
]

MARKER: Final = (
    "cfreplay(cassette_name=None, *, record_mode=None, freeze_time=True, allow_hosts=(), match_on=None, "
    "allow_playback_repeats=False): run the test inside a sanitized cassette (replay only by default)"
)
#: Names of cassettes shipped with cfreplay start with this (``cfreplay.shipped.PREFIX``).
SHIPPED_PREFIX: Final = "cfreplay:"
_MAX_NAME: Final = 100
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.-]+")
# Settings the marker and the config fixture may carry; everything else goes to vcrpy.
_OWN_SETTINGS: Final = ("record_mode", "freeze_time", "allow_hosts")


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
        help="hosts replaying tests may still connect to, e.g. 127.0.0.1 for a local server",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture
def cfreplay_config() -> dict[str, Any]:
    """Defaults for every cassette below this point; override in a ``conftest.py``.

    Keys: ``record_mode``, ``freeze_time``, ``allow_hosts``, ``serializer``
    (``"yaml"``, the default, or ``"json"``: ``<test>.json`` cassettes, which load
    several times faster) and any vcrpy option (``match_on``,
    ``allow_playback_repeats``…).
    """
    return {}


@pytest.fixture
def cfreplay_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test's cassettes live: ``<test dir>/cassettes/<module>``."""
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


def _refuse_double_patching(request: pytest.FixtureRequest) -> None:
    # pytest-recording's ``vcr`` fixture is autouse, so it is in every test's fixture
    # names; only the marker, or the test asking for ``vcr`` itself, activates it.
    asks_for_vcr = "vcr" in inspect.signature(request.function).parameters
    if request.node.get_closest_marker("vcr") is not None or asks_for_vcr:
        pytest.fail(
            f"{request.node.nodeid} uses cfreplay and also pytest-recording/pytest-vcr (the 'vcr' marker or "
            "fixture): both would patch the HTTP clients and the cassettes would fight. Keep one: drop "
            "@pytest.mark.vcr, or drop @pytest.mark.cfreplay and the cfreplay_cassette fixture.",
            pytrace=False,
        )


def _settings(request: pytest.FixtureRequest, config: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Cassette name and settings: command line, then marker, then the config fixture."""
    marker = request.node.get_closest_marker("cfreplay")
    settings: dict[str, Any] = dict(config)
    name: str | None = None
    if marker is not None:
        if len(marker.args) > 1:
            pytest.fail(f"@pytest.mark.cfreplay takes one positional argument, the cassette name: {MARKER}")
        name = marker.kwargs.get("cassette_name", marker.args[0] if marker.args else None)
        settings.update({k: v for k, v in marker.kwargs.items() if k != "cassette_name" and v is not None})
    options = request.config.option
    if options.cfreplay_record_mode is not None:
        settings["record_mode"] = options.cfreplay_record_mode
    if options.cfreplay_allow_hosts:
        settings["allow_hosts"] = tuple(h.strip() for h in options.cfreplay_allow_hosts.split(",") if h.strip())
    return name, settings


@pytest.fixture
def cfreplay_cassette(
    request: pytest.FixtureRequest, cfreplay_config: dict[str, Any], cfreplay_cassette_dir: Path
) -> Iterator[ActiveCassette]:
    """The cassette the test runs in; requesting it activates one for unmarked tests too."""
    _refuse_double_patching(request)
    name, settings = _settings(request, cfreplay_config)
    if name is not None and name.startswith(SHIPPED_PREFIX):
        from cfreplay import shipped  # builds with the factories: imported only when a test asks

        path = shipped.path(name)
        settings["record_mode"] = "none"  # shipped cassettes are never re-recorded
    else:
        suffix = ".json" if settings.get("serializer") == "json" else ".yaml"
        path = cfreplay_cassette_dir / f"{_safe_name(name or _test_name(request))}{suffix}"
    from cfreplay.replay.recorder import use_cassette  # vcrpy and the sanitizer load with the first cassette

    settings.setdefault("sanitize_config", _project_config(request.config))
    with use_cassette(path, **settings) as active:
        yield active


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
