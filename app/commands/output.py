"""JSON on the command line: the whole document serialised by orjson and written at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_EPOCH_RANGE = (-30_610_224_000_000, 253_402_300_799_999)  # 1000-01-01 .. 9999-12-31: four-digit years


def write_json(obj: Any, stream: TextIO) -> None:
    """`obj` as one line of JSON: numpy values as numbers, NaN and ±inf as null, other objects as their str()."""
    import orjson

    # datetimes and dataclasses go through str() as with json.dump(default=str)
    options = (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
               | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
    data = orjson.dumps(obj, default=str, option=options)
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8"))
        return
    stream.flush()  # what was printed before stays in front of these bytes
    buffer.write(data)
    buffer.flush()


def iso_times(ms: npt.NDArray[np.int64]) -> list[str]:
    """`app.timeparse.format_ms` of every value (ISO 8601 UTC with a Z, milliseconds only when present), at
    numpy's speed: a backtest's JSON carries two times per trade."""
    import numpy as np

    from app.timeparse import format_ms

    if len(ms) == 0 or ms.min() < _EPOCH_RANGE[0] or ms.max() > _EPOCH_RANGE[1]:
        return [format_ms(int(x)) for x in ms]
    stamps = ms.astype("datetime64[ms]")
    out = [f"{text}Z" for text in np.datetime_as_string(stamps, unit="s").tolist()]
    for i in np.flatnonzero(ms % 1000).tolist():
        out[i] = f"{np.datetime_as_string(stamps[i], unit='ms')}Z"
    return out
