"""The factories' app traits: names of real app states, at most one from each group.

Apart from the factories themselves so that the ``cfreplay`` command can offer them as
choices without importing the factories (and Faker) for every subcommand.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TRAITS", "TRAIT_GROUPS"]

#: Traits name real app states; at most one from each group applies.
TRAIT_GROUPS: Final[tuple[tuple[str, ...], ...]] = (
    ("started", "stopped"),
    ("staged", "staging", "staging_failed"),
    ("buildpack", "docker"),
    ("diego", "dea"),
)
TRAITS: Final[tuple[str, ...]] = tuple(t for group in TRAIT_GROUPS for t in group)
