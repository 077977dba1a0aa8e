"""What cfreplay knows about the Cloud Controller v2 API, in one place.

This module is pure knowledge: app fields with their types, enums, defaults and
the API version that introduced them, the credential and body-formatting eras,
the response headers CC writes, ``/v2/info`` and the root document.  It is also
the one name for the rest of the v2 model, which it re-exports from modules with
one job each: the API versions (``_versions``), the v2 error catalog
(``_catalog``), the list envelope and its page links (``_paging``), the UAA token
shapes (``_uaa``).  The factories, the JSON
Schema, the sanitizer and the simulator all read ``cfapi``; nothing else in
cfreplay spells out a field list.

Version boundaries marked "≈" are the first v2 version-bump commit holding a
change (see ``cloud-controller-v2.md``); they may be off by one release.
Sources are named as ``CCNG <path>`` (cloudfoundry/cloud_controller_ng) or
``UAA <path>`` next to each fact.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from cfreplay.cf._catalog import (
    ERROR_KEYS_DESCRIPTION_FIRST_SINCE,
    ERRORS,
    RESTAGE_ERRORS,
    CatalogError,
    catalog_error,
    error_document,
)
from cfreplay.cf._paging import (
    DEFAULT_RESULTS_PER_PAGE,
    LIST_KEYS,
    MAX_RESULTS_PER_PAGE,
    page_url,
    total_pages,
)
from cfreplay.cf._uaa import (
    ACCESS_TOKEN_CLAIMS,
    CF_CLIENT_BASIC,
    CF_CLIENT_ID,
    DEFAULT_EXPIRES_IN,
    DEVELOPER_SCOPES,
    GRANT_TYPES,
    JWT_HEADER_KEYS,
    PII_CLAIMS,
    TOKEN_RESPONSE_KEYS,
    audience,
)
from cfreplay.cf._versions import DEFAULT_API_VERSION, LATEST_API_VERSION, SEED_API_VERSION, V2_0, ApiVersion
from cfreplay.cf._versions import v2 as _v
from cfreplay.errors import UnknownNameError

__all__ = [
    "ACCESS_TOKEN_CLAIMS",
    "APPS_PATH",
    "APP_FIELDS",
    "APP_QUERY_FILTERS",
    "BUILDS_SINCE",
    "CF_CLIENT_BASIC",
    "CF_CLIENT_ID",
    "COMPACT_JSON_SINCE",
    "DEFAULT_API_VERSION",
    "DEFAULT_EXPIRES_IN",
    "DEFAULT_RESULTS_PER_PAGE",
    "DEVELOPER_SCOPES",
    "DIEGO_DEFAULT_SINCE",
    "DOCKER_CREDENTIALS_JSON_SINCE",
    "DOCKER_CREDENTIALS_SINCE",
    "ERRORS",
    "ERROR_KEYS_DESCRIPTION_FIRST_SINCE",
    "FORM_CONTENT_TYPE",
    "GRANT_TYPES",
    "INFO_FIELDS",
    "JSON_CONTENT_TYPE",
    "JWT_HEADER_KEYS",
    "LATEST_API_VERSION",
    "LIST_KEYS",
    "MAX_RESULTS_PER_PAGE",
    "METADATA_FIELDS",
    "PII_CLAIMS",
    "PRIVATE_DATA_HIDDEN",
    "PRIVATE_DATA_HIDDEN_IN_LISTS",
    "RATE_LIMIT_CONTENT_TYPE",
    "REDACTED",
    "REDACTED_CREDENTIAL",
    "REDACTED_MESSAGE",
    "RESTAGE_ERRORS",
    "ROOT_LINKS",
    "SEED_API_VERSION",
    "STAGING_FAILURES",
    "TOKEN_RESPONSE_KEYS",
    "UPDATED_AT_NOT_NULL_SINCE",
    "V2_0",
    "V2_DISABLED_SUPPORT",
    "ApiVersion",
    "CatalogError",
    "Field",
    "Format",
    "JsonType",
    "StagingFailure",
    "app_field",
    "app_fields",
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

# --------------------------------------------------------------------------- eras
# (The error body's key-order era, ERROR_KEYS_DESCRIPTION_FIRST_SINCE, is the catalog's.)

#: ``docker_credentials_json`` exists from ≈2.28 and is replaced by ``docker_credentials`` at ≈2.83
#: (CCNG commits 42219c6f5b → b85888fcc1, then cd504b1b07).
DOCKER_CREDENTIALS_JSON_SINCE: Final = _v(28)
DOCKER_CREDENTIALS_SINCE: Final = _v(83)
#: v2 bodies are pretty-printed (MultiJson ``pretty: true``) until ≈2.233, compact after
#: (CCNG commit f122c77dee).  ``/v2/info`` was always compact.
COMPACT_JSON_SINCE: Final = _v(233)
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
#: Filters ``GET /v2/apps`` accepts in ``q=`` (the list envelope itself is in ``_paging``).
APP_QUERY_FILTERS: Final = ("name", "space_guid", "organization_guid", "diego", "stack_guid")


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


# --------------------------------------------------------------------------- response headers


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
