"""The layers of ../shared/STYLE.md, held by the imports themselves.

Every ``import`` and ``from … import`` in ``cfreplay/`` — at module level or inside a
function, where the lazy ones are — is read with ``ast`` and checked against the table
below: a module may import its own room's modules and the layers the table lists, and
nothing else of cfreplay.  A new module must be placed in the table to be imported at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cfreplay"

#: room -> the rooms it may import (its own room always may).  Read upwards: a room only
#: imports rooms drawn below it in STYLE.md's table.
ALLOWED: dict[str, frozenset[str]] = {
    "leaves": frozenset(),
    "cf": frozenset({"leaves"}),
    "cassette": frozenset({"leaves"}),
    "hygiene": frozenset({"cassette", "cf", "leaves"}),
    "serve": frozenset({"cassette", "cf", "leaves"}),
    "replay": frozenset({"hygiene", "cassette", "cf", "leaves"}),
    # shipped builds its scenarios/* by running the clients' flows against the simulator.
    "shipped": frozenset({"serve", "hygiene", "cassette", "cf", "leaves"}),
    "plugin": frozenset({"replay", "serve", "shipped", "hygiene", "cassette", "cf", "leaves"}),
    "commands": frozenset({"plugin", "replay", "serve", "shipped", "hygiene", "cassette", "cf", "leaves"}),
    # The package's face: re-exports names from every layer (lazily, see test_public_api).
    "facade": frozenset({"commands", "replay", "serve", "shipped", "hygiene", "cassette", "cf", "leaves"}),
}

#: Top-level modules and the room each belongs to; subpackages are rooms of their own.
TOP_LEVEL: dict[str, str] = {
    "cfreplay": "facade",
    "cfreplay.__main__": "commands",
    "cfreplay.errors": "leaves",
    "cfreplay.types": "leaves",
    "cfreplay.cassette": "cassette",
    "cfreplay.shipped": "shipped",
    "cfreplay.plugin": "plugin",
    # Public names of modules that live in a room (one object, two names).
    "cfreplay.factories": "cf",
    "cfreplay.tokens": "cf",
    "cfreplay.simulator": "serve",
}
SUBPACKAGES: frozenset[str] = frozenset({"cf", "hygiene", "replay", "serve", "commands"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str:
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in SUBPACKAGES:
        return parts[1]
    raise LookupError(f"{module} is in no room: add it to TOP_LEVEL or a subpackage")


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for each cfreplay module a file imports (``from cfreplay import x`` counts x)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "cfreplay"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cfreplay":
            if node.level:
                found.append((node.lineno, "<relative import>"))
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                # "from cfreplay.cf import factories" imports a module; "from cfreplay.cf.cfapi import X" a name.
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).exists()
                found.append((node.lineno, candidate if is_module else node.module))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_flow_down_the_layers(path: Path) -> None:
    module = module_name(path)
    room = room_of(module)
    wrong = []
    for line, target in imported(ast.parse(path.read_text(encoding="utf-8"))):
        if target == "<relative import>":
            wrong.append(f"line {line}: a relative import")
            continue
        if target == "cfreplay":
            if room != "facade":
                wrong.append(f"line {line}: imports the package itself (import the module you need)")
            continue
        other = room_of(target)
        if other != room and other not in ALLOWED[room]:
            wrong.append(f"line {line}: {room} ({module}) imports {other} ({target})")
    assert not wrong, "\n".join(wrong)


def test_every_module_has_a_room() -> None:
    for path in SOURCES:
        room_of(module_name(path))  # raises for a module nobody placed


def test_the_table_has_no_cycle() -> None:
    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in ALLOWED[start])

    assert not [room for room in ALLOWED if reaches(room, room)]


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: an upward and a sideways import, one of them lazy, are both named."""
    source = "from cfreplay.replay import recorder\n\ndef f():\n    from cfreplay.serve import simulator\n"
    targets = [room_of(target) for _, target in imported(ast.parse(source))]
    assert targets == ["replay", "serve"]
    assert "replay" not in ALLOWED["hygiene"] and "serve" not in ALLOWED["hygiene"]
