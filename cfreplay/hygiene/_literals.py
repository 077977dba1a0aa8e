"""Finding literals fast with Python's regex engine: open each on its rarest character.

``re`` has no multi-literal search: a pattern ``a|b|c`` stops at every character
that opens an alternative and tries them there, at tens of nanoseconds a stop.  So a
literal is written to open on its rarest character, the characters before it checked
by a lookbehind once that one is found (``eyJ`` opens on ``J``, ``password`` on
``w``), and alternatives sharing an opening are grouped.  The signal pass's master
pattern and the sanitizer's trigger checks are built this way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Final

__all__ = ["literal_finder", "opening_literal", "rank"]

#: Characters by how rarely they occur in cassettes, rarest first (measured on vcrpy YAML of CC
#: and UAA traffic; ``g`` before ``h`` as counted in bench/scan.py's sessions, so that GitHub's
#: ``gh…_`` opens where GitLab's ``gl…-`` does and ``h`` needs no pass).  A pattern stops
#: wherever one of its alternatives' opening characters occurs, so each alternative opens on
#: the rarest character of its literal.
_RARITY: Final = "|!*?%&;$[]+'=KqPBH{}USQxRzMOADEFVXwCLGJWYTZyNvjkgh/.8693f_m5,4Irup1o0b2:l-stcdiaen\"\\ "


def rank(char: str) -> int:
    """How rare *char* is in cassettes: 0 for the rarest."""
    found = _RARITY.find(char)
    return found if found >= 0 else len(_RARITY) // 2


def opening_literal(literal: str, *, ignore_case: bool = False) -> tuple[int, list[tuple[str, str, str]]]:
    """*literal* split to open on its rarest character: (where the opening sits, alternatives).

    Each alternative is (opening character, a lookbehind for what precedes it, the literal
    text after it).  What precedes the opening character is checked by the lookbehind once
    it is found; the text after is left to the caller to write (and to join with others
    that share the opening and the lookbehind).  Case-insensitive literals get an
    alternative per case of the opening character.
    """

    def cost(i: int) -> tuple[int, int]:
        # A case-insensitive literal stops at both cases: the commoner one decides.
        score = max(rank(literal[i]), rank(literal[i].swapcase())) if ignore_case else rank(literal[i])
        return score, i

    at = min(range(len(literal)), key=cost)
    before, char, after = literal[:at], literal[at], literal[at + 1 :]
    wrap = (lambda part: f"(?i:{re.escape(part)})") if ignore_case else re.escape
    openings = sorted({char, char.swapcase()}) if ignore_case else [char]
    alternatives = []
    for opening in openings:
        behind = f"(?<={wrap(before)}{re.escape(opening)})" if before else ""
        alternatives.append((opening, behind, after))
    return at, alternatives


def _lowered_opening(literal: str) -> tuple[str, str]:
    """A lower-case *literal* as (opening, rest) for lowered text: the commoner case of each letter ranks it."""

    def cost(i: int) -> tuple[int, int]:
        return max(rank(literal[i]), rank(literal[i].upper())), i

    at = min(range(len(literal)), key=cost)
    before, char, after = literal[:at], literal[at], literal[at + 1 :]
    behind = f"(?<={re.escape(before + char)})" if before else ""
    return char, behind + re.escape(after)


#: Texts longer than this are searched one literal at a time: ``str.__contains__`` skips
#: through long text far faster than the regex engine stops at every opening.
_LONG: Final = 160


class _Finder:
    """Whether a lowered text holds one of the literals: the regex engine on short text, ``in`` on long."""

    __slots__ = ("literals", "search")

    def __init__(self, literals: tuple[str, ...], search: Callable[[str], object]) -> None:
        self.literals = literals
        self.search = search

    def __call__(self, text: str) -> bool:
        if len(text) > _LONG:
            return any(literal in text for literal in self.literals)
        return self.search(text) is not None


@functools.lru_cache(maxsize=64)
def literal_finder(literals: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a lowered text holds one of the lower-case *literals* (cache the function, not the call).

    The same answer as ``any(literal in text for literal in literals)``; on short text, one
    pass of a pattern whose alternatives open on their rarest characters instead of one
    Python step per literal (the sanitizer asks it of every string of every body).
    """
    unique = tuple(sorted(set(literals), key=lambda text: (len(text), text)))
    if not unique:
        return _Finder(unique, re.compile("(?!)").search)
    if not unique[0]:
        return _Finder(unique, re.compile("").search)  # the empty literal is in every text
    by_opening: dict[str, list[str]] = {}
    for literal in sorted(unique, key=lambda text: (-len(text), text)):
        char, rest = _lowered_opening(literal)
        by_opening.setdefault(char, []).append(rest)
    order = sorted(by_opening, key=lambda char: (-rank(char), char))
    pattern = re.compile("|".join(f"{re.escape(char)}(?:{'|'.join(by_opening[char])})" for char in order))
    return _Finder(unique, pattern.search)
