"""The bundled maintenance-margin bracket table (resources/futures_brackets.json), read once and parsed."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from domain.futures import BracketTable, parse_bracket_tables

RESOURCE = "futures_brackets.json"


def load_default_brackets() -> dict[str, BracketTable]:
    """Binance's published brackets for the common USDT-M symbols (as of October 2024), kept in
    GET /fapi/v1/leverageBracket's shape. Tables fetched with the user's keys replace these where known."""
    return dict(_parsed())


@cache
def _parsed() -> dict[str, BracketTable]:
    text = files("resources").joinpath(RESOURCE).read_text(encoding="utf-8")
    return parse_bracket_tables(json.loads(text))
