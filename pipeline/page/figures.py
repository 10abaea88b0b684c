"""Figures on a page: plots, photos, drawings, whose text an OCR engine reads but the page's
text does not hold (axis ticks, legends, logos inside a photo).

What is left of the page's ink once the text lines and the rules are taken away is graphics:
table and column rules, box frames and underlines are straight runs of ink, removed by a
morphological opening; curves, photos and drawings remain. A remaining connected piece of ink
several characters across in both directions is a figure. Every size is a multiple of the
page's character size (the median height of the engine's lines), and the image is first
scaled so that a character is `_WORK_CHAR` pixels high, which keeps the cost to tens of
milliseconds whatever the scan's resolution.

Measured on ../shared/realpages (benchmarks/README.md, "Reading order"): the plots of the
thesis pages and a logo in a slide are found; ruled tables, ruled vertical pages, boxed notes
and flow diagrams are not.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]

_WORK_CHAR = 16.0  # pixels per character height in the working copy
_MIN_FIGURE = 4.0  # a figure is at least this many characters wide and high
_RULE = 2.0  # straight runs of ink this many characters long are rules, not graphics
_WINDOW = 3.0  # adaptive threshold window, in characters: ink is darker than its surroundings
_INK_OFFSET = 15  # grey levels below the window's mean


def find_figures(image: Image.Image, lines: Sequence[Box]) -> tuple[Box, ...]:
    """Boxes (in `image` pixels) of the figures on a page whose text lines are `lines` (boxes
    without an area left out)."""
    lines = [b for b in lines if b[2] > b[0] and b[3] > b[1]]
    if not lines:
        return ()
    size = float(statistics.median(min(b[2] - b[0], b[3] - b[1]) for b in lines))
    if size <= 0:
        return ()
    scale = min(1.0, _WORK_CHAR / size)
    grey = image.convert("L")
    if scale < 1.0:
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.BOX)
    pixels = np.asarray(grey)
    char = size * scale
    window = max(3, int(_WINDOW * char) | 1)
    ink = cv2.adaptiveThreshold(pixels, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                window, _INK_OFFSET)
    for left, top, right, bottom in lines:
        ink[max(0, int(top * scale)):int(bottom * scale) + 1,
            max(0, int(left * scale)):int(right * scale) + 1] = 0
    run = max(3, int(_RULE * char))
    rules = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))
    ink = cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    figures = []
    for n in range(1, count):
        x, y, w, h = (int(v) for v in stats[n][:4])
        if w >= _MIN_FIGURE * char and h >= _MIN_FIGURE * char:
            figures.append((int(x / scale), int(y / scale), int((x + w) / scale),
                            int((y + h) / scale)))
    return tuple(figures)
