"""Helpers shared by CLI sub-commands: argument types, the container, progress bars."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.errors import UserError
from domain.market import Timeframe, UnknownTimeframe

if TYPE_CHECKING:
    from app.bootstrap.container import Container
    from app.bootstrap.context import CliContext


def timeframe_arg(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except UnknownTimeframe as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def redact_url(text: str) -> str:
    """The URL with any user name and password replaced by ***, for messages."""
    return re.sub(r"(?<=//)[^/@]*@", "***@", text)


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


@contextmanager
def progress_bar(description: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields `update(done, total)`."""
    if quiet:
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


def fail(message: str) -> UserError:
    return UserError(message)
