"""The cassettes cfreplay ships: generated, committed, clean, and replayable by vcrpy.

The committed files under ``cassettes/restage/`` must be exactly what the factories
make today, so they cannot drift from the code; they load with cfreplay and with
vcrpy, replay under requests without touching the network, and hold no secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import requests
import vcr
import vcr.errors
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

import cfreplay
from cfreplay import cassette, shipped
from cfreplay.cf import cfapi
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.errors import UnknownNameError
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import scan_paths

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIR = ROOT / "cassettes"
RESTAGE_URL = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"
ERRORS = {f"restage/{error.name}": error for error in cfapi.RESTAGE_ERRORS}
NAMES = shipped.names()


def test_names_cover_both_201_eras_and_every_restage_error() -> None:
    assert tuple(sorted(NAMES)) == NAMES
    assert set(NAMES) == {"restage/201", "restage/201-2.43", "restage/201-2.293", *ERRORS}
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


@pytest.mark.parametrize("name", NAMES)
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


@pytest.mark.parametrize("name", NAMES)
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
    for name in NAMES:
        version = shipped.api_version(name)
        body = cassette.load(shipped.path(name)).interactions[0]["response"]["body"]["string"]
        assert body.startswith("{\n  ") == cfapi.is_pretty(version), name  # the bytes are of that era
        if name == "restage/201-2.43":
            assert version == cfapi.SEED_API_VERSION  # the documented exchange, named by its era
        else:
            assert version == default, name


def test_tokens_are_signed_with_the_published_test_key() -> None:
    for name in NAMES:
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
