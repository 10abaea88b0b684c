"""The manuscript (书稿) of a collection: chapters with source lines, name indexes; as Markdown
and plain text. `word.py` lays the same model out as a Word document."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Literal, Sequence

from lxml import etree

from pipeline.page.alto import parse_alto
from pipeline.page.layout import marginal_texts
from pipeline.records import KIND_DOCX, METHOD_OCR

from ..analysis import compact_search_form
from ..catalog import DocumentRow, PageRow
from ..quality import needs_proofreading
from .common import (UNSIGNED, ExportJob, WriterOutcome, contributor_of, display_title,
                     file_target, index_letter, page_list, pinyin_key,
                     source_name, tag_names, write_atomic)

NONE_LABEL = "无"
PROOFREAD_LABEL = "需校对"
FAILED_LABEL = "识别失败"
PERSON_INDEX, PLACE_INDEX = "人名索引", "地名索引"
TOC_LABEL = "目录"
BlockKind = Literal["paragraph", "table"]
_SENTENCE_END = tuple("。！？；：」』”）》…!?")
_CONTINUES = tuple("，、,")
_ALNUM = re.compile(r"[A-Za-z0-9]")
SHORT_LINE = 0.6  # a line shorter than this share of the block's longest one ends a paragraph


@dataclass(frozen=True)
class Block:
    """A paragraph of running text, or a table (rows of cells) from a Word draft."""

    kind: BlockKind
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class PageSection:
    """The blocks of one source page, so every passage names the page it came from."""

    number: int
    blocks: tuple[Block, ...]
    proofread: bool  # 需校对
    failed: bool

    def marker(self, chapter_pages: int) -> str:
        """〔第2页〕 before the page's text; '' for the single unflagged page of a chapter."""
        if chapter_pages <= 1 and not self.proofread and not self.failed:
            return ""
        flag = (f"·{PROOFREAD_LABEL}" if self.proofread
                else f"·{FAILED_LABEL}" if self.failed else "")
        return f"〔第{self.number}页{flag}〕"


@dataclass(frozen=True)
class Chapter:
    """One document of the collection."""

    doc_id: str
    title: str
    source: str
    volume: str
    contributor: str
    pages: tuple[PageSection, ...]
    characters: int

    @property
    def source_line(self) -> str:
        """出处: source file, volume, pages, contributor (and pages to proofread)."""
        parts = [f"出处：{self.source}"]
        if self.volume:
            parts.append(f"卷次：{self.volume}")
        parts.append(f"页码：{page_list([p.number for p in self.pages]) or NONE_LABEL}")
        parts.append(f"撰稿：{self.contributor or UNSIGNED}")
        flagged = [p.number for p in self.pages if p.proofread]
        if flagged:
            parts.append(f"{PROOFREAD_LABEL}：{page_list(flagged)}")
        failed = [p.number for p in self.pages if p.failed]
        if failed:
            parts.append(f"{FAILED_LABEL}：{page_list(failed)}")
        parts.append(f"编号：{self.doc_id}")
        return "；".join(parts)


@dataclass(frozen=True)
class IndexRef:
    """Where an index entry occurs: a chapter and the source pages in it."""

    chapter: int  # position in Manuscript.chapters
    title: str
    pages: tuple[int, ...]

    def label(self) -> str:
        """《题名》第1、3页."""
        return f"《{self.title}》{page_list(self.pages)}"


@dataclass(frozen=True)
class IndexEntry:
    """A name in a back-of-book index."""

    name: str
    letter: str
    refs: tuple[IndexRef, ...]

    def label(self) -> str:
        """王德明　《县电厂创办回忆》第1页；《大事记》第2页."""
        return f"{self.name}　{'；'.join(r.label() for r in self.refs)}"


@dataclass(frozen=True)
class Manuscript:
    """A collection laid out as a book manuscript."""

    title: str
    query: str | None
    date: str
    chapters: tuple[Chapter, ...]
    persons: tuple[IndexEntry, ...]
    places: tuple[IndexEntry, ...]

    @property
    def characters(self) -> int:
        """字数 of all chapters."""
        return sum(c.characters for c in self.chapters)

    def title_lines(self) -> list[str]:
        """The lines under the title on the title page."""
        lines = [f"书稿 · 共收文稿 {len(self.chapters)} 篇，计 {self.characters:,} 字"]
        if self.query:
            lines.append(f"检索条件：{self.query}")
        lines.append(f"导出日期：{self.date}")
        lines.append("由文史资料库（Wenshi）自动生成；各篇篇末注明出处，〔第N页〕标出原稿页码。")
        return lines

    def indexes(self) -> tuple[tuple[str, tuple[IndexEntry, ...]], ...]:
        """(heading, entries) of each back-of-book index."""
        return ((PERSON_INDEX, self.persons), (PLACE_INDEX, self.places))


# -- building --------------------------------------------------------------------------------

def build_manuscript(job: ExportJob) -> Manuscript:
    """The manuscript of the job's documents, in the job's order."""
    chapters: list[Chapter] = []
    texts: list[list[tuple[int, str]]] = []
    for doc in job.documents:
        pages = job.library.catalog.pages(doc.doc_id)
        chapters.append(build_chapter(doc, pages, job))
        texts.append([(p.number, compact_search_form(p.text)) for p in pages])
    docs = job.documents
    return Manuscript(
        title=job.collection, query=job.query, date=time.strftime("%Y-%m-%d"),
        chapters=tuple(chapters),
        persons=name_index(docs, chapters, texts, "persons", surname=True),
        places=name_index(docs, chapters, texts, "places", surname=False),
    )


def build_chapter(doc: DocumentRow, pages: Sequence[PageRow], job: ExportJob) -> Chapter:
    """A document as a chapter: its pages' cleaned text as paragraphs and tables."""
    title = display_title(doc)
    join = doc.kind != KIND_DOCX
    threshold = job.cfg.proofread_threshold
    sections = [PageSection(p.number, text_blocks(_body_text(p, job), join),
                            needs_proofreading(p, threshold), bool(p.error)) for p in pages]
    # The first line of a draft is often its own title: the chapter heading already says it.
    if sections and sections[0].blocks and _is_title(sections[0].blocks[0], title):
        first = sections[0]
        sections[0] = PageSection(first.number, first.blocks[1:], first.proofread, first.failed)
    volume = str(doc.metadata.get("volume") or "").strip()
    return Chapter(doc.doc_id, title, source_name(doc), volume, contributor_of(doc),
                   tuple(sections), doc.char_count)


def _body_text(page: PageRow, job: ExportJob) -> str:
    """An OCR page's text without the running head, foot and page number its ALTO tags."""
    if page.method != METHOD_OCR:
        return page.text
    path = job.library.alto_path(page.doc_id, page.number)
    try:
        alto = parse_alto(path.read_text(encoding="utf-8"))
    except (OSError, etree.XMLSyntaxError):
        return page.text
    return without_marginal(page.text, marginal_texts(alto))


def without_marginal(text: str, marginal: Sequence[str]) -> str:
    """`text` without its first and last paragraphs where they hold nothing but the marginal
    lines (the page text sets heads and feet apart by a blank line; the clean-up may have
    joined a head's lines into one)."""
    wanted = sorted({compact_search_form(m) for m in marginal} - {""}, key=len, reverse=True)
    if not wanted:
        return text
    paragraphs = re.split(r"\n[ \t]*\n", text)

    def only_marginal(paragraph: str) -> bool:
        rest = compact_search_form(paragraph)
        for m in wanted:
            rest = rest.replace(m, "")
        return not rest

    while paragraphs and only_marginal(paragraphs[0]):
        paragraphs.pop(0)
    while paragraphs and only_marginal(paragraphs[-1]):
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def _is_title(block: Block, title: str) -> bool:
    return (block.kind == "paragraph"
            and compact_search_form(block.text) == compact_search_form(title))


def text_blocks(text: str, join: bool = True) -> tuple[Block, ...]:
    """Paragraphs and tab-separated table rows of a page. With `join`, line breaks inside a
    sentence are joined (scans, PDFs, plain text); a Word draft's lines are its paragraphs."""
    blocks: list[Block] = []
    prose: list[str] = []
    rows: list[tuple[str, ...]] = []

    def flush_prose() -> None:
        for paragraph in (join_paragraph_lines(prose) if join else prose):
            if paragraph.strip():
                blocks.append(Block("paragraph", paragraph.strip()))
        prose.clear()

    def flush_rows() -> None:
        if len(rows) == 1:
            blocks.append(Block("paragraph", "　".join(c for c in rows[0] if c)))
        elif rows:
            width = max(len(r) for r in rows)
            blocks.append(Block("table", rows=tuple(r + ("",) * (width - len(r)) for r in rows)))
        rows.clear()

    for line in text.split("\n"):
        if "\t" in line:
            flush_prose()
            rows.append(tuple(cell.strip() for cell in line.split("\t")))
        else:
            flush_rows()
            prose.append(line)
    flush_prose()
    flush_rows()
    return tuple(blocks)


def join_paragraph_lines(lines: Sequence[str]) -> list[str]:
    """Hard-wrapped lines joined into paragraphs. A break stays after a blank line, after the
    end of a sentence, and after a short line that does not end in a comma: a heading or a
    byline, not a line the typist or the OCR wrapped."""
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            block.append(line.strip())
            continue
        longest = max((len(b) for b in block), default=0)
        current = ""
        last = ""
        for piece in block:
            if current and (last.endswith(_SENTENCE_END) or (
                    len(last) < SHORT_LINE * longest and not last.endswith(_CONTINUES))):
                paragraphs.append(current)
                current = ""
            if current and _ALNUM.match(current[-1]) and _ALNUM.match(piece):
                current += " " + piece
            else:
                current += piece
            last = piece
        if current:
            paragraphs.append(current)
        block = []
    return paragraphs


def name_index(docs: Sequence[DocumentRow], chapters: Sequence[Chapter],
               texts: Sequence[Sequence[tuple[int, str]]], key: str,
               surname: bool) -> tuple[IndexEntry, ...]:
    """An index of the names tagged `key` in any document, with every chapter and page where
    each occurs (found in the page text), in pinyin order.

    An occurrence inside a longer name of the same index does not count (岚江 inside 岚江县);
    a chapter tagged with a name its text does not contain at all (a title, a variant) is
    listed without pages."""
    tagged: dict[str, set[int]] = {}
    for i, doc in enumerate(docs):
        for name in tag_names(doc.tags.get(key)):
            tagged.setdefault(name, set()).add(i)
    needles = {name: compact_search_form(name) for name in tagged}
    entries = []
    for name, tagged_in in tagged.items():
        needle = needles[name]
        longer = [n for n in needles.values() if needle and needle in n and n != needle]
        refs = []
        for i, chapter in enumerate(chapters):
            pages = tuple(n for n, compact in texts[i] if _occurs_alone(needle, longer, compact))
            anywhere = any(needle and needle in compact for _, compact in texts[i])
            if pages or (i in tagged_in and not anywhere):
                refs.append(IndexRef(i, chapter.title, pages))
        if refs:
            sort_key = pinyin_key(name, surname)
            entries.append((sort_key, IndexEntry(name, index_letter(sort_key), tuple(refs))))
    entries.sort(key=lambda e: e[0])
    return tuple(e for _, e in entries)


def _occurs_alone(needle: str, longer: Sequence[str], text: str) -> bool:
    """True when `needle` occurs in `text` at least once outside every `longer` name."""
    if not needle or needle not in text:
        return False
    covered = [False] * len(text)
    for name in longer:
        start = text.find(name)
        while start != -1:
            covered[start:start + len(name)] = [True] * len(name)
            start = text.find(name, start + 1)
    start = text.find(needle)
    while start != -1:
        if not all(covered[start:start + len(needle)]):
            return True
        start = text.find(needle, start + 1)
    return False


def grouped(entries: Sequence[IndexEntry]) -> list[tuple[str, list[IndexEntry]]]:
    """Index entries under their A-Z letter, in order."""
    groups: list[tuple[str, list[IndexEntry]]] = []
    for entry in entries:
        if not groups or groups[-1][0] != entry.letter:
            groups.append((entry.letter, []))
        groups[-1][1].append(entry)
    return groups


# -- Markdown and plain text -----------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
# An underscore inside a word (扩建工程_1958) is never emphasis in CommonMark: left as it is.
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>+\-=])")
_MD_ORDERED_LIST = re.compile(r"^(\s*\d{1,9})([.)])")


def _md(text: str) -> str:
    text = _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", text))
    text = _MD_BLOCK_START.sub(r"\1\\\2", text)
    return _MD_ORDERED_LIST.sub(r"\1\\\2", text)


def render_markdown(ms: Manuscript) -> str:
    """The manuscript as Markdown: `#` title, `##` chapters and indexes, `>` source lines."""
    out = [f"# {_md(ms.title)}", ""]
    out += [line for text in ms.title_lines() for line in (_md(text), "")]
    out += [f"## {TOC_LABEL}", ""]
    out += [f"{n}. {_md(c.title)}" for n, c in enumerate(ms.chapters, start=1)]
    first_index = len(ms.chapters) + 1
    out += [f"{n}. {heading}" for n, (heading, _) in enumerate(ms.indexes(), start=first_index)]
    out.append("")
    for chapter in ms.chapters:
        out += [f"## {_md(chapter.title)}", ""]
        for section in chapter.pages:
            marker = section.marker(len(chapter.pages))
            for i, block in enumerate(section.blocks or (Block("paragraph"),)):
                prefix = f"**{marker}** " if marker and i == 0 else ""
                if block.kind == "table":
                    if prefix:
                        out += [prefix.strip(), ""]
                    out += _md_table(block.rows)
                elif prefix or block.text:
                    out.append(prefix + _md(block.text))
                out.append("")
        out += [f"> {_md(chapter.source_line)}", ""]
    for heading, entries in ms.indexes():
        out += [f"## {heading}", ""]
        if not entries:
            out += [NONE_LABEL, ""]
        for letter, group in grouped(entries):
            out += [f"### {letter}", ""]
            out += [f"- {_md(e.label())}" for e in group]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(c) for c in rows[0]) + " |",
             "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[1:]]
    return lines


def render_text(ms: Manuscript) -> str:
    """The manuscript as plain text: paragraphs indented two full-width spaces, as typeset."""
    indent = "　　"
    out = [ms.title, *ms.title_lines(), "", "", TOC_LABEL, ""]
    out += [f"{indent}{c.title}" for c in ms.chapters]
    out += [f"{indent}{heading}" for heading, _ in ms.indexes()]
    for chapter in ms.chapters:
        out += ["", "", chapter.title, ""]
        for section in chapter.pages:
            marker = section.marker(len(chapter.pages))
            if marker:
                out.append(marker)
            for block in section.blocks:
                if block.kind == "table":
                    out += ["\t".join(row) for row in block.rows]
                else:
                    out.append(indent + block.text)
        out += ["", chapter.source_line]
    for heading, entries in ms.indexes():
        out += ["", "", heading, ""]
        if not entries:
            out.append(NONE_LABEL)
        for letter, group in grouped(entries):
            out.append(letter)
            out += [f"{indent}{e.label()}" for e in group]
    return "\n".join(out) + "\n"


def write_markdown(job: ExportJob) -> WriterOutcome:
    """Export format `md`."""
    target = file_target(job.output, f"{job.collection}.md", job.force)
    write_atomic(target, render_markdown(build_manuscript(job)).encode("utf-8"))
    return WriterOutcome(files=[target])


def write_text(job: ExportJob) -> WriterOutcome:
    """Export format `txt`."""
    target = file_target(job.output, f"{job.collection}.txt", job.force)
    write_atomic(target, render_text(build_manuscript(job)).encode("utf-8"))
    return WriterOutcome(files=[target])
