"""The signal pass: one file's raw text read at the speed of compiled regular expressions.

The master pattern of :mod:`cfreplay.hygiene._patterns` stops at every signal; a handler
per signal settles it with the table's own functions (or the sanitizer's walker, for a
header value) and records a *hit*: the rule, the value and where it stands.  Encoded
text (escapes, URL encoding, base64 holding a token, ``!!binary`` bodies) is decoded
into a *view* and read the same way.  What raw text cannot settle — an env map, a
credentials object, YAML anchors and tags — marks its interaction (or the file) *unsure*,
for the exact engine (a scalar folded with ``\\`` fails the layout check, with the same
result).  Turning hits into findings is the scanner's.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import urllib.parse
from collections.abc import Callable
from typing import Final, NamedTuple

from cfreplay.cf import tokens
from cfreplay.errors import BodyTooLarge, CassetteError
from cfreplay.hygiene import bodies, detectors, redaction, rules
from cfreplay.hygiene._exact import dry_walker
from cfreplay.hygiene._layout import (
    LEVELS,
    STRUCTURE_LINE,
    Format,
    in_docker_credentials,
    json_string,
    json_values,
    object_follows,
    readings,
    redacted_object,
    string_value,
    yaml_items,
)
from cfreplay.hygiene._patterns import PLAIN_RULES, SCHEME_ENDS_RUN, patterns_for
from cfreplay.hygiene._walker import Walker
from cfreplay.hygiene.rules import RuleTable, SpanKind, keep_spans

__all__ = ["SignalPass"]

#: Decoded views nest (a gzip body holding a JSON-escaped line…); this bounds the work.
_MAX_DEPTH: Final = 3
#: Base64 runs are decoded up to this length.
_MAX_BLOB: Final = 1024 * 1024

#: A sighting: (file offset for the line, rule, secret, location suffix, view id, start and end in the
#: view, whether a name handler settled it (it then owns its value's span)).
_Hit = tuple[int, str, str, str, int, int, int, bool]


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


class SignalPass:
    """One file's signal pass: hits from the file and its decoded views, and what it could not settle."""

    def __init__(self, text: str, path: str, fmt: Format, *, cassette: bool, table: RuleTable) -> None:
        self.text = text
        self.path = path
        self.fmt: Format = fmt
        self.cassette = cassette
        self.table = table
        self.patterns = patterns_for(table)
        self.hits: list[_Hit] = []
        self.covered: dict[int, list[tuple[int, int]]] = {}
        #: Per view, the covered spans that are a parameter's value (the rest of their text is read on).
        self.pair_values: dict[int, list[tuple[int, int]]] = {}
        self.dangerous = False
        self.uncertain: set[int | None] = set()  # interactions to read exactly (None: the whole file)
        self.base64_decoded: dict[str, str | None] = {}
        #: Per view, where the last base64 run read ends.
        self.run_ends: dict[int, int] = {}
        self.public_jwts: dict[str, bool] = {}
        #: Per view, where the last credential after a scheme ends.
        self.credential_ends: dict[int, int] = {}
        #: (view, stream) -> the search the parts of that view share (see _signals).
        self.part_searches: dict[tuple[int, int], detectors.RememberedSearch] = {}
        self.starts: list[int] = []
        self.indent = 0
        self.decoded_lines: set[tuple[int, str]] = set()
        #: Lines read decoded (escapes): (first and last view, parent view, line span, interaction).
        self.escaped_lines: list[tuple[int, int, int, int, int, int | None]] = []
        self.views = 0
        #: Per view, where the next PuTTY marker is (see _param).
        self.putty: dict[int, detectors.RememberedSearch] = {}
        self._walker: Walker | None = None
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
    def walker(self) -> Walker:
        """The sanitizer's own walker, replacing nothing: what it would note is what the scan finds."""
        if self._walker is None:
            self._walker = dry_walker(self.table)
        return self._walker

    def run(self) -> None:
        """Read the whole text (and every view decoded from it) once."""
        self._scan(self._new_view(self.text, None, "", 0, "cassette" if self.cassette else "plain"))
        if self.escaped_lines and self.hits:
            self._settle_escaped_lines()

    def _settle_escaped_lines(self) -> None:
        """A line read decoded that found something where the line as written did too: read exactly.

        The sanitizer cleans a text as written before it reads its escapes, and reports what
        the decoded text still holds: a key taken as written may leave nothing of a
        credential found decoded (``bearer  \\u0065gldt-…``: the key goes, ``e`` and a
        placeholder are no credential).  Which one a finding is, only the sanitizer's own
        order answers; such lines are few, and only in a file that is not clean anyway.
        """
        by_view: dict[int, list[tuple[int, int, str, str]]] = {}
        for hit in self.hits:
            by_view.setdefault(hit[4], []).append((hit[5], hit[6], hit[1], hit[2]))
        for found in by_view.values():
            found.sort()
        for first, last, parent, low, high, interaction in self.escaped_lines:
            if interaction in self.uncertain:
                continue
            decoded = {
                (rule, value) for ident in range(first, last + 1) for _, _, rule, value in by_view.get(ident, ())
            }
            if not decoded:
                continue
            # Hits on the line as written, or running on into it (a token before a folded scheme).
            written = by_view.get(parent, [])
            nearest = bisect.bisect_left(written, (low - _LINE_REACH,))
            beside = {
                (rule, value)
                for _, end, rule, value in written[nearest : bisect.bisect_left(written, (high,))]
                if end > low
            }
            if beside and not decoded <= beside:  # one secret seen both ways (a form with %40) is settled
                self.uncertain.add(interaction)

    # ----------------------------------------------------------------- driving

    def _new_view(
        self, text: str, anchor: int | None, suffix: str, depth: int, mode: str, *, body: bool = False
    ) -> _View:
        self.views += 1
        return _View(text, anchor, suffix, depth, mode, self.views, body)

    def _scan(self, view: _View) -> None:
        """Every signal in one view, then what needs a pass of its own."""
        saved = self.decoded_lines
        self.decoded_lines = set()
        if view.cassette and view.anchor is None:
            self._file_headers(view)
        self._signals(view)
        if view.mode != "plain" and "--" in view.text:
            self._flags(view)
        if view.cassette:
            self._keys(view)
        self._project_patterns(view)
        self.decoded_lines = saved

    def _file_headers(self, view: _View) -> None:
        """Headers first: the values they settle need no second look from the signal pass."""
        if self.fmt == "yaml":
            text = view.text
            first = text.find("- request:")
            self.indent = 2 if first >= 2 and text.startswith("  - request:", first - 2) else 0
        self._headers(view)

    def _signals(
        self,
        view: _View,
        patterns: tuple[re.Pattern[str], ...] | None = None,
        begin: int = 0,
        end: int | None = None,
        *,
        skip: list[tuple[int, int]] | None = None,
    ) -> int:
        """Every signal, leftmost first, each handed to its handler (which says where to go on from).

        The patterns' streams are merged as one pattern would find them: each stream's next
        match is kept while it lies ahead of where the pass stands (a search from there
        would find it again), and the leftmost of them is handled.  A part of the view
        (*begin* to *end*, other *patterns*) is read the same way; signals that open
        inside a *skip* span are passed over.  Returns how far the handlers read.
        """
        text = view.text
        handlers = self.handlers
        streams_read = self.patterns.streams[view.mode] if patterns is None else patterns
        searches: list[Callable[[str, int], re.Match[str] | None]] = [pattern.search for pattern in streams_read]
        beyond = len(text) + 1  # where a stream with nothing more to find stands
        stop = beyond if end is None else end
        if end is not None:
            # A search that finds nothing crosses the rest of the view: once per part would be
            # quadratic ("eyJ….eyJ….eyJ…" is all parts), so the parts of a view share theirs.
            searches = [self._part_search(view, index, pattern).search for index, pattern in enumerate(streams_read)]
        ahead = [search(text, begin) for search in searches]
        starts = [beyond if found is None else found.start() for found in ahead]
        after = self.patterns.after
        allowed = self.patterns.allowed[view.mode]
        streams = range(len(searches))
        reached = begin
        while (first := min(starts, default=beyond)) < stop:
            match = ahead[starts.index(first)]
            assert match is not None
            if skip and any(low <= first < high for low, high in skip):
                pos = match.end()
            else:
                pos = handlers[match.lastgroup](view, match)  # type: ignore[index]
                following = after[match.lastgroup]  # type: ignore[index]
                while following is not None and (again := following.match(text, match.start())) is not None:
                    if again.lastgroup in allowed:
                        pos = max(pos, handlers[again.lastgroup](view, again))
                    following = after[again.lastgroup]  # type: ignore[index]
            reached = max(reached, pos)
            for index in streams:
                if starts[index] < pos:
                    found = ahead[index] = searches[index](text, pos)
                    starts[index] = beyond if found is None else found.start()
        return reached

    def _part_search(self, view: _View, index: int, pattern: re.Pattern[str]) -> detectors.RememberedSearch:
        """The search of the *index*-th stream that reads the parts of *view*."""
        key = (view.ident, index)
        remembered = self.part_searches.get(key)
        if remembered is None:
            remembered = self.part_searches[key] = detectors.RememberedSearch(pattern)
        return remembered

    def _flags(self, view: _View) -> None:
        """``--password value`` (the ``--name=value`` form is a parameter signal).

        A pass of its own: '-' is the commonest opening there could be.
        """
        text = view.text
        for flag in _FLAG.finditer(text):
            if flag.start() == 0 or text[flag.start() - 1] not in _FLAG_BOUNDARY:
                self._command_line(view, flag.start())

    def _keys(self, view: _View) -> None:
        """JSON keys that may name a secret.

        (A YAML scalar folded with a backslash, which the signal pass cannot read, fails the
        layout check: the parser reads its interaction.)
        """
        settled = 0  # keys before this are inside a value already settled
        for match in self.patterns.key_end.finditer(view.text):
            if match.start() >= settled:
                settled = self._key(view, match)

    def _project_patterns(self, view: _View) -> None:
        """The project's own patterns (``[tool.cfreplay.sanitize] patterns``), over the whole view."""
        text = view.text
        for fmt in self.table.patterns:
            for hit in fmt.hits(text):
                value = text[hit.start : hit.end]
                if value and not redaction.is_redacted(value):
                    self._hit(view, hit.start, "pattern", value, hit.end)

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
    ) -> int | None:
        """Scan *text*, decoded from *parent* at *offset*; the new view's ident (its descendants' follow it)."""
        if parent.depth >= _MAX_DEPTH:
            return None
        anchor = offset if parent.anchor is None else parent.anchor
        chosen = mode if mode is not None and parent.mode != "plain" else parent.mode
        view = self._new_view(text, anchor, parent.suffix or suffix, parent.depth + 1, chosen, body=body)
        self._scan(view)
        return view.ident

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
            known = self.public_jwts[token] = redaction.is_public_jwt(detectors.unescape_slashes(token))
        return known

    # ----------------------------------------------------------------- value rules

    def _covered(self, view: _View, offset: int) -> bool:
        """Whether a name handler settled the value at *offset* already (its spans come in order)."""
        return self._cover_end(view, offset) is not None

    def _cover_end(self, view: _View, offset: int, *, pairs: bool = False) -> int | None:
        """Where the value a name handler settled at *offset* ends (None when none covers it).

        *pairs*: only a parameter's value counts.
        """
        covers = (self.pair_values if pairs else self.covered).get(view.ident)
        if not covers:
            return None
        at = bisect.bisect_right(covers, (offset, _END)) - 1
        return covers[at][1] if at >= 0 and offset < covers[at][1] else None

    def _jwt(self, view: _View, match: re.Match[str]) -> int:
        start = match.start() - 2
        text = view.text
        begin, end = match.start() + 1, match.end()
        ends_in_scheme = text[end - 1] in "rRcC" and SCHEME_ENDS_RUN.search(text, max(0, end - 6), end) is not None
        if self._covered(view, start):
            # A value a name rule settled.  A scheme that ends it reads on past it
            # (access_token=eyJ…Bearer <credential>), as the sanitizer reads schemes first; a
            # key whose name is inside it (token=eyJ…aws_secret_access_key='<key>') stays
            # the sanitizer's too, which reads formats in the text as it was.  What opens
            # and ends inside the value goes with it (resolved() drops it).
            # (A header's or a JSON key's value is read by the sanitizer's own function, or
            # replaced whole: nothing in it is the signal pass's.)
            # A parameter's value is read by the sanitizer's text rules, tokens first: a token
            # inside it (token=J<token>) is replaced, and reported, before the pair is.
            in_pair = self._cover_end(view, start, pairs=True) is not None
            if in_pair:
                self._tokens_in(view, start, end, owner=True)
            anywhere, inner = self.patterns.within_token_run(view.mode)
            if ends_in_scheme or (in_pair and self._opens_in_run(anywhere, text, begin, end)):
                return max(end, self._signals(view, inner, begin, end))
            return end
        tokens, replaced = self._tokens_in(view, start, end)
        if view.mode != "binary" and len(match.group()) >= 22:
            # Base64 of '{"' opens on eyJ too: a run the alternative consumed may wrap a token.
            run = text[start : match.end()]
            if any(signature in run for signature in detectors.SIGNATURES):
                self._decode_run(view, start)
        # The rest of the run is text like any other (a key whose anchor follows an eyJ);
        # a token's own characters are no key (a published one is kept as it is).
        anywhere, inner = self.patterns.within_token_run(view.mode)
        if ends_in_scheme:
            return max(end, self._signals(view, inner, begin, end, skip=replaced))
        named = self._keys_named_in_tokens(view, inner, tokens)
        if len(tokens) == 1 and tokens[0] == (start, end):
            return max(end, named)  # the run is one token: nothing else to read (most runs)
        if not self._opens_in_run(anywhere, text, begin, end):
            return max(end, named)  # nothing else opens in the run
        return max(end, named, self._signals(view, inner, begin, end, skip=tokens))

    def _tokens_in(
        self, view: _View, start: int, end: int, *, owner: bool = False
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The tokens opening in *start*..*end* (read in the text itself: one may run past *end*), each a hit
        unless published: (every token, those the sanitizer replaces)."""
        tokens: list[tuple[int, int]] = []  # replaced or kept (published): no key is read inside one
        replaced: list[tuple[int, int]] = []  # what the sanitizer replaces before it reads anything else
        # The text itself, not the run cut out of it: a token ends where a private key's marker
        # opens, and the marker reaches past the run.
        for token_start, token_end, kind in detectors.iter_tokens(view.text, start, end):
            span = (token_start, token_end)
            tokens.append(span)
            token = view.text[span[0] : span[1]]
            if kind == "jwe" or not self._public(token):
                self._hit(view, span[0], kind, token, owner=owner)
                replaced.append(span)
        return tokens, replaced

    def _keys_named_in_tokens(
        self, view: _View, inner: tuple[re.Pattern[str], ...], tokens: list[tuple[int, int]]
    ) -> int:
        """Keys whose name ends a token's run and whose secret follows it (``eyJ…aws_secret_access_key='…'``).

        No key opens inside a token, and the sanitizer reads that where the key's secret
        starts: a name inside the run (all token characters) does not hide the secret after
        it.  Each named format is tried around each token's end (a short window); where it
        matches with its secret outside, its anchor is read as the pass reads it.
        """
        text, reached = view.text, 0
        anchors = self.patterns.named_anchors
        for low, high in tokens:
            lowered = text[max(low, high - self.patterns.named_reach) : high].lower()
            if not any(anchor in lowered for anchor in anchors):
                continue  # no name here (nearly every token)
            for pattern, reach in self.patterns.named_formats:
                found = pattern.search(text, max(low, high - reach), min(len(text), high + reach + 64))
                if found is None or found.start() >= high or found.start(1) < high:
                    continue
                before = len(self.hits)
                # The format's own alternative opens on its anchor, a few characters in.
                opening = found.start() + self.patterns.anchor_length
                reached = max(reached, self._signals(view, inner, found.start(), opening))
                self.hits[before:] = [
                    hit
                    for hit in self.hits[before:]
                    if hit[1] in self.patterns.format_rules and not any(a <= hit[5] < b for a, b in tokens)
                ]
        return reached

    def _opens_in_run(self, anywhere: re.Pattern[str], text: str, begin: int, end: int) -> bool:
        """Whether any signal other than a token opens inside the run *begin*..*end* (a cheap filter)."""
        first = anywhere.search(text, begin, min(len(text), end + self.patterns.token_run_reach))
        return first is not None and first.start() < end

    def _bearer(self, view: _View, match: re.Match[str]) -> int:
        return self._credential(view, match, basic=False)

    def _basic(self, view: _View, match: re.Match[str]) -> int:
        return self._credential(view, match, basic=True)

    def _credential(self, view: _View, match: re.Match[str], *, basic: bool) -> int:
        cover_end = self._cover_end(view, match.start())
        if cover_end is not None and cover_end > match.end():
            # A header value the sanitizer's own function has read, or a parameter's value.
            # Only a scheme that ends a value (token=…bearer: values stop at whitespace)
            # still opens what follows it: the sanitizer reads schemes before parameters.
            return match.end()
        if cover_end is None and match.start() < self.credential_ends.get(view.ident, -1):
            return match.end()  # a scheme word inside a credential (…Bearer glued): the sanitizer passes it too
        found = detectors.auth_credential(view.text, match.end(), basic)
        if found is None:
            return match.end()
        start, end, credential = found
        self.credential_ends[view.ident] = end
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
        fold = view.anchor is None and self.fmt == "yaml"  # the file itself, where YAML folds long scalars
        for fmt in formats:
            before, after = fmt.reach
            low = max(0, start - before - 8)
            high = min(len(text), start + after + 64)
            window = text[low:high]
            if fmt.block:
                if "\n" in window or "\\ " in window:
                    gaps = [gap.span() for gap in _GAP_RE.finditer(window)]
                    marker = fmt.pattern.search(_GAP_RE.sub(" ", window))
                    if marker is not None:  # the text's own positions: they decide what a marker overlaps
                        first, last = _unfolded(gaps, marker.start()), _unfolded(gaps, marker.end() - 1) + 1
                        self._hit(view, low + first, fmt.rule, marker.group(), low + last)
                else:
                    marker = fmt.pattern.search(window)
                    if marker is not None:
                        self._hit(view, low + marker.start(), fmt.rule, marker.group(), low + marker.end())
                continue
            group = 1 if fmt.pattern.groups else 0
            for reading, at in readings(window, start - low, fold=fold, levels=_MAX_DEPTH):
                replaced = rules.PLACEHOLDER_PREFIX in reading
                for found in fmt.pattern.finditer(reading):
                    if replaced and rules.touches_placeholder(reading, found.start(group), found.end(group)):
                        continue
                    if found.start() <= at < found.end() and found.start(group) < found.end(group):
                        value = found.group(group)
                        if not redaction.is_redacted(value):
                            if reading is window:
                                self._hit(view, low + found.start(group), fmt.rule, value, low + found.end(group))
                            else:  # positions in a reading are not the text's: the anchor stands for them
                                self._hit(view, start, fmt.rule, value, start + len(value))
                        return match.end()
        return match.end()

    # ----------------------------------------------------------------- name rules

    def _headers(self, view: _View) -> None:
        """Every header key a header rule owns, read where vcrpy writes headers."""
        text = view.text
        json_format = self.fmt == "json"
        if json_format:
            matches = self.patterns.json_headers.finditer(text)
        else:
            matches = self.patterns.yaml_headers[self.indent].finditer(text)
        item = " " * (self.indent + 6)
        # Per name as written: what to do with it (the same few names recur in every interaction).
        kinds: dict[str, tuple[int, str]] = {}
        for match in matches:
            raw = match.group(1)
            kind = kinds.get(raw)
            if kind is None:
                kind = kinds[raw] = self._header_kind(raw, json_format)
            what, name = kind
            if what == _SKIP:
                continue
            if what == _UNREADABLE:
                self._unsure(view, match.start())
                continue
            if what == _CONTENT_TYPE and not json_format and _plain_without_yaml(text, match.end(), item):
                continue
            if json_format:
                values = json_values(text, match.end() - 1)
            else:
                values = yaml_items(text, match.end(), self.indent + 6)
            if what == _OWNED:
                self._header(view, name, values, match.start())
            elif values is not None and any("yaml" in value.lower() for _, _, value in values):
                self._unsure(view, match.start())  # a YAML body: the exact engine reads it as YAML

    def _header_kind(self, raw: str, json_format: bool) -> tuple[int, str]:
        """What :meth:`_headers` does with a header key as written: (what, the header's name)."""
        name = raw
        if json_format:
            read = json_string(raw)
            if read is None:
                return _UNREADABLE, raw
            name = read
        if self.table.header_rule(name) is not None:
            return _OWNED, name
        return (_CONTENT_TYPE if name.lower() == "content-type" else _SKIP), name

    def _header(self, view: _View, name: str, values: list[tuple[int, int, str]] | None, at: int) -> None:
        """A header the table knows: its values go through the sanitizer's own header function."""
        if self.table.header_rule(name) is None:
            return
        if values is None:
            self._unsure(view, at)
            return
        for start, end, value in values:
            noted: list[tuple[str, str, str]] = []
            self.walker.header_value(name, value, lambda *seen, into=noted: into.append(seen), "")
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
        if start == equals or self._covered(view, start):
            # No name, or a name inside a value already settled (``&token=?access_token=…``):
            # the sanitizer replaces that value whole, the pair in it with it.
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
        putty = self.putty.get(view.ident)
        if putty is None:  # one per view: views interleave, and a search is remembered for one text
            putty = self.putty[view.ident] = detectors.RememberedSearch(detectors.PUTTY_ANCHOR)
        block = detectors.block_start(text, equals + 1, equals + 1 + len(raw), putty.search)
        if block is not None:
            raw = raw[: block - equals - 1]  # the private key glued on is the key's, as the sanitizer reads it
        plus = rule == "form-field" and lead != ";"  # as the sanitizer decodes it (a ';' pair is no form's)
        value = urllib.parse.unquote_plus(raw) if plus else urllib.parse.unquote(raw)
        if (
            value
            and not redaction.is_redacted(value)
            and detectors.token_kind(value) != "jwt"
            # Tokens go before pairs are read, from the value as written (a form's '+' is part
            # of a signature then): a key running on into a token (token=pypi-…eyJ…) goes
            # with it, and a fake fills the value; what the pass finds in it is reported.
            and not self.walker.replaced_whole_by_tokens(raw)
        ):
            self._hit(view, equals + 1, rule, value, equals + 1 + len(raw), owner=True)
            self._cover(view, equals + 1, equals + 1 + len(raw))
            self.pair_values.setdefault(view.ident, []).append((equals + 1, equals + 1 + len(raw)))
        return match.end()

    def _command_line(self, view: _View, start: int) -> None:
        text = view.text
        found = detectors.COMMAND_LINE.match(text, start)
        if found is None:
            return
        name, value, value_start, value_end, assignment = detectors.command_line_pair(found)
        if rules.PLACEHOLDER_PREFIX in name or not (
            self.table.secret_env(name) if assignment else self.table.secret_key(name)
        ):  # a name holding a placeholder was made by replacing, as the sanitizer reads it
            return
        if redaction.is_redacted(value) or rules.is_link(value) or detectors.token_kind(value) == "jwt":
            return
        self._hit(view, value_start, "command-line", value, value_end)

    def _key(self, view: _View, match: re.Match[str]) -> int:
        """A JSON key that may name a secret: its string value is settled by the table, as the sanitizer does.

        Returns where the keys still to read start: past a redacted credentials object, whose
        own keys (``"password": null``) hold nothing to settle.
        """
        found = self._key_at(view, match)
        if found is None:
            return 0
        key, opening, close, level = found
        text = view.text
        lower = key.lower()
        after = match.end()
        if (lower in rules.CREDENTIAL_OBJECT_KEYS or lower in rules.DOCKER_CREDENTIAL_KEYS) and object_follows(
            text, after
        ):
            end = redacted_object(text, after)
            if end is None:
                self._unsure(view, close)
                return 0
            return end
        if lower in self.table.env_maps:
            return 0
        value = string_value(text, after, level, self.fmt == "yaml" and view.anchor is None)
        if value is None:
            return 0
        if lower == "jti":
            self._token_id(view, opening, value)
        else:
            self._key_value(view, key, opening, close, value)
        return 0

    def _key_at(self, view: _View, match: re.Match[str]) -> tuple[str, int, int, int] | None:
        """The key whose closing quote precedes *match*: (key, its opening quote, its closing quote, escape level).

        ``None`` for no key worth reading (the exact engine is told when it cannot be read).
        """
        text = view.text
        colon = match.end() - 1
        quote_at = colon - 1
        run = 0
        while quote_at - run - 1 >= 0 and text[quote_at - run - 1] == "\\":
            run += 1
        level = LEVELS.get(run)
        if level is None:
            self._unsure(view, colon)  # JSON escaped three times over: the exact engine reads it
            return None
        quote = "\\" * run + '"'
        close = quote_at - run
        opening = text.rfind(quote, max(0, close - 200), close)
        if opening < 0:
            return None
        key = text[opening + len(quote) : close]
        if not key or "\n" in key or '"' in key or "\\" in key:
            return None
        return key, opening, close, level

    def _token_id(self, view: _View, opening: int, found: tuple[int, int, str]) -> None:
        """A ``jti``: a finding unless the sanitizer keeps it (see :meth:`_jti_kept`)."""
        start, end, value = found
        if value and not redaction.is_placeholder(value) and self._jti_kept(view.text, opening, value) is not True:
            self._hit(view, start, "token-id", value, end, owner=True)

    def _key_value(self, view: _View, key: str, opening: int, close: int, found: tuple[int, int, str]) -> None:
        """A string value under a key: secret by its key's name, or unsure when only an env map would make it one."""
        start, end, value = found
        if not value or redaction.is_redacted(value) or detectors.token_kind(value) == "jwt":
            return
        if self.table.secret_key(key):
            if rules.is_link(value):
                return
            if in_docker_credentials(view.text, opening):
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
        token = detectors.unescape_slashes(found.group(1))
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
            structure = STRUCTURE_LINE.fullmatch(text, line, match.start() - 1)
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
        if start:
            # YAML folds a long scalar at a space: a scheme may end the line before and its
            # credential open this one escaped ("…Bearer" / "\u0065…").  The sanitizer reads
            # the string whole; the decoded view opens at the scheme.
            scheme = _SCHEME_ENDS_LINE.search(text, max(0, start - 16), start)
            if scheme is not None and scheme.end() == start:
                start = scheme.start()
        if (start, suffix) in self.decoded_lines:
            return
        self.decoded_lines.add((start, suffix))
        end = text.find("\n", match.end())
        stop = end if end >= 0 else len(text)
        line = text[start:stop]
        decoded = decode(line)
        if decoded != line:
            ident = self._view(view, decoded, match.start(), suffix)
            if ident is not None and view.cassette:
                interaction = self._interaction_at(view, match.start())
                self.escaped_lines.append((ident, self.views, view.ident, start, stop, interaction))

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
            # Not base64 as it stands (cut short, or mangled): the parser decides, and a
            # cassette it cannot load is reported incomplete rather than clean.
            self._unsure(view, match.start())
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
        values = yaml_items(text, found.end(), len(found.group(1)))
        if not values:
            return None
        return bodies.content_encoding({"Content-Encoding": [values[0][2]]})

    # ----------------------------------------------------------------- hits

    def resolved(self) -> list[_Hit]:
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
        key_rules = self.patterns.key_rules
        kept: list[_Hit] = []
        for ident, hits in by_view.items():
            covers = sorted(self.covered.get(ident, []))
            cover_starts = [a for a, _ in covers]
            chosen = [hit for hit in hits if hit[7]]
            signals = []
            for hit in sorted((hit for hit in hits if not hit[7]), key=lambda h: (priority(h[1]), h[5])):
                at = bisect.bisect_right(cover_starts, hit[5]) - 1
                if at < 0 or hit[5] >= covers[at][1]:  # else a name rule owns this span
                    signals.append(hit)
            flags = keep_spans((hit[5], hit[6], _span_kind(hit[1], key_rules)) for hit in signals)
            chosen += [hit for hit, keep in zip(signals, flags, strict=True) if keep]
            kept.extend(chosen)
        return kept


def _span_kind(rule: str, key_rules: frozenset[str]) -> SpanKind:
    if rule == "private-key":
        return "block"  # the pass hits a block at its marker, as the table's resolve() hands it over
    if rule in key_rules:
        return "key"
    if rule in ("jwt", "jwe"):
        return "token"
    return "credential" if rule == "authorization" else "other"


# --------------------------------------------------------------------------- what the handlers read

#: A scheme word that ends a line (a trailing backslash escapes the break in a double-quoted scalar).
_SCHEME_ENDS_LINE: Final = re.compile(r"(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]*\\?\r?\n")
#: Whitespace as YAML may write it between two words of a scalar (see :data:`detectors.GAP`).
_GAP_RE: Final = re.compile(detectors.GAP)
#: How far before a line a hit running on into it may start (a token, a key: a few KB at most).
_LINE_REACH: Final = 16384
#: Past every offset: ``(offset, _END)`` sorts after every span that starts at *offset*.
_END: Final = 1 << 62


def _unfolded(gaps: list[tuple[int, int]], index: int) -> int:
    """Where *index* of a text whose *gaps* were each folded to one space stands in the text itself."""
    shift = 0
    for start, end in gaps:
        if index < start - shift:
            break
        if index == start - shift:
            return start
        shift += end - start - 1
    return index + shift


def _path_start(text: str, match: re.Match[str]) -> int:
    """Where the path rule's own pattern starts, for a match of ``…revoke/`` or ``…odes/``."""
    return match.end() - (len("/oauth/token/revoke/") if match.lastgroup == "path_revoke" else len("/Codes/"))


_ACCESS_TOKEN: Final = re.compile(r'access_token\\*"\s*:\s*\\*"(eyJ[A-Za-z0-9_\-+/=.\\]+?)\\*"')
_PARAM_VALUE: Final = re.compile(r"""[^&#;\s"'\\<>]*""")
_FLAG: Final = re.compile(r"--(?=[A-Za-z][\w-]{0,128}[ \t])")
#: What the header pass does with a header key (see ``SignalPass._header_kind``).
_SKIP, _OWNED, _CONTENT_TYPE, _UNREADABLE = range(4)


def _plain_without_yaml(text: str, key_end: int, item: str) -> bool:
    """Whether the header whose key ends at *key_end* has one value, on one line, that cannot say YAML.

    vcrpy's usual ``Content-Type`` (one item, one line): without "yaml" and without a
    backslash (an escape could spell it) it needs no reading.  Anything else (a CR,
    several items, a value folded onto more lines) is read whole.
    """
    if text[key_end] != "\n":
        return False
    line_start = key_end + 1
    line_end = text.find("\n", line_start)
    if line_end < 0:
        return False
    # The value ends with its line when the next is the next header key (at the item's
    # indent, no "- "), or less indented: a section, the response, the next interaction.
    head = text[line_end + 1 : line_end + 2 + len(item)]
    indent = len(head) - len(head.lstrip(" "))
    after = head[indent : indent + 1]
    if not after or after in "-#\r\n\t" or indent > len(item):
        return False
    line = text[line_start:line_end]
    return "\\" not in line and "\r" not in line and "yaml" not in line.lower()


#: Characters that, before "--", make it no command-line flag (COMMAND_LINE's lookbehind).
_FLAG_BOUNDARY: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/&?#;=%:[]")
_FORM_START: Final = re.compile(r"""(?:body|string)\\?"?:[ \t]*\\?["']?\Z""")
_BASE64_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/_-]*=*")
_BINARY_BLOCK: Final = re.compile(r"[ \t]*[|>][-+0-9]*[ \t]*\r?\n((?:[ \t]+[A-Za-z0-9+/=]+[ \t]*\r?(?:\n|\Z))+)")
_BINARY_INLINE: Final = re.compile(r"""[ \t]+["']?([A-Za-z0-9+/=\s]+)""")
_CONTENT_ENCODING: Final = re.compile(r"\n( *)(?i:content-encoding):[ \t]*(?=\r?\n)")
