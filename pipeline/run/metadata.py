"""Archivists' catalog metadata from a CSV sheet (UTF-8 or GBK, as Excel saves it).

One row per file: file, title, collection, contributor, region, volume, date, doctype, notes;
other columns are kept as extra fields. A bad row is reported with its row number and column
and skipped; the other rows still apply.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .sources import decode_text

COLUMNS = ("file", "title", "collection", "contributor", "region", "volume", "date", "doctype",
           "notes")
# Fields `wenshi tag --set` may correct besides the CSV columns: automatic tags.
TAG_OVERRIDES = ("period", "subjects", "persons", "places", "organizations", "keywords", "years")

_DATE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?")
_VOLUME = re.compile(r"(第)?\s*[0-9一二三四五六七八九十百零〇]+\s*(辑|卷|册|期|集)?")


@dataclass(frozen=True)
class MetadataSheet:
    """Validated rows keyed by the file they describe, plus one message per bad row."""

    source: Path
    rows: tuple[tuple[str, dict[str, str]], ...]  # (file as written, fields)
    errors: tuple[str, ...]

    def for_path(self, path: Path) -> dict[str, str]:
        """The fields of the row naming `path` (relative to the sheet, or by file name)."""
        resolved = path.resolve()
        by_name = []
        for file, fields in self.rows:
            if ((self.source.parent / file).resolve() == resolved
                    or Path(file).resolve() == resolved):
                return dict(fields)
            if Path(file).name == path.name:
                by_name.append(fields)
        return dict(by_name[0]) if len(by_name) == 1 else {}


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
    if name == "title" and len(value) > 500:
        return "title longer than 500 characters"
    return None


def read_metadata_csv(path: Path) -> MetadataSheet:
    """Read and validate a metadata sheet. UsageError when the sheet itself is unusable."""
    try:
        text, _ = decode_text(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the metadata sheet: {exc.strerror}") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if "file" not in header:
        raise UsageError(f"{path}: the metadata sheet needs a 'file' column "
                         f"(columns: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    rows: list[tuple[str, dict[str, str]]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):  # row 1 is the header
        fields = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(fields.values()):
            continue
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
    return MetadataSheet(path, tuple(rows), tuple(errors))
