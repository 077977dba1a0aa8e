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
    "Undecodable",
    "dry_walker",
    "load_whole",
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


class Undecodable(CassetteError):
    """A file that does not load as a cassette for what it *is*, not for what it holds.

    Not valid YAML or JSON (cut short, or never whole), a ``!!binary`` body that is no
    base64, a tag no cassette holds (``!!bi``, where a cut fell in ``!!binary``), or a
    document of another shape: the exact engine cannot read it, so its bodies stay
    encoded.  The loader's refusals of hostile text (a ``!!python`` tag, an alias bomb,
    nesting too deep) stay plain :class:`CassetteError`.
    """


def load_whole(text: str, path: str, fmt: Format) -> cassette.Cassette:
    """The whole file loaded as a cassette: :class:`Undecodable` if it is none, ``CassetteError`` if refused."""
    try:
        return cassette.loads(text, path=path, format=fmt)
    except CassetteError as error:
        if _hostile(text, fmt):
            raise
        raise Undecodable(error.path, error.reason, interaction=error.interaction) from None


def _hostile(text: str, fmt: Format) -> bool:
    """Whether the loader refused *text* for what it holds rather than for not being a cassette.

    Asked only after the loader failed, so the second parse costs nothing on the way
    every good cassette takes.  Syntax errors, truncation and tags no cassette holds are
    not hostile; a ``!!python`` tag (however spelled: the composer resolves it), an alias
    (the stuff of bombs; vcrpy never writes one) or nesting deeper than any cassette's
    structure is.
    """
    try:
        if fmt == "json":
            json.loads(text)
            return False  # valid JSON: the loader found another shape than a cassette's
        root = yaml.compose(text, Loader=SafeLoader)
    except RecursionError:
        return True
    except (ValueError, yaml.YAMLError):
        return False
    # Iterative, so a deep document cannot exhaust the stack here; the composer hands
    # an alias back as the node it names, so a node met twice is an alias.
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH or "python/" in node.tag:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((part, depth + 1) for pair in node.value for part in pair)
    return False


def sanitize_whole(text: str, path: str, fmt: Format, table: RuleTable) -> _Exact:
    """The whole file, loaded as a cassette and sanitized dry (see :func:`load_whole` for what it raises)."""
    loaded = load_whole(text, path, fmt)
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
            document = cassette.yaml_data(chunk)
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
