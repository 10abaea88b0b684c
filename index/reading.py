"""What the reading room (`wenshi serve`, index/web/) reads from a library, through the
public `Library` (index/api.py): searches (on the searcher it keeps open while the index does
not change), documents, pages with their matches marked in the text and outlined on the scan,
the kept page images and their files.

Read-only: nothing here takes the ingest lock, so an ingest may write while readers read, and
new documents appear as soon as it commits. SQLite connections belong to the thread that opened
them: the Library given is used on its own thread (`wenshi serve` runs the event loop there),
any other thread (a test client's) opens its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import NotFoundError

from .catalog import ImageSize
from .hitboxes import Box, PageBoxes, Span
from .records import CollectionRecord, DocumentRecord, PageRecord, ProofreadPage
from .results import SearchRequest, SearchResults
from .snippets import find_matches

if TYPE_CHECKING:
    from .api import Library
    from .pageimages import PageScan


@dataclass(frozen=True)
class PageSummary:
    """One page of a document as the document view lists it."""

    number: int
    method: str
    confidence: float | None
    needs_proofreading: bool
    error: str
    char_count: int
    width: int  # pixels of the scan as read (0: no scan)
    height: int
    images: tuple[ImageSize, ...]  # kept JPEG copies, largest first (none: text page)
    alto: Path | None  # where its ALTO file is (scanned pages)
    est_errors: int | None = None  # estimated wrong characters (pipeline/page/quality.py)

    @property
    def thumbnail(self) -> ImageSize | None:
        """The smallest kept copy."""
        return self.images[-1] if self.images else None


@dataclass(frozen=True)
class DocumentView:
    """A document's catalog record, tags and its pages."""

    doc: DocumentRecord
    pages: tuple[PageSummary, ...]

    def page(self, number: int) -> PageSummary:
        """One of its pages; NotFoundError if it has no such page."""
        for page in self.pages:
            if page.number == number:
                return page
        raise NotFoundError(f"document {self.doc.doc_id} has no page {number}")


@dataclass(frozen=True)
class PageView:
    """One page to read: its text, the matches of a query in it and where they are on the scan."""

    document: DocumentView
    page: PageSummary
    text: str
    lang: str
    matches: tuple[Span, ...]  # [start, end) offsets into `text`
    boxes: tuple[tuple[Box, ...], ...]  # for each match, its boxes on the scan (one per line)
    # Offsets into `text` of the characters the engine was unsure of (ALTO CC, issue 19), for
    # the proofreader's eye; none on pages without a scan or whose ALTO has no CC.
    doubts: tuple[int, ...] = ()
    doubt_boxes: tuple[Box | None, ...] = ()  # for each of `doubts`, its cell on the scan

    @property
    def previous(self) -> int | None:
        """The page before this one, if any."""
        numbers = [p.number for p in self.document.pages]
        i = numbers.index(self.page.number)
        return numbers[i - 1] if i > 0 else None

    @property
    def next(self) -> int | None:
        """The page after this one, if any."""
        numbers = [p.number for p in self.document.pages]
        i = numbers.index(self.page.number)
        return numbers[i + 1] if i + 1 < len(numbers) else None

    def segments(self) -> list[tuple[str, int | None, list[tuple[str, int | None]]]]:
        """The text cut at the matches: (text, match number or None, its pieces), each piece
        (text, the number of the doubt it is, or None: a character the engine was unsure of
        stands alone), for marking it up."""
        out: list[tuple[str, int | None, list[tuple[str, int | None]]]] = []
        doubts = {offset: n for n, offset in enumerate(self.doubts)}

        def add(start: int, end: int, match: int | None) -> None:
            pieces: list[tuple[str, int | None]] = []
            for i in range(start, end):
                doubt = doubts.get(i)
                if pieces and doubt is None and pieces[-1][1] is None:
                    pieces[-1] = (pieces[-1][0] + self.text[i], None)
                else:
                    pieces.append((self.text[i], doubt))
            out.append((self.text[start:end], match, pieces))

        pos = 0
        for i, (start, end) in enumerate(self.matches):
            if start > pos:
                add(pos, start, None)
            add(start, end, i)
            pos = end
        if pos < len(self.text):
            add(pos, len(self.text), None)
        return out


@dataclass(frozen=True)
class CollectionNeed:
    """How much proofreading a collection needs: its 需校对 pages and their estimated errors."""

    name: str
    pages: int
    errors: int  # estimated wrong characters on those pages
    unestimated: int  # pages listed by their engine confidence alone (stored before estimates)


@dataclass(frozen=True)
class ProofreadingList:
    """The 需校对 list as the reading room shows it (`/proofread`): pages most estimated errors
    first, as `stats` lists them, and each collection's share, most errors first."""

    pages: tuple[ProofreadPage, ...]
    collections: tuple[CollectionNeed, ...]
    collection: str | None  # the one collection listed, or None for the whole library

    @property
    def errors(self) -> int:
        """Estimated wrong characters on all the listed pages."""
        return sum(c.errors for c in self.collections)


class ReadingRoom:
    """A library opened for reading by the web app."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.cfg = library.cfg
        self.root = library.path.resolve()
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._opened: list[Library] = []
        self._lock = threading.Lock()

    def _lib(self) -> Library:
        if threading.get_ident() == self._owner:
            return self.library
        opened: Library | None = getattr(self._local, "library", None)
        if opened is None:
            from .api import Library

            opened = Library(self.cfg)
            self._local.library = opened
            with self._lock:
                self._opened.append(opened)
        return opened

    def close(self) -> None:
        """Close the libraries this thread opened for itself (the one given stays with its
        owner; those of other threads are released with their thread's objects: SQLite refuses
        to close a connection from another thread)."""
        with self._lock:
            mine = [lib for lib in self._opened if lib is getattr(self._local, "library", None)]
            self._opened = [lib for lib in self._opened if lib not in mine]
        for library in mine:
            library.close()
        self._local.library = None

    def warm_up(self) -> None:
        """Load jieba's dictionary now (about a second), so the first search that needs it does
        not wait: run in a background thread after the server has started. Opening the library
        registered its user dictionary already."""
        from .analysis import query_words

        query_words("文史资料")

    # -- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search on the newest index generation."""
        return self._lib().search(request)

    def collections(self) -> list[CollectionRecord]:
        """Each collection with documents, pages and 字数."""
        return self._lib().collections()

    def proofreading(self, collection: str | None = None) -> ProofreadingList:
        """The pages that need proofreading (需校对), of one collection or all: NotFoundError
        for a collection the library does not have. Kept until the catalog changes (the list
        reads every listed page: ~1.5 s on a 300,000-page catalog, and an editor turns its pages;
        the reading room never writes through its own Library, so every change is another
        connection's and shows in `catalog_version`)."""
        library = self._lib()
        key = (collection, library.catalog_version())
        kept: dict[tuple[str | None, int], ProofreadingList] | None = getattr(
            self._local, "proofreading", None)
        if kept is not None and key in kept:
            return kept[key]
        listing = self._proofreading(library, collection)
        # One entry a collection at most: a newer catalog version replaces the older.
        kept = {k: v for k, v in (kept or {}).items() if k[0] != collection and k[1] == key[1]}
        kept[key] = listing
        self._local.proofreading = kept
        return listing

    @staticmethod
    def _proofreading(library: Library, collection: str | None) -> ProofreadingList:
        stats = library.stats(collection)
        needs: dict[str, list[ProofreadPage]] = {}
        for page in stats.proofreading:
            needs.setdefault(page.collection, []).append(page)
        errors = stats.proofreading_errors()  # the totals `wenshi stats` prints
        totals = [CollectionNeed(name, len(pages), errors[name],
                                 sum(p.est_errors is None for p in pages))
                  for name, pages in needs.items()]
        totals.sort(key=lambda c: (-c.errors, -c.pages, c.name))
        return ProofreadingList(stats.proofreading, tuple(totals), collection)

    # -- documents and pages -----------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentView:
        """A complete document by its full id; NotFoundError otherwise (no prefixes: every URL
        of a document is one URL)."""
        library = self._lib()
        record = library.document(doc_id)
        if record.doc_id != doc_id or record.status != "complete":
            raise NotFoundError(f"no document {doc_id!r}")
        scans = library.page_scans(doc_id)
        pages = tuple(_summary(p, scans.get(p.number)) for p in record.pages)
        return DocumentView(record, pages)

    def page(self, doc_id: str, number: int, query: str = "") -> PageView:
        """A page of a document with the matches of `query` (may be empty) marked."""
        document = self.document(doc_id)
        summary = document.page(number)
        text = _text(document, number)
        matches: list[Span] = []
        if query.strip():
            from .search import query_needles

            matches = find_matches(text, query_needles(query))
        boxes: list[tuple[Box, ...]] = [() for _ in matches]
        doubts: list[int] = []
        doubt_boxes: list[Box | None] = []
        record = next(p for p in document.doc.pages if p.number == number)
        if summary.alto is not None:
            from pipeline.page.quality import SUSPECT_CC

            located = PageBoxes.from_file(text, summary.alto)
            boxes = [tuple(b) for b in located.all_boxes(matches)]
            # 已校对: an editor has read every character against the scan, doubted ones too.
            doubts = [] if record.proofread else located.doubtful(SUSPECT_CC)
            doubt_boxes = [next(iter(located.boxes((o, o + 1))), None) for o in doubts]
        return PageView(document, summary, text, record.lang, tuple(matches), tuple(boxes),
                        tuple(doubts), tuple(doubt_boxes))

    def document_hits(self, doc_id: str, query: str) -> list[tuple[PageSummary, str, Span,
                                                                   tuple[Box, ...]]]:
        """Every occurrence of the query's strings and words on a document's scanned pages:
        (page, matched text, span, boxes on the scan), in page order."""
        from .search import query_needles

        needles = query_needles(query)
        document = self.document(doc_id)
        out = []
        for page in document.pages:
            if page.alto is None:
                continue
            text = _text(document, page.number)
            matches = find_matches(text, needles)
            if not matches:
                continue
            located = PageBoxes.from_file(text, page.alto)
            for span, boxes in zip(matches, located.all_boxes(matches)):
                if boxes:
                    out.append((page, text[span[0]:span[1]], span, tuple(boxes)))
        return out

    def image_file(self, doc_id: str, number: int, size: ImageSize) -> Path:
        """The file of a kept page image, checked to lie inside the library's pages folder
        (NotFoundError otherwise)."""
        return self._lib().page_image_file(doc_id, number, size)


def _summary(page: PageRecord, scan: PageScan | None) -> PageSummary:
    return PageSummary(
        number=page.number, method=page.method, confidence=page.confidence,
        needs_proofreading=page.needs_proofreading, error=page.error,
        char_count=page.char_count, width=scan.width if scan else 0,
        height=scan.height if scan else 0, images=scan.images if scan else (),
        alto=scan.alto if scan else None, est_errors=page.est_errors)


def _text(document: DocumentView, number: int) -> str:
    return next(p.text for p in document.doc.pages if p.number == number)
