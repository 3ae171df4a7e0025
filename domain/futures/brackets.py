"""Maintenance-margin brackets (Binance's leverageBracket): notional floor/cap, max leverage, ratio and cum."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


class InvalidBrackets(ValueError):
    """A bracket table is malformed; the message names the symbol and the bracket."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """One notional band: positions with floor < notional ≤ cap may use up to `max_leverage`; their
    maintenance margin is notional × `mmr` − `cum` (`cum` keeps it continuous across bands)."""

    number: int
    notional_floor: float
    notional_cap: float
    max_leverage: int
    mmr: float
    cum: float

    def maintenance_margin(self, notional: float) -> float:
        return abs(notional) * self.mmr - self.cum


@dataclass(frozen=True, slots=True)
class BracketTable:
    """A symbol's brackets, lowest notional first, each band starting where the previous one ends."""

    symbol: str
    brackets: tuple[Bracket, ...]

    def __post_init__(self) -> None:
        if not self.brackets:
            raise InvalidBrackets(f"{self.symbol}: no brackets")
        prev: Bracket | None = None
        for b in self.brackets:
            where = f"{self.symbol} bracket {b.number}"
            if not (0 <= b.notional_floor < b.notional_cap) or not math.isfinite(b.notional_cap):
                raise InvalidBrackets(f"{where}: notional floor {b.notional_floor} must be below its cap "
                                      f"{b.notional_cap}")
            if b.max_leverage < 1 or not 0 < b.mmr < 1 or b.cum < 0:
                raise InvalidBrackets(f"{where}: max leverage must be ≥ 1, ratio in (0, 1), cum ≥ 0")
            expected_floor = 0.0 if prev is None else prev.notional_cap
            if b.notional_floor != expected_floor:
                raise InvalidBrackets(f"{where}: starts at {b.notional_floor}, expected {expected_floor}")
            prev = b

    @property
    def max_leverage(self) -> int:
        """The highest leverage the symbol allows at all (its first bracket's)."""
        return max(b.max_leverage for b in self.brackets)

    def bracket_for(self, notional: float) -> Bracket:
        """The bracket holding |notional| (floor < notional ≤ cap; 0 is in the first). Above the last cap the
        exchange refuses the position: ValueError."""
        n = abs(notional)
        for b in self.brackets:
            if n <= b.notional_cap:
                return b
        raise ValueError(f"{self.symbol}: a notional of {n:,.2f} is above the largest bracket's cap "
                         f"({self.brackets[-1].notional_cap:,.0f})")

    def max_notional(self, leverage: float) -> float:
        """The largest position notional the symbol allows at `leverage` (0 if no bracket allows it)."""
        return max((b.notional_cap for b in self.brackets if b.max_leverage >= leverage), default=0.0)

    def maintenance_margin(self, notional: float) -> float:
        return self.bracket_for(notional).maintenance_margin(notional)

    def arrays(self) -> tuple[F64, F64, F64, F64]:
        """(caps, max leverages, ratios, cums) as float64 arrays for numba kernels (floors are the previous cap)."""
        return (np.array([b.notional_cap for b in self.brackets], dtype=np.float64),
                np.array([b.max_leverage for b in self.brackets], dtype=np.float64),
                np.array([b.mmr for b in self.brackets], dtype=np.float64),
                np.array([b.cum for b in self.brackets], dtype=np.float64))


def _number(entry: Mapping[str, Any], name: str, where: str) -> float:
    try:
        value = float(entry[name])
    except KeyError:
        raise InvalidBrackets(f"{where}: {name} is missing") from None
    except (TypeError, ValueError):
        raise InvalidBrackets(f"{where}: {name} is not a number ({entry[name]!r})") from None
    if not math.isfinite(value):
        raise InvalidBrackets(f"{where}: {name} is not finite")
    return value


def parse_bracket_table(item: Mapping[str, Any]) -> BracketTable:
    """One entry of Binance's GET /fapi/v1/leverageBracket answer -> a BracketTable."""
    symbol = str(item.get("symbol", "")) if isinstance(item, Mapping) else ""
    raw = item.get("brackets") if isinstance(item, Mapping) else None
    if not symbol or not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidBrackets(f"bracket entry {item!r:.80}: needs a symbol and a list of brackets")
    out = []
    for i, entry in enumerate(raw):
        where = f"{symbol} bracket #{i + 1}"
        if not isinstance(entry, Mapping):
            raise InvalidBrackets(f"{where}: not an object")
        leverage = _number(entry, "initialLeverage", where)
        if leverage != int(leverage):
            raise InvalidBrackets(f"{where}: initialLeverage must be a whole number, got {leverage}")
        out.append(Bracket(int(_number(entry, "bracket", where)), _number(entry, "notionalFloor", where),
                           _number(entry, "notionalCap", where), int(leverage),
                           _number(entry, "maintMarginRatio", where), _number(entry, "cum", where)))
    return BracketTable(symbol, tuple(sorted(out, key=lambda b: b.notional_floor)))


def parse_bracket_tables(data: Any) -> dict[str, BracketTable]:
    """The whole leverageBracket answer (a list of symbols) -> tables by symbol."""
    if not isinstance(data, list):
        raise InvalidBrackets("the bracket table is not a list of symbols")
    tables = [parse_bracket_table(item) for item in data]
    return {t.symbol: t for t in tables}
