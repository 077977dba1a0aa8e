"""A cassette cfreplay wrote replays unchanged under pytest-recording and plain vcrpy.

Teams move in both directions, and share cassettes between suites while they do: a cfreplay
cassette must not need cfreplay to be read.  pytest-recording 0.14.1 unpacks vcrpy's load
result into two values, so a top-level key of cfreplay's own (vcrpy 9.4 returns a third
value for ``metadata``) broke every replay; the recording moment now lives in each
response (``response.recorded_at``), where vcrpy ignores it.

pytest-recording is off in this suite (``-p no:recording`` in pyproject.toml); the inner run
here turns it on, and cfreplay's plugin off, so only pytest-recording and vcrpy read the file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import vcr
import yaml

import cfreplay
from cfreplay import cassette

pytest_plugins = ["pytester"]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"api_version": "2.43.0", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def record_with_cfreplay(path: Path, url: str) -> None:
    import requests

    with cfreplay.use_cassette(path, record_mode="once"):
        assert requests.get(f"{url}/v2/info", timeout=5).json()["path"] == "/v2/info"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_plain_vcrpy_replays_a_cfreplay_cassette(tmp_path: Path, server: str, suffix: str) -> None:
    import requests

    path = tmp_path / f"info{suffix}"
    record_with_cfreplay(path, server)
    data = cassette.load(path).data
    assert set(data) == {"interactions", "version"}  # nothing a reader could trip over
    assert cassette.written_by_cfreplay(data)

    recorder = vcr.VCR(record_mode="none", serializer=suffix.lstrip(".").replace("yml", "yaml"))
    with recorder.use_cassette(str(path)) as played:
        answer = requests.get(f"{server}/v2/info", timeout=5).json()
    assert answer["path"] == "/v2/info" and played.play_count == 1


def test_pytest_recording_replays_a_cfreplay_cassette(pytester: pytest.Pytester, server: str) -> None:
    """pytest-recording 0.14.1 with the network blocked: every answer comes from cfreplay's file."""
    cassettes = pytester.path / "cassettes" / "test_inner"
    record_with_cfreplay(cassettes / "test_info.yaml", server)
    assert "recorded_at" in yaml.safe_load((cassettes / "test_info.yaml").read_text())["interactions"][0]["response"]
    pytester.makepyfile(
        test_inner=f"""
        import pytest, requests

        @pytest.mark.vcr
        def test_info():
            assert requests.get("{server}/v2/info", timeout=5).json()["path"] == "/v2/info"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "recording", "-p", "no:cfreplay", "-p", "no:cacheprovider", "--record-mode=none", "--block-network",
        "-W", "error", timeout=120,
    )  # fmt: skip
    result.assert_outcomes(passed=1)
