"""`quantdesk paper`: trade a strategy on the live feed with paper money; prints fills and a summary."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.clock import Clock
from app.commands.common import base_url_arg, context, cost_defaults, positive_arg, timeframe_arg
from app.commands.safe_output import check_output_path
from app.errors import UserError
from app.live.events import OrderFilled, SessionFlattened
from app.live.metrics import format_metrics
from app.live.session import SessionSpec, session_name
from app.timeparse import format_ms
from domain.strategy import Strategy, StrategyInvalid

if TYPE_CHECKING:
    from app.bootstrap.container import Container
    from app.bootstrap.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("paper", help="paper-trade a strategy on the live feed (demo = the built-in simulator)",
                       description="Run a saved strategy on live market data with a paper broker. Fills are "
                       "printed as they happen; a summary at the end. Positions are flattened on exit unless "
                       "--keep-positions (then --resume continues them next time).")
    p.add_argument("--strategy", metavar="FILE_OR_NAME", help="a strategy JSON file or the name of a stored one")
    p.add_argument("--exchange", default="demo", help="demo (simulator, default), upbit or binance")
    p.add_argument("--market", help="e.g. KRW-BTC or BTCUSDT")
    p.add_argument("--timeframe", type=timeframe_arg, help="bar timeframe (default 1m)")
    p.add_argument("--base-url", type=base_url_arg,
                   help="reach the exchange (REST and websocket) at this URL, e.g. a simulator")
    p.add_argument("--duration", type=duration_arg, help="stop after this long: 90s, 5m, 1h (default: until Ctrl+C)")
    p.add_argument("--cash", type=float, help="starting paper cash in the quote currency (default: 10,000,000 "
                   "for a KRW market, 10,000 for USDT)")
    p.add_argument("--commission", type=float, help="fraction per fill (default: the exchange's taker fee, 0.0005)")
    p.add_argument("--slippage", type=float, default=0.0, help="fraction of price against you per fill")
    p.add_argument("--leverage", type=int, default=1,
                   help="futures leverage, 1..the symbol's maximum (Binance USDT-M only; spot markets take 1)")
    p.add_argument("--margin", choices=("isolated", "cross"), default="isolated",
                   help="futures margin mode (default isolated); funding is settled from the mark price stream")
    p.add_argument("--session", help="session name (default: 'strategy · market · timeframe')")
    p.add_argument("--speed", type=positive_arg, default=1.0, help="demo only: run the simulated market N times faster")
    p.add_argument("--metrics", action="store_true", help="print latency, GC, queue and stream metrics at the end")
    p.add_argument("--log-dir", type=Path, help="audit and app log folder (default: the user log dir)")
    p.add_argument("--keep-positions", action="store_true", help="do not flatten on exit; keep the session to resume")
    p.add_argument("--resume", action="store_true", help="resume the sessions left running last time")
    p.add_argument("--new-session", action="store_true",
                   help="start afresh under a name whose finished session is stored, deleting that history")
    p.set_defaults(func=_paper)


def duration_arg(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}; use e.g. 90s, 5m or 1h")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
    return float(m.group(1)) * scale


def load_strategy(container: Container, ref: str) -> tuple[Strategy, int | None]:
    from domain.strategy import loads_strategy

    path = Path(ref)
    try:
        if path.is_file():
            return loads_strategy(path.read_bytes()), None
        record = container.strategies.get_by_name(ref)
        if record is None:
            raise UserError(f"no strategy file or stored strategy named {ref!r} (see: quantdesk strategy list)")
        return container.strategies.strategy_of(record), record.id
    except StrategyInvalid as err:
        lines = "\n".join(f"  {issue}" for issue in err.errors)
        raise UserError(f"strategy {ref} is invalid:\n{lines}") from None


def _paper(args: argparse.Namespace) -> int:
    if not args.resume and not (args.strategy and args.market):
        raise UserError("paper needs --strategy and --market (or --resume)")
    if args.speed != 1.0 and args.exchange != "demo":
        raise UserError("--speed only applies to the demo exchange")
    ctx = context(args)
    if args.log_dir is not None:
        check_log_dir(args.log_dir, ctx.container.db_path)
    return asyncio.run(_run(ctx, args))


# The files a log folder receives (the app log and the audit log) and their rotated copies.
LOG_FILES = tuple(f"{name}{rotation}" for name in ("audit.jsonl", "quantdesk.log")
                  for rotation in ("", ".1", ".2", ".3", ".4", ".5"))


def check_log_dir(log_dir: Path, db_path: Path) -> None:
    """Refuse a --log-dir that is not a folder, or whose log files would be the database or a special file."""
    if log_dir.exists() and not log_dir.is_dir():
        raise UserError(f"--log-dir {log_dir}: not a folder (it is a file); give a folder for the logs")
    for name in LOG_FILES:
        check_output_path(log_dir / name, db_path)


async def _run(ctx: CliContext, args: argparse.Namespace) -> int:
    container = ctx.container
    clock: Clock | None = None
    sim = None
    if args.base_url:
        container.use_base_url(args.exchange, args.base_url)
    elif args.exchange == "demo":
        sim, clock = await ctx.start_simulator(args.speed)
        container.use_base_url("demo", sim.url)
    stack = ctx.live_stack(dict(container.base_urls), clock, with_history=args.speed == 1.0, log_dir=args.log_dir)
    engine = stack.engine
    stack.open_logs()
    engine.observers.append(_print_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await engine.start()
        sessions = await engine.resume() if args.resume else []
        if args.strategy:
            sessions.append(await engine.add_session(_spec(container, args),
                                                     stored_name="replace" if args.new_session else "refuse"))
        for s in sessions:
            print(f"paper session {s.id}: {s.spec.strategy.name} on {s.spec.exchange}:{s.spec.symbol} "
                  f"{s.spec.timeframe.code}, cash {s.broker.cash:,.2f}, warmed up on {len(s.evaluator)} bars",
                  flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.duration)
        flatten = not args.keep_positions
        await engine.shutdown(flatten=flatten)
        summaries = [s.summary() for s in engine.sessions.values()]
        _print_summary(summaries, engine, flatten)
        if args.metrics:
            print("\n".join(format_metrics(engine.metrics.snapshot())))
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)
        if engine.bus.running:
            await engine.shutdown(flatten=not args.keep_positions)
        stack.close_logs()
        await container.aclose()
        if sim is not None:
            await sim.stop()
    return 0


def _spec(container: Container, args: argparse.Namespace) -> SessionSpec:
    strategy, strategy_id = load_strategy(container, args.strategy)
    tf = args.timeframe or timeframe_arg("1m")
    name = args.session or session_name(strategy.name, args.market, tf)
    cash, commission = cost_defaults(args.exchange, args.market, args.cash, args.commission)
    spec = SessionSpec(name, strategy, args.exchange, args.market, tf, cash=cash, commission=commission,
                       slippage=args.slippage, strategy_id=strategy_id, leverage=args.leverage, margin=args.margin)
    spec.futures_account(container.bracket_tables.get(args.market))  # refuse a leverage the market cannot take now
    return spec


def _print_event(event: Any) -> None:
    if isinstance(event, OrderFilled):
        side = "BUY " if event.side > 0 else "SELL"
        pnl = f"  pnl {event.realized_pnl:+,.2f}" if event.realized_pnl else ""
        print(f"{format_ms(event.ts)}  {event.session_id}  {side} {event.quantity:.8g} @ {event.price:,.8g}  "
              f"fee {event.commission:,.4f}  ({event.reason}){pnl}", flush=True)
    elif isinstance(event, SessionFlattened) and event.closed:
        print(f"{event.session_id}: flattened {event.closed} position(s): {event.reason}", flush=True)
    elif isinstance(event, SessionFlattened) and event.reason != "shutdown":  # e.g. the stream died: say so
        print(f"{event.session_id}: stopped, no open position: {event.reason}", flush=True)


def _print_summary(summaries: list[dict[str, Any]], engine: Any, flattened: bool) -> None:
    for s in summaries:
        print(f"\n{s['session_id']}  {s['strategy']}  {s['market']} {s['timeframe']}")
        print(f"  equity {s['equity']:,.2f}  return {s['return_pct']:+.2f}%  realized {s['realized_pnl']:+,.2f}  "
              f"unrealized {s['unrealized_pnl']:+,.2f}")
        print(f"  trades {s['trades']}  wins {s['wins']}  fills {s['fills']}  bars {s['bars']}  "
              f"position {s['position']:.8g}  {s['status']}")
        if "funding" in s:
            print(f"  {s['leverage']}x {s['margin_mode']}  funding {s['funding']:+,.4f}  "
                  f"liquidations {s['liquidations']}")
    if not summaries:
        print("no paper sessions ran", file=sys.stderr)
