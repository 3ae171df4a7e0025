"""Collection benchmark: one month of Upbit 1m candles from the simulator on 127.0.0.1 into a fresh SQLite file.

1. At Upbit's real limit (10 candle requests a second): wall time against the rate-limit floor
   (requests ÷ 10/s), their ratio (target ≤ 1.05) and the 429s seen (target 0).
2. With the limit lifted on both sides: candles stored per second (the client pipeline: HTTP, parsing,
   planning, SQLite upserts), and the same for Binance's 1500-bar pages.

Run: python bench/collect.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.market_data.collect import MarketDataService  # noqa: E402
from app.timeparse import parse_time_arg  # noqa: E402
from domain.market import DAY_MS, Timeframe  # noqa: E402
from infrastructure.clock import SystemClock  # noqa: E402
from infrastructure.db.candles import SqlCandleRepository  # noqa: E402
from infrastructure.db.engine import create_sqlite_engine  # noqa: E402
from infrastructure.db.migrate import upgrade_to_head  # noqa: E402
from infrastructure.exchanges.binance import BinanceGateway  # noqa: E402
from infrastructure.exchanges.upbit import UpbitGateway  # noqa: E402
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock  # noqa: E402

START, END = parse_time_arg("2024-01-01"), parse_time_arg("2024-02-01")
UNLIMITED = 10**9


def fresh_repo(folder: Path, name: str) -> SqlCandleRepository:
    engine = create_sqlite_engine(folder / f"{name}.db")
    upgrade_to_head(engine)
    return SqlCandleRepository(engine)


async def collect(repo: SqlCandleRepository, gateway: UpbitGateway | BinanceGateway,
                  symbol: str) -> tuple[float, int]:
    service = MarketDataService(repo, lambda _: gateway, SystemClock())
    t0 = time.perf_counter()
    try:
        summary = await service.collect(gateway.name, symbol, Timeframe.M1, START, END)
    finally:
        await gateway.aclose()
    return time.perf_counter() - t0, summary.stored


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="quantdesk-bench-collect-"))
    config = SimulatorConfig(seed=0, clock=fixed_clock(parse_time_arg("2024-03-01")))
    async with SimulatorServer(config) as sim:
        for day in range(START // DAY_MS, END // DAY_MS):  # generate the month once, outside the timings
            for exchange, symbol in (("upbit", "KRW-BTC"), ("binance", "BTCUSDT")):
                market = sim.state.market(exchange, symbol)
                assert market is not None
                market.minute_bars(day)

        wall, stored = await collect(fresh_repo(folder, "limited"), UpbitGateway(sim.url), "KRW-BTC")
        requests = sim.state.log.count("upbit.candles")
        floor = requests / 10
        print("Upbit 1m, 2024-01 (one month), at Upbit's limit of 10 candle requests/s")
        print(f"  candles stored      {stored:,}")
        print(f"  requests            {requests} (answered 200: {sim.state.log.count('upbit.candles', 200)})")
        print(f"  wall time           {wall:.2f} s")
        print(f"  rate-limit floor    {floor:.2f} s  (requests ÷ 10/s)")
        print(f"  ratio wall/floor    {wall / floor:.3f}  (target ≤ 1.05)")
        print(f"  429 / 418 answers   {sim.state.log.count(status=429)} / {sim.state.log.count(status=418)}"
              "  (target 0)")

        sim.state.upbit_limits.per_second = UNLIMITED
        gateway = UpbitGateway(sim.url, per_second=UNLIMITED)
        wall, stored = await collect(fresh_repo(folder, "upbit"), gateway, "KRW-BTC")
        print("Limit lifted (simulator and client), fresh database")
        print(f"  Upbit   {stored:,} candles in {wall:.2f} s = {stored / wall:,.0f} candles/s (200 per request)")
        sim.state.binance_limits.weight_per_minute = UNLIMITED
        gateway2 = BinanceGateway(sim.url, weight_per_minute=UNLIMITED)
        wall, stored = await collect(fresh_repo(folder, "binance"), gateway2, "BTCUSDT")
        print(f"  Binance {stored:,} candles in {wall:.2f} s = {stored / wall:,.0f} candles/s (1500 per request)")


if __name__ == "__main__":
    asyncio.run(main())
