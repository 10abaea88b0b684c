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

import functools
import math
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
Box = tuple[int, int, int, int]  # left, top, width, height, as cv2.boundingRect gives them

# Tonal settings on the flattened and stretched page (ink 0, paper 255), tuned on the benchmark
# pages (benchmarks/README.md). Sizes are pixels at 300 dpi and scale with the dpi.
STRONG_INK = 128  # certainly ink: below mid-grey (and below the local Sauvola threshold)
_WEAK = 179  # possibly ink (below 0.7 of white): kept only within _GROW_PX of certain ink
_GROW_PX = 2
# 8-bit grey -> its square, for Sauvola
_SQUARE_LUT = np.array([round(v * v / 255) for v in range(256)], dtype=np.uint8)
_SQUARE3 = np.ones((3, 3), np.uint8)  # the 8 neighbours, for growing a mask by a pixel


def binarize(gray: Gray, scale: float = 1.0,
             dark_box: Box | None = None) -> Mask:
    """Ink mask by hysteresis over a Sauvola threshold.

    Strong ink: darker than the local Sauvola threshold and than mid-grey. Weak ink: anything up
    to light grey, kept only where it touches strong ink. The weak pixels restore the full stroke
    weight of serif (宋体) faces, whose thin horizontals a mid-grey threshold erodes (clean page:
    2.7% CER thresholded at mid-grey, 1.3% with the light-grey edge); faint bleed-through, stains
    and paper texture that never reach ink darkness touch no strong pixel and are dropped.

    Only the box around the pixels darker than mid-grey is worked on: strong ink is darker than
    that, and weak ink is kept only within a few pixels of strong ink, so beyond that box (and
    those few pixels) the mask is paper whatever the threshold says. On the benchmark pages the
    box is 0.42 of the page, and the mask cost 10 ms a page instead of 24. `dark_box`, that
    box as cv2.boundingRect gives it, when the caller has it (preprocess.py: the skew search
    needs the same pixels).
    """
    out = np.zeros_like(gray)
    found = _binarize_region(gray, scale, dark_box)
    if found is not None:
        out[found[1], found[2]] = found[0]
    return _as_mask(out)


def _binarize_region(gray: Gray, scale: float, dark_box: Box | None
                     ) -> tuple[npt.NDArray[np.uint8], slice, slice] | None:
    """`binarize` (0/1) for the rows and columns beyond which it is all paper; None: no ink."""
    window = max(15, int(round(41 * scale)) | 1)  # about one character at 300 dpi
    grow = max(1, round(_GROW_PX * scale))
    height, width = gray.shape
    if dark_box is None:
        _, dark = cv2.threshold(gray, STRONG_INK - 1, 1, cv2.THRESH_BINARY_INV)  # 1 below it
        dark_box = bounding_box(as_gray(dark))
    left, top, box_width, box_height = dark_box
    if not box_width:
        return None
    # The Sauvola blocks that hold the box, in pixels (whole blocks, the last one maybe partial).
    bottom = min(height, -(-(top + box_height) // _BLOCK) * _BLOCK)
    right = min(width, -(-(left + box_width) // _BLOCK) * _BLOCK)
    top, left = top - top % _BLOCK, left - left % _BLOCK
    # One comparison: below the threshold capped at mid-grey is below both.
    strong_box = _sauvola(gray, window, cap=STRONG_INK, area=(top, bottom, left, right))
    cv2.compare(gray[top:bottom, left:right], strong_box, cv2.CMP_LT,
                dst=strong_box)  # 255 where strong ink
    # The hysteresis on the blocks and the pixels weak ink may grow into around them.
    rows = slice(max(0, top - grow), min(height, bottom + grow))
    cols = slice(max(0, left - grow), min(width, right + grow))
    strong = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.uint8)
    strong[top - rows.start:bottom - rows.start, left - cols.start:right - cols.start] = strong_box
    _, weak = cv2.threshold(gray[rows, cols], _WEAK - 1, 1, cv2.THRESH_BINARY_INV)  # 1 below _WEAK
    grown, spare = strong, None
    for _ in range(grow):
        dilated = as_gray(cv2.dilate(grown, _SQUARE3, dst=spare))
        cv2.bitwise_and(dilated, weak, dst=dilated)  # 0/1 from here
        grown, spare = dilated, grown
    return grown, rows, cols


def ink_page(gray: Gray, scale: float = 1.0, dark_box: Box | None = None,
             clean: bool = True) -> tuple[Gray, Box | None]:
    """The page of `despeckle(binarize(gray, scale, dark_box), scale)` (without the despeckling
    when not `clean`), ink 0 on paper 255, and a (left, top, width, height) box holding all its
    ink, perhaps a few specks' more (None without ink). Worked out around the ink only: the
    page-sized masks in between (a zeroed page, a copy, two scans for the ink's box: ~4 ms a
    page) are never made."""
    page = np.full(gray.shape, 255, np.uint8)
    found = _binarize_region(gray, scale, dark_box)
    if found is None:
        return page, None
    grown, rows, cols = found
    left, top, width, height = bounding_box(grown)
    if not width:
        return page, None
    left, top = left + cols.start, top + rows.start
    mask = grown
    if clean:
        # What despeckle reads of the whole mask: the ink's box and the boxes' reach around it.
        reach = max(outer for _, outer, _ in _despeckle_boxes(scale)) // 2
        near_top, near_left = max(0, top - reach), max(0, left - reach)
        near_rows = slice(near_top, min(gray.shape[0], near_top + height + 2 * reach))
        near_cols = slice(near_left, min(gray.shape[1], near_left + width + 2 * reach))
        near = np.zeros((near_rows.stop - near_top, near_cols.stop - near_left), np.uint8)
        y0, y1 = max(rows.start, near_top), min(rows.stop, near_rows.stop)
        x0, x1 = max(cols.start, near_left), min(cols.stop, near_cols.stop)
        near[y0 - near_top:y1 - near_top, x0 - near_left:x1 - near_left] = \
            grown[y0 - rows.start:y1 - rows.start, x0 - cols.start:x1 - cols.start]
        cleaned = _despeckle_region(near, scale)
        mask, rows, cols = (near if cleaned is None else cleaned), near_rows, near_cols
    page[rows, cols] = cv2.threshold(mask, 0, 255, cv2.THRESH_BINARY_INV)[1]
    return page, (left, top, width, height)


_BLOCK = 4  # Sauvola's statistics are taken on a copy reduced this many times


def _sauvola(gray: Gray, window: int, cap: int = 255,
             area: Box | None = None) -> Gray:
    """Sauvola's threshold (k=0.2, R=0.5 of the range) over `window`-pixel squares, 8-bit,
    at most `cap`; for the pixels of `area` (top, bottom, left, right: whole blocks of _BLOCK
    pixels, or up to the page's edge), by default the whole page.

    A low-contrast window (blank paper, a stain) gets a threshold well below its mean, so its
    texture does not become ink. The local mean and deviation over a character-sized window vary
    slowly, so they are computed on a copy reduced 4x (1/16 of the pixels) and each value covers
    its 4x4 block: the threshold moves by a grey level or two at block edges, no more. Only the
    blocks of `area` and those within the window's reach around it are reduced: a window at the
    page's edge repeats the edge, as on the whole page.
    """
    factor = _BLOCK
    height, width = gray.shape
    top, bottom, left, right = area or (0, height, 0, width)
    radius = max(1, window // (2 * factor))
    # The reduced copy's blocks: those of `area`, and `radius` more each side within the page.
    blocks_y, blocks_x = -(-height // factor), -(-width // factor)
    y0, x0 = max(0, top // factor - radius), max(0, left // factor - radius)
    y1 = min(blocks_y, -(-bottom // factor) + radius)
    x1 = min(blocks_x, -(-right // factor) + radius)
    reach = (x0 * factor, y0 * factor, min(width, x1 * factor), min(height, y1 * factor))
    mean = _box_mean(shrink(gray, factor, reach), radius)
    squares = as_gray(cv2.LUT(gray[reach[1]:reach[3], reach[0]:reach[2]], _SQUARE_LUT))
    mean_sq = _box_mean(shrink(squares, factor), radius)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    # Capped here, on 1/16 of the pixels: the cap on the full page took 3 ms.
    small = np.clip(mean * (1.0 + 0.2 * (std / 0.5 - 1.0)) * 255.0 + 0.5, 0, cap).astype(np.uint8)
    small = small[top // factor - y0:-(-bottom // factor) - y0,
                  left // factor - x0:-(-right // factor) - x0]
    # Back to full size, each value over its block (the last blocks may be partial).
    size = (small.shape[1] * factor, small.shape[0] * factor)
    full = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    if full.shape != (bottom - top, right - left):
        full = np.ascontiguousarray(full[:bottom - top, :right - left])
    return np.asarray(full, dtype=np.uint8)


def shrink(gray: Gray, factor: int, box: Box | None = None) -> Gray:
    """The mean of each `factor` x `factor` block; ceil(size / factor) pixels, the last partial.
    Of the (left, top, right, bottom) `box` of `gray` when given (blocks from its corner).

    Pillow's `reduce`, not OpenCV's area resize: it reads the array in place (no padded copy for
    partial blocks) and took 1.5 ms a 300-dpi page at 1/4, OpenCV 2.4 ms (13 ms when the ratio
    is not a whole number).
    """
    return np.asarray(Image.fromarray(gray, "L").reduce(factor, box), dtype=np.uint8)


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
    boxes = _despeckle_boxes(scale)
    # Exact 8-bit sums while the widest box fits (13x13 = 169 pixels), 16-bit beyond: one depth
    # for every pass, since a pass compares its inner counts, perhaps the last pass's outer ones,
    # with its outer counts (chosen pass by pass, 7x7 and 13x13 counts kept in 8 bits met 19x19
    # ones in 16 at 1.37 times 300 dpi, and OpenCV refused to compare them).
    depth = cv2.CV_8U if max(outer for _, outer, _ in boxes) ** 2 <= 255 else cv2.CV_16U
    for inner, outer, max_area in boxes:
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


def bounding_box(mask: npt.NDArray[np.uint8]) -> Box:
    """The box around the nonzero pixels of a 0/1 (or 0/255) mask; width 0 when none."""
    left, top, width, height = cv2.boundingRect(mask)
    return left, top, width, height


def as_gray(values: Any) -> Gray:
    """An OpenCV result as the uint8 array it is (OpenCV's stubs type it as any matrix)."""
    return np.asarray(values, dtype=np.uint8)


def _as_mask(values: npt.NDArray[np.uint8]) -> Mask:
    """A 0/1 uint8 array as a boolean mask, sharing its memory."""
    return values.view(np.bool_)


def blur_ink(page: Gray, sigma: float, box: Box | None) -> Gray:
    """`blur(page, sigma)` of a page that is plain paper (255) outside `box`, the box of its
    ink (None: anywhere), blurred only around the ink.

    Beyond the kernel's reach around the ink every pixel sees nothing but paper, so it gets
    what the blur makes of plain paper; near a cut the repeated edge is paper too. The ink box
    of the benchmark pages is 0.42 of the page: 3 ms instead of 7.
    """
    if box is None:
        return blur(page, sigma)
    height, width = page.shape
    pad = len(_box_blur_kernel(sigma)) // 2 + 1  # one pixel past the reach: sees only paper
    left, top = max(0, box[0] - pad), max(0, box[1] - pad)
    right, bottom = min(width, box[0] + box[2] + pad), min(height, box[1] + box[3] + pad)
    region = blur(page[top:bottom, left:right], sigma)
    if (left, top, right, bottom) == (0, 0, width, height):
        return region
    # A corner of the region on a cut edge lies `pad` from the ink: what plain paper becomes.
    paper = region[0, 0] if top or left else region[-1, -1]
    out = np.full(page.shape, paper, np.uint8)
    out[top:bottom, left:right] = region
    return out


def blur(gray: Gray, sigma: float) -> Gray:
    """Pillow's GaussianBlur(sigma), which the settings were tuned with, as one OpenCV filter.

    Pillow approximates the Gaussian by three box blurs of a fractional radius (Gwosdek et al.
    2011); OpenCV's exact Gaussian of the same sigma puts more weight on the next pixel and less
    on the one beyond, and cost CER on every benchmark condition but g (8 pages each, Pillow ->
    OpenCV: a 0.68% -> 0.85%, b5 0.59% -> 0.93%, c 1.61% -> 1.91%; with this kernel a 0.68%,
    b5 0.68%, c 1.83%). The three boxes as one separable kernel keep OpenCV's speed: 4 ms a
    300-dpi A5 page for sigma 0.6, 7 ms for 1.5, where Pillow took 74 and 75.
    """
    kernel = _box_blur_kernel(sigma)
    # Edge pixels repeat beyond the page, as in Pillow's blur: a mirrored border would fold
    # the ink of the outermost line back onto itself.
    return as_gray(cv2.sepFilter2D(gray, -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE))


@functools.lru_cache(maxsize=16)
def _box_blur_kernel(sigma: float) -> npt.NDArray[np.float32]:
    """The 1-D kernel of three box blurs of Pillow's fractional radius for `sigma`."""
    variance = sigma * sigma / 3  # each of the three passes
    whole = math.floor((math.sqrt(12 * variance + 1) - 1) / 2)
    fraction = ((2 * whole + 1) * (whole * (whole + 1) - 3 * variance)
                / (6 * (variance - (whole + 1) ** 2)))
    box = np.ones(2 * whole + 3)
    box[0] = box[-1] = fraction
    box /= box.sum()
    kernel = np.convolve(np.convolve(box, box), box)
    kernel = kernel[kernel >= 1e-3]  # tails worth under a quarter grey level; symmetric
    return np.asarray(kernel / kernel.sum(), dtype=np.float32)
