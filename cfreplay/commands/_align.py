"""Aligning two sequences of interactions the way a reviewer reads them: by what was asked.

``cfreplay diff`` pairs the interactions of two recordings of one flow.  Pairing by position
turns one inserted exchange (a 401, then a token refresh, then the retry: the commonest
difference between two recordings) into a change of every later interaction.  Pairing by
request identity with a longest common subsequence keeps the order and reports the insertion
as what it is.

:func:`align` is Myers' O((N+M)·D) shortest edit script (Myers 1986, "An O(ND) difference
algorithm"), which is a longest common subsequence, so the pairing is optimal; it is fast
when the recordings mostly agree (D small), which is the case diff is for.  Past
:data:`_MAX_EDITS` edits (two unrelated cassettes) it falls back to difflib's matcher,
which is not always optimal but stays near-linear.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from typing import Final

__all__ = ["Step", "align"]

#: (index in A or None, index in B or None): a pair, a removal (B None) or an addition (A None).
Step = tuple[int | None, int | None]

# The trace Myers keeps for backtracking grows as D²: cap it where memory stays small.
_MAX_EDITS: Final = 2000


def _myers_pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]] | None:
    """Matched (i, j) of a longest common subsequence, in order; ``None`` past :data:`_MAX_EDITS`."""
    n, m = len(a), len(b)
    frontier: dict[int, int] = {1: 0}  # diagonal k -> furthest x reached on it
    trace: list[dict[int, int]] = []
    for edits in range(min(n + m, _MAX_EDITS) + 1):
        trace.append(dict(frontier))
        for k in range(-edits, edits + 1, 2):
            down = k == -edits or (k != edits and frontier[k - 1] < frontier[k + 1])
            x = frontier[k + 1] if down else frontier[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            frontier[k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return None


def _backtrack(trace: list[dict[int, int]], n: int, m: int) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for edits in range(len(trace) - 1, -1, -1):
        frontier = trace[edits]
        k = x - y
        down = k == -edits or (k != edits and frontier[k - 1] < frontier[k + 1])
        previous_k = k + 1 if down else k - 1
        previous_x = frontier[previous_k]
        previous_y = previous_x - previous_k
        while x > previous_x and y > previous_y:  # the diagonal (a match) that ended this step
            x, y = x - 1, y - 1
            pairs.append((x, y))
        if edits > 0:
            x, y = previous_x, previous_y
    pairs.reverse()
    return pairs


def _pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    found = _myers_pairs(a, b)
    if found is not None:
        return found
    matcher = difflib.SequenceMatcher(None, list(a), list(b), autojunk=False)
    return [(block.a + o, block.b + o) for block in matcher.get_matching_blocks() for o in range(block.size)]


def _merge(pairs: list[tuple[int, int]], a_len: int, b_len: int) -> list[Step]:
    """Steps in reading order: before each pair, what A lost and then what B gained."""
    steps: list[Step] = []
    i = j = 0
    for pi, pj in [*pairs, (a_len, b_len)]:
        steps += [(x, None) for x in range(i, pi)]
        steps += [(None, y) for y in range(j, pj)]
        if pi < a_len and pj < b_len:
            steps.append((pi, pj))
        i, j = pi + 1, pj + 1
    return steps


def align(
    a: Sequence[Hashable], b: Sequence[Hashable], coarse: tuple[Sequence[Hashable], Sequence[Hashable]] | None = None
) -> list[Step]:
    """Every index of *a* and of *b* once, in order, paired where the keys agree (a longest common subsequence).

    With *coarse* keys (one per item of *a* and of *b*, e.g. method and path without the
    query), what the exact keys leave unpaired between two pairs is paired again on them,
    so a request whose query changed shows as changed, not as removed and added.
    """
    steps = _merge(_pairs(a, b), len(a), len(b))
    if coarse is None:
        return steps
    coarse_a, coarse_b = coarse
    result: list[Step] = []
    gap_a: list[int] = []
    gap_b: list[int] = []

    def flush() -> None:
        inner = _merge(_pairs([coarse_a[i] for i in gap_a], [coarse_b[j] for j in gap_b]), len(gap_a), len(gap_b))
        result.extend((None if x is None else gap_a[x], None if y is None else gap_b[y]) for x, y in inner)
        gap_a.clear()
        gap_b.clear()

    for step in steps:
        if step[0] is not None and step[1] is not None:
            flush()
            result.append(step)
        elif step[0] is not None:
            gap_a.append(step[0])
        else:
            assert step[1] is not None
            gap_b.append(step[1])
    flush()
    return result
