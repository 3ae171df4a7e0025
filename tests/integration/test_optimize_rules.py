"""`quantdesk optimize` never crowns a point without (enough) trades, and can skip fast ≥ slow points (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backtesting.test import GOOG
from sweep_support import sma_cross

from app.bootstrap.cli import main

FAST = "entry_long.all[0].left.params.period,entry_short.all[0].left.params.period"
SLOW = "entry_long.all[0].right.params.period,entry_short.all[0].right.params.period"


def optimize(capsys: pytest.CaptureFixture[str], db: Path, files: dict[str, Path], *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "optimize", "--strategy", str(files["sma"]), "--csv", str(files["goog"]),
                 "--workers", "1", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    GOOG.to_csv(tmp_path / "goog.csv")
    (tmp_path / "sma.json").write_text(json.dumps(sma_cross()))
    return {"goog": tmp_path / "goog.csv", "sma": tmp_path / "sma.json"}


def test_a_pair_that_never_crosses_is_not_best_even_with_the_smallest_drawdown(
        capsys: pytest.CaptureFixture[str], db_path: Path, files: dict[str, Path]) -> None:
    # SMA 20 vs SMA 20 never crosses: no trades, a drawdown of 0, the "best" drawdown there is.
    code, out, err = optimize(capsys, db_path, files, "--param", f"{FAST}=10,20", "--param", f"{SLOW}=20",
                              "--objective", "Max. Drawdown [%]", "--min-trades", "1", "--json")
    doc = json.loads(out)
    assert code == 0, err
    never = next(p for p in doc["top"] if p["params"][FAST.replace(",", " = ")] == 20)
    assert never["passed"] is False
    assert doc["best"]["params"][FAST.replace(",", " = ")] == 10 and doc["best"]["stats"]["# Trades"] >= 1
    assert doc["min_trades"] == 1


def test_by_default_a_point_needs_ten_trades_to_rank(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                       files: dict[str, Path]) -> None:
    code, out, _ = optimize(capsys, db_path, files, "--param", f"{FAST}=5:40:5", "--param", f"{SLOW}=200,400",
                            "--objective", "Return [%]", "--top", "16", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["min_trades"] == 10
    trades = {tuple(p["params"]): p["stats"]["# Trades"] for p in _points(capsys, db_path, doc["sweep_id"])}
    verdicts = [(p["passed"], trades[tuple(p["params"].values())] >= 10) for p in doc["top"]]
    assert all(passed == enough for passed, enough in verdicts)
    assert (False, False) in verdicts  # SMA 35 and 40 against 200 trade 9 times: they never rank
    assert verdicts == sorted(verdicts, reverse=True)  # the ones that pass come first
    assert doc["best"]["stats"]["# Trades"] >= 10
    _, text, _ = optimize(capsys, db_path, files, "--param", f"{FAST}=5,10", "--min-trades", "3")
    assert text.splitlines()[1].endswith("; at least 3 trades")


def _points(capsys: pytest.CaptureFixture[str], db: Path, sweep_id: int) -> list[dict]:
    main(["--db", str(db), "sweeps", "show", str(sweep_id), "--json"])
    return list(json.loads(capsys.readouterr().out)["points"])


def test_fast_below_slow_skips_the_points_where_fast_is_not_below_slow_without_running_them(
        capsys: pytest.CaptureFixture[str], db_path: Path, files: dict[str, Path]) -> None:
    code, out, _ = optimize(capsys, db_path, files, "--param", f"{FAST}=10:30:10", "--param", f"{SLOW}=10:30:10",
                            "--fast-below-slow", "--min-trades", "1", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["points"] == 3 and doc["skipped"] == 6
    ran = [tuple(p["params"]) for p in _points(capsys, db_path, doc["sweep_id"])]
    assert sorted(ran) == [(10.0, 20.0), (10.0, 30.0), (20.0, 30.0)]
    _, text, _ = optimize(capsys, db_path, files, "--param", f"{FAST}=10:30:10", "--param", f"{SLOW}=10:30:10",
                          "--fast-below-slow", "--min-trades", "1")
    assert "skipped 6 points with fast not below slow" in text.splitlines()[1]


@pytest.mark.parametrize(("extra", "words"), [
    (["--param", f"{FAST}=5,10", "--min-trades", "0"], "--min-trades must be at least 1"),
    (["--param", f"{FAST}=5,10", "--fast-below-slow"], "fast below slow needs two swept periods"),
    (["--param", f"{FAST}=30,40", "--param", f"{SLOW}=10,20", "--fast-below-slow"],
     "fast below slow leaves none of the 4 points"),
])
def test_unusable_trade_minimums_and_orderings_are_one_clear_line(
        capsys: pytest.CaptureFixture[str], db_path: Path, files: dict[str, Path], extra: list[str],
        words: str) -> None:
    code, out, err = optimize(capsys, db_path, files, *extra)
    assert code == 2 and out == "" and err.startswith("error: ") and words in err
