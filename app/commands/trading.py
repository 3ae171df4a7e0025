"""`quantdesk live`: trade a strategy with real orders (armed per session), `live status`, `live kill`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.common import context, timeframe_arg
from app.commands.live import duration_arg, load_strategy
from app.errors import UserError
from app.live.audit import AuditLog
from app.live.trading.kill import KillReport, kill
from app.live.trading.router import client_id
from domain.live.risk import RiskLimits

if TYPE_CHECKING:
    from app.bootstrap.context import CliContext
    from app.bootstrap.trading import LiveSpec, TradingAccount
    from app.live.trading.live_session import LiveTrader
    from app.live.trading.ports import OrderGateway

LIVE, HALTED, STOPPED = "live", "halted", "stopped"
KILL_GRACE_S = 3.0


def register(sub: Any) -> None:
    p = sub.add_parser("live", help="trade a strategy with REAL orders (armed with --confirm MARKET); status; kill",
                       description="Run a saved strategy with real orders on Binance USDT-M or Upbit KRW spot. Needs "
                       "keys in the OS keyring (quantdesk keys set) and --confirm equal to --market. Ctrl+C stops "
                       "the session (positions and exchange stops stay); a second Ctrl+C runs the kill switch. "
                       "`live status [--json]` shows sessions and the exchange's state; `live kill --exchange X "
                       "--market M` cancels every QuantDesk order on the market and flattens.")
    p.add_argument("action", nargs="?", choices=("status", "kill"), help="status or kill (default: run a session)")
    p.add_argument("--strategy", metavar="FILE_OR_NAME", help="a strategy JSON file or the name of a stored one")
    p.add_argument("--exchange", choices=("binance", "upbit"), help="binance (USDT-M futures) or upbit (KRW spot)")
    p.add_argument("--market", help="e.g. BTCUSDT or KRW-BTC")
    p.add_argument("--timeframe", type=timeframe_arg, help="bar timeframe (default 1m)")
    p.add_argument("--leverage", type=int, help="binance: set this leverage before trading")
    p.add_argument("--margin", choices=("isolated", "cross"), help="binance: set this margin mode before trading")
    p.add_argument("--base-url", help="reach the exchange (REST and websockets) at this URL, e.g. a simulator")
    p.add_argument("--confirm", metavar="MARKET", help="arm live trading: must equal --market")
    p.add_argument("--duration", type=duration_arg, help="stop after this long: 90s, 5m, 1h (default: until Ctrl+C)")
    p.add_argument("--resume", action="store_true", help="resume the session: reconcile with the exchange first")
    p.add_argument("--reset", action="store_true", help="with --resume: lift the halt a breached limit left (read why "
                   "first: live status)")
    p.add_argument("--session", help="session id (default: from strategy, market and timeframe)")
    p.add_argument("--max-order-notional", type=float, help="refuse (and halt on) a larger order")
    p.add_argument("--max-position-notional", type=float, help="refuse (and halt on) a larger position")
    p.add_argument("--max-open-orders", type=int, help="refuse (and halt on) more open entry orders")
    p.add_argument("--max-orders-per-minute", type=int, help="halt when more orders would be sent in a minute")
    p.add_argument("--daily-loss-limit", type=float, help="halt once the UTC day's loss reaches this amount")
    p.add_argument("--json", action="store_true", help="status: print JSON")
    p.add_argument("--log-dir", type=Path, help="audit and app log folder (default: the user log dir)")
    p.set_defaults(func=_live)


def _live(args: argparse.Namespace) -> int:
    ctx = context(args)
    if args.action == "status":
        return asyncio.run(_status(ctx, args))
    if args.action == "kill":
        if not (args.exchange and args.market):
            raise UserError("live kill needs --exchange and --market")
        return asyncio.run(_kill(ctx, args.exchange, args.market, args.base_url))
    _check_arming(args)
    return asyncio.run(_run(ctx, args))


def _check_arming(args: argparse.Namespace) -> None:
    missing = [f"--{n}" for n in ("strategy", "exchange", "market") if not getattr(args, n)]
    if missing:
        raise UserError(f"live needs {', '.join(missing)}")
    if args.confirm != args.market:
        raise UserError(f"live trading is not armed: add --confirm {args.market} (it must equal --market) to send "
                        "real orders on this market")
    if args.exchange == "upbit" and (args.leverage or args.margin):
        raise UserError("--leverage and --margin apply to binance only (upbit is spot)")
    problems = _limits(args).problems()
    if problems:
        raise UserError("risk limits: " + "; ".join(p.replace("_", "-") for p in problems))


def _limits(args: argparse.Namespace) -> RiskLimits:
    return RiskLimits(args.max_order_notional, args.max_position_notional, args.max_open_orders,
                      args.max_orders_per_minute, args.leverage, args.daily_loss_limit)


def banner(spec: LiveSpec, stop_where: str, account: str) -> str:
    line = "!" * 78
    return "\n".join([line, f"!!  LIVE TRADING — REAL ORDERS on {spec.exchange.upper()} {spec.market}  "
                      f"({account})", f"!!  session {spec.session_id}: {spec.strategy.name}, {spec.timeframe.code}; "
                      f"protective stops held {'by the exchange' if stop_where == 'exchange' else 'LOCALLY'}",
                      "!!  Ctrl+C stops the session; Ctrl+C twice runs the kill switch", line])


def _printer(audit: AuditLog) -> Any:
    def record(kind: str, **fields: Any) -> None:
        audit.record(kind, **fields)
        if kind in ("OrderPlaced", "OrderRefused", "StopPlaced", "StopMoved", "SessionHalted", "LocalStopArmed"):
            text = "  ".join(f"{k}={v}" for k, v in fields.items())
            print(f"{kind}  {text}", flush=True)

    return record


async def _run(ctx: CliContext, args: argparse.Namespace) -> int:
    from app.bootstrap.trading import LiveSpec, live_session_id

    container = ctx.container
    if args.base_url:
        container.use_base_url(args.exchange, args.base_url)
    strategy, _ = load_strategy(container, args.strategy)
    tf = args.timeframe or timeframe_arg("1m")
    if args.exchange == "upbit" and strategy.direction != "long_only":
        print("note: upbit is spot: short entries only close the long position", file=sys.stderr)
    spec = LiveSpec(args.session or live_session_id(strategy.name, args.market, tf), strategy, args.exchange,
                    args.market, tf, _limits(args), args.leverage or 1)
    account = ctx.trading_account(args.exchange, args.market, args.base_url)
    logs = ctx.start_logs(args.log_dir)
    audit = AuditLog()
    try:
        await account.prepare(args.leverage, args.margin)
        trader, feed = await ctx.live_trader(spec, account, _printer(audit))
        print(banner(spec, trader.broker.stop_held_by, type(account.gateway).__name__), flush=True)
        _keep_halt(ctx, spec.session_id, trader, args.resume and not args.reset)
        rec = await trader.start(args.resume)
        print(f"reconciled: position {rec.position.amount:g}, {len(rec.open_orders)} open order(s)"
              + ("" if rec.clean else "; HALTED: " + "; ".join(rec.differences)), flush=True)
        _save(ctx, spec, trader, LIVE, create=not args.resume)
        code = 0
        if await _trade(trader, feed, args.duration) >= 2:
            report = await _kill_session(trader.broker.gateway, (trader.broker.router.prefix,), ctx)
            _print_kill(report, account)
            trader.broker.risk.halted = "kill switch"
            code = 0 if report.clean else 3
        status = HALTED if trader.broker.halted else STOPPED
        _save(ctx, spec, trader, status, create=False)
        _print_end(trader)
    finally:
        await account.aclose()
        await container.aclose()
        logs.close()
    return code


async def _trade(trader: LiveTrader, feed: Any, duration: float | None) -> int:
    """Run until the duration passes or Ctrl+C; returns how many Ctrl+C there were (2 = kill switch)."""
    loop = asyncio.get_running_loop()
    stop, second = asyncio.Event(), asyncio.Event()
    count = 0

    def on_sigint() -> None:
        nonlocal count
        count += 1
        (stop if count == 1 else second).set()

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    task = asyncio.create_task(trader.run(feed))
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([task, waiter], timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task in done:
            task.result()  # a stream that died for good: say why
        await trader.stop(task)
        if count == 1:
            print(f"stopping; press Ctrl+C again within {KILL_GRACE_S:g} s to run the kill switch", flush=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(second.wait(), KILL_GRACE_S)
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)
    return count


def _keep_halt(ctx: CliContext, session_id: str, trader: LiveTrader, keep: bool) -> None:
    """A halted session stays halted across a resume until the user resets it."""
    stored = ctx.session_store.get(session_id)
    reason = (stored.state or {}).get("halted") if stored is not None and stored.status == HALTED else ""
    if keep and reason:
        trader.broker.risk.halted = str(reason)
        print(f"session {session_id} is HALTED ({reason}); exits only. --reset lifts the halt", flush=True)


def _save(ctx: CliContext, spec: LiveSpec, trader: LiveTrader, status: str, create: bool) -> None:
    from domain.strategy import strategy_to_dict

    store = ctx.session_store
    b = trader.broker
    if create or store.get(spec.session_id) is None:
        if store.get(spec.session_id) is not None:
            store.delete(spec.session_id)
        store.create(spec.session_id, {"mode": "live", "session_id": spec.session_id, "exchange": spec.exchange,
                                       "symbol": spec.market, "timeframe": spec.timeframe.code,
                                       "strategy": strategy_to_dict(spec.strategy), "prefix": b.router.prefix},
                     b.clock.now_ms())
    clean = trader.last is not None and trader.last.clean
    store.save_state(spec.session_id, status, {**b.status(), "reconciled": clean}, trader.driver.last_bar_ts,
                     b.clock.now_ms())


def _print_end(trader: LiveTrader) -> None:
    s = trader.broker.status()
    print(f"session {trader.session_id}: position {s['position']:g}, stop {s['stop_price']} held by "
          f"{s['stop_held_by']}" + (f"; HALTED: {s['halted']}" if s["halted"] else ""), flush=True)
    if s["position"]:
        print("the position and its protective stop stay at the exchange; --resume continues the session",
              flush=True)


def live_sessions(ctx: CliContext, exchange: str | None = None, market: str | None = None) -> list[Any]:
    return [s for s in ctx.session_store.all() if s.spec.get("mode") == "live"
            and (exchange is None or s.spec["exchange"] == exchange) and (market is None or s.spec["symbol"] == market)]


async def _kill_session(gateway: OrderGateway, prefixes: tuple[str, ...], ctx: CliContext) -> KillReport:
    now = ctx.container.clock.now_ms()
    return await kill(gateway, prefixes, client_id("qdkill", now % 10**9))


def _print_kill(report: KillReport, account: TradingAccount) -> None:
    print(f"KILL SWITCH {account.exchange} {account.market}: cancelled {len(report.cancelled)} order(s)"
          + (f", flattened with {report.flatten_client_id}" if report.flatten_client_id else "")
          + f"; the exchange shows {report.open_orders} open order(s) and a position of {report.position:g}"
          + ("" if report.clean else " — NOT CLEAN: " + "; ".join(report.problems)), flush=True)


async def _kill(ctx: CliContext, exchange: str, market: str, base_url: str | None) -> int:
    prefixes = tuple(s.spec.get("prefix") or client_id(s.session_id, 0)[:-1] for s in live_sessions(ctx, exchange,
                                                                                                     market))
    if not prefixes:
        print(f"no QuantDesk live session is known on {exchange} {market}: no order is cancelled, the position is "
              "flattened", file=sys.stderr)
    account = ctx.trading_account(exchange, market, base_url)
    try:
        report = await _kill_session(account.gateway, prefixes, ctx)
    finally:
        await account.aclose()
    _print_kill(report, account)
    for s in live_sessions(ctx, exchange, market):
        ctx.session_store.save_state(s.session_id, HALTED, {**(s.state or {}), "halted": "kill switch"},
                                     s.last_bar_ts, ctx.container.clock.now_ms())
    return 0 if report.clean else 3


async def _status(ctx: CliContext, args: argparse.Namespace) -> int:
    sessions = live_sessions(ctx, args.exchange, args.market)
    rows: list[dict[str, Any]] = []
    for s in sessions:
        state = s.state or {}
        rows.append({"session_id": s.session_id, "exchange": s.spec["exchange"], "market": s.spec["symbol"],
                     "timeframe": s.spec["timeframe"], "status": s.status, "position": state.get("position"),
                     "stop_price": state.get("stop_price"), "stop_held_by": state.get("stop_held_by"),
                     "halted": state.get("halted") or "",
                     "journal_open_orders": ctx.order_journal.open_client_ids(s.session_id)})
    exchanges = [await _exchange_view(ctx, exchange, market, args.base_url)
                 for exchange, market in sorted({(r["exchange"], r["market"]) for r in rows})]
    if args.json:
        print(json.dumps({"sessions": rows, "exchanges": exchanges}, indent=2))
        return 0
    for r in rows:
        print(f"{r['session_id']}  {r['exchange']} {r['market']} {r['timeframe']}  {r['status']}  position "
              f"{r['position']}  stop {r['stop_price']} ({r['stop_held_by']})"
              + (f"  HALTED: {r['halted']}" if r["halted"] else ""))
    for e in exchanges:
        print(f"exchange {e['exchange']} {e['market']}: " + (e["error"] if "error" in e else
              f"position {e['position']:g}, {len(e['open_orders'])} open order(s)"))
    if not rows:
        print("no live sessions", file=sys.stderr)
    return 0


async def _exchange_view(ctx: CliContext, exchange: str, market: str, base_url: str | None) -> dict[str, Any]:
    """What the exchange holds on `market`: position and open orders (or why it could not be asked)."""
    try:
        account = ctx.trading_account(exchange, market, base_url)
    except UserError as err:  # no keys, no keyring: the sessions are still listed
        return {"exchange": exchange, "market": market, "error": str(err)}
    try:
        position = await account.gateway.position()
        orders = await account.gateway.open_orders()
    except UserError as err:
        return {"exchange": exchange, "market": market, "error": str(err)}
    finally:
        await account.aclose()
    return {"exchange": exchange, "market": market, "position": position.amount, "entry_price": position.entry_price,
            "open_orders": [{"client_id": o.client_id, "side": o.side, "type": o.type, "quantity": o.quantity,
                             "stop_price": o.stop_price, "reduce_only": o.reduce_only} for o in orders]}
