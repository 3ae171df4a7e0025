"""`quantdesk backtest`: run a strategy on stored candles or straight from a CSV file; print stats or JSON."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app.commands.common import add_range_args, open_container, timeframe_arg
from app.commands.output import iso_times, write_json
from app.commands.run_inputs import (
    add_futures_args,
    add_settings_args,
    csv_series_soon,
    futures_settings,
    settings_from_args,
    strategy_from_args,
)
from app.errors import DataError, UserError
from app.timeparse import format_ms, parse_range
from domain.market import SeriesKey

if TYPE_CHECKING:  # the engine (numba) loads inside the command, while a CSV file is being read
    from domain.backtest import TradeTable
    from domain.backtest.run import BacktestResult
    from domain.strategy import Strategy


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backtest", help="backtest a strategy on stored candles or a CSV file",
        description="Signals on each bar's close; market orders fill at the next bar's open (or on the same "
        "close with --trade-on-close). Statistics use backtesting.py's definitions.")
    p.add_argument("--strategy", required=True, metavar="FILE_OR_NAME",
                   help="a strategy JSON file, or the name of a stored strategy")
    p.add_argument("--csv", metavar="FILE", help="read candles from this CSV file (the database is not used)")
    p.add_argument("--exchange", help="stored candles: exchange (upbit, binance, demo, csv, ...)")
    p.add_argument("--market", help="stored candles: market symbol, e.g. KRW-BTC")
    p.add_argument("--timeframe", type=timeframe_arg, help="bar length (with --csv: default inferred from spacing)")
    add_range_args(p)
    add_settings_args(p)
    add_futures_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (stats and trades)")
    p.set_defaults(func=_backtest)

    runs = sub.add_parser("backtest-runs", help="list, show or delete stored backtest runs")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    ls = rsub.add_parser("list", help="stored runs, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(func=_list_runs)
    show = rsub.add_parser("show", help="a stored run's statistics (and trades with --json)")
    show.add_argument("run_id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show_run)
    rm = rsub.add_parser("delete", help="delete a stored run")
    rm.add_argument("run_id", type=int)
    rm.set_defaults(func=_delete_run)








def _backtest(args: argparse.Namespace) -> int:
    read_csv = csv_series_soon(args) if args.csv and not (args.exchange or args.market) else None
    settings = settings_from_args(args)
    start, end = parse_range(args.start, args.end)
    if bool(args.csv) == bool(args.exchange or args.market):
        raise UserError("give either --csv FILE or --exchange E --market M --timeframe TF")
    funding_note = None
    if args.csv or (args.exchange and args.market and args.timeframe):
        settings, funding_note = futures_settings(args, settings)
    strategy, strategy_id = strategy_from_args(args)
    if read_csv is not None:
        from app.backtests.worker import prepare_failure, warm_engine
        from domain.backtest.run import run_backtest

        warm_engine()  # numba's set-up, while Arrow is still parsing the file
        series = read_csv(start, end)
        failure = prepare_failure(strategy, series)
        if failure:
            raise DataError(f"{args.csv}: {failure}")
        result, run_id, where = run_backtest(strategy, series, settings), None, f"{args.csv} ({series.timeframe.code})"
    else:
        if not (args.exchange and args.market and args.timeframe):
            raise UserError("--exchange, --market and --timeframe are all needed for stored candles")
        from app.backtests.service import RunBacktest

        key = SeriesKey(args.exchange, args.market, args.timeframe)
        done = open_container(args).backtests.run_here(RunBacktest(strategy, key, start, end, settings, strategy_id))
        result, run_id, where = done.result, done.run_id, str(key)
    _print(strategy, result, run_id, where, args.json, funding_note)
    return 0


def trade_rows(trades: TradeTable) -> list[dict[str, Any]]:
    """One plain dict per trade for JSON: side and exit reason as names, times ISO 8601, duration in days
    (the keys in the order `TradeTable.records()` gives them, `duration_ms` replaced by `duration_days`)."""
    from domain.backtest.trades import EXIT_REASONS, SIDE_NAMES

    cols: dict[str, list[Any]] = {name: arr.tolist() for name, arr in trades.columns().items()}
    cols["side"] = [SIDE_NAMES[x] for x in cols["side"]]
    cols["exit_reason"] = [EXIT_REASONS[x] for x in cols["exit_reason"]]
    cols["entry_time"], cols["exit_time"] = iso_times(trades.entry_time), iso_times(trades.exit_time)
    del cols["duration_ms"]
    cols["duration_days"] = (trades.duration_ms / 86_400_000).tolist()
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _print(strategy: Strategy, result: BacktestResult, run_id: int | None, where: str, as_json: bool,
           funding_note: str | None = None) -> None:
    from domain.backtest.run import json_value

    if as_json:
        doc = {"strategy": strategy.name, "data": where, "run_id": run_id,
               "stats": {k: json_value(v) for k, v in result.stats.items()}, "trades": trade_rows(result.trades)}
        if funding_note is not None:
            doc["funding"] = funding_note
        write_json(doc, sys.stdout)
        return
    from app.backtests.display import stat_text

    print(f"{strategy.name} on {where}")
    if funding_note is not None:
        print(funding_note)
    stats = {k: json_value(v) for k, v in result.stats.items()}
    width = max(len(k) for k in stats)
    for key, value in stats.items():
        print(f"{key:<{width}}  {stat_text(key, value, stats)}")
    saved = f"; stored as run {run_id}" if run_id is not None else ""
    print(f"{len(result.trades)} closed trades{saved}")


def _list_runs(args: argparse.Namespace) -> int:
    from app.backtests.provenance import costs_text

    rows = open_container(args).backtests.list(limit=args.limit)
    if not rows:
        print("no stored backtest runs")
    for r in rows:
        ret = "--" if r.return_pct is None else f"{r.return_pct:+.2f}%"
        mark = f"  * {r.overridden} overridden" if r.overridden else ""
        print(f"{r.id:>5}  {format_ms(r.created_ms)}  {r.strategy_name:<24} {r.exchange}:{r.symbol}:{r.timeframe:<4} "
              f"{format_ms(r.start_ms)} .. {format_ms(r.end_ms)}  {r.trades:>6} trades  {ret:>10}  "
              f"{costs_text(r.commission, r.slippage)}{mark}")
    return 0


def _show_run(args: argparse.Namespace) -> int:
    from app.backtests.display import market_money_label, stat_text
    from app.backtests.provenance import costs_text, fill_rule, overrides_text, run_document

    run = open_container(args).backtests.get(args.run_id)
    if args.json:
        write_json(run_document(run), sys.stdout)
        return 0
    s = run.summary
    print(f"run {s.id}: {s.strategy_name} on {s.exchange}:{s.symbol}:{s.timeframe}, "
          f"{format_ms(s.start_ms)} .. {format_ms(s.end_ms)} ({s.bars} bars)")
    print(f"cash {run.settings.get('cash', 0):,.2f}, {costs_text(s.commission, s.slippage)}, "
          f"fills {fill_rule(run.settings)}")
    if run.overrides:
        print(f"overridden (saved → this run): {overrides_text(run.overrides)}")
    labels = {k: market_money_label(k, s.exchange, s.symbol) for k in run.stats}
    width = max(len(k) for k in labels.values())
    for key, value in run.stats.items():
        print(f"{labels[key]:<{width}}  {stat_text(key, value, run.stats)}")
    return 0


def _delete_run(args: argparse.Namespace) -> int:
    if not open_container(args).backtests.delete(args.run_id):
        raise UserError(f"no backtest run with id {args.run_id}")
    print(f"deleted run {args.run_id}")
    return 0
