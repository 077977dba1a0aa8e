"""Factories: realistic, era-exact documents, and the states their traits promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from freezegun import freeze_time

import cfreplay
from cfreplay.cf import cfapi, factories, tokens
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import DEFAULT_NOW

ERAS = ["2.8.0", "2.22.0", "2.43.0", "2.66.0", "2.82.0", "2.150.0", "2.232.0", "2.293.0"]


def parse(stamp: str) -> datetime:
    # Z since 2.21, +00:00 before (cfapi.UTC_Z_TIMESTAMPS_SINCE).
    return cfapi.parse_timestamp(stamp)


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize("seed", range(12))
def test_envelopes_are_realistic_and_valid(version: str, seed: int) -> None:
    app = factories.app_envelope(api_version=version, seed=seed)
    cfreplay.validate(app, version)
    meta, entity = app["metadata"], app["entity"]
    assert meta["url"] == f"/v2/apps/{meta['guid']}"
    assert parse(meta["created_at"]) <= parse(meta["updated_at"]) <= DEFAULT_NOW
    if "package_updated_at" in entity:  # since 2.13
        assert parse(meta["created_at"]) <= parse(entity["package_updated_at"]) <= parse(meta["updated_at"])
    assert entity["memory"] in (128, 256, 512, 768, 1024, 2048, 4096)
    assert entity["disk_quota"] >= 256
    assert entity["instances"] >= 1
    assert "-" in entity["name"]
    assert len({meta["guid"], entity["space_guid"], entity["stack_guid"], entity["version"]}) == 4
    if entity["buildpack"] and "://" in entity["buildpack"]:
        assert entity["buildpack"].startswith("https://github.com/cloudfoundry/")


def test_default_app_is_started_and_staged_on_the_eras_backend() -> None:
    old = factories.app_envelope(api_version="2.43")["entity"]
    new = factories.app_envelope(api_version="2.100")["entity"]
    for entity in (old, new):
        assert (entity["state"], entity["package_state"]) == ("STARTED", "STAGED")
        assert entity["staging_task_id"]
        assert entity["detected_start_command"]
    assert old["diego"] is False and old["ports"] is None
    assert new["diego"] is True and new["ports"] == [8080]


@pytest.mark.parametrize("seed", range(8))
def test_staging_failed_carries_a_reason_and_its_catalog_description(seed: int) -> None:
    entity = factories.app_envelope("staging_failed", seed=seed)["entity"]
    assert entity["package_state"] == "FAILED"
    failure = cfapi.staging_failure(entity["staging_failed_reason"])
    assert entity["staging_failed_description"] == failure.description


def test_staging_stopped_and_dea_traits() -> None:
    entity = factories.app_envelope("stopped", "staging", "dea", api_version="2.100")["entity"]
    assert (entity["state"], entity["package_state"], entity["diego"]) == ("STOPPED", "PENDING", False)
    assert entity["ports"] is None
    diego_staging = factories.app_envelope("staging", "diego", api_version="2.100")["entity"]
    assert diego_staging["staging_task_id"]  # the STAGING build


@pytest.mark.parametrize(("version", "field"), [("2.43", "docker_credentials_json"), ("2.150", "docker_credentials")])
def test_docker_apps(version: str, field: str) -> None:
    for seed in range(10):
        entity = factories.app_envelope("docker", api_version=version, seed=seed)["entity"]
        assert entity["docker_image"]
        assert entity["buildpack"] is None
        assert entity["diego"] is True
        credentials = entity[field]
        if field == "docker_credentials_json":
            assert credentials == {"redacted_message": "[PRIVATE DATA HIDDEN]"}
        else:
            assert credentials["password"] == ("***" if credentials["username"] else None)


def test_buildpack_apps_never_show_docker_credentials() -> None:
    entity = factories.app_envelope("buildpack", api_version="2.150")["entity"]
    assert entity["docker_image"] is None
    assert entity["docker_credentials"] == {"username": None, "password": None}


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        (("started", "stopped"), "traits: 'started' and 'stopped' cannot both apply (API 2.293.0)"),
        (("docker", "dea"), "traits: 'docker' apps cannot run on DEAs (CF-DockerAppToDea) (API 2.293.0)"),
        (("stoped",), "unknown trait 'stoped'; did you mean 'stopped', 'staged', 'started'?"),
    ],
)
def test_conflicting_and_unknown_traits(traits: tuple[str, ...], message: str) -> None:
    with pytest.raises(cfreplay.CfreplayError) as raised:
        factories.app_envelope(*traits)
    assert str(raised.value) == message


def test_a_misspelled_field_gets_a_did_you_mean_like_a_misspelled_trait() -> None:
    with pytest.raises(cfreplay.UnknownNameError) as raised:
        factories.app_envelope(memroy=512)
    assert str(raised.value) == "unknown app field 'memroy'; did you mean 'memory'?"
    assert (raised.value.kind, raised.value.name) == ("app field", "memroy")
    # The same for every factory that takes app fields, metadata fields included.
    with pytest.raises(cfreplay.UnknownNameError, match=r"^unknown app field 'gudi'; did you mean 'guid'\?$"):
        factories.restage_response(gudi="x")
    with pytest.raises(cfreplay.UnknownNameError, match=r"did you mean 'instances'\?$"):
        factories.list_page(instnaces=2)
    # A real field of another era is no typo: it says when the field came.
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.log_rate_limit: not in this API version; introduced"):
        factories.app_envelope(api_version="2.43", log_rate_limit=-1)


def test_links_follow_the_guids() -> None:
    app = factories.app_envelope(links=True, guid="0" * 8 + "-0000-4000-8000-" + "0" * 12)
    entity = app["entity"]
    assert entity["space_url"] == f"/v2/spaces/{entity['space_guid']}"
    assert entity["routes_url"] == f"/v2/apps/{app['metadata']['guid']}/routes"
    assert app["metadata"]["url"] == f"/v2/apps/{app['metadata']['guid']}"


# ------------------------------------------------------------------------- restage


@pytest.mark.parametrize("version", ERAS)
def test_restage_response_shows_restages_effect(version: str) -> None:
    before = factories.app_envelope("stopped", "staging_failed", api_version=version, seed=3)
    response = factories.restage_response(before, api_version=version, seed=4)
    after = response.json()
    cfreplay.validate(after, version)
    assert response.status == 201
    assert after["metadata"]["guid"] == before["metadata"]["guid"]
    assert after["entity"]["state"] == "STARTED"
    assert after["entity"]["package_state"] == "PENDING"
    assert after["entity"]["version"] != before["entity"]["version"]
    if "staging_failed_reason" in after["entity"]:
        assert after["entity"]["staging_failed_reason"] is None
    if after["entity"].get("diego") and ApiVersion.parse(version) >= cfapi.BUILDS_SINCE:
        assert after["entity"]["staging_task_id"] not in (None, before["entity"]["staging_task_id"])
    assert not any(key.endswith("_url") for key in after["entity"])


def test_restage_headers_are_exact() -> None:
    response = factories.restage_response(request_id="r-1", incoming_request_id="client id!")
    guid = response.json()["metadata"]["guid"]
    assert response.headers == (
        ("Content-Type", "application/json;charset=utf-8"),
        ("Location", f"/v2/apps/{guid}"),
        ("X-VCAP-Request-ID", "clientid::r-1"),
        ("Content-Length", str(len(response.body))),
        ("X-Content-Type-Options", "nosniff"),
    )


def test_restage_location_can_name_another_process_and_warnings_are_encoded() -> None:
    response = factories.restage_response(process_guid="p-guid", warnings=["stack 'x' is DEPRECATED"])
    assert response.header("location") == "/v2/apps/p-guid"
    assert response.header("X-Cf-Warnings") == "stack+%27x%27+is+DEPRECATED"


def test_restage_body_format_follows_the_era() -> None:
    assert factories.restage_response(api_version="2.231").body.startswith(b'{\n  "metadata": {\n')
    assert factories.restage_response(api_version="2.232").body.startswith(b'{"metadata":{"guid":')


def test_restage_refuses_an_invalid_app() -> None:
    app = factories.app_envelope()
    app["entity"]["memory"] = "1G"
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.memory: expected integer, got string '1G'"):
        factories.restage_response(app)


def test_restage_http_text() -> None:
    response = factories.restage_response(request_id="x")
    head, _, body = response.to_http().partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 201 Created"
    assert lines[1:] == [f"{name}: {value}" for name, value in response.headers]
    assert body == response.body


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize("error", cfapi.RESTAGE_ERRORS, ids=lambda e: e.name)
def test_every_catalog_error_as_cc_sends_it(error: cfapi.CatalogError) -> None:
    version = max(error.since, ApiVersion.parse("2.73"))
    response = factories.error_response(error.name, api_version=version)
    body = response.json()
    assert response.status == error.http_status
    assert list(body) == (
        ["error_code", "description", "code"] if not error.prefixed else ["description", "error_code", "code"]
    )
    assert body["error_code"] == error.error_code
    assert body["code"] == error.code
    assert "%s" not in body["description"]
    # Controller-raised errors end in a newline; the rate limiters' middleware writes none.
    assert response.body.endswith(b"\n") is (error.http_status != 429)
    assert response.header("Content-Length") == str(len(response.body))
    assert response.header("X-Content-Type-Options") == "nosniff"
    expected_type = "text/plain; charset=utf-8" if error.http_status == 429 else "application/json;charset=utf-8"
    assert response.header("Content-Type") == expected_type
    if error.http_status == 429:
        assert int(response.header("Retry-After") or 0) > 0


def test_app_not_found_names_the_guid() -> None:
    response = factories.error_response("AppNotFound", guid="abc-123")
    assert response.status == 404
    assert response.json() == {
        "code": 100004,
        "description": "The app could not be found: abc-123",
        "error_code": "CF-AppNotFound",
    }


def test_error_details() -> None:
    assert factories.error_response("StagingError").json()["description"] == (
        "Staging error: App must have at least 1 instance to stage."
    )
    assert (
        factories.error_response("CF-AppPackageInvalid", api_version="2.100", reason="x").json()["description"]
        == "The app package is invalid: x"
    )
    with pytest.raises(cfreplay.SchemaError, match=r"^guid: CF-NotStaged takes no detail"):
        factories.error_response("NotStaged", guid="x")
    with pytest.raises(cfreplay.ApiVersionError, match=r"CF-CNBDisabled is not returned by API 2.43.0"):
        factories.error_response("CNBDisabled", api_version="2.43")


# ------------------------------------------------------------------------- lists


def test_list_pages_count_and_link() -> None:
    page = factories.list_page(total_results=120, page=2, results_per_page=50, q="name:billing-api")
    assert page["total_results"] == 120
    assert page["total_pages"] == 3
    assert len(page["resources"]) == 50
    assert page["prev_url"] == "/v2/apps?order-direction=asc&page=1&q=name:billing-api&results-per-page=50"
    assert page["next_url"] == "/v2/apps?order-direction=asc&page=3&q=name:billing-api&results-per-page=50"
    assert {r["entity"]["name"] for r in page["resources"]} == {"billing-api"}
    for resource in page["resources"]:
        cfreplay.validate(resource)
        assert "space_url" in resource["entity"]
    last = factories.list_page(total_results=120, page=3)
    assert len(last["resources"]) == 20 and last["next_url"] is None
    assert list(page) == list(cfapi.LIST_KEYS)


def test_list_of_given_resources_and_empty_lists() -> None:
    apps = [factories.app_envelope(links=True) for _ in range(2)]
    page = factories.list_page(apps)
    assert page["resources"] == apps and page["total_results"] == 2 and page["total_pages"] == 1
    empty = factories.list_page(count=0)
    assert empty == {"total_results": 0, "total_pages": 1, "prev_url": None, "next_url": None, "resources": []}
    with pytest.raises(cfreplay.SchemaError, match=r"results_per_page: must be 1\.\.100"):
        factories.list_page(results_per_page=101)


# ------------------------------------------------------------------------- info, root, tokens


def test_info_fields_follow_the_era() -> None:
    old, new = factories.info(api_version="2.43"), factories.info(api_version="2.293")
    assert "logging_endpoint" in old and "logging_endpoint" not in new
    assert "osbapi_version" in new and "osbapi_version" not in old
    assert new["api_version"] == "2.293.0"
    assert list(new) == [f.name for f in cfapi.info_fields(ApiVersion.parse("2.293"))]
    disabled = factories.info(api_version="2.293", v2_disabled=True)
    assert (disabled["support"], disabled["api_version"]) == ("CF API v2 is disabled", "")


def test_root_links_as_cf_python_client_reads_them() -> None:
    links = factories.root(api_version="2.141")["links"]
    assert links["cloud_controller_v2"] == {"href": "https://api.sys.example.com/v2", "meta": {"version": "2.141.0"}}
    assert links["cloud_controller_v3"]["meta"]["version"] == "3.76.0"
    assert factories.root()["links"]["login"]["href"] == "https://login.sys.example.com"  # 2.144 on
    assert "cloud_controller_v2" not in factories.root(v2_disabled=True)["links"]


def test_token_response_is_uaa_shaped() -> None:
    body = factories.token_response(username="ada@example.com")
    assert list(body) == ["access_token", "token_type", "id_token", "refresh_token", "expires_in", "scope", "jti"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 43199
    assert body["scope"] == " ".join(cfapi.DEVELOPER_SCOPES)
    header, claims = tokens.decode_unverified(body["access_token"])
    assert list(header) == ["alg", "jku", "kid", "typ"]
    assert header["kid"] == tokens.TEST_KEY_ID
    # The cf client's empty secret writes client_auth_method; a JWT is not revocable by default.
    assert list(claims) == [c.name for c in cfapi.ACCESS_TOKEN_CLAIMS if c.name not in ("authorities", "revocable")]
    assert claims["jti"] == body["jti"] and len(claims["jti"]) == 32
    assert claims["user_name"] == claims["email"] == "ada@example.com"
    assert claims["scope"] == list(cfapi.DEVELOPER_SCOPES)
    assert claims["exp"] - claims["iat"] == 43199
    assert claims["iat"] == int(DEFAULT_NOW.timestamp())
    assert tokens.is_test_token(body["access_token"]) and tokens.is_test_token(body["refresh_token"])
    verified = jwt.decode(
        body["access_token"], tokens.TEST_KEY, algorithms=["HS256"], audience="cf", options={"verify_exp": False}
    )
    assert verified == claims
    _, refresh = tokens.decode_unverified(body["refresh_token"])
    assert refresh["jti"].endswith("-r") and "granted_scopes" in refresh and "scope" not in refresh


def test_client_credentials_and_opaque_tokens() -> None:
    body = factories.token_response(grant_type="client_credentials", client_id="autoscaler", scopes=["uaa.none"])
    assert "refresh_token" not in body and "id_token" not in body
    _, claims = tokens.decode_unverified(body["access_token"])
    assert claims["sub"] == "autoscaler" and "user_name" not in claims and claims["authorities"] == ["uaa.none"]
    opaque = factories.token_response(opaque=True)
    assert len(opaque["access_token"]) == 32 and "." not in opaque["access_token"]
    with pytest.raises(cfreplay.UnknownNameError, match="unknown grant type 'pasword'"):
        factories.token_response(grant_type="pasword")


def test_a_tampered_or_foreign_token_is_not_a_test_token() -> None:
    token = factories.access_token()
    assert tokens.is_test_token(token)
    assert not tokens.is_test_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert not tokens.is_test_token(jwt.encode({"sub": "x"}, "another-key-of-thirty-two-bytes!!", algorithm="HS256"))
    assert not tokens.is_test_token("not a token")


def test_the_clock_is_fixed_unless_the_wall_is_asked_for() -> None:
    with freeze_time("2031-05-06T07:08:09Z"):
        fixed = factories.access_token(seed=1)
        wall = factories.access_token(seed=1, now="wall")
    assert tokens.decode_unverified(fixed)[1]["iat"] == int(DEFAULT_NOW.timestamp())
    assert tokens.decode_unverified(wall)[1]["iat"] == int(datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC).timestamp())


def test_a_chosen_clock_bounds_every_timestamp() -> None:
    now = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    for seed in range(20):
        app = factories.app_envelope(seed=seed, now=now)
        assert now - timedelta(days=401) <= parse(app["metadata"]["created_at"]) <= now
        assert parse(app["metadata"]["updated_at"]) <= now
    with pytest.raises(ValueError, match="timezone-aware"):
        factories.app_envelope(now=datetime(2024, 1, 1))


def test_restage_requests_in_each_style() -> None:
    token = factories.access_token()
    docs = factories.restage_request("g", token=token)
    assert docs.header("Authorization") == f"bearer {token}"
    cli = factories.restage_request("g", token=token, style="cf-cli")
    assert cli.header("Content-Type") == "application/json"
    assert (cli.header("User-Agent") or "").startswith("go-cli")
    cfpy = factories.restage_request("g", token=token, style="cf-python-client")
    assert cfpy.header("Authorization") == f"Bearer {token}" and cfpy.header("Content-Length") == "0"
    assert cfpy.url == "https://example.org/v2/apps/g/restage"
    assert tokens.is_test_token((factories.restage_request().header("Authorization") or "").split()[1])


def test_reason_phrases_are_ccs_on_every_python() -> None:
    # Python 3.13 renamed these after RFC 9110; CC (Rack 2) sends the old names, and the
    # same seed must give the same bytes on every Python.
    assert factories.error_response("UnprocessableEntity").reason == "Unprocessable Entity"
    assert cfreplay.Response(413, (), b"").reason == "Payload Too Large"
    assert cfreplay.Response(201, (), b"").reason == "Created"
    assert cfreplay.Response(599, (), b"").reason == ""
