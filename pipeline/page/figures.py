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
and flow diagrams are not. On a page scanned askew the rules are also looked for along its skew
(measured on the ink of the text lines, skew.estimate_skew): benchmarks/README.md,
"Session 12: tables scanned askew".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from .skew import DEFAULT_MAX_SKEW, estimate_skew

Box = tuple[int, int, int, int]

_WORK_CHAR = 16.0  # pixels per character height in the working copy
_MIN_FIGURE = 4.0  # a figure is at least this many characters wide and high
_RULE = 2.0  # straight runs of ink this many characters long are rules, not graphics
_WINDOW = 3.0  # adaptive threshold window, in characters: ink is darker than its surroundings
_INK_OFFSET = 15  # grey levels below the window's mean
_DRIFT = 0.5  # pixels a rule may drift off a row over a rule's length and stay one run


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
    boxes = [(slice(max(0, int(top * scale)), int(bottom * scale) + 1),
              slice(max(0, int(left * scale)), int(right * scale) + 1))
             for left, top, right, bottom in lines]
    text_ink = np.zeros_like(ink)  # the ink of the text lines, whose skew is the page's
    for box in boxes:
        text_ink[box] = ink[box]
    for box in boxes:
        ink[box] = 0
    run = max(3, int(_RULE * char))
    figures = _pieces(ink, _rules(ink, run), char)
    if figures:
        # Askew, a rule a pixel thick breaks into steps shorter than a rule and a ruled table
        # stayed one figure (ccu_thesis_p23 turned 2.5°). When the page's skew moves such a rule
        # _DRIFT pixels or more off a rule's row, a piece stays a figure only where a piece of a
        # figure's size is left of it once the rules along the skew are taken away too (a grid
        # is all rules, a plot keeps its curves), and keeps its box as found: the rules along
        # the skew also take the flat tails of a plot's curves (ccu_thesis_p14's box lost its
        # legend). Under that skew (the real pages as they are: 0-0.1°) nothing changes.
        limit = math.degrees(math.atan(_DRIFT / run))
        skew = estimate_skew(text_ink > 0, DEFAULT_MAX_SKEW, limit)
        if skew:
            rest = _pieces(ink, _rules(ink, run, skew), char)
            figures = [f for f in figures if any(_holds(f, p) for p in rest)]
    return tuple((int(x / scale), int(y / scale), int((x + w) / scale), int((y + h) / scale))
                 for x, y, w, h in figures)


def _rules(ink: np.ndarray, run: int, skew: float = 0.0) -> np.ndarray:
    """The straight runs of `ink` at least `run` pixels long, along the axes turned `skew`
    degrees counter-clockwise."""
    if not skew:
        return _straight(ink, run)
    height, width = ink.shape
    # Turned straight on a canvas that holds all of the page, and the rules found there turned
    # back; bilinear both ways, any share of ink kept, so that a pixel-thick rule stays unbroken
    # (the grey page turned and its ink taken again lost the faint hairlines of ccu_thesis_p23).
    a = math.radians(skew)
    side_w = int(math.ceil(width * abs(math.cos(a)) + height * abs(math.sin(a))))
    side_h = int(math.ceil(width * abs(math.sin(a)) + height * abs(math.cos(a))))
    turn = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), -skew, 1.0)
    turn[0, 2] += (side_w - width) / 2.0
    turn[1, 2] += (side_h - height) / 2.0
    straight = cv2.warpAffine(ink, turn, (side_w, side_h), flags=cv2.INTER_LINEAR)
    rules = _straight((straight > 0).astype(np.uint8) * 255, run)
    back = cv2.warpAffine(rules, cv2.invertAffineTransform(turn), (width, height),
                          flags=cv2.INTER_LINEAR)
    return (back > 0).astype(np.uint8) * 255


def _straight(ink: np.ndarray, run: int) -> np.ndarray:
    """The horizontal and vertical runs of `ink` at least `run` pixels long."""
    return cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))


def _pieces(ink: np.ndarray, rules: np.ndarray, char: float) -> list[tuple[int, int, int, int]]:
    """(left, top, width, height) of the pieces of `ink` left once `rules` are taken away that
    are a figure's size."""
    rest = cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in (stats[n][:4]
            for n in range(1, count)) if w >= _MIN_FIGURE * char and h >= _MIN_FIGURE * char]


def _holds(figure: tuple[int, int, int, int], piece: tuple[int, int, int, int]) -> bool:
    """The middle of `piece` lies inside `figure` (both left, top, width, height)."""
    x, y = piece[0] + piece[2] / 2, piece[1] + piece[3] / 2
    return figure[0] <= x < figure[0] + figure[2] and figure[1] <= y < figure[1] + figure[3]
