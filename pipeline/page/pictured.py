"""Text set in a picture placed on the page: a logo, a diagram or a title pasted in as an image.

An engine reads the words in a picture as it reads the page's own lines, but they are the
picture's, not the page's text (a slide's logo on every slide, a diagram's labels). What tells
them apart is how their ink was put on the page: the page's type is drawn at the page's
resolution, while a picture was made at its own and scaled to fit, which softens its edges.
Measured across each line, the width over which the grey rises from ink to paper (the rise of a
run of steps in one direction over its steepest step: 1 for a step one pixel wide) is the same
for every line of type on a page, and wider for a picture's text.

Measured on the lines PP-OCR reads on ../shared/realpages (benchmarks/README.md, "Session 18,
text set in pictures"): the median width of a line's edges, over the page's (the median of its
lines, weighed by their edges), was at most 1.14 on every line of type of the 79 images (digits,
the small notes of a classical page), and 1.23-3.57 on the text of pictures at 300 dpi (a slide
deck's logos, a layered diagram, a raster title, plot labels). At 150 dpi a picture is scaled
less, and its text measured 1.14-2.23. Blur widens a bold stroke's edges more than a thin one's,
whose ink never reaches full black; only edges rising over most of the line's contrast are
measured, so that a bold heading on a blurred page measures as its body. Grain and a JPEG's
ringing make single lines' edges measure anywhere up to 1.8 times the page's: the rule holds only
where the type is sharp and the paper between the characters flat, as on a page made digitally
(what it was measured on); on a scanned page every line stays the page's, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from .pagelook import weighted_median

Box = tuple[int, int, int, int]

# A line whose edges are this much wider than the page's is a picture's: 1.14 is the widest
# measured on the page's own type, 1.23 the narrowest on a picture's text at 300 dpi.
PICTURE_EDGES = 1.2
# The paper around the type is flat when at least this share of its neighbouring pixels differ by
# at most a grey level: 0.86-0.99 on the 79 real images as they are, 0.12-0.15 made to look
# scanned (noise, blur, yellowed paper: --degrade c), 0.30-0.80 at 150 dpi as JPEG q40 (d).
FLAT_GROUND = 0.83
# The page's type is drawn sharp when its edges' median width is at most this: 1.34-1.52 on the
# 79 real images as they are; blurred by 0.5 pixel (Gaussian sigma) 1.53-1.77, by 0.7 1.75-2.03.
SHARP_TYPE = 1.6
# Type whose edges are narrower than this is drawn in single steps of grey, without the shading of
# an anti-aliased edge: a page made black and white, or whitened around its ink (show-through taken
# off, pipeline/page/bleed.py: 1.0, where the grey lines kept beside it measured 1.4). Nothing on
# such a page measures how its pictures were scaled.
STEPPED_TYPE = 1.2
# The paper test reads every this many rows of the lines' boxes (a share sampled from hundreds of
# thousands of pixel pairs a page: on the 79 real images within 0.015 of all rows').
_GROUND_ROWS = 4
# Pixels within this share of the contrast from the paper's grey are paper.
_PAPER = 0.15
# Edges a line needs for its width to be judged (one character has 40-100): a line of one or two
# small characters is too few to tell (a plot's tick labels are found by pipeline.page.figures).
_MIN_EDGES = 100
# A step of grey counts when it is at least this share of the line's contrast, and a run of steps
# is an edge when it rises by at least _EDGE_RISE of it: smaller runs are texture, halftone, noise
# and the sides of strokes too thin to reach full ink (with half of it, blurred bold headings
# measured as pictures: luatexcn_doc_p50 at 150 dpi, blurred by 0.7 pixel).
_STEP = 0.08
_EDGE_RISE = 0.7
# Lines whose ink and paper differ by less than this many grey levels are not measured: the
# edge's steps drown in the paper's grain.
_MIN_CONTRAST = 40


def pictured_lines(image: Image.Image, boxes: Sequence[Box]) -> tuple[bool, ...]:
    """For each line box on `image`, whether its text is set in a picture (module doc)."""
    return tuple(r is not None and r >= PICTURE_EDGES for r in edge_ratios(image, boxes))


def edge_ratios(image: Image.Image, boxes: Sequence[Box]) -> tuple[float | None, ...]:
    """For each line box on `image`, the median width of its edges over the page's (None: not
    measured; all None where the paper around the type is not flat, FLAT_GROUND, or the type is
    not sharp, SHARP_TYPE, or drawn in steps, STEPPED_TYPE)."""
    grey = np.asarray(image.convert("L"))
    pixels = [grey[max(0, top):max(0, bottom), max(0, left):max(0, right)]
              for left, top, right, bottom in boxes]
    # The paper is judged on every _GROUND_ROWS-th row of the lines: most pages scanned, and
    # turned away here, pay a quarter of it.
    if _flat_ground([_Crop(p[::_GROUND_ROWS]) for p in pixels]) < FLAT_GROUND:
        return tuple(None for _ in boxes)
    crops = [_Crop(p) for p in pixels]
    measured = [_line_edges(crop) for crop in crops]
    lines = [m for m in measured if m is not None]
    page = weighted_median([r for r, _ in lines], [n for _, n in lines])
    if page is None or not STEPPED_TYPE <= page <= SHARP_TYPE:
        return tuple(None for _ in boxes)
    return tuple(None if m is None else m[0] / page for m in measured)


class _Crop:
    """A line's pixels (grey, as floats) and its grey levels: ink (the 3rd percentile), the
    median and paper (the 97th; for light text on a dark ground the two are the other way
    round)."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels.astype(np.float32)
        low, middle, high = (np.percentile(self.pixels, (3, 50, 97)) if pixels.size
                             else (0.0, 0.0, 0.0))
        self.low, self.middle, self.high = float(low), float(middle), float(high)

    @property
    def contrast(self) -> float:
        return self.high - self.low


def _flat_ground(crops: Sequence[_Crop]) -> float:
    """The share of neighbouring pixel pairs of paper in the lines' crops that differ by at
    most one grey level (0 when there is no paper to look at)."""
    flat = pairs = 0
    for crop in crops:
        pixels = crop.pixels
        if pixels.shape[0] == 0 or pixels.shape[1] < 2 or crop.contrast < _MIN_CONTRAST:
            continue
        # The paper is the side of the grey most pixels are on: light text on dark too.
        paper = crop.high if crop.middle > (crop.low + crop.high) / 2 else crop.low
        near = np.abs(pixels - paper) <= _PAPER * crop.contrast
        both = near[:, 1:] & near[:, :-1]
        steps = np.abs(np.diff(pixels, axis=1))[both]
        flat += int((steps <= 1).sum())
        pairs += steps.size
    return flat / pairs if pairs else 0.0


def _line_edges(crop: _Crop) -> tuple[float, int] | None:
    """The median width of the edges in a line's crop and how many there are (None: too few,
    or too little contrast to measure)."""
    if crop.pixels.size == 0 or crop.contrast < _MIN_CONTRAST:
        return None
    widths = np.concatenate((_edge_widths(crop.pixels, crop.contrast),
                             _edge_widths(crop.pixels.T, crop.contrast)))
    if len(widths) < _MIN_EDGES:
        return None
    return float(np.median(widths)), len(widths)


def _edge_widths(grey: np.ndarray, contrast: float) -> np.ndarray:
    """The widths of the edges met along the rows of `grey`: each run of steps in one direction
    rising by at least _EDGE_RISE of the contrast, as its rise over its steepest step."""
    steps = np.diff(grey, axis=1)
    if steps.shape[1] == 0:
        return np.zeros(0)
    # A zero column after each row keeps a run from reaching into the next row.
    steps = np.hstack((steps, np.zeros((steps.shape[0], 1), dtype=steps.dtype))).ravel()
    sense = np.where(steps > _STEP * contrast, 1, np.where(steps < -_STEP * contrast, -1, 0))
    starts = np.flatnonzero(np.diff(sense, prepend=0) != 0)
    size = np.abs(steps)
    rise = np.add.reduceat(size, starts)
    steepest = np.maximum.reduceat(size, starts)
    edge = (sense[starts] != 0) & (rise >= _EDGE_RISE * contrast)
    widths: np.ndarray = rise[edge] / steepest[edge]
    return widths

