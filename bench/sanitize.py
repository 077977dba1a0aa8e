"""Sanitize cost against a plain YAML load plus dump of the same cassette, in one run.

What is timed is what ``cfreplay sanitize FILE`` does: read the file, load it,
sanitize every interaction, serialise, scan the result (the write path's proof)
and write it atomically — or, for a clean cassette, nothing after the sanitize
pass.  The floor is reading, a libyaml load and dump, and writing the same file
(what vcrpy itself does to save a cassette).  The target is at most 2x that
floor.  Two cassettes are measured: a freshly recorded one full of secrets (UAA
logins, bearer JWTs, cookies, env vars), and the same cassette once sanitized
(the common case in CI: nothing left to do).

Run it::

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/sanitize.py
    .venv/bin/python bench/sanitize.py --interactions 2000 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
import yaml

from cfreplay import cassette
from cfreplay.cf import factories
from cfreplay.hygiene import writing
from cfreplay.hygiene.sanitizer import Sanitizer

try:
    from yaml import CSafeDumper as Dumper
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as Loader  # type: ignore[assignment]


def _jwt() -> str:
    claims = {"jti": secrets.token_hex(16), "sub": "u", "email": "a@corp.example", "exp": 2_000_000_000}
    return jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")


def build(interactions: int) -> dict[str, Any]:
    """A cassette shaped like a recorded cf session: token grants, then API calls."""
    cfreplay_seed = 7
    items: list[dict[str, Any]] = []
    for index in range(interactions):
        token = _jwt()
        if index % 10 == 0:
            body = json.dumps({"access_token": token, "token_type": "bearer", "refresh_token": _jwt(),
                               "expires_in": 43199, "scope": "openid", "jti": secrets.token_hex(16)})  # fmt: skip
            request_body = f"grant_type=password&username=ada&password={secrets.token_urlsafe(12)}"
        else:
            app = factories.app_envelope(seed=cfreplay_seed + index)
            app["entity"]["environment_json"] = {"DB_PASSWORD": secrets.token_urlsafe(12), "LOG_LEVEL": "info"}
            body = json.dumps(app, indent=2)
            request_body = None
        items.append({
            "request": {
                "body": request_body,
                "headers": {"Authorization": [f"bearer {token}"], "Cookie": [f"JSESSIONID={secrets.token_hex(16)}"],
                            "Accept": ["application/json"]},
                "method": "POST" if request_body else "GET",
                "uri": f"https://api.sys.example.com/v2/apps/{index}",
            },
            "response": {
                "body": {"string": body},
                "headers": {"Content-Type": ["application/json;charset=utf-8"],
                            "Set-Cookie": [f"__VCAP_ID__={secrets.token_hex(16)}; Path=/"]},
                "status": {"code": 200, "message": "OK"},
            },
        })  # fmt: skip
    return {"interactions": items, "version": 1}


def best(function: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    dirty = cassette.dumps(build(args.interactions), "yaml")
    cleaned = copy.deepcopy(yaml.load(dirty, Loader=Loader))
    Sanitizer().sanitize_data(cleaned)
    clean = cassette.dumps(cleaned, "yaml")

    rows = []
    folder = Path(tempfile.mkdtemp(prefix="cfreplay-bench-sanitize-"))
    for label, raw in (("secrets everywhere", dirty), ("already sanitized", clean)):
        path = folder / "bench.yaml"

        def floor(raw: bytes = raw, path: Path = path) -> None:
            path.write_bytes(raw)
            text = yaml.dump(yaml.load(path.read_bytes(), Loader=Loader), Dumper=Dumper)
            cassette.atomic_write(path, text.encode("utf-8"))

        def sanitize(raw: bytes = raw, path: Path = path) -> None:
            path.write_bytes(raw)
            writing.sanitize_file(path, Sanitizer())

        base, ours = best(floor, args.repeat), best(sanitize, args.repeat)
        rows.append({"cassette": label, "mb": len(raw) / 1e6, "load_dump_s": base, "sanitize_s": ours,
                     "ratio": ours / base})  # fmt: skip

    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "interactions": args.interactions, "rows": rows}, indent=2))
        return 0
    print(f"Sanitize vs YAML load+dump, {args.interactions} interactions, best of {args.repeat}")
    print(f"Python {platform.python_version()} on {platform.platform()}\n")
    print(f"{'cassette':<22}{'MB':>7}{'load+dump s':>14}{'sanitize s':>13}{'ratio':>8}")
    for row in rows:
        print(f"{row['cassette']:<22}{row['mb']:>7.1f}{row['load_dump_s']:>14.3f}{row['sanitize_s']:>13.3f}"
              f"{row['ratio']:>7.2f}x")  # fmt: skip
    worst = max(row["ratio"] for row in rows)
    print(f"\ntarget: sanitize <= 2x load+dump; worst here {worst:.2f}x ({'met' if worst <= 2 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
