"""The indicator catalog: every indicator a strategy may use, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.indicators.base import Indicator
from domain.indicators.momentum import MOMENTUM_INDICATORS
from domain.indicators.price import PRICE_INDICATORS
from domain.indicators.trend import TREND_INDICATORS
from domain.indicators.volatility import VOLATILITY_INDICATORS
from domain.indicators.volume import VOLUME_INDICATORS

CATALOG: Mapping[str, Indicator] = MappingProxyType({
    ind.name: ind
    for group in (PRICE_INDICATORS, TREND_INDICATORS, MOMENTUM_INDICATORS, VOLATILITY_INDICATORS, VOLUME_INDICATORS)
    for ind in group
})


def get_indicator(name: str) -> Indicator:
    """The catalog entry called `name`; KeyError listing the valid names otherwise."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown indicator {name!r}; valid: {', '.join(CATALOG)}") from None
