"""The skew of a page's text, from its ink: projection-profile sharpness (`estimate_skew`).

preprocess.py turns a page scanned askew straight with it before Tesseract reads it; figures.py
looks for a table's rules along it on a page PP-OCR reads as it lies.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .inkmask import Box, Mask

DEFAULT_MAX_SKEW = 15.0  # degrees either way; beyond that it is a rotation, not a skew
# Skew search: the window tried first, and how much its best angle must outscore its worst.
_NEAR_SKEW = 2.0
_SHARP_PEAK = 1.2
# A skew measured otherwise is refined within this many degrees of it (`around`): the polygons of
# short lines (a contents page's titles, 2-4 characters) measured up to 0.7° short of the skew of
# pages turned 2.5° (benchmarks/README.md, "Session 16, pages scanned askew"), and up to 1.14°
# short on the same pages made to look scanned (noise and blur: cy_gazette_p2's titles under
# `--degrade e` measured 1.36°); never past it by more than 0.44° (`_near` looks further out
# than the window, never further in; "Session 17, real pages made to look scanned").
_AROUND = 1.0
# A peak lies at least this many 0.1° steps inside the window: the scores fall on both sides.
_PEAK_STEPS = 2


def estimate_skew(ink: Mask, max_degrees: float = DEFAULT_MAX_SKEW, min_degrees: float = 0.0,
                  box: Box | None = None, around: float | None = None) -> float:
    """Counter-clockwise skew of the text in degrees, from projection-profile sharpness; 0.0
    when the coarse search puts it under `min_degrees` (the caller would not turn the page).

    Text lines (or, on vertical pages, columns) project into sharp peaks only when the page is
    straight. Both projections are scored, so the same code serves horizontal and vertical text.
    A coarse search (0.5° steps, 4-px bins, 15,000 ink pixels; within ±2° first, the whole range
    when that finds no clear peak) is refined in 0.1° and then 0.05° steps with 1-px bins on at
    most 60,000 ink pixels. `box`, the (left, top, width, height) of the ink when the caller
    has it, spares reading the page beyond it.

    `around`: a skew the caller measured otherwise (PP-OCR's line polygons, straighten.py). No
    coarse search then: the projection's peak near it (`_near`).
    """
    left, top, width, height = box or (0, 0, ink.shape[1], ink.shape[0])
    # The ink pixels as flat indices, split into rows and columns only for those sampled: 2 ms
    # a page, where np.nonzero took 13 and OpenCV's findNonZero 5 (the same pixels, same order:
    # row by row, within the box as on the page).
    flat = np.flatnonzero(ink[top:top + height, left:left + width])
    if flat.size < 200:
        return 0.0 if around is None else around
    rng = np.random.default_rng(0)  # fixed seed: the same page always gets the same angle
    if flat.size > 60_000:
        flat = flat[rng.choice(flat.size, 60_000, replace=False)]
    ys, xs = np.divmod(flat, width)
    ys += top
    xs += left
    y = ys.astype(np.float32) - np.float32(ys.mean())
    x = xs.astype(np.float32) - np.float32(xs.mean())
    few = slice(0, 15_000)  # already a random order: the first 15,000 are a random sample

    def score(degrees: float, bin_px: float, part: slice = slice(None)) -> float:
        a = math.radians(degrees)
        c, s = np.float32(math.cos(a) / bin_px), np.float32(math.sin(a) / bin_px)
        # Coordinates in a frame turned by `degrees`: a text line skewed counter-clockwise by
        # that angle runs along constant `along_rows`.
        total = 0.0
        for coord in (y[part] * c + x[part] * s, x[part] * c - y[part] * s):
            hist = np.bincount((coord - coord.min()).astype(np.int32))
            total += float(np.dot(hist, hist))
        return total

    def best_of(angles: npt.NDArray[np.float64], bin_px: float, part: slice = slice(None)) -> float:
        return float(angles[int(np.argmax([score(d, bin_px, part) for d in angles]))])

    if around is not None:
        found, outward = _near(score, around)
        if found is not None or not outward:
            return around if found is None else found
    # Most scans are straight within a degree or two: look there first (9 angles). The wide
    # search (61) runs only when that peak is at the window's edge or hardly stands out: on the
    # benchmark pages the best angle within ±2° scored 1.46-1.60 times the worst, on the same
    # page turned 5-15° 1.01-1.04 times (any angle there smears every line alike).
    near = min(_NEAR_SKEW, max_degrees)
    angles = np.arange(-near, near + 1e-9, 0.5)
    scores = [score(d, 4.0, few) for d in angles]
    peak = int(np.argmax(scores))
    if 0 < peak < len(angles) - 1 and scores[peak] >= _SHARP_PEAK * min(scores):
        best = float(angles[peak])
    else:
        best = best_of(np.arange(-max_degrees, max_degrees + 1e-9, 0.5), 4.0, few)
    if abs(best) < min_degrees:
        # The refinement (10 ms a page) would only tell how little: 0.5° from the coarse search
        # is a skew of ~0.25-0.75°, which Tesseract reads as well unturned.
        return 0.0
    angles = np.arange(best - 0.6, best + 0.6 + 1e-9, 0.1)
    scores = [score(d, 1.0) for d in angles]
    peak = int(np.argmax(scores))
    best = float(angles[peak])
    # The middle of the last three was scored just now.
    last = np.array([best - 0.05, best, best + 0.05])
    best = float(last[int(np.argmax([score(last[0], 1.0), scores[peak], score(last[2], 1.0)]))])
    if around is not None and best * around <= around * around:
        return around  # the whole range's peak lies no further from straight than `around`
    return best


def _near(score: Callable[[float, float], float], around: float) -> tuple[float | None, bool]:
    """The projection's peak within _AROUND of `around` (`score`: its sharpness at an angle, in
    bins of so many pixels), in 0.1° and 0.05° steps; None when it has none there, and whether
    its best then lies at the window's outer edge (further from straight than `around`).

    A best angle at the window's edge, or a step in from it, is no peak of the text's own (a
    slope's bump: ali_slides_p1 turned 2.5° peaked at 0.6° and gave 1.51° from its polygons'
    2.46°). At the outer edge, though, it can be the text's: the polygons of short lines lie
    short of the page's skew, not past it (_AROUND). The caller then takes the peak of the
    whole range where it lies further out than `around`, and `around` where it does not (a
    contents page turned 2.5° and given 6°: a bump at 7.2° from its dot leaders is no peak of
    the whole range)."""
    angles = np.arange(around - _AROUND, around + _AROUND + 1e-9, 0.1)
    scores = [score(d, 1.0) for d in angles]
    peak = int(np.argmax(scores))
    if not _PEAK_STEPS <= peak < len(angles) - _PEAK_STEPS:
        outer = peak >= len(angles) - _PEAK_STEPS if around > 0 else peak < _PEAK_STEPS
        return None, bool(around) and outer
    best = float(angles[peak])
    last = np.array([best - 0.05, best, best + 0.05])
    return float(last[int(np.argmax([score(last[0], 1.0), scores[peak],
                                     score(last[2], 1.0)]))]), False
