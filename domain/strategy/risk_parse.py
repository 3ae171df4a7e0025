"""Parsing the risk block: schema 1's percentage fields (migrated) and schema 2's distances, levels and trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from domain.strategy.issues import Issues, fmt, is_number, join, kind
from domain.strategy.risk import ANCHORS, Anchor, Distance, Risk, TakeProfitLevel, Trailing

RISK_LIMITS = {  # schema 1 fields: (low, high, low inclusive, may be null)
    "position_size_pct": (0.0, 100.0, False, False),
    "stop_loss_pct": (0.0, 100.0, False, True),
    "take_profit_pct": (0.0, 10_000.0, False, True),
    "trailing_stop_pct": (0.0, 100.0, False, True),
}
RISK_KEYS = ("position_size_pct", "stop_loss", "take_profit", "trailing_stop")
V1_ONLY = ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct")
PCT_HIGH = {"stop_loss": 100.0, "take_profit": 10_000.0, "trailing_stop": 100.0}
MAX_LEVELS = 10
MAX_ATR_PERIOD = 500  # the catalog ATR's own limit


class RiskParser(Issues):
    """Reads `risk` into a Risk; schema 1 files keep their own field names in messages."""

    def risk_v1(self, value: object) -> Risk | None:
        doc = self.obj(value, "risk", tuple(RISK_LIMITS))
        if doc is None:
            return None
        values: dict[str, float | None] = {}
        for key, (lo, hi, _, nullable) in RISK_LIMITS.items():
            raw = doc.get(key, 100.0 if key == "position_size_pct" else None)
            if raw is None and nullable:
                values[key] = None
            elif not is_number(raw) or not lo < raw <= hi:
                null = " or null" if nullable else ""
                self.err(f"risk.{key}", f"must be a number > {fmt(lo)} and ≤ {fmt(hi)}{null}, not {raw!r}")
            else:
                values[key] = float(raw)
        if any(k not in values for k in RISK_LIMITS):
            return None
        return Risk(cast(float, values["position_size_pct"]), values["stop_loss_pct"], values["take_profit_pct"],
                    values["trailing_stop_pct"])

    def risk_v2(self, value: object) -> Risk | None:
        """Schema 2's risk block; schema 1's percentage fields are still read there, as aliases of `{"pct"}`
        (each only where its schema-2 field is null or left out: tools that set `risk.stop_loss_pct` keep working)."""
        if isinstance(value, Mapping) and any(k in value for k in V1_ONLY):
            value = self.aliases(value)
            if value is None:
                return None
        doc = self.obj(value, "risk", RISK_KEYS)
        if doc is None:
            return None
        before = len(self.issues)
        size = self.number(doc.get("position_size_pct", 100), "risk.position_size_pct", 0.0, 100.0)
        stop = self.distance(doc.get("stop_loss"), "risk.stop_loss", ())
        levels = self.take_profit(doc.get("take_profit"), "risk.take_profit")
        trail = self.trailing(doc.get("trailing_stop"), "risk.trailing_stop")
        if len(self.issues) > before or size is None:
            return None
        return Risk(size, stop, levels, trail)

    def aliases(self, value: Mapping[str, Any]) -> dict[str, Any] | None:
        """`value` with each non-null schema-1 `*_pct` field turned into its schema-2 `{"pct": …}` form."""
        merged = dict(value)
        for old, new in zip(V1_ONLY, RISK_KEYS[1:], strict=True):
            raw = merged.pop(old, None)
            if raw is None:
                continue
            lo, hi, _, _ = RISK_LIMITS[old]
            if merged.get(new) is not None:
                self.err(f"risk.{old}", f"risk.{new} is set too: use one of the two forms")
                return None
            if not is_number(raw) or not lo < raw <= hi:
                self.err(f"risk.{old}", f"must be a number > {fmt(lo)} and ≤ {fmt(hi)} or null, not {raw!r}")
                return None
            merged[new] = {"pct": raw}
        return merged

    def distance(self, value: object, path: str, extra: tuple[str, ...]) -> Distance | None:
        """`{"pct": x}` or `{"atr": {"period": n, "mult": m}}` (plus `extra` keys the caller reads); null → None."""
        if value is None:
            return None
        doc = self.obj(value, path, ("pct", "atr", *extra))
        if doc is None:
            return None
        if ("pct" in doc) == ("atr" in doc):
            self.err(path, 'give exactly one of {"pct": NUMBER} or {"atr": {"period": N, "mult": M}}')
            return None
        if "pct" in doc:
            pct = self.number(doc["pct"], join(path, "pct"), 0.0, PCT_HIGH[path.split(".")[1].split("[")[0]])
            return None if pct is None else Distance.pct(pct)
        atr = self.obj(doc["atr"], join(path, "atr"), ("period", "mult"))
        if atr is None:
            return None
        for key in ("period", "mult"):
            if key not in atr:
                self.err(join(path, f"atr.{key}"), "missing")
        if "period" not in atr or "mult" not in atr:
            return None
        period = self.integer(atr["period"], join(path, "atr.period"), 1, MAX_ATR_PERIOD)
        mult = self.number(atr["mult"], join(path, "atr.mult"), 0.0, 100.0)
        return None if period is None or mult is None else Distance.atr(period, mult)

    def take_profit(self, value: object, path: str) -> tuple[TakeProfitLevel, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            level = self.level(value, path, single=True)
            return () if level is None else (level,)
        if not 1 <= len(value) <= MAX_LEVELS:
            self.err(path, f"must list 1 to {MAX_LEVELS} levels, not {len(value)}")
            return ()
        levels = [self.level(v, f"{path}[{i}]", single=False) for i, v in enumerate(value)]
        if any(lv is None for lv in levels):
            return ()
        out = tuple(lv for lv in levels if lv is not None)
        total = sum(lv.close_pct for lv in out)
        if abs(total - 100.0) > 1e-9:
            self.err(path, f"the levels' close_pct must add up to 100, not {fmt(total)}")
            return ()
        return out

    def level(self, value: object, path: str, single: bool) -> TakeProfitLevel | None:
        distance = self.distance(value, path, ("close_pct",))
        if distance is None:
            return None
        doc = cast(Mapping[str, Any], value)
        if single:
            if doc.get("close_pct", 100) != 100:
                self.err(join(path, "close_pct"), "one take-profit level closes the whole position: 100 or "
                         "leave it out (list levels to close in parts)")
                return None
            return TakeProfitLevel(distance)
        if "close_pct" not in doc:
            self.err(join(path, "close_pct"), "missing; each level says which share of the position it closes")
            return None
        share = self.number(doc["close_pct"], join(path, "close_pct"), 0.0, 100.0)
        return None if share is None else TakeProfitLevel(distance, share)

    def trailing(self, value: object, path: str) -> Trailing | None:
        distance = self.distance(value, path, ("anchor",))
        if distance is None:
            return None
        anchor = cast(Mapping[str, Any], value).get("anchor", "extreme")
        if anchor not in ANCHORS:
            self.err(join(path, "anchor"), f"must be one of {', '.join(ANCHORS)}, not {anchor!r}"
                     if isinstance(anchor, str) else f"must be a string, not {kind(anchor)}")
            return None
        return Trailing(distance, cast(Anchor, anchor))
