"""JSON on the command line: the whole document serialised by orjson and written at once."""

from __future__ import annotations

from typing import Any, TextIO


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
