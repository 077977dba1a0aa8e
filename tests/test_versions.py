"""The version ranges pyproject.toml promises, and the lowest ones .ci/run tests."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)>=(?P<low>[0-9.]+),<(?P<high>[0-9.]+)$")


def dependencies() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])


def lowest() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    return pins


def test_every_dependency_has_a_tested_range() -> None:
    """Each runtime dependency is `name>=low,<high`: an open end is a promise nobody tested."""
    assert [d for d in dependencies() if REQUIREMENT.match(d) is None] == []


def test_the_lowest_run_installs_exactly_the_lower_bounds() -> None:
    pins = lowest()
    bounds = {m["name"].lower(): m["low"] for m in map(REQUIREMENT.match, dependencies()) if m is not None}
    assert sorted(pins) == sorted(bounds), "constraints-lowest.txt must pin every dependency"
    for name, low in bounds.items():
        padded = ".".join([*low.split("."), "0", "0"][:3])
        assert pins[name] in (low, padded), f"{name}: lowest run pins {pins[name]}, pyproject allows {low}"


def test_the_readme_states_the_tested_ranges() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for requirement in dependencies():
        found = REQUIREMENT.match(requirement)
        assert found is not None
        row = f"| {found['name']} | {found['low']} | {found['high']} |"
        assert row in readme, f"README.md's table of tested versions lacks {row}"
