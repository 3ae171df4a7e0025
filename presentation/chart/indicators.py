"""Indicators on the chart: the catalog as a menu, a parameter dialog, and drawing outputs as lines or panes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6 import QtWidgets

from presentation.chart.widget import ChartWidget


def catalog() -> dict[str, Any]:
    """name → Indicator from the domain catalog; empty if this build has no indicators yet."""
    try:
        from domain.indicators import CATALOG
    except ImportError:
        return {}
    if isinstance(CATALOG, Mapping):
        return dict(CATALOG)
    return {ind.name: ind for ind in CATALOG}


@dataclass(frozen=True)
class Applied:
    """One indicator on the chart with its parameters."""

    name: str
    params: tuple[tuple[str, float], ...]

    @property
    def label(self) -> str:
        values = ",".join(f"{v:g}" for _, v in self.params)
        return f"{self.name.upper()}({values})" if values else self.name.upper()


def draw(chart: ChartWidget, applied: Applied, indicator: Any, slot: int = 0) -> None:
    """Compute over the chart's bars and show each output: overlays on price (all outputs in the colour of
    palette `slot`, as bands read best), others in their own pane (one colour per output)."""
    series = chart.series()
    out = indicator.compute(series, dict(applied.params))
    pane = "price" if indicator.overlay else applied.label
    if indicator.overlay:  # e.g. Bollinger %b and width are ratios: they do not belong on the price scale
        out = {f: v for f, v in out.items() if indicator.unit_of(f) == "price"}
    elif indicator.unit == "bounded_0_100":
        chart.add_pane(pane).add_levels((30.0, 70.0))
    palette = chart.theme.lines
    for i, (field_name, values) in enumerate(out.items()):
        key = applied.label if len(out) == 1 else f"{applied.label} {field_name}"
        color = palette[(slot if indicator.overlay else i) % len(palette)]
        chart.set_line(pane, key, series.ts, np.asarray(values, dtype=np.float64), color)


def erase(chart: ChartWidget, applied: Applied) -> None:
    chart.remove_pane(applied.label)
    for key in [k for k in chart.price.lines if k == applied.label or k.startswith(applied.label + " ")]:
        chart.price.remove_line(key)


class ParamsDialog(QtWidgets.QDialog):
    """Spin boxes for an indicator's parameters, bounded and explained by the catalog's metadata."""

    def __init__(self, indicator: Any, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{indicator.label}")
        self.indicator = indicator
        form = QtWidgets.QFormLayout(self)
        about = QtWidgets.QLabel(indicator.help)
        about.setWordWrap(True)
        about.setObjectName("hint")
        form.addRow(about)
        self.boxes: dict[str, QtWidgets.QAbstractSpinBox] = {}
        for p in indicator.params:
            box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
            if p.kind == "int":
                box = QtWidgets.QSpinBox()
                box.setRange(int(p.min), int(min(p.max, 2**31 - 1)))
            else:
                box = QtWidgets.QDoubleSpinBox()
                box.setDecimals(4)
                box.setRange(float(p.min), float(p.max))
            box.setValue(p.default)
            box.setToolTip(p.help)
            self.boxes[p.name] = box
            form.addRow(p.label, box)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def applied(self) -> Applied:
        return Applied(self.indicator.name, tuple((n, float(b.value())) for n, b in self.boxes.items()))


def fill_menu(menu: QtWidgets.QMenu, on_pick: Callable[[Any], None]) -> None:
    """Catalog entries grouped by category, each with its help as tooltip."""
    menu.setToolTipsVisible(True)
    by_cat: dict[str, list[Any]] = {}
    for ind in catalog().values():
        by_cat.setdefault(ind.category, []).append(ind)
    for cat in sorted(by_cat):
        sub = menu.addMenu(cat.capitalize())
        sub.setToolTipsVisible(True)
        for ind in sorted(by_cat[cat], key=lambda i: i.label):
            act = sub.addAction(ind.label)
            act.setToolTip(ind.help)
            act.triggered.connect(lambda _=False, i=ind: on_pick(i))
