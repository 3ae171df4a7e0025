"""Qt item models pass pytest-qt's model tester, empty and filled."""

from __future__ import annotations

from PyQt6 import QtCore
from pytestqt.modeltest import ModelTester

from app.market_data.ports import StoredSeries
from domain.market import Coverage, SeriesKey, Timeframe
from presentation.models.coverage import CoverageModel, spans_of
from presentation.models.market_tree import MarketTreeModel

H = 3_600_000


def stored(exchange: str, symbol: str, tf: Timeframe, rows: int) -> StoredSeries:
    return StoredSeries(SeriesKey(exchange, symbol, tf), 1_700_000_000_000, 1_700_000_000_000 + rows * tf.ms, rows)


def test_the_market_tree_model_is_a_valid_qt_model(qtmodeltester: ModelTester) -> None:
    model = MarketTreeModel(("demo", "upbit", "binance"), {"demo": "Demo"})
    qtmodeltester.check(model)
    model.reset_series([stored("demo", "KRW-BTC", Timeframe.M1, 4320), stored("demo", "KRW-BTC", Timeframe.H1, 72),
                        stored("upbit", "KRW-ETH", Timeframe.M5, 10), stored("csv", "GOOG", Timeframe.D1, 3000)])
    qtmodeltester.check(model)
    assert [model.index(i, 0).data() for i in range(model.rowCount())] == ["Demo", "upbit", "binance", "csv"]
    btc = model.index(0, 0, model.index(0, 0))
    assert btc.data() == "KRW-BTC" and model.rowCount(btc) == 2
    assert model.index(0, 1).data() == "4,392"  # exchange rows sum their series


def test_the_coverage_model_is_a_valid_qt_model_listing_stored_empty_and_hole_spans(
        qtmodeltester: ModelTester) -> None:
    model = CoverageModel()
    qtmodeltester.check(model)
    cov = Coverage(Timeframe.H1, fetched=[(0, 10 * H), (20 * H, 30 * H)], stored=[(0, 4 * H), (6 * H, 10 * H),
                                                                                 (25 * H, 30 * H)])
    model.set_coverage(cov)
    qtmodeltester.check(model)
    kinds = [(s.kind, s.start // H, s.end // H, s.bars, s.quiet) for s in spans_of(cov)]
    assert kinds == [("Covered", 0, 10, 8, 2), ("Hole", 10, 20, 0, 0), ("Covered", 20, 30, 5, 5)]
    assert model.rowCount() == 3


def test_the_stats_model_blanks_a_ratio_whose_volatility_underflowed_and_says_why(qtmodeltester: ModelTester) -> None:
    from presentation.models.backtest_results import StatsModel

    model = StatsModel()
    model.set_runs([("run 1", {"Return [%]": -0.05, "Sharpe Ratio": -8.1e8, "Sortino Ratio": 1.25,
                               "Calmar Ratio": float("nan")})])
    qtmodeltester.check(model)
    rows = {model.index(r, 0).data(): model.index(r, 1) for r in range(model.rowCount())}
    assert rows["Sharpe Ratio"].data() == "—"
    assert "-8.1e+08" in rows["Sharpe Ratio"].data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert rows["Sortino Ratio"].data() == "1.25" and rows["Sortino Ratio"].data(
        QtCore.Qt.ItemDataRole.ToolTipRole) is None
    assert rows["Calmar Ratio"].data() == "—"
    assert rows["Return [%]"].data() == "-0.05"


def test_the_trades_model_shows_krw_pnl_in_whole_won_and_usdt_in_cents_with_the_exact_value_as_tooltip(
        qtmodeltester: ModelTester) -> None:
    import numpy as np

    from domain.backtest.trades import TradeTable
    from presentation.models.backtest_results import TRADE_COLUMNS, TradesModel

    cols = TradeTable.empty().columns()
    one = {name: np.ones(1, dtype=col.dtype) for name, col in cols.items()}
    one["pnl"] = np.array([-1234567.891])
    trades = TradeTable.from_columns(one)
    model = TradesModel()
    model.set_trades(trades, ("upbit", "KRW-BTC"))
    qtmodeltester.check(model)
    pnl = model.index(0, TRADE_COLUMNS.index("P&L"))
    assert model.data(pnl) == "-1,234,568"
    assert model.data(pnl, QtCore.Qt.ItemDataRole.ToolTipRole) == "-1,234,567.9"
    model.set_trades(trades, ("binance", "BTCUSDT"))
    assert model.data(model.index(0, TRADE_COLUMNS.index("P&L"))) == "-1,234,567.89"
