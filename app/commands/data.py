"""`import-csv`, `export-csv`, `db info`, `db delete`: moving candles in and out of the store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.commands.common import (
    add_range_args,
    add_series_args,
    candles_soon,
    count_arg,
    open_container,
    printable,
    progress_bar,
    timeframe_arg,
)
from app.commands.safe_output import check_output_path
from app.errors import UserError
from app.market_data.timerange import describe_ms
from app.timeparse import format_ms, parse_range


def register(sub: Any) -> None:
    p = sub.add_parser("import-csv", help="import candles from a CSV file into the database",
                       description="Columns are found by name (time/date, open, high, low, close, volume; any case); "
                       "an unnamed first column is the time, as pandas writes it. Times: ISO 8601, epoch s or ms.")
    p.add_argument("file", help="CSV file")
    p.add_argument("--exchange", required=True)
    p.add_argument("--market", required=True)
    p.add_argument("--timeframe", type=timeframe_arg, help="bar length (default: inferred from the bar spacing)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_import)

    p = sub.add_parser("export-csv", help="export stored candles to CSV (time,open,high,low,close,volume)")
    add_series_args(p)
    add_range_args(p)
    p.add_argument("-o", "--output", help="output file (default: standard output)")
    p.set_defaults(func=_export)

    db = sub.add_parser("db", help="inspect or prune the database")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    info = dbsub.add_parser("info", help="markets, timeframes, first/last bar, row counts and gaps")
    info.add_argument("--gaps", type=count_arg, default=5, metavar="N",
                      help="list at most N gaps and N known-empty ranges per series (default 5)")
    info.set_defaults(func=_info)
    rm = dbsub.add_parser("delete", help="delete stored candles of one series in a range")
    add_series_args(rm)
    add_range_args(rm)
    rm.add_argument("--all", action="store_true", help="delete the whole series (needed when no range is given)")
    rm.set_defaults(func=_delete)


def _import(args: argparse.Namespace) -> int:
    bar: list[Callable[[int, int], None]] = []  # the progress bar, once the database is known to be usable

    def progress(done: int, total: int) -> None:
        for update in bar:
            update(done, total)

    pending = candles_soon(args, args.file, args.timeframe, progress)
    c = open_container(args)  # SQLAlchemy loads and the database is checked (its errors first) while Arrow parses
    with progress_bar(f"importing {args.file}", args.quiet) as update:
        bar.append(update)
        r = c.data.import_series(args.file, pending(), args.exchange, args.market)
    print(f"imported {r.rows} {r.key.timeframe.code} bars into {r.key} "
          f"({format_ms(r.first_ts)} .. {format_ms(r.last_ts)}); "
          f"{r.rows_after - r.rows_before} new, {r.rows - (r.rows_after - r.rows_before)} replaced")
    return 0


def _export(args: argparse.Namespace) -> int:
    from domain.market import SeriesKey

    start, end = parse_range(args.start, args.end)
    c = open_container(args)
    key = SeriesKey(args.exchange, args.market, args.timeframe)
    if args.output:
        target = check_output_path(args.output, c.db_path, temp_suffix=".part")  # the writer renames OUT.part
        n = c.data.export_file(key, target, start, end)
        print(f"wrote {n} bars to {args.output}", file=sys.stderr)
    else:
        c.data.export_to(key, sys.stdout, start, end)
    return 0


def _span(ms: int) -> str:
    minutes = ms // 60_000
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes}m" if minutes < 120 else f"{minutes / 60:g}h"


def _info(args: argparse.Namespace) -> int:
    c = open_container(args)
    rows = c.data.info()
    print(f"database: {c.db_path}")
    if not rows:
        print("no candles stored yet (try: quantdesk import-csv or quantdesk collect)")
        return 0
    print(f"{'exchange':<10} {'market':<14} {'tf':<4} {'first bar':<21} {'last bar':<21} {'rows':>9} {'gaps':>5}")
    for r in rows:
        s = r.stored
        first, last = (describe_ms(s.first_ts), describe_ms(s.last_ts)) if s.rows else ("-", "-")  # known empty only
        print(f"{printable(s.key.exchange):<10} {printable(s.key.symbol):<14} {s.key.timeframe.code:<4} "
              f"{first:<21} {last:<21} {s.rows:>9} {len(r.gaps):>5}")
        for a, b in r.gaps[: args.gaps]:
            print(f"    gap {describe_ms(a)} .. {describe_ms(b)} ({_span(b - a)})")
        if len(r.gaps) > args.gaps:
            print(f"    ... {len(r.gaps) - args.gaps} more gaps")
        if r.known_empty:
            print(f"    {len(r.known_empty)} known-empty ranges (no trades on the exchange; "
                  f"`collect --refetch` asks for them again)")
            longest = sorted(sorted(r.known_empty, key=lambda iv: iv[0] - iv[1])[: args.gaps])
            for a, b in longest:  # the longest ones: a whole day "empty" matters more than a quiet minute
                print(f"    known empty {describe_ms(a)} .. {describe_ms(b)} ({_span(b - a)})")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from domain.market import SeriesKey

    if args.start is None and args.end is None and not args.all:
        raise UserError("db delete without --start/--end deletes the whole series; add --all to mean that")
    start, end = parse_range(args.start, args.end)
    if start is None and end is None and not args.all:
        raise UserError("db delete without --start or --end would delete the whole series; add --all to mean that")
    c = open_container(args)
    n = c.data.delete_range(SeriesKey(args.exchange, args.market, args.timeframe), start, end)
    print(f"deleted {n} bars")
    return 0
