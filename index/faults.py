"""Faults an archive meets, turned into one line that says what is kept and what to do."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from pipeline.errors import LibraryError

SQLITE_FULL = 13  # "database or disk is full"
LOW_SPACE = 64 * 1024  # bytes free below which an I/O error is taken for a full disk
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def is_disk_full(exc: BaseException | None, where: str | os.PathLike[str] = "") -> bool:
    """True when `exc`, or an error it was raised from, is a full disk (or quota).

    SQLite reports a full disk as SQLITE_FULL when its file cannot grow, but as "disk I/O
    error" when it cannot make its shared-memory file: then the file system of `where` says."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return True
        if isinstance(exc, sqlite3.Error) and (
                getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL
                or "disk is full" in str(exc)
                or ("disk I/O error" in str(exc) and _no_space_at(where))):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _no_space_at(where: str | os.PathLike[str]) -> bool:
    path = Path(where or ".").absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free < LOW_SPACE
    except OSError:
        return False


@contextmanager
def out_of_space(where: str | os.PathLike[str], kept: Callable[[], str]) -> Iterator[None]:
    """Turn a full disk inside the block into `Error: WHERE: no space left on device; <what is
    kept> — free space and run the same command again` (LibraryError, exit 4)."""
    try:
        yield
    except LibraryError:
        raise
    except Exception as exc:
        if not is_disk_full(exc, where):
            raise
        try:
            what = kept()
        except Exception:  # the catalog may be unreadable too: say less, not nothing
            what = "what was stored before is kept"
        raise LibraryError(f"{where}: no space left on device; {what} — free space and run "
                           "the same command again") from exc
