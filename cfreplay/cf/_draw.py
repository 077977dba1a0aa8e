"""What every factory module shares: the ``seed=`` and ``api_version=`` arguments, the domain and timestamps.

The factories live in :mod:`cfreplay.cf._apps`, :mod:`cfreplay.cf._responses` and
:mod:`cfreplay.cf._login`; :mod:`cfreplay.cf.factories` is their public name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from cfreplay.cf import cfapi
from cfreplay.cf._versions import DEFAULT_API_VERSION, ApiVersion
from cfreplay.cf.seeding import Now, Seeder, current

__all__ = ["DEFAULT_SYSTEM_DOMAIN", "TIMESTAMP", "seeder", "stamp"]

SeedArg = int | str | Seeder | None
VersionArg = str | ApiVersion | None

DEFAULT_SYSTEM_DOMAIN: Final = "sys.example.com"
#: CC's timestamps since 2.21: ISO-8601 UTC to the second (earlier eras: :func:`cfreplay.cf.cfapi.timestamp`).
TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"


def seeder(seed: SeedArg, now: Now = None) -> Seeder:
    """The Seeder a factory draws from: *seed* itself, a new one from it, or the current one."""
    if isinstance(seed, Seeder):
        return seed
    if seed is None:
        return current() if now is None else Seeder(current().random.getrandbits(64), now=now)
    return Seeder(seed, now=now)


def stamp(moment: datetime, version: ApiVersion | None = None) -> str:
    """A CC timestamp of *moment*; of the default era (``…Z``) unless *version* says otherwise."""
    return cfapi.timestamp(moment, version or DEFAULT_API_VERSION)
