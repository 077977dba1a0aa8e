"""cfreplay: test Cloud Foundry v2 tooling offline.

Seeded factories for schema-exact Cloud Controller v2 and UAA documents, the
API model they are built from, and a sanitizer and scanner that keep secrets
out of vcrpy cassettes.  ``import cfreplay`` imports neither pytest nor the
command line.
"""

from __future__ import annotations

from cfreplay import factories, shipped, simulator
from cfreplay.cfapi import LATEST_API_VERSION, SEED_API_VERSION, ApiVersion
from cfreplay.errors import (
    ApiVersionError,
    CassetteError,
    CfreplayError,
    NetworkBlocked,
    SchemaError,
    UnknownNameError,
    UnmatchedRequest,
)
from cfreplay.recorder import ActiveCassette, use_cassette
from cfreplay.sanitizer import SanitizeConfig, Sanitizer
from cfreplay.schema import app_schema, validate
from cfreplay.seeding import Seeder, seed, seeded
from cfreplay.types import Request, Response

__all__ = [
    "LATEST_API_VERSION",
    "SEED_API_VERSION",
    "ActiveCassette",
    "ApiVersion",
    "ApiVersionError",
    "CassetteError",
    "CfreplayError",
    "NetworkBlocked",
    "Request",
    "Response",
    "SanitizeConfig",
    "Sanitizer",
    "SchemaError",
    "Seeder",
    "UnknownNameError",
    "UnmatchedRequest",
    "app_schema",
    "factories",
    "seed",
    "seeded",
    "shipped",
    "simulator",
    "use_cassette",
    "validate",
]

__version__ = "0.1.0"
