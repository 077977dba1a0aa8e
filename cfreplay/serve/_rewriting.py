"""Keeping clients on the served address: recorded origins rewritten to ``http://127.0.0.1:PORT``.

A cassette holds the foundation it was recorded against: ``/v2/info`` advertises its UAA,
``Location`` and ``next_url`` name its host.  A client that follows them leaves the served
address for a dead one.  :func:`origin_pattern` finds every origin of the recorded and the
advertised hosts in text, and :func:`rewritten` puts the served one in its place, in headers
and in bodies (opening gzip and deflate ones, which are then sent decoded).
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from cfreplay.types import Response

__all__ = ["discovered_hosts", "origin_pattern", "request_hosts", "rewritten"]

_URL_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
# A compressed body is opened to be rewritten only up to this size.
_MAX_INFLATED: Final = 64 * 1024 * 1024


def _advertised_hosts(document: Any) -> set[str]:
    """Host names of every absolute HTTP or WebSocket URL in a discovery document (``/``, ``/v2/info``).

    Walked without recursion: a recorded body may nest deeper than Python's stack.
    """
    hosts: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "://" in item:
            try:
                split = urlsplit(item)
            except ValueError:
                continue
            if split.scheme.lower() in _URL_SCHEMES and split.hostname:
                hosts.add(split.hostname.lower())
    return hosts


def request_hosts(uri: str) -> set[str]:
    """The host a recorded request went to (none for a relative URI)."""
    try:
        host = urlsplit(uri).hostname if "://" in uri.split("?", 1)[0] else None
    except ValueError:
        return set()
    return {host.lower()} if host else set()


def discovered_hosts(response: Response) -> set[str]:
    """The hosts a recorded ``/`` or ``/v2/info`` answer advertises (none if it is not JSON)."""
    body = _inflated(response.body, _codings(response)) if _codings(response) else response.body
    try:
        return _advertised_hosts(json.loads(body)) if body is not None else set()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the stack
        return set()


def _codings(response: Response) -> list[str]:
    """The response's content codings, in the order they were applied."""
    return [
        coding.strip().lower()
        for name, value in response.headers
        if name.lower() == "content-encoding"
        for coding in value.split(",")
        if coding.strip()
    ]


def origin_pattern(hosts: set[str]) -> re.Pattern[str] | None:
    """What an origin on one of *hosts* looks like in text: scheme, ``://`` (or JSON's ``:\\/\\/``), host, port."""
    if not hosts:
        return None
    # The look-ahead refuses a longer name (api.example.com.evil); an IPv6 host is written in brackets.
    names = "|".join(
        rf"\[{re.escape(host)}\]" if ":" in host else re.escape(host)
        for host in sorted(hosts, key=lambda h: (-len(h), h))
    )
    return re.compile(rf"\b(?P<scheme>https?|wss?)(?P<sep>://|:\\/\\/)(?:{names})(?::\d+)?(?![\w.:-])", re.IGNORECASE)


def _inflated(body: bytes, codings: Sequence[str]) -> bytes | None:
    """*body* decoded from gzip and deflate (outermost coding last), or ``None`` if it cannot be."""
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            return None
        # gzip: a gzip header (or zlib's, which some servers send); deflate: zlib, or raw as some servers do.
        attempts = (zlib.MAX_WBITS | 32,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
        for wbits in attempts:
            opener = zlib.decompressobj(wbits)
            try:
                data = opener.decompress(body, _MAX_INFLATED)
            except zlib.error:
                continue
            if opener.unconsumed_tail or opener.unused_data or not opener.eof:
                return None  # too large, several members, or truncated: sent as recorded
            body = data
            break
        else:
            return None
    return body


def rewritten(response: Response, pattern: re.Pattern[str], served: str) -> Response:
    """*response* with every origin *pattern* matches replaced by the *served* one (``http://host:port``)."""
    netloc = urlsplit(served).netloc

    def origin(match: re.Match[str]) -> str:
        scheme = "ws" if match["scheme"].lower().startswith("ws") else "http"
        return f"{scheme}{match['sep']}{netloc}"

    headers = [(name, pattern.sub(origin, value)) for name, value in response.headers]
    codings = _codings(response)
    body = _inflated(response.body, codings) if codings else response.body
    text: str | None = None
    if body is not None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is not None and pattern.search(text) is not None:
        body = pattern.sub(origin, text).encode("utf-8")
        if codings:  # sent decoded from now on
            headers = [(name, value) for name, value in headers if name.lower() != "content-encoding"]
    else:
        body = response.body
    headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return dataclasses.replace(response, headers=tuple(headers), body=body)
