"""The catalog of a collection as CSV and JSON, and 字数 per document and contributor for fees."""

from __future__ import annotations

import csv
import io
import json
import time
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Sequence

from pipeline.records import TAG_KINDS, Tags

from ..catalog import DocumentRow
from .common import (UNSIGNED, ExportJob, WriterOutcome, contributor_of, display_title,
                     file_target, pinyin_key, source_name, tag_names, write_atomic)

LIST_SEPARATOR = "|"  # multi-valued cells: never occurs in Chinese text, common in import tools
METADATA_COLUMNS = (("contributor", "撰稿人"), ("region", "地区"), ("volume", "卷次"),
                    ("date", "日期"), ("doctype", "文献类型"), ("notes", "备注"))
TAG_COLUMNS = tuple((kind.name, kind.label) for kind in TAG_KINDS)
# Fields of the tags record that are not tags (char_count: the catalog's own 字数 column says it).
_TAGS_NOT_COLUMNS = {f.name for f in fields(Tags)} - {kind.name for kind in TAG_KINDS}


# -- word counts -----------------------------------------------------------------------------

def fee_thousands(characters: int) -> float:
    """千字 for 稿酬: whole thousands, a remainder of up to 500 counts as half a thousand and
    more than 500 as a whole one (《使用文字作品支付报酬办法》, 2014, article 7)."""
    whole, rest = divmod(characters, 1000)
    return whole + (0.0 if rest == 0 else 0.5 if rest <= 500 else 1.0)


@dataclass(frozen=True)
class DocumentCount:
    """字数 of one document."""

    doc_id: str
    title: str
    contributor: str
    volume: str
    pages: int
    characters: int
    fee_thousands: float


@dataclass(frozen=True)
class ContributorCount:
    """字数 of one contributor over their documents."""

    contributor: str
    documents: int
    characters: int
    fee_thousands: float


@dataclass(frozen=True)
class WordCounts:
    """The 字数 table: per document, per contributor, and totals."""

    documents: tuple[DocumentCount, ...]
    contributors: tuple[ContributorCount, ...]
    characters: int
    fee_thousands: float

    def to_dict(self) -> dict[str, Any]:
        """For --json."""
        return asdict(self)


def word_counts(documents: Iterable[DocumentRow]) -> WordCounts:
    """字数 (the catalog's count of non-space characters) per document and per contributor;
    contributors in pinyin order, 未署名 last."""
    rows = [DocumentCount(d.doc_id, display_title(d), contributor_of(d) or UNSIGNED,
                          str(d.metadata.get("volume") or ""), d.page_count, d.char_count,
                          fee_thousands(d.char_count)) for d in documents]
    per: dict[str, list[DocumentCount]] = {}
    for row in rows:
        per.setdefault(row.contributor, []).append(row)
    names = sorted(per, key=lambda n: (n == UNSIGNED, pinyin_key(n, surname=True)))
    contributors = tuple(
        ContributorCount(n, len(per[n]), sum(r.characters for r in per[n]),
                         sum(r.fee_thousands for r in per[n])) for n in names)
    return WordCounts(tuple(rows), contributors, sum(r.characters for r in rows),
                      sum(r.fee_thousands for r in rows))


def wordcount_csv(counts: WordCounts) -> str:
    """Two tables, per document and per contributor, each with a 合计 row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["序号", "题名", "撰稿人", "卷次", "页数", "字数", "计酬千字", "编号"])
    for n, d in enumerate(counts.documents, start=1):
        writer.writerow([n, d.title, d.contributor, d.volume, d.pages, d.characters,
                         _number(d.fee_thousands), d.doc_id])
    writer.writerow(["合计", "", "", "", sum(d.pages for d in counts.documents), counts.characters,
                     _number(counts.fee_thousands), ""])
    writer.writerow([])
    writer.writerow(["撰稿人", "篇数", "字数", "计酬千字"])
    for c in counts.contributors:
        writer.writerow([c.contributor, c.documents, c.characters, _number(c.fee_thousands)])
    writer.writerow(["合计", len(counts.documents), counts.characters, _number(counts.fee_thousands)])
    return out.getvalue()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(value: object, width: int) -> str:
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    text = str(value)
    return text + " " * max(0, width - _width(text))


def wordcount_table(counts: WordCounts) -> list[str]:
    """The same two tables for a terminal (`wenshi stats --by contributor`), columns aligned."""
    title_w = max([_width("document")] + [_width(d.title) for d in counts.documents])
    name_w = max([_width("contributor")] + [_width(c.contributor) for c in counts.contributors])
    # '字数' and '千字' are two columns wide each, so they pad to 8 and 6 characters.
    lines = [f"{_pad('document', title_w)}  {_pad('contributor', name_w)} {'pages':>5} "
             f"{'字数':>8} {'千字':>6}"]
    for d in counts.documents:
        lines.append(f"{_pad(d.title, title_w)}  {_pad(d.contributor, name_w)} {d.pages:>5} "
                     f"{d.characters:>10} {d.fee_thousands:>8g}")
    lines += ["", f"{_pad('contributor', name_w)} {'documents':>9} {'字数':>8} {'千字':>6}"]
    for c in counts.contributors:
        lines.append(f"{_pad(c.contributor, name_w)} {c.documents:>9} {c.characters:>10} "
                     f"{c.fee_thousands:>8g}")
    lines.append(f"{_pad('total', name_w)} {len(counts.documents):>9} {counts.characters:>10} "
                 f"{counts.fee_thousands:>8g}")
    return lines


def _number(value: float) -> str:
    return f"{value:g}"


def write_wordcount(job: ExportJob) -> WriterOutcome:
    """Export format `wordcount`: CSV in UTF-8 with a BOM, so Excel reads the Chinese."""
    target = file_target(job.output, f"{job.collection}-字数.csv", job.force)
    write_atomic(target, wordcount_csv(word_counts(job.documents)).encode("utf-8-sig"))
    return WriterOutcome(files=[target])


# -- the catalog -----------------------------------------------------------------------------

def document_record(doc: DocumentRow) -> dict[str, Any]:
    """A document's catalog record for JSON (the shape of `wenshi show --json`, without pages)."""
    return {
        "doc_id": doc.doc_id, "title": display_title(doc), "collection": doc.collection,
        "path": doc.path, "kind": doc.kind, "page_count": doc.page_count,
        "char_count": doc.char_count, "ingested_at": doc.ingested_at,
        "metadata": doc.metadata, "tags": doc.tags,
    }


def catalog_json(job: ExportJob) -> str:
    """The collection's catalog as one JSON object, Chinese unescaped."""
    return json.dumps({
        "collection": job.collection, "query": job.query,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": [document_record(d) for d in job.documents],
    }, ensure_ascii=False, indent=2) + "\n"


def catalog_csv(documents: Sequence[DocumentRow]) -> str:
    """One row per document: catalog fields, metadata, tags (lists joined by '|')."""
    from ..tags import OVERRIDE_PREFIX

    known_meta = {"title", *(k for k, _ in METADATA_COLUMNS)}
    known_tags = {k for k, _ in TAG_COLUMNS} | _TAGS_NOT_COLUMNS
    # `tag.*` fields are an archivist's corrections of tags: the tag columns already show them.
    extra_meta = sorted({k for d in documents for k in d.metadata
                         if not k.startswith(OVERRIDE_PREFIX)} - known_meta)
    extra_tags = sorted({k for d in documents for k in d.tags} - known_tags)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["编号", "题名", "汇集", "源文件", "文件类型", "页数", "字数", "入库时间",
                     *(label for _, label in METADATA_COLUMNS), *extra_meta,
                     *(label for _, label in TAG_COLUMNS), *extra_tags])
    for d in documents:
        writer.writerow([
            d.doc_id, display_title(d), d.collection, source_name(d), d.kind, d.page_count,
            d.char_count, d.ingested_at,
            *(_cell(d.metadata.get(k)) for k, _ in METADATA_COLUMNS),
            *(_cell(d.metadata.get(k)) for k in extra_meta),
            *(_cell(d.tags.get(k)) for k, _ in TAG_COLUMNS),
            *(_cell(d.tags.get(k)) for k in extra_tags),
        ])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        nested = any(isinstance(v, (list, tuple, dict)) for v in value)
        return LIST_SEPARATOR.join(str(v) for v in (tag_names(value) if nested else value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_catalog_csv(job: ExportJob) -> WriterOutcome:
    """Export format `csv` (UTF-8 with a BOM for Excel)."""
    target = file_target(job.output, f"{job.collection}-目录.csv", job.force)
    write_atomic(target, catalog_csv(job.documents).encode("utf-8-sig"))
    return WriterOutcome(files=[target])


def write_catalog_json(job: ExportJob) -> WriterOutcome:
    """Export format `json`."""
    target = file_target(job.output, f"{job.collection}.json", job.force)
    write_atomic(target, catalog_json(job).encode("utf-8"))
    return WriterOutcome(files=[target])
