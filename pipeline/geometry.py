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
from dataclasses import dataclass, replace

from lxml import etree

from .preprocess import STEP_DESKEW, PreprocessResult
from .records import Word

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v3#"
Box = tuple[float, float, float, float]  # left, top, width, height


@dataclass(frozen=True)
class PageGeometry:
    """How the image Tesseract read relates to the source page image."""

    source_size: tuple[int, int]  # width, height of the page image as scanned or rasterised
    read_size: tuple[int, int]  # width, height of the image Tesseract read
    skew_degrees: float = 0.0  # counter-clockwise skew found on the source, undone before OCR
    rotation: int = 0  # clockwise quarter turn (0/90/180/270) applied after the deskew

    @classmethod
    def of(cls, source_size: tuple[int, int], pre: PreprocessResult) -> "PageGeometry":
        """From what preprocessing reports (it measures the skew even when it leaves it)."""
        skew = pre.skew_degrees if STEP_DESKEW in pre.steps else 0.0
        return cls(source_size, pre.image.size, skew, pre.rotation)

    @property
    def identity(self) -> bool:
        """True when the two images share their pixels (no scale, skew or turn)."""
        return (self.source_size == self.read_size and self.rotation % 360 == 0
                and abs(self.skew_degrees) < 0.005)

    def _deskewed_size(self) -> tuple[int, int]:
        w, h = self.read_size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def to_source(self, x: float, y: float) -> tuple[float, float]:
        """A point of the read image, in source image pixels."""
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
        return x * sw / w, y * sh / h

    def box_to_source(self, left: float, top: float, width: float, height: float) -> Box:
        """The upright box around a read-image box's corners, in source pixels, on the page."""
        corners = [self.to_source(x, y) for x in (left, left + width) for y in (top, top + height)]
        sw, sh = self.source_size
        x0 = min(max(0.0, min(x for x, _ in corners)), sw)
        y0 = min(max(0.0, min(y for _, y in corners)), sh)
        x1 = min(max(0.0, max(x for x, _ in corners)), sw)
        y1 = min(max(0.0, max(y for _, y in corners)), sh)
        return x0, y0, x1 - x0, y1 - y0


def words_to_source(words: tuple[Word, ...], geometry: PageGeometry) -> tuple[Word, ...]:
    """Word boxes in source image pixels."""
    if geometry.identity:
        return words
    out = []
    for w in words:
        left, top, width, height = geometry.box_to_source(w.left, w.top, w.width, w.height)
        out.append(replace(w, left=round(left), top=round(top), width=round(width),
                           height=round(height)))
    return tuple(out)


def alto_to_source(alto: str, geometry: PageGeometry) -> str:
    """Tesseract's ALTO with every position in source image pixels and the page its size.

    Blocks, lines and strings get the upright box around their mapped corners (so a line of a
    skewed page gets a taller box, as ALTO readers expect of a slanted line); the spaces between
    strings (position and width only) are moved with their start point.
    """
    if geometry.identity or not alto.strip():
        return alto
    root = etree.fromstring(alto.encode("utf-8"),
                            parser=etree.XMLParser(resolve_entities=False, no_network=True))
    sx = geometry.source_size[0] / geometry._deskewed_size()[0]
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        attrs = element.attrib
        if element.tag == f"{{{ALTO_NS}}}Page":
            attrs["WIDTH"], attrs["HEIGHT"] = (str(v) for v in geometry.source_size)
        elif all(k in attrs for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")):
            box = geometry.box_to_source(*(float(attrs[k]) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")))
            for key, value in zip(("HPOS", "VPOS", "WIDTH", "HEIGHT"), box):
                attrs[key] = str(round(value))
        elif "HPOS" in attrs and "VPOS" in attrs:
            x, y = geometry.to_source(float(attrs["HPOS"]), float(attrs["VPOS"]))
            attrs["HPOS"], attrs["VPOS"] = str(round(x)), str(round(y))
            if "WIDTH" in attrs:
                attrs["WIDTH"] = str(round(float(attrs["WIDTH"]) * sx))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode("utf-8")
