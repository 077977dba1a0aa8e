"""Plain HTTP exchange values the factories build and the CLI prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = ["Request", "Response"]

Headers = tuple[tuple[str, str], ...]


def _first(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, headers in wire order, body bytes."""

    status: int
    headers: Headers
    body: bytes

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header(self, name: str) -> str | None:
        """The first value of header *name*, matched case-insensitively."""
        return _first(self.headers, name)

    def json(self) -> Any:
        return json.loads(self.body)

    def to_http(self) -> bytes:
        """The response as HTTP/1.1 text: status line, headers, blank line, body."""
        head = [f"HTTP/1.1 {self.status} {self.reason}".rstrip()]
        head += [f"{key}: {value}" for key, value in self.headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class Request:
    """An HTTP request as a client sends it: method, path (with query), headers, body."""

    method: str
    path: str
    headers: Headers
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header *name*, matched case-insensitively."""
        return _first(self.headers, name)

    @property
    def url(self) -> str:
        """``https://<Host><path>``, as a client library would be given it."""
        return f"https://{self.header('Host') or 'localhost'}{self.path}"

    def to_http(self) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1"]
        head += [f"{key}: {value}" for key, value in self.headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body
