"""The wall clock behind app.clock.Clock (app and domain take time as an argument, never read it)."""

from __future__ import annotations

import time


class SystemClock:
    """Milliseconds since the Unix epoch, UTC."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
