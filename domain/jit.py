"""The engine's compiled kernels: numba's `njit`, loaded lazily, or the same kernels compiled ahead of time.

`@njit(...)` makes a `Kernel`. Called from Python, a kernel runs its ahead-of-time compiled version when one
was installed (`install`) for exactly these argument types; otherwise numba JIT-compiles it (or loads it from
its on-disk cache) as a plain `numba.njit` would. numba itself is imported only then: a process whose calls all
have compiled versions never pays numba's ~0.5 s of start-up.

The first time numba is needed, every kernel gets its dispatcher and each module that defined kernels has its
globals rebound to those dispatchers, so compiled code calling a kernel sees a real numba dispatcher (with its
options: inlining, caching) exactly as if the module had used `numba.njit` itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

ArgSpec = tuple[Any, ...]  # ("a", dtype str, ndim, layout, writeable) | ("i", dtype str) | ("f", dtype str) | ("b",)
#                                 | ("t", (item specs...)): a tuple
Compiled = tuple[tuple[ArgSpec, ...], Callable[..., Any]]
F = TypeVar("F", bound=Callable[..., Any])

_KERNELS: list[Kernel] = []
_COMPILED: dict[str, list[Compiled]] = {}
_LOCK = threading.RLock()
_state = {"numba": False}
_loader: list[Callable[[], None]] = []  # run once, before the first kernel call: installs compiled versions
_cache_dir: list[Callable[[], str | None]] = []  # numba's on-disk cache folder (asked once numba is needed)
np: Any = None  # numpy, bound by `install` (this module is imported by `quantdesk --help`, which needs no numpy)


class Kernel:
    """A numba kernel that compiles (or loads) on first JIT use, or calls an ahead-of-time compiled version."""

    def __init__(self, py_func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = py_func
        self.options = options
        self.name = f"{py_func.__module__}.{py_func.__qualname__}"
        self.__doc__, self.__name__, self.__module__ = py_func.__doc__, py_func.__name__, py_func.__module__
        self.__qualname__, self.__wrapped__ = py_func.__qualname__, py_func
        self._dispatcher: Any = None
        self._defaults = tuple(py_func.__defaults__ or ())
        self._arity = py_func.__code__.co_argcount
        with _LOCK:
            _KERNELS.append(self)

    def __call__(self, *args: Any) -> Any:
        if _loader:
            _run_loader()
        compiled = _COMPILED.get(self.name)
        if compiled:
            missing = self._arity - len(args)  # arguments left to their defaults, passed explicitly to compiled code
            full = args + self._defaults[len(self._defaults) - missing:] if 0 < missing <= len(self._defaults) else args
            for specs, fn in compiled:
                if len(specs) == len(full) and all(map(_matches, specs, full)):
                    return fn(*full)
        return self.dispatcher(*args)

    @property
    def dispatcher(self) -> Any:
        """The numba dispatcher (numba is imported and every kernel's module rebound on the first ask)."""
        if self._dispatcher is None:
            use_numba()
        return self._dispatcher

    def __getattr__(self, attr: str) -> Any:  # signatures, overloads, stats, ...: the dispatcher's
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.dispatcher, attr)

    def __repr__(self) -> str:
        return f"<kernel {self.name}>"


@overload
def njit(func: F) -> F: ...


@overload
def njit(func: None = None, **options: Any) -> Callable[[F], F]: ...


def njit(func: Callable[..., Any] | None = None, **options: Any) -> Any:
    """`numba.njit`'s signature: `@njit`, `@njit(cache=True, inline="always")`; typed as the function it wraps
    (a Kernel is called exactly like it). Once numba is loaded, a module
    imported later gets plain numba dispatchers, as compiled code calling them needs."""

    def make(f: Callable[..., Any]) -> Any:
        with _LOCK:
            if _state["numba"]:
                import numba

                return numba.njit(**options)(f)
            return Kernel(f, options)

    return make(func) if func is not None else make


def use_numba() -> None:
    """Import numba, give every kernel its dispatcher and rebind the kernels' modules (once per process)."""
    with _LOCK:
        if _state["numba"]:
            return
        export_cache_dir()  # processes started from here on share it too
        import numba
        from numba.core import types
        from numba.extending import typeof_impl

        if os.environ.get("NUMBA_CACHE_DIR"):  # numba may have read its settings before it was named
            numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # type: ignore[attr-defined]

        @typeof_impl.register(Kernel)
        def _typeof_kernel(val: Kernel, c: Any) -> Any:  # a kernel reached in a way the rebinding missed
            return types.Dispatcher(val.dispatcher)

        for kernel in _KERNELS:
            kernel._dispatcher = numba.njit(**kernel.options)(kernel.py_func)
        _state["numba"] = True
        _rebind({id(k.py_func.__globals__): k.py_func.__globals__ for k in _KERNELS}.values())


def _rebind(namespaces: Sequence[dict[str, Any]] | Any) -> None:
    for names in namespaces:
        for attr, value in list(names.items()):
            if isinstance(value, Kernel):
                names[attr] = value.dispatcher


def numba_loaded() -> bool:
    """Whether this process has needed numba (a call without an ahead-of-time version, or `use_numba`)."""
    return _state["numba"]


def kernels() -> list[Kernel]:
    """Every kernel defined so far (the modules that define them must be imported first)."""
    return list(_KERNELS)


def set_loader(load: Callable[[], None] | None) -> None:
    """Run `load` (which may `install` compiled versions) just before the first kernel call of the process
    (None: run nothing)."""
    with _LOCK:
        _loader[:] = [load] if load is not None else []


def set_cache_dir(where: Callable[[], str | None] | None) -> None:
    """Keep numba's on-disk cache in the folder `where()` names (asked when numba is first needed) unless
    NUMBA_CACHE_DIR says otherwise; None (or `where()` giving None): numba's own choice, next to the sources.

    numba checks a cached kernel only against its own file's time stamp: a kernel it inlines from another file
    can change without the cache noticing. A folder per version of the code cannot be stale.
    """
    with _LOCK:
        _cache_dir[:] = [where] if where is not None else []


def export_cache_dir() -> None:
    """Name numba's cache folder (`set_cache_dir`) in NUMBA_CACHE_DIR now: for processes about to be spawned,
    which do not run this process's set-up."""
    with _LOCK:
        if _cache_dir and not os.environ.get("NUMBA_CACHE_DIR"):
            folder = _cache_dir[0]()
            if folder:
                os.environ["NUMBA_CACHE_DIR"] = folder


def _run_loader() -> None:
    with _LOCK:
        if _loader:
            _loader.pop()()


def install(table: dict[str, list[Compiled]]) -> None:
    """Use these ahead-of-time compiled versions: kernel name → [(argument specs, compiled function)]."""
    global np
    import numpy

    with _LOCK:
        np = numpy
        _COMPILED.clear()
        _COMPILED.update(table)


def installed() -> int:
    """How many ahead-of-time compiled versions are in use."""
    return sum(len(v) for v in _COMPILED.values())


def _matches(spec: ArgSpec, value: Any) -> bool:
    """Whether numba would type `value` exactly as `spec` (the compiled version trusts its argument types)."""
    kind = spec[0]
    if kind == "a":
        return (type(value) is np.ndarray and value.dtype.str == spec[1] and value.ndim == spec[2]
                and _layout(value) == spec[3] and value.flags.writeable == spec[4] and value.flags.aligned)
    if kind == "i":
        return (type(value) is int and spec[1] == "<i8") or (isinstance(value, np.integer)
                                                             and value.dtype.str == spec[1])
    if kind == "f":
        return (type(value) is float and spec[1] == "<f8") or (isinstance(value, np.floating)
                                                               and value.dtype.str == spec[1])
    if kind == "t":  # a tuple of such values (the build's index stores its items as lists)
        return (type(value) is tuple and len(value) == len(spec[1])
                and all(_matches(tuple(item), v) for item, v in zip(spec[1], value, strict=True)))
    return kind == "b" and type(value) in (bool, np.bool_)


def _layout(a: np.ndarray) -> str:
    if a.flags.c_contiguous:
        return "C"
    return "F" if a.flags.f_contiguous else "A"
