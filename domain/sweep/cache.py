"""A sweep worker's memory between points: indicator outputs under a byte budget, and each data range's facts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from domain.market import CandleSeries
from domain.sweep.fast_stats import DataFacts


class IndicatorCache:
    """A worker's indicator outputs kept across sweep points, least recently used dropped past a byte budget.

    In a fast × slow grid each distinct indicator is then computed once per worker instead of once per point.
    It also keeps the facts of the last few bar ranges (times, calendar periods, market returns), which every
    point's statistics share.
    """

    FACTS_KEPT = 4  # walk-forward windows arrive window by window, so a few ranges are enough

    def __init__(self, budget_bytes: int = 256 * 2**20) -> None:
        self.budget = budget_bytes
        self.bytes = 0
        self._items: OrderedDict[Any, dict[str, np.ndarray]] = OrderedDict()
        self._facts: OrderedDict[Any, DataFacts] = OrderedDict()

    def facts(self, data: Any, series: CandleSeries) -> DataFacts:
        """The facts of `series`, the bar range `data` names (computed on first use)."""
        found = self._facts.get(data)
        if found is None:
            found = self._facts[data] = DataFacts.of(series)
            while len(self._facts) > self.FACTS_KEPT:
                self._facts.popitem(last=False)
        self._facts.move_to_end(data)
        return found

    def for_data(self, data: Any) -> MutableMapping[Any, Any]:
        """The mapping `evaluate` uses for one data set (a key naming the series and bar range)."""
        return _Shelf(self, data)

    def get(self, key: Any) -> dict[str, np.ndarray] | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: dict[str, np.ndarray]) -> None:
        size = sum(a.nbytes for a in value.values())
        if size > self.budget:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= sum(a.nbytes for a in old.values())
        self._items[key] = value
        self.bytes += size
        while self.bytes > self.budget:
            _, dropped = self._items.popitem(last=False)
            self.bytes -= sum(a.nbytes for a in dropped.values())

    def __len__(self) -> int:
        return len(self._items)


class _Shelf(MutableMapping[Any, Any]):
    def __init__(self, cache: IndicatorCache, data: Any) -> None:
        self.cache, self.data = cache, data

    def __getitem__(self, key: Any) -> Any:
        value = self.cache.get((self.data, key))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.cache.put((self.data, key), value)

    def __delitem__(self, key: Any) -> None:
        raise KeyError(key)  # entries only leave by the LRU budget

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0
