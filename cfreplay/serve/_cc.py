"""The simulator's Cloud Controller: ``/``, ``/v2/info`` and the apps routes, with CC's rules.

Restage runs CC's checks in CC's order (reference §1.1) and stages in the
background of later requests; after staging the app's instances read STARTING,
then RUNNING (what the cf CLI v6 and cloudfoundry-client wait for on
``/instances``).  List pages follow CC's paging and filter grammar (§3) and
``inline-relations-depth``; app bodies and errors come from cfreplay's
factories, for the simulator's ``api_version``, and the sub-resources
(instances, stats, summary, inlined space and stack) from :mod:`._cc_shapes`.
Bearer tokens are UAA's business: CC asks the simulator's UAA whether a token is
live, then checks its audience and scopes itself.  Which method and path reach
which handler is :mod:`._routes`' table.
"""

from __future__ import annotations

import functools
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, Final, ParamSpec, Protocol

from cfreplay.cf import cfapi, factories
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Seeder
from cfreplay.serve import _cc_shapes as shapes
from cfreplay.serve._exchange import Exchange
from cfreplay.types import Response

__all__ = ["CcWorld", "CloudController", "SimulatedApp"]

_P = ParamSpec("_P")

_ADMIN: Final = "cloud_controller.admin"
# CC's read and write checks (CCNG app/access/*_access.rb: read_with_token / read_for_update_with_token).
_READ_SCOPES: Final = (
    _ADMIN,
    "cloud_controller.read",
    "cloud_controller.admin_read_only",
    "cloud_controller.global_auditor",
)
_WRITE_SCOPES: Final = (_ADMIN, "cloud_controller.write")
# restage refuses apps with no instances from 2.93 on (reference §1.1, step 4; CCNG 1fb80206bb,
# capi-release 1.39.0).
_INSTANCES_CHECK_SINCE: Final = ApiVersion(2, 93, 0)
# CC's filter grammar (CCNG lib/cloud_controller/rest_controller/query_string_parser.rb).
_FILTER: Final = re.compile(r"(?P<key>\w+)(?P<op> IN |>=|<=|:|<|>)(?P<value>.*)", re.DOTALL)
_ORDER_BY: Final = ("id", "name")
# CCNG lib/cloud_controller/rest_controller/base_controller.rb: MAX_INLINE_DEPTH.
_MAX_INLINE_DEPTH: Final = 2


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
    #: After staging: ``/instances`` polls that still read STARTING (``None``: running).
    polls_until_running: int | None = None
    #: When the instances entered their state (``None``: since the app was last updated).
    since: datetime | None = None
    #: What a restage's dropped droplet showed (detected buildpack, start command): the new
    #: droplet shows it again once staged (``None``: nothing dropped).
    dropped_droplet: dict[str, Any] | None = None

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


class CcWorld(Protocol):
    """What CC reads of the simulator each time it needs it: the era, where it is, the apps, staging pace."""

    seed: int | str
    api_version: ApiVersion
    base_url: str
    uaa_url: str
    apps: list[SimulatedApp]
    organization_guid: str
    space_guid: str
    stack_guid: str
    vcap_instance_id: str
    polls_to_stage: int
    polls_to_start: int
    staging_seconds: float | None


class _Refusal(Exception):
    """A CC error to answer with: a catalog name and its detail (``guid=``, ``reason=``)."""

    def __init__(self, name: str, *, entry: cfapi.CatalogError | None = None, **detail: str) -> None:
        super().__init__(name)
        self.name = name
        # An error outside the catalog (a staging failure's own code), answered as CC shapes errors.
        self.entry = entry
        # Any: error_response's keywords also include seed= and now=, which these never are.
        self.detail: dict[str, Any] = dict(detail)


def _stamp(moment: datetime, version: ApiVersion) -> str:
    # CC's timestamps of the era: ``+00:00`` before 2.21, ``Z`` since (cfapi.timestamp).
    return cfapi.timestamp(moment, version)


def _int_param(params: Mapping[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise _Refusal("BadQueryParameter", reason=f"{name} must be an integer") from None


def _inline_depth(params: Mapping[str, list[str]]) -> int:
    """``inline-relations-depth``, which CC reads on every GET (0 by default, at most 2)."""
    depth = _int_param(params, "inline-relations-depth", 0)
    if depth > _MAX_INLINE_DEPTH:
        raise _Refusal("BadQueryParameter", reason=f"inline_relations_depth must be <= {_MAX_INLINE_DEPTH}")
    return depth


@dataclass(frozen=True)
class _ListQuery:
    """The query of ``GET /v2/apps``, read and checked in CC's order."""

    page: int
    per_page: int
    direction: str
    order_by: str | None
    q: list[str]
    inline_depth: int = 0

    @classmethod
    def parse(cls, query: str) -> _ListQuery:
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
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
        return cls(page, per_page, direction, order_by, params.get("q", []), _inline_depth(params))


def _refusals_answered(
    handler: Callable[Concatenate[CloudController, Exchange, _P], Response],
) -> Callable[Concatenate[CloudController, Exchange, _P], Response]:
    """A route handler whose :class:`_Refusal` is answered as the v2 error it names."""

    @functools.wraps(handler)
    def answered(cc: CloudController, exchange: Exchange, /, *args: _P.args, **kwargs: _P.kwargs) -> Response:
        try:
            return handler(cc, exchange, *args, **kwargs)
        except _Refusal as refusal:
            return cc._error(exchange, refusal)

    return answered


class CloudController:
    """CC's routes over the simulator's world: each public method answers one route.

    *world* is read at each request (the apps, the staging pace …); *runtime* is
    the Seeder restage responses and errors draw from, so a given sequence of
    requests yields the same versions and build guids; *live_claims* is UAA's
    answer to "is this access token live", ``None`` for no.
    """

    def __init__(self, world: CcWorld, *, runtime: Seeder, live_claims: Callable[[str], dict[str, Any] | None]) -> None:
        self._world = world
        self._runtime = runtime
        self._live_claims = live_claims
        # GET / exists from 2.63 (cfapi.ROOT_SINCE); before, it is an unknown route.
        self._root_body = (
            cfapi.dump_json(self._root_document(), world.api_version, kind="resource")
            if world.api_version >= cfapi.ROOT_SINCE
            else None
        )
        self._info_body = cfapi.dump_json(self._info_document(), world.api_version, kind="info")
        # The space, stack and shared domain inlined and summarised: drawn from a Seeder of their
        # own, so the world's draws (and every app's guid) stay what they were.
        related = Seeder(f"{world.seed}/related", now=None)
        created = related.now()
        version = world.api_version
        # The factories' inlined space and stack: one model of what CC inlines, era by era.
        self._space = factories.space_resource(
            world.space_guid, "development", world.organization_guid, created, version
        )
        self._stack = factories.stack_resource(world.stack_guid, created, version)
        host = urllib.parse.urlsplit(world.base_url).hostname or "example.com"
        self._domain = shapes.shared_domain(related.uuid(), f"apps.{host.removeprefix('api.')}", version=version)

    # ------------------------------------------------------------------ routes

    def root(self, exchange: Exchange) -> Response:
        """``GET /``."""
        if self._root_body is None:
            return self.unknown_route(exchange)
        return self._json(exchange, 200, self._root_body)

    def info(self, exchange: Exchange) -> Response:
        """``GET /v2/info``."""
        return self._json(exchange, 200, self._info_body)

    @_refusals_answered
    def get_app(self, exchange: Exchange, guid: str) -> Response:
        """``GET /v2/apps/:guid``: a poll, so a restaged app moves on towards STAGED."""
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _READ_SCOPES)
        depth = _inline_depth(urllib.parse.parse_qs(exchange.query, keep_blank_values=True))
        self._advance(app, poll=True)
        return self._resource(exchange, self._shown(app, depth))

    @_refusals_answered
    def list_apps(self, exchange: Exchange) -> Response:
        """``GET /v2/apps``: filtered, ordered and paged as CC does."""
        scopes = self._authenticate(exchange)
        self._require(scopes, _READ_SCOPES)
        return self._list(exchange, cfapi.APPS_PATH, self._world.apps)

    @_refusals_answered
    def list_space_apps(self, exchange: Exchange, guid: str) -> Response:
        """``GET /v2/spaces/:guid/apps``: the apps of one space (the cf CLI v6 looks an app up here)."""
        scopes = self._authenticate(exchange)
        self._require(scopes, _READ_SCOPES)
        if guid != self._world.space_guid:
            raise _Refusal("SpaceNotFound", guid=guid)
        return self._list(exchange, f"/v2/spaces/{guid}/apps", self._world.apps)

    @_refusals_answered
    def instances(self, exchange: Exchange, guid: str) -> Response:
        """``GET /v2/apps/:guid/instances``: a poll of the instances (CCNG instances_controller.rb).

        CC refuses before it asks Diego: a failed staging with its reason, a staging
        app with NotStaged, a stopped app with InstancesError.  Otherwise each desired
        instance, keyed by its index: STARTING for ``polls_to_start`` polls after
        staging, then RUNNING.
        """
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _READ_SCOPES)
        self._advance(app, poll=False)
        if app.package_state == "FAILED":
            raise self._staging_failed(app)
        if app.package_state == "PENDING":
            raise _Refusal("NotStaged")
        if app.state == "STOPPED":
            raise _Refusal(
                "InstancesError", reason=f"Request failed for app: {app.name} as the app is in stopped state."
            )
        self._advance_start(app)
        state, since, now = self._instance_state(app)
        diego = bool(app.envelope["entity"].get("diego", False))
        version = self._world.api_version
        document = {
            str(index): shapes.instance_entry(state, since, now, diego=diego, version=version)
            for index in range(app.instances)
        }
        return self._compact(exchange, document)

    @_refusals_answered
    def stats(self, exchange: Exchange, guid: str) -> Response:
        """``GET /v2/apps/:guid/stats`` (CCNG stats_controller.rb): only a stopped app is refused."""
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _READ_SCOPES)
        self._advance(app, poll=False)
        if app.state == "STOPPED":
            raise _Refusal("AppStoppedStatsError", reason=app.name)
        document: dict[str, Any] = {}
        for index in range(app.instances):
            if app.package_state != "STAGED":
                # Restaging stops the old LRP; until the new one is desired Diego reports none.
                document[str(index)] = shapes.down_stats()
            else:
                state, since, now = self._instance_state(app)
                version = self._world.api_version
                document[str(index)] = shapes.stats_entry(app.envelope, index, state, since, now, version=version)
        return self._compact(exchange, document)

    @_refusals_answered
    def summary(self, exchange: Exchange, guid: str) -> Response:
        """``GET /v2/apps/:guid/summary`` (CCNG app_summaries_controller.rb)."""
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _READ_SCOPES)
        self._advance(app, poll=False)
        # number_of_starting_and_running_instances_for_process: 0 unless started and desired.
        running = app.instances if app.state == "STARTED" and app.package_state == "STAGED" else 0
        version = self._world.api_version
        return self._compact(exchange, shapes.summary_document(app.envelope, running, [self._domain], version=version))

    @_refusals_answered
    def restage(self, exchange: Exchange, guid: str) -> Response:
        """``POST /v2/apps/:guid/restage``: CC's checks in CC's order (reference §1.1), then staging starts."""
        # CC's order: authentication, lookup, token scope, then validate_process!.
        scopes = self._authenticate(exchange)
        app = self._find(guid)
        self._require(scopes, _WRITE_SCOPES)
        self._advance(app, poll=False)
        version = self._world.api_version
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
        if version >= cfapi.RESTAGE_DROPS_DROPLET_SINCE:
            app.dropped_droplet = {f.name: before[f.name] for f in cfapi.app_fields(version) if f.droplet}
        if self._world.staging_seconds is not None:
            app.staged_at, app.polls_until_staged = time.monotonic() + self._world.staging_seconds, None
        else:
            app.staged_at, app.polls_until_staged = None, self._world.polls_to_stage
        return self._with_cookie(response)

    def unknown_route(self, exchange: Exchange) -> Response:
        """Any route CC does not serve."""
        # Sinatra's not_found handler answers before any authentication, and its body,
        # unlike controller-raised errors, has no trailing newline (reference §1.3).
        response = self._error(exchange, _Refusal("NotFound"))
        body = response.body.rstrip(b"\n")
        headers = tuple(
            (key, str(len(body)) if key.lower() == "content-length" else value) for key, value in response.headers
        )
        return Response(response.status, headers, body)

    def unknown_error(self, exchange: Exchange) -> Response:
        """CC's answer to a request it crashed on."""
        return self._error(exchange, _Refusal("UnknownError"))

    # ------------------------------------------------------------------ responses

    def _vcap_cookie(self) -> tuple[str, str]:
        # gorouter's sticky-session cookie (reference §5), as it sets it.
        return ("Set-Cookie", f"__VCAP_ID__={self._world.vcap_instance_id}; Path=/; HttpOnly; Secure")

    def _json(self, exchange: Exchange, status: int, body: bytes) -> Response:
        # The header order of cfreplay's factories (Content-Type first, as Sinatra writes it).
        headers = (
            ("Content-Type", cfapi.JSON_CONTENT_TYPE),
            ("X-VCAP-Request-ID", exchange.request_id),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            self._vcap_cookie(),
        )
        return Response(status, headers, body)

    def _resource(self, exchange: Exchange, document: Any) -> Response:
        return self._json(exchange, 200, cfapi.dump_json(document, self._world.api_version, kind="resource"))

    def _compact(self, exchange: Exchange, document: Any) -> Response:
        # instances, stats and summary are Oj.dump'ed by their controllers, never pretty-printed.
        return self._json(exchange, 200, json.dumps(document, separators=(",", ":")).encode())

    def _shown(self, app: SimulatedApp, depth: int) -> dict[str, Any]:
        """The app as a GET shows it: with its space, stack, routes and bindings inlined from depth 1."""
        if depth < 1:
            return app.envelope
        return shapes.with_inline_relations(app.envelope, self._space, self._stack)

    def _list(self, exchange: Exchange, path: str, candidates: Sequence[SimulatedApp]) -> Response:
        query = _ListQuery.parse(exchange.query)
        filters = [self._filter(q) for q in query.q]
        apps = [app for app in candidates if all(matches(app) for matches in filters)]
        for app in apps:
            self._advance(app, poll=False)
        if query.order_by == "name":
            apps.sort(key=lambda app: app.name)
        if query.direction == "desc":
            apps.reverse()
        return self._resource(exchange, self._page(query, path, apps))

    def _with_cookie(self, response: Response) -> Response:
        return Response(response.status, (*response.headers, self._vcap_cookie()), response.body)

    def _error(self, exchange: Exchange, refusal: _Refusal) -> Response:
        if refusal.entry is not None:
            version = self._world.api_version
            document = cfapi.error_document(refusal.entry, refusal.entry.description(), version)
            return self._json(exchange, refusal.entry.http_status, cfapi.dump_json(document, version, kind="error"))
        response = factories.error_response(
            refusal.name,
            api_version=self._world.api_version,
            seed=self._runtime,
            request_id=exchange.generated_id,
            incoming_request_id=exchange.incoming_id,
            **refusal.detail,
        )
        return self._with_cookie(response)

    def _hrefs(self) -> dict[str, str]:
        split = urllib.parse.urlsplit(self._world.base_url)
        websocket = f"{'wss' if split.scheme == 'https' else 'ws'}://{split.netloc}"
        base, uaa = self._world.base_url, self._world.uaa_url
        return {
            "self": base,
            "cloud_controller_v2": f"{base}/v2",
            "cloud_controller_v3": f"{base}/v3",
            "network_policy": f"{base}/networking/v0/external",
            "network_policy_v0": f"{base}/networking/v0/external",
            "network_policy_v1": f"{base}/networking/v1/external",
            "login": uaa,
            "uaa": uaa,
            "routing": f"{base}/routing",
            "logging": websocket,
            "log_cache": base,
            "log_stream": base,
            "app_ssh": f"{split.hostname}:2222",
        }

    def _root_document(self) -> dict[str, Any]:
        document = factories.root(api_version=self._world.api_version)
        hrefs = self._hrefs()
        for name, link in document["links"].items():
            if isinstance(link, dict) and name in hrefs:
                link["href"] = hrefs[name]
        return document

    def _info_document(self) -> dict[str, Any]:
        hrefs = self._hrefs()
        wanted = {
            "authorization_endpoint": self._world.uaa_url,
            "token_endpoint": self._world.uaa_url,
            "app_ssh_endpoint": hrefs["app_ssh"],
            "logging_endpoint": hrefs["logging"],
            "doppler_logging_endpoint": hrefs["logging"],
            "routing_endpoint": hrefs["routing"],
        }
        present = {f.name for f in cfapi.info_fields(self._world.api_version)}
        overrides: dict[str, Any] = {key: value for key, value in wanted.items() if key in present}
        return factories.info(api_version=self._world.api_version, **overrides)

    def _page(self, query: _ListQuery, path: str, apps: Sequence[SimulatedApp]) -> dict[str, Any]:
        """The list page of *apps* the query asks for, its links echoing every parameter that was sent."""
        start = (query.page - 1) * query.per_page
        document = factories.list_page(
            [app.envelope for app in apps[start : start + query.per_page]],
            total_results=len(apps),
            page=query.page,
            results_per_page=query.per_page,
            q=query.q[0] if len(query.q) == 1 else None,
            order_direction="desc" if query.direction == "desc" else "asc",
            order_by=query.order_by,
            api_version=self._world.api_version,
        )
        # list_page links /v2/apps with one q; CC's links name the collection that was asked
        # for and echo every q and inline-relations-depth (paginated_collection_renderer.rb).
        for key, target in (("prev_url", query.page - 1), ("next_url", query.page + 1)):
            if document[key] is not None:
                document[key] = cfapi.page_url(
                    path,
                    target,
                    query.per_page,
                    order_direction=query.direction,
                    q=query.q,
                    order_by=query.order_by,
                    inline_relations_depth=query.inline_depth or None,
                )
        if query.inline_depth:
            document["resources"] = [
                self._shown(app, query.inline_depth) for app in apps[start : start + query.per_page]
            ]
        return document

    # ------------------------------------------------------------------ authentication

    def _authenticate(self, exchange: Exchange) -> tuple[str, ...]:
        """The bearer token's scopes, or the 401 CC answers (CCNG base_controller.rb#check_authentication)."""
        header = exchange.headers.get("authorization")
        # CC only looks at tokens whose header starts with "bearer", in any case;
        # anything else (Basic, nothing) counts as no token at all.
        if header is None or not header[:6].upper() == "BEARER":
            raise _Refusal("NotAuthenticated")
        claims = self._live_claims(header[6:].strip())
        # CC decodes tokens for its own resource id only (UaaTokenDecoder, audience check).
        aud = claims.get("aud") if claims is not None else None
        if claims is None or not isinstance(aud, list) or "cloud_controller" not in aud:
            raise _Refusal("InvalidAuthToken")
        scopes = claims.get("scope")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else ()

    def _require(self, scopes: Sequence[str], allowed: Sequence[str]) -> None:
        if set(scopes) & set(allowed):
            return
        if self._world.api_version < cfapi.catalog_error("InsufficientScope").since:
            raise _Refusal("NotAuthorized")
        raise _Refusal("InsufficientScope")

    def _find(self, guid: str) -> SimulatedApp:
        for app in self._world.apps:
            if app.guid == guid:
                return app
        raise _Refusal("AppNotFound", guid=guid)

    # ------------------------------------------------------------------ filters and staging

    def _filter(self, query: str) -> Callable[[SimulatedApp], bool]:
        match = _FILTER.fullmatch(query)
        if match is None or match["key"] not in cfapi.APP_QUERY_FILTERS:
            raise _Refusal("BadQueryParameter", reason=match["key"] if match else query)
        key, op, wanted = match["key"], match["op"], match["value"]

        def value_of(app: SimulatedApp) -> str:
            if key == "organization_guid":
                return self._world.organization_guid
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
        # The same package and buildpack detect the same again.
        app.envelope["entity"].update(app.dropped_droplet or {})
        app.dropped_droplet = None
        now = self._runtime.now()
        app.envelope["metadata"]["updated_at"] = _stamp(now, self._world.api_version)
        # The new LRP's instances start: STARTING until polled polls_to_start times.
        app.polls_until_running, app.since = self._world.polls_to_start, now

    def _advance_start(self, app: SimulatedApp) -> None:
        """Count one ``/instances`` poll of a starting app; the last one finds it RUNNING."""
        if app.polls_until_running is None:
            return
        if app.polls_until_running == 0:
            app.polls_until_running, app.since = None, self._runtime.now()
        else:
            app.polls_until_running -= 1

    def _instance_state(self, app: SimulatedApp) -> tuple[str, datetime, datetime]:
        """(state, since, now) of a staged, started app's instances."""
        now = self._runtime.now()
        since = app.since or datetime.fromisoformat(app.envelope["metadata"]["updated_at"])
        return (shapes.STARTING if app.polls_until_running is not None else shapes.RUNNING), since, now

    def _staging_failed(self, app: SimulatedApp) -> _Refusal:
        """The error CC raises for a failed staging: the one ``staging_failed_reason`` names."""
        reason = app.envelope["entity"].get("staging_failed_reason") or "StagingError"
        if reason in cfapi.ERRORS:
            return _Refusal(reason, reason="cannot get instances since staging failed")
        # A reason the catalog does not hold (NoAppDetectedError …): its code and text from cfapi.
        failure = cfapi.staging_failure(reason)
        entry = cfapi.CatalogError(reason, 400, failure.code, failure.description, "staging failed", restage=False)
        return _Refusal(reason, entry=entry)
