"""The keywords a cassette takes, checked strictly: one table for ``use_cassette``, the marker and ``cfreplay_config``.

vcrpy takes any keyword and ignores what it does not know, so ``record_mod="once"`` or
``freeze=False`` used to be dropped without a word.  Here every keyword is one of:

* cfreplay's own (:data:`OWN`);
* a vcrpy cassette option cfreplay passes on (:data:`VCRPY`);
* a vcrpy option cfreplay refuses, with what to do instead (:data:`REFUSED`).

Anything else, and any value of the wrong type, raises :class:`cfreplay.OptionError`
(a ``TypeError``) naming the keyword and, for a typo, the keyword meant.  This module
imports neither vcrpy nor the sanitizer, so the pytest plugin can check a marker cheaply.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final

from cfreplay.errors import OptionError

__all__ = ["LOOPBACK", "MATCHERS", "OWN", "REFUSED", "VCRPY", "check", "hosts", "passthrough"]

#: cfreplay's own keywords, and what each is.
OWN: Final[Mapping[str, str]] = {
    "record_mode": "none (the default: replay only), once, new_episodes or all",
    "freeze_time": "freeze the clock at the recording instant while replaying (a bool)",
    "skip_sleep": "while the clock is frozen, sleeps return at once and move it on (a bool; False sleeps for real)",
    "allow_hosts": "hosts whose traffic goes to the network, never to the cassette (a host, 'a,b', or a list)",
    "serializer": "yaml or json",
    "assert_all_played": "fail when recorded interactions were never played (a bool)",
    "sanitizer": "a cfreplay.Sanitizer",
    "sanitize_config": "a cfreplay.SanitizeConfig",
    "extra_cassettes": "more cassettes to replay from (paths); only the first is recorded into",
}

#: vcrpy's cassette options that cfreplay passes on, and what each is.
VCRPY: Final[Mapping[str, str]] = {
    "match_on": "the matchers a request must pass, by name (a list)",
    "allow_playback_repeats": "a recording may answer more than once (a bool)",
    "drop_unused_requests": "with record_mode all, drop recordings not played again (a bool)",
    "record_on_exception": "save what was recorded when the block raises (a bool, default True)",
    "custom_patches": "more (object, attribute, stub) patches for vcrpy to apply",
    "skip_patchers": "vcrpy patchers to leave out, by name",
    "before_save_interaction": "function(s) given each (request, response, cassette) as it is saved; "
    "runs before cfreplay's sanitizing",
}

#: vcrpy's options cfreplay does not take, and what to do instead.
REFUSED: Final[Mapping[str, str]] = {
    "before_record_request": "it is cfreplay's (it sanitizes); use before_save_interaction instead",
    "before_record_response": "it is cfreplay's (it sanitizes); use before_save_interaction instead",
    "before_record": "it is cfreplay's (it sanitizes); use before_save_interaction instead",
    "filter_headers": "not needed: the sanitizer removes secret headers; name others in "
    "[tool.cfreplay.sanitize] headers",
    "filter_query_parameters": "not needed: the sanitizer removes secret query parameters; name others in "
    "[tool.cfreplay.sanitize] query-params",
    "filter_post_data_parameters": "not needed: the sanitizer removes secret form fields and JSON keys; name "
    "others in [tool.cfreplay.sanitize] form-fields or json-keys",
    "filter_nested_post_data_parameters": "not needed: the sanitizer reads nested JSON bodies",
    "filter_sensitive_data": "not needed: the sanitizer replaces secrets; add a pattern to "
    "[tool.cfreplay.sanitize] patterns",
    "decode_compressed_response": "not needed: cfreplay always stores compressed responses decoded",
    "ignore_hosts": "use allow_hosts (those hosts reach the network and are never recorded)",
    "ignore_localhost": "use allow_hosts=['localhost'] (which also covers 127.0.0.1 and ::1)",
    "additional_matchers": "list every matcher in match_on",
    "after_load_interaction": "not supported: cfreplay loads cassettes itself; edit the cassette instead",
    "persister": "not supported: cfreplay reads and writes cassettes itself (sanitized, scanned, atomic)",
    "path": "the cassette is the first argument (in pytest: the marker's first argument, or the test's name)",
    "path_transformer": "not needed: name the cassette's file as you want it",
    "func_path_generator": "not needed: name the cassette's file as you want it",
    "cassette_library_dir": "not needed: pass a path; in pytest, override the cfreplay_cassette_dir fixture",
    "inject_cassette": "not needed: use 'with use_cassette(...) as cassette', or the cfreplay_cassette fixture",
    "with_current_defaults": "not needed: every cassette reads its options when it is entered",
}

#: vcrpy's matchers, by the names match_on takes.
#: Every keyword use_cassette takes (a set: checked once per option of every cassette).
_EVERY_KEYWORD: Final = frozenset((*OWN, *VCRPY))
MATCHERS: Final = ("method", "uri", "url", "scheme", "host", "port", "path", "query", "headers", "raw_body", "body")

#: Names of this machine: allowing one allows them all.
LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_names(value: Any) -> bool:
    """A list or tuple of strings (a bare string would be read letter by letter)."""
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _is_hosts(value: Any) -> bool:
    return (
        isinstance(value, str)
        or _is_names(value)
        or (isinstance(value, (set, frozenset)) and all(isinstance(item, str) for item in value))
    )


def _is_paths(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, (str, os.PathLike)) for item in value)


def _is_patches(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, tuple) and len(item) == 3 for item in value)


def _is_hooks(value: Any) -> bool:
    return callable(value) or (isinstance(value, (list, tuple)) and all(callable(item) for item in value))


def _is_sanitizer(value: Any) -> bool:
    if value is None:
        return True
    from cfreplay.hygiene.sanitizer import Sanitizer  # loaded only when the keyword is given

    return isinstance(value, Sanitizer)


def _is_sanitize_config(value: Any) -> bool:
    if value is None:
        return True
    from cfreplay.hygiene.rules import SanitizeConfig

    return isinstance(value, SanitizeConfig)


#: Each keyword's type, as a check and as words for the message.
_TYPES: Final[Mapping[str, tuple[Callable[[Any], bool], str]]] = {
    "record_mode": (_is_str, "a string"),
    "freeze_time": (_is_bool, "True or False"),
    "skip_sleep": (_is_bool, "True or False"),
    "allow_hosts": (_is_hosts, "a host name, names separated by commas, or a list of names"),
    "serializer": (_is_str, "'yaml' or 'json'"),
    "assert_all_played": (_is_bool, "True or False"),
    "sanitizer": (_is_sanitizer, "a cfreplay.Sanitizer"),
    "sanitize_config": (_is_sanitize_config, "a cfreplay.SanitizeConfig"),
    "extra_cassettes": (_is_paths, "a list of paths"),
    "match_on": (_is_names, "a list of matcher names"),
    "allow_playback_repeats": (_is_bool, "True or False"),
    "drop_unused_requests": (_is_bool, "True or False"),
    "record_on_exception": (_is_bool, "True or False"),
    "custom_patches": (_is_patches, "a list of (object, attribute, replacement) tuples"),
    "skip_patchers": (_is_names, "a list of patcher names"),
    "before_save_interaction": (_is_hooks, "a function or a list of functions"),
}


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check(options: Mapping[str, Any], *, where: str, accepted: Collection[str] | None = None) -> None:
    """Raise :class:`cfreplay.OptionError` for the first keyword of *options* that is unknown or of the wrong type.

    *where* names the caller in the message (``use_cassette()``, ``@pytest.mark.cfreplay``);
    *accepted* narrows the keywords taken there (default: :data:`OWN` and :data:`VCRPY`).
    """
    taken = accepted if accepted is not None else _EVERY_KEYWORD
    for name, value in options.items():
        if name not in taken:
            if name in REFUSED:
                raise OptionError(f"{where}: {name} is not supported: {REFUSED[name]}")
            known = ", ".join(sorted(taken))
            hint = _suggestion(name, taken) or f" (it takes {known})"
            raise OptionError(f"{where}: unknown keyword {name!r}{hint}")
        if name not in _TYPES:
            continue
        is_right, expected = _TYPES[name]
        if not is_right(value):
            raise OptionError(f"{where}: {name} must be {expected}, not {type(value).__name__}")
        if name == "match_on":
            for matcher in value:
                if matcher not in MATCHERS:
                    hint = _suggestion(matcher, MATCHERS) or f" (vcrpy's are {', '.join(MATCHERS)})"
                    raise OptionError(f"{where}: match_on has an unknown matcher {matcher!r}{hint}")
        if name == "allow_hosts":
            hosts(value, where=where)


def hosts(value: str | Iterable[str], *, where: str = "allow_hosts") -> tuple[str, ...]:
    """Host names from one name, names separated by commas, or a list of names; lower-cased, blanks dropped."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise OptionError(f"{where}: allow_hosts holds {type(item).__name__}, not a host name")
        name = item.strip().lower()
        if "/" in name:
            raise OptionError(f"{where}: allow_hosts takes host names, not URLs ({item.strip()!r})")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def passthrough(allowed: Iterable[str]) -> frozenset[str]:
    """The host names whose traffic bypasses the cassette: *allowed*, with every loopback name if one is there."""
    names = frozenset(allowed)
    return names | LOOPBACK if names & LOOPBACK else names
