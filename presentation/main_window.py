"""The QuantDesk main window: market list, workspace tabs, log dock and status bar; layout persists."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui, QtWidgets

from app.errors import UserError
from domain.market import CandleSeries, SeriesKey, Timeframe
from presentation.chart.lod import OhlcPyramid
from presentation.models.market_tree import KEY_ROLE, MarketTreeModel
from presentation.services import EXCHANGE_LABELS, EXCHANGES, Services
from presentation.settings import app_settings
from presentation.tabs.chart_tab import ChartTab
from presentation.tabs.data_tab import DataTab
from presentation.tabs.empty import COMING, EmptyState
from presentation.theme import apply_theme, chart_theme
from presentation.warmup import load_engines
from presentation.widgets.log_dock import LogView
from presentation.widgets.status import StatusBar

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab
    from presentation.strategies.workspace import StrategyWorkspace

log = logging.getLogger("quantdesk.gui")
_OPEN: set[MainWindow] = set()
TABS = ("Chart", "Strategies", "Builder", "Backtests", "Data", "Live")
WORKSPACE_FALLBACK_MS = 2000  # deferred tabs are built after the first paint, or after this at the latest


class MainWindow(QtWidgets.QMainWindow):
    """`services` is what the composition root offers; `first_run_demo` seeds an empty database.

    The strategy, builder, backtest and live tabs load the engines (numba, the backtester): with
    `defer_workspaces` they are built just after the first paint, so the chart shows sooner.
    """

    seriesShown = QtCore.pyqtSignal(object)  # SeriesKey
    demoFinished = QtCore.pyqtSignal(str)
    enginesLoaded = QtCore.pyqtSignal()  # from the thread that loads them (presentation/warmup)

    def __init__(self, services: Services, first_run_demo: bool = True, defer_workspaces: bool = False) -> None:
        super().__init__()
        _OPEN.add(self)  # an open window must never be garbage-collected (e.g. mid-paint) while shown
        self.services = services
        self.first_run_demo = first_run_demo
        self.demo_task: asyncio.Task[None] | None = None
        self._resume_pending = False  # start() ran before the Live tab was built: resume its sessions then
        # Set once the engines are loaded (on the loader thread, or by building the tabs here): the Demo exchange
        # starts after it, so that its aiohttp import happens on the loader thread, not this one.
        self._engines_ready = asyncio.Event()
        self.theme = "dark"  # until the saved one is restored
        self._loading: asyncio.Task[None] | None = None  # the series being read for the chart
        self.setWindowTitle("QuantDesk")
        self.setObjectName("QuantDeskMain")
        self.resize(1440, 900)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.chart_tab = ChartTab()
        self.data_tab = DataTab(services)
        self._live_tab: LiveTab | None = None
        self._strategy_work: StrategyWorkspace | None = None
        self._partial_work: StrategyWorkspace | None = None  # being built one tab per event-loop turn
        self._engines: threading.Thread | None = None  # loading the engines, off this thread
        self._gc_was_on = True
        self.pages: dict[str, QtWidgets.QWidget] = {"Chart": self.chart_tab, "Data": self.data_tab}
        for name in TABS:
            page = self.pages.get(name) or EmptyState(name, *COMING.get(name, ("Loading…", "")))
            self.pages[name] = page
            self.tabs.addTab(page, name)
        self.setCentralWidget(self.tabs)
        self.markets = MarketTreeModel(EXCHANGES, EXCHANGE_LABELS, self)
        self.tree = self._market_dock()
        self.log_view = LogView()
        self.log_dock = self._dock("Log and events", "logDock", self.log_view,
                                   QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.status = StatusBar(str(services.db_path), self)
        self.setStatusBar(self.status)
        self._build_menus()
        self.data_tab.changed.connect(self._on_data_changed)
        self.data_tab.collected.connect(self._on_collected)
        self.data_tab.exchangeState.connect(self._on_exchange_state)
        if defer_workspaces:  # after the first paint of the tabs (or a while, should it never paint)
            self.tabs.installEventFilter(self)
            self.enginesLoaded.connect(self._on_engines_loaded)
            QtCore.QTimer.singleShot(WORKSPACE_FALLBACK_MS, self._load_engines)
        else:
            self.ensure_workspaces()
        self._plug_optimize(services)
        self.log_view.attach(logging.getLogger("quantdesk"))
        self.refresh_markets()
        self.data_tab.refresh()
        self._restore()

    # ---- building ---------------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QtWidgets.QWidget,
              area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _default_docks(self) -> None:
        self.resizeDocks([self.market_dock], [360], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [120], QtCore.Qt.Orientation.Vertical)

    def _market_dock(self) -> QtWidgets.QTreeView:
        tree = QtWidgets.QTreeView()
        tree.setObjectName("marketTree")
        tree.setModel(self.markets)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        tree.header().setStretchLastSection(False)
        tree.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 64), (2, 118), (3, 118)):
            tree.setColumnWidth(col, width)
        tree.setColumnHidden(2, True)  # the tooltip and the Data tab show the whole range
        tree.selectionModel().currentChanged.connect(self._on_tree_current)
        tree.activated.connect(self._on_tree_current)
        self.market_dock = self._dock("Markets", "marketDock", tree, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.market_dock.setMinimumWidth(340)
        return tree

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Import CSV…", "Ctrl+O", self.focus_import)
        self._action(file_menu, "&Collect candles…", "Ctrl+Shift+C", lambda: self.show_tab("Data"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", "Ctrl+Q", self.close)
        view = bar.addMenu("&View")
        for i, name in enumerate(TABS, start=1):
            self._action(view, f"{name}", f"Ctrl+{i}", lambda _=False, n=name: self.show_tab(n))
        view.addSeparator()
        view.addAction(self.market_dock.toggleViewAction())
        self.market_dock.toggleViewAction().setShortcut(QtGui.QKeySequence("Ctrl+M"))
        view.addAction(self.log_dock.toggleViewAction())
        self.log_dock.toggleViewAction().setShortcut(QtGui.QKeySequence("Ctrl+L"))
        self._action(view, "&Refresh markets", "F5", self.refresh_markets)
        self._action(view, "Toggle &dark/light theme", "Ctrl+T", self.toggle_theme)
        self._action(view, "&Full screen", "F11", self._toggle_full_screen)
        chart = bar.addMenu("&Chart")
        for act in (self.chart_tab.act_goto, self.chart_tab.act_latest, self.chart_tab.act_all):
            chart.addAction(act)
        chart.addMenu(self.chart_tab.indicators_menu)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", "F1", self._show_shortcuts)

    def _action(self, menu: QtWidgets.QMenu, text: str, shortcut: str, slot: object) -> QtGui.QAction:
        act = menu.addAction(text)
        act.setShortcut(QtGui.QKeySequence(shortcut))
        act.triggered.connect(slot)
        return act

    def _plug_optimize(self, services: Services) -> None:
        """Tools → Optimize parameters… opens the Optimize view."""
        tools = QtWidgets.QMenu("&Tools", self.menuBar())
        self.menuBar().insertMenu(self.menuBar().actions()[-1], tools)  # before Help
        self._action(tools, "&Optimize parameters…", "Ctrl+Shift+O", lambda: self.show_optimize(services))

    def show_optimize(self, services: Services) -> None:
        """The parameter sweep and walk-forward view, in its own window (built on first use)."""
        view = getattr(self, "optimize_view", None)
        if view is None:
            from presentation.optimize import optimize_view

            view = self.optimize_view = optimize_view(services)
            view.setWindowTitle("QuantDesk — Optimize")
            view.resize(1400, 900)
            view.backtestOpened.connect(self._show_backtest_run)
        view.show()
        view.raise_()
        view.activateWindow()

    def _show_backtest_run(self, finished: Any) -> None:
        """A run the Optimize view just backtested (a double-clicked cell), opened in the Backtests tab."""
        tab = self.strategy_work.backtests
        tab.history.refresh()
        if tab.show_run(finished.run_id):
            self.show_tab("Backtests")
            self.raise_()
            self.activateWindow()

    # ---- workspaces built on first use ----------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if watched is self.tabs and event is not None and event.type() == QtCore.QEvent.Type.Paint:
            self.tabs.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self._load_engines)  # once this paint has reached the screen
        return super().eventFilter(watched, event)

    def _load_engines(self) -> None:
        """Import the engines (and load the indicator kernels) on a thread, then build the tabs here.

        The cyclic garbage collector is off meanwhile, so it cannot run on that thread and finalize a Qt
        object there (Qt aborts on that); it is back on once they are loaded.
        """
        if self._engines is not None or self._strategy_work is not None:
            return
        self._gc_was_on = gc.isenabled()
        gc.disable()
        self._engines = threading.Thread(target=self._load_then_tell, name="load-engines")
        self._engines.start()

    def _load_then_tell(self) -> None:  # on the "load-engines" thread
        try:
            load_engines()
            self.services.preload()  # aiohttp and the simulator, before the Demo exchange starts
        except Exception:  # the build on the UI thread imports again and shows the real error
            log.exception("loading the engines in the background failed")
        try:
            self.enginesLoaded.emit()
        except RuntimeError:  # the window is gone: nobody will build the tabs
            if self._gc_was_on:
                gc.enable()

    def _on_engines_loaded(self) -> None:
        if self._gc_was_on:
            gc.enable()
        self._engines_ready.set()  # the Demo exchange may start now
        self._ensure_live()  # one tab per turn of the event loop, so none holds it for long
        QtCore.QTimer.singleShot(30, self._build_step)  # a timer, not 0: input and paints get in between

    def _build_step(self) -> None:
        """Build the next of the Strategies, Builder and Backtests tabs, then come back for the one after."""
        if self._strategy_work is not None:
            return
        if self._partial_work is None:
            from presentation.strategies.workspace import StrategyWorkspace

            self._partial_work = StrategyWorkspace(self.services, self.show_tab, self, build_now=False)
        done = self._partial_work.step()
        self._place(self._partial_work.built)  # each tab shows as soon as it is built
        if done:
            self.ensure_workspaces()
        else:
            QtCore.QTimer.singleShot(30, self._build_step)

    def ensure_workspaces(self) -> None:
        """Build the Strategies, Builder, Backtests (presentation/strategies) and Live tabs, once."""
        self._ensure_live()
        if self._strategy_work is not None:
            return
        from presentation.strategies.workspace import StrategyWorkspace

        work = self._partial_work or StrategyWorkspace(self.services, self.show_tab, self, build_now=False)
        work.finish()  # what a step-by-step build has not built yet
        self._strategy_work, self._partial_work = work, None
        self._place(work.pages)
        work.apply_theme(chart_theme(self.theme))
        self._engines_ready.set()  # built here, on this thread: nothing left for the loader to do first

    def _place(self, pages: dict[str, QtWidgets.QWidget]) -> None:
        for name, page in pages.items():
            if self.pages.get(name) is not page:
                self.set_page(name, page)

    def _ensure_live(self) -> None:
        if self._live_tab is not None:
            return
        from presentation.live.tab import LiveTab

        self._live_tab = LiveTab(self.services)  # paper trading (presentation/live)
        self._live_tab.apply_theme(chart_theme(self.theme))
        self.seriesShown.connect(self._live_tab.follow_series)  # a new session trades the market on the chart
        if self.chart_tab.key is not None:
            self._live_tab.follow_series(self.chart_tab.key)
        self.set_page("Live", self._live_tab)
        self._resume_sessions()

    @property
    def live_tab(self) -> LiveTab:
        self.ensure_workspaces()
        assert self._live_tab is not None
        return self._live_tab

    @property
    def strategy_work(self) -> StrategyWorkspace:
        self.ensure_workspaces()
        assert self._strategy_work is not None
        return self._strategy_work

    # ---- behaviour --------------------------------------------------------------------------------------
    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.pages[name])

    def set_page(self, name: str, page: QtWidgets.QWidget) -> None:
        """Put `page` in the tab called `name` (replacing its placeholder), or add it as a new tab."""
        old = self.pages.get(name)
        self.pages[name] = page
        if old is None:
            self.tabs.addTab(page, name)
            return
        i = self.tabs.indexOf(old)
        current = self.tabs.currentIndex() == i
        self.tabs.removeTab(i)
        self.tabs.insertTab(i, page, name)
        if current:
            self.tabs.setCurrentIndex(i)
        old.deleteLater()

    def focus_import(self) -> None:
        self.show_tab("Data")
        self.data_tab.import_box.path.setFocus()

    def refresh_markets(self) -> None:
        current = self.current_key()
        self.markets.reset_series(self.services.stored())
        self.tree.expandToDepth(1)
        if current is not None:
            self.select_series(current, load=False)

    def current_key(self) -> SeriesKey | None:
        key = self.tree.currentIndex().data(KEY_ROLE)
        return key if isinstance(key, SeriesKey) else None

    def select_series(self, key: SeriesKey, load: bool = True) -> bool:
        index = self.markets.index_of(key)
        if not index.isValid():
            return False
        selection = self.tree.selectionModel()
        if selection is not None:
            selection.blockSignals(True)  # currentChanged comes from the selection model, not the view
        self.tree.setCurrentIndex(index)
        self.tree.viewport().update()
        if selection is not None:
            selection.blockSignals(False)
        if load:
            self.show_series(key)
        return True

    def show_series(self, key: SeriesKey, keep_view: bool = False) -> None:
        """Read `key` and draw it now (start-up restore, scripts). Clicks go through `load_series`."""
        try:
            series = self.services.load(key)
        except UserError as err:
            self._load_failed(err)
            return
        self._shown(key, series, None, keep_view)

    def load_series(self, key: SeriesKey, keep_view: bool = False) -> asyncio.Task[None] | None:
        """Read the bars and build the chart's level-of-detail pyramid in a worker thread (a year of 1m
        bars is 30-90 ms of SQLite and numpy, both releasing the GIL), then draw them on the UI thread.
        A newer request cancels an older one. Without a running loop (scripts, some tests) it draws now."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or not loop.is_running():
            self.show_series(key, keep_view)
            return None
        self.status.showMessage(f"{key}: loading…")
        self._loading = loop.create_task(self._load(key, keep_view), name=f"load-{key}")
        return self._loading

    @property
    def loading(self) -> asyncio.Task[None] | None:
        """The chart's pending series load, if one is running."""
        return self._loading if self._loading is not None and not self._loading.done() else None

    async def _load(self, key: SeriesKey, keep_view: bool) -> None:
        try:
            series, pyramid = await asyncio.to_thread(self._read_and_prepare, key)
        except UserError as err:
            self._load_failed(err)
            return
        self._shown(key, series, pyramid, keep_view)

    def _read_and_prepare(self, key: SeriesKey) -> tuple[CandleSeries, OhlcPyramid]:
        series = self.services.load(key)
        return series, OhlcPyramid(series.ts, series.open, series.high, series.low, series.close, series.volume)

    def _load_failed(self, err: UserError) -> None:
        self.status.showMessage(str(err), 8000)
        log.error("%s", err)

    def _shown(self, key: SeriesKey, series: CandleSeries, pyramid: OhlcPyramid | None, keep_view: bool) -> None:
        self.chart_tab.show_series(key, series, keep_view, pyramid)
        self.status.showMessage(f"{key}: {len(series):,} bars", 4000)
        self.seriesShown.emit(key)

    def _on_tree_current(self, index: QtCore.QModelIndex) -> None:
        key = index.siblingAtColumn(0).data(KEY_ROLE) if index.isValid() else None
        if isinstance(key, SeriesKey) and key != self.chart_tab.key:  # a refreshed tree re-selects: no reload
            self.load_series(key)

    def _on_data_changed(self) -> None:
        self.refresh_markets()
        key = self.chart_tab.key
        if key is None:
            first = self.markets.first_series()
            if first.isValid():
                self.tree.setCurrentIndex(first)

    def _on_exchange_state(self, exchange: str, ok: bool) -> None:
        label = EXCHANGE_LABELS.get(exchange, exchange)
        if exchange == "demo" and ok:
            return  # the Demo field already shows where the simulator listens
        self.status.set_exchange_state(f"{label}: {'reachable' if ok else 'unreachable'}", ok)

    def _on_collected(self, key: SeriesKey) -> None:
        if key == self.chart_tab.key:  # the chart shows this series: bring in the new bars, keep the view
            self.load_series(key, keep_view=True)

    def toggle_theme(self) -> None:
        self.set_theme("light" if self.theme == "dark" else "dark")

    def set_theme(self, name: str) -> None:
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            self.theme = apply_theme(app, name)
        self.chart_tab.apply_theme(chart_theme(self.theme))
        if self._live_tab is not None:
            self._live_tab.apply_theme(chart_theme(self.theme))

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _show_shortcuts(self) -> None:
        lines = [f"{a.shortcut().toString():>14}   {a.text().replace('&', '')}"
                 for m in self.menuBar().findChildren(QtWidgets.QMenu) for a in m.actions()
                 if not a.shortcut().isEmpty()]
        QtWidgets.QMessageBox.information(self, "Keyboard shortcuts", "\n".join(dict.fromkeys(lines)))

    # ---- first run and the Demo exchange ------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Called once the loop runs: start the Demo exchange and, on an empty database, seed it."""
        self.demo_task = asyncio.get_event_loop().create_task(self._start_demo())
        # Paper sessions left running last time resume once the Live tab exists: asking for it here would
        # build every engine tab on this thread before the first paint (0.8 s, the first chart 1.3 s late).
        self._resume_pending = True
        if self._live_tab is not None:
            self._resume_sessions()
        return self.demo_task

    def _resume_sessions(self) -> None:
        if self._resume_pending and self._live_tab is not None:
            self._resume_pending = False
            self._live_tab.resume_on_start(self.demo_task)

    async def _start_demo(self) -> None:
        outcome = "failed"
        try:
            self.status.set_exchange_state("Demo: starting…", None)
            await self._engines_ready.wait()
            url = await self.services.start_demo()
            self.status.set_exchange_state(f"Demo: {url.removeprefix('http://')}", True)
            log.info("Demo exchange (simulator) serving on %s", url)
            outcome = await self._seed_if_empty()
        except UserError as err:
            self.status.set_exchange_state("Demo: unavailable", False)
            log.error("Demo exchange: %s", err)
        except OSError as err:
            self.status.set_exchange_state("Demo: cannot listen", False)
            log.error("Demo exchange could not start: %s", err)
        self._on_data_changed()
        self.data_tab.refresh()
        if outcome == "done" and self.chart_tab.key is not None:
            self.show_series(self.chart_tab.key)  # the chart opened mid-collection: show all of it
        self.demoFinished.emit(outcome)

    async def _seed_if_empty(self) -> str:
        if not self.first_run_demo or self.services.stored():
            return "skipped"
        log.info("empty database: collecting three days of Demo 1m candles for two markets")
        self.status.showMessage("First start: collecting Demo candles…")
        await self.services.seed_demo(lambda p: self._on_data_changed() if p.requests % 8 == 1 else None)
        for s in self.services.stored():
            log.info("%s: %s bars stored", s.key, f"{s.rows:,}")
        self.status.showMessage("Demo candles ready", 5000)
        return "done"

    async def shutdown(self) -> None:
        """Stop background work and the Demo exchange (called by the app once the window closed)."""
        if self._strategy_work is not None:  # built (not deferred and still pending)
            await self.live_tab.shutdown()  # paper sessions flattened (or kept) before the Demo exchange stops
            self.strategy_work.shutdown()
        for task in (self.demo_task, self.data_tab.task, self.data_tab.import_box.task, self._loading):
            if task is not None and not task.done():
                task.cancel()
        await self.services.aclose()

    # ---- persistence --------------------------------------------------------------------------------------
    def _restore(self) -> None:
        s = app_settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray):
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QtCore.QByteArray):
            self.restoreState(state)
        else:  # first start: docks sized once the window has its real size
            QtCore.QTimer.singleShot(0, self._default_docks)
        self.set_theme(str(s.value("window/theme", "dark")))
        tab = str(s.value("window/tab", 0))
        self.tabs.setCurrentIndex(int(tab) if tab.isdigit() else 0)
        last = s.value("selection/series")
        if isinstance(last, str) and last.count(":") >= 2:
            ex, rest = last.split(":", 1)
            sym, tf = rest.rsplit(":", 1)
            with contextlib.suppress(ValueError):  # a hand-edited or outdated settings file
                self.select_series(SeriesKey(ex, sym, Timeframe.parse(tf)))

    def save_settings(self) -> None:
        s = app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/theme", self.theme)
        s.setValue("window/tab", self.tabs.currentIndex())
        if self.chart_tab.key is not None:
            s.setValue("selection/series", str(self.chart_tab.key))
        s.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        built = self._strategy_work is not None
        if built and not self.strategy_work.confirm_close():  # unsaved builder changes: the user chose Cancel
            event.ignore()
            return
        if built and not self.live_tab.confirm_close():  # open paper positions: flatten, keep, or Cancel
            event.ignore()
            return
        self.save_settings()
        for task in (self.demo_task, self.data_tab.task, self.data_tab.import_box.task, self._loading):
            if task is not None and not task.done():
                task.cancel()
        self.log_view.detach(logging.getLogger("quantdesk"))
        _OPEN.discard(self)
        super().closeEvent(event)
