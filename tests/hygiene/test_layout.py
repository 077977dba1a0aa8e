"""Where a finding is: the layout check's sections locate it as the structure lines would.

The signal pass's findings are located in the raw text.  For a YAML interaction laid out
as vcrpy writes it, the layout check's own match says where each section starts, so
locating needs no second pass over the interaction; every other interaction is located
by its structure lines.  Both must name the same place for every offset.
"""

from __future__ import annotations

import copy
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from cfreplay import cassette
from cfreplay.hygiene import rules
from cfreplay.hygiene._layout import Locator, check_layout
from cfreplay.hygiene._signal_pass import SignalPass

_NAMES = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=24).filter(
    lambda name: name[0] not in "-."
)
_VALUES = st.one_of(
    st.text(string.printable, max_size=120),
    st.text(string.ascii_letters + " ", min_size=60, max_size=400),  # long enough for YAML to fold
    st.sampled_from(["", "- item", "key: value", "a:\n- b", "#x", "'quoted'", "&anchor", "*alias"]),
)
_HEADERS = st.dictionaries(_NAMES, st.lists(_VALUES, min_size=1, max_size=3), max_size=5)
_BODIES = st.one_of(st.none(), _VALUES, st.builds(lambda v: {"string": v}, _VALUES))


@st.composite
def _interactions(draw: st.DrawFn) -> dict[str, object]:
    request: dict[str, object] = {"body": draw(_BODIES), "headers": draw(_HEADERS), "method": "POST"}
    request["uri"] = "https://api.example.com/v2/apps?q=" + draw(st.text(string.ascii_letters + "%:&=", max_size=30))
    response: dict[str, object] = {
        "body": {"string": draw(_VALUES)},
        "headers": draw(_HEADERS),
        "status": {"code": 200, "message": draw(st.sampled_from(["OK", "Created", ""]))},
    }
    if draw(st.booleans()):
        response["recorded_at"] = "2026-12-01T00:00:00Z"
    return {"request": request, "response": response}


@settings(max_examples=60, deadline=None)
@given(st.lists(_interactions(), min_size=1, max_size=3))
def test_the_layout_checks_sections_locate_every_offset_as_the_structure_lines_do(
    interactions: list[dict[str, object]],
) -> None:
    interactions = copy.deepcopy(interactions)  # hypothesis may draw one object twice: YAML would alias it
    text = cassette.dumps({"interactions": interactions, "version": 1}, "yaml").decode()
    signals = SignalPass(text, "t.yaml", "yaml", cassette=True, table=rules.default_table())
    signals.run()
    layout = check_layout(text, "yaml", signals.starts, signals.indent)
    assert layout.sections is not None
    by_sections = Locator(text, "yaml", signals.starts, signals.indent, layout.end, layout.sections)
    by_lines = Locator(text, "yaml", signals.starts, signals.indent, layout.end)
    for index in layout.sections:
        start = signals.starts[index]
        stop = signals.starts[index + 1] if index + 1 < len(signals.starts) else layout.end
        for offset in range(start, stop):
            if text[offset] != "\n":
                assert by_sections(offset) == by_lines(offset), (offset, text[start:stop])


def test_most_interactions_vcrpy_writes_are_located_by_their_sections() -> None:
    """Not a test that passes by never using the sections: vcrpy's own layout has them."""
    interaction = {
        "request": {"body": None, "headers": {"Authorization": ["bearer x"]}, "method": "GET", "uri": "https://a/"},
        "response": {"body": {"string": "{}"}, "headers": {"A": ["b"]}, "status": {"code": 200, "message": "OK"}},
    }
    twice = [interaction, copy.deepcopy(interaction)]  # not one object twice: YAML would write an alias
    text = cassette.dumps({"interactions": twice, "version": 1}, "yaml").decode()
    signals = SignalPass(text, "t.yaml", "yaml", cassette=True, table=rules.default_table())
    signals.run()
    layout = check_layout(text, "yaml", signals.starts, signals.indent)
    assert layout.sections is not None and sorted(layout.sections) == [0, 1]
    locate = Locator(text, "yaml", signals.starts, signals.indent, layout.end, layout.sections)
    assert locate(text.index("bearer x")) == (0, "request.headers.Authorization")
    assert locate(text.rindex("string: '{}'")) == (1, "response.body")
    assert locate(text.rindex("code: 200")) == (1, "response.status")
