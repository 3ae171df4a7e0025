"""Data tab: collect candles with progress and cancel, see coverage, import CSV, delete a range."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError
from domain.market import SeriesKey, Timeframe
from domain.market.intervals import total
from presentation.chart.tab import series_title
from presentation.data.import_box import ImportBox
from presentation.models.coverage import CoverageModel
from presentation.services import EXCHANGE_LABELS, EXCHANGES, CollectProgress, Services
from presentation.widgets.coverage_strip import CoverageStrip
from presentation.widgets.elided import ElidedLabel
from presentation.widgets.forms import date_edit, group, ms_of, primary
from presentation.widgets.market_box import MarketBox

log = logging.getLogger("quantdesk.gui")
REFRESH_S = 0.5


class DataTab(QtWidgets.QWidget):
    """Emits `changed` whenever stored data changed (collection step, import, delete)."""

    changed = QtCore.pyqtSignal()
    exchangeState = QtCore.pyqtSignal(str, object)  # exchange, True (answered) / False (failed)
    progressed = QtCore.pyqtSignal(object)  # CollectProgress
    finished = QtCore.pyqtSignal(str)  # "done", "cancelled" or "failed"
    collected = QtCore.pyqtSignal(object)  # SeriesKey whose stored bars grew
    forgotten = QtCore.pyqtSignal(object, int)  # SeriesKey, bars no longer known to have no trades

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.task: asyncio.Task[None] | None = None
        self.series_keys: dict[str, SeriesKey] = {}
        self._refreshed = 0.0
        self.coverage_model = CoverageModel(self)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self._collect_box())
        self.import_box = ImportBox(services, self)
        self.import_box.imported.connect(self._after_change)
        left.addWidget(self.import_box)
        left.addStretch(1)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(12)
        lay.addLayout(left, 1)
        lay.addWidget(self._coverage_box(), 1)
        self.progressed.connect(self._show_progress)

    # ---- collect ---------------------------------------------------------------------------------------
    def _collect_box(self) -> QtWidgets.QGroupBox:
        self.exchange = QtWidgets.QComboBox()
        for ex in EXCHANGES:
            self.exchange.addItem(EXCHANGE_LABELS[ex], ex)
        self.exchange.currentIndexChanged.connect(self._fill_markets)
        self.market = MarketBox(self.services)
        self.market.listed.connect(self.exchangeState)
        self.timeframe = QtWidgets.QComboBox()
        for tf in Timeframe:
            self.timeframe.addItem(tf.code, tf.code)
        today = datetime.now(UTC).date()
        self.start = date_edit(today - timedelta(days=3))
        self.end = date_edit(today + timedelta(days=1))
        self.collect_btn = primary(QtWidgets.QPushButton("Collect"))
        self.collect_btn.setToolTip("Fetch the missing bars of the range (Ctrl+Return)")
        self.collect_btn.clicked.connect(self.start_collect)
        self.cancel_btn = QtWidgets.QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel_collect)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        # one line, elided: progress text that wrapped made the whole form jump as it changed
        self.stats = ElidedLabel("Pick a market and a range, then Collect. Stored ranges are skipped.")
        self.stats.setObjectName("hint")
        self._fill_markets()
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.collect_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        return group("Collect candles", [("Exchange", self.exchange), ("Market", self.market),
                                         ("Timeframe", self.timeframe), ("From (UTC)", self.start),
                                         ("To (UTC, exclusive)", self.end), ("", buttons),
                                         ("", self.progress), ("", self.stats)])

    def _fill_markets(self) -> None:
        self.market.set_exchange(self.exchange.currentData())

    def selection(self) -> tuple[SeriesKey, int, int]:
        tf = Timeframe(self.timeframe.currentData())
        key = SeriesKey(self.exchange.currentData(), self.market.symbol(), tf)
        return key, ms_of(self.start), ms_of(self.end)

    def start_collect(self) -> asyncio.Task[None] | None:
        """Start collecting on the shared asyncio loop; returns the task (None if one is running)."""
        if self.task is not None and not self.task.done():
            return None
        key, start, end = self.selection()
        if not key.symbol or end <= start:
            self.stats.setText("Choose a market and a range whose end is after its start.")
            return None
        self.collect_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setValue(0)
        self.stats.setText(f"Collecting {key} …")
        self.task = asyncio.get_event_loop().create_task(self._collect(key, start, end))
        return self.task

    async def _collect(self, key: SeriesKey, start: int, end: int) -> None:
        outcome = "failed"
        try:
            summary = await self.services.collect(key, start, end, self.progressed.emit)
            outcome = "done"
            self.exchangeState.emit(key.exchange, True)
            log.info("%s: %s new bars stored in %s requests (%s retries); %s already stored, %s known empty",
                     key, f"{summary.stored:,}", summary.requests, summary.retries,
                     f"{summary.already_stored:,}", f"{summary.known_empty:,}")
        except asyncio.CancelledError:
            outcome = "cancelled"
        except UserError as err:
            self.stats.setText(f"Collection failed: {err}")
            log.error("collect %s: %s", key, err)
            self.exchangeState.emit(key.exchange, False)
        except Exception as err:  # keep the window alive; the log shows what broke
            self.stats.setText(f"Collection failed: {type(err).__name__}: {err}")
            log.exception("collect %s failed", key)
        finally:
            self.collect_btn.setEnabled(True)
            self.cancel_btn.setEnabled(False)
            self._after_change()
        self.collected.emit(key)
        if outcome == "cancelled":
            self.stats.setText(self.stats.text() + "\nCancelled — bars fetched so far are kept; Collect resumes.")
        elif outcome == "done":
            self.progress.setValue(1000)
        log.info("collection of %s %s", key, outcome)
        self.finished.emit(outcome)

    def cancel_collect(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _show_progress(self, p: CollectProgress) -> None:
        self.progress.setValue(int(1000 * p.fraction))
        eta = "–" if p.eta_s is None else str(timedelta(seconds=round(p.eta_s)))
        self.stats.setText(f"Requests {p.requests:,} of ~{p.requests_total:,}  ·  candles {p.candles:,}  ·  "
                           f"retries {p.retries:,}  ·  ETA {eta}")
        now = time.monotonic()
        if now - self._refreshed >= REFRESH_S:  # stored data grows chunk by chunk: show it, but not 10× a second
            self._refreshed = now
            self.refresh()
            self.changed.emit()

    # ---- coverage and delete ----------------------------------------------------------------------------
    def _coverage_box(self) -> QtWidgets.QGroupBox:
        self.series_pick = QtWidgets.QComboBox()
        self.series_pick.currentIndexChanged.connect(self._show_coverage)
        self.coverage_view = QtWidgets.QTableView()
        self.coverage_view.setModel(self.coverage_model)
        self.coverage_view.verticalHeader().setVisible(False)
        header = self.coverage_view.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        for col in (1, 2):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.coverage_view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.coverage_view.setAlternatingRowColors(True)
        self.coverage_view.clicked.connect(self._coverage_clicked)
        self.del_start = date_edit(datetime.now(UTC).date() - timedelta(days=1))
        self.del_end = date_edit(datetime.now(UTC).date() + timedelta(days=1))
        self.delete_btn = QtWidgets.QPushButton("Delete range…")
        self.delete_btn.setProperty("danger", True)
        self.delete_btn.clicked.connect(self.confirm_delete)
        row = QtWidgets.QHBoxLayout()
        for w in (QtWidgets.QLabel("From"), self.del_start, QtWidgets.QLabel("to"), self.del_end, self.delete_btn):
            row.addWidget(w)
        row.addStretch(1)
        self.forget_btn = QtWidgets.QPushButton("Forget known-empty ranges…")
        self.forget_btn.setToolTip("Collect skips ranges the exchange proved to have no trades; forget them so the "
                                   "next Collect asks again. Stored candles are kept.")
        self.forget_btn.clicked.connect(self.confirm_forget)
        self.forget_note = ElidedLabel("")
        self.forget_note.setObjectName("hint")
        forget_row = QtWidgets.QHBoxLayout()
        forget_row.addWidget(self.forget_btn)
        forget_row.addWidget(self.forget_note, 1)
        self.coverage_summary = QtWidgets.QLabel("")
        self.coverage_summary.setObjectName("hint")
        self.coverage_summary.setWordWrap(True)
        self.strip = CoverageStrip()
        return group("Stored data and coverage", [("Series", self.series_pick), ("", self.strip),
                                                  ("", self.coverage_summary),
                                                  ("", self.coverage_view), ("Delete", row),
                                                  ("Known empty", forget_row)])

    def refresh(self) -> None:
        """Reload the list of stored series (keeps the current one selected)."""
        current = self.series_pick.currentData()
        self.series_pick.blockSignals(True)
        self.series_pick.clear()
        self.series_keys = {}
        for s in self.services.stored():
            self.series_keys[str(s.key)] = s.key
            self.series_pick.addItem(f"{series_title(s.key)}  ({s.rows:,} bars)", str(s.key))
        i = self.series_pick.findData(current) if current is not None else 0
        self.series_pick.setCurrentIndex(max(i, 0))
        self.series_pick.blockSignals(False)
        self._show_coverage()

    def picked(self) -> SeriesKey | None:
        """The series chosen in the coverage box."""
        return self.series_keys.get(self.series_pick.currentData() or "")

    def pick(self, key: SeriesKey) -> bool:
        i = self.series_pick.findData(str(key))
        if i >= 0:
            self.series_pick.setCurrentIndex(i)
        return i >= 0

    def _show_coverage(self) -> None:
        key = self.picked()
        cov = self.services.coverage(key) if key is not None else None
        self.coverage_model.set_coverage(cov)
        self.strip.set_coverage(cov)
        if cov is None or not cov.covered:
            self.coverage_summary.setText("Nothing stored yet.")
            return
        ms = cov.timeframe.ms
        stored, quiet = total(cov.stored) // ms, total(cov.known_empty) // ms
        holes = cov.holes()
        stretches = "one unbroken stretch" if len(cov.stored) == 1 else f"{len(cov.stored):,} separate stretches"
        gaps = ("no gaps" if not holes else f"{len(holes):,} gap{'s' if len(holes) != 1 else ''} "
                f"({total(holes) // ms:,} bars missing)")
        self.coverage_summary.setText(f"{stored:,} bars stored in {stretches} · {quiet:,} bars known to have no "
                                      f"trades · {gaps} — Collect fills only what is missing")

    def _coverage_clicked(self, index: QtCore.QModelIndex) -> None:
        span = self.coverage_model.data(index, QtCore.Qt.ItemDataRole.UserRole)
        if span:
            for edit, ms in ((self.del_start, span[0]), (self.del_end, span[1])):
                edit.setDateTime(QtCore.QDateTime.fromMSecsSinceEpoch(ms, QtCore.QTimeZone.utc()))

    def confirm_delete(self) -> None:
        key = self.picked()
        if key is None:
            return
        start, end = ms_of(self.del_start), ms_of(self.del_end)
        answer = QtWidgets.QMessageBox.question(
            self, "Delete candles", f"Delete the stored bars of {key} from {self.del_start.text()} to "
            f"{self.del_end.text()} (UTC)? This cannot be undone.")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.delete_range(key, start, end)

    def delete_range(self, key: SeriesKey, start: int, end: int) -> int:
        n = self.services.delete(key, start, end)
        log.info("deleted %s bars of %s", f"{n:,}", key)
        self._after_change()
        return n

    def confirm_forget(self) -> asyncio.Task[None] | None:
        """Ask, then forget the picked series' known-empty ranges (never a candle); the task doing it, if any."""
        key = self.picked()
        cov = self.services.coverage(key) if key is not None else None
        if key is None or cov is None:
            return None
        bars = total(cov.known_empty) // cov.timeframe.ms
        if not bars:
            self.forget_note.setText(f"{series_title(key)} has no ranges known to be empty.")
            return None
        stretch = "range" if len(cov.known_empty) == 1 else "ranges"
        answer = QtWidgets.QMessageBox.question(
            self, "Forget known-empty ranges",
            f"Forget {len(cov.known_empty):,} {stretch} ({bars:,} bars) of {series_title(key)} known to have no "
            f"trades? Stored candles are kept; the next Collect asks the exchange for these ranges again.")
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return None
        return asyncio.get_event_loop().create_task(self._forget(key))

    async def _forget(self, key: SeriesKey) -> None:
        try:
            n = await self.services.forget_known_empty(key)
        except UserError as err:
            self.forget_note.setText(f"Could not forget: {err}")
            return
        self.forget_note.setText(f"Forgot {n:,} known-empty bars; Collect asks again.")
        log.info("forgot %s known-empty bars of %s", f"{n:,}", key)
        self._after_change()
        self.forgotten.emit(key, n)

    def _after_change(self) -> None:
        self.refresh()
        self.changed.emit()
