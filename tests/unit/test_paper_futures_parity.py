"""The futures paper broker keeps the same account as the futures backtest on the same bars: sizing at leverage,
funding at funding times, liquidations."""

from __future__ import annotations

import numpy as np
import pytest

from domain.backtest import BacktestSettings
from domain.backtest.run import indicator_warmup, run_backtest
from domain.futures import FundingRates
from domain.live.paper import PaperSettings
from domain.live.paper_futures import FuturesAccount, FuturesPaperBroker
from domain.market import CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, Strategy, parse_strategy
from infrastructure.futures_brackets import load_default_brackets

BTC = load_default_brackets()["BTCUSDT"]


def walk(n: int, seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.002, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = np.arange(n, dtype=np.int64) * Timeframe.H1.ms
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, np.ones(n))


def funding(series: CandleSeries, seed: int) -> FundingRates:
    """An event every 8 bars; every other one without a mark price (the bar's open stands in)."""
    rng = np.random.default_rng(seed)
    ts = series.ts[8::8]
    marks = np.where(np.arange(len(ts)) % 2 == 0, series.open[8::8] * 1.001, np.nan)
    return FundingRates.from_columns(ts, rng.normal(2e-4, 4e-4, len(ts)), marks)


def sma_cross() -> Strategy:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 20}}}]}

    return parse_strategy({"schema": 1, "name": "SMA", "direction": "long_short", "entry_long": leg("crosses_above"),
                           "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
                           "risk": {"position_size_pct": 60, "stop_loss_pct": None, "take_profit_pct": None,
                                    "trailing_stop_pct": None}})


def paper_run(strategy: Strategy, series: CandleSeries, rates: FundingRates, cfg: BacktestSettings,
              account: FuturesAccount) -> tuple[FuturesPaperBroker, np.ndarray, list[str]]:
    """Per bar: its funding, a trade at the open, the adverse extreme then the favourable one (the backtest's
    bar path rule), then its close is evaluated."""
    broker = FuturesPaperBroker(PaperSettings(cash=cfg.cash, commission=cfg.commission, position_size_pct=60),
                                account)
    evaluator = IncrementalEvaluator(strategy, series.take(slice(0, 0)))
    first = indicator_warmup(strategy, series) + 1
    events = dict(zip(rates.ts.tolist(), zip(rates.rate.tolist(), rates.mark.tolist(), strict=True), strict=True))
    equity, reasons = np.full(len(series), cfg.cash), []
    for i in range(len(series)):
        bar = series.candle(i)
        if bar.ts in events:
            rate, mark = events[bar.ts]
            broker.on_funding(bar.ts, rate, bar.open if np.isnan(mark) else mark)
        fills = broker.on_trade(bar.ts, bar.open)
        path = [bar.low, bar.high] if broker.side >= 0 else [bar.high, bar.low]
        for price in path:
            fills += broker.on_trade(bar.ts, price)
        reasons += [f.reason for f in fills if f.action == "close"]
        equity[i] = broker.equity(bar.close)
        row = evaluator.update(bar)
        if first <= i < len(series) - 1:
            broker.on_signal(row.entry_long, row.exit_long, row.entry_short, row.exit_short, bar.ts)
    return broker, equity, reasons


@pytest.mark.parametrize(("seed", "leverage", "margin"), [(1, 25, "isolated"), (2, 50, "isolated"),
                                                          (3, 40, "cross"), (4, 75, "isolated")])
def test_paper_and_backtest_keep_the_same_futures_account_on_the_same_bars(seed: int, leverage: int,
                                                                           margin: str) -> None:
    series, strategy = walk(1500, seed), sma_cross()
    rates = funding(series, seed)
    cfg = BacktestSettings(cash=10_000.0, commission=0.0005, lot_size=1e-8, leverage=leverage, margin=margin,
                           brackets=BTC, funding=rates)
    result = run_backtest(strategy, series, cfg)
    broker, equity, reasons = paper_run(strategy, series, rates, cfg, FuturesAccount(leverage, margin, BTC))
    assert reasons == result.trades.reasons()
    assert result.stats["Funding [$]"] != 0.0
    if margin == "isolated":
        assert len(reasons) > 20 and reasons.count("liquidation") == result.stats["Liquidations"] > 0
    else:  # a cross liquidation takes the whole wallet and ends the run
        assert reasons[-1] == "liquidation" and equity[-1] == result.equity[-1] == 0.0
    np.testing.assert_allclose(equity, result.equity, rtol=1e-9, atol=1e-6)
    assert broker.funding_total == pytest.approx(result.stats["Funding [$]"], rel=1e-9, abs=1e-9)


def test_a_restored_futures_paper_session_keeps_its_margin_funding_and_liquidation_price() -> None:
    broker = FuturesPaperBroker(PaperSettings(cash=10_000.0, position_size_pct=50), FuturesAccount(10, "isolated", BTC))
    broker.on_signal(True, False, False, False, 0)
    broker.on_trade(1, 100.0)
    assert broker.on_funding(2, 0.01, 100.0) == pytest.approx(-broker.size)  # 1 % of the notional, paid
    again = FuturesPaperBroker(broker.settings, broker.account)
    again.restore(broker.snapshot())
    assert again.margin == broker.margin == pytest.approx(broker.size * 100.0 / 10 - broker.size)
    assert again.liquidation_price() == broker.liquidation_price()
    fills = again.on_trade(3, 80.0)
    assert [f.reason for f in fills] == ["liquidation"] and again.liquidations == 1
    assert again.cash == pytest.approx(10_000.0 - broker.size * 100.0 / 10)
