"""A paper trading session: one saved strategy on one market and timeframe, a paper broker, its history."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from app.errors import UserError
from domain.costs import MarketKind, market_kind
from domain.futures import BracketTable, InvalidLeverage, check_leverage
from domain.live.paper import Fill, PaperBroker, PaperSettings
from domain.live.paper_futures import FuturesAccount, FuturesPaperBroker
from domain.live.paper_risk import RiskPaperBroker
from domain.live.paper_scale import ADD, ScaleSettings, ScalingPaperBroker
from domain.live.risk import RiskLimits
from domain.market import Candle, CandleSeries, Timeframe
from domain.strategy import (
    IncrementalEvaluator,
    SignalRow,
    Strategy,
    StrategyInvalid,
    parse_strategy,
    strategy_to_dict,
    uses_position,
)

RUNNING, STOPPED, FLATTENED, FAILED = "running", "stopped", "flattened", "failed"


def session_name(strategy: str, market: str, timeframe: Timeframe) -> str:
    """The default name of a session: the same in the desktop and on the command line."""
    return f"{strategy} · {market} · {timeframe.code}"


def kept_session_message(session_id: str) -> str:
    """Why a new session may not take the name of one kept with its positions (starting it would reset them)."""
    return (f"paper session {session_id!r} was kept with its positions and history; continue it with --resume "
            f"(the desktop app resumes it on start), or start a new one under another name (--session NAME)")


def finished_session_message(session_id: str, status: str) -> str:
    """Why a new session may not silently take the name of a finished one (starting it would delete its record)."""
    return (f"paper session {session_id!r} already has a stored history ({status}); start the new one under another "
            f"name (--session NAME), or replace that history with --new-session (its orders and fills are deleted)")


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What to trade: the strategy (by value, so a later edit does not change a running session), the
    market and timeframe, and the account: cash, commission and slippage fractions, lot size; on Binance
    USDT-M futures also leverage and margin mode ("isolated" or "cross"; spot markets take 1 and isolated)."""

    session_id: str
    strategy: Strategy
    exchange: str
    symbol: str
    timeframe: Timeframe
    cash: float = 10_000.0
    commission: float = 0.0
    slippage: float = 0.0
    lot_size: float = 1e-8
    strategy_id: int | None = None
    leverage: int = 1
    margin: str = "isolated"
    limits: RiskLimits = RiskLimits()  # the pre-trade risk limits (app.live.paper_risk); none by default

    @property
    def futures(self) -> bool:
        """Binance USDT-M: the session keeps a futures account (margin, liquidation, funding)."""
        try:
            return market_kind(self.exchange) is MarketKind.USDT_FUTURES
        except ValueError:
            return False

    def futures_account(self, brackets: BracketTable | None) -> FuturesAccount | None:
        """The futures account of this spec (None on spot); refuses leverage or margin a market cannot take."""
        where = f"paper session {self.session_id}"
        if self.margin not in ("isolated", "cross"):
            raise UserError(f"{where}: margin: must be isolated or cross, got {self.margin!r}")
        try:
            leverage = check_leverage(self.exchange, self.symbol, self.leverage, brackets)
        except InvalidLeverage as err:
            raise UserError(f"{where}: {err}") from None
        if not self.futures:
            if self.margin != "isolated":
                raise UserError(f"{where}: margin: {self.exchange} trades spot, there is no margin mode to choose")
            return None
        if brackets is None:
            if leverage != 1 or self.margin != "isolated":
                raise UserError(f"{where}: leverage: no maintenance-margin brackets known for {self.symbol}, so it "
                                "trades at 1x isolated")
            return None
        return FuturesAccount(leverage, self.margin, brackets)

    def settings(self) -> PaperSettings:
        r = self.strategy.risk
        s = PaperSettings(cash=self.cash, commission=self.commission, slippage=self.slippage,
                          lot_size=self.lot_size, position_size_pct=r.position_size_pct,
                          stop_loss_pct=r.stop_loss_pct, take_profit_pct=r.take_profit_pct,
                          trailing_stop_pct=r.trailing_stop_pct, reverse=self.strategy.direction == "long_short")
        problems = s.problems()
        if problems:
            raise UserError(f"paper session {self.session_id}: " + "; ".join(problems))
        return s

    def new_broker(self, brackets: BracketTable | None = None) -> PaperBroker:
        """A new paper broker for this spec: on Binance USDT-M with the symbol's `brackets` the futures one
        (docs/backtest.md, "Futures model"); with stops, targets or trailing, one that runs them by the
        backtest's rules (and scales in); else one that scales in and reports the position to the rules when the
        strategy needs it; else the plain one."""
        scale, risk = self.strategy.scale_in, self.strategy.risk
        account = self.futures_account(brackets)
        if account is not None:
            if scale is not None or uses_position(self.strategy):
                raise UserError(f"paper session {self.session_id}: futures paper trading does not run scale-in or "
                                "position operands yet")
            if not risk.is_v1:
                raise UserError(f"paper session {self.session_id}: futures paper trading runs percentage stops, one "
                                "take-profit and extreme-anchored trailing only; this strategy's ATR distances, "
                                "take-profit levels or close-anchored trailing would be ignored")
            return FuturesPaperBroker(self.settings(), account, order_prefix=self.session_id)
        steps = None if scale is None else ScaleSettings(scale.size_pct, scale.max_adds, scale.min_bars_between)
        if risk.stop_loss or risk.take_profit or risk.trailing_stop:
            return RiskPaperBroker(self.settings(), risk, steps, order_prefix=self.session_id)
        if scale is None and not uses_position(self.strategy):
            return PaperBroker(self.settings(), order_prefix=self.session_id)
        return ScalingPaperBroker(self.settings(), steps, order_prefix=self.session_id)

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "strategy": strategy_to_dict(self.strategy),
                "strategy_id": self.strategy_id, "exchange": self.exchange, "symbol": self.symbol,
                "timeframe": self.timeframe.code, "cash": self.cash, "commission": self.commission,
                "slippage": self.slippage, "lot_size": self.lot_size, "leverage": self.leverage, "margin": self.margin,
                "limits": asdict(self.limits)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionSpec:
        try:
            strategy = parse_strategy(d["strategy"])
        except StrategyInvalid as err:
            raise UserError(f"stored paper session {d.get('session_id')}: strategy is invalid: {err}") from None
        return cls(str(d["session_id"]), strategy, str(d["exchange"]), str(d["symbol"]),
                   Timeframe.parse(str(d["timeframe"])), float(d["cash"]), float(d["commission"]),
                   float(d["slippage"]), float(d["lot_size"]), d.get("strategy_id"), int(d.get("leverage", 1)),
                   str(d.get("margin", "isolated")), RiskLimits(**d.get("limits", {})))


@dataclass
class Marker:
    """A fill drawn on the chart: bar time, price, side and whether it opened or closed."""

    ts: int
    price: float
    side: int
    action: str
    reason: str


@dataclass
class PaperSession:
    """Runtime state of one session. Feed it trades (`on_trade`) and closed bars (`on_bar`)."""

    spec: SessionSpec
    broker: PaperBroker
    evaluator: IncrementalEvaluator
    status: str = RUNNING
    last_bar_ts: int = -1
    markers: list[Marker] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    funding: list[tuple[int, float]] = field(default_factory=list)  # (funding time, received; negative = paid)
    error: str = ""

    @classmethod
    def build(cls, spec: SessionSpec, history: CandleSeries, state: dict[str, Any] | None = None,
              last_bar_ts: int = -1, brackets: BracketTable | None = None) -> PaperSession:
        """A session warmed up on `history` (bars of spec.timeframe), resumed from `state` if given; `brackets`
        are the symbol's maintenance-margin brackets (a Binance USDT-M session keeps a futures account)."""
        if history.timeframe is not spec.timeframe:
            raise UserError(f"history is {history.timeframe.code} bars but the session trades {spec.timeframe.code}")
        broker = spec.new_broker(brackets)
        if isinstance(broker, RiskPaperBroker):
            broker.warm(history)
        if state is not None and isinstance(broker, FuturesPaperBroker) and "futures" not in state:
            PaperBroker.restore(broker, state)  # kept before sessions had futures accounts: margin as opened
            broker.margin = broker.size * broker.entry_price / broker.account.leverage
        elif state is not None:
            broker.restore(state)
            if isinstance(broker, ScalingPaperBroker) and "scaling" in state:
                _restore_scaling(broker, state["scaling"])
        last = int(history.ts[-1]) if len(history) else -1
        return cls(spec, broker, IncrementalEvaluator(spec.strategy, history), last_bar_ts=max(last, last_bar_ts))

    @property
    def id(self) -> str:
        return self.spec.session_id

    @property
    def active(self) -> bool:
        return self.status == RUNNING

    def on_trade(self, ts: int, price: float) -> list[Fill]:
        fills = self.broker.on_trade(ts, price)
        if fills:
            self._record(fills)
        return fills

    def on_funding(self, ts: int, rate: float, mark: float) -> float:
        """Settle a funding event on a futures session's open position; what it received (negative = paid)."""
        b = self.broker
        if not isinstance(b, FuturesPaperBroker) or b.side == 0:
            return 0.0
        received = b.on_funding(ts, rate, mark)
        self.funding.append((ts, received))
        if len(self.funding) > 2000:  # bounded memory, as the fills
            del self.funding[:1000]
        return received

    def on_bar(self, bar: Candle) -> SignalRow | None:
        """Evaluate a closed bar; None if the bar is not new (a duplicate from a backfill)."""
        if bar.ts <= self.last_bar_ts:
            return None
        if not (math.isfinite(bar.close) and math.isfinite(bar.high) and math.isfinite(bar.low)):
            raise ValueError(f"bar at {bar.ts} has a non-finite price")
        self.last_bar_ts = bar.ts
        b = self.broker
        return self.evaluator.update(bar, b.close_bar(bar) if isinstance(b, ScalingPaperBroker) else None)

    def act(self, row: SignalRow, ts: int) -> list[Any]:
        """Turn a bar's signals into orders (only while running); returns the orders."""
        if not self.active:
            return []
        b = self.broker
        if isinstance(b, ScalingPaperBroker):
            return b.on_signal(row.entry_long, row.exit_long, row.entry_short, row.exit_short, ts, row.scale_in)
        return b.on_signal(row.entry_long, row.exit_long, row.entry_short, row.exit_short, ts)

    def snapshot(self) -> dict[str, Any]:
        """The broker's state to resume from, with the scaling broker's bar counts and adds (JSON-safe)."""
        snap = self.broker.snapshot()
        b = self.broker
        if isinstance(b, ScalingPaperBroker):
            snap["scaling"] = {"bar": b.bar, "entry_bar": b.entry_bar, "last_add_bar": b.last_add_bar,
                               "adds": b.adds, "initial_size": b.initial_size}
        return snap

    def flatten(self, ts: int, reason: str = "flatten") -> list[Fill]:
        fills = self.broker.flatten(ts, reason)
        self._record(fills)
        return fills

    def _record(self, fills: list[Fill]) -> None:
        for f in fills:
            self.fills.append(f)
            action = "open" if f.action == ADD else f.action  # an add opens more: drawn as an entry, reason scale_in
            self.markers.append(Marker(self.spec.timeframe.floor(f.ts), f.price, f.side, action, f.reason))
        if len(self.fills) > 2000:  # bounded memory; the store keeps the full history
            del self.fills[:1000]
            del self.markers[:1000]

    def summary(self) -> dict[str, Any]:
        b = self.broker
        closes = [f for f in self.fills if f.action == "close"]
        wins = sum(1 for f in closes if f.realized_pnl > 0)
        return {"session_id": self.id, "strategy": self.spec.strategy.name, "exchange": self.spec.exchange,
                "market": self.spec.symbol,
                "timeframe": self.spec.timeframe.code, "status": self.status, "cash": b.cash,
                "equity": b.equity(), "realized_pnl": b.realized, "unrealized_pnl": b.unrealized(),
                "position": b.side * b.size, "entry_price": b.entry_price, "last_price": b.last_price,
                "fills": len(self.fills), "trades": len(closes), "wins": wins,
                "return_pct": (b.equity() / self.spec.cash - 1.0) * 100.0, "bars": self.evaluator.seen,
                **_futures_summary(b)}


def _futures_summary(b: PaperBroker) -> dict[str, Any]:
    """A futures session's leverage, margin, funding and liquidations (nothing for spot)."""
    if not isinstance(b, FuturesPaperBroker):
        return {}
    return {"leverage": b.account.leverage, "margin_mode": b.account.margin, "margin": b.margin,
            "funding": b.funding_total, "liquidations": b.liquidations,
            "liquidation_price": None if math.isnan(lp := b.liquidation_price()) else lp}


def _restore_scaling(broker: ScalingPaperBroker, d: dict[str, Any]) -> None:
    """Resume bars held, adds made and the initial size from `PaperSession.snapshot()`'s "scaling" part."""
    broker.bar, broker.entry_bar, broker.last_add_bar = int(d["bar"]), int(d["entry_bar"]), int(d["last_add_bar"])
    broker.adds, broker.initial_size = int(d["adds"]), float(d["initial_size"])
