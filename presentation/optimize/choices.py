"""What the Optimize view offers to pick: strategies (from the strategy store) as plain choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StrategyChoice:
    """A strategy the user can optimise: its name, definition and stored id (None for unsaved ones)."""

    name: str
    definition: dict[str, Any]
    id: int | None = None


def stored_strategies(service: Any, limit: int = 500) -> list[StrategyChoice]:
    """Stored strategies as choices (first `limit` by name)."""
    if service is None:
        return []
    out = []
    for summary in service.page(limit=limit).items:
        record = service.get(summary.id)
        if record is not None:
            out.append(StrategyChoice(record.name, record.definition, record.id))
    return out
