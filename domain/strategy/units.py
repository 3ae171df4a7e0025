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


def arith_unit(op: str, left: tuple[str, str, str] | None,
               right: tuple[str, str, str] | None) -> tuple[str | None, str | None]:
    """(unit class of `left op right`, None) or (None, why the arithmetic has no unit); None stands for a constant.

    price − price is a price delta, price ± delta is a price, X × const and X ÷ const keep X's class,
    X ÷ X (or a delta ÷ a price) is a ratio, X × ratio keeps X's class; anything else is refused.
    """
    if left is None and right is None:
        return None, "arithmetic on two constants; write the result as one constant"
    if left is None or right is None:
        other = left or right
        assert other is not None
        if op == "div" and left is None:
            return None, f"dividing a constant by {other[1]} has no unit QuantDesk can compare"
        return other[2], None
    (lvar, lname, lu), (rvar, rname, ru) = left, right
    if (lu in SCALE_DEPENDENT or ru in SCALE_DEPENDENT) and lvar != rvar:
        return None, f"{lname} and {rname} are each on their own scale; combine each only with constants"
    found = _ARITH.get((op, lu, ru)) or (lu if lu == ru and op == "add" else None)
    if found is None and lu == ru:
        found = {"sub": "price_delta" if lu == "price" else lu, "div": "ratio"}.get(op)
    if found is None and op == "mul" and "ratio" in (lu, ru):
        found = ru if lu == "ratio" else lu
    if found is None and op == "div" and ru == "ratio":
        found = lu
    if found is None:
        sign = {"add": "+", "sub": "−", "mul": "×", "div": "÷"}[op]
        return None, f"{lname} ({lu}) {sign} {rname} ({ru}) has no unit QuantDesk can compare"
    return found, None


_ARITH = {("add", "price", "price_delta"): "price", ("add", "price_delta", "price"): "price",
          ("sub", "price", "price_delta"): "price", ("div", "price_delta", "price"): "ratio"}
