"""Which threads may be left behind when a process forks: a forked child has only the forking thread, so
forking is safe only when every other thread has said it holds nothing the child could need."""

from __future__ import annotations

import threading
import weakref

_SAFE: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def mark_fork_safe(thread: threading.Thread) -> None:
    """`thread` pauses its work around a fork (os.register_at_fork), so a child never inherits it mid-way."""
    _SAFE.add(thread)


def fork_is_safe() -> bool:
    """True when every thread but this one has been marked fork-safe (no Qt, no event loop, no worker)."""
    me = threading.current_thread()
    return all(t is me or t in _SAFE for t in threading.enumerate())
