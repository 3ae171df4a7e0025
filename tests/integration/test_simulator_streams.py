"""The simulator's Upbit websocket: ticker messages beside trades, in Upbit's binary JSON frames."""

from __future__ import annotations

import json

import aiohttp

from app.timeparse import parse_time_arg
from infrastructure.simulator import SimulatorConfig, SimulatorServer
from infrastructure.simulator.state import accelerated_clock


async def test_ticker_messages_follow_each_trade_with_the_days_running_figures() -> None:
    start = parse_time_arg("2024-05-01T12:00:00Z")
    config = SimulatorConfig(clock=accelerated_clock(start, 300.0), stream_interval_s=0.05)
    trades, tickers = [], []
    async with (
        SimulatorServer(config) as sim, aiohttp.ClientSession() as session,
        session.ws_connect(f"{sim.url}/websocket/v1") as ws,
    ):
        await ws.send_str(json.dumps([{"ticket": "t"}, {"type": "trade", "codes": ["KRW-ETH"]},
                                      {"type": "ticker", "codes": ["KRW-ETH"]}]))
        while len(tickers) < 5:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.BINARY
            m = json.loads(msg.data)
            (trades if m["type"] == "trade" else tickers).append(m)
    assert len(trades) >= len(tickers) - 1
    for t in tickers:
        assert t["code"] == "KRW-ETH" and t["stream_type"] == "REALTIME"
        assert t["low_price"] <= t["trade_price"] <= t["high_price"]
    assert [t["acc_trade_volume"] for t in tickers] == sorted(t["acc_trade_volume"] for t in tickers)
    assert tickers[-1]["trade_price"] == trades[len(tickers) - 1]["trade_price"]
