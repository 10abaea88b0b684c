"""Archivists' catalog sheets (CSV in UTF-8, UTF-8 with BOM or GBK; Excel .xlsx).

One row per document. The columns have English names and the Chinese labels `wenshi catalog
export` writes (file/源文件, title/题名, ...); either is accepted. At ingest a row describes the
file it names; `wenshi catalog import` finds documents by `doc_id` (编号). Other columns are
kept as extra fields at ingest. A bad row is reported with its row number and column and
skipped; the other rows still apply.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .. import records
from ..errors import UsageError
from .sources import decode_text

COLUMNS = ("file", "title", "collection", "contributor", "region", "volume", "date", "doctype",
           "notes")
# Fields `wenshi tag --set` may correct besides the CSV columns: automatic tags (defined with
# the tag kinds, pipeline/records.py).
TAG_OVERRIDES = records.TAG_OVERRIDES
# The sheet's columns in the order `catalog export` writes them: (field, Chinese label).
FIELD_LABELS = (("doc_id", "编号"), ("file", "源文件"), ("title", "题名"), ("collection", "汇集"),
                ("contributor", "撰稿人"), ("region", "地区"), ("volume", "卷次"),
                ("date", "日期"), ("doctype", "文献类型"), ("notes", "备注"))
TAG_LABELS = tuple((kind.name, kind.label) for kind in records.TAG_KINDS if kind.correctable)
# Columns a sheet shows but no import changes (the catalog's own counts and records).
READ_ONLY_LABELS = (("pages", "页数"), ("characters", "字数"), ("kind", "文件类型"),
                    ("ingested_at", "入库时间"), ("doctype_auto", "文献类型（自动）"))
READ_ONLY = frozenset(f for f, _ in READ_ONLY_LABELS)
_BY_LABEL = {label: field for field, label in FIELD_LABELS + TAG_LABELS + READ_ONLY_LABELS}
_KNOWN = frozenset(_BY_LABEL.values())
LIST_SPLIT = re.compile(r"[|,，、]")

_DATE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?")
_VOLUME = re.compile(r"(第)?\s*[0-9一二三四五六七八九十百零〇]+\s*(辑|卷|册|期|集)?")


def column_field(header: str) -> str:
    """The field a sheet header names: a Chinese label or an English name; others as written."""
    text = header.strip()
    if text in _BY_LABEL:
        return _BY_LABEL[text]
    return text.lower() if text.lower() in _KNOWN else text


def split_list(value: str) -> list[str]:
    """The items of a list cell (`|`, commas or 、 between them)."""
    return [v.strip() for v in LIST_SPLIT.split(value) if v.strip()]


@dataclass(frozen=True)
class SheetRows:
    """A sheet as read: its columns as fields (in sheet order) and its non-empty rows."""

    source: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (row number in the sheet, field -> text)


def read_sheet(path: Path) -> SheetRows:
    """Read a .xlsx (first worksheet) or CSV sheet; UsageError when it cannot be read."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = _xlsx_table(path)
    else:
        try:
            text, _ = decode_text(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the sheet: {exc.strerror}") from exc
        table = list(csv.reader(io.StringIO(text)))
    if not table:
        raise UsageError(f"{path}: the sheet is empty")
    columns = tuple(column_field(h) for h in table[0])
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(table[1:], start=2):  # row 1 is the header
        fields: dict[str, str] = {}
        for column, cell in zip(columns, cells):
            if column and column not in fields:
                fields[column] = cell.strip()
        if any(fields.values()):
            rows.append((number, fields))
    return SheetRows(path, columns, tuple(rows))


def _xlsx_table(path: Path) -> list[list[str]]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV would hold: dates as ISO dates, 3.0 as 3."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class MetadataSheet:
    """Validated rows keyed by the file they describe, plus one message per bad row."""

    source: Path
    rows: tuple[tuple[str, dict[str, str]], ...]  # (file as written, fields)
    errors: tuple[str, ...]
    # the rows of the sheet as written (tag columns and doc_id included), by file as written
    full_rows: tuple[tuple[str, int, dict[str, str]], ...] = ()

    def for_path(self, path: Path) -> dict[str, str]:
        """The fields of the row naming `path` (relative to the sheet, or by file name)."""
        found = self._find(path)
        return dict(self.rows[found][1]) if found is not None else {}

    def full_row(self, path: Path) -> tuple[int, dict[str, str]] | None:
        """(row number, every cell) of the row naming `path`, for updating a stored document."""
        found = self._find(path)
        if found is None or found >= len(self.full_rows):
            return None
        _, number, fields = self.full_rows[found]
        return number, dict(fields)

    def _find(self, path: Path) -> int | None:
        resolved = path.resolve()
        by_name = []
        for i, (file, _) in enumerate(self.rows):
            if ((self.source.parent / file).resolve() == resolved
                    or Path(file).resolve() == resolved):
                return i
            if Path(file).name == path.name:
                by_name.append(i)
        return by_name[0] if len(by_name) == 1 else None


def validate_field(name: str, value: str) -> str | None:
    """The reason a value is not acceptable for a field, or None."""
    if name == "date" and value:
        m = _DATE.fullmatch(value)
        if not m:
            return f"{value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"
        month, day = int(m.group(2) or 1), int(m.group(3) or 1)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return f"{value!r} is not a date (month 1-12, day 1-31)"
    if name == "volume" and value and not _VOLUME.fullmatch(value):
        return f"{value!r} is not a volume number (e.g. 3 or 第三辑)"
    if name == "years" and value and not all(re.fullmatch(r"\d{3,4}", v)
                                             for v in split_list(value)):
        return f"{value!r} is not a list of years (e.g. 1937|1944)"
    if name == "title" and len(value) > 500:
        return "title longer than 500 characters"
    return None


def read_metadata_csv(path: Path) -> MetadataSheet:
    """Read and validate a metadata sheet (CSV or .xlsx). UsageError when the sheet itself is
    unusable. Tag columns, `doc_id` and the catalog's counts are not fields of a new document."""
    sheet = read_sheet(path)
    if "file" not in sheet.columns:
        raise UsageError(f"{path}: the metadata sheet needs a 'file' column "
                         f"(or 源文件; columns: {', '.join(COLUMNS)})")
    skip = {"doc_id", *READ_ONLY, *TAG_OVERRIDES}
    rows: list[tuple[str, dict[str, str]]] = []
    full: list[tuple[str, int, dict[str, str]]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in sheet.rows:
        fields = {k: v for k, v in raw.items() if k not in skip}
        file = fields.pop("file", "")
        problem = None
        if not file:
            problem = "column file: empty (name the file this row describes)"
        elif file in seen:
            problem = f"column file: {file!r} is already described in row {seen[file]}"
        else:
            for name, value in fields.items():
                reason = validate_field(name, value)
                if reason:
                    problem = f"column {name}: {reason}"
                    break
        if problem:
            errors.append(f"{path}: row {number}, {problem}")
            continue
        seen[file] = number
        rows.append((file, {k: v for k, v in fields.items() if v}))
        full.append((file, number, dict(raw)))
    return MetadataSheet(path, tuple(rows), tuple(errors), tuple(full))
