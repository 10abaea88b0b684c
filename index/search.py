"""Searching the library: exact strings over character grams, words ranked by BM25F, filters,
snippets highlighted at their true positions in the original page text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from whoosh import query as wq
from whoosh.searching import Searcher

from pipeline.errors import UsageError
from pipeline.normalize import to_search_form

from .analysis import compact_search_form
from .catalog import Catalog
from .query import And, FieldFilter, Node, Not, Or, Phrase, Words, parse_query, positive_terms

SNIPPET_CONTEXT = 40  # characters each side of a match
MAX_FRAGMENTS = 3
MARK_START, MARK_END = "«", "»"
_SPACE = re.compile(r"\s")


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
class SearchResults:
    """A page of results; `total` counts every matching page."""

    total: int
    hits: tuple[SearchHit, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SearchRequest:
    """What to search for and which slice of the results to return."""

    query: str
    collection: str | None = None
    limit: int = 10  # 0: all
    offset: int = 0
    sort: str = "relevance"


class _Evaluator:
    """Turns a query tree into the exact set of matching Whoosh document numbers."""

    def __init__(self, searcher: Searcher, catalog: Catalog) -> None:
        self.s = searcher
        self.catalog = catalog
        self._universe: set[int] | None = None

    def universe(self) -> set[int]:
        if self._universe is None:
            self._universe = set(self.s.reader().all_doc_ids())
        return self._universe

    def docs(self, q: wq.Query) -> set[int]:
        return set(self.s.docs_for_query(q))

    def eval(self, node: Node) -> set[int]:
        if isinstance(node, Phrase):
            return self.phrase(node.text)
        if isinstance(node, Words):
            return self.words(node.text)
        if isinstance(node, FieldFilter):
            return self.docs(filter_query(node))
        if isinstance(node, And):
            positives = [c for c in node.children if not isinstance(c, Not)]
            negatives = [c.child for c in node.children if isinstance(c, Not)]
            result = self.universe() if not positives else None
            for child in positives:
                found = self.eval(child)
                result = found if result is None else result & found
                if not result:
                    return set()
            assert result is not None
            for child in negatives:
                result = result - self.eval(child)
            return result
        if isinstance(node, Or):
            out: set[int] = set()
            for child in node.children:
                out |= self.eval(child)
            return out
        if isinstance(node, Not):
            return self.universe() - self.eval(node.child)
        raise TypeError(node)

    def phrase(self, text: str) -> set[int]:
        """Pages whose compact normal form contains the string: postings, then a text check."""
        target = compact_search_form(text)
        if not target:
            return set()
        if len(target) <= 2:
            return self.docs(wq.Term("grams", target))
        reader = self.s.reader()
        grams = {target[i:i + 2] for i in range(len(target) - 1)}
        ranked = sorted(grams, key=lambda g: reader.doc_frequency("grams", g))
        candidates: set[int] | None = None
        for gram in ranked:
            found = self.docs(wq.Term("grams", gram))
            candidates = found if candidates is None else candidates & found
            if not candidates:
                return set()
        assert candidates is not None
        keys = {d: self.key(d) for d in candidates}
        compacts = self.catalog.page_compacts(list(keys.values()))
        return {d for d, k in keys.items() if target in compacts.get(k, "")}

    def words(self, text: str) -> set[int]:
        """Unquoted text: every word must occur, as a word or anywhere as a string."""
        result: set[int] | None = None
        for word in query_words(text):
            found = self.phrase(word) | self.docs(wq.Term("title", word))
            result = found if result is None else result & found
            if not result:
                return set()
        return result or set()

    def key(self, docnum: int) -> tuple[str, int]:
        stored = self.s.stored_fields(docnum)
        return stored["doc_id"], int(stored["page"])


def query_words(text: str) -> list[str]:
    """The words of unquoted query text in the normal form (jieba only when it is needed)."""
    norm = to_search_form(text).strip()
    if len(compact_search_form(norm)) <= 2:
        return [compact_search_form(norm)] if compact_search_form(norm) else []
    from pipeline import segment

    return [w for w in segment.segment_text(norm) if w.strip()]


def filter_query(f: FieldFilter) -> wq.Query:
    """A Whoosh query for one field filter."""
    value = f.value.strip()
    if f.name == "collection":
        return wq.Term("collection", value)
    if f.name == "year":
        m = re.fullmatch(r"(\d{1,4})(?:\s*[-~～至到]\s*(\d{1,4}))?", value)
        if not m:
            raise UsageError(f"year filter needs a year or a range like 1950-1960, not {value!r}")
        lo = int(m.group(1))
        hi = int(m.group(2) or lo)
        return wq.NumericRange("year", min(lo, hi), max(lo, hi))
    if f.name == "title":
        words = query_words(value)
        return wq.And([wq.Term("title", w) for w in words]) if words else wq.NullQuery
    norm = to_search_form(value)
    if f.name in ("person", "place", "organization", "keyword"):
        norm = norm.lower()
    return wq.Term(f.name, norm)


def search(searcher: Searcher, catalog: Catalog, request: SearchRequest) -> SearchResults:
    """Run a query: the exact set of matching pages, ranked, sliced and with snippets."""
    if request.limit < 0 or request.offset < 0:
        raise UsageError("--limit and --offset must not be negative")
    if request.sort not in ("relevance", "title", "year", "document"):
        raise UsageError("--sort must be relevance, year, title or document")
    node = parse_query(request.query)
    if request.collection:
        node = And((node, FieldFilter("collection", request.collection)))
    evaluator = _Evaluator(searcher, catalog)
    matched = evaluator.eval(node)
    total = len(matched)
    if not matched:
        return SearchResults(0, ())
    phrases, word_texts = positive_terms(node)
    words = [w for t in word_texts for w in query_words(t)]
    ranked = _rank(searcher, matched, words, request.sort, catalog)
    end = None if request.limit == 0 else request.offset + request.limit
    window = ranked[request.offset:end]
    highlights = [compact_search_form(p) for p in phrases] + [compact_search_form(w) for w in words]
    hits = []
    keys = [evaluator.key(d) for d, _ in window]
    texts = catalog.page_texts(keys)
    for (docnum, score), key in zip(window, keys):
        stored = searcher.stored_fields(docnum)
        text = texts.get(key, "")
        matches = find_matches(text, highlights)
        hits.append(SearchHit(
            doc_id=stored["doc_id"], title=stored.get("title", ""), collection=stored.get("collection", ""),
            page=int(stored["page"]), score=round(score, 4),
            snippet=make_snippet(text, matches), matches=tuple(matches),
        ))
    return SearchResults(total, tuple(hits))


def _rank(searcher: Searcher, matched: set[int], words: list[str], sort: str,
          catalog: Catalog) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    if words and sort == "relevance":
        scoring = wq.Or([wq.Term(f, w) for w in words for f in ("text", "title")])
        for hit in searcher.search(scoring, filter=matched, limit=None):
            scores[hit.docnum] = float(hit.score)

    def archive_order(d: int) -> tuple[int, int]:
        stored = searcher.stored_fields(d)
        return int(stored.get("ingest_seq", 0)), int(stored["page"])

    if sort == "title":
        return sorted(((d, 0.0) for d in matched),
                      key=lambda p: (searcher.stored_fields(p[0]).get("title", ""), archive_order(p[0])))
    if sort == "year":
        first_year = {doc.doc_id: min(doc.tags.get("years") or [9999]) for doc in catalog.documents()}
        return sorted(((d, 0.0) for d in matched),
                      key=lambda p: (first_year.get(searcher.stored_fields(p[0])["doc_id"], 9999),
                                     archive_order(p[0])))
    return sorted(((d, scores.get(d, 0.0)) for d in matched), key=lambda p: (-p[1], archive_order(p[0])))


def compact_map(text: str) -> tuple[str, list[int]]:
    """The compact normal form of `text` and, for each of its characters, the original offset."""
    norm = to_search_form(text)
    offsets = [i for i, ch in enumerate(norm) if not _SPACE.match(ch)]
    return "".join(norm[i] for i in offsets), offsets


def find_matches(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Every occurrence of each needle (compact normal form) as (start, end) in `text`."""
    compact, offsets = compact_map(text)
    spans: list[tuple[int, int]] = []
    for needle in {n for n in needles if n}:
        start = compact.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = compact.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def make_snippet(text: str, matches: list[tuple[int, int]], context: int = SNIPPET_CONTEXT) -> str:
    """Up to MAX_FRAGMENTS fragments of original text around the matches, marked «like this»."""
    if not matches:
        return _one_line(text[: 2 * context])
    windows: list[list[tuple[int, int]]] = []
    for span in matches:
        if windows and span[0] - windows[-1][-1][1] <= 2 * context:
            windows[-1].append(span)
        else:
            windows.append([span])
    fragments = []
    for group in windows[:MAX_FRAGMENTS]:
        start = max(0, group[0][0] - context)
        end = min(len(text), group[-1][1] + context)
        out, pos = [], start
        for s, e in group:
            out.append(text[pos:s])
            out.append(MARK_START + text[s:e] + MARK_END)
            pos = e
        out.append(text[pos:end])
        fragment = _one_line("".join(out))
        fragments.append(("…" if start > 0 else "") + fragment + ("…" if end < len(text) else ""))
    return " ".join(fragments)


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\n\t]\s*", " ", text).strip()
