"""Index keys for vcrpy's request matchers, so replay finds a recording in O(1).

vcrpy compares a live request with every recorded one, in order: replaying N
requests from an N-interaction cassette costs O(N²).  Each of vcrpy's built-in
matchers is an equality on one property of the request (method, host, path…),
so a tuple of those properties is a dictionary key under which every matching
recording sits.  Matchers without a key (``body``, ``headers``, custom ones)
are still checked, but only against the few recordings under the key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import vcr.matchers

__all__ = ["index_key", "is_exact"]

Matcher = Callable[[Any, Any], Any]


def _normalized_uri(request: Any) -> str:
    # As vcr.matchers.uri compares: a bare-host URL equals the one with "/" added.
    parsed = request.parsed_uri
    uri: str = request.uri
    if parsed.path:
        return uri
    authority = f"{parsed.scheme}://{parsed.netloc}"
    return authority + "/" + uri[len(authority) :] if uri.startswith(authority) else uri


#: vcrpy's equality matchers and the request property each compares.
_KEYS: Final[dict[Matcher, Callable[[Any], Any]]] = {
    vcr.matchers.method: lambda r: r.method,
    vcr.matchers.uri: _normalized_uri,
    vcr.matchers.scheme: lambda r: r.scheme,
    vcr.matchers.host: lambda r: r.host,
    vcr.matchers.port: lambda r: r.port,
    vcr.matchers.path: lambda r: r.path or "/",
    vcr.matchers.query: lambda r: tuple(r.query),
}


def index_key(request: Any, matchers: Sequence[Matcher]) -> tuple[Any, ...]:
    """The values the keyed matchers compare; equal keys are necessary for a match."""
    return tuple(_KEYS[m](request) for m in matchers if m in _KEYS)


def is_exact(matchers: Sequence[Matcher]) -> bool:
    """Whether equal keys are also sufficient: every matcher is a keyed one."""
    return all(m in _KEYS for m in matchers)
