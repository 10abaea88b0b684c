"""The CPU-time limit of a page read by ONNX Runtime models (PP-OCR: engines/paddle.py; the
layout model: engines/layout_model.py).

A page's CPU seconds in the thread that reads it, watched from another thread (`deadline`), so
it works in the main thread of a pool worker and in a Dask worker's task threads alike. When
the limit passes, ONNX Runtime's run in progress is stopped (`RunOptions.terminate`) and every
later run of the page fails at once (`LimitedSession`).

A session whose memory comes from ONNX Runtime's arena gives it back after each run
(`LimitedSession(..., shrink=True)`: the run option `memory.enable_memory_arena_shrinkage`).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

# How often the watcher looks at the CPU time of the threads reading pages (seconds).
_WATCH_INTERVAL = 0.1
# The run option that has ONNX Runtime free the wholly unused parts of a session's CPU arena
# when a run ends.
_SHRINK_KEY = "memory.enable_memory_arena_shrinkage"
_SHRINK_CPU = "cpu:0"


def run_options(shrink: bool = False) -> Any:
    """ONNX Runtime run options; with `shrink`, the arena's unused memory is freed after the
    run."""
    import onnxruntime

    options = onnxruntime.RunOptions()
    if shrink:
        options.add_run_config_entry(_SHRINK_KEY, _SHRINK_CPU)
    return options


class Deadline:
    """The CPU-time limit of one page read by one thread."""

    def __init__(self, timeout: float) -> None:
        import onnxruntime

        self.timeout = timeout
        self.options = onnxruntime.RunOptions()
        self.shrink_options = run_options(shrink=True)  # for sessions on an arena
        self.clock = time.pthread_getcpuclockid(threading.get_ident())
        self.limit = time.clock_gettime(self.clock) + timeout
        self.expired = False

    def check(self) -> bool:
        """True (and ONNX Runtime's runs stopped) once the thread has used its time."""
        if not self.expired:
            try:
                over = time.clock_gettime(self.clock) >= self.limit
            except OSError:  # the thread has ended
                over = False
            if over:
                self.expired = True
                self.options.terminate = True
                self.shrink_options.terminate = True
        return self.expired


_local = threading.local()
_watched: set[Deadline] = set()
_watch_lock = threading.Lock()
_watcher: list[threading.Thread] = []


def _watch() -> None:
    while True:
        time.sleep(_WATCH_INTERVAL)
        with _watch_lock:
            for deadline in list(_watched):
                if deadline.check():
                    _watched.discard(deadline)


@contextmanager
def deadline(timeout: float) -> Iterator[Deadline]:
    """Stop this thread's reading once it has spent `timeout` CPU seconds in the block.

    CPU time, not wall time: on a loaded machine a page waits for a core without being stuck;
    the models run in the calling thread (one ONNX Runtime thread). A watcher thread stops a
    model run in progress; `LimitedSession` checks before each run. rapidocr wraps what ONNX
    Runtime raises in its own error (or logs it and returns nothing), hence `expired`."""
    limit = Deadline(timeout)
    with _watch_lock:
        if not _watcher or not _watcher[0].is_alive():
            _watcher[:] = [threading.Thread(target=_watch, name="wenshi-onnx-deadline",
                                            daemon=True)]
            _watcher[0].start()
        _watched.add(limit)
    previous = getattr(_local, "deadline", None)
    _local.deadline = limit
    try:
        yield limit
    finally:
        _local.deadline = previous
        with _watch_lock:
            _watched.discard(limit)


class LimitedSession:
    """An ONNX Runtime session whose runs obey the time limit of the page being read in the
    calling thread (rapidocr calls `run(output_names, inputs)`; the rest is passed on).

    `shrink`: the session allocates from ONNX Runtime's arena, which is told to free what it no
    longer uses at the end of each run."""

    def __init__(self, session: Any, shrink: bool = False) -> None:
        self._session = session
        self.shrink = shrink
        self._options = run_options(shrink) if shrink else None

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        limit: Deadline | None = getattr(_local, "deadline", None)
        if limit is None:
            return self._session.run(output_names, input_feed, run_options or self._options)
        if limit.check():
            raise TimeoutError(f"the time limit of {limit.timeout:g} CPU s passed")
        return self._session.run(output_names, input_feed,
                                 limit.shrink_options if self.shrink else limit.options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
