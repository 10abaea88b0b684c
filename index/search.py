"""Searching the library: exact strings from the gram index, words ranked by BM25F, filters,
facets, grouping, and snippets highlighted at their true positions in the original page text.

A query is evaluated into exact sets of pages, held as boolean arrays over Whoosh document
numbers: quoted strings and the words of unquoted text from the positional gram index (no text
is read to verify, no jieba for quoted strings), filters from Whoosh terms, AND/OR/NOT as array
operations. Ranking is BM25F over the jieba words of title and text (read from Whoosh postings
in bulk) plus BM25 over the exact occurrence counts of quoted strings; `total` is always the
size of the whole set, whatever window is shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import _length_byte_cache

from pipeline.errors import LibraryError, UsageError
from pipeline.normalize import to_search_form

from .analysis import compact_search_form
from .catalog import Catalog
from .grams import GRAMS_DIR, PAGE_BITS, GramReader, code_points, runs
from .query import And, FieldFilter, Node, Not, Or, Phrase, Words, parse_query, positive_terms
from .schema import NO_YEAR
from .snippets import MARK_END, MARK_START, find_matches, make_snippet

__all__ = ["MARK_END", "MARK_START", "SORTS", "DocumentHit", "SearchContext", "SearchHit", "SearchRequest",
           "SearchResults", "find_matches", "make_snippet", "run", "search"]

SORTS = ("relevance", "year", "title", "document")
FACET_FIELDS = ("collection", "period", "subject")
_K1, _B = 1.2, 0.75  # BM25 parameters, as Whoosh's BM25F
_LENGTH_OF_BYTE = np.array(_length_byte_cache, dtype=np.float64)

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SearchHit:
    """One matching page."""

    doc_id: str
    title: str
    collection: str
    page: int
    score: float
    snippet: str
    matches: tuple[tuple[int, int], ...] = ()  # character offsets into the page's original text


@dataclass(frozen=True)
class DocumentHit:
    """One matching document (`--group`): its matching pages and its best page's hit."""

    doc_id: str
    title: str
    collection: str
    score: float
    pages: tuple[int, ...]
    best: SearchHit


@dataclass(frozen=True)
class SearchResults:
    """A window of results; `total` counts every matching page, `documents` their documents."""

    total: int
    hits: tuple[SearchHit, ...] = field(default_factory=tuple)
    documents: int = 0
    groups: tuple[DocumentHit, ...] = ()  # with `group`: the window is of documents
    facets: dict[str, dict[str, int]] | None = None  # with `facets`: page counts per value


@dataclass(frozen=True)
class SearchRequest:
    """What to search for and which slice of the results to return."""

    query: str
    collection: str | None = None
    limit: int = 10  # 0: all
    offset: int = 0
    sort: str = "relevance"  # relevance | year | title | document (archive order)
    group: bool = False  # one result per document, its matching pages listed
    facets: bool = False  # page counts by collection, period and subject
    snippets: bool = True  # False: no page text is read (hits carry empty snippets)


# -- reading Whoosh in bulk ----------------------------------------------------------------------
# Ranking a common word touches thousands of postings; Whoosh's matcher hands them out one call
# at a time (microseconds each in pure Python). These helpers read whole posting blocks and
# whole columns through whoosh-reloaded 2.7.5's W3 codec (pinned in setup.cfg) and fall back to
# the public one-at-a-time API for anything else.


def _raw_column(creader: Any, count: int, dtype: str, default: int) -> npt.NDArray[Any]:
    """All values of a fixed-width Whoosh column as one array (falls back to item access)."""
    out = np.full(count, default, dtype=np.dtype(dtype).newbyteorder("="))
    dbfile = getattr(creader, "_dbfile", None)
    fixed = getattr(creader, "_fixedlen", None)
    stored = getattr(creader, "_count", None)
    base = getattr(creader, "_basepos", None)
    if dbfile is not None and fixed == np.dtype(dtype).itemsize and stored is not None and base is not None:
        n = min(int(stored), count)
        if n:
            out[:n] = np.frombuffer(dbfile.get(base, n * fixed), dtype=dtype)
        return out
    for i in range(count):
        out[i] = creader[i]
    return out


def page_key_array(reader: IndexReader) -> Ints:
    """The gram page key of every Whoosh document number (0 where there is none)."""
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        if sub.has_column("pk"):
            parts.append(_raw_column(sub.column_reader("pk", translate=False), n, ">i8", 0))
        else:
            parts.append(np.zeros(n, dtype=np.int64))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _int_column(reader: IndexReader, name: str, typecode: str, default: int) -> Ints:
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        if sub.has_column(name):
            parts.append(_raw_column(sub.column_reader(name, translate=False), n, typecode, default))
        else:
            parts.append(np.full(n, default, dtype=np.int64))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _field_lengths(reader: IndexReader, fieldname: str) -> Floats:
    """Each document's length in a scorable field (Whoosh keeps it as one lossy byte)."""
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        perdoc = getattr(sub, "_perdoc", None)
        creader = None
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            creader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if creader is not None:
            parts.append(_LENGTH_OF_BYTE[_raw_column(creader, n, "u1", 0)])
        else:
            lengths = [sub.doc_field_length(d, fieldname, 0) for d in range(n)]
            parts.append(np.array(lengths, dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros(0, np.float64)


def _postings(reader: IndexReader, fieldname: str, text: str) -> tuple[Ints, Floats]:
    """(document numbers, weights) of a term, block by block rather than posting by posting."""
    ids: list[Ints] = []
    weights: list[Floats] = []
    for sub, base in reader.leaf_readers():
        try:
            m = sub.postings(fieldname, text)
        except TermNotFound:
            continue
        if isinstance(m, W3LeafMatcher):
            while True:
                m._read_data()
                block_ids = np.cumsum(np.asarray(m._data[0], dtype=np.int64))
                w = m._data[1]
                ids.append(block_ids + base)
                weights.append(np.ones(len(block_ids)) if w is None else
                               np.full(len(block_ids), float(w)) if isinstance(w, float) else
                               np.asarray(w, dtype=np.float64))
                if m._lastblock:
                    break
                m._goto(m._nextoffset)
        else:
            found = []
            while m.is_active():
                found.append((m.id(), m.weight()))
                m.next()
            if found:
                ids.append(np.array([d for d, _ in found], dtype=np.int64) + base)
                weights.append(np.array([w for _, w in found], dtype=np.float64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def _bm25(idf: float, tf: Floats, length: Floats, avg: float) -> Floats:
    norm = _K1 * ((1 - _B) + _B * length / (avg or 1.0))
    result: Floats = idf * (tf * (_K1 + 1)) / (tf + norm)
    return result


# -- the searcher's view of one index generation -------------------------------------------------


class SearchContext:
    """Everything a query needs from one open searcher, read once and shared by many queries."""

    def __init__(self, searcher: Searcher, catalog: Catalog, grams_folder: Path | None = None) -> None:
        self.searcher = searcher
        self.catalog = catalog
        self.reader = searcher.reader()
        self.n = self.reader.doc_count_all()
        self.live: Mask = np.ones(self.n, dtype=bool)
        for sub, base in self.reader.leaf_readers():
            if sub.has_deletions():
                self.live[base + np.array(sorted(sub.deleted_docs_set), dtype=np.int64)] = False
        self.keys = page_key_array(self.reader)
        self.live &= self.keys > 0
        live_docs = np.flatnonzero(self.live)
        order = np.argsort(self.keys[live_docs], kind="stable")
        self._sorted_keys = self.keys[live_docs][order]
        self._sorted_docs = live_docs[order]
        self.grams = GramReader(grams_folder if grams_folder is not None else _grams_folder(searcher))
        # Page -> document number per segment; a key in a newer segment supersedes older copies.
        self.compact_length = np.zeros(self.n, dtype=np.float64)
        self.seg_docs: list[Ints] = []
        claimed = np.zeros(self.n, dtype=bool)
        for seg in reversed(self.grams.segments):
            docs = self._docnums(np.asarray(seg.page_keys))
            ok = docs >= 0
            ok[ok] = ~claimed[docs[ok]]
            docs[~ok] = -1
            claimed[docs[ok]] = True
            self.compact_length[docs[ok]] = seg.page_lengths()[ok]
            self.seg_docs.append(docs)
        self.seg_docs.reverse()
        self.searchable = self.live & claimed
        count = int(self.searchable.sum())
        self.avg_compact = float(self.compact_length[self.searchable].sum()) / max(1, count)
        self._phrases: dict[str, Ints] = {}
        self._lengths: dict[str, Floats] = {}
        self._columns: dict[str, Ints] = {}

    def close(self) -> None:
        """Release the gram segment files."""
        self.grams.close()

    def clear_cache(self) -> None:
        """Forget the occurrence counts of strings searched before (they are kept per context)."""
        self._phrases.clear()

    def _docnums(self, keys: Ints) -> Ints:
        idx = np.searchsorted(self._sorted_keys, keys)
        idx[idx >= len(self._sorted_keys)] = 0
        found = (self._sorted_keys[idx] == keys) if len(self._sorted_keys) else np.zeros(len(keys), bool)
        return np.where(found, self._sorted_docs[idx] if len(self._sorted_docs) else -1, -1).astype(np.int64)

    def occurrences(self, compact: str) -> Ints:
        """How often the compact string occurs on each page (0: not at all), over doc numbers."""
        if compact in self._phrases:
            return self._phrases[compact]
        tf = np.zeros(self.n, dtype=np.int64)
        cps = code_points(compact)
        for seg, docs in zip(self.grams.segments, self.seg_docs):
            pages, counts = seg.occurrences(cps)
            d = docs[pages]
            ok = d >= 0
            tf[d[ok]] = counts[ok]
        self._phrases[compact] = tf
        return tf

    def term_docs(self, q: wq.Query) -> Mask:
        """Pages matching a Whoosh query."""
        mask = np.zeros(self.n, dtype=bool)
        docs = list(self.searcher.docs_for_query(q))
        if docs:
            mask[np.array(docs, dtype=np.int64)] = True
        return mask & self.live

    def field_lengths(self, fieldname: str) -> Floats:
        """Per-document lengths of a word field (cached)."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = _field_lengths(self.reader, fieldname)
        return self._lengths[fieldname]

    def column(self, name: str, typecode: str, default: int) -> Ints:
        """A fixed-width integer column over all document numbers (cached)."""
        if name not in self._columns:
            self._columns[name] = _int_column(self.reader, name, typecode, default)
        return self._columns[name]


def _grams_folder(searcher: Searcher) -> Path:
    folder = getattr(getattr(getattr(searcher, "_ix", None), "storage", None), "folder", None)
    if folder is None:
        raise LibraryError("the search index has no gram index beside it; run `wenshi reindex`")
    return Path(folder) / GRAMS_DIR


# -- evaluating a query --------------------------------------------------------------------------


def query_words(text: str) -> list[str]:
    """The words of unquoted query text in the normal form (jieba only when it is needed)."""
    compact = compact_search_form(text)
    if len(compact) <= 2 or compact.isascii():
        return [compact] if compact else []
    from .analysis import query_words as jieba_words

    return jieba_words(text)


class _Evaluator:
    """Turns a query tree into the exact set of matching pages."""

    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx

    def eval(self, node: Node) -> Mask:
        if isinstance(node, Phrase):
            compact = compact_search_form(node.text)
            if not compact:
                raise UsageError("empty quoted string in query")
            return self.ctx.occurrences(compact) > 0
        if isinstance(node, Words):
            return self.words(node.text)
        if isinstance(node, FieldFilter):
            return self.ctx.term_docs(filter_query(node))
        if isinstance(node, And):
            result = self.ctx.searchable.copy()
            for child in node.children:
                if isinstance(child, Not):
                    result &= ~self.eval(child.child)
                else:
                    result &= self.eval(child)
                if not result.any():
                    break
            return result
        if isinstance(node, Or):
            out = np.zeros(self.ctx.n, dtype=bool)
            for child in node.children:
                out |= self.eval(child)
            return out
        if isinstance(node, Not):
            excluded: Mask = self.ctx.searchable & ~self.eval(node.child)
            return excluded
        raise TypeError(node)

    def words(self, text: str) -> Mask:
        """Unquoted text: every word must occur, anywhere in the text as a string or as a title word."""
        words = query_words(text)
        if not words:
            compact = compact_search_form(text)
            if not compact:
                return np.zeros(self.ctx.n, dtype=bool)
            words = [compact]
        result = self.ctx.searchable.copy()
        for word in words:
            in_text = self.ctx.occurrences(compact_search_form(word)) > 0
            result &= in_text | self.ctx.term_docs(wq.Term("title", word))
            if not result.any():
                break
        return result


def filter_query(f: FieldFilter) -> wq.Query:
    """A Whoosh query for one field filter (values in the search normal form)."""
    value = f.value.strip()
    if f.name == "year":
        m = re.fullmatch(r"(\d{1,4})?\s*(?:([-~～—–至到])\s*(\d{1,4})?)?", value)
        if not m or not (m.group(1) or m.group(3)):
            raise UsageError(f"year filter needs a year or a range like 1950-1960, not {value!r}")
        lo = int(m.group(1)) if m.group(1) else 1
        hi = int(m.group(3)) if m.group(3) else (9999 if m.group(2) else lo)
        return wq.NumericRange("year", min(lo, hi), max(lo, hi))
    if f.name == "title":
        words = query_words(value)
        return wq.And([wq.Term("title", w) for w in words]) if words else wq.NullQuery
    norm = to_search_form(value)
    if f.name in ("person", "place", "organization", "keyword"):
        norm = norm.lower()
    return wq.Term(f.name, norm)


# -- ranking, windows, snippets ------------------------------------------------------------------


def _scores(ctx: SearchContext, matched: Mask, phrases: list[str], words: list[str]) -> Floats:
    """BM25F of the query words over title and text, plus BM25 of the quoted strings' counts."""
    scores = np.zeros(ctx.n, dtype=np.float64)
    n_docs = max(1, int(ctx.searchable.sum()))
    for fieldname in ("text", "title") if words else ():
        lengths = ctx.field_lengths(fieldname)
        avg = ctx.reader.field_length(fieldname) / max(1, ctx.n)
        for word in dict.fromkeys(words):
            ids, weights = _postings(ctx.reader, fieldname, word)
            if not len(ids):
                continue
            idf = math.log(ctx.n / (len(ids) + 1)) + 1
            keep = matched[ids]
            ids, weights = ids[keep], weights[keep]
            scores[ids] += _bm25(idf, weights, lengths[ids], avg)
    for phrase in dict.fromkeys(phrases):
        tf = ctx.occurrences(phrase)
        hits = np.flatnonzero(tf)
        if not len(hits):
            continue
        idf = math.log(n_docs / (len(hits) + 1)) + 1
        hits = hits[matched[hits]]
        scores[hits] += _bm25(idf, tf[hits].astype(np.float64), ctx.compact_length[hits], ctx.avg_compact)
    return scores


def _order(ctx: SearchContext, docs: Ints, scores: Floats, sort: str) -> Ints:
    """`docs` in result order; ties (and pages without a key) in archive order."""
    keys = ctx.keys[docs]
    if sort == "relevance":
        return docs[np.lexsort((keys, -scores[docs]))]
    if sort == "year":
        years = ctx.column("sort_year", ">i4", NO_YEAR)[docs]
        years = np.where(years == NO_YEAR, 10_000, years)
        return docs[np.lexsort((keys, years))]
    if sort == "title":
        reader = ctx.reader.column_reader("sort_title")
        seqs = keys >> PAGE_BITS
        titles: dict[int, bytes] = {}
        title_keys = []
        for d, seq in zip(docs.tolist(), seqs.tolist()):
            if seq not in titles:
                titles[seq] = reader[d] or b""
            title_keys.append(titles[seq])
        return docs[sorted(range(len(docs)), key=lambda i: (title_keys[i], int(keys[i])))]
    return docs[np.argsort(keys, kind="stable")]


def _hits(ctx: SearchContext, docs: Ints, scores: Floats, needles: list[str],
          snippets: bool) -> list[SearchHit]:
    stored = [ctx.searcher.stored_fields(int(d)) for d in docs]
    keys = [(s["doc_id"], int(s["page"])) for s in stored]
    texts = ctx.catalog.page_texts(keys) if snippets else {}
    hits = []
    for d, s, key in zip(docs.tolist(), stored, keys):
        text = texts.get(key, "")
        matches = find_matches(text, needles) if snippets else []
        hits.append(SearchHit(
            doc_id=s["doc_id"], title=s.get("title", ""), collection=s.get("collection", ""),
            page=int(s["page"]), score=round(float(scores[d]), 4),
            snippet=make_snippet(text, matches) if snippets else "", matches=tuple(matches),
        ))
    return hits


def _facets(ctx: SearchContext, matched: Mask) -> dict[str, dict[str, int]]:
    names = {to_search_form(c["name"]): c["name"] for c in ctx.catalog.collections()}
    out: dict[str, dict[str, int]] = {}
    for fieldname in FACET_FIELDS:
        counts: dict[str, int] = {}
        for value in ctx.reader.field_terms(fieldname):
            ids, _ = _postings(ctx.reader, fieldname, value)
            n = int(matched[ids].sum()) if len(ids) else 0
            if n:
                label = names.get(value, value) if fieldname == "collection" else value
                counts[label] = counts.get(label, 0) + n
        out[fieldname] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


# -- the entry points ----------------------------------------------------------------------------


def check_request(request: SearchRequest) -> None:
    """UsageError for a request that cannot be run."""
    if request.limit < 0 or request.offset < 0:
        raise UsageError("--limit and --offset must not be negative")
    if request.sort not in SORTS:
        raise UsageError(f"--sort must be one of {', '.join(SORTS)}")


def run(ctx: SearchContext, request: SearchRequest) -> SearchResults:
    """Run one query in an open context: exact set, ranked, windowed, with snippets."""
    check_request(request)
    ctx.clear_cache()  # counts are kept for one query: its evaluation and its ranking
    node = parse_query(request.query)
    if request.collection:
        node = And((node, FieldFilter("collection", request.collection)))
    matched = _Evaluator(ctx).eval(node) & ctx.searchable
    docs = np.flatnonzero(matched).astype(np.int64)
    total = len(docs)
    seqs = ctx.keys[docs] >> PAGE_BITS
    n_documents = len(runs(np.sort(seqs))[0])
    facets = _facets(ctx, matched) if request.facets else None
    if not total:
        return SearchResults(0, (), 0, (), facets)
    phrase_texts, word_texts = positive_terms(node)
    phrases = [c for c in (compact_search_form(p) for p in phrase_texts) if c]
    words = [w for t in word_texts for w in query_words(t)]
    scores = _scores(ctx, matched, phrases, words) if request.sort == "relevance" else np.zeros(ctx.n)
    ordered = _order(ctx, docs, scores, request.sort)
    needles = phrases + [compact_search_form(w) for w in words]
    end = None if request.limit == 0 else request.offset + request.limit
    if not request.group:
        window = ordered[request.offset:end]
        return SearchResults(total, tuple(_hits(ctx, window, scores, needles, request.snippets)),
                             n_documents, (), facets)
    ordered_seqs = ctx.keys[ordered] >> PAGE_BITS
    by_seq = np.argsort(ordered_seqs, kind="stable")
    sorted_seqs = ordered_seqs[by_seq]
    first = by_seq[np.flatnonzero(np.concatenate(([True], sorted_seqs[1:] != sorted_seqs[:-1])))]
    best_pages = ordered[np.sort(first)][request.offset:end]
    best_hits = _hits(ctx, best_pages, scores, needles, request.snippets)
    groups = []
    for best, hit in zip(best_pages.tolist(), best_hits):
        seq = int(ctx.keys[best]) >> PAGE_BITS
        pages = sorted(int(k) & ((1 << PAGE_BITS) - 1) for k in ctx.keys[docs[seqs == seq]])
        groups.append(DocumentHit(hit.doc_id, hit.title, hit.collection, hit.score, tuple(pages), hit))
    return SearchResults(total, tuple(best_hits), n_documents, tuple(groups), facets)


def search(searcher: Searcher, catalog: Catalog, request: SearchRequest) -> SearchResults:
    """Run a query: the exact set of matching pages, ranked, sliced and with snippets."""
    check_request(request)
    ctx = SearchContext(searcher, catalog)
    try:
        return run(ctx, request)
    finally:
        ctx.close()
