"""The rule table is the one definition of a secret, and both tools read it.

* the table itself: ids, summaries, sources, config keys, optional rules;
* adding a rule, a header name or a key word is one edit, and ``sanitize`` and ``scan``
  both pick it up (so do ``[tool.cfreplay.sanitize]``'s keys);
* ``disable`` turns a credential format off for both tools, and refuses anything else
  with a one-line message;
* what is not a secret comes through both tools untouched;
* the name tests answer as ``cfreplay/hygiene/rules.py`` documents them.

Every secret is generated at test time (CI runs ``cfreplay scan tests/``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import secrets
import string
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leaks import API, APP, UAA, Secrets, app_body, exchange

from cfreplay import cassette
from cfreplay.errors import CfreplayError
from cfreplay.hygiene import detectors
from cfreplay.hygiene.credential_formats import FORMATS, CredentialFormat
from cfreplay.hygiene.rules import (
    CREDENTIAL_OBJECT_KEYS,
    DOCKER_CREDENTIAL_KEYS,
    RULES,
    Place,
    Replacement,
    Rule,
    RuleTable,
    SanitizeConfig,
    SpanKind,
    keep_spans,
    markdown_table,
    replace_rule,
)
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import rule_ids, scan_paths, scan_text

BY_ID = {rule.id: rule for rule in RULES}
FORMATS_OF_CASSETTES: tuple[cassette.Format, ...] = ("yaml", "json")
Where = tuple[int | None, str, str]

#: ``[tool.cfreplay.sanitize]`` keys: SanitizeConfig's fields, spelled as TOML spells them.
TOML_KEYS = frozenset(f.name.replace("_", "-") for f in dataclasses.fields(SanitizeConfig) if f.name != "source")


# --------------------------------------------------------------------------- helpers


def token(size: int = 24) -> str:
    """An opaque secret with letters and digits."""
    alphabet = string.ascii_letters + string.digits
    return "k" + "".join(secrets.choice(alphabet) for _ in range(size)) + "7"


def where(location: str) -> str:
    return re.sub(r" \(.*\)$", "", location)


def both_tools(
    interaction: dict[str, Any], fmt: cassette.Format, table: RuleTable
) -> tuple[set[Where], set[Where], str]:
    """What ``scan`` reports and what ``sanitize`` changes in a one-interaction cassette, and the sanitized text."""
    raw = cassette.dumps({"interactions": [copy.deepcopy(interaction)], "version": 1}, fmt)
    found = {(f.interaction, f.rule, where(f.location)) for f in scan_text(raw.decode(), path=f"c.{fmt}", table=table)}
    loaded = cassette.loads(raw, path=f"c.{fmt}").data
    report = Sanitizer(table=table, key=b"k" * 32).sanitize_data(loaded)
    changed = {(c.interaction, c.rule, c.location) for c in report.changes}
    return found, changed, cassette.dumps(loaded, fmt).decode()


def assert_both_report(
    interaction: dict[str, Any], table: RuleTable, expected: Where, secret: str, *, default: RuleTable | None = None
) -> None:
    """Both tools report *expected* (and agree on everything), *secret* is gone, and the result scans clean.

    With *default*, the table without the addition: there neither tool reports *expected*.
    """
    for fmt in FORMATS_OF_CASSETTES:
        found, changed, cleaned = both_tools(interaction, fmt, table)
        assert expected in found, f"{fmt}: scan missed {expected}: {found}"
        assert found == changed, f"{fmt}: scan only {found - changed}, sanitize only {changed - found}"
        assert secret not in cleaned and secret not in urllib.parse.unquote(cleaned)
        assert scan_text(cleaned, path=f"c.{fmt}", table=table) == []
        if default is not None:
            before, would, _ = both_tools(interaction, fmt, default)
            assert expected not in before and expected not in would, f"{fmt}: the default table already knew it"


def assert_untouched(interaction: dict[str, Any], table: RuleTable | None = None) -> None:
    """Neither tool finds anything, and sanitizing writes back the same bytes."""
    chosen = table or RuleTable()
    for fmt in FORMATS_OF_CASSETTES:
        raw = cassette.dumps({"interactions": [copy.deepcopy(interaction)], "version": 1}, fmt)
        assert scan_text(raw.decode(), path=f"c.{fmt}", table=chosen) == []
        loaded = cassette.loads(raw, path=f"c.{fmt}").data
        report = Sanitizer(table=chosen).sanitize_data(loaded)
        assert not report, report.changes
        assert cassette.dumps(loaded, fmt) == raw


def with_rule(changed: Rule) -> tuple[Rule, ...]:
    """RULES with one rule replaced by *changed* (same id)."""
    return tuple(changed if rule.id == changed.id else rule for rule in RULES)


# --------------------------------------------------------------------------- the table itself


def test_rule_ids_are_unique_lower_case_kebab() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", rule_id), rule_id


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_says_what_and_where_from(rule: Rule) -> None:
    assert rule.summary.strip() and rule.source.strip()
    assert rule.places and all(isinstance(place, Place) for place in rule.places)
    assert isinstance(rule.replacement, Replacement)
    assert all(name == name.lower() for name in rule.names), "names are matched lower-case"
    assert all(word == word.lower() for word in rule.words)


@pytest.mark.parametrize("rule", [rule for rule in RULES if rule.config_key], ids=lambda rule: rule.id)
def test_every_config_key_is_a_sanitize_key(rule: Rule, tmp_path: Path) -> None:
    assert rule.config_key in TOML_KEYS
    value = "true" if rule.config_key == "redact-all-env" else '["x-cfreplay-probe"]'
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[tool.cfreplay.sanitize]\n{rule.config_key} = {value}\n", encoding="utf-8")
    assert not SanitizeConfig.from_toml(pyproject).empty


def test_optional_rules_are_exactly_the_credential_formats() -> None:
    optional = [rule for rule in RULES if rule.optional]
    assert all(rule.format is not None for rule in optional)
    assert [rule.format for rule in RULES if rule.format is not None] == list(FORMATS)
    assert [rule.id for rule in optional] == [fmt.id for fmt in FORMATS]
    assert all(rule.format.id == rule.id for rule in optional if rule.format is not None)


def test_both_tools_name_findings_by_the_table_ids() -> None:
    assert rule_ids() == tuple(rule.id for rule in RULES)
    assert RuleTable().priority(RULES[0].id) == 0
    table = markdown_table()
    for rule in RULES:
        assert f"`{rule.id}`" in table


# --------------------------------------------------------------------------- adding a rule: one edit, both tools

ACME = CredentialFormat(
    id="acme-token",
    summary="Acme API tokens (acme_…)",
    plugin="acme.AcmeTokenDetector",
    upstream=(r"acme_[A-Za-z0-9]{32}",),
    pattern=r"acme_[A-Za-z0-9]{32}",
    anchors=("acme_",),
    reach=(0, 40),
)
ACME_RULE = Rule(
    "acme-token",
    (Place.ANY_STRING,),
    Replacement.PLACEHOLDER,
    ACME.summary,
    "the Acme API docs",
    format=ACME,
    optional=True,
)


def acme_token() -> str:
    return "acme" + "_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def test_a_new_credential_format_is_one_edit() -> None:
    table = RuleTable(rules=(*RULES, ACME_RULE))
    assert "acme-token" in table.ids and "acme-token" in rule_ids(table)
    value = acme_token()
    in_env = exchange(body=app_body(Secrets(), environment_json={"HELPER": value}))
    assert_both_report(in_env, table, (0, "acme-token", "response.body"), value, default=RuleTable())
    in_text = exchange(body=json.dumps({"description": f"deploy hook failed with {value} (retrying)"}))
    assert_both_report(in_text, table, (0, "acme-token", "response.body"), value, default=RuleTable())
    in_uri = exchange(uri=f"{API}/v2/apps?q=name:{value}")
    assert_both_report(in_uri, table, (0, "acme-token", "request.uri"), value, default=RuleTable())
    # In a plain file the formats run too.
    found = scan_text(f"token = {value}\n", path="notes.txt", cassette=False, table=table)
    assert [f.rule for f in found] == ["acme-token"]
    assert value not in Sanitizer(table=table).sanitize_text(f"token = {value}")


def test_a_new_secret_header_is_one_edit() -> None:
    # ("x-new-secret" needs no edit: its last word, secret, already makes it one.)
    assert RuleTable().header_rule("X-New-Secret") == "secret-header"
    assert RuleTable().header_rule("X-Tenant-Ticket") is None
    rule = BY_ID["secret-header"]
    table = RuleTable(rules=with_rule(replace_rule(rule, names=rule.names | {"x-tenant-ticket"})))
    assert table.header_rule("X-Tenant-Ticket") == "secret-header"
    value = token()
    interaction = exchange(request_headers={"X-Tenant-Ticket": [value]})
    expected = (0, "secret-header", "request.headers.X-Tenant-Ticket")
    assert_both_report(interaction, table, expected, value, default=RuleTable())
    response = exchange(response_headers={"x-tenant-ticket": [value]})
    assert_both_report(response, table, (0, "secret-header", "response.headers.x-tenant-ticket"), value)


def test_a_new_key_word_is_one_edit() -> None:
    rule = BY_ID["secret-key"]
    table = RuleTable(rules=with_rule(replace_rule(rule, words=rule.words | {"blob"})))
    assert table.secret_key("session_blob") and table.secret_key("sessionBlob")
    assert not RuleTable().secret_key("session_blob")
    value = token()
    body = exchange(body=json.dumps({"name": "web", "session_blob": value}))
    assert_both_report(body, table, (0, "secret-key", "response.body"), value, default=RuleTable())
    nested = exchange(method="PUT", uri=f"{API}{APP}", request_body=json.dumps({"metadata": {"sessionBlob": value}}))
    assert_both_report(nested, table, (0, "secret-key", "request.body"), value, default=RuleTable())


def test_config_headers_reach_both_tools() -> None:
    table = RuleTable(SanitizeConfig(headers=("X-Tenant-Ticket",)))
    value = token()
    interaction = exchange(request_headers={"X-Tenant-Ticket": [value]})
    assert_both_report(interaction, table, (0, "secret-header", "request.headers.X-Tenant-Ticket"), value)


def test_config_json_keys_reach_both_tools() -> None:
    table = RuleTable(SanitizeConfig(json_keys=("ticketData",)))
    value = token()
    interaction = exchange(body=json.dumps({"entity": {"name": "web", "ticketData": value}}))
    assert_both_report(interaction, table, (0, "secret-key", "response.body"), value, default=RuleTable())


def test_config_query_params_reach_both_tools() -> None:
    table = RuleTable(SanitizeConfig(query_params=("ticket",)))
    value = token()
    interaction = exchange(uri=f"{API}/v2/info?ticket={value}&results-per-page=5")
    assert_both_report(interaction, table, (0, "url-query", "request.uri"), value, default=RuleTable())


def test_config_form_fields_reach_both_tools() -> None:
    table = RuleTable(SanitizeConfig(form_fields=("pin",)))
    value = token()
    interaction = exchange(
        method="POST",
        uri=f"{UAA}/login.do",
        request_headers={"Content-Type": ["application/x-www-form-urlencoded"]},
        request_body=urllib.parse.urlencode([("username", "dev@example.com"), ("pin", value)]),
    )
    assert_both_report(interaction, table, (0, "form-field", "request.body"), value, default=RuleTable())


def test_config_patterns_reach_both_tools() -> None:
    table = RuleTable(SanitizeConfig(patterns=(r"tkt-([0-9]{12})",)))
    value = "".join(secrets.choice(string.digits) for _ in range(12))
    interaction = exchange(body=json.dumps({"description": f"support case tkt-{value} opened"}))
    assert_both_report(interaction, table, (0, "pattern", "response.body"), value, default=RuleTable())


def test_a_pattern_that_spans_json_syntax() -> None:
    table = RuleTable(SanitizeConfig(patterns=(r'"ref": "([0-9]{12})"',)))
    value = "".join(secrets.choice(string.digits) for _ in range(12))
    interaction = exchange(body=json.dumps({"name": "web", "ref": value}))
    for fmt in FORMATS_OF_CASSETTES:
        found, changed, _ = both_tools(interaction, fmt, table)
        assert found == changed, f"{fmt}: scan only {found - changed}, sanitize only {changed - found}"


def test_config_redact_all_env_reaches_both_tools() -> None:
    table = RuleTable(SanitizeConfig(redact_all_env=True))
    interaction = exchange(body=app_body(Secrets(), environment_json={"REGION": "eu-de-1"}))
    assert_both_report(interaction, table, (0, "env-value", "response.body"), "eu-de-1", default=RuleTable())


def test_config_from_pyproject_reaches_both_tools(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\nname = 'app'\n\n"
        "[tool.cfreplay.sanitize]\n"
        'headers = ["X-Tenant-Ticket"]\n'
        'json-keys = ["ticketData"]\n'
        'query-params = ["ticket"]\n'
        'form-fields = ["pin"]\n'
        'patterns = ["tkt-([0-9]{12})"]\n'
        'disable = ["github-token"]\n',
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    config = SanitizeConfig.from_pyproject(tmp_path / "sub")
    assert config == SanitizeConfig(
        headers=("X-Tenant-Ticket",),
        json_keys=("ticketData",),
        query_params=("ticket",),
        form_fields=("pin",),
        patterns=("tkt-([0-9]{12})",),
        disable=("github-token",),
    )
    table = RuleTable(config)
    value = token()
    interaction = exchange(
        uri=f"{API}/v2/info?ticket={value}",
        request_headers={"X-Tenant-Ticket": [value]},
        body=json.dumps({"ticketData": value}),
    )
    for fmt in FORMATS_OF_CASSETTES:
        found, changed, cleaned = both_tools(interaction, fmt, table)
        assert (
            found
            == changed
            == {
                (0, "url-query", "request.uri"),
                (0, "secret-header", "request.headers.X-Tenant-Ticket"),
                (0, "secret-key", "response.body"),
            }
        )
        assert value not in cleaned


def test_an_unknown_sanitize_key_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.cfreplay.sanitize]\njson_keys = ["x"]\n', encoding="utf-8")
    with pytest.raises(CfreplayError, match=r"unknown key 'json_keys' in \[tool\.cfreplay\.sanitize\]") as caught:
        SanitizeConfig.from_toml(pyproject)
    assert "\n" not in str(caught.value)


def test_a_bad_pattern_is_refused_in_one_line() -> None:
    with pytest.raises(CfreplayError, match=r"^sanitize pattern 'tkt-\(' is not a valid regex: ") as caught:
        SanitizeConfig(patterns=("tkt-(",))
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- disable


def github_token() -> str:
    return "gh" + "p_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


def test_disable_turns_a_format_off_for_both_tools() -> None:
    value = github_token()
    interaction = exchange(body=app_body(Secrets(), environment_json={"DEPLOY_HELPER": value}))
    assert_both_report(interaction, RuleTable(), (0, "github-token", "response.body"), value)
    table = RuleTable(SanitizeConfig(disable=("github-token",)))
    assert "github-token" not in table.ids and "github-token" not in rule_ids(table)
    assert_untouched(interaction, table)
    assert scan_text(f"token: {value}\n", path="notes.txt", cassette=False, table=table) == []
    assert Sanitizer(table=table).sanitize_text(f"token: {value}") == f"token: {value}"
    # Only that format: the others still run.
    stripe = "sk" + "_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    other = exchange(body=app_body(Secrets(), environment_json={"PAYMENTS": stripe}))
    assert_both_report(other, table, (0, "stripe-key", "response.body"), stripe)


@pytest.mark.parametrize("rule_id", [rule.id for rule in RULES if not rule.optional])
def test_disabling_a_promised_rule_is_refused(rule_id: str) -> None:
    with pytest.raises(CfreplayError) as caught:
        SanitizeConfig(disable=(rule_id,))
    assert str(caught.value) == f"cannot disable {rule_id!r}: only credential-format rules can be turned off"


def test_disabling_jwt_from_pyproject_names_the_file(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.cfreplay.sanitize]\ndisable = ["jwt"]\n', encoding="utf-8")
    with pytest.raises(CfreplayError) as caught:
        SanitizeConfig.from_toml(pyproject)
    message = str(caught.value)
    assert message == f"{pyproject}: cannot disable 'jwt': only credential-format rules can be turned off"


def test_disabling_an_unknown_rule_suggests_one() -> None:
    with pytest.raises(CfreplayError) as caught:
        SanitizeConfig(disable=("githb-token",))
    message = str(caught.value)
    assert message.startswith("cannot disable 'githb-token': no such rule; did you mean 'github-token'")
    assert message.endswith("?") and "\n" not in message


def test_disabling_a_far_off_name_lists_the_rules() -> None:
    with pytest.raises(CfreplayError) as caught:
        SanitizeConfig(disable=("zzz",))
    message = str(caught.value)
    assert message.startswith("cannot disable 'zzz': no such rule; rules: ")
    assert all(rule.id in message for rule in RULES) and "\n" not in message


# --------------------------------------------------------------------------- what is not a secret

UAA_LOGIN = {
    "app": {"version": "77.1.0"},
    "commit_id": "2c2a5e1",
    "timestamp": "2024-05-01T10:00:00+0000",
    "idpDefinitions": {},
    "links": {
        "uaa": UAA,
        "passwd": "https://login.example.com/forgot_password",
        "login": "https://login.example.com",
        "register": "/create_account",
    },
    "zone_name": "uaa",
    "entityID": "login.example.com",
    "prompts": {
        "username": ["text", "Email"],
        "password": ["password", "Password"],
        "passcode": ["password", "Temporary Authentication Code ( Get one at https://login.example.com/passcode )"],
    },
}

NOT_SECRETS: dict[str, dict[str, Any]] = {
    "a number under a password key": exchange(body=json.dumps({"password_min_length": 8})),
    "UAA password policy": exchange(
        uri=f"{UAA}/identity-zones/uaa",
        body=json.dumps(
            {"passwordPolicy": {"minLength": 0, "requireUpperCaseCharacter": 0, "expirePasswordInMonths": 0}}
        ),
    ),
    "a password that is a number": exchange(body=json.dumps({"password": 123, "secret": False, "token": None})),
    "empty secrets and CC markers": exchange(
        body=json.dumps(
            {
                "password": "",
                "client_secret": "***",
                "credentials": {"redacted_message": "[PRIVATE DATA HIDDEN]"},
                "environment_json": {"DB_PASSWORD": ""},
            }
        )
    ),
    "UAA GET /login": exchange(uri=f"{UAA}/login", body=json.dumps(UAA_LOGIN)),
    "UAA user": exchange(
        uri=f"{UAA}/Users/5d3f5c51",
        body=json.dumps(
            {
                "id": "5d3f5c51",
                "userName": "dev@example.com",
                "passwordLastModified": "2015-01-01T00:00:00.000Z",
                "verified": True,
            }
        ),
    ),
    "token endpoint and type": exchange(
        uri=f"{API}/v2/info",
        body=json.dumps(
            {
                "token_endpoint": "https://uaa.sys.example.com",
                "authorization_endpoint": "https://login.sys.example.com",
                "token_type": "bearer",
                "app_ssh_oauth_client": "ssh-proxy",
                "app_ssh_host_key_fingerprint": "a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a",
            }
        ),
    ),
    "CC error with a numeric code": exchange(
        status=401,
        body=json.dumps({"code": 10002, "description": "Authentication error", "error_code": "CF-NotAuthenticated"}),
    ),
    "CC error naming a password rule": exchange(
        status=422,
        body=json.dumps(
            {
                "code": 100001,
                "description": "The app is invalid: password must be at least 8 characters",
                "error_code": "CF-AppInvalid",
            }
        ),
    ),
    "env values that are settings": exchange(
        body=app_body(
            Secrets(),
            environment_json={
                "LOG_LEVEL": "debug",
                "TOKEN_TTL": "3600",
                "SESSION_TIMEOUT": "30m",
                "AUTH_SERVER_URL": "https://uaa.sys.example.com/oauth/token",
                "PWD": "/home/vcap/app",
                "JAVA_OPTS": "-Xmx512m -Djava.security.egd=file:///dev/urandom",
                "PASSWORD_MIN_LENGTH": "12",
            },
        )
    ),
    "env links under secret names": exchange(
        body=app_body(
            Secrets(),
            environment_json={"DB_PASSWORD_FILE": "/etc/secrets/db", "CA_CERT": "/etc/ssl/certs/ca.pem"},
        )
    ),
    "v2 app env": exchange(
        uri=f"{API}{APP}/env",
        body=json.dumps(
            {
                "staging_env_json": {},
                "running_env_json": {"CF_STACK": "cflinuxfs4"},
                "environment_json": {"PWD": "/home/vcap/app"},
                "system_env_json": {"VCAP_SERVICES": {}},
                "application_env_json": {"VCAP_APPLICATION": {"name": "web", "space_name": "dev"}},
            }
        ),
    ),
    "prose about authentication": exchange(
        status=401,
        response_headers={
            "Content-Type": ["text/plain"],
            "WWW-Authenticate": ['Basic realm="UAA/client", error="unauthorized"'],
        },
        body="Basic authentication required; use a bearer token from the token endpoint.",
    ),
    "paging and filters": exchange(
        uri=f"{API}/v2/apps?q=name:password&order-direction=asc&page=2&results-per-page=50",
        body=json.dumps({"next_url": "/v2/apps?order-direction=asc&page=3&results-per-page=50", "prev_url": None}),
    ),
    "an authorize redirect without a code": exchange(
        uri=f"{UAA}/oauth/authorize?response_type=code&client_id=cf&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb",
    ),
    "the cf CLI's refresh grant": exchange(
        method="POST",
        uri=f"{UAA}/oauth/token",
        request_headers={"Content-Type": ["application/x-www-form-urlencoded"], "Authorization": ["Basic Y2Y6"]},
        request_body="grant_type=refresh_token&token_format=opaque&response_type=token",
    ),
    "ordinary headers": exchange(
        response_headers={
            "Etag": ['W/"a3f1c2"'],
            "X-Ratelimit-Remaining": ["9999"],
            "Strict-Transport-Security": ["max-age=31536000"],
            "X-Token-Expires": ["3600"],
        }
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_SECRETS))
def test_what_is_not_a_secret_comes_through_both_tools(name: str) -> None:
    assert_untouched(NOT_SECRETS[name])


def test_a_number_under_a_secret_word_in_a_config_key_is_kept() -> None:
    table = RuleTable(SanitizeConfig(json_keys=("ticketData",)))
    assert_untouched(exchange(body=json.dumps({"ticketData": 42, "other": {"ticketData": None}})), table)


# --------------------------------------------------------------------------- name tests

TABLE = RuleTable()

SECRET_KEYS = [
    "password", "Password", "PASSWORD", "passwd", "pwd", "passphrase", "passcode", "auth_password",
    "clientSecret", "client_secret", "client-secret", "CLIENT_SECRET", "access_token", "refreshToken", "id_token",
    "sessionToken", "api_key", "apiKey", "APIKey", "x-api-key", "privateKey", "private-key", "secret_key",
    "sessionKey", "key_passphrase", "credentials", "credential", "signature", "code", "otp",
]  # fmt: skip
NOT_SECRET_KEYS = [
    "jti", "token_type", "token_endpoint", "password_min_length", "passwordPolicy", "passwordLastModified",
    "passwordHash", "dbPasswordFile", "key", "keyName", "ssh_key", "tokenizer", "tokens", "TokenValue",
    "authCode", "secretName", "expires_in", "scope", "username", "name", "compass", "bypass",
]  # fmt: skip
SECRET_ENV = [
    "DB_PASSWORD", "DB_PASS", "PASS", "SENTRY_DSN", "BASIC_AUTH", "AUTH", "TLS_CERT", "SECRET_KEY_BASE",
    "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "API_KEY", "KEY", "SESSION", "PRIVATE", "SALT", "OTP", "SIGNATURE",
    "PWD", "redisPassword",
]  # fmt: skip
NOT_SECRET_ENV = [
    "TOKEN_TTL", "SESSION_TIMEOUT", "LOG_LEVEL", "AUTH_SERVER_URL", "TOKEN_URL", "CERT_PATH", "JAVA_OPTS",
    "HELPER", "PASSWORD_MIN_LENGTH", "MONKEY", "COMPASS", "KEYCLOAK_URL", "KEY_ID", "PORT", "CF_INSTANCE_INDEX",
    "VCAP_APPLICATION", "SPRING_PROFILES_ACTIVE", "passwordFile",
]  # fmt: skip
HEADERS = {
    "Authorization": "authorization",
    "authorization": "authorization",
    "Proxy-Authorization": "authorization",
    "Cookie": "cookie",
    "Set-Cookie": "cookie",
    "X-Cf-Proxy-Signature": "secret-header",
    "X-Uaa-Csrf": "secret-header",
    "X-Csrf-Token": "secret-header",
    "X-Xsrf-Token": "secret-header",
    "X-Api-Key": "secret-header",
    "x_api_key": "secret-header",
    "Api-Key": "secret-header",
    "X-Goog-Api-Key": "secret-header",
    "X-Auth-Token": "secret-header",
    "X-Vault-Token": "secret-header",
    "Private-Token": "secret-header",
    "X-Amz-Security-Token": "secret-header",
    "X-Hub-Signature-256": "secret-header",
    "X-Foo-Token": "secret-header",
    "X-Signature": "secret-header",
    "X-Client-Secret": "secret-header",
    "X-Password": "secret-header",
    "X-Apikey": "secret-header",
    "X-Private-Key": "secret-header",
    "X-Session-Key": "secret-header",
    "Content-Type": None,
    "Accept": None,
    "User-Agent": None,
    "Location": None,
    "Etag": None,
    "Content-Length": None,
    "WWW-Authenticate": None,
    "X-Vcap-Request-Id": None,
    "X-Request-Id": None,
    "X-Token-Expires": None,
    "X-Tokens": None,
    "X-Secret-Id": None,
    "X-Ratelimit-Remaining": None,
}
SECRET_PARAMS = [
    "access_token", "code", "password", "client_secret", "assertion", "SAMLResponse", "_csrf", "X-Amz-Signature",
    "X-Goog-Signature", "sig", "md5", "jsessionid",
]  # fmt: skip
NOT_SECRET_PARAMS = ["state", "client_id", "response_type", "redirect_uri", "page", "results-per-page", "RelayState"]


@pytest.mark.parametrize("name", SECRET_KEYS)
def test_secret_keys(name: str) -> None:
    assert TABLE.secret_key(name)


@pytest.mark.parametrize("name", NOT_SECRET_KEYS)
def test_keys_that_are_no_secrets(name: str) -> None:
    assert not TABLE.secret_key(name)


@pytest.mark.parametrize("name", SECRET_ENV + SECRET_KEYS)
def test_secret_env_names(name: str) -> None:
    # Every secret key is a secret env name too: the env list is the wider one.
    assert TABLE.secret_env(name)


@pytest.mark.parametrize("name", NOT_SECRET_ENV)
def test_env_names_that_are_no_secrets_by_their_last_word(name: str) -> None:
    assert not TABLE.secret_env(name)
    assert RuleTable(SanitizeConfig(redact_all_env=True)).secret_env(name)


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_header_rules(name: str) -> None:
    assert TABLE.header_rule(name) == HEADERS[name]
    assert TABLE.header_rule(name.upper()) == HEADERS[name]


@pytest.mark.parametrize("name", SECRET_PARAMS)
def test_secret_params(name: str) -> None:
    assert TABLE.secret_query(name) and TABLE.secret_form(name)


@pytest.mark.parametrize("name", NOT_SECRET_PARAMS)
def test_params_that_are_no_secrets(name: str) -> None:
    assert not TABLE.secret_query(name) and not TABLE.secret_form(name)


def test_config_names_extend_only_their_own_question() -> None:
    table = RuleTable(
        SanitizeConfig(headers=("X-Ticket",), json_keys=("ticketData",), query_params=("ticket",), form_fields=("pin",))
    )
    assert table.header_rule("x-ticket") == "secret-header" and not table.secret_key("X-Ticket")
    assert table.secret_key("TicketData") and table.secret_query("ticketData") and table.secret_form("ticketData")
    assert table.secret_query("ticket") and not table.secret_form("ticket") and not table.secret_key("ticket")
    assert table.secret_form("PIN") and not table.secret_query("pin")


def _an_ordinary_key(name: str) -> bool:
    """A key the built-in rules give no meaning: no secret, no token id, no env map, no credentials object."""
    lower = name.lower()
    special = {"jti", *CREDENTIAL_OBJECT_KEYS, *DOCKER_CREDENTIAL_KEYS, *RuleTable().env_maps}
    return not RuleTable().secret_key(name) and lower not in special


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(string.ascii_letters + "_", min_size=1, max_size=14).filter(_an_ordinary_key),
    pretty=st.booleans(),
)
def test_a_config_json_key_of_any_length_is_found_by_the_signal_pass(
    name: str, pretty: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The key pass filters keys on their last characters, per length: a short or long configured name still passes.

    Pretty JSON is written double-quoted in YAML (its keys escaped once), compact JSON single-quoted.
    """
    table = RuleTable(SanitizeConfig(json_keys=(name,)))
    value = token()
    body = json.dumps({"entity": {"guid": "g", name: value}}, indent=2 if pretty else None)
    for fmt in FORMATS_OF_CASSETTES:
        path = tmp_path_factory.mktemp("keys") / f"c.{fmt}"
        path.write_bytes(cassette.dumps({"interactions": [exchange(body=body)], "version": 1}, fmt))
        result = scan_paths([path], table=table)
        assert [(f.rule, f.location) for f in result.findings] == [("secret-key", "response.body")], fmt
        assert result.exact == 0, f"{fmt}: the exact engine found it, not the signal pass"


# ----------------------------------------------------------------------------- overlapping hits


def test_keep_spans_drops_what_an_earlier_rule_took_but_keeps_a_key_reaching_past_another() -> None:
    assert keep_spans([(0, 10, "other"), (5, 15, "key")]) == [True, False]  # a name rule took it
    assert keep_spans([(0, 10, "key"), (5, 15, "other")]) == [True, False]  # only keys join keys
    assert keep_spans([(0, 10, "key"), (5, 15, "key")]) == [True, True]  # glued keys go as one
    assert keep_spans([(0, 10, "key"), (2, 8, "key")]) == [True, False]  # wholly inside: goes with it
    assert keep_spans([(0, 4, "key"), (6, 9, "key"), (3, 7, "key")]) == [True, True, True]  # bridges two
    assert keep_spans([(0, 4, "key"), (6, 9, "other"), (3, 7, "key")]) == [True, True, False]
    assert keep_spans([(0, 4, "key"), (4, 8, "other")]) == [True, True]  # touching is no overlap


def test_keep_spans_keeps_a_credential_reaching_past_the_tokens_it_overlaps() -> None:
    assert keep_spans([(5, 20, "token"), (0, 12, "credential")]) == [True, True]  # abc…eyJ…
    assert keep_spans([(5, 20, "token"), (5, 25, "credential")]) == [True, True]  # eyJ….sig/…
    assert keep_spans([(0, 20, "token"), (5, 12, "credential")]) == [True, False]  # inside: the token's
    assert keep_spans([(5, 20, "key"), (0, 12, "credential")]) == [True, False]  # a key took it
    assert keep_spans([(5, 20, "token"), (0, 12, "other")]) == [True, False]  # a name rule yields
    # The credential and its tokens go as one: what overlaps them later was taken.
    assert keep_spans([(5, 20, "token"), (0, 12, "credential"), (18, 30, "key")]) == [True, True, False]


def test_keep_spans_keeps_a_key_reaching_past_a_token_but_none_opening_inside_one() -> None:
    assert keep_spans([(25, 49, "token"), (0, 28, "key")]) == [True, True]  # gldt-…eyJ…
    assert keep_spans([(25, 49, "token"), (30, 60, "key")]) == [True, False]  # opens inside the token
    assert keep_spans([(25, 49, "token"), (25, 60, "key")]) == [True, False]
    assert keep_spans([(25, 49, "token"), (0, 28, "key"), (20, 40, "key")]) == [True, True, False]  # inside
    assert keep_spans([(25, 49, "token"), (0, 28, "key"), (40, 60, "key")]) == [True, True, False]  # in the token
    assert keep_spans([(25, 49, "token"), (0, 28, "key"), (45, 60, "other")]) == [True, True, False]


_KINDS: tuple[SpanKind, ...] = ("key", "token", "credential", "other")
_SPANS = st.lists(
    st.tuples(st.integers(0, 60), st.integers(1, 20), st.sampled_from(_KINDS)).map(lambda s: (s[0], s[0] + s[1], s[2])),
    max_size=12,
)


@given(_SPANS)
def test_keep_spans_leaves_no_key_character_outside_what_is_kept(spans: list[tuple[int, int, SpanKind]]) -> None:
    # What the sanitizer replaces is the union of the kept spans: every character of a key
    # is in it unless an earlier rule that is no key took part of that key (the sanitizer
    # then applied that rule first, and the key no longer matches); the same for a
    # credential and the tokens it reaches past.
    flags = keep_spans(spans)
    kept = [(start, end) for (start, end, _), keep in zip(spans, flags, strict=True) if keep]
    covered = {at for start, end in kept for at in range(start, end)}
    tokens = [(s, e) for (s, e, kind), keep in zip(spans, flags, strict=True) if keep and kind == "token"]
    for joining, joined in (("key", {"key", "token"}), ("credential", {"token"})):
        others = [(s, e) for (s, e, kind), keep in zip(spans, flags, strict=True) if keep and kind not in joined]
        for start, end, kind in spans:
            if kind != joining or any(s < end and start < e for s, e in others if (s, e) != (start, end)):
                continue
            if kind == "key" and any(s <= start < e for s, e in tokens):
                continue  # opens inside a token: no key
            assert set(range(start, end)) <= covered
    for (start, end, kind), keep in zip(spans, flags, strict=True):
        if keep and kind == "other":  # a kept name rule's span overlaps nothing else kept
            assert all(not (s < end and start < e) for s, e in kept if (s, e) != (start, end))


@given(st.text(alphabet="ab=?&", max_size=40), st.lists(st.integers(0, 45), max_size=20))
def test_a_remembered_search_answers_as_the_pattern_does(text: str, positions: list[int]) -> None:
    pattern = re.compile(r"(?<=[?&])a=|b+(?==)")
    remembered = detectors.RememberedSearch(pattern)
    for pos in positions:
        found, expected = remembered.search(text, pos), pattern.search(text, pos)
        assert (found and found.span()) == (expected and expected.span())
