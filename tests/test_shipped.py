"""The cassettes cfreplay ships: generated, committed, clean, and replayable by vcrpy.

The committed files under ``cassettes/restage/`` and ``cassettes/scenarios/`` must be
exactly what the factories and the simulator make today, so they cannot drift from the
code; they load with cfreplay and with vcrpy, replay under requests (and the scenarios
under the real cloudfoundry-client, and through the pytest marker) without touching the
network, and hold no secret.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import jwt
import pytest
import requests
import vcr
import vcr.errors
from python_client import restage_and_wait
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

import cfreplay
from cfreplay import cassette, shipped
from cfreplay.cf import cfapi, tokens
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.errors import UnknownNameError
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import scan_paths

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIR = ROOT / "cassettes"
RESTAGE_URL = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"
ERRORS = {f"restage/{error.name}": error for error in cfapi.RESTAGE_ERRORS}
NAMES = shipped.names()
RESTAGE = tuple(name for name in NAMES if name.startswith("restage/"))
SCENARIOS = tuple(name for name in NAMES if name.startswith("scenarios/"))


def test_names_cover_both_201_eras_and_every_restage_error() -> None:
    assert tuple(sorted(NAMES)) == NAMES
    assert set(RESTAGE) == {"restage/201", "restage/201-2.43", "restage/201-2.293", *ERRORS}
    assert set(SCENARIOS) == {
        f"scenarios/{client}-restage{refresh}"
        for client in ("cf-cli", "cloudfoundry-client")
        for refresh in ("", "-token-refresh")
    }
    assert set(NAMES) == {*RESTAGE, *SCENARIOS}
    # restage/201-2.293 is the name the newest era's 201 had before one default era: kept.
    assert shipped.api_version("restage/201-2.293") == shipped.api_version("restage/201") == cfapi.LATEST_API_VERSION
    assert "restage/UnknownError" in NAMES  # the one unprefixed error keeps its plain name


def test_target_is_the_factories_api_host() -> None:
    assert shipped.TARGET == "https://api.sys.example.com"
    assert f"https://api.{cfreplay.factories.DEFAULT_SYSTEM_DOMAIN}" == shipped.TARGET


@pytest.mark.parametrize("name", NAMES)
def test_committed_file_is_what_the_factories_make(name: str) -> None:
    file = shipped.path(name)
    assert file == SHIPPED_DIR / f"{name}.yaml"  # a checkout resolves to the repository's files
    assert file.read_bytes() == cassette.dumps(shipped.build(name), "yaml"), (
        f"{file} is stale: run python -m cfreplay.shipped"
    )


def test_build_is_deterministic_and_independent_of_order() -> None:
    first = [cassette.dumps(shipped.build(name), "yaml") for name in NAMES]
    cfreplay.seed(12345)  # the global seed must not leak in
    again = [cassette.dumps(shipped.build(name), "yaml") for name in reversed(NAMES)]
    assert first == list(reversed(again))


def test_check_passes_on_the_committed_tree_in_another_process() -> None:
    # Another process with another hash seed: the bytes depend on the name alone.
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    result = subprocess.run(
        [sys.executable, "-m", "cfreplay.shipped", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_write_all_rewrites_only_what_changed_and_check_reports_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = shipped.write_all(tmp_path)
    assert sorted(written) == sorted(tmp_path / f"{name}.yaml" for name in NAMES)
    assert shipped.write_all(tmp_path) == []
    assert shipped.main(["--check", str(tmp_path)]) == 0

    stale = tmp_path / "restage" / "AppNotFound.yaml"
    stale.write_text(stale.read_text().replace("could not be found", "was lost"))
    untouched = tmp_path / "restage" / "201.yaml"
    mtime = untouched.stat().st_mtime_ns
    capsys.readouterr()
    assert shipped.main(["--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"would write {stale}\n"
    assert "was lost" in stale.read_text()  # --check writes nothing

    assert shipped.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {stale}\n"
    assert stale.read_bytes() == cassette.dumps(shipped.build("restage/AppNotFound"), "yaml")
    assert untouched.stat().st_mtime_ns == mtime


def test_check_fails_on_a_stray_cassette(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped.write_all(tmp_path)
    stray = tmp_path / "restage" / "AppGone.yaml"
    stray.write_bytes(b"interactions: []\nversion: 1\n")
    assert shipped.main(["--check", str(tmp_path)]) == 1
    assert str(stray) in capsys.readouterr().err
    assert shipped.main([str(tmp_path)]) == 0
    assert stray.exists()  # reported, never deleted: it may be someone's own


@pytest.mark.parametrize("name", RESTAGE)
def test_each_cassette_loads_with_cfreplay_and_vcrpy(name: str) -> None:
    file = shipped.path(name)
    loaded = cassette.load(file)
    assert len(loaded) == 1
    assert "metadata" not in loaded.data  # pytest-recording 0.14.1 fails on a top-level metadata key
    assert loaded.interactions[0]["response"]["recorded_at"] == "2015-11-03T00:54:16Z"
    assert cassette.written_by_cfreplay(loaded.data)
    request = loaded.interactions[0]["request"]
    assert request["method"] == "POST"
    assert request["uri"] == RESTAGE_URL
    assert request["body"] is None
    assert request["headers"]["User-Agent"] == ["cf-python-client"]
    assert request["headers"]["Content-Length"] == ["0"]

    vcr_requests, vcr_responses = deserialize(file.read_text(encoding="utf-8"), yamlserializer)
    assert [r.uri for r in vcr_requests] == [RESTAGE_URL]
    assert [r.method for r in vcr_requests] == ["POST"]
    assert len(vcr_responses) == 1


@pytest.mark.parametrize("name", RESTAGE)
def test_bodies_are_what_cc_of_the_era_answers(name: str) -> None:
    data = cassette.load(shipped.path(name)).data
    version = shipped.api_version(name)
    response = data["interactions"][0]["response"]
    body = response["body"]["string"]
    assert response["headers"]["Content-Length"] == [str(len(body.encode("utf-8")))]
    document = json.loads(body)
    assert body.startswith("{\n  ") == cfapi.is_pretty(version)
    if name in ERRORS:
        error = ERRORS[name]
        assert version == max(error.since, cfapi.DEFAULT_API_VERSION)
        assert response["status"]["code"] == error.http_status
        assert document["error_code"] == error.error_code
        assert document["code"] == error.code
        if error.detail_name == "guid":
            assert document["description"] == error.description(shipped.APP_GUID)
        return
    assert response["status"] == {"code": 201, "message": "Created"}
    assert response["headers"]["Location"] == [f"/v2/apps/{shipped.APP_GUID}"]
    cfreplay.validate(document, version)
    assert document["metadata"]["guid"] == shipped.APP_GUID
    assert document["entity"]["package_state"] == "PENDING"


def test_the_two_201s_are_the_default_and_the_documented_era() -> None:
    documented = cassette.load(shipped.path("restage/201-2.43"))
    assert shipped.api_version("restage/201-2.43") == cfapi.SEED_API_VERSION
    seed_era = json.loads(documented.interactions[0]["response"]["body"]["string"])
    default = cassette.load(shipped.path("restage/201"))
    assert shipped.api_version("cfreplay:restage/201") == cfapi.DEFAULT_API_VERSION == cfapi.LATEST_API_VERSION
    body = default.interactions[0]["response"]["body"]["string"]
    assert "\n" not in body  # compact JSON
    assert seed_era["entity"]["docker_credentials_json"] == {"redacted_message": "[PRIVATE DATA HIDDEN]"}
    assert "docker_credentials" in json.loads(body)["entity"]


def test_factories_simulator_and_shipped_cassettes_share_one_default_era() -> None:
    default = cfreplay.DEFAULT_API_VERSION
    assert default is cfapi.DEFAULT_API_VERSION
    # The factories and validate() with no api_version.
    assert ApiVersion.parse(None) == default
    app = cfreplay.factories.app_envelope(seed=1)
    assert set(app["entity"]) == {f.name for f in cfapi.app_fields(default)}
    cfreplay.validate(app, default)
    assert cfreplay.factories.info()["api_version"] == str(default)
    # The simulator with no api_version.
    assert cfreplay.simulator.Simulator(base_url="http://127.0.0.1:1").api_version == default
    # The shipped 201 and every shipped error.
    for name in RESTAGE:
        version = shipped.api_version(name)
        body = cassette.load(shipped.path(name)).interactions[0]["response"]["body"]["string"]
        assert body.startswith("{\n  ") == cfapi.is_pretty(version), name  # the bytes are of that era
        if name == "restage/201-2.43":
            assert version == cfapi.SEED_API_VERSION  # the documented exchange, named by its era
        else:
            assert version == default, name


def test_tokens_are_signed_with_the_published_test_key() -> None:
    for name in RESTAGE:
        headers = cassette.load(shipped.path(name)).interactions[0]["request"]["headers"]
        if name == "restage/NotAuthenticated":
            assert "Authorization" not in headers  # CC says NotAuthenticated only when no token came
            continue
        scheme, token = headers["Authorization"][0].split(" ")
        assert scheme == "Bearer"
        assert jwt.get_unverified_header(token)["kid"] == "cfreplay-test-key"


def test_replays_the_201_under_requests_without_network() -> None:
    with vcr.use_cassette(str(shipped.path("restage/201")), record_mode="none"):
        response = requests.post(RESTAGE_URL, timeout=5)
    assert response.status_code == 201
    assert response.json()["entity"]["package_state"] == "PENDING"
    assert response.headers["Location"] == f"/v2/apps/{shipped.APP_GUID}"


def test_replays_an_error_and_refuses_any_other_request() -> None:
    with vcr.use_cassette(str(shipped.path("cfreplay:restage/AppNotFound")), record_mode="none"):
        response = requests.post(RESTAGE_URL, timeout=5)
        assert response.status_code == 404
        assert response.json()["error_code"] == "CF-AppNotFound"
        with pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException):
            requests.get(f"{shipped.TARGET}/v2/info", timeout=5)


def test_path_accepts_both_name_forms() -> None:
    assert shipped.path("cfreplay:restage/201") == shipped.path("restage/201")
    assert shipped.path("restage/201").is_file()
    assert shipped.PREFIX == "cfreplay:"


@pytest.mark.parametrize("given", ["restage/AppNotFoud", "cfreplay:restage/AppNotFoud"])
def test_path_rejects_unknown_names_with_suggestions(given: str) -> None:
    with pytest.raises(UnknownNameError) as raised:
        shipped.path(given)
    assert str(raised.value) == str(UnknownNameError("shipped cassette", "restage/AppNotFoud", NAMES))
    assert str(raised.value).startswith(
        "unknown shipped cassette 'restage/AppNotFoud'; did you mean 'restage/AppNotFound'"
    )
    with pytest.raises(UnknownNameError):
        shipped.build(given)


def test_scanner_finds_nothing_in_the_shipped_directory() -> None:
    result = scan_paths([SHIPPED_DIR])
    assert result.errors == []
    assert result.findings == []
    assert result.files >= len(NAMES)


def test_sanitizer_changes_nothing() -> None:
    for name in NAMES:
        file = shipped.path(name)
        before = file.read_bytes()
        assert not Sanitizer().sanitize_file(file, check=True), name
        assert file.read_bytes() == before


def test_build_refuses_a_cassette_the_sanitizer_would_change(monkeypatch: pytest.MonkeyPatch) -> None:
    # A token signed with anything but the published key is a secret as far as the sanitizer knows.
    foreign = jwt.encode({"sub": "someone", "exp": 1446555255}, "not-the-published-key-0123456789", algorithm="HS256")
    monkeypatch.setattr(shipped.factories, "access_token", lambda **_: foreign)
    with pytest.raises(RuntimeError, match="not clean"):
        shipped.build("restage/201")


# --------------------------------------------------------------------------- scenarios/*: whole client flows

APP = "/v2/apps/{guid}"
CF_CLI_FLOW = [
    ("GET", "/v2/info"),
    ("POST", "/oauth/token"),
    ("GET", "/v2/spaces/{space}/apps"),
    ("POST", APP + "/restage"),
    *[("GET", APP)] * 3,
    *[("GET", APP + "/instances"), ("GET", APP + "/stats")] * 2,
    ("GET", APP),
    ("GET", APP + "/summary"),
    ("GET", APP + "/instances"),
    ("GET", APP + "/stats"),
]
PYTHON_CLIENT_FLOW = [
    ("GET", "/"),
    ("POST", "/oauth/token"),
    ("GET", "/v2/apps"),
    ("POST", APP + "/restage"),
    *[("GET", APP)] * 3,
    ("GET", APP + "/summary"),
    ("GET", APP + "/instances"),
    ("GET", APP + "/instances"),
]
REFRESH = [("POST", APP + "/restage"), ("POST", "/oauth/token")]


def scenario_requests(name: str) -> list[tuple[str, str, int]]:
    return [
        (i["request"]["method"], urllib.parse.urlsplit(i["request"]["uri"]).path, i["response"]["status"]["code"])
        for i in cassette.load(shipped.path(name)).interactions
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_is_its_clients_flow_from_login_to_running(name: str) -> None:
    recorded = scenario_requests(name)
    guid = recorded[3][1].split("/")[3]
    space = recorded[2][1].split("/")[3] if name.startswith("scenarios/cf-cli") else ""
    flow = CF_CLI_FLOW if name.startswith("scenarios/cf-cli") else PYTHON_CLIENT_FLOW
    if name.endswith("-token-refresh"):
        # The token has expired by the restage: CC's 401, the refresh grant, the restage again.
        flow = [*flow[:3], *REFRESH, *flow[3:]]
    assert [(m, p) for m, p, _ in recorded] == [(m, p.format(guid=guid, space=space)) for m, p in flow]
    statuses = [status for _, _, status in recorded]
    assert statuses.count(401) == (1 if name.endswith("-token-refresh") else 0)
    if name.endswith("-token-refresh"):
        assert statuses[3:6] == [401, 200, 201]
    assert all(status in (200, 201) for status in statuses if status != 401)
    hosts = {urllib.parse.urlsplit(i["request"]["uri"]).netloc for i in cassette.load(shipped.path(name)).interactions}
    assert hosts == {"api.sys.example.com", "uaa.sys.example.com"}  # UAA apart from CC, as on a foundation
    assert shipped.api_version(name) == cfapi.DEFAULT_API_VERSION


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenarios_poll_until_staged_and_running(name: str) -> None:
    interactions = cassette.load(shipped.path(name)).interactions
    assert "metadata" not in cassette.load(shipped.path(name)).data  # dated per exchange, as pytest-recording loads
    assert {i["response"]["recorded_at"] for i in interactions} == {"2015-11-03T00:54:16Z"}
    bodies = [(i["request"]["uri"], json.loads(i["response"]["body"]["string"])) for i in interactions]
    polls = [body["entity"]["package_state"] for uri, body in bodies if re.search(r"/v2/apps/[0-9a-f-]{36}$", uri)]
    assert polls[:3] == ["PENDING", "PENDING", "STAGED"]
    instances = [body for uri, body in bodies if uri.endswith("/instances")]
    assert {i["state"] for i in instances[0].values()} == {"STARTING"}
    assert {i["state"] for i in instances[1].values()} == {"RUNNING"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_tokens_are_fakes_signed_with_the_published_key(name: str) -> None:
    interactions = cassette.load(shipped.path(name)).interactions
    found = []
    for interaction in interactions:
        for value in interaction["request"]["headers"].get("Authorization", []):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer":
                found.append(token)
        if interaction["request"]["uri"].endswith("/oauth/token"):
            grant = json.loads(interaction["response"]["body"]["string"])
            found += [grant["access_token"], grant["refresh_token"], grant["id_token"]]
            form = urllib.parse.parse_qs(interaction["request"]["body"], keep_blank_values=True)
            assert form.get("password", ["***"]) == ["***"]  # the password grant's password is redacted
    assert found and all(tokens.is_test_token(token) for token in found)
    assert {jwt.get_unverified_header(token)["kid"] for token in found} == {"cfreplay-test-key"}


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n.startswith("scenarios/cloudfoundry-client")])
def test_cloudfoundry_client_scenarios_replay_under_the_real_client(name: str) -> None:
    with cfreplay.use_cassette(shipped.path(name)) as active:
        assert active.offline
        seen = restage_and_wait(shipped.TARGET, "admin@example.com", "any password", shipped.SCENARIO_APP)
        assert active.all_played  # every request it sent was one recorded, and no recording was left over
    assert seen.package_states == ["PENDING", "PENDING", "PENDING", "STAGED"]
    assert seen.instances >= 1


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n.startswith("scenarios/cf-cli")])
def test_cf_cli_scenarios_replay_in_the_cf_clis_order(name: str) -> None:
    interactions = cassette.load(shipped.path(name)).interactions
    with cfreplay.use_cassette(shipped.path(name)) as active:
        statuses = [
            requests.request(i["request"]["method"], i["request"]["uri"], timeout=5).status_code for i in interactions
        ]
        assert active.all_played
    assert statuses == [i["response"]["status"]["code"] for i in interactions]


pytest_plugins = ["pytester"]

INNER_SCENARIOS = """
import pytest
import requests
from cloudfoundry_client.client import CloudFoundryClient

from cfreplay import shipped


@pytest.mark.cfreplay("cfreplay:scenarios/cloudfoundry-client-restage-token-refresh")
def test_restage_with_a_token_refresh(cfreplay_cassette):
    client = CloudFoundryClient(shipped.TARGET)
    client.init_with_user_credentials("admin@example.com", "any password")
    app = client.v2.apps.get_first(name=shipped.SCENARIO_APP)
    restaged = client.v2.apps.restage(app["metadata"]["guid"])  # 401, refresh, retried
    assert restaged["entity"]["package_state"] == "PENDING"
    states = [client.v2.apps.get(app["metadata"]["guid"])["entity"]["package_state"] for _ in range(3)]
    assert states == ["PENDING", "PENDING", "STAGED"]
    summary = client.v2.apps.get_summary(app["metadata"]["guid"])
    client.v2.apps._wait_for_instances_in_state(app["metadata"]["guid"], summary["instances"], "RUNNING", 0, 5)
    assert cfreplay_cassette.offline and cfreplay_cassette.all_played


@pytest.mark.cfreplay("cfreplay:scenarios/cf-cli-restage")
def test_cf_cli_first_requests(cfreplay_cassette):
    info = requests.get(f"{shipped.TARGET}/v2/info", timeout=5).json()
    assert info["authorization_endpoint"] == shipped.UAA
"""


def test_scenarios_replay_through_the_pytest_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER_SCENARIOS)
    result = pytester.runpytest_subprocess(
        *("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:anyio"),
        *("-p", "no:randomly", "-p", "no:recording", "--strict-markers", "-W", "error"),
    )
    result.assert_outcomes(passed=2)
