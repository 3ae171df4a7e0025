"""One formatting of backtest statistics for the GUI's tables and the CLI's text."""

from __future__ import annotations

import pytest

from app.backtests.display import stat_text


@pytest.mark.parametrize(("key", "value", "text"), [
    ("Start", "2004-08-19T00:00:00Z", "2004-08-19 00:00 UTC"),
    ("Duration", 3116.0, "3,116.00 days"),
    ("Avg. Trade Duration", 0.5, "12.00 hours"),
    ("Equity Final [$]", 10986.65881, "10,986.66"),
    ("Return [%]", 9.86659, "9.8666"),
    ("Win Rate [%]", 37.5, "37.5"),
    ("# Trades", 12345, "12,345"),
    ("Sharpe Ratio", float("nan"), "—"),
    ("Sharpe Ratio", -8e8, "—"),  # an underflowed volatility, not a figure
    ("Profit Factor", None, "—"),
])
def test_statistics_read_as_a_trader_expects(key: str, value: object, text: str) -> None:
    assert stat_text(key, value) == text
