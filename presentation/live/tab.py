"""The Live tab: start and stop paper sessions, watch their chart bar by bar, positions, orders, PnL, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError
from app.live.events import OrderFilled, SessionBar, SessionFlattened
from app.live.session import SessionSpec
from domain.market import Candle, SeriesKey, Timeframe, valid_codes
from domain.strategy import parse_strategy
from presentation.chart.panes import ChartTheme
from presentation.chart.widget import ChartWidget, Marker
from presentation.live.models import FillsModel, OrdersModel, SessionsModel
from presentation.live.monitor import MonitorPanel
from presentation.services import EXCHANGE_LABELS, EXCHANGES
from presentation.widgets.market_box import MarketBox

log = logging.getLogger("quantdesk.live")


def chart_marker(m: Any) -> Marker:
    """A session fill marker as the chart's entry/exit mark."""
    if m.action == "open":
        kind = "long_entry" if m.side > 0 else "short_entry"
    else:
        kind = "long_exit" if m.side < 0 else "short_exit"
    return Marker(m.ts, m.price, kind, f"{m.reason} @ {m.price:,.8g}")


class LiveTab(QtWidgets.QWidget):
    """`stack_provider()` returns the live stack (engine + logs); by default the services' own, built on first use."""

    sessionStarted = QtCore.pyqtSignal(str)
    failed = QtCore.pyqtSignal(str)

    def __init__(self, services: Any, stack_provider: Callable[[], Any] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._provider = stack_provider or (lambda: services.live)
        self.stack: Any = None
        self.task: asyncio.Task[Any] | None = None
        self.selected: str | None = None
        self._new_bars: dict[str, list[Candle]] = {}
        self._dirty = False
        self.flatten_on_exit = True
        self._build()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(250)  # live updates are batched: one model refresh per tick
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # ---- layout -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.strategy = QtWidgets.QComboBox()
        # a strategy's whole name, not its first ten letters
        self.strategy.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.strategy.setMinimumContentsLength(12)
        self.strategy.setMaximumWidth(280)  # a very long name is cut here (its list shows it whole), the row is not
        self.exchange = QtWidgets.QComboBox()
        for ex in EXCHANGES:
            self.exchange.addItem(EXCHANGE_LABELS.get(ex, ex), ex)
        self.market = MarketBox(self.services)  # the exchange's markets; Binance's are BTCUSDT, not KRW-BTC
        self.market.setMinimumContentsLength(10)
        self.market.set_exchange(EXCHANGES[0])
        self.exchange.currentIndexChanged.connect(lambda _: self.market.set_exchange(self.exchange.currentData()))
        self.timeframe = QtWidgets.QComboBox()
        self.timeframe.addItems(valid_codes())
        self.cash = QtWidgets.QDoubleSpinBox(decimals=2, maximum=1e12, value=10_000.0, singleStep=1000.0)
        self.cash.setMinimumWidth(110)  # its own hint makes room for 1e12 (186 px) and widened the whole window
        self.start_button = QtWidgets.QPushButton("Start session")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.flatten_button = QtWidgets.QPushButton("Flatten")
        self.pnl = QtWidgets.QLabel("No session")
        self.pnl.setObjectName("livePnl")
        form = QtWidgets.QHBoxLayout()
        for label, w in (("Strategy", self.strategy), ("Exchange", self.exchange), ("Market", self.market),
                         ("Timeframe", self.timeframe), ("Cash", self.cash)):
            form.addWidget(QtWidgets.QLabel(label))
            form.addWidget(w)
        form.addWidget(self.start_button)
        form.addStretch(1)
        # Stop and Flatten act on the selected session: they sit on its status line
        self.pnl.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.stop_button.setToolTip("Stop the selected session, closing its position at market")
        self.flatten_button.setToolTip("Close the selected session's position at market; the session keeps running")
        status = QtWidgets.QHBoxLayout()
        status.addWidget(self.pnl, 1)
        status.addWidget(self.stop_button)
        status.addWidget(self.flatten_button)
        self.sessions = SessionsModel(self)
        self.fills = FillsModel(self)
        self.orders = OrdersModel(self)
        self.session_view = self._view(self.sessions)
        # a handful of rows whose figures change every tick: keep every column fitted to its text
        head = self.session_view.horizontalHeader()
        head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)  # the name gives way, not figures
        self.chart = ChartWidget()
        self.monitor = MonitorPanel()
        lower = QtWidgets.QTabWidget()
        self.fills_view = self._view(self.fills)
        lower.addTab(self.fills_view, "Fills")
        lower.addTab(self._view(self.orders), "Open orders")
        # The sessions table spans the whole width (ten columns of figures fit without scrolling sideways);
        # under it the chart and its fills on the left, the Monitor panel on the right.
        left = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        left.addWidget(self.chart)
        left.addWidget(lower)
        left.setStretchFactor(0, 3)
        left.setSizes([480, 220])  # scaled to the real height: the chart gets most of it
        lower_body = QtWidgets.QSplitter()
        lower_body.addWidget(left)
        lower_body.addWidget(self.monitor)
        lower_body.setStretchFactor(0, 3)
        lower_body.setStretchFactor(1, 1)
        body = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        body.addWidget(self.session_view)
        body.addWidget(lower_body)
        body.setStretchFactor(1, 1)
        body.setSizes([130, 700])
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(status)
        lay.addWidget(body, 1)
        self.start_button.clicked.connect(self.on_start)
        self.stop_button.clicked.connect(lambda: self._spawn(self.stop_selected()))
        self.flatten_button.clicked.connect(lambda: self._spawn(self.flatten_selected()))
        self.session_view.selectionModel().currentRowChanged.connect(self._on_row)

    @staticmethod
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
        service = getattr(self.services, "strategies", None)
        self.strategy.clear()
        if service is None:
            return
        for item in service.page(limit=500).items:
            self.strategy.addItem(item.name, item.id)

    def showEvent(self, event: Any) -> None:
        if self.strategy.count() == 0:
            self.load_strategies()
        super().showEvent(event)

    # ---- engine -----------------------------------------------------------------------------------------
    @property
    def engine(self) -> Any:
        return self.stack.engine if self.stack is not None else None

    async def ensure_engine(self) -> Any:
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
        if stack is None or not stack.sessions_to_resume():
            return

        async def resume() -> None:
            if after is not None:
                await asyncio.wait([after])
            await self.ensure_engine()
            self._dirty = True

        self._spawn(resume())

    def spec_from_form(self) -> SessionSpec:
        service = getattr(self.services, "strategies", None)
        sid = self.strategy.currentData()
        if service is None or sid is None:
            raise UserError("choose a saved strategy first")
        strategy = parse_strategy(service.get(int(sid)).definition)
        tf = Timeframe.parse(self.timeframe.currentText())
        market = self.market.symbol().upper()
        if not market:
            raise UserError("enter a market, e.g. KRW-BTC")
        name = f"{strategy.name} · {market} · {tf.code}"
        return SessionSpec(name, strategy, self.exchange.currentData(), market, tf, cash=self.cash.value(),
                           commission=0.0005, strategy_id=int(sid))

    def on_start(self) -> None:
        try:
            spec = self.spec_from_form()
        except UserError as err:
            self._report(str(err))
            return
        self._spawn(self.start_session(spec))

    async def start_session(self, spec: SessionSpec) -> None:
        engine = await self.ensure_engine()
        session = await engine.add_session(spec)
        self.selected = session.id
        self._dirty = True
        self.refresh()
        self.sessionStarted.emit(session.id)

    async def stop_selected(self) -> None:
        if self.engine is not None and self.selected in self.engine.sessions:
            await self.engine.stop_session(self.selected, flatten=True)
            self._dirty = True

    async def flatten_selected(self) -> None:
        if self.engine is not None and self.selected in self.engine.sessions:
            await self.engine.flatten(self.selected, "flattened from the Live tab")
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
        elif isinstance(event, OrderFilled | SessionFlattened):
            self._dirty = True

    def refresh(self) -> None:
        engine = self.engine
        if engine is None:
            return
        self.sessions.set_rows([s.summary() for s in engine.sessions.values()])
        if self.selected is None and self.sessions.rows:
            self.selected = self.sessions.row_key(0)
        session = engine.sessions.get(self.selected) if self.selected else None
        bars, self._new_bars = self._new_bars, {}
        if session is not None:
            self._show_session(session, bars.get(session.id, []))
        self.monitor.show_snapshot(engine.metrics.snapshot())
        self._dirty = False

    def _show_session(self, session: Any, new_bars: list[Candle]) -> None:
        if getattr(self.chart, "title", None) != session.id:
            self.chart.set_series(session.evaluator.series(), title=session.id)  # fresh arrays
        else:
            for bar in new_bars:
                self._apply(bar)
        market = self.engine.markets.get((session.spec.exchange, session.spec.symbol))
        forming = market.bars.forming(session.spec.timeframe) if market is not None else None
        if forming is not None and forming.ts > session.last_bar_ts:
            self._apply(forming)
        if self._dirty or new_bars:
            self.chart.set_markers([chart_marker(m) for m in session.markers[-500:]])
            self.fills.set_rows([_fill_row(f) for f in reversed(session.fills[-500:])])
            self.orders.set_rows([o.to_dict() for o in session.broker.pending])
        s = session.summary()
        self.pnl.setText(f"{session.id}: {s['status']}  equity {s['equity']:,.2f}  ({s['return_pct']:+.2f} %)  "
                         f"realized {s['realized_pnl']:+,.2f}  unrealized {s['unrealized_pnl']:+,.2f}"
                         + (f"  — {session.error}" if session.error else ""))

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
        return self.engine.open_positions() if self.engine is not None else 0

    def confirm_close(self) -> bool:
        """Ask what to do with open paper positions; False = the user cancelled closing."""
        n = self.open_positions()
        if n == 0:
            return True
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Open paper positions",
                                    f"{n} paper position(s) are open.", parent=self)
        box.setInformativeText("Flatten them now at market, or keep them to resume at the next start?")
        flatten = box.addButton("Flatten and quit", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep and quit", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked not in (flatten, keep):
            return False
        self.flatten_on_exit = clicked is flatten
        return True

    async def shutdown(self) -> None:
        """Stop streams, flatten (unless the user chose to keep positions) and close the audit log."""
        self.timer.stop()
        if self.stack is not None:
            if self.engine.bus.running:
                await self.engine.shutdown(flatten=self.flatten_on_exit)
            self.stack.close_logs()


def _fill_row(f: Any) -> dict[str, Any]:
    return {"order_id": f.order_id, "ts": f.ts, "side": f.side, "quantity": f.quantity, "price": f.price,
            "commission": f.commission, "reason": f.reason, "realized_pnl": f.realized_pnl}
