"""A fake Cloud Controller + UAA on 127.0.0.1 for the recorder and client tests.

Every secret it hands out is generated when it starts; it counts every request it
serves, so a replay can prove it heard nothing.
"""

from __future__ import annotations

import gzip
import http.server
import json
import secrets
import threading
import time
import urllib.parse
import uuid
from typing import Any

import jwt

from cfreplay.cf import factories

STATES = ("PENDING", "PENDING", "STAGED")


class FakeCloud:
    """A Cloud Controller and UAA in one ThreadingHTTPServer, counting every request it serves.

    ``POST /oauth/token`` (password and refresh_token grants) issues a real JWT
    (HS256 with a key random to each grant, exp = now + 600), a refresh token and a
    ``JSESSIONID`` cookie.  ``GET /v2/apps/<guid>`` wants the current token and
    answers PENDING, PENDING, then STAGED.  The first ``POST /v2/apps/<guid>/restage``
    answers 401 CF-InvalidAuthToken; later ones 201.  ``GET /v2/info`` is gzip;
    ``GET /v2/apps/<guid>/env`` is gzip and chunked, with a secret env variable and
    service credentials.
    """

    def __init__(self) -> None:
        self.username = f"dev-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(18)
        self.guid = str(uuid.uuid4())
        self.access_tokens: list[str] = []
        self.refresh_tokens: list[str] = []
        self.cookies: list[str] = []
        self.served = 0
        self.polls = 0
        self.env_secrets = (secrets.token_urlsafe(20), secrets.token_urlsafe(20))
        self.restages = 0
        self._lock = threading.Lock()
        cloud = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                cloud.handle(self)

            def do_POST(self) -> None:
                cloud.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._httpd.shutdown()
            self._httpd.server_close()

    # ------------------------------------------------------------------ documents

    def app(self, state: str) -> dict[str, Any]:
        trait = "staged" if state == "STAGED" else "staging"
        return factories.app_envelope("started", trait, "buildpack", guid=self.guid, seed=self.guid)

    def _issue(self) -> dict[str, Any]:
        now = int(time.time())
        jti = secrets.token_hex(16)
        claims = {
            "jti": jti,
            "sub": str(uuid.uuid4()),
            "scope": ["cloud_controller.read", "cloud_controller.write"],
            "client_id": "cf",
            "grant_type": "password",
            "user_name": self.username,
            "iat": now,
            "exp": now + 600,
        }
        access = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")
        refresh = secrets.token_urlsafe(32)
        self.access_tokens.append(access)
        self.refresh_tokens.append(refresh)
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": 599,
            "scope": "cloud_controller.read cloud_controller.write",
            "jti": jti,
        }

    def _authorized(self, handler: http.server.BaseHTTPRequestHandler) -> bool:
        scheme, _, credential = (handler.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and bool(self.access_tokens) and credential == self.access_tokens[-1]

    # ------------------------------------------------------------------ dispatch

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.served += 1
            status, headers, payload = self._answer(handler, body)
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if ("Transfer-Encoding", "chunked") in headers:
            for start in range(0, len(payload), 64):
                chunk = payload[start : start + 64]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.wfile.write(payload)

    def _answer(
        self, handler: http.server.BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path = urllib.parse.urlsplit(handler.path).path
        invalid = factories.error_response("InvalidAuthToken")
        if handler.command == "POST" and path == "/oauth/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            grant = form.get("grant_type")
            granted = (
                grant == "password" and form.get("username") == self.username and form.get("password") == self.password
            ) or (
                grant == "refresh_token"
                and bool(self.refresh_tokens)
                and form.get("refresh_token") == self.refresh_tokens[-1]
            )
            if not granted:
                return _json(401, {"error": "invalid_grant", "error_description": "Bad credentials"})
            cookie = secrets.token_hex(16)
            self.cookies.append(cookie)
            status, headers, payload = _json(200, self._issue())
            return status, [*headers, ("Set-Cookie", f"JSESSIONID={cookie}; Path=/; HttpOnly")], payload
        if handler.command == "GET" and path == f"/v2/apps/{self.guid}":
            if not self._authorized(handler):
                return invalid.status, list(invalid.headers), invalid.body
            state = STATES[min(self.polls, len(STATES) - 1)]
            self.polls += 1
            return _json(200, self.app(state))
        if handler.command == "POST" and path == f"/v2/apps/{self.guid}/restage":
            self.restages += 1
            if self.restages == 1 or not self._authorized(handler):
                return invalid.status, list(invalid.headers), invalid.body
            restaged = factories.restage_response(self.app("STAGED"))
            return restaged.status, list(restaged.headers), restaged.body
        if handler.command == "GET" and path == "/v2/info":
            payload = gzip.compress(json.dumps(factories.info()).encode())
            return (
                200,
                [
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", str(len(payload))),
                ],
                payload,
            )
        if handler.command == "GET" and path == f"/v2/apps/{self.guid}/env":
            if not self._authorized(handler):
                return invalid.status, list(invalid.headers), invalid.body
            payload = gzip.compress(json.dumps(self.env(*self.env_secrets)).encode())
            headers = [("Content-Type", "application/json;charset=utf-8"), ("Content-Encoding", "gzip")]
            return 200, [*headers, ("Transfer-Encoding", "chunked")], payload
        return _json(404, {"code": 10000, "description": "Unknown request", "error_code": "CF-NotFound"})

    @staticmethod
    def env(password: str, service_password: str) -> dict[str, Any]:
        """``GET /v2/apps/:guid/env``: a secret user variable and a bound service's credentials."""
        service = {
            "name": "db",
            "label": "p-mysql",
            "credentials": {
                "uri": f"mysql://admin:{service_password}@db.internal:3306/app",
                "password": service_password,
            },
        }
        return {
            "staging_env_json": {},
            "running_env_json": {},
            "environment_json": {"DB_PASSWORD": password, "SPRING_PROFILES_ACTIVE": "cloud"},
            "system_env_json": {"VCAP_SERVICES": {"p-mysql": [service]}},
        }


def _json(status: int, document: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    payload = json.dumps(document).encode()
    return status, [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(payload)))], payload
