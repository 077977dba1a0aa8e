"""An embedded Cloud Controller v2 and UAA: a live endpoint to record from and test against.

Two layers, so the logic can be tested without sockets and the sockets stay dumb:

* :class:`Simulator` is the state machine.  ``handle(method, path, headers, body)``
  returns a :class:`cfreplay.Response` and does no I/O.  Every body, error and
  token comes from cfreplay's factories, so what it serves is schema-exact for
  its ``api_version``, and it follows CC's rules: restage's checks in CC's order
  (reference §1.1), list pages and their links (§3), UAA's grants and errors (§4).
* :func:`run` (a context manager, for tests) and :func:`serve` (blocking, for the
  CLI) put a simulator behind a ``ThreadingHTTPServer`` bound to 127.0.0.1 only.

What is seeded and what is not:

* The world comes from ``seed``: the apps (guids, names, every field), the space,
  the user's id and password, and the client secret.  The same seed gives the
  same world in any process.
* Tokens, request ids and cookies come from fresh randomness.  A token must not
  be guessable by another simulator started with the same seed, because "issued
  by this simulator" is one of the things the simulator checks.
* Tokens always use the real clock (``iat``/``exp``), so live clients that look
  at ``exp`` keep working; freezegun's frozen time is honoured.

The six default apps have fixed names so docs and the CLI can rely on them:
``my-app``, ``docker-app``, ``stopped-app`` (restage works), ``staging-app``
(CF-NotStaged), ``no-bits-app`` (CF-AppPackageInvalid) and ``zero-app``
(CF-StagingError).  After a restage an app reads ``PENDING`` for
``polls_to_stage`` GETs (or for ``staging_seconds``), then ``STAGED``.

Served routes: ``GET /``, ``GET /v2/info``, ``POST /oauth/token``,
``GET /v2/apps``, ``GET /v2/apps/:guid`` and ``POST /v2/apps/:guid/restage``.
Anything else is CC's unknown-route 404.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from cfreplay.cf import cfapi, factories, tokens
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.serve import loopback
from cfreplay.types import Response

__all__ = [
    "CLIENT_CREDENTIALS_CLIENT_ID",
    "DEFAULT_APP_NAMES",
    "HOST",
    "USERNAME",
    "HandledRequest",
    "RunningSimulator",
    "SimulatedApp",
    "Simulator",
    "run",
    "serve",
]

_log = logging.getLogger(__name__)

#: The only interface the simulator listens on: it is a test fixture, never a service.
HOST: Final = loopback.HOST
#: The one user (a space developer of every app).
USERNAME: Final = "admin@example.com"
#: A confidential client for the client_credentials grant; its secret comes from the seed.
CLIENT_CREDENTIALS_CLIENT_ID: Final = "cfreplay-client"

_ADMIN: Final = "cloud_controller.admin"
# CC's read and write checks (CCNG app/access/*_access.rb: read_with_token / read_for_update_with_token).
_READ_SCOPES: Final = (
    _ADMIN,
    "cloud_controller.read",
    "cloud_controller.admin_read_only",
    "cloud_controller.global_auditor",
)
_WRITE_SCOPES: Final = (_ADMIN, "cloud_controller.write")
_CLIENT_SCOPES: Final = (_ADMIN, "cloud_controller.read", "cloud_controller.write")
# restage refuses apps with no instances from ≈2.94 on (reference §1.1, step 4).
_INSTANCES_CHECK_SINCE: Final = ApiVersion(2, 94, 0)
_TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"
_APP_ROUTE: Final = re.compile(r"/v2/apps(?:/(?P<guid>[^/]+)(?P<restage>/restage)?)?")
# CC's filter grammar (CCNG lib/cloud_controller/rest_controller/query_string_parser.rb).
_FILTER: Final = re.compile(r"(?P<key>\w+)(?P<op> IN |>=|<=|:|<|>)(?P<value>.*)", re.DOTALL)
_ORDER_BY: Final = ("id", "name")
_JAVA_DATE: Final = "%a %b %d %H:%M:%S UTC %Y"


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class _AppSpec:
    name: str
    traits: tuple[str, ...]
    has_package: bool = True
    overrides: Mapping[str, Any] = field(default_factory=dict)


_DEFAULT_APPS: Final = (
    _AppSpec("my-app", ("started", "staged", "buildpack")),
    _AppSpec("docker-app", ("started", "staged", "docker")),
    _AppSpec("stopped-app", ("stopped", "staged", "buildpack")),
    _AppSpec("staging-app", ("started", "staging", "buildpack")),
    # A current droplet but no package (e.g. a droplet uploaded through v3): package_state
    # reads STAGED (CCNG package_state_calculator.rb), so restage reaches the package check.
    _AppSpec("no-bits-app", ("started", "staged", "buildpack"), has_package=False),
    _AppSpec("zero-app", ("started", "staged", "buildpack"), overrides={"instances": 0}),
)
#: The names of the apps every simulator starts with, in listing order.
DEFAULT_APP_NAMES: Final = tuple(spec.name for spec in _DEFAULT_APPS)


_SIGNING_KEY_ID: Final = "simulator-key-1"


@dataclass
class SimulatedApp:
    """One app: its v2 resource (with relation links) and what restage needs to know."""

    envelope: dict[str, Any]
    #: False: no package was ever uploaded, so restage answers CF-AppPackageInvalid.
    has_package: bool = True
    #: After a restage: GETs that still read PENDING (``None``: not staging from a restage).
    polls_until_staged: int | None = None
    #: After a restage with ``staging_seconds``: the ``time.monotonic()`` staging ends at.
    staged_at: float | None = None

    @property
    def guid(self) -> str:
        return str(self.envelope["metadata"]["guid"])

    @property
    def name(self) -> str:
        return str(self.envelope["entity"]["name"])

    @property
    def package_state(self) -> str:
        return str(self.envelope["entity"]["package_state"])

    @property
    def state(self) -> str:
        return str(self.envelope["entity"]["state"])

    @property
    def instances(self) -> int:
        return int(self.envelope["entity"]["instances"])


class HandledRequest(NamedTuple):
    """One entry of :attr:`Simulator.requests`.  ``path`` has no query: secrets sent there stay out."""

    method: str
    path: str
    status: int


@dataclass(frozen=True)
class _Client:
    secret: str
    grants: tuple[str, ...]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class _RefreshGrant:
    client_id: str
    scopes: tuple[str, ...]
    auth_time: int
    exp: int


@dataclass(frozen=True)
class _Exchange:
    """The parts of a request every handler needs."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    generated_id: str
    incoming_id: str | None

    @property
    def request_id(self) -> str:
        return cfapi.vcap_request_id(self.generated_id, self.incoming_id)


class _Refusal(Exception):
    """A CC error to answer with: a catalog name and its detail (``guid=``, ``reason=``)."""

    def __init__(self, name: str, **detail: str) -> None:
        super().__init__(name)
        self.name = name
        # Any: error_response's keywords also include seed= and now=, which these never are.
        self.detail: dict[str, Any] = dict(detail)


class _UaaRefusal(Exception):
    """A UAA error: HTTP status, OAuth ``error`` and ``error_description``."""

    def __init__(self, status: int, error: str, description: str, *, realm: str = "UAA/oauth") -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.realm = realm


def _stamp(moment: datetime) -> str:
    return moment.strftime(_TIMESTAMP)


# --------------------------------------------------------------------------- the state machine


class Simulator:
    """Cloud Controller v2 and UAA as a state machine: :meth:`handle` maps a request to a response.

    ``seed`` fixes the world (apps, guids, names, the password and the client
    secret); ``api_version`` the era every body is built for; ``base_url`` where
    the simulator is reachable (every link and endpoint points there);
    ``token_lifetime`` the access tokens' ``expires_in``; ``polls_to_stage`` how
    many GETs of a restaged app read PENDING before it reads STAGED, or
    ``staging_seconds`` how long staging takes instead.  ``now`` is the clock the
    apps' timestamps are drawn against (``"wall"``, a datetime, or ``None`` for
    the factories' 2015 default).  Thread-safe: one lock serialises requests.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        api_version: str | ApiVersion = cfapi.LATEST_API_VERSION,
        base_url: str,
        token_lifetime: int = cfapi.DEFAULT_EXPIRES_IN,
        polls_to_stage: int = 2,
        staging_seconds: float | None = None,
        now: Now = "wall",
    ) -> None:
        if polls_to_stage < 0:
            raise ValueError(f"polls_to_stage must be 0 or more, not {polls_to_stage}")
        if staging_seconds is not None and staging_seconds < 0:
            raise ValueError(f"staging_seconds must be 0 or more, not {staging_seconds}")
        self.seed = seed
        self.api_version = ApiVersion.parse(api_version)
        self.base_url = base_url.rstrip("/")
        self.token_lifetime = token_lifetime
        self.polls_to_stage = polls_to_stage
        self.staging_seconds = staging_seconds
        self.requests: list[HandledRequest] = []
        self._lock = threading.RLock()
        # The world draws from one Seeder in a fixed order; restage responses from a second
        # one, so a given sequence of requests yields the same versions and build guids.
        self._world = Seeder(seed, now=now)
        self._runtime = Seeder(f"{seed}/runtime", now=now)
        self.organization_guid = self._world.uuid()
        self.space_guid = self._world.uuid()
        self.stack_guid = self._world.uuid()
        self.apps: list[SimulatedApp] = []
        for spec in _DEFAULT_APPS:
            self.add_app(spec.name, *spec.traits, has_package=spec.has_package, **spec.overrides)
        self.username = USERNAME
        self.user_id = self._world.uuid()
        self.password = self._world.hex(24)
        self.client_id = CLIENT_CREDENTIALS_CLIENT_ID
        self.client_secret = self._world.hex(32)
        self.vcap_instance_id = self._world.uuid()
        self._clients: dict[str, _Client] = {
            cfapi.CF_CLIENT_ID: _Client("", ("password", "refresh_token"), cfapi.DEVELOPER_SCOPES),
            self.client_id: _Client(self.client_secret, ("client_credentials",), _CLIENT_SCOPES),
        }
        self._live_access: set[str] = set()
        # Like a real UAA, the simulator signs with a key of its own, not cfreplay's published
        # test key: its tokens are secrets to the sanitizer, so no recording keeps one.
        self._signing_key = secrets.token_hex(32)
        self._refresh_grants: dict[str, _RefreshGrant] = {}
        self._root_body = cfapi.dump_json(self._root_document(), self.api_version, kind="resource")
        self._info_body = cfapi.dump_json(self._info_document(), self.api_version, kind="info")

    # ------------------------------------------------------------------ public helpers

    def add_app(self, name: str, *traits: str, has_package: bool = True, **overrides: Any) -> SimulatedApp:
        """Add an app drawn from the seed (factory traits and overrides), in the simulator's space."""
        version = self.api_version
        if "docker" in traits and not self._docker_supported():
            # Before Diego and docker_image (≈2.23) a docker app cannot exist; keep the name.
            traits = tuple(t for t in traits if t != "docker")
        values = {"name": name, "space_guid": self.space_guid, "stack_guid": self.stack_guid, **overrides}
        if not has_package and cfapi.app_field("package_updated_at").present_in(version):
            values.setdefault("package_updated_at", None)  # CC shows latest_package&.created_at
        with self._lock:  # the world Seeder is drawn from in one order, whatever the threads do
            envelope = factories.app_envelope(*traits, api_version=version, seed=self._world, links=True, **values)
            app = SimulatedApp(envelope, has_package=has_package)
            self.apps.append(app)
        return app

    def app(self, name_or_guid: str) -> SimulatedApp:
        """The app with this name or guid (``KeyError`` naming the known apps otherwise)."""
        with self._lock:
            for app in self.apps:
                if name_or_guid in (app.name, app.guid):
                    return app
            known = ", ".join(app.name for app in self.apps)
        raise KeyError(f"no simulated app named or with guid {name_or_guid!r}; apps: {known}")

    def expire_tokens(self) -> None:
        """Every access token issued so far now gets 401 CF-InvalidAuthToken; refresh tokens still work."""
        with self._lock:
            self._live_access.clear()

    # ------------------------------------------------------------------ dispatch

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> Response:
        """Answer one request.  *path* may carry a query; header names are matched case-insensitively."""
        split = urllib.parse.urlsplit(path)
        lowered = {key.lower(): value for key, value in headers.items()}
        exchange = _Exchange(
            method=method.upper(),
            path=split.path or "/",
            query=split.query,
            headers=lowered,
            body=body,
            generated_id=str(uuid.uuid4()),
            incoming_id=lowered.get("x-vcap-request-id") or lowered.get("x-request-id"),
        )
        with self._lock:
            try:
                response = self._route(exchange)
            except Exception:
                # A simulator bug must not hang the client: answer as CC does for any crash.
                _log.exception("cfreplay simulator failed on %s %s", exchange.method, exchange.path)
                response = self._cc_error(exchange, _Refusal("UnknownError"))
            self.requests.append(HandledRequest(exchange.method, exchange.path, response.status))
        return response

    def _route(self, exchange: _Exchange) -> Response:
        method, path = exchange.method, exchange.path
        if path == "/oauth/token":
            return self._token(exchange)
        try:
            if method == "GET" and path == "/":
                return self._cc_json(exchange, 200, self._root_body)
            if method == "GET" and path == "/v2/info":
                return self._cc_json(exchange, 200, self._info_body)
            match = _APP_ROUTE.fullmatch(path)
            if match is not None:
                guid, restage = match["guid"], match["restage"]
                if method == "GET" and guid is None:
                    return self._list_apps(exchange)
                if method == "GET" and guid is not None and restage is None:
                    return self._get_app(exchange, guid)
                if method == "POST" and guid is not None and restage is not None:
                    return self._restage(exchange, guid)
            return self._unknown_route(exchange)
        except _Refusal as refusal:
            return self._cc_error(exchange, refusal)

    # ------------------------------------------------------------------ CC responses

    def _vcap_cookie(self) -> tuple[str, str]:
        # gorouter's sticky-session cookie (reference §5), as it sets it.
        return ("Set-Cookie", f"__VCAP_ID__={self.vcap_instance_id}; Path=/; HttpOnly; Secure")

    def _cc_json(self, exchange: _Exchange, status: int, body: bytes) -> Response:
        # The header order of cfreplay's factories (Content-Type first, as Sinatra writes it).
        headers = (
            ("Content-Type", cfapi.JSON_CONTENT_TYPE),
            ("X-VCAP-Request-ID", exchange.request_id),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            self._vcap_cookie(),
        )
        return Response(status, headers, body)

    def _with_cookie(self, response: Response) -> Response:
        return Response(response.status, (*response.headers, self._vcap_cookie()), response.body)

    def _cc_error(self, exchange: _Exchange, refusal: _Refusal) -> Response:
        response = factories.error_response(
            refusal.name,
            api_version=self.api_version,
            seed=self._runtime,
            request_id=exchange.generated_id,
            incoming_request_id=exchange.incoming_id,
            **refusal.detail,
        )
        return self._with_cookie(response)

    def _unknown_route(self, exchange: _Exchange) -> Response:
        # Sinatra's not_found handler answers before any authentication, and its body,
        # unlike controller-raised errors, has no trailing newline (reference §1.3).
        response = self._cc_error(exchange, _Refusal("NotFound"))
        body = response.body.rstrip(b"\n")
        headers = tuple(
            (key, str(len(body)) if key.lower() == "content-length" else value) for key, value in response.headers
        )
        return Response(response.status, headers, body)

    def _hrefs(self) -> dict[str, str]:
        split = urllib.parse.urlsplit(self.base_url)
        websocket = f"{'wss' if split.scheme == 'https' else 'ws'}://{split.netloc}"
        base = self.base_url
        return {
            "self": base,
            "cloud_controller_v2": f"{base}/v2",
            "cloud_controller_v3": f"{base}/v3",
            "network_policy_v0": f"{base}/networking/v0/external",
            "network_policy_v1": f"{base}/networking/v1/external",
            "login": base,
            "uaa": base,
            "routing": f"{base}/routing",
            "logging": websocket,
            "log_cache": base,
            "log_stream": base,
            "app_ssh": f"{split.hostname}:2222",
        }

    def _root_document(self) -> dict[str, Any]:
        document = factories.root(api_version=self.api_version)
        hrefs = self._hrefs()
        for name, link in document["links"].items():
            if isinstance(link, dict) and name in hrefs:
                link["href"] = hrefs[name]
        return document

    def _info_document(self) -> dict[str, Any]:
        hrefs = self._hrefs()
        wanted = {
            "authorization_endpoint": self.base_url,
            "token_endpoint": self.base_url,
            "app_ssh_endpoint": hrefs["app_ssh"],
            "logging_endpoint": hrefs["logging"],
            "doppler_logging_endpoint": hrefs["logging"],
            "routing_endpoint": hrefs["routing"],
        }
        present = {f.name for f in cfapi.info_fields(self.api_version)}
        overrides: dict[str, Any] = {key: value for key, value in wanted.items() if key in present}
        return factories.info(api_version=self.api_version, **overrides)

    # ------------------------------------------------------------------ CC: authentication

    def _authenticate(self, exchange: _Exchange) -> tuple[str, ...]:
        """The bearer token's scopes, or the 401 CC answers (CCNG base_controller.rb#check_authentication)."""
        header = exchange.headers.get("authorization")
        # CC only looks at tokens whose header starts with "bearer", in any case;
        # anything else (Basic, nothing) counts as no token at all.
        if header is None or not header[:6].upper() == "BEARER":
            raise _Refusal("NotAuthenticated")
        claims = self._verify_access_token(header[6:].strip())
        if claims is None:
            raise _Refusal("InvalidAuthToken")
        scopes = claims.get("scope")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else ()

    def _verify_access_token(self, token: str) -> dict[str, Any] | None:
        if not token or not tokens.is_test_token(token, key=self._signing_key):
            return None
        decoded = tokens.try_decode(token)
        if decoded is None:
            return None
        claims = decoded[1]
        exp, aud = claims.get("exp"), claims.get("aud")
        if claims.get("jti") not in self._live_access or not isinstance(exp, int) or time.time() > exp:
            return None
        # CC decodes tokens for its own resource id only (UaaTokenDecoder, audience check).
        if not isinstance(aud, list) or "cloud_controller" not in aud:
            return None
        return claims

    def _require(self, scopes: Sequence[str], allowed: Sequence[str]) -> None:
        if set(scopes) & set(allowed):
            return
        if self.api_version < cfapi.catalog_error("InsufficientScope").since:
            raise _Refusal("NotAuthorized")
        raise _Refusal("InsufficientScope")

    def _find(self, guid: str) -> SimulatedApp:
        for app in self.apps:
            if app.guid == guid:
                return app
        raise _Refusal("AppNotFound", guid=guid)

    # ------------------------------------------------------------------ CC: apps

    def _get_app(self, exchange: _Exchange, guid: str) -> Response:
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _READ_SCOPES)
        self._advance(app, poll=True)
        return self._cc_json(exchange, 200, cfapi.dump_json(app.envelope, self.api_version, kind="resource"))

    def _list_apps(self, exchange: _Exchange) -> Response:
        scopes = self._authenticate(exchange)
        self._require(scopes, _READ_SCOPES)
        params = urllib.parse.parse_qs(exchange.query, keep_blank_values=True)
        page = _int_param(params, "page", 1)
        per_page = _int_param(params, "results-per-page", cfapi.DEFAULT_RESULTS_PER_PAGE)
        # CCNG paginated_collection_renderer.rb checks the maximum; below 1 is refused the same way.
        if per_page > cfapi.MAX_RESULTS_PER_PAGE:
            raise _Refusal("BadQueryParameter", reason=f"results_per_page must be <= {cfapi.MAX_RESULTS_PER_PAGE}")
        if per_page < 1:
            raise _Refusal("BadQueryParameter", reason="results_per_page must be >= 1")
        if page < 1:
            raise _Refusal("BadQueryParameter", reason="page must be >= 1")
        direction = params.get("order-direction", ["asc"])[-1]
        if direction not in ("asc", "desc"):
            raise _Refusal("BadQueryParameter", reason=f"order-direction must be asc or desc, not {direction}")
        order_by = params.get("order-by", [None])[-1]
        if order_by is not None and order_by not in _ORDER_BY:
            raise _Refusal("BadQueryParameter", reason=order_by)
        queries = params.get("q", [])
        filters = [self._filter(q) for q in queries]
        apps = [app for app in self.apps if all(matches(app) for matches in filters)]
        for app in apps:
            self._advance(app, poll=False)
        if order_by == "name":
            apps.sort(key=lambda app: app.name)
        if direction == "desc":
            apps.reverse()
        start = (page - 1) * per_page
        document = factories.list_page(
            [app.envelope for app in apps[start : start + per_page]],
            total_results=len(apps),
            page=page,
            results_per_page=per_page,
            q=queries[0] if len(queries) == 1 else None,
            order_direction="desc" if direction == "desc" else "asc",
            order_by=order_by,
            api_version=self.api_version,
        )
        if len(queries) > 1:
            # list_page echoes one q; CC echoes every one, and page_url formats them all.
            for key, target in (("prev_url", page - 1), ("next_url", page + 1)):
                if document[key] is not None:
                    document[key] = cfapi.page_url(
                        cfapi.APPS_PATH, target, per_page, order_direction=direction, q=queries, order_by=order_by
                    )
        return self._cc_json(exchange, 200, cfapi.dump_json(document, self.api_version, kind="resource"))

    def _filter(self, query: str) -> Callable[[SimulatedApp], bool]:
        match = _FILTER.fullmatch(query)
        if match is None or match["key"] not in cfapi.APP_QUERY_FILTERS:
            raise _Refusal("BadQueryParameter", reason=match["key"] if match else query)
        key, op, wanted = match["key"], match["op"], match["value"]

        def value_of(app: SimulatedApp) -> str:
            if key == "organization_guid":
                return self.organization_guid
            value = app.envelope["entity"].get(key)
            return str(value).lower() if isinstance(value, bool) else str(value)

        def matches(app: SimulatedApp) -> bool:
            value = value_of(app)
            if op == ":":
                return value == wanted
            if op == " IN ":
                return value in wanted.split(",")
            return {">=": value >= wanted, "<=": value <= wanted, ">": value > wanted, "<": value < wanted}[op]

        return matches

    # ------------------------------------------------------------------ CC: restage and staging

    def _restage(self, exchange: _Exchange, guid: str) -> Response:
        # CC's order (reference §1.1): authentication, lookup, token scope, then validate_process!.
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _WRITE_SCOPES)
        self._advance(app, poll=False)
        version = self.api_version
        if version >= _INSTANCES_CHECK_SINCE and app.instances < 1:
            raise _Refusal("StagingError", reason="App must have at least 1 instance to stage.")
        if app.package_state == "PENDING":
            raise _Refusal("NotStaged")
        if not app.has_package and version >= cfapi.catalog_error("AppPackageInvalid").since:
            raise _Refusal("AppPackageInvalid", reason="bits have not been uploaded")
        response = factories.restage_response(
            app.envelope,
            api_version=version,
            seed=self._runtime,
            request_id=exchange.generated_id,
            incoming_request_id=exchange.incoming_id,
        )
        restaged = json.loads(response.body)
        entity, before = restaged["entity"], app.envelope["entity"]
        # The 201 has no relation links; GETs keep them, in presenter order.
        app.envelope = {
            "metadata": restaged["metadata"],
            "entity": {
                f.name: entity[f.name] if f.name in entity else before[f.name]
                for f in cfapi.app_fields(version, links=True)
            },
        }
        if self.staging_seconds is not None:
            app.staged_at, app.polls_until_staged = time.monotonic() + self.staging_seconds, None
        else:
            app.staged_at, app.polls_until_staged = None, self.polls_to_stage
        return self._with_cookie(response)

    def _advance(self, app: SimulatedApp, *, poll: bool) -> None:
        """Move a restaged app on: time passes always, polls only count on ``GET /v2/apps/:guid``."""
        if app.staged_at is not None:
            if time.monotonic() >= app.staged_at:
                self._finish_staging(app)
        elif app.polls_until_staged is not None and poll:
            if app.polls_until_staged == 0:
                self._finish_staging(app)
            else:
                app.polls_until_staged -= 1

    def _finish_staging(self, app: SimulatedApp) -> None:
        # Diego's callback: the new droplet is current, the process restarts (reference §1.1, step 9).
        app.polls_until_staged = app.staged_at = None
        app.envelope["entity"]["package_state"] = "STAGED"
        app.envelope["entity"]["state"] = "STARTED"
        app.envelope["metadata"]["updated_at"] = _stamp(self._runtime.now())

    # ------------------------------------------------------------------ UAA

    def _token(self, exchange: _Exchange) -> Response:
        try:
            form = {
                key: values[0]
                for key, values in urllib.parse.parse_qs(
                    exchange.body.decode("utf-8", "replace"), keep_blank_values=True
                ).items()
            }
            # UAA authenticates the client in a filter, before the endpoint looks at the request.
            client_id = self._authenticate_client(exchange, form)
            if exchange.method != "POST":
                raise _UaaRefusal(405, "method_not_allowed", f"Request method '{exchange.method}' is not supported")
            if exchange.query:
                # UaaTokenEndpoint with query strings disabled (UAA …/oauth/UaaTokenEndpoint.java,
                # HttpMethodNotSupportedAdvice.java): 406, not 400.
                raise _UaaRefusal(
                    406, "query_string_not_allowed", "Parameters must be passed in the body of the request"
                )
            grant_type = form.get("grant_type")
            if not grant_type:
                raise _UaaRefusal(400, "invalid_request", "Missing grant type")
            if grant_type not in ("password", "refresh_token", "client_credentials"):
                raise _UaaRefusal(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
            if grant_type not in self._clients[client_id].grants:
                raise _UaaRefusal(401, "invalid_client", f"Unauthorized grant type: {grant_type}")
            if grant_type == "password":
                document = self._password_grant(client_id, form)
            elif grant_type == "refresh_token":
                document = self._refresh_grant(client_id, form)
            else:
                scopes = _narrow(form.get("scope", ""), self._clients[client_id].scopes)
                document = self._issue("client_credentials", client_id, scopes, int(time.time()))
            return self._uaa_json(exchange, 200, document, cookies=True)
        except _UaaRefusal as refusal:
            return self._uaa_error(exchange, refusal)

    def _authenticate_client(self, exchange: _Exchange, form: Mapping[str, str]) -> str:
        header = exchange.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _UaaRefusal(
                    401, "unauthorized", "Failed to decode basic authentication token", realm="UAA/client"
                ) from None
            client_id, _, secret = decoded.partition(":")
        elif "client_id" in form:
            client_id, secret = form["client_id"], form.get("client_secret", "")
        else:
            raise _UaaRefusal(
                401, "unauthorized", "An Authentication object was not found in the SecurityContext", realm="UAA/client"
            )
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise _UaaRefusal(401, "unauthorized", "Bad credentials", realm="UAA/client")
        return client_id

    def _password_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        username, password = form.get("username", ""), form.get("password", "")
        # UAA looks users up case-insensitively; the password must match exactly.
        if username.casefold() != self.username.casefold() or not hmac.compare_digest(
            password.encode(), self.password.encode()
        ):
            raise _UaaRefusal(401, "unauthorized", "Bad credentials")
        scopes = _narrow(form.get("scope", ""), self._clients[client_id].scopes)
        return self._issue("password", client_id, scopes, int(time.time()))

    def _refresh_grant(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        # UAA's answers (UaaTokenServices.refreshAccessToken, TokenValidation): a refresh token
        # that cannot be used is invalid_token (401); only a wrong client is invalid_grant (400).
        value = form.get("refresh_token", "")
        if not value:
            raise _UaaRefusal(401, "invalid_token", "Invalid refresh token (empty token)")
        if tokens.try_decode(value) is None:
            # UAA appends the token it could not decode; a simulator does not echo secrets.
            raise _UaaRefusal(401, "invalid_token", "Invalid token (could not decode)")
        if not tokens.is_test_token(value, key=self._signing_key):
            raise _UaaRefusal(401, "invalid_token", "Could not verify token signature.")
        claims = tokens.decode_unverified(value)[1]
        grant = self._refresh_grants.get(str(claims.get("jti")))
        if grant is None:
            raise _UaaRefusal(401, "invalid_token", "Invalid refresh token.")
        if grant.client_id != client_id:
            raise _UaaRefusal(400, "invalid_grant", f"Wrong client for this refresh token: {grant.client_id}")
        if time.time() > grant.exp:
            expired = datetime.fromtimestamp(grant.exp, UTC).strftime(_JAVA_DATE)
            raise _UaaRefusal(401, "invalid_token", f"Invalid refresh token expired at {expired}")
        scopes = _narrow(form.get("scope", ""), grant.scopes, refresh=True)
        return self._issue("refresh_token", client_id, scopes, grant.auth_time, refresh_token=value)

    def _issue(
        self,
        grant_type: str,
        client_id: str,
        scopes: Sequence[str],
        auth_time: int,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, Any]:
        """A token response from the factories, re-signed to name this simulator and its one user."""
        user_grant = grant_type != "client_credentials"
        document = factories.token_response(
            grant_type=grant_type,
            username=self.username if user_grant else None,
            client_id=client_id,
            scopes=scopes,
            expires_in=self.token_lifetime,
            # Fresh randomness: token ids must not repeat across simulators with one seed.
            seed=Seeder(secrets.randbits(64), now="wall"),
        )
        updates: dict[str, Any] = {"iss": f"{self.base_url}/oauth/token"}
        if user_grant:
            updates.update(user_id=self.user_id, sub=self.user_id, auth_time=auth_time)
        for key in ("access_token", "id_token"):
            if key in document:
                document[key] = self._resign(document[key], updates)
        if "refresh_token" in document:
            # UAA's refresh grant hands back the refresh token it was given (non-rotating).
            document["refresh_token"] = refresh_token or self._resign(document["refresh_token"], updates)
            refresh_claims = tokens.decode_unverified(document["refresh_token"])[1]
            self._refresh_grants.setdefault(
                str(refresh_claims["jti"]),
                _RefreshGrant(client_id, tuple(scopes), auth_time, int(refresh_claims["exp"])),
            )
        self._live_access.add(str(document["jti"]))
        return document

    def _resign(self, token: str, updates: Mapping[str, Any]) -> str:
        header, claims = tokens.decode_unverified(token)
        header["jku"] = f"{self.base_url}/token_keys"
        header["kid"] = _SIGNING_KEY_ID
        claims.update({key: value for key, value in updates.items() if key in claims})
        return tokens.sign(claims, header=header, key=self._signing_key)

    def _uaa_json(
        self,
        exchange: _Exchange,
        status: int,
        document: Mapping[str, Any],
        *,
        cookies: bool = False,
        extra: Sequence[tuple[str, str]] = (),
    ) -> Response:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        headers = [
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("Content-Type", "application/json;charset=UTF-8"),
            ("X-XSS-Protection", "1; mode=block"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-VCAP-Request-ID", exchange.request_id),
            ("Content-Length", str(len(body))),
            *extra,
        ]
        if cookies:
            # UAA's session and CSRF cookies (reference §5); fresh values, as UAA's are.
            expires = email.utils.formatdate(time.time() + 86400, usegmt=True)
            headers.append(("Set-Cookie", f"JSESSIONID={secrets.token_hex(16).upper()}; Path=/; Secure; HttpOnly"))
            headers.append(
                (
                    "Set-Cookie",
                    f"X-Uaa-Csrf={secrets.token_urlsafe(16)[:22]}; Path=/; Max-Age=86400; Expires={expires}; HttpOnly",
                )
            )
        return Response(status, tuple(headers), body)

    def _uaa_error(self, exchange: _Exchange, refusal: _UaaRefusal) -> Response:
        extra: list[tuple[str, str]] = []
        if refusal.status == 401:
            # Spring's OAuth2 entry points: "Basic" for client authentication, "Bearer" otherwise.
            scheme = "Basic" if refusal.realm == "UAA/client" else "Bearer"
            extra.append(
                (
                    "WWW-Authenticate",
                    f'{scheme} realm="{refusal.realm}", error="{refusal.error}", '
                    f'error_description="{refusal.description}"',
                )
            )
        document = {"error": refusal.error, "error_description": refusal.description}
        return self._uaa_json(exchange, refusal.status, document, extra=extra)

    def _docker_supported(self) -> bool:
        version = self.api_version
        return all(cfapi.app_field(name).since <= version for name in ("docker_image", "diego"))


def _int_param(params: Mapping[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise _Refusal("BadQueryParameter", reason=f"{name} must be an integer") from None


def _narrow(requested: str, allowed: Sequence[str], *, refresh: bool = False) -> tuple[str, ...]:
    """The scopes a token gets: all it may have, or the subset asked for (UAA refuses any other)."""
    wanted = requested.replace(",", " ").split()
    if not wanted:
        return tuple(allowed)
    missing = [scope for scope in wanted if scope not in allowed]
    if missing:
        if refresh:
            listed = ", ".join(wanted)
            raise _UaaRefusal(
                400, "invalid_scope", f"Unable to narrow the scope of the client authentication to [{listed}]."
            )
        raise _UaaRefusal(
            400,
            "invalid_scope",
            f"Invalid scope: {', '.join(missing)}. "
            "Did you know that you can get default scopes by simply sending no value?",
        )
    return tuple(scope for scope in allowed if scope in wanted)


# --------------------------------------------------------------------------- HTTP


class RunningSimulator:
    """A simulator being served: where it is, its state machine, and how to stop it."""

    def __init__(self, listening: loopback.Listening, simulator: Simulator) -> None:
        self.url = listening.url
        self.simulator = simulator
        self._listening = listening

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the host is always 127.0.0.1."""
        return self._listening.address

    @property
    def username(self) -> str:
        return self.simulator.username

    @property
    def password(self) -> str:
        return self.simulator.password

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        self._listening.stop()


@contextmanager
def run(*, seed: int | str = 0, port: int = 0, **simulator_kwargs: Any) -> Iterator[RunningSimulator]:
    """Serve a :class:`Simulator` on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    ::

        with run(seed=7) as cf:
            client = CloudFoundryClient(cf.url)
            client.init_with_user_credentials(cf.username, cf.password)

    *simulator_kwargs* go to :class:`Simulator` (``api_version``, ``polls_to_stage``…).
    """
    made: list[Simulator] = []

    def make(url: str) -> loopback.Handle:
        made.append(Simulator(seed=seed, base_url=url, **simulator_kwargs))
        return made[0].handle

    # A live CC answers with Server and Date; recordings then say what answered them,
    # without the Python version. Sinatra answers HEAD like GET.
    with loopback.listen(
        make, port=port, name="cfreplay-simulator", server_name="cfreplay-simulator", head_as_get=True
    ) as listening:
        yield RunningSimulator(listening, made[0])


def serve(
    *, port: int, seed: int | str = 0, ready: Callable[[str], None] | None = None, **simulator_kwargs: Any
) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly and return.

    ``ready(url)`` is called once the simulator listens (stdout is flushed after
    it, so a parent reading a pipe sees a printed URL at once).  Signals reach
    only the main thread, so call this from there; elsewhere use :func:`run`.
    """
    loopback.serve_until_signalled(
        lambda: run(seed=seed, port=port, **simulator_kwargs),
        lambda running: ready(running.url) if ready is not None else None,
    )
