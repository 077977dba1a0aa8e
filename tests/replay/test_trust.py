"""``use_cassette`` you can trust: strict keywords, hosts that bypass the cassette, no name lookups in replay,
``assert_all_played`` and replaying from several cassettes.

Against the fake Cloud Controller + UAA of ``conftest.py`` on 127.0.0.1, and the restage
cassette shipped with cfreplay (whose host, ``api.sys.example.com``, is never looked up).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from fakecloud import FakeCloud

import cfreplay
from cfreplay import shipped
from cfreplay.replay import _vcr, network, options
from cfreplay.replay.recorder import recorded_at

RESTAGE = f"{shipped.TARGET}/v2/apps/{shipped.APP_GUID}/restage"
ELSEWHERE = "http://203.0.113.7/v2/info"  # TEST-NET-3: nothing answers there


@pytest.fixture
def restage_copy(tmp_path: Path) -> Path:
    """The shipped restage/201 cassette (one interaction, host api.sys.example.com), as a project file."""
    path = tmp_path / "restage.yaml"
    shutil.copyfile(shipped.path("cfreplay:restage/201"), path)
    return path


def interactions(path: Path) -> list[dict[str, Any]]:
    document: dict[str, Any] = yaml.safe_load(path.read_bytes())
    return list(document["interactions"])


# ----------------------------------------------------------------------------- strict keywords


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"record_mod": "once"}, "use_cassette(): unknown keyword 'record_mod'; did you mean 'record_mode'?"),
        ({"freeze": False}, "use_cassette(): unknown keyword 'freeze'; did you mean 'freeze_time'?"),
        ({"alow_hosts": ["x"]}, "use_cassette(): unknown keyword 'alow_hosts'; did you mean 'allow_hosts'?"),
        ({"assert_all_playd": True}, "use_cassette(): unknown keyword 'assert_all_playd'; did you mean "
                                     "'assert_all_played'?"),
        ({"matchon": ["path"]}, "use_cassette(): unknown keyword 'matchon'; did you mean 'match_on'?"),
        ({"freeze_time": "no"}, "use_cassette(): freeze_time must be True or False, not str"),
        ({"assert_all_played": 1}, "use_cassette(): assert_all_played must be True or False, not int"),
        ({"match_on": "path"}, "use_cassette(): match_on must be a list of matcher names, not str"),
        ({"match_on": ["method", "pth"]}, "use_cassette(): match_on has an unknown matcher 'pth'; did you mean "
                                          "'path'?"),
        ({"allow_hosts": 127}, "use_cassette(): allow_hosts must be a host name, names separated by commas, or a "
                               "list of names, not int"),
        ({"allow_hosts": ["http://127.0.0.1:8080"]}, "use_cassette(): allow_hosts takes host names, not URLs "
                                                     "('http://127.0.0.1:8080')"),
        ({"allow_playback_repeats": "yes"}, "use_cassette(): allow_playback_repeats must be True or False, not str"),
        ({"extra_cassettes": "other.yaml"}, "use_cassette(): extra_cassettes must be a list of paths, not str"),
        ({"sanitize_config": {"headers": ["X"]}}, "use_cassette(): sanitize_config must be a cfreplay.SanitizeConfig, "
                                                  "not dict"),
        ({"before_save_interaction": "hook"}, "use_cassette(): before_save_interaction must be a function or a list "
                                              "of functions, not str"),
        ({"filter_headers": ["authorization"]}, "use_cassette(): filter_headers is not supported: not needed: the "
                                                "sanitizer removes secret headers; name others in "
                                                "[tool.cfreplay.sanitize] headers"),
        ({"ignore_localhost": True}, "use_cassette(): ignore_localhost is not supported: use "
                                     "allow_hosts=['localhost'] (which also covers 127.0.0.1 and ::1)"),
        ({"decode_compressed_response": True}, "use_cassette(): decode_compressed_response is not supported: not "
                                               "needed: cfreplay always stores compressed responses decoded"),
        ({"cassette_library_dir": "cassettes"}, "use_cassette(): cassette_library_dir is not supported: not "
                                                "needed: pass a path; in pytest, override the cfreplay_cassette_dir "
                                                "fixture"),
        ({"zzz": 1}, "use_cassette(): unknown keyword 'zzz' (it takes allow_hosts, allow_playback_repeats, "
                     "assert_all_played, before_save_interaction, custom_patches, drop_unused_requests, "
                     "extra_cassettes, freeze_time, match_on, record_mode, record_on_exception, sanitize_config, "
                     "sanitizer, serializer, skip_patchers, skip_sleep)"),
        ({"skip_sleep": "no"}, "use_cassette(): skip_sleep must be True or False, not str"),
        ({"skip_slep": False}, "use_cassette(): unknown keyword 'skip_slep'; did you mean 'skip_sleep'?"),
    ],
)  # fmt: skip
def test_unknown_keywords_and_wrong_types_are_refused_by_name(
    tmp_path: Path, keywords: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError) as raised:
        cfreplay.use_cassette(tmp_path / "x.yaml", **keywords)
    assert isinstance(raised.value, cfreplay.OptionError) and isinstance(raised.value, cfreplay.CfreplayError)
    assert str(raised.value) == message
    assert not (tmp_path / "x.yaml").exists()


def test_the_keywords_taken_are_cfreplays_and_the_vcrpy_options_it_passes_on() -> None:
    assert sorted(options.OWN) == [
        "allow_hosts", "assert_all_played", "extra_cassettes", "freeze_time", "record_mode", "sanitize_config",
        "sanitizer", "serializer", "skip_sleep",
    ]  # fmt: skip
    # use_cassette takes each of cfreplay's own by name (a typed signature), as documented.
    import inspect

    parameters = inspect.signature(cfreplay.use_cassette).parameters
    assert set(options.OWN) <= set(parameters)
    assert sorted(options.VCRPY) == [
        "allow_playback_repeats", "before_save_interaction", "custom_patches", "drop_unused_requests", "match_on",
        "record_on_exception", "skip_patchers",
    ]  # fmt: skip
    assert not set(options.REFUSED) & (set(options.OWN) | set(options.VCRPY))


def _hook(request: Any, response: Any, cassette: Any) -> Any:
    return request, response


@pytest.mark.parametrize(
    ("name", "value", "seen"),
    [
        ("match_on", ["method", "path"], lambda c: [m.__name__ for m in c._match_on] == ["method", "path"]),
        ("allow_playback_repeats", True, lambda c: c.allow_playback_repeats is True),
        ("drop_unused_requests", True, lambda c: c.drop_unused_requests is True),
        ("custom_patches", ((socket, "gethostname", lambda: "cfreplay"),), lambda c: len(c.custom_patches) == 1),
        ("skip_patchers", ("boto3",), lambda c: tuple(c.skip_patchers) == ("boto3",)),
        ("before_save_interaction", _hook, lambda c: c._before_save_interaction == [_hook]),
        ("record_on_exception", False, lambda c: True),  # not the cassette's: see the next test
    ],
)  # fmt: skip
def test_every_vcrpy_option_passed_on_reaches_vcrpy(
    restage_copy: Path, name: str, value: Any, seen: Callable[[Any], bool]
) -> None:
    if name not in _vcr.CASSETTE_OPTIONS:  # an option this vcrpy does not have: refused, not dropped
        with pytest.raises(cfreplay.OptionError, match=f"^use_cassette\\(\\): {name} needs a newer vcrpy"):
            cfreplay.use_cassette(restage_copy, **{name: value})
        return
    with cfreplay.use_cassette(restage_copy, **{name: value}) as active:
        assert seen(active.vcr_cassette)
        assert requests.post(RESTAGE, timeout=5).status_code == 201


def test_before_save_interaction_runs_before_the_sanitizer_and_record_on_exception_is_vcrpys(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    saved: list[str] = []

    def drop_info(request: Any, response: Any, cassette: Any) -> Any:
        saved.append(request.path)
        return None if request.path == "/v2/info" else (request, response)

    path = tmp_path / "saved.yaml"
    with cfreplay.use_cassette(path, record_mode="once", before_save_interaction=drop_info):
        requests.get(f"{cloud.base}/v2/info", timeout=5)
        requests.get(f"{cloud.base}/v2/apps/{cloud.guid}", timeout=5)
    assert saved == ["/v2/info", f"/v2/apps/{cloud.guid}"]
    assert [i["request"]["uri"] for i in interactions(path)] == [f"{cloud.base}/v2/apps/{cloud.guid}"]

    unsaved = tmp_path / "unsaved.yaml"

    def record_then_fail() -> None:
        with cfreplay.use_cassette(unsaved, record_mode="once", record_on_exception=False):
            requests.get(f"{cloud.base}/v2/info", timeout=5)
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert not unsaved.exists()


def test_the_sanitizing_hooks_stay_refused_as_before(tmp_path: Path) -> None:
    with pytest.raises(cfreplay.OptionError) as raised:
        cfreplay.use_cassette(tmp_path / "x.yaml", before_record_response=lambda response: response)
    assert str(raised.value) == (
        "before_record_response is cfreplay's (it sanitizes); use before_save_interaction instead"
    )


# ----------------------------------------------------------------------------- allow_hosts


@pytest.mark.parametrize("allowed", ["127.0.0.1", "localhost", "api.other.example, 127.0.0.1", ["::1"]])
def test_allowed_hosts_reach_the_network_in_replay_and_the_rest_still_replays_or_fails(
    restage_copy: Path, cloud: FakeCloud, connect_spy: list[Any], allowed: Any
) -> None:
    with cfreplay.use_cassette(restage_copy, allow_hosts=allowed) as active:
        assert active.offline
        assert requests.post(RESTAGE, timeout=5).status_code == 201  # replayed
        info = requests.get(f"{cloud.base}/v2/info", timeout=5)  # the real server: not in the cassette
        assert info.status_code == 200 and "api_version" in info.json()
        with pytest.raises(cfreplay.UnmatchedRequest):
            requests.get(ELSEWHERE, timeout=5)
    assert cloud.served == 1
    assert [address[0] for address in connect_spy] == ["127.0.0.1"]
    assert len(interactions(restage_copy)) == 1  # nothing recorded, nothing rewritten


def test_without_allow_hosts_the_same_request_is_unmatched(
    restage_copy: Path, cloud: FakeCloud, connect_spy: list[Any]
) -> None:
    with cfreplay.use_cassette(restage_copy), pytest.raises(cfreplay.UnmatchedRequest):
        requests.get(f"{cloud.base}/v2/info", timeout=5)
    assert cloud.served == 0 and connect_spy == []


def test_allowed_hosts_are_never_recorded(restage_copy: Path, cloud: FakeCloud, tmp_path: Path) -> None:
    with cfreplay.use_cassette(restage_copy, record_mode="new_episodes", allow_hosts="127.0.0.1"):
        assert requests.post(RESTAGE, timeout=5).status_code == 201
        assert requests.get(f"{cloud.base}/v2/info", timeout=5).status_code == 200
    assert [i["request"]["uri"] for i in interactions(restage_copy)] == [RESTAGE]

    fresh = tmp_path / "fresh.yaml"
    with cfreplay.use_cassette(fresh, record_mode="once", allow_hosts=["localhost"]):
        assert requests.get(f"{cloud.base}/v2/info", timeout=5).status_code == 200
    assert not fresh.exists()
    assert cloud.served == 2


def test_recordings_of_an_allowed_host_stay_in_the_cassette(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    with cfreplay.use_cassette(path, record_mode="once"):
        requests.get(f"{cloud.base}/v2/info", timeout=5)
    with cfreplay.use_cassette(path, allow_hosts="127.0.0.1") as active:
        assert len(active) == 1  # loaded, not dropped: only live requests bypass the cassette
        requests.get(f"{cloud.base}/v2/info", timeout=5)
    assert cloud.served == 2 and len(interactions(path)) == 1


# ----------------------------------------------------------------------------- name lookups


@pytest.fixture
def lookup_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host that reaches the real name lookups through cfreplay's guard."""
    reached: list[str] = []

    def spying(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
            reached.append(str(host))
            return original(host, *args, **kwargs)

        return spy

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, getattr(socket, name))  # restored after the guard's original
        monkeypatch.setattr(network, f"_original_{name}", spying(name, getattr(network, f"_original_{name}")))
    return reached


def test_replay_blocks_name_lookups(restage_copy: Path, lookup_spy: list[str]) -> None:
    with cfreplay.use_cassette(restage_copy):
        for lookup in (
            lambda: socket.getaddrinfo("api.sys.example.com", 443),
            lambda: socket.getaddrinfo(b"uaa.sys.example.com", 443, type=socket.SOCK_STREAM),
            lambda: socket.gethostbyname("api.sys.example.com"),
            lambda: socket.gethostbyname_ex("example.org"),
        ):
            with pytest.raises(cfreplay.NetworkBlocked) as blocked:
                lookup()
            assert isinstance(blocked.value, AssertionError)
            assert "cfreplay blocked a lookup of the host name '" in str(blocked.value)
        # Numeric addresses need no lookup: they pass, and connect decides.
        assert socket.getaddrinfo("203.0.113.7", 443, type=socket.SOCK_STREAM)[0][4][0] == "203.0.113.7"
        assert socket.getaddrinfo(None, 0, flags=socket.AI_PASSIVE)
    assert lookup_spy == ["203.0.113.7", "None"]
    assert socket.getaddrinfo is network._original_getaddrinfo  # the guard is gone with the block


def test_only_a_replay_blocks_lookups(tmp_path: Path, restage_copy: Path) -> None:
    with cfreplay.use_cassette(tmp_path / "new.yaml", record_mode="once") as active:
        assert not active.offline and socket.getaddrinfo is network._original_getaddrinfo
        assert socket.getaddrinfo("localhost", 80)
    with cfreplay.use_cassette(restage_copy, record_mode="once") as active:  # once, on a cassette: replays
        assert active.offline
        with pytest.raises(cfreplay.NetworkBlocked):
            socket.getaddrinfo("localhost", 80)


def test_allowed_names_are_looked_up_and_their_addresses_connected_to(
    restage_copy: Path, cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, connect_spy: list[Any]
) -> None:
    real = network._original_getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:  # the CC of a private foundation, here
        return real("127.0.0.1" if host == "api.cf.internal" else host, *args, **kwargs)

    monkeypatch.setattr(network, "_original_getaddrinfo", resolver)
    with cfreplay.use_cassette(restage_copy, allow_hosts="API.cf.internal"):
        with socket.create_connection(("api.cf.internal", cloud.port), timeout=5) as sock:
            sock.sendall(b"GET /v2/info HTTP/1.1\r\nHost: api.cf.internal\r\nConnection: close\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
        with pytest.raises(cfreplay.NetworkBlocked):
            socket.getaddrinfo("uaa.cf.internal", 443)
    # A new block has not resolved the name: its address is nobody's.
    with (
        cfreplay.use_cassette(restage_copy, allow_hosts="api.cf.internal"),
        socket.socket() as sock,
        pytest.raises(cfreplay.NetworkBlocked),
    ):
        sock.connect(("127.0.0.1", cloud.port))
    assert connect_spy == [("127.0.0.1", cloud.port)]


# ----------------------------------------------------------------------------- assert_all_played


def record_three(cloud: FakeCloud, path: Path) -> list[str]:
    urls = [f"{cloud.base}/v2/info", f"{cloud.base}/v2/apps/{cloud.guid}", f"{cloud.base}/v2/apps/{cloud.guid}/env"]
    with cfreplay.use_cassette(path, record_mode="once"):
        for url in urls:
            requests.get(url, timeout=5)
    cloud.stop()
    return urls


def test_assert_all_played_names_what_a_replay_left_unplayed(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    info, app, env = record_three(cloud, path)
    with pytest.raises(cfreplay.UnplayedInteractions) as raised, cfreplay.use_cassette(path, assert_all_played=True):
        requests.get(info, timeout=5)
    error = raised.value
    assert isinstance(error, AssertionError) and isinstance(error, cfreplay.CfreplayError)
    assert str(error) == (
        f"{path}: 1 of 3 recorded interactions were played, 2 never were (assert_all_played):\n"
        f"  GET {app}\n"
        f"  GET {env}\n"
        "How to fix: if the code no longer sends these requests, record the cassette again "
        "(record_mode 'all' with drop_unused_requests=True); if it should, find out why it did not."
    )
    assert error.unplayed == (("GET", app), ("GET", env))

    with cfreplay.use_cassette(path, assert_all_played=True) as active:  # every one played: fine
        for url in (info, app, env):
            requests.get(url, timeout=5)
    assert active.all_played and active.unplayed() == []
    with cfreplay.use_cassette(path) as active:  # not asked: fine
        requests.get(info, timeout=5)
    assert active.unplayed() == [("GET", app), ("GET", env)]


def test_assert_all_played_leaves_a_failing_block_its_own_error(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    info, _app, _env = record_three(cloud, path)

    def replay_then_fail() -> None:
        with cfreplay.use_cassette(path, assert_all_played=True):
            requests.get(info, timeout=5)
            raise KeyError("the test's own failure")

    with pytest.raises(KeyError):
        replay_then_fail()


def test_assert_all_played_does_not_judge_a_recording(cloud: FakeCloud, tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    info, _app, _env = record_three(cloud, path)
    fresh = FakeCloud()
    try:
        with cfreplay.use_cassette(path, record_mode="new_episodes", assert_all_played=True) as active:
            requests.get(info, timeout=5)
            requests.get(f"{fresh.base}/v2/info", timeout=5)
        assert not active.offline and len(active.unplayed()) == 3  # two old ones, one new: not judged
    finally:
        fresh.stop()


def test_assert_all_played_passes_what_it_lists_through_the_sanitizer(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    path = tmp_path / "foreign.yaml"
    document = yaml.safe_load(shipped.path("cfreplay:restage/201").read_bytes())
    second = yaml.safe_load(yaml.safe_dump(document["interactions"][0]))
    second["request"]["uri"] = f"{shipped.TARGET}/v2/info?access_token={secret}"
    document["interactions"].append(second)
    document.pop("metadata", None)
    path.write_text(yaml.safe_dump(document))  # not written by cfreplay: its secret is still there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cfreplay.SecretWarning)
        with (
            pytest.raises(cfreplay.UnplayedInteractions) as raised,
            cfreplay.use_cassette(path, assert_all_played=True),
        ):
            requests.post(RESTAGE, timeout=5)
    shown = str(raised.value) + repr(raised.value.unplayed)
    assert "1 of 2 recorded interactions were played, 1 never were" in shown
    assert f"  POST {shipped.TARGET}/v2/info?access_token=cfreplay-redacted-" in shown
    assert secret not in shown


# ----------------------------------------------------------------------------- several cassettes


def test_extra_cassettes_are_replayed_from_and_only_the_first_is_recorded_into(
    cloud: FakeCloud, tmp_path: Path, restage_copy: Path
) -> None:
    mine, shared = tmp_path / "mine.yaml", tmp_path / "shared.json"
    info, app = f"{cloud.base}/v2/info", f"{cloud.base}/v2/apps/{cloud.guid}"
    with cfreplay.use_cassette(mine, record_mode="once"):
        requests.get(info, timeout=5)
    with cfreplay.use_cassette(shared, record_mode="once"):
        requests.get(app, timeout=5)
    served = cloud.served
    shared_bytes = shared.read_bytes()

    missing = tmp_path / "missing.yaml"
    extras = [shared, restage_copy, missing]
    with cfreplay.use_cassette(mine, extra_cassettes=extras, assert_all_played=True) as active:
        assert active.offline and active.path == mine and active.extra_cassettes == tuple(extras)
        assert len(active) == 3  # one of each present cassette, the missing one skipped
        assert requests.get(app, timeout=5).status_code == 401  # from shared.json (no token was sent)
        assert requests.get(info, timeout=5).status_code == 200  # from mine.yaml
        assert requests.post(RESTAGE, timeout=5).status_code == 201  # from the shipped copy
    assert cloud.served == served
    assert [i["request"]["uri"] for i in interactions(mine)] == [info]  # replay wrote nothing

    # With only extras present, the replay reads them, and the clock freezes at the first one's moment.
    with cfreplay.use_cassette(tmp_path / "absent.yaml", extra_cassettes=[restage_copy]) as active:
        assert active.frozen and active.recorded_at == recorded_at(restage_copy)
        assert requests.post(RESTAGE, timeout=5).status_code == 201
    assert not (tmp_path / "absent.yaml").exists()

    # Recording, the extras are not read (they would be copied into the first): the request goes out,
    # and is recorded into the first cassette only.
    with cfreplay.use_cassette(mine, record_mode="new_episodes", extra_cassettes=[shared]) as active:
        assert not active.offline and active.extra_cassettes == ()
        assert requests.get(info, timeout=5).status_code == 200  # replayed from mine.yaml
        assert requests.get(app, timeout=5).status_code == 401  # live
    assert cloud.served == served + 1
    assert [i["request"]["uri"] for i in interactions(mine)] == [info, app]
    assert shared.read_bytes() == shared_bytes


# ----------------------------------------------------------------------------- sleeping in replay


def test_a_replayed_polling_loop_runs_at_full_speed_and_its_deadline_still_counts(restage_copy: Path) -> None:
    """time.sleep returns at once and moves the frozen clock by what was asked: a 30 s poll interval
    costs nothing, and a deadline from time.monotonic() expires after as many polls as when recorded."""
    import time

    real_sleep = time.sleep
    with cfreplay.use_cassette(restage_copy, allow_playback_repeats=True) as active:
        assert active.frozen and time.sleep is not real_sleep
        start_wall, start_mono = time.time(), time.monotonic()
        deadline = start_mono + 95
        polls = 0
        while time.monotonic() < deadline:
            assert requests.post(RESTAGE, timeout=5).status_code == 201
            polls += 1
            time.sleep(30)
        assert polls == 4  # at 0, 30, 60 and 90 s of recorded time
        assert time.time() - start_wall == pytest.approx(120, abs=0.5)
        assert time.monotonic() - start_mono == pytest.approx(120, abs=0.5)
    assert time.sleep is real_sleep  # put back when the cassette ends


def test_skip_sleep_false_keeps_the_real_sleep(restage_copy: Path) -> None:
    import time

    real_sleep = time.sleep
    with cfreplay.use_cassette(restage_copy, skip_sleep=False) as active:
        assert active.frozen and time.sleep is real_sleep
        before = time.time()
        time.sleep(0.01)
        assert time.time() - before < 5  # the frozen clock was not moved by 0.01 s of pretend


def test_a_recording_sleeps_for_real(cloud: FakeCloud, tmp_path: Path) -> None:
    import time

    real_sleep = time.sleep
    with cfreplay.use_cassette(tmp_path / "live.yaml", record_mode="once") as active:
        assert not active.frozen and time.sleep is real_sleep
        requests.get(f"{cloud.base}/v2/info", timeout=5)
