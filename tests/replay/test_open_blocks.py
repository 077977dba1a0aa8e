"""One process-wide patch for every open block, whatever order the blocks close in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfreplay.replay._open_blocks import OpenBlocks


@given(st.permutations(range(5)))
def test_the_patch_follows_the_blocks_still_open_whatever_order_they_close_in(order: list[int]) -> None:
    seen: list[list[str]] = []
    blocks: OpenBlocks[str] = OpenBlocks(lambda open_now: seen.append(list(open_now)))
    contexts = [blocks.opened(f"b{n}") for n in range(5)]
    for context in contexts:
        context.__enter__()
    assert seen[-1] == ["b0", "b1", "b2", "b3", "b4"] and blocks.latest() == "b4"
    still_open = [f"b{n}" for n in range(5)]
    for n in order:
        contexts[n].__exit__(None, None, None)
        still_open.remove(f"b{n}")
        assert seen[-1] == still_open == blocks.values()
        assert blocks.latest() == (still_open[-1] if still_open else None)


def test_a_value_open_twice_closes_one_block_at_a_time() -> None:
    blocks: OpenBlocks[str] = OpenBlocks(lambda open_now: None)
    first, second = blocks.opened("same"), blocks.opened("same")
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert blocks.values() == ["same"]
    second.__exit__(None, None, None)
    assert blocks.values() == []


def test_a_block_whose_patch_failed_to_install_is_not_open() -> None:
    def changed(open_now: list[str]) -> None:
        if "bad" in open_now:
            raise OSError("cannot patch")

    blocks: OpenBlocks[str] = OpenBlocks(changed)
    with blocks.opened("good"):
        with pytest.raises(OSError, match="cannot patch"), blocks.opened("bad"):
            pass
        assert blocks.values() == ["good"]
    assert blocks.values() == []
