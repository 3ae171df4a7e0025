"""Parse the times users type (`--start 2024-01-01`, ISO datetimes, epoch numbers) into int64 ms UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.errors import UserError


def parse_time_arg(text: str, what: str = "time") -> int:
    """A date or ISO 8601 datetime, UTC unless an offset is given → ms since the epoch."""
    t = text.strip()
    if not t:
        raise UserError(f"{what}: empty")
    try:
        if len(t) == 10 and t[4] == "-":
            d = date.fromisoformat(t)
            return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
        dt = datetime.fromisoformat(t.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise UserError(
            f"{what}: cannot read {text!r}; use a date like 2024-01-31 or an ISO time like 2024-01-31T12:00:00Z"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def format_ms(ms: int) -> str:
    """ISO 8601 UTC with a Z, seconds precision unless milliseconds are present."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """Parse a --start/--end pair (end exclusive); start must be before end."""
    s = parse_time_arg(start, "--start") if start else None
    e = parse_time_arg(end, "--end") if end else None
    if s is not None and e is not None and s >= e:
        raise UserError(f"--start ({start}) must be before --end ({end})")
    return s, e
