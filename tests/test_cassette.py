"""Cassette files: vcrpy round trips, safe loading, bad input, atomic saving, format sniffing."""

from __future__ import annotations

import errno
import gzip
import http.server
import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import vcr
import yaml
from hypothesis import given, settings
from vcr.serializers import jsonserializer, yamlserializer

from cfreplay import cassette
from cfreplay.errors import CassetteError

# --------------------------------------------------------------------------- a tiny HTTP server to record against

TEXT_BODY = "héllo, wörld".encode()
JSON_BODY = b'{"guid": "1234", "name": "api"}'
BINARY_BODY = bytes(range(256))  # not UTF-8: vcrpy keeps it as bytes, YAML writes !!binary
GZIP_BODY = gzip.compress(JSON_BODY, mtime=0)

# route -> (bytes on the wire, extra headers, what the client sees)
ROUTES: dict[str, tuple[bytes, dict[str, str], bytes]] = {
    "/text": (TEXT_BODY, {"Content-Type": "text/plain; charset=utf-8"}, TEXT_BODY),
    "/json": (JSON_BODY, {"Content-Type": "application/json"}, JSON_BODY),
    "/binary": (BINARY_BODY, {"Content-Type": "application/octet-stream"}, BINARY_BODY),
    "/archive.gz": (GZIP_BODY, {"Content-Type": "application/gzip"}, GZIP_BODY),
    "/gzipped": (GZIP_BODY, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, JSON_BODY),
}
YAML_ROUTES = ("/text", "/json", "/binary", "/archive.gz", "/gzipped")
JSON_ROUTES = ("/text", "/json")  # vcrpy's JSON serializer cannot hold bytes


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    hits = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

    def version_string(self) -> str:
        return "tiny"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Thu, 01 Jan 2026 00:00:00 GMT"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        assert isinstance(self.server, _Server)
        self.server.hits += 1
        body, headers, _ = ROUTES[self.path]
        self.send_response(200)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def base_url(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_port}"


def fetch(path: Path, serializer: str, base: str, routes: tuple[str, ...], record_mode: str) -> dict[str, bytes]:
    """GET each route under a vcrpy cassette; the response bodies as the client saw them."""
    with (
        vcr.use_cassette(str(path), serializer=serializer, record_mode=record_mode) as cass,
        requests.Session() as session,
    ):
        bodies = {route: session.get(base + route, timeout=5).content for route in routes}
    if record_mode == "none":
        assert cass.all_played
    return bodies


# --------------------------------------------------------------------------- hand-built cassette data


def interaction(index: int) -> dict[str, Any]:
    return {
        "request": {
            "body": None,
            "headers": {"Accept": ["application/json"], "Authorization": ["bearer REDACTED"]},
            "method": "GET",
            "uri": f"https://api.example.test/v2/apps/{index}",
        },
        "response": {
            "body": {"string": '{"total_results": 0}'},
            "headers": {"Content-Type": ["application/json;charset=utf-8"]},
            "status": {"code": 200, "message": "OK"},
        },
    }


def document(count: int = 2) -> dict[str, Any]:
    return {"interactions": [interaction(i) for i in range(count)], "version": 1}


def write(path: Path, data: Any) -> Path:
    text = json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data)
    path.write_text(text, encoding="utf-8")
    return path


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.cfreplay-tmp"))


# --------------------------------------------------------------------------- 1. round trip with real vcrpy cassettes


@pytest.mark.parametrize(("serializer", "routes"), [("yaml", YAML_ROUTES), ("json", JSON_ROUTES)])
def test_vcrpy_cassette_round_trips_byte_for_byte(
    tmp_path: Path, server: _Server, serializer: str, routes: tuple[str, ...]
) -> None:
    path = tmp_path / f"recorded.{serializer}"
    base = base_url(server)
    recorded = fetch(path, serializer, base, routes, record_mode="once")
    assert recorded == {route: ROUTES[route][2] for route in routes}
    raw = path.read_bytes()

    loaded = cassette.load(path)
    assert (loaded.path, loaded.format, len(loaded)) == (path, serializer, len(routes))
    assert [i["request"]["uri"] for i in loaded] == [base + route for route in routes]
    assert cassette.dumps(loaded.data, loaded.format) == raw

    cassette.save(loaded)
    assert path.read_bytes() == raw
    assert temp_files(tmp_path) == []

    hits = server.hits
    assert fetch(path, serializer, base, routes, record_mode="none") == recorded
    assert server.hits == hits  # replayed from the saved file, not fetched again


def test_yaml_cassette_keeps_binary_and_gzip_bodies_as_bytes(tmp_path: Path, server: _Server) -> None:
    path = tmp_path / "recorded.yaml"
    fetch(path, "yaml", base_url(server), YAML_ROUTES, record_mode="once")
    assert path.read_bytes().count(b"string: !!binary |") == 2
    bodies = {i["request"]["uri"].rsplit("/", 1)[1]: i["response"]["body"]["string"] for i in cassette.load(path)}
    assert bodies["binary"] == BINARY_BODY and bodies["archive.gz"] == GZIP_BODY
    assert bodies["text"] == TEXT_BODY.decode()


def test_an_edited_cassette_saved_by_cfreplay_is_what_vcrpy_replays(tmp_path: Path, server: _Server) -> None:
    path = tmp_path / "recorded.yaml"
    base = base_url(server)
    fetch(path, "yaml", base, ("/text", "/binary"), record_mode="once")
    loaded = cassette.load(path)
    loaded.interactions[0]["response"]["body"]["string"] = "edited"
    loaded.interactions[1]["response"]["body"]["string"] = b"\xff\xfe edited"
    cassette.save(loaded)
    replayed = fetch(path, "yaml", base, ("/text", "/binary"), record_mode="none")
    assert replayed == {"/text": b"edited", "/binary": b"\xff\xfe edited"}


def test_save_to_another_path_writes_the_same_bytes(tmp_path: Path) -> None:
    source = write(tmp_path / "a.yaml", document())
    loaded = cassette.load(source)
    cassette.save(loaded, tmp_path / "b.yaml")
    assert (tmp_path / "b.yaml").read_bytes() == cassette.dumps(document(), "yaml")
    assert cassette.load(tmp_path / "b.yaml").data == document()


# --------------------------------------------------------------------------- 2. safe loading

SENTINEL = "PAYLOAD-GOES-HERE"
# (YAML before the document, the dangerous node; {cmd} is a quoted shell command)
DANGEROUS = {
    "object/apply": ("", "!!python/object/apply:os.system [{cmd}]"),
    "object/new": ("", "!!python/object/new:os.system [{cmd}]"),
    "name": ("", "!!python/name:os.system"),
    "module": ("", "!!python/module:os"),
    "verbatim tag": ("", "!<tag:yaml.org,2002:python/object/apply:os.system> [{cmd}]"),
    "%TAG shorthand": ("%TAG !py! tag:yaml.org,2002:python/\n---\n", "!py!object/apply:os.system [{cmd}]"),
}


def with_payload(placement: str, payload: str) -> tuple[str, int]:
    """A cassette with *payload* in *placement*, and the line the payload is on."""
    data = document(1)
    if placement == "top level":
        return payload + "\n", 1
    if placement == "body string":
        data["interactions"][0]["response"]["body"]["string"] = SENTINEL
    elif placement == "header value":
        data["interactions"][0]["request"]["headers"]["Accept"] = [SENTINEL]
    elif placement == "interactions":
        data["interactions"] = SENTINEL
    text = yaml.safe_dump(data)
    return text.replace(SENTINEL, payload), text[: text.index(SENTINEL)].count("\n") + 1


@pytest.mark.parametrize("placement", ["body string", "header value", "interactions", "top level"])
@pytest.mark.parametrize("variant", DANGEROUS)
def test_dangerous_python_tags_are_refused_and_nothing_runs(tmp_path: Path, variant: str, placement: str) -> None:
    marker = tmp_path / "pwned"
    prefix, payload = DANGEROUS[variant]
    body, line = with_payload(placement, payload.format(cmd=json.dumps(f"touch {marker}")))
    path = tmp_path / "evil.yaml"
    path.write_text(prefix + body, encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    expected_line = prefix.count("\n") + line
    assert str(caught.value) == (
        f"{path}: refused a dangerous !!python tag at line {expected_line}; "
        "cassettes hold plain data only (nothing was run)"
    )
    assert (caught.value.path, caught.value.interaction) == (str(path), None)
    assert not marker.exists()


def test_the_dangerous_payload_is_live_under_an_unsafe_loader(tmp_path: Path) -> None:
    """Guards the test above: the same YAML really runs a command when loaded unsafely."""
    marker = tmp_path / "pwned"
    _, payload = DANGEROUS["object/apply"]
    yaml.unsafe_load(payload.format(cmd=json.dumps(f"touch {marker}")))
    assert marker.exists()


@pytest.mark.parametrize("tag", ["!!foo", "!vault", "!<tag:example.com,2024:thing>"])
def test_unknown_yaml_tags_are_refused(tmp_path: Path, tag: str) -> None:
    text, line = with_payload("body string", f"{tag} secret")
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    assert str(caught.value) == f"{path}: holds an unsupported YAML tag at line {line}; cassettes hold plain data only"
    assert "secret" not in str(caught.value)


# --------------------------------------------------------------------------- 3. bad input


def _drop(*keys: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


def _set(value: Any, *keys: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


NOT_A_CASSETTE = "is not a cassette (no top-level 'interactions' list)"
STRUCTURAL: dict[str, tuple[Callable[[dict[str, Any]], None], int | None, str]] = {
    "missing interactions": (_drop("interactions"), None, NOT_A_CASSETTE),
    "version 2": (_set(2, "version"), None, "has cassette format version 2; cfreplay reads version 1 (vcrpy >= 1.0)"),
    "no version": (_drop("version"), None, "has cassette format version None; cfreplay reads version 1 (vcrpy >= 1.0)"),
    "interactions a mapping": (_set({}, "interactions"), None, "is not a cassette ('interactions' is not a list)"),
    "metadata a list": (_set([], "metadata"), None, "has 'metadata' that is not a mapping"),
    "interaction a string": (_set("GET /", "interactions", 1), 1, "is not a mapping"),
    "no request": (_drop("interactions", 1, "request"), 1, "has no request mapping"),
    "no response": (_drop("interactions", 0, "response"), 0, "has no response mapping"),
    "no method": (_drop("interactions", 1, "request", "method"), 1, "request has no method string"),
    "uri a number": (_set(7, "interactions", 0, "request", "uri"), 0, "request has no uri string"),
    "request headers a list": (
        _set([], "interactions", 1, "request", "headers"),
        1,
        "request headers are not a mapping",
    ),
    "request body a number": (
        _set(3, "interactions", 0, "request", "body"),
        0,
        "request body is not text, bytes or null",
    ),
    "status without code": (
        _set({"message": "OK"}, "interactions", 0, "response", "status"),
        0,
        "response has no status code",
    ),
    "status code a string": (
        _set("200", "interactions", 1, "response", "status", "code"),
        1,
        "response has no status code",
    ),
    "status code a bool": (
        _set(True, "interactions", 1, "response", "status", "code"),
        1,
        "response has no status code",
    ),
    "header value a string": (
        _set("application/json", "interactions", 1, "response", "headers", "Content-Type"),
        1,
        "response header 'Content-Type' is not a list of strings",
    ),
    "header values numbers": (
        _set([200], "interactions", 1, "request", "headers", "Accept"),
        1,
        "request header 'Accept' is not a list of strings",
    ),
    "header name a number": (
        _set(["x"], "interactions", 1, "response", "headers", 5),
        1,
        "response has a header name that is not a string",
    ),
    "body a string": (
        _set("OK", "interactions", 0, "response", "body"),
        0,
        "response body has no 'string' of text or bytes",
    ),
    "body string a number": (
        _set(5, "interactions", 1, "response", "body", "string"),
        1,
        "response body has no 'string' of text or bytes",
    ),
}


def test_the_hand_built_cassette_is_valid(tmp_path: Path) -> None:
    """The mutations below are what break it."""
    for name in ("c.yaml", "c.json"):
        assert cassette.load(write(tmp_path / name, document())).data == document()


@pytest.mark.parametrize(
    ("case", "suffix"),
    [
        (case, suffix)
        for case in STRUCTURAL
        for suffix in (".yaml", ".json")
        if not (case == "header name a number" and suffix == ".json")  # JSON object keys are always strings
    ],
)
def test_structural_problems_name_the_file_and_interaction(tmp_path: Path, case: str, suffix: str) -> None:
    mutate, index, reason = STRUCTURAL[case]
    data = document(2)
    mutate(data)
    path = write(tmp_path / f"bad{suffix}", data)
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    where = f"{path}: interaction {index}" if index is not None else str(path)
    assert str(caught.value) == f"{where}: {reason}"
    assert (caught.value.path, caught.value.interaction, caught.value.reason) == (str(path), index, reason)


def test_error_messages_never_quote_header_values(tmp_path: Path) -> None:
    data = document(2)
    data["interactions"][1]["request"]["headers"]["Authorization"] = "bearer s3cr3t-token"
    path = write(tmp_path / "leaky.yaml", data)
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    assert str(caught.value) == f"{path}: interaction 1: request header 'Authorization' is not a list of strings"
    assert "s3cr3t" not in str(caught.value)


NON_UTF8 = b"interactions: []\nversion: 1\n# caf\xe9\n"
NON_UTF8_OFFSET = NON_UTF8.index(0xE9)
RAW_CASES: dict[str, tuple[str, bytes, str]] = {
    "empty yaml": ("c.yaml", b"", NOT_A_CASSETTE),
    "empty json": ("c.json", b"", "is not valid JSON: Expecting value at line 1, column 1"),
    "blank yaml": ("c.yaml", b"\n  \n", NOT_A_CASSETTE),
    "binary garbage": (
        "c.yaml",
        random.Random(7).randbytes(300) + b"\x00",
        "is binary (it holds NUL bytes), not a YAML or JSON cassette",
    ),
    "non-UTF-8": ("c.yaml", NON_UTF8, f"is not UTF-8 text (bad byte at offset {NON_UTF8_OFFSET})"),
    "malformed json": ("c.json", b'{"interactions": [}', "is not valid JSON: Expecting value at line 1, column 19"),
    "unterminated json": (
        "c.json",
        b'{"interactions": [], "version": 1',
        "is not valid JSON: Expecting ',' delimiter at line 1, column 34",
    ),
    "malformed yaml": (
        "c.yaml",
        b"interactions:\n- a\n b: c\n",
        "is not valid YAML: mapping values are not allowed in this context at line 3, column 3",
    ),
    "unterminated quote": (
        "c.yaml",
        b'version: "1',
        "is not valid YAML: found unexpected end of stream at line 1, column 12",
    ),
    "yaml list": ("c.yaml", b"- request: {}\n- response: {}\n", NOT_A_CASSETTE),
    "yaml scalar": ("c.yaml", b"just a string\n", NOT_A_CASSETTE),
    "json list": ("c.json", b"[]", NOT_A_CASSETTE),
    "deep yaml": ("c.yaml", b"[" * 5000, "is not valid YAML: exceeded maximum nesting depth at line 1, column 1001"),
}


@pytest.mark.parametrize("case", RAW_CASES)
def test_bad_files_are_cassette_errors_naming_the_file(tmp_path: Path, case: str) -> None:
    name, raw, reason = RAW_CASES[case]
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    assert str(caught.value) == f"{path}: {reason}"
    assert caught.value.interaction is None


def test_a_directory_is_not_a_cassette(tmp_path: Path) -> None:
    with pytest.raises(CassetteError) as caught:
        cassette.load(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a cassette"


def test_a_missing_file_is_not_a_cassette(tmp_path: Path) -> None:
    with pytest.raises(CassetteError) as caught:
        cassette.load(tmp_path / "gone.yaml")
    assert str(caught.value) == f"{tmp_path / 'gone.yaml'}: no such cassette"


def test_an_unreadable_file_is_a_cassette_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "c.yaml", document())

    def denied(file: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))

    # Root reads a mode-0000 file all the same: the denial is simulated where files are opened.
    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    assert str(caught.value) == f"{path}: cannot be read: {os.strerror(errno.EACCES)}"


def test_a_vcrpy_cassette_cut_anywhere_is_a_cassette_error(tmp_path: Path, server: _Server) -> None:
    path = tmp_path / "recorded.yaml"
    fetch(path, "yaml", base_url(server), ("/text", "/binary"), record_mode="once")
    raw = path.read_bytes()
    half = tmp_path / "half.yaml"
    half.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CassetteError) as caught:
        cassette.load(half)
    assert str(caught.value).startswith(f"{half}: ")
    for cut in range(len(raw) - 1):  # only the final newline can go without losing anything
        with pytest.raises(CassetteError) as caught:
            cassette.loads(raw[:cut], path=path)
        assert caught.value.path == str(path)
    assert cassette.loads(raw[:-1], path=path).data == cassette.loads(raw, path=path).data


def test_a_cassette_cut_inside_a_quoted_string(tmp_path: Path) -> None:
    raw = cassette.dumps({"interactions": [], "metadata": {"note": "caf\u00e9"}, "version": 1}, "yaml")
    assert b'note: "caf\\xE9"' in raw
    path = tmp_path / "cut.yaml"
    path.write_bytes(raw[: raw.index(b"caf")])
    with pytest.raises(CassetteError) as caught:
        cassette.load(path)
    assert str(caught.value) == f"{path}: is not valid YAML: found unexpected end of stream at line 3, column 10"


LOADS_PATHS = st.sampled_from(["c.yaml", "c.json", "c.cassette", "<cassette>"])


def loads_or_cassette_error(raw: bytes | str, path: str) -> cassette.Cassette | None:
    try:
        loaded = cassette.loads(raw, path=path)
    except CassetteError as error:
        assert error.path == path and str(error).startswith(f"{path}: ")
        return None
    # What consumers rely on once a cassette loads.
    for item in loaded:
        assert isinstance(item["request"]["uri"], str) and isinstance(item["response"]["status"]["code"], int)
    return loaded


@given(st.binary(max_size=400), LOADS_PATHS)
def test_arbitrary_bytes_load_or_raise_cassette_error(raw: bytes, path: str) -> None:
    loads_or_cassette_error(raw, path)


YAML_WORDS = "interactions version request response status code headers body string uri method metadata".split()
YAML_SCALARS = "1 2 200 -1 0x1f 1.5e3 .nan ~ null true no é AAEC".split()
YAML_SYNTAX = [":", ": ", " ", "  ", "\n", "\t", "- ", "-", "? ", "[", "]", "{", "}", ", ", "'", '"', "\\", "\\x", "#"]
YAML_MORE = ["---", "...", "|", ">", "\u2028", "\x85", "&a ", "*a", "<<: ", "%YAML 1.1\n"]
YAML_TAGS = ["!!binary ", "!!str ", "!!set ", "!!omap ", "!!foo ", "!local ", "!p!x ", "!!python/name:os.system"]
YAML_TAGS += ["!!int ", "!!float ", "!!timestamp ", "2001-02-30 "]
YAML_TAGS += ["!!python/object/apply:os.system ", "%TAG !p! tag:yaml.org,2002:python/\n"]
YAML_TOKENS = st.sampled_from(YAML_WORDS + YAML_SCALARS + YAML_SYNTAX + YAML_MORE + YAML_TAGS)


@given(st.lists(YAML_TOKENS, max_size=40).map("".join), LOADS_PATHS)
def test_arbitrary_yamlish_text_loads_or_raises_cassette_error(text: str, path: str) -> None:
    loads_or_cassette_error(text, path)


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def _resolve(data: Any, keys: tuple[Any, ...]) -> Any:
    """The value at *keys*, or None when an earlier swap replaced part of the path."""
    for key in keys:
        if (isinstance(data, dict) and key in data) or (
            isinstance(data, list) and isinstance(key, int) and key < len(data)
        ):
            data = data[key]
        else:
            return None
    return data


@st.composite
def cassette_like(draw: st.DrawFn, leaves: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A valid cassette with a few of its values swapped for arbitrary ones."""
    data = document(draw(st.integers(0, 2)))
    slots: list[tuple[Any, ...]] = [("version",), ("metadata",), ("interactions",)]
    for index in range(len(data["interactions"])):
        slots += [("interactions", index, "request", key) for key in ("body", "headers", "method", "uri")]
        slots += [("interactions", index, "response", key) for key in ("body", "headers", "status")]
        slots += [
            ("interactions", index),
            ("interactions", index, "response", "body", "string"),
            ("interactions", index, "response", "status", "code"),
            ("interactions", index, "request", "headers", "Accept"),
        ]
    for slot in draw(st.lists(st.sampled_from(slots), max_size=3)):
        parent = _resolve(data, slot[:-1])
        if isinstance(parent, dict) or (
            isinstance(parent, list) and isinstance(slot[-1], int) and slot[-1] < len(parent)
        ):
            parent[slot[-1]] = draw(leaves)
    return data


@given(cassette_like(JSON_VALUES | st.binary(max_size=8)))
def test_cassette_shaped_yaml_loads_and_round_trips_or_raises(data: dict[str, Any]) -> None:
    loaded = loads_or_cassette_error(yaml.safe_dump(data), "c.yaml")
    if loaded is not None:
        assert loaded.data == data
        assert cassette.loads(cassette.dumps(loaded.data, "yaml"), path="c.yaml").data == data


@given(cassette_like(JSON_VALUES))
def test_cassette_shaped_json_loads_and_round_trips_or_raises(data: dict[str, Any]) -> None:
    loaded = loads_or_cassette_error(json.dumps(data), "c.json")
    if loaded is not None:
        assert loaded.data == data
        assert cassette.loads(cassette.dumps(loaded.data, "json"), path="c.json").data == data


@given(cassette_like(JSON_VALUES | st.binary(max_size=8)))
def test_yaml_dumps_writes_what_vcrpy_writes(data: dict[str, Any]) -> None:
    data = {"version": 1, **data, "metadata": {"z": "é", "a": b"\xff", "m": [3, 1]}}  # keys out of order
    assert cassette.dumps(data, "yaml") == yamlserializer.serialize(data).encode()


@given(cassette_like(JSON_VALUES))
def test_json_dumps_writes_what_vcrpy_writes(data: dict[str, Any]) -> None:
    data = {"version": 1, **data, "metadata": {"z": "é", "m": [3, 1]}}  # JSON keeps insertion order, as vcrpy does
    assert cassette.dumps(data, "json") == jsonserializer.serialize(data).encode()


# --------------------------------------------------------------------------- found by these tests, fixed in cassette.py


@pytest.mark.parametrize(
    "value",
    ["2001-02-30", "!!timestamp soon", "!!int many", "!!int", "!!float lots", "1" * 5000],
    ids=["impossible date", "!!timestamp", "!!int", "empty !!int", "!!float", "5000-digit int"],
)
def test_invalid_typed_scalars_are_cassette_errors(value: str) -> None:
    text, _ = with_payload("body string", value)
    with pytest.raises(CassetteError):
        cassette.loads(text, path="c.yaml")


def test_deeply_nested_json_is_a_cassette_error() -> None:
    with pytest.raises(CassetteError):
        cassette.loads(b"[" * 100_000, path="c.json")


def test_str_with_a_lone_surrogate_is_a_cassette_error() -> None:
    with pytest.raises(CassetteError):
        cassette.loads('{"interactions": [], "version": 1, "x": "\ud800"}', path="c.json")


@pytest.mark.parametrize(
    "body",
    ["!!binary AAECAwQFBgcICQoLDA0ODxAREhM", "{[a]: b}", "{<<: 1}"],
    ids=["truncated !!binary", "unhashable key", "bad merge key"],
)
def test_constructor_errors_that_are_not_about_tags_say_so(body: str) -> None:
    text, _ = with_payload("body string", body)
    with pytest.raises(CassetteError) as caught:
        cassette.loads(text, path="c.yaml")
    assert "unsupported YAML tag" not in caught.value.reason


@pytest.mark.parametrize("body", [{}, {"string": None}], ids=["no string key", "null string"])
def test_a_response_body_without_a_string_is_refused(body: dict[str, Any]) -> None:
    data = document(2)
    data["interactions"][1]["response"]["body"] = body
    with pytest.raises(CassetteError) as caught:
        cassette.loads(yaml.safe_dump(data), path="c.yaml")
    assert str(caught.value) == "c.yaml: interaction 1: response body has no 'string' of text or bytes"


def test_version_true_is_not_version_1() -> None:
    with pytest.raises(CassetteError):
        cassette.loads(b"interactions: []\nversion: true\n", path="c.yaml")


# --------------------------------------------------------------------------- 4. atomic save

ORIGINAL = b"interactions: []\nversion: 1\n"
NEW = cassette.dumps(document(), "yaml")


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_bytes(ORIGINAL)
    path.chmod(0o640)
    return path


def test_save_replaces_the_content_and_keeps_the_mode(target: Path) -> None:
    cassette.save(cassette.Cassette(target, "yaml", document()))
    assert target.read_bytes() == NEW
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temp_files(target.parent) == []
    assert list(target.parent.iterdir()) == [target]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        cassette.atomic_write(tmp_path / "new.yaml", NEW)
    finally:
        os.umask(old)
    assert (tmp_path / "new.yaml").read_bytes() == NEW
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640
    assert temp_files(tmp_path) == []


class _FullDisk(io.FileIO):
    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fail_at(point: str, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    if point == "write":
        monkeypatch.setattr("cfreplay.cassette.os.fdopen", lambda fd, mode: _FullDisk(fd, "wb"))
        return

    def boom(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(f"cfreplay.cassette.os.{point}", boom)


@pytest.mark.parametrize("point", ["write", "fsync", "chmod", "replace"])
def test_a_failed_write_leaves_the_original_and_no_temp_file(
    target: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    _fail_at(point, monkeypatch, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    with pytest.raises(CassetteError) as caught:
        cassette.save(cassette.Cassette(target, "yaml", document()))
    monkeypatch.undo()
    assert str(caught.value) == f"{target}: cannot be written: {os.strerror(errno.ENOSPC)}"
    assert target.read_bytes() == ORIGINAL
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temp_files(target.parent) == []


@pytest.mark.parametrize("point", ["fsync", "replace"])
def test_keyboard_interrupt_mid_write_propagates_and_leaves_the_original(
    target: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    _fail_at(point, monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        cassette.atomic_write(target, NEW)
    monkeypatch.undo()
    assert target.read_bytes() == ORIGINAL
    assert temp_files(target.parent) == []


def test_a_cassette_that_cannot_be_serialised_leaves_the_original(target: Path) -> None:
    data = document(1)
    data["interactions"][0]["response"]["body"]["string"] = b"\xff"
    with pytest.raises(CassetteError) as caught:
        cassette.save(cassette.Cassette(target, "json", data))
    assert str(caught.value) == f"{target}: cannot be serialised as json: Object of type bytes is not JSON serializable"
    assert target.read_bytes() == ORIGINAL


KILL_SCRIPT = """
import io, os, sys, time
from cfreplay import cassette

def stall(*args, **kwargs):
    print("stalled", flush=True)
    time.sleep(60)

class HalfWriter(io.FileIO):
    def write(self, data):
        super().write(bytes(data)[: len(data) // 2])
        stall()

path, point = sys.argv[1:]
if point == "write":
    cassette.os.fdopen = lambda fd, mode: HalfWriter(fd, "wb")
else:
    setattr(cassette.os, point, stall)
cassette.atomic_write(path, b"new cassette " * 400_000)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("point", ["write", "fsync", "replace"])
def test_sigkill_mid_write_leaves_the_original(target: Path, point: str) -> None:
    with subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(target), point], stdout=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"stalled\n"
        finally:
            proc.kill()
        assert proc.wait(timeout=10) == -signal.SIGKILL
    assert target.read_bytes() == ORIGINAL  # a temporary file may be left over after SIGKILL


def test_writing_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    real = store / "real.yaml"
    real.write_bytes(ORIGINAL)
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(Path("store") / "real.yaml")
    cassette.atomic_write(link, NEW)
    assert link.is_symlink() and os.readlink(link) == str(Path("store") / "real.yaml")
    assert real.read_bytes() == NEW and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert temp_files(tmp_path) == temp_files(store) == []


def test_a_failure_through_a_symlink_names_the_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(ORIGINAL)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    _fail_at("replace", monkeypatch, OSError(errno.EIO, os.strerror(errno.EIO)))
    with pytest.raises(CassetteError) as caught:
        cassette.atomic_write(link, NEW)
    monkeypatch.undo()
    assert str(caught.value) == f"{link}: cannot be written: {os.strerror(errno.EIO)}"
    assert real.read_bytes() == ORIGINAL and link.is_symlink()
    assert temp_files(tmp_path) == []


def test_a_missing_directory_is_a_cassette_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "c.yaml"
    with pytest.raises(CassetteError) as caught:
        cassette.atomic_write(path, NEW)
    assert str(caught.value) == f"{path}: cannot be written: {os.strerror(errno.ENOENT)}"


def test_a_read_only_directory_is_a_cassette_error(target: Path) -> None:
    directory = target.parent
    directory.chmod(0o555)
    try:
        if os.geteuid() == 0 or os.access(directory, os.W_OK):
            pytest.skip(f"euid {os.geteuid()} can still write to a mode-0555 directory (root ignores permissions)")
        with pytest.raises(CassetteError) as caught:
            cassette.atomic_write(target, NEW)
        assert str(caught.value) == f"{target}: cannot be written: {os.strerror(errno.EACCES)}"
        assert target.read_bytes() == ORIGINAL
        assert temp_files(directory) == []
    finally:
        directory.chmod(0o755)


def test_a_temp_file_that_cannot_be_created_is_a_cassette_error(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only directory case as root sees it: mkstemp is refused."""

    def denied(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("cfreplay.cassette.tempfile.mkstemp", denied)
    with pytest.raises(CassetteError) as caught:
        cassette.atomic_write(target, NEW)
    monkeypatch.undo()
    assert str(caught.value) == f"{target}: cannot be written: {os.strerror(errno.EACCES)}"
    assert target.read_bytes() == ORIGINAL


# --------------------------------------------------------------------------- 5. detect_format


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.json", None, "json"),
        ("c.JSON", b"interactions: []", "json"),
        ("c.yaml", None, "yaml"),
        ("c.yaml", b'{"interactions": []}', "yaml"),
        ("c.YML", None, "yaml"),
        ("c.cassette", b' \n\t{"interactions": []}', "json"),
        ("c.cassette", b"interactions: []", "yaml"),
        ("c.cassette", b"", "yaml"),
        ("c.cassette", None, "yaml"),
        ("cassette", b"[{}]", "yaml"),
    ],
)
def test_detect_format(name: str, text: bytes | None, expected: str) -> None:
    assert cassette.detect_format(Path(name), text) == expected


def test_loads_sniffs_json_and_accepts_an_explicit_format() -> None:
    text = '{"interactions": [], "version": 1}'
    assert cassette.loads(text).format == "json"
    assert cassette.loads(text, path="c.yaml").format == "yaml"
    assert cassette.loads(text, path="c.yaml", format="json").format == "json"
    with pytest.raises(CassetteError) as caught:
        cassette.loads("interactions: []\nversion: 1\n", path="c.cassette", format="json")
    assert str(caught.value) == "c.cassette: is not valid JSON: Expecting value at line 1, column 1"


def test_an_unknown_extension_with_json_content_round_trips_as_json(tmp_path: Path) -> None:
    path = tmp_path / "c.cassette"
    raw = cassette.dumps(document(), "json")
    path.write_bytes(raw)
    loaded = cassette.load(path)
    assert loaded.format == "json" and loaded.data == document()
    cassette.save(loaded)
    assert path.read_bytes() == raw


def test_yaml_nested_past_the_parsers_limit_is_an_error_not_a_crash() -> None:
    """PyYAML before 6.0.4 crashes the interpreter (SIGSEGV) here: a subprocess, so a crash is a failure."""
    code = (
        "from cfreplay import cassette\n"
        "from cfreplay.errors import CassetteError\n"
        "try:\n"
        "    cassette.loads(b'[' * 100_000 + b']' * 100_000, path='deep.yaml')\n"
        "except CassetteError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"the loader crashed (exit {done.returncode}): {done.stderr[-300:]}"
    assert done.stdout.startswith("deep.yaml: is not valid YAML: exceeded maximum nesting depth")


# ----------------------------------------------------------------------------- YAML built from libyaml's events

_yaml_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.binary(max_size=40)
    # strings that look like other types, the resolver's whole job
    | st.sampled_from(["1", "0x1f", "1_000", "1e3", ".inf", "-.Inf", ".nan", "~", "null", "Null", "true", "yes",
                       "on", "Off", "2015-11-03", "2015-11-03T00:54:16Z", "0o17", "+1", "-0", "=", "<<", "", " "])
)  # fmt: skip
_yaml_data = st.recursive(
    _yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | st.integers(), inner, max_size=4)
    ),
    max_leaves=25,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a:
        return b != b
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(_yaml_data, st.sampled_from(["block", "flow", "canonical", "'", '"']))
def test_yaml_built_from_events_is_what_the_safe_loader_builds(data: Any, style: str) -> None:
    """Every document PyYAML can dump loads to equal objects of equal types, whichever way it was written."""
    options: dict[str, Any] = {"default_flow_style": style == "flow", "canonical": style == "canonical"}
    if style in ("'", '"'):
        options["default_style"] = style  # every scalar quoted: ints become ! '1', resolved as plain ones
    text = yaml.safe_dump({"interactions": [], "data": data}, allow_unicode=True, **options)
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    got = cassette._parse_yaml(text, Path("x.yaml"))
    assert got == expected
    assert repr(got) == repr(expected)  # 1 vs True vs 1.0 and datetime vs str differ here


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",  # anchors and aliases (vcrpy's old dumper wrote them)
        "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",  # a merge key: PyYAML's loader does it
        "? [1, 2]\n: complex\n",  # a complex key: PyYAML decides
        "a: 1\n---\nb: 2\n",  # several documents: PyYAML's error
        "a: !!binary aGVsbG8=\n",
        "a: !custom 1\n",  # an unknown tag: PyYAML's error
        "a: *nowhere\n",  # an alias to nothing: PyYAML's error
    ],
)
def test_anything_but_plain_data_goes_to_the_safe_loader(text: str) -> None:
    try:
        expected: Any = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        with pytest.raises(CassetteError):
            cassette._parse_yaml(text, Path("x.yaml"))
        return
    assert cassette._parse_yaml(text, Path("x.yaml")) == expected


def test_a_python_tag_is_refused_on_the_event_path_too() -> None:
    text = "interactions: []\nversion: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(CassetteError, match="refused a dangerous !!python tag"):
        cassette._parse_yaml(text, Path("x.yaml"))


def test_a_loaded_cassette_says_whether_one_object_may_stand_in_two_places() -> None:
    """The sanitizer follows YAML aliases only where the text can hold one."""
    data = {"interactions": [], "version": 1}
    assert not cassette.loads(cassette.dumps(data, "yaml"), path="c.yaml").aliased
    assert not cassette.loads(cassette.dumps(data, "json"), path="c.json").aliased
    shared = "interactions: []\nextra:\n  a: &tok shared-value-long\n  b: *tok\nversion: 1\n"
    loaded = cassette.loads(shared, path="c.yaml")
    assert loaded.aliased and loaded.data["extra"]["a"] is loaded.data["extra"]["b"]
    assert cassette.Cassette(Path("x.yaml"), "yaml").aliased  # built by hand: assume the worst


@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4),
    st.sampled_from([{}, {"default_flow_style": True}, {"indent": 4}, {"width": 8}, {"default_style": '"'}]),
)
def test_yaml_that_shares_an_object_is_known_to_alias(strings: list[str], style: dict[str, object]) -> None:
    """Wherever an alias is written (block, flow, quoted, folded), the loader says objects may be shared."""
    shared = {"values": strings}
    data = {"interactions": [], "version": 1, "extra": {"a": shared, "b": [shared, {"c": shared}]}}
    text = yaml.dump(data, Dumper=yaml.SafeDumper, **style)  # writes &id001 ... *id001
    loaded = cassette.loads(text, path="c.yaml")
    assert loaded.data["extra"]["a"] is loaded.data["extra"]["b"][0]
    assert loaded.aliased


def _strptime_stamp(value: str) -> Any:
    from datetime import UTC, datetime

    try:
        return datetime.strptime(value, cassette.RECORDED_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


_STAMP_PARTS = st.tuples(
    st.integers(0, 10000), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
    st.integers(0, 62), st.sampled_from(("{:04d}", "{}", "{:02d}")), st.sampled_from(("{:02d}", "{}", " {}")),
    st.sampled_from(("Z", "", "z", "+00:00", "Z ")),
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(_STAMP_PARTS)
def test_recorded_at_stamps_read_as_strptime_reads_them(parts: tuple[Any, ...]) -> None:
    """The fast reading of ``recorded_at`` stamps gives strptime's answer, invalid dates and odd spellings too."""
    year, month, day, hour, minute, second, year_format, field_format, zone = parts
    fields = [field_format.format(value) for value in (month, day, hour, minute, second)]
    value = f"{year_format.format(year)}-{fields[0]}-{fields[1]}T{fields[2]}:{fields[3]}:{fields[4]}{zone}"
    assert cassette._parse_stamp(value) == _strptime_stamp(value)


def test_a_recorded_at_stamp_is_read_as_written() -> None:
    from datetime import UTC, datetime

    assert cassette._parse_stamp("2026-12-01T09:08:07Z") == datetime(2026, 12, 1, 9, 8, 7, tzinfo=UTC)
    assert cassette._parse_stamp("2026-02-30T00:00:00Z") is None
    assert cassette._parse_stamp(20261201) is None


def _repetitive_cassette_text() -> str:
    """Plain scalars that repeat: keys, ints, nulls, booleans, dates and strings long enough to look like secrets."""
    interactions = [
        {
            "request": {"method": "GET", "uri": f"https://api.example.com/v2/apps/{n}", "body": None,
                        "headers": {"Accept": ["application/json"], "X-Note": ["same-plain-value-each-time"]}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Retry": ["true", "2015-11-03"]},
                         "body": {"string": "same-plain-value-each-time"}},
        }
        for n in range(50)
    ]  # fmt: skip
    return cassette.dumps({"interactions": interactions, "version": 1}, "yaml").decode()


def test_each_plain_scalar_text_is_resolved_once_per_load(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _repetitive_cassette_text()
    resolved: list[str] = []
    real_scalar = cassette._scalar

    def counting(event: yaml.ScalarEvent, constructor: Any) -> Any:
        if event.tag is None and event.implicit[0]:
            resolved.append(event.value)
        return real_scalar(event, constructor)

    monkeypatch.setattr(cassette, "_scalar", counting)
    assert cassette._parse_yaml(text, Path("x.yaml")) == yaml.load(text, Loader=yaml.SafeLoader)
    assert resolved and len(resolved) == len(set(resolved))  # "GET", 200, "request"… once each, not 50 times


@pytest.mark.parametrize("remembered", [0, 1, 5, 1 << 16])
def test_no_string_object_stands_in_two_places_without_an_alias(
    monkeypatch: pytest.MonkeyPatch, remembered: int
) -> None:
    """One string in two places is what a YAML alias loads to: the sanitizer replaces it everywhere it stands.
    Resolving a repeated text once must not make plain repeats look like one."""
    from cfreplay.hygiene._aliases import shared_strings

    monkeypatch.setattr(cassette, "_PLAIN_TEXTS", remembered)  # whatever the memo holds, the same data
    text = _repetitive_cassette_text()
    data = cassette.loads(text, path="c.yaml").data
    assert data == yaml.load(text, Loader=yaml.SafeLoader)
    assert shared_strings(data) == {}
    aliased = text.replace("- same-plain-value-each-time", "- &note same-plain-value-each-time", 1)
    aliased = aliased.replace("string: same-plain-value-each-time", "string: *note", 1)
    assert aliased != text and len(shared_strings(cassette.loads(aliased, path="c.yaml").data)) == 1
