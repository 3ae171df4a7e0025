"""JSON paths into a strategy definition (`entry_long.all[0].left.params.period`) and its numeric slots."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.indicators import CATALOG
from domain.strategy import SIDES
from domain.strategy.risk_parse import MAX_ATR_PERIOD, PCT_HIGH
from domain.strategy.validation import RISK_LIMITS

Token = str | int
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_FULL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*")


class PathError(ValueError):
    """A parameter path is malformed, does not exist, or is not a numeric parameter; the message says which."""


@dataclass(frozen=True, slots=True)
class Slot:
    """A numeric place in a definition that a sweep may set: its path, kind, bounds and current value."""

    path: str
    kind: str  # "int" | "float"
    low: float | None
    high: float | None
    value: float | None
    label: str
    open_low: bool = False  # the bound itself is excluded (risk percentages must be > 0)

    def problem(self, value: float) -> str | None:
        """Why `value` can never be valid here (wrong kind or out of bounds), or None."""
        if self.kind == "int" and float(value) != int(value):
            return "must be an integer"
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return f"must be {'>' if self.open_low else '≥'} {_fmt(self.low)}"
        if self.high is not None and value > self.high:
            return f"must be ≤ {_fmt(self.high)}"
        return None


def parse_path(path: str) -> tuple[Token, ...]:
    """`a.b[2].c` → ("a", "b", 2, "c"); raises PathError naming the bad spot."""
    text = path.strip()
    if not text:
        raise PathError("empty parameter path")
    m = _FULL.match(text)
    if m is None or m.end() != len(text):
        at = m.end() + 1 if m else 1
        raise PathError(f"{text}: malformed path at character {at}; write keys with dots and list items "
                        "as [i], e.g. entry_long.all[0].left.params.period")
    return tuple(a if a else int(b) for a, b in _TOKEN.findall(text))


def format_path(tokens: tuple[Token, ...]) -> str:
    out = ""
    for t in tokens:
        out += f"[{t}]" if isinstance(t, int) else (f".{t}" if out else t)
    return out


def resolve_slot(definition: Mapping[str, Any], path: str) -> Slot:
    """The numeric slot at `path`: an indicator parameter, a risk percentage or a constant operand."""
    tokens = parse_path(path)
    name = format_path(tokens)
    if len(tokens) == 2 and tokens[0] == "risk" and tokens[1] in RISK_LIMITS:
        low, high, _, _ = RISK_LIMITS[str(tokens[1])]
        risk = definition.get("risk") or {}
        value = risk.get(tokens[1]) if isinstance(risk, Mapping) else None
        return Slot(name, "float", low, high, _num(value), name, open_low=True)
    v2 = _risk_v2_slot(definition, tokens, name)
    if v2 is not None:
        return v2
    parent = _walk(definition, tokens[:-1], name)
    last = tokens[-1]
    if last == "const" and isinstance(parent, Mapping) and "const" in parent:
        return Slot(name, "float", None, None, _num(parent["const"]), name)
    if len(tokens) >= 3 and tokens[-2] == "params" and isinstance(last, str):
        operand = _walk(definition, tokens[:-2], name)
        var = operand.get("var") if isinstance(operand, Mapping) else None
        indicator = CATALOG.get(var) if isinstance(var, str) else None
        if indicator is not None:
            for p in indicator.params:
                if p.name == last:
                    params = operand.get("params") or {}
                    value = params.get(last, p.default) if isinstance(params, Mapping) else p.default
                    return Slot(name, p.kind, float(p.min), float(p.max), _num(value), f"{var}.{last}")
            known = ", ".join(p.name for p in indicator.params) or "none"
            raise PathError(f"{name}: {var} has no parameter {last!r}; its parameters: {known}")
    if isinstance(parent, Mapping) and last not in parent:
        keys = ", ".join(str(k) for k in parent) or "nothing"
        raise PathError(f"{name}: no such key {last!r}; {format_path(tokens[:-1]) or 'the strategy'} has: {keys}")
    value = _walk(definition, tokens, name)
    raise PathError(f"{name}: not a numeric parameter (it holds {_describe(value)}); sweepable are indicator "
                    "params, risk percentages, ATR periods and multiples, scale-in numbers and const values")


# schema 2's numeric risk and scale-in fields, by their last path tokens: (kind, low, high, low excluded)
_DISTANCE_FIELDS = {("pct",): ("float", 0.0, None, True), ("atr", "period"): ("int", 1.0, float(MAX_ATR_PERIOD), False),
                    ("atr", "mult"): ("float", 0.0, 100.0, True)}
_SCALE_FIELDS = {"size_pct": ("float", 0.0, 1000.0, True), "max_adds": ("int", 1.0, 100.0, False),
                 "min_bars_between": ("int", 0.0, 1_000_000.0, False)}


def _risk_v2_slot(definition: Mapping[str, Any], tokens: tuple[Token, ...], name: str) -> Slot | None:
    """A schema-2 slot: `risk.stop_loss.atr.mult`, `risk.take_profit[1].pct`, `scale_in.size_pct`, ... (None when
    `tokens` is none of these; a PathError when the strategy has no such field)."""
    high: float | None
    if len(tokens) == 2 and tokens[0] == "scale_in" and tokens[1] in _SCALE_FIELDS:
        kind, low, high, open_low = _SCALE_FIELDS[str(tokens[1])]
    elif len(tokens) >= 3 and tokens[0] == "risk" and tokens[1] in PCT_HIGH:
        at = 3 if tokens[1] == "take_profit" and isinstance(tokens[2], int) else 2
        tail = tuple(str(t) for t in tokens[at:])
        if tail == ("close_pct",):
            raise PathError(f"{name}: the levels' close_pct must add up to 100, so one share cannot be swept "
                            "alone; sweep the levels' distances instead")
        if tail not in _DISTANCE_FIELDS:
            return None
        kind, low, high, open_low = _DISTANCE_FIELDS[tail]
        high = PCT_HIGH[str(tokens[1])] if high is None else high
    else:
        return None
    value = _walk(definition, tokens, name)
    return Slot(name, kind, low, high, _num(value), name, open_low=open_low)


def _walk(doc: Any, tokens: tuple[Token, ...], full: str) -> Any:
    node = doc
    for i, tok in enumerate(tokens):
        where = format_path(tokens[:i]) or "the strategy"
        if isinstance(tok, int):
            if not isinstance(node, list):
                raise PathError(f"{full}: {where} is not a list")
            if tok >= len(node):
                raise PathError(f"{full}: {where} has only {len(node)} item(s)")
            node = node[tok]
        else:
            if not isinstance(node, Mapping):
                raise PathError(f"{full}: {where} is {_describe(node)}, not an object")
            if tok not in node:
                keys = ", ".join(str(k) for k in node) or "nothing"
                raise PathError(f"{full}: no such key {tok!r}; {where} has: {keys}")
            node = node[tok]
    return node


def set_values(definition: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """A deep copy of `definition` with each path set to its value (missing params/risk keys are created)."""
    doc: dict[str, Any] = copy.deepcopy(dict(definition))
    for path, value in values.items():
        tokens = parse_path(path)
        node: Any = doc
        for tok in tokens[:-1]:
            if isinstance(node, dict) and tok not in node or isinstance(node, dict) and node[tok] is None:
                node[tok] = {}
            node = node[tok]
        node[tokens[-1]] = int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    return doc


def numeric_slots(definition: Mapping[str, Any]) -> list[Slot]:
    """Every sweepable slot of a (valid) definition: indicator params of enabled sides, consts, risk fields."""
    out: list[Slot] = []
    for side in SIDES:
        group = definition.get(side)
        if isinstance(group, Mapping):
            _group_slots(definition, group, side, out)
    risk = definition.get("risk")
    if definition.get("schema") == 2 and isinstance(risk, Mapping):
        out.append(resolve_slot(definition, "risk.position_size_pct"))
        _risk_slots(definition, risk, out)
    else:
        for key in RISK_LIMITS:
            out.append(resolve_slot(definition, f"risk.{key}"))
    return out


def _risk_slots(definition: Mapping[str, Any], risk: Mapping[str, Any], out: list[Slot]) -> None:
    """The schema-2 risk block's distances and the scale-in numbers present in `definition`."""
    places: list[tuple[str, Any]] = [(f"risk.{k}", risk.get(k)) for k in ("stop_loss", "trailing_stop")]
    tp = risk.get("take_profit")
    places += [(f"risk.take_profit[{i}]", lv) for i, lv in enumerate(tp)] if isinstance(tp, list) else \
        [("risk.take_profit", tp)]
    for path, doc in places:
        if isinstance(doc, Mapping) and "pct" in doc:
            out.append(resolve_slot(definition, f"{path}.pct"))
        elif isinstance(doc, Mapping) and isinstance(doc.get("atr"), Mapping):
            out += [resolve_slot(definition, f"{path}.atr.{k}") for k in ("period", "mult")]
    if isinstance(definition.get("scale_in"), Mapping):
        out += [resolve_slot(definition, f"scale_in.{k}") for k in _SCALE_FIELDS if k in definition["scale_in"]]


def _group_slots(definition: Mapping[str, Any], group: Mapping[str, Any], path: str, out: list[Slot]) -> None:
    for kind in ("all", "any"):
        for i, item in enumerate(group.get(kind) or []):
            here = f"{path}.{kind}[{i}]"
            if not isinstance(item, Mapping):
                continue
            if "all" in item or "any" in item:
                _group_slots(definition, item, here, out)
                continue
            for side in ("left", "right"):
                operand = item.get(side)
                if not isinstance(operand, Mapping):
                    continue
                if "const" in operand:
                    out.append(resolve_slot(definition, f"{here}.{side}.const"))
                indicator = CATALOG.get(operand.get("var", ""))
                for p in indicator.params if indicator is not None else ():
                    out.append(resolve_slot(definition, f"{here}.{side}.params.{p.name}"))


def linked_slots(definition: Mapping[str, Any]) -> list[list[Slot]]:
    """Slots grouped when they are the same parameter of the same operand (e.g. `sma(10).period` used by both
    entry sides), so a sweep can move them together; groups in first-use order."""
    groups: dict[tuple[Any, ...], list[Slot]] = {}
    for slot in numeric_slots(definition):
        tokens = parse_path(slot.path)
        if "params" in tokens:
            operand = _walk(definition, tokens[:-2], slot.path)
            params = operand.get("params") or {}
            key: tuple[Any, ...] = (operand.get("var"), operand.get("field"),
                                    tuple(sorted((k, float(v)) for k, v in params.items())), tokens[-1])
        else:
            key = (slot.path,)
        groups.setdefault(key, []).append(slot)
    return list(groups.values())


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return repr(value)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def short_label(definition: Mapping[str, Any], path: str) -> str:
    """A readable name for a slot: `sma(10).period`, `stop_loss_pct`, `const 70`; the path if none fits."""
    try:
        tokens = parse_path(path)
        if tokens[0] == "risk":
            return str(tokens[-1]) if len(tokens) == 2 else format_path(tokens[1:])
        if tokens[0] == "scale_in":
            return format_path(tokens)
        if tokens[-1] == "const":
            return f"const {_fmt(float(_walk(definition, tokens, path)))}"
        if len(tokens) >= 3 and tokens[-2] == "params":
            operand = _walk(definition, tokens[:-2], path)
            indicator = CATALOG[operand["var"]]
            params = operand.get("params") or {}
            args = ",".join(_fmt(float(params.get(p.name, p.default))) for p in indicator.params)
            return f"{indicator.name}({args}).{tokens[-1]}"
    except (PathError, KeyError, TypeError, ValueError):
        pass
    return path
