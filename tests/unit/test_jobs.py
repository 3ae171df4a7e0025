"""BackgroundJob: a result, an error, a timeout and a cancel reach the caller as they should."""

from __future__ import annotations

import threading

import pytest

from app.jobs import BackgroundJob


def test_wait_returns_the_targets_result_even_when_it_is_none() -> None:
    assert BackgroundJob(lambda _c: 42, "answer").wait(5) == 42
    job: BackgroundJob[None] = BackgroundJob(lambda _c: None, "nothing")
    assert job.wait(5) is None and job.done


def test_wait_raises_what_the_target_raised() -> None:
    def boom(_c: threading.Event) -> int:
        raise ValueError("bad input at row 3")

    with pytest.raises(ValueError, match="row 3"):
        BackgroundJob(boom, "boom").wait(5)


def test_a_job_still_running_times_out_by_name_and_stops_when_cancelled() -> None:
    started = threading.Event()

    def until_cancelled(cancel: threading.Event) -> str:
        started.set()
        return "stopped" if cancel.wait(10) else "ran out"

    job = BackgroundJob(until_cancelled, "sweep")
    assert started.wait(5)
    with pytest.raises(TimeoutError, match="sweep still running"):
        job.wait(0.05)
    assert not job.done and not job.cancelled
    job.cancel()
    assert job.cancelled and job.wait(5) == "stopped"
