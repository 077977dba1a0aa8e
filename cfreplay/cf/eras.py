"""What changed when: every era of :mod:`cfreplay.cf.cfapi`, as rows and as the README's table.

The rows are read off cfapi's own tables (fields, enum values, staging reasons, errors,
``/v2/info``, ``GET /``, inlined relations, key orders) and its behaviour constants, so the
table cannot disagree with the model.  Each row carries its evidence: the CCNG commit and
the first release (capi-release ``N.N.N`` or cf-release ``vN``) whose pinned CC holds it,
which is where the era comes from (see cfapi's docstring).  ``python -m cfreplay.cf.eras``
prints the table; ``cfapi.era_table()`` and ``cfapi.eras_markdown()`` give the same under
the model's own name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cfreplay.cf import cfapi
from cfreplay.cf._versions import v2
from cfreplay.cf.cfapi import V2_0, ApiVersion

__all__ = ["EVIDENCE", "EraRow", "Evidence", "era_table", "main", "markdown_table"]


@dataclass(frozen=True)
class Evidence:
    """Where an era comes from: the CCNG commit and the first release whose pinned CC holds it."""

    commit: str
    release: str
    #: The version file at the commit, where it differs from the release's version.
    reads: str | None = None
    #: Earlier releases reporting the same version without the change.
    lacking: tuple[str, ...] = ()
    #: For the one era not dated from a commit.
    note: str | None = None

    def describe(self, version: ApiVersion) -> str:
        """The table's evidence column: commit → first release, and the releases of the version without it."""
        if self.note is not None:
            return self.note
        text = f"`{self.commit}`" + (f" (which reads {self.reads})" if self.reads else "") + f" → {self.release}"
        if self.lacking:
            names = ", ".join(self.lacking[:-1]) + (" and " if len(self.lacking) > 1 else "") + self.lacking[-1]
            text += f"; {names} also {'report' if len(self.lacking) > 1 else 'reports'} {version} without it"
        return text


@dataclass(frozen=True)
class EraRow:
    """One change: the API version it arrived in, what it is, and the commit and release that date it."""

    version: ApiVersion
    change: str
    evidence: Evidence


#: Behaviours cfapi dates with a constant rather than a table entry.
_BEHAVIOURS: Final[tuple[tuple[ApiVersion, str], ...]] = (
    (cfapi.EMPTY_LIST_ONE_PAGE_SINCE, "an empty list has `total_pages` 1 (before: 0)"),
    (cfapi.UTC_Z_TIMESTAMPS_SINCE, "timestamps end in `Z` (before: `+00:00`)"),
    (cfapi.BUILDS_SINCE, "restage on Diego: `staging_task_id` is the new staging's guid"),
    (cfapi.RESTAGE_DROPS_DROPLET_SINCE, "restage clears the droplet: its 201 shows no `detected_*` values"),
    (cfapi.UPDATED_AT_NOT_NULL_SINCE, "`metadata.updated_at` is never null"),
    (
        cfapi.SHARED_DOMAINS_URL_SINCE,
        "inlined routes' `domain_url` names `/v2/shared_domains` or `/v2/private_domains`",
    ),
    (
        cfapi.ERROR_KEYS_DESCRIPTION_FIRST_SINCE,
        "error keys `description, error_code, code` (was `code, description, error_code`)",
    ),
    (cfapi.ROOT_SINCE, "`GET /` answers with links (before: 404)"),
    (cfapi.OJ_PRETTY_SINCE, "pretty JSON by Oj: empty `{}` and `[]` on one line; 429 bodies compact"),
    (cfapi.COMPACT_JSON_SINCE, "compact JSON bodies (before: pretty-printed, 2-space indent)"),
    (cfapi.ROOT_V2_LAST_SINCE, "`GET /` writes `cloud_controller_v2` last, and leaves it out with v2 off"),
    (cfapi.V2_DISABLED_INFO_SINCE, "`/v2/info` answers with v2 off (`support`: CF API v2 is disabled)"),
    (cfapi.DIEGO_DEFAULT_SINCE, "the factories' default backend is Diego (before: DEA)"),
)

#: The commit and first release of each change, keyed by its row's text (found with
#: ``git merge-base --is-ancestor <commit> <pinned CC>`` over the capi-release and cf-release tags
#: in version order; the release pins are ``git ls-tree <tag> src/cloud_controller_ng``).
EVIDENCE: Final[Mapping[str, Evidence]] = {
    "error `CF-InsufficientScope`": Evidence("498a6e86a3", "cf-release v171", reads="2.3.0"),
    "app field `staging_failed_reason`": Evidence("ee4ab9bce1", "cf-release v173", reads="2.4.0"),
    "inlined space: link `security_groups_url`": Evidence("bc04b60d4d", "cf-release v173"),
    "app field `docker_image`": Evidence(
        "1fb9050d84", "cf-release v177", lacking=("cf-release v175", "cf-release v176")
    ),
    "app relation link order: `events_url` after `stack_url`": Evidence("6d2e77b661", "cf-release v175", reads="2.6.0"),
    "inlined space: field `space_quota_definition_guid`": Evidence(
        "9c4db6d30d", "cf-release v177", lacking=("cf-release v175", "cf-release v176")
    ),
    "`/v2/info` key `token_endpoint`": Evidence("d38fa78a69", "cf-release v175", reads="2.6.0"),
    "an empty list has `total_pages` 1 (before: 0)": Evidence("a512767f77", "cf-release v175", reads="2.6.0"),
    "app field `package_updated_at`": Evidence("3cb721e458", "cf-release v182", reads="2.12.0"),
    "app field `detected_start_command`": Evidence("85b061281a", "cf-release v186"),
    "`staging_failed_reason` `StagingTimeExpired`": Evidence("5d4c3e31ab", "cf-release v193", reads="2.17.0"),
    "app field `health_check_type`": Evidence("a40cadd39d", "cf-release v195"),
    "`staging_failed_reason` `InsufficientResources`": Evidence(
        "7ef237565d", "cf-release v197", lacking=("cf-release v196",)
    ),
    "`staging_failed_reason` `NoCompatibleCell`": Evidence(
        "7ef237565d", "cf-release v197", lacking=("cf-release v196",)
    ),
    "timestamps end in `Z` (before: `+00:00`)": Evidence("f8229a158b", "cf-release v197", lacking=("cf-release v196",)),
    "app field `diego`": Evidence("6daf6e2c79", "cf-release v200", lacking=("cf-release v198", "cf-release v199")),
    "`/v2/info` key `min_cli_version`": Evidence("860f7cb8c2", "cf-release v203", reads="2.22.0"),
    "`/v2/info` key `min_recommended_cli_version`": Evidence("860f7cb8c2", "cf-release v203", reads="2.22.0"),
    "error `CF-StagerUnavailable`": Evidence("48d3ee165c", "cf-release v206", reads="2.23.0"),
    "error `CF-StagerError`": Evidence("48d3ee165c", "cf-release v206", reads="2.23.0"),
    "app field `enable_ssh`": Evidence("26e68ee392", "cf-release v208", lacking=("cf-release v207",)),
    "inlined space: field `allow_ssh`": Evidence("af333a1683", "cf-release v208", lacking=("cf-release v207",)),
    "inlined routes: field `path`": Evidence("f8d9001178", "cf-release v209"),
    "`/v2/info` key `app_ssh_endpoint`": Evidence("614f5477e0", "cf-release v210", lacking=("cf-release v209",)),
    "`/v2/info` key `app_ssh_host_key_fingerprint`": Evidence(
        "614f5477e0", "cf-release v210", lacking=("cf-release v209",)
    ),
    "app field `docker_credentials_json`": Evidence("42219c6f5b", "cf-release v211", reads="2.27.0"),
    "`/v2/info` key `doppler_logging_endpoint`": Evidence("2ff0ddf0ab", "cf-release v212"),
    "app field `staging_failed_description`": Evidence("aebf366b5d", "cf-release v213", reads="2.30.0"),
    "error `CF-StagingError`": Evidence("621db9f23b", "cf-release v213", reads="2.29.0"),
    "error `CF-DockerDisabled`": Evidence("621db9f23b", "cf-release v213", reads="2.29.0"),
    "inlined routes: field `service_instance_guid`": Evidence("40a62301f6", "cf-release v217"),
    "`/v2/info` key `app_ssh_oauth_client`": Evidence("537a04cefb", "cf-release v219"),
    "`/v2/info` key `routing_endpoint`": Evidence("478d130d3a", "cf-release v219"),
    "inlined routes: field `port`": Evidence("4f87492d59", "cf-release v221"),
    "app field `ports`": Evidence("409aebcda2", "cf-release v223"),
    "`health_check_type` value `process`": Evidence("64a4325aab", "cf-release v228"),
    "app relation link `route_mappings_url`": Evidence("e3f8a7aa93", "cf-release v231"),
    "app relation link order: `routes_url` after `stack_url`": Evidence("8b8d832050", "cf-release v232"),
    "inlined routes: link `route_mappings_url`": Evidence("f7809593d6", "cf-release v232"),
    "`staging_failed_reason` `StagerError`": Evidence("0cad8a5281", "cf-release v237"),
    "inlined routes' `domain_url` names `/v2/shared_domains` or `/v2/private_domains`": Evidence(
        "6e5ed864b1", "cf-release v238"
    ),
    "app field `detected_buildpack_guid`": Evidence("25a1109af4", "capi-release 1.2.0"),
    "inlined space: field `isolation_segment_guid`": Evidence("783a265ac9", "capi-release 1.4.0"),
    "error `CF-AppPackageInvalid`": Evidence("6b9d44ba52", "capi-release 1.7.0", lacking=("capi-release 1.6.0",)),
    "error `CF-SpaceQuotaMemoryLimitExceeded`": Evidence(
        "27bfb11197", "capi-release 1.8.0", lacking=("capi-release 1.6.0", "capi-release 1.7.0", "cf-release v245")
    ),
    "error `CF-AppMemoryQuotaExceeded`": Evidence(
        "27bfb11197", "capi-release 1.8.0", lacking=("capi-release 1.6.0", "capi-release 1.7.0", "cf-release v245")
    ),
    "`/v2/info` key `bits_endpoint`": Evidence("6fcba75405", "capi-release 1.6.0", reads="2.62.0"),
    "restage on Diego: `staging_task_id` is the new staging's guid": Evidence("f8fb724975", "capi-release 1.6.0"),
    "restage clears the droplet: its 201 shows no `detected_*` values": Evidence("6d3d3568b3", "capi-release 1.6.0"),
    "`GET /` answers with links (before: 404)": Evidence("b6bb1b702f", "capi-release 1.6.0"),
    "error `CF-RateLimitExceeded`": Evidence("1dcf846bdd", "capi-release 1.9.0"),
    "`GET /` link `uaa`": Evidence("b772bf31f3", "capi-release 1.9.0"),
    "`metadata.updated_at` is never null": Evidence("47a8d51cde", "capi-release 1.11.0", reads="2.64.0"),
    "`health_check_type` value `http`": Evidence("07a3beb9c3", "capi-release 1.12.0"),
    "app field `health_check_http_endpoint`": Evidence("35f4905d44", "capi-release 1.12.0"),
    "inlined space: link `staging_security_groups_url`": Evidence("c6f63ef68c", "capi-release 1.12.0", reads="2.65.0"),
    "error keys `description, error_code, code` (was `code, description, error_code`)": Evidence(
        "8e700cc986", "capi-release 1.19.0"
    ),
    "app field `docker_credentials`": Evidence("b85888fcc1", "capi-release 1.28.0"),
    "app field `docker_credentials_json` gone": Evidence("b85888fcc1", "capi-release 1.28.0"),
    "`/v2/info` key `logging_endpoint` gone": Evidence("b02a23c38e", "capi-release 1.28.0"),
    "`GET /` link `network_policy`": Evidence("f19a09e984", "capi-release 1.29.0"),
    "`/v2/info` order: `doppler_logging_endpoint` after `app_ssh_oauth_client`": Evidence(
        "7d9663032a", "capi-release 1.31.0"
    ),
    "`GET /` link `logging`": Evidence("0ebefbeafb", "capi-release 1.31.0"),
    "error `CF-CustomBuildpacksDisabled`": Evidence("c9e40c0ee6", "capi-release 1.37.0"),
    "`GET /` link `network_policy` gone": Evidence("ea8277b806", "capi-release 1.38.0", reads="2.91.0"),
    "`GET /` link `network_policy_v0`": Evidence("ea8277b806", "capi-release 1.38.0", reads="2.91.0"),
    "`GET /` link `network_policy_v1`": Evidence("ea8277b806", "capi-release 1.38.0", reads="2.91.0"),
    "`GET /` link `app_ssh`": Evidence("92dafe9c7f", "capi-release 1.40.0"),
    "`GET /` link `credhub`": Evidence("f69971a6a4", "capi-release 1.44.0"),
    "`GET /` link `routing`": Evidence("00ac6049c7", "capi-release 1.45.0"),
    "`/v2/info` key `osbapi_version`": Evidence("54ab5b780c", "capi-release 1.68.0"),
    "`/v2/info` order: `doppler_logging_endpoint` after `bits_endpoint`, then `api_version`": Evidence(
        "54ab5b780c", "capi-release 1.68.0"
    ),
    "error `CF-BuildpackInvalid`": Evidence("cac7eba875", "capi-release 1.78.0"),
    "`GET /` link `bits_service`": Evidence("d60c4a9a8a", "capi-release 1.78.0"),
    "`GET /` link `log_stream`": Evidence("30248b504d", "capi-release 1.79.0", reads="2.133.0"),
    "error `CF-RevisionsEnabled`": Evidence("0ba2d0bfe2", "capi-release 1.80.0"),
    "error `CF-IPBasedRateLimitExceeded`": Evidence("375217a8ff", "capi-release 1.82.0", reads="2.136.0"),
    "`GET /` link `log_cache`": Evidence("479da637df", "capi-release 1.87.0"),
    "`GET /` link `login`": Evidence("918c82dc1a", "capi-release 1.89.0"),
    "error `CF-RateLimitV2APIExceeded`": Evidence("efdd0d438d", "capi-release 1.135.0", reads="2.186.0"),
    "pretty JSON by Oj: empty `{}` and `[]` on one line; 429 bodies compact": Evidence(
        "5d0a43b49d", "capi-release 1.136.0"
    ),
    "app field `log_rate_limit`": Evidence("6f115cdf6c", "capi-release 1.137.0", reads="2.189.0"),
    "error `CF-SpaceQuotaLogRateLimitExceeded`": Evidence("230e6a57e6", "capi-release 1.137.0", reads="2.189.0"),
    "error `CF-OrgQuotaLogRateLimitExceeded`": Evidence("230e6a57e6", "capi-release 1.137.0", reads="2.189.0"),
    "`/v2/info` key `bits_endpoint` gone": Evidence("c2b19637c7", "capi-release 1.140.0"),
    "`GET /` link `bits_service` gone": Evidence("c2b19637c7", "capi-release 1.140.0"),
    "inlined stack: field `build_rootfs_image`": Evidence("59c3ced29b", "capi-release 1.155.0"),
    "inlined stack: field `run_rootfs_image`": Evidence("59c3ced29b", "capi-release 1.155.0"),
    "compact JSON bodies (before: pretty-printed, 2-space indent)": Evidence("f122c77dee", "capi-release 1.183.0"),
    "`staging_failed_reason` `CNBGenericBuildFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBDownloadBuildpackFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBDetectFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBBuildFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBExportFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBLaunchFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "`staging_failed_reason` `CNBRestoreFailed`": Evidence("fec18696d5", "capi-release 1.184.0"),
    "error `CF-CNBDisabled`": Evidence("6ba8491370", "capi-release 1.184.0"),
    "`GET /` writes `cloud_controller_v2` last, and leaves it out with v2 off": Evidence(
        "2ae7c7e725", "capi-release 1.196.0"
    ),
    "`CNBDownloadBuildpackFailed`'s `staging_failed_description` reworded": Evidence(
        "f5371ae117", "capi-release 1.197.0"
    ),
    "`/v2/info` answers with v2 off (`support`: CF API v2 is disabled)": Evidence("04c46ec7fa", "capi-release 1.206.0"),
    "error `CF-StackValidationFailed`": Evidence("544cac6fef", "capi-release 1.225.0"),
    "the factories' default backend is Diego (before: DEA)": Evidence(
        "", "", note="an estimate of what foundations ran, not a CC change"
    ),
}


def _moved(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """The keys of *after* outside a longest common subsequence with *before*: the ones that moved."""
    common = [k for k in after if k in before]
    old = [k for k in before if k in after]
    # Longest common subsequence of two orders of the same keys.
    table = [[0] * (len(common) + 1) for _ in range(len(old) + 1)]
    for i in range(len(old) - 1, -1, -1):
        for j in range(len(common) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if old[i] == common[j] else max(table[i + 1][j], table[i][j + 1])
    kept: set[str] = set()
    i = j = 0
    while i < len(old) and j < len(common):
        if old[i] == common[j]:
            kept.add(old[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return [k for k in common if k not in kept]


def _order_change(what: str, before: Sequence[str], after: Sequence[str]) -> str:
    moves: list[str] = []
    previous = None
    for key in _moved(before, after):
        at = list(after).index(key)
        if at and after[at - 1] == previous:
            moves[-1] += f", then `{key}`"
        else:
            moves.append(f"`{key}` after `{after[at - 1]}`" if at else f"`{key}` first")
        previous = key
    return f"{what}: " + "; ".join(moves)


def _consecutive_versions() -> Iterator[tuple[ApiVersion, ApiVersion]]:
    """Each minor version of v2 with the one before it, to find where a key order moves."""
    for minor in range(1, cfapi.LATEST_API_VERSION.minor + 1):
        yield v2(minor - 1), v2(minor)


def _app_field_changes() -> Iterator[tuple[ApiVersion, str]]:
    """App fields and relation links arriving or going, and enum values added later."""
    for f in cfapi.APP_FIELDS:
        kind = "app relation link" if f.link else "app field"
        if f.since > V2_0:
            yield f.since, f"{kind} `{f.name}`"
        if f.until is not None:
            yield f.until, f"{kind} `{f.name}` gone"
        if f.enum is not None and f.name != "staging_failed_reason":
            yield from ((since, f"`{f.name}` value `{value}`") for value, since in f.enum.items() if since > f.since)


def _staging_failure_changes() -> Iterator[tuple[ApiVersion, str]]:
    """Staging failure reasons added after the field itself, and descriptions reworded."""
    reasons_since = cfapi.app_field("staging_failed_reason").since
    for failure in cfapi.STAGING_FAILURES:
        if failure.since > reasons_since:
            yield failure.since, f"`staging_failed_reason` `{failure.reason}`"
        if failure.earlier is not None:
            yield failure.earlier[1], f"`{failure.reason}`'s `staging_failed_description` reworded"


def _app_link_order_changes() -> Iterator[tuple[ApiVersion, str]]:
    """Versions where the app's relation links change order."""
    for older, newer in _consecutive_versions():
        before = [f.name for f in cfapi.app_fields(older, links=True) if f.link]
        after = [f.name for f in cfapi.app_fields(newer, links=True) if f.link]
        if _moved(before, after):
            yield newer, _order_change("app relation link order", before, after)


def _inlined_changes() -> Iterator[tuple[ApiVersion, str]]:
    """Fields and links of inlined relations added after v2.0."""
    for relation, fields in cfapi.RELATED_ENTITY_FIELDS.items():
        yield from ((since, f"inlined {relation}: field `{name}`") for name, since in fields if since > V2_0)
    for relation, links in cfapi.RELATED_LINKS.items():
        yield from ((since, f"inlined {relation}: link `{name}_url`") for name, since in links if since > V2_0)


def _error_changes() -> Iterator[tuple[ApiVersion, str]]:
    """Errors added after v2.0."""
    for error in cfapi.ERRORS.values():
        if error.since > V2_0:
            yield error.since, f"error `{error.error_code}`"


def _info_changes() -> Iterator[tuple[ApiVersion, str]]:
    """``/v2/info`` keys arriving or going, then the versions where their order changes."""
    for f in cfapi.INFO_FIELDS:
        if f.since > V2_0:
            yield f.since, f"`/v2/info` key `{f.name}`"
        if f.until is not None:
            yield f.until, f"`/v2/info` key `{f.name}` gone"
    for older, newer in _consecutive_versions():
        before = [f.name for f in cfapi.info_fields(older)]
        after = [f.name for f in cfapi.info_fields(newer)]
        if _moved(before, after):
            yield newer, _order_change("`/v2/info` order", before, after)


def _root_link_changes() -> Iterator[tuple[ApiVersion, str]]:
    """``GET /`` links arriving or going."""
    for link in cfapi.ROOT_LINKS:
        if link.since > V2_0:
            yield link.since, f"`GET /` link `{link.name}`"
        if link.until is not None:
            yield link.until, f"`GET /` link `{link.name}` gone"


def _changes() -> Iterator[tuple[ApiVersion, str]]:
    """Every dated change of the model, as (version, text)."""
    # The order matters: era_table's sort is stable, so rows of one version keep this order.
    yield from _app_field_changes()
    yield from _staging_failure_changes()
    yield from _app_link_order_changes()
    yield from _inlined_changes()
    yield from _error_changes()
    yield from _info_changes()
    yield from _root_link_changes()
    yield from _BEHAVIOURS


def era_table() -> tuple[EraRow, ...]:
    """Every era of the model, oldest first; ``KeyError`` for a change without evidence."""
    rows = [EraRow(version, change, EVIDENCE[change]) for version, change in _changes()]
    return tuple(sorted(rows, key=lambda row: row.version))


def markdown_table(rows: Sequence[EraRow] | None = None) -> str:
    """The README's table of what changed when."""
    lines = ["| API | what changed | CCNG commit → first release |", "|---|---|---|"]
    for row in era_table() if rows is None else rows:
        change = row.change.replace("|", "\\|")
        lines.append(f"| {row.version} | {change} | {row.evidence.describe(row.version)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """``python -m cfreplay.cf.eras``: print the table of what changed when, as the README shows it."""
    print(markdown_table(), end="")


if __name__ == "__main__":
    main()
