"""Live paper trading under load: the simulator (own process, 127.0.0.1) streams ~1,000 trade messages/s
for 60 s to 3 paper sessions; prints tick-to-signal latency, GC pauses, drops, CPU and memory, and checks
that no bar is missing after a forced reconnect in the middle of the run.

    python bench/live.py [--rate 1000] [--seconds 60] [--sessions 3]

The simulated market runs faster than real time (the speed is chosen so the three markets together
trade `--rate` times a second); bars therefore close every few milliseconds, which exercises the
incremental evaluator far more often than a real 1m feed would.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from app.live.events import SessionBar
from app.live.session import SessionSpec
from domain.market import DAY_MS, Timeframe
from domain.strategy import loads_strategy

MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-SOL")
STRATEGIES = ("sma_cross.json", "rsi_mean_reversion.json", "macd_trend.json", "bollinger_breakout.json")
START_MS = 1_704_067_200_000 + 3 * 3_600_000  # 2024-01-01 03:00 UTC in simulated time


def sim_clock(t0_wall: float, speed: float) -> Any:
    return lambda: START_MS + int((time.time() - t0_wall) * 1000 * speed)


def _serve(t0_wall: float, speed: float, conn: Any) -> None:
    from infrastructure.simulator.server import SimulatorServer
    from infrastructure.simulator.state import SimulatorConfig

    async def main() -> None:
        cfg = SimulatorConfig(clock=sim_clock(t0_wall, speed), stream_interval_s=0.01, upbit_per_second=1000)
        async with SimulatorServer(cfg) as sim:
            conn.send(sim.url)
            await asyncio.Event().wait()

    asyncio.run(main())


def trades_per_second(markets: tuple[str, ...]) -> float:
    """Simulated trades per simulated second of the chosen markets around the start time."""
    from infrastructure.simulator.market import SimulatedMarket, find_symbol

    day = START_MS // DAY_MS
    total = 0
    for m in markets:
        spec = find_symbol("upbit", m)
        assert spec is not None
        t = SimulatedMarket(spec, 0).trades(day)
        total += int(np.count_nonzero((t.ts >= START_MS) & (t.ts < START_MS + 4 * 3_600_000)))
    return total / (4 * 3600)


class Clock:
    def __init__(self, now: Any) -> None:
        self.now_ms = now


async def run(args: argparse.Namespace, url: str, clock: Any, markets: tuple[str, ...], log_dir: str) -> dict[str, Any]:
    from app.live.engine import LiveEngine
    from app.live.history import gateway_bar_fetch, history_loader
    from infrastructure.exchanges import ExchangeGateways
    from infrastructure.exchanges.upbit_ws import UpbitTradeFeed
    from infrastructure.exchanges.ws import StreamPolicy
    from infrastructure.logs import start_logging

    logs = start_logging(Path(log_dir))  # the audit trail and app log, as the app writes them

    gateways = ExchangeGateways({"demo": url})
    feeds: dict[str, UpbitTradeFeed] = {}

    def make_feed(exchange: str, symbol: str) -> UpbitTradeFeed:
        feeds[symbol] = UpbitTradeFeed(symbol, url, StreamPolicy(stall_s=5, backoff_initial_s=0.05), exchange=exchange)
        return feeds[symbol]

    engine = LiveEngine(make_feed, gateway_bar_fetch(gateways), history_loader(None, gateways, clock), clock,
                        flush_grace_ms=None, history_bars=300)
    bars: dict[str, list[Any]] = {}
    engine.observers.append(lambda e: bars.setdefault(e.session_id, []).append(e.candle)
                            if isinstance(e, SessionBar) else None)
    await engine.start()
    for i, market in enumerate(markets):
        text = files("resources.strategies").joinpath(STRATEGIES[i % len(STRATEGIES)]).read_text()
        await engine.add_session(SessionSpec(f"s{i}-{market}", loads_strategy(text), "demo", market,
                                             Timeframe.parse(args.timeframe),
                                             cash=10_000_000, commission=0.0005))
    await asyncio.sleep(2.0)  # warm-up: connections, the first repair
    proc = psutil.Process()
    engine.metrics.tick_to_signal.reset()
    engine.metrics.bar_to_signal.reset()
    engine.metrics.gc.pauses.reset()
    engine.metrics.loop.lag.reset()
    msgs0 = sum(f.counters.messages for f in feeds.values())
    rss0 = proc.memory_info().rss
    proc.cpu_percent()
    t0 = time.perf_counter()
    await asyncio.sleep(args.seconds / 2)
    for feed in feeds.values():
        await feed.force_reconnect()
    await asyncio.sleep(args.seconds / 2)
    elapsed = time.perf_counter() - t0
    cpu = proc.cpu_percent()
    rss1 = proc.memory_info().rss
    msgs = sum(f.counters.messages for f in feeds.values()) - msgs0
    snap = engine.metrics.snapshot()
    orders = engine.bus.orders.stats
    fills = sum(len(s.fills) for s in engine.sessions.values())
    await engine.shutdown(flatten=True)
    await gateways.aclose()
    logs.close()
    audit_lines = len((Path(log_dir) / "audit.jsonl").read_text(encoding="utf-8").splitlines())
    return {"snap": snap, "elapsed": elapsed, "msgs": msgs, "cpu": cpu, "rss0": rss0, "rss1": rss1,
            "orders": orders, "fills": fills, "bars": bars, "feeds": feeds, "audit_lines": audit_lines}


def missing_bars(bars: dict[str, list[Any]], tf: Timeframe) -> tuple[int, int, int]:
    """(bars checked, missing, different) against the simulator's own candles for the same minutes."""
    from infrastructure.simulator.state import simulator_candles

    checked = missing = different = 0
    for sid, got in bars.items():
        symbol = sid.split("-", 1)[1]
        truth = simulator_candles("demo", symbol, tf, got[0].ts, got[-1].ts + tf.ms)
        seen = {b.ts: b for b in got}
        for i in range(len(truth)):
            checked += 1
            b = seen.get(int(truth.ts[i]))
            if b is None:
                missing += 1
            elif (b.open, b.high, b.low, b.close, b.volume) != (truth.open[i], truth.high[i], truth.low[i],
                                                                truth.close[i], truth.volume[i]):
                different += 1
    return checked, missing, different


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=1000.0, help="target trade messages per second (all markets)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--sessions", type=int, default=3, choices=range(1, len(MARKETS) + 1))
    p.add_argument("--timeframe", default="1m", help="session timeframe (1m: a bar closes every ~17 ms of the "
                   "accelerated market, far more often per tick than live; 5m/15m come closer to real ratios)")
    args = p.parse_args()
    markets = MARKETS[: args.sessions]
    speed = args.rate / trades_per_second(markets)
    t0_wall = time.time()
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(t0_wall, speed, child), daemon=True)
    server.start()
    url = parent.recv()
    sim_proc = psutil.Process(server.pid)
    sim_proc.cpu_percent()
    try:
        with tempfile.TemporaryDirectory() as log_dir:
            r = asyncio.run(run(args, url, Clock(sim_clock(t0_wall, speed)), markets, log_dir))
    finally:
        sim_cpu = sim_proc.cpu_percent()
        server.terminate()
    checked, missing, different = missing_bars(r["bars"], Timeframe.parse(args.timeframe))
    s = r["snap"]
    t2s, gcp = s["tick_to_signal"], s["gc_pause"]
    data = s["queues"]["data"]
    print(f"live paper trading: {len(markets)} sessions on {args.timeframe} bars, simulated market x{speed:,.0f} "
          f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    print(f"  messages         {r['msgs']:,} in {r['elapsed']:.1f} s = {r['msgs'] / r['elapsed']:,.0f} msgs/s "
          f"(target {args.rate:,.0f}); rejected {s['rejected_messages']}")
    print(f"  tick-to-signal   p50 {t2s['p50_us']:.1f} us   p99 {t2s['p99_us']:.1f} us   max {t2s['max_us']:.1f} us"
          f"   (n={t2s['count']:,}; target p99 <= 500 us: {'OK' if t2s['p99_us'] <= 500 else 'MISSED'})")
    b2s = s["bar_to_signal"]
    print(f"  bar-to-signal    p50 {b2s['p50_us']:.1f} us   p99 {b2s['p99_us']:.1f} us   max {b2s['max_us']:.1f} us"
          f"   (n={b2s['count']:,} bar closes evaluated)")
    print(f"  GC pause         p99 {gcp['p99_us'] / 1000:.2f} ms   max {gcp['max_us'] / 1000:.2f} ms   "
          f"(n={gcp['count']}, by generation {s['gc_collections']}; target p99 <= 5 ms: "
          f"{'OK' if gcp['p99_us'] <= 5000 else 'MISSED'})")
    lag = s["loop_lag"]
    print(f"  loop lag         p50 {lag['p50_us'] / 1000:.2f} ms   p99 {lag['p99_us'] / 1000:.2f} ms   "
          f"max {lag['max_us'] / 1000:.2f} ms")
    print(f"  data queue       dropped {data['dropped']:,}   high water {data['high_water']:,}")
    print(f"  orders           published {r['orders'].published:,}   handled {r['orders'].handled:,}   "
          f"dropped {r['orders'].dropped}   fills {r['fills']:,}   audit lines {r['audit_lines']:,}")
    print(f"  reconnects       {s['reconnects']} (forced mid-run)   bars checked {checked:,}   missing {missing}   "
          f"different {different}")
    print(f"  CPU              engine {r['cpu']:.0f} %   simulator {sim_cpu:.0f} %")
    print(f"  RSS              start {r['rss0'] / 2**20:.1f} MiB   end {r['rss1'] / 2**20:.1f} MiB   "
          f"growth {(r['rss1'] - r['rss0']) / 2**20:+.1f} MiB")
    ok = missing == 0 and different == 0 and r["orders"].dropped == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
