"""What the library API returns (besides search results, `index/results.py`): plain typed
records, each with `to_dict()`, the JSON form `wenshi ... --json` prints.

Kept free of Whoosh, numpy and the pipeline's heavy modules, like `results.py`, so that callers
that only format results need neither.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PageRecord:
    """One stored page of a document, as `show` prints it."""

    number: int
    method: str  # ocr | text (text layer, docx, txt)
    lang: str  # the OCR model that read it
    confidence: float | None  # mean word confidence of an OCR page
    needs_proofreading: bool  # 需校对 (index/quality.py)
    error: str  # why the page failed ("" if it did not)
    char_count: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a page in `wenshi show --json`."""
        return asdict(self)


@dataclass(frozen=True)
class DocumentRecord:
    """A document's catalog record, its tags and its pages (`wenshi show`)."""

    doc_id: str
    title: str
    collection: str
    path: str
    kind: str
    size: int
    page_count: int
    status: str
    char_count: int
    ingested_at: str
    metadata: dict[str, str]
    tags: dict[str, Any]
    pages: tuple[PageRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi show --json` prints."""
        out = {k: v for k, v in vars(self).items() if k != "pages"}
        out["pages"] = [p.to_dict() for p in self.pages]
        return out


@dataclass(frozen=True)
class CollectionRecord:
    """A collection with its complete documents' totals."""

    name: str
    documents: int
    pages: int
    characters: int  # 字数

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a collection (`wenshi collections --json`)."""
        return asdict(self)


@dataclass(frozen=True)
class IngestFailure:
    """An input an ingest could not read, kept in the catalog."""

    path: str
    doc_id: str
    collection: str
    error: str
    at: str  # local time, ISO 8601


@dataclass(frozen=True)
class FailedPage:
    """A page stored with an error (a later ingest of its file retries it)."""

    doc_id: str
    path: str
    number: int
    error: str


@dataclass(frozen=True)
class ProofreadPage:
    """A page that needs proofreading (需校对)."""

    doc_id: str
    title: str
    path: str
    number: int
    confidence: float | None


@dataclass(frozen=True)
class LibraryStats:
    """Totals per collection, ingest failures, failed pages, pages needing proofreading."""

    collections: tuple[CollectionRecord, ...]
    failures: tuple[IngestFailure, ...]
    failed_pages: tuple[FailedPage, ...]
    proofreading: tuple[ProofreadPage, ...]
    proofread_threshold: float

    @property
    def documents(self) -> int:
        """Complete documents."""
        return sum(c.documents for c in self.collections)

    @property
    def pages(self) -> int:
        """Their pages."""
        return sum(c.pages for c in self.collections)

    @property
    def characters(self) -> int:
        """Their 字数."""
        return sum(c.characters for c in self.collections)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi stats --json` prints."""
        return {
            "collections": [c.to_dict() for c in self.collections],
            "documents": self.documents, "pages": self.pages, "characters": self.characters,
            "failures": [asdict(f) for f in self.failures],
            "failed_pages": [asdict(p) for p in self.failed_pages],
            "proofreading": [asdict(p) for p in self.proofreading],
            "proofread_threshold": self.proofread_threshold,
        }


@dataclass(frozen=True)
class Repair:
    """What `check(repair=True)` did."""

    documents_reindexed: int
    documents_dropped: int


@dataclass(frozen=True)
class CheckReport:
    """Catalog against index, page id by page id (`wenshi check`)."""

    catalog_documents: int  # complete documents
    catalog_pages: int  # their pages (failed ones included: indexed with empty text)
    index_pages: int  # pages in the index, duplicates included
    partial_documents: tuple[str, ...]  # paths an interrupted ingest left (ingest them again)
    failed_pages: int
    missing: tuple[str, ...]  # page ids (doc_id#page) the index lacks
    extra: tuple[str, ...]  # page ids in the index that no complete document has
    duplicates: tuple[str, ...]  # page ids indexed more than once
    unindexed_documents: tuple[str, ...]  # complete documents not marked indexed
    ingest_running: int | None  # pid of an ingest holding the lock
    repaired: Repair | None = None
    removals: tuple[str, ...] = ()  # documents an interrupted `rm` began to remove
    orphan_folders: tuple[str, ...] = ()  # page folders of documents the catalog lacks

    @property
    def ok(self) -> bool:
        """True when the index holds exactly the catalog's complete pages, each once, and no
        removal is unfinished."""
        return not (self.missing or self.extra or self.duplicates or self.unindexed_documents
                    or self.removals or self.orphan_folders)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi check --json` prints."""
        return {
            "ok": self.ok,
            "catalog": {"documents": self.catalog_documents, "pages": self.catalog_pages,
                        "partial_documents": list(self.partial_documents),
                        "failed_pages": self.failed_pages},
            "index": {"pages": self.index_pages},
            "missing": list(self.missing), "extra": list(self.extra),
            "duplicates": list(self.duplicates),
            "unindexed_documents": list(self.unindexed_documents),
            "ingest_running": self.ingest_running,
            "unfinished_removals": list(self.removals),
            "orphan_page_folders": list(self.orphan_folders),
            "repaired": asdict(self.repaired) if self.repaired is not None else None,
        }
