"""Monitor panel: tick-to-signal latency, GC pauses, loop lag, queue depths and drops, stream health."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtCore, QtWidgets

_LATENCIES = (("tick_to_signal", "Tick→signal", "a trade arriving to the signal it decides"),
              ("bar_to_signal", "Bar→signal", "a bar closing to the signal it decides"),
              ("gc_pause", "GC pause", "time the garbage collector stopped the loop"),
              ("loop_lag", "Loop lag", "how late the event loop ran a timer"))

_RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter


class MonitorPanel(QtWidgets.QWidget):
    """Shows one metrics snapshot (app.live.metrics.LiveMetrics.snapshot()); call `show_snapshot` from a timer."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveMonitor")
        self._tips_set = False
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.latency = self._table(("µs", "n", "p50", "p99", "max"),
                                   ("microseconds", "samples", "median", "99th percentile", "largest"))
        self.queues = self._table(("Queue", "Depth", "High", "Sent", "Dropped", "Waits"),
                                  ("", "events waiting now", "most events ever waiting", "events published",
                                   "events dropped (market data only: drop-oldest)",
                                   "times a producer waited for room (back-pressure)"))
        self.feeds = self._table(("Stream", "Up", "Msgs", "Bad", "Reconn", "Backfill"),
                                 ("", "connected now", "messages received", "malformed messages dropped",
                                  "reconnects after a drop or stall", "bars fetched over REST after reconnects"))
        boxes = (("Latency", self.latency, 0), ("Queues", self.queues, 0), ("Streams", self.feeds, 1))
        for title, table, stretch in boxes:
            box = QtWidgets.QGroupBox(title)
            inner = QtWidgets.QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)  # the box's own padding is enough: the rows get the height
            inner.addWidget(table)
            lay.addWidget(box, stretch)

    @staticmethod
    def _table(headers: tuple[str, ...], tips: tuple[str, ...] = ()) -> QtWidgets.QTableWidget:
        t = QtWidgets.QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(list(headers))
        for c, tip in enumerate(tips):
            if tip:
                t.horizontalHeaderItem(c).setToolTip(tip)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        # a few rows of short figures: every column fits its text as it changes, never cut or stretched
        head = t.horizontalHeader()
        head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        # before any figure arrives the headers alone set the width: no cut titles, no sideways scrollbar
        t.setMinimumWidth(sum(head.sectionSizeHint(c) for c in range(len(headers))) + 2 * t.frameWidth()
                          + t.verticalScrollBar().sizeHint().width())
        t.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return t

    def _fill(self, table: QtWidgets.QTableWidget, rows: list[list[str]]) -> None:
        longer = table.rowCount() != len(rows)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = table.item(r, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem(text)
                    if c > 0:  # figures line up on their last digit
                        item.setTextAlignment(_RIGHT)
                    table.setItem(r, c, item)
                    longer = True
                elif item.text() != text:
                    longer = longer or len(text) > len(item.text())
                    item.setText(text)
        if longer:  # rows came or figures grew: keep the whole table visible without a scrollbar
            frame = 2 * table.frameWidth()
            bar = table.verticalScrollBar().sizeHint().width()
            head = table.horizontalHeader()
            need = sum(max(head.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in range(table.columnCount()))
            table.setMinimumWidth(need + frame + bar)
            if table is not self.feeds:  # a fixed set of rows: show them all, give the rest to the streams
                table.setFixedHeight(head.height() + table.verticalHeader().length() + frame)

    def show_snapshot(self, snap: dict[str, Any]) -> None:
        lat = [[label, f"{snap[k]['count']:,}", f"{snap[k]['p50_us']:,.1f}", f"{snap[k]['p99_us']:,.1f}",
                f"{snap[k]['max_us']:,.1f}"] for k, label, _tip in _LATENCIES]
        self._fill(self.latency, lat)
        if not self._tips_set:
            for r, (_k, _label, tip) in enumerate(_LATENCIES):
                self.latency.item(r, 0).setToolTip(tip)
            self._tips_set = True
        self._fill(self.queues, [[name, str(q["depth"]), str(q["high_water"]), f"{q['published']:,}",
                                  f"{q['dropped']:,}", str(q["waits"])] for name, q in snap["queues"].items()])
        self._fill(self.feeds, [[name, "yes" if f["connected"] else "no", f"{f['messages']:,}", f"{f['rejected']:,}",
                                 str(f["reconnects"]), str(f["backfilled_bars"])] for name, f in snap["feeds"].items()])
