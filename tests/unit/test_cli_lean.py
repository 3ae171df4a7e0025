"""The command line loads only the module of the command being run."""

from __future__ import annotations

import argparse
import importlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.bootstrap.cli import COMMANDS, build_parser, chosen_command
from infrastructure.db.migrate import newest_migration

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_table_says_what_each_modules_own_parser_says() -> None:
    for name, (module, text) in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        assert name in sub.choices, f"{module} does not register {name}"
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps[name] == text, name


def test_every_registered_command_is_in_the_table() -> None:
    modules = {module for module, _ in COMMANDS.values()}
    for module in modules:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        assert set(sub.choices) <= set(COMMANDS), module


def test_the_command_is_found_after_the_global_options() -> None:
    assert chosen_command(["--db", "x.db", "db", "info"]) == "db"
    assert chosen_command(["--db=x.db", "backtest", "--csv", "a.csv"]) == "backtest"
    assert chosen_command(["--help"]) is None
    assert "backtest" in build_parser(["backtest"])._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def test_help_loads_no_numpy_numba_qt_or_aiohttp() -> None:
    code = ("import sys, contextlib, io\nfrom app.bootstrap.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "heavy = ('numpy', 'numba', 'PyQt6', 'aiohttp', 'dask', 'sqlalchemy')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def modules_after(argv: list[str], cwd: str) -> set[str]:
    """The top-level packages (and our own modules) loaded by a fresh interpreter running the CLI on `argv`."""
    code = ("import sys, contextlib, io, json\nfrom app.bootstrap.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    code = main({argv!r})\n"
            "assert code == 0, code\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd,
                         timeout=120).stdout
    names = set(json.loads(out))
    return {n.split(".")[0] for n in names} | {n for n in names if n.startswith("app.")}


NEVER_FOR_DATA = {"numba", "llvmlite", "PyQt6", "aiohttp", "dask", "distributed", "pandas", "alembic", "sqlalchemy"}


def test_db_info_on_a_new_database_loads_no_engine_gui_network_sql_toolkit_or_migration_tool(tmp_path: Path) -> None:
    loaded = modules_after(["--db", str(tmp_path / "new.db"), "db", "info"], str(ROOT))
    assert loaded & (NEVER_FOR_DATA | {"pyarrow", "app.market_data.collect"}) == set()
    with sqlite3.connect(tmp_path / "new.db") as conn:  # the check is real: the database was made, at the newest schema
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]


def test_import_csv_into_a_new_database_loads_no_engine_gui_network_sql_toolkit_or_migration_tool(
        tmp_path: Path) -> None:
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n"
                                       "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1.5,2,1,1.2,3\n")
    loaded = modules_after(["--db", str(tmp_path / "new.db"), "import-csv", str(tmp_path / "bars.csv"),
                            "--exchange", "mydata", "--market", "X", "--quiet"], str(ROOT))
    assert loaded & NEVER_FOR_DATA == set()
    assert "pyarrow" in loaded


def test_a_csv_backtest_loads_no_database_gui_or_network_code(tmp_path: Path) -> None:
    close = [100 + (i % 17) - (i % 5) for i in range(200)]
    rows = "".join(f"{1_704_067_200_000 + 60_000 * i},{c},{c + 1},{c - 1},{c},1\n" for i, c in enumerate(close))
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n" + rows)
    doc = {"schema": 1, "name": "SMA", "direction": "long_only",
           "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 3}}, "op": "crosses_above",
                                   "right": {"var": "sma", "params": {"period": 9}}}]},
           "entry_short": None, "exit_long": None, "exit_short": None, "risk": {"position_size_pct": 100}}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    loaded = modules_after(["backtest", "--strategy", str(tmp_path / "s.json"), "--csv", str(tmp_path / "bars.csv"),
                            "--json"], str(ROOT))
    assert loaded & {"sqlalchemy", "alembic", "PyQt6", "aiohttp", "dask", "pandas"} == set()
    assert "numba" in loaded  # the check is real: the engine ran


def test_parsing_a_backtest_or_import_loads_neither_the_engine_nor_the_database_nor_arrow() -> None:
    """What lets those commands start reading the file on a thread before numba and SQLAlchemy load."""
    code = ("import sys\nfrom app.bootstrap.cli import build_parser\n"
            "build_parser(['backtest']).parse_args(['backtest', '--strategy', 's.json', '--csv', 'a.csv'])\n"
            "build_parser(['import-csv']).parse_args(['import-csv', 'a.csv', '--exchange', 'e', '--market', 'm'])\n"
            "print(sorted(m for m in ('numba', 'sqlalchemy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
