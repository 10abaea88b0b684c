"""Files -> pages: discover inputs, identify them, split them into text pages and OCR tasks.

Cheap work (hashing, reading headers, PDF text layers, Word and text files) happens here in
the main process; decoding and rasterising page images happens in the workers
(`pipeline.page.images.load_page_image`), so the writer never becomes the bottleneck.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

from ..config import Config
from ..errors import InputFileError
from ..page.images import image_dpi, open_image
from ..records import (
    KIND_DOCX,
    KIND_IMAGE,
    KIND_PDF,
    KIND_TEXT,
    METHOD_TEXT,
    Page,
    PageTask,
    SourceFile,
)
from ..text.clean import clean_ocr_text

EXTENSIONS = {
    ".png": KIND_IMAGE, ".jpg": KIND_IMAGE, ".jpeg": KIND_IMAGE, ".tif": KIND_IMAGE,
    ".tiff": KIND_IMAGE, ".bmp": KIND_IMAGE, ".webp": KIND_IMAGE,
    ".pdf": KIND_PDF, ".docx": KIND_DOCX, ".txt": KIND_TEXT, ".md": KIND_TEXT,
}
_CID_GARBAGE = re.compile(r"\(cid:\d+\)")


@dataclass(frozen=True)
class Discovery:
    """What a list of input paths holds."""

    files: tuple[Path, ...]  # supported files, in a stable order
    unsupported: tuple[Path, ...]  # files of another type: listed, skipped
    missing: tuple[Path, ...]  # paths that do not exist


@dataclass(frozen=True)
class DocumentPlan:
    """A source file split into pages: text pages are done, image pages still need OCR."""

    source: SourceFile
    title: str
    pages: tuple[Union[Page, PageTask], ...]


def discover_files(paths: Sequence[str | Path]) -> Discovery:
    """Expand folders recursively; sort each folder's files so runs are repeatable."""
    files: list[Path] = []
    unsupported: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key in seen:
            return
        seen.add(key)
        (files if path.suffix.lower() in EXTENSIONS else unsupported).append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if not any(part.startswith(".") for part in child.relative_to(path).parts):
                    add(child)
        elif path.is_file():
            add(path)
        else:
            missing.append(path)
    return Discovery(tuple(files), tuple(unsupported), tuple(missing))


def identify(path: Path) -> SourceFile:
    """Read a file once to get its kind and content-hash id."""
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise InputFileError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputFileError(f"cannot read file: {exc.strerror}") from exc
    if size == 0:
        raise InputFileError("empty file (0 bytes)")
    return SourceFile(path=str(path), kind=kind, doc_id=digest.hexdigest()[:16], size=size)


def plan_document(source: SourceFile, cfg: Config) -> DocumentPlan:
    """Split a source into pages. Raises InputFileError when the file cannot be used."""
    planners = {KIND_IMAGE: _plan_image, KIND_PDF: _plan_pdf, KIND_DOCX: _plan_docx,
                KIND_TEXT: _plan_text}
    return planners[source.kind](source, cfg)


# -- images ------------------------------------------------------------------------------------

def _plan_image(source: SourceFile, cfg: Config) -> DocumentPlan:
    with open_image(source.path, cfg) as image:
        frames = getattr(image, "n_frames", 1)
        dpi = image_dpi(image)
    tasks = tuple(PageTask(source.doc_id, source.path, source.kind, n, dpi=dpi or 0)
                  for n in range(1, frames + 1))
    return DocumentPlan(source, Path(source.path).stem, tasks)


# -- PDFs --------------------------------------------------------------------------------------

def _plan_pdf(source: SourceFile, cfg: Config) -> DocumentPlan:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(source.path)
    except Exception as exc:  # pdfminer raises many unrelated types for a bad file
        cause = exc.__cause__ or exc
        if isinstance(cause, PDFPasswordIncorrect) or "password" in repr(cause).lower():
            raise InputFileError("encrypted PDF: a password is needed to read it") from exc
        raise InputFileError(f"not a readable PDF ({type(cause).__name__}: {cause})") from exc
    # pdfminer keeps every object it has parsed, each page's scan included: planning a
    # 2,000-page scanned PDF (390 MB) held 425 MB, which glibc then kept. Uncached: 52 MB,
    # the same text layers, 2.4 instead of 1.8 CPU s (benchmarks/README.md, issue 18).
    pdf.doc.caching = False
    with pdf:
        if pdf.doc.encryption is not None and not pdf.pages:
            raise InputFileError("encrypted PDF: a password is needed to read it")
        title = str((pdf.metadata or {}).get("Title") or "").strip()
        pages: list[Union[Page, PageTask]] = []
        try:
            for number, page in enumerate(pdf.pages, start=1):
                layer = _text_layer(page)
                if _real_chars(layer) >= cfg.min_text_layer_chars:
                    pages.append(Page(number=number, text=clean_ocr_text(layer), method=METHOD_TEXT,
                                      width=int(page.width), height=int(page.height)))
                else:
                    pages.append(PageTask(source.doc_id, source.path, source.kind, number,
                                          dpi=cfg.pdf_dpi))
                page.close()
        except Exception as exc:
            raise InputFileError(f"damaged PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise InputFileError("PDF has no pages")
    return DocumentPlan(source, title or Path(source.path).stem, tuple(pages))


def _text_layer(page: object) -> str:
    text = page.extract_text() or ""  # type: ignore[attr-defined]
    return _CID_GARBAGE.sub("", text)


def _real_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


# -- Word drafts -------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _plan_docx(source: SourceFile, cfg: Config) -> DocumentPlan:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(source.path)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputFileError("not a readable Word .docx file "
                             f"({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # lxml errors on damaged XML inside the package
        raise InputFileError(f"damaged Word .docx file ({type(exc).__name__}: {exc})") from exc
    pages: list[list[str]] = [[]]
    heading = ""
    for element in document.element.body.iterchildren():
        if element.tag == f"{_W}p":
            paragraph = Paragraph(element, document)
            text = paragraph.text.strip()
            style = paragraph.style.name if paragraph.style is not None else ""
            if text and not heading and (style or "").lower().startswith(("heading", "title")):
                heading = text
            if text:
                pages[-1].append(text)
            if element.findall(f".//{_W}br[@{_W}type='page']"):
                pages.append([])
        elif element.tag == f"{_W}tbl":
            table = Table(element, document)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                pages[-1].append("\t".join(_dedupe_merged(cells)))
    texts = ["\n".join(p) for p in pages if any(line.strip() for line in p)]
    if not texts:
        texts = [""]
    title = (document.core_properties.title or "").strip() or heading or Path(source.path).stem
    return DocumentPlan(source, title, tuple(
        Page(number=n, text=t, method=METHOD_TEXT) for n, t in enumerate(texts, start=1)))


def _dedupe_merged(cells: Iterable[str]) -> list[str]:
    # python-docx repeats a merged cell's text once per grid column it spans.
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return out


# -- plain text --------------------------------------------------------------------------------

def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text bytes; returns (text, encoding). UTF-8 (with or without BOM), UTF-16 with
    BOM, GB18030/GBK and Big5 are detected, not assumed."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is None:
        best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise InputFileError("text encoding not recognised (tried UTF-8, GB18030/GBK, Big5)")
    return str(best), best.encoding


def _plan_text(source: SourceFile, cfg: Config) -> DocumentPlan:
    data = Path(source.path).read_bytes()
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputFileError("binary data in a text file")
    text, _encoding = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A form feed separates pages, as in `wenshi ocr` output and many exported texts.
    chunks = [c.strip("\n") for c in text.split("\f")]
    chunks = [c for c in chunks if c.strip()] or [""]
    title = Path(source.path).stem
    first = chunks[0].strip().split("\n", 1)[0].lstrip("# ").strip()
    if source.path.lower().endswith(".md") and chunks[0].lstrip().startswith("#") and first:
        title = first
    return DocumentPlan(source, title, tuple(
        Page(number=n, text=c, method=METHOD_TEXT) for n, c in enumerate(chunks, start=1)))
