"""Market value objects: timeframes, instruments and columnar candle series."""

from domain.market.candles import FIELDS, Candle, CandleSeries, InvalidCandles
from domain.market.instrument import Market
from domain.market.timeframe import DAY_MS, MINUTE_MS, Timeframe, UnknownTimeframe, valid_codes

__all__ = [
    "DAY_MS", "FIELDS", "MINUTE_MS", "Candle", "CandleSeries", "InvalidCandles", "Market", "Timeframe",
    "UnknownTimeframe", "valid_codes",
]

from domain.market.coverage import Coverage, SeriesKey  # noqa: E402

__all__ += ["Coverage", "SeriesKey"]
