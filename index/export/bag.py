"""BagIt packages (RFC 8493, the Library of Congress `bagit` library): a collection that can
leave the system whole and come back with `wenshi ingest BAG`.

    BAG/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    BAG/data/目录.csv                               the catalog sheet (`catalog export`)
    BAG/data/documents/<doc_id>/catalog.json        the catalog row, pages, correction history
    BAG/data/documents/<doc_id>/dc.xml              Dublin Core (oai_dc)
    BAG/data/documents/<doc_id>/original/<file>     the ingested file, when still reachable
    BAG/data/documents/<doc_id>/pages/0001.txt      each page's current text
    BAG/data/documents/<doc_id>/pages/0001.alto.xml ... and every file the library keeps for the
                                                    page (ALTO, the OCR's ALTO of a corrected
                                                    page, page images)

A source file that is no longer reachable (moved, changed) is listed in bag-info.txt as
`Wenshi-Missing-Original: <doc_id> <path>`; the rest of the document is bagged.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lxml import etree

from pipeline.errors import InputFileError, UsageError

from ..catalog import DocumentRow
from .catalog_sheet import sheet_table
from .common import ExportJob, WriterOutcome, open_source, safe_name
from .dublincore import dc_record

BAG_FORMAT = "wenshi-bag-document 1"
CHECKSUMS = ("sha256", "sha512")
DOCUMENTS_DIR = "documents"
CATALOG_FILE = "catalog.json"


def write_bag(job: ExportJob) -> WriterOutcome:
    """Export format `bagit`: OUTPUT is made a bag of the selected documents."""
    import csv
    import io

    import bagit

    output = job.output
    if output.exists() and (not output.is_dir() or any(output.iterdir())) and not job.force:
        raise UsageError(f"{output} exists and is not empty; choose a new folder or pass --force")
    output.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".wenshi-bag-", dir=output.parent))
    try:
        missing: list[str] = []
        for doc in job.documents:
            if not _bag_document(job, doc, build / DOCUMENTS_DIR / doc.doc_id):
                missing.append(f"{doc.doc_id} {doc.path}")
        sheet = io.StringIO()
        csv.writer(sheet, lineterminator="\r\n").writerows(sheet_table(job.documents))
        (build / "目录.csv").write_bytes(sheet.getvalue().encode("utf-8-sig"))
        info: dict[str, Any] = {
            "Source-Organization": "Wenshi library",
            "External-Description": f"Wenshi collection {job.collection}: "
                                    f"{len(job.documents)} documents",
            "External-Identifier": f"wenshi-collection:{job.collection}",
            "Wenshi-Collection": job.collection,
            "Wenshi-Documents": str(len(job.documents)),
        }
        if job.query:
            info["Wenshi-Query"] = job.query
        if missing:
            info["Wenshi-Missing-Original"] = missing
        bagit.make_bag(str(build), info, checksums=list(CHECKSUMS))
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        build.rename(output)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    files = sorted(p for p in output.rglob("*") if p.is_file())
    return WriterOutcome(files=files)


def _bag_document(job: ExportJob, doc: DocumentRow, folder: Path) -> bool:
    """One document's folder; False when its original could not be included."""
    catalog = job.library.catalog
    pages, versions = catalog.document_pages_for_bag(doc.doc_id)
    (folder / "pages").mkdir(parents=True)
    original: str | None = None
    try:
        source = open_source(doc)
        (folder / "original").mkdir()
        name = safe_name(source.name, "original")
        shutil.copy2(source, folder / "original" / name)
        original = f"original/{name}"
    except InputFileError:
        original = None
    stored = job.library.root / "pages" / doc.doc_id
    images = catalog.page_images(doc.doc_id)
    for page in pages:
        number = int(page["number"])
        page["images"] = [[i.width, i.height, i.bytes] for i in images.get(number, ())]
        (folder / "pages" / f"{number:04d}.txt").write_text(page["text"], encoding="utf-8")
        page["files"] = []
        for path in sorted(stored.rglob(f"{number:04d}.*")) if stored.is_dir() else ():
            if path.is_file() and not path.name.endswith(".tmp"):
                relative = path.relative_to(stored).as_posix()  # subfolders (images/) kept
                (folder / "pages" / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, folder / "pages" / relative)
                page["files"].append(f"pages/{relative}")
    record = {
        "format": BAG_FORMAT, "doc_id": doc.doc_id, "collection": doc.collection,
        "path": doc.path, "kind": doc.kind, "title": doc.title, "size": doc.size,
        "page_count": doc.page_count, "char_count": doc.char_count,
        "ingested_at": doc.ingested_at, "metadata": doc.metadata, "tags": doc.tags,
        "original": original, "pages": pages, "versions": versions,
    }
    (folder / CATALOG_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    dc = dc_record(doc, catalog.pages(doc.doc_id))
    (folder / "dc.xml").write_bytes(etree.tostring(dc, xml_declaration=True, encoding="UTF-8",
                                                   pretty_print=True))
    return original is not None
