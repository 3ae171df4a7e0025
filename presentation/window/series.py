"""Chart loading: a stored series read and its level-of-detail pyramid built off the UI thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.errors import UserError
from domain.market import CandleSeries, SeriesKey
from presentation.chart.lod import OhlcPyramid
from presentation.services import Services

log = logging.getLogger("quantdesk.gui")
Draw = Callable[[SeriesKey, CandleSeries, "OhlcPyramid | None", bool], None]


class SeriesLoader:
    """Reads series for the chart; `draw(key, series, pyramid, keep_view)` shows one, `report(text, ms)` says
    what happens in the status bar. A newer request cancels an older one."""

    def __init__(self, services: Services, draw: Draw, report: Callable[[str, int], None]) -> None:
        self.services = services
        self.draw = draw
        self.report = report
        self._task: asyncio.Task[None] | None = None

    @property
    def loading(self) -> asyncio.Task[None] | None:
        """The pending series load, if one is running."""
        return self._task if self._task is not None and not self._task.done() else None

    def show_now(self, key: SeriesKey, keep_view: bool = False) -> None:
        """Read `key` and draw it now, on this thread (start-up restore, scripts)."""
        try:
            series = self.services.load(key)
        except UserError as err:
            self._failed(err)
            return
        self.draw(key, series, None, keep_view)

    def load(self, key: SeriesKey, keep_view: bool = False) -> asyncio.Task[None] | None:
        """Read the bars and build the pyramid in a worker thread (a year of 1m bars is 30-90 ms of SQLite and
        numpy, both releasing the GIL), then draw them on the UI thread. Without a running loop (scripts, some
        tests) it draws now."""
        self.cancel()
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or not loop.is_running():
            self.show_now(key, keep_view)
            return None
        self.report(f"{key}: loading…", 0)
        self._task = loop.create_task(self._load(key, keep_view), name=f"load-{key}")
        return self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _load(self, key: SeriesKey, keep_view: bool) -> None:
        try:
            series, pyramid = await asyncio.to_thread(self._read_and_prepare, key)
        except UserError as err:
            self._failed(err)
            return
        self.draw(key, series, pyramid, keep_view)

    def _read_and_prepare(self, key: SeriesKey) -> tuple[CandleSeries, OhlcPyramid]:
        series = self.services.load(key)
        return series, OhlcPyramid(series.ts, series.open, series.high, series.low, series.close, series.volume)

    def _failed(self, err: UserError) -> None:
        self.report(str(err), 8000)
        log.error("%s", err)
