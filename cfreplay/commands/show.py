"""Reading cassettes as a person would: ``show`` one, ``diff`` two.

:func:`show` lists a cassette's interactions as a table, or decodes one
exchange (JSON pretty-printed, forms as ``key=value`` lines, binary as a byte
count).  :func:`diff` compares two cassettes interaction by interaction, by
position, and reports only what matters: request ids, dates, trace headers,
cookie values, tokens and timestamps differ between any two recordings of the
same exchange, so they are ignored.  Both return text for a terminal or a JSON
document for scripts; colour is the caller's decision (the CLI's, on a TTY).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlsplit

from cfreplay import cassette
from cfreplay.cf import tokens
from cfreplay.commands import _align
from cfreplay.errors import CfreplayError
from cfreplay.hygiene._walker import MAX_DEPTH
from cfreplay.hygiene.redaction import PLACEHOLDER_PATTERN
from cfreplay.types import reason_phrase

__all__ = ["diff", "show"]

Fmt = Literal["text", "json"]
BodyKind = Literal["empty", "json", "form", "text", "binary"]

_URL_WIDTH: Final = 72
_VALUE_WIDTH: Final = 80
_ARROW: Final = "→"

_RESET: Final = "\033[0m"
_BOLD: Final = "\033[1m"
_RED: Final = "\033[31m"
_GREEN: Final = "\033[32m"
_YELLOW: Final = "\033[33m"

#: Headers that differ between any two recordings of the same exchange.
_VOLATILE_HEADERS: Final = frozenset({"date", "x-vcap-request-id"})
_VOLATILE_HEADER_PREFIXES: Final = ("x-b3-",)
#: Derived from the body, which is compared itself (a longer token must not count as a change).
_LENGTH_HEADERS: Final = frozenset({"content-length"})
_COOKIE_HEADERS: Final = frozenset({"cookie", "set-cookie"})
#: JSON keys whose values are timestamps in every CC v2 era.
_TIMESTAMP_KEYS: Final = frozenset({"created_at", "updated_at", "package_updated_at"})
_TIMESTAMP: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_TOKEN_MASK: Final = "<token>"
_TIME_MASK: Final = "<timestamp>"


# --- decoding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    kind: BodyKind
    size: int
    value: Any  # parsed JSON, [(key, value)] for forms, str for text, None otherwise


def _header(headers: Mapping[str, list[str]], name: str) -> str | None:
    wanted = name.lower()
    for key, values in headers.items():
        if key.lower() == wanted and values:
            return values[0]
    return None


def _raw(body: Any) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _is_text(text: str) -> bool:
    return all(ch.isprintable() or ch in "\t\n\r" for ch in text)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether *value* nests containers more than *limit* deep (walked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _decode(raw: bytes, content_type: str | None) -> _Body:
    if not raw:
        return _Body("empty", 0, None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _Body("binary", len(raw), None)
    if not _is_text(text):
        return _Body("binary", len(raw), None)
    ctype = (content_type or "").lower()
    if "json" in ctype or (not ctype and text.lstrip()[:1] in ("{", "[")):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            pass  # labelled JSON but is not (or nested past Python's stack): show what is there
        else:
            if not _deeper_than(document, MAX_DEPTH):
                return _Body("json", len(raw), document)
            # Nested deeper than a cassette body ever is: compared and shown as text, which
            # needs no recursion (the sanitizer refuses such bodies past the same depth).
    if ctype.startswith("application/x-www-form-urlencoded"):
        return _Body("form", len(raw), parse_qsl(text, keep_blank_values=True))
    return _Body("text", len(raw), text)


def _request_body(request: Mapping[str, Any]) -> _Body:
    return _decode(_raw(request.get("body")), _header(request.get("headers") or {}, "Content-Type"))


def _response_body(response: Mapping[str, Any]) -> _Body:
    return _decode(_raw(response["body"].get("string")), _header(response.get("headers") or {}, "Content-Type"))


def _status(response: Mapping[str, Any]) -> tuple[int, str]:
    code: int = response["status"]["code"]
    message = response["status"].get("message")
    if not isinstance(message, str) or not message:
        message = reason_phrase(code)
    return code, message


def _recorded_at(loaded: cassette.Cassette) -> str | None:
    """The instant replay freezes the clock at (the same reading: cassette.recorded_at)."""
    moment = cassette.recorded_at(loaded.data)
    return None if moment is None else cassette.stamp(moment)


# --- colour ---------------------------------------------------------------------------


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color and text else text


def _status_colour(code: int) -> str:
    # 2xx went as asked, 3xx is worth a look, 4xx and 5xx failed.
    if 200 <= code < 300:
        return _GREEN
    return _YELLOW if 300 <= code < 400 else _RED


# --- show -----------------------------------------------------------------------------


def show(path: Path, *, index: int | None = None, fmt: Fmt = "text", color: bool = False, cut_urls: bool = True) -> str:
    """The cassette at *path* as a table of interactions, or interaction *index* decoded.

    *cut_urls* shortens long URLs in the middle to keep the table in a terminal; the
    command line turns it off when its output is piped, so a guid reaches ``grep`` whole.

    Raises :class:`cfreplay.CassetteError` when the file cannot be loaded and
    :class:`cfreplay.CfreplayError` when *index* is out of range.
    """
    loaded = cassette.load(path)
    if index is None:
        return _table_json(loaded) if fmt == "json" else _table_text(loaded, color, cut_urls)
    count = len(loaded)
    if not 0 <= index < count:
        have = f"it has {count} ({0}-{count - 1})" if count else "it has none"
        raise CfreplayError(f"{path}: no interaction {index}; {have}")
    interaction = loaded.interactions[index]
    if fmt == "json":
        return _exchange_json(loaded, index, interaction)
    return _exchange_text(loaded, index, interaction, color)


def _summary(index: int, interaction: Mapping[str, Any]) -> dict[str, Any]:
    request, response = interaction["request"], interaction["response"]
    code, message = _status(response)
    return {
        "index": index,
        "method": request["method"],
        "uri": request["uri"],
        "status": code,
        "message": message,
        "request_bytes": len(_raw(request.get("body"))),
        "response_bytes": len(_raw(response["body"].get("string"))),
    }


def _truncate(text: str, width: int) -> str:
    """Keep both ends of a long URL: the host and the last path segments say the most."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _table_text(loaded: cassette.Cassette, color: bool, cut_urls: bool) -> str:
    rows = [_summary(i, interaction) for i, interaction in enumerate(loaded)]
    lines = [f"{loaded.path}: {_plural(len(rows), 'interaction')}, recorded {_recorded_at(loaded) or 'unknown'}"]
    if not rows:
        return "\n".join(lines) + "\n"
    cells = [
        (str(r["index"]), r["method"], _truncate(r["uri"], _URL_WIDTH) if cut_urls else r["uri"], str(r["status"]),
         str(r["request_bytes"]), str(r["response_bytes"]))
        for r in rows
    ]  # fmt: skip
    titles = ("#", "METHOD", "URL", "STATUS", "REQ", "RESP")
    widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
    right = (True, False, False, False, True, True)  # numbers right-aligned

    def line(values: tuple[str, ...], painted: tuple[str, ...]) -> str:
        # Pad the plain text, then colour it: ANSI codes have no width.
        parts = []
        for value, paint, width, align in zip(values, painted, widths, right, strict=True):
            pad = " " * (width - len(value))
            parts.append(pad + paint if align else paint + pad)
        return "  ".join(parts).rstrip()

    lines.append(line(titles, tuple(_paint(t, _BOLD, color) for t in titles)))
    for row, cell in zip(rows, cells, strict=True):
        painted = (
            cell[0], _paint(cell[1], _BOLD, color), cell[2],
            _paint(cell[3], _status_colour(row["status"]), color), cell[4], cell[5],
        )  # fmt: skip
        lines.append(line(cell, painted))
    return "\n".join(lines) + "\n"


def _table_json(loaded: cassette.Cassette) -> str:
    document = {
        "path": str(loaded.path),
        "recorded_at": _recorded_at(loaded),
        "count": len(loaded),
        "interactions": [_summary(i, interaction) for i, interaction in enumerate(loaded)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _body_lines(body: _Body) -> list[str]:
    if body.kind == "empty":
        return ["(no body)"]
    if body.kind == "binary":
        return [f"<{body.size} bytes of binary data>"]
    if body.kind == "json":
        return json.dumps(body.value, indent=2, ensure_ascii=False).splitlines()
    if body.kind == "form":
        return [f"{key}={value}" for key, value in body.value] or ["(no body)"]
    text: str = body.value
    return text.splitlines()


def _header_lines(headers: Mapping[str, list[str]], color: bool) -> list[str]:
    return [f"{_paint(name, _BOLD, color)}: {value}" for name, values in headers.items() for value in values]


def _exchange_text(loaded: cassette.Cassette, index: int, interaction: Mapping[str, Any], color: bool) -> str:
    request, response = interaction["request"], interaction["response"]
    code, message = _status(response)
    lines = [f"{loaded.path}: interaction {index} of {len(loaded)} (0-{len(loaded) - 1})", ""]
    lines.append(f"{_paint(request['method'], _BOLD, color)} {request['uri']}")
    lines += _header_lines(request.get("headers") or {}, color)
    lines += ["", *_body_lines(_request_body(request)), ""]
    lines.append(_paint(f"{code} {message}".rstrip(), _status_colour(code), color))
    lines += _header_lines(response.get("headers") or {}, color)
    lines += ["", *_body_lines(_response_body(response))]
    return "\n".join(lines) + "\n"


def _body_json(body: _Body) -> dict[str, Any]:
    document: dict[str, Any] = {"kind": body.kind, "bytes": body.size}
    if body.kind == "form":
        document["value"] = [[key, value] for key, value in body.value]
    elif body.kind in ("json", "text"):
        document["value"] = body.value
    return document


def _exchange_json(loaded: cassette.Cassette, index: int, interaction: Mapping[str, Any]) -> str:
    request, response = interaction["request"], interaction["response"]
    code, message = _status(response)
    document = {
        "path": str(loaded.path),
        "index": index,
        "count": len(loaded),
        "request": {
            "method": request["method"],
            "uri": request["uri"],
            "headers": request.get("headers") or {},
            "body": _body_json(_request_body(request)),
        },
        "response": {
            "status": code,
            "message": message,
            "headers": response.get("headers") or {},
            "body": _body_json(_response_body(response)),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- diff -----------------------------------------------------------------------------

_MISSING: Final = object()


@dataclass(frozen=True)
class _Change:
    field: str  # request.method, request.uri, response.status, {request,response}.{headers,body}
    path: str  # a header name or a dotted body path; "" for the field itself
    a: Any  # _MISSING when added
    b: Any  # _MISSING when removed

    @property
    def change(self) -> str:
        if self.a is _MISSING:
            return "added"
        return "removed" if self.b is _MISSING else "changed"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"field": self.field, "path": self.path, "change": self.change}
        if self.a is not _MISSING:
            document["a"] = self.a
        if self.b is not _MISSING:
            document["b"] = self.b
        return document


def _mask(text: str) -> str:
    """Tokens become one mask whatever they were: a fresh JWT and its placeholder are the same token."""
    text = tokens.JWT_PATTERN.sub(_TOKEN_MASK, text)
    text = PLACEHOLDER_PATTERN.sub(_TOKEN_MASK, text)
    return _TIMESTAMP.sub(_TIME_MASK, text)


def _normalise_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _TIME_MASK if key in _TIMESTAMP_KEYS and value[key] is not None else _normalise_json(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [_normalise_json(item) for item in value]
    if isinstance(value, str):
        return _mask(value)
    return value


def _cookie_names(name: str, values: list[str]) -> list[str]:
    # Cookie: "a=1; b=2" names two cookies; each Set-Cookie names one, then its attributes.
    if name == "cookie":
        return sorted(part.split("=", 1)[0].strip() for value in values for part in value.split(";") if part.strip())
    return sorted(value.split(";", 1)[0].split("=", 1)[0].strip() for value in values)


def _normalise_headers(headers: Mapping[str, list[str]]) -> dict[str, Any]:
    """Header name (lower case) to what of its value is worth comparing."""
    result: dict[str, Any] = {}
    for raw_name, values in headers.items():
        name = raw_name.lower()
        if name in _VOLATILE_HEADERS or name.startswith(_VOLATILE_HEADER_PREFIXES):
            continue
        if name in _LENGTH_HEADERS:
            result[name] = "<length>"
        elif name in _COOKIE_HEADERS:
            result[name] = _cookie_names(name, values)
        elif name == "authorization":
            result[name] = [value.split(" ", 1)[0].lower() for value in values]
        else:
            result[name] = [_mask(value) for value in values]
        result[name] = result[name][0] if isinstance(result[name], list) and len(result[name]) == 1 else result[name]
    return result


def _walk(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, a, b) for every leaf that differs; a missing side is ``_MISSING``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                yield sub, _MISSING, b[key]
            elif key not in b:
                yield sub, a[key], _MISSING
            else:
                yield from _walk(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                yield sub, _MISSING, b[i]
            elif i >= len(b):
                yield sub, a[i], _MISSING
            else:
                yield from _walk(a[i], b[i], sub)
    elif a != b or type(a) is not type(b):
        yield path, a, b


class _Note(str):
    """A description of a body (its kind and size), printed as is rather than quoted."""

    __slots__ = ()


def _comparable_body(body: _Body) -> tuple[BodyKind, Any]:
    if body.kind == "json":
        return "json", _normalise_json(body.value)
    if body.kind == "form":
        return "form", {key: _mask(value) for key, value in body.value}
    if body.kind == "text":
        return "text", _mask(body.value)
    return body.kind, body.size


def _body_changes(field: str, a: _Body, b: _Body, raw_a: bytes, raw_b: bytes) -> Iterator[_Change]:
    kind_a, value_a = _comparable_body(a)
    kind_b, value_b = _comparable_body(b)
    if kind_a != kind_b:
        yield _Change(field, "", _Note(f"{kind_a}, {a.size} bytes"), _Note(f"{kind_b}, {b.size} bytes"))
    elif kind_a in ("json", "form"):
        for path, old, new in _walk(value_a, value_b, ""):
            yield _Change(field, path, old, new)
    elif kind_a == "text" and value_a != value_b:
        yield _Change(field, "", _Note(f"text, {a.size} bytes"), _Note(f"text, {b.size} bytes"))
    elif kind_a == "binary" and raw_a != raw_b:
        yield _Change(field, "", _Note(f"binary, {a.size} bytes"), _Note(f"binary, {b.size} bytes"))


def _interaction_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[_Change]:
    changes: list[_Change] = []
    req_a, req_b, resp_a, resp_b = a["request"], b["request"], a["response"], b["response"]
    if req_a["method"] != req_b["method"]:
        changes.append(_Change("request.method", "", req_a["method"], req_b["method"]))
    if _mask(req_a["uri"]) != _mask(req_b["uri"]):
        changes.append(_Change("request.uri", "", req_a["uri"], req_b["uri"]))
    status_a, status_b = _status(resp_a), _status(resp_b)
    if status_a[0] != status_b[0]:
        changes.append(_Change("response.status", "", status_a[0], status_b[0]))
    for field, side_a, side_b in (("request.headers", req_a, req_b), ("response.headers", resp_a, resp_b)):
        headers_a = _normalise_headers(side_a.get("headers") or {})
        headers_b = _normalise_headers(side_b.get("headers") or {})
        changes += [_Change(field, path, old, new) for path, old, new in _walk(headers_a, headers_b, "")]
    changes += _body_changes(
        "request.body", _request_body(req_a), _request_body(req_b), _raw(req_a.get("body")), _raw(req_b.get("body"))
    )
    changes += _body_changes(
        "response.body",
        _response_body(resp_a),
        _response_body(resp_b),
        _raw(resp_a["body"].get("string")),
        _raw(resp_b["body"].get("string")),
    )
    return changes


def _identity(interaction: Mapping[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What a request asked for: method, path and query (its pairs in any order), tokens and times masked."""
    request = interaction["request"]
    parts = urlsplit(str(request["uri"]))
    query = tuple(sorted((key, _mask(value)) for key, value in parse_qsl(parts.query, keep_blank_values=True)))
    return str(request["method"]).upper(), _mask(parts.path), query


def diff(a: Path, b: Path, *, fmt: Fmt = "text", color: bool = False) -> tuple[str, bool]:
    """Compare the cassettes at *a* and *b*, aligned by request; returns (output, whether they differ).

    Interactions are paired by request identity — method, path and query — in recorded
    order (a longest common subsequence, :mod:`cfreplay.commands._align`), so one inserted
    exchange (a 401, a token refresh, the retry) shows as added, not as a change of every
    later one; what is left unpaired between two pairs is paired on method and path, so a
    changed query shows as a change.  Paired interactions are compared field by field.

    Ignored as volatile: ``X-VCAP-Request-ID``, ``Date``, ``X-B3-*``, cookie values
    (names still count), ``Content-Length`` values (the body is compared itself),
    ``Authorization`` beyond its scheme, any JWT or ``cfreplay-redacted-`` placeholder,
    ISO-8601 timestamps and the ``created_at``/``updated_at``/``package_updated_at``
    values in bodies, and ``recorded_at``.
    """
    first, second = cassette.load(a), cassette.load(b)
    keys_a = [_identity(interaction) for interaction in first.interactions]
    keys_b = [_identity(interaction) for interaction in second.interactions]
    coarse = ([key[:2] for key in keys_a], [key[:2] for key in keys_b])
    aligned = _align.align(keys_a, keys_b, coarse=coarse)

    def same(i: int, j: int) -> bool:
        return keys_a[i] == keys_b[j] and not _interaction_changes(first.interactions[i], second.interactions[j])

    aligned = _prefer_twins(aligned, same)
    steps: list[_Step] = []
    unchanged = 0
    for i, j in aligned:
        if i is not None and j is not None:
            changes = _interaction_changes(first.interactions[i], second.interactions[j])
            if not changes:
                unchanged += 1
                continue
            steps.append(_Step(i, j, changes))
        else:
            steps.append(_Step(i, j, []))
    differs = bool(steps)
    if fmt == "json":
        document = {
            "equal": not differs,
            "added": [step.b for step in steps if step.a is None],
            "removed": [step.a for step in steps if step.b is None],
            "changed": [
                {"a": step.a, "b": step.b, "fields": [change.to_json() for change in step.changes]}
                for step in steps
                if step.a is not None and step.b is not None
            ],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n", differs
    return _diff_text(a, b, first, second, steps, unchanged, color), differs


def _prefer_twins(steps: list[_align.Step], same: Callable[[int, int], bool]) -> list[_align.Step]:
    """Among equally long alignments, pair an interaction with its identical twin.

    Recording B restaged, got a 401, refreshed and restaged again; A restaged once.  Both
    restages of B are A's restage by identity, and the alignment may pick the first (the
    401), showing a change plus an added 201.  When a request added next to a changed pair,
    with nothing removed in between, is the same request with no change at all, the pair
    moves to it: the 401 then shows as added, which is what happened.
    """
    result = list(steps)
    for index, (i, j) in enumerate(result):
        if i is None or j is None or same(i, j):
            continue
        twin = _find_twin(result, index, i, j, same)
        if twin is not None:
            other, pair = twin
            # The pair moves to the twin, and what it leaves becomes the lone step there: both
            # sides keep their order, since only lone steps of the other side lie between.
            result[index], result[other] = ((None, j) if pair[0] == i else (i, None)), pair
    return result


def _find_twin(
    steps: list[_align.Step], index: int, i: int, j: int, same: Callable[[int, int], bool]
) -> tuple[int, tuple[int, int]] | None:
    """An added twin of A's *i*, or a removed twin of B's *j*, next to the pair at *index*."""
    for direction in (1, -1):
        for lone in (0, 1):  # 0: additions (A side empty), 1: removals (B side empty)
            other = index + direction
            while 0 <= other < len(steps) and steps[other][lone] is None and steps[other][1 - lone] is not None:
                found = steps[other][1 - lone]
                assert found is not None
                if lone == 0 and same(i, found):
                    return other, (i, found)
                if lone == 1 and same(found, j):
                    return other, (found, j)
                other += direction
    return None


@dataclass(frozen=True)
class _Step:
    """One line of the aligned diff: removed (``b`` None), added (``a`` None) or changed."""

    a: int | None
    b: int | None
    changes: list[_Change]


def _show_value(value: Any) -> str:
    text = str(value) if isinstance(value, _Note) else json.dumps(value, ensure_ascii=False)
    return _truncate(text, _VALUE_WIDTH)


def _change_line(change: _Change, color: bool) -> str:
    where = f"{change.field} {change.path}" if change.path else change.field
    if change.a is _MISSING:
        return f"  {where}: {_paint('added', _GREEN, color)} {_show_value(change.b)}"
    if change.b is _MISSING:
        return f"  {where}: {_paint('removed', _RED, color)} (was {_show_value(change.a)})"
    old, new = _paint(_show_value(change.a), _RED, color), _paint(_show_value(change.b), _GREEN, color)
    return f"  {where}: {old} {_ARROW} {new}"


def _row(loaded: cassette.Cassette, index: int, color: bool) -> str:
    interaction = loaded.interactions[index]
    request = interaction["request"]
    return f"{_paint(request['method'], _BOLD, color)} {request['uri']} {_status(interaction['response'])[0]}"


def _diff_text(
    a: Path,
    b: Path,
    first: cassette.Cassette,
    second: cassette.Cassette,
    steps: Sequence[_Step],
    unchanged: int,
    color: bool,
) -> str:
    if not steps:
        return f"no differences ({_plural(unchanged, 'interaction')} compared; volatile fields ignored)\n"
    lines = [f"--- {a}", f"+++ {b}"]
    for step in steps:
        if step.b is None:
            assert step.a is not None
            lines.append(_paint(f"- a[{step.a}] ", _RED, color) + _row(first, step.a, color))
        elif step.a is None:
            lines.append(_paint(f"+ b[{step.b}] ", _GREEN, color) + _row(second, step.b, color))
        else:
            request = second.interactions[step.b]["request"]
            where = _paint(f"~ a[{step.a}] b[{step.b}] ", _YELLOW, color)
            lines.append(f"{where}{_paint(request['method'], _BOLD, color)} {request['uri']}")
            lines += [_change_line(change, color) for change in step.changes]
    counts = {
        "removed": sum(step.b is None for step in steps),
        "added": sum(step.a is None for step in steps),
        "changed": sum(step.a is not None and step.b is not None for step in steps),
    }
    summary = ", ".join(f"{count} {what}" for what, count in counts.items() if count)
    lines.append(f"{summary}; {unchanged} unchanged (volatile fields ignored)")
    return "\n".join(lines) + "\n"
