"""The public surface: a sorted __all__ that matches what is public, and a light import."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import cfreplay


def test_all_is_sorted_and_matches_the_public_names() -> None:
    assert cfreplay.__all__ == sorted(cfreplay.__all__, key=lambda n: (not n.isupper(), n))
    for name in cfreplay.__all__:  # lazily loaded modules appear once touched
        getattr(cfreplay, name)
    # Submodules become attributes once imported; only those exported on purpose count.
    public = {
        name
        for name, value in vars(cfreplay).items()
        if not name.startswith("_") and (not isinstance(value, ModuleType) or name in cfreplay.__all__)
    } - {"annotations", "importlib", "Any", "TYPE_CHECKING"}
    assert set(cfreplay.__all__) == public


def test_every_exported_name_exists() -> None:
    for name in cfreplay.__all__:
        assert getattr(cfreplay, name) is not None


def test_import_does_not_pull_pytest_or_the_cli() -> None:
    code = (
        "import sys, cfreplay; print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('pytest', '_pytest') or m == 'cfreplay.commands.cli'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_errors_form_one_family() -> None:
    for name in ("ApiVersionError", "SchemaError", "UnknownNameError"):
        assert issubclass(getattr(cfreplay, name), cfreplay.CfreplayError)
    assert issubclass(cfreplay.SchemaError, ValueError)
    assert issubclass(cfreplay.UnknownNameError, LookupError)


def test_the_plugin_loads_what_a_session_uses_and_no_more() -> None:
    """pytest loads the plugin in every session; vcrpy, Faker, jsonschema, PyJWT and the API model wait until needed.

    Replaying needs neither the API model (``cfapi``, whose import builds the catalog) nor the seeding.
    """
    code = (
        "import sys, cfreplay.plugin, cfreplay\n"
        "heavy = ('faker', 'jsonschema', 'vcr', 'cfreplay.cf.factories', 'cfreplay.replay.recorder',\n"
        "         'cfreplay.shipped', 'cfreplay.cf.cfapi', 'cfreplay.cf.seeding', 'jwt')\n"
        "loaded = lambda: print(sorted(m for m in heavy if m in sys.modules))\n"
        "loaded()\n"
        "cfreplay.use_cassette\n"
        "loaded()\n"
        "cfreplay.factories.app_envelope()\n"
        "loaded()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "[]",
        "['cfreplay.replay.recorder', 'vcr']",
        "['cfreplay.cf.cfapi', 'cfreplay.cf.factories', 'cfreplay.cf.seeding', 'cfreplay.replay.recorder', 'faker', "
        "'jsonschema', 'vcr']",
    ]


def _modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages(cfreplay.__path__, "cfreplay.") if info.name != "cfreplay.__main__"
    )


@pytest.mark.parametrize("name", _modules())
def test_every_module_says_what_it_offers(name: str) -> None:
    """Each module's ``__all__`` is sorted, names what exists, and holds every public function and class it defines.

    Anything else a module defines starts with ``_``: private to it.
    """
    module = importlib.import_module(name)
    offered = getattr(module, "__all__", None)
    assert offered is not None, f"{name} has no __all__"
    # Sorted as ruff's RUF022 sorts it: CONSTANTS, then Classes, then functions.
    order = sorted(offered, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))
    assert list(offered) == order, f"{name}.__all__ is not sorted"
    assert [n for n in offered if not hasattr(module, n)] == []
    defined_here = [
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]
    assert sorted(set(defined_here) - set(offered)) == [], f"{name}: public but not in __all__ (or make it _private)"


@pytest.mark.parametrize(("public", "home"), [
    ("cfreplay.factories", "cfreplay.cf.factories"),
    ("cfreplay.tokens", "cfreplay.cf.tokens"),
    ("cfreplay.simulator", "cfreplay.serve.simulator"),
])  # fmt: skip
def test_public_module_names_are_the_modules_themselves(public: str, home: str) -> None:
    """``cfreplay.factories`` is ``cfreplay.cf.factories``: one object, so a monkeypatch through either holds."""
    code = (
        f"import importlib, {public} as a, {home} as b, cfreplay\n"
        f"print(a is b, getattr(cfreplay, {public.split('.')[1]!r}) is b)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True"]
