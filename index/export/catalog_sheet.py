"""The catalog sheet of a collection (`wenshi catalog export`): one row per document, keyed by
`doc_id` (编号), with the columns `wenshi catalog import` and `ingest --metadata` read back."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.errors import UsageError
from pipeline.run.metadata import FIELD_LABELS, READ_ONLY_LABELS, TAG_LABELS

from ..catalog import DocumentRow
from .common import check_targets, display_title, source_name, tag_names, write_atomic

LIST_SEPARATOR = "|"
SHEET_SUFFIXES = (".xlsx", ".csv")
_SHEET_READ_ONLY = (("pages", "页数"), ("characters", "字数"))
_NOT_EXTRA = {"title", "collection", "file", "doc_id"}


def extra_fields(documents: Iterable[DocumentRow]) -> list[str]:
    """Extra catalog fields of these documents (sheet columns beyond the standard ones)."""
    from ..tags import OVERRIDE_PREFIX

    standard = {f for f, _ in FIELD_LABELS} | {f for f, _ in TAG_LABELS} | _NOT_EXTRA
    standard |= {f for f, _ in READ_ONLY_LABELS}
    return sorted({k for d in documents for k in d.metadata
                   if not k.startswith(OVERRIDE_PREFIX)} - standard)


def sheet_fields(extras: Sequence[str]) -> list[tuple[str, str]]:
    """(field, header) of every column, in sheet order."""
    return [*FIELD_LABELS, *((e, e) for e in extras), *TAG_LABELS, *_SHEET_READ_ONLY]


def sheet_cells(doc: DocumentRow) -> dict[str, str]:
    """A document's values as the sheet shows them (lists joined by `|`)."""
    cells = {"doc_id": doc.doc_id, "file": source_name(doc), "title": display_title(doc),
             "collection": doc.collection, "pages": str(doc.page_count),
             "characters": str(doc.char_count)}
    for key, value in doc.metadata.items():
        if key not in cells and not key.startswith("tag."):
            cells[key] = str(value)
    for field, _ in TAG_LABELS:
        cells[field] = _tag_cell(doc.tags.get(field))
    return cells


def _tag_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value] if all(isinstance(v, int) for v in value) else \
            tag_names(value)
        return LIST_SEPARATOR.join(items)
    return str(value)


def sheet_table(documents: Sequence[DocumentRow]) -> list[list[str]]:
    """Header row, then one row per document."""
    fields = sheet_fields(extra_fields(documents))
    rows = [[label for _, label in fields]]
    for doc in documents:
        cells = sheet_cells(doc)
        rows.append([cells.get(field, "") for field, _ in fields])
    return rows


def write_catalog_sheet(documents: Sequence[DocumentRow], output: Path, force: bool,
                        collection: str) -> Path:
    """Write the sheet as .xlsx (openpyxl) or .csv (UTF-8 with a BOM, for Excel)."""
    suffix = output.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise UsageError(f"{output}: name the sheet .xlsx or .csv")
    check_targets([output], force)
    table = sheet_table(documents)
    if suffix == ".csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(table)
        return write_atomic(output, out.getvalue().encode("utf-8-sig"))
    return write_atomic(output, _xlsx_bytes(table, collection))


def _xlsx_bytes(table: list[list[str]], collection: str) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "目录"
    for row in table:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Every cell is text: a date stays 1958-07 and a doc_id 0123e456... is never a number.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["C"].width = 30
    book.properties.title = f"{collection} 目录"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
