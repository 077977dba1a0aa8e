"""The walk: the rule table applied to cassette data, value by value.

:class:`Walker` visits what an interaction holds — the URI, every header value, the
bodies (decoded from any ``Content-Encoding``, read as JSON, YAML, a form or text),
the status and any key vcrpy does not know — and replaces each secret the table's
rules find, reporting each replacement through a :data:`Note`.  The sanitizer's entry
points drive it; the scanner runs the same walker, replacing nothing, wherever raw text
cannot settle a question, so both read every value through the same functions.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from cfreplay.cf import censorship
from cfreplay.hygiene import bodies, detectors, redaction, rules
from cfreplay.hygiene._json_layout import Pairs, json_like, pairs_hook
from cfreplay.hygiene._literals import literal_finder
from cfreplay.hygiene.rules import RuleTable

__all__ = ["MAX_DEPTH", "Note", "TooDeep", "Walker"]

#: JSON nested deeper than this is refused: CC's documents are a dozen levels deep at
#: most, and a walk must not run out of stack on a hostile body.
MAX_DEPTH: Final = 200

#: (location, rule, the secret) -> None.  The secret only ever becomes a mask.
Note = Callable[[str, str, str], None]


def _unnoted(_location: str, _rule: str, _secret: str) -> None:
    return None


class TooDeep(Exception):
    """JSON nested deeper than :data:`MAX_DEPTH` (or than the parser or the stack allow)."""


#: Strings up to this long have their worth_a_look answer remembered.
_SHORT: Final = 48
#: Characters JSON may write as a two-character escape.
_ESCAPABLE: Final = frozenset('"\\/\b\f\n\r\t')
#: Lower-case literals, one of which any text a value rule could change holds (besides the
#: credential formats' anchors, the name rules' words and project patterns, which the table
#: adds).  Escapes are here too: a secret may hide behind one.
_TRIGGERS: Final = (
    "eyj", "bearer", "basic", "@", "=", "--", "/revoke/", "/codes/", "\\", "%",
)  # fmt: skip
_TO_URLSAFE: Final = str.maketrans("+/", "-_")
#: JSON scalars no rule looks at (exact types: a str subclass is still text).
_SCALARS: Final = frozenset({int, float, bool})
#: Whether a text holds base64 that may wrap a token (case matters: base64 is not lowered).
_ANY_SIGNATURE: Final = literal_finder(detectors.SIGNATURES)
_FORM_START: Final = re.compile(r"[A-Za-z0-9_.%:\[\]-]+=")
#: How many times text is decoded again (an escape inside an escape…), as the scanner's views nest.
_MAX_DECODINGS: Final = 3
#: The keys of each side vcrpy writes; any other key is data too (Ruby VCR's recorded_at…).
_KNOWN_KEYS: Final = {"request": ("uri", "headers", "body", "method"), "response": ("headers", "body", "status")}


@functools.lru_cache(maxsize=16)
def _fewest_triggers(extra: frozenset[str]) -> tuple[str, ...]:
    # Quadratic in the number of literals (~0.7 ms): once per rule table, not once per walker
    # (every scan and every cassette builds one).
    return rules.fewest_literals({*_TRIGGERS, *extra})


class Walker:
    """Applies the table's rules to cassette data; reports each change through a Note."""

    def __init__(self, table: RuleTable, redactor: redaction.Redactor) -> None:
        self.table = table
        self.redact = redactor
        self.triggers = _fewest_triggers(frozenset((*table.anchors, *table.name_triggers)))
        self._any_trigger = literal_finder(self.triggers)
        #: Triggers a JSON string may hold though its document's text does not (written escaped there).
        self._escaped_trigger = literal_finder(tuple(w for w in self.triggers if _ESCAPABLE.intersection(w)))
        #: The triggers worth testing now: inside a JSON document with no escapes that holds
        #: none, only those JSON writes escaped (each string of it is a piece of that text).
        self.present = self._any_trigger
        self._short: dict[str, bool] = {}
        self.always = bool(table.patterns)  # project patterns can match anything
        self.v3_env = False
        # Header values repeat across a session (one bearer token for hundreds of requests):
        # (name, value) -> (result, what it noted), replayed on a hit so reports still count each.
        self._headers: dict[tuple[str, str], tuple[str, tuple[tuple[str, str], ...]]] = {}

    # ----------------------------------------------------------------- interactions

    def interaction(self, interaction: dict[str, Any], note: Note) -> None:
        """Every value of one vcrpy interaction, in place: URI, headers, bodies, status, other keys."""
        request, response = interaction["request"], interaction["response"]
        uri = request["uri"]
        request["uri"] = self.text(uri, note, "request.uri")
        sides = (("request", request), ("response", response))
        for side, data in sides:
            self._headers_of(side, data, note)
        self._bodies(request, response, note, uri)
        self._status(response, note)
        for side, data in sides:
            self._body_extras(side, data, note)
        self._unknown_keys(interaction, sides, note)

    def _headers_of(self, side: str, data: dict[str, Any], note: Note) -> None:
        headers: dict[str, list[str]] = data.get("headers") or {}
        for name, values in headers.items():
            headers[name] = [self.header(name, value, note, f"{side}.headers.{name}") for value in values]

    def _bodies(self, request: dict[str, Any], response: dict[str, Any], note: Note, uri: str) -> None:
        """The request's body, then the response's ``body.string``: replaced only when something changed."""
        body = request.get("body")
        if body:
            cleaned = self.body(body, request.get("headers") or {}, note, "request.body", uri)
            if cleaned is not body:
                request["body"] = cleaned
        container = response.get("body")
        if isinstance(container, dict) and container.get("string"):
            cleaned = self.body(container["string"], response.get("headers") or {}, note, "response.body", uri)
            if cleaned is not container["string"]:
                container["string"] = cleaned

    def _status(self, response: dict[str, Any], note: Note) -> None:
        """The status line's words (``message``…), read like JSON; the code is a number."""
        status = response.get("status")
        if isinstance(status, dict):
            for key in [k for k in status if k != "code"]:
                status[key] = self.json(status[key], note, "response.status", 0)

    def _body_extras(self, side: str, data: dict[str, Any], note: Note) -> None:
        holder = data.get("body")
        if isinstance(holder, dict):  # Ruby VCR's encoding, base64_string, a tool's extras
            for key in [k for k in holder if k != "string"]:
                holder[key] = self.json(holder[key], note, f"{side}.body", 0)

    def _unknown_keys(
        self, interaction: dict[str, Any], sides: tuple[tuple[str, dict[str, Any]], ...], note: Note
    ) -> None:
        """Keys vcrpy does not know (Ruby VCR's recorded_at, a client's extras) are data too."""
        for side, data in sides:
            for key in [k for k in data if k not in _KNOWN_KEYS[side]]:
                data[key] = self.json(data[key], note, f"{side}.{key}", 0)
        for key in [k for k in interaction if k not in ("request", "response")]:
            interaction[key] = self.json(interaction[key], note, str(key), 0)

    # ----------------------------------------------------------------- headers

    def header(self, name: str, value: str, note: Note, location: str) -> str:
        """A header value sanitized, the answer remembered per (name, value)."""
        key = (name.lower(), value)
        known = self._headers.get(key)
        if known is None:
            noted: list[tuple[str, str, str]] = []
            result = self.header_value(name, value, lambda *seen: noted.append(seen), location)
            if any(where != location for where, _, _ in noted):
                return self.header_value(name, value, note, location)
            if len(self._headers) >= 4096:
                self._headers.clear()
            known = self._headers[key] = (result, tuple((rule, secret) for _, rule, secret in noted))
        for rule, secret in known[1]:
            note(location, rule, secret)
        return known[0]

    def header_value(self, name: str, value: str, note: Note, location: str) -> str:
        """The header rule the table gives *name*, over one value (not remembered: see :meth:`header`)."""
        rule = self.table.header_rule(name)
        if rule == "authorization":
            return self.authorization(value, note, location)
        if rule == "cookie":
            return self.cookies(value, note, location, set_cookie=name.lower() == "set-cookie")
        if rule == "secret-header":
            return self.named(value, "secret-header", False, note, location)
        return self.text(value, note, location)

    def named(self, value: str, rule: str, passwordish: bool, note: Note, location: str) -> str:
        """A value secret by its name: a whole JWT becomes a fake (rule jwt), anything else is replaced whole."""
        if not value or redaction.is_redacted(value):
            return value
        kind = rules.token_kind(value)
        if kind == "jwt":
            note(location, "jwt", value)
            return self.redact.fake_jwt(value)
        note(location, rule, value)
        return redaction.REDACTED if passwordish else self.redact.placeholder(value)

    def authorization(self, value: str, note: Note, location: str) -> str:
        scheme, space, credential = value.strip().partition(" ")
        credential = credential.strip()
        lower = scheme.lower()
        if not space:  # a bare credential, no scheme
            return self.named(value, "authorization", False, note, location)
        if lower == "basic" and credential:
            if credential in rules.PUBLIC_BASIC_CREDENTIALS:
                return value
            decoded = _b64_text(credential)
            if decoded is not None and ":" in decoded:
                user, _, password = decoded.partition(":")
                if not password or password == redaction.REDACTED:
                    return value
                note(location, "authorization", credential)
                replaced = base64.b64encode(f"{user}:{redaction.REDACTED}".encode()).decode("ascii")
                return f"{scheme} {replaced}"
        kind = rules.token_kind(credential) if lower == "bearer" else None
        if kind == "jwe":
            return f"{scheme} {self.text(credential, note, location)}"
        return f"{scheme} {self.named(credential, 'authorization', False, note, location)}"

    def cookies(self, value: str, note: Note, location: str, *, set_cookie: bool) -> str:
        """Cookie pairs (``a=1; b=2``), or Set-Cookie's first pair per cookie (also comma-joined cookies)."""
        if set_cookie:
            out: list[str] = []
            last = 0
            for start, end in rules.set_cookie_segments(value):
                out += [value[last:start], self._first_pair(value[start:end], note, location)]
                last = end
            return "".join(out)
        parts = value.split(";")
        for index, part in enumerate(parts):
            parts[index] = self._pair(part, note, location)
        return ";".join(parts)

    def _first_pair(self, cookie: str, note: Note, location: str) -> str:
        first, semicolon, rest = cookie.partition(";")
        return self._pair(first, note, location) + semicolon + rest

    def _pair(self, pair: str, note: Note, location: str) -> str:
        name, equals, value = pair.partition("=")
        stripped = value.strip().strip('"')
        if not equals or not stripped or redaction.is_redacted(stripped):
            return pair
        if rules.token_kind(stripped) == "jwt":
            note(location, "jwt", stripped)
            return f"{name}={value.replace(stripped, self.redact.fake_jwt(stripped))}"
        note(location, "cookie", stripped)
        return f"{name}={self.redact.placeholder(stripped)}"

    # ----------------------------------------------------------------- text

    def may_change(self, header_names: Iterable[str], texts: Iterable[str]) -> bool:
        """``False`` only when no rule could change a request with these header names and texts."""
        if any(self.table.header_rule(name) for name in header_names):
            return True
        return any(self.worth_a_look(text) for text in texts)

    def worth_a_look(self, text: str) -> bool:
        """``False`` only when no value rule could change *text* (a conservative, cheap check)."""
        if self.always:
            return True
        if len(text) <= _SHORT:
            # Keys and short values recur in every body of a session: their answer is kept.
            known = self._short.get(text)
            if known is None:
                if len(self._short) >= 16384:
                    self._short.clear()
                known = self._short[text] = self._holds_trigger(text, self._any_trigger)
            return known
        return self._holds_trigger(text, self.present)

    @staticmethod
    def _holds_trigger(text: str, trigger: Callable[[str], bool]) -> bool:
        if trigger(text.lower()):
            return True
        # A base64 run is only ever decoded when it holds a signature (a JWT or "Bearer "
        # encoded, see detectors.decode_wrapped): GUIDs and long snake_case keys are runs too.
        return len(text) >= 24 and _ANY_SIGNATURE(text)

    def text(self, text: str, note: Note, location: str, *, decodings: int = 0) -> str:
        """Every value rule, in the table's order, over free text; then over its decodings."""
        if not self.worth_a_look(text):
            return text
        stripped = text.lstrip()
        if stripped[:1] in ("{", "[") and stripped.rstrip()[-1:] in ("}", "]"):
            parsed = self.json_text(text, note, location, strict=True)
            if parsed is not None:
                return parsed  # JSON held in a string: read like any JSON body
        original = text
        text = self._shape_rules(text, note, location)
        if '"' in text:
            text = self._json_pairs(text, note, location)
        text = self._formats(text, note, location, original)
        text = self._base64_runs(text, note, location, decodings)
        if decodings < _MAX_DECODINGS:
            # What hides behind an escape (\u0065yJ…, %3Fcode%3D…) is read decoded, as the
            # scanner reads it; found something, the text is kept decoded.
            for present, decode in (
                (detectors.printable_escapes, detectors.unescape),
                (detectors.percent_escapes, detectors.unquote),
            ):
                kept_decoded = False
                if present(text):
                    decoded = decode(text)
                    cleaned = self.text(decoded, note, location, decodings=decodings + 1)
                    if cleaned != decoded:
                        text, kept_decoded = cleaned, True
                if text != original and present(original):
                    current = text if kept_decoded else decode(text)
                    text = self._left_by_cleaning(original, current, decode, note, location, decodings) or text
        return text

    def _left_by_cleaning(
        self, original: str, current: str, decode: Callable[[str], str], note: Note, location: str, decodings: int
    ) -> str | None:
        """*current* without what the decoded *original* holds as a secret, or None when it holds none of it.

        The rules above read escapes after they cleaned the text; one of them may have
        taken what let a secret behind an escape be read (a key that swallowed the scheme
        before ``\u0065<credential>``).  Read decoded as it was, as the scanner reads it, a
        secret found there that the decoded text still holds goes too.
        """
        seen: list[tuple[str, str]] = []
        self.text(decode(original), lambda _where, rule, secret: seen.append((rule, secret)), location,
                  decodings=decodings + 1)  # fmt: skip
        left = current
        for rule, secret in seen:
            if len(secret) >= _MIN_LEFT and secret in left and not redaction.is_redacted(secret):
                note(location, rule, secret)
                fake = self.redact.fake_jwt(secret) if rule == "jwt" else self.redact.placeholder(secret)
                left = left.replace(secret, fake)
        return left if left != current else None

    def replaced_whole_by_tokens(self, value: str) -> bool:
        """Whether the tokens step, which runs before the pair rules read a value, leaves *value* redacted.

        A key that opens a parameter's value and runs on into a token to be replaced goes
        with it as one placeholder: the pair then has nothing left to replace.
        """
        return "eyJ" in value and redaction.is_redacted(self._tokens(value, _unnoted, ""))

    def _tokens(self, text: str, note: Note, location: str) -> str:
        if "eyJ" not in text:
            return text
        edits: list[_Edit] = []
        found = list(detectors.iter_tokens(text))
        glued = self._keys_into_tokens(text, found)
        for start, end, kind in found:
            token = text[start:end]
            keys = glued.get(start)
            if keys:
                # A key that runs on into the token goes as one with it (rules.keep_spans),
                # and so does a key running on into that key: with a fake in the token's
                # place a key would match differently, or not at all, and its first
                # characters stay.
                note(location, kind, token)
                for key in keys:
                    note(location, key.rule, text[key.start : key.end])
                first = min(key.start for key in keys)
                stop = max(end, *(key.end for key in keys))
                edits.append((first, stop, self.redact.placeholder(text[first:stop])))
                continue
            if kind == "jwt":
                replacement = self.redact.fake_jwt(token)
                if replacement == token:
                    continue
                note(location, "jwt", token)
            else:
                note(location, "jwe", token)
                replacement = self.redact.placeholder(token)
            edits.append((start, end, replacement))
        return _spliced(text, edits)

    def _keys_into_tokens(self, text: str, found: list[tuple[int, int, str]]) -> dict[int, list[rules.ValueHit]]:
        """The credential keys that open before a token to be replaced and run on into it, by the token's start.

        With each, the keys that run on into it in turn (a Slack webhook whose secret runs on
        into ``xoxb-…``, which runs on into the token): all go as one.
        """
        # Only a token to be replaced: a published one stays, and _formats reads a key run on
        # into it (with the other tokens of the text, or without them: the same answer).
        replaced = [
            start for start, end, kind in found if kind == "jwe" or not redaction.is_public_jwt(text[start:end])
        ]
        if not replaced:
            return {}  # published tokens only (a sanitized text, nearly always)
        spans = [(start, end) for start, end, _ in found]
        keys = sorted(
            (
                hit
                for hit in _outside_tokens(self.table.format_hits(text), spans)
                if not redaction.is_redacted(text[hit.start : hit.end])
            ),
            key=lambda hit: hit.start,
        )
        glued: dict[int, list[rules.ValueHit]] = {}
        for at, hit in enumerate(keys):
            for start in replaced:
                if hit.start < start < hit.end and start not in glued:
                    # Keys before it that run on into it, back to the previous token (a key
                    # across a token would be that token's): one walk back per token.
                    chain, opening = [hit], hit.start
                    previous = bisect.bisect_left(spans, (start, start)) - 1
                    floor = spans[previous][1] if previous >= 0 else 0
                    for back in range(at - 1, -1, -1):
                        before = keys[back]
                        if before.start < floor:
                            break
                        if before.start < opening < before.end:
                            chain.append(before)
                            opening = before.start
                    glued[start] = chain
                    break
        return glued

    def _auth_in_text(self, text: str, note: Note, location: str) -> str:
        if not any(word in text for word in ("earer", "EARER", "asic", "ASIC")):
            return text
        edits: list[_Edit] = []
        for scheme in detectors.SCHEMES.finditer(text):
            if edits and scheme.start() < edits[-1][1]:
                continue
            basic = scheme[0].lower() == "basic"
            found = detectors.auth_credential(text, scheme.end(), basic)
            if found is None:
                continue
            start, end, credential = found
            replaced = self.authorization(f"{scheme[0]} {credential}", note, location)
            edits.append((start, end, replaced.partition(" ")[2]))
        return _spliced(text, edits)

    def _params(self, text: str, note: Note, location: str, *, form: bool) -> str:
        """``name=value`` pairs: query parameters in any text, and the fields of a form body.

        A pair kept as it is, with a value that needs no decoding, is read on from its
        value: a value may hold the next pair (``…==?access_token=…`` at a text's start),
        as the scanner reads every ``name=``.  Any other pair is read on from its end.
        Where a value ends, and whether it holds an escape or a URL, is searched once for
        all the pairs that share the answer (``?a=?a=?a=…`` stays linear).
        """
        if "=" not in text:
            return text
        stops = detectors.RememberedSearch(detectors.PAIR_VALUE_STOP)
        putty = detectors.RememberedSearch(detectors.PUTTY_ANCHOR)
        encoded = {plus: detectors.RememberedSearch(_ENCODED_PLUS if plus else _ENCODED) for plus in (False, True)}
        edits: list[_Edit] = []
        position = 0
        while (head := detectors.PAIR_HEAD.search(text, position)) is not None:
            lead, raw_name, value_start = head["lead"], head["name"], head.end()
            if not lead and not form:  # a text's start is a form field only in a form body
                position = value_start
                continue
            stop = _start_or_end(text, stops.search(text, value_start))
            block = detectors.block_start(text, value_start, stop, putty.search)
            if block is not None:
                stop = block  # a private key glued on is the key's ("token=<a PEM key>")
            rule = "form-field" if not lead else detectors.param_rule(text, head.start("name"))
            name = urllib.parse.unquote_plus(raw_name)
            # A form writes a space as '+'; pairs led by ';' (a connection string's, a header
            # parameter's) are no form's, and their '+' is base64's: decoded, a secret pair
            # inside would end at the space and leave the rest of its value.
            plus = rule == "form-field" and lead != ";"
            secret = self.table.secret_form(name) if rule == "form-field" else self.table.secret_query(name)
            replaced: str | None = None
            if secret or _start_or_end(text, encoded[plus].search(text, value_start)) < stop:
                raw_value = text[value_start:stop]
                value = urllib.parse.unquote_plus(raw_value) if plus else urllib.parse.unquote(raw_value)
                if secret and value and not redaction.is_redacted(value) and detectors.token_kind(value) != "jwt":
                    note(location, rule, value)
                    replaced = redaction.REDACTED if self.table.passwordish(name) else self.redact.placeholder(value)
                    replaced = urllib.parse.quote(replaced, safe="")
                elif value != raw_value or "://" in value:
                    cleaned = self.text(value, note, location, decodings=_MAX_DECODINGS)
                    if cleaned != value:
                        replaced = (urllib.parse.quote_plus if plus else urllib.parse.quote)(cleaned, safe="")
                else:
                    position = value_start
                    continue
                position = stop
            else:
                position = value_start
            if replaced is not None:
                edits.append((value_start, stop, replaced))
        return _spliced(text, edits)

    def _userinfos(self, text: str, note: Note, location: str) -> str:
        if "//" not in text and "\\/" not in text:
            return text
        found: list[detectors.Userinfo] = []
        for match in detectors.SCHEME_END.finditer(text):
            info = detectors.userinfo(text, match.end())
            if info is not None and (not found or info.start >= found[-1].end):
                found.append(info)
        if not found:
            return text
        for info in found:
            note(location, "url-userinfo", info.secret)
        return _spliced(text, [(info.start, info.end, detectors.redacted_userinfo(info)) for info in found])

    def _path_token(self, match: re.Match[str], note: Note, location: str) -> str:
        token = match[1]
        if redaction.is_redacted(token) or detectors.token_kind(token) is not None:
            return match[0]
        note(location, "url-path", token)
        return match[0][: match.start(1) - match.start(0)] + self.redact.placeholder(token)

    def _command_line(self, match: re.Match[str], note: Note, location: str) -> str:
        name, value, start, end, assignment = detectors.command_line_pair(match)
        # A name holding a placeholder was made by replacing (keys glued into '--AKIA…Key='):
        # judged again, it would name a secret the first reading did not.
        secret = rules.PLACEHOLDER_PREFIX not in name and (
            self.table.secret_env(name) if assignment else self.table.secret_key(name)
        )
        if not secret or redaction.is_redacted(value) or rules.is_link(value) or detectors.token_kind(value) == "jwt":
            return match[0]
        note(location, "command-line", value)
        offset = match.start(0)
        return match[0][: start - offset] + redaction.REDACTED + match[0][end - offset :]

    def _json_pairs(self, text: str, note: Note, location: str) -> str:
        """``"key": "value"`` in text that did not parse as JSON (a truncated body, JSON inside HTML)."""
        edits: list[_Edit] = []
        for key, start, end, value in detectors.json_pairs(text):
            if not value or not self.table.secret_key(key) or redaction.is_redacted(value):
                continue
            if rules.is_link(value) or detectors.token_kind(value) == "jwt":
                continue
            note(location, "secret-key", value)
            replaced = redaction.REDACTED if self.table.passwordish(key) else self.redact.placeholder(value)
            edits.append((start, end, replaced))
        return _spliced(text, edits)

    def _formats(self, text: str, note: Note, location: str, original: str) -> str:
        """Credential formats in *text*, which the rules before them made of *original*.

        A rule before may have replaced a key's context and not the key (``Bearer
        …aws_secret_access_key=`` then ``'<secret>'``): the formats are then also read in
        *original*, and a key found there that is still in *text* goes too.  The scanner
        reads the file once, every rule at once, and finds that key.
        """
        reshaped = text is not original and text != original
        hits = self.table.format_hits(text)
        tokens = _token_spans(text) if hits else []
        hits = _outside_tokens(hits, tokens)
        if hits:
            # Hits come leftmost first; a private key's block may hold another's key, and
            # goes as one with it.  A key that runs on into a token (the fake of one
            # replaced before: gldt-…eyJ…) goes as one with the token, as rules.keep_spans
            # has it: cut at the key's end, the token's rest would read as another token.
            regions: list[list[int]] = []
            for hit in hits:
                secret = text[hit.start : hit.end]
                if redaction.is_redacted(secret):
                    continue
                note(location, hit.rule, secret)
                end = max([hit.end, *(high for low, high in tokens if low < hit.end <= high)])
                if regions and hit.start < regions[-1][1]:
                    regions[-1][1] = max(regions[-1][1], end)
                else:
                    regions.append([hit.start, end])
            text = _spliced(text, [(start, end, self.redact.placeholder(text[start:end])) for start, end in regions])
        if reshaped:
            found = self.table.format_hits(original)
            for hit in _outside_tokens(found, _token_spans(original) if found else []):
                secret = original[hit.start : hit.end]
                if secret in text and not redaction.is_redacted(secret):
                    note(location, hit.rule, secret)
                    text = text.replace(secret, self.redact.placeholder(secret))
        return text

    def _base64_runs(self, text: str, note: Note, location: str, decodings: int) -> str:
        """Base64 runs (standard or URL-safe) that decode to text holding a JWT or a bearer token."""
        if len(text) < 24 or decodings >= _MAX_DECODINGS:
            return text

        def run(match: re.Match[str]) -> str:
            blob = match[0]
            found = detectors.decode_wrapped(blob)
            if found is None:
                return blob
            skip, raw = found
            decoded = raw.decode("utf-8", "replace")
            cleaned = self.text(decoded, note, location, decodings=decodings + 1)
            if cleaned == decoded:
                return blob
            urlsafe = "-" in blob or "_" in blob
            encoded = base64.b64encode(cleaned.encode()).decode("ascii")
            return blob[:skip] + (encoded.translate(_TO_URLSAFE) if urlsafe else encoded)

        return detectors.BASE64_RUN.sub(run, text)

    # ----------------------------------------------------------------- JSON

    def json(self, value: Any, note: Note, location: str, depth: int) -> Any:
        """A sanitized copy of a parsed JSON value (key order, types and duplicate keys kept)."""
        if depth > MAX_DEPTH:
            raise TooDeep
        if isinstance(value, str):
            return self.text(value, note, location)
        if isinstance(value, Pairs):
            return self._object(value, note, location, depth, Pairs, value)
        if isinstance(value, list):
            items = [self.json(item, note, location, depth + 1) for item in value]
            # Unchanged, the very list: json_like then skips the whole subtree by identity.
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if isinstance(value, dict):
            return self._object(value.items(), note, location, depth, dict, value)
        if isinstance(value, bytes):  # YAML's !!binary outside a body (metadata, a tool's extras)
            try:
                decoded = value.decode("utf-8")
            except UnicodeDecodeError:
                latin = value.decode("latin-1")
                cleaned_latin = self._binary_text(latin, note, location)
                return value if cleaned_latin == latin else cleaned_latin.encode("latin-1", "replace")
            cleaned = self.text(decoded, note, location)
            return value if cleaned == decoded else cleaned.encode("utf-8")
        return value

    def _object(
        self, items: Iterable[tuple[Any, Any]], note: Note, location: str, depth: int, kind: type, original: Any
    ) -> Any:
        result: list[tuple[Any, Any]] = []
        pairs = list(items)
        siblings = dict(pairs)
        scalar_ok = depth + 1 <= MAX_DEPTH
        changed = False
        for key, item in pairs:
            if scalar_ok and (item is None or type(item) in _SCALARS):
                value = item  # a number, a boolean or null: no rule changes one (and _member would return it)
            else:
                value = self._member(key, item, siblings, note, location, depth)
            cleaned_key = self.text(key, note, location) if isinstance(key, str) else key
            # (a key is a string like any other: a token used as a key is one)
            changed = changed or value is not item or cleaned_key is not key
            result.append((cleaned_key, value))
        if not changed:
            return original  # the very object: json_like then skips the whole subtree by identity
        return dict(result) if kind is dict else Pairs(result)

    def _member(self, key: Any, item: Any, siblings: Mapping[Any, Any], note: Note, location: str, depth: int) -> Any:
        if not isinstance(key, str):
            return self.json(item, note, location, depth + 1)
        lower = key.lower()
        if lower == "docker_credentials_json" and isinstance(item, (dict, Pairs)) and _holds_secret(item):
            note(location, "docker-credentials", "")
            return dict(censorship.REDACTED_MESSAGE)
        if lower == "docker_credentials" and isinstance(item, (dict, Pairs)):
            return self._docker_credentials(item, note, location, depth)
        if lower in rules.CREDENTIAL_OBJECT_KEYS and isinstance(item, (dict, list, Pairs)) and _holds_secret(item):
            note(location, "credentials", "")
            return dict(censorship.REDACTED_MESSAGE)
        if (lower in self.table.env_maps or (lower == "var" and self.v3_env)) and isinstance(item, (dict, Pairs)):
            return self.env(item, note, location, depth + 1)
        if lower == "jti" and isinstance(item, str):
            return self._token_id(item, siblings, note, location)
        if isinstance(item, str) and self.table.secret_key(key):
            if rules.is_link(item):
                return self.text(item, note, location)
            return self.named(item, "secret-key", self.table.passwordish(key), note, location)
        return self.json(item, note, location, depth + 1)

    def _docker_credentials(self, item: Any, note: Note, location: str, depth: int) -> Any:
        pairs = item.items() if isinstance(item, dict) else item
        result = []
        for key, value in pairs:
            if isinstance(key, str) and isinstance(value, str) and self.table.secret_key(key):
                value = self.named(value, "docker-credentials", True, note, location)
            else:
                value = self.json(value, note, location, depth + 2)
            result.append((key, value))
        return dict(result) if isinstance(item, dict) else Pairs(result)

    def _token_id(self, jti: str, siblings: Mapping[Any, Any], note: Note, location: str) -> str:
        """A ``jti`` names its token: it follows the token's fake, or becomes a placeholder."""
        if not jti or redaction.is_placeholder(jti):
            return jti
        access = siblings.get("access_token")
        if isinstance(access, str) and rules.token_kind(access) == "jwt":
            decoded = _claims(self.redact.fake_jwt(access))
            claimed = decoded.get("jti") if decoded else None
            if isinstance(claimed, str):
                if claimed != jti:
                    note(location, "token-id", jti)
                return claimed
        note(location, "token-id", jti)
        return self.redact.token_id(jti)

    def env(self, env: Any, note: Note, location: str, depth: int) -> Any:
        """An environment map: see the README's env-value policy."""
        if depth > MAX_DEPTH:
            raise TooDeep
        pairs = env.items() if isinstance(env, dict) else env
        result = []
        for name, value in pairs:
            result.append((name, self._env_value(str(name), value, note, location, depth)))
        return dict(result) if isinstance(env, dict) else Pairs(result)

    def _env_value(self, name: str, value: Any, note: Note, location: str, depth: int) -> Any:
        table = self.table
        if not isinstance(value, str):
            return self.json(value, note, location, depth + 1)
        if value and not redaction.is_redacted(value):
            if table.redact_all_env:
                return self.named(value, "env-value", True, note, location)
            if table.secret_key(name):
                if not rules.is_link(value):
                    return self.named(value, "secret-key", table.passwordish(name), note, location)
            elif table.secret_env(name) and not rules.is_link(value):
                return self.named(value, "env-value", True, note, location)
        return self.text(value, note, location)  # JSON held in the value is read as JSON

    def json_text(
        self, text: str, note: Note, location: str, *, env_map: bool = False, strict: bool = False
    ) -> str | None:
        """A JSON document held in text, sanitized with its layout kept where it can be.

        Text that does not parse is read as text (with *strict*: ``None`` is returned).
        JSON nested too deep for the parser is refused, not read as text: the key rules
        would not see it.
        """
        try:
            document = json.loads(text, object_pairs_hook=pairs_hook)
        except RecursionError:
            raise TooDeep from None
        except ValueError:
            return None if strict else self.text(text, note, location)
        noted: list[tuple[str, str, str]] = []

        def remember(where: str, rule: str, secret: str) -> None:
            noted.append((where, rule, secret))

        outer = self.present
        # Without \u escapes, a string of this document holds a trigger only if the text
        # does, or the trigger has a character JSON escapes otherwise (\" \\ \/ \n…).
        if "\\u" not in text and not outer(text.lower()):
            self.present = self._escaped_trigger
        try:
            if env_map and isinstance(document, (dict, Pairs)):
                cleaned = self.env(document, remember, location, 1)
            else:
                cleaned = self.json(document, remember, location, 0)
            if not noted:
                return text
            for where, rule, secret in noted:
                note(where, rule, secret)
            return json_like(document, cleaned, text)
        except RecursionError:
            raise TooDeep from None  # parsed, but too deep to walk or to write back
        finally:
            self.present = outer

    # ----------------------------------------------------------------- bodies

    def body(
        self, body: str | bytes, headers: dict[str, list[str]], note: Note, location: str, uri: str
    ) -> str | bytes:
        """A sanitized body, the same object if nothing changed.

        A request body keeps its Content-Encoding; a changed response body is stored
        decoded (see below).
        """
        raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
        codings = bodies.content_encoding(headers)
        decoded = bodies.decode(raw, codings) if codings else None
        plain = decoded.data if decoded is not None else raw
        cleaned = self._payload(plain, headers, note, location, uri)
        if cleaned == plain:
            return body
        if decoded is not None and location.startswith("request"):
            encoded = bodies.encode(cleaned, codings)
            _set_length(headers, len(encoded))
            return encoded
        if codings:
            # A changed response is stored decoded, as cfreplay records them: clients replay
            # a recorded compressed body differently (requests does not decode it again,
            # httpx does).  A header that said compressed over a plain body stops lying.
            _remove_header(headers, "content-encoding")
        _set_length(headers, len(cleaned))
        if isinstance(body, str) or decoded is not None:
            try:  # text stays text (and a decoded response is stored as the text it is)
                return cleaned.decode("utf-8")
            except UnicodeDecodeError:
                return cleaned
        return cleaned

    def _payload(self, data: bytes, headers: Mapping[str, list[str]], note: Note, location: str, uri: str) -> bytes:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Binary: read as Latin-1, so every byte is one character and ASCII stays ASCII;
            # the shape rules find what an ASCII secret looks like there.
            latin = data.decode("latin-1")
            cleaned_latin = self._binary_text(latin, note, location)
            return data if cleaned_latin == latin else cleaned_latin.encode("latin-1", "replace")
        if not self.worth_a_look(text):
            return data
        content_type = bodies.header(headers, "content-type").lower()
        stripped = text.lstrip()
        if "json" in content_type or stripped[:1] in ("{", "["):
            env_map = any(path in uri for path in rules.ENV_MAP_PATHS)
            # CC v3's /v3/apps/:guid/environment_variables holds the map under "var".
            self.v3_env = "/environment_variables" in uri
            try:
                cleaned = self.json_text(text, note, location, env_map=env_map)
            finally:
                self.v3_env = False
        elif "yaml" in content_type:
            cleaned = self.yaml_text(text, note, location)
        elif _FORM_START.match(text):
            cleaned = self._params(text, note, location, form=True)
            cleaned = self.text(cleaned, note, location)
        else:
            cleaned = self.text(text, note, location)
        return data if cleaned is None or cleaned == text else cleaned.encode("utf-8")

    def _shape_rules(self, text: str, note: Note, location: str) -> str:
        """The rules that read a value's shape (tokens, credentials, parameters, userinfo, paths, options)."""
        text = self._tokens(text, note, location)
        text = self._auth_in_text(text, note, location)
        text = self._params(text, note, location, form=False)
        text = self._userinfos(text, note, location)
        if "/" in text:
            text = detectors.PATH_TOKEN.sub(lambda m: self._path_token(m, note, location), text)
        if "=" in text or "--" in text:
            text = detectors.COMMAND_LINE.sub(lambda m: self._command_line(m, note, location), text)
        return text

    def _binary_text(self, text: str, note: Note, location: str) -> str:
        """The shape rules over a binary body read as Latin-1 (no JSON, no decodings)."""
        if not self.worth_a_look(text):
            return text
        original = text
        text = self._shape_rules(text, note, location)
        return self._formats(text, note, location, original)

    def yaml_text(self, text: str, note: Note, location: str) -> str:
        """A YAML document (CC v3 manifests) read like JSON; written back as YAML when something changed."""
        import yaml

        try:
            document = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError, ValueError, TypeError):
            return self.text(text, note, location)
        if not isinstance(document, (dict, list)):
            return self.text(text, note, location)
        noted: list[tuple[str, str, str]] = []
        cleaned = self.json(document, lambda *seen: noted.append(seen), location, 0)
        if not noted:
            return text
        for where, rule, secret in noted:
            note(where, rule, secret)
        result: str = yaml.safe_dump(cleaned, sort_keys=False, allow_unicode=True)
        return result


# --------------------------------------------------------------------------- helpers


def _holds_secret(value: Any) -> bool:
    """Whether an object holds anything but nulls, booleans and redaction markers (any depth, no recursion)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, Pairs):
            stack.extend(v for _, v in node)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if not redaction.is_redacted(node):
                return True
        elif isinstance(node, bytes) or (isinstance(node, (int, float)) and not isinstance(node, bool)):
            return True
    return False


def _claims(token: str) -> dict[str, Any] | None:
    from cfreplay.cf import tokens

    decoded = tokens.try_decode(token)
    return decoded[1] if decoded else None


def _b64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _remove_header(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name]:
        del headers[key]


def _set_length(headers: dict[str, list[str]], size: int) -> None:
    """Recompute Content-Length where the recording had one, so it tells nothing of the secret."""
    for key in headers:
        if key.lower() == "content-length":
            headers[key] = [str(size)]


#: What makes a value read decoded: an escape that decodes (and ``+`` in a form), or a URL.
_ENCODED: Final = re.compile(r"%[0-9A-Fa-f]{2}|://")
_ENCODED_PLUS: Final = re.compile(r"\+|%[0-9A-Fa-f]{2}|://")


#: A replacement in a text: (start, end, what goes there).
_Edit = tuple[int, int, str]


def _spliced(text: str, edits: list[_Edit]) -> str:
    """*text* with each edit made (edits in order, disjoint); *text* itself when there are none."""
    if not edits:
        return text
    out: list[str] = []
    last = 0
    for start, end, replacement in edits:
        out += [text[last:start], replacement]
        last = end
    out.append(text[last:])
    return "".join(out)


def _start_or_end(text: str, found: re.Match[str] | None) -> int:
    return len(text) if found is None else found.start()


#: The shortest secret looked for again where cleaning left text to read (see Walker._left_by_cleaning).
_MIN_LEFT: Final = 8


def _token_spans(text: str) -> list[tuple[int, int]]:
    """Where the JWTs and JWEs in *text* stand (published or not), leftmost first."""
    return [(start, end) for start, end, _ in detectors.iter_tokens(text)] if "eyJ" in text else []


def _outside_tokens(hits: list[rules.ValueHit], tokens: list[tuple[int, int]]) -> list[rules.ValueHit]:
    """*hits* but those that open inside one of *tokens* (a published one is kept; another is replaced first)."""
    if not hits or not tokens:
        return hits
    return [hit for hit in hits if not any(start <= hit.start < end for start, end in tokens)]
