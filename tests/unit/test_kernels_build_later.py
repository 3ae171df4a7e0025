"""The desktop compiles the engine's kernels in the background only when they are missing and not turned off."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.bootstrap import kernels


def build_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "build-kernels"]


def test_turned_off_kernels_start_no_background_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_KERNELS", "jit")
    before = build_threads()
    kernels.build_later(delay_s=0.0)()
    assert build_threads() == before


def test_quitting_before_the_delay_starts_no_compiler_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUANTDESK_KERNELS", str(tmp_path))
    stop = kernels.build_later(delay_s=60.0)
    assert len(build_threads()) == 1
    stop()
    deadline = time.monotonic() + 5
    while build_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert build_threads() == [] and not (tmp_path / "kernels").exists()


def test_numba_caches_per_version_of_the_code_and_old_versions_unused_for_a_month_go(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    from infrastructure.compute.aot import cache_key

    monkeypatch.setenv("QUANTDESK_KERNELS", str(tmp_path))
    old, recent = tmp_path / "numba" / "old-code", tmp_path / "numba" / "recent-code"
    for folder, age_days in ((old, 31), (recent, 2)):
        folder.mkdir(parents=True)
        os.utime(folder, (time.time() - age_days * 86_400,) * 2)
    assert kernels.numba_cache_dir() == str(tmp_path / "numba" / cache_key())
    assert (tmp_path / "numba" / cache_key()).is_dir() and recent.is_dir() and not old.exists()


def test_a_user_cache_that_cannot_be_written_leaves_numba_its_own_place(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QUANTDESK_KERNELS", str(blocker))  # numba/<key> cannot be made under a file
    assert kernels.numba_cache_dir() is None
