"""Prove that no secret is left: find exactly what the sanitizer would change.

The scanner and the sanitizer read one rule table (:mod:`cfreplay.hygiene.rules`) and
call the same functions on every value they look at, so a finding is always
something ``cfreplay sanitize`` replaces, by the rule id the sanitizer reports,
and a file ``sanitize --check`` calls clean scans clean.

Two engines, one answer
    The *signal pass* reads a cassette's raw text at the speed of compiled
    regular expressions (a parser runs at a few MB/s, and CI scans every
    cassette on every run).  One pattern holds an alternative per signal —
    each opening with a literal that is rare in cassettes, derived from the
    table: ``eyJ`` (a JWT), a header name the table knows, the ending of a
    secret key or parameter name, ``@`` after ``://``, the anchors of every
    credential format, escapes (``\\u0065``, ``%65``, base64 holding ``eyJ``),
    ``!!binary`` bodies, and YAML constructs it does not read itself.  Each
    signal is settled by the table's own functions on the value it found.

    Where the raw text cannot settle a question — an environment variable named
    like a secret only in an env map, a credentials object, YAML anchors or
    tags, a double-quoted scalar folded with ``\\`` — the interaction (or the
    file) goes to the *exact engine*: it is parsed and run through the
    sanitizer itself, and what the sanitizer would change is the finding.
    Tests hold the signal pass to the exact engine on generated cassettes.

Where a finding is
    Interactions begin at the ``- request:`` lines (YAML) or the structural
    ``"request":`` keys (JSON); the location (``request.headers.Authorization``,
    ``response.body``…) comes from the nearest structural keys above.  Findings
    in decoded text name the decoding (``response.body (gzip)``) and point at
    the line where the encoded text starts.

Plain files
    Test sources, JSON fixtures and docs are not cassettes: only rules that need
    no context run there (JWTs, bearer and basic credentials, URL passwords,
    credential formats, project patterns).

A finding never holds the secret: ``masked`` shows at most two characters
(``eyJ…`` for a JWT), and never the secret's length.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import functools
import json
import os
import re
import stat
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import yaml

from cfreplay import cassette
from cfreplay.cf import tokens
from cfreplay.errors import BodyTooLarge, CassetteError
from cfreplay.hygiene import bodies, detectors, redaction, rules
from cfreplay.hygiene.rules import RuleTable

if TYPE_CHECKING:
    from cfreplay.hygiene.sanitizer import Change
    from cfreplay.hygiene.sanitizer import _Walker as _WalkerType
else:
    _WalkerType = Any

try:  # libyaml is several times faster; the pure-Python class behaves the same.
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = ["Finding", "ScanResult", "iter_files", "rule_ids", "scan_file", "scan_paths", "scan_text"]

#: Directories never worth scanning: VCS data, virtualenvs, caches and build output.
SKIP_DIRS: Final = frozenset({
    ".git", ".venv", "venv", "__pycache__", "node_modules", ".hypothesis", ".mypy_cache", ".ruff_cache", "dist",
    "build",
})  # fmt: skip
#: Suffixes of files that may be cassettes; such a file that is binary is an error, not skipped.
CASSETTE_SUFFIXES: Final = (".yaml", ".yml", ".json")
#: Rules that need no context: the only ones that run over plain files.
PLAIN_RULES: Final = frozenset({"jwt", "jwe", "authorization", "pattern"})

#: Decoded views nest (a gzip body holding a JSON-escaped line…); this bounds the work.
_MAX_DEPTH: Final = 3
#: Base64 runs are decoded up to this length.
_MAX_BLOB: Final = 1024 * 1024


def rule_ids(table: RuleTable | None = None) -> tuple[str, ...]:
    """Every rule id a finding can name, in the table's order."""
    return tuple(rule.id for rule in (table or rules.default_table()).rules)


@dataclass(frozen=True)
class Finding:
    """One secret left in a file, described without revealing it."""

    path: str
    #: Zero-based interaction index in a cassette; ``None`` for plain files and the cassette's own keys.
    interaction: int | None
    #: Where in the interaction (``request.headers.Authorization``, ``response.body (gzip)``),
    #: ``metadata`` for the cassette's own keys, or ``line N`` in a plain file.
    location: str
    #: A rule id of :mod:`cfreplay.hygiene.rules`.
    rule: str
    #: ``eyJ…`` for a JWT; otherwise at most the first two characters and an ellipsis.
    masked: str
    #: 1-based line in the file.
    line: int

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "interaction": self.interaction,
            "location": self.location,
            "rule": self.rule,
            "masked": self.masked,
        }


@dataclass
class ScanResult:
    """What :func:`scan_paths` found: findings, unreadable or dangerous files, and how much it read."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[CassetteError] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    #: Files the exact engine read (the signal pass could not settle them alone).
    exact: int = 0


# --------------------------------------------------------------------------- patterns

# Whitespace as YAML may write it between two words of a scalar: spaces, a line break
# folded by the emitter (libyaml writes a bare newline, PyYAML ends the line with a
# backslash), or an escaped space.
_GAP: Final = detectors.GAP
_B64_RUN: Final = r"(?>(?:[A-Za-z0-9_+=/-]+|\\/)+)"
#: A scheme must be followed by a gap and a credential's first characters (the rest is
#: :func:`detectors.auth_credential`'s to decide).
_BEARER_FILTER: Final = rf"(?={_GAP}(?:[A-Za-z0-9._~+/=-]|\\/))"
_BASIC_FILTER: Final = rf"(?={_GAP}[A-Za-z0-9+/]{{4}})"
# URL escapes worth decoding: letters, digits and unreserved characters (nobody escapes
# those except to hide them) and the delimiters of an embedded query or userinfo.
_PERCENT_AHEAD: Final = "(?=" + detectors.PERCENT_ESCAPE.pattern[1:] + ")"


_SIGNATURE_ANCHORS: Final = "JKUBVW"


def _anchored(signature: str) -> tuple[str, str]:
    """*signature* as (opening literal, rest), opening on a character other rules open on."""

    def preference(i: int) -> tuple[int, int]:
        rank = _SIGNATURE_ANCHORS.find(signature[i])
        return (rank if rank >= 0 else len(_SIGNATURE_ANCHORS), i)

    at = min(range(len(signature)), key=preference)
    behind = f"(?<={re.escape(signature[: at + 1])})" if at else ""
    return signature[at], behind + re.escape(signature[at + 1 :])


_MAX_ENDING: Final = 10


def _endings(names: Iterable[str], suffix: str = "") -> str:
    """Lookbehinds for names' endings (up to ten characters), one fixed width each, case-insensitive.

    Used inside a lookbehind-free position: ``(?:(?<=…)|(?<=…))``.  Whole words, so that
    ``session`` does not stop at every ``version``.
    """
    by_length: dict[int, set[str]] = {}
    for name in names:
        if name:
            ending = name.lower()[-_MAX_ENDING:]
            by_length.setdefault(len(ending), set()).add(re.escape(ending))
    if not by_length:
        return "(?!)"
    after = re.escape(suffix)
    return "(?:" + "|".join(f"(?<=(?i:{'|'.join(sorted(e))}){after})" for _, e in sorted(by_length.items())) + ")"


#: Characters by how rarely they occur in cassettes, rarest first (measured on vcrpy YAML of CC
#: and UAA traffic).  The signal pass stops wherever an alternative's opening character
#: occurs, so each alternative opens on the rarest character of its literal.
_RARITY: Final = "|!*?%&;$[]+'=KqPBH{}USQxRzMOADEFVXwCLGJWYTZyNvjkhg/.8693f_m5,4Irup1o0b2:l-stcdiaen\"\\ "


def _rank(char: str) -> int:
    found = _RARITY.find(char)
    return found if found >= 0 else len(_RARITY) // 2


def _literal(literal: str, *, ignore_case: bool = False) -> tuple[int, list[tuple[str, str]]]:
    """*literal* as alternatives (opening character, rest), opening on its rarest character.

    What precedes the opening character is checked by a lookbehind once it is found.
    Case-insensitive literals get an alternative per case of the opening character.
    """

    def cost(i: int) -> tuple[int, int]:
        # A case-insensitive literal stops at both cases: the commoner one decides.
        rank = max(_rank(literal[i]), _rank(literal[i].swapcase())) if ignore_case else _rank(literal[i])
        return rank, i

    at = min(range(len(literal)), key=cost)
    before, char, after = literal[:at], literal[at], literal[at + 1 :]
    wrap = (lambda part: f"(?i:{re.escape(part)})") if ignore_case else re.escape
    openings = sorted({char, char.swapcase()}) if ignore_case else [char]
    alternatives = []
    for opening in openings:
        behind = f"(?<={wrap(before)}{re.escape(opening)})" if before else ""
        alternatives.append((opening, behind + (wrap(after) if after else "")))
    return at, alternatives


class _Patterns:
    """The signal pass's patterns for one rule table (built once per table)."""

    def __init__(self, table: RuleTable) -> None:
        self.table = table
        key_names = table.key_triggers
        param_names = table.param_triggers
        alternatives: dict[str, tuple[str, str]] = {
            # The whole token: the handler then needs no second match.
            # A whole run of token characters, dots included, consumed once: the handler reads
            # the tokens in it (a run that is no token is not read again, whatever its length).
            "jwt": ("J", rf"(?<=eyJ){_B64_RUN}?(?:\.{_B64_RUN}?){{0,4}}"),
            "bearer": ("B", rf"earer{_BEARER_FILTER}"),
            "bearer_upper": ("B", rf"EARER{_BEARER_FILTER}"),
            "basic": ("B", rf"asic{_BASIC_FILTER}"),
            "basic_upper": ("B", rf"ASIC{_BASIC_FILTER}"),
            "bearer_lower": ("b", rf"earer{_BEARER_FILTER}"),
            "basic_lower": ("b", rf"asic{_BASIC_FILTER}"),
            # JSON escapes of printable ASCII (\u0065yJ…); YAML's \x65 and \U00000065 likewise.
            "escape": ("u", r"00[2-7][0-9A-Fa-f](?<=\\u00[2-7][0-9A-Fa-f])"),
            "escape_x": ("x", r"[2-7][0-9A-Fa-f](?<=\\x[2-7][0-9A-Fa-f])"),
            "escape_long": ("U", r"000000[2-7][0-9A-Fa-f](?<=\\U000000[2-7][0-9A-Fa-f])"),
            # Tokens in URL paths (UAA's revocation and code endpoints).
            "path_revoke": ("v", r"oke/(?<=/oauth/token/revoke/)"),
            "path_codes": ("C", r"odes/(?<=/Codes/)"),
            "param": ("=", f"(?:{_endings(param_names, '=')}|{_endings(param_names, ']=')})"),
            "userinfo": ("@", r"""(?<=[^\s/?#"'<>]@)"""),
            "percent": ("%", _PERCENT_AHEAD),
            "tag_directive": ("%", r"(?:TAG|YAML)"),
            "binary": ("!", r"!binary(?=[ \t]*[|>\n]|[ \t]+[\"']?[A-Za-z0-9+/=])"),
            "tag": ("!", r"(?<=[\s\[{,]!)(?=[!<\w%])"),
            # YAML structure the signal pass does not read: after an unquoted key ("headers: {…")
            # or an item marker.  JSON inside a body scalar has quoted keys ("ports": [8080]).
            "hazard_map": ("{", r"(?<=\w: \{|\n- \{)(?=[ \t]*[^}\s])"),
            "hazard_list": ("[", r"(?<=\w: \[|\n- \[)(?=[ \t]*[^\]\s])"),
            "hazard_anchor": ("&", r"(?:(?<=\w: &)|(?<=- &))(?=\S)"),
            "hazard_alias": ("*", r"(?:(?<=\w: \*)|(?<=- \*))(?=\w)"),
            "interaction": ("q", r"uest:(?<=\n- request:)"),
            "interaction_indented": ("q", r"uest:(?<=\n  - request:)"),
            "interaction_json": ("q", r'uest":(?<=\n            "request":)'),
        }
        for index, signature in enumerate(detectors.SIGNATURES):
            alternatives[f"base64_{index}"] = _anchored(signature)
        #: alternative name -> (formats whose anchor it finds, where its opening sits in the anchor)
        self.formats: dict[str, tuple[list[Any], int]] = {}
        anchors: dict[tuple[str, bool], list[Any]] = {}
        for fmt in table.formats:
            ignore_case = bool(fmt.pattern.flags & re.IGNORECASE)
            for anchor in fmt.anchors:
                anchors.setdefault((anchor, ignore_case), []).append(fmt)
        for index, ((anchor, ignore_case), formats) in enumerate(sorted(anchors.items())):
            at, openings = _literal(anchor, ignore_case=ignore_case)
            for variant, (opening, rest) in enumerate(openings):
                name = f"format_{index}_{variant}"
                alternatives[name] = (opening, rest)
                self.formats[name] = (formats, at)
        self.alternatives = alternatives
        plain = {"jwt", "bearer", "bearer_upper", "bearer_lower", "basic", "basic_upper", "basic_lower"}
        plain |= {"userinfo", "percent", "escape", "escape_x", "escape_long"}
        shapes = {"jwt", "bearer", "bearer_upper", "bearer_lower", "basic", "basic_upper", "basic_lower"}
        shapes |= {"userinfo", "param", "path_revoke", "path_codes"}
        self.allowed = {
            "cassette": frozenset(alternatives),
            "plain": frozenset(n for n in alternatives if n in plain or n.startswith(("base64_", "format_"))),
            # A binary body read as Latin-1: the shape rules only, as the sanitizer applies them.
            "binary": frozenset(n for n in alternatives if n in shapes or n.startswith("format_")),
        }
        self.masters = {
            mode: self._master({n: a for n, a in alternatives.items() if n in names})
            for mode, names in self.allowed.items()
        }

        # Ends of JSON keys that can name a secret (written once, twice or three times escaped);
        # Python then checks the whole key.  The pattern opens on the literal '":'.
        def chars(index: int) -> str:
            found = {c for name in key_names if len(name) >= -index for c in (name[index].lower(), name[index].upper())}
            return "[" + re.escape("".join(sorted(found))) + "]"

        two = chars(-2) + chars(-1)  # a cheap filter on the key's last two characters
        levels = ('":', '\\":', '\\\\\\":')
        self.key_end = re.compile(
            '":(?:' + "|".join(f"(?<={two}{re.escape(q)}){_endings(key_names, q)}" for q in levels) + ")"
        )
        # Header keys where vcrpy writes them: a key, then its values as list items at the
        # same indent.  Every header name is found (a literal prefix keeps this at memory
        # speed); the table, memoised per name, says which ones a rule owns.
        self.yaml_headers = {
            indent: re.compile("\n" + " " * (indent + 6) + f"({_HEADER_NAME}):(?=\\r?\\n" + " " * (indent + 6) + "- )")
            for indent in (0, 2)
        }
        self.json_headers = re.compile("\n" + " " * 20 + f"({_JSON_STRING})" + r": \[")

        # Alternatives sharing an opening: when one matches, the credential formats after it
        # are tried at the same place too (a format anchored on '=' must not hide behind the
        # parameter signal).  Other signals keep first-wins: "!!binary" is no other tag.
        self.after: dict[str, re.Pattern[str] | None] = {}
        by_first: dict[str, list[str]] = {}
        for name, (first, _) in alternatives.items():
            by_first.setdefault(first, []).append(name)
        for first, names in by_first.items():
            for at, name in enumerate(names):
                later = [n for n in names[at + 1 :] if n.startswith("format_")]
                rests = "|".join(f"{alternatives[n][1]}(?P<{n}>)" for n in later)
                self.after[name] = re.compile(f"{re.escape(first)}(?:{rests})") if later else None

    @staticmethod
    def _master(alternatives: dict[str, tuple[str, str]]) -> re.Pattern[str]:
        """One pattern, alternatives grouped by their opening literal (one test per distinct opening)."""
        by_first: dict[str, list[str]] = {}
        for name, (first, rest) in alternatives.items():
            by_first.setdefault(first, []).append(f"{rest}(?P<{name}>)")
        frequent = "bukJUVKBWq"
        order = sorted(by_first, key=lambda c: (c not in frequent, frequent.find(c), c))
        return re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(by_first[first])})" for first in order))


@functools.lru_cache(maxsize=16)
def _patterns(table: RuleTable) -> _Patterns:
    return _Patterns(table)


# --------------------------------------------------------------------------- the published keys, fast


def _is_public_jwt(token: str) -> bool:
    return redaction.is_public_jwt(token)


@functools.cache
def _stand_in() -> str:
    """A JWT signed with the published test key: what every fake looks like to the rest of the walk."""
    return tokens.sign({"jti": "cfreplay-scan"})


class _DryRedactor(redaction.Redactor):
    """Replacements that only need to differ from what they replace: the scanner never writes."""

    def __init__(self) -> None:
        super().__init__(key=b"cfreplay-scan")
        self.public: dict[str, bool] = {}

    def fake_jwt(self, token: str) -> str:
        public = self.public.get(token)
        if public is None:
            public = self.public[token] = _is_public_jwt(token)
        return token if public else _stand_in()


# --------------------------------------------------------------------------- the engine

#: A sighting: (file offset for the line, rule, secret, location suffix, view id, start and end in the
#: view, whether a name handler settled it (it then owns its value's span)).
_Hit = tuple[int, str, str, str, int, int, int, bool]
Format = Literal["yaml", "json"]


class _View(NamedTuple):
    """A text being scanned: the file itself, or something decoded from it."""

    text: str
    anchor: int | None  # None for the file itself; else the file offset all hits point at
    suffix: str
    depth: int
    #: Which rules run: "cassette" (all), "binary" (shapes, no decodings: a body read as
    #: Latin-1), "plain" (what needs no context: files that are no cassette).
    mode: str
    ident: int
    #: A body decoded from the file: a ``name=`` at its start is a form field.
    body: bool = False

    @property
    def cassette(self) -> bool:
        return self.mode == "cassette"


class _Uncertain(Exception):
    """The signal pass cannot settle this file alone: the exact engine reads it."""


class _Scan:
    """One file's scan: collects hits from the file and its decoded views, then makes findings."""

    def __init__(self, text: str, path: str, fmt: Format, *, cassette: bool, table: RuleTable) -> None:
        self.text = text
        self.path = path
        self.fmt: Format = fmt
        self.cassette = cassette
        self.table = table
        self.patterns = _patterns(table)
        self.hits: list[_Hit] = []
        self.covered: dict[int, list[tuple[int, int]]] = {}
        self.dangerous = False
        self.uncertain: set[int | None] = set()  # interactions to read exactly (None: the whole file)
        self.base64_decoded: dict[str, str | None] = {}
        #: Per view, where the last base64 run read ends.
        self.run_ends: dict[int, int] = {}
        self.public_jwts: dict[str, bool] = {}
        self.starts: list[int] = []
        self.indent = 0
        self.decoded_lines: set[tuple[int, str]] = set()
        self.views = 0
        self._walker: _WalkerType | None = None
        #: The span of the interactions when the cassette's own keys must be parsed to be read.
        self.outside: tuple[int, int] | None = None
        #: Where the interactions end (the cassette's own keys follow).
        self.end = len(text)
        self.handlers: dict[str, Callable[[_View, re.Match[str]], int]] = {
            "jwt": self._jwt,
            "bearer": self._bearer,
            "bearer_upper": self._bearer,
            "bearer_lower": self._bearer,
            "basic_lower": self._basic,
            "escape_x": self._escape,
            "escape_long": self._escape,
            "path_revoke": self._path_token,
            "path_codes": self._path_token,
            "basic": self._basic,
            "basic_upper": self._basic,
            "param": self._param,
            "userinfo": self._userinfo,
            "percent": self._percent,
            "tag_directive": self._tag,
            "binary": self._binary,
            "tag": self._tag,
            "escape": self._escape,
            "hazard_map": self._hazard,
            "hazard_list": self._hazard,
            "hazard_anchor": self._hazard,
            "hazard_alias": self._hazard,
            "interaction": self._interaction,
            "interaction_indented": self._interaction,
            "interaction_json": self._interaction,
        }
        for name in self.patterns.alternatives:
            if name.startswith("base64_"):
                self.handlers[name] = self._base64
            elif name.startswith("format_"):
                self.handlers[name] = self._format

    @property
    def walker(self) -> _WalkerType:
        """The sanitizer's own walker, replacing nothing: what it would note is what the scan finds."""
        if self._walker is None:
            from cfreplay.hygiene.sanitizer import _Walker

            self._walker = _Walker(self.table, _DryRedactor())
        return self._walker

    # ----------------------------------------------------------------- driving

    def run(self) -> list[Finding]:
        text = self.text
        self._scan(self._new_view(text, None, "", 0, "cassette" if self.cassette else "plain"))
        if self.fmt == "yaml" and self.cassette and (self.dangerous or text.startswith("!")):
            # A tag other than !!binary: the safe loader decides.  It raises CassetteError for
            # !!python/... tags, so such a file is never reported clean.
            cassette.loads(text, path=self.path, format="yaml")
        elif not self.cassette and self.path.lower().endswith((".yaml", ".yml")) and _YAML_TAG.search(text):
            _refuse_python_tags(text, self.path)
        if self.cassette:
            self._check_layout()
            if self.table.patterns:
                # A project's regex may match raw text across YAML or JSON syntax, where the
                # sanitizer only ever sees one string at a time: the parser settles it.
                self.uncertain.add(None)
        if self.cassette and (self.dangerous or self.uncertain or self.table.config.redact_all_env):
            return self._exact()
        if self.outside is not None:
            return sorted(self._findings() + self._outside_findings(), key=_order)
        return self._findings()

    def _check_layout(self) -> None:
        """Send every interaction not laid out as vcrpy writes it to the exact engine.

        The signal pass finds header keys, body and status sections by their place in
        vcrpy's layout; an interaction laid out otherwise (a quoted or commented header
        key, a key vcrpy does not write, flow style) is valid, but only the parser reads
        it exactly.  The cassette's own keys (``metadata``…), when there are any, are read
        by the parser too (see :meth:`_outside_findings`).
        """
        text, starts = self.text, self.starts
        if not starts:
            self.uncertain.add(None)  # no interactions, or none where vcrpy writes them: parse it
            return
        if self.fmt == "json":
            closing = text.find("\n    ]", starts[-1])
            end = self.end = closing + 1 if closing >= 0 else len(text)
            head, tail = text[: starts[0]], text[end:]
            if head != _JSON_HEAD or _JSON_TAIL.fullmatch(tail) is None:
                self.outside = (starts[0], end)
            last = end - 1 if closing >= 0 else end  # the lookahead must not reach past the array
            bad = _JSON_BAD_LINE.search(text, starts[0], last)
            while bad is not None:
                index = bisect.bisect_right(starts, bad.start()) - 1
                self.uncertain.add(index)
                following = starts[index + 1] if index + 1 < len(starts) else last
                bad = _JSON_BAD_LINE.search(text, following, last)
            return
        top = (_COLUMN_ZERO if self.indent else _COLUMN_ZERO_KEY).search(text, starts[-1] + 1)
        end = self.end = top.start() + 1 if top is not None else len(text)
        if text[: starts[0]] != "interactions:\n" or _YAML_TAIL.fullmatch(text, end) is None:
            self.outside = (starts[0], end)
        layout = _yaml_layout(self.indent)
        for index, start in enumerate(starts):
            stop = starts[index + 1] if index + 1 < len(starts) else end
            if layout.fullmatch(text, start, stop) is None:
                self.uncertain.add(index)

    def _outside_findings(self) -> list[Finding]:
        """The cassette's own keys (``metadata``, a tool's extras), read by the parser and the sanitizer."""
        assert self.outside is not None
        start, end = self.outside
        text = self.text
        try:
            if self.fmt == "json":
                document = json.loads(text)
            else:
                document = yaml.load(text[:start] + text[end:], Loader=_SafeLoader)
        except (ValueError, yaml.YAMLError, RecursionError):
            document = None
        if not isinstance(document, dict):
            # Not readable apart from the interactions: the whole file goes to the parser.
            self.uncertain.add(None)
            return self._exact()
        changes: list[Change] = []
        noted: list[tuple[str, str, str]] = []
        for key, value in document.items():
            if key in ("interactions", "version"):
                continue
            try:
                self.walker.json(value, lambda *seen, into=noted: into.append(seen), str(key), 0)
            except RecursionError:
                raise CassetteError(self.path, f"holds JSON nested too deep in {key!r}") from None
        from cfreplay.hygiene.sanitizer import Change as _Change

        for where, rule, secret in noted:
            changes.append(_Change(None, where, rule, redaction.mask(rule, secret)))
        return self._from_report(changes, {})

    def _new_view(
        self, text: str, anchor: int | None, suffix: str, depth: int, mode: str, *, body: bool = False
    ) -> _View:
        self.views += 1
        return _View(text, anchor, suffix, depth, mode, self.views, body)

    def _scan(self, view: _View) -> None:
        text = view.text
        handlers = self.handlers
        search = self.patterns.masters[view.mode].search
        saved = self.decoded_lines
        self.decoded_lines = set()
        if view.cassette and view.anchor is None:
            # Headers first: the values they settle need no second look from the signal pass.
            if self.fmt == "yaml":
                first = text.find("- request:")
                self.indent = 2 if first >= 2 and text.startswith("  - request:", first - 2) else 0
            self._headers(view)
        after = self.patterns.after
        allowed = self.patterns.allowed[view.mode]
        pos = 0
        while (match := search(text, pos)) is not None:
            pos = handlers[match.lastgroup](view, match)  # type: ignore[index]
            following = after[match.lastgroup]  # type: ignore[index]
            while following is not None and (again := following.match(text, match.start())) is not None:
                if again.lastgroup in allowed:
                    pos = max(pos, handlers[again.lastgroup](view, again))
                following = after[again.lastgroup]  # type: ignore[index]
        if view.mode != "plain" and "--" in text:
            # "--password value" (the "--name=value" form is a parameter signal).  A pass of
            # its own: '-' is the commonest opening there could be.
            for flag in _FLAG.finditer(text):
                if flag.start() == 0 or text[flag.start() - 1] not in _FLAG_BOUNDARY:
                    self._command_line(view, flag.start())
        if view.cassette:
            if view.anchor is None and self.fmt == "yaml":
                self._continuations(view)
            for match in self.patterns.key_end.finditer(text):
                self._key(view, match)
        for fmt in self.table.patterns:
            for hit in fmt.hits(text):
                value = text[hit.start : hit.end]
                if value and not redaction.is_redacted(value):
                    self._hit(view, hit.start, "pattern", value, hit.end)
        self.decoded_lines = saved

    def _hit(
        self, view: _View, start: int, rule: str, value: str, end: int | None = None, *, owner: bool = False
    ) -> None:
        offset = start if view.anchor is None else view.anchor
        stop = start + len(value) if end is None else end
        self.hits.append((offset, rule, value, view.suffix, view.ident, start, stop, owner))

    def _cover(self, view: _View, start: int, end: int) -> None:
        self.covered.setdefault(view.ident, []).append((start, end))

    def _view(
        self, parent: _View, text: str, offset: int, suffix: str, *, mode: str | None = None, body: bool = False
    ) -> None:
        if parent.depth >= _MAX_DEPTH:
            return
        anchor = offset if parent.anchor is None else parent.anchor
        chosen = mode if mode is not None and parent.mode != "plain" else parent.mode
        self._scan(self._new_view(text, anchor, parent.suffix or suffix, parent.depth + 1, chosen, body=body))

    def _interaction_at(self, view: _View, offset: int) -> int | None:
        point = offset if view.anchor is None else view.anchor
        index = bisect.bisect_right(self.starts, point) - 1
        return index if index >= 0 else None

    def _unsure(self, view: _View, offset: int) -> None:
        """The signal pass cannot decide here: read this interaction (or the file) exactly."""
        if not view.cassette:
            return
        self.uncertain.add(self._interaction_at(view, offset))

    def _public(self, token: str) -> bool:
        known = self.public_jwts.get(token)
        if known is None:
            known = self.public_jwts[token] = _is_public_jwt(token.replace("\\/", "/"))
        return known

    # ----------------------------------------------------------------- value rules

    def _covered(self, view: _View, offset: int) -> bool:
        """Whether a name handler settled the value at *offset* already (its spans come in order)."""
        covers = self.covered.get(view.ident)
        if not covers:
            return False
        at = bisect.bisect_right(covers, (offset, _END)) - 1
        return at >= 0 and offset < covers[at][1]

    def _jwt(self, view: _View, match: re.Match[str]) -> int:
        start = match.start() - 2
        if self._covered(view, start):
            return match.end()
        text = view.text
        for token_start, token_end, kind in detectors.iter_tokens(text[start : match.end()]):
            token = text[start + token_start : start + token_end]
            if kind == "jwe":
                self._hit(view, start + token_start, "jwe", token)
            elif not self._public(token):
                self._hit(view, start + token_start, "jwt", token)
        if view.mode != "binary" and len(match.group()) >= 22:
            # Base64 of '{"' opens on eyJ too: a run the alternative consumed may wrap a token.
            run = text[start : match.end()]
            if any(signature in run for signature in detectors.SIGNATURES):
                self._decode_run(view, start)
        return match.end()

    def _bearer(self, view: _View, match: re.Match[str]) -> int:
        return self._credential(view, match, basic=False)

    def _basic(self, view: _View, match: re.Match[str]) -> int:
        return self._credential(view, match, basic=True)

    def _credential(self, view: _View, match: re.Match[str], *, basic: bool) -> int:
        if self._covered(view, match.start()):
            return match.end()  # a header value the sanitizer's own function has read
        found = detectors.auth_credential(view.text, match.end(), basic)
        if found is not None:
            start, end, credential = found
            if not redaction.is_redacted(credential):
                self._hit(view, start, "authorization", credential, end)
        return match.end()

    def _userinfo(self, view: _View, match: re.Match[str]) -> int:
        text = view.text
        at = match.start()
        lowest = max(0, at - 2048)
        starts = [
            text.rfind(separator, lowest, at) + len(separator)
            for separator in ("://", ":\\/\\/", ":\\\\/\\\\/")
            if text.rfind(separator, lowest, at) >= 0
        ]
        if not starts:
            return match.end()
        found = detectors.userinfo(text, max(starts))
        if found is not None and found.end == at:
            self._hit(view, found.start, "url-userinfo", found.secret, found.end)
        return match.end()

    def _path_token(self, view: _View, match: re.Match[str]) -> int:
        if not view.cassette:
            return match.end()
        found = detectors.PATH_TOKEN.match(view.text, _path_start(view.text, match))
        if found is not None:
            token = found.group(1)
            if not redaction.is_redacted(token) and detectors.token_kind(token) is None:
                self._hit(view, found.start(1), "url-path", token)
        return match.end()

    def _format(self, view: _View, match: re.Match[str]) -> int:
        """A credential format's anchor: its pattern decides, in a window around the anchor."""
        text = view.text
        formats, opening_at = self.patterns.formats[match.lastgroup]  # type: ignore[index]
        start = match.start() - opening_at
        for fmt in formats:
            before, after = fmt.reach
            low = max(0, start - before - 8)
            high = min(len(text), start + after + 64)
            window = text[low:high]
            if fmt.block:
                folded = _GAP_RE.sub(" ", window) if ("\n" in window or "\\ " in window) else window
                marker = fmt.pattern.search(folded)
                if marker is not None:
                    self._hit(view, low + marker.start(), fmt.rule, marker.group(), low + marker.end())
                continue
            anchor_at = start - low
            group = 1 if fmt.pattern.groups else 0
            for reading, at in self._readings(window, anchor_at, fold=view.anchor is None and self.fmt == "yaml"):
                for found in fmt.pattern.finditer(reading):
                    if found.start() <= at < found.end() and found.start(group) < found.end(group):
                        value = found.group(group)
                        if not redaction.is_redacted(value):
                            if reading is window:
                                self._hit(view, low + found.start(group), fmt.rule, value, low + found.end(group))
                            else:  # positions in a reading are not the text's: the anchor stands for them
                                self._hit(view, start, fmt.rule, value, start + len(value))
                        return match.end()
        return match.end()

    @staticmethod
    def _readings(window: str, at: int, *, fold: bool) -> Iterable[tuple[str, int]]:
        """*window* as the sanitizer may see its strings, with where the anchor at *at* is in each.

        The raw text holds a value escaped once more per JSON level than the string does
        (``aws_secret_access_key=\\\"…\\\"`` in an env value of a JSON cassette's body), and
        YAML folds a long scalar at a space (a line break and indentation stand for it).
        """
        readings = [(window, at)]
        current, current_at = window, at
        for _ in range(_MAX_DEPTH):
            if "\\" not in current:
                break
            unescaped = _JSON_ESCAPE.sub(r"\1", current)
            if unescaped == current:
                break
            current_at = len(_JSON_ESCAPE.sub(r"\1", current[:current_at]))
            current = unescaped
            readings.append((current, current_at))
        if fold:
            for reading, reading_at in list(readings):
                if "\n" in reading:
                    readings.append((_unfold(reading), len(_unfold(reading[:reading_at]))))
        return readings

    # ----------------------------------------------------------------- name rules

    def _headers(self, view: _View) -> None:
        """Every header key a header rule owns, read where vcrpy writes headers."""
        text = view.text
        header_rule = self.table.header_rule
        if self.fmt == "json":
            matches = self.patterns.json_headers.finditer(text)
        else:
            matches = self.patterns.yaml_headers[self.indent].finditer(text)
        for match in matches:
            name = match.group(1)
            if self.fmt == "json":
                try:
                    name = json.loads(name)
                except ValueError:
                    self._unsure(view, match.start())
                    continue
            rule = header_rule(name)
            if rule is None and name.lower() != "content-type":
                continue
            if self.fmt == "json":
                values = _json_values(text, match.end() - 1)
            else:
                values = _yaml_items(text, match.end(), self.indent + 6)
            if rule is not None:
                self._header(view, name, values, match.start())
            elif values is not None and any("yaml" in value.lower() for _, _, value in values):
                self._unsure(view, match.start())  # a YAML body: the exact engine reads it as YAML

    def _continuations(self, view: _View) -> None:
        """Double-quoted YAML scalars folded with ``\\``: their lines join without a space."""
        text = view.text
        at = text.find("\\\n")
        while at >= 0:
            # A double-quoted scalar folded with '\': its lines join without a space.
            self._unsure(view, at)
            at = text.find("\\\n", at + 2)

    def _header(self, view: _View, name: str, values: list[tuple[int, int, str]] | None, at: int) -> None:
        """A header the table knows: its values go through the sanitizer's own header function."""
        if self.table.header_rule(name) is None:
            return
        if values is None:
            self._unsure(view, at)
            return
        for start, end, value in values:
            noted: list[tuple[str, str, str]] = []
            self.walker._header(name, value, lambda *seen, into=noted: into.append(seen), "")
            for _, rule, secret in noted:
                self._hit(view, start, rule, secret, end, owner=True)
            self._cover(view, start, end)

    def _param(self, view: _View, match: re.Match[str]) -> int:
        """``name=value``: a query parameter, a form field, or a command-line assignment."""
        text = view.text
        equals = match.start()
        start = equals
        lowest = max(0, equals - 130)
        while start > lowest and text[start - 1] in detectors.NAME_CHARS:
            start -= 1
        if start == equals:
            return match.end()
        lead = text[start - 1] if start > 0 else ""
        raw_name = text[start:equals]
        if lead and lead in "?&#;":
            rule = detectors.param_rule(text, start)
        elif start == 0 and view.body:
            rule = "form-field"  # a decoded body that opens with the field
        elif view.cassette and view.anchor is None and _FORM_START.search(text, max(0, start - 16), start):
            rule = "form-field"
        else:
            self._command_line(view, start)
            return match.end()
        name = urllib.parse.unquote_plus(raw_name)
        secret = self.table.secret_form(name) if rule == "form-field" else self.table.secret_query(name)
        if not secret:
            return match.end()
        found = _PARAM_VALUE.match(text, equals + 1)
        raw = found.group() if found is not None else ""
        value = urllib.parse.unquote_plus(raw) if rule == "form-field" else urllib.parse.unquote(raw)
        if value and not redaction.is_redacted(value) and detectors.token_kind(value) != "jwt":
            self._hit(view, equals + 1, rule, value, equals + 1 + len(raw), owner=True)
            self._cover(view, equals + 1, equals + 1 + len(raw))
        return match.end()

    def _command_line(self, view: _View, start: int) -> None:
        text = view.text
        found = detectors.COMMAND_LINE.match(text, start)
        if found is None:
            return
        name, value, value_start, value_end, assignment = detectors.command_line_pair(found)
        if not (self.table.secret_env(name) if assignment else self.table.secret_key(name)):
            return
        if redaction.is_redacted(value) or rules.is_link(value) or detectors.token_kind(value) == "jwt":
            return
        self._hit(view, value_start, "command-line", value, value_end)

    def _key(self, view: _View, match: re.Match[str]) -> None:
        """A JSON key that may name a secret: its string value is settled by the table, as the sanitizer does."""
        text = view.text
        colon = match.end() - 1
        quote_at = colon - 1
        run = 0
        while quote_at - run - 1 >= 0 and text[quote_at - run - 1] == "\\":
            run += 1
        level = _LEVELS.get(run)
        if level is None:
            self._unsure(view, colon)  # JSON escaped three times over: the exact engine reads it
            return
        quote = "\\" * run + '"'
        close = quote_at - run
        opening = text.rfind(quote, max(0, close - 200), close)
        if opening < 0:
            return
        key = text[opening + len(quote) : close]
        if not key or "\n" in key or '"' in key or "\\" in key:
            return
        lower = key.lower()
        after = match.end()
        if (lower in rules.CREDENTIAL_OBJECT_KEYS or lower in rules.DOCKER_CREDENTIAL_KEYS) and _object_follows(
            text, after
        ):
            if not _redacted_object(text, after):
                self._unsure(view, close)
            return
        if lower in self.table.env_maps:
            return
        found = _string_value(text, after, level, self.fmt == "yaml" and view.anchor is None)
        if found is None:
            return
        start, end, value = found
        if lower == "jti":
            if value and not redaction.is_placeholder(value) and self._jti_kept(text, opening, value) is not True:
                self._hit(view, start, "token-id", value, end, owner=True)
            return
        if not value or redaction.is_redacted(value) or detectors.token_kind(value) == "jwt":
            return
        if self.table.secret_key(key):
            if rules.is_link(value):
                return
            if _in_docker_credentials(text, opening):
                self._unsure(view, close)
                return
            self._hit(view, start, "secret-key", value, end, owner=True)
            self._cover(view, start, end)
        elif self.table.secret_env(key) and not rules.is_link(value):
            self._unsure(view, close)  # a secret only inside an env map: is it in one?

    def _jti_kept(self, text: str, opening: int, jti: str) -> bool | None:
        """Whether the sanitizer keeps a token response's ``jti``: only when it is its access token's
        own id and that token is published (a fake's jti is a placeholder already).  ``None``: unsure."""
        # The token is a sibling in the same object: between the braces around the jti.
        lowest = text.rfind("{", max(0, opening - 16384), opening)
        highest = text.find("}", opening, opening + 16384)
        found = _ACCESS_TOKEN.search(text, max(lowest, 0), highest if highest >= 0 else len(text))
        if found is None:
            return False
        token = found.group(1).replace("\\/", "/")
        if detectors.token_kind(token) != "jwt" or not self._public(token):
            return False
        decoded = tokens.try_decode(token)
        return decoded is not None and decoded[1].get("jti") == jti

    # ----------------------------------------------------------------- decodings and structure

    def _interaction(self, view: _View, match: re.Match[str]) -> int:
        if view.anchor is not None:
            return match.end()
        kind = match.lastgroup
        if kind == "interaction_json":
            self.starts.append(match.end() - len('"request":'))
            return match.end()
        indent = 2 if kind == "interaction_indented" else 0
        if not self.starts:
            self.indent = indent
        if indent == self.indent:
            self.starts.append(match.start() - len("- re") - indent)
        return match.end()

    def _tag(self, view: _View, match: re.Match[str]) -> int:
        if view.anchor is None:
            self.dangerous = True
        return match.end()

    def _hazard(self, view: _View, match: re.Match[str]) -> int:
        """YAML the signal pass does not read itself (anchors, aliases, flow collections).

        Only where a line's own key or item marker holds it: inside a scalar (an env
        value ``{ jre: { version: 17.+ } }``) it is text.
        """
        if view.anchor is None and self.fmt == "yaml":
            text = view.text
            line = text.rfind("\n", 0, match.start()) + 1
            structure = _STRUCTURE_LINE.fullmatch(text, line, match.start() - 1)
            # vcrpy's structure sits at most three levels into an interaction; deeper lines
            # continue a scalar folded onto them.
            if structure is not None and structure.end(1) - line <= self.indent + 6:
                self.uncertain.add(None)
        return match.end()

    def _percent(self, view: _View, match: re.Match[str]) -> int:
        self._decode_line(view, match, urllib.parse.unquote, " (url-encoded)")
        return match.end()

    def _escape(self, view: _View, match: re.Match[str]) -> int:
        self._decode_line(view, match, detectors.unescape, " (json-escaped)")
        return match.end()

    def _decode_line(self, view: _View, match: re.Match[str], decode: Callable[[str], str], suffix: str) -> None:
        text = view.text
        start = text.rfind("\n", 0, match.start()) + 1
        if (start, suffix) in self.decoded_lines:
            return
        self.decoded_lines.add((start, suffix))
        end = text.find("\n", match.end())
        line = text[start : end if end >= 0 else len(text)]
        decoded = decode(line)
        if decoded != line:
            self._view(view, decoded, match.start(), suffix)

    def _base64(self, view: _View, match: re.Match[str]) -> int:
        self._decode_run(view, match.start())
        return match.end()

    def _decode_run(self, view: _View, start: int) -> None:
        """The base64 run around *start*, decoded when it holds a token (each run once per view)."""
        text = view.text
        if start < self.run_ends.get(view.ident, -1):
            return  # inside a run read already: a long run holds many signatures
        lowest = max(0, start - 65536)
        while start > lowest and text[start - 1] in _BASE64_CHARS:
            start -= 1
        run = _BASE64_RUN.match(text, start, start + _MAX_BLOB)
        end = run.end() if run is not None else start
        self.run_ends[view.ident] = end
        blob = text[start:end]
        if len(blob) < 24:
            return
        if blob not in self.base64_decoded:
            wrapped = detectors.decode_wrapped(blob)
            self.base64_decoded[blob] = wrapped[1].decode("utf-8", "replace") if wrapped is not None else None
        decoded = self.base64_decoded[blob]
        if decoded is not None:
            self._view(view, decoded, start, " (base64)")

    def _binary(self, view: _View, match: re.Match[str]) -> int:
        if view.anchor is not None or self.fmt != "yaml":
            return match.end()
        text = view.text
        block = _BINARY_BLOCK.match(text, match.end()) or _BINARY_INLINE.match(text, match.end())
        if block is None:
            return match.end()
        try:
            data = base64.b64decode("".join(block.group(1).split()))
        except (binascii.Error, ValueError):
            return block.end()
        codings = self._codings(match.start())
        if codings is None:
            self._unsure(view, match.start())
            return block.end()
        try:
            decoded = bodies.decode(data, codings) if codings else None
        except BodyTooLarge as error:
            raise CassetteError(self.path, f"cannot be proven clean: {error}") from None
        if decoded is not None:
            payload, label = decoded.data, "+".join(codings)
        else:
            payload, label = data, "binary"
        try:
            body = payload.decode("utf-8")
        except UnicodeDecodeError:
            # Read as Latin-1, as the sanitizer reads a binary body: ASCII stays ASCII.
            self._view(view, payload.decode("latin-1"), match.start(), f" ({label})", mode="binary")
            return block.end()
        self._view(view, body, match.start(), f" ({label})", body=True)
        return block.end()

    def _codings(self, offset: int) -> tuple[str, ...] | None:
        """The Content-Encoding of the side whose body starts at *offset* (YAML); ``None`` if unsure."""
        text = self.text
        index = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[index] if index >= 0 else 0
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(text)
        pad = " " * (self.indent + 2)
        response = text.find(f"\n{pad}response:", start, end)
        if response >= 0 and offset > response:
            side_start, side_end = response, end
        else:
            side_start, side_end = start, response if response >= 0 else end
        found = _CONTENT_ENCODING.search(text, side_start, side_end)
        if found is None:
            return ()
        values = _yaml_items(text, found.end(), len(found.group(1)))
        if not values:
            return None
        return bodies.content_encoding({"Content-Encoding": [values[0][2]]})

    # ----------------------------------------------------------------- findings

    def _findings(self) -> list[Finding]:
        if not self.hits:
            return []
        kept = self._resolved()
        if self.outside is not None:
            low, high = self.outside  # the rest is the parser's (see _outside_findings)
            kept = [hit for hit in kept if low <= hit[0] < high]
        text = self.text
        best: dict[tuple[int, str, str], tuple[int, str]] = {}
        line, counted = 1, 0
        kept.sort()
        for offset, rule, value, suffix, *_ in kept:
            line += text.count("\n", counted, offset)
            counted = offset
            key = (line, rule, value)
            known = best.get(key)
            if known is None or len(suffix) < len(known[1]):
                best[key] = (offset, suffix)
        locate = _Locator(text, self.fmt, self.starts, self.indent, self.end) if self.cassette else None
        findings: list[Finding] = []
        for (line, rule, value), (offset, suffix) in best.items():
            if locate is None:
                interaction, location = None, f"line {line}"
            else:
                interaction, location = locate(offset)
            findings.append(Finding(self.path, interaction, location + suffix, rule, redaction.mask(rule, value), line))
        findings.sort(key=_order)
        return findings

    def _resolved(self) -> list[_Hit]:
        """Hits after the table's precedence.

        A value a name handler settled (a header, a key, a parameter) is its own: what
        the signal pass saw inside it is not reported again.  Of two signal hits on one
        span, the rule earlier in the table wins — the order the sanitizer applies them.
        """
        if not self.cassette:
            allowed = PLAIN_RULES | {fmt.rule for fmt in self.table.formats}
            candidates = [hit for hit in self.hits if hit[1] in allowed]
        else:
            candidates = list(self.hits)
        by_view: dict[int, list[_Hit]] = {}
        for hit in candidates:
            by_view.setdefault(hit[4], []).append(hit)
        priority = self.table.priority
        kept: list[_Hit] = []
        for ident, hits in by_view.items():
            covers = sorted(self.covered.get(ident, []))
            cover_starts = [a for a, _ in covers]
            chosen = [hit for hit in hits if hit[7]]
            taken: list[tuple[int, int]] = []  # spans of signal hits kept, sorted
            for hit in sorted((hit for hit in hits if not hit[7]), key=lambda h: (priority(h[1]), h[5])):
                start, end = hit[5], hit[6]
                at = bisect.bisect_right(cover_starts, start) - 1
                if at >= 0 and start < covers[at][1]:
                    continue  # a name rule owns this span
                at = bisect.bisect_left(taken, (start, -1))
                if (at < len(taken) and taken[at][0] < end) or (at > 0 and taken[at - 1][1] > start):
                    continue  # an earlier rule took it
                taken.insert(at, (start, end))
                chosen.append(hit)
            kept.extend(chosen)
        return kept

    # ----------------------------------------------------------------- the exact engine

    def _exact(self) -> list[Finding]:
        """Findings from the sanitizer itself, for the interactions the signal pass could not settle."""
        whole = None in self.uncertain or self.dangerous or self.table.config.redact_all_env
        from cfreplay.hygiene.sanitizer import MAX_DEPTH, Report, Sanitizer, _TooDeep

        sanitizer = Sanitizer(table=self.table, key=b"cfreplay-scan")
        sanitizer.redactor = _DryRedactor()
        sanitizer._walker.redact = sanitizer.redactor
        if whole or not self.starts:
            loaded = cassette.loads(self.text, path=self.path, format=self.fmt)
            originals = dict(enumerate(loaded.interactions))
            report = sanitizer.sanitize_data(copy.deepcopy(loaded.data), path=self.path)
            return self._from_report(report.changes, originals)
        changes: list[Change] = []
        parsed: dict[int, dict[str, Any]] = {}
        for index in sorted(i for i in self.uncertain if i is not None):
            interaction = self._parse_interaction(index)
            if interaction is None:
                self.uncertain.add(None)
                return self._exact()
            parsed[index] = copy.deepcopy(interaction)
            report_part = Report()
            try:
                sanitizer.sanitize_interaction(interaction, index, report_part)
            except BodyTooLarge as error:
                raise CassetteError(self.path, f"cannot be proven clean: {error}", interaction=index) from None
            except _TooDeep:
                raise CassetteError(
                    self.path, f"holds JSON nested deeper than {MAX_DEPTH} levels", interaction=index
                ) from None
            changes.extend(report_part.changes)
        exact = set(self.uncertain)
        kept = [finding for finding in self._findings() if finding.interaction not in exact]
        if self.outside is not None:
            kept += self._outside_findings()
        return sorted(kept + self._from_report(changes, parsed), key=_order)

    def _key_line(self, key: str) -> int:
        """The line of one of the cassette's own keys (1 when it cannot be told)."""
        pattern = rf'^ {{4}}"{re.escape(key)}":' if self.fmt == "json" else rf"^['\"]?{re.escape(key)}['\"]?[ \t]*:"
        found = re.search(pattern, self.text, re.MULTILINE)
        return self.text.count("\n", 0, found.start()) + 1 if found is not None else 1

    def _parse_interaction(self, index: int) -> dict[str, Any] | None:
        text = self.text
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(text)
        try:
            if self.fmt == "json":
                opening = text.rfind("{", 0, start)
                value, _ = json.JSONDecoder().raw_decode(text, opening)
            else:
                # The last interaction ends where the cassette's own keys (version:, metadata:) begin.
                top = (_COLUMN_ZERO if self.indent else _COLUMN_ZERO_KEY).search(text, start + 1, end)
                chunk = text[start : top.start() if top is not None else end]
                if self.indent:
                    chunk = "\n".join(line[self.indent :] for line in chunk.split("\n"))
                document = yaml.load(chunk, Loader=_SafeLoader)
                value = document[0] if isinstance(document, list) and document else None
        except (ValueError, yaml.YAMLError, RecursionError, TypeError):
            return None
        if not isinstance(value, dict) or cassette._interaction_problem(value):
            return None
        return value

    def _from_report(self, changes: Sequence[Change], interactions: dict[int, dict[str, Any]]) -> list[Finding]:
        """The sanitizer's changes as findings: one per replacement, on the interaction's first line."""
        findings = []
        lines: dict[int, int] = {}
        counted, line_no = 0, 1
        known = len(self.starts)
        for offset in sorted(
            {self.starts[c.interaction] for c in changes if c.interaction is not None and c.interaction < known}
        ):
            line_no += self.text.count("\n", counted, offset)
            counted, lines[offset] = offset, line_no
        for change in changes:
            index = change.interaction
            offset = self.starts[index] if index is not None and index < len(self.starts) else 0
            location = change.location
            if index is not None and location.endswith(".body") and index in interactions:
                side = interactions[index].get(location.split(".", 1)[0])
                codings = bodies.content_encoding(side.get("headers") if isinstance(side, dict) else None)
                if codings:
                    location += f" ({'+'.join(codings)})"
            if index is None:
                line = self._key_line(location.split(".", 1)[0])
            else:
                line = lines.get(offset) or self.text.count("\n", 0, offset) + 1
            findings.append(Finding(self.path, index, location, change.rule, change.masked, line))
        return sorted(findings, key=_order)


def _is_name_rule(rule: str) -> bool:
    return rule in _NAME_RULES


_NAME_RULES: Final = frozenset({
    "cookie", "secret-header", "url-query", "form-field", "docker-credentials", "credentials", "token-id",
    "env-value", "secret-key",
})  # fmt: skip


# --------------------------------------------------------------------------- small readers

_GAP_RE: Final = re.compile(_GAP)
#: One level of JSON escaping of the characters a credential's quoting holds.
_JSON_ESCAPE: Final = re.compile(r'\\(["\\/])')
#: A line break YAML folded a plain or quoted scalar at (with the next line's indentation).
#: PyYAML writes the spaces that follow a fold escaped ("\ "): they stand for themselves.
_YAML_FOLD: Final = re.compile(r"[ \t]*\r?\n[ \t]*((?:\\ )*)")


def _unfold(text: str) -> str:
    """YAML's folded lines joined as a parser joins them (a space for each break, escaped spaces kept)."""
    return _YAML_FOLD.sub(lambda m: " " * (1 + len(m.group(1)) // 2), text)


_END: Final = 1 << 62


def _path_start(text: str, match: re.Match[str]) -> int:
    """Where the path rule's own pattern starts, for a match of ``…revoke/`` or ``…odes/``."""
    return match.end() - (len("/oauth/token/revoke/") if match.lastgroup == "path_revoke" else len("/Codes/"))


_ACCESS_TOKEN: Final = re.compile(r'access_token\\*"\s*:\s*\\*"(eyJ[A-Za-z0-9_\-+/=.\\]+?)\\*"')
_PARAM_VALUE: Final = re.compile(r"""[^&#;\s"'\\<>]*""")
_FLAG: Final = re.compile(r"--(?=[A-Za-z][\w-]{0,128}[ \t])")
#: Characters that, before "--", make it no command-line flag (COMMAND_LINE's lookbehind).
_FLAG_BOUNDARY: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/&?#;=%:[]")
_FORM_START: Final = re.compile(r"""(?:body|string)\\?"?:[ \t]*\\?["']?\Z""")
_BASE64_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/_-]*=*")
_BINARY_BLOCK: Final = re.compile(r"[ \t]*[|>][-+0-9]*[ \t]*\r?\n((?:[ \t]+[A-Za-z0-9+/=]+[ \t]*\r?(?:\n|\Z))+)")
_BINARY_INLINE: Final = re.compile(r"""[ \t]+["']?([A-Za-z0-9+/=\s]+)""")
_CONTENT_ENCODING: Final = re.compile(r"\n( *)(?i:content-encoding):[ \t]*(?=\r?\n)")
_YAML_TAG: Final = re.compile(r"(?<![^\s\[{,])!(?=[!<\w%])|^%TAG", re.MULTILINE)
_STRING_START: Final = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?(\\*)\"")
# Whitespace inside a JSON body as the cassette writes it: real, or escaped (\n in a JSON string).
_WS: Final = r"(?:\s|\\+[nrt])*"
_REDACTED_OBJECT: Final = re.compile(
    rf"""[ \t]*(?:\r?\n[ \t]*)?(?:null|\{{{_WS}\\*"redacted_message\\*"{_WS}:{_WS}\\*"\[PRIVATE(?:\s|\\\s)+DATA"""
    rf"""(?:\s|\\\s)+HIDDEN\]\\*"{_WS}\}}|\{{{_WS}\}})"""
)


def _object_follows(text: str, at: int) -> bool:
    """Whether a JSON object or array (not a string) is the value after a key's colon at *at*."""
    head = text[at : at + 64].lstrip(" \t\r\n\\")
    return head[:1] in ("{", "[") or head.startswith("null")


@functools.lru_cache(maxsize=256)
def _redacted_value(head: str) -> bool:
    return _REDACTED_OBJECT.match(head) is not None or head[:64].lstrip()[:1] not in ("{", "[")


def _redacted_object(text: str, at: int) -> bool:
    """Whether the JSON value at *at* is null, empty, or CC's redaction message (the same few texts recur)."""
    return _redacted_value(text[at : at + 96])


def _in_docker_credentials(text: str, opening: int) -> bool:
    holder = text.rfind("docker_credentials", max(0, opening - 300), opening)
    return holder >= 0 and "}" not in text[holder:opening]


#: Backslashes before a key's closing quote -> how many times its JSON was escaped.
_LEVELS: Final = {0: 0, 1: 1, 3: 2}


def _string_value(text: str, at: int, level: int, foldable: bool) -> tuple[int, int, str] | None:
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


_JSON_ITEM: Final = re.compile(r'\s*,?\s*("(?:[^"\\\n]|\\.)*")')


def _json_values(text: str, at: int) -> list[tuple[int, int, str]] | None:
    """The strings of the JSON array at *at* (a header's values in a JSON cassette), where each stands."""
    items: list[tuple[int, int, str]] = []
    position = at + 1
    while (item := _JSON_ITEM.match(text, position)) is not None:
        try:
            value = json.loads(item.group(1))
        except ValueError:
            return None
        items.append((item.start(1), item.end(1), value))
        position = item.end()
    if not text[position : position + 64].lstrip().startswith("]"):
        return None
    return items


def _yaml_items(text: str, at: int, indent: int) -> list[tuple[int, int, str]] | None:
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
                value = yaml.load("- " + "\n  ".join(part.strip() for part in raw.split("\n")), Loader=_SafeLoader)
            except yaml.YAMLError:
                return None
            if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
                return None
            items.append((value_start, stop, value[0]))
        position = stop
    return items


def _refuse_python_tags(text: str, path: str) -> None:
    """Raise CassetteError when a YAML file that is no cassette holds a ``!!python/...`` tag."""
    try:
        yaml.load(text, Loader=_SafeLoader)
    except yaml.constructor.ConstructorError as error:
        if "python/" in str(error):
            raise CassetteError(path, "holds a dangerous !!python tag (nothing was run)") from None
    except (yaml.YAMLError, RecursionError):
        pass


def _order(finding: Finding) -> tuple[str, int, int, str, str, str]:
    interaction = -1 if finding.interaction is None else finding.interaction
    return (finding.path, finding.line, interaction, finding.location, finding.rule, finding.masked)


_TOP_KEY_YAML: Final = re.compile(r"\n([A-Za-z_][\w-]*):")
_COLUMN_ZERO: Final = re.compile(r"\n(?=\S)")
_STRUCTURE_LINE: Final = re.compile(r"( *)(?:- )*(?:[\w-]+:|-) ?")
_COLUMN_ZERO_KEY: Final = re.compile(r"\n(?=[^\s-])")
_TOP_KEY_JSON: Final = re.compile(r'\n {4}"([^"\\\n]+)":')

#: How vcrpy (through cfreplay.cassette.dumps) opens and closes a JSON cassette.
_JSON_HEAD: Final = '{\n    "interactions": [\n        {\n            '
_JSON_TAIL: Final = re.compile(r'    \],?\r?\n(?:    "version": \d+\r?\n)?\}\r?\n?')
_YAML_TAIL: Final = re.compile(r"(?:version: \d+\r?\n?)?")
_JSON_STRING: Final = r'"(?:[^"\\\n]|\\.)*"'
#: A line of a JSON cassette's interactions that is not where vcrpy writes it (JSON strings
#: never span lines, so every line is structure).
_JSON_BAD_LINE: Final = re.compile(
    r"\n(?!"
    r" {8}[{}]"
    r"| {12}(?:\"(?:request|response)\": \{|\})"
    r"| {16}(?:\"(?:body|headers|method|uri|status)\": |\})"
    rf"| {{20}}(?:\"(?:string|code|message)\": |{_JSON_STRING}: \[|[\]}}])"
    rf"| {{24}}{_JSON_STRING},?\r?$"
    r"| {4}\]"
    r")",
    re.MULTILINE,
)
#: A header name as vcrpy's YAML writes it plainly (anything else is quoted: the parser reads it).
_HEADER_NAME: Final = r"[A-Za-z0-9_.$+^~][A-Za-z0-9_.!#$%&'*+^`|~-]{0,127}"


@functools.cache
def _yaml_layout(indent: int) -> re.Pattern[str]:
    """One interaction exactly as vcrpy writes it in YAML, interactions indented by *indent*."""
    nl = r"\r?\n"
    pad = " " * indent

    def deeper(spaces: int) -> str:  # continuation lines of a folded scalar, or blank lines
        return rf"(?:(?:{pad}{' ' * spaces}[^\r\n]*)?{nl})*"

    # A scalar's first line: not an anchor, alias, flow collection, comment or block indicator.
    value = r"(?![&*{\[#%@`|>?]|- |-$)[^\r\n]+"
    body = rf"(?:{pad}    body: {value}{nl}{deeper(6)}|{pad}    body:{nl}{pad}      string: {value}{nl}{deeper(8)})"
    headers = (
        rf"(?:{pad}    headers: \{{\}}{nl}|{pad}    headers:{nl}"
        rf"(?:{pad}      {_HEADER_NAME}:{nl}(?:{pad}      - {value}{nl}{deeper(8)})+)*)"
    )
    return re.compile(
        rf"{pad}- request:{nl}{body}?{headers}?"
        rf"(?:{pad}    method: {value}{nl})?(?:{pad}    uri: {value}{nl}{deeper(6)})?"
        rf"{pad}  response:{nl}{body}?{headers}?"
        rf"(?:{pad}    status:{nl}{pad}      code: \d+{nl}(?:{pad}      message: {value}{nl}{deeper(8)})?)?"
    )


class _Locator:
    """Which interaction an offset is in, and where in it, from the cassette's raw text.

    Only interactions laid out as vcrpy writes them reach it (the others are the exact
    engine's), so each interaction's structure lines are read once, into marks: the
    location of an offset is that of the last mark before it.
    """

    def __init__(self, text: str, fmt: Format, starts: list[int], indent: int, end: int):
        self.text = text
        self.starts = starts
        self.fmt = fmt
        self.end = end
        self.marks: dict[int, tuple[list[int], list[str]]] = {}
        if fmt == "json":
            self.structure = _JSON_STRUCTURE
        else:
            self.structure = _yaml_structure(indent)

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
        positions, labels = self._marks(index)
        return index, labels[bisect.bisect_right(positions, offset) - 1]


#: Structure lines of a JSON interaction as vcrpy writes it: the response, a section, a header key.
_JSON_STRUCTURE: Final = re.compile(
    r'\n {12}"(?P<side>response)":|\n {16}"(?P<section>body|headers|method|uri|status)":'
    r'|\n {20}(?P<header>"(?:[^"\\\n]|\\.)*"): \['
)


@functools.cache
def _yaml_structure(indent: int) -> re.Pattern[str]:
    """Structure lines of a YAML interaction as vcrpy writes it: the response, a section, a header key."""
    pad = " " * indent
    return re.compile(
        rf"\n{pad}  (?P<side>response):|\n{pad}    (?P<section>body|headers|method|uri|status):"
        rf"|\n{pad}      (?P<header>{_HEADER_NAME}):(?=\r?\n{pad}      - )"
    )


# --------------------------------------------------------------------------- public API


def _format_of(path: str, text: str) -> Format:
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if text.lstrip()[:1] == "{" else "yaml"


def scan_text(
    text: str,
    *,
    path: str = "<text>",
    cassette: bool = True,
    table: RuleTable | None = None,
) -> list[Finding]:
    """Findings in *text*, sorted by line.

    With ``cassette=True`` every rule applies; otherwise only the rules that need no
    context (:data:`PLAIN_RULES` and the credential formats).  *table* carries the
    project's rules (default: the built-in ones).  *path* names the source in findings
    and errors, and its suffix tells YAML from JSON.  Raises
    :class:`~cfreplay.CassetteError` for a YAML cassette holding a tag the safe loader
    refuses (``!!python/...``), or one that cannot be read exactly where it must be.
    """
    chosen = table if table is not None else rules.default_table()
    return _Scan(text, path, _format_of(path, text), cassette=cassette, table=chosen).run()


def _read(path: Path) -> tuple[str, bool, int] | None:
    """A file's text, whether it is a cassette, and its size; ``None`` for a binary file that is no cassette."""
    raw = cassette.read_bytes(path, noun="file")
    maybe_cassette = path.suffix.lower() in CASSETTE_SUFFIXES
    try:
        if b"\x00" in raw:
            raise UnicodeError("NUL byte")
        text = raw.decode("utf-8")
    except UnicodeError:
        if maybe_cassette:
            cassette.loads(raw, path=path)  # words the error (binary, or not UTF-8 at which offset) and raises
            raise CassetteError(path, "is not UTF-8 text") from None  # pragma: no cover
        return None
    return text, maybe_cassette and "interactions" in text, len(raw)


def scan_file(path: str | os.PathLike[str], *, table: RuleTable | None = None) -> list[Finding]:
    """Findings in one file: a cassette (``.yaml``/``.yml``/``.json`` holding ``interactions``) or a plain file."""
    file = Path(path)
    read = _read(file)
    if read is None:
        return []
    text, is_cassette, _ = read
    return scan_text(text, path=str(path), cassette=is_cassette, table=table)


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIP_DIRS)
        for name in sorted(files):
            candidate = Path(directory, name)
            try:
                if not stat.S_ISREG(candidate.stat().st_mode):
                    continue  # FIFOs, sockets and devices are no files to scan
            except OSError:
                pass  # a dangling link: reading it names the problem
            yield candidate


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterable[Path]:
    """The files :func:`scan_paths` visits, in its order (for progress bars)."""
    for given in paths:
        root = Path(given)
        yield from (_walk(root) if root.is_dir() else (root,))


#: Below this many bytes in all, a second process costs more than it saves.
_PARALLEL_BYTES: Final = 4 * 1024 * 1024


def _scan_one(file: Path, table: RuleTable) -> tuple[str, list[Finding] | CassetteError | None, int, bool]:
    """One file's findings (or the error that stopped it), its size, and whether the exact engine read it."""
    try:
        read = _read(file)
        if read is None:
            return str(file), None, 0, False
        text, is_cassette, size = read
        scan = _Scan(text, str(file), _format_of(str(file), text), cassette=is_cassette, table=table)
        found = scan.run()
        return str(file), found, size, bool(scan.uncertain or scan.dangerous)
    except CassetteError as error:
        return str(file), error, 0, False


def _regular_size(file: Path) -> int:
    try:
        info = file.stat()
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    table: RuleTable | None = None,
    on_file: Callable[[Path], None] | None = None,
    workers: int | None = 1,
) -> ScanResult:
    """Scan files and directories (recursively), collecting findings and errors.

    Directories skip :data:`SKIP_DIRS`, binary files and non-regular files.  A file
    that cannot be read, a binary cassette-suffixed file or a dangerous cassette lands
    in ``errors``; the scan goes on.  ``workers=None`` scans in one process per CPU when
    there is enough to scan (several megabytes in several files); the result is the same.
    """
    result = ScanResult()
    chosen = table if table is not None else rules.default_table()
    files: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        root = Path(given)
        for file in _walk(root) if root.is_dir() else (root,):
            if file not in seen:
                seen.add(file)
                files.append(file)
    count = workers if workers is not None else (os.cpu_count() or 1)
    parallel = count > 1 and len(files) > 1 and sum(_regular_size(f) for f in files) >= _PARALLEL_BYTES
    if parallel:
        outcomes = _in_processes(files, chosen, min(count, len(files)), on_file)
    else:
        outcomes = []
        for file in files:
            if on_file is not None:
                on_file(file)
            outcomes.append(_scan_one(file, chosen))
    per_file: list[tuple[str, list[Finding]]] = []
    for name, found, size, exact in outcomes:
        if isinstance(found, CassetteError):
            result.errors.append(found)
        elif found is not None:
            result.files += 1
            result.bytes += size
            result.exact += exact
            per_file.append((name, found))
    per_file.sort(key=lambda item: item[0])
    result.findings = [finding for _, found in per_file for finding in found]
    result.errors.sort(key=lambda error: error.path)
    return result


def _in_processes(
    files: list[Path], table: RuleTable, count: int, on_file: Callable[[Path], None] | None
) -> list[tuple[str, list[Finding] | CassetteError | None, int, bool]]:
    """Scan *files* in *count* forked processes, largest first, results in the files' order."""
    import concurrent.futures
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return [_scan_one(file, table) for file in files]
    order = sorted(range(len(files)), key=lambda i: -_regular_size(files[i]))
    outcomes: list[tuple[str, list[Finding] | CassetteError | None, int, bool]] = [("", None, 0, False)] * len(files)
    with concurrent.futures.ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        futures = {pool.submit(_scan_one, files[i], table): i for i in order}
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            if on_file is not None:
                on_file(files[index])
            outcomes[index] = future.result()
    return outcomes
