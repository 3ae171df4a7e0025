"""Test setup shared by every suite: offscreen Qt, no network, temp databases."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Kernels compiled ahead of time into a developer's user cache would change which code runs: tests use numba's
# JIT unless they build and name their own (tests/integration/test_compiled_kernels.py).
os.environ["QUANTDESK_KERNELS"] = "jit"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file path (not yet created)."""
    return tmp_path / "quantdesk.db"
