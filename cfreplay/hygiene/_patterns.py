"""The signal pass's patterns, built once per rule table.

One compiled pattern per mode holds an alternative per signal (``eyJ``, a bearer or
basic scheme, the ending of a secret parameter name, ``@`` after a scheme, escapes,
base64 holding a token, every credential format's anchors, YAML tags and the YAML
constructs the signal pass does not read).  Each alternative opens on the rarest
character of its literal, since the pass stops wherever an opening character occurs;
alternatives that share an opening are grouped, so each distinct opening is tested
once.  The names of the groups are the handlers the signal pass dispatches to.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, Final

from cfreplay.hygiene import detectors
from cfreplay.hygiene._layout import HEADER_NAME, JSON_STRING
from cfreplay.hygiene._literals import opening_literal, rank
from cfreplay.hygiene.rules import RuleTable

__all__ = ["PLAIN_RULES", "SCHEME_ENDS_RUN", "Patterns", "patterns_for"]

#: Rules that need no context: the only ones that run over plain files.
PLAIN_RULES: Final = frozenset({"jwt", "jwe", "authorization", "pattern"})

# Whitespace as YAML may write it between two words of a scalar: spaces, a line break
# folded by the emitter (libyaml writes a bare newline, PyYAML ends the line with a
# backslash), or an escaped space.
_GAP: Final = detectors.GAP
_B64_RUN: Final = detectors.B64_RUN
#: A scheme must be followed by a gap and a credential's first characters (the rest is
#: :func:`detectors.auth_credential`'s to decide).
_BEARER_FILTER: Final = rf"(?={_GAP}(?:[A-Za-z0-9._~+/=-]|\\+/))"
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


#: A token run that ends in a scheme word: a credential may follow it after a gap of any length.
SCHEME_ENDS_RUN: Final = re.compile(r"(?:[Bb]earer|BEARER|[Bb]asic|BASIC)$")

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


def _signal_alternatives(param_names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Every signal but the credential formats: alternative name -> (opening literal, the rest)."""
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
    return alternatives


def _format_alternatives(table: RuleTable) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[list[Any], int]]]:
    """An alternative per opening of the table's credential formats' anchors (per case, when one ignores case).

    Anchors of the same formats that open on the same character, after the same text,
    share one alternative (``gh`` then ``[oprsu]_`` for GitHub's tokens): the engine
    then checks what precedes the opening once at each stop, not once per anchor.
    Also: alternative name -> (formats whose anchor it finds, where its opening sits in the anchor).
    """
    anchors: dict[tuple[str, bool], list[Any]] = {}
    for fmt in table.formats:
        ignore_case = bool(fmt.pattern.flags & re.IGNORECASE)
        for anchor in fmt.anchors:
            anchors.setdefault((anchor, ignore_case), []).append(fmt)
    # (opening, lookbehind, where it sits, ignore case, the formats) -> the texts after the opening
    shared: dict[tuple[str, str, int, bool, tuple[int, ...]], tuple[list[Any], list[str]]] = {}
    for (anchor, ignore_case), found in sorted(anchors.items()):
        at, openings = opening_literal(anchor, ignore_case=ignore_case)
        for opening, behind, after in openings:
            key = (opening, behind, at, ignore_case, tuple(id(fmt) for fmt in found))
            shared.setdefault(key, (found, []))[1].append(after)
    alternatives: dict[str, tuple[str, str]] = {}
    formats: dict[str, tuple[list[Any], int]] = {}
    for index, ((opening, behind, at, ignore_case, _), (found, afters)) in enumerate(shared.items()):
        name = f"format_{index}"
        # Longest first: the engine takes the first text that matches, and any will do.
        texts = "|".join(re.escape(after) for after in sorted(set(afters), key=lambda text: (-len(text), text)))
        alternatives[name] = (opening, behind + (f"(?i:{texts})" if ignore_case else f"(?:{texts})"))
        formats[name] = (found, at)
    return alternatives, formats


_PLAIN_SIGNALS: Final = frozenset({
    "jwt", "bearer", "bearer_upper", "bearer_lower", "basic", "basic_upper", "basic_lower", "userinfo", "percent",
    "escape", "escape_x", "escape_long",
})  # fmt: skip
_SHAPE_SIGNALS: Final = frozenset({
    "jwt", "bearer", "bearer_upper", "bearer_lower", "basic", "basic_upper", "basic_lower", "userinfo", "param",
    "path_revoke", "path_codes",
})  # fmt: skip


def _modes(alternatives: Iterable[str]) -> dict[str, frozenset[str]]:
    """Which alternatives run in each mode of a view."""
    names = list(alternatives)
    return {
        "cassette": frozenset(names),
        "plain": frozenset(n for n in names if n in _PLAIN_SIGNALS or n.startswith(("base64_", "format_"))),
        # A binary body read as Latin-1: the shape rules only, as the sanitizer applies them.
        "binary": frozenset(n for n in names if n in _SHAPE_SIGNALS or n.startswith("format_")),
    }


#: How many of the commonest openings get a pass of their own (see :func:`_streams`).
_OWN_PASSES: Final = 3


def _streams(alternatives: dict[str, tuple[str, str]]) -> tuple[re.Pattern[str], ...]:
    """The patterns the signal pass merges, leftmost match first: the master, then one per common opening.

    One pattern for every opening makes the engine test each character against a set
    (~3 ns a character, plus a false start at every opening it holds); a pattern with
    one opening character is scanned for that character alone (~0.3 ns).  So the
    commonest openings (letters of base64 and prose: ``b``, ``u``, ``g``) each get a
    pass of their own, and the rest share the master.  A pass costs about as much as the
    false starts it saves the master from the next commonest opening on, so three.
    Openings differ, so two patterns never match at the same place, and the merge finds
    what one pattern would.
    """
    by_first: dict[str, list[str]] = {}
    for name, (first, rest) in alternatives.items():
        by_first.setdefault(first, []).append(f"{rest}(?P<{name}>)")
    order = sorted(by_first, key=lambda c: (-rank(c), c))  # the commonest first
    own, shared = order[:_OWN_PASSES], order[_OWN_PASSES:]

    def compiled(openings: list[str]) -> re.Pattern[str]:
        return re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(by_first[first])})" for first in openings))

    return (compiled(shared), *(compiled([first]) for first in own)) if shared else tuple(compiled([f]) for f in own)


#: Key names at least this long are filtered on their last this-many characters (see :func:`_key_end`).
_LONG_KEY: Final = 5


def _key_end(key_names: Iterable[str]) -> re.Pattern[str]:
    """Ends of JSON keys that can name a secret (written once, twice or three times escaped).

    Python then checks the whole key.  The pattern opens on the literal ``":``: every key
    in the text stops it, so each is first filtered by the characters its last few may be
    (one class per position), then told by its ending.  Short names and long ones are
    filtered apart: the long ones on five characters, which lets few of CC's own keys
    through (``created_at`` passes a two-character filter).
    """
    names = [name for name in key_names if name]
    groups = [
        group
        for group in ([n for n in names if len(n) < _LONG_KEY], [n for n in names if len(n) >= _LONG_KEY])
        if group
    ]

    def chars(group: list[str], index: int) -> str:
        found = {c for name in group for c in (name[index].lower(), name[index].upper())}
        return "[" + re.escape("".join(sorted(found))) + "]"

    levels = ('":', '\\":', '\\\\\\":')
    alternatives = []
    for quote in levels:
        for group in groups:
            width = min(_LONG_KEY, *(len(name) for name in group))
            last = "".join(chars(group, -index) for index in range(width, 0, -1))
            alternatives.append(f"(?<={last}{re.escape(quote)}){_endings(group, quote)}")
    return re.compile('":(?:' + "|".join(alternatives) + ")") if alternatives else re.compile("(?!)")


def _after(alternatives: dict[str, tuple[str, str]]) -> dict[str, re.Pattern[str] | None]:
    """Per alternative, the credential formats after it that share its opening (tried at the same place).

    A format anchored on '=' must not hide behind the parameter signal.  Other signals
    keep first-wins: "!!binary" is no other tag.
    """
    after: dict[str, re.Pattern[str] | None] = {}
    by_first: dict[str, list[str]] = {}
    for name, (first, _) in alternatives.items():
        by_first.setdefault(first, []).append(name)
    for first, names in by_first.items():
        for at, name in enumerate(names):
            later = [n for n in names[at + 1 :] if n.startswith("format_")]
            rests = "|".join(f"{alternatives[n][1]}(?P<{n}>)" for n in later)
            after[name] = re.compile(f"{re.escape(first)}(?:{rests})") if later else None
    return after


class Patterns:
    """The signal pass's patterns for one rule table (built once per table: see :func:`patterns_for`)."""

    def __init__(self, table: RuleTable) -> None:
        self.table = table
        signals = _signal_alternatives(table.param_triggers)
        formats, self.formats = _format_alternatives(table)
        #: alternative name -> (opening literal, the rest of its pattern)
        self.alternatives = alternatives = {**signals, **formats}
        #: mode -> the alternatives that run in it
        self.allowed = _modes(alternatives)
        #: mode -> the patterns the signal pass merges (see :func:`_streams`)
        self.streams = {
            mode: _streams({n: a for n, a in alternatives.items() if n in names})
            for mode, names in self.allowed.items()
        }
        self.key_end = _key_end(table.key_triggers)
        # Header keys where vcrpy writes them: a key, then its values as list items at the
        # same indent.  Every header name is found (a literal prefix keeps this at memory
        # speed); the table, memoised per name, says which ones a rule owns.
        self.yaml_headers = {
            indent: re.compile("\n" + " " * (indent + 6) + f"({HEADER_NAME}):(?=\\r?\\n" + " " * (indent + 6) + "- )")
            for indent in (0, 2)
        }
        self.json_headers = re.compile("\n" + " " * 20 + f"({JSON_STRING})" + r": \[")
        # Alternatives sharing an opening: when one matches, the credential formats after it
        # are tried at the same place too.
        self.after = _after(alternatives)
        self._within_token_run: dict[str, tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]] = {}
        #: How far past a token run a signal opening inside it reads: a credential format's
        #: anchor, or a short lookahead.  The one unbounded reach, a scheme's gap before
        #: its credential, follows a scheme word that ends the run (see :data:`SCHEME_ENDS_RUN`).
        #: The longest anchor of any format: where a format's alternative opens, from its match's start.
        self.anchor_length = max((len(anchor) for fmt in table.formats for anchor in fmt.anchors), default=0)
        self.token_run_reach = 64 + self.anchor_length
        self._table = table
        self.format_rules = frozenset(fmt.rule for fmt in table.formats)
        #: The rules whose hits are credential keys (rules.keep_spans): the formats and the project's patterns.
        self.key_rules = self.format_rules | {"pattern"}

    @functools.cached_property
    def named_formats(self) -> tuple[tuple[re.Pattern[str], int], ...]:
        """The formats whose secret follows a name (``aws…key='<secret>'``), with how far a match reaches.

        A name at the end of a token's run is still read when the secret after it is
        outside the run.  Built on first use (it compiles those formats).
        """
        return tuple((fmt.pattern, fmt.reach[1]) for fmt in self._table.formats if fmt.pattern.groups)

    @functools.cached_property
    def named_reach(self) -> int:
        """How far before a token's end a named format's anchor may stand and its secret still follow."""
        return max((reach for _, reach in self.named_formats), default=0)

    @functools.cached_property
    def named_anchors(self) -> tuple[str, ...]:
        """The anchors of :attr:`named_formats`, lowered: a token's run holding none of them holds no such name."""
        return tuple(anchor.lower() for fmt in self._table.formats if fmt.pattern.groups for anchor in fmt.anchors)

    def within_token_run(self, mode: str) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
        """What is read inside a run the ``jwt`` alternative consumed: every other signal.

        The ``jwt`` alternative takes a whole run of token characters at once (so ``eyJeyJ…``
        costs one pass), which would hide what the sanitizer still finds in it: a credential
        format whose anchor follows an ``eyJ`` (``sk-proj-…eyJ…T3BlbkFJ…``).  Base64
        signals are left out: the ``jwt`` handler decodes the run itself.  Returns one
        pattern that finds whether any of them is there (a JWT seldom holds one; see
        :attr:`token_run_reach`) and the streams that read them as the pass does.  Built
        on first use.
        """
        built = self._within_token_run.get(mode)
        if built is None:
            inner = {
                name: alternative
                for name, alternative in self.alternatives.items()
                if name in self.allowed[mode] and name != "jwt" and not name.startswith("base64_")
            }
            anywhere = "|".join(f"{re.escape(first)}(?:{rest})" for first, rest in inner.values()) or "(?!)"
            built = self._within_token_run[mode] = (re.compile(anywhere), _streams(inner) if inner else ())
        return built


@functools.lru_cache(maxsize=16)
def patterns_for(table: RuleTable) -> Patterns:
    """The patterns for *table*, built once."""
    return Patterns(table)
