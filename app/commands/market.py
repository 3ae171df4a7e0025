"""`quantdesk collect`, `quantdesk markets` and `quantdesk simulator`: exchange market data from the shell."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.commands.common import base_url_arg, context, open_container, port_arg, positive_arg
from app.errors import UserError
from app.market_data.collect import CollectJob, CollectProgress, CollectSummary, MarketDataService
from app.timeparse import format_ms, parse_time_arg
from domain.market import SeriesKey, Timeframe, UnknownTimeframe

if TYPE_CHECKING:
    from app.bootstrap.container import Container

EXCHANGES = ("upbit", "binance", "demo")


def register(sub: Any) -> None:
    p = sub.add_parser("collect", help="download candles from an exchange into the database (resumable)")
    p.add_argument("--exchange", required=True, choices=EXCHANGES,
                   help="upbit, binance, or demo (Upbit format from a local `quantdesk simulator`)")
    p.add_argument("--market", required=True, action="append",
                   help="market symbol, e.g. KRW-BTC or BTCUSDT; repeat or comma-separate for several")
    p.add_argument("--timeframe", default="1m", help="1m 3m 5m 10m 15m 30m 1h 4h 1d 1w (default 1m)")
    p.add_argument("--start", required=True, help="first day or time, UTC unless an offset is given")
    p.add_argument("--end", help="end (exclusive), UTC unless an offset is given; default: now")
    p.add_argument("--base-url", type=base_url_arg, help="reach the exchange here instead (e.g. the simulator's URL)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--refetch", action="store_true",
                   help="forget the ranges recorded as known empty (no trades) in the range and ask for them again; "
                        "stored candles are kept")
    p.set_defaults(func=_collect)

    m = sub.add_parser("markets", help="list an exchange's markets")
    m.add_argument("--exchange", required=True, choices=EXCHANGES)
    m.add_argument("--base-url", type=base_url_arg, help="reach the exchange here instead (e.g. the simulator's URL)")
    m.set_defaults(func=_markets)

    s = sub.add_parser("simulator", help="run the offline exchange simulator (Upbit and Binance formats)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=port_arg, default=8765, help="TCP port, 0 = any free port (default 8765)")
    s.add_argument("--seed", type=int, default=0, help="market seed: the same seed serves the same prices")
    s.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests answered with a fault")
    s.add_argument("--faults", help="comma-separated fault kinds (default: all but bad_row)")
    s.add_argument("--markets", nargs="*", default=[], help="serve only these symbols (default: all)")
    s.add_argument("--api-key", help="provision a private-API account with this key (needs --api-secret)")
    s.add_argument("--api-secret", help="the account's secret (Binance HMAC and Upbit JWT)")
    s.add_argument("--balance", default="USDT=10000,KRW=10000000",
                   help="the account's starting balances, e.g. USDT=10000,KRW=10000000")
    s.add_argument("--speed", type=positive_arg, default=1.0, help="simulated time runs N times faster than the clock")
    s.set_defaults(func=_simulator)


def _jobs(args: argparse.Namespace) -> list[CollectJob]:
    try:
        tf = Timeframe.parse(args.timeframe)
    except UnknownTimeframe as err:
        raise UserError(f"--timeframe: {err}") from None
    start = parse_time_arg(args.start, "--start")
    end = parse_time_arg(args.end, "--end") if args.end else None
    if end is not None and start >= end:
        raise UserError(f"--start ({args.start}) must be before --end ({args.end})")
    markets = list(dict.fromkeys(x.strip() for m in args.market for x in m.split(",") if x.strip()))  # once each
    if not markets:
        raise UserError("--market: give at least one market symbol")
    end_ms = end if end is not None else 2**62  # the service clamps to the last completed bar
    return [CollectJob(args.exchange, m, tf, start, end_ms) for m in markets]


def _open(args: argparse.Namespace) -> Container:
    container = open_container(args)
    if args.base_url:
        container.use_base_url(args.exchange, args.base_url)
    return container


def _collect(args: argparse.Namespace) -> int:
    jobs = _jobs(args)
    summaries = asyncio.run(_run_collect(_open(args), jobs, not args.quiet, args.refetch))
    for s in summaries:
        print(describe(s))
    return 0


async def _forget(service: MarketDataService, jobs: Sequence[CollectJob]) -> None:
    for j in jobs:
        key = SeriesKey(j.exchange, j.market, j.timeframe)
        n = await service.forget_known_empty(key, j.start_ms, j.end_ms)
        print(f"forgot {n:,} known-empty {j.timeframe.code} bars of {key}; asking for them again")


async def _run_collect(container: Container, jobs: Sequence[CollectJob], bar: bool,
                       refetch: bool = False) -> list[CollectSummary]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    service: MarketDataService = container.market_data
    try:
        if refetch:
            await _forget(service, jobs)
        if not bar:
            return await service.collect_many(jobs)
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} req"),
                   TextColumn("{task.fields[info]}"), TimeRemainingColumn())
        with Progress(*columns, transient=False) as progress:
            tasks: dict[str, Any] = {}

            def show(p: CollectProgress) -> None:
                name = str(p.key)
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=p.requests_total, info="")
                info = f"{p.candles_stored:,} candles, {p.retries} retries"
                progress.update(tasks[name], completed=p.requests_done, total=max(1, p.requests_total), info=info)

            return await service.collect_many(jobs, show)
    finally:
        await container.exchanges.aclose()


def describe(s: CollectSummary) -> str:
    """The final summary of one collection, for people."""
    tf = s.key.timeframe
    if s.end_ms <= s.start_ms:
        return (f"{s.key}  nothing is due: {format_ms(s.start_ms)} is after the last completed {tf.code} bar "
                f"({format_ms(s.end_ms)}); no request was made")
    lines = [
        f"{s.key}  {format_ms(s.start_ms)} → {format_ms(max(s.start_ms, s.end_ms))}",
        f"  stored {s.stored:,} new candles; skipped {s.already_stored:,} already stored; "
        f"{s.known_empty:,} {tf.code} bars known empty (no trades)",
        f"  {s.requests} requests, {s.retries} retries, {s.throttled} rate-limited answers; "
        f"{s.rejected_rows} rejected rows",
    ]
    for reason, n in s.rejected.most_common(5):
        lines.append(f"    rejected (not stored) ×{n}: {reason}")
    if s.unproven:
        lines.append(f"  {s.unproven:,} {tf.code} bars answered empty with nothing to prove it; not recorded as known "
                     f"empty: the next collect asks for them again")
    return "\n".join(lines)


def _markets(args: argparse.Namespace) -> int:
    container = _open(args)

    async def run() -> list[Any]:
        try:
            markets: list[Any] = await container.market_data.list_markets(args.exchange)
            return markets
        finally:
            await container.exchanges.aclose()

    markets = asyncio.run(run())
    for m in markets:
        extra = f"  lot {m.lot_size:g}  tick {m.tick_size:g}" if m.tick_size else ""
        print(f"{m.symbol}{extra}")
    print(f"{len(markets)} markets on {args.exchange}")
    return 0


def parse_balances(text: str) -> dict[str, float]:
    """`USDT=10000,KRW=10000000` → {"USDT": 10000.0, "KRW": 10000000.0}; a clear error naming --balance."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        currency, sep, amount = part.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = -1.0
        if not sep or not currency.strip().isalpha() or value < 0:
            raise UserError(f"--balance: {part!r} is not CURRENCY=AMOUNT with an amount ≥ 0 "
                            "(e.g. USDT=10000,KRW=10000000)")
        out[currency.strip().upper()] = value
    return out


def _accounts(args: argparse.Namespace) -> tuple[tuple[str, str, dict[str, float]], ...]:
    """(key, secret, balances) of the private account to provision, if any."""
    if bool(args.api_key) != bool(args.api_secret):
        raise UserError("simulator: --api-key and --api-secret go together")
    if not args.api_key:
        return ()
    return ((args.api_key, args.api_secret, parse_balances(args.balance)),)


def _simulator(args: argparse.Namespace) -> int:
    faults = tuple(f.strip() for f in args.faults.split(",")) if args.faults else None
    try:
        asyncio.run(context(args).serve_simulator(args.seed, tuple(args.markets), args.fault_rate, faults, args.host,
                                                  args.port, lambda text: print(text, flush=True), args.speed,
                                                  _accounts(args)))
    except ValueError as err:
        raise UserError(f"simulator: {err}") from None
    except OSError as err:
        raise UserError(f"simulator: cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    return 0
