"""`quantdesk live` end to end: a subprocess trading against the simulator on 127.0.0.1 with keys in a file keyring."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap.cli import main
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator
from tests.keyring_backend import FileKeyring

ROOT = Path(__file__).parents[2]
STRATEGY = {
    "schema": 1, "name": "SMA 2/4 cross", "direction": "long_short",
    "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_above",
                            "right": {"var": "sma", "params": {"period": 4}}}]},
    "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_below",
                             "right": {"var": "sma", "params": {"period": 4}}}]},
    "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 40, "stop_loss_pct": 3, "take_profit_pct": None, "trailing_stop_pct": None},
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A file keyring holding the simulator account's keys, shared with the child process."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.FileKeyring")
    monkeypatch.setenv("QUANTDESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    ring = FileKeyring()
    ring.set_password("QuantDesk", "binance:key", API_KEY)
    ring.set_password("QuantDesk", "binance:secret", SECRET)
    ring.set_password("QuantDesk", "upbit:key", API_KEY)
    ring.set_password("QuantDesk", "upbit:secret", SECRET)
    (tmp_path / "cross.json").write_text(json.dumps(STRATEGY))
    return {**os.environ, "QUANTDESK_DB": str(tmp_path / "q.db")}


async def quantdesk(env: dict[str, str], *argv: str, timeout: float = 90) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", *argv, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return int(proc.returncode or 0), out.decode(), err.decode()


def live_args(tmp_path: Path, url: str, *extra: str) -> list[str]:
    return ["live", "--strategy", str(tmp_path / "cross.json"), "--exchange", "binance", "--market", "BTCUSDT",
            "--confirm", "BTCUSDT", "--base-url", url, "--log-dir", str(tmp_path / "logs"), *extra]


def artefacts(tmp_path: Path) -> bytes:
    """Every file the sessions wrote: the database (and its WAL), the logs and the audit trail."""
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.name != "keyring.json")


async def test_a_live_session_survives_a_dropped_answer_resumes_with_the_exchanges_position_and_is_killed(
        tmp_path: Path, env: dict[str, str]) -> None:
    outputs: list[str] = []
    async with private_simulator(speed=900) as sim:
        sim.private.script_fault("accept_drop")  # the first order is accepted and its answer lost
        code, out, err = await quantdesk(env, *live_args(tmp_path, sim.url, "--duration", "8s"))
        outputs += [out, err]
        first = await exchange_state(sim)
        code2, out2, err2 = await quantdesk(env, *live_args(tmp_path, sim.url, "--duration", "3s", "--resume"))
        outputs += [out2, err2]
        code3, status, err3 = await quantdesk(env, "live", "status", "--json", "--base-url", sim.url)
        code4, killed, err4 = await quantdesk(env, "live", "kill", "--exchange", "binance", "--market", "BTCUSDT",
                                              "--base-url", sim.url)
        outputs += [status, err3, killed, err4]
        last = await exchange_state(sim)
    assert (code, code2, code3, code4) == (0, 0, 0, 0), err + err2 + err3 + err4
    assert "LIVE TRADING — REAL ORDERS on BINANCE BTCUSDT" in out and "held by the exchange" in out
    ids = [o["client_id"] for o in first["orders"]]
    assert len(ids) >= 2 and len(ids) == len(set(ids))  # the dropped answer did not make a second order
    position = sum(p["amount"] for p in first["positions"])
    assert f"reconciled: position {position:g}, " in out2 and "HALTED" not in out2
    report: dict[str, Any] = json.loads(status)
    assert [s["session_id"] for s in report["sessions"]] == ["SMA24cross-BTCUSDT-1m"]
    assert "KILL SWITCH binance BTCUSDT" in killed and "NOT CLEAN" not in killed
    assert last["open_orders"] == [] and all(p["amount"] == 0 for p in last["positions"])
    assert all(SECRET not in text for text in outputs)
    assert SECRET.encode() not in artefacts(tmp_path)
    kinds = {json.loads(line)["kind"] for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()}
    assert {"ExchangeRequest", "ExchangeAnswer", "OrderPlaced", "StopPlaced", "OrderUpdate", "Reconciled"} <= kinds


async def test_a_breached_daily_loss_limit_halts_the_session(tmp_path: Path, env: dict[str, str]) -> None:
    async with private_simulator(speed=900) as sim:
        code, out, err = await quantdesk(env, *live_args(tmp_path, sim.url, "--duration", "6s",
                                                         "--daily-loss-limit", "0.5"))
        state = await exchange_state(sim)
        code2, out2, err2 = await quantdesk(env, *live_args(tmp_path, sim.url, "--duration", "3s", "--resume"))
        resumed = await exchange_state(sim)
    assert code == 0 and code2 == 0, err + err2
    assert "SessionHalted" in out and "daily loss limit" in out and "HALTED" in out
    records = [json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    halt = next(i for i, r in enumerate(records) if r["kind"] == "SessionHalted")
    after = [r for r in records[halt:] if r["kind"] == "OrderPlaced"]
    assert all(r["reduce_only"] for r in after)  # once halted, only exits are sent
    assert "is HALTED (the day's loss" in out2  # a halt lasts until the user resets it
    entries = [o["client_id"] for o in state["orders"] if not o["reduce_only"] and o["type"] == "MARKET"]
    assert [o["client_id"] for o in resumed["orders"] if not o["reduce_only"] and o["type"] == "MARKET"] == entries


def test_live_refuses_without_keys_and_without_confirming_the_market(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--db", str(tmp_path / "q.db"), "live", "--strategy", str(tmp_path / "cross.json"), "--exchange",
            "binance", "--market", "BTCUSDT"]
    assert main(args) == 2
    assert "add --confirm BTCUSDT" in capsys.readouterr().err
    FileKeyring().delete_password("QuantDesk", "binance:key")
    assert main([*args, "--confirm", "BTCUSDT", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "no binance API keys stored" in capsys.readouterr().err


async def test_a_second_ctrl_c_runs_the_kill_switch(tmp_path: Path, env: dict[str, str]) -> None:
    async with private_simulator(speed=900) as sim:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", *live_args(tmp_path, sim.url),
                                                    cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        while b"OrderPlaced" not in await asyncio.wait_for(proc.stdout.readline(), 60):
            pass  # trading: at least one order is at the exchange
        proc.send_signal(signal.SIGINT)
        await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        state = await exchange_state(sim)
    assert proc.returncode == 0, err.decode()
    assert "KILL SWITCH binance BTCUSDT" in out.decode() and "NOT CLEAN" not in out.decode()
    assert state["open_orders"] == [] and all(p["amount"] == 0 for p in state["positions"])


async def test_on_upbit_the_banner_and_the_status_say_the_stop_is_local_and_no_stop_order_is_sent(
        tmp_path: Path, env: dict[str, str]) -> None:
    async with private_simulator(speed=900) as sim:
        code, out, err = await quantdesk(env, "live", "--strategy", str(tmp_path / "cross.json"), "--exchange", "upbit",
                                         "--market", "KRW-BTC", "--confirm", "KRW-BTC", "--base-url", sim.url,
                                         "--log-dir", str(tmp_path / "logs"), "--duration", "6s")
        code2, status, err2 = await quantdesk(env, "live", "status", "--json", "--base-url", sim.url)
        state = await exchange_state(sim)
    assert (code, code2) == (0, 0), err + err2
    assert "REAL ORDERS on UPBIT KRW-BTC" in out and "protective stops held LOCALLY" in out
    assert "short entries only close the long position" in err
    assert "LocalStopArmed" in out
    (session,) = json.loads(status)["sessions"]
    assert session["stop_held_by"] == "local" and session["market"] == "KRW-BTC"
    assert {o["type"] for o in state["orders"]} == {"price", "market"}  # market buys and sells; no stop order
    assert SECRET not in out + err + status
