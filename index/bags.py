"""Restoring documents from a Wenshi BagIt package (`wenshi ingest BAG`): no OCR, the bag's
catalog rows, page texts, ALTO and page files, correction history and tags as they were."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pipeline.records import FileOutcome, Page, Tags

from .catalog import tags_pending
from .export.bag import BAG_FORMAT, CATALOG_FILE, DOCUMENTS_DIR
from .library import PAGES_DIR, LibraryFolder


def is_bag(path: Path) -> bool:
    """True for a folder holding a BagIt bag (its bagit.txt declaration)."""
    return path.is_dir() and (path / "bagit.txt").is_file()


def restore_bag(folder: LibraryFolder, bag_path: Path) -> list[FileOutcome]:
    """Validate a bag (every checksum) and store its documents; those already in the library
    are skipped. A bag that fails validation is one failed outcome and nothing is stored."""
    import bagit

    try:
        bagit.Bag(str(bag_path)).validate()
    except (bagit.BagError, OSError) as exc:
        return [FileOutcome(str(bag_path), "failed", error=f"not a valid bag: {exc}")]
    outcomes: list[FileOutcome] = []
    restored: list[str] = []
    records = sorted((bag_path / "data" / DOCUMENTS_DIR).glob(f"*/{CATALOG_FILE}"))
    for path in records:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        where = str(path.parent)
        if record.get("format") != BAG_FORMAT:
            reason = f"not a Wenshi bag document ({record.get('format')})"
            outcomes.append(FileOutcome(where, "failed", error=reason))
            continue
        doc_id = str(record["doc_id"])
        existing = folder.catalog.document(doc_id)
        if existing is not None and existing.doc_id == doc_id:
            if existing.status == "complete":
                outcomes.append(FileOutcome(where, "skipped", doc_id))
                continue
            folder.discard_document(doc_id)  # an interrupted restore: start it again
        _restore_document(folder, path.parent, record)
        restored.append(doc_id)
        outcomes.append(FileOutcome(where, "ingested", doc_id, pages=len(record["pages"]),
                                    characters=int(record.get("char_count") or 0)))
    if restored:
        folder.reindex_documents(restored)
    return outcomes


def _restore_document(folder: LibraryFolder, source: Path, record: dict[str, Any]) -> None:
    doc_id = str(record["doc_id"])
    # The bag's copy of the original is its source from now on (when the bag has it).
    original = (source / record["original"]).resolve() if record.get("original") else None
    catalog = folder.catalog
    catalog.begin_document(doc_id, str(record["collection"]),
                           str(original) if original else str(record["path"]),
                           str(record["kind"]), str(record["title"]), int(record["size"]),
                           int(record["page_count"]), dict(record["metadata"]))
    target = folder.root / PAGES_DIR / doc_id
    for page in record["pages"]:
        number = int(page["number"])
        for name in page.get("files", ()):
            try:
                relative = Path(name).relative_to("pages")  # as the library kept it
            except ValueError:
                continue
            if ".." in relative.parts:
                continue  # a bag never writes outside the document's page folder
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / relative)
        catalog.store_page(doc_id, Page(
            number=number, text=str(page["text"]), method=str(page["method"]),
            confidence=page.get("confidence"), lang=str(page.get("lang") or ""),
            width=int(page.get("width") or 0), height=int(page.get("height") or 0),
            error=str(page.get("error") or "")), _compact(str(page["text"])))
        if page.get("images"):  # the reading room's copies of the scan, as the library had them
            catalog.store_page_images(doc_id, number,
                                      [(int(w), int(h), int(n)) for w, h, n in page["images"]])
        folder.record_page_files(doc_id, number)
    catalog.restore_page_versions(doc_id, list(record.get("versions") or ()))
    tags = record["tags"]
    catalog.finish_document(doc_id, None if tags_pending(tags) else Tags.from_dict(tags))
    catalog.set_ingested_at(doc_id, str(record.get("ingested_at") or ""))


def _compact(text: str) -> str:
    from .analysis import compact_search_form

    return compact_search_form(text)
