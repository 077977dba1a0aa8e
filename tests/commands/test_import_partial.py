"""`cfreplay import` never loses captured traffic silently (issue 16).

A capture cut short, or holding a request with no answer, is an error naming
``file:line`` (exit 2, nothing written) unless ``--partial`` asks for the complete
exchanges (exit 1, each dropped one named on stderr).  Legacy trace bodies are
sized by their ``Content-Length``, so blank lines inside them survive, and HAR
``cookies`` arrays become the headers the sanitizer redacts.

Every capture is built at test time from the fixtures of ``test_importing``; the
secrets in it are random, so this file holds none.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from test_importing import (
    HIDDEN,
    HOST,
    LEGACY_AGENT,
    RESTAGE,
    RESTAGE_PATH,
    RESTAGE_URL,
    UAA,
    chrome_har,
    current_trace,
    har,
    legacy_block,
    legacy_trace,
    pairs,
)

import cfreplay
from cfreplay import cassette
from cfreplay.commands.cli import main
from cfreplay.commands.importing import import_files, import_traffic, parse_cf_trace, parse_har
from cfreplay.errors import TrafficFormatError
from cfreplay.hygiene import scanner

CUT = "(the file is cut short?)"
RESTAGE_BODY = RESTAGE.body.decode()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The number of the line holding the *occurrence*-th *needle*."""
    position = -1
    for _ in range(occurrence):
        position = text.index(needle, position + 1)
    return text.count("\n", 0, position) + 1


def through(text: str, needle: str, occurrence: int = 1) -> str:
    """*text* up to and including the line holding the *occurrence*-th *needle* (a cut at a line end)."""
    position = -1
    for _ in range(occurrence):
        position = text.index(needle, position + 1)
    return text[: text.index("\n", position) + 1]


def before(text: str, needle: str, occurrence: int = 1) -> str:
    """*text* up to the start of the line holding the *occurrence*-th *needle*."""
    position = -1
    for _ in range(occurrence):
        position = text.index(needle, position + 1)
    return text[: text.rindex("\n", 0, position) + 1]


# --- captures cut short, or with a request that got no answer -------------------------------


def har_entry(method: str, url: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "startedDateTime": "2024-03-01T10:15:31.500Z",
        "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": pairs({"Host": HOST})},
        "response": {"status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1", **response},
    }


def token_entry() -> dict[str, Any]:
    """A complete UAA token exchange, as mitmproxy exports it."""
    text = json.dumps({"access_token": HIDDEN, "token_type": "bearer", "expires_in": 599})
    return {
        "startedDateTime": "2024-03-01T10:15:30.000Z",
        "request": {
            "method": "POST",
            "url": f"https://{UAA}/oauth/token",
            "headers": pairs({"Host": UAA, "Content-Type": "application/x-www-form-urlencoded"}),
            "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "grant_type=client_credentials"},
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "headers": pairs({"Content-Type": "application/json"}),
            "content": {"size": len(text), "mimeType": "application/json", "text": text},
        },
    }


def har_with_restage(response: dict[str, Any]) -> str:
    """A token exchange, then the restage whose response is *response* (headers, content, bodySize)."""
    return har(token_entry(), har_entry("POST", f"{RESTAGE_URL}?async=true", response), creator="mitmproxy")


HALF = len(RESTAGE_BODY) // 2
HEADERS = [{"name": name, "value": value} for name, value in RESTAGE.headers]  # Content-Length: the whole body
NO_LENGTH = [h for h in HEADERS if h["name"] != "Content-Length"]
RESTAGE_ENTRY = f"entry 1 (POST {RESTAGE_URL})"


class Case:
    """A capture with one incomplete exchange: its file, the error it gives, the exchanges it keeps."""

    def __init__(
        self, file_name: str, build: Callable[[], str], where: Callable[[str], int], reason: str, kept: list[str]
    ) -> None:
        self.file_name = file_name
        self.build = build
        self.where = where
        self.reason = reason
        self.kept = kept  # "METHOD uri" of the complete exchanges, in order


TOKEN = f"POST https://{UAA}/oauth/token"
BROKERS = f"POST https://{HOST}/v2/service_brokers"
CASES = {
    # A legacy trace cut inside the restage response's headers: before issue 16 this imported
    # the token exchange, dropped the restage and exited 0.
    "trace-legacy-cut-in-headers": Case(
        "restage.trace",
        lambda: through(legacy_trace(joined_host=False)[0], "Location: /v2/apps/"),
        lambda text: line_of(text, "RESPONSE:", 2),
        f"RESPONSE to POST {RESTAGE_PATH} ends inside its headers {CUT}",
        [TOKEN],
    ),
    "trace-current-status-line-only": Case(
        "restage.log",
        lambda: through(current_trace()[0], "HTTP/1.1 201 Created"),
        lambda text: line_of(text, "RESPONSE:", 3),
        f"RESPONSE to POST {RESTAGE_PATH} ends inside its headers {CUT}",
        [TOKEN, BROKERS],
    ),
    "trace-legacy-body-short": Case(
        "restage.trace",
        lambda: (lambda text: text[: text.index(RESTAGE_BODY) + HALF])(legacy_trace(joined_host=True)[0]),
        lambda text: line_of(text, "RESPONSE:", 2),
        f"RESPONSE to POST {RESTAGE_PATH} body is {HALF} bytes, shorter than its Content-Length "
        f"{len(RESTAGE_BODY)} {CUT}",
        [TOKEN],
    ),
    "trace-current-json-cut": Case(
        "restage.log",
        lambda: through(current_trace()[0], '"metadata": {'),
        lambda text: line_of(text, "RESPONSE:", 3),
        f"RESPONSE to POST {RESTAGE_PATH} body ends before its JSON value does {CUT}",
        [TOKEN, BROKERS],
    ),
    "trace-request-without-response": Case(
        "restage.trace",
        lambda: before(legacy_trace(joined_host=False)[0], "RESPONSE:", 2),
        lambda text: line_of(text, "REQUEST:", 2),
        f"REQUEST POST {RESTAGE_PATH} has no RESPONSE",
        [TOKEN],
    ),
    "trace-cut-in-a-marker": Case(
        "restage.log",
        lambda: (lambda text: text[: text.index("REQUEST:", text.index("service_brokers")) + 12])(current_trace()[0]),
        lambda text: text.count("\n") + 1,
        f"the file ends inside a REQUEST:/RESPONSE: line {CUT}",
        [TOKEN, BROKERS],
    ),
    "har-status-0": Case(
        "devtools.har",
        lambda: chrome_har(blocked=True)[0],
        lambda text: line_of(text, '"startedDateTime": "2024-03-01T10:15:29Z"') - 1,
        "entry 2 (GET https://x.test/) got no response (status 0: blocked, cancelled, failed or still pending)",
        [TOKEN, f"POST {RESTAGE_URL}"],
    ),
    "har-content-size": Case(
        "flows.har",
        lambda: har_with_restage(
            {"headers": NO_LENGTH, "content": {"size": len(RESTAGE_BODY), "text": RESTAGE_BODY[:HALF]}}
        ),
        lambda text: line_of(text, '"startedDateTime"', 2) - 1,
        f"{RESTAGE_ENTRY} response body is {HALF} bytes, shorter than its content.size {len(RESTAGE_BODY)}",
        [TOKEN],
    ),
    "har-content-length": Case(
        "flows.har",
        lambda: har_with_restage({"headers": HEADERS, "content": {"text": RESTAGE_BODY[:HALF]}}),
        lambda text: line_of(text, '"startedDateTime"', 2) - 1,
        f"{RESTAGE_ENTRY} response body is {HALF} bytes, shorter than its Content-Length {len(RESTAGE_BODY)}",
        [TOKEN],
    ),
    "har-body-size": Case(
        "flows.har",
        lambda: har_with_restage(
            {"headers": NO_LENGTH, "bodySize": len(RESTAGE_BODY), "content": {"text": RESTAGE_BODY[:HALF]}}
        ),
        lambda text: line_of(text, '"startedDateTime"', 2) - 1,
        f"{RESTAGE_ENTRY} response body is {HALF} bytes, shorter than its bodySize {len(RESTAGE_BODY)}",
        [TOKEN],
    ),
    "har-body-not-captured": Case(
        "devtools.har",
        lambda: har_with_restage(
            {"headers": NO_LENGTH, "content": {"size": len(RESTAGE_BODY), "mimeType": "application/json"}}
        ),
        lambda text: line_of(text, '"startedDateTime"', 2) - 1,
        f"{RESTAGE_ENTRY} response body was not captured (content.size {len(RESTAGE_BODY)}, no content.text)",
        [TOKEN],
    ),
}


def write_case(name: str, tmp_path: Path) -> tuple[Path, str]:
    """The case's capture in ``tmp_path/capture/``, and its expected one-line error."""
    case = CASES[name]
    text = case.build()
    source = tmp_path / "capture" / case.file_name
    source.parent.mkdir()
    source.write_bytes(text.encode())
    return source, f"{source}:{case.where(text)}: {case.reason}"


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_incomplete_exchange_is_an_error_naming_file_and_line(name: str, tmp_path: Path) -> None:
    source, message = write_case(name, tmp_path)
    with pytest.raises(TrafficFormatError) as raised:
        import_files([source])
    assert str(raised.value) == message
    with pytest.raises(TrafficFormatError) as raised:
        import_traffic([source])
    assert str(raised.value) == message


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_exits_2_with_one_line_and_writes_nothing(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, message = write_case(name, tmp_path)
    out = tmp_path / "cassettes" / "imported.yaml"

    assert main(["import", str(source), "-o", str(out)]) == 2

    captured = capsys.readouterr()
    assert captured.err == f"cfreplay: error: {message}\n"
    assert captured.out == ""
    assert files_under(tmp_path) == [f"capture/{source.name}"]  # no cassette, no temporary file


@pytest.mark.parametrize("name", sorted(CASES))
def test_partial_keeps_the_complete_exchanges_and_names_the_dropped_one(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, message = write_case(name, tmp_path)
    out = tmp_path / "cassettes" / "imported.yaml"

    imported = import_traffic([source], partial=True)
    assert [str(error) for error in imported.dropped] == [message]
    assert [f"{i['request']['method']} {i['request']['uri']}" for i in imported.data["interactions"]] == (
        CASES[name].kept
    )

    assert main(["import", "--partial", str(source), "-o", str(out)]) == 1

    captured = capsys.readouterr()
    assert captured.err == f"cfreplay: dropped: {message}\n"
    kept = len(CASES[name].kept)
    assert f"imported {kept} interaction{'s' if kept != 1 else ''} from {source}\n" in captured.out
    assert "  dropped: 1 incomplete exchange (listed on stderr)" in captured.out
    assert files_under(tmp_path) == ["capture/" + source.name, "cassettes/imported.yaml"]
    loaded = cassette.load(out)
    assert [f"{i['request']['method']} {i['request']['uri']}" for i in loaded.interactions] == CASES[name].kept
    assert scanner.scan_file(out) == []

    with cfreplay.use_cassette(out):
        answer = requests.post(f"https://{UAA}/oauth/token", data="grant_type=refresh_token", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 599


def test_partial_with_every_exchange_complete_is_an_ordinary_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "restage.log"
    source.write_text(current_trace()[0])
    out = tmp_path / "restage.yaml"

    assert import_traffic([source], partial=True).dropped == ()
    assert main(["import", "--partial", str(source), "-o", str(out)]) == 0

    captured = capsys.readouterr()
    assert captured.err == ""
    assert "dropped" not in captured.out
    assert len(cassette.load(out)) == 3


def test_partial_with_nothing_complete_left_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = ["GET /v2/info HTTP/1.1", f"Host: {HOST}", f"User-Agent: {LEGACY_AGENT}"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:44Z", request, "")
    text += legacy_block("REQUEST:", "2018-11-05T09:12:46Z", request, "")  # the CLI retried; no answer either time
    source = tmp_path / "info.trace"
    source.write_text(text)
    out = tmp_path / "info.yaml"
    first = f"{source}:2: REQUEST GET /v2/info has no RESPONSE"

    with pytest.raises(TrafficFormatError) as raised:
        import_traffic([source], partial=True)
    assert str(raised.value) == f"{first}; no complete HTTP exchange is left to import (2 dropped)"

    assert main(["import", "--partial", str(source), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"cfreplay: error: {first}; no complete HTTP exchange is left to import (2 dropped)\n"
    )
    assert files_under(tmp_path) == ["info.trace"]


def test_partial_reports_every_dropped_exchange_of_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "restage.trace"
    trace.write_text(through(legacy_trace(joined_host=False)[0], "Location: /v2/apps/"))
    devtools = tmp_path / "devtools.har"
    devtools.write_text(chrome_har(blocked=True)[0])
    out = tmp_path / "both.yaml"

    imported = import_traffic([trace, devtools], partial=True)

    assert [(Path(e.path).name, e.reason.split(" ")[0]) for e in imported.dropped] == [
        ("restage.trace", "RESPONSE"),
        ("devtools.har", "entry"),
    ]
    assert len(imported.data["interactions"]) == 3
    assert main(["import", "--partial", str(trace), str(devtools), "-o", str(out)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"cfreplay: dropped: {e}" for e in imported.dropped]


def test_the_clock_starts_at_the_first_exchange_kept(tmp_path: Path) -> None:
    # The blocked request came first (10:15:29); the cassette holds none of it.
    source = tmp_path / "devtools.har"
    source.write_text(chrome_har(blocked=True)[0])
    imported = import_traffic([source], partial=True)
    assert {i["response"]["recorded_at"] for i in imported.data["interactions"]} == {"2024-03-01T10:15:30Z"}


# --- what is not cut short stays importable ------------------------------------------------


def test_a_redacted_body_shorter_than_its_content_length_is_not_a_cut() -> None:
    # Format A redacts the whole dump: the token in the body became "[PRIVATE DATA HIDDEN]",
    # so the body is far shorter than the Content-Length the server sent.
    body = json.dumps({"access_token": HIDDEN, "token_type": "bearer", "expires_in": 599}, indent=3)
    original = len(body) + 900
    request = ["POST /oauth/token HTTP/1.1", f"Host: {UAA}", f"User-Agent: {LEGACY_AGENT}"]
    response = ["HTTP/1.1 200 OK", f"Content-Length: {original}", "Content-Type: application/json"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:43Z", request, "grant_type=password&password=" + HIDDEN)
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43Z", response, body)

    [interaction] = parse_cf_trace(text)

    assert interaction["response"]["body"]["string"] == body
    assert interaction["response"]["headers"]["Content-Length"] == [str(len(body))]


def test_head_and_no_content_answers_need_no_body() -> None:
    head = ["HEAD /v2/info HTTP/1.1", f"Host: {HOST}"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:43Z", head, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43Z", ["HTTP/1.1 200 OK", "Content-Length: 512"], "")
    delete = [f"DELETE /v2/apps/{RESTAGE.json()['metadata']['guid']} HTTP/1.1", f"Host: {HOST}"]
    text += legacy_block("REQUEST:", "2018-11-05T09:12:44Z", delete, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:44Z", ["HTTP/1.1 204 No Content"], "")

    assert [i["response"]["body"]["string"] for i in parse_cf_trace(text)] == ["", ""]


def test_a_trace_copied_without_its_last_blank_line_still_imports() -> None:
    text = current_trace()[0].rstrip("\r\n")  # a terminal copy drops the trailing blank line
    assert len(parse_cf_trace(text)) == 3


def test_a_body_mid_file_that_does_not_fit_its_content_length_is_an_error() -> None:
    request = ["GET /v2/info HTTP/1.1", f"Host: {HOST}"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:43Z", request, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43Z", ["HTTP/1.1 200 OK", "Content-Length: 400"], "short")
    text += legacy_block("REQUEST:", "2018-11-05T09:12:44Z", request, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:44Z", ["HTTP/1.1 200 OK", "Content-Length: 2"], "{}")

    with pytest.raises(TrafficFormatError) as raised:
        parse_cf_trace(text, path="t.trace")
    assert (
        str(raised.value) == "t.trace:8: RESPONSE to GET /v2/info body is 5 bytes, shorter than its Content-Length 400"
    )


# --- legacy bodies with blank lines --------------------------------------------------------


def text_page() -> str:
    """A `cf curl` text/plain answer: paragraphs, a trailing blank line, UTF-8 (bytes ≠ characters)."""
    return (
        f"Droplet {secrets.token_hex(4)} staged — buildpack: go_buildpack\n\n"
        "Start command: ./bin/app\n\n\n   indented after two blank lines\n\n"
    )


def html_error_page() -> str:
    """A gorouter/nginx error page: CRLF lines and blank lines between its parts."""
    return (
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\r\n<body>\r\n\r\n"
        "<h1>502 Bad Gateway</h1>\r\n<p>Registered endpoint failed to handle the request.</p>\r\n\r\n"
        "</body>\r\n</html>\r\n"
    )


def multipart_form(boundary: str) -> str:
    """A multipart form (an app bits upload's resources part): CRLF lines, a blank line after every part head."""
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="resources"\r\n\r\n[]\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nline one\r\n\r\nline three\r\n'
        f"--{boundary}--\r\n"
    )


def sized_trace(body: str, content_type: str, *, joined_host: bool, upload: str = "", boundary: str = "") -> str:
    """Two legacy exchanges: the first sends *upload* and answers *body* (both sized by Content-Length), then
    `cf` output with no blank line before it, then /v2/info."""
    host = [f"Host: {HOST}Accept: */*"] if joined_host else [f"Host: {HOST}", "Accept: */*"]
    request = [f"PUT /v2/apps/{RESTAGE.json()['metadata']['guid']}/bits HTTP/1.1", *host]
    if upload:
        request += [
            f"Content-Length: {len(upload.encode())}",
            f"Content-Type: multipart/form-data; boundary={boundary}",
        ]
    request.append(f"User-Agent: {LEGACY_AGENT}")
    response = ["HTTP/1.1 502 Bad Gateway", f"Content-Length: {len(body.encode())}", f"Content-Type: {content_type}"]
    info = ["GET /v2/info HTTP/1.1", *host, f"User-Agent: {LEGACY_AGENT}"]
    text = "Uploading billing-api...\n"
    text += legacy_block("REQUEST:", "2018-11-05T09:12:43+01:00", request, upload)
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43+01:00", response, body)
    text += "FAILED\nRetrying...\n"  # cf output right after the body, no blank line between
    text += legacy_block("REQUEST:", "2018-11-05T09:12:44+01:00", info, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:44+01:00", ["HTTP/1.1 200 OK"], '{"name": "vcap"}')
    return text


BODIES: dict[str, tuple[Callable[[], str], str]] = {
    "text-plain": (text_page, "text/plain; charset=utf-8"),
    "html-error-page": (html_error_page, "text/html"),
}


@pytest.mark.parametrize("joined_host", [False, True], ids=["format-A", "format-B"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_a_body_with_blank_lines_survives_byte_for_byte(kind: str, joined_host: bool, tmp_path: Path) -> None:
    make, content_type = BODIES[kind]
    body, boundary = make(), secrets.token_hex(8)
    upload = multipart_form(boundary)  # a raw dump's request body (cf v6 later hid multipart bodies)
    text = sized_trace(body, content_type, joined_host=joined_host, upload=upload, boundary=boundary)

    bits, info = parse_cf_trace(text)

    assert bits["response"]["body"]["string"] == body
    assert bits["response"]["headers"]["Content-Type"] == [content_type]
    assert bits["request"]["body"] == upload
    assert info["response"]["body"]["string"] == '{"name": "vcap"}'

    source, out = tmp_path / "upload.trace", tmp_path / "upload.yaml"
    source.write_bytes(text.encode())
    assert main(["import", str(source), "-o", str(out)]) == 0
    with cfreplay.use_cassette(out):
        answer = requests.put(f"https://{HOST}/v2/apps/{RESTAGE.json()['metadata']['guid']}/bits", timeout=5)
    assert answer.status_code == 502
    assert answer.content == body.encode()


def test_a_legacy_trace_whose_crlfs_became_lfs_still_tells_a_cut_body() -> None:
    # An editor or a terminal copy made every CRLF an LF: bytes can no longer be counted
    # exactly, but a body too short even with each LF counted as CRLF was cut.
    boundary = secrets.token_hex(8)
    text = sized_trace(html_error_page(), "text/html", joined_host=False, upload=multipart_form(boundary))
    text = text.replace("\r\n", "\n")
    cut = through(text, "<html>")
    with pytest.raises(TrafficFormatError) as raised:
        parse_cf_trace(cut, path="t.trace")
    response = f"RESPONSE to PUT /v2/apps/{RESTAGE.json()['metadata']['guid']}/bits"
    assert str(raised.value) == (
        f"t.trace:{line_of(cut, 'RESPONSE:')}: {response} body is 22 bytes, shorter than its Content-Length "
        f"{len(html_error_page().encode())} {CUT}"
    )
    assert len(parse_cf_trace(text)) == 2


def test_without_content_length_a_legacy_text_body_still_ends_at_its_first_blank_line() -> None:
    # No length to go by: the blank line may be the body's or the one before cf's next output.
    request = ["GET /v2/info HTTP/1.1", f"Host: {HOST}"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:43Z", request, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43Z", ["HTTP/1.1 200 OK"], "one\n\nOK")
    assert parse_cf_trace(text)[0]["response"]["body"]["string"] == "one"


def test_a_sized_json_body_keeps_its_own_line_end() -> None:
    body = '{"name": "vcap"}\n'  # a Go server's json.Encoder ends its body with a newline
    request = ["GET /v2/info HTTP/1.1", f"Host: {HOST}"]
    text = legacy_block("REQUEST:", "2018-11-05T09:12:43Z", request, "")
    text += legacy_block("RESPONSE:", "2018-11-05T09:12:43Z", ["HTTP/1.1 200 OK", "Content-Length: 17"], body)
    assert parse_cf_trace(text)[0]["response"]["body"]["string"] == body


# --- HAR cookies arrays --------------------------------------------------------------------


def login_entry(session: str, csrf: str, fresh_csrf: str, *, in_headers: bool) -> dict[str, Any]:
    """UAA's login form post; Chrome leaves the cookies out of ``headers``, Firefox lists both."""
    request_headers = {"Host": UAA, "Content-Type": "application/x-www-form-urlencoded"}
    response_headers = {"Location": f"https://{UAA}/", "Content-Length": "0"}
    if in_headers:
        request_headers["Cookie"] = f"X-Uaa-Csrf={csrf}"
    request_cookies = [{"name": "X-Uaa-Csrf", "value": csrf, "path": "/", "domain": UAA, "httpOnly": True}]
    response_cookies = [
        {"name": "JSESSIONID", "value": session, "path": "/", "domain": UAA, "expires": None, "httpOnly": True,
         "secure": True},
        {"name": "X-Uaa-Csrf", "value": fresh_csrf, "path": "/", "expires": "2024-03-01T11:15:30.000Z",
         "httpOnly": True, "secure": True, "sameSite": "Lax"},
    ]  # fmt: skip
    response_pairs = pairs(response_headers)
    if in_headers:
        response_pairs += [
            {"name": "Set-Cookie", "value": f"JSESSIONID={session}; Path=/; Secure; HttpOnly"},
            {"name": "Set-Cookie", "value": f"X-Uaa-Csrf={fresh_csrf}; Max-Age=86400; Path=/; Secure; HttpOnly"},
        ]
    return {
        "startedDateTime": "2024-03-01T10:15:30.000Z",
        "request": {
            "method": "POST",
            "url": f"https://{UAA}/login.do",
            "headers": pairs(request_headers),
            "cookies": request_cookies,
            "postData": {"mimeType": "application/x-www-form-urlencoded", "text": f"X-Uaa-Csrf={csrf}&username=dev"},
        },
        "response": {
            "status": 302,
            "statusText": "Found",
            "headers": response_pairs,
            "cookies": response_cookies,
            "content": {"size": 0, "mimeType": "x-unknown"},
        },
    }


def test_har_cookies_only_in_the_arrays_become_headers_and_are_sanitized(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session, csrf, fresh = secrets.token_hex(16), secrets.token_hex(12), secrets.token_hex(12)
    text = har(login_entry(session, csrf, fresh, in_headers=False), creator="WebInspector")

    [interaction] = parse_har(text)
    assert interaction["request"]["headers"]["Cookie"] == [f"X-Uaa-Csrf={csrf}"]
    assert interaction["response"]["headers"]["Set-Cookie"] == [
        f"JSESSIONID={session}; Path=/; Domain={UAA}; HttpOnly; Secure",
        f"X-Uaa-Csrf={fresh}; Expires=Fri, 01 Mar 2024 11:15:30 GMT; Path=/; SameSite=Lax; HttpOnly; Secure",
    ]

    source, out = tmp_path / "login.har", tmp_path / "login.yaml"
    source.write_text(text)
    assert main(["import", str(source), "-o", str(out)]) == 0
    assert "cookie" in capsys.readouterr().out
    raw = out.read_bytes()
    assert scanner.scan_file(out) == []
    for value in (session, csrf, fresh):
        assert value.encode() not in raw
    [written] = cassette.load(out).interactions
    set_cookies = written["response"]["headers"]["Set-Cookie"]
    assert [value.split("=", 1)[0] for value in set_cookies] == ["JSESSIONID", "X-Uaa-Csrf"]
    assert set_cookies[0].endswith(f"; Path=/; Domain={UAA}; HttpOnly; Secure")  # attributes are kept
    assert written["request"]["headers"]["Cookie"][0].startswith("X-Uaa-Csrf=")


def test_har_cookies_in_headers_and_arrays_are_not_doubled() -> None:
    session, csrf, fresh = secrets.token_hex(16), secrets.token_hex(12), secrets.token_hex(12)
    [interaction] = parse_har(har(login_entry(session, csrf, fresh, in_headers=True), creator="Firefox"))
    assert interaction["request"]["headers"]["Cookie"] == [f"X-Uaa-Csrf={csrf}"]
    assert interaction["response"]["headers"]["Set-Cookie"] == [
        f"JSESSIONID={session}; Path=/; Secure; HttpOnly",
        f"X-Uaa-Csrf={fresh}; Max-Age=86400; Path=/; Secure; HttpOnly",
    ]


def test_har_cookie_missing_from_the_header_is_added_to_it() -> None:
    session, csrf, fresh = secrets.token_hex(16), secrets.token_hex(12), secrets.token_hex(12)
    entry = login_entry(session, csrf, fresh, in_headers=True)
    entry["request"]["cookies"].append({"name": "__VCAP_ID__", "value": session})
    [interaction] = parse_har(har(entry, creator="Firefox"))
    assert interaction["request"]["headers"]["Cookie"] == [f"X-Uaa-Csrf={csrf}; __VCAP_ID__={session}"]


def test_har_malformed_cookies_name_the_entry() -> None:
    entry = login_entry("a", "b", "c", in_headers=False)
    entry["response"]["cookies"] = [{"value": "no name"}]
    with pytest.raises(TrafficFormatError) as raised:
        parse_har(har(entry, creator="t"), path="x.har")
    assert (
        str(raised.value)
        == f"x.har:8: entry 0 (POST https://{UAA}/login.do) response has a cookie without a name and value"
    )


# --- property: a cut capture imports whole or not at all -----------------------------------


def text_bodies_trace() -> str:
    boundary = secrets.token_hex(8)
    return sized_trace(
        html_error_page(), "text/html", joined_host=False, upload=multipart_form(boundary), boundary=boundary
    )


TRACES: dict[str, Callable[[], str]] = {
    "legacy-A": lambda: legacy_trace(joined_host=False)[0],
    "legacy-B": lambda: legacy_trace(joined_host=True)[0],
    "current-C": lambda: current_trace()[0],
    "legacy-text-bodies": text_bodies_trace,
    "legacy-text-bodies-lf": lambda: text_bodies_trace().replace("\r\n", "\n"),
}


def assert_whole_or_error(text: str, full: list[dict[str, Any]]) -> None:
    """*text*, a prefix of a trace whose exchanges are *full*: every exchange it starts, complete, or an error."""
    try:
        found = parse_cf_trace(text)
    except TrafficFormatError:
        return
    started = text.count("REQUEST:")
    assert len(found) == started, f"{started} exchanges begun, {len(found)} imported from {text[-120:]!r}"
    assert found == full[:started]


@pytest.mark.parametrize("name", sorted(TRACES))
def test_a_trace_cut_at_any_line_end_imports_every_exchange_or_fails(name: str) -> None:
    text = TRACES[name]()
    full = parse_cf_trace(text)
    ends = [index + 1 for index, char in enumerate(text) if char == "\n"]
    for end in [0, *ends]:
        assert_whole_or_error(text[:end], full)


@given(name=st.sampled_from(sorted(TRACES)), where=st.floats(min_value=0, max_value=1))
def test_a_trace_cut_anywhere_imports_every_exchange_or_fails(name: str, where: float) -> None:
    text = TRACES[name]()
    assert_whole_or_error(text[: int(len(text) * where)], parse_cf_trace(text))
