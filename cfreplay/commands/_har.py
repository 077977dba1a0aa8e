"""HAR 1.2 documents, as browser devtools and mitmproxy export them, read into vcrpy interactions.

One interaction per entry; see :mod:`cfreplay.commands.importing` for what is kept of the
bodies, headers and cookies, and for what makes an exchange incomplete.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import zlib
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Final

from cfreplay.commands._traffic import (
    Drops,
    Incomplete,
    Interaction,
    add_header,
    content_length,
    drop_header,
    earliest,
    exchange_name,
    find_header,
    header_values,
    is_bodyless,
    make_interaction,
    timestamp,
)
from cfreplay.errors import TrafficFormatError

__all__ = ["read_entries", "read_har"]

_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")


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


def read_entries(text: str, path: str) -> list[Any]:
    """The entries of the HAR document *text*; :class:`TrafficFormatError` if it is no HAR file."""
    return _entries(_load_json(text, path), path)


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

    def incomplete(self, message: str) -> Incomplete:
        return Incomplete(self.path, f"{self.name} {message}")


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
        add_header(headers, name, str(item["value"]))
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
    present = _cookie_names(header_values(headers, "Cookie"), several=True)
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
    moment = timestamp(expires) if isinstance(expires, str) else None
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
    present = _cookie_names(header_values(headers, "Set-Cookie"), several=False)
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
    identity = (find_header(headers, "Content-Encoding") or "identity").strip().lower() == "identity"
    if (identity or compressed) and find_header(headers, "Transfer-Encoding") is None:
        length = content_length(headers)
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
    encoding = find_header(headers, "Content-Encoding")
    compressed = encoding is not None and _still_compressed(stored, encoding)
    if check:
        shortfall = _har_shortfall(response, content, headers, stored, compressed)
        if shortfall is not None:
            raise entry.incomplete(shortfall)
    if encoding is not None:
        if not compressed:
            drop_header(headers, "Content-Encoding")
        elif raw is None:
            raw = stored
    if raw is None:
        return text
    try:
        return raw.decode("utf-8")  # text stays readable in the cassette; the sanitizer reads it
    except UnicodeDecodeError:
        return raw


def _har_entry(raw_entry: Any, entry: _Entry) -> tuple[Interaction, datetime | None]:
    """One entry's interaction and start time; raises :class:`Incomplete` for an exchange it lacks part of."""
    if not isinstance(raw_entry, dict):
        raise entry.error("is not an object")
    request, response = raw_entry.get("request"), raw_entry.get("response")
    if not isinstance(request, dict):
        raise entry.error("has no request")
    for key in ("method", "url"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise entry.error(f"request has no {key}")
    entry.name = f"entry {entry.index} ({exchange_name(request['method'], request['url'])})"
    if response is None:
        raise entry.incomplete("has no response")
    if not isinstance(response, dict):
        raise entry.error("has no response")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status <= 999:
        raise entry.error("response has no status")
    started = raw_entry.get("startedDateTime")
    moment = timestamp(started) if isinstance(started, str) else None
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
    body = _har_response_body(response, response_headers, entry, check=not is_bodyless(request["method"], status))
    interaction = make_interaction(
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


def read_har(text: str, path: str, drops: Drops) -> tuple[list[Interaction], datetime | None]:
    entries = read_entries(text, path)
    lines = _EntryLines(text, len(entries))
    interactions: list[Interaction] = []
    first: datetime | None = None
    for index, raw_entry in enumerate(entries):
        # The entry's line is looked for only when an error names it: finding it costs a second walk.
        try:
            interaction, moment = _har_entry(raw_entry, _Entry(path, index))
        except Incomplete as error:
            drops.drop(Incomplete(path, error.reason, line=lines(index)))
            continue
        except TrafficFormatError as error:
            raise TrafficFormatError(path, error.reason, line=lines(index)) from None
        interactions.append(interaction)
        first = earliest(first, moment)
    return interactions, first
