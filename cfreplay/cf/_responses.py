"""Whole HTTP messages of the restage exchange: the request, its ``201``, and any v2 error as CC sends it.

Public as :mod:`cfreplay.factories` / :mod:`cfreplay.cf.factories`.  Responses
carry CC's headers in CC's order and bodies serialised as CC of the API era
writes them (:func:`cfreplay.cf.cfapi.dump_json`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from cfreplay.cf import cfapi
from cfreplay.cf._apps import app_envelope, apply_overrides
from cfreplay.cf._draw import DEFAULT_SYSTEM_DOMAIN, SeedArg, VersionArg, seeder, stamp
from cfreplay.cf._login import draw_access_token
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.schema import validate
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.errors import ApiVersionError, SchemaError, UnknownNameError
from cfreplay.types import Request, Response

__all__ = ["error_response", "restage_request", "restage_response"]


def _json_response(
    status: int,
    document: Any,
    version: ApiVersion,
    s: Seeder,
    *,
    kind: Literal["resource", "error", "rate_limit"],
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
    ``version`` and, on Diego since v3 staging (2.63), the new droplet's or build's guid as
    ``staging_task_id`` (DEA assigned it later, so it is unchanged there); from
    2.63 restage drops the current droplet, so the detected buildpack and start
    command read empty; ``updated_at`` is the factory clock.  ``process_guid`` sets ``Location``
    (it differs from the app guid after a rolling deployment); ``warnings`` adds
    ``X-Cf-Warnings``.  Overrides set response fields by name.
    """
    version = ApiVersion.parse(api_version)
    s = seeder(seed, now)
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
    if version >= cfapi.RESTAGE_DROPS_DROPLET_SINCE:
        # droplet_guid = nil: what the presenter reads off the current droplet is gone.
        for f in cfapi.app_fields(version):
            if f.droplet:
                entity[f.name] = f.default_value()
    metadata["updated_at"] = stamp(max(s.now(), cfapi.parse_timestamp(metadata["created_at"])), version)
    apply_overrides(metadata, entity, overrides, version)
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
    s = seeder(seed, now)
    document = cfapi.error_document(error, error.description(_detail_text(error, detail, s, version)), version)
    if error.rate_limited:
        return _rate_limited(error, document, version, s, request_id, incoming_request_id)
    return _json_response(
        error.http_status,
        document,
        version,
        s,
        kind="error",
        request_id=request_id,
        incoming_request_id=incoming_request_id,
    )


def _detail_text(error: cfapi.CatalogError, detail: Mapping[str, str], s: Seeder, version: ApiVersion) -> str | None:
    """What fills the description's ``%s``: the detail given, a drawn guid for AppNotFound, else CC's own."""
    accepted = {"detail", error.detail_name} if error.takes_detail else set()
    unknown = sorted(set(detail) - accepted)
    if unknown:
        takes = f"takes {error.detail_name}= or detail=" if error.takes_detail else "takes no detail"
        raise SchemaError(unknown[0], f"{error.error_code} {takes}", str(version))
    text = detail.get("detail") or (detail.get(error.detail_name) if error.detail_name else None)
    if text is None and error.detail_name == "guid":
        text = s.uuid()
    return text


def _rate_limited(
    error: cfapi.CatalogError,
    document: Mapping[str, Any],
    version: ApiVersion,
    s: Seeder,
    request_id: str | None,
    incoming_request_id: str | None,
) -> Response:
    """A 429 as CC's rate limiters send it: ``text/plain``, ``Retry-After`` and ``X-RateLimit-*``.

    The body is the middleware's own ``to_json``, with no trailing newline (``dump_json`` kind ``rate_limit``).
    """
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
        kind="rate_limit",
        request_id=request_id,
        incoming_request_id=incoming_request_id,
        content_type=cfapi.RATE_LIMIT_CONTENT_TYPE,
        after_type=[("Retry-After", str(reset - int(s.now().timestamp())))],
        extra=extra,
    )


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
    s = seeder(seed, now)
    guid = guid or s.uuid()
    token = (
        token
        or draw_access_token(
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
