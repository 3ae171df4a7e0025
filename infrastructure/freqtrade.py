"""freqtrade candle files (`user_data/data/<exchange>`): which files there are and the QuantDesk market of each.

freqtrade names a file `PAIR-TIMEFRAME[-CANDLETYPE].EXT`, the pair with `/` and `:` turned into `_`
(`BTC/USDT:USDT` → `BTC_USDT_USDT`), futures files in a `futures/` sub-folder with the suffix `-futures`.
Extensions: feather, parquet, json and json.gz (a JSON array of `[ms, open, high, low, close, volume]`).

Mapping to QuantDesk markets:
- futures (`-futures`): on binance, exchange `binance` (QuantDesk's Binance is USDT-M futures) and symbol
  BASE+QUOTE: `BTC_USDT_USDT-1m-futures` → binance `BTCUSDT` 1m. Other exchanges: `<exchange>-futures`, BASE+QUOTE.
- spot: binance spot is not QuantDesk's binance, so it goes to `binance-spot` (`BTC_USDT-1m` → binance-spot
  `BTCUSDT`); upbit keeps its name with Upbit's QUOTE-BASE spelling (`BTC_KRW` or `KRW_BTC` → upbit `KRW-BTC`);
  any other exchange keeps its name with BASE+QUOTE.
- mark, index, premium-index and funding-rate files, timeframes QuantDesk does not have (2h, 1M, ...) and
  pairs whose base and quote cannot be told apart are skipped, each with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.errors import DataError
from domain.market import Timeframe

_NAME = re.compile(r"^(?P<pair>.+?)-(?P<tf>\d+[a-zA-Z]{1,2})(?:-(?P<kind>[A-Za-z_]+))?"
                   r"\.(?P<ext>feather|parquet|json|json\.gz)$")
_FORMATS = {"feather": "feather", "parquet": "parquet", "json": "json", "json.gz": "json"}
_CODES = {tf.code: tf for tf in Timeframe}


@dataclass(frozen=True, slots=True)
class FreqtradeFile:
    """One candle file and where its candles go."""

    path: Path
    exchange: str
    market: str
    timeframe: Timeframe
    fmt: str


@dataclass(frozen=True, slots=True)
class Skipped:
    path: Path
    reason: str


def market_for(pair: str, futures: bool, exchange: str) -> tuple[str, str]:
    """(QuantDesk exchange, market) of a freqtrade pair file name part; ValueError when it cannot be split."""
    parts = pair.upper().split("_")
    if len(parts) != (3 if futures else 2) or not all(parts):
        kind = "BASE_QUOTE_SETTLE" if futures else "BASE_QUOTE"
        raise ValueError(f"cannot tell base and quote in {pair!r} (expected {kind})")
    base, quote = parts[0], parts[1]
    name = exchange.lower()
    if futures:
        return ("binance" if name == "binance" else f"{name}-futures"), base + quote
    if name == "upbit":
        if base == "KRW":  # already Upbit's order: KRW is only ever the quote
            base, quote = quote, base
        return "upbit", f"{quote}-{base}"
    return ("binance-spot" if name == "binance" else name), base + quote


def classify(path: Path, exchange: str) -> FreqtradeFile | Skipped | None:
    """What one file is: a candle file to import, one to skip (with why), or None when not freqtrade's."""
    m = _NAME.match(path.name)
    if m is None:
        return None
    kind = (m["kind"] or "").lower()
    if kind not in ("", "spot", "futures"):
        return Skipped(path, f"{kind} candles are not prices to trade on")
    tf = _CODES.get(m["tf"])
    if tf is None:
        return Skipped(path, f"timeframe {m['tf']} is not one QuantDesk has ({', '.join(_CODES)})")
    try:
        ex, market = market_for(m["pair"], kind == "futures", exchange)
    except ValueError as err:
        return Skipped(path, str(err))
    return FreqtradeFile(path, ex, market, tf, _FORMATS[m["ext"].lower()])


def exchange_of(folder: Path) -> str:
    """The exchange a data folder belongs to: its name (its parent's for a `futures` sub-folder)."""
    folder = folder.resolve()
    return folder.parent.name if folder.name.lower() == "futures" else folder.name


def find_freqtrade_files(root: Path | str, exchange: str | None = None) -> tuple[list[FreqtradeFile], list[Skipped]]:
    """Every freqtrade candle file under `root`, sorted by market and timeframe.

    `root` may be one exchange's folder or user_data/data itself: each file belongs to the exchange whose folder
    holds it (unless `exchange` is given).
    """
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: not a folder (give a freqtrade user_data/data/<exchange> folder)")
    found: list[FreqtradeFile] = []
    skipped: list[Skipped] = []
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        item = classify(path, exchange or exchange_of(path.parent))
        if isinstance(item, FreqtradeFile):
            found.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
    found.sort(key=lambda f: (f.exchange, f.market, f.timeframe.ms, str(f.path)))
    return found, skipped
