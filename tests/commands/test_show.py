"""``show`` and ``diff``: golden output for small cassettes built at test time from seeded factories."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.cf.cfapi import SEED_API_VERSION
from cfreplay.commands.show import diff, show
from cfreplay.errors import CassetteError, CfreplayError
from cfreplay.hygiene.redaction import PLACEHOLDER_PREFIX
from cfreplay.types import Response

GUID = "6064d98a-95e6-400b-bc03-be65e6d59622"
API = "https://api.example.org"
NOW = datetime(2015, 11, 3, 0, 54, 16, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def placeholder(n: int) -> str:
    """What the sanitizer leaves in place of a token (built here, so no literal sits in this file)."""
    return f"{PLACEHOLDER_PREFIX}{n:016x}"


def headers(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def interaction(method: str, uri: str, request_headers: list[tuple[str, str]], body: Any, response: Response,
                extra: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:  # fmt: skip
    return {
        "request": {"method": method, "uri": uri, "headers": headers(request_headers), "body": body},
        "response": {
            "status": {"code": response.status, "message": response.reason},
            "headers": headers(response.headers + extra),
            "body": {"string": response.body.decode("utf-8", errors="surrogateescape")},
        },
    }


def recording(
    *,
    now: datetime = NOW,
    token: str | None = None,
    request_id: str = "req-1",
    cookie: int = 1,
    memory: int = 256,
    error: str = "AppNotFound",
    extra: int = 0,
) -> dict[str, Any]:
    """A restage and a failed GET, as a recorder would capture them at *now*."""
    auth = f"bearer {token or placeholder(42)}"
    # The documented era (pretty JSON) keeps these golden outputs as they were written.
    app = factories.app_envelope(seed=7, now=now, memory=memory, api_version=SEED_API_VERSION)
    restage = factories.restage_response(app, seed=7, now=now, request_id=request_id, api_version=SEED_API_VERSION)
    date = now.strftime("%a, %d %b %Y %H:%M:%S GMT")
    volatile = (
        ("Date", date),
        ("X-B3-Traceid", f"{cookie:032x}"),
        ("Set-Cookie", f"__VCAP_ID__={placeholder(cookie)}; Path=/; HttpOnly"),
    )
    detail = {"guid": GUID} if error == "AppNotFound" else {}
    failed = factories.error_response(error, seed=7, request_id=request_id, api_version=SEED_API_VERSION, **detail)
    interactions = [
        interaction("POST", f"{API}/v2/apps/{GUID}/restage", [("Authorization", auth)], None, restage, volatile),
        interaction("GET", f"{API}/v2/apps/{GUID}", [("Authorization", auth), ("Accept", "application/json")],
                    None, failed, (("Date", date),)),
    ]  # fmt: skip
    for i in range(extra):
        interactions.append(
            interaction(
                "GET", f"{API}/v2/info?n={i}", [], None, Response(200, (("Content-Type", "text/plain"),), b"ok")
            )
        )
    for one in interactions:
        one["response"]["recorded_at"] = cassette.stamp(now)
    return {"interactions": interactions, "version": 1}


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_bytes(cassette.dumps(data, "yaml" if name.endswith(".yaml") else "json"))
    return path


@pytest.fixture
def a(tmp_path: Path) -> Path:
    return write(tmp_path, "a.json", recording())


def test_show_table_text(a: Path) -> None:
    assert show(a) == (
        f"{a}: 2 interactions, recorded 2015-11-03T00:54:16Z\n"
        "#  METHOD  URL                                                                       STATUS  REQ  RESP\n"
        "0  POST    https://api.example.org/v2/apps/606…-95e6-400b-bc03-be65e6d59622/restage  201       0  1310\n"
        "1  GET     https://api.example.org/v2/apps/6064d98a-95e6-400b-bc03-be65e6d59622      404       0   140\n"
    )


def test_show_table_json(a: Path) -> None:
    summary = {"method": "GET", "uri": f"{API}/v2/apps/{GUID}", "request_bytes": 0}
    assert json.loads(show(a, fmt="json")) == {
        "path": str(a),
        "recorded_at": "2015-11-03T00:54:16Z",
        "count": 2,
        "interactions": [
            {**summary, "index": 0, "method": "POST", "uri": f"{API}/v2/apps/{GUID}/restage", "status": 201,
             "message": "Created", "response_bytes": 1310},
            {**summary, "index": 1, "status": 404, "message": "Not Found", "response_bytes": 140},
        ],
    }  # fmt: skip


def test_show_one_exchange_text(a: Path) -> None:
    assert show(a, index=1) == (
        f"{a}: interaction 1 of 2 (0-1)\n"
        "\n"
        f"GET {API}/v2/apps/{GUID}\n"
        f"Authorization: bearer {placeholder(42)}\n"
        "Accept: application/json\n"
        "\n"
        "(no body)\n"
        "\n"
        "404 Not Found\n"
        "Content-Type: application/json;charset=utf-8\n"
        "X-VCAP-Request-ID: req-1\n"
        "Content-Length: 140\n"
        "X-Content-Type-Options: nosniff\n"
        "Date: Tue, 03 Nov 2015 00:54:16 GMT\n"
        "\n"
        "{\n"
        '  "code": 100004,\n'
        f'  "description": "The app could not be found: {GUID}",\n'
        '  "error_code": "CF-AppNotFound"\n'
        "}\n"
    )


def test_show_one_exchange_json(a: Path) -> None:
    document = json.loads(show(a, index=1, fmt="json"))
    assert document["request"] == {
        "method": "GET",
        "uri": f"{API}/v2/apps/{GUID}",
        "headers": {"Authorization": [f"bearer {placeholder(42)}"], "Accept": ["application/json"]},
        "body": {"kind": "empty", "bytes": 0},
    }
    assert document["response"]["body"] == {
        "kind": "json",
        "bytes": 140,
        "value": {"code": 100004, "description": f"The app could not be found: {GUID}", "error_code": "CF-AppNotFound"},
    }
    assert (document["index"], document["count"], document["response"]["status"]) == (1, 2, 404)
    assert document["response"]["headers"]["Date"] == ["Tue, 03 Nov 2015 00:54:16 GMT"]


def test_show_form_text_and_binary_bodies(tmp_path: Path) -> None:
    binary = Response(200, (("Content-Type", "application/octet-stream"),), b"\x00\x01\xfe\xff")
    data = {
        "version": 1,
        "interactions": [
            interaction("PUT", f"{API}/v2/apps/{GUID}", [("Content-Type", "application/x-www-form-urlencoded")],
                        "name=my%20app&memory=512&empty=", binary),
            interaction("GET", f"{API}/healthz", [], None, Response(200, (), b"ok\nfine")),
        ],
    }  # fmt: skip
    data["interactions"][0]["response"]["body"]["string"] = binary.body
    path = write(tmp_path, "mixed.yaml", data)  # YAML: the binary body is stored as !!binary
    assert show(path, index=0).split("\n\n")[2:] == [
        "name=my app\nmemory=512\nempty=",
        "200 OK\nContent-Type: application/octet-stream",
        "<4 bytes of binary data>\n",
    ]
    assert show(path, index=1).endswith("200 OK\n\nok\nfine\n")
    # no metadata and no Date header: when it was recorded is not known
    assert show(path).splitlines()[0] == f"{path}: 2 interactions, recorded unknown"
    assert json.loads(show(path, index=0, fmt="json"))["request"]["body"] == {
        "kind": "form",
        "bytes": 31,
        "value": [["name", "my app"], ["memory", "512"], ["empty", ""]],
    }


def test_recorded_at_falls_back_to_the_first_date_header(tmp_path: Path) -> None:
    data = recording()
    for one in data["interactions"]:
        del one["response"]["recorded_at"]
    # The same reading replay freezes the clock at (cassette.recorded_at), in the same notation.
    assert show(write(tmp_path, "x.json", data)).splitlines()[0].endswith("recorded 2015-11-03T00:54:16Z")


def test_long_urls_keep_both_ends(tmp_path: Path) -> None:
    data = recording()
    data["interactions"][1]["request"]["uri"] = f"{API}/v2/apps?q=" + "x" * 200 + "&page=9"
    row = show(write(tmp_path, "x.json", data)).splitlines()[3]
    assert f"{API}/v2/apps?q=x" in row and "…" in row and "xx&page=9  404" in row


def test_index_out_of_range(a: Path) -> None:
    with pytest.raises(CfreplayError) as caught:
        show(a, index=7)
    assert str(caught.value) == f"{a}: no interaction 7; it has 2 (0-1)"
    with pytest.raises(CfreplayError, match="no interaction -1"):
        show(a, index=-1)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such cassette"):
        show(tmp_path / "nope.yaml")
    with pytest.raises(CassetteError, match="no such cassette"):
        diff(tmp_path / "nope.yaml", tmp_path / "nope.yaml")


def test_colour_only_when_asked(a: Path, tmp_path: Path) -> None:
    b = write(tmp_path, "b.json", recording(memory=1024))
    plain = [show(a), show(a, index=0), diff(a, b)[0]]
    painted = [show(a, color=True), show(a, index=0, color=True), diff(a, b, color=True)[0]]
    assert not any(ANSI.search(text) for text in plain)
    assert all(ANSI.search(text) for text in painted)
    assert [ANSI.sub("", text) for text in painted] == plain  # colour adds codes, never moves text
    assert (
        "\x1b[32m201\x1b[0m" in painted[0] and "\x1b[31m404\x1b[0m" in painted[0] and "\x1b[1mPOST\x1b[0m" in painted[0]
    )


def test_the_same_exchange_recorded_twice_has_no_differences(a: Path, tmp_path: Path) -> None:
    # Later, with a real-looking token instead of a placeholder, another request id and cookie:
    # every timestamp, Date, X-B3 header, cookie value and token differs, and none of that counts.
    again = recording(
        now=NOW + timedelta(days=3, hours=5),
        token=factories.access_token(seed=3),
        request_id="req-2",
        cookie=9,
    )
    again["interactions"][0]["request"]["headers"]["Authorization"] = [f"Bearer {factories.access_token(seed=4)}"]
    b = write(tmp_path, "b.yaml", again)
    assert cassette.load(a).data != cassette.load(b).data
    assert diff(a, b) == ("no differences (2 interactions compared; volatile fields ignored)\n", False)
    assert json.loads(diff(a, b, fmt="json")[0]) == {"equal": True, "added": [], "removed": [], "changed": []}


def test_a_real_change_is_reported_with_its_path(a: Path, tmp_path: Path) -> None:
    b = write(tmp_path, "b.json", recording(memory=1024, error="NotAuthorized", extra=1))
    output, differs = diff(a, b)
    assert differs
    assert output == (
        f"--- {a}\n"
        f"+++ {b}\n"
        f"~ a[0] b[0] POST {API}/v2/apps/{GUID}/restage\n"
        "  response.body entity.memory: 256 → 1024\n"
        f"~ a[1] b[1] GET {API}/v2/apps/{GUID}\n"
        "  response.status: 404 → 403\n"
        "  response.body code: 100004 → 10003\n"
        f'  response.body description: "The app could not be found: {GUID}" → '
        '"You are not authorized to perform the requested action"\n'
        '  response.body error_code: "CF-AppNotFound" → "CF-NotAuthorized"\n'
        f"+ b[2] GET {API}/v2/info?n=0 200\n"
        "1 added, 2 changed; 0 unchanged (volatile fields ignored)\n"
    )
    document = json.loads(diff(a, b, fmt="json")[0])
    assert document["equal"] is False and document["removed"] == [] and document["added"] == [2]
    assert document["changed"][0] == {
        "a": 0,
        "b": 0,
        "fields": [{"field": "response.body", "path": "entity.memory", "change": "changed", "a": 256, "b": 1024}],
    }
    assert [c["path"] or c["field"] for c in document["changed"][1]["fields"]] == [
        "response.status", "code", "description", "error_code",
    ]  # fmt: skip
    # the other way round, the extra interaction is removed
    reverse, _ = diff(b, a)
    assert f"- a[2] GET {API}/v2/info?n=0 200\n" in reverse
    assert "  response.body entity.memory: 1024 → 256\n" in reverse
    assert json.loads(diff(b, a, fmt="json")[0])["removed"] == [2]


def test_header_names_cookie_names_and_auth_scheme_still_count(a: Path, tmp_path: Path) -> None:
    data = recording()
    first = data["interactions"][0]
    first["request"]["headers"]["Authorization"] = [f"basic {placeholder(1)}"]
    first["response"]["headers"]["Set-Cookie"] = [f"JSESSIONID={placeholder(1)}; Path=/"]
    first["response"]["headers"]["X-Cf-Warnings"] = ["deprecated"]
    location = first["response"]["headers"].pop("Location")[0]
    output, differs = diff(a, write(tmp_path, "b.json", data))
    assert differs
    assert output.splitlines()[2:-1] == [
        f"~ a[0] b[0] POST {API}/v2/apps/{GUID}/restage",
        '  request.headers authorization: "bearer" → "basic"',
        f'  response.headers location: removed (was "{location}")',
        '  response.headers set-cookie: "__VCAP_ID__" → "JSESSIONID"',
        '  response.headers x-cf-warnings: added "deprecated"',
    ]


def test_piped_output_keeps_every_url_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a terminal a long URL is cut in the middle; piped (to grep, say) it is printed whole."""
    from cfreplay.commands.cli import main

    data = recording()
    long_uri = f"{API}/v2/apps?q=" + "x" * 200 + "&page=9"
    data["interactions"][1]["request"]["uri"] = long_uri
    path = write(tmp_path, "x.json", data)
    assert "…" not in show(path, cut_urls=False)
    assert main(["show", str(path)]) == 0  # capsys: stdout is not a terminal
    out = capsys.readouterr().out
    assert long_uri in out and f"{API}/v2/apps/{GUID}/restage" in out and "…" not in out


@pytest.mark.parametrize("depth", [300, 5000])
def test_a_body_nested_past_any_cassette_is_shown_and_compared_as_text(tmp_path: Path, depth: int) -> None:
    """Deep JSON (a hostile or broken body) neither overflows the stack nor stops show and diff."""
    data = recording()
    data["interactions"][1]["response"]["body"]["string"] = "[" * depth + "]" * depth
    a = write(tmp_path, "a.json", data)
    data["interactions"][1]["response"]["body"]["string"] = "[" * depth + "1" + "]" * depth
    b = write(tmp_path, "b.json", data)
    assert "[[[[" in show(a, index=1)
    output, differs = diff(a, b)
    assert differs and "response.body: text" in output
    assert json.loads(diff(a, b, fmt="json")[0])["changed"][0]["b"] == 1
