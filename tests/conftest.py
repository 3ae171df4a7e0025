"""Test setup shared by every suite: offscreen Qt, no network, temp databases."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file path (not yet created)."""
    return tmp_path / "quantdesk.db"
