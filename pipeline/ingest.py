"""Ingest orchestration: files -> page tasks -> workers -> a sink that stores them.

The ingest never imports index/: it hands finished pages to a `Sink` (the library implements
it) and asks the sink what is already stored, so a re-run skips finished documents and pages.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

from . import ocr
from .clean import clean_ocr_text
from .config import Config
from .errors import InputFileError, OcrError
from .records import METHOD_OCR, FileOutcome, IngestSummary, Page, PageTask
from .sources import DocumentPlan, discover_files, identify, load_page_image, plan_document

log = logging.getLogger(__name__)

STATUS_INGESTED, STATUS_SKIPPED, STATUS_FAILED, STATUS_UNSUPPORTED = "ingested", "skipped", "failed", "unsupported"


class Sink(Protocol):
    """Where finished pages go. The library implements it; tests may use a small fake."""

    def document_state(self, doc_id: str) -> tuple[str, set[int]] | None:
        """None for an unknown document, else (status, numbers of pages stored without error)."""

    def begin_document(self, plan: DocumentPlan, collection: str, metadata: dict[str, str]) -> None:
        """Record a new document before its pages arrive."""

    def store_page(self, doc_id: str, page: Page) -> None:
        """Store one finished page (a checkpoint: it survives a crash)."""

    def finish_document(self, doc_id: str) -> tuple[int, int]:
        """All pages are in: tag and index the document. Returns (pages, characters)."""

    def discard_document(self, doc_id: str) -> None:
        """Forget a document that turned out to be unreadable."""

    def record_failure(self, path: str, error: str, doc_id: str) -> None:
        """Keep an input failure in the catalog."""


ProgressFn = Callable[[int, int], None]
MetadataFn = Callable[[Path], dict[str, str]]


def process_page(task: PageTask, cfg: Config) -> Page:
    """Load, preprocess, OCR and clean one page. Runs in a worker process.

    An unreadable page image raises InputFileError (the document is unusable); a Tesseract
    failure or timeout returns the page with its error so the rest of the document goes on.
    """
    image, dpi = load_page_image(task, cfg)
    try:
        recognised = recognise(image, dpi, cfg)
    except OcrError as exc:
        return Page(number=task.number, text="", method=METHOD_OCR, error=str(exc))
    return Page(
        number=task.number, text=clean_ocr_text(recognised.text), method=METHOD_OCR,
        confidence=recognised.confidence, words=recognised.words, alto=recognised.alto,
        lang=recognised.lang, width=image.width, height=image.height,
    )


@dataclass(frozen=True)
class Recognised:
    """OCR output of one page plus the model that read it."""

    text: str
    confidence: float | None
    words: tuple[ocr.Word, ...]
    alto: str
    lang: str


def recognise(image: "ocr.Image.Image", dpi: int | None, cfg: Config) -> Recognised:
    """Image -> text with the configured OCR path (preprocessing and model choice)."""
    lang = "chi_sim" if cfg.lang == "auto" else cfg.lang
    psm = 5 if lang.endswith("_vert") else 3
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    result = ocr.ocr_image(image, lang=lang, psm=psm, dpi=dpi or 300, timeout=cfg.ocr_timeout)
    return Recognised(result.text, result.confidence, result.words, result.alto, lang)


def _init_worker() -> None:
    ocr.single_threaded_env()


class _InlineExecutor(Executor):
    """Runs tasks in the calling process: --jobs 1, and tests that want no subprocesses."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as a pool would
            future.set_exception(exc)
        return future


def make_executor(cfg: Config) -> Executor:
    """A process pool with one single-threaded Tesseract per worker (or inline for one job)."""
    ocr.single_threaded_env()
    if cfg.workers <= 1:
        return _InlineExecutor()
    return ProcessPoolExecutor(max_workers=cfg.workers, initializer=_init_worker,
                               mp_context=multiprocessing.get_context("forkserver"))


@dataclass
class _Open:
    index: int
    path: str
    doc_id: str
    outstanding: set[int] = field(default_factory=set)
    error: str = ""


def ingest_paths(paths: Sequence[str | Path], collection: str, cfg: Config, sink: Sink,
                 metadata_for: MetadataFn | None = None, progress: ProgressFn | None = None,
                 executor: Executor | None = None) -> IngestSummary:
    """Ingest files and folders into `sink`; one outcome per input file, in input order."""
    started = time.monotonic()
    found = discover_files(paths)
    outcomes: dict[int, FileOutcome] = {}
    order = 0
    for missing in found.missing:
        outcomes[order] = FileOutcome(str(missing), STATUS_FAILED, error="no such file or folder")
        order += 1
    for other in found.unsupported:
        outcomes[order] = FileOutcome(str(other), STATUS_UNSUPPORTED, error=f"unsupported file type {other.suffix or '(none)'}")
        order += 1

    own_executor = executor is None
    pool = executor or make_executor(cfg)
    window = max(2, 2 * cfg.workers)
    in_flight: dict[Future[Page], tuple[_Open, int]] = {}
    open_docs: dict[str, _Open] = {}
    done_pages = total_pages = 0

    def fail(doc: _Open, error: str) -> None:
        outcomes[doc.index] = FileOutcome(doc.path, STATUS_FAILED, doc.doc_id, error=error)
        sink.discard_document(doc.doc_id)
        sink.record_failure(doc.path, error, doc.doc_id)

    def finish(doc: _Open) -> None:
        pages, chars = sink.finish_document(doc.doc_id)
        outcomes[doc.index] = FileOutcome(doc.path, STATUS_INGESTED, doc.doc_id, pages, chars)
        del open_docs[doc.doc_id]

    def collect(block: bool) -> None:
        nonlocal done_pages
        if not in_flight:
            return
        done, _ = wait(list(in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in done:
            doc, number = in_flight.pop(future)
            done_pages += 1
            try:
                page = future.result()
            except InputFileError as exc:
                doc.error = doc.error or str(exc)
            except Exception as exc:  # a crashed worker must not take the batch down
                doc.error = doc.error or f"page {number}: {type(exc).__name__}: {exc}"
            else:
                if not doc.error:
                    sink.store_page(doc.doc_id, page)
            doc.outstanding.discard(number)
            if not doc.outstanding:
                if doc.error:
                    fail(doc, doc.error)
                    del open_docs[doc.doc_id]
                else:
                    finish(doc)
            if progress:
                progress(done_pages, total_pages)

    try:
        for path in found.files:
            index = order
            order += 1
            try:
                source = identify(path)
                state = sink.document_state(source.doc_id)
                if (state is not None and state[0] == "complete") or source.doc_id in open_docs:
                    outcomes[index] = FileOutcome(str(path), STATUS_SKIPPED, source.doc_id,
                                                  error="already in the library")
                    continue
                plan = plan_document(source, cfg)
            except InputFileError as exc:
                outcomes[index] = FileOutcome(str(path), STATUS_FAILED, error=str(exc))
                sink.record_failure(str(path), str(exc), "")
                continue
            metadata = metadata_for(path) if metadata_for else {}
            stored: set[int] = set()
            if state is None:
                sink.begin_document(plan, metadata.get("collection") or collection, metadata)
            else:
                stored = state[1]
            doc = _Open(index, str(path), source.doc_id)
            open_docs[source.doc_id] = doc
            for page in plan.pages:
                if page.number in stored:
                    continue
                if isinstance(page, Page):
                    sink.store_page(source.doc_id, page)
                    continue
                doc.outstanding.add(page.number)
                total_pages += 1
                while len(in_flight) >= window:
                    collect(block=True)
                in_flight[pool.submit(process_page, page, cfg)] = (doc, page.number)
            if not doc.outstanding and not doc.error:
                finish(doc)
            collect(block=False)
        while in_flight:
            collect(block=True)
    finally:
        if own_executor:
            pool.shutdown(wait=True, cancel_futures=True)
    return IngestSummary(tuple(outcomes[i] for i in sorted(outcomes)), time.monotonic() - started)
