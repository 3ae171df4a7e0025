"""Orders are sent exactly once, stops are never missing while moved, the kill switch and reconciliation tell
the truth of the exchange (in-memory exchange at the edge; the simulator tests prove the same over the wire)."""

from __future__ import annotations

import asyncio

from trading_fakes import FakeExchange, FixedClock, MemoryJournal

from app.live.trading.kill import kill
from app.live.trading.ports import OrderIntent
from app.live.trading.reconcile import reconcile
from app.live.trading.router import OrderRouter, client_id
from app.live.trading.stops import ExchangeStop


def router(ex: FakeExchange, journal: MemoryJournal | None = None) -> OrderRouter:
    return OrderRouter(ex, journal or MemoryJournal(), FixedClock(), "sma · BTCUSDT · 1m", lookup_wait_s=0)


def buy(r: OrderRouter, qty: float = 1.0) -> OrderIntent:
    return OrderIntent(r.new_client_id(), "BTCUSDT", "BUY", "MARKET", qty)


def test_client_ids_are_the_session_and_a_sequence_in_characters_both_exchanges_accept() -> None:
    cid = client_id("SMA 10/20 cross · KRW-BTC · 1m", 7)
    assert cid == "SMA10/20crossKRW-BTC1m-7" and len(cid) <= 36


def test_an_order_whose_answer_was_lost_after_the_exchange_took_it_is_found_not_sent_again() -> None:
    ex = FakeExchange(lose_answers=1, accept_lost=True)
    r = router(ex)
    report = asyncio.run(r.submit(buy(r)))
    assert ex.placements == 1 and report.status == "FILLED" and ex.amount == 1.0


def test_an_order_the_exchange_never_saw_is_sent_once_more_under_the_same_client_id() -> None:
    ex = FakeExchange(lose_answers=1, accept_lost=False)
    r = router(ex)
    intent = buy(r)
    report = asyncio.run(r.submit(intent))
    assert ex.placements == 1 and report.client_id == intent.client_id and ex.amount == 1.0


def test_after_a_crash_between_send_and_answer_the_journal_is_resolved_before_anything_new_is_sent() -> None:
    ex, journal = FakeExchange(), MemoryJournal()
    r = router(ex, journal)
    intent = buy(r)
    journal.intended(r.session_id, intent, 0)  # written, sent, then the process died before the answer
    asyncio.run(ex.place(intent))
    again = router(ex, journal)  # the restarted process
    reports = asyncio.run(again.recover())
    assert [x.client_id for x in reports] == [intent.client_id] and ex.placements == 1
    assert journal.unresolved(r.session_id) == []


def test_a_trailing_stop_moved_a_thousand_times_is_never_missing_at_the_exchange() -> None:
    ex = FakeExchange()
    r = router(ex)

    async def trail() -> None:
        await r.submit(buy(r))
        stop = ExchangeStop(r, "BTCUSDT")
        await stop.place("SELL", 1.0, 90.0)
        for i in range(1000):
            await stop.move(90.0 + i * 0.01)

    asyncio.run(trail())
    assert ex.min_open_stops == 1
    assert len(asyncio.run(ex.open_orders())) == 1 and ex.placements == 1002


def test_the_kill_switch_cancels_our_orders_only_flattens_and_confirms_from_the_exchange() -> None:
    ex = FakeExchange()
    r = router(ex)
    foreign = OrderIntent("someone-else-1", "BTCUSDT", "BUY", "LIMIT", 1.0, price=50.0)

    async def run() -> object:
        await r.submit(buy(r, 2.0))
        await r.submit(OrderIntent(r.new_client_id(), "BTCUSDT", "SELL", "STOP_MARKET", 2.0, stop_price=90.0,
                                   reduce_only=True))
        await ex.place(foreign)
        return await kill(ex, ("sma",), "sma-kill", poll_s=0)

    report = asyncio.run(run())
    assert report.clean and len(report.cancelled) == 1 and report.position == 0  # type: ignore[attr-defined]
    assert [o.client_id for o in asyncio.run(ex.open_orders())] == ["someone-else-1"]


def test_reconciliation_names_every_difference_and_records_what_the_exchange_explains() -> None:
    ex, journal = FakeExchange(), MemoryJournal()
    r = router(ex, journal)
    prefix = client_id(r.session_id, 0)[:-1]

    async def run() -> tuple[object, object]:
        await r.submit(buy(r))
        limit = await r.submit(OrderIntent(r.new_client_id(), "BTCUSDT", "SELL", "LIMIT", 1.0, price=120.0))
        clean = await reconcile(ex, journal, r.session_id, prefix, 1.0, 0)
        await ex.cancel(limit.client_id)  # cancelled at the exchange (e.g. by hand on its website)
        await ex.place(OrderIntent(prefix + "99", "BTCUSDT", "BUY", "LIMIT", 1.0, price=80.0))  # not journaled
        return clean, await reconcile(ex, journal, r.session_id, prefix, 0.0, 0)

    clean, dirty = asyncio.run(run())
    assert clean.clean  # type: ignore[attr-defined]
    assert dirty.differences == (  # type: ignore[attr-defined]
        f"order {prefix}99 is open at the exchange but not in the journal",
        "position at the exchange is 1, the session expects 0")
    assert journal.open_client_ids(r.session_id) == []  # the cancel was recorded: explained, not a difference
