"""Protective stops held by the exchange: moving one never leaves the position without a stop."""

from __future__ import annotations

from app.live.trading.ports import OrderIntent, OrderReport
from app.live.trading.router import OrderRouter


class ExchangeStop:
    """The exchange-side stop of one position: a reduce-only STOP_MARKET for its whole size. `move()` places the
    new stop before cancelling the old one, so at every moment at least one stop is live at the exchange."""

    def __init__(self, router: OrderRouter, symbol: str) -> None:
        self.router, self.symbol = router, symbol
        self.current: OrderReport | None = None

    async def place(self, side: str, quantity: float, stop_price: float) -> OrderReport:
        """Protect a position: `side` is the closing side (SELL for a long)."""
        intent = OrderIntent(self.router.new_client_id(), self.symbol, side, "STOP_MARKET", quantity,
                             stop_price=stop_price, reduce_only=True)
        self.current = await self.router.submit(intent)
        return self.current

    async def move(self, stop_price: float) -> OrderReport:
        """Trail the stop to `stop_price`: the new one first, then the old one cancelled."""
        old = self.current
        if old is None:
            raise ValueError("no stop to move; place one first")
        new = await self.place(old.side, old.quantity, stop_price)
        await self.router.gateway.cancel(old.client_id)
        return new

    async def remove(self) -> None:
        if self.current is not None:
            await self.router.gateway.cancel(self.current.client_id)
            self.current = None
