"""The command line, called as main(argv) and once as a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import cfreplay
from cfreplay.cf import factories, tokens
from cfreplay.commands.cli import main


def run(capsys: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err.decode() if isinstance(err, bytes) else err


@pytest.fixture
def capbin(capsysbinary: pytest.CaptureFixture[bytes]) -> pytest.CaptureFixture[bytes]:
    return capsysbinary


def test_fake_app_prints_the_wire_json(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capbin, "fake", "app", "--seed", "7", "--set", "memory=512", "--set", "command=null")
    assert (code, err) == (0, "")
    app = json.loads(out)
    assert app == factories.app_envelope(seed=7, memory=512, command=None)  # one default era for both
    assert out.startswith(b'{"metadata":')  # the default era (2.293) writes compact JSON
    cfreplay.validate(app)
    code, out, _ = run(capbin, "fake", "app", "--api-version", "2.43")
    assert code == 0 and out.startswith(b'{\n  "metadata"')  # the documented era pretty-prints


def test_fake_app_in_a_compact_era_with_traits(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "app", "--api-version", "2.293", "--trait", "docker", "--trait", "stopped")
    app = json.loads(out)
    assert code == 0 and out.startswith(b'{"metadata":')
    assert app["entity"]["docker_image"] and app["entity"]["state"] == "STOPPED"
    cfreplay.validate(app, "2.293")


def test_fake_restage_prints_an_http_response(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "restage", "--seed", "42")
    assert code == 0
    assert out == factories.restage_response(seed=42).to_http()
    head, _, body = out.partition(b"\r\n\r\n")
    length = re.search(rb"\r\nContent-Length: (\d+)\r\n", head + b"\r\n")
    assert length is not None and int(length.group(1)) == len(body)  # piped bytes agree with the header
    assert out.startswith(b"HTTP/1.1 201 Created\r\nContent-Type: application/json;charset=utf-8\r\n")


def test_fake_error_with_detail(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "error", "CF-AppNotFound", "--set", "guid=1234")
    head, _, body = out.partition(b"\r\n\r\n")
    assert code == 0 and head.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert json.loads(body)["description"] == "The app could not be found: 1234"


def test_fake_list_info_token(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "list", "--set", "name=api", "--seed", "1")
    assert code == 0 and {r["entity"]["name"] for r in json.loads(out)["resources"]} == {"api"}
    code, out, _ = run(capbin, "fake", "info", "--api-version", "2.293")
    assert code == 0 and json.loads(out)["api_version"] == "2.293.0"
    code, out, _ = run(capbin, "fake", "token", "--set", "grant_type=client_credentials", "--set", "scopes=uaa.none")
    body = json.loads(out)
    assert code == 0 and tokens.is_test_token(body["access_token"]) and body["scope"] == "uaa.none"


def test_now_sets_the_clock(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "token", "--now", "2030-01-01T00:00:00Z")
    claims = tokens.decode_unverified(json.loads(out)["access_token"])[1]
    assert code == 0 and claims["iat"] == 1893456000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["fake", "error", "AppNotFund"],
            "cfreplay: error: unknown error 'AppNotFund'; did you mean 'AppNotFound', 'NotFound', 'SpaceNotFound'?",
        ),
        (
            ["fake", "app", "--set", "memory=lots"],
            "cfreplay: error: entity.memory: expected integer, got string 'lots' (API 2.293.0)",
        ),
        (["fake", "app", "--set", "memory"], "cfreplay: error: --set expects FIELD=VALUE, got 'memory'"),
        (
            ["fake", "app", "--api-version", "3.1"],
            "cfreplay: error: API version '3.1' is not a v2 version; cfreplay models the v2 API (2.N.P)",
        ),
        (
            ["fake", "error"],
            "cfreplay: error: 'fake error' needs an error NAME, e.g. 'cfreplay fake error AppNotFound'",
        ),
        (["fake", "info", "--trait", "docker"], "cfreplay: error: --trait applies to app, restage and list, not info"),
        (["fake", "app", "NAME"], "cfreplay: error: 'fake app' takes no NAME (got 'NAME')"),
        (
            ["fake", "token", "--set", "color=red"],
            "cfreplay: error: color: not a token option; options: grant_type, username, client_id, scopes, "
            "expires_in, opaque, system_domain (API 2.293.0)",
        ),
        (
            ["fake", "app", "--now", "yesterday"],
            "cfreplay: error: --now expects an ISO-8601 instant like 2015-11-03T00:54:16Z or 'wall', got 'yesterday'",
        ),
        (
            ["fake", "pod"],
            "cfreplay: error: argument kind: invalid choice: 'pod' (choose from 'app', 'restage', "
            "'error', 'list', 'info', 'token') (see 'cfreplay fake --help')",
        ),
        ([], "cfreplay: error: the following arguments are required: command (see 'cfreplay --help')"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capbin: pytest.CaptureFixture[bytes], argv: list[str], message: str) -> None:
    code, out, err = run(capbin, *argv)
    assert code == 2
    assert out == b""
    assert err == message + "\n"


def test_help_exits_zero(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capbin, "fake", "--help")
    assert code == 0 and b"--api-version" in out


def test_python_dash_m_in_a_real_subprocess() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "cfreplay", "fake", "restage", "--seed", "42"], capture_output=True, check=False
    )
    assert ok.returncode == 0
    assert ok.stdout == factories.restage_response(seed=42).to_http()
    bad = subprocess.run(
        [sys.executable, "-m", "cfreplay", "fake", "error", "Nope"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("cfreplay: error: unknown error 'Nope'")


def test_version_names_cfreplay_and_its_engines(capbin: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capbin, "--version")
    assert (code, err) == (0, "")
    line = out.decode()
    assert line.startswith(f"cfreplay {cfreplay.__version__} (vcrpy ") and line.endswith(")\n")
    for engine in ("vcrpy", "freezegun", "faker", "pytest", "Python"):
        assert f"{engine} " in line
