"""YAML aliases: a string shared by several places is replaced in every one of them.

A YAML alias (``*name``) loads as the very object its anchor holds, so one string can
stand in several places of a cassette.  The walk replaces a secret where it meets it;
:func:`follow_aliases` then replaces each other place the same object stood, by the
same rule, so no copy survives.  JSON and vcrpy's YAML never share a string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from cfreplay.hygiene._walker import Note

if TYPE_CHECKING:
    from cfreplay.hygiene.sanitizer import Change

__all__ = ["Shared", "follow_aliases", "shared_strings"]

#: Where a string sits: (the keys from the cassette's root to it, interaction index, location).
_Position = tuple[tuple[Any, ...], int | None, str]
#: id of a shared string -> (the string, every place it sits).
Shared = dict[int, tuple[str, list[_Position]]]

_SIDES: Final = ("request", "response")


def shared_strings(data: dict[str, Any]) -> Shared:
    """Strings that are one object in several places: what a YAML alias (``*name``) loads to.

    A value a rule replaces in one place must not survive where an alias copied it: the
    sanitizer replaces it there too (see :func:`follow_aliases`).  JSON and vcrpy's YAML
    never share a string, so this is empty for them.
    """
    seen: Shared = {}
    stack: list[tuple[Any, tuple[Any, ...], int | None, str]] = []
    for key, value in data.items():
        if key == "interactions" and isinstance(value, list):
            stack.extend((item, (key, index), index, "") for index, item in enumerate(value))
        elif key != "version":
            stack.append(({key: value}, (), None, ""))
    while stack:
        node, path, index, location = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for child, value in items:
            if isinstance(value, str):
                if len(value) >= 8:
                    entry = seen.setdefault(id(value), (value, []))
                    entry[1].append(((*path, child), index, location or str(child)))
            elif isinstance(value, (dict, list)):
                stack.append((value, (*path, child), index, _alias_location(location, child, node)))
    return {ident: entry for ident, entry in seen.items() if len(entry[1]) > 1}


def _alias_location(location: str, key: Any, node: Any) -> str:
    """The sanitizer's location for a child (``response.headers.X-Api-Key``, ``response.body``, ``metadata``)."""
    if not isinstance(node, dict):
        return location
    parts = location.split(".") if location else []
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] != "headers") or (parts and parts[0] not in _SIDES):
        return location  # deeper than the sanitizer names
    return f"{location}.{key}" if location else str(key)


def _resolve(data: Any, path: tuple[Any, ...]) -> tuple[Any, Any] | None:
    """The container and key at *path* now (the sanitizer may have replaced containers on the way)."""
    node = data
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return (node, path[-1]) if isinstance(node, (dict, list)) else None


def follow_aliases(
    data: dict[str, Any], shared: Shared, changes: Sequence[Change], noter: Callable[[int | None], Note]
) -> None:
    """Replace every alias of a string a rule replaced somewhere, as that rule did.

    *changes* is the report so far (it names the rule); ``noter(index)`` notes a
    replacement in interaction *index*, which adds to *changes* as this goes on.
    """
    for original, positions in shared.values():
        places = []
        for path, index, where in positions:
            found = _resolve(data, path) if path else None
            if found is not None:
                places.append((found[0], found[1], index, where))
        replaced = [place for place in places if place[0][place[1]] is not original]
        if not replaced:
            continue
        node, key, index, where = replaced[0]
        replacement = node[key]
        rule = next(
            (c.rule for c in changes if c.interaction == index and where.startswith(c.location)),
            next((c.rule for c in changes if c.interaction == index), "secret-key"),
        )
        for node, key, index, where in places:
            if node[key] is original:
                node[key] = replacement
                noter(index)(where, rule, original)
