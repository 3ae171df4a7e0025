"""The Live tab for the README: two paper sessions on the Demo exchange's live stream, with fills.

The Demo market trades in real time (a 1m bar a minute), so a quick-turning EMA(3) rule is added to the
library to show fills within a few minutes next to the SMA 10/20 sample, which rarely trades that fast.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from presentation.main_window import MainWindow

QUICK = "EMA(3) flip (demo)"


def _quick_rule() -> dict[str, Any]:
    def cross(op: str) -> dict[str, Any]:
        return {"all": [{"left": {"var": "close"}, "op": op, "right": {"var": "ema", "params": {"period": 3}}}]}

    return {"schema": 1, "name": QUICK, "direction": "long_short", "entry_long": cross("crosses_above"),
            "entry_short": cross("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 50, "stop_loss_pct": 1.5, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


async def _start(window: MainWindow, strategy: str, market: str) -> None:
    tab = window.live_tab
    tab.load_strategies()
    tab.strategy.setCurrentIndex(tab.strategy.findText(strategy))
    tab.exchange.setCurrentIndex(tab.exchange.findData("demo"))
    tab.market.setCurrentText(market)
    tab.timeframe.setCurrentText("1m")
    started = asyncio.Event()
    tab.sessionStarted.connect(lambda _sid: started.set())
    tab.on_start()
    await asyncio.wait_for(started.wait(), 120)


async def shoot_live(window: MainWindow, save: Callable[[Path], Awaitable[None]], out: Path,
                     fills: int = 3, limit_s: float = 600.0) -> None:
    window.services.app.strategies.create(_quick_rule(), notes="Flips with the close around EMA(3).")
    window.show_tab("Live")
    await _start(window, "SMA 10/20 cross", "KRW-ETH")
    await _start(window, QUICK, "KRW-BTC")
    tab = window.live_tab
    session = tab.engine.sessions[tab.selected]
    deadline = time.monotonic() + limit_s
    while len(session.fills) < fills and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
    print(f"live: {len(session.fills)} fills on {session.id} after {limit_s - (deadline - time.monotonic()):.0f} s")
    tab.chart.show_last(90)
    await save(out / "live.png")
