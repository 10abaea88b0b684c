"""Red seals stamped over the text: found by colour, and lifted off a copy of the page.

Old books and archive files carry red seals (藏书印, 公章) stamped across their lines. An OCR
engine reads the seal's strokes as characters and loses the black ones under it: on
../shared/realpages' shiji_col_p1 (a seal over six columns) PP-OCR read 88.2% (bag F1) of the
page. Seal paste is red and the text is black, so in the red channel the seal is nearly as
light as the paper while the text stays dark: the same page with the seal lifted that way reads
94.8% (the rest: variant forms and half-cut 版心 characters the ground truth leaves out).

A seal is a piece of red ink (red exceeding green and blue by _RED_MARGIN) at least _MIN_SIDE of
the page's shorter side in both directions, covering _MIN_RED of its box, with black ink inside
it (_MIN_DARK of its pixels): text under the seal. Measured on the 79 images of
../shared/realpages (benchmarks/seals.py; benchmarks/README.md, "Seals"): red frames, red
headings, red title bars with white text and red raster titles have no black ink inside, and a
red curve across a plot covers too little of its box; the seal on shiji_col_p1 is found, and so
are three coloured boxes with black text on slides, whose readings do not change (PP-OCR keeps
the reading with more confident characters: pipeline/page/process.py).

Only the seals' boxes change in the copy: elsewhere red text (headings, notes) stays as it is.
Inside a box each pixel becomes the grey of its red channel, stretched so that the seal's red
is white.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]

_WORK_SIDE = 1000  # the seals are looked for on a copy at most this many pixels long
_RED_MARGIN = 40  # red ink: the red channel exceeds the green and the blue by this much
_MIN_SIDE = 0.05  # a seal is at least this share of the page's shorter side, both ways
_CLOSE = 0.01  # red pieces this close (share of the shorter side) are one seal
# A seal's red covers a good part of its box (its border and characters, cut out of the red or
# standing in it): 0.25-0.33 on the seal and the coloured boxes of ../shared/realpages; a red
# curve across a plot covers 0.08-0.09 of the box it spans.
_MIN_RED = 0.15
_DARK = 100  # black ink: no channel above this
_MIN_DARK = 0.01  # share of a seal's pixels that are black ink: text under it


def find_seals(image: Image.Image) -> tuple[Box, ...]:
    """Boxes (in `image` pixels) of the red seals stamped over text on a page."""
    if image.mode not in ("RGB", "RGBA"):
        return ()  # a grey or black-and-white scan shows no red
    # Pillow's block means (`reduce`) are the cheapest way down: ~7 ms for an A4 page at 300 dpi.
    k = max(1, -(-max(image.size) // _WORK_SIDE))
    work = image.convert("RGB") if image.mode == "RGBA" else image
    pixels = np.asarray(work.reduce(k) if k > 1 else work)
    red_ink, brightest = _red_ink(pixels)
    short = min(red_ink.shape)
    close = max(3, int(_CLOSE * short))
    ink = cv2.morphologyEx(red_ink, cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    seals = []
    for n in range(1, count):
        x, y, w, h = (int(v) for v in stats[n, :4])
        if min(w, h) < _MIN_SIDE * short or red_ink[y:y + h, x:x + w].mean() < _MIN_RED:
            continue
        inside = labels[y:y + h, x:x + w] == n
        dark = brightest[y:y + h, x:x + w] < _DARK
        if dark[inside].mean() >= _MIN_DARK:
            seals.append((x * k, y * k, min(image.width, (x + w) * k),
                          min(image.height, (y + h) * k)))
    # A seal's hollow parts can come out as seals of their own, inside it: one box is enough.
    return tuple(box for box in seals if not any(
        other != box and other[0] <= box[0] and other[1] <= box[1] and other[2] >= box[2]
        and other[3] >= box[3] for other in seals))


def lift_seals(image: Image.Image, seals: tuple[Box, ...]) -> Image.Image:
    """A copy of `image` with each seal's box turned to the grey of its red channel, stretched
    so that the seal's own red comes out white: the seal goes, the black text under it stays."""
    pixels = np.array(image.convert("RGB"))
    for left, top, right, bottom in seals:
        box = pixels[top:bottom, left:right]
        red = box[..., 0].astype(np.float32)
        seal = _red_ink(box)[0].astype(bool)
        level = float(np.median(red[seal])) if seal.any() else 255.0
        grey = np.clip(red * (255.0 / max(1.0, level)), 0, 255).astype(np.uint8)
        box[...] = grey[..., None]
    return Image.fromarray(pixels)


def _red_ink(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of RGB `pixels`: where the ink is red (1: red exceeds green and blue by _RED_MARGIN), and
    each pixel's brightest channel (black ink is dark in all three)."""
    red, green, blue = cv2.split(np.ascontiguousarray(pixels))
    others = cv2.max(green, blue)
    return ((cv2.subtract(red, others) > _RED_MARGIN).astype(np.uint8), cv2.max(red, others))
