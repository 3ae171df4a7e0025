"""The start-up sequence once the loop runs: the Demo exchange, first-run seeding, resumed paper sessions."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from app.errors import UserError

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab
    from presentation.main_window import MainWindow

log = logging.getLogger("quantdesk.gui")


class Startup:
    """Starts the Demo exchange once the engines are loaded, seeds an empty database from it or tops the stored
    Demo series up to now (when `first_run_demo`), then tells the window (`demoFinished`: "done", "skipped" or
    "failed"). Paper sessions left running last time resume once the Live tab exists, after the Demo exchange has
    started."""

    def __init__(self, window: MainWindow, first_run_demo: bool) -> None:
        self.window = window
        self.first_run_demo = first_run_demo
        self.task: asyncio.Task[None] | None = None
        self._resume_pending = False  # start() ran before the Live tab was built: resume its sessions then
        window.engines.liveBuilt.connect(self._resume_sessions)

    def start(self) -> asyncio.Task[None]:
        """Called once the loop runs: start the Demo exchange and, on an empty database, seed it."""
        self.task = asyncio.get_event_loop().create_task(self._start_demo())
        # Paper sessions left running last time resume once the Live tab exists: asking for it here would
        # build every engine tab on this thread before the first paint (0.8 s, the first chart 1.3 s late).
        self._resume_pending = True
        if self.window.engines.live_tab is not None:
            self._resume_sessions(self.window.engines.live_tab)
        return self.task

    def _resume_sessions(self, live_tab: LiveTab) -> None:
        if self._resume_pending:
            self._resume_pending = False
            live_tab.resume_on_start(self.task)

    async def _start_demo(self) -> None:
        window, status = self.window, self.window.status
        outcome = "failed"
        try:
            status.set_exchange_state("Demo: starting…", None)
            await window.engines.ready.wait()
            url = await window.services.start_demo()
            status.set_exchange_state(f"Demo: {url.removeprefix('http://')}", True)
            log.info("Demo exchange (simulator) serving on %s", url)
            outcome = await self._seed_if_empty()
        except UserError as err:
            status.set_exchange_state("Demo: unavailable", False)
            log.error("Demo exchange: %s", err)
        except OSError as err:
            status.set_exchange_state("Demo: cannot listen", False)
            log.error("Demo exchange could not start: %s", err)
        window.on_data_changed()
        window.data_tab.refresh()
        if outcome == "done" and window.chart_tab.key is not None:
            window.show_series(window.chart_tab.key)  # the chart opened mid-collection: show all of it
        window.demoFinished.emit(outcome)

    async def _seed_if_empty(self) -> str:
        services, status = self.window.services, self.window.status
        if not self.first_run_demo:
            return "skipped"
        if services.stored():
            return await self._top_up()
        log.info("empty database: collecting three days of Demo 1m candles for two markets")
        status.showMessage("First start: collecting Demo candles…")
        await services.seed_demo(lambda p: self.window.on_data_changed() if p.requests % 8 == 1 else None)
        for s in services.stored():
            log.info("%s: %s bars stored", s.key, f"{s.rows:,}")
        status.showMessage("Demo candles ready", 5000)
        return "done"

    async def _top_up(self) -> str:
        """A later start: the stored Demo series end where the last run stopped; collect them up to now."""
        status = self.window.status
        status.showMessage("Bringing Demo candles up to date…")
        n = await self.window.services.top_up_demo(
            lambda p: self.window.on_data_changed() if p.requests % 8 == 1 else None)
        status.showMessage("Demo candles up to date" if n else "", 5000)
        if n:
            log.info("%s Demo series collected up to now", n)
        return "done" if n else "skipped"
