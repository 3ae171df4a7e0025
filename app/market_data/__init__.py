"""Market data: collecting candles from exchanges, importing and exporting candle files, the candle store port."""
