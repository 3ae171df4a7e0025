"""The Optimize view as the main window's second top-level window: built on first use, closed on quit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presentation.main_window import MainWindow
    from presentation.optimize.view import OptimizeView


class OptimizeWindow:
    """Opens the Optimize view (one, raised again on later asks); its Ctrl+Q quits through the main window,
    and a run it backtests opens in the main window's Backtests tab."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.view: OptimizeView | None = None

    def show(self) -> OptimizeView:
        view = self.view
        if view is None:
            from presentation.optimize import optimize_view

            view = self.view = optimize_view(self.window.services)
            view.setWindowTitle("QuantDesk — Optimize")
            view.resize(1400, 900)
            view.backtestOpened.connect(self._show_backtest_run)
            view.quitRequested.connect(self.window.close)
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def confirm_quit(self) -> bool:
        """True when the app may quit: no sweep runs, or the user agreed to cancel it."""
        return self.view is None or self.view.confirm_quit()

    def close(self) -> None:
        if self.view is not None:
            self.view.close()

    def _show_backtest_run(self, finished: Any) -> None:
        """A run the Optimize view just backtested (a double-clicked cell), opened in the Backtests tab."""
        w = self.window
        tab = w.strategy_work.backtests
        tab.history.refresh()
        if tab.show_run(finished.run_id):
            w.show_tab("Backtests")
            w.raise_()
            w.activateWindow()
