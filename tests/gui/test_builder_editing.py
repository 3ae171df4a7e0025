"""The Builder: strategies clicked together, validated as you edit, undone and redone, saved, imported, exported."""

from __future__ import annotations

import json
from pathlib import Path

from builder_clicks import build_sma_cross, choose, group, row, set_condition, set_distance, type_number
from pytestqt.qtbot import QtBot
from strategy_helpers import sma_cross

from app.bootstrap.container import Container
from domain.indicators import CATALOG
from domain.strategy import parse_strategy, strategy_to_dict
from presentation.builder.draft import OPERATOR_HELP
from presentation.builder.tab import BuilderTab
from presentation.services import Services


def open_builder(qtbot: QtBot, container: Container) -> BuilderTab:
    tab = BuilderTab(container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    return tab


def test_a_strategy_clicked_together_is_saved_as_the_documented_json(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    build_sma_cross(qtbot, tab, "My SMA cross")
    assert tab.issues == [] and tab.act_save.isEnabled()
    with qtbot.waitSignal(tab.saved) as saved:
        tab.act_save.trigger()
    record = container.strategies.get(saved.args[0])
    assert record is not None and record.name == "My SMA cross"
    assert record.definition == strategy_to_dict(parse_strategy(sma_cross("My SMA cross")))
    assert tab.state.text().strip() == "Saved" and not tab.act_save.isEnabled()


def test_an_offending_field_is_outlined_with_the_domains_message_and_save_says_what_blocks_it(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    build_sma_cross(qtbot, tab)
    type_number(qtbot, tab.fields["risk.position_size_pct"], "0")
    box = tab.fields["risk.position_size_pct"]
    assert box.property("invalid") and "must be a number > 0" in box.toolTip()
    note = tab.notes["risk.position_size_pct"]
    assert note.isVisibleTo(tab) and "must be a number > 0" in note.text()
    assert "1 problem" in tab.state.text()
    before = container.strategies.count()
    tab.act_save.trigger()  # not silently disabled: it says why nothing was saved
    assert container.strategies.count() == before
    assert tab.banner.isVisibleTo(tab) and tab.banner.text().startswith("Can't save — Risk › Position size %")
    type_number(qtbot, tab.fields["risk.position_size_pct"], "50")
    assert tab.issues == [] and tab.act_save.isEnabled() and not note.isVisibleTo(tab)
    # Comparing an oscillator with a price is refused by the domain; the row says why.
    set_condition(qtbot, tab, "entry_long.all[0]", ("rsi", "14"), "gt", ("sma", "20"))
    message = row(tab, "entry_long.all[0]").message
    assert message.isVisibleTo(tab) and "units differ" in message.text()
    assert [i.path for i in tab.issues] == ["entry_long.all[0]"] and not tab.save()
    assert tab.banner.text().startswith("Can't save — Long entry › condition 1: cannot compare")


def test_undo_and_redo_walk_through_edits_and_a_typed_number_is_one_step(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    start = json.dumps(tab.doc, sort_keys=True)
    set_condition(qtbot, tab, "entry_long.all[0]", ("ema", "150"), "gt", ("const", "3"))
    after = json.dumps(tab.doc, sort_keys=True)
    assert tab.doc["entry_long"]["all"][0] == {"left": {"var": "ema", "params": {"period": 150}},
                                                "op": "gt", "right": {"const": 3}}
    steps = tab.undo.count()
    assert steps == 5  # pick, period, pick, constant, operator
    while tab.undo.canUndo():
        tab.act_undo.trigger()
    assert json.dumps(tab.doc, sort_keys=True) == start
    assert row(tab, "entry_long.all[0]").left.picker.chosen() == "close"  # the editor shows the old draft
    while tab.undo.canRedo():
        tab.act_redo.trigger()
    assert json.dumps(tab.doc, sort_keys=True) == after
    assert row(tab, "entry_long.all[0]").left.params["period"].value() == 150


def test_rows_are_added_moved_and_removed_and_groups_switch_to_any_and_nest(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    group(tab, "entry_long").add_condition.click()
    set_condition(qtbot, tab, "entry_long.all[1]", ("rsi", "14"), "lt", ("const", "30"))
    group(tab, "entry_long").add_group.click()  # a nested ANY group
    set_condition(qtbot, tab, "entry_long.all[2].any[0]", ("volume", ""), "gt", ("volume_sma", "20"))
    assert tab.issues == []
    [b for b in row(tab, "entry_long.all[1]").findChildren(type(group(tab, "entry_long").add_condition))
     if b.text() == "↑"][0].click()
    items = tab.doc["entry_long"]["all"]
    assert items[0]["left"]["var"] == "rsi" and items[1]["left"]["var"] == "close" and "any" in items[2]
    choose(qtbot, group(tab, "entry_long").kind, "any")
    assert list(tab.doc["entry_long"]) == ["any"] and len(tab.doc["entry_long"]["any"]) == 3
    remove = [b for b in row(tab, "entry_long.any[0]").findChildren(type(group(tab, "entry_long").add_condition))
              if b.text() == "✕"][0]
    remove.click()
    assert [i.get("left", {}).get("var") for i in tab.doc["entry_long"]["any"]] == ["close", None]
    parse_strategy({k: v for k, v in tab.doc.items() if k != "tags"})  # still a valid definition


def test_removing_the_last_condition_is_reported_on_its_side(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    [b for b in row(tab, "entry_long.all[0]").findChildren(type(group(tab, "entry_long").add_condition))
     if b.text() == "✕"][0].click()
    assert any(i.path == "entry_long.all" and "at least one" in i.message for i in tab.issues)
    assert "at least one" in tab.notes["entry_long"].text()
    assert not tab.save() and "Long entry: must hold at least one condition" in tab.banner.text()


def test_leaving_unsaved_changes_asks_first(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    sample = container.strategies.get_by_name("RSI mean reversion")
    assert sample is not None and tab.open_strategy(sample.id)
    assert not tab.dirty and tab.state.text().strip() == "Saved" and not tab.act_undo.isEnabled()
    set_distance(qtbot, tab, "risk.stop_loss", "pct", "2.5")
    assert tab.dirty and tab.act_undo.isEnabled() and tab.act_revert.isEnabled()
    asked: list[str] = []
    tab.ask_unsaved = lambda title, text: asked.append(text) or "cancel"
    assert not tab.new_draft() and tab.strategy_id == sample.id
    tab.ask_unsaved = lambda title, text: "save"
    assert tab.new_draft()
    stored = container.strategies.get(sample.id)
    assert stored is not None and stored.definition["risk"]["stop_loss"] == {"pct": 2.5}  # stored as schema 2
    assert "RSI mean reversion" in asked[0]


def test_revert_goes_back_to_the_saved_version_and_can_itself_be_undone(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    sample = container.strategies.get_by_name("SMA 10/20 cross")
    assert sample is not None and tab.open_strategy(sample.id)
    saved = json.dumps(tab.doc, sort_keys=True)
    type_number(qtbot, row(tab, "entry_long.all[0]").left.params["period"], "7")
    assert tab.act_revert.isEnabled()
    tab.act_revert.trigger()
    assert json.dumps(tab.doc, sort_keys=True) == saved
    tab.act_undo.trigger()
    assert tab.doc["entry_long"]["all"][0]["left"]["params"]["period"] == 7


def test_export_then_import_gives_the_same_draft_and_save_as_makes_a_copy(
        qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    tab = open_builder(qtbot, container)
    build_sma_cross(qtbot, tab, "Exported cross")
    path = tmp_path / "cross.json"
    assert tab.export_file(str(path))
    doc = dict(tab.doc)
    tab.ask_unsaved = lambda title, text: "discard"
    assert tab.import_file(str(path))
    assert tab.doc == doc and tab.strategy_id is None and tab.act_save.isEnabled()
    assert tab.save_as("Imported cross")
    assert container.strategies.get_by_name("Imported cross") is not None
    (tmp_path / "bad.json").write_text('{"schema": 1,', encoding="utf-8")
    assert not tab.import_file(str(tmp_path / "bad.json"))
    assert "line 1" in tab.problems.text()


def test_indicators_parameters_and_operators_explain_themselves(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    condition = row(tab, "entry_long.all[0]")
    picker = condition.right.picker
    for name, ind in CATALOG.items():
        tip = picker.itemData(picker.findData(name), 3)
        assert ind.help in tip, name
    headings = [picker.itemText(i) for i in range(picker.count()) if picker.itemData(i) is None]
    assert headings == ["Price", "Trend", "Momentum", "Volatility", "Volume"]
    assert CATALOG["sma"].params[0].help in condition.right.params["period"].toolTip()
    for i in range(condition.op.count()):
        assert condition.op.itemData(i, 3) == OPERATOR_HELP[condition.op.itemData(i)]


def test_opening_and_saving_a_schema_2_strategy_keeps_its_atr_stop_and_take_profit_levels(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    sample = next(s for s in container.strategies.page(limit=50).items if s.name.startswith("ICT"))
    before = container.strategies.get(sample.id)
    assert before is not None and before.definition["risk"]["stop_loss"] == {"atr": {"period": 14, "mult": 1.5}}
    assert tab.open_strategy(sample.id)
    tab.edit(("risk", "position_size_pct"), 40, False)
    assert tab.save()
    after = container.strategies.get(sample.id)
    assert after is not None and after.definition["risk"]["position_size_pct"] == 40
    for key in ("stop_loss", "take_profit"):
        assert after.definition["risk"][key] == before.definition["risk"][key]
