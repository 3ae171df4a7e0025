"""The Builder's risk block (schema 2): position size, stop loss, take-profit levels and trailing stop."""

from __future__ import annotations

import copy
from typing import Any

from PyQt6 import QtWidgets

from presentation.builder.conditions import message_label, small_button
from presentation.builder.draft import Path
from presentation.builder.numbers import explain_limits, fit_decimals
from presentation.builder.operand import Ctx

PCT_HIGH = {"stop_loss": 100.0, "take_profit": 10_000.0, "trailing_stop": 100.0}
PCT_DEFAULT = {"stop_loss": 2, "take_profit": 4, "trailing_stop": 3}
ATR_DEFAULT = {"period": 14, "mult": 2}
HELP = {
    "position_size_pct": "Share of current equity put into each position (100 = all of it).",
    "stop_loss": "Exit when price moves this far against the (average) entry: a percentage of it, or a multiple "
                 "of ATR taken on the signal bar and then fixed. Typical 1–5 % on minutes, 1.5–3 × ATR.",
    "take_profit": "Exit when price moves this far in favour. Several levels close the position in parts: each "
                   "closes its share of the largest size the position reached; the shares add up to 100 %.",
    "trailing_stop": "Exit when price falls this far back: from the best price since entry, or from each close "
                     "(only ever tightening).",
}
ANCHORS = (("extreme", "from the best price since entry"), ("close", "from each close (tightens only)"))
ANCHOR_HELP = ("Best price: the stop trails the highest high (long) or lowest low (short) since entry.\n"
               "Each close: the stop sits the distance behind every close and only moves in your favour "
               "(backtesting.py's TrailingStrategy).")


def _box(lo: float, hi: float, decimals: int = 2, suffix: str = "", value: Any = None) -> QtWidgets.QDoubleSpinBox:
    """A number box showing `value` (when a number) with the decimals it needs."""
    box = QtWidgets.QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    if isinstance(value, int | float) and not isinstance(value, bool):
        fit_decimals(box, float(value), least=decimals)
        box.setValue(float(value))
    box.setSuffix(suffix)
    box.setKeyboardTracking(True)
    box.setMaximumWidth(84)
    return box


def _int_box(lo: int, hi: int) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(lo, hi)
    box.setKeyboardTracking(True)
    box.setMaximumWidth(100)
    return box


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


class DistanceEditor(QtWidgets.QWidget):
    """Off / "% of price" / "× ATR": a distance `{"pct": x}` or `{"atr": {"period": n, "mult": m}}`; other keys of
    the value (a level's close_pct, a trail's anchor) are kept when the kind changes."""

    def __init__(self, value: Any, path: Path, ctx: Ctx, what: str, allow_off: bool = True) -> None:
        super().__init__()
        self.path, self.ctx = path, ctx
        doc: dict[str, Any] = value if isinstance(value, dict) else {}
        kind = "pct" if "pct" in doc else "atr" if "atr" in doc else None
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.kind = QtWidgets.QComboBox()
        if allow_off:
            self.kind.addItem("Off", None)
        self.kind.addItem("% of price", "pct")
        self.kind.addItem("ATR multiple", "atr")
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.setAccessibleName(f"{what} kind")
        self.kind.activated.connect(lambda _: self._switch())
        lay.addWidget(self.kind)
        self.notes: list[QtWidgets.QLabel] = []
        self.pct: QtWidgets.QDoubleSpinBox | None = None
        self.period: QtWidgets.QSpinBox | None = None
        self.mult: QtWidgets.QDoubleSpinBox | None = None
        root = path[1] if len(path) > 1 else "stop_loss"
        if kind == "pct":
            self.pct = _box(0.0, PCT_HIGH.get(str(root), 100.0), suffix=" %", value=doc["pct"])
            self.pct.setSingleStep(0.5)
            self.pct.valueChanged.connect(lambda v: ctx.edit(path + ("pct",), _num(v), False))
            self.notes.append(explain_limits(self.pct, f"{what} %"))
            lay.addWidget(self.pct)
            ctx.register(path + ("pct",), self.pct)
        elif kind == "atr":
            atr = doc["atr"] if isinstance(doc["atr"], dict) else {}
            self.mult = _box(0.0, 100.0, value=atr.get("mult", 0))
            self.mult.setSingleStep(0.5)
            self.mult.valueChanged.connect(lambda v: ctx.edit(path + ("atr", "mult"), _num(v), False))
            self.period = _int_box(1, 500)
            self.period.setSuffix(" bars")
            self.period.setValue(int(atr.get("period", 14)) if isinstance(atr.get("period"), int | float) else 14)
            self.period.valueChanged.connect(lambda v: ctx.edit(path + ("atr", "period"), int(v), False))
            self.notes += [explain_limits(self.mult, f"{what} ATR multiple"),
                           explain_limits(self.period, f"{what} ATR period")]
            for widget in (self.mult, QtWidgets.QLabel("× ATR of"), self.period):
                lay.addWidget(widget)
            ctx.register(path + ("atr", "mult"), self.mult)
            ctx.register(path + ("atr", "period"), self.period)
        lay.addStretch(1)
        ctx.register(path, self.kind)

    def _switch(self) -> None:
        kind = self.kind.currentData()
        now = self.ctx.current(self.path)
        doc: dict[str, Any] = now if isinstance(now, dict) else {}
        extra = {k: v for k, v in doc.items() if k not in ("pct", "atr")}
        root = str(self.path[1]) if len(self.path) > 1 else "stop_loss"
        if kind is None:
            value: Any = None
        elif kind == "pct":
            value = {"pct": PCT_DEFAULT.get(root, 2), **extra}
        else:
            value = {"atr": dict(ATR_DEFAULT), **extra}
        self.ctx.edit(self.path, value, True)


class RiskPanel(QtWidgets.QGroupBox):
    """Position size, stop loss, take profit (off, one target or several levels) and trailing stop."""

    def __init__(self, risk: dict[str, Any], ctx: Ctx) -> None:
        super().__init__("Risk")
        self.setObjectName("riskPanel")
        self.ctx = ctx
        self.form = QtWidgets.QFormLayout(self)
        self.form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: labels go above
        size = _box(0.0, 100.0, suffix=" %", value=risk.get("position_size_pct"))
        size.setSingleStep(0.5)
        size.setToolTip(HELP["position_size_pct"])
        size.valueChanged.connect(lambda v: ctx.edit(("risk", "position_size_pct"), _num(v), False))
        self.size_box = size
        self._row("Position size %", size, ("risk", "position_size_pct"), [explain_limits(size, "Position size %")])
        ctx.register(("risk", "position_size_pct"), size)
        self.stop = DistanceEditor(risk.get("stop_loss"), ("risk", "stop_loss"), ctx, "Stop loss")
        self._row("Stop loss", self.stop, ("risk", "stop_loss"), self.stop.notes, HELP["stop_loss"])
        self.take = TakeProfitEditor(risk.get("take_profit"), ctx)
        self._row("Take profit", self.take, ("risk", "take_profit"), self.take.notes, HELP["take_profit"])
        self.trail = TrailingEditor(risk.get("trailing_stop"), ctx)
        self._row("Trailing stop", self.trail, ("risk", "trailing_stop"), self.trail.notes, HELP["trailing_stop"])
        ctx.register(("risk",), self)

    def _row(self, label: str, widget: QtWidgets.QWidget, path: Path, notes: list[QtWidgets.QLabel],
             tip: str = "") -> None:
        box = QtWidgets.QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        for note in notes:
            box.addWidget(note)
        message = message_label()
        box.addWidget(message)
        title = QtWidgets.QLabel(label)
        title.setToolTip(tip or widget.toolTip())
        if tip:
            widget.setToolTip(tip)
        self.form.addRow(title, box)
        self.ctx.note(path, message)


class TakeProfitEditor(QtWidgets.QWidget):
    """Off, one target (closes everything) or several levels, each closing a share; the shares must add to 100."""

    MODES = (("off", "Off"), ("one", "One target"), ("levels", "Several levels (close in parts)"))

    def __init__(self, value: Any, ctx: Ctx) -> None:
        super().__init__()
        self.ctx, self.path = ctx, ("risk", "take_profit")
        mode = "off" if value is None else "levels" if isinstance(value, list) else "one"
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.mode = QtWidgets.QComboBox()
        for key, text in self.MODES:
            self.mode.addItem(text, key)
        self.mode.setCurrentIndex(self.mode.findData(mode))
        self.mode.setAccessibleName("Take profit mode")
        self.mode.activated.connect(lambda _: self._switch(mode))
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.mode)
        self.notes: list[QtWidgets.QLabel] = []
        self.levels: list[DistanceEditor] = []
        self.shares: list[QtWidgets.QDoubleSpinBox] = []
        self.total: QtWidgets.QLabel | None = None
        if mode == "one":
            single = DistanceEditor(value, self.path, ctx, "Take profit", allow_off=False)
            self.levels.append(single)
            self.notes += single.notes
            head.addWidget(single, 1)
        head.addStretch(0 if mode == "one" else 1)
        lay.addLayout(head)
        if mode == "levels":
            self._level_rows(value, lay)
        ctx.register(self.path, self.mode)

    def _level_rows(self, levels: list[Any], lay: QtWidgets.QVBoxLayout) -> None:
        for i, level in enumerate(levels):
            path = self.path + (i,)
            row = QtWidgets.QHBoxLayout()
            row.addWidget(QtWidgets.QLabel(f"{i + 1}."))
            editor = DistanceEditor(level, path, self.ctx, f"Take profit level {i + 1}", allow_off=False)
            row.addWidget(editor)
            share = _box(0.0, 100.0, suffix=" %", value=level.get("close_pct") if isinstance(level, dict) else None)
            share.setToolTip("The share of the position's largest size this level closes")
            share.valueChanged.connect(lambda v, p=path: self.ctx.edit(p + ("close_pct",), _num(v), False))
            row.addWidget(QtWidgets.QLabel("close"))
            row.addWidget(share)
            remove = small_button("✕", "Remove this level", lambda i=i: self._remove(self.ctx.current(self.path), i))
            remove.setEnabled(len(levels) > 1)
            row.addWidget(remove)
            lay.addLayout(row)
            self.levels.append(editor)
            self.shares.append(share)
            self.notes += [*editor.notes, explain_limits(share, f"Level {i + 1} close %")]
            self.ctx.register(path + ("close_pct",), share)
            self.ctx.register(path, editor.kind)
        foot = QtWidgets.QHBoxLayout()
        self.add = small_button("+ Level", "Add a take-profit level", lambda: self._add(self.ctx.current(self.path)))
        self.add.setEnabled(len(levels) < 10)
        foot.addWidget(self.add)
        total = sum(float(lv.get("close_pct", 0)) for lv in levels if isinstance(lv, dict)
                    and isinstance(lv.get("close_pct", 0), int | float))
        self.total = QtWidgets.QLabel(f"the levels close {total:g} % in all")
        self.total.setObjectName("hint")
        foot.addWidget(self.total)
        foot.addStretch(1)
        lay.addLayout(foot)

    def _switch(self, mode: str) -> None:
        new = str(self.mode.currentData())
        if new == mode:
            return
        value = self.ctx.current(self.path)
        first = (value[0] if isinstance(value, list) and value else value) if value is not None else None
        distance = {k: v for k, v in first.items() if k != "close_pct"} if isinstance(first, dict) else {"pct": 4}
        if new == "off":
            out: Any = None
        elif new == "one":
            out = distance
        else:
            out = [{**distance, "close_pct": 50}, {**_further(distance), "close_pct": 50}]
        self.ctx.edit(self.path, out, True)

    def _add(self, levels: list[Any]) -> None:
        last = levels[-1] if levels and isinstance(levels[-1], dict) else {"pct": 2}
        extra = {**_further({k: v for k, v in last.items() if k != "close_pct"}), "close_pct": 0}
        self.ctx.edit(self.path, [*copy.deepcopy(levels), extra], True)

    def _remove(self, levels: list[Any], i: int) -> None:
        self.ctx.edit(self.path, [copy.deepcopy(x) for k, x in enumerate(levels) if k != i], True)


def _further(distance: dict[str, Any]) -> dict[str, Any]:
    """A level twice as far as `distance` (the usual second target)."""
    if isinstance(distance.get("pct"), int | float):
        return {"pct": _num(distance["pct"] * 2)}
    atr = distance.get("atr")
    if isinstance(atr, dict) and isinstance(atr.get("mult"), int | float):
        return {"atr": {**atr, "mult": _num(atr["mult"] * 2)}}
    return {"pct": 4}


class TrailingEditor(QtWidgets.QWidget):
    """Off / % / × ATR, and where it trails from: the best price since entry or each close."""

    def __init__(self, value: Any, ctx: Ctx) -> None:
        super().__init__()
        path = ("risk", "trailing_stop")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.distance = DistanceEditor(value, path, ctx, "Trailing stop")
        self.notes = self.distance.notes
        lay.addWidget(self.distance)
        self.anchor: QtWidgets.QComboBox | None = None
        if isinstance(value, dict):
            self.anchor = QtWidgets.QComboBox()
            for key, text in ANCHORS:
                self.anchor.addItem(text, key)
            self.anchor.setCurrentIndex(max(0, self.anchor.findData(value.get("anchor", "extreme"))))
            self.anchor.setToolTip(ANCHOR_HELP)
            self.anchor.setAccessibleName("Trailing anchor")
            self.anchor.activated.connect(lambda _: ctx.edit(path + ("anchor",), self.anchor.currentData()
                                                             if self.anchor else "extreme", False))
            lay.addWidget(self.anchor)
            ctx.register(path + ("anchor",), self.anchor)
        lay.addStretch(1)
