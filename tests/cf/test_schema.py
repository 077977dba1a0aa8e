"""validate() and the generated JSON Schema; error text word for word."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import cfreplay
from cfreplay.cf import factories


@pytest.fixture
def app() -> dict[str, Any]:
    # The documented era: its fields and enums are the ones these messages name.
    return factories.app_envelope(seed=5, api_version="2.43")


def broken(app: dict[str, Any], where: str, key: str, value: Any) -> dict[str, Any]:
    app = copy.deepcopy(app)
    app[where][key] = value
    return app


@pytest.mark.parametrize(
    ("where", "key", "value", "message"),
    [
        ("entity", "memory", "1G", "entity.memory: expected integer, got string '1G' (API 2.43.0)"),
        ("entity", "memory", True, "entity.memory: expected integer, got boolean True (API 2.43.0)"),
        ("entity", "memory", 0, "entity.memory: 0 is below the minimum 1 (API 2.43.0)"),
        ("entity", "name", None, "entity.name: expected string, got null None (API 2.43.0)"),
        ("entity", "buildpack", 3, "entity.buildpack: expected string or null, got integer 3 (API 2.43.0)"),
        ("entity", "state", "RUNNING", "entity.state: 'RUNNING' is not one of 'STARTED', 'STOPPED' (API 2.43.0)"),
        (
            "entity",
            "health_check_type",
            "http",
            "entity.health_check_type: 'http' is not one of 'port', 'none' (that value needs API 2.66.0 or later)"
            " (API 2.43.0)",
        ),
        ("entity", "ports", [8080, 70000], "entity.ports[1]: 70000 is above the maximum 65535 (API 2.43.0)"),
        ("entity", "colour", "red", "entity.colour: unknown field; not part of the v2 app envelope (API 2.43.0)"),
        (
            "entity",
            "log_rate_limit",
            -1,
            "entity.log_rate_limit: not in this API version; introduced in 2.190.0 (API 2.43.0)",
        ),
        ("metadata", "guid", "APP-1", "metadata.guid: 'APP-1' is not a lowercase guid (API 2.43.0)"),
        (
            "metadata",
            "created_at",
            "2015-11-03 00:54:16",
            "metadata.created_at: '2015-11-03 00:54:16' is not an ISO-8601 UTC timestamp like 2015-11-03T00:54:16Z"
            " (API 2.43.0)",
        ),
    ],
)
def test_errors_name_the_field_and_why(app: dict[str, Any], where: str, key: str, value: Any, message: str) -> None:
    with pytest.raises(cfreplay.SchemaError) as raised:
        cfreplay.validate(broken(app, where, key, value), "2.43")
    assert str(raised.value) == message
    assert raised.value.field == message.split(":")[0]


def test_missing_fields_and_removed_fields(app: dict[str, Any]) -> None:
    del app["entity"]["enable_ssh"]
    with pytest.raises(cfreplay.SchemaError) as raised:
        cfreplay.validate(app, "2.43")
    assert str(raised.value) == "entity.enable_ssh: missing; this API version requires it (API 2.43.0)"
    modern = factories.app_envelope(api_version="2.100")
    modern["entity"]["docker_credentials_json"] = {"redacted_message": "[PRIVATE DATA HIDDEN]"}
    with pytest.raises(cfreplay.SchemaError) as raised:
        cfreplay.validate(modern, "2.100")
    assert str(raised.value) == (
        "entity.docker_credentials_json: not in this API version; removed in 2.82.0 (API 2.100.0)"
    )


def test_the_first_field_in_presenter_order_is_reported(app: dict[str, Any]) -> None:
    app["entity"]["ports"] = "8080"
    app["entity"]["name"] = 1
    with pytest.raises(cfreplay.SchemaError, match=r"^entity\.name:"):
        cfreplay.validate(app, "2.43")


def test_not_an_envelope(app: dict[str, Any]) -> None:
    with pytest.raises(cfreplay.SchemaError) as raised:
        cfreplay.validate([])
    assert str(raised.value) == "envelope: expected object, got array [] (API 2.293.0)"  # the default era
    with pytest.raises(cfreplay.SchemaError) as raised:
        cfreplay.validate({"metadata": app["metadata"]})
    assert str(raised.value) == "entity: missing; this API version requires it (API 2.293.0)"


def test_updated_at_may_be_null_only_in_old_eras() -> None:
    old = factories.app_envelope(api_version="2.43", updated_at=None)
    cfreplay.validate(old, "2.43")
    with pytest.raises(cfreplay.SchemaError, match=r"^metadata\.updated_at: expected string, got null"):
        factories.app_envelope(api_version="2.65", updated_at=None)


def test_the_schema_is_a_valid_draft_2020_12_schema_and_a_copy() -> None:
    schema = cfreplay.app_schema("2.293")
    Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Cloud Controller v2 app envelope, API 2.293.0"
    assert "docker_credentials" in schema["properties"]["entity"]["required"]
    assert "space_url" not in schema["properties"]["entity"]["required"]
    schema["properties"].clear()
    assert cfreplay.app_schema("2.293")["properties"]  # callers cannot corrupt the cache
    assert cfreplay.app_schema()["properties"]["entity"]["properties"]["memory"]["default"] == 1024


def test_validate_accepts_the_api_version_type() -> None:
    app = factories.app_envelope(api_version="2.150")
    cfreplay.validate(app, cfreplay.ApiVersion(2, 150, 0))
    with pytest.raises(cfreplay.SchemaError):
        cfreplay.validate(app)  # default era 2.43 has no docker_credentials
