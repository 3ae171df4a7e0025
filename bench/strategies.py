"""Strategy benchmark: 100,000 stored strategies (create, validate, pages) and evaluation on a year of minutes.

Run: python bench/strategies.py   (prints figures, goals, and ratios against references timed in the same run)
"""

from __future__ import annotations

import copy
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bootstrap.container import Container  # noqa: E402
from app.strategies.ports import NewStrategy, PageCursor, StrategyQuery  # noqa: E402
from app.strategies.service import StrategyService  # noqa: E402
from domain.indicators import CATALOG  # noqa: E402
from domain.market import CandleSeries, Timeframe  # noqa: E402
from domain.strategy import IncrementalEvaluator, evaluate, parse_strategy  # noqa: E402
from domain.strategy.incremental import DEFAULT_MAX_BARS  # noqa: E402

N_STRATEGIES = 100_000
N_BARS = 525_600
TAGS = ("trend", "mean reversion", "breakout", "btc", "eth", "scalp", "swing", "test")


def three_conditions(name: str, fast: int = 10, slow: int = 20, rsi: int = 14) -> dict[str, Any]:
    """SMA cross AND RSI < 70 AND close > Bollinger middle."""
    return {"schema": 1, "name": name, "direction": "long_only",
            "entry_long": {"all": [
                {"left": {"var": "sma", "params": {"period": fast}}, "op": "crosses_above",
                 "right": {"var": "sma", "params": {"period": slow}}},
                {"left": {"var": "rsi", "params": {"period": rsi}}, "op": "lt", "right": {"const": 70}},
                {"left": {"var": "close"}, "op": "gt",
                 "right": {"var": "bbands", "params": {"period": 20, "std": 2}, "field": "middle"}}]},
            "entry_short": None,
            "exit_long": {"any": [{"left": {"var": "rsi", "params": {"period": rsi}}, "op": "gt",
                                   "right": {"const": 80}}]},
            "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 2, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def pct(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1e3, q))


def timed(f: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return out


def seed(service: StrategyService, rng: np.random.Generator) -> float:
    order = rng.permutation(N_STRATEGIES)
    t = time.perf_counter()
    for start in range(0, N_STRATEGIES, 5_000):
        items = []
        for i in order[start:start + 5_000].tolist():
            doc = three_conditions(f"Strategy {i:06d}", 5 + i % 20, 25 + i % 50, 7 + i % 14)
            items.append(NewStrategy(parse_strategy(doc), "", (TAGS[i % len(TAGS)],)))
        service.repo.add_many(items, now_ms=1_700_000_000_000 + start)
    return time.perf_counter() - t


def raw_insert_reference(path: Path, text: str) -> list[float]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE s (id INTEGER PRIMARY KEY, name TEXT UNIQUE, definition TEXT)")
    out = []
    for i in range(1_000):
        t = time.perf_counter()
        with conn:
            conn.execute("INSERT INTO s (name, definition) VALUES (?, ?)", (f"n{i}", text))
        out.append(time.perf_counter() - t)
    conn.close()
    return out


def store_figures(service: StrategyService, db: Path, tmp: Path) -> None:
    rng = np.random.default_rng(1)
    took = seed(service, rng)
    print(f"seeded {service.count():,} strategies in {took:.1f} s ({N_STRATEGIES / took:,.0f}/s, batches of 5,000)")
    with sqlite3.connect(db) as conn:  # start the timed part from a checkpointed WAL, as after any quiet moment
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    docs = [three_conditions(f"New {i:05d}", 5 + i % 20, 25 + i % 50) for i in range(2_000)]
    create = timed(lambda: service.create(docs.pop(), tags=["new"]), 2_000)
    raw = raw_insert_reference(tmp / "raw.db", "x" * 700)
    print(f"create+save       p50 {pct(create, 50):6.3f} ms  p99 {pct(create, 99):6.3f} ms  (goal p99 ≤ 5 ms; "
          f"raw sqlite3 insert+commit p99 {pct(raw, 99):.3f} ms)")
    pool = [three_conditions(f"V {i}", 5 + i % 20, 25 + i % 50) for i in range(1_000)]
    it = iter(pool)
    validate = timed(lambda: service.validate(next(it)), 1_000)
    copies = [copy.deepcopy(d) for d in pool[:200]]
    ref = timed(lambda: copy.deepcopy(copies[0]), 200)
    print(f"validate          p50 {pct(validate, 50):6.3f} ms  p99 {pct(validate, 99):6.3f} ms  (goal p99 ≤ 1 ms; "
          f"deepcopy of the same dict p50 {pct(ref, 50):.3f} ms)")
    page_figures(service, db)


def page_figures(service: StrategyService, db: Path) -> None:
    total = service.count()
    for sort, desc in (("name", False), ("updated", True)):
        query = StrategyQuery(sort=sort, descending=desc)  # type: ignore[arg-type]
        for offset in (0, 50_000, 99_900):
            runs = timed(lambda q=query, o=offset: service.page_at(q, o, 100), 50)
            print(f"page of 100 at offset {offset:>6,} by {sort:7} {'desc' if desc else 'asc '}  "
                  f"p50 {pct(runs, 50):6.3f} ms  p99 {pct(runs, 99):6.3f} ms  (goal ≤ 10 ms)")
    query = StrategyQuery()
    mid = service.page_at(query, 49_999, 1)[0]
    cursor = PageCursor(mid.name, mid.id)
    runs = timed(lambda: service.page(query, 100, cursor), 50)
    print(f"keyset page of 100 after row 50,000 by name      p50 {pct(runs, 50):6.3f} ms  p99 {pct(runs, 99):6.3f} ms")
    for label, q in (("name contains '0421'", StrategyQuery("0421")), ("tag 'swing'", StrategyQuery(tag="swing")),
                     ("tag 'swing' by updated", StrategyQuery(tag="swing", sort="updated"))):
        runs = timed(lambda q=q: service.page(q, 100), 30)
        print(f"first page, {label:28}          p50 {pct(runs, 50):6.3f} ms  p99 {pct(runs, 99):6.3f} ms")
    runs = timed(lambda: service.count(StrategyQuery("0421")), 20)
    print(f"count of {total:,} with a name filter    p50 {pct(runs, 50):6.3f} ms  p99 {pct(runs, 99):6.3f} ms")
    conn = sqlite3.connect(db)
    raw = timed(lambda: conn.execute("SELECT id, name FROM strategies ORDER BY name LIMIT 100 OFFSET 99900")
                .fetchall(), 50)
    conn.close()
    print(f"reference: raw sqlite3 id,name at offset 99,900     p50 {pct(raw, 50):6.3f} ms  p99 {pct(raw, 99):6.3f} ms")


def year() -> CandleSeries:
    rng = np.random.default_rng(42)
    close = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, N_BARS)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(N_BARS) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(N_BARS) * 0.001)
    ts = 1_704_067_200_000 + np.arange(N_BARS, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(N_BARS) * 5)


def evaluation_figures() -> None:
    bars = year()
    strategy = parse_strategy(three_conditions("bench"))
    evaluate(strategy, bars.take(slice(0, 1_000)))  # numba kernels load from cache / compile once
    runs = timed(lambda: evaluate(strategy, bars), 7)
    ind = timed(lambda: (CATALOG["sma"].compute(bars, {"period": 10}), CATALOG["sma"].compute(bars, {"period": 20}),
                         CATALOG["rsi"].compute(bars, {"period": 14}),
                         CATALOG["bbands"].compute(bars, {"period": 20, "std": 2}, ["middle"])), 7)
    signals = evaluate(strategy, bars)
    print(f"evaluate 3-condition strategy on {N_BARS:,} bars: best {min(runs) * 1e3:.1f} ms, median "
          f"{np.median(runs) * 1e3:.1f} ms (goal ≤ 50 ms; its indicators alone {min(ind) * 1e3:.1f} ms, "
          f"{int(signals.entry_long.sum()):,} entries)")
    for history, bound in ((1_000, DEFAULT_MAX_BARS), (100_000, DEFAULT_MAX_BARS), (10_000, None)):
        t = time.perf_counter()
        ev = IncrementalEvaluator(strategy, bars.take(slice(0, history)), max_bars=bound)
        warm = time.perf_counter() - t
        lat = []
        for i in range(history, history + 5_000):
            candle = bars.candle(i)
            t = time.perf_counter()
            ev.update(candle)
            lat.append(time.perf_counter() - t)
        print(f"incremental update after {history:>7,} history bars (warm-up {warm * 1e3:.0f} ms), "
              f"max_bars={bound}: 5,000 bars, p50 {pct(lat, 50):.4f} ms  p99 {pct(lat, 99):.4f} ms  "
              "(goal p99 ≤ 0.5 ms)")


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.db"
        container = Container.open(db)
        try:
            store_figures(container.strategies, db, Path(d))
        finally:
            container.close()
    evaluation_figures()


if __name__ == "__main__":
    main()
