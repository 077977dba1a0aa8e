"""Cloud Controller's v2 error catalog: the errors cfreplay serves, and the error body per era.

The entries are CCNG errors/v2.yml's, with the API version that introduced each (for a
restage error, that of the first release whose restage can return it: see
:mod:`cfreplay.cf.cfapi` on eras);
``RESTAGE_ERRORS`` is every error ``POST /v2/apps/:guid/restage`` can return
(reference §1.5).  :mod:`cfreplay.cf.cfapi` re-exports all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cfreplay.cf._versions import V2_0, ApiVersion
from cfreplay.cf._versions import v2 as _v
from cfreplay.errors import UnknownNameError

__all__ = [
    "ERRORS",
    "ERROR_KEYS_DESCRIPTION_FIRST_SINCE",
    "RESTAGE_ERRORS",
    "CatalogError",
    "catalog_error",
    "error_document",
]

#: Error bodies list ``description, error_code, code`` since 2.73, ``code, description,
#: error_code`` before (CCNG app/presenters/v2_error_hasher.rb, 8e700cc986, capi-release 1.19.0).
ERROR_KEYS_DESCRIPTION_FIRST_SINCE: Final = _v(73)


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
        # CCNG 498a6e86a3 ("Return InsufficientScope error …", which reads 2.3.0; cf-release v171,
        # 2.4.0), with v2.yml's entry (cloudfoundry/errors a174df0).
        since=_v(4),
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
        # Restage translates AppStart/AppStop failures from CCNG 621db9f23b (reads 2.29.0; no release
        # reported 2.30.0-2.32.0, cf-release v213 is 2.33.0).
        since=_v(33),
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
        # CCNG 6b9d44ba52, capi-release 1.7.0 (1.6.0 reports 2.63.0 too without the check).
        since=_v(63),
        detail_name="reason",
        example_detail="bits have not been uploaded",
    ),
    _err(
        "DockerDisabled",
        400,
        320003,
        "Docker support has not been enabled.",
        "docker app with diego_docker off",
        since=_v(33),  # CCNG 621db9f23b, as StagingError
    ),
    _err(
        "CNBDisabled",
        400,
        320007,
        "Cloud Native Buildpacks support has not been enabled.",
        "diego_cnb off",
        since=_v(233),  # CCNG 6ba8491370 and fec18696d5, capi-release 1.184.0
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
        # Quota errors of staging: CCNG 27bfb11197, capi-release 1.8.0 (1.6.0, 1.7.0 and cf-release
        # v245 report 2.63.0 too without them).
        since=_v(63),
        detail_name="reason",
        example_detail="app requested more memory than available",
    ),
    _err(
        "AppMemoryQuotaExceeded",
        400,
        100005,
        "You have exceeded your organization's memory limit: %s",
        "BuildCreate: staging memory over the org quota",
        since=_v(63),
        detail_name="reason",
        example_detail="app requested more memory than available",
    ),
    _err(
        "SpaceQuotaLogRateLimitExceeded",
        400,
        310011,
        "You have exceeded your space's log rate limit: %s",
        "BuildCreate: log rate over the space quota",
        # CCNG 230e6a57e6 reads 2.189.0, first ships in capi-release 1.137.0 (2.190.0).
        since=_v(190),
        detail_name="reason",
        example_detail="app requested more log rate than available",
    ),
    _err(
        "OrgQuotaLogRateLimitExceeded",
        400,
        100010,
        "You have exceeded your organization's log rate limit: %s",
        "BuildCreate: log rate over the org quota",
        since=_v(190),
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
        since=_v(133),  # CCNG cac7eba875, capi-release 1.78.0
        detail_name="reason",
        example_detail="Requested buildpack(s) 'ruby_buildpack' are disabled and cannot be used for staging",
    ),
    _err(
        "CustomBuildpacksDisabled",
        400,
        290004,
        "Custom buildpacks are disabled",
        "custom buildpack URL with the feature off",
        since=_v(91),  # CCNG c9e40c0ee6, capi-release 1.37.0
    ),
    _err(
        "StackValidationFailed",
        422,
        250004,
        "%s",
        "the app's stack is DISABLED",
        since=_v(275),  # CCNG 544cac6fef, capi-release 1.225.0
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
    # Both came with CC's HTTP stager client ("Nsync and Stager use HTTP", CCNG 48d3ee165c, which
    # reads 2.23.0; cf-release v206, 2.24.0; v2.yml's entries in cloudfoundry/errors 73056fc).
    _err(
        "StagerUnavailable",
        503,
        170010,
        "Stager is unavailable: %s",
        "BBS unreachable",
        since=_v(24),
        detail_name="reason",
        example_detail="connection refused",
    ),
    _err(
        "StagerError",
        500,
        170011,
        "Stager error: %s",
        "BBS returned an error",
        since=_v(24),
        detail_name="reason",
        example_detail="staging failed",
    ),
    # The rate limiter answers with a v2 error from 2.64 (CCNG middleware/rate_limiter.rb,
    # 1dcf846bdd, capi-release 1.9.0; before, the plain text "Rate Limit Exceeded").
    _err("RateLimitExceeded", 429, 10013, "Rate Limit Exceeded", "per-user rate limit", since=_v(64)),
    # Requests without a valid user token are limited by client IP, and told so from 2.137 (CCNG
    # 375217a8ff, "Suggest unauthenticated rate-limited users log in": it reads 2.136.0, but waited on
    # a branch past capi-release 1.81.0 and first ships in 1.82.0, 2.137.0).
    _err(
        "IPBasedRateLimitExceeded",
        429,
        10014,
        "Rate Limit Exceeded: Unauthenticated requests from this IP address have exceeded the limit. Please log in.",
        "unauthenticated (or invalid-token) requests over the per-IP limit",
        since=_v(137),
    ),
    _err(
        "RateLimitV2APIExceeded",
        429,
        10018,
        "Rate Limit of V2 API Exceeded. Please consider using the V3 API",
        # CCNG middleware/rate_limiter_v2_api.rb, efdd0d438d: it reads 2.186.0 and first ships in
        # capi-release 1.135.0 (2.188.0).
        "v2 rate limiter (2022-07)",
        since=_v(188),
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
        # CCNG 0ba2d0bfe2 added it and the restage check; 9db555785c took the check out again, and
        # both first ship in capi-release 1.80.0 (2.135.0).
        since=_v(135),
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
    # What the app sub-resources a restage flow polls answer (CCNG instances_controller.rb,
    # stats_controller.rb) and the space lookup the cf CLI v6 starts with.
    _err(
        "InstancesError",
        400,
        220001,
        "Instances error: %s",
        "GET /v2/apps/:guid/instances of a stopped app",
        detail_name="reason",
        example_detail="Request failed for app: my-app as the app is in stopped state.",
        restage=False,
    ),
    _err(
        "AppStoppedStatsError",
        400,
        200003,
        "Could not fetch stats for stopped app: %s",
        "GET /v2/apps/:guid/stats of a stopped app",
        detail_name="reason",
        example_detail="my-app",
        restage=False,
    ),
    _err(
        "SpaceNotFound",
        404,
        40004,
        "The app space could not be found: %s",
        "unknown space guid",
        detail_name="guid",
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
