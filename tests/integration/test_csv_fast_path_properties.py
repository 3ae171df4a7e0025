"""Generated CSV files: the Arrow pass and the line-by-line pass agree on every value and every error message."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import DataError
from infrastructure.csv_io import read_candles_csv, read_candles_csv_by_line
from infrastructure.files.csv_arrow import read_csv_fast

T0 = 1_704_067_200_000
STEPS = (60_000, 300_000, 3_600_000, 86_400_000)


def _time_text(ms: int, style: str) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return {
        "iso_z": dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso_ms_z": dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z",
        "naive_t": dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "naive_space": dt.strftime("%Y-%m-%d %H:%M:%S"),
        "offset": dt.astimezone(timezone(timedelta(hours=9))).isoformat(),
        "epoch_s": str(ms // 1000),
        "epoch_s_float": f"{ms / 1000:.1f}",
        "epoch_ms": str(ms),
        "date": dt.strftime("%Y-%m-%d"),
    }[style]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A candle CSV, and whether it is a clean one that the fast pass must take by itself."""
    n = draw(st.integers(1, 25))
    step = draw(st.sampled_from(STEPS))
    style = draw(st.sampled_from(["iso_z", "iso_ms_z", "naive_t", "naive_space", "offset", "epoch_s",
                                  "epoch_s_float", "epoch_ms", "date"]))
    names = draw(st.sampled_from([["time", "open", "high", "low", "close", "volume"],
                                  ["Date", "Open", "High", "Low", "Close", "Volume"],
                                  ["", "open", "high", "low", "close"], ["timestamp", "o", "h", "l", "c", "v", "n"]]))
    rows = []
    price = 100.0
    for i in range(n):
        o = price
        c = round(price * (1 + draw(st.floats(-0.01, 0.01))), draw(st.integers(0, 12)))
        hi, lo = max(o, c) * 1.001, min(o, c) * 0.999
        cells = [_time_text(T0 + i * step, style), repr(o), repr(hi), repr(lo), repr(c), repr(float(i)), "7"]
        rows.append(cells[:len(names)])
        price = c
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))
    damage = draw(st.sampled_from(["none", "none", "bad_cell", "empty_cell", "nan", "dup", "high_low", "short",
                                   "spaces", "quotes", "blank_line", "mixed_time"]))
    k = draw(st.integers(0, len(rows) - 1))
    col = draw(st.integers(0, len(names) - 1))
    if damage == "bad_cell":
        rows[k][col] = "abc"
    elif damage == "empty_cell":
        rows[k][col] = ""
    elif damage == "nan":
        rows[k][max(col, 1)] = draw(st.sampled_from(["nan", "inf", "-inf", "1e400"]))
    elif damage == "dup":
        rows.append(list(rows[k]))
    elif damage == "high_low":
        rows[k][2] = repr(float(rows[k][3]) * 0.5)
    elif damage == "short":
        rows[k] = rows[k][:-1]
    elif damage == "spaces":
        rows[k][col] = f" {rows[k][col]} "
    elif damage == "quotes":
        rows[k] = [f'"{cell}"' for cell in rows[k]]
    elif damage == "mixed_time":
        rows[k][0] = _time_text(T0 + k * step, "epoch_ms" if style != "epoch_ms" else "iso_z")
    lines = [",".join(names), *(",".join(r) for r in rows)]
    if damage == "blank_line":
        lines.insert(k + 1, "")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    clean = damage == "none" and n >= 2 and (style != "date" or step == 86_400_000)
    return (("\ufeff" if draw(st.booleans()) else "") + text).encode("utf-8"), clean


def _outcome(read, p: Path):  # type: ignore[no-untyped-def]
    try:
        return read(p)
    except DataError as err:
        return str(err)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_both_passes_give_the_same_series_or_the_same_message(case: tuple[bytes, bool]) -> None:
    data, clean = case
    with tempfile.TemporaryDirectory() as folder:
        p = Path(folder) / "generated.csv"
        p.write_bytes(data)
        fast, exact = _outcome(read_candles_csv, p), _outcome(read_candles_csv_by_line, p)
        if clean:
            assert read_csv_fast(p, None) == exact  # taken by Arrow alone, no second pass
    assert type(fast) is type(exact)
    assert fast == exact, data.decode("utf-8")[:2000]
