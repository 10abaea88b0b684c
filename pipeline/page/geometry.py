"""OCR coordinates mapped from the image Tesseract read back onto the page as scanned.

Tesseract reads the preprocessed page: upscaled to ~300 dpi, deskewed, turned upright. Its word
boxes are in that image's pixels, but everything that shows them again (the searchable PDF's
invisible text, ALTO for other archive tools, a highlight on the page image) draws over the
original scan. A scale alone was off by up to a line on a page skewed 5°; this module undoes the
three steps exactly, in reverse order: the quarter turn, the deskew rotation (Pillow's, about the
image centre, canvas size kept), the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from lxml import etree

from ..records import Word
from .alto import ALTO_NS, parse_alto
from .preprocess import STEP_DESKEW, PreprocessResult

Box = tuple[float, float, float, float]  # left, top, width, height
Boxes = npt.NDArray[np.float64]  # (n, 4): left, top, width, height
_BOX_KEYS = ("HPOS", "VPOS", "WIDTH", "HEIGHT")


@dataclass(frozen=True)
class PageGeometry:
    """How the image Tesseract read relates to the source page image."""

    source_size: tuple[int, int]  # width, height of the page image as scanned or rasterised
    read_size: tuple[int, int]  # width, height of the image Tesseract read
    skew_degrees: float = 0.0  # counter-clockwise skew found on the source, undone before OCR
    rotation: int = 0  # clockwise quarter turn (0/90/180/270) applied after the deskew
    # Pixels of paper added on every side of the source before the deskew (a page PP-OCR lays
    # out straightened, pipeline/page/straighten.py, whose text the turn would carry off it).
    margin: int = 0

    @classmethod
    def of(cls, source_size: tuple[int, int], pre: PreprocessResult) -> "PageGeometry":
        """From what preprocessing reports (it measures the skew even when it leaves it)."""
        skew = pre.skew_degrees if STEP_DESKEW in pre.steps else 0.0
        return cls(source_size, pre.image.size, skew, pre.rotation)

    @property
    def identity(self) -> bool:
        """True when the two images share their pixels (no scale, skew or turn)."""
        return (self.source_size == self.read_size and self.rotation % 360 == 0
                and abs(self.skew_degrees) < 0.005 and not self.margin)

    def _deskewed_size(self) -> tuple[int, int]:
        w, h = self.read_size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def to_source(self, x: float, y: float) -> tuple[float, float]:
        """A point of the read image, in source image pixels (or arrays of points: the same
        arithmetic, element by element)."""
        w, h = self._deskewed_size()
        # Undo the quarter turn (continuous coordinates, so box edges map onto box edges).
        if self.rotation == 90:  # clockwise: (x, y) became (h - y, x)
            x, y = y, h - x
        elif self.rotation == 180:
            x, y = w - x, h - y
        elif self.rotation == 270:  # counter-clockwise: (x, y) became (y, w - x)
            x, y = w - y, x
        # Undo the deskew: the page was turned clockwise by the skew about the centre, so turn
        # the point counter-clockwise by it (image y points down).
        if self.skew_degrees:
            a = math.radians(self.skew_degrees)
            cx, cy = w / 2.0, h / 2.0
            dx, dy = x - cx, y - cy
            x = cx + dx * math.cos(a) + dy * math.sin(a)
            y = cy - dx * math.sin(a) + dy * math.cos(a)
        sw, sh = self.source_size
        m = self.margin
        return (x - m) * sw / (w - 2 * m), (y - m) * sh / (h - 2 * m)

    def box_to_source(self, left: float, top: float, width: float, height: float) -> Box:
        """The upright box around a read-image box's corners, in source pixels, on the page."""
        corners = [self.to_source(x, y) for x in (left, left + width) for y in (top, top + height)]
        sw, sh = self.source_size
        x0 = min(max(0.0, min(x for x, _ in corners)), sw)
        y0 = min(max(0.0, min(y for _, y in corners)), sh)
        x1 = min(max(0.0, max(x for x, _ in corners)), sw)
        y1 = min(max(0.0, max(y for _, y in corners)), sh)
        return x0, y0, x1 - x0, y1 - y0

    def boxes_to_source(self, boxes: Boxes) -> npt.NDArray[np.int64]:
        """`box_to_source` of each row, rounded to whole pixels as `round` rounds each."""
        left, top, width, height = boxes.T
        corners = [self.to_source(x, y) for x in (left, left + width) for y in (top, top + height)]
        xs = np.stack([x for x, _ in corners])
        ys = np.stack([y for _, y in corners])
        sw, sh = self.source_size
        x0 = np.minimum(np.maximum(0.0, xs.min(axis=0)), sw)
        y0 = np.minimum(np.maximum(0.0, ys.min(axis=0)), sh)
        x1 = np.minimum(np.maximum(0.0, xs.max(axis=0)), sw)
        y1 = np.minimum(np.maximum(0.0, ys.max(axis=0)), sh)
        return np.round(np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)).astype(np.int64)


def words_to_source(words: tuple[Word, ...], geometry: PageGeometry) -> tuple[Word, ...]:
    """Word boxes in source image pixels."""
    if geometry.identity or not words:
        return words
    boxes = geometry.boxes_to_source(
        np.array([(w.left, w.top, w.width, w.height) for w in words], dtype=np.float64))
    return tuple(Word(w.text, left, top, width, height, w.confidence)
                 for w, (left, top, width, height) in zip(words, boxes.tolist()))


def alto_to_source(alto: str, geometry: PageGeometry, tree: etree._Element | None = None) -> str:
    """Tesseract's ALTO with every position in source image pixels and the page its size.

    Blocks, lines and strings get the upright box around their mapped corners (so a line of a
    skewed page gets a taller box, as ALTO readers expect of a slanted line); the spaces between
    strings (position and width only) are moved with their start point. `tree`, the same ALTO
    already parsed (`OcrResult.tree`), is mapped in place instead of parsing `alto` again.
    """
    if geometry.identity or not alto.strip():
        return alto
    root = tree if tree is not None else parse_alto(alto)
    assert root is not None
    sx = geometry.source_size[0] / (geometry._deskewed_size()[0] - 2 * geometry.margin)
    # Read every position first and map them all at once: mapped one element at a time, the
    # arithmetic took more than the parse and the rest together (~15 ms of ~20 ms a page).
    boxes: list[etree._Element] = []
    box_values: list[list[float]] = []
    points: list[etree._Element] = []
    point_values: list[tuple[float, float, float]] = []
    page = f"{{{ALTO_NS}}}Page"
    for element in root.iter():
        if element.tag == page:
            element.set("WIDTH", str(geometry.source_size[0]))
            element.set("HEIGHT", str(geometry.source_size[1]))
            continue
        get = element.get  # four look-ups are cheaper than asking which attributes there are
        left, top, width, height = get("HPOS"), get("VPOS"), get("WIDTH"), get("HEIGHT")
        if left is None or top is None:
            continue
        if width is not None and height is not None:
            boxes.append(element)
            box_values.append([float(left), float(top), float(width), float(height)])
        else:
            points.append(element)
            point_values.append((float(left), float(top), 0.0 if width is None else float(width)))
    if boxes:
        mapped = geometry.boxes_to_source(np.array(box_values, dtype=np.float64))
        for element, values in zip(boxes, mapped.tolist()):
            for key, value in zip(_BOX_KEYS, values):
                element.set(key, str(value))
    if points:
        x, y, width = np.array(point_values, dtype=np.float64).T
        px, py = geometry.to_source(x, y)
        moved = np.round(np.stack([px, py, width * sx], axis=1)).astype(np.int64)
        for element, (left, top, span) in zip(points, moved.tolist()):
            element.set("HPOS", str(left))
            element.set("VPOS", str(top))
            if "WIDTH" in element.attrib:
                element.set("WIDTH", str(span))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode("utf-8")
