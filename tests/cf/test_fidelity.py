"""Cloud Controller's behaviour at the era boundaries the fidelity issue names, one test per row.

Each boundary is the API version of the first CC release holding the change (cfapi's
docstring; its comments and ``cfapi.era_table()`` name the commit and the release); the
tests pin both sides of it.  Where an earlier release reports the same version without the
change, that version accepts both (``diego`` at 2.22.0, timestamps at 2.21.0).
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest

import cfreplay
from cfreplay.cf import cfapi, factories
from cfreplay.cf.cfapi import ApiVersion


def v(text: str) -> ApiVersion:
    return ApiVersion.parse(text)


def staged_app(version: str, **overrides: Any) -> dict[str, Any]:
    return factories.app_envelope("started", "staged", "buildpack", api_version=version, seed=11, **overrides)


# ------------------------------------------------------------------ restage drops the droplet (2.63)


def test_restage_keeps_the_droplets_values_before_2_63_and_clears_them_from_2_63() -> None:
    before = staged_app("2.62", detected_buildpack="ruby 1.6.7", detected_buildpack_guid=None)
    kept = factories.restage_response(before, api_version="2.62", seed=1).json()["entity"]
    assert kept["detected_buildpack"] == "ruby 1.6.7"
    assert kept["detected_start_command"] == before["entity"]["detected_start_command"] != ""

    guid = "5d7e4a7e-8a52-4f1c-9d1e-3b1c2a7f6e10"
    app = staged_app("2.63", detected_buildpack="ruby 1.6.7", detected_buildpack_guid=guid)
    cleared = factories.restage_response(app, api_version="2.63", seed=1).json()["entity"]
    assert (cleared["detected_buildpack"], cleared["detected_buildpack_guid"], cleared["detected_start_command"]) == (
        None,
        None,
        "",
    )
    latest = factories.restage_response(staged_app("2.293"), api_version="2.293", seed=1).json()["entity"]
    assert (latest["detected_buildpack"], latest["detected_start_command"]) == (None, "")


def test_the_droplet_fields_are_the_models() -> None:
    assert [f.name for f in cfapi.APP_FIELDS if f.droplet] == [
        "detected_buildpack",
        "detected_buildpack_guid",
        "detected_start_command",
    ]
    assert v("2.63") == cfapi.RESTAGE_DROPS_DROPLET_SINCE == cfapi.BUILDS_SINCE


# ------------------------------------------------------------------ page links (Addressable's normalize)


@pytest.mark.parametrize(
    ("q", "written"),
    [
        ("name:my-app", "q=name:my-app"),
        ("name IN a,b", "q=name%20IN%20a,b"),
        ("name>=a=b@c", "q=name%3E=a=b@c"),
        ("name:a+b&c;d#e", "q=name:a%2Bb%26c%3Bd%23e"),
        ("name:café", "q=name:caf%C3%A9"),
    ],
)
def test_page_links_leave_what_a_query_may_hold_literal(q: str, written: str) -> None:
    expected = f"/v2/apps?order-direction=asc&page=2&{written}&results-per-page=50"
    assert cfapi.page_url("/v2/apps", 2, 50, q=q) == expected


def test_list_pages_write_q_as_cc_does() -> None:
    page = factories.list_page(total_results=3, page=2, results_per_page=1, q="name:my-app")
    assert page["next_url"] == "/v2/apps?order-direction=asc&page=3&q=name:my-app&results-per-page=1"


# ------------------------------------------------------------------ timestamps (2.21: cf-release v197, not v196)


def test_timestamps_carry_an_offset_before_2_21_and_z_from_2_21() -> None:
    moment = datetime(2014, 11, 7, 23, 11, 39, tzinfo=UTC)
    assert cfapi.timestamp(moment, v("2.20")) == "2014-11-07T23:11:39+00:00"
    assert cfapi.timestamp(moment, v("2.21")) == "2014-11-07T23:11:39Z"
    old, new = staged_app("2.20"), staged_app("2.21")
    assert old["metadata"]["created_at"].endswith("+00:00") and old["entity"]["package_updated_at"].endswith("+00:00")
    assert new["metadata"]["created_at"].endswith("Z") and new["entity"]["package_updated_at"].endswith("Z")
    restaged = factories.restage_response(old, api_version="2.20", seed=2).json()
    assert restaged["metadata"]["updated_at"].endswith("+00:00")
    cfreplay.validate(restaged, "2.20")


def test_the_schema_wants_the_eras_timestamps() -> None:
    old = staged_app("2.20")
    old["metadata"]["created_at"] = "2014-11-07T23:11:39Z"
    with pytest.raises(cfreplay.SchemaError, match=r"like 2014-11-07T23:11:39\+00:00 \(API 2\.20\.0\)"):
        cfreplay.validate(old, "2.20")
    new = staged_app("2.22")
    new["metadata"]["created_at"] = "2014-11-07T23:11:39+00:00"
    with pytest.raises(cfreplay.SchemaError, match=r"like 2015-11-03T00:54:16Z \(API 2\.22\.0\)"):
        cfreplay.validate(new, "2.22")


def test_2_21_takes_both_timestamp_forms() -> None:
    # cf-release v196 and v197 both report 2.21.0; only v197 holds CCNG f8229a158b.
    app = staged_app("2.21")
    cfreplay.validate(app, "2.21")
    app["metadata"]["created_at"] = "2015-01-20T01:52:28+00:00"
    cfreplay.validate(app, "2.21")
    app["metadata"]["created_at"] = "2015-01-20T01:52:28-08:00"
    with pytest.raises(cfreplay.SchemaError, match=r"ending in Z or \+00:00 \(API 2\.21\.0\)"):
        cfreplay.validate(app, "2.21")


# ------------------------------------------------------------------ staging_failed_reason


@pytest.mark.parametrize(
    ("reason", "last_without", "first_with"),
    [
        ("StagingTimeExpired", "2.17", "2.18"),
        ("InsufficientResources", "2.20", "2.21"),
        ("NoCompatibleCell", "2.20", "2.21"),
        ("StagerError", "2.55", "2.56"),
        ("CNBGenericBuildFailed", "2.232", "2.233"),
        ("CNBDownloadBuildpackFailed", "2.232", "2.233"),
        ("CNBDetectFailed", "2.232", "2.233"),
        ("CNBBuildFailed", "2.232", "2.233"),
        ("CNBExportFailed", "2.232", "2.233"),
        ("CNBLaunchFailed", "2.232", "2.233"),
        ("CNBRestoreFailed", "2.232", "2.233"),
    ],
)
def test_staging_failure_reasons_arrive_with_their_era(reason: str, last_without: str, first_with: str) -> None:
    field = cfapi.app_field("staging_failed_reason")
    assert reason not in (field.allowed_values(v(last_without)) or ())
    assert reason in (field.allowed_values(v(first_with)) or ())
    with pytest.raises(cfreplay.SchemaError, match="is not one of"):
        staged_app(last_without, staging_failed_reason=reason)
    assert staged_app(first_with, staging_failed_reason=reason)["entity"]["staging_failed_reason"] == reason


def test_cnb_failures_carry_v2_yml_messages_of_their_era() -> None:
    download = cfapi.staging_failure("CNBDownloadBuildpackFailed")
    assert download.code == 430002
    assert download.description_in(v("2.246")) == "cnb: downloading buildpacks failed"
    assert download.description_in(v("2.247")).startswith("cnb: downloading buildpacks failed: This may be caused")
    assert cfapi.staging_failure("CNBRestoreFailed").description_in(v("2.293")) == "cnb: restore failed"
    # Diego's CellCommunicationError is not a reason CC keeps: it is stored as StagingError.
    with pytest.raises(cfreplay.UnknownNameError):
        cfapi.staging_failure("CellCommunicationError")


def test_failed_apps_draw_cnb_reasons_only_where_cc_has_them() -> None:
    reasons = {
        factories.app_envelope("staging_failed", api_version=version, seed=seed)["entity"]["staging_failed_reason"]
        for version in ("2.232",)
        for seed in range(60)
    }
    assert not any(reason.startswith("CNB") for reason in reasons)
    newer = {
        factories.app_envelope("staging_failed", api_version="2.233", seed=seed)["entity"]["staging_failed_reason"]
        for seed in range(60)
    }
    assert any(reason.startswith("CNB") for reason in newer)


# ------------------------------------------------------------------ inline-relations-depth


def test_inline_relations_sit_after_their_links() -> None:
    app = factories.app_envelope(api_version="2.293", seed=4, inline_relations_depth=1)
    keys = list(app["entity"])
    for name, link in (("space", "space_url"), ("stack", "stack_url"), ("routes", "routes_url")):
        assert keys.index(name) == keys.index(link) + 1
    assert keys.index("service_bindings") == keys.index("service_bindings_url") + 1
    assert "events" not in keys and "route_mappings" not in keys  # link-only relations
    entity = app["entity"]
    assert entity["space"]["metadata"]["guid"] == entity["space_guid"]
    assert entity["space"]["metadata"]["url"] == entity["space_url"]
    assert entity["stack"]["metadata"]["url"] == entity["stack_url"]
    assert entity["stack"]["entity"]["build_rootfs_image"] == entity["stack"]["entity"]["name"]
    assert entity["service_bindings"] == []
    cfreplay.validate(app, "2.293")


def test_inline_relations_follow_the_era() -> None:
    old = factories.app_envelope(api_version="2.43", seed=4, inline_relations_depth=1)["entity"]
    assert list(old["stack"]["entity"]) == ["name", "description"]  # rootfs images 2.206
    assert "isolation_segment_guid" not in old["space"]["entity"]  # 2.62
    assert "staging_security_groups_url" not in old["space"]["entity"]  # 2.66
    for route in old["routes"]:
        assert route["entity"]["domain_url"].startswith("/v2/domains/")  # shared_domains 2.57
        assert "route_mappings_url" not in route["entity"]  # 2.52
    cfreplay.validate(factories.app_envelope(api_version="2.43", seed=4, inline_relations_depth=1), "2.43")


def test_validate_accepts_inline_objects_where_cc_sends_them_and_checks_them() -> None:
    app = factories.app_envelope(seed=8, inline_relations_depth=1)
    cfreplay.validate(app)
    wrong = json.loads(json.dumps(app))
    wrong["entity"]["space"]["metadata"]["url"] = "/v2/stacks/x"
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.space\.metadata\.url"):
        cfreplay.validate(wrong)
    listed = json.loads(json.dumps(app))
    listed["entity"]["routes"] = {"not": "a list"}
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.routes: expected array"):
        cfreplay.validate(listed)
    unknown = json.loads(json.dumps(app))
    unknown["entity"]["events"] = []
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.events: unknown field"):
        cfreplay.validate(unknown)


def test_list_pages_inline_and_echo_the_depth() -> None:
    page = factories.list_page(total_results=4, results_per_page=2, inline_relations_depth=1, seed=3)
    assert page["next_url"] == "/v2/apps?inline-relations-depth=1&order-direction=asc&page=2&results-per-page=2"
    assert all("space" in r["entity"] for r in page["resources"])
    zero = factories.list_page(total_results=4, results_per_page=2, inline_relations_depth=0, seed=3)
    assert "inline-relations-depth=0" in zero["next_url"]  # CC echoes any value sent
    assert all("space" not in r["entity"] for r in zero["resources"])
    with pytest.raises(cfreplay.SchemaError, match="must be <= 2"):
        factories.app_envelope(inline_relations_depth=3)


# ------------------------------------------------------------------ pretty JSON (Yajl ≤2.188, Oj 2.189-2.231)


def test_empty_containers_in_each_pretty_printer() -> None:
    document = {"a": {}, "b": [], "c": {"d": []}}
    assert cfapi.dump_json(document, v("2.188"), kind="resource") == (
        b'{\n  "a": {\n\n  },\n  "b": [\n\n  ],\n  "c": {\n    "d": [\n\n    ]\n  }\n}'
    )
    assert cfapi.dump_json({}, v("2.43"), kind="resource") == b"{\n\n}"
    assert cfapi.dump_json([], v("2.43"), kind="resource") == b"[\n\n]"
    assert cfapi.dump_json(document, v("2.189"), kind="resource") == (
        b'{\n  "a": {},\n  "b": [],\n  "c": {\n    "d": []\n  }\n}'
    )
    assert cfapi.dump_json(document, v("2.231"), kind="resource").startswith(b"{\n")
    assert cfapi.dump_json(document, v("2.232"), kind="resource") == b'{"a":{},"b":[],"c":{"d":[]}}'


def test_an_empty_list_page_and_its_content_length_follow_the_printer() -> None:
    empty = factories.list_page(count=0, api_version="2.43")
    body = cfapi.dump_json(empty, v("2.43"), kind="resource")
    assert body.endswith(b'"resources": [\n\n  ]\n}')
    app = staged_app("2.43", environment_json={})
    response = factories.restage_response(app, api_version="2.43", seed=5)
    # As CCNG docs/v2/apps/creating_an_app.html shows it.
    assert b'    "environment_json": {\n\n    },\n' in response.body
    assert response.header("Content-Length") == str(len(response.body))


# ------------------------------------------------------------------ 429


def test_rate_limit_errors_arrive_with_their_limiters() -> None:
    for name, last_without, first_with in (
        ("RateLimitExceeded", "2.63", "2.64"),
        ("IPBasedRateLimitExceeded", "2.136", "2.137"),
        ("RateLimitV2APIExceeded", "2.187", "2.188"),
    ):
        with pytest.raises(cfreplay.ApiVersionError):
            factories.error_response(name, api_version=last_without)
        assert factories.error_response(name, api_version=first_with).status == 429
    ip = factories.error_response("IPBasedRateLimitExceeded").json()
    assert ip["code"] == 10014 and ip["error_code"] == "CF-IPBasedRateLimitExceeded"
    assert ip["description"].endswith("Please log in.")


def test_rate_limit_bodies_have_no_newline_and_are_compact_from_2_189() -> None:
    late = factories.error_response("RateLimitExceeded", api_version="2.189")
    assert late.body == b'{"description":"Rate Limit Exceeded","error_code":"CF-RateLimitExceeded","code":10013}'
    assert late.header("Content-Length") == str(len(late.body))
    # Before, ActiveSupport's to_json went through CC's MultiJson encoder with pretty: true.
    early = factories.error_response("RateLimitExceeded", api_version="2.64")
    assert early.body == (
        b'{\n  "code": 10013,\n  "description": "Rate Limit Exceeded",\n  "error_code": "CF-RateLimitExceeded"\n}'
    )
    assert factories.error_response("NotStaged", api_version="2.189").body.endswith(b"\n")


# ------------------------------------------------------------------ /v2/info


def test_info_at_2_43_is_in_that_eras_order() -> None:
    assert list(factories.info(api_version="2.43")) == [
        "name",
        "build",
        "support",
        "version",
        "description",
        "authorization_endpoint",
        "token_endpoint",
        "min_cli_version",
        "min_recommended_cli_version",
        "api_version",
        "app_ssh_endpoint",
        "app_ssh_host_key_fingerprint",
        "app_ssh_oauth_client",
        "routing_endpoint",
        "logging_endpoint",
        "doppler_logging_endpoint",
    ]


def test_info_order_moves_at_2_85_and_2_122() -> None:
    before, after = list(factories.info(api_version="2.84")), list(factories.info(api_version="2.85"))
    assert before[-3:] == ["app_ssh_oauth_client", "routing_endpoint", "doppler_logging_endpoint"]
    assert after[-3:] == ["app_ssh_oauth_client", "doppler_logging_endpoint", "routing_endpoint"]
    assert list(factories.info(api_version="2.121")).index("api_version") == 9
    newer = list(factories.info(api_version="2.122"))
    assert newer[newer.index("doppler_logging_endpoint") + 1 : newer.index("doppler_logging_endpoint") + 3] == [
        "api_version",
        "osbapi_version",
    ]


@pytest.mark.parametrize(
    ("key", "last_without", "first_with"),
    [
        ("token_endpoint", "2.6", "2.8"),  # no release reported 2.7.0
        ("min_cli_version", "2.22", "2.23"),  # CCNG 860f7cb8c2 reads 2.22.0, ships in cf-release v203
        ("app_ssh_endpoint", "2.26", "2.27"),
        ("app_ssh_host_key_fingerprint", "2.26", "2.27"),
        ("doppler_logging_endpoint", "2.28", "2.29"),
        ("app_ssh_oauth_client", "2.36", "2.37"),
        ("routing_endpoint", "2.36", "2.37"),
        ("osbapi_version", "2.121", "2.122"),
    ],
)
def test_info_fields_arrive_with_their_era(key: str, last_without: str, first_with: str) -> None:
    assert key not in factories.info(api_version=last_without)
    assert key in factories.info(api_version=first_with)


def test_info_fields_leave_and_the_bits_endpoint_is_conditional() -> None:
    assert "logging_endpoint" in factories.info(api_version="2.81")
    assert "logging_endpoint" not in factories.info(api_version="2.82")
    # The bits service's endpoint is only there when a foundation runs it (2.63 to 2.191).
    assert "bits_endpoint" not in factories.info(api_version="2.100")
    assert factories.info(api_version="2.63", bits_endpoint="https://bits.example.com")["bits_endpoint"]
    assert factories.info(api_version="2.191", bits_endpoint="https://bits.example.com")["bits_endpoint"]
    for version in ("2.62", "2.192"):
        with pytest.raises(cfreplay.SchemaError, match="bits_endpoint"):
            factories.info(api_version=version, bits_endpoint="https://bits.example.com")


def test_the_ssh_proxys_fingerprint_and_client_may_be_null() -> None:
    # A live 2.33.0 /v2/info and CC's own 2.57.0 docs show them null (the config unset).
    fields = {f.name: f for f in cfapi.INFO_FIELDS}
    assert fields["app_ssh_host_key_fingerprint"].nullable and fields["app_ssh_oauth_client"].nullable
    assert factories.info(api_version="2.57", app_ssh_oauth_client=None)["app_ssh_oauth_client"] is None


def test_info_with_v2_off_from_2_256() -> None:
    assert factories.info(api_version="2.256", v2_disabled=True)["support"] == cfapi.V2_DISABLED_SUPPORT
    with pytest.raises(cfreplay.ApiVersionError, match=r"came in 2\.256\.0"):
        factories.info(api_version="2.255", v2_disabled=True)


# ------------------------------------------------------------------ root GET /


def test_root_exists_from_2_63_with_the_links_of_its_era() -> None:
    with pytest.raises(cfreplay.ApiVersionError, match=r"GET / is not served by API 2\.62\.0"):
        factories.root(api_version="2.62")
    assert list(factories.root(api_version="2.63")["links"]) == ["self", "cloud_controller_v2", "cloud_controller_v3"]
    assert list(factories.root(api_version="2.64")["links"])[-1] == "uaa"
    assert "network_policy" not in factories.root(api_version="2.82")["links"]
    assert "network_policy" in factories.root(api_version="2.91")["links"]
    assert "network_policy_v0" in factories.root(api_version="2.92")["links"]


@pytest.mark.parametrize(
    ("link", "last_without", "first_with"),
    [
        ("uaa", "2.63", "2.64"),
        ("network_policy", "2.82", "2.83"),
        ("logging", "2.84", "2.85"),
        ("app_ssh", "2.93", "2.94"),
        ("credhub", "2.97", "2.98"),
        ("routing", "2.98", "2.99"),
        ("log_stream", "2.133", "2.134"),  # CCNG 30248b504d reads 2.133.0, ships in capi-release 1.79.0
        ("log_cache", "2.141", "2.142"),
        ("login", "2.143", "2.144"),
    ],
)
def test_root_links_arrive_with_their_era(link: str, last_without: str, first_with: str) -> None:
    assert link not in factories.root(api_version=last_without)["links"]
    assert link in factories.root(api_version=first_with)["links"]


def test_root_bits_service_between_2_133_and_2_191() -> None:
    assert "bits_service" not in factories.root(api_version="2.132")["links"]
    links = factories.root(api_version="2.133")["links"]
    assert list(links)[:2] == ["self", "bits_service"] and links["bits_service"] is None
    assert "bits_service" in factories.root(api_version="2.191")["links"]
    assert "bits_service" not in factories.root(api_version="2.192")["links"]


def test_root_v2_link_moves_last_at_2_246() -> None:
    assert list(factories.root(api_version="2.245")["links"])[1] == "cloud_controller_v2"
    assert list(factories.root(api_version="2.246")["links"])[-1] == "cloud_controller_v2"
    assert list(factories.root()["links"])[-1] == "cloud_controller_v2"
    assert "cloud_controller_v2" not in factories.root(api_version="2.246", v2_disabled=True)["links"]
    with pytest.raises(cfreplay.ApiVersionError, match="cannot switch v2 off"):
        factories.root(api_version="2.245", v2_disabled=True)


# ------------------------------------------------------------------ app fields, dated by their first release


def names(version: str) -> list[str]:
    return [f.name for f in cfapi.app_fields(v(version), links=True)]


@pytest.mark.parametrize(
    ("field", "last_without", "first_with"),
    [
        ("detected_start_command", "2.13", "2.14"),
        ("health_check_type", "2.18", "2.19"),
        ("docker_credentials_json", "2.27", "2.28"),  # CCNG 42219c6f5b reads 2.27.0, ships in cf-release v211
        ("staging_failed_description", "2.29", "2.33"),  # no release reported 2.30.0-2.32.0
        ("ports", "2.41", "2.42"),  # cf-release v224's apidocs (2.42.0) show it
        ("route_mappings_url", "2.50", "2.51"),
        ("detected_buildpack_guid", "2.59", "2.60"),
        ("health_check_http_endpoint", "2.65", "2.66"),
        ("docker_credentials", "2.81", "2.82"),
        ("log_rate_limit", "2.189", "2.190"),  # CCNG 6f115cdf6c reads 2.189.0, ships in capi-release 1.137.0
    ],
)
def test_app_fields_arrive_with_their_first_release(field: str, last_without: str, first_with: str) -> None:
    assert field not in names(last_without)
    assert field in names(first_with)
    assert field in factories.app_envelope(api_version=first_with, links=True, seed=3)["entity"]


def test_docker_credentials_json_leaves_when_docker_credentials_arrives() -> None:
    assert "docker_credentials_json" in names("2.81")
    assert "docker_credentials_json" not in names("2.82")


@pytest.mark.parametrize(
    ("value", "last_without", "first_with"), [("process", "2.46", "2.47"), ("http", "2.65", "2.66")]
)
def test_health_check_types_arrive_with_their_era(value: str, last_without: str, first_with: str) -> None:
    with pytest.raises(cfreplay.SchemaError, match=f"'{value}' is not one of"):
        staged_app(last_without, health_check_type=value)
    assert staged_app(first_with, health_check_type=value)["entity"]["health_check_type"] == value


@pytest.mark.parametrize(
    ("field", "version", "before", "after"),
    [("docker_image", "2.8", "2.6", "2.9"), ("diego", "2.22", "2.21", "2.23"), ("enable_ssh", "2.25", "2.24", "2.26")],
)
def test_a_field_an_earlier_release_of_its_version_lacked_is_optional_at_that_version_only(
    field: str, version: str, before: str, after: str
) -> None:
    # diego: cf-release v198/v199 (2.22.0) lack it, v200-v202 (2.22.0) carry it.
    app = staged_app(version)
    assert field in app["entity"]  # the factories write the change
    del app["entity"][field]
    cfreplay.validate(app, version)
    later = staged_app(after)
    del later["entity"][field]
    with pytest.raises(cfreplay.SchemaError, match=f"entity.{field}: missing"):
        cfreplay.validate(later, after)
    assert field not in staged_app(before)["entity"]


def test_the_optional_fields_are_the_models() -> None:
    assert [f.name for f in cfapi.APP_FIELDS if f.optional_at_since] == ["diego", "docker_image", "enable_ssh"]
    assert [f.name for f in cfapi.INFO_FIELDS if f.optional_at_since] == [
        "app_ssh_endpoint",
        "app_ssh_host_key_fingerprint",
    ]


# ------------------------------------------------------------------ smaller rows


@pytest.mark.parametrize(
    ("version", "order"),
    [
        ("2.6", ["space_url", "stack_url", "service_bindings_url", "routes_url", "events_url"]),
        ("2.8", ["space_url", "stack_url", "events_url", "service_bindings_url", "routes_url"]),
        ("2.43", ["space_url", "stack_url", "events_url", "service_bindings_url", "routes_url"]),
        (
            "2.51",
            ["space_url", "stack_url", "events_url", "service_bindings_url", "routes_url", "route_mappings_url"],
        ),
        (
            "2.52",
            ["space_url", "stack_url", "routes_url", "events_url", "service_bindings_url", "route_mappings_url"],
        ),
    ],
)
def test_link_field_order_by_era(version: str, order: list[str]) -> None:
    assert [f.name for f in cfapi.app_fields(v(version), links=True) if f.link] == order
    entity = factories.app_envelope(api_version=version, links=True, seed=2)["entity"]
    assert [key for key in entity if key.endswith("_url")] == order


def test_an_empty_list_has_no_pages_before_2_8() -> None:
    # CCNG a512767f77 reads 2.6.0; no release reported 2.7.0, cf-release v175 is 2.8.0.
    assert factories.list_page(count=0, api_version="2.6")["total_pages"] == 0
    assert factories.list_page(count=0, api_version="2.8")["total_pages"] == 1
    assert cfapi.total_pages(120, 50, v("2.6")) == 3


@pytest.mark.parametrize(
    ("name", "last_without", "first_with"),
    [
        ("InsufficientScope", "2.3", "2.4"),
        ("StagerError", "2.23", "2.24"),
        ("StagerUnavailable", "2.23", "2.24"),
        ("StagingError", "2.29", "2.33"),  # no release reported 2.30.0-2.32.0
        ("DockerDisabled", "2.29", "2.33"),
        ("AppPackageInvalid", "2.62", "2.63"),
        ("SpaceQuotaMemoryLimitExceeded", "2.62", "2.63"),
        ("AppMemoryQuotaExceeded", "2.62", "2.63"),
        ("CustomBuildpacksDisabled", "2.90", "2.91"),
        ("BuildpackInvalid", "2.132", "2.133"),
        ("RevisionsEnabled", "2.134", "2.135"),
        ("SpaceQuotaLogRateLimitExceeded", "2.189", "2.190"),
        ("OrgQuotaLogRateLimitExceeded", "2.189", "2.190"),
        ("CNBDisabled", "2.232", "2.233"),
        ("StackValidationFailed", "2.274", "2.275"),
    ],
)
def test_catalog_errors_arrive_with_their_era(name: str, last_without: str, first_with: str) -> None:
    with pytest.raises(cfreplay.ApiVersionError):
        factories.error_response(name, api_version=last_without)
    assert factories.error_response(name, api_version=first_with).json()["error_code"] == f"CF-{name}"


def test_dea_apps_can_have_ssh_enabled() -> None:
    # enable_ssh is the platform's and the space's switch, not the backend's (the 2.43 docs
    # example is a DEA app with enable_ssh true).
    values = {factories.app_envelope("dea", api_version="2.43", seed=s)["entity"]["enable_ssh"] for s in range(20)}
    assert values == {True, False}


def test_health_check_http_endpoint_is_null_unless_an_http_check_sets_it() -> None:
    for version in ("2.66", "2.293"):
        for seed in range(20):
            entity = factories.app_envelope(api_version=version, seed=seed)["entity"]
            if entity["health_check_type"] == "http":
                assert entity["health_check_http_endpoint"].startswith("/")
            else:
                assert entity["health_check_http_endpoint"] is None


def test_the_simulator_serves_root_from_2_63() -> None:
    from cfreplay.serve.simulator import Simulator

    old = Simulator(seed=1, base_url="http://127.0.0.1:1", api_version="2.62", now=None)
    missing = old.handle("GET", "/", {})
    assert (missing.status, missing.json()["error_code"]) == (404, "CF-NotFound")
    new = Simulator(seed=1, base_url="http://127.0.0.1:1", api_version="2.63", now=None)
    found = new.handle("GET", "/", {})
    assert found.status == 200
    assert list(found.json()["links"]) == ["self", "cloud_controller_v2", "cloud_controller_v3"]
    assert found.json()["links"]["self"]["href"] == "http://127.0.0.1:1"


def test_the_simulators_restage_drops_the_droplet_until_staging_brings_a_new_one() -> None:
    from cfreplay.serve.simulator import Simulator

    sim = Simulator(seed=2, base_url="http://127.0.0.1:1", polls_to_stage=0, now=None)
    form = {"grant_type": "password", "username": sim.username, "password": sim.password, "scope": ""}
    login = sim.handle(
        "POST",
        "/oauth/token",
        {"Authorization": cfapi.CF_CLIENT_BASIC, "Content-Type": cfapi.FORM_CONTENT_TYPE},
        urllib.parse.urlencode(form).encode(),
    )
    headers = {"Authorization": f"bearer {login.json()['access_token']}"}
    app = sim.app("my-app")
    detected = app.envelope["entity"]["detected_start_command"]
    assert detected
    restaged = sim.handle("POST", f"/v2/apps/{app.guid}/restage", headers)
    assert restaged.status == 201
    assert (restaged.json()["entity"]["detected_buildpack"], restaged.json()["entity"]["detected_start_command"]) == (
        None,
        "",
    )
    staged = sim.handle("GET", f"/v2/apps/{app.guid}", headers).json()["entity"]
    assert (staged["package_state"], staged["detected_start_command"]) == ("STAGED", detected)
