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

import base64
import binascii
import copy
import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cfreplay.cassette import Cassette
from cfreplay.cf import cfapi
from cfreplay.errors import BodyTooLarge, CassetteError
from cfreplay.hygiene import bodies, detectors, redaction, rules
from cfreplay.hygiene.rules import RuleTable, SanitizeConfig

__all__ = ["Change", "Report", "SanitizeConfig", "Sanitizer"]

#: JSON nested deeper than this is refused: CC's documents are a dozen levels deep at
#: most, and a walk must not run out of stack on a hostile body.
MAX_DEPTH: Final = 200


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


#: (location, rule, the secret) -> None.  The secret only ever becomes a mask.
Note = Callable[[str, str, str], None]


def _ignore(_location: str, _rule: str, _secret: str) -> None:
    return None


class _TooDeep(Exception):
    pass


class Sanitizer:
    """Sanitizes cassettes; one instance keeps replacements consistent across all it touches.

    ``config`` adds a project's names and patterns (``[tool.cfreplay.sanitize]``);
    ``key`` fixes the placeholder key (default: random per process).
    """

    def __init__(
        self, config: SanitizeConfig | None = None, *, key: bytes | None = None, table: RuleTable | None = None
    ) -> None:
        self.table = table if table is not None else RuleTable(config)
        self.config = self.table.config
        self.redactor = redaction.Redactor(key)
        self._walker = _Walker(self.table, self.redactor)

    # ----------------------------------------------------------------- entry points

    def sanitize_data(self, data: dict[str, Any], *, path: str | os.PathLike[str] = "<cassette>") -> Report:
        """Sanitize cassette data (vcrpy's dict) in place; the report says what changed."""
        report = Report()
        shared = _shared_strings(data)
        for index, interaction in enumerate(data.get("interactions") or []):
            try:
                self.sanitize_interaction(interaction, index, report)
            except _TooDeep:
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
            except _TooDeep:
                raise CassetteError(path, f"holds JSON nested deeper than {MAX_DEPTH} levels in {key!r}") from None
        if shared:
            _follow_aliases(data, shared, report)
        return report

    def sanitize_interaction(self, interaction: dict[str, Any], index: int | None, report: Report) -> None:
        """Sanitize one vcrpy interaction in place, recording each change in *report*."""
        self._walker.interaction(interaction, _noter(report, index))

    def sanitize_cassette(self, cassette: Cassette) -> Report:
        return self.sanitize_data(cassette.data, path=cassette.path)

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
        table = self.table
        if any(table.header_rule(name) for name in header_names):
            return True
        return any(self._walker.worth_a_look(text) for text in texts)

    # ----------------------------------------------------------------- replacements (for callers and tests)

    def placeholder(self, secret: str) -> str:
        """The placeholder for a token-like secret: the same for the same secret, all run long."""
        return self.redactor.placeholder(secret)

    def fake_jwt(self, token: str) -> str:
        """A structurally valid fake of *token*, signed with cfreplay's published test key."""
        return self.redactor.fake_jwt(token)


# --------------------------------------------------------------------------- YAML aliases

#: Where a string sits: (the keys from the cassette's root to it, interaction index, location).
_Position = tuple[tuple[Any, ...], int | None, str]


def _shared_strings(data: dict[str, Any]) -> dict[int, tuple[str, list[_Position]]]:
    """Strings that are one object in several places: what a YAML alias (``*name``) loads to.

    A value a rule replaces in one place must not survive where an alias copied it: the
    sanitizer replaces it there too (see :func:`_follow_aliases`).  JSON and vcrpy's YAML
    never share a string, so this is empty for them.
    """
    seen: dict[int, tuple[str, list[_Position]]] = {}
    stack: list[tuple[Any, tuple[Any, ...], int | None, str]] = []
    for key, value in data.items():
        if key == "interactions" and isinstance(value, list):
            stack.extend((item, (key, index), index, "") for index, item in enumerate(value))
        elif key != "version":
            stack.append(({key: value}, (), None, ""))
    while stack:
        node, path, index, location = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for child, value in items:
            if isinstance(value, str):
                if len(value) >= 8:
                    entry = seen.setdefault(id(value), (value, []))
                    entry[1].append(((*path, child), index, location or str(child)))
            elif isinstance(value, (dict, list)):
                stack.append((value, (*path, child), index, _alias_location(location, child, node)))
    return {ident: entry for ident, entry in seen.items() if len(entry[1]) > 1}


def _alias_location(location: str, key: Any, node: Any) -> str:
    """The sanitizer's location for a child (``response.headers.X-Api-Key``, ``response.body``, ``metadata``)."""
    if not isinstance(node, dict):
        return location
    parts = location.split(".") if location else []
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] != "headers") or (parts and parts[0] not in _SIDES):
        return location  # deeper than the sanitizer names
    return f"{location}.{key}" if location else str(key)


_SIDES: Final = ("request", "response")


def _resolve(data: Any, path: tuple[Any, ...]) -> tuple[Any, Any] | None:
    """The container and key at *path* now (the sanitizer may have replaced containers on the way)."""
    node = data
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return (node, path[-1]) if isinstance(node, (dict, list)) else None


def _follow_aliases(data: dict[str, Any], shared: dict[int, tuple[str, list[_Position]]], report: Report) -> None:
    """Replace every alias of a string a rule replaced somewhere, as that rule did."""
    for original, positions in shared.values():
        places = []
        for path, index, where in positions:
            found = _resolve(data, path) if path else None
            if found is not None:
                places.append((found[0], found[1], index, where))
        replaced = [place for place in places if place[0][place[1]] is not original]
        if not replaced:
            continue
        node, key, index, where = replaced[0]
        replacement = node[key]
        rule = next(
            (c.rule for c in report.changes if c.interaction == index and where.startswith(c.location)),
            next((c.rule for c in report.changes if c.interaction == index), "secret-key"),
        )
        for node, key, index, where in places:
            if node[key] is original:
                node[key] = replacement
                report.changes.append(Change(index, where, rule, redaction.mask(rule, original)))


#: Strings up to this long have their worth_a_look answer remembered.
_SHORT: Final = 48
#: Characters JSON may write as a two-character escape.
_ESCAPABLE: Final = frozenset('"\\/\b\f\n\r\t')


def _noter(report: Report, index: int | None) -> Note:
    def note(location: str, rule: str, secret: str) -> None:
        report.changes.append(Change(index, location, rule, redaction.mask(rule, secret)))

    return note


# --------------------------------------------------------------------------- the walk

#: Lower-case literals, one of which any text a value rule could change holds (besides the
#: credential formats' anchors, the name rules' words and project patterns, which the table
#: adds).  Escapes are here too: a secret may hide behind one.
_TRIGGERS: Final = (
    "eyj", "bearer", "basic", "://", ":\\/\\/", "@", "=", "--", "/revoke/", "/codes/", "\\", "%",
)  # fmt: skip
_FROM_URLSAFE: Final = str.maketrans("-_", "+/")
_TO_URLSAFE: Final = str.maketrans("+/", "-_")
_FORM_START: Final = re.compile(r"[A-Za-z0-9_.%:\[\]-]+=")
#: How many times text is decoded again (an escape inside an escape…), as the scanner's views nest.
_MAX_DECODINGS: Final = 3


class _Walker:
    """Applies the table's rules to cassette data; reports each change through a Note."""

    def __init__(self, table: RuleTable, redactor: redaction.Redactor) -> None:
        self.table = table
        self.redact = redactor
        self.triggers = rules.fewest_literals({*_TRIGGERS, *table.anchors, *table.name_triggers})
        #: The triggers worth testing now: inside a JSON document with no escapes, only those
        #: its whole text holds (each string of it is a piece of that text).
        self.present = self.triggers
        self._short: dict[str, bool] = {}
        self.always = bool(table.patterns)  # project patterns can match anything
        self.v3_env = False
        # Header values repeat across a session (one bearer token for hundreds of requests):
        # (name, value) -> (result, what it noted), replayed on a hit so reports still count each.
        self._headers: dict[tuple[str, str], tuple[str, tuple[tuple[str, str], ...]]] = {}

    # ----------------------------------------------------------------- interactions

    def interaction(self, interaction: dict[str, Any], note: Note) -> None:
        request, response = interaction["request"], interaction["response"]
        uri = request["uri"]
        request["uri"] = self.text(uri, note, "request.uri")
        for side, data in (("request", request), ("response", response)):
            headers: dict[str, list[str]] = data.get("headers") or {}
            for name, values in headers.items():
                headers[name] = [self.header(name, value, note, f"{side}.headers.{name}") for value in values]
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
        status = response.get("status")
        if isinstance(status, dict):
            for key in [k for k in status if k != "code"]:
                status[key] = self.json(status[key], note, "response.status", 0)
        for side, data in (("request", request), ("response", response)):
            holder = data.get("body")
            if isinstance(holder, dict):  # Ruby VCR's encoding, base64_string, a tool's extras
                for key in [k for k in holder if k != "string"]:
                    holder[key] = self.json(holder[key], note, f"{side}.body", 0)
        # Keys vcrpy does not know (Ruby VCR's recorded_at, a client's extras) are data too.
        for side, data, known in (
            ("request", request, ("uri", "headers", "body", "method")),
            ("response", response, ("headers", "body", "status")),
        ):
            for key in [k for k in data if k not in known]:
                data[key] = self.json(data[key], note, f"{side}.{key}", 0)
        for key in [k for k in interaction if k not in ("request", "response")]:
            interaction[key] = self.json(interaction[key], note, str(key), 0)

    # ----------------------------------------------------------------- headers

    def header(self, name: str, value: str, note: Note, location: str) -> str:
        key = (name.lower(), value)
        known = self._headers.get(key)
        if known is None:
            noted: list[tuple[str, str, str]] = []
            result = self._header(name, value, lambda *seen: noted.append(seen), location)
            if any(where != location for where, _, _ in noted):
                return self._header(name, value, note, location)
            if len(self._headers) >= 4096:
                self._headers.clear()
            known = self._headers[key] = (result, tuple((rule, secret) for _, rule, secret in noted))
        for rule, secret in known[1]:
            note(location, rule, secret)
        return known[0]

    def _header(self, name: str, value: str, note: Note, location: str) -> str:
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
                known = self._short[text] = self._holds_trigger(text, self.triggers)
            return known
        return self._holds_trigger(text, self.present)

    @staticmethod
    def _holds_trigger(text: str, triggers: tuple[str, ...]) -> bool:
        lowered = text.lower()
        if any(word in lowered for word in triggers):
            return True
        return len(text) >= 24 and detectors.BASE64_RUN.search(text) is not None

    def text(self, text: str, note: Note, location: str, *, decodings: int = 0) -> str:
        """Every value rule, in the table's order, over free text; then over its decodings."""
        if not self.worth_a_look(text):
            return text
        stripped = text.lstrip()
        if stripped[:1] in ("{", "[") and stripped.rstrip()[-1:] in ("}", "]"):
            parsed = self.json_text(text, note, location, strict=True)
            if parsed is not None:
                return parsed  # JSON held in a string: read like any JSON body
        text = self._tokens(text, note, location)
        text = self._auth_in_text(text, note, location)
        text = self._params(text, note, location, form=False)
        text = self._userinfos(text, note, location)
        if "/" in text:
            text = detectors.PATH_TOKEN.sub(lambda m: self._path_token(m, note, location), text)
        if "=" in text or "--" in text:
            text = detectors.COMMAND_LINE.sub(lambda m: self._command_line(m, note, location), text)
        if '"' in text:
            text = self._json_pairs(text, note, location)
        text = self._formats(text, note, location)
        text = self._base64_runs(text, note, location, decodings)
        if decodings < _MAX_DECODINGS:
            # What hides behind an escape (\u0065yJ…, %3Fcode%3D…) is read decoded, as the
            # scanner reads it; found something, the text is kept decoded.
            for present, decode in (
                (detectors.printable_escapes, detectors.unescape),
                (detectors.percent_escapes, detectors.unquote),
            ):
                if present(text):
                    decoded = decode(text)
                    cleaned = self.text(decoded, note, location, decodings=decodings + 1)
                    if cleaned != decoded:
                        text = cleaned
        return text

    def _tokens(self, text: str, note: Note, location: str) -> str:
        if "eyJ" not in text:
            return text
        out: list[str] = []
        last = 0
        for start, end, kind in detectors.iter_tokens(text):
            token = text[start:end]
            if kind == "jwt":
                replacement = self.redact.fake_jwt(token)
                if replacement == token:
                    continue
                note(location, "jwt", token)
            else:
                note(location, "jwe", token)
                replacement = self.redact.placeholder(token)
            out += [text[last:start], replacement]
            last = end
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _auth_in_text(self, text: str, note: Note, location: str) -> str:
        if not any(word in text for word in ("earer", "EARER", "asic", "ASIC")):
            return text
        out: list[str] = []
        last = 0
        for scheme in detectors.SCHEMES.finditer(text):
            if scheme.start() < last:
                continue
            basic = scheme[0].lower() == "basic"
            found = detectors.auth_credential(text, scheme.end(), basic)
            if found is None:
                continue
            start, end, credential = found
            replaced = self.authorization(f"{scheme[0]} {credential}", note, location)
            out += [text[last:start], replaced.partition(" ")[2]]
            last = end
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _params(self, text: str, note: Note, location: str, *, form: bool) -> str:
        """``name=value`` pairs: query parameters in any text, and the fields of a form body."""
        if "=" not in text:
            return text

        def pair(match: re.Match[str]) -> str:
            lead = match["lead"]
            if not lead and not form:
                return match[0]  # a text's start is a form field only in a form body
            rule = "form-field" if not lead else detectors.param_rule(text, match.start("name"))
            name = urllib.parse.unquote_plus(match["name"])
            plus = rule == "form-field"
            value = urllib.parse.unquote_plus(match["value"]) if plus else urllib.parse.unquote(match["value"])
            secret = self.table.secret_form(name) if rule == "form-field" else self.table.secret_query(name)
            if secret and value and not redaction.is_redacted(value) and detectors.token_kind(value) != "jwt":
                note(location, rule, value)
                replaced = redaction.REDACTED if self.table.passwordish(name) else self.redact.placeholder(value)
                return f"{lead}{match['name']}={urllib.parse.quote(replaced, safe='')}"
            if value != match["value"] or "://" in value:
                cleaned = self.text(value, note, location, decodings=_MAX_DECODINGS)
                if cleaned != value:
                    quote = urllib.parse.quote_plus if plus else urllib.parse.quote
                    return f"{lead}{match['name']}={quote(cleaned, safe='')}"
            return match[0]

        return detectors.PAIR.sub(pair, text)

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
        out: list[str] = []
        last = 0
        for info in found:
            note(location, "url-userinfo", info.secret)
            out += [text[last : info.start], detectors.redacted_userinfo(info)]
            last = info.end
        out.append(text[last:])
        return "".join(out)

    def _path_token(self, match: re.Match[str], note: Note, location: str) -> str:
        token = match[1]
        if redaction.is_redacted(token) or detectors.token_kind(token) is not None:
            return match[0]
        note(location, "url-path", token)
        return match[0][: match.start(1) - match.start(0)] + self.redact.placeholder(token)

    def _command_line(self, match: re.Match[str], note: Note, location: str) -> str:
        name, value, start, end, assignment = detectors.command_line_pair(match)
        secret = self.table.secret_env(name) if assignment else self.table.secret_key(name)
        if not secret or redaction.is_redacted(value) or rules.is_link(value) or detectors.token_kind(value) == "jwt":
            return match[0]
        note(location, "command-line", value)
        offset = match.start(0)
        return match[0][: start - offset] + redaction.REDACTED + match[0][end - offset :]

    def _json_pairs(self, text: str, note: Note, location: str) -> str:
        """``"key": "value"`` in text that did not parse as JSON (a truncated body, JSON inside HTML)."""
        out: list[str] = []
        last = 0
        for key, start, end, value in detectors.json_pairs(text):
            if not value or not self.table.secret_key(key) or redaction.is_redacted(value):
                continue
            if rules.is_link(value) or detectors.token_kind(value) == "jwt":
                continue
            note(location, "secret-key", value)
            replaced = redaction.REDACTED if self.table.passwordish(key) else self.redact.placeholder(value)
            out += [text[last:start], replaced]
            last = end
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _formats(self, text: str, note: Note, location: str) -> str:
        hits = self.table.format_hits(text)
        if not hits:
            return text
        out: list[str] = []
        last = 0
        for hit in hits:
            secret = text[hit.start : hit.end]
            if redaction.is_redacted(secret):
                continue
            note(location, hit.rule, secret)
            out.append(text[last : hit.start])
            out.append(self.redact.placeholder(secret))
            last = hit.end
        out.append(text[last:])
        return "".join(out)

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
            raise _TooDeep
        if isinstance(value, str):
            return self.text(value, note, location)
        if isinstance(value, _Pairs):
            return self._object(value, note, location, depth, _Pairs)
        if isinstance(value, list):
            return [self.json(item, note, location, depth + 1) for item in value]
        if isinstance(value, dict):
            return self._object(value.items(), note, location, depth, dict)
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

    def _object(self, items: Iterable[tuple[Any, Any]], note: Note, location: str, depth: int, kind: type) -> Any:
        result: list[tuple[Any, Any]] = []
        pairs = list(items)
        siblings = dict(pairs)
        for key, item in pairs:
            value = self._member(key, item, siblings, note, location, depth)
            if isinstance(key, str):  # a key is a string like any other: a token used as a key is one
                key = self.text(key, note, location)
            result.append((key, value))
        return dict(result) if kind is dict else _Pairs(result)

    def _member(self, key: Any, item: Any, siblings: Mapping[Any, Any], note: Note, location: str, depth: int) -> Any:
        if not isinstance(key, str):
            return self.json(item, note, location, depth + 1)
        lower = key.lower()
        if lower == "docker_credentials_json" and isinstance(item, (dict, _Pairs)) and _holds_secret(item):
            note(location, "docker-credentials", "")
            return dict(cfapi.REDACTED_MESSAGE)
        if lower == "docker_credentials" and isinstance(item, (dict, _Pairs)):
            return self._docker_credentials(item, note, location, depth)
        if lower in rules.CREDENTIAL_OBJECT_KEYS and isinstance(item, (dict, list, _Pairs)) and _holds_secret(item):
            note(location, "credentials", "")
            return dict(cfapi.REDACTED_MESSAGE)
        if (lower in self.table.env_maps or (lower == "var" and self.v3_env)) and isinstance(item, (dict, _Pairs)):
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
        return dict(result) if isinstance(item, dict) else _Pairs(result)

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
            raise _TooDeep
        pairs = env.items() if isinstance(env, dict) else env
        result = []
        for name, value in pairs:
            result.append((name, self._env_value(str(name), value, note, location, depth)))
        return dict(result) if isinstance(env, dict) else _Pairs(result)

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
            document = json.loads(text, object_pairs_hook=_pairs_hook)
        except RecursionError:
            raise _TooDeep from None
        except ValueError:
            return None if strict else self.text(text, note, location)
        noted: list[tuple[str, str, str]] = []

        def remember(where: str, rule: str, secret: str) -> None:
            noted.append((where, rule, secret))

        outer = self.present
        if "\\u" not in text:
            # Without \u escapes, a string of this document holds a trigger only if the text
            # does, or the trigger has a character JSON escapes otherwise (\" \\ \/ \n…).
            lowered = text.lower()
            self.present = tuple(word for word in outer if word in lowered or _ESCAPABLE.intersection(word))
        try:
            if env_map and isinstance(document, (dict, _Pairs)):
                cleaned = self.env(document, remember, location, 1)
            else:
                cleaned = self.json(document, remember, location, 0)
            if not noted:
                return text
            for where, rule, secret in noted:
                note(where, rule, secret)
            return _json_like(document, cleaned, text)
        except RecursionError:
            raise _TooDeep from None  # parsed, but too deep to walk or to write back
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

    def _binary_text(self, text: str, note: Note, location: str) -> str:
        """The shape rules over a binary body read as Latin-1 (no JSON, no decodings)."""
        if not self.worth_a_look(text):
            return text
        text = self._tokens(text, note, location)
        text = self._auth_in_text(text, note, location)
        text = self._params(text, note, location, form=False)
        text = self._userinfos(text, note, location)
        if "/" in text:
            text = detectors.PATH_TOKEN.sub(lambda m: self._path_token(m, note, location), text)
        if "=" in text or "--" in text:
            text = detectors.COMMAND_LINE.sub(lambda m: self._command_line(m, note, location), text)
        return self._formats(text, note, location)

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


class _Pairs(list[tuple[Any, Any]]):
    """A JSON object with a key given twice: kept as its pairs, so neither value escapes the walk."""


def _pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    keys = [key for key, _ in pairs]
    return _Pairs(pairs) if len(set(keys)) != len(keys) else dict(pairs)


def _holds_secret(value: Any) -> bool:
    """Whether an object holds anything but nulls, booleans and redaction markers (any depth, no recursion)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, _Pairs):
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


# --------------------------------------------------------------------------- JSON with its layout kept


def _json_like(original: Any, cleaned: Any, text: str) -> str:
    """*cleaned* written as *text* wrote *original*: strings swapped in place when only strings changed."""
    replacements = _string_changes(original, cleaned)
    if replacements is not None:
        patched = _patch_strings(text, replacements)
        if patched is not None:
            return patched
    return _dump_like(original, cleaned, text)


def _string_changes(before: Any, after: Any) -> list[tuple[str, str]] | None:
    """The string values that changed, if nothing but string values changed; else ``None``."""
    changes: list[tuple[str, str]] = []
    stack = [(before, after)]
    while stack:
        old, new = stack.pop()
        if isinstance(old, str) and isinstance(new, str):
            if old != new:
                changes.append((old, new))
        elif isinstance(old, dict) and isinstance(new, dict):
            if list(old) != list(new):
                return None
            stack.extend((old[key], new[key]) for key in old)
        elif isinstance(old, _Pairs) and isinstance(new, _Pairs):
            if [k for k, _ in old] != [k for k, _ in new]:
                return None
            stack.extend((a, b) for (_, a), (_, b) in zip(old, new, strict=True))
        elif isinstance(old, list) and isinstance(new, list) and type(old) is type(new):
            if len(old) != len(new):
                return None
            stack.extend(zip(old, new, strict=True))
        elif type(old) is not type(new) or old != new:
            return None
    return changes


def _patch_strings(text: str, replacements: list[tuple[str, str]]) -> str | None:
    """Swap each changed string's JSON form where it stands as a value, keeping the layout byte for byte.

    ``None`` when a string is not found in its plain JSON form (the body escaped it
    differently); the caller then re-serialises.  A value equal to a secret elsewhere
    in the body is replaced too, which can only over-redact; keys are never touched.
    """
    for old, new in replacements:
        for encoded in (json.dumps(old, ensure_ascii=False), json.dumps(old)):
            patched = _swap_values(text, encoded, json.dumps(new, ensure_ascii=False))
            if patched is not None:
                text = patched
                break
        else:
            return None
    return text


def _swap_values(text: str, encoded: str, replacement: str) -> str | None:
    """*text* with every *encoded* string that stands as a value (no ``:`` follows) swapped; ``None`` if none does."""
    parts: list[str] = []
    last = 0
    at = text.find(encoded)
    while at >= 0:
        end = at + len(encoded)
        if text[end : end + 64].lstrip()[:1] != ":":
            parts += [text[last:at], replacement]
            last = end
        at = text.find(encoded, end)
    if not parts:
        return None
    parts.append(text[last:])
    return "".join(parts)


def _dump_like(original: Any, cleaned: Any, text: str) -> str:
    """Serialise *cleaned* in the layout *text* used, when a usual layout reproduces it.

    The layout is guessed from the text's opening, then confirmed by re-serialising
    the original once; CC pretty-prints with two spaces, Oj and UAA write compact
    JSON, Python's default puts spaces after separators.
    """
    trailing = text[len(text.rstrip()) :]
    body = text.rstrip()
    head = body[:40]
    layout: dict[str, Any]
    if "\n    " in head and "\n    " in body[: body.find("\n", 1) + 6]:
        layout = {"indent": 4}
    elif "\n" in head:
        layout = {"indent": 2}
    elif '": ' in body or '", "' in body:
        layout = {}
    else:
        layout = {"separators": (",", ":")}
    ensure_ascii = "\\u" in body and not any(ord(c) > 127 for c in body)
    if _dumps(original, ensure_ascii, layout) == body:
        return _dumps(cleaned, ensure_ascii, layout) + trailing
    return _dumps(cleaned, False, layout) + trailing


class _PairsEncoder(json.JSONEncoder):
    pass


def _dumps(value: Any, ensure_ascii: bool, layout: dict[str, Any]) -> str:
    """json.dumps, writing an object with duplicate keys as it was (every pair, in order)."""
    if not _has_pairs(value):
        return json.dumps(value, ensure_ascii=ensure_ascii, **layout)
    marker = "\x00cfreplay-pairs\x00"
    slots: list[str] = []

    def stand_in(node: Any) -> Any:
        if isinstance(node, _Pairs):
            items = [
                json.dumps(str(k), ensure_ascii=ensure_ascii)
                + layout.get("separators", (", ", ": "))[1]
                + _dumps(v, ensure_ascii, {**layout, "indent": None})
                for k, v in node
            ]
            slots.append("{" + layout.get("separators", (", ", ": "))[0].join(items) + "}")
            return f"{marker}{len(slots) - 1}"
        if isinstance(node, dict):
            return {k: stand_in(v) for k, v in node.items()}
        if isinstance(node, list):
            return [stand_in(v) for v in node]
        return node

    dumped = json.dumps(stand_in(value), ensure_ascii=ensure_ascii, **layout)
    return re.sub(
        re.escape(json.dumps(marker, ensure_ascii=ensure_ascii)[:-1]) + r'(\d+)"', lambda m: slots[int(m[1])], dumped
    )


def _has_pairs(value: Any) -> bool:
    if isinstance(value, _Pairs):
        return True
    if isinstance(value, dict):
        return any(_has_pairs(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_pairs(v) for v in value)
    return False
