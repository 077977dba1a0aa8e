"""The sanitizer: every secret the rule table knows out of a cassette, nothing else changed.

It walks the request and the response of every interaction, and the cassette's
``metadata`` and any other keys: headers (names case-insensitive, every value),
URLs, form bodies, JSON bodies at any depth (duplicate keys included), plain
text, bodies in any ``Content-Encoding`` (gzip, deflate, br, zstd) and binary
bodies.  What counts as a secret, and what replaces it, is
:mod:`cfreplay.hygiene.rules`; how replacements are made is :mod:`cfreplay.hygiene.redaction`.

Anything already redacted (CC's markers, cfreplay's placeholders, JWTs signed
with a published key) is left alone, so sanitizing twice changes nothing.  JSON
bodies keep their key order, types and, where it can be recognised, their
layout; numbers and booleans are never secrets.  Only the framing that follows
a changed body changes with it (``Content-Length``; a ``Content-Encoding`` that
was not true of the recorded body is dropped, so every client replays it).
"""

from __future__ import annotations

import copy
import functools
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cfreplay.cassette import Cassette
from cfreplay.errors import BodyTooLarge, CassetteError
from cfreplay.hygiene import redaction
from cfreplay.hygiene._aliases import follow_aliases, shared_strings
from cfreplay.hygiene._walker import MAX_DEPTH, Note, TooDeep, Walker
from cfreplay.hygiene.rules import RuleTable, SanitizeConfig

__all__ = ["MAX_DEPTH", "Change", "Report", "SanitizeConfig", "Sanitizer"]


@dataclass(frozen=True)
class Change:
    """One replacement: which interaction, where, by which rule.  Never the value.

    ``interaction`` is ``None`` for the cassette's own keys (``metadata``).
    ``masked`` shows at most two characters of what was replaced, and never its length.
    """

    interaction: int | None
    location: str
    rule: str
    masked: str = field(default="…", compare=False)


@dataclass
class Report:
    """What a sanitize pass changed, per rule and per interaction."""

    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def counts(self) -> Counter[str]:
        return Counter(change.rule for change in self.changes)

    def by_interaction(self) -> dict[int | None, Counter[str]]:
        result: dict[int | None, Counter[str]] = {}
        for change in self.changes:
            result.setdefault(change.interaction, Counter())[change.rule] += 1
        return result

    def summary(self) -> str:
        if not self.changes:
            return "nothing to sanitize"
        rules_counted = ", ".join(f"{rule} ×{count}" for rule, count in sorted(self.counts().items()))
        interactions = len(self.by_interaction())
        plural = "s" if interactions != 1 else ""
        return f"{len(self.changes)} replacements in {interactions} interaction{plural}: {rules_counted}"

    def extend(self, other: Report) -> None:
        self.changes.extend(other.changes)


def _ignore(_location: str, _rule: str, _secret: str) -> None:
    return None


def _noter(report: Report, index: int | None) -> Note:
    """A Note that adds each replacement in interaction *index* to *report*, masked."""

    def note(location: str, rule: str, secret: str) -> None:
        report.changes.append(Change(index, location, rule, redaction.mask(rule, secret)))

    return note


class Sanitizer:
    """Sanitizes cassettes; one instance keeps replacements consistent across all it touches.

    ``config`` adds a project's names and patterns (``[tool.cfreplay.sanitize]``);
    ``key`` fixes the placeholder key (default: random per process).  The walk itself
    lives in the walker (:mod:`cfreplay.hygiene._walker`); these methods are its entry points.
    """

    def __init__(
        self, config: SanitizeConfig | None = None, *, key: bytes | None = None, table: RuleTable | None = None
    ) -> None:
        self.table = table if table is not None else RuleTable(config)
        self.config = self.table.config
        self._walker = Walker(self.table, redaction.Redactor(key))

    @property
    def redactor(self) -> redaction.Redactor:
        """What makes the replacements (placeholders, fake JWTs); the walk writes what it makes."""
        return self._walker.redact

    @redactor.setter
    def redactor(self, redactor: redaction.Redactor) -> None:
        self._walker.redact = redactor

    # ----------------------------------------------------------------- entry points

    def sanitize_data(
        self, data: dict[str, Any], *, path: str | os.PathLike[str] = "<cassette>", aliased: bool = True
    ) -> Report:
        """Sanitize cassette data (vcrpy's dict) in place; the report says what changed.

        ``aliased=False`` says no string object stands in two places (loaded from text
        without YAML aliases): the walk then need not look for them.
        """
        report = Report()
        shared = shared_strings(data) if aliased else {}
        for index, interaction in enumerate(data.get("interactions") or []):
            try:
                self.sanitize_interaction(interaction, index, report)
            except TooDeep:
                raise CassetteError(
                    path, f"holds JSON nested deeper than {MAX_DEPTH} levels", interaction=index
                ) from None
            except BodyTooLarge as error:
                raise CassetteError(path, str(error), interaction=index) from None
            except (KeyError, TypeError, AttributeError) as error:
                raise CassetteError(path, f"cannot be sanitized ({type(error).__name__})", interaction=index) from None
        for key in list(data):
            if key in ("interactions", "version"):
                continue
            try:
                data[key] = self._walker.json(data[key], _noter(report, None), str(key), 0)
            except TooDeep:
                raise CassetteError(path, f"holds JSON nested deeper than {MAX_DEPTH} levels in {key!r}") from None
        if shared:
            follow_aliases(data, shared, report.changes, functools.partial(_noter, report))
        return report

    def sanitize_interaction(self, interaction: dict[str, Any], index: int | None, report: Report) -> None:
        """Sanitize one vcrpy interaction in place, recording each change in *report*."""
        self._walker.interaction(interaction, _noter(report, index))

    def sanitize_cassette(self, cassette: Cassette) -> Report:
        return self.sanitize_data(cassette.data, path=cassette.path, aliased=cassette.aliased)

    def sanitize_file(self, path: str | os.PathLike[str], *, check: bool = False) -> Report:
        """Load, sanitize, scan and (unless *check*) atomically rewrite one cassette file.

        The file is only rewritten when a secret was replaced; see
        :func:`cfreplay.hygiene.writing.sanitize_file` for the guarantees.
        """
        from cfreplay.hygiene import writing

        report: Report = writing.sanitize_file(path, self, check=check)
        return report

    def sanitize_dict(self, document: dict[str, Any]) -> tuple[dict[str, Any], Report]:
        """A sanitized deep copy of cassette data, and what changed."""
        copied = copy.deepcopy(document)
        return copied, self.sanitize_data(copied)

    def sanitize_text(self, text: str, note: Callable[[str, str], None] | None = None, location: str = "text") -> str:
        """Every secret the value rules can see in free text (logs, error messages, listings)."""
        report = _ignore if note is None else (lambda where, rule, _secret: note(where, rule))
        return self._walker.text(text, report, location)

    def may_hold_secrets(self, header_names: Iterable[str], texts: Iterable[str]) -> bool:
        """A cheap, conservative pre-check: ``False`` only when no rule could change anything."""
        return self._walker.may_change(header_names, texts)

    # ----------------------------------------------------------------- replacements (for callers and tests)

    def placeholder(self, secret: str) -> str:
        """The placeholder for a token-like secret: the same for the same secret, all run long."""
        return self.redactor.placeholder(secret)

    def fake_jwt(self, token: str) -> str:
        """A structurally valid fake of *token*, signed with cfreplay's published test key."""
        return self.redactor.fake_jwt(token)
