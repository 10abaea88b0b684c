"""Which of two characters a glyph on the page looks more like.

The post-OCR correction (pipeline/page/correct.py) proposes a look-alike where the dictionary
says the recognised character makes no sense; the page image then has the last word. The glyph is
cut out of the page by its ALTO box and compared with both characters drawn in the CJK faces
installed with Wenshi's fonts (a serif 宋体-like face and two sans faces): a correction is made
only when the proposed character matches the glyph better than the recognised one in the best
matching face. On correct text that is what stops the dictionary: 由区住房 reads better to it as
山区住房, but the glyph is 由.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FACES = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),  # Noto Serif CJK SC
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
# How far from Tesseract's box the glyph is looked for, in character sizes: along the line and
# across it. Measured on rendered pages read by chi_sim: with 0.4 along and nothing across, the
# median correlation of each recognised character with its own glyph was 0.69 and 37% were under
# 0.5; with these 0.87 and 10-14%.
REACH = 0.7
ACROSS = (-0.14, -0.07, 0.0, 0.07, 0.14)
_SIZE = 32  # glyphs are compared at this many pixels square
_DRAW = 96  # drawing size of a reference glyph before it is reduced
_BLUR = 1.0  # Gaussian blur radius on the reduced glyph
_BLUR_PASSES = 3  # box blurs Pillow approximates it with


class Box(NamedTuple):
    """Where Tesseract puts a character, in page pixels. (A named tuple: a page makes hundreds,
    and a frozen dataclass took 5x as long to make.)"""

    left: int
    top: int
    width: int
    height: int


def glyph_similarity(page: Image.Image, box: Box, size: int, chars: tuple[str, ...],
                     vertical: bool = False) -> tuple[float | None, ...]:
    """For each of `chars`, its best correlation (-1..1) with the glyph at `box` in a face.

    Tesseract's LSTM boxes locate a character only roughly (measured: up to ~20 px off at 300
    dpi, often narrower than the glyph), so the glyph is looked for: a square window of the
    body text's character `size` slides along the line (down the column for vertical text) and
    a little across it around the box's centre (`REACH`, `ACROSS`), and the best match counts.
    The characters are drawn centred on their em squares as type sets them, so where the ink
    sits in the cell counts too. None for a character no installed face can draw.
    """
    refs = [_references(ch) for ch in chars]
    windows = _window_vectors(page, _windows(box, size, vertical))
    best: list[float | None] = []
    for faces in refs:
        if not faces or not len(windows):
            best.append(None)
            continue
        # einsum, not a matrix product: OpenBLAS would start threads for this size.
        best.append(float(np.einsum("wp,fp->wf", windows, np.stack(faces)).max()))
    return tuple(best)


def _windows(box: Box, size: int, vertical: bool) -> list[tuple[int, int, int, int]]:
    """The (left, top, right, bottom) of each window the glyph is looked for in."""
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    reach = int(REACH * size)
    step = max(1, size // 12)
    out = []
    for shift, across in itertools.product(range(-reach, reach + 1, step), ACROSS):
        off = across * size
        x, y = (cx + off, cy + shift) if vertical else (cx + shift, cy + off)
        out.append((round(x - size / 2), round(y - size / 2),
                    round(x + size / 2), round(y + size / 2)))
    return out


def _window_vectors(page: Image.Image, windows: list[tuple[int, int, int, int]]
                    ) -> npt.NDArray[np.float32]:
    """`_vector` of each window of the page, computed together: one row per window with ink.

    The page is cut once around all the windows (outside it, black, as Pillow's crop pads);
    the windows are reduced and blurred as arrays with Pillow's own integer arithmetic
    (`_box_sums`, `_box_blur`), so each row is what `_vector` gives for that window cut out
    alone (tests/test_glyphs.py), in about half the CPU time of cutting out, reducing and
    blurring ~110 small Pillow images one by one (benchmarks/README.md, correction).
    """
    left = min(w[0] for w in windows)
    top = min(w[1] for w in windows)
    region = page.crop((left, top, max(w[2] for w in windows), max(w[3] for w in windows)))
    pixels = np.asarray(region if region.mode == "L" else region.convert("L"))
    # Pillow's BOX resize runs across first, then down (for windows this close to square). The
    # windows that start in the same column (rounding makes those of an odd size a pixel
    # narrower or wider: same width too) share their first pass, over the whole region.
    columns: dict[tuple[int, int], int] = {}
    for x0, _, x1, _ in windows:
        columns.setdefault((x0 - left, x1 - x0), len(columns))
    across = _box_sums(pixels, list(columns))  # (columns, region height, _SIZE)
    rows = [(columns[x0 - left, x1 - x0], y0 - top, y1 - y0) for x0, y0, x1, y1 in windows]
    first, last, weight = (np.stack([_box_weights(h)[k] for _, _, h in rows]) for k in range(3))
    which = np.array([r[0] for r in rows])[:, None]
    start = np.array([r[1] for r in rows])[:, None]
    running = np.zeros((across.shape[0], across.shape[1] + 1, _SIZE), dtype=np.int32)
    np.cumsum(across, axis=1, out=running[:, 1:])
    # (window, output row, output column): sums over each output row's run of source rows.
    sums = (running[which, start + last] - running[which, start + first]) * weight[:, :, None]
    reduced = (sums + (1 << (_PRECISION - 1))) >> _PRECISION
    vecs = 255.0 - _box_blur(reduced).reshape(len(windows), -1).astype(np.float32)
    vecs -= vecs.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(vecs, axis=1)
    keep = norms > 1e-3
    unit: npt.NDArray[np.float32] = vecs[keep] / norms[keep, None]
    return unit


def _box_sums(pixels: npt.NDArray[np.uint8], spans: list[tuple[int, int]]) -> npt.NDArray[np.int32]:
    """Pillow's BOX resampling across of each (start, width) span of the rows of `pixels` to
    `_SIZE` pixels: (spans, rows, _SIZE), 8-bit values.

    No clipping to 255 is needed, unlike Pillow's general code: the weights of an output pixel
    sum to at most 2^22 + n/2 for a run of n pixels, so 255s average to 255."""
    running = np.zeros((pixels.shape[0], pixels.shape[1] + 1), dtype=np.int32)
    np.cumsum(pixels, axis=1, out=running[:, 1:])
    out = np.empty((len(spans), pixels.shape[0], _SIZE), dtype=np.int32)
    for k, (start, width) in enumerate(spans):
        first, last, weight = _box_weights(width)
        out[k] = (running[:, start + last] - running[:, start + first]) * weight
    out += 1 << (_PRECISION - 1)
    out >>= _PRECISION
    return out


@lru_cache(maxsize=512)
def _references(char: str) -> tuple[npt.NDArray[np.float32], ...]:
    out = []
    for path, index in _faces():
        font = _font(path, index)
        mask = font.getmask(char)
        if not mask.getbbox() or bytes(mask) == _missing_glyph(path, index):
            continue  # the face has no glyph for it (it would draw its empty-box glyph)
        image = Image.new("L", (_DRAW, _DRAW), 255)
        ImageDraw.Draw(image).text((_DRAW / 2, _DRAW / 2), char, font=font, fill=0, anchor="mm")
        vec = _vector(image)
        if vec is not None:
            out.append(vec)
    return tuple(out)


@lru_cache(maxsize=8)
def _font(path: str, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, _DRAW, index=index)


@lru_cache(maxsize=8)
def _missing_glyph(path: str, index: int) -> bytes:
    # A noncharacter no font maps: what the face draws for a character it lacks.
    return bytes(_font(path, index).getmask("\U0010fffe"))


@lru_cache(maxsize=1)
def _faces() -> tuple[tuple[str, int], ...]:
    return tuple((path, index) for path, index in FACES if Path(path).is_file())


def _vector(square: Image.Image) -> npt.NDArray[np.float32] | None:
    """A square grey image as ink, reduced, slightly blurred, zero mean and unit length.

    The small blur forgives a stroke that lies a pixel off between a scan and a font.
    """
    small = square.resize((_SIZE, _SIZE), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(_BLUR))
    vec = 255.0 - np.asarray(small, dtype=np.float32).ravel()
    vec = vec - vec.mean()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 1e-3 else None


# Pillow's arithmetic for 8-bit images, for many windows at once. Resample.c: coefficients in
# 22-bit fixed point, horizontal pass first, each pass rounded to 8 bits. BoxBlur.c: Gaussian
# blur as three box blurs each way (horizontal first), 24-bit fixed point, edges repeated.
_PRECISION = 22


@lru_cache(maxsize=64)
def _box_weights(in_size: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp],
                                        npt.NDArray[np.int32]]:
    """Pillow's BOX resampling of `in_size` pixels to `_SIZE`: each output pixel's first and
    last-plus-one input pixel, and the fixed-point weight they all share."""
    scale = in_size / _SIZE
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    ss = 1.0 / filterscale
    first, last, weight = [], [], []
    for out in range(_SIZE):
        center = (out + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        # Pillow's box filter: 1 on (-0.5, 0.5], in its double arithmetic, then normalised.
        inside = [k for k in range(lo, hi) if -0.5 < (k - center + 0.5) * ss <= 0.5]
        first.append(inside[0])
        last.append(inside[-1] + 1)
        weight.append(int(0.5 + (1.0 / len(inside)) * (1 << _PRECISION)))
    return np.array(first), np.array(last), np.array(weight, dtype=np.int32)


def _box_blur(images: npt.NDArray[np.int32]) -> npt.NDArray[np.uint32]:
    """(n, s, s) 8-bit images blurred as Pillow's GaussianBlur(_BLUR) blurs each."""
    radius, inner, outer = _blur_weights()
    out = images.astype(np.uint32)  # the sums stay under 255 x 2^24 + 2^23 < 2^32
    for axis in (2, 1):  # across, then down
        for _ in range(_BLUR_PASSES):
            # Each pixel: `inner` x the 2r+1 pixels around it, `outer` x the next one each side.
            near = out.copy()
            for k in range(1, radius + 1):
                near += _neighbours(out, k, axis)
            near *= np.uint32(inner)
            near += _neighbours(out, radius + 1, axis) * np.uint32(outer)
            near += np.uint32(1 << 23)
            out = near >> np.uint32(24)
    return out


def _neighbours(images: npt.NDArray[np.uint32], k: int, axis: int) -> npt.NDArray[np.uint32]:
    """Each pixel's neighbours k before and k after it along `axis`, added; the edge pixels
    repeated beyond the edges."""
    n = images.shape[axis]
    k = min(k, n)

    def part(start: int | None, stop: int | None) -> tuple[slice, ...]:
        return (slice(None),) * axis + (slice(start, stop),)

    out = np.empty_like(images)
    out[part(k, None)] = images[part(None, n - k)]
    out[part(None, k)] = images[part(0, 1)]
    out[part(None, n - k)] += images[part(k, None)]
    out[part(n - k, None)] += images[part(n - 1, n)]
    return out


@lru_cache(maxsize=1)
def _blur_weights() -> tuple[int, int, int]:
    # Pillow's _gaussian_blur_radius and ImagingHorizontalBoxBlur, in its float32 arithmetic.
    f32 = np.float32
    sigma2 = f32(_BLUR) * f32(_BLUR) / f32(_BLUR_PASSES)
    length = f32(np.sqrt(12.0 * float(sigma2) + 1.0))
    whole = f32(np.floor((float(length) - 1.0) / 2.0))
    frac = f32((2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2))
    frac = f32(frac / f32(6 * (sigma2 - (whole + 1) * (whole + 1))))
    box_radius = f32(whole + frac)
    radius = int(box_radius)
    inner = int(f32(1 << 24) / (box_radius * f32(2) + f32(1)))
    return radius, inner, ((1 << 24) - (radius * 2 + 1) * inner) // 2
