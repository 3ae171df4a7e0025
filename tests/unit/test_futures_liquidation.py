"""Liquidation prices pinned against the published formula worked by hand, and the bar path rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.futures.liquidation import (
    LONG,
    SHORT,
    cross_liquidated,
    cross_liquidation_price,
    isolated_liquidation_price,
    isolated_margin_after_funding,
)
from domain.futures.path import LIQUIDATION, NO_EXIT, STOP, TARGET, first_exit
from infrastructure.futures_brackets import load_default_brackets

TABLES = load_default_brackets()
BTC, ETH = TABLES["BTCUSDT"], TABLES["ETHUSDT"]
NAN = math.nan

# Each case: (side, Q, EP, WB, table, expected LP worked by hand from
#   long LP = (Q·EP − WB − cum) / (Q·(1 − MMR)),  short LP = (Q·EP + WB + cum) / (Q·(1 + MMR)))
HAND_WORKED = [
    # 1 BTC at 30,000, 10×: WB 3,000; notional 30,000 -> bracket 1 (0.4 %, cum 0): 27,000 / 0.996
    ("long 10x bracket 1", LONG, 1.0, 30_000.0, 3_000.0, BTC, 27_000 / 0.996),
    # 10 BTC at 30,000, 20×: WB 15,000; bracket 2 (0.5 %, cum 50): (300,000 − 15,000 − 50) / 9.95
    ("long 20x bracket 2", LONG, 10.0, 30_000.0, 15_000.0, BTC, 284_950 / 9.95),
    # 100 BTC short at 40,000, 25×: WB 160,000; bracket 4 (1 %, cum 11,450): 4,171,450 / 101
    ("short 25x bracket 4", SHORT, 100.0, 40_000.0, 160_000.0, BTC, 4_171_450 / 101),
    # 5 ETH short at 2,000, 10×: WB 1,000; bracket 1 (0.4 %, cum 0): 11,000 / 5.02
    ("short 10x bracket 1", SHORT, 5.0, 2_000.0, 1_000.0, ETH, 11_000 / 5.02),
    # 1 BTC short at 30,000, 1×: WB 30,000; at ~59,750 the notional is in bracket 2 (0.5 %, cum 50):
    # (30,000 + 30,000 + 50) / 1.005 (bracket 1 would give 60,000 / 1.004 = 59,761, outside its 50,000 cap)
    ("short 1x bracket 2 at the liquidation price", SHORT, 1.0, 30_000.0, 30_000.0, BTC, 60_050 / 1.005),
]


@pytest.mark.parametrize(("side", "qty", "entry", "wallet", "table", "expected"), [c[1:] for c in HAND_WORKED],
                         ids=[c[0] for c in HAND_WORKED])
def test_the_liquidation_price_matches_the_formula_worked_by_hand(side: int, qty: float, entry: float,
                                                                  wallet: float, table: object,
                                                                  expected: float) -> None:
    assert isolated_liquidation_price(side, qty, entry, wallet, table) == pytest.approx(expected, rel=1e-12)


def test_funding_paid_moves_a_longs_liquidation_price_up_and_funding_received_moves_it_down() -> None:
    paid = isolated_margin_after_funding(3_000.0, 150.0)
    received = isolated_margin_after_funding(3_000.0, -150.0)
    assert paid == 2_850.0 and received == 3_150.0
    assert isolated_liquidation_price(LONG, 1.0, 30_000.0, paid, BTC) == pytest.approx(27_150 / 0.996, rel=1e-12)
    assert isolated_liquidation_price(LONG, 1.0, 30_000.0, received, BTC) == pytest.approx(26_850 / 0.996,
                                                                                           rel=1e-12)


def test_funding_received_moves_a_shorts_liquidation_price_away() -> None:
    wallet = isolated_margin_after_funding(1_000.0, -20.0)
    assert isolated_liquidation_price(SHORT, 5.0, 2_000.0, wallet, ETH) == pytest.approx(11_020 / 5.02, rel=1e-12)


def test_the_bracket_is_the_one_holding_the_notional_at_the_liquidation_price() -> None:
    # 2 BTC at 30,000 (notional 60,000: bracket 2), 5×: WB 12,000. Bracket 2's formula gives 47,950 / 1.99
    # = 24,095.48, whose notional 48,190.95 lies in bracket 1; bracket 1's: 48,000 / 1.992 = 24,096.39 (in band).
    lp = isolated_liquidation_price(LONG, 2.0, 30_000.0, 12_000.0, BTC)
    assert lp == pytest.approx(48_000 / 1.992, rel=1e-12)
    assert 2.0 * lp <= BTC.brackets[0].notional_cap


def test_a_fully_funded_long_cannot_be_liquidated() -> None:
    assert isolated_liquidation_price(LONG, 1.0, 30_000.0, 30_000.0, BTC) == 0.0


def test_at_the_liquidation_price_margin_balance_equals_maintenance_margin() -> None:
    for side, qty, entry, wallet in [(LONG, 3.0, 25_000.0, 7_500.0), (SHORT, 40.0, 31_000.0, 50_000.0)]:
        lp = isolated_liquidation_price(side, qty, entry, wallet, BTC)
        balance = wallet + side * qty * (lp - entry)
        assert balance == pytest.approx(BTC.maintenance_margin(qty * lp), rel=1e-9)


@given(side=st.sampled_from([LONG, SHORT]), qty=st.floats(0.001, 5_000), entry=st.floats(1_000, 100_000),
       leverage=st.integers(1, 125))
def test_any_isolated_position_is_liquidated_where_its_margin_balance_meets_the_maintenance_margin(
        side: int, qty: float, entry: float, leverage: int) -> None:
    if qty * entry > BTC.max_notional(leverage):
        return  # Binance refuses the position
    wallet = qty * entry / leverage
    lp = isolated_liquidation_price(side, qty, entry, wallet, BTC)
    if lp == 0.0:
        assert side == LONG and leverage == 1  # only a fully funded long can fall to zero unliquidated
        return
    balance = wallet + side * qty * (lp - entry)
    assert balance == pytest.approx(BTC.maintenance_margin(qty * lp), rel=1e-9, abs=1e-6)
    assert (lp < entry) if side == LONG else (lp > entry)


def test_cross_margin_uses_the_whole_wallet_less_other_positions_needs() -> None:
    alone = cross_liquidation_price(LONG, 1.0, 30_000.0, 10_000.0, BTC)
    assert alone == pytest.approx(20_000 / 0.996, rel=1e-12)
    crowded = cross_liquidation_price(LONG, 1.0, 30_000.0, 10_000.0, BTC, other_maintenance=400.0,
                                      other_unrealized=-600.0)
    assert crowded == pytest.approx(21_000 / 0.996, rel=1e-12)


def test_a_cross_account_is_liquidated_when_equity_reaches_the_total_maintenance_margin() -> None:
    assert not cross_liquidated(1_000.0, -799.0, 200.0)
    assert cross_liquidated(1_000.0, -800.0, 200.0)


def test_invalid_positions_are_refused() -> None:
    with pytest.raises(ValueError, match="side must be 1"):
        isolated_liquidation_price(0, 1.0, 30_000.0, 3_000.0, BTC)
    with pytest.raises(ValueError, match="must be > 0"):
        isolated_liquidation_price(LONG, 0.0, 30_000.0, 3_000.0, BTC)


PATHS = [
    # side, open, high, low, stop, liquidation, target -> (what, price)
    ("long stop above LP fills first", LONG, 100, 101, 85, 95, 91, NAN, (STOP, 95)),
    ("long stop below LP never fills", LONG, 100, 101, 85, 89, 91, NAN, (LIQUIDATION, 91)),
    ("long tie goes to liquidation", LONG, 100, 101, 85, 91, 91, NAN, (LIQUIDATION, 91)),
    ("long gap through LP at the open", LONG, 90, 92, 85, 95, 91, NAN, (LIQUIDATION, 90)),
    ("long gap between stop and LP", LONG, 93, 94, 92, 95, 91, NAN, (STOP, 93)),
    ("long adverse before target", LONG, 100, 120, 90, NAN, 91, 110, (LIQUIDATION, 91)),
    ("long target when nothing adverse", LONG, 100, 120, 95, 94, 91, 110, (TARGET, 110)),
    ("long target gapped at the open", LONG, 112, 120, 111, 94, 91, 110, (TARGET, 112)),
    ("short stop below LP fills first", SHORT, 100, 115, 99, 105, 109, NAN, (STOP, 105)),
    ("short liquidation on a rising bar", SHORT, 100, 115, 99, NAN, 109, 90, (LIQUIDATION, 109)),
    ("short gap through LP", SHORT, 111, 112, 100, 105, 109, NAN, (LIQUIDATION, 111)),
    ("short target", SHORT, 100, 101, 85, 105, 109, 90, (TARGET, 90)),
    ("quiet bar", LONG, 100, 101, 99, 95, 0.0, 110, (NO_EXIT, 0.0)),
]


@pytest.mark.parametrize(("side", "o", "h", "lo", "stop", "liq", "target", "expected"), [p[1:] for p in PATHS],
                         ids=[p[0] for p in PATHS])
def test_the_bar_path_rule_decides_which_level_is_met_first(side: int, o: float, h: float, lo: float,
                                                            stop: float, liq: float, target: float,
                                                            expected: tuple[int, float]) -> None:
    assert first_exit(side, o, h, lo, stop, liq, target) == expected
