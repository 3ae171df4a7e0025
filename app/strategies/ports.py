"""The strategy store port (`StrategyRepository`) and the plain records it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from app.errors import UserError
from domain.strategy import Strategy

SortKey = Literal["name", "updated"]
SORT_KEYS: tuple[SortKey, ...] = ("name", "updated")


class StrategyNameTaken(UserError):
    """Another strategy already has this name (names are unique, ignoring ASCII case)."""


class StrategyNotFound(UserError):
    """No strategy with that id or name."""


@dataclass(frozen=True, slots=True)
class StrategyQuery:
    """Which strategies, in what order: name substring and tag filters, sort key and direction."""

    name_contains: str = ""
    tag: str | None = None
    sort: SortKey = "name"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Keyset position: the sort value and id of the last row of the previous page."""

    value: str | int
    id: int


@dataclass(frozen=True, slots=True)
class StrategySummary:
    """One row of the strategy list (no definition body)."""

    id: int
    name: str
    direction: str
    tags: tuple[str, ...]
    notes: str
    created_ms: int
    updated_ms: int
    last_backtest_return: float | None
    last_backtest_trades: int | None


@dataclass(frozen=True, slots=True)
class StrategyRecord:
    """A stored strategy: its summary, the domain Strategy the repository parsed (None if the stored definition
    no longer validates, e.g. written by an older indicator catalog) and the definition as stored (the JSON
    shape the Builder edits and an export writes)."""

    summary: StrategySummary
    strategy: Strategy | None
    definition: dict[str, Any]

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def name(self) -> str:
        return self.summary.name


@dataclass(frozen=True, slots=True)
class Page:
    """Rows of one page and the cursor for the next (None on the last page)."""

    items: tuple[StrategySummary, ...]
    next_cursor: PageCursor | None


@dataclass(frozen=True, slots=True)
class NewStrategy:
    """What is written: a validated strategy with its notes and tags."""

    strategy: Strategy
    notes: str = ""
    tags: tuple[str, ...] = ()


class StrategyRepository(Protocol):
    """Strategy store. Every write is one transaction; times come from the caller's clock."""

    def add(self, item: NewStrategy, now_ms: int) -> StrategyRecord:
        """Insert; raises StrategyNameTaken."""
        ...

    def add_many(self, items: Sequence[NewStrategy], now_ms: int) -> list[int]:
        """Insert all or nothing (one transaction); raises StrategyNameTaken naming the first clash."""
        ...

    def update(self, strategy_id: int, item: NewStrategy, now_ms: int) -> StrategyRecord:
        """Replace definition, notes and tags; raises StrategyNotFound or StrategyNameTaken."""
        ...

    def get(self, strategy_id: int) -> StrategyRecord | None: ...

    def get_by_name(self, name: str) -> StrategyRecord | None: ...

    def delete(self, strategy_id: int) -> bool: ...

    def page(self, query: StrategyQuery, limit: int, after: PageCursor | None = None) -> Page:
        """Keyset page: the `limit` rows after `after` in `query`'s order."""
        ...

    def page_at(self, query: StrategyQuery, offset: int, limit: int) -> list[StrategySummary]:
        """Offset page, for a list view that jumps to any row."""
        ...

    def count(self, query: StrategyQuery | None = None) -> int: ...

    def tags(self) -> list[tuple[str, int]]:
        """Every tag in use with how many strategies carry it, by tag."""
        ...

    def names_taken(self, names: Sequence[str]) -> list[str]:
        """Those of `names` already used (compared ignoring ASCII case)."""
        ...

    def set_last_backtest(self, strategy_id: int, return_pct: float | None, trades: int | None) -> None:
        """Record the latest backtest's return % and trade count for the list view."""
        ...

    def samples_loaded(self) -> bool:
        """Whether the bundled samples were ever loaded into this database."""
        ...

    def mark_samples_loaded(self) -> None: ...
