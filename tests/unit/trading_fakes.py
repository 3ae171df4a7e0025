"""Fakes at the edge of the live-trading unit tests: an exchange account in memory and an in-memory journal."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.live.trading.ports import OrderIntent, OrderOutcomeUnknown, OrderRefused, OrderReport, Position


@dataclass
class FakeExchange:
    """One market of one account. `lose_answers` drops the answer of the next N placements after (`accept`) or
    before the exchange saw them; `min_open_stops` records the fewest stop orders open after a first one."""

    symbol: str = "BTCUSDT"
    price: float = 100.0
    orders: dict[str, OrderReport] = field(default_factory=dict)
    amount: float = 0.0
    entry: float = 0.0
    lose_answers: int = 0
    accept_lost: bool = True
    placements: int = 0
    min_open_stops: int | None = None
    exchange: str = "fake"
    holds_stops: bool = True

    async def place(self, intent: OrderIntent) -> OrderReport:
        if intent.client_id in self.orders:
            raise OrderRefused(f"duplicate client id {intent.client_id}")
        lost = self.lose_answers > 0
        if lost:
            self.lose_answers -= 1
            if not self.accept_lost:
                raise OrderOutcomeUnknown("connection dropped before the order arrived")
        self.placements += 1
        status = "NEW" if intent.type != "MARKET" else "FILLED"
        report = OrderReport(intent.client_id, str(self.placements), intent.symbol, intent.side, intent.type, status,
                             intent.quantity, intent.quantity if status == "FILLED" else 0.0,
                             self.price if status == "FILLED" else 0.0, intent.stop_price, intent.reduce_only)
        self.orders[intent.client_id] = report
        if status == "FILLED":
            self.amount += intent.quantity if intent.side == "BUY" else -intent.quantity
            self.entry = self.price if self.amount else 0.0
        self._count_stops()
        if lost:
            raise OrderOutcomeUnknown("connection dropped after the order was accepted")
        return report

    async def find(self, client_id: str) -> OrderReport | None:
        return self.orders.get(client_id)

    async def cancel(self, client_id: str) -> OrderReport:
        order = self.orders.get(client_id)
        if order is None or not order.is_open:
            raise OrderRefused(f"unknown order {client_id}")
        self.orders[client_id] = replace(order, status="CANCELED")
        self._count_stops()
        return self.orders[client_id]

    async def open_orders(self) -> list[OrderReport]:
        return [o for o in self.orders.values() if o.is_open]

    async def position(self) -> Position:
        return Position(self.symbol, self.amount, self.entry)

    def _count_stops(self) -> None:
        n = sum(1 for o in self.orders.values() if o.is_open and o.type == "STOP_MARKET")
        if n or self.min_open_stops is not None:
            self.min_open_stops = n if self.min_open_stops is None else min(self.min_open_stops, n)


@dataclass
class MemoryJournal:
    intents: dict[str, tuple[str, OrderIntent]] = field(default_factory=dict)
    reports: dict[str, OrderReport] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)

    def next_sequence(self, session_id: str) -> int:
        self.sequences[session_id] = self.sequences.get(session_id, 0) + 1
        return self.sequences[session_id]

    def intended(self, session_id: str, intent: OrderIntent, now_ms: int) -> None:
        self.intents[intent.client_id] = (session_id, intent)

    def reported(self, report: OrderReport, now_ms: int) -> None:
        self.reports[report.client_id] = report

    def unresolved(self, session_id: str) -> list[OrderIntent]:
        return [i for s, i in self.intents.values() if s == session_id and i.client_id not in self.reports]

    def open_client_ids(self, session_id: str) -> list[str]:
        return [cid for cid, (s, _i) in self.intents.items()
                if s == session_id and cid in self.reports and self.reports[cid].is_open]

    def orders(self, session_id: str) -> list[OrderReport]:
        return [self.reports[cid] for cid, (s, _i) in self.intents.items() if s == session_id and cid in self.reports]


class FixedClock:
    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now
