"""The engine-backed tabs (Strategies, Builder, Backtests, Live): engines loaded on a thread, tabs built after."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from presentation.theme import chart_theme
from presentation.warmup import load_engines

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab
    from presentation.main_window import MainWindow
    from presentation.strategies.workspace import StrategyWorkspace

log = logging.getLogger("quantdesk.gui")
FALLBACK_MS = 2000  # deferred tabs are built after the first paint, or after this at the latest
STEP_MS = 30  # a timer between tab builds, not 0: input and paints get in between


class EngineTabs(QtCore.QObject):
    """Builds the window's engine-backed tabs once: at once, or (`deferred`) after the first paint of `tabs`.

    Deferred, the engines (numba kernels, the backtester, aiohttp) are imported on the "load-engines" thread,
    then the tabs are built here one per event-loop turn. `ready` is set once the engines are loaded (there,
    or by building the tabs on this thread): the Demo exchange waits on it, so that its aiohttp import happens
    on the loader thread. `liveBuilt` says the Live tab exists (paper sessions may resume).
    """

    loaded = QtCore.pyqtSignal()  # from the loader thread
    liveBuilt = QtCore.pyqtSignal(object)  # LiveTab

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ready = asyncio.Event()
        self.loader: threading.Thread | None = None  # loading the engines, off the UI thread
        self.strategy_work: StrategyWorkspace | None = None
        self.live_tab: LiveTab | None = None
        self._partial: StrategyWorkspace | None = None  # being built one tab per event-loop turn
        self._gc_was_on = True

    def defer(self) -> None:
        """Load after the first paint of the window's tabs (or a while, should it never paint)."""
        self.window.tabs.installEventFilter(self)
        self.loaded.connect(self._on_loaded)
        QtCore.QTimer.singleShot(FALLBACK_MS, self.load)

    def eventFilter(self, watched: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if watched is self.window.tabs and event is not None and event.type() == QtCore.QEvent.Type.Paint:
            self.window.tabs.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self.load)  # once this paint has reached the screen
        return super().eventFilter(watched, event)

    def load(self) -> None:
        """Import the engines (and load the indicator kernels) on a thread, then build the tabs here.

        The cyclic garbage collector is off meanwhile, so it cannot run on that thread and finalize a Qt
        object there (Qt aborts on that); it is back on once they are loaded.
        """
        if self.loader is not None or self.strategy_work is not None:
            return
        self._gc_was_on = gc.isenabled()
        gc.disable()
        self.loader = threading.Thread(target=self._load_then_tell, name="load-engines")
        self.loader.start()

    def _load_then_tell(self) -> None:  # on the "load-engines" thread
        try:
            load_engines()
            self.window.services.preload()  # aiohttp and the simulator, before the Demo exchange starts
        except Exception:  # the build on the UI thread imports again and shows the real error
            log.exception("loading the engines in the background failed")
        try:
            self.loaded.emit()
        except RuntimeError:  # the window is gone: nobody will build the tabs
            if self._gc_was_on:
                gc.enable()

    def _on_loaded(self) -> None:
        if self._gc_was_on:
            gc.enable()
        self.ready.set()  # the Demo exchange may start now
        self.ensure_live()  # one tab per turn of the event loop, so none holds it for long
        QtCore.QTimer.singleShot(STEP_MS, self._build_step)

    def _build_step(self) -> None:
        """Build the next of the Strategies, Builder and Backtests tabs, then come back for the one after."""
        if self.strategy_work is not None:
            return
        if self._partial is None:
            self._partial = self._workspace()
        done = self._partial.step()
        self._place(self._partial.built)  # each tab shows as soon as it is built
        if done:
            self.ensure()
        else:
            QtCore.QTimer.singleShot(STEP_MS, self._build_step)

    def _workspace(self) -> StrategyWorkspace:
        from presentation.strategies.workspace import StrategyWorkspace

        return StrategyWorkspace(self.window.services, self.window.show_tab, self.window, build_now=False)

    def ensure(self) -> None:
        """Build the Strategies, Builder, Backtests (presentation/strategies) and Live tabs, once."""
        self.ensure_live()
        if self.strategy_work is not None:
            return
        work = self._partial or self._workspace()
        work.finish()  # what a step-by-step build has not built yet
        self.strategy_work, self._partial = work, None
        self._place(work.pages)
        work.apply_theme(chart_theme(self.window.theme))
        self.ready.set()  # built here, on this thread: nothing left for the loader to do first

    def _place(self, pages: dict[str, QtWidgets.QWidget]) -> None:
        for name, page in pages.items():
            if self.window.pages.get(name) is not page:
                self.window.set_page(name, page)

    def ensure_live(self) -> None:
        if self.live_tab is not None:
            return
        from presentation.live.tab import LiveTab

        tab = self.live_tab = LiveTab(self.window.services)  # paper trading (presentation/live)
        tab.apply_theme(chart_theme(self.window.theme))
        self.window.seriesShown.connect(tab.follow_series)  # a new session trades the market on the chart
        if self.window.chart_tab.key is not None:
            tab.follow_series(self.window.chart_tab.key)
        self.window.set_page("Live", tab)
        self.liveBuilt.emit(tab)
