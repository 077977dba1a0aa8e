"""The v2 list envelope: its keys, its page sizes, and the page links CC writes.

Which filters a list takes is app knowledge, in :mod:`cfreplay.cf.cfapi` with the
fields; it re-exports all of this module.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Final

from cfreplay.cf._versions import DEFAULT_API_VERSION, ApiVersion, v2

__all__ = [
    "DEFAULT_RESULTS_PER_PAGE",
    "EMPTY_LIST_ONE_PAGE_SINCE",
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
#: What Addressable's ``normalized_query`` writes unescaped: the unreserved characters, the
#: sub-delimiters but ``&``, ``;`` (pair separators) and ``+`` (left as ``%2B``), and ``:@/?``.
_QUERY_LITERAL: Final = "-._~!$'()*,=:@/?"
#: An empty list has one page (``total_pages`` 1) from 2.8; see :func:`total_pages`.
EMPTY_LIST_ONE_PAGE_SINCE: Final = v2(8)


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
    """A ``prev_url``/``next_url``: relative, query keys sorted, values escaped as Addressable leaves them.

    CC builds it with Addressable (CCNG paginated_collection_renderer.rb#url:
    ``query_values=`` then ``normalize.request_uri``): ``query_values=`` sorts the
    keys and escapes everything outside the unreserved set, then ``normalize``
    unescapes what a query may hold literally, so ``q=name:my-app`` and ``a,b``
    come back as typed (CC's own specs expect ``q=name:potato`` in ``next_url``,
    service_bindings_controller_spec.rb).  Space, ``&``, ``;``, ``#``, ``+``
    (kept encoded, ``%2B``), ``<``, ``>`` and non-ASCII stay escaped.
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
        f"{key}={urllib.parse.quote(value, safe=_QUERY_LITERAL)}" for key in sorted(params) for value in params[key]
    )
    return f"{path}?{query}"


def total_pages(total_results: int, results_per_page: int, version: ApiVersion = DEFAULT_API_VERSION) -> int:
    """Sequel's ``page_count``: 0 for an empty collection before 2.8, at least 1 since.

    CC moved from Sequel 3.48 to 4.11 with CCNG a512767f77 (which reads 2.6.0; first release
    cf-release v175, 2.8.0: none reported 2.7.0), and Sequel 4.3 made the pagination extension
    count an empty dataset as one page (Sequel commit 7c169b74c).
    """
    pages = -(-total_results // results_per_page)
    return pages if version < EMPTY_LIST_ONE_PAGE_SINCE else max(1, pages)
