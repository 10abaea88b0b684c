"""The library API: `Library`, the object a script, a notebook, the web app and the CLI keep open.

    from index import Library

    with Library.open("library") as lib:
        lib.ingest(["scans/"], collection="电力工业史")
        for hit in lib.search('"发电机组"', limit=5).hits:
            print(hit.title, hit.page, hit.snippet)

Every method returns a typed record (`index/records.py`, `index/results.py`,
`pipeline/records.py`) whose `to_dict()` is what `wenshi ... --json` prints. Reading needs no
lock; a method that writes (ingest, tag, reindex, check with repair) takes the library's ingest
lock for the length of the call only, so a notebook that keeps a library open never blocks an
ingest started elsewhere.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from lxml import etree

from pipeline.config import Config
from pipeline.errors import NotFoundError, UsageError, WenshiError
from pipeline.page.alto import parse_alto, strings
from pipeline.page.quality import mark_alto, suspect_lines
from pipeline.records import METHOD_OCR, FileOutcome, IngestSummary, Page

from .faults import out_of_space
from .library import Consistency, LibraryFolder
from .quality import needs_proofreading
from .records import (CheckReport, CollectionRecord, DocumentRecord, EditorRecord, FailedPage,
                      ImagesMade, IngestFailure, LibraryStats, PageRecord, PageText,
                      ProofreadImport, ProofreadPage, Repair, VersionRecord)
from .results import SearchRequest, SearchResults
from .writer import peak_rss_mb

if TYPE_CHECKING:
    from pipeline.run.metadata import MetadataSheet

    from .catalog import DocumentRow, ImageSize
    from .curation import FieldChange, ImportPlan
    from .export import ExportResult
    from .export.catalog_formats import WordCounts
    from .pageimages import PageScan
    from .search import SearchContext

# OCR, ingest, metadata, export and tagging modules are imported inside the methods that use
# them: a researcher's `wenshi search` process must not pay for pytesseract, Pillow,
# pdfplumber or python-docx (about 0.5 s of imports).

__all__ = ["Library", "ocr_file"]


class Library:
    """An open Wenshi library (a folder: catalog.sqlite, index/, pages/).

    `Library.open(path)` for scripts; `Library(cfg)` with a resolved `Config` (the CLI's way).
    Use it as a context manager, or call `close()`.
    """

    def __init__(self, cfg: Config, *, create: bool = False) -> None:
        self.cfg = cfg
        self._folder = LibraryFolder(cfg, create=create)
        self._search: SearchContext | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False,
             **settings: Any) -> "Library":
        """Open the library at `path` (`create=True`: make it if it is not there yet).

        `settings` are `Config` fields (jobs, lang, proofread_threshold, ...) over the defaults
        and the WENSHI_* environment variables."""
        return cls(Config.resolve(library=Path(path), **settings), create=create)

    @property
    def path(self) -> Path:
        """The library folder."""
        return self._folder.root

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the catalog connection and the index files."""
        self._drop_search()
        self._folder.close()

    def _writer(self, cfg: Config | None = None, rebuilding: bool = False) -> LibraryFolder:
        """The folder opened for writing (ingest lock taken) for one task: use in `with`."""
        return LibraryFolder(cfg or self.cfg, create=True, writable=True, rebuilding=rebuilding)

    # -- writing -----------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | os.PathLike[str]], collection: str, *,
               metadata: str | os.PathLike[str] | None = None,
               progress: Callable[[int, int], None] | None = None,
               **settings: Any) -> IngestSummary:
        """Ingest files and folders into a collection (created if needed).

        With a `metadata` sheet (CSV), each file's row supplies catalog fields (and may name
        another collection); each bad row becomes a failed outcome naming the row and column.
        `settings` override this library's Config for this ingest (lang, jobs, preprocess, ...).
        `progress(done, total)` is called as pages finish."""
        from pipeline.run.ingest import ingest_paths
        from pipeline.run.metadata import read_metadata_csv

        cfg = self.cfg.with_(**settings) if settings else self.cfg
        if not collection.strip():
            raise UsageError("--collection must not be empty")
        sheet = read_metadata_csv(Path(metadata)) if metadata else None
        from .bags import is_bag, restore_bag

        bags = [Path(p) for p in paths if is_bag(Path(p))]
        files = [str(p) for p in paths if not is_bag(Path(p))]
        stored_before = self._stored_pages()
        with out_of_space(self.path, lambda: f"the {self._stored_pages() - stored_before} "
                          "pages stored so far are kept"), self._writer(cfg) as folder:
            folder.index_unindexed()
            started = time.monotonic()
            restored = tuple(o for bag in bags for o in restore_bag(folder, bag))
            restoring = time.monotonic() - started
            summary = ingest_paths(files, collection.strip(), cfg, folder, progress=progress,
                                   metadata_for=sheet.for_path if sheet else None)
            summary = replace(summary, outcomes=restored + summary.outcomes,
                              elapsed=summary.elapsed + restoring)
            if sheet is not None:
                summary = _update_stored_documents(folder, sheet, summary)
            if sheet and sheet.errors:
                for error in sheet.errors:
                    folder.record_failure(str(sheet.source), error.split(": ", 1)[1], "")
                bad_rows = tuple(FileOutcome(str(sheet.source), "failed",
                                             error=e.split(": ", 1)[1]) for e in sheet.errors)
                summary = replace(summary, outcomes=summary.outcomes + bad_rows)
            # Corrections an editor saved while this ingest held the index (index/proofreading).
            # The last commit also merges the small segments the ingest's commits left.
            folder.index_unindexed(last=True)
            if folder.kept_corrections:
                summary = replace(summary, kept_corrections=folder.kept_corrections)
        # After the writer's last commit: its peak covers the whole ingest.
        return replace(summary, writer_peak_rss_mb=peak_rss_mb())

    def tag(self, doc_id: str, changes: Mapping[str, str]) -> DocumentRecord:
        """Correct catalog fields or tags of a document ({"contributor": "王德明",
        "period": "建国前"}; "" removes a field), then retag and reindex it."""
        from pipeline.records import TAG_OVERRIDES
        from pipeline.run.metadata import validate_field

        from .tags import OVERRIDE_PREFIX

        checked: dict[str, str] = {}
        for raw_name, raw_value in changes.items():
            name, value = raw_name.strip().lower(), raw_value.strip()
            if not name:
                raise UsageError(f"--set needs field=value, not {raw_name}={raw_value!r}")
            if name in TAG_OVERRIDES:
                name = OVERRIDE_PREFIX + name
            elif name == "file":
                raise UsageError("the file of a document cannot be changed")
            reason = validate_field(name, value)
            if reason:
                raise UsageError(f"field {name}: {reason}")
            checked[name] = value
        with self._writer() as folder:
            doc = folder.document(doc_id)
            metadata = {k: v for k, v in {**doc.metadata, **checked}.items() if v != ""}
            folder.catalog.update_document_fields(doc.doc_id,
                                                  title=checked.get("title") or None,
                                                  metadata=metadata)
            folder.retag(doc.doc_id)
        return self.document(doc.doc_id)

    def import_catalog(self, sheet: str | os.PathLike[str], *, clear: Sequence[str] = (),
                       dry_run: bool = False) -> ImportPlan:
        """Apply an edited catalog sheet (.xlsx or .csv, rows keyed by doc_id): changed cells
        only. Bad cells, unknown doc_ids and columns are listed in the plan's `problems`; the
        other rows apply (nothing with `dry_run`). Empty cells leave values alone unless their
        column is in `clear`."""
        from pipeline.run.metadata import read_sheet

        from .curation import apply_changes, plan_import

        rows = read_sheet(Path(sheet))
        if dry_run:
            return plan_import(self._folder, rows, clear)
        self._drop_search()
        with out_of_space(self.path, lambda: "documents are changed whole or not at all; "
                          "those not yet in the index are indexed by the next run"), \
                self._writer() as folder:
            plan = plan_import(folder, rows, clear)
            if plan.changes:
                apply_changes(folder, plan.changes)
            folder.index_unindexed()  # also those an earlier, interrupted import left
        return plan

    def select(self, doc_ids: Sequence[str] = (), query: str | None = None) -> list[DocumentRow]:
        """The documents `rm` or `move` act on: by id (or unique prefix), and those a search
        finds."""
        from .curation import resolve_documents

        if not doc_ids and not query:
            raise UsageError("name documents by id, or give --query")
        found = resolve_documents(self._folder, doc_ids)
        if query:
            hits = {h.doc_id for h in self.search(query, limit=0).hits}
            found += [d for d in self._folder.catalog.documents(status=None)
                      if d.doc_id in hits and d not in found]
        if not found:
            raise NotFoundError(f"no document matches {query!r}")
        return found

    def remove(self, doc_ids: Sequence[str]) -> int:
        """Remove documents from the catalog, the index (exact index too) and the page files;
        the source files are not touched. Returns the pages removed."""
        self._drop_search()
        with out_of_space(self.path, lambda: "no document is half-removed (`wenshi check` lists "
                          "a removal left to finish)"), self._writer() as folder:
            docs = [folder.document(d) for d in doc_ids]
            folder.remove_documents([d.doc_id for d in docs])
            return sum(d.page_count for d in docs)

    def move(self, doc_ids: Sequence[str], collection: str) -> None:
        """Put documents in another collection (created if needed; an emptied one goes)."""
        if not collection.strip():
            raise UsageError("--collection must not be empty")
        self._drop_search()
        with out_of_space(self.path, lambda: "the catalog is changed whole or not at all"), \
                self._writer() as folder:
            docs = [folder.document(d) for d in doc_ids]
            folder.move_documents([d.doc_id for d in docs], collection.strip())

    def reindex(self, retag: bool = False) -> int:
        """Rebuild the index from the catalog without OCR (recomputing tags first with `retag`).
        Returns pages indexed."""
        self._drop_search()
        with self._writer(rebuilding=True) as folder:
            if retag:
                # The tags are made by the index analysis as each document is indexed (one jieba
                # pass for both, in the index workers): here they are only marked pending.
                # Documents a crash leaves pending are also marked unindexed, so
                # `check --repair` tags them.
                folder.catalog.mark_all_tags_pending()
            return folder.reindex()

    # -- reading -----------------------------------------------------------------------------

    def search(self, query: str | SearchRequest, *, collection: str | None = None,
               limit: int = 10, offset: int = 0, sort: str = "relevance", group: bool = False,
               facets: bool = False) -> SearchResults:
        """Search the index: `query` in Wenshi's query language (README "Search syntax"), or a
        whole `SearchRequest`. `limit=0`: every hit."""
        from .search import run

        request = query if isinstance(query, SearchRequest) else SearchRequest(
            query, collection, limit, offset, sort, group=group, facets=facets)
        self._require_search_collection(request)
        return run(self._search_context(), request)

    def search_many(self, requests: Iterable[str | SearchRequest]
                    ) -> Iterator[SearchResults | WenshiError]:
        """Run many searches on one index generation (`search --queries`); a bad query yields
        its error instead of results."""
        from .search import run

        context = self._search_context()
        for item in requests:
            request = item if isinstance(item, SearchRequest) else SearchRequest(item)
            try:
                self._require_search_collection(request)
                yield run(context, request)
            except (UsageError, NotFoundError) as exc:
                yield exc

    def _require_search_collection(self, request: SearchRequest) -> None:
        """NotFoundError (exit 5) when a search is limited to a collection the library does not
        have: a misspelt `--collection` would otherwise look like a search with no hits. Either
        script's spelling of a name counts, as it does in the search itself."""
        if not request.collection:
            return
        from pipeline.text.normalize import to_search_form

        wanted = to_search_form(request.collection)
        if not any(to_search_form(c.name) == wanted for c in self.collections()):
            raise NotFoundError(f"no collection {request.collection!r}; see `wenshi collections`")

    def _search_context(self) -> SearchContext:
        """The searcher of the index's newest generation, kept open while the index is not
        changed (a notebook's second search reads no index files again)."""
        context = self._search
        if context is not None and context.searcher.up_to_date():
            return context
        self._drop_search()
        self._search = self._folder.search_context()
        return self._search

    def _drop_search(self) -> None:
        context, self._search = self._search, None
        if context is not None:
            context.close()
            context.searcher.close()

    def document(self, doc_id: str) -> DocumentRecord:
        """A document (by id or unique id prefix): catalog record, tags, pages with 需校对
        marks. NotFoundError if there is none."""
        doc = self._folder.document(doc_id)
        threshold = self.cfg.proofread_threshold
        catalog = self._folder.catalog
        return DocumentRecord(
            doc_id=doc.doc_id, title=doc.title, collection=doc.collection, path=doc.path,
            kind=doc.kind, size=doc.size, page_count=doc.page_count, status=doc.status,
            char_count=doc.char_count, ingested_at=doc.ingested_at, metadata=doc.metadata,
            tags=doc.tags,
            pages=tuple(PageRecord(number=p.number, method=p.method, lang=p.lang,
                                   confidence=p.confidence,
                                   needs_proofreading=needs_proofreading(p, threshold),
                                   error=p.error, char_count=p.char_count, text=p.text,
                                   engine=p.engine, model=p.model,
                                   steps=tuple(s for s in p.steps.split(",") if s),
                                   version=p.version, proofread=p.proofread,
                                   history=_history(catalog, doc.doc_id, p.number)
                                   if p.version else (),
                                   error_rate=p.error_rate, est_errors=p.est_errors,
                                   quality_reasons=p.quality_reasons,
                                   suspect_lines=self._suspects(doc.doc_id, p.number)
                                   if p.method == METHOD_OCR and not p.error else ())
                        for p in catalog.pages(doc.doc_id)))

    def _suspects(self, doc_id: str, number: int) -> tuple[dict[str, Any], ...]:
        """Lines of a stored page with characters likely wrong (the ALTO's CC marks; an ALTO
        stored before they existed is marked in memory)."""
        path = self._folder.alto_path(doc_id, number)
        try:
            root = parse_alto(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, ValueError, etree.XMLSyntaxError):
            return ()
        if root is not None and not any(s.get("CC") for s in strings(root)):
            mark_alto(root)
        return tuple(suspect_lines(root))

    def collections(self) -> list[CollectionRecord]:
        """Each collection with its documents, pages and 字数, by name."""
        return [CollectionRecord(**row) for row in self._folder.catalog.collections()]

    def require_collection(self, name: str) -> CollectionRecord:
        """The collection `name`; NotFoundError (exit 5) if the library has none of that name."""
        for record in self.collections():
            if record.name == name:
                return record
        raise NotFoundError(f"no collection {name!r}; see `wenshi collections`")

    def catalog_version(self) -> int:
        """A number that changes when another process or connection commits to this library's
        catalog (an ingest, an editor's save): what a reader that never writes through this
        Library may key a cache on."""
        return self._folder.catalog.data_version()

    def stats(self, collection: str | None = None) -> LibraryStats:
        """Totals per collection (all, or one), ingest failures, failed pages and pages that
        need proofreading."""
        catalog = self._folder.catalog
        chosen = (self.collections() if collection is None
                  else [self.require_collection(collection)])
        threshold = self.cfg.proofread_threshold
        return LibraryStats(
            collections=tuple(chosen),
            failures=tuple(IngestFailure(**r) for r in catalog.errors(collection)),
            failed_pages=tuple(FailedPage(**r) for r in catalog.failed_pages(collection)),
            proofreading=tuple(ProofreadPage(**r)
                               for r in catalog.proofreading_pages(threshold, collection)),
            proofread_threshold=threshold)

    def export(self, collection: str, format: str, output: str | os.PathLike[str], *,
               query: str | None = None, order: str = "ingest",
               force: bool = False) -> ExportResult:
        """Export a collection (or its documents matching `query`) as a manuscript, catalog or
        archival format under `output` (a file, or a folder for dc, alto and pdf)."""
        from .export import ExportRequest, export_collection

        self.require_collection(collection)
        with out_of_space(output, lambda: "each file written so far is whole, no partial file "
                          "is left"):
            return export_collection(self._folder, self.cfg,
                                     ExportRequest(collection, format, Path(output), query,
                                                   order, force))

    def _stored_pages(self) -> int:
        return self._folder.catalog.page_count()

    def export_catalog(self, collection: str, output: str | os.PathLike[str], *,
                       force: bool = False) -> Path:
        """Write a collection's catalog sheet (.xlsx, or .csv in UTF-8 with BOM): one row per
        document keyed by doc_id (编号), the columns `import_catalog` reads back."""
        from .export.catalog_sheet import write_catalog_sheet
        from .export.common import select_documents

        self.require_collection(collection)
        documents = select_documents(self._folder, collection, None, "ingest")
        with out_of_space(output, lambda: "no partial file is left"):
            return write_catalog_sheet(documents, Path(output), force, collection)

    def word_counts(self, collection: str | None = None) -> WordCounts:
        """字数 per document and per contributor (all collections, or one), with totals."""
        from .export.catalog_formats import word_counts as count_words

        if collection is not None:
            self.require_collection(collection)
        return count_words(self._folder.documents(collection))

    def check(self, repair: bool = False) -> CheckReport:
        """Compare catalog and index page by page, and verify the kept page images; with
        `repair`, re-index from the catalog what the index lacks or holds wrongly, and re-align
        the ALTO of corrected pages to their text (takes the ingest lock: not while an ingest
        runs). Damaged page images are listed, not repaired (`reindex --images` makes them
        again from the originals)."""
        from .pageimages import check_page_images

        checked, problems = check_page_images(self.path, self._folder.catalog)
        if not repair:
            return replace(_report(self._folder.check()), images_checked=checked,
                           image_problems=tuple(problems))
        from .proofreading import realign_stale

        with self._writer() as folder:
            found = folder.check()
            reindexed, dropped = folder.repair(found) if not found.ok else (0, 0)
            realign_stale(folder)  # ALTO a crash left behind a correction
            return replace(_report(folder.check()), repaired=Repair(reindexed, dropped),
                           images_checked=checked, image_problems=tuple(problems))

    def make_images(self, progress: Callable[[int, int], None] | None = None) -> ImagesMade:
        """Give every scanned page without kept images (a library ingested before they were
        kept) its images, from the original file where it still exists unchanged; the pages
        whose source is gone are listed. Takes the ingest lock."""
        from .export.common import open_source
        from .pageimages import make_missing_images

        with self._writer() as folder:
            return make_missing_images(folder.root, folder.catalog, folder.write_page_file,
                                       self.cfg, open_source, progress)

    # -- the reading room's page images (index/web/) ---------------------------------------

    def page_scans(self, doc_id: str) -> dict[int, PageScan]:
        """A document's scanned pages with kept images: size as read, image sizes, ALTO file.
        `doc_id` is a full id (NotFoundError otherwise)."""
        from .pageimages import page_scans

        return page_scans(self.path, self._folder.catalog, doc_id)

    def page_image_file(self, doc_id: str, number: int, size: ImageSize) -> Path:
        """The file of one kept page image, checked to lie inside the library (NotFoundError
        otherwise)."""
        from .pageimages import image_file

        return image_file(self.path, doc_id, number, size)

    # -- proofreading (校对) ------------------------------------------------------------------

    def add_editor(self, name: str, password: str) -> str:
        """Create an editor account, or give an existing one a new password; returns the name
        as stored."""
        from .proofreading import add_editor

        return add_editor(self._folder, name, password)

    def editors(self) -> list[EditorRecord]:
        """Editor accounts with the number of versions each saved (never the password hashes)."""
        return [EditorRecord(**r) for r in self._folder.catalog.editors()]

    def remove_editor(self, name: str) -> None:
        """Remove an editor account; the versions they saved keep their name."""
        from .proofreading import check_editor_name

        if not self._folder.catalog.remove_editor(check_editor_name(name)):
            raise NotFoundError(f"no editor {name!r}; see `wenshi editor list`")

    def authenticate(self, name: str, password: str) -> str | None:
        """The editor's name if name and password match an account, else None."""
        from .proofreading import authenticate

        return authenticate(self._folder, name, password)

    def page_text(self, doc_id: str, number: int) -> PageText:
        """A page's current text with its version, 已校对 flag and history."""
        doc = self._folder.document(doc_id)
        page = self._folder.catalog.page(doc.doc_id, number)
        if page is None:
            raise NotFoundError(f"no page {number} in document {doc.doc_id}")
        return PageText(doc.doc_id, number, page.text, page.version, page.proofread,
                        _history(self._folder.catalog, doc.doc_id, number))

    def save_page(self, doc_id: str, number: int, text: str, *, editor: str, base_version: int,
                  proofread: bool, source: str = "cli") -> PageText:
        """Save a corrected page text as a new version by `editor` (who must have an account).
        `base_version` is the version the correction was made from: if another save came
        first, VersionConflictError (exit 7) carries that one. The page's index entries are
        replaced at once (`indexed` False while a running ingest holds the index: it indexes
        the page before it ends)."""
        from .proofreading import require_editor, save_text

        editor = require_editor(self._folder, editor)
        doc_id = self._folder.document(doc_id).doc_id
        new = save_text(self._folder, doc_id, number, text, editor, base_version, proofread,
                        source)
        return self._saved(doc_id, number, new is not None)

    def revert_page(self, doc_id: str, number: int, to_version: int, *, editor: str,
                    base_version: int) -> PageText:
        """Save an earlier version of a page's text as its newest version."""
        from .proofreading import require_editor, revert_text

        editor = require_editor(self._folder, editor)
        doc_id = self._folder.document(doc_id).doc_id
        new = revert_text(self._folder, doc_id, number, to_version, editor, base_version)
        return self._saved(doc_id, number, new is not None)

    def _saved(self, doc_id: str, number: int, changed: bool) -> PageText:
        from .proofreading import refresh_index

        self._drop_search()  # the next search sees the corrected index
        indexed = refresh_index(self._folder, [doc_id]) if changed else True
        return replace(self.page_text(doc_id, number), changed=changed, indexed=indexed)

    def next_to_proofread(self, doc_id: str | None = None,
                          number: int = 0) -> ProofreadPage | None:
        """The page needing proofreading (需校对) that follows page `number` of `doc_id` in the
        list's order, most estimated errors first (the worst page when none is given, or when
        that page has left the list, e.g. marked 已校对; wrapping round), or None."""
        catalog = self._folder.catalog
        complete = {d.doc_id for d in catalog.documents()}
        pages = [ProofreadPage(**r)
                 for r in catalog.proofreading_pages(self.cfg.proofread_threshold)
                 if r["doc_id"] in complete]
        at = next((i for i, p in enumerate(pages) if (p.doc_id, p.number) == (doc_id, number)),
                  None)
        if at is None:
            return pages[0] if pages else None
        return pages[(at + 1) % len(pages)]

    def import_proofread(self, path: str | os.PathLike[str], *, editor: str,
                         mark_proofread: bool = False) -> ProofreadImport:
        """Read corrections back from a proofreading .docx (`export --format proofread`)."""
        from .proofreading import import_docx

        self._drop_search()
        outcome = import_docx(self._folder, Path(path), editor, mark_proofread)
        return ProofreadImport(tuple(outcome.corrected), tuple(outcome.unchanged),
                               tuple(outcome.unknown), tuple(outcome.conflicts), outcome.indexed)


def _history(catalog: Any, doc_id: str, number: int) -> tuple[VersionRecord, ...]:
    return tuple(VersionRecord(v.version, v.editor, v.at, v.proofread, v.source, v.text)
                 for v in catalog.page_history(doc_id, number))


def _update_stored_documents(folder: LibraryFolder, sheet: MetadataSheet,
                             summary: IngestSummary) -> IngestSummary:
    """A metadata sheet's rows for documents already in the library update them (changed
    cells only, as `import_catalog`; their collection stays: `move` changes it)."""
    from .curation import apply_changes, row_changes

    changes: list[FieldChange] = []
    problems: list[str] = []
    for o in summary.outcomes:
        row = sheet.full_row(Path(o.path)) if o.status == "skipped" and o.doc_id else None
        doc = folder.catalog.document(o.doc_id) if row is not None else None
        if row is None or doc is None or doc.doc_id != o.doc_id:
            continue
        number, cells = row
        cells.pop("collection", None)
        found, bad = row_changes(doc, cells, (), f"{sheet.source}: row {number}")
        changes += found
        problems += bad
    if changes:
        apply_changes(folder, changes)
    failed = tuple(FileOutcome(str(sheet.source), "failed", error=e.split(": ", 1)[1])
                   for e in problems)
    return replace(summary, outcomes=summary.outcomes + failed,
                   updates=tuple(str(c) for c in changes))


def _report(found: Consistency) -> CheckReport:
    return CheckReport(
        catalog_documents=found.catalog_documents, catalog_pages=found.catalog_pages,
        index_pages=found.index_pages, partial_documents=found.partial,
        failed_pages=found.failed_pages, missing=found.missing, extra=found.extra,
        duplicates=found.duplicates, unindexed_documents=found.unindexed,
        ingest_running=found.ingest_running, removals=found.removals,
        orphan_folders=found.orphan_folders, integrity=found.integrity,
        changed_files=found.changed_files, missing_files=found.missing_files,
        unrecorded_files=found.unrecorded_files, changed_originals=found.changed_originals,
        unreachable_originals=found.unreachable_originals)


def ocr_file(cfg: Config, path: str) -> list[Page]:
    """OCR one file without a library: its pages, cleaned (text pages pass through)."""
    from pipeline.page.process import check_engines, process_page
    from pipeline.run.ingest import LangVotes
    from pipeline.run.pool import make_executor
    from pipeline.run.sources import identify, plan_document

    check_engines(cfg)
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
