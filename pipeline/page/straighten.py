"""A page PP-OCR read askew, laid out in a straightened frame.

PP-OCR reads a page as it lies: its line boxes follow the tilt, and its characters read as well
on a page scanned 2.5° askew as on the page straight. Reading order, though, comes from the
lines' upright boxes (pipeline/page/layout.py), and askew those no longer line up: a line's box
grows by its rise, rows of a table or a contents page drift apart across the page (the page
numbers at the right of a contents page became a column of their own), and the gaps between
lines and columns that the layout cuts at close. So the page's skew is measured from the lines
PP-OCR found (`line_skew`, refined on their ink: `refine`), and where it moves a line's far end
out of its row (`matters`), the page is laid out in a frame turned straight (`straightened`): the
image turned about its centre as preprocess.py turns a page for Tesseract (canvas kept, widened
only where text would leave it), the lines' polygons and character boxes turned with it, their
text and confidences kept (no second recognition). The page's ink, figures, the layout model and
the assembly work there; the result's boxes are then mapped back onto the image the engine was
given (`Straightened.back`, with geometry.py's PageGeometry), so the engine's boxes stay in that
image's pixels. (The half-cut 版心 strip is looked for before, on the page as it lies:
engines/paddle.py.)
benchmarks/README.md, "Session 16, pages scanned askew: order in a straightened frame".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from .engines import Box, OcrLine, OcrResult, Reading
from .geometry import PageGeometry, alto_to_source, words_to_source
from .pagelook import dark_ink, weighted_median, working_grey
from .preprocess import STEP_DESKEW
from .skew import estimate_skew

# The step recorded on a page laid out straightened: the name of the Tesseract path's deskew,
# so that `--skip-step deskew` switches both off.
STEP_STRAIGHTENED = STEP_DESKEW
# A page scanned askew lies at most this many degrees off straight (preprocess.py's range);
# a line steeper than that is set at an angle (lettering round an emblem), not askew.
MAX_SKEW = 15.0
# Lines whose angle counts: at least this many times as long as they are thick. A box of one or
# two characters is nearly square, and the rectangle round it may lie at any angle; a contents
# page's titles of three or four characters (ccu_thesis_p6: 3.5 times) must count, or a page of
# them has too few lines to measure.
_LONG = 2.5
# The skew is measured when at least this many such lines are found, and at least half their
# length lies within _AGREE degrees of their (length-weighted) median angle: a page of lines at
# odd angles (a poster, a map) has no one skew to undo. _AGREE is the angle a line's box edges
# resolve: the detector's corners are whole pixels of a copy at most 2000 px long, so over a
# line of 300 px (12 characters of an A4 page at 300 dpi, seen at half size) a pixel is 0.4°.
_MIN_LINES = 3
_AGREE = 0.5
# The skew matters to reading order when it lifts a line's far end, over the width of the page's
# text, by at least this share of a line's height: layout.py puts two lines on one row when they
# overlap by half the shorter one's height (its _ROW_OVERLAP), and a row's last cell (a contents
# page's page number, a table's last column) then lies half a line off its first. The real pages
# as they are measure 0.18 of a line at most (benchmarks/README.md).
_RISE = 0.5


def askew(reading: Reading, image: Image.Image) -> float:
    """The page's counter-clockwise skew in degrees when it matters to its reading order (the
    lines' polygons, `line_skew`, refined on their ink, `refine`; `matters`), else 0.0."""
    degrees = line_skew(reading.lines)
    if not matters(reading.lines, degrees):
        return 0.0
    degrees = refine(image, reading.lines, degrees)
    return degrees if matters(reading.lines, degrees) else 0.0


def line_skew(lines: Sequence[OcrLine]) -> float:
    """The counter-clockwise skew of the page's lines in degrees (as preprocess.py and
    geometry.py count it), from the long sides of their polygons: the length-weighted median of
    the long lines' angles, horizontal lines and vertical columns alike; 0.0 when too few long
    lines are found or they do not agree."""
    angles, weights = [], []
    for line in lines:
        found = _angle(line.polygon)
        if found is not None:
            angles.append(found[0])
            weights.append(found[1])
    if len(angles) < _MIN_LINES:
        return 0.0
    median = weighted_median(angles, weights)
    a, w = np.array(angles), np.array(weights)
    if median is None or w[np.abs(a - median) <= _AGREE].sum() < w.sum() / 2.0:
        return 0.0
    return median


def _angle(polygon: Sequence[tuple[int, int]]) -> tuple[float, float] | None:
    """(counter-clockwise angle in degrees, length) of a long line's long side; None for a line
    too short to tell or steeper than MAX_SKEW. Corner order does not matter: rapidocr orders
    them by x alone, which a tall column askew does not follow (paddle.upright_corners)."""
    sides = _long_side(polygon)
    if sides is None:
        return None
    (dx, dy), length, thick = sides
    if thick <= 0 or length < _LONG * thick:
        return None
    if abs(dx) >= abs(dy):  # a line across: its right end rises as the page turns anticlockwise
        degrees = math.degrees(math.atan2(-dy, dx) if dx > 0 else math.atan2(dy, -dx))
    else:  # a column down: its foot moves right as the page turns anticlockwise
        degrees = math.degrees(math.atan2(dx, dy) if dy > 0 else math.atan2(-dx, -dy))
    return (degrees, length) if abs(degrees) <= MAX_SKEW else None


def refine(image: Image.Image, lines: Sequence[OcrLine], degrees: float) -> float:
    """`degrees`, the skew of the lines' polygons, refined on the ink of the lines' boxes
    (skew.estimate_skew's projection search within a degree of it, on pagelook's working copy
    and its ink: a character 16 px high). The polygons of short lines lie up to 0.7° short of the
    page's skew (a contents page's titles of 2-4 characters); the projection of their ink,
    where it peaks near the polygons' angle, measured within 0.25° on the pages turned 2.5°."""
    boxes = [line.box for line in lines if line.box[2] > line.box[0] and line.box[3] > line.box[1]]
    if not boxes:
        return degrees
    px, size, scale = working_grey(image, boxes)
    ink = dark_ink(px, size * scale)
    text = np.zeros(ink.shape, dtype=bool)
    for left, top, right, bottom in boxes:
        held = (slice(max(0, int(top * scale)), int(bottom * scale) + 1),
                slice(max(0, int(left * scale)), int(right * scale) + 1))
        text[held] = ink[held] > 0
    return estimate_skew(text, around=degrees)


def matters(lines: Sequence[OcrLine], degrees: float) -> bool:
    """True when a skew of `degrees` lifts a line's far end, across the extent of the page's
    text (its width; its height for columns), by _RISE of a line's height (the median short
    side of the long lines) or more."""
    if not degrees or not lines:
        return False
    sides = [_sides(line.polygon) for line in lines]
    long = [(length, thick) for length, thick, down in sides if length >= _LONG * thick]
    if not long:
        return False
    height = float(np.median([thick for _, thick in long]))
    down = sum(length for length, thick, d in sides if d and length >= _LONG * thick)
    across = sum(length for length, thick, d in sides if not d and length >= _LONG * thick)
    boxes = np.array([line.box for line in lines], dtype=np.float64)
    extent = (boxes[:, 3].max() - boxes[:, 1].min() if down > across
              else boxes[:, 2].max() - boxes[:, 0].min())
    return bool(extent * math.tan(math.radians(abs(degrees))) >= _RISE * height)


def _sides(polygon: Sequence[tuple[int, int]]) -> tuple[float, float, bool]:
    """(long side, short side, whether the long side runs down) of a line's polygon."""
    sides = _long_side(polygon)
    if sides is None:
        return 0.0, 0.0, False
    (dx, dy), length, thick = sides
    return length, thick, abs(dy) > abs(dx)


def _long_side(polygon: Sequence[tuple[int, int]]
               ) -> tuple[tuple[float, float], float, float] | None:
    """The long side of a line's four-cornered polygon as a vector (x, y), its length and the
    short side's; None for a polygon of another number of corners."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(p) != 4:
        return None
    first, second = p[1] - p[0], p[2] - p[1]
    long, short = (first, second) if np.hypot(*first) >= np.hypot(*second) else (second, first)
    return (float(long[0]), float(long[1])), float(np.hypot(*long)), float(np.hypot(*short))


@dataclass(frozen=True)
class Straightened:
    """A page's reading and image in the straightened frame, and how that frame maps back."""

    reading: Reading
    image: Image.Image
    geometry: PageGeometry  # from the straight image to the image the engine was given
    degrees: float

    def back(self, result: OcrResult) -> OcrResult:
        """`result`, assembled in the straight frame, with its ALTO and words in the pixels of
        the image the engine was given. Its ink measurement (of the straight image) is not
        kept: the quality estimate measures the given image against the boxes mapped back."""
        alto = alto_to_source(result.alto, self.geometry, result.tree)
        return replace(result, alto=alto, words=words_to_source(result.words, self.geometry),
                       ink=None, steps=result.steps + (STEP_STRAIGHTENED,))


def straightened(reading: Reading, image: Image.Image, degrees: float) -> Straightened:
    """The page turned clockwise by `degrees` (its counter-clockwise skew) about its centre, as
    preprocess.py turns a page for Tesseract, and its lines turned with it. The canvas keeps its
    size unless a turned line would leave it: then it is first widened by as much on every side
    (in the colour of the image's edge), so that no text is cut off."""
    turn = _Turn(image.width, image.height, degrees, 0)
    ends = np.array([pt for line in reading.lines for pt in line.polygon], dtype=np.float64)
    margin = 0
    if len(ends):
        x, y = turn.points(ends)
        margin = max(0, math.ceil(max(-x.min(), -y.min(), x.max() - image.width,
                                      y.max() - image.height)))
    if margin:
        turn = _Turn(image.width + 2 * margin, image.height + 2 * margin, degrees, margin)
    edge = _edge_colour(image)
    source = image
    if margin:
        source = Image.new(image.mode, (image.width + 2 * margin, image.height + 2 * margin), edge)
        source.paste(image, (margin, margin))
    # Bilinear: nothing is read on the turned page again (its ink, figures and the layout model
    # are), and it takes half bicubic's time (A4 at 300 dpi: 0.17 against 0.39 CPU s with the
    # lines turned, measured on six pages turned 2.5°).
    straight = source.rotate(-degrees, resample=Image.Resampling.BILINEAR, fillcolor=edge)
    lines = tuple(turn.line(line) for line in reading.lines)
    geometry = PageGeometry(image.size, straight.size, degrees, margin=margin)
    return Straightened(replace(reading, lines=lines, width=straight.width,
                                height=straight.height, ink=None),
                        straight, geometry, degrees)


def _edge_colour(image: Image.Image) -> int | tuple[int, ...]:
    """The median colour of the image's outermost rows and columns: the paper round the page
    (or the scan's border), for the corners the turn uncovers."""
    px = np.asarray(image)
    border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])
    median = np.median(border, axis=0)
    if np.ndim(median) == 0:
        return int(median)
    return tuple(int(v) for v in median)


@dataclass(frozen=True)
class _Turn:
    """Points of the image the engine was given, in the straight frame: shifted by `margin`,
    then turned clockwise by `degrees` about the centre of a `width` x `height` canvas (as
    Pillow's rotate, and as PageGeometry.to_source undoes)."""

    width: int
    height: int
    degrees: float
    margin: int

    def points(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = math.radians(self.degrees)
        cx, cy = self.width / 2.0, self.height / 2.0
        dx, dy = pts[:, 0] + self.margin - cx, pts[:, 1] + self.margin - cy
        return (cx + dx * math.cos(a) - dy * math.sin(a),
                cy + dx * math.sin(a) + dy * math.cos(a))

    def line(self, line: OcrLine) -> OcrLine:
        """The line's polygon turned (its corners' order kept), its box the rectangle round the
        turned polygon, its characters' boxes `box`."""
        x, y = self.points(np.array(line.polygon, dtype=np.float64))
        polygon = tuple((int(round(px)), int(round(py))) for px, py in zip(x, y))
        box = (int(math.floor(x.min())), int(math.floor(y.min())), int(math.ceil(x.max())),
               int(math.ceil(y.max())))
        glyphs = tuple(replace(g, box=self.box(g.box)) for g in line.glyphs)
        return replace(line, box=box, polygon=polygon, glyphs=glyphs)

    def box(self, box: Box) -> Box:
        """An upright box round a character turned `degrees` on the page, as the upright box
        of that character in the straight frame: the box's centre turned, and the rectangle
        whose turned copy the box holds (w cos + h sin = W, w sin + h cos = H)."""
        left, top, right, bottom = box
        width, height = right - left, bottom - top
        c, s = math.cos(math.radians(self.degrees)), abs(math.sin(math.radians(self.degrees)))
        det = c * c - s * s
        w = (width * c - height * s) / det if det > 0.1 else width
        h = (height * c - width * s) / det if det > 0.1 else height
        # A character box much longer one way than the other (a dash, a dot) can come out
        # thinner than a pixel: it keeps one.
        w, h = max(1.0, w), max(1.0, h)
        x, y = self.points(np.array([[(left + right) / 2.0, (top + bottom) / 2.0]]))
        cx, cy = float(x[0]), float(y[0])
        return (int(math.floor(cx - w / 2)), int(math.floor(cy - h / 2)),
                int(math.ceil(cx + w / 2)), int(math.ceil(cy + h / 2)))


