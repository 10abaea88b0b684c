"""The server local page workers are forked from, and starting it before it is needed.

Page workers (pool.make_executor) fork from a multiprocessing forkserver that has imported only
what pages need, not the whole command (click, Whoosh...; the default preloads __main__), and
jieba's dictionary: ~1.1 CPU s in all. Left to the pool, the server starts when the first page
is handed out, after the main process has imported the library and planned the first file: the
first Tesseract ran 2.5-2.8 s after `wenshi ingest` started (measured). `start_server` lets the
command start it first, so that its imports run on another core beside the main process's own.

The server is started with glibc's malloc told to back its large blocks with transparent huge
pages (`HUGE_PAGES`), and the workers fork with that malloc: a page read by PP-OCR allocates and
frees ~1 GB of ONNX Runtime activations and page arrays in blocks that come from mmap
(engines/paddle.py returns them to the system), each 4 KiB page of them faulted in and zeroed by
the kernel: ~200,000 page faults a page. On huge pages, where the kernel offers them (its
`transparent_hugepage` mode `madvise` or `always`), ~40,000: ~0.15 CPU s a page less, the same
text, peak memory within a few MB (benchmarks/README.md, "Session 9"). glibc reads the setting
when a process starts, so it is put in the server's environment only, and taken out of the
workers' (pipeline/page/forkserver_preload.py): the programs they run (Tesseract) start as
before. A user's own GLIBC_TUNABLES is left as it is.

This module imports nothing heavy: the command calls it before importing the rest of Wenshi.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver
from multiprocessing.context import BaseContext

from ..config import Config

# Imported once by the server, so that every worker starts with them (pipeline/forkserver_preload
# says what it loads and why).
PRELOAD = ["pipeline.page.process", "pypdfium2", "pipeline.page.forkserver_preload"]


# glibc's tunable (glibc 2.35 and later; ignored by older ones and other C libraries): madvise
# its mmap'd blocks for transparent huge pages.
HUGE_PAGES = "glibc.malloc.hugetlb=1"
TUNABLES = "GLIBC_TUNABLES"


def context() -> BaseContext:
    """The forkserver context page workers are started with (preloads set), its server running."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    _ensure_running()
    return ctx


def _ensure_running() -> None:
    """Start the server (if it is not running) with HUGE_PAGES in its environment alone."""
    own = TUNABLES in os.environ
    if not own:
        os.environ[TUNABLES] = HUGE_PAGES
    try:
        forkserver.ensure_running()
    finally:
        if not own:
            os.environ.pop(TUNABLES, None)


def local_pool(cfg: Config) -> bool:
    """True when pages go to a local process pool (not inline, not a Dask cluster)."""
    return not cfg.scheduler and cfg.workers > 1


def start_server(cfg: Config) -> None:
    """Start the forkserver now if `cfg` will use a local pool (the server serves every later
    pool of this process); returns at once, while the server imports."""
    if local_pool(cfg):
        context()
