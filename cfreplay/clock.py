"""Time during replay: frozen, ticking, where the cassette was recorded.

A recorded UAA token carries ``exp``.  Replayed later with the real clock, it
looks expired, the client refreshes it, and the test dies on a request that was
never recorded.  Freezing the clock at the recording instant (ticking, so
timeouts and sleeps still advance, and with asyncio's own clock left real so
event loops do not stall) makes replay see the world as recording did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Final

import freezegun

__all__ = ["frozen_at"]

#: Packages whose own clocks stay real.  On every start freezegun hashes ``dir()`` of
#: every loaded module to find ``from time import time`` copies to patch, which costs
#: milliseconds per test with a test toolchain loaded; these packages (cfreplay's
#: dependencies, pytest's, the HTTP clients it replays for) hold no clock the code under
#: test reads, so skipping them roughly halves the cost.  The code under test — and the
#: standard library — is still frozen.  pytest, pluggy and hypothesis are *not* listed:
#: freezegun gives real time to any call with an ignored module within five frames up
#: the stack, and those frameworks sit right above every test function.
_REAL_CLOCK_PACKAGES: Final = (
    "faker", "xdist", "execnet", "iniconfig", "pygments",
    "jsonschema", "jsonschema_specifications", "referencing", "rpds", "yaml", "vcr", "wrapt", "jwt",
    "packaging", "attr", "attrs", "idna", "charset_normalizer", "certifi",
    "requests", "urllib3", "httpx", "httpcore", "h11", "anyio", "sniffio",
    "aiohttp", "aiosignal", "yarl", "multidict", "frozenlist", "propcache", "aiohappyeyeballs",
)  # fmt: skip


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, ``time.time()``, ``datetime.now()``… start at *moment* and tick on."""
    with freezegun.freeze_time(moment, tick=True, real_asyncio=True, ignore=list(_REAL_CLOCK_PACKAGES)):
        yield
