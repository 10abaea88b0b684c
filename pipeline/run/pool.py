"""Executors for page tasks: inline, a local process pool, or a Dask cluster (`cluster.py`).

Each runs `pipeline.page.process.process_page` on a page task. Pool workers fork from the
forkserver of `workers.py`, which has preloaded the page room only; their initializer lives
here, so a worker never imports the ingest orchestrator.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..config import Config
from ..page.engines import ENGINE_TESSERACT, paddle, tesseract
from . import workers
from .cluster import DaskExecutor

# How often a pool worker checks that the ingest which started it is still alive.
_ORPHAN_CHECK_SECONDS = 1.0


def _init_worker(ingest_pid: int, engine: str, detection_lock: Any = None) -> None:
    tesseract.single_threaded_env()
    if engine != ENGINE_TESSERACT:
        # One PP-OCR engine per worker, loaded before its first page (1-3 s) and kept.
        paddle.load()
    if detection_lock is not None:
        paddle.share_detection(detection_lock)
    threading.Thread(target=_exit_with_ingest, args=(ingest_pid, os.getppid()), daemon=True,
                     name="wenshi-orphan-watch").start()


def _exit_with_ingest(ingest_pid: int, parent_pid: int) -> None:
    # After `kill -9` of the ingest, pool workers would block forever on a task queue nobody
    # feeds any more (they hold both ends of its pipe, so they never see EOF). Leave instead.
    while True:
        time.sleep(_ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent_pid or not _alive(ingest_pid):
            os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphaned_work_dirs() -> int:
    """Delete this user's page work folders (tesseract.WORK_DIR_PREFIX) whose process is gone, left
    by workers killed mid-page (`kill -9` of an ingest, the orphan check above, a crash);
    returns how many. Before this, /tmp held 70 of them, ~5 MB each, after a day of the test
    suite's kill -9 runs."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{tesseract.WORK_DIR_PREFIX}*-*"):
        pid = path.name[len(tesseract.WORK_DIR_PREFIX):].split("-", 1)[0]
        try:
            if not pid.isdigit() or path.stat().st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


class _InlineExecutor(Executor):
    """Runs tasks in the calling process: --jobs 1, and tests that want no subprocesses."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as a pool would
            future.set_exception(exc)
        return future


def make_executor(cfg: Config) -> Executor:
    """Where pages are processed: a Dask cluster when `cfg.scheduler` names one, else a local
    process pool with one single-threaded Tesseract per worker (inline for one job)."""
    tesseract.single_threaded_env()
    if cfg.scheduler:
        return DaskExecutor(cfg.scheduler, cfg)
    if not workers.local_pool(cfg):
        return _InlineExecutor()
    # Workers fork from a server that has imported only what pages need (pipeline/run/workers.py).
    context = workers.context()
    # PP-OCR's detection is a worker's memory peak: one at a time across the pool
    # (engines/paddle.py, share_detection). A pool whose worker died is replaced, lock and all,
    # so a lock held by the dead worker is never waited for.
    detection_lock = context.Lock() if cfg.engine != ENGINE_TESSERACT else None
    return ProcessPoolExecutor(max_workers=cfg.workers, initializer=_init_worker,
                               initargs=(os.getpid(), cfg.engine, detection_lock),
                               mp_context=context)


def executor_slots(executor: Executor, cfg: Config) -> int:
    """How many pages the executor processes at once (a Dask cluster reports its threads)."""
    slots = getattr(executor, "slots", None)
    return int(slots) if isinstance(slots, int) and slots > 0 else max(1, cfg.workers)
