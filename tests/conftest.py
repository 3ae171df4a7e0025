"""Test setup shared by every suite: offscreen Qt, no network, temp databases."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Kernels compiled ahead of time into a developer's user cache would change which code runs: tests use numba's
# JIT unless they build and name their own (tests/integration/test_compiled_kernels.py).
os.environ["QUANTDESK_KERNELS"] = "jit"
# numba's cache in a folder of this exact code: a kernel cached beside the sources is not recompiled when only a
# helper it inlines from another file changed (app.bootstrap.kernels.numba_cache_dir does the same for users)
if not os.environ.get("NUMBA_CACHE_DIR"):
    import tempfile

    from infrastructure.compute.aot import cache_key

    os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "quantdesk-tests-numba", cache_key())

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file path (not yet created)."""
    return tmp_path / "quantdesk.db"
