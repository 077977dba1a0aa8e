"""The clients are patched once per process and restored exactly; cassettes nest and follow each other."""

from __future__ import annotations

import gc
import http.client
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import urllib3.connectionpool
import vcr
import vcr.cassette
import vcr.patch
import vcr.stubs
from hypothesis import given, settings
from hypothesis import strategies as st

import cfreplay
from cfreplay import cassette as cassette_files
from cfreplay.replay import _vcr, patching

API = "https://api.example.com"


def write(path: Path, *answers: tuple[str, str]) -> Path:
    """A cassette answering each (path, body) once, in order, to GET."""
    interactions = [
        {
            "request": {"body": None, "headers": {}, "method": "GET", "uri": API + where},
            "response": {
                "body": {"string": body},
                "headers": {"Content-Type": ["text/plain"]},
                "status": {"code": 200, "message": "OK"},
            },
        }
        for where, body in answers
    ]
    path.write_bytes(cassette_files.dumps({"interactions": interactions, "version": 1}, "yaml"))
    return path


def snapshot() -> dict[tuple[int, str], Any]:
    """What every patched attribute holds, as its owner holds it (inherited ones absent)."""
    table = patching._table
    assert table is not None
    return {(id(target), name): patching._own_value(target, name) for target, name, _new in table.patches}


@pytest.fixture
def answers(tmp_path: Path) -> tuple[Path, Path]:
    outer = write(tmp_path / "outer.yaml", ("/a", "outer 1"), ("/a", "outer 2"))
    inner = write(tmp_path / "inner.yaml", ("/a", "inner"), ("/b", "inner b"))
    return outer, inner


def test_clients_are_patched_only_inside_a_cassette(answers: tuple[Path, Path]) -> None:
    outer, _ = answers
    with cfreplay.use_cassette(outer, freeze_time=False):  # builds the table if no test has yet
        pass
    before = snapshot()
    real_pool_class = urllib3.connectionpool.HTTPSConnectionPool
    assert "_get_conn" not in vars(real_pool_class)  # inherited from HTTPConnectionPool
    with cfreplay.use_cassette(outer, freeze_time=False):
        assert issubclass(http.client.HTTPConnection, vcr.stubs.VCRHTTPConnection)
        assert "_get_conn" in vars(real_pool_class)
        assert patching.current() is not None
        assert requests.get(API + "/a", timeout=5).text == "outer 1"
    assert snapshot() == before
    assert "_get_conn" not in vars(real_pool_class)  # deleted again, as mock.patch does
    assert http.client.HTTPConnection is vcr.patch._HTTPConnection
    assert patching.current() is None


@pytest.mark.parametrize(
    ("shared", "fast"),
    [(True, True), (False, True), (False, False)],
    ids=["shared patches", "vcrpy's own patches", "vcrpy's public context"],
)
def test_a_save_that_fails_still_unpatches_the_clients(
    answers: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, shared: bool, fast: bool
) -> None:
    # vcrpy's __exit__ saves before it finishes the generator that holds the patches: a save
    # that raises (SecretLeft, a full disk, CassetteChanged) left every client patched until
    # the garbage collector happened on that generator, and the next test's requests went
    # through a cassette that was gone.  With the collector off, nothing but the exit can help.
    outer, _ = answers
    with cfreplay.use_cassette(outer, freeze_time=False):  # builds the table if no test has yet
        pass
    before = snapshot()

    def failing_save(self: Any, force: bool = False) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vcr.cassette.Cassette, "_save", failing_save)
    monkeypatch.setattr(_vcr, "FAST_PATH", fast)
    spare = types.SimpleNamespace(connection=object())
    # custom_patches: vcrpy patches for this cassette itself, through its own generator.
    options: dict[str, Any] = {} if shared else {"custom_patches": ((spare, "connection", object()),)}
    collecting = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(OSError, match="No space left"), cfreplay.use_cassette(outer, freeze_time=False, **options):
            assert issubclass(http.client.HTTPConnection, vcr.stubs.VCRHTTPConnection)
        assert http.client.HTTPConnection is vcr.patch._HTTPConnection
        assert patching.current() is None
        assert snapshot() == before
    finally:
        if collecting:
            gc.enable()


def test_nested_cassettes_each_answer_then_the_outer_resumes(
    answers: tuple[Path, Path], connect_spy: list[Any]
) -> None:
    outer, inner = answers
    with requests.Session() as session, cfreplay.use_cassette(outer, freeze_time=False):
        assert session.get(API + "/a", timeout=5).text == "outer 1"
        with cfreplay.use_cassette(inner, freeze_time=False) as active:
            assert session.get(API + "/a", timeout=5).text == "inner"
            assert httpx.get(API + "/b").text == "inner b"
            assert active.all_played
        assert session.get(API + "/a", timeout=5).text == "outer 2"
        with pytest.raises(cfreplay.UnmatchedRequest, match=r"outer\.yaml"):
            session.get(API + "/b", timeout=5)
    assert connect_spy == []


def test_a_session_carries_on_into_the_next_cassette(answers: tuple[Path, Path]) -> None:
    outer, inner = answers
    with requests.Session() as session:
        with cfreplay.use_cassette(outer, freeze_time=False):
            assert session.get(API + "/a", timeout=5).text == "outer 1"
        with cfreplay.use_cassette(inner, freeze_time=False):
            assert session.get(API + "/a", timeout=5).text == "inner"
        with cfreplay.use_cassette(outer, freeze_time=False):
            assert session.get(API + "/a", timeout=5).text == "outer 1"


def test_custom_patches_keep_vcrpys_own_patching(answers: tuple[Path, Path]) -> None:
    outer, _ = answers
    custom = ((http.client, "HTTPSConnection", vcr.stubs.VCRHTTPSConnection),)
    with cfreplay.use_cassette(outer, freeze_time=False, custom_patches=custom):
        assert patching.current() is None
        assert requests.get(API + "/a", timeout=5).text == "outer 1"
    assert http.client.HTTPSConnection is vcr.patch._HTTPSConnection


def test_inside_a_foreign_vcrpy_cassette_vcrpy_patches_for_cfreplay(answers: tuple[Path, Path]) -> None:
    outer, inner = answers
    with vcr.use_cassette(str(outer), record_mode="none"):
        with cfreplay.use_cassette(inner, freeze_time=False):
            assert patching.current() is None  # the shared table would have captured vcrpy's patches
            assert requests.get(API + "/a", timeout=5).text == "inner"
        assert requests.get(API + "/a", timeout=5).text == "outer 1"
    assert http.client.HTTPConnection is vcr.patch._HTTPConnection
    with cfreplay.use_cassette(inner, freeze_time=False):
        assert patching.current() is not None


def test_force_reset_puts_the_real_classes_back_for_the_window(answers: tuple[Path, Path]) -> None:
    outer, _ = answers
    with cfreplay.use_cassette(outer, freeze_time=False):
        stub = http.client.HTTPConnection
        assert stub is not vcr.patch._HTTPConnection
        with vcr.patch.force_reset():
            assert http.client.HTTPConnection is vcr.patch._HTTPConnection
            with vcr.patch.force_reset():  # nested windows too
                assert http.client.HTTPConnection is vcr.patch._HTTPConnection
            assert http.client.HTTPConnection is vcr.patch._HTTPConnection
        assert http.client.HTTPConnection is stub
    assert vcr.patch.force_reset is not patching._table.force_reset  # type: ignore[union-attr]


def test_an_error_inside_leaves_nothing_patched(answers: tuple[Path, Path]) -> None:
    outer, _ = answers
    with cfreplay.use_cassette(outer, freeze_time=False):
        pass
    before = snapshot()

    def fails_inside() -> None:
        with cfreplay.use_cassette(outer, freeze_time=False):
            requests.get(API + "/a", timeout=5)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails_inside()
    assert snapshot() == before and patching.current() is None


def test_the_stand_in_outside_a_cassette_says_so() -> None:
    assert len(patching.CASSETTE_IN_USE) == 0
    assert "no cassette in use" in repr(patching.CASSETTE_IN_USE)
    with pytest.raises(AttributeError, match="no cassette is in use"):
        patching.CASSETTE_IN_USE.play_response  # noqa: B018


def test_force_reset_keeps_what_something_newer_put_there(answers: tuple[Path, Path]) -> None:
    outer, _ = answers

    class Newer(http.client.HTTPConnection):
        pass

    with cfreplay.use_cassette(outer, freeze_time=False):
        stub = http.client.HTTPConnection
        with vcr.patch.force_reset():
            http.client.HTTPConnection = Newer  # type: ignore[misc]  # e.g. a cassette entered in the window
        assert http.client.HTTPConnection is Newer
        http.client.HTTPConnection = stub  # type: ignore[misc]
    assert http.client.HTTPConnection is vcr.patch._HTTPConnection


HEADER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
PLAIN_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@settings(max_examples=300)
@given(
    headers=st.dictionaries(
        st.one_of(
            st.sampled_from(["Content-Type", "Set-Cookie", "Date", "X-Vcap-Request-Id"]), PLAIN_TEXT, HEADER_TEXT
        ),
        st.lists(st.one_of(PLAIN_TEXT, HEADER_TEXT, st.just(""), st.just("a\r\n b")), max_size=3),
        max_size=5,
    )
)
def test_property_headers_parse_as_vcrpy_parses_them(headers: dict[str, list[str]]) -> None:
    ours, theirs = _vcr.parse_headers(headers), vcr.stubs.parse_headers(headers)
    assert ours.items() == theirs.items()
    assert str(ours) == str(theirs)
    for name in headers:
        assert ours.get_all(name) == theirs.get_all(name)


def test_the_table_assigns_each_attribute_once_and_leaves_what_every_patch_in_order_would(
    answers: tuple[Path, Path],
) -> None:
    """vcrpy's builder patches urllib3 twice (as itself and as requests' vendored name): the last one stands."""
    outer, _ = answers
    with cfreplay.use_cassette(outer, freeze_time=False):  # builds the table if no test has yet
        pass
    table = patching._table
    assert table is not None
    raw = table._clients.patches
    keys = [(id(target), name) for target, name, _new in table.patches]
    assert len(keys) == len(set(keys))  # once each
    expected: dict[tuple[int, str], Any] = {}
    for target, name, replacement in raw:  # what assigning vcrpy's whole list, in order, leaves
        expected[(id(target), name)] = replacement
    assert set(expected) == set(keys)
    before = snapshot()
    with cfreplay.use_cassette(outer, freeze_time=False):
        inside = {(id(target), name): target.__dict__.get(name) for target, name, _new in table.patches}
        lane = table._requests_lane
        for key, replacement in expected.items():
            assert inside[key] is replacement, key
        assert lane is None or lane[0].__dict__.get("send") is lane[2]
    assert snapshot() == before  # restored exactly
