"""What the cf CLI v6 and cloudfoundry-client send around a restage, answered in CC's shapes, recorded and replayed.

The simulator (as a state machine, and over HTTP on 127.0.0.1) answers every request of
both clients' restage flows: the app looked up in its space with inline relations or
paged one result at a time, the instances (NotStaged while staging, STARTING, then
RUNNING), their stats, the summary.  ``cfreplay record restage --client …`` records each
client's sequence; the cloudfoundry-client recording replays under the real client, the
cf CLI's (its binary is not here) is held against the order the CLI's source sends.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from python_client import restage_and_wait

import cfreplay
from cfreplay import cassette
from cfreplay.cf import cfapi
from cfreplay.commands.cli import main
from cfreplay.hygiene import scanner
from cfreplay.serve import _routes, flows
from cfreplay.serve.simulator import HandledRequest, Simulator, run

BASE = "http://api.cf.test"


@pytest.fixture
def simulator() -> Simulator:
    return Simulator(seed=5, base_url=BASE, polls_to_stage=1, polls_to_start=1)


def bearer(simulator: Simulator) -> dict[str, str]:
    answer = simulator.handle(
        "POST",
        "/oauth/token",
        {"Authorization": cfapi.CF_CLIENT_BASIC},
        f"grant_type=password&username={simulator.username}&password={simulator.password}".encode(),
    )
    return {"Authorization": f"bearer {json.loads(answer.body)['access_token']}"}


def get(simulator: Simulator, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    response = simulator.handle("GET", path, headers)
    return response.status, json.loads(response.body)


# --------------------------------------------------------------------------- the route table


def test_one_table_names_every_route_uaa_apart_from_cc() -> None:
    assert _routes.ROUTES == _routes.UAA_ROUTES + _routes.CC_ROUTES
    assert {route.service for route in _routes.UAA_ROUTES} == {"uaa"}
    assert {route.service for route in _routes.CC_ROUTES} == {"cc"}
    assert [(r.method, r.handler) for r in _routes.UAA_ROUTES] == [(None, "token")]  # UAA answers any method
    assert {r.handler for r in _routes.CC_ROUTES} >= {"instances", "stats", "summary", "list_space_apps", "root"}
    # Every row is bound to its handler when a simulator starts: a name with no handler fails at once.
    with pytest.raises(AttributeError):
        _routes.bind(_routes.CC_ROUTES, {"cc": object()})


# --------------------------------------------------------------------------- instances, stats, summary


def test_instances_are_not_staged_while_staging_then_starting_then_running(simulator: Simulator) -> None:
    headers = bearer(simulator)
    app = simulator.app("my-app")
    status, running = get(simulator, f"/v2/apps/{app.guid}/instances", headers)
    # A staged, started app: each desired instance by index, in Diego's shape of the era.
    assert status == 200 and list(running) == [str(i) for i in range(app.instances)]
    assert list(running["0"]) == ["state", "routable", "uptime", "since"]
    assert running["0"]["state"] == "RUNNING" and running["0"]["routable"] is True

    assert simulator.handle("POST", f"/v2/apps/{app.guid}/restage", headers).status == 201
    status, refused = get(simulator, f"/v2/apps/{app.guid}/instances", headers)
    assert (status, refused["error_code"], refused["code"]) == (400, "CF-NotStaged", 170002)
    assert get(simulator, f"/v2/apps/{app.guid}", headers)[1]["entity"]["package_state"] == "PENDING"
    assert get(simulator, f"/v2/apps/{app.guid}", headers)[1]["entity"]["package_state"] == "STAGED"

    states = [get(simulator, f"/v2/apps/{app.guid}/instances", headers)[1]["0"] for _ in range(3)]
    assert [s["state"] for s in states] == ["STARTING", "RUNNING", "RUNNING"]
    assert [s["routable"] for s in states] == [False, True, True]
    assert all(isinstance(s["since"], int) and s["uptime"] >= 0 for s in states)


def test_stats_follow_the_instances_and_refuse_a_stopped_app(simulator: Simulator) -> None:
    headers = bearer(simulator)
    app = simulator.app("my-app")
    status, stats = get(simulator, f"/v2/apps/{app.guid}/stats", headers)
    entry = stats["0"]
    assert status == 200 and list(entry) == ["state", "isolation_segment", "stats", "routable"]
    assert "net_info" not in entry["stats"]  # CC deletes it before answering
    assert entry["stats"]["mem_quota"] == app.envelope["entity"]["memory"] * 1024 * 1024
    assert list(entry["stats"]["usage"]) == ["time", "cpu", "cpu_entitlement", "mem", "disk", "log_rate"]

    staging = simulator.app("staging-app")
    assert get(simulator, f"/v2/apps/{staging.guid}/stats", headers)[1]["0"] == {
        "state": "DOWN",
        "stats": {"uptime": 0},
    }

    stopped = simulator.app("stopped-app")
    status, refused = get(simulator, f"/v2/apps/{stopped.guid}/stats", headers)
    assert (status, refused["error_code"], refused["code"]) == (400, "CF-AppStoppedStatsError", 200003)
    assert refused["description"] == "Could not fetch stats for stopped app: stopped-app"
    status, refused = get(simulator, f"/v2/apps/{stopped.guid}/instances", headers)
    assert (status, refused["error_code"], refused["code"]) == (400, "CF-InstancesError", 220001)
    assert (
        refused["description"] == "Instances error: Request failed for app: stopped-app as the app is in stopped state."
    )


def test_a_failed_staging_answers_instances_with_its_reason(simulator: Simulator) -> None:
    headers = bearer(simulator)
    failed = simulator.add_app("broken", "staging_failed", staging_failed_reason="NoAppDetectedError")
    status, refused = get(simulator, f"/v2/apps/{failed.guid}/instances", headers)
    assert (status, refused["error_code"], refused["code"]) == (400, "CF-NoAppDetectedError", 170003)
    other = simulator.add_app("broken-too", "staging_failed", staging_failed_reason="StagingError")
    status, refused = get(simulator, f"/v2/apps/{other.guid}/instances", headers)
    assert refused["description"] == "Staging error: cannot get instances since staging failed"


def test_summary_is_the_app_with_its_running_count(simulator: Simulator) -> None:
    headers = bearer(simulator)
    app = simulator.app("my-app")
    status, summary = get(simulator, f"/v2/apps/{app.guid}/summary", headers)
    assert status == 200
    assert list(summary)[:6] == ["guid", "name", "routes", "running_instances", "services", "available_domains"]
    assert (summary["guid"], summary["name"], summary["running_instances"]) == (app.guid, "my-app", app.instances)
    assert summary["available_domains"][0]["name"] == "apps.cf.test"
    assert summary["instances"] == app.instances and summary["package_state"] == "STAGED"
    assert "space_url" not in summary and "name" not in list(summary)[2:]


# --------------------------------------------------------------------------- inline relations and paging


def test_inline_relations_depth_inlines_space_stack_routes_and_bindings(simulator: Simulator) -> None:
    headers = bearer(simulator)
    app = simulator.app("my-app")
    _, plain = get(simulator, f"/v2/apps/{app.guid}", headers)
    _, inlined = get(simulator, f"/v2/apps/{app.guid}?inline-relations-depth=1", headers)
    keys = list(inlined["entity"])
    for relation in ("space", "stack", "routes", "service_bindings"):
        assert keys.index(relation) == keys.index(f"{relation}_url") + 1  # right after its link, as CC writes it
    assert [k for k in keys if k not in ("space", "stack", "routes", "service_bindings")] == list(plain["entity"])
    space, stack = inlined["entity"]["space"], inlined["entity"]["stack"]
    assert space["metadata"]["guid"] == simulator.space_guid == inlined["entity"]["space_guid"]
    assert space["entity"]["organization_guid"] == simulator.organization_guid
    assert space["entity"]["apps_url"] == f"/v2/spaces/{simulator.space_guid}/apps"  # depth 1: links only
    assert stack["metadata"]["guid"] == simulator.stack_guid and stack["entity"]["name"] == "cflinuxfs4"
    assert inlined["entity"]["routes"] == [] and inlined["entity"]["service_bindings"] == []
    assert "events" not in inlined["entity"]  # link-only relations stay links

    status, refused = get(simulator, f"/v2/apps/{app.guid}?inline-relations-depth=3", headers)
    assert (status, refused["description"]) == (
        400,
        "The query parameter is invalid: inline_relations_depth must be <= 2",
    )


def test_the_cf_clis_space_lookup_and_page_links_that_echo_the_query(simulator: Simulator) -> None:
    headers = bearer(simulator)
    space = simulator.space_guid
    status, page = get(simulator, f"/v2/spaces/{space}/apps?q=name%3Amy-app&inline-relations-depth=1", headers)
    assert status == 200 and page["total_results"] == 1
    assert page["resources"][0]["entity"]["space"]["metadata"]["guid"] == space

    _, first = get(simulator, f"/v2/spaces/{space}/apps?results-per-page=1&inline-relations-depth=1", headers)
    link = urllib.parse.urlsplit(first["next_url"])
    assert link.path == f"/v2/spaces/{space}/apps"  # the collection that was asked for
    assert urllib.parse.parse_qs(link.query) == {
        "inline-relations-depth": ["1"],
        "order-direction": ["asc"],
        "page": ["2"],
        "results-per-page": ["1"],
    }
    assert first["next_url"] == cfapi.page_url(
        f"/v2/spaces/{space}/apps", 2, 1, order_direction="asc", inline_relations_depth=1
    )

    status, refused = get(simulator, f"/v2/spaces/{simulator.app('my-app').guid}/apps", headers)
    assert (status, refused["error_code"], refused["code"]) == (404, "CF-SpaceNotFound", 40004)


def test_cloudfoundry_clients_one_result_pages_walk_every_app(simulator: Simulator) -> None:
    headers = bearer(simulator)
    url: str | None = "/v2/apps?q=space_guid%3A" + simulator.space_guid + "&results-per-page=1"
    names = []
    while url is not None:
        _, page = get(simulator, url, headers)
        names += [r["entity"]["name"] for r in page["resources"]]
        url = page["next_url"]
        if url is not None:
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["q"] == [
                f"space_guid:{simulator.space_guid}"
            ]
    assert names == [app.name for app in simulator.apps]


# --------------------------------------------------------------------------- the flows, against the state machine


def transport(simulator: Simulator, sent: list[tuple[str, str]]) -> flows.Transport:
    def send(method: str, url: str, headers: Any, body: bytes | None) -> tuple[int, bytes]:
        split = urllib.parse.urlsplit(url)
        target = f"{split.path}?{split.query}" if split.query else split.path
        sent.append((method, target))
        response = simulator.handle(method, target, dict(headers), body or b"")
        return response.status, response.body

    return send


def run_flow(client: flows.ClientName, simulator: Simulator, *, expire: bool = False) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    login = flows.Login(BASE, username=simulator.username, password=simulator.password, space_guid=simulator.space_guid)
    sender = flows.flow(client, login, transport(simulator, sent))
    sender.start()
    _, body, _ = sender.find_app("my-app")
    guid = body["resources"][0]["metadata"]["guid"]
    if expire:
        simulator.expire_tokens()
    assert sender.restage(guid)[0] == 201
    result = sender.wait(guid, timeout=5, interval=0, sleep=lambda _: None, clock=lambda: 0.0)
    assert (result.package_state, result.instances) == ("STAGED", "RUNNING")
    return sent


def test_the_cf_cli_v6_flow_in_its_order(simulator: Simulator) -> None:
    app = f"/v2/apps/{simulator.app('my-app').guid}"
    assert run_flow("cf-cli", simulator) == [
        ("GET", "/v2/info"),
        ("POST", "/oauth/token"),
        ("GET", f"/v2/spaces/{simulator.space_guid}/apps?q=name%3Amy-app&inline-relations-depth=1"),
        ("POST", f"{app}/restage"),
        ("GET", app),
        ("GET", app),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
        ("GET", app),
        ("GET", f"{app}/summary"),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/stats"),
    ]
    assert all(status < 400 for _, _, status in simulator.requests)


def test_the_cloudfoundry_client_flow_in_its_order(simulator: Simulator) -> None:
    app = f"/v2/apps/{simulator.app('my-app').guid}"
    assert run_flow("cloudfoundry-client", simulator) == [
        ("GET", "/"),
        ("POST", "/oauth/token"),
        ("GET", "/v2/apps?q=name%3Amy-app&results-per-page=1"),
        ("POST", f"{app}/restage"),
        ("GET", app),
        ("GET", app),
        ("GET", f"{app}/summary"),
        ("GET", f"{app}/instances"),
        ("GET", f"{app}/instances"),
    ]


@pytest.mark.parametrize("client", flows.CLIENTS)
def test_both_clients_refresh_and_retry_once_on_an_expired_token(
    client: flows.ClientName, simulator: Simulator
) -> None:
    sent = run_flow(client, simulator, expire=True)
    restage = f"/v2/apps/{simulator.app('my-app').guid}/restage"
    at = sent.index(("POST", restage))
    assert sent[at : at + 3] == [("POST", restage), ("POST", "/oauth/token"), ("POST", restage)]
    assert [r.status for r in simulator.requests[at : at + 3]] == [401, 200, 201]


# --------------------------------------------------------------------------- record --client, replayed


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No cf login of the developer's is read: HOME and CF_HOME in tmp, no CF_USERNAME."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CF_HOME", str(tmp_path))
    monkeypatch.delenv("CF_USERNAME", raising=False)
    monkeypatch.delenv("CF_PASSWORD", raising=False)
    return tmp_path


def record(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["record", "restage", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def requests_of(path: Path) -> list[tuple[str, str, str]]:
    """(method, path, query) of each recorded request."""
    found = []
    for interaction in cassette.load(path).interactions:
        split = urllib.parse.urlsplit(interaction["request"]["uri"])
        found.append((interaction["request"]["method"], split.path, split.query))
    return found


def test_a_cloudfoundry_client_recording_replays_under_the_real_client(
    capsys: pytest.CaptureFixture[str], isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = isolated / "python.yaml"
    with run(seed=2) as live:
        monkeypatch.setenv("CF_USERNAME", live.username)
        monkeypatch.setenv("CF_PASSWORD", live.password)
        url, username, password = live.url, live.username, live.password
        stdout = record(capsys, "my-app", "--api", url, "--client", "cloudfoundry-client", "--wait", "-o", str(out))
        guid = live.simulator.app("my-app").guid
        instances = live.simulator.app("my-app").instances
    assert "  instances: RUNNING" in stdout.splitlines()
    assert scanner.scan_file(out) == []
    assert [(m, p) for m, p, _ in requests_of(out)][:4] == [
        ("GET", "/"),
        ("POST", "/oauth/token"),
        ("GET", "/v2/apps"),
        ("POST", f"/v2/apps/{guid}/restage"),
    ]

    # The simulator is gone: the real CloudFoundryClient logs in, restages and polls from the cassette alone.
    with cfreplay.use_cassette(out) as active:
        assert active.offline
        seen = restage_and_wait(url, username, password, "my-app")
        assert active.all_played
    assert seen.guid == guid
    assert seen.package_states == ["PENDING", "PENDING", "PENDING", "STAGED"]
    assert seen.instances == instances


def test_a_cf_cli_recording_holds_the_cf_clis_order(capsys: pytest.CaptureFixture[str], isolated: Path) -> None:
    out = isolated / "cli.yaml"
    stdout = record(capsys, "my-app", "--wait", "-o", str(out))  # --client cf-cli is the default
    [simulator_url] = [line.split(" at ")[1].split(" ")[0] for line in stdout.splitlines()[:1]]
    recorded = requests_of(out)
    space = urllib.parse.urlsplit(recorded[2][1]).path.split("/")[3]
    guid = recorded[3][1].split("/")[3]
    app = f"/v2/apps/{guid}"
    assert recorded == [
        ("GET", "/v2/info", ""),
        ("POST", "/oauth/token", ""),
        ("GET", f"/v2/spaces/{space}/apps", "q=name%3Amy-app&inline-relations-depth=1"),
        ("POST", f"{app}/restage", ""),
        *[("GET", app, "")] * 3,
        *[("GET", f"{app}/instances", ""), ("GET", f"{app}/stats", "")] * 2,
        ("GET", app, ""),
        ("GET", f"{app}/summary", ""),
        ("GET", f"{app}/instances", ""),
        ("GET", f"{app}/stats", ""),
    ]
    assert simulator_url.startswith("http://127.0.0.1:")
    interactions = cassette.load(out).interactions
    # The cf CLI's own headers: its agent, and the token as its config keeps it ("bearer …").
    lookup = interactions[2]["request"]["headers"]
    assert lookup["User-Agent"][0].startswith("go-cli 6.28.0") and lookup["Authorization"][0].startswith("bearer ")
    grant = urllib.parse.parse_qs(interactions[1]["request"]["body"], keep_blank_values=True)
    assert list(grant) == ["grant_type", "password", "scope", "username"]  # Go's url.Values, sorted
    assert scanner.scan_file(out) == []

    # Replayed in that order, each request gets the answer the CLI got.
    with cfreplay.use_cassette(out) as active:
        import requests

        for method, path, query in recorded:
            url = f"{simulator_url}{path}" + (f"?{query}" if query else "")
            assert requests.request(method, url, timeout=5).status_code in (200, 201)
        assert active.all_played


def test_record_refuses_an_unknown_client(capsys: pytest.CaptureFixture[str], isolated: Path) -> None:
    assert main(["record", "restage", "my-app", "--client", "go-cfclient"]) == 2
    assert "invalid choice: 'go-cfclient'" in capsys.readouterr().err


def test_record_from_docs_takes_no_client(capsys: pytest.CaptureFixture[str], isolated: Path) -> None:
    assert main(["record", "--from-docs", "--client", "cf-cli", "-o", str(isolated / "d.yaml")]) == 2
    assert capsys.readouterr().err == "cfreplay: error: --from-docs takes only -o/--output\n"


def test_the_cloudfoundry_client_flow_over_http_matches_the_state_machine() -> None:
    with run(seed=5) as live:
        sent: list[tuple[str, str]] = []
        login = flows.Login(live.url, username=live.username, password=live.password)

        def send(method: str, url: str, headers: Any, body: bytes | None) -> tuple[int, bytes]:
            import requests

            split = urllib.parse.urlsplit(url)
            sent.append((method, split.path))
            answer = requests.request(method, url, headers=dict(headers), data=body, timeout=5)
            return answer.status_code, answer.content

        sender = flows.flow("cloudfoundry-client", login, send)
        sender.start()
        assert sender.find_app("no-such-app")[1]["resources"] == []
        assert live.simulator.requests[-1] == HandledRequest("GET", "/v2/apps", 200)
    assert sent[0] == ("GET", "/")
