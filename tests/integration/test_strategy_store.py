"""SqlStrategyRepository against a real SQLite file: CRUD, unique names, tags, keyset and offset paging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.strategies.ports import NewStrategy, StrategyNameTaken, StrategyNotFound, StrategyQuery
from domain.strategy import parse_strategy, strategy_to_dict
from infrastructure.db import strategies as strategies_db
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.strategies import SqlStrategyRepository


def definition(name: str, period: int = 10) -> dict[str, Any]:
    return {"schema": 1, "name": name, "direction": "long_only",
            "entry_long": {"all": [{"left": {"var": "close"}, "op": "crosses_above",
                                    "right": {"var": "sma", "params": {"period": period}}}]},
            "entry_short": None, "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 2, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def item(name: str, tags: tuple[str, ...] = (), notes: str = "", period: int = 10) -> NewStrategy:
    return NewStrategy(parse_strategy(definition(name, period)), notes, tags)


@pytest.fixture
def repo(db_path: Path) -> SqlStrategyRepository:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlStrategyRepository(engine)


def test_a_stored_strategy_reads_back_with_its_definition_notes_tags_and_times(repo: SqlStrategyRepository) -> None:
    rec = repo.add(item("Alpha", ("trend", "btc"), "my notes"), now_ms=1_000)
    again = repo.get(rec.id)
    assert again is not None and again == rec
    assert again.definition == strategy_to_dict(parse_strategy(definition("Alpha")))
    assert (again.summary.tags, again.summary.notes) == (("btc", "trend"), "my notes")
    assert (again.summary.created_ms, again.summary.updated_ms) == (1_000, 1_000)
    assert repo.get_by_name("Alpha") == rec


def test_names_are_unique_ignoring_case(repo: SqlStrategyRepository) -> None:
    repo.add(item("Alpha"), 1)
    with pytest.raises(StrategyNameTaken, match="named .Alpha. already exists"):
        repo.add(item("ALPHA"), 2)
    assert repo.count() == 1
    assert repo.names_taken(["alpha", "Beta"]) == ["Alpha"]


def test_add_many_stores_all_or_nothing(repo: SqlStrategyRepository) -> None:
    repo.add(item("Taken"), 1)
    with pytest.raises(StrategyNameTaken):
        repo.add_many([item("New one", ("x",)), item("Taken")], 2)
    assert repo.count() == 1
    assert repo.count(StrategyQuery(tag="x")) == 0


def test_update_replaces_definition_and_tags_and_keeps_created(repo: SqlStrategyRepository) -> None:
    rec = repo.add(item("Alpha", ("a", "b")), 1_000)
    updated = repo.update(rec.id, item("Alpha 2", ("c",), "n", period=30), 5_000)
    assert (updated.name, updated.summary.tags, updated.summary.notes) == ("Alpha 2", ("c",), "n")
    assert (updated.summary.created_ms, updated.summary.updated_ms) == (1_000, 5_000)
    assert updated.definition["entry_long"]["all"][0]["right"]["params"]["period"] == 30
    with pytest.raises(StrategyNotFound):
        repo.update(999, item("Ghost"), 1)
    repo.add(item("Beta"), 1)
    with pytest.raises(StrategyNameTaken):
        repo.update(rec.id, item("beta"), 1)


def test_delete_removes_the_strategy_and_its_tags(repo: SqlStrategyRepository) -> None:
    rec = repo.add(item("Alpha", ("t",)), 1)
    assert repo.delete(rec.id) is True
    assert repo.delete(rec.id) is False
    assert repo.get(rec.id) is None and repo.count(StrategyQuery(tag="t")) == 0


def test_last_backtest_figures_are_stored_for_the_list(repo: SqlStrategyRepository) -> None:
    rec = repo.add(item("Alpha"), 1)
    repo.set_last_backtest(rec.id, 12.5, 42)
    (row,) = repo.page(StrategyQuery(), 10).items
    assert (row.last_backtest_return, row.last_backtest_trades) == (12.5, 42)
    with pytest.raises(StrategyNotFound):
        repo.set_last_backtest(999, 1.0, 1)


@pytest.fixture
def many(repo: SqlStrategyRepository) -> SqlStrategyRepository:
    # 57 names in shuffled insertion order, updated times not in name order, every third tagged.
    order = [(i * 23) % 57 for i in range(57)]
    repo.add_many([item(f"{'s' if i % 2 else 'S'}trat {i:03d}", ("odd",) if i % 3 == 0 else ())
                   for i in order], 0)
    for rank, i in enumerate(order):
        rec = repo.get_by_name(f"{'s' if i % 2 else 'S'}trat {i:03d}")
        assert rec is not None
        repo.update(rec.id, item(rec.name, rec.summary.tags), now_ms=1_000 + (rank * 7) % 13)
    return repo


def walk(repo: SqlStrategyRepository, query: StrategyQuery, size: int) -> list[tuple[str, int]]:
    rows, cursor = [], None
    while True:
        page = repo.page(query, size, cursor)
        rows += [(r.name, r.id) for r in page.items]
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["name", "updated"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(("text", "tag"), [("", None), ("02", None), ("", "odd"), ("0", "odd")])
def test_keyset_and_offset_pages_visit_every_match_once_in_order(
        many: SqlStrategyRepository, sort: str, descending: bool, text: str, tag: str | None) -> None:
    query = StrategyQuery(text, tag, sort, descending)  # type: ignore[arg-type]
    everything = [r for r in many.page_at(StrategyQuery(), 0, 1000)]
    expected = [r for r in everything if text.lower() in r.name.lower() and (tag is None or tag in r.tags)]
    key = (lambda r: r.name.lower()) if sort == "name" else (lambda r: (r.updated_ms, r.id))
    expected.sort(key=key, reverse=descending)
    names = [(r.name, r.id) for r in expected]
    assert walk(many, query, 5) == names
    assert [(r.name, r.id) for r in many.page_at(query, 3, 4)] == names[3:7]
    assert many.count(query) == len(names)


def test_name_filter_treats_like_wildcards_literally(repo: SqlStrategyRepository) -> None:
    repo.add_many([item("100% win"), item("1000 win"), item("a_b"), item("axb")], 1)
    assert [r.name for r in repo.page(StrategyQuery("0%"), 10).items] == ["100% win"]
    assert [r.name for r in repo.page(StrategyQuery("a_"), 10).items] == ["a_b"]


def test_samples_flag_is_remembered(repo: SqlStrategyRepository) -> None:
    assert repo.samples_loaded() is False
    repo.mark_samples_loaded()
    repo.mark_samples_loaded()
    assert repo.samples_loaded() is True


def test_common_and_rare_tags_page_alike_whichever_plan_is_chosen(repo: SqlStrategyRepository) -> None:
    repo.add_many([item(f"n{i:03d}", ("common",) + (("rare",) if i % 50 == 7 else ())) for i in range(200)], 1)
    for tag, size in (("common", 7), ("rare", 1), ("rare", 3)):
        query = StrategyQuery(tag=tag, sort="name")
        expected = sorted(r.name for r in repo.page_at(StrategyQuery(), 0, 1000) if tag in r.tags)
        assert [name for name, _ in walk(repo, query, size)] == expected
        assert [r.name for r in repo.page_at(query, 2, size)] == expected[2:2 + size]


NAMES = ["SMA 10/20 cross", "sma 50/200 trend", "RSI dip 30%", "MACD_fast v2", 'Quote "q" test', "ÉMA échelle",
         "Bollinger squeeze", "ATR stop 1.5", "Donchian 20 breakout", "A"]
FILTERS = ["sma", "SMA 1", "cross", "0/2", "%", "_", "30%", "d_f", '"q"', '"', "émA", "ÉMA", "éch", "a", "ze",
           "e 20 b", "xyz", "stop 1.5", "1.5", "  "]


def _expected(text: str) -> list[str]:
    """LIKE's meaning: a substring, ASCII letters compared without case, everything else exactly."""
    fold = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    return sorted((n for n in NAMES if text.translate(fold) in n.translate(fold)), key=lambda n: n.translate(fold))


@pytest.mark.parametrize("text", FILTERS)
def test_a_name_filter_finds_exactly_the_names_containing_the_text_by_index_or_by_scan(
        repo: SqlStrategyRepository, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.add_many([item(n) for n in NAMES], 1)
    want = _expected(text)
    with repo._engine.connect() as conn:
        candidates = repo._name_ids(conn, StrategyQuery(name_contains=text))
    assert (candidates is not None) == (len(text) >= 3)  # this SQLite has FTS5 trigrams: 3+ characters seek
    seen = []
    for rare in (1_000, 0):  # the index's candidates; then every substring counted as common: the scan
        monkeypatch.setattr(strategies_db, "RARE", rare)
        seen.append(([s.name for s in repo.page(StrategyQuery(name_contains=text), 100).items],
                     [s.name for s in repo.page_at(StrategyQuery(name_contains=text), 0, 100)],
                     repo.count(StrategyQuery(name_contains=text))))
    assert seen[0] == seen[1] == (want, want, len(want))


def test_the_name_index_follows_renames_and_deletes(repo: SqlStrategyRepository) -> None:
    first = repo.add(item("Momentum alpha"), 1)
    repo.add(item("Momentum beta"), 1)
    repo.update(first.summary.id, item("Reversion alpha"), 2)
    assert [s.name for s in repo.page(StrategyQuery(name_contains="momentum"), 10).items] == ["Momentum beta"]
    assert [s.name for s in repo.page(StrategyQuery(name_contains="reversion"), 10).items] == ["Reversion alpha"]
    repo.delete(first.summary.id)
    assert repo.count(StrategyQuery(name_contains="alpha")) == 0
    assert repo.count(StrategyQuery(name_contains="beta")) == 1


def test_strategies_stored_before_the_name_index_existed_are_indexed_by_the_upgrade(db_path: Path) -> None:
    from alembic import command

    from infrastructure.db.migrate import _config

    engine = create_sqlite_engine(db_path)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    old = SqlStrategyRepository(engine)
    old.add_many([item(n) for n in NAMES], 1)
    with engine.connect() as conn:
        assert not old._indexed(conn)  # schema 0005: no index yet
    upgrade_to_head(engine)
    repo = SqlStrategyRepository(engine)
    assert [s.name for s in repo.page(StrategyQuery(name_contains="breakout"), 10).items] == ["Donchian 20 breakout"]
    assert repo._has_names_index
    engine.dispose()
