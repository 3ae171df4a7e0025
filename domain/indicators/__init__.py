"""Indicator catalog: metadata plus causal, prefix-deterministic numpy/numba computations."""

from domain.indicators.base import CATEGORIES, UNITS, Indicator, Param, check_params, resolve_params
from domain.indicators.catalog import CATALOG, get_indicator

__all__ = ["CATALOG", "CATEGORIES", "UNITS", "Indicator", "Param", "check_params", "get_indicator", "resolve_params"]
