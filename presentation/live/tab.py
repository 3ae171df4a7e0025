"""The Live tab: start and stop paper sessions, watch their chart bar by bar, positions, orders, PnL, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError
from app.live.engine import LiveEngine
from app.live.events import OrderFilled, SessionBar, SessionFlattened
from app.live.session import SessionSpec, session_name
from app.live.snapshot import SessionSnapshot
from app.live.stack import LiveStack
from domain.costs import pct_to_fraction
from domain.market import Candle, SeriesKey, Timeframe
from presentation.chart.panes import ChartTheme
from presentation.live.layout import ask_flatten_or_keep, cost_defaults_into, setup_ui
from presentation.live.live_actions import LiveActions
from presentation.live.live_mode import limits_from_form
from presentation.live.models import chart_marker
from presentation.services import Services

log = logging.getLogger("quantdesk.live")


class LiveTab(QtWidgets.QWidget, LiveActions):
    """Paper and live sessions. `stack_provider()` returns the paper stack (engine + logs); by default the services'
    own, built on first use. Live (real-order) sessions run on the services' LiveDesk (see LiveActions)."""

    sessionStarted = QtCore.pyqtSignal(str)
    failed = QtCore.pyqtSignal(str)

    def __init__(self, services: Services, stack_provider: Callable[[], LiveStack] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._provider = stack_provider or (lambda: services.live)
        self.stack: LiveStack | None = None
        self.task: asyncio.Task[Any] | None = None
        self.selected: str | None = None
        self._new_bars: dict[str, list[Candle]] = {}
        self._dirty = False
        self.flatten_on_exit = True
        setup_ui(self)
        self.apply_cost_defaults()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(250)  # live updates are batched: one model refresh per tick
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def apply_theme(self, theme: ChartTheme) -> None:
        """The window's dark or light chart colours."""
        self.chart.apply_theme(theme)

    def follow_series(self, key: SeriesKey) -> None:
        """The market picked in the window's market list becomes the one a new session trades."""
        i = self.exchange.findData(key.exchange)
        if i < 0:  # e.g. candles imported from a CSV file: no live feed
            return
        self.exchange.setCurrentIndex(i)
        self.market.setCurrentText(key.symbol)
        self.timeframe.setCurrentText(key.timeframe.code)

    def load_strategies(self) -> None:
        """The stored strategies; the one being worked on selected (else the one selected before)."""
        service = self.services.strategies
        keep = getattr(self.services, "current_strategy_id", None) or self.strategy.currentData()
        self._revision = service.revision
        self.strategy.clear()
        for item in service.page(limit=500).items:
            self.strategy.addItem(item.name, item.id)
        i = self.strategy.findData(keep)
        if i >= 0:
            self.strategy.setCurrentIndex(i)

    def showEvent(self, event: Any) -> None:
        service = self.services.strategies
        if self.strategy.count() == 0 or getattr(self, "_revision", None) != service.revision \
                or getattr(self.services, "current_strategy_id", None) not in (None, self.strategy.currentData()):
            self.load_strategies()
        super().showEvent(event)

    # ---- engine -----------------------------------------------------------------------------------------
    @property
    def engine(self) -> LiveEngine | None:
        return self.stack.engine if self.stack is not None else None

    async def ensure_engine(self) -> LiveEngine:
        """Build and start the engine on first use, and resume the sessions left running last time."""
        if self.stack is None:
            stack = self.stack = self._provider()
            stack.open_logs()
            stack.engine.observers.append(self._on_event)
            await stack.engine.start()
            await self.services.start_demo()
            for s in await stack.engine.resume():
                log.info("resumed paper session %s", s.id)
        return self.stack.engine

    def resume_on_start(self, after: asyncio.Future[Any] | None = None) -> None:
        """At app start: once `after` (the Demo exchange starting) is done, resume the paper sessions that
        were running when the app last stopped, if there are any."""
        stack = self._provider()
        if not stack.sessions_to_resume():
            return

        async def resume() -> None:
            if after is not None:
                await asyncio.wait([after])
            await self.ensure_engine()
            self._dirty = True

        self._spawn(resume())

    def spec_from_form(self) -> SessionSpec:
        service = self.services.strategies
        sid = self.strategy.currentData()
        if sid is None:
            raise UserError("choose a saved strategy first")
        strategy = service.strategy(int(sid))
        tf = Timeframe.parse(self.timeframe.currentText())
        market = self.market.symbol().upper()
        if not market:
            raise UserError("enter a market, e.g. KRW-BTC")
        futures = self.exchange.currentData() == "binance"
        limits = limits_from_form(self)
        if limits.problems():
            raise UserError("risk limits: " + "; ".join(limits.problems()))
        return SessionSpec(session_name(strategy.name, market, tf), strategy, self.exchange.currentData(), market, tf,
                           cash=self.cash.value(), commission=pct_to_fraction(self.fee.value()),
                           strategy_id=int(sid), leverage=self.leverage.value() if futures else 1,
                           margin=self.margin.currentData() if futures else "isolated", limits=limits)

    def apply_cost_defaults(self) -> None:
        """The exchange's taker fee and a starting cash that suits its quote currency (KRW, USDT)."""
        cost_defaults_into(self)

    def on_start(self) -> None:
        if self.mode_is_live():
            self.start_live_from_form()
            return
        try:
            spec = self.spec_from_form()
        except UserError as err:
            self._report(str(err))
            return
        self._spawn(self.start_session(spec))

    async def start_session(self, spec: SessionSpec) -> None:
        engine = await self.ensure_engine()
        session = await engine.add_session(spec, stored_name="rename")  # a stored history is kept: "NAME (2)"
        log.info("paper session %s started: %s on %s:%s %s, cash %s", session.id, spec.strategy.name, spec.exchange,
                 spec.symbol, spec.timeframe.code, f"{spec.cash:,.2f}")
        self.selected = session.id
        self._dirty = True
        self.refresh()
        self.sessionStarted.emit(session.id)

    async def stop_selected(self) -> None:
        if self.selected_live() is not None:
            await self.stop_live(str(self.selected))
            return
        engine = self.engine
        if engine is not None and self.selected in engine.sessions:
            await engine.stop_session(self.selected, flatten=True)
            log.info("paper session %s stopped", self.selected)
            self._dirty = True
            self.refresh()

    def remove_selected(self) -> None:
        """Forget the selected stopped session's row (its history stays in the database)."""
        engine = self.engine
        if engine is not None and self.selected is not None and engine.remove_session(self.selected):
            self.selected = None
            self._dirty = True
            self.refresh()

    async def flatten_selected(self) -> None:
        engine = self.engine
        if engine is not None and self.selected in engine.sessions:
            await engine.flatten(self.selected, "flattened from the Live tab")
            self._dirty = True

    def _spawn(self, work: Any) -> None:
        async def run() -> None:
            try:
                await work
            except UserError as err:
                self._report(str(err))
            except Exception as err:  # shown to the user; the traceback goes to the log
                log.exception("live tab action failed")
                self._report(f"{type(err).__name__}: {err}")

        self.task = asyncio.get_event_loop().create_task(run())

    def _report(self, message: str) -> None:
        self.pnl.setText(message)
        self.failed.emit(message)

    # ---- live updates (batched) ---------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if isinstance(event, SessionBar):
            self._new_bars.setdefault(event.session_id, []).append(event.candle)
        elif isinstance(event, OrderFilled):
            self._dirty = True
            side = "bought" if event.side > 0 else "sold"
            log.info("%s: %s %.8g @ %s (%s), fee %s", event.session_id, side, event.quantity, f"{event.price:,.8g}",
                     event.reason, f"{event.commission:,.4f}")
        elif isinstance(event, SessionFlattened):
            self._dirty = True

    def refresh(self) -> None:
        engine = self.engine
        live = self.live_rows()
        if engine is None and not live:
            return
        self.sessions.set_rows((engine.rows() if engine is not None else []) + live)
        if self.selected is None and self.sessions.rows:
            self.selected = self.sessions.row_key(0)
        bars, self._new_bars = self._new_bars, {}
        live_row = self.selected_live()
        self.live_panel.show_row(live_row)
        if self.selected is None:
            for button in (self.stop_button, self.flatten_button, self.remove_button):
                button.setEnabled(False)
        elif live_row is not None:
            self._show_live(live_row)
        elif engine is not None:
            redraw = getattr(self.chart, "title", None) != self.selected
            snap = engine.snapshot(self.selected, with_bars=redraw)
            if snap is not None:
                self._show_session(snap, bars.get(snap.session_id, []))
        if engine is not None:
            self.monitor.show_snapshot(engine.metrics.snapshot())
        self._dirty = False


    def _show_session(self, snap: SessionSnapshot, new_bars: list[Candle]) -> None:
        if snap.bars is not None:
            self.chart.set_series(snap.bars, title=snap.session_id)
        else:
            for bar in new_bars:
                self._apply(bar)
        if snap.forming is not None:
            self._apply(snap.forming)
        if self._dirty or new_bars or snap.bars is not None:
            self.chart.set_markers([chart_marker(m) for m in snap.markers])
            self.fills.set_rows(list(snap.fills))
            self.orders.set_rows(list(snap.pending))
        s = snap.summary
        stopped = s["status"] != "running"
        self.stop_button.setEnabled(not stopped)
        self.flatten_button.setEnabled(not stopped)
        self.remove_button.setEnabled(snap.session_id in self.engine.stopped if self.engine is not None else False)
        halted = self.engine.paper_risk.halted(snap.session_id) if self.engine is not None else ""
        self.reset_paper_button.setVisible(bool(halted) and not stopped)
        self.pnl.setText(f"{snap.session_id}: {s['status']}  equity {s['equity']:,.2f}  ({s['return_pct']:+.2f} %)  "
                         f"realized {s['realized_pnl']:+,.2f}  unrealized {s['unrealized_pnl']:+,.2f}"
                         + (f"  — HALTED: {halted}" if halted else "") + (f"  — {snap.error}" if snap.error else ""))

    def _apply(self, bar: Candle) -> None:
        ts = self.chart.pyramid.ts
        if not len(ts) or bar.ts >= int(ts[-1]):  # never append a bar older than the chart's newest
            self.chart.apply_live(bar)

    def _on_row(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        key = self.sessions.row_key(current.row())
        if key is not None and key != self.selected:
            self.selected = key
            self._dirty = True
            self.refresh()

    # ---- shutdown -----------------------------------------------------------------------------------------
    def open_positions(self) -> int:
        engine = self.engine
        return engine.open_positions() if engine is not None else 0

    def confirm_close(self) -> bool:
        """Ask what to do with open paper positions; False = the user cancelled closing."""
        n = self.open_positions()
        if n == 0:
            return True
        choice = ask_flatten_or_keep(self, n)
        if choice is None:
            return False
        self.flatten_on_exit = choice
        return True

    async def shutdown(self) -> None:
        """Stop streams, flatten (unless the user chose to keep positions) and close the audit log."""
        self.timer.stop()
        if self.desk is not None:
            await self.desk.shutdown()  # live positions and their exchange-held stops stay
        if self.stack is None and self.audit_stack is not None:
            self.audit_stack.close_logs()
        if self.stack is not None:
            if self.stack.engine.bus.running:
                await self.stack.engine.shutdown(flatten=self.flatten_on_exit)
            self.stack.close_logs()

