"""README snippets are tests: every ```python block runs as written.

Blocks holding a pytest test run in a real pytest subprocess (pytester), the way a
newcomer pasting them into a file would run them; the others are executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
TEST_BLOCKS = [block for block in BLOCKS if "def test_" in block]
PLAIN_BLOCKS = [block for block in BLOCKS if "def test_" not in block]


def test_the_readme_opens_with_a_pasteable_test() -> None:
    assert TEST_BLOCKS, "README.md lost its pytest quickstart"
    assert BLOCKS[0] in TEST_BLOCKS, "the first python block should be the test a newcomer pastes"


@pytest.mark.parametrize("code", PLAIN_BLOCKS, ids=[f"block{i}" for i in range(len(PLAIN_BLOCKS))])
def test_readme_block_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})


@pytest.mark.parametrize("code", TEST_BLOCKS, ids=[f"test{i}" for i in range(len(TEST_BLOCKS))])
def test_readme_test_passes_under_pytest(code: str, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_from_readme=code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=code.count("def test_"))


def test_the_rule_table_is_the_one_in_the_code() -> None:
    """The README's rule table is generated from cfreplay/hygiene/rules.py (``python -m cfreplay.hygiene.rules``)."""
    from cfreplay.hygiene import rules

    text = README.read_text()
    start = text.index("<!-- rule-table -->\n") + len("<!-- rule-table -->\n")
    end = text.index("<!-- /rule-table -->")
    assert text[start:end] == rules.markdown_table(), (
        "README.md's rule table is stale: paste python -m cfreplay.hygiene.rules"
    )


def test_the_era_table_is_the_one_in_the_code() -> None:
    """The README's table of what changed when is generated from cfapi (``python -m cfreplay.cf.eras``)."""
    from cfreplay.cf import cfapi

    text = README.read_text()
    start = text.index("<!-- era-table -->\n") + len("<!-- era-table -->\n")
    end = text.index("<!-- /era-table -->")
    assert text[start:end] == cfapi.eras_markdown(), "README.md's era table is stale: paste python -m cfreplay.cf.eras"
