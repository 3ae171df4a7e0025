"""`-o FILE` of every writing command never lands on the open database, its journal files or a special file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.bootstrap.cli import main

CSV = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,1
2024-01-01T00:01:00Z,100.5,102,100,101,2
2024-01-01T00:02:00Z,101,101.5,100.5,101.25,3
"""
STRATEGY = {
    "schema": 1, "name": "Out test", "direction": "long_only",
    "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
    "entry_short": None, "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None},
}


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database holding three candles and one strategy, closed (its log checkpointed into the file)."""
    path = tmp_path / "q.db"
    (tmp_path / "in.csv").write_text(CSV)
    (tmp_path / "s.json").write_text(json.dumps(STRATEGY))
    assert main(["--db", str(path), "import-csv", str(tmp_path / "in.csv"), "--exchange", "upbit",
                 "--market", "KRW-BTC", "--quiet"]) == 0
    assert main(["--db", str(path), "strategy", "import", str(tmp_path / "s.json")]) == 0
    capsys.readouterr()
    return path


def export_csv(db: Path, output: str) -> list[str]:
    return ["--db", str(db), "export-csv", "--exchange", "upbit", "--market", "KRW-BTC", "--timeframe", "1m",
            "-o", output]


def export_strategy(db: Path, output: str) -> list[str]:
    return ["--db", str(db), "strategy", "export", "Out test", "-o", output]


COMMANDS = [pytest.param(export_csv, id="export-csv"), pytest.param(export_strategy, id="strategy-export")]
Argv = Callable[[Path, str], list[str]]


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "wrote" not in out + err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_that_is_the_database_itself_is_refused_and_the_database_is_unchanged(
        command: Argv, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = db.read_bytes()
    message = refused(capsys, command(db, str(db)))
    assert "database" in message and str(db) in message
    assert db.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_an_output_named_like_the_database_journal_files_is_refused_even_when_absent(
        command: Argv, suffix: str, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = db.read_bytes()
    refused(capsys, command(db, f"{db}{suffix}"))
    assert not Path(f"{db}{suffix}").exists()
    assert db.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_reaching_the_database_through_a_symlink_a_hard_link_or_a_relative_path_is_refused(
        command: Argv, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = db.read_bytes()
    (tmp_path / "link.db").symlink_to(db)
    os.link(db, tmp_path / "hard.db")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    for output in (str(tmp_path / "link.db"), str(tmp_path / "hard.db"), "../q.db", "../sub/../q.db"):
        refused(capsys, command(db, output))
    assert (tmp_path / "link.db").is_symlink()
    assert db.read_bytes() == before


def test_a_database_opened_through_a_symlink_is_protected_under_its_real_name(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alias = tmp_path / "alias.db"
    alias.symlink_to(db)
    before = db.read_bytes()
    refused(capsys, export_csv(alias, str(db)))
    refused(capsys, export_strategy(alias, f"{db}-wal"))
    assert db.read_bytes() == before


def test_an_export_whose_temporary_file_would_be_the_database_is_refused(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """export-csv writes `OUT.part` and renames it over OUT: with the database named OUT.part that moves it away."""
    part_db = tmp_path / "out.csv.part"
    db.rename(part_db)
    before = part_db.read_bytes()
    refused(capsys, export_csv(part_db, str(tmp_path / "out.csv")))
    assert part_db.read_bytes() == before and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_writing_into_place_through_a_symlink_writes_the_target_and_keeps_the_link(
        command: Argv, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "real.out"
    target.write_text("old")
    link = tmp_path / "link.out"
    link.symlink_to(target)
    assert main(command(db, str(link))) == 0
    capsys.readouterr()
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text() != "old" and target.read_text().strip()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_a_device_or_a_folder_as_output_is_refused(
        command: Argv, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(capsys, command(db, str(fifo)))
    assert "not a regular file" in refused(capsys, command(db, os.devnull))
    assert "folder" in refused(capsys, command(db, str(tmp_path)))
    assert Path(os.devnull).is_char_device()
