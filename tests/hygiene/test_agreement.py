"""The scanner is the sanitizer's proof: one rule table, and the two tools agree on every file.

For cassettes built from :mod:`tests.leaks` (every place the rule table knows, in YAML
and JSON, plain and gzip/deflate/br/zstd-encoded bodies, with clean traffic around):

* ``scan`` flags every planted secret, by the rule and at the place the plant names;
* what ``scan`` reports is exactly what ``sanitize`` changes (interaction, rule, place);
* after ``sanitize``, ``scan`` and ``sanitize --check`` are both clean, no planted
  secret survives in any decoding of the bytes, and a second ``sanitize`` changes no byte.
"""

from __future__ import annotations

import copy
import json
import random
import re
import urllib.parse
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from leaks import PLANT_NAMES, PLANTS, Plant, Secrets, exchange

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.hygiene import bodies, redaction
from cfreplay.hygiene.sanitizer import Sanitizer
from cfreplay.hygiene.scanner import Finding, scan_text

CODINGS = ("", "gzip", "deflate", "br", "zstd")


def clean_traffic(seed: int) -> dict[str, Any]:
    """An interaction with nothing secret in it: a factories app and a published-key token."""
    app = factories.app_envelope(seed=seed)
    return exchange(
        uri=f"https://api.sys.example.com/v2/apps/{app['metadata']['guid']}",
        request_headers={"Authorization": [f"bearer {factories.access_token(seed=seed)}"]},
        body=json.dumps(app, indent=2),
    )


def build(plants: list[Plant], fmt: cassette.Format, codings: list[str], noise: int) -> dict[str, Any]:
    interactions: list[dict[str, Any]] = []
    data: dict[str, Any] = {"interactions": interactions, "version": 1}
    rng = random.Random(noise)
    for plant, coding in zip(plants, codings, strict=True):
        for _ in range(rng.randrange(noise + 1)):
            interactions.append(clean_traffic(len(interactions)))
        interaction = copy.deepcopy(plant.interaction)
        if coding and fmt == "yaml" and plant.body_side:
            encode(interaction, plant.body_side, coding)
        interactions.append(interaction)
        data.update(plant.top_level)
    return data


def encode(interaction: dict[str, Any], side: str, coding: str) -> None:
    data = interaction[side]
    body = data["body"] if side == "request" else data["body"]["string"]
    raw = body.encode("utf-8") if isinstance(body, str) else body
    encoded = bodies.encode(raw, (coding,))
    data["headers"]["Content-Encoding"] = [coding]
    if side == "request":
        data["body"] = encoded
    else:
        data["body"]["string"] = encoded


def where(finding_location: str) -> str:
    return re.sub(r" \(.*\)$", "", finding_location)


def scanned(text: str, fmt: str) -> set[tuple[int | None, str, str]]:
    return {(f.interaction, f.rule, where(f.location)) for f in scan_text(text, path=f"c.{fmt}")}


def changed(data: dict[str, Any], sanitizer: Sanitizer) -> set[tuple[int | None, str, str]]:
    report = sanitizer.sanitize_data(data)
    return {(c.interaction, c.rule, c.location) for c in report.changes}


def views(raw: bytes) -> list[str]:
    """The written bytes and what a reader could decode them to."""
    text = raw.decode("utf-8", "replace")
    found = [text, urllib.parse.unquote(text), text.replace("\\/", "/")]
    found.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text))
    loaded = cassette.loads(raw, path="x.yaml" if not text.lstrip().startswith("{") else "x.json")
    for interaction in loaded.interactions:
        for side in ("request", "response"):
            data = interaction[side]
            body = data.get("body") if side == "request" else data["body"]["string"]
            if isinstance(body, (bytes, str)) and body:
                plain = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
                codings = bodies.content_encoding(data.get("headers"))
                decoded = bodies.decode(plain, codings) if codings else None
                found.append((decoded.data if decoded else plain).decode("latin-1"))
    return found


#: Ways other tools (and people) write the same cassette: narrow folding, every scalar
#: quoted, wider indents, flow style, raw unicode; compact or indented JSON.
STYLES: dict[str, dict[str, Any]] = {
    "vcrpy": {},
    "narrow": {"width": 24},
    "double-quoted": {"default_style": '"'},
    "single-quoted": {"default_style": "'", "width": 40},
    "indented": {"indent": 4},
    "flow": {"default_flow_style": True},
    "unicode": {"allow_unicode": True, "width": 60},
    "json-compact": {"separators": (",", ":")},
    "json-indent-2": {"indent": 2, "ensure_ascii": False},
}


def dumped(data: dict[str, Any], fmt: cassette.Format, style: str) -> bytes:
    options = STYLES[style]
    if style == "vcrpy":
        return cassette.dumps(data, fmt)
    if fmt == "json":
        if not style.startswith("json"):
            return cassette.dumps(data, fmt)
        return json.dumps(data, **options).encode("utf-8")
    if style.startswith("json"):
        return cassette.dumps(data, fmt)
    return yaml.dump(data, Dumper=yaml.CSafeDumper, **options).encode("utf-8")


def check(plants: list[Plant], fmt: cassette.Format, codings: list[str], noise: int = 0, style: str = "vcrpy") -> None:
    data = build(plants, fmt, codings, noise)
    raw = dumped(data, fmt, style)
    text = raw.decode("utf-8")
    found = scanned(text, fmt)
    sanitizer = Sanitizer(key=b"k" * 32)
    loaded = cassette.loads(raw, path=f"c.{fmt}").data
    would_change = changed(copy.deepcopy(loaded), sanitizer)

    # 1. every planted secret is flagged, by its rule, where it is.
    index = 0
    for plant in plants:
        while index < len(data["interactions"]) and data["interactions"][index] is not None:
            if data["interactions"][index]["request"]["uri"] == plant.interaction["request"]["uri"] and (
                data["interactions"][index]["request"]["method"] == plant.interaction["request"]["method"]
            ):
                break
            index += 1
        expected = (None if plant.top_level else index, plant.rule, plant.location)
        assert expected in found, f"scan missed {expected}: {sorted(found, key=str)}"
        index += 1
    # 2. the scanner reports exactly what the sanitizer changes.
    assert found == would_change, f"scan only: {found - would_change}; sanitize only: {would_change - found}"
    # 3. after sanitizing: both clean, nothing left, and stable.
    report = sanitizer.sanitize_data(loaded)
    assert report
    cleaned = cassette.dumps(loaded, fmt)
    assert scan_text(cleaned.decode("utf-8"), path=f"c.{fmt}") == []
    again = cassette.loads(cleaned, path=f"c.{fmt}").data
    assert not Sanitizer(key=b"other" * 7).sanitize_data(again)
    assert cassette.dumps(again, fmt) == cleaned
    seen = views(cleaned)
    for plant in plants:
        for secret in plant.secrets:
            for view in seen:
                assert secret not in view, f"{secret[:4]}… survived sanitizing"


@pytest.mark.parametrize("name", PLANT_NAMES)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_each_plant_alone(name: str, fmt: cassette.Format) -> None:
    plant = PLANTS[name](Secrets())
    if plant.yaml_only and fmt == "json":
        pytest.skip("vcrpy's JSON cannot hold a body that is not UTF-8")
    check([plant], fmt, [""])


@pytest.mark.parametrize("name", PLANT_NAMES)
@pytest.mark.parametrize("style", sorted(set(STYLES) - {"vcrpy"}))
def test_each_plant_in_other_styles(name: str, style: str) -> None:
    plant = PLANTS[name](Secrets())
    fmt: cassette.Format = "json" if style.startswith("json") else "yaml"
    if plant.yaml_only and fmt == "json":
        pytest.skip("vcrpy's JSON cannot hold a body that is not UTF-8")
    check([plant], fmt, [""], style=style)


@pytest.mark.parametrize("name", [n for n in PLANT_NAMES if PLANTS[n](Secrets()).body_side])
@pytest.mark.parametrize("coding", CODINGS[1:])
def test_each_body_plant_compressed(name: str, coding: str) -> None:
    check([PLANTS[name](Secrets())], "yaml", [coding])


@given(
    names=st.lists(st.sampled_from(PLANT_NAMES), min_size=1, max_size=5),
    fmt=st.sampled_from(["yaml", "json"]),
    codings=st.lists(st.sampled_from(CODINGS), min_size=5, max_size=5),
    noise=st.integers(0, 2),
    seed=st.binary(min_size=8, max_size=8),
    style=st.sampled_from(sorted(STYLES)),
)
def test_generated_cassettes(
    names: list[str], fmt: cassette.Format, codings: list[str], noise: int, seed: bytes, style: str
) -> None:
    rng = random.Random(seed)
    source = Secrets(lambda n: rng.randbytes(n))
    plants = [PLANTS[name](source) for name in names]
    if fmt == "json":
        plants = [plant for plant in plants if not plant.yaml_only] or [PLANTS["cookies"](source)]
    check(plants, fmt, codings[: len(plants)], noise, style)


def test_clean_traffic_is_clean_for_both() -> None:
    data = {"interactions": [clean_traffic(seed) for seed in range(5)], "version": 1}
    for fmt in ("yaml", "json"):
        text = cassette.dumps(data, fmt).decode()
        assert scan_text(text, path=f"c.{fmt}") == []
        assert not Sanitizer().sanitize_data(copy.deepcopy(data))


def test_a_finding_never_shows_the_secret() -> None:
    for name in PLANT_NAMES:
        plant = PLANTS[name](Secrets())
        text = cassette.dumps(build([plant], "yaml", [""], 0), "yaml").decode()
        for finding in scan_text(text, path="c.yaml"):
            assert isinstance(finding, Finding)
            assert finding.masked in ("…", "eyJ…") or len(finding.masked) == 3
            for secret in plant.secrets:
                assert secret[:3] not in finding.masked or finding.masked == "eyJ…"
    assert redaction.mask("cookie", "abcdefghijklmnop") == "ab…"
