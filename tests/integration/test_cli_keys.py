"""`quantdesk keys` stores keys in the keyring only: never echoed, never written anywhere else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infrastructure.keys import mask

KEY, SECRET = "AbCdEfGh" * 8, "sEcReT" * 10


def keys(tmp_path: Path, *argv: str, stdin: str = "",
         backend: str = "tests.keyring_backend.FileKeyring") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": backend,
           "QUANTDESK_TEST_KEYRING": str(tmp_path / "keyring.json"), "QUANTDESK_DB": str(tmp_path / "q.db")}
    return subprocess.run([sys.executable, "-m", "app", "keys", *argv], input=stdin, capture_output=True, text=True,
                          env=env, cwd=Path(__file__).parents[2], timeout=60)


def test_keys_are_read_from_two_stdin_lines_listed_masked_and_deleted(tmp_path: Path) -> None:
    stored = keys(tmp_path, "set", "--exchange", "binance", stdin=f"{KEY}\n{SECRET}\n")
    listed = keys(tmp_path, "list")
    assert stored.returncode == 0 and listed.returncode == 0, stored.stderr + listed.stderr
    exchange, masked = listed.stdout.split()
    assert exchange == "binance" and masked == mask(KEY) and masked != KEY
    for out in (stored, listed):
        assert SECRET not in out.stdout + out.stderr and KEY not in out.stdout + out.stderr
    assert not (tmp_path / "q.db").exists()  # keys never touch the database
    assert keys(tmp_path, "delete", "--exchange", "binance").returncode == 0
    gone = keys(tmp_path, "delete", "--exchange", "binance")
    assert gone.returncode == 2 and gone.stderr.strip() == "error: no binance keys are stored"


def test_a_missing_secret_line_and_an_unusable_keyring_are_clear_errors(tmp_path: Path) -> None:
    half = keys(tmp_path, "set", "--exchange", "upbit", stdin=f"{KEY}\n")
    assert half.returncode == 2 and "two lines" in half.stderr and "Traceback" not in half.stderr
    none = keys(tmp_path, "list", backend="keyring.backends.fail.Keyring")
    assert none.returncode == 2 and none.stderr.startswith("error:") and "Traceback" not in none.stderr
