"""A per-session memory of results, bounded by count and by total size (no streamlit here).

Reruns of a page would otherwise re-analyse every uploaded file. The memory lives in one
browser session's state, so one user's results are never shown to another.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ResultsMemory(Generic[V]):
    """Least-recently-used results, at most ``max_items`` of them and ``max_bytes`` in all."""

    def __init__(self, max_items: int, max_bytes: int, size_of: Callable[[V], int]) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def total_bytes(self) -> int:
        return self._total

    def get(self, key: Hashable) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: V) -> bool:
        """Keep ``value``, forgetting the least recently used; False if it alone is too big."""
        size = self._size_of(value)
        if key in self._items:
            self._total -= self._items.pop(key)[1]
        if size > self.max_bytes:
            return False  # keeping it would evict everything else; a rerun recomputes it
        while self._items and (
            len(self._items) >= self.max_items or self._total + size > self.max_bytes
        ):
            _, (_, dropped) = self._items.popitem(last=False)
            self._total -= dropped
        self._items[key] = (value, size)
        self._total += size
        return True
