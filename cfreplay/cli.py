"""The ``cfreplay`` command.  ``main(argv) -> int`` so tests can call it directly.

Exit codes: 0 success, 2 bad input (unknown name, bad value, bad option); every
error is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NoReturn

from cfreplay import cfapi, factories
from cfreplay.cfapi import ApiVersion
from cfreplay.errors import CfreplayError, SchemaError, UnknownNameError
from cfreplay.seeding import Now, Seeder

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2

_KINDS = ("app", "restage", "error", "list", "info", "token")
_TOKEN_OPTIONS = ("grant_type", "username", "client_id", "scopes", "expires_in", "opaque", "system_domain")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` pairs; a VALUE that parses as JSON is taken as JSON, else as a string."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise _UsageError(f"--set expects FIELD=VALUE, got {item!r}")
        try:
            values[key] = json.loads(raw)
        except ValueError:
            values[key] = raw
    return values


def _parse_now(text: str | None) -> Now:
    if text is None or text == "wall":
        return text  # type: ignore[return-value]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _UsageError(
            f"--now expects an ISO-8601 instant like 2015-11-03T00:54:16Z or 'wall', got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise _UsageError(f"--now needs a timezone (append Z for UTC), got {text!r}")
    return moment


def _build_parser() -> _Parser:
    parser = _Parser(prog="cfreplay", description="Test Cloud Foundry v2 tooling offline.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fake = commands.add_parser(
        "fake",
        help="print a seeded, schema-exact CC v2 / UAA document",
        description="Print a seeded CC v2 or UAA document: app, list, info and token as JSON; "
        "restage and error as an HTTP/1.1 response.",
    )
    fake.add_argument("kind", choices=_KINDS, help="what to print")
    fake.add_argument("name", nargs="?", help="the error name, for 'error' (e.g. AppNotFound)")
    fake.add_argument("--seed", default="0", help="seed for every random value (default 0)")
    fake.add_argument(
        "--api-version",
        default=str(cfapi.SEED_API_VERSION),
        help=f"CC v2 API era (default {cfapi.SEED_API_VERSION}, the documented exchange)",
    )
    fake.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a field (VALUE is JSON if it parses, else a string); repeatable",
    )
    fake.add_argument(
        "--trait",
        action="append",
        default=[],
        choices=factories.TRAITS,
        help="app state for app, restage and list; repeatable",
    )
    fake.add_argument("--now", help="the factory clock, ISO-8601 (default 2015-11-03T00:54:16Z) or 'wall'")
    return parser


def _seed_value(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def _fake(args: argparse.Namespace) -> bytes:
    version = ApiVersion.parse(args.api_version)
    seeder = Seeder(_seed_value(args.seed), now=_parse_now(args.now))
    values = _parse_set(args.set)
    if args.name is not None and args.kind != "error":
        raise _UsageError(f"'fake {args.kind}' takes no NAME (got {args.name!r})")
    if args.trait and args.kind not in ("app", "restage", "list"):
        raise _UsageError(f"--trait applies to app, restage and list, not {args.kind}")

    def wire(document: Any, kind: str = "resource") -> bytes:
        return cfapi.dump_json(document, version, kind=kind) + b"\n"  # type: ignore[arg-type]

    if args.kind == "app":
        return wire(factories.app_envelope(*args.trait, api_version=version, seed=seeder, **values))
    if args.kind == "restage":
        app = factories.app_envelope(*args.trait, api_version=version, seed=seeder) if args.trait else None
        return factories.restage_response(app, api_version=version, seed=seeder, **values).to_http() + b"\n"
    if args.kind == "error":
        if not args.name:
            raise _UsageError("'fake error' needs an error NAME, e.g. 'cfreplay fake error AppNotFound'")
        detail: dict[str, Any] = {key: str(value) for key, value in values.items()}
        return factories.error_response(args.name, api_version=version, seed=seeder, **detail).to_http()
    if args.kind == "list":
        return wire(factories.list_page(traits=args.trait, api_version=version, seed=seeder, **values))
    if args.kind == "info":
        return wire(factories.info(api_version=version, **values), "info")
    unknown = sorted(set(values) - set(_TOKEN_OPTIONS))
    if unknown:
        raise SchemaError(unknown[0], f"not a token option; options: {', '.join(_TOKEN_OPTIONS)}", str(version))
    if isinstance(values.get("scopes"), str):
        values["scopes"] = values["scopes"].split()
    return json.dumps(factories.token_response(seed=seeder, **values), separators=(",", ":")).encode() + b"\n"


_COMMANDS: dict[str, Callable[[argparse.Namespace], bytes]] = {"fake": _fake}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        output = _COMMANDS[args.command](args)
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except (_UsageError, CfreplayError, UnknownNameError) as error:
        print(f"cfreplay: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    return EXIT_OK


def main_entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
