"""A slow, plain-Python restatement of the engine's rules, bar by bar, used as a second oracle.

backtesting.py has no percentage trailing stop, no slippage on exits, no fractional lots and closes
finalized trades at the last bar's open; this reference covers those parts of our semantics.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Pos:
    side: int
    size: float
    entry: float
    bar: int
    sl: float | None
    tp: float | None
    trail_pct: float | None
    best: float = field(init=False)

    def __post_init__(self) -> None:
        self.best = self.entry

    def trail(self) -> float | None:
        if self.trail_pct is None:
            return None
        return self.best * (1 - self.side * self.trail_pct)


@dataclass
class Ref:
    o: list[float]
    h: list[float]
    lo: list[float]
    c: list[float]
    cash: float
    commission: float = 0.0
    slippage: float = 0.0
    lot: float = 1.0
    size_frac: float = 1.0
    sl_pct: float | None = None
    tp_pct: float | None = None
    trail_pct: float | None = None
    on_close: bool = False
    finalize: bool = False
    trades: list[tuple] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    pos: Pos | None = None

    def fill(self, side: int, raw: float, bar: int) -> None:
        price = raw * (1 + side * self.slippage)
        per_unit = price + raw * self.commission
        units = (max(self.cash, 0) * self.size_frac) // (per_unit * self.lot) * self.lot
        if units <= 0:
            return
        self.cash -= units * price * self.commission
        sl = price * (1 - side * self.sl_pct) if self.sl_pct else None
        tp = price * (1 + side * self.tp_pct) if self.tp_pct else None
        self.pos = Pos(side, units, price, bar, sl, tp, self.trail_pct)

    def exit(self, raw: float, bar: int, reason: str, slip: bool = True) -> None:
        p = self.pos
        assert p is not None
        price = raw * (1 - p.side * self.slippage) if slip else raw
        gross = p.side * p.size * (price - p.entry)
        comm = p.size * price * self.commission + p.size * p.entry * self.commission
        self.cash += gross - p.size * price * self.commission
        self.trades.append((p.side, p.size, p.bar, bar, p.entry, price, gross - comm, reason))
        self.pos = None

    def stops(self, i: int) -> None:
        p = self.pos
        assert p is not None
        levels = [(lv, why) for lv, why in ((p.sl, "stop"), (p.trail(), "trailing")) if lv is not None]
        if levels:
            level, why = (max if p.side > 0 else min)(levels, key=lambda x: x[0])
            if p.side > 0 and self.lo[i] <= level:
                return self.exit(min(self.o[i], level), i, why)
            if p.side < 0 and self.h[i] >= level:
                return self.exit(max(self.o[i], level), i, why)
        if p.tp is not None:
            if p.side > 0 and self.h[i] >= p.tp:
                return self.exit(max(self.o[i], p.tp), i, "take_profit")
            if p.side < 0 and self.lo[i] <= p.tp:
                return self.exit(min(self.o[i], p.tp), i, "take_profit")
        p.best = max(p.best, self.h[i]) if p.side > 0 else min(p.best, self.lo[i])
        return None

    def run(self, el: list[bool], xl: list[bool], es: list[bool], xs: list[bool], start: int = 1) -> Ref:
        n = len(self.c)
        self.equity = [self.cash] * n
        pending: tuple[bool, int] = (False, 0)
        for i in range(start, n):
            self.act(pending, self.o[i], i)
            pending = (False, 0)
            if self.pos is not None:
                self.stops(i)
            p = self.pos
            eq = self.cash + (p.side * p.size * (self.c[i] - p.entry) if p else 0.0)
            self.equity[i] = eq
            if eq <= 0:
                if p:
                    self.exit(self.c[i], i, "end", slip=False)
                self.equity[i:] = [0.0] * (n - i)
                return self
            if i == n - 1:
                break
            decision = self.decide(el[i], xl[i], es[i], xs[i])
            if self.on_close:
                self.act(decision, self.c[i], i)
            else:
                pending = decision
        if self.finalize and self.pos is not None:
            self.exit(self.c[n - 1], n - 1, "end")
            self.equity[n - 1] = self.cash
        return self

    def act(self, decision: tuple[bool, int], price: float, i: int) -> None:
        close_now, open_side = decision
        if close_now and self.pos is not None:
            self.exit(price, i, "signal")
        if open_side:
            self.fill(open_side, price, i)

    def decide(self, el: bool, xl: bool, es: bool, xs: bool) -> tuple[bool, int]:
        if el and es:
            el = es = False
        side = self.pos.side if self.pos else 0
        if side > 0:
            return (True, -1) if es else (xl, 0)
        if side < 0:
            return (True, 1) if el else (xs, 0)
        return (False, 1) if el else (False, -1) if es else (False, 0)
