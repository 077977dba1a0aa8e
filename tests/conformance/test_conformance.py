"""Conformance: real public Cloud Controller v2 documents against cfreplay's model of their era.

Every document in ``documents/`` is listed in ``manifest.json`` with its source (repository,
path, commit or release), the CC API version it represents and how that is known
(SOURCES.md explains the method).  Each is checked at its era:

* app resources, restage 201 bodies and list pages with :func:`cfreplay.validate`;
* error bodies, ``/v2/info`` and ``GET /`` against the factories of the era (key set, key
  order, value types), as cfreplay has no validator for them;
* every restage 201 against ``factories.restage_response`` and ``factories.app_envelope``
  of its era: the same metadata keys and entity fields, in the same order.

Documents that are not a faithful picture of one era are not skipped: hand-edited fixtures
that mix eras carry a ``mixed`` entry naming every field that does not belong to the base
era (and the era it belongs to), hand-placed fields an ``order_deviations`` entry, and
conditional keys CC left out an ``absent_conditional`` entry.  The tests check that the
listed differences are exactly the differences, so a stale list fails too.

A failure here is a disagreement between cfreplay's model and a real document: check the
era attribution in the manifest first, then fix the model, never the document.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import cfreplay
from cfreplay import factories
from cfreplay.cf import cfapi
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.schema import check_field
from cfreplay.errors import UnknownNameError

HERE = Path(__file__).parent
MANIFEST: dict[str, Any] = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
DOCUMENTS: list[dict[str, Any]] = MANIFEST["documents"]
KINDS = ("app", "app_list", "restage_201", "error", "info", "root")


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in entries]


def _load(entry: dict[str, Any]) -> Any:
    """The document as parsed JSON; dicts keep the document's key order."""
    return json.loads((HERE / entry["file"]).read_bytes())


def _era(entry: dict[str, Any]) -> ApiVersion:
    return ApiVersion.parse(entry["era"])


def _fail(entry: dict[str, Any], problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{entry['id']} (API {entry['era']}): " + "; ".join(problems), pytrace=False)


def _deviating(entry: dict[str, Any]) -> set[str]:
    return set(entry.get("order_deviations", {}).get("fields", ()))


def _order_problems(entry: dict[str, Any], what: str, got: list[str], expected: list[str]) -> list[str]:
    """*got* must list the keys *expected* has in common with it in *expected*'s order.

    Keys listed in the entry's ``order_deviations`` are left out of the comparison; they
    must still be misplaced, or the listing is stale.
    """
    deviating = _deviating(entry)
    common = [k for k in got if k in expected]
    want = [k for k in expected if k in got]
    problems = []
    if [k for k in common if k not in deviating] != [k for k in want if k not in deviating]:
        problems.append(f"{what} order {common} != {want}")
    elif deviating & set(common) and common == want:
        problems.append(f"{what}: order_deviations {sorted(deviating)} are listed but the order now agrees; drop them")
    return problems


# --------------------------------------------------------------------------- the manifest


def test_manifest_lists_every_document_with_its_source_and_era() -> None:
    files = {p.name for p in (HERE / "documents").iterdir()}
    listed = {Path(entry["file"]).name for entry in DOCUMENTS}
    assert files == listed, f"unlisted: {sorted(files - listed)}, missing: {sorted(listed - files)}"
    assert len(_ids(DOCUMENTS)) == len(set(_ids(DOCUMENTS)))
    for entry in DOCUMENTS:
        assert entry["kind"] in KINDS, entry["id"]
        ApiVersion.parse(entry["era"])
        source = entry["source"]
        assert source.get("repo") or source.get("url"), entry["id"]
        assert source.get("commit") or source.get("release"), entry["id"]
        assert entry["era_evidence"] and entry["copy"], entry["id"]
        if "mixed" in entry:
            assert entry["mixed"]["why"], entry["id"]
        if "order_deviations" in entry:
            assert entry["order_deviations"]["fields"] and entry["order_deviations"]["why"], entry["id"]


def test_sources_md_names_every_document() -> None:
    text = (HERE / "SOURCES.md").read_text(encoding="utf-8")
    assert [i for i in _ids(DOCUMENTS) if f"`{i}`" not in text] == []


def test_the_suite_spans_several_eras() -> None:
    restage_eras = {entry["era"] for entry in DOCUMENTS if entry["kind"] == "restage_201" and "mixed" not in entry}
    assert len(DOCUMENTS) >= 10
    assert len(restage_eras) >= 3


# --------------------------------------------------------------------------- app resources


def _validate_app(env: Any, entry: dict[str, Any]) -> None:
    """``cfreplay.validate`` at the era (and at both ends of an ``era_range``), or the mixed-era check."""
    if "mixed" in entry:
        _check_mixed_app(env, entry)
        return
    eras = [entry["era"], *entry.get("era_range", ())]
    for era in dict.fromkeys(eras):
        cfreplay.validate(env, era)


def _check_mixed_app(env: dict[str, Any], entry: dict[str, Any]) -> None:
    """A hand-edited app: its fields differ from the base era by exactly the listed mixing.

    Each value is then checked against the field's schema in the era the field belongs to
    (``field_eras``; the base era for the rest), metadata at the base era.
    """
    mixed = entry["mixed"]
    base = ApiVersion.parse(mixed["base_era"])
    entity = env["entity"]
    model = [f.name for f in cfapi.app_fields(base, links=True)]
    required = [f.name for f in cfapi.app_fields(base)]
    extra = sorted(k for k in entity if k not in model)
    missing = sorted(k for k in required if k not in entity)
    problems = []
    if extra != sorted(mixed["extra"]):
        problems.append(f"fields outside API {base}: {extra}, listed: {sorted(mixed['extra'])}")
    if missing != sorted(mixed["missing"]):
        problems.append(f"fields of API {base} missing: {missing}, listed: {sorted(mixed['missing'])}")
    if set(env) != {"metadata", "entity"}:
        problems.append(f"envelope keys {sorted(env)}")
    for name, value in env["metadata"].items():
        try:
            check_field(name, value, base, where="metadata")
        except cfreplay.SchemaError as e:
            problems.append(str(e))
    for name, value in entity.items():
        era = ApiVersion.parse(mixed.get("field_eras", {}).get(name, base))
        try:
            check_field(name, value, era)
        except cfreplay.SchemaError as e:
            problems.append(str(e))
    _fail(entry, problems)
    if not extra and not missing:
        cfreplay.validate(env, base)


APP_DOCS = [e for e in DOCUMENTS if e["kind"] in ("app", "restage_201")]


@pytest.mark.parametrize("entry", APP_DOCS, ids=_ids(APP_DOCS))
def test_app_document_validates_at_its_era(entry: dict[str, Any]) -> None:
    _validate_app(_load(entry), entry)


MIXED_LABELLED = [e for e in DOCUMENTS if "labelled_era" in e.get("mixed", {})]


@pytest.mark.parametrize("entry", MIXED_LABELLED, ids=_ids(MIXED_LABELLED))
def test_a_document_labelled_with_a_later_era_really_is_not_of_it(entry: dict[str, Any]) -> None:
    """The mixing claim itself: at the era the publisher labels it with, the document is invalid."""
    with pytest.raises(cfreplay.SchemaError):
        cfreplay.validate(_load(entry), entry["mixed"]["labelled_era"])


LISTS = [e for e in DOCUMENTS if e["kind"] == "app_list"]
_PAGE_URL = re.compile(r"^/v2/apps\?(?:[a-z-]+=[^&]*&)*[a-z-]+=[^&]*$")


@pytest.mark.parametrize("entry", LISTS, ids=_ids(LISTS))
def test_list_page_validates_at_its_era(entry: dict[str, Any]) -> None:
    page = _load(entry)
    fake_values = entry.get("mixed", {}).get("values", {})
    problems = []
    if list(page) != list(cfapi.LIST_KEYS):
        problems.append(f"list keys {list(page)} != {list(cfapi.LIST_KEYS)}")
    for key in ("total_results", "total_pages"):
        if not isinstance(page.get(key), int) or page[key] < (1 if key == "total_pages" else len(page["resources"])):
            problems.append(f"{key} {page.get(key)!r}")
    for key in ("prev_url", "next_url"):
        value = page.get(key)
        if value is not None and key not in fake_values and not _PAGE_URL.match(value):
            problems.append(f"{key} {value!r} is not a /v2/apps page link")
    _fail(entry, problems)
    assert page["resources"], "a list fixture keeps at least one resource"
    for resource in page["resources"]:
        _validate_app(resource, entry)


# --------------------------------------------------------------------------- the restage 201 against the factories


def _optional_fields(entry: dict[str, Any]) -> set[str]:
    """Fields the model lets a document of the entry's era leave out (``cfapi.Field.optional_in``).

    An earlier release reporting the same version lacked them (``diego``: cf-release v198/v199
    and v200-v202 all report 2.22.0); the factories write them.
    """
    era = ApiVersion.parse(entry.get("mixed", {}).get("base_era", entry["era"]))
    return {f.name for f in cfapi.app_fields(era, links=True) if f.optional_in(era)}


def _entity_order_problems(entry: dict[str, Any], what: str, got: list[str], expected: list[str]) -> list[str]:
    mixed = entry.get("mixed")
    problems = []
    if mixed is None:
        document_only = set(got) - set(expected)
        factory_only = set(expected) - set(got) - _optional_fields(entry)
        if document_only or factory_only:
            problems.append(
                f"{what} field set differs: document only {sorted(document_only)}, factory only {sorted(factory_only)}"
            )
    else:
        extra, missing = set(mixed["extra"]), set(mixed["missing"])
        if set(got) != (set(expected) - missing) | extra:
            problems.append(
                f"{what} field set is not the base era's with the listed mixing: document only "
                f"{sorted(set(got) - set(expected) - extra)}, factory only {sorted(set(expected) - set(got) - missing)}"
            )
        got = [k for k in got if k not in extra]
    return problems + _order_problems(entry, what, got, expected)


RESTAGES = [e for e in DOCUMENTS if e.get("compare_factory")]


@pytest.mark.parametrize("entry", RESTAGES, ids=_ids(RESTAGES))
def test_restage_factory_of_the_era_has_the_same_fields_in_the_same_order(entry: dict[str, Any]) -> None:
    document = _load(entry)
    era = entry.get("mixed", {}).get("base_era", entry["era"])
    response = factories.restage_response(api_version=era, seed=13)
    body = json.loads(response.body)
    envelope = factories.app_envelope(api_version=era, seed=13)
    problems = []
    if list(document) != list(body):
        problems.append(f"envelope keys {list(document)} != {list(body)}")
    if list(document["metadata"]) != list(body["metadata"]):
        problems.append(f"metadata keys {list(document['metadata'])} != {list(body['metadata'])}")
    got = list(document["entity"])
    problems += _entity_order_problems(entry, "restage_response", got, list(body["entity"]))
    problems += _entity_order_problems(entry, "app_envelope", got, list(envelope["entity"]))
    _fail(entry, problems)


def test_documents_of_one_era_differ_only_in_fields_the_model_holds_optional_there() -> None:
    """Two releases can report one version with different fields; the model must say which (and only those)."""
    by_era: dict[str, list[dict[str, Any]]] = {}
    for entry in APP_DOCS:
        if "mixed" not in entry:
            by_era.setdefault(entry["era"], []).append(entry)
    problems = []
    for era, entries in by_era.items():
        fields = [set(_load(entry)["entity"]) - {f.name for f in cfapi.APP_FIELDS if f.link} for entry in entries]
        differing = set.union(*fields) - set.intersection(*fields)
        if differing - _optional_fields(entries[0]):
            problems.append(
                f"API {era}: documents differ in {sorted(differing)}, optional: {_optional_fields(entries[0])}"
            )
    assert problems == []
    assert by_era["2.22.0"] and _optional_fields(by_era["2.22.0"][0]) == {"diego"}


# --------------------------------------------------------------------------- GET and list field order


GETS = [e for e in DOCUMENTS if e["kind"] in ("app", "app_list") and "mixed" not in e]


@pytest.mark.parametrize("entry", GETS, ids=_ids(GETS))
def test_get_resources_have_the_factory_order_of_the_era(entry: dict[str, Any]) -> None:
    """GET and list resources carry the relation links; their order is the factory's too."""
    document = _load(entry)
    resources = document["resources"] if entry["kind"] == "app_list" else [document]
    expected = list(factories.app_envelope(api_version=entry["era"], seed=13, links=True)["entity"])
    problems = []
    for resource in resources:
        problems += _order_problems(entry, "entity", list(resource["entity"]), expected)
    _fail(entry, problems)


# --------------------------------------------------------------------------- error bodies


ERRORS = [e for e in DOCUMENTS if e["kind"] == "error"]


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace(re.escape("%s"), ".*") + "$", re.S)


@pytest.mark.parametrize("entry", ERRORS, ids=_ids(ERRORS))
def test_error_body_has_the_envelope_of_its_era(entry: dict[str, Any]) -> None:
    document = _load(entry)
    version = _era(entry)
    problems = []
    types = {"code": int, "description": str, "error_code": str}
    if set(document) != set(types):
        problems.append(f"keys {sorted(document)} != {sorted(types)}")
    problems += [f"{k} is not {t.__name__}" for k, t in types.items() if not isinstance(document.get(k), t)]
    name = str(document.get("error_code", ""))
    try:
        error = cfapi.catalog_error(name)
    except UnknownNameError:
        error = None
    if error is not None:
        expected = json.loads(factories.error_response(name, api_version=version, seed=13).body)
        if document.get("code") != error.code:
            problems.append(f"code {document.get('code')} != catalog {error.code}")
        if not _template_pattern(error.template).match(str(document.get("description"))):
            problems.append(f"description {document.get('description')!r} does not fit {error.template!r}")
    else:
        stand_in = cfapi.CatalogError(name.removeprefix("CF-"), 400, 0, "%s", "not in the catalog")
        expected = cfapi.error_document(stand_in, "", version)
    problems += _order_problems(entry, "error keys", list(document), list(expected))
    _fail(entry, problems)


# --------------------------------------------------------------------------- /v2/info


INFOS = [e for e in DOCUMENTS if e["kind"] == "info"]
_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


@pytest.mark.parametrize("entry", INFOS, ids=_ids(INFOS))
def test_info_has_the_keys_of_its_era_in_order(entry: dict[str, Any]) -> None:
    document = _load(entry)
    expected = list(factories.info(api_version=entry["era"]))
    fields = {f.name: f for f in cfapi.INFO_FIELDS}
    conditional = entry.get("absent_conditional", {})
    problems = []
    unknown = [k for k in document if k not in expected]
    if unknown:
        problems.append(f"keys not of this era: {unknown}")
    absent = sorted(k for k in expected if k not in document)
    if absent != sorted(k for k in conditional if k in expected):
        problems.append(f"absent keys {absent}, listed as conditional: {sorted(conditional)}")
    problems += _order_problems(entry, "info keys", list(document), expected)
    for key, value in document.items():
        f = fields.get(key)
        if f is None:
            continue
        if value is None and not f.nullable:
            problems.append(f"{key} is null; cfreplay has it non-nullable")
        elif value is not None and not isinstance(value, _JSON_TYPES[f.json_type]):
            problems.append(f"{key} {value!r} is not {f.json_type}")
    if document.get("api_version") != entry["era"]:
        problems.append(f"api_version {document.get('api_version')!r} != era {entry['era']}")
    _fail(entry, problems)


# --------------------------------------------------------------------------- GET /


ROOTS = [e for e in DOCUMENTS if e["kind"] == "root"]


@pytest.mark.parametrize("entry", ROOTS, ids=_ids(ROOTS))
def test_root_has_the_links_of_its_era_in_order(entry: dict[str, Any]) -> None:
    document = _load(entry)
    links = document["links"]
    expected = factories.root(api_version=entry["era"])["links"]
    conditional = entry.get("absent_conditional", {})
    problems = []
    if list(document) != ["links"]:
        problems.append(f"top-level keys {list(document)}")
    unknown = [k for k in links if k not in expected]
    if unknown:
        problems.append(f"links not of this era: {unknown}")
    absent = sorted(k for k in expected if k not in links)
    if absent != sorted(conditional):
        problems.append(f"absent links {absent}, listed as conditional: {sorted(conditional)}")
    problems += _order_problems(entry, "links", list(links), list(expected))
    for name, link in links.items():
        want = expected.get(name)
        if link is None or want is None:
            continue
        if not isinstance(link.get("href"), str) or list(link) != list(want):
            problems.append(f"{name}: keys {list(link)} != the factory's {list(want)}")
        if list(link.get("meta", {})) != list(want.get("meta", {})):
            problems.append(f"{name}.meta keys {list(link.get('meta', {}))} != {list(want.get('meta', {}))}")
    v2 = links.get("cloud_controller_v2") or {}
    if v2.get("meta", {}).get("version") != entry["era"]:
        problems.append(f"cloud_controller_v2.meta.version {v2.get('meta', {}).get('version')!r} != era")
    _fail(entry, problems)
