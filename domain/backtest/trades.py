"""Closed trades as columns (one numpy array per field), as the engine produces them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest import kernel as k

EXIT_REASONS = ("signal", "stop", "take_profit", "trailing", "end", "liquidation")
LIQUIDATION = 5  # the futures loop's exit code (kernel codes 0..4 come first)
T_FUND = 10  # the futures loop's extra trade column: funding, negative = paid
SIDE_NAMES = {1: "long", -1: "short"}

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True, eq=False)
class TradeTable:
    """Closed trades. `side` is +1 long / -1 short; `size` is the (positive) quantity;
    times are bar open times in ms UTC; `return_pct` is net of commissions, in percent of the entry value;
    `exit_reason` indexes EXIT_REASONS; `funding` is what the trade received in funding (negative = paid,
    already in `pnl`; 0 on spot)."""

    side: I8
    size: F64
    entry_bar: I64
    exit_bar: I64
    entry_time: I64
    exit_time: I64
    entry_price: F64
    exit_price: F64
    pnl: F64
    return_pct: F64
    commission: F64
    duration_ms: I64
    exit_reason: I8
    funding: F64

    @classmethod
    def from_rows(cls, rows: F64, ts: I64) -> TradeTable:
        """From the kernel's trade matrix and the series' bar times."""
        ebar = rows[:, k.T_EBAR].astype(np.int64)
        xbar = rows[:, k.T_XBAR].astype(np.int64)
        etime, xtime = ts[ebar], ts[xbar]
        return cls(
            side=rows[:, k.T_SIDE].astype(np.int8), size=rows[:, k.T_SIZE].copy(),
            entry_bar=ebar, exit_bar=xbar, entry_time=etime, exit_time=xtime,
            entry_price=rows[:, k.T_EPRICE].copy(), exit_price=rows[:, k.T_XPRICE].copy(),
            pnl=rows[:, k.T_PNL].copy(), return_pct=rows[:, k.T_RET] * 100.0,
            commission=rows[:, k.T_COMM].copy(), duration_ms=xtime - etime,
            exit_reason=rows[:, k.T_REASON].astype(np.int8),
            funding=rows[:, T_FUND].copy() if rows.shape[1] > T_FUND else np.zeros(len(rows)),
        )

    @classmethod
    def empty(cls) -> TradeTable:
        return cls.from_rows(np.empty((0, k.N_COLS)), np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.side)

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray]) -> TradeTable:
        dtypes = {"side": np.int8, "exit_reason": np.int8, "entry_bar": np.int64, "exit_bar": np.int64,
                  "entry_time": np.int64, "exit_time": np.int64, "duration_ms": np.int64}
        cols = dict(cols)
        cols.setdefault("funding", np.zeros(len(cols["side"])))  # runs stored before futures
        return cls(**{f.name: np.asarray(cols[f.name], dtype=dtypes.get(f.name, np.float64))
                      for f in fields(cls)})

    def reasons(self) -> list[str]:
        return [EXIT_REASONS[int(r)] for r in self.exit_reason]

    def records(self) -> list[dict[str, Any]]:
        """One plain dict per trade (side and exit reason as names), e.g. for JSON."""
        cols = self.columns()
        out = []
        for i in range(len(self)):
            row = {name: arr[i].item() for name, arr in cols.items()}
            row["side"] = SIDE_NAMES[row["side"]]
            row["exit_reason"] = EXIT_REASONS[row["exit_reason"]]
            out.append(row)
        return out
