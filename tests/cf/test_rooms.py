"""The v2 model and the factories live in rooms with one job each; ``cfapi`` and ``factories`` name them all."""

from __future__ import annotations

import importlib

import pytest

from cfreplay.cf import cfapi, factories

KNOWLEDGE = ("_versions", "_catalog", "_paging", "_uaa")
#: The tables' shorthand for dating a fact (``v2(43)`` is 2.43.0); not part of the model.
KNOWLEDGE_HELPERS = {"v2"}
FACTORY_ROOMS = ("_apps", "_responses", "_login")
#: Helpers one factory room lends another; not factories themselves.
FACTORY_HELPERS = {"apply_overrides", "draw_access_token"}


@pytest.mark.parametrize("room", KNOWLEDGE)
def test_cfapi_names_everything_its_rooms_hold(room: str) -> None:
    module = importlib.import_module(f"cfreplay.cf.{room}")
    for name in set(module.__all__) - KNOWLEDGE_HELPERS:
        assert name in cfapi.__all__, f"cfapi does not re-export {room}.{name}"
        assert getattr(cfapi, name) is getattr(module, name)


def test_factories_exposes_every_factory_of_its_rooms() -> None:
    offered: set[str] = set()
    for room in FACTORY_ROOMS:
        module = importlib.import_module(f"cfreplay.cf.{room}")
        offered |= set(module.__all__) - FACTORY_HELPERS
        for name in set(module.__all__) - FACTORY_HELPERS:
            assert getattr(factories, name) is getattr(module, name)
    assert set(factories.__all__) == offered | {"DEFAULT_SYSTEM_DOMAIN"}


def test_what_counts_as_a_secret_is_not_spelled_here() -> None:
    """The rule table (cfreplay.hygiene.rules) is the one definition of a secret: the model holds none."""
    assert [name for name in cfapi.__all__ if "SECRET" in name or "secret" in name] == []
