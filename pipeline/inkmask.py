"""Ink masks: binarisation by hysteresis over a Sauvola threshold, and speck removal.

Part of the page clean-up (preprocess.py). Both work on 8-bit grey and on masks, with OpenCV
doing the per-pixel passes: a 300-dpi page is millions of pixels, and OpenCV's box filters,
dilations and comparisons take 0.2-5 ms a pass where numpy's shifted-slice sums took 5-15 ms.
The windowed statistics are taken on a reduced copy. Internally a mask is uint8 0/1, which
views as a boolean array without a copy; the public functions take and return booleans.

Passes write into page-sized buffers already made (`dst=`) where one is free: a new 4 MB array
is often fresh memory the kernel has to fault in (~1,060 page faults, a few ms: more than most
passes cost).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

# Pages are cleaned up in parallel worker processes, one page each: OpenCV's own thread pool
# would only contend with the other workers for the same cores. Process-wide, so once here
# (preprocess.py, the other user of cv2 in the clean-up, imports this module).
cv2.setNumThreads(1)

Gray = npt.NDArray[np.uint8]  # one channel, paper near 255, ink near 0
Mask = npt.NDArray[np.bool_]  # True where there is ink

# Tonal settings on the flattened and stretched page (ink 0, paper 255), tuned on the benchmark
# pages (benchmarks/README.md). Sizes are pixels at 300 dpi and scale with the dpi.
STRONG_INK = 128  # certainly ink: below mid-grey (and below the local Sauvola threshold)
_WEAK = 179  # possibly ink (below 0.7 of white): kept only within _GROW_PX of certain ink
_GROW_PX = 2
# 8-bit grey -> its square, for Sauvola
_SQUARE_LUT = np.array([round(v * v / 255) for v in range(256)], dtype=np.uint8)
_SQUARE3 = np.ones((3, 3), np.uint8)  # the 8 neighbours, for growing a mask by a pixel


def binarize(gray: Gray, scale: float = 1.0) -> Mask:
    """Ink mask by hysteresis over a Sauvola threshold.

    Strong ink: darker than the local Sauvola threshold and than mid-grey. Weak ink: anything up
    to light grey, kept only where it touches strong ink. The weak pixels restore the full stroke
    weight of serif (宋体) faces, whose thin horizontals a mid-grey threshold erodes (clean page:
    2.7% CER thresholded at mid-grey, 1.3% with the light-grey edge); faint bleed-through, stains
    and paper texture that never reach ink darkness touch no strong pixel and are dropped.
    """
    window = max(15, int(round(41 * scale)) | 1)  # about one character at 300 dpi
    # One comparison: below the threshold capped at mid-grey is below both.
    strong = _sauvola(gray, window, cap=STRONG_INK)
    cv2.compare(gray, strong, cv2.CMP_LT, dst=strong)  # 255 where strong ink
    _, weak = cv2.threshold(gray, _WEAK - 1, 1, cv2.THRESH_BINARY_INV)  # 1 below _WEAK
    grown, spare = strong, None
    for _ in range(max(1, round(_GROW_PX * scale))):
        dilated = as_gray(cv2.dilate(grown, _SQUARE3, dst=spare))
        cv2.bitwise_and(dilated, weak, dst=dilated)  # 0/1 from here
        grown, spare = dilated, grown
    return _as_mask(grown)


def _sauvola(gray: Gray, window: int, cap: int = 255) -> Gray:
    """Sauvola's threshold (k=0.2, R=0.5 of the range) over `window`-pixel squares, 8-bit,
    at most `cap`.

    A low-contrast window (blank paper, a stain) gets a threshold well below its mean, so its
    texture does not become ink. The local mean and deviation over a character-sized window vary
    slowly, so they are computed on a copy reduced 4x (1/16 of the pixels) and each value covers
    its 4x4 block: the threshold moves by a grey level or two at block edges, no more.
    """
    factor = 4
    height, width = gray.shape
    radius = max(1, window // (2 * factor))
    mean = _box_mean(shrink(gray, factor), radius)
    squares = as_gray(cv2.LUT(gray, _SQUARE_LUT))
    mean_sq = _box_mean(shrink(squares, factor), radius)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    # Capped here, on 1/16 of the pixels: the cap on the full page took 3 ms.
    small = np.clip(mean * (1.0 + 0.2 * (std / 0.5 - 1.0)) * 255.0 + 0.5, 0, cap).astype(np.uint8)
    # Back to full size, each value over its block (the last blocks may be partial); into the
    # squares' page when the sizes agree, a page of memory not made anew.
    size = (small.shape[1] * factor, small.shape[0] * factor)
    reuse = squares if squares.shape == (size[1], size[0]) else None
    full = cv2.resize(small, size, dst=reuse, interpolation=cv2.INTER_NEAREST)
    if full.shape != gray.shape:
        full = np.ascontiguousarray(full[:height, :width])
    return np.asarray(full, dtype=np.uint8)


def shrink(gray: Gray, factor: int) -> Gray:
    """The mean of each `factor` x `factor` block; ceil(size / factor) pixels, the last partial.

    Pillow's `reduce`, not OpenCV's area resize: it reads the array in place (no padded copy for
    partial blocks) and took 1.5 ms a 300-dpi page at 1/4, OpenCV 2.4 ms (13 ms when the ratio
    is not a whole number).
    """
    return np.asarray(Image.fromarray(gray, "L").reduce(factor), dtype=np.uint8)


def _box_mean(small: Gray, radius: int) -> npt.NDArray[np.float32]:
    # Rounded to 8 bits, as the Pillow box blur the settings were tuned with.
    size = 2 * radius + 1
    mean = cv2.blur(small, (size, size), borderType=cv2.BORDER_REPLICATE)
    return np.asarray(mean, dtype=np.float32) * np.float32(1.0 / 255.0)


def despeckle(ink: Mask, scale: float = 1.0) -> Mask:
    """Remove isolated specks: small ink blobs with a ring of clear paper around them.

    At 300 dpi noise on a scanned page is under 20 px of area (measured: 420 such blobs on a
    noisy page, none on a clean one), while the dots of 氵 and 讠 and the punctuation 、，。 are
    20-80 px or touch their character, so they stay. A blob goes when it fits in a 5x5 box,
    or holds at most 16 px in a 9x9 box (dust streaks), with 2 px of paper all round. Box
    counts keep this O(pixels) without labelling connected components (OpenCV's labelling took
    36 ms a page, the box counts 11-15 ms).

    The counts are taken only over the ink's bounding box and the widest box's reach around it:
    beyond that every count is 0 and nothing can go. The text block of a page with clean margins
    is under half the page (0.42 on the benchmark pages: 8 ms a page instead of 18).
    """
    page = np.ascontiguousarray(ink).view(np.uint8)  # 0/1: the caller's memory, only read
    reach = max(outer for _, outer, _ in _despeckle_boxes(scale)) // 2
    left, top, width, height = cv2.boundingRect(page)
    if not width:
        return _as_mask(page)
    top, left = max(0, top - reach), max(0, left - reach)
    rows = slice(top, min(page.shape[0], top + height + 2 * reach))
    cols = slice(left, min(page.shape[1], left + width + 2 * reach))
    region = _despeckle_region(page[rows, cols], scale)
    if region is None:
        return _as_mask(page)
    out = page.copy()
    out[rows, cols] = region
    return _as_mask(out)


def _despeckle_boxes(scale: float) -> list[tuple[int, int, int]]:
    """(inner box, outer box, largest speck area) of each pass, in pixels at this scale."""
    ring = max(2, int(round(2 * scale)))
    out = []
    for box, max_area in ((5, 25), (9, 16)):
        inner = max(3, int(round(box * scale)) | 1)
        out.append((inner, inner + 2 * ring, int(max_area * scale * scale)))
    return out


def _despeckle_region(mask: npt.NDArray[np.uint8], scale: float) -> npt.NDArray[np.uint8] | None:
    """`despeckle` on a region of the page (paper beyond it): the new mask, None if unchanged."""
    ours = False  # whether `mask` is a copy this function may write
    counts: dict[int, Any] = {}  # box counts of the current mask, by box size
    spare: list[Any] = [None, None]  # page buffers free for reuse
    for inner, outer, max_area in _despeckle_boxes(scale):
        # Exact 8-bit sums while the outer box fits (13x13 = 169 pixels), 16-bit beyond.
        depth = cv2.CV_8U if outer * outer <= 255 else cv2.CV_16U
        for size in (inner, outer):
            if size not in counts:
                counts[size] = _box_count(mask, size, depth, spare.pop() if spare else None)
        # A position whose inner box holds all the ink of the box around it, and little of it,
        # sees an isolated speck. The outer count is kept: the next box may need it as its inner.
        isolated = cv2.compare(counts[inner], counts[outer], cv2.CMP_EQ,
                               dst=spare.pop() if spare else None)
        small = cv2.inRange(counts[inner], 1, max_area, dst=counts.pop(inner))
        cv2.bitwise_and(isolated, small, dst=isolated)
        if cv2.countNonZero(isolated):
            # Clear the inner box around each: 1 - 255 saturates to 0, 1 - 0 stays 1.
            cleared = cv2.dilate(isolated, np.ones((inner, inner), np.uint8), dst=small)
            mask = as_gray(cv2.subtract(mask, cleared, dst=mask if ours else None))
            ours = True
            spare += counts.values()  # counts of the mask before the clearing
            counts.clear()
        spare += [small, isolated]
    return mask if ours else None


def _box_count(mask: npt.NDArray[np.uint8], size: int, depth: int,
               out: Any = None) -> npt.NDArray[np.generic]:
    """Ink pixels in the size x size box centred on each pixel (size odd); paper off the page.

    Written into `out` when it has the right size and type."""
    return np.asarray(cv2.boxFilter(mask, depth, (size, size), dst=out, normalize=False,
                                    borderType=cv2.BORDER_CONSTANT))


def as_gray(values: Any) -> Gray:
    """An OpenCV result as the uint8 array it is (OpenCV's stubs type it as any matrix)."""
    return np.asarray(values, dtype=np.uint8)


def _as_mask(values: npt.NDArray[np.uint8]) -> Mask:
    """A 0/1 uint8 array as a boolean mask, sharing its memory."""
    return values.view(np.bool_)
