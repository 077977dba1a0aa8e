"""Recording a restage exchange from a foundation: the work behind ``cfreplay record``.

The target is, in this order: ``--api`` with ``--token`` or ``CF_USERNAME`` and
``CF_PASSWORD``; else the cf CLI's own login (``$CF_HOME/.cf/config.json``,
``~/.cf/config.json`` by default: Target, AccessToken, RefreshToken); else the
embedded simulator, so the command works on a machine with no foundation at all.

The exchange is the sequence a real client sends (:mod:`cfreplay.serve.flows`
writes each one down once): ``cf-cli``, the default, is the cf CLI v6's ``cf
login`` and ``cf restage`` (``GET /v2/info`` and a password grant, the app
looked up in the targeted space with ``inline-relations-depth=1``, the restage,
then with ``wait`` the app polled until staging ends and its instances and stats
until one runs, and the closing display); ``cloudfoundry-client`` is
cloudfoundry-client's (``GET /``, the grant, ``get_first(name=…)`` with
``results-per-page=1``, the restage, then its polls of the app, the summary and
the instances).  Both refresh the token and retry once on CC's 401
``CF-InvalidAuthToken``.  It runs under :func:`cfreplay.use_cassette`, so every
interaction is sanitized before it is written; the cassette goes to a temporary
file that is scanned and only then moved into place, so a failure leaves no
partial cassette behind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from cfreplay.serve import flows, simulator
from cfreplay.serve.flows import ClientName, Flow

__all__ = [
    "CLIENTS",
    "DEFAULT_CLIENT",
    "RecordResult",
    "Target",
    "record_from_docs",
    "record_restage",
    "resolve_target",
]

#: The clients ``--client`` names, and the one recorded by default (the cf CLI's, as before there was a choice).
CLIENTS: Final = flows.CLIENTS
DEFAULT_CLIENT: Final = flows.DEFAULT_CLIENT

_GUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMEOUT: Final = 30.0


@dataclass
class Target(flows.Login):
    """Where to record from and how to authenticate there (a client's login), named for the report."""

    #: How the target was found, as the report says it ("the embedded simulator at …").
    source: str = ""


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
    #: With --wait, after STAGED: what the instances came to (RUNNING, CRASHED, FLAPPING).
    instances: str | None = None
    client: ClientName = flows.DEFAULT_CLIENT
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
            return Target(api, token=_bare(token), source=f"{api} (--token)")
        if env.get("CF_USERNAME") and env.get("CF_PASSWORD"):
            return Target(api, username=env["CF_USERNAME"], password=env["CF_PASSWORD"], source=f"{api} (CF_USERNAME)")
        raise RecordError(f"--api {api} needs --token, or CF_USERNAME and CF_PASSWORD in the environment")
    found = _cf_config(env)
    if found is not None:
        path, config = found
        target, access = config.get("Target"), config.get("AccessToken")
        if isinstance(target, str) and target and isinstance(access, str) and access:
            uaa = config.get("UaaEndpoint") or config.get("AuthorizationEndpoint")
            space = config.get("SpaceFields")
            space_guid = space.get("GUID") if isinstance(space, dict) else None
            return Target(
                target.rstrip("/"),
                source=f"{target} (cf CLI login, {path})",
                token=_bare(access),
                refresh_token=config.get("RefreshToken") or None,
                token_endpoint=f"{str(uaa).rstrip('/')}/oauth/token" if uaa else None,
                space_guid=space_guid if isinstance(space_guid, str) and space_guid else None,
            )
    return None


def _bare(token: str) -> str:
    """A token without its ``bearer`` scheme, as the cf CLI's config stores it with one."""
    scheme, _, rest = token.strip().partition(" ")
    return rest.strip() if rest and scheme.lower() == "bearer" else token.strip()


def _send(method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes | None) -> tuple[int, bytes]:
    """The flows' transport: urllib, which vcrpy records; what cannot be reached is a one-line RecordError."""
    request = urllib.request.Request(url, data=body, method=method)
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RecordError(f"cannot reach {url}: {reason}") from None
    except http.client.HTTPException as error:
        raise RecordError(f"cannot reach {url}: it does not answer as HTTP ({type(error).__name__})") from None


_describe_error = flows.describe


@contextlib.contextmanager
def _target_or_simulator(target: Target | None, seed: int) -> Iterator[Target]:
    if target is not None:
        yield target
        return
    with simulator.run(seed=seed) as running:
        yield Target(
            running.url,
            source=f"the embedded simulator at {running.url} (no --api and no cf login)",
            username=running.username,
            password=running.password,
            space_guid=running.simulator.space_guid,  # as `cf target -s` would have it
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
    client: ClientName = flows.DEFAULT_CLIENT,
) -> RecordResult:
    """Record restaging *app* (a name or a guid) into the cassette *output*, as *client* sends it."""
    sanitizer = Sanitizer(SanitizeConfig.from_pyproject())
    with _target_or_simulator(target, seed) as chosen, _staging_file(output) as temporary:
        sender = flows.flow(client, chosen, _send)
        notes: list[str] = []
        with use_cassette(temporary, record_mode="all", freeze_time=False, sanitizer=sanitizer) as active:
            sender.start()
            guid = app if _GUID.match(app) else _find_app(sender, app, notes)
            status, body = sender.restage(guid)
            if status == 401:
                raise RecordError(f"restage was refused: {_describe_error(status, body)} (log in again: cf login)")
            if status == 403:
                raise RecordError(
                    f"restage was refused: {_describe_error(status, body)} (a space developer's login can)"
                )
            if status == 404:
                raise RecordError(f"no app {app!r} at {chosen.api}: {_describe_error(status, body)}")
            result = RecordResult(output, 0, chosen, active.report, status, client=client, notes=notes)
            if status != 201:
                result.notes.append(f"restage answered {_describe_error(status, body)}")
            else:
                result.package_state = body["entity"]["package_state"] if isinstance(body, dict) else None
                if wait:
                    waited = sender.wait(
                        guid,
                        timeout=timeout,
                        interval=interval,
                        sleep=time.sleep,
                        clock=time.monotonic,
                        progress=progress,
                    )
                    result.staged, result.polls, result.instances = waited.package_state, waited.polls, waited.instances
        _finish(temporary, output, sanitizer)
        result.interactions = len(cassette_files.load(output).interactions)
        return result


def _find_app(sender: Flow, name: str, notes: list[str]) -> str:
    status, body, path = sender.find_app(name)
    if status == 401:
        raise RecordError(f"listing apps was refused: {_describe_error(status, body)} (log in again: cf login)")
    resources = body.get("resources") if isinstance(body, dict) else None
    if status != 200 or not isinstance(resources, list):
        raise RecordError(f"listing apps at {sender.login.api} answered {_describe_error(status, body)}")
    if not resources:
        raise RecordError(f"no app named {name!r} at {sender.login.api}")
    if sender.name == "cf-cli" and sender.login.space_guid is None:
        # The cf CLI looks an app up in its targeted space; with none known, every space was asked.
        notes.append(f"no targeted space: looked {name!r} up in every space ({path.partition('?')[0]})")
    guid: str = resources[0]["metadata"]["guid"]
    return guid


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
    docs = Target("https://example.org", source="the documented exchange (apidocs, cf-release v224)")
    return RecordResult(output, 1, docs, report, 201, "PENDING")
