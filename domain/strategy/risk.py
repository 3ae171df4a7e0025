"""Risk block of a strategy (schema 2): position size, stop, take-profit levels, trailing stop, scaling in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from domain.strategy.model import Group

DistanceKind: TypeAlias = Literal["pct", "atr"]
Anchor: TypeAlias = Literal["extreme", "close"]
ANCHORS = ("extreme", "close")


@dataclass(frozen=True, slots=True)
class Distance:
    """How far from a price a level sits: `pct` % of it, or `mult` × ATR(`period`) of the signal bar."""

    kind: DistanceKind
    value: float  # the percentage, or the ATR multiple
    period: int = 0  # ATR period (atr only)

    @classmethod
    def pct(cls, value: float) -> Distance:
        return cls("pct", float(value))

    @classmethod
    def atr(cls, period: int, mult: float) -> Distance:
        return cls("atr", float(mult), int(period))


@dataclass(frozen=True, slots=True)
class TakeProfitLevel:
    """A target at `distance` in favour of the average entry, closing `close_pct` % of the peak size."""

    distance: Distance
    close_pct: float = 100.0


@dataclass(frozen=True, slots=True)
class Trailing:
    """A trailing stop `distance` from the best extreme since entry, or from each close (tightening only)."""

    distance: Distance
    anchor: Anchor = "extreme"


@dataclass(frozen=True, slots=True)
class ScaleIn:
    """On a close where `when` holds with a position open, add `size_pct` % of the initial entry's size."""

    when: Group
    size_pct: float
    max_adds: int
    min_bars_between: int = 1


@dataclass(frozen=True, slots=True, init=False)
class Risk:
    """Position sizing and exits applied by the engine.

    A plain number for `stop_loss`, `take_profit` or `trailing_stop` is a percentage (schema 1's fields), so
    `Risk(100, 2.0)` is a 2 % stop. A single take-profit is one level closing the whole position.
    """

    position_size_pct: float
    stop_loss: Distance | None
    take_profit: tuple[TakeProfitLevel, ...]
    trailing_stop: Trailing | None

    def __init__(self, position_size_pct: float = 100.0, stop_loss: Distance | float | None = None,
                 take_profit: tuple[TakeProfitLevel, ...] | TakeProfitLevel | Distance | float | None = None,
                 trailing_stop: Trailing | Distance | float | None = None) -> None:
        object.__setattr__(self, "position_size_pct", float(position_size_pct))
        object.__setattr__(self, "stop_loss", _distance(stop_loss))
        object.__setattr__(self, "take_profit", _levels(take_profit))
        trail = _distance(trailing_stop) if not isinstance(trailing_stop, Trailing) else trailing_stop.distance
        anchor: Anchor = trailing_stop.anchor if isinstance(trailing_stop, Trailing) else "extreme"
        object.__setattr__(self, "trailing_stop", None if trail is None else Trailing(trail, anchor))

    @property
    def stop_loss_pct(self) -> float | None:
        """The stop as a percentage when it is one (schema 1's field), else None."""
        return _pct(self.stop_loss)

    @property
    def take_profit_pct(self) -> float | None:
        """The target as a percentage when it is a single full-size percentage level, else None."""
        if len(self.take_profit) != 1 or self.take_profit[0].close_pct != 100.0:
            return None
        return _pct(self.take_profit[0].distance)

    @property
    def trailing_stop_pct(self) -> float | None:
        """The trail as a percentage when it is one anchored at the extreme (schema 1's rule), else None."""
        t = self.trailing_stop
        return _pct(t.distance) if t is not None and t.anchor == "extreme" else None

    @property
    def is_v1(self) -> bool:
        """True when schema 1's percentage fields state this risk block completely."""
        t, tp = self.trailing_stop, self.take_profit
        return ((self.stop_loss is None or self.stop_loss.kind == "pct")
                and (not tp or (len(tp) == 1 and self.take_profit_pct is not None))
                and (t is None or self.trailing_stop_pct is not None))


def _pct(d: Distance | None) -> float | None:
    return d.value if d is not None and d.kind == "pct" else None


def _distance(value: Distance | float | None) -> Distance | None:
    if value is None or isinstance(value, Distance):
        return value
    return Distance.pct(value) if value else None


def _levels(value: tuple[TakeProfitLevel, ...] | TakeProfitLevel | Distance | float | None,
            ) -> tuple[TakeProfitLevel, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, TakeProfitLevel):
        return (value,)
    d = _distance(value)
    return () if d is None else (TakeProfitLevel(d),)
