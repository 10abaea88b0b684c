"""Page OCR on a Dask distributed cluster: `wenshi ingest --scheduler tcp://HOST:8786`.

The scheduler hands page tasks to `dask worker` processes on any number of machines and each
finished page comes back to the one writer, which owns the catalog and the index. Workers share
no file system with the writer: every task carries its page as bytes (`ShippedPage`), one page's
worth and never a whole volume, and the worker decodes, rasterises, preprocesses and recognises
it exactly as a local pool worker would (`pipeline.page.process.process_page`).

Workers need Wenshi and Tesseract with the same language models; `DaskExecutor` checks each one
before any page is sent.
"""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from ..config import Config
from ..errors import EnvironmentProblemError
from ..page.engines import Engine, tesseract
from ..page.images import extract_pdf_page, load_page_image
from ..page.process import process_page
from ..records import KIND_PDF, Page, PageTask

CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler
WORKER_WAIT = 60.0  # seconds to wait for the first worker to join
_SLOTS_REFRESH = 10.0  # seconds between looks at how many worker threads the cluster has
ALL_LANGS = "chi_sim+chi_tra+chi_sim_vert+chi_tra_vert"


@dataclass(frozen=True)
class ShippedPage:
    """A page task with its page inside: what travels to a cluster worker."""

    task: PageTask  # `path` only names the source in messages: the worker never opens it
    data: bytes  # a file holding just this page (empty when `task.image_png` carries it)
    suffix: str  # how the worker names that file: .pdf, .png, or the image's own suffix


def ship_page(task: PageTask, cfg: Config) -> ShippedPage:
    """Read one page out of its file, cheaply and without rendering, for a remote worker.

    A PDF page becomes a one-page PDF, an image file travels as it is, and only a frame of a
    multi-page TIFF is decoded here (Pillow cannot copy a frame without decoding it)."""
    if task.image_png:
        return ShippedPage(task, b"", "")
    if task.kind == KIND_PDF:
        return ShippedPage(task, extract_pdf_page(task.path, task.number), ".pdf")
    suffix = Path(task.path).suffix.lower()
    try:
        with Image.open(task.path) as image:
            frames = getattr(image, "n_frames", 1)
    except (OSError, SyntaxError, ValueError):
        frames = 1  # ship it as it is: the worker reports why it cannot be read
    if frames == 1:
        return ShippedPage(task, Path(task.path).read_bytes(), suffix)
    frame, dpi = load_page_image(task, cfg)
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG", compress_level=1, **({"dpi": (dpi, dpi)} if dpi else {}))
    return ShippedPage(task, buffer.getvalue(), ".png")


def run_shipped(shipped: ShippedPage, cfg: Config, engine: Engine | None = None) -> Page:
    """Process a shipped page on a cluster worker: the page file goes to a private temporary
    folder, and from there on it is the same `process_page` a local worker runs."""
    tesseract.single_threaded_env()
    if not shipped.data:
        return process_page(shipped.task, cfg, engine)
    with tempfile.TemporaryDirectory(prefix="wenshi-page-") as folder:
        local = Path(folder) / f"page{shipped.suffix}"
        local.write_bytes(shipped.data)
        page = process_page(replace(shipped.task, path=str(local), number=1), cfg, engine)
    return replace(page, number=shipped.task.number)


def probe_worker(lang: str) -> str:
    """On a worker: '' when Tesseract and the models for `lang` are installed, else why not."""
    try:
        tesseract.check_languages(lang)
    except EnvironmentProblemError as exc:
        return str(exc)
    return ""


class DaskExecutor(Executor):
    """A concurrent.futures executor over a Dask cluster that ships page tasks as bytes."""

    def __init__(self, address: str, cfg: Config) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise EnvironmentProblemError(
                "--scheduler needs Dask on this machine: pip install 'dask[distributed]'") from exc
        self.address = address
        self._cfg = cfg
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT,  # type: ignore[no-untyped-call]
                                  set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EnvironmentProblemError(
                f"cannot reach the Dask scheduler at {address} ({exc}): start it with "
                f"`dask scheduler` and on each machine "
                f"`dask worker {address} --nthreads 1 --nworkers N`") from exc
        try:
            self._executor = self._client.get_executor(pure=False)  # type: ignore[no-untyped-call]
            self._slots = 0
            self._slots_at = 0.0
            self._check_workers(cfg)
        except BaseException:
            self._client.close()  # type: ignore[no-untyped-call]
            raise

    def _check_workers(self, cfg: Config) -> None:
        try:
            self._client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError as exc:
            raise EnvironmentProblemError(
                f"no worker joined the Dask scheduler at {self.address} "
                f"within {WORKER_WAIT:.0f} s: "
                f"start `dask worker {self.address}` on each machine") from exc
        lang = ALL_LANGS if cfg.lang == "auto" else cfg.lang
        try:
            answers: dict[str, str] = self._client.run(probe_worker, lang)
        except Exception as exc:  # noqa: BLE001 - typically ModuleNotFoundError while unpickling
            raise EnvironmentProblemError(
                f"a Dask worker cannot run Wenshi ({type(exc).__name__}: {exc}): install Wenshi "
                "and Tesseract on every worker machine") from exc
        for worker, problem in sorted(answers.items()):
            if problem:
                raise EnvironmentProblemError(f"Dask worker {worker}: {problem}")

    @property
    def slots(self) -> int:
        """Worker threads in the cluster now (workers may join or leave during an ingest)."""
        now = time.monotonic()
        if now - self._slots_at >= _SLOTS_REFRESH:
            nthreads = self._client.nthreads()  # type: ignore[no-untyped-call]
            self._slots = max(1, sum(nthreads.values()))
            self._slots_at = now
        return self._slots

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn(*args)` on the cluster; a page task for `process_page` is shipped as bytes."""
        if fn is process_page and args and isinstance(args[0], PageTask):
            task: PageTask = args[0]
            key = f"wenshi-page-{task.doc_id}-{task.number}-{uuid.uuid4().hex[:8]}"
            return self._executor.submit(  # type: ignore[no-any-return]
                run_shipped, ship_page(task, self._cfg), *args[1:], key=key)
        return self._executor.submit(fn, *args, **kwargs)  # type: ignore[no-any-return]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is queued if asked, wait for the rest if asked, and disconnect."""
        try:
            self._executor.shutdown(wait=wait and not cancel_futures)
        finally:
            self._client.close()  # type: ignore[no-untyped-call]
