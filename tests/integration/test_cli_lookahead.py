"""`quantdesk strategy check-lookahead` through the real CLI: CSV and stored candles, a caught leak, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import domain.strategy.evaluation as evaluation
from app.bootstrap.cli import main
from domain.indicators import CATALOG
from domain.market import CandleSeries


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def trend_filter() -> dict[str, Any]:
    """5-minute SMA crosses, only with the 1-hour close above its own SMA(10)."""
    fast, slow = {"var": "sma", "params": {"period": 3}}, {"var": "ema", "params": {"period": 8}}
    hourly = {"left": {"var": "close", "timeframe": "1h"}, "op": "gt",
              "right": {"var": "sma", "params": {"period": 10}, "timeframe": "1h"}}
    return {"schema": 2, "name": "Hourly trend", "direction": "long_only",
            "entry_long": {"all": [{"left": fast, "op": "crosses_above", "right": slow}, hourly]},
            "exit_long": {"all": [{"left": fast, "op": "crosses_below", "right": slow}]},
            "risk": {"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2}}}}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(8)
    n = 12 * 24 * 8
    close = np.round(1000 * np.exp(np.cumsum(rng.normal(0, 0.003, n))), 1)
    open_ = np.r_[close[0], close[:-1]]
    ts = 1_704_067_200_000 + np.arange(n) * 300_000
    lines = ["time,open,high,low,close,volume"]
    lines += [f"{t},{o},{max(o, c) + 0.5},{min(o, c) - 0.5},{c},{v:.3f}"
              for t, o, c, v in zip(ts, open_, close, rng.uniform(1, 9, n), strict=True)]
    (tmp_path / "bars.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "trend.json").write_text(json.dumps(trend_filter()))
    return {"csv": tmp_path / "bars.csv", "strategy": tmp_path / "trend.json"}


def test_a_multi_timeframe_strategy_on_a_csv_file_passes(capsys: pytest.CaptureFixture[str],
                                                         files: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "strategy", "check-lookahead", str(files["strategy"]), "--csv", str(files["csv"]))
    assert code == 0
    first, last = out.strip().splitlines()[0], out.strip().splitlines()[-1]
    assert first.startswith("look-ahead check: Hourly trend on ") and "(5m), 2304 bars, " in first
    assert last.startswith("ok: no change in ") and "CHANGED" not in out


def test_stored_candles_are_checked_with_more_cuts(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                                   db_path: Path) -> None:
    assert run(capsys, "--db", str(db_path), "import-csv", str(files["csv"]), "--exchange", "csv",
               "--market", "BARS", "--quiet")[0] == 0
    code, out, _ = run(capsys, "--db", str(db_path), "strategy", "check-lookahead", str(files["strategy"]),
                       "--exchange", "csv", "--market", "BARS", "--timeframe", "5m", "--cuts", "20", "--seed", "4")
    assert code == 0 and out.strip().splitlines()[-1].startswith("ok: ")
    assert int(out.splitlines()[0].rsplit(", ", 1)[1].split()[0]) >= 20


def test_a_leaking_indicator_exits_non_zero_and_names_the_bar_and_the_signal(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def next_bar_sma(series: CandleSeries, params: Any) -> dict[str, np.ndarray]:
        p = int(params["period"])
        ahead = np.r_[series.close[1:], np.nan]
        out = np.full(len(series), np.nan)
        csum = np.cumsum(np.r_[0.0, ahead])
        out[p - 1:] = (csum[p:] - csum[:-p]) / p
        return {"value": out}

    leaky = replace(CATALOG["sma"], compute_fn=next_bar_sma, compute_some_fn=None)
    monkeypatch.setattr(evaluation, "CATALOG", {**CATALOG, "sma": leaky})
    code, out, _ = run(capsys, "strategy", "check-lookahead", str(files["strategy"]), "--csv", str(files["csv"]))
    assert code == 1
    changed = [line for line in out.splitlines() if line.startswith("CHANGED ")]
    assert changed and out.strip().splitlines()[-1].startswith("FAILED: ")
    assert any(" signal at 2024-01-" in line and " on all the data, " in line and "with the data cut after 2024-01-"
               in line for line in changed)


@pytest.mark.parametrize(("extra", "fragment"), [
    (["--cuts", "0"], "--cuts: must be between 1 and 1000, got 0"),
    (["--exchange", "csv"], "give either --csv FILE or --exchange E --market M --timeframe TF"),
])
def test_bad_options_are_refused_with_one_clear_line(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                                     extra: list[str], fragment: str) -> None:
    code, _, err = run(capsys, "strategy", "check-lookahead", str(files["strategy"]), "--csv", str(files["csv"]),
                       *extra)
    assert code != 0 and fragment in err and "Traceback" not in err


def test_a_higher_timeframe_that_is_not_a_multiple_of_the_data_is_refused_naming_it(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path) -> None:
    doc = trend_filter()
    doc["entry_long"]["all"][1]["left"]["timeframe"] = "1m"
    path = tmp_path / "finer.json"
    path.write_text(json.dumps(doc))
    code, _, err = run(capsys, "strategy", "check-lookahead", str(path), "--csv", str(files["csv"]))
    assert code != 0 and "cannot run on" in err and "1m" in err
