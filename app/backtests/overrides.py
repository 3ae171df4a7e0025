"""Which values of a run's strategy definition differ from the saved strategy's (the overridden parameters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Bookkeeping, not trading rules: a different name or notes never makes a run "overridden".
_IGNORED = frozenset({"name", "notes", "tags"})


def overridden_values(saved: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Path → {"saved": value, "run": value} for every leaf where `run` differs from `saved`.

    Paths are written as sweep paths (`entry_long.all[0].left.params.period`); a list or object whose shape
    differs is reported whole at its own path.
    """
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(set(saved) | set(run)):
        if key not in _IGNORED:
            _diff(saved.get(key), run.get(key), str(key), out)
    return out


def _diff(a: Any, b: Any, path: str, out: dict[str, dict[str, Any]]) -> None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            _diff(a.get(key), b.get(key), f"{path}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
    elif not _same(a, b):
        out[path] = {"saved": a, "run": b}


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)  # 10 and 10.0 are the same period
    return bool(a == b)
