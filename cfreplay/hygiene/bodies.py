"""Body decoding, in one place and with limits: what ``Content-Encoding`` says a body is.

The sanitizer decodes a body to look inside it and encodes it again when it
changed something; the scanner decodes it to look.  Both use these functions,
so they see the same text.  A body is decoded only as its own headers declare
(``gzip``, ``x-gzip``, ``deflate``, ``br``, ``zstd``, or a list of them); a
compressed archive sent without ``Content-Encoding`` (a droplet, app bits) is
opaque data, not a body to open.

Decoding stops at :data:`MAX_DECODED` bytes: a few kilobytes of gzip can inflate
to gigabytes, and neither tool may exhaust memory or write such a file.  Past the
cap :class:`BodyTooLarge` is raised; callers turn it into a one-line error and write
nothing.  A body that does not decode as declared (vcrpy stores some clients'
bodies already decoded under a header that still says gzip) comes back as
``None``: it is read as it is.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cfreplay.errors import BodyTooLarge

__all__ = ["ENCODINGS", "MAX_DECODED", "Decoded", "content_encoding", "decode", "encode", "header"]

#: The most a body may decode to.
MAX_DECODED: Final = 64 * 1024 * 1024
ENCODINGS: Final = ("gzip", "x-gzip", "deflate", "br", "zstd")
_CHUNK: Final = 1024 * 1024


def header(headers: Mapping[str, list[str]] | None, name: str) -> str:
    """The first value of header *name* (case-insensitive), or ``""``."""
    for key, values in (headers or {}).items():
        if key.lower() == name and values:
            return values[0]
    return ""


def content_encoding(headers: Mapping[str, list[str]] | None) -> tuple[str, ...]:
    """The codings a body was sent with, in the order they were applied (``identity`` dropped)."""
    value = header(headers, "content-encoding").lower()
    return tuple(part.strip() for part in value.split(",") if part.strip() and part.strip() != "identity")


@dataclass(frozen=True)
class Decoded:
    """A body's bytes after undoing its codings; ``codings`` empty when none applied."""

    data: bytes
    codings: tuple[str, ...]


def decode(data: bytes, codings: tuple[str, ...]) -> Decoded | None:
    """*data* with *codings* undone (last applied, first undone); ``None`` when it does not decode as declared.

    Raises :class:`BodyTooLarge` past :data:`MAX_DECODED`.  An unknown coding counts as
    not decodable.
    """
    for coding in reversed(codings):
        if coding not in ENCODINGS:
            return None
        decoded = _decode_one(data, coding)
        if decoded is None:
            return None
        data = decoded
    return Decoded(data, codings)


def encode(data: bytes, codings: tuple[str, ...]) -> bytes:
    """*data* with *codings* applied again, deterministically (gzip with mtime 0)."""
    for coding in codings:
        data = _encode_one(data, coding)
    return data


def _decode_one(data: bytes, coding: str) -> bytes | None:
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(data, 16 + zlib.MAX_WBITS, coding, members=True)
        if coding == "deflate":
            try:
                return _inflate(data, zlib.MAX_WBITS, coding)
            except zlib.error:
                return _inflate(data, -zlib.MAX_WBITS, coding)  # raw deflate, as some servers send it
        if coding == "br":
            return _brotli(data)
        return _zstd(data)
    except BodyTooLarge:
        raise
    except Exception:  # zlib.error, brotli.error, zstd.ZstdError: not what the header claims
        return None


def _inflate(data: bytes, wbits: int, coding: str, *, members: bool = False) -> bytes:
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits)
        out += inflater.decompress(data, MAX_DECODED + 1 - len(out))
        if len(out) > MAX_DECODED or inflater.unconsumed_tail:
            raise BodyTooLarge(coding, MAX_DECODED)
        if not inflater.eof:
            raise zlib.error("truncated")
        data = inflater.unused_data
        if not (members and data.strip(b"\0")):
            return bytes(out)


def _brotli(data: bytes) -> bytes:
    import brotli

    decompressor = brotli.Decompressor()
    out = bytearray(decompressor.process(data, output_buffer_limit=_CHUNK))
    while not decompressor.is_finished():
        if len(out) > MAX_DECODED:
            raise BodyTooLarge("br", MAX_DECODED)
        if decompressor.can_accept_more_data():
            raise ValueError("truncated brotli stream")
        out += decompressor.process(b"", output_buffer_limit=_CHUNK)
    if len(out) > MAX_DECODED:
        raise BodyTooLarge("br", MAX_DECODED)
    return bytes(out)


def _zstd(data: bytes) -> bytes:
    import zstandard

    out = bytearray()
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > MAX_DECODED:
                raise BodyTooLarge("zstd", MAX_DECODED)
    return bytes(out)


def _encode_one(data: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "br":
        import brotli

        result: bytes = brotli.compress(data)
        return result
    import zstandard

    compressed: bytes = zstandard.ZstdCompressor().compress(data)
    return compressed
