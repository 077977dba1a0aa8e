"""The sanitizer's cheap pre-check (``worth_a_look``) never hides a change a rule would make.

Replay leans on it: a live request whose URI holds no trigger word is matched without a
walk through the rules.  So for any text, the walk with the pre-check must give what the
walk without it gives.  The texts are built from the pieces secrets are made of (schemes,
userinfo, query pairs, escapes, token prefixes), so most of them hold a trigger and some
hold none.
"""

from __future__ import annotations

import secrets
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from cfreplay.hygiene.sanitizer import Sanitizer

_KEY = b"k" * 32
_PIECES = (
    "https://", "http://", "jdbc:postgresql://", "mongodb+srv://", "redis://", "amqp://", "ftp://",
    "api.sys.example.com", "127.0.0.1", ":8443", "/v2/apps/", "/restage", "/oauth/token", "/revoke/", "/codes/",
    "/", ":", "@", "%40", "%3A%2F%2F", "?", "&", "=", "#", ";", " ", "\n", "\\/", "\\u0040", "\\",
    "user", "admin", "pass", "password", "secret", "token", "access_token", "client_secret", "sig", "X-Amz-Signature",
    "bearer ", "Basic ", "-----BEGIN " + "PRIVATE KEY-----", "--password", "-Ddb.password", "eyJ", ".", "_", "-",
)  # fmt: skip


def _random_word() -> str:
    # Made at test time: no secret-looking string is committed in clear.
    return secrets.token_urlsafe(12)


_PIECE = st.one_of(
    st.sampled_from(_PIECES),
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
    st.builds(_random_word),
)
# URLs in the shapes secrets take in them: userinfo (an empty user too), query pairs, fragments.
_URL = st.builds(
    lambda scheme, userinfo, host, path, query: f"{scheme}{userinfo}{host}{path}{query}",
    st.sampled_from(("https://", "http://", "jdbc:postgresql://", "mongodb+srv://", "redis://", "amqp://")),
    st.one_of(
        st.just(""), st.builds(lambda user, password: f"{user}:{password}@", st.one_of(st.just(""), _PIECE), _PIECE)
    ),
    st.sampled_from(("api.sys.example.com", "uaa.sys.example.com", "127.0.0.1:8443", "db.internal:5432")),
    st.lists(_PIECE, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.one_of(
        st.just(""),
        st.lists(st.tuples(_PIECE, _PIECE), min_size=1, max_size=3).map(
            lambda pairs: "?" + "&".join(f"{name}={value}" for name, value in pairs)
        ),
    ),
)
_TEXT = st.lists(
    st.one_of(
        _URL,
        st.sampled_from(_PIECES),
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
        st.builds(_random_word),
        st.builds(lambda: "ghp_" + secrets.token_hex(18)),
        st.builds(lambda: "sk_live_" + secrets.token_hex(12)),
    ),
    min_size=1,
    max_size=12,
).map("".join)


def _without_precheck() -> Sanitizer:
    sanitizer = Sanitizer(key=_KEY)
    sanitizer._walker.always = True  # every text goes through every rule
    return sanitizer


_CHECKED = Sanitizer(key=_KEY)
_UNCHECKED = _without_precheck()


@settings(max_examples=1500, deadline=None)
@given(_TEXT)
def test_the_precheck_hides_no_change(text: str) -> None:
    seen: list[tuple[str, str]] = []
    expected = _UNCHECKED.sanitize_text(text, lambda where, rule: seen.append((where, rule)))
    noted: list[tuple[str, str]] = []
    assert _CHECKED.sanitize_text(text, lambda where, rule: noted.append((where, rule))) == expected
    assert noted == seen


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_a_uri_the_precheck_passes_matches_as_it_is(text: str) -> None:
    """What replay relies on: a live URI with nothing to look at is its own sanitized form."""
    uri = "https://api.sys.example.com/v2/apps/" + text
    if not _CHECKED.may_hold_secrets((), (uri,)):
        assert _UNCHECKED.sanitize_text(uri) == uri


def test_a_plain_api_uri_needs_no_walk() -> None:
    """A CC URI with no query, no userinfo and no token in its path holds no trigger (replay skips the walk)."""
    uri = "https://api.sys.example.com/v2/apps/6064d98a-95e6-400b-bc03-be65e6d59622/restage"
    assert not _CHECKED.may_hold_secrets((), (uri,))
    assert _CHECKED.may_hold_secrets((), (uri + "?access_token=" + _random_word(),))
    assert _CHECKED.may_hold_secrets((), ("https://admin:" + _random_word() + "@api.sys.example.com/v2/info",))
