"""One seed for everything random: Faker, guids and the factory clock.

Like factory_boy's ``factory.random``, a single call reseeds all of it::

    cfreplay.seed(42)            # every later factory call is reproducible
    with cfreplay.seeded(7):     # or just for a block, then the old state returns
        ...

The same seed gives byte-identical output in any process, under any
``PYTHONHASHSEED`` and on any machine with the same cfreplay and Faker
versions: all randomness flows from one ``random.Random`` and nothing iterates
over a set or a hash-ordered mapping.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast

if TYPE_CHECKING:
    from faker import Faker


__all__ = ["DEFAULT_NOW", "Seeder", "current", "seed", "seeded"]

_T = TypeVar("_T")

#: The factory clock's default: the instant of the documented restage exchange.
DEFAULT_NOW: Final = datetime(2015, 11, 3, 0, 54, 16, tzinfo=UTC)

Now = datetime | Literal["wall"] | None


class Seeder:
    """A seeded source of randomness and time for the factories.

    ``now`` fixes the factory clock: a timezone-aware ``datetime``, ``"wall"`` to
    read the real clock at each call (so freezegun's frozen time is honoured), or
    ``None`` for :data:`DEFAULT_NOW`.  The wall clock is never read unless asked.
    """

    __slots__ = ("_faker", "_now", "random", "seed")

    def __init__(self, seed: int | str = 0, *, now: Now = None) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        if isinstance(now, datetime):
            if now.tzinfo is None:
                raise ValueError("now must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))")
            now = now.astimezone(UTC).replace(microsecond=0)
        self._now: datetime | Literal["wall"] = DEFAULT_NOW if now is None else now
        self._faker: Faker | None = None

    def now(self) -> datetime:
        if self._now == "wall":
            return datetime.now(UTC).replace(microsecond=0)
        return self._now

    @property
    def faker(self) -> Faker:
        """Faker drawing from this Seeder's Random.

        Each Seeder has its own (made on first use): a shared instance rebound per
        Seeder would let two threads — a test and the simulator's server — draw
        from each other's seed.
        """
        if self._faker is None:
            from faker import Faker  # ~60 ms to import: only when something asks for fake data

            self._faker = Faker("en_US")
            cast(Any, self._faker).random = self.random
        return self._faker

    def uuid(self) -> str:
        """A v4 UUID string drawn from the seed (never from ``os.urandom``)."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self.random.getrandbits(length * 4):0{length}x}"

    def choice(self, options: Sequence[_T]) -> _T:
        return options[int(self.random.random() * len(options))]

    def chance(self, probability: float) -> bool:
        return self.random.random() < probability

    def between(self, start: datetime, end: datetime) -> datetime:
        """A whole-second instant in ``[start, end]``."""
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.random.randint(0, max(span, 0)))


_current = Seeder()


def current() -> Seeder:
    """The Seeder the factories use when no ``seed=`` is passed."""
    return _current


def seed(value: int | str, *, now: Now = None) -> Seeder:
    """Reseed Faker, guids and the clock together; later factory calls repeat exactly."""
    global _current
    _current = Seeder(value, now=now)
    return _current


@contextmanager
def seeded(value: int | str, *, now: Now = None) -> Iterator[Seeder]:
    """Within the block the factories draw from *value*; afterwards the previous state resumes."""
    global _current
    previous = _current
    _current = Seeder(value, now=now)
    try:
        yield _current
    finally:
        _current = previous
