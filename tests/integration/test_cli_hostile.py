"""Hostile and clumsy command lines: one `error:` line, a non-zero exit, no traceback, the database untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.bootstrap.cli import main
from app.commands.common import printable
from app.errors import redact_url

ROOT = Path(__file__).parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own refusals
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str) -> bool:
    """Non-zero, exactly one line saying error:, and no traceback."""
    return code != 0 and sum("error:" in line for line in err.splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(autouse=True)
def empty_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """No exchange keys, whatever this machine's own keyring holds."""
    from tests.keyring_backend import MemoryKeyring

    MemoryKeyring.entries.clear()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.MemoryKeyring")


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "q.db"
    assert run(capsys, "--db", str(path), "strategy", "list")[0] == 0  # a real database with the samples
    return path


CASES = [
    ("port out of range", ["simulator", "--port", "70000"]),
    ("speed zero", ["paper", "--strategy", "x", "--market", "KRW-BTC", "--speed", "0"]),
    ("speed negative", ["simulator", "--speed", "-2"]),
    ("negative gaps", ["db", "info", "--gaps", "-2"]),
    ("not an http url", ["collect", "--exchange", "upbit", "--market", "KRW-BTC", "--start", "2024-01-01",
                         "--base-url", "ftp://example.com"]),
    ("a url without a host", ["markets", "--exchange", "binance", "--base-url", "http://"]),
    ("whole-series delete without --all", ["db", "delete", "--exchange", "demo", "--market", "KRW-BTC",
                                           "--timeframe", "1m"]),
    ("import a missing file", ["import-csv", "/no/such/file.csv", "--exchange", "csv", "--market", "X"]),
    ("import a folder", ["import-csv", "/tmp", "--exchange", "csv", "--market", "X"]),
    ("no such stored run", ["backtest-runs", "show", "999"]),
    ("no such stored sweep", ["sweeps", "show", "999"]),
    ("optimize a path that is not in the strategy", ["optimize", "--strategy", "SMA 10/20 cross", "--exchange", "demo",
                                                     "--market", "KRW-BTC", "--timeframe", "1m", "--param",
                                                     "entry_long.nothing=1:3"]),
    ("validate a missing strategy file", ["strategy", "validate", "/no/such.json"]),
    ("funding from a missing file", ["import-funding", "/no/such.csv", "--exchange", "binance", "--market", "BTCUSDT"]),
    ("funding for a spot exchange", ["collect-funding", "--exchange", "upbit", "--market", "KRW-BTC", "--start",
                                     "2024-01-01", "--base-url", "http://127.0.0.1:9"]),
    ("freqtrade from a missing folder", ["import-freqtrade", "/no/such/folder"]),
    ("live without arming", ["live", "--strategy", "SMA 10/20 cross", "--exchange", "binance", "--market",
                             "BTCUSDT", "--timeframe", "1m"]),
    ("live armed for another market", ["live", "--strategy", "SMA 10/20 cross", "--exchange", "binance", "--market",
                                       "BTCUSDT", "--timeframe", "1m", "--confirm", "ETHUSDT"]),
    ("kill with no keys", ["live", "kill", "--exchange", "binance", "--market", "BTCUSDT",
                           "--base-url", "http://127.0.0.1:9"]),
    ("unknown timeframe", ["export-csv", "--exchange", "demo", "--market", "KRW-BTC", "--timeframe", "7m"]),
    ("no such strategy", ["backtest", "--strategy", "No such strategy", "--exchange", "demo", "--market", "X",
                          "--timeframe", "1m"]),
    # our own, beyond the report's list
    ("keys for an unknown exchange", ["keys", "delete", "--exchange", "nowhere"]),
    ("export a series that is not stored", ["export-csv", "--exchange", "demo", "--market", "NOPE", "--timeframe",
                                            "1m", "-o", "/tmp/never-written.csv"]),
    ("delete a run that does not exist", ["backtest-runs", "delete", "999"]),
    ("export a strategy that does not exist", ["strategy", "export", "No such strategy"]),
    ("collect a range that ends before it starts", ["collect", "--exchange", "demo", "--market", "KRW-BTC",
                                                    "--start", "2024-02-01", "--end", "2024-01-01"]),
    ("a start that is not a time", ["collect", "--exchange", "demo", "--market", "KRW-BTC",
                                    "--start", "yesterday-ish"]),
    ("paper for a duration that is not one", ["paper", "--strategy", "SMA 10/20 cross", "--market", "KRW-BTC",
                                              "--duration", "soon"]),
    ("a negative cash", ["backtest", "--strategy", "SMA 10/20 cross", "--exchange", "demo", "--market", "KRW-BTC",
                         "--timeframe", "1m", "--cash", "-5"]),
    ("an optimize parameter without a range", ["optimize", "--strategy", "SMA 10/20 cross", "--exchange", "demo",
                                               "--market", "KRW-BTC", "--timeframe", "1m", "--param", "period"]),
    ("a new paper session over a kept one, resumed at once", ["paper", "--resume", "--new-session", "--speed", "-1"]),
]


@pytest.mark.parametrize(("name", "argv"), CASES, ids=[c[0] for c in CASES])
def test_a_mistake_is_one_error_line_and_the_database_is_unchanged(
        capsys: pytest.CaptureFixture[str], db: Path, name: str, argv: list[str]) -> None:
    before = db.read_bytes()
    t = time.perf_counter()
    code, _out, err = run(capsys, "--db", str(db), *argv)
    assert refused(code, err), (name, code, err)
    assert time.perf_counter() - t < 10  # refused at once, not retried
    assert db.read_bytes() == before


def test_a_strategy_with_a_key_twice_is_refused_not_silently_the_last(
        capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    doc = tmp_path / "twice.json"
    doc.write_text('{"schema": 1, "name": "A", "name": "B", "direction": "long_only", '
                   '"entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 1}}]}}')
    code, _out, err = run(capsys, "--db", str(db), "strategy", "import", str(doc))
    assert code != 0 and "'name' appears twice" in err and "Traceback" not in err


def test_a_device_or_a_huge_file_is_not_read_forever(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    t = time.perf_counter()
    code, _out, err = run(capsys, "--db", str(db), "strategy", "import", "/dev/zero")
    assert refused(code, err) and "larger than 10 MB" in err and time.perf_counter() - t < 10


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(db: Path) -> None:
    cmd = f'"{sys.executable}" -m app --db "{db}" strategy list | head -c 10 > /dev/null; exit ${{PIPESTATUS[0]}}'
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_credentials_in_a_url_and_control_characters_in_names_are_never_printed_raw() -> None:
    assert redact_url("http://trader:s3cret@127.0.0.1:9/x") == "http://***@127.0.0.1:9/x"
    assert redact_url("http://trader:s3cret@127.0.0.1:99999") == "http://***@127.0.0.1:99999"
    assert printable("KRW-BTC\x1b[2J") == "KRW-BTC\\x1b[2J"


def test_duplicate_markets_are_collected_once(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    from app.bootstrap.cli import build_parser
    from app.commands.market import _jobs

    args = build_parser(["collect"]).parse_args(["collect", "--exchange", "demo", "--market", "KRW-BTC,KRW-BTC",
                                                 "--market", "KRW-BTC", "--start", "2024-01-01"])
    assert [j.market for j in _jobs(args)] == ["KRW-BTC"]
    assert json.dumps(True)  # keep json imported for the case table's readers


@pytest.mark.parametrize(("name", "body"), [
    ("an epoch of 1e30", "1e30,1,2,0.5,1.5,10\n1704067260000,1,2,0.5,1.5,10\n1704067320000,1,2,0.5,1.5,10\n"),
    ("a field over 128 KB", f"1704067200000,1,2,0.5,1.5,{'9' * 200_000}\n1704067260000,1,2,0.5,1.5,10\n"),
    ("a zero price", "1704067200000,0,2,0,1.5,10\n1704067260000,1,2,0.5,1.5,10\n1704067320000,1,2,0.5,1.5,10\n"),
    ("high below the close", "1704067200000,1,1.2,0.5,1.5,10\n1704067260000,1,2,0.5,1.5,10\n"),
    ("a negative price", "1704067200000,-1,2,-1,1.5,10\n1704067260000,1,2,0.5,1.5,10\n"),
])
def test_a_bad_candle_file_names_its_line_and_stores_nothing(
        capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,open,high,low,close,volume\n" + body)
    before = db.read_bytes()
    code, _out, err = run(capsys, "--db", str(db), "import-csv", str(path), "--exchange", "csv", "--market", "X")
    assert refused(code, err) and f"{path}:2" in err, (name, err)
    assert db.read_bytes() == before


def test_a_strategy_file_with_no_strategy_in_it_is_refused_not_reported_as_an_import(
        capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    before = db.read_bytes()
    code, out, err = run(capsys, "--db", str(db), "strategy", "import", str(empty))
    assert refused(code, err) and "no strategy in it" in err and str(empty) in err and out == ""
    assert db.read_bytes() == before
