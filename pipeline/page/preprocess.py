"""Page-image clean-up before OCR: Pillow reads and hands over the images, OpenCV does the pixels.

Raw Tesseract reads a clean 300-dpi Chinese page well but fails on what real scans of 县志 and
档案 look like: a page skewed by 5° loses a third of its characters, and yellowed, noisy,
low-contrast paper reads at 50-100% CER (measured, benchmarks/README.md). The steps here turn
every such page into the same canonical picture: black, full-weight strokes on white, upright,
at about 300 dpi. Each step can be switched off through `PreprocessOptions` to see what it
contributes.

The order is fixed: seal (red seals over the text lifted: seals.py) -> grayscale -> upscale ->
border -> normalize (flatten the paper) -> denoise -> normalize (stretch the contrast) -> deskew
-> binarize -> despeckle -> orientation -> smooth.
Skew is measured on a quick ink mask, but the rotation is applied to the grey image so the final
threshold sees smooth edges instead of rotated jaggies. Orientation (Tesseract OSD) runs on the
clean binary page, where it is both surer and cheaper.

The per-pixel passes are OpenCV's (single-threaded: see inkmask.py): on a 300-dpi A5 page the
blurs take 3-7 ms where Pillow's took 74-85, the rotation 14 ms against 64-70, the whole chain
~0.1 CPU s against ~0.4 (measured, benchmarks/README.md "Preprocessing with OpenCV"). Pillow
keeps the block means (its `reduce` is faster) and the bicubic upscaling of low-dpi pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from ..config import PREPROCESS_STEPS
from ..errors import UsageError
from .engines import tesseract
from .inkmask import STRONG_INK as _STRONG
from .inkmask import (Box, Gray, binarize, blur_ink, bounding_box, despeckle, ink_page,
                      shrink)
from .inkmask import blur as _blur
from .seals import find_seals, lift_seals
from .skew import DEFAULT_MAX_SKEW, estimate_skew
from .inkmask import as_gray as _gray

# Moved to inkmask and skew; importable from here as before.
__all__ = ["DEFAULT_MAX_SKEW", "binarize", "despeckle", "estimate_skew"]

log = logging.getLogger(__name__)


DEFAULT_TARGET_DPI = 300
# Tesseract's orientation confidence on a 500-px crop of our Chinese pages: 3-8 for horizontal
# text, 2.2-3.4 for vertical text, every answer right. OCRmyPDF's default threshold (14) is
# tuned for whole Latin pages and would turn nothing here.
DEFAULT_OSD_MIN_CONFIDENCE = 1.5
# Upscaling more than this would only magnify blur and cost time; pages below ~100 dpi are not
# worth recognising as text anyway.
_MAX_UPSCALE = 3.0
# OSD sees a square this size (at 300 dpi) from the middle of the text: ~100 characters.
_OSD_CROP = 500
# Tonal settings, on the flattened and stretched [0, 1] image (ink 0, paper 1), tuned on the
# benchmark pages (benchmarks/README.md). Sizes are pixels at 300 dpi and scale with the dpi.
# Skews under a degree are left alone: Tesseract reads such a page at least as well unturned
# (4 pages each, turned 0.3°/0.6°/1.0°, CER deskewed -> not: clean 1.10/1.10/1.10% ->
# 1.02/0.85/1.02%, aged scans 2.29/2.04/1.53% -> 1.53/1.36/1.53%), and the rotation costs
# ~16 ms a page.
_MIN_DESKEW = 1.0
_DENOISE_SIGMA = 0.6  # 1.0 blurred noisy pages into 8% CER, 0.3 left noise: 4%; 0.45-0.6: 2%
_DARK = 90  # a scanner-lid band is darker than 0.35 of white
_SMOOTH_SIGMA = 1.5

# Step names (pipeline.config.PREPROCESS_STEPS), in the order they run; `PreprocessResult.steps`
# lists the ones applied.
STEP_BLEED_THROUGH = "bleed-through"  # PP-OCR's pages only: pipeline/page/bleed.py
STEP_SEAL = "seal"
STEP_GRAYSCALE = "grayscale"
STEP_UPSCALE = "upscale"
STEP_BORDER = "border"
STEP_NORMALIZE = "normalize"
STEP_DENOISE = "denoise"
STEP_DESKEW = "deskew"
STEP_BINARIZE = "binarize"
STEP_DESPECKLE = "despeckle"
STEP_ORIENTATION = "orientation"
STEP_SMOOTH = "smooth"


@dataclass(frozen=True)
class PreprocessOptions:
    """Which clean-up steps run (every one not in `skip`) and their few settings.

    The steps are named in `pipeline.config.PREPROCESS_STEPS`, the one list of them: the CLI's
    --skip choices, Config's check and --no-preprocess (`nothing`) all read it, and `runs`
    refuses a name that is not in it, so a new step cannot be missed by any of them."""

    skip: frozenset[str] = frozenset()
    target_dpi: int = DEFAULT_TARGET_DPI
    max_skew: float = DEFAULT_MAX_SKEW
    osd_min_confidence: float = DEFAULT_OSD_MIN_CONFIDENCE

    def __post_init__(self) -> None:
        unknown = sorted(set(self.skip) - set(PREPROCESS_STEPS))
        if unknown:
            raise UsageError(f"unknown preprocessing step {unknown[0]!r}: "
                             f"steps are {', '.join(PREPROCESS_STEPS)}")

    @classmethod
    def without(cls, *steps: str) -> PreprocessOptions:
        """Every step but `steps`."""
        return cls(skip=frozenset(steps))

    @classmethod
    def nothing(cls) -> PreprocessOptions:
        """No step at all (--no-preprocess)."""
        return cls(skip=frozenset(PREPROCESS_STEPS))

    def runs(self, step: str) -> bool:
        """True when `step` (one of PREPROCESS_STEPS) is on."""
        if step not in PREPROCESS_STEPS:
            raise ValueError(f"{step!r} is not a step of pipeline.config.PREPROCESS_STEPS")
        return step not in self.skip


@dataclass(frozen=True)
class PreprocessResult:
    """The image to hand to Tesseract and what was done to get it."""

    image: Image.Image
    dpi: int  # effective resolution after upscaling
    # Counter-clockwise skew found on the page and undone (0.0 when off or under _MIN_DESKEW).
    skew_degrees: float
    rotation: int  # 0, 90, 180 or 270: clockwise turn applied to make the page upright
    steps: tuple[str, ...]
    # The black-and-white page before the smoothing blur, when there was one: what OSD needs (on
    # the smoothed page its confidence fell from ~4 to ~1, below the threshold).
    sharp: Image.Image | None = None


def preprocess_image(image: Image.Image, source_dpi: int | None,
                     options: PreprocessOptions = PreprocessOptions()) -> PreprocessResult:
    """Clean up one page image for OCR; `source_dpi` None means 'as scanned, unknown'."""
    steps: list[str] = []
    dpi = source_dpi or _image_dpi(image) or options.target_dpi
    if not options.runs(STEP_GRAYSCALE):
        return _geometry_only(image, dpi, options)

    if options.runs(STEP_SEAL):
        seals = find_seals(image)
        if seals:
            image = lift_seals(image, seals)
            steps.append(STEP_SEAL)
    gray = _to_gray(image)
    steps.append(STEP_GRAYSCALE)

    if options.runs(STEP_UPSCALE) and dpi < 0.9 * options.target_dpi:
        factor = min(_MAX_UPSCALE, options.target_dpi / dpi)
        gray = _resize(gray, factor)
        dpi = round(dpi * factor)
        steps.append(STEP_UPSCALE)
    scale = dpi / DEFAULT_TARGET_DPI  # pixel sizes below are tuned at 300 dpi

    if options.runs(STEP_BORDER):
        gray, found = _remove_dark_border(gray)
        if found:
            steps.append(STEP_BORDER)

    if options.runs(STEP_NORMALIZE):
        gray = _flatten(gray, scale)
        steps.append(STEP_NORMALIZE)

    if options.runs(STEP_DENOISE):
        gray = _denoise(gray, scale)
        steps.append(STEP_DENOISE)

    if options.runs(STEP_NORMALIZE):
        # Stretch after denoising: on a noisy page the darkest pixels are noise, not ink.
        gray = _stretch(gray)

    skew = 0.0
    # Where the pixels darker than _STRONG are, while `gray` is as the skew search saw it.
    dark_box: Box | None = None
    if options.runs(STEP_DESKEW):
        dark = gray < _STRONG
        dark_box = bounding_box(dark.view(np.uint8))
        skew = estimate_skew(dark, options.max_skew, _MIN_DESKEW, dark_box)
        if abs(skew) >= _MIN_DESKEW:
            gray, dark_box = _rotate(gray, -skew), None
            steps.append(STEP_DESKEW)
        else:
            skew = 0.0

    if not options.runs(STEP_BINARIZE):
        out, rotation = _upright(Image.fromarray(gray, "L"), options, steps, scale)
        return PreprocessResult(out, dpi, round(skew, 2), rotation, tuple(steps))

    steps.append(STEP_BINARIZE)
    despeckle_on = options.runs(STEP_DESPECKLE)
    if despeckle_on:
        steps.append(STEP_DESPECKLE)
    page, box = ink_page(gray, scale, dark_box, clean=despeckle_on)  # paper 255
    out, rotation = _upright(Image.fromarray(page, "L"), options, steps, scale)

    if options.runs(STEP_SMOOTH):
        # The LSTM was trained on anti-aliased renderings, not on hard 0/255 edges: a light blur
        # brought our clean-page CER down by a third (measured, benchmarks/README.md).
        if rotation:
            page, box = np.asarray(out, dtype=np.uint8), None
        sharp, out = out, Image.fromarray(blur_ink(page, _SMOOTH_SIGMA * scale, box), "L")
        steps.append(STEP_SMOOTH)
        return PreprocessResult(out, dpi, round(skew, 2), rotation, tuple(steps), sharp)
    return PreprocessResult(out, dpi, round(skew, 2), rotation, tuple(steps))


# --- steps -------------------------------------------------------------------------------------
# Every step works on 8-bit grey (numpy uint8) and on boolean masks: a 300-dpi A5 page is 4.3 M
# pixels, and each float32 pass over it (convert, multiply, clip, convert back) cost ~20 ms; the
# float version of this chain took 1.3 CPU s a page, the 8-bit Pillow and numpy one ~0.4 s, this
# one with OpenCV ~0.1 s (benchmarks/README.md, "Preprocessing with OpenCV").

def _image_dpi(image: Image.Image) -> int | None:
    # Scanners write the resolution into TIFF/PNG/JPEG headers; Pillow exposes it as info["dpi"].
    value = image.info.get("dpi")
    if isinstance(value, tuple) and value and isinstance(value[0], (int, float)) and value[0] >= 50:
        return int(round(float(value[0])))
    return None


def _to_gray(image: Image.Image) -> Gray:
    if image.mode in ("RGBA", "LA", "P"):
        # Transparent regions are paper, not black.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    # ITU-R 601 luminance keeps red titles (红头) and blue-black mimeograph ink dark.
    return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)


def _resize(gray: Gray, factor: float) -> Gray:
    # Pillow's bicubic (a = -0.5), not OpenCV's (a = -0.75, sharper): on the 150-dpi benchmark
    # pages (d, 8 pages) OpenCV's took CER from 0.76% to 1.02%. Only low-resolution pages pay it.
    image = Image.fromarray(gray, "L")
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return np.asarray(image.resize(size, Image.Resampling.BICUBIC), dtype=np.uint8)


def _rotate(gray: Gray, degrees: float) -> Gray:
    # Counter-clockwise for positive degrees, about the centre of the canvas, canvas size kept,
    # as Pillow's `rotate` and as geometry.py undoes it; the uncovered corners become paper.
    # OpenCV puts pixel centres on whole numbers, Pillow on halves: the centre is (w-1)/2.
    # The grey page, not the ink mask: rotating the mask (nearest, 10 ms) left b5 at 1.7% CER and
    # e at 2.2%, against 1.0% and 1.7% this way. Bilinear: half the time of bicubic.
    height, width = gray.shape
    turn = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), degrees, 1.0)
    return _gray(cv2.warpAffine(gray, turn, (width, height), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=255))


def _remove_dark_border(gray: Gray) -> tuple[Gray, bool]:
    """Paint dark bands along the edges (scanner lid, book edge, photocopy margin) as paper.

    A band is a run of edge rows or columns that are mostly dark; it ends at the first line that
    is mostly light. Text lines never qualify: even a dense line is ~30% ink.
    """
    height, width = gray.shape
    # Lines are looked at from each edge inwards until the first light one: the edge lines
    # only, on most pages (a full count of the page's dark pixels took 2.5 ms).
    top, bottom = _dark_run(gray, False), _dark_run(gray[::-1], False)
    left, right = _dark_run(gray, True), _dark_run(gray[:, ::-1], True)
    if not (top or bottom or left or right):
        return gray, False
    out = gray.copy()
    # The transition from band to paper is a few pixels of grey shadow: take those too.
    pad = 4
    # Fill with the paper just inside the band, row by row (column by column), so that light
    # fall-off towards the edge continues smoothly and the background estimate is not skewed.
    strip = 16
    if left:
        x = min(width - strip, left + pad)
        out[:, :x] = np.percentile(out[:, x:x + strip], 75, axis=1)[:, None]
    if right:
        x = max(strip, width - right - pad)
        out[:, x:] = np.percentile(out[:, x - strip:x], 75, axis=1)[:, None]
    if top:
        y = min(height - strip, top + pad)
        out[:y] = np.percentile(out[y:y + strip], 75, axis=0)[None, :]
    if bottom:
        y = max(strip, height - bottom - pad)
        out[y:] = np.percentile(out[y - strip:y], 75, axis=0)[None, :]
    return out, True


def _dark_run(gray: Gray, columns: bool) -> int:
    """How many rows (columns) from the start of `gray` inwards are at least 60% darker than
    _DARK, capped at a sixth of the page, so a photo or a black title block far inside is never
    painted over."""
    lines = gray.shape[1] if columns else gray.shape[0]
    across = gray.shape[0] if columns else gray.shape[1]
    limit = max(1, lines // 6)
    run, chunk = 0, 8
    while run < limit:
        end = min(limit, run + chunk)
        block = gray[:, run:end] if columns else gray[run:end]
        for count in np.count_nonzero(block < _DARK, axis=0 if columns else 1).tolist():
            if count / across < 0.6:
                return run
            run += 1
        chunk *= 4
    return run


def _flatten(gray: Gray, scale: float) -> Gray:
    """Divide out the paper: yellowing, stains and uneven light become a flat 255."""
    # 255 * gray / background, rounded, above 255 clipped (ink-free paper brighter than its
    # neighbourhood's estimate); into the background's buffer, a page of memory not made anew.
    background = _background(gray, scale)
    return _gray(cv2.divide(gray, background, dst=background, scale=255))


def _background(gray: Gray, scale: float) -> Gray:
    """The paper's own brightness at each pixel, without the ink on it.

    Work on a copy 1/8 the size: a 7x7 maximum there spans ~56 px, wider than a character at
    300 dpi, so the ink vanishes and only the paper (with its stains and light fall-off) is left.
    """
    height, width = gray.shape
    small = shrink(gray, max(1, round(8 * scale)))
    # A 7x7 maximum (a dilation), then a blur; never 0, which the division would turn black.
    paper = np.maximum(_blur(_gray(cv2.dilate(small, np.ones((7, 7), np.uint8))), 2.0), 1)
    return _gray(cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR))


def _stretch(flat: Gray) -> Gray:
    """Stretch the contrast so that the ink is 0 and the paper 255 (faded ink, grey copies)."""
    # The levels come from every other pixel of every other row: the same percentiles, a
    # quarter of the counting. (A half-size nearest resize picks those pixels, 4x faster than
    # copying the strided view out for numpy; an odd last row or column is left out.)
    height, width = flat.shape
    even = flat[:height - height % 2, :width - width % 2]
    half = cv2.resize(even, (even.shape[1] // 2, even.shape[0] // 2),
                      interpolation=cv2.INTER_NEAREST)
    hist = cv2.calcHist([half], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    ink_level = _ink_level(hist)
    if ink_level >= 230:  # a blank page: nothing to stretch, and stretching would amplify noise
        return flat
    levels = np.arange(256, dtype=np.float32)
    stretched = (levels - ink_level) * (255.0 / (255.0 - ink_level)) + 0.5
    lut = np.clip(stretched, 0, 255).astype(np.uint8)
    # In place: `flat` is the previous step's fresh array.
    return _gray(cv2.LUT(flat, lut, dst=flat if flat.flags.writeable else None))


def _ink_level(hist: npt.NDArray[np.int64]) -> int:
    """How dark the ink is: the 10th percentile of the pixels below Otsu's threshold.

    The 10th percentile rather than the minimum so that a few specks cannot set it, and of the
    dark class only, so that bleed-through from the reverse page (lighter than the ink) cannot.
    """
    threshold = otsu_level(hist)
    dark = np.cumsum(hist[:threshold + 1])
    if dark[-1] < 0.001 * hist.sum():
        return 255
    return int(np.searchsorted(dark, 0.1 * dark[-1]))


def otsu_level(hist: npt.NDArray[np.int64]) -> int:
    """Otsu's global threshold from a 256-bin histogram: the last level of the dark class."""
    counts = hist.astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(counts)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(counts * levels)
    mean0 = sum0 / np.maximum(weight0, 1)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return int(np.argmax(between))


def _denoise(gray: Gray, scale: float) -> Gray:
    """A light Gaussian blur: sensor noise averages out, strokes stay.

    Not a median: a 3x3 median erases the 1-2 px horizontal strokes of a 宋体 face at 300 dpi
    (工 becomes I); the blur only lightens them, and the hysteresis threshold keeps them. Nor the
    3x3 binomial kernel, though cheaper: on the noisy benchmark pages it left c at 2.1% CER and
    e at 2.9%, against 1.3% and 1.7% with a Gaussian of sigma 0.6.
    """
    return _blur(gray, _DENOISE_SIGMA * scale)


def _upright(image: Image.Image, options: PreprocessOptions, steps: list[str],
             scale: float = 1.0) -> tuple[Image.Image, int]:
    if not options.runs(STEP_ORIENTATION):
        return image, 0
    rotation = detect_rotation(image, options.osd_min_confidence, round(_OSD_CROP * scale))
    if rotation:
        image = rotate_upright(image, rotation)
        steps.append(STEP_ORIENTATION)
    return image, rotation


def detect_rotation(image: Image.Image, min_confidence: float = DEFAULT_OSD_MIN_CONFIDENCE,
                    crop: int = 500) -> int:
    """Clockwise degrees (0/90/180/270) that make the page upright, by Tesseract OSD.

    OSD costs as much as recognising the text it is shown (~4 s for a whole page, measured),
    but needs only a few dozen characters: it gets a `crop`-pixel square from the middle of the
    text, which took ~0.5 s and was right on every benchmark page. Answers below
    `min_confidence` count as upright.
    """
    ink = np.asarray(image.convert("L"), dtype=np.uint8) < 128
    ys, xs = np.nonzero(ink)
    if ys.size < 100:
        return 0
    cy, cx = int(np.median(ys)), int(np.median(xs))
    half = crop // 2
    left = max(0, min(cx - half, image.width - crop))
    top = max(0, min(cy - half, image.height - crop))
    sample = image.crop((left, top, min(image.width, left + crop), min(image.height, top + crop)))
    degrees, confidence = tesseract.detect_orientation(sample)
    log.debug("osd: rotate %d, confidence %.1f", degrees, confidence)
    if confidence < min_confidence or degrees % 90 or degrees % 360 == 0:
        return 0
    return degrees % 360


def rotate_upright(image: Image.Image, clockwise: int) -> Image.Image:
    """Turn the page clockwise by 90, 180 or 270 degrees, losslessly."""
    transpose = {
        90: Image.Transpose.ROTATE_270,  # Pillow names counter-clockwise turns
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if clockwise not in transpose:
        return image
    return image.transpose(transpose[clockwise])


def _geometry_only(image: Image.Image, dpi: int, options: PreprocessOptions) -> PreprocessResult:
    # Grayscale off: keep the original pixels and apply only the geometric corrections, measured
    # on a grey copy. Useful to see what the tonal steps contribute.
    steps: list[str] = []
    skew = 0.0
    if options.runs(STEP_DESKEW):
        skew = estimate_skew(_to_gray(image) < _STRONG, options.max_skew, _MIN_DESKEW)
        if abs(skew) < _MIN_DESKEW:
            skew = 0.0
        else:
            image = image.rotate(-skew, resample=Image.Resampling.BICUBIC,
                                 fillcolor="white" if image.mode != "L" else 255)
            steps.append(STEP_DESKEW)
    image, rotation = _upright(image, options, steps)
    return PreprocessResult(image, dpi, round(skew, 2), rotation, tuple(steps))
