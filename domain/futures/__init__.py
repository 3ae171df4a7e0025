"""USDT-M perpetual futures: brackets, leverage and sizing, funding history; the numba-compiled pieces
(liquidation, funding charges, the bar path rule) are imported from their modules so that importing this
package stays light for adapters that only need the value objects."""

from domain.futures.brackets import Bracket, BracketTable, InvalidBrackets, parse_bracket_table, parse_bracket_tables
from domain.futures.margin import InvalidLeverage, MarginMode, Sizing, check_leverage, floor_to_step, position_size
from domain.futures.rates import FundingRates, InvalidFunding

__all__ = [
    "Bracket", "BracketTable", "FundingRates", "InvalidBrackets", "InvalidFunding", "InvalidLeverage", "MarginMode",
    "Sizing", "check_leverage", "floor_to_step", "parse_bracket_table", "parse_bracket_tables", "position_size",
]
