"""``cfreplay diff`` aligns interactions by request, not by position.

The alignment itself is checked against a brute-force longest common subsequence with
hypothesis; the command against two real recordings of one flow made with the simulator on
127.0.0.1 — once plainly, once with the token expiring before the restage (401, refresh,
retry), the commonest difference between two recordings.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

import cfreplay
from cfreplay.commands import _align
from cfreplay.commands.cli import main
from cfreplay.commands.show import diff
from cfreplay.serve import simulator

# ----------------------------------------------------------------------------- the alignment


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    return table[0][0]


def check_steps(steps: list[_align.Step], a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Every index once, in order on both sides; returns the pairs."""
    assert [i for i, _ in steps if i is not None] == list(range(len(a)))
    assert [j for _, j in steps if j is not None] == list(range(len(b)))
    return [(i, j) for i, j in steps if i is not None and j is not None]


keys = st.lists(st.sampled_from("abcd"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(keys, keys)
def test_the_pairs_are_a_longest_common_subsequence(a: list[str], b: list[str]) -> None:
    pairs = check_steps(_align.align(a, b), a, b)
    assert all(a[i] == b[j] for i, j in pairs)
    assert len(pairs) == lcs_length(a, b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("xy"), st.sampled_from("12")), max_size=20),
       st.lists(st.tuples(st.sampled_from("xy"), st.sampled_from("12")), max_size=20))  # fmt: skip
def test_what_exact_keys_leave_unpaired_is_paired_on_coarse_ones(
    a: list[tuple[str, str]], b: list[tuple[str, str]]
) -> None:
    coarse = ([k[0] for k in a], [k[0] for k in b])
    steps = _align.align(a, b, coarse=coarse)
    pairs = check_steps(steps, a, b)
    exact = [(i, j) for i, j in pairs if a[i] == b[j]]
    assert len(exact) == lcs_length(a, b)  # the exact pairing is not given up for coarse ones
    assert all(a[i][0] == b[j][0] for i, j in pairs)
    # Between two pairs, nothing left over could still be paired on the coarse key.
    removed = [i for i, j in steps if j is None]
    added = [j for i, j in steps if i is None]
    for i in removed:
        for j in added:
            before_i = max((p for p in pairs if p[0] < i), default=(-1, -1))
            before_j = max((p for p in pairs if p[1] < j), default=(-1, -1))
            if before_i == before_j and a[i][0] == b[j][0]:
                raise AssertionError(f"a[{i}] and b[{j}] share a gap and a coarse key but were not paired")


def test_many_differences_fall_back_and_still_cover_every_index() -> None:
    a = [i % 97 for i in range(3000)]
    b = [(i * 7) % 101 for i in range(3000)]  # thousands of edits: past Myers' cap
    pairs = check_steps(_align.align(a, b), a, b)
    assert all(a[i] == b[j] for i, j in pairs)


# ----------------------------------------------------------------------------- two recordings of one flow


def restage_flow(cf: simulator.RunningSimulator, *, expire_before_restage: bool) -> None:
    """What a deploy script does: login, find the app, restage (refreshing once on 401), poll until staged."""
    session = requests.Session()
    info = session.get(f"{cf.url}/v2/info", timeout=5).json()
    form = {"grant_type": "password", "username": cf.username, "password": cf.password}
    grant = session.post(f"{info['token_endpoint']}/oauth/token", data=form, auth=("cf", ""), timeout=5).json()
    auth = {"Authorization": f"bearer {grant['access_token']}"}
    guid = session.get(f"{cf.url}/v2/apps", params={"q": "name:my-app"}, headers=auth, timeout=5).json()["resources"][
        0
    ]["metadata"]["guid"]
    if expire_before_restage:
        cf.simulator.expire_tokens()
    restaged = session.post(f"{cf.url}/v2/apps/{guid}/restage", headers=auth, timeout=5)
    if restaged.status_code == 401:
        refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        token = session.post(f"{info['token_endpoint']}/oauth/token", data=refresh, auth=("cf", ""), timeout=5)
        auth = {"Authorization": f"bearer {token.json()['access_token']}"}
        restaged = session.post(f"{cf.url}/v2/apps/{guid}/restage", headers=auth, timeout=5)
    assert restaged.status_code == 201
    while session.get(f"{cf.url}/v2/apps/{guid}", headers=auth, timeout=5).json()["entity"]["package_state"] != (
        "STAGED"
    ):
        pass


def record(path: Path, *, expire_before_restage: bool) -> Path:
    with (
        simulator.run(seed=3, url="http://api.diff.invalid", uaa_url="http://uaa.diff.invalid", repeatable=True) as cf,
        cfreplay.use_cassette(path, record_mode="all"),
    ):
        restage_flow(cf, expire_before_restage=expire_before_restage)
    return path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("diff")
    return record(folder / "plain.yaml", expire_before_restage=False), record(
        folder / "refreshed.yaml", expire_before_restage=True
    )


def test_an_inserted_401_refresh_retry_shows_as_added_not_as_a_change_of_everything(
    recordings: tuple[Path, Path],
) -> None:
    plain, refreshed = recordings
    document = json.loads(diff(plain, refreshed, fmt="json")[0])
    a = cfreplay.cassette.load(plain).interactions
    b = cfreplay.cassette.load(refreshed).interactions
    assert len(b) == len(a) + 2  # the 401'd restage and the refresh grant
    assert document["equal"] is False and document["removed"] == []
    # Exactly what happened: the restage that got the 401, then the refresh grant; A's restage
    # pairs with the 201 retry, its identical twin, and every later poll with its own.
    assert [(b[j]["request"]["method"], b[j]["response"]["status"]["code"]) for j in document["added"]] == [
        ("POST", 401),
        ("POST", 200),
    ]
    assert b[document["added"][0]]["request"]["uri"].endswith("/restage")
    assert b[document["added"][1]]["request"]["uri"] == "http://uaa.diff.invalid/oauth/token"
    assert document["changed"] == []
    # The other way round: the same two, removed.
    reverse = json.loads(diff(refreshed, plain, fmt="json")[0])
    assert reverse == {"equal": False, "added": [], "removed": document["added"], "changed": []}

    text, differs = diff(plain, refreshed)
    assert differs
    lines = text.splitlines()
    assert lines[2:] == [
        f"+ b[{document['added'][0]}] POST {b[document['added'][0]]['request']['uri']} 401",
        f"+ b[{document['added'][1]}] POST http://uaa.diff.invalid/oauth/token 200",
        f"2 added; {len(a)} unchanged (volatile fields ignored)",
    ]


def test_the_same_flow_recorded_twice_is_equal(recordings: tuple[Path, Path], tmp_path: Path) -> None:
    plain, _ = recordings
    again = record(tmp_path / "again.yaml", expire_before_restage=False)
    assert diff(plain, again)[1] is False
    assert json.loads(diff(plain, again, fmt="json")[0]) == {"equal": True, "added": [], "removed": [], "changed": []}


def test_exit_codes_are_unchanged(
    recordings: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, refreshed = recordings
    assert main(["diff", str(plain), str(plain)]) == 0
    assert capsys.readouterr().out.startswith("no differences (")
    assert main(["diff", str(plain), str(refreshed), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["added"]
    assert main(["diff", str(plain), str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_changed_query_pairs_as_a_change(tmp_path: Path) -> None:
    """Unpaired on method+path+query, but the same method and path in the same gap: one change, not -/+."""
    data = cfreplay.cassette.load(cfreplay.shipped.path("cfreplay:restage/201")).data
    first = tmp_path / "a.yaml"
    first.write_bytes(cfreplay.cassette.dumps(data, "yaml"))
    data["interactions"][0]["request"]["uri"] += "?async=true"
    second = tmp_path / "b.yaml"
    second.write_bytes(cfreplay.cassette.dumps(data, "yaml"))
    document = json.loads(diff(first, second, fmt="json")[0])
    assert document["added"] == [] and document["removed"] == []
    assert document["changed"] == [
        {
            "a": 0,
            "b": 0,
            "fields": [
                {
                    "field": "request.uri",
                    "path": "",
                    "change": "changed",
                    "a": data["interactions"][0]["request"]["uri"].removesuffix("?async=true"),
                    "b": data["interactions"][0]["request"]["uri"],
                }
            ],
        }
    ]


@settings(max_examples=200, deadline=None)
@given(keys, keys, st.sets(st.integers(0, 29)))
def test_preferring_twins_keeps_every_index_once_and_in_order(a: list[str], b: list[str], alike: set[int]) -> None:
    """Whatever pairs get moved to twins, the steps still cover both sides once, in order."""
    from cfreplay.commands.show import _prefer_twins

    steps = _prefer_twins(_align.align(a, b), lambda i, j: a[i] == b[j] and (i + j) % 30 in alike)
    pairs = check_steps(steps, a, b)
    assert len(pairs) == lcs_length(a, b)
