"""The half-cut 版心 strip at the edge of a vertical half-leaf: read as garbage, left out.

A classical book is printed on leaves folded at the centre, the 版心, which carries the book's
title, the 卷 and the leaf number. A leaf scanned or cut as two half-leaves has the fold at one
edge of each page, and what is set on the fold itself (the title: 欽定四庫全書, 石頭記) is cut
through: half of each character is on the page. PP-OCR reads such a strip as a line of other
characters (金定四庫全書, 次宇四庫三律; on the pages made to look scanned 金定巳店全書食日E,
欠三日庫三書簡月目錄), which no reader would write down and which the ground truth of
../shared/realpages leaves out (a character less than 60% on the page is not in it). The 版心
characters set beside the fold (卷一, 史記, 聖諭) are whole, are read as they are, and stay.

A line is such a strip when all of these hold. Measured with PP-OCR's lines on the 22 vertical
images of ../shared/realpages as they are (scratch screen, benchmarks/README.md, session 13): 12
cut strips (欽定四庫全書 and the like, 石頭記, 五凉全誌), and 13 narrow lines at the edge of the
text that are whole (卷一, 史記, 聖諭, small commentary, a page number); and on four of them made
to look scanned (`ocr_accuracy.py --realpages --degrade e`), 4 strips and 5 whole lines:

- it lies at the outer edge of the page's text: no other line lies wholly beyond it on its side
  (the text's extent, not the image's edge: a scan has margins, and a skewed scan's fold runs
  across the image);
- it is narrower than NARROW of the page's column (the median width of its lines): the strips
  measured 0.38-0.67 of it. A whole column at the edge of the text is as wide as the rest, but
  the whole narrow lines measured 0.26-0.74 too, so width alone does not decide;
- and it is read with doubt (its line confidence below LINE_DOUBT and its weakest character
  below GLYPH_DOUBT), or the image's edge cuts through its characters (below). The strips:
  56.3-85.1 and 14.5-59.3; the whole narrow lines: at least 89.4 and 80.0 (史記 on
  shiji_col_p3 aged and skewed; as they are at least 96.5 and 96.4). Each threshold lies
  between the two on its own. Two strips read with confidence passed that test: hlm_p9's 石頁己
  as it is (95.5, weakest 92.4), which the image's edge cuts, and siku_mulu_p30's 金 (99.6),
  which stays. A strip read right but cut (shiji_bw_p4's 欽定四庫全書, 70.2) goes, as the
  ground truth leaves it out: it is the running title every leaf repeats.

A strip can also be read with confidence (hlm_p9's 石頁己: half of 石頭記, read as three other
whole characters). Where the page image ends at the fold, the image's edge cuts through the
strip's characters, and a cut character is not a character of the page (the ground truth leaves
it out for that reason). So a narrow line at the text's outer edge whose box reaches the image's
edge is a strip too when its ink runs off the image: the outermost column of pixels along it is
ink over at least EDGE_INK of its length (hlm_p9's strip: 0.19). Whole characters beside the
fold stop short of it (wuliang_zhi_p1's 智集, whose box also reaches the edge: 0.00), and so
does a page scanned with a margin. Session 14 (benchmarks/README.md, "Session 14, text in logos
and diagrams").
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
from PIL import Image

from .engines import OcrLine, Reading
from .layout import is_vertical

# The page's step where a strip was left out: an editor who sees the fold's title on the scan
# and not in the text is told why (`wenshi show --json`).
STEP_CUT_STRIP = "half-cut-strip-left-out"
NARROW = 0.75
LINE_DOUBT = 88.0
GLYPH_DOUBT = 70.0
EDGE_INK = 0.1
_CONTRAST = 32  # grey levels between a line's paper and its ink, at least, for ink to be told


def drop_cut_strip(reading: Reading, image: Image.Image | None = None
                   ) -> tuple[Reading, tuple[OcrLine, ...]]:
    """`reading` without the lines of a half-cut 版心 strip at its page's edge, and those lines.
    Only a vertical page has one; any other reading comes back as it is. `image` is the image
    read (None: the image's edge is not looked at)."""
    lines = [line for line in reading.lines if line.text.strip()]
    if len(lines) < 3 or not is_vertical(lines):
        return reading, ()
    column = statistics.median(line.box[2] - line.box[0] for line in lines)
    cut = tuple(line for line in lines if _cut(line, lines, column, image))
    if not cut:
        return reading, ()
    gone = {id(line) for line in cut}
    return replace(reading, lines=tuple(x for x in reading.lines if id(x) not in gone)), cut


def _cut(line: OcrLine, lines: list[OcrLine], column: float, image: Image.Image | None
         ) -> bool:
    left, _, right, _ = line.box
    if right - left >= NARROW * column:
        return False
    others = [x for x in lines if x is not line]
    leftmost = not any(x.box[2] <= left for x in others)
    rightmost = not any(x.box[0] >= right for x in others)
    if not (leftmost or rightmost):
        return False
    if image is not None and _runs_off(line, image, leftmost, rightmost):
        return True
    if line.confidence >= LINE_DOUBT or not line.glyphs:
        return False
    return min(g.confidence for g in line.glyphs) < GLYPH_DOUBT


def _runs_off(line: OcrLine, image: Image.Image, leftmost: bool, rightmost: bool) -> bool:
    """The line's box reaches the image's edge on its outer side, and its ink runs off the image
    there: ink in the edge's column of pixels over EDGE_INK of the line's length or more."""
    left, top, right, bottom = line.box
    width, height = image.size
    at_left, at_right = leftmost and left <= 0, rightmost and right >= width - 1
    top, bottom = max(0, top), min(height, bottom)
    if not (at_left or at_right) or bottom <= top:
        return False
    # Only the line's own pixels are looked at: its paper and ink (most of a column's box is
    # paper; its darkest twentieth is ink).
    right = width if at_right else min(width, right)
    box = np.asarray(image.crop((max(0, left), top, right, bottom)).convert("L"))
    paper, ink = np.percentile(box, 50), np.percentile(box, 5)
    if box.shape[1] == 0 or paper - ink < _CONTRAST:
        return False  # no ink in the box (a blank edge)
    edge = box[:, 0] if at_left else box[:, -1]
    return bool((edge < (paper + ink) / 2).mean() >= EDGE_INK)
