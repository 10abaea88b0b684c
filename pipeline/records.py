"""Plain typed records passed between the stages. All frozen and picklable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds of source file Wenshi reads.
KIND_IMAGE = "image"
KIND_PDF = "pdf"
KIND_DOCX = "docx"
KIND_TEXT = "text"

# How a page's text was obtained.
METHOD_TEXT = "text"  # text layer, Word draft or plain text: no OCR
METHOD_OCR = "ocr"


@dataclass(frozen=True)
class Word:
    """One OCR word (for Chinese usually one or a few characters) with its box in pixels."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0-100, as Tesseract reports it


@dataclass(frozen=True)
class SourceFile:
    """An input file recognised as one of the supported kinds."""

    path: str
    kind: str
    doc_id: str  # content hash: the same bytes always get the same id
    size: int


@dataclass(frozen=True)
class PageTask:
    """What a worker needs to produce one page: the file and the page index in it.

    Page images travel as PNG bytes (`image_png`) where the page was already rendered, so a
    worker on another machine needs no shared file system.
    """

    doc_id: str
    path: str
    kind: str
    number: int  # 1-based page number within the document
    image_png: bytes = b""
    dpi: int = 300
    # `--lang auto`: the model most pages read so far of this document (or, for single-page files,
    # of its folder) were read with; the worker takes its script and runs no trial ('' = decide).
    lang_hint: str = ""


@dataclass(frozen=True)
class Page:
    """One page of a document after processing."""

    number: int
    text: str
    method: str
    confidence: float | None = None  # mean word confidence 0-100, OCR pages only
    words: tuple[Word, ...] = ()
    alto: str = ""  # Tesseract's ALTO XML for OCR pages
    lang: str = ""
    width: int = 0
    height: int = 0
    error: str = ""  # non-empty: the page failed and this is why

    @property
    def failed(self) -> bool:
        """True when the page could not be processed."""
        return bool(self.error)


@dataclass(frozen=True)
class Document:
    """A source file split into pages, with catalog metadata and automatic tags."""

    doc_id: str
    path: str
    kind: str
    title: str
    collection: str
    pages: tuple[Page, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input path during an ingest."""

    path: str
    status: str  # "ingested" | "skipped" | "failed" | "unsupported"
    doc_id: str = ""
    pages: int = 0
    characters: int = 0
    error: str = ""
    failed_pages: tuple[tuple[int, str], ...] = ()  # (page number, error): stored, retried later
    reused_pages: int = 0  # pages an earlier, interrupted run had stored: not processed again


@dataclass(frozen=True)
class IngestSummary:
    """The result of one ingest run, in input order."""

    outcomes: tuple[FileOutcome, ...]
    elapsed: float = 0.0
    # `doc_id field: old -> new` for documents already stored that a metadata sheet changed
    updates: tuple[str, ...] = ()
    writer_peak_rss_mb: float = 0.0  # the peak resident memory of the ingest's writer process

    def count(self, status: str) -> int:
        """How many inputs ended with `status`."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def pages(self) -> int:
        """Pages stored by this run."""
        return sum(o.pages for o in self.outcomes if o.status == "ingested")

    @property
    def failed_pages(self) -> int:
        """Pages that failed in this run (stored with their error; a later ingest retries them)."""
        return sum(len(o.failed_pages) for o in self.outcomes if o.status == "ingested")

    @property
    def characters(self) -> int:
        """字数 stored by this run."""
        return sum(o.characters for o in self.outcomes if o.status == "ingested")

    @property
    def pages_per_minute(self) -> float:
        """Pages processed (not those an earlier run had stored) per minute of this run."""
        processed = sum(o.pages - o.reused_pages for o in self.outcomes
                        if o.status == "ingested")
        return processed / self.elapsed * 60 if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi ingest --json` prints."""
        failed = [o for o in self.outcomes if o.status == "failed"]
        return {
            "ingested": self.count("ingested"), "skipped": self.count("skipped"),
            "pages": self.pages, "characters": self.characters,
            "failed": [{"path": o.path, "error": o.error} for o in failed],
            "failed_pages": [{"path": o.path, "doc_id": o.doc_id, "page": n, "error": e}
                             for o in self.outcomes if o.status == "ingested"
                             for n, e in o.failed_pages],
            "unsupported": [o.path for o in self.outcomes if o.status == "unsupported"],
            "documents": [{"path": o.path, "doc_id": o.doc_id, "status": o.status,
                           "pages": o.pages, "failed_pages": len(o.failed_pages),
                           "reused_pages": o.reused_pages}
                          for o in self.outcomes if o.status != "unsupported"],
            "elapsed": round(self.elapsed, 2), "pages_per_minute": round(self.pages_per_minute, 1),
            "updates": list(self.updates),
            "writer_peak_rss_mb": round(self.writer_peak_rss_mb),
        }
