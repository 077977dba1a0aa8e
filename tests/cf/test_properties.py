"""Property tests: any seed and any valid overrides validate; invalid overrides name the field."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given

import cfreplay
from cfreplay.cf import cfapi, factories
from cfreplay.cf.cfapi import ApiVersion, Field

VERSIONS = st.sampled_from(["2.8", "2.30", "2.43", "2.70", "2.83", "2.150", "2.200", "2.250", "2.293"])
GUIDS = st.uuids(version=4).map(str)
# Written as CC of the era writes them (cfapi.timestamp: +00:00 before 2.21, Z since).
MOMENTS = st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1), timezones=st.just(UTC))


def valid_value(field: Field, version: ApiVersion) -> st.SearchStrategy[Any]:
    """Values the schema of *version* accepts for *field*, derived from the model alone."""
    allowed = field.allowed_values(version)
    if allowed is not None:
        base: st.SearchStrategy[Any] = st.sampled_from(allowed)
    elif field.format == "guid":
        base = GUIDS
    elif field.format == "timestamp":
        base = MOMENTS.map(lambda moment: cfapi.timestamp(moment, version))
    elif field.format == "path":
        base = st.text(alphabet="abc/-", max_size=8).map(lambda s: "/v2/" + s)
    elif field.shape is not None:
        base = st.fixed_dictionaries({k: st.text(max_size=5) for k in field.shape})
    elif field.json_type == "string":
        base = st.text(max_size=20)
    elif field.json_type == "boolean":
        base = st.booleans()
    elif field.json_type == "integer":
        base = st.integers(min_value=field.minimum if field.minimum is not None else -(2**31), max_value=2**31)
    elif field.json_type == "array":
        base = st.lists(
            st.integers(min_value=field.item_minimum or 0, max_value=field.item_maximum or 2**31), max_size=3
        )
    else:
        base = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3)
    return base | st.none() if field.nullable else base


@st.composite
def overrides(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    version = draw(VERSIONS)
    v = ApiVersion.parse(version)
    fields = [f for f in cfapi.app_fields(v) if f.name != "docker_credentials_json"] + list(cfapi.METADATA_FIELDS)
    if v < cfapi.UPDATED_AT_NOT_NULL_SINCE:
        pass
    else:
        fields = [f for f in fields if f.name != "updated_at"]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=6, unique_by=lambda f: f.name))
    return version, {f.name: draw(valid_value(f, v)) for f in chosen}


@given(seed=st.integers(min_value=0, max_value=2**64), case=overrides())
def test_any_seed_and_any_valid_overrides_validate(seed: int, case: tuple[str, dict[str, Any]]) -> None:
    version, values = case
    app = factories.app_envelope(api_version=version, seed=seed, **values)
    cfreplay.validate(app, version)
    for key, value in values.items():
        where = "metadata" if key in {f.name for f in cfapi.METADATA_FIELDS} else "entity"
        assert app[where][key] == value
    cfreplay.validate(factories.restage_response(app, api_version=version, seed=seed).json(), version)


@given(seed=st.integers(min_value=0), traits=st.lists(st.sampled_from(factories.TRAITS), max_size=4), version=VERSIONS)
def test_any_trait_combination_validates_or_is_refused_clearly(seed: int, traits: list[str], version: str) -> None:
    try:
        app = factories.app_envelope(*traits, api_version=version, seed=seed)
    except cfreplay.SchemaError as error:
        assert error.field == "traits"
        return
    cfreplay.validate(app, version)


WRONG_TYPES = {
    "string": st.integers() | st.booleans() | st.lists(st.integers(), max_size=1),
    "integer": st.text(max_size=5) | st.booleans() | st.floats(allow_nan=False),
    "boolean": st.integers() | st.text(max_size=5) | st.none(),
    "array": st.text(max_size=5) | st.integers() | st.booleans(),
    "object": st.text(max_size=5) | st.integers() | st.lists(st.integers(), max_size=1),
}


@given(data=st.data(), version=VERSIONS)
def test_a_wrong_type_is_refused_naming_the_field(data: st.DataObject, version: str) -> None:
    v = ApiVersion.parse(version)
    field = data.draw(st.sampled_from(cfapi.app_fields(v)))
    value = data.draw(WRONG_TYPES[field.json_type].filter(lambda x: not (field.nullable and x is None)))
    with pytest.raises(cfreplay.SchemaError) as raised:
        factories.app_envelope(api_version=version, **{field.name: value})
    assert raised.value.field.startswith(f"entity.{field.name}")
    assert str(raised.value).startswith(f"entity.{field.name}")


@given(name=st.from_regex(r"[a-z][a-z_]{2,20}", fullmatch=True), version=VERSIONS)
def test_an_unknown_field_is_refused_naming_it(name: str, version: str) -> None:
    v = ApiVersion.parse(version)
    if name in {f.name for f in cfapi.app_fields(v)} | {f.name for f in cfapi.METADATA_FIELDS}:
        return
    if name in {f.name for f in cfapi.APP_FIELDS}:  # a field of another era: when it came or went
        with pytest.raises(cfreplay.SchemaError) as raised:
            factories.app_envelope(api_version=version, **{name: "x"})
        assert raised.value.field == f"entity.{name}"
        return
    with pytest.raises(cfreplay.UnknownNameError) as unknown:  # no era has it: a typo
        factories.app_envelope(api_version=version, **{name: "x"})
    assert unknown.value.name == name and unknown.value.kind == "app field"


@given(data=st.data(), version=VERSIONS)
def test_a_bad_enum_value_is_refused_naming_the_field(data: st.DataObject, version: str) -> None:
    v = ApiVersion.parse(version)
    enums = [f for f in cfapi.app_fields(v) if f.enum is not None]
    field = data.draw(st.sampled_from(enums))
    value = data.draw(st.text(min_size=1, max_size=12).filter(lambda x: x not in (field.allowed_values(v) or ())))
    with pytest.raises(cfreplay.SchemaError) as raised:
        factories.app_envelope(api_version=version, **{field.name: value})
    assert raised.value.field == f"entity.{field.name}"
    assert "is not one of" in raised.value.reason


@given(seed=st.integers(min_value=0), version=VERSIONS)
def test_lists_and_errors_stay_consistent(seed: int, version: str) -> None:
    total = seed % 230
    page = 1 + seed % 5
    listing = factories.list_page(total_results=total, page=page, api_version=version, seed=seed)
    assert listing["total_pages"] == max(1, -(-total // 50))
    assert len(listing["resources"]) == max(0, min(50, total - (page - 1) * 50))
    assert (listing["next_url"] is None) == (page >= listing["total_pages"])
