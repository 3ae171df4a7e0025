"""What `backtest` and `optimize` both read from the command line: settings, the strategy, CSV candles."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import context, cost_defaults, open_container
from app.errors import DataError, UserError
from app.timeparse import format_ms
from domain.backtest import BacktestSettings
from domain.market import CandleSeries
from domain.strategy import Strategy, StrategyInvalid


def add_settings_args(p: argparse.ArgumentParser) -> None:
    """The options `settings_from_args` reads: cash, costs, lot size and fill options."""
    p.add_argument("--cash", type=float, help="starting cash in the quote currency (default: 10,000,000 for a KRW "
                   "market, 10,000 for USDT and for --csv)")
    p.add_argument("--commission", type=float,
                   help="fraction of traded value per fill, in [0, 0.1) (default: the exchange's taker fee, "
                   "0.0005 on Upbit, Binance USDT-M and Demo; 0.002 with --csv)")
    p.add_argument("--slippage", type=float, default=0.0, help="fraction of price against you per fill (default 0)")
    p.add_argument("--lot-size", type=float, help="quantity step (default: 1 with --csv, 1e-8 for exchanges)")
    p.add_argument("--trade-on-close", action="store_true", help="fill on the signal bar's close")
    p.add_argument("--finalize-trades", action="store_true", help="close an open position at the last close")


def settings_from_args(args: argparse.Namespace) -> BacktestSettings:
    """Cash, costs and fill options; lot size 1 for CSV files (stocks), 1e-8 for exchange candles."""
    lot = args.lot_size if args.lot_size is not None else (1.0 if args.csv else 1e-8)
    exchange, market = (None, None) if args.csv else (args.exchange, args.market)
    cash, commission = cost_defaults(exchange, market, args.cash, args.commission)
    settings = BacktestSettings(cash=cash, commission=commission, slippage=args.slippage, lot_size=lot,
                                trade_on_close=args.trade_on_close, finalize_trades=args.finalize_trades)
    problems = settings.problems()
    if problems:
        raise UserError("; ".join(p.replace("lot_size", "--lot-size") for p in problems))
    return settings


def strategy_from_args(args: argparse.Namespace) -> tuple[Strategy, int | None]:
    """A strategy JSON file, else a stored strategy of that name (names may contain '/', e.g. "SMA 10/20")."""
    from domain.strategy import loads_strategy

    ref = args.strategy
    try:
        if Path(ref).is_file():
            return loads_strategy(Path(ref).read_bytes()), None
        record = open_container(args).strategies.get_by_name(ref)
        if record is not None:
            return open_container(args).strategies.strategy_of(record), record.id
    except StrategyInvalid as err:
        lines = "\n".join(f"  {issue}" for issue in err.errors)
        raise UserError(f"strategy {ref} is invalid:\n{lines}") from None
    if ref.lower().endswith(".json"):
        raise UserError(f"strategy file {ref} not found")
    raise UserError(f"no strategy file or stored strategy named {ref!r} (see: quantdesk strategy list)")


def csv_series(args: argparse.Namespace, start: int | None, end: int | None) -> CandleSeries:
    """Candles from `--csv` (never stored), cut to [start, end)."""
    series = context(args).read_candles_file(args.csv, args.timeframe)
    part = series.slice_time(start, end)
    if len(part) == 0:
        raise DataError(f"{args.csv}: no bars in the requested range (the file covers "
                        f"{format_ms(int(series.ts[0]))} .. {format_ms(int(series.ts[-1]))})")
    return part
