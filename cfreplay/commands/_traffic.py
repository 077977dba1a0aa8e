"""What the readers of captured traffic share: where incomplete exchanges go, headers, interactions.

:mod:`cfreplay.commands._har` and :mod:`cfreplay.commands._cf_trace` each read one format
into the vcrpy interactions built here; :mod:`cfreplay.commands.importing` (whose docstring
describes both formats and the rules for incomplete exchanges) puts them into one cassette.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cfreplay.errors import TrafficFormatError
from cfreplay.types import reason_phrase

__all__ = [
    "Drops",
    "Incomplete",
    "Interaction",
    "add_header",
    "content_length",
    "drop_header",
    "earliest",
    "exchange_name",
    "find_header",
    "header_values",
    "is_bodyless",
    "make_interaction",
    "timestamp",
]

Interaction = dict[str, Any]

# RFC 3339 / ISO 8601 with any fraction, "Z" or an offset: Python 3.10's fromisoformat takes neither.
_TIMESTAMP: Final = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?$"
)


class Incomplete(TrafficFormatError):
    """An exchange the capture does not hold whole: ``--partial`` may leave it out, nothing else may."""


class Drops:
    """Where incomplete exchanges go: raised at once, or (``partial``) kept to be reported."""

    def __init__(self, partial: bool) -> None:
        self.partial = partial
        self.dropped: list[TrafficFormatError] = []

    def drop(self, error: TrafficFormatError) -> None:
        # Callers see plain TrafficFormatErrors: the private subclass only routes them here.
        plain = TrafficFormatError(error.path, error.reason, line=error.line)
        if not self.partial:
            raise plain from None
        self.dropped.append(plain)


# --- shared helpers ------------------------------------------------------------------------


def timestamp(text: str) -> datetime | None:
    """An aware UTC datetime, or ``None`` for text that is no RFC 3339 timestamp (a zone-less one is UTC)."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return None
    offset = timedelta(0)
    if sign and not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    return (moment - offset).replace(tzinfo=UTC)


def earliest(first: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is not None and (first is None or moment < first):
        return moment
    return first


def add_header(headers: dict[str, list[str]], name: str, value: str) -> None:
    headers.setdefault(name, []).append(value)


def find_header(headers: dict[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def header_values(headers: dict[str, list[str]], name: str) -> list[str]:
    return [value for key, values in headers.items() if key.lower() == name.lower() for value in values]


def drop_header(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]


def _body_size(body: str | bytes | None) -> int:
    if body is None:
        return 0
    return len(body.encode("utf-8") if isinstance(body, str) else body)


def content_length(headers: dict[str, list[str]]) -> int | None:
    """The ``Content-Length`` that frames the body, or ``None`` (absent, malformed, or overruled by chunking)."""
    if find_header(headers, "Transfer-Encoding") is not None:
        return None  # RFC 9112 §6.3: Transfer-Encoding overrides Content-Length
    values = {value.strip() for value in header_values(headers, "Content-Length")}
    if len(values) != 1:
        return None
    value = values.pop()
    return int(value) if value.isdigit() else None


def is_bodyless(method: str, status: int) -> bool:
    """Whether the response has no body whatever its headers say (RFC 9110 §6.4.1)."""
    return method.upper() == "HEAD" or 100 <= status < 200 or status in (204, 304)


def exchange_name(method: str, target: str) -> str:
    """``METHOD target`` for messages (CI logs), without what may carry a secret: query, fragment, userinfo."""
    parts = urllib.parse.urlsplit(target)
    host = parts.netloc.rpartition("@")[2]
    return f"{method.upper()} {urllib.parse.urlunsplit((parts.scheme, host, parts.path, '', ''))}"


def _fix_framing(headers: dict[str, list[str]], body: str | bytes | None) -> None:
    """Make framing headers describe the body as stored, not as it was on the wire.

    Traces re-indent or redact bodies and HAR stores them de-chunked and decoded: a stale
    ``Content-Length`` or a ``Transfer-Encoding: chunked`` would make the replaying client
    wait for, or mis-parse, bytes that are not there.
    """
    drop_header(headers, "Transfer-Encoding")
    for key in headers:
        if key.lower() == "content-length":
            headers[key] = [str(_body_size(body))]


def make_interaction(
    method: str,
    uri: str,
    request_headers: dict[str, list[str]],
    request_body: str | bytes | None,
    status: int,
    message: str,
    response_headers: dict[str, list[str]],
    response_body: str | bytes,
) -> Interaction:
    _fix_framing(request_headers, request_body)
    _fix_framing(response_headers, response_body)
    return {
        "request": {"body": request_body or None, "headers": request_headers, "method": method, "uri": uri},
        "response": {
            "body": {"string": response_body},
            "headers": response_headers,
            # HTTP/2 has no reason phrase (devtools store ""); vcrpy and clients expect one.
            "status": {"code": status, "message": message or _reason(status)},
        },
    }


def _reason(status: int) -> str:
    return reason_phrase(status)
