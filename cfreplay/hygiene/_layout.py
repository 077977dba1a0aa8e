"""vcrpy's raw layout: where a cassette's parts are in its text, and values read from it raw.

The signal pass reads a cassette's text without a parser, relying on how vcrpy (through
:func:`cfreplay.cassette.dumps`) lays it out.  This room holds that knowledge:

- the layout check: which interactions are laid out exactly as vcrpy writes them (the
  others go to the exact engine), and where the interactions end;
- :class:`Locator`: which interaction an offset is in, and where in it;
- readers of values in raw text: a JSON string after a key (escaped once or more, or
  folded by YAML), a header's values as JSON or YAML list items, whether an object
  that follows a key is redacted, a window of text as the strings the parser would see.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Iterable
from typing import Final, Literal, NamedTuple

import yaml

try:  # libyaml is several times faster; the pure-Python class behaves the same.
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

__all__ = [
    "COLUMN_ZERO",
    "COLUMN_ZERO_KEY",
    "HEADER_NAME",
    "JSON_STRING",
    "LEVELS",
    "STRUCTURE_LINE",
    "Format",
    "Layout",
    "Locator",
    "SafeLoader",
    "check_layout",
    "in_docker_credentials",
    "json_string",
    "json_values",
    "key_line",
    "object_follows",
    "readings",
    "redacted_object",
    "string_value",
    "yaml_items",
]

Format = Literal["yaml", "json"]

#: The cassette's own keys (``metadata:``…), where a YAML or a JSON cassette writes them.
_TOP_KEY_YAML: Final = re.compile(r"\n([A-Za-z_][\w-]*):")
_TOP_KEY_JSON: Final = re.compile(r'\n {4}"([^"\\\n]+)":')
#: Where indented interactions end: the next line at column zero.
COLUMN_ZERO: Final = re.compile(r"\n(?=\S)")
#: Where unindented interactions end: the next line at column zero that is no item marker.
COLUMN_ZERO_KEY: Final = re.compile(r"\n(?=[^\s-])")
#: A YAML line's own keys and item markers (``    - key: ``), before its value.
STRUCTURE_LINE: Final = re.compile(r"( *)(?:- )*(?:[\w-]+:|-) ?")

#: How vcrpy (through cfreplay.cassette.dumps) opens and closes a JSON cassette.
_JSON_HEAD: Final = '{\n    "interactions": [\n        {\n            '
_JSON_TAIL: Final = re.compile(r'    \],?\r?\n(?:    "version": \d+\r?\n)?\}\r?\n?')
_YAML_TAIL: Final = re.compile(r"(?:version: \d+\r?\n?)?")
#: A JSON string on one line ("unrolled": runs of plain characters between escapes, which the
#: regex engine scans several times faster than one alternation per character).
JSON_STRING: Final = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
#: A line of a JSON cassette's interactions that is not where vcrpy writes it (JSON strings
#: never span lines, so every line is structure).  Each line is matched to its end: a
#: headers object written on one line, or continued after a lone CR (JSON whitespace), would
#: hide its keys from the signal pass.
_JSON_BAD_LINE: Final = re.compile(
    r"\n(?!(?:"
    r" {8}(?:\{|\},?)"
    r"| {12}(?:\"(?:request|response)\": \{|\},?)"
    r"| {16}(?:\"(?:body|headers|status)\": \{|\"headers\": \{\},?"
    rf"|\"(?:body|method|uri)\": (?:{JSON_STRING}|null),?|\"recorded_at\": \"[0-9T:Z-]{{20}}\",?|\}},?)"
    rf"| {{20}}(?:\"string\": (?:{JSON_STRING}|null),?|\"code\": \d+,?|\"message\": {JSON_STRING},?"
    rf"|{JSON_STRING}: \[(?:\],?)?|\],?|\}},?)"
    rf"| {{24}}{JSON_STRING},?"
    r")\r?$"
    r"| {4}\]"
    r")",
    re.MULTILINE,
)
#: A header name as vcrpy's YAML writes it plainly (anything else is quoted: the parser reads it).
HEADER_NAME: Final = r"[A-Za-z0-9_.$+^~][A-Za-z0-9_.!#$%&'*+^`|~-]{0,127}"


class Layout(NamedTuple):
    """What the layout check found in a cassette's interactions."""

    #: Where the interactions end (the cassette's own keys follow).
    end: int
    #: The span of the interactions when the cassette's own keys must be parsed to be read.
    outside: tuple[int, int] | None
    #: Interactions not laid out as vcrpy writes them (``None``: the whole file).
    unsure: set[int | None]
    #: YAML: per interaction laid out as vcrpy writes it, the match that says where its sections start.
    sections: dict[int, re.Match[str]] | None = None


def check_layout(text: str, fmt: Format, starts: list[int], indent: int) -> Layout:
    """Which interactions are not laid out as vcrpy writes them: the exact engine reads those.

    The signal pass finds header keys, body and status sections by their place in
    vcrpy's layout; an interaction laid out otherwise (a quoted or commented header
    key, a key vcrpy does not write, flow style) is valid, but only the parser reads
    it exactly.  The cassette's own keys (``metadata``…), when there are any, are read
    by the parser too (``outside``).
    """
    if not starts:
        return Layout(len(text), None, {None})  # no interactions, or none where vcrpy writes them: parse it
    return _check_json(text, starts) if fmt == "json" else _check_yaml(text, starts, indent)


def _check_json(text: str, starts: list[int]) -> Layout:
    closing = text.find("\n    ]", starts[-1])
    end = closing + 1 if closing >= 0 else len(text)
    head, tail = text[: starts[0]], text[end:]
    outside = (starts[0], end) if head != _JSON_HEAD or _JSON_TAIL.fullmatch(tail) is None else None
    unsure: set[int | None] = set()
    last = end - 1 if closing >= 0 else end  # the lookahead must not reach past the array
    bad = _JSON_BAD_LINE.search(text, starts[0], last)
    while bad is not None:
        index = bisect.bisect_right(starts, bad.start()) - 1
        unsure.add(index)
        following = starts[index + 1] if index + 1 < len(starts) else last
        bad = _JSON_BAD_LINE.search(text, following, last)
    return Layout(end, outside, unsure)


def _check_yaml(text: str, starts: list[int], indent: int) -> Layout:
    top = (COLUMN_ZERO if indent else COLUMN_ZERO_KEY).search(text, starts[-1] + 1)
    end = top.start() + 1 if top is not None else len(text)
    if _other_breaks(text):
        # YAML also breaks lines at a lone CR, NEL, LS and PS, where the signal pass sees one
        # line: a header key, even a "- request:", could hide behind one.  vcrpy never writes
        # them raw (PyYAML escapes them), so only the parser reads such a file.
        return Layout(end, None, {None})
    outside = None
    if text[: starts[0]] != "interactions:\n" or _YAML_TAIL.fullmatch(text, end) is None:
        outside = (starts[0], end)
    # Without a CR anywhere, "." (all but "\n") is "[^\r\n]", and twice as fast in the engine.
    layout = _yaml_interaction(indent, "\r" in text)
    unsure: set[int | None] = set()
    sections: dict[int, re.Match[str]] = {}
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else end
        found = layout.fullmatch(text, start, stop)
        if found is None:
            unsure.add(index)
        else:
            sections[index] = found
    return Layout(end, outside, unsure, sections)


_LONE_CR: Final = re.compile("\r(?!\n)")


def _other_breaks(text: str) -> bool:
    """Whether *text* holds a line break YAML knows besides "\n" and "\r\n": a lone CR, NEL, LS or PS."""
    # str.__contains__ is memchr-fast (and free for a character above the text's widest).
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        return True
    return "\r" in text and _LONE_CR.search(text) is not None


@functools.cache
def _yaml_interaction(indent: int, crlf: bool = True) -> re.Pattern[str]:
    """One interaction exactly as vcrpy writes it in YAML, interactions indented by *indent*.

    With *crlf* false the text holds no CR (nor any other YAML line break but "\n"), so a
    line's characters are written ``.``, which the engine scans far faster than a class.
    """
    nl = r"\r?\n" if crlf else r"\n"
    char = r"[^\r\n]" if crlf else "."
    pad = " " * indent

    # No line may end in a backslash: a double-quoted scalar folded with a backslash joins its
    # lines without a space, which the signal pass does not read, so the parser reads that
    # interaction.
    line_end = r"(?<!\\)"

    def deeper(spaces: int) -> str:  # continuation lines of a folded scalar, or blank lines
        return rf"(?:(?:{pad}{' ' * spaces}{char}*+{line_end})?{nl})*"

    # A scalar's first line: not an anchor, alias, flow collection, comment or block indicator.
    value = rf"(?![&*{{\[#%@`|>?]|- |-$){char}++{line_end}"

    def body(side: str) -> str:
        return (
            rf"(?P<{side}_body>{pad}    body: {value}{nl}{deeper(6)}"
            rf"|{pad}    body:{nl}{pad}      string: {value}{nl}{deeper(8)})"
        )

    def headers(side: str) -> str:
        return (
            rf"(?P<{side}_headers>{pad}    headers: \{{\}}{nl}|{pad}    headers:{nl}"
            rf"(?:{pad}      {HEADER_NAME}:{nl}(?:{pad}      - {value}{nl}{deeper(8)})+)*)"
        )

    # Each section is a named group (see SECTIONS): where it starts locates a finding.
    return re.compile(
        rf"{pad}- request:{nl}{body('request')}?{headers('request')}?"
        rf"(?P<method>{pad}    method: {value}{nl})?(?P<uri>{pad}    uri: {value}{nl}{deeper(6)})?"
        rf"(?P<response>{pad}  response:{nl}){body('response')}?{headers('response')}?"
        # When cfreplay recorded the exchange (it sorts between headers and status).
        rf"(?P<recorded_at>{pad}    recorded_at: '\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ'{nl})?"
        rf"(?P<status>{pad}    status:{nl}{pad}      code: \d+{nl}(?:{pad}      message: {value}{nl}{deeper(8)})?)?"
    )


#: The sections of :func:`_yaml_interaction` in the order vcrpy writes them: (group, location).
SECTIONS: Final = (
    ("request_body", "request.body"),
    ("request_headers", "request.headers"),
    ("method", "request.method"),
    ("uri", "request.uri"),
    ("response", "response"),
    ("response_body", "response.body"),
    ("response_headers", "response.headers"),
    ("recorded_at", "response.recorded_at"),
    ("status", "response.status"),
)


def key_line(text: str, fmt: Format, key: str) -> int:
    """The line of one of the cassette's own keys (1 when it cannot be told)."""
    pattern = rf'^ {{4}}"{re.escape(key)}":' if fmt == "json" else rf"^['\"]?{re.escape(key)}['\"]?[ \t]*:"
    found = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found is not None else 1


# --------------------------------------------------------------------------- where an offset is


class Locator:
    """Which interaction an offset is in, and where in it, from the cassette's raw text.

    Only interactions laid out as vcrpy writes them reach it (the others are the exact
    engine's).  In YAML the layout check's own match of each says where its sections
    start (*sections*): the location of an offset is its last section, and in a headers
    section the last header key above it.  Otherwise (JSON) each interaction's structure
    lines are read once, into marks: the location of an offset is that of the last mark
    before it.
    """

    def __init__(
        self,
        text: str,
        fmt: Format,
        starts: list[int],
        indent: int,
        end: int,
        sections: dict[int, re.Match[str]] | None = None,
    ):
        self.text = text
        self.starts = starts
        self.fmt = fmt
        self.end = end
        self.marks: dict[int, tuple[list[int], list[str]]] = {}
        #: YAML: the layout check's matches, which say where each section starts (see :data:`SECTIONS`).
        self.sections = sections or {}
        self.header_line = "\n" + " " * (indent + 6)
        if fmt == "json":
            self.structure = _JSON_STRUCTURE
        else:
            self.structure = _yaml_structure(indent)

    def _in_sections(self, found: re.Match[str], offset: int) -> str:
        """Where *offset* is in an interaction the layout check matched: its last section, and header."""
        location, start = "request", -1  # before the first section: on the "- request:" line
        for group, label in reversed(SECTIONS):
            begins = found.start(group)
            if 0 <= begins <= offset:
                location, start = label, begins
                break
        if not location.endswith(".headers"):
            return location
        # The header key is the last line at the headers' indent above the offset that is
        # no list item ("- value"); folded values continue deeper.
        text, line = self.text, self.header_line
        limit = offset + len(line)  # a line whose break is at or before the offset
        while (at := text.rfind(line, start, limit)) >= 0:
            first = at + len(line)
            if text[first] not in "- ":
                return f"{location}.{text[first : text.index(':', first)]}"
            limit = at + len(line) - 1
        return location

    def _marks(self, index: int) -> tuple[list[int], list[str]]:
        known = self.marks.get(index)
        if known is not None:
            return known
        start = self.starts[index]
        stop = self.starts[index + 1] if index + 1 < len(self.starts) else self.end
        positions, labels = [start], ["request"]
        side = "request"
        for match in self.structure.finditer(self.text, start, stop):
            if match.group("side") is not None:
                side = "response"
                label = side
            elif match.group("section") is not None:
                label = f"{side}.{match.group('section')}"
            else:
                name = match.group("header")
                if self.fmt == "json":
                    name = json.loads(name)
                label = f"{side}.headers.{name}"
            positions.append(match.start())
            labels.append(label)
        self.marks[index] = (positions, labels)
        return positions, labels

    def _top_key(self, offset: int) -> str:
        """The cassette's own key (``metadata``) an offset past the interactions falls in."""
        pattern = _TOP_KEY_JSON if self.fmt == "json" else _TOP_KEY_YAML
        found = None
        for match in pattern.finditer(self.text, max(0, self.end - 1), offset):
            found = match
        return found.group(1) if found is not None else "top level"

    def __call__(self, offset: int) -> tuple[int | None, str]:
        index = bisect.bisect_right(self.starts, offset) - 1
        if index < 0:
            return None, "top level"
        if offset >= self.end:
            return None, self._top_key(offset)
        found = self.sections.get(index)
        if found is not None:
            return index, self._in_sections(found, offset)
        positions, labels = self._marks(index)
        return index, labels[bisect.bisect_right(positions, offset) - 1]


#: Structure lines of a JSON interaction as vcrpy writes it: the response, a section, a header key.
_JSON_STRUCTURE: Final = re.compile(
    r'\n {12}"(?P<side>response)":|\n {16}"(?P<section>body|headers|method|uri|status|recorded_at)":'
    r'|\n {20}(?P<header>"(?:[^"\\\n]|\\.)*"): \['
)


@functools.cache
def _yaml_structure(indent: int) -> re.Pattern[str]:
    """Structure lines of a YAML interaction as vcrpy writes it: the response, a section, a header key."""
    pad = " " * indent
    return re.compile(
        rf"\n{pad}  (?P<side>response):|\n{pad}    (?P<section>body|headers|method|uri|status|recorded_at):"
        rf"|\n{pad}      (?P<header>{HEADER_NAME}):(?=\r?\n{pad}      - )"
    )


# --------------------------------------------------------------------------- values read raw

_STRING_START: Final = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?(\\*)\"")
# Whitespace inside a JSON body as the cassette writes it: real, or escaped (\n in a JSON string).
_WS: Final = r"(?:\s|\\+[nrt])*"
_REDACTED_OBJECT: Final = re.compile(
    rf"""[ \t]*(?:\r?\n[ \t]*)?(?:null|\{{{_WS}\\*"redacted_message\\*"{_WS}:{_WS}\\*"\[PRIVATE(?:\s|\\\s)+DATA"""
    rf"""(?:\s|\\\s)+HIDDEN\]\\*"{_WS}\}}|\{{{_WS}\}}"""
    # CC's docker_credentials from 2.82, every app has one: no user and no password, or the
    # password as CC redacts it.  A username is text like any other (value formats see it).
    rf"""|\{{{_WS}\\*"username\\*"{_WS}:{_WS}(?:null|\\*"[^"\\\n]{{0,64}}\\*"){_WS},{_WS}"""
    rf"""\\*"password\\*"{_WS}:{_WS}(?:null|\\*"\*\*\*\\*"){_WS}\}})"""
)


def object_follows(text: str, at: int) -> bool:
    """Whether a JSON object or array (not a string) is the value after a key's colon at *at*."""
    head = text[at : at + 64].lstrip(" \t\r\n\\")
    return head[:1] in ("{", "[") or head.startswith("null")


@functools.lru_cache(maxsize=256)
def _redacted_length(head: str) -> int | None:
    """How much of *head* a redacted value spans (0 for one that is no object); None if it is not redacted."""
    found = _REDACTED_OBJECT.match(head)
    if found is not None:
        return found.end()
    return 0 if head[:64].lstrip()[:1] not in ("{", "[") else None


def redacted_object(text: str, at: int) -> int | None:
    """Where the JSON value at *at* ends if it is null, empty, or CC's redaction message (the same few
    texts recur); *at* itself for a value that is no object; None for an object that is not redacted."""
    length = _redacted_length(text[at : at + 96])
    return None if length is None else at + length


def in_docker_credentials(text: str, opening: int) -> bool:
    """Whether the key quoted at *opening* sits inside a ``docker_credentials`` object."""
    holder = text.rfind("docker_credentials", max(0, opening - 300), opening)
    return holder >= 0 and "}" not in text[holder:opening]


#: Backslashes before a key's closing quote -> how many times its JSON was escaped.
LEVELS: Final = {0: 0, 1: 1, 3: 2}


def string_value(text: str, at: int, level: int, foldable: bool) -> tuple[int, int, str] | None:
    """The JSON string after a key's colon at *at*, escaped *level* times, decoded: (start, end, value).

    The closing quote is the one whose run of backslashes an escape of that level
    leaves (even at level 0, 1 mod 4 at level 1, 3 mod 8 at level 2).  *foldable*:
    the text is raw YAML, where a long value may be folded over lines.
    """
    run = (1 << level) - 1
    found = _STRING_START.match(text, at)
    if found is None or len(found.group(1)) != run:
        return None
    start = found.end()
    modulus = 1 << (level + 1)
    end = start
    limit = min(len(text), start + 65536)
    while True:
        end = text.find('"', end, limit)
        if end < 0:
            return None
        slashes = 0
        while text[end - slashes - 1] == "\\":
            slashes += 1
        if slashes % modulus == run:
            break
        end += 1
    raw = text[start : end - run]
    if "\n" in raw:
        if not foldable:
            return None
        raw = re.sub(r"[ \t]*\r?\n[ \t]*", " ", raw)
    value = raw
    try:
        for _ in range(level + 1):
            if "\\" not in value:
                break
            value = json.loads('"' + value + '"')
    except ValueError:
        return None
    return start, end - run, value


_JSON_ITEM: Final = re.compile(r"\s*,?\s*(" + JSON_STRING + ")")


def json_string(quoted: str) -> str | None:
    """The value of a JSON string as written (quotes included); ``None`` if it is no JSON string."""
    if "\\" not in quoted:
        return quoted[1:-1]  # no escape: its text is its value (json.loads costs 30x more)
    try:
        value = json.loads(quoted)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def json_values(text: str, at: int) -> list[tuple[int, int, str]] | None:
    """The strings of the JSON array at *at* (a header's values in a JSON cassette), where each stands."""
    items: list[tuple[int, int, str]] = []
    position = at + 1
    while (item := _JSON_ITEM.match(text, position)) is not None:
        value = json_string(item.group(1))
        if value is None:
            return None
        items.append((item.start(1), item.end(1), value))
        position = item.end()
    if not text[position : position + 64].lstrip().startswith("]"):
        return None
    return items


def yaml_items(text: str, at: int, indent: int) -> list[tuple[int, int, str]] | None:
    """The list items under a YAML key that ends at *at* (vcrpy writes ``- value`` at the key's indent).

    Plain one-line items are read here; quoted or folded ones go to the YAML parser, so
    a value folded over lines is read whole.  ``None`` when the layout is not vcrpy's.
    """
    items: list[tuple[int, int, str]] = []
    pad = " " * indent
    position = at
    length = len(text)
    while True:
        newline = text.find("\n", position, position + 2)
        if newline < 0:
            break
        line_start = newline + 1
        if not text.startswith(pad + "- ", line_start) and not text.startswith(pad + "-\n", line_start):
            break
        value_start = line_start + indent + 2
        end = text.find("\n", value_start)
        end = length if end < 0 else end
        # Continuation lines are indented deeper than the item marker.
        stop = end
        while stop < length and text.startswith(pad + "  ", stop + 1) and not text.startswith(pad + "- ", stop + 1):
            following = text.find("\n", stop + 1)
            stop = length if following < 0 else following
        raw = text[value_start:stop].rstrip("\r")
        first = raw[:1]
        plain = first not in ("'", '"', "&", "*", "!", "|", ">", "{", "[") and " #" not in raw and "\t#" not in raw
        if stop == end and plain and raw.strip():
            items.append((value_start, stop, raw.strip()))
        else:
            try:
                value = yaml.load("- " + "\n  ".join(part.strip() for part in raw.split("\n")), Loader=SafeLoader)
            except yaml.YAMLError:
                return None
            if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
                return None
            items.append((value_start, stop, value[0]))
        position = stop
    return items


#: One level of JSON escaping of the characters a credential's quoting holds.
_JSON_ESCAPE: Final = re.compile(r'\\(["\\/])')
#: A line break YAML folded a plain or quoted scalar at (with the next line's indentation).
#: PyYAML writes the spaces that follow a fold escaped ("\ "): they stand for themselves.
_YAML_FOLD: Final = re.compile(r"[ \t]*\r?\n[ \t]*((?:\\ )*)")


def _unfold(text: str) -> str:
    """YAML's folded lines joined as a parser joins them (a space for each break, escaped spaces kept)."""
    return _YAML_FOLD.sub(lambda m: " " * (1 + len(m.group(1)) // 2), text)


def readings(window: str, at: int, *, fold: bool, levels: int) -> Iterable[tuple[str, int]]:
    """*window* as the sanitizer may see its strings, with where the anchor at *at* is in each.

    The raw text holds a value escaped once more per JSON level than the string does
    (``aws_secret_access_key=\\\"…\\\"`` in an env value of a JSON cassette's body), and
    YAML folds a long scalar at a space (a line break and indentation stand for it).
    Up to *levels* escapes are undone.
    """
    found = [(window, at)]
    current, current_at = window, at
    for _ in range(levels):
        if "\\" not in current:
            break
        unescaped = _JSON_ESCAPE.sub(r"\1", current)
        if unescaped == current:
            break
        current_at = len(_JSON_ESCAPE.sub(r"\1", current[:current_at]))
        current = unescaped
        found.append((current, current_at))
    if fold:
        for reading, reading_at in list(found):
            if "\n" in reading:
                found.append((_unfold(reading), len(_unfold(reading[:reading_at]))))
    return found
