"""cfreplay: test Cloud Foundry v2 tooling offline.

Seeded factories for schema-exact Cloud Controller v2 and UAA documents, and
the API model they are built from.  ``import cfreplay`` imports neither pytest
nor the command line.
"""

from __future__ import annotations

from cfreplay import factories
from cfreplay.cfapi import LATEST_API_VERSION, SEED_API_VERSION, ApiVersion
from cfreplay.errors import ApiVersionError, CfreplayError, SchemaError, UnknownNameError
from cfreplay.schema import app_schema, validate
from cfreplay.seeding import Seeder, seed, seeded
from cfreplay.types import Request, Response

__all__ = [
    "LATEST_API_VERSION",
    "SEED_API_VERSION",
    "ApiVersion",
    "ApiVersionError",
    "CfreplayError",
    "Request",
    "Response",
    "SchemaError",
    "Seeder",
    "UnknownNameError",
    "app_schema",
    "factories",
    "seed",
    "seeded",
    "validate",
]

__version__ = "0.1.0"
