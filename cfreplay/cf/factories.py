"""Factories for schema-exact Cloud Controller v2 and UAA documents.

Every factory draws from the current seed (:func:`cfreplay.seed`), or from its
own ``seed=`` when given, so the same seed always yields the same bytes.  Every
factory takes ``api_version=`` (default: ``cfapi.DEFAULT_API_VERSION``, 2.293.0;
the documented restage exchange is 2.43.0) and produces what CC of that version
would send.  Every field a factory does not draw comes out at its ``Field.default``
in :mod:`cfreplay.cf.cfapi`.

Overrides are field names; a field that the era does not have, a value of the
wrong type or outside an enum raises :class:`cfreplay.SchemaError` naming it::

    app = app_envelope("staging_failed", "docker", memory=512)
    response = restage_response(app)            # the whole 201, as bytes on the wire
    error = error_response("AppNotFound", guid=app["metadata"]["guid"])

This module is their one public name (also as ``cfreplay.factories``); they are
written in three rooms: app resources and list pages (``_apps``), the restage
request and CC's responses (``_responses``), and what a client reads to log in,
``/``, ``/v2/info`` and UAA's tokens (``_login``).
"""

from __future__ import annotations

from cfreplay.cf._apps import TRAITS, app_envelope, list_page, space_resource, stack_resource
from cfreplay.cf._draw import DEFAULT_SYSTEM_DOMAIN
from cfreplay.cf._draw import SeedArg as SeedArg
from cfreplay.cf._draw import VersionArg as VersionArg
from cfreplay.cf._login import access_token, docs_access_token, info, root, token_response
from cfreplay.cf._responses import error_response, restage_request, restage_response

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
    "space_resource",
    "stack_resource",
    "token_response",
]
