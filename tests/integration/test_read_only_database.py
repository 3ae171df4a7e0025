"""A database whose file or folder is not writable: reading commands work, writing ones say "read-only"."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from backtesting.test import GOOG

from app.bootstrap.cli import main
from tests.integration.unprivileged import how_permissions_bind, run_cli

STRATEGY = {"schema": 1, "name": "SMA cross", "direction": "long_only",
            "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": "crosses_above",
                                    "right": {"var": "sma", "params": {"period": 30}}}]},
            "entry_short": None, "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


@pytest.fixture(scope="module")
def how() -> str:
    """How the CLI is run without write rights here (probed once, when a test first needs it)."""
    found = how_permissions_bind()
    if found is None:
        pytest.skip("no way to run the CLI without write rights here")
    return found


@pytest.fixture(scope="module")
def stocked(how: str) -> Iterator[Path]:
    """A folder others may enter, holding a database with candles, one stored run, and a CSV to import."""
    base = Path(tempfile.mkdtemp(prefix="qd-ro-"))
    base.chmod(0o755)
    folder = base / "db"
    folder.mkdir()
    GOOG.to_csv(base / "goog.csv")
    (base / "sma.json").write_text(json.dumps(STRATEGY))
    (base / "other.json").write_text(json.dumps({**STRATEGY, "name": "Another cross"}))
    db = folder / "q.db"
    assert main(["--db", str(db), "import-csv", str(base / "goog.csv"), "--exchange", "csv", "--market", "GOOG",
                 "--quiet"]) == 0
    assert main(["--db", str(db), "backtest", "--strategy", str(base / "sma.json"), "--exchange", "csv",
                 "--market", "GOOG", "--timeframe", "1d", "--lot-size", "1"]) == 0
    assert main(["--db", str(db), "strategy", "import", str(base / "sma.json")]) == 0
    for p in (base, base / "goog.csv", base / "sma.json", base / "other.json", db):
        p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(base)


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the database's folder (the database, any -wal or -shm) by its content."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(params=["file", "folder"])
def locked(request: pytest.FixtureRequest, stocked: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Path, Path]]:
    """The database made read-only (its file, or its folder), and a home its user can write."""
    db = stocked / "q.db"
    target = db if request.param == "file" else stocked
    mode = target.stat().st_mode
    target.chmod(0o444 if request.param == "file" else 0o555)
    home = stocked.parent / f"home-{request.param}"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    yield db, home
    target.chmod(mode)


@pytest.mark.parametrize("argv", [["db", "info"], ["backtest-runs", "list"], ["backtest-runs", "show", "1"],
                                  ["strategy", "list"]])
def test_reading_commands_work_on_a_read_only_database(locked: tuple[Path, Path], argv: list[str], how: str) -> None:
    db, home = locked
    before = fingerprint(db.parent)
    r = run_cli(how, home, "--db", str(db), *argv)
    assert r.returncode == 0, r.stderr
    assert "GOOG" in r.stdout or "SMA cross" in r.stdout
    assert fingerprint(db.parent) == before


def test_export_from_a_read_only_database_writes_every_bar(locked: tuple[Path, Path], how: str) -> None:
    db, home = locked
    before = fingerprint(db.parent)
    r = run_cli(how, home, "--db", str(db), "export-csv", "--exchange", "csv", "--market", "GOOG",
                "--timeframe", "1d", "-o", str(home / "out.csv"))
    assert r.returncode == 0, r.stderr
    assert len((home / "out.csv").read_text().splitlines()) == len(GOOG) + 1
    assert fingerprint(db.parent) == before


@pytest.mark.parametrize("argv", [
    ["import-csv", "{base}/goog.csv", "--exchange", "csv", "--market", "OTHER"],
    ["db", "delete", "--exchange", "csv", "--market", "GOOG", "--timeframe", "1d", "--all"],
    ["backtest-runs", "delete", "1"],
    ["strategy", "import", "{base}/other.json"],
    ["backtest", "--strategy", "{base}/sma.json", "--exchange", "csv", "--market", "GOOG", "--timeframe", "1d"],
])
def test_writing_commands_say_read_only_in_one_line_and_change_nothing(locked: tuple[Path, Path],
                                                                        argv: list[str], how: str) -> None:
    db, home = locked
    before = fingerprint(db.parent)
    args = [a.replace("{base}", str(db.parent.parent)) for a in argv]
    r = run_cli(how, home, "--db", str(db), *args)
    assert r.returncode != 0
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "read-only" in r.stderr and "corrupt" not in r.stderr and "Traceback" not in r.stderr
    assert fingerprint(db.parent) == before


def test_a_new_database_in_a_read_only_folder_is_refused_in_one_line(stocked: Path, how: str) -> None:
    home = stocked.parent / "home-new"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    stocked.chmod(0o555)
    try:
        r = run_cli(how, home, "--db", str(stocked / "new.db"), "db", "info")
    finally:
        stocked.chmod(0o755)
    assert r.returncode != 0 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "read-only" in r.stderr and not (stocked / "new.db").exists()


def relabel(db: Path, exchange: str) -> None:
    conn = sqlite3.connect(db)  # closed, so that no -wal or -shm file stays behind
    try:
        with conn:
            conn.execute("UPDATE candle_blocks SET exchange = ?", (exchange,))
    finally:
        conn.close()


def test_the_desktops_demo_top_up_leaves_a_read_only_database_as_it_is(stocked: Path, how: str) -> None:
    from tests.integration.unprivileged import run_python

    home = stocked.parent / "home-demo"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    db = stocked / "q.db"
    db.chmod(0o644)
    relabel(db, "demo")  # a Demo series the last run collected
    stocked.chmod(0o555)
    try:
        before = fingerprint(stocked)
        code = (f"import asyncio; from app.bootstrap.container import Container; c = Container.open({str(db)!r}); "
                "print(c.read_only, asyncio.run(c.top_up_demo())); c.close()")
        r = run_python(how, home, "-c", code)
        after = fingerprint(stocked)
    finally:
        stocked.chmod(0o755)
        relabel(db, "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "0"] and after == before


def test_a_read_only_database_of_an_older_schema_says_it_needs_an_upgrade_and_is_left_as_it_was(how: str) -> None:
    from contextlib import closing

    from app.bootstrap.container import Container

    base = Path(tempfile.mkdtemp(prefix="qd-ro-old-"))
    try:
        base.chmod(0o755)
        db = base / "old.db"
        Container.open(db).close()
        with closing(sqlite3.connect(db)) as conn, conn:  # as migration 0006 left it
            conn.execute("DROP TABLE live_orders")
            conn.execute("UPDATE alembic_version SET version_num = '0006'")
        db.chmod(0o444)
        home = base / "home"
        home.mkdir()
        home.chmod(0o777)
        before = fingerprint(base)
        r = run_cli(how, home, "--db", str(db), "db", "info")
        assert r.returncode != 0 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
        assert "read-only" in r.stderr and "0006" in r.stderr and "writable" in r.stderr
        assert fingerprint(base) == before
    finally:
        shutil.rmtree(base)
