"""Writing the index from catalog rows: one Whoosh document per page, plus a gram segment.

jieba and the tagger are the slow part of indexing, so big batches segment and tag their
documents in worker processes (`AnalysisPool`) while the main process stores pages and writes
Whoosh; the main process then hands Whoosh pre-counted words. A document is marked complete in
the catalog with no tags; its tags are stored just before it is written to the index, so a
document the index lacks after a crash is tagged when it is indexed (`index_unindexed`).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import weakref
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from whoosh.index import Index
from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL, PostingPool

from pipeline.records import TAG_KINDS, TEXT, YEARS, Tags
from pipeline.text import loading
from pipeline.text.normalize import to_search_form

from .analysis import (DocumentAnalysis, Tagger, analyze_document, compact_search_form,
                       tag_document, word_counts)
from .catalog import Catalog, DocumentRow, PageRow
from .grams import GRAMS_DIR, GramWriter, page_key
from .schema import NO_YEAR

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

# Peak bytes a character of a batch costs while its gram segment is built and coded (measured
# with tracemalloc on 2 M characters of the laws corpus: 89 B building, 81 B coding), and a byte
# of postings a gram merge decodes at once (tracemalloc, merging two segments of 21 M characters
# of the 1亿 set: 64-66 B for chunks of 0.25-4 MB; smaller chunks cost no more CPU).
GRAM_BYTES_PER_CHAR = 96
GRAM_MERGE_BYTES_PER_BYTE = 64
# A document of more pages than this (or more than `WriterBudget.chunk_chars` characters) is
# indexed a chunk of pages at a time: its pages, their word counts and Whoosh fields are not
# all held at once (a 2,000-page volume is one document; benchmarks/README.md, issue 18).
CHUNK_PAGES = 100
# An ingest's last commit merges the Whoosh segments holding less than 1/SMALL_SEGMENT_SHARE of
# the index's pages (`merge_small_segments`), so at most that many big ones and the merged one
# are left, whenever the batch's commits fell (benchmarks/README.md, issue 18).
SMALL_SEGMENT_SHARE = 8

Analysis = DocumentAnalysis  # word counts per page, of the title; tags if computed


@dataclass(frozen=True)
class WriterBudget:
    """How the writer's memory (`Config.writer_memory`, WENSHI_WRITER_MEMORY) is spent.

    The writer does one thing at a time: build a batch's gram segment, write its pages to
    Whoosh, merge gram segments. Each may use the budget: a batch holds at most `batch_chars`
    characters (the writer commits when its queue reaches them, and waits for the index
    workers when they fall behind by twice that), Whoosh's posting pool spills sorted runs to
    disk beyond `whoosh_limitmb` (its Python objects take ~1.5x what it counts), and a gram
    merge decodes `merge_bytes` of postings at a time (a quarter of the budget's worth),
    however large the segments and their vocabulary.
    """

    mb: int

    @property
    def batch_chars(self) -> int:
        """Characters of one commit (one gram segment)."""
        return max(50_000, self.mb * 2**20 // GRAM_BYTES_PER_CHAR)

    @property
    def whoosh_limitmb(self) -> int:
        """Whoosh's `limitmb`: the posting pool's size before it writes a run to disk."""
        return max(16, self.mb // 2)

    @property
    def merge_bytes(self) -> int:
        """Bytes of postings a gram merge decodes at once."""
        return max(1 << 16, self.mb * 2**20 // 4 // GRAM_MERGE_BYTES_PER_BYTE)

    @property
    def chunk_chars(self) -> int:
        """Characters of a long document's pages indexed at once (see CHUNK_PAGES)."""
        return max(20_000, self.batch_chars // 8)

    @property
    def backlog_chars(self) -> int:
        """Characters the index workers may have waiting (their texts and results are held)."""
        return self.batch_chars


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (in an ingest: the writer's).

    VmHWM, not `ru_maxrss`: Linux keeps `ru_maxrss` across `exec`, so a writer started by a big
    process (a benchmark that had rendered a 400-page volume: 270 MB) reported that process's
    peak as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _tag_values(values: Any) -> str:
    """Comma-joined tag values in the search normal form (so either script matches)."""
    if not values:
        return ""
    names = [v[0] if isinstance(v, (list, tuple)) else v for v in values]
    return ",".join(to_search_form(str(n)).replace(",", " ") for n in names if str(n).strip())


def title_sort_key(title: str) -> bytes:
    """Titles sort by pinyin (tone numbers break ties), then by the characters themselves."""
    pypinyin = _pypinyin()
    if pypinyin is None:  # sorting by code point is still deterministic
        return title.encode("utf-8")
    syllables = [s.strip().lower() for s in pypinyin.lazy_pinyin(
        title.strip(), style=pypinyin.Style.TONE3, neutral_tone_with_five=True)]
    return (" ".join(s for s in syllables if s) + "\x00" + title).encode("utf-8")


@lru_cache(maxsize=1)
def _pypinyin() -> Any:
    """pypinyin, imported at the least cost that gives the same readings; None if missing.

    Its import parses two JSON dictionaries and trains a prefix set on the phrases, once per
    process (the writer pays it with the first document). PYPINYIN_NO_DICT_COPY skips the
    copies pypinyin makes of both dictionaries so that users may modify them
    (`load_phrases_dict`, `load_single_dict`), which Wenshi never does; `gc_paused` saves the
    collections the JSON's 190,000 lists trigger. In a process holding jieba's dictionary:
    0.29-0.40 CPU s before, 0.19-0.33 s after (measured on a busy machine).
    """
    if "pypinyin" in sys.modules:
        return sys.modules["pypinyin"]
    previous = os.environ.get("PYPINYIN_NO_DICT_COPY")
    os.environ["PYPINYIN_NO_DICT_COPY"] = "1"  # read once, when pypinyin.constants is imported
    try:
        with loading.gc_paused():
            import pypinyin
    except ImportError:
        return None
    finally:
        if previous is None:
            del os.environ["PYPINYIN_NO_DICT_COPY"]
        else:
            os.environ["PYPINYIN_NO_DICT_COPY"] = previous
    return pypinyin


def document_fields(doc: DocumentRow) -> dict[str, Any]:
    """The Whoosh fields every page of a document shares: metadata, tags, sort keys."""
    tags = Tags.from_dict(doc.tags)
    meta = doc.metadata
    fields: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "collection": to_search_form(doc.collection),
        "_stored_collection": doc.collection,
        "_stored_title": doc.title,
        "ingest_seq": doc.seq,
        "contributor": to_search_form(str(meta.get("contributor", ""))),
        "sort_title": title_sort_key(doc.title),
    }
    years: list[int] = []
    for kind in TAG_KINDS:
        value = getattr(tags, kind.name)
        if kind.shape == YEARS:
            years = sorted({int(y) for y in value if 0 < int(y) < 10000})
            if years:
                fields[kind.index_field] = years
        elif kind.shape == TEXT:
            catalog = meta.get(kind.catalog_field) if kind.catalog_field else None
            fields[kind.index_field] = to_search_form(str(catalog or value))
        else:
            fields[kind.index_field] = _tag_values(value)
    fields["sort_year"] = years[0] if years else NO_YEAR
    return {k: v for k, v in fields.items() if v != ""}


def page_fields(doc: DocumentRow, page: PageRow, words: dict[str, int] | None = None,
                title_words: dict[str, int] | None = None,
                shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Whoosh fields of one page, carrying its document's metadata and tags.

    `shared` is `document_fields(doc)`, when the caller has it already.
    """
    fields = dict(shared if shared is not None else document_fields(doc))
    fields.update({
        "id": f"{doc.doc_id}#{page.number}",
        "page": page.number,
        "pk": page_key(doc.seq, page.number),
        "title": title_words if title_words is not None else word_counts(doc.title),
        "text": words if words is not None else word_counts(page.text),
    })
    return fields


class AnalysisPool:
    """jieba and the tagger in worker processes: submit a document early, collect at commit time."""

    def __init__(self, workers: int, user_dicts: tuple[str, ...]) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor as Pool

        self.user_dicts = user_dicts
        self._executor: ProcessPoolExecutor | None = Pool(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
        self._futures: dict[str, Future[Analysis]] = {}

    def submit(self, doc_id: str, title: str, texts: list[str], tagger: Tagger | None) -> None:
        """Start segmenting (and, with a tagger, tagging) a document."""
        self._submit(doc_id, analyze_document, title, texts, self.user_dicts, tagger)

    def submit_tags(self, doc_id: str, title: str, texts: list[str], tagger: Tagger) -> None:
        """Start tagging a long document (its word counts are made when it is written)."""
        self._submit(doc_id, tag_document, title, texts, tagger)

    def _submit(self, doc_id: str, fn: Callable[..., Analysis], *args: Any) -> None:
        if self._executor is None:
            return
        try:
            self._futures[doc_id] = self._executor.submit(fn, *args)
        except RuntimeError:  # BrokenProcessPool is one: the pool is gone
            self._executor = None

    def done(self, doc_id: str) -> bool:
        """True when a worker has finished this document (or it was never submitted)."""
        future = self._futures.get(doc_id)
        return future is None or future.done()

    def wait_first(self, doc_ids: Sequence[str]) -> None:
        """Block until a worker finishes one of these documents."""
        from concurrent.futures import FIRST_COMPLETED, wait

        futures = [f for f in (self._futures.get(d) for d in doc_ids) if f is not None]
        if futures:
            wait(futures, return_when=FIRST_COMPLETED)

    def take(self, doc_id: str, wait: bool = True) -> Analysis | None:
        """The analysis of a submitted document; None if it was not submitted, the worker died,
        or (with `wait` False) no worker has started it yet: then it is withdrawn, for the
        caller to do itself."""
        future = self._futures.get(doc_id)
        if future is None:
            return None
        if not wait and not future.done():
            if future.cancel():
                del self._futures[doc_id]
                return None
            raise _Running
        del self._futures[doc_id]
        try:
            return future.result()
        except _broken_pool():
            log.warning("index analysis worker died; segmenting in the main process")
            self._executor = None
            return None

    def close(self) -> None:
        """Stop the workers."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._futures.clear()


def _broken_pool() -> type[Exception]:
    from concurrent.futures.process import BrokenProcessPool

    return BrokenProcessPool


class _Running(Exception):
    """A worker is segmenting this document right now."""


class IndexQueue:
    """Documents waiting for the index: their pages, and their analysis (and tagging) under way.

    Small batches (tests, a few files) are segmented and tagged in this process at commit time;
    once a session has queued `POOL_MIN_CHARS`, documents go to worker processes as they are
    queued. `tagger_for` says how to tag a document whose tags are still to be computed (None:
    leave them as they are).
    """

    POOL_MIN_CHARS = 400_000
    # Characters the workers may have waiting; beyond, the writer works instead of queueing.
    BACKLOG_CHARS = 2_000_000

    def __init__(self, catalog: Catalog, user_dicts: tuple[str, ...], workers: int,
                 tagger_for: Callable[[DocumentRow], Tagger | None] = lambda doc: None,
                 budget: WriterBudget | None = None) -> None:
        self.catalog = catalog
        self.chunk_chars = (budget or WriterBudget(256)).chunk_chars
        self.backlog_chars = min(self.BACKLOG_CHARS, budget.backlog_chars if budget
                                 else self.BACKLOG_CHARS)
        self.user_dicts = user_dicts
        self.workers = max(1, workers)
        self.tagger_for = tagger_for
        self._pages: dict[str, list[PageRow]] = {}
        self._taggers: dict[str, Tagger | None] = {}
        self._waiting: dict[str, int] = {}  # characters of each document submitted to the pool
        self._waiting_chars = 0
        self._done: dict[str, Analysis] = {}  # analysed here by `help`, not yet written
        self._chars = 0
        self._pool: AnalysisPool | None = None

    def add(self, doc_id: str) -> int:
        """Read a queued document's pages and, in a big session, start analysing them.
        Returns the document's characters."""
        doc = self.catalog.document(doc_id)
        if doc is None:
            return 0
        long = self.is_long(doc)
        pages = self.catalog.pages(doc_id)
        if not long:  # a long document's pages are read again, a chunk at a time, when written
            self._pages[doc_id] = pages
        self._taggers[doc_id] = tagger = self.tagger_for(doc)
        chars = sum(len(p.text) for p in pages)
        self._chars += chars
        if (self._pool is None and self._chars >= self.POOL_MIN_CHARS and self.workers > 1
                and (not long or tagger is not None)):  # (else the pool has nothing to do)
            self._pool = AnalysisPool(self.workers - 1, self.user_dicts)
            weakref.finalize(self, self._pool.close)
        if self._pool is not None and (not long or tagger is not None):
            if long and tagger is not None:
                self._pool.submit_tags(doc_id, doc.title, [p.text for p in pages], tagger)
            else:
                self._pool.submit(doc_id, doc.title, [p.text for p in pages], tagger)
            self._finished(doc_id)  # queued again: counted once
            self._waiting[doc_id] = chars
            self._waiting_chars += chars
            self._done.pop(doc_id, None)
        return chars

    def will_pool(self, chars: int) -> bool:
        """True if a document of `chars` characters queued now goes to (or starts) the workers."""
        if self._pool is not None:
            return True
        return self.workers > 1 and self._chars + chars >= self.POOL_MIN_CHARS

    def is_long(self, doc: DocumentRow) -> bool:
        """True for a document indexed a chunk of pages at a time (see CHUNK_PAGES)."""
        return doc.page_count > CHUNK_PAGES or doc.char_count > self.chunk_chars

    @property
    def pooled(self) -> bool:
        """True once documents go to worker processes as they are queued."""
        return self._pool is not None

    def ready(self, doc_ids: Sequence[str]) -> int:
        """How many of `doc_ids`, from the front, can be written without waiting for a worker:
        all of them when no pool runs, else the ones analysed already."""
        if self._pool is None:
            return len(doc_ids)
        n = 0
        for doc_id in doc_ids:
            if doc_id not in self._done and not self._pool.done(doc_id):
                break
            n += 1
        return n

    def behind(self) -> bool:
        """True when the workers have more waiting than they should: the writer then writes
        what they have done or helps them, instead of queueing more (see LibraryFolder)."""
        if self._waiting_chars <= self.backlog_chars:
            return False
        pool = self._pool
        for doc_id in [d for d in self._waiting if pool is None or pool.done(d)]:
            self._finished(doc_id)
        return self._waiting_chars > self.backlog_chars

    def help(self) -> None:
        """Analyse here the last queued document no worker has started (or, if they all have
        started, wait for the first one)."""
        pool = self._pool
        waiting = [d for d in self._waiting if d not in self._done]
        if pool is None or not waiting:
            self._waiting.clear()
            self._waiting_chars = 0
            return
        for doc_id in reversed(waiting):
            if doc_id not in self._pages:
                continue  # a long document: tagging its whole text here would cost the writer
                # as much memory as the document (~300 bytes a character), so a worker does it
            try:
                result = pool.take(doc_id, wait=False)
            except _Running:
                continue
            if result is None:  # withdrawn from the pool: do it here
                pages = self._pages[doc_id]
                doc = self.catalog.document(doc_id)
                if doc is not None:
                    result = analyze_document(doc.title, [p.text for p in pages], self.user_dicts,
                                              self._taggers.get(doc_id))
            if result is not None:
                self._done[doc_id] = result
            self._finished(doc_id)
            return
        pool.wait_first(waiting)
        for doc_id in waiting:
            if pool.done(doc_id):
                self._finished(doc_id)

    def _finished(self, doc_id: str) -> None:
        self._waiting_chars -= self._waiting.pop(doc_id, 0)

    def pages_of(self, doc: DocumentRow) -> list[PageRow]:
        """The pages read when the document was queued (or now)."""
        return self._pages.pop(doc.doc_id, None) or self.catalog.pages(doc.doc_id)

    def analyze(self, batch: Sequence[tuple[DocumentRow, list[PageRow]]]) -> list[Analysis]:
        """Word counts (and tags, when due) of each document of a batch.

        The workers take documents from the front of the batch; this process takes the ones no
        worker has started from the back, so both stay busy until they meet.
        """
        results: list[Analysis | None] = [None] * len(batch)
        pool = self._pool
        for i in reversed(range(len(batch))):
            doc, pages = batch[i]
            try:
                done = pool.take(doc.doc_id, wait=False) if pool is not None else None
            except _Running:
                continue
            results[i] = self._checked(done, doc, pages)
        for i, (doc, pages) in enumerate(batch):
            if results[i] is None:
                results[i] = self._checked(pool.take(doc.doc_id) if pool is not None else None,
                                           doc, pages)
        return [r for r in results if r is not None]

    def _checked(self, done: Analysis | None, doc: DocumentRow, pages: list[PageRow]) -> Analysis:
        self._finished(doc.doc_id)
        done = self._done.pop(doc.doc_id, done)
        tagger = (self._taggers.pop(doc.doc_id, None) if doc.doc_id in self._taggers
                  else self.tagger_for(doc))
        if (done is not None and len(done[0]) == len(pages)
                and (tagger is None or done[2] is not None)):
            return done
        return analyze_document(doc.title, [p.text for p in pages], self.user_dicts, tagger)

    def long_tags(self, doc: DocumentRow) -> Tags | None:
        """The tags of a long document, when due (None: its tags stay as they are): from the
        worker that tagged it, else made here from its whole text."""
        self._finished(doc.doc_id)
        tagger = (self._taggers.pop(doc.doc_id, None) if doc.doc_id in self._taggers
                  else self.tagger_for(doc))
        done = self._done.pop(doc.doc_id, None)
        if done is None and self._pool is not None:
            done = self._pool.take(doc.doc_id)
        if tagger is None:
            return None
        if done is not None and done[2] is not None:
            return done[2]
        texts = [p.text for p in self.catalog.pages(doc.doc_id)]
        return tag_document(doc.title, texts, tagger)[2]

    def page_words(self, pages: list[PageRow]) -> list[dict[str, int]]:
        """Word counts of some pages of a long document (as `analyze_document` makes them)."""
        return analyze_document("", [p.text for p in pages], self.user_dicts)[0]

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def write_documents(ix: Index, catalog: Catalog, docs: Iterable[DocumentRow], queue: IndexQueue,
                    update: bool, budget: WriterBudget,
                    mergetype: Callable[[Any, list[Any]], list[Any]] | None = None) -> list[str]:
    """Index every page of `docs` (gram segment first, then Whoosh); returns the doc ids written.

    With `update`, pages a document had in the index before are replaced. The gram segment is
    published before the Whoosh commit, so a searcher never finds a page in Whoosh whose grams
    it cannot see; gram pages Whoosh does not know yet are ignored until it does.

    A long document (`IndexQueue.is_long`: a scanned volume of hundreds of pages) is read from
    the catalog a chunk of pages at a time, once for its grams and once for Whoosh, its word
    counts made chunk by chunk; the index gets the same contents as if it were read whole.
    `mergetype` is the Whoosh commit's merge policy (MERGE_SMALL when None).
    """
    docs = list(docs)
    batch = [(doc, queue.pages_of(doc)) for doc in docs if not queue.is_long(doc)]
    analyses = queue.analyze(batch)
    tagged = {doc.doc_id: tags for (doc, _), (_, _, tags) in zip(batch, analyses)
              if tags is not None}
    for doc in docs:
        if queue.is_long(doc) and (tags := queue.long_tags(doc)) is not None:
            tagged[doc.doc_id] = tags
    if tagged:
        # Tags reach the catalog before the index: a crash between the two leaves a tagged,
        # unindexed document, which the next ingest or `check --repair` indexes.
        catalog.store_tags(tagged)
        docs = [replace(doc, tags=tagged[doc.doc_id].to_dict()) if doc.doc_id in tagged
                else doc for doc in docs]
    short = {doc.doc_id: (pages, analysis) for (doc, pages), analysis in zip(batch, analyses)}
    del batch, analyses

    def chunks(doc: DocumentRow) -> Iterator[list[PageRow]]:
        if doc.doc_id in short:
            yield short[doc.doc_id][0]
        else:
            yield from catalog.page_chunks(doc.doc_id, CHUNK_PAGES, budget.chunk_chars)

    grams = GramWriter(grams_dir(ix), budget.merge_bytes)
    # One segment per `batch_chars` (a batch is that big unless one page is bigger).
    keys: list[int] = []
    compacts: list[str] = []
    chars = 0
    for doc in docs:
        for pages in chunks(doc):
            stored = catalog.page_compacts([(doc.doc_id, p.number) for p in pages])
            for p in pages:
                compact = stored.get((doc.doc_id, p.number))
                if compact is None:
                    compact = compact_search_form(p.text)
                if chars and chars + len(compact) > budget.batch_chars:
                    grams.add(keys, compacts)
                    keys, compacts, chars = [], [], 0
                keys.append(page_key(doc.seq, p.number))
                compacts.append(compact)
                chars += len(compact)
    grams.add(keys, compacts)
    del keys, compacts
    with index_writer(ix, budget.whoosh_limitmb) as writer:
        if mergetype is not None:
            writer.mergetype = mergetype
        for doc in docs:
            if update:
                writer.delete_by_term("doc_id", doc.doc_id)
            shared = document_fields(doc)
            if doc.doc_id in short:
                pages, (words, title_words, _) = short.pop(doc.doc_id)
                parts: Iterable[tuple[list[PageRow], list[dict[str, int]]]] = [(pages, words)]
            else:
                title_words = word_counts(doc.title)
                parts = ((pages, queue.page_words(pages)) for pages in chunks(doc))
            for pages, words in parts:
                for page, counts in zip(pages, words):
                    writer.add_document(**page_fields(doc, page, counts, title_words, shared))
    grams.maintain(lambda: live_page_keys(ix))
    return [doc.doc_id for doc in docs]


def small_segments(segments: Sequence[Any], new_pages: int, limit: int) -> list[Any]:
    """The Whoosh segments an ingest's last commit merges: those holding less than
    1/SMALL_SEGMENT_SHARE of the index's pages (with `new_pages`, those the commit adds),
    smallest first, together at most `limit` pages."""
    total = new_pages + sum(seg.doc_count_all() for seg in segments)
    chosen: list[Any] = []
    pages = 0
    for seg in sorted(segments, key=lambda seg: seg.doc_count_all()):
        count = seg.doc_count_all()
        if count * SMALL_SEGMENT_SHARE >= total or pages + count > limit:
            break
        chosen.append(seg)
        pages += count
    return chosen


def merge_small_segments(limit: int) -> Callable[[Any, list[Any]], list[Any]]:
    """The merge policy of an ingest's last commit: Whoosh's MERGE_SMALL, then the segments
    left that `small_segments` picks merged into the new segment.

    MERGE_SMALL merges the small segments only once their number outgrows a Fibonacci bound
    of their pages (with the 1亿 set's segments of ~500 pages, once ~19 have gathered), so how
    many an ingest leaves behind depends on where its commits fell (3 to 20 for the 1亿 set),
    and an unquoted search pays for each. `limit` (the pages the ingest wrote) bounds the merge: it
    reads at most as many pages as the ingest indexed, through the same bounded posting pool.
    """

    def policy(writer: Any, segments: list[Any]) -> list[Any]:
        rest: list[Any] = MERGE_SMALL(writer, segments)
        chosen = small_segments(rest, writer.doc_count(), limit)
        if len(chosen) < (1 if writer.doc_count() else 2):
            return rest
        for seg in chosen:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        merged = {id(seg) for seg in chosen}
        return [seg for seg in rest if id(seg) not in merged]

    return policy


class BlockPostingPool(PostingPool):  # type: ignore[misc]
    """Whoosh's posting pool, writing and reading its sorted runs a block of postings at a time.

    Whoosh pickles a run one posting at a time (a Pickler made per posting) and reads it back
    the same way: in an ingest of the 1亿 set that was 11% of the writer's time (py-spy), most
    of it when a commit merges segments, whose postings all pass through the pool and spill
    to disk. The same postings come back in the same order. A run being merged holds one
    block at a time instead of one posting: a block is a 128 x 1024th of the pool's limit
    (~170 bytes a posting as Whoosh counts them), so the up to 128 runs Whoosh merges at once
    hold at most about a sixth of the limit; 1,024 postings at the default budget.
    """

    @property
    def block(self) -> int:
        """Postings in a block of a run."""
        return max(1, int(self.limit) // (128 * 1024))

    def _write_run(self, f: Any, items: Iterable[Any]) -> None:
        size = self.block
        block: list[Any] = []
        for item in items:
            block.append(item)
            if len(block) >= size:
                pickle.dump(block, f, pickle.HIGHEST_PROTOCOL)
                block = []
        if block:
            pickle.dump(block, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    block = pickle.load(f)
                except EOFError:
                    return
                yield from block
        finally:
            f.close()
            self._remove_run(path)


def index_writer(ix: Index, limitmb: int) -> Any:
    """A Whoosh writer for an ingest's commit: separate files, `BlockPostingPool`."""
    # Separate files, not one compound file: Whoosh copies a compound segment into memory
    # (BytesIO) when a reader opens it, 40 ms of a cold search process at 20 million characters.
    writer = ix.writer(limitmb=limitmb, compound=False)
    pool = writer.pool
    if type(pool) is PostingPool and not pool.current and not pool.runs:
        writer.pool = BlockPostingPool(pool.tempstore, pool.segment, limitmb=limitmb)
    return writer


def grams_dir(ix: Index) -> Path:
    """The gram index folder of a Whoosh file index."""
    return Path(ix.storage.folder) / GRAMS_DIR


def live_page_keys(ix: Index) -> np.ndarray:
    """Sorted page keys of every page the Whoosh index holds (for dropping dead gram pages)."""
    from .bulk_read import page_key_array

    with ix.searcher() as searcher:
        reader = searcher.reader()
        keys = page_key_array(reader)
        live = np.ones(len(keys), dtype=bool)
        for sub, base in reader.leaf_readers():
            if sub.has_deletions():
                live[base + np.array(sorted(sub.deleted_docs_set), dtype=np.int64)] = False
        return np.unique(keys[live & (keys > 0)])
