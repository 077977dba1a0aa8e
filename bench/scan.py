"""Secret scanning: cfreplay's scanner against detect-secrets, on the same cassettes.

The script generates vcrpy-style YAML cassettes in a temporary directory.  Each has
``--interactions`` interactions of a ``cf`` session against CC v2 and UAA, built with
cfreplay's factories and written with vcrpy's serialisation (``cassette.dumps``):

* CC requests (list apps, get an app, restage) each carry ``Authorization: bearer <JWT>``.
  The JWT has UAA's claims and is signed with a random key: a real-looking secret.
* one interaction in ten is a UAA password grant: ``Basic Y2Y6`` (public), the password
  in the form body, a token body with a foreign access and refresh JWT (its id_token is
  signed with cfreplay's published test key, so it is no secret), and
  ``Set-Cookie: JSESSIONID=<secret>``.
* one in ten answers with a gzip body, which vcrpy stores as a ``!!binary`` block.  It
  holds an app whose ``environment_json`` has a ``DB_PASSWORD``.

Every planted secret is listed with the interaction, rule and location where it must be
found.  **Recall** is the share of planted secrets that a tool reports.  For cfreplay
this is checked against the finding's (interaction, rule, location).  detect-secrets
does not know interactions, so for it a secret counts as found when the secret itself
(or its SHA-1, which is all detect-secrets keeps) is among what it reports.  cfreplay
findings that match nothing planted are counted as **false positives**.

cfreplay scans every cassette: best of ``--repeat`` runs of ``scanner.scan_paths``
(reading the files included), in a fresh interpreter, as ``cfreplay scan`` runs it.  (In
the bench's own process, which has just generated the sessions, the workers it forks
start measurably slower than a user's ``cfreplay scan`` does.)  The whole command, ``python
-m cfreplay scan`` as a user types it, is also timed (best of ``--repeat``): interpreter
start-up and imports included, so its MB/s is lower for these few files and
closer to the engine's the more there is to scan.  detect-secrets 1.5 scans the first ``--ds-files``
cassettes once, with its default plugins and filters (``SecretsCollection.scan_file``
under ``default_settings()``): at well under 1 MB/s, all the files would take minutes.
Throughput is MB (10^6 bytes) of cassette per second.  The script prints a table, the
ratio and the target (>= 100 MB/s and 100% recall), and exits 0 whatever the figures.

Run it::

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/scan.py
    .venv/bin/python bench/scan.py --cassettes 8 --interactions 1000 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import gc
import gzip
import hashlib
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cfreplay
from cfreplay import cassette
from cfreplay.cf import cfapi, factories, tokens
from cfreplay.hygiene import scanner

TARGET_MB_PER_S = 100.0
TARGET_RECALL = 1.0
SEED = 1
HOST = "https://api.sys.example.com"
UAA = "https://uaa.sys.example.com"


@dataclass(frozen=True)
class Planted:
    """A secret put into a cassette, and where a scanner must report it."""

    interaction: int
    rule: str
    location: str
    kind: str  # what it is, for the recall table
    secret: str


# --------------------------------------------------------------------------- generation


class _Generator:
    """Builds one cassette's interactions and the list of secrets planted in them."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.seed = seed
        self.planted: list[Planted] = []

    def secret(self, nbytes: int = 24) -> str:
        return base64.urlsafe_b64encode(self.random.randbytes(nbytes)).decode("ascii").rstrip("=")

    def foreign_jwt(self, index: int) -> str:
        """UAA's claims, signed with a key nobody published: a secret."""
        _, claims = tokens.decode_unverified(factories.access_token(seed=self.seed * 100_000 + index))
        return tokens.sign(claims, key=self.random.randbytes(32).hex(), kid="key-1", jku=f"{UAA}/token_keys")

    def plant(self, index: int, rule: str, location: str, kind: str, secret: str) -> str:
        self.planted.append(Planted(index, rule, location, kind, secret))
        return secret

    def cc_request(self, index: int, method: str, path: str) -> dict[str, Any]:
        token = self.plant(index, "jwt", "request.headers.Authorization", "bearer JWT", self.foreign_jwt(index))
        return {
            "body": None,
            "headers": {
                "Accept": ["application/json"],
                "Authorization": [f"bearer {token}"],
                "User-Agent": ["go-cli 6.40.1+85b2d8a.2018-10-18 / linux"],
            },
            "method": method,
            "uri": f"{HOST}{path}",
        }

    @staticmethod
    def response(status: int, headers: dict[str, list[str]], body: str | bytes) -> dict[str, Any]:
        message = {200: "OK", 201: "Created"}[status]
        return {"body": {"string": body}, "headers": headers, "status": {"code": status, "message": message}}

    def interaction(self, index: int) -> dict[str, Any]:
        kind = index % 10
        seed = self.seed * 100_000 + index
        if kind == 0:
            return self.password_grant(index)
        if kind == 5:
            return self.gzip_app(index)
        if kind in (3, 7):
            app = factories.app_envelope(seed=seed)
            guid = app["metadata"]["guid"]
            answer = factories.restage_response(app, seed=seed)
            headers = {key: [value] for key, value in answer.headers}
            return {
                "request": self.cc_request(index, "POST", cfapi.restage_path(guid)),
                "response": self.response(201, headers, answer.body.decode("utf-8")),
            }
        page = factories.list_page(count=3, seed=seed)
        name = page["resources"][0]["entity"]["name"]
        body = json.dumps(page, indent=2)
        headers = {
            "Content-Length": [str(len(body))],
            "Content-Type": [cfapi.JSON_CONTENT_TYPE],
            "X-Content-Type-Options": ["nosniff"],
            "X-VCAP-Request-ID": [page["resources"][0]["metadata"]["guid"]],
        }
        return {
            "request": self.cc_request(index, "GET", f"/v2/apps?q=name%3A{name}&results-per-page=50"),
            "response": self.response(200, headers, body),
        }

    def password_grant(self, index: int) -> dict[str, Any]:
        password = self.plant(index, "form-field", "request.body", "form password", self.secret(12))
        body = factories.token_response(seed=self.seed * 100_000 + index)
        body["access_token"] = self.plant(index, "jwt", "response.body", "token-body JWT", self.foreign_jwt(index))
        body["refresh_token"] = self.plant(index, "jwt", "response.body", "token-body JWT", self.foreign_jwt(-index))
        # A real grant's jti names its token (it can revoke it): the sanitizer replaces it too.
        body["jti"] = self.plant(index, "token-id", "response.body", "token id", self.secret(16))
        session = self.plant(index, "cookie", "response.headers.Set-Cookie", "session cookie", self.secret(16))
        text = json.dumps(body)
        return {
            "request": {
                "body": f"grant_type=password&password={password}&username=dev{index}%40example.com",
                "headers": {
                    "Accept": ["application/json"],
                    "Authorization": [cfapi.CF_CLIENT_BASIC],
                    "Content-Type": [cfapi.FORM_CONTENT_TYPE],
                },
                "method": "POST",
                "uri": f"{UAA}/oauth/token",
            },
            "response": self.response(
                200,
                {
                    "Cache-Control": ["no-store"],
                    "Content-Type": ["application/json;charset=UTF-8"],
                    "Set-Cookie": [f"JSESSIONID={session}; Path=/; Secure; HttpOnly"],
                },
                text,
            ),
        }

    def gzip_app(self, index: int) -> dict[str, Any]:
        password = self.plant(index, "secret-key", "response.body (gzip)", "gzip body secret", self.secret(18))
        app = factories.app_envelope(seed=self.seed * 100_000 + index, environment_json={"DB_PASSWORD": password})
        body = gzip.compress(json.dumps(app, indent=2).encode("utf-8"), mtime=0)
        headers = {"Content-Encoding": ["gzip"], "Content-Type": [cfapi.JSON_CONTENT_TYPE]}
        return {
            "request": self.cc_request(index, "GET", cfapi.app_path(app["metadata"]["guid"])),
            "response": self.response(200, headers, body),
        }


def generate(directory: Path, cassettes: int, interactions: int, seed: int) -> tuple[list[Path], list[list[Planted]]]:
    """Write the cassettes; return their paths and, for each, its planted secrets."""
    paths, planted = [], []
    for number in range(cassettes):
        generator = _Generator(seed * 1000 + number)
        data = {"interactions": [generator.interaction(i) for i in range(interactions)], "version": 1}
        path = directory / f"session-{number:02d}.yaml"
        path.write_bytes(cassette.dumps(data, "yaml"))
        paths.append(path)
        planted.append(generator.planted)
    return paths, planted


# --------------------------------------------------------------------------- scoring


def _score_cfreplay(findings: list[scanner.Finding], planted: list[Planted]) -> dict[str, Any]:
    expected = collections.Counter((p.interaction, p.rule, p.location) for p in planted)
    found = collections.Counter((f.interaction, f.rule, f.location) for f in findings)
    hits = {key: min(count, found[key]) for key, count in expected.items()}
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    remaining = dict(hits)
    for p in planted:
        key = (p.interaction, p.rule, p.location)
        by_kind[p.kind][1] += 1
        if remaining[key] > 0:
            remaining[key] -= 1
            by_kind[p.kind][0] += 1
    false_positives = sum(max(0, count - expected.get(key, 0)) for key, count in found.items())
    return {"found": sum(hits.values()), "by_kind": dict(by_kind), "false_positives": false_positives}


def _run_cfreplay(paths: list[Path], repeat: int, workers: int | None) -> tuple[float, scanner.ScanResult]:
    """Best of *repeat* ``scan_paths`` runs, in a fresh interpreter (see the module's docstring)."""
    argv = [sys.executable, __file__, "--worker", str(workers or 0), str(repeat), *map(str, paths)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    result = scanner.ScanResult()
    result.findings = [scanner.Finding(**finding) for finding in answer["findings"]]
    result.errors = answer["errors"]
    return float(answer["seconds"]), result


def _worker(workers: int, repeat: int, paths: list[Path]) -> dict[str, Any]:
    best, result = float("inf"), scanner.ScanResult()
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = scanner.scan_paths(paths, workers=workers or None)
        best = min(best, time.perf_counter() - start)
    return {
        "seconds": best,
        "findings": [finding.to_dict() for finding in result.findings],
        "errors": [str(error) for error in result.errors],
    }


def _run_command(paths: list[Path], repeat: int, folder: Path) -> float:
    """Best wall time of ``python -m cfreplay scan`` over *paths*, as a user runs it (from *folder*)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "cfreplay", "scan", *map(str, paths)],
            capture_output=True,
            cwd=folder,
            check=False,
        )
        best = min(best, time.perf_counter() - start)
        if done.returncode not in (0, 1):  # 1: findings
            raise SystemExit(f"cfreplay scan exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return best


def _sanitized_copies(paths: list[Path], folder: Path) -> list[Path]:
    """The same cassettes after 'cfreplay sanitize': what CI scans day to day."""
    from cfreplay.hygiene import writing
    from cfreplay.hygiene.sanitizer import Sanitizer

    folder.mkdir()
    copies = []
    for path in paths:
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        writing.sanitize_file(copy, Sanitizer())
        copies.append(copy)
    return copies


def _run_detect_secrets(paths: list[Path]) -> tuple[float, set[str], set[str]]:
    """Seconds, and the secret values and SHA-1 hashes detect-secrets reports."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    values: set[str] = set()
    hashes: set[str] = set()
    with default_settings():
        start = time.perf_counter()
        collection = SecretsCollection()
        for path in paths:
            collection.scan_file(str(path))
        seconds = time.perf_counter() - start
    for _, secret in collection:
        hashes.add(secret.secret_hash)
        if secret.secret_value:
            values.add(secret.secret_value)
    return seconds, values, hashes


def _score_detect_secrets(values: set[str], hashes: set[str], planted: list[Planted]) -> dict[str, Any]:
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    found = 0
    for p in planted:
        by_kind[p.kind][1] += 1
        digest = hashlib.sha1(p.secret.encode("utf-8")).hexdigest()
        if digest in hashes or any(p.secret in value for value in values):
            by_kind[p.kind][0] += 1
            found += 1
    return {"found": found, "by_kind": dict(by_kind)}


def _detect_secrets_version() -> str | None:
    try:
        from detect_secrets.__version__ import VERSION
    except ImportError:
        return None
    return str(VERSION)


# --------------------------------------------------------------------------- report


def _rows(report: dict[str, Any]) -> Iterator[str]:
    yield f"{'tool':<34} {'files':>5} {'MB':>7} {'seconds':>8} {'MB/s':>8} {'recall':>8} {'bearer JWTs':>13} {'FP':>5}"
    for row in report["results"]:
        bearer = row["by_kind"].get("bearer JWT", [0, 0])
        fp = "" if row["false_positives"] is None else str(row["false_positives"])
        yield (
            f"{row['tool'] + ' ' + row['version']:<34} {row['files']:>5} {row['megabytes']:>7.2f} "
            f"{row['seconds']:>8.3f} {row['mb_per_s']:>8.2f} {row['recall']:>8.1%} "
            f"{bearer[0]:>6} of {bearer[1]:<4} {fp:>5}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cassettes", type=int, default=6, help="cassettes to generate (default: 6)")
    parser.add_argument("--interactions", type=int, default=1000, help="interactions per cassette (default: 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed cfreplay runs; the best counts (default: 3)")
    parser.add_argument(
        "--ds-files", type=int, default=1, help="cassettes detect-secrets scans, 0 to skip it (default: 1)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed for the generated sessions (default: {SEED})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        workers, repeat, *files = args.worker
        print(json.dumps(_worker(int(workers), int(repeat), [Path(file) for file in files])))
        return 0
    cassettes, interactions = max(1, args.cassettes), max(1, args.interactions)

    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-scan-") as tmp:
        started = time.perf_counter()
        paths, planted = generate(Path(tmp), cassettes, interactions, args.seed)
        generated = time.perf_counter() - started
        sizes = [path.stat().st_size for path in paths]
        results: list[dict[str, Any]] = []
        for label, workers in (("cfreplay", None), ("cfreplay 1 process", 1)):
            seconds, result = _run_cfreplay(paths, max(1, args.repeat), workers)
            by_path: dict[str, list[scanner.Finding]] = collections.defaultdict(list)
            for finding in result.findings:
                by_path[finding.path].append(finding)
            scores = [_score_cfreplay(by_path[str(p)], plants) for p, plants in zip(paths, planted, strict=True)]
            row = _result(label, cfreplay.__version__, paths, sizes, seconds, planted, scores)
            row["errors"] = [str(error) for error in result.errors]
            results.append(row)
        command_seconds = _run_command(paths, max(1, args.repeat), Path(tmp))
        clean = _sanitized_copies(paths, Path(tmp) / "sanitized")
        clean_sizes = [path.stat().st_size for path in clean]
        seconds, result = _run_cfreplay(clean, max(1, args.repeat), None)
        empty: list[list[Planted]] = [[] for _ in clean]
        row = _result(
            "cfreplay, sanitized",
            cfreplay.__version__,
            clean,
            clean_sizes,
            seconds,
            empty,
            [{"found": 0, "by_kind": {}, "false_positives": len(result.findings)} for _ in clean],
        )
        row["errors"] = [str(error) for error in result.errors]
        results.append(row)

        ds_version = _detect_secrets_version()
        ds_count = min(max(0, args.ds_files), len(paths))
        if ds_version is not None and ds_count:
            ds_paths = paths[:ds_count]
            ds_seconds, values, hashes = _run_detect_secrets(ds_paths)
            ds_scores = [_score_detect_secrets(values, hashes, plants) for plants in planted[:ds_count]]
            ds_result = _result(
                "detect-secrets", ds_version, ds_paths, sizes[:ds_count], ds_seconds, planted, ds_scores
            )
            ds_result["false_positives"] = None
            results.append(ds_result)

    ours = results[0]
    report: dict[str, Any] = {
        "benchmark": "secret scanning of vcrpy YAML cassettes",
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cassettes": cassettes,
        "interactions_per_cassette": interactions,
        "generation_seconds": round(generated, 2),
        "repeat": max(1, args.repeat),
        "results": results,
        "command_seconds": command_seconds,
        "command_mb_per_s": ours["megabytes"] / command_seconds,
        "target_mb_per_s": TARGET_MB_PER_S,
        "target_recall": TARGET_RECALL,
        "meets_target": ours["mb_per_s"] >= TARGET_MB_PER_S and ours["recall"] >= TARGET_RECALL,
    }
    others = [row for row in results if row["tool"] == "detect-secrets" and row["mb_per_s"] > 0]
    if others:
        report["throughput_ratio"] = ours["mb_per_s"] / others[0]["mb_per_s"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0

    print(
        f"{cassettes} YAML cassettes x {interactions} interactions ({ours['megabytes']:.1f} MB, "
        f"{ours['planted']} planted secrets), generated in {generated:.1f} s; the sanitized copies "
        "hold none (every finding there is a false positive)"
    )
    print(f"Python {report['python']} ({report['implementation']}) on {report['platform']}")
    print()
    for line in _rows(report):
        print(line)
    print(
        f"{'python -m cfreplay scan (whole process)':<34} {len(paths):>5} {ours['megabytes']:>7.2f} "
        f"{command_seconds:>8.3f} {report['command_mb_per_s']:>8.2f}   (start-up and imports included)"
    )
    print()
    for row in results:
        kinds = ", ".join(f"{kind} {hit}/{total}" for kind, (hit, total) in sorted(row["by_kind"].items()))
        print(f"{row['tool']}: {kinds}")
    for row in results:
        if row.get("errors"):
            print(f"{row['tool']} errors: {len(row['errors'])}")
    if "throughput_ratio" in report:
        print(f"\nthroughput ratio cfreplay/detect-secrets: {report['throughput_ratio']:,.0f}x")
    verdict = "met" if report["meets_target"] else "NOT met"
    print(f"target: >= {TARGET_MB_PER_S:g} MB/s and {TARGET_RECALL:.0%} recall for cfreplay: {verdict}")
    return 0


def _result(
    tool: str,
    version: str,
    paths: list[Path],
    sizes: list[int],
    seconds: float,
    planted: list[list[Planted]],
    scores: list[dict[str, Any]],
) -> dict[str, Any]:
    megabytes = sum(sizes[: len(paths)]) / 1e6
    total = sum(len(plants) for plants in planted[: len(paths)])
    found = sum(score["found"] for score in scores)
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for score in scores:
        for kind, (hit, count) in score["by_kind"].items():
            by_kind[kind][0] += hit
            by_kind[kind][1] += count
    false_positives = sum(score.get("false_positives", 0) for score in scores)
    return {
        "tool": tool,
        "version": version,
        "files": len(paths),
        "megabytes": megabytes,
        "seconds": seconds,
        "mb_per_s": megabytes / seconds if seconds > 0 else 0.0,
        "planted": total,
        "found": found,
        "recall": found / total if total else 1.0,
        "by_kind": {kind: list(pair) for kind, pair in by_kind.items()},
        "false_positives": false_positives,
    }


if __name__ == "__main__":
    sys.exit(main())
