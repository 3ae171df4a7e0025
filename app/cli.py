"""The `quantdesk` command line: global options, one sub-command per capability, errors as one line."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from app.errors import UserError

# Each module exposes `register(subparsers)`; a sub-command sets `func(args) -> int`.
COMMAND_MODULES = (
    "app.commands.data",
    "app.commands.freqtrade",
    "app.commands.market",
    "app.commands.strategy",
    "app.commands.backtest",
    "app.commands.live",
    "app.commands.optimize",
)


def build_parser() -> argparse.ArgumentParser:
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
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue  # capability not built yet
            raise
        module.register(sub)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    from app.main import run_gui

    return run_gui(args.db)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", _run_gui)
    try:
        code = func(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        from app.commands.common import close_containers

        close_containers()
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
