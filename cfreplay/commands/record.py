"""Recording a restage exchange from a foundation: the work behind ``cfreplay record``.

The target is, in this order: ``--api`` with ``--token`` or ``CF_USERNAME`` and
``CF_PASSWORD``; else the cf CLI's own login (``$CF_HOME/.cf/config.json``,
``~/.cf/config.json`` by default: Target, AccessToken, RefreshToken); else the
embedded simulator, so the command works on a machine with no foundation at all.

The exchange is what a CF client does: ``GET /v2/info`` (to find UAA), a token
grant when logging in, ``GET /v2/apps?q=name:APP`` when APP is a name, ``POST
/v2/apps/:guid/restage`` (refreshing the token and retrying once on CC's 401
``CF-InvalidAuthToken``, as cf-python-client does) and, with ``wait``, polling
``GET /v2/apps/:guid`` until staging ends.  It runs under
:func:`cfreplay.use_cassette`, so every interaction is sanitized before it is
written; the cassette goes to a temporary file that is scanned and only then
moved into place, so a failure leaves no partial cassette behind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cfreplay import cassette as cassette_files
from cfreplay.cf import cfapi, factories
from cfreplay.errors import RecordError
from cfreplay.hygiene import scanner, writing
from cfreplay.hygiene.rules import SanitizeConfig
from cfreplay.hygiene.sanitizer import Report, Sanitizer
from cfreplay.replay.recorder import use_cassette
from cfreplay.serve import simulator

__all__ = ["RecordResult", "Target", "record_from_docs", "record_restage", "resolve_target"]

_GUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMEOUT: Final = 30.0


@dataclass
class Target:
    """Where to record from, and how to authenticate there."""

    api: str
    source: str
    token: str | None = None
    refresh_token: str | None = None
    username: str | None = None
    password: str | None = None
    token_endpoint: str | None = None


@dataclass
class RecordResult:
    path: Path
    interactions: int
    target: Target
    report: Report
    status: int
    #: What the restage's 201 said (PENDING): the restage's own answer, never a later poll's.
    package_state: str | None = None
    #: With --wait: the state staging ended in (STAGED or FAILED) and how many polls it took.
    staged: str | None = None
    polls: int = 0
    notes: list[str] = field(default_factory=list)


def _cf_config(env: Mapping[str, str]) -> tuple[Path, dict[str, Any]] | None:
    home = Path(env["CF_HOME"]) if env.get("CF_HOME") else Path(env.get("HOME", str(Path.home())))
    path = home / ".cf" / "config.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RecordError(f"{path}: cannot read the cf CLI's config: {error}") from None
    return (path, document) if isinstance(document, dict) else None


def resolve_target(
    *, api: str | None = None, token: str | None = None, env: Mapping[str, str] | None = None
) -> Target | None:
    """The target the options and environment name; ``None`` means the embedded simulator."""
    env = os.environ if env is None else env
    if api:
        api = api.rstrip("/")
        if token:
            return Target(api, f"{api} (--token)", token=_bare(token))
        if env.get("CF_USERNAME") and env.get("CF_PASSWORD"):
            return Target(api, f"{api} (CF_USERNAME)", username=env["CF_USERNAME"], password=env["CF_PASSWORD"])
        raise RecordError(f"--api {api} needs --token, or CF_USERNAME and CF_PASSWORD in the environment")
    found = _cf_config(env)
    if found is not None:
        path, config = found
        target, access = config.get("Target"), config.get("AccessToken")
        if isinstance(target, str) and target and isinstance(access, str) and access:
            uaa = config.get("UaaEndpoint") or config.get("AuthorizationEndpoint")
            return Target(
                target.rstrip("/"),
                f"{target} (cf CLI login, {path})",
                token=_bare(access),
                refresh_token=config.get("RefreshToken") or None,
                token_endpoint=f"{str(uaa).rstrip('/')}/oauth/token" if uaa else None,
            )
    return None


def _bare(token: str) -> str:
    """A token without its ``bearer`` scheme, as the cf CLI's config stores it with one."""
    scheme, _, rest = token.strip().partition(" ")
    return rest.strip() if rest and scheme.lower() == "bearer" else token.strip()


class _Client:
    """Just enough of a CF v2 client: urllib (which vcrpy records), token refresh on CC's 401."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.token = target.token

    def call(
        self, method: str, url: str, *, form: Mapping[str, str] | None = None, auth: str | None = None
    ) -> tuple[int, Any]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if form is not None:
            request.add_header("Content-Type", cfapi.FORM_CONTENT_TYPE)
        if auth:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RecordError(f"cannot reach {url}: {reason}") from None
        except http.client.HTTPException as error:
            raise RecordError(f"cannot reach {url}: it does not answer as HTTP ({type(error).__name__})") from None

    def cc(self, method: str, path: str) -> tuple[int, Any]:
        status, body = self.call(method, self.target.api + path, auth=f"bearer {self.token}")
        if status == 401 and _error_code(body) == 1000 and self.target.refresh_token:
            self.refresh()
            status, body = self.call(method, self.target.api + path, auth=f"bearer {self.token}")
        return status, body

    def token_endpoint(self) -> str:
        if self.target.token_endpoint is None:
            status, info = self.call("GET", f"{self.target.api}/v2/info")
            endpoint = info.get("token_endpoint") if isinstance(info, dict) else None
            if status != 200 or not isinstance(endpoint, str):
                raise RecordError(f"{self.target.api}/v2/info answered {status}; is this a Cloud Controller v2 API?")
            self.target.token_endpoint = endpoint.rstrip("/") + "/oauth/token"
        return self.target.token_endpoint

    def login(self) -> None:
        form = {
            "grant_type": "password",
            "username": self.target.username or "",
            "password": self.target.password or "",
        }
        self._grant(form, "log in")

    def refresh(self) -> None:
        self._grant({"grant_type": "refresh_token", "refresh_token": self.target.refresh_token or ""}, "refresh")

    def _grant(self, form: dict[str, str], what: str) -> None:
        status, body = self.call("POST", self.token_endpoint(), form=form, auth=cfapi.CF_CLIENT_BASIC)
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise RecordError(f"could not {what} at {self.token_endpoint()}: {status} {error or ''}".rstrip())
        self.token = body["access_token"]
        self.target.refresh_token = body.get("refresh_token") or self.target.refresh_token


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _error_code(body: Any) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def _describe_error(status: int, body: Any) -> str:
    if isinstance(body, dict) and "error_code" in body:
        return f"{status} {body['error_code']}: {body.get('description', '')}".rstrip(": ")
    return str(status)


@contextlib.contextmanager
def _target_or_simulator(target: Target | None, seed: int) -> Iterator[Target]:
    if target is not None:
        yield target
        return
    with simulator.run(seed=seed) as running:
        yield Target(
            running.url,
            f"the embedded simulator at {running.url} (no --api and no cf login)",
            username=running.username,
            password=running.password,
        )


def record_restage(
    app: str,
    *,
    output: Path,
    target: Target | None = None,
    wait: bool = False,
    timeout: float = 300.0,
    interval: float = 1.0,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> RecordResult:
    """Record restaging *app* (a name or a guid) into the cassette *output*."""
    sanitizer = Sanitizer(SanitizeConfig.from_pyproject())
    with _target_or_simulator(target, seed) as chosen, _staging_file(output) as temporary:
        client = _Client(chosen)
        with use_cassette(temporary, record_mode="all", freeze_time=False, sanitizer=sanitizer) as active:
            if client.token is None:
                client.login()
            guid = app if _GUID.match(app) else _find_app(client, app)
            status, body = client.cc("POST", f"/v2/apps/{guid}/restage")
            if status == 401:
                raise RecordError(f"restage was refused: {_describe_error(status, body)} (log in again: cf login)")
            if status == 403:
                raise RecordError(
                    f"restage was refused: {_describe_error(status, body)} (a space developer's login can)"
                )
            if status == 404:
                raise RecordError(f"no app {app!r} at {chosen.api}: {_describe_error(status, body)}")
            result = RecordResult(output, 0, chosen, active.report, status)
            if status != 201:
                result.notes.append(f"restage answered {_describe_error(status, body)}")
            else:
                result.package_state = body["entity"]["package_state"] if isinstance(body, dict) else None
                if wait:
                    result.staged, result.polls = _wait(client, guid, timeout, interval, progress)
        _finish(temporary, output, sanitizer)
        result.interactions = len(cassette_files.load(output).interactions)
        return result


def _find_app(client: _Client, name: str) -> str:
    query = urllib.parse.urlencode({"q": f"name:{name}"})
    status, body = client.cc("GET", f"/v2/apps?{query}")
    if status == 401:
        raise RecordError(f"listing apps was refused: {_describe_error(status, body)} (log in again: cf login)")
    resources = body.get("resources") if isinstance(body, dict) else None
    if status != 200 or not isinstance(resources, list):
        raise RecordError(f"listing apps at {client.target.api} answered {_describe_error(status, body)}")
    if not resources:
        raise RecordError(f"no app named {name!r} at {client.target.api}")
    guid: str = resources[0]["metadata"]["guid"]
    return guid


def _wait(
    client: _Client, guid: str, timeout: float, interval: float, progress: Callable[[str], None] | None
) -> tuple[str, int]:
    """Poll the app until staging ends: the final package_state and the number of polls."""
    deadline = time.monotonic() + timeout
    spinner = "|/-\\"
    polls = 0
    while True:
        status, body = client.cc("GET", f"/v2/apps/{guid}")
        polls += 1
        if status != 200 or not isinstance(body, dict):
            raise RecordError(f"polling the app answered {_describe_error(status, body)}")
        state: str = body["entity"]["package_state"]
        if progress is not None:
            progress(f"{spinner[(polls - 1) % 4]} staging: {state} (poll {polls})")
        if state in ("STAGED", "FAILED"):
            return state, polls
        if time.monotonic() + interval > deadline:
            raise RecordError(f"staging did not finish within {timeout:g} s (still {state}); nothing was written")
        time.sleep(interval)


@contextlib.contextmanager
def _staging_file(output: Path) -> Iterator[Path]:
    """A temporary cassette beside *output*; removed unless it was moved into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    # The suffix stays last: use_cassette picks YAML or JSON from it.
    temporary = output.with_name(f".{output.stem}.recording{output.suffix}")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _finish(temporary: Path, output: Path, sanitizer: Sanitizer) -> None:
    """Scan what was recorded, then move it into place: a cassette with a finding is never written."""
    if not temporary.exists():
        raise RecordError("nothing was recorded")
    findings = scanner.scan_file(temporary, table=sanitizer.table)
    if findings:
        rules = ", ".join(sorted({finding.rule for finding in findings}))
        raise RecordError(f"the recording still held secrets ({rules}); nothing was written — please report this")
    os.replace(temporary, output)


def record_from_docs(output: Path) -> RecordResult:
    """Write the exchange documented on CC's apidocs page (restage, cf-release v224) as a cassette."""
    guid = "c462b988-8644-4bf6-83cb-32a12c3d1564"
    stamp = "2015-11-03T00:54:16Z"
    token = factories.docs_access_token(
        user_id="uaa-id-396",
        email="email-292@somedomain.com",
        scope=["cloud_controller.admin"],
        aud=["cloud_controller"],
        exp=1447116856,
    )
    request = factories.restage_request(guid, token=token)
    seeder_now = datetime(2015, 11, 3, 0, 54, 16, tzinfo=UTC)
    era = cfapi.SEED_API_VERSION  # the documented exchange's era, whatever the default
    app = factories.app_envelope(
        "stopped", "staging", "dea", api_version=era, seed=0, now=seeder_now, guid=guid, created_at=stamp,
        updated_at=stamp,
        name="name-2319", space_guid="879e3af7-de9c-4313-96b5-46d8589d2fb1",
        stack_guid="9d26dede-5e3a-465c-acac-65e8b19deffb", buildpack=None, detected_buildpack=None,
        environment_json=None, memory=1024, instances=1, disk_quota=1024, command=None, staging_task_id=None,
        health_check_type="port", health_check_timeout=None, docker_image=None, package_updated_at=stamp,
        detected_start_command="", enable_ssh=True, ports=None,
    )  # fmt: skip
    response = factories.restage_response(
        app, api_version=era, seed=0, now=seeder_now, version="caf0179d-bac4-41db-8361-19a855b40db6",
        request_id="b8fcfa2f-1042-49e5-9611-aae741f89f24",
    )  # fmt: skip
    data = {
        "interactions": [
            {
                "request": {
                    "body": request.body.decode(),
                    "headers": {name: [value] for name, value in request.headers},
                    "method": request.method,
                    "uri": f"https://example.org{request.path}",
                },
                "response": {
                    "body": {"string": response.body.decode()},
                    "headers": {name: [value] for name, value in response.headers},
                    "recorded_at": stamp,
                    "status": {"code": response.status, "message": response.reason},
                },
            }
        ],
        "version": 1,
    }
    sanitizer = Sanitizer(SanitizeConfig.from_pyproject())
    with _staging_file(output) as temporary:
        report = writing.write_cassette(temporary, data, cassette_files.detect_format(output), sanitizer)
        _finish(temporary, output, sanitizer)
    docs = Target("https://example.org", "the documented exchange (apidocs, cf-release v224)")
    return RecordResult(output, 1, docs, report, 201, "PENDING")
