"""The table of what changed when is read off the model, and every row is dated by a release.

``cfreplay.cf.eras`` walks cfapi's tables; each change needs an entry in ``EVIDENCE`` (the
CCNG commit and the first capi-release or cf-release holding it), so a new era cannot be
added without saying where it comes from, and a stale entry is caught too.
"""

from __future__ import annotations

from cfreplay.cf import cfapi, eras
from cfreplay.cf.cfapi import ApiVersion


def test_every_change_has_evidence_and_every_evidence_a_change() -> None:
    rows = cfapi.era_table()
    assert rows == eras.era_table()
    changes = [row.change for row in rows]
    assert len(changes) == len(set(changes))
    assert set(changes) == set(eras.EVIDENCE)
    assert [row.version for row in rows] == sorted(row.version for row in rows)


def test_each_row_names_a_commit_and_a_release() -> None:
    for row in cfapi.era_table():
        evidence = row.evidence
        if evidence.note is not None:  # the factories' default backend, an estimate
            assert row.version == cfapi.DIEGO_DEFAULT_SINCE and not evidence.commit
            continue
        assert len(evidence.commit) == 10 and int(evidence.commit, 16) >= 0, row
        assert evidence.release.startswith(("capi-release 1.", "cf-release v")), row
        # The version file at the commit can read less than the release, never more.
        assert evidence.reads is None or ApiVersion.parse(evidence.reads) < row.version, row


def test_a_version_some_releases_ship_without_the_change_is_marked_in_the_model() -> None:
    """Where the evidence names earlier releases of the same version without a field, the field is optional there."""
    lacking = {row.change for row in cfapi.era_table() if row.evidence.lacking}
    optional_app = {f"app field `{f.name}`" for f in cfapi.APP_FIELDS if f.optional_at_since}
    optional_info = {f"`/v2/info` key `{f.name}`" for f in cfapi.INFO_FIELDS if f.optional_at_since}
    fields = {change for change in lacking if change.startswith(("app field", "`/v2/info` key"))}
    assert fields == optional_app | optional_info
    assert "timestamps end in `Z` (before: `+00:00`)" in lacking  # both forms at 2.21.0


def test_the_markdown_has_a_line_per_row() -> None:
    text = cfapi.eras_markdown()
    assert text == eras.markdown_table()
    lines = text.splitlines()
    assert lines[:2] == ["| API | what changed | CCNG commit → first release |", "|---|---|---|"]
    assert len(lines) == 2 + len(cfapi.era_table())
    assert "| 2.22.0 | app field `diego` | `6daf6e2c79` → cf-release v200; cf-release v198 and cf-release v199" in text
