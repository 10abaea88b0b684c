"""Dublin Core records (OAI-PMH oai_dc), one XML file per document, for repository imports."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from lxml import etree

from ..catalog import DocumentRow, PageRow
from .common import (ExportJob, WriterOutcome, contributor_of, display_title, document_stem,
                     folder_targets, source_name, tag_names, write_atomic)

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_SCHEMA = ("http://www.openarchives.org/OAI/2.0/oai_dc/ "
                 "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tif": "image/tiff",
         ".tiff": "image/tiff", ".bmp": "image/bmp", ".webp": "image/webp",
         ".pdf": "application/pdf",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".txt": "text/plain", ".md": "text/markdown"}
_SCRIPT = {"chi_sim": "zh-Hans", "chi_sim_vert": "zh-Hans",  # OCR model -> BCP 47 script
           "chi_tra": "zh-Hant", "chi_tra_vert": "zh-Hant"}


def dc_record(doc: DocumentRow, pages: Sequence[PageRow]) -> etree._Element:
    """One oai_dc:dc element describing a document."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", OAI_DC_SCHEMA)
    meta, tags = doc.metadata, doc.tags

    def add(name: str, value: object, chinese: bool = True) -> None:
        text = str(value or "").strip()
        if text:
            element = etree.SubElement(root, f"{{{DC_NS}}}{name}")
            element.text = text
            if chinese:
                element.set(XML_LANG, "zh")

    add("title", display_title(doc))
    add("creator", contributor_of(doc))
    # Automatic keywords stay out: single common words (公司, 开机) are noise in a repository.
    for subject in [*tag_names(tags.get("subjects")), *tag_names(tags.get("persons")),
                    *tag_names(tags.get("organizations"))]:
        add("subject", subject)
    add("description", meta.get("notes"))
    add("description", f"{doc.page_count}页，{doc.char_count}字")
    add("date", meta.get("date"), chinese=False)
    add("type", "Text", chinese=False)  # DCMI Type Vocabulary
    add("type", meta.get("doctype") or tags.get("doctype"))
    add("format", _MIME.get(Path(doc.path).suffix.lower(), ""), chinese=False)
    add("identifier", f"wenshi:{doc.doc_id}", chinese=False)
    add("source", source_name(doc))
    for language in sorted({_SCRIPT.get(p.lang, "zh") for p in pages if p.lang} or {"zh"}):
        add("language", language, chinese=False)
    add("relation", f"汇集：{doc.collection}")
    add("relation", f"卷次：{meta['volume']}" if meta.get("volume") else "")
    add("coverage", meta.get("region"))
    for place in tag_names(tags.get("places")):
        add("coverage", place)
    add("coverage", tags.get("period"))
    years = sorted({int(y) for y in tags.get("years") or () if str(y).isdigit()})
    if years:
        span = str(years[0]) if len(years) == 1 else f"{years[0]}/{years[-1]}"  # ISO 8601 interval
        add("coverage", span, chinese=False)
    return root


def write_dublin_core(job: ExportJob) -> WriterOutcome:
    """Export format `dc`: a folder with one oai_dc XML record per document."""
    names = [f"{document_stem(d)}.xml" for d in job.documents]
    targets = folder_targets(job.output, names, job.force)
    for doc, target in zip(job.documents, targets):
        record = dc_record(doc, job.library.catalog.pages(doc.doc_id))
        write_atomic(target, etree.tostring(record, xml_declaration=True, encoding="UTF-8",
                                            pretty_print=True))
    return WriterOutcome(files=targets)
