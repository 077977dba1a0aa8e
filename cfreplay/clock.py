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

import freezegun

__all__ = ["frozen_at"]


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, ``time.time()``, ``datetime.now()``… start at *moment* and tick on."""
    with freezegun.freeze_time(moment, tick=True, real_asyncio=True):
        yield
