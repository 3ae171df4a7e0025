"""What the Live tab does with live (real-order) sessions: start when armed, stop, kill switch, reset a halt."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.errors import UserError
from app.live.trading.desk import LiveDesk, LiveSpec, live_session_id
from domain.market import Timeframe
from presentation.live.live_mode import ask_kill, is_live, limits_from_form, mark_tab, update_arming

if TYPE_CHECKING:
    from app.live.stack import LiveStack
    from presentation.live.tab import LiveTab

log = logging.getLogger("quantdesk.live")


class LiveActions:
    """Mixed into LiveTab: the live sessions' side of the tab (the paper side stays in LiveTab)."""

    desk: LiveDesk | None = None
    audit_stack: LiveStack | None = None  # whose audit log the live sessions write to (the paper stack's)

    def live_desk(self: LiveTab) -> LiveDesk:
        if self.desk is None:
            self.desk = self.services.trading
        return self.desk

    def live_spec_from_form(self: LiveTab) -> LiveSpec:
        sid = self.strategy.currentData()
        if sid is None:
            raise UserError("choose a saved strategy first")
        strategy = self.services.strategies.strategy(int(sid))
        tf = Timeframe.parse(self.timeframe.currentText())
        market = self.market.symbol().upper()
        exchange = self.exchange.currentData()
        futures = exchange == "binance"
        limits = limits_from_form(self)
        problems = limits.problems()
        if problems:
            raise UserError("risk limits: " + "; ".join(problems))
        return LiveSpec(live_session_id(strategy.name, market, tf), strategy, exchange, market, tf, limits,
                        self.leverage.value() if futures else 1, self.margin.currentData() if futures else "")

    def start_live_from_form(self: LiveTab) -> None:
        """Start stays refused, saying why, until the session is armed (keys stored, the market typed exactly)."""
        problem = update_arming(self)
        if problem:
            self._report(problem)
            return
        try:
            spec = self.live_spec_from_form()
        except UserError as err:
            self._report(str(err))
            return
        self._spawn(self.start_live(spec, self.confirm.text().strip()))

    def open_audit(self: LiveTab) -> None:
        """Live sessions audit every request and state change into the same files as paper sessions: opened here
        even when no paper session ever ran."""
        if self.audit_stack is None:
            self.audit_stack = self._provider()
            self.audit_stack.open_logs()

    async def start_live(self: LiveTab, spec: LiveSpec, confirm: str) -> None:
        self.open_audit()
        self.arming.setText("starting: reconciling with the exchange …")
        try:
            session = await self.live_desk().start(spec, confirm)
        finally:
            self.arming.setText("")
        log.warning("LIVE session %s started: %s on %s %s %s (stops held by %s)", spec.session_id, spec.strategy.name,
                    spec.exchange, spec.market, spec.timeframe.code, session.trader.broker.stop_held_by)
        self.confirm.clear()  # arming is per session: the next one is typed again
        self.selected = spec.session_id
        self._dirty = True
        self.refresh()
        self.sessionStarted.emit(spec.session_id)

    def selected_live(self: LiveTab) -> dict[str, Any] | None:
        if self.desk is None or self.selected not in self.desk.sessions:
            return None
        return self.desk.row(self.desk.sessions[self.selected])

    def on_kill(self: LiveTab) -> None:
        row = self.selected_live()
        if row is not None:
            sid = row["session_id"]
            ask_kill(self, sid, row["market"], lambda: self._spawn(self.kill_live(sid)))

    async def kill_live(self: LiveTab, session_id: str) -> None:
        self.live_panel.kill_result.setText("Kill switch: cancelling and flattening …")
        self.live_panel.kill_result.setVisible(True)
        report = await self.live_desk().kill(session_id)
        log.warning("kill switch on %s: cancelled %d, the exchange shows %d open order(s), position %g", session_id,
                    len(report.cancelled), report.open_orders, report.position)
        self._dirty = True
        self.refresh()

    async def reset_live(self: LiveTab) -> None:
        row = self.selected_live()
        if row is not None:
            rec = await self.live_desk().reset_halt(row["session_id"])
            log.warning("halt of %s reset; reconciliation %s", row["session_id"],
                        "clean" if rec.clean else "found: " + "; ".join(rec.differences))
            self.refresh()

    async def stop_live(self: LiveTab, session_id: str) -> None:
        await self.live_desk().stop(session_id)
        log.warning("LIVE session %s stopped; its position and exchange-held stop stay", session_id)
        self.refresh()

    def reset_paper(self: LiveTab) -> None:
        """Lift the halt a breached risk limit left on the selected paper session."""
        engine = self.engine
        if engine is not None and self.selected in engine.sessions:
            engine.reset_halt(str(self.selected))
            log.info("paper session %s: halt reset", self.selected)
            self._dirty = True
            self.refresh()

    def _show_live(self: LiveTab, row: dict[str, Any]) -> None:
        self.reset_paper_button.setVisible(False)
        self.stop_button.setEnabled(row["status"] in ("LIVE · live", "LIVE · halted"))
        self.flatten_button.setEnabled(False)  # a live position is closed by the kill switch (confirmed)
        self.remove_button.setEnabled(False)
        self.pnl.setText(f"{row['session_id']}: {row['status']}  position {row['position']:.8g}"
                         + (f"  — HALTED: {row['halted']}" if row["halted"] else ""))

    def live_rows(self: LiveTab) -> list[dict[str, Any]]:
        if self.desk is None:
            return []
        rows = self.desk.rows()
        mark_tab(self, self.desk.running())
        return rows

    def mode_is_live(self: LiveTab) -> bool:
        return is_live(self)
