"""`cfreplay import`, `show`, `diff` and `serve CASSETTE` as a user runs them."""

from __future__ import annotations

import io
import json
import queue
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.commands.cli import main

GUID = "c462b988-8644-4bf6-83cb-32a12c3d1564"


def har(token: str, password: str) -> dict[str, Any]:
    restage = factories.restage_response(seed=1, guid=GUID)
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [
                {
                    "startedDateTime": "2024-05-06T07:08:09.000Z",
                    "request": {
                        "method": "POST",
                        "url": f"https://api.sys.example.com/v2/apps/{GUID}/restage",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Authorization", "value": f"bearer {token}"}],
                        "postData": {"mimeType": "application/x-www-form-urlencoded", "text": f"password={password}"},
                    },
                    "response": {
                        "status": 201,
                        "statusText": "Created",
                        "headers": [{"name": k, "value": v} for k, v in restage.headers],
                        "content": {"mimeType": "application/json", "text": restage.body.decode()},
                    },
                }
            ],
        }
    }


def test_import_writes_a_sanitized_cassette_and_show_and_diff_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = jwt.encode({"sub": secrets.token_hex(4), "exp": 2_000_000_000}, secrets.token_hex(32), algorithm="HS256")
    password = secrets.token_urlsafe(12)
    source = tmp_path / "capture.har"
    source.write_text(json.dumps(har(token, password)))
    out = tmp_path / "imported.yaml"
    assert main(["import", str(source), "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[0] == f"imported 1 interaction from {source}"
    assert "  scan: clean" in stdout
    raw = out.read_bytes()
    assert token.encode() not in raw and password.encode() not in raw
    assert len(cassette.load(out)) == 1

    assert main(["show", str(out)]) == 0
    listing = capsys.readouterr().out
    assert f"{out}: 1 interaction" in listing and "201" in listing
    assert main(["show", str(out), "--index", "0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert main(["show", str(out), "--index", "3"]) == 2
    assert capsys.readouterr().err == f"cfreplay: error: {out}: no interaction 3; it has 1 (0-0)\n"

    assert main(["diff", str(out), str(out)]) == 0
    assert "no differences" in capsys.readouterr().out
    changed = cassette.load(out)
    body = json.loads(changed.interactions[0]["response"]["body"]["string"])
    body["entity"]["memory"] = 4096
    changed.interactions[0]["response"]["body"]["string"] = json.dumps(body)
    other = tmp_path / "changed.yaml"
    other.write_bytes(cassette.dumps(changed.data, "yaml"))
    assert main(["diff", str(out), str(other)]) == 1
    assert "entity.memory" in capsys.readouterr().out


def test_import_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "broken.har"
    source.write_text('{"log": {"entries": [')
    out = tmp_path / "never.yaml"
    assert main(["import", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cfreplay: error: {source}:") and err.count("\n") == 1
    assert not out.exists()


def test_serve_needs_cassettes_or_simulate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == "cfreplay: error: give cassettes to replay, or --simulate (not both)\n"


def test_serve_a_cassette_in_a_real_subprocess(tmp_path: Path) -> None:
    restage = factories.restage_response(seed=2, guid=GUID)
    data = {
        "interactions": [
            {
                "request": {
                    "body": None,
                    "headers": {},
                    "method": "POST",
                    "uri": f"https://api.sys.example.com/v2/apps/{GUID}/restage",
                },
                "response": {
                    "body": {"string": restage.body.decode()},
                    "headers": {k: [v] for k, v in restage.headers},
                    "status": {"code": 201, "message": "Created"},
                },
            }
        ],
        "version": 1,
    }
    path = tmp_path / "restage.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    process = subprocess.Popen(
        [sys.executable, "-m", "cfreplay", "serve", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("replaying 1 cassette at http://127.0.0.1:")
        url = line.split(" at ")[1].split(" ")[0]
        answer = requests.post(f"{url}/v2/apps/{GUID}/restage", timeout=5)
        assert answer.status_code == 201
        assert answer.json()["metadata"]["guid"] == GUID
        query_token = secrets.token_urlsafe(16)
        missing = requests.get(f"{url}/v2/apps/{GUID}?access_token={query_token}", timeout=5)
        assert missing.status_code == 404
        assert missing.json()["error_code"] == "CF-NotFound"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"GET /v2/apps/{GUID}" in stderr  # the log names the unmatched request…
    assert query_token not in stderr  # …but never a token it carried


class _Watched(io.StringIO):
    """stdout that hands the served URL to another thread as soon as ``serve`` prints it."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: queue.Queue[str] = queue.Queue()

    def write(self, text: str) -> int:
        if " at http://" in text:
            self.urls.put(text.split(" at ", 1)[1].split()[0])
        return super().write(text)


def serve_in_process(args: list[str], client: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, list[Any]]:
    """``main(["serve", *args])`` in this (the main) thread, *client(url)* in another; SIGTERM when it is done."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("serve waits for signals, which only the main thread receives")
    stdout = _Watched()
    monkeypatch.setattr(sys, "stdout", stdout)
    seen: list[Any] = []

    def drive() -> None:
        try:
            url = stdout.urls.get(timeout=30)
        except queue.Empty:
            return  # serve never listened: main() returns by itself
        try:
            seen.append(client(url))
        except BaseException as error:  # reported by the test, in the main thread
            seen.append(error)
        finally:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    code = main(["serve", *args])
    thread.join(timeout=30)
    return code, stdout.getvalue(), seen


def info_cassette(tmp_path: Path) -> Path:
    info = factories.info()
    body = json.dumps(info)
    data = {
        "interactions": [
            {
                "request": {"body": None, "headers": {}, "method": "GET", "uri": "https://api.sys.example.com/v2/info"},
                "response": {
                    "body": {"string": body},
                    "headers": {"Content-Type": ["application/json"], "Content-Length": [str(len(body))]},
                    "status": {"code": 200, "message": "OK"},
                },
            }
        ],
        "version": 1,
    }
    path = tmp_path / "info.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    return path


def test_serve_repeat_answers_v2_info_again_pointing_at_the_served_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = info_cassette(tmp_path)

    def client(url: str) -> list[tuple[int, str, str]]:
        answers = [requests.get(f"{url}/v2/info", timeout=5) for _ in range(3)]
        return [(a.status_code, a.json()["token_endpoint"], a.json()["doppler_logging_endpoint"]) for a in answers]

    code, out, seen = serve_in_process([str(path), "--repeat"], client, monkeypatch)
    assert code == 0, out
    assert out.startswith("replaying 1 cassette at http://127.0.0.1:")
    url = out.split(" at ", 1)[1].split()[0]
    [answers] = seen
    assert answers == [(200, url, url.replace("http://", "ws://"))] * 3

    def statuses(url: str) -> list[int]:
        return [requests.get(f"{url}/v2/info", timeout=5).status_code for _ in range(2)]

    code, out, seen = serve_in_process([str(path)], statuses, monkeypatch)  # without --repeat: played once
    assert (code, seen) == (0, [[200, 404]])


def test_serve_repeat_is_for_cassettes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--simulate", "--repeat"]) == 2
    err = capsys.readouterr().err
    assert err == "cfreplay: error: --repeat replays cassettes; the simulator answers every request anyway\n"
