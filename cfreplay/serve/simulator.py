"""An embedded Cloud Controller v2 and UAA: a live endpoint to record from and test against.

Two layers, so the logic can be tested without sockets and the sockets stay dumb:

* :class:`Simulator` is the state machine.  ``handle(method, path, headers, body)``
  returns a :class:`cfreplay.Response` and does no I/O.  Every body, error and
  token comes from cfreplay's factories, so what it serves is schema-exact for
  its ``api_version``, and it follows CC's rules: restage's checks in CC's order
  (reference §1.1), list pages and their links (§3), UAA's grants and errors (§4).
* :func:`run` (a context manager, for tests) and :func:`serve` (blocking, for the
  CLI) put a simulator behind a ``ThreadingHTTPServer`` bound to 127.0.0.1 only.
  ``run(url=..., uaa_url=...)`` names it by host names this process then routes
  to its port (:func:`cfreplay.serve.loopback.routed`), so nothing it answers
  holds the port.

What is seeded and what is not:

* The world comes from ``seed``: the apps (guids, names, every field), the space,
  the user's id and password, and the client secret.  The same seed gives the
  same world in any process.
* Tokens, request ids and cookies come from fresh randomness.  A token must not
  be guessable by another simulator started with the same seed, because "issued
  by this simulator" is one of the things the simulator checks.  With
  ``repeatable=True`` they are drawn from the seed too, so the same requests get
  byte-identical answers (under a frozen clock): what a recording needs, and what
  the pytest plugin's ``cfreplay_simulator`` fixture uses.
* Tokens always use the real clock (``iat``/``exp``), so live clients that look
  at ``exp`` keep working; freezegun's frozen time is honoured.

The six default apps have fixed names so docs and the CLI can rely on them:
``my-app``, ``docker-app``, ``stopped-app`` (restage works), ``staging-app``
(CF-NotStaged), ``no-bits-app`` (CF-AppPackageInvalid) and ``zero-app``
(CF-StagingError).  After a restage an app reads ``PENDING`` for
``polls_to_stage`` GETs (or for ``staging_seconds``), then ``STAGED``; its
instances then read ``STARTING`` for ``polls_to_start`` GETs of
``/v2/apps/:guid/instances``, then ``RUNNING``.

Served routes (one table, :mod:`cfreplay.serve._routes`): ``POST /oauth/token``
(UAA); ``GET /``, ``GET /v2/info``, ``GET /v2/apps``, ``GET /v2/spaces/:guid/apps``,
``GET /v2/apps/:guid``, ``POST /v2/apps/:guid/restage`` and ``GET
/v2/apps/:guid/instances``, ``/stats``, ``/summary`` (CC), lists and the app
with ``inline-relations-depth``.  Anything else is CC's unknown-route 404.

This module holds the world and the HTTP front; the two services answer in
rooms of their own: UAA in :mod:`cfreplay.serve._uaa` and CC in
:mod:`cfreplay.serve._cc`, which asks UAA only whether a token is live.
"""

from __future__ import annotations

import logging
import random
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from cfreplay.cf import cfapi, factories
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.serve import _routes, loopback
from cfreplay.serve._cc import CloudController, SimulatedApp
from cfreplay.serve._exchange import Exchange
from cfreplay.serve._uaa import Uaa
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


class HandledRequest(NamedTuple):
    """One entry of :attr:`Simulator.requests`.  ``path`` has no query: secrets sent there stay out."""

    method: str
    path: str
    status: int


# --------------------------------------------------------------------------- the state machine


class Simulator:
    """Cloud Controller v2 and UAA as a state machine: :meth:`handle` maps a request to a response.

    ``seed`` fixes the world (apps, guids, names, the password and the client
    secret); ``api_version`` the era every body is built for (default
    ``cfapi.DEFAULT_API_VERSION``, as the factories); ``base_url`` where
    the simulator is reachable (every link and endpoint points there), and
    ``uaa_url`` where its UAA is (the token and authorization endpoints, the
    tokens' issuer; default ``base_url``: both answer on either);
    ``token_lifetime`` the access tokens' ``expires_in``; ``polls_to_stage`` how
    many GETs of a restaged app read PENDING before it reads STAGED, or
    ``staging_seconds`` how long staging takes instead; ``polls_to_start`` how
    many GETs of its ``/instances`` read STARTING after that, before RUNNING.  ``now`` is the clock the
    apps' timestamps are drawn against (``"wall"``, a datetime, or ``None`` for
    the factories' 2015 default).  ``repeatable`` draws request ids, tokens,
    cookies and the signing key from the seed instead of fresh randomness, so
    the same requests at the same (frozen) time get byte-identical answers; its
    tokens are then accepted by any repeatable simulator with the same seed.
    Thread-safe: one lock serialises requests.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        api_version: str | ApiVersion = cfapi.DEFAULT_API_VERSION,
        base_url: str,
        uaa_url: str | None = None,
        token_lifetime: int = cfapi.DEFAULT_EXPIRES_IN,
        polls_to_stage: int = 2,
        staging_seconds: float | None = None,
        polls_to_start: int = 1,
        now: Now = "wall",
        repeatable: bool = False,
    ) -> None:
        if polls_to_stage < 0:
            raise ValueError(f"polls_to_stage must be 0 or more, not {polls_to_stage}")
        if polls_to_start < 0:
            raise ValueError(f"polls_to_start must be 0 or more, not {polls_to_start}")
        if staging_seconds is not None and staging_seconds < 0:
            raise ValueError(f"staging_seconds must be 0 or more, not {staging_seconds}")
        self.seed = seed
        self.api_version = ApiVersion.parse(api_version)
        self.base_url = base_url.rstrip("/")
        self.uaa_url = (uaa_url or base_url).rstrip("/")
        self.repeatable = repeatable
        self.token_lifetime = token_lifetime
        self.polls_to_stage = polls_to_stage
        self.staging_seconds = staging_seconds
        self.polls_to_start = polls_to_start
        self.requests: list[HandledRequest] = []
        self._lock = threading.RLock()
        # The world draws from one Seeder in a fixed order; restage responses from a second
        # one, so a given sequence of requests yields the same versions and build guids.
        self._world = Seeder(seed, now=now)
        self._runtime = Seeder(f"{seed}/runtime", now=now)
        # Request ids and UAA's secrets: fresh, or drawn from the seed when asked to repeat.
        self._request_ids = Seeder(f"{seed}/request-ids") if repeatable else None
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
        self._uaa = Uaa(
            self,
            client_id=self.client_id,
            client_secret=self.client_secret,
            entropy=random.Random(f"{seed}/uaa") if repeatable else None,
        )
        self._cc = CloudController(self, runtime=self._runtime, live_claims=self._uaa.live_claims)
        # The one route table (_routes.ROUTES), each row tied to the service that answers it.
        self._routes = _routes.bind(_routes.ROUTES, {"uaa": self._uaa, "cc": self._cc})

    # ------------------------------------------------------------------ public helpers

    def add_app(self, name: str, *traits: str, has_package: bool = True, **overrides: Any) -> SimulatedApp:
        """Add an app drawn from the seed (factory traits and overrides), in the simulator's space."""
        version = self.api_version
        if "docker" in traits and not self._docker_supported():
            # Before Diego and docker_image (2.22) a docker app cannot exist; keep the name.
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
            self._uaa.expire_tokens()

    # ------------------------------------------------------------------ dispatch

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> Response:
        """Answer one request.  *path* may carry a query; header names are matched case-insensitively."""
        split = urllib.parse.urlsplit(path)
        lowered = {key.lower(): value for key, value in headers.items()}
        with self._lock:
            exchange = Exchange(
                method=method.upper(),
                path=split.path or "/",
                query=split.query,
                headers=lowered,
                body=body,
                generated_id=self._request_ids.uuid() if self._request_ids is not None else str(uuid.uuid4()),
                incoming_id=lowered.get("x-vcap-request-id") or lowered.get("x-request-id"),
            )
            try:
                response = self._route(exchange)
            except Exception:
                # A simulator bug must not hang the client: answer as CC does for any crash.
                _log.exception("cfreplay simulator failed on %s %s", exchange.method, exchange.path)
                response = self._cc.unknown_error(exchange)
            self.requests.append(HandledRequest(exchange.method, exchange.path, response.status))
        return response

    def _route(self, exchange: Exchange) -> Response:
        for route in self._routes:
            match = route.path.fullmatch(exchange.path)
            if match is not None and route.method in (None, exchange.method):
                return route.handler(exchange, **match.groupdict())
        return self._cc.unknown_route(exchange)

    def _docker_supported(self) -> bool:
        version = self.api_version
        return all(cfapi.app_field(name).since <= version for name in ("docker_image", "diego"))


# --------------------------------------------------------------------------- HTTP


class RunningSimulator:
    """A simulator being served: where it is, its state machine, and how to stop it.

    ``url`` is where its Cloud Controller answers and ``uaa_url`` its UAA: the
    bound ``http://127.0.0.1:PORT`` for both, unless :func:`run` was given names.
    """

    def __init__(self, listening: loopback.Listening, simulator: Simulator) -> None:
        self.url = simulator.base_url
        self.uaa_url = simulator.uaa_url
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
def run(
    *,
    seed: int | str = 0,
    port: int = 0,
    url: str | None = None,
    uaa_url: str | None = None,
    **simulator_kwargs: Any,
) -> Iterator[RunningSimulator]:
    """Serve a :class:`Simulator` on 127.0.0.1 in a daemon thread for the block (``port=0``: any free port).

    ::

        with run(seed=7) as cf:
            client = CloudFoundryClient(cf.url)
            client.init_with_user_credentials(cf.username, cf.password)

    With *url* (and *uaa_url*), ``http://`` URLs on names of your choosing, the
    simulator names itself by them in every body and header, and for the block
    this process resolves their host names to its port
    (:func:`cfreplay.serve.loopback.routed`): clients in this process reach it
    there, and what they record holds no port.  Pick names that never resolve
    elsewhere, under ``.invalid`` or ``.test`` (RFC 6761); another process does
    not see the route.  *simulator_kwargs* go to :class:`Simulator`
    (``api_version``, ``polls_to_stage``, ``repeatable``…).
    """
    names = [_routable_host(u) for u in (url, uaa_url) if u is not None]
    made: list[Simulator] = []

    def make(bound: str) -> loopback.Handle:
        made.append(Simulator(seed=seed, base_url=url or bound, uaa_url=uaa_url or url or bound, **simulator_kwargs))
        return made[0].handle

    # A live CC answers with Server and Date; recordings then say what answered them,
    # without the Python version. Sinatra answers HEAD like GET.
    with (
        loopback.listen(
            make, port=port, name="cfreplay-simulator", server_name="cfreplay-simulator", head_as_get=True
        ) as listening,
        loopback.routed(names, listening.address[1]),
    ):
        yield RunningSimulator(listening, made[0])


def _routable_host(url: str) -> str:
    """The host name of a URL :func:`run` may route to the simulator: plain HTTP, a name, no path."""
    split = urllib.parse.urlsplit(url)
    if split.scheme != "http" or not split.hostname or split.path not in ("", "/") or split.query:
        raise ValueError(f"the simulator serves plain HTTP at the root of a host: not {url!r} (try http://api.cf.test)")
    return split.hostname


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
