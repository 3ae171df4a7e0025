"""Live tab: starting a strategy again after its session finished keeps the finished one's stored history."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import qasync

from app.bootstrap.container import Container
from app.bootstrap.live import build_live_engine
from app.live.session import SessionSpec
from domain.market import Timeframe
from infrastructure.exchanges import ExchangeGateways
from infrastructure.simulator.server import SimulatorServer
from presentation.live.tab import LiveTab

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from live_helpers import SimClock, always_long, fast_config  # noqa: E402


class _Services:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.strategies = container.strategies

    async def start_demo(self) -> str:
        return ""


async def _until(cond: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def stored_fills(db: Path, session: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT order_id, side, quantity, price, ts FROM paper_fills WHERE session_id = ? "
                            "ORDER BY id", (session,)).fetchall()


def test_starting_a_stopped_sessions_strategy_again_runs_under_a_new_name_and_keeps_the_old_history(
        qloop: qasync.QEventLoop, container: Container, tmp_path: Path) -> None:
    config = fast_config()
    state: dict[str, Any] = {}

    async def scenario() -> None:
        sim = SimulatorServer(config)
        await sim.start()
        gateways = ExchangeGateways({"demo": sim.url})
        stack = build_live_engine(gateways, {"demo": sim.url}, SimClock(config.clock), sql_engine=container.engine,
                                  log_dir=tmp_path / "logs", flush_grace_ms=None)
        tab = LiveTab(_Services(container), lambda: stack)
        spec = SessionSpec("gui", always_long(), "demo", "KRW-ETH", Timeframe.M1, cash=1e6)
        await tab.start_session(spec)
        await _until(lambda: tab.open_positions() == 1)
        await tab.stop_selected()  # flattens: a finished session with its orders and fills stored
        await _until(lambda: len(stored_fills(container.db_path, "gui")) == 2)  # written off the loop
        state["first"] = stored_fills(container.db_path, "gui")
        await tab.start_session(spec)
        state["names"] = sorted(r["session_id"] for r in tab.sessions.rows)
        state["selected"] = tab.selected
        await _until(lambda: tab.open_positions() == 1)
        state["kept"] = stored_fills(container.db_path, "gui")
        await tab.shutdown()
        await gateways.aclose()
        await sim.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert [f[1] for f in state["first"]] == [1, -1]  # the entry and the flatten on stop
    assert state["names"] == ["gui", "gui (2)"] and state["selected"] == "gui (2)"
    assert state["kept"] == state["first"]
