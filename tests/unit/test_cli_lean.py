"""The command line loads only the module of the command being run."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from app.bootstrap.cli import COMMANDS, build_parser, chosen_command


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
