"""The sanitizer: every secret out of a cassette, nothing else changed.

It knows where Cloud Controller and UAA traffic hides secrets (``cfapi``'s
"where secrets live" section) and walks request and response of every
interaction: headers (names case-insensitive, every value), URLs (request URI,
``Location``, page links, URLs inside bodies), form bodies, JSON bodies at any
depth, plain text, gzip/deflate bodies and ``!!binary`` bodies.

How values are replaced, and why:

* **JWTs** become structurally valid fakes: same header fields and claims, PII
  claims (``email``, ``user_name``, ``user_id``, ``sub``) replaced by stable Faker
  values, ``jti`` regenerated, ``exp``/``iat`` kept, signed with cfreplay's
  published test key.  Code that decodes the token still works on replay.
* **Tokens, codes, cookie values** become ``cfreplay-redacted-<16 hex>``: a keyed
  hash (HMAC with a key random to each run unless ``key=`` is given), so the same
  secret maps to the same placeholder across every cassette of a run and echoed
  values (a refresh, a cookie sent back) still line up, while neither the secret
  nor its length can be read back.
* **Client-supplied credentials** (passwords, client secrets, passcodes) become
  CC's own ``***``: a constant, so the request a test sends at replay time,
  sanitized the same way, still matches its recording.
* ``docker_credentials(_json)`` and ``credentials`` objects become exactly
  ``{"redacted_message": "[PRIVATE DATA HIDDEN]"}``, as CC itself shows them.

Anything already redacted (CC's markers, cfreplay's placeholders, JWTs signed
with a published key) is left alone, so sanitizing twice changes nothing.
JSON bodies keep their key order, types and, when it can be recognised, their
layout; only the framing headers that follow a changed body (``Content-Length``,
and ``Content-Encoding`` for decompressed bodies) change with them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets
import tomllib
import urllib.parse
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # Faker takes ~60 ms to import; most sessions never need it
    from faker import Faker

from cfreplay import cassette as cassette_files
from cfreplay import cfapi, redaction, tokens
from cfreplay.cassette import Cassette
from cfreplay.errors import CassetteError, CfreplayError

__all__ = ["Change", "Report", "SanitizeConfig", "Sanitizer"]

# A run's key: placeholders are consistent within one process and unlinkable across runs.
_RUN_KEY: Final = secrets.token_bytes(32)

_PASSWORDISH: Final = re.compile(r"(?i)pass(word|wd|code)?|secret|credential|api_?key|private_?key")
_JWT: Final = tokens.JWT_PATTERN
# JWTs written with JSON \uXXXX escapes (``\u0065yJ…``) in text that is not parsed as JSON.
_ESCAPED_RUN: Final = re.compile(
    r"(?:\\u[0-9a-fA-F]{4}|[A-Za-z0-9_.\-])*\\u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4}|[A-Za-z0-9_.\-])*"
)
_UNICODE_ESCAPE: Final = re.compile(r"\\u([0-9a-fA-F]{4})")
_AUTH_IN_TEXT: Final = re.compile(r"\b([Bb]earer|BEARER|[Bb]asic|BASIC)([ \t]+)([A-Za-z0-9._~+/=-]{8,})")
_USERINFO: Final = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:(?://|\\/\\/))(?P<user>[^/\\\s:@'\"<>]+)(?::(?P<pw>[^/\\\s@'\"<>]*))?@"
)
_BASE64_BLOB: Final = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
# Cheap pre-check, as lower-case substrings: a text without any of these cannot hold a
# secret the rules know (base64-wrapped blobs are checked separately).  Substring tests
# on a lowered copy run several times faster than one case-insensitive regex.
_TRIGGER_WORDS: Final = (
    # URL userinfo needs its "@" (a plain URL is no trigger); the rest name secrets or hold them.
    "eyj", "\\u00", "@", "token", "pass", "secret", "credential", "env_json", "environment_json", "docker_",
    "code", "assertion", "bearer", "basic", "key", "jti", "sig", "md5", "auth",
)  # fmt: skip


_CREDENTIAL_HEADERS: Final = frozenset((*cfapi.AUTHORIZATION_HEADERS, *cfapi.COOKIE_HEADERS))


def _placeholder_like(value: str) -> bool:
    return redaction.is_placeholder(value.removesuffix("-r"))


def _already_redacted(value: str) -> bool:
    return redaction.is_redacted(value) or _placeholder_like(value)


# ``[tool.cfreplay.sanitize]`` keys and the SanitizeConfig fields they set.
_TOML_KEYS: Final = {
    "headers": "headers",
    "json-keys": "json_keys",
    "query-params": "query_params",
    "form-fields": "form_fields",
    "patterns": "patterns",
    "redact-all-env": "redact_all_env",
}


@dataclass(frozen=True)
class SanitizeConfig:
    """What to sanitize beyond cfreplay's built-in knowledge.

    Read from ``[tool.cfreplay.sanitize]`` in a project's ``pyproject.toml``
    (keys ``headers``, ``json-keys``, ``query-params``, ``form-fields``,
    ``patterns``, ``redact-all-env``) or given directly.
    """

    headers: tuple[str, ...] = ()
    json_keys: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    form_fields: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    redact_all_env: bool = False

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise CfreplayError(f"sanitize pattern {pattern!r} is not a valid regex: {error}") from None

    @classmethod
    def from_pyproject(cls, start: str | os.PathLike[str] | None = None) -> SanitizeConfig:
        """The ``[tool.cfreplay.sanitize]`` table of the nearest ``pyproject.toml`` at or above *start*."""
        directory = Path(start or Path.cwd()).resolve()
        for folder in (directory, *directory.parents):
            candidate = folder / "pyproject.toml"
            if candidate.is_file():
                return cls.from_toml(candidate)
        return cls()

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> SanitizeConfig:
        try:
            document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CfreplayError(f"{path}: cannot read [tool.cfreplay.sanitize]: {error}") from None
        table = document.get("tool", {}).get("cfreplay", {}).get("sanitize", {})
        values: dict[str, Any] = {}
        for key, value in table.items():
            name = _TOML_KEYS.get(key)
            if name is None:
                known = ", ".join(sorted(_TOML_KEYS))
                raise CfreplayError(f"{path}: unknown key {key!r} in [tool.cfreplay.sanitize]; known: {known}")
            if name == "redact_all_env":
                if not isinstance(value, bool):
                    raise CfreplayError(f"{path}: [tool.cfreplay.sanitize] {key} must be true or false")
                values[name] = value
            else:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise CfreplayError(f"{path}: [tool.cfreplay.sanitize] {key} must be a list of strings")
                values[name] = tuple(value)
        return cls(**values)

    def merged(self, other: SanitizeConfig) -> SanitizeConfig:
        """Both configs' extras; redact-all-env if either asks for it."""
        return SanitizeConfig(
            headers=self.headers + other.headers,
            json_keys=self.json_keys + other.json_keys,
            query_params=self.query_params + other.query_params,
            form_fields=self.form_fields + other.form_fields,
            patterns=self.patterns + other.patterns,
            redact_all_env=self.redact_all_env or other.redact_all_env,
        )


@dataclass(frozen=True)
class Change:
    """One replacement: which interaction, where, by which rule.  Never the value."""

    interaction: int
    location: str
    rule: str


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

    def by_interaction(self) -> dict[int, Counter[str]]:
        result: dict[int, Counter[str]] = {}
        for change in self.changes:
            result.setdefault(change.interaction, Counter())[change.rule] += 1
        return result

    def summary(self) -> str:
        if not self.changes:
            return "nothing to sanitize"
        rules = ", ".join(f"{rule} ×{count}" for rule, count in sorted(self.counts().items()))
        interactions = len(self.by_interaction())
        plural = "s" if interactions != 1 else ""
        return f"{len(self.changes)} replacements in {interactions} interaction{plural}: {rules}"

    def extend(self, other: Report) -> None:
        self.changes.extend(other.changes)


_Note = Callable[[str, str], None]  # (location, rule)


_HEADER_MEMO_LIMIT: Final = 4096


class Sanitizer:
    """Sanitizes cassettes; one instance keeps replacements consistent across all it touches."""

    def __init__(self, config: SanitizeConfig | None = None, *, key: bytes | None = None) -> None:
        self.config = config or SanitizeConfig()
        self._key = key if key is not None else _RUN_KEY
        self._jwts: dict[str, str] = {}
        self._identities: dict[str, str] = {}
        self._extra_headers = frozenset(h.lower() for h in (*cfapi.SECRET_HEADERS, *self.config.headers))
        self._json_keys = frozenset(k.lower() for k in self.config.json_keys)
        self._query_params = frozenset(p.lower() for p in (*cfapi.SECRET_QUERY_PARAMS, *self.config.query_params))
        self._form_fields = frozenset(f.lower() for f in (*cfapi.SECRET_FORM_FIELDS, *self.config.form_fields))
        self._patterns = tuple(re.compile(p) for p in self.config.patterns)
        extra = (*self.config.json_keys, *self.config.query_params, *self.config.form_fields)
        self._trigger_words = (*_TRIGGER_WORDS, *(name.lower() for name in extra))
        self._faker: Faker | None = None  # made on first use: most cassettes hold no PII to fake
        # Header values repeat across a session (one bearer token for hundreds of requests):
        # (name, value) -> (result, rules noted), replayed on a hit so reports still count each.
        self._headers: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}

    # ------------------------------------------------------------------ replacements

    def _digest(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()

    def placeholder(self, secret: str) -> str:
        """The placeholder for a token-like secret: the same for the same secret, all run long."""
        return redaction.PLACEHOLDER_PREFIX + self._digest("placeholder", secret)[:8].hex()

    def _replacement(self, name: str, value: str) -> str:
        """A credential the client chose becomes ``***``; a token the server issued, a placeholder."""
        if _JWT.fullmatch(value):
            return self.fake_jwt(value)
        if _PASSWORDISH.search(name):
            return redaction.REDACTED
        return self.placeholder(value)

    def _fake_identity(self, value: str) -> str:
        """A stable Faker stand-in for an email, user name or user id."""
        known = self._identities.get(value)
        if known is None:
            known = self._identities[value] = self._new_identity(value)
        return known

    def _new_identity(self, value: str) -> str:
        digest = self._digest("pii", value)
        try:
            uuid.UUID(value)
        except ValueError:
            pass
        else:
            return str(uuid.UUID(bytes=digest[:16], version=4))
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("en_US")
        self._faker.seed_instance(int.from_bytes(digest[:8], "big"))
        name = self._faker.user_name()
        return f"{name}@{self._faker.safe_domain_name()}" if "@" in value else name

    def fake_jwt(self, token: str) -> str:
        """A structurally valid fake of *token*, signed with cfreplay's published test key."""
        if redaction.is_public_jwt(token):
            return token
        fake = self._jwts.get(token)
        if fake is not None:
            return fake
        decoded = tokens.try_decode(token)
        # Anything JWT-shaped that does not decode is still a secret: it gets a minimal fake.
        header, claims = decoded if decoded is not None else ({"typ": "JWT"}, {"jti": self.placeholder(token)})
        clients = {claims.get("client_id"), claims.get("cid")}
        fake_claims: dict[str, Any] = {}
        for name, value in claims.items():
            if name == "jti" and isinstance(value, str) and not _placeholder_like(value):
                suffix = "-r" if value.endswith("-r") else ""
                fake_claims[name] = self.placeholder(value.removesuffix("-r")) + suffix
            elif name in cfapi.PII_CLAIMS and isinstance(value, str) and value not in clients:
                fake_claims[name] = self._fake_identity(value)
            else:
                fake_claims[name] = value
        fake_header = dict(header)
        if "kid" in fake_header:
            fake_header["kid"] = tokens.TEST_KEY_ID
        fake = tokens.sign(fake_claims, header=fake_header)
        self._jwts[token] = fake
        return fake

    # ------------------------------------------------------------------ text, URLs, forms

    def may_hold_secrets(self, header_names: Iterable[str], texts: Iterable[str]) -> bool:
        """A cheap, conservative pre-check: ``False`` only when no rule could change anything."""
        names = {name.lower() for name in header_names}
        if names & _CREDENTIAL_HEADERS or names & self._extra_headers:
            return True
        return any(self._worth_a_look(text) or (len(text) >= 40 and _BASE64_BLOB.search(text)) for text in texts)

    def _worth_a_look(self, text: str) -> bool:
        if self._patterns:  # custom patterns can match anything
            return True
        lowered = text.lower()
        return any(word in lowered for word in self._trigger_words)

    def sanitize_text(self, text: str, note: _Note, location: str, *, blobs: bool = False) -> str:
        """Every secret the rules can see in free text: JWTs (also escaped), auth values, URLs, patterns.

        Base64-wrapped secrets are looked for in a value that is one blob (a JSON
        string, a header) and, with *blobs*, anywhere in the text (plain bodies).
        """
        whole_blob = len(text) >= 40 and _BASE64_BLOB.fullmatch(text) is not None
        if not whole_blob and not self._worth_a_look(text):
            return text

        def jwt(match: re.Match[str]) -> str:
            fake = self.fake_jwt(match[0])
            if fake != match[0]:
                note(location, "jwt")
            return fake

        text = _JWT.sub(jwt, text)
        if "\\u" in text:
            text = _ESCAPED_RUN.sub(lambda m: self._escaped(m[0], note, location), text)
        text = _AUTH_IN_TEXT.sub(lambda m: self._auth_in_text(m, note, location), text)
        text = self._query_values(text, note, location)
        text = _USERINFO.sub(lambda m: self._userinfo(m, note, location), text)
        if whole_blob or (blobs and len(text) >= 40):
            text = _BASE64_BLOB.sub(lambda m: self._base64_blob(m[0], note, location), text)
        for pattern in self._patterns:
            text = pattern.sub(lambda m: self._pattern_match(m, note, location), text)
        return text

    def _escaped(self, run: str, note: _Note, location: str) -> str:
        plain = _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1], 16)), run)
        if not _JWT.search(plain):
            return run
        return self.sanitize_text(plain, note, location)

    def _auth_in_text(self, match: re.Match[str], note: _Note, location: str) -> str:
        scheme, space, credential = match[1], match[2], match[3]
        # Prose says "Basic authentication" and "bearer tokens": in free text only act on
        # what looks like a credential (a Basic pair that decodes, a token with digits).
        if scheme.lower() == "basic":
            if ":" not in (_b64_text(credential) or ""):
                return match[0]
        elif len(credential) < 16 or not any(c.isdigit() for c in credential):
            return match[0]
        replaced = self.authorization(f"{scheme} {credential}", note, location)
        return replaced.replace(" ", space, 1)

    def _pattern_match(self, match: re.Match[str], note: _Note, location: str) -> str:
        group = 1 if match.re.groups else 0
        secret = match[group]
        if not secret or _already_redacted(secret):
            return match[0]
        note(location, "pattern")
        start, end = match.start(group) - match.start(0), match.end(group) - match.start(0)
        return match[0][:start] + self.placeholder(secret) + match[0][end:]

    def _userinfo(self, match: re.Match[str], note: _Note, location: str) -> str:
        user, password = match["user"], match["pw"]
        if password is None:
            if user == "***" or len(user) < 20:  # a bare user name is no secret; a long token may be
                return match[0]
            note(location, "url-userinfo")
            return f"{match['scheme']}***@"
        if user == "***" and password in ("***", ""):
            return match[0]
        note(location, "url-userinfo")
        return f"{match['scheme']}***:***@"

    def _base64_blob(self, blob: str, note: _Note, location: str) -> str:
        try:
            decoded = base64.b64decode(blob, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return blob
        if "eyJ" not in decoded and "earer " not in decoded:
            return blob
        cleaned = self.sanitize_text(decoded, note, location)
        return blob if cleaned == decoded else base64.b64encode(cleaned.encode()).decode("ascii")

    def _query_values(self, text: str, note: _Note, location: str, *, form: bool = False) -> str:
        """``name=value`` pairs after ``?``, ``&``, ``#`` (or anywhere in a form body)."""
        names = self._form_fields if form else self._query_params
        if "=" not in text:
            return text
        pattern = _FORM_PAIR if form else _QUERY_PAIR

        def pair(match: re.Match[str]) -> str:
            name = urllib.parse.unquote_plus(match["name"])
            value = urllib.parse.unquote_plus(match["value"])
            lower = name.lower()
            secret_name = lower in names or cfapi.is_secret_key(name)  # auth_password=, api_key=…
            if secret_name and value and not _already_redacted(value):
                note(location, "form-field" if form else "url-query")
                return f"{match['lead']}{match['name']}={urllib.parse.quote(self._replacement(lower, value), safe='')}"
            if _JWT.search(value):
                cleaned = self.sanitize_text(value, note, location)
                return f"{match['lead']}{match['name']}={urllib.parse.quote(cleaned, safe='')}"
            return match[0]

        return pattern.sub(pair, text)

    def sanitize_url(self, url: str, note: _Note, location: str) -> str:
        return self.sanitize_text(url, note, location)

    def sanitize_form(self, body: str, note: _Note, location: str) -> str:
        return self._query_values(body, note, location, form=True)

    # ------------------------------------------------------------------ headers

    def authorization(self, value: str, note: _Note, location: str) -> str:
        scheme, space, credential = value.strip().partition(" ")
        credential = credential.strip()
        lower = scheme.lower()
        if lower == "bearer" and credential:
            if _JWT.fullmatch(credential):
                fake = self.fake_jwt(credential)
                if fake != credential:
                    note(location, "jwt")
                return f"{scheme} {fake}"
            if _already_redacted(credential):
                return value
            note(location, "bearer")
            return f"{scheme} {self.placeholder(credential)}"
        if lower == "basic" and credential:
            if credential in cfapi.PUBLIC_BASIC_CREDENTIALS:
                return value
            try:
                user, colon, password = base64.b64decode(credential, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                user, colon, password = "***", ":", "secret"
            if not colon or not password or password == redaction.REDACTED:
                return value
            note(location, "basic")
            return f"{scheme} {base64.b64encode(f'{user}:{redaction.REDACTED}'.encode()).decode('ascii')}"
        if not space:  # a bare token, no scheme
            if not value or _already_redacted(value):
                return value
            if _JWT.fullmatch(value):
                return self.authorization(f"Bearer {value}", note, location).partition(" ")[2]
            note(location, "authorization")
            return self.placeholder(value)
        return self.sanitize_text(value, note, location)

    def _cookie_pairs(self, pairs: str, note: _Note, location: str, *, first_only: bool) -> str:
        parts = pairs.split(";")
        for index, part in enumerate(parts):
            if first_only and index > 0:
                break
            name, equals, value = part.partition("=")
            stripped = value.strip().strip('"')
            if not equals or not stripped or _already_redacted(stripped):
                continue
            note(location, "cookie")
            parts[index] = f"{name}={self.placeholder(stripped)}"
        return ";".join(parts)

    def sanitize_header(self, name: str, value: str, note: _Note, location: str) -> str:
        key = (name.lower(), value)
        known = self._headers.get(key)
        if known is None:
            rules: list[str] = []

            def remember(where: str, rule: str) -> None:
                # Header rules note the header's own location; anything else is not memoised.
                rules.append(rule if where == location else "")

            result = self._sanitize_header(name, value, remember, location)
            if "" in rules:
                return self._sanitize_header(name, value, note, location)
            if len(self._headers) >= _HEADER_MEMO_LIMIT:
                self._headers.clear()
            known = self._headers[key] = (result, tuple(rules))
        for rule in known[1]:
            note(location, rule)
        return known[0]

    def _sanitize_header(self, name: str, value: str, note: _Note, location: str) -> str:
        lower = name.lower()
        if lower in cfapi.AUTHORIZATION_HEADERS:
            return self.authorization(value, note, location)
        if lower == "cookie":
            return self._cookie_pairs(value, note, location, first_only=False)
        if lower == "set-cookie":
            return self._cookie_pairs(value, note, location, first_only=True)
        if lower in self._extra_headers:
            if not value or _already_redacted(value):
                return value
            note(location, "header")
            return self.placeholder(value)
        return self.sanitize_text(value, note, location)

    # ------------------------------------------------------------------ JSON

    def sanitize_json(self, document: Any, note: _Note, location: str, *, env_map: bool = False) -> Any:
        """A sanitized copy of a parsed JSON document (key order and types kept)."""
        if env_map and isinstance(document, dict):
            return self._env(document, note, location)
        return self._json(document, note, location)

    def _json(self, value: Any, note: _Note, location: str) -> Any:
        if isinstance(value, str):
            return self.sanitize_text(value, note, location)
        if isinstance(value, list):
            return [self._json(item, note, location) for item in value]
        if not isinstance(value, dict):
            return value
        result: dict[str, Any] = {}
        for key, item in value.items():
            lower = key.lower() if isinstance(key, str) else ""
            if lower in cfapi.DOCKER_CREDENTIAL_KEYS and isinstance(item, dict) and self._holds_secret(item):
                note(location, "docker-credentials")
                result[key] = dict(cfapi.REDACTED_MESSAGE)
            elif lower in cfapi.CREDENTIAL_OBJECT_KEYS and isinstance(item, (dict, list)) and self._holds_secret(item):
                note(location, "credentials")
                result[key] = dict(cfapi.REDACTED_MESSAGE)
            elif lower in cfapi.ENV_MAP_KEYS and isinstance(item, dict):
                result[key] = self._env(item, note, location)
            elif lower == "jti" and isinstance(item, str) and item and not _placeholder_like(item):
                result[key] = self._token_id(item, value, note, location)
            elif isinstance(key, str) and (cfapi.is_secret_key(key) or lower in self._json_keys):
                result[key] = self._secret_value(key, item, note, location)
            else:
                result[key] = self._json(item, note, location)
        return result

    def _token_id(self, jti: str, siblings: Mapping[str, Any], note: _Note, location: str) -> str:
        """A token response's ``jti`` names its access token: it follows that token's (fake) jti."""
        access = siblings.get("access_token")
        if isinstance(access, str) and _JWT.fullmatch(access):
            decoded = tokens.try_decode(self.fake_jwt(access))
            claimed = decoded[1].get("jti") if decoded else None
            if isinstance(claimed, str):
                if claimed != jti:
                    note(location, "token-id")
                return claimed
        note(location, "token-id")
        suffix = "-r" if jti.endswith("-r") else ""
        return self.placeholder(jti.removesuffix("-r")) + suffix

    def _holds_secret(self, value: Any) -> bool:
        """Whether an object holds anything but nulls, booleans and redaction markers."""
        if isinstance(value, dict):
            return any(self._holds_secret(v) for v in value.values())
        if isinstance(value, list):
            return any(self._holds_secret(v) for v in value)
        if isinstance(value, str):
            return not _already_redacted(value)
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def _secret_value(self, key: str, value: Any, note: _Note, location: str) -> Any:
        if isinstance(value, str):
            if not value or _already_redacted(value):
                return value
            note(location, "jwt" if _JWT.fullmatch(value) else "json-key")
            return self._replacement(key, value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            note(location, "json-key")
            return 0
        if isinstance(value, list):
            return [self._secret_value(key, item, note, location) for item in value]
        if isinstance(value, dict):
            return {k: self._secret_value(key, v, note, location) for k, v in value.items()}
        return value

    def _env(self, env: dict[str, Any], note: _Note, location: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in env.items():
            secret_name = self.config.redact_all_env or cfapi.is_secret_env_name(str(name))
            if secret_name and isinstance(value, str) and value and not _already_redacted(value):
                note(location, "env-value")
                result[name] = redaction.REDACTED
                continue
            result[name] = self._json(value, note, location)
        return result

    # ------------------------------------------------------------------ bodies

    def sanitize_body(
        self, body: str | bytes | None, headers: Mapping[str, list[str]], note: _Note, location: str, *, uri: str = ""
    ) -> str | bytes | None:
        """A sanitized body of the same type; compressed bodies come back decompressed (see module doc)."""
        if body is None or body == "" or body == b"":
            return body
        text = body if isinstance(body, str) else _utf8(body)
        if text is None:
            return body
        if not self._worth_a_look(text) and not (len(text) >= 40 and _BASE64_BLOB.search(text)):
            return body
        content_type = _header(headers, "content-type").lower()
        stripped = text.lstrip()
        if "json" in content_type or stripped[:1] in ("{", "["):
            cleaned = self._json_text(text, note, location, env_map=any(p in uri for p in cfapi.ENV_MAP_PATHS))
        elif "x-www-form-urlencoded" in content_type or _looks_like_form(stripped):
            cleaned = self.sanitize_form(text, note, location)
            cleaned = self.sanitize_text(cleaned, note, location)
        else:
            cleaned = self.sanitize_text(text, note, location, blobs=True)
        if cleaned == text:
            return body
        return cleaned if isinstance(body, str) else cleaned.encode("utf-8")

    def _json_text(self, text: str, note: _Note, location: str, *, env_map: bool) -> str:
        try:
            document = json.loads(text)
        except ValueError:
            return self.sanitize_text(text, note, location)
        changed: list[tuple[str, str]] = []

        def recording_note(where: str, rule: str) -> None:
            changed.append((where, rule))

        cleaned = self.sanitize_json(document, recording_note, location, env_map=env_map)
        if not changed:
            return text
        for where, rule in changed:
            note(where, rule)
        replacements = _string_changes(document, cleaned)
        if replacements is not None:
            patched = _patch_strings(text, replacements)
            if patched is not None:
                return patched
        return _dump_like(document, cleaned, text)

    # ------------------------------------------------------------------ interactions and cassettes

    def sanitize_interaction(self, interaction: dict[str, Any], index: int, report: Report) -> None:
        """Sanitize one vcrpy interaction in place, recording each change in *report*."""

        def note(location: str, rule: str) -> None:
            report.changes.append(Change(index, location, rule))

        request, response = interaction["request"], interaction["response"]
        request["uri"] = self.sanitize_url(request["uri"], note, "request.uri")
        for side, data in (("request", request), ("response", response)):
            headers: dict[str, list[str]] = data.get("headers") or {}
            for name, values in headers.items():
                headers[name] = [self.sanitize_header(name, v, note, f"{side}.headers.{name}") for v in values]
        body = request.get("body")
        new_body = self._side_body(body, request.get("headers") or {}, note, "request.body", request["uri"], False)
        if new_body is not body:
            request["body"] = new_body
        body = response["body"].get("string")
        new_body = self._side_body(body, response.get("headers") or {}, note, "response.body", request["uri"], True)
        if new_body is not body:
            response["body"]["string"] = new_body

    def _side_body(
        self,
        body: str | bytes | None,
        headers: dict[str, list[str]],
        note: _Note,
        location: str,
        uri: str,
        decompress: bool,
    ) -> str | bytes | None:
        encoding = _header(headers, "content-encoding").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate") and body:
            raw = body.encode("utf-8") if isinstance(body, str) else body
            plain = _decompress(raw, encoding)
            if plain is None:
                # vcrpy stores some clients' bodies already decoded under a header that still
                # says gzip: sanitize the body as it is, and stop the header lying on replay.
                plain, compressed = raw, False
            else:
                compressed = True
            cleaned = self.sanitize_body(plain, headers, note, location, uri=uri)
            assert isinstance(cleaned, bytes)
            if decompress:
                # Stored decoded, so requests and httpx replay it alike (each handles a
                # recorded compressed body differently).
                _remove_header(headers, "content-encoding")
                note(location.replace("body", "headers.Content-Encoding"), "content-encoding")
                text = _utf8(cleaned)
                _set_length(headers, len(cleaned))
                return text if text is not None else cleaned
            if cleaned == plain:
                return body
            if not compressed:
                return cleaned.decode("utf-8") if isinstance(body, str) else cleaned
            recompressed = _compress(cleaned, encoding)
            _set_length(headers, len(recompressed))
            return recompressed
        cleaned_body = self.sanitize_body(body, headers, note, location, uri=uri)
        if cleaned_body is not body and cleaned_body is not None:
            size = len(cleaned_body.encode("utf-8") if isinstance(cleaned_body, str) else cleaned_body)
            _set_length(headers, size)
        return cleaned_body

    def sanitize_data(self, data: dict[str, Any], *, path: str | os.PathLike[str] = "<cassette>") -> Report:
        """Sanitize cassette data (vcrpy's dict) in place."""
        report = Report()
        for index, interaction in enumerate(data.get("interactions", [])):
            try:
                self.sanitize_interaction(interaction, index, report)
            except (KeyError, TypeError, AttributeError) as error:
                raise CassetteError(path, f"cannot be sanitized ({type(error).__name__})", interaction=index) from None
        return report

    def sanitize_cassette(self, cassette: Cassette) -> Report:
        return self.sanitize_data(cassette.data, path=cassette.path)

    def sanitize_file(self, path: str | os.PathLike[str], *, check: bool = False) -> Report:
        """Load, sanitize and (unless *check*) atomically rewrite one cassette file.

        The file is only rewritten when its bytes would change, so a clean
        cassette keeps its mtime.
        """
        loaded = cassette_files.load(path)
        original = Path(path).read_bytes()
        report = self.sanitize_cassette(loaded)
        payload = cassette_files.dumps(loaded.data, loaded.format)
        if payload != original and not report:
            # Only re-serialisation differences (a cassette not written by vcrpy): nothing secret changed.
            return report
        if report and not check:
            cassette_files.atomic_write(path, payload)
        return report

    def sanitize_dict(self, document: dict[str, Any]) -> tuple[dict[str, Any], Report]:
        """A sanitized deep copy of cassette data, and what changed."""
        copied = copy.deepcopy(document)
        return copied, self.sanitize_data(copied)


_QUERY_PAIR: Final = re.compile(r"(?P<lead>[?&#;])(?P<name>[^=&#\s\"'<>?]+)=(?P<value>[^&#\s\"'<>]*)")
_FORM_PAIR: Final = re.compile(r"(?P<lead>^|&)(?P<name>[^=&\s]+)=(?P<value>[^&\s]*)")
_FORM_BODY: Final = re.compile(r"^[\w.%+~*-]+=[^&\s]*(?:&[\w.%+~*-]+=[^&\s]*)*$")


def _looks_like_form(text: str) -> bool:
    return len(text) < 1_000_000 and _FORM_BODY.match(text) is not None


def _b64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _header(headers: Mapping[str, list[str]], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[0]
    return ""


def _remove_header(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name]:
        del headers[key]


def _set_length(headers: dict[str, list[str]], size: int) -> None:
    """Recompute Content-Length where the recording had one, so it tells nothing of the secret."""
    for key in headers:
        if key.lower() == "content-length":
            headers[key] = [str(size)]


def _decompress(data: bytes, encoding: str) -> bytes | None:
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
    except (OSError, EOFError, zlib.error):
        return None


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    return zlib.compress(data)


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
        elif isinstance(old, list) and isinstance(new, list):
            if len(old) != len(new):
                return None
            stack.extend(zip(old, new, strict=True))
        elif type(old) is not type(new) or old != new:
            return None
    return changes


def _patch_strings(text: str, replacements: list[tuple[str, str]]) -> str | None:
    """Swap each changed string's JSON form in place, keeping the body's layout byte for byte.

    ``None`` when a string is not found in its plain JSON form (the body escaped it
    differently); the caller then re-serialises.  A non-secret value that happens to
    equal a secret is replaced too, which can only over-redact.
    """
    for old, new in replacements:
        encoded_old = json.dumps(old, ensure_ascii=False)
        if encoded_old not in text:
            encoded_old = json.dumps(old)
            if encoded_old not in text:
                return None
        text = text.replace(encoded_old, json.dumps(new, ensure_ascii=False))
    return text


def _dump_like(original: Any, cleaned: Any, text: str) -> str:
    """Serialise *cleaned* in the layout *text* used, when a usual layout reproduces it.

    The layout is guessed from the text's opening, then confirmed by
    re-serialising the original once; CC pretty-prints with two spaces, Oj and
    UAA write compact JSON, Python's default puts spaces after separators.
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
    if json.dumps(original, ensure_ascii=ensure_ascii, **layout) == body:
        return json.dumps(cleaned, ensure_ascii=ensure_ascii, **layout) + trailing
    return json.dumps(cleaned, ensure_ascii=False, **layout) + trailing


def iter_cassette_files(paths: Iterable[str | os.PathLike[str]]) -> Iterable[Path]:
    """Files named directly, and the YAML and JSON files below directories (sorted, hidden folders skipped)."""
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                parts = child.relative_to(path).parts
                if any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts[:-1]):
                    continue
                if child.is_file() and child.suffix.lower() in (".yaml", ".yml", ".json"):
                    yield child
        else:
            yield path


_SKIPPED_DIRS: Final = frozenset({"__pycache__", "node_modules", "venv", "dist", "build"})
