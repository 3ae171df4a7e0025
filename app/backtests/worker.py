"""What runs inside the backtest worker process, and the data checks shared with in-process runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from domain.backtest import BacktestSettings
from domain.backtest.curve import first_bad_price
from domain.backtest.run import BacktestResult, indicator_warmup
from domain.market import CandleSeries
from domain.strategy import Signals, Strategy

STAGE_FRACTIONS = {"statistics": 0.85}  # where a stage reported from inside the engine starts on the bar


def check_series(series: CandleSeries) -> str | None:
    """Why these candles cannot be backtested (NaN or non-positive prices), or None."""
    i, col = first_bad_price(series.open, series.high, series.low, series.close)
    if i < 0:
        return None
    name = ("open", "high", "low", "close")[col]
    when = datetime.fromtimestamp(int(series.ts[i]) / 1000, UTC).isoformat().replace("+00:00", "Z")
    return f"bar {i} ({when}) has {name} = {series.column(name)[i]}; prices must be positive numbers"


def warm_engine() -> None:
    """Load the compiled engine's machinery now: numba sets itself up on the first compiled call of a process
    (~0.3 s), so a caller waiting for something else (a file being parsed) can have it done meanwhile."""
    import numpy as np

    from domain.backtest.curve import drawdown_nb

    drawdown_nb(np.ones(1))  # every run's statistics call it with this signature: loaded once, not twice


def prepare_failure(strategy: Strategy, series: CandleSeries) -> str | None:
    """Why `strategy` cannot be backtested on `series` (bad prices, too few bars), or None."""
    bad = check_series(series)
    if bad:
        return bad
    warmup = indicator_warmup(strategy, series)  # exact on these bars, higher timeframes included
    if len(series) < warmup + 2:
        return (f"{len(series)} bars are too few for this strategy: its indicators need {warmup} bars "
                f"of warm-up, so at least {warmup + 2} bars are required")
    return None


def simulate_checked(strategy: Strategy, series: CandleSeries, signals: Signals, settings: BacktestSettings,
                     on_stage: Callable[[str], None] | None = None) -> BacktestResult:
    """Simulate `signals` on candles `prepare_failure` has already passed (no second price scan); `on_stage`
    hears "statistics" when the simulation is done and the statistics begin."""
    from domain.backtest.run import backtest_signals

    return backtest_signals(series, signals, strategy.direction, strategy.risk, settings,
                            indicator_warmup(strategy, series), on_stage=on_stage)


def serve(conn: Connection) -> None:
    """Worker process main loop: run each payload received until None or the pipe closes."""
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        if payload is None:
            return
        work(conn, payload)


def work(conn: Connection, payload: tuple[Strategy, CandleSeries, BacktestSettings]) -> None:
    """One run: evaluate, simulate, send ("progress", (stage, fraction)) then ("result", result) or ("error", text)."""
    try:
        from domain.strategy import evaluate

        strategy, series, settings = payload
        conn.send(("progress", ("signals", 0.2)))
        signals = evaluate(strategy, series)
        conn.send(("progress", ("simulating", 0.5)))
        result = simulate_checked(strategy, series, signals, settings,
                                  lambda stage: conn.send(("progress", (stage, STAGE_FRACTIONS[stage]))))
        conn.send(("result", result))
    except Exception as err:  # reported to the parent as a one-line failure
        conn.send(("error", f"backtest failed: {type(err).__name__}: {err}"))
