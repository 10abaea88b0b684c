"""Searchable PDFs: each scanned page's image with an invisible text layer placed from the OCR
word boxes, so any PDF reader can find and copy the Chinese text.

Page images are not kept in the library: they are made again from the source file (Pillow for
images, pypdfium2 for PDFs). The text is drawn in render mode 3 (invisible) in a subset of Noto
Sans CJK SC that is embedded, and each file is PDF/A-2b (pdfa.py).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from lxml import etree
from PIL import Image

from pipeline.errors import InputFileError
from pipeline.page.alto import ALTO_NS
from pipeline.records import KIND_IMAGE, KIND_PDF, METHOD_OCR

from ..catalog import DocumentRow, PageRow
from .common import (
    DocumentIssue,
    ExportJob,
    WriterOutcome,
    contributor_of,
    display_title,
    document_stem,
    folder_targets,
    open_source,
    write_atomic,
)
from .pdfa import TextFonts, register_cjk_fonts, to_pdfa

FONT_DESCENT = 0.12  # Noto Sans CJK's descent, in em: puts the glyph box over the word box
DEFAULT_IMAGE_DPI = 300  # for images that do not say their resolution
JPEG_QUALITY = 85  # rasterised PDF pages; image sources keep their own encoding
_NS = ALTO_NS
# CJK ideographs and punctuation, full-width forms, Chinese quotes, ellipsis and dash.
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
                  "\u2018-\u201f\u2026\u2014]")
_CID_GARBAGE = re.compile(r"\(cid:\d+\)")
_ALTO_CONTENT = re.compile(r'CONTENT="([^"]*)"')


@dataclass(frozen=True)
class PlacedWord:
    """A word of the text layer, in PDF points (origin bottom left)."""

    text: str
    x: float
    baseline: float
    width: float
    size: float


def write_pdfs(job: ExportJob) -> WriterOutcome:
    """Export format `pdf`: OUTPUT/<document>.pdf for every scanned document."""
    outcome = WriterOutcome()
    chosen: list[tuple[DocumentRow, list[PageRow]]] = []
    for doc in job.documents:
        pages = job.library.catalog.pages(doc.doc_id)
        reason = _not_scanned(doc, pages)
        if reason:
            outcome.skipped.append(DocumentIssue(doc.doc_id, display_title(doc), reason))
        else:
            chosen.append((doc, pages))
    if not chosen:
        return outcome
    targets = folder_targets(job.output, [f"{document_stem(d)}.pdf" for d, _ in chosen], job.force)
    fonts = register_cjk_fonts(_characters(job, chosen))
    for (doc, pages), target in zip(chosen, targets):
        try:
            data = searchable_pdf(doc, pages, job, fonts)
        except InputFileError as exc:
            outcome.failed.append(DocumentIssue(doc.doc_id, display_title(doc), str(exc)))
            continue
        outcome.files.append(write_atomic(target, data))
    return outcome


def _not_scanned(doc: DocumentRow, pages: Sequence[PageRow]) -> str:
    if doc.kind not in (KIND_IMAGE, KIND_PDF):
        return f"not a scan (a {doc.kind} file): no searchable PDF"
    if not any(p.method == METHOD_OCR for p in pages):
        return "born-digital PDF with a text layer on every page: already searchable"
    return ""


def _characters(job: ExportJob, chosen: Sequence[tuple[DocumentRow, list[PageRow]]]) -> set[str]:
    """Every character the text layers may draw: the catalog's text and the ALTO words."""
    chars: set[str] = set()
    for doc, pages in chosen:
        for page in pages:
            chars.update(page.text)
            alto = job.library.alto_path(doc.doc_id, page.number)
            if alto.is_file():
                chars.update(html.unescape("".join(_ALTO_CONTENT.findall(
                    alto.read_text(encoding="utf-8", errors="replace")))))
    return chars


def searchable_pdf(doc: DocumentRow, pages: Sequence[PageRow], job: ExportJob,
                   fonts: TextFonts) -> bytes:
    """The PDF/A-2b bytes of one scanned document, its text layer in `fonts` (registered
    reportlab fonts); InputFileError when its source is unusable."""
    from reportlab.pdfgen import canvas

    source = open_source(doc)
    buffer = io.BytesIO()
    # The canvas's initial font is ours: every font a page names is then embedded (PDF/A).
    pdf = canvas.Canvas(buffer, pageCompression=1, initialFontName=fonts.primary)
    pdf.setTitle(display_title(doc))
    pdf.setAuthor(contributor_of(doc))
    pdf.setSubject(doc.collection)
    pdf.setCreator("Wenshi (OCR text layer from Tesseract)")
    try:
        for image, width, height, words in _page_images(doc, source, pages, job):
            pdf.setPageSize((width, height))
            pdf.drawImage(image, 0, 0, width, height)
            _draw_invisible_text(pdf, words, fonts)
            pdf.showPage()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputFileError(f"source file {doc.path}: cannot render its pages ({exc})") from exc
    pdf.save()
    return to_pdfa(buffer.getvalue(), display_title(doc), contributor_of(doc), doc.collection)


def _page_images(doc: DocumentRow, source: Path, pages: Sequence[PageRow],
                 job: ExportJob) -> Iterator[tuple[Any, float, float, list[PlacedWord]]]:
    """(image for reportlab, page width and height in points, text layer) per stored page."""
    from reportlab.lib.utils import ImageReader

    if doc.kind == KIND_PDF:
        yield from _pdf_pages(doc, source, pages, job)
        return
    Image.MAX_IMAGE_PIXELS = job.cfg.max_image_pixels
    is_jpeg = source.suffix.lower() in (".jpg", ".jpeg")
    with Image.open(source) as image:
        for page in pages:
            image.seek(page.number - 1)
            frame = image.copy()
            dpi = _image_dpi(frame)
            width, height = frame.width * 72 / dpi, frame.height * 72 / dpi
            # A JPEG goes in as it is (no re-encoding); other images losslessly.
            reader = ImageReader(io.BytesIO(source.read_bytes())) if is_jpeg and frame.mode in (
                "L", "RGB") else ImageReader(_display_mode(frame))
            yield reader, width, height, _alto_words(job, doc, page, width, height)


def _pdf_pages(doc: DocumentRow, source: Path, pages: Sequence[PageRow],
               job: ExportJob) -> Iterator[tuple[Any, float, float, list[PlacedWord]]]:
    import pdfplumber
    import pypdfium2
    from reportlab.lib.utils import ImageReader

    try:
        rendered = pypdfium2.PdfDocument(str(source))
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"source file {doc.path}: not a readable PDF ({exc})") from exc
    try:
        with pdfplumber.open(str(source)) as plumbed:
            for page in pages:
                pdf_page = rendered[page.number - 1]
                width, height = pdf_page.get_size()
                bitmap = pdf_page.render(scale=job.cfg.pdf_dpi / 72.0)
                jpeg = io.BytesIO()
                bitmap.to_pil().convert("RGB").save(jpeg, format="JPEG", quality=JPEG_QUALITY)
                if page.method == METHOD_OCR:
                    words = _alto_words(job, doc, page, width, height)
                else:  # a page with its own text layer: keep that text where it was
                    words = _text_layer_words(plumbed.pages[page.number - 1], width, height)
                yield ImageReader(jpeg), width, height, words
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"source file {doc.path}: cannot rasterise a page ({exc})") from exc
    finally:
        rendered.close()


def _image_dpi(image: Image.Image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 50 <= value <= 2400 else DEFAULT_IMAGE_DPI


def _display_mode(image: Image.Image) -> Image.Image:
    """Grey, bilevel or RGB on white: what a PDF image can hold."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("L") if image.mode in ("I;16", "I", "F") else image.convert("RGB")


# -- the text layer --------------------------------------------------------------------------

def _alto_words(job: ExportJob, doc: DocumentRow, page: PageRow, width: float,
                height: float) -> list[PlacedWord]:
    path = job.library.alto_path(doc.doc_id, page.number)
    if page.error or not path.is_file():
        return []  # a failed page keeps its image, without text
    return alto_words(path.read_bytes(), width, height)


def alto_words(alto: bytes, width: float, height: float) -> list[PlacedWord]:
    """The words of an ALTO page, scaled from its pixel space (Page WIDTH/HEIGHT: the page image
    as scanned; in libraries from before pipeline/page/geometry.py, the preprocessed image, which
    differs by more than a scale on skewed pages) onto a page box of `width` x `height` points.

    Words of a line share its baseline and size, so readers keep the line together; each word
    is stretched to where the next one starts, so no gap between two Chinese characters turns
    into a space when the text is copied. Between two Latin words a real space is written."""
    root = etree.fromstring(alto, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    page = root.find(f".//{{{_NS}}}Page")
    if page is None or not float(page.get("WIDTH", 0)) or not float(page.get("HEIGHT", 0)):
        return []
    sx, sy = width / float(page.get("WIDTH", 1)), height / float(page.get("HEIGHT", 1))
    placed: list[PlacedWord] = []
    for line in root.iter(f"{{{_NS}}}TextLine"):
        strings = [s for s in line.iter(f"{{{_NS}}}String") if s.get("CONTENT", "").strip()]
        if not strings:
            continue
        # A line of a skewed scan is slanted, so its upright box (ALTO boxes are upright) is
        # taller than its characters: then each word sits on its own baseline, at the size of
        # the line's typical character.
        glyph = sorted(_num(s, "HEIGHT") for s in strings)[len(strings) // 2]
        slanted = _num(line, "HEIGHT") > 1.5 * glyph
        size = max(1.0, (glyph if slanted else _num(line, "HEIGHT")) * sy)
        line_bottom = (_num(line, "VPOS") + _num(line, "HEIGHT")) * sy
        for i, s in enumerate(strings):
            text = s.get("CONTENT", "").strip()
            bottom = ((_num(s, "VPOS") + _num(s, "HEIGHT") / 2) * sy + size / 2 if slanted
                      else line_bottom)
            baseline = height - bottom + FONT_DESCENT * size
            x = _num(s, "HPOS") * sx
            box = _num(s, "WIDTH") * sx
            if i + 1 < len(strings):
                following = strings[i + 1].get("CONTENT", "").strip()
                following_x = _num(strings[i + 1], "HPOS") * sx
                if following_x > x:  # Tesseract's boxes may overlap the next word: trust starts
                    box = following_x - x
                if not (_CJK.match(text[-1]) or _CJK.match(following[0])):
                    text += " "
            placed.append(PlacedWord(text, x, baseline, box, size))
    return placed


def _text_layer_words(page: Any, width: float, height: float) -> list[PlacedWord]:
    """Words of a PDF page's own text layer (pdfplumber, top-left origin) as placed words."""
    sx, sy = width / float(page.width), height / float(page.height)
    placed = []
    for word in page.extract_words(keep_blank_chars=False):
        text = _CID_GARBAGE.sub("", word["text"]).strip()
        if text:
            size = max(1.0, (word["bottom"] - word["top"]) * sy)
            baseline = height - word["bottom"] * sy + FONT_DESCENT * size
            width_pt = (word["x1"] - word["x0"]) * sx
            placed.append(PlacedWord(text, word["x0"] * sx, baseline, width_pt, size))
    return placed


def _num(element: Any, name: str) -> float:
    try:
        return float(element.get(name, 0))
    except ValueError:
        return 0.0


def _draw_invisible_text(pdf: Any, words: Sequence[PlacedWord], fonts: TextFonts) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for word in words:
        runs = fonts.runs(word.text)
        if not runs:
            continue
        natural = sum(stringWidth(chars, font, word.size) for font, chars in runs)
        text = pdf.beginText()
        text.setTextRenderMode(3)  # invisible: found and copied, never drawn over the scan
        text.setFont(runs[0][0], word.size)
        if natural > 0 and word.width > 0:
            text.setHorizScale(100.0 * word.width / natural)
        text.setTextOrigin(word.x, word.baseline)
        for font, chars in runs:  # a rare character's run in its fallback font (pdfa.py)
            text.setFont(font, word.size)
            text.textOut(chars)
        pdf.drawText(text)
