"""Sending orders exactly once: journal the intent, send it, and after a lost answer look it up by its client id."""

from __future__ import annotations

import asyncio
import logging
import re

from app.clock import Clock
from app.live.trading.ports import OrderGateway, OrderIntent, OrderJournal, OrderOutcomeUnknown, OrderReport

log = logging.getLogger("quantdesk.live.orders")
_UNSAFE = re.compile(r"[^A-Za-z0-9._:/-]")


def client_id(session_id: str, sequence: int) -> str:
    """A client id both exchanges accept (Binance: 1-36 of [.A-Z:/a-z0-9_-]): session prefix + sequence."""
    prefix = _UNSAFE.sub("", session_id)[:24] or "qd"
    return f"{prefix}-{sequence}"


class OrderRouter:
    """Places a session's orders. An order is never sent twice: the same client id is kept for every attempt,
    and after a lost answer the exchange is asked for it before anything is sent again."""

    def __init__(self, gateway: OrderGateway, journal: OrderJournal, clock: Clock, session_id: str,
                 lookups: int = 5, lookup_wait_s: float = 0.5) -> None:
        self.gateway, self.journal, self.clock, self.session_id = gateway, journal, clock, session_id
        self.lookups, self.lookup_wait_s = lookups, lookup_wait_s

    @property
    def prefix(self) -> str:
        """What every client id of this session starts with (the kill switch and reconciliation match on it)."""
        return client_id(self.session_id, 0)[:-1]

    def new_client_id(self) -> str:
        return client_id(self.session_id, self.journal.next_sequence(self.session_id))

    async def submit(self, intent: OrderIntent) -> OrderReport:
        """Journal `intent`, then place it. OrderRefused passes through (nothing was placed)."""
        self.journal.intended(self.session_id, intent, self.clock.now_ms())
        try:
            report = await self.gateway.place(intent)
        except OrderOutcomeUnknown as err:
            log.warning("order %s: %s; looking it up before anything else", intent.client_id, err)
            report = await self.resolve(intent)
        self.journal.reported(report, self.clock.now_ms())
        return report

    async def resolve(self, intent: OrderIntent) -> OrderReport:
        """What became of an intent whose answer was lost: found at the exchange, or (only when the exchange
        says it never saw it) placed now under the same client id."""
        for attempt in range(self.lookups):
            try:
                found = await self.gateway.find(intent.client_id)
            except OrderOutcomeUnknown:
                await asyncio.sleep(self.lookup_wait_s * (attempt + 1))
                continue
            if found is not None:
                return found
            return await self.gateway.place(intent)  # the exchange never saw it: the same id, sent once more
        raise OrderOutcomeUnknown(f"order {intent.client_id}: no answer from the exchange after {self.lookups} "
                                  "lookups; it is left unresolved in the journal and the session halts")

    async def recover(self) -> list[OrderReport]:
        """After a restart: resolve every intent the journal holds without an answer (kill -9 between send and
        acknowledgement). Nothing new is sent before this is done."""
        out = []
        for intent in self.journal.unresolved(self.session_id):
            report = await self.resolve(intent)
            self.journal.reported(report, self.clock.now_ms())
            out.append(report)
        return out
