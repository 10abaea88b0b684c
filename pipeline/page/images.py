"""Page images, decoded or rasterised in the OCR workers, and one-page PDFs to ship to a cluster.

`load_page_image` decodes the page a task names: a frame of an image file, an image the planner
sent along, or a PDF page (below).

A scanned PDF page is almost always one image XObject covering the page. Rasterising such a page
with pdfium at 300 dpi costs ~0.3 s (decode, then resample onto a new bitmap); decoding the
embedded JPEG itself costs ~0.02 s and gives the scanner's own pixels. At 2-5 s of Tesseract per
page that difference is 6-15 % of the whole ingest, so `pdf_page_image` takes the embedded image
whenever the page is exactly that, and rasterises everything else (text, vector art, several
images, rotated or cropped placements, colour spaces Pillow would misread).
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from ..config import Config
from ..errors import InputFileError
from ..records import KIND_PDF, PageTask

# The image must cover the page box to within this share of its size on every side.
_COVER_TOLERANCE = 0.01
# Scans up to this many dpi are kept at their own resolution; sharper ones are reduced by an
# integer factor towards the configured PDF dpi (a 600-dpi A4 page is 35 Mpx: 4x the memory
# and Tesseract time of 300 dpi for no better text).
_MAX_NATIVE_FACTOR = 1.5
_MIN_NATIVE_DPI = 100  # below this the stated resolution is not believable: rasterise
# pdfium colour-space codes (FPDF_COLORSPACE_*) that a baseline JPEG decodes to correctly.
_GRAY, _RGB = 1, 2
# Encodings pdfium undoes for us in front of the JPEG data (ReportLab wraps it in ASCII85).
_SIMPLE = ("ASCIIHexDecode", "ASCII85Decode", "RunLengthDecode", "FlateDecode", "LZWDecode")


def open_image(path: str, cfg: Config) -> Image.Image:
    """Open an image file lazily, refusing decompression bombs. Raises InputFileError."""
    Image.MAX_IMAGE_PIXELS = cfg.max_image_pixels
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise InputFileError("image too large, refused as a possible decompression bomb "
                             f"({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputFileError(f"not a readable image ({exc})") from exc
    width, height = image.size
    if width * height > cfg.max_image_pixels:
        raise InputFileError(
            f"image too large ({width}x{height} pixels, limit {cfg.max_image_pixels}): "
            "refused as a possible decompression bomb")
    return image


def image_dpi(image: Image.Image) -> int | None:
    """The dpi an image file states, when believable (50-2400)."""
    dpi = image.info.get("dpi")
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    return value if 50 <= value <= 2400 else None


def load_page_image(task: PageTask, cfg: Config) -> tuple[Image.Image, int | None]:
    """Decode or rasterise the page a task names. Runs in a worker. Returns (image, dpi)."""
    if task.image_png:
        sent = Image.open(io.BytesIO(task.image_png))
        sent.load()
        return sent, task.dpi or None
    if task.kind == KIND_PDF:
        page_image, pdf_dpi = pdf_page_image(task.path, task.number, cfg)
        return page_image, pdf_dpi
    image: Image.Image = open_image(task.path, cfg)
    try:
        image.seek(task.number - 1)
        image.load()
    except (OSError, EOFError, ValueError) as exc:
        raise InputFileError(f"page {task.number}: image data is damaged ({exc})") from exc
    dpi = image_dpi(image)
    return _to_ocr_mode(image), dpi


def _to_ocr_mode(image: Image.Image) -> Image.Image:
    """Grey or RGB on white: what the preprocessing and Tesseract expect."""
    if image.mode in ("L", "RGB"):
        return image  # decoded and never written to: no copy (a page of memory, 1-2 ms)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("L") if image.mode in ("1", "I;16", "I", "F") else image.convert("RGB")


def pdf_page_image(path: str, number: int, cfg: Config) -> tuple[Image.Image, int]:
    """The image of one PDF page (1-based) and its dpi: the embedded scan when the page is
    a single full-page JPEG, else rasterised at `cfg.pdf_dpi`. Raises InputFileError."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"page {number}: cannot open the PDF ({exc})") from exc
    try:
        if not 1 <= number <= len(pdf):
            raise InputFileError(f"page {number}: the PDF has only {len(pdf)} pages")
        page = pdf[number - 1]
        try:
            embedded = _embedded_scan(page, cfg)
            if embedded is not None:
                return embedded
            bitmap = page.render(scale=cfg.pdf_dpi / 72.0, grayscale=True)
            return bitmap.to_pil().convert("L"), cfg.pdf_dpi
        finally:
            page.close()
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"page {number}: cannot rasterise PDF page ({exc})") from exc
    finally:
        pdf.close()


def _embedded_scan(page: Any, cfg: Config) -> tuple[Image.Image, int] | None:
    """The page's only object as a decoded image, when that is exactly what rendering shows."""
    import pypdfium2.raw as pdfium_c

    if page.get_rotation() != 0:
        return None
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    image_obj = objects[0]
    filters = image_obj.get_filters()
    if not filters or filters[-1] != "DCTDecode" or not all(f in _SIMPLE for f in filters[:-1]):
        return None
    meta = image_obj.get_metadata()
    if meta.colorspace not in (_GRAY, _RGB) or meta.bits_per_pixel not in (8, 24):
        return None
    a, b, c, d, _e, _f = image_obj.get_matrix().get()
    if b != 0 or c != 0 or a <= 0 or d <= 0:  # rotated, sheared or mirrored placement
        return None
    if not _covers(image_obj.get_bounds(), page.get_cropbox()):
        return None
    dpi = meta.width / (a / 72.0)
    if dpi < _MIN_NATIVE_DPI:
        return None
    try:
        data = bytes(image_obj.get_data(decode_simple=len(filters) > 1))
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError):
        return None  # let pdfium try: it tolerates JPEG damage Pillow refuses
    if image.mode not in ("L", "RGB") or image.size != (meta.width, meta.height):
        return None
    factor = int(dpi / cfg.pdf_dpi) if dpi > cfg.pdf_dpi * _MAX_NATIVE_FACTOR else 1
    if factor >= 2:
        image = image.reduce(factor)
        dpi /= factor
    return image, int(round(dpi))


def _covers(bounds: tuple[float, float, float, float],
            box: tuple[float, float, float, float]) -> bool:
    left, bottom, right, top = box
    slack_x = (right - left) * _COVER_TOLERANCE
    slack_y = (top - bottom) * _COVER_TOLERANCE
    return (bounds[0] <= left + slack_x and bounds[1] <= bottom + slack_y
            and bounds[2] >= right - slack_x and bounds[3] >= top - slack_y)


def extract_pdf_page(path: str, number: int) -> bytes:
    """One page of a PDF as a PDF of its own: what a cluster worker gets instead of the file.

    Copying the page object is cheap (no rendering), so rasterisation stays in the worker."""
    import pypdfium2

    try:
        source = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"page {number}: cannot open the PDF ({exc})") from exc
    try:
        single = pypdfium2.PdfDocument.new()
        try:
            single.import_pages(source, [number - 1])
            buffer = io.BytesIO()
            single.save(buffer)
            return buffer.getvalue()
        finally:
            single.close()
    except pypdfium2.PdfiumError as exc:
        raise InputFileError(f"page {number}: cannot copy the PDF page ({exc})") from exc
    finally:
        source.close()
