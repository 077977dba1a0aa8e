"""`cfreplay convert` and ``writing.convert``: YAML <-> JSON beside the source, lossless and atomic.

Cassettes are built here with the factories (tokens are the factories' test tokens, signed
with the published test key) or recorded from the fake cloud of ``fakecloud.py``; vcrpy's
own serializers write the "vcrpy-written" ones.
"""

from __future__ import annotations

import errno
import gzip
import http.server
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import vcr
import vcr.serialize
import vcr.serializers.jsonserializer
import vcr.serializers.yamlserializer
from fakecloud import FakeCloud
from hypothesis import given
from vcr.request import Request as VcrRequest

import cfreplay
from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.commands.cli import main
from cfreplay.errors import CassetteError
from cfreplay.hygiene import writing
from cfreplay.hygiene.sanitizer import Sanitizer

HOST = "https://api.sys.example.com"
RECORDED_AT = "2026-11-28T00:00:00Z"
GZIP_BODY = gzip.compress(b'{"name": "gzipped"}', mtime=0)  # not UTF-8: a gzip header byte is 0x8b


def interaction(
    index: int, *, body: str | bytes | None = None, request_body: str | bytes | None = None
) -> dict[str, Any]:
    app = factories.app_envelope(seed=index)
    return {
        "request": {
            "body": request_body,
            "headers": {"Accept": ["application/json"], "Authorization": [f"bearer {factories.access_token(seed=1)}"]},
            "method": "GET" if request_body is None else "POST",
            "uri": f"{HOST}/v2/apps/{app['metadata']['guid']}",
        },
        "response": {
            "body": {"string": json.dumps(app, indent=2) if body is None else body},
            "headers": {"Content-Type": ["application/json;charset=utf-8"], "X-Vcap-Request-Id": [f"id-{index}"]},
            "status": {"code": 200, "message": "OK"},
        },
    }


def document(*interactions: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"interactions": list(interactions) or [interaction(0), interaction(1)], "version": 1}
    data["metadata"] = {"recorded_at": RECORDED_AT} if metadata is None else metadata
    return data


def vcrpy_writes(data: dict[str, Any], serializer: Any) -> bytes:
    """What vcrpy itself writes for *data* (its cassette dict of Request objects and responses)."""
    cassette_dict = {
        "requests": [VcrRequest(**i["request"]) for i in data["interactions"]],
        "responses": [i["response"] for i in data["interactions"]],
        "metadata": data.get("metadata"),
    }
    return str(vcr.serialize.serialize(cassette_dict, serializer)).encode("utf-8")


def vcrpy_reads(path: Path, serializer: Any) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """The interactions as vcrpy hands them to replay: (method, uri, body, headers) and the responses."""
    requests_, responses, *_ = vcr.serialize.deserialize(path.read_text(encoding="utf-8"), serializer)
    return [(r.method, r.uri, r.body, dict(r.headers)) for r in requests_], responses


def text_bodies(data: dict[str, Any]) -> dict[str, Any]:
    """*data* as vcrpy's serializer hands it to ``json.dumps``: UTF-8 bytes bodies as text."""
    copy = json.loads(json.dumps(data, default=lambda value: value.decode("utf-8")))
    assert isinstance(copy, dict)
    return copy


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".cfreplay-tmp")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["convert", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- round trips


def test_yaml_to_json_to_yaml_is_byte_identical_for_a_vcrpy_cassette(tmp_path: Path) -> None:
    data = document(interaction(0), interaction(1, request_body="grant_type=password"), interaction(2))
    source = tmp_path / "c.yaml"
    original = vcrpy_writes(data, vcr.serializers.yamlserializer)
    source.write_bytes(original)

    converted = writing.convert(source, "json")
    assert converted == tmp_path / "c.json"
    assert source.read_bytes() == original  # kept
    assert json.loads(converted.read_bytes()) == json.loads(vcrpy_writes(data, vcr.serializers.jsonserializer))
    assert converted.read_bytes().endswith(b"\n}\n") and b'\n    "interactions": [\n' in converted.read_bytes()
    assert cassette.load(converted).data == cassette.load(source).data  # metadata included
    if b"recorded_at" in original:  # vcrpy 9.2 drops the cassette's own keys when it writes; 9.4 keeps them
        assert cassette.load(converted).data["metadata"] == {"recorded_at": RECORDED_AT}

    source.unlink()
    back = writing.convert(converted, "yaml")
    assert back == source and back.read_bytes() == original


def test_json_to_yaml_gives_the_same_data_and_vcrpy_reads_both_alike(tmp_path: Path) -> None:
    source = tmp_path / "c.json"
    source.write_bytes(vcrpy_writes(document(), vcr.serializers.jsonserializer))
    converted = writing.convert(source, "yaml")
    assert converted == tmp_path / "c.yaml"
    assert cassette.load(converted).data == cassette.load(source).data
    assert vcrpy_reads(converted, vcr.serializers.yamlserializer) == vcrpy_reads(source, vcr.serializers.jsonserializer)


def test_a_yml_file_becomes_json_and_json_becomes_yaml(tmp_path: Path) -> None:
    source = tmp_path / "c.yml"
    source.write_bytes(cassette.dumps(document(), "yaml"))
    assert writing.destination_for(source, "json") == tmp_path / "c.json"
    assert writing.destination_for(tmp_path / "c.json", "yaml") == tmp_path / "c.yaml"
    assert writing.convert(source, "json") == tmp_path / "c.json"


def test_utf8_binary_bodies_become_text_as_vcrpy_writes_them_and_replay_as_the_same_bytes(tmp_path: Path) -> None:
    utf8 = "héllo, 世界".encode()
    data = document(interaction(0, body=utf8, request_body=b"a=1&b=\xc3\xa9"), interaction(1))
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(data, "yaml"))
    assert b"!!binary" in source.read_bytes()

    converted = writing.convert(source, "json")
    loaded = cassette.load(converted).data
    assert loaded == text_bodies(data)
    assert loaded["interactions"][0]["response"]["body"]["string"] == "héllo, 世界"
    # vcrpy's own JSON serializer writes the same thing for these bytes (9.2 without the metadata).
    ours, theirs = json.loads(converted.read_bytes()), json.loads(vcrpy_writes(data, vcr.serializers.jsonserializer))
    if "metadata" not in theirs:
        ours.pop("metadata")
    assert ours == theirs
    # And replays them as the bytes the YAML held.
    yaml_requests, yaml_responses = vcrpy_reads(source, vcr.serializers.yamlserializer)
    json_requests, json_responses = vcrpy_reads(converted, vcr.serializers.jsonserializer)
    assert (json_requests, json_responses) == (yaml_requests, yaml_responses)
    assert json_responses[0]["body"]["string"] == utf8 and json_requests[0][2] == b"a=1&b=\xc3\xa9"


def test_a_body_that_is_not_utf8_is_refused_for_json_and_nothing_is_written(tmp_path: Path) -> None:
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(document(interaction(0), interaction(1, body=GZIP_BODY)), "yaml"))
    before = source.read_bytes()
    with pytest.raises(CassetteError) as caught:
        writing.convert(source, "json")
    assert str(caught.value) == (
        f"{source}: interaction 1: has a binary response body (not UTF-8 text), which vcrpy's JSON format "
        "cannot store; keep this cassette YAML"
    )
    assert caught.value.interaction == 1
    assert source.read_bytes() == before and sorted(tmp_path.iterdir()) == [source]
    # vcrpy refuses it as well: its JSON serializer cannot store such a body.
    with pytest.raises(TypeError):
        vcrpy_writes(cassette.load(source).data, vcr.serializers.jsonserializer)


def test_a_binary_body_survives_json_to_yaml_to_json(tmp_path: Path) -> None:
    """A YAML cassette with gzip bodies stays YAML; text bodies go both ways unchanged."""
    source = tmp_path / "c.yaml"
    data = document(interaction(0, body=GZIP_BODY))
    source.write_bytes(cassette.dumps(data, "yaml"))
    assert cassette.load(source).data == data  # the YAML keeps the bytes (!!binary)
    assert writing.convert(source, "yaml") == source  # nothing to do


def test_a_value_json_cannot_hold_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "c.yaml"
    source.write_bytes(b"interactions: []\nmetadata: {recorded_at: 2026-11-28 00:00:00}\nversion: 1\n")
    with pytest.raises(CassetteError) as caught:
        writing.convert(source, "json")
    assert str(caught.value) == f"{source}: cannot be converted to json: it holds a value json cannot store"
    source.write_bytes(b"interactions: []\nmetadata: {1: one}\nversion: 1\n")
    with pytest.raises(CassetteError) as caught:
        writing.convert(source, "json")
    assert (
        str(caught.value) == f"{source}: cannot be converted to json losslessly: top-level key 'metadata' would change"
    )
    assert sorted(tmp_path.iterdir()) == [source]


def test_convert_writes_through_the_one_write_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every cassette cfreplay writes is sanitized: a secret in the source does not reach the new file."""
    password = os.urandom(8).hex()
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(document(interaction(0, request_body=f"password={password}")), "yaml"))
    code, out, _ = run(capsys, str(source), "--to", "json")
    assert code == 0 and "sanitized: 1 replacements in 1 interaction: form-field ×1" in out
    converted = tmp_path / "c.json"
    assert cassette.load(converted).data["interactions"][0]["request"]["body"] == "password=%2A%2A%2A"
    assert password not in converted.read_text()
    assert password in source.read_text()  # the source is the user's to sanitize


# --------------------------------------------------------------------------- replay of the converted file


def session_flow(cloud: FakeCloud) -> list[tuple[int, Any]]:
    """Log in, read the app, read the (gzip) info: the statuses and JSON documents seen."""
    with requests.Session() as http:
        form = {"grant_type": "password", "client_id": "cf", "username": cloud.username, "password": cloud.password}
        login = http.post(f"{cloud.base}/oauth/token", data=form, timeout=5)
        token = login.json()["access_token"]
        app = http.get(f"{cloud.base}/v2/apps/{cloud.guid}", headers={"Authorization": f"bearer {token}"}, timeout=5)
        info = http.get(f"{cloud.base}/v2/info", timeout=5)
        return [(r.status_code, r.json()) for r in (login, app, info)]


def test_a_recorded_cassette_converted_to_json_replays_offline(
    cloud: FakeCloud, tmp_path: Path, connect_spy: list[Any]
) -> None:
    source = tmp_path / "flow.yaml"
    with cfreplay.use_cassette(source, record_mode="once"):
        live = session_flow(cloud)
    with cfreplay.use_cassette(source):
        from_yaml = session_flow(cloud)
    served = cloud.served

    converted = writing.convert(source, "json", remove_source=True)
    assert not source.exists() and converted == tmp_path / "flow.json"
    with cfreplay.use_cassette(converted) as active:
        assert active.offline and active.frozen
        from_json = session_flow(cloud)
        assert active.all_played and active.play_count == 3
    assert cloud.served == served  # the server was up and heard nothing
    assert connect_spy == []
    assert from_json == from_yaml
    assert [status for status, _ in from_json] == [status for status, _ in live] == [200, 200, 200]
    assert from_json[1] == live[1] and from_json[2] == live[2]  # no secret in these: exactly as live


def test_vcrpy_and_cfreplay_both_replay_a_converted_json_cassette(tmp_path: Path, connect_spy: list[Any]) -> None:
    utf8_binary = '{"entity": {"name": "é"}}'.encode()
    data = document(interaction(0), interaction(1, body=utf8_binary))
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(data, "yaml"))
    converted = writing.convert(source, "json")
    uris = [i["request"]["uri"] for i in data["interactions"]]
    headers = {"Authorization": f"bearer {factories.access_token(seed=1)}"}

    with cfreplay.use_cassette(converted, freeze_time=False) as active:
        ours = [requests.get(uri, headers=headers, timeout=5).content for uri in uris]
        assert active.all_played
    assert connect_spy == []
    with vcr.use_cassette(str(converted), serializer="json", record_mode="none") as recorded:
        theirs = [requests.get(uri, headers=headers, timeout=5).content for uri in uris]
        assert recorded.all_played
    assert ours == theirs == [data["interactions"][0]["response"]["body"]["string"].encode(), utf8_binary]


def test_recording_a_binary_body_into_a_json_cassette_is_a_cassette_error(tmp_path: Path) -> None:
    payload = bytes(range(256))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    path = tmp_path / "bits.json"
    try:
        with (
            pytest.raises(CassetteError, match=r"bits\.json: cannot be saved as JSON: interaction 0 has a binary"),
            cfreplay.use_cassette(path, record_mode="once"),
        ):
            requests.get(f"http://127.0.0.1:{server.server_address[1]}/v2/apps/x/droplet/download", timeout=5)
        assert not path.exists()  # nothing half-written
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- writing: atomic, refusals


def test_the_destination_takes_the_source_mode(tmp_path: Path) -> None:
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(document(), "yaml"))
    source.chmod(0o600)
    converted = writing.convert(source, "json")
    assert stat.S_IMODE(converted.stat().st_mode) == 0o600


def test_a_failed_write_leaves_everything_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "c.yaml"
    source.write_bytes(cassette.dumps(document(), "yaml"))
    before = source.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("cfreplay.cassette.os.replace", boom)
    with pytest.raises(CassetteError) as caught:
        writing.convert(source, "json", remove_source=True)
    monkeypatch.undo()
    assert str(caught.value) == f"{tmp_path / 'c.json'}: cannot be written: {os.strerror(errno.EIO)}"
    assert source.read_bytes() == before  # not removed, not changed
    assert sorted(tmp_path.iterdir()) == [source] and temp_files(tmp_path) == []


def test_a_forced_write_that_fails_keeps_the_old_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, destination = tmp_path / "c.yaml", tmp_path / "c.json"
    source.write_bytes(cassette.dumps(document(), "yaml"))
    destination.write_bytes(b'{"interactions": [], "version": 1}\n')

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("cfreplay.cassette.os.fsync", boom)
    with pytest.raises(CassetteError, match="cannot be written"):
        writing.convert(source, "json", force=True)
    monkeypatch.undo()
    assert destination.read_bytes() == b'{"interactions": [], "version": 1}\n' and temp_files(tmp_path) == []


def test_a_read_only_directory_refuses_and_keeps_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    source = directory / "c.yaml"
    source.write_bytes(cassette.dumps(document(), "yaml"))
    before = source.read_bytes()
    directory.chmod(0o555)
    try:
        if os.geteuid() == 0 or os.access(directory, os.W_OK):
            pytest.skip(f"euid {os.geteuid()} can still write to a mode-0555 directory (root ignores permissions)")
        code, out, err = run(capsys, str(source), "--to", "json", "--remove-source")
        assert code == 2
        assert err == f"cfreplay: error: {directory / 'c.json'}: cannot be written: {os.strerror(errno.EACCES)}\n"
        assert out == "0 converted, 0 up to date, 1 failed\n"
        assert source.read_bytes() == before and sorted(directory.iterdir()) == [source]
    finally:
        directory.chmod(0o755)


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def yaml_cassette(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_bytes(cassette.dumps(document(), "yaml"))
    return path


def test_cli_converts_and_prints_one_line_per_file(yaml_cassette: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(yaml_cassette), "--to", "json")
    destination = yaml_cassette.with_suffix(".json")
    assert (code, err) == (0, "")
    assert out == f"{yaml_cassette} -> {destination} (2 interactions)\n1 converted, 0 up to date, 0 failed\n"
    assert yaml_cassette.exists() and cassette.load(destination).data == cassette.load(yaml_cassette).data


def test_cli_again_is_up_to_date_and_remove_source_removes_it(
    yaml_cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = yaml_cassette.with_suffix(".json")
    assert run(capsys, str(yaml_cassette), "--to", "json")[0] == 0
    written = destination.stat().st_mtime_ns
    code, out, _ = run(capsys, str(yaml_cassette), "--to", "json", "--remove-source")
    assert code == 0
    assert out.splitlines()[0] == f"{yaml_cassette} -> {destination} (up to date, 2 interactions, source removed)"
    assert not yaml_cassette.exists() and destination.stat().st_mtime_ns == written


def test_cli_remove_source_after_writing(yaml_cassette: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(yaml_cassette), "--to", "json", "--remove-source")
    assert code == 0 and out.splitlines()[0].endswith("(2 interactions, source removed)")
    assert not yaml_cassette.exists() and yaml_cassette.with_suffix(".json").is_file()


def test_cli_already_in_the_target_format_is_a_note(yaml_cassette: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(yaml_cassette), "--to", "yaml", "--remove-source")
    assert (code, err) == (0, "")
    assert (
        out == f"{yaml_cassette}: already yaml, nothing to do (2 interactions)\n0 converted, 0 up to date, 0 failed\n"
    )
    assert sorted(yaml_cassette.parent.iterdir()) == [yaml_cassette]


def test_cli_refuses_a_destination_that_differs_unless_forced(
    yaml_cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = yaml_cassette.with_suffix(".json")
    destination.write_bytes(b'{"interactions": [], "version": 1}\n')
    code, out, err = run(capsys, str(yaml_cassette), "--to", "json", "--remove-source")
    assert code == 2
    assert (
        err
        == f"cfreplay: error: {destination}: exists and differs from {yaml_cassette} converted (--force replaces it)\n"
    )
    assert out == "0 converted, 0 up to date, 1 failed\n"
    assert destination.read_bytes() == b'{"interactions": [], "version": 1}\n' and yaml_cassette.exists()

    code, out, err = run(capsys, str(yaml_cassette), "--to", "json", "--force")
    assert (code, err) == (0, "") and out.startswith(f"{yaml_cassette} -> {destination} (2 interactions)\n")
    assert cassette.load(destination).data == cassette.load(yaml_cassette).data


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"name: not a cassette\n", "is not a cassette (no top-level 'interactions' list)"),
        (b"interactions: [\n", "is not valid YAML"),
        (b"\xff\xfe binary", "is not UTF-8 text (bad byte at offset 0)"),
        (b"!!python/object/apply:os.system [echo]\n", "refused a dangerous !!python tag"),
    ],
)
def test_cli_refuses_what_is_not_a_cassette(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    code, out, err = run(capsys, str(path), "--to", "json")
    assert code == 2 and out == "0 converted, 0 up to date, 1 failed\n"
    assert err.startswith(f"cfreplay: error: {path}: {reason}") and err.count("\n") == 1
    assert sorted(tmp_path.iterdir()) == [path]


def test_cli_unreadable_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yaml"
    code, _, err = run(capsys, str(missing), "--to", "json")
    assert code == 2 and err == f"cfreplay: error: {missing}: no such cassette\n"
    locked = tmp_path / "locked.yaml"
    locked.write_bytes(cassette.dumps(document(), "yaml"))
    locked.chmod(0)
    try:
        if os.geteuid() == 0 or os.access(locked, os.R_OK):
            pytest.skip(f"euid {os.geteuid()} can still read a mode-000 file")
        code, _, err = run(capsys, str(locked), "--to", "json")
        assert code == 2 and err == f"cfreplay: error: {locked}: cannot be read: {os.strerror(errno.EACCES)}\n"
    finally:
        locked.chmod(0o644)


def test_cli_goes_on_after_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, good = tmp_path / "a-bad.yaml", tmp_path / "b-good.yaml"
    bad.write_bytes(b"version: 1\n")
    good.write_bytes(cassette.dumps(document(), "yaml"))
    code, out, err = run(capsys, str(bad), str(good), "--to", "json")
    assert code == 2
    assert err == f"cfreplay: error: {bad}: is not a cassette (no top-level 'interactions' list)\n"
    assert out == f"{good} -> {tmp_path / 'b-good.json'} (2 interactions)\n1 converted, 0 up to date, 1 failed\n"


def test_cli_walks_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cassettes"
    (root / "nested").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.yaml").write_bytes(cassette.dumps(document(), "yaml"))
    (root / "nested" / "b.yml").write_bytes(cassette.dumps(document(interaction(5)), "yaml"))
    (root / "c.json").write_bytes(cassette.dumps(document(), "json"))  # already JSON: not a source
    (root / "package.json").write_text('{"name": "not a cassette"}')
    (root / "config.yaml").write_text("name: not a cassette\n")
    (root / ".hidden" / "d.yaml").write_bytes(cassette.dumps(document(), "yaml"))
    (root / "notes.txt").write_text("interactions")

    code, out, err = run(capsys, str(root), "--to", "json")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{root / 'a.yaml'} -> {root / 'a.json'} (2 interactions)",
        f"{root / 'nested' / 'b.yml'} -> {root / 'nested' / 'b.json'} (1 interaction)",
        "2 converted, 0 up to date, 0 failed",
    ]
    assert not (root / "config.json").exists() and not (root / ".hidden" / "d.json").exists()

    code, out, _ = run(capsys, str(root), "--to", "yaml")
    # c.json -> c.yaml; a.json and b.json hold what a.yaml and b.yml hold (b.yaml is new: .yml is kept).
    assert code == 0 and out.splitlines()[-1] == "2 converted, 1 up to date, 0 failed"
    assert (root / "nested" / "b.yaml").read_bytes() == (root / "nested" / "b.yml").read_bytes()


def test_cli_usage_errors(yaml_cassette: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(yaml_cassette))
    assert code == 2 and err.count("\n") == 1 and "--to" in err
    code, _, err = run(capsys, str(yaml_cassette), "--to", "toml")
    assert code == 2 and err.count("\n") == 1 and "invalid choice: 'toml'" in err


def test_cli_as_a_subprocess(yaml_cassette: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cfreplay", "convert", str(yaml_cassette), "--to", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[0] == f"{yaml_cassette} -> {yaml_cassette.with_suffix('.json')} (2 interactions)"


# --------------------------------------------------------------------------- property: convert is lossless

TEXT = st.text(max_size=30)
BODY = st.none() | TEXT | st.binary(max_size=30) | TEXT.map(str.encode)
# Header names the sanitizer leaves alone: convert sanitizes what it writes, so a value under a
# name secret by rule (TOKEN, X-Api-Key, Cookie…, which hypothesis does find) is replaced, not lost.
_RULES = Sanitizer().table
_HEADER_NAMES = st.text(min_size=1, max_size=10).filter(lambda name: _RULES.header_rule(name) is None)
HEADERS = st.dictionaries(_HEADER_NAMES, st.lists(TEXT, min_size=1, max_size=2), max_size=3)


@st.composite
def cassettes(draw: st.DrawFn) -> dict[str, Any]:
    items = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        items.append({
            "request": {"body": draw(BODY), "headers": draw(HEADERS),
                        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
                        "uri": HOST + "/v2/" + draw(st.text(alphabet="abcdef0123456789-/?=&", max_size=20))},
            "response": {"body": {"string": draw(BODY.filter(lambda b: b is not None))}, "headers": draw(HEADERS),
                         "status": {"code": draw(st.integers(100, 599)), "message": draw(TEXT)}},
        })  # fmt: skip
    data: dict[str, Any] = {"interactions": items, "version": 1}
    keys = st.text(max_size=10).filter(lambda key: not _RULES.secret_key(key))  # as header names above
    metadata = draw(st.none() | st.dictionaries(keys, TEXT | st.integers() | st.booleans(), max_size=3))
    if metadata is not None:
        data["metadata"] = metadata
    return data


def _utf8(value: Any) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@given(cassettes())
def test_convert_is_lossless(data: dict[str, Any]) -> None:
    bodies = [b for i in data["interactions"] for b in (i["request"]["body"], i["response"]["body"]["string"])]
    storable = all(_utf8(b) for b in bodies if isinstance(b, bytes))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "c.yaml"
        source.write_bytes(cassette.dumps(data, "yaml"))
        original = cassette.load(source).data
        if not storable:
            with pytest.raises(CassetteError, match=r"binary .* body"):
                writing.convert(source, "json")
            assert sorted(Path(tmp).iterdir()) == [source]
            return
        seen_by_vcrpy = vcrpy_reads(source, vcr.serializers.yamlserializer)
        converted = writing.convert(source, "json", remove_source=True)
        assert not source.exists()
        assert cassette.load(converted).data == text_bodies(original)
        assert vcrpy_reads(converted, vcr.serializers.jsonserializer) == seen_by_vcrpy
        back = writing.convert(converted, "yaml")
        assert back == source
        assert cassette.load(back).data == text_bodies(original)
        if not any(isinstance(b, bytes) for b in bodies):
            assert back.read_bytes() == cassette.dumps(data, "yaml")


def test_cli_a_directory_that_refuses_the_temp_file_keeps_the_source(
    yaml_cassette: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only directory case as root sees it: mkstemp is refused."""

    def denied(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    before = yaml_cassette.read_bytes()
    monkeypatch.setattr("cfreplay.cassette.tempfile.mkstemp", denied)
    code, out, err = run(capsys, str(yaml_cassette), "--to", "json", "--remove-source")
    monkeypatch.undo()
    destination = yaml_cassette.with_suffix(".json")
    assert code == 2 and out == "0 converted, 0 up to date, 1 failed\n"
    assert err == f"cfreplay: error: {destination}: cannot be written: {os.strerror(errno.EACCES)}\n"
    assert yaml_cassette.read_bytes() == before and sorted(yaml_cassette.parent.iterdir()) == [yaml_cassette]
