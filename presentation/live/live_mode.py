"""The Live tab's live mode: paper or live per session, arming, risk limits, leverage, and the live session panel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.live.risk import RiskLimits

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab

RED = "#d32f2f"
BANNER_STYLE = f"background: {RED}; color: white; font-weight: bold; padding: 4px 8px; border-radius: 3px;"
PAPER, LIVE = "paper", "live"
# (field, label, tooltip, whole number)
LIMITS = (("max_order_notional", "Max order", "refuse (and halt on) a larger order, in the quote currency", False),
          ("max_position_notional", "Max position", "refuse (and halt on) a larger position, in the quote currency",
           False),
          ("daily_loss_limit", "Daily loss", "halt once the UTC day's loss reaches this amount", False),
          ("max_open_orders", "Open orders", "halt rather than have more entry orders open", True),
          ("max_orders_per_minute", "Orders/min", "halt when more orders would be sent within a minute", True),
          ("max_leverage", "Leverage cap", "refuse a session or an order above this leverage", True))


def _limit_box(whole: bool, tip: str) -> QtWidgets.QAbstractSpinBox:
    box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
    if whole:
        box = QtWidgets.QSpinBox(maximum=1_000_000)
    else:
        box = QtWidgets.QDoubleSpinBox(decimals=2, maximum=1e12, singleStep=100.0)
        box.setGroupSeparatorShown(True)
    box.setSpecialValueText("off")  # 0 = no limit: the RiskEngine's default for every limit
    box.setToolTip(tip + " (off = no limit)")
    box.setFixedWidth(60 if whole else 110)  # the range's own hint (1e12) would widen the whole window
    return box


def add_live_rows(tab: LiveTab, form: QtWidgets.QVBoxLayout) -> None:
    """Mode, arming, leverage and margin on one row; the risk limits on the next."""
    tab.mode = QtWidgets.QComboBox()
    tab.mode.addItem("Paper", PAPER)
    tab.mode.addItem("Live (real orders)", LIVE)
    tab.mode.setToolTip("Paper fills on the live feed; Live sends real orders to the exchange with your keys")
    tab.confirm = QtWidgets.QLineEdit()
    tab.confirm.setPlaceholderText("type the market to arm")
    tab.confirm.setToolTip("Live mode is armed per session: type the market symbol exactly (e.g. BTCUSDT)")
    tab.leverage = QtWidgets.QSpinBox(minimum=1, maximum=125, value=1)
    tab.leverage.setToolTip("Binance USDT-M futures: the leverage set at the exchange before trading")
    tab.margin = QtWidgets.QComboBox()
    tab.margin.addItem("isolated", "isolated")
    tab.margin.addItem("cross", "cross")
    tab.margin.setToolTip("Binance USDT-M futures: the margin mode set at the exchange before trading")
    tab.arming = QtWidgets.QLabel()
    tab.arming.setObjectName("liveArming")
    tab.arming.setWordWrap(True)
    tab.arming.setStyleSheet(f"color: {RED};")
    tab.arming.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
    row = QtWidgets.QHBoxLayout()
    for label, w in (("Mode", tab.mode), ("Confirm", tab.confirm), ("Leverage", tab.leverage),
                     ("Margin", tab.margin)):
        row.addWidget(QtWidgets.QLabel(label))
        row.addWidget(w)
    row.addWidget(tab.arming, 1)
    form.addLayout(row)
    tab.limits = {}
    grid = QtWidgets.QGridLayout()  # money limits on one line, counts on the next: the page stays narrow
    grid.addWidget(QtWidgets.QLabel("Risk limits"), 0, 0, 2, 1)
    for i, (name, label, tip, whole) in enumerate(LIMITS):
        box = tab.limits[name] = _limit_box(whole, tip)
        grid.addWidget(QtWidgets.QLabel(label), i // 3, 1 + 2 * (i % 3))
        grid.addWidget(box, i // 3, 2 + 2 * (i % 3))
    grid.setColumnStretch(7, 1)
    form.addLayout(grid)
    for signal in (tab.mode.currentIndexChanged, tab.exchange.currentIndexChanged, tab.confirm.textChanged,
                   *(box.valueChanged for box in tab.limits.values())):  # type: ignore[attr-defined]
        signal.connect(lambda *_: update_arming(tab))
    tab.market.currentTextChanged.connect(lambda *_: update_arming(tab))
    update_arming(tab)


def limits_from_form(tab: LiveTab) -> RiskLimits:
    values: dict[str, Any] = {}
    for name, _label, _tip, whole in LIMITS:
        v = tab.limits[name].value()  # type: ignore[attr-defined]
        values[name] = (int(v) if whole else float(v)) if v else None
    return RiskLimits(**values)


def is_live(tab: LiveTab) -> bool:
    return bool(tab.mode.currentData() == LIVE)


def update_arming(tab: LiveTab) -> str:
    """Say inline why Start would be refused in live mode ("" = armed, or paper); leverage for futures only."""
    futures = tab.exchange.currentData() == "binance"
    tab.leverage.setEnabled(futures)
    tab.margin.setEnabled(futures)
    live = is_live(tab)
    tab.confirm.setEnabled(live)
    for w in (tab.cash, tab.fee):  # a live session trades the account's balance and pays the exchange's fees
        w.setEnabled(not live)
    problem = ""
    if live:
        try:
            problem = tab.services.trading.arming(tab.exchange.currentData(), tab.market.symbol().upper(),
                                                  tab.confirm.text().strip())
        except Exception as err:  # no usable keyring: say how to configure one
            problem = str(err)
    tab.arming.setText(problem)
    tab.start_button.setText("Start LIVE session" if live else "Start session")
    tab.start_button.setStyleSheet(BANNER_STYLE if live and not problem else "")
    return problem


def _time(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S UTC") if ms else "not yet"


class LivePanel(QtWidgets.QWidget):
    """The selected live session: a red LIVE banner, its stops, reconciliation, halt, and the kill switch."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = QtWidgets.QLabel()
        self.banner.setObjectName("liveBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.stops = QtWidgets.QLabel()
        self.reconciled = QtWidgets.QLabel()
        self.reconciled.setWordWrap(True)
        self.kill_result = QtWidgets.QLabel()
        self.kill_result.setWordWrap(True)
        self.reset_button = QtWidgets.QPushButton("Reset halt")
        self.reset_button.setToolTip("Lift the halt after reading why: balances are taken afresh and the session "
                                     "reconciles again at once")
        self.kill_button = QtWidgets.QPushButton("Kill switch")
        self.kill_button.setStyleSheet(BANNER_STYLE)
        self.kill_button.setToolTip("Cancel every open order of this session, flatten its position at market, and "
                                    "confirm both from the exchange")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.banner, 1)
        top.addWidget(self.reset_button)
        top.addWidget(self.kill_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        for w in (self.stops, self.reconciled, self.kill_result):
            lay.addWidget(w)
        self.setVisible(False)

    def show_row(self, row: dict[str, Any] | None) -> None:
        """Show a live session's row (app.live.trading.desk.LiveDesk.row), or hide for a paper session."""
        self.setVisible(row is not None)
        if row is None:
            return
        status = row["status"].split("·")[-1].strip()
        self.banner.setText(f"LIVE — REAL ORDERS on {row['exchange'].upper()} {row['market']}  ·  "
                            f"{row['session_id']}  ·  {status.upper()}")
        where = "held by the exchange" if row["stop_held_by"] == "exchange" else "LOCAL guardian (not at the exchange)"
        level = row["stop_price"]
        self.stops.setText(f"Position {row['position']:.8g}   ·   protective stop "
                           + (f"{level:,.10g} {where}" + (f" ({row['stop_order']})" if row["stop_order"] else "")
                              if level else f"none ({where} when one is set)"))
        self.reconciled.setText(self._reconciliation(row))
        halted = bool(row["halted"]) and status != "killed"
        self.reset_button.setVisible(halted)
        self.kill_button.setEnabled(status != "killed")
        kill = row["kill"]
        self.kill_result.setVisible(kill is not None)
        if kill is not None:
            self.kill_result.setText(
                f"Kill switch: cancelled {kill['cancelled']} order(s); the exchange shows {kill['open_orders']} open "
                f"order(s) and a position of {kill['position']:g}"
                + (" — confirmed clean" if kill["clean"] else " — NOT CLEAN: " + "; ".join(kill["problems"])))

    @staticmethod
    def _reconciliation(row: dict[str, Any]) -> str:
        at = _time(row["reconciled_ms"])
        balance = (f"; {row['currency']} balance {row['balance']:,.2f}" if row.get("balance") is not None
                   and row["balance"] == row["balance"] else "")
        if row["halted"]:
            report = "; ".join(row["differences"]) or row["halted"]
            return f"HALTED (no new entries, stops kept) — reconciled {at}: {report}"
        ok = "OK" if row["reconciled_ok"] else "pending"
        return f"Reconciliation {ok}, last at {at}{balance}" + (f"  —  {row['error']}" if row["error"] else "")


def ask_kill(parent: QtWidgets.QWidget, session_id: str, market: str, on_yes: Callable[[], None]) -> None:
    """Ask before the kill switch (non-blocking: the loop keeps running while the question is open)."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Kill switch",
                                f"Kill live session {session_id} on {market}?", parent=parent)
    box.setObjectName("killConfirm")
    box.setInformativeText("Every open order of the session is cancelled and its position closed at market.")
    yes = box.addButton("Kill: cancel and flatten", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda b: on_yes() if b is yes else None)
    box.open()


def mark_tab(tab: QtWidgets.QWidget, live: int) -> None:
    """The window's Live tab says LIVE in red while real-order sessions run."""
    parent = tab.parentWidget()
    while parent is not None and not isinstance(parent, QtWidgets.QTabWidget):
        parent = parent.parentWidget()
    if parent is None:
        return
    i = parent.indexOf(tab)
    if i < 0:
        return
    base = parent.tabText(i).split(" ●")[0]
    parent.setTabText(i, f"{base} ● LIVE ({live})" if live else base)
    parent.setTabIcon(i, _red_dot() if live else QtGui.QIcon())  # an icon keeps its colour under any style sheet


def _red_dot() -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(12, 12)
    pixmap.fill(QtGui.QColor(0, 0, 0, 0))
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setBrush(QtGui.QColor(RED))
    painter.setPen(QtGui.QColor(RED))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QtGui.QIcon(pixmap)
