"""cfreplay: test Cloud Foundry v2 tooling offline.

Seeded factories for schema-exact Cloud Controller v2 and UAA documents, the
API model they are built from, a sanitizer and scanner that keep secrets out
of vcrpy cassettes, ``use_cassette`` for sanitized recording and offline
replay, and an embedded CC + UAA simulator.  ``import cfreplay`` imports
neither pytest nor the command line (the plugin loads through pytest's entry
point).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cfreplay.errors import (
    ApiVersionError,
    CassetteError,
    CfreplayError,
    NetworkBlocked,
    OptionError,
    SchemaError,
    SecretWarning,
    UnknownNameError,
    UnmatchedRequest,
    UnplayedInteractions,
)
from cfreplay.types import Request, Response

__all__ = [
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "SEED_API_VERSION",
    "ActiveCassette",
    "ApiVersion",
    "ApiVersionError",
    "CassetteError",
    "CfreplayError",
    "NetworkBlocked",
    "OptionError",
    "Request",
    "Response",
    "SanitizeConfig",
    "Sanitizer",
    "SchemaError",
    "SecretWarning",
    "Seeder",
    "UnknownNameError",
    "UnmatchedRequest",
    "UnplayedInteractions",
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

if TYPE_CHECKING:
    from cfreplay import shipped
    from cfreplay.cf import factories
    from cfreplay.cf.cfapi import DEFAULT_API_VERSION, LATEST_API_VERSION, SEED_API_VERSION, ApiVersion
    from cfreplay.cf.schema import app_schema, validate
    from cfreplay.cf.seeding import Seeder, seed, seeded
    from cfreplay.hygiene.rules import SanitizeConfig
    from cfreplay.hygiene.sanitizer import Sanitizer
    from cfreplay.replay.recorder import ActiveCassette, use_cassette
    from cfreplay.serve import simulator

# Loaded on first use: the simulator brings an HTTP server; `python -m cfreplay.shipped`
# must not find its own module already imported by the package; the factories and the
# schema bring Faker and jsonschema, which a suite that only replays cassettes (the
# pytest plugin imports this package) should not pay for; the recorder brings vcrpy,
# which a session that never enters a cassette should not pay for either; the API model
# and the seeding (some 20 ms) are not needed to replay either.
_LAZY_MODULES: dict[str, str] = {
    "factories": "cfreplay.cf.factories",
    "shipped": "cfreplay.shipped",
    "simulator": "cfreplay.serve.simulator",
}
_LAZY_NAMES: dict[str, str] = {
    "DEFAULT_API_VERSION": "cfreplay.cf.cfapi",
    "LATEST_API_VERSION": "cfreplay.cf.cfapi",
    "SEED_API_VERSION": "cfreplay.cf.cfapi",
    "ApiVersion": "cfreplay.cf.cfapi",
    "Seeder": "cfreplay.cf.seeding",
    "seed": "cfreplay.cf.seeding",
    "seeded": "cfreplay.cf.seeding",
    "ActiveCassette": "cfreplay.replay.recorder",
    "SanitizeConfig": "cfreplay.hygiene.rules",
    "Sanitizer": "cfreplay.hygiene.sanitizer",
    "app_schema": "cfreplay.cf.schema",
    "use_cassette": "cfreplay.replay.recorder",
    "validate": "cfreplay.cf.schema",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        module = globals()[name] = importlib.import_module(_LAZY_MODULES[name])
        return module
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cfreplay' has no attribute {name!r}")
