"""`import-freqtrade DIR`: every candle file of a freqtrade data folder into the store, one transaction per file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands.common import context, open_container, progress_bar
from app.errors import DataError
from app.timeparse import format_ms


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import-freqtrade", help="import a freqtrade data folder (feather, parquet, json candle files)",
        description="Reads user_data/data/<exchange> (and its futures/ folder): PAIR-TIMEFRAME[-futures] files. "
        "Futures pairs go to their exchange with BASE+QUOTE symbols (BTC_USDT_USDT-1m-futures -> binance BTCUSDT); "
        "binance spot files go to binance-spot; upbit pairs become KRW-BTC. Mark, index and funding files are skipped.")
    p.add_argument("dir", metavar="DIR", help="a freqtrade user_data/data/<exchange> folder, or user_data/data")
    p.add_argument("--exchange", help="the freqtrade exchange name (default: the name of each file's folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_import_freqtrade)


def _import_freqtrade(args: argparse.Namespace) -> int:
    files, skipped = context(args).freqtrade_files(args.dir, args.exchange)
    for s in skipped:
        print(f"skipped {s.path.name}: {s.reason}", file=sys.stderr)
    if not files:
        raise DataError(f"{args.dir}: no freqtrade candle files (PAIR-TIMEFRAME[-futures].feather|parquet|json)")
    data = open_container(args).data
    failed = bars = 0
    with progress_bar(f"importing {len(files)} freqtrade files", args.quiet) as update:
        for done, f in enumerate(files):
            update(done, len(files))
            try:
                r = data.import_file(f.path, f.exchange, f.market, f.timeframe, fmt=f.fmt)
            except DataError as err:
                failed += 1
                print(f"error: {err}", file=sys.stderr)
                continue
            bars += r.rows
            print(f"{f.path.name}: {r.rows} {r.key.timeframe.code} bars into {r.key} ({format_ms(r.first_ts)} .. "
                  f"{format_ms(r.last_ts)}); {r.rows_after - r.rows_before} new")
        update(len(files), len(files))
    print(f"imported {len(files) - failed} of {len(files)} files ({bars} bars); "
          f"{len(skipped)} skipped, {failed} failed")
    return 1 if failed else 0
