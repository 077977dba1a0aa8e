"""How Java's ``HashSet`` and ``HashMap`` iterate: the order UAA writes its sets and maps in.

UAA builds some token claims from Java hash collections - the ``aud`` list, an id token's
keys, the ``scope`` an invalid_scope error lists - so their order is neither sorted nor the
order things were added, but the collection's bucket order.  These functions reproduce it
for strings on Java 8 and later (OpenJDK ``java.util.HashMap``); Java 7 spread hashes
differently.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["java_hash_map_order", "java_hash_set_order", "java_string_hash"]


def java_string_hash(text: str) -> int:
    """``String.hashCode()``: ``s[0]*31^(n-1) + … + s[n-1]`` over UTF-16 code units, as an unsigned int."""
    h = 0
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i : i + 2], "big")) & 0xFFFFFFFF
    return h


def _bucket_order(items: Sequence[str], capacity: int) -> list[str]:
    """How a ``HashMap`` of *capacity* buckets iterates *items* (inserted in this order).

    Bucket index ``(h ^ (h >>> 16)) & (capacity - 1)``; within a bucket, insertion order
    (resizes split buckets keeping it; trees only form for 8+ keys in one bucket of 64+).
    """
    buckets: dict[int, list[str]] = {}
    for item in dict.fromkeys(items):
        h = java_string_hash(item)
        buckets.setdefault((h ^ (h >> 16)) & (capacity - 1), []).append(item)
    return [item for index in sorted(buckets) for item in buckets[index]]


def java_hash_set_order(items: Sequence[str]) -> list[str]:
    """The iteration order of ``new HashSet<>(items)`` (duplicates dropped, the first kept).

    Its table is sized once from the collection (``max((int) (n / .75f) + 1, 16)``, rounded up
    to a power of two) and never grows while it is filled.
    """
    wanted = max(int(len(dict.fromkeys(items)) / 0.75) + 1, 16)
    return _bucket_order(items, 1 << (wanted - 1).bit_length())


def java_hash_map_order(keys: Sequence[str]) -> list[str]:
    """The iteration order of a default ``new HashMap<>()`` (or ``HashSet``) after adding *keys* in order.

    It starts at 16 buckets and doubles whenever it holds more than three quarters of them.
    """
    capacity = 16
    while len(dict.fromkeys(keys)) > capacity * 3 // 4:
        capacity *= 2
    return _bucket_order(keys, capacity)
