"""A live session: the driver on the market stream, the account's own stream, and reconciliation with the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.errors import UserError
from app.live.events import FeedReconnected
from app.live.ports import MarketFeed
from app.live.trading.balances import BalanceLedger
from app.live.trading.driver import SessionDriver
from app.live.trading.live_broker import LiveBroker
from app.live.trading.ports import BalanceUpdate, OrderReport, net_filled
from app.live.trading.reconcile import Reconciliation, reconcile

log = logging.getLogger("quantdesk.live.trading")
AccountStream = Callable[[], AsyncIterator[OrderReport | BalanceUpdate]]
"""Opens the account's private stream (Binance user data; Upbit myOrder and myAsset) as order and balance updates;
ends when it drops."""


@dataclass
class LiveTrader:
    """Runs one live session until cancelled: stream events in order through the driver, the account's order
    updates into the broker, and reconciliation on start, on resume, on every reconnect and every minute. The
    exchange is the truth: an unexplained difference halts the session with a report."""

    session_id: str
    driver: SessionDriver
    broker: LiveBroker
    account_stream: AccountStream | None = None
    ledger: BalanceLedger | None = None  # the quote balance reconciled too (None: orders and position only)
    reconcile_every_s: float = 60.0
    reconnect_wait_s: float = 1.0
    last: Reconciliation | None = None
    reports: list[Reconciliation] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def start(self, resume: bool) -> Reconciliation:
        """Resolve every journaled intent without an answer, then reconcile. A fresh session refuses to start on
        a position it did not open; a resumed one must find the position its journal explains."""
        router = self.broker.router
        await router.recover()
        position = (await self.broker.gateway.position()).amount
        if not resume and abs(position - self.broker.baseline) > 1e-12:
            raise UserError(f"{self.broker.symbol}: the account already holds a position of {position:g}; close "
                            "it first, or resume the session that opened it (--resume)")
        expected = net_filled(router.journal.orders(self.session_id)) if resume else 0.0
        self.broker.bind(self.broker.symbol, expected)
        await self._restore_stop()
        await self._baseline()
        return await self.reconcile("resume" if resume else "start")

    async def _baseline(self) -> None:
        if self.ledger is not None:
            b = self.broker
            await self.ledger.start(b.router.journal.orders(self.session_id), await b.gateway.position(),
                                    b.clock.now_ms())

    async def reset_halt(self) -> Reconciliation:
        """The user lifts a halt: balances are taken afresh as the new baseline (the user has seen the report),
        then the session reconciles again — a difference that remains (a position nothing explains) halts again."""
        async with self._lock:
            self.broker.risk.halted = ""
            self.broker.audit("HaltReset", session_id=self.session_id)
            await self._baseline()
        return await self.reconcile("halt reset")

    async def _restore_stop(self) -> None:
        for cid in self.broker.router.journal.open_client_ids(self.session_id):
            found = await self.broker.gateway.find(cid)
            if found is not None and found.is_open and found.type == "STOP_MARKET":
                self.broker.stop.current = found

    async def reconcile(self, why: str) -> Reconciliation:
        """Compare the exchange with the journal and the broker; halt on a difference nothing explains."""
        async with self._lock:
            b = self.broker
            journal, prefix = b.router.journal, b.router.prefix
            now = b.clock.now_ms()
            rec = await reconcile(b.gateway, journal, self.session_id, prefix, b.position + self.broker.baseline, now)
            differences = list(rec.differences)
            explained = net_filled(journal.orders(self.session_id)) + self.broker.baseline
            if differences and abs(rec.position.amount - explained) <= 1e-12:
                # the journal (updated from the exchange just now) explains the position: a stop that filled,
                # an answer that came late; the broker takes the exchange's position
                differences = [d for d in differences if not d.startswith("position at the exchange")]
                b.bind(b.symbol, rec.position.amount - self.broker.baseline)
                if b.stop.current is not None and b.stop.current.client_id not in {o.client_id for o in
                                                                                    rec.open_orders}:
                    b.stop.current = None
            if self.ledger is not None:
                unexplained = await self.ledger.check(journal.orders(self.session_id), now)
                if unexplained:
                    differences.append(unexplained)
            rec = Reconciliation(rec.position, rec.open_orders, tuple(differences), now)
            self.last = rec
            b.audit("Reconciled", why=why, position=rec.position.amount, open_orders=len(rec.open_orders),
                    differences=list(rec.differences))
            if not rec.clean:
                await b.halt("reconciliation: " + "; ".join(rec.differences))
            return rec

    async def run(self, feed: MarketFeed) -> None:
        """Until cancelled: the market stream, the account stream and the reconciliation timer."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        tasks = [asyncio.create_task(feed.run(queue.put_nowait), name=f"live-feed-{self.session_id}"),
                 asyncio.create_task(self._consume(queue), name=f"live-events-{self.session_id}"),
                 asyncio.create_task(self._every_minute(), name=f"live-reconcile-{self.session_id}")]
        if self.account_stream is not None:
            tasks.append(asyncio.create_task(self._account(), name=f"live-account-{self.session_id}"))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Cancel `task` (running `run`) between two events: an order being sent is never cut off half-way."""
        async with self._lock:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _consume(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            event = await queue.get()
            try:
                if isinstance(event, FeedReconnected):
                    await self.reconcile("market stream reconnected")
                async with self._lock:
                    await self.driver.on_event(event)
            except Exception as err:  # an order with no answer, the exchange unreachable: stop entering, go on
                log.exception("%s: %s", self.session_id, err)
                await self._halt_safely(f"{type(err).__name__}: {err}")

    async def _halt_safely(self, reason: str) -> None:
        try:
            await self.broker.halt(reason)
        except Exception as err:  # the exchange cannot even be asked: the next reconciliation tries again
            self.broker.risk.halted = self.broker.risk.halted or reason
            log.error("%s: halting could not cancel open entries: %s", self.session_id, err)

    async def _every_minute(self) -> None:
        while True:
            await asyncio.sleep(self.reconcile_every_s)
            try:
                await self.reconcile("timer")
                async with self._lock:
                    await self.broker.mark()
            except Exception as err:  # the exchange unreachable for a minute: halted until it answers again
                log.exception("%s: reconciliation failed: %s", self.session_id, err)
                await self._halt_safely(f"reconciliation failed: {err}")

    async def _account(self) -> None:
        assert self.account_stream is not None
        first = True
        while True:
            try:
                if not first:
                    await self.reconcile("account stream reconnected")  # REST fills what the stream missed
                first = False
                async for update in self.account_stream():
                    async with self._lock:
                        if isinstance(update, BalanceUpdate):
                            self.broker.on_balances(update)
                            if self.ledger is not None:
                                self.ledger.last = dict(update.balances).get(self.ledger.currency, self.ledger.last)
                        elif self.broker.on_report(update):
                            await self.broker.refresh()
            except Exception as err:  # any failure of the stream: reconnect, and reconcile over REST
                log.warning("%s: account stream dropped: %s", self.session_id, err)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.sleep(self.reconnect_wait_s)
