"""Paper trading against the simulator: live bars equal REST candles, restart resumes, a dead feed flattens."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
from collections.abc import Callable
from pathlib import Path

import pytest
from live_helpers import (
    SimClock,
    always_long,
    as_rows,
    build_engine,
    fast_config,
    faulty_simulator,
    series_rows,
    sma_cross,
)

from app.live.audit import AUDIT_LOGGER
from app.live.session import FAILED, RUNNING, SessionSpec
from domain.market import Timeframe
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.paper import SqlPaperStore
from infrastructure.exchanges.ws import StreamPolicy
from infrastructure.logs import start_logging
from infrastructure.simulator.server import SimulatorServer
from infrastructure.simulator.state import simulator_candles


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def store(tmp_path: Path) -> SqlPaperStore:
    engine = create_sqlite_engine(tmp_path / "paper.db")
    upgrade_to_head(engine)
    return SqlPaperStore(engine)


async def test_bars_built_from_streamed_trades_equal_the_rest_candles_of_the_same_minutes() -> None:
    config = fast_config()
    async with SimulatorServer(config) as sim:
        engine, gateways, bars = build_engine(sim.url, SimClock(config.clock))
        await engine.start()
        await engine.add_session(SessionSpec("s1", sma_cross(), "demo", "KRW-BTC", Timeframe.M1))
        await engine.add_session(SessionSpec("s5", sma_cross(), "demo", "KRW-BTC", Timeframe.M5))
        await wait_until(lambda: len(bars.bars.get("s5", [])) >= 4)
        await engine.shutdown()
        await gateways.aclose()
        ours = ("bus-", "feed-", "live-", "loop-lag")
        assert not [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(ours)]  # none left behind
    for sid, tf in (("s1", Timeframe.M1), ("s5", Timeframe.M5)):
        got = bars.bars[sid]
        truth = simulator_candles("demo", "KRW-BTC", tf, got[0].ts, got[-1].ts + tf.ms)
        assert as_rows(got) == series_rows(truth)


async def test_a_restart_resumes_the_session_with_its_open_position(store: SqlPaperStore) -> None:
    config = fast_config()
    async with SimulatorServer(config) as sim:
        clock = SimClock(config.clock)
        engine, gateways, _ = build_engine(sim.url, clock, store)
        await engine.start()
        session = await engine.add_session(SessionSpec("keep", always_long(), "demo", "KRW-ETH", Timeframe.M1,
                                                       cash=1_000_000, commission=0.0005))
        await wait_until(lambda: session.broker.side == 1)
        size, entry = session.broker.size, session.broker.entry_price
        await engine.shutdown(flatten=False)
        await gateways.aclose()
        stored = store.get("keep")
        assert stored is not None and stored.status == RUNNING and stored.state["side"] == 1

        engine2, gateways2, bars = build_engine(sim.url, clock, store)
        await engine2.start()
        (resumed,) = await engine2.resume()
        assert (resumed.broker.side, resumed.broker.size, resumed.broker.entry_price) == (1, size, entry)
        await wait_until(lambda: len(bars.bars.get("keep", [])) >= 2)
        assert resumed.broker.side == 1 and resumed.broker.size == size  # no second entry after the restart
        await engine2.shutdown(flatten=True)
        await gateways2.aclose()
    fills = store.fills("keep")
    assert [f["reason"] for f in fills] == ["signal", "flatten"]
    assert store.get("keep").status != RUNNING  # type: ignore[union-attr]


async def test_killing_the_feed_mid_position_flattens_the_session_and_audits_it(tmp_path: Path,
                                                                             store: SqlPaperStore) -> None:
    sinks = start_logging(tmp_path / "logs", app_log=False)
    config = fast_config()
    policy = StreamPolicy(stall_s=1.0, backoff_initial_s=0.05, backoff_max_s=0.1, max_attempts=2)
    try:
        sim, faults = faulty_simulator(config)
        await sim.start()
        engine, gateways, _ = build_engine(sim.url, SimClock(config.clock), store, policy)
        await engine.start()
        session = await engine.add_session(SessionSpec("doomed", always_long(), "demo", "KRW-BTC", Timeframe.M1,
                                                       cash=1_000_000))
        await wait_until(lambda: session.broker.side == 1)
        faults.drop_all()  # the exchange goes away for good
        await sim.stop()
        await wait_until(lambda: session.status == FAILED)
        assert session.broker.side == 0 and session.fills[-1].reason == "flatten"
        await engine.shutdown()
        await gateways.aclose()
    finally:
        sinks.close()
    records = [json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    kinds = [r["kind"] for r in records]
    assert "SessionError" in kinds and "SessionFlattened" in kinds and "FeedDisconnected" in kinds
    flatten_fill = [r for r in records if r["kind"] == "OrderFilled" and r["reason"] == "flatten"]
    assert len(flatten_fill) == 1 and flatten_fill[0]["session_id"] == "doomed"
    assert store.get("doomed").status == FAILED  # type: ignore[union-attr]
    # our queue handlers are detached (pytest may attach its own capture handlers to the logger)
    assert not [h for h in logging.getLogger(AUDIT_LOGGER).handlers if isinstance(h, logging.handlers.QueueHandler)]


async def test_binance_kline_bars_reach_the_session_exactly_as_the_rest_klines(tmp_path: Path) -> None:
    from app.bootstrap.live import build_live_engine
    from infrastructure.exchanges import ExchangeGateways

    config = fast_config(speed=300)
    async with SimulatorServer(config) as sim:
        gateways = ExchangeGateways({"binance": sim.url})
        stack = build_live_engine(gateways, {"binance": sim.url}, SimClock(config.clock), flush_grace_ms=None)
        engine = stack.engine
        seen: list = []
        engine.observers.append(lambda e: seen.append(e.candle) if type(e).__name__ == "SessionBar" else None)
        await engine.start()
        await engine.add_session(SessionSpec("b5", sma_cross(), "binance", "BTCUSDT", Timeframe.M5))
        await wait_until(lambda: len(seen) >= 3)
        await engine.shutdown()
        await gateways.aclose()
    truth = simulator_candles("binance", "BTCUSDT", Timeframe.M5, seen[0].ts, seen[-1].ts + Timeframe.M5.ms)
    assert as_rows(seen) == series_rows(truth)


@pytest.mark.parametrize(("exchange", "symbol", "bars"), [("demo", "KRW-BTC", 450), ("binance", "BTCUSDT", 3_100)])
async def test_a_backfill_spanning_several_pages_returns_exactly_the_exchanges_bars(exchange: str, symbol: str,
                                                                                   bars: int) -> None:
    from app.live.bars import fetch_bars
    from infrastructure.exchanges import ExchangeGateways

    config = fast_config()
    async with SimulatorServer(config) as sim:
        gateways = ExchangeGateways({exchange: sim.url})
        try:
            end = Timeframe.M1.floor(config.clock())
            start = end - bars * Timeframe.M1.ms + 30_000  # mid-minute: the first whole bar is the next one
            got = await fetch_bars(gateways(exchange), symbol, Timeframe.M1, start, end)
            page = gateways(exchange).geometry.max_candles
        finally:
            await gateways.aclose()
    truth = simulator_candles(exchange, symbol, Timeframe.M1, Timeframe.M1.ceil(start), end, now_ms=end)
    assert len(truth) > page  # really more than one page
    assert series_rows(got) == series_rows(truth)
