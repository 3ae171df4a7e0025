"""An empty `--db` or `$QUANTDESK_DB` is refused: never a silent fall back to the real default database."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap.cli import main


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the default database would go, watched for any file appearing."""
    home = tmp_path / "data"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("QUANTDESK_DB", raising=False)
    return home


@pytest.mark.parametrize("argv", [["db", "info"], ["strategy", "list"], ["backtest-runs", "list"],
                                  ["paper", "--resume", "--duration", "1s"]])
@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_database_path_is_refused_and_the_default_database_is_not_touched(
        argv: list[str], how: str, data_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if how == "option":
        code = main(["--db", "", *argv])
    else:
        monkeypatch.setenv("QUANTDESK_DB", "")
        code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "QUANTDESK_DB" in lines[0], err
    assert list(data_home.rglob("*")) == []
