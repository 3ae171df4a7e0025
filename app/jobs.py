"""Work on a background thread with cancel and wait: the shape shared by backtest runs and sweeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BackgroundJob(Generic[T]):
    """Runs `target(cancel_event)` on a daemon thread. `cancel()` sets the event (the target decides what
    stopping means); `wait()` returns the target's result or raises what it raised."""

    def __init__(self, target: Callable[[threading.Event], T], name: str) -> None:
        self.cancel_event = threading.Event()
        self._done = threading.Event()
        self._outcome: list[T] = []
        self._error: BaseException | None = None
        self._what = name
        self._thread = threading.Thread(target=self._main, args=(target,), daemon=True, name=name)
        self._thread.start()

    def _main(self, target: Callable[[threading.Event], T]) -> None:
        try:
            self._outcome.append(target(self.cancel_event))
        except BaseException as err:  # handed to wait()
            self._error = err
        finally:
            self._done.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> T:
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self._what} still running")
        if self._error is not None:
            raise self._error
        return self._outcome[0]
