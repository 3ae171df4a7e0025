"""The Builder's words: a place in the draft ("Long entry › condition 1 › SMA period") and an operand in plain words."""

from __future__ import annotations

import re
from typing import Any

from domain.indicators import CATALOG

Path = tuple[str | int, ...]
SEP = " › "
SIDE_WORDS = {"entry_long": "Long entry", "exit_long": "Long exit", "entry_short": "Short entry",
              "exit_short": "Short exit", "scale_in": "Scale in"}
POSITION_WORDS = {"position_return_pct": "position return %", "bars_in_position": "bars in position"}
ARITH_SIGNS = {"add": "+", "sub": "−", "mul": "×", "div": "÷"}
_KEYS = {"name": "Name", "direction": "Direction", "tags": "Tags", "risk": "Risk", "crossover": "Crossover rule",
         "position_size_pct": "Position size %", "stop_loss": "Stop loss", "take_profit": "Take profit",
         "trailing_stop": "Trailing stop", "stop_loss_pct": "Stop-loss %", "take_profit_pct": "Take-profit %",
         "trailing_stop_pct": "Trailing stop %", "size_pct": "Add size %", "max_adds": "Max adds",
         "min_bars_between": "Min bars between", "close_pct": "close %", "pct": "%", "anchor": "anchor",
         "op": "comparison", "const": "number", "field": "output", "var": "indicator", "timeframe": "timeframe",
         "left": "left", "right": "right", "mult": "ATR multiple", "period": "ATR period"}
_SHORT = {"bbands": "Bollinger", "donchian": "Donchian"}


def indicator_short(name: str) -> str:
    """SMA, RSI, Bollinger, Close…: how the picker names catalog entry `name`."""
    ind = CATALOG.get(name)
    if ind is None:
        return POSITION_WORDS.get(name, name)
    return _SHORT.get(ind.name) or (ind.label if len(ind.label) <= 14 else ind.name.upper())


def split_path(path: Path | str) -> list[str | int]:
    """`entry_long.all[0].left` → ["entry_long", "all", 0, "left"]."""
    if not isinstance(path, str):
        return list(path)
    return [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[A-Za-z_]+", path)]


def path_words(path: Path | str, doc: Any = None) -> str:
    """The Builder's words for a place: exit_long.all[0].left.params.period reads "Long exit › condition 1 › SMA
    period" (given the draft; "left › period" without it); risk.take_profit[1].close_pct reads
    "Risk › Take profit › level 2 › close %"; a nested group reads "group N"."""
    parts = split_path(path)
    words: list[str] = []
    node: Any = doc
    i = 0
    while i < len(parts):
        part, after = parts[i], (parts[i + 1] if i + 1 < len(parts) else None)
        prev = parts[i - 1] if i else None
        child = _child(node, part)
        if isinstance(part, int):
            if prev in ARITH_SIGNS:
                words.append("first term" if part == 0 else "second term")
            elif prev == "take_profit":
                words.append(f"level {part + 1}")
            else:
                words.append(f"{'group' if after in ('all', 'any') else 'condition'} {part + 1}")
        elif isinstance(node, dict) and "var" in node and part in ("params", "field", "timeframe", "var"):
            what = str(parts[i + 1]) if part == "params" and after is not None else _KEYS.get(part, part)
            if words and words[-1] in ("left", "right", "first term", "second term"):
                words.pop()  # the indicator names the side
            words.append(f"{indicator_short(str(node.get('var')))} {_param_words(node, what)}".strip())
            break
        elif part in SIDE_WORDS:
            words.append(SIDE_WORDS[part])
        elif part == "atr":
            words.append(_KEYS[str(after)] if after in ("period", "mult") else "ATR")
            break
        elif part not in ("all", "any", "params", "when", *ARITH_SIGNS):
            words.append(_KEYS.get(part, part.replace("_", " ")))
        node = child
        i += 1
    return SEP.join(words)


def _param_words(node: dict[str, Any], name: str) -> str:
    ind = CATALOG.get(str(node.get("var")))
    param = next((p for p in ind.params if p.name == name), None) if ind is not None else None
    return (param.label.lower() if param is not None else name.replace("_", " "))


def _child(node: Any, part: str | int) -> Any:
    try:
        return node[part] if node is not None else None
    except (KeyError, IndexError, TypeError):
        return None


def operand_words(op: Any, top: bool = True) -> str:
    """An operand in plain words: "SMA(50) on 1h", "EMA(21) − 2 × ATR(14)", "close ÷ 1.02", "position return %"."""
    if not isinstance(op, dict):
        return "?"
    if "const" in op:
        return _number(op["const"])
    kind = next((k for k in ARITH_SIGNS if k in op), None)
    if kind is not None:
        args = op[kind] if isinstance(op[kind], list) and len(op[kind]) == 2 else [None, None]
        left, right = (operand_words(a, top=False) for a in args)
        if _needs_parens(kind, args[0], first=True):
            left = f"({left})"
        if _needs_parens(kind, args[1], first=False):
            right = f"({right})"
        return f"{left} {ARITH_SIGNS[kind]} {right}"
    name = str(op.get("var"))
    if name in POSITION_WORDS:
        return POSITION_WORDS[name]
    params = op.get("params") or {}
    text = indicator_short(name) if name in CATALOG and CATALOG[name].params else name
    if params:
        text += "(" + ",".join(_number(v) for v in params.values()) + ")"
    ind = CATALOG.get(name)
    if ind is not None and len(ind.outputs) > 1 and op.get("field", ind.outputs[0]) != ind.outputs[0]:
        text += f" {op['field']}"
    if op.get("timeframe"):
        text += f" on {op['timeframe']}"
    return text


def _needs_parens(kind: str, arg: Any, first: bool) -> bool:
    inner = next((k for k in ARITH_SIGNS if isinstance(arg, dict) and k in arg), None)
    if inner is None:
        return False
    low = {"add", "sub"}
    if kind in ("mul", "div"):
        return inner in low or (not first and kind == "div")
    return not first and kind == "sub" and inner in low


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_MESSAGE_WORDS = (("the levels' close_pct", "the levels' close %"), ("close_pct", "close %"),
                  ("scale_in.when", "the scale-in rule"), ("scale_in", "scale-in"))


def message_words(message: str) -> str:
    """A validator message with the JSON key names the Builder does not show put in its own words."""
    for code, words in _MESSAGE_WORDS:
        message = message.replace(code, words)
    return message
