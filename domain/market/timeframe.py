"""Timeframe value object: bar length in milliseconds and each exchange's spelling."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MINUTE_MS = 60_000
DAY_MS = 86_400_000
# 1970-01-01 was a Thursday; weeks start on Monday (as on Upbit and Binance) four days later.
WEEK_EPOCH_OFFSET_MS = 4 * DAY_MS


class UnknownTimeframe(ValueError):
    """Raised for a timeframe name QuantDesk does not know; the message lists the valid ones."""


@dataclass(frozen=True, slots=True)
class _Spec:
    code: str
    ms: int
    upbit_path: str
    binance: str


_SPECS = [
    _Spec("1m", MINUTE_MS, "minutes/1", "1m"),
    _Spec("3m", 3 * MINUTE_MS, "minutes/3", "3m"),
    _Spec("5m", 5 * MINUTE_MS, "minutes/5", "5m"),
    _Spec("10m", 10 * MINUTE_MS, "minutes/10", ""),
    _Spec("15m", 15 * MINUTE_MS, "minutes/15", "15m"),
    _Spec("30m", 30 * MINUTE_MS, "minutes/30", "30m"),
    _Spec("1h", 60 * MINUTE_MS, "minutes/60", "1h"),
    _Spec("4h", 240 * MINUTE_MS, "minutes/240", "4h"),
    _Spec("1d", DAY_MS, "days", "1d"),
    _Spec("1w", 7 * DAY_MS, "weeks", "1w"),
]


class Timeframe(Enum):
    """A bar length. `Timeframe.parse("1h")`; `.ms`; `.upbit_path`; `.binance` ('' = not offered)."""

    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M10 = "10m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"

    @property
    def _spec(self) -> _Spec:
        return _BY_CODE[self.value]

    @property
    def code(self) -> str:
        return self.value

    @property
    def ms(self) -> int:
        return self._spec.ms

    @property
    def upbit_path(self) -> str:
        """Path segment after /v1/candles/ on Upbit."""
        return self._spec.upbit_path

    @property
    def binance(self) -> str:
        """Binance `interval` spelling, or '' where Binance has no such interval."""
        return self._spec.binance

    @property
    def origin_ms(self) -> int:
        """Where bar boundaries are anchored: the Unix epoch, or Monday 1970-01-05 for weeks."""
        return WEEK_EPOCH_OFFSET_MS if self is Timeframe.W1 else 0

    def floor(self, ts_ms: int) -> int:
        """Open time of the bar containing `ts_ms`."""
        return ts_ms - (ts_ms - self.origin_ms) % self.ms

    def ceil(self, ts_ms: int) -> int:
        """First bar boundary at or after `ts_ms`."""
        f = self.floor(ts_ms)
        return f if f == ts_ms else f + self.ms

    def is_aligned(self, ts_ms: int) -> bool:
        return (ts_ms - self.origin_ms) % self.ms == 0

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Parse '1m', '1h', '1d', ... (also '60m', '240m', '1D'); a clear error lists the valid ones."""
        t = text.strip()
        aliases = {"60m": "1h", "240m": "4h", "1440m": "1d", "24h": "1d", "7d": "1w"}
        t = aliases.get(t, t)
        if t not in _BY_CODE and t.lower() in _BY_CODE:
            t = t.lower()
        try:
            return cls(t)
        except ValueError:
            raise UnknownTimeframe(
                f"unknown timeframe {text!r}; valid timeframes: {', '.join(valid_codes())}"
            ) from None

    @classmethod
    def from_ms(cls, ms: int) -> Timeframe | None:
        for tf in cls:
            if tf.ms == ms:
                return tf
        return None


_BY_CODE = {s.code: s for s in _SPECS}


def valid_codes() -> list[str]:
    return [s.code for s in _SPECS]
