"""A slow, plain-Python restatement of the schema-2 risk rules (levels, partial closes, ATR, anchors, scale-in)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

PositionRule = Callable[[int, float, int], bool]  # (bar, return % from the average entry, bars held) -> fires


@dataclass
class Level:
    kind: str  # "pct" | "atr"
    value: float  # fraction for pct, mult for atr
    close_pct: float  # percent of the peak size


@dataclass
class Rules:
    size_frac: float = 1.0
    stop: tuple[str, float] | None = None  # ("pct", fraction) | ("atr", mult)
    levels: list[Level] = field(default_factory=list)
    trail: tuple[str, float] | None = None
    trail_close: bool = False
    add_frac: float = 0.0
    max_adds: int = 0
    min_gap: int = 1


@dataclass
class RefV2:
    """Bars, signals (el, xl, es, xs, add), ATR per bar and the rules; run() fills `trades` and `equity`."""

    o: list[float]
    h: list[float]
    lo: list[float]
    c: list[float]
    atr: list[float]
    rules: Rules
    cash: float
    commission: float = 0.0
    slippage: float = 0.0
    lot: float = 1.0
    reverse: bool = False
    on_close: bool = False
    trades: list[tuple[int, float, int, int, float, float, float, str]] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    pos: dict | None = None
    exit_rule: PositionRule | None = None  # replaces the exit signals while a position is open
    add_rule: PositionRule | None = None  # replaces the scale-in signal while a position is open

    def level_prices(self) -> None:
        p, r = self.pos, self.rules
        assert p is not None
        side, avg = p["side"], p["avg"]
        if r.stop is not None:
            p["sl"] = avg * (1 - side * r.stop[1]) if r.stop[0] == "pct" else avg - side * p["sl_dist"]
        p["targets"] = [avg * (1 + side * lv.value) if lv.kind == "pct" else avg + side * d
                        for lv, d in zip(r.levels, p["tp_dist"], strict=True)]

    def open(self, side: int, raw: float, i: int, s: int) -> None:
        price = raw * (1 + side * self.slippage)
        per_unit = price + (self.rules.size_frac * raw * self.commission) / self.rules.size_frac
        units = (max(self.cash, 0) * self.rules.size_frac) // (per_unit * self.lot) * self.lot
        if units <= 0:
            return
        self.cash -= units * price * self.commission
        a, r = self.atr[s], self.rules
        self.pos = {"side": side, "size": units, "avg": price, "bar": i, "peak_size": units, "init": units,
                    "adds": 0, "last_add": i, "sl": None, "sl_dist": (r.stop[1] * a if r.stop else 0.0),
                    "tp_dist": [lv.value * a for lv in r.levels], "done": [False] * len(r.levels),
                    "trail": None, "best": price}
        if r.trail is not None and not r.trail_close:
            self.pos["trail"] = self.offset(price, side, a)
        self.level_prices()

    def offset(self, anchor: float, side: int, a: float) -> float:
        kind, value = self.rules.trail  # type: ignore[misc]
        return anchor * (1 - side * value) if kind == "pct" else anchor - side * value * a

    def add(self, raw: float, i: int) -> None:
        p = self.pos
        assert p is not None
        side = p["side"]
        price = raw * (1 + side * self.slippage)
        units = (p["init"] * self.rules.add_frac) // self.lot * self.lot
        equity = self.cash + side * p["size"] * (price - p["avg"])
        room = equity / (raw * (1 + side * self.slippage) + raw * self.commission) - p["size"]
        units = min(units, max(room, 0) // self.lot * self.lot)
        if units <= 0:
            return
        p["avg"] = (p["avg"] * p["size"] + price * units) / (p["size"] + units)
        p["size"] += units
        p["peak_size"] = max(p["peak_size"], p["size"])
        p["adds"] += 1
        p["last_add"] = i
        self.level_prices()
        self.cash -= units * price * self.commission

    def close(self, units: float, raw: float, i: int, why: str) -> None:
        p = self.pos
        assert p is not None
        units = min(units, p["size"])
        side, avg = p["side"], p["avg"]
        x = raw * (1 - side * self.slippage)
        exit_comm, entry_comm = units * x * self.commission, units * avg * self.commission
        self.trades.append((side, units, p["bar"], i, avg, x, side * units * (x - avg) - (exit_comm + entry_comm), why))
        self.cash += side * units * (x - avg) - exit_comm
        p["size"] -= units
        if p["size"] <= self.lot * 1e-9:
            self.pos = None

    def exits(self, i: int) -> None:
        p = self.pos
        assert p is not None
        side = p["side"]
        stops = [lv for lv in (p["sl"], p["trail"]) if lv is not None and not math.isnan(lv)]
        if stops:
            level = max(stops) if side > 0 else min(stops)
            if (side > 0 and self.lo[i] <= level) or (side < 0 and self.h[i] >= level):
                trail_wins = p["trail"] is not None and (p["sl"] is None or side * p["trail"] > side * p["sl"])
                raw = min(self.o[i], level) if side > 0 else max(self.o[i], level)
                return self.close(p["size"], raw, i, "trailing" if trail_wins else "stop")
        while self.pos is not None:
            pending = [j for j, done in enumerate(p["done"]) if not done]
            if not pending:
                return
            j = min(pending, key=lambda j: side * p["targets"][j])
            target = p["targets"][j]
            if (side > 0 and self.h[i] < target) or (side < 0 and self.lo[i] > target):
                return
            p["done"][j] = True
            raw = max(self.o[i], target) if side > 0 else min(self.o[i], target)
            last = all(p["done"])
            share = self.rules.levels[j].close_pct / 100
            units = p["size"] if last else p["peak_size"] * share // self.lot * self.lot
            if units > 0:
                self.close(units, raw, i, "take_profit")
        return None

    def trail(self, i: int) -> None:
        p = self.pos
        if p is None or self.rules.trail is None:
            return
        side = p["side"]
        if self.rules.trail_close:
            anchor = self.c[i]
        else:
            p["best"] = max(p["best"], self.h[i]) if side > 0 else min(p["best"], self.lo[i])
            anchor = p["best"]
        level = self.offset(anchor, side, self.atr[i])
        if math.isnan(level):
            return
        if p["trail"] is None:
            p["trail"] = level
        else:
            p["trail"] = max(p["trail"], level) if side > 0 else min(p["trail"], level)

    def decide(self, i: int, sig: list[list[bool]]) -> tuple[bool, int, bool]:
        side = self.pos["side"] if self.pos else 0
        el, xl, es, xs, add = (s[i] for s in sig)
        if self.pos is not None:
            ret = side * (self.c[i] / self.pos["avg"] - 1) * 100
            bars = i - self.pos["bar"]
            if self.exit_rule is not None:
                xl = xs = self.exit_rule(i, ret, bars)
            if self.add_rule is not None:
                add = self.add_rule(i, ret, bars)
        if el and es:
            el = es = False
        if side > 0:
            close, opening = (True, -1) if es and self.reverse else (xl, 0)
        elif side < 0:
            close, opening = (True, 1) if el and self.reverse else (xs, 0)
        else:
            close, opening = False, 1 if el else -1 if es else 0
        p = self.pos
        adding = bool(p and not close and not opening and add and p["adds"] < self.rules.max_adds
                      and i - p["last_add"] >= self.rules.min_gap)
        return close, opening, adding

    def fill(self, i: int, raw: float, s: int, orders: tuple[bool, int, bool]) -> None:
        close, opening, adding = orders
        if close and self.pos:
            self.close(self.pos["size"], raw, i, "signal")
        if opening:
            self.open(opening, raw, i, s)
        elif adding and self.pos:
            self.add(raw, i)

    def run(self, sig: list[list[bool]], start: int) -> None:
        n = len(self.c)
        self.equity = [self.cash] * n
        orders: tuple[bool, int, bool] = (False, 0, False)
        for i in range(start, n):
            if any(orders):
                self.fill(i, self.o[i], i - 1, orders)
            if self.pos:
                self.exits(i)
            self.trail(i)
            p = self.pos
            held = p["side"] * p["size"] if p else 0.0
            self.equity[i] = self.cash + (self.c[i] * held - held * p["avg"]) if p else self.cash
            assert self.equity[i] > 0, "the reference does not model ruin"
            if i >= n - 1:
                break
            orders = self.decide(i, sig)
            if self.on_close and any(orders):
                self.fill(i, self.c[i], i, orders)
                orders = (False, 0, False)
