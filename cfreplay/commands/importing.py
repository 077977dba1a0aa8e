"""Turn captured HTTP traffic (HAR files, cf CLI traces) into vcrpy cassettes.

Two sources are read:

* **HAR 1.2**, as browser devtools and mitmproxy export it: one interaction per
  entry.  HAR bodies are normally stored already decoded, so a
  ``Content-Encoding`` header is dropped when the stored body is not actually
  compressed, and ``Content-Length`` is set to the body that is kept; otherwise
  an HTTP client would try to decompress, or wait for, bytes replay never sends.
* **cf CLI traces** (``CF_TRACE=true`` or ``CF_TRACE=<file>``), all three
  generations (see the Cloud Controller v2 reference, section 6): legacy raw
  dumps (≤ v6.42), legacy with ``Host:`` run into the next header (≥ v6.43) and
  the current format whose body follows the headers with no blank line.  ANSI
  colours, CRLF and output between blocks are tolerated.

The result is *unsanitized*: the trace's own redactions
(``[PRIVATE DATA HIDDEN]``) are kept as they are, but HAR files and CC form
bodies hold live secrets.  Callers must run the sanitizer before writing it.

Every malformed input raises :class:`TrafficFormatError`, one line naming the
file and, where it is known, the line (HAR entries are named by their
zero-based index, since JSON parsing keeps no line numbers per value).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from cfreplay.errors import CfreplayError, TrafficFormatError
from cfreplay.types import reason_phrase

__all__ = ["Format", "detect_format", "import_files", "parse_cf_trace", "parse_har"]

Format = Literal["har", "cf-trace"]
Interaction = dict[str, Any]

_STAMP: Final = "%Y-%m-%dT%H:%M:%SZ"
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")
_MARKER: Final = re.compile(r"^\s*(REQUEST|RESPONSE):\s*\[([^\]]*)\]\s*$")
_REQUEST_LINE: Final = re.compile(r"^([A-Z]+) (\S+) HTTP/\d(?:\.\d)?$")
_STATUS_LINE: Final = re.compile(r"^HTTP/\d(?:\.\d)? (\d{3})(?: (.*))?$")
_HEADER: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9!#$%&'*+.^_`|~-]*): ?(.*)$")
# Format B prints "Host: <h>" with no newline, so the first sorted header follows on the same line.
_JOINED_HOST: Final = re.compile(r"^(Host: ?\S*?)([A-Z][A-Za-z0-9-]*: .*)$")
_FORM_BODY: Final = re.compile(r"^\[application/x-www-form-urlencoded (.*)\]$", re.DOTALL)
# RFC 3339 / ISO 8601 with any fraction, "Z" or an offset: Python 3.10's fromisoformat takes neither.
_TIMESTAMP: Final = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?$"
)


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


def _add_header(headers: dict[str, list[str]], name: str, value: str) -> None:
    headers.setdefault(name, []).append(value)


def _find_header(headers: dict[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def _drop_header(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]


def _body_size(body: str | bytes | None) -> int:
    if body is None:
        return 0
    return len(body.encode("utf-8") if isinstance(body, str) else body)


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


def _har_headers(raw: Any, path: str, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise TrafficFormatError(path, f"{where} headers are not a list")
    headers: dict[str, list[str]] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
            raise TrafficFormatError(path, f"{where} has a header without a name and value")
        name = item["name"]
        if name.startswith(":"):  # HTTP/2 pseudo-headers (:authority, :path) are not headers to replay
            continue
        _add_header(headers, name, str(item["value"]))
    return headers


def _har_request_body(request: dict[str, Any], path: str, where: str) -> str | None:
    post = request.get("postData")
    if post is None:
        return None
    if not isinstance(post, dict):
        raise TrafficFormatError(path, f"{where} postData is not an object")
    text = post.get("text")
    if isinstance(text, str) and text:
        return text
    params = post.get("params")
    if isinstance(params, list) and params:
        pairs: list[tuple[str, str]] = []
        for param in params:
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                raise TrafficFormatError(path, f"{where} postData has a param without a name")
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


def _har_response_body(response: dict[str, Any], headers: dict[str, list[str]], path: str, where: str) -> str | bytes:
    content = response.get("content")
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise TrafficFormatError(path, f"{where} content is not an object")
    text = content.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TrafficFormatError(path, f"{where} content.text is not a string")
    raw: bytes | None = None
    if content.get("encoding") == "base64":
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise TrafficFormatError(path, f"{where} content.text is not valid base64") from None
    encoding = _find_header(headers, "Content-Encoding")
    if encoding is not None:
        data = raw if raw is not None else text.encode("utf-8", "surrogateescape")
        if not _still_compressed(data, encoding):
            _drop_header(headers, "Content-Encoding")
        elif raw is None:
            raw = data
    if raw is None:
        return text
    try:
        return raw.decode("utf-8")  # text stays readable in the cassette; the sanitizer reads it
    except UnicodeDecodeError:
        return raw


def _har_entry(entry: Any, path: str, index: int) -> tuple[Interaction | None, datetime | None]:
    where = f"entry {index}"
    if not isinstance(entry, dict):
        raise TrafficFormatError(path, f"{where} is not an object")
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict):
        raise TrafficFormatError(path, f"{where} has no request")
    if not isinstance(response, dict):
        raise TrafficFormatError(path, f"{where} has no response")
    for key in ("method", "url"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise TrafficFormatError(path, f"{where} request has no {key}")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status <= 999:
        raise TrafficFormatError(path, f"{where} response has no status")
    started = entry.get("startedDateTime")
    moment = _timestamp(started) if isinstance(started, str) else None
    if status == 0:  # devtools' record of a request that got no answer (blocked, cancelled): nothing to replay
        return None, moment
    request_headers = _har_headers(request.get("headers"), path, f"{where} request")
    response_headers = _har_headers(response.get("headers"), path, f"{where} response")
    message = response.get("statusText")
    interaction = _interaction(
        request["method"].upper(),
        request["url"],
        request_headers,
        _har_request_body(request, path, f"{where} request"),
        status,
        message if isinstance(message, str) else "",
        response_headers,
        _har_response_body(response, response_headers, path, f"{where} response"),
    )
    return interaction, moment


def _parse_har(text: str, path: str) -> tuple[list[Interaction], datetime | None]:
    entries = _entries(_load_json(text, path), path)
    interactions: list[Interaction] = []
    first: datetime | None = None
    for index, entry in enumerate(entries):
        interaction, moment = _har_entry(entry, path, index)
        if interaction is not None:
            interactions.append(interaction)
        if moment is not None and (first is None or moment < first):
            first = moment
    return interactions, first


def parse_har(text: str, *, path: str = "<har>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a HAR 1.2 document (entries with status 0 got no answer and are skipped)."""
    return _parse_har(text, path)[0]


# --- cf CLI traces -------------------------------------------------------------------------


class _Block:
    """One ``REQUEST:`` or ``RESPONSE:`` block: its marker line number, timestamp and lines."""

    def __init__(self, kind: str, line: int, stamp: str) -> None:
        self.kind = kind
        self.line = line
        self.stamp = stamp
        self.lines: list[str] = []


def _blocks(text: str) -> list[_Block]:
    lines = re.split(r"\r?\n", _ANSI.sub("", text))
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, line in enumerate(lines, start=1):
        marker = _MARKER.match(line)
        if marker:
            current = _Block(marker.group(1), number, marker.group(2))
            blocks.append(current)
        elif current is not None:
            current.lines.append(line)
    return blocks


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


def _block_body(lines: list[str]) -> str:
    """The body from its first line: a JSON value, else every line up to the first blank one."""
    if not lines or not lines[0].strip():
        return ""
    if lines[0].lstrip()[:1] in ("{", "["):
        found = _split_json(lines)
        if found is not None:
            return found[0]
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    return "\n".join(lines[:end])


def _parse_head(block: _Block, path: str) -> tuple[re.Match[str], dict[str, list[str]], list[str]]:
    """A block's checked first line, its headers and the lines after them."""
    index = 0
    while index < len(block.lines) and not block.lines[index].strip():
        index += 1  # a stray blank line after the marker
    if index == len(block.lines):
        raise TrafficFormatError(path, f"{block.kind} block is empty", line=block.line)
    first_line = block.lines[index].strip()
    first_number = block.line + 1 + index
    if block.kind == "REQUEST":
        match = _REQUEST_LINE.match(first_line)
        if not match:
            raise TrafficFormatError(path, "bad request line (expected '<METHOD> <path> HTTP/1.1')", line=first_number)
    else:
        match = _STATUS_LINE.match(first_line)
        if not match:
            raise TrafficFormatError(path, "bad status line (expected 'HTTP/1.1 <code> <reason>')", line=first_number)
    headers: dict[str, list[str]] = {}
    rest = block.lines[index + 1 :]
    position = 0
    while position < len(rest):
        joined = _JOINED_HOST.match(rest[position])
        pieces = [joined.group(1), joined.group(2)] if joined else [rest[position]]
        found = [header for header in (_HEADER.match(piece) for piece in pieces) if header is not None]
        if len(found) != len(pieces):
            break
        for header in found:
            _add_header(headers, header.group(1), header.group(2).rstrip())
        position += 1
    return match, headers, rest[position:]


def _direct_body(lines: list[str]) -> bool:
    """Whether a body follows the headers with no blank line: the mark of the current format (C)."""
    return bool(lines) and bool(lines[0].strip())


def _parse_block(
    head: tuple[re.Match[str], dict[str, list[str]], list[str]], current_format: bool
) -> tuple[str, str, dict[str, list[str]], str]:
    """(method or code, path or reason, headers, body) of a parsed block head."""
    match, headers, body_lines = head
    # Format C: the body starts right after the headers and a blank line ends it, so a blank
    # line straight after the headers means no body (what follows is other output).
    # Formats A and B: a blank line ends the headers and the raw body follows it.
    start = 0 if current_format or _direct_body(body_lines) else 1
    body = _block_body(body_lines[start:])
    form = _FORM_BODY.match(body)
    if form:
        body = form.group(1)  # CC form bodies are printed raw inside a "[<type> …]" frame
    return match.group(1), match.group(2) or "", headers, body


def _trace_interaction(request: _Block, response: _Block, path: str, current_format: bool) -> Interaction:
    method, target, request_headers, request_body = _parse_block(_parse_head(request, path), current_format)
    code, message, response_headers, response_body = _parse_block(_parse_head(response, path), current_format)
    if target.startswith(("http://", "https://")):
        uri = target
    else:
        host = _find_header(request_headers, "Host")
        if not host:
            raise TrafficFormatError(path, "request has no Host header", line=request.line)
        uri = f"https://{host}{target}"
    return _interaction(
        method, uri, request_headers, request_body, int(code), message.strip(), response_headers, response_body
    )


def _parse_cf_trace(text: str, path: str) -> tuple[list[Interaction], datetime | None]:
    blocks = _blocks(text)
    pairs: list[tuple[_Block, _Block]] = []
    first: datetime | None = None
    pending: _Block | None = None
    for block in blocks:
        if block.kind == "REQUEST":
            if pending is not None:
                raise TrafficFormatError(path, "REQUEST has no RESPONSE", line=pending.line)
            pending = block
            moment = _timestamp(block.stamp)
            if moment is not None and (first is None or moment < first):
                first = moment
        else:
            if pending is None:
                raise TrafficFormatError(path, "RESPONSE without a REQUEST before it", line=block.line)
            pairs.append((pending, block))
            pending = None
    if pending is not None:
        raise TrafficFormatError(path, "REQUEST has no RESPONSE", line=pending.line)
    # A blank line after the headers means "no body" in format C but "body follows" in A and B;
    # one body printed straight after its headers anywhere in the file shows it is format C.
    current_format = any(_direct_body(_parse_head(block, path)[2]) for block in blocks)
    return [_trace_interaction(request, response, path, current_format) for request, response in pairs], first


def parse_cf_trace(text: str, *, path: str = "<trace>") -> list[dict[str, Any]]:
    """The vcrpy interactions of a cf CLI trace, any of its three formats; other output is ignored."""
    return _parse_cf_trace(text, path)[0]


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


def import_files(paths: Sequence[Path], *, fmt: Format | None = None) -> dict[str, Any]:
    """One unsanitized cassette (vcrpy version 1) of every exchange in *paths*, in order.

    *fmt* forces the format of every file; by default each file's is detected.  The
    earliest timestamp found dates every exchange (``response.recorded_at``; omitted when
    none is found).
    """
    if not paths:
        raise CfreplayError("no traffic files to import")
    interactions: list[Interaction] = []
    first: datetime | None = None
    for path in paths:
        text = _read_text(path)
        kind = fmt or detect_format(path, text)
        parse = _parse_har if kind == "har" else _parse_cf_trace
        found, moment = parse(text, str(path))
        if not found:
            raise TrafficFormatError(str(path), "holds no HTTP exchange to import")
        interactions.extend(found)
        if moment is not None and (first is None or moment < first):
            first = moment
    if first is not None:
        # Replay freezes the clock at the capture's first moment (cassette.recorded_at): each
        # exchange carries it where cfreplay dates exchanges, inside the response, so plain
        # vcrpy and pytest-recording load the cassette unchanged (no top-level metadata).
        stamp = first.strftime(_STAMP)
        for interaction in interactions:
            interaction["response"].setdefault("recorded_at", stamp)
    return {"interactions": interactions, "version": 1}
