"""What a search asks for and what it returns: plain records, plus their JSON form.

Kept apart from the search machinery (numpy, Whoosh) so that callers that only build requests or
print results need neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import UsageError

SORTS = ("relevance", "year", "title", "document")
# Facets a search can count matching pages by; `--facets` alone counts the first three.
FACETS = ("collection", "period", "subject", "decade", "person", "place", "doctype")
DEFAULT_FACETS = FACETS[:3]


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form scripts read (`wenshi search --json`)."""
        return {"doc_id": self.doc_id, "title": self.title, "collection": self.collection,
                "page": self.page, "snippet": self.snippet, "score": self.score,
                "matches": [list(m) for m in self.matches]}


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form scripts read (`wenshi search --json`, one line each with `--queries`)."""
        out: dict[str, Any] = {"total": self.total, "documents": self.documents,
                               "hits": [h.to_dict() for h in self.hits]}
        if self.groups:
            out["groups"] = [{"doc_id": g.doc_id, "title": g.title, "collection": g.collection,
                              "score": g.score, "pages": list(g.pages), "best": g.best.to_dict()}
                             for g in self.groups]
        if self.facets is not None:
            out["facets"] = self.facets
        return out


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
    facet_fields: tuple[str, ...] = ()  # with `facets`: which (FACETS); () = DEFAULT_FACETS
    snippets: bool = True  # False: no page text is read (hits carry empty snippets)


def check_request(request: SearchRequest) -> None:
    """UsageError for a request that cannot be run."""
    if request.limit < 0 or request.offset < 0:
        raise UsageError("--limit and --offset must not be negative")
    if request.sort not in SORTS:
        raise UsageError(f"--sort must be one of {', '.join(SORTS)}")
    unknown = [f for f in request.facet_fields if f not in FACETS]
    if unknown:
        raise UsageError(f"unknown facet {unknown[0]!r}; facets are {', '.join(FACETS)}")
