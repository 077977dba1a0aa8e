"""The ``cfreplay`` command: fake, sanitize, scan, record, serve, import, show, diff, convert.

``main(argv) -> int`` so tests can call it directly.

Exit codes: 0 success; 1 findings (``scan``), changes found by ``sanitize --check``,
cassettes that differ (``diff``) or exchanges dropped by ``import --partial``; 2 bad input
(unknown name, bad value, bad option, a file that cannot be processed, a capture cut short,
a ``scan`` whose proof is incomplete).
Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

from cfreplay.cf import cfapi
from cfreplay.cf._traits import TRAITS
from cfreplay.cf.cfapi import ApiVersion
from cfreplay.cf.seeding import Now, Seeder
from cfreplay.errors import CfreplayError, SchemaError, UnknownNameError
from cfreplay.serve.flows import CLIENTS, DEFAULT_CLIENT
from cfreplay.types import reason_phrase

if TYPE_CHECKING:
    from cfreplay.commands import record
    from cfreplay.hygiene.rules import SanitizeConfig
    from cfreplay.hygiene.sanitizer import Sanitizer

# Each subcommand imports what it runs on when it runs: ``cfreplay scan`` in CI need not
# load vcrpy, aiohttp's stubs, Faker and the simulator first (0.3 s of every command).

__all__ = [
    "main",
    "main_entry",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
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


def _version_line() -> str:
    """cfreplay's version and the engines it runs on: what a bug report needs first."""
    from importlib import metadata

    engines = []
    for name in ("cfreplay", "vcrpy", "freezegun", "faker", "pytest"):
        try:
            engines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            engines.append(f"{name} (not installed)")
    own, *others = engines
    return f"{own} ({', '.join(others)}; Python {sys.version.split()[0]})"


class _Version(argparse.Action):
    """``--version``: the package metadata is read only when asked for (it costs every command ~30 ms)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(_version_line())
        parser.exit()


def _build_parser() -> _Parser:
    parser = _Parser(prog="cfreplay", description="Test Cloud Foundry v2 tooling offline.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the versions and exit")
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
        default=str(cfapi.DEFAULT_API_VERSION),
        help=f"CC v2 API era (default {cfapi.DEFAULT_API_VERSION}, as the factories and the simulator; "
        f"{cfapi.SEED_API_VERSION} is the documented exchange's)",
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
        choices=TRAITS,
        help="app state for app, restage and list; repeatable",
    )
    fake.add_argument("--now", help="the factory clock, ISO-8601 (default 2015-11-03T00:54:16Z) or 'wall'")

    sanitize = commands.add_parser(
        "sanitize",
        help="remove every secret from cassettes, in place",
        description="Sanitize cassette files in place (directories: every YAML/JSON cassette below). "
        "Exit 0 when all went well, 1 with --check when anything would change, 2 when any input could "
        "not be processed (the others are still done; a bad one is left untouched).",
    )
    sanitize.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or directories")
    sanitize.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything would change")
    sanitize.add_argument("--redact-all-env", action="store_true", help="redact every environment variable value")
    sanitize.add_argument("--config", metavar="PYPROJECT", help="read [tool.cfreplay.sanitize] from this file")

    scan = commands.add_parser(
        "scan",
        help="prove no secret is left in cassettes and test files",
        description="Scan cassettes and other text files for secrets. Exit 0 clean, 1 findings, "
        "2 unreadable input (a file holding dangerous YAML tags is never reported clean). A cassette that "
        "does not parse (cut short?) is scanned as text only, with a warning; without findings it exits 2.",
    )
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    scan.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    scan.add_argument("--config", metavar="PYPROJECT", help="read [tool.cfreplay.sanitize] from this file")
    scan.add_argument("--redact-all-env", action="store_true", help="count every environment variable value")

    recording = commands.add_parser(
        "record",
        help="record a sanitized restage cassette (from a foundation, or the embedded simulator)",
        description="Record a restage (POST /v2/apps/:guid/restage and the requests around it, as --client sends "
        "them) into a sanitized, scanned cassette. Target: --api with --token or CF_USERNAME/CF_PASSWORD; else the "
        "cf CLI's login ($CF_HOME/.cf/config.json); else the embedded simulator. Exit 2 (and no cassette) when the "
        "API is unreachable, refuses, or has no such app.",
    )
    recording.add_argument("what", nargs="?", choices=("restage",), help="what to record")
    recording.add_argument("app", nargs="?", metavar="APP", help="the app's name or guid")
    recording.add_argument("-o", "--output", metavar="PATH", help="cassette path (default cassettes/restage-APP.yaml)")
    recording.add_argument("--api", metavar="URL", help="the Cloud Controller to record from")
    recording.add_argument("--token", help="an access token for --api (else CF_USERNAME and CF_PASSWORD)")
    recording.add_argument(
        "--wait",
        action="store_true",
        help="poll the app until staging ends and it runs, as the client does; record that too",
    )
    recording.add_argument("--timeout", type=float, default=300.0, help="seconds --wait waits (default 300)")
    recording.add_argument("--seed", type=int, default=0, help="seed of the embedded simulator (default 0)")
    recording.add_argument("--from-docs", action="store_true", help="write the documented exchange as a cassette")
    recording.add_argument(
        "--client",
        choices=CLIENTS,
        help=f"whose requests to send and record (default {DEFAULT_CLIENT}: the cf CLI v6's)",
    )

    serve = commands.add_parser(
        "serve",
        help="replay cassettes (or the simulator) as an HTTP server on 127.0.0.1",
        description="Replay cassettes as an HTTP server on 127.0.0.1, so the cf CLI, Go clients and curl run "
        "offline against them; or, with --simulate, serve the embedded CC v2 + UAA simulator. Runs until "
        "Ctrl-C or SIGTERM.",
    )
    serve.add_argument("cassettes", nargs="*", metavar="CASSETTE", help="cassettes to replay")
    serve.add_argument("--simulate", action="store_true", help="serve the simulator instead of cassettes")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--seed", type=int, default=0, help="seed of the simulated foundation (default 0)")
    serve.add_argument(
        "--repeat",
        action="store_true",
        help="answer a request whose recordings were all played with the last of them again, not 404",
    )
    serve.add_argument(
        "--match-on",
        metavar="MATCHERS",
        help="what a request must match, comma-separated: method, path, query, uri, body, raw_body, headers "
        "(default: method,path,query)",
    )

    importer = commands.add_parser(
        "import",
        help="turn a HAR file or a cf CLI trace into a sanitized cassette",
        description="Import captured traffic — HAR 1.2 (browser devtools, mitmproxy) or CF_TRACE output of the "
        "cf CLI — as a cassette, sanitized and scanned before it is written. Exit 2 and no cassette on bad input, "
        "including an incomplete exchange (a request with no response, a capture cut short), unless --partial.",
    )
    importer.add_argument("paths", nargs="+", metavar="PATH", help="HAR files or cf CLI traces")
    importer.add_argument("-o", "--output", required=True, metavar="CASSETTE", help="the cassette to write")
    importer.add_argument("--from", dest="source", choices=("har", "cf-trace"), help="input format (default: detect)")
    importer.add_argument("--config", metavar="PYPROJECT", help="read [tool.cfreplay.sanitize] from this file")
    importer.add_argument(
        "--partial",
        action="store_true",
        help="import the complete exchanges, name each incomplete one on stderr and exit 1 (2 if none is complete)",
    )

    show = commands.add_parser("show", help="list a cassette's interactions, or print one exchange")
    show.add_argument("cassette", metavar="CASSETTE")
    show.add_argument("--index", type=int, metavar="N", help="print interaction N, decoded and pretty-printed")
    show.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")

    differ = commands.add_parser(
        "diff",
        help="compare two cassettes, ignoring volatile fields",
        description="Compare two cassettes interaction by interaction, ignoring request ids, dates, timestamps "
        "and replaced tokens. Exit 0 when they match, 1 when they differ, 2 on bad input.",
    )
    differ.add_argument("a", metavar="A")
    differ.add_argument("b", metavar="B")
    differ.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")

    convert = commands.add_parser(
        "convert",
        help="rewrite cassettes as JSON or YAML, losslessly, beside the originals",
        description="Write each cassette (directories: every YAML/JSON cassette below) in the other format next to "
        "itself (x.yaml -> x.json), as vcrpy writes it, read back and checked before anything is written; like "
        "every cassette cfreplay writes, it is sanitized and scanned on the way. Exit 0 when all went well, 2 "
        "when any input could not be converted (the others are still done; a failed one leaves every file as it "
        "was).",
    )
    convert.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or directories")
    convert.add_argument("--to", required=True, choices=("json", "yaml"), help="the format to write")
    convert.add_argument("--config", metavar="PYPROJECT", help="read [tool.cfreplay.sanitize] from this file")
    convert.add_argument("--force", action="store_true", help="replace a destination that exists and differs")
    convert.add_argument(
        "--remove-source", action="store_true", help="remove each source once its conversion is written"
    )
    return parser


class _Progress:
    """A one-line progress bar on stderr, only when it is a terminal and there is more than one file."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.enabled = total > 1 and sys.stderr.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {self.done}/{self.total} {label[-40:]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def _project_config(args: argparse.Namespace) -> SanitizeConfig:
    """``--config``, else the nearest pyproject.toml from the working directory; ``--redact-all-env`` on top."""
    from cfreplay.hygiene.rules import SanitizeConfig

    path = getattr(args, "config", None)
    config = SanitizeConfig.from_toml(path) if path else SanitizeConfig.from_pyproject()
    if getattr(args, "redact_all_env", False):
        config = config.merged(SanitizeConfig(redact_all_env=True))
    return config


def _project_sanitizer(args: argparse.Namespace | None = None) -> Sanitizer:
    """A sanitizer with the project's rules (and the command's options, given *args*)."""
    from cfreplay.hygiene.rules import SanitizeConfig
    from cfreplay.hygiene.sanitizer import Sanitizer

    return Sanitizer(_project_config(args) if args is not None else SanitizeConfig.from_pyproject())


def _sanitize(args: argparse.Namespace) -> int:
    from cfreplay.hygiene.sanitizer import Sanitizer

    config = _project_config(args)
    files = list(_cassette_inputs(args.paths))
    sanitizer = Sanitizer(config)
    progress = _Progress(len(files))
    changed = failed = 0
    lines: list[str] = []
    for path, explicit in files:
        progress.step(str(path))
        try:
            if not explicit and not _mentions_interactions(path):
                continue  # a YAML/JSON file below a directory that is no cassette at all
            report = sanitizer.sanitize_file(path, check=args.check)
        except CfreplayError as error:
            failed += 1
            lines.append(f"cfreplay: error: {error}")
            continue
        if report:
            changed += 1
            verb = "would sanitize" if args.check else "sanitized"
            lines.append(f"{verb} {path}: {report.summary()}")
    progress.close()
    for line in lines:
        print(line, file=sys.stderr if line.startswith("cfreplay: error:") else sys.stdout)
    verb = "would change" if args.check else "sanitized"
    print(f"{len(files)} file{'s' if len(files) != 1 else ''} checked: {changed} {verb}, {failed} failed")
    if failed:
        return EXIT_USAGE
    return EXIT_FINDINGS if args.check and changed else EXIT_OK


def _cassette_inputs(paths: Sequence[str]) -> list[tuple[Path, bool]]:
    """(path, named explicitly) for each file to process; a missing path is an error later."""
    from cfreplay.hygiene import writing

    result: list[tuple[Path, bool]] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            result.extend((child, False) for child in writing.iter_cassette_files([path]))
        else:
            result.append((path, True))
    return result


def _mentions_interactions(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"interactions" in handle.read()
    except OSError:
        return True  # let the load report why it cannot be read


def _scan(args: argparse.Namespace) -> int:
    from cfreplay.hygiene import scanner
    from cfreplay.hygiene.rules import RuleTable

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise _UsageError(f"no such file or directory: {missing[0]}")
    table = RuleTable(_project_config(args))
    progress = _Progress(sum(1 for _ in scanner.iter_files(args.paths)))
    result = scanner.scan_paths(args.paths, table=table, on_file=lambda path: progress.step(str(path)), workers=None)
    progress.close()
    if args.format == "json":
        document = {
            "findings": [finding.to_dict() for finding in result.findings],
            "errors": [{"path": error.path, "message": str(error)} for error in result.errors],
            "incomplete": [{"path": error.path, "message": str(error)} for error in result.incomplete],
            "files": result.files,
            "bytes": result.bytes,
        }
        print(json.dumps(document, indent=2))
    else:
        for finding in result.findings:
            where = f"interaction {finding.interaction} " if finding.interaction is not None else ""
            print(f"{finding.path}:{finding.line}: {where}{finding.location}: {finding.rule} ({finding.masked})")
        for error in result.errors:
            print(f"cfreplay: error: {error}", file=sys.stderr)
        for error in result.incomplete:
            # str(error) is "path: [interaction N: ]reason"; the reason goes in parentheses, on one line.
            reason = " ".join(str(error)[len(error.path) + 2 :].split())
            print(
                f"cfreplay: warning: {error.path}: does not parse as a cassette ({reason}); "
                "scanned as text only: secrets in encoded bodies would not be seen",
                file=sys.stderr,
            )
        files_with = len({finding.path for finding in result.findings})
        scanned = f"{result.files} file{'s' if result.files != 1 else ''} scanned ({result.bytes / 1e6:.1f} MB)"
        if result.findings:
            count = len(result.findings)
            print(f"{count} finding{'s' if count != 1 else ''} in {files_with} of {scanned}")
        else:
            print(f"no findings: {scanned}")
    if result.errors:
        return EXIT_USAGE
    if result.findings:
        return EXIT_FINDINGS
    # Findings win; without them, a scan that could not decode every body proves nothing clean.
    return EXIT_USAGE if result.incomplete else EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    from cfreplay import cassette
    from cfreplay.hygiene import writing
    from cfreplay.hygiene.sanitizer import Sanitizer

    sanitizer = Sanitizer(_project_config(args))
    files = _cassette_inputs(args.paths)
    progress = _Progress(len(files))
    converted = current = failed = 0
    lines: list[str] = []
    for path, explicit in files:
        progress.step(str(path))
        if not explicit and (cassette.detect_format(path) == args.to or not _mentions_interactions(path)):
            continue  # below a directory: already in the target format, or no cassette at all
        try:
            done = writing.convert_file(
                path, args.to, sanitizer=sanitizer, force=args.force, remove_source=args.remove_source
            )
        except CfreplayError as error:
            failed += 1
            lines.append(f"cfreplay: error: {error}")
            continue
        count = f"{done.interactions} interaction{'s' if done.interactions != 1 else ''}"
        if done.same_format:
            lines.append(f"{path}: already {args.to}, nothing to do ({count})")
            continue
        removed = ", source removed" if done.source_removed else ""
        if done.report:
            removed += f"; sanitized: {done.report.summary()}"
        if done.written:
            converted += 1
            lines.append(f"{path} -> {done.destination} ({count}{removed})")
        else:
            current += 1
            lines.append(f"{path} -> {done.destination} (up to date, {count}{removed})")
    progress.close()
    for line in lines:
        print(line, file=sys.stderr if line.startswith("cfreplay: error:") else sys.stdout)
    print(f"{converted} converted, {current} up to date, {failed} failed")
    return EXIT_USAGE if failed else EXIT_OK


def _seed_value(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def _fake(args: argparse.Namespace) -> bytes:
    from cfreplay.cf import factories

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
        # Exactly the response's bytes, as for 'fake error': a newline after the body would
        # disagree with its Content-Length when piped into something that reads HTTP.
        return factories.restage_response(app, api_version=version, seed=seeder, **values).to_http()
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


_UNSAFE_FILE: Final = re.compile(r"[^\w.-]+")


def _record(args: argparse.Namespace) -> int:
    result = _record_from_docs(args) if args.from_docs else _record_restage(args)
    _print_recorded(result)
    return EXIT_OK


def _record_from_docs(args: argparse.Namespace) -> record.RecordResult:
    from cfreplay.commands import record

    if args.what or args.app or args.api or args.token or args.wait or args.client:
        raise _UsageError("--from-docs takes only -o/--output")
    return record.record_from_docs(Path(args.output or "cassettes/restage-docs.yaml"))


def _record_restage(args: argparse.Namespace) -> record.RecordResult:
    from cfreplay.commands import record

    if args.what != "restage" or not args.app:
        raise _UsageError("say what to record: 'cfreplay record restage APP' (or 'cfreplay record --from-docs')")
    target = record.resolve_target(api=args.api, token=args.token)
    output = Path(args.output or f"cassettes/restage-{_UNSAFE_FILE.sub('_', args.app)}.yaml")
    progress = _Spinner() if args.wait else None
    try:
        return record.record_restage(
            args.app,
            output=output,
            target=target,
            wait=args.wait,
            timeout=args.timeout,
            seed=args.seed,
            progress=progress,
            client=args.client or record.DEFAULT_CLIENT,
        )
    finally:
        if progress is not None:
            progress.close()


def _print_recorded(result: record.RecordResult) -> None:
    print(f"recorded {result.interactions} interaction{'s' if result.interactions != 1 else ''} "
          f"from {result.target.source}")  # fmt: skip
    state = f", package_state {result.package_state}" if result.package_state else ""
    print(f"  restage: {result.status} {reason_phrase(result.status)}{state}")
    if result.staged is not None:
        print(f"  staging: {result.staged} after {result.polls} poll{'s' if result.polls != 1 else ''}")
    if result.instances is not None:
        print(f"  instances: {result.instances}")
    for note in result.notes:
        print(f"  note: {note}")
    counts = result.report.counts()
    sanitized = ", ".join(f"{rule} ×{count}" for rule, count in sorted(counts.items())) or "nothing to sanitize"
    print(f"  sanitized: {sanitized}")
    print("  scan: clean")
    print(f"  written: {result.path}")


class _Spinner:
    """Progress for --wait: one rewritten line on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, line: str) -> None:
        sys.stderr.write(f"\r{line:<60}" if self.tty else f"{line}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _serve(args: argparse.Namespace) -> int:
    if args.simulate == bool(args.cassettes):
        raise _UsageError("give cassettes to replay, or --simulate (not both)")
    if args.simulate and args.repeat:
        raise _UsageError("--repeat replays cassettes; the simulator answers every request anyway")
    if args.simulate and args.match_on is not None:
        raise _UsageError("--match-on replays cassettes; the simulator answers every request anyway")
    if args.cassettes:
        return _serve_cassettes(args)
    from cfreplay.serve import simulator  # the server pulls in http.server and threads: only when asked

    password = simulator.Simulator(seed=args.seed, base_url="http://127.0.0.1").password

    def ready(url: str) -> None:
        print(f"simulating Cloud Controller v2 + UAA at {url}")
        print(f"  log in: cf login -a {url} -u {simulator.USERNAME} -p {password} --skip-ssl-validation")
        print("  stop: Ctrl-C")

    try:
        simulator.serve(port=args.port, seed=args.seed, ready=ready)
    except OSError as error:
        raise _UsageError(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}") from None
    return EXIT_OK


def _serve_cassettes(args: argparse.Namespace) -> int:
    from cfreplay.hygiene.sanitizer import Report
    from cfreplay.serve import server

    match_on: tuple[str, ...] = server.DEFAULT_MATCH_ON
    if args.match_on is not None:
        try:
            match_on = server.checked_match_on(args.match_on.split(","))
        except (UnknownNameError, ValueError) as error:
            raise _UsageError(f"--match-on: {error}") from None
    paths = [Path(p) for p in args.cassettes]

    def ready(url: str) -> None:
        print(f"replaying {len(paths)} cassette{'s' if len(paths) != 1 else ''} at {url} (Ctrl-C to stop)")

    sanitizer = _project_sanitizer()

    def log(line: str) -> None:
        # A client may send a token in a query string; the log never shows it.
        print(sanitizer.sanitize_text(line), file=sys.stderr, flush=True)

    def sanitize(request: dict[str, Any]) -> dict[str, Any]:
        # As replay does: a request is matched as the recorder would have written it, so a
        # password sent in a form body meets the recording's ***.
        interaction = {"request": request, "response": {"status": {"code": 0}, "headers": {}, "body": {"string": ""}}}
        sanitizer.sanitize_interaction(interaction, None, Report())
        sanitized: dict[str, Any] = interaction["request"]
        return sanitized

    try:
        server.serve(
            paths, port=args.port, ready=ready, log=log, repeat=args.repeat, match_on=match_on, sanitize=sanitize
        )
    except OSError as error:
        raise _UsageError(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}") from None
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from cfreplay import cassette
    from cfreplay.commands import importing
    from cfreplay.hygiene import writing

    output = Path(args.output)
    imported = importing.import_traffic([Path(p) for p in args.paths], fmt=args.source, partial=args.partial)
    data = imported.data
    sanitizer = _project_sanitizer(args)
    report = writing.write_cassette(
        output, data, cassette.detect_format(output), sanitizer, expected=writing.fingerprint(output)
    )
    for dropped in imported.dropped:  # path:line and what is missing: no header or body value
        print(f"cfreplay: dropped: {dropped}", file=sys.stderr)
    count = len(data["interactions"])
    print(f"imported {count} interaction{'s' if count != 1 else ''} from {', '.join(args.paths)}")
    if imported.dropped:
        left_out = len(imported.dropped)
        print(f"  dropped: {left_out} incomplete exchange{'s' if left_out != 1 else ''} (listed on stderr)")
    print(f"  sanitized: {report.summary() if report else 'nothing to sanitize'}")
    print("  scan: clean")
    print(f"  written: {output}")
    return EXIT_FINDINGS if imported.dropped else EXIT_OK


def _colour(args: argparse.Namespace) -> bool:
    return args.format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _show(args: argparse.Namespace) -> int:
    from cfreplay.commands import show

    output = show.show(
        Path(args.cassette), index=args.index, fmt=args.format, color=_colour(args), cut_urls=sys.stdout.isatty()
    )
    # A cassette someone did not sanitize must not leak through its listing either.
    sys.stdout.write(_project_sanitizer().sanitize_text(output))
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from cfreplay.commands import show

    output, differs = show.diff(Path(args.a), Path(args.b), fmt=args.format, color=_colour(args))
    sys.stdout.write(_project_sanitizer().sanitize_text(output))
    return EXIT_FINDINGS if differs else EXIT_OK


def _print_fake(args: argparse.Namespace) -> int:
    output = _fake(args)
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "fake": _print_fake,
    "sanitize": _sanitize,
    "scan": _scan,
    "record": _record,
    "serve": _serve,
    "import": _import,
    "show": _show,
    "diff": _diff,
    "convert": _convert,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return _COMMANDS[args.command](args)
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except (_UsageError, CfreplayError, UnknownNameError) as error:
        print(f"cfreplay: error: {error}", file=sys.stderr)
        return EXIT_USAGE


class _Interrupted(BaseException):
    """SIGTERM or SIGINT: unwinds like KeyboardInterrupt, so temporary files are removed on the way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, _frame: object) -> None:
    raise _Interrupted(signum)


def main_entry() -> None:
    """Console-script entry point: ``main`` with SIGTERM and SIGINT turned into one line and their exit code."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _interrupt)
    try:
        code = main()
    except _Interrupted as stop:
        name = signal.Signals(stop.signum).name
        print(f"cfreplay: interrupted by {name}; no file was left half-written", file=sys.stderr)
        code = 128 + stop.signum
    raise SystemExit(code)
