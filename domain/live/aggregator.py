"""Trades into bars: first/max/min/last price and summed volume per bucket, like the exchanges' REST candles.

A bar closes when a trade of a later bucket arrives or when the clock passes its end (`flush`). Buckets
without trades produce no bar, exactly as Upbit's candles omit quiet minutes. Volumes are summed and
rounded to `volume_decimals` (the exchanges' quantity precision) so that streamed and REST bars agree
to the last digit.
"""

from __future__ import annotations

from domain.market import Candle, Timeframe


class TradeAggregator:
    """Builds bars of one timeframe from a time-ordered trade stream."""

    __slots__ = ("timeframe", "_ms", "_origin", "_decimals", "_start", "_end", "_o", "_h", "_l", "_c", "_v",
                 "late", "last_closed")

    def __init__(self, timeframe: Timeframe, volume_decimals: int | None = 8) -> None:
        self.timeframe = timeframe
        self._ms = timeframe.ms
        self._origin = timeframe.origin_ms
        self._decimals = volume_decimals
        self._start = -1  # open time of the forming bar; -1 = none
        self._end = -1
        self._o = self._h = self._l = self._c = self._v = 0.0
        self.late = 0  # trades that arrived for a bar already closed (ignored, counted)
        self.last_closed = -1  # open time of the newest closed bar

    def add(self, ts: int, price: float, volume: float) -> Candle | None:
        """Fold one trade in. Returns the bar this trade closed (the previous one), if any."""
        if self._start >= 0 and self._start <= ts < self._end:
            if price > self._h:
                self._h = price
            elif price < self._l:
                self._l = price
            self._c = price
            self._v += volume
            return None
        start = ts - (ts - self._origin) % self._ms
        if start <= self.last_closed or (self._start >= 0 and start < self._start):
            self.late += 1
            return None
        closed = self._close()
        self._start, self._end = start, start + self._ms
        self._o = self._h = self._l = self._c = price
        self._v = volume
        return closed

    def flush(self, now_ms: int) -> Candle | None:
        """Close the forming bar if `now_ms` is at or past its end."""
        if self._start >= 0 and now_ms >= self._end:
            return self._close()
        return None

    def current(self) -> Candle | None:
        """The forming bar so far (for live charts), or None."""
        if self._start < 0:
            return None
        return Candle(self._start, self._o, self._h, self._l, self._c, self._volume())

    def _volume(self) -> float:
        return self._v if self._decimals is None else round(self._v, self._decimals)

    def _close(self) -> Candle | None:
        if self._start < 0:
            return None
        bar = Candle(self._start, self._o, self._h, self._l, self._c, self._volume())
        self.last_closed = self._start
        self._start = self._end = -1
        return bar


class BarAggregator:
    """Rolls closed bars of a lower timeframe (e.g. 1m) into a higher one (e.g. 15m)."""

    __slots__ = ("timeframe", "_source_ms", "_decimals", "_bar", "_v", "last_closed", "late")

    def __init__(self, source: Timeframe, target: Timeframe, volume_decimals: int | None = 8) -> None:
        if target.ms < source.ms or (target.ms % source.ms and target is not Timeframe.W1):
            raise ValueError(f"cannot build {target.code} bars from {source.code} bars")
        self.timeframe = target
        self._source_ms = source.ms
        self._decimals = volume_decimals
        self._bar: list[float] | None = None  # [start, open, high, low, close]
        self._v = 0.0
        self.last_closed = -1
        self.late = 0

    def add(self, bar: Candle) -> list[Candle]:
        """Fold one closed lower bar in; returns the higher bars it completed (0, 1 or 2)."""
        out: list[Candle] = []
        start = self.timeframe.floor(bar.ts)
        cur = self._bar
        if cur is not None and start != cur[0]:
            if start < cur[0]:
                self.late += 1
                return out
            out.append(self._close())
            cur = None
        if start <= self.last_closed:
            self.late += 1
            return out
        if cur is None:
            self._bar = [start, bar.open, bar.high, bar.low, bar.close]
            self._v = bar.volume
        else:
            cur[2] = max(cur[2], bar.high)
            cur[3] = min(cur[3], bar.low)
            cur[4] = bar.close
            self._v += bar.volume
        if bar.ts + self._source_ms >= start + self.timeframe.ms:  # the bucket's last lower bar
            out.append(self._close())
        return out

    def flush(self, now_ms: int) -> Candle | None:
        """Close the forming bar if `now_ms` is at or past its end."""
        if self._bar is not None and now_ms >= int(self._bar[0]) + self.timeframe.ms:
            return self._close()
        return None

    def current(self) -> Candle | None:
        b = self._bar
        if b is None:
            return None
        return Candle(int(b[0]), b[1], b[2], b[3], b[4], self._volume())

    def _volume(self) -> float:
        return self._v if self._decimals is None else round(self._v, self._decimals)

    def _close(self) -> Candle:
        bar = self.current()
        assert bar is not None
        self.last_closed = bar.ts
        self._bar = None
        return bar

