"""The library API the CLI (and any script) calls: one function per command."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from pipeline.config import Config
from pipeline.errors import LibraryError, NotFoundError, UsageError, WenshiError
from pipeline.records import FileOutcome, IngestSummary, Page

from .library import Library
from .results import SearchRequest, SearchResults
from .search import search as run_search
from .tags import PENDING_TAGS

if TYPE_CHECKING:
    from .export import ExportResult
    from .export.catalog_formats import WordCounts

# OCR, ingest, metadata, export and tagging modules are imported inside the functions that
# use them: a researcher's `wenshi search` process must not pay for pytesseract, Pillow,
# pdfplumber or python-docx (about 0.5 s of imports).


def ingest(cfg: Config, paths: Sequence[str], collection: str,
           progress: Callable[[int, int], None] | None = None,
           metadata_csv: str | None = None) -> IngestSummary:
    """Ingest files and folders into a collection of the library (created if needed).

    With a metadata sheet, each file's row supplies catalog fields (and may name another
    collection); each bad row becomes a failed outcome naming the row and column.
    """
    from pipeline.page.engines import tesseract
    from pipeline.run.ingest import ingest_paths
    from pipeline.run.metadata import read_metadata_csv

    if not collection.strip():
        raise UsageError("--collection must not be empty")
    sheet = read_metadata_csv(Path(metadata_csv)) if metadata_csv else None
    if cfg.lang != "auto":
        tesseract.check_languages(cfg.lang)
    else:
        tesseract.check_languages("chi_sim+chi_tra+chi_sim_vert+chi_tra_vert")
    with Library(cfg, create=True, writable=True) as library:
        library.index_unindexed()
        summary = ingest_paths(paths, collection.strip(), cfg, library, progress=progress,
                               metadata_for=sheet.for_path if sheet else None)
        if sheet and sheet.errors:
            for error in sheet.errors:
                library.record_failure(str(sheet.source), error.split(": ", 1)[1], "")
            bad_rows = tuple(FileOutcome(str(sheet.source), "failed", error=e.split(": ", 1)[1])
                             for e in sheet.errors)
            summary = replace(summary, outcomes=summary.outcomes + bad_rows)
        return summary


def tag(cfg: Config, doc_id: str, assignments: Sequence[str]) -> dict[str, Any]:
    """Correct catalog fields or tags of a document (field=value), then retag and reindex it."""
    from pipeline.run.metadata import TAG_OVERRIDES, validate_field

    from .tags import OVERRIDE_PREFIX

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
        library.catalog.update_document_fields(doc.doc_id, title=changes.get("title") or None,
                                               metadata=metadata)
        library.retag(doc.doc_id)
        doc_id = doc.doc_id
    return show(cfg, doc_id)


# An ingest that commits while a search reads can delete or rewrite index segment files under
# the reader (measured: 2 of 1,450 searches against a commit every 0.3 s failed inside Whoosh's
# stored_fields with TypeError). A fresh searcher sees the new generation, so try again.
_SEARCH_ATTEMPTS = 3


def search(cfg: Config, request: SearchRequest) -> SearchResults:
    """Search the library's index (retrying when a concurrent commit swaps its files)."""
    for attempt in range(1, _SEARCH_ATTEMPTS + 1):
        try:
            with Library(cfg) as library:
                with library.open_index().searcher() as searcher:
                    return run_search(searcher, library.catalog, request)
        except (TypeError, KeyError, OSError) as exc:
            if attempt == _SEARCH_ATTEMPTS:
                raise LibraryError(
                    f"{cfg.library}: the index changed while it was read ({type(exc).__name__}); "
                    "run the search again") from exc
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def search_many(cfg: Config,
                requests: Iterable[SearchRequest]) -> Iterator[SearchResults | WenshiError]:
    """Run many searches on one open index (`search --queries`); a bad query yields its error."""
    from .search import SearchContext, run

    with Library(cfg) as library:
        with library.open_index().searcher() as searcher:
            context = SearchContext(searcher, library.catalog)
            try:
                for request in requests:
                    try:
                        yield run(context, request)
                    except UsageError as exc:
                        yield exc
            finally:
                context.close()


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
                "number": p.number, "method": p.method, "lang": p.lang, "confidence": p.confidence,
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
        per = [c for c in library.catalog.collections()
               if collection is None or c["name"] == collection]
        if collection is not None and not per:
            raise UsageError(f"no collection {collection!r}; see `wenshi collections`")
        return {
            "collections": per,
            "documents": sum(c["documents"] for c in per),
            "pages": sum(c["pages"] for c in per),
            "characters": sum(c["characters"] for c in per),
            "failures": library.catalog.errors(collection),
            "failed_pages": library.catalog.failed_pages(collection),
            "proofreading": library.catalog.low_confidence_pages(cfg.proofread_threshold,
                                                                 collection),
            "proofread_threshold": cfg.proofread_threshold,
        }


def reindex(cfg: Config, retag: bool = False) -> int:
    """Rebuild the index from the catalog without OCR (recomputing tags first with `retag`).
    Returns pages indexed."""
    with Library(cfg, writable=True, rebuilding=True) as library:
        if retag:
            # The tags are made by the index analysis as each document is indexed (one jieba pass
            # for both, in the index workers): here they are only marked pending. Documents a
            # crash leaves pending are also marked unindexed, so `check --repair` tags them.
            library.catalog.replace_all_tags(dict(PENDING_TAGS))
        return library.reindex()


def ocr_file(cfg: Config, path: str) -> list[Page]:
    """OCR one file without a library: its pages, cleaned (text pages pass through)."""
    from pipeline.page.engines import tesseract
    from pipeline.page.process import process_page
    from pipeline.run.ingest import LangVotes
    from pipeline.run.pool import make_executor
    from pipeline.run.sources import identify, plan_document

    if cfg.lang != "auto":
        tesseract.check_languages(cfg.lang)
    source = identify(Path(path))
    plan = plan_document(source, cfg)
    tasks = [p for p in plan.pages if not isinstance(p, Page)]
    read: dict[int, Page] = {}
    votes = LangVotes()  # `--lang auto` decided on the first page, as `ingest` does
    executor = make_executor(cfg)
    try:
        if tasks and cfg.lang == "auto":
            first = tasks.pop(0)
            page = executor.submit(process_page, replace(first, lang_hint=votes.hint(path)),
                                   cfg).result()
            votes.record(path, page)
            read[first.number] = page
        futures = {t.number: executor.submit(process_page,
                                             replace(t, lang_hint=votes.hint(path)), cfg)
                   for t in tasks}
        read.update((number, future.result()) for number, future in futures.items())
    finally:
        executor.shutdown(wait=True)
    return [p if isinstance(p, Page) else read[p.number] for p in plan.pages]


def export(cfg: Config, collection: str, fmt: str, output: str | Path, query: str | None = None,
           order: str = "ingest", force: bool = False) -> ExportResult:
    """Export a collection (or its documents matching `query`) as a manuscript, catalog or
    archival format under `output`."""
    from .export import ExportRequest, export_collection

    with Library(cfg) as library:
        return export_collection(library, cfg, ExportRequest(collection, fmt, Path(output), query,
                                                             order, force))


def word_counts(cfg: Config, collection: str | None = None) -> WordCounts:
    """字数 per document and per contributor (all collections, or one), with totals."""
    from .export.catalog_formats import word_counts as count_words

    with Library(cfg) as library:
        if (collection is not None
                and collection not in {c["name"] for c in library.catalog.collections()}):
            raise NotFoundError(f"no collection {collection!r}; see `wenshi collections`")
        return count_words(library.documents(collection))


def check(cfg: Config, repair: bool = False) -> dict[str, Any]:
    """Compare catalog and index page by page; with `repair`, re-index from the catalog what
    the index lacks or holds wrongly (takes the ingest lock: not while an ingest runs)."""
    with Library(cfg, writable=repair) as library:
        found = library.check()
        repaired: dict[str, int] | None = None
        if repair:
            reindexed, dropped = library.repair(found) if not found.ok else (0, 0)
            repaired = {"documents_reindexed": reindexed, "documents_dropped": dropped}
            found = library.check()
    return {
        "ok": found.ok,
        "catalog": {"documents": found.catalog_documents, "pages": found.catalog_pages,
                    "partial_documents": list(found.partial), "failed_pages": found.failed_pages},
        "index": {"pages": found.index_pages},
        "missing": list(found.missing), "extra": list(found.extra),
        "duplicates": list(found.duplicates),
        "unindexed_documents": list(found.unindexed),
        "ingest_running": found.ingest_running,
        "repaired": repaired,
    }
