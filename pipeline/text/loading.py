"""One-off loads of big data (jieba's dictionary, the gazetteer, pypinyin's): private pickle
caches and a pause of the garbage collector while they are built.

An ingest's writer shares two cores with Tesseract, so every CPU second it spends loading is
taken from OCR; these loads are paid once per process.
"""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def cache_dir() -> str:
    return os.environ.get("WENSHI_CACHE_DIR") or tempfile.gettempdir()


def cache_path(name: str, sources: tuple[Path, ...]) -> Path | None:
    """The cache file of `name` for this user, keyed by the size and mtime of its source files.

    None when a source cannot be read: the caller builds from the sources without a cache.
    """
    parts = [name, str(os.getuid())]
    for source in sources:
        try:
            stat = source.stat()
        except OSError:
            return None
        parts += [str(stat.st_size), str(int(stat.st_mtime))]
    return Path(cache_dir()) / ("-".join(parts) + ".pickle")


def read_private_pickle(path: Path) -> Any:
    """The pickled value at `path`, or None when it is missing, damaged or not private.

    Only read when this user wrote it and no one else can write to it: unpickling someone
    else's file could run their code."""
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
                return None
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - unreadable or damaged: the caller rebuilds it
        return None


def write_private_pickle(path: Path, value: Any) -> None:
    # Written under a temporary name and renamed: a process reading it never sees half a file.
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")  # mode 0600
    except OSError:
        return  # no cache: the next process builds it again
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a big table is built.

    Building hundreds of thousands of objects triggers collections that walk the whole heap
    again and again, though a load makes no garbage cycles. Measured in one process after
    jieba's dictionary was loaded, with the collector and without: the gazetteer's parse
    0.25-0.31 CPU s and 0.14 s, pypinyin's import 0.29-0.39 s and 0.16-0.17 s, posseg's import
    (its parse of dict.txt) 0.56-0.72 s and 0.41 s. Cycles made meanwhile elsewhere are
    collected once it is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
