"""Indicator and parameter metadata, parameter validation and resolution."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from domain.market.candles import CandleSeries

F64 = npt.NDArray[np.float64]
ParamValue = int | float
ParamKind = Literal["int", "float"]
Resolved = dict[str, ParamValue]
ComputeFn = Callable[[CandleSeries, Resolved], dict[str, F64]]
SelectiveFn = Callable[[CandleSeries, Resolved, frozenset[str]], dict[str, F64]]
WarmupFn = Callable[[Resolved], int]
CrossCheck = Callable[[Resolved], list[tuple[str, str]]]
Stream = Callable[[float, float, float, float, float], tuple[float, ...]]
"""Streaming form: (open, high, low, close, volume) of the next bar -> that bar's outputs, in `outputs` order."""
StreamFn = Callable[[Resolved], Stream]

CATEGORIES = ("price", "trend", "momentum", "volatility", "volume")

#: Comparability classes. Two operands are comparable when their classes are equal; a constant fits
#: any class. "price" also covers price levels derived from prices (moving averages, bands, channels).
UNITS: Mapping[str, str] = {
    "price": "a price level (close, moving averages, bands, channels, VWAP)",
    "volume": "traded volume per bar (volume, volume SMA)",
    "cumulative_volume": "running sum of signed volume (OBV); only its own shape matters",
    "bounded_0_100": "an oscillator scaled 0..100 (RSI, Stochastic, ADX, ±DI)",
    "price_delta": "a distance in price units (MACD, ATR)",
    "percent": "a percentage change (ROC)",
    "ratio": "a dimensionless ratio (Bollinger %b, band width)",
    "unbounded": "an unbounded oscillator around 0 (CCI)",
}


@dataclass(frozen=True, slots=True)
class Param:
    """One tunable parameter of an indicator, with its bounds and a tooltip."""

    name: str
    kind: ParamKind
    default: ParamValue
    min: ParamValue
    max: ParamValue
    label: str
    help: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """A catalog entry: metadata for the GUI and validator plus a causal compute function."""

    name: str
    label: str
    category: str
    params: tuple[Param, ...]
    outputs: tuple[str, ...]
    overlay: bool
    help: str
    unit: str
    warmup_fn: WarmupFn = field(repr=False, compare=False)
    compute_fn: ComputeFn = field(repr=False, compare=False)
    field_units: Mapping[str, str] = field(default_factory=dict, compare=False)
    cross_check: CrossCheck | None = field(default=None, repr=False, compare=False)
    compute_some_fn: SelectiveFn | None = field(default=None, repr=False, compare=False)
    stream_fn: StreamFn | None = field(default=None, repr=False, compare=False)

    @property
    def default_field(self) -> str:
        return self.outputs[0]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}; parameters: {self._param_names()}")

    def defaults(self) -> Resolved:
        return {p.name: p.default for p in self.params}

    def unit_of(self, output: str) -> str:
        """The comparability class of one output (see UNITS)."""
        if output not in self.outputs:
            raise KeyError(f"{self.name} has no output {output!r}; outputs: {', '.join(self.outputs)}")
        return self.field_units.get(output, self.unit)

    def overlay_of(self, output: str) -> bool:
        """Whether this output belongs on the price pane (an overlay indicator's price-valued outputs only)."""
        return self.overlay and self.unit_of(output) == "price"

    def warmup(self, params: Mapping[str, object] | None = None) -> int:
        """Bars before the first valid (non-NaN) value of every output."""
        return self.warmup_fn(resolve_params(self, params))

    def compute(
        self, series: CandleSeries, params: Mapping[str, object] | None = None, fields: Iterable[str] | None = None,
    ) -> dict[str, F64]:
        """Outputs as float64 arrays as long as `series`, NaN during warm-up; raises ValueError on bad params.

        All outputs by default; `fields` limits the result to those outputs (and may skip work for them).
        Price fields return read-only views of the candle columns.
        """
        resolved = resolve_params(self, params)
        if fields is None:
            return self.compute_fn(series, resolved)
        wanted = frozenset(fields)
        unknown = wanted.difference(self.outputs)
        if unknown:
            raise KeyError(f"{self.name} has no output {sorted(unknown)[0]!r}; outputs: {', '.join(self.outputs)}")
        out = (self.compute_some_fn or (lambda s, p, _w: self.compute_fn(s, p)))(series, resolved, wanted)
        return {f: out[f] for f in self.outputs if f in wanted}

    def stream(self, params: Mapping[str, object] | None = None) -> Stream:
        """A fresh streaming computation: push bars one at a time, get each bar's outputs (in `outputs`
        order) bit-for-bit equal to `compute` over every bar pushed so far."""
        if self.stream_fn is None:
            raise NotImplementedError(f"{self.name} has no streaming form")
        return self.stream_fn(resolve_params(self, params))

    def _param_names(self) -> str:
        return ", ".join(p.name for p in self.params) or "none"


def _fmt(v: ParamValue) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _check_one(p: Param, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be an integer ≥ {_fmt(p.min)}" if p.kind == "int" else "must be a number"
    if not math.isfinite(value):
        return "must be a finite number"
    if p.kind == "int" and value != int(value):
        return f"must be an integer ≥ {_fmt(p.min)}"
    if value < p.min:
        return f"must be an integer ≥ {_fmt(p.min)}" if p.kind == "int" else f"must be ≥ {_fmt(p.min)}"
    if value > p.max:
        return f"must be ≤ {_fmt(p.max)}"
    return None


def check_params(indicator: Indicator | str, params: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """Every problem with `params` as (param_name, message); empty when valid. Missing params take defaults."""
    if isinstance(indicator, str):
        from domain.indicators.catalog import get_indicator

        indicator = get_indicator(indicator)
    given = dict(params or {})
    problems: list[tuple[str, str]] = []
    known = {p.name for p in indicator.params}
    for name in given:
        if name not in known:
            problems.append((name, f"unknown parameter; {indicator.name} takes: {indicator._param_names()}"))
    for p in indicator.params:
        if p.name in given:
            msg = _check_one(p, given[p.name])
            if msg is not None:
                problems.append((p.name, msg))
    if not problems and indicator.cross_check is not None:
        problems.extend(indicator.cross_check(_resolve_unchecked(indicator, given)))
    return problems


def _resolve_unchecked(indicator: Indicator, given: Mapping[str, object]) -> Resolved:
    out: Resolved = {}
    for p in indicator.params:
        v = given.get(p.name, p.default)
        assert isinstance(v, int | float)
        out[p.name] = int(v) if p.kind == "int" else float(v)
    return out


def resolve_params(indicator: Indicator, params: Mapping[str, object] | None) -> Resolved:
    """Defaults filled in and ints made ints; raises ValueError naming every bad parameter."""
    given = params or {}
    problems = check_params(indicator, given)
    if problems:
        detail = "; ".join(f"{name}: {msg}" for name, msg in problems)
        raise ValueError(f"{indicator.name}: {detail}")
    return _resolve_unchecked(indicator, given)


def period_param(default: int, lo: int = 1, hi: int = 1000, what: str = "bars in the window") -> Param:
    """The common single-window `period` parameter."""
    return Param("period", "int", default, lo, hi, "Period", f"Number of {what} ({lo}–{hi}).")


def nan_until(values: F64, warmup: int) -> F64:
    """`values` with the first `warmup` entries set to NaN (in place) and returned."""
    values[: min(warmup, len(values))] = np.nan
    return values


def empty_like_series(series: CandleSeries) -> F64:
    return np.full(len(series), np.nan)
