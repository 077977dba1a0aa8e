"""The literal finder answers exactly as ``any(literal in text ...)`` does, on short and long text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cfreplay.hygiene import rules
from cfreplay.hygiene._literals import literal_finder
from cfreplay.hygiene._walker import _fewest_triggers

# An alphabet where literals overlap and recur: the cases a rarest-character opening could get wrong.
_ALPHABET = "aeikostpw_-=:/\\.%@3 "
_literals = st.lists(st.text(_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=12)


@given(_literals, st.text(_ALPHABET, max_size=400))
def test_the_finder_agrees_with_any_in(literals: list[str], text: str) -> None:
    assert literal_finder(tuple(literals))(text) == any(literal in text for literal in literals)


@given(_literals, st.data())
def test_a_literal_planted_anywhere_is_found(literals: list[str], data: st.DataObject) -> None:
    planted = data.draw(st.sampled_from(literals))
    before = data.draw(st.text(_ALPHABET, max_size=300))
    after = data.draw(st.text(_ALPHABET, max_size=300))
    assert literal_finder(tuple(literals))(before + planted + after)


@given(st.text(max_size=300))
def test_the_sanitizers_triggers_on_any_text(text: str) -> None:
    triggers = _fewest_triggers(frozenset((*rules.default_table().anchors, *rules.default_table().name_triggers)))
    lowered = text.lower()
    assert literal_finder(triggers)(lowered) == any(word in lowered for word in triggers)


def test_no_literals_match_nothing_and_the_empty_literal_matches_everything() -> None:
    assert not literal_finder(())("anything")
    assert literal_finder(("",))("")
