"""The server local page workers are forked from, and starting it before it is needed.

Page workers (pool.make_executor) fork from a multiprocessing forkserver that has imported only
what pages need, not the whole command (click, Whoosh...; the default preloads __main__), and
jieba's dictionary: ~1.1 CPU s in all. Left to the pool, the server starts when the first page
is handed out, after the main process has imported the library and planned the first file: the
first Tesseract ran 2.5-2.8 s after `wenshi ingest` started (measured). `start_server` lets the
command start it first, so that its imports run on another core beside the main process's own.

This module imports nothing heavy: the command calls it before importing the rest of Wenshi.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver
from multiprocessing.context import BaseContext

from ..config import Config

# Imported once by the server, so that every worker starts with them (pipeline/forkserver_preload
# says what it loads and why).
PRELOAD = ["pipeline.page.process", "pypdfium2", "pipeline.page.forkserver_preload"]


def context() -> BaseContext:
    """The forkserver context page workers are started with (preloads set)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def local_pool(cfg: Config) -> bool:
    """True when pages go to a local process pool (not inline, not a Dask cluster)."""
    return not cfg.scheduler and cfg.workers > 1


def start_server(cfg: Config) -> None:
    """Start the forkserver now if `cfg` will use a local pool (the server serves every later
    pool of this process); returns at once, while the server imports."""
    if local_pool(cfg):
        context()
        forkserver.ensure_running()
