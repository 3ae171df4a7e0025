"""Market bars around (re)connects: suspended until a whole minute is seen, the gap fetched, nothing twice."""

from __future__ import annotations

from app.live.bars import MarketBars
from domain.market import Candle, CandleSeries, Timeframe

M = 60_000
T0 = 1_700_000_040_000 - 1_700_000_040_000 % (5 * M)


class FakeRest:
    """REST bars: one per minute, close = the minute number; records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    async def __call__(self, symbol: str, tf: Timeframe, start: int, end: int) -> CandleSeries:
        self.asked.append((start, end))
        ts = list(range(start, end, M))
        c = [float((t - T0) // M) for t in ts]
        return CandleSeries.from_columns(Timeframe.M1, ts, c, c, c, c, [1.0] * len(ts))


async def test_a_fresh_stream_fetches_the_bars_since_the_history_and_resumes_at_the_first_whole_minute() -> None:
    rest = FakeRest()
    bars = MarketBars("demo", "X", rest)
    assert await bars.join(Timeframe.M1, T0 - M) == []  # history ends with the bar before T0
    assert await bars.on_trade(T0 + 2 * M + 30_000, 1.0, 1.0) == []  # joined mid-minute: boundary = T0+3m
    assert await bars.on_trade(T0 + 2 * M + 50_000, 1.0, 1.0) == []
    out = await bars.on_trade(T0 + 3 * M + 1, 7.0, 1.0)
    assert rest.asked == [(T0, T0 + 3 * M)]
    assert [b.ts for _, b in out] == [T0, T0 + M, T0 + 2 * M]
    closed = await bars.on_trade(T0 + 4 * M, 8.0, 1.0)
    assert closed == [(Timeframe.M1, Candle(T0 + 3 * M, 7.0, 7.0, 7.0, 7.0, 1.0))]


async def test_a_drop_discards_the_forming_bar_and_the_repair_refetches_it_with_the_gap() -> None:
    rest = FakeRest()
    bars = MarketBars("demo", "X", rest)
    await bars.join(Timeframe.M1, T0 - M)
    await bars.on_trade(T0 + 10, 1.0, 1.0)
    await bars.on_trade(T0 + M, 1.0, 1.0)  # repair of [T0, T0+1m)
    await bars.on_trade(T0 + 2 * M + 5, 2.0, 1.0)  # closes T0+1m live; T0+2m forming
    bars.disconnected()
    assert await bars.on_trade(T0 + 5 * M + 5, 3.0, 1.0) == []  # back: boundary T0+6m
    out = await bars.on_trade(T0 + 6 * M + 5, 3.0, 1.0)
    assert rest.asked[-1] == (T0 + 2 * M, T0 + 6 * M)
    assert [b.ts for _, b in out] == [T0 + 2 * M, T0 + 3 * M, T0 + 4 * M, T0 + 5 * M]


async def test_a_higher_timeframe_session_joining_a_running_stream_gets_whole_bars_only() -> None:
    rest = FakeRest()
    bars = MarketBars("demo", "X", rest)
    await bars.join(Timeframe.M1, T0 - M)
    await bars.on_trade(T0 + 10, 1.0, 1.0)
    await bars.on_trade(T0 + M, 1.0, 1.0)
    for k in range(2, 8):
        await bars.on_trade(T0 + k * M, 1.0, 1.0)  # 1m bars up to T0+6m closed live
    missed = await bars.join(Timeframe.M5, T0 - 5 * M)
    assert [b.ts for b in missed] == [T0]  # the 5m bar [T0, T0+5m) from REST 1m bars
    five = [b for k in range(8, 11) for tf, b in await bars.on_trade(T0 + k * M, 1.0, 1.0) if tf is Timeframe.M5]
    assert [b.ts for b in five] == [T0 + 5 * M]
    assert five[0].volume == 5.0  # all five minutes, the early ones from REST


async def test_the_synchronous_hot_path_defers_to_the_repair_while_suspended() -> None:
    rest = FakeRest()
    bars = MarketBars("demo", "X", rest)
    await bars.join(Timeframe.M1, T0 - M)
    assert bars.add_trade(T0 + 10, 1.0, 1.0) is None  # suspended: the caller must await on_trade
    assert rest.asked == []
    await bars.on_trade(T0 + 10, 1.0, 1.0)
    await bars.on_trade(T0 + M, 2.0, 1.0)  # the repair; the stream is live from here
    assert bars.add_trade(T0 + M + 5, 3.0, 0.5) == []  # same minute: nothing closes
    closed = bars.add_trade(T0 + 2 * M, 4.0, 1.0)
    assert closed == [(Timeframe.M1, Candle(T0 + M, 2.0, 3.0, 2.0, 3.0, 1.5))]
    bars.disconnected()
    assert bars.add_trade(T0 + 3 * M, 5.0, 1.0) is None
