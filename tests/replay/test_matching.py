"""Indexed matching behaves exactly like vcrpy's linear scan, at O(1) per lookup."""

from __future__ import annotations

import copy
from typing import Any

import hypothesis.strategies as st
import pytest
import vcr.matchers
from hypothesis import given
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.request import Request

from cfreplay.replay import matchers
from cfreplay.replay._vcr import IndexedCassette

DEFAULT = [getattr(vcr.matchers, name) for name in ("method", "scheme", "host", "port", "path", "query")]
WITH_BODY = [*DEFAULT, vcr.matchers.body]
BY_URI = [vcr.matchers.method, vcr.matchers.uri]

REQUESTS = st.builds(
    lambda method, host, path, query, body: Request(method, f"https://{host}{path}{query}", body, {}),
    st.sampled_from(["GET", "POST"]),
    st.sampled_from(["api.example.com", "uaa.example.com", "api.example.com:8443"]),
    st.sampled_from(["", "/", "/v2/apps", "/v2/apps/x"]),
    st.sampled_from(["", "?page=2", "?page=2&q=name%3Aa", "?q=name%3Aa&page=2"]),
    st.sampled_from([None, b"", b"a=1", b"a=2"]),
)


def outcomes(cls: type[Cassette], recorded: list[Request], replayed: list[Request], **options: Any) -> list[Any]:
    cassette = cls(path="/nonexistent/never-written.yaml", **options)
    for number, request in enumerate(recorded):
        cassette.append(request, {"n": number})
    results: list[Any] = []
    for request in replayed:
        playable = request in cassette
        try:
            results.append((playable, cassette.play_response(request)["n"]))
        except UnhandledHTTPRequestError:
            results.append((playable, None))
    return results


@given(
    recorded=st.lists(REQUESTS, max_size=25),
    replayed=st.lists(REQUESTS, max_size=40),
    match_on=st.sampled_from([DEFAULT, WITH_BODY, BY_URI]),
    repeats=st.booleans(),
)
def test_same_answers_as_vcrpy(
    recorded: list[Request], replayed: list[Request], match_on: list[Any], repeats: bool
) -> None:
    options = {"match_on": match_on, "allow_playback_repeats": repeats}
    assert outcomes(IndexedCassette, recorded, replayed, **options) == outcomes(Cassette, recorded, replayed, **options)


def test_identical_requests_replay_in_recorded_order() -> None:
    poll = Request("GET", "https://api.example.com/v2/apps/g", None, {})
    assert outcomes(IndexedCassette, [poll, poll, poll], [poll] * 4, match_on=DEFAULT) == [
        (True, 0),
        (True, 1),
        (True, 2),
        (False, None),
    ]


def test_lookups_do_not_scan_the_cassette(monkeypatch: pytest.MonkeyPatch) -> None:
    """With vcrpy's equality matchers no recording is compared at all: the key finds it."""
    calls = {"n": 0}
    original = vcr.matchers.requests_match

    def counting(*args: Any) -> bool:
        calls["n"] += 1
        return bool(original(*args))

    monkeypatch.setattr(vcr.matchers, "requests_match", counting)
    requests = [Request("GET", f"https://api.example.com/v2/apps/{n}", None, {}) for n in range(2000)]
    assert outcomes(IndexedCassette, requests, requests, match_on=DEFAULT) == [(True, n) for n in range(2000)]
    assert calls["n"] == 0
    outcomes(IndexedCassette, requests[:50], requests[:50], match_on=WITH_BODY)
    assert calls["n"] <= 2 * 50  # only the candidates under each key are compared


def test_keys_follow_vcrpys_normalisation() -> None:
    bare = Request("GET", "https://api.example.com", None, {})
    slash = Request("GET", "https://api.example.com/", None, {})
    assert matchers.index_key(bare, BY_URI) == matchers.index_key(slash, BY_URI)
    assert matchers.index_key(bare, DEFAULT) == matchers.index_key(slash, DEFAULT)
    assert matchers.is_exact(DEFAULT) and not matchers.is_exact(WITH_BODY)


PLAIN_DATA = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
              st.binary(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)  # fmt: skip


def _containers(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [id(value), *(i for item in value.values() for i in _containers(item))]
    if isinstance(value, list):
        return [id(value), *(i for item in value for i in _containers(item))]
    return []


@given(PLAIN_DATA)
def test_recordings_are_copied_like_deepcopy_would(value: Any) -> None:
    from cfreplay.replay._vcr import _copied

    copied = _copied(value)
    assert copied == copy.deepcopy(value)
    assert not set(_containers(copied)) & set(_containers(value))  # nothing mutable is shared


def test_other_values_in_a_recording_still_go_through_deepcopy() -> None:
    from cfreplay.replay._vcr import _copied

    odd = {"headers": {"X": ("a", "b")}, "body": {"string": bytearray(b"xy")}}
    copied = _copied(odd)
    assert copied == odd and copied["body"]["string"] is not odd["body"]["string"]


@given(
    requests=st.lists(REQUESTS, min_size=1, max_size=12),
    match_on=st.sampled_from([DEFAULT, WITH_BODY, BY_URI, [vcr.matchers.host, vcr.matchers.query]]),
)
def test_a_remembered_key_is_the_key(requests: list[Request], match_on: list[Any]) -> None:
    """Keys are remembered by method, URI and matchers: asked again, each is what the matchers read."""
    for request in requests * 2:
        fresh = tuple(matchers._KEYS[m](request) for m in match_on if m in matchers._KEYS)
        assert matchers.index_key(request, match_on) == fresh
