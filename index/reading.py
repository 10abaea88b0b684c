"""What the reading room (`wenshi serve`, index/web/) reads from a library: searches on a
searcher kept open while the index does not change, documents, pages with their matches marked
in the text and outlined on the scan, the kept page images and their files.

Read-only: nothing here takes the ingest lock, so an ingest may write while readers read, and
new documents appear as soon as it commits. One open library per thread (SQLite connections
belong to the thread that opened them); the web server's event loop is one thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config
from pipeline.errors import LibraryError, NotFoundError
from pipeline.records import METHOD_OCR

from .catalog import DocumentRow, ImageSize, PageRow
from .hitboxes import Box, PageBoxes, Span
from .library import Library
from .pageimages import image_path
from .results import SearchRequest, SearchResults
from .snippets import find_matches

if TYPE_CHECKING:
    from .search import SearchContext

# A commit that lands while a search reads can remove index files under it (index/api.py):
# a fresh searcher sees the new generation.
_SEARCH_ATTEMPTS = 3


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

    @property
    def thumbnail(self) -> ImageSize | None:
        """The smallest kept copy."""
        return self.images[-1] if self.images else None


@dataclass(frozen=True)
class DocumentView:
    """A document's catalog record, tags and its pages."""

    doc: DocumentRow
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

    def segments(self) -> list[tuple[str, int | None]]:
        """The text cut at the matches: (text, match number or None), for marking it up."""
        out: list[tuple[str, int | None]] = []
        pos = 0
        for i, (start, end) in enumerate(self.matches):
            if start > pos:
                out.append((self.text[pos:start], None))
            out.append((self.text[start:end], i))
            pos = end
        if pos < len(self.text):
            out.append((self.text[pos:], None))
        return out


class _Open:
    """One thread's open library and its cached searcher."""

    def __init__(self, cfg: Config) -> None:
        self.library = Library(cfg)
        self.context: SearchContext | None = None

    def search_context(self) -> SearchContext:
        context = self.context
        if context is not None and context.searcher.up_to_date():
            return context
        self.drop_context()
        from .search import SearchContext

        searcher = self.library.open_index().searcher()
        try:
            self.context = SearchContext(searcher, self.library.catalog)
        except BaseException:
            searcher.close()
            raise
        return self.context

    def drop_context(self) -> None:
        context, self.context = self.context, None
        if context is not None:
            context.close()
            context.searcher.close()

    def close(self) -> None:
        self.drop_context()
        self.library.close()


class ReadingRoom:
    """A library opened for reading by the web app; safe to share between threads."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.root = Path(cfg.library).resolve()
        self._local = threading.local()
        self._opened: list[_Open] = []
        self._lock = threading.Lock()

    def check(self) -> None:
        """LibraryError now, rather than at the first request, when there is no library."""
        with Library(self.cfg):
            pass

    def warm_up(self) -> None:
        """Load jieba's dictionary now (about a second), so the first search that needs it does
        not wait: run in a background thread after the server has started."""
        from .analysis import query_words

        with Library(self.cfg):  # registers the library's user dictionary, as a search does
            query_words("文史资料")

    def _open(self) -> _Open:
        opened: _Open | None = getattr(self._local, "opened", None)
        if opened is None:
            opened = _Open(self.cfg)
            self._local.opened = opened
            with self._lock:
                self._opened.append(opened)
        return opened

    def close(self) -> None:
        """Close every thread's library (at server shutdown)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for item in opened:
            item.close()

    # -- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search on the newest index generation."""
        from .search import run

        opened = self._open()
        for attempt in range(1, _SEARCH_ATTEMPTS + 1):
            try:
                return run(opened.search_context(), request)
            except (TypeError, KeyError, OSError) as exc:
                opened.drop_context()
                if attempt == _SEARCH_ATTEMPTS:
                    raise LibraryError(f"{self.root}: the index changed while it was read "
                                       f"({type(exc).__name__}); search again") from exc
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def collections(self) -> list[dict[str, Any]]:
        """Each collection with documents, pages and 字数."""
        return self._open().library.catalog.collections()

    # -- documents and pages -----------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentView:
        """A complete document by its full id; NotFoundError otherwise (no prefixes: every URL
        of a document is one URL)."""
        catalog = self._open().library.catalog
        row = catalog.document(doc_id)
        if row is None or row.doc_id != doc_id or row.status != "complete":
            raise NotFoundError(f"no document {doc_id!r}")
        images = catalog.page_images(doc_id)
        dims = catalog.page_dimensions(doc_id)
        pages = tuple(self._summary(p, dims.get(p.number, (0, 0)), images.get(p.number, []))
                      for p in catalog.pages(doc_id))
        return DocumentView(row, pages)

    def _summary(self, page: PageRow, dims: tuple[int, int],
                 images: list[ImageSize]) -> PageSummary:
        return PageSummary(
            number=page.number, method=page.method, confidence=page.confidence,
            needs_proofreading=(page.method == METHOD_OCR and page.confidence is not None
                                and page.confidence < self.cfg.proofread_threshold),
            error=page.error, char_count=page.char_count, width=dims[0], height=dims[1],
            images=tuple(images))

    def page(self, doc_id: str, number: int, query: str = "") -> PageView:
        """A page of a document with the matches of `query` (may be empty) marked."""
        document = self.document(doc_id)
        summary = document.page(number)
        row = next(p for p in self._open().library.catalog.pages(doc_id) if p.number == number)
        matches: list[Span] = []
        if query.strip():
            from .search import query_needles

            matches = find_matches(row.text, query_needles(query))
        boxes: list[tuple[Box, ...]] = [() for _ in matches]
        if matches and summary.images:
            located = PageBoxes.from_file(row.text, self._open().library.alto_path(doc_id, number))
            boxes = [tuple(b) for b in located.all_boxes(matches)]
        return PageView(document, summary, row.text, row.lang, tuple(matches), tuple(boxes))

    def document_hits(self, doc_id: str, query: str) -> list[tuple[PageSummary, str, Span,
                                                                   tuple[Box, ...]]]:
        """Every occurrence of the query's strings and words in a document's scanned pages:
        (page, matched text, span, boxes on the scan), in page order."""
        from .search import query_needles

        needles = query_needles(query)
        document = self.document(doc_id)
        texts = {p.number: p.text for p in self._open().library.catalog.pages(doc_id)}
        out = []
        for page in document.pages:
            text = texts.get(page.number, "")
            matches = find_matches(text, needles)
            if not matches or not page.images:
                continue
            located = PageBoxes.from_file(text,
                                          self._open().library.alto_path(doc_id, page.number))
            for span, boxes in zip(matches, located.all_boxes(matches)):
                if boxes:
                    out.append((page, text[span[0]:span[1]], span, tuple(boxes)))
        return out

    def image_file(self, doc_id: str, number: int, size: ImageSize) -> Path:
        """The file of a kept page image, checked to lie inside the library's pages folder
        (a symbolic link out of it is refused). NotFoundError otherwise."""
        path = image_path(self.root, doc_id, number, size.width, size.height)
        try:
            resolved = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError) as exc:
            raise NotFoundError(f"no image file for {doc_id} page {number}") from exc
        pages = (self.root / "pages").resolve()
        if not resolved.is_relative_to(pages) or not resolved.is_file():
            raise NotFoundError(f"no image file for {doc_id} page {number}")
        return resolved
