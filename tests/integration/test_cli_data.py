"""`quantdesk import-csv / export-csv / db info` through the real CLI entry point and a real database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap.cli import main

GOOD = """Date,Open,High,Low,Close,Volume
2024-01-01T00:00:00Z,100.5,101.25,99.75,100.125,12.5
2024-01-01T00:01:00Z,100.125,100.2,99.1,99.3,0.000123
2024-01-01T00:02:00Z,99.3,99.9,99.3,99.8,7
2024-01-01T00:05:00Z,99.8,100.000001,99.7,99.95,3.3333333333333335
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    p = tmp_path / "btc.csv"
    p.write_text(GOOD)
    return p


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("import-csv", "export-csv", "db"):
        assert cmd in out


def test_import_info_export_round_trips_every_value(capsys, tmp_path: Path, db_path: Path, csv_file: Path) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "upbit",
                       "--market", "KRW-BTC", "--quiet")
    assert code == 0 and "imported 4 1m bars" in out
    code, out, _ = run(capsys, "--db", str(db_path), "db", "info")
    assert code == 0
    line = next(ln for ln in out.splitlines() if "KRW-BTC" in ln)
    assert line.split()[:5] == ["upbit", "KRW-BTC", "1m", "2024-01-01T00:00:00Z", "2024-01-01T00:05:00Z"]
    assert line.split()[5:] == ["4", "1"]  # 4 rows, 1 gap (00:03-00:05)
    assert "gap 2024-01-01T00:03:00Z .. 2024-01-01T00:05:00Z" in out
    exported = tmp_path / "out.csv"
    code, _, _ = run(capsys, "--db", str(db_path), "export-csv", "--exchange", "upbit", "--market", "KRW-BTC",
                     "--timeframe", "1m", "-o", str(exported))
    assert code == 0
    src = [ln.split(",") for ln in GOOD.splitlines()[1:]]
    got = [ln.split(",") for ln in exported.read_text().splitlines()]
    assert got[0] == ["time", "open", "high", "low", "close", "volume"]
    assert [r[0] for r in got[1:]] == [r[0] for r in src]
    assert [[float(x) for x in r[1:]] for r in got[1:]] == [[float(x) for x in r[1:]] for r in src]
    # and exporting what we exported gives the very same bytes
    db2 = tmp_path / "second.db"
    run(capsys, "--db", str(db2), "import-csv", str(exported), "--exchange", "x", "--market", "y", "--quiet")
    again = tmp_path / "again.csv"
    run(capsys, "--db", str(db2), "export-csv", "--exchange", "x", "--market", "y", "--timeframe", "1m",
        "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()


def test_export_honours_start_and_exclusive_end(capsys, db_path: Path, csv_file: Path) -> None:
    run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "e", "--market", "m", "--quiet")
    code, out, _ = run(capsys, "--db", str(db_path), "export-csv", "--exchange", "e", "--market", "m",
                       "--timeframe", "1m", "--start", "2024-01-01T00:01:00", "--end", "2024-01-01T09:02:00+09:00")
    assert code == 0
    assert [ln.split(",")[0] for ln in out.splitlines()[1:]] == ["2024-01-01T00:01:00Z"]


def test_pandas_style_csvs_with_an_unnamed_index_and_epoch_times_import(capsys, tmp_path: Path, db_path: Path):
    p = tmp_path / "pandas.csv"
    p.write_text(",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n"
                 "2004-08-20,101.01,109.08,100.5,108.31,11428600\n")
    code, out, _ = run(capsys, "--db", str(db_path), "import-csv", str(p), "--exchange", "csv", "--market", "GOOG",
                       "--quiet")
    assert code == 0 and "2 1d bars" in out
    q = tmp_path / "epoch.csv"
    q.write_text("timestamp,open,high,low,close\n1704067200,1,2,0.5,1.5\n1704070800,1.5,2,1,1.2\n")
    assert run(capsys, "--db", str(db_path), "import-csv", str(q), "--exchange", "e", "--market", "s",
               "--quiet")[0] == 0
    r = tmp_path / "epochms.csv"
    r.write_text("TIME,OPEN,HIGH,LOW,CLOSE,VOLUME\n1704067200000,1,2,0.5,1.5,1\n1704067260000,1.5,2,1,1.2,1\n")
    code, out, _ = run(capsys, "--db", str(db_path), "import-csv", str(r), "--exchange", "e", "--market", "ms",
                       "--quiet")
    assert code == 0 and "1m bars" in out and "2024-01-01T00:00:00Z" in out


def _rows(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT coalesce(sum(n), 0) FROM candle_blocks").fetchone()[0])
    finally:
        conn.close()


def test_a_malformed_row_names_file_line_and_column_and_stores_nothing(capsys, tmp_path, db_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(GOOD.replace("99.3,99.9,99.3,99.8,7", "99.3,99.9,abc,99.8,7"))
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(p), "--exchange", "e", "--market", "m",
                       "--quiet")
    assert code != 0
    assert f"{p}:4: column 4 (Low): cannot read 'abc'" in err
    assert "Traceback" not in err
    assert _rows(db_path) == 0


def test_inconsistent_prices_name_the_line(capsys, tmp_path, db_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(GOOD.replace("99.3,99.9,99.3,99.8,7", "99.3,98,99.3,99.8,7"))
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(p), "--exchange", "e", "--market", "m")
    assert code != 0 and f"{p}:4: high is below open or close" in err
    assert _rows(db_path) == 0


def test_duplicate_times_in_one_file_name_both_lines(capsys, tmp_path, db_path) -> None:
    p = tmp_path / "dup.csv"
    lines = GOOD.splitlines()
    p.write_text("\n".join([*lines, lines[2]]) + "\n")
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(p), "--exchange", "e", "--market", "m")
    assert code != 0 and "lines 3 and 6 have the same time 2024-01-01T00:01:00Z" in err
    assert _rows(db_path) == 0


def test_an_unknown_timeframe_lists_the_valid_ones(capsys, db_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db_path), "export-csv", "--exchange", "e", "--market", "m", "--timeframe", "7m"])
    assert exc.value.code != 0
    assert "valid timeframes: 1m, 3m, 5m, 10m, 15m, 30m, 1h, 4h, 1d, 1w" in capsys.readouterr().err


def test_a_corrupt_database_gives_one_line_and_is_left_untouched(capsys, tmp_path, csv_file) -> None:
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    before = bad.read_bytes()
    code, _, err = run(capsys, "--db", str(bad), "import-csv", str(csv_file), "--exchange", "e", "--market", "m")
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("error: ") and str(bad) in err
    assert bad.read_bytes() == before


def test_a_quantdesk_database_cut_short_gives_one_line_and_is_left_untouched(capsys, tmp_path, db_path,
                                                                            csv_file) -> None:
    assert run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "e", "--market", "m",
               "--quiet")[0] == 0
    cut = tmp_path / "cut.db"
    cut.write_bytes(db_path.read_bytes()[: 3 * 4096])  # a copy that stopped part-way (a full disk, a bad USB stick)
    before = cut.read_bytes()
    for argv in (["db", "info"], ["import-csv", str(csv_file), "--exchange", "e", "--market", "m2"]):
        code, _, err = run(capsys, "--db", str(cut), *argv)
        assert code != 0 and err.startswith("error: ") and err.count("\n") == 1 and "corrupt" in err, err
    assert cut.read_bytes() == before and sorted(p.name for p in tmp_path.glob("cut.db*")) == ["cut.db"]


def test_a_newer_schema_gives_one_line_and_is_left_untouched(capsys, db_path, csv_file) -> None:
    assert run(capsys, "--db", str(db_path), "db", "info")[0] == 0
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num='9999'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before we compare bytes
    conn.close()
    before = db_path.read_bytes()
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "e", "--market", "m")
    assert code != 0 and "newer than this QuantDesk knows" in err and err.count("\n") == 1
    assert db_path.read_bytes() == before


def test_an_unwritable_database_location_gives_one_line(capsys, tmp_path, csv_file) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, "--db", str(blocker / "sub" / "q.db"), "db", "info")
    assert code != 0 and err.startswith("error: cannot create the folder") and err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_database_gives_one_line(capsys, tmp_path, db_path, csv_file) -> None:
    run(capsys, "--db", str(db_path), "db", "info")
    db_path.chmod(0o444)
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "e", "--market", "m")
    assert code != 0 and err.startswith("error: ")


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    env = {**os.environ, "QUANTDESK_DB": str(tmp_path / "env.db")}
    r = subprocess.run([sys.executable, "-m", "app", "db", "info"], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0 and str(tmp_path / "env.db") in r.stdout


@pytest.mark.parametrize("suffix", [".parquet", ".feather", ".arrow"])
def test_import_and_export_in_arrow_formats_keep_every_value(capsys, tmp_path: Path, db_path: Path, csv_file: Path,
                                                              suffix: str) -> None:
    run(capsys, "--db", str(db_path), "import-csv", str(csv_file), "--exchange", "e", "--market", "m", "--quiet")
    out = tmp_path / f"out{suffix}"
    code, _, _ = run(capsys, "--db", str(db_path), "export-csv", "--exchange", "e", "--market", "m",
                     "--timeframe", "1m", "-o", str(out))
    assert code == 0 and out.read_bytes()[:4] in (b"PAR1", b"ARRO")
    db2 = tmp_path / "second.db"
    code, msg, _ = run(capsys, "--db", str(db2), "import-csv", str(out), "--exchange", "e", "--market", "m",
                       "--quiet")
    assert code == 0 and "imported 4 1m bars" in msg
    again = tmp_path / "again.csv"
    run(capsys, "--db", str(db2), "export-csv", "--exchange", "e", "--market", "m", "--timeframe", "1m",
        "-o", str(again))
    assert again.read_text() == GOOD.replace("Date,Open,High,Low,Close,Volume", "time,open,high,low,close,volume")


def test_a_bad_row_in_a_parquet_file_names_the_row_and_stores_nothing(capsys, tmp_path: Path, db_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"time": ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"], "open": [1.0, 1.0],
                             "high": [2.0, 0.9], "low": [0.5, 0.5], "close": [1.5, 1.0]}), p)
    code, _, err = run(capsys, "--db", str(db_path), "import-csv", str(p), "--exchange", "e", "--market", "m",
                       "--quiet")
    assert code != 0 and f"{p}: row 2: high is below open or close" in err
    assert _rows(db_path) == 0
