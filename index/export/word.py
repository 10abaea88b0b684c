"""The manuscript as a Word document (python-docx): title page, a real TOC field over heading
styles, one chapter per document with its 出处 line, and the name indexes.

Fonts are set through the East-Asian font slot (w:rFonts/@w:eastAsia) with the theme-font
attributes removed, because Word lets a theme font override an explicit one."""

from __future__ import annotations

import io
from typing import Any, Sequence

from .common import ExportJob, WriterOutcome, file_target, write_atomic
from .manuscript import (NONE_LABEL, TOC_LABEL, Block, Chapter, Manuscript, build_manuscript,
                         grouped)

SONG, HEI, KAI = "宋体", "黑体", "楷体"  # body, headings, source lines
LATIN_BODY, LATIN_HEADING = "Times New Roman", "Arial"
BODY_STYLE, SOURCE_STYLE, INDEX_STYLE, TOC_STYLE = "Body Text", "出处", "索引项", "toc 1"
BODY_PT = 12  # 小四
_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_TOC_INSTRUCTION = ' TOC \\o "1-1" \\h \\z \\u '
MARKER_GREY, MARKER_RED = (0x80, 0x80, 0x80), (0xC0, 0x00, 0x00)


def write_docx(job: ExportJob) -> WriterOutcome:
    """Export format `docx`."""
    target = file_target(job.output, f"{job.collection}.docx", job.force)
    buffer = io.BytesIO()
    render_docx(build_manuscript(job)).save(buffer)
    write_atomic(target, buffer.getvalue())
    return WriterOutcome(files=[target])


def render_docx(ms: Manuscript) -> Any:
    """A python-docx Document of the manuscript."""
    import docx
    from docx.shared import Mm

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4, not the template's Letter
    section.left_margin = section.right_margin = Mm(28)
    section.top_margin = section.bottom_margin = Mm(25)
    _set_up_styles(document)
    props = document.core_properties
    props.title, props.subject, props.author = ms.title, "书稿", "Wenshi"
    props.language, props.keywords = "zh-CN", ms.title

    document.add_paragraph(ms.title, style="Title")
    for line in ms.title_lines():
        document.add_paragraph(line, style="Subtitle")
    _add_toc(document, [c.title for c in ms.chapters] + [heading for heading, _ in ms.indexes()])
    for chapter in ms.chapters:
        _add_chapter(document, chapter)
    for heading, entries in ms.indexes():
        document.add_heading(heading, level=1)
        if not entries:
            document.add_paragraph(NONE_LABEL, style=INDEX_STYLE)
        for letter, group in grouped(entries):
            document.add_paragraph(style=INDEX_STYLE).add_run(letter).bold = True
            for entry in group:
                document.add_paragraph(entry.label(), style=INDEX_STYLE)
    return document


def _add_chapter(document: Any, chapter: Chapter) -> None:
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt, RGBColor

    document.add_heading(chapter.title, level=1)
    for section in chapter.pages:
        marker = section.marker(len(chapter.pages))
        blocks: Sequence[Block] = section.blocks or (Block("paragraph"),)
        for i, block in enumerate(blocks):
            paragraph = None
            if marker and i == 0:
                paragraph = document.add_paragraph(style=BODY_STYLE)
                run = paragraph.add_run(marker)
                run.font.size = Pt(9)
                flagged = section.proofread or section.failed
                run.font.color.rgb = RGBColor(*(MARKER_RED if flagged else MARKER_GREY))
                if flagged:
                    run.bold = True
                    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            if block.kind == "table":
                _add_table(document, block.rows)
            elif block.text:
                paragraph = paragraph or document.add_paragraph(style=BODY_STYLE)
                paragraph.add_run(block.text)
    document.add_paragraph(chapter.source_line, style=SOURCE_STYLE)


def _add_table(document: Any, rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = document.styles["Table Grid"]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.text = text
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True


def _add_toc(document: Any, entries: Sequence[str]) -> None:
    """目录 as a TOC field whose cached result already lists the chapters; Word is asked to
    update fields on open, which adds page numbers and links."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document.add_paragraph(TOC_LABEL, style="TOC Heading")

    def field_char(paragraph: Any, kind: str) -> None:
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(char)

    for i, entry in enumerate(entries):
        paragraph = document.add_paragraph(style=TOC_STYLE)
        if i == 0:
            field_char(paragraph, "begin")
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = _TOC_INSTRUCTION
            paragraph.add_run()._r.append(instruction)
            field_char(paragraph, "separate")
        paragraph.add_run(entry)
        if i == len(entries) - 1:
            field_char(paragraph, "end")
    _update_fields_on_open(document)


def _update_fields_on_open(document: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    # CT_Settings is a sequence: updateFields comes before these (ECMA-376 Part 1, 17.15.1.78).
    later = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
             "attachedSchema", "themeFontLang", "clrSchemeMapping")
    for child in settings:
        if child.tag in {qn(f"w:{name}") for name in later}:
            child.addprevious(update)
            return
    settings.append(update)


# -- styles ----------------------------------------------------------------------------------

def _set_up_styles(document: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _fonts_in(rpr, LATIN_BODY, SONG)
            lang = rpr.find(qn("w:lang"))
            if lang is not None:
                lang.set(qn("w:eastAsia"), "zh-CN")
    normal = styles["Normal"]
    _style_fonts(normal, LATIN_BODY, SONG)
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)

    body = styles[BODY_STYLE]
    body.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    body.paragraph_format.space_after = Pt(0)
    ind = body.element.pPr.find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), "200")  # two characters, whatever size the editor picks

    for name, size in (("Title", 26), ("Subtitle", 12), ("Heading 1", 16), ("Heading 2", 14),
                       ("TOC Heading", 16)):
        style = styles[name]
        _style_fonts(style, LATIN_HEADING, HEI)
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.italic = False
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Title"].paragraph_format.space_before = Pt(120)
    styles["Subtitle"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Heading 1"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Heading 1"].paragraph_format.space_after = Pt(12)
    styles["Heading 1"].paragraph_format.page_break_before = True  # each chapter on a new page

    source = styles.add_style(SOURCE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    source.base_style = normal
    _style_fonts(source, LATIN_BODY, KAI)
    source.font.size = Pt(10.5)  # 五号
    source.paragraph_format.space_before = Pt(12)

    index = styles.add_style(INDEX_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    index.base_style = normal
    index.paragraph_format.left_indent = Pt(2 * BODY_PT)
    index.paragraph_format.first_line_indent = Pt(-2 * BODY_PT)

    toc = styles.add_style(TOC_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    toc.base_style = normal
    # Word's own TOC style is "toc 1" with id TOC1; a matching id lets a field update reuse it.
    toc.element.set(qn("w:styleId"), "TOC1")
    toc.element.attrib.pop(qn("w:customStyle"), None)


def _style_fonts(style: Any, latin: str, east_asian: str) -> None:
    style.font.name = latin
    _fonts_in(style.element.get_or_add_rPr(), latin, east_asian)


def _fonts_in(rpr: Any, latin: str, east_asian: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in _THEME_ATTRS:
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)
