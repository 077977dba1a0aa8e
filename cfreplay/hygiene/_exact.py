"""The exact engine: the sanitizer itself, run dry over what the parser reads.

Where raw text cannot settle a question (see :mod:`cfreplay.hygiene.scanner`), the
interaction, the cassette's own keys or the whole file are parsed and walked by the
sanitizer's own code with a redactor that writes nothing worth keeping: what the
sanitizer would change is what the scan finds.  This room parses and walks; the
scanner turns the changes into findings.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import yaml

from cfreplay import cassette
from cfreplay.cf import tokens
from cfreplay.errors import BodyTooLarge, CassetteError
from cfreplay.hygiene import redaction
from cfreplay.hygiene._layout import COLUMN_ZERO, COLUMN_ZERO_KEY, Format, SafeLoader
from cfreplay.hygiene._walker import MAX_DEPTH, TooDeep, Walker
from cfreplay.hygiene.rules import RuleTable
from cfreplay.hygiene.sanitizer import Change, Report, Sanitizer

__all__ = [
    "DryRedactor",
    "dry_walker",
    "outside_changes",
    "parse_interaction",
    "sanitize_interactions",
    "sanitize_whole",
]

#: What the exact engine found: the sanitizer's changes, and the interactions as parsed (by index).
_Exact = tuple[list[Change], dict[int, dict[str, Any]]]


@functools.cache
def _stand_in() -> str:
    """A JWT signed with the published test key: what every fake looks like to the rest of the walk."""
    return tokens.sign({"jti": "cfreplay-scan"})


class DryRedactor(redaction.Redactor):
    """Replacements that only need to differ from what they replace: the scanner never writes."""

    def __init__(self) -> None:
        super().__init__(key=b"cfreplay-scan")
        self.public: dict[str, bool] = {}

    def fake_jwt(self, token: str) -> str:
        public = self.public.get(token)
        if public is None:
            public = self.public[token] = redaction.is_public_jwt(token)
        return token if public else _stand_in()


def dry_walker(table: RuleTable) -> Walker:
    """The sanitizer's own walker, replacing nothing: what it would note is what the scan finds."""
    return Walker(table, DryRedactor())


def _dry_sanitizer(table: RuleTable) -> Sanitizer:
    sanitizer = Sanitizer(table=table, key=b"cfreplay-scan")
    sanitizer.redactor = DryRedactor()
    return sanitizer


def sanitize_whole(text: str, path: str, fmt: Format, table: RuleTable) -> _Exact:
    """The whole file, loaded as a cassette and sanitized dry (``CassetteError`` if it cannot be loaded)."""
    loaded = cassette.loads(text, path=path, format=fmt)
    originals = dict(enumerate(loaded.interactions))
    report = _dry_sanitizer(table).sanitize_data(copy.deepcopy(loaded.data), path=path)
    return report.changes, originals


def sanitize_interactions(
    text: str, path: str, fmt: Format, starts: list[int], indent: int, indices: list[int], table: RuleTable
) -> _Exact | None:
    """The interactions at *indices*, each parsed alone and sanitized dry.

    ``None`` when one cannot be parsed alone: then only the whole file can be read exactly.
    """
    sanitizer = _dry_sanitizer(table)
    changes: list[Change] = []
    parsed: dict[int, dict[str, Any]] = {}
    for index in indices:
        interaction = parse_interaction(text, fmt, starts, indent, index)
        if interaction is None:
            return None
        parsed[index] = copy.deepcopy(interaction)
        report = Report()
        try:
            sanitizer.sanitize_interaction(interaction, index, report)
        except BodyTooLarge as error:
            raise CassetteError(path, f"cannot be proven clean: {error}", interaction=index) from None
        except TooDeep:
            raise CassetteError(path, f"holds JSON nested deeper than {MAX_DEPTH} levels", interaction=index) from None
        changes.extend(report.changes)
    return changes, parsed


def parse_interaction(text: str, fmt: Format, starts: list[int], indent: int, index: int) -> dict[str, Any] | None:
    """Interaction *index* parsed on its own; ``None`` when it does not parse into a vcrpy interaction."""
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    try:
        if fmt == "json":
            opening = text.rfind("{", 0, start)
            value, _ = json.JSONDecoder().raw_decode(text, opening)
        else:
            # The last interaction ends where the cassette's own keys (version:, metadata:) begin.
            top = (COLUMN_ZERO if indent else COLUMN_ZERO_KEY).search(text, start + 1, end)
            chunk = text[start : top.start() if top is not None else end]
            if indent:
                chunk = "\n".join(line[indent:] for line in chunk.split("\n"))
            document = yaml.load(chunk, Loader=SafeLoader)
            value = document[0] if isinstance(document, list) and document else None
    except (ValueError, yaml.YAMLError, RecursionError, TypeError):
        return None
    if not isinstance(value, dict) or cassette._interaction_problem(value):
        return None
    return value


def outside_changes(text: str, path: str, fmt: Format, outside: tuple[int, int], walker: Walker) -> list[Change] | None:
    """The cassette's own keys (``metadata``, a tool's extras), parsed apart from the interactions and walked dry.

    ``None`` when they cannot be read apart from the interactions.
    """
    start, end = outside
    try:
        document = json.loads(text) if fmt == "json" else yaml.load(text[:start] + text[end:], Loader=SafeLoader)
    except (ValueError, yaml.YAMLError, RecursionError):
        document = None
    if not isinstance(document, dict):
        return None
    noted: list[tuple[str, str, str]] = []
    for key, value in document.items():
        if key in ("interactions", "version"):
            continue
        try:
            walker.json(value, lambda *seen, into=noted: into.append(seen), str(key), 0)
        except (RecursionError, TooDeep):
            raise CassetteError(path, f"holds JSON nested deeper than {MAX_DEPTH} levels in {key!r}") from None
    return [Change(None, where, rule, redaction.mask(rule, secret)) for where, rule, secret in noted]
