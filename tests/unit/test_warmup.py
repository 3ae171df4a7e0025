"""Engines loaded off the UI thread leave nothing for the UI thread to compile or load later."""

from __future__ import annotations

import importlib
import sys
import threading

from indicator_cases import random_series
from numba.core.registry import CPUDispatcher

from domain.indicators import CATALOG
from presentation.warmup import MODULES, load_engines

KERNEL_MODULES = ("domain.indicators.kernels", "domain.indicators.recursive", "domain.indicators.streams")


def compiled() -> dict[str, tuple[object, ...]]:
    """Every numba kernel of the indicators → the signatures it has loaded or compiled so far."""
    modules = [importlib.import_module(name) for name in KERNEL_MODULES]
    return {f"{m.__name__}.{name}": tuple(fn.signatures) for m in modules
            for name, fn in vars(m).items() if isinstance(fn, CPUDispatcher)}


def test_loading_on_a_thread_leaves_no_kernel_for_the_ui_thread_to_load() -> None:
    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_engines()
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    worker = threading.Thread(target=load, name="load-engines")
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive() and errors == []
    after_load = compiled()
    assert any(after_load.values())  # the catalog's kernels are loaded ...
    assert all(name in sys.modules for name in MODULES)  # ... and the tabs' modules imported

    series = random_series(3, n=2_000, price=50_000.0)  # a chart's series: another length, other prices
    for indicator in CATALOG.values():
        out = indicator.compute(series)
        assert all(len(values) == len(series) for values in out.values())
    assert compiled() == after_load  # nothing new was compiled or loaded from the cache on this thread
