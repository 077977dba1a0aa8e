"""What real Cloud Foundry v2 clients send around a restage, over any transport.

Two clients, each written once and run two ways: ``cfreplay record restage APP
--client …`` sends their requests with urllib (vcrpy records them), and
:mod:`cfreplay.shipped` sends them to a :class:`~cfreplay.serve.simulator.Simulator`
in-process to build its ``scenarios/*`` cassettes.  A replay matches requests by
method and URL, so the sequence (paths and queries, in order) is what must be the
client's; headers and form fields follow the client as well, for whoever reads
the cassette.

``cf-cli`` — the cf CLI v6's ``cf restage`` as written in its legacy command
(cloudfoundry/cli v6.28.0: cf/commands/application/restage.go, start.go,
cf/api/applications/applications.go, cf/api/appinstances/app_instances.go,
cf/api/app_summary.go, cf/api/authentication/authentication.go, cf/net/gateway.go):
``cf login`` reads ``GET /v2/info`` and posts a password grant to the
``authorization_endpoint``; the app is looked up in the targeted space with
``inline-relations-depth=1``; ``POST /v2/apps/:guid/restage``; ``GET
/v2/apps/:guid`` until ``package_state`` is STAGED or FAILED; then ``GET
/instances`` (and ``/stats`` whenever that answered) until an instance runs;
then the app, its ``/summary``, ``/instances`` and ``/stats`` for the closing
display.  On a 401 with code 1000 it refreshes the token and retries once.
(The staging-log websocket is not HTTP and is not recorded.)

``cloudfoundry-client`` — cloudfoundry-client 1.40.4 (cloudfoundry_client/client.py,
v2/entities.py, v2/apps.py; oauth2_client/credentials_manager.py): the client
starts with ``GET /`` and takes the token endpoint from the root's ``login``
link; ``apps.get_first(name=…)`` asks ``GET /v2/apps?q=name%3A…&results-per-page=1``;
``apps.restage(guid)``; then the waits it offers: ``apps.get(guid)`` until
staging ends, ``apps.get_summary`` for the instance count and
``apps.get_instances`` until that many run (``AppManager.start``'s wait, which
reads CF-NotStaged and CF-InstancesError as "none yet").  On a 401
CF-InvalidAuthToken it refreshes and retries once.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from cfreplay.cf import cfapi
from cfreplay.errors import RecordError

__all__ = [
    "CLIENTS",
    "DEFAULT_CLIENT",
    "CfCli",
    "ClientName",
    "CloudfoundryClient",
    "Flow",
    "Login",
    "Transport",
    "WaitResult",
    "describe",
    "flow",
]

ClientName = Literal["cf-cli", "cloudfoundry-client"]
#: The clients whose sequences cfreplay knows, by the names ``--client`` takes.
CLIENTS: Final[tuple[ClientName, ...]] = ("cf-cli", "cloudfoundry-client")
DEFAULT_CLIENT: Final[ClientName] = "cf-cli"

#: ``send(method, url, headers, body) -> (status, body)``: one HTTP exchange.
Transport = Callable[[str, str, Sequence[tuple[str, str]], bytes | None], tuple[int, bytes]]
#: What a wait reports as it goes (one line per poll).
Progress = Callable[[str], None]

# The cf CLI v6.28.0's agent (cf/net/gateway.go: "go-cli " + version + " / " + GOOS).
_CF_CLI_AGENT: Final = "go-cli 6.28.0+6b0c0902f.2017-06-27 / linux"
_PYTHON_CLIENT_AGENT: Final = "cf-python-client"
# The token grant goes out through plain requests.post, with requests' own agent.
_REQUESTS_AGENT: Final = "python-requests/2.32.3"
_NOT_STARTED_CODES: Final = (170002, 220001)  # NotStaged, InstancesError: "no instances yet"
_SPINNER: Final = "|/-\\"


@dataclass
class Login:
    """What a client knows before it sends anything: where, and the credentials it was given."""

    api: str
    token: str | None = None
    refresh_token: str | None = None
    username: str | None = None
    password: str | None = None
    #: Where grants go, when a saved login says (the cf CLI's config); else discovered.
    token_endpoint: str | None = None
    #: The targeted space (the cf CLI looks apps up there).
    space_guid: str | None = None


@dataclass
class WaitResult:
    """How a wait ended: the final ``package_state``, how many app polls it took, and what the instances did."""

    package_state: str
    polls: int
    #: RUNNING, CRASHED or FLAPPING once the instances were waited for; None when they were not.
    instances: str | None = None


class _Clock:
    """The wait's deadline: *sleep* between polls and *clock* to read time (both injectable, so tests need not wait)."""

    def __init__(self, timeout: float, interval: float, sleep: Callable[[float], None], clock: Callable[[], float]):
        self.deadline = clock() + timeout
        self.timeout, self.interval, self.sleep, self.clock = timeout, interval, sleep, clock

    def pause(self, what: str, still: str) -> None:
        if self.clock() + self.interval > self.deadline:
            raise RecordError(f"{what} did not finish within {self.timeout:g} s (still {still}); nothing was written")
        self.sleep(self.interval)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _code(body: Any) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def describe(status: int, body: Any) -> str:
    """``401 CF-InvalidAuthToken: Invalid Auth Token`` (or the bare status)."""
    if isinstance(body, dict) and "error_code" in body:
        return f"{status} {body['error_code']}: {body.get('description', '')}".rstrip(": ")
    return str(status)


class Flow:
    """One client's requests: start (log in), look an app up, restage it, wait for it.

    Subclasses say what their client sends; this base holds the token and the one
    retry after a refresh that both clients make on CC's 401 CF-InvalidAuthToken.
    """

    name: ClientName

    def __init__(self, login: Login, send: Transport) -> None:
        self.login = login
        self.token = login.token
        self._send = send

    # ------------------------------------------------------------------ what differs per client

    def start(self) -> None:
        """What the client sends before its first CC request (discovery, a grant)."""
        raise NotImplementedError

    def find_app(self, name: str) -> tuple[int, Any, str]:
        """Look *name* up: (status, body, the path asked)."""
        raise NotImplementedError

    def wait(
        self,
        guid: str,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        progress: Progress | None = None,
    ) -> WaitResult:
        """Poll as the client does until staging ends (and, if it did, the instances start)."""
        raise NotImplementedError

    def _cc_headers(self, method: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _grant_headers(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _password_form(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _refresh_form(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _discover_token_endpoint(self) -> str:
        raise NotImplementedError

    def _is_expired(self, status: int, body: Any) -> bool:
        return status == 401 and _code(body) == 1000

    # ------------------------------------------------------------------ shared

    def call(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes | None = None
    ) -> tuple[int, Any]:
        status, raw = self._send(method, url, headers, body)
        return status, _json(raw)

    def cc(self, method: str, path: str) -> tuple[int, Any]:
        """A CC request with the bearer token; refreshed and retried once when CC says the token expired."""
        status, answer = self.call(method, self.login.api + path, self._cc_headers(method))
        if self._is_expired(status, answer) and self.login.refresh_token:
            self.refresh()
            status, answer = self.call(method, self.login.api + path, self._cc_headers(method))
        return status, answer

    def restage(self, guid: str) -> tuple[int, Any]:
        return self.cc("POST", cfapi.restage_path(guid))

    def token_endpoint(self) -> str:
        if self.login.token_endpoint is None:
            self.login.token_endpoint = self._discover_token_endpoint()
        return self.login.token_endpoint

    def password_grant(self) -> None:
        self._grant(self._password_form(), "log in")

    def refresh(self) -> None:
        self._grant(self._refresh_form(), "refresh")

    def _grant(self, form: list[tuple[str, str]], what: str) -> None:
        endpoint = self.token_endpoint()
        status, body = self.call("POST", endpoint, self._grant_headers(), urllib.parse.urlencode(form).encode())
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise RecordError(f"could not {what} at {endpoint}: {status} {error or ''}".rstrip())
        self.token = body["access_token"]
        self.login.refresh_token = body.get("refresh_token") or self.login.refresh_token

    def _poll_staging(self, guid: str, clock: _Clock, progress: Progress | None) -> tuple[str, int, Any]:
        """``GET /v2/apps/:guid`` until staging ends: (package_state, polls, the last app)."""
        polls = 0
        while True:
            status, body = self.cc("GET", cfapi.app_path(guid))
            polls += 1
            if status != 200 or not isinstance(body, dict):
                raise RecordError(f"polling the app answered {describe(status, body)}")
            state: str = body["entity"]["package_state"]
            if progress is not None:
                progress(f"{_SPINNER[(polls - 1) % 4]} staging: {state} (poll {polls})")
            if state in ("STAGED", "FAILED"):
                return state, polls, body
            clock.pause("staging", state)


class CfCli(Flow):
    """The cf CLI v6's ``cf login`` and ``cf restage`` (legacy commands, v6.0 – v6.28)."""

    name: ClientName = "cf-cli"

    def start(self) -> None:
        if self.token is None:
            self.password_grant()

    def _discover_token_endpoint(self) -> str:
        # cf login: GET /v2/info, then grants go to its authorization_endpoint (the login server).
        status, info = self.call("GET", f"{self.login.api}/v2/info", self._plain_headers())
        endpoint = info.get("authorization_endpoint") if isinstance(info, dict) else None
        if status != 200 or not isinstance(endpoint, str):
            raise RecordError(f"{self.login.api}/v2/info answered {status}; is this a Cloud Controller v2 API?")
        return endpoint.rstrip("/") + "/oauth/token"

    def find_app(self, name: str) -> tuple[int, Any, str]:
        # Go's url.QueryEscape: ':' is escaped, a space is '+'.
        query = f"q={urllib.parse.quote_plus('name:' + name)}&inline-relations-depth=1"
        space = self.login.space_guid
        path = f"/v2/spaces/{space}/apps?{query}" if space else f"{cfapi.APPS_PATH}?{query}"
        status, body = self.cc("GET", path)
        return status, body, path

    def wait(
        self,
        guid: str,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        progress: Progress | None = None,
    ) -> WaitResult:
        deadline = _Clock(timeout, interval, sleep, clock)
        state, polls, app = self._poll_staging(guid, deadline, progress)
        result = WaitResult(state, polls)
        if state != "STAGED":
            return result
        if int(app["entity"].get("instances", 0)) > 0:
            result.instances = self._wait_for_one_running(guid, deadline, progress)
        # The closing `cf app` display: the app again, its summary, instances and their stats.
        for path in ("", "/summary", "/instances", "/stats"):
            self.cc("GET", cfapi.app_path(guid) + path)
        return result

    def _wait_for_one_running(self, guid: str, clock: _Clock, progress: Progress | None) -> str:
        """start.go#waitForOneRunningInstance: instances then stats, until one runs (or they crash)."""
        polls = 0
        while True:
            polls += 1
            status, instances = self.cc("GET", f"{cfapi.app_path(guid)}/instances")
            states: list[str] = []
            if status == 200 and isinstance(instances, dict):
                # GetInstances reads the stats right after; an error there is a warning and a retry.
                self.cc("GET", f"{cfapi.app_path(guid)}/stats")
                states = [str(i.get("state")) for i in instances.values() if isinstance(i, dict)]
            running = f"{states.count('RUNNING')} of {len(states)} instances running"
            if progress is not None:
                progress(f"{_SPINNER[(polls - 1) % 4]} starting: {running} (poll {polls})")
            if "RUNNING" in states:
                return "RUNNING"
            if "CRASHED" in states or "FLAPPING" in states:
                return "CRASHED" if "CRASHED" in states else "FLAPPING"
            clock.pause("starting", running)

    def _plain_headers(self) -> list[tuple[str, str]]:
        return [("Accept", "application/json"), ("Content-Type", "application/json"), ("User-Agent", _CF_CLI_AGENT)]

    def _cc_headers(self, method: str) -> list[tuple[str, str]]:
        # The gateway sends the token as the config keeps it: "<token_type> <token>", lower-case bearer.
        return [("Authorization", f"bearer {self.token}"), *self._plain_headers()]

    def _grant_headers(self) -> list[tuple[str, str]]:
        return [
            ("Authorization", cfapi.CF_CLIENT_BASIC),
            ("Accept", "application/json"),
            ("Content-Type", cfapi.FORM_CONTENT_TYPE),
            ("User-Agent", _CF_CLI_AGENT),
        ]

    def _password_form(self) -> list[tuple[str, str]]:
        # url.Values.Encode sorts by key.
        return [
            ("grant_type", "password"),
            ("password", self.login.password or ""),
            ("scope", ""),
            ("username", self.login.username or ""),
        ]

    def _refresh_form(self) -> list[tuple[str, str]]:
        return [("grant_type", "refresh_token"), ("refresh_token", self.login.refresh_token or ""), ("scope", "")]


class CloudfoundryClient(Flow):
    """cloudfoundry-client 1.40.4 (cf-python-client): ``CloudFoundryClient`` and its ``v2.apps`` manager."""

    name: ClientName = "cloudfoundry-client"

    def start(self) -> None:
        # CloudFoundryClient.__init__ reads the root document before anything else.
        self.login.token_endpoint = self._discover_token_endpoint()
        if self.login.username is not None:
            self.password_grant()  # init_with_user_credentials
        elif self.login.refresh_token:
            self.refresh()  # build_from_cf_config / init_with_token: a refresh grant first

    def _discover_token_endpoint(self) -> str:
        status, root = self.call("GET", f"{self.login.api}/", [("User-Agent", _REQUESTS_AGENT), ("Accept", "*/*")])
        links = root.get("links") if isinstance(root, dict) else None
        link = None
        if isinstance(links, dict):
            link = links.get("login") or links.get("uaa") or links.get("self")
        href = link.get("href") if isinstance(link, dict) else None
        if status != 200 or not isinstance(href, str):
            raise RecordError(f"{self.login.api}/ answered {status}; is this a Cloud Foundry API?")
        return href.rstrip("/") + "/oauth/token"

    def find_app(self, name: str) -> tuple[int, Any, str]:
        # EntityManager._get_url_filtered: kwargs sorted, q values through urllib.parse.quote.
        path = f"{cfapi.APPS_PATH}?q={urllib.parse.quote('name:' + name)}&results-per-page=1"
        status, body = self.cc("GET", path)
        return status, body, path

    def wait(
        self,
        guid: str,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        progress: Progress | None = None,
    ) -> WaitResult:
        deadline = _Clock(timeout, interval, sleep, clock)
        state, polls, _ = self._poll_staging(guid, deadline, progress)
        result = WaitResult(state, polls)
        if state != "STAGED":
            return result
        status, summary = self.cc("GET", f"{cfapi.app_path(guid)}/summary")
        if status != 200 or not isinstance(summary, dict):
            raise RecordError(f"the app's summary answered {describe(status, summary)}")
        wanted = int(summary.get("instances", 0))
        polls = 0
        while True:  # AppManager._wait_for_instances_in_state(guid, wanted, "RUNNING")
            polls += 1
            status, instances = self.cc("GET", f"{cfapi.app_path(guid)}/instances")
            if status == 400 and _code(instances) in _NOT_STARTED_CODES:
                instances = {}
            elif status != 200 or not isinstance(instances, dict):
                raise RecordError(f"the app's instances answered {describe(status, instances)}")
            running = sum(1 for i in instances.values() if isinstance(i, dict) and i.get("state") == "RUNNING")
            if progress is not None:
                progress(
                    f"{_SPINNER[(polls - 1) % 4]} starting: {running} of {wanted} instances running (poll {polls})"
                )
            if running == wanted:
                result.instances = "RUNNING"
                return result
            deadline.pause("starting", f"{running} of {wanted} instances running")

    def _is_expired(self, status: int, body: Any) -> bool:
        # CloudFoundryClient._is_token_expired: code 1000 *and* CF-InvalidAuthToken.
        return super()._is_expired(status, body) and body.get("error_code") == "CF-InvalidAuthToken"

    def _cc_headers(self, method: str) -> list[tuple[str, str]]:
        # The requests session's headers: agent, Accept */*, then the bearer token.
        return [("User-Agent", _PYTHON_CLIENT_AGENT), ("Accept", "*/*"), ("Authorization", f"Bearer {self.token}")]

    def _grant_headers(self) -> list[tuple[str, str]]:
        return [
            ("User-Agent", _REQUESTS_AGENT),
            ("Accept", "application/json"),
            ("Authorization", cfapi.CF_CLIENT_BASIC),
            ("Content-Type", cfapi.FORM_CONTENT_TYPE),
        ]

    def _password_form(self) -> list[tuple[str, str]]:
        # CredentialManager._grant_password_request's dict, in its order.
        return [
            ("grant_type", "password"),
            ("username", self.login.username or ""),
            ("scope", ""),
            ("password", self.login.password or ""),
        ]

    def _refresh_form(self) -> list[tuple[str, str]]:
        return [("grant_type", "refresh_token"), ("scope", ""), ("refresh_token", self.login.refresh_token or "")]


def flow(client: ClientName, login: Login, send: Transport) -> Flow:
    """The flow of *client* (one of :data:`CLIENTS`)."""
    if client == "cf-cli":
        return CfCli(login, send)
    if client == "cloudfoundry-client":
        return CloudfoundryClient(login, send)
    raise ValueError(f"unknown client {client!r}; clients: {', '.join(CLIENTS)}")
