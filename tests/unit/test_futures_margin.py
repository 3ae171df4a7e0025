"""Brackets, leverage validation and sizing of Binance USDT-M futures positions."""

from __future__ import annotations

import pytest

from domain.futures import (
    BracketTable,
    InvalidBrackets,
    InvalidLeverage,
    MarginMode,
    check_leverage,
    floor_to_step,
    parse_bracket_table,
    position_size,
)
from infrastructure.futures_brackets import load_default_brackets

TABLES = load_default_brackets()
BTC = TABLES["BTCUSDT"]


def test_the_bundled_table_holds_the_common_symbols() -> None:
    assert set(TABLES) >= {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"}


def test_btcusdts_first_bracket_is_50000_usdt_at_125x_and_0_4_percent() -> None:
    first = BTC.brackets[0]
    assert (first.notional_floor, first.notional_cap, first.max_leverage, first.mmr, first.cum) == (
        0, 50_000, 125, 0.004, 0)
    assert BTC.max_leverage == 125


@pytest.mark.parametrize("symbol", sorted(TABLES))
def test_every_bundled_table_keeps_the_maintenance_margin_continuous_at_its_boundaries(symbol: str) -> None:
    brackets = TABLES[symbol].brackets
    for lower, upper in zip(brackets, brackets[1:], strict=False):
        edge = lower.notional_cap
        assert lower.maintenance_margin(edge) == pytest.approx(upper.maintenance_margin(edge), abs=1e-6)


@pytest.mark.parametrize(("notional", "number"), [(0, 1), (30_000, 1), (50_000, 1), (50_000.01, 2),
                                                  (600_000, 2), (4_000_000, 4), (-300_000, 2)])
def test_a_notional_falls_in_the_bracket_whose_band_holds_it(notional: float, number: int) -> None:
    assert BTC.bracket_for(notional).number == number


def test_a_notional_above_the_last_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="above the largest bracket's cap"):
        BTC.bracket_for(BTC.brackets[-1].notional_cap + 1)


def test_the_largest_position_shrinks_as_leverage_grows() -> None:
    assert BTC.max_notional(125) == 50_000
    assert BTC.max_notional(100) == 600_000
    assert BTC.max_notional(1) == BTC.brackets[-1].notional_cap


def test_a_malformed_bracket_entry_is_named() -> None:
    with pytest.raises(InvalidBrackets, match="XUSDT bracket #1: maintMarginRatio is not a number"):
        parse_bracket_table({"symbol": "XUSDT", "brackets": [
            {"bracket": 1, "initialLeverage": 20, "notionalFloor": 0, "notionalCap": 5000,
             "maintMarginRatio": "lots", "cum": 0}]})
    with pytest.raises(InvalidBrackets, match="XUSDT bracket 2: starts at 6000.0, expected 5000.0"):
        parse_bracket_table({"symbol": "XUSDT", "brackets": [
            {"bracket": 1, "initialLeverage": 20, "notionalFloor": 0, "notionalCap": 5000,
             "maintMarginRatio": 0.01, "cum": 0},
            {"bracket": 2, "initialLeverage": 10, "notionalFloor": 6000, "notionalCap": 9000,
             "maintMarginRatio": 0.02, "cum": 50}]})


def test_spot_markets_refuse_leverage_other_than_one() -> None:
    assert check_leverage("upbit", "KRW-BTC", 1) == 1
    with pytest.raises(InvalidLeverage, match=r"leverage: upbit trades spot only, so leverage must be 1 \(got 5\)"):
        check_leverage("upbit", "KRW-BTC", 5)
    with pytest.raises(InvalidLeverage, match="demo trades spot only"):
        check_leverage("demo", "KRW-BTC", 2)
    with pytest.raises(InvalidLeverage, match="CSV data is traded as spot"):
        check_leverage("csv", "AAPL", 3)


def test_binance_leverage_runs_from_one_to_the_symbols_maximum() -> None:
    assert check_leverage("binance", "BTCUSDT", 125, BTC) == 125
    with pytest.raises(InvalidLeverage, match="leverage: binance BNBUSDT allows 1..75, got 76"):
        check_leverage("binance", "BNBUSDT", 76, TABLES["BNBUSDT"])
    with pytest.raises(InvalidLeverage, match="allows 1..125, got 0"):
        check_leverage("binance", "NEWUSDT", 0)
    with pytest.raises(InvalidLeverage, match="whole number, got 2.5"):
        check_leverage("binance", "BTCUSDT", 2.5, BTC)


def test_margin_modes_parse_from_what_the_user_types() -> None:
    assert MarginMode.parse(" Isolated ") is MarginMode.ISOLATED
    assert MarginMode.parse("cross") is MarginMode.CROSS
    with pytest.raises(InvalidLeverage, match="margin: must be isolated or cross, got 'hedge'"):
        MarginMode.parse("hedge")


def test_size_is_a_share_of_equity_as_margin_times_leverage_floored_to_the_step() -> None:
    s = position_size(10_000, 50, 10, 30_000, 0.001)
    # margin 5,000 × 10 = 50,000 notional = 1.6667 BTC, floored to 1.666
    assert s.quantity == 1.666
    assert s.notional == pytest.approx(1.666 * 30_000)
    assert s.margin == pytest.approx(1.666 * 30_000 / 10)
    assert not s.capped


def test_size_is_capped_at_what_the_bracket_table_allows_for_the_leverage() -> None:
    s = position_size(10_000_000, 100, 125, 30_000, 0.001, BTC)
    assert s.capped and s.quantity == 1.666 and s.notional <= 50_000


def test_flooring_to_a_step_ignores_float_noise() -> None:
    assert floor_to_step(0.3, 0.1) == 0.3
    assert floor_to_step(0.29999, 0.1) == 0.2
    assert floor_to_step(1234567.123456789, 1e-8) == 1234567.12345678


def test_bracket_tables_need_at_least_one_bracket() -> None:
    with pytest.raises(InvalidBrackets, match="EMPTYUSDT: no brackets"):
        BracketTable("EMPTYUSDT", ())
