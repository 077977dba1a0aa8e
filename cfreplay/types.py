"""Plain values shared across cfreplay: HTTP exchanges the factories build and the CLI prints, record modes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Literal

__all__ = ["RECORD_MODES", "RecordMode", "Request", "Response", "reason_phrase"]

#: vcrpy's record modes; ``none`` (replay only) is cfreplay's default.
RecordMode = Literal["none", "once", "new_episodes", "all"]
RECORD_MODES: Final[tuple[RecordMode, ...]] = ("none", "once", "new_episodes", "all")

Headers = tuple[tuple[str, str], ...]

# Python 3.13 renamed two phrases after RFC 9110; Cloud Controller (Rack 2) sends the
# older ones, and the same seed must give the same bytes on every Python.
_CC_PHRASES: Final = {413: "Payload Too Large", 422: "Unprocessable Entity"}


def reason_phrase(status: int) -> str:
    """The reason phrase CC sends with *status* ("" for a code without one)."""
    if status in _CC_PHRASES:
        return _CC_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


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
        return reason_phrase(self.status)

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
