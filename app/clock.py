"""The Clock port: app and domain take time as an argument and never read the wall clock themselves."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...
