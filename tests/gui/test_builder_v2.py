"""The Builder writes schema 2 by clicks: timeframes, arithmetic, position values, v2 risk, scale-in, crossing rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builder_clicks import choose, group, row, set_distance, type_number
from hypothesis import HealthCheck, given, settings
from PyQt6 import QtWidgets
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from domain.strategy import parse_strategy, strategy_to_dict
from presentation.builder.form import ScaleInPanel
from presentation.builder.operand import NUMBER, WrapButton
from presentation.builder.tab import BuilderTab
from presentation.services import Services
from tests.unit.strategy_gen import strategy_dicts

KEY_5M = SeriesKey("demo", "KRW-BTC", Timeframe.M5)
SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "strategies"


def open_builder(qtbot: QtBot, container: Container, key: SeriesKey | None = None, bars: int = 600) -> BuilderTab:
    if key is not None:
        store_walk(container, key, bars)
    tab = BuilderTab(container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    tab.preview.refresh_markets()
    return tab


def wrap(tab: BuilderTab, path: str, entry: str) -> None:
    """Open the "±×÷" menu after the operand at `path` and pick the entry starting with `entry`."""
    button = tab.fields[f"{path}.wrap"]
    assert isinstance(button, WrapButton) and button.isEnabled()
    button.click()
    action = button.action(entry)
    assert action.isEnabled()
    button.menu_.hide()
    action.trigger()


def saved_definition(qtbot: QtBot, tab: BuilderTab, container: Container) -> dict[str, Any]:
    with qtbot.waitSignal(tab.saved) as saved:
        tab.act_save.trigger()
    record = container.strategies.get(saved.args[0])
    assert record is not None
    return record.definition


def test_a_multi_timeframe_atr_strategy_is_clicked_together_and_saved_as_schema_2(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container, KEY_5M)
    tab.new_draft()
    qtbot.keyClicks(tab.name, " MTF")
    right = row(tab, "entry_long.all[0]").right
    offered = [right.timeframe.itemText(i) for i in range(right.timeframe.count())]
    assert offered == ["5m", "10m", "15m", "30m", "1h", "4h", "1d", "1w"]  # the chart's bars, then whole multiples
    choose(qtbot, row(tab, "entry_long.all[0]").right.timeframe, "1h")
    wrap(tab, "entry_long.all[0].right", "− k × ATR")
    type_number(qtbot, tab.fields["entry_long.all[0].right.sub[1].mul[0].const"], "2.5")
    words = row(tab, "entry_long.all[0]").words.text()
    assert words == "close crosses above SMA(20) on 1h − 2.5 × ATR(14)"
    choose(qtbot, tab.crossover, "strict")
    set_distance(qtbot, tab, "risk.stop_loss", "atr", "1.5", "20")
    choose(qtbot, tab.fields["risk.take_profit"], "levels")
    set_distance(qtbot, tab, "risk.take_profit[0]", "atr", "1.5")
    type_number(qtbot, tab.fields["risk.take_profit[0].close_pct"], "40")
    note = tab.notes["risk.take_profit"]
    assert note.isVisibleTo(tab) and "the levels' close % must add up to 100, not 90" in note.text()
    type_number(qtbot, tab.fields["risk.take_profit[1].close_pct"], "60")
    assert not note.isVisibleTo(tab) and tab.issues == []
    set_distance(qtbot, tab, "risk.trailing_stop", "atr", "3")
    choose(qtbot, tab.fields["risk.trailing_stop.anchor"], "close")
    assert saved_definition(qtbot, tab, container) == {
        "schema": 2, "name": "New strategy MTF", "direction": "long_only", "crossover": "strict",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "crosses_above", "right": {"sub": [
            {"var": "sma", "params": {"period": 20}, "timeframe": "1h"},
            {"mul": [{"const": 2.5}, {"var": "atr", "params": {"period": 14}}]}]}}]},
        "entry_short": None, "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 100, "stop_loss": {"atr": {"period": 20, "mult": 1.5}},
                 "take_profit": [{"atr": {"period": 14, "mult": 1.5}, "close_pct": 40},
                                 {"pct": 8, "close_pct": 60}],
                 "trailing_stop": {"atr": {"period": 14, "mult": 3}, "anchor": "close"}}}


def test_arithmetic_is_built_and_removed_by_clicks_and_nests_only_to_the_schemas_limit(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    wrap(tab, "entry_long.all[0].right", "× a number")
    assert row(tab, "entry_long.all[0]").words.text() == "close crosses above SMA(20) × 1.02"
    for path in ("entry_long.all[0].right", "entry_long.all[0].right", "entry_long.all[0].right"):
        wrap(tab, path, "+ a number")
    assert tab.issues == []  # four levels of arithmetic: the most a strategy may nest
    assert not tab.fields["entry_long.all[0].right.wrap"].isEnabled()
    deepest = "entry_long.all[0].right.add[0].add[0].add[0].mul[0]"
    assert tab.fields[deepest].picker.chosen() == "sma" and not tab.fields[f"{deepest}.wrap"].isEnabled()
    choose(qtbot, tab.fields["entry_long.all[0].right.add[0].add[0].add[0]"].op, "div")
    assert "SMA(20) ÷ 1.02 + 0 + 0 + 0" in row(tab, "entry_long.all[0]").words.text()
    tab.fields["entry_long.all[0].right"].unwrap.click()  # ✕ keeps the first term
    assert tab.doc["entry_long"]["all"][0]["right"] == {"add": [{"add": [
        {"div": [{"var": "sma", "params": {"period": 20}}, {"const": 1.02}]}, {"const": 0}]}, {"const": 0}]}
    tab.act_undo.trigger()
    assert "add" in tab.doc["entry_long"]["all"][0]["right"]["add"][0]["add"][0]


def test_position_values_are_offered_in_exits_and_scale_in_but_not_in_entries(
        qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    assert row(tab, "entry_long.all[0]").left.picker.findData("position_return_pct") < 0
    tab.fields["exit_long"].add.click()
    exit_left = row(tab, "exit_long.all[0]").left
    assert exit_left.picker.findData("bars_in_position") >= 0
    choose(qtbot, exit_left.picker, "bars_in_position")
    choose(qtbot, row(tab, "exit_long.all[0]").op, "ge")
    choose(qtbot, row(tab, "exit_long.all[0]").right.picker, NUMBER)
    type_number(qtbot, row(tab, "exit_long.all[0]").right.const, "12")
    assert row(tab, "exit_long.all[0]").words.text() == "bars in position ≥ 12"
    panel = tab.fields["scale_in"]
    assert isinstance(panel, ScaleInPanel)
    panel.add.click()
    assert row(tab, "scale_in.when.any[0]").words.text() == "position return % ≥ 2"
    group(tab, "scale_in.when").add_condition.click()
    type_number(qtbot, row(tab, "scale_in.when.any[1]").right.const, "-3")
    choose(qtbot, row(tab, "scale_in.when.any[1]").op, "le")
    type_number(qtbot, tab.fields["scale_in.size_pct"], "50")
    type_number(qtbot, tab.fields["scale_in.max_adds"], "3")
    type_number(qtbot, tab.fields["scale_in.min_bars_between"], "4")
    definition = saved_definition(qtbot, tab, container)
    assert definition["exit_long"] == {"all": [{"left": {"var": "bars_in_position"}, "op": "ge",
                                                "right": {"const": 12}}]}
    assert definition["scale_in"] == {
        "when": {"any": [{"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 2}},
                         {"left": {"var": "position_return_pct"}, "op": "le", "right": {"const": -3}}]},
        "size_pct": 50, "max_adds": 3, "min_bars_between": 4}


def test_the_crossing_rule_explains_both_choices_and_is_saved(qtbot: QtBot, container: Container) -> None:
    tab = open_builder(qtbot, container)
    tab.new_draft()
    tip = tab.crossover.toolTip()
    assert "Inclusive" in tip and "A ≤ B on the bar before" in tip and "Strict" in tip and "A < B" in tip
    assert tab.crossover.currentData() == "inclusive"
    choose(qtbot, tab.crossover, "strict")
    tab.name.setFocus()
    qtbot.keyClicks(tab.name, " strict")
    assert saved_definition(qtbot, tab, container)["crossover"] == "strict"


def test_an_operand_timeframe_that_is_not_a_multiple_of_the_preview_bars_is_marked(
        qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    tab = open_builder(qtbot, container, KEY_5M)
    doc = parse_strategy(json.loads((SAMPLES / "sma_cross.json").read_text(encoding="utf-8")))
    draft = strategy_to_dict(doc) | {"name": "three minutes"}
    draft["entry_long"]["all"][0]["left"]["timeframe"] = "3m"
    (tmp_path / "3m.json").write_text(json.dumps(draft), encoding="utf-8")
    assert tab.import_file(str(tmp_path / "3m.json"))
    assert [i.path for i in tab.issues] == ["entry_long.all[0].left.timeframe"]
    combo = tab.fields["entry_long.all[0].left.timeframe"]
    assert isinstance(combo, QtWidgets.QComboBox) and combo.currentData() == "3m"
    assert "not a whole multiple of the data's 5m bars" in row(tab, "entry_long.all[0]").message.text()
    choose(qtbot, combo, "15m")
    assert tab.issues == []


EVERY_FEATURE: dict[str, Any] = {
    "schema": 2, "name": "Every feature", "direction": "long_short", "crossover": "strict",
    "entry_long": {"all": [
        {"left": {"var": "close", "timeframe": "1h"}, "op": "gt",
         "right": {"mul": [{"var": "ema", "params": {"period": 50}, "timeframe": "4h"}, {"const": 1.02}]}},
        {"any": [{"left": {"div": [{"var": "atr", "params": {"period": 14}}, {"var": "close"}]}, "op": "gt",
                  "right": {"const": 0.01}},
                 {"left": {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}, "field": "signal"},
                  "op": "crosses_below", "right": {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9},
                                                   "field": "macd"}}]}]},
    "entry_short": {"all": [{"left": {"var": "close"}, "op": "lt", "right": {"sub": [
        {"var": "ema", "params": {"period": 50}},
        {"mul": [{"const": 2}, {"var": "atr", "params": {"period": 14}}]}]}}]},
    "exit_long": {"any": [{"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 6}},
                          {"left": {"var": "bars_in_position"}, "op": "gt", "right": {"const": 48}}]},
    "exit_short": None,
    "risk": {"position_size_pct": 25.5, "stop_loss": {"atr": {"period": 14, "mult": 2}},
             "take_profit": [{"pct": 2, "close_pct": 30}, {"atr": {"period": 10, "mult": 3}, "close_pct": 70}],
             "trailing_stop": {"pct": 3, "anchor": "close"}},
    "scale_in": {"when": {"any": [{"left": {"var": "position_return_pct"}, "op": "le", "right": {"const": -3}}]},
                 "size_pct": 50, "max_adds": 2, "min_bars_between": 3},
}


def shown(tab: BuilderTab) -> list[str]:
    """Every field whose widget does not show the draft's value at its place (empty when all agree)."""
    wrong = []
    for path, widget in tab.fields.items():
        try:
            value = tab.editor_ctx.current(path_parts(path))
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(widget, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox) and isinstance(value, int | float):
            ok = abs(widget.value() - value) < 1e-9
        elif isinstance(widget, QtWidgets.QComboBox) and path.rsplit(".", 1)[-1] in ("timeframe", "op", "field",
                                                                                      "anchor", "crossover"):
            ok = widget.currentData() == value
        else:
            continue
        if not ok:
            wrong.append(path)
    return wrong


def path_parts(path: str) -> tuple[str | int, ...]:
    from presentation.builder.words import split_path
    return tuple(split_path(path))


def test_every_sample_and_every_feature_round_trips_through_the_builder_unchanged(
        qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    tab = open_builder(qtbot, container)
    tab.ask_unsaved = lambda title, text: "discard"
    files = sorted(SAMPLES.glob("*.json"))
    (tmp_path / "every.json").write_text(json.dumps(EVERY_FEATURE), encoding="utf-8")
    for n, path in enumerate([*files, tmp_path / "every.json"]):
        original = json.loads(path.read_text(encoding="utf-8"))
        original["name"] = f"{original['name']} (round trip {n})"
        (tmp_path / "in.json").write_text(json.dumps(original), encoding="utf-8")
        assert tab.import_file(str(tmp_path / "in.json")) and tab.issues == [], path.name
        assert shown(tab) == [], path.name
        definition = saved_definition(qtbot, tab, container)
        assert definition == strategy_to_dict(parse_strategy(original)), path.name
    assert len(files) >= 6


_TABS: dict[int, BuilderTab] = {}  # one Builder for all examples of a run (fixtures live for the whole test)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=strategy_dicts(schemas=(2,)))
def test_generated_schema_2_strategies_round_trip_through_the_builder_unchanged(
        qtbot: QtBot, container: Container, doc: dict[str, Any]) -> None:
    tab = _TABS.get(id(container)) or _TABS.setdefault(id(container), open_builder(qtbot, container))
    doc["name"] = f"generated {container.strategies.count()}"
    tab.set_draft(doc, None, saved=False)
    assert tab.issues == [] and shown(tab) == []
    assert saved_definition(qtbot, tab, container) == strategy_to_dict(parse_strategy(doc))
