"""Adversarial inputs against cfreplay's central promise.

``scan`` flags exactly what ``sanitize`` changes (interaction, rule, location), and after
``sanitize`` no secret survives in any decoding of the bytes, ``scan`` is clean and a
second ``sanitize`` changes nothing.  Every case here is a cassette a user, a tool or a
hostile recording could produce, around Cloud Controller and UAA traffic.

The cases after "what broke" each broke the promise once (wave 2, issue 11); the
section headings say how.  A new break found here is added as
``xfail(strict=True, reason="BUG: …")`` until it is fixed.

Every secret is generated at test time; nothing secret is written in this file (CI runs
``cfreplay scan tests/``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from leaks import API, APP, UAA, Secrets, exchange

from cfreplay import cassette
from cfreplay.cf import tokens
from cfreplay.errors import CassetteError
from cfreplay.hygiene import bodies
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import scan_text

FORMATS = ("yaml", "json")
Where = tuple[int | None, str, str]

# --------------------------------------------------------------------------- secrets, made at test time


def hex_token(size: int = 16) -> str:
    """An opaque token with letters and digits (what prose rules want to see)."""
    return "a" + secrets.token_hex(size) + "9"


def jwt_token(**claims: Any) -> str:
    """A UAA-shaped JWT signed with a key nobody published."""
    return Secrets().jwt(**claims)


def pem_block(material: str) -> str:
    """A PEM private key around *material* (the marker is assembled, never written out here)."""
    kind = "RSA " + "PRIVATE" + " KEY"
    return f"-----BEGIN {kind}-----{material}-----END {kind}-----"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------- cassettes


def cassette_of(*interactions: dict[str, Any], **top: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"interactions": list(interactions), "version": 1}
    data.update(top)
    return data


def as_format(fmt: str) -> cassette.Format:
    return "json" if fmt == "json" else "yaml"


def text_of(data: dict[str, Any], fmt: str, **style: Any) -> str:
    """The cassette as vcrpy writes it, or in another YAML/JSON style."""
    if not style:
        return cassette.dumps(data, as_format(fmt)).decode()
    if fmt == "json":
        return json.dumps(data, **style)
    return str(yaml.dump(data, Dumper=yaml.CSafeDumper, **style))


def app_body(**entity: Any) -> str:
    """A CC v2 app envelope, pretty-printed as CC writes it."""
    app = {
        "metadata": {"guid": "c462b988-8644-4bf6-83cb-32a12c3d1564", "url": APP},
        "entity": {"name": "web", "instances": 2, "memory": 512, **entity},
    }
    return json.dumps(app, indent=2)


def text_response(body: str | bytes, **kwargs: Any) -> dict[str, Any]:
    return exchange(response_headers={"Content-Type": ["text/plain"]}, body=body, **kwargs)


# --------------------------------------------------------------------------- the promise


def _strip(location: str) -> str:
    return re.sub(r" \(.*\)$", "", location)


def scanned(text: str, fmt: str) -> set[Where]:
    return {(f.interaction, f.rule, _strip(f.location)) for f in scan_text(text, path=f"c.{fmt}")}


def changed(text: str, fmt: str) -> set[Where]:
    data = cassette.loads(text, path=f"c.{fmt}").data
    return {(c.interaction, c.rule, c.location) for c in Sanitizer(key=b"k" * 32).sanitize_data(data).changes}


_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def decodings(raw: str) -> list[str]:
    """The written text and what a reader could decode from it."""
    found = [raw, urllib.parse.unquote(raw), urllib.parse.unquote(urllib.parse.unquote(raw)), raw.replace("\\/", "/")]
    found.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), raw))
    for run in _B64_RUN.findall(raw):
        for candidate in (run, run.translate(str.maketrans("-_", "+/"))):
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(base64.b64decode(candidate + "=" * (-len(candidate) % 4)).decode("latin-1"))
    loaded = cassette.loads(raw, path="x.json" if raw.lstrip().startswith("{") else "x.yaml")
    for interaction in loaded.interactions:
        for side in ("request", "response"):
            data = interaction[side]
            body = data.get("body") if side == "request" else data["body"]["string"]
            if isinstance(body, (bytes, str)) and body:
                plain = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
                codings = bodies.content_encoding(data.get("headers"))
                decoded = bodies.decode(plain, codings) if codings else None
                found.append((decoded.data if decoded else plain).decode("latin-1"))
    return found


def assert_promise(text: str, fmt: str, secrets_: Sequence[str] = ()) -> None:
    """Scan and sanitize agree on *text*; afterwards nothing is left and a second pass is a no-op."""
    found = scanned(text, fmt)
    would = changed(text, fmt)
    assert found == would, (
        f"scan only: {sorted(found - would, key=str)}; sanitize only: {sorted(would - found, key=str)}"
    )
    data = cassette.loads(text, path=f"c.{fmt}").data
    Sanitizer(key=b"k" * 32).sanitize_data(data)
    cleaned = cassette.dumps(data, as_format(fmt))
    left = scan_text(cleaned.decode(), path=f"c.{fmt}")
    assert left == [], f"scan after sanitize: {[(f.rule, f.location) for f in left]}"
    again = cassette.loads(cleaned, path=f"c.{fmt}").data
    second = Sanitizer(key=b"o" * 32).sanitize_data(again)
    assert not second, f"second sanitize changed {[(c.rule, c.location) for c in second.changes]}"
    assert cassette.dumps(again, as_format(fmt)) == cleaned
    views = decodings(cleaned.decode())
    for secret in secrets_:
        assert not any(secret in view for view in views), f"{secret[:3]}… survived sanitizing"


def promise(data: dict[str, Any], fmt: str, secrets_: Sequence[str] = (), **style: Any) -> None:
    assert_promise(text_of(data, fmt, **style), fmt, secrets_)


# =========================================================================== what holds
# --------------------------------------------------------------------------- headers

AUTH_SHAPES = [
    "Bearer\t{t}",
    "Bearer  {t}",
    "  bearer {t}  ",
    "BEARER {t}",
    "Bearer {t} trailing-words",
    'MAC id="{t}", nonce="1", mac="x"',
    'Digest username="admin", realm="cf", response="{t}"',
    "Token token={t}",
    "{t}",
]


@pytest.mark.parametrize("shape", AUTH_SHAPES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_authorization_with_odd_spacing_and_schemes(shape: str, fmt: str) -> None:
    token = hex_token()
    promise(cassette_of(exchange(request_headers={"Authorization": [shape.format(t=token)]})), fmt, [token])


@given(
    name=st.sampled_from(["Authorization", "AUTHORIZATION", "authorization", "Proxy-Authorization", "aUtHoRiZaTiOn"]),
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "Token", "Negotiate", "Basic"]),
    gap=st.sampled_from([" ", "  ", "\t", " \t "]),
    fmt=st.sampled_from(FORMATS),
    width=st.sampled_from([None, 20, 60]),
)
def test_authorization_header_variants(name: str, scheme: str, gap: str, fmt: str, width: int | None) -> None:
    secret = hex_token()
    credential = b64(f"cf-admin:{secret}") if scheme == "Basic" else secret
    data = cassette_of(exchange(request_headers={name: [f"{scheme}{gap}{credential}"]}))
    style = {"width": width} if width and fmt == "yaml" else {}
    promise(data, fmt, [secret, credential], **style)


def test_duplicated_authorization_headers_in_two_casings() -> None:
    first, second = hex_token(), hex_token()
    headers = {"Authorization": [f"bearer {first}"], "authorization": [f"bearer {second}", f"bearer {first}"]}
    for fmt in FORMATS:
        promise(cassette_of(exchange(request_headers=headers)), fmt, [first, second])


@pytest.mark.parametrize("width", [None, 16, 40, 80])
@pytest.mark.parametrize("quoting", [None, '"', "'"])
def test_set_cookie_with_many_attributes_folded(width: int | None, quoting: str | None) -> None:
    session, csrf = hex_token(), hex_token()
    value = (
        f"JSESSIONID={session}; Path=/; Secure; HttpOnly; SameSite=Lax; Domain=uaa.sys.example.com; Max-Age=3600"
        f', X-Uaa-Csrf="{csrf}"; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/'
    )
    data = cassette_of(exchange(method="POST", uri=f"{UAA}/login.do", response_headers={"Set-Cookie": [value]}))
    style: dict[str, Any] = {}
    if width:
        style["width"] = width
    if quoting:
        style["default_style"] = quoting
    promise(data, "yaml", [session, csrf], **style)


@given(
    names=st.lists(st.sampled_from(["JSESSIONID", "X-Uaa-Csrf", "__VCAP_ID__", "Current-User", "SESSION"]), min_size=1),
    quoted=st.booleans(),
    width=st.sampled_from([None, 24]),
)
def test_cookie_header_pairs(names: list[str], quoted: bool, width: int | None) -> None:
    values = [hex_token(8) for _ in names]
    pairs = "; ".join(f'{n}="{v}"' if quoted else f"{n}={v}" for n, v in zip(names, values, strict=True))
    data = cassette_of(exchange(request_headers={"Cookie": [pairs]}))
    promise(data, "yaml", values, **({"width": width} if width else {}))


@pytest.mark.parametrize("name", ["X-Auth-Token", "x-uaa-csrf", "X_API_KEY", "Cf-Access-Token", "X-Hub-Signature-256"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_headers_by_name(name: str, fmt: str) -> None:
    secret = hex_token()
    promise(cassette_of(exchange(request_headers={name: [secret]})), fmt, [secret])


# --------------------------------------------------------------------------- layouts other tools write

LAYOUTS: dict[str, Callable[[str], str]] = {
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "bom": lambda t: "\ufeff" + t,
    "document-markers": lambda t: "---\n" + t + "...\n",
    "top-comment": lambda t: "# recorded by vcr.py\n" + t,
    "item-comment": lambda t: t.replace("- request:", "- request: # first", 1),
}


def _busy_cassette() -> tuple[dict[str, Any], list[str]]:
    token, password, env, form, jwt = hex_token(), hex_token(), hex_token(), hex_token(), jwt_token()
    body = json.dumps({"entity": {"name": "db", "password": password, "environment_json": {"DB_PASS": env}}})
    data = cassette_of(
        exchange(request_headers={"Authorization": [f"Bearer {token}"], "Cookie": [f"JSESSIONID={token}x"]}, body=body),
        exchange(
            method="POST",
            uri=f"{UAA}/oauth/token",
            request_body=f"grant_type=password&username=dev&password={form}",
            body=json.dumps({"access_token": jwt, "token_type": "bearer"}),
        ),
    )
    return data, [token, password, env, form, jwt]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_yaml_layouts(layout: str) -> None:
    data, planted = _busy_cassette()
    assert_promise(LAYOUTS[layout](text_of(data, "yaml")), "yaml", planted)


@pytest.mark.parametrize(
    "style",
    [
        {"width": 10},
        {"default_style": '"', "width": 10},
        {"default_style": "'"},
        {"default_style": "|"},
        {"default_flow_style": True},
        {"indent": 4},
        {"allow_unicode": True, "width": 15},
    ],
    ids=["narrow", "double-quoted-narrow", "single-quoted", "literal-blocks", "flow", "indent-4", "unicode"],
)
def test_yaml_styles(style: dict[str, Any]) -> None:
    data, planted = _busy_cassette()
    promise(data, "yaml", planted, **style)


@pytest.mark.parametrize(
    "style", [{"indent": "\t"}, {"separators": (",", ":")}, {"indent": 2, "ensure_ascii": False}], ids=str
)
def test_json_styles(style: dict[str, Any]) -> None:
    data, planted = _busy_cassette()
    promise(data, "json", planted, **style)
    assert_promise(json.dumps(data, indent=4).replace("\n", "\r\n"), "json", planted)


# YAML breaks lines at a lone CR, NEL, LS and PS too; the signal pass reads lines at "\n".
# Header lines joined by one of those once hid a cookie from scan (found probing, 2026-12-02).
OTHER_BREAKS = {"lone-cr": "\r", "nel": "\x85", "line-separator": "\u2028", "paragraph-separator": "\u2029"}


@pytest.mark.parametrize("brk", sorted(OTHER_BREAKS))
def test_yaml_headers_joined_by_other_line_breaks(brk: str) -> None:
    cookie = hex_token()
    data = cassette_of(exchange(request_headers={"Accept": ["application/json"], "Cookie": [f"JSESSIONID={cookie}"]}))
    text = text_of(data, "yaml")
    joined = text.replace("\n      Cookie:\n      - ", OTHER_BREAKS[brk].join(["", "      Cookie:", "      - "]))
    assert joined != text and cassette.loads(joined, path="c.yaml").data == data  # the parser reads the same cassette
    assert_promise(joined, "yaml", [cookie])
    assert any(f.rule == "cookie" for f in scan_text(joined, path="c.yaml"))


def _headers_on_one_line(text: str, separator: str) -> str:
    """The first headers object of a vcrpy JSON cassette written on one line (JSON whitespace: *separator*)."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.endswith('"headers": {'))
    last = next(i for i in range(first, len(lines)) if lines[i].strip().startswith("}"))
    joined = lines[first] + separator.join(line.strip() for line in lines[first + 1 : last + 1])
    return "\n".join([*lines[:first], joined, *lines[last + 1 :]])


@pytest.mark.parametrize("separator", [" ", "\r", ""], ids=["space", "lone-cr", "nothing"])
def test_json_headers_object_on_one_line(separator: str) -> None:
    """A headers object on one line (valid JSON) once hid its keys from scan (found probing, 2026-12-02)."""
    cookie = hex_token()
    data = cassette_of(exchange(request_headers={"Accept": ["application/json"], "Cookie": [f"JSESSIONID={cookie}"]}))
    text = _headers_on_one_line(text_of(data, "json"), separator)
    assert json.loads(text) == data
    assert_promise(text, "json", [cookie])
    assert any(f.rule == "cookie" for f in scan_text(text, path="c.json"))


def test_json_cassette_with_bom_is_refused_not_misread() -> None:
    data, _ = _busy_cassette()
    with pytest.raises(CassetteError):
        cassette.loads("\ufeff" + text_of(data, "json"), path="c.json")


def test_unicode_bodies() -> None:
    password, jwt = hex_token(), jwt_token()
    body = json.dumps({"name": "Ünïcødé — 名前", "password": password, "note": "naïve ☃ " * 40, "id_token": jwt})
    data = cassette_of(exchange(body=body))
    for style in ({}, {"allow_unicode": True, "width": 30}, {"default_style": '"', "allow_unicode": True}):
        promise(data, "yaml", [password, jwt], **style)
    assert_promise(json.dumps(data, ensure_ascii=False, indent=4), "json", [password, jwt])


def test_ruby_vcr_block_scalars_and_anchors() -> None:
    """Ruby's Psych writes `|-` block scalars and `&1`/`*1` anchors for shared strings."""
    token = hex_token()
    data = cassette_of(
        exchange(request_headers={"Authorization": ["TOKEN"]}), exchange(request_headers={"Authorization": ["ALIAS"]})
    )
    text = text_of(data, "yaml").replace("- TOKEN", f"- &1 |-\n        Bearer {token}").replace("- ALIAS", "- *1")
    assert_promise(text, "yaml", [token])


# --------------------------------------------------------------------------- escapes


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: '"\\x65' + t[1:] + '"',
        lambda t: '"\\U00000065' + t[1:] + '"',
        lambda t: '"\\u0065' + t[1:] + '"',
        lambda t: '"' + t.replace(".", "\\x2e") + '"',
        lambda t: "'\\u0065" + t[1:] + "'",  # single-quoted: a literal backslash-u the sanitizer decodes
    ],
    ids=["x-escape", "U-escape", "u-escape", "escaped-dots", "literal-u"],
)
def test_yaml_escaped_jwt_in_header(encode: Any) -> None:
    jwt = jwt_token()
    text = text_of(cassette_of(exchange(request_headers={"X-Trace": ["PLACE"]})), "yaml")
    assert_promise(text.replace("- PLACE", "- " + encode(jwt)), "yaml", [jwt.split(".")[2]])


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: '"\\u0065' + t[1:] + '"',
        lambda t: '"' + "".join(f"\\u{ord(c):04x}" for c in t) + '"',
        lambda t: '"\\\\u0065' + t[1:] + '"',
    ],
    ids=["u-escape", "all-escaped", "escaped-backslash"],
)
def test_json_escaped_jwt_in_header(encode: Any) -> None:
    jwt = jwt_token()
    text = text_of(cassette_of(exchange(request_headers={"X-Trace": ["PLACE"]})), "json")
    assert_promise(text.replace('"PLACE"', encode(jwt)), "json", [jwt.split(".")[2]])


@pytest.mark.parametrize("fmt", FORMATS)
def test_escaped_json_keys_values_and_words(fmt: str) -> None:
    a, b, c = hex_token(), hex_token(), hex_token()
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in b)
    body = (
        '{"pass\\u0077ord": "' + a + '", "client_secret": "' + escaped + '", '
        '"description": "rejected \\u0042earer ' + c + '"}'
    )
    promise(cassette_of(exchange(method="POST", uri=f"{API}/v2/service_brokers", request_body=body)), fmt, [a, b, c])


# --------------------------------------------------------------------------- URLs


URL_CASES: dict[str, Callable[[str], str]] = {
    "percent-encoded-name": lambda s: f"{UAA}/userinfo?%61ccess_token={s}",
    "percent-encoded-underscore": lambda s: f"{UAA}/userinfo?access%5Ftoken={s}",
    "percent-encoded-value": lambda s: f"{UAA}/userinfo?access_token=%{ord(s[0]):02x}{s[1:]}",
    "semicolon-separated": lambda s: f"{API}/v2/info?results-per-page=1;token={s}",
    "fragment-after-query": lambda s: f"https://app.example.com/cb?x=1#access_token={s}&token_type=bearer",
    "spa-hash-route": lambda s: f"https://app.example.com/#/callback?code={s}",
    "nested-redirect": lambda s: (
        f"{UAA}/login?redirect=" + urllib.parse.quote(f"https://a.example.com/?code={s}", safe="")
    ),
    "revoke-path": lambda s: f"{UAA}/oauth/token/revoke/{s}",
    "codes-path": lambda s: f"{UAA}/Codes/{s}",
}


@pytest.mark.parametrize("case", sorted(URL_CASES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_in_urls(case: str, fmt: str) -> None:
    secret = hex_token()
    url = URL_CASES[case](secret)
    data = cassette_of(exchange(uri=url), exchange(status=302, response_headers={"Location": [url]}))
    promise(data, fmt, [secret[1:]])


USERINFO_CASES: dict[str, Callable[[str], str]] = {
    "ipv6-host": lambda s: f"https://admin:{s}@[2001:db8::1]:8443/v2",
    "hash-in-password": lambda s: f"https://admin:{s}#x@db.example.com/v2",
    "encoded-at": lambda s: f"https://admin:{s}%40x@db.example.com/v2",
    "unencoded-at-and-slash": lambda s: f"postgres://app:{s[:8]}/{s[8:16]}@{s[16:]}@db.example.com:5432/app",
    "empty-user": lambda s: f"redis://:{s}@redis.example.com:6379/0",
    "srv-scheme": lambda s: f"mongodb+srv://app:{s}@cluster0.example.net/db?retryWrites=true",
    "jdbc-query": lambda s: f"jdbc:postgresql://db.example.com/app?user=app&password={s}",
}


@pytest.mark.parametrize("case", sorted(USERINFO_CASES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_passwords_in_urls(case: str, fmt: str) -> None:
    secret = hex_token()
    url = USERINFO_CASES[case](secret)
    body = json.dumps({"entity": {"name": "db", "syslog_drain_url": url}})
    promise(cassette_of(exchange(uri=f"{API}/v2/user_provided_service_instances/u", body=body)), fmt, [secret])


def test_escaped_slashes_userinfo_in_a_yaml_cassette() -> None:
    secret = hex_token()
    body = json.dumps({"url": f"https://admin:{secret}@db.example.com/x"}).replace("/", "\\/")
    promise(cassette_of(exchange(body=body)), "yaml", [secret])


def test_html_escaped_ampersand_in_a_link() -> None:
    secret = hex_token()
    body = json.dumps({"description": f"see https://x.example.com/a?b=1&amp;access_token={secret}"})
    for fmt in FORMATS:
        promise(cassette_of(exchange(body=body)), fmt, [secret])


# --------------------------------------------------------------------------- forms


@given(
    name=st.sampled_from(["password", "client_secret", "refresh_token", "passcode", "X-Uaa-Csrf", "SAMLResponse"]),
    position=st.integers(0, 2),
    plus=st.booleans(),
    fmt=st.sampled_from(FORMATS),
)
def test_form_fields(name: str, position: int, plus: bool, fmt: str) -> None:
    secret = hex_token(8) + ("+and more" if plus else "")
    fields = [("grant_type", "password"), ("username", "dev@example.com")]
    fields.insert(position, (name, secret))
    form = urllib.parse.urlencode(fields)
    headers = {"Content-Type": ["application/x-www-form-urlencoded"]}
    data = cassette_of(exchange(method="POST", uri=f"{UAA}/oauth/token", request_headers=headers, request_body=form))
    promise(data, fmt, [secret, urllib.parse.quote_plus(secret)])


# --------------------------------------------------------------------------- JSON bodies


@given(
    words=st.sampled_from(
        [("client", "secret"), ("access", "token"), ("api", "key"), ("private", "key"), ("passphrase",)]
    ),
    case=st.sampled_from(["snake", "camel", "kebab", "upper"]),
    fmt=st.sampled_from(FORMATS),
)
def test_secret_keys_in_any_case(words: tuple[str, ...], case: str, fmt: str) -> None:
    if case == "snake":
        key = "_".join(words)
    elif case == "camel":
        key = words[0] + "".join(w.title() for w in words[1:])
    elif case == "kebab":
        key = "-".join(words)
    else:
        key = "_".join(words).upper()
    secret = hex_token()
    body = json.dumps({"name": "broker", "parameters": {"nested": [{key: secret}]}})
    promise(cassette_of(exchange(method="POST", uri=f"{API}/v2/service_instances", request_body=body)), fmt, [secret])


@pytest.mark.parametrize("pad", range(0, 90, 11))
@pytest.mark.parametrize("width", [None, 24])
def test_secret_keys_with_spaces_folded_by_yaml(pad: int, width: int | None) -> None:
    secret = hex_token()
    body = json.dumps({"note": "x" * pad, "db password": secret, "client secret": secret + "2"})
    data = cassette_of(exchange(method="POST", uri=f"{API}/v2/service_brokers", request_body=body))
    promise(data, "yaml", [secret], **({"width": width} if width else {}))


@pytest.mark.parametrize("fmt", FORMATS)
def test_credentials_shapes(fmt: str) -> None:
    a, b = hex_token(), hex_token()
    bodies_ = [
        json.dumps({"entity": {"credentials": [a]}}),
        json.dumps({"entity": {"docker_credentials": {"username": "deployer", "password": b}}}),
    ]
    data = cassette_of(*(exchange(uri=f"{API}/v2/service_keys/k", body=body) for body in bodies_))
    promise(data, fmt, [a, b])


def test_duplicate_keys_and_lists_of_env_maps() -> None:
    first, second, env = hex_token(), hex_token(), hex_token()
    body = (
        '{"resources": [{"entity": {"password": "' + first + '", "password": "' + second + '", '
        '"environment_json": {"SENTRY_DSN": "' + env + '", "LOG_LEVEL": "debug"}}}]}'
    )
    for fmt in FORMATS:
        promise(cassette_of(exchange(uri=f"{API}/v2/apps", body=body)), fmt, [first, second, env])


@pytest.mark.parametrize("fmt", FORMATS)
def test_jwts_with_padding_and_glued_to_text(fmt: str) -> None:
    jwt = jwt_token()
    head, payload, signature = jwt.split(".")
    padded = ".".join(part + "=" * (-len(part) % 4) for part in (head, payload, signature))
    data = cassette_of(
        exchange(request_headers={"Authorization": [f"Bearer {padded}"]}),
        exchange(body=json.dumps({"a": f"x{jwt}y", "b": f"token:{jwt},"})),
    )
    promise(data, fmt, [signature])


@pytest.mark.parametrize("fmt", FORMATS)
def test_base64_wrapped_credentials_as_whole_values(fmt: str) -> None:
    jwt, token = jwt_token(), hex_token()
    data = cassette_of(
        exchange(body=json.dumps({"config": b64(f"token: {jwt}")})),
        exchange(response_headers={"X-Debug": [b64(f"token: {jwt}")]}),
        exchange(body=json.dumps({"note": base64.urlsafe_b64encode(f"Bearer {token}".encode()).decode()})),
    )
    promise(data, fmt, [jwt, token])


@pytest.mark.parametrize("alphabet", ["standard", "urlsafe"])
@pytest.mark.parametrize("wrapped", ["bearer", "jwt-after-words", "bare-jwt"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_unpadded_base64_wrapped_tokens_under_harmless_names(alphabet: str, wrapped: str, fmt: str) -> None:
    """No '=' padding, no trigger word: only the base64 signature says a token may be inside."""
    jwt, token = jwt_token(), hex_token()
    plain = {"bearer": f"Bearer {token}", "jwt-after-words": f"cached {jwt}", "bare-jwt": jwt}[wrapped]
    plain += " " * (-len(plain) % 3)  # a whole number of base64 quanta: no padding
    encode = base64.urlsafe_b64encode if alphabet == "urlsafe" else base64.b64encode
    blob = encode(plain.encode()).decode()
    assert "=" not in blob
    body = app_body(environment_json={"APP_CACHE": blob}, name="worker")
    data = cassette_of(exchange(body=json.dumps({"note": blob})), exchange(body=body))
    promise(data, fmt, [token if wrapped == "bearer" else jwt])


# --------------------------------------------------------------------------- bodies and their encodings


@pytest.mark.parametrize(
    ("codings", "header"),
    [(("gzip", "br"), "gzip, br"), (("x-gzip",), "X-GZIP"), (("deflate",), "deflate"), (("zstd",), "zstd")],
)
def test_compressed_bodies(codings: tuple[str, ...], header: str) -> None:
    password, token = hex_token(), hex_token()
    form = bodies.encode(f"password={password}&grant_type=password".encode(), codings)
    body = bodies.encode(json.dumps({"access_token": token}).encode(), codings)
    data = cassette_of(
        exchange(
            method="POST",
            uri=f"{UAA}/oauth/token",
            request_headers={"Content-Encoding": [header], "Content-Type": ["application/x-www-form-urlencoded"]},
            request_body=form,
            response_headers={"content-encoding": [header]},
            body=body,
        )
    )
    promise(data, "yaml", [password, token])


@pytest.mark.parametrize("fmt", FORMATS)
def test_content_encoding_that_lies(fmt: str) -> None:
    password = hex_token()
    data = cassette_of(
        exchange(response_headers={"Content-Encoding": ["gzip"]}, body=json.dumps({"password": password}))
    )
    promise(data, fmt, [password])


def test_request_bodies_stored_as_bytes() -> None:
    password, secret = hex_token(), hex_token()
    data = cassette_of(
        exchange(method="POST", request_body=f"password={password}".encode()),
        exchange(method="POST", request_body=json.dumps({"client_secret": secret}).encode()),
        exchange(method="POST", request_body=b""),
    )
    promise(data, "yaml", [password, secret])


def test_cassette_metadata_and_interaction_keys_before_request() -> None:
    jwt = jwt_token()
    interaction = exchange()
    interaction["recorded_at"] = jwt  # sorts before "request" in YAML: the file is read exactly
    promise(cassette_of(interaction, metadata={"note": jwt}, recorded_with=f"VCR 6.0.0 {jwt}"), "yaml", [jwt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_private_keys_with_crlf_and_without_end(fmt: str) -> None:
    material = base64.b64encode(secrets.token_bytes(120)).decode()
    kind = "RSA " + "PRIVATE" + " KEY"
    crlf = f"-----BEGIN {kind}-----\r\n{material[:64]}\r\n{material[64:]}\r\n-----END {kind}-----\r\n"
    data = cassette_of(
        exchange(
            method="POST", uri=f"{API}/v2/service_instances", request_body=json.dumps({"parameters": {"k": crlf}})
        ),
        text_response(crlf),
        exchange(body=json.dumps({"k": crlf.split("-----END")[0]})),
    )
    promise(data, fmt, [material[:40], material[64:100]])


def _vendor_credentials() -> dict[str, tuple[str, str]]:
    """Credential formats (value, the part that must go), assembled at run time."""
    s = Secrets()
    hook = f"T{s.alnum(8)}/B{s.alnum(8)}/{s.alnum(24)}"
    made = {
        "github": "gh" + "p_" + s.alnum(36),
        "stripe": "sk" + "_live_" + s.alnum(24),
        "aws-id": "AK" + "IA" + s.alnum(16).upper(),
        "gitlab": "gl" + "pat-" + s.alnum(20),
        "sendgrid": "S" + f"G.{s.alnum(22)}.{s.alnum(43)}",
    }
    found = {name: (value, value) for name, value in made.items()}
    found["slack-webhook"] = ("https://hooks.slack.com/services/" + hook, hook)
    return found


@pytest.mark.parametrize("name", sorted(_vendor_credentials()))
@pytest.mark.parametrize("fmt", FORMATS)
def test_credential_formats_at_string_edges(name: str, fmt: str) -> None:
    value, secret = _vendor_credentials()[name]
    data = cassette_of(
        exchange(body=json.dumps({"whole": value, "paren": f"({value})", "line": value + "\n", "tab": "\t" + value})),
        exchange(response_headers={"X-Note": [value]}),
        exchange(body=json.dumps({"entity": {"environment_json": {"HELPER": value}}})),
    )
    promise(data, fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_env_values_under_harmless_names(fmt: str) -> None:
    url_password, nested, group = hex_token(), hex_token(), hex_token()
    env = {
        "CONFIG": f"postgres://app:{url_password}@db.example.com/app",
        "SETTINGS": json.dumps({"db": {"password": nested}}),
        "HELPER": jwt_token(),
    }
    data = cassette_of(
        exchange(body=app_body(environment_json=env)),
        exchange(
            uri=f"{API}/v2/config/environment_variable_groups/running",
            body=json.dumps({"BASIC_AUTH": group, "REGION": "eu"}),
        ),
    )
    promise(data, fmt, [url_password, nested, group, env["HELPER"]])


def test_deep_json_is_refused_cleanly() -> None:
    body = '{"a": ' + "[" * 250 + '"see https://x.example.com/?a=1"' + "]" * 250 + "}"
    data = cassette_of(exchange(body=body))
    with pytest.raises(CassetteError):
        Sanitizer().sanitize_data(copy.deepcopy(data))


def test_a_large_cc_listing_stays_fast() -> None:
    password, jwt = hex_token(), jwt_token()
    resources = [
        {
            "metadata": {"guid": f"g-{i}", "url": f"/v2/apps/g-{i}"},
            "entity": {"name": f"app{i}", "command": "bundle exec rake", "environment_json": {"DB_PASSWORD": password}},
        }
        for i in range(1500)
    ]
    data = cassette_of(
        exchange(request_headers={"Authorization": [f"bearer {jwt}"]}, body=json.dumps({"resources": resources}))
    )
    started = time.perf_counter()
    promise(data, "json", [password, jwt])
    assert time.perf_counter() - started < 20


# =========================================================================== what broke
# ------------------------------------------------------------------------- the scanner flagged what the sanitizer kept


NOT_PARSED_AS_JSON: dict[str, Callable[[str], str]] = {
    "json-in-a-string": lambda s: json.dumps({"entity": {"name": "x", "parameters_json": json.dumps({"password": s})}}),
    "bom-before-json": lambda s: "\ufeff" + json.dumps({"password": s}),
    "truncated-json": lambda s: '{"name": "x", "password": "' + s + '", "more": ',
    "html-with-inline-json": lambda s: '<html><script>var c = {"password": "' + s + '"};</script></html>',
}


@pytest.mark.parametrize("case", sorted(NOT_PARSED_AS_JSON))
@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_key_in_text_that_is_not_parsed_json(case: str, fmt: str) -> None:
    secret = hex_token()
    promise(
        cassette_of(exchange(uri=f"{API}/v2/service_instances/x", body=NOT_PARSED_AS_JSON[case](secret))), fmt, [secret]
    )


@pytest.mark.parametrize("where", ["data-uri-in-json", "header-after-name"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_base64_wrapped_token_after_a_prefix(where: str, fmt: str) -> None:
    jwt = jwt_token()
    blob = b64(f"token: {jwt}")
    if where == "data-uri-in-json":
        interaction = exchange(body=json.dumps({"note": "data:text/plain;base64," + blob}))
    else:
        interaction = exchange(response_headers={"X-Debug": ["cfg=" + blob]})
    promise(cassette_of(interaction), fmt, [jwt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_basic_credential_at_the_end_of_a_sentence(fmt: str) -> None:
    secret = hex_token()
    credential = b64(f"admin:{secret}")
    body = json.dumps({"description": f"request rejected: Authorization: Basic {credential}.", "error_code": "CF-X"})
    promise(cassette_of(exchange(status=401, body=body)), fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_bearer_after_a_literal_backslash_n(fmt: str) -> None:
    token = hex_token()
    promise(cassette_of(text_response(f"trace:\\nBearer {token}\\n")), fmt, [token])


@pytest.mark.parametrize("fmt", FORMATS)
def test_short_unpadded_basic_in_prose(fmt: str) -> None:
    credential = b64("ab:cd").rstrip("=")
    promise(cassette_of(text_response(f"login failed for Basic {credential} (retrying)")), fmt, [])


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "text/plain"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_go_escaped_url_password_in_log_lines(content_type: str, fmt: str) -> None:
    secret = hex_token()
    url = f"postgres://app:{secret}\\u0026x@db.example.com/app"
    body = '{"level":"info","msg":"connecting to ' + url + '"}\n{"level":"info","msg":"ok"}\n'
    interaction = exchange(response_headers={"Content-Type": [content_type]}, body=body)
    promise(cassette_of(interaction), fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_jwt_as_a_json_key(fmt: str) -> None:
    jwt = jwt_token()
    promise(cassette_of(exchange(body=json.dumps({"sessions": {jwt: {"scope": ["openid"]}}}))), fmt, [jwt])


@pytest.mark.parametrize("key", ["encoding", "base64_string"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_extra_keys_in_the_response_body_mapping(key: str, fmt: str) -> None:
    jwt = jwt_token()
    interaction = exchange()
    interaction["response"]["body"][key] = jwt if key == "encoding" else b64(f"token {jwt}")
    promise(cassette_of(interaction), fmt, [jwt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_extra_keys_in_the_status_mapping(fmt: str) -> None:
    jwt = jwt_token()
    interaction = exchange()
    interaction["response"]["status"]["detail"] = jwt
    promise(cassette_of(interaction), fmt, [jwt])


@pytest.mark.parametrize("shape", ["bearer", "userinfo"])
def test_binary_body_with_bearer_or_url_password(shape: str) -> None:
    secret = hex_token()
    text = f"Authorization: Bearer {secret}" if shape == "bearer" else f"https://u:{secret}@h.example.com/"
    promise(cassette_of(exchange(body=b"\xff\xfe" + text.encode())), "yaml", [secret])


@pytest.mark.parametrize("where", ["metadata", "interaction"])
def test_binary_values_outside_bodies(where: str) -> None:
    jwt = jwt_token()
    interaction = exchange()
    if where == "interaction":
        interaction["zz_extra"] = f"token {jwt}".encode()
        data = cassette_of(interaction)
    else:
        data = cassette_of(interaction, metadata={"blob": f"token {jwt}".encode()})
    promise(data, "yaml", [jwt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_jti_before_its_access_token(fmt: str) -> None:
    jti = secrets.token_hex(8)
    body = json.dumps({"jti": jti, "access_token": tokens.sign({"jti": jti}), "token_type": "bearer"})
    promise(cassette_of(exchange(method="POST", uri=f"{UAA}/oauth/token", body=body)), fmt, [])


def test_yaml_comment_after_the_public_cf_client() -> None:
    text = text_of(cassette_of(exchange(request_headers={"Authorization": ["PLACE"]})), "yaml")
    public = "Basic " + b64("cf:")
    assert_promise(text.replace("- PLACE", f"- {public}  # the cf CLI's public client"), "yaml", [])


# --------------------------------------------------------------------------- the sanitizer changed what scan missed


@pytest.mark.parametrize("name", ["DB_PASS", "SENTRY_DSN", "STRIPE_KEY", "BASIC_AUTH", "TLS_CERT", "SECRET_KEY_BASE"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_command_line_assignment_named_by_env_words(name: str, fmt: str) -> None:
    secret = hex_token()
    body = app_body(command=f"{name}={secret} bundle exec rake db:migrate && bin/web")
    promise(cassette_of(exchange(body=body)), fmt, [secret])


@pytest.mark.parametrize("flag", ["--password", "--db-password", "--client-secret"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_command_line_flag_with_a_space(flag: str, fmt: str) -> None:
    secret = hex_token()
    promise(cassette_of(exchange(body=app_body(command=f"bin/migrate {flag} {secret} && bin/web"))), fmt, [secret])


@pytest.mark.parametrize("where", ["form", "query", "colon-query"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_bracketed_parameter_names(where: str, fmt: str) -> None:
    secret = hex_token()
    if where == "form":
        interaction = exchange(
            method="POST",
            uri=f"{UAA}/login.do",
            request_headers={"Content-Type": ["application/x-www-form-urlencoded"]},
            request_body=f"user%5Bemail%5D=dev%40example.com&user[password]={secret}&commit=Sign+in",
        )
    elif where == "query":
        interaction = exchange(uri=f"{API}/v2/info?user[password]={secret}")
    else:
        interaction = exchange(uri=f"{API}/v2/info?auth:token={secret}")
    promise(cassette_of(interaction), fmt, [secret])


def test_aws_secret_in_a_text_body_of_a_json_cassette() -> None:
    key = Secrets().alnum(40)
    body = f'[default]\naws_secret_access_key = "{key}"\n'
    promise(cassette_of(text_response(body)), "json", [key])


@pytest.mark.parametrize("name", ["X.Auth.Token", "1X-Api-Key", "X-Api-Key."])
@pytest.mark.parametrize("fmt", FORMATS)
def test_unusual_header_names(name: str, fmt: str) -> None:
    secret = hex_token()
    promise(cassette_of(exchange(request_headers={name: [secret]})), fmt, [secret])


@pytest.mark.parametrize("where", ["metadata-key", "metadata-env-map", "interaction-key"])
def test_secret_names_in_yaml_mappings(where: str) -> None:
    secret = hex_token()
    interaction = exchange()
    if where == "interaction-key":
        interaction["zz_extra"] = {"password": secret}
        data = cassette_of(interaction)
    elif where == "metadata-key":
        data = cassette_of(interaction, metadata={"password": secret})
    else:
        data = cassette_of(interaction, metadata={"app": {"environment_json": {"DB_PASS": secret}}})
    promise(data, "yaml", [secret])


def test_env_map_in_json_metadata() -> None:
    secret = hex_token()
    promise(cassette_of(exchange(), metadata={"app": {"environment_json": {"DB_PASS": secret}}}), "json", [secret])


def test_metadata_before_the_interactions() -> None:
    jwt = jwt_token()
    data = {"metadata": {"note": jwt}, **cassette_of(exchange())}
    promise(data, "json", [jwt])


@pytest.mark.parametrize("kind", ["npmrc", "azure"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_anchored_on_equals(kind: str, fmt: str) -> None:
    if kind == "npmrc":
        secret = "npm_" + Secrets().alnum(36)
        interaction = text_response(
            f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={secret}\n"
        )
    else:
        secret = base64.b64encode(secrets.token_bytes(64)).decode()
        interaction = exchange(body=json.dumps({"connection": f"AccountKey={secret}"}))
    promise(cassette_of(interaction), fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_credentials_as_a_string(fmt: str) -> None:
    secret = hex_token()
    body = json.dumps({"entity": {"credentials": f"postgres-{secret}"}})
    promise(cassette_of(exchange(uri=f"{API}/v2/service_bindings/b", body=body)), fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_jti_in_a_sibling_object(fmt: str) -> None:
    jti = secrets.token_hex(8)
    body = json.dumps([{"access_token": tokens.sign({"jti": jti})}, {"jti": jti}])
    promise(cassette_of(exchange(method="POST", uri=f"{UAA}/oauth/token", body=body)), fmt, [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_prose_bearer_with_a_four_part_token(fmt: str) -> None:
    jwt = jwt_token()
    body = json.dumps({"description": f"rejected Bearer {jwt}.x1"})
    promise(cassette_of(exchange(status=401, body=body)), fmt, [jwt.split(".")[2]])


HAND_EDITS: dict[str, Callable[[str], str]] = {
    "quoted-key": lambda t: t.replace("\n      X-Auth-Token:", "\n      'X-Auth-Token':"),
    "comment-line": lambda t: t.replace("      X-Auth-Token:\n", "      X-Auth-Token:\n      # rotated weekly\n"),
    "trailing-spaces": lambda t: t.replace("      X-Auth-Token:\n", "      X-Auth-Token:   \n"),
    "space-before-colon": lambda t: t.replace("      X-Auth-Token:\n", "      X-Auth-Token :\n"),
}


@pytest.mark.parametrize("edit", sorted(HAND_EDITS))
def test_hand_edited_header_keys(edit: str) -> None:
    secret = hex_token()
    text = text_of(cassette_of(exchange(request_headers={"X-Auth-Token": [secret]})), "yaml")
    edited = HAND_EDITS[edit](text)
    assert edited != text
    assert_promise(edited, "yaml", [secret])


@pytest.mark.parametrize("body", ["json", "text"])
def test_escaped_slash_userinfo_in_a_json_cassette(body: str) -> None:
    secret = hex_token()
    url = f"https://admin:{secret}@db.example.com/x".replace("/", "\\/")
    interaction = (
        exchange(body=json.dumps({"url": "URL"}).replace("URL", url)) if body == "json" else text_response(url)
    )
    promise(cassette_of(interaction), "json", [secret])


# --------------------------------------------------------------------------- the two named different places


def test_audit_event_body_shifts_interaction_indexes() -> None:
    event = {
        "resources": [
            {
                "metadata": {"guid": "e-1"},
                "entity": {
                    "type": "audit.app.update",
                    "metadata": {"request": {"environment_json": "PRIVATE DATA HIDDEN"}},
                },
            }
        ]
    }
    token = hex_token()
    data = cassette_of(
        exchange(uri=f"{API}/v2/events?q=type:audit.app.update", body=json.dumps(event)),
        exchange(request_headers={"Authorization": [f"bearer {token}"]}),
    )
    promise(data, "yaml", [token])


@pytest.mark.parametrize("where", ["response-key", "interaction-key"])
def test_location_of_extra_keys(where: str) -> None:
    jwt = jwt_token()
    interaction = exchange()
    if where == "response-key":
        interaction["response"]["http_version"] = jwt
    else:
        interaction["zz_recorded_at"] = jwt
    promise(cassette_of(interaction), "json", [jwt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_form_field_after_a_redirect_uri(fmt: str) -> None:
    secret = hex_token()
    form = f"grant_type=authorization_code&redirect_uri=https://app.example.com/cb?x=1&client_secret={secret}"
    headers = {"Content-Type": ["application/x-www-form-urlencoded"]}
    promise(
        cassette_of(exchange(method="POST", uri=f"{UAA}/oauth/token", request_headers=headers, request_body=form)),
        fmt,
        [secret],
    )


# --------------------------------------------------------------------------- secrets that survived both


def test_alias_copies_a_secret_into_a_plain_header() -> None:
    secret = hex_token()
    data = cassette_of(exchange(request_headers={"X-Api-Key": ["SECRET"]}, response_headers={"X-Echo": ["ECHO"]}))
    text = text_of(data, "yaml").replace("- SECRET", f"- &1 {secret}").replace("- ECHO", "- *1")
    assert_promise(text, "yaml", [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_newline_joined_set_cookie(fmt: str) -> None:
    first, second = hex_token(), hex_token()
    value = f"X-Uaa-Csrf={first}; Path=/\nJSESSIONID={second}; Path=/; HttpOnly"
    promise(cassette_of(exchange(response_headers={"Set-Cookie": [value]})), fmt, [first, second])


@pytest.mark.parametrize("fmt", FORMATS)
def test_set_cookie_after_a_short_expires(fmt: str) -> None:
    secret = hex_token()
    value = f"X-Uaa-Csrf=deleted; Expires=0, JSESSIONID={secret}; Path=/"
    promise(cassette_of(exchange(response_headers={"Set-Cookie": [value]})), fmt, [secret])


@pytest.mark.parametrize("direction", ["get-manifest", "apply-manifest"])
def test_v3_manifest_bodies(direction: str) -> None:
    secret = hex_token()
    manifest = f"applications:\n- name: web\n  env:\n    DB_PASSWORD: {secret}\n    LOG_LEVEL: debug\n"
    headers = {"Content-Type": ["application/x-yaml"]}
    if direction == "get-manifest":
        interaction = exchange(uri=f"{API}/v3/apps/g/manifest", response_headers=headers, body=manifest)
    else:
        interaction = exchange(
            method="POST",
            uri=f"{API}/v3/spaces/s/actions/apply_manifest",
            request_headers=headers,
            request_body=manifest,
        )
    promise(cassette_of(interaction), "yaml", [secret])


@pytest.mark.parametrize("method", ["GET", "PATCH"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_v3_environment_variables(method: str, fmt: str) -> None:
    secret = hex_token()
    document = json.dumps({"var": {"DB_PASS": secret, "LOG_LEVEL": "debug"}})
    uri = f"{API}/v3/apps/c462b988/environment_variables"
    if method == "GET":
        interaction = exchange(uri=uri, body=document)
    else:
        interaction = exchange(method="PATCH", uri=uri, request_body=document, body=document)
    promise(cassette_of(interaction), fmt, [secret])


@pytest.mark.parametrize("fmt", FORMATS)
def test_double_encoded_redirect(fmt: str) -> None:
    code = hex_token()
    inner = urllib.parse.quote(urllib.parse.quote(f"https://a.example.com/cb?code={code}&state=1", safe=""), safe="")
    promise(cassette_of(exchange(uri=f"{UAA}/login?redirect={inner}")), fmt, [code])


@pytest.mark.parametrize("fmt", FORMATS)
def test_jsessionid_path_parameter(fmt: str) -> None:
    session = hex_token()
    data = cassette_of(
        exchange(uri=f"{UAA}/login;jsessionid={session}", response_headers={"Set-Cookie": [f"JSESSIONID={session}"]})
    )
    promise(data, fmt, [session])


@pytest.mark.parametrize("fmt", FORMATS)
def test_glued_private_keys(fmt: str) -> None:
    first, second = (base64.b64encode(secrets.token_bytes(60)).decode() for _ in range(2))
    body = json.dumps({"name": "tls", "ssh_material": pem_block(first) + pem_block(second)})
    promise(cassette_of(exchange(body=body)), fmt, [first, second])


# --------------------------------------------------------------------------- crashes and time


@pytest.mark.parametrize("tool", ["sanitize", "scan"])
def test_deeply_nested_credentials(tool: str) -> None:
    depth = 600
    body = '{"entity": {"credentials": ' + "[" * depth + json.dumps(hex_token()) + "]" * depth + "}}"
    data = cassette_of(exchange(uri=f"{API}/v2/service_bindings/b", body=body))
    try:
        if tool == "sanitize":
            Sanitizer().sanitize_data(data)
        else:
            scan_text(text_of(data, "yaml"), path="c.yaml")
    except CassetteError:
        pass


def test_many_form_fields_are_linear() -> None:
    form = "&".join(f"field{i}=v" for i in range(4000))
    started = time.perf_counter()
    Sanitizer().sanitize_text(form)
    assert time.perf_counter() - started < 0.25


@pytest.mark.parametrize("tool", ["sanitize", "scan"])
def test_eyj_run_is_linear(tool: str) -> None:
    body = "eyJ" * 24000
    started = time.perf_counter()
    if tool == "sanitize":
        Sanitizer().sanitize_text(body)
    else:
        scan_text(text_of(cassette_of(text_response(body)), "yaml"), path="c.yaml")
    assert time.perf_counter() - started < 0.25
