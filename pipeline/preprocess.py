"""Page-image clean-up before OCR: Pillow and numpy only.

Raw Tesseract reads a clean 300-dpi Chinese page well but fails on what real scans of 县志 and
档案 look like: a page skewed by 5° loses a third of its characters, and yellowed, noisy,
low-contrast paper reads at 50-100% CER (measured, benchmarks/README.md). The steps here turn
every such page into the same canonical picture: black, full-weight strokes on white, upright,
at about 300 dpi. Each step can be switched off through `PreprocessOptions` to see what it
contributes.

The order is fixed: grayscale -> upscale -> border -> normalize (flatten the paper) -> denoise
-> normalize (stretch the contrast) -> deskew -> binarize -> despeckle -> orientation -> smooth.
Skew is measured on a quick ink mask, but the rotation is applied to the grey image so the final
threshold sees smooth edges instead of rotated jaggies. Orientation (Tesseract OSD) runs on the
clean binary page, where it is both surer and cheaper.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from . import ocr

log = logging.getLogger(__name__)

Gray = npt.NDArray[np.float32]  # one channel, paper near 1.0, ink near 0.0
Mask = npt.NDArray[np.bool_]  # True where there is ink

DEFAULT_TARGET_DPI = 300
DEFAULT_MAX_SKEW = 15.0  # degrees either way; beyond that it is a rotation, not a skew
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
_DENOISE_SIGMA = 0.6  # 1.0 blurred noisy pages into 8% CER, 0.3 left noise: 4%; 0.45-0.6: 2%
_STRONG = 0.5  # certainly ink: below mid-grey (and below the local Sauvola threshold)
_WEAK = 0.7  # possibly ink: kept only within _GROW_PX of certain ink
_GROW_PX = 2
_SMOOTH_SIGMA = 1.5

# Step names, in the order they run; `PreprocessResult.steps` lists the ones applied.
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
    """Which clean-up steps run (all by default) and their few settings."""

    grayscale: bool = True
    upscale: bool = True
    border: bool = True
    normalize: bool = True
    denoise: bool = True
    deskew: bool = True
    binarize: bool = True
    despeckle: bool = True
    orientation: bool = True
    smooth: bool = True
    target_dpi: int = DEFAULT_TARGET_DPI
    max_skew: float = DEFAULT_MAX_SKEW
    osd_min_confidence: float = DEFAULT_OSD_MIN_CONFIDENCE


@dataclass(frozen=True)
class PreprocessResult:
    """The image to hand to Tesseract and what was done to get it."""

    image: Image.Image
    dpi: int  # effective resolution after upscaling
    skew_degrees: float  # counter-clockwise skew found on the page, and undone (0.0 when off)
    rotation: int  # 0, 90, 180 or 270: clockwise turn applied to make the page upright
    steps: tuple[str, ...]


def preprocess_image(image: Image.Image, source_dpi: int | None,
                     options: PreprocessOptions = PreprocessOptions()) -> PreprocessResult:
    """Clean up one page image for OCR; `source_dpi` None means 'as scanned, unknown'."""
    steps: list[str] = []
    dpi = source_dpi or _image_dpi(image) or options.target_dpi
    if not options.grayscale:
        return _geometry_only(image, dpi, options)

    gray = _to_gray(image)
    steps.append(STEP_GRAYSCALE)

    if options.upscale and dpi < 0.9 * options.target_dpi:
        factor = min(_MAX_UPSCALE, options.target_dpi / dpi)
        gray = _resize(gray, factor)
        dpi = round(dpi * factor)
        steps.append(STEP_UPSCALE)
    scale = dpi / DEFAULT_TARGET_DPI  # pixel sizes below are tuned at 300 dpi

    if options.border:
        gray, found = _remove_dark_border(gray)
        if found:
            steps.append(STEP_BORDER)

    if options.normalize:
        gray = _flatten(gray, scale)
        steps.append(STEP_NORMALIZE)

    if options.denoise:
        gray = _denoise(gray, scale)
        steps.append(STEP_DENOISE)

    if options.normalize:
        # Stretch after denoising: on a noisy page the darkest pixels are noise, not ink.
        gray = _stretch(gray)

    skew = 0.0
    if options.deskew:
        skew = estimate_skew(_global_ink(gray), options.max_skew)
        if abs(skew) >= 0.05:
            gray = _rotate(gray, -skew)
            steps.append(STEP_DESKEW)

    if not options.binarize:
        out = _to_image(gray)
        out, rotation = _upright(out, options, steps, scale)
        return PreprocessResult(out, dpi, round(skew, 2), rotation, tuple(steps))

    ink = binarize(gray, scale)
    steps.append(STEP_BINARIZE)

    if options.despeckle:
        ink = despeckle(ink, scale)
        steps.append(STEP_DESPECKLE)

    out = _to_image(np.where(ink, 0.0, 1.0).astype(np.float32))
    out, rotation = _upright(out, options, steps, scale)

    if options.smooth:
        # The LSTM was trained on anti-aliased renderings, not on hard 0/255 edges: a light blur
        # brought our clean-page CER down by a third (measured, benchmarks/README.md).
        out = out.filter(ImageFilter.GaussianBlur(_SMOOTH_SIGMA * scale))
        steps.append(STEP_SMOOTH)
    return PreprocessResult(out, dpi, round(skew, 2), rotation, tuple(steps))


# --- steps -------------------------------------------------------------------------------------

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
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _to_image(gray: Gray) -> Image.Image:
    return Image.fromarray(np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")


def _resize(gray: Gray, factor: float) -> Gray:
    image = Image.fromarray(gray, "F")
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return np.asarray(image.resize(size, Image.Resampling.BICUBIC), dtype=np.float32).clip(0, 1)


def _rotate(gray: Gray, degrees: float) -> Gray:
    # Counter-clockwise for positive degrees, as Pillow; the uncovered corners become paper.
    image = Image.fromarray(gray, "F")
    rotated = image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=1.0)
    return np.asarray(rotated, dtype=np.float32).clip(0, 1)


def _remove_dark_border(gray: Gray) -> tuple[Gray, bool]:
    """Paint dark bands along the edges (scanner lid, book edge, photocopy margin) as paper.

    A band is a run of edge rows or columns that are mostly dark; it ends at the first line that
    is mostly light. Text lines never qualify: even a dense line is ~30% ink.
    """
    dark = gray < 0.35
    height, width = gray.shape
    top = _dark_run(dark.mean(axis=1))
    bottom = _dark_run(dark.mean(axis=1)[::-1])
    left = _dark_run(dark.mean(axis=0))
    right = _dark_run(dark.mean(axis=0)[::-1])
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


def _dark_run(dark_fraction: npt.NDArray[np.float64]) -> int:
    # How many lines from the edge inwards are at least 60% dark (capped at a sixth of the page,
    # so a photo or a black title block far inside is never painted over).
    limit = max(1, len(dark_fraction) // 6)
    run = 0
    for value in dark_fraction[:limit]:
        if value < 0.6:
            break
        run += 1
    return run


def _flatten(gray: Gray, scale: float) -> Gray:
    """Divide out the paper: yellowing, stains and uneven light become a flat 1.0."""
    background = _background(gray, scale)
    return np.minimum(gray / np.maximum(background, 1e-3), 1.0).astype(np.float32)


def _stretch(flat: Gray) -> Gray:
    """Stretch the contrast so that the ink is 0.0 and the paper 1.0 (faded ink, grey copies)."""
    ink_level = _ink_level(flat)
    if ink_level >= 0.9:  # a blank page: nothing to stretch, and stretching would amplify noise
        return flat
    stretched: Gray = np.clip((flat - ink_level) / (1.0 - ink_level), 0.0, 1.0).astype(np.float32)
    return stretched


def _background(gray: Gray, scale: float) -> Gray:
    """The paper's own brightness at each pixel, without the ink on it.

    Work on a copy 1/8 the size: a 7x7 maximum there spans ~56 px, wider than a character at
    300 dpi, so the ink vanishes and only the paper (with its stains and light fall-off) is left.
    """
    image = Image.fromarray((gray * 255).astype(np.uint8), "L")
    factor = 8 * scale
    size = (max(1, round(image.width / factor)), max(1, round(image.height / factor)))
    small = image.resize(size, Image.Resampling.BOX)
    small = small.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(2))
    back = small.resize(image.size, Image.Resampling.BILINEAR)
    return np.asarray(back, dtype=np.float32) / 255.0


def _ink_level(flat: Gray) -> float:
    """How dark the ink is: the 10th percentile of the pixels below Otsu's threshold.

    The 10th percentile rather than the minimum so that a few specks cannot set it, and of the
    dark class only, so that bleed-through from the reverse page (lighter than the ink) cannot.
    """
    threshold = otsu_threshold(flat)
    dark = flat[flat < threshold]
    if dark.size < 0.001 * flat.size:
        return 1.0
    return float(np.percentile(dark, 10))


def otsu_threshold(gray: Gray) -> float:
    """Otsu's global threshold of a [0, 1] image."""
    hist = np.bincount(np.clip(gray * 255, 0, 255).astype(np.int64).ravel(), minlength=256)
    hist = hist.astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(hist * levels)
    mean0 = sum0 / np.maximum(weight0, 1)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(np.argmax(between) + 0.5) / 255.0


def _denoise(gray: Gray, scale: float) -> Gray:
    """A light Gaussian blur: sensor noise averages out, strokes stay.

    Not a median: a 3x3 median erases the 1-2 px horizontal strokes of a 宋体 face at 300 dpi
    (工 becomes I); the blur only lightens them, and the hysteresis threshold keeps them.
    """
    sigma = _DENOISE_SIGMA * scale
    blurred = _to_image(gray).filter(ImageFilter.GaussianBlur(sigma))
    return np.asarray(blurred, dtype=np.float32) / 255.0


def _global_ink(gray: Gray) -> Mask:
    return gray < 0.5


def estimate_skew(ink: Mask, max_degrees: float = DEFAULT_MAX_SKEW) -> float:
    """Counter-clockwise skew of the text in degrees, from projection-profile sharpness.

    Text lines (or, on vertical pages, columns) project into sharp peaks only when the page is
    straight. Both projections are scored, so the same code serves horizontal and vertical text.
    A coarse search (0.5° steps, 4-px bins) is refined in 0.05° steps with 1-px bins, on at most
    60,000 ink pixels.
    """
    ys, xs = np.nonzero(ink)
    if ys.size < 200:
        return 0.0
    rng = np.random.default_rng(0)  # fixed seed: the same page always gets the same angle
    if ys.size > 60_000:
        pick = rng.choice(ys.size, 60_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    y = ys.astype(np.float64) - ys.mean()
    x = xs.astype(np.float64) - xs.mean()

    def score(degrees: float, bin_px: float) -> float:
        a = math.radians(degrees)
        c, s = math.cos(a), math.sin(a)
        # Coordinates in a frame turned by `degrees`: a text line skewed counter-clockwise by
        # that angle runs along constant `along_rows`.
        along_rows = (y * c + x * s) / bin_px
        along_cols = (x * c - y * s) / bin_px
        total = 0.0
        for coord in (along_rows, along_cols):
            hist = np.bincount((coord - coord.min()).astype(np.int64))
            total += float(np.dot(hist, hist))
        return total

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    best = float(coarse[int(np.argmax([score(d, 4.0) for d in coarse]))])
    fine = np.arange(best - 0.6, best + 0.6 + 1e-9, 0.05)
    best = float(fine[int(np.argmax([score(d, 1.0) for d in fine]))])
    return best


def binarize(gray: Gray, scale: float = 1.0) -> Mask:
    """Ink mask by hysteresis over a Sauvola threshold.

    Strong ink: darker than the local Sauvola threshold and than mid-grey. Weak ink: anything up
    to light grey, kept only where it touches strong ink. The weak pixels restore the full stroke
    weight of serif (宋体) faces, whose thin horizontals a mid-grey threshold erodes (clean page:
    2.7% CER thresholded at mid-grey, 1.3% with the light-grey edge); faint bleed-through, stains
    and paper texture that never reach ink darkness touch no strong pixel and are dropped.
    """
    window = max(15, int(round(41 * scale)) | 1)  # about one character at 300 dpi
    mean, std = _local_mean_std(gray, window)
    # Sauvola (k=0.2, R=0.5 on a [0, 1] image): a low-contrast window (blank paper, a stain)
    # gets a threshold well below its mean, so its texture does not become ink.
    sauvola = mean * (1.0 + 0.2 * (std / 0.5 - 1.0))
    strong = (gray < sauvola) & (gray < _STRONG)
    weak = gray < _WEAK
    grown = strong
    for _ in range(max(1, round(_GROW_PX * scale))):
        grown = _dilate3(grown) & weak
    return grown


def _local_mean_std(gray: Gray, window: int) -> tuple[Gray, Gray]:
    # Pillow's box blur (C, cost independent of the window) on 8-bit copies: ~10x faster than
    # numpy integral images, and 1/255 steps are finer than anything Sauvola decides on.
    radius = window // 2
    mean = _box_mean(gray, radius)
    mean_sq = _box_mean(gray * gray, radius)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0)).astype(np.float32)
    return mean, std


def _box_mean(values: Gray, radius: int) -> Gray:
    blurred = _to_image(values).filter(ImageFilter.BoxBlur(radius))
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
            # Clear the inner box around every such position (a box count is a cheaper
            # dilation than Pillow's MaxFilter, which is a rank filter).
            ink = ink & ~(_box_count(isolated, inner) > 0)
    return ink


def _box_count(mask: Mask, size: int) -> npt.NDArray[np.int32]:
    """Ink pixels in the size x size box centred on each pixel (size odd, at most 15).

    Pillow's box blur of a 0/255 image gives the mean rounded to an integer; with at most 225
    pixels in the box each pixel moves the mean by more than 1, so the count is exact.
    """
    image = Image.fromarray(mask.astype(np.uint8) * 255, "L")
    mean = np.asarray(image.filter(ImageFilter.BoxBlur(size // 2)), dtype=np.float32)
    count: npt.NDArray[np.int32] = np.rint(mean * (size * size) / 255.0).astype(np.int32)
    return count


def _upright(image: Image.Image, options: PreprocessOptions, steps: list[str],
             scale: float = 1.0) -> tuple[Image.Image, int]:
    if not options.orientation:
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
    degrees, confidence = ocr.detect_orientation(sample)
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
    if options.deskew:
        skew = estimate_skew(_global_ink(_to_gray(image)), options.max_skew)
        if abs(skew) >= 0.05:
            image = image.rotate(-skew, resample=Image.Resampling.BICUBIC,
                                 fillcolor="white" if image.mode != "L" else 255)
            steps.append(STEP_DESKEW)
    image, rotation = _upright(image, options, steps)
    return PreprocessResult(image, dpi, round(skew, 2), rotation, tuple(steps))
