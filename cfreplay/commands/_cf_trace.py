"""cf CLI traces (``CF_TRACE``), all three generations of them, read into vcrpy interactions.

See :mod:`cfreplay.commands.importing` for the formats (legacy raw dumps, legacy with a
joined ``Host:`` line, the current one) and for what makes an exchange incomplete.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cfreplay.commands._traffic import (
    Drops,
    Incomplete,
    Interaction,
    add_header,
    content_length,
    earliest,
    exchange_name,
    find_header,
    is_bodyless,
    make_interaction,
    timestamp,
)
from cfreplay.errors import TrafficFormatError

__all__ = ["has_marker", "read_cf_trace"]

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
_CUT: Final = "(the file is cut short?)"


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
    content_type = find_header(headers, "Content-Type")
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
            raise Incomplete(path, f"{label} ends before its {first} {_CUT}", line=block.line)
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
            raise Incomplete(path, f"{label} ends inside its {first} {_CUT}", line=first_number)
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
            add_header(headers, header.group(1), header.group(2).rstrip())
        position += 1
    if position == len(block.lines) and block.last:
        # Nothing after the headers: neither the blank line that ends them nor a body.
        raise Incomplete(path, f"{label} ends inside its headers {_CUT}", line=block.line)
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
        raise Incomplete(
            path, f"{label} body is {have} bytes, shorter than its Content-Length {length}{cut}", line=block.line
        )
    if dump:
        raise Incomplete(path, f"{label} body does not end where its Content-Length {length} says", line=block.line)
    return None


def _body_start(block: _Block, head: _Head, current_format: bool) -> int | None:
    """Where the block's body starts among its lines, or ``None`` when it has none.

    What a blank line after the headers means depends on the format, which only the whole
    trace tells (:func:`_current_format`), so the block alone cannot answer.
    """
    if head.rest < len(block.lines) and block.lines[head.rest].strip():
        return head.rest  # format C: the body follows the headers directly
    if current_format:
        return None  # format C: a blank line straight after the headers means no body
    return head.rest + 1  # formats A and B: a blank line ends the headers, the raw body follows


def _json_body(block: _Block, head: _Head, body_lines: list[str], path: str, label: str) -> str | None:
    """The JSON value the body lines start with, or ``None`` for a body that is no JSON value.

    A pretty-printed JSON body may hold blank lines, so it is read as a value before the
    body is cut at its first blank line; one that should be JSON but the file ends inside
    of is an incomplete exchange.
    """
    if body_lines[0].lstrip()[:1] not in ("{", "["):
        return None
    found = _split_json(body_lines)
    if found is not None:
        return found[0]
    if block.last and _json_expected(body_lines[0], head.headers):
        raise Incomplete(path, f"{label} body ends before its JSON value does {_CUT}", line=block.line)
    return None


def _text_body(block: _Block, body_lines: list[str], current_format: bool, path: str, label: str) -> str:
    """A body that is no JSON value: its lines up to a blank one, out of a CC form's frame.

    Only that blank line ends it, so a body that runs to the end of the file is checked
    for the signs of a cut there.
    """
    end = next((i for i, line in enumerate(body_lines) if not line.strip()), len(body_lines))
    body = "\n".join(body_lines[:end])
    if block.last and body and end == len(body_lines):
        # The body runs to the end of the file, and nothing shows that it ends there.
        if block.cut_line:
            raise Incomplete(path, f"{label} ends in the middle of a line {_CUT}", line=block.line)
        if current_format and not (end == 1 and _BRACKET_LINE.match(body.strip())):
            raise Incomplete(path, f"{label} has no blank line to end it {_CUT}", line=block.line)
    form = _FORM_BODY.match(body)
    return form.group(1) if form else body  # CC form bodies are printed raw inside a "[<type> …]" frame


def _take_body(block: _Block, head: _Head, path: str, current_format: bool, *, bodyless: bool, label: str) -> str:
    """The block's body: sized by ``Content-Length`` in a raw dump, else a JSON value or lines to a blank one."""
    start = _body_start(block, head, current_format)
    if start is None:
        return ""
    length = None if current_format or bodyless else content_length(head.headers)
    # Only a raw httputil dump (CRLF lines: format A, B's responses) keeps the body as sent,
    # and a response's body as the server sent it even once its CRLFs became LFs.  Format B
    # rebuilds requests (LF lines), re-encoding their bodies; format C re-indents JSON.
    if length is not None and (head.dump or block.kind == "RESPONSE"):
        sized_body = _sized_body(block, start, length, path, label, dump=head.dump)
        if sized_body is not None:
            return sized_body
    body_lines = block.lines[start:]
    if not body_lines:
        if block.last and not bodyless and length != 0:
            raise Incomplete(path, f"{label} ends before its body {_CUT}", line=block.line)
        return ""
    json_body = _json_body(block, head, body_lines, path, label)
    if json_body is not None:
        return json_body
    return _text_body(block, body_lines, current_format, path, label)


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


def _unanswered(block: _Block, path: str) -> Incomplete:
    first = next((line.strip() for line in block.lines if line.strip()), "")
    match = _REQUEST_LINE.match(first)
    what = f" {exchange_name(match.group(1), match.group(2))}" if match else ""
    return Incomplete(path, f"REQUEST{what} has no RESPONSE", line=block.line)


def _trace_interaction(request: _Block, response: _Block, path: str, current_format: bool) -> Interaction:
    request_head = _parse_head(request, path, "REQUEST")
    method, target = request_head.match.group(1), request_head.match.group(2)
    name = exchange_name(method, target)
    request_body = _take_body(request, request_head, path, current_format, bodyless=False, label=f"REQUEST {name}")
    label = f"RESPONSE to {name}"
    response_head = _parse_head(response, path, label)
    code = int(response_head.match.group(1))
    response_body = _take_body(
        response, response_head, path, current_format, bodyless=is_bodyless(method, code), label=label
    )
    if target.startswith(("http://", "https://")):
        uri = target
    else:
        host = find_header(request_head.headers, "Host")
        if not host:
            raise TrafficFormatError(path, "request has no Host header", line=request.line)
        uri = f"https://{host}{target}"
    message = (response_head.match.group(2) or "").strip()
    return make_interaction(
        method, uri, request_head.headers, request_body, code, message, response_head.headers, response_body
    )


def has_marker(text: str) -> bool:
    """Whether *text* holds a ``REQUEST:`` or ``RESPONSE:`` marker line (colours aside): a cf CLI trace."""
    return any(_MARKER.match(line) for line in re.split(r"\r?\n", _ANSI.sub("", text)))


def read_cf_trace(text: str, path: str, drops: Drops) -> tuple[list[Interaction], datetime | None]:
    blocks, cut_marker = _blocks(text)
    pairs: list[tuple[_Block, _Block]] = []
    pending: _Block | None = None
    for block in blocks:
        if block.kind == "REQUEST":
            if pending is not None:
                drops.drop(_unanswered(pending, path))  # a failed attempt the CLI retried, or a cut
            pending = block
        elif pending is None:
            drops.drop(Incomplete(path, "RESPONSE without a REQUEST before it", line=block.line))
        else:
            pairs.append((pending, block))
            pending = None
    if pending is not None:
        drops.drop(_unanswered(pending, path))
    if cut_marker is not None:
        drops.drop(Incomplete(path, f"the file ends inside a REQUEST:/RESPONSE: line {_CUT}", line=cut_marker))
    current_format = _current_format(blocks, path)
    interactions: list[Interaction] = []
    first: datetime | None = None
    for request, response in pairs:
        try:
            interactions.append(_trace_interaction(request, response, path, current_format))
        except Incomplete as error:
            drops.drop(error)
            continue
        first = earliest(first, timestamp(request.stamp))
    return interactions, first
