"""Writing the Whoosh index from catalog rows: one Whoosh document per page."""

from __future__ import annotations

from typing import Any, Iterable

from whoosh.writing import IndexWriter

from pipeline.normalize import to_search_form

from .catalog import Catalog, DocumentRow, PageRow


def _tag_values(values: Any) -> str:
    """Comma-joined tag values in the search normal form (so either script matches)."""
    if not values:
        return ""
    names = [v[0] if isinstance(v, (list, tuple)) else v for v in values]
    return ",".join(to_search_form(str(n)).replace(",", " ") for n in names if str(n).strip())


def page_fields(doc: DocumentRow, page: PageRow) -> dict[str, Any]:
    """The Whoosh fields of one page, carrying its document's metadata and tags."""
    tags = doc.tags
    meta = doc.metadata
    fields: dict[str, Any] = {
        "id": f"{doc.doc_id}#{page.number}",
        "doc_id": doc.doc_id,
        "page": page.number,
        "collection": doc.collection,
        "title": doc.title,
        "text": page.text,
        "grams": page.text,
        "ingest_seq": doc.seq,
        "contributor": to_search_form(meta.get("contributor", "")),
        "doctype": to_search_form(str(meta.get("doctype") or tags.get("doctype") or "")),
        "period": str(tags.get("period") or ""),
        "person": _tag_values(tags.get("persons")),
        "place": _tag_values(tags.get("places")),
        "organization": _tag_values(tags.get("organizations")),
        "subject": _tag_values(tags.get("subjects")),
        "keyword": _tag_values(tags.get("keywords")),
    }
    years = [int(y) for y in tags.get("years", ()) if 0 < int(y) < 10000]
    if years:
        fields["year"] = years
    return {k: v for k, v in fields.items() if v != ""}


def add_documents(writer: IndexWriter, catalog: Catalog, docs: Iterable[DocumentRow], update: bool) -> list[str]:
    """Write every page of `docs`; `update` replaces pages already indexed. Returns doc ids."""
    written = []
    for doc in docs:
        if update:
            writer.delete_by_term("doc_id", doc.doc_id)
        for page in catalog.pages(doc.doc_id):
            writer.add_document(**page_fields(doc, page))
        written.append(doc.doc_id)
    return written
