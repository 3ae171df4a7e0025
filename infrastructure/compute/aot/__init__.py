"""Ahead-of-time compiled kernels: found in the user cache and installed at start-up, without importing numba.

`build.py` compiles the engine's numba kernels into one extension module (numba's pycc) next to an index of
the argument types each export takes. A build is keyed by the domain code, Python, numpy and numba it was made
from: any edit to domain/ (or an upgrade) makes it stale and it is ignored (numba JIT compiles as before).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import domain
from domain import jit

INDEX = "index.json"
SETTING = "QUANTDESK_KERNELS"  # "jit": never use compiled kernels; a folder: the cache to use instead of the default


def cache_key() -> str:
    """Hash of every domain source file, Python, numpy and numba (read from its files, not imported)."""
    h = hashlib.sha256()
    spec = importlib.util.find_spec("numba")
    numba_version = Path(spec.origin).with_name("_version.py") if spec and spec.origin else None
    h.update(f"{sys.version}|{sys.platform}|{platform.machine()}|{np.__version__}".encode())
    if numba_version is not None and numba_version.exists():
        h.update(numba_version.read_bytes())
    root = Path(domain.__file__).parent
    for path in sorted(_sources(root)):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def _sources(folder: Path) -> list[Path]:
    out = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir() and entry.name != "__pycache__":
                out.extend(_sources(Path(entry.path)))
            elif entry.name.endswith(".py"):
                out.append(Path(entry.path))
    return out


def build_folder(cache_dir: Path, key: str | None = None) -> Path:
    """Where the build for `key` (default: this code's) lives under `cache_dir`."""
    return cache_dir / "kernels" / (key or cache_key())


def numba_folder(cache_dir: Path) -> Path:
    """numba's on-disk cache for this code under `cache_dir`, made and marked in use (other code's are pruned)."""
    folder = cache_dir / "numba" / cache_key()
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    prune(folder)
    return folder


def prune(kept: Path) -> None:
    """Remove the folders beside `kept` (other code's builds or caches) unused for 30 days, and work folders an
    interrupted build left (named with a leading dot) an hour ago."""
    now = time.time()
    for other in kept.parent.iterdir():
        age = now - other.stat().st_mtime
        if other != kept and other.is_dir() and age > (3_600 if other.name.startswith(".") else 30 * 86_400):
            shutil.rmtree(other, ignore_errors=True)


def cache_dir(default: Path) -> Path | None:
    """The kernels' cache folder: $QUANTDESK_KERNELS when it names one, None when it says "jit", else `default`."""
    setting = os.environ.get(SETTING, "")
    if setting == "jit":
        return None
    return Path(setting).expanduser() if setting else default


def load(cache_dir: Path) -> int:
    """Install the compiled kernels built for this exact code, if there are any; how many versions were installed.

    A missing, stale or unreadable build installs nothing: every kernel then runs through numba as before.
    """
    folder = build_folder(cache_dir)
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
        module = _import(folder / index["file"], index["module"])
    except (OSError, ValueError, KeyError, ImportError):
        return 0
    table: dict[str, list[jit.Compiled]] = {}
    for name, exports in index["kernels"].items():
        table[name] = [(tuple(tuple(s) for s in specs), getattr(module, export)) for export, specs in exports]
    jit.install(table)
    return jit.installed()


def _import(path: Path, name: str) -> Any:
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
