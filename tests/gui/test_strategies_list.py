"""The Strategies tab: a lazily paged list over the store, search, tags, sorting, and the context-menu actions."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6 import QtCore
from pytestqt.qtbot import QtBot
from strategy_helpers import store_many

from app.bootstrap.container import Container
from app.strategies.ports import StrategyQuery
from presentation.models.strategy_list import BLOCK, ID_ROLE, MAX_BLOCKS, StrategyListModel
from presentation.strategies.tab import StrategiesTab


def open_tab(qtbot: QtBot, container: Container) -> StrategiesTab:
    tab = StrategiesTab(container.strategies)
    qtbot.addWidget(tab)
    tab.resize(1000, 600)
    tab.show()
    return tab


def names_in_sql_order(container: Container, query: StrategyQuery) -> list[str]:
    out, cursor = [], None
    while True:
        page = container.strategies.page(query, 1000, cursor)
        out += [s.name for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_the_list_model_passes_the_qt_model_tester(qtmodeltester: object, container: Container) -> None:
    store_many(container, 2 * BLOCK + 17)
    model = StrategyListModel(container.strategies)
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_every_row_reads_as_sql_orders_it_in_both_directions_while_only_a_window_stays_in_memory(
        container: Container) -> None:
    store_many(container, 3_500)
    model = StrategyListModel(container.strategies)
    total = container.strategies.count()
    assert model.rowCount() == total
    assert model.cached_rows == 0  # nothing read until a row is asked for
    for descending in (False, True):
        query = StrategyQuery(sort="name", descending=descending)
        model.set_query(query)
        shown = [model.index(r, 0).data() for r in range(model.rowCount())]
        assert shown == names_in_sql_order(container, query)
        assert model.cached_rows <= BLOCK * MAX_BLOCKS
    # A jump to the far end reads one block from that end, not everything before it.
    model.refresh()
    reads = model.reads
    assert model.index(total - 1, 0).data() == names_in_sql_order(container, model.query)[-1]
    assert model.reads == reads + 1


def test_sorting_by_updated_time_is_done_by_the_store(container: Container) -> None:
    store_many(container, 250)
    model = StrategyListModel(container.strategies)
    model.sort(3)
    query = StrategyQuery(sort="updated")
    assert model.query == query
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == names_in_sql_order(container, query)


def test_typing_in_the_search_box_filters_after_a_short_pause(qtbot: QtBot, container: Container) -> None:
    store_many(container, 300)
    tab = open_tab(qtbot, container)
    qtbot.keyClicks(tab.search, "y 001")  # names "Strategy 00100" … "Strategy 00199"
    assert tab.model.rowCount() > 100  # debounced: nothing re-queried per key press
    qtbot.waitUntil(lambda: tab.model.rowCount() == 100)
    assert all("y 001" in tab.model.index(r, 0).data() for r in range(100))
    assert tab.count.text() == "100 strategies"


def test_the_tag_filter_lists_tags_with_counts_and_narrows_the_list(qtbot: QtBot, container: Container) -> None:
    store_many(container, 90)
    tab = open_tab(qtbot, container)
    i = tab.tag.findData("third")
    assert i > 0 and tab.tag.itemText(i) == "third  (30)"
    tab.tag.setCurrentIndex(i)
    tab.tag.activated.emit(i)
    assert tab.model.rowCount() == 30
    rows = {tab.model.index(r, 2).data() for r in range(30)}
    assert rows == {"third"}


def test_several_rows_can_be_duplicated_at_once(qtbot: QtBot, container: Container) -> None:
    store_many(container, 5)
    tab = open_tab(qtbot, container)
    tab.search.setText("Strategy 0000")
    tab.apply_filter()
    tab.view.selectRow(0)
    tab.view.selectionModel().select(tab.model.index(1, 0), _ADD_ROW)
    made = tab.duplicate_selected()
    assert len(made) == 2
    assert container.strategies.get_by_name("Strategy 00000 (copy)") is not None
    assert container.strategies.get_by_name("Strategy 00001 (copy)") is not None


def test_delete_asks_first_and_can_be_undone(qtbot: QtBot, container: Container) -> None:
    store_many(container, 5)
    tab = open_tab(qtbot, container)
    before = container.strategies.count()
    tab.search.setText("Strategy 00003")
    tab.apply_filter()
    tab.view.selectRow(0)
    asked: list[str] = []
    tab.confirm = lambda title, text: asked.append(text) is not None and False  # the user says No
    assert tab.delete_selected() == 0 and container.strategies.count() == before
    tab.confirm = lambda title, text: True
    assert tab.delete_selected() == 1
    assert "Strategy 00003" in asked[0]
    assert container.strategies.get_by_name("Strategy 00003") is None
    assert tab.undo_btn.isVisibleTo(tab)
    tab.undo_btn.click()
    assert container.strategies.get_by_name("Strategy 00003") is not None
    assert container.strategies.count() == before and not tab.undo_btn.isVisibleTo(tab)


def test_export_writes_json_the_importer_reads_back(qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    store_many(container, 3)
    tab = open_tab(qtbot, container)
    tab.view.selectAll()
    out = tab.export_selected(str(tmp_path / "all.json"))
    assert out is not None
    docs = json.loads(out.read_text(encoding="utf-8"))
    assert len(docs) == container.strategies.count()
    assert container.strategies.validate_text(out.read_text(encoding="utf-8")) == []


def test_double_click_and_the_menu_ask_for_the_builder_and_a_backtest(qtbot: QtBot, container: Container) -> None:
    store_many(container, 2)
    tab = open_tab(qtbot, container)
    sid = int(tab.model.index(0, 0).data(ID_ROLE))
    with qtbot.waitSignal(tab.openRequested) as opened:
        tab.view.doubleClicked.emit(tab.model.index(0, 0))
    assert opened.args == [sid]
    tab.view.selectRow(0)
    tab._menu(tab.view.visualRect(tab.model.index(0, 0)).center())
    texts = [a.text() for a in tab.menu.actions() if a.text()]
    assert texts[:2] == ["Open in builder", "Run backtest…"] and "Delete…" in texts
    with qtbot.waitSignal(tab.backtestRequested) as asked:
        next(a for a in tab.menu.actions() if a.text() == "Run backtest…").trigger()
    assert asked.args == [sid]
    tab.menu.close()


_ADD_ROW = QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows


def test_a_strategy_is_found_by_bisection_in_every_order(container: Container) -> None:
    store_many(container, 1_500, prefix="Mixed Case")
    store_many(container, 500, prefix="lower case")
    model = StrategyListModel(container.strategies)
    for query in (StrategyQuery(sort="name"), StrategyQuery(sort="name", descending=True),
                  StrategyQuery(sort="updated", descending=True)):
        model.set_query(query)
        rows = range(0, model.rowCount(), 97)
        wanted = {r: model.summary(r) for r in rows}
        model.refresh()  # nothing cached: each is found by reading about log2(n) rows
        for row, summary in wanted.items():
            assert summary is not None and model.locate(summary) == row
