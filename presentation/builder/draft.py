"""The builder's draft: the strategy's JSON-shaped dict, addressed by paths, and the pieces new rows start from."""

from __future__ import annotations

import copy
from typing import Any

from domain.indicators import CATALOG
from domain.strategy import StrategyInvalid, migrate
from presentation.builder import words

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
CROSSOVER_LABELS = {"inclusive": "Inclusive: touching, then crossing counts",
                    "strict": "Strict: must come from the other side"}
CROSSOVER_HELP = (
    "How 'crosses above/below' treats a tie on the bar before.\n"
    "Inclusive (default, TradingView's ta.crossover): A crosses above B when A > B now and A ≤ B on the bar "
    "before — touching B and then moving above counts.\n"
    "Strict (backtesting.py's crossover()): A must have been strictly below B (A < B) on the bar before; a bar "
    "that only touched B does not start a cross. The two differ only on exact ties (flat bars, round numbers).")
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


def path_words(path: Path | str, doc: Any = None) -> str:
    """The Builder's words for a place in the draft (see `words.path_words`)."""
    return words.path_words(path, doc)


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


def new_scale_in() -> dict[str, Any]:
    """Scaling in as a new section starts: add half the first entry when the position is up 2 %, twice at most."""
    return {"when": {"any": [scale_condition()]}, "size_pct": 50, "max_adds": 2, "min_bars_between": 1}


def scale_condition() -> dict[str, Any]:
    return {"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 2}}


def group_kind(group: dict[str, Any]) -> str:
    return "any" if "any" in group else "all"


def new_strategy(name: str = "New strategy") -> dict[str, Any]:
    return {"schema": 2, "name": name, "direction": "long_only", "crossover": "inclusive", "entry_long": new_group(),
            "entry_short": None, "exit_long": None, "exit_short": None, "risk": dict(NEW_RISK)}


NEW_RISK: dict[str, Any] = {"position_size_pct": 100, "stop_loss": None, "take_profit": None, "trailing_stop": None}


def normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """A loaded definition as the schema-2 dict the editor shows: a valid one exactly as the domain writes it
    (schema 1 migrated), an invalid one with every key the editor shows present and schema 1's risk percentages
    in their schema-2 places."""
    try:
        out = migrate(doc)
        if doc.get("tags") == []:
            out["tags"] = []
        return out
    except StrategyInvalid:
        pass
    out = copy.deepcopy(doc)
    for side in SIDE_LABELS:
        out.setdefault(side, None)
    risk = dict(out["risk"]) if isinstance(out.get("risk"), dict) else {}
    for old in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
        value = risk.pop(old, None)
        new = old.removesuffix("_pct")
        if value is not None and risk.get(new) is None:
            risk[new] = {"pct": value}
    out["risk"] = {**NEW_RISK, **risk}
    out["schema"] = 2
    out.setdefault("crossover", "inclusive")
    return out


def side_enabled(direction: str, side: str) -> bool:
    return direction == "long_short" or direction.startswith(side.rsplit("_", 1)[1])


def for_validation(doc: dict[str, Any]) -> dict[str, Any]:
    """The draft as the domain sees it: tags/notes are stored beside the rule, not inside it."""
    return {k: v for k, v in doc.items() if k not in ("tags", "notes")}
