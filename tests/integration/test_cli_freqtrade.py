"""`quantdesk import-freqtrade` on a freqtrade data folder written with pyarrow, checked through the real CLI and DB."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from app.bootstrap.cli import main
from app.market_data.files import DataService
from domain.market import SeriesKey, Timeframe
from infrastructure.csv_io import CsvCandleFiles
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head

T0 = 1_704_067_200_000


def candles(n: int, step_ms: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.r_[close[0], close[:-1]]
    return {"date": T0 + np.arange(n, dtype=np.int64) * step_ms, "open": open_,
            "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999, "close": close,
            "volume": rng.random(n) * 10}


def arrow(c: dict[str, np.ndarray]) -> pa.Table:
    """As freqtrade saves a DataFrame: `date` as timestamp[ns, UTC], then float64 prices and volume."""
    cols = {"date": pa.array(c["date"] * 1_000_000, pa.timestamp("ns", tz="UTC"))}
    cols.update({k: pa.array(v) for k, v in c.items() if k != "date"})
    return pa.table(cols)


def json_rows(c: dict[str, np.ndarray]) -> bytes:
    columns = [c[k].tolist() for k in ("date", "open", "high", "low", "close", "volume")]
    return json.dumps([list(row) for row in zip(*columns, strict=True)]).encode()


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, dict[str, np.ndarray]]]:
    root = tmp_path / "user_data" / "data" / "binance"
    (root / "futures").mkdir(parents=True)
    data = {"spot": candles(300, 60_000, 1), "fut": candles(200, 60_000, 2), "fut5": candles(100, 300_000, 3),
            "json": candles(50, 3_600_000, 4)}
    feather.write_feather(arrow(data["spot"]), root / "BTC_USDT-1m.feather")
    feather.write_feather(arrow(data["fut"]), root / "futures" / "BTC_USDT_USDT-1m-futures.feather")
    pq.write_table(arrow(data["fut5"]), root / "futures" / "ETH_USDT_USDT-5m-futures.parquet")
    (root / "XRP_USDT-1h.json.gz").write_bytes(gzip.compress(json_rows(data["json"])))
    funding = root / "futures" / "BTC_USDT_USDT-8h-funding_rate.feather"
    feather.write_feather(arrow(candles(3, 8 * 3_600_000, 5)), funding)
    return root, data


def stored(db_path: Path, exchange: str, market: str, tf: Timeframe) -> dict[str, np.ndarray]:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    try:
        s = DataService(SqlCandleRepository(engine), CsvCandleFiles()).load(SeriesKey(exchange, market, tf))
    finally:
        engine.dispose()
    return {"date": s.ts, "open": s.open, "high": s.high, "low": s.low, "close": s.close, "volume": s.volume}


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_every_candle_file_is_imported_into_its_market_with_identical_values(capsys, tree, db_path: Path) -> None:
    root, data = tree
    code = main(["--db", str(db_path), "import-freqtrade", str(root), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "imported 4 of 4 files (650 bars); 1 skipped, 0 failed" in out
    assert "skipped BTC_USDT_USDT-8h-funding_rate.feather: funding_rate candles" in err
    assert_same(stored(db_path, "binance", "BTCUSDT", Timeframe.M1), data["fut"])
    assert_same(stored(db_path, "binance", "ETHUSDT", Timeframe.M5), data["fut5"])
    assert_same(stored(db_path, "binance-spot", "BTCUSDT", Timeframe.M1), data["spot"])
    assert_same(stored(db_path, "binance-spot", "XRPUSDT", Timeframe.H1), data["json"])


def test_a_bad_file_is_named_stores_nothing_and_the_others_still_import(capsys, tree, db_path: Path) -> None:
    root, data = tree
    bad = dict(data["fut5"])
    bad["high"] = bad["high"].copy()
    bad["high"][7] = bad["low"][7] / 2
    pq.write_table(arrow(bad), root / "futures" / "ETH_USDT_USDT-5m-futures.parquet")
    code = main(["--db", str(db_path), "import-freqtrade", str(root), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{root / 'futures' / 'ETH_USDT_USDT-5m-futures.parquet'}: row 8: high is below open or close" in err
    assert "imported 3 of 4 files" in out and "1 failed" in out
    assert len(stored(db_path, "binance", "ETHUSDT", Timeframe.M5)["date"]) == 0
    assert_same(stored(db_path, "binance", "BTCUSDT", Timeframe.M1), data["fut"])


def test_an_upbit_folder_maps_pairs_to_upbit_markets(capsys, tmp_path: Path, db_path: Path) -> None:
    root = tmp_path / "upbit"
    root.mkdir()
    c = candles(20, 60_000, 9)
    feather.write_feather(arrow(c), root / "BTC_KRW-1m.feather")
    assert main(["--db", str(db_path), "import-freqtrade", str(root), "--quiet"]) == 0
    assert "BTC_KRW-1m.feather: 20 1m bars into upbit:KRW-BTC:1m" in capsys.readouterr().out
    assert_same(stored(db_path, "upbit", "KRW-BTC", Timeframe.M1), c)


def test_the_whole_data_folder_imports_each_exchange_under_its_own_name(capsys, tree, db_path: Path) -> None:
    root, data = tree
    upbit = root.parent / "upbit"
    upbit.mkdir()
    c = candles(30, 60_000, 11)
    pq.write_table(arrow(c), upbit / "ETH_KRW-1m.parquet")
    assert main(["--db", str(db_path), "import-freqtrade", str(root.parent), "--quiet"]) == 0
    assert "imported 5 of 5 files" in capsys.readouterr().out
    assert_same(stored(db_path, "upbit", "KRW-ETH", Timeframe.M1), c)
    assert_same(stored(db_path, "binance", "BTCUSDT", Timeframe.M1), data["fut"])


def test_a_folder_without_candle_files_says_so(capsys, tmp_path: Path, db_path: Path) -> None:
    code = main(["--db", str(db_path), "import-freqtrade", str(tmp_path)])
    assert code == 2 and "no freqtrade candle files" in capsys.readouterr().err
    code = main(["--db", str(db_path), "import-freqtrade", str(tmp_path / "missing")])
    assert code == 2 and "not a folder" in capsys.readouterr().err
