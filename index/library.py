"""The library folder: catalog.sqlite, index/ (Whoosh), pages/ (per-page ALTO). The ingest sink."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from lxml import etree
from whoosh import index as whoosh_index
from whoosh.index import Index

from pipeline.config import Config
from pipeline.errors import LibraryError, NotFoundError
from pipeline.page.alto import parse_alto
from pipeline.page.quality import estimate_alto
from pipeline.records import Page, Tags
from pipeline.text import segment

from .analysis import compact_search_form
from .catalog import Catalog, DocumentRow
from .grams import GRAMS_DIR, GramWriter, page_key
from .pageimages import write_page_images
from .realign import realign_alto
from .schema import SCHEMA_VERSION, build_schema
from .writer import (IndexQueue, WriterBudget, index_writer, merge_small_segments, small_segments,
                     write_documents)

if TYPE_CHECKING:  # only a type here: importing it at run time pulls in Pillow (cold searches)
    from pipeline.run.sources import DocumentPlan

    from .search import SearchContext

CATALOG_FILE = "catalog.sqlite"
INDEX_DIR = "index"
PAGES_DIR = "pages"
USER_DICT_FILE = "userdict.txt"
LOCK_FILE = "ingest.lock"
SCHEMA_FILE = "schema_version"
T = TypeVar("T")
# Commit the index at least this often during an ingest so searches see new pages. Each commit
# is a Whoosh segment and a gram segment that later merges rewrite: at 10 s (and commits made
# whenever ~100 documents were ready) the 1亿 set took 232 commits, ~0.4 M characters each, and
# the writer's merges grew with the batch (benchmarks/README.md, issue 18); at 30 s a commit is
# a budget's worth (`WriterBudget.batch_chars`) in a big text batch.
COMMIT_SECONDS = 30.0
COMMIT_PAGES = 2000
REINDEX_BATCH_PAGES = 5000  # pages per Whoosh commit and gram segment during `reindex`


class LibraryFolder:
    """The library folder, open: its catalog, its index, the ingest sink and the index writer.

    Internal: scripts use `index.Library` (index/api.py), which opens one of these per task.
    Use as a context manager; `writable=True` takes the ingest lock; `rebuilding=True` (with it)
    leaves the index unopened, for `reindex` to replace."""

    def __init__(self, cfg: Config, create: bool = False, writable: bool = False,
                 rebuilding: bool = False) -> None:
        self.cfg = cfg
        self.root = Path(cfg.library)
        if not (self.root / CATALOG_FILE).exists():
            if not create:
                raise LibraryError(f"{self.root}: no library here "
                                   "(ingest something first, or pass --library)")
            self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fh: Any = None
        if writable:
            self._take_lock()
        try:
            self.catalog = Catalog(self.root / CATALOG_FILE)
            user_dict = self.root / USER_DICT_FILE
            segment.use_user_dicts((str(user_dict),) if user_dict.is_file() else ())
            self._ix: Index | None = None
            self._writer: Any = None
            self._pending: list[str] = []
            self._queue: IndexQueue | None = None
            self._pending_pages = 0
            self._pending_chars = 0
            self._pending_sizes: dict[str, int] = {}  # characters of each queued document
            self._indexed_pages = 0  # pages this folder's commits wrote to the index
            self.budget = WriterBudget(cfg.writer_memory)
            self._last_commit = time.monotonic()
            # Automatic tags on new documents (a bulk import may switch them off).
            self.auto_tags = True
            self.kept_corrections = 0  # corrected pages whose text a new OCR did not replace
            if writable and not rebuilding:  # `reindex` replaces an index of any version
                self._index(create=True)
        except BaseException:
            # Opening failed half-way (a full disk while the index is created): release the
            # lock now, not when the traceback lets go of this object, or the next ingest in
            # this process finds it held.
            if getattr(self, "catalog", None) is not None:
                self.catalog.close()
            if self._lock_fh is not None:
                self._lock_fh.close()
                self._lock_fh = None
            raise

    # -- lifecycle ---------------------------------------------------------------------------

    def _take_lock(self) -> None:
        # flock dies with its process, so a `kill -9`ed ingest never leaves the library locked.
        # The holder's pid is written into the file for messages and `check`, never trusted.
        self._lock_fh = open(self.root / LOCK_FILE, "a+")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_fh.close()
            self._lock_fh = None
            holder = self.lock_holder()
            who = f"another ingest (pid {holder})" if holder else "another ingest"
            raise LibraryError(
                f"{self.root}: {who} is writing to this library; wait for it to finish, then run "
                "the command again"
            ) from exc
        self._lock_fh.seek(0)
        self._lock_fh.truncate()
        self._lock_fh.write(f"{os.getpid()}\n")
        self._lock_fh.flush()

    def lock_holder(self) -> int | None:
        """The pid of a live process holding the ingest lock as it last recorded, else None."""
        try:
            pid = int((self.root / LOCK_FILE).read_text().strip() or 0)
        except (OSError, ValueError):
            return None
        if pid <= 0 or (self._lock_fh is not None and pid == os.getpid()):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def __enter__(self) -> "LibraryFolder":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit pending index writes and release the lock."""
        try:
            self.commit()
        finally:
            try:
                if self._queue is not None:
                    self._queue.close()  # stop the jieba workers now, not when collected
                    self._queue = None
                self.catalog.close()
            finally:
                # Released whatever failed above (closing the catalog on a full disk can fail):
                # a lock left held would refuse every later ingest in this process.
                if self._lock_fh is not None:
                    self._lock_fh.close()
                    self._lock_fh = None

    @property
    def writable(self) -> bool:
        """True when this process holds the ingest lock (it may write the index)."""
        return self._lock_fh is not None

    @property
    def index_dir(self) -> Path:
        """Where the Whoosh index lives."""
        return self.root / INDEX_DIR

    def _index(self, create: bool = False) -> Index:
        if self._ix is not None:
            return self._ix
        version_file = self.index_dir / SCHEMA_FILE
        if _index_exists(self.index_dir):
            found = version_file.read_text().strip() if version_file.exists() else "?"
            if found != str(SCHEMA_VERSION):
                raise LibraryError(
                    f"{self.index_dir}: index schema version {found}, this Wenshi writes version "
                    f"{SCHEMA_VERSION}: run `wenshi reindex` to rebuild it from the catalog")
            self._ix = _open_index_dir(self.index_dir)
        elif create:
            self._ix = self._create_index()
        else:
            raise LibraryError(f"{self.index_dir}: no index; run `wenshi reindex`")
        return self._ix

    def _create_index(self) -> Index:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        # The version first and whole: an index whose creation a full disk interrupted then has
        # no table of contents yet and is created again, rather than standing without a
        # version (which `reindex` alone would mend).
        version = self.index_dir / SCHEMA_FILE
        tmp = version.with_name(SCHEMA_FILE + ".tmp")
        tmp.write_text(f"{SCHEMA_VERSION}\n")
        os.replace(tmp, version)
        return whoosh_index.create_in(str(self.index_dir), build_schema())

    def open_index(self) -> Index:
        """The Whoosh index for reading."""
        return self._index(create=False)

    def search_context(self) -> SearchContext:
        """A search context on the index's newest generation, holding every index file it will
        read, so that commits made while it is used (an ingest running) cannot take files from
        under it (see `bulk_read.hold_segment_files`). Close it (and its searcher) after use."""
        from .search import SearchContext

        ix = self.open_index()
        for _ in range(_GENERATION_ATTEMPTS):
            searcher = ix.searcher()
            try:
                context = SearchContext(searcher, self.catalog)
            except FileNotFoundError:  # a commit removed a file before it was opened
                searcher.close()
                continue
            except BaseException:
                searcher.close()
                raise
            if searcher.up_to_date() or searcher.reader().generation() is None:
                return context  # (an empty index has no files to hold)
            # A commit came while the files were being opened: some may have gone before.
            context.close()
            searcher.close()
        raise LibraryError(f"{self.root}: the index changed each time it was opened "
                           f"({_GENERATION_ATTEMPTS} times); run the search again")

    # -- the ingest sink ---------------------------------------------------------------------

    def document_state(self, doc_id: str) -> tuple[str, set[int]] | None:
        """None for an unknown document, else (status, pages stored without error).

        A complete document with failed pages reports "partial": the ingest retries those pages."""
        row = self.catalog.document(doc_id, prefix=False)
        if row is None:
            return None
        stored = self.catalog.stored_page_numbers(doc_id)
        if row.status == "complete" and len(stored) < len(
                self.catalog.stored_page_numbers(doc_id, include_failed=True)):
            return "partial", stored
        return row.status, stored

    def begin_document(self, plan: DocumentPlan, collection: str, metadata: dict[str, str]) -> None:
        """Record a new document before its pages arrive."""
        title = metadata.get("title") or plan.title
        with self.catalog.transaction():
            # A new attempt supersedes the failures of earlier ones (they stay if it fails too).
            self.catalog.clear_errors(plan.source.doc_id)
            # The absolute path, so exports can re-read the source from any working directory.
            source_path = str(Path(plan.source.path).resolve())
            self.catalog.begin_document(plan.source.doc_id, collection, source_path,
                                        plan.source.kind, title, plan.source.size,
                                        len(plan.pages), metadata)

    def store_page(self, doc_id: str, page: Page) -> None:
        """Store a page, its ALTO file and its images; a checkpoint that survives a crash.

        A page an editor corrected keeps its text (counted in `kept_corrections`): a new OCR
        only replaces its OCR fields, and its ALTO is aligned again to the corrected text."""
        corrected = self.catalog.page_version(doc_id, page.number) > 0
        if page.alto:
            folder = self.root / PAGES_DIR / doc_id
            folder.mkdir(parents=True, exist_ok=True)
            target = self.alto_ocr_path(doc_id, page.number) if corrected else self.alto_path(
                doc_id, page.number)
            self.write_page_file(doc_id, target, page.alto.encode("utf-8"))
        sizes = write_page_images(self.root, doc_id, page.number, page.images,
                                  self.write_page_file)
        with self.catalog.transaction():
            kept = not self.catalog.store_page(doc_id, page, compact_search_form(page.text))
            if sizes:
                self.catalog.store_page_images(doc_id, page.number, sizes)
        if kept:
            self.kept_corrections += 1
            self.realign_page(doc_id, page.number)
        self.record_page_files(doc_id, page.number)  # page files others wrote (images)

    def write_page_file(self, doc_id: str, target: Path, data: bytes) -> None:
        """Write a page file whole (temporary file, rename) with its checksum: announced
        before the rename and confirmed after, so a crash between leaves no false alarm."""
        name = target.relative_to(self.root).as_posix()
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
        self.catalog.expect_fixity(doc_id, name, sha, size)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        self.catalog.record_fixity(doc_id, [(name, sha, size)])

    def record_page_files(self, doc_id: str, number: int) -> None:
        """Take the checksums of a page's files as they are now (fixity, for `check`)."""
        folder = self.root / PAGES_DIR / doc_id
        if folder.is_dir():
            files = [p for p in folder.rglob(f"{number:04d}.*")  # subfolders too (images/)
                     if p.is_file() and not p.name.endswith(".tmp")]
            self.catalog.record_fixity(doc_id, [
                (p.relative_to(self.root).as_posix(), *_sha256(p)) for p in sorted(files)])

    def fixity_problems(self) -> tuple[list[str], list[str], list[str]]:
        """Page files (changed since written, missing, without a checksum), by library path."""
        changed: list[str] = []
        missing: list[str] = []
        recorded = set()
        for name, sha, size, pending, pending_size in self.catalog.fixity():
            recorded.add(name)
            path = self.root / name
            if not path.is_file():
                if sha:  # (no sha: a first write a crash interrupted before the rename)
                    missing.append(name)
                continue
            actual = path.stat().st_size
            if actual not in (size, pending_size) or _sha256(path)[0] not in (sha, pending):
                changed.append(name)
        known = self.catalog.doc_ids()
        folder = self.root / PAGES_DIR
        unrecorded = sorted(
            p.relative_to(self.root).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] in known
            and not p.name.endswith(".tmp")
            and p.relative_to(self.root).as_posix() not in recorded) if folder.is_dir() else []
        return changed, missing, unrecorded

    def changed_originals(self) -> tuple[list[str], int]:
        """(paths of reachable source files whose content no longer gives their document id,
        number of source files not reachable)."""
        changed: list[str] = []
        unreachable = 0
        for doc in self.catalog.documents():
            path = Path(doc.path)
            if not path.is_file():
                unreachable += 1
            elif not _sha256(path)[0].startswith(doc.doc_id):
                changed.append(doc.path)
        return changed, unreachable

    def realign_page(self, doc_id: str, number: int) -> None:
        """Set the page's ALTO from the OCR's own ALTO and the page's current text (under a lock,
        so two saves of one page cannot leave the older text's ALTO behind)."""
        current = self.alto_path(doc_id, number)
        original = self.alto_ocr_path(doc_id, number)
        if not original.is_file():
            if not current.is_file():
                return  # not an OCR page: no ALTO
            self.write_page_file(doc_id, original, current.read_bytes())
        with open(original, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                page = self.catalog.page(doc_id, number)
                if page is None:
                    return
                data = realign_alto(fh.read(), page.text, page.version)
                self.write_page_file(doc_id, current, data)  # with its checksum (fixity)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def finish_document(self, doc_id: str) -> tuple[int, int]:
        """Tag the document, mark it complete and queue it for the index.

        In a big session the index workers tag it with its index analysis (one jieba pass for
        both): it is marked complete with pending tags, which are stored just before it is
        indexed. A complete document the index lacks is tagged whenever it is indexed, so one
        left pending by a crash is tagged by the next ingest or `check --repair`."""
        queue = self._index_queue()
        tags: Tags | None
        pages = [] if not self.auto_tags or queue.pooled else self.catalog.pages(doc_id)
        if not self.auto_tags:
            tags = Tags()
        elif queue.pooled or queue.will_pool(sum(len(p.text) for p in pages)):
            # pending: the index workers make them (a document that starts them too: a
            # scanned volume's whole text is not tagged in this process)
            tags = None
            del pages
        else:
            doc = self.catalog.document(doc_id)
            tags = self.compute_tags("\n".join(p.text for p in pages), doc.title if doc else "",
                                     doc.metadata if doc else {})
        chars = self.catalog.finish_document(doc_id, tags)
        pages_stored = len(self.catalog.stored_page_numbers(doc_id, include_failed=True))
        self._queue_for_index(doc_id, pages_stored)
        return pages_stored, chars

    def discard_document(self, doc_id: str) -> None:
        """Forget an unreadable document, its pages and their files (and its index entries)."""
        row = self.catalog.document(doc_id)
        if row is not None and row.doc_id == doc_id and row.indexed:
            self._delete_from_index([doc_id])
        self.catalog.delete_document(doc_id)
        shutil.rmtree(self.root / PAGES_DIR / doc_id, ignore_errors=True)

    def record_failure(self, path: str, error: str, doc_id: str) -> None:
        """Keep an input failure in the catalog."""
        self.catalog.record_error(path, error, doc_id)

    def compute_tags(self, text: str, title: str, metadata: dict[str, str]) -> Tags:
        """Automatic tags of a document's text, with the archivist's corrections applied."""
        from .tags import tags_for_text

        return tags_for_text(text, title, self.root, metadata)

    def _tagger_for(self, doc: DocumentRow) -> Any:
        """How the index queue tags a document whose tags are pending (None: they are not)."""
        from .tags import tag_job

        return tag_job(self.root, doc.metadata) if doc.tags_pending else None

    def retag(self, doc_id: str) -> Tags:
        """Recompute one document's tags from its catalog text (no OCR); queue it for the index."""
        doc = self.document(doc_id)
        pages = self.catalog.pages(doc.doc_id)
        tags = self.compute_tags("\n".join(p.text for p in pages), doc.title, doc.metadata)
        self.catalog.update_document_fields(doc.doc_id, tags=tags)
        self._queue_for_index(doc.doc_id, len(pages))
        return tags

    def reindex_documents(self, doc_ids: list[str]) -> None:
        """Rewrite these documents' index entries from the catalog now (after catalog edits)."""
        self._pending.extend(doc_ids)
        self.commit()

    def move_documents(self, doc_ids: list[str], collection: str) -> None:
        """Move documents to another collection: the catalog first (marked unindexed, so an
        interruption leaves work `check --repair` finishes), then their index entries."""
        self.catalog.move_documents(doc_ids, collection)
        self.reindex_documents(doc_ids)

    def remove_documents(self, doc_ids: list[str]) -> None:
        """Remove documents from the catalog, the index (exact index included) and `pages/`.

        The intent is recorded first; then the index entries go (searches stop finding them at
        that commit), then the catalog rows in one transaction, then the page files. A `kill -9`
        at any point leaves a removal that `check` reports and `check --repair` finishes."""
        self.catalog.mark_for_removal(doc_ids)
        self.finish_removals()

    def finish_removals(self) -> list[str]:
        """Complete every removal an `rm` began (all of them after a crash). Returns the ids."""
        doc_ids = self.catalog.pending_removals()
        if not doc_ids:
            return []
        if _index_exists(self.index_dir):
            self._delete_from_index(doc_ids)
            # The exact index too: searches ignore pages Whoosh lacks, but the text must go.
            keys = [page_key(seq, number) for seq, number in self.catalog.page_numbers(doc_ids)]
            GramWriter(self.index_dir / GRAMS_DIR).purge(keys)
        self.catalog.remove_documents(doc_ids)
        for doc_id in doc_ids:
            shutil.rmtree(self.root / PAGES_DIR / doc_id, ignore_errors=True)
        return doc_ids

    def orphan_page_folders(self) -> list[str]:
        """Folders in `pages/` of documents the catalog does not have (left by a crash)."""
        folder = self.root / PAGES_DIR
        if not folder.is_dir():
            return []
        known = self.catalog.doc_ids()
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in known)

    # -- index writing -----------------------------------------------------------------------

    def _queue_for_index(self, doc_id: str, pages: int) -> None:
        self._pending.append(doc_id)
        self._pending_pages += pages
        queue = self._index_queue()
        chars = queue.add(doc_id)
        self._pending_sizes[doc_id] = chars
        self._pending_chars += chars
        # When the index workers have too much waiting, write a batch they have finished (a
        # whole one: smaller commits cost merges later) or help them rather than queue more.
        # So the workers segment and tag while this process writes Whoosh, and neither waits
        # long.
        while queue.behind():
            ready = queue.ready(self._pending)
            if self._ready_chars(ready) >= self.budget.batch_chars:
                self.commit(ready)
            else:
                queue.help()
        ready = queue.ready(self._pending)
        if ready and (self._ready_chars(ready) >= self.budget.batch_chars
                      or self._pending_pages >= COMMIT_PAGES
                      or time.monotonic() - self._last_commit >= COMMIT_SECONDS):
            self.commit(ready)
        elif self._pending_chars >= 2 * self.budget.batch_chars:
            # Back-pressure: the queue holds its documents' texts and word counts; rather
            # than let it grow past the budget, wait for the workers and write it.
            self.commit()

    def _ready_chars(self, ready: int) -> int:
        """Characters of the first `ready` queued documents."""
        return sum(self._pending_sizes.get(d, 0) for d in self._pending[:ready])

    def _index_queue(self) -> IndexQueue:
        queue = self._queue
        if queue is None:
            user_dict = self.root / USER_DICT_FILE
            queue = self._queue = IndexQueue(self.catalog,
                                             (str(user_dict),) if user_dict.is_file() else (),
                                             self.cfg.workers, self._tagger_for, self.budget)
        return queue

    def commit(self, count: int | None = None, *, last: bool = False) -> None:
        """Write queued documents (the first `count` of them) to the index and commit; mark them
        indexed in the catalog.

        `last`: an ingest's last commit, which also merges the small Whoosh segments the ingest
        left (`merge_small_segments`, reading at most as many pages as this folder indexed), so
        that searches afterwards do not depend on where its commits fell."""
        if not self._pending:
            if last:
                self._merge_small_segments()
            return
        ix = self._index(create=True)
        n = len(self._pending) if count is None else count
        docs = [d for d in (self.catalog.document(i) for i in dict.fromkeys(self._pending[:n]))
                if d is not None]
        limit = self._indexed_pages + sum(d.page_count for d in docs)
        written = write_documents(ix, self.catalog, docs, self._index_queue(), update=True,
                                  budget=self.budget,
                                  mergetype=merge_small_segments(limit) if last else None)
        self.catalog.set_indexed(written)
        done = set(written)
        self._indexed_pages += sum(d.page_count for d in docs if d.doc_id in done)
        self._pending = [d for d in self._pending[n:] if d not in done]
        for doc_id in done:
            self._pending_sizes.pop(doc_id, None)
        rest = [d for d in map(self.catalog.document, self._pending) if d]
        self._pending_pages = sum(d.page_count for d in rest)
        self._pending_chars = sum(d.char_count for d in rest)
        self._last_commit = time.monotonic()

    def index_unindexed(self, *, last: bool = False) -> int:
        """Index complete documents the index does not hold yet (after a crash). Returns count.
        `last`: this is an ingest's last commit (`commit`)."""
        for doc in self.catalog.documents(indexed=False):
            self._pending.append(doc.doc_id)
        count = len(self._pending)
        self.commit(last=last)
        return count

    def _merge_small_segments(self) -> None:
        """Merge the small Whoosh segments in a commit of their own (nothing else to write)."""
        if not self._indexed_pages or not _index_exists(self.index_dir):
            return
        writer = index_writer(self._index(), self.budget.whoosh_limitmb)
        if len(small_segments(writer.segments, 0, self._indexed_pages)) < 2:
            writer.cancel()
            return
        writer.commit(mergetype=merge_small_segments(self._indexed_pages))

    def reindex(self) -> int:
        """Rebuild the index from the catalog, without any OCR. Returns pages indexed.

        The new index is built beside the old one and swapped in, so searches keep working.
        """
        self.estimate_stored_pages()
        tmp_dir = self.root / (INDEX_DIR + ".new")
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp_dir), build_schema())
        (tmp_dir / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
        docs = list(self.catalog.documents())
        batches: list[list[DocumentRow]] = [[]]
        for doc in docs:
            if (sum(d.page_count for d in batches[-1]) >= REINDEX_BATCH_PAGES
                    or sum(d.char_count for d in batches[-1]) >= self.budget.batch_chars):
                batches.append([])
            batches[-1].append(doc)
        user_dict = self.root / USER_DICT_FILE
        queue = IndexQueue(self.catalog, (str(user_dict),) if user_dict.is_file() else (),
                           self.cfg.workers, self._tagger_for, self.budget)
        try:
            for batch in batches[:2]:  # workers segment one batch ahead of the writer
                for doc in batch:
                    queue.add(doc.doc_id)
            pages = sum(d.page_count for d in docs)
            for i, batch in enumerate(batches):
                # The last commit merges the small segments, as an ingest's last commit does.
                last = merge_small_segments(pages) if i == len(batches) - 1 else None
                write_documents(ix, self.catalog, batch, queue, update=False, budget=self.budget,
                                mergetype=last)
                for doc in batches[i + 2] if i + 2 < len(batches) else ():
                    queue.add(doc.doc_id)
        finally:
            queue.close()
        ix.close()
        self._ix = None
        old = self.root / (INDEX_DIR + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.index_dir.exists():
            os.replace(self.index_dir, old)
        os.replace(tmp_dir, self.index_dir)
        shutil.rmtree(old, ignore_errors=True)
        self.catalog.set_indexed([d.doc_id for d in docs])
        return sum(d.page_count for d in docs)

    def estimate_stored_pages(self) -> int:
        """Give OCR pages stored before the quality estimate existed their estimate, from their
        stored ALTO (the OCR's own, for corrected pages): no OCR, files left as they are.
        Returns the pages estimated; a page without ALTO keeps no estimate."""
        done = 0
        for doc_id, number in self.catalog.pages_without_estimate():
            root = self.page_alto(doc_id, number)
            estimate = estimate_alto(root) if root is not None else None
            if estimate is not None:
                self.catalog.set_quality(doc_id, number, estimate.error_rate, estimate.errors,
                                         estimate.reasons)
                done += 1
        return done

    def page_alto(self, doc_id: str, number: int) -> etree._Element | None:
        """The OCR's ALTO of a stored page, parsed (None if it has none or it cannot be read)."""
        for path in (self.alto_ocr_path(doc_id, number), self.alto_path(doc_id, number)):
            if path.is_file():
                try:
                    return parse_alto(path.read_text(encoding="utf-8"))
                except (OSError, ValueError, etree.XMLSyntaxError):
                    return None
        return None

    # -- reading -----------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentRow:
        """A document by id or unique id prefix; NotFoundError otherwise."""
        row = self.catalog.document(doc_id)
        if row is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root}")
        return row

    def documents(self, collection: str | None = None) -> Iterator[DocumentRow]:
        """Complete documents in ingest order."""
        return self.catalog.documents(collection)

    def alto_path(self, doc_id: str, number: int) -> Path:
        """Where a page's ALTO file is (it exists for OCR pages only)."""
        return self.root / PAGES_DIR / doc_id / f"{number:04d}.alto.xml"

    def alto_ocr_path(self, doc_id: str, number: int) -> Path:
        """Where the OCR's own ALTO of a corrected page is kept (alto_path is then re-aligned
        to the corrected text)."""
        return self.root / PAGES_DIR / doc_id / f"{number:04d}.alto.ocr.xml"

    def refresh_document(self, doc_id: str) -> None:
        """Replace a document's index entries (Whoosh and exact index) from the catalog now, its
        tags recomputed from its current text: after a correction. Needs the ingest lock."""
        if self._lock_fh is None:
            raise LibraryError("refreshing the index needs the library opened for writing")
        doc = self.document(doc_id)
        if self.auto_tags and not doc.tags_pending:
            self.catalog.mark_tags_pending(doc.doc_id)
        self._pending.append(doc.doc_id)
        self._pending_pages += doc.page_count
        self._index_queue().add(doc.doc_id)
        self.commit()

    # -- consistency -------------------------------------------------------------------------

    def check(self) -> "Consistency":
        """Compare the catalog's complete documents with the index, page id by page id."""
        expected = self.catalog.complete_page_ids()
        changed, missing_files, unrecorded = self.fixity_problems()
        originals, unreachable = self.changed_originals()
        seen: dict[str, int] = {}
        if _index_exists(self.index_dir):
            with self._index().searcher() as searcher:
                for stored in searcher.reader().all_stored_fields():
                    page_id = str(stored.get("id", ""))
                    seen[page_id] = seen.get(page_id, 0) + 1
        return Consistency(
            catalog_documents=len(self.catalog.complete_doc_ids()), catalog_pages=len(expected),
            index_pages=sum(seen.values()),
            missing=tuple(sorted(expected - set(seen), key=_page_key)),
            extra=tuple(sorted(set(seen) - expected, key=_page_key)),
            duplicates=tuple(sorted((i for i, n in seen.items() if n > 1), key=_page_key)),
            unindexed=self.catalog.unindexed_doc_ids(), partial=self.catalog.partial_paths(),
            failed_pages=self.catalog.failed_page_count(),
            ingest_running=self.lock_holder(),
            removals=tuple(self.catalog.pending_removals()),
            orphan_folders=tuple(self.orphan_page_folders()),
            integrity=tuple(self.catalog.integrity_problems()),
            changed_files=tuple(changed), missing_files=tuple(missing_files),
            unrecorded_files=tuple(unrecorded), changed_originals=tuple(originals),
            unreachable_originals=unreachable,
        )

    def repair(self, found: "Consistency") -> tuple[int, int]:
        """Re-index every document `check` found a problem with, from the catalog (no OCR), and
        drop index entries of documents that are not complete. Needs the ingest lock.
        Returns (documents re-indexed, documents dropped)."""
        if self._lock_fh is None:
            raise LibraryError("repair needs the library opened for writing")
        self.finish_removals()
        for name in found.unrecorded_files:  # files of a library made before checksums
            doc_id, file = name.split("/")[1], Path(name).name
            if file[:4].isdigit():
                self.record_page_files(doc_id, int(file[:4]))
        for name in self.orphan_page_folders():
            shutil.rmtree(self.root / PAGES_DIR / name, ignore_errors=True)
        complete = self.catalog.complete_doc_ids()
        affected = {page_id.split("#", 1)[0]
                    for page_id in found.missing + found.extra + found.duplicates}
        affected |= set(found.unindexed)
        drop = sorted(d for d in affected if d not in complete)
        redo = sorted(d for d in affected if d in complete)
        if drop:
            self._delete_from_index(drop)
        # commit() writes with update=True: every indexed copy of a document goes, its pages return.
        self._pending.extend(redo)
        self.commit()
        return len(redo), len(drop)

    def _delete_from_index(self, doc_ids: list[str]) -> None:
        with self._index(create=True).writer() as writer:
            for doc_id in doc_ids:
                writer.delete_by_term("doc_id", doc_id)
        self.catalog.set_indexed(doc_ids, indexed=False)


@dataclass(frozen=True)
class Consistency:
    """What `LibraryFolder.check` found, comparing catalog and index page id by page id."""

    catalog_documents: int  # complete documents
    catalog_pages: int  # their pages (failed ones included: they are indexed with empty text)
    index_pages: int  # documents in the Whoosh index, duplicates included
    missing: tuple[str, ...]  # page ids (doc_id#page) of complete documents the index lacks
    extra: tuple[str, ...]  # page ids in the index that no complete document has
    duplicates: tuple[str, ...]  # page ids indexed more than once
    unindexed: tuple[str, ...]  # complete documents the catalog has not marked indexed
    partial: tuple[str, ...]  # paths of documents an interrupted ingest left (ingest them again)
    failed_pages: int  # pages stored with an error (see `stats`; a later ingest retries them)
    ingest_running: int | None  # pid of an ingest holding the lock: its last pages may be pending
    removals: tuple[str, ...] = ()  # documents an interrupted `rm` began to remove
    orphan_folders: tuple[str, ...] = ()  # page folders of documents the catalog lacks
    integrity: tuple[str, ...] = ()  # SQLite's integrity_check findings (empty: sound)
    changed_files: tuple[str, ...] = ()  # page files whose checksum no longer matches
    missing_files: tuple[str, ...] = ()  # page files with a checksum that are gone
    unrecorded_files: tuple[str, ...] = ()  # page files without a checksum (older libraries)
    changed_originals: tuple[str, ...] = ()  # reachable source files whose content changed
    unreachable_originals: int = 0  # source files no longer at their path

    @property
    def ok(self) -> bool:
        """True when the index holds exactly the catalog's complete pages, each once, no
        removal is unfinished, the catalog file is sound and every page file is as written."""
        return not (self.missing or self.extra or self.duplicates or self.unindexed
                    or self.removals or self.orphan_folders or self.integrity
                    or self.changed_files or self.missing_files or self.unrecorded_files)


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _page_key(page_id: str) -> tuple[str, int]:
    doc_id, _, number = page_id.partition("#")
    return doc_id, int(number) if number.isdigit() else 0


# Opening a search context takes milliseconds; an ingest commits every few seconds at most.
_GENERATION_ATTEMPTS = 20

# When a writer commits, Whoosh deletes the previous generation's TOC file. A reader that listed
# the folder just before then fails to open it: Index.reader() retries for that reason, but
# open_dir and exists_in do not, so a search during an ingest could fail now and then.
_VANISHED_RETRIES = 40
_VANISHED_WAIT = 0.05


def _retry_vanished(open_index: Callable[[], T]) -> T:
    for _ in range(_VANISHED_RETRIES - 1):
        try:
            return open_index()
        except FileNotFoundError:
            time.sleep(_VANISHED_WAIT)
    return open_index()


def _index_exists(folder: Path) -> bool:
    # Look for Whoosh's table of contents instead of calling `exists_in`: that unpickles the
    # schema, which fails with an AttributeError on an index written by another Wenshi version
    # (its pickle names classes this version no longer has) before the version check can speak.
    return any(folder.glob(f"_{whoosh_index._DEF_INDEX_NAME}_*.toc"))


def _open_index_dir(folder: Path) -> Index:
    return _retry_vanished(lambda: whoosh_index.open_dir(str(folder)))


def dumps(obj: Any) -> str:
    """JSON for Chinese readers: UTF-8, characters unescaped."""
    return json.dumps(obj, ensure_ascii=False, indent=2)
