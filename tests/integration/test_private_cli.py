"""`quantdesk simulator --api-key K --api-secret S --balance ...` provisions an account the private clients can use."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap.cli import main
from infrastructure.exchanges.binance_private import BinancePrivateClient
from infrastructure.exchanges.upbit_private import UpbitPrivateClient
from tests.integration.private_sim import API_KEY, SECRET

ROOT = Path(__file__).resolve().parents[2]


async def test_the_simulator_command_serves_an_account_with_the_given_balances() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "simulator", "--port", "0", "--api-key", API_KEY, "--api-secret", SECRET,
        "--balance", "USDT=2500,KRW=750000", "--speed", "10", cwd=ROOT, stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        second = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url is not None, first
        binance = BinancePrivateClient(API_KEY, SECRET, url.group(0))
        upbit = UpbitPrivateClient(API_KEY, SECRET, url.group(0))
        try:
            wallet = (await binance.account())["totalWalletBalance"]
            krw = {b.currency: b.free for b in await upbit.balances()}["KRW"]
        finally:
            await binance.aclose()
            await upbit.aclose()
    finally:
        proc.terminate()
        await proc.wait()
    assert (float(wallet), krw) == (2500.0, 750_000.0)
    assert "USDT 2,500" in second and SECRET not in first + second


@pytest.mark.parametrize(("args", "words"), [
    (["--api-key", "k", "--api-secret", "s", "--balance", "USDT=lots"], "--balance: 'USDT=lots'"),
    (["--api-key", "k"], "--api-key and --api-secret go together"),
    (["--speed", "0"], "argument --speed: '0' is not a positive number"),
])
def test_bad_simulator_options_are_named_in_the_error(args: list[str], words: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["simulator", "--port", "0", *args])
    except SystemExit as refused_by_argparse:  # option types are checked while parsing
        code = int(refused_by_argparse.code or 0)
    assert code == 2
    assert words in capsys.readouterr().err
