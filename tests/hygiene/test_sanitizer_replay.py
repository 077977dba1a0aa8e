"""A sanitized gzip cassette replays under both requests and httpx, whichever recorded it.

Recorded against a server on 127.0.0.1 started here; replayed with the server gone.
"""

from __future__ import annotations

import gzip
import http.server
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
import vcr

from cfreplay.cf import tokens
from cfreplay.hygiene.sanitizer import Sanitizer

TOKEN_HOLDER: dict[str, str] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = gzip.compress(json.dumps({"access_token": TOKEN_HOLDER["token"], "name": "web"}).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v2/apps/x"
    finally:
        httpd.shutdown()
        httpd.server_close()


def with_requests(url: str) -> dict[str, str]:
    result: dict[str, str] = requests.get(url, timeout=5).json()
    return result


def with_httpx(url: str) -> dict[str, str]:
    result: dict[str, str] = httpx.get(url, timeout=5).json()
    return result


CLIENTS: dict[str, Callable[[str], dict[str, str]]] = {"requests": with_requests, "httpx": with_httpx}


@pytest.mark.parametrize("recorder", sorted(CLIENTS))
def test_gzip_cassettes_replay_under_every_client(server: str, recorder: str, tmp_path: Path) -> None:
    TOKEN_HOLDER["token"] = secrets.token_urlsafe(32)
    path = tmp_path / "gzip.yaml"
    with vcr.use_cassette(str(path), record_mode="all"):
        live = CLIENTS[recorder](server)
    assert live["access_token"] == TOKEN_HOLDER["token"]
    assert Sanitizer().sanitize_file(path)
    assert TOKEN_HOLDER["token"] not in path.read_text()
    for name, client in CLIENTS.items():
        with vcr.use_cassette(str(path), record_mode="none"):
            replayed = client(server)
        assert replayed["name"] == "web", name
        assert replayed["access_token"].startswith("cfreplay-redacted-"), name
        assert not tokens.JWT_PATTERN.search(replayed["access_token"])
