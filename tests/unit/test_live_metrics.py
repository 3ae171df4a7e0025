"""Live metrics: latency percentiles from the ring buffer, GC pauses timed through gc.callbacks."""

from __future__ import annotations

import gc

import numpy as np

from app.live.metrics import GcPauseMonitor, LatencyRecorder, LiveMetrics, format_metrics


def test_percentiles_and_max_come_from_the_recorded_samples() -> None:
    rec = LatencyRecorder("t", capacity=1024)
    for ns in range(1, 1001):
        rec.record(ns * 1000)
    s = rec.summary()
    assert s["count"] == 1000 and s["max_us"] == 1000.0
    assert s["p50_us"] == np.percentile(np.arange(1, 1001), 50)
    assert 989 <= s["p99_us"] <= 991


def test_the_ring_buffer_keeps_the_latest_samples_but_the_exact_max_and_count() -> None:
    rec = LatencyRecorder("t", capacity=8)
    rec.record(10**9)
    for _ in range(100):
        rec.record(5)
    assert rec.count == 101 and rec.max_ns == 10**9
    assert set(rec.samples().tolist()) == {5}


def test_garbage_collections_are_timed_while_installed_only() -> None:
    mon = GcPauseMonitor()
    mon.install()
    try:
        gc.collect()
    finally:
        mon.uninstall()
    n = mon.pauses.count
    assert n >= 1 and sum(mon.by_generation) == n
    gc.collect()
    assert mon.pauses.count == n


def test_a_snapshot_formats_into_readable_lines() -> None:
    m = LiveMetrics()
    m.tick_to_signal.record(42_000)
    m.feed("demo:KRW-BTC").messages = 3
    m.queue_stats = lambda: {"data": {"depth": 0, "high_water": 1, "published": 3, "dropped": 0, "waits": 0,
                                      "handled": 3, "errors": 0}}
    lines = format_metrics(m.snapshot())
    assert any(line.startswith("tick_to_signal") and "p50=     42.0 us" in line for line in lines)
    assert any("feed demo:KRW-BTC" in line and "messages=3" in line for line in lines)
