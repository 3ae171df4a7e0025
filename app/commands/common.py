"""Helpers shared by CLI sub-commands: argument types, the container, progress bars."""

from __future__ import annotations

import argparse
import math
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.errors import UserError, redact_url
from domain.market import CandleSeries, Timeframe, UnknownTimeframe

if TYPE_CHECKING:
    from app.bootstrap.container import Container
    from app.bootstrap.context import CliContext


def timeframe_arg(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except UnknownTimeframe as err:
        raise argparse.ArgumentTypeError(str(err)) from None



def base_url_arg(text: str) -> str:
    """An http(s) URL with a host (and a valid port): refused at once instead of retried for a minute."""
    url = text.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{redact_url(url)!r} is not an http(s) URL; e.g. http://127.0.0.1:8765")
    return url


def port_arg(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535; 0 picks a free one)")
    return port


def positive_arg(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return x


def add_series_args(p: argparse.ArgumentParser, timeframe_required: bool = True) -> None:
    p.add_argument("--exchange", required=True, help="upbit, binance, demo, csv, ...")
    p.add_argument("--market", required=True, help="market symbol, e.g. KRW-BTC or BTCUSDT")
    p.add_argument("--timeframe", required=timeframe_required, type=timeframe_arg,
                   help="1m 3m 5m 10m 15m 30m 1h 4h 1d 1w")


def add_range_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", help="first bar time: a date or ISO datetime, UTC unless an offset is given")
    p.add_argument("--end", help="end (exclusive): a date or ISO datetime, UTC unless an offset is given")


def context(args: argparse.Namespace) -> CliContext:
    """What the composition root hands this command run (set by `app.bootstrap.cli.main`)."""
    ctx: CliContext = args.ctx
    if ctx.db is not None and not ctx.db.strip():  # never fall back silently to the real default database
        raise UserError("the database path is empty (--db \"\" or an empty $QUANTDESK_DB): give a file, "
                        "or leave both out (unset QUANTDESK_DB) to use the default database")
    return ctx


def open_container(args: argparse.Namespace) -> Container:
    """The container for `--db`, opened on first use and closed when the command ends."""
    return context(args).container


def candles_soon(args: argparse.Namespace, path: str | Path, timeframe: Timeframe | None,
                 on_progress: Callable[[int, int], None] | None = None) -> Callable[[], CandleSeries]:
    """Start reading a candle file on a thread now; the returned call waits for the series (or raises what the
    read raised). Arrow parses without the interpreter lock, so the command meanwhile loads what it needs next
    (SQLAlchemy and the database, numba) instead of waiting for the file first."""
    done: list[CandleSeries] = []
    failed: list[BaseException] = []

    def read() -> None:
        try:
            done.append(context(args).read_candles_file(path, timeframe, on_progress))
        except BaseException as err:  # handed to the waiting call, raised there
            failed.append(err)

    reader = threading.Thread(target=read, name="read-candles", daemon=True)
    reader.start()

    def series() -> CandleSeries:
        reader.join()
        if failed:
            raise failed[0]
        return done[0]

    return series


@contextmanager
def progress_bar(description: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields `update(done, total)`. None when stderr is not a terminal: a log or a
    pipe would only get the bar's closing blank line, ahead of any error line."""
    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update



CSV_COMMISSION = 0.002  # candles from a file: no exchange to take a fee from (backtesting.py's examples use it)
CSV_CASH = 10_000.0


def cost_defaults(exchange: str | None, market: str | None, cash: float | None,
                  commission: float | None) -> tuple[float, float]:
    """Cash and commission (a fraction) as given, else the costs model's defaults for the exchange and the
    market's quote currency (one source for the CLI and the desktop)."""
    from domain.costs import default_cash, default_costs, priced_as, quote_currency

    exchange = priced_as(exchange) if exchange else None  # a file's own label costs like CSV data
    costs = default_costs(exchange) if exchange else None
    if commission is None:
        commission = costs.fee() if costs is not None else CSV_COMMISSION
    if cash is None:
        quote = quote_currency(exchange, market) if exchange and market else None
        cash = default_cash(quote) or CSV_CASH
    return cash, commission


def count_arg(text: str) -> int:
    """A whole number ≥ 0 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (a whole number, 0 or more)")
    return value






def printable(text: str) -> str:
    """A name as safe to print: control and escape characters shown as escapes, not sent to the terminal."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
