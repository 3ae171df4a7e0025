"""A paper session kept with --keep-positions is never reset by starting its name again without --resume."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.bootstrap.cli import main

ALWAYS_LONG = {
    "schema": 1, "name": "Always long", "direction": "long_only",
    "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
    "entry_short": None, "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None},
}


def stored_history(db: Path, session: str) -> tuple[object, ...]:
    """The session's stored row, orders and fills, read straight from the file."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT status, state, last_bar_ts FROM paper_sessions WHERE session_id = ?",
                           (session,)).fetchone()
        orders = conn.execute("SELECT order_id, side, action, reason, ts FROM paper_orders WHERE session_id = ? "
                              "ORDER BY id", (session,)).fetchall()
        fills = conn.execute("SELECT order_id, side, quantity, price, ts FROM paper_fills WHERE session_id = ? "
                             "ORDER BY id", (session,)).fetchall()
    return row, orders, fills


def paper(db: Path, tmp_path: Path, strategy: Path, *extra: str) -> int:
    return main(["--db", str(db), "paper", "--strategy", str(strategy), "--market", "KRW-BTC", "--timeframe", "1m",
                 "--session", "kept", "--speed", "300", "--log-dir", str(tmp_path / "logs"), *extra])


def test_starting_a_kept_session_again_without_resume_refuses_and_keeps_its_orders_fills_and_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "q.db"
    strategy = tmp_path / "long.json"
    strategy.write_text(json.dumps(ALWAYS_LONG))
    assert paper(db, tmp_path, strategy, "--duration", "3s", "--keep-positions") == 0
    capsys.readouterr()
    kept = stored_history(db, "kept")
    row, orders, fills = kept
    assert row is not None and row[0] == "running" and json.loads(row[1])["side"] == 1  # type: ignore[index]
    assert orders and fills  # the entry is on record

    code = paper(db, tmp_path, strategy, "--duration", "1s")
    out, err = capsys.readouterr()
    assert code != 0
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: ")
    assert "'kept'" in err and "--resume" in err and "--session" in err
    assert "paper session kept" not in out  # nothing started
    assert stored_history(db, "kept") == kept


def test_a_kept_session_still_resumes_with_its_position_after_a_refused_restart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "q.db"
    strategy = tmp_path / "long.json"
    strategy.write_text(json.dumps(ALWAYS_LONG))
    assert paper(db, tmp_path, strategy, "--duration", "3s", "--keep-positions") == 0
    _, _, fills_before = stored_history(db, "kept")
    assert paper(db, tmp_path, strategy, "--duration", "1s") != 0
    capsys.readouterr()
    code = main(["--db", str(db), "paper", "--resume", "--speed", "300", "--duration", "2s",
                 "--log-dir", str(tmp_path / "logs")])
    out = capsys.readouterr().out
    assert code == 0 and "paper session kept" in out
    row, _, fills_after = stored_history(db, "kept")
    assert fills_after[: len(fills_before)] == fills_before  # type: ignore[index]
    assert [f[1] for f in fills_after[len(fills_before):]] == [-1]  # type: ignore[index]  # only the flatten
    assert row[0] != "running"  # type: ignore[index]


def test_the_store_refuses_to_recreate_a_kept_session_and_replaces_a_finished_one_only_when_told(
        tmp_path: Path) -> None:
    from app.errors import UserError
    from infrastructure.db.engine import create_sqlite_engine
    from infrastructure.db.migrate import upgrade_to_head
    from infrastructure.db.paper import SqlPaperStore

    engine = create_sqlite_engine(tmp_path / "paper.db")
    upgrade_to_head(engine)
    store = SqlPaperStore(engine)
    fill = {"order_id": "o1", "side": 1, "quantity": 2.0, "price": 10.0, "commission": 0.01, "reason": "signal",
            "ts": 60_000, "realized_pnl": 0.0}
    store.create("kept", {"v": 1}, 1)
    store.add_fill("kept", fill)
    store.save_state("kept", "running", {"side": 1}, 60_000, 2)
    with pytest.raises(UserError, match="--resume"):
        store.create("kept", {"v": 2}, 3)
    assert store.get("kept").spec == {"v": 1} and len(store.fills("kept")) == 1  # type: ignore[union-attr]
    with pytest.raises(UserError, match="--resume"):
        store.create("kept", {"v": 2}, 3, replace=True)  # a kept session is resumed, never replaced
    store.save_state("kept", "flattened", {"side": 0}, 60_000, 4)
    with pytest.raises(UserError, match="--new-session"):
        store.create("kept", {"v": 2}, 5)  # finished: its history goes only when asked
    assert store.get("kept").spec == {"v": 1} and len(store.fills("kept")) == 1  # type: ignore[union-attr]
    store.create("kept", {"v": 2}, 5, replace=True)
    assert store.get("kept").spec == {"v": 2} and store.fills("kept") == []  # type: ignore[union-attr]
    engine.dispose()


def test_starting_a_finished_sessions_name_again_refuses_and_keeps_its_history_until_new_session_is_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "q.db"
    strategy = tmp_path / "long.json"
    strategy.write_text(json.dumps(ALWAYS_LONG))
    assert paper(db, tmp_path, strategy, "--duration", "3s") == 0  # flattened on exit: a finished session
    capsys.readouterr()
    finished = stored_history(db, "kept")
    row, orders, fills = finished
    assert row[0] == "flattened" and [f[1] for f in fills] == [1, -1]  # type: ignore[index]

    code = paper(db, tmp_path, strategy, "--duration", "1s")
    out, err = capsys.readouterr()
    assert code != 0 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "'kept'" in err and "--session" in err and "--new-session" in err and "flattened" in err
    assert "paper session kept" not in out and stored_history(db, "kept") == finished

    assert paper(db, tmp_path, strategy, "--duration", "2s", "--new-session") == 0
    assert "paper session kept" in capsys.readouterr().out
    _, _, new_fills = stored_history(db, "kept")
    # the old history went, as asked: one session's fills, not two (the Demo stream is deterministic, so the new
    # session's entry may equal the old one's; its flatten, after 2 s rather than 3 s, does not)
    assert new_fills and len(new_fills) == len(fills) and new_fills != fills  # type: ignore[arg-type]


def test_a_log_dir_that_is_a_file_or_holds_the_database_under_a_log_name_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strategy = tmp_path / "long.json"
    strategy.write_text(json.dumps(ALWAYS_LONG))
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("keep me")
    db = tmp_path / "audit.jsonl"  # a database whose name is the audit log's
    assert main(["--db", str(db), "strategy", "list"]) == 0
    capsys.readouterr()
    before = db.read_bytes()
    for log_dir, said in ((a_file, "not a folder"), (tmp_path, "database")):
        code = main(["--db", str(db), "paper", "--strategy", str(strategy), "--market", "KRW-BTC",
                     "--duration", "1s", "--speed", "300", "--log-dir", str(log_dir)])
        out, err = capsys.readouterr()
        assert code != 0 and "Traceback" not in out + err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and said in err, err
    assert a_file.read_text() == "keep me" and db.read_bytes() == before


def test_every_fill_in_the_audit_log_follows_its_order_request_including_the_flatten_on_exit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strategy = tmp_path / "long.json"
    strategy.write_text(json.dumps(ALWAYS_LONG))
    db = tmp_path / "q.db"
    assert paper(db, tmp_path, strategy, "--duration", "3s") == 0  # flattens the position on exit
    capsys.readouterr()
    events = [json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    requested: list[str] = []
    filled: list[str] = []
    for e in events:
        if e["kind"] == "OrderRequested":
            requested.append(e["order_id"])
        elif e["kind"] == "OrderFilled":
            assert e["order_id"] in requested, f"fill of {e['order_id']} before (or without) its request"
            filled.append(e["order_id"])
    assert len(filled) >= 2 and sorted(filled) == sorted(requested)
    _, orders, fills = stored_history(db, "kept")
    assert len(orders) == len(fills)  # the store has the flatten order too  # type: ignore[arg-type]


def test_a_session_stopped_by_a_dead_stream_is_reported_on_the_console_even_without_a_position(
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.commands.live import _print_event
    from app.live.events import SessionFlattened

    _print_event(SessionFlattened("s1", "market data stream died: connection refused", 0, 1))
    _print_event(SessionFlattened("s2", "market data stream died: connection refused", 1, 1))
    _print_event(SessionFlattened("s3", "shutdown", 0, 1))  # a normal exit with nothing open: nothing to say
    out = capsys.readouterr().out.splitlines()
    assert out == ["s1: stopped, no open position: market data stream died: connection refused",
                   "s2: flattened 1 position(s): market data stream died: connection refused"]
