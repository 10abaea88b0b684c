"""The proofreading .docx (校对稿): the pages of a collection that need proofreading, one Word
section per page under a heading naming the page id and its version, the scan (the kept page
image) and then the text, for editors who prefer Word. `wenshi proofread import` reads it back
(index/proofreading.py; it skips the pictures)."""

from __future__ import annotations

import io
import re
from typing import Any

from ..quality import needs_proofreading
from .common import ExportJob, WriterOutcome, display_title, file_target
from .word import HEI, LATIN_BODY, LATIN_HEADING, SONG, _style_fonts

NOTHING_TO_PROOFREAD = "no page needs proofreading (需校对)"
SCAN_WIDTH_MM = 150  # the page image across the text block of an A4 page
SCAN_MAX_PIXELS = 1400  # the kept image no wider than this that is closest to it (file size)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
INSTRUCTIONS = (
    "每页一节：标题中的页码标识（如 0123456789abcdef#3 v0）请勿改动；"
    "只改标题下的正文，每段一行。改完后用 wenshi proofread import 导回。")


def write_proofread(job: ExportJob) -> WriterOutcome:
    """Export format `proofread`: the pages needing proofreading as one .docx."""
    import docx
    from docx.enum.section import WD_SECTION
    from docx.shared import Mm, Pt

    outcome = WriterOutcome()
    pages = [(doc, page) for doc in job.documents
             for page in job.library.catalog.pages(doc.doc_id)
             if needs_proofreading(page, job.cfg.proofread_threshold)]
    if not pages:
        from .common import DocumentIssue

        outcome.skipped.extend(DocumentIssue(d.doc_id, display_title(d), NOTHING_TO_PROOFREAD)
                               for d in job.documents)
        return outcome
    target = file_target(job.output, f"{job.collection}-校对.docx", job.force)
    document: Any = docx.Document()
    first = document.sections[0]
    first.page_width, first.page_height = Mm(210), Mm(297)
    _style_fonts(document.styles["Normal"], LATIN_BODY, SONG)
    document.styles["Normal"].font.size = Pt(12)
    for name in ("Title", "Heading 1"):
        _style_fonts(document.styles[name], LATIN_HEADING, HEI)
    document.core_properties.title = f"{job.collection} 校对稿"
    document.add_paragraph(f"{job.collection} 校对稿", style="Title")
    document.add_paragraph(INSTRUCTIONS)
    from ..pageimages import image_file, page_scans

    scans = {doc.doc_id: page_scans(job.library.root, job.library.catalog, doc.doc_id)
             for doc in {d.doc_id: d for d, _ in pages}.values()}
    for doc, page in pages:
        section = document.add_section(WD_SECTION.NEW_PAGE)
        section.page_width, section.page_height = Mm(210), Mm(297)
        confidence = f"，识别置信度 {page.confidence:.0f}" if page.confidence is not None else ""
        document.add_heading(f"{doc.doc_id}#{page.number} v{page.version} · "
                             f"{display_title(doc)} · 第{page.number}页{confidence}", level=1)
        scan = scans[doc.doc_id].get(page.number)
        if scan is not None and scan.images:
            fitting = [i for i in scan.images if i.width <= SCAN_MAX_PIXELS] or [scan.images[-1]]
            document.add_picture(str(image_file(job.library.root, doc.doc_id, page.number,
                                                fitting[0])), width=Mm(SCAN_WIDTH_MM))
        for line in page.text.split("\n"):
            document.add_paragraph(_XML_ILLEGAL.sub("\ufffd", line))
    buffer = io.BytesIO()
    document.save(buffer)
    from .common import write_atomic

    outcome.files.append(write_atomic(target, buffer.getvalue()))
    return outcome
