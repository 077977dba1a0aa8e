"""App resources: :func:`app_envelope` (one app, drawn to fit its traits) and :func:`list_page` (a page of them).

Public as :mod:`cfreplay.factories` / :mod:`cfreplay.cf.factories`; the values
drawn here are realistic (names, buildpacks, memory sizes, env vars), and every
field of the API era is present, in presenter order.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from faker.providers.lorem.en_US import Provider as _Lorem

from cfreplay.cf import cfapi
from cfreplay.cf._draw import SeedArg, VersionArg, seeder, stamp
from cfreplay.cf._traits import TRAIT_GROUPS, TRAITS
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.schema import check_field, validate
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.errors import SchemaError, UnknownNameError

__all__ = ["TRAITS", "app_envelope", "apply_overrides", "list_page", "space_resource", "stack_resource"]


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
_Buildpack = tuple[str, str, str]
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


def _app_name(s: Seeder) -> str:
    return f"{s.choice(_WORDS)}-{s.choice(_WORDS) if s.chance(0.3) else s.choice(_APP_SUFFIXES)}"


def _resolve_traits(traits: Sequence[str], version: ApiVersion) -> dict[str, str]:
    """One chosen trait per group, defaults filled in; conflicts and unknown names refused."""
    chosen: dict[int, str] = {}
    for trait in traits:
        group = next((i for i, g in enumerate(TRAIT_GROUPS) if trait in g), None)
        if group is None:
            raise UnknownNameError("trait", trait, TRAITS)
        if group in chosen and chosen[group] != trait:
            raise SchemaError("traits", f"{chosen[group]!r} and {trait!r} cannot both apply", str(version))
        chosen[group] = trait
    defaults = ("started", "staged", "buildpack", "diego" if version >= cfapi.DIEGO_DEFAULT_SINCE else "dea")
    picked = {g[0]: chosen.get(i, defaults[i]) for i, g in enumerate(TRAIT_GROUPS)}
    if picked["buildpack"] == "docker":
        if version < cfapi.app_field("docker_image").since:
            raise SchemaError("traits", "'docker' needs API 2.8.0 or later (no docker_image before)", str(version))
        if chosen.get(3) == "dea":
            raise SchemaError("traits", "'docker' apps cannot run on DEAs (CF-DockerAppToDea)", str(version))
        picked["diego"] = "diego"
    if picked["diego"] == "diego" and version < cfapi.app_field("diego").since:
        raise SchemaError("traits", "'diego' needs API 2.23.0 or later", str(version))
    return picked


# --------------------------------------------------------------------------- drawing an entity
# The steps below draw from one Seeder in a fixed order; the shipped cassettes are their
# output byte for byte, so a step must not move, skip a draw, or draw one more.


def _draw_entity(
    s: Seeder, version: ApiVersion, traits: Mapping[str, str], created: datetime, updated: datetime
) -> dict[str, Any]:
    """Values for every entity field, drawn to fit the traits; the caller orders them."""
    name = _app_name(s)
    docker = traits["buildpack"] == "docker"
    buildpack: _Buildpack = s.choice(_BUILDPACKS)
    values = _draw_basics(s, version, name, traits, created, updated)
    _draw_environment(s, values)
    _draw_health_check(s, version, values)
    if docker:
        _draw_docker_image(s, version, values)
    else:
        _draw_buildpack(s, version, buildpack, values)
    values["docker_credentials_json"] = dict(cfapi.REDACTED_MESSAGE)
    if values["diego"]:
        values["ports"] = [8080]
    if s.chance(0.15):
        values["command"] = _start_command(buildpack, name) + " --migrate"
    _draw_staging(s, version, buildpack, values, docker=docker)
    return values


def _draw_basics(
    s: Seeder, version: ApiVersion, name: str, traits: Mapping[str, str], created: datetime, updated: datetime
) -> dict[str, Any]:
    """Every field at its ``Field.default``, then the ones this app draws or its traits set.

    A field cfapi gives a default needs nothing here: a new era field is one edit in cfapi.
    """
    values = {f.name: f.default_value() for f in cfapi.APP_FIELDS if f.has_default}
    values["name"] = name
    values["space_guid"] = s.uuid()
    values["stack_guid"] = s.uuid()
    values["memory"] = s.choice(_MEMORY_MB)
    values["instances"] = s.choice((1, 1, 1, 2, 2, 3, 4, 6))
    values["disk_quota"] = s.choice(_DISK_MB)
    values["log_rate_limit"] = s.choice((-1, -1, 16384, 1048576))
    values["state"] = "STARTED" if traits["started"] == "started" else "STOPPED"
    values["version"] = s.uuid()
    values["package_state"] = {"staged": "STAGED", "staging": "PENDING", "staging_failed": "FAILED"}[traits["staged"]]
    values["health_check_timeout"] = s.choice((None, None, 60, 120, 180))
    values["diego"] = traits["diego"] == "diego"
    values["package_updated_at"] = stamp(s.between(created, updated), version)
    # CC sets it from the platform's and the space's SSH switches, on DEAs as on Diego.
    values["enable_ssh"] = s.chance(0.8)
    return values


def _draw_environment(s: Seeder, values: dict[str, Any]) -> None:
    if s.chance(0.6):
        picked = sorted({s.choice(range(len(_ENV_VARS))) for _ in range(s.random.randint(1, 3))})
        values["environment_json"] = {_ENV_VARS[i][0]: s.choice(_ENV_VARS[i][1]) for i in picked}


def _draw_health_check(s: Seeder, version: ApiVersion, values: dict[str, Any]) -> None:
    """Workers check the process (from 2.47); from 2.66 some web apps check an HTTP endpoint."""
    if version >= cfapi.app_field("health_check_type").enum["process"]:  # type: ignore[index]
        if values["name"].endswith(("worker", "scheduler")):
            values["health_check_type"] = "process"
        elif version >= cfapi.app_field("health_check_type").enum["http"] and s.chance(0.3):  # type: ignore[index]
            values["health_check_type"] = "http"
            values["health_check_http_endpoint"] = s.choice(("/health", "/healthz", "/actuator/health"))


def _draw_docker_image(s: Seeder, version: ApiVersion, values: dict[str, Any]) -> None:
    name = values["name"]
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


def _draw_buildpack(s: Seeder, version: ApiVersion, buildpack: _Buildpack, values: dict[str, Any]) -> None:
    """An admin buildpack, a custom buildpack URL, or none (autodetect)."""
    language, admin_buildpack, _ = buildpack
    values["docker_credentials"] = cfapi.docker_credentials_value(version, None)
    if s.chance(0.5):
        values["buildpack"] = admin_buildpack
    elif s.chance(0.5):
        values["buildpack"] = f"https://github.com/cloudfoundry/{language}-buildpack.git"


def _start_command(buildpack: _Buildpack, name: str) -> str:
    return buildpack[2].replace("{name}", name)


def _draw_staging(
    s: Seeder, version: ApiVersion, buildpack: _Buildpack, values: dict[str, Any], *, docker: bool
) -> None:
    """What staging left behind for the package state: a task id, detection results, or a failure."""
    package_state = values["package_state"]
    if package_state == "STAGED":
        _draw_staged(s, buildpack, values, docker=docker)
    elif package_state == "PENDING" and values["diego"] and version >= cfapi.BUILDS_SINCE:
        values["staging_task_id"] = s.uuid()
    elif package_state == "FAILED":
        values["staging_task_id"] = s.uuid() if values["diego"] else s.hex(32)
        failures = [f for f in cfapi.STAGING_FAILURES if f.since <= version]
        if failures:  # before 2.6 CC kept no reason
            failure = s.choice(failures)
            values["staging_failed_reason"] = failure.reason
            values["staging_failed_description"] = failure.description_in(version)


def _draw_staged(s: Seeder, buildpack: _Buildpack, values: dict[str, Any], *, docker: bool) -> None:
    values["staging_task_id"] = s.uuid() if values["diego"] else s.hex(32)
    if not docker:
        patch = f"{s.random.randint(1, 9)}.{s.random.randint(0, 12)}.{s.random.randint(0, 40)}"
        values["detected_buildpack"] = f"{buildpack[0]} {patch}"
        values["detected_buildpack_guid"] = None if values["buildpack"] else s.uuid()
    values["detected_start_command"] = _start_command(buildpack, values["name"]) if not docker else ""


# --------------------------------------------------------------------------- envelopes

#: Every field name an app envelope has in some era: a name outside it is a typo, not an era question.
_FIELD_NAMES: Final = frozenset(f.name for f in (*cfapi.METADATA_FIELDS, *cfapi.APP_FIELDS))


def apply_overrides(
    metadata: dict[str, Any], entity: dict[str, Any], overrides: Mapping[str, Any], version: ApiVersion
) -> None:
    """Set fields by name, each checked against its schema in *version*; a new guid moves ``url`` too.

    A name no era of the envelope has raises :class:`cfreplay.UnknownNameError` with the
    closest field names (``memroy`` → did you mean ``'memory'``?); a field of another era
    raises :class:`cfreplay.SchemaError` saying when it came or went.
    """
    metadata_names = {f.name for f in cfapi.METADATA_FIELDS}
    for key, value in overrides.items():
        if key not in _FIELD_NAMES:
            raise UnknownNameError("app field", key, _FIELD_NAMES)
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
    inline_relations_depth: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """An app resource (``metadata`` + ``entity``) with every field of the era.

    Traits (positional) pick a real state: ``started``/``stopped``,
    ``staged``/``staging``/``staging_failed``, ``buildpack``/``docker``,
    ``diego``/``dea``; by default a started, staged buildpack app on the era's
    default backend.  ``links=True`` adds the relation URLs GET and list
    responses carry; ``inline_relations_depth=1`` also writes the app's space,
    stack, routes and service bindings in after their links, as
    ``?inline-relations-depth=1`` makes CC do.  Keyword overrides set entity or
    metadata fields by name.
    """
    version = ApiVersion.parse(api_version)
    _check_inline_depth(inline_relations_depth, version)
    links = links or inline_relations_depth > 0
    s = seeder(seed, now)
    picked = _resolve_traits(traits, version)
    moment = s.now()
    created = moment - timedelta(seconds=s.random.randint(3600, 400 * 86400))
    updated = s.between(created, moment)
    guid = s.uuid()
    metadata = {
        "guid": guid,
        "url": cfapi.app_path(guid),
        "created_at": stamp(created, version),
        "updated_at": stamp(updated, version),
    }
    drawn = _draw_entity(s, version, picked, created, updated)
    entity: dict[str, Any] = {}
    for f in cfapi.app_fields(version, links=links):
        if f.link:
            entity[f.name] = cfapi.link_value(f.name, guid, drawn["space_guid"], drawn["stack_guid"])
        else:
            entity[f.name] = drawn[f.name]
    if overrides:
        apply_overrides(metadata, entity, overrides, version)
        if links:
            for f in cfapi.app_fields(version, links=True):
                if f.link and f.name not in overrides:
                    entity[f.name] = cfapi.link_value(
                        f.name, metadata["guid"], entity["space_guid"], entity["stack_guid"]
                    )
    if inline_relations_depth:
        # Drawn last, so an app's own values are the same at every depth.
        entity = _with_inline_relations(s, version, entity, created)
    return {"metadata": metadata, "entity": entity}


# --------------------------------------------------------------------------- inline relations


def _check_inline_depth(depth: int, version: ApiVersion) -> None:
    if depth > cfapi.MAX_INLINE_RELATIONS_DEPTH:
        raise SchemaError(
            "inline_relations_depth",
            f"must be <= {cfapi.MAX_INLINE_RELATIONS_DEPTH} (CC answers CF-BadQueryParameter)",
            str(version),
        )
    if depth not in (0, 1):
        # Depth 2 inlines the space's organization, the routes' domains …: not modelled.
        raise SchemaError("inline_relations_depth", "cfreplay inlines one level of relations: 0 or 1", str(version))


def _related_metadata(collection: str, guid: str, created: datetime, version: ApiVersion) -> dict[str, Any]:
    # Never updated since created: null before 2.65, the creation time since (UPDATED_AT_NOT_NULL_SINCE).
    updated = stamp(created, version) if version >= cfapi.UPDATED_AT_NOT_NULL_SINCE else None
    return {"guid": guid, "url": f"{collection}/{guid}", "created_at": stamp(created, version), "updated_at": updated}


def _related(
    relation: str,
    guid: str,
    values: Mapping[str, Any],
    links: Mapping[str, str],
    created: datetime,
    version: ApiVersion,
) -> dict[str, Any]:
    """A related resource as CC inlines it: its era's fields in order, then its links (link-only one level down)."""
    entity = {name: values[name] for name in cfapi.related_fields(relation, version)}
    entity.update({f"{name}_url": links[name] for name in cfapi.related_links(relation, version) if name in links})
    collection = next(r.collection for r in cfapi.INLINE_RELATIONS if r.name == relation)
    return {"metadata": _related_metadata(collection, guid, created, version), "entity": entity}


_CFLINUXFS3_ERA: Final = ApiVersion(2, 130, 0)
_CFLINUXFS4_ERA: Final = ApiVersion(2, 200, 0)
_SPACE_NAMES: Final = ("development", "staging", "production", "dev", "qa", "sandbox")


def _stack_name(version: ApiVersion) -> tuple[str, str]:
    # The stack a foundation of the era most likely ran: cflinuxfs2 (Trusty) until cflinuxfs3
    # (Bionic) took over around 2019, cflinuxfs4 (Jammy) from 2023.  Approximate.
    if version >= _CFLINUXFS4_ERA:
        return "cflinuxfs4", "Cloud Foundry Linux-based filesystem - Ubuntu Jammy 22.04 LTS"
    if version >= _CFLINUXFS3_ERA:
        return "cflinuxfs3", "Cloud Foundry Linux-based filesystem - Ubuntu Bionic 18.04 LTS"
    return "cflinuxfs2", "Cloud Foundry Linux-based filesystem"


def space_resource(
    guid: str, name: str, organization_guid: str, created: datetime, version: ApiVersion
) -> dict[str, Any]:
    """A space as CC inlines it at depth 1: its era's fields, then its relations as links only."""
    links = {relation: f"/v2/spaces/{guid}/{relation}" for relation in cfapi.related_links("space", version)}
    links["organization"] = f"/v2/organizations/{organization_guid}"
    values = {
        "name": name,
        "organization_guid": organization_guid,
        "space_quota_definition_guid": None,
        "isolation_segment_guid": None,
        "allow_ssh": True,
    }
    return _related("space", guid, values, links, created, version)


def stack_resource(guid: str, created: datetime, version: ApiVersion) -> dict[str, Any]:
    """The stack a foundation of *version* most likely ran, as CC inlines it."""
    stack_name, stack_description = _stack_name(version)
    values = {
        "name": stack_name,
        "description": stack_description,
        "build_rootfs_image": stack_name,
        "run_rootfs_image": stack_name,
    }
    return _related("stack", guid, values, {}, created, version)


def _with_inline_relations(
    s: Seeder, version: ApiVersion, entity: Mapping[str, Any], created: datetime
) -> dict[str, Any]:
    """*entity* with its space, stack, routes and service bindings written in after their links.

    The space and stack predate the app; a web app has one route on a shared domain
    (workers none); no app has service bindings, whose credentials would be secrets.
    """
    space_guid, stack_guid = entity["space_guid"], entity["stack_guid"]
    space_created = created - timedelta(days=s.random.randint(1, 300))
    org_guid = s.uuid()
    space_name = s.choice(_SPACE_NAMES)
    routes: list[dict[str, Any]] = []
    if not entity["name"].endswith(("worker", "scheduler")):
        route_guid, domain_guid = s.uuid(), s.uuid()
        domains = "shared_domains" if version >= cfapi.SHARED_DOMAINS_URL_SINCE else "domains"
        route_links = {name: f"/v2/routes/{route_guid}/{name}" for name in cfapi.related_links("routes", version)}
        route_links.update(domain=f"/v2/{domains}/{domain_guid}", space=f"/v2/spaces/{space_guid}")
        route = {
            "host": entity["name"],
            "path": "",
            "domain_guid": domain_guid,
            "space_guid": space_guid,
            "service_instance_guid": None,
            "port": None,
        }
        routes.append(_related("routes", route_guid, route, route_links, created, version))
    related: dict[str, Any] = {
        "space": space_resource(space_guid, space_name, org_guid, space_created, version),
        "stack": stack_resource(stack_guid, space_created - timedelta(days=30), version),
        "routes": routes,
        "service_bindings": [],
    }
    inlined: dict[str, Any] = {}
    for key, value in entity.items():
        inlined[key] = value
        relation = cfapi.inline_relation(key)
        if relation is not None:
            inlined[relation.name] = related[relation.name]
    return inlined


# --------------------------------------------------------------------------- list pages


def _check_paging(page: int, results_per_page: int, version: ApiVersion) -> None:
    if not 1 <= results_per_page <= cfapi.MAX_RESULTS_PER_PAGE:
        raise SchemaError(
            "results_per_page",
            f"must be 1..{cfapi.MAX_RESULTS_PER_PAGE} (CC answers CF-BadQueryParameter)",
            str(version),
        )
    if page < 1:
        raise SchemaError("page", "must be 1 or more", str(version))


def _query_overrides(q: str | None, overrides: Mapping[str, Any], version: ApiVersion) -> dict[str, Any]:
    """The overrides generated apps get: *overrides*, plus the value a ``q`` equality filter asks for."""
    filters = dict(overrides)
    if q and ":" in q:
        key, _, value = q.partition(":")
        if key not in cfapi.APP_QUERY_FILTERS:
            raise SchemaError(
                "q", f"cannot filter apps by {key!r}; filters: {', '.join(cfapi.APP_QUERY_FILTERS)}", str(version)
            )
        if key in ("name", "space_guid", "stack_guid"):
            filters[key] = value
    return filters


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
    inline_relations_depth: int | None = None,
    api_version: VersionArg = None,
    seed: SeedArg = None,
    now: Now = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One page of ``GET /v2/apps``: ``total_results``, ``total_pages``, page links, resources.

    Without *resources*, the page's apps are generated (with relation links, as
    CC lists them) with *traits* and *overrides*; a ``q`` equality filter such
    as ``name:billing-api`` is honoured by the generated apps.  ``total_results``
    defaults to a collection that ends on this page.  *inline_relations_depth* is
    the query parameter of that name: the generated apps inline their relations
    and the page links echo it, as CC does for any value sent (``0`` included).
    """
    version = ApiVersion.parse(api_version)
    _check_paging(page, results_per_page, version)
    _check_inline_depth(inline_relations_depth or 0, version)
    s = seeder(seed, now)
    offset = (page - 1) * results_per_page
    if resources is None:
        if count is None:
            count = min(results_per_page, max(0, total_results - offset)) if total_results is not None else 3
        filters = _query_overrides(q, overrides, version)
        depth = inline_relations_depth or 0
        resources = [
            app_envelope(*traits, api_version=version, seed=s, links=True, inline_relations_depth=depth, **filters)
            for _ in range(count)
        ]
    else:
        for resource in resources:
            validate(resource, version)
    if len(resources) > results_per_page:
        raise SchemaError(
            "resources", f"{len(resources)} resources do not fit a page of {results_per_page}", str(version)
        )
    if total_results is None:
        total_results = offset + len(resources)
    pages = cfapi.total_pages(total_results, results_per_page, version)

    def link(target: int) -> str:
        return cfapi.page_url(
            cfapi.APPS_PATH,
            target,
            results_per_page,
            order_direction=order_direction,
            q=q,
            order_by=order_by,
            inline_relations_depth=inline_relations_depth,
        )

    return {
        "total_results": total_results,
        "total_pages": pages,
        "prev_url": link(page - 1) if page > 1 else None,
        "next_url": link(page + 1) if page < pages else None,
        "resources": [copy.deepcopy(dict(r)) for r in resources],
    }
