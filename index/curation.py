"""An archivist's changes to the catalog after ingest: sheet import (changed cells only),
removal and moving of documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from pipeline.errors import UsageError
from pipeline.records import TAG_KINDS_BY_NAME, TEXT, Tags
from pipeline.run.metadata import (READ_ONLY, TAG_OVERRIDES, SheetRows, split_list,
                                   validate_field)

from .catalog import DocumentRow, tags_pending
from .export.catalog_sheet import LIST_SEPARATOR, extra_fields, sheet_cells
from .library import LibraryFolder
from .tags import OVERRIDE_PREFIX

# Columns that identify a row or only show the catalog's own record: never changed by an import.
_KEYS = {"doc_id", "file"}
_EMPTY = "''"


@dataclass(frozen=True)
class FieldChange:
    """One changed cell: `doc_id field: old -> new`."""

    doc_id: str
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.doc_id} {self.field}: {self.old or _EMPTY} -> {self.new or _EMPTY}"


@dataclass(frozen=True)
class ImportPlan:
    """The changes a sheet makes, and one line per cell, row or column that could not apply."""

    changes: tuple[FieldChange, ...]
    problems: tuple[str, ...]

    @property
    def documents(self) -> int:
        """How many documents change."""
        return len({c.doc_id for c in self.changes})


def row_changes(doc: DocumentRow, cells: dict[str, str], clear: Iterable[str] = (),
                where: str = "") -> tuple[list[FieldChange], list[str]]:
    """The changes one sheet row makes to one document, and its bad cells (`where`: the
    `sheet: row N` prefix of their messages). A row with a bad cell changes nothing."""
    current = sheet_cells(doc)
    clear = set(clear)
    changes: list[FieldChange] = []
    problems: list[str] = []
    for field, value in cells.items():
        if field in _KEYS or field in READ_ONLY:
            continue
        old = current.get(field, "")
        if not value:
            if field in clear and old:
                changes.append(FieldChange(doc.doc_id, field, old, ""))
            continue
        if field in TAG_OVERRIDES:
            if split_list(value) == split_list(old) or value == old:
                continue
            value = LIST_SEPARATOR.join(split_list(value)) if field != "period" else value
        elif value == old:
            continue
        reason = None if field == "collection" else validate_field(field, value)
        if reason:
            problems.append(f"{where}, column {field}: {reason}")
            continue
        changes.append(FieldChange(doc.doc_id, field, old, value))
    return ([] if problems else changes), problems


def plan_import(library: LibraryFolder, sheet: SheetRows, clear: Sequence[str] = ()) -> ImportPlan:
    """Compare a sheet with the catalog, row by row, keyed by doc_id."""
    if "doc_id" not in sheet.columns:
        raise UsageError(f"{sheet.source}: the sheet needs a doc_id (编号) column, as "
                         "`wenshi catalog export` writes it")
    documents = list(library.catalog.documents(status=None))
    known = ({"doc_id", "file", "title", "collection", "contributor", "region", "volume",
              "date", "doctype", "notes", *TAG_OVERRIDES, *READ_ONLY}
             | set(extra_fields(documents)))
    problems = [f"{sheet.source}: column {c!r} is not a catalog field of this library; ignored"
                for c in dict.fromkeys(sheet.columns) if c and c not in known]
    for c in clear:
        if c not in known or c in _KEYS or c in READ_ONLY or c == "collection":
            raise UsageError(f"--clear {c}: not a column an import can clear")
    by_id = {d.doc_id: d for d in documents}
    changes: list[FieldChange] = []
    seen: dict[str, int] = {}
    for number, raw in sheet.rows:
        where = f"{sheet.source}: row {number}"
        doc_id = raw.get("doc_id", "")
        cells = {k: v for k, v in raw.items() if k in known}
        doc = by_id.get(doc_id)
        if not doc_id:
            problems.append(f"{where}, column doc_id: empty (each row needs the document's id)")
            continue
        if doc is None:
            problems.append(f"{where}, column doc_id: no document {doc_id!r} in the library")
            continue
        if doc_id in seen:
            problems.append(f"{where}, column doc_id: {doc_id!r} is already in row {seen[doc_id]}")
            continue
        seen[doc_id] = number
        found, bad = row_changes(doc, cells, clear, where)
        changes += found
        problems += bad
    return ImportPlan(tuple(changes), tuple(problems))


def apply_changes(library: LibraryFolder, changes: Sequence[FieldChange]) -> int:
    """Write changes to the catalog (one transaction per document), then re-index the changed
    documents in one commit. Tag cells become corrections (`tag.*`), kept by `reindex --retag`.
    Returns the number of documents changed."""
    by_doc: dict[str, list[FieldChange]] = {}
    for change in changes:
        by_doc.setdefault(change.doc_id, []).append(change)
    moves: dict[str, list[str]] = {}
    for doc_id, items in by_doc.items():
        doc = library.document(doc_id)
        metadata = dict(doc.metadata)
        tags = Tags.from_dict(doc.tags)
        title: str | None = None
        for c in items:
            if c.field == "collection":
                moves.setdefault(c.new, []).append(doc_id)
            elif c.field in TAG_OVERRIDES:
                one_value = TAG_KINDS_BY_NAME[c.field].shape == TEXT
                value = c.new if one_value else ",".join(split_list(c.new))
                metadata[OVERRIDE_PREFIX + c.field] = value
                tags = tags.corrected(c.field, value)
            elif c.new:
                metadata[c.field] = c.new
                title = c.new if c.field == "title" else title
            else:
                metadata.pop(c.field, None)
        # Pending tags are made at indexing, with the corrections now in the metadata.
        library.catalog.update_document_fields(
            doc_id, title=title, metadata=metadata,
            tags=None if tags_pending(doc.tags) else tags)
    for collection, doc_ids in moves.items():
        library.catalog.move_documents(doc_ids, collection)
    library.reindex_documents(list(by_doc))
    return len(by_doc)


def resolve_documents(library: LibraryFolder, doc_ids: Sequence[str]) -> list[DocumentRow]:
    """Documents by id or unique id prefix; NotFoundError names the first unknown one."""
    found: dict[str, DocumentRow] = {}
    for doc_id in doc_ids:
        doc = library.document(doc_id)
        found[doc.doc_id] = doc
    return list(found.values())
