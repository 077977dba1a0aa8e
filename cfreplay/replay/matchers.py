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


# Keys already worked out, by (method, URI, matchers): every keyed matcher reads only the
# request's method and URI (the properties above are vcrpy's, parsed from the URI each time),
# and a replay asks for the same key at least twice (the recording as it loads, the live
# request), a suite for the same endpoints again and again.
_known_keys: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_KNOWN_KEYS_LIMIT: Final = 4096


def index_key(request: Any, matchers: Sequence[Matcher]) -> tuple[Any, ...]:
    """The values the keyed matchers compare; equal keys are necessary for a match."""
    method, uri = request.method, request.uri
    if type(method) is not str or type(uri) is not str:  # what a hook made of it: worked out as it is
        return tuple(_KEYS[m](request) for m in matchers if m in _KEYS)
    memo = (method, uri, *matchers)
    try:
        key = _known_keys.get(memo)
    except TypeError:  # a custom matcher that cannot be hashed
        return tuple(_KEYS[m](request) for m in matchers if m in _KEYS)
    if key is None:
        key = tuple(_KEYS[m](request) for m in matchers if m in _KEYS)
        if len(_known_keys) >= _KNOWN_KEYS_LIMIT:
            _known_keys.clear()
        _known_keys[memo] = key
    return key


def is_exact(matchers: Sequence[Matcher]) -> bool:
    """Whether equal keys are also sufficient: every matcher is a keyed one."""
    return all(m in _KEYS for m in matchers)
