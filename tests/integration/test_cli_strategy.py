"""`quantdesk strategy validate/import/export/list` through the real CLI entry point and a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap.cli import main
from domain.strategy import migrate


def definition(name: str, period: Any = 10) -> dict[str, Any]:
    return {"schema": 1, "name": name, "direction": "long_short",
            "entry_long": {"all": [{"left": {"var": "rsi", "params": {"period": 14}}, "op": "lt",
                                    "right": {"const": 30}},
                                   {"left": {"var": "close"}, "op": "gt",
                                    "right": {"var": "sma", "params": {"period": period}}}]},
            "entry_short": {"all": [{"left": {"var": "rsi"}, "op": "gt", "right": {"const": 70}}]},
            "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, content: Any) -> str:
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    return str(p)


def test_validate_accepts_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "strategy", "validate", write(tmp_path, "ok.json", definition("Good")))
    assert (code, err) == (0, "") and out.endswith("ok.json: ok\n")


def test_validate_prints_each_error_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = definition("Bad", period=0)
    doc["entry_short"]["all"][0]["left"]["var"] = "rsx"
    path = write(tmp_path, "bad.json", doc)
    code, out, err = run(capsys, "strategy", "validate", path)
    assert code == 1 and out == ""
    first, second = err.splitlines()
    assert first == f"{path}: entry_long.all[1].right.params.period: must be an integer ≥ 1"
    assert second.startswith(f"{path}: entry_short.all[0].left.var: unknown variable 'rsx'; known: ")
    assert "rsi" in second


@pytest.mark.parametrize(("content", "fragment"), [
    ('{"schema": 1,\n  "name": "x",,\n}', "malformed JSON at line 2, column 15"),
    (json.dumps({**definition("x"), "schema": 7}), "schema: unknown schema version 7"),
    (json.dumps({**definition("x"), "name": 5}), "name: must be a non-empty string, not a number"),
    ("[" * 50_000 + "]" * 50_000, "nests too deeply"),
    ("[" + json.dumps(definition("x")) + ", 3]", "[1]: must be an object, not a number"),
])
def test_validate_explains_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                     fragment: str) -> None:
    code, _, err = run(capsys, "strategy", "validate", write(tmp_path, "f.json", content))
    assert code == 1 and fragment in err and "Traceback" not in err


def test_validate_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "strategy", "validate", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: no such file" in err


def test_import_export_and_list_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "q.db")
    a = write(tmp_path, "a.json", {**definition("Mine A"), "tags": ["mine"], "notes": "hello"})
    b = write(tmp_path, "b.json", [definition("Mine B"), definition("Other")])
    code, out, _ = run(capsys, "--db", db, "strategy", "import", a, b)
    assert code == 0 and "imported 3 strategies: Mine A, Mine B, Other" in out
    code, out, err = run(capsys, "--db", db, "strategy", "list", "--filter", "mine")
    assert code == 0 and [line.split("  ")[0] for line in out.splitlines()[1:]] == ["Mine A", "Mine B"]
    assert "2 of 2 strategies" in err
    code, out, _ = run(capsys, "--db", db, "strategy", "list", "--tag", "sample", "--sort", "name", "--desc")
    assert len(out.splitlines()) == 7 and out.splitlines()[1].startswith("Upbit scale-in")
    target = tmp_path / "out.json"
    code, _, err = run(capsys, "--db", db, "strategy", "export", "Mine A", "-o", str(target))
    assert code == 0 and "wrote 1 strategy" in err
    exported = json.loads(target.read_text(encoding="utf-8"))
    # files are written in schema 2: the schema-1 definition imported, migrated, with its notes and tags
    assert exported == {**migrate(definition("Mine A")), "entry_short": exported["entry_short"],
                        "notes": "hello", "tags": ["mine"]}
    assert exported["schema"] == 2
    assert exported["entry_short"]["all"][0]["left"] == {"var": "rsi", "params": {"period": 14}}


def test_import_with_any_problem_saves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "q.db")
    run(capsys, "--db", db, "strategy", "import", write(tmp_path, "first.json", definition("Taken")))
    good = write(tmp_path, "good.json", definition("Fresh"))
    dup = write(tmp_path, "dup.json", definition("taken"))
    code, out, err = run(capsys, "--db", db, "strategy", "import", good, dup)
    assert code == 1 and out == ""
    assert f"{dup}: name: a strategy named 'Taken' already exists" in err
    assert "nothing imported" in err
    code, out, _ = run(capsys, "--db", db, "strategy", "list", "--filter", "fresh")
    assert len(out.splitlines()) == 1


def test_export_of_an_unknown_name_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", str(tmp_path / "q.db"), "strategy", "export", "Nope")
    assert code == 2 and out == "" and err == "error: no strategy named 'Nope' (see `quantdesk strategy list`)\n"


def test_export_to_stdout_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(tmp_path / "q.db"), "strategy", "export", "SMA 10/20 cross",
                       "RSI mean reversion")
    assert code == 0 and [d["name"] for d in json.loads(out)] == ["SMA 10/20 cross", "RSI mean reversion"]
