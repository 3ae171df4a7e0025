"""The live order journal in a real SQLite file: an intent is on disk before the order is sent."""

from __future__ import annotations

from pathlib import Path

from app.live.trading.ports import OrderIntent, OrderReport
from app.live.trading.router import client_id
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.orders import SqlOrderJournal

SESSION = "sma · BTCUSDT · 1m"


def journal(db_path: Path) -> SqlOrderJournal:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlOrderJournal(engine)


def test_an_intent_survives_a_crash_unanswered_and_sequences_carry_on_after_a_restart(db_path: Path) -> None:
    first = journal(db_path)
    intent = OrderIntent(client_id(SESSION, first.next_sequence(SESSION)), "BTCUSDT", "BUY", "MARKET", 0.01)
    first.intended(SESSION, intent, 1)
    first.engine.dispose()  # the process dies before the exchange answered
    again = journal(db_path)
    assert again.unresolved(SESSION) == [intent]
    assert again.next_sequence(SESSION) == 2
    report = OrderReport(intent.client_id, "42", "BTCUSDT", "BUY", "STOP_MARKET", "NEW", 0.01, 0.0, 0.0, 90.0, True)
    again.reported(report, 2)
    assert again.unresolved(SESSION) == [] and again.open_client_ids(SESSION) == [intent.client_id]
    again.reported(OrderReport(intent.client_id, "42", "BTCUSDT", "BUY", "STOP_MARKET", "CANCELED", 0.01, 0.0,
                               0.0, 90.0, True), 3)
    assert again.open_client_ids(SESSION) == [] and again.orders(SESSION)[0].status == "CANCELED"
    assert again.next_sequence("another session") == 1
