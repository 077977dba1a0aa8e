"""Factories for schema-exact Cloud Controller v2 and UAA documents.

Every factory draws from the current seed (:func:`cfreplay.seed`), or from its
own ``seed=`` when given, so the same seed always yields the same bytes.  Every
factory takes ``api_version=`` (default: 2.43.0, the era of the documented
restage exchange) and produces what CC of that version would send.

Overrides are field names; a field that the era does not have, a value of the
wrong type or outside an enum raises :class:`cfreplay.SchemaError` naming it::

    app = app_envelope("staging_failed", "docker", memory=512)
    response = restage_response(app)            # the whole 201, as bytes on the wire
    error = error_response("AppNotFound", guid=app["metadata"]["guid"])
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from faker.providers.lorem.en_US import Provider as _Lorem

from cfreplay.cf import cfapi, tokens
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.schema import check_field, validate
from cfreplay.cf.seeding import Now, Seeder, current
from cfreplay.errors import ApiVersionError, SchemaError, UnknownNameError
from cfreplay.types import Request, Response

__all__ = [
    "DEFAULT_SYSTEM_DOMAIN",
    "TRAITS",
    "access_token",
    "app_envelope",
    "docs_access_token",
    "error_response",
    "info",
    "list_page",
    "restage_request",
    "restage_response",
    "root",
    "token_response",
]

SeedArg = int | str | Seeder | None
VersionArg = str | ApiVersion | None

DEFAULT_SYSTEM_DOMAIN: Final = "sys.example.com"

#: Traits name real app states; at most one from each group applies.
_TRAIT_GROUPS: Final[tuple[tuple[str, ...], ...]] = (
    ("started", "stopped"),
    ("staged", "staging", "staging_failed"),
    ("buildpack", "docker"),
    ("diego", "dea"),
)
TRAITS: Final[tuple[str, ...]] = tuple(t for group in _TRAIT_GROUPS for t in group)

# Realistic values.  Words come from Faker's English lorem list; drawing them
# with our own Random is ~20x faster than going through Faker's proxies.
_WORDS: Final = tuple(w for w in _Lorem.word_list if w.isalpha() and w.islower() and 3 <= len(w) <= 9)
_APP_SUFFIXES: Final = ("api", "web", "worker", "service", "ui", "gateway", "scheduler", "backend", "proxy", "app")
# (language, admin buildpack name, start command): cloudfoundry's system buildpacks.
_BUILDPACKS: Final = (
    ("python", "python_buildpack", "python app.py"),
    ("nodejs", "nodejs_buildpack", "npm start"),
    ("ruby", "ruby_buildpack", "bundle exec rackup config.ru -p $PORT"),
    ("go", "go_buildpack", "./bin/{name}"),
    (
        "java",
        "java_buildpack",
        'JAVA_OPTS="-Xss512k" exec $PWD/.java-buildpack/open_jdk_jre/bin/java -cp $PWD/. '
        "org.springframework.boot.loader.JarLauncher",
    ),
    ("staticfile", "staticfile_buildpack", "$HOME/boot.sh"),
    ("php", "php_buildpack", "$HOME/.bp/bin/start"),
    ("binary", "binary_buildpack", "./{name}"),
    (
        "dotnet-core",
        "dotnet_core_buildpack",
        "cd ${DEPS_DIR}/0/dotnet_publish && exec ./{name} --server.urls http://0.0.0.0:${PORT}",
    ),
)
_MEMORY_MB: Final = (128, 256, 256, 512, 512, 512, 768, 1024, 1024, 1024, 2048, 4096)
_DISK_MB: Final = (256, 512, 1024, 1024, 1024, 2048, 4096)
_ENV_VARS: Final = (
    ("LOG_LEVEL", ("debug", "info", "info", "warn")),
    ("NODE_ENV", ("production", "staging")),
    ("TZ", ("UTC", "Europe/Berlin", "America/New_York")),
    ("SPRING_PROFILES_ACTIVE", ("cloud", "cloud,metrics")),
    ("JBP_CONFIG_OPEN_JDK_JRE", ("{ jre: { version: 17.+ } }",)),
    ("WEB_CONCURRENCY", ("2", "4")),
    ("FEATURE_NEW_CHECKOUT", ("true", "false")),
    ("GOPACKAGENAME", ("main",)),
)
_TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"


def _seeder(seed: SeedArg, now: Now = None) -> Seeder:
    if isinstance(seed, Seeder):
        return seed
    if seed is None:
        return current() if now is None else Seeder(current().random.getrandbits(64), now=now)
    return Seeder(seed, now=now)


def _stamp(moment: datetime) -> str:
    return moment.strftime(_TIMESTAMP)


def _app_name(s: Seeder) -> str:
    return f"{s.choice(_WORDS)}-{s.choice(_WORDS) if s.chance(0.3) else s.choice(_APP_SUFFIXES)}"


def _resolve_traits(traits: Sequence[str], version: ApiVersion) -> dict[str, str]:
    """One chosen trait per group, defaults filled in; conflicts and unknown names refused."""
    chosen: dict[int, str] = {}
    for trait in traits:
        group = next((i for i, g in enumerate(_TRAIT_GROUPS) if trait in g), None)
        if group is None:
            raise UnknownNameError("trait", trait, TRAITS)
        if group in chosen and chosen[group] != trait:
            raise SchemaError("traits", f"{chosen[group]!r} and {trait!r} cannot both apply", str(version))
        chosen[group] = trait
    defaults = ("started", "staged", "buildpack", "diego" if version >= cfapi.DIEGO_DEFAULT_SINCE else "dea")
    picked = {g[0]: chosen.get(i, defaults[i]) for i, g in enumerate(_TRAIT_GROUPS)}
    if picked["buildpack"] == "docker":
        if version < cfapi.app_field("docker_image").since:
            raise SchemaError("traits", "'docker' needs API 2.8.0 or later (no docker_image before)", str(version))
        if chosen.get(3) == "dea":
            raise SchemaError("traits", "'docker' apps cannot run on DEAs (CF-DockerAppToDea)", str(version))
        picked["diego"] = "diego"
    if picked["diego"] == "diego" and version < cfapi.app_field("diego").since:
        raise SchemaError("traits", "'diego' needs API 2.23.0 or later", str(version))
    return picked


def _draw_entity(
    s: Seeder, version: ApiVersion, traits: Mapping[str, str], created: datetime, updated: datetime
) -> dict[str, Any]:
    """Values for every entity field, drawn to fit the traits; the caller orders them."""
    name = _app_name(s)
    diego = traits["diego"] == "diego"
    docker = traits["buildpack"] == "docker"
    package_state = {"staged": "STAGED", "staging": "PENDING", "staging_failed": "FAILED"}[traits["staged"]]
    language, admin_buildpack, start_command = s.choice(_BUILDPACKS)
    values: dict[str, Any] = {
        "name": name,
        "production": False,
        "space_guid": s.uuid(),
        "stack_guid": s.uuid(),
        "memory": s.choice(_MEMORY_MB),
        "instances": s.choice((1, 1, 1, 2, 2, 3, 4, 6)),
        "disk_quota": s.choice(_DISK_MB),
        "log_rate_limit": s.choice((-1, -1, 16384, 1048576)),
        "state": "STARTED" if traits["started"] == "started" else "STOPPED",
        "version": s.uuid(),
        "command": None,
        "console": False,
        "debug": None,
        "staging_task_id": None,
        "package_state": package_state,
        "health_check_type": "port",
        "health_check_timeout": s.choice((None, None, 60, 120, 180)),
        "health_check_http_endpoint": "",
        "staging_failed_reason": None,
        "staging_failed_description": None,
        "diego": diego,
        "docker_image": None,
        "package_updated_at": _stamp(s.between(created, updated)),
        "detected_start_command": "",
        "enable_ssh": diego and s.chance(0.8),
        "ports": None,
        "buildpack": None,
        "detected_buildpack": None,
        "detected_buildpack_guid": None,
        "environment_json": None,
    }
    if s.chance(0.6):
        picked = sorted({s.choice(range(len(_ENV_VARS))) for _ in range(s.random.randint(1, 3))})
        values["environment_json"] = {_ENV_VARS[i][0]: s.choice(_ENV_VARS[i][1]) for i in picked}
    if version >= cfapi.app_field("health_check_type").enum["process"]:  # type: ignore[index]
        if name.endswith(("worker", "scheduler")):
            values["health_check_type"] = "process"
        elif version >= cfapi.app_field("health_check_type").enum["http"] and s.chance(0.3):  # type: ignore[index]
            values["health_check_type"] = "http"
            values["health_check_http_endpoint"] = s.choice(("/health", "/healthz", "/actuator/health"))
    if docker:
        namespace = s.faker.user_name()
        values["docker_image"] = s.choice(
            (
                "cloudfoundry/diego-docker-app:latest",
                f"{namespace}/{name}:latest",
                f"registry.example.com:5000/{namespace}/{name}:{s.random.randint(1, 9)}.{s.random.randint(0, 20)}.0",
            )
        )
        username = namespace if s.chance(0.5) else None
        values["docker_credentials"] = cfapi.docker_credentials_value(version, username)
    else:
        values["docker_credentials"] = cfapi.docker_credentials_value(version, None)
        if s.chance(0.5):
            values["buildpack"] = admin_buildpack
        elif s.chance(0.5):
            values["buildpack"] = f"https://github.com/cloudfoundry/{language}-buildpack.git"
    values["docker_credentials_json"] = dict(cfapi.REDACTED_MESSAGE)
    if diego:
        values["ports"] = [8080]
    if s.chance(0.15):
        values["command"] = start_command.replace("{name}", name) + " --migrate"
    if package_state == "STAGED":
        values["staging_task_id"] = s.uuid() if diego else s.hex(32)
        if not docker:
            patch = f"{s.random.randint(1, 9)}.{s.random.randint(0, 12)}.{s.random.randint(0, 40)}"
            values["detected_buildpack"] = f"{language} {patch}"
            values["detected_buildpack_guid"] = None if values["buildpack"] else s.uuid()
        values["detected_start_command"] = start_command.replace("{name}", name) if not docker else ""
    elif package_state == "PENDING" and diego and version >= cfapi.BUILDS_SINCE:
        values["staging_task_id"] = s.uuid()
    elif package_state == "FAILED":
        values["staging_task_id"] = s.uuid() if diego else s.hex(32)
        failures = [f for f in cfapi.STAGING_FAILURES if f.since <= version]
        if failures:  # before ≈2.6 CC kept no reason
            failure = s.choice(failures)
            values["staging_failed_reason"] = failure.reason
            values["staging_failed_description"] = failure.description
    return values


def _apply_overrides(
    metadata: dict[str, Any], entity: dict[str, Any], overrides: Mapping[str, Any], version: ApiVersion
) -> None:
    metadata_names = {f.name for f in cfapi.METADATA_FIELDS}
    for key, value in overrides.items():
        where = "metadata" if key in metadata_names else "entity"
        check_field(key, value, version, where=where)
        (metadata if where == "metadata" else entity)[key] = copy.deepcopy(value)
    if "guid" in overrides and "url" not in overrides:
        metadata["url"] = cfapi.app_path(metadata["guid"])


def app_envelope(
    *traits: str,
    api_version: VersionArg = None,
    seed: SeedArg = None,
    now: Now = None,
    links: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """An app resource (``metadata`` + ``entity``) with every field of the era.

    Traits (positional) pick a real state: ``started``/``stopped``,
    ``staged``/``staging``/``staging_failed``, ``buildpack``/``docker``,
    ``diego``/``dea``; by default a started, staged buildpack app on the era's
    default backend.  ``links=True`` adds the relation URLs GET and list
    responses carry.  Keyword overrides set entity or metadata fields by name.
    """
    version = ApiVersion.parse(api_version)
    s = _seeder(seed, now)
    picked = _resolve_traits(traits, version)
    moment = s.now()
    created = moment - timedelta(seconds=s.random.randint(3600, 400 * 86400))
    updated = s.between(created, moment)
    guid = s.uuid()
    metadata = {"guid": guid, "url": cfapi.app_path(guid), "created_at": _stamp(created), "updated_at": _stamp(updated)}
    drawn = _draw_entity(s, version, picked, created, updated)
    entity: dict[str, Any] = {}
    for f in cfapi.app_fields(version, links=links):
        if f.link:
            entity[f.name] = cfapi.link_value(f.name, guid, drawn["space_guid"], drawn["stack_guid"])
        else:
            entity[f.name] = drawn[f.name]
    if overrides:
        _apply_overrides(metadata, entity, overrides, version)
        if links:
            for f in cfapi.app_fields(version, links=True):
                if f.link and f.name not in overrides:
                    entity[f.name] = cfapi.link_value(
                        f.name, metadata["guid"], entity["space_guid"], entity["stack_guid"]
                    )
    return {"metadata": metadata, "entity": entity}


def _json_response(
    status: int,
    document: Any,
    version: ApiVersion,
    s: Seeder,
    *,
    kind: Literal["resource", "error"],
    request_id: str | None,
    incoming_request_id: str | None,
    content_type: str = cfapi.JSON_CONTENT_TYPE,
    extra: Sequence[tuple[str, str]] = (),
    after_type: Sequence[tuple[str, str]] = (),
) -> Response:
    body = cfapi.dump_json(document, version, kind=kind)
    headers = [
        ("Content-Type", content_type),
        *after_type,
        ("X-VCAP-Request-ID", cfapi.vcap_request_id(request_id or s.uuid(), incoming_request_id)),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
        *extra,
    ]
    return Response(status, tuple(headers), body)


def restage_response(
    app: Mapping[str, Any] | None = None,
    *,
    api_version: VersionArg = None,
    seed: SeedArg = None,
    now: Now = None,
    request_id: str | None = None,
    incoming_request_id: str | None = None,
    process_guid: str | None = None,
    warnings: Sequence[str] = (),
    **overrides: Any,
) -> Response:
    """The whole ``201 Created`` answer to ``POST /v2/apps/:guid/restage``.

    *app* is the app before the restage (default: a started, staged app).  The
    response shows restage's effect: state STARTED, package_state PENDING, a new
    ``version`` and, on Diego since v3 builds (≈2.64), the new build's guid as
    ``staging_task_id`` (DEA assigned it later, so it is unchanged there);
    ``updated_at`` is the factory clock.  ``process_guid`` sets ``Location``
    (it differs from the app guid after a rolling deployment); ``warnings`` adds
    ``X-Cf-Warnings``.  Overrides set response fields by name.
    """
    version = ApiVersion.parse(api_version)
    s = _seeder(seed, now)
    if app is None:
        app = app_envelope("started", "staged", api_version=version, seed=s)
    else:
        validate(app, version)
    envelope = copy.deepcopy(dict(app))
    metadata, entity = envelope["metadata"], envelope["entity"]
    for f in cfapi.app_fields(version, links=True):
        if f.link:
            entity.pop(f.name, None)
    entity["state"] = "STARTED"
    entity["package_state"] = "PENDING"
    entity["version"] = s.uuid()
    if entity.get("diego") and version >= cfapi.BUILDS_SINCE:
        entity["staging_task_id"] = s.uuid()
    for key in ("staging_failed_reason", "staging_failed_description"):
        if key in entity:
            entity[key] = None
    metadata["updated_at"] = _stamp(
        max(s.now(), datetime.strptime(metadata["created_at"] + "+0000", _TIMESTAMP + "%z"))
    )
    _apply_overrides(metadata, entity, overrides, version)
    after_type = [("Location", cfapi.app_path(process_guid or metadata["guid"]))]
    extra = [("X-Cf-Warnings", cfapi.warnings_header(warnings))] if warnings else []
    return _json_response(
        201,
        envelope,
        version,
        s,
        kind="resource",
        request_id=request_id,
        incoming_request_id=incoming_request_id,
        after_type=after_type,
        extra=extra,
    )


def error_response(
    name: str,
    *,
    api_version: VersionArg = None,
    seed: SeedArg = None,
    now: Now = None,
    request_id: str | None = None,
    incoming_request_id: str | None = None,
    **detail: str,
) -> Response:
    """A v2 error as CC sends it, e.g. ``error_response("AppNotFound", guid=...)``.

    *name* is a catalog name with or without ``CF-``.  The ``%s`` of the
    description is filled from the entry's keyword (``guid=`` for AppNotFound,
    ``reason=`` for most others, or plain ``detail=``), else from the detail CC
    passes in the commonest case.  Rate-limit errors come as CC sends them:
    ``text/plain`` with ``Retry-After`` and ``X-RateLimit-*`` headers.
    """
    version = ApiVersion.parse(api_version)
    error = cfapi.catalog_error(name)
    if version < error.since:
        raise ApiVersionError(f"{error.error_code} is not returned by API {version}; it first appears in {error.since}")
    s = _seeder(seed, now)
    accepted = {"detail", error.detail_name} if error.takes_detail else set()
    unknown = sorted(set(detail) - accepted)
    if unknown:
        takes = f"takes {error.detail_name}= or detail=" if error.takes_detail else "takes no detail"
        raise SchemaError(unknown[0], f"{error.error_code} {takes}", str(version))
    text = detail.get("detail") or (detail.get(error.detail_name) if error.detail_name else None)
    if text is None and error.detail_name == "guid":
        text = s.uuid()
    document = cfapi.error_document(error, error.description(text), version)
    if not error.rate_limited:
        return _json_response(
            error.http_status,
            document,
            version,
            s,
            kind="error",
            request_id=request_id,
            incoming_request_id=incoming_request_id,
        )
    suffix = "-V2-API" if error.name == "RateLimitV2APIExceeded" else ""
    reset = int(s.now().timestamp()) + s.random.randint(60, 3600)
    extra = [
        (f"X-RateLimit-Limit{suffix}", "2000"),
        (f"X-RateLimit-Remaining{suffix}", "0"),
        (f"X-RateLimit-Reset{suffix}", str(reset)),
    ]
    return _json_response(
        error.http_status,
        document,
        version,
        s,
        kind="error",
        request_id=request_id,
        incoming_request_id=incoming_request_id,
        content_type=cfapi.RATE_LIMIT_CONTENT_TYPE,
        after_type=[("Retry-After", str(reset - int(s.now().timestamp())))],
        extra=extra,
    )


def list_page(
    resources: Sequence[Mapping[str, Any]] | None = None,
    *,
    traits: Sequence[str] = (),
    count: int | None = None,
    total_results: int | None = None,
    page: int = 1,
    results_per_page: int = cfapi.DEFAULT_RESULTS_PER_PAGE,
    q: str | None = None,
    order_direction: Literal["asc", "desc"] = "asc",
    order_by: str | None = None,
    api_version: VersionArg = None,
    seed: SeedArg = None,
    now: Now = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One page of ``GET /v2/apps``: ``total_results``, ``total_pages``, page links, resources.

    Without *resources*, the page's apps are generated (with relation links, as
    CC lists them) with *traits* and *overrides*; a ``q`` equality filter such
    as ``name:billing-api`` is honoured by the generated apps.  ``total_results``
    defaults to a collection that ends on this page.
    """
    version = ApiVersion.parse(api_version)
    if not 1 <= results_per_page <= cfapi.MAX_RESULTS_PER_PAGE:
        raise SchemaError(
            "results_per_page",
            f"must be 1..{cfapi.MAX_RESULTS_PER_PAGE} (CC answers CF-BadQueryParameter)",
            str(version),
        )
    if page < 1:
        raise SchemaError("page", "must be 1 or more", str(version))
    s = _seeder(seed, now)
    offset = (page - 1) * results_per_page
    if resources is None:
        if count is None:
            count = min(results_per_page, max(0, total_results - offset)) if total_results is not None else 3
        filters = dict(overrides)
        if q and ":" in q:
            key, _, value = q.partition(":")
            if key not in cfapi.APP_QUERY_FILTERS:
                raise SchemaError(
                    "q", f"cannot filter apps by {key!r}; filters: {', '.join(cfapi.APP_QUERY_FILTERS)}", str(version)
                )
            if key in ("name", "space_guid", "stack_guid"):
                filters[key] = value
        resources = [app_envelope(*traits, api_version=version, seed=s, links=True, **filters) for _ in range(count)]
    else:
        for resource in resources:
            validate(resource, version)
    if len(resources) > results_per_page:
        raise SchemaError(
            "resources", f"{len(resources)} resources do not fit a page of {results_per_page}", str(version)
        )
    if total_results is None:
        total_results = offset + len(resources)
    pages = cfapi.total_pages(total_results, results_per_page)

    def link(target: int) -> str:
        return cfapi.page_url(
            cfapi.APPS_PATH, target, results_per_page, order_direction=order_direction, q=q, order_by=order_by
        )

    return {
        "total_results": total_results,
        "total_pages": pages,
        "prev_url": link(page - 1) if page > 1 else None,
        "next_url": link(page + 1) if page < pages else None,
        "resources": [copy.deepcopy(dict(r)) for r in resources],
    }


def _v3_version(version: ApiVersion) -> str:
    # CC ships v2 and v3 from one release; 2.141.0 went with 3.76.0 (cf-python-client's
    # fixtures), and both minors advance together.  Approximate for other releases.
    return f"3.{max(0, version.minor - 65)}.0"


def info(
    *,
    api_version: VersionArg = None,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    v2_disabled: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """``GET /v2/info`` of a foundation at *system_domain*, fields of the era in CC's order."""
    version = ApiVersion.parse(api_version)
    d = system_domain
    values: dict[str, Any] = {
        "name": "",
        "build": "",
        "support": "",
        "version": 0,
        "description": "",
        "authorization_endpoint": f"https://login.{d}",
        "token_endpoint": f"https://uaa.{d}",
        "min_cli_version": None,
        "min_recommended_cli_version": None,
        "app_ssh_endpoint": f"ssh.{d}:2222",
        "app_ssh_host_key_fingerprint": "a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a",
        "app_ssh_oauth_client": "ssh-proxy",
        "logging_endpoint": f"wss://loggregator.{d}:4443",
        "bits_endpoint": None,
        "doppler_logging_endpoint": f"wss://doppler.{d}:443",
        "api_version": str(version),
        "osbapi_version": "2.15",
        "routing_endpoint": f"https://api.{d}/routing",
    }
    if v2_disabled:
        values["support"] = cfapi.V2_DISABLED_SUPPORT
        values["api_version"] = ""
    fields = cfapi.info_fields(version)
    known = {f.name for f in fields}
    for key in overrides:
        if key not in known:
            raise SchemaError(f"info.{key}", "not a /v2/info field of this API version", str(version))
    values.update(overrides)
    return {f.name: values[f.name] for f in fields}


def root(
    *, api_version: VersionArg = None, system_domain: str = DEFAULT_SYSTEM_DOMAIN, v2_disabled: bool = False
) -> dict[str, Any]:
    """``GET /``: the links document cf-python-client reads first."""
    version = ApiVersion.parse(api_version)
    d = system_domain
    hrefs = {
        "self": f"https://api.{d}",
        "bits_service": None,
        "cloud_controller_v2": f"https://api.{d}/v2",
        "cloud_controller_v3": f"https://api.{d}/v3",
        "network_policy_v0": f"https://api.{d}/networking/v0/external",
        "network_policy_v1": f"https://api.{d}/networking/v1/external",
        "login": f"https://login.{d}",
        "uaa": f"https://uaa.{d}",
        "credhub": None,
        "routing": f"https://api.{d}/routing",
        "logging": f"wss://doppler.{d}:443",
        "log_cache": f"https://log-cache.{d}",
        "log_stream": f"https://log-stream.{d}",
        "app_ssh": f"ssh.{d}:2222",
    }
    meta = {
        "version": str(version),
        "host_key_fingerprint": "a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a",
        "oauth_client": "ssh-proxy",
    }
    links: dict[str, Any] = {}
    for name, meta_keys in cfapi.ROOT_LINKS.items():
        if name == "cloud_controller_v2" and v2_disabled:
            continue
        href = hrefs[name]
        if href is None:
            links[name] = None
            continue
        link: dict[str, Any] = {"href": href}
        if meta_keys:
            link["meta"] = {k: (_v3_version(version) if name == "cloud_controller_v3" else meta[k]) for k in meta_keys}
        links[name] = link
    return {"links": links}


def _user_identity(s: Seeder, username: str | None) -> tuple[str, str, str]:
    faker = s.faker
    user_name = username or faker.user_name()
    email = user_name if "@" in user_name else f"{user_name}@{faker.free_email_domain()}"
    return s.uuid(), user_name, email


def access_token(
    *,
    grant_type: str = "password",
    username: str | None = None,
    client_id: str = cfapi.CF_CLIENT_ID,
    scopes: Sequence[str] = cfapi.DEVELOPER_SCOPES,
    expires_in: int = cfapi.DEFAULT_EXPIRES_IN,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> str:
    """A UAA-shaped access token (claims and header as UAA emits them), signed with cfreplay's test key.

    ``iat`` is the factory clock and ``exp`` is ``iat + expires_in``.
    """
    return _access_token(_seeder(seed, now), grant_type, username, client_id, scopes, expires_in, system_domain)[0]


def _access_token(
    s: Seeder,
    grant_type: str,
    username: str | None,
    client_id: str,
    scopes: Sequence[str],
    expires_in: int,
    system_domain: str,
) -> tuple[str, dict[str, Any]]:
    if grant_type not in cfapi.GRANT_TYPES:
        raise UnknownNameError("grant type", grant_type, cfapi.GRANT_TYPES)
    issued = int(s.now().timestamp())
    user_grant = grant_type != "client_credentials"
    user_id, user_name, email = _user_identity(s, username) if user_grant else ("", "", "")
    values: dict[str, Any] = {
        "jti": s.hex(32),
        "sub": user_id if user_grant else client_id,
        "authorities": list(scopes),
        "scope": list(scopes),
        "client_id": client_id,
        "cid": client_id,
        "azp": client_id,
        "revocable": True,
        "grant_type": grant_type,
        "user_id": user_id,
        "origin": "uaa",
        "user_name": user_name,
        "email": email,
        "auth_time": issued - s.random.randint(0, 3600),
        "rev_sig": s.hex(8),
        "iat": issued,
        "exp": issued + expires_in,
        "iss": f"https://uaa.{system_domain}/oauth/token",
        "zid": "uaa",
        "aud": cfapi.audience(scopes, client_id),
    }
    claims = {c.name: values[c.name] for c in cfapi.ACCESS_TOKEN_CLAIMS if c.grants is None or grant_type in c.grants}
    return tokens.sign(claims, jku=f"https://uaa.{system_domain}/token_keys"), claims


def token_response(
    *,
    grant_type: str = "password",
    username: str | None = None,
    client_id: str = cfapi.CF_CLIENT_ID,
    scopes: Sequence[str] = cfapi.DEVELOPER_SCOPES,
    expires_in: int = cfapi.DEFAULT_EXPIRES_IN,
    opaque: bool = False,
    system_domain: str = DEFAULT_SYSTEM_DOMAIN,
    seed: SeedArg = None,
    now: Now = None,
) -> dict[str, Any]:
    """The JSON body of a successful ``POST /oauth/token``, keys in UAA's order.

    User grants get an ``id_token`` (when ``openid`` is in scope) and a refresh
    token; ``client_credentials`` gets neither.  ``opaque=True`` mimics
    ``token_format=opaque``: the access token is a short id, not a JWT.
    """
    s = _seeder(seed, now)
    access, claims = _access_token(s, grant_type, username, client_id, scopes, expires_in, system_domain)
    jku = f"https://uaa.{system_domain}/token_keys"
    body: dict[str, Any] = {"access_token": s.hex(32) if opaque else access, "token_type": "bearer"}
    user_grant = grant_type != "client_credentials"
    if user_grant and "openid" in scopes:
        id_claims = {
            k: claims[k]
            for k in ("sub", "user_name", "origin", "iss", "client_id", "zid", "user_id", "azp", "iat", "exp", "email")
        }
        id_claims["aud"] = [client_id]
        id_claims["scope"] = ["openid"]
        id_claims["jti"] = s.hex(32)
        body["id_token"] = tokens.sign(id_claims, jku=jku)
    if user_grant:
        refresh_claims = {
            "jti": f"{s.hex(32)}-r",
            "sub": claims["sub"],
            "iat": claims["iat"],
            "exp": claims["iat"] + 30 * 86400,
            "cid": client_id,
            "client_id": client_id,
            "iss": claims["iss"],
            "zid": "uaa",
            "aud": claims["aud"],
            "granted_scopes": list(scopes),
            "amr": ["pwd"],
            "auth_time": claims["auth_time"],
            "acr": {"values": ["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"]},
            "azp": client_id,
            "grant_type": grant_type,
            "user_name": claims["user_name"],
            "origin": "uaa",
            "user_id": claims["user_id"],
            "rev_sig": claims["rev_sig"],
        }
        body["refresh_token"] = s.hex(32) + "-r" if opaque else tokens.sign(refresh_claims, jku=jku)
    body["expires_in"] = expires_in
    body["scope"] = " ".join(scopes)
    body["jti"] = claims["jti"]
    return {key: body[key] for key in cfapi.TOKEN_RESPONSE_KEYS if key in body}


def docs_access_token(
    *,
    user_id: str,
    email: str,
    scope: Sequence[str] = ("cloud_controller.admin",),
    aud: Sequence[str] = ("cloud_controller",),
    exp: int,
) -> str:
    """A token shaped like those on CC's apidocs pages (not UAA-shaped; see reference §4.3).

    Signed with CC's public test secret ``tokensecret``, header ``typ`` first, as the docs have it.
    """
    claims = {"user_id": user_id, "email": email, "scope": list(scope), "aud": list(aud), "exp": exp}
    return tokens.sign(claims, key=tokens.CC_DOCS_SECRET, docs_header=True)


def restage_request(
    guid: str | None = None,
    *,
    token: str | None = None,
    host: str = "example.org",
    style: Literal["docs", "cf-cli", "cf-python-client"] = "docs",
    seed: SeedArg = None,
    now: Now = None,
) -> Request:
    """``POST /v2/apps/:guid/restage`` as a client sends it.

    ``docs`` is the apidocs request (lowercase ``bearer``, a form content type
    and an empty ``Cookie``); ``cf-cli`` the legacy cf CLI's; ``cf-python-client``
    cf-python-client's (``Bearer``, no body, ``Content-Length: 0``).  Without a
    *token*, a UAA-shaped one from :func:`access_token` is used.
    """
    s = _seeder(seed, now)
    guid = guid or s.uuid()
    token = (
        token
        or _access_token(
            s,
            "password",
            None,
            cfapi.CF_CLIENT_ID,
            cfapi.DEVELOPER_SCOPES,
            cfapi.DEFAULT_EXPIRES_IN,
            DEFAULT_SYSTEM_DOMAIN,
        )[0]
    )
    path = cfapi.restage_path(guid)
    headers: tuple[tuple[str, str], ...]
    if style == "docs":
        headers = (
            ("Authorization", f"bearer {token}"),
            ("Host", host),
            ("Content-Type", cfapi.FORM_CONTENT_TYPE),
            ("Cookie", ""),
        )
    elif style == "cf-cli":
        headers = (
            ("Host", host),
            ("Accept", "application/json"),
            ("Authorization", f"bearer {token}"),
            ("Content-Type", "application/json"),
            ("User-Agent", "go-cli 6.40.1+85b2d8a.2018-10-18 / linux"),
        )
    elif style == "cf-python-client":
        headers = (
            ("Host", host),
            ("User-Agent", "cf-python-client"),
            ("Accept-Encoding", "gzip, deflate"),
            ("Accept", "*/*"),
            ("Connection", "keep-alive"),
            ("Authorization", f"Bearer {token}"),
            ("Content-Length", "0"),
        )
    else:
        raise UnknownNameError("request style", style, ("cf-cli", "cf-python-client", "docs"))
    return Request("POST", path, headers, b"")
