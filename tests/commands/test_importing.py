"""Importing captured traffic: HAR files (Chrome devtools, mitmproxy) and the three cf CLI trace formats.

Every fixture is built here at test time; the secrets in it are random, so this
file holds none.  Each source is parsed, sanitized, scanned and replayed.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import secrets
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

import cfreplay
from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.commands.importing import detect_format, import_files, parse_cf_trace, parse_har
from cfreplay.errors import TrafficFormatError
from cfreplay.hygiene import scanner
from cfreplay.hygiene.sanitizer import Sanitizer

HOST = "api.sys.example.test"
UAA = "login.sys.example.test"
RESTAGE = factories.restage_response(seed=7)
GUID = RESTAGE.json()["metadata"]["guid"]
RESTAGE_PATH = f"/v2/apps/{GUID}/restage"
RESTAGE_URL = f"https://{HOST}{RESTAGE_PATH}"
HIDDEN = "[PRIVATE DATA HIDDEN]"
LEGACY_AGENT = "go-cli 6.40.1+85b2d8a.2018-10-18 / linux"
COLOUR = "\x1b[1;35m{}\x1b[0m"


def real_jwt() -> str:
    """A JWT signed with a key nobody publishes: to the sanitizer and scanner, a captured secret."""
    claims = {"jti": secrets.token_hex(16), "user_name": "dev@corp.example", "scope": ["cloud_controller.read"]}
    return jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")


def restage_response_headers(body: str) -> dict[str, list[str]]:
    """The factory's headers as an import keeps them: Content-Length counts the body as traced."""
    headers = {name: [value] for name, value in RESTAGE.headers}
    headers["Content-Length"] = [str(len(body.encode()))]
    return headers


def restage_interaction(request_headers: dict[str, list[str]], body: str) -> dict[str, Any]:
    return {
        "request": {"body": None, "headers": request_headers, "method": "POST", "uri": RESTAGE_URL},
        "response": {
            "body": {"string": body},
            "headers": restage_response_headers(body),
            "status": {"code": 201, "message": "Created"},
        },
    }


LEGACY_REQUEST_HEADERS = {
    "Host": [HOST],
    "Accept": ["application/json"],
    "Authorization": [HIDDEN],
    "Content-Type": ["application/json"],
    "User-Agent": [LEGACY_AGENT],
}


# --- cf CLI trace fixtures -----------------------------------------------------------------


def legacy_block(marker: str, stamp: str, head: list[str], body: str) -> str:
    """Format A/B framing: the logger's LF lines around a CRLF httputil dump (headers, blank, body)."""
    return f"\n{COLOUR.format(marker)} [{stamp}]\n" + "\r\n".join(head) + "\r\n\r\n" + body + "\n"


def legacy_trace(*, joined_host: bool) -> tuple[str, dict[str, str]]:
    """A legacy `cf restage` (a UAA refresh first, with its refresh token unredacted), with output between."""
    refresh, cookie = secrets.token_urlsafe(32), secrets.token_hex(16)
    form = f"grant_type=refresh_token&refresh_token={refresh}&scope="
    host_lines = (
        [f"Host: {UAA}Accept: application/json"] if joined_host else [f"Host: {UAA}", "Accept: application/json"]
    )
    uaa_request = ["POST /oauth/token HTTP/1.1", *host_lines, f"Authorization: {HIDDEN}"]
    uaa_request += ["Content-Type: application/x-www-form-urlencoded", f"User-Agent: {LEGACY_AGENT}"]
    uaa_body = json.dumps({"access_token": HIDDEN, "expires_in": 599, "scope": "cloud_controller.read"}, indent=3)
    uaa_response = ["HTTP/1.1 200 OK", "Content-Type: application/json;charset=UTF-8"]
    uaa_response += [f"Set-Cookie: JSESSIONID={cookie}; Path=/; Secure; HttpOnly"]
    host_lines = (
        [f"Host: {HOST}Accept: application/json"] if joined_host else [f"Host: {HOST}", "Accept: application/json"]
    )
    cc_request = ["POST " + RESTAGE_PATH + " HTTP/1.1", *host_lines, f"Authorization: {HIDDEN}"]
    cc_request += ["Content-Type: application/json", f"User-Agent: {LEGACY_AGENT}"]
    cc_response = ["HTTP/1.1 201 Created", *sorted(f"{n}: {v}" for n, v in RESTAGE.headers)]
    text = (
        "Restaging app billing-api in org acme / space dev as dev@corp.example...\n"
        + legacy_block("REQUEST:", "2018-11-05T09:12:43+01:00", uaa_request, form)
        + legacy_block("RESPONSE:", "2018-11-05T09:12:43+01:00", uaa_response, uaa_body)
        + "\nStaging app and tracing logs...\n"
        + legacy_block("REQUEST:", "2018-11-05T09:12:44+01:00", cc_request, "")
        + legacy_block("RESPONSE:", "2018-11-05T09:12:45+01:00", cc_response, RESTAGE.body.decode())
        + "\nOK\n"
    )
    return text, {"refresh": refresh, "cookie": cookie}


def legacy_expected(secret: dict[str, str]) -> list[dict[str, Any]]:
    uaa_body = json.dumps({"access_token": HIDDEN, "expires_in": 599, "scope": "cloud_controller.read"}, indent=3)
    uaa = {
        "request": {
            "body": f"grant_type=refresh_token&refresh_token={secret['refresh']}&scope=",
            "headers": {**LEGACY_REQUEST_HEADERS, "Host": [UAA], "Content-Type": ["application/x-www-form-urlencoded"]},
            "method": "POST",
            "uri": f"https://{UAA}/oauth/token",
        },
        "response": {
            "body": {"string": uaa_body},
            "headers": {
                "Content-Type": ["application/json;charset=UTF-8"],
                "Set-Cookie": [f"JSESSIONID={secret['cookie']}; Path=/; Secure; HttpOnly"],
            },
            "status": {"code": 200, "message": "OK"},
        },
    }
    return [uaa, restage_interaction(LEGACY_REQUEST_HEADERS, RESTAGE.body.decode())]


def current_block(marker: str, stamp: str, head: list[str], body: str) -> str:
    """Format C: sorted headers, the body straight after them, one blank line to end the block."""
    return f"{marker} [{stamp}]\n" + "\n".join(head) + "\n" + (body + "\n" if body else "") + "\n"


def go_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


TRACE_ID = "4f0b5c2e9d1a7e3b"
CURRENT_AGENT = "cf/8.9.0+a1b2c3d.2024-11-20 (go1.23.3; amd64 linux)"


def current_trace() -> tuple[str, dict[str, str]]:
    """`cf restage`-like traffic in today's format: a UAA token call, a CC form call, the restage."""
    password = secrets.token_urlsafe(18)
    token_body = go_json(
        {"access_token": HIDDEN, "expires_in": 599, "jti": "b1e5", "scope": "openid", "token_type": HIDDEN}
    )
    common = [f"User-Agent: {CURRENT_AGENT}", "X-B3-Spanid: 1a2b3c4d5e6f7a8b", f"X-B3-Traceid: {TRACE_ID}"]
    form = f"name=broker&password={password}&username=admin"
    blocks = [
        (
            "REQUEST:",
            [
                "POST /oauth/token HTTP/1.1",
                f"Host: {UAA}",
                "Accept: application/json",
                f"Authorization: {HIDDEN}",
                "Content-Type: application/x-www-form-urlencoded",
                *common,
            ],
            HIDDEN,
        ),
        ("RESPONSE:", ["HTTP/1.1 200 OK", "Content-Type: application/json;charset=UTF-8"], token_body),
        (
            "REQUEST:",
            [
                "POST /v2/service_brokers HTTP/1.1",
                f"Host: {HOST}",
                "Accept: application/json",
                f"Authorization: {HIDDEN}",
                "Content-Type: application/x-www-form-urlencoded",
                *common,
            ],
            f"[application/x-www-form-urlencoded {form}]",
        ),
        ("RESPONSE:", ["HTTP/1.1 204 No Content", "X-Vcap-Request-Id: 0b6e7d52"], ""),
        (
            "REQUEST:",
            [
                f"POST {RESTAGE_PATH} HTTP/1.1",
                f"Host: {HOST}",
                "Accept: application/json",
                f"Authorization: {HIDDEN}",
                "Content-Type: application/json",
                *common,
            ],
            "",
        ),
        (
            "RESPONSE:",
            ["HTTP/1.1 201 Created", *sorted(f"{n}: {v}" for n, v in RESTAGE.headers)],
            go_json(RESTAGE.json()),
        ),
    ]
    text = ""
    for number, (marker, head, body) in enumerate(blocks):
        text += current_block(COLOUR.format(marker), f"2024-12-02T16:04:0{number}Z", head, body)
        if number == 1:
            text += "Getting apps in org acme / space dev as dev@corp.example...\n"
    return text.replace("\n", "\r\n"), {"password": password}


def current_expected(secret: dict[str, str]) -> list[dict[str, Any]]:
    common = {"User-Agent": [CURRENT_AGENT], "X-B3-Spanid": ["1a2b3c4d5e6f7a8b"], "X-B3-Traceid": [TRACE_ID]}
    base = {"Accept": ["application/json"], "Authorization": [HIDDEN]}
    form_type = {"Content-Type": ["application/x-www-form-urlencoded"]}
    token_body = go_json(
        {"access_token": HIDDEN, "expires_in": 599, "jti": "b1e5", "scope": "openid", "token_type": HIDDEN}
    )
    restage_headers = {"Host": [HOST], **base, "Content-Type": ["application/json"], **common}
    return [
        {
            "request": {
                "body": HIDDEN,
                "headers": {"Host": [UAA], **base, **form_type, **common},
                "method": "POST",
                "uri": f"https://{UAA}/oauth/token",
            },
            "response": {
                "body": {"string": token_body},
                "headers": {"Content-Type": ["application/json;charset=UTF-8"]},
                "status": {"code": 200, "message": "OK"},
            },
        },
        {
            "request": {
                "body": f"name=broker&password={secret['password']}&username=admin",
                "headers": {"Host": [HOST], **base, **form_type, **common},
                "method": "POST",
                "uri": f"https://{HOST}/v2/service_brokers",
            },
            "response": {
                "body": {"string": ""},
                "headers": {"X-Vcap-Request-Id": ["0b6e7d52"]},
                "status": {"code": 204, "message": "No Content"},
            },
        },
        restage_interaction(restage_headers, go_json(RESTAGE.json())),
    ]


# --- HAR fixtures --------------------------------------------------------------------------


def har(*entries: dict[str, Any], creator: str) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": creator}, "entries": list(entries)}}, indent=2)


def pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def chrome_har(*, blocked: bool = False) -> tuple[str, dict[str, str]]:
    """Chrome devtools over HTTP/2: pseudo-headers, lowercase names, no status text, decoded gzip bodies.

    With *blocked*, a third entry records a request that got no answer (status 0).
    """
    access, refresh, password = real_jwt(), secrets.token_urlsafe(32), secrets.token_urlsafe(18)
    token_text = json.dumps(
        {"access_token": access, "token_type": "bearer", "refresh_token": refresh, "expires_in": 599}
    )
    uaa = {
        "startedDateTime": "2024-03-01T10:15:30.123Z",
        "request": {
            "method": "POST",
            "url": f"https://{UAA}/oauth/token",
            "httpVersion": "h2",
            "headers": pairs(
                {
                    ":authority": UAA,
                    ":method": "POST",
                    "content-type": "application/x-www-form-urlencoded",
                    "authorization": "Basic Y2Y6",
                }
            ),
            "postData": {
                "mimeType": "application/x-www-form-urlencoded",
                "params": [
                    {"name": "grant_type", "value": "password"},
                    {"name": "username", "value": "dev"},
                    {"name": "password", "value": password},
                ],
            },
        },
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "h2",
            "headers": pairs(
                {"content-type": "application/json;charset=UTF-8", "content-encoding": "gzip", "content-length": "180"}
            ),
            "content": {"size": len(token_text), "mimeType": "application/json", "text": token_text},
        },
    }
    restage = {
        "startedDateTime": "2024-03-01T10:15:31.500Z",
        "request": {
            "method": "POST",
            "url": RESTAGE_URL,
            "httpVersion": "h2",
            "headers": pairs(
                {":path": RESTAGE_PATH, "accept": "application/json", "authorization": f"bearer {access}"}
            ),
        },
        "response": {
            "status": 201,
            "statusText": "",
            "headers": [{"name": k.lower(), "value": v} for k, v in RESTAGE.headers],
            "content": {"mimeType": "application/json", "text": RESTAGE.body.decode()},
        },
    }
    no_answer = {
        "startedDateTime": "2024-03-01T10:15:29Z",
        "request": {"method": "GET", "url": "https://x.test/"},
        "response": {"status": 0, "statusText": "", "headers": [], "content": {}},
    }
    entries = [uaa, restage, no_answer] if blocked else [uaa, restage]
    return har(*entries, creator="WebInspector"), {"access": access, "refresh": refresh, "pw": password}


def chrome_expected(secret: dict[str, str]) -> list[dict[str, Any]]:
    token_text = json.dumps(
        {
            "access_token": secret["access"],
            "token_type": "bearer",
            "refresh_token": secret["refresh"],
            "expires_in": 599,
        }
    )
    return [
        {
            "request": {
                "body": f"grant_type=password&username=dev&password={urllib.parse.quote(secret['pw'])}",
                "headers": {"content-type": ["application/x-www-form-urlencoded"], "authorization": ["Basic Y2Y6"]},
                "method": "POST",
                "uri": f"https://{UAA}/oauth/token",
            },
            "response": {
                "body": {"string": token_text},
                "headers": {
                    "content-type": ["application/json;charset=UTF-8"],
                    "content-length": [str(len(token_text))],
                },
                "status": {"code": 200, "message": "OK"},
            },
        },
        {
            "request": {
                "body": None,
                "headers": {"accept": ["application/json"], "authorization": [f"bearer {secret['access']}"]},
                "method": "POST",
                "uri": RESTAGE_URL,
            },
            "response": {
                "body": {"string": RESTAGE.body.decode()},
                "headers": {k.lower(): [v] for k, v in RESTAGE.headers},
                "status": {"code": 201, "message": "Created"},
            },
        },
    ]


def mitmproxy_har() -> tuple[str, dict[str, str]]:
    """mitmproxy's export: HTTP/1.1, repeated headers, base64 bodies, a still-gzipped binary body."""
    access = real_jwt()
    token_text = json.dumps({"access_token": access, "token_type": "bearer", "expires_in": 43199})
    zipped = gzip.compress(b"\x00\x01binary droplet")
    uaa = {
        "startedDateTime": "2024-03-01T10:15:30.123456+01:00",
        "request": {
            "method": "POST",
            "url": f"https://{UAA}/oauth/token",
            "httpVersion": "HTTP/1.1",
            "headers": pairs({"Host": UAA, "Content-Type": "application/x-www-form-urlencoded"}),
            "postData": {
                "mimeType": "application/x-www-form-urlencoded",
                "text": "grant_type=client_credentials&client_id=ci",
                "params": [],
            },
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [
                *pairs({"Content-Type": "application/json", "Transfer-Encoding": "chunked"}),
                {"name": "Vary", "value": "Origin"},
                {"name": "Vary", "value": "Accept-Encoding"},
            ],
            "content": {
                "mimeType": "application/json",
                "encoding": "base64",
                "text": base64.b64encode(token_text.encode()).decode(),
            },
        },
    }
    restage = {
        "startedDateTime": "2024-03-01T09:15:31.000000+00:00",
        "request": {
            "method": "POST",
            "url": RESTAGE_URL,
            "httpVersion": "HTTP/1.1",
            "headers": pairs({"Host": HOST, "Authorization": f"bearer {access}"}),
        },
        "response": {
            "status": 201,
            "statusText": "Created",
            "httpVersion": "HTTP/1.1",
            "headers": pairs(dict(RESTAGE.headers)),
            "content": {"mimeType": "application/json", "text": RESTAGE.body.decode()},
        },
    }
    droplet = {
        "startedDateTime": "2024-03-01T09:15:32.000000+00:00",
        "request": {"method": "GET", "url": f"https://{HOST}/v2/apps/{GUID}/droplet/download", "headers": []},
        "response": {
            "status": 200,
            "statusText": "OK",
            "headers": pairs({"Content-Encoding": "gzip", "Content-Length": "1"}),
            "content": {"encoding": "base64", "text": base64.b64encode(zipped).decode()},
        },
    }
    return har(uaa, restage, droplet, creator="mitmproxy"), {"access": access, "zipped": zipped.hex()}


def mitmproxy_expected(secret: dict[str, str]) -> list[dict[str, Any]]:
    token_text = json.dumps({"access_token": secret["access"], "token_type": "bearer", "expires_in": 43199})
    zipped = bytes.fromhex(secret["zipped"])
    return [
        {
            "request": {
                "body": "grant_type=client_credentials&client_id=ci",
                "headers": {"Host": [UAA], "Content-Type": ["application/x-www-form-urlencoded"]},
                "method": "POST",
                "uri": f"https://{UAA}/oauth/token",
            },
            "response": {
                "body": {"string": token_text},
                "headers": {"Content-Type": ["application/json"], "Vary": ["Origin", "Accept-Encoding"]},
                "status": {"code": 200, "message": "OK"},
            },
        },
        {
            "request": {
                "body": None,
                "headers": {"Host": [HOST], "Authorization": [f"bearer {secret['access']}"]},
                "method": "POST",
                "uri": RESTAGE_URL,
            },
            "response": {
                "body": {"string": RESTAGE.body.decode()},
                "headers": {k: [v] for k, v in RESTAGE.headers},
                "status": {"code": 201, "message": "Created"},
            },
        },
        {
            "request": {
                "body": None,
                "headers": {},
                "method": "GET",
                "uri": f"https://{HOST}/v2/apps/{GUID}/droplet/download",
            },
            "response": {
                "body": {"string": zipped},
                "headers": {"Content-Encoding": ["gzip"], "Content-Length": [str(len(zipped))]},
                "status": {"code": 200, "message": "OK"},
            },
        },
    ]


Source = Callable[[], tuple[str, dict[str, str]]]
CASES: dict[str, tuple[Source, Callable[[dict[str, str]], list[dict[str, Any]]], str, str, str]] = {
    # name: (fixture, expected interactions, file name, detected format, recorded_at)
    "trace-legacy": (
        lambda: legacy_trace(joined_host=False),
        legacy_expected,
        "a.trace",
        "cf-trace",
        "2018-11-05T08:12:43Z",
    ),
    "trace-legacy-joined-host": (
        lambda: legacy_trace(joined_host=True),
        legacy_expected,
        "b.trace",
        "cf-trace",
        "2018-11-05T08:12:43Z",
    ),
    "trace-current": (current_trace, current_expected, "c.log", "cf-trace", "2024-12-02T16:04:00Z"),
    "har-chrome": (chrome_har, chrome_expected, "devtools.har", "har", "2024-03-01T10:15:30Z"),
    "har-mitmproxy": (mitmproxy_har, mitmproxy_expected, "flows.har", "har", "2024-03-01T09:15:30Z"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse_sanitize_scan_replay(name: str, tmp_path: Path) -> None:
    fixture, expected, file_name, fmt, stamp = CASES[name]
    text, planted = fixture()
    source = tmp_path / file_name
    source.write_bytes(text.encode())

    assert detect_format(source, text) == fmt
    parse = parse_har if fmt == "har" else parse_cf_trace
    assert parse(text) == expected(planted)

    data = import_files([source])
    assert set(data) == {"interactions", "version"}  # no top-level metadata: pytest-recording loads it too
    assert [i["response"].pop("recorded_at") for i in data["interactions"]] == [stamp] * len(data["interactions"])
    assert data["version"] == 1 and data["interactions"] == expected(planted)
    for interaction in data["interactions"]:
        interaction["response"]["recorded_at"] = stamp

    Sanitizer().sanitize_data(data)
    raw = cassette.dumps(data, "yaml")
    assert scanner.scan_text(raw.decode(), path="x.yaml") == []
    for value in planted.values():
        if name != "har-mitmproxy" or value != planted.get("zipped"):  # binary fixture data, not a secret
            assert value.encode() not in raw

    out = tmp_path / "imported.yaml"
    cassette.atomic_write(out, raw)
    with cfreplay.use_cassette(out):
        answer = requests.post(RESTAGE_URL, headers={"Accept": "application/json"}, timeout=5)
    assert answer.status_code == 201
    assert answer.json()["entity"] == RESTAGE.json()["entity"]


def test_several_files_make_one_cassette(tmp_path: Path) -> None:
    first, second = tmp_path / "one.trace", tmp_path / "two.har"
    first.write_text(legacy_trace(joined_host=False)[0])
    second.write_text(chrome_har()[0])
    data = import_files([second, first], fmt=None)
    assert len(data["interactions"]) == 4
    stamps = {i["response"]["recorded_at"] for i in data["interactions"]}
    assert stamps == {"2018-11-05T08:12:43Z"}  # the earliest of all dates every exchange
    assert cassette.recorded_at(data) == datetime(2018, 11, 5, 8, 12, 43, tzinfo=UTC)


def test_a_format_can_be_forced(tmp_path: Path) -> None:
    source = tmp_path / "capture.txt"
    source.write_text(current_trace()[0])
    assert len(import_files([source], fmt="cf-trace")["interactions"]) == 3
    with pytest.raises(TrafficFormatError, match="is not valid JSON"):
        import_files([source], fmt="har")


def test_no_timestamp_means_no_recorded_at() -> None:
    text = current_block("REQUEST:", "yesterday", ["GET /v2/info HTTP/1.1", f"Host: {HOST}"], "")
    text += current_block("RESPONSE:", "later", ["HTTP/1.1 200 OK"], '{"name": "vcap"}')
    assert parse_cf_trace(text)[0]["response"]["body"]["string"] == '{"name": "vcap"}'


def test_blank_line_inside_a_legacy_json_body_is_kept() -> None:
    body = '{\n  "a": 1,\n\n  "b": 2\n}'
    text = legacy_block("REQUEST:", "2018-11-05T09:12:44Z", ["GET /v2/info HTTP/1.1", f"Host: {HOST}"], "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:44Z", ["HTTP/1.1 200 OK"], body) + "OK\n"
    assert parse_cf_trace(text)[0]["response"]["body"]["string"] == body


def trace_with(*lines: str) -> str:
    return "\n".join(lines) + "\n"


GOOD_REQUEST = ("REQUEST: [2024-12-02T16:04:00Z]", "GET /v2/info HTTP/1.1", f"Host: {HOST}", "")
GOOD_RESPONSE = ("RESPONSE: [2024-12-02T16:04:00Z]", "HTTP/1.1 200 OK", "{}", "")
BAD_INPUTS = {
    "not-json": ("x.har", '{"log": {\n  "entries": [\n  }\n}', "x.har:3: is not valid JSON: Expecting value"),
    "no-entries": ("x.har", '{"log": {"pages": []}}', "x.har: is not a HAR file (no log.entries list)"),
    "json-array": ("x.har", "[1, 2]", "x.har: is not a HAR file (no log.entries list)"),
    "no-url": (
        "x.har",
        har(
            {"request": {"method": "GET", "url": "https://a.test/"}, "response": {"status": 200}},
            {"request": {"method": "GET"}, "response": {"status": 200}},
            creator="t",
        ),
        "x.har:17: entry 1 request has no url",
    ),
    "no-response": (
        "x.har",
        har({"request": {"method": "GET", "url": "https://a.test/?token=x"}}, creator="t"),
        "x.har:8: entry 0 (GET https://a.test/) has no response",
    ),
    "bad-status": (
        "x.har",
        har({"request": {"method": "GET", "url": "https://a.test/"}, "response": {"status": "200"}}, creator="t"),
        "x.har:8: entry 0 (GET https://a.test/) response has no status",
    ),
    "compact-har": (
        "x.har",
        json.dumps({"log": {"entries": [{"request": {"method": "GET", "url": "https://a.test/"}}]}}),
        "x.har:1: entry 0 (GET https://a.test/) has no response",
    ),
    "bad-base64": (
        "x.har",
        har(
            {
                "request": {"method": "GET", "url": "https://a.test/"},
                "response": {"status": 200, "content": {"text": "%%%", "encoding": "base64"}},
            },
            creator="t",
        ),
        "x.har:8: entry 0 (GET https://a.test/) response content.text is not valid base64",
    ),
    "empty-har": ("x.har", har(creator="t"), "x.har: holds no HTTP exchange to import"),
    "neither": (
        "x.txt",
        "Getting apps...\nOK\n",
        "x.txt: is neither a HAR file nor a cf CLI trace (no REQUEST: or RESPONSE: block)",
    ),
    "request-without-response": (
        "t.log",
        trace_with("hello", *GOOD_REQUEST),
        "t.log:2: REQUEST GET /v2/info has no RESPONSE",
    ),
    "two-requests": (
        "t.log",
        trace_with(*GOOD_REQUEST, *GOOD_REQUEST, *GOOD_RESPONSE),
        "t.log:1: REQUEST GET /v2/info has no RESPONSE",
    ),
    "response-first": ("t.log", trace_with(*GOOD_RESPONSE), "t.log:1: RESPONSE without a REQUEST before it"),
    "bad-request-line": (
        "t.log",
        trace_with("REQUEST: [2024-12-02T16:04:00Z]", "GET /v2/info", "", *GOOD_RESPONSE),
        "t.log:2: bad request line (expected '<METHOD> <path> HTTP/1.1')",
    ),
    "bad-status-line": (
        "t.log",
        trace_with(*GOOD_REQUEST, "\x1b[31mRESPONSE:\x1b[0m [2024-12-02T16:04:00Z]", "", "HTTP/1.1 OK", ""),
        "t.log:7: bad status line (expected 'HTTP/1.1 <code> <reason>')",
    ),
    "empty-block": (
        "t.log",
        trace_with(*GOOD_REQUEST, "RESPONSE: [2024-12-02T16:04:00Z]", *GOOD_REQUEST, *GOOD_RESPONSE),
        "t.log:5: RESPONSE block is empty",
    ),
    "empty-block-at-the-end": (
        "t.log",
        trace_with(*GOOD_REQUEST, "RESPONSE: [2024-12-02T16:04:00Z]"),
        "t.log:5: RESPONSE to GET /v2/info ends before its status line (the file is cut short?)",
    ),
    "no-host": (
        "t.log",
        trace_with("REQUEST: [2024-12-02T16:04:00Z]", "GET /v2/info HTTP/1.1", "Accept: */*", "", *GOOD_RESPONSE),
        "t.log:1: request has no Host header",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_naming_file_and_line(name: str, tmp_path: Path) -> None:
    file_name, text, message = BAD_INPUTS[name]
    source = tmp_path / file_name
    source.write_text(text)
    with pytest.raises(TrafficFormatError) as raised:
        import_files([source])
    assert str(raised.value) == f"{tmp_path}/{message}"
    assert "\n" not in str(raised.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TrafficFormatError, match=r"missing\.har: no such traffic file$"):
        import_files([tmp_path / "missing.har"])
    with pytest.raises(TrafficFormatError, match=r"is a directory, not a traffic file$"):
        import_files([tmp_path])
    # A FIFO is refused before it is opened: reading it would block the import forever.
    fifo = tmp_path / "capture.har"
    os.mkfifo(fifo)
    with pytest.raises(TrafficFormatError, match=r"capture\.har: is not a regular file \(a FIFO, socket or device\)"):
        import_files([fifo])
    (tmp_path / "latin.log").write_bytes(b"REQUEST: \xff")
    with pytest.raises(TrafficFormatError, match=r"latin\.log: is not UTF-8 text \(bad byte at offset 9\)$"):
        import_files([tmp_path / "latin.log"])
    with pytest.raises(cfreplay.CfreplayError, match="no traffic files"):
        import_files([])


def test_parse_defaults_name_the_source() -> None:
    with pytest.raises(TrafficFormatError, match=r"^<har>:1: is not valid JSON"):
        parse_har("nope")
    with pytest.raises(TrafficFormatError, match=r"^<trace>:1: RESPONSE without a REQUEST"):
        parse_cf_trace(trace_with(*GOOD_RESPONSE))
