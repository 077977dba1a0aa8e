"""The same seed gives the same bytes: in-process, across processes and hash seeds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import cfreplay
from cfreplay.cf import factories

SNAPSHOT = """
import hashlib, json, cfreplay
from cfreplay.cf import factories
cfreplay.seed(20261128)
parts = [
    json.dumps(factories.app_envelope()),
    json.dumps(factories.app_envelope("docker", "staging_failed", api_version="2.150", links=True)),
    factories.restage_response().to_http().decode(),
    factories.restage_response(api_version="2.293").to_http().decode(),
    factories.error_response("AppNotFound").to_http().decode(),
    json.dumps(factories.list_page(total_results=75, page=2)),
    json.dumps(factories.info(api_version="2.200")),
    json.dumps(factories.token_response()),
    factories.restage_request().to_http().decode(),
]
print(hashlib.sha256("\\n".join(parts).encode()).hexdigest())
"""


def run_snapshot(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", SNAPSHOT], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_two_processes_with_different_hash_seeds_agree() -> None:
    first, second = run_snapshot("0"), run_snapshot("4242")
    assert len(first) == 64
    assert first == second


def test_same_seed_same_bytes_and_different_seed_different_bytes() -> None:
    def draw(seed: int) -> bytes:
        cfreplay.seed(seed)
        return json.dumps([factories.app_envelope(), factories.token_response()]).encode()

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_per_call_seed_is_independent_of_the_global_state() -> None:
    alone = factories.restage_response(seed=9).body
    factories.app_envelope()  # advance the global generator
    assert factories.restage_response(seed=9).body == alone


def test_seeded_block_restores_the_previous_stream() -> None:
    cfreplay.seed(3)
    expected = [factories.app_envelope() for _ in range(2)]
    cfreplay.seed(3)
    first = factories.app_envelope()
    with cfreplay.seeded(99) as seeder:
        inner = factories.app_envelope()
        assert seeder.seed == 99
    assert [first, factories.app_envelope()] == expected
    cfreplay.seed(99)
    assert factories.app_envelope() == inner


def test_string_seeds_are_stable() -> None:
    digest = hashlib.sha256(factories.restage_response(seed="billing-suite").body).hexdigest()
    assert digest == hashlib.sha256(factories.restage_response(seed="billing-suite").body).hexdigest()
    assert factories.restage_response(seed="a").body != factories.restage_response(seed="b").body
