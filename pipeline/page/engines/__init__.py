"""The OCR engine seam: what an engine returns for a page, whichever engine it is.

Two engines read pages: Tesseract through pytesseract (`tesseract.py`, the only module that runs
it) and PP-OCR through rapidocr on ONNX Runtime (`paddle.py`, the only module that imports
rapidocr). Each turns a page image into an `OcrResult`: the text, the word (or character) boxes
with confidences, and an ALTO document built from the same lines, so that the look-alike
correction, the mapping of boxes back onto the scan, hit boxes, confidence and 需校对 work the
same whatever read the page. `Reading` is the engine's lines with their boxes, before any
reading order is imposed: the layout (`pipeline/page/layout.py`) orders them.

This module imports neither engine: records only, picklable, so layout and tests use them freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ...config import ENGINE_CHOICES
from ...records import Word
from ..correct import Correction

ENGINE_AUTO, ENGINE_PADDLE, ENGINE_TESSERACT = ENGINE_CHOICES

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)
Point = tuple[int, int]


@dataclass(frozen=True)
class Glyph:
    """One character (PP-OCR's per-character boxes) or word (Tesseract's) of a line."""

    text: str
    box: Box
    confidence: float  # 0-100


@dataclass(frozen=True)
class Line:
    """One text line, or one column of vertical text, as the engine found it."""

    text: str
    box: Box  # the axis-aligned rectangle around `polygon`
    polygon: tuple[Point, ...]  # top-left, top-right, bottom-right, bottom-left
    confidence: float  # 0-100
    glyphs: tuple[Glyph, ...] = ()  # in reading order within the line; may be empty
    vertical: bool = False  # the line runs top to bottom
    block: int = -1  # the engine's own block number (Tesseract), -1 when it has none


@dataclass(frozen=True)
class Reading:
    """An engine's lines for one page image, in the engine's order, boxes in its pixels."""

    lines: tuple[Line, ...]
    width: int
    height: int
    engine: str
    model: str


@dataclass(frozen=True)
class OcrResult:
    """What one engine run produced for one page image."""

    text: str
    words: tuple[Word, ...]
    alto: str
    confidence: float | None  # mean word confidence 0-100; None when no word was found
    corrections: tuple[Correction, ...] = ()  # misread characters replaced (pipeline.page.correct)
    engine: str = ENGINE_TESSERACT
    model: str = ""
    # `alto` parsed (pipeline.page.alto), so that pipeline.page.geometry need not parse it
    # again; None for an empty one. Not a record field: mapping the boxes changes it in place.
    tree: etree._Element | None = field(default=None, compare=False, repr=False)
