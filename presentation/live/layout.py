"""The Live tab's widgets and layout: the session form, the sessions table, the chart, fills and the Monitor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from domain.costs import default_cash, default_costs, fraction_to_pct, quote_currency
from domain.market import valid_codes
from presentation.chart.widget import ChartWidget
from presentation.live.live_mode import LivePanel, add_live_rows
from presentation.live.models import FillsModel, OrdersModel, SessionsModel
from presentation.live.monitor import MonitorPanel
from presentation.services import EXCHANGE_LABELS, EXCHANGES
from presentation.widgets.market_box import MarketBox

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab


def setup_ui(tab: LiveTab) -> None:
    """Create the tab's widgets and lay them out (as Qt Designer's setupUi would)."""
    tab.strategy = QtWidgets.QComboBox()
    # a strategy's whole name, not its first ten letters
    tab.strategy.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
    tab.strategy.setMinimumContentsLength(12)
    tab.strategy.setMaximumWidth(280)  # a very long name is cut here (its list shows it whole), the row is not
    tab.exchange = QtWidgets.QComboBox()
    for ex in EXCHANGES:
        tab.exchange.addItem(EXCHANGE_LABELS.get(ex, ex), ex)
    tab.market = MarketBox(tab.services)  # the exchange's markets; Binance's are BTCUSDT, not KRW-BTC
    tab.market.setMinimumContentsLength(10)
    tab.market.set_exchange(EXCHANGES[0])
    tab.exchange.currentIndexChanged.connect(lambda _: tab.market.set_exchange(tab.exchange.currentData()))
    tab.exchange.currentIndexChanged.connect(lambda _: tab.apply_cost_defaults())
    tab.timeframe = QtWidgets.QComboBox()
    tab.timeframe.addItems(valid_codes())
    tab.cash = QtWidgets.QDoubleSpinBox(decimals=2, maximum=1e12, value=10_000.0, singleStep=1000.0)
    tab.cash.setGroupSeparatorShown(True)  # 10,000,000.00, not 10000000.00
    tab.cash.setMinimumWidth(110)  # its own hint makes room for 1e12 (186 px) and widened the whole window
    tab.fee = QtWidgets.QDoubleSpinBox(decimals=3, maximum=10.0, singleStep=0.01, suffix=" %")
    tab.fee.setToolTip("Fee per fill, in percent of traded value (the exchange's taker fee by default)")
    tab.start_button = QtWidgets.QPushButton("Start session")
    tab.stop_button = QtWidgets.QPushButton("Stop")
    tab.flatten_button = QtWidgets.QPushButton("Flatten")
    tab.remove_button = QtWidgets.QPushButton("Remove")
    tab.reset_paper_button = QtWidgets.QPushButton("Reset halt")
    tab.reset_paper_button.setToolTip("A risk limit halted this paper session (no new entries): let it enter again")
    tab.reset_paper_button.setVisible(False)
    for button in (tab.stop_button, tab.flatten_button, tab.remove_button):
        button.setEnabled(False)  # they act on the selected session: none yet
    tab.remove_button.setToolTip("Remove the selected stopped session from this list (its history stays stored)")
    tab.pnl = QtWidgets.QLabel("No session")
    tab.pnl.setObjectName("livePnl")
    # what to trade on one row, the account it starts with on the next: both fit a 1440-px window
    form = QtWidgets.QVBoxLayout()
    for fields, button in (((("Strategy", tab.strategy), ("Exchange", tab.exchange), ("Market", tab.market),
                             ("Timeframe", tab.timeframe)), None),
                           ((("Cash", tab.cash), ("Fee", tab.fee)), tab.start_button)):
        row = QtWidgets.QHBoxLayout()
        for label, w in fields:
            caption = QtWidgets.QLabel(label)
            if w is tab.cash:
                tab.cash_label = caption  # says the quote currency once a market is chosen
            row.addWidget(caption)
            row.addWidget(w)
        if button is not None:
            row.addWidget(button)
        row.addStretch(1)
        form.addLayout(row)
    # Stop and Flatten act on the selected session: they sit on its status line
    tab.pnl.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
    tab.stop_button.setToolTip("Stop the selected session, closing its position at market")
    tab.flatten_button.setToolTip("Close the selected session's position at market; the session keeps running")
    status = QtWidgets.QHBoxLayout()
    status.addWidget(tab.pnl, 1)
    status.addWidget(tab.stop_button)
    status.addWidget(tab.flatten_button)
    status.addWidget(tab.remove_button)
    status.addWidget(tab.reset_paper_button)
    tab.sessions = SessionsModel(tab)
    tab.fills = FillsModel(tab)
    tab.orders = OrdersModel(tab)
    tab.session_view = _view(tab.sessions)
    # a handful of rows whose figures change every tick: keep every column fitted to its text
    head = tab.session_view.horizontalHeader()
    head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    head.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)  # the name gives way, not figures
    tab.chart = ChartWidget()
    tab.monitor = MonitorPanel()
    lower = QtWidgets.QTabWidget()
    tab.fills_view = _view(tab.fills)
    orders_view = _view(tab.orders)
    # every column in view beside the Monitor: figures fitted to their text (an equal share clipped KRW prices
    # and quantities), the words column takes what is left
    fills_head = tab.fills_view.horizontalHeader()
    fills_head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    fills_head.setSectionResizeMode(5, QtWidgets.QHeaderView.ResizeMode.Stretch)  # Reason
    orders_view.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
    orders_view.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    lower.addTab(tab.fills_view, "Fills")
    lower.addTab(orders_view, "Open orders")
    # The sessions table spans the whole width (ten columns of figures fit without scrolling sideways);
    # under it the chart and its fills on the left, the Monitor panel on the right.
    left = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    left.addWidget(tab.chart)
    left.addWidget(lower)
    left.setStretchFactor(0, 1)
    left.setStretchFactor(1, 0)
    left.setSizes([480, 140])  # the fills keep about four rows; the chart gets the rest of the height
    lower_body = QtWidgets.QSplitter()
    lower_body.addWidget(left)
    # the Monitor scrolls inside its column: its tables' full height no longer sets the page's minimum, which
    # squeezed the sessions table to a row and a half at 1440 x 900
    lower_body.addWidget(_VerticalScroll(tab.monitor))
    lower_body.setStretchFactor(0, 3)
    lower_body.setStretchFactor(1, 1)
    body = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    body.addWidget(tab.session_view)
    body.addWidget(lower_body)
    body.setStretchFactor(1, 1)
    three_rows = (tab.session_view.horizontalHeader().sizeHint().height()
                  + 3 * tab.session_view.verticalHeader().defaultSectionSize() + 2 * tab.session_view.frameWidth())
    tab.session_view.setMinimumHeight(three_rows)  # three sessions in view without scrolling
    body.setSizes([three_rows, 700])
    add_live_rows(tab, form)
    tab.live_panel = LivePanel()
    lay = QtWidgets.QVBoxLayout(tab)
    lay.addLayout(form)
    lay.addLayout(status)
    lay.addWidget(tab.live_panel)
    lay.addWidget(body, 1)
    tab.start_button.clicked.connect(tab.on_start)
    tab.stop_button.clicked.connect(lambda: tab._spawn(tab.stop_selected()))
    tab.flatten_button.clicked.connect(lambda: tab._spawn(tab.flatten_selected()))
    tab.remove_button.clicked.connect(tab.remove_selected)
    tab.session_view.selectionModel().currentRowChanged.connect(tab._on_row)
    tab.reset_paper_button.clicked.connect(tab.reset_paper)
    tab.live_panel.kill_button.clicked.connect(tab.on_kill)
    tab.live_panel.reset_button.clicked.connect(lambda: tab._spawn(tab.reset_live()))

class _VerticalScroll(QtWidgets.QScrollArea):
    """Scrolls `widget` up and down only, asking for the width the widget asks for (a plain scroll area
    would let a splitter squeeze it and clip the Monitor's figures)."""

    def __init__(self, widget: QtWidgets.QWidget) -> None:
        super().__init__()
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if event is not None and event.type() == QtCore.QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the Monitor's tables widened: ask the splitter again
        return super().eventFilter(watched, event)

    def _width(self, inner: int) -> int:
        return inner + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()

    def minimumSizeHint(self) -> QtCore.QSize:
        inner = self.widget()
        width = inner.minimumSizeHint().width() if inner is not None else 0
        return QtCore.QSize(self._width(width), super().minimumSizeHint().height())

    def sizeHint(self) -> QtCore.QSize:
        inner = self.widget()
        width = inner.sizeHint().width() if inner is not None else 0
        return QtCore.QSize(self._width(width), super().sizeHint().height())


def _view(model: QtCore.QAbstractItemModel) -> QtWidgets.QTableView:
    v = QtWidgets.QTableView()
    v.setModel(model)
    v.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    v.verticalHeader().setVisible(False)
    # no stretched last column: it never shrinks below 100 px, which next to the Monitor scrolled the
    # fills' figures sideways
    v.horizontalHeader().setStretchLastSection(False)
    model.modelReset.connect(v.resizeColumnsToContents)  # rows came or went: fit the columns once
    return v


def ask_flatten_or_keep(parent: QtWidgets.QWidget, open_positions: int) -> bool | None:
    """On quit with open paper positions: True = flatten them, False = keep them to resume, None = cancel."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Open paper positions",
                                f"{open_positions} paper position(s) are open.", parent=parent)
    box.setInformativeText("Flatten them now at market, or keep them to resume at the next start?")
    flatten = box.addButton("Flatten and quit", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("Keep and quit", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return None if clicked not in (flatten, keep) else clicked is flatten


def cost_defaults_into(tab: LiveTab) -> None:
    """Set the form's fee to the exchange's taker fee and its cash to a default in the quote currency."""
    exchange = tab.exchange.currentData()
    costs = default_costs(exchange)
    if costs is not None:
        tab.fee.setValue(fraction_to_pct(costs.fee()))
    quote = quote_currency(exchange, tab.market.symbol() or "")
    cash = default_cash(quote)
    if cash is not None:
        tab.cash.setValue(cash)
    tab.cash_label.setText(f"Cash ({quote})" if quote else "Cash")
