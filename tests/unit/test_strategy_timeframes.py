"""Higher-timeframe operands: values of closed HTF bars only, equal to an independent resample, never the future."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from domain.indicators import CATALOG
from domain.market import FIELDS, CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, evaluate, higher, indicator_columns, parse_strategy, warmup_bars
from domain.strategy.evaluation import var_warmup

PAIRS = [(Timeframe.M1, "5m", 1500), (Timeframe.M1, "1h", 4000), (Timeframe.M5, "4h", 3500),
         (Timeframe.H1, "1d", 2000)]
T0 = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000 + 3 * 3_600_000 + 7 * 60_000  # mid-bar of every HTF


def gappy(base: Timeframe, n: int, seed: int = 2) -> CandleSeries:
    """A random walk on `base` bars with ~3 % of bars missing and one long hole, starting mid-way through HTF bars."""
    rng = np.random.default_rng(seed)
    m = n + n // 10
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, m)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.001, m))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.003, m))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.003, m))
    ts = base.floor(T0) + np.arange(m, dtype=np.int64) * base.ms
    keep = rng.random(m) > 0.03
    keep[m // 2: m // 2 + m // 20] = False
    idx = np.flatnonzero(keep)[:n]
    return CandleSeries.from_columns(base, ts[idx], open_[idx], high[idx], low[idx], close[idx],
                                     rng.uniform(1, 10, m)[idx])


def reference_values(series: CandleSeries, name: str, field: str, code: str) -> np.ndarray:
    """The indicator on pandas-resampled bars, each value placed on the base bars after its HTF bar closed."""
    tf = Timeframe(code)
    frame = pd.DataFrame({f: series.column(f) for f in FIELDS},
                         index=pd.to_datetime(series.ts, unit="ms"))
    bars = frame.resample(pd.Timedelta(milliseconds=tf.ms), origin="epoch", closed="left", label="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": _in_order}).dropna()
    ts = bars.index.values.astype("datetime64[ms]").astype(np.int64)
    htf = CandleSeries.from_columns(tf, ts, *(bars[f].values for f in FIELDS))
    values = htf.column(name) if name in FIELDS else CATALOG[name].compute(htf, CATALOG[name].defaults())[field]
    last_closed = np.searchsorted(ts + tf.ms, series.ts + series.timeframe.ms, side="right") - 1
    out = np.full(len(series), np.nan)
    out[last_closed >= 0] = values[last_closed[last_closed >= 0]]
    return out


def _in_order(volume: pd.Series) -> float:
    """Summed bar after bar (as bars arrive live), not pairwise: the same float as the live builder's running sum."""
    return float(np.cumsum(volume.values)[-1]) if len(volume) else float("nan")


def outputs() -> list[tuple[str, str]]:
    return [(f, f) for f in FIELDS] + [(n, f) for n in sorted(CATALOG) if n not in FIELDS
                                       for f in CATALOG[n].outputs]


def on(name: str, field: str, code: str) -> dict[str, Any]:
    operand: dict[str, Any] = {"var": name, "timeframe": code}
    if name not in FIELDS:
        operand.update(params=CATALOG[name].defaults(), field=field)
    return operand


def strategy_reading(operands: list[dict[str, Any]]) -> Any:
    conds = [{"left": o, "op": "gt", "right": {"const": 0}} for o in operands]
    return parse_strategy({"schema": 2, "name": "htf", "direction": "long_only", "entry_long": {"any": conds},
                           "entry_short": None, "exit_long": None, "exit_short": None,
                           "risk": {"position_size_pct": 100}})


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_every_catalog_output_on_a_higher_timeframe_equals_the_indicator_on_independently_resampled_closed_bars(
        base: Timeframe, code: str, n: int) -> None:
    series = gappy(base, n)
    names = outputs()
    columns = list(indicator_columns(strategy_reading([on(nm, f, code) for nm, f in names]), series).values())
    assert len(columns) == len(names)
    for (name, field), got in zip(names, columns, strict=True):
        expected = reference_values(series, name, field, code)
        np.testing.assert_array_equal(got, expected, err_msg=f"{name}.{field}@{code}")
        assert np.isfinite(got).any(), f"{name}.{field}@{code} never has a value on {n} bars"


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_cutting_off_the_future_never_changes_a_higher_timeframe_value(base: Timeframe, code: str, n: int) -> None:
    series = gappy(base, n, seed=5)
    strategy = strategy_reading([on(nm, f, code) for nm, f in outputs()])
    whole = indicator_columns(strategy, series)
    rng = np.random.default_rng(1)
    for cut in sorted(rng.integers(1, n, 6)):
        part = indicator_columns(strategy, series.take(slice(0, int(cut))))
        for key, values in part.items():
            np.testing.assert_array_equal(values, whole[key][:cut], err_msg=f"{key} cut at {cut}")


def test_the_forming_bar_is_never_used_a_5m_close_appears_on_the_1m_bar_that_closes_it() -> None:
    series = gappy(Timeframe.M1, 40)
    series = CandleSeries.from_columns(Timeframe.M1, Timeframe.M5.floor(int(series.ts[0])) + np.arange(40) * 60_000,
                                       series.open, series.high, series.low, series.close, series.volume)
    got = indicator_columns(strategy_reading([on("close", "close", "5m")]), series)["close@5m"]
    assert np.isnan(got[:4]).all()
    for i in range(4, 40):  # bar i closes the 5-minute bar ending at its close; the value holds until the next one
        assert got[i] == series.close[(i + 1) // 5 * 5 - 1], i


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_the_incremental_evaluator_gives_the_same_higher_timeframe_values_bar_for_bar(base: Timeframe, code: str,
                                                                                       n: int) -> None:
    series = gappy(base, n, seed=9)
    operands = [on(nm, f, code) for nm, f in outputs()]
    strategy = strategy_reading(operands)
    whole = indicator_columns(strategy, series)
    start = n // 3
    live = IncrementalEvaluator(strategy, series.take(slice(0, start)), max_bars=None)
    signals = evaluate(strategy, series)
    for i in range(start, n):
        row = live.update(series.candle(i))
        values = live.values()
        for key, column in whole.items():
            assert values[key] == column[i] or (np.isnan(values[key]) and np.isnan(column[i])), (key, i)
        assert row.entry_long == signals.entry_long[i]


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_warmup_counts_higher_timeframe_warm_up_in_base_bars_and_is_tight_within_one_htf_bar(
        base: Timeframe, code: str, n: int) -> None:
    rng = np.random.default_rng(4)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    ts = base.floor(T0) + np.arange(n, dtype=np.int64) * base.ms  # contiguous, starting mid-way through an HTF bar
    series = CandleSeries.from_columns(base, ts, close, close * 1.002, close * 0.998, close, rng.uniform(1, 9, n))
    ratio = Timeframe(code).ms // base.ms
    for name, field in outputs():
        operand = on(name, field, code)
        strategy = strategy_reading([operand])
        own = 0 if name in FIELDS else CATALOG[name].warmup(CATALOG[name].defaults())
        bound = warmup_bars(strategy, base)
        assert bound == var_warmup(strategy.entry_long.items[0].left, base) == (own + 1) * ratio - 1
        values = next(iter(indicator_columns(strategy, series).values()))
        if bound >= n:
            continue
        first = int(np.argmax(np.isfinite(values)))
        assert bound - ratio < first <= bound, (name, field, first, bound)


def test_bars_out_of_time_order_resample_bucket_by_bucket_as_they_come() -> None:
    ts = np.array([0, 3, 0, 3, 1, 1, 0], dtype=np.int64) * 3_600_000 + np.arange(7, dtype=np.int64) * 60_000
    price = np.arange(1.0, 8.0)
    series = CandleSeries.from_columns(Timeframe.M1, ts, price, price + 1, price - 0.5, price, price * 10)
    hourly = higher.resample(series, Timeframe.H1)  # more buckets than the time span holds: counted first
    runs = [[0], [1], [2], [3], [4, 5], [6]]  # consecutive bars in one hour form one bucket
    assert hourly.ts.tolist() == [int(ts[r[0]]) // 3_600_000 * 3_600_000 for r in runs]
    assert hourly.open.tolist() == [price[r[0]] for r in runs]
    assert hourly.high.tolist() == [max(price[r] + 1) for r in runs]
    assert hourly.close.tolist() == [price[r[-1]] for r in runs]
    assert hourly.volume.tolist() == [sum(price[r] * 10) for r in runs]
    # every earlier bucket counts as closed (none of these bars closes its own): more runs than the span holds
    assert higher.closed_index(series, hourly).per_bar().tolist() == [-1, 0, 1, 2, 3, 3, 4]


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_a_condition_on_one_higher_timeframe_compared_on_its_own_bars_equals_comparing_the_placed_values(
        base: Timeframe, code: str, n: int) -> None:
    """Both sides on one higher timeframe (with constants and arithmetic) are compared on the HTF bars and the
    result placed on the base bars: the same signals as comparing the reference values bar by bar, gaps included."""
    series = gappy(base, n)
    close, ema, atr = (reference_values(series, name, field, code)
                       for name, field in (("close", "close"), ("ema", "value"), ("atr", "value")))
    middle, ratio = float(np.nanmedian(close)), float(np.nanmedian(atr / close))
    cases = [
        ({"var": "close", "timeframe": code}, "gt", on("ema", "value", code), close > ema),
        ({"var": "close", "timeframe": code}, "le", {"sub": [on("ema", "value", code), {"mul": [{"const": 0.5},
                                                    on("atr", "value", code)]}]}, close <= ema - 0.5 * atr),
        ({"div": [on("atr", "value", code), {"var": "close", "timeframe": code}]}, "ge", {"const": ratio},
         atr / close >= ratio),
        ({"const": middle}, "lt", {"var": "close", "timeframe": code}, middle < close),
    ]
    for left, op, right, expected in cases:
        strategy = parse_strategy({"schema": 2, "name": "htf", "direction": "long_only",
                                   "entry_long": {"all": [{"left": left, "op": op, "right": right}]},
                                   "entry_short": None, "exit_long": None, "exit_short": None,
                                   "risk": {"position_size_pct": 100}})
        with np.errstate(invalid="ignore"):
            assert np.array_equal(evaluate(strategy, series).entry_long, expected), (op, right)
        assert 0 < expected.sum() < len(series)


@pytest.mark.parametrize(("base", "code", "n"), PAIRS, ids=[f"{b.code}->{c}" for b, c, _ in PAIRS])
def test_the_closed_index_runs_are_the_last_htf_bar_closed_by_each_base_close_and_first_with_finds_its_bar(
        base: Timeframe, code: str, n: int) -> None:
    series, tf = gappy(base, n), Timeframe(code)
    htf = higher.resample(series, tf)
    steps = higher.closed_index(series, htf)
    expected = np.searchsorted(htf.ts + tf.ms, series.ts + base.ms, side="right") - 1
    assert np.array_equal(steps.per_bar(), expected)
    assert len(steps.which) <= len(htf) + 1 and np.all(np.diff(steps.which) > 0)
    for bars in (0, 3, len(htf) - 2, len(htf) + 5):
        first = higher.first_with(series, tf, bars)
        assert first == (int(np.argmax(expected >= bars)) if (expected >= bars).any() else len(series)), bars
