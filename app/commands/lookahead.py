"""`strategy check-lookahead`: cut the data at several bars and prove earlier signals and trades do not change."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.commands.common import add_range_args, open_container, printable, timeframe_arg
from app.errors import DataError, UserError
from app.timeparse import format_ms, parse_range

if TYPE_CHECKING:
    from domain.market import CandleSeries

MAX_SHOWN = 20


def register(ssub: Any) -> None:
    """Add `check-lookahead` to the `strategy` sub-commands."""
    c = ssub.add_parser(
        "check-lookahead", help="cut the data at several bars and re-run: no earlier value, signal or trade may change",
        description="Evaluates and backtests the strategy on all the candles, then on the candles cut after "
        "several bars (spread over the data, plus seeded random ones). Every operand value and signal on a kept "
        "bar and every trade closed by the cut must be the same both ways; a change means some value read later bars. "
        "Exits with status 1 and names the bar, the cut and the signal or trade when anything changed.")
    c.add_argument("strategy", metavar="STRATEGY", help="a strategy JSON file, or the name of a stored strategy")
    c.add_argument("--csv", metavar="FILE", help="read candles from this CSV file (the database is not used)")
    c.add_argument("--exchange", help="stored candles: exchange (upbit, binance, demo, csv, ...)")
    c.add_argument("--market", help="stored candles: market symbol, e.g. KRW-BTC")
    c.add_argument("--timeframe", type=timeframe_arg, help="bar length (with --csv: default inferred from spacing)")
    add_range_args(c)
    c.add_argument("--cuts", type=int, default=8, metavar="N",
                   help="cuts spread evenly over the data (default 8), plus N/2 (at least 2) random ones")
    c.add_argument("--seed", type=int, default=0, help="seed of the random cuts (default 0)")
    c.set_defaults(func=check_lookahead_command)


def _series(args: argparse.Namespace) -> tuple[CandleSeries, str]:
    """The candles to check and how to name them."""
    from app.commands.run_inputs import csv_series
    from domain.market import SeriesKey

    start, end = parse_range(args.start, args.end)
    if bool(args.csv) == bool(args.exchange or args.market):
        raise UserError("give either --csv FILE or --exchange E --market M --timeframe TF")
    if args.csv:
        series = csv_series(args, start, end)
        return series, f"{printable(args.csv)} ({series.timeframe.code})"
    if not (args.exchange and args.market and args.timeframe):
        raise UserError("--exchange, --market and --timeframe are all needed for stored candles")
    key = SeriesKey(args.exchange, args.market, args.timeframe)
    series = open_container(args).candles.read(key, start, end)
    if len(series) == 0:
        raise DataError(f"no candles stored for {key} in the requested range; collect or import them first")
    return series, printable(str(key))


def check_lookahead_command(args: argparse.Namespace) -> int:
    from app.backtests.worker import check_series
    from app.commands.run_inputs import strategy_from_args
    from domain.strategy import check_timeframes
    from domain.strategy.lookahead import check_lookahead

    if not 1 <= args.cuts <= 1000:
        raise UserError(f"--cuts: must be between 1 and 1000, got {args.cuts}")
    strategy, _ = strategy_from_args(args)
    series, where = _series(args)
    problems = check_timeframes(strategy, series.timeframe)
    if problems:
        raise UserError(f"strategy {printable(strategy.name)} cannot run on {where}: "
                        + "; ".join(str(p) for p in problems))
    bad = check_series(series)
    if bad:
        raise DataError(f"{where}: {bad}")
    report = check_lookahead(strategy, series, cuts=args.cuts, random_cuts=max(2, args.cuts // 2), seed=args.seed)
    if not report.cuts:
        raise DataError(f"{where}: {report.bars} bars are too few to cut before the strategy's warm-up ends")
    print(f"look-ahead check: {printable(strategy.name)} on {where}, {report.bars} bars, {len(report.cuts)} cuts")
    for c in report.changes[:MAX_SHOWN]:
        print(f"CHANGED {c.what} at {format_ms(c.ts)} (bar {c.bar}): {c.full} on all the data, {c.truncated} "
              f"with the data cut after {format_ms(c.cut_ts)} (bar {c.cut})")
    if len(report.changes) > MAX_SHOWN:
        print(f"... and {len(report.changes) - MAX_SHOWN} more changes")
    if report.changes:
        print(f"FAILED: {len(report.changes)} change(s) at {len({c.cut for c in report.changes})} of "
              f"{len(report.cuts)} cuts; the strategy reads values from bars after the one it decides on")
        return 1
    print(f"ok: no change in {report.values_compared:,} operand values, {report.signals_compared:,} signals and "
          f"{report.trades_compared:,} closed trades compared before the cuts")
    return 0
