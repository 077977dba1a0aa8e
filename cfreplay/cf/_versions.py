"""Cloud Controller v2 API versions: :class:`ApiVersion` and the eras cfreplay knows first and last.

Every other module of the v2 model dates its facts with these; :mod:`cfreplay.cf.cfapi`
re-exports them, so ``cfapi.ApiVersion`` stays the name to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from cfreplay.errors import ApiVersionError

__all__ = ["DEFAULT_API_VERSION", "LATEST_API_VERSION", "SEED_API_VERSION", "V2_0", "ApiVersion", "v2"]


_VERSION_PATTERN: Final = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True, order=True)
class ApiVersion:
    """A Cloud Controller v2 API version such as ``2.43.0``; ordered, hashable."""

    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, value: str | ApiVersion | None) -> ApiVersion:
        """Read ``"2.43"``, ``"2.43.0"`` or ``"v2.43.0"``; ``None`` means :data:`DEFAULT_API_VERSION`."""
        if value is None:
            return DEFAULT_API_VERSION
        if isinstance(value, ApiVersion):
            return value
        match = _VERSION_PATTERN.match(str(value).strip())
        if match is None:
            raise ApiVersionError(f"API version {value!r} is not of the form 2.N or 2.N.P (e.g. 2.43.0)")
        version = cls(int(match[1]), int(match[2]), int(match[3] or 0))
        if version.major != 2:
            raise ApiVersionError(f"API version {value!r} is not a v2 version; cfreplay models the v2 API (2.N.P)")
        return version

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def v2(minor: int) -> ApiVersion:
    """``2.<minor>.0``: the tables date their facts with it (the patch level never matters there)."""
    return ApiVersion(2, minor, 0)


V2_0: Final = v2(0)
#: The era of the documented restage exchange, as the reference names it.  Its page (apidocs of
#: cf-release v224, Nov 2015) is a 2.42.0 document with the same fields as 2.43.0 (see ``cfapi``).
SEED_API_VERSION: Final = v2(43)
#: The newest v2 version in the reference snapshot (CCNG config/version_v2).
LATEST_API_VERSION: Final = ApiVersion(2, 293, 0)
#: The one default era: of the factories, ``cfreplay fake``, ``validate``, the simulator
#: (so ``cfreplay record`` and ``serve --simulate``) and the shipped ``restage/*`` cassettes.
#:
#: It is the newest era, not the documented one, on purpose.  Any foundation a v2 client
#: still talks to today is a late one: compact JSON (2.232), ``docker_credentials``
#: (2.82), Diego and v3 builds, ``log_rate_limit`` — a default of 2.43.0 would hand out
#: pretty-printed DEA apps with ``docker_credentials_json`` that no live Cloud Controller
#: sends, and tests written against them would pass against a server nobody runs.  The
#: simulator also needs a late era for the checks it exists to show (AppPackageInvalid
#: for an app without bits 2.63, StagingError for zero instances 2.93).  The
#: documented era stays one argument away — ``api_version=SEED_API_VERSION``,
#: ``--api-version 2.43``, the shipped ``restage/201-2.43`` — and ``cfreplay record
#: --from-docs`` still writes the documented exchange byte for byte.
DEFAULT_API_VERSION: Final = LATEST_API_VERSION
