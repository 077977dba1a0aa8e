"""The work a replayed test costs, counted in instructions: immune to the machine's other tenants.

``process.py`` times whole pytest processes; on a shared VM their best wall time moves by a
tenth from run to run, more than a change worth making.  This script runs the same
generated suites (``process.generate``) under valgrind's callgrind, which counts the
user-space instructions a process executes: the same count, to a fraction of a percent,
every run.  Each suite runs at two sizes (``--small``, ``--large`` tests), so what a test
costs (the slope) and what a process pays once (the intercept) come apart, each over the
floor's.  Printed per tool: millions of instructions per test and once per process over
the floor, the two combined at ``--tests`` (default 500, as ``process.py``), and the ratio
to pytest-recording's.

What instructions do not count: time in the kernel (file reads, the ``mmap`` churn below),
cache misses and page faults.  They are a complement to ``process.py``'s wall times, not
a replacement.  Needs valgrind; each process runs ~40x slower under it (a few minutes in
all at the default sizes, two at a time)::

    .venv/bin/python bench/instructions.py --python /tmp/bench-venv/bin/python [--before PYTHON]

``--before PYTHON`` also counts the cfreplay suites with another interpreter (another build
of cfreplay), as ``process.py --before`` does.  The script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The suites process.py generates, from beside this file.
import process

SUITES = ("floor", "cfreplay YAML, frozen (default)", "cfreplay JSON, frozen", "pytest-recording 0.14")
_COLLECTED = re.compile(r"Collected : (\d+)")


def count(python: str, root: Path, label: str) -> int:
    """Instructions of one pytest process running the suite *label* under *root* (run once first for its caches)."""
    _, _, blocked, extra = process.SUITES[label]
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    for plugin in blocked:
        argv += ["-p", f"no:{plugin}"]
    argv += [*extra, str(root / process._folder(label))]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["BENCH_DURATIONS"] = str(root / f"durations-{os.getpid()}-{abs(hash((python, label)))}.json")
    subprocess.run(argv, cwd=root, capture_output=True, check=False, env=env)  # bytecode and rewrite caches
    return callgrind(argv, label, cwd=root, env=env)


def callgrind(argv: list[str], label: str, **run: Any) -> int:
    """The user-space instructions the process *argv* executes, counted by callgrind (*run*: for subprocess.run)."""
    grind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
    done = subprocess.run(grind, capture_output=True, text=True, check=False, **run)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"{label}: no instruction count from callgrind ({done.stderr.strip()[-200:]})")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before", default=None, help="also count the cfreplay suites with this interpreter")
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--tests", type=int, default=500, help="the suite size the combined figure is for")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing counted")
        return 0
    rows = [(label, args.python) for label in SUITES]
    if args.before:
        rows += [(label + process.BEFORE, args.before) for label in SUITES if label.startswith("cfreplay")]
    counts: dict[tuple[str, int], int] = {}
    with tempfile.TemporaryDirectory(prefix="cfreplay-bench-instructions-") as temporary:
        roots = {size: Path(temporary) / str(size) for size in (args.small, args.large)}
        for size, root in roots.items():
            root.mkdir()
            process.generate(root, size)
        jobs = {(label, size): (python, roots[size], label.removesuffix(process.BEFORE))
                for label, python in rows for size in roots}  # fmt: skip
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            futures = {key: pool.submit(count, *job) for key, job in jobs.items()}
            counts = {key: future.result() for key, future in futures.items()}
    span = args.large - args.small

    def split(label: str) -> tuple[float, float]:
        per_test = (counts[(label, args.large)] - counts[(label, args.small)]) / span
        return per_test, counts[(label, args.small)] - args.small * per_test

    floor_test, floor_once = split("floor")
    print(f"Instructions (callgrind), suites of {args.small} and {args.large} tests; per test and once per process, "
          f"over the floor ({floor_test / 1e6:.2f} M a test)")  # fmt: skip
    print()
    print(f"{'tool':44} {'M/test':>8} {'M once':>8} {f'M/test at {args.tests}':>14} {'ratio':>7}")
    theirs_test, theirs_once = split("pytest-recording 0.14")
    theirs = (theirs_test - floor_test) + (theirs_once - floor_once) / args.tests
    for label, _ in rows:
        if label == "floor":
            continue
        per_test, once = split(label)
        combined = (per_test - floor_test) + (once - floor_once) / args.tests
        print(f"{label:44} {(per_test - floor_test) / 1e6:8.2f} {(once - floor_once) / 1e6:8.1f} "
              f"{combined / 1e6:14.2f} {combined / theirs:6.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
