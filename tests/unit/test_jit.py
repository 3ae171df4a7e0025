"""domain.jit: a kernel calls a compiled version only for exactly the argument types it was compiled for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from domain import jit
from domain.indicators import kernels as indicator_kernels

ROOT = Path(__file__).parents[2]

F8 = ("a", "<f8", 1, "C", True)
# The Kernel itself: once numba is in use, the module's own name is rebound to the numba dispatcher
rolling_mean = next(k for k in jit.kernels() if k.name == "domain.indicators.kernels.rolling_mean")


@pytest.fixture
def calls() -> Iterator[list[tuple[Any, ...]]]:
    """A stand-in compiled rolling_mean(f8[::1], i8, i8) that records its calls (the edge of this unit)."""
    seen: list[tuple[Any, ...]] = []

    def fake(*args: Any) -> Any:
        seen.append(args)
        return rolling_mean.py_func(*args)

    jit.install({rolling_mean.name: [((F8, ("i", "<i8"), ("i", "<i8")), fake)]})
    try:
        yield seen
    finally:
        jit.install({})


def test_a_call_with_the_compiled_types_runs_the_compiled_version_with_its_defaults_filled_in(
        calls: list[tuple[Any, ...]]) -> None:
    x = np.arange(10.0)
    out = rolling_mean(x, 3)
    assert len(calls) == 1 and calls[0][1:] == (3, 0)  # `start` left to its default is passed explicitly
    np.testing.assert_array_equal(out, rolling_mean.dispatcher(x, 3))


@pytest.mark.parametrize("x", [np.arange(10, dtype=np.int64), np.arange(10.0, dtype=np.float32),
                               np.arange(20.0)[::2]])
def test_any_other_array_goes_to_numba_which_types_it_itself(calls: list[tuple[Any, ...]], x: np.ndarray) -> None:
    out = rolling_mean(x, 3)
    assert calls == []
    np.testing.assert_allclose(out[2:], np.convolve(x, np.ones(3) / 3, "valid"), rtol=1e-6)


def test_an_array_of_another_shape_or_layout_does_not_match() -> None:
    assert not jit._matches(F8, np.arange(10.0).reshape(2, 5))
    assert not jit._matches(F8, np.asfortranarray(np.arange(10.0).reshape(2, 5))[0])
    assert jit._matches(F8, np.arange(10.0).reshape(2, 5)[1])


def test_a_tuple_matches_item_by_item_as_the_build_index_stores_it() -> None:
    spec = ("t", [list(F8), ["a", "|b1", 1, "C", True]])  # the index keeps a tuple's items as JSON lists
    assert jit._matches(spec, (np.arange(3.0), np.zeros(3, np.bool_)))
    assert not jit._matches(spec, [np.arange(3.0), np.zeros(3, np.bool_)])  # numba types a list otherwise
    assert not jit._matches(spec, (np.arange(3.0),))
    assert not jit._matches(spec, (np.arange(3.0), np.zeros(3, np.int8)))


def test_a_read_only_array_a_bool_or_a_float_period_is_not_taken_for_the_compiled_types(
        calls: list[tuple[Any, ...]]) -> None:
    frozen = np.arange(10.0)
    frozen.setflags(write=False)
    rolling_mean(frozen, 3)
    assert calls == []
    assert not jit._matches(("i", "<i8"), True) and not jit._matches(("i", "<i8"), 3.0)
    assert jit._matches(("i", "<i8"), np.int64(3)) and not jit._matches(("i", "<i8"), np.int32(3))
    assert jit._matches(("f", "<f8"), 1.5) and jit._matches(("f", "<f8"), np.float64(1.5))
    assert not jit._matches(("f", "<f8"), np.float32(1.5)) and jit._matches(("b",), np.bool_(True))


def test_once_numba_is_needed_the_kernels_modules_hold_numba_dispatchers_for_compiled_callers() -> None:
    jit.use_numba()
    assert jit.numba_loaded()
    assert isinstance(vars(indicator_kernels)["rolling_sum"], CPUDispatcher)
    assert isinstance(rolling_mean.dispatcher, CPUDispatcher)


def test_the_loader_runs_once_before_the_first_kernel_call() -> None:
    ran: list[int] = []
    jit.set_loader(lambda: ran.append(1))
    try:
        rolling_mean(np.arange(5.0), 2)
        rolling_mean(np.arange(5.0), 2)
    finally:
        jit.set_loader(None)
    assert ran == [1]


def test_every_kernel_in_domain_goes_through_domain_jit() -> None:
    """A module using numba's own njit would load numba in every process and be left out of compiled builds."""
    from pathlib import Path

    root = Path(jit.__file__).parent
    direct = [str(p.relative_to(root)) for p in root.rglob("*.py")
              if p.name != "jit.py" and ("from numba import" in p.read_text() or "import numba" in p.read_text())]
    assert direct == []


def test_numba_caches_in_the_folder_the_app_names_and_the_processes_it_starts_inherit_it(tmp_path: Path) -> None:
    """A new process: its first JIT call writes the cache where `set_cache_dir` says, which NUMBA_CACHE_DIR
    then names for its children; an explicit NUMBA_CACHE_DIR wins."""
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from domain import jit
        from domain.indicators.kernels import rolling_mean
        jit.set_cache_dir(lambda: {str(tmp_path / "ours")!r})
        rolling_mean(np.arange(50.0), 5)
        print(os.environ["NUMBA_CACHE_DIR"])
    """)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True)
    assert ran.stdout.strip() == str(tmp_path / "ours")
    assert any(p.suffix == ".nbi" for p in (tmp_path / "ours").rglob("*"))
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "theirs")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True)
    assert ran.stdout.strip() == str(tmp_path / "theirs")
    assert any(p.suffix == ".nbi" for p in (tmp_path / "theirs").rglob("*"))


def test_a_process_about_to_spawn_workers_names_its_numba_cache_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(jit, "_cache_dir", [lambda: "/somewhere/numba/abc"])
    jit.export_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == "/somewhere/numba/abc"
    monkeypatch.setattr(jit, "_cache_dir", [lambda: "/elsewhere"])
    jit.export_cache_dir()  # one already named (by the user, or earlier) stays
    assert os.environ["NUMBA_CACHE_DIR"] == "/somewhere/numba/abc"
