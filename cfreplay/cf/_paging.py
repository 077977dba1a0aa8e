"""The v2 list envelope: its keys, its page sizes, and the page links CC writes.

Which filters a list takes is app knowledge, in :mod:`cfreplay.cf.cfapi` with the
fields; it re-exports all of this module.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Final

__all__ = [
    "DEFAULT_RESULTS_PER_PAGE",
    "LIST_KEYS",
    "MAX_RESULTS_PER_PAGE",
    "page_url",
    "total_pages",
]

#: The paginated list envelope, in emitted order
#: (CCNG lib/cloud_controller/rest_controller/paginated_collection_renderer.rb).
LIST_KEYS: Final = ("total_results", "total_pages", "prev_url", "next_url", "resources")
DEFAULT_RESULTS_PER_PAGE: Final = 50
MAX_RESULTS_PER_PAGE: Final = 100


def page_url(
    path: str,
    page: int,
    results_per_page: int,
    *,
    order_direction: str = "asc",
    q: str | Sequence[str] | None = None,
    order_by: str | None = None,
    inline_relations_depth: int | None = None,
) -> str:
    """A ``prev_url``/``next_url``: relative, query keys sorted, values percent-encoded.

    CC builds it with Addressable (``query_values=`` then ``normalize``), which
    sorts keys and escapes everything outside the unreserved set.
    """
    params: dict[str, list[str]] = {
        "page": [str(page)],
        "results-per-page": [str(results_per_page)],
        "order-direction": [order_direction],
    }
    if inline_relations_depth is not None:
        params["inline-relations-depth"] = [str(inline_relations_depth)]
    if q:
        params["q"] = [q] if isinstance(q, str) else list(q)
    if order_by:
        params["order-by"] = [order_by]
    query = "&".join(
        f"{key}={urllib.parse.quote(value, safe='-._~')}" for key in sorted(params) for value in params[key]
    )
    return f"{path}?{query}"


def total_pages(total_results: int, results_per_page: int) -> int:
    """Sequel's ``page_count``: at least 1, even for an empty collection."""
    return max(1, -(-total_results // results_per_page))
