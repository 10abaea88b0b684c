"""What the library API returns (besides search results, `index/results.py`): plain typed
records, each with `to_dict()`, the JSON form `wenshi ... --json` prints.

Kept free of Whoosh, numpy and the pipeline's heavy modules, like `results.py`, so that callers
that only format results need neither.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.page.quality import describe


@dataclass(frozen=True)
class VersionRecord:
    """One version of a page's text (index/proofreading.py): version 0 is the OCR's."""

    version: int
    editor: str  # '' for version 0
    at: str  # local time, ISO 8601
    proofread: bool  # 已校对 as of this version
    source: str  # ocr, web, docx, revert, cli
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a version in `history`."""
        return asdict(self)


@dataclass(frozen=True)
class PageRecord:
    """One stored page of a document, as `show` prints it."""

    number: int
    method: str  # ocr | text (text layer, docx, txt)
    lang: str  # script and direction of an OCR page, as a Tesseract model name
    confidence: float | None  # mean word confidence of an OCR page
    needs_proofreading: bool  # 需校对 (index/quality.py)
    error: str  # why the page failed ("" if it did not)
    char_count: int
    text: str  # the current text: an editor's correction if there is one
    version: int = 0  # 0: the OCR's text; each saved correction adds one
    proofread: bool = False  # 已校对
    history: tuple[VersionRecord, ...] = ()  # every version, oldest first (empty: never corrected)
    engine: str = ""  # the OCR engine that read the page: paddle | tesseract
    model: str = ""  # the engine's model (chi_sim, PP-OCRv6 small (rapidocr 3.10.0), ...)
    steps: tuple[str, ...] = ()  # the clean-up steps before the engine
    # The quality estimate (pipeline/page/quality.py): expected share and number of wrong
    # characters (None: no estimate), why, and the lines with characters likely wrong.
    error_rate: float | None = None
    est_errors: int | None = None
    quality_reasons: tuple[str, ...] = ()
    suspect_lines: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a page in `wenshi show --json`."""
        data = {**asdict(self), "history": [v.to_dict() for v in self.history],
                "steps": list(self.steps)}
        data["quality"] = {"estimated_error_rate": data.pop("error_rate"),
                           "estimated_errors": data.pop("est_errors"),
                           "reasons": list(self.reasons()),
                           "reasons_zh": list(self.reasons(chinese=True)),
                           "reason_codes": list(data.pop("quality_reasons")),
                           "suspect_lines": list(data.pop("suspect_lines"))}
        return data

    def reasons(self, chinese: bool = False) -> tuple[str, ...]:
        """Why the estimate is what it is, in words: English, or Chinese for the reading room."""
        return tuple(describe(r, chinese) for r in self.quality_reasons)


@dataclass(frozen=True)
class PageText:
    """A page's current text with its version, 已校对 flag and history (proofreading)."""

    doc_id: str
    number: int
    text: str
    version: int
    proofread: bool
    history: tuple[VersionRecord, ...]
    changed: bool = False  # a save: whether it stored a new version
    indexed: bool = True  # a save: False while a running ingest holds the index

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a page's text and history."""
        return {**asdict(self), "history": [v.to_dict() for v in self.history]}


@dataclass(frozen=True)
class EditorRecord:
    """An editor account (never its password hash) and the versions it saved."""

    name: str
    created_at: str
    versions: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi editor list --json` prints."""
        return asdict(self)


@dataclass(frozen=True)
class ProofreadImport:
    """What `wenshi proofread import` did, page id by page id."""

    corrected: tuple[str, ...]
    unchanged: tuple[str, ...]
    unknown: tuple[str, ...]  # page ids the library does not have: skipped
    conflicts: tuple[str, ...]  # pages changed in the library since the export: skipped, why
    indexed: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi proofread import --json` prints."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


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
    collection: str = ""
    error_rate: float | None = None  # estimated share of wrong characters (None: no estimate)
    est_errors: int | None = None  # estimated wrong characters
    reasons: tuple[str, ...] = ()  # codes "feature=value" (pipeline.page.quality.describe)

    def reasons_in_words(self, chinese: bool = False) -> tuple[str, ...]:
        """The reasons in English, or Chinese for the reading room."""
        return tuple(describe(r, chinese) for r in self.reasons)


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

    def proofreading_errors(self) -> dict[str, int]:
        """Estimated wrong characters on the 需校对 pages, per collection (how much
        proofreading each needs)."""
        totals: dict[str, int] = {}
        for p in self.proofreading:
            totals[p.collection] = totals.get(p.collection, 0) + (p.est_errors or 0)
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi stats --json` prints."""
        return {
            "collections": [c.to_dict() for c in self.collections],
            "documents": self.documents, "pages": self.pages, "characters": self.characters,
            "failures": [asdict(f) for f in self.failures],
            "failed_pages": [asdict(p) for p in self.failed_pages],
            "proofreading": [{**asdict(p), "reasons": list(p.reasons_in_words()),
                              "reasons_zh": list(p.reasons_in_words(chinese=True)),
                              "reason_codes": list(p.reasons)} for p in self.proofreading],
            "proofreading_errors": self.proofreading_errors(),
            "proofread_threshold": self.proofread_threshold,
        }


@dataclass(frozen=True)
class Repair:
    """What `check(repair=True)` did."""

    documents_reindexed: int
    documents_dropped: int


@dataclass(frozen=True)
class ImageProblem:
    """A kept page image that is missing or damaged (`wenshi check`)."""

    doc_id: str
    page: int
    file: str
    reason: str


@dataclass(frozen=True)
class ImagesMade:
    """What `wenshi reindex --images` did: pages given their images, and the pages whose
    source file is gone or changed (doc_id, page, reason)."""

    pages: int
    bytes: int
    unavailable: tuple[tuple[str, int, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"pages": self.pages, "bytes": self.bytes,
                "unavailable": [{"doc_id": d, "page": p, "reason": r}
                                for d, p, r in self.unavailable]}


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
    integrity: tuple[str, ...] = ()  # SQLite's integrity_check findings (empty: sound)
    changed_files: tuple[str, ...] = ()  # page files whose checksum no longer matches
    missing_files: tuple[str, ...] = ()  # page files with a checksum that are gone
    unrecorded_files: tuple[str, ...] = ()  # page files without a checksum yet
    changed_originals: tuple[str, ...] = ()  # reachable source files whose content changed
    unreachable_originals: int = 0  # source files no longer at their path
    images_checked: int = 0  # kept page images (pages/DOC_ID/NNNN.WxH.jpg) verified
    image_problems: tuple[ImageProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the index holds exactly the catalog's complete pages, each once, no
        removal is unfinished, the catalog file is sound, every page file is as written and
        every kept page image is whole."""
        return not (self.missing or self.extra or self.duplicates or self.unindexed_documents
                    or self.removals or self.orphan_folders or self.integrity
                    or self.changed_files or self.missing_files or self.unrecorded_files
                    or self.image_problems)

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
            "catalog_integrity": list(self.integrity) or ["ok"],
            "fixity": {"changed": list(self.changed_files), "missing": list(self.missing_files),
                       "unrecorded": list(self.unrecorded_files)},
            "originals": {"changed": list(self.changed_originals),
                          "unreachable": self.unreachable_originals},
            "repaired": asdict(self.repaired) if self.repaired is not None else None,
            "images": {"checked": self.images_checked,
                       "problems": [asdict(p) for p in self.image_problems]},
        }
