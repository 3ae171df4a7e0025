"""Swept parameters named in the Builder's words: "Long entry › condition 1 › SMA period", "Position size %"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.indicators import CATALOG
from domain.sweep import short_label
from domain.sweep.paths import PathError, parse_path
from presentation.builder.draft import RISK_FIELDS, SIDE_LABELS
from presentation.builder.operand import short_label as indicator_label

SEP = " › "
_RISK = {name: label for name, label, _ in RISK_FIELDS}


def parameter_label(definition: Mapping[str, Any], path: str) -> str:
    """The Builder's name for the numeric place at `path` (the code path when it cannot be read)."""
    try:
        tokens = parse_path(path)
    except PathError:
        return path
    if len(tokens) == 2 and tokens[0] == "risk":
        return _RISK.get(str(tokens[1]), str(tokens[1]))
    if not tokens or tokens[0] not in SIDE_LABELS:
        return short_label(definition, path)
    parts = [SIDE_LABELS[str(tokens[0])]]
    parts += [f"condition {t + 1}" for t in tokens if isinstance(t, int)]
    return SEP.join(parts + [_place(definition, tokens)])


def _place(definition: Mapping[str, Any], tokens: tuple[str | int, ...]) -> str:
    """The last part: "SMA period", "number"; the side ("left"/"right") added when both use that indicator."""
    if tokens[-1] == "const":
        return "number"
    if len(tokens) < 3 or tokens[-2] != "params":
        return str(tokens[-1])
    condition = _walk(definition, tokens[:-3])
    side = tokens[-3]
    operand = condition.get(side) if isinstance(condition, Mapping) else None
    var = operand.get("var") if isinstance(operand, Mapping) else None
    indicator = CATALOG.get(var) if isinstance(var, str) else None
    if indicator is None:
        return str(tokens[-1])
    param = next((p for p in indicator.params if p.name == tokens[-1]), None)
    words = (param.label if param is not None else str(tokens[-1])).lower()
    text = f"{indicator_label(indicator)} {words}"
    other = condition.get("right" if side == "left" else "left") if isinstance(condition, Mapping) else None
    if isinstance(other, Mapping) and other.get("var") == var:
        text += f" ({side})"
    return text


def _walk(doc: Any, tokens: tuple[str | int, ...]) -> Any:
    for t in tokens:
        try:
            doc = doc[t]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def header(label: str) -> str:
    """A table header on two lines (where the condition is, then the parameter) so columns stay narrow."""
    where, sep, what = label.rpartition(SEP)
    return f"{where}\n{what}" if sep else label
