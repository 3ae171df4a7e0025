"""Deterministic simulated markets: seeded trades per day, and bars built from those trades."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from domain.market import DAY_MS, MINUTE_MS, CandleSeries, Timeframe

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LISTING_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z: every simulated market starts trading here
HORIZON_DAYS = 366 * 30
MINUTES_PER_DAY = DAY_MS // MINUTE_MS


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One simulated instrument: price level, tick, lot, activity, and whether quiet minutes occur."""

    exchange: str
    symbol: str
    english_name: str
    korean_name: str
    base_price: float
    tick: float
    lot: float
    trades_per_minute: float
    quiet_minutes: bool

    @property
    def price_decimals(self) -> int:
        return max(0, -int(np.floor(np.log10(self.tick))))


SYMBOLS: tuple[SymbolSpec, ...] = (
    SymbolSpec("upbit", "KRW-BTC", "Bitcoin", "비트코인", 40_000_000, 1000, 1e-8, 6.0, True),
    SymbolSpec("upbit", "KRW-ETH", "Ethereum", "이더리움", 2_500_000, 1000, 1e-8, 4.0, True),
    SymbolSpec("upbit", "KRW-XRP", "XRP", "리플", 600, 0.1, 1e-8, 2.0, True),
    SymbolSpec("upbit", "KRW-SOL", "Solana", "솔라나", 100_000, 10, 1e-8, 1.5, True),
    SymbolSpec("binance", "BTCUSDT", "Bitcoin", "", 30_000, 0.1, 0.001, 6.0, False),
    SymbolSpec("binance", "ETHUSDT", "Ethereum", "", 2_000, 0.01, 0.001, 5.0, False),
    SymbolSpec("binance", "SOLUSDT", "Solana", "", 80, 0.001, 1.0, 4.0, False),
)


def find_symbol(exchange: str, symbol: str) -> SymbolSpec | None:
    return next((s for s in SYMBOLS if s.exchange == exchange and s.symbol == symbol), None)


@dataclass(frozen=True, slots=True)
class Trades:
    """One day's trades, oldest first: time (ms), price, volume, and whether the taker bought."""

    ts: I64
    price: F64
    volume: F64
    buy: npt.NDArray[np.bool_]

    def before(self, end_ms: int) -> Trades:
        n = int(np.searchsorted(self.ts, end_ms, side="left"))
        return Trades(self.ts[:n], self.price[:n], self.volume[:n], self.buy[:n])


@dataclass(frozen=True, slots=True)
class Bars:
    """Simulator bars with the extra columns exchanges report (quote volume, trade count, last trade)."""

    ts: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    quote: F64
    trades: I64
    last_trade_ts: I64
    buy_volume: F64
    buy_quote: F64

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, idx: slice | npt.NDArray[np.int64]) -> Bars:
        return Bars(*(getattr(self, f)[idx] for f in _BAR_FIELDS))

    def window(self, start_ms: int, end_ms: int) -> Bars:
        lo, hi = np.searchsorted(self.ts, [start_ms, end_ms], side="left")
        return self.take(slice(int(lo), int(max(lo, hi))))

    def to_series(self, timeframe: Timeframe) -> CandleSeries:
        return CandleSeries.from_columns(timeframe, self.ts, self.open, self.high, self.low, self.close,
                                         self.volume)

    @staticmethod
    def concat(parts: list[Bars]) -> Bars:
        if not parts:
            return EMPTY_BARS
        return Bars(*(np.concatenate([getattr(p, f) for p in parts]) for f in _BAR_FIELDS))


_BAR_FIELDS = ("ts", "open", "high", "low", "close", "volume", "quote", "trades", "last_trade_ts",
               "buy_volume", "buy_quote")
_f, _i = np.empty(0, np.float64), np.empty(0, np.int64)
EMPTY_BARS = Bars(_i, _f, _f, _f, _f, _f, _f, _i, _i, _f, _f)


def bars_from_trades(t: Trades, bucket_ms: int, origin_ms: int = 0) -> Bars:
    """OHLCV bars from trades: first/max/min/last price, summed volumes; empty buckets are absent."""
    if len(t.ts) == 0:
        return EMPTY_BARS
    bucket = t.ts - (t.ts - origin_ms) % bucket_ms
    starts = np.concatenate([[0], np.nonzero(np.diff(bucket))[0] + 1])
    ends = np.concatenate([starts[1:], [len(t.ts)]])
    quote = t.price * t.volume
    bv = np.where(t.buy, t.volume, 0.0)
    bq = np.where(t.buy, quote, 0.0)
    return Bars(
        bucket[starts], t.price[starts], np.maximum.reduceat(t.price, starts),
        np.minimum.reduceat(t.price, starts), t.price[ends - 1],
        np.round(np.add.reduceat(t.volume, starts), 8), np.round(np.add.reduceat(quote, starts), 8),
        (ends - starts).astype(np.int64), t.ts[ends - 1],
        np.round(np.add.reduceat(bv, starts), 8), np.round(np.add.reduceat(bq, starts), 8),
    )


def aggregate(b: Bars, tf: Timeframe) -> Bars:
    """1-minute bars rolled up to a higher timeframe (same rules as bars_from_trades)."""
    if tf is Timeframe.M1 or len(b) == 0:
        return b
    bucket = b.ts - (b.ts - tf.origin_ms) % tf.ms
    starts = np.concatenate([[0], np.nonzero(np.diff(bucket))[0] + 1])
    ends = np.concatenate([starts[1:], [len(b)]])

    def total(col: F64) -> F64:
        return np.round(np.add.reduceat(col, starts), 8)

    return Bars(
        bucket[starts], b.open[starts], np.maximum.reduceat(b.high, starts),
        np.minimum.reduceat(b.low, starts), b.close[ends - 1], total(b.volume), total(b.quote),
        np.add.reduceat(b.trades, starts), b.last_trade_ts[ends - 1], total(b.buy_volume),
        total(b.buy_quote),
    )


class SimulatedMarket:
    """A seeded random walk for one symbol: day anchors once, intraday trades lazily per day (cached)."""

    def __init__(self, spec: SymbolSpec, seed: int = 0, cache_days: int = 120) -> None:
        self.spec = spec
        self.seed = seed
        self._key = zlib.crc32(f"{spec.exchange}:{spec.symbol}".encode())
        self._bars_cache: OrderedDict[int, Bars] = OrderedDict()  # ~130 kB a day: bounded
        self._day_cache: dict[int, Bars] = {}  # one bar a day: kept
        self._lock = threading.RLock()  # handlers generate in worker threads; the caches are shared
        self._trades_cache: OrderedDict[int, Trades] = OrderedDict()
        self._cache_days = cache_days

    @cached_property
    def _days(self) -> tuple[F64, F64]:
        """Log price at each day's open and each day's volatility (clustered: AR(1) log-volatility)."""
        rng = np.random.default_rng([self.seed, self._key, 0xDA15])
        n = HORIZON_DAYS + 1
        h = np.zeros(n)
        eps = rng.normal(0, 0.25, n)
        for i in range(1, n):
            h[i] = 0.9 * h[i - 1] + eps[i]
        vol = 0.03 * np.exp(h)
        z = rng.normal(0, 1, n)
        x = np.empty(n)
        x[0] = x0 = np.log(self.spec.base_price)
        for i in range(1, n):  # weak pull towards the base price keeps decades of walk plausible
            x[i] = x[i - 1] + vol[i - 1] * z[i - 1] - 0.003 * (x[i - 1] - x0)
        return x, vol

    def trades(self, day: int) -> Trades:
        """All trades of day number `day` (days since the epoch)."""
        with self._lock:
            return self._cached_trades(day)

    def _cached_trades(self, day: int) -> Trades:
        hit = self._trades_cache.get(day)
        if hit is not None:
            self._trades_cache.move_to_end(day)
            return hit
        t = self._make_trades(day)
        self._trades_cache[day] = t
        if len(self._trades_cache) > 8:
            self._trades_cache.popitem(last=False)
        return t

    def _make_trades(self, day: int) -> Trades:
        d = day - LISTING_MS // DAY_MS
        if d < 0 or d >= HORIZON_DAYS:
            return Trades(_i, _f, _f, np.empty(0, np.bool_))
        x, dvol = self._days
        rng = np.random.default_rng([self.seed, self._key, day])
        g = _ar1(rng.normal(0, 0.15, MINUTES_PER_DAY), 0.97)
        mvol = np.exp(g)
        mvol *= dvol[d] / np.sqrt(np.sum(mvol**2))
        lam = self.spec.trades_per_minute * np.exp(0.8 * g + rng.normal(0, 0.6, MINUTES_PER_DAY))
        n = rng.poisson(lam)
        if not self.spec.quiet_minutes:
            n = np.maximum(n, 1)
        minute = np.repeat(np.arange(MINUTES_PER_DAY, dtype=np.int64), n)
        ts = np.sort(day * DAY_MS + minute * MINUTE_MS + rng.integers(0, MINUTE_MS, len(minute)))
        per_trade_var = np.repeat(mvol**2 / np.maximum(n, 1), n)
        walk = np.cumsum(np.sqrt(per_trade_var) * rng.normal(0, 1, len(ts)))
        cumvar = np.cumsum(per_trade_var)
        if len(ts):  # bridge: the day ends exactly at the next day's anchor
            walk += (x[d + 1] - x[d] - walk[-1]) * cumvar / cumvar[-1]
        tick = self.spec.tick
        price = np.round(np.round(np.exp(x[d] + walk) / tick) * tick, self.spec.price_decimals)
        size = 2e6 / self.spec.base_price if self.spec.exchange == "upbit" else 3e4 / self.spec.base_price
        volume = np.round(np.maximum(rng.lognormal(0, 1.2, len(ts)) * size, self.spec.lot), 8)
        return Trades(ts, price, volume, rng.random(len(ts)) < 0.5)

    def minute_bars(self, day: int, now_ms: int | None = None) -> Bars:
        """The day's 1-minute bars, built from trades before `now_ms` (None = the whole day)."""
        if now_ms is not None and now_ms < (day + 1) * DAY_MS:
            return bars_from_trades(self.trades(day).before(now_ms), MINUTE_MS)
        hit = self._bars_cache.get(day)
        if hit is None:
            hit = self._bars_cache[day] = bars_from_trades(self.trades(day), MINUTE_MS)
            if len(self._bars_cache) > self._cache_days:
                self._bars_cache.popitem(last=False)
        else:
            self._bars_cache.move_to_end(day)
        return hit

    def bars(self, tf: Timeframe, start_ms: int, end_ms: int, now_ms: int) -> Bars:
        """Bars of `tf` with start ≤ open time < end, built from trades before `now_ms`."""
        with self._lock:
            return self._bars(tf, start_ms, end_ms, now_ms)

    def _bars(self, tf: Timeframe, start_ms: int, end_ms: int, now_ms: int) -> Bars:
        lo = max(tf.floor(start_ms), tf.floor(LISTING_MS))
        hi = min(tf.floor(end_ms - 1) + tf.ms, now_ms + 1)  # whole bars: a week needs all its days
        if hi <= lo or end_ms <= start_ms:
            return EMPTY_BARS
        days = range(lo // DAY_MS, (hi - 1) // DAY_MS + 1)
        if tf.ms >= DAY_MS:  # whole days come from the small per-day cache, so years of weeks stay cheap
            daily = Bars.concat([self.day_bar(d, now_ms) for d in days])
            return aggregate(daily, tf).window(start_ms, end_ms)
        minute = Bars.concat([self.minute_bars(d, now_ms) for d in days])
        return aggregate(minute, tf).window(start_ms, end_ms)

    def day_bar(self, day: int, now_ms: int) -> Bars:
        """The day as one bar (empty before the listing), built from trades before `now_ms`."""
        if now_ms < (day + 1) * DAY_MS:
            return aggregate(self.minute_bars(day, now_ms), Timeframe.D1)
        hit = self._day_cache.get(day)
        if hit is None:
            hit = self._day_cache[day] = aggregate(self.minute_bars(day), Timeframe.D1)
        return hit


def _ar1(eps: F64, phi: float) -> F64:
    """AR(1) filter y[t] = phi*y[t-1] + eps[t], vectorised through a scaled cumulative sum per block."""
    out = np.empty_like(eps)
    acc = 0.0
    block = 64  # phi**64 stays well above underflow; a small exact loop per block
    powers = phi ** np.arange(block)
    for s in range(0, len(eps), block):
        e = eps[s:s + block]
        k = len(e)
        p = powers[:k]
        y = p * (acc + np.cumsum(e / p))
        out[s:s + k] = y
        acc = float(y[-1]) * phi
    return out


def newest_bars(market: SimulatedMarket, tf: Timeframe, to_ms: int, count: int, now_ms: int) -> Bars:
    """The `count` newest bars opening before `to_ms` (fewer when the market's history runs out)."""
    end = min(to_ms, now_ms + 1)
    span = max(count * tf.ms, DAY_MS)
    while True:
        bars = market.bars(tf, end - span, end, now_ms)
        if len(bars) >= count or end - span <= LISTING_MS:
            return bars.take(slice(max(0, len(bars) - count), len(bars)))
        span *= 2


def oldest_bars(market: SimulatedMarket, tf: Timeframe, start_ms: int, end_ms: int, count: int,
                now_ms: int) -> Bars:
    """The `count` oldest bars opening in [start, end) (fewer when the range or history runs out)."""
    start = max(start_ms, tf.floor(LISTING_MS))
    end = min(end_ms, now_ms + 1)
    span = max(count * tf.ms, DAY_MS)
    while True:
        stop = min(end, start + span)
        bars = market.bars(tf, start, stop, now_ms)
        if len(bars) >= count or stop >= end:
            return bars.take(slice(0, min(count, len(bars))))
        span *= 2
