"""ALTO XML per OCR page, one folder per document, from the word boxes stored at ingest.

The stored files are Tesseract's own ALTO v3; the export names the real source image (Tesseract
only saw a temporary PNG) and the page's number, and checks each file is well-formed."""

from __future__ import annotations

from lxml import etree

from pipeline.page.alto import ALTO_NS
from pipeline.records import METHOD_OCR

from ..catalog import DocumentRow
from .common import (
    DocumentIssue,
    ExportJob,
    WriterOutcome,
    display_title,
    document_stem,
    folder_targets,
    source_name,
    write_atomic,
)

_NS = ALTO_NS
NO_OCR_PAGES = "no OCR pages (text from a file, not a scan): no ALTO"


def page_alto(stored: bytes, doc: DocumentRow, number: int) -> bytes:
    """A stored ALTO page with its source image and page number filled in."""
    root = etree.fromstring(stored, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    description = root.find(f"{{{_NS}}}Description")
    if description is None:
        description = etree.Element(f"{{{_NS}}}Description")
        root.insert(0, description)
    info = description.find(f"{{{_NS}}}sourceImageInformation")
    if info is None:
        info = etree.Element(f"{{{_NS}}}sourceImageInformation")
        unit = description.find(f"{{{_NS}}}MeasurementUnit")
        description.insert(0 if unit is None else description.index(unit) + 1, info)
    for child in list(info):
        info.remove(child)
    etree.SubElement(info, f"{{{_NS}}}fileName").text = source_name(doc)
    etree.SubElement(info, f"{{{_NS}}}fileIdentifier").text = f"wenshi:{doc.doc_id}#page={number}"
    for page in root.iter(f"{{{_NS}}}Page"):
        page.set("PHYSICAL_IMG_NR", str(number))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def write_alto(job: ExportJob) -> WriterOutcome:
    """Export format `alto`: OUTPUT/<document>/<page>.alto.xml for every OCR page."""
    outcome = WriterOutcome()
    planned: list[tuple[DocumentRow, int, str]] = []
    for doc in job.documents:
        numbers = [p.number for p in job.library.catalog.pages(doc.doc_id) if p.method == METHOD_OCR
                   and job.library.alto_path(doc.doc_id, p.number).is_file()]
        if not numbers:
            outcome.skipped.append(DocumentIssue(doc.doc_id, display_title(doc), NO_OCR_PAGES))
        stem = document_stem(doc)
        planned += [(doc, n, f"{stem}/{n:04d}.alto.xml") for n in numbers]
    if not planned:
        return outcome
    targets = folder_targets(job.output, [rel for _, _, rel in planned], job.force)
    for (doc, number, _), target in zip(planned, targets):
        stored = job.library.alto_path(doc.doc_id, number).read_bytes()
        try:
            data = page_alto(stored, doc, number)
        except etree.XMLSyntaxError as exc:
            outcome.failed.append(DocumentIssue(doc.doc_id, display_title(doc),
                                                f"page {number}: stored ALTO is damaged ({exc})"))
            continue
        outcome.files.append(write_atomic(target, data))
    return outcome
