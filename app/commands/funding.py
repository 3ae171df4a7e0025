"""`quantdesk collect-funding` and `quantdesk import-funding`: perpetual futures funding history into the database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from app.commands.common import base_url_arg, open_container, progress_bar
from app.errors import UserError
from app.market_data.funding import FundingService, FundingSummary
from app.timeparse import format_ms, parse_time_arg

FUTURES_EXCHANGES = ("binance",)


def register(sub: Any) -> None:
    p = sub.add_parser("collect-funding", help="download funding-rate history into the database (resumable)",
                       description="Stores each funding event (time, rate, mark price) of a perpetual futures "
                       "market. Ranges already collected are skipped; an interrupted run resumes.")
    p.add_argument("--exchange", required=True, choices=FUTURES_EXCHANGES)
    p.add_argument("--market", required=True, help="futures symbol, e.g. BTCUSDT")
    p.add_argument("--start", required=True, help="first day or time, UTC unless an offset is given")
    p.add_argument("--end", help="end (exclusive), UTC unless an offset is given; default: now")
    p.add_argument("--base-url", type=base_url_arg, help="reach the exchange here instead (e.g. the simulator's URL)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_collect)

    i = sub.add_parser("import-funding", help="import funding history from a CSV file",
                       description="Columns time,rate[,mark_price] (a header row is optional). Times: epoch "
                       "milliseconds or ISO 8601 (UTC unless an offset is given); rates are fractions "
                       "(0.0001 = 0.01 %). A bad row stores nothing and names its line.")
    i.add_argument("file", help="CSV file")
    i.add_argument("--exchange", required=True, choices=FUTURES_EXCHANGES)
    i.add_argument("--market", required=True, help="futures symbol, e.g. BTCUSDT")
    i.set_defaults(func=_import)


def _collect(args: argparse.Namespace) -> int:
    start = parse_time_arg(args.start, "--start")
    end = parse_time_arg(args.end, "--end") if args.end else 2**62  # the service clamps to now
    if start >= end:
        raise UserError(f"--start ({args.start}) must be before --end ({args.end})")
    container = open_container(args)
    if args.base_url:
        container.use_base_url(args.exchange, args.base_url)
    summary = asyncio.run(_run(container, args.exchange, args.market.strip(), start, end, args.quiet))
    print(describe(summary))
    coverage = container.funding.coverage(args.exchange, summary.symbol, summary.start_ms, summary.end_ms)
    print(f"  {coverage.events:,} funding events stored in the range; "
          f"{'complete' if coverage.covered else f'{len(coverage.missing)} gaps left'}")
    return 0


async def _run(container: Any, exchange: str, market: str, start: int, end: int, quiet: bool) -> FundingSummary:
    service: FundingService = container.funding
    try:
        with progress_bar(f"funding {exchange}:{market}", quiet) as update:
            return await service.collect(exchange, market, start, end, update)
    finally:
        await container.exchanges.aclose()


def describe(s: FundingSummary) -> str:
    """The final summary of one funding collection, for people."""
    return (f"{s.exchange}:{s.symbol} funding  {format_ms(s.start_ms)} → {format_ms(max(s.start_ms, s.end_ms))}\n"
            f"  stored {s.stored:,} funding events in {s.requests} request{'' if s.requests == 1 else 's'} "
            f"({s.retries} retries, "
            f"{s.rejected} rejected rows); {s.already_covered_ms / 86_400_000:,.1f} days were already complete")


def _import(args: argparse.Namespace) -> int:
    container = open_container(args)
    result = container.funding.import_file(args.file, args.exchange, args.market.strip())
    print(f"imported {result.events:,} funding events into {args.exchange}:{args.market.strip()} "
          f"({format_ms(result.first_ts)} .. {format_ms(result.last_ts)})")
    return 0
