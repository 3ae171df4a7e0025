"""Operand editing: an indicator picker grouped by category, its parameters, output and timeframe, and arithmetic."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.indicators import CATALOG, CATEGORIES
from domain.market import Timeframe
from domain.strategy.model import MAX_ARITH_DEPTH, POSITION_VARS
from presentation.builder.draft import Path, var_operand
from presentation.builder.numbers import explain_limits, fit_decimals
from presentation.builder.words import ARITH_SIGNS, indicator_short

NUMBER = "__const__"
_ROLE = QtCore.Qt.ItemDataRole
Edit = Callable[[Path, Any, bool], None]  # (path, value, structural)
Register = Callable[[Path, QtWidgets.QWidget], None]
Note = Callable[[Path, QtWidgets.QLabel], None]  # where messages for a path (and below) are shown
DAY_MS = 86_400_000
TIGHT = "QToolButton { padding: 2px 3px; }"  # small buttons inside rows: the theme's 8 px sides cost a row its fit
PICKER_WORDS = {"position_return_pct": "Return %", "bars_in_position": "Bars held"}  # under "Position"
POSITION_HELP = {"position_return_pct": "The open position's unrealised return in %, from its average entry "
                                        "(long: up is positive; short: down is positive). Nothing while flat.",
                 "bars_in_position": "How many bars the open position has been held."}


@dataclass(frozen=True)
class Ctx:
    """What every editor of one draft shares: how to edit it, where its fields and messages are, and the chart's
    bar length (operand timeframes offered are its whole multiples)."""

    edit: Edit
    register: Register
    note: Note
    base: Timeframe | None = None
    position_ok: bool = False  # exit rules and the scale-in rule may read the open position
    doc: dict[str, Any] = field(default_factory=dict)

    def current(self, path: Path) -> Any:
        """The draft's value at `path` now (a widget's own copy goes stale after edits that keep the editor)."""
        node: Any = self.doc
        for part in path:
            node = node[part]
        return copy.deepcopy(node)


def higher_timeframes(base: Timeframe | None) -> list[Timeframe]:
    """The timeframes an operand may use on `base` bars: whole multiples longer than it (all when unknown)."""
    if base is None:
        return list(Timeframe)
    return [tf for tf in Timeframe if tf.ms > base.ms and tf.ms % base.ms == 0
            and not (tf is Timeframe.W1 and base.ms > DAY_MS)]


class IndicatorPicker(QtWidgets.QComboBox):
    """Catalog entries under a bold, unselectable heading per category; "Number" first (a constant); the
    position's values last where the rule may read them."""

    def __init__(self, position: bool = False, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        model = QtGui.QStandardItemModel(self)
        number = QtGui.QStandardItem("Number")
        number.setData(NUMBER, _ROLE.UserRole)
        number.setToolTip("A fixed value, e.g. 30 for 'RSI < 30' or 0 for 'MACD histogram > 0'.")
        model.appendRow(number)
        by_cat: dict[str, list[Any]] = {}
        for ind in CATALOG.values():
            by_cat.setdefault(ind.category, []).append(ind)
        groups = [(cat.capitalize(), [(ind.name, short_label(ind), f"<b>{ind.label}</b><br>{ind.help}")
                                      for ind in by_cat.get(cat, [])]) for cat in CATEGORIES]
        if position:
            groups.append(("Position", [(v, PICKER_WORDS[v], POSITION_HELP[v]) for v in POSITION_VARS]))
        for heading_text, entries in groups:
            heading = QtGui.QStandardItem(heading_text)
            heading.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            model.appendRow(heading)
            for name, text, tip in entries:
                item = QtGui.QStandardItem(f"   {text}")
                item.setData(name, _ROLE.UserRole)
                item.setToolTip(tip)
                model.appendRow(item)
        self.setModel(model)
        self.setMaxVisibleItems(30)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)
        self.view().setMinimumWidth(180)

    def choose(self, name: str) -> bool:
        """Select the catalog entry `name` (or NUMBER) as a user would; False if absent."""
        i = self.findData(name)
        if i >= 0:
            self.setCurrentIndex(i)
        return i >= 0

    def chosen(self) -> str:
        return str(self.currentData())


def short_label(ind: Any) -> str:
    """What the picker shows: the label when short, the usual abbreviation otherwise (SMA, RSI, ATR…)."""
    return indicator_short(ind.name)


def param_box(p: Any) -> QtWidgets.QAbstractSpinBox:
    box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
    if p.kind == "int":
        box = QtWidgets.QSpinBox()
        box.setRange(int(p.min), int(min(p.max, 2**31 - 1)))
    else:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(2)
        box.setSingleStep(0.1)
        box.setRange(float(p.min), float(p.max))
    box.setKeyboardTracking(True)
    box.setFixedWidth(66)
    box.setToolTip(f"<b>{p.label}</b><br>{p.help}")
    box.setAccessibleName(p.name)
    return box


def arith_height(value: Any) -> int:
    """How many levels of arithmetic an operand holds (0 for a plain one)."""
    kind = next((k for k in ARITH_SIGNS if isinstance(value, dict) and k in value), None)
    if kind is None or not isinstance(value[kind], list):
        return 0
    return 1 + max((arith_height(a) for a in value[kind]), default=0)


ATR14 = {"var": "atr", "params": {"period": 14}}
# (menu text, operation, second term): what "± × ÷" adds after an operand
WRAPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("× a number  (e.g. SMA × 1.02)", "mul", {"const": 1.02}),
    ("÷ a number", "div", {"const": 2}),
    ("+ a number", "add", {"const": 0}),
    ("− a number", "sub", {"const": 0}),
    ("+ k × ATR  (e.g. + 2 × ATR(14))", "add", {"mul": [{"const": 2}, ATR14]}),
    ("− k × ATR  (e.g. − 2 × ATR(14))", "sub", {"mul": [{"const": 2}, ATR14]}),
    ("÷ close  (a share of the price)", "div", {"var": "close"}),
    ("+ an indicator", "add", ATR14),
    ("− an indicator", "sub", ATR14),
    ("× an indicator", "mul", {"var": "close"}),
)


class WrapButton(QtWidgets.QToolButton):
    """"±×÷": a menu that turns the operand into `operand op term` (entries disabled where nesting would go too
    deep). The menu opens on click rather than as the button's own menu, which reserves room for an arrow."""

    def __init__(self, value: dict[str, Any], path: Path, ctx: Ctx, depth: int) -> None:
        super().__init__()
        self.setText("±×÷")
        self.setAutoRaise(True)
        self.setStyleSheet(TIGHT)
        self.setToolTip("Do arithmetic on this value: × 1.02, − 2 × ATR(14), ÷ close, …")
        self.menu_ = QtWidgets.QMenu(self)
        height = arith_height(value)
        for text, op, term in WRAPS:
            act = self.menu_.addAction(text)
            assert act is not None
            act.setEnabled(depth + max(height, arith_height(term)) <= MAX_ARITH_DEPTH)
            act.triggered.connect(lambda _=False, o=op, t=term: ctx.edit(path, {o: [ctx.current(path), t]}, True))
        self.clicked.connect(lambda: self.menu_.popup(self.mapToGlobal(QtCore.QPoint(0, self.height()))))
        self.setEnabled(depth + height <= MAX_ARITH_DEPTH)
        if not self.isEnabled():
            self.setToolTip(f"Arithmetic nests at most {MAX_ARITH_DEPTH} levels deep")
        ctx.register(path + ("wrap",), self)

    def action(self, text: str) -> QtGui.QAction:
        """The menu entry whose text starts with `text` (what a user reads before clicking it)."""
        return next(a for a in self.menu_.actions() if a.text().startswith(text))


def wrap_button(value: dict[str, Any], path: Path, ctx: Ctx, depth: int) -> WrapButton:
    return WrapButton(value, path, ctx, depth)


def operand_editor(value: Any, path: Path, ctx: Ctx, depth: int = 1) -> QtWidgets.QWidget:
    """The editor for one operand: arithmetic as its two terms, anything else as a picker row."""
    if isinstance(value, dict) and any(k in value for k in ARITH_SIGNS):
        from presentation.builder.arith import ArithEditor  # the two import each other's editors
        return ArithEditor(value, path, ctx, depth)
    return OperandEditor(value if isinstance(value, dict) else {}, path, ctx, depth)


class OperandEditor(QtWidgets.QWidget):
    """One plain operand at `path` in the draft; every change goes through `ctx.edit` (undoable)."""

    def __init__(self, value: dict[str, Any], path: Path, ctx: Ctx, depth: int = 1,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.ctx, self.edit = path, ctx, ctx.edit
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        position = ctx.position_ok and depth == 1 and path[-1] in ("left", "right")
        self.picker = IndicatorPicker(position or value.get("var") in POSITION_VARS)
        is_const = "const" in value
        self.picker.choose(NUMBER if is_const else str(value.get("var")))
        self.picker.setToolTip(self.picker.itemData(self.picker.currentIndex(), _ROLE.ToolTipRole) or "")
        self.picker.activated.connect(self._on_pick)
        lay.addWidget(self.picker)
        ctx.register(path + ("var",), self.picker)
        self.params: dict[str, QtWidgets.QAbstractSpinBox] = {}
        self.field: QtWidgets.QComboBox | None = None
        self.const: QtWidgets.QDoubleSpinBox | None = None
        self.timeframe: QtWidgets.QComboBox | None = None
        self.wrap: WrapButton | None = None
        self.notes: list[QtWidgets.QLabel] = []  # why a typed number is not taken; the row shows them
        if is_const:
            self._const_box(value, lay)
        elif value.get("var") in CATALOG:
            self._var_boxes(value, lay)
            self._timeframe_box(value, lay)
        if value.get("var") not in POSITION_VARS:
            self.wrap = wrap_button(value, path, ctx, depth)
            lay.addWidget(self.wrap)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Maximum, QtWidgets.QSizePolicy.Policy.Preferred)
        ctx.register(path, self)

    def _const_box(self, value: dict[str, Any], lay: QtWidgets.QHBoxLayout) -> None:
        box = QtWidgets.QDoubleSpinBox()
        box.setRange(-1e12, 1e12)
        fit_decimals(box, float(value.get("const") or 0), least=4)  # 1.025 can be typed
        box.setValue(float(value.get("const") or 0))
        box.setMaximumWidth(120)  # a billion-wide range would make the box as wide as the row
        box.setToolTip("The number to compare with (in the other side's unit: a price, 0..100 for RSI, …)")
        box.valueChanged.connect(lambda v: self.edit(self.path + ("const",), _num(v), False))
        self.const = box
        self.notes.append(explain_limits(box, "The number"))
        lay.addWidget(box)
        self.ctx.register(self.path + ("const",), box)

    def _var_boxes(self, value: dict[str, Any], lay: QtWidgets.QHBoxLayout) -> None:
        ind = CATALOG[value["var"]]
        given = value.get("params") or {}
        for p in ind.params:
            box = param_box(p)
            if isinstance(box, QtWidgets.QDoubleSpinBox):
                fit_decimals(box, float(given.get(p.name, p.default)))
            box.setValue(given.get(p.name, p.default))  # type: ignore[attr-defined]
            box.valueChanged.connect(  # type: ignore[attr-defined]
                lambda v, n=p.name: self.edit(self.path + ("params", n), _num(v), False))
            if len(ind.params) > 1:  # one parameter needs no name: the box's tooltip and the words below say it
                label = QtWidgets.QLabel(p.name.replace("_", " "))
                label.setObjectName("hint")
                label.setToolTip(p.help)
                lay.addWidget(label)
            lay.addWidget(box)
            self.params[p.name] = box
            self.notes.append(explain_limits(box, f"{short_label(ind)} {p.name.replace('_', ' ')}"))
            self.ctx.register(self.path + ("params", p.name), box)
        if len(ind.outputs) > 1:
            combo = QtWidgets.QComboBox()
            for out in ind.outputs:
                combo.addItem(out, out)
                combo.setItemData(combo.count() - 1, f"{ind.label}: the {out} output "
                                  f"({ind.unit_of(out).replace('_', ' ')})", _ROLE.ToolTipRole)
            combo.setCurrentIndex(max(0, combo.findData(value.get("field") or ind.outputs[0])))
            combo.setToolTip("Which output of the indicator to compare")
            combo.activated.connect(lambda _: self.edit(self.path + ("field",), combo.currentData(), False))
            self.field = combo
            lay.addWidget(combo)
            self.ctx.register(self.path + ("field",), combo)

    def _timeframe_box(self, value: dict[str, Any], lay: QtWidgets.QHBoxLayout) -> None:
        """"on [1h]": the bars the operand is computed on; the chart's own by default, else a whole multiple."""
        base, current = self.ctx.base, value.get("timeframe")
        combo = QtWidgets.QComboBox()
        combo.addItem(base.code if base is not None else "chart", None)
        combo.setItemData(0, "The chart's own bars (the ones the strategy runs on)", _ROLE.ToolTipRole)
        codes = [tf.code for tf in higher_timeframes(base)]
        if isinstance(current, str) and current not in codes:
            codes.append(current)  # kept as loaded; validation says when it is not a whole multiple
        for code in codes:
            combo.addItem(code if base is None or code != base.code else f"{code} (set)", code)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
        combo.setToolTip("Compute this value on longer bars built from the chart's: only bars that have closed "
                         "count, never the one still forming (no look-ahead).")
        combo.activated.connect(lambda _: self._set_timeframe(combo.currentData()))
        combo.setAccessibleName("timeframe")
        combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        on = QtWidgets.QLabel("on")
        on.setObjectName("hint")
        lay.addWidget(on)
        lay.addWidget(combo)
        self.timeframe = combo
        self.ctx.register(self.path + ("timeframe",), combo)

    def _set_timeframe(self, code: str | None) -> None:
        value = dict(self._current())
        if code is None:
            value.pop("timeframe", None)
        else:
            value["timeframe"] = code
        self.edit(self.path, value, False)

    def _current(self) -> dict[str, Any]:
        return dict(self.ctx.current(self.path))

    def _on_pick(self) -> None:
        name = self.picker.chosen()
        value: dict[str, Any] = {"const": 0} if name == NUMBER else (
            {"var": name} if name in POSITION_VARS else var_operand(name))
        self.edit(self.path, value, True)


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)
