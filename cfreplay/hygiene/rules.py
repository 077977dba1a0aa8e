"""The rule table: every kind of secret cfreplay removes, where it looks, and how it replaces it.

This is the one definition of a secret.  The sanitizer applies these rules, the
scanner looks for exactly what they would change, ``[tool.cfreplay.sanitize]``
extends them, both reports name findings by their ids, and the README's table is
generated from :data:`RULES`.  Adding a rule, a header, a key word or a
credential format is one edit here; ``tests/test_rules.py`` proves both tools
pick it up.

Where a rule looks (:class:`Place`) decides how much context it needs:

* name rules — a header, cookie, query parameter, form field, JSON key or
  environment variable whose *name* says its value is secret;
* value rules — a value that is a secret by its *shape*, wherever it sits:
  JWTs, vendor credential formats (:mod:`cfreplay.hygiene.credential_formats`),
  passwords in URLs and command lines, project patterns.

When both could apply to one value the name rule wins and replaces the whole
value, except that a value which is one JWT is always replaced by a fake JWT
(rule ``jwt``), so code that decodes tokens still works on replay.

The knowledge comes from Cloud Foundry's own sources (cited per rule, and in
``cloud-controller-v2.md`` §5), from UAA's endpoints, and from detect-secrets'
plugins for vendor formats.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from cfreplay.errors import CfreplayError
from cfreplay.hygiene import credential_formats
from cfreplay.hygiene._literals import literal_finder
from cfreplay.hygiene.detectors import (  # the table's detectors, re-exported for its readers
    COMMAND_LINE,
    PATH_TOKEN,
    PLACEHOLDER_PATTERN,
    PLACEHOLDER_PREFIX,
    SCHEME_END,
    Userinfo,
    command_line_pair,
    redacted_userinfo,
    set_cookie_segments,
    split_token,
    token_kind,
    touches_placeholder,
    userinfo,
)

__all__ = [
    "COMMAND_LINE",
    "PATH_TOKEN",
    "PLACEHOLDER_PATTERN",
    "PLACEHOLDER_PREFIX",
    "RULES",
    "SCHEME_END",
    "Place",
    "Replacement",
    "Rule",
    "RuleTable",
    "SanitizeConfig",
    "SpanKind",
    "Userinfo",
    "ValueHit",
    "command_line_pair",
    "default_table",
    "fewest_literals",
    "is_link",
    "keep_spans",
    "main",
    "markdown_table",
    "redacted_userinfo",
    "replace_rule",
    "set_cookie_segments",
    "split_token",
    "token_kind",
    "touches_placeholder",
    "userinfo",
    "words",
]


class Place(enum.Enum):
    """Where a rule looks."""

    HEADER = "header, by name"
    COOKIE = "cookie value"
    URL = "URL in any string: query, userinfo, path"
    FORM = "form field, by name"
    JSON_KEY = "JSON value, by its key"
    ENV_MAP = "environment variable, by name"
    ANY_STRING = "any string, by its shape"


class Replacement(enum.Enum):
    """How a rule replaces what it finds (the value is the README's label; see :data:`REPLACEMENTS`)."""

    FAKE_JWT = "fake JWT"
    PLACEHOLDER = "placeholder"
    CREDENTIAL = "`***`"
    BY_NAME = "by name"
    REDACTED_MESSAGE = "CC's message"


#: What each replacement is, for the README's legend.
REPLACEMENTS: Final = {
    Replacement.FAKE_JWT: "a structurally valid JWT with the same header and claims, `email`, `user_name`, "
    "`user_id` and `sub` replaced by stable Faker values, `jti` renewed, `exp` and `iat` kept, signed with "
    "cfreplay's published test key: code that decodes the token still works on replay",
    Replacement.PLACEHOLDER: "`cfreplay-redacted-` and 16 hex digits of an HMAC keyed per run: the same secret "
    "maps to the same placeholder everywhere in a run (a refresh token sent back still matches the one issued, a "
    "CSRF field its cookie), while neither the secret nor its length can be read back",
    Replacement.CREDENTIAL: "CC's own marker, a constant: a request the code sends on replay, sanitized the same "
    "way, still matches its recording",
    Replacement.BY_NAME: "`***` for a credential the client chose (a name ending in password, passphrase, "
    "secret, …), a placeholder for one the server issued (a token, a code), a fake JWT for a JWT",
    Replacement.REDACTED_MESSAGE: '`{"redacted_message": "[PRIVATE DATA HIDDEN]"}`, exactly as CC shows the '
    "object to a reader without access",
}


@dataclass(frozen=True)
class Rule:
    """One kind of secret: its id (used in every report), where it looks, how it is replaced."""

    id: str
    places: tuple[Place, ...]
    replacement: Replacement
    summary: str
    #: Where the knowledge comes from (a CF source file, UAA, detect-secrets, pyproject.toml).
    source: str
    #: Exact names (lower case) for name rules.
    names: frozenset[str] = frozenset()
    #: Words that make a name secret: as its last word (keys, headers) or anywhere (env names).
    words: frozenset[str] = frozenset()
    #: Last two words that make a name secret (``api_key``).
    pairs: frozenset[tuple[str, str]] = frozenset()
    #: The ``[tool.cfreplay.sanitize]`` key that adds names (or patterns) to this rule.
    config_key: str | None = None
    #: For value formats: the format, with its pattern and anchors.
    format: credential_formats.CredentialFormat | None = None
    #: Whether ``disable = [...]`` may turn the rule off (value formats only: name and
    #: JWT rules are what cfreplay promises).
    optional: bool = False


# --------------------------------------------------------------------------- names

#: Authorization headers (reference §5: every CC, UAA, doppler and log-cache request).
AUTHORIZATION_HEADERS: Final = frozenset({"authorization", "proxy-authorization"})
#: Cookie headers: names and attributes are kept, values are secret (UAA's JSESSIONID,
#: X-Uaa-Csrf and Current-User, gorouter's __VCAP_ID__).
COOKIE_HEADERS: Final = frozenset({"cookie", "set-cookie"})
#: Headers whose whole value is a secret: route-service signatures (gorouter
#: ``X-CF-Proxy-Signature``), UAA's CSRF token, and the common API-key and token headers.
SECRET_HEADERS: Final = frozenset({
    "x-cf-proxy-signature", "x-uaa-csrf", "x-csrf-token", "x-xsrf-token", "x-auth-token", "x-api-key", "api-key",
    "private-token", "x-vault-token", "x-amz-security-token", "x-goog-api-key", "x-hub-signature",
    "x-hub-signature-256",
})  # fmt: skip
#: The last word of a header name that makes it secret (``X-Foo-Token``, ``X-Signature``).
SECRET_HEADER_WORDS: Final = frozenset({"token", "secret", "signature", "password", "passwd", "apikey"})
#: The cf CLI's public client (``cf:`` with an empty secret) is no secret.
PUBLIC_BASIC_CREDENTIALS: Final = frozenset({"Y2Y6"})

#: The last word of a key (JSON key, query parameter, form field, -D option) that names a secret.
SECRET_WORDS: Final = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "passcode", "secret", "token", "apikey", "credential",
    "credentials", "signature",
})  # fmt: skip
#: The last two words of a key that name a secret (``api_key``, ``privateKey``).
SECRET_PAIRS: Final = frozenset({
    ("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("signing", "key"),
    ("encryption", "key"), ("master", "key"), ("account", "key"), ("auth", "key"), ("session", "key"),
})  # fmt: skip
#: Keys that are secret as a whole word: UAA's one-time codes (``/password_resets``,
#: ``/autologin``; CC's own ``code`` is a number, and numbers are never secrets).
SECRET_KEYS: Final = frozenset({"code", "otp"})
#: Query and form parameters that carry secrets besides the named keys: OAuth and UAA
#: grants, SAML posts, CSRF fields, and pre-signed blobstore URLs (AWS, GCS, Azure,
#: Alibaba, WebDAV secure links).
SECRET_PARAMS: Final = frozenset({
    "code", "otp", "assertion", "client_assertion", "subject_token", "actor_token", "samlresponse",
    "x-uaa-csrf", "_csrf", "csrf", "authenticity_token", "sig", "signature", "x-amz-signature",
    "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential", "md5", "jsessionid",
})  # fmt: skip
#: The last word of an environment variable's name that makes its value secret: a wider
#: list than for keys, because an env map is where users put every credential they have.
SECRET_ENV_WORDS: Final = frozenset({
    "pass", "password", "passwd", "pwd", "passphrase", "passcode", "secret", "token", "key", "apikey",
    "credential", "credentials", "auth", "dsn", "cert", "private", "session", "salt", "signature", "otp",
})  # fmt: skip

#: Objects CC itself hides whole: service binding and key credentials.
CREDENTIAL_OBJECT_KEYS: Final = frozenset({"credentials"})
DOCKER_CREDENTIAL_KEYS: Final = frozenset({"docker_credentials_json", "docker_credentials"})
#: Maps of environment variables (CCNG app presenters, ``/v2/apps/:guid/env``,
#: ``/v2/config/environment_variable_groups``, v3's ``environment_variables``).
ENV_MAP_KEYS: Final = frozenset({
    "environment_json", "staging_env_json", "running_env_json", "system_env_json", "environment_variables",
})  # fmt: skip
#: Endpoints whose whole JSON body is an environment map.
ENV_MAP_PATHS: Final = ("/v2/config/environment_variable_groups/",)
#: Environment variables whose value is JSON that holds credentials objects.
JSON_ENV_NAMES: Final = frozenset({"vcap_services"})
#: Claims that identify a person; fake JWTs replace them.
PII_CLAIMS: Final = ("email", "user_name", "user_id", "sub")
#: Containers whose members are prompt definitions and links, not secrets (UAA ``GET /login``:
#: ``prompts.password`` is ``["password", "Password"]``).
UAA_PROMPT_KEYS: Final = frozenset({"prompts"})


# --------------------------------------------------------------------------- the table

_REF: Final = "cloud-controller-v2.md §5"

#: Every built-in rule, in the order they take precedence.
RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "jwt",
        (Place.ANY_STRING,),
        Replacement.FAKE_JWT,
        "JWTs anywhere: headers, bodies, URLs, cookies; standard or URL-safe base64, JSON-escaped (`\\/`, "
        "`\\u0065yJ`), base64-wrapped, inside binary bodies. Tokens signed with cfreplay's published test key "
        "or CC's documentation key are not secrets",
        f"{_REF}; UAA UaaTokenServices.java",
    ),
    Rule(
        "jwe",
        (Place.ANY_STRING,),
        Replacement.PLACEHOLDER,
        "encrypted JWTs (five dot-separated parts): they cannot be re-signed, so they become a placeholder",
        "RFC 7516",
    ),
    Rule(
        "authorization",
        (Place.HEADER, Place.ANY_STRING),
        Replacement.BY_NAME,
        "`Authorization` and `Proxy-Authorization`, every scheme: Bearer (opaque tokens), Basic (client id kept, "
        "secret `***`; `Basic Y2Y6`, the cf CLI's public client, stays), Token, Digest, Negotiate…; and "
        "`Bearer …`/`Basic …` credentials quoted in text",
        f"{_REF}",
        names=AUTHORIZATION_HEADERS,
    ),
    Rule(
        "cookie",
        (Place.COOKIE,),
        Replacement.PLACEHOLDER,
        "`Cookie` and `Set-Cookie` values (also several cookies joined by commas); names and attributes kept",
        f"{_REF}; UAA UaaSessionConfig.java, CookieBasedCsrfTokenRepository.java; gorouter __VCAP_ID__",
        names=COOKIE_HEADERS,
    ),
    Rule(
        "secret-header",
        (Place.HEADER,),
        Replacement.PLACEHOLDER,
        "headers whose whole value is secret: `X-CF-Proxy-Signature`, `X-Uaa-Csrf`, `X-Api-Key`, … and any "
        "header whose last word is token, secret, signature or password",
        f"{_REF}; gorouter route services",
        names=SECRET_HEADERS,
        words=SECRET_HEADER_WORDS,
        pairs=SECRET_PAIRS,
        config_key="headers",
    ),
    Rule(
        "url-query",
        (Place.URL,),
        Replacement.BY_NAME,
        "query and fragment parameters: `access_token`, `code`, `password`, `client_secret`, `assertion`, … and "
        "pre-signed blobstore signatures (`X-Amz-Signature`, `X-Goog-Signature`, Azure `sig`, WebDAV `md5`); "
        "also inside URL-encoded redirect URLs",
        f"{_REF}; CCNG blob_dispatcher.rb",
        names=SECRET_PARAMS,
        config_key="query-params",
    ),
    Rule(
        "url-userinfo",
        (Place.URL,),
        Replacement.CREDENTIAL,
        "the password in `scheme://user:password@host` (also an empty user, `/` or `@` in the password), and "
        "a user part that is a long token",
        f"{_REF} (buildpack URLs, broker_url, syslog_drain_url)",
    ),
    Rule(
        "url-path",
        (Place.URL,),
        Replacement.PLACEHOLDER,
        "tokens in URL paths: `/oauth/token/revoke/<token id>`, UAA's `/Codes/<code>`",
        "UAA TokenRevocationEndpoint.java, CodeStoreEndpoints.java",
    ),
    Rule(
        "form-field",
        (Place.FORM,),
        Replacement.BY_NAME,
        "form fields: `password`, `client_secret`, `refresh_token`, `code`, `passcode`, `assertion`, "
        "`SAMLResponse`, CSRF fields (`X-Uaa-Csrf`, equal to its cookie's placeholder), …",
        f"{_REF}; UAA login forms",
        names=SECRET_PARAMS,
        config_key="form-fields",
    ),
    Rule(
        "docker-credentials",
        (Place.JSON_KEY,),
        Replacement.REDACTED_MESSAGE,
        "`docker_credentials` and `docker_credentials_json` objects holding anything but nulls and markers",
        "CCNG app/presenters/v2/app_presenter.rb",
        names=DOCKER_CREDENTIAL_KEYS,
    ),
    Rule(
        "credentials",
        (Place.JSON_KEY,),
        Replacement.REDACTED_MESSAGE,
        "`credentials` objects (service bindings and keys, user-provided services, VCAP_SERVICES)",
        "CCNG app/presenters/v2/base_presenter.rb",
        names=CREDENTIAL_OBJECT_KEYS,
    ),
    Rule(
        "token-id",
        (Place.JSON_KEY,),
        Replacement.PLACEHOLDER,
        "`jti` token ids (they identify and revoke a token); a token response's `jti` follows its fake token",
        f"{_REF}; UAA ClaimConstants.java",
        names=frozenset({"jti"}),
    ),
    Rule(
        "secret-key",
        (Place.JSON_KEY,),
        Replacement.BY_NAME,
        "JSON string values under keys whose last word names a secret (`password`, `client_secret`, "
        "`access_token`, `passphrase`, `api_key`, `privateKey`), and UAA's one-time `code`; numbers, "
        "booleans, links and paths are kept",
        f"{_REF}; UAA endpoints",
        names=SECRET_KEYS,
        words=SECRET_WORDS,
        pairs=SECRET_PAIRS,
        config_key="json-keys",
    ),
    Rule(
        "env-value",
        (Place.ENV_MAP,),
        Replacement.CREDENTIAL,
        "values in environment maps (`environment_json`, `environment_variables`, `system_env_json`, "
        "`running_env_json`, `staging_env_json`, environment variable groups) under names whose last word is "
        "secret (`SENTRY_DSN`, `BASIC_AUTH`, `TLS_CERT`, `SECRET_KEY_BASE`); every value with `redact-all-env`",
        f"{_REF}; CCNG apps_controller.rb#read_env",
        names=ENV_MAP_KEYS,
        words=SECRET_ENV_WORDS,
        pairs=SECRET_PAIRS | {("key", "base")},
        config_key="redact-all-env",
    ),
    Rule(
        "command-line",
        (Place.ANY_STRING,),
        Replacement.CREDENTIAL,
        "secrets on command lines, in any string (an app's `command`, `JAVA_OPTS`): `-Dname=value`, "
        "`--name=value`, `--name value` (a value with a digit, or twelve characters or more) and `NAME=value` "
        "where the name's last word names a secret",
        f"{_REF} (CC censors `command` in audit events)",
    ),
    *(
        Rule(
            fmt.id,
            (Place.ANY_STRING,),
            Replacement.PLACEHOLDER,
            fmt.summary,
            f"{credential_formats.UPSTREAM} {credential_formats.UPSTREAM_VERSION} {fmt.plugin}",
            format=fmt,
            optional=True,
        )
        for fmt in credential_formats.FORMATS
    ),
    Rule(
        "pattern",
        (Place.ANY_STRING,),
        Replacement.PLACEHOLDER,
        "your own regexes (group 1, or the whole match, is replaced)",
        "pyproject.toml",
        config_key="patterns",
    ),
)

_RULE_IDS: Final = frozenset(rule.id for rule in RULES)


# --------------------------------------------------------------------------- name tests

_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT: Final = re.compile(r"[^A-Za-z0-9]+")


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name: ``clientSecret``, ``client-secret``, ``CLIENT_SECRET`` -> client, secret."""
    return tuple(w for w in _WORD_SPLIT.split(_CAMEL_BOUNDARY.sub("_", name).lower()) if w)


#: A value that is a link or a path, not a password (UAA ``/login`` ``links.passwd``,
#: ``PWD=/home/vcap/app``): no userinfo, no whitespace.
_LINK: Final = re.compile(r"/[^\s]*|[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s@]*")


def is_link(value: str) -> bool:
    """Whether *value* is a URL without userinfo or an absolute path: kept under secret-looking names."""
    return len(value) < 4096 and _LINK.fullmatch(value) is not None


# --------------------------------------------------------------------------- value formats


@dataclass(frozen=True)
class ValueHit:
    """Where a value rule matched in a string: the secret is ``text[start:end]``."""

    rule: str
    start: int
    end: int
    #: Where what the hit claims against other hits ends: a private key's block claims its
    #: marker (``BEGIN … PRIVATE KEY``), as the scanner finds it, not the key material after
    #: it, which may hold another rule's secret (the block goes with it).
    claim: int | None = None


#: A block's END line: PEM writes five dashes each side (two blocks may be glued: "-----END…----------BEGIN").
_END_MARKER: Final = re.compile(
    r"-{0,5}[ \t]{0,8}END[ \t]{1,8}[A-Z0-9 ]{0,40}PRIVATE[ \t]{1,8}KEY(?: BLOCK)?[ \t]{0,8}-{0,5}|---- END SSH2[^\n]*"
)


@dataclass(frozen=True)
class _Format:
    rule: str
    source: str
    flags: int
    anchors: tuple[str, ...]
    lowered: tuple[str, ...]
    block: bool = False
    reach: tuple[int, int] = (0, 128)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: a replay whose requests hold no anchor never needs it (and never pays for it)."""
        return re.compile(self.source, self.flags)

    def hits(self, text: str, lowered: str | None = None) -> Iterator[ValueHit]:
        """Each match's secret, leftmost first; a match may open inside the one before it.

        A key's run may go on over the next key's anchor (a webhook's secret into the next
        webhook's ``https``; a run dropped for touching a placeholder, over a key after
        it): the search goes on from that anchor, not from the match's end, as the
        scanner, which tries the pattern at every anchor, reads it.
        """
        if self.block:
            yield from self._blocks(text)
            return
        group = 1 if self.pattern.groups else 0
        replaced = PLACEHOLDER_PREFIX in text
        low = lowered
        position = 0
        while (match := self.pattern.search(text, position)) is not None:
            start, end = match.start(group), match.end(group)
            if start < end and not (replaced and touches_placeholder(text, start, end)):
                yield ValueHit(self.rule, start, end)
            position = max(match.end(), match.start() + 1)
            if low is None:
                low = text.lower()
            own = self._next_anchor(low, match.start(), match.end())
            if own >= 0:
                inner = self._next_anchor(low, own + 1, match.end() + self.reach[0])
                if inner >= 0:
                    position = max(match.start() + 1, inner - self.reach[0])

    def _next_anchor(self, low: str, start: int, end: int) -> int:
        """Where the first of this format's anchors opens at *start* or after, before *end* (-1: none)."""
        found = [at for anchor in self.lowered if (at := low.find(anchor, start, end + len(anchor))) >= 0]
        return min(found) if found else -1

    def _blocks(self, text: str) -> Iterator[ValueHit]:
        """A private key runs from its BEGIN marker to its END marker, or to the end of the string."""
        position = 0
        while (match := self.pattern.search(text, position)) is not None:
            start = match.start()
            while start > position and start > match.start() - 5 and text[start - 1] == "-":
                start -= 1
            end_marker = _END_MARKER.search(text, match.end())
            if end_marker is None:
                # No END anywhere later (a PuTTY key has none): nothing more to find.
                yield ValueHit(self.rule, start, len(text), match.end())
                return
            yield ValueHit(self.rule, start, end_marker.end(), match.end())
            position = end_marker.end()


def _compile_format(fmt: credential_formats.CredentialFormat) -> _Format:
    # ASCII: Unicode case folding (ſ is s) and digits (٣ is \d) would match text that holds
    # no anchor, so the scanner and the sanitizer's anchor prefilter would disagree.
    flags = re.ASCII | (re.IGNORECASE if fmt.ignore_case else 0)
    return _Format(
        fmt.id,
        fmt.pattern,
        flags,
        fmt.anchors,
        tuple(a.lower() for a in fmt.anchors),
        block=fmt.id == "private-key",
        reach=fmt.reach,
    )


# --------------------------------------------------------------------------- configuration

# ``[tool.cfreplay.sanitize]`` keys and the SanitizeConfig fields they set.
_TOML_KEYS: Final = {
    "headers": "headers",
    "json-keys": "json_keys",
    "query-params": "query_params",
    "form-fields": "form_fields",
    "patterns": "patterns",
    "redact-all-env": "redact_all_env",
    "disable": "disable",
}


@dataclass(frozen=True)
class SanitizeConfig:
    """A project's additions to the rule table.

    Read from ``[tool.cfreplay.sanitize]`` in ``pyproject.toml`` (keys ``headers``,
    ``json-keys``, ``query-params``, ``form-fields``, ``patterns``, ``redact-all-env``,
    ``disable``) or given directly.  Each key extends the rule whose id the README's
    rule table shows; ``disable`` turns off credential-format rules by id.
    """

    headers: tuple[str, ...] = ()
    json_keys: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    form_fields: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    redact_all_env: bool = False
    disable: tuple[str, ...] = ()
    #: Where the config came from, for messages (not part of its identity).
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        where = f"{self.source}: " if self.source else ""
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise CfreplayError(f"{where}sanitize pattern {pattern!r} is not a valid regex: {error}") from None
        known = {rule.id: rule for rule in RULES}
        for rule_id in self.disable:
            rule = known.get(rule_id)
            if rule is None:
                raise CfreplayError(f"{where}cannot disable {rule_id!r}: no such rule; {_did_you_mean(rule_id)}")
            if not rule.optional:
                raise CfreplayError(
                    f"{where}cannot disable {rule_id!r}: only credential-format rules can be turned off"
                )

    @property
    def empty(self) -> bool:
        return self == SanitizeConfig()

    @classmethod
    def from_pyproject(cls, start: str | os.PathLike[str] | None = None) -> SanitizeConfig:
        """The ``[tool.cfreplay.sanitize]`` table of the nearest ``pyproject.toml`` at or above *start* (the cwd)."""
        found = _find_pyproject(start)
        return cls.from_toml(found) if found is not None else cls()

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> SanitizeConfig:
        return _config_from_toml(os.path.abspath(path), _mtime(path))

    def merged(self, other: SanitizeConfig) -> SanitizeConfig:
        """Both configs' additions; redact-all-env if either asks for it."""
        return SanitizeConfig(
            headers=self.headers + other.headers,
            json_keys=self.json_keys + other.json_keys,
            query_params=self.query_params + other.query_params,
            form_fields=self.form_fields + other.form_fields,
            patterns=self.patterns + other.patterns,
            redact_all_env=self.redact_all_env or other.redact_all_env,
            disable=self.disable + other.disable,
            source=self.source or other.source,
        )


def _did_you_mean(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(_RULE_IDS), n=3, cutoff=0.6)
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"rules: {', '.join(sorted(_RULE_IDS))}"


def _find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above *start* (default: the working directory)."""
    directory = Path(start if start is not None else Path.cwd()).resolve()
    if directory.is_file():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _mtime(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=32)
def _config_from_toml(path: str, mtime: int) -> SanitizeConfig:
    """Parsed once per version of the file: every cassette of a session asks."""
    import tomllib  # only where a project has a pyproject.toml to read

    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CfreplayError(f"{path}: cannot read [tool.cfreplay.sanitize]: {error}") from None
    table = document.get("tool", {}).get("cfreplay", {}).get("sanitize", {})
    if not isinstance(table, dict):
        raise CfreplayError(f"{path}: [tool.cfreplay.sanitize] must be a table")
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
    return SanitizeConfig(**values, source=path)


# --------------------------------------------------------------------------- the table with a project's additions


class RuleTable:
    """The built-in rules with a project's configuration applied: what both tools consult.

    Every question the sanitizer and the scanner ask about a name or a value is a
    method here, so the two cannot answer it differently.
    """

    def __init__(self, config: SanitizeConfig | None = None, *, rules: Sequence[Rule] = RULES) -> None:
        self.config = config or SanitizeConfig()
        disabled = set(self.config.disable)
        self.rules: tuple[Rule, ...] = tuple(rule for rule in rules if rule.id not in disabled)
        self.ids: frozenset[str] = frozenset(rule.id for rule in self.rules)
        by_id = {rule.id: rule for rule in self.rules}
        self.redact_all_env = self.config.redact_all_env
        lower = str.lower
        empty = Rule("", (), Replacement.PLACEHOLDER, "", "")
        header, key, env = (by_id.get(name, empty) for name in ("secret-header", "secret-key", "env-value"))
        self._headers = frozenset(itertools.chain(header.names, map(lower, self.config.headers)))
        self._header_words, self._header_pairs = header.words, header.pairs
        self._query = frozenset(itertools.chain(self._names(by_id, "url-query"), map(lower, self.config.query_params)))
        self._form = frozenset(itertools.chain(self._names(by_id, "form-field"), map(lower, self.config.form_fields)))
        self._keys = frozenset(itertools.chain(key.names, map(lower, self.config.json_keys)))
        self._key_words, self._key_pairs = key.words, key.pairs
        self._env_words = env.words
        self._env_pairs = env.pairs
        self.env_maps: frozenset[str] = env.names
        self._memo: dict[tuple[str, str], bool] = {}
        self._header_rules: dict[str, str | None] = {}
        formats = [_compile_format(rule.format) for rule in self.rules if rule.format is not None]
        patterns = [_Format("pattern", p, 0, (), ()) for p in self.config.patterns if "pattern" in self.ids]
        self.formats: tuple[_Format, ...] = tuple(formats)
        self.patterns: tuple[_Format, ...] = tuple(patterns)
        self._priority = {rule.id: index for index, rule in enumerate(self.rules)}

    @staticmethod
    def _names(by_id: dict[str, Rule], rule_id: str) -> frozenset[str]:
        rule = by_id.get(rule_id)
        return rule.names if rule is not None else frozenset()

    def priority(self, rule_id: str) -> int:
        """Lower wins when two rules match one span (the table's order)."""
        return self._priority.get(rule_id, len(self._priority))

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    # ----------------------------------------------------------------- names

    def _ask(self, question: str, name: str) -> bool:
        """A name test, memoised: a session asks about the same few hundred names over and over."""
        key = (question, name)
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) > 16384:
                self._memo.clear()
            known = self._memo[key] = self._answer(question, name)
        return known

    def _answer(self, question: str, name: str) -> bool:
        parts = words(name)
        last = parts[-1] if parts else ""
        pair = (parts[-2], last) if len(parts) > 1 else None
        lower = name.lower()
        if question == "header":
            return lower in self._headers or last in self._header_words or pair in self._header_pairs
        named = lower in self._keys or last in self._key_words or pair in self._key_pairs
        if question == "key":
            return named
        if question == "query":
            return named or lower in self._query
        if question == "form":
            return named or lower in self._form
        # "env": the same test with a wider list of words (an env map is where users keep
        # every credential they have), still by the name's last word, so TOKEN_TTL and
        # SESSION_TIMEOUT stay readable.
        return named or last in self._env_words or pair in self._env_pairs

    def header_rule(self, name: str) -> str | None:
        """The rule that owns header *name*'s whole value, if any."""
        known = self._header_rules.get(name, "")
        if known != "":
            return known
        lower = name.lower()
        if lower in AUTHORIZATION_HEADERS:
            rule: str | None = "authorization"
        elif lower in COOKIE_HEADERS:
            rule = "cookie"
        elif "secret-header" in self.ids and self._ask("header", lower):
            rule = "secret-header"
        else:
            rule = None
        if len(self._header_rules) < 4096:
            self._header_rules[name] = rule
        return rule

    def secret_key(self, key: str) -> bool:
        """Whether a JSON key (or an option name on a command line) names a secret."""
        return self._ask("key", key)

    def secret_query(self, name: str) -> bool:
        return self._ask("query", name)

    def secret_form(self, name: str) -> bool:
        return self._ask("form", name)

    def secret_env(self, name: str) -> bool:
        """Whether an environment variable named *name* holds a secret (every one, with redact-all-env)."""
        return self.redact_all_env or self._ask("env", name)

    @staticmethod
    def passwordish(name: str) -> bool:
        """A credential the client chose (``***``) rather than one the server issued (a placeholder)."""
        parts = words(name)
        return bool(parts) and (
            parts[-1] in ("password", "passwd", "pwd", "passphrase", "passcode", "secret", "credential", "credentials")
            or (len(parts) > 1 and (parts[-2], parts[-1]) in SECRET_PAIRS)
            or "pass" in parts
        )

    # ----------------------------------------------------------------- values

    @cached_property
    def name_triggers(self) -> tuple[str, ...]:
        """Lower-case literals one of which every name a name rule would match holds."""
        found: set[str] = set()
        found.update(self._key_words, self._env_words, self._header_words, self._keys, self._query, self._form)
        found.update(second for _, second in (*self._key_pairs, *self._header_pairs))
        found.update(self.env_maps, CREDENTIAL_OBJECT_KEYS, DOCKER_CREDENTIAL_KEYS, self._headers, ("jti",))
        return tuple(sorted(found))

    @cached_property
    def key_triggers(self) -> tuple[str, ...]:
        """Names whose last characters a JSON key that any key rule reads ends with (for the scanner)."""
        found: set[str] = set(self._key_words) | set(self._env_words) | set(self._keys)
        found.update(second for _, second in (*self._key_pairs, *self._env_pairs))
        found.update(CREDENTIAL_OBJECT_KEYS, DOCKER_CREDENTIAL_KEYS, ("jti",))
        return tuple(sorted(found))

    @property
    def header_names(self) -> frozenset[str]:
        """Header names a header rule owns outright (lower case)."""
        return AUTHORIZATION_HEADERS | COOKIE_HEADERS | self._headers

    @property
    def header_words(self) -> frozenset[str]:
        return self._header_words

    @property
    def header_pairs(self) -> frozenset[tuple[str, str]]:
        return self._header_pairs

    @cached_property
    def header_triggers(self) -> tuple[str, ...]:
        """Names whose last characters every header a header rule owns ends with."""
        found: set[str] = set(AUTHORIZATION_HEADERS) | set(COOKIE_HEADERS) | set(self._headers)
        found.update(self._header_words)
        found.update(second for _, second in self._header_pairs)
        return tuple(sorted(found))

    @cached_property
    def param_triggers(self) -> tuple[str, ...]:
        """Names whose last characters every secret parameter, field or option name ends with."""
        found: set[str] = set(self._query) | set(self._form) | set(self._keys) | set(self._key_words)
        found.update(self._env_words)
        found.update(second for _, second in (*self._key_pairs, *self._env_pairs))
        return tuple(sorted(found))

    @cached_property
    def anchors(self) -> tuple[str, ...]:
        """Lower-case literals of the value formats: a string holding none of them matches no format."""
        return tuple(sorted({anchor for fmt in self.formats for anchor in fmt.lowered}))

    @cached_property
    def fewest_anchors(self) -> tuple[str, ...]:
        """:attr:`anchors` without those holding a shorter one (a text holds one exactly when it holds one of these)."""
        return fewest_literals(self.anchors)

    @cached_property
    def _any_anchor(self) -> Callable[[str], bool]:
        return literal_finder(self.fewest_anchors)

    def format_hits(self, text: str, lowered: str | None = None) -> list[ValueHit]:
        """Credential formats and project patterns in *text*, leftmost first, overlaps resolved by priority."""
        low = text.lower() if lowered is None else lowered
        hits: list[ValueHit] = []
        if self._any_anchor(low):  # most strings hold none
            for fmt in self.formats:
                if any(anchor in low for anchor in fmt.lowered):
                    hits.extend(fmt.hits(text, low))
        for fmt in self.patterns:
            hits.extend(fmt.hits(text))
        return self.resolve(hits)

    def resolve(self, hits: Iterable[ValueHit]) -> list[ValueHit]:
        """The hits :func:`keep_spans` keeps, in the table's precedence (then the leftmost), leftmost first.

        A block's claim is its marker: kept hits may then overlap (a key inside a block).
        """
        ordered = sorted(hits, key=lambda h: (self.priority(h.rule), h.start, -h.end))
        flags = keep_spans((h.start, h.end, "key") if h.claim is None else (h.start, h.claim, "block") for h in ordered)
        kept = [hit for hit, keep in zip(ordered, flags, strict=True) if keep]
        kept.sort(key=lambda h: h.start)
        return kept


#: What a span handed to :func:`keep_spans` belongs to: a credential key (a format or a
#: project's pattern), a token (JWT or JWE), the credential after a scheme, or another rule.
SpanKind = Literal["key", "block", "token", "credential", "other"]


def keep_spans(spans: Iterable[tuple[int, int, SpanKind]]) -> list[bool]:
    """Which of *spans* (start, end, kind), in order of precedence, are kept.

    A span that overlaps one kept before it is dropped: an earlier rule took it.  Two
    exceptions, each where the sanitizer, applying its rules in turn, still finds the
    later one:

    * keys among themselves: a key that reaches outside the keys it overlaps is kept as
      well, and they go as one (a key glued into another would otherwise keep its own
      characters outside the first key on disk); a key wholly inside them goes with them;
    * keys and credentials over tokens: tokens are replaced first, and a key or credential
      that reaches outside the tokens it overlaps (``Bearer abc…eyJ…``, ``gldt-…eyJ…``) is
      still read with the fake in place, so it goes too, with them.  A key that opens
      inside a token is none (a token's characters are no key's).

    A private key's *block* is handed over as the marker it claims (``BEGIN … PRIVATE KEY``,
    a PuTTY key file's first line), but reaches past it: it joins the keys its marker
    overlaps and is never wholly inside one (a GitLab runner token glued before a PuTTY key
    file took in its marker: the block, dropped as inside the token, left its private
    lines on disk).

    The sanitizer and the scanner both decide here.
    """
    flags: list[bool] = []
    taken: list[tuple[int, int]] = []  # what is kept, as disjoint spans (overlapping ones merged), sorted
    kinds: dict[tuple[int, int], SpanKind] = {}  # a merged span's kind: the kind of what it was merged for
    tokens: list[tuple[int, int]] = []  # the tokens kept, merged or not: no key opens inside one
    for start, end, kind in spans:
        if kind in ("key", "block") and any(low <= start < high for low, high in tokens):
            flags.append(False)
            continue
        at = bisect.bisect_left(taken, (start, -1))
        first = at - 1 if at > 0 and taken[at - 1][1] > start else at
        last = first
        while last < len(taken) and taken[last][0] < end:
            last += 1
        overlapped = taken[first:last]
        if not overlapped:
            taken.insert(at, (start, end))
            kinds[start, end] = kind
            if kind == "token":
                tokens.append((start, end))
            flags.append(True)
            continue
        low, high = overlapped[0][0], max(span_end for _, span_end in overlapped)
        # A block reaches past its marker (the span it claims), so it is never inside a key.
        inside = kind != "block" and len(overlapped) == 1 and low <= start and end <= high
        if inside or not all(kinds[span] in _JOINS.get(kind, ()) for span in overlapped):
            flags.append(False)
            continue
        for span in overlapped:
            del kinds[span]
        merged = (min(low, start), max(high, end))
        taken[first:last] = [merged]
        kinds[merged] = kind
        flags.append(True)
    return flags


#: What a key or a credential joins instead of yielding to (see :func:`keep_spans`).
_JOINS: Final[dict[str, tuple[SpanKind, ...]]] = {
    "key": ("key", "block", "token"),
    "block": ("key", "block"),
    "credential": ("token",),
}


def fewest_literals(literals: Iterable[str]) -> tuple[str, ...]:
    """*literals* without those holding a shorter one: a text holds some literal exactly when it holds one of these.

    ``token`` makes ``x-vault-token`` redundant, ``=`` every ``name=``: the check runs on every
    string of every body, so its length is the sanitizer's speed.
    """
    kept: list[str] = []
    for literal in sorted(set(literals), key=lambda text: (len(text), text)):
        if not any(shorter in literal for shorter in kept):
            kept.append(literal)
    # The commonest first: any() stops at the first hit.
    return tuple(sorted(kept, key=lambda text: (len(text), text)))


@lru_cache(maxsize=1)
def default_table() -> RuleTable:
    """The built-in rules alone."""
    return RuleTable()


def markdown_table(rules: Sequence[Rule] = RULES) -> str:
    """The rule table as README markdown: id, what it covers, where it looks, how it replaces, its config key."""
    lines = [
        "| rule | what it removes | looks at | replaced by | `[tool.cfreplay.sanitize]` |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        places = "; ".join(place.value for place in rule.places)
        extend = f"`{rule.config_key}`" if rule.config_key else ("`disable`" if rule.optional else "")
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {summary} | {places} | {rule.replacement.value} | {extend} |")
    lines.append("")
    lines.extend(f"- **{kind.value}**: {text}." for kind, text in REPLACEMENTS.items())
    return "\n".join(lines) + "\n"


def main() -> None:
    """``python -m cfreplay.hygiene.rules``: print the rule table as the README shows it."""
    print(markdown_table(), end="")


if __name__ == "__main__":
    main()


def replace_rule(rule: Rule, **changes: Any) -> Rule:
    """A copy of *rule* with *changes* (for tests that extend the table)."""
    return replace(rule, **changes)
