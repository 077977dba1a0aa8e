"""What cfreplay knows about the Cloud Controller v2 API, in one place.

This module is pure knowledge: app fields with their types, enums, defaults and
the API version that introduced them, the credential and body-formatting eras,
the v2 error catalog, the list envelope and its page links, ``/v2/info``, the
root document and the UAA token shapes.  The factories, the JSON Schema and
(later) the sanitizer and simulator all read it; nothing else in cfreplay
spells out a field list.

Version boundaries marked "≈" are the first v2 version-bump commit holding a
change (see ``cloud-controller-v2.md``); they may be off by one release.
Sources are named as ``CCNG <path>`` (cloudfoundry/cloud_controller_ng) or
``UAA <path>`` next to each fact.
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from cfreplay.errors import ApiVersionError, UnknownNameError

__all__ = [
    "APP_FIELDS",
    "ERRORS",
    "INFO_FIELDS",
    "LATEST_API_VERSION",
    "METADATA_FIELDS",
    "RESTAGE_ERRORS",
    "SEED_API_VERSION",
    "STAGING_FAILURES",
    "ApiVersion",
    "CatalogError",
    "Field",
    "StagingFailure",
    "app_field",
    "app_path",
    "audience",
    "catalog_error",
    "credentials_field",
    "docker_credentials_value",
    "dump_json",
    "error_document",
    "info_fields",
    "is_pretty",
    "link_value",
    "page_url",
    "restage_path",
    "staging_failure",
    "total_pages",
    "vcap_request_id",
    "warnings_header",
]


# --------------------------------------------------------------------------- versions


_VERSION_PATTERN: Final = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True, order=True)
class ApiVersion:
    """A Cloud Controller v2 API version such as ``2.43.0``; ordered, hashable."""

    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, value: str | ApiVersion | None) -> ApiVersion:
        """Read ``"2.43"``, ``"2.43.0"`` or ``"v2.43.0"``; ``None`` means the seed era."""
        if value is None:
            return SEED_API_VERSION
        if isinstance(value, ApiVersion):
            return value
        match = _VERSION_PATTERN.match(str(value).strip())
        if match is None:
            raise ApiVersionError(f"API version {value!r} is not of the form 2.N or 2.N.P (e.g. 2.43.0)")
        version = cls(int(match[1]), int(match[2]), int(match[3] or 0))
        if version.major != 2:
            raise ApiVersionError(f"API version {value!r} is not a v2 version; cfreplay models the v2 API (2.N.P)")
        return version

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def _v(minor: int) -> ApiVersion:
    return ApiVersion(2, minor, 0)


V2_0: Final = _v(0)
#: The era of the documented restage exchange (apidocs for cf-release v224, Nov 2015).
SEED_API_VERSION: Final = _v(43)
#: The newest v2 version in the reference snapshot (CCNG config/version_v2).
LATEST_API_VERSION: Final = ApiVersion(2, 293, 0)


# --------------------------------------------------------------------------- eras

#: ``docker_credentials_json`` exists from ≈2.28 and is replaced by ``docker_credentials`` at ≈2.83
#: (CCNG commits 42219c6f5b → b85888fcc1, then cd504b1b07).
DOCKER_CREDENTIALS_JSON_SINCE: Final = _v(28)
DOCKER_CREDENTIALS_SINCE: Final = _v(83)
#: v2 bodies are pretty-printed (MultiJson ``pretty: true``) until ≈2.233, compact after
#: (CCNG commit f122c77dee).  ``/v2/info`` was always compact.
COMPACT_JSON_SINCE: Final = _v(233)
#: Error bodies list ``description, error_code, code`` since ≈2.74, ``code, description,
#: error_code`` before (CCNG app/presenters/v2_error_hasher.rb).
ERROR_KEYS_DESCRIPTION_FIRST_SINCE: Final = _v(74)
#: ``updated_at`` could be null on never-updated rows before ≈2.65 (CCNG commit 47a8d51cde).
UPDATED_AT_NOT_NULL_SINCE: Final = _v(65)
#: DEA is the default backend in the seed era; Diego became the default around 2.65 and
#: ``diego`` is forced true once the DEAs were removed.  Approximate.
DIEGO_DEFAULT_SINCE: Final = _v(65)
#: v3 builds: restage creates a build whose guid becomes ``staging_task_id`` (≈2.64).
BUILDS_SINCE: Final = _v(64)

#: CC's redaction markers (CCNG app/presenters/helpers/censorship.rb).
PRIVATE_DATA_HIDDEN: Final = "[PRIVATE DATA HIDDEN]"
PRIVATE_DATA_HIDDEN_IN_LISTS: Final = "[PRIVATE DATA HIDDEN IN LISTS]"
REDACTED: Final = "[REDACTED]"
REDACTED_CREDENTIAL: Final = "***"
#: The object CC shows in place of a secret object.
REDACTED_MESSAGE: Final[Mapping[str, str]] = {"redacted_message": PRIVATE_DATA_HIDDEN}

JSON_CONTENT_TYPE: Final = "application/json;charset=utf-8"
RATE_LIMIT_CONTENT_TYPE: Final = "text/plain; charset=utf-8"
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

APPS_PATH: Final = "/v2/apps"


def app_path(guid: str) -> str:
    """``/v2/apps/<guid>``: the app's ``metadata.url`` and the restage ``Location``."""
    return f"{APPS_PATH}/{guid}"


def restage_path(guid: str) -> str:
    """The route of ``POST /v2/apps/:guid/restage``."""
    return f"{APPS_PATH}/{guid}/restage"


def credentials_field(version: ApiVersion) -> str | None:
    """Which docker-credentials field an app resource of *version* carries, if any."""
    if version >= DOCKER_CREDENTIALS_SINCE:
        return "docker_credentials"
    if version >= DOCKER_CREDENTIALS_JSON_SINCE:
        return "docker_credentials_json"
    return None


def docker_credentials_value(version: ApiVersion, username: str | None) -> dict[str, Any]:
    """The credentials object CC shows in responses of *version*.

    2.28–2.82 always shows the redaction message, whoever asks; from 2.83 on the
    username is shown and the password is ``***`` whenever a username is set.
    """
    if version >= DOCKER_CREDENTIALS_SINCE:
        return {"username": username, "password": REDACTED_CREDENTIAL if username else None}
    return dict(REDACTED_MESSAGE)


def is_pretty(version: ApiVersion) -> bool:
    """Whether CC of *version* pretty-prints resource, list and error bodies."""
    return version < COMPACT_JSON_SINCE


def dump_json(document: Any, version: ApiVersion, *, kind: Literal["resource", "error", "info"]) -> bytes:
    """Serialise *document* exactly as CC of *version* puts it on the wire.

    Resources, lists and errors are pretty-printed (2-space indent, Ruby's
    ``JSON.pretty_generate`` layout) before ≈2.233 and compact (``Oj`` compat)
    after; ``/v2/info`` is always compact; controller-raised errors end in a
    newline in both eras (CCNG lib/sinatra/vcap.rb).
    """
    if kind != "info" and is_pretty(version):
        text = json.dumps(document, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if kind == "error":
        text += "\n"
    return text.encode("utf-8")


# --------------------------------------------------------------------------- fields

JsonType = Literal["string", "boolean", "integer", "object", "array"]
Format = Literal["guid", "timestamp", "path"]

_NO_DEFAULT: Final = object()


@dataclass(frozen=True)
class Field:
    """One documented field of a v2 resource.

    ``since``/``until`` bound the API versions that emit it (``until`` exclusive);
    ``enum`` maps each allowed value to the version that introduced it.
    """

    name: str
    json_type: JsonType
    doc: str
    nullable: bool = False
    since: ApiVersion = V2_0
    until: ApiVersion | None = None
    enum: Mapping[str, ApiVersion] | None = None
    default: Any = _NO_DEFAULT
    format: Format | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: JsonType | None = None
    item_minimum: int | None = None
    item_maximum: int | None = None
    #: An object whose shape is fixed (docker credentials): key -> (type, nullable).
    shape: Mapping[str, tuple[JsonType, bool]] | None = None
    #: Relation links (``space_url`` …) appear in GET/list responses, never in restage's.
    link: bool = False
    source: str = "CCNG app/presenters/v2/process_model_presenter.rb"

    def present_in(self, version: ApiVersion) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    def allowed_values(self, version: ApiVersion) -> tuple[str, ...] | None:
        if self.enum is None:
            return None
        return tuple(value for value, since in self.enum.items() if since <= version)

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


_GUID_DOC = "a v4 UUID"

#: Envelope metadata (CCNG app/presenters/v2/base_presenter.rb).
METADATA_FIELDS: Final[tuple[Field, ...]] = (
    Field("guid", "string", "the app guid", format="guid"),
    Field("url", "string", "/v2/apps/<guid>", format="path"),
    Field("created_at", "string", "ISO-8601 UTC to the second", format="timestamp"),
    Field(
        "updated_at",
        "string",
        "ISO-8601 UTC; null on never-updated rows before ≈2.65",
        nullable=True,
        format="timestamp",
    ),
)

#: Why a staging failed (``staging_failed_reason``) and the description CC stores with it:
#: the v2.yml message, formatted with ``staging failed`` where it takes a detail
#: (CCNG app/models/runtime/build_model.rb#fail_to_stage!, errors/v2.yml).


_STAGING_REASONS_SINCE: Final = _v(6)


@dataclass(frozen=True)
class StagingFailure:
    reason: str
    code: int
    description: str
    #: ``staging_failed_reason`` exists from ≈2.6.
    since: ApiVersion = _STAGING_REASONS_SINCE


STAGING_FAILURES: Final[tuple[StagingFailure, ...]] = (
    StagingFailure("StagingError", 170001, "Staging error: staging failed"),
    StagingFailure("StagingTimeExpired", 170007, "Staging time expired: staging failed"),
    StagingFailure("NoAppDetectedError", 170003, "An app was not successfully detected by any available buildpack"),
    StagingFailure("BuildpackCompileFailed", 170004, "App staging failed in the buildpack compile phase"),
    StagingFailure("BuildpackReleaseFailed", 170005, "App staging failed in the buildpack release phase"),
    StagingFailure("InsufficientResources", 170008, "Insufficient resources"),
    StagingFailure("NoCompatibleCell", 170009, "Found no compatible cell"),
    StagingFailure("StagerError", 170011, "Stager error: staging failed", since=_v(64)),
)
_STAGING_FAILURE_BY_REASON: Final = {failure.reason: failure for failure in STAGING_FAILURES}


def staging_failure(reason: str) -> StagingFailure:
    try:
        return _STAGING_FAILURE_BY_REASON[reason]
    except KeyError:
        raise UnknownNameError("staging failure reason", reason, _STAGING_FAILURE_BY_REASON) from None


#: The app entity, in the order the presenter emits it
#: (CCNG app/presenters/v2/process_model_presenter.rb; before 2016-08 ``App#to_hash``).
#: ``docker_credentials_json`` sits after ``enable_ssh`` as in the 2.43 docs example.
APP_FIELDS: Final[tuple[Field, ...]] = (
    Field("name", "string", "unique per space"),
    Field("production", "boolean", "deprecated", default=False),
    Field("space_guid", "string", _GUID_DOC, format="guid"),
    Field("stack_guid", "string", _GUID_DOC, format="guid"),
    Field(
        "buildpack",
        "string",
        "admin buildpack name, or custom buildpack URL with user:pass@ shown as ***:***@; null = autodetect",
        nullable=True,
        default=None,
    ),
    Field("detected_buildpack", "string", "buildpack detect output", nullable=True, default=None),
    Field(
        "detected_buildpack_guid",
        "string",
        "guid of the detected admin buildpack",
        nullable=True,
        since=_v(61),
        format="guid",
        default=None,
    ),
    Field(
        "environment_json", "object", "user env vars (shown unredacted to restage callers)", nullable=True, default=None
    ),
    Field("memory", "integer", "MB", minimum=1, default=1024),
    Field("instances", "integer", "desired instances", minimum=0, default=1),
    Field("disk_quota", "integer", "MB", minimum=1, default=1024),
    Field("log_rate_limit", "integer", "bytes/s, -1 = unlimited", since=_v(191), minimum=-1, default=-1),
    Field("state", "string", "desired state", enum={"STARTED": V2_0, "STOPPED": V2_0}, default="STOPPED"),
    Field("version", "string", "process version UUID, new on start", format="guid"),
    Field("command", "string", 'custom start command; "" shows as null', nullable=True, default=None),
    Field("console", "boolean", "legacy", default=False),
    Field("debug", "string", "legacy debug mode; none is stored as null", nullable=True, default=None),
    Field("staging_task_id", "string", "latest build guid, else latest droplet guid", nullable=True, default=None),
    Field(
        "package_state",
        "string",
        "PackageStateCalculator",
        enum={"PENDING": V2_0, "STAGED": V2_0, "FAILED": V2_0},
        default="PENDING",
    ),
    Field(
        "health_check_type",
        "string",
        "none is the legacy alias of process",
        since=_v(19),
        enum={"port": _v(19), "none": _v(19), "process": _v(48), "http": _v(67)},
        default="port",
    ),
    Field(
        "health_check_timeout", "integer", "seconds; null = platform default", nullable=True, minimum=0, default=None
    ),
    Field(
        "health_check_http_endpoint", "string", "path probed by http checks", nullable=True, since=_v(67), default=None
    ),
    Field(
        "staging_failed_reason",
        "string",
        "why the last staging failed",
        nullable=True,
        since=_v(6),
        enum={failure.reason: failure.since for failure in STAGING_FAILURES},
        default=None,
    ),
    Field(
        "staging_failed_description",
        "string",
        "the v2.yml message for the reason",
        nullable=True,
        since=_v(30),
        default=None,
    ),
    Field("diego", "boolean", "runs on Diego (false = DEA)", since=_v(23), default=False),
    Field("docker_image", "string", "normalised image reference", nullable=True, since=_v(8), default=None),
    Field(
        "docker_credentials",
        "object",
        "{username, password: *** when a username is set}",
        since=DOCKER_CREDENTIALS_SINCE,
        shape={"username": ("string", True), "password": ("string", True)},
    ),
    Field(
        "package_updated_at",
        "string",
        "created_at of the latest package",
        nullable=True,
        since=_v(13),
        format="timestamp",
        default=None,
    ),
    Field("detected_start_command", "string", '"" if unknown', since=_v(15), default=""),
    Field("enable_ssh", "boolean", "SSH access allowed", since=_v(26), default=True),
    Field(
        "docker_credentials_json",
        "object",
        "always the redaction message in responses",
        since=DOCKER_CREDENTIALS_JSON_SINCE,
        until=DOCKER_CREDENTIALS_SINCE,
        shape={"redacted_message": ("string", False)},
    ),
    Field(
        "ports",
        "array",
        "open ports; null for DEA apps",
        nullable=True,
        since=_v(43),
        items="integer",
        item_minimum=1,
        item_maximum=65535,
        default=None,
    ),
    # Relation links: GET and list responses only (RelationsPresenter); restage has none.
    Field("space_url", "string", "/v2/spaces/<guid>", format="path", link=True),
    Field("stack_url", "string", "/v2/stacks/<guid>", format="path", link=True),
    Field("routes_url", "string", "/v2/apps/<guid>/routes", format="path", link=True),
    Field("events_url", "string", "/v2/apps/<guid>/events", format="path", link=True),
    Field("service_bindings_url", "string", "/v2/apps/<guid>/service_bindings", format="path", link=True),
    Field("route_mappings_url", "string", "/v2/apps/<guid>/route_mappings", format="path", link=True, since=_v(52)),
)
_APP_FIELD_BY_NAME: Final = {f.name: f for f in APP_FIELDS}


@lru_cache(maxsize=256)
def app_fields(version: ApiVersion, *, links: bool = False) -> tuple[Field, ...]:
    """The entity fields an app resource of *version* carries, in presenter order."""
    return tuple(f for f in APP_FIELDS if f.present_in(version) and (links or not f.link))


def app_field(name: str) -> Field:
    try:
        return _APP_FIELD_BY_NAME[name]
    except KeyError:
        raise UnknownNameError("app field", name, _APP_FIELD_BY_NAME) from None


def link_value(field_name: str, app_guid: str, space_guid: str, stack_guid: str) -> str:
    """The relative URL a relation link field holds (CCNG relations_presenter.rb)."""
    if field_name == "space_url":
        return f"/v2/spaces/{space_guid}"
    if field_name == "stack_url":
        return f"/v2/stacks/{stack_guid}"
    return f"{app_path(app_guid)}/{field_name.removesuffix('_url')}"


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class CatalogError:
    """One entry of CC's v2 error catalog (CCNG errors/v2.yml)."""

    name: str
    http_status: int
    code: int
    template: str
    when: str
    since: ApiVersion = V2_0
    #: What ``%s`` stands for, as a keyword of ``error_response`` (``guid``, ``reason`` …).
    detail_name: str | None = None
    #: The detail CC itself passes in the commonest case.
    example_detail: str | None = None
    #: Unknown errors carry no ``CF-`` prefix.
    prefixed: bool = True
    restage: bool = True

    @property
    def error_code(self) -> str:
        return f"CF-{self.name}" if self.prefixed else self.name

    @property
    def takes_detail(self) -> bool:
        return "%s" in self.template

    @property
    def rate_limited(self) -> bool:
        return self.http_status == 429

    def description(self, detail: str | None = None) -> str:
        if not self.takes_detail:
            return self.template
        return self.template.replace("%s", detail if detail is not None else (self.example_detail or ""))


def _err(name: str, status: int, code: int, template: str, when: str, **kw: Any) -> CatalogError:
    return CatalogError(name, status, code, template, when, **kw)


#: Every error ``POST /v2/apps/:guid/restage`` can return (reference §1.5).
RESTAGE_ERRORS: Final[tuple[CatalogError, ...]] = (
    _err("NotAuthenticated", 401, 10002, "Authentication error", "no token"),
    _err("InvalidAuthToken", 401, 1000, "Invalid Auth Token", "invalid or expired token"),
    _err(
        "InsufficientScope",
        403,
        10007,
        "Your token lacks the necessary scopes to access this resource.",
        "token lacks cloud_controller.write",
        since=_v(7),
    ),
    _err(
        "NotAuthorized",
        403,
        10003,
        "You are not authorized to perform the requested action",
        "not a space developer, or the org/space is suspended",
    ),
    _err(
        "AppNotFound",
        404,
        100004,
        "The app could not be found: %s",
        "unknown guid or non-web process",
        detail_name="guid",
    ),
    _err(
        "StagingError",
        400,
        170001,
        "Staging error: %s",
        "0 instances, or validation failure in stop/start",
        since=_v(30),
        detail_name="reason",
        example_detail="App must have at least 1 instance to stage.",
    ),
    _err("NotStaged", 400, 170002, "App has not finished staging", "package_state is PENDING"),
    _err(
        "AppPackageInvalid",
        400,
        150001,
        "The app package is invalid: %s",
        "no package uploaded",
        since=_v(64),
        detail_name="reason",
        example_detail="bits have not been uploaded",
    ),
    _err(
        "DockerDisabled",
        400,
        320003,
        "Docker support has not been enabled.",
        "docker app with diego_docker off",
        since=_v(30),
    ),
    _err(
        "CNBDisabled",
        400,
        320007,
        "Cloud Native Buildpacks support has not been enabled.",
        "diego_cnb off",
        since=_v(234),
    ),
    _err(
        "NoBuildpacksFound",
        400,
        170006,
        "There are no buildpacks available",
        "no admin buildpacks and no buildpack URL",
    ),
    _err(
        "SpaceQuotaMemoryLimitExceeded",
        400,
        310003,
        "You have exceeded your space's memory limit: %s",
        "BuildCreate: staging memory over the space quota",
        since=_v(64),
        detail_name="reason",
        example_detail="app requested more memory than available",
    ),
    _err(
        "AppMemoryQuotaExceeded",
        400,
        100005,
        "You have exceeded your organization's memory limit: %s",
        "BuildCreate: staging memory over the org quota",
        since=_v(64),
        detail_name="reason",
        example_detail="app requested more memory than available",
    ),
    _err(
        "SpaceQuotaLogRateLimitExceeded",
        400,
        310011,
        "You have exceeded your space's log rate limit: %s",
        "BuildCreate: log rate over the space quota",
        since=_v(191),
        detail_name="reason",
        example_detail="app requested more log rate than available",
    ),
    _err(
        "OrgQuotaLogRateLimitExceeded",
        400,
        100010,
        "You have exceeded your organization's log rate limit: %s",
        "BuildCreate: log rate over the org quota",
        since=_v(191),
        detail_name="reason",
        example_detail="app requested more log rate than available",
    ),
    _err(
        "AppInvalid",
        400,
        100001,
        "The app is invalid: %s",
        "BuildError, e.g. too much disk requested",
        detail_name="reason",
        example_detail="too much disk requested",
    ),
    _err(
        "BuildpackInvalid",
        400,
        290003,
        "Buildpack is invalid: %s",
        "a requested buildpack is disabled",
        since=_v(134),
        detail_name="reason",
        example_detail="Requested buildpack(s) 'ruby_buildpack' are disabled and cannot be used for staging",
    ),
    _err(
        "CustomBuildpacksDisabled",
        400,
        290004,
        "Custom buildpacks are disabled",
        "custom buildpack URL with the feature off",
        since=_v(92),
    ),
    _err(
        "StackValidationFailed",
        422,
        250004,
        "%s",
        "the app's stack is DISABLED",
        since=_v(276),
        detail_name="reason",
        example_detail="ERROR: Staging failed. The stack 'cflinuxfs3' is 'DISABLED' and cannot be used for staging.",
    ),
    _err(
        "UnprocessableEntity",
        422,
        10008,
        "%s",
        "lifecycle or recipe building failed",
        detail_name="reason",
        example_detail="Attempted to stage Docker image as root user",
    ),
    _err(
        "StagerUnavailable",
        503,
        170010,
        "Stager is unavailable: %s",
        "BBS unreachable",
        detail_name="reason",
        example_detail="connection refused",
    ),
    _err(
        "StagerError",
        500,
        170011,
        "Stager error: %s",
        "BBS returned an error",
        detail_name="reason",
        example_detail="staging failed",
    ),
    _err("RateLimitExceeded", 429, 10013, "Rate Limit Exceeded", "per-user rate limit", since=_v(146)),
    _err(
        "RateLimitV2APIExceeded",
        429,
        10018,
        "Rate Limit of V2 API Exceeded. Please consider using the V3 API",
        "v2 rate limiter (2022-07)",
        since=_v(190),
    ),
    _err(
        "BadQueryParameter",
        400,
        10005,
        "The query parameter is invalid: %s",
        "inline-relations-depth above the maximum",
        detail_name="reason",
        example_detail="inline_relations_depth must be <= 2",
    ),
    _err("InvalidRequest", 400, 10004, "The request is invalid", "bad parameter encoding"),
    _err("DatabaseError", 500, 10011, "Database error", "generic database failure"),
    _err("UnknownError", 500, 10001, "An unknown error occurred.", "generic", prefixed=False),
    _err(
        "RevisionsEnabled",
        400,
        320006,
        "V2 restaging is disabled when your app has revisions enabled",
        "defined in v2.yml; no released restage returns it",
        since=_v(136),
    ),
)

#: Other catalog entries fixtures need (NotFound is the unknown-route 404).
_OTHER_ERRORS: Final[tuple[CatalogError, ...]] = (
    _err("NotFound", 404, 10000, "Unknown request", "unknown route", restage=False),
    _err(
        "MessageParseError",
        400,
        1001,
        "Request invalid due to parse error: %s",
        "malformed body",
        detail_name="reason",
        example_detail="invalid request body",
        restage=False,
    ),
    _err(
        "FeatureDisabled",
        403,
        330002,
        "Feature Disabled: %s",
        "a feature flag is off",
        detail_name="feature",
        example_detail="env_var_visibility",
        restage=False,
    ),
    _err(
        "StagingTimeExpired",
        504,
        170007,
        "Staging time expired: %s",
        "staging timed out",
        detail_name="reason",
        example_detail="staging failed",
        restage=False,
    ),
    _err(
        "InsufficientRunningResourcesAvailable",
        503,
        150003,
        "One or more instances could not be started because of insufficient running resources.",
        "no cell capacity",
        restage=False,
    ),
)

ERRORS: Final[Mapping[str, CatalogError]] = {e.name: e for e in RESTAGE_ERRORS + _OTHER_ERRORS}


def catalog_error(name: str) -> CatalogError:
    """Look an error up by name, with or without the ``CF-`` prefix."""
    key = name.removeprefix("CF-")
    try:
        return ERRORS[key]
    except KeyError:
        raise UnknownNameError("error", name, ERRORS) from None


def error_document(error: CatalogError, description: str, version: ApiVersion) -> dict[str, Any]:
    """The v2 error envelope, keys in the order CC of *version* emits them."""
    if not error.prefixed:
        return {"error_code": error.error_code, "description": description, "code": error.code}
    if version >= ERROR_KEYS_DESCRIPTION_FIRST_SINCE:
        return {"description": description, "error_code": error.error_code, "code": error.code}
    return {"code": error.code, "description": description, "error_code": error.error_code}


_REQUEST_ID_UNSAFE: Final = re.compile(r"[^\w-]", re.ASCII)


def vcap_request_id(generated: str, incoming: str | None = None) -> str:
    """The ``X-VCAP-Request-ID`` CC answers with (CCNG middleware/vcap_request_context_setter.rb).

    A client-sent id is stripped to ``[\\w-]``, cut to 255 characters and
    prefixed to CC's own uuid with ``::``.
    """
    if not incoming:
        return generated
    return f"{_REQUEST_ID_UNSAFE.sub('', incoming)[:255]}::{generated}"


def warnings_header(warnings: Sequence[str]) -> str:
    """``X-Cf-Warnings``: each warning CGI-escaped, comma-joined (CCNG base_controller.rb)."""
    return ",".join(urllib.parse.quote_plus(w, safe="~") for w in warnings)


# --------------------------------------------------------------------------- lists

#: The paginated list envelope, in emitted order
#: (CCNG lib/cloud_controller/rest_controller/paginated_collection_renderer.rb).
LIST_KEYS: Final = ("total_results", "total_pages", "prev_url", "next_url", "resources")
DEFAULT_RESULTS_PER_PAGE: Final = 50
MAX_RESULTS_PER_PAGE: Final = 100
#: Filters ``GET /v2/apps`` accepts in ``q=``.
APP_QUERY_FILTERS: Final = ("name", "space_guid", "organization_guid", "diego", "stack_guid")


def page_url(
    path: str,
    page: int,
    results_per_page: int,
    *,
    order_direction: str = "asc",
    q: str | Sequence[str] | None = None,
    order_by: str | None = None,
    inline_relations_depth: int | None = None,
) -> str:
    """A ``prev_url``/``next_url``: relative, query keys sorted, values percent-encoded.

    CC builds it with Addressable (``query_values=`` then ``normalize``), which
    sorts keys and escapes everything outside the unreserved set.
    """
    params: dict[str, list[str]] = {
        "page": [str(page)],
        "results-per-page": [str(results_per_page)],
        "order-direction": [order_direction],
    }
    if inline_relations_depth is not None:
        params["inline-relations-depth"] = [str(inline_relations_depth)]
    if q:
        params["q"] = [q] if isinstance(q, str) else list(q)
    if order_by:
        params["order-by"] = [order_by]
    query = "&".join(
        f"{key}={urllib.parse.quote(value, safe='-._~')}" for key in sorted(params) for value in params[key]
    )
    return f"{path}?{query}"


def total_pages(total_results: int, results_per_page: int) -> int:
    """Sequel's ``page_count``: at least 1, even for an empty collection."""
    return max(1, -(-total_results // results_per_page))


# --------------------------------------------------------------------------- /v2/info and /

_INFO_SPEC: Final[tuple[tuple[str, JsonType, str, bool, ApiVersion, ApiVersion | None], ...]] = (
    ("name", "string", "deployment name", False, V2_0, None),
    ("build", "string", "build id", False, V2_0, None),
    ("support", "string", "support URL; 'CF API v2 is disabled' when v2 is off", False, V2_0, None),
    ("version", "integer", "config int, docs show 2", False, V2_0, None),
    ("description", "string", "deployment description", False, V2_0, None),
    ("authorization_endpoint", "string", "login server URL", False, V2_0, None),
    ("token_endpoint", "string", "UAA URL", False, _v(7), None),
    ("min_cli_version", "string", "oldest supported cf CLI", True, V2_0, None),
    ("min_recommended_cli_version", "string", "often null", True, _v(23), None),
    ("app_ssh_endpoint", "string", "host:port of the SSH proxy", False, _v(38), None),
    ("app_ssh_host_key_fingerprint", "string", "SSH proxy host key fingerprint", False, _v(38), None),
    ("app_ssh_oauth_client", "string", "typically ssh-proxy", False, _v(38), None),
    ("logging_endpoint", "string", "loggregator websocket URL", False, V2_0, _v(83)),
    ("bits_endpoint", "string", "bits-service URL", True, _v(63), _v(193)),
    ("doppler_logging_endpoint", "string", "doppler websocket URL", False, _v(30), None),
    ("api_version", "string", "e.g. 2.293.0", False, V2_0, None),
    ("osbapi_version", "string", "Open Service Broker API version", False, _v(123), None),
    ("routing_endpoint", "string", "routing API URL (optional)", False, _v(38), None),
)

#: ``GET /v2/info`` in emitted order (CCNG app/controllers/runtime/info_controller.rb).
INFO_FIELDS: Final[tuple[Field, ...]] = tuple(
    Field(
        name,
        json_type,
        doc,
        nullable=nullable,
        since=since,
        until=until,
        source="CCNG app/controllers/runtime/info_controller.rb",
    )
    for name, json_type, doc, nullable, since, until in _INFO_SPEC
)


def info_fields(version: ApiVersion) -> tuple[Field, ...]:
    return tuple(f for f in INFO_FIELDS if f.present_in(version))


#: ``GET /`` links (CCNG app/controllers/runtime/root_controller.rb); ``meta`` keys per link.
ROOT_LINKS: Final[Mapping[str, tuple[str, ...]]] = {
    "self": (),
    "bits_service": (),
    "cloud_controller_v2": ("version",),
    "cloud_controller_v3": ("version",),
    "network_policy_v0": (),
    "network_policy_v1": (),
    "login": (),
    "uaa": (),
    "credhub": (),
    "routing": (),
    "logging": (),
    "log_cache": (),
    "log_stream": (),
    "app_ssh": ("host_key_fingerprint", "oauth_client"),
}
#: ≈2.257 lets operators switch v2 off; the root then omits ``cloud_controller_v2``.
V2_DISABLED_SUPPORT: Final = "CF API v2 is disabled"


# --------------------------------------------------------------------------- UAA

#: The cf CLI's public client: id ``cf``, empty secret, ``Authorization: Basic Y2Y6``.
CF_CLIENT_ID: Final = "cf"
CF_CLIENT_BASIC: Final = "Basic Y2Y6"
DEFAULT_EXPIRES_IN: Final = 43199
#: Keys of a successful ``POST /oauth/token`` answer, in order
#: (UAA OAuth2AccessTokenJackson2Serializer.java).
TOKEN_RESPONSE_KEYS: Final = ("access_token", "token_type", "id_token", "refresh_token", "expires_in", "scope", "jti")
GRANT_TYPES: Final = ("password", "refresh_token", "client_credentials", "authorization_code")


@dataclass(frozen=True)
class _Claim:
    """An access-token claim: which grants carry it (``None`` = all)."""

    name: str
    grants: tuple[str, ...] | None = None
    doc: str = ""


_USER_GRANTS: Final = ("password", "refresh_token", "authorization_code")

#: Access-token JWT claims in UAA's insertion order (UAA UaaTokenServices.java#createJWTAccessToken).
ACCESS_TOKEN_CLAIMS: Final[tuple[_Claim, ...]] = (
    _Claim("jti", doc="32 hex chars since UAA 3.3.0"),
    _Claim("sub", doc="user id for user grants, else the client id"),
    _Claim("authorities", ("client_credentials",), "client authorities"),
    _Claim("scope", doc="JSON array"),
    _Claim("client_id"),
    _Claim("cid"),
    _Claim("azp"),
    _Claim("revocable"),
    _Claim("grant_type"),
    _Claim("user_id", _USER_GRANTS),
    _Claim("origin", _USER_GRANTS, "uaa for internal users"),
    _Claim("user_name", _USER_GRANTS),
    _Claim("email", _USER_GRANTS),
    _Claim("auth_time", _USER_GRANTS),
    _Claim("rev_sig"),
    _Claim("iat"),
    _Claim("exp"),
    _Claim("iss", doc="the token endpoint URL"),
    _Claim("zid", doc="uaa for the default zone"),
    _Claim("aud", doc="resource ids (scope prefixes) and the client id"),
)
#: JWT header keys in UAA's order (UAA HeaderParameters.java).
JWT_HEADER_KEYS: Final = ("alg", "jku", "kid", "typ")
#: Claims that identify a person; the sanitizer replaces them in fakes.
PII_CLAIMS: Final = ("email", "user_name", "user_id", "sub")
#: Scopes the cf client asks for on behalf of an ordinary space developer.
DEVELOPER_SCOPES: Final = (
    "openid",
    "routing.router_groups.read",
    "cloud_controller.read",
    "password.write",
    "cloud_controller.write",
    "uaa.user",
)


def audience(scopes: Sequence[str], client_id: str) -> list[str]:
    """UAA's ``aud``: the resource ids the scopes name (their prefix), then the client id."""
    resources: list[str] = []
    for scope in scopes:
        resource = scope.split(".", 1)[0]
        if resource not in resources:
            resources.append(resource)
    if client_id not in resources:
        resources.append(client_id)
    return resources


# --------------------------------------------------------------------------- where secrets live (reference §5)

#: Headers whose value is a credential: ``bearer``/``Basic`` schemes.
AUTHORIZATION_HEADERS: Final = ("authorization", "proxy-authorization")
#: Cookie headers: names and attributes are kept, values are secret (UAA's JSESSIONID,
#: X-Uaa-Csrf and Current-User, gorouter's __VCAP_ID__).
COOKIE_HEADERS: Final = ("cookie", "set-cookie")
#: Headers holding URLs whose query or userinfo may carry a secret (pre-signed blobstore
#: URLs, ``/oauth/authorize`` redirects with ``code=``).
URL_HEADERS: Final = ("location", "content-location")
#: Headers whose whole value is secret (route-service signatures).
SECRET_HEADERS: Final = ("x-cf-proxy-signature",)
#: The cf CLI's public client (``cf:`` with an empty secret) is no secret.
PUBLIC_BASIC_CREDENTIALS: Final = ("Y2Y6",)

#: Query parameters (and fragment parameters) that carry secrets; pre-signed blobstore
#: signatures included.  Matched case-insensitively.
SECRET_QUERY_PARAMS: Final = (
    "access_token", "refresh_token", "id_token", "token", "code", "password", "passcode", "client_secret",
    "assertion", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "sig", "md5",
)  # fmt: skip
#: Form-body fields that carry secrets (UAA ``/oauth/token`` and friends).
SECRET_FORM_FIELDS: Final = (
    "password", "client_secret", "refresh_token", "code", "passcode", "assertion", "token", "access_token", "id_token",
)  # fmt: skip
#: Objects CC itself hides whole: service binding/key credentials and docker credentials.
CREDENTIAL_OBJECT_KEYS: Final = ("credentials",)
DOCKER_CREDENTIAL_KEYS: Final = ("docker_credentials_json", "docker_credentials")
#: Maps of user environment variables; values under secret-looking names are secret.
ENV_MAP_KEYS: Final = ("environment_json", "staging_env_json", "running_env_json")
#: Endpoints whose whole JSON body is an environment map.
ENV_MAP_PATHS: Final = ("/v2/config/environment_variable_groups/",)

_SECRET_KEY_WORDS: Final = frozenset({"password", "passwd", "secret", "passcode", "credential", "apikey"})
_SECRET_KEY_PAIRS: Final = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")})
_SECRET_ENV_WORDS: Final = frozenset({
    "pass", "password", "passwd", "pwd", "secret", "token", "key", "apikey", "credential", "credentials", "auth",
    "dsn", "cert", "private", "session", "salt", "signature",
})  # fmt: skip
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT: Final = re.compile(r"[^A-Za-z0-9]+")


def _words(name: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(_CAMEL_BOUNDARY.sub("_", name).lower()) if w]


@lru_cache(maxsize=4096)
def is_secret_key(name: str) -> bool:
    """Whether a JSON key names a secret: ``access_token``, ``auth_password``, ``oldPassword``…

    ``token`` counts only as the last word, so ``token_type`` and ``token_endpoint``
    stay; ``code`` is CC's numeric error code in JSON and is not secret there.
    """
    words = _words(name)
    if not words:
        return False
    if words[-1] == "token" or any(w in _SECRET_KEY_WORDS for w in words):
        return True
    return any(pair in _SECRET_KEY_PAIRS for pair in itertools.pairwise(words))


@lru_cache(maxsize=4096)
def is_secret_env_name(name: str) -> bool:
    """Whether an environment variable's name suggests a secret (``DB_PASSWORD``, ``GITHUB_TOKEN``)."""
    return any(w in _SECRET_ENV_WORDS for w in _words(name))
