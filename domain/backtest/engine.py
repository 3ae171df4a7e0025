"""simulate(): validate inputs, run the compiled loop, and wrap its arrays as a trades table."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.backtest import kernel as k
from domain.backtest.kernel_futures import F_LEN, simulate_futures
from domain.backtest.kernel_v2 import simulate_v2
from domain.backtest.risk_arrays import ScaleSpec, atr_periods, pct_risk_arrays, risk_arrays, risk_vectors
from domain.backtest.settings import BacktestSettings
from domain.backtest.trades import TradeTable
from domain.futures.funding import funding_per_bar
from domain.market import CandleSeries
from domain.strategy.position_rules import PositionRules
from domain.strategy.risk import Risk

F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class RiskLike(Protocol):
    """What the engine reads from a strategy's risk block (domain.strategy.Risk satisfies it)."""

    @property
    def position_size_pct(self) -> float: ...
    @property
    def stop_loss_pct(self) -> float | None: ...
    @property
    def take_profit_pct(self) -> float | None: ...
    @property
    def trailing_stop_pct(self) -> float | None: ...


class SignalsLike(Protocol):
    """Four bool arrays, one value per bar (domain.strategy.Signals satisfies it)."""

    @property
    def entry_long(self) -> BoolArray: ...
    @property
    def exit_long(self) -> BoolArray: ...
    @property
    def entry_short(self) -> BoolArray: ...
    @property
    def exit_short(self) -> BoolArray: ...


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """The trade still open when the data ran out (not in the trades table, as in backtesting.py)."""

    side: int
    size: float
    entry_price: float
    entry_bar: int


@dataclass(frozen=True, slots=True, eq=False)
class SimResult:
    """Equity at every close, the closed trades, and the position left open (if any)."""

    equity: F64
    trades: TradeTable
    open_position: OpenPosition | None
    start: int
    funding: float = 0.0  # futures: total funding received over the run, negative = paid
    adds: npt.NDArray[np.int64] | None = None  # bar of each scale-in fill (schema-2 spot loop; None elsewhere)


DIRECTIONS = ("long_only", "short_only", "long_short")
# 100 % of equity is sized as backtesting.py's default order size, 1 − ε: when cash divides exactly by the
# unit cost it buys one unit less, never more than the cash allows.
FULL_EQUITY = 1.0 - sys.float_info.epsilon


def _frac(pct: float | None, what: str) -> float:
    if pct is None or pct == 0:
        return 0.0
    if not np.isfinite(pct) or pct < 0:
        raise ValueError(f"{what} must be a percentage ≥ 0, got {pct}")
    return float(pct) / 100.0


def _flags(signals: SignalsLike, n: int, direction: str) -> list[BoolArray]:
    out = []
    for name in ("entry_long", "exit_long", "entry_short", "exit_short"):
        arr = np.ascontiguousarray(getattr(signals, name), dtype=np.bool_)
        if arr.shape != (n,):
            raise ValueError(f"signal {name} has shape {arr.shape}, expected ({n},)")
        if (direction == "long_only" and name.endswith("short")) or (
            direction == "short_only" and name.endswith("long")
        ):
            arr = np.zeros(n, dtype=np.bool_)
        out.append(arr)
    return out


def _scale_of(signals: SignalsLike) -> ScaleSpec | None:
    """The scale-in rule carried by evaluated signals (`domain.strategy.Signals`), if any."""
    adds, rule = getattr(signals, "scale_in", None), getattr(signals, "scale_rule", None)
    if adds is None or rule is None:
        return None
    return ScaleSpec(adds, rule.size_pct, rule.max_adds, rule.min_bars_between)


def simulate(series: CandleSeries, signals: SignalsLike, direction: str, risk: RiskLike,
             settings: BacktestSettings, start: int = 1, scale: ScaleSpec | None = None,
             atr: tuple[F64, F64] | None = None) -> SimResult:
    """Trade `signals` over `series`. Signals on bars before `start` are ignored (indicator warm-up); `atr`:
    `risk_arrays.atr_table(series, risk)` if the caller has it already.

    Semantics follow backtesting.py 0.6 (see docs in domain/backtest/__init__.py). Schema-2 risk (ATR
    distances, take-profit levels, close-anchored trailing) and scaling in run on `kernel_v2`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    settings.check()
    size_pct = float(risk.position_size_pct)
    if not 0 < size_pct <= 100:
        raise ValueError(f"position size must be in (0, 100] % of equity, got {size_pct}")
    n = len(series)
    el, xl, es, xs = _flags(signals, n, direction)
    cfg = np.array([min(size_pct / 100.0, FULL_EQUITY), _frac(risk.stop_loss_pct, "stop-loss"),
                    _frac(risk.take_profit_pct, "take-profit"), _frac(risk.trailing_stop_pct, "trailing stop"),
                    settings.commission, settings.slippage, settings.lot_size], dtype=np.float64)
    first, reverse = max(int(start), 1), direction == "long_short"
    scale = scale or _scale_of(signals)
    position: PositionRules | None = getattr(signals, "position", None)
    if settings.futures:
        return _simulate_futures(series, (el, xl, es, xs), risk, settings, cfg, first, reverse, scale, position)
    if isinstance(risk, Risk) and (not risk.is_v1 or scale is not None or position is not None):
        pr = position or PositionRules.none(n)
        adds = np.zeros(n, dtype=np.bool_) if scale is None else np.ascontiguousarray(scale.signal, dtype=np.bool_)
        r, levels = risk_vectors(risk, scale)
        if atr is not None:  # computed once for many runs (a sweep)
            (rows_atr, dist), periods = atr, np.zeros(0, np.int64)
        else:  # the loop computes them as it goes
            periods, dist = atr_periods(risk)
            rows_atr = np.empty((len(periods), 2))
        equity, rows, state, adds_at = simulate_v2(
            series.open, series.high, series.low, series.close, (el, xl, es, xs, adds), first, reverse,
            cfg, r, levels, rows_atr, dist, float(settings.cash), bool(settings.trade_on_close),
            bool(settings.finalize_trades), (pr.program, pr.length, pr.masks, pr.leaf_var, pr.leaf_op, pr.rhs),
            periods)
    else:
        equity, rows, state = k.simulate_arrays(
            series.open, series.high, series.low, series.close, el, xl, es, xs, first, reverse, cfg,
            float(settings.cash), bool(settings.trade_on_close), bool(settings.finalize_trades))
        adds_at = None
    open_pos = None
    if state[0] != 0:
        open_pos = OpenPosition(int(state[0]), float(state[1]), float(state[2]), int(state[3]))
    return SimResult(equity, TradeTable.from_rows(rows, series.ts), open_pos, first, adds=adds_at)


def _simulate_futures(series: CandleSeries, flags: tuple[BoolArray, BoolArray, BoolArray, BoolArray], risk: RiskLike,
                      settings: BacktestSettings, cfg: F64, first: int, reverse: bool, scale: ScaleSpec | None,
                      position: PositionRules | None) -> SimResult:
    """The futures loop: margin, leverage, liquidation and funding (see docs/backtest.md, "Futures model")."""
    table = settings.brackets
    assert table is not None
    n = len(series)
    pr = position or PositionRules.none(n)
    adds = np.zeros(n, dtype=np.bool_) if scale is None else np.ascontiguousarray(scale.signal, dtype=np.bool_)
    if isinstance(risk, Risk):
        r, levels, atr = risk_arrays(series, risk, scale)
    else:
        r, levels, atr = pct_risk_arrays(n, cfg, scale)
    fut = np.zeros(F_LEN)
    fut[:] = (settings.leverage, 1.0 if settings.margin == "cross" else 0.0, table.max_notional(settings.leverage))
    caps, _, mmrs, cums = table.arrays()
    fund = (np.zeros(n) if settings.funding is None
            else funding_per_bar(series.ts, series.open, settings.funding))
    equity, rows, state = simulate_futures(
        series.open, series.high, series.low, series.close, (*flags, adds), first, reverse, cfg, r, levels, atr,
        float(settings.cash), bool(settings.trade_on_close), bool(settings.finalize_trades),
        (pr.program, pr.length, pr.masks, pr.leaf_var, pr.leaf_op, pr.rhs), fut,
        (np.ascontiguousarray(caps), np.ascontiguousarray(mmrs), np.ascontiguousarray(cums)), fund)
    open_pos = None
    if state[0] != 0:
        open_pos = OpenPosition(int(state[0]), float(state[1]), float(state[2]), int(state[3]))
    return SimResult(equity, TradeTable.from_rows(rows, series.ts), open_pos, first, float(state[4]))
