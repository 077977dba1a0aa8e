"""App envelopes per second: cfreplay's factory against factory_boy, in one run.

Both sides build the same document, a Cloud Controller v2 app envelope
(``{"metadata": {...}, "entity": {...}}``) of API 2.43.0: the same keys in the
same order, nested the same way, with random values of the right kind.

* cfreplay: ``factories.app_envelope()`` after ``cfreplay.seed(1)``.
* factory_boy: an idiomatic ``factory.DictFactory`` per part.  The entity
  factory is generated from cfreplay's field list (``cfapi.app_fields``) with
  one ``factory.Faker`` / ``factory.Iterator`` / ``factory.LazyFunction``
  declaration per field; the envelope factory holds ``metadata`` and ``entity``
  as ``factory.SubFactory`` declarations.  Seeded with
  ``factory.random.reseed_random(1)``.  Its values are realistic in kind (uuid
  strings for guids, ints for memory, ISO-8601 timestamps), not cfreplay's values.

Each side builds the same N envelopes, reseeded before every repeat; the best of
the repeats (``time.perf_counter``) counts.  The ratio cfreplay/factory_boy is
printed next to the target; the script exits 0 whatever the figures.

Run it::

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/factories.py
    .venv/bin/python bench/factories.py --n 5000 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import factory
import factory.random
import faker

import cfreplay
from cfreplay.cf import cfapi, factories

API_VERSION = cfapi.SEED_API_VERSION
TARGET_RATIO = 3.0
SEED = 1

# --------------------------------------------------------------------------- factory_boy side

_randgen = factory.random.randgen  # the Random that reseed_random() seeds, with Faker's

_ENV_VARS = (
    ("LOG_LEVEL", ("debug", "info", "warn")),
    ("TZ", ("UTC", "Europe/Berlin")),
    ("WEB_CONCURRENCY", ("2", "4")),
)

# Where the field's type alone would give an unrealistic value: realistic ones by name.
_HINTS: dict[str, Callable[[], Any]] = {
    "name": lambda: factory.Faker("slug"),
    "buildpack": lambda: factory.Iterator(("python_buildpack", "nodejs_buildpack", "java_buildpack", None)),
    "detected_buildpack": lambda: factory.Faker("numerify", text="python 1.%.##"),
    "memory": lambda: factory.Iterator((256, 512, 1024, 2048)),
    "disk_quota": lambda: factory.Iterator((512, 1024, 2048)),
    "instances": lambda: factory.Faker("random_int", min=1, max=4),
    "staging_task_id": lambda: factory.Faker("uuid4"),
    "command": lambda: factory.Iterator((None, "python app.py --migrate")),
    "debug": lambda: factory.Iterator((None, "run", "suspend")),
    "detected_start_command": lambda: factory.Iterator(("python app.py", "npm start", "")),
    "docker_image": lambda: factory.Iterator((None, "cloudfoundry/diego-docker-app:latest")),
    "environment_json": lambda: factory.LazyFunction(
        lambda: {key: _randgen.choice(values) for key, values in _ENV_VARS[: _randgen.randint(1, 3)]}
    ),
}

_SHAPE_VALUES: dict[str, Any] = {"string": cfapi.PRIVATE_DATA_HIDDEN, "boolean": False, "integer": 0}


def _declaration(field: cfapi.Field) -> Any:
    """One factory_boy declaration for *field*, chosen from its format, enum and JSON type."""
    hint = _HINTS.get(field.name)
    if hint is not None:
        return hint()
    allowed = field.allowed_values(API_VERSION)
    if field.format == "guid":
        return factory.Faker("uuid4")
    if field.format == "timestamp":
        return factory.Faker("iso8601", timespec="seconds")
    if field.format == "path":
        return factory.LazyAttribute(lambda o: cfapi.app_path(o.guid))
    if allowed:
        return factory.Iterator(allowed)
    if field.json_type == "boolean":
        return factory.Faker("pybool")
    if field.json_type == "integer":
        low = field.minimum if field.minimum is not None else 0
        return factory.Faker("random_int", min=low, max=field.maximum if field.maximum is not None else 4096)
    if field.json_type == "string":
        return factory.Faker("word")
    if field.json_type == "object":
        shape = field.shape or {}
        return factory.LazyFunction(
            lambda: {key: None if nullable else _SHAPE_VALUES[kind] for key, (kind, nullable) in shape.items()}
        )
    if field.json_type == "array":
        low, high = field.item_minimum or 1, field.item_maximum or 65535
        return factory.LazyFunction(lambda: [_randgen.randint(low, high)])
    raise ValueError(f"no declaration for {field.name!r} ({field.json_type})")


def _dict_factory(name: str, fields: tuple[cfapi.Field, ...]) -> type[factory.DictFactory]:
    """A DictFactory subclass with one declaration per field, in field order."""
    return type(name, (factory.DictFactory,), {f.name: _declaration(f) for f in fields})


MetadataFactory = _dict_factory("MetadataFactory", cfapi.METADATA_FIELDS)
EntityFactory = _dict_factory("EntityFactory", cfapi.app_fields(API_VERSION))


class AppEnvelopeFactory(factory.DictFactory):
    metadata = factory.SubFactory(MetadataFactory)
    entity = factory.SubFactory(EntityFactory)


# --------------------------------------------------------------------------- the two contenders


def _cfreplay_build(n: int) -> None:
    cfreplay.seed(SEED)
    build = factories.app_envelope
    for _ in range(n):
        build(seed=None)


def _factory_boy_build(n: int) -> None:
    factory.random.reseed_random(SEED)
    build = AppEnvelopeFactory.build
    for _ in range(n):
        build()


CONTENDERS: dict[str, tuple[str, Callable[[int], None]]] = {
    "cfreplay": (cfreplay.__version__, _cfreplay_build),
    "factory_boy": (factory.__version__, _factory_boy_build),
}


def _shape(envelope: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(part, list(envelope[part])) for part in envelope]


def check_same_shape() -> None:
    """Refuse to compare envelopes that differ in keys or key order (a bug here, not a timing)."""
    cfreplay.seed(SEED)
    ours = factories.app_envelope(seed=None)
    factory.random.reseed_random(SEED)
    theirs = AppEnvelopeFactory.build()
    if _shape(ours) != _shape(theirs):
        raise RuntimeError(f"the envelopes differ:\n  cfreplay:    {_shape(ours)}\n  factory_boy: {_shape(theirs)}")


def measure(n: int, repeat: int) -> dict[str, float]:
    """Best wall time per contender for *n* envelopes; contenders alternate within each repeat."""
    best = dict.fromkeys(CONTENDERS, float("inf"))
    for _, build in CONTENDERS.values():
        build(100)  # warm up: imports, Faker proxies, caches
    for _ in range(repeat):
        for tool, (_, build) in CONTENDERS.items():
            gc.collect()
            start = time.perf_counter()
            build(n)
            best[tool] = min(best[tool], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20000, help="envelopes per timed run (default: 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool; the best counts (default: 3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    n, repeat = max(1, args.n), max(1, args.repeat)

    check_same_shape()
    best = measure(n, repeat)
    rates = {tool: n / seconds for tool, seconds in best.items()}
    ratio = rates["cfreplay"] / rates["factory_boy"]
    report: dict[str, Any] = {
        "benchmark": "app envelopes per second",
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "api_version": str(API_VERSION),
        "entity_fields": len(cfapi.app_fields(API_VERSION)),
        "n": n,
        "repeat": repeat,
        "faker": faker.VERSION,
        "results": [
            {"tool": tool, "version": version, "best_seconds": best[tool], "envelopes_per_second": rates[tool]}
            for tool, (version, _) in CONTENDERS.items()
        ],
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0

    fields = report["entity_fields"]
    print(f"App envelopes (API {report['api_version']}, {fields} entity fields), N={n}, best of {repeat}")
    print(f"Python {report['python']} ({report['implementation']}) on {report['platform']}, Faker {report['faker']}")
    print()
    print(f"{'tool':<20} {'envelopes/s':>12} {'best s':>9}")
    for row in report["results"]:
        label = f"{row['tool']} {row['version']}"
        print(f"{label:<20} {row['envelopes_per_second']:>12,.0f} {row['best_seconds']:>9.3f}")
    print()
    verdict = "met" if report["meets_target"] else "NOT met"
    print(f"ratio cfreplay/factory_boy: {ratio:.2f}x   (target: >= {TARGET_RATIO:g}x factory_boy, {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
