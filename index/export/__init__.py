"""Exports of a collection: manuscripts for editors, catalogs and archival formats for archivists.

Writers (and the selection code) are imported only when an export runs, so that the commands
that merely name the formats (`wenshi --help`, a cold `wenshi search`) do not pay for them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config
from pipeline.errors import NotFoundError, UsageError

from .orders import ORDERS

if TYPE_CHECKING:
    from ..library import LibraryFolder
    from .common import DocumentIssue

# format -> (module, writer function, writes a folder)
_WRITERS = {
    "docx": ("word", "write_docx", False),
    "md": ("manuscript", "write_markdown", False),
    "txt": ("manuscript", "write_text", False),
    "wordcount": ("catalog_formats", "write_wordcount", False),
    "csv": ("catalog_formats", "write_catalog_csv", False),
    "json": ("catalog_formats", "write_catalog_json", False),
    "dc": ("dublincore", "write_dublin_core", True),
    "alto": ("alto", "write_alto", True),
    "pdf": ("pdf", "write_pdfs", True),
    "bagit": ("bag", "write_bag", True),
    "proofread": ("proofread", "write_proofread", False),
}
FORMATS = tuple(_WRITERS)
FOLDER_FORMATS = tuple(f for f, (_, _, folder) in _WRITERS.items() if folder)
__all__ = ["FORMATS", "FOLDER_FORMATS", "ORDERS", "ExportRequest", "ExportResult",
           "export_collection"]


@dataclass(frozen=True)
class ExportRequest:
    """What to export, how, and where."""

    collection: str
    format: str
    output: Path
    query: str | None = None
    order: str = "ingest"
    force: bool = False


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote; documents it skipped (format does not apply) or could not export."""

    format: str
    output: Path
    documents: int  # documents selected
    characters: int  # their 字数
    files: tuple[Path, ...]
    skipped: tuple[DocumentIssue, ...]
    failed: tuple[DocumentIssue, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi export --json` prints."""
        return {"format": self.format, "output": str(self.output), "documents": self.documents,
                "characters": self.characters, "files": [str(f) for f in self.files],
                "skipped": [vars(i) for i in self.skipped],
                "failed": [vars(i) for i in self.failed]}


def export_collection(library: LibraryFolder, cfg: Config,
                      request: ExportRequest) -> ExportResult:
    """Select, order and write the documents of a collection in one format."""
    from .common import ExportJob, select_documents

    if request.format not in _WRITERS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {request.format!r}")
    if not str(request.output).strip():
        raise UsageError("--output must not be empty")
    documents = select_documents(library, request.collection, request.query, request.order)
    job = ExportJob(library, cfg, request.collection, request.query, documents,
                    Path(request.output), request.force)
    module, function, _ = _WRITERS[request.format]
    writer = getattr(import_module(f"{__name__}.{module}"), function)
    outcome = writer(job)
    if not outcome.files and not outcome.failed:
        reasons = sorted({issue.message for issue in outcome.skipped})
        raise NotFoundError(f"none of the {len(documents)} selected documents can be exported as "
                            f"{request.format} ({'; '.join(reasons)}); nothing written")
    return ExportResult(request.format, job.output, len(documents),
                        sum(d.char_count for d in documents), tuple(outcome.files),
                        tuple(outcome.skipped), tuple(outcome.failed))
