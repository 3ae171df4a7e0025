"""`quantdesk paper` end to end against the built-in simulator, and its bad-input messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.bootstrap.cli import main


def test_paper_on_the_demo_exchange_prints_a_summary_and_metrics_and_writes_the_audit_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", str(tmp_path / "q.db"), "paper", "--strategy", "SMA 10/20 cross", "--market", "KRW-BTC",
                 "--timeframe", "1m", "--duration", "4s", "--speed", "300", "--metrics",
                 "--log-dir", str(tmp_path / "logs")])
    out = capsys.readouterr().out
    assert code == 0
    assert "paper session SMA 10/20 cross · KRW-BTC · 1m" in out
    assert "equity" in out and "return" in out
    assert "tick_to_signal" in out and "queue orders" in out and "feed demo:KRW-BTC" in out
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    assert kinds[0] == "SessionStarted" and "SessionFlattened" in kinds


def test_paper_without_a_market_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(tmp_path / "q.db"), "paper", "--strategy", "SMA 10/20 cross"]) == 2
    assert "paper needs --strategy and --market" in capsys.readouterr().err


def test_paper_with_an_unknown_strategy_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(tmp_path / "q.db"), "paper", "--strategy", "Nope", "--market", "KRW-BTC",
                 "--duration", "1s", "--log-dir", str(tmp_path / "logs")]) == 2
    assert "no strategy file or stored strategy named 'Nope'" in capsys.readouterr().err


def test_a_bad_duration_is_rejected_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["paper", "--strategy", "x", "--market", "KRW-BTC", "--duration", "soon"])
    assert "invalid duration 'soon'" in capsys.readouterr().err
