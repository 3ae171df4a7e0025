"""The Optimize view's widgets and layout: strategy and data pickers, parameters, the form, results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6 import QtGui, QtWidgets

from presentation.optimize.form import ParamTable, SweepForm, pair
from presentation.optimize.results import SweepResults
from presentation.widgets.forms import column

if TYPE_CHECKING:
    from presentation.optimize.view import OptimizeView


def setup_ui(view: OptimizeView) -> None:
    """Create the view's widgets and lay them out (as Qt Designer's setupUi would)."""
    view.strategy = QtWidgets.QComboBox()
    view.data = QtWidgets.QComboBox()
    view.params = ParamTable()
    view.form = SweepForm()
    view.run_button = QtWidgets.QPushButton("Run")
    view.cancel_button = QtWidgets.QPushButton("Cancel")
    view.cancel_button.setEnabled(False)
    view.progress = QtWidgets.QProgressBar()
    view.status = QtWidgets.QLabel("Pick parameters to sweep, then Run.")
    view.status.setWordWrap(True)
    view.results = SweepResults()
    r = view.results
    view.model, view.proxy, view.table, view.heatmap, view.walk = r.model, r.proxy, r.table, r.heatmap, r.walk
    view.heat_window, view.detail = r.heat_window, r.detail
    left = column(pair("Strategy", view.strategy, "Data", view.data), view.params, view.form,
                  pair(None, view.run_button, None, view.cancel_button), view.progress, view.status)
    split = QtWidgets.QSplitter()
    split.addWidget(left)
    split.addWidget(view.results)
    split.setStretchFactor(1, 2)
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(view.close)  # a running sweep goes on: reopening the view shows it
    view.close_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Close)
    lay = QtWidgets.QVBoxLayout(view)
    lay.addWidget(split)
    lay.addWidget(buttons)
    QtGui.QShortcut(QtGui.QKeySequence("Escape"), view, view.close)
    QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Q"), view, view.quitRequested.emit)
