"""Funding CSV files `time,rate[,mark_price]`: the whole file is checked before anything is stored."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

from app.errors import DataError
from domain.futures import FundingRates

_ALIASES = {
    "time": ("time", "timestamp", "ts", "fundingtime", "funding_time", "date", "datetime"),
    "rate": ("rate", "fundingrate", "funding_rate"),
    "mark": ("mark_price", "markprice", "mark"),
}
_MS_FLOOR = 100_000_000_000  # 1973-03-03 in ms; a smaller number is almost surely seconds


def _time(text: str) -> int:
    t = text.strip()
    if t.lstrip("-").isdigit():
        ms = int(t)
        if ms < _MS_FLOOR:
            raise ValueError(f"time {t} looks like seconds; give epoch milliseconds or an ISO time")
        return ms
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {t!r} is neither epoch milliseconds nor an ISO time") from None
    return int(round((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000))


def _is_time(text: str) -> bool:
    """A number (even in the wrong unit: data, reported on its line) or an ISO time, i.e. not a header."""
    if text.strip().lstrip("-").isdigit():
        return True
    try:
        _time(text)
    except ValueError:
        return False
    return True


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} is not finite")
    return value


def _columns(first: list[str], path: Path) -> tuple[dict[str, int], bool]:
    """Column positions, and whether the first row was a header (no header: time, rate, mark by position)."""
    names = [c.strip().lower() for c in first]
    found = {f: names.index(a) for f, aliases in _ALIASES.items() for a in aliases if a in names}
    if found or not _is_time(first[0]):
        missing = [f for f in ("time", "rate") if f not in found]
        if missing:
            raise DataError(f"{path}:1: cannot find column(s) {', '.join(missing)} in header {first!r} "
                            "(expected time, rate and optionally mark_price)")
        return found, True
    positions = {"time": 0, "rate": 1}
    if len(first) > 2:
        positions["mark"] = 2
    return positions, False


class CsvFundingFiles:
    """Implements app.funding.FundingFiles."""

    def read(self, path: Path | str) -> FundingRates:
        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                rows = [(i, r) for i, r in enumerate(csv.reader(fh), start=1) if any(c.strip() for c in r)]
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err.strerror})") from None
        if not rows:
            raise DataError(f"{path}: the file is empty")
        cols, header = _columns(rows[0][1], path)
        need = max(cols["time"], cols["rate"]) + 1
        seen: dict[int, int] = {}
        out: list[tuple[int, float, float]] = []
        for line, row in rows[1:] if header else rows:
            try:
                if len(row) < need:
                    raise ValueError(f"expected at least {need} columns, found {len(row)}")
                ts = _time(row[cols["time"]])
                rate = _number(row[cols["rate"]], "rate")
                raw = row[cols["mark"]].strip() if "mark" in cols and len(row) > cols["mark"] else ""
                mark = _number(raw, "mark_price") if raw else math.nan
                if mark <= 0:
                    raise ValueError(f"mark_price must be > 0, got {raw}")
            except ValueError as err:
                raise DataError(f"{path}:{line}: {err}") from None
            if ts in seen:
                raise DataError(f"{path}:{line}: time {row[cols['time']].strip()} repeats line {seen[ts]}")
            seen[ts] = line
            out.append((ts, rate, mark))
        out.sort()
        return FundingRates.from_columns([r[0] for r in out], [r[1] for r in out], [r[2] for r in out])
