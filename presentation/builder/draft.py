"""The builder's draft: the strategy's JSON-shaped dict, addressed by paths, and the pieces new rows start from."""

from __future__ import annotations

import copy
import re
from typing import Any

from domain.indicators import CATALOG

Path = tuple[str | int, ...]

OPERATOR_LABELS = {"gt": ">", "lt": "<", "ge": "≥", "le": "≤", "crosses_above": "crosses above",
                   "crosses_below": "crosses below"}
OPERATOR_HELP = {
    "gt": "True on every bar whose close-time value of the left side is above the right side.",
    "lt": "True on every bar whose left value is below the right value.",
    "ge": "True on every bar whose left value is at or above the right value.",
    "le": "True on every bar whose left value is at or below the right value.",
    "crosses_above": "True only on the bar where the left side moves above the right side: it was at or "
                     "below it on the bar before. Typical for entries (fast average crossing a slow one).",
    "crosses_below": "True only on the bar where the left side moves below the right side: it was at or "
                     "above it on the bar before.",
}
SIDE_LABELS = {"entry_long": "Long entry", "exit_long": "Long exit", "entry_short": "Short entry",
               "exit_short": "Short exit"}
SIDE_HELP = {
    "entry_long": "Buy when these conditions hold on a bar's close (filled at the next bar's open).",
    "exit_long": "Close a long position when these hold. Optional: stops, targets or an opposite entry also exit.",
    "entry_short": "Sell short when these conditions hold on a bar's close.",
    "exit_short": "Cover a short position when these hold. Optional.",
}
DIRECTION_LABELS = {"long_only": "Long only", "short_only": "Short only", "long_short": "Long and short"}
RISK_FIELDS = (("position_size_pct", "Position size %", "Share of current equity put into each position "
                "(100 = all of it)."),
               ("stop_loss_pct", "Stop-loss %", "Exit when price moves this far against the entry; typical "
                "1–5 % on minutes, 5–15 % on days. Off = no stop."),
               ("take_profit_pct", "Take-profit %", "Exit when price moves this far in favour; often 1.5–3× "
                "the stop. Off = no target."),
               ("trailing_stop_pct", "Trailing stop %", "Exit when price falls this far from the best price "
                "since entry. Off = no trailing stop."))


def path_text(path: Path) -> str:
    """The validator's spelling: entry_long.all[0].left.params.period."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_PART_WORDS = {"left": "left", "right": "right", "op": "comparison", "var": "indicator", "const": "number",
               "field": "output", "name": "Name", "direction": "Direction", "tags": "Tags", "risk": "Risk"}


def path_words(path: Path | str) -> str:
    """The Builder's words for a place in the draft: exit_long.all[0].left.params.period reads
    "Long exit › condition 1 › left › period"; a nested group reads "group N"."""
    parts: list[str | int] = list(path) if not isinstance(path, str) else [
        int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[A-Za-z_]+", path)]
    words: list[str] = []
    for i, part in enumerate(parts):
        after = parts[i + 1] if i + 1 < len(parts) else None
        if isinstance(part, int):
            words.append(f"{'group' if after in ('all', 'any') else 'condition'} {part + 1}")
        elif part in SIDE_LABELS:
            words.append(SIDE_LABELS[part])
        elif parts[i - 1:i] == ["risk"]:
            words.append(next((label for key, label, _ in RISK_FIELDS if key == part), part.replace("_", " ")))
        elif part not in ("all", "any", "params"):
            words.append(_PART_WORDS.get(part, part.replace("_", " ")))
    return " › ".join(words)


def get_at(doc: Any, path: Path) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def set_at(doc: Any, path: Path, value: Any) -> None:
    get_at(doc, path[:-1])[path[-1]] = copy.deepcopy(value)


def var_operand(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """An operand for catalog entry `name` with its default parameters (and its default field named)."""
    ind = CATALOG[name]
    out: dict[str, Any] = {"var": name}
    if ind.params:
        out["params"] = {p.name: p.default for p in ind.params} | (params or {})
    if len(ind.outputs) > 1:
        out["field"] = ind.outputs[0]
    return out


def default_op(side: str | int) -> str:
    """What a new row on `side` starts with: a long entry or a short exit crosses above, a long exit or a short
    entry crosses below (the opposite of the move that opened the position)."""
    return "crosses_below" if side in ("exit_long", "entry_short") else "crosses_above"


def new_condition(op: str = "crosses_above") -> dict[str, Any]:
    return {"left": var_operand("close"), "op": op, "right": var_operand("sma", {"period": 20})}


def new_group(kind: str = "all", op: str = "crosses_above") -> dict[str, Any]:
    return {kind: [new_condition(op)]}


def group_kind(group: dict[str, Any]) -> str:
    return "any" if "any" in group else "all"


def new_strategy(name: str = "New strategy") -> dict[str, Any]:
    return {"schema": 1, "name": name, "direction": "long_only", "entry_long": new_group(),
            "entry_short": None, "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """A loaded definition with every key the editor shows present (missing sides as null, full risk)."""
    out = copy.deepcopy(doc)
    for side in SIDE_LABELS:
        out.setdefault(side, None)
    risk = dict(out["risk"]) if isinstance(out.get("risk"), dict) else {}
    for key, _, _ in RISK_FIELDS:  # the editor's percent fields; a schema-2 {"pct": x} shows in them
        v2 = key.removesuffix("_pct")
        if key != "position_size_pct" and _pct_only(risk.get(v2)):
            risk[key] = risk.pop(v2)["pct"]
        risk.setdefault(key, 100 if key == "position_size_pct" else None)
    out["risk"] = risk  # every other risk setting (ATR stops, take-profit levels, anchors) is kept as it was
    out.setdefault("schema", 1)
    return out


def _pct_only(value: object) -> bool:
    """A schema-2 distance the percent field can show: exactly {"pct": number}."""
    return isinstance(value, dict) and set(value) == {"pct"} and isinstance(value["pct"], int | float)


def side_enabled(direction: str, side: str) -> bool:
    return direction == "long_short" or direction.startswith(side.rsplit("_", 1)[1])


def for_validation(doc: dict[str, Any]) -> dict[str, Any]:
    """The draft as the domain sees it: tags/notes are stored beside the rule, not inside it."""
    return {k: v for k, v in doc.items() if k not in ("tags", "notes")}
