"""Turn captured HTTP traffic (HAR files, cf CLI traces) into vcrpy cassettes.

Two sources are read:

* **HAR 1.2**, as browser devtools and mitmproxy export it: one interaction per
  entry.  HAR bodies are normally stored already decoded, so a
  ``Content-Encoding`` header is dropped when the stored body is not actually
  compressed, and ``Content-Length`` is set to the body that is kept; otherwise
  an HTTP client would try to decompress, or wait for, bytes replay never sends.
  Cookies that an exporter lists only in the ``cookies`` arrays (Chrome and
  Firefox leave ``Cookie``/``Set-Cookie`` out of ``headers`` at times) become
  those headers, so the sanitizer sees and redacts them.
* **cf CLI traces** (``CF_TRACE=true`` or ``CF_TRACE=<file>``), all three
  generations (see the Cloud Controller v2 reference, section 6): legacy raw
  dumps (≤ v6.42), legacy with ``Host:`` run into the next header (≥ v6.43) and
  the current format whose body follows the headers with no blank line.  ANSI
  colours, CRLF and output between blocks are tolerated.  In the legacy formats
  a ``Content-Length`` takes exactly that many bytes of body, so a text body
  with blank lines in it stays whole.

The result is *unsanitized*: the trace's own redactions
(``[PRIVATE DATA HIDDEN]``) are kept as they are, but HAR files and CC form
bodies hold live secrets.  Callers must run the sanitizer before writing it.

Captured traffic is never lost silently.  An *incomplete* exchange — a request
with no response (a trace's REQUEST with no RESPONSE, a HAR entry with status 0
or none), a block the file ends inside of, a body shorter than its
``Content-Length`` (or HAR ``content.size``/``bodySize``) — raises
:class:`TrafficFormatError`, unless ``partial=True`` asks to leave it out and
list it (:class:`Imported`).  Every other malformed input raises too, one line
naming the file and, where it is known, the line (for HAR, the line the entry
starts on, and the entry's zero-based index).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final, Literal

from cfreplay.errors import CfreplayError, TrafficFormatError
from cfreplay.types import reason_phrase

__all__ = [
    "Format",
    "Imported",
    "detect_format",
    "import_files",
    "import_traffic",
    "parse_cf_trace",
    "parse_har",
]

Format = Literal["har", "cf-trace"]
Interaction = dict[str, Any]

_STAMP: Final = "%Y-%m-%dT%H:%M:%SZ"
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")
_MARKER: Final = re.compile(r"^\s*(REQUEST|RESPONSE):\s*\[([^\]]*)\]\s*$")
_MARKER_WORDS: Final = ("REQUEST:", "RESPONSE:")
_CUT_COLOUR: Final = re.compile(r"\x1b(?:\[[0-9;]*)?")
_REQUEST_LINE: Final = re.compile(r"^([A-Z]+) (\S+) HTTP/\d(?:\.\d)?$")
_STATUS_LINE: Final = re.compile(r"^HTTP/\d(?:\.\d)? (\d{3})(?: (.*))?$")
_HEADER: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9!#$%&'*+.^_`|~-]*): ?(.*)$")
# Format B prints "Host: <h>" with no newline, so the first sorted header follows on the same line.
_JOINED_HOST: Final = re.compile(r"^(Host: ?\S*?)([A-Z][A-Za-z0-9-]*: .*)$")
_FORM_BODY: Final = re.compile(r"^\[application/x-www-form-urlencoded (.*)\]$", re.DOTALL)
# What the cf CLI prints instead of a body or a value: "[PRIVATE DATA HIDDEN]",
# "[MULTIPART/FORM-DATA CONTENT HIDDEN]", "[application/zip Content Hidden]".  A body that
# holds one is shorter or longer than its Content-Length says, without being cut.
_HIDDEN: Final = re.compile(r"\[[^\]\n]*(?:HIDDEN|Hidden)\]")
# A one-line "[...]" the current format prints for a body it does not show (not JSON).
_BRACKET_LINE: Final = re.compile(r"^\[[^\[\]{}]*\]$")
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
# RFC 3339 / ISO 8601 with any fraction, "Z" or an offset: Python 3.10's fromisoformat takes neither.
_TIMESTAMP: Final = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?$"
)
_CUT: Final = "(the file is cut short?)"


# --- results and incomplete exchanges ------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """What :func:`import_traffic` read.

    ``data`` is the unsanitized cassette (vcrpy version 1); ``dropped`` lists the
    incomplete exchanges left out of it (only with ``partial=True``), each an error
    whose ``str()`` is ``path:line: reason``.
    """

    data: dict[str, Any]
    dropped: tuple[TrafficFormatError, ...] = ()


class _Incomplete(TrafficFormatError):
    """An exchange the capture does not hold whole: ``--partial`` may leave it out, nothing else may."""


class _Drops:
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


def _timestamp(text: str) -> datetime | None:
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


def _earliest(first: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is not None and (first is None or moment < first):
        return moment
    return first


def _add_header(headers: dict[str, list[str]], name: str, value: str) -> None:
    headers.setdefault(name, []).append(value)


def _find_header(headers: dict[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def _header_values(headers: dict[str, list[str]], name: str) -> list[str]:
    return [value for key, values in headers.items() if key.lower() == name.lower() for value in values]


def _drop_header(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]


def _body_size(body: str | bytes | None) -> int:
    if body is None:
        return 0
    return len(body.encode("utf-8") if isinstance(body, str) else body)


def _content_length(headers: dict[str, list[str]]) -> int | None:
    """The ``Content-Length`` that frames the body, or ``None`` (absent, malformed, or overruled by chunking)."""
    if _find_header(headers, "Transfer-Encoding") is not None:
        return None  # RFC 9112 §6.3: Transfer-Encoding overrides Content-Length
    values = {value.strip() for value in _header_values(headers, "Content-Length")}
    if len(values) != 1:
        return None
    value = values.pop()
    return int(value) if value.isdigit() else None


def _bodyless(method: str, status: int) -> bool:
    """Whether the response has no body whatever its headers say (RFC 9110 §6.4.1)."""
    return method.upper() == "HEAD" or 100 <= status < 200 or status in (204, 304)


def _exchange_name(method: str, target: str) -> str:
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
    _drop_header(headers, "Transfer-Encoding")
    for key in headers:
        if key.lower() == "content-length":
            headers[key] = [str(_body_size(body))]


def _interaction(
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


# --- HAR -----------------------------------------------------------------------------------


def _load_json(text: str, path: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        raise TrafficFormatError(path, f"is not valid JSON: {error.msg}", line=error.lineno) from None
    except RecursionError:
        raise TrafficFormatError(path, "is nested too deeply to be a HAR file") from None


def _entries(document: Any, path: str) -> list[Any]:
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise TrafficFormatError(path, "is not a HAR file (no log.entries list)")
    return entries


def _skip_space(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _member(text: str, position: int, key: str, decoder: json.JSONDecoder) -> int:
    """Where the value of *key* starts in the JSON object at *position* (``ValueError`` if none)."""
    if text[position] != "{":
        raise ValueError(key)
    position = _skip_space(text, position + 1)
    while text[position] != "}":
        name, position = decoder.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] != ":":
            raise ValueError(key)
        position = _skip_space(text, position + 1)
        if name == key:
            return position
        _, position = decoder.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    raise ValueError(key)


def _element_starts(text: str, position: int, decoder: json.JSONDecoder) -> list[int]:
    """Where each element of the JSON array at *position* starts."""
    if text[position] != "[":
        raise ValueError("entries")
    starts: list[int] = []
    position = _skip_space(text, position + 1)
    while text[position] != "]":
        starts.append(position)
        _, position = decoder.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return starts


class _EntryLines:
    """The line each HAR entry starts on, found only when an error needs one.

    ``json`` keeps no positions, so the document is walked a second time down to
    ``log.entries``; a layout that walk cannot follow names entries by index alone.
    """

    def __init__(self, text: str, count: int) -> None:
        self._text = text.lstrip("\ufeff")
        self._count = count
        self._lines: list[int] | None = None

    def __call__(self, index: int) -> int | None:
        if self._lines is None:
            self._lines = self._find()
        return self._lines[index] if index < len(self._lines) else None

    def _find(self) -> list[int]:
        decoder = json.JSONDecoder()
        text = self._text
        try:
            log = _member(text, _skip_space(text, 0), "log", decoder)
            starts = _element_starts(text, _member(text, log, "entries", decoder), decoder)
        except (ValueError, IndexError, RecursionError):
            return []
        if len(starts) != self._count:
            return []  # a duplicate key led the walk elsewhere than json.loads went
        lines, line, previous = [], 1, 0
        for start in starts:
            line += text.count("\n", previous, start)
            lines.append(line)
            previous = start
        return lines


class _Entry:
    """How errors name one HAR entry: its index, then its method and URL once they are known."""

    def __init__(self, path: str, index: int) -> None:
        self.path = path
        self.index = index
        self.name = f"entry {index}"

    def error(self, message: str) -> TrafficFormatError:
        return TrafficFormatError(self.path, f"{self.name} {message}")

    def incomplete(self, message: str) -> _Incomplete:
        return _Incomplete(self.path, f"{self.name} {message}")


def _har_headers(raw: Any, entry: _Entry, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise entry.error(f"{where} headers are not a list")
    headers: dict[str, list[str]] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
            raise entry.error(f"{where} has a header without a name and value")
        name = item["name"]
        if name.startswith(":"):  # HTTP/2 pseudo-headers (:authority, :path) are not headers to replay
            continue
        _add_header(headers, name, str(item["value"]))
    return headers


def _har_cookies(raw: Any, entry: _Entry, where: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise entry.error(f"{where} cookies are not a list")
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or item.get("value") is None:
            raise entry.error(f"{where} has a cookie without a name and value")
    return raw


def _cookie_names(values: list[str], *, several: bool) -> set[str]:
    """Names in ``Cookie`` values (*several* per value) or ``Set-Cookie`` values (the first pair of each)."""
    pairs = [pair for value in values for pair in (value.split(";") if several else value.split(";", 1)[:1])]
    return {pair.split("=", 1)[0].strip() for pair in pairs}


def _add_request_cookies(headers: dict[str, list[str]], cookies: list[dict[str, Any]]) -> None:
    """Put the cookies the ``cookies`` array lists, and the ``Cookie`` header lacks, into that header."""
    present = _cookie_names(_header_values(headers, "Cookie"), several=True)
    missing = "; ".join(f"{c['name']}={c['value']}" for c in cookies if c["name"] not in present)
    if not missing:
        return
    key = next((k for k in headers if k.lower() == "cookie" and headers[k]), None)
    if key is None:
        headers["Cookie"] = [missing]
    else:  # a request sends one Cookie header (RFC 6265 §5.4): extend it
        headers[key][-1] = f"{headers[key][-1]}; {missing}"


def _set_cookie(cookie: dict[str, Any]) -> str:
    """A ``Set-Cookie`` value from a HAR cookie object, with the attributes it records."""
    parts = [f"{cookie['name']}={cookie['value']}"]
    expires = cookie.get("expires")
    moment = _timestamp(expires) if isinstance(expires, str) else None
    if moment is not None:
        parts.append(f"Expires={format_datetime(moment, usegmt=True)}")
    for attribute, key in (("Path", "path"), ("Domain", "domain"), ("SameSite", "sameSite")):
        value = cookie.get(key)
        if isinstance(value, str) and value:
            parts.append(f"{attribute}={value}")
    parts += [flag for flag, key in (("HttpOnly", "httpOnly"), ("Secure", "secure")) if cookie.get(key) is True]
    return "; ".join(parts)


def _add_response_cookies(headers: dict[str, list[str]], cookies: list[dict[str, Any]]) -> None:
    """One ``Set-Cookie`` header per cookie the ``cookies`` array lists and the headers lack."""
    present = _cookie_names(_header_values(headers, "Set-Cookie"), several=False)
    missing = [_set_cookie(c) for c in cookies if c["name"] not in present]
    if missing:
        key = next((k for k in headers if k.lower() == "set-cookie"), "Set-Cookie")
        headers.setdefault(key, []).extend(missing)


def _har_request_body(request: dict[str, Any], entry: _Entry) -> str | None:
    post = request.get("postData")
    if post is None:
        return None
    if not isinstance(post, dict):
        raise entry.error("request postData is not an object")
    text = post.get("text")
    if isinstance(text, str) and text:
        return text
    params = post.get("params")
    if isinstance(params, list) and params:
        pairs: list[tuple[str, str]] = []
        for param in params:
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                raise entry.error("request postData has a param without a name")
            pairs.append((param["name"], str(param.get("value", ""))))
        return urllib.parse.urlencode(pairs)
    return None


def _still_compressed(body: bytes, encoding: str) -> bool:
    """Whether *body* is really encoded with *encoding* (HAR exporters usually store it decoded)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return body[:2] == b"\x1f\x8b"
    if encoding == "deflate":
        try:
            zlib.decompress(body)
        except zlib.error:
            try:
                zlib.decompress(body, -zlib.MAX_WBITS)
            except zlib.error:
                return False
        return True
    return False  # br, zstd…: cannot be checked without extra libraries; devtools store them decoded


def _har_shortfall(
    response: dict[str, Any], content: dict[str, Any], headers: dict[str, list[str]], stored: bytes, compressed: bool
) -> str | None:
    """What says the stored response body is shorter than the one received, or ``None``.

    ``content.size`` counts the decoded body; ``Content-Length`` and ``bodySize`` count
    the bytes on the wire, so they are compared only when those are the bytes stored
    (no ``Content-Encoding``, or a body stored still compressed) and not chunked.
    """
    expected: list[tuple[str, int]] = []
    size = content.get("size")
    if not compressed and isinstance(size, int) and not isinstance(size, bool):
        expected.append(("content.size", size))
    identity = (_find_header(headers, "Content-Encoding") or "identity").strip().lower() == "identity"
    if (identity or compressed) and _find_header(headers, "Transfer-Encoding") is None:
        length = _content_length(headers)
        if length is not None:
            expected.append(("Content-Length", length))
        body_size = response.get("bodySize")
        if identity and isinstance(body_size, int) and not isinstance(body_size, bool):
            expected.append(("bodySize", body_size))  # -1: unknown, 0: from the cache
    for label, count in expected:
        if len(stored) < count:
            if not isinstance(content.get("text"), str):
                return f"response body was not captured ({label} {count}, no content.text)"
            return f"response body is {len(stored)} bytes, shorter than its {label} {count}"
    return None


def _har_response_body(
    response: dict[str, Any], headers: dict[str, list[str]], entry: _Entry, check: bool
) -> str | bytes:
    content = response.get("content")
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise entry.error("response content is not an object")
    text = content.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise entry.error("response content.text is not a string")
    raw: bytes | None = None
    if content.get("encoding") == "base64":
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise entry.error("response content.text is not valid base64") from None
    stored = raw if raw is not None else text.encode("utf-8", "surrogateescape")
    encoding = _find_header(headers, "Content-Encoding")
    compressed = encoding is not None and _still_compressed(stored, encoding)
    if check:
        shortfall = _har_shortfall(response, content, headers, stored, compressed)
        if shortfall is not None:
            raise entry.incomplete(shortfall)
    if encoding is not None:
        if not compressed:
            _drop_header(headers, "Content-Encoding")
        elif raw is None:
            raw = stored
    if raw is None:
        return text
    try:
        return raw.decode("utf-8")  # text stays readable in the cassette; the sanitizer reads it
    except UnicodeDecodeError:
        return raw


def _har_entry(raw_entry: Any, entry: _Entry) -> tuple[Interaction, datetime | None]:
    """One entry's interaction and start time; raises :class:`_Incomplete` for an exchange it lacks part of."""
    if not isinstance(raw_entry, dict):
        raise entry.error("is not an object")
    request, response = raw_entry.get("request"), raw_entry.get("response")
    if not isinstance(request, dict):
        raise entry.error("has no request")
    for key in ("method", "url"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise entry.error(f"request has no {key}")
    entry.name = f"entry {entry.index} ({_exchange_name(request['method'], request['url'])})"
    if response is None:
        raise entry.incomplete("has no response")
    if not isinstance(response, dict):
        raise entry.error("has no response")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status <= 999:
        raise entry.error("response has no status")
    started = raw_entry.get("startedDateTime")
    moment = _timestamp(started) if isinstance(started, str) else None
    if status == 0:
        # Devtools' record of a request that got no answer (blocked, cancelled, failed, or
        # still pending when exported): there is nothing to replay, and a client that sends
        # it again in a test would meet no recording, so it is an incomplete exchange.
        raise entry.incomplete("got no response (status 0: blocked, cancelled, failed or still pending)")
    request_headers = _har_headers(request.get("headers"), entry, "request")
    response_headers = _har_headers(response.get("headers"), entry, "response")
    _add_request_cookies(request_headers, _har_cookies(request.get("cookies"), entry, "request"))
    _add_response_cookies(response_headers, _har_cookies(response.get("cookies"), entry, "response"))
    message = response.get("statusText")
    body = _har_response_body(response, response_headers, entry, check=not _bodyless(request["method"], status))
    interaction = _interaction(
        request["method"].upper(),
        request["url"],
        request_headers,
        _har_request_body(request, entry),
        status,
        message if isinstance(message, str) else "",
        response_headers,
        body,
    )
    return interaction, moment


def _parse_har(text: str, path: str, drops: _Drops) -> tuple[list[Interaction], datetime | None]:
    entries = _entries(_load_json(text, path), path)
    lines = _EntryLines(text, len(entries))
    interactions: list[Interaction] = []
    first: datetime | None = None
    for index, raw_entry in enumerate(entries):
        # The entry's line is looked for only when an error names it: finding it costs a second walk.
        try:
            interaction, moment = _har_entry(raw_entry, _Entry(path, index))
        except _Incomplete as error:
            drops.drop(_Incomplete(path, error.reason, line=lines(index)))
            continue
        except TrafficFormatError as error:
            raise TrafficFormatError(path, error.reason, line=lines(index)) from None
        interactions.append(interaction)
        first = _earliest(first, moment)
    return interactions, first


def parse_har(text: str, *, path: str = "<har>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a HAR 1.2 document; an entry with no answer (status 0) is an error."""
    return _parse_har(text, path, _Drops(partial=False))[0]


# --- cf CLI traces -------------------------------------------------------------------------


class _Block:
    """One ``REQUEST:`` or ``RESPONSE:`` block: its marker line number, timestamp and lines."""

    def __init__(self, kind: str, line: int, stamp: str) -> None:
        self.kind = kind
        self.line = line
        self.stamp = stamp
        self.lines: list[str] = []  # without their line ends
        self.raw: list[str] = []  # as in the file, line ends and all: sized bodies are cut from these
        self.last = False  # the file ends in this block: it may be cut short
        self.cut_line = False  # the file ends in the middle of this block's last line


def _split_lines(text: str) -> list[str]:
    """The lines of *text* with their line ends (the last may have none)."""
    return re.findall(r"[^\n]*\n|[^\n]+", text)


def _strip_end(raw: str) -> str:
    line = raw[:-1] if raw.endswith("\n") else raw
    return line[:-1] if line.endswith("\r") else line


def _cut_marker(line: str) -> bool:
    """Whether *line*, the file's last and unended, may be a ``REQUEST:``/``RESPONSE:`` marker cut short."""
    text = line.lstrip()
    if _CUT_COLOUR.fullmatch(text):
        return True  # the colour code before the marker word, cut short
    return bool(text) and any(word.startswith(text[: len(word)]) for word in _MARKER_WORDS)


def _blocks(text: str) -> tuple[list[_Block], int | None]:
    """The blocks, and the number of the last line if the file ends inside a marker line."""
    raw_lines = _split_lines(_ANSI.sub("", text))
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(raw_lines, start=1):
        line = _strip_end(raw)
        marker = _MARKER.match(line)
        if marker:
            current = _Block(marker.group(1), number, marker.group(2))
            blocks.append(current)
        elif current is not None:
            current.lines.append(line)
            current.raw.append(raw)
    unended = bool(raw_lines) and not raw_lines[-1].endswith("\n")
    if blocks:
        blocks[-1].last = True
        blocks[-1].cut_line = unended and bool(blocks[-1].raw) and blocks[-1].raw[-1] is raw_lines[-1]
    if unended and not _MARKER.match(raw_lines[-1]) and _cut_marker(raw_lines[-1]):
        return blocks, len(raw_lines)
    return blocks, None


def _split_json(lines: list[str]) -> tuple[str, int] | None:
    """The JSON value the body lines start with and how many lines it takes; ``None`` if none parses.

    Lets a pretty-printed body keep any blank lines inside it, and stops it before
    interleaved command output that follows without a blank line.
    """
    text = "\n".join(lines)
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    rest = text[end:]
    if rest and not rest.startswith("\n") and rest.strip():
        return None  # more text on the JSON's last line: not a body that ends there
    return text[:end], text[:end].count("\n") + 1


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_expected(first_line: str, headers: dict[str, list[str]]) -> bool:
    """Whether a body starting with *first_line* is a JSON value (so one that does not parse was cut)."""
    line = first_line.strip()
    if line[:1] not in ("{", "[") or _BRACKET_LINE.match(line):
        return False  # "[PRIVATE DATA HIDDEN]", "[application/zip Content Hidden]": not JSON
    content_type = _find_header(headers, "Content-Type")
    return content_type is None or "json" in content_type.lower()


@dataclass(frozen=True)
class _Head:
    """A block's checked first line and headers."""

    match: re.Match[str]
    headers: dict[str, list[str]]
    rest: int  # the index, in the block's lines, of the first line after the headers
    dump: bool  # CRLF lines: a Go httputil dump (format A, B's responses), whose body is the bytes sent


def _parse_head(block: _Block, path: str, label: str) -> _Head:
    index = 0
    while index < len(block.lines) and not block.lines[index].strip():
        index += 1  # a stray blank line after the marker
    first = "request line" if block.kind == "REQUEST" else "status line"
    if index == len(block.lines):
        if block.last:
            raise _Incomplete(path, f"{label} ends before its {first} {_CUT}", line=block.line)
        raise TrafficFormatError(path, f"{block.kind} block is empty", line=block.line)
    first_line = block.lines[index].strip()
    first_number = block.line + 1 + index
    if block.kind == "REQUEST":
        pattern, expected = _REQUEST_LINE, "'<METHOD> <path> HTTP/1.1'"
    else:
        pattern, expected = _STATUS_LINE, "'HTTP/1.1 <code> <reason>'"
    match = pattern.match(first_line)
    if not match:
        if block.cut_line and index == len(block.lines) - 1:
            raise _Incomplete(path, f"{label} ends inside its {first} {_CUT}", line=first_number)
        raise TrafficFormatError(path, f"bad {first} (expected {expected})", line=first_number)
    headers: dict[str, list[str]] = {}
    position = index + 1
    while position < len(block.lines):
        joined = _JOINED_HOST.match(block.lines[position])
        pieces = [joined.group(1), joined.group(2)] if joined else [block.lines[position]]
        found = [header for header in (_HEADER.match(piece) for piece in pieces) if header is not None]
        if len(found) != len(pieces):
            break
        for header in found:
            _add_header(headers, header.group(1), header.group(2).rstrip())
        position += 1
    if position == len(block.lines) and block.last:
        # Nothing after the headers: neither the blank line that ends them nor a body.
        raise _Incomplete(path, f"{label} ends inside its headers {_CUT}", line=block.line)
    return _Head(match, headers, position, block.raw[index].endswith("\r\n"))


def _exact_body(data: bytes, length: int) -> str | None:
    """The first *length* bytes of *data* if a line end (the trace's own) follows them, else ``None``."""
    if len(data) < length:
        return None
    after = data[length:]
    if after and not after.startswith((b"\n", b"\r\n")):
        return None
    try:
        return data[:length].decode("utf-8")
    except UnicodeDecodeError:
        return None  # cuts a character in two: this length is not the text's


def _sized_body(block: _Block, start: int, length: int, path: str, label: str, *, dump: bool) -> str | None:
    """The body its ``Content-Length`` frames, or ``None`` to find it by its layout.

    A raw *dump*'s body is the bytes sent: counting them keeps a body with blank lines
    whole (an HTML error page, text/plain), and one that does not fit its length is an
    incomplete exchange.  Otherwise (a file whose CRLFs became LFs) the length only tells
    a body too short to be whole.  Neither holds for a body the CLI redacted part of, and
    a whole JSON value is whole whatever its length says.
    """
    region = "".join(block.raw[start:])
    if _HIDDEN.search(region):
        return None  # the CLI replaced part of it: its length says nothing any more
    data = region.encode("utf-8")
    found = _split_json(block.lines[start:]) if region.lstrip()[:1] in ("{", "[") else None
    if dump:
        exact = _exact_body(data, length)
        if exact is not None and (found is None or _is_json(exact)):
            return exact
    if found is not None:
        return None
    # Where CRLFs became LFs, each LF may have been two bytes on the wire.
    room = len(data) if dump else len(data) + region.count("\n")
    if room < length:
        have = len(data.rstrip(b"\r\n"))  # without the trace's own line ends after it
        cut = f" {_CUT}" if block.last else ""
        raise _Incomplete(
            path, f"{label} body is {have} bytes, shorter than its Content-Length {length}{cut}", line=block.line
        )
    if dump:
        raise _Incomplete(path, f"{label} body does not end where its Content-Length {length} says", line=block.line)
    return None


def _take_body(block: _Block, head: _Head, path: str, current_format: bool, *, bodyless: bool, label: str) -> str:
    """The block's body: sized by ``Content-Length`` in a raw dump, else a JSON value or lines to a blank one."""
    lines = block.lines
    if head.rest < len(lines) and lines[head.rest].strip():
        start = head.rest  # format C: the body follows the headers directly
    elif current_format:
        return ""  # format C: a blank line straight after the headers means no body
    else:
        start = head.rest + 1  # formats A and B: a blank line ends the headers, the raw body follows
    length = None if current_format or bodyless else _content_length(head.headers)
    # Only a raw httputil dump (CRLF lines: format A, B's responses) keeps the body as sent,
    # and a response's body as the server sent it even once its CRLFs became LFs.  Format B
    # rebuilds requests (LF lines), re-encoding their bodies; format C re-indents JSON.
    if length is not None and (head.dump or block.kind == "RESPONSE"):
        sized_body = _sized_body(block, start, length, path, label, dump=head.dump)
        if sized_body is not None:
            return sized_body
    body_lines = lines[start:]
    if not body_lines:
        if block.last and not bodyless and length != 0:
            raise _Incomplete(path, f"{label} ends before its body {_CUT}", line=block.line)
        return ""
    if body_lines[0].lstrip()[:1] in ("{", "["):
        found = _split_json(body_lines)
        if found is not None:
            return found[0]
        if block.last and _json_expected(body_lines[0], head.headers):
            raise _Incomplete(path, f"{label} body ends before its JSON value does {_CUT}", line=block.line)
    end = next((i for i, line in enumerate(body_lines) if not line.strip()), len(body_lines))
    body = "\n".join(body_lines[:end])
    if block.last and body and end == len(body_lines):
        # The body runs to the end of the file, and nothing shows that it ends there.
        if block.cut_line:
            raise _Incomplete(path, f"{label} ends in the middle of a line {_CUT}", line=block.line)
        if current_format and not (end == 1 and _BRACKET_LINE.match(body.strip())):
            raise _Incomplete(path, f"{label} has no blank line to end it {_CUT}", line=block.line)
    form = _FORM_BODY.match(body)
    return form.group(1) if form else body  # CC form bodies are printed raw inside a "[<type> …]" frame


def _current_format(blocks: list[_Block], path: str) -> bool:
    """Whether any body follows its headers with no blank line: the mark of the current format (C).

    A blank line after the headers means "no body" in format C but "body follows" in A and
    B.  A last block's "body" that nothing ends may be a header line cut in half: it does
    not count.
    """
    for block in blocks:
        try:
            head = _parse_head(block, path, block.kind)
        except TrafficFormatError:
            continue  # reported when its exchange is read
        following = block.lines[head.rest :]
        if following and following[0].strip():
            if block.last and all(line.strip() for line in following):
                continue
            return True
    return False


def _unanswered(block: _Block, path: str) -> _Incomplete:
    first = next((line.strip() for line in block.lines if line.strip()), "")
    match = _REQUEST_LINE.match(first)
    what = f" {_exchange_name(match.group(1), match.group(2))}" if match else ""
    return _Incomplete(path, f"REQUEST{what} has no RESPONSE", line=block.line)


def _trace_interaction(request: _Block, response: _Block, path: str, current_format: bool) -> Interaction:
    request_head = _parse_head(request, path, "REQUEST")
    method, target = request_head.match.group(1), request_head.match.group(2)
    name = _exchange_name(method, target)
    request_body = _take_body(request, request_head, path, current_format, bodyless=False, label=f"REQUEST {name}")
    label = f"RESPONSE to {name}"
    response_head = _parse_head(response, path, label)
    code = int(response_head.match.group(1))
    response_body = _take_body(
        response, response_head, path, current_format, bodyless=_bodyless(method, code), label=label
    )
    if target.startswith(("http://", "https://")):
        uri = target
    else:
        host = _find_header(request_head.headers, "Host")
        if not host:
            raise TrafficFormatError(path, "request has no Host header", line=request.line)
        uri = f"https://{host}{target}"
    message = (response_head.match.group(2) or "").strip()
    return _interaction(
        method, uri, request_head.headers, request_body, code, message, response_head.headers, response_body
    )


def _parse_cf_trace(text: str, path: str, drops: _Drops) -> tuple[list[Interaction], datetime | None]:
    blocks, cut_marker = _blocks(text)
    pairs: list[tuple[_Block, _Block]] = []
    pending: _Block | None = None
    for block in blocks:
        if block.kind == "REQUEST":
            if pending is not None:
                drops.drop(_unanswered(pending, path))  # a failed attempt the CLI retried, or a cut
            pending = block
        elif pending is None:
            drops.drop(_Incomplete(path, "RESPONSE without a REQUEST before it", line=block.line))
        else:
            pairs.append((pending, block))
            pending = None
    if pending is not None:
        drops.drop(_unanswered(pending, path))
    if cut_marker is not None:
        drops.drop(_Incomplete(path, f"the file ends inside a REQUEST:/RESPONSE: line {_CUT}", line=cut_marker))
    current_format = _current_format(blocks, path)
    interactions: list[Interaction] = []
    first: datetime | None = None
    for request, response in pairs:
        try:
            interactions.append(_trace_interaction(request, response, path, current_format))
        except _Incomplete as error:
            drops.drop(error)
            continue
        first = _earliest(first, _timestamp(request.stamp))
    return interactions, first


def parse_cf_trace(text: str, *, path: str = "<trace>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a cf CLI trace, any of its three formats; other output is ignored.

    An incomplete exchange (a REQUEST with no RESPONSE, a block the text ends inside of, a
    body shorter than its ``Content-Length``) raises :class:`TrafficFormatError`.
    """
    return _parse_cf_trace(text, path, _Drops(partial=False))[0]


# --- files ---------------------------------------------------------------------------------


def detect_format(path: Path, text: str) -> Format:
    """``har`` for JSON with ``log.entries``, ``cf-trace`` for text with REQUEST:/RESPONSE: blocks."""
    name = str(path)
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        _entries(_load_json(text, name), name)
        return "har"
    if any(_MARKER.match(line) for line in re.split(r"\r?\n", _ANSI.sub("", text))):
        return "cf-trace"
    raise TrafficFormatError(name, "is neither a HAR file nor a cf CLI trace (no REQUEST: or RESPONSE: block)")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TrafficFormatError(str(path), "no such file") from None
    except IsADirectoryError:
        raise TrafficFormatError(str(path), "is a directory, not a traffic file") from None
    except OSError as error:
        raise TrafficFormatError(str(path), f"cannot be read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TrafficFormatError(str(path), f"is not UTF-8 text (bad byte at offset {error.start})") from None


_Parser = Callable[[str, str, _Drops], tuple[list[Interaction], datetime | None]]


def import_traffic(paths: Sequence[Path], *, fmt: Format | None = None, partial: bool = False) -> Imported:
    """One unsanitized cassette (vcrpy version 1) of every complete exchange in *paths*, in order.

    *fmt* forces the format of every file; by default each file's is detected.  The
    earliest timestamp of the exchanges kept dates every one (``response.recorded_at``;
    omitted when none is found).

    An incomplete exchange raises :class:`TrafficFormatError` naming ``path:line``; with
    *partial* it is left out and listed in :attr:`Imported.dropped` instead.  When no
    complete exchange is left, that raises too: there is nothing to write.
    """
    if not paths:
        raise CfreplayError("no traffic files to import")
    drops = _Drops(partial)
    interactions: list[Interaction] = []
    first: datetime | None = None
    for path in paths:
        text = _read_text(path)
        kind = fmt or detect_format(path, text)
        parse: _Parser = _parse_har if kind == "har" else _parse_cf_trace
        dropped_before = len(drops.dropped)
        found, moment = parse(text, str(path), drops)
        if not found and len(drops.dropped) == dropped_before:
            raise TrafficFormatError(str(path), "holds no HTTP exchange to import")
        interactions.extend(found)
        first = _earliest(first, moment)
    if not interactions:
        head = drops.dropped[0]
        count = len(drops.dropped)
        raise TrafficFormatError(
            head.path, f"{head.reason}; no complete HTTP exchange is left to import ({count} dropped)", line=head.line
        )
    if first is not None:
        # Replay freezes the clock at the capture's first moment (cassette.recorded_at): each
        # exchange carries it where cfreplay dates exchanges, inside the response, so plain
        # vcrpy and pytest-recording load the cassette unchanged (no top-level metadata).
        stamp = first.strftime(_STAMP)
        for interaction in interactions:
            interaction["response"].setdefault("recorded_at", stamp)
    return Imported({"interactions": interactions, "version": 1}, tuple(drops.dropped))


def import_files(paths: Sequence[Path], *, fmt: Format | None = None) -> dict[str, Any]:
    """One unsanitized cassette (vcrpy version 1) of every exchange in *paths*, in order.

    The cassette of :func:`import_traffic`; any incomplete exchange raises
    :class:`TrafficFormatError`.
    """
    return import_traffic(paths, fmt=fmt).data
