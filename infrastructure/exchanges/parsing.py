"""Exchange candle rows → CandleSeries; malformed rows are rejected with a reason, never stored."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np

from app.market_data.exchange import RejectedRow
from domain.futures import FundingRates
from domain.market import CandleSeries, Timeframe

log = logging.getLogger("quantdesk.exchange")
Row = tuple[int, float, float, float, float, float]
_UPBIT_FIELDS = ("opening_price", "high_price", "low_price", "trade_price", "candle_acc_trade_volume")


def _number(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        raise ValueError(f"{name} is not a number ({x!r})")
    try:
        v = float(x)
    except ValueError:
        raise ValueError(f"{name} is not a number ({x!r})") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} is not finite ({x!r})")
    return v


def _check(row: Row, tf: Timeframe) -> Row:
    ts, o, h, lo, c, v = row
    if not tf.is_aligned(ts):
        raise ValueError(f"time {ts} is not on a {tf.code} bar boundary")
    if h < max(o, c) or lo > min(o, c) or lo <= 0:
        raise ValueError("prices are inconsistent (high/low do not bound open/close)")
    if v < 0:
        raise ValueError("volume is negative")
    return row


def upbit_row(x: Any, tf: Timeframe) -> Row:
    if not isinstance(x, dict):
        raise ValueError("row is not an object")
    try:
        when = datetime.fromisoformat(str(x["candle_date_time_utc"])).replace(tzinfo=UTC)
        fields = [x[k] for k in _UPBIT_FIELDS]
    except KeyError as err:
        raise ValueError(f"field {err.args[0]} is missing") from None
    except ValueError:
        raise ValueError(f"candle_date_time_utc is not a time ({x.get('candle_date_time_utc')!r})") from None
    o, h, lo, c, v = (_number(f, n) for f, n in zip(fields, _UPBIT_FIELDS, strict=True))
    return _check((int(when.timestamp() * 1000), o, h, lo, c, v), tf)


def binance_row(x: Any, tf: Timeframe) -> Row:
    if not isinstance(x, list) or len(x) < 6:
        raise ValueError("row is not a kline array")
    if isinstance(x[0], bool) or not isinstance(x[0], int):
        raise ValueError(f"open time is not an integer ({x[0]!r})")
    names = ("open", "high", "low", "close", "volume")
    o, h, lo, c, v = (_number(f, n) for f, n in zip(x[1:6], names, strict=True))
    return _check((x[0], o, h, lo, c, v), tf)



def fast_upbit(data: list[Any], tf: Timeframe) -> CandleSeries | None:
    """Whole-answer columnar parse; None when anything is off (then rows are checked one by one)."""
    try:
        stamps = np.array([x["candle_date_time_utc"] for x in data], dtype="datetime64[s]")
        raw = [[x[k] for x in data] for k in _UPBIT_FIELDS]
    except (KeyError, TypeError, ValueError):
        return None
    if not set(map(type, chain.from_iterable(raw))) <= {int, float}:  # bool, str, None: row by row
        return None
    ts = stamps.astype(np.int64) * 1000
    return _checked(tf, ts, [np.array(col, dtype=np.float64) for col in raw])


def fast_binance(data: list[Any], tf: Timeframe) -> CandleSeries | None:
    try:
        if any(not isinstance(x, list) or len(x) < 6 or type(x[0]) is not int for x in data):
            return None
        ts = np.array([x[0] for x in data], dtype=np.int64)
        cols = [np.array([x[i] for x in data], dtype=np.float64) for i in range(1, 6)]
    except (TypeError, ValueError):
        return None
    return _checked(tf, ts, cols)


def _checked(tf: Timeframe, ts: np.ndarray, cols: list[np.ndarray]) -> CandleSeries | None:
    o, h, lo, c, v = cols
    ok = (np.isfinite(np.stack(cols)).all() and ((ts - tf.origin_ms) % tf.ms == 0).all()
          and (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all() and (lo > 0).all()
          and (v >= 0).all())
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    if not ok or (len(ts) > 1 and (np.diff(ts) <= 0).any()):
        return None
    return CandleSeries.from_columns(tf, ts, *(col[order] for col in cols))


FAST = {upbit_row: fast_upbit, binance_row: fast_binance}


def parse_rows(label: str, data: Any, tf: Timeframe,
               parse: Callable[[Any, Timeframe], Row]) -> tuple[CandleSeries, tuple[RejectedRow, ...], int]:
    """Good rows as an ascending series, the rejected ones with reasons, and how many rows came back."""
    if not isinstance(data, list):
        raise ValueError("the answer is not a list of candles")
    fast = FAST.get(parse)
    series = fast(data, tf) if fast is not None and data else None
    if series is not None:
        return series, (), len(data)
    good: dict[int, Row] = {}
    rejected: list[RejectedRow] = []
    for i, x in enumerate(data):
        try:
            row = parse(x, tf)
            if row[0] in good:
                raise ValueError(f"time {row[0]} appears twice")
            good[row[0]] = row
        except ValueError as err:
            rejected.append(RejectedRow(i, str(err)))
            log.warning("%s: rejected candle row %d: %s", label, i, err)
    if not good:
        return CandleSeries.empty(tf), tuple(rejected), len(data)
    arr = np.array(sorted(good.values()), dtype=np.float64)
    ts = np.array(sorted(good), dtype=np.int64)
    return CandleSeries.from_columns(tf, ts, *arr[:, 1:].T), tuple(rejected), len(data)


FundingRow = tuple[int, float, float]


def binance_funding_row(x: Any) -> FundingRow:
    """One GET /fapi/v1/fundingRate row: fundingTime ms, fundingRate and markPrice strings ("" = unknown)."""
    if not isinstance(x, dict):
        raise ValueError("row is not an object")
    if "fundingTime" not in x or "fundingRate" not in x:
        raise ValueError(f"field {'fundingTime' if 'fundingTime' not in x else 'fundingRate'} is missing")
    when = x["fundingTime"]
    if isinstance(when, bool) or not isinstance(when, int):
        raise ValueError(f"fundingTime is not an integer ({when!r})")
    rate = _number(x["fundingRate"], "fundingRate")
    raw_mark = x.get("markPrice")
    mark = math.nan if raw_mark in (None, "") else _number(raw_mark, "markPrice")
    if mark <= 0:
        raise ValueError(f"markPrice must be > 0 ({raw_mark!r})")
    return when, rate, mark


def parse_funding(label: str, data: Any) -> tuple[FundingRates, tuple[RejectedRow, ...], int]:
    """Good funding rows as ascending FundingRates, the rejected ones with reasons, and how many came back."""
    if not isinstance(data, list):
        raise ValueError("the answer is not a list of funding rows")
    good: dict[int, FundingRow] = {}
    rejected: list[RejectedRow] = []
    for i, x in enumerate(data):
        try:
            row = binance_funding_row(x)
            if row[0] in good:
                raise ValueError(f"fundingTime {row[0]} appears twice")
            good[row[0]] = row
        except ValueError as err:
            rejected.append(RejectedRow(i, str(err)))
            log.warning("%s: rejected funding row %d: %s", label, i, err)
    rows = [good[t] for t in sorted(good)]
    rates = FundingRates.from_columns([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    return rates, tuple(rejected), len(data)
