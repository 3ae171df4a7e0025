"""The Builder says why: a refused number, a blocked Save, a fresh New, exits that undo the entry, its words."""

from __future__ import annotations

import json
from pathlib import Path

from builder_clicks import choose, group, row, set_condition, type_number
from PyQt6 import QtCore, QtGui
from pytestqt.qtbot import QtBot
from stored import store_walk
from strategy_helpers import sma_cross

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.builder.form import SidePanel
from presentation.builder.tab import BuilderTab
from presentation.services import Services


def open_builder(qtbot: QtBot, container: Container) -> BuilderTab:
    tab = BuilderTab(container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    return tab


def add_rule(tab: BuilderTab, side: str) -> None:
    panel = tab.fields[side]
    assert isinstance(panel, SidePanel)
    panel.add.click()


def test_typing_period_0_or_emptying_a_number_says_why_it_is_not_taken(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    set_condition(qtbot, tab, "entry_long.all[0]", ("ema", "12"), "gt", ("const", "3"))
    left = row(tab, "entry_long.all[0]").left
    period, note = left.params["period"], left.notes[0]
    type_number(qtbot, period, "0")
    assert note.isVisibleTo(tab) and "EMA period must be 1 to 1000: 0 is not allowed" in note.text()
    assert period.value() == 12 and "keeps 12" in note.text()  # what leaving the box did, and why
    type_number(qtbot, period, "20")
    assert not note.isVisibleTo(tab) and tab.doc["entry_long"]["all"][0]["left"]["params"]["period"] == 20
    right = row(tab, "entry_long.all[0]").right
    assert right.const is not None
    right.const.setFocus()
    right.const.selectAll()
    qtbot.keyClick(right.const, QtCore.Qt.Key.Key_Backspace)
    assert right.notes[0].isVisibleTo(tab) and "The number is empty: type a number" in right.notes[0].text()


def test_save_in_an_invalid_state_says_what_blocks_it_in_the_builders_words(
        qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    tab = open_builder(qtbot, container)
    type_number(qtbot, tab.fields["risk.position_size_pct"], "0")
    assert tab.state.text().startswith("Can't save: 1 problem to fix — Risk › Position size %: must be a number > 0")
    assert "Save is blocked" in tab.act_save.toolTip() and "Risk › Position size %" in tab.act_save.toolTip()
    assert tab.act_save.isEnabled()  # not silently disabled: pressing it explains
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    tab.name.setFocus()
    qtbot.keyClick(tab.name, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert container.strategies.get_by_name("New strategy") is None
    assert tab.banner.isVisibleTo(tab)
    assert tab.banner.text() == "Can't save — Risk › Position size %: must be a number > 0 and ≤ 100, not 0"
    assert tab.fields["risk.position_size_pct"].hasFocus()  # taken to the field to fix
    type_number(qtbot, tab.fields["risk.position_size_pct"], "100")
    assert not tab.banner.isVisibleTo(tab)  # fixed: the message goes
    # A file with an impossible period: the message names the condition and the indicator's parameter.
    doc = sma_cross("Zero period")
    doc["entry_long"]["all"][0]["left"]["params"]["period"] = 0
    (tmp_path / "zero.json").write_text(json.dumps(doc), encoding="utf-8")
    tab.ask_unsaved = lambda title, text: "discard"
    assert tab.import_file(str(tmp_path / "zero.json"))
    tab.act_save.trigger()
    assert tab.banner.text().startswith("Can't save — Long entry › condition 1 › SMA period: must be an integer ≥ 1")
    assert container.strategies.get_by_name("Zero period") is None


def test_new_opens_a_template_that_is_not_marked_unsaved(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    asked: list[str] = []
    tab.ask_unsaved = lambda title, text: asked.append(text) or "cancel"
    tab.act_new.trigger()
    assert not tab.dirty and tab.state.text().strip() == "New strategy, nothing to save yet"
    assert "Unsaved" not in tab.state.text() and not tab.act_save.isEnabled()
    assert tab.new_draft() and asked == []  # nothing to lose, nothing asked
    tab.name.setFocus()
    qtbot.keyClicks(tab.name, " 2")
    assert tab.dirty and tab.state.text().strip() == "Unsaved changes" and tab.act_save.isEnabled()


def test_a_new_long_exit_rule_crosses_below_and_a_short_exit_crosses_above(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    choose(qtbot, tab.direction, "long_short")
    for side, op, label in (("exit_long", "crosses_below", "crosses below"),
                            ("exit_short", "crosses_above", "crosses above")):
        add_rule(tab, side)
        assert tab.doc[side]["all"][0]["op"] == op and row(tab, f"{side}.all[0]").op.currentText() == label
    group(tab, "exit_long").add_condition.click()
    assert tab.doc["exit_long"]["all"][1]["op"] == "crosses_below"
    assert tab.doc["entry_short"]["all"][0]["op"] == "crosses_below"


def test_the_undo_step_names_the_place_in_the_builders_words(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    add_rule(tab, "exit_long")
    choose(qtbot, row(tab, "exit_long.all[0]").left.picker, "ema")
    assert tab.act_undo.statusTip() == "Edit Long exit › condition 1 › left"
    type_number(qtbot, row(tab, "exit_long.all[0]").left.params["period"], "30")
    assert tab.act_undo.statusTip() == "Edit Long exit › condition 1 › EMA period"


def test_ema_and_sma_lines_get_different_colours_in_the_preview(qtbot: QtBot, container: Container) -> None:
    store_walk(container, SeriesKey("demo", "KRW-BTC", Timeframe.M1), 1_000)
    tab = open_builder(qtbot, container)
    tab.preview.refresh_markets()
    set_condition(qtbot, tab, "entry_long.all[0]", ("ema", "12"), "crosses_above", ("sma", "30"))
    tab.update_preview()
    lines = tab.preview.chart.price.lines
    assert set(lines) == {"ema(12)", "sma(30)"}
    colours = {key: QtGui.QColor(item.opts["pen"].color()).name() for key, item in lines.items()}
    assert colours["ema(12)"] != colours["sma(30)"]
    tab.update_preview()  # a redraw keeps them apart
    assert len({QtGui.QColor(item.opts["pen"].color()).name() for item in lines.values()}) == 2


def test_the_preview_readout_is_not_cut_in_a_1440x900_window(qtbot: QtBot, container: Container) -> None:
    from qt_async import keep

    from presentation.main_window import MainWindow

    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    store_walk(container, key, 1_000)
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.resize(1440, 900)
    window.show()
    window.show_tab("Builder")
    qtbot.waitExposed(window)
    preview = window.strategy_work.builder.preview
    preview.refresh_markets()
    readout = preview.chart.readout
    preview.chart.crosshair.show_bar(500)
    qtbot.wait(20)
    doc = QtGui.QTextDocument()
    doc.setHtml(readout.text())
    assert " V " in doc.toPlainText().replace("\xa0", " ")  # the readout runs to the volume
    assert QtGui.QFontMetrics(readout.font()).horizontalAdvance(doc.toPlainText()) > readout.width()  # 1 line: cut
    assert readout.wordWrap() and readout.height() >= readout.heightForWidth(readout.width())  # every line shows
