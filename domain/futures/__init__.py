"""USDT-M perpetual futures: brackets, leverage and sizing, liquidation, funding and the bar path rule."""

from domain.futures.brackets import Bracket, BracketTable, InvalidBrackets, parse_bracket_table, parse_bracket_tables
from domain.futures.funding import FundingRates, InvalidFunding, funding_paid_nb, funding_payment, funding_per_bar
from domain.futures.liquidation import (
    LONG,
    SHORT,
    cross_liquidated,
    cross_liquidation_price,
    isolated_liquidation_price,
    isolated_margin_after_funding,
)
from domain.futures.margin import InvalidLeverage, MarginMode, Sizing, check_leverage, floor_to_step, position_size
from domain.futures.path import LIQUIDATION, NO_EXIT, STOP, TARGET, first_exit

__all__ = [
    "LIQUIDATION", "LONG", "NO_EXIT", "SHORT", "STOP", "TARGET", "Bracket", "BracketTable", "FundingRates",
    "InvalidBrackets", "InvalidFunding", "InvalidLeverage", "MarginMode", "Sizing", "check_leverage",
    "cross_liquidated", "cross_liquidation_price", "first_exit", "floor_to_step", "funding_paid_nb",
    "funding_payment", "funding_per_bar", "isolated_liquidation_price", "isolated_margin_after_funding",
    "parse_bracket_table", "parse_bracket_tables", "position_size",
]
