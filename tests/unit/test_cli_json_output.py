"""`write_json`: one line of standard JSON whatever the numbers are (numpy, NaN, infinities) and wherever it goes."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from app.commands.output import write_json


@dataclass
class Point:
    x: int
    y: int


def test_numpy_values_nan_and_infinities_become_standard_json() -> None:
    out = io.StringIO()
    doc = {"n": np.int64(3), "x": np.float64(1.5), "arr": np.array([1.0, 2.5]), "nan": math.nan,
           "inf": np.float64(np.inf), "neg": -math.inf, "flag": np.bool_(True), 7: "int key"}
    write_json(doc, out)
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text) == {"n": 3, "x": 1.5, "arr": [1.0, 2.5], "nan": None, "inf": None, "neg": None,
                                "flag": True, "7": "int key"}


def test_objects_json_does_not_know_are_written_as_their_text_as_before() -> None:
    out = io.StringIO()
    write_json({"when": datetime(2024, 1, 1, tzinfo=UTC), "what": frozenset(), "dc": Point(1, 2)}, out)
    assert json.loads(out.getvalue()) == {"when": "2024-01-01 00:00:00+00:00", "what": "frozenset()",
                                          "dc": "Point(x=1, y=2)"}


def test_a_binary_backed_stream_gets_the_bytes_after_what_was_printed_before() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    stream.write("before\n")
    write_json({"a": [1, 2, 3], "s": "ünïcode"}, stream)
    stream.write("after\n")
    stream.flush()
    lines = raw.getvalue().decode("utf-8").splitlines()
    assert lines[0] == "before" and json.loads(lines[1]) == {"a": [1, 2, 3], "s": "ünïcode"} and lines[2] == "after"
