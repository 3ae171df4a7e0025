"""`quantdesk paper --leverage/--margin`: spot markets refuse them before anything trades."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap.cli import main


@pytest.mark.parametrize(("exchange", "market", "extra", "message"), [
    ("upbit", "KRW-BTC", ["--leverage", "5"], "leverage: upbit trades spot only, so leverage must be 1 (got 5)"),
    ("demo", "KRW-BTC", ["--margin", "cross"], "margin: demo trades spot, there is no margin mode to choose"),
    ("binance", "BTCUSDT", ["--leverage", "500"], "leverage: binance BTCUSDT allows 1..125, got 500"),
])
def test_paper_refuses_leverage_or_margin_the_market_cannot_take(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], exchange: str, market: str, extra: list[str],
        message: str) -> None:
    code = main(["--db", str(tmp_path / "q.db"), "paper", "--strategy", "SMA 10/20 cross", "--exchange", exchange,
                 "--market", market, "--base-url", "http://127.0.0.1:9", "--duration", "1s", *extra])
    err = capsys.readouterr().err
    assert code != 0 and message in err
