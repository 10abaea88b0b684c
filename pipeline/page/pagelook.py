"""What the page image says about how well it can have been read (issue 19): measured on the
scan and the line boxes the engine found, cheaply (tens of milliseconds, at a working scale where
a character is `_WORK_CHAR` pixels high, as pipeline/page/figures.py does).

- `unread_ink`: the share of the page's text-like ink (pieces of ink the size of characters or
  their strokes, not rules, dots or pictures) that lies outside every line the engine read:
  text the engine missed (a column its detector skipped, a table of contents behind dot
  leaders). On the real pages the largest errors are missing text, which neither the engine's
  confidences nor the language of what it read can show.
- `figure_area`: the share of the page covered by plots, photos and drawings (figures.py).
- `dark_area`: the share of the page whose background is dark (text on dark: slides, covers).
- `low_contrast`: 1 - (paper - ink) / 255 inside the lines read.
- `small_text`: how far the characters are below `_GOOD_CHAR` pixels high (150-dpi copies).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from .figures import find_figures
from .signals import SIGNALS

__all__ = ["SIGNALS", "PageInk", "measure", "page_ink"]

Box = tuple[int, int, int, int]

_WORK_CHAR = 16.0  # pixels per character height in the working copy
_WINDOW = 3.0  # adaptive threshold window, in characters
_INK_OFFSET = 15  # grey levels darker (or, on dark ground, lighter) than the window's mean
_DARK = 96  # a background darker than this (mean grey over ~2 characters) is dark
_RULE = 2.0  # straight runs of ink this many characters long are rules
_TEXT_MIN, _TEXT_MAX = 0.3, 2.5  # text-like ink pieces: this many characters across, at most
_MARGIN = 0.3  # a line's box is widened by this many characters when it claims ink
_GOOD_CHAR = 30.0  # characters this many pixels high or more read as well as larger ones


@dataclass(frozen=True)
class PageInk:
    """The page's ink at the working scale, and which of it the read lines cover."""

    pixels: np.ndarray  # the grey page at the working scale
    scale: float  # working pixels per image pixel
    size: float  # the character size, in image pixels (median short side of the line boxes)
    dark: np.ndarray  # where the background is dark
    text_ink: np.ndarray  # text-like ink (not rules, dots or figures)
    covered: np.ndarray  # inside a read line's box, widened by _MARGIN characters
    figure_px: int  # working pixels inside figures
    figures: tuple[Box, ...] = ()  # the page's figures (figures.find_figures), image pixels
    # Working pixels of ink outside every line's box that is not text: rules and pieces larger
    # than _TEXT_MAX characters (frames, plots, photos, drawings, scan borders).
    graphic_px: int = 0
    boxes: tuple[Box, ...] = ()  # the line boxes measured with (those with an area), sorted
    image_size: tuple[int, int] = (0, 0)  # the size of the image measured


def working_grey(image: Image.Image, boxes: Sequence[Box]
                 ) -> tuple[npt.NDArray[Any], float, float]:
    """The page in grey at the working scale (a character `_WORK_CHAR` pixels high, never
    enlarged), the character size in the page's pixels (the median short side of `boxes`, the
    lines' boxes, each with an area) and the scale."""
    size = float(statistics.median(min(b[2] - b[0], b[3] - b[1]) for b in boxes))
    scale = min(1.0, _WORK_CHAR / max(size, 1.0))
    grey = image.convert("L")
    if scale < 1.0:
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.BOX)
    return np.asarray(grey), size, scale


def dark_ink(px: npt.NDArray[Any], char: float) -> npt.NDArray[Any]:
    """Ink darker than its surroundings (255) on a working copy whose characters are `char`
    pixels high: _INK_OFFSET grey levels under the mean of a window _WINDOW characters wide."""
    window = max(3, int(_WINDOW * char) | 1)
    return cv2.adaptiveThreshold(px, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                 window, _INK_OFFSET)


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float | None:
    """The median of `values`, each counted as often as its weight: the lowest value at which
    the weights of it and the values under it reach half of all (None for no values). The
    page's skew from its lines' angles (straighten.py) and its edge width from its lines'
    (pictured.py) are such medians: a long line, or one with many edges, counts for more."""
    if not len(values):
        return None
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    ordered = np.asarray(values, dtype=np.float64)[order]
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    return float(ordered[np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def page_ink(image: Image.Image, boxes: Sequence[Box], known: PageInk | None = None
             ) -> PageInk | None:
    """The page's text-like ink and the lines' cover of it; None without a line to size it.

    `known` is a measurement made before on the page (one engine run measures its page once:
    the missed lines, figures and the quality estimate read it): it is returned as it is when it
    was made on an image of this size with these line boxes (in any order), which give the same
    measurement."""
    boxes = sorted(b for b in boxes if b[2] > b[0] and b[3] > b[1])
    if not boxes:
        return None
    if known is not None and known.image_size == image.size and known.boxes == tuple(boxes):
        return known
    px, size, scale = working_grey(image, boxes)
    h, w = px.shape
    char = size * scale
    k = max(2, int(2 * char))
    means = cv2.blur(px, (k, k))
    dark = means < _DARK
    window = max(3, int(_WINDOW * char) | 1)
    ink = dark_ink(px, char)
    if dark.any():
        light = cv2.adaptiveThreshold(px, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,
                                      window, -_INK_OFFSET)
        ink = np.where(dark, light, ink).astype(np.uint8)
    run = max(3, int(_RULE * char))
    rules = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))
    ink = cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))
    figures = find_figures(image, boxes)
    figure_px = 0
    for f in figures:
        x0, y0, x1, y1 = (int(v * scale) for v in f)
        figure_px += (x1 - x0) * (y1 - y0)
        ink[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    span = np.maximum(stats[:, 2], stats[:, 3])
    textlike = (span >= _TEXT_MIN * char) & (span <= _TEXT_MAX * char)
    textlike[0] = False
    text_ink = textlike[labels]
    covered = np.zeros((h, w), dtype=bool)
    pad = int(_MARGIN * char)
    for b in boxes:
        x0, y0, x1, y1 = (int(v * scale) for v in b)
        covered[max(0, y0 - pad):y1 + pad + 1, max(0, x0 - pad):x1 + pad + 1] = True
    larger = span > _TEXT_MAX * char
    larger[0] = False
    graphic_px = int(((rules > 0) | larger[labels])[~covered].sum()) + figure_px
    return PageInk(px, scale, size, dark, text_ink, covered, figure_px, figures, graphic_px,
                   tuple(boxes), image.size)


def measure(image: Image.Image, boxes: Sequence[Box], known: PageInk | None = None
            ) -> tuple[float, ...]:
    """The SIGNALS of a page image whose read lines have `boxes` (in `image` pixels), from
    `known` where it measured the same (`page_ink`)."""
    found = page_ink(image, boxes, known)
    if found is None:
        return (0.0,) * len(SIGNALS)
    px, text_ink, covered, dark = found.pixels, found.text_ink, found.covered, found.dark
    h, w = px.shape
    size, figure_px = found.size, found.figure_px
    total = int(text_ink.sum())
    unread = float((text_ink & ~covered).sum()) / total if total else 0.0
    ink_in = text_ink & covered
    near_ink = cv2.dilate(ink_in.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    paper_in = covered & ~near_ink
    contrast = (abs(float(np.median(px[paper_in])) - float(np.median(px[ink_in])))
                if ink_in.any() and paper_in.any() else 255.0)
    return (round(unread, 4), round(figure_px / max(1, h * w), 4),
            round(float(dark.mean()), 4), round(max(0.0, 1 - contrast / 255), 4),
            round(max(0.0, 1 - size / _GOOD_CHAR), 4))
