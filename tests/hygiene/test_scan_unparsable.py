"""``cfreplay scan`` of a cassette that does not parse: scanned as text, its proof incomplete.

A cassette cut short (a crash mid-write, a full disk) or hand-edited into invalid YAML or
JSON is still read by the signal pass, and what it finds is reported.  But the parser is
what decodes the bodies raw text cannot settle, so the scan says, in one line on stderr,
that the file does not parse and secrets in encoded bodies would not be seen; it exits 2
unless it found something (findings exit 1).  A cut file never exits 0.

Every secret is made at test time (``secrets``) and every cassette is written with
``cassette.dumps``, then cut.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfreplay import cassette
from cfreplay.commands.cli import main
from cfreplay.errors import CassetteError
from cfreplay.hygiene.scanner import scan_file, scan_paths, scan_text

API = "https://api.sys.example.com"
WARNING_END = "; scanned as text only: secrets in encoded bodies would not be seen"


# --------------------------------------------------------------------------- cassettes to cut


def exchange(
    *,
    uri: str = f"{API}/v2/apps",
    request_headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
    body: str | bytes = "",
) -> dict[str, Any]:
    """One interaction in vcrpy's dict shape (header values are lists)."""
    return {
        "request": {
            "body": None,
            "headers": {name: [value] for name, value in (request_headers or {}).items()},
            "method": "GET",
            "uri": uri,
        },
        "response": {
            "body": {"string": body},
            "headers": {name: [value] for name, value in (response_headers or {}).items()},
            "status": {"code": 200, "message": "OK"},
        },
    }


def harmless(index: int) -> dict[str, Any]:
    body = json.dumps({"metadata": {"guid": f"app-{index}"}, "entity": {"name": f"app-{index}"}}, indent=2)
    return exchange(uri=f"{API}/v2/apps/app-{index}", response_headers={"Content-Type": "application/json"}, body=body)


def foreign_jwt() -> str:
    """A token signed with a key nobody published: a secret to the scanner."""
    return jwt.encode({"sub": secrets.token_hex(8), "iat": 1}, secrets.token_hex(32), algorithm="HS256")


def bearer_token() -> str:
    """A bearer token that reads as one anywhere: with a digit.

    In a cut file the header's array may be left open, and the scanner then reads the
    value as text, where a bearer credential must hold a digit (prose says "bearer
    tokens").  A token_urlsafe(24) has none about one time in 250.
    """
    return secrets.token_urlsafe(24) + str(secrets.randbelow(10))


def with_bearer(token: str) -> dict[str, Any]:
    return exchange(request_headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


def hidden_in_a_body(fmt: cassette.Format) -> dict[str, Any]:
    """A secret only a decoding shows: a gzip ``!!binary`` body (YAML), a JSON-escaped one (JSON)."""
    if fmt == "yaml":
        payload = gzip.compress(json.dumps({"access_token": foreign_jwt()}).encode())
        return exchange(response_headers={"Content-Encoding": "gzip"}, body=payload)
    return exchange(body=json.dumps({"note": "\\u0065" + foreign_jwt()[1:]}))


def dump(interactions: Sequence[dict[str, Any]], fmt: cassette.Format) -> str:
    return cassette.dumps({"interactions": list(interactions), "version": 1}, fmt).decode("utf-8")


def loads(text: str) -> bool:
    """The oracle: whether cfreplay's loader reads *text* as a cassette."""
    try:
        cassette.loads(text, format="json" if text.startswith("{") else "yaml")
    except CassetteError:
        return False
    return True


def run(argv: list[str]) -> tuple[int, str, str]:
    """``cfreplay`` with the built-in rules: exit code, stdout, stderr (no pytest fixture: hypothesis calls it)."""
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder, "pyproject.toml")
        config.write_text("")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--config", str(config)])
    return code, out.getvalue(), err.getvalue()


def warning_reason(line: str, path: Path) -> str:
    """The parser's reason in a warning line, after checking the line's shape."""
    opening = f"cfreplay: warning: {path}: does not parse as a cassette ("
    assert line.startswith(opening) and line.endswith(")" + WARNING_END), line
    return line[len(opening) : -len(")" + WARNING_END)]


# --------------------------------------------------------------------------- the property


@given(fmt=st.sampled_from(["yaml", "json"]), where=st.integers(0, 10_000))
def test_a_cut_cassette_is_never_clean(fmt: cassette.Format, where: int) -> None:
    """Cut anywhere past its first key: the token is reported if it survived, the cut always if it does not parse."""
    token = bearer_token()
    text = dump([with_bearer(token), hidden_in_a_body(fmt), harmless(1)], fmt)
    # A cut inside the "interactions" key leaves a fragment of one word: no cassette, nothing to hide.
    lowest = text.index("interactions") + len("interactions")
    cut = text[: lowest + (len(text) - lowest) * where // 10_000]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"cut.{fmt}")
        path.write_text(cut)
        code, out, err = run(["scan", str(path)])
    found = not out.splitlines()[-1].startswith("no findings")
    if token in cut:
        assert found and "request.headers.Authorization: authorization (" in out
    if loads(cut):
        assert err == "" and code == 1
    else:
        [line] = err.splitlines()
        assert warning_reason(line, path)
        assert code == (1 if found else 2)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_every_cut_at_a_line_break_is_reported(tmp_path: Path, fmt: cassette.Format) -> None:
    """Line breaks are where a cut file looks most like a whole one (the layout check passes)."""
    token = bearer_token()
    text = dump([with_bearer(token), hidden_in_a_body(fmt), harmless(1), harmless(2)], fmt)
    path = tmp_path / f"cut.{fmt}"
    breaks = [i + 1 for i, char in enumerate(text) if char == "\n" and i + 1 < len(text)]
    assert len(breaks) > 40
    for cut in breaks[1:]:
        path.write_text(text[:cut])
        result = scan_paths([path])
        assert result.errors == []
        assert [Path(error.path) for error in result.incomplete] == [path], cut
        assert ("authorization" in {f.rule for f in result.findings}) == (token in text[:cut]), cut


# --------------------------------------------------------------------------- the command line


def in_the_last_body(text: str) -> str:
    """*text* cut inside the last interaction's body (a quoted string, in YAML and JSON alike)."""
    return text[: text.rindex("app-")]


def test_a_clean_cut_cassette_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.yaml"
    path.write_text(in_the_last_body(dump([harmless(1), harmless(2)], "yaml")))
    code, out, err = run(["scan", str(path)])
    assert code == 2
    assert out == "no findings: 1 file scanned (0.0 MB)\n"
    [line] = err.splitlines()
    reason = warning_reason(line, path)
    assert reason.startswith("is not valid YAML: ") and " at line " in reason


def test_findings_win_and_the_warning_still_shows(tmp_path: Path) -> None:
    token = bearer_token()
    text = dump([harmless(1), with_bearer(token), harmless(2)], "json")
    path = tmp_path / "cut.json"
    path.write_text(text[: text.index("app-2")])
    code, out, err = run(["scan", str(path)])
    assert code == 1
    assert f"{path}:" in out and "interaction 1 request.headers.Authorization: authorization (" in out
    assert token not in out + err
    [line] = err.splitlines()
    assert warning_reason(line, path).startswith("is not valid JSON: ")


def test_json_format_lists_the_incomplete_files(tmp_path: Path) -> None:
    whole = tmp_path / "whole.yaml"
    whole.write_text(dump([harmless(1)], "yaml"))
    cut = tmp_path / "cut.yaml"
    cut.write_text(in_the_last_body(dump([harmless(1), harmless(2)], "yaml")))
    code, out, err = run(["scan", "--format", "json", str(tmp_path)])
    document = json.loads(out)
    assert code == 2 and err == ""
    assert document["findings"] == [] and document["errors"] == []
    [entry] = document["incomplete"]
    assert entry["path"] == str(cut) and entry["message"].startswith(f"{cut}: is not valid YAML: ")
    assert document["files"] == 2

    secret = tmp_path / "secret.yaml"
    secret.write_text(dump([with_bearer(secrets.token_urlsafe(24))], "yaml"))
    code, out, _ = run(["scan", "--format", "json", str(tmp_path)])
    document = json.loads(out)
    assert code == 1 and [f["path"] for f in document["findings"]] == [str(secret)]
    assert [entry["path"] for entry in document["incomplete"]] == [str(cut)]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_whole_cassette_exits_0_without_a_word(tmp_path: Path, fmt: cassette.Format) -> None:
    path = tmp_path / f"whole.{fmt}"
    path.write_text(dump([harmless(1), harmless(2)], fmt))
    assert run(["scan", str(path)]) == (0, "no findings: 1 file scanned (0.0 MB)\n", "")
    code, out, err = run(["scan", "--format", "json", str(path)])
    assert (code, err, json.loads(out)["incomplete"]) == (0, "", [])


# --------------------------------------------------------------------------- secrets in encoded bodies


@pytest.mark.parametrize("coding", ["gzip", "none"])
def test_a_secret_in_a_binary_body_is_never_missed_silently(tmp_path: Path, coding: str) -> None:
    """Cut inside the ``!!binary`` block: incomplete, exit 2.  Cut after it: the secret is found, exit 1."""
    raw = json.dumps({"access_token": foreign_jwt()}).encode() + b"\xff"  # not UTF-8: vcrpy writes !!binary
    if coding == "gzip":
        raw = gzip.compress(raw)
    headers = {"Content-Encoding": "gzip"} if coding == "gzip" else {}
    text = dump([harmless(1), exchange(response_headers=headers, body=raw), harmless(2)], "yaml")
    block = text.index("!!binary")
    after = text.index("\n    headers:", block)
    path = tmp_path / "cut.yaml"

    path.write_text(text[: block + (after - block) // 2])
    code, out, err = run(["scan", str(path)])
    [line] = err.splitlines()
    assert warning_reason(line, path)
    if coding == "gzip":  # half a gzip stream does not inflate: only the parser could have read it
        assert code == 2 and out.startswith("no findings")
    else:  # half the base64 of plain bytes may still decode far enough to show the token
        assert code != 0

    path.write_text(text[: text.index("app-2")])
    code, out, err = run(["scan", str(path)])
    label = "gzip" if coding == "gzip" else "binary"
    assert code == 1 and f"interaction 1 response.body ({label}): jwt (eyJ…)" in out
    assert len(err.splitlines()) == 1


def test_a_binary_body_that_is_no_base64_is_incomplete_in_a_whole_file(tmp_path: Path) -> None:
    """The signal pass cannot decode it and the parser refuses it: never clean, as before this was."""
    raw = gzip.compress(json.dumps({"access_token": foreign_jwt(), "pad": secrets.token_hex(600)}).encode())
    text = dump([exchange(response_headers={"Content-Encoding": "gzip"}, body=raw), harmless(1)], "yaml")
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if "!!binary" in line) + 1
    lines[first] = lines[first][:-1]  # one base64 character short
    path = tmp_path / "mangled.yaml"
    path.write_text("\n".join(lines))
    assert not loads(path.read_text())
    result = scan_paths([path])
    assert result.errors == [] and [error.path for error in result.incomplete] == [str(path)]
    assert "failed to decode base64" in result.incomplete[0].reason
    assert run(["scan", str(path)])[0] == 2


# --------------------------------------------------------------------------- the Python API, and what stays an error


def test_scan_text_and_scan_file_raise_for_a_cut_cassette(tmp_path: Path) -> None:
    """A caller that asks for a proof (record, the write path) gets none: the error names the file and why."""
    text = dump([with_bearer(secrets.token_urlsafe(24)), harmless(1)], "yaml")
    cut = text[: text.index("version: 1")]  # at a line break: laid out as vcrpy writes it, up to the end
    with pytest.raises(CassetteError, match="format version None") as raised:
        scan_text(cut, path="cut.yaml")
    assert raised.value.path == "cut.yaml"
    path = tmp_path / "cut.yaml"
    path.write_text(cut)
    with pytest.raises(CassetteError):
        scan_file(path)
    result = scan_paths([path])
    assert [(f.interaction, f.rule) for f in result.findings] == [(0, "authorization")]
    assert result.errors == [] and result.files == 1 and result.bytes == len(cut)


def test_a_python_tag_is_never_clean_whole_or_cut(tmp_path: Path) -> None:
    """Refused as before where the YAML is whole enough to see the tag; incomplete where it is not."""
    text = dump([harmless(1), harmless(2)], "yaml").replace("method: GET", "method: !!python/object/apply:os.system", 1)
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(text[: text.index("version: 1")])  # cut at a line break: still YAML
    result = scan_paths([tagged])
    assert [error.path for error in result.errors] == [str(tagged)] and result.incomplete == []
    code, _, err = run(["scan", str(tagged)])
    line = text[: text.index("!!python")].count("\n") + 1
    assert code == 2 and err == f"cfreplay: error: {tagged}: refused a dangerous !!python tag at line {line}; " + (
        "cassettes hold plain data only (nothing was run)\n"
    )

    tagged.write_text(in_the_last_body(text))
    result = scan_paths([tagged])
    assert result.errors == [] and [error.path for error in result.incomplete] == [str(tagged)]
    assert run(["scan", str(tagged)])[0] == 2


def test_a_cut_inside_the_binary_tag_is_incomplete_not_dangerous(tmp_path: Path) -> None:
    """``!!bi`` is a tag no loader builds: where a cut made it, the file is incomplete, not refused."""
    token = bearer_token()
    raw = gzip.compress(secrets.token_bytes(64))
    text = dump([with_bearer(token), exchange(response_headers={"Content-Encoding": "gzip"}, body=raw)], "yaml")
    path = tmp_path / "cut.yaml"
    for end in range(len("!"), len("!!binary") + 1):
        path.write_text(text[: text.index("!!binary") + end])
        result = scan_paths([path])
        assert result.errors == [] and len(result.incomplete) == 1, end
        assert [f.rule for f in result.findings] == ["authorization"], end


def test_a_yaml_file_that_is_no_cassette_is_not_checked(tmp_path: Path) -> None:
    """Without ``interactions`` a file is plain text (a template, a config): its scan never needed a parser."""
    (tmp_path / "template.yaml").write_text("name: {{ app_name }}\nroutes: [\n")
    (tmp_path / "fixture.json").write_text('{"apps": [')
    assert run(["scan", str(tmp_path)]) == (0, "no findings: 2 files scanned (0.0 MB)\n", "")


def test_a_parallel_scan_reports_errors_and_incomplete_files(tmp_path: Path) -> None:
    """Several megabytes in several files go to worker processes: what they report crosses back intact."""
    (tmp_path / "big.txt").write_text("nothing to see here\n" * 250_000)
    (tmp_path / "tagged.yaml").write_text("interactions:\n- request: !!python/object/apply:os.system ['true']\n")
    cut = tmp_path / "cut.json"
    cut.write_text(dump([with_bearer(secrets.token_urlsafe(24)), harmless(1)], "json")[:-30])
    result = scan_paths([tmp_path], workers=2)
    assert [Path(error.path).name for error in result.errors] == ["tagged.yaml"]
    assert "dangerous !!python tag" in result.errors[0].reason
    assert [error.path for error in result.incomplete] == [str(cut)]
    assert result.incomplete[0].reason.startswith("is not valid JSON: ")
    assert [(Path(f.path).name, f.rule) for f in result.findings] == [("cut.json", "authorization")]
    assert result.files == 2


def test_neither_the_warning_nor_a_finding_quotes_the_secret(tmp_path: Path) -> None:
    """The warning and the findings never quote the secret (nor its base64)."""
    token = bearer_token()
    text = dump([with_bearer(token)], "yaml")
    path = tmp_path / "cut.yaml"
    path.write_text(text[: text.index(token) + len(token) + 1])
    code, out, err = run(["scan", str(path)])
    assert code == 1
    for shown in (token, base64.b64encode(token.encode()).decode()):
        assert shown not in out and shown not in err


def test_a_parallel_scan_uses_the_projects_own_rules(tmp_path: Path) -> None:
    """Workers scan with the table they were given (a project's headers), not the built-in one."""
    from cfreplay.hygiene.rules import RuleTable, SanitizeConfig

    ticket = secrets.token_hex(16)
    filler = [harmless(i) for i in range(6000)]  # several megabytes: the scan goes to workers
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(dump(filler, "yaml"))
    tagged = cassette.loads((tmp_path / "a.yaml").read_text(), path="a.yaml").data
    tagged["interactions"][7]["request"]["headers"]["X-Tenant-Ticket"] = [ticket]
    (tmp_path / "a.yaml").write_bytes(cassette.dumps(tagged, "yaml"))
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) > 4 * 1024 * 1024
    table = RuleTable(SanitizeConfig(headers=("X-Tenant-Ticket",)))
    parallel = scan_paths([tmp_path], table=table, workers=2)
    assert [(Path(f.path).name, f.interaction, f.rule) for f in parallel.findings] == [("a.yaml", 7, "secret-header")]
    assert parallel.findings == scan_paths([tmp_path], table=table, workers=1).findings
    assert scan_paths([tmp_path], workers=2).findings == []  # the built-in table knows no such header
