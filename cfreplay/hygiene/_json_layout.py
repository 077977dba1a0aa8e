"""JSON written back in its own layout: what the sanitizer changed, and not a byte more.

A JSON body is parsed (duplicate keys kept as :class:`Pairs`), sanitized, and written
back here.  When only string values changed, each is swapped in place in the original
text, so the layout survives byte for byte; otherwise the document is re-serialised in
the layout the text used (CC's two-space indent, Oj's and UAA's compact JSON,
Python's default separators).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["Pairs", "json_like", "pairs_hook"]


class Pairs(list[tuple[Any, Any]]):
    """A JSON object with a key given twice: kept as its pairs, so neither value escapes the walk."""


def pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    """``object_pairs_hook`` for :func:`json.loads`: a dict, or :class:`Pairs` when a key repeats."""
    keys = [key for key, _ in pairs]
    return Pairs(pairs) if len(set(keys)) != len(keys) else dict(pairs)


def json_like(original: Any, cleaned: Any, text: str) -> str:
    """*cleaned* written as *text* wrote *original*: strings swapped in place when only strings changed."""
    replacements = _string_changes(original, cleaned)
    if replacements is not None:
        patched = _patch_strings(text, replacements)
        if patched is not None:
            return patched
    return _dump_like(original, cleaned, text)


# --------------------------------------------------------------------------- strings swapped in place


def _string_changes(before: Any, after: Any) -> list[tuple[str, str]] | None:
    """The string values that changed, if nothing but string values changed; else ``None``."""
    changes: list[tuple[str, str]] = []
    stack = [(before, after)]
    while stack:
        old, new = stack.pop()
        if old is new:
            continue  # the walker hands back what it did not change, the very object
        if isinstance(old, str) and isinstance(new, str):
            if old != new:
                changes.append((old, new))
            continue
        children = _children(old, new)
        if children is None:
            return None
        stack.extend(children)
    return changes


def _children(old: Any, new: Any) -> list[tuple[Any, Any]] | None:
    """The values to compare inside two containers of one shape (none for equal scalars).

    ``None`` when something other than a string value differs: a key, a length, a type
    or a scalar.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return [(old[key], new[key]) for key in old] if list(old) == list(new) else None
    if isinstance(old, Pairs) and isinstance(new, Pairs):
        if [k for k, _ in old] != [k for k, _ in new]:
            return None
        return [(a, b) for (_, a), (_, b) in zip(old, new, strict=True)]
    if isinstance(old, list) and isinstance(new, list) and type(old) is type(new):
        return list(zip(old, new, strict=True)) if len(old) == len(new) else None
    if type(old) is not type(new) or old != new:
        return None
    return []


def _patch_strings(text: str, replacements: list[tuple[str, str]]) -> str | None:
    """Swap each changed string's JSON form where it stands as a value, keeping the layout byte for byte.

    ``None`` when a string is not found in its plain JSON form (the body escaped it
    differently); the caller then re-serialises.  A value equal to a secret elsewhere
    in the body is replaced too, which can only over-redact; keys are never touched.
    """
    for old, new in replacements:
        for encoded in (json.dumps(old, ensure_ascii=False), json.dumps(old)):
            patched = _swap_values(text, encoded, json.dumps(new, ensure_ascii=False))
            if patched is not None:
                text = patched
                break
        else:
            return None
    return text


def _swap_values(text: str, encoded: str, replacement: str) -> str | None:
    """*text* with every *encoded* string that stands as a value (no ``:`` follows) swapped; ``None`` if none does."""
    parts: list[str] = []
    last = 0
    at = text.find(encoded)
    while at >= 0:
        end = at + len(encoded)
        if text[end : end + 64].lstrip()[:1] != ":":
            parts += [text[last:at], replacement]
            last = end
        at = text.find(encoded, end)
    if not parts:
        return None
    parts.append(text[last:])
    return "".join(parts)


# --------------------------------------------------------------------------- re-serialised in a known layout


def _dump_like(original: Any, cleaned: Any, text: str) -> str:
    """Serialise *cleaned* in the layout *text* used, when a usual layout reproduces it.

    The layout is guessed from the text's opening, then confirmed by re-serialising
    the original once; CC pretty-prints with two spaces, Oj and UAA write compact
    JSON, Python's default puts spaces after separators.
    """
    trailing = text[len(text.rstrip()) :]
    body = text.rstrip()
    head = body[:40]
    layout: dict[str, Any]
    if "\n    " in head and "\n    " in body[: body.find("\n", 1) + 6]:
        layout = {"indent": 4}
    elif "\n" in head:
        layout = {"indent": 2}
    elif '": ' in body or '", "' in body:
        layout = {}
    else:
        layout = {"separators": (",", ":")}
    ensure_ascii = "\\u" in body and not any(ord(c) > 127 for c in body)
    if _dumps(original, ensure_ascii, layout) == body:
        return _dumps(cleaned, ensure_ascii, layout) + trailing
    return _dumps(cleaned, False, layout) + trailing


def _dumps(value: Any, ensure_ascii: bool, layout: dict[str, Any]) -> str:
    """json.dumps, writing an object with duplicate keys as it was (every pair, in order)."""
    if not _has_pairs(value):
        return json.dumps(value, ensure_ascii=ensure_ascii, **layout)
    marker = "\x00cfreplay-pairs\x00"
    slots: list[str] = []

    def stand_in(node: Any) -> Any:
        if isinstance(node, Pairs):
            items = [
                json.dumps(str(k), ensure_ascii=ensure_ascii)
                + layout.get("separators", (", ", ": "))[1]
                + _dumps(v, ensure_ascii, {**layout, "indent": None})
                for k, v in node
            ]
            slots.append("{" + layout.get("separators", (", ", ": "))[0].join(items) + "}")
            return f"{marker}{len(slots) - 1}"
        if isinstance(node, dict):
            return {k: stand_in(v) for k, v in node.items()}
        if isinstance(node, list):
            return [stand_in(v) for v in node]
        return node

    dumped = json.dumps(stand_in(value), ensure_ascii=ensure_ascii, **layout)
    return re.sub(
        re.escape(json.dumps(marker, ensure_ascii=ensure_ascii)[:-1]) + r'(\d+)"', lambda m: slots[int(m[1])], dumped
    )


def _has_pairs(value: Any) -> bool:
    if isinstance(value, Pairs):
        return True
    if isinstance(value, dict):
        return any(_has_pairs(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_pairs(v) for v in value)
    return False
