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
from pathlib import Path

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.searching import Searcher

from pipeline.errors import LibraryError, UsageError
from pipeline.text.normalize import to_search_form

from .analysis import compact_search_form
from .bulk_read import field_lengths, hold_segment_files, int_column, page_key_array, postings
from .catalog import Catalog
from .grams import GRAMS_DIR, PAGE_BITS, GramReader, code_points, runs
from .query import And, FieldFilter, Node, Not, Or, Phrase, Words, parse_query, positive_terms
from .results import (DEFAULT_FACETS, SORTS, DocumentHit, SearchHit, SearchRequest, SearchResults,
                      check_request)
from .schema import NO_YEAR
from .snippets import MARK_END, MARK_START, find_matches, make_snippet

__all__ = ["MARK_END", "MARK_START", "SORTS", "DocumentHit", "SearchContext", "SearchHit",
           "SearchRequest", "SearchResults", "find_matches", "make_snippet", "query_needles", "run"]

FACET_FIELDS = DEFAULT_FACETS
_K1, _B = 1.2, 0.75  # BM25 parameters, as Whoosh's BM25F

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def _bm25(idf: float, tf: Floats, length: Floats, avg: float) -> Floats:
    norm = _K1 * ((1 - _B) + _B * length / (avg or 1.0))
    result: Floats = idf * (tf * (_K1 + 1)) / (tf + norm)
    return result


# -- the searcher's view of one index generation -------------------------------------------------


class SearchContext:
    """Everything a query needs from one open searcher, read once and shared by many queries."""

    def __init__(self, searcher: Searcher, catalog: Catalog,
                 grams_folder: Path | None = None) -> None:
        self.searcher = searcher
        self.catalog = catalog
        self.reader = searcher.reader()
        hold_segment_files(self.reader)
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
        self.grams = GramReader(grams_folder if grams_folder is not None
                                else _grams_folder(searcher))
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
        self._facets: dict[str, tuple[list[str], Ints, Ints]] = {}

    def close(self) -> None:
        """Release the gram segment files."""
        self.grams.close()

    def clear_cache(self) -> None:
        """Forget the occurrence counts of strings searched before (they are kept per context)."""
        self._phrases.clear()

    def _docnums(self, keys: Ints) -> Ints:
        idx = np.searchsorted(self._sorted_keys, keys)
        idx[idx >= len(self._sorted_keys)] = 0
        found = ((self._sorted_keys[idx] == keys) if len(self._sorted_keys)
                 else np.zeros(len(keys), bool))
        return np.where(found, self._sorted_docs[idx] if len(self._sorted_docs) else -1,
                        -1).astype(np.int64)

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
            self._lengths[fieldname] = field_lengths(self.reader, fieldname)
        return self._lengths[fieldname]

    def facet_table(self, name: str) -> tuple[list[str], Ints, Ints]:
        """A facet's values and, over all its postings, (document numbers, value index) pairs,
        read once per index generation: counting one query's facets is then one bincount."""
        if name not in self._facets:
            self._facets[name] = _facet_table(self, name)
        return self._facets[name]

    def column(self, name: str, typecode: str, default: int) -> Ints:
        """A fixed-width integer column over all document numbers (cached)."""
        if name not in self._columns:
            self._columns[name] = int_column(self.reader, name, typecode, default)
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
        """Unquoted text: every word must occur, anywhere in the text as a string or as a title
        word."""
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


def _positive(node: Node) -> tuple[list[str], list[str]]:
    """The compact quoted strings and the words that count towards ranking and highlights."""
    phrase_texts, word_texts = positive_terms(node)
    phrases = [c for c in (compact_search_form(p) for p in phrase_texts) if c]
    words = [w for t in word_texts for w in query_words(t)]
    return phrases, words


def query_needles(query: str) -> list[str]:
    """What a query highlights on a page, in the compact normal form (find_matches' needles):
    its quoted strings and words outside any NOT. UsageError for a malformed query."""
    phrases, words = _positive(parse_query(query))
    return phrases + [compact_search_form(w) for w in words]


# -- ranking, windows, snippets ------------------------------------------------------------------


def _scores(ctx: SearchContext, matched: Mask, phrases: list[str], words: list[str]) -> Floats:
    """BM25F of the query words over title and text, plus BM25 of the quoted strings' counts."""
    scores = np.zeros(ctx.n, dtype=np.float64)
    n_docs = max(1, int(ctx.searchable.sum()))
    for fieldname in ("text", "title") if words else ():
        lengths = ctx.field_lengths(fieldname)
        avg = ctx.reader.field_length(fieldname) / max(1, ctx.n)
        for word in dict.fromkeys(words):
            ids, weights = postings(ctx.reader, fieldname, word)
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
        scores[hits] += _bm25(idf, tf[hits].astype(np.float64), ctx.compact_length[hits],
                              ctx.avg_compact)
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


def _facet_table(ctx: SearchContext, name: str) -> tuple[list[str], Ints, Ints]:
    fieldname = "year" if name == "decade" else name
    if name == "collection":
        names = {to_search_form(c["name"]): c["name"] for c in ctx.catalog.collections()}
    labels: list[str] = []
    index: dict[str, int] = {}
    ids_parts: list[Ints] = []
    value_parts: list[Ints] = []
    for value in ctx.reader.field_terms(fieldname):
        ids, _ = postings(ctx.reader, fieldname, value)
        if not len(ids):
            continue
        if name == "decade":
            label = f"{int(value) // 10 * 10}"
        elif name == "collection":
            label = names.get(value, value)
        else:
            label = str(value)
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
        ids_parts.append(ids)
        value_parts.append(np.full(len(ids), index[label], dtype=np.int64))
    if not ids_parts:
        return labels, np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids, values = np.concatenate(ids_parts), np.concatenate(value_parts)
    # A page naming 1950 and 1958 counts once in the 1950s (and a collection's two spellings once).
    pairs = np.unique(ids * (len(labels) + 1) + values)
    return labels, pairs // (len(labels) + 1), pairs % (len(labels) + 1)


def _facets(ctx: SearchContext, matched: Mask,
            names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in names:
        labels, ids, values = ctx.facet_table(name)
        counts: list[int] = (np.bincount(values[matched[ids]], minlength=len(labels)).tolist()
                             if len(ids) else [])
        found = {labels[i]: n for i, n in enumerate(counts) if n}
        if name == "decade":
            out[name] = dict(sorted(found.items()))
        else:
            out[name] = dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


# -- the entry points ----------------------------------------------------------------------------


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
    facets = (_facets(ctx, matched, request.facet_fields or FACET_FIELDS) if request.facets
              else None)
    if not total:
        return SearchResults(0, (), 0, (), facets)
    phrases, words = _positive(node)
    scores = (_scores(ctx, matched, phrases, words) if request.sort == "relevance"
              else np.zeros(ctx.n))
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
        groups.append(DocumentHit(hit.doc_id, hit.title, hit.collection, hit.score, tuple(pages),
                                  hit))
    return SearchResults(total, tuple(best_hits), n_documents, tuple(groups), facets)
