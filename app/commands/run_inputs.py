"""What `backtest` and `optimize` both read from the command line: settings, the strategy, CSV candles."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.common import candles_soon, cost_defaults, open_container
from app.errors import DataError, UserError
from app.timeparse import format_ms
from domain.market import CandleSeries, SeriesKey

if TYPE_CHECKING:  # the engine (numba) is imported where it runs, after a CSV file's read has started
    from domain.backtest import BacktestSettings
    from domain.futures import FundingRates
    from domain.strategy import Strategy


def add_settings_args(p: argparse.ArgumentParser) -> None:
    """The options `settings_from_args` reads: cash, costs, lot size and fill options."""
    p.add_argument("--cash", type=float, help="starting cash in the quote currency (default: 10,000,000 for a KRW "
                   "market, 10,000 for USDT and for --csv)")
    p.add_argument("--commission", type=float,
                   help="fraction of traded value per fill, in [0, 0.1) (default: the exchange's taker fee, "
                   "0.0005 on Upbit, Binance USDT-M and Demo; 0.002 with --csv and for candles stored under another "
                   "exchange name)")
    p.add_argument("--slippage", type=float, default=0.0, help="fraction of price against you per fill (default 0)")
    p.add_argument("--lot-size", type=float, help="quantity step (default: 1 with --csv, 1e-8 for exchanges)")
    p.add_argument("--trade-on-close", action="store_true", help="fill on the signal bar's close")
    p.add_argument("--finalize-trades", action="store_true", help="close an open position at the last close")


def settings_from_args(args: argparse.Namespace) -> BacktestSettings:
    """Cash, costs and fill options; lot size 1 for CSV files (stocks), 1e-8 for exchange candles."""
    from domain.backtest import BacktestSettings

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
    from domain.strategy import StrategyInvalid, loads_strategy

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
    return csv_series_soon(args)(start, end)


def csv_series_soon(args: argparse.Namespace) -> Callable[[int | None, int | None], CandleSeries]:
    """Start reading `--csv` on a thread now (`candles_soon`); the returned call waits for it and gives
    `csv_series`'s answer, while the caller loads the engine (numba: ~0.5 s in a fresh process) meanwhile."""
    pending = candles_soon(args, args.csv, args.timeframe)
    return lambda start, end: _in_range(args, pending(), start, end)


def _in_range(args: argparse.Namespace, series: CandleSeries, start: int | None, end: int | None) -> CandleSeries:
    part = series.slice_time(start, end)
    if len(part) == 0:
        raise DataError(f"{args.csv}: no bars in the requested range (the file covers "
                        f"{format_ms(int(series.ts[0]))} .. {format_ms(int(series.ts[-1]))})")
    return part


def add_futures_args(p: argparse.ArgumentParser) -> None:
    """The options `futures_settings` reads: leverage, margin mode, funding on or off."""
    p.add_argument("--leverage", type=int, default=1,
                   help="futures leverage, 1..the symbol's maximum (Binance USDT-M only; spot markets take 1)")
    p.add_argument("--margin", choices=("isolated", "cross"), default="isolated",
                   help="futures margin mode (default isolated)")
    p.add_argument("--no-funding", action="store_true", help="futures: do not charge stored funding")


def futures_settings(args: argparse.Namespace, settings: BacktestSettings) -> tuple[BacktestSettings, str | None]:
    """The settings with the futures account of a Binance USDT-M market (brackets, leverage, margin, stored
    funding) and a line saying whether funding data covered the range; spot markets and CSV files refuse
    leverage ≠ 1 (InvalidLeverage's message, as a UserError)."""
    from domain.costs import MarketKind, market_kind
    from domain.futures import InvalidLeverage, check_leverage

    exchange, symbol = ("csv", args.csv) if args.csv else (args.exchange, args.market)
    try:
        kind, model = market_kind(exchange), exchange
    except ValueError:  # candles stored under a name of the user's own (import-csv --exchange mydata): like CSV
        if args.leverage != 1:
            raise UserError(f"--leverage: {exchange!r} is not an exchange QuantDesk trades (upbit, binance, demo), "
                            "so its candles are traded as spot like CSV data and leverage must be 1") from None
        kind, model = None, "csv"
    table = open_container(args).bracket_tables.get(symbol) if kind is MarketKind.USDT_FUTURES else None
    try:
        leverage = check_leverage(model, symbol, args.leverage, table)
    except InvalidLeverage as err:
        raise UserError(f"--{err}") from None
    if kind is not MarketKind.USDT_FUTURES:
        if args.margin != "isolated":
            raise UserError(f"--margin: {exchange} trades spot, there is no margin mode to choose")
        return settings, None
    if table is None:
        if leverage != 1:
            raise UserError(f"--leverage: no maintenance-margin brackets known for {symbol}, so it trades at 1x")
        return settings, None
    funding, note = None, "funding: off (--no-funding)"
    if not args.no_funding:
        funding, note = _stored_funding(args, exchange, symbol)
    return replace(settings, leverage=leverage, margin=args.margin, brackets=table, funding=funding), note


def _stored_funding(args: argparse.Namespace, exchange: str, symbol: str) -> tuple[FundingRates, str]:
    """Stored funding events over the backtest's range and whether collected data covers it."""
    from app.timeparse import parse_range
    from domain.futures import FundingRates

    start, end = parse_range(args.start, args.end)
    container = open_container(args)
    candles = container.candles.read(SeriesKey(exchange, symbol, args.timeframe), start, end)
    if len(candles) == 0:
        return FundingRates.empty(), "funding: no candles in range"
    lo, hi = int(candles.ts[0]), int(candles.ts[-1]) + args.timeframe.ms
    rates = container.funding.load(exchange, symbol, lo, hi)
    cov = container.funding.coverage(exchange, symbol, lo, hi)
    if cov.covered:
        return rates, f"funding: {len(rates)} events, stored data covers {format_ms(lo)} .. {format_ms(hi)}"
    gaps = ", ".join(f"{format_ms(a)} .. {format_ms(b)}" for a, b in cov.missing[:3])
    return rates, (f"funding: {len(rates)} events; NOT covered: {gaps}{' ...' if len(cov.missing) > 3 else ''} "
                   f"(quantdesk collect-funding --exchange {exchange} --market {symbol} ...)")
