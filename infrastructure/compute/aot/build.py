"""Compile the engine's kernels ahead of time: run the workload under numba, then export every signature it
used through numba's pycc into one extension module (a C compiler is needed), installed atomically."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import domain
from domain import jit
from infrastructure.compute.aot import INDEX, build_folder, cache_key, prune

NO_COMPILER = "no working C compiler was found (numba's pycc needs one: on Debian, apt install gcc python3-dev)"


class BuildError(Exception):
    """The kernels could not be compiled ahead of time (no C compiler, no pycc); numba JIT still works."""


def build(cache_dir: Path, say: Callable[[str], None] = lambda _: None,
          only: Callable[[str], bool] = lambda _: True) -> Path:
    """Build this code's compiled kernels under `cache_dir` (kernels whose name `only` accepts) and return the
    folder; an existing build is replaced only once the new one is complete."""
    key = cache_key()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from numba.pycc import CC  # type: ignore[attr-defined]
        from numba.pycc.platform import external_compiler_works
    except ImportError as exc:
        raise BuildError(f"this numba has no ahead-of-time compiler (numba.pycc): {exc}") from None
    if not external_compiler_works():
        raise BuildError(NO_COMPILER)
    jit.set_loader(None)  # the workload must run through numba, which records each signature it compiles
    jit.install({})
    _import_domain()
    _compile_afresh()
    started = time.perf_counter()
    from infrastructure.compute.aot.workload import run_workload

    runs = run_workload()
    exports = [(k, sig, specs) for k, sig, specs in _signatures() if only(k.name)]
    say(f"workload: {runs} backtests in {time.perf_counter() - started:.1f} s; {len(exports)} kernel signatures")
    folder = build_folder(cache_dir, key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        index = _compile(CC, f"quantdesk_kernels_{key}", exports, work, say)
        (work / INDEX).write_text(json.dumps(index), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
        prune(folder)
    except Exception as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, BuildError):
            raise
        raise BuildError(f"compiling the kernels failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    return folder


def _import_domain() -> None:
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(info.name)


def _compile_afresh() -> None:
    """Keep numba's on-disk cache out of the workload: a kernel loaded from it never compiles the kernels it
    calls, so what the build exports would depend on what an earlier run left in the cache."""
    from numba.core.caching import NullCache

    jit.use_numba()
    for kernel in jit.kernels():
        kernel.dispatcher._cache = NullCache()


def _signatures() -> list[tuple[jit.Kernel, Any, tuple[jit.ArgSpec, ...]]]:
    from numba import typeof
    from numba.core import types

    out = []
    for kernel in jit.kernels():
        for cres in kernel.dispatcher.overloads.values():
            sig = cres.signature  # an argument left to its default is exported as its value's type
            args = [typeof(t.value) if isinstance(t, types.Omitted) else t  # type: ignore[no-untyped-call]
                    for t in sig.args]
            specs = [_spec(t) for t in args]
            if all(s is not None for s in specs):
                out.append((kernel, sig.return_type(*args), tuple(s for s in specs if s is not None)))
    return out


def _spec(t: Any) -> jit.ArgSpec | None:
    """The argument check `jit` makes for numba type `t`, or None when a call with it cannot be exported."""
    from numba.core import types

    scalar = (types.Integer, types.Float, types.Boolean)
    if isinstance(t, types.Literal):  # a constant argument inside compiled code, never a call from Python
        return None
    if isinstance(t, types.BaseTuple):  # e.g. the signal arrays the v2 loop takes together
        items = [_spec(item) for item in t.types]
        return None if any(item is None for item in items) else ("t", tuple(items))
    if isinstance(t, types.Array) and isinstance(t.dtype, scalar) and t.aligned:
        return ("a", np.dtype(str(t.dtype)).str, t.ndim, t.layout, bool(t.mutable))
    if isinstance(t, types.Boolean):
        return ("b",)
    if isinstance(t, types.Integer):
        return ("i", np.dtype(str(t)).str)
    if isinstance(t, types.Float):
        return ("f", np.dtype(str(t)).str)
    return None


def _compile(cc_class: Any, module: str, exports: list[tuple[jit.Kernel, Any, tuple[jit.ArgSpec, ...]]],
             work: Path, say: Callable[[str], None]) -> dict[str, Any]:
    cc = cc_class(module)
    cc.output_dir = str(work)
    kernels: dict[str, list[Any]] = {}
    for n, (kernel, sig, specs) in enumerate(exports):
        cc.export(f"k{n}", sig)(kernel.py_func)
        kernels.setdefault(kernel.name, []).append([f"k{n}", [list(s) for s in specs]])
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cc.compile()
    files = [p.name for p in work.iterdir() if p.name.startswith(module)]
    if len(files) != 1:
        raise BuildError(f"the compiler left {files or 'no file'} instead of one module")
    say(f"compiled {len(exports)} exports in {time.perf_counter() - started:.1f} s into {files[0]}")
    return {"module": module, "file": files[0], "kernels": kernels}
