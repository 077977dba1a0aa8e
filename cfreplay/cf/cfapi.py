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

Sources are named as ``CCNG <path>`` (cloudfoundry/cloud_controller_ng) or
``UAA <path>`` next to each fact.

**API eras.**  An era is the API version reported by the first Cloud Controller
release that contains the change: the ``since`` of a field, an enum value, an
error, a link or a behaviour is the version a client of the first release
carrying it reads in ``/v2/info``.  Releases are tags: capi-release ``N.N.N`` pins
``src/cloud_controller_ng``; cf-release ``vN`` pins it too, from v232 through
``src/capi-release``.  The version a CC commit reports is ``config/version_v2``
(before 2016-12 ``lib/cloud_controller/constants.rb``) at that commit:

* from 2016-12 CI bumps that file right after each capi-release, so the file at
  the change's commit already reads the version it ships as - unless the commit
  waited on a branch across a release (``IPBasedRateLimitExceeded``: CCNG
  375217a8ff reads 2.136.0, first ships in capi-release 1.82.0 as 2.137.0);
* before, the version was bumped by hand: a version can span several releases
  (cf-release v198-v202 all report 2.22.0) or none (2.7.0, 2.30.0-2.32.0), and
  the file at a commit can read one less than its first release
  (``min_cli_version``: CCNG 860f7cb8c2 reads 2.22.0, first ships in cf-release
  v203 as 2.23.0).

So every era here was checked against the release tags (``git merge-base
--is-ancestor <commit> <pinned CC>`` for the releases in version order); a
comment names the CCNG commit, and :func:`era_table` lists each era with its
commit and first release (the README's "API eras" table is its output).  An era
is never the next version bump after a change: that dates it one release late.
Where an earlier release reporting the same version lacks the change - ``diego``
is in cf-release v200-v202 (2.22.0) but not v198/v199 (2.22.0 too) - the era is
still that version, and at exactly it the model accepts the document with or
without the change (:attr:`Field.optional_at_since`; both timestamp forms at
:data:`UTC_Z_TIMESTAMPS_SINCE`); the factories write the change.  One era is not
dated from a commit: :data:`DIEGO_DEFAULT_SINCE`, the backend the factories
default to (an estimate of what foundations ran).

:data:`SEED_API_VERSION` stays 2.43.0, the version the reference names for the
documented restage exchange.  The page it copies (apidocs of cf-release v224,
CCNG 5cb67693b7) is a 2.42.0 document; since ``ports`` arrives at 2.42.0 the
two versions have the same fields, so the exchange is the same at both.
"""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal

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
    EMPTY_LIST_ONE_PAGE_SINCE,
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

# CC's redaction markers (CCNG app/presenters/helpers/censorship.rb), part of this model too.
from cfreplay.cf.censorship import (
    PRIVATE_DATA_HIDDEN,
    PRIVATE_DATA_HIDDEN_IN_LISTS,
    REDACTED,
    REDACTED_CREDENTIAL,
    REDACTED_MESSAGE,
)
from cfreplay.errors import UnknownNameError

if TYPE_CHECKING:
    from cfreplay.cf.eras import EraRow

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
    "EMPTY_LIST_ONE_PAGE_SINCE",
    "ERRORS",
    "ERROR_KEYS_DESCRIPTION_FIRST_SINCE",
    "FORM_CONTENT_TYPE",
    "GRANT_TYPES",
    "INFO_FIELDS",
    "INLINE_RELATIONS",
    "JSON_CONTENT_TYPE",
    "JWT_HEADER_KEYS",
    "LATEST_API_VERSION",
    "LIST_KEYS",
    "MAX_INLINE_RELATIONS_DEPTH",
    "MAX_RESULTS_PER_PAGE",
    "METADATA_FIELDS",
    "OJ_PRETTY_SINCE",
    "PII_CLAIMS",
    "PRIVATE_DATA_HIDDEN",
    "PRIVATE_DATA_HIDDEN_IN_LISTS",
    "RATE_LIMIT_CONTENT_TYPE",
    "REDACTED",
    "REDACTED_CREDENTIAL",
    "REDACTED_MESSAGE",
    "RELATED_ENTITY_FIELDS",
    "RELATED_LINKS",
    "RESTAGE_DROPS_DROPLET_SINCE",
    "RESTAGE_ERRORS",
    "ROOT_LINKS",
    "ROOT_SINCE",
    "ROOT_V2_LAST_SINCE",
    "SEED_API_VERSION",
    "SHARED_DOMAINS_URL_SINCE",
    "STAGING_FAILURES",
    "TOKEN_RESPONSE_KEYS",
    "UPDATED_AT_NOT_NULL_SINCE",
    "UTC_Z_TIMESTAMPS_SINCE",
    "V2_0",
    "V2_DISABLED_INFO_SINCE",
    "V2_DISABLED_SUPPORT",
    "ApiVersion",
    "CatalogError",
    "Field",
    "Format",
    "InlineRelation",
    "JsonType",
    "RootLink",
    "StagingFailure",
    "app_field",
    "app_fields",
    "app_path",
    "audience",
    "catalog_error",
    "credentials_field",
    "docker_credentials_value",
    "dump_json",
    "era_table",
    "eras_markdown",
    "error_document",
    "info_fields",
    "inline_relation",
    "is_pretty",
    "link_value",
    "page_url",
    "parse_timestamp",
    "related_fields",
    "related_links",
    "restage_path",
    "root_links",
    "staging_failure",
    "timestamp",
    "total_pages",
    "vcap_request_id",
    "warnings_header",
]

# --------------------------------------------------------------------------- eras
# (The error body's key-order era, ERROR_KEYS_DESCRIPTION_FIRST_SINCE, is the catalog's.)

#: ``docker_credentials_json`` exists from 2.28 (CCNG 42219c6f5b, which reads 2.27.0 but first ships in
#: cf-release v211, 2.28.0) and is replaced by ``docker_credentials`` at 2.82 (CCNG b85888fcc1 and
#: cd504b1b07, capi-release 1.28.0 / cf-release v260).
DOCKER_CREDENTIALS_JSON_SINCE: Final = _v(28)
DOCKER_CREDENTIALS_SINCE: Final = _v(82)
#: v2 bodies are pretty-printed (MultiJson ``pretty: true``) until 2.232, compact from it
#: (CCNG f122c77dee, capi-release 1.183.0: the first release that no longer pretty-prints).
#: ``/v2/info`` was always compact.
COMPACT_JSON_SINCE: Final = _v(232)
#: Which pretty printer MultiJson handed ``pretty: true`` to: Yajl before 2.189 (yajl-ruby, loaded
#: by CCNG lib/cloud_controller.rb and steno), whose generator opens and closes every container on
#: its own line, so ``{}`` comes out as ``{\n\n}`` and ``[]`` as ``[\n\n]`` (yajl-ruby
#: ext/yajl/yajl_gen.c; CCNG docs/v2/apps/get_the_env_for_an_app.html, generated 2016-06 by CC's
#: API specs, shows ``"VCAP_SERVICES": {\n\n    }`` with a matching Content-Length).  From 2.189
#: CCNG config/initializers/json.rb calls ``MultiJson.use(:oj)`` (5d0a43b49d, capi-release 1.136.0),
#: and Oj's compat dumper writes empty containers as ``{}`` and ``[]`` (oj ext/oj/dump_compat.c).
OJ_PRETTY_SINCE: Final = _v(189)
#: Timestamps were ActiveSupport's ``Time#xmlschema`` of a local-zone Time, ``+00:00`` on a UTC
#: host, until ``Sequel.default_timezone = :utc`` made them UTC Times, written ``Z`` (CCNG
#: f8229a158b, cf-release v197).  cf-release v196 reports the same 2.21.0 and still writes
#: ``+00:00`` (its apidocs), so at exactly 2.21.0 both forms are valid; the factories write ``Z``.
#: A 2014 recording: ``"created_at": "2014-11-07T23:11:39+00:00"``.
UTC_Z_TIMESTAMPS_SINCE: Final = _v(21)
#: ``updated_at`` could be null on never-updated rows before 2.65 (CCNG 47a8d51cde, which reads
#: 2.64.0 but first ships in capi-release 1.11.0, 2.65.0).
UPDATED_AT_NOT_NULL_SINCE: Final = _v(65)
#: DEA is the default backend in the seed era; Diego became the default around 2.65 and
#: ``diego`` is forced true once the DEAs were removed.  An estimate of what foundations ran,
#: not a CC change: the one era not dated from a commit.
DIEGO_DEFAULT_SINCE: Final = _v(65)
#: Restage stages a v3 droplet (a v3 build from 2.83, CCNG 9db3f7f977) whose guid the app shows
#: as ``staging_task_id`` (CCNG f8fb724975, capi-release 1.6.0).
BUILDS_SINCE: Final = _v(63)
#: Restage sets the app's ``droplet_guid`` to nil before staging (CCNG restages_controller.rb,
#: 6d3d3568b3, capi-release 1.6.0), so its 201 shows no droplet: each field read from the current
#: droplet (``Field.droplet``) is back at its default.  Before, ``App#restage!`` only marked the
#: package for restaging and the old droplet's values stayed.
RESTAGE_DROPS_DROPLET_SINCE: Final = _v(63)


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

    2.28–2.81 always shows the redaction message, whoever asks; from 2.82 on the
    username is shown and the password is ``***`` whenever a username is set.
    """
    if version >= DOCKER_CREDENTIALS_SINCE:
        return {"username": username, "password": REDACTED_CREDENTIAL if username else None}
    return dict(REDACTED_MESSAGE)


def is_pretty(version: ApiVersion) -> bool:
    """Whether CC of *version* pretty-prints resource, list and error bodies."""
    return version < COMPACT_JSON_SINCE


def _pretty(value: Any, depth: int, *, empty_on_lines: bool) -> str:
    """One value in MultiJson's ``pretty: true`` layout (2-space indent, ``": "``), *depth* levels in."""
    if isinstance(value, Mapping):
        items = [
            f"{json.dumps(str(k), ensure_ascii=False)}: {_pretty(v, depth + 1, empty_on_lines=empty_on_lines)}"
            for k, v in value.items()
        ]
        opening, closing = "{", "}"
    elif isinstance(value, list | tuple):
        items = [_pretty(v, depth + 1, empty_on_lines=empty_on_lines) for v in value]
        opening, closing = "[", "]"
    else:
        return json.dumps(value, ensure_ascii=False)
    inner, outer = "  " * (depth + 1), "  " * depth
    if not items:
        # Yajl's generator writes a newline after every opener and before every closer.
        return f"{opening}\n\n{outer}{closing}" if empty_on_lines else opening + closing
    return opening + "\n" + ",\n".join(inner + item for item in items) + "\n" + outer + closing


def dump_json(document: Any, version: ApiVersion, *, kind: Literal["resource", "error", "info", "rate_limit"]) -> bytes:
    """Serialise *document* exactly as CC of *version* puts it on the wire.

    Resources, lists, the root document and errors are pretty-printed (2-space
    indent) before 2.232 and compact (``Oj`` compat) from it; empty objects and
    arrays are spread over lines by the Yajl era's printer (see
    :data:`OJ_PRETTY_SINCE`).  ``/v2/info`` is always compact; controller-raised
    errors end in a newline in both eras (CCNG lib/sinatra/vcap.rb).  The rate
    limiters' 429 (``rate_limit``) is the middleware's ``Hash#to_json``, never
    followed by a newline (CCNG middleware/rate_limiter.rb,
    base_rate_limiter.rb#too_many_requests!): ActiveSupport hands it to CC's own
    encoder (CCNG config/initializers/json.rb), which asked MultiJson for
    ``pretty: true`` - Yajl's layout - before 2.189, when it became ``Oj.dump``,
    which ignores that option (commit 691e4ad57f: "not supported by Oj and does
    nothing"), so compact since.
    """
    pretty = version < OJ_PRETTY_SINCE if kind == "rate_limit" else kind != "info" and is_pretty(version)
    if pretty:
        text = _pretty(document, 0, empty_on_lines=version < OJ_PRETTY_SINCE)
    else:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if kind == "error":
        text += "\n"
    return text.encode("utf-8")


def timestamp(moment: datetime, version: ApiVersion) -> str:
    """A CC timestamp of *version*, to the second: ``Z`` from 2.21, ``+00:00`` before it."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("Z" if version >= UTC_Z_TIMESTAMPS_SINCE else "+00:00")


def parse_timestamp(text: str) -> datetime:
    """Read a CC timestamp of any era (``…Z`` or ``…+00:00``) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --------------------------------------------------------------------------- fields

JsonType = Literal["string", "boolean", "integer", "object", "array"]
Format = Literal["guid", "timestamp", "path"]

_NO_DEFAULT: Final = object()


@dataclass(frozen=True)
class Field:
    """One documented field of a v2 resource.

    ``since``/``until`` bound the API versions that emit it (``until`` exclusive);
    ``enum`` maps each allowed value to the version that introduced it.  Each is the
    version of the first release carrying the change (see the module docstring).
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
    #: Read from the app's current droplet: without one (after a restage, :data:`RESTAGE_DROPS_DROPLET_SINCE`)
    #: CC shows the default.
    droplet: bool = False
    #: Written only when the foundation configures it (``/v2/info``'s ``bits_endpoint``).
    conditional: bool = False
    #: An earlier release reporting ``since`` lacks the field (the version was not bumped between
    #: the two releases), so at exactly ``since`` a document may leave it out; the factories write it.
    optional_at_since: bool = False
    source: str = "CCNG app/presenters/v2/process_model_presenter.rb"

    def present_in(self, version: ApiVersion) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    def optional_in(self, version: ApiVersion) -> bool:
        """Whether a document of *version* may leave the field out although the era has it."""
        return self.optional_at_since and version == self.since

    def allowed_values(self, version: ApiVersion) -> tuple[str, ...] | None:
        if self.enum is None:
            return None
        return tuple(value for value, since in self.enum.items() if since <= version)

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def default_value(self) -> Any:
        """A fresh copy of :attr:`default` (``KeyError`` naming the field if it has none)."""
        if not self.has_default:
            raise KeyError(f"{self.name} has no default; it must be drawn")
        return copy.deepcopy(self.default)


_GUID_DOC = "a v4 UUID"

#: Envelope metadata (CCNG app/presenters/v2/base_presenter.rb).
METADATA_FIELDS: Final[tuple[Field, ...]] = (
    Field("guid", "string", "the app guid", format="guid"),
    Field("url", "string", "/v2/apps/<guid>", format="path"),
    Field("created_at", "string", "ISO-8601 UTC to the second", format="timestamp"),
    Field(
        "updated_at",
        "string",
        "ISO-8601 UTC; null on never-updated rows before 2.65",
        nullable=True,
        format="timestamp",
    ),
)

#: Why a staging failed (``staging_failed_reason``) and the description CC stores with it:
#: the v2.yml message, formatted with ``staging failed`` where it takes a detail
#: (CCNG app/models/runtime/build_model.rb#fail_to_stage!, errors/v2.yml).  A reason outside
#: ``STAGING_FAILED_REASONS`` (Diego's CellCommunicationError …) is stored as StagingError.
#: Each value's era is the version of the first release whose ``STAGING_FAILED_REASONS`` lists it
#: (CCNG app/models/runtime/app.rb until 2.63, then the droplet and build models).


_STAGING_REASONS_SINCE: Final = _v(6)


@dataclass(frozen=True)
class StagingFailure:
    reason: str
    code: int
    description: str
    #: ``staging_failed_reason`` exists from 2.6 (CCNG ee4ab9bce1, which reads 2.4.0; cf-release v173).
    since: ApiVersion = _STAGING_REASONS_SINCE
    #: The message before CC reworded it, and the version that did: ``(text, reworded_in)``.
    earlier: tuple[str, ApiVersion] | None = None

    def description_in(self, version: ApiVersion) -> str:
        """The ``staging_failed_description`` CC of *version* stores for this reason."""
        if self.earlier is not None and version < self.earlier[1]:
            return self.earlier[0]
        return self.description


#: Cloud Native Buildpacks staging (CCNG lib/cloud_controller/diego/failure_reason_sanitizer.rb,
#: errors/v2.yml 430001-430007; CCNG fec18696d5, capi-release 1.184.0).
_CNB_SINCE: Final = _v(233)

STAGING_FAILURES: Final[tuple[StagingFailure, ...]] = (
    StagingFailure("StagingError", 170001, "Staging error: staging failed"),
    # CCNG 5d4c3e31ab (reads 2.17.0; cf-release v193, 2.18.0).
    StagingFailure("StagingTimeExpired", 170007, "Staging time expired: staging failed", since=_v(18)),
    StagingFailure("NoAppDetectedError", 170003, "An app was not successfully detected by any available buildpack"),
    StagingFailure("BuildpackCompileFailed", 170004, "App staging failed in the buildpack compile phase"),
    StagingFailure("BuildpackReleaseFailed", 170005, "App staging failed in the buildpack release phase"),
    # Diego's staging errors reach the app with "Flow diego errors on staging" (CCNG 7ef237565d,
    # cf-release v197; v196, also 2.21.0, lacks them).
    StagingFailure("InsufficientResources", 170008, "Insufficient resources", since=_v(21)),
    StagingFailure("NoCompatibleCell", 170009, "Found no compatible cell", since=_v(21)),
    # Added to App::STAGING_FAILED_REASONS by CCNG 0cad8a5281 (cf-release v237).
    StagingFailure("StagerError", 170011, "Stager error: staging failed", since=_v(56)),
    StagingFailure("CNBGenericBuildFailed", 430001, "cnb: generic build failure", since=_CNB_SINCE),
    StagingFailure(
        "CNBDownloadBuildpackFailed",
        430002,
        "cnb: downloading buildpacks failed: This may be caused by a wrong url, invalid buildpack or invalid"
        " credentials. Check the staging logs for more details.",
        since=_CNB_SINCE,
        # Reworded by CCNG f5371ae117 (capi-release 1.197.0).
        earlier=("cnb: downloading buildpacks failed", _v(247)),
    ),
    StagingFailure("CNBDetectFailed", 430003, "cnb: detecting failed", since=_CNB_SINCE),
    StagingFailure("CNBBuildFailed", 430004, "cnb: building failed", since=_CNB_SINCE),
    StagingFailure("CNBExportFailed", 430005, "cnb: exporting failed", since=_CNB_SINCE),
    StagingFailure("CNBLaunchFailed", 430006, "cnb: launching failed", since=_CNB_SINCE),
    StagingFailure("CNBRestoreFailed", 430007, "cnb: restore failed", since=_CNB_SINCE),
)
_STAGING_FAILURE_BY_REASON: Final = {failure.reason: failure for failure in STAGING_FAILURES}


def staging_failure(reason: str) -> StagingFailure:
    try:
        return _STAGING_FAILURE_BY_REASON[reason]
    except KeyError:
        raise UnknownNameError("staging failure reason", reason, _STAGING_FAILURE_BY_REASON) from None


#: The app entity, in the order the presenter emits it
#: (CCNG app/presenters/v2/process_model_presenter.rb; before 2016-08 ``App#to_hash``).
#: ``docker_credentials_json`` sits after ``enable_ssh`` as in the 2.43 docs example.  Each
#: ``since`` names its CCNG commit and first release where it is not V2_0.
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
    Field("detected_buildpack", "string", "buildpack detect output", nullable=True, default=None, droplet=True),
    Field(
        "detected_buildpack_guid",
        "string",
        "guid of the detected admin buildpack",
        nullable=True,
        # CCNG 25a1109af4, capi-release 1.2.0.
        since=_v(60),
        format="guid",
        default=None,
        droplet=True,
    ),
    Field(
        "environment_json", "object", "user env vars (shown unredacted to restage callers)", nullable=True, default=None
    ),
    Field("memory", "integer", "MB", minimum=1, default=1024),
    Field("instances", "integer", "desired instances", minimum=0, default=1),
    Field("disk_quota", "integer", "MB", minimum=1, default=1024),
    # CCNG 6f115cdf6c reads 2.189.0 but first ships in capi-release 1.137.0 (2.190.0); 1.136.0 (2.189.0) lacks it.
    Field("log_rate_limit", "integer", "bytes/s, -1 = unlimited", since=_v(190), minimum=-1, default=-1),
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
        # CCNG a40cadd39d (cf-release v195); process 64a4325aab (cf-release v228); http 07a3beb9c3
        # (capi-release 1.12.0).
        since=_v(19),
        enum={"port": _v(19), "none": _v(19), "process": _v(47), "http": _v(66)},
        default="port",
    ),
    Field(
        "health_check_timeout", "integer", "seconds; null = platform default", nullable=True, minimum=0, default=None
    ),
    # The process column, nil unless an http check sets it (CCNG process_model_presenter_spec.rb
    # expects nil); the "" of the 2016 docs is Diego's desired-LRP default, not the API's.
    # CCNG 35f4905d44, capi-release 1.12.0.
    Field(
        "health_check_http_endpoint", "string", "path probed by http checks", nullable=True, since=_v(66), default=None
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
        # CCNG aebf366b5d reads 2.30.0, but no release reported 2.30.0-2.32.0: cf-release v212
        # (2.29.0) lacks it, v213 (2.33.0) is the first to carry it.
        since=_v(33),
        default=None,
    ),
    # CCNG 6daf6e2c79, cf-release v200; v198 and v199 report 2.22.0 too and lack it.
    Field("diego", "boolean", "runs on Diego (false = DEA)", since=_v(22), default=False, optional_at_since=True),
    # CCNG 1fb9050d84, cf-release v177; v175 and v176 report 2.8.0 too and lack it.
    Field(
        "docker_image",
        "string",
        "normalised image reference",
        nullable=True,
        since=_v(8),
        default=None,
        optional_at_since=True,
    ),
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
        # CCNG 3cb721e458 reads 2.12.0; cf-release v182 (2.13.0).
        since=_v(13),
        format="timestamp",
        default=None,
    ),
    # CCNG 85b061281a, cf-release v186.
    Field("detected_start_command", "string", '"" if unknown', since=_v(14), default="", droplet=True),
    # allow_app_ssh_access && space.allow_ssh, whatever the backend (CCNG app.rb at 2.43: the
    # docs' DEA app shows true).  CCNG 26e68ee392, cf-release v208; v207 reports 2.25.0 too and
    # lacks it (no ``allow_ssh`` either: that name never shipped).
    Field("enable_ssh", "boolean", "SSH access allowed", since=_v(25), default=True, optional_at_since=True),
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
        # CCNG 409aebcda2, cf-release v223 and v224 (5cb67693b7), both 2.42.0.
        since=_v(42),
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
    # CCNG e3f8a7aa93, cf-release v231.
    Field("route_mappings_url", "string", "/v2/apps/<guid>/route_mappings", format="path", link=True, since=_v(51)),
)
_APP_FIELD_BY_NAME: Final = {f.name: f for f in APP_FIELDS}
#: Filters ``GET /v2/apps`` accepts in ``q=`` (the list envelope itself is in ``_paging``).
APP_QUERY_FILTERS: Final = ("name", "space_guid", "organization_guid", "diego", "stack_guid")


#: The order of the relation links, which follows the ``to_one``/``to_many`` declarations of
#: CCNG app/controllers/runtime/apps_controller.rb (to-one first, RelationsPresenter): events
#: moved before service_bindings at 2.8 (6d2e77b661, which reads 2.6.0; cf-release v175, no release
#: reported 2.7.0), route_mappings came last at 2.51 (e3f8a7aa93, cf-release v231), and routes moved
#: up behind stack at 2.52 (8b8d832050, cf-release v232).  APP_FIELDS holds the links in today's
#: order; earlier eras are listed here.
_LINK_ORDERS: Final[tuple[tuple[ApiVersion, tuple[str, ...]], ...]] = (
    (_v(52), ()),  # APP_FIELDS' own order
    (_v(8), ("space_url", "stack_url", "events_url", "service_bindings_url", "routes_url", "route_mappings_url")),
    (V2_0, ("space_url", "stack_url", "service_bindings_url", "routes_url", "events_url")),
)


@lru_cache(maxsize=256)
def app_fields(version: ApiVersion, *, links: bool = False) -> tuple[Field, ...]:
    """The entity fields an app resource of *version* carries, in presenter order."""
    fields = tuple(f for f in APP_FIELDS if f.present_in(version) and (links or not f.link))
    order = next(names for since, names in _LINK_ORDERS if since <= version)
    if not order:
        return fields
    position = {name: i for i, name in enumerate(order)}
    return tuple(f for f in fields if not f.link) + tuple(
        sorted((f for f in fields if f.link), key=lambda f: position[f.name])
    )


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


# --------------------------------------------------------------------------- inline relations


@dataclass(frozen=True)
class InlineRelation:
    """A relation ``inline-relations-depth=1`` writes into the app entity, right after its ``*_url``.

    CCNG app/presenters/v2/relations_presenter.rb adds ``<name>_url`` and then, unless the
    relation is ``link_only`` (events, route_mappings) or the depth is reached, ``<name>``:
    the related resource (to-one) or a list of them (to-many, up to ``max_inline``, 50).
    The link fields stay.
    """

    name: str
    link: str
    #: The related resources' collection, the prefix of their ``metadata.url``.
    collection: str
    to_many: bool


INLINE_RELATIONS: Final[tuple[InlineRelation, ...]] = (
    InlineRelation("space", "space_url", "/v2/spaces", to_many=False),
    InlineRelation("stack", "stack_url", "/v2/stacks", to_many=False),
    InlineRelation("routes", "routes_url", "/v2/routes", to_many=True),
    InlineRelation("service_bindings", "service_bindings_url", "/v2/service_bindings", to_many=True),
)
_INLINE_BY_LINK: Final = {r.link: r for r in INLINE_RELATIONS}
#: CC's default ``max_inline_relations_depth`` (config/cloud_controller.yml); deeper asks are
#: refused with CF-BadQueryParameter.
MAX_INLINE_RELATIONS_DEPTH: Final = 2


def inline_relation(link_field: str) -> InlineRelation | None:
    """The relation inlined after *link_field* (``space_url`` → space), or None for a link-only one."""
    return _INLINE_BY_LINK.get(link_field)


#: The entity of each related resource an app inlines at depth 1, field by field with the
#: version that added it, then its own relation links (all link-only one level down); to-one
#: links that are unset (a space's quota, a route's service instance) are left out, as CC does.
#: Spaces: CCNG app/models/runtime/space.rb export_attributes (space_quota_definition_guid
#: 9c4db6d30d, cf-release v177; allow_ssh af333a1683, cf-release v208), app/presenters/v2/space_presenter.rb
#: (isolation_segment_guid 783a265ac9, capi-release 1.4.0), spaces_controller.rb relations
#: (security_groups bc04b60d4d, cf-release v173; staging_security_groups c6f63ef68c, which reads
#: 2.65.0 and ships in capi-release 1.12.0, 2.66.0).  Stacks: stack.rb export_attributes (the rootfs
#: images 59c3ced29b, capi-release 1.155.0).  Routes: route.rb export_attributes (path after host
#: f8d9001178, cf-release v209 - 190b00fabf had put it last in cf-release v208, 2.25.0, which is
#: not modelled; service_instance_guid 40a62301f6, cf-release v217; port 4f87492d59,
#: cf-release v221), routes_controller.rb relations (route_mappings f7809593d6, cf-release v232).
RELATED_ENTITY_FIELDS: Final[Mapping[str, tuple[tuple[str, ApiVersion], ...]]] = {
    "space": (
        ("name", V2_0),
        ("organization_guid", V2_0),
        ("space_quota_definition_guid", _v(8)),
        ("isolation_segment_guid", _v(62)),
        ("allow_ssh", _v(25)),
    ),
    "stack": (("name", V2_0), ("description", V2_0), ("build_rootfs_image", _v(206)), ("run_rootfs_image", _v(206))),
    "routes": (
        ("host", V2_0),
        ("path", _v(27)),
        ("domain_guid", V2_0),
        ("space_guid", V2_0),
        ("service_instance_guid", _v(35)),
        ("port", _v(40)),
    ),
}
RELATED_LINKS: Final[Mapping[str, tuple[tuple[str, ApiVersion], ...]]] = {
    "space": (
        ("organization", V2_0),
        ("developers", V2_0),
        ("managers", V2_0),
        ("auditors", V2_0),
        ("apps", V2_0),
        ("routes", V2_0),
        ("domains", V2_0),
        ("service_instances", V2_0),
        ("app_events", V2_0),
        ("events", V2_0),
        ("security_groups", _v(6)),
        ("staging_security_groups", _v(66)),
    ),
    "stack": (),
    "routes": (("domain", V2_0), ("space", V2_0), ("apps", V2_0), ("route_mappings", _v(52))),
}
#: A route's ``domain_url`` names the domain's own collection from 2.57 (CCNG route_presenter.rb,
#: 6e5ed864b1, cf-release v238); before, every domain was under ``/v2/domains``.
SHARED_DOMAINS_URL_SINCE: Final = _v(57)


def related_fields(relation: str, version: ApiVersion) -> tuple[str, ...]:
    """The entity keys of an inlined *relation* resource of *version*, without its links."""
    return tuple(name for name, since in RELATED_ENTITY_FIELDS[relation] if since <= version)


def related_links(relation: str, version: ApiVersion) -> tuple[str, ...]:
    """The relations an inlined *relation* resource of *version* links to, in CC's order."""
    return tuple(name for name, since in RELATED_LINKS[relation] if since <= version)


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

# Eras from the commits of CCNG app/controllers/runtime/info_controller.rb and their first
# releases: token_endpoint d38fa78a69 (cf-release v175, 2.8.0; the commit reads 2.6.0), the CLI
# versions 860f7cb8c2 (v203, 2.23.0; the commit reads 2.22.0), app_ssh_endpoint and its
# fingerprint 614f5477e0 (v210, 2.27.0; v209 reports 2.27.0 too without them),
# doppler_logging_endpoint 2ff0ddf0ab (v212, 2.29.0), app_ssh_oauth_client 537a04cefb and
# routing_endpoint 478d130d3a (v219, 2.37.0), bits_endpoint 6fcba75405 (capi-release 1.6.0, 2.63.0;
# only with the bits service on; gone with c2b19637c7, capi-release 1.140.0, 2.192.0),
# logging_endpoint gone b02a23c38e (capi-release 1.28.0, 2.82.0), osbapi_version 54ab5b780c
# (capi-release 1.68.0, 2.122.0).  The SSH proxy's fingerprint and OAuth client are config
# values CC writes as null when unset (a live 2.33.0 /v2/info, CC's own 2.57.0 docs).
_INFO_SPEC: Final[tuple[tuple[str, JsonType, str, bool, ApiVersion, ApiVersion | None], ...]] = (
    ("name", "string", "deployment name", False, V2_0, None),
    ("build", "string", "build id", False, V2_0, None),
    ("support", "string", "support URL; 'CF API v2 is disabled' when v2 is off", False, V2_0, None),
    ("version", "integer", "config int, docs show 2", False, V2_0, None),
    ("description", "string", "deployment description", False, V2_0, None),
    ("authorization_endpoint", "string", "login server URL", False, V2_0, None),
    ("token_endpoint", "string", "UAA URL", False, _v(8), None),
    ("min_cli_version", "string", "oldest supported cf CLI", True, _v(23), None),
    ("min_recommended_cli_version", "string", "often null", True, _v(23), None),
    ("app_ssh_endpoint", "string", "host:port of the SSH proxy", False, _v(27), None),
    ("app_ssh_host_key_fingerprint", "string", "SSH proxy host key fingerprint", True, _v(27), None),
    ("app_ssh_oauth_client", "string", "typically ssh-proxy", True, _v(37), None),
    ("logging_endpoint", "string", "loggregator websocket URL", False, V2_0, _v(82)),
    ("bits_endpoint", "string", "bits-service URL, only with the bits service on", True, _v(63), _v(192)),
    ("doppler_logging_endpoint", "string", "doppler websocket URL", False, _v(29), None),
    ("api_version", "string", "e.g. 2.293.0", False, V2_0, None),
    ("osbapi_version", "string", "Open Service Broker API version", False, _v(122), None),
    ("routing_endpoint", "string", "routing API URL (optional)", False, _v(37), None),
)
#: Keys an earlier release reporting their ``since`` lacks (cf-release v209, 2.27.0).
_INFO_OPTIONAL_AT_SINCE: Final = frozenset({"app_ssh_endpoint", "app_ssh_host_key_fingerprint"})

#: ``GET /v2/info``'s fields (CCNG app/controllers/runtime/info_controller.rb), in today's order.
INFO_FIELDS: Final[tuple[Field, ...]] = tuple(
    Field(
        name,
        json_type,
        doc,
        nullable=nullable,
        since=since,
        until=until,
        conditional=name == "bits_endpoint",
        optional_at_since=name in _INFO_OPTIONAL_AT_SINCE,
        source="CCNG app/controllers/runtime/info_controller.rb",
    )
    for name, json_type, doc, nullable, since, until in _INFO_SPEC
)
#: The order CC wrote them in before today's: the hash literal ended at ``app_ssh_oauth_client``
#: with ``api_version`` after the CLI versions, and the optional keys were appended - bits,
#: routing, logging, doppler.  2.85 moved doppler into the literal (7d9663032a, capi-release
#: 1.31.0); 2.122 moved ``api_version`` behind it, with ``osbapi_version`` (54ab5b780c,
#: capi-release 1.68.0).
_INFO_ORDERS: Final[tuple[tuple[ApiVersion, tuple[str, ...]], ...]] = (
    (_v(122), ()),  # INFO_FIELDS' own order
    (
        _v(85),
        (
            "name", "build", "support", "version", "description", "authorization_endpoint", "token_endpoint",
            "min_cli_version", "min_recommended_cli_version", "api_version", "app_ssh_endpoint",
            "app_ssh_host_key_fingerprint", "app_ssh_oauth_client", "doppler_logging_endpoint", "bits_endpoint",
            "routing_endpoint",
        ),
    ),
    (
        V2_0,
        (
            "name", "build", "support", "version", "description", "authorization_endpoint", "token_endpoint",
            "min_cli_version", "min_recommended_cli_version", "api_version", "app_ssh_endpoint",
            "app_ssh_host_key_fingerprint", "app_ssh_oauth_client", "bits_endpoint", "routing_endpoint",
            "logging_endpoint", "doppler_logging_endpoint",
        ),
    ),
)  # fmt: skip


@lru_cache(maxsize=64)
def info_fields(version: ApiVersion) -> tuple[Field, ...]:
    """The ``/v2/info`` fields of *version* in the order CC of that era wrote them."""
    fields = tuple(f for f in INFO_FIELDS if f.present_in(version))
    order = next(names for since, names in _INFO_ORDERS if since <= version)
    if not order:
        return fields
    return tuple(sorted(fields, key=lambda f: order.index(f.name)))


@dataclass(frozen=True)
class RootLink:
    """One link of ``GET /`` (CCNG app/controllers/runtime/root_controller.rb) and its era."""

    name: str
    #: The keys of its ``meta`` object.
    meta: tuple[str, ...] = ()
    since: ApiVersion = V2_0
    until: ApiVersion | None = None

    def present_in(self, version: ApiVersion) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


#: ``GET /`` exists from 2.63 (CCNG b6bb1b702f, "Add v2 & v3 links to / for API discovery",
#: capi-release 1.6.0); before, CC answers it with its unknown-route 404.
ROOT_SINCE: Final = _v(63)
#: The root's links in the order of the controller's hash literal, each from the first release of
#: the commit that added it: uaa b772bf31f3 (capi-release 1.9.0), network_policy f19a09e984 (1.29.0;
#: split into v0 and v1 by ea8277b806, which reads 2.91.0 and ships in 1.38.0, 2.92.0), logging
#: 0ebefbeafb (1.31.0), app_ssh 92dafe9c7f (1.40.0), credhub f69971a6a4 (1.44.0), routing
#: 00ac6049c7 (1.45.0), bits_service d60c4a9a8a (1.78.0, null unless the bits service is on;
#: removed by c2b19637c7, 1.140.0), log_stream 30248b504d (reads 2.133.0, ships in 1.79.0 as
#: 2.134.0), log_cache 479da637df (1.87.0), login 918c82dc1a (1.89.0).
ROOT_LINKS: Final[tuple[RootLink, ...]] = (
    RootLink("self"),
    RootLink("bits_service", since=_v(133), until=_v(192)),
    RootLink("cloud_controller_v2", ("version",)),
    RootLink("cloud_controller_v3", ("version",)),
    RootLink("network_policy", since=_v(83), until=_v(92)),
    RootLink("network_policy_v0", since=_v(92)),
    RootLink("network_policy_v1", since=_v(92)),
    RootLink("login", since=_v(144)),
    RootLink("uaa", since=_v(64)),
    RootLink("credhub", since=_v(98)),
    RootLink("routing", since=_v(99)),
    RootLink("logging", since=_v(85)),
    RootLink("log_cache", since=_v(142)),
    RootLink("log_stream", since=_v(134)),
    RootLink("app_ssh", ("host_key_fingerprint", "oauth_client"), since=_v(94)),
)
#: 2.246 builds the v2 link apart and merges it in last, and leaves it out when an operator
#: switches v2 off (``temporary_enable_v2: false``; CCNG 2ae7c7e725, capi-release 1.196.0).
ROOT_V2_LAST_SINCE: Final = _v(246)
#: With v2 switched off, ``/v2/info`` still answers from 2.256, saying so in ``support``
#: (CCNG 04c46ec7fa, capi-release 1.206.0).
V2_DISABLED_INFO_SINCE: Final = _v(256)
V2_DISABLED_SUPPORT: Final = "CF API v2 is disabled"


def root_links(version: ApiVersion, *, v2_enabled: bool = True) -> tuple[RootLink, ...]:
    """The links ``GET /`` of *version* carries, in CC's order (``()`` before :data:`ROOT_SINCE`)."""
    if version < ROOT_SINCE:
        return ()
    links = tuple(link for link in ROOT_LINKS if link.present_in(version))
    if version < ROOT_V2_LAST_SINCE:
        return links
    others = tuple(link for link in links if link.name != "cloud_controller_v2")
    v2 = tuple(link for link in links if link.name == "cloud_controller_v2")
    return others + (v2 if v2_enabled else ())


# --------------------------------------------------------------------------- what changed when


def era_table() -> tuple[EraRow, ...]:
    """Every era of this model, oldest first, each with the CCNG commit and first release dating it.

    The rows are read off the tables above (:mod:`cfreplay.cf.eras`), so they cannot disagree
    with the model; the README's "API eras" table is :func:`eras_markdown`, which
    ``python -m cfreplay.cf.eras`` prints.
    """
    from cfreplay.cf import eras  # it reads this module's tables

    return eras.era_table()


def eras_markdown() -> str:
    """The README's table of what changed when, generated from :func:`era_table`."""
    from cfreplay.cf import eras  # it reads this module's tables

    return eras.markdown_table()
