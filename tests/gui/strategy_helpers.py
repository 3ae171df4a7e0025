"""Strategies put straight into a test database, and the SMA cross definition the builder tests build."""

from __future__ import annotations

import json
from typing import Any

from app.bootstrap.container import Container


def sma_cross(name: str = "SMA 10/20 cross", fast: int = 10, slow: int = 20) -> dict[str, Any]:
    def sma(period: int) -> dict[str, Any]:
        return {"var": "sma", "params": {"period": period}}

    return {"schema": 1, "name": name, "direction": "long_short",
            "entry_long": {"all": [{"left": sma(fast), "op": "crosses_above", "right": sma(slow)}]},
            "entry_short": {"all": [{"left": sma(fast), "op": "crosses_below", "right": sma(slow)}]},
            "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def store_many(container: Container, n: int, prefix: str = "Strategy", tags: tuple[str, ...] = ()) -> list[str]:
    """`n` valid strategies named prefix 00000 … (every third one also tagged "third")."""
    docs = []
    for i in range(n):
        doc = sma_cross(f"{prefix} {i:05d}", 5 + i % 20, 30 + i % 40)
        doc["tags"] = [*tags, "third"] if i % 3 == 0 else list(tags)
        docs.append(doc)
    result = container.strategies.import_texts([("bulk", json.dumps(docs))])
    assert result.ok, result.errors
    return [d["name"] for d in docs]
