"""The strategy work of the main window: Strategies, Builder and Backtests tabs, wired to each other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from domain.market import SeriesKey
from presentation.backtests.tab import BacktestsTab
from presentation.builder.tab import BuilderTab
from presentation.chart.panes import DARK, ChartTheme
from presentation.strategies.tab import StrategiesTab
from presentation.theme import chart_theme, style_sheet

if TYPE_CHECKING:
    from collections.abc import Callable

    from presentation.services import Services


class StrategyWorkspace(QtCore.QObject):
    """Builds the three tabs when the container offers strategies and backtests; `pages` is empty otherwise.

    With `build_now=False` nothing is built yet: call `step()` once per turn of the event loop (each builds
    one tab, 0.05-0.25 s) until it returns True, or `finish()` to build the rest at once. `built` holds the
    tabs built so far, ready to show; an action that needs a tab not built yet builds the rest first.
    """

    def __init__(self, services: Services, show_tab: Callable[[str], None], parent: QtCore.QObject | None = None,
                 build_now: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        self.show_tab = show_tab
        self.built: dict[str, QtWidgets.QWidget] = {}
        self.pages: dict[str, QtWidgets.QWidget] = {}  # all three, once built and wired
        self.theme = DARK
        self._steps = self._build(parent)
        if build_now:
            self.finish()

    def step(self) -> bool:
        """Build the next tab; True once all are built (and wired)."""
        return next(self._steps, True)

    def finish(self) -> None:
        while not self.step():
            pass

    def _build(self, parent: QtCore.QObject | None) -> Iterator[bool]:
        strategies = self.services.strategies
        backtests = self.services.backtests
        self.list = self.built["Strategies"] = StrategiesTab(strategies)
        self.list.openRequested.connect(self.open_in_builder)
        self.list.newRequested.connect(self.new_in_builder)
        self.list.backtestRequested.connect(self.backtest)
        yield False
        self.builder = self.built["Builder"] = BuilderTab(strategies, self.services)
        self.builder.saved.connect(self._on_saved)
        yield False
        self.backtests = self.built["Backtests"] = BacktestsTab(backtests, strategies, self.services)
        self.list.changed.connect(self.backtests.form.refresh_strategies)
        self.backtests.finished.connect(lambda _: self.list.refresh())
        self.pages = dict(self.built)
        self.list.installEventFilter(self)  # follows the window's dark/light theme (a style sheet change)
        shown = getattr(parent, "seriesShown", None)
        if shown is not None:  # the market picked in the window's market list becomes the default here too
            shown.connect(self.follow_series)
        yield True

    def follow_series(self, key: SeriesKey) -> None:
        self.builder.preview.wanted = key  # loaded when the Builder is next shown
        if self.builder.isVisible():
            self.builder.preview.refresh_markets()
        self.backtests.form.refresh_series()
        self.backtests.form.set_series(key)

    def eventFilter(self, watched: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if event is not None and event.type() == QtCore.QEvent.Type.StyleChange and self.pages:
            app = QtWidgets.QApplication.instance()
            sheet = app.styleSheet() if isinstance(app, QtWidgets.QApplication) else ""
            self.apply_theme(chart_theme("light" if sheet == style_sheet("light") else "dark"))
        return False

    def apply_theme(self, theme: ChartTheme) -> None:
        if self.theme != theme:
            self.theme = theme
            self.builder.preview.apply_theme(theme)
            self.backtests.chart.apply_theme(theme)

    def open_in_builder(self, strategy_id: int) -> None:
        self.finish()
        if self.builder.open_strategy(strategy_id):
            self.show_tab("Builder")

    def new_in_builder(self) -> None:
        self.finish()
        if self.builder.new_draft():
            self.show_tab("Builder")

    def backtest(self, strategy_id: int) -> None:
        self.finish()
        self.backtests.form.set_strategy(strategy_id)
        self.show_tab("Backtests")

    def data_changed(self) -> None:
        """Stored candles changed (collection, import, delete): refresh the market pickers."""
        if self.pages:
            self.builder.preview.refresh_markets()
            self.backtests.form.refresh_series()

    def _on_saved(self, strategy_id: int) -> None:
        self.finish()
        self.list.refresh()
        self.list.select_id(strategy_id)
        self.backtests.form.refresh_strategies()
        self.backtests.form.set_strategy(strategy_id)

    def confirm_close(self) -> bool:
        """Ask about unsaved builder changes; False keeps the window open."""
        return not self.pages or self.builder.confirm_discard()

    def shutdown(self) -> None:
        if self.pages:
            self.backtests.shutdown()
