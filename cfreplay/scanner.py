"""Prove that no secret is left in cassettes and test files.

The scanner reads raw text; it never YAML-parses a whole cassette.  A parser
runs at a few MB/s, and the scanner has to keep up with a test suite's
cassettes on every CI run (the target is 100 MB/s).  So the work happens in a
few passes of compiled regular expressions over the text, and only what needs
decoding is decoded.

How the passes are built
    CPython's ``re`` finds a pattern quickly only when the pattern opens with
    a literal: it then skips straight to the places where that literal
    occurs.  A pattern that opens with a character class tries every position
    and is ten times slower.  So each rule opens with a literal that is rare
    in cassettes: ``J`` of ``eyJ`` (a JWT), ``B``/``b`` of
    ``Bearer``/``Basic``, ``k`` of ``Cookie``, ``=`` of a query parameter,
    ``@`` of URL userinfo, ``%`` of a URL escape, ``u`` of a JSON escape
    (``\\u0065``), ``!`` of a YAML tag, ``q`` of ``- request:`` (where an
    interaction begins), or a rare letter of base64 text that hides ``eyJ``
    or ``earer``.  These rules are the alternatives of one pattern
    (:data:`_MASTER`), grouped by their opening literal.  Each alternative
    ends in an empty named group, and ``match.lastgroup`` tells which rule
    fired.  Lookarounds placed right after the literal drop most false starts
    inside the regex engine, so Python code runs only for real candidates.  A
    JWT is consumed whole by its alternative, so the scan never walks through
    its characters one by one.  One more pass opens with its own literal: the
    ends of JSON keys (``":``), for the secret-key rule.

What gets decoded
    A line holding URL escapes of letters or delimiters, or JSON escapes of
    ASCII, is decoded and the line is scanned again.  A base64 run holding the
    base64 form of ``eyJ`` or ``earer`` is decoded and scanned.  So is a YAML
    ``!!binary`` block, inflated first if it is gzip or deflate.  A finding in
    decoded text points at the line where the encoded text starts, and its
    location names the decoding, e.g. ``response.body (gzip)``.

Where a finding is
    Interactions begin at the ``- request:`` lines (YAML) or the structural
    ``"request":`` keys (JSON).  A finding's interaction is found by bisecting
    those offsets.  Its location (``request.headers.Authorization``,
    ``response.body``, ``request.uri``…) comes from searching back for the
    nearest structural keys.  It is approximate by design and exact for
    cassettes as vcrpy writes them.

Plain files
    Test sources, JSON fixtures and docs are not cassettes.  Only the jwt,
    bearer and basic rules run there (plus any ``extra_patterns``), because
    JSON keys and query strings in source code are code, not recorded traffic.

Dangerous YAML
    A YAML cassette holding a ``!`` tag other than ``!!binary``, or a ``%TAG``
    directive, is loaded with :func:`cfreplay.cassette.loads`.  That call refuses
    ``!!python/...`` tags with :class:`~cfreplay.CassetteError`, so such a file
    is never reported clean, and nothing in it is ever constructed.  A
    ``.yaml``/``.yml`` file that is no cassette but holds a tag goes through the
    same safe loader, and only a ``!!python`` tag makes it an error.

A finding never holds the secret: ``masked`` shows at most two characters
(``eyJ…`` for a JWT), and never the secret's length.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import hashlib
import hmac
import os
import re
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, NamedTuple

import yaml

from cfreplay import cassette, cfapi, redaction, tokens
from cfreplay.errors import CassetteError

try:  # libyaml is several times faster; the pure-Python class behaves the same.
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = ["RULES", "Finding", "ScanResult", "iter_files", "scan_file", "scan_paths", "scan_text"]

#: Every rule a finding can name.
RULES: Final = (
    "jwt",
    "bearer",
    "basic",
    "secret-key",
    "docker-credentials",
    "url-userinfo",
    "cookie",
    "query-secret",
    "form-secret",
    "pattern",
)

#: Directories never worth scanning: VCS data, virtualenvs, caches and build output.
SKIP_DIRS: Final = frozenset({
    ".git", ".venv", "venv", "__pycache__", "node_modules", ".hypothesis", ".mypy_cache", ".ruff_cache", "dist",
    "build",
})  # fmt: skip
#: Suffixes of files that may be cassettes; such a file that is binary is an error, not skipped.
CASSETTE_SUFFIXES: Final = (".yaml", ".yml", ".json")

_ELLIPSIS: Final = "…"
#: Values shorter than this are masked to the ellipsis alone: two characters of a short
#: secret would give away too much of it.
_MASK_MIN_LENGTH: Final = 12
#: Bearer tokens shorter than this are prose ("Bearer authentication"), not credentials.
_MIN_TOKEN: Final = 16
#: Decoded views nest (a gzip body holding a JSON-escaped line…); this bounds the work.
_MAX_DEPTH: Final = 3
#: Base64 runs are decoded up to this length: a JWT or a bearer header hides near the start
#: of what it is wrapped in, and a multi-megabyte blob must not be decoded in full.
_MAX_BLOB: Final = 1024 * 1024
#: Inflated bodies larger than this are cut: a decompression bomb must not exhaust memory.
_MAX_INFLATED: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """One secret left in a file, described without revealing it."""

    path: str
    #: Zero-based interaction index in a cassette; ``None`` for plain files.
    interaction: int | None
    #: Where in the interaction (``request.headers.Authorization``, ``response.body (gzip)``),
    #: or ``line N`` in a plain file.
    location: str
    #: One of :data:`RULES`.
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


# --------------------------------------------------------------------------- patterns

# Whitespace as YAML may write it between two words of a scalar: spaces, a line break
# folded by the emitter (libyaml writes a bare newline, PyYAML ends the line with a
# backslash), or an escaped space.
_GAP: Final = r"(?:[ \t]|\\?\n[ \t]*|\\[ ])+"
_TOKEN_CHAR: Final = r"[A-Za-z0-9._~+/=-]"
_JWT_AHEAD: Final = r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\."
_PUBLIC_BASIC: Final = "|".join(re.escape(value) for value in cfapi.PUBLIC_BASIC_CREDENTIALS)

# A bearer token worth looking at: long enough, and not a JWT (the jwt rule reports those,
# so a token is never reported twice).
_BEARER_FILTER: Final = rf"(?={_GAP}(?:{_TOKEN_CHAR}|\\/){{{_MIN_TOKEN}}})(?!{_GAP}{_JWT_AHEAD})"
# The cf CLI's public client (``Basic Y2Y6``) is dropped inside the engine: it is on every
# UAA request.
_BASIC_FILTER: Final = rf"(?={_GAP}[A-Za-z0-9+/]{{4}})(?!{_GAP}(?:{_PUBLIC_BASIC})(?![A-Za-z0-9+/=]))"

# Query and form names are matched by their last word, so ``token`` covers access_token,
# refresh_token, id_token and x-amz-security-token.  Python then checks the whole name.
_PARAM_NAMES: Final = frozenset(name.lower() for name in (*cfapi.SECRET_QUERY_PARAMS, *cfapi.SECRET_FORM_FIELDS))
_PARAM_SUFFIXES: Final = sorted({re.split(r"[_-]", name)[-1] for name in _PARAM_NAMES}, key=lambda s: (-len(s), s))
_QUERY_LOOKBEHIND: Final = "|".join(f"(?<={re.escape(suffix)}=)" for suffix in _PARAM_SUFFIXES)
_QUERY_PARAMS: Final = frozenset(name.lower() for name in cfapi.SECRET_QUERY_PARAMS)
_FORM_FIELDS: Final = frozenset(name.lower() for name in cfapi.SECRET_FORM_FIELDS)

# URL escapes worth decoding: letters, digits and unreserved characters (nobody escapes
# those except to hide them) and the delimiters of an embedded query or userinfo.  ``%3A``
# and ``%2F`` are left out: every CC ``q=name%3A…`` filter and redirect URL has them.
_PERCENT_AHEAD: Final = r"(?=[46][0-9A-Fa-f]|[57][0-9Aa]|3[0-9DdFf]|2[36DdEe]|5[Ff]|7[Ee]|40)"


def _base64_signatures(needle: bytes) -> list[str]:
    """The base64 text that *needle* becomes at each of the three byte alignments.

    Only the characters made of *needle*'s bits alone are kept, so the signature is found
    whatever surrounds the needle.  URL-safe spellings are included.
    """
    signatures: set[str] = set()
    for shift in range(3):
        padded = b"\0" * shift + needle
        encoded = base64.b64encode(padded + b"\0" * (-len(padded) % 3)).decode("ascii")
        first = -(-8 * shift // 6)
        last = 8 * (shift + len(needle)) // 6
        signature = encoded[first:last]
        signatures.update((signature, signature.translate(str.maketrans("+/", "-_"))))
    return sorted(signatures)


def _anchored(signature: str) -> tuple[str, str]:
    """*signature* as (opening literal, rest), opening on a character other rules open on.

    Every distinct opening character costs the master pattern a stop wherever it occurs,
    so signatures share as few of them as they can.  The characters before the opening
    one are checked by a lookbehind, once it is found.
    """

    def preference(i: int) -> tuple[int, int]:
        rank = _SIGNATURE_ANCHORS.find(signature[i])
        return (rank if rank >= 0 else len(_SIGNATURE_ANCHORS), i)

    at = min(range(len(signature)), key=preference)
    behind = f"(?<={re.escape(signature[: at + 1])})" if at else ""
    return signature[at], behind + re.escape(signature[at + 1 :])


_BASE64_NEEDLES: Final = (b"eyJ", b"earer ", b"EARER ")
_BASE64_SIGNATURES: Final = sorted({s for needle in _BASE64_NEEDLES for s in _base64_signatures(needle)})
#: Opening characters for base64 signatures, best first: J, K and B open other rules
#: already, and all of them, U, V and W are rare outside base64 (unlike Z, which ends
#: every CC timestamp).  Every signature of the needles above holds one of them.
_SIGNATURE_ANCHORS: Final = "JKUBVW"


def _alternatives() -> dict[str, tuple[str, str]]:
    """The master pattern's alternatives: name -> (opening literal, rest of the pattern).

    Every alternative opens with a bare literal.  That is what lets ``re`` skip to
    candidate positions instead of trying every character (see the module docstring).
    """
    alternatives = {
        # The whole token: the handler then needs no second match.
        "jwt": ("J", r"(?<=eyJ)[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        "bearer": ("B", rf"earer{_BEARER_FILTER}"),
        "bearer_upper": ("B", rf"EARER{_BEARER_FILTER}"),
        "basic": ("B", rf"asic{_BASIC_FILTER}"),
        "basic_upper": ("B", rf"ASIC{_BASIC_FILTER}"),
        "bearer_lower": ("b", rf"earer{_BEARER_FILTER}"),
        "basic_lower": ("b", rf"asic{_BASIC_FILTER}"),
        "cookie": ("k", r'ie(?<=ookie)(?=\\?"?[ \t]*:)'),
        "cookie_upper": ("K", r'IE(?<=OOKIE)(?=\\?"?[ \t]*:)'),
        "query": ("=", rf"(?i:{_QUERY_LOOKBEHIND})"),
        "userinfo": ("@", r"""(?<=[^\s/?#@"'\\<>]@)"""),
        "percent": ("%", _PERCENT_AHEAD),
        "tag_directive": ("%", r"TAG"),
        "binary": ("!", r"!binary(?=[ \t]*[|>\n])"),
        "tag": ("!", r"(?<=[\s\[{,]!)(?=[!<\w%])"),
        # JSON escapes of printable ASCII (\u0065yJ…, Go's \u0026): nobody needs those
        # except to hide text.  Escapes of other characters cannot hide an ASCII secret.
        "escape": ("u", r"00[2-7][0-9A-Fa-f](?<=\\u00[2-7][0-9A-Fa-f])"),
        # Where interactions begin, noted on the way instead of in a pass of their own:
        # ``- request:`` lines in YAML (vcrpy's layout, or indented by two), ``"request":``
        # in JSON (keys inside recorded JSON bodies are escaped, \"request\").
        "interaction": ("q", r"uest:(?<=\n- request:)"),
        "interaction_indented": ("q", r"uest:(?<=\n  - request:)"),
        "interaction_json": ("q", r'uest":(?<="request":)'),
    }
    for index, signature in enumerate(_BASE64_SIGNATURES):
        alternatives[f"base64_{index}"] = _anchored(signature)
    return alternatives


_ALTERNATIVES: Final = _alternatives()
#: Opening characters by how often they occur in cassettes, most frequent first.
_FREQUENT: Final = "bukJUVKBWq"
_PLAIN_RULES: Final = frozenset(
    {"jwt", "bearer", "bearer_lower", "bearer_upper", "basic", "basic_lower", "basic_upper", "percent", "escape"}
)


def _master(names: Iterable[str]) -> re.Pattern[str]:
    """One pattern for the named alternatives, grouped by their opening literal.

    ``re`` tries a position's alternatives one by one, so alternatives sharing an opening
    character are nested under it: a candidate costs one test per distinct opening
    character, not one per rule.
    """
    by_first: dict[str, list[str]] = {}
    for name in names:
        first, rest = _ALTERNATIVES[name]
        by_first.setdefault(first, []).append(f"{rest}(?P<{name}>)")
    # The most frequent opening characters go first: they are tested most often.
    order = sorted(by_first, key=lambda c: (c not in _FREQUENT, _FREQUENT.find(c), c))
    return re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(by_first[first])})" for first in order))


_MASTER: Final = _master(_ALTERNATIVES)
_MASTER_PLAIN: Final = _master(name for name in _ALTERNATIVES if name in _PLAIN_RULES or name.startswith("base64_"))

# Ends of JSON keys that can name a secret, found by their last four characters.  This
# covers the key's last word: access_token, client_secret, auth_password, apiKey,
# private_key and env names such as DB_PASSWORD, SENTRY_DSN.  Python then checks the
# whole key with cfapi.is_secret_key (or, for UPPER_CASE names, cfapi.is_secret_env_name).
# A key whose secret word sits in the middle (passwordLastModified, a UAA timestamp) is
# not matched, and that is on purpose.
_KEY_ENDS: Final = (
    "oken|OKEN|word|WORD|sswd|SSWD|cret|CRET|code|CODE|tial|TIAL|PASS|AUTH|CERT|VATE|SION|SALT|TURE|IALS"
    "|.key|.Key|.KEY|.PWD|.DSN"
)
# Cheap one-character tests run first: escaped keys (\"key\":) are everywhere in YAML
# bodies, and the last two letters of a key turn most of them away.
_KEY_LAST: Final = "ndtelyNDTELYSHR"
_KEY_BEFORE_LAST: Final = "eErRwWtTdDaAkKSTHNLEIOV"
_KEY_END: Final = re.compile(
    rf'":(?:(?<=[{_KEY_LAST}]\\":)(?<=[{_KEY_BEFORE_LAST}][{_KEY_LAST}]\\":)(?<=(?:{_KEY_ENDS})\\":)'
    rf'|(?<=[^\\]":)(?<=(?:{_KEY_ENDS})":))'
)

_JWT: Final = tokens.JWT_PATTERN
# A JSON writer may escape the slashes of a base64 token (abc\/def): they stay in the token.
_BEARER_TOKEN: Final = re.compile(rf"{_GAP}({_TOKEN_CHAR}(?:{_TOKEN_CHAR}|\\/)*)")
_BASIC_VALUE: Final = re.compile(rf"{_GAP}([A-Za-z0-9+/]+=*)")
_QUERY_VALUE: Final = re.compile(r"""[^&#;\s"'\\<>]*""")
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.%-")
_URL_STOP: Final = frozenset(" \t\n\"'<>")
_AUTHORITY_STOP: Final = frozenset("/?#@\"'\\<> \t\n")
# What may precede the first field of a form body: the start of a YAML or JSON body scalar.
_FORM_START: Final = re.compile(r"""(?:body|string)\\?"?:[ \t]*\\?["']?\Z""")
# A JSON string value after a key's colon: the opening quote, then its characters (an
# escaped quote closes it in YAML-escaped JSON).
# (The loop is unrolled: runs of plain characters are consumed in one step each.)
_STRING_CHARS: Final = r'[^"\\\n]*(?:\\[^"\n][^"\\\n]*)*'
_KEY_VALUE: Final = re.compile(rf'(?:{_GAP})?\\?"({_STRING_CHARS})')
# The continuation of a value that YAML folded onto the next line.
_FOLD: Final = re.compile(rf"(\\?)\n[ \t]*(\\[ ])?({_STRING_CHARS})")
_BASE64_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/_-]*=*")
_BASE64_FOUND: Final = re.compile(b"|".join(re.escape(needle) for needle in _BASE64_NEEDLES))
_BINARY_BLOCK: Final = re.compile(r"[ \t]*[|>][-+0-9]*[ \t]*\r?\n((?:[ \t]+[A-Za-z0-9+/=]+[ \t]*\r?(?:\n|\Z))+)")
_BINARY_INLINE: Final = re.compile(r"""[ \t]+["']?([A-Za-z0-9+/=\s]+)""")
# Any run of backslashes: JSON recorded inside a JSON cassette or a YAML double-quoted
# string has its escapes escaped again (\\u0065 stands for \u0065, which stands for "e").
_JSON_UNICODE: Final = re.compile(r"\\+u([0-9A-Fa-f]{4})")
_UPPER_NAME: Final = re.compile(r"[A-Z][A-Z0-9_]*")
_PLACEHOLDER_PART: Final = re.compile(re.escape(redaction.PLACEHOLDER_PREFIX) + "[0-9a-f]{0,16}")
_YAML_ITEM: Final = re.compile(r"[ \t\r]*\n([ \t]*)- ?([^\r\n]*)")
_JSON_ITEM: Final = re.compile(r'\s*"((?:[^"\\\n]|\\.)*)"\s*,?')
_NOT_HEADER_START: Final = frozenset(" -'\"")
_JSON_SECTION: Final = re.compile(r'"(body|headers|uri|method|status)":')
_JSON_HEADER_KEY: Final = re.compile(r'"([^"\\\n]+)":\s*\[')


# --------------------------------------------------------------------------- small helpers


def _mask(rule: str, value: str) -> str:
    """Enough to recognise a finding, never enough to use it, and never its length."""
    if rule == "jwt":
        return "eyJ" + _ELLIPSIS
    return value[:2] + _ELLIPSIS if len(value) >= _MASK_MIN_LENGTH else _ELLIPSIS


_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's inner and outer hash states for *key* (RFC 2104), computed once.

    Copying them costs half of what ``hmac.digest`` spends setting the key up on each call.
    """
    block = hashlib.sha256().block_size
    key = hashlib.sha256(key).digest() if len(key) > block else key.ljust(block, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


_PUBLIC_KEYS: Final = tuple(_hmac_pads(key.encode("utf-8")) for key in (tokens.TEST_KEY, tokens.CC_DOCS_SECRET))


def _is_public_jwt(token: str) -> bool:
    """:func:`redaction.is_public_jwt`, fast for the common case of a foreign token.

    A token whose HMAC-SHA256 matches neither published key is not public: two HMACs
    from precomputed key states decide that.  Only a token that does match is checked by
    the reference function, so both always agree.
    """
    head, _, signature = token.rpartition(".")
    try:  # base64url_decode without its wrappers: the JWT pattern admits only base64url characters
        given = binascii.a2b_base64(signature.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(signature) % 4))
    except binascii.Error:
        return False
    message = head.encode("ascii")
    for inner_pad, outer_pad in _PUBLIC_KEYS:
        inner, outer = inner_pad.copy(), outer_pad.copy()
        inner.update(message)
        outer.update(inner.digest())
        if hmac.compare_digest(outer.digest(), given):
            return redaction.is_public_jwt(token)
    return False


@functools.lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    if cfapi.is_secret_key(key):
        return True
    # UPPER_CASE keys are environment variables (environment_json, VCAP_SERVICES…),
    # where the wider env-name test applies.
    return _UPPER_NAME.fullmatch(key) is not None and cfapi.is_secret_env_name(key)


def _is_clean(value: str) -> bool:
    """Nothing to report: empty, redacted, or holding a JWT (which the jwt rule reports).

    A placeholder cut short (``cfreplay-redacted-`` in a test's ``startswith``) is
    cfreplay's own output too.
    """
    return (
        _JWT.search(value) is not None or redaction.is_redacted(value) or _PLACEHOLDER_PART.fullmatch(value) is not None
    )


def _basic_secret(value: str) -> str | None:
    """The secret part of a ``Basic`` credential, or ``None`` when *value* is no credential."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    _, colon, secret = decoded.decode("utf-8", "replace").partition(":")
    return secret if colon else None


def _unquote_yaml(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _inflate(data: bytes) -> tuple[str, str]:
    """Text of a recorded body, and how it was decoded: gzip, deflate or binary."""
    if data[:2] == b"\x1f\x8b":
        label, wbits = "gzip", 16 + zlib.MAX_WBITS
    elif len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        label, wbits = "deflate", zlib.MAX_WBITS
    else:
        try:
            return data.decode("utf-8"), "binary"
        except UnicodeDecodeError:
            # Raw deflate has no header to recognise it by: it counts only if it inflates
            # to the end of a stream, which arbitrary bytes almost never do.
            label, wbits = "deflate", -zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        inflated = inflater.decompress(data, _MAX_INFLATED)
    except zlib.error:
        inflated = b""
    if label == "deflate" and wbits < 0 and not inflater.eof:
        inflated = b""
    if not inflated:
        return data.decode("utf-8", "replace"), "binary"
    return inflated.decode("utf-8", "replace"), label


# --------------------------------------------------------------------------- the engine


#: A sighting: (file offset, rule, secret, location suffix).  The offset is the secret's,
#: or for decoded text where the encoded text starts; the suffix names the decoding
#: (" (gzip)").  A plain tuple: hits are made by the thousand.
_Hit = tuple[int, str, str, str]


class _View(NamedTuple):
    """A text being scanned: the file itself, or something decoded from it."""

    text: str
    anchor: int | None  # None for the file itself; else the file offset all hits point at
    suffix: str
    depth: int
    cassette: bool  # whether the cassette-only rules apply


Format = Literal["yaml", "json"]


class _Scan:
    """One file's scan: collects hits from the file and its decoded views, then makes findings."""

    def __init__(self, text: str, path: str, fmt: Format, *, cassette: bool, patterns: Sequence[re.Pattern[str]]):
        self.text = text
        self.path = path
        self.fmt: Format = fmt
        self.cassette = cassette
        self.patterns = patterns
        self.hits: list[_Hit] = []
        self.dangerous = False
        self.base64_decoded: dict[str, str | None] = {}
        # A recorded session sends the same token with every request: check each once.
        self.public_jwts: dict[str, bool] = {}
        self.starts: list[int] = []  # offsets where interactions begin
        self.indent = 0  # YAML: indentation of the interactions' "- " marker
        self.decoded_lines: set[tuple[int, str]] = set()  # lines of the current view already decoded
        self.handlers: dict[str, Callable[[_View, re.Match[str]], int]] = {
            "jwt": self._jwt,
            "bearer": self._bearer,
            "bearer_lower": self._bearer,
            "bearer_upper": self._bearer,
            "basic": self._basic,
            "basic_lower": self._basic,
            "basic_upper": self._basic,
            "cookie": self._cookie,
            "cookie_upper": self._cookie,
            "query": self._query,
            "userinfo": self._userinfo,
            "percent": self._percent,
            "tag_directive": self._tag,
            "binary": self._binary,
            "tag": self._tag,
            "escape": self._escape,
            "interaction": self._interaction,
            "interaction_indented": self._interaction,
            "interaction_json": self._interaction,
        }
        for name in _ALTERNATIVES:
            if name.startswith("base64_"):
                self.handlers[name] = self._base64

    # ----------------------------------------------------------------- driving

    def run(self) -> list[Finding]:
        text = self.text
        self._scan(_View(text, None, "", 0, self.cassette))
        if self.fmt == "yaml" and self.cassette and (self.dangerous or text.startswith("!")):
            # A tag other than !!binary: let the safe loader decide.  It raises CassetteError
            # for !!python/... tags, so such a file is never reported clean.
            cassette.loads(text, path=self.path, format="yaml")
        elif not self.cassette and self.path.lower().endswith((".yaml", ".yml")) and _YAML_TAG.search(text):
            _refuse_python_tags(text, self.path)
        return self._findings()

    def _scan(self, view: _View) -> None:
        text = view.text
        handlers = self.handlers
        search = (_MASTER if view.cassette else _MASTER_PLAIN).search
        self.decoded_lines = set()
        pos = 0
        while (match := search(text, pos)) is not None:
            # Every alternative ends in a named group; each handler returns where to go on
            # (at least the match's end, further when it consumed a token or a block).
            pos = handlers[match.lastgroup](view, match)  # type: ignore[index]
        if view.cassette:
            for match in _KEY_END.finditer(text):
                self._key(view, match)
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                value = match.group(1) if pattern.groups else match.group(0)
                if value and not redaction.is_redacted(value):
                    self._hit(view, match.start(), "pattern", value)

    def _hit(self, view: _View, offset: int, rule: str, value: str) -> None:
        self.hits.append((offset if view.anchor is None else view.anchor, rule, value, view.suffix))

    def _view(self, parent: _View, text: str, offset: int, suffix: str) -> None:
        if parent.depth >= _MAX_DEPTH:
            return
        anchor = offset if parent.anchor is None else parent.anchor
        saved = self.decoded_lines
        # The outermost decoding names the finding's location: "response.body (gzip)".
        self._scan(_View(text, anchor, parent.suffix or suffix, parent.depth + 1, parent.cassette))
        self.decoded_lines = saved

    # ----------------------------------------------------------------- rules

    def _jwt(self, view: _View, match: re.Match[str]) -> int:
        start = match.start() - 2
        token = view.text[start : match.end()]
        public = self.public_jwts.get(token)
        if public is None:
            public = self.public_jwts[token] = _is_public_jwt(token)
        if not public:
            self.hits.append((start if view.anchor is None else view.anchor, "jwt", token, view.suffix))
        return match.end()

    def _bearer(self, view: _View, match: re.Match[str]) -> int:
        found = _BEARER_TOKEN.match(view.text, match.end())
        if found is None:
            return match.end()
        token = found.group(1).replace("\\/", "/")
        if len(token) >= _MIN_TOKEN and not _is_clean(token):
            self._hit(view, found.start(1), "bearer", token)
        return match.end()

    def _basic(self, view: _View, match: re.Match[str]) -> int:
        found = _BASIC_VALUE.match(view.text, match.end())
        if found is None:
            return match.end()
        value = found.group(1)
        secret = _basic_secret(value)
        if value not in cfapi.PUBLIC_BASIC_CREDENTIALS and secret is not None and not redaction.is_redacted(secret):
            self._hit(view, found.start(1), "basic", value)
        return match.end()

    def _key(self, view: _View, match: re.Match[str]) -> None:
        text = view.text
        close = match.start()
        if close > 0 and text[close - 1] == "\\":
            close -= 1
        opening = text.rfind('"', max(0, close - 128), close)
        if opening < 0:
            return
        key = text[opening + 1 : close]
        if not key or "\\" in key or "\n" in key or not _is_secret_name(key):
            return
        found = _KEY_VALUE.match(text, match.end())
        if found is None:  # a number, null, a boolean, an object or a list
            return
        parts = [found.group(1)]
        end = found.end()
        while (fold := _FOLD.match(text, end)) is not None and (fold.group(3) or fold.group(2)):
            parts.append(("" if fold.group(1) else " ") + (" " if fold.group(2) else "") + fold.group(3))
            end = fold.end()
        value = "".join(parts).replace("\\ ", " ")
        if _is_clean(value):
            return
        self._hit(view, found.start(1), self._key_rule(text, key, opening), value)

    @staticmethod
    def _key_rule(text: str, key: str, opening: int) -> str:
        if key.lower().startswith("docker_"):
            return "docker-credentials"
        holder = text.rfind("docker_credentials", max(0, opening - 300), opening)
        if holder >= 0 and "}" not in text[holder:opening]:
            return "docker-credentials"
        return "secret-key"

    def _query(self, view: _View, match: re.Match[str]) -> int:
        text = view.text
        equals = match.start()
        start = equals
        lowest = max(0, equals - 64)
        while start > lowest and text[start - 1] in _NAME_CHARS:
            start -= 1
        name = urllib.parse.unquote(text[start:equals]).lower()
        rule = self._param_context(view, start)
        if rule is None or name not in (_QUERY_PARAMS if rule == "query-secret" else _FORM_FIELDS):
            return match.end()
        found = _QUERY_VALUE.match(text, equals + 1)
        raw = found.group() if found is not None else ""
        value = urllib.parse.unquote(raw) if rule == "query-secret" else urllib.parse.unquote_plus(raw)
        if value and not _is_clean(value):
            self._hit(view, equals + 1, rule, value)
        return match.end()

    @staticmethod
    def _param_context(view: _View, start: int) -> str | None:
        """``query-secret`` in a URL, ``form-secret`` in a form body, ``None`` elsewhere."""
        text = view.text
        before = text[start - 1] if start > 0 else ""
        if before and before in "?#":
            return "query-secret"
        if before == ";" and text.endswith("&amp", 0, start - 1):
            before = "&"  # an HTML-escaped query string
        if before == "&":
            # In a URL when a '?' opens the run of URL characters the name sits in.
            lowest = max(0, start - 4096)
            i = start - 1
            while i > lowest and text[i - 1] not in _URL_STOP:
                i -= 1
                if text[i] in "?#":
                    return "query-secret"
            return "form-secret"
        if start == 0 and view.anchor is not None:
            return "form-secret"  # a decoded body that opens with the field
        if _FORM_START.search(text, max(0, start - 16), start) is not None:
            return "form-secret"
        return None

    def _userinfo(self, view: _View, match: re.Match[str]) -> int:
        text = view.text
        at = match.start()
        lowest = max(0, at - 512)
        plain, escaped = text.rfind("://", lowest, at), text.rfind(":\\/\\/", lowest, at)
        if plain < 0 and escaped < 0:
            return match.end()
        # JSON may escape slashes (https:\/\/user:pass@host).
        start = plain + 3 if plain >= escaped else escaped + 5
        authority = text[start:at]
        if any(c in _AUTHORITY_STOP for c in authority):
            return match.end()
        _, colon, password = authority.partition(":")
        password = urllib.parse.unquote(password)
        if colon and password and not _is_clean(password):
            self._hit(view, start, "url-userinfo", password)
        return match.end()

    def _cookie(self, view: _View, match: re.Match[str]) -> int:
        if view.anchor is not None:
            return match.end()  # cookies are headers, which decoded bodies do not hold
        text = view.text
        name_start = match.start() - 3
        set_cookie = text[max(0, name_start - 4) : name_start].lower() == "set-"
        colon = text.find(":", match.end(), match.end() + 4)
        if colon < 0:
            return match.end()
        end = colon + 1
        values: list[tuple[int, str]] = []
        if self.fmt == "json":
            bracket = text.find("[", end, end + 8)
            if bracket >= 0:
                end = bracket + 1
                while (item := _JSON_ITEM.match(text, end)) is not None:
                    values.append((item.start(1), item.group(1).replace('\\"', '"')))
                    end = item.end()
        else:
            line_end = text.find("\n", end)
            line_end = len(text) if line_end < 0 else line_end
            inline = text[end:line_end].strip()
            if inline:
                values.append((end, _unquote_yaml(inline)))
                end = line_end
            else:
                indent: str | None = None
                while (item := _YAML_ITEM.match(text, end)) is not None and indent in (None, item.group(1)):
                    indent = item.group(1)
                    values.append((item.start(2), _unquote_yaml(item.group(2))))
                    end = item.end()
        for offset, header in values:
            pairs = header.split(";", 1)[:1] if set_cookie else header.split(";")
            for pair in pairs:
                _, equals, value = pair.partition("=")
                value = value.strip().strip('"')
                if equals and value and not _is_clean(value):
                    self._hit(view, offset, "cookie", value)
        return match.end()  # the values are scanned on: one may hold a JWT

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
        if indent == self.indent:  # "- request:" lines nested deeper are not interactions
            self.starts.append(match.start() - len("- re") - indent)
        return match.end()

    def _tag(self, view: _View, match: re.Match[str]) -> int:
        if view.anchor is None:
            self.dangerous = True
        return match.end()

    def _percent(self, view: _View, match: re.Match[str]) -> int:
        self._decode_line(view, match, urllib.parse.unquote, " (url-encoded)")
        return match.end()

    def _escape(self, view: _View, match: re.Match[str]) -> int:
        self._decode_line(view, match, _json_unescape, " (json-escaped)")
        return match.end()

    def _decode_line(self, view: _View, match: re.Match[str], decode: Callable[[str], str], suffix: str) -> None:
        """Scan the line holding *match* again, decoded; once per line and decoding."""
        text = view.text
        start = text.rfind("\n", 0, match.start()) + 1
        if (start, suffix) in self.decoded_lines:
            return
        self.decoded_lines.add((start, suffix))
        end = text.find("\n", match.end())
        line = text[start : end if end >= 0 else len(text)]
        decoded = decode(line)
        if decoded != line:
            # Findings point at the escape, past the line's key (uri:, body:), so they locate.
            self._view(view, decoded, match.start(), suffix)

    def _base64(self, view: _View, match: re.Match[str]) -> int:
        text = view.text
        start = match.start()
        lowest = max(0, start - 65536)
        while start > lowest and text[start - 1] in _BASE64_CHARS:
            start -= 1
        if (start, " (base64)") in self.decoded_lines:  # another signature in a run already decoded
            return match.end()
        self.decoded_lines.add((start, " (base64)"))
        run = _BASE64_RUN.match(text, start, start + _MAX_BLOB)
        blob = text[start : run.end() if run is not None else match.end()]
        if len(blob) < 24:
            return match.end()
        if blob not in self.base64_decoded:  # the same blob may be recorded many times
            self.base64_decoded[blob] = _decode_wrapped(blob)
        decoded = self.base64_decoded[blob]
        if decoded is not None:
            self._view(view, decoded, start, " (base64)")
        # Scanning goes on inside the run: the JWT alternative may need to start there.
        return match.end()

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
        decoded, label = _inflate(data)
        self._view(view, decoded, match.start(), f" ({label})")
        return block.end()

    # ----------------------------------------------------------------- findings

    def _findings(self) -> list[Finding]:
        if not self.hits:
            return []
        text = self.text
        # The same secret can be seen twice on one line: in the text and again in a decoded
        # view of that line.  The undecoded sighting (shortest suffix) wins.
        best: dict[tuple[int, str, str], tuple[int, str]] = {}
        line, counted = 1, 0
        self.hits.sort()
        for offset, rule, value, suffix in self.hits:
            line += text.count("\n", counted, offset)
            counted = offset
            key = (line, rule, value)
            kept = best.get(key)
            if kept is None or len(suffix) < len(kept[1]):
                best[key] = (offset, suffix)
        locate = _Locator(text, self.fmt, self.starts, self.indent) if self.cassette else None
        path = self.path
        findings: list[Finding] = []
        for (line, rule, value), (offset, suffix) in best.items():
            if locate is None:
                interaction, location = None, f"line {line}"
            else:
                interaction, location = locate(offset)
            findings.append(Finding(path, interaction, location + suffix, rule, _mask(rule, value), line))
        findings.sort(key=_order)
        return findings


_YAML_TAG: Final = re.compile(r"(?<![^\s\[{,])!(?=[!<\w%])|^%TAG", re.MULTILINE)


def _refuse_python_tags(text: str, path: str) -> None:
    """Raise CassetteError when a YAML file that is no cassette holds a ``!!python/...`` tag.

    Such a file is not recorded traffic, so its other problems are none of the scanner's
    business.  A dangerous tag is: the file must not pass as clean.
    """
    try:
        yaml.load(text, Loader=_SafeLoader)
    except yaml.constructor.ConstructorError as error:
        if "python/" in str(error):
            raise CassetteError(path, "holds a dangerous !!python tag (nothing was run)") from None
    except yaml.YAMLError:
        pass


def _json_unescape(line: str) -> str:
    return _JSON_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), line)


def _decode_wrapped(blob: str) -> str | None:
    """The text a base64 run decodes to, when it holds a JWT or a bearer token.

    The run may start before the blob proper (a word glued to it), so each of the four
    possible starts is tried.
    """
    for skip in range(4):
        decoded = _decode_base64(blob[skip:])
        if decoded is not None and _BASE64_FOUND.search(decoded):
            return decoded.decode("utf-8", "replace")
    return None


def _decode_base64(blob: str) -> bytes | None:
    blob = blob.rstrip("=")
    blob = blob[: len(blob) - len(blob) % 4] if len(blob) % 4 == 1 else blob
    altchars = b"-_" if ("-" in blob or "_" in blob) else None
    try:
        return base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=altchars)
    except (binascii.Error, ValueError):
        return None


def _order(finding: Finding) -> tuple[str, int, int, str, str, str]:
    interaction = -1 if finding.interaction is None else finding.interaction
    return (finding.path, finding.line, interaction, finding.location, finding.rule, finding.masked)


class _Locator:
    """Which interaction an offset is in, and where in it, from the cassette's raw text.

    The structural keys are searched for between the interaction's start and the offset:
    the side (``request``/``response``), then the section (``headers``, ``body``, ``uri``…),
    then for headers the header's name.  Most findings are header values, so a YAML
    header value right under its ``Name:`` line is recognised from those two lines alone.
    """

    def __init__(self, text: str, fmt: Format, starts: list[int], indent: int):
        self.text = text
        self.starts = starts
        self.item: str | None = None
        if fmt == "json":
            self.response = '"response":'
            self.sections = _JSON_SECTION
            self.headers = _JSON_HEADER_KEY
        else:
            pad = " " * (indent + 2)
            self.response = f"\n{pad}response:"
            self.sections = re.compile(rf"\n{pad}  (body|headers|uri|method|status):")
            self.headers = re.compile(rf"\n{pad}    ([^\s:'\"-][^\n:]*):")
            self.item = f"\n{pad}    - "  # a header's value, one list item per value

    def __call__(self, offset: int) -> tuple[int | None, str]:
        index = bisect.bisect_right(self.starts, offset) - 1
        if index < 0:
            return None, "top level"
        text = self.text
        start = self.starts[index]
        response = text.rfind(self.response, start, offset)
        side, side_start = ("response", response) if response >= 0 else ("request", start)
        header = self._header_above(side_start, offset)
        if header:
            return index, f"{side}.headers.{header}"
        section = None
        for section in self.sections.finditer(text, side_start, offset):  # noqa: B007 - the last one counts
            pass
        if section is None:
            return index, side
        if section.group(1) != "headers":
            return index, f"{side}.{section.group(1)}"
        name = None
        for name in self.headers.finditer(text, section.end(), offset):  # noqa: B007 - the last one counts
            pass
        return index, f"{side}.headers.{name.group(1).strip()}" if name else f"{side}.headers"

    def _header_above(self, lowest: int, offset: int) -> str | None:
        """The header name when *offset* is in the first value item under a YAML ``Name:`` line."""
        if self.item is None:
            return None
        text = self.text
        line = text.rfind("\n", lowest, offset)
        if line < 0 or not text.startswith(self.item, line):
            return None
        above = text.rfind("\n", lowest, line)
        key = text[above + len(self.item) - 2 : line]
        if above < 0 or not text.startswith(self.item[:-2], above) or not key.endswith(":"):
            return None
        return key[:-1] if key[:1] not in _NOT_HEADER_START else None


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
    extra_patterns: Sequence[re.Pattern[str]] = (),
) -> list[Finding]:
    """Findings in *text*, sorted by line.

    With ``cassette=True`` every rule applies.  Otherwise only the jwt, bearer and basic
    rules (and *extra_patterns*) do.  *path* names the source in findings and errors, and
    its suffix tells YAML from JSON.  Raises :class:`~cfreplay.CassetteError` for a YAML
    cassette holding a tag the safe loader refuses (``!!python/...``).
    """
    return _Scan(text, path, _format_of(path, text), cassette=cassette, patterns=extra_patterns).run()


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
            return _refuse_binary(path, raw)
        return None
    return text, maybe_cassette and "interactions" in text, len(raw)


def _refuse_binary(path: Path, raw: bytes) -> tuple[str, bool, int]:
    # cassette.loads words the error (binary, or not UTF-8 at which offset) and always raises here.
    cassette.loads(raw, path=path)
    raise CassetteError(path, "is not UTF-8 text")  # pragma: no cover - loads raised already


def scan_file(path: str | os.PathLike[str], *, extra_patterns: Sequence[re.Pattern[str]] = ()) -> list[Finding]:
    """Findings in one file: a cassette (``.yaml``/``.yml``/``.json`` holding ``interactions``) or a plain file.

    Raises :class:`~cfreplay.CassetteError` for a file that cannot be read, a binary or
    non-UTF-8 ``.yaml``/``.yml``/``.json`` file, or a cassette with a dangerous tag.
    Other binary files have nothing to scan and give no findings.
    """
    file = Path(path)
    read = _read(file)
    if read is None:
        return []
    text, is_cassette, _ = read
    return scan_text(text, path=str(path), cassette=is_cassette, extra_patterns=extra_patterns)


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(directory, name)


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterable[Path]:
    """The files :func:`scan_paths` visits, in its order (for progress bars)."""
    for given in paths:
        root = Path(given)
        yield from (_walk(root) if root.is_dir() else (root,))


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    extra_patterns: Sequence[re.Pattern[str]] = (),
    on_file: Callable[[Path], None] | None = None,
) -> ScanResult:
    """Scan files and directories (recursively), collecting findings and errors.

    Directories skip :data:`SKIP_DIRS` and binary files.  A file that cannot be read,
    a binary cassette-suffixed file or a dangerous cassette lands in ``errors``; the scan
    goes on.  *on_file* is called with each file before it is scanned.  Findings are
    sorted by path and line; errors by path.
    """
    result = ScanResult()
    seen: set[Path] = set()
    per_file: list[tuple[str, list[Finding]]] = []
    for given in paths:
        root = Path(given)
        files = _walk(root) if root.is_dir() else (root,)
        for file in files:
            if file in seen:
                continue
            seen.add(file)
            if on_file is not None:
                on_file(file)
            try:
                read = _read(file)
                if read is None:
                    continue
                text, is_cassette, size = read
                found = scan_text(text, path=str(file), cassette=is_cassette, extra_patterns=extra_patterns)
            except CassetteError as error:
                result.errors.append(error)
                continue
            result.files += 1
            result.bytes += size
            per_file.append((str(file), found))
    # Each file's findings are in order already; only the files need ordering.
    per_file.sort(key=lambda item: item[0])
    result.findings = [finding for _, found in per_file for finding in found]
    result.errors.sort(key=lambda error: error.path)
    return result
