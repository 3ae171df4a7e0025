"""Monitor panel: tick-to-signal latency, GC pauses, loop lag, queue depths and drops, stream health."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtWidgets

_LATENCIES = (("tick_to_signal", "Tick → signal"), ("bar_to_signal", "Bar close → signal"),
              ("gc_pause", "GC pause"), ("loop_lag", "Event-loop lag"))


class MonitorPanel(QtWidgets.QWidget):
    """Shows one metrics snapshot (app.metrics.LiveMetrics.snapshot()); call `show_snapshot` from a timer."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveMonitor")
        self.setMinimumWidth(380)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.latency = self._table(("Measure", "n", "p50 µs", "p99 µs", "max µs"))
        self.queues = self._table(("Queue", "Depth", "High", "Published", "Dropped", "Waits"))
        self.feeds = self._table(("Stream", "Connected", "Messages", "Rejected", "Reconnects", "Backfilled"))
        for title, table in (("Latency", self.latency), ("Queues", self.queues), ("Streams", self.feeds)):
            box = QtWidgets.QGroupBox(title)
            inner = QtWidgets.QVBoxLayout(box)
            inner.addWidget(table)
            lay.addWidget(box)

    @staticmethod
    def _table(headers: tuple[str, ...]) -> QtWidgets.QTableWidget:
        t = QtWidgets.QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(list(headers))
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.horizontalHeader().setStretchLastSection(True)
        return t

    @staticmethod
    def _fill(table: QtWidgets.QTableWidget, rows: list[list[str]]) -> None:
        longer = table.rowCount() != len(rows)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = table.item(r, c)
                if item is None:
                    table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
                    longer = True
                elif item.text() != text:
                    longer = longer or len(text) > len(item.text())
                    item.setText(text)
        if longer:  # keep every figure readable without a scrollbar; never narrows, so columns do not jitter
            table.resizeColumnsToContents()

    def show_snapshot(self, snap: dict[str, Any]) -> None:
        lat = [[label, f"{snap[k]['count']:,}", f"{snap[k]['p50_us']:,.1f}", f"{snap[k]['p99_us']:,.1f}",
                f"{snap[k]['max_us']:,.1f}"] for k, label in _LATENCIES]
        self._fill(self.latency, lat)
        self._fill(self.queues, [[name, str(q["depth"]), str(q["high_water"]), f"{q['published']:,}",
                                  f"{q['dropped']:,}", str(q["waits"])] for name, q in snap["queues"].items()])
        self._fill(self.feeds, [[name, "yes" if f["connected"] else "no", f"{f['messages']:,}", f"{f['rejected']:,}",
                                 str(f["reconnects"]), str(f["backfilled_bars"])] for name, f in snap["feeds"].items()])
