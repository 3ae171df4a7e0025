"""Where a command may write its `-o FILE`: never the open database or its journal files, never a special file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from app.errors import UserError

# Files SQLite keeps beside a database: writing any of them corrupts or replaces it.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def check_output_path(path: str | Path, db_path: Path, temp_suffix: str | None = None) -> Path:
    """The file to write for `-o path`, with symlinks resolved so that writing into place replaces the link's
    target and keeps the link. Refused with a UserError when it is (by any name: symlink, hard link, relative
    path) the database or one of its journal files, when `path + temp_suffix` (a writer's temporary file) would
    be, or when it exists and is not a regular file (a folder, device, pipe or socket)."""
    text = str(path)
    if not text.strip():
        raise UserError("output file name is empty")
    target = Path(os.path.realpath(text))
    candidates = [target] if temp_suffix is None else [target, target.with_name(target.name + temp_suffix)]
    for candidate in candidates:
        hit = _database_file(candidate, db_path)
        if hit is not None:
            what = "the database" if not hit else f"the database's {hit} file"
            raise UserError(f"{text}: output would overwrite {what} ({db_path}); choose another output file")
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as err:
        raise UserError(f"{text}: cannot write: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{text}: is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise UserError(f"{text}: is not a regular file (a device, pipe or socket); choose a file to write")
    return target


def _database_file(candidate: Path, db_path: Path) -> str | None:
    """Which of the database's files `candidate` is ("" for the database itself), or None."""
    bases = {str(db_path.absolute()), os.path.realpath(db_path)}
    for base in bases:
        for suffix in DATABASE_SUFFIXES:
            if _same_file(candidate, Path(base + suffix)):
                return suffix
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # also a hard link or a different spelling of an existing file
    except OSError:  # one of them does not exist (yet): compare the resolved names
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
