"""Screenshots of the strategy work: the Strategies list, the Builder with its preview, and a backtest result.

Called by scripts/screenshots.py once the Demo candles are stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PyQt6 import QtCore

from app.backtests.service import RunBacktest
from app.strategies.ports import StrategyQuery
from domain.backtest import BacktestSettings
from domain.market import SeriesKey, Timeframe

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
Save = Callable[[Path], Awaitable[None]]

VARIANTS = [  # (name, fast, slow, tags): a plausible personal library beside the bundled samples
    ("EMA 9/21 cross", 9, 21, ["trend", "btc"]), ("EMA 12/26 cross", 12, 26, ["trend"]),
    ("EMA 20/50 swing", 20, 50, ["trend", "swing"]), ("SMA 5/15 scalper", 5, 15, ["scalping", "btc"]),
    ("SMA 50/200 golden cross", 50, 200, ["trend", "long term"]), ("SMA 30/90 ETH", 30, 90, ["trend", "eth"]),
    ("WMA 8/34 momentum", 8, 34, ["momentum"]), ("EMA 5/13 breakout", 5, 13, ["breakout", "scalping"]),
    ("SMA 7/25 night session", 7, 25, ["experiment"]), ("EMA 34/89 Fibonacci", 34, 89, ["trend", "swing"]),
]


def variant(name: str, fast: int, slow: int, tags: list[str]) -> dict[str, Any]:
    var = "wma" if name.startswith("WMA") else "sma" if name.startswith("SMA") else "ema"

    def avg(period: int) -> dict[str, Any]:
        return {"var": var, "params": {"period": period}}

    return {"schema": 1, "name": name, "direction": "long_short" if fast < 20 else "long_only",
            "entry_long": {"all": [{"left": avg(fast), "op": "crosses_above", "right": avg(slow)}]},
            "entry_short": {"all": [{"left": avg(fast), "op": "crosses_below", "right": avg(slow)}]},
            "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 2 if fast < 10 else None,
                     "take_profit_pct": None, "trailing_stop_pct": None}, "tags": tags}


def fill_library(container: Any) -> None:
    """The variants above, each backtested once so the list shows last returns and trade counts."""
    container.strategies.import_texts([("library", json.dumps([variant(*v) for v in VARIANTS]))])
    for s in container.strategies.page(StrategyQuery(), 100).items:
        if s.name == "SMA 10/20 cross":
            continue  # left for the Backtests tab to run on screen
        cmd = RunBacktest(container.strategies.strategy(s.id), KEY, settings=BacktestSettings(commission=0.0005),
                          strategy_id=s.id)
        container.backtests.run_here(cmd)


async def shoot_strategy_tabs(window: Any, save: Save, out: Path) -> None:
    container = window.services.app
    work = window.strategy_work
    fill_library(container)
    work.list.refresh()
    window.show_tab("Strategies")
    work.list.view.selectRow(2)
    await save(out / "strategies.png")
    macd = container.strategies.get_by_name("Bollinger breakout")
    work.open_in_builder(macd.id)
    work.builder.preview.choose(KEY)
    work.builder.update_preview()
    work.builder.preview.chart.show_last(240)
    await save(out / "builder.png")
    await backtest_result(window, work, save, out)


async def backtest_result(window: Any, work: Any, save: Save, out: Path) -> None:
    record = window.services.app.strategies.get_by_name("SMA 10/20 cross")
    work.backtest(record.id)
    tab = work.backtests
    tab.form.set_series(KEY)
    tab.form.commission.setValue(0.05)
    done = asyncio.Event()
    tab.finished.connect(lambda _: done.set())
    tab.start_run()
    await done.wait()
    row = min(12, tab.trades.rowCount() - 1)
    tab.trades_view.selectRow(row)
    tab.view.on_trade(tab.trades.index(row, 0))
    tab.history_view.selectRow(0)
    tab.stats_view.scrollTo(tab.stats.index(tab.stats.keys().index("Return [%]"), 0),
                            tab.stats_view.ScrollHint.PositionAtTop)
    await save(out / "backtests.png")
    tab.shutdown()
    QtCore.QCoreApplication.processEvents()
