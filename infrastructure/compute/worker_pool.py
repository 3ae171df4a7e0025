"""Spawned worker processes kept warm between runs, so imports and numba loading are paid once."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
from collections.abc import Callable
from typing import Any

from app.backtests import ports


class Worker:
    """One spawned process and the parent's end of its duplex pipe."""

    def __init__(self, target: Callable[[Any], None], name: str) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=target, args=(child,), daemon=True, name=name)
        self.process.start()
        child.close()

    @property
    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def kill(self) -> None:
        """Stop it now (cancel or failure)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        """Ask it to finish, then make sure it has."""
        with contextlib.suppress(OSError, ValueError):  # already gone
            self.conn.send(None)
        self.process.join(timeout=2)
        self.kill()


class WorkerPool:
    """Hands out idle workers or spawns new ones; keeps at most `max_idle` warm ones between runs."""

    def __init__(self, target: Callable[[Any], None], name: str = "quantdesk-worker", max_idle: int = 1) -> None:
        self._target = target
        self._name = name
        self._max_idle = max_idle
        self._idle: list[ports.Worker] = []
        self._lock = threading.Lock()

    def acquire(self) -> ports.Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                worker.kill()
        return Worker(self._target, self._name)

    def release(self, worker: ports.Worker) -> None:
        """Return a worker that finished cleanly; extra ones are stopped."""
        with self._lock:
            if worker.alive and len(self._idle) < self._max_idle:
                self._idle.append(worker)
                return
        worker.stop()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
