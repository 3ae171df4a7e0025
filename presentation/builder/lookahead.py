"""The Builder's "Check look-ahead": the domain's check on the preview's candles, in a thread, reported inline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from PyQt6 import QtCore

from domain.market import CandleSeries
from domain.strategy import Strategy
from domain.strategy.lookahead import LookaheadReport, check_lookahead

SHOWN_CHANGES = 3


class LookaheadRunner(QtCore.QObject):
    """Runs one check at a time off the UI thread; `finished(report, token)` or `failed(message, token)` arrive on
    the UI thread (a signal emitted from the worker thread is queued to this object's thread)."""

    finished = QtCore.pyqtSignal(object, object)
    failed = QtCore.pyqtSignal(str, object)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    def start(self, strategy: Strategy, series: CandleSeries, token: object) -> bool:
        """Begin checking `strategy` on `series`; False when a check is still running."""
        if self.running:
            return False
        self.worker = threading.Thread(target=self._run, args=(strategy, series, token), name="lookahead",
                                       daemon=True)
        self.worker.start()
        return True

    def _run(self, strategy: Strategy, series: CandleSeries, token: object) -> None:
        try:
            report = check_lookahead(strategy, series)
        except Exception as err:  # noqa: BLE001 - any failure is reported in the Builder, never lost in a thread
            self.failed.emit(f"{type(err).__name__}: {err}", token)
            return
        self.finished.emit(report, token)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def report_text(report: LookaheadReport) -> tuple[str, bool]:
    """(what the Builder says about a finished check, whether it passed)."""
    if not report.cuts:
        return (f"Look-ahead not checked: {report.bars:,} bars are too few to cut after the indicators' warm-up; "
                "preview a market with more candles."), False
    compared = (f"{len(report.cuts)} cuts of {report.bars:,} bars; {report.signals_compared:,} signals, "
                f"{report.values_compared:,} values and {report.trades_compared:,} trades compared")
    if report.ok:
        return f"No look-ahead: nothing before a cut changed ({compared}).", True
    n = len(report.changes)
    lines = [f"Look-ahead found: {n} {'value' if n == 1 else 'values'} changed when later bars were removed "
             f"({compared})."]
    for change in report.changes[:SHOWN_CHANGES]:
        lines.append(f"• {change.what} at {_when(change.ts)}: {change.full} with all bars, {change.truncated} "
                     f"with the data cut at {_when(change.cut_ts)}")
    if len(report.changes) > SHOWN_CHANGES:
        lines.append(f"… and {len(report.changes) - SHOWN_CHANGES} more")
    return "\n".join(lines), False
