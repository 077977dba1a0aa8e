"""How each rule of the table finds its matches in a string: one function per question.

The sanitizer calls these on the strings it walks; the scanner calls them on the raw
text around what its fast pass found.  Neither tool has a matcher of its own, so the
two cannot disagree about where a value starts, where it ends, or whether it counts.

Every pattern here runs in linear time on hostile input: runs are consumed once
(atomic groups, or a skip past a run that failed), and look-backs are bounded.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cfreplay.hygiene.credential_formats import FORMATS

__all__ = [
    "COMMAND_LINE",
    "PATH_TOKEN",
    "PLACEHOLDER_PATTERN",
    "PLACEHOLDER_PREFIX",
    "PUTTY_ANCHOR",
    "SCHEME_END",
    "RememberedSearch",
    "Userinfo",
    "auth_credential",
    "base64_signatures",
    "block_start",
    "command_line_pair",
    "decode_wrapped",
    "iter_tokens",
    "json_pairs",
    "param_rule",
    "percent_escapes",
    "printable_escapes",
    "redacted_userinfo",
    "set_cookie_segments",
    "split_token",
    "token_kind",
    "touches_placeholder",
    "unescape",
    "unescape_slashes",
    "unquote",
    "userinfo",
]

#: What cfreplay writes in a secret's place: this prefix and 16 hex digits of an HMAC
#: (:mod:`cfreplay.hygiene.redaction` makes them; the detectors must know them too).
PLACEHOLDER_PREFIX: Final = "cfreplay-redacted-"
PLACEHOLDER_PATTERN: Final = re.compile(r"cfreplay-redacted-[0-9a-f]{16}")

_PLACEHOLDER_REACH: Final = len(PLACEHOLDER_PREFIX) + 16


def touches_placeholder(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` overlaps a placeholder.

    A key's pattern that runs into a placeholder was made by replacing: a placeholder's
    hyphen ends a run of token characters where the secret it replaced did not
    (``glft-…`` glued to a ``ghr_…`` becomes ``glft-…cfreplay-redacted-…``).  Such a match
    is no key, for the sanitizer and the scanner alike, so a cassette reads the same
    before and after sanitizing.
    """
    low, high = max(0, start - _PLACEHOLDER_REACH), min(len(text), end + _PLACEHOLDER_REACH)
    return any(found.start() < end and start < found.end() for found in PLACEHOLDER_PATTERN.finditer(text, low, high))


# --------------------------------------------------------------------------- tokens

#: JWS: base64 (URL-safe or standard; JSON may escape its slashes) header opening with
#: ``{"`` (``eyJ``), then a payload and a signature that may be empty (``alg: none``).
_B64: Final = r"[A-Za-z0-9_+=/-]"
#: A run of base64 characters, in text where JSON may have escaped the slashes: ``\\/`` in a
#: body, ``\\\\/`` in a body that is itself a JSON string (the scanner reads it so), a
#: backslash per level.  Atomic, so a run is never re-split when what follows it does not match.
B64_RUN: Final = r"(?>(?:[A-Za-z0-9_+=/-]+|\\+/)+)"
_TOKEN: Final = re.compile(rf"eyJ(?=(?:{_B64}|\\+/){{4}}){B64_RUN}(?:\.{B64_RUN}?){{2,4}}")
_RUN: Final = re.compile(rf"{B64_RUN}")
#: One JWS or JWE, whole: what a value must be to count as "one JWT".
_JWS: Final = re.compile(rf"eyJ{_B64}{{4,}}\.{_B64}{{4,}}\.{_B64}*")
_JWE: Final = re.compile(rf"eyJ{_B64}{{4,}}\.{_B64}*\.{_B64}{{4,}}\.{_B64}{{4,}}\.{_B64}{{4,}}")


@lru_cache(maxsize=8192)
def token_kind(token: str) -> str | None:
    """``"jwt"`` for a three-part token, ``"jwe"`` for five parts, ``None`` for anything else.

    A run holding a placeholder is none: replacing made it (``eyJ`` glued before a key that
    went, then ``….npmjs.org/``), and what it replaced was read already.
    """
    if not token.startswith("eyJ") or PLACEHOLDER_PREFIX in token:
        return None
    token = unescape_slashes(token)
    dots = token.count(".")
    if dots == 2 and _JWS.fullmatch(token):
        return "jwt"
    if dots == 4 and _JWE.fullmatch(token):
        return "jwe"
    return None


def split_token(token: str) -> tuple[str, str]:
    """A token-shaped match that is no JWS/JWE: its leading JWS (``eyJa.eyJb.sig`` of ``….png``) and the rest."""
    parts = token.split(".")
    head = ".".join(parts[:3])
    if len(parts) > 3 and token_kind(head) == "jwt":
        return head, token[len(head) :]
    return "", token


#: A private key's marker (the table's own pattern, its spaces also as YAML folds them: the
#: scanner reads the file): where one opens, a token run ends.
_FOLDABLE: Final = r"(?:[ \t]|\\?\r?\n)++"
_BLOCK_MARKER: Final = re.compile(
    next(fmt.pattern for fmt in FORMATS if fmt.id == "private-key").replace("[ \\t]+", " ").replace(" ", _FOLDABLE),
    re.ASCII,
)


#: Where a PuTTY key's marker may open (a PEM marker's BEGIN ends the run it is glued to).
PUTTY_ANCHOR: Final = re.compile(r"PuTTY-User-Key-File-")


def block_start(
    text: str, start: int, end: int, putty: Callable[[str, int], re.Match[str] | None] = PUTTY_ANCHOR.search
) -> int | None:
    """Where a private key's block opens in the run ``text[start:end]`` (its dashes first), if one does.

    A token's run and a parameter's value end there: the marker is the key's, and
    replacing it with them would leave the key material with nothing to find it by.  The
    run ends at a space, so a PEM marker's ``BEGIN`` can only be its last word; a PuTTY
    marker may be anywhere in it (*putty* finds it: a remembered search keeps a text's
    many values linear).
    """
    cut = -1
    if end - 5 >= start and text.startswith("BEGIN", end - 5) and _BLOCK_MARKER.match(text, end - 5):
        cut = end - 5
    else:
        found = putty(text, start)
        if found is not None and found.start() < end and _BLOCK_MARKER.match(text, found.start()):
            cut = found.start()
    if cut < 0:
        return None
    marker = cut
    while cut > start and cut > marker - 5 and text[cut - 1] == "-":
        cut -= 1  # PEM's dashes are the block's, as the private-key rule reads it
    return cut


def _glued_on(text: str, at: int, end: int, token: str) -> tuple[int, int] | None:
    """Where a token run opening at *at* stops being the token, and where to read on; ``None``: it does not.

    A placeholder ends a token (what replacing glued on is no part of it, and no token opens
    inside one), and so does a private key's marker (dashes, letters and digits are token
    characters: replaced with the token, the marker would leave the key material behind).
    """
    cut = resume = end
    if PLACEHOLDER_PREFIX in token:
        cut = text.find(PLACEHOLDER_PREFIX, at, end)
        resume = cut + len(PLACEHOLDER_PREFIX)
    if ("BEGIN" in token or "PuTTY-User-Key-File-" in token) and (block := block_start(text, at + 3, cut)) is not None:
        cut = resume = block
    return (cut, resume) if cut < end else None


def iter_tokens(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, ``"jwt"``|``"jwe"``) of each token in *text* that opens before *end*, left to right.

    A run of base64 that is no token is skipped whole, so ``eyJeyJeyJ…`` costs one pass.
    """
    position = start
    stop = len(text) if end is None else end
    while (at := text.find("eyJ", position, stop)) >= 0:
        found = _TOKEN.match(text, at)
        if found is None:
            run = _RUN.match(text, at)
            position = max(run.end() if run is not None else at, at + 3)
            continue
        token = found.group()
        glued = _glued_on(text, at, found.end(), token)
        if glued is None:
            position = found.end()
        else:
            cut, position = glued
            found = _TOKEN.match(text, at, cut)
            if found is None:
                continue
            token = found.group()
        kind = token_kind(token)
        if kind is None:
            head, _ = split_token(token)
            if head:
                yield at, at + len(head), "jwt"
                # What follows the head may hold a token of its own ('<token>..AKIA…eyJ…'):
                # read on from the head, not past the parts the match took after it.
                position = at + len(head)
        else:
            yield at, found.end(), kind


class RememberedSearch:
    """A pattern's ``search``, answering again what it found last where the answer still holds.

    A search from *p* that found its match at *q* (or none) finds the same from anywhere in
    between, in the same text: no match opens earlier, and lookbehinds see the whole text
    either way.  Readers that ask from places close together (the parts of a text, the
    pairs of a chain ``?a=?a=…``) then cross the text once, not once per question.
    """

    __slots__ = ("_found", "_pattern", "_since", "_text")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern
        self._text: str | None = None
        self._since = -1
        self._found: re.Match[str] | None = None

    def search(self, text: str, pos: int) -> re.Match[str] | None:
        """``pattern.search(text, pos)``."""
        found = self._found
        if text is self._text and self._since <= pos and (found is None or pos <= found.start()):
            return found
        found = self._found = self._pattern.search(text, pos)
        self._text, self._since = text, pos
        return found


# --------------------------------------------------------------------------- credentials in prose

_PROSE_MIN_TOKEN: Final = 16
#: Whitespace between a scheme and its credential, as text or YAML may hold it: spaces, a
#: line break folded by an emitter (with PyYAML's backslash), an escaped space, and a line
#: break or tab written as an escape (``\n``, ``\r\n``, ``\t``, a backslash per level): the scanner
#: reads the file, where a body's line break is written so, and the sanitizer the decoded
#: text, where it is one; both read both.
GAP: Final = r"(?:[ \t]|\\?\r?\n[ \t]*|\\[ ]|\\+(?:r\\+)?n|\\+t)+"
SCHEMES: Final = re.compile(r"[Bb]earer|BEARER|[Bb]asic|BASIC")
# A JSON-escaped slash is \/ in a body, and \\/ once that body is a string in a JSON cassette.
_BEARER_VALUE: Final = re.compile(rf"{GAP}((?:[A-Za-z0-9._~+/=-]++|\\++/)++)")
_ESCAPED_SLASH: Final = re.compile(r"\\+/")


def unescape_slashes(text: str) -> str:
    """*text* with its JSON-escaped slashes (``\\/``, ``\\\\/`` …, any level) read as ``/``."""
    return _ESCAPED_SLASH.sub("/", text) if "\\" in text else text


_BASIC_VALUE: Final = re.compile(rf"{GAP}([A-Za-z0-9+/]{{4,}}=*)")


def _outside_token_spans(text: str) -> Iterator[str]:
    """The parts of *text* outside its JWTs and JWEs."""
    last = 0
    for start, end, _ in iter_tokens(text):
        yield text[last:start]
        last = end
    yield text[last:]


def auth_credential(text: str, scheme_end: int, basic: bool) -> tuple[int, int, str] | None:
    """The credential after a ``Bearer``/``Basic`` scheme that ends at *scheme_end*, when it is one.

    Prose says "Basic authentication" and "bearer tokens": a Basic credential must
    decode to ``user:secret`` with a secret that is not ``***`` (and not be a JWT's first
    part); a bearer token must be long, hold a digit, and not be a JWT (the ``jwt`` rule
    reports those).
    """
    found = (_BASIC_VALUE if basic else _BEARER_VALUE).match(text, scheme_end)
    if found is None:
        return None
    credential = found.group(1)
    if basic:
        if "eyJ" in credential and text.startswith(".", found.end(1)):
            # The run ends in a token's header ('{"…'), the jwt rule's: what is before it is
            # read alone ('Basic HwkQeyJ…' decoded whole has the header's colons, a
            # "user:secret" that replacing would cut out of the token).
            token = next(iter_tokens(text, found.start(1), found.end(1)), None)
            if token is not None:
                if token[0] - found.start(1) < 4:
                    return None  # no user name opens on '{"'
                credential = text[found.start(1) : token[0]]
                found = _BASIC_VALUE.match(text, scheme_end, token[0])
                if found is None or found.group(1) != credential:
                    return None
        try:
            decoded = base64.b64decode(credential + "=" * (-len(credential) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
        _, colon, secret = decoded.decode("utf-8", "replace").partition(":")
        if not colon or not secret or secret == "***" or credential in ("Y2Y6", "Y2Y6=="):
            return None
        if PLACEHOLDER_PREFIX[:8] in credential and touches_placeholder(text, found.start(1), found.end(1)):
            return None  # base64 run on into a placeholder's letters ("…cfreplay"): made by replacing
        return found.start(1), found.end(1), credential
    plain = unescape_slashes(credential)
    # A placeholder or a token glued to what precedes it ("Bearer Rcl." then a key that was
    # replaced; "Bearer abc…eyJ…", whose token the sanitizer replaces first with a fake that
    # has other characters) is no part of what makes a credential one: only the rest is
    # read, or sanitizing would make one, or the two tools would judge different texts.
    bare = PLACEHOLDER_PATTERN.sub("", plain) if PLACEHOLDER_PREFIX in plain else plain
    if "eyJ" in bare:
        bare = "".join(part for part in _outside_token_spans(bare))
    if len(bare) < _PROSE_MIN_TOKEN or not any(c.isdigit() for c in bare):
        return None
    if plain.startswith("eyJ") and (token_kind(plain.rstrip(".")) or split_token(plain)[0]):
        return None
    return found.start(1), found.end(1), plain


# --------------------------------------------------------------------------- name=value pairs

#: The characters of a parameter, field or option name (Rails' ``user[password]`` included).
NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.%:[]-")
#: A ``name=value`` pair led by ``?``, ``&``, ``#`` or ``;`` (a query), or a text's start (a form).
PAIR: Final = re.compile(r"(?P<lead>^|[?&#;])(?P<name>[A-Za-z0-9_.%:\[\]-]+)=(?P<value>[^&#;\s\"'<>\\]*)")
#: A pair's lead and name, up to its ``=``; its value runs to the next :data:`PAIR_VALUE_STOP`.
PAIR_HEAD: Final = re.compile(r"(?P<lead>^|[?&#;])(?P<name>[A-Za-z0-9_.%:\[\]-]+)=")
PAIR_VALUE_STOP: Final = re.compile(r"[&#;\s\"'<>\\]")
_STOPS: Final = re.compile(r"[\s\"'<>\\]")


def param_rule(text: str, name_start: int) -> str:
    """``url-query`` for a ``name=value`` pair in a URL's query or fragment, ``form-field`` otherwise.

    A pair led by ``?`` or ``#`` is in a query; one led by ``&`` or ``;`` is when a ``?``
    or ``#`` opens the run of URL characters it sits in.
    """
    lead = text[name_start - 1] if name_start > 0 else ""
    if lead in ("?", "#"):
        return "url-query"
    lowest = max(0, name_start - 4096)
    opener = max(text.rfind("?", lowest, name_start - 1), text.rfind("#", lowest, name_start - 1))
    if opener < 0 or _STOPS.search(text, opener, name_start) is not None:
        return "form-field"
    return "url-query"


def _name_value(text: str, name_start: int, equals: int) -> tuple[str, str, int, int] | None:
    """(decoded name, raw value, value start, value end) of the pair whose ``=`` is at *equals*."""
    found = PAIR.match(text, name_start - 1 if name_start > 0 else 0)
    if found is None or found.end("name") != equals:
        return None
    return found["name"], found["value"], found.start("value"), found.end("value")


# --------------------------------------------------------------------------- URLs

#: Where an authority begins: right after ``scheme://`` (JSON may escape the slashes, once or twice).
SCHEME_END: Final = re.compile(r":(?://|\\/\\/|\\\\/\\\\/)")
#: More ``@`` than this between ``://`` and the host is no URL.
_MAX_ATS: Final = 16
_URL_END: Final = re.compile(r"[\s\"'<>]|\\\"|\\n|\\u")
_HOST: Final = re.compile(r"(?:[A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?=[/?#]|\\/|[\s\"'<>,;)\]}]|\\|\Z)")
_PLAIN_HOST: Final = re.compile(r"(?:[A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_USER_TOKEN_MIN: Final = 20


@dataclass(frozen=True)
class Userinfo:
    """The userinfo of a URL: ``text[start:end]`` is ``user[:password]``; ``secret`` what makes it one."""

    start: int
    end: int
    user: str
    password: str | None
    secret: str


def userinfo(text: str, start: int) -> Userinfo | None:
    """The secret userinfo of the URL whose authority begins at *start* (just after ``://``), if any.

    The userinfo ends at the last ``@`` that a host follows, so a password may hold an
    unencoded ``@``, and (when what precedes the first ``/`` is no ``host[:port]``) a
    ``/``.  It is a secret when it has a non-empty password, or a user part long enough
    to be a token.  Already redacted (``***:***``) is no secret.
    """
    limit = min(len(text), start + 2048)
    following = SCHEME_END.search(text, start, limit)
    if following is not None:
        limit = following.start()  # the next URL's scheme ends this one (and bounds the work)
    stop = _URL_END.search(text, start, limit)
    if stop is not None:
        limit = stop.start()
    at = text.rfind("@", start, limit)
    for _ in range(_MAX_ATS):
        if at < start or _HOST.match(text, at + 1) is not None:
            break
        at = text.rfind("@", start, at)
    else:
        return None
    if at <= start:
        return None
    candidate = text[start:at]
    cut = min((i for i in (candidate.find("/"), candidate.find("?"), candidate.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        authority = candidate[:cut].replace("\\", "")
        if _PLAIN_HOST.fullmatch(authority) is not None or not authority:
            return None  # the '@' is in the path or query (/@user, ?email=a@b)
    user, colon, password = candidate.partition(":")
    if colon:
        if not password or (password == "***" and user in ("", "***")):
            return None
        return Userinfo(start, at, user, password, password)
    if len(user) >= _USER_TOKEN_MIN and user != "***" and not user.startswith("cfreplay-redacted-"):
        return Userinfo(start, at, user, None, user)
    return None


def redacted_userinfo(found: Userinfo) -> str:
    """``***:***`` (``:***`` for an empty user; ``***`` for a token-only user)."""
    if found.password is None:
        return "***"
    return (":" if not found.user else "***:") + "***"


#: Tokens in URL paths: UAA's ``DELETE /oauth/token/revoke/{tokenId}`` (not ``…/user/…``
#: or ``…/client/…``, which take ids) and ``/Codes/{code}``.
PATH_TOKEN: Final = re.compile(r"(?:/oauth/token/revoke/(?!user/|client/)|/Codes/)([^/?#\s\"'\\<>&;]+)")

# --------------------------------------------------------------------------- command lines

#: Command-line secrets: ``-Dname=value``, ``--name=value``, ``--name value``, ``NAME=value``.
#: After ``--name`` and a space, only a value that looks generated counts (a digit in it, or
#: twelve characters or more, not a ``$VARIABLE``): prose says "use --password to log in".
COMMAND_LINE: Final = re.compile(
    r"(?<![\w.\-/&?#;=%:\[\]])(?:"
    r"-D(?P<prop>[A-Za-z_][\w.\-]{0,128})=(?P<prop_value>[^\s\"'\\]+)"
    r"|--(?P<flag>[A-Za-z][\w\-]{0,128})=(?P<flag_value>[^\s\"'\\]+)"
    r"|--(?P<spaced>[A-Za-z][\w\-]{0,128})[ \t]+"
    r"(?P<spaced_value>(?![-$])(?=[^\s\"'\\]*\d|[^\s\"'\\]{12})[^\s\"'\\]+)"
    r"|(?P<env>[A-Z][A-Z0-9_]{0,128})=(?P<env_value>[^\s\"'\\&;]+)"
    r")"
)


def command_line_pair(match: re.Match[str]) -> tuple[str, str, int, int, bool]:
    """(name, value, value start, value end, whether it is a NAME=value assignment) of a COMMAND_LINE match."""
    pairs = (("prop", "prop_value"), ("flag", "flag_value"), ("spaced", "spaced_value"), ("env", "env_value"))
    for name, value in pairs:
        if match[name] is not None:
            return match[name], match[value], match.start(value), match.end(value), name == "env"
    raise ValueError("not a command-line match")  # pragma: no cover - the pattern has three branches


# --------------------------------------------------------------------------- cookies

#: Where another cookie starts in a ``Set-Cookie`` value that joins several: a comma (not
#: the one in ``Expires=Wed, 21 Oct …``, whose next word has no ``=``) or a line break.
#: Blanks are matched from the start of their run only (the lookbehind): tried from inside a
#: long run of spaces, each attempt would read to its end (quadratic).
_NEXT_COOKIE: Final = re.compile(r"(?:,[ \t]*+|(?<![ \t])[ \t]*+\r?\n[ \t]*+)(?=[^;,=\s]++=)")


def set_cookie_segments(value: str) -> list[tuple[int, int]]:
    """(start, end) of each cookie in a ``Set-Cookie`` value, several when joined by commas or lines."""
    segments: list[tuple[int, int]] = []
    start = 0
    for match in _NEXT_COOKIE.finditer(value):
        segments.append((start, match.start()))
        start = match.end()
    segments.append((start, len(value)))
    return segments


# --------------------------------------------------------------------------- JSON in text

#: ``"key": "value"`` in text that is not parsed as JSON (a truncated body, JSON inside HTML).
JSON_PAIR: Final = re.compile(r'"([^"\\\n]{1,128})"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\\n]|\\.){0,65536})"')


def json_pairs(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(key, value start, value end, decoded value) of each ``"key": "value"`` in *text*."""
    for found in JSON_PAIR.finditer(text):
        raw = found.group(2)
        value = raw
        if "\\" in raw:
            try:
                import json

                value = json.loads(f'"{raw}"')
            except ValueError:
                continue
        yield found.group(1), found.start(2), found.end(2), value


# --------------------------------------------------------------------------- base64 wrappers

BASE64_NEEDLES: Final = (b"eyJ", b"earer ", b"EARER ")
BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/_-]{24,}=*")


def base64_signatures(needle: bytes) -> list[str]:
    """The base64 text that *needle* becomes at each of the three byte alignments (standard and URL-safe)."""
    signatures: set[str] = set()
    for shift in range(3):
        padded = b"\0" * shift + needle
        encoded = base64.b64encode(padded + b"\0" * (-len(padded) % 3)).decode("ascii")
        first = -(-8 * shift // 6)
        last = 8 * (shift + len(needle)) // 6
        signature = encoded[first:last]
        signatures.update((signature, signature.translate(str.maketrans("+/", "-_"))))
    return sorted(signatures)


SIGNATURES: Final = tuple(sorted({s for needle in BASE64_NEEDLES for s in base64_signatures(needle)}))
_FOUND: Final = re.compile(b"|".join(re.escape(needle) for needle in BASE64_NEEDLES))


def decode_wrapped(blob: str) -> tuple[int, bytes] | None:
    """How many leading characters to skip and what a base64 run decodes to, when that holds a token.

    The run may start before the base64 proper (a word glued to it), so each of the four
    possible starts is tried.
    """
    if not any(signature in blob for signature in SIGNATURES):
        return None
    for skip in range(4):
        decoded = _decode_base64(blob[skip:])
        if decoded is not None and _FOUND.search(decoded):
            return skip, decoded
    return None


def _decode_base64(blob: str) -> bytes | None:
    blob = blob.rstrip("=")
    blob = blob[: len(blob) - len(blob) % 4] if len(blob) % 4 == 1 else blob
    altchars = b"-_" if ("-" in blob or "_" in blob) else None
    try:
        return base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=altchars)
    except (binascii.Error, ValueError):
        return None


# --------------------------------------------------------------------------- escapes

#: Escapes of printable ASCII: JSON ``\u0065``, YAML ``\x65`` and ``\U00000065``.  Nobody
#: writes those except to hide text, so text holding one is read again, decoded.
PRINTABLE_ESCAPE: Final = re.compile(r"\\(?:u00[2-7][0-9A-Fa-f]|x[2-7][0-9A-Fa-f]|U000000[2-7][0-9A-Fa-f])")
_ESCAPES: Final = re.compile(r"\\+(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|U([0-9A-Fa-f]{8}))")
#: URL escapes worth decoding: letters, digits, unreserved characters, the delimiters of an
#: embedded query or userinfo, and ``%25`` (a URL encoded twice, as redirect targets are).
#: ``%3A`` and ``%2F`` alone are every CC filter: not worth a second reading.
PERCENT_ESCAPE: Final = re.compile(r"%(?:[46][0-9A-Fa-f]|[57][0-9Aa]|3[0-9DdFf]|2[356DdEe]|5[Ff]|7[Ee]|40)")


def unescape(text: str) -> str:
    """JSON and YAML escapes of code points decoded (any run of backslashes: escapes inside escapes)."""

    def one(match: re.Match[str]) -> str:
        digits = match.group(1) or match.group(2) or match.group(3)
        try:
            return chr(int(digits, 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return _ESCAPES.sub(one, text)


def printable_escapes(text: str) -> bool:
    return "\\" in text and PRINTABLE_ESCAPE.search(text) is not None


def percent_escapes(text: str) -> bool:
    return "%" in text and PERCENT_ESCAPE.search(text) is not None


def unquote(text: str) -> str:
    return urllib.parse.unquote(text)
