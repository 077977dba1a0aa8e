"""The v2 API model: its facts, and that everything else reads them from here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cfreplay.cf import cfapi
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.errors import ApiVersionError, UnknownNameError

PACKAGE = Path(cfapi.__file__).parents[1]  # all of cfreplay/

# The presenter order of the 2.43 docs example (apidocs for cf-release v224).
SEED_ORDER = (
    "name production space_guid stack_guid buildpack detected_buildpack environment_json memory instances "
    "disk_quota state version command console debug staging_task_id package_state health_check_type "
    "health_check_timeout staging_failed_reason staging_failed_description diego docker_image "
    "package_updated_at detected_start_command enable_ssh docker_credentials_json ports"
).split()


def names(version: str, *, links: bool = False) -> list[str]:
    return [f.name for f in cfapi.app_fields(ApiVersion.parse(version), links=links)]


def test_the_seed_era_has_exactly_the_documented_fields_in_order() -> None:
    assert names("2.43.0") == SEED_ORDER


def test_the_current_presenter_order() -> None:
    latest = names("2.293.0")
    assert latest.index("docker_credentials") == latest.index("docker_image") + 1
    assert latest.index("log_rate_limit") == latest.index("disk_quota") + 1
    assert latest.index("health_check_http_endpoint") == latest.index("health_check_timeout") + 1
    assert "docker_credentials_json" not in latest
    assert len(latest) == 31


@pytest.mark.parametrize(
    ("version", "field", "present"),
    [
        ("2.27.0", "docker_credentials_json", False),
        ("2.28.0", "docker_credentials_json", True),
        ("2.81.0", "docker_credentials_json", True),
        ("2.82.0", "docker_credentials_json", False),
        ("2.81.0", "docker_credentials", False),
        ("2.82.0", "docker_credentials", True),
        ("2.189.0", "log_rate_limit", False),
        ("2.190.0", "log_rate_limit", True),
        ("2.59.0", "detected_buildpack_guid", False),
        ("2.60.0", "detected_buildpack_guid", True),
        ("2.41.0", "ports", False),
        ("2.42.0", "ports", True),
    ],
)
def test_fields_appear_and_disappear_with_their_era(version: str, field: str, present: bool) -> None:
    assert (field in names(version)) is present


def test_field_names_are_unique_and_links_only_appear_when_asked() -> None:
    all_names = [f.name for f in cfapi.APP_FIELDS]
    assert len(all_names) == len(set(all_names))
    assert "space_url" not in names("2.100.0")
    assert names("2.100.0", links=True)[-6:] == [
        "space_url",
        "stack_url",
        "routes_url",
        "events_url",
        "service_bindings_url",
        "route_mappings_url",
    ]


def test_enum_values_have_eras() -> None:
    field = cfapi.app_field("health_check_type")
    assert field.allowed_values(ApiVersion.parse("2.43")) == ("port", "none")
    assert field.allowed_values(ApiVersion.parse("2.65")) == ("port", "none", "process")
    assert field.allowed_values(ApiVersion.parse("2.66")) == ("port", "none", "process", "http")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.20", None),
        ("2.43", {"redacted_message": "[PRIVATE DATA HIDDEN]"}),
        ("2.81", {"redacted_message": "[PRIVATE DATA HIDDEN]"}),
        ("2.82", {"username": "team", "password": "***"}),
    ],
)
def test_credential_eras(version: str, expected: object) -> None:
    v = ApiVersion.parse(version)
    field = cfapi.credentials_field(v)
    if expected is None:
        assert field is None
    else:
        assert cfapi.docker_credentials_value(v, "team") == expected
    assert cfapi.docker_credentials_value(ApiVersion.parse("2.82"), None) == {"username": None, "password": None}


def test_body_formatting_eras() -> None:
    document = {"a": [1], "b": {}}
    assert cfapi.dump_json(document, ApiVersion.parse("2.231"), kind="resource") == (
        b'{\n  "a": [\n    1\n  ],\n  "b": {}\n}'
    )
    assert cfapi.dump_json(document, ApiVersion.parse("2.188"), kind="resource") == (
        b'{\n  "a": [\n    1\n  ],\n  "b": {\n\n  }\n}'
    )
    assert cfapi.dump_json(document, ApiVersion.parse("2.232"), kind="resource") == b'{"a":[1],"b":{}}'
    assert cfapi.dump_json(document, ApiVersion.parse("2.43"), kind="info") == b'{"a":[1],"b":{}}'
    assert cfapi.dump_json(document, ApiVersion.parse("2.293"), kind="error").endswith(b"}\n")
    assert cfapi.dump_json({"name": "café"}, ApiVersion.parse("2.293"), kind="info") == '{"name":"café"}'.encode()


# Reference §1.5, row by row: (HTTP, error_code, code, description template).
CATALOG = [
    (401, "CF-NotAuthenticated", 10002, "Authentication error"),
    (401, "CF-InvalidAuthToken", 1000, "Invalid Auth Token"),
    (403, "CF-InsufficientScope", 10007, "Your token lacks the necessary scopes to access this resource."),
    (403, "CF-NotAuthorized", 10003, "You are not authorized to perform the requested action"),
    (404, "CF-AppNotFound", 100004, "The app could not be found: %s"),
    (400, "CF-StagingError", 170001, "Staging error: %s"),
    (400, "CF-NotStaged", 170002, "App has not finished staging"),
    (400, "CF-AppPackageInvalid", 150001, "The app package is invalid: %s"),
    (400, "CF-DockerDisabled", 320003, "Docker support has not been enabled."),
    (400, "CF-CNBDisabled", 320007, "Cloud Native Buildpacks support has not been enabled."),
    (400, "CF-NoBuildpacksFound", 170006, "There are no buildpacks available"),
    (400, "CF-SpaceQuotaMemoryLimitExceeded", 310003, "You have exceeded your space's memory limit: %s"),
    (400, "CF-AppMemoryQuotaExceeded", 100005, "You have exceeded your organization's memory limit: %s"),
    (400, "CF-SpaceQuotaLogRateLimitExceeded", 310011, "You have exceeded your space's log rate limit: %s"),
    (400, "CF-OrgQuotaLogRateLimitExceeded", 100010, "You have exceeded your organization's log rate limit: %s"),
    (400, "CF-AppInvalid", 100001, "The app is invalid: %s"),
    (400, "CF-BuildpackInvalid", 290003, "Buildpack is invalid: %s"),
    (400, "CF-CustomBuildpacksDisabled", 290004, "Custom buildpacks are disabled"),
    (422, "CF-StackValidationFailed", 250004, "%s"),
    (422, "CF-UnprocessableEntity", 10008, "%s"),
    (503, "CF-StagerUnavailable", 170010, "Stager is unavailable: %s"),
    (500, "CF-StagerError", 170011, "Stager error: %s"),
    (429, "CF-RateLimitExceeded", 10013, "Rate Limit Exceeded"),
    # Not in the reference's table; CC's v2.yml and middleware/rate_limiter.rb (the issue on fidelity).
    (
        429,
        "CF-IPBasedRateLimitExceeded",
        10014,
        "Rate Limit Exceeded: Unauthenticated requests from this IP address have exceeded the limit. Please log in.",
    ),
    (429, "CF-RateLimitV2APIExceeded", 10018, "Rate Limit of V2 API Exceeded. Please consider using the V3 API"),
    (400, "CF-BadQueryParameter", 10005, "The query parameter is invalid: %s"),
    (400, "CF-InvalidRequest", 10004, "The request is invalid"),
    (500, "CF-DatabaseError", 10011, "Database error"),
    (500, "UnknownError", 10001, "An unknown error occurred."),
    (400, "CF-RevisionsEnabled", 320006, "V2 restaging is disabled when your app has revisions enabled"),
]


def test_the_restage_error_catalog_matches_the_reference() -> None:
    actual = [(e.http_status, e.error_code, e.code, e.template) for e in cfapi.RESTAGE_ERRORS]
    assert actual == CATALOG


def test_catalog_lookup_accepts_the_prefix_and_suggests_on_typos() -> None:
    assert cfapi.catalog_error("CF-AppNotFound") is cfapi.catalog_error("AppNotFound")
    with pytest.raises(UnknownNameError, match=r"unknown error 'AppNotFund'; did you mean 'AppNotFound'"):
        cfapi.catalog_error("AppNotFund")


def test_error_key_order_by_era() -> None:
    error = cfapi.catalog_error("NotStaged")
    assert list(cfapi.error_document(error, "x", ApiVersion.parse("2.72"))) == ["code", "description", "error_code"]
    assert list(cfapi.error_document(error, "x", ApiVersion.parse("2.73"))) == ["description", "error_code", "code"]
    unknown = cfapi.catalog_error("UnknownError")
    assert list(cfapi.error_document(unknown, "x", ApiVersion.parse("2.293"))) == ["error_code", "description", "code"]


def test_page_urls_sort_and_escape_like_addressable() -> None:
    assert cfapi.page_url("/v2/apps", 2, 50) == "/v2/apps?order-direction=asc&page=2&results-per-page=50"
    assert cfapi.page_url("/v2/apps", 3, 10, q="name IN a,b", order_by="name", inline_relations_depth=1) == (
        "/v2/apps?inline-relations-depth=1&order-by=name&order-direction=asc&page=3"
        "&q=name%20IN%20a,b&results-per-page=10"
    )
    assert [cfapi.total_pages(n, 50) for n in (0, 1, 50, 51, 100, 101)] == [1, 1, 1, 2, 2, 3]


def test_request_ids_and_warnings() -> None:
    assert cfapi.vcap_request_id("u") == "u"
    assert cfapi.vcap_request_id("u", "abc def;<x>-1") == "abcdefx-1::u"
    assert cfapi.vcap_request_id("u", "a" * 300) == "a" * 255 + "::u"
    assert cfapi.warnings_header(["WARNING: The stack 'x' is 'DEPRECATED'", "b,c"]) == (
        "WARNING%3A+The+stack+%27x%27+is+%27DEPRECATED%27,b%2Cc"
    )


def test_audience_is_the_client_and_scope_prefixes_in_java_hashset_order() -> None:
    # UAA lists its resource-id HashSet; tests/cf/test_uaa_fidelity.py has the rule in full.
    assert cfapi.audience(["openid", "cloud_controller.read", "cloud_controller.write"], "cf") == [
        "cloud_controller",
        "cf",
        "openid",
    ]


@pytest.mark.parametrize("text", ["3.0", "2", "two", "", "2.x.1"])
def test_bad_versions_are_refused(text: str) -> None:
    with pytest.raises(ApiVersionError, match="API version"):
        ApiVersion.parse(text)


def test_versions_parse_and_order() -> None:
    assert ApiVersion.parse("v2.43") == ApiVersion(2, 43, 0)
    assert ApiVersion.parse(None) == cfapi.DEFAULT_API_VERSION == cfapi.LATEST_API_VERSION
    assert ApiVersion.parse("2.100.1") > ApiVersion.parse("2.99.9")
    assert str(ApiVersion.parse("2.7")) == "2.7.0"


def _spelled_names(node: ast.AST) -> set[str]:
    """The string constants a literal lists: a list/tuple/set's items, a dict's keys, ``dict(…)``'s keywords."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items: list[ast.expr | None] = list(node.elts)
    elif isinstance(node, ast.Dict):
        items = list(node.keys)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg for k in node.keywords if k.arg is not None}
    else:
        return set()
    return {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def test_no_module_spells_out_the_app_field_list() -> None:
    """Only cfapi names the fields; a list of several field names anywhere else means a second copy.

    Dict literals count too: a factory that writes ``{"memory": …, "console": False, …}``
    holds a second field list, and a field added to cfapi would need a second edit there
    (the factories take every default from ``Field.default``).
    """
    field_names = {f.name for f in cfapi.APP_FIELDS}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "cfapi.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            strings = _spelled_names(node)
            assert len(strings & field_names) < 4, f"{path.name}:{getattr(node, 'lineno', '?')} repeats app field names"


def test_the_field_list_check_sees_dict_literals() -> None:
    """The check above would have caught the factories' old dict of every field."""
    spelled = ast.parse('{"name": n, "memory": 1, "console": False, "debug": None}').body[0]
    assert isinstance(spelled, ast.Expr)
    assert _spelled_names(spelled.value) == {"name", "memory", "console", "debug"}
    keywords = ast.parse("dict(name=n, memory=1, console=False, debug=None)").body[0]
    assert isinstance(keywords, ast.Expr)
    assert _spelled_names(keywords.value) == {"name", "memory", "console", "debug"}


def test_the_factories_take_every_default_from_the_model() -> None:
    """A field with a ``Field.default`` that no trait or draw touches comes out at that default."""
    from cfreplay.cf import factories

    entity = factories.app_envelope("dea", "staging", api_version="2.43", seed=1)["entity"]
    for name in ("production", "console", "debug", "detected_buildpack", "staging_failed_reason"):
        assert entity[name] == cfapi.app_field(name).default
