"""Replay for requests answered inside ``HTTPAdapter.send``, where vcrpy's stubs would give the same answer.

A replayed ``requests`` call goes, under vcrpy, through the adapter's pool lookup, urllib3's
``urlopen``, a stub connection built for each pool and vcrpy's request and response stubs
— about 0.2 ms a request that a real loopback request to a local server also pays, and
that a test of a CF tool pays on every call.  While cfreplay's shared patches are in,
``HTTPAdapter.send`` is replaced by :func:`lane` below: for a request it can
prove the stubs would see exactly as it does, it builds vcrpy's request, asks the cassette
in use (its hooks, matchers, record mode and play counts) and, if the cassette plays it,
hands ``build_response`` the very response object the stubs would have given urllib3.
Everything else — a request the cassette does not play (recorded, refused or raised
exactly as vcrpy does), and every setting whose effect lives in the skipped layers —
goes down requests' own ``send`` to the stubs, unchanged.

What sends a request down requests' own path (each changes what urllib3 or the adapter
would do):

* an adapter class overriding any method ``send`` calls, or a ``send`` that was not
  requests' own when the patches went in (``responses``, another mock);
* a proxy for the URL, a CA bundle (``verify``, or requests' default) that is not there
  or a client ``cert`` (the adapter checks both even in replay), a ``timeout`` urllib3
  would reject, retries that act on a status (``status_forcelist``, or ``Retry-After``
  with a total);
* a body that is not ``None``, bytes or str, or one sent chunked;
* a URL whose host or target urllib3 would rewrite (capitals, a trailing dot, IPv6,
  userinfo, an escape urllib3 re-cases or a character it escapes).

What the answer lacks against the stubs' path: the response's ``_pool`` and
``_connection`` are None (no pooled connection was taken).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Final

from cfreplay.replay import _vcr

__all__ = ["lane_for"]

# urllib3's request-target characters (util.url._PATH_CHARS, with "?" for the query) and an
# upper-case escape: a target of only these is one urllib3's _encode_target leaves as it is.
_TARGET: Final = re.compile(
    r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-F]{2})*(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*)?"
)
# scheme://host[:port] as urllib3's pool and connection spell them (lower case, no trailing dot).
_ORIGIN: Final = re.compile(r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([0-9]{1,5}))?(?=[/?#]|$)")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# What HTTPAdapter.send calls on itself: a subclass overriding one changes the request or its answer.
_ADAPTER_STEPS: Final = (
    "get_connection_with_tls_context", "get_connection", "cert_verify", "request_url", "add_headers",
    "build_response", "proxy_manager_for", "init_poolmanager", "build_connection_pool_key_attributes",
)  # fmt: skip


def _plain_timeout(timeout: Any) -> bool:
    """A timeout urllib3 accepts as it is (None, a positive number, or a pair of them)."""
    if isinstance(timeout, tuple):
        return len(timeout) == 2 and all(_plain_timeout(part) for part in timeout)
    return timeout is None or (type(timeout) in (int, float) and timeout > 0)


def _acts_below_the_adapter(adapter: Any, request: Any, timeout: Any, cert: Any, proxy: Any) -> bool:
    """Whether a setting of this call does its work in urllib3 (or the adapter's connection steps).

    *proxy* is requests' ``select_proxy`` answer for the URL.
    """
    body = request.body
    retries = adapter.max_retries
    return bool(
        cert is not None
        or proxy is not None
        or not _plain_timeout(timeout)
        or not (body is None or (isinstance(body, (bytes, str)) and "Content-Length" in request.headers))
        or getattr(retries, "status_forcelist", None)
        or (getattr(retries, "total", None) and getattr(retries, "respect_retry_after_header", True))
    )


def _stub_uri(request: Any, verify: Any, default_bundle: str) -> str | None:
    """The absolute URI vcrpy's stub connection would build for *request*; None where the lane cannot be sure.

    That is urllib3's pool host and port (the default port dropped) and its request
    target, when urllib3 would respell neither; and no CA bundle missing that the
    adapter would raise for, even in replay.
    """
    url = request.url
    origin = _ORIGIN.match(url) if isinstance(url, str) else None
    if origin is None:
        return None
    scheme, host, port = origin.groups()
    if verify and scheme == "https":
        bundle = verify if isinstance(verify, str) else default_bundle if verify is True else None
        if bundle is None or not os.path.exists(bundle):
            return None
    target = request.path_url
    if target.startswith("//") or not _TARGET.fullmatch(target):
        return None
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            return None
        if number != _DEFAULT_PORTS[scheme]:
            host = f"{host}:{number}"
    return f"{scheme}://{host}{target}"


def lane_for(adapter_class: type, current: Callable[[], Any]) -> tuple[Any, Callable[..., Any]] | None:
    """requests' own ``send`` and the replacement that answers from *current*'s cassette where it can.

    None if requests' ``send`` is not what *adapter_class* holds (someone else patched it).
    """
    requests_send: Any = adapter_class.__dict__.get("send")
    code = getattr(requests_send, "__code__", None)
    # requests' own function, not a mock made in its likeness (autospec copies the module name).
    if (
        code is None
        or getattr(requests_send, "__qualname__", "") != "HTTPAdapter.send"
        or not code.co_filename.replace("\\", "/").endswith("requests/adapters.py")
    ):
        return None
    try:
        from requests.utils import DEFAULT_CA_BUNDLE_PATH as default_bundle
        from requests.utils import select_proxy
    except ImportError:  # pragma: no cover - requests without it predates every supported version
        return None
    steps = {name: getattr(adapter_class, name, None) for name in _ADAPTER_STEPS}
    plain_classes: dict[type, bool] = {}

    def plain(cls: type) -> bool:
        known = plain_classes.get(cls)
        if known is None:
            known = plain_classes[cls] = all(getattr(cls, name, None) is step for name, step in steps.items())
        return known

    def lane(
        self: Any, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True, cert: Any = None,
        proxies: Any = None,
    ) -> Any:  # fmt: skip
        cassette = current()
        if cassette is not None and plain(type(self)):
            proxy = select_proxy(request.url, proxies) if proxies else None
            uri = None
            if not _acts_below_the_adapter(self, request, timeout, cert, proxy):
                uri = _stub_uri(request, verify, default_bundle)
            answer = None
            if uri is not None:
                answer = _vcr.urllib3_answer(cassette, request.method, uri, request.body, request.headers)
            if answer is not None:
                # What urllib3's pool sets on the response it returns (connectionpool._make_request).
                answer.retries = self.max_retries
                answer._connection = None
                answer._pool = None
                return self.build_response(request, answer)
        return requests_send(self, request, stream, timeout, verify, cert, proxies)

    return requests_send, lane
