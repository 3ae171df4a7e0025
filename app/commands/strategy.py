"""`strategy validate|import|export|list|check-lookahead`: strategy definitions in and out of the store, checked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.commands.common import open_container, printable
from app.commands.safe_output import check_output_path
from app.errors import UserError
from app.strategies.ports import SORT_KEYS, StrategyQuery
from app.timeparse import format_ms


def register(sub: Any) -> None:
    p = sub.add_parser("strategy", help="validate, import, export and list strategies; check one for look-ahead")
    ssub = p.add_subparsers(dest="strategy_command", metavar="ACTION", required=True)
    v = ssub.add_parser("validate", help="check strategy JSON files; prints each problem with its JSON path")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(func=_validate)
    i = ssub.add_parser("import", help="store the strategies in JSON files (all of them or, on any problem, none)")
    i.add_argument("files", nargs="+", metavar="FILE")
    i.set_defaults(func=_import)
    e = ssub.add_parser("export", help="write stored strategies as JSON (one object, or a list for several)")
    e.add_argument("names", nargs="+", metavar="NAME")
    e.add_argument("-o", "--output", help="output file (default: standard output)")
    e.set_defaults(func=_export)
    ls = ssub.add_parser("list", help="stored strategies")
    ls.add_argument("--filter", default="", metavar="TEXT", help="names containing TEXT (any case)")
    ls.add_argument("--tag", help="only strategies with this tag")
    ls.add_argument("--sort", choices=SORT_KEYS, default="name")
    ls.add_argument("--desc", action="store_true", help="descending order")
    ls.add_argument("--limit", type=int, default=0, metavar="N", help="at most N rows (default: all)")
    ls.set_defaults(func=_list)
    from app.commands import lookahead

    lookahead.register(ssub)


MAX_STRATEGY_BYTES = 10 << 20  # a strategy is a few KB; a bigger "file" is a mistake (or /dev/zero)


def _read(path: str) -> str:
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(MAX_STRATEGY_BYTES + 1)
        if len(data) > MAX_STRATEGY_BYTES:
            raise UserError(f"{path}: larger than {MAX_STRATEGY_BYTES >> 20} MB; not a strategy file")
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a strategy file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read: {err.strerror}") from None


def _validate(args: argparse.Namespace) -> int:
    from app.strategies.service import validate_text

    failed = 0
    for path in args.files:
        issues = validate_text(_read(path))
        for issue in issues:
            print(f"{path}: {issue}", file=sys.stderr)
        if issues:
            failed += 1
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def _import(args: argparse.Namespace) -> int:
    sources = [(path, _read(path)) for path in args.files]
    result = open_container(args).strategies.import_texts(sources)
    if not result.ok:
        for issue in result.errors:
            print(str(issue), file=sys.stderr)
        n = len(result.errors)
        print(f"nothing imported: {n} problem{'' if n == 1 else 's'}", file=sys.stderr)
        return 1
    if not result.created:
        raise UserError(f"{', '.join(str(p) for p in args.files)}: no strategy in it; nothing imported")
    print(f"imported {len(result.created)} strateg{'y' if len(result.created) == 1 else 'ies'}: "
          + ", ".join(printable(n) for n in result.created))
    return 0


def _export(args: argparse.Namespace) -> int:
    container = open_container(args)
    service = container.strategies
    target = check_output_path(args.output, container.db_path) if args.output else None
    ids = []
    for name in args.names:
        record = service.get_by_name(name)
        if record is None:
            raise UserError(f"no strategy named {name!r} (see `quantdesk strategy list`)")
        ids.append(record.id)
    text = service.export_json(ids)
    if target is not None:
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as err:
            raise UserError(f"{args.output}: cannot write: {err.strerror}") from None
        print(f"wrote {len(ids)} strateg{'y' if len(ids) == 1 else 'ies'} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _list(args: argparse.Namespace) -> int:
    service = open_container(args).strategies
    query = StrategyQuery(args.filter, args.tag, args.sort, args.desc)
    total = service.count(query)
    print(f"{'NAME':40} {'DIRECTION':11} {'UPDATED (UTC)':19} {'LAST RETURN':>11}  TAGS")
    shown, cursor = 0, None
    limit = args.limit if args.limit > 0 else total
    while shown < limit:
        page = service.page(query, min(500, limit - shown), cursor)
        for row in page.items:
            ret = "" if row.last_backtest_return is None else f"{row.last_backtest_return:+.2f}%"
            print(f"{row.name[:40]:40} {row.direction:11} {format_ms(row.updated_ms)[:19]:19} {ret:>11}  "
                  f"{', '.join(row.tags)}")
        shown += len(page.items)
        cursor = page.next_cursor
        if cursor is None or not page.items:
            break
    print(f"{shown} of {total} strateg{'y' if total == 1 else 'ies'}", file=sys.stderr)
    return 0


