"""Status bar: database path, exchange connection state, event-loop lag and memory, refreshed each second."""

from __future__ import annotations

import time

import psutil
from PyQt6 import QtCore, QtWidgets

TICK_MS = 250


class LagMeter(QtCore.QObject):
    """Measures how late a 250 ms timer fires: the time the (shared Qt + asyncio) loop was busy elsewhere."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worst_ms = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start(TICK_MS)

    def _tick(self) -> None:
        now = time.perf_counter()
        late = (now - self._last) * 1000 - TICK_MS
        self._last = now
        self.ticks += 1
        self.worst_ms = max(self.worst_ms, late)

    def take(self) -> float:
        """Worst lateness since the previous call, in ms."""
        worst, self.worst_ms = max(0.0, self.worst_ms), 0.0
        return worst


class StatusBar(QtWidgets.QStatusBar):
    """Permanent fields on the right; transient messages on the left."""

    def __init__(self, db_path: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = QtWidgets.QLabel(f"DB: {db_path}")
        self.db.setObjectName("statusDb")
        self.db.setToolTip(str(db_path))
        self.db.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.exchange = QtWidgets.QLabel("Exchange: idle")
        self.lag = QtWidgets.QLabel("Loop lag: –")
        self.memory = QtWidgets.QLabel("Memory: –")
        for w in (self.db, self.exchange, self.lag, self.memory):
            self.addPermanentWidget(w)
        self.meter = LagMeter(self)
        self._process = psutil.Process()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(1000)
        self.refresh()

    def set_exchange_state(self, text: str, ok: bool | None = None) -> None:
        """ok: True connected, False failed, None idle."""
        self.exchange.setText(f"Exchange: {text}")
        self.exchange.setProperty("state", {True: "ok", False: "error", None: "idle"}[ok])
        style = self.exchange.style()
        if style is not None:
            style.polish(self.exchange)

    def refresh(self) -> None:
        self.lag.setText(f"Loop lag: {self.meter.take():.0f} ms")
        self.memory.setText(f"Memory: {self._process.memory_info().rss / 2**20:,.0f} MB")
