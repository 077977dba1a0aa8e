from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

import cfreplay

# Timestamps must not depend on the machine's zone (as time-machine's own suite pins it).
os.environ["TZ"] = "UTC"
time.tzset()

# Property tests run the same examples everywhere, so a CI failure reproduces locally.
settings.register_profile(
    "cfreplay", derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("cfreplay")


@pytest.fixture(autouse=True)
def _fresh_global_seed() -> Iterator[None]:
    """Every test starts from the same global seed, whatever ran before it."""
    cfreplay.seed(0)
    yield
    cfreplay.seed(0)
