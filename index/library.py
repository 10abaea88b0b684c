"""The library folder: catalog.sqlite, index/ (Whoosh), pages/ (per-page ALTO). The ingest sink."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

from whoosh import index as whoosh_index
from whoosh.index import Index

from pipeline import segment
from pipeline.config import Config
from pipeline.errors import LibraryError, NotFoundError
from pipeline.records import Page
from pipeline.sources import DocumentPlan

from .analysis import compact_search_form
from .catalog import Catalog, DocumentRow
from .schema import SCHEMA_VERSION, build_schema
from .writer import add_documents

CATALOG_FILE = "catalog.sqlite"
INDEX_DIR = "index"
PAGES_DIR = "pages"
USER_DICT_FILE = "userdict.txt"
LOCK_FILE = "ingest.lock"
SCHEMA_FILE = "schema_version"
# Commit the index at least this often during an ingest so searches see new pages.
COMMIT_SECONDS = 10.0
COMMIT_PAGES = 2000


class Library:
    """An open library. Use as a context manager; `writable=True` takes the ingest lock."""

    def __init__(self, cfg: Config, create: bool = False, writable: bool = False) -> None:
        self.cfg = cfg
        self.root = Path(cfg.library)
        if not (self.root / CATALOG_FILE).exists():
            if not create:
                raise LibraryError(f"{self.root}: no library here (ingest something first, or pass --library)")
            self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fh: Any = None
        if writable:
            self._take_lock()
        self.catalog = Catalog(self.root / CATALOG_FILE)
        user_dict = self.root / USER_DICT_FILE
        segment.use_user_dicts((str(user_dict),) if user_dict.is_file() else ())
        self._ix: Index | None = None
        self._writer: Any = None
        self._pending: list[str] = []
        self._pending_pages = 0
        self._last_commit = time.monotonic()
        if writable:
            self._index(create=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def _take_lock(self) -> None:
        self._lock_fh = open(self.root / LOCK_FILE, "a+")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_fh.close()
            raise LibraryError(
                f"{self.root}: another ingest is writing to this library; wait for it to finish"
            ) from exc

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit pending index writes and release the lock."""
        try:
            self.commit()
        finally:
            self.catalog.close()
            if self._lock_fh is not None:
                self._lock_fh.close()
                self._lock_fh = None

    @property
    def index_dir(self) -> Path:
        """Where the Whoosh index lives."""
        return self.root / INDEX_DIR

    def _index(self, create: bool = False) -> Index:
        if self._ix is not None:
            return self._ix
        version_file = self.index_dir / SCHEMA_FILE
        if whoosh_index.exists_in(str(self.index_dir)):
            found = version_file.read_text().strip() if version_file.exists() else "?"
            if found != str(SCHEMA_VERSION):
                raise LibraryError(
                    f"{self.index_dir}: index schema version {found}, this Wenshi writes version "
                    f"{SCHEMA_VERSION}: run `wenshi reindex` to rebuild it from the catalog")
            self._ix = whoosh_index.open_dir(str(self.index_dir))
        elif create:
            self._ix = self._create_index()
        else:
            raise LibraryError(f"{self.index_dir}: no index; run `wenshi reindex`")
        return self._ix

    def _create_index(self) -> Index:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(self.index_dir), build_schema())
        (self.index_dir / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
        return ix

    def open_index(self) -> Index:
        """The Whoosh index for reading."""
        return self._index(create=False)

    # -- the ingest sink ---------------------------------------------------------------------

    def document_state(self, doc_id: str) -> tuple[str, set[int]] | None:
        """None for an unknown document, else (status, pages stored without error)."""
        row = self.catalog.document(doc_id)
        if row is None or row.doc_id != doc_id:
            return None
        return row.status, self.catalog.stored_page_numbers(doc_id)

    def begin_document(self, plan: DocumentPlan, collection: str, metadata: dict[str, str]) -> None:
        """Record a new document before its pages arrive."""
        title = metadata.get("title") or plan.title
        self.catalog.begin_document(plan.source.doc_id, collection, plan.source.path, plan.source.kind,
                                    title, plan.source.size, len(plan.pages), metadata)

    def store_page(self, doc_id: str, page: Page) -> None:
        """Store a page and its ALTO file; a checkpoint that survives a crash."""
        if page.alto:
            folder = self.root / PAGES_DIR / doc_id
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{page.number:04d}.alto.xml"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(page.alto, encoding="utf-8")
            os.replace(tmp, target)
        self.catalog.store_page(doc_id, page, compact_search_form(page.text))

    def finish_document(self, doc_id: str) -> tuple[int, int]:
        """Tag the document, mark it complete and queue it for the index."""
        pages = self.catalog.pages(doc_id)
        text = "\n".join(p.text for p in pages)
        doc = self.catalog.document(doc_id)
        tags = self.compute_tags(text, doc.title if doc else "", doc.metadata if doc else {})
        chars = self.catalog.finish_document(doc_id, tags)
        self._queue_for_index(doc_id, len(pages))
        return len(pages), chars

    def discard_document(self, doc_id: str) -> None:
        """Forget an unreadable document, its pages and their files."""
        self.catalog.delete_document(doc_id)
        shutil.rmtree(self.root / PAGES_DIR / doc_id, ignore_errors=True)

    def record_failure(self, path: str, error: str, doc_id: str) -> None:
        """Keep an input failure in the catalog."""
        self.catalog.record_error(path, error, doc_id)

    def compute_tags(self, text: str, title: str, metadata: dict[str, str]) -> dict[str, Any]:
        """Automatic tags of a document's text, with the archivist's corrections applied."""
        from .tags import tags_for_text

        return tags_for_text(text, title, self.root, metadata)

    def retag(self, doc_id: str) -> dict[str, Any]:
        """Recompute one document's tags from its catalog text (no OCR); queue it for the index."""
        doc = self.document(doc_id)
        pages = self.catalog.pages(doc.doc_id)
        tags = self.compute_tags("\n".join(p.text for p in pages), doc.title, doc.metadata)
        self.catalog.update_document_fields(doc.doc_id, tags=tags)
        self._queue_for_index(doc.doc_id, len(pages))
        return tags

    # -- index writing -----------------------------------------------------------------------

    def _queue_for_index(self, doc_id: str, pages: int) -> None:
        self._pending.append(doc_id)
        self._pending_pages += pages
        if (self._pending_pages >= COMMIT_PAGES
                or time.monotonic() - self._last_commit >= COMMIT_SECONDS):
            self.commit()

    def commit(self) -> None:
        """Write queued documents to the index and commit; mark them indexed in the catalog."""
        if not self._pending:
            return
        ix = self._index(create=True)
        docs = [d for d in (self.catalog.document(i) for i in self._pending) if d is not None]
        with ix.writer(limitmb=256) as writer:
            written = add_documents(writer, self.catalog, docs, update=True)
        self.catalog.set_indexed(written)
        self._pending.clear()
        self._pending_pages = 0
        self._last_commit = time.monotonic()

    def index_unindexed(self) -> int:
        """Index complete documents the index does not hold yet (after a crash). Returns count."""
        for doc in self.catalog.documents(indexed=False):
            self._pending.append(doc.doc_id)
        count = len(self._pending)
        self.commit()
        return count

    def reindex(self) -> int:
        """Rebuild the index from the catalog, without any OCR. Returns pages indexed."""
        tmp_dir = self.root / (INDEX_DIR + ".new")
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp_dir), build_schema())
        (tmp_dir / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
        docs = list(self.catalog.documents())
        with ix.writer(limitmb=256) as writer:
            add_documents(writer, self.catalog, docs, update=False)
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


def dumps(obj: Any) -> str:
    """JSON for Chinese readers: UTF-8, characters unescaped."""
    return json.dumps(obj, ensure_ascii=False, indent=2)
