"""`quantdesk sweeps list|show|delete`: stored sweeps and their results."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from app.commands.common import open_container
from app.commands.output import write_json
from app.timeparse import format_ms
from domain.sweep import short_label


def register(sub: Any) -> None:
    p = sub.add_parser("sweeps", help="list, show or delete stored parameter sweeps")
    actions = p.add_subparsers(dest="sweeps_action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="stored sweeps, newest first")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=_list)
    show = actions.add_parser("show", help="one sweep: its set-up and best results")
    show.add_argument("id", type=int)
    show.add_argument("--top", type=int, default=10, help="how many points to print (default 10)")
    show.add_argument("--json", action="store_true", help="every point and the stored summary as JSON")
    show.set_defaults(func=_show)
    rm = actions.add_parser("delete", help="delete a sweep and its results")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=_delete)


def _list(args: argparse.Namespace) -> int:
    rows = open_container(args).sweeps.list(limit=args.limit)
    if not rows:
        print("no sweeps stored (run one with: quantdesk optimize ...)")
        return 0
    for r in rows:
        print(f"{r.id:>5}  {format_ms(r.created_ms)[:16]}  {r.status:<9}  {r.done:>6}/{r.total:<6}  "
              f"{r.strategy_name}  on {r.source}")
    return 0


def _num(x: Any, key: str = "") -> str:
    """A number for the listing; "—" when missing, not finite, or (for a statistic `key`) underflowed or absurd."""
    from app.backtests.display import DASH, stat_text

    if not isinstance(x, int | float) or not math.isfinite(x) or (key and stat_text(key, x) == DASH):
        return DASH
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:.4g}"


def _show(args: argparse.Namespace) -> int:
    stored = open_container(args).sweeps.get(args.id)
    cfg, s = stored.config, stored.summary
    if args.json:
        points = [{"window": p.result.window, "params": list(p.result.params), "status": p.result.status,
                   "objective": p.objective if math.isfinite(p.objective) else None, "passed": p.passed,
                   "stats": p.result.stats} for p in stored.points]
        write_json({"id": s.id, "status": s.status, "config": cfg, "settings": stored.settings,
                    "outcome": stored.outcome, "points": points}, sys.stdout)
        return 0
    labels = [short_label(stored.definition, a["paths"][0]) for a in cfg["axes"]]
    print(f"sweep {s.id}: {s.strategy_name} on {s.source}, {format_ms(s.start_ms)[:10]} .. "
          f"{format_ms(s.end_ms)[:10]}; {s.status}, {s.done}/{s.total} points on {cfg.get('executor')}")
    print(f"{'maximize' if cfg['maximize'] else 'minimize'} {cfg['objective']}, at least {cfg.get('min_trades', 1)} "
          "trades; "
          + ", ".join(f"{lab} in {len(a['values'])} values" for lab, a in zip(labels, cfg["axes"], strict=True)))
    sign = -1.0 if cfg["maximize"] else 1.0
    ranked = sorted(stored.points, key=lambda p: (not p.passed, math.isnan(p.objective),
                                                  sign * p.objective if math.isfinite(p.objective) else 0.0))
    for p in ranked[:args.top]:
        params = ", ".join(f"{lab}={v:g}" for lab, v in zip(labels, p.result.params, strict=True))
        window = f"[window {p.result.window}] " if cfg.get("walk_forward") else ""
        print(f"  {window}{params}: {cfg['objective']} {_num(p.objective, cfg['objective'])}, trades "
              f"{_num(p.result.stats.get('# Trades'))}, return {_num(p.result.stats.get('Return [%]'))} %"
              + ("" if p.passed else f" ({p.result.status if p.result.status != 'ok' else 'filtered'})"))
    wf = stored.outcome.get("walk_forward")
    if wf and wf.get("stats"):
        st = wf["stats"]
        print(f"walk-forward stitched out-of-sample: return {_num(st.get('Return [%]'))} %, Sharpe (bars) "
              f"{_num(st.get('Sharpe (bars)'), 'Sharpe (bars)')}, "
              f"Sharpe Ratio {_num(st.get('Sharpe Ratio'), 'Sharpe Ratio')}, "
              f"{_num(st.get('# Trades'))} trades over {len(wf['windows'])} windows")
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not open_container(args).sweeps.delete(args.id):
        from app.errors import UserError

        raise UserError(f"no sweep with id {args.id}")
    print(f"deleted sweep {args.id}")
    return 0
