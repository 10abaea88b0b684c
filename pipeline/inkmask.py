"""Ink masks: binarisation by hysteresis over a Sauvola threshold, and speck removal.

Part of the page clean-up (preprocess.py). Both work on 8-bit grey and boolean numpy arrays:
a 300-dpi page is millions of pixels, so every pass is a whole-array numpy operation or a
Pillow filter, and the windowed statistics are taken on a reduced copy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

Gray = npt.NDArray[np.uint8]  # one channel, paper near 255, ink near 0
Mask = npt.NDArray[np.bool_]  # True where there is ink

# Tonal settings on the flattened and stretched page (ink 0, paper 255), tuned on the benchmark
# pages (benchmarks/README.md). Sizes are pixels at 300 dpi and scale with the dpi.
STRONG_INK = 128  # certainly ink: below mid-grey (and below the local Sauvola threshold)
_WEAK = 179  # possibly ink (below 0.7 of white): kept only within _GROW_PX of certain ink
_GROW_PX = 2
_SQUARE_LUT = [round(v * v / 255) for v in range(256)]  # 8-bit grey -> its square, for Sauvola


def binarize(gray: Gray, scale: float = 1.0) -> Mask:
    """Ink mask by hysteresis over a Sauvola threshold.

    Strong ink: darker than the local Sauvola threshold and than mid-grey. Weak ink: anything up
    to light grey, kept only where it touches strong ink. The weak pixels restore the full stroke
    weight of serif (宋体) faces, whose thin horizontals a mid-grey threshold erodes (clean page:
    2.7% CER thresholded at mid-grey, 1.3% with the light-grey edge); faint bleed-through, stains
    and paper texture that never reach ink darkness touch no strong pixel and are dropped.
    """
    window = max(15, int(round(41 * scale)) | 1)  # about one character at 300 dpi
    strong = (gray < _sauvola(gray, window)) & (gray < STRONG_INK)
    weak = gray < _WEAK
    grown = strong
    for _ in range(max(1, round(_GROW_PX * scale))):
        grown = _dilate3(grown) & weak
    return grown


def _sauvola(gray: Gray, window: int) -> Gray:
    """Sauvola's threshold (k=0.2, R=0.5 of the range) over `window`-pixel squares, 8-bit.

    A low-contrast window (blank paper, a stain) gets a threshold well below its mean, so its
    texture does not become ink. The local mean and deviation over a character-sized window vary
    slowly, so they are computed on a copy reduced 4x (1/16 of the pixels) and each value covers
    its 4x4 block: the threshold moves by a grey level or two at block edges, no more.
    """
    factor = 4
    image = Image.fromarray(gray, "L")
    radius = max(1, window // (2 * factor))
    mean = _box_mean(image.reduce(factor), radius)
    mean_sq = _box_mean(image.point(_SQUARE_LUT).reduce(factor), radius)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    small = np.clip(mean * (1.0 + 0.2 * (std / 0.5 - 1.0)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    full = np.repeat(np.repeat(small, factor, axis=0), factor, axis=1)
    return full[:gray.shape[0], :gray.shape[1]]


def _box_mean(image: Image.Image, radius: int) -> npt.NDArray[np.float32]:
    blurred = image.filter(ImageFilter.BoxBlur(radius))
    return np.asarray(blurred, dtype=np.float32) / 255.0


def _dilate3(mask: Mask) -> Mask:
    padded = np.pad(mask, 1)
    rows = padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]
    return rows[:-2] | rows[1:-1] | rows[2:]


def despeckle(ink: Mask, scale: float = 1.0) -> Mask:
    """Remove isolated specks: small ink blobs with a ring of clear paper around them.

    At 300 dpi noise on a scanned page is under 20 px of area (measured: 420 such blobs on a
    noisy page, none on a clean one), while the dots of 氵 and 讠 and the punctuation 、，。 are
    20-80 px or touch their character, so they stay. A blob goes when it fits in a 5x5 box,
    or holds at most 16 px in a 9x9 box (dust streaks), with 2 px of paper all round. Box
    counts keep this O(pixels) without labelling connected components.
    """
    ring = max(2, int(round(2 * scale)))
    for box, max_area in ((5, 25), (9, 16)):
        inner = max(3, int(round(box * scale)) | 1)
        count_inner = _box_count(ink, inner)
        count_outer = _box_count(ink, inner + 2 * ring)
        # A position whose inner box holds all the ink of the box around it, and little of it,
        # sees an isolated speck.
        isolated = ((count_inner > 0) & (count_inner == count_outer)
                    & (count_inner <= max_area * scale * scale))
        if isolated.any():
            ink = ink & ~_box_any(isolated, inner)  # clear the inner box around each
    return ink


def _box_count(mask: Mask, size: int) -> npt.NDArray[np.uint16]:
    """Ink pixels in the size x size box centred on each pixel (size odd), exactly.

    Sums of shifted slices, rows then columns: for these small boxes cheaper than a box blur or
    an integral image (each pass is a few ms on a 300-dpi page)."""
    dtype = np.uint8 if size * size <= 255 else np.uint16
    radius = size // 2
    padded = np.pad(mask.astype(dtype), radius)
    height, width = mask.shape
    rows = padded[:, :width].copy()
    for k in range(1, size):
        rows += padded[:, k:k + width]
    out = rows[:height].copy()
    for k in range(1, size):
        out += rows[k:k + height]
    return out


def _box_any(mask: Mask, size: int) -> Mask:
    """True where the size x size box centred on the pixel holds any True (a dilation)."""
    radius = size // 2
    padded = np.pad(mask, radius)
    height, width = mask.shape
    rows = padded[:, :width].copy()
    for k in range(1, size):
        rows |= padded[:, k:k + width]
    out = rows[:height].copy()
    for k in range(1, size):
        out |= rows[k:k + height]
    return out
