"""Comparability rule: which operands may be compared, by the unit class of each indicator output.

Every catalog output declares a class (`Indicator.unit_of(field)`): price, volume, cumulative_volume,
bounded_0_100, price_delta, percent, ratio, unbounded. The rule, used alike by the builder and the
validator:

* A variable may be compared with a constant whatever its class (`rsi < 30`, `close > 50000`,
  `macd.hist > 0`): the constant takes the variable's unit.
* Two constants may not be compared (the result would never change).
* Two variables may be compared when their outputs share a class: price with price (`sma(10)` vs
  `close`, `bbands.upper`, `donchian.lower`, `vwap`), volume with volume, 0..100 oscillators with
  each other (`rsi` vs `stoch.k`), price distances with each other (`macd.hist` vs `atr`), ratios,
  percentages.
* Classes whose scale depends on the indicator itself (`unbounded`: CCI; `cumulative_volume`: OBV,
  whose level depends on where the series starts) are comparable only with the same indicator
  (`cci(14)` vs `cci(50)`, `obv` vs `obv`).
"""

from __future__ import annotations

SCALE_DEPENDENT = frozenset({"unbounded", "cumulative_volume"})


def comparable(left: tuple[str, str, str], right: tuple[str, str, str]) -> str | None:
    """None when two variables, each given as (var name, label, unit class), may be compared; else why not."""
    (lvar, lname, lunit), (rvar, rname, runit) = left, right
    if lunit != runit:
        return f"cannot compare {lname} ({lunit}) with {rname} ({runit}): their units differ"
    if lunit in SCALE_DEPENDENT and lvar != rvar:
        return (f"cannot compare {lname} with {rname}: each is on its own scale ({lunit}); "
                f"compare each with a constant instead")
    return None
