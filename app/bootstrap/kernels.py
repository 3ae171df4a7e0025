"""Kernels compiled ahead of time: installed before a process's first kernel call when a build for this exact
code is in the user cache; built by `quantdesk kernels build` (or by the desktop, once, in the background)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.bootstrap.container import APP_NAME


def default_cache_dir() -> Path:
    """The platform's user cache dir (the compiled kernels live in its kernels/ folder)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def kernels_dir() -> Path | None:
    """Where compiled kernels are looked for: $QUANTDESK_KERNELS names a folder (or "jit": nowhere)."""
    from infrastructure.compute.aot import cache_dir

    return cache_dir(default_cache_dir())


def use_compiled_kernels() -> None:
    """Have the first kernel call of this process install this code's compiled kernels, when they are built;
    kernels that still need numba cache their machine code in a folder of this exact code."""
    from domain import jit

    jit.set_loader(_load)
    jit.set_cache_dir(numba_cache_dir)


def numba_cache_dir() -> str | None:
    """numba's cache for this exact code (`cache_key`) in the user cache; other code's folders unused for 30
    days are removed. None (numba's own place) when the cache cannot be written: a backtest still runs."""
    from infrastructure.compute.aot import numba_folder

    try:
        return str(numba_folder(kernels_dir() or default_cache_dir()))
    except OSError as err:
        logging.getLogger(__name__).warning("numba's cache stays beside the code: %s", err)
        return None


def serve_backtests(conn: Any) -> None:
    """The backtest worker process's loop (`app.backtests.worker.serve`), with this code's compiled kernels."""
    from app.backtests.worker import serve

    use_compiled_kernels()
    serve(conn)


def _load() -> None:
    folder = kernels_dir()
    if folder is not None:
        from infrastructure.compute.aot import load

        load(folder)


def built() -> Path | None:
    """This code's build folder when it exists (a stale build is another code's and does not count)."""
    folder = kernels_dir()
    if folder is None:
        return None
    from infrastructure.compute.aot import INDEX, build_folder

    found = build_folder(folder)
    return found if (found / INDEX).exists() else None


def build_kernels(say: Callable[[str], None]) -> Path:
    """Compile this code's kernels into the cache; UserError when that cannot be done (no C compiler, no pycc,
    turned off), in which case every kernel keeps running through numba's JIT."""
    from app.errors import UserError
    from infrastructure.compute.aot.build import BuildError, build

    folder = kernels_dir()
    if folder is None:
        raise UserError("compiled kernels are turned off (QUANTDESK_KERNELS=jit)")
    os.environ.setdefault("NUMBA_DISABLE_PERFORMANCE_WARNINGS", "1")
    try:
        return build(folder, say)
    except BuildError as err:
        raise UserError(f"{err}; the kernels keep running through numba's JIT compiler") from None


def build_later(delay_s: float = 30.0) -> Callable[[], None]:
    """Unless this code's kernels are built (or turned off), compile them in a low-priority child process once
    `delay_s` has passed (the app has started by then); returns what stops it when the app quits. The next
    start, and every command after, then runs without numba's set-up."""
    if kernels_dir() is None or built() is not None:
        return lambda: None
    stop = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def run() -> None:
        if stop.wait(delay_s):
            return
        low = (lambda: os.nice(10)) if hasattr(os, "nice") else None
        child.append(subprocess.Popen([sys.executable, "-m", "app", "kernels", "build", "--quiet"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=low))
        _, err = child[0].communicate()
        log = logging.getLogger(__name__)
        if child[0].returncode == 0:
            log.info("engine kernels compiled ahead of time: the next start needs no numba set-up")
        elif not stop.is_set():
            log.info("engine kernels not compiled ahead of time: %s", err.decode(errors="replace").strip())

    def quit_() -> None:
        stop.set()
        if child and child[0].poll() is None:
            child[0].terminate()

    threading.Thread(target=run, name="build-kernels", daemon=True).start()
    return quit_
