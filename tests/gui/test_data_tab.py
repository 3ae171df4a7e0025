"""Data tab without the network: CSV import (progress, per-line errors), coverage and delete range."""

from __future__ import annotations

from pathlib import Path

import qasync
from pytestqt.qtbot import QtBot
from qt_async import fired, keep
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.main_window import MainWindow
from presentation.services import Services

GOOD = "time,open,high,low,close,volume\n" + "".join(
    f"2024-01-{d:02d},{100 + d},{101 + d},{99 + d},{100.5 + d},{1000 * d}\n" for d in range(1, 11))


def window_on(qtbot: QtBot, container: Container) -> MainWindow:
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.show_tab("Data")
    return window


def test_a_csv_import_shows_progress_and_the_new_series_appears_everywhere(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop, tmp_path: Path) -> None:
    path = tmp_path / "goog.csv"
    path.write_text(GOOD)
    window = window_on(qtbot, container)
    box = window.data_tab.import_box
    box.path.setText(str(path))
    box.symbol.setText("GOOG")

    async def scenario() -> None:
        box.start_import()
        await fired(box.imported)

    qloop.run_until_complete(scenario())
    key = SeriesKey("csv", "GOOG", Timeframe.D1)
    assert container.candles.count(key) == 10
    assert box.bar.value() == 1000 and "Imported 10 bars" in box.message.text()
    assert window.markets.index_of(key).isValid()
    assert window.data_tab.picked() == key
    assert window.data_tab.coverage_model.rowCount() == 1


def test_a_bad_line_is_named_with_file_and_line_and_nothing_is_stored(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(GOOD.replace("2024-01-04,104,", "2024-01-04,oops,"))
    window = window_on(qtbot, container)
    box = window.data_tab.import_box
    box.path.setText(str(path))
    box.symbol.setText("BAD")

    async def scenario() -> None:
        task = box.start_import()
        assert task is not None
        await task

    qloop.run_until_complete(scenario())
    assert box.message.objectName() == "error"
    assert "bad.csv" in box.message.text() and ":5" in box.message.text()
    assert container.candles.series() == []
    assert box.button.isEnabled()


def test_deleting_a_range_removes_those_bars_and_the_coverage_shows_the_gap(
        qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-BTC", Timeframe.H1)
    s = store_walk(container, key, 100)
    window = window_on(qtbot, container)
    tab = window.data_tab
    tab.pick(key)
    assert [sp.kind for sp in tab.coverage_model.spans] == ["Covered"]
    removed = tab.delete_range(key, int(s.ts[40]), int(s.ts[60]))
    assert removed == 20 and container.candles.count(key) == 80
    assert [(sp.kind, sp.bars) for sp in tab.coverage_model.spans] == [("Covered", 40), ("Hole", 0), ("Covered", 40)]
    assert "80 bars stored in 2 separate stretches" in tab.coverage_summary.text()
    assert "run(s)" not in tab.coverage_summary.text() and "(s)" not in tab.coverage_summary.text()
    assert window.markets.index_of(key).siblingAtColumn(1).data() == "80"


def test_a_long_progress_line_stays_one_line_at_1440x900_and_keeps_its_whole_text(
        qtbot: QtBot, container: Container) -> None:
    window = window_on(qtbot, container)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    tab = window.data_tab
    before = (tab.stats.height(), tab.progress.y(), tab.import_box.y())
    long_line = ("Requests 1,234 of ~5,678  ·  candles 246,800  ·  retries 3  ·  ETA 0:12:34  ·  "
                 "demo:KRW-BTC:1m from 2026-11-04 to 2026-12-04, stored ranges skipped ") * 3
    tab.stats.setText(long_line + "\nCancelled — bars fetched so far are kept; Collect resumes.")
    qtbot.wait(20)
    assert (tab.stats.height(), tab.progress.y(), tab.import_box.y()) == before  # nothing moved
    assert tab.stats.shown().endswith("…") and len(tab.stats.shown()) < len(long_line)
    assert "Cancelled" in tab.stats.text() and "Cancelled" in tab.stats.toolTip()  # the whole text is kept
