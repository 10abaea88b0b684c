"""Ingest orchestration: files -> page tasks -> workers -> a sink that stores them.

The ingest never imports index/: it hands finished pages to a `Sink` (the library implements
it) and asks the sink what is already stored, so a re-run skips finished documents and pages.

Shape of a run: the main process discovers and plans files lazily (hashing, headers, PDF text
layers), hands page tasks to an executor through a window of a few tasks per worker (so a
500-page volume never sits in memory at once), and stores each page as it returns: a page is a
checkpoint, so `kill -9` loses at most the pages in flight. Decoding, rasterising, preprocessing
and Tesseract all happen in the workers; the main process only writes.

Executors (`pool.py`): inline (one job), a local process pool (one single-threaded Tesseract per
worker), or a Dask cluster (`Config.scheduler`, see `cluster.py`). Every one of them runs the same
`pipeline.page.process.process_page` on each page.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

from ..config import Config
from ..errors import EnvironmentProblemError, InputFileError
from ..page.engines import Engine
from ..page.process import (SCRIPT_RECHECK_CONFIDENCE, check_engines, crash_engine, other_engine,
                            page_error, process_page)
from ..page.script import AUTO, PROVISIONAL
from ..records import METHOD_OCR, FileOutcome, IngestSummary, Page, PageTask
from .pool import executor_slots, make_executor, remove_orphaned_work_dirs
from .sources import DocumentPlan, discover_files, identify, plan_document

log = logging.getLogger(__name__)

STATUS_INGESTED, STATUS_SKIPPED, STATUS_FAILED, STATUS_UNSUPPORTED = (
    "ingested", "skipped", "failed", "unsupported")
# What `Sink.document_state` reports for a document with every page stored without error.
STATE_COMPLETE = "complete"
# Tasks handed to the executor per worker: one running, three queued. The writer sometimes stops
# collecting for seconds (tagging or indexing a finished volume, planning a large PDF, loading
# jieba's tagger once: 14 s on a loaded machine); the queue keeps the workers busy meanwhile.
# A queued task is a file name and a page number, so memory stays bounded however large the volume.
TASKS_PER_WORKER = 4


class Sink(Protocol):
    """Where finished pages go. The library implements it; tests may use a small fake."""

    def document_state(self, doc_id: str) -> tuple[str, set[int]] | None:
        """None for an unknown document, else (status, numbers of pages stored without error).

        Status "complete" means every page is stored without error: the ingest skips the
        document. Any other status is resumed: pages stored without error are kept, the rest
        (never stored, or stored with an error) are processed again."""

    def begin_document(self, plan: DocumentPlan, collection: str, metadata: dict[str, str]) -> None:
        """Record a new document before its pages arrive."""

    def store_page(self, doc_id: str, page: Page) -> None:
        """Store one finished page (a checkpoint: it survives a crash). A page with an error is
        stored too, so `stats` can list it; a later ingest retries it."""

    def finish_document(self, doc_id: str) -> tuple[int, int]:
        """All pages are in: tag and index the document. Returns (pages, characters)."""

    def discard_document(self, doc_id: str) -> None:
        """Forget a document that turned out to be unreadable."""

    def record_failure(self, path: str, error: str, doc_id: str) -> None:
        """Keep an input failure in the catalog."""


# (pages done, pages expected: an estimate until all files are planned)
ProgressFn = Callable[[int, int], None]
MetadataFn = Callable[[Path], dict[str, str]]


class LangVotes:
    """`--lang auto` once per document, not once per page.

    The first page of a document (or of a folder of single page files) is handed out with no
    hint and runs its own script trial; the pages handed out while it is away read with chi_sim
    and try only if that reads badly (PROVISIONAL). Every page that comes back read confidently
    votes for the model it was read with, and later pages get the winner as their hint
    (`PageTask.lang_hint`, so it reaches pool and Dask workers alike). A re-run after a crash
    starts the vote afresh. Each page's model stays visible as its stored `lang`."""

    MIN_WORDS = 20  # a cover, a blank or a plate page says nothing about the script

    def __init__(self) -> None:
        self._votes: dict[str, Counter[str]] = {}
        self._started: set[str] = set()

    def hint(self, group: str) -> str:
        """The model most confident pages of `group` were read with; before any, '' (decide)
        for the group's first page and PROVISIONAL for the pages handed out while it decides."""
        votes = self._votes.get(group)
        if votes:
            return votes.most_common(1)[0][0]
        if group in self._started:
            return PROVISIONAL
        self._started.add(group)
        return ""

    def record(self, group: str, page: Page) -> None:
        """Count a finished page's model, if it read well enough to speak for its group."""
        if (not page.error and page.lang and len(page.words) >= self.MIN_WORDS
                and page.confidence is not None and page.confidence >= SCRIPT_RECHECK_CONFIDENCE):
            self._votes.setdefault(group, Counter())[page.lang] += 1


@dataclass
class _Doc:
    index: int  # position of the input among all outcomes
    path: str
    doc_id: str
    lang_group: str  # whose `--lang auto` decision its pages share (LangVotes)
    outstanding: set[int] = field(default_factory=set)  # pages handed out, not back yet
    planned: bool = False  # every task of the document has been handed out
    ok_pages: int = 0  # pages stored without error, by this run or an earlier one
    reused: int = 0  # pages an earlier run stored, not processed again
    failed: dict[int, str] = field(default_factory=dict)


@dataclass
class _Job:
    doc: _Doc
    task: PageTask
    isolated: bool = False  # running alone after a worker crash, to find the page that crashed it


class _Ingest:
    """One ingest run: plans lazily, keeps the executor's window full, stores what returns."""

    def __init__(self, cfg: Config, sink: Sink, collection: str, metadata_for: MetadataFn | None,
                 progress: ProgressFn | None, executor: Executor | None,
                 engine: Engine | None = None) -> None:
        self.cfg, self.sink, self.collection = cfg, sink, collection
        self.engine = engine
        # The engines are checked when the first page needs OCR, not before: text files and
        # born-digital PDFs ingest on a machine without Tesseract or PP-OCR.
        self.engines_checked = engine is not None
        self.metadata_for, self.progress = metadata_for, progress
        self.own_pool = executor is None
        self.pool = executor or make_executor(cfg)
        self.outcomes: dict[int, FileOutcome] = {}
        self.open_docs: dict[str, _Doc] = {}
        self.in_flight: dict[Future[Page], _Job] = {}
        self.suspects: deque[_Job] = deque()
        self.files_total = self.files_planned = 0
        self.pages_total = self.pages_done = 0
        self.lang_votes = LangVotes()

    def run(self, paths: Sequence[str | Path]) -> None:
        """Ingest the paths; outcomes collect in `self.outcomes`."""
        found = discover_files(paths)
        order = 0
        for missing in found.missing:
            self.outcomes[order] = FileOutcome(str(missing), STATUS_FAILED,
                                               error="no such file or folder")
            order += 1
        for other in found.unsupported:
            self.outcomes[order] = FileOutcome(str(other), STATUS_UNSUPPORTED,
                                               error="unsupported file type "
                                                     f"{other.suffix or '(none)'}")
            order += 1
        self.files_total = len(found.files)
        try:
            self._drive(self._jobs(found.files, order))
        finally:
            if self.own_pool:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _drive(self, jobs: Iterator[_Job]) -> None:
        exhausted = False
        while True:
            if self.suspects:
                if not self.in_flight:
                    job = self.suspects.popleft()
                    job.isolated = True
                    self._submit(job)
            else:
                window = TASKS_PER_WORKER * executor_slots(self.pool, self.cfg)
                while not exhausted and len(self.in_flight) < window:
                    job_or_none = next(jobs, None)
                    if job_or_none is None:
                        exhausted = True
                    else:
                        self._submit(job_or_none)
            if not self.in_flight:
                if exhausted and not self.suspects:
                    return
                continue
            self._collect()

    # -- planning ----------------------------------------------------------------------------

    def _jobs(self, files: Sequence[Path], first_index: int) -> Iterator[_Job]:
        """Plan each file in turn and yield its page tasks; finish documents needing none."""
        for index, path in enumerate(files, start=first_index):
            self.files_planned += 1
            try:
                source = identify(path)
                state = (None if source.doc_id in self.open_docs
                         else self.sink.document_state(source.doc_id))
                if (source.doc_id in self.open_docs
                        or (state is not None and state[0] == STATE_COMPLETE)):
                    self.outcomes[index] = FileOutcome(str(path), STATUS_SKIPPED, source.doc_id,
                                                       error="already in the library")
                    continue
                plan = plan_document(source, self.cfg)
            except InputFileError as exc:
                self.outcomes[index] = FileOutcome(str(path), STATUS_FAILED, error=str(exc))
                self.sink.record_failure(str(path), str(exc), "")
                continue
            if not self.engines_checked and not all(isinstance(p, Page) for p in plan.pages):
                # The first document with a page to read: a missing engine stops the run
                # here, before the document is begun; the documents stored so far stay.
                check_engines(self.cfg)
                self.engines_checked = True
            stored: set[int] = set()
            if state is None:
                metadata = self.metadata_for(path) if self.metadata_for else {}
                self.sink.begin_document(plan, metadata.get("collection") or self.collection,
                                         metadata)
            else:
                stored = state[1]
            # A volume decides its script from its own pages; single page files share their
            # folder's.
            group = source.doc_id if len(plan.pages) > 1 else f"folder:{Path(path).parent}"
            doc = _Doc(index, str(path), source.doc_id, group)
            self.open_docs[doc.doc_id] = doc
            tasks: list[PageTask] = []
            inline = 0
            for page in plan.pages:
                if page.number in stored:
                    doc.ok_pages += 1
                    doc.reused += 1
                elif isinstance(page, Page):
                    self.sink.store_page(doc.doc_id, page)
                    doc.ok_pages += 1
                    inline += 1
                else:
                    tasks.append(page)
            self.pages_total += len(tasks) + inline
            self.pages_done += inline
            for task in tasks:
                doc.outstanding.add(task.number)
                yield _Job(doc, task)
            doc.planned = True
            self._finish_if_done(doc)
            if inline and self.progress:  # text pages: done as soon as they are planned
                self.progress(self.pages_done, self._expected_pages())

    # -- executing ---------------------------------------------------------------------------

    def _submit(self, job: _Job) -> None:
        hint = self.lang_votes.hint(job.doc.lang_group) if self.cfg.lang == AUTO else ""
        if hint:
            job.task = replace(job.task, lang_hint=hint)
        try:
            future = self.pool.submit(process_page, job.task, self.cfg, self.engine)
        except InputFileError as exc:  # a cluster executor reads the page to ship it
            self._page_done(job, Page(number=job.task.number, text="", method=METHOD_OCR,
                                      error=page_error(job.task.number, exc)))
            return
        self.in_flight[future] = job

    def _collect(self) -> None:
        done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        crashed = [job for future in done if (job := self._receive(future)) is not None]
        if crashed:
            self._recover(crashed)

    def _receive(self, future: Future[Page]) -> _Job | None:
        """Store the page a finished future holds; returns its job if the pool died under it."""
        job = self.in_flight.pop(future)
        try:
            page = future.result()
        except BrokenProcessPool:
            return job
        except EnvironmentProblemError:
            raise  # a worker without Tesseract or a model: no page can succeed, stop now
        except Exception as exc:  # noqa: BLE001 - one page's bug must not end the batch
            if (type(exc).__name__ == "KilledWorker" and not job.task.engine
                    and crash_engine(self.cfg)):
                # Dask workers died under this page (the scheduler has retried it on others
                # up to its allowed-failures): give the page the other engine once.
                log.warning("a Dask worker died on page %d of %s; reading it with %s",
                            job.task.number, job.doc.path, crash_engine(self.cfg))
                job.task = replace(job.task, engine=crash_engine(self.cfg))
                self._submit(job)
                return None
            log.debug("page %d of %s failed", job.task.number, job.doc.path, exc_info=True)
            page = Page(number=job.task.number, text="", method=METHOD_OCR,
                        error=f"{type(exc).__name__}: {exc}")
        if job.task.engine and not page.error:
            # read by the other engine after its worker died under the first (_recover)
            page = replace(page, steps=page.steps + (
                f"after-{other_engine(job.task.engine)}-crashed",))
        self._page_done(job, page)
        return None

    def _recover(self, crashed: list[_Job]) -> None:
        """A worker process died (crash, out of memory, killed): restart the pool and run the
        pages that were in flight again, one at a time, so only the page at fault fails."""
        rest = list(self.in_flight)
        wait(rest)
        crashed += [job for future in rest if (job := self._receive(future)) is not None]
        log.warning("an OCR worker process died; retrying %d pages one at a time", len(crashed))
        for job in crashed:
            if (job.isolated and not job.task.engine and self.own_pool and self.engine is None
                    and crash_engine(self.cfg)):
                # It died alone, so this page killed it: give the page the other engine once.
                job.task = replace(job.task, engine=crash_engine(self.cfg))
                self.suspects.append(job)
            elif job.isolated or not self.own_pool:
                self._page_done(job, Page(number=job.task.number, text="", method=METHOD_OCR,
                                          error="the OCR worker process died while reading "
                                                "this page (crash or out of memory)"))
            else:
                self.suspects.append(job)
        if self.own_pool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = make_executor(self.cfg)

    # -- storing -----------------------------------------------------------------------------

    def _page_done(self, job: _Job, page: Page) -> None:
        doc = job.doc
        self.pages_done += 1
        if page.error:
            doc.failed[page.number] = page.error
        else:
            doc.ok_pages += 1
        self.sink.store_page(doc.doc_id, page)
        self.lang_votes.record(doc.lang_group, page)
        doc.outstanding.discard(page.number)
        self._finish_if_done(doc)
        if self.progress:
            self.progress(self.pages_done, self._expected_pages())

    def _finish_if_done(self, doc: _Doc) -> None:
        if not doc.planned or doc.outstanding or doc.doc_id not in self.open_docs:
            return
        del self.open_docs[doc.doc_id]
        failed = tuple(sorted(doc.failed.items()))
        if doc.ok_pages == 0 and failed:
            # Nothing of the document could be read: it is a failed input, as a file that
            # cannot be opened is. Forget it, so a later run starts it afresh.
            number, error = failed[0]
            reason = (error if len(failed) == 1
                      else f"page {number}: {error} ({len(failed)} pages failed)")
            self.sink.discard_document(doc.doc_id)
            self.sink.record_failure(doc.path, reason, doc.doc_id)
            self.outcomes[doc.index] = FileOutcome(doc.path, STATUS_FAILED, doc.doc_id,
                                                   error=reason, failed_pages=failed)
            return
        pages, chars = self.sink.finish_document(doc.doc_id)
        self.outcomes[doc.index] = FileOutcome(doc.path, STATUS_INGESTED, doc.doc_id, pages, chars,
                                               failed_pages=failed, reused_pages=doc.reused)

    def _expected_pages(self) -> int:
        # Files are planned lazily, so until the last one is, extrapolate from those planned.
        if self.files_planned == 0 or self.files_planned >= self.files_total:
            return self.pages_total
        per_file = self.pages_total / self.files_planned
        return self.pages_total + round(per_file * (self.files_total - self.files_planned))

    def summary(self, elapsed: float) -> IngestSummary:
        """The outcomes in input order."""
        return IngestSummary(tuple(self.outcomes[i] for i in sorted(self.outcomes)), elapsed)


def ingest_paths(paths: Sequence[str | Path], collection: str, cfg: Config, sink: Sink,
                 metadata_for: MetadataFn | None = None, progress: ProgressFn | None = None,
                 executor: Executor | None = None, engine: Engine | None = None
                 ) -> IngestSummary:
    """Ingest files and folders into `sink`; one outcome per input file, in input order.

    Resumable: documents the sink holds complete are skipped, pages it holds without error are
    not processed again, and pages that failed before are retried. `engine` reads the pages
    (None: the one `cfg` names, built in each worker); it travels to pool workers pickled."""
    started = time.monotonic()
    remove_orphaned_work_dirs()
    run = _Ingest(cfg, sink, collection, metadata_for, progress, executor, engine)
    run.run(paths)
    return run.summary(time.monotonic() - started)
