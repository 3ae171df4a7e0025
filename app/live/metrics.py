"""Live metrics: latency histograms (perf_counter_ns), GC pauses, queue depths and drops, reconnects, loop lag."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class LatencyRecorder:
    """The last `capacity` samples (ns) in a ring buffer plus exact count and max; percentiles on demand."""

    __slots__ = ("name", "_buf", "_cap", "count", "max_ns")

    def __init__(self, name: str, capacity: int = 1 << 17) -> None:
        self.name = name
        self._buf = np.zeros(capacity, dtype=np.int64)
        self._cap = capacity
        self.count = 0
        self.max_ns = 0

    def record(self, ns: int) -> None:
        self._buf[self.count % self._cap] = ns
        self.count += 1
        if ns > self.max_ns:
            self.max_ns = ns

    def samples(self) -> np.ndarray:
        return self._buf[: min(self.count, self._cap)]

    def summary(self) -> dict[str, float]:
        """count, p50/p99/p999 and max in microseconds."""
        s = self.samples()
        if not len(s):
            return {"count": 0, "p50_us": 0.0, "p99_us": 0.0, "p999_us": 0.0, "max_us": 0.0}
        p50, p99, p999 = np.percentile(s, [50, 99, 99.9])
        return {"count": self.count, "p50_us": p50 / 1e3, "p99_us": p99 / 1e3, "p999_us": p999 / 1e3,
                "max_us": self.max_ns / 1e3}

    def reset(self) -> None:
        self.count = 0
        self.max_ns = 0


class GcPauseMonitor:
    """Times every garbage collection through gc.callbacks."""

    def __init__(self) -> None:
        self.pauses = LatencyRecorder("gc_pause", 1 << 14)
        self._start = 0
        self.by_generation = [0, 0, 0]
        self._installed = False

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter_ns()
        elif self._start:
            self.pauses.record(time.perf_counter_ns() - self._start)
            self.by_generation[info.get("generation", 0)] += 1
            self._start = 0

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._callback)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._callback)
            self._installed = False


class LoopLagProbe:
    """Sleeps `interval` seconds in a loop and records how late it wakes: the event loop's lag."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.lag = LatencyRecorder("loop_lag", 1 << 12)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        target_ns = int(self.interval * 1e9)
        while True:
            t0 = time.perf_counter_ns()
            await asyncio.sleep(self.interval)
            self.lag.record(max(0, time.perf_counter_ns() - t0 - target_ns))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


@dataclass
class FeedCounters:
    """Per-stream counters kept by the websocket adapters."""

    messages: int = 0
    rejected: int = 0
    reconnects: int = 0
    backfilled_bars: int = 0
    connected: bool = False


class LiveMetrics:
    """Everything the Monitor panel and `quantdesk paper --metrics` show."""

    def __init__(self) -> None:
        self.tick_to_signal = LatencyRecorder("tick_to_signal")
        self.bar_to_signal = LatencyRecorder("bar_to_signal", 1 << 14)
        self.gc = GcPauseMonitor()
        self.loop = LoopLagProbe()
        self.feeds: dict[str, FeedCounters] = {}
        self.queue_stats: Callable[[], dict[str, Any]] = dict

    def feed(self, name: str) -> FeedCounters:
        c = self.feeds.get(name)
        if c is None:
            c = self.feeds[name] = FeedCounters()
        return c

    def start(self) -> None:
        self.gc.install()
        self.loop.start()

    async def stop(self) -> None:
        self.gc.uninstall()
        await self.loop.stop()

    def snapshot(self) -> dict[str, Any]:
        """A plain dict of every figure (microseconds for latencies)."""
        feeds = {k: vars(v).copy() for k, v in self.feeds.items()}
        return {
            "tick_to_signal": self.tick_to_signal.summary(),
            "bar_to_signal": self.bar_to_signal.summary(),
            "gc_pause": self.gc.pauses.summary(),
            "gc_collections": list(self.gc.by_generation),
            "loop_lag": self.loop.lag.summary(),
            "queues": self.queue_stats(),
            "feeds": feeds,
            "reconnects": sum(f["reconnects"] for f in feeds.values()),
            "rejected_messages": sum(f["rejected"] for f in feeds.values()),
        }


def format_metrics(snap: dict[str, Any]) -> list[str]:
    """Human-readable lines of a metrics snapshot."""
    lines = []
    for key in ("tick_to_signal", "bar_to_signal", "gc_pause", "loop_lag"):
        s = snap[key]
        lines.append(f"{key:15} n={s['count']:<8} p50={s['p50_us']:9.1f} us  p99={s['p99_us']:9.1f} us  "
                     f"max={s['max_us']:9.1f} us")
    for name, q in snap["queues"].items():
        lines.append(f"queue {name:9} depth={q['depth']:<6} high={q['high_water']:<6} published={q['published']:<8} "
                     f"dropped={q['dropped']:<6} waits={q['waits']}")
    for name, f in snap["feeds"].items():
        lines.append(f"feed {name:20} messages={f['messages']:<8} rejected={f['rejected']:<6} "
                     f"reconnects={f['reconnects']:<3} backfilled={f['backfilled_bars']}")
    return lines
