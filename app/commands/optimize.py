"""`quantdesk optimize`: sweep strategy parameters (grid or random) or walk forward, on a process pool or Dask."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from app.commands.common import add_range_args, open_container, progress_bar, timeframe_arg
from app.commands.output import write_json
from app.commands.run_inputs import (
    add_futures_args,
    add_settings_args,
    csv_series,
    futures_settings,
    settings_from_args,
    strategy_from_args,
)
from app.errors import UserError
from app.sweeps.plan import ParamRange, RunSweep
from app.sweeps.service import SweepJobHandle
from app.sweeps.summary import outcome_json
from app.timeparse import format_ms, parse_range
from domain.market import SeriesKey
from domain.strategy import strategy_to_dict
from domain.sweep import DEFAULT_CAP, DEFAULT_MIN_TRADES, DEFAULT_OBJECTIVE, short_label

STAT_COLUMNS = ("# Trades", "Return [%]", "Sharpe (bars)", "Sharpe Ratio", "Max. Drawdown [%]")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "optimize", help="sweep strategy parameters or walk forward, on a process pool or a Dask cluster",
        description="Backtest every combination (or a seeded random sample) of the given parameter ranges and rank "
        "them by an objective. PATH is a JSON path into the strategy, e.g. entry_long.all[0].left.params.period; "
        "join paths with commas to move them together. RANGE is start:stop:step (stop included) or a list a,b,c.")
    p.add_argument("--strategy", required=True, metavar="FILE_OR_NAME", help="strategy JSON file or stored name")
    p.add_argument("--param", action="append", required=True, metavar="PATH=RANGE", help="a parameter to sweep")
    p.add_argument("--csv", metavar="FILE", help="read candles from this CSV file instead of the database")
    p.add_argument("--exchange", help="stored candles: exchange")
    p.add_argument("--market", help="stored candles: market symbol")
    p.add_argument("--timeframe", type=timeframe_arg, help="bar length (with --csv: default inferred)")
    add_range_args(p)
    p.add_argument("--objective", default=DEFAULT_OBJECTIVE,
                   help=f'statistic to rank by (default "{DEFAULT_OBJECTIVE}": the Sharpe ratio of per-bar returns '
                   'annualised by the bar spacing; also "Sortino (bars)", "Return/Drawdown", or any backtest '
                   'statistic such as "Sharpe Ratio" (backtesting.py\'s) or "Return [%%]")')
    p.add_argument("--minimize", action="store_true", help="lower objective values are better")
    p.add_argument("--constraint", action="append", default=[], metavar="STAT OP N",
                   help='e.g. "# Trades>=30" or "Max. Drawdown [%%]>=-25" (repeatable)')
    p.add_argument("--min-trades", type=int, default=DEFAULT_MIN_TRADES, metavar="N",
                   help=f"a point needs at least N closed trades to rank (default {DEFAULT_MIN_TRADES}; at least 1: "
                   "a point without trades never ranks)")
    p.add_argument("--fast-below-slow", action="store_true",
                   help="when two periods of the same indicator kind are swept (e.g. two EMAs, or MACD's fast and "
                   "slow), skip points where the first --param is not below the second; skipped points never run")
    p.add_argument("--method", choices=("grid", "random"), default="grid", help="every combination or a sample")
    p.add_argument("--samples", type=int, help="random: how many points (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random: the generator seed (default 0)")
    p.add_argument("--max-combos", type=int, default=DEFAULT_CAP, help=f"cap on points (default {DEFAULT_CAP})")
    p.add_argument("--workers", type=int, help="local pool size (default: number of cores)")
    p.add_argument("--cluster", metavar="ADDR|local",
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    p.add_argument("--walk-forward", type=int, default=0, metavar="N", help="validate on N walk-forward windows")
    p.add_argument("--oos-fraction", type=float, default=0.25, help="out-of-sample share of a window (0.25)")
    p.add_argument("--anchored", action="store_true", help="in-sample parts all start at the first bar")
    add_settings_args(p)
    add_futures_args(p)
    p.add_argument("--top", type=int, default=10, help="how many results to print (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_optimize)
    from app.commands import sweeps

    sweeps.register(sub)  # stored sweeps: list, show, delete








def _check_args(args: argparse.Namespace) -> None:
    if bool(args.csv) == bool(args.exchange or args.market):
        raise UserError("give either --csv FILE or --exchange E --market M --timeframe TF")
    if not args.csv and not (args.exchange and args.market and args.timeframe):
        raise UserError("--exchange, --market and --timeframe are all needed for stored candles")
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.samples is not None and args.method != "random":
        raise UserError("--samples only applies with --method random")
    if args.min_trades < 1:
        raise UserError(f"--min-trades must be at least 1 (a point without trades has nothing to rank), "
                        f"got {args.min_trades}")
    if args.walk_forward < 0:
        raise UserError("--walk-forward must be a positive number of windows")


def _optimize(args: argparse.Namespace) -> int:
    _check_args(args)
    settings, funding_note = futures_settings(args, settings_from_args(args))
    start, end = parse_range(args.start, args.end)
    params = tuple(ParamRange.parse(p) for p in args.param)
    strategy, strategy_id = strategy_from_args(args)
    key = None if args.csv else SeriesKey(args.exchange, args.market, args.timeframe)
    cmd = RunSweep(strategy_to_dict(strategy), params, key, start, end, args.objective, not args.minimize,
                   tuple(args.constraint), args.method, args.samples, args.seed, args.max_combos, args.walk_forward,
                   args.oos_fraction, args.anchored, settings, strategy_id, args.min_trades, args.fast_below_slow)
    service = open_container(args).sweeps
    series = csv_series(args, start, end) if args.csv else service.load(cmd)
    source = f"{args.csv} ({series.timeframe.code})" if args.csv else str(key)
    plan = service.plan(cmd, series)  # every input checked before a worker starts
    executor = service.open_executor(plan, series, args.cluster, args.workers)
    with progress_bar("optimizing", quiet=args.json) as update:
        handle = SweepJobHandle(lambda cancel: service.execute(plan, series, executor, cancel,
                                                               lambda e: update(e.done, e.total), source))
        try:
            outcome = handle.wait()
        except KeyboardInterrupt:
            handle.cancel()
            outcome = handle.wait()
    doc = outcome_json(outcome, args.top)
    if funding_note is not None:
        doc["funding"] = funding_note
    if args.json:
        write_json(doc, sys.stdout)
    else:
        _print(outcome, doc, source, args.top)
        if funding_note is not None:
            print(funding_note)
    return 130 if outcome.status == "cancelled" else 0


def _fmt(value: Any, key: str = "") -> str:
    """A number for the tables; "—" when missing, not finite, or (for a statistic `key`) underflowed or absurd."""
    from app.backtests.display import DASH, stat_text

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    if key and stat_text(key, value) == DASH:
        return DASH
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


def _print(outcome: Any, doc: dict[str, Any], source: str, top: int) -> None:
    plan = outcome.plan
    definition = plan.job.definition
    labels = [short_label(definition, a.paths[0]) for a in plan.job.space.axes]
    counts = outcome.counts
    print(f"{definition['name']} on {source}: {len(plan.coords)} points × {max(1, len(plan.windows))} window(s), "
          f"{outcome.executor}, {outcome.seconds:.1f} s; sweep {outcome.sweep_id} ({outcome.status})")
    print(f"ok {counts['ok']}, invalid {counts['invalid']}, failed {counts['failed']}; {plan.objective.describe()}"
          + (f"; constraints: {', '.join(str(c) for c in plan.constraints)}" if plan.constraints else "")
          + f"; at least {plan.min_trades} trades"
          + (f"; skipped {plan.skipped} points with fast not below slow" if plan.order else ""))
    if plan.windows:
        _print_walk_forward(outcome, labels)
        return
    key = plan.objective.key
    head = ["#", *labels, key, *[c for c in STAT_COLUMNS if c != key], "ok"]
    rows = []
    for i, s in enumerate(outcome.ranked[:top], 1):
        stats = s.result.stats
        rows.append([str(i), *[_fmt(v) for v in s.result.params], _fmt(s.score, key),
                     *[_fmt(stats.get(c), c) for c in head[len(labels) + 2:-1]], "yes" if s.passed else "no"])
    _table(head, rows)
    rob = doc.get("robustness")
    if rob:
        print(f"robustness: {rob['scored']} of {rob['neighbours']} grid neighbours ran; objective mean "
              f"{_fmt(rob['mean'], key)} (min {_fmt(rob['min'], key)}, max {_fmt(rob['max'], key)}) vs best "
              f"{_fmt(rob['best'], key)}")
    elif outcome.best is None:
        print("no point met the constraints with a finite objective")


def _print_walk_forward(outcome: Any, labels: list[str]) -> None:
    report = outcome.walk_forward
    if report is None:
        print("walk-forward cancelled before every window was optimised")
        return
    ts, key = outcome.bar_ts, outcome.plan.objective.key
    head = ["window", "out-of-sample", *labels, "IS objective", "OOS objective", "OOS return [%]", "OOS trades"]
    rows = []
    for w in report.windows:
        win = w.window
        span = f"{format_ms(int(ts[win.oos_start]))[:10]} .. {format_ms(int(ts[win.oos_end - 1]))[:10]}"
        params = [_fmt(v) for v in w.params] if w.params else ["--"] * len(labels)
        oos = w.oos.stats if w.oos is not None else {}
        rows.append([str(win.index), span, *params, _fmt(w.is_score, key), _fmt(w.oos_score, key),
                     _fmt(oos.get("Return [%]")), _fmt(oos.get("# Trades"))])
    _table(head, rows)
    if report.stitched is not None:
        st = report.stitched.stats
        sharpe = _fmt(st.get("Sharpe (bars)"), "Sharpe (bars)")
        print(f"stitched out-of-sample: return {_fmt(st['Return [%]'])} %, Sharpe (bars) {sharpe}, "
              f"Sharpe Ratio {_fmt(st['Sharpe Ratio'], 'Sharpe Ratio')}, "
              f"max drawdown {_fmt(st['Max. Drawdown [%]'])} %, {st['# Trades']} trades")
    d = report.degradation
    if not d:
        plan = outcome.plan
        print(f"no window had a point with at least {plan.min_trades} trades and a finite {plan.objective.key}"
              + (" that met the constraints" if plan.constraints else "")
              + f" (default objective: {DEFAULT_OBJECTIVE})")
    else:
        eff = _fmt(d["efficiency_mean"], "walk-forward efficiency")
        why = "" if d.get("efficiency_windows") else " (defined only where the in-sample objective is above 0)"
        print(f"in-sample → out-of-sample objective: {_fmt(d['is_objective_mean'], key)} → "
              f"{_fmt(d['oos_objective_mean'], key)} (change {_fmt(d['change'], key)}); "
              f"walk-forward efficiency {eff}{why}")


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
