from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fakecloud import FakeCloud
from hypothesis import HealthCheck, settings

import cfreplay
from cfreplay.replay import network

# Timestamps must not depend on the machine's zone (as time-machine's own suite pins it).
os.environ["TZ"] = "UTC"
time.tzset()

# Property tests run the same examples everywhere, so a CI failure reproduces locally.
settings.register_profile(
    "cfreplay", derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "explore",
    max_examples=int(os.environ.get("CFREPLAY_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# The same budget, exploring: CI's second run passes --hypothesis-seed taken from the commit.
settings.register_profile("seeded", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("CFREPLAY_HYPOTHESIS", "cfreplay"))


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    return f"hypothesis: profile {settings._current_profile}" + (f", seed {seed}" if seed is not None else "")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """A failed exploring run says how to replay it."""
    seed = config.getoption("hypothesis_seed", None)
    if exitstatus != 0 and seed is not None:
        terminalreporter.write_line(
            f"hypothesis seed {seed}: replay with CFREPLAY_HYPOTHESIS={settings._current_profile} "
            f"pytest --hypothesis-seed={seed}"
        )


@pytest.fixture(autouse=True)
def _fresh_global_seed() -> Iterator[None]:
    """Every test starts from the same global seed, whatever ran before it."""
    cfreplay.seed(0)
    yield
    cfreplay.seed(0)


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address that reaches the real ``socket.connect`` through cfreplay's guard."""
    reached: list[Any] = []
    original = network._original_connect

    def spy(sock: socket.socket, address: Any) -> None:
        reached.append(address)
        original(sock, address)

    # Undone last-first: the guard's original, then socket.socket.connect itself (which the
    # block restores from the guard's original when it ends).
    monkeypatch.setattr(socket.socket, "connect", socket.socket.connect)
    monkeypatch.setattr(network, "_original_connect", spy)
    return reached


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    """A fake Cloud Controller + UAA on 127.0.0.1, with secrets generated for this test."""
    fake = FakeCloud()
    try:
        yield fake
    finally:
        fake.stop()
