"""The `quantdesk` entry point: global options, one sub-command per capability, errors as one line."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from app.errors import UserError

# Each module exposes `register(subparsers)`; a sub-command sets `func(args) -> int`. Only the module of the
# command being run is imported: `quantdesk --help` lists the others from this table without loading numpy,
# numba, aiohttp or Qt.
COMMANDS: dict[str, tuple[str, str]] = {
    "import-csv": ("app.commands.data", "import candles from a CSV file into the database"),
    "export-csv": ("app.commands.data", "export stored candles to CSV (time,open,high,low,close,volume)"),
    "db": ("app.commands.data", "inspect or prune the database"),
    "collect": ("app.commands.market", "download candles from an exchange into the database (resumable)"),
    "markets": ("app.commands.market", "list an exchange's markets"),
    "simulator": ("app.commands.market", "run the offline exchange simulator (Upbit and Binance formats)"),
    "strategy": ("app.commands.strategy", "validate, import, export and list strategies; check one for look-ahead"),
    "backtest": ("app.commands.backtest", "backtest a strategy on stored candles or a CSV file"),
    "backtest-runs": ("app.commands.backtest", "list, show or delete stored backtest runs"),
    "paper": ("app.commands.live", "paper-trade a strategy on the live feed (demo = the built-in simulator)"),
    "optimize": ("app.commands.optimize",
                 "sweep strategy parameters or walk forward, on a process pool or a Dask cluster"),
    "sweeps": ("app.commands.optimize", "list, show or delete stored parameter sweeps"),
    "collect-funding": ("app.commands.funding", "download funding-rate history into the database (resumable)"),
    "import-funding": ("app.commands.funding", "import funding history from a CSV file"),
    "import-freqtrade": ("app.commands.freqtrade",
                         "import a freqtrade data folder (feather, parquet, json candle files)"),
    "live": ("app.commands.trading", "trade a strategy with REAL orders (armed with --confirm MARKET); status; kill"),
    "keys": ("app.commands.keys", "store, list or delete exchange API keys (kept in the OS keyring)"),
    "kernels": ("app.commands.kernels", "compile the engine ahead of time (faster start-up) or show whether it is"),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in `argv` (after the global options), or None."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantdesk",
        description="QuantDesk: collect candles, chart them, build and backtest strategies, trade on paper. "
        "With no command, starts the desktop app.",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("QUANTDESK_DB"),
        help="SQLite database file (default: $QUANTDESK_DB or quantdesk.db in the user data dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="start the desktop app (the default)")
    gui.set_defaults(func=_run_gui)
    chosen = COMMANDS.get(chosen_command(argv) or "")
    if chosen is not None:
        importlib.import_module(chosen[0]).register(sub)
    for name, (_module, text) in COMMANDS.items():
        if name not in sub.choices:  # listed for --help; never run (its own module was not the one asked for)
            sub.add_parser(name, help=text)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    from app.bootstrap.desktop import run_gui

    return run_gui(args.db)


def main(argv: Sequence[str] | None = None) -> int:
    # A command imports ~110,000 long-lived objects (numpy, numba, Arrow): at the default threshold (700) the
    # collector runs ~250 times, twice over everything, ~65 ms of a stored-candles backtest; here ~17 times, ~28 ms.
    # Cycles are still collected (long-running commands and the desktop included).
    gc.set_threshold(10_000, 10, 10)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    func = getattr(args, "func", _run_gui)
    from app.bootstrap.context import CliContext
    from app.bootstrap.kernels import use_compiled_kernels

    use_compiled_kernels()
    args.ctx = ctx = CliContext(args.db)  # commands receive the container and adapters through this
    try:
        code = func(args)
        sys.stdout.flush()  # a reader that went away shows here, inside the handlers below
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output's reader went away (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # a file the user named: missing, a folder, not allowed …
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug: one line for the user, the traceback in the log file
        print(f"error: unexpected {type(err).__name__}: {err} (a bug; details in {_log_bug()})", file=sys.stderr)
        return 70
    finally:
        ctx.close()
    return int(code or 0)


def entry() -> int:
    """The process entry (`quantdesk`, `python -m app`): `main()`, then the heap is frozen for the exit, whose last
    collections would otherwise walk every object the command loaded once more (~0.13 s after a backtest)."""
    code = main()
    gc.freeze()
    return code


def _log_bug() -> str:
    """Write the current exception's traceback to the app log; where it went."""
    import traceback

    from app.bootstrap.container import default_log_dir

    try:
        folder = default_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "cli-errors.log"
        with path.open("a", encoding="utf-8") as f:
            f.write(traceback.format_exc() + "\n")
        return str(path)
    except OSError:
        return "(the log folder is not writable)"


if __name__ == "__main__":
    raise SystemExit(entry())
