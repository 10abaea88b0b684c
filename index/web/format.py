"""Formatting for the reading room's pages: snippets cut into marked parts, catalog fields with
their Chinese labels, the citation line, the query a set of facet parameters adds up to.

Everything returns plain strings and tuples; the templates escape them (no markup is built
here from document data).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Mapping

from ..records import DocumentRecord
from ..snippets import MARK_END, MARK_START

# GB/T 7714-2015 document type codes: reports [R], everything else in a local-history
# collection (memoirs, drafts, minutes, chronicles, notices) is archival material [A].
_TYPE_CODES = {"调研报告": "R", "报告": "R", "汇编": "G", "图书": "M", "报纸": "N", "期刊": "J"}
_DEFAULT_TYPE_CODE = "A"
FACET_LABELS = {"collection": "汇集", "decade": "年代", "period": "时期", "subject": "主题",
                "person": "人名", "place": "地名", "doctype": "文献类型"}
KIND_LABELS = {"image": "图像", "pdf": "PDF", "docx": "Word 文稿", "text": "文本"}


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A search snippet as (text, marked) parts, its «» marks taken out."""
    parts: list[tuple[str, bool]] = []
    rest = snippet
    while rest:
        start = rest.find(MARK_START)
        end = rest.find(MARK_END, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            parts.append((rest, False))
            break
        if start:
            parts.append((rest[:start], False))
        parts.append((rest[start + 1:end], True))
        rest = rest[end + 1:]
    return parts


def filters_query(query: str, filters: Mapping[str, str]) -> str:
    """The query with one field filter per facet parameter, in the query language."""
    parts = [f"({query})"] if query.strip() else []
    for name, value in filters.items():
        value = value.strip()
        if not value:
            continue
        if name == "decade":
            if value.isdigit():
                start = int(value) // 10 * 10
                parts.append(f"year:{start}-{start + 9}")
            continue
        if '"' not in value:
            parts.append(f'{name}:"{value}"')
        elif "「" not in value and "」" not in value:
            parts.append(f"{name}:「{value}」")
    return " ".join(parts)


def _tag_text(value: Any) -> str:
    if isinstance(value, list):
        items = [str(v[0]) if isinstance(v, list) and v else str(v) for v in value]
        return "、".join(items)
    return str(value)


def record_fields(doc: DocumentRecord) -> list[tuple[str, str]]:
    """The catalog record as (Chinese label, value) rows, empty fields left out."""
    from ..export.catalog_formats import METADATA_COLUMNS

    rows = [("题名", doc.title), ("汇集", doc.collection)]
    known = {key for key, _ in METADATA_COLUMNS}
    rows += [(label, doc.metadata[key]) for key, label in METADATA_COLUMNS
             if doc.metadata.get(key)]
    rows += [(key, str(value)) for key, value in doc.metadata.items()
             if key not in known and key != "title" and not key.startswith("tag.") and value]
    rows += [("文件", f"{PurePath(doc.path).name}（{KIND_LABELS.get(doc.kind, doc.kind)}）"),
             ("页数", str(doc.page_count)), ("字数", f"{doc.char_count:,}"),
             ("编号", doc.doc_id), ("入库时间", doc.ingested_at.replace("T", " "))]
    return rows


def tag_fields(doc: DocumentRecord) -> list[tuple[str, str, list[str]]]:
    """The automatic tags as (key, Chinese label, values)."""
    from ..export.catalog_formats import TAG_COLUMNS

    out = []
    for key, label in TAG_COLUMNS:
        value = doc.tags.get(key)
        if value in (None, "", [], "pending"):
            continue
        text = _tag_text(value)
        out.append((key, label, [v for v in text.split("、") if v]))
    return out


def citation(doc: DocumentRecord, page: int) -> str:
    """The GB/T 7714-2015 style citation line: contributor. title[type]. collection, date: page."""
    contributor = doc.metadata.get("contributor", "").strip()
    doctype = doc.metadata.get("doctype") or str(doc.tags.get("doctype") or "")
    code = _TYPE_CODES.get(doctype, _DEFAULT_TYPE_CODE)
    date = doc.metadata.get("date", "").strip()
    line = f"{contributor}. " if contributor else ""
    line += f"{doc.title}[{code}]. {doc.collection}"
    line += f", {date}" if date else ""
    return line + f": {page}."
