"""The look-ahead check passes every catalog indicator on every timeframe pair and catches values read early."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import domain.strategy.evaluation as evaluation
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
from domain.strategy import Strategy, loads_strategy, parse_strategy
from domain.strategy import higher as htf_module
from domain.strategy.lookahead import check_lookahead, cut_points

PAIRS = [("1m", "5m"), ("1m", "1h"), ("5m", "4h"), ("1h", "1d")]
OPERANDS = [(name, out) for name, ind in CATALOG.items() for out in ind.outputs]
HTF_BARS = 120


def walk(tf: Timeframe, n: int, seed: int = 11) -> CandleSeries:
    """Tick-rounded random bars starting mid-way through a day, so the first higher bar is a partial one."""
    rng = np.random.default_rng(seed)
    close = np.round(1000 * np.exp(np.cumsum(rng.normal(0, 0.004, n))), 1)
    open_ = np.round(np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.001, n)), 1)
    high = np.maximum(open_, close) + np.round(rng.uniform(0, 2, n), 1)
    low = np.minimum(open_, close) - np.round(rng.uniform(0, 2, n), 1)
    ts = 1_704_067_200_000 + 7 * Timeframe.H1.ms + 3 * tf.ms + np.arange(n, dtype=np.int64) * tf.ms
    return CandleSeries.from_columns(tf, ts, open_, high, low, close, np.round(rng.uniform(1, 50, n), 3))


def versus_base(name: str, output: str, timeframe: str, direction: str = "long_short") -> Strategy:
    """Enter when the higher-timeframe operand crosses the same operand on the base bars; exit on the reverse."""
    hi: dict[str, Any] = {"var": name, "field": output, "timeframe": timeframe}
    lo: dict[str, Any] = {"var": name, "field": output}
    up, down = ({"all": [{"left": hi, "op": op, "right": lo}]} for op in ("crosses_above", "crosses_below"))
    return parse_strategy({"schema": 2, "name": f"{name}.{output}@{timeframe}", "direction": direction,
                           "entry_long": up, "exit_long": down, "entry_short": down, "exit_short": up,
                           "risk": {"position_size_pct": 50, "stop_loss": {"pct": 3}}})


@pytest.mark.parametrize(("base", "high"), PAIRS)
def test_every_catalog_indicator_as_a_higher_timeframe_operand_passes_the_check(base: str, high: str) -> None:
    base_tf, high_tf = Timeframe.parse(base), Timeframe.parse(high)
    series = walk(base_tf, HTF_BARS * (high_tf.ms // base_tf.ms))
    signalled = traded = 0
    for name, output in OPERANDS:
        report = check_lookahead(versus_base(name, output, high), series)
        assert report.ok, (name, output, report.changes[:3])
        assert len(report.cuts) >= 8
        signalled += report.signals_compared > 0
        traded += report.trades_compared > 0
    assert signalled == len(OPERANDS)
    assert traded >= len(OPERANDS) - 4  # an operand whose crosses are rare may close no trade before a cut


def test_rules_reading_the_position_and_scaling_in_pass_the_check() -> None:
    ret = {"var": "position_return_pct"}
    sma = {"var": "sma", "params": {"period": 5}}
    strategy = parse_strategy({
        "schema": 2, "name": "scale", "direction": "long_only",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "crosses_above", "right": sma}]},
        "exit_long": {"any": [{"left": ret, "op": "ge", "right": {"const": 1}},
                              {"left": {"var": "bars_in_position"}, "op": "ge", "right": {"const": 15}}]},
        "risk": {"position_size_pct": 30},
        "scale_in": {"when": {"all": [{"left": ret, "op": "le", "right": {"const": -0.4}}]},
                     "size_pct": 50, "max_adds": 2}})
    report = check_lookahead(strategy, walk(Timeframe.M1, 2000), cuts=10, random_cuts=6, seed=3)
    assert report.ok, report.changes[:3]
    assert report.trades_compared >= 20


def leaky_sma(period: int) -> Any:
    """An SMA that reads the next bar's close: the kind of bug the check exists for."""
    def compute(series: CandleSeries, params: Any) -> dict[str, np.ndarray]:
        close = np.r_[series.close[1:], np.nan]
        out = np.full(len(close), np.nan)
        csum = np.cumsum(np.r_[0.0, close])
        out[period - 1:] = (csum[period:] - csum[:-period]) / period
        return {"value": out}
    return replace(CATALOG["sma"], compute_fn=compute, compute_some_fn=None)


def sma_cross(timeframe: str | None = None) -> Strategy:
    fast: dict[str, Any] = {"var": "sma", "params": {"period": 3}}
    if timeframe:
        fast["timeframe"] = timeframe
    slow = {"var": "ema", "params": {"period": 8}}
    return parse_strategy({"schema": 2, "name": "leak", "direction": "long_short",
                           "entry_long": {"all": [{"left": fast, "op": "crosses_above", "right": slow}]},
                           "entry_short": {"all": [{"left": fast, "op": "crosses_below", "right": slow}]},
                           "risk": {"position_size_pct": 50}})


def test_an_indicator_that_reads_the_next_bar_is_caught_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    strategy, series = sma_cross(), walk(Timeframe.M5, 1500)
    monkeypatch.setattr(evaluation, "CATALOG", {**CATALOG, "sma": leaky_sma(3)})
    report = check_lookahead(strategy, series)
    assert not report.ok
    assert all(c.bar <= c.cut for c in report.changes)
    signal = next(c for c in report.changes if c.what.endswith("signal"))
    assert signal.bar == signal.cut and signal.ts == int(series.ts[signal.cut])  # the bar before the missing one
    assert {c.full for c in report.changes if c.what.endswith("signal")} >= {"true"}
    values = [c for c in report.changes if c.what == "sma(3) value"]  # the operand itself differs at every cut
    assert {c.cut for c in values} == set(report.cuts) and all(c.bar == c.cut and c.truncated == "nan" for c in values)


def normalised_sma(period: int) -> Any:
    """An SMA shifted by a statistic of the whole series (its mean close): the other classic leak."""
    def compute(series: CandleSeries, params: Any) -> dict[str, np.ndarray]:
        out = np.full(len(series), np.nan)
        csum = np.cumsum(np.r_[0.0, series.close])
        out[period - 1:] = (csum[period:] - csum[:-period]) / period
        return {"value": out + 0.01 * (float(np.mean(series.close)) - float(series.close[0]))}
    return replace(CATALOG["sma"], compute_fn=compute, compute_some_fn=None)


def test_a_value_scaled_by_the_whole_series_changes_earlier_trades_and_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    strategy, series = sma_cross(), walk(Timeframe.M5, 1500)
    monkeypatch.setattr(evaluation, "CATALOG", {**CATALOG, "sma": normalised_sma(3)})
    report = check_lookahead(strategy, series)
    trades = [c for c in report.changes if c.what.startswith("trade")]
    assert trades and all(c.bar <= c.cut for c in trades)
    assert any(c.bar < c.cut - 50 for c in report.changes if c.what.endswith("signal"))


def test_a_higher_timeframe_value_taken_from_the_forming_bar_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = htf_module.closed_index

    def forming(series: CandleSeries, htf: CandleSeries) -> htf_module.Steps:
        steps = real(series, htf)  # the bar still forming at each base close:
        return htf_module.Steps(steps.at, np.minimum(steps.which + 1, len(htf) - 1))

    strategy, series = sma_cross("1h"), walk(Timeframe.M5, 12 * 150)
    assert check_lookahead(strategy, series).ok
    monkeypatch.setattr(htf_module, "closed_index", forming)
    report = check_lookahead(strategy, series)
    assert not report.ok
    assert all(c.bar <= c.cut for c in report.changes)


def test_cuts_spread_over_the_traded_bars_plus_seeded_random_ones() -> None:
    points = cut_points(1000, 50, cuts=8, random_cuts=4, seed=1)
    assert points == cut_points(1000, 50, cuts=8, random_cuts=4, seed=1)
    assert points[0] == 50 and points[-1] == 998 and 8 < len(points) <= 12
    assert cut_points(1000, 50, cuts=8, random_cuts=4, seed=2) != points
    assert cut_points(40, 50) == []


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "resources" / "strategies").glob("*.json")),
                         ids=lambda p: p.stem)
def test_every_bundled_sample_passes_the_check_on_five_minute_bars(path: Path) -> None:
    strategy = loads_strategy(path.read_bytes())
    report = check_lookahead(strategy, walk(Timeframe.M5, 12 * 24 * 12), cuts=10, random_cuts=5, seed=7)
    assert report.ok, report.changes[:3]
    assert report.values_compared > 0 and report.signals_compared > 0
