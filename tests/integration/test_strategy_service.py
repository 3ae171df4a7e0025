"""StrategyService over a real SQLite store: mistakes come back as issues, imports are all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap.container import Container, bundled_strategies
from app.strategies.ports import StrategyQuery
from app.strategies.service import StrategyService
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.strategies import SqlStrategyRepository


class FakeClock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def now_ms(self) -> int:
        self.ms += 1_000
        return self.ms


def definition(name: str) -> dict[str, Any]:
    return {"schema": 1, "name": name, "direction": "long_only",
            "entry_long": {"all": [{"left": {"var": "rsi", "params": {"period": 14}}, "op": "lt",
                                    "right": {"const": 30}}]},
            "entry_short": None, "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 2, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


@pytest.fixture
def service(db_path: Path) -> StrategyService:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return StrategyService(SqlStrategyRepository(engine), FakeClock())


def test_create_stores_a_valid_definition_with_clock_times(service: StrategyService) -> None:
    result = service.create(definition("RSI dip"), notes="n", tags=[" a ", "b", "a", ""])
    assert result.ok and result.record is not None
    assert result.record.summary.tags == ("a", "b")
    assert result.record.summary.created_ms == 1_700_000_001_000


def test_an_invalid_definition_returns_every_issue_and_stores_nothing(service: StrategyService) -> None:
    doc = definition("")
    doc["entry_long"]["all"][0]["left"]["params"]["period"] = 0
    result = service.create(doc, tags=["x" * 65])
    assert not result.ok
    assert [i.path for i in result.errors] == ["name", "entry_long.all[0].left.params.period", "tags[0]"]
    assert service.count() == 0


def test_a_tag_with_a_line_break_or_control_character_is_refused_by_its_index(service: StrategyService) -> None:
    result = service.create(definition("Tagged"), tags=["ok", "two\nlines", "unit\x1fsep"])
    assert not result.ok
    assert [(i.path, i.message) for i in result.errors] == [
        ("tags[1]", "must be printable text (no line breaks or control characters)"),
        ("tags[2]", "must be printable text (no line breaks or control characters)")]
    assert service.count() == 0


def test_tags_come_back_sorted_on_every_kind_of_page(service: StrategyService) -> None:
    service.create(definition("Tagged"), tags=["zeta", "alpha", "Mid"])
    service.create(definition("Bare"))
    from app.strategies.ports import StrategyQuery

    keyset = {s.name: s.tags for s in service.page(StrategyQuery(), 10).items}
    by_offset = {s.name: s.tags for s in service.page_at(StrategyQuery(), 0, 10)}
    assert keyset == by_offset == {"Tagged": ("Mid", "alpha", "zeta"), "Bare": ()}


def test_a_duplicate_name_is_an_issue_on_the_name(service: StrategyService) -> None:
    service.create(definition("Same"))
    result = service.create(definition("same"))
    assert [(i.path, "already exists" in i.message) for i in result.errors] == [("name", True)]


def test_update_keeps_notes_and_tags_unless_given(service: StrategyService) -> None:
    rec = service.create(definition("A"), notes="keep", tags=["t"]).record
    assert rec is not None
    doc = definition("A renamed")
    updated = service.update(rec.id, doc).record
    assert updated is not None and (updated.summary.notes, updated.summary.tags) == ("keep", ("t",))
    assert updated.summary.updated_ms > rec.summary.updated_ms
    assert not service.update(999, doc).ok


def test_duplicate_picks_a_free_copy_name(service: StrategyService) -> None:
    rec = service.create(definition("Base"), tags=["t"]).record
    assert rec is not None
    first = service.duplicate(rec.id).record
    second = service.duplicate(rec.id).record
    assert first is not None and second is not None
    assert (first.name, second.name) == ("Base (copy)", "Base (copy 2)")
    assert first.summary.tags == ("t",) and first.definition["entry_long"] == rec.definition["entry_long"]


def test_export_then_import_round_trips_many_strategies(service: StrategyService, tmp_path: Path) -> None:
    ids = [service.create(definition(f"S{i}"), notes=f"note {i}", tags=["x"]).record.id  # type: ignore[union-attr]
           for i in range(3)]
    text = service.export_json(ids)
    assert [d["name"] for d in json.loads(text)] == ["S0", "S1", "S2"]
    for sid in ids:
        service.delete(sid)
    result = service.import_texts([("all.json", text)])
    assert result.ok and result.created == ("S0", "S1", "S2")
    s1 = service.get_by_name("S1")
    assert s1 is not None and (s1.summary.notes, s1.summary.tags) == ("note 1", ("x",))


def test_import_is_all_or_nothing_and_names_each_problem(service: StrategyService) -> None:
    service.create(definition("Exists"))
    bad = definition("Bad")
    bad["direction"] = "up"
    result = service.import_texts([
        ("a.json", json.dumps([definition("Fresh"), definition("Exists")])),
        ("b.json", json.dumps(bad)),
        ("c.json", json.dumps(definition("fresh"))),
        ("d.json", "{\n  \"schema\": 1,\n  oops\n}"),
    ])
    assert not result.ok and result.created == ()
    got = [str(e) for e in result.errors]
    assert "b.json: direction: must be one of long_only, short_only, long_short, not 'up'" in got
    assert any(g.startswith("c.json: name:") and "appears twice" in g for g in got)
    assert any(g.startswith("d.json: malformed JSON at line 3, column 3") for g in got)
    assert "a.json: name: a strategy named 'Exists' already exists" in got
    assert service.count() == 1


def test_samples_load_into_an_empty_database_once(service: StrategyService) -> None:
    samples = bundled_strategies()
    assert service.ensure_samples(samples) == len(samples) == 6
    for rec in service.page(StrategyQuery(tag="sample")).items:
        service.delete(rec.id)
    assert service.ensure_samples(samples) == 0
    assert service.count() == 0


def test_the_container_builds_the_service_and_loads_the_samples(db_path: Path) -> None:
    container = Container.open(db_path)
    try:
        names = [r.name for r in container.strategies.page(StrategyQuery()).items]
        assert names == ["Bollinger breakout", "ICT 1h bias, 5m entries", "MACD trend with ATR trail",
                         "RSI mean reversion", "SMA 10/20 cross",
                         "Upbit scale-in (add on strength, average down twice)"]
        rsi = container.strategies.strategy(container.strategies.get_by_name("RSI mean reversion").id)
        assert rsi.direction == "long_only" and rsi.risk.stop_loss_pct == 2
    finally:
        container.close()
