"""`cfreplay sanitize` and `cfreplay scan` as a user runs them: exit codes, output, files."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from cfreplay import cassette
from cfreplay.commands.cli import main


def leaky_cassette(token: str) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {
                    "body": None,
                    "headers": {"Authorization": [f"bearer {token}"]},
                    "method": "GET",
                    "uri": "https://api.sys.example.com/v2/apps",
                },
                "response": {
                    "body": {"string": '{"total_results": 0}'},
                    "headers": {"Content-Type": ["application/json;charset=utf-8"]},
                    "status": {"code": 200, "message": "OK"},
                },
            }
        ],
        "version": 1,
    }


def a_real_token() -> str:
    return jwt.encode({"sub": secrets.token_hex(8), "exp": 2_000_000_000}, secrets.token_hex(32), algorithm="HS256")


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Any]:
    token = a_real_token()
    leaky = tmp_path / "cassettes" / "leaky.yaml"
    clean = tmp_path / "cassettes" / "nested" / "clean.json"
    other = tmp_path / "cassettes" / "package.json"
    leaky.parent.mkdir()
    clean.parent.mkdir()
    leaky.write_bytes(cassette.dumps(leaky_cassette(token), "yaml"))
    clean.write_bytes(cassette.dumps(leaky_cassette("cfreplay-redacted-0123456789abcdef"), "json"))
    other.write_text('{"name": "not a cassette"}')
    return {"root": tmp_path / "cassettes", "leaky": leaky, "clean": clean, "token": token}


def test_sanitize_check_then_sanitize_then_scan(tree: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    leaky: Path = tree["leaky"]
    before = leaky.read_bytes()
    assert main(["sanitize", "--check", str(tree["root"])]) == 1
    out, err = capsys.readouterr()
    assert leaky.read_bytes() == before
    assert f"would sanitize {leaky}: 1 replacements in 1 interaction: jwt ×1" in out
    assert "3 files checked: 1 would change, 0 failed" in out
    assert tree["token"] not in out + err

    assert main(["scan", str(tree["root"])]) == 1
    out, _ = capsys.readouterr()
    assert f"{leaky}:" in out and "interaction 0 request.headers.Authorization: jwt (eyJ…)" in out
    assert tree["token"] not in out

    assert main(["sanitize", str(tree["root"])]) == 0
    out, _ = capsys.readouterr()
    assert f"sanitized {leaky}: 1 replacements in 1 interaction: jwt ×1" in out
    assert tree["token"] not in leaky.read_text()
    assert main(["sanitize", "--check", str(tree["root"])]) == 0
    capsys.readouterr()
    assert main(["scan", str(tree["root"])]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("no findings: ")


def test_scan_json_format(tree: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--format", "json", str(tree["leaky"])]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["files"] == 1
    assert document["errors"] == []
    [finding] = document["findings"]
    assert finding["rule"] == "jwt"
    assert finding["interaction"] == 0
    assert finding["path"] == str(tree["leaky"])
    assert tree["token"] not in json.dumps(document)


def test_bad_inputs_are_one_line_exit_2_and_the_rest_still_done(
    tree: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "cassettes" / "evil.yaml"
    marker = tmp_path / "ran"
    evil.write_text(f"interactions:\n- !!python/object/apply:os.system ['touch {marker}']\nversion: 1\n")
    broken = tmp_path / "cassettes" / "broken.yaml"
    broken.write_text("interactions: [\nversion: 1\n")
    before = {p: p.read_bytes() for p in (evil, broken)}
    assert main(["sanitize", str(tree["root"])]) == 2
    _, err = capsys.readouterr()
    assert tree["token"] not in tree["leaky"].read_text()  # the good one was still sanitized
    assert {p: p.read_bytes() for p in (evil, broken)} == before
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert all(line.startswith("cfreplay: error: ") for line in errors)
    assert any("evil.yaml: refused a dangerous !!python tag at line 2" in line for line in errors)
    assert any("broken.yaml: is not valid YAML" in line for line in errors)
    assert not marker.exists()
    assert main(["scan", str(evil)]) == 2
    _, err = capsys.readouterr()
    assert "refused a dangerous !!python tag" in err
    assert not marker.exists()


def test_explicit_non_cassette_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "x"}')
    assert main(["sanitize", str(other)]) == 2
    _, err = capsys.readouterr()
    assert err == f"cfreplay: error: {other}: is not a cassette (no top-level 'interactions' list)\n"
    assert main(["sanitize", str(tmp_path / "nope.yaml")]) == 2
    _, err = capsys.readouterr()
    assert err == f"cfreplay: error: {tmp_path / 'nope.yaml'}: no such cassette\n"
    assert main(["scan", str(tmp_path / "nope")]) == 2
    _, err = capsys.readouterr()
    assert err == f"cfreplay: error: no such file or directory: {tmp_path / 'nope'}\n"


def test_sanitize_reads_the_projects_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    value = secrets.token_urlsafe(16)
    data = leaky_cassette("cfreplay-redacted-0123456789abcdef")
    data["interactions"][0]["request"]["headers"]["X-Session"] = [value]
    path = tmp_path / "c.yaml"
    path.write_bytes(cassette.dumps(data, "yaml"))
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.cfreplay.sanitize]\nheaders = ["X-Session"]\n')
    assert main(["sanitize", "--config", str(config), str(path)]) == 0
    assert value not in path.read_text()
    capsys.readouterr()
    config.write_text("[tool.cfreplay.sanitize]\nheaders = 1\n")
    assert main(["sanitize", "--config", str(config), str(path)]) == 2
    assert capsys.readouterr().err == (
        f"cfreplay: error: {config}: [tool.cfreplay.sanitize] headers must be a list of strings\n"
    )


def test_a_real_subprocess_run(tree: dict[str, Any]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cfreplay", "scan", str(tree["root"])], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert tree["token"] not in result.stdout + result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "cfreplay", "sanitize", str(tree["root"])], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert tree["token"] not in tree["leaky"].read_text()
