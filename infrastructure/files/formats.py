"""Which file format a path holds: from an explicit name, else from its extension."""

from __future__ import annotations

from pathlib import Path

from app.errors import DataError

FORMATS = ("csv", "parquet", "feather", "json")

_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".feather": "feather", ".arrow": "feather", ".ipc": "feather", ".json": "json", ".json.gz": "json",
}


def file_format(path: Path | str, fmt: str | None = None) -> str:
    """`fmt` if given (csv, parquet, feather or arrow/ipc, json), else the one the file name's extension says
    (CSV for a name that says none of them: prices.txt, out.dat)."""
    if fmt is not None:
        name = fmt.strip().lower().lstrip(".")
        name = {"arrow": "feather", "ipc": "feather", "pq": "parquet"}.get(name, name)
        if name not in FORMATS:
            raise DataError(f"unknown file format {fmt!r}; use one of {', '.join(FORMATS)}")
        return name
    p = Path(path)
    suffixes = "".join(p.suffixes[-2:]).lower()
    for ext in (suffixes, p.suffix.lower()):
        if ext in _EXTENSIONS:
            return _EXTENSIONS[ext]
    return "csv"  # any other name is read and written as CSV, as import-csv/export-csv always did
