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
- and it is read with doubt: its line confidence below LINE_DOUBT and its weakest character
  below GLYPH_DOUBT. The strips: 56.3-85.1 and 14.5-59.3; the whole narrow lines: at least 89.4
  and 80.0 (史記 on shiji_col_p3 aged and skewed; as they are at least 96.5 and 96.4). Each
  threshold lies between the two on its own. Two strips read with confidence stay, as before:
  hlm_p9's 石頁己 as it is (95.5, weakest 92.4) and siku_mulu_p30's 金 (99.6). A strip read
  right but cut (shiji_bw_p4's 欽定四庫全書, 70.2) goes, as the ground truth leaves it out: it
  is the running title every leaf repeats.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from .engines import OcrLine, Reading
from .layout import is_vertical

# The page's step where a strip was left out: an editor who sees the fold's title on the scan
# and not in the text is told why (`wenshi show --json`).
STEP_CUT_STRIP = "half-cut-strip-left-out"
NARROW = 0.75
LINE_DOUBT = 88.0
GLYPH_DOUBT = 70.0


def drop_cut_strip(reading: Reading) -> tuple[Reading, tuple[OcrLine, ...]]:
    """`reading` without the lines of a half-cut 版心 strip at its page's edge, and those lines.
    Only a vertical page has one; any other reading comes back as it is."""
    lines = [line for line in reading.lines if line.text.strip()]
    if len(lines) < 3 or not is_vertical(lines):
        return reading, ()
    column = statistics.median(line.box[2] - line.box[0] for line in lines)
    cut = tuple(line for line in lines if _cut(line, lines, column))
    if not cut:
        return reading, ()
    gone = {id(line) for line in cut}
    return replace(reading, lines=tuple(x for x in reading.lines if id(x) not in gone)), cut


def _cut(line: OcrLine, lines: list[OcrLine], column: float) -> bool:
    left, _, right, _ = line.box
    if right - left >= NARROW * column:
        return False
    if line.confidence >= LINE_DOUBT or not line.glyphs:
        return False
    if min(g.confidence for g in line.glyphs) >= GLYPH_DOUBT:
        return False
    others = [x for x in lines if x is not line]
    leftmost = not any(x.box[2] <= left for x in others)
    rightmost = not any(x.box[0] >= right for x in others)
    return leftmost or rightmost
