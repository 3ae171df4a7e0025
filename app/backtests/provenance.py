"""What produced a stored run, as one JSON-ready document and short texts: strategy, overrides, data, costs, fills."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.backtests.ports import RunSummary, StoredRun
from app.timeparse import format_ms
from domain.costs import fraction_to_pct

if TYPE_CHECKING:
    from app.backtests.service import RunBacktest


def fill_rule(settings: dict[str, Any]) -> str:
    """When market orders fill, in words."""
    rule = "on the signal bar's close" if settings.get("trade_on_close") else "at the next bar's open"
    return rule + ("; open positions closed at the last close" if settings.get("finalize_trades") else "")


def costs_text(commission: float | None, slippage: float | None) -> str:
    """"fee 0.05 %, slip 0 %" from fractions (unknown parts as "?")."""
    def pct(x: float | None) -> str:
        return "?" if x is None else f"{fraction_to_pct(x):g} %"

    return f"fee {pct(commission)}, slip {pct(slippage)}"


def overrides_text(overrides: dict[str, Any]) -> str:
    """"entry_long.all[0].left.params.period 12 → 24; ..." (empty when the run used the strategy as saved)."""
    return "; ".join(f"{path} {_value(v.get('saved'))} → {_value(v.get('run'))}" for path, v in overrides.items())


def _value(x: Any) -> str:
    return "none" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


def as_saved(summary: RunSummary, overrides: dict[str, Any]) -> bool | None:
    """Whether the run used its strategy exactly as saved (None when it came from a file, not the store)."""
    return None if summary.strategy_id is None else not overrides


def run_document(run: StoredRun) -> dict[str, Any]:
    """Everything that produced the run and what it gave: the strategy snapshot and its overridden values,
    market, timeframe, range, cash, costs (in percent), fill settings, statistics and trades."""
    s, settings = run.summary, run.settings
    commission, slippage = settings.get("commission"), settings.get("slippage")
    return {
        "run_id": s.id, "created": format_ms(s.created_ms), "strategy_id": s.strategy_id,
        "strategy_name": s.strategy_name, "strategy": run.definition, "as_saved": as_saved(s, run.overrides),
        "overrides": run.overrides, "exchange": s.exchange, "market": s.symbol, "timeframe": s.timeframe,
        "start": format_ms(s.start_ms), "end": format_ms(s.end_ms), "start_ms": s.start_ms, "end_ms": s.end_ms,
        "bars": s.bars, "cash": settings.get("cash"),
        "commission_pct": None if commission is None else fraction_to_pct(commission),
        "slippage_pct": None if slippage is None else fraction_to_pct(slippage),
        "fill": {"rule": fill_rule(settings), "trade_on_close": bool(settings.get("trade_on_close")),
                 "finalize_trades": bool(settings.get("finalize_trades")), "lot_size": settings.get("lot_size")},
        "settings": settings, "stats": run.stats, "trades": run.trades.records(),
    }


def rerun_command(run: StoredRun) -> RunBacktest:
    """The command that reproduces a stored run: its strategy snapshot (not the strategy as saved today), market,
    timeframe, bar range and account settings ("Load these settings" in the GUI)."""
    from app.backtests.service import RunBacktest
    from domain.backtest import BacktestSettings
    from domain.market import SeriesKey, Timeframe
    from domain.strategy import parse_strategy

    s = run.summary
    key = SeriesKey(s.exchange, s.symbol, Timeframe.parse(s.timeframe))
    return RunBacktest(parse_strategy(run.definition), key, s.start_ms, s.end_ms,
                       BacktestSettings.from_dict(run.settings), s.strategy_id)
