"""Bleed-through: the next page's text seen through thin paper, found by reading it mirrored.

On a page printed on thin paper the back's text shows through, mirrored, blurred and lighter
than the front's ink. PP-OCR reads it: as lines of its own between the front's lines and in the
margins, as mirrored characters misread as others, or joined into the front's lines by the
detector (`ocr_accuracy.py --realpages --degrade f`: raw PP-OCR 82.2% bag F1 on the 59 real
pages, against 96.7-97.3% under every other condition; benchmarks/README.md, session 13).
`showthrough.py` drops faint characters within a line, which is not enough on a real page.

Whitening every pixel lighter than half the page's ink before reading mends it, but on a page
without show-through it loses light text that is the page's (a grey note), so the page has to
say first that what is light on it is a back. The test: the page's faint layer (ink lighter
than HALF of the page's ink, away from the strong ink) is made into an image of its own and the
longest lines PP-OCR's detector finds on it are recognised as they are and mirrored
(`paddle.read_mirrored`). A back's text reads far better mirrored; a grey note reads better as
it is; a watermark, an emblem, a tinted box, noise or a dark slide's shading read as neither.
The faint layer is looked at only when it holds a share of the page's ink (MIN_FAINT), so a
clean page costs the ink measurement alone, and only on a page whose ink is darker than its
paper (`_light_on_dark`).

Measured with PP-OCR (scratch test over ../shared/realpages; benchmarks/README.md, "Session 14,
bleed-through on real pages"): of the 79 images as they are, 54 have a faint layer under
MIN_FAINT and are not read; on the other 25 (watermarked thesis pages, slides, grey notes) the
layer's lines held 0-126 characters, and where they held MIN_CHARS or more they read 11-34
points worse mirrored (scu_slides_p1's grey text: 96.6 as it is, 71.0 mirrored); the most any
page gained mirrored was 2 points, on one or two characters. Of the 59 images at 300 dpi with the
document's next page showing through (`ocr_accuracy.py --realpages --degrade f`), 56 read 13-45
points better mirrored (13-535 characters); three slides did not (their faint layer is their
own grey and coloured text, which reads better as it is) and are read as before. Whitening
then loses the page's own light ink with the back: a page is whitened only when its faint layer
reads as a back.

The lines also decide one by one (session 15): on a page whitened, a faint line that reads as
text as it is, better than mirrored, with MIN_CHARS characters, is the page's own light text and
is kept (`whitened`'s `keep`): a running head printed grey (Java 开发手册（黄山版）), a grey note,
which whitening the whole page lost (benchmarks/README.md, "Session 15, bleed-through"; the 79
real pages as they are: no image whitened, as before). Shorter own lines are left to the
whitening: fragments of a back read better as they are as often as a short grey label does. A
page whose layer as a whole reads better as it is is not whitened, though some of its lines read
better mirrored: on aged scans those are the page's own faded text (below, DECIDE's comment).

A whitened page records the step `bleed-through` (preprocess.STEP_BLEED_THROUGH), which
`--skip-step bleed-through` and `--no-preprocess` leave out, as the seal step: a user who doubts
a whitened page can read it as it is.

Cost: the ink measurement at the work scale, 0.01-0.15 CPU s a page; on a page whose faint
layer is read, one detection and 2 x MOST line recognitions, 1.2-2.5 s (as they are) and 1.2-6.7
s (show-through) with the 12 longest lines. Reading up to 40 (session 15, for the own lines among
the shorter ones: the running heads were the 22nd-33rd longest) costs the same on the pages as
they are (their layers hold 0-8 lines; 0.58 s a page over the 79) and about half as much again
under show-through (12 pages: 4.1 -> 6.0 s a page, at most 11.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

if TYPE_CHECKING:
    from .engines.paddle import MirroredLine

# Ink lighter than this share of the page's ink (the colour distance from the paper at its
# 99.5th percentile) is the faint layer, and is whitened on a page with show-through.
HALF = 0.5
# Ink lighter than this share is paper (grain, JPEG noise): not in the faint layer.
FLOOR = 0.08
_STRONGEST = 99.5
# The faint layer is looked at when its pixels (away from the strong ink) number at least this
# share of the strong ink's.
MIN_FAINT = 0.2
# The page is judged on the faint layer's DECIDE longest lines, read as they are and mirrored; its
# own light lines are looked for among its MOST longest (a running head was the 22nd-33rd longest
# line on the pages measured).
DECIDE = 12
MOST = 40
# The page shows through when the DECIDE lines hold at least MIN_CHARS characters and read with a
# mean score (weighted by characters) at least MARGIN higher mirrored than as they are, and at
# least TEXT mirrored (PP-OCR's own floor for a line, engines/paddle.py: the layer reads as text
# mirrored). Lines read as neither are noise: on a low-contrast page (rendered condition c) its
# blurred text's fragments read at 0.1-0.3 both ways, some of them a little better mirrored.
# A page whose faint layer as a whole reads better as it is is not whitened, though some of its
# lines read better mirrored (session 15 tried whitening when such lines held MIN_CHARS: it
# mended two slides under show-through, ali_slides_p8 and scu_slides_p34, but on the real pages
# made to look aged (`ocr_accuracy.py --realpages --degrade c|e`) the page's own faded text is
# the faint layer, a dark edge or specks having set the ink level, and a few of its lines read
# better mirrored by chance, even at 0.8: cy_gazette_p1 under c fell from 98.2% to 8.7%,
# lunbian_tra_p2 under e from 100% to 24.2%; benchmarks/README.md, "Session 15, the lead: aged
# pages taken for show-through"). The TEXT floor keeps shiji16_modern_p2 under e (its layer read
# 0.35 as it is, 0.47 mirrored) from being whitened to nothing.
# A line is the page's own light text, kept when the page is whitened, when it passes the same
# test the other way on its own: MIN_CHARS characters, read as text as it is and MARGIN better.
# Shorter lines are not evidence enough: on pages whose back shows through, fragments of it read
# 1-8 characters better as they are (hlm_p20's 入豆信, luatexcn_doc_p50's 文玉←封夹←文玉), and
# keeping them put the back's characters into the text.
MIN_CHARS = 10
MARGIN = 0.08
TEXT = 0.5
# The faint layer is made at about this many pixels on the long side (a 300-dpi A4 page at half
# its resolution: the back's blurred text still reads; detection and the layer cost a quarter).
_WORK_SIDE = 1800
# Around the strong ink this many work pixels are not faint: a stroke's soft edge is not a back.
_EDGE = 2

Box = tuple[int, int, int, int]
MirrorReader = Callable[[Image.Image, int], "list[MirroredLine]"]


@dataclass(frozen=True)
class FaintLayer:
    """What the faint layer showed: its share of the strong ink; over its DECIDE longest lines, the
    characters and their mean score (0-1, weighted by characters) as they are and mirrored, and
    the boxes, in the page's pixels, of the lines that read as the page's own light text
    (`own`)."""

    faint: float
    chars: int = 0
    plain: float = 0.0
    mirrored: float = 0.0
    own: tuple[Box, ...] = ()


def read_faint_layer(image: Image.Image, read_mirrored: MirrorReader) -> FaintLayer:
    """The show-through test of `image` (see the module's doc)."""
    work = _work(image)
    dist, _ = _distance(work)
    ink = _ink(dist)
    strong = (dist >= HALF * ink).astype(np.uint8)
    side = 2 * _EDGE + 1
    near = cv2.dilate(strong, np.ones((side, side), np.uint8)) > 0
    faint = (dist >= FLOOR * ink) & ~near
    share = float(faint.sum()) / max(1, int(strong.sum()))
    if share < MIN_FAINT or _light_on_dark(work, strong):
        return FaintLayer(share)
    layer = 255.0 - np.clip(dist.astype(np.float32) * (255.0 / (HALF * ink)), 0, 255)
    layer[~faint] = 255
    lines = read_mirrored(Image.fromarray(layer.astype(np.uint8), "L"), MOST)
    judged = lines[:DECIDE]  # longest first
    chars = sum(line.chars for line in judged)
    if not chars:
        return FaintLayer(share)
    plain = sum(line.chars * line.plain for line in judged) / chars
    mirrored = sum(line.chars * line.mirrored for line in judged) / chars
    own = [line.box for line in lines if line.chars >= MIN_CHARS and line.plain >= TEXT
           and line.plain - line.mirrored >= MARGIN]
    return FaintLayer(share, chars, plain, mirrored, _scaled(own, image.size, work.size))


def _scaled(boxes: list[Box], size: tuple[int, int], work: tuple[int, int]) -> tuple[Box, ...]:
    """Boxes on the work copy as boxes on the page (outwards: a box holds all of its line)."""
    sx, sy = size[0] / work[0], size[1] / work[1]
    return tuple((int(x0 * sx), int(y0 * sy), int(np.ceil(x1 * sx)), int(np.ceil(y1 * sy)))
                 for x0, y0, x1, y1 in boxes)


def whitened(image: Image.Image, keep: tuple[Box, ...] = ()) -> Image.Image:
    """`image` with every pixel lighter than HALF of its ink made the paper's colour, but within
    the boxes `keep` (the page's own light lines)."""
    rgb = image.mode not in ("L", "RGB")
    page = image.convert("RGB") if rgb else image
    dist, paper = _distance(page)
    pixels = np.array(page)
    light = dist < HALF * _ink(dist)
    for x0, y0, x1, y1 in keep:
        light[y0:y1, x0:x1] = False
    pixels[light] = paper
    return Image.fromarray(pixels, page.mode)


def _light_on_dark(work: Image.Image, strong: npt.NDArray[np.uint8]) -> bool:
    """True when the page's strong ink is lighter than its paper (a dark slide). A back shows
    through paper as darker ink; on a dark ground the faint layer is the page's own shading,
    and whitening it towards the ground lost ali_slides_p19's text under f (85.4 -> 72.6%)."""
    grey = np.asarray(work.convert("L"))
    return bool(np.median(grey[strong > 0]) > np.median(grey[::7, ::7]))


def _work(image: Image.Image) -> Image.Image:
    page = image if image.mode in ("L", "RGB") else image.convert("RGB")
    k = max(1, round(max(page.size) / _WORK_SIDE))
    return page.reduce(k) if k > 1 else page


def _distance(page: Image.Image) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Each pixel's colour distance from the paper (the page's median colour; the largest
    difference of a channel), and the paper's colour."""
    pixels = np.asarray(page)
    flat = pixels.reshape(-1, 1 if pixels.ndim == 2 else pixels.shape[2])
    paper = np.median(flat[::7], axis=0).astype(np.uint8)  # a sample is as good as all
    if pixels.ndim == 2:
        grey = cv2.absdiff(pixels, np.full_like(pixels, paper[0]))
        return np.asarray(grey, np.uint8), np.asarray(paper, np.uint8)
    dist = cv2.absdiff(pixels, np.ascontiguousarray(np.broadcast_to(paper, pixels.shape)))
    return np.asarray(dist.max(axis=2), np.uint8), np.asarray(paper, np.uint8)


def _ink(dist: npt.NDArray[np.uint8]) -> float:
    """The page's ink: its colour distance from the paper at the _STRONGEST percentile."""
    counts = np.bincount(dist.ravel(), minlength=256)
    at = np.searchsorted(np.cumsum(counts), counts.sum() * _STRONGEST / 100)
    return float(max(1, at))


def shows_through(faint: FaintLayer) -> bool:
    """True when the page's back shows through: its faint layer's longest lines read as text
    mirrored, and better than as they are (see the module's doc)."""
    return (faint.chars >= MIN_CHARS and faint.mirrored >= TEXT
            and faint.mirrored - faint.plain >= MARGIN)
