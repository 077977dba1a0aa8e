"""The documents CC's app sub-resources answer with, in CC's shapes: instances, stats, summary, inline relations.

Built here, beside the simulator, because the factories do not make them yet; each
names the CCNG file it follows.  The default era (2.293) is followed field for field;
each era start is the version of the first CC release holding the change (the rule of
:mod:`cfreplay.cf.cfapi`; the comments name the commit and, where it differs from the
version file at the commit, the release), and shapes before Diego's reporters (DEA-era
``stats``) are only approximated: the DEA ``instances`` keys are kept, its ``stats`` use
Diego's.

None of these documents holds a secret: guids, names, states, numbers and times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from cfreplay.cf import cfapi
from cfreplay.cf._versions import v2 as _v
from cfreplay.cf.cfapi import ApiVersion

__all__ = [
    "RUNNING",
    "STARTING",
    "down_stats",
    "instance_entry",
    "shared_domain",
    "stats_entry",
    "summary_document",
    "with_inline_relations",
]


STARTING: Final = "STARTING"
RUNNING: Final = "RUNNING"
DOWN: Final = "DOWN"

# CCNG lib/cloud_controller/diego/reporters/instances_reporter.rb: ``routable`` from the
# readiness health checks (89eb910c6d, 2.209.0); Diego's reporters write ``uptime``.
_INSTANCE_ROUTABLE_SINCE: Final = _v(209)
# …/instances_stats_reporter.rb: isolation_segment with the separate stats reporter
# (fde3e6f2d0, 2.114.0), log_rate_limit/log_rate (5f0da2eaad, which reads 2.189.0 and first
# ships in capi-release 1.137.0, 2.190.0), routable (110b23dad4, 2.216.0), cpu_entitlement
# (3d2bc76000, 2.225.0).
_STATS_ISOLATION_SEGMENT_SINCE: Final = _v(114)
_STATS_LOG_RATE_SINCE: Final = _v(190)
_STATS_ROUTABLE_SINCE: Final = _v(216)
_STATS_CPU_ENTITLEMENT_SINCE: Final = _v(225)
# Shared domains' router_group_guid/type (24cf3070e8, which reads 2.38.0 and first ships in
# cf-release v220, 2.39.0).
_ROUTER_GROUPS_SINCE: Final = _v(39)
# Diego's default file-descriptor limit (CCNG config: default_app_ssh_access… instance_file_descriptor_limit).
_FDS_QUOTA: Final = 16384
_MEBIBYTE: Final = 1024 * 1024


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def instance_entry(state: str, since: datetime, now: datetime, *, diego: bool, version: ApiVersion) -> dict[str, Any]:
    """One value of ``GET /v2/apps/:guid/instances`` (keyed by the index as a string)."""
    if not diego:
        # CCNG lib/cloud_controller/dea/client.rb#find_all_instances: the DEA's float timestamp.
        return {
            "state": state,
            "since": round(_epoch(since), 6),
            "debug_ip": None,
            "debug_port": None,
            "console_ip": None,
            "console_port": None,
        }
    entry: dict[str, Any] = {"state": state}
    if version >= _INSTANCE_ROUTABLE_SINCE:
        # has_routable? ? routable : true — an instance becomes routable once it is ready.
        entry["routable"] = state == RUNNING
    entry["uptime"] = max(0, int(_epoch(now) - _epoch(since)))
    entry["since"] = int(_epoch(since))
    return entry


def down_stats() -> dict[str, Any]:
    """A desired instance Diego reports nothing for (ReporterMixins#fill_unreported_instances_with_down_instances)."""
    return {"state": DOWN, "stats": {"uptime": 0}}


def stats_entry(
    app: Mapping[str, Any], index: int, state: str, since: datetime, now: datetime, *, version: ApiVersion
) -> dict[str, Any]:
    """One value of ``GET /v2/apps/:guid/stats`` for a STARTING or RUNNING instance (``net_info`` removed, as CC does).

    A starting container has no metrics in log-cache yet: quotas are null and usage is
    ``missing_process_stats`` (zeros); a running one reports its quotas and a little use.
    """
    entity = app["entity"]
    running = state == RUNNING
    stats: dict[str, Any] = {
        "name": entity["name"],
        "uris": [],  # the simulator has no routes
        "host": f"10.0.{16 + index}.{(index * 7) % 250 + 4}",
        "port": 61000 + index,
        "uptime": max(0, int(_epoch(now) - _epoch(since))),
        "fds_quota": _FDS_QUOTA,
        "mem_quota": entity["memory"] * _MEBIBYTE if running else None,
        "disk_quota": entity["disk_quota"] * _MEBIBYTE if running else None,
    }
    usage: dict[str, Any] = {"time": now.isoformat(timespec="seconds"), "cpu": 0.0021 if running else 0}
    if version >= _STATS_CPU_ENTITLEMENT_SINCE:
        usage["cpu_entitlement"] = None
    usage["mem"] = entity["memory"] * _MEBIBYTE // 4 if running else 0
    usage["disk"] = 64 * _MEBIBYTE if running else 0
    if version >= _STATS_LOG_RATE_SINCE:
        stats["log_rate_limit"] = (
            entity.get("log_rate_limit", -1) if running else None
        )  # bytes per second; -1 is unlimited
        usage["log_rate"] = 0
    stats["usage"] = usage
    entry: dict[str, Any] = {"state": state}
    if version >= _STATS_ISOLATION_SEGMENT_SINCE:
        entry["isolation_segment"] = None
    entry["stats"] = stats
    if version >= _STATS_ROUTABLE_SINCE:
        entry["routable"] = running
    return entry


def summary_document(
    app: Mapping[str, Any], running_instances: int, domains: Sequence[Mapping[str, Any]], *, version: ApiVersion
) -> dict[str, Any]:
    """``GET /v2/apps/:guid/summary`` (CCNG app/controllers/runtime/app_summaries_controller.rb).

    ``guid``, ``name``, routes, the running count, services and the domains an app
    could use, then the app's own fields (``ProcessModel#to_hash``: the entity without
    its name and relation links).
    """
    entity = app["entity"]
    document: dict[str, Any] = {
        "guid": app["metadata"]["guid"],
        "name": entity["name"],
        "routes": [],
        "running_instances": running_instances,
        "services": [],
        "available_domains": [dict(domain) for domain in domains],
    }
    for f in cfapi.app_fields(version):
        if f.name != "name" and f.name in entity:
            document[f.name] = entity[f.name]
    return document


def shared_domain(guid: str, name: str, *, version: ApiVersion) -> dict[str, Any]:
    """A shared domain as the summary lists it (``SharedDomain#as_summary_json``)."""
    domain: dict[str, Any] = {"guid": guid, "name": name}
    if version >= _ROUTER_GROUPS_SINCE:
        domain.update({"router_group_guid": None, "router_group_type": None})
    return domain


def with_inline_relations(
    envelope: Mapping[str, Any], space: Mapping[str, Any], stack: Mapping[str, Any]
) -> dict[str, Any]:
    """The app with ``inline-relations-depth`` ≥ 1: each inlined relation right after its link.

    To-many relations are inlined whole (CC inlines up to 50 objects): the simulator's
    apps have no routes and no service bindings, so both are empty lists.
    """
    inlined: dict[str, Any] = {"space": dict(space), "stack": dict(stack), "routes": [], "service_bindings": []}
    entity: dict[str, Any] = {}
    for key, value in envelope["entity"].items():
        entity[key] = value
        # Which link an inlined relation follows is the model's (cfapi.INLINE_RELATIONS).
        relation = cfapi.inline_relation(key)
        if relation is not None:
            entity[relation.name] = inlined[relation.name]
    return {"metadata": dict(envelope["metadata"]), "entity": entity}
