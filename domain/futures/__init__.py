"""USDT-M perpetual futures value objects; the numba pieces are imported from liquidation, funding and path."""

from domain.futures.brackets import Bracket, BracketTable, InvalidBrackets, parse_bracket_table, parse_bracket_tables
from domain.futures.margin import InvalidLeverage, MarginMode, Sizing, check_leverage, floor_to_step, position_size
from domain.futures.rates import FundingRates, InvalidFunding

__all__ = [
    "Bracket", "BracketTable", "FundingRates", "InvalidBrackets", "InvalidFunding", "InvalidLeverage", "MarginMode",
    "Sizing", "check_leverage", "floor_to_step", "parse_bracket_table", "parse_bracket_tables", "position_size",
]
