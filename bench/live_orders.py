"""Live orders against the simulator (own process, 127.0.0.1): kill-switch time to a clean account, and trailing-stop
moves that never leave the position without an exchange-held stop.

Each kill run opens a position (market), protects it (reduce-only STOP_MARKET) and rests a limit entry, then runs the
kill switch and times it until the exchange confirms no open order and no position. Then one position's stop is
moved N times (new stop placed before the old one is cancelled), and after every move the exchange's own state
(`/_sim/state`) must show exactly one reduce-only stop for the whole position.

Binance's order-rate limits (300 orders / 10 s, 1,200 / min) are kept, not bypassed: the simulator counts them on
the wall clock and the client paces itself to 90 % of them, so 1,000 moves take well over a minute (the
per-minute limit alone allows at most 18 new orders a second).

    python bench/live_orders.py [--runs 100] [--moves 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.live.trading.kill import kill  # noqa: E402
from app.live.trading.ports import OrderIntent  # noqa: E402
from app.live.trading.router import OrderRouter  # noqa: E402
from app.live.trading.stops import ExchangeStop  # noqa: E402
from infrastructure.clock import SystemClock  # noqa: E402
from infrastructure.db.engine import create_sqlite_engine  # noqa: E402
from infrastructure.db.migrate import upgrade_to_head  # noqa: E402
from infrastructure.db.orders import SqlOrderJournal  # noqa: E402
from infrastructure.exchanges.binance_private import BinancePrivateClient  # noqa: E402
from infrastructure.exchanges.order_gateways import BinanceOrderGateway  # noqa: E402

API_KEY = "benchKey" + "Q1w2E3r4" * 7
SECRET = "benchSecret" + "T5y6U7i8" * 7
SYMBOL = "BTCUSDT"


def _serve(conn: Any) -> None:
    from infrastructure.simulator.private.accounts import AccountSpec
    from infrastructure.simulator.server import SimulatorServer
    from infrastructure.simulator.state import SimulatorConfig

    async def main() -> None:
        config = SimulatorConfig(accounts=(AccountSpec(API_KEY, SECRET, {"USDT": 1_000_000.0}),))
        async with SimulatorServer(config) as sim:
            conn.send(sim.url)
            await asyncio.Event().wait()

    asyncio.run(main())


async def sim_state(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(f"{url}/_sim/state", params={"api_key": API_KEY}) as resp:
        data: dict[str, Any] = await resp.json()
        return data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def kill_runs(router: OrderRouter, http: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    gateway = router.gateway
    times = []
    for _ in range(runs):
        await router.submit(OrderIntent(router.new_client_id(), SYMBOL, "BUY", "MARKET", 0.05))
        price = (await gateway.position()).entry_price
        await router.submit(OrderIntent(router.new_client_id(), SYMBOL, "SELL", "STOP_MARKET", 0.05,
                                        stop_price=round(price * 0.9, 1), reduce_only=True))
        await router.submit(OrderIntent(router.new_client_id(), SYMBOL, "BUY", "LIMIT", 0.05,
                                        price=round(price * 0.8, 1)))
        started = time.perf_counter()
        report = await kill(gateway, (router.prefix,), router.new_client_id(), poll_s=0.05)
        times.append(time.perf_counter() - started)
        state = await sim_state(http, url)
        if not report.clean or state["open_orders"] or any(p["amount"] for p in state["positions"]):
            raise SystemExit(f"kill run {len(times)} left the account unclean: {report}, {state['open_orders']}")
    return times


async def stop_moves(router: OrderRouter, http: aiohttp.ClientSession, url: str, moves: int) -> tuple[int, float]:
    """(moves whose check failed, seconds taken)."""
    await router.submit(OrderIntent(router.new_client_id(), SYMBOL, "BUY", "MARKET", 0.05))
    price = (await router.gateway.position()).entry_price
    stop = ExchangeStop(router, SYMBOL)
    await stop.place("SELL", 0.05, round(price * 0.9, 1))
    failed = 0
    started = time.perf_counter()
    for i in range(moves):
        level = round(price * 0.9 + (i % 500) * 0.1 + 0.1, 1)
        await stop.move(level)
        stops = [o for o in (await sim_state(http, url))["open_orders"] if o["type"] == "STOP_MARKET"]
        ok = (len(stops) == 1 and stops[0]["reduce_only"] and stops[0]["quantity"] == 0.05
              and stops[0]["stop_price"] == level)
        failed += not ok
    elapsed = time.perf_counter() - started
    await kill(router.gateway, (router.prefix,), router.new_client_id())
    return failed, elapsed


async def bench(url: str, runs: int, moves: int, db: Path) -> None:
    engine = create_sqlite_engine(db)
    upgrade_to_head(engine)
    client = BinancePrivateClient(API_KEY, SECRET, url)
    router = OrderRouter(BinanceOrderGateway(client, SYMBOL), SqlOrderJournal(engine), SystemClock(), "bench-kill")
    try:
        async with aiohttp.ClientSession() as http:
            times = await kill_runs(router, http, url, runs)
            ms = [t * 1000 for t in times]
            print(f"kill switch, {runs} runs (position + reduce-only stop + resting limit -> 0 orders, 0 position "
                  f"confirmed by the exchange):")
            print(f"  p50 {statistics.median(ms):.1f} ms   p99 {percentile(ms, 0.99):.1f} ms   max {max(ms):.1f} ms"
                  f"   (target p99 <= 5000 ms: {'met' if percentile(ms, 0.99) <= 5000 else 'MISSED'})")
            failed, elapsed = await stop_moves(router, http, url, moves)
            print(f"trailing stop, {moves} moves (new stop before the old is cancelled), checked after each at the "
                  f"exchange: {moves - failed} held exactly one reduce-only stop at the new price, {failed} did not; "
                  f"{elapsed:.1f} s ({moves / elapsed:.1f} moves/s, paced by Binance's order-rate limits)")
    finally:
        await client.aclose()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--moves", type=int, default=1000)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bench(url, args.runs, args.moves, Path(tmp) / "bench.db"))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
