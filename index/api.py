"""The library API the CLI (and any script) calls: one function per command."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from pipeline import ocr
from pipeline.config import Config
from pipeline.errors import UsageError
from pipeline.ingest import ingest_paths, make_executor, process_page
from pipeline.metadata import TAG_OVERRIDES, read_metadata_csv, validate_field
from pipeline.records import FileOutcome, IngestSummary, Page
from pipeline.sources import identify, plan_document

from .library import Library
from .search import SearchRequest, SearchResults
from .search import search as run_search
from .tags import OVERRIDE_PREFIX


def ingest(cfg: Config, paths: Sequence[str], collection: str,
           progress: Callable[[int, int], None] | None = None,
           metadata_csv: str | None = None) -> IngestSummary:
    """Ingest files and folders into a collection of the library (created if needed).

    With a metadata sheet, each file's row supplies catalog fields (and may name another
    collection); each bad row becomes a failed outcome naming the row and column.
    """
    if not collection.strip():
        raise UsageError("--collection must not be empty")
    sheet = read_metadata_csv(Path(metadata_csv)) if metadata_csv else None
    if cfg.lang != "auto":
        ocr.check_languages(cfg.lang)
    else:
        ocr.check_languages("chi_sim+chi_tra+chi_sim_vert+chi_tra_vert")
    with Library(cfg, create=True, writable=True) as library:
        library.index_unindexed()
        summary = ingest_paths(paths, collection.strip(), cfg, library, progress=progress,
                               metadata_for=sheet.for_path if sheet else None)
        if sheet and sheet.errors:
            for error in sheet.errors:
                library.record_failure(str(sheet.source), error.split(": ", 1)[1], "")
            bad_rows = tuple(FileOutcome(str(sheet.source), "failed", error=e.split(": ", 1)[1]) for e in sheet.errors)
            summary = replace(summary, outcomes=summary.outcomes + bad_rows)
        return summary


def tag(cfg: Config, doc_id: str, assignments: Sequence[str]) -> dict[str, Any]:
    """Correct catalog fields or tags of a document (field=value), then retag and reindex it."""
    changes: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise UsageError(f"--set needs field=value, not {item!r}")
        if name in TAG_OVERRIDES:
            name = OVERRIDE_PREFIX + name
        elif name == "file":
            raise UsageError("the file of a document cannot be changed")
        reason = validate_field(name, value.strip())
        if reason:
            raise UsageError(f"field {name}: {reason}")
        changes[name] = value.strip()
    with Library(cfg, writable=True) as library:
        doc = library.document(doc_id)
        metadata = {**doc.metadata, **changes}
        metadata = {k: v for k, v in metadata.items() if v != ""}
        library.catalog.update_document_fields(doc.doc_id, title=changes.get("title") or None, metadata=metadata)
        library.retag(doc.doc_id)
        doc_id = doc.doc_id
    return show(cfg, doc_id)


def search(cfg: Config, request: SearchRequest) -> SearchResults:
    """Search the library's index."""
    with Library(cfg) as library:
        with library.open_index().searcher() as searcher:
            return run_search(searcher, library.catalog, request)


def show(cfg: Config, doc_id: str) -> dict[str, Any]:
    """A document's catalog record, tags and pages (with 需校对 marks)."""
    with Library(cfg) as library:
        doc = library.document(doc_id)
        pages = library.catalog.pages(doc.doc_id)
        return {
            "doc_id": doc.doc_id, "title": doc.title, "collection": doc.collection,
            "path": doc.path, "kind": doc.kind, "size": doc.size, "page_count": doc.page_count,
            "status": doc.status, "char_count": doc.char_count, "ingested_at": doc.ingested_at,
            "metadata": doc.metadata, "tags": doc.tags,
            "pages": [{
                "number": p.number, "method": p.method, "confidence": p.confidence,
                "needs_proofreading": _needs_proofreading(p.method, p.confidence, cfg),
                "error": p.error, "char_count": p.char_count, "text": p.text,
            } for p in pages],
        }


def _needs_proofreading(method: str, confidence: float | None, cfg: Config) -> bool:
    return method == "ocr" and confidence is not None and confidence < cfg.proofread_threshold


def collections(cfg: Config) -> list[dict[str, Any]]:
    """Each collection with documents, pages and 字数."""
    with Library(cfg) as library:
        return library.catalog.collections()


def stats(cfg: Config, collection: str | None = None) -> dict[str, Any]:
    """Totals per collection, ingest failures, failed pages and pages needing proofreading."""
    with Library(cfg) as library:
        per = [c for c in library.catalog.collections() if collection is None or c["name"] == collection]
        if collection is not None and not per:
            raise UsageError(f"no collection {collection!r}; see `wenshi collections`")
        return {
            "collections": per,
            "documents": sum(c["documents"] for c in per),
            "pages": sum(c["pages"] for c in per),
            "characters": sum(c["characters"] for c in per),
            "failures": library.catalog.errors(collection),
            "failed_pages": library.catalog.failed_pages(collection),
            "proofreading": library.catalog.low_confidence_pages(cfg.proofread_threshold, collection),
            "proofread_threshold": cfg.proofread_threshold,
        }


def reindex(cfg: Config, retag: bool = False) -> int:
    """Rebuild the index from the catalog without OCR (recomputing tags first with `retag`).
    Returns pages indexed."""
    with Library(cfg, writable=True) as library:
        if retag:
            for doc in list(library.documents()):
                pages = library.catalog.pages(doc.doc_id)
                tags = library.compute_tags("\n".join(p.text for p in pages), doc.title, doc.metadata)
                library.catalog.update_document_fields(doc.doc_id, tags=tags)
        return library.reindex()


def ocr_file(cfg: Config, path: str) -> list[Page]:
    """OCR one file without a library: its pages, cleaned (text pages pass through)."""
    if cfg.lang != "auto":
        ocr.check_languages(cfg.lang)
    source = identify(Path(path))
    plan = plan_document(source, cfg)
    executor = make_executor(cfg)
    try:
        futures = [executor.submit(process_page, p, cfg) if not isinstance(p, Page) else p for p in plan.pages]
        return [f if isinstance(f, Page) else f.result() for f in futures]
    finally:
        executor.shutdown(wait=True)
