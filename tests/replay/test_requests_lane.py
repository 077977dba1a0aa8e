"""requests answered inside HTTPAdapter.send: the same answers as vcrpy's stubs give, or the stubs answer.

The lane (cfreplay/replay/_requests_lane.py) skips urllib3 and vcrpy's stub connections for
a request it can prove they would see as it does.  Each test here replays the same
cassette twice — once through the lane, once through an adapter the lane must leave to
the stubs (it overrides a step of ``send`` with one that does the same) — and compares
everything a client can read.  A spy on urllib3's ``urlopen`` shows which path answered.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
import urllib3
import urllib3.connectionpool
from fakecloud import FakeCloud
from hypothesis import given
from hypothesis import strategies as st
from urllib3.util.retry import Retry

import cfreplay
from cfreplay import cassette as cassette_files
from cfreplay.replay import patching

REQUESTS_SEND = requests.adapters.HTTPAdapter.send
# The recordings here carry session cookies on purpose: replay warns about them, and that is not the subject.
pytestmark = pytest.mark.filterwarnings("ignore::cfreplay.SecretWarning")


class ThroughTheStubs(requests.adapters.HTTPAdapter):
    """An adapter the lane leaves to vcrpy's stubs: it overrides a step of ``send`` (doing the same)."""

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        super().add_headers(request, **kwargs)


@contextlib.contextmanager
def spying_on_urlopen() -> Iterator[list[str]]:
    """The URL of every request that goes down to urllib3's pools (the stubs' path) meanwhile."""
    calls: list[str] = []
    real = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def spy(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(url)
        return real(self, method, url, *args, **kwargs)

    urllib3.connectionpool.HTTPConnectionPool.urlopen = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        urllib3.connectionpool.HTTPConnectionPool.urlopen = real  # type: ignore[method-assign]


@pytest.fixture
def urlopen_calls() -> Iterator[list[str]]:
    with spying_on_urlopen() as calls:
        yield calls


def interaction(method: str, uri: str, *, status: int = 200, headers: dict[str, list[str]] | None = None,
                body: bytes = b"{}", request_body: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "request": {"method": method, "uri": uri, "body": request_body, "headers": {}},
        "response": {
            "status": {"code": status, "message": {200: "OK", 201: "Created"}.get(status, "Whatever")},
            "headers": {"Content-Type": ["application/json"], **(headers or {})},
            "body": {"string": body},
        },
    }


def write_cassette(path: Path, interactions: list[dict[str, Any]]) -> Path:
    path.write_bytes(cassette_files.dumps({"version": 1, "interactions": interactions}, "yaml"))
    return path


def described(response: requests.Response) -> tuple[Any, ...]:
    """Everything of a response a client reads, the raw urllib3-level object's included."""
    raw = response.raw
    return (
        response.status_code, response.reason, list(response.headers.items()), response.content, response.url,
        response.encoding, sorted(response.cookies.items()), [r.status_code for r in response.history],
        type(raw).__name__, list(raw.headers.items()), raw.status, raw.reason, repr(raw.retries),
        raw.get_redirect_location(), response.ok,
    )  # fmt: skip


def replayed(path: Path, calls: list[tuple[str, str, dict[str, Any]]], adapter: type = requests.adapters.HTTPAdapter,
             **options: Any) -> tuple[list[Any], int]:  # fmt: skip
    """Each call's described response (or its error), and how many recordings played."""
    outcomes: list[Any] = []
    with cfreplay.use_cassette(path, freeze_time=False, **{"record_mode": "none", **options}) as active:
        with requests.Session() as session:
            session.mount("http://", adapter())
            session.mount("https://", adapter())
            for method, url, kwargs in calls:
                try:
                    outcomes.append(described(session.request(method, url, **kwargs)))
                except Exception as error:  # compared as type and message
                    outcomes.append((type(error).__name__, str(error)))
        return outcomes, active.play_count


def both_ways(path: Path, calls: list[tuple[str, str, dict[str, Any]]], urlopen_calls: list[str],
              **options: Any) -> tuple[list[Any], int, list[str]]:  # fmt: skip
    """Replay through the lane and through the stubs; they must agree.  What the lane left to urllib3."""
    urlopen_calls.clear()
    through_lane = replayed(path, calls, **options)
    left_to_urllib3 = list(urlopen_calls)
    through_stubs = replayed(path, calls, ThroughTheStubs, **options)
    assert through_lane == through_stubs
    return (*through_lane, left_to_urllib3)


# ----------------------------------------------------------------------------- the same answers


def test_a_played_request_never_reaches_urllib3_and_answers_as_the_stubs_do(
    tmp_path: Path, urlopen_calls: list[str]
) -> None:
    body = json.dumps({"metadata": {"guid": "g"}, "entity": {"name": "app"}}).encode()
    path = write_cassette(tmp_path / "c.yaml", [
        interaction("POST", "https://api.example.com/v2/apps/g/restage", status=201, body=body,
                    headers={"Set-Cookie": ["__VCAP_ID__=abc; Path=/", "JSESSIONID=def; HttpOnly"],
                             "X-Vcap-Request-Id": ["r1"]}),
        interaction("GET", "https://api.example.com/v2/apps/g?inline-relations-depth=1", body=body),
    ])  # fmt: skip
    calls = [
        ("POST", "https://api.example.com/v2/apps/g/restage", {"headers": {"Authorization": "bearer x.y.z"}}),
        ("GET", "https://api.example.com/v2/apps/g?inline-relations-depth=1", {"timeout": 5}),
    ]
    outcomes, played, left = both_ways(path, calls, urlopen_calls)
    assert left == []  # both answered inside the adapter
    assert played == 2
    assert [o[0] for o in outcomes] == [201, 200]
    assert outcomes[0][6] == [("JSESSIONID", "def"), ("__VCAP_ID__", "abc")]  # cookies, from the raw message


def test_a_gzip_body_and_a_stream_read_as_through_the_stubs(tmp_path: Path, urlopen_calls: list[str]) -> None:
    packed = gzip.compress(b'{"total_results": 0}')
    path = write_cassette(tmp_path / "c.yaml", [
        interaction("GET", "https://api.example.com/v2/info", headers={"Content-Encoding": ["gzip"]}, body=packed),
        interaction("GET", "https://api.example.com/v2/info", headers={"Content-Encoding": ["gzip"]}, body=packed),
    ])  # fmt: skip

    def streamed(adapter: type) -> list[bytes]:
        with cfreplay.use_cassette(path, record_mode="none", freeze_time=False), requests.Session() as session:
            session.mount("https://", adapter())
            chunks = list(session.get("https://api.example.com/v2/info", stream=True).iter_content(4))
            return [*chunks, session.get("https://api.example.com/v2/info").content]

    urlopen_calls.clear()
    through_lane = streamed(requests.adapters.HTTPAdapter)
    assert through_lane == streamed(ThroughTheStubs)
    assert urlopen_calls == ["/v2/info", "/v2/info"]  # only the stubs' run went down
    # A foreign cassette's gzip body is replayed decoded (it used to reach the stubs as text and fail).
    assert b"".join(through_lane[:-1]) == through_lane[-1] == b'{"total_results": 0}'


_HOSTS = st.sampled_from(
    ["api.example.com", "API.Example.com", "uaa.example.com.", "127.0.0.1", "[::1]", "a_b.example"]
)
_PORTS = st.sampled_from(["", ":443", ":80", ":8443", ":0443"])
_SEGMENT = st.text(st.sampled_from("az09-._~!$&'()*+,;=:@%[]{}|^ é/"), max_size=6)
_QUERY = st.one_of(st.just(""), st.text(st.sampled_from("az09=&?%:/+ ,[]"), max_size=8).map(lambda q: "?" + q))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, str, dict[str, Any]]]]:
    """Recordings and the calls replayed against them: URLs the lane takes and URLs it must leave alone."""
    recorded_targets = draw(st.lists(st.tuples(_SEGMENT, _QUERY), min_size=1, max_size=3))
    interactions, calls = [], []
    for segment, query in recorded_targets:
        scheme = draw(st.sampled_from(["https", "http"]))
        method = draw(st.sampled_from(["GET", "POST", "DELETE"]))
        # What vcrpy records: urllib3's lower-case host and its own escaping of the target.
        target = urllib3.util.url._encode_target(f"/v2/{requests.utils.requote_uri(segment + query)}")
        status = draw(st.sampled_from([200, 201, 204, 302, 401, 503]))
        headers = {"Location": ["/v2/elsewhere"]} if status == 302 else {}
        if draw(st.booleans()):
            headers["Set-Cookie"] = [f"c{len(interactions)}={draw(st.sampled_from(['x', 'y; Path=/']))}"]
        body = draw(st.binary(max_size=20))
        request_body = "name=a" if method == "POST" else None
        interactions.append(interaction(method, f"{scheme}://api.example.com{target}", status=status,
                                        headers=headers, body=body, request_body=request_body))  # fmt: skip
        for _ in range(draw(st.integers(1, 2))):
            host, port = draw(_HOSTS), draw(_PORTS)
            url = f"{scheme}://{host}{port}/v2/{segment}{query}"
            kwargs: dict[str, Any] = {"allow_redirects": draw(st.booleans())}
            if request_body is not None:
                kwargs["data"] = draw(st.sampled_from([request_body, request_body.encode(), {"name": "a"}]))
            calls.append((method, url, kwargs))
    return interactions, draw(st.permutations(calls))


@given(scenarios(), st.booleans())
def test_every_request_gets_what_the_stubs_give_it(
    tmp_path_factory: pytest.TempPathFactory, scenario: Any, repeats: bool
) -> None:
    interactions, calls = scenario
    path = write_cassette(tmp_path_factory.mktemp("lane") / "c.yaml", interactions)
    with spying_on_urlopen() as left:  # a function-scoped fixture would not reset between examples
        _, _, went_down = both_ways(path, calls, left, allow_playback_repeats=repeats)
    assert len(went_down) <= len(calls) * 2  # (redirects add requests)


def test_the_scenarios_exercise_the_lane(tmp_path: Path, urlopen_calls: list[str]) -> None:
    """A plain URL is answered in the lane; a URL whose origin urllib3 would spell otherwise goes to the stubs."""
    path = write_cassette(tmp_path / "c.yaml", [
        interaction("GET", "https://api.example.com/v2/a%5Bb%5D"),
        interaction("GET", "https://api.example.com/v2/dot"),
        interaction("GET", "https://api.example.com/v2/user"),
        interaction("GET", "https://api.example.com/v2/q?x=1"),
    ])  # fmt: skip
    calls = [
        ("GET", "https://api.example.com/v2/a[b]", {}),  # requests escapes the brackets itself: the lane
        ("GET", "https://api.example.com./v2/dot", {}),  # urllib3's connection drops the trailing dot
        ("GET", "https://someone:pw@api.example.com/v2/user", {}),  # userinfo is not part of the pool's host
        ("GET", "https://api.example.com:443/v2/q?x=1", {}),  # the lane: default port dropped as vcrpy does
    ]
    outcomes, played, left = both_ways(path, calls, urlopen_calls)
    assert [o[0] for o in outcomes] == [200, 200, 200, 200]
    assert played == 4
    assert left == ["/v2/dot", "/v2/user"]


# ----------------------------------------------------------------------------- what goes down to the stubs


@pytest.fixture
def one_get(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", [interaction("GET", "https://api.example.com/v2/info")] * 2)


@pytest.mark.parametrize(
    ("kwargs", "answer"),
    [
        ({"proxies": {"https": "http://proxy.invalid:3128"}}, 200),
        ({"timeout": urllib3.Timeout(5)}, 200),
        ({"data": iter([b"chunked"])}, 200),
        ({"cert": "/nonexistent/client.pem"}, "OSError"),
        ({"verify": "/nonexistent/ca.pem"}, "OSError"),
        ({"timeout": -1}, "ValueError"),
        ({"timeout": (1, 2, 3)}, "ValueError"),
    ],
    ids=["proxy", "Timeout", "chunked body", "client cert", "missing CA bundle", "bad timeout", "bad timeout tuple"],
)
def test_settings_that_act_below_the_adapter_go_down_to_the_stubs(
    one_get: Path, urlopen_calls: list[str], kwargs: dict[str, Any], answer: int | str
) -> None:
    outcomes, played, left = both_ways(one_get, [("GET", "https://api.example.com/v2/info", kwargs)], urlopen_calls)
    assert outcomes[0][0] == answer
    # Answered by urllib3 and the stubs, or refused by the adapter before it, on both paths.
    assert (played, len(left)) == ((1, 1) if answer == 200 else (0, 0))


@pytest.mark.parametrize(
    ("retry", "retry_after"),
    [
        (Retry(total=1, status_forcelist=[503], backoff_factor=0), None),
        (Retry(total=None, status=1, status_forcelist=[503], backoff_factor=0), None),
        (Retry(total=1, backoff_factor=0), "0"),
    ],
    ids=["status_forcelist", "status_forcelist without a total", "Retry-After with a total"],
)
def test_retries_on_a_status_go_through_urllib3_and_retry_into_the_next_recording(
    tmp_path: Path, urlopen_calls: list[str], retry: Retry, retry_after: str | None
) -> None:
    headers = {"Retry-After": [retry_after]} if retry_after is not None else {}
    path = write_cassette(tmp_path / "c.yaml", [
        interaction("GET", "https://api.example.com/v2/info", status=503, headers=headers),
        interaction("GET", "https://api.example.com/v2/info", status=200),
    ])  # fmt: skip

    class Retrying(requests.adapters.HTTPAdapter):
        def __init__(self) -> None:
            super().__init__(max_retries=retry)

    with cfreplay.use_cassette(path, record_mode="none", freeze_time=False) as active, requests.Session() as s:
        s.mount("https://", Retrying())
        assert s.get("https://api.example.com/v2/info").status_code == 200  # urllib3 retried the recorded 503
        assert active.play_count == 2
    assert urlopen_calls  # the retry lives in urllib3: the lane left it there


def test_an_adapter_that_changes_a_step_keeps_it(tmp_path: Path, urlopen_calls: list[str]) -> None:
    path = write_cassette(tmp_path / "c.yaml", [interaction("GET", "https://api.example.com/v2/info")])
    path.write_bytes(path.read_bytes())
    marked = []

    class Marking(requests.adapters.HTTPAdapter):
        def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
            marked.append(request.url)

    with cfreplay.use_cassette(path, record_mode="none", freeze_time=False), requests.Session() as s:
        s.mount("https://", Marking())
        assert s.get("https://api.example.com/v2/info").ok
    assert marked == ["https://api.example.com/v2/info"] and urlopen_calls == ["/v2/info"]


def test_an_unplayable_request_is_refused_by_the_stubs_as_without_the_lane(
    one_get: Path, urlopen_calls: list[str]
) -> None:
    calls = [("GET", "https://api.example.com/v2/other", {}), ("GET", "https://api.example.com/v2/info", {})]
    outcomes, played, left = both_ways(one_get, calls, urlopen_calls)
    assert outcomes[0][0] == "UnmatchedRequest" and outcomes[1][0] == 200
    assert played == 1 and left == ["/v2/other"]


def test_a_new_episode_is_recorded_by_the_stubs_and_then_played_in_the_lane(
    cloud: FakeCloud, tmp_path: Path, urlopen_calls: list[str]
) -> None:
    path = tmp_path / "episodes.yaml"
    with cfreplay.use_cassette(path, record_mode="new_episodes", freeze_time=False):
        first = requests.get(f"{cloud.base}/v2/info", timeout=5).json()
    assert urlopen_calls == ["/v2/info"]
    with cfreplay.use_cassette(path, record_mode="new_episodes", freeze_time=False) as active:
        assert requests.get(f"{cloud.base}/v2/info", timeout=5).json() == first
        assert active.play_count == 1
    assert urlopen_calls == ["/v2/info"]  # the replay did not go down


# ----------------------------------------------------------------------------- in and out


def test_the_lane_is_in_only_while_a_cassette_is_and_only_over_requests_own_send(one_get: Path) -> None:
    assert requests.adapters.HTTPAdapter.send is REQUESTS_SEND
    with cfreplay.use_cassette(one_get, record_mode="none", freeze_time=False):
        lane = requests.adapters.HTTPAdapter.send
        assert lane is not REQUESTS_SEND
        with cfreplay.use_cassette(one_get, record_mode="none", freeze_time=False):
            assert requests.adapters.HTTPAdapter.send is lane
    assert requests.adapters.HTTPAdapter.send is REQUESTS_SEND
    assert patching.current() is None


def test_a_mock_over_send_answers_first_as_it_would_without_cfreplay(
    one_get: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def mocked(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content, response.url = 418, b"mock", request.url or ""
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", mocked)
    with cfreplay.use_cassette(one_get, record_mode="none", freeze_time=False) as active:
        assert requests.adapters.HTTPAdapter.send is mocked
        assert requests.get("https://api.example.com/v2/info").status_code == 418
        assert active.play_count == 0
    assert requests.adapters.HTTPAdapter.send is mocked


def test_the_adapter_checks_run_against_the_environment(one_get: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests' own CA-bundle variable pointing nowhere fails a replayed https request, as without the lane."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", os.path.join(os.sep, "nonexistent", "bundle.pem"))
    with cfreplay.use_cassette(one_get, record_mode="none", freeze_time=False) as active:
        with pytest.raises(OSError, match="invalid path"):
            requests.get("https://api.example.com/v2/info")
        assert active.play_count == 0


@pytest.fixture(autouse=True)
def _no_lane_left_behind() -> Iterator[None]:
    yield
    assert requests.adapters.HTTPAdapter.send is REQUESTS_SEND or patching.current() is not None


def test_the_lane_is_built_only_over_the_urllib3_stubs_it_copies() -> None:
    """Another stub for urllib3's pools (one that answers otherwise) leaves requests to the stubs."""
    import vcr.stubs.requests_stubs

    from cfreplay.replay import _vcr

    clients = _vcr.ClientPatches.build(patching.CASSETTE_IN_USE)
    assert clients is not None and clients.urllib3_plays_as_expected
    other = vcr.stubs.requests_stubs.VCRRequestsHTTPSConnection  # no header conversion of its own
    clients.patches.append((urllib3.connectionpool.HTTPSConnectionPool, "ConnectionCls", other))
    assert not clients.urllib3_plays_as_expected
    assert patching._requests_lane_for(clients) is None
