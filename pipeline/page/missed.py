"""Lines the detector missed: text-like ink that no line read, read again in a strip around it.

PP-OCR's detector looks at the whole page at once (scaled to 2000 pixels); a line printed over a
watermark or a tinted emblem can come out of it as no box at all, while the same line in a strip
cut from the page reads right (ccu_thesis_p3: the one body line over the university emblem;
raw rapidocr misses it too). What is left of the page's text-like ink once every line read has
claimed its own (pipeline/page/pagelook.py, the `unread_ink` signal of the page-quality
estimate) shows where: ink the size of characters, in a run at least a digit wide and one line
high. Each such run is read again in a strip of the page around it, and the lines read there
that lie on the run, and on no line already read, join the page's lines.

Runs shorter than a line (`_LINE_CHARS`) are the numbers the detector drops when they stand
alone: page numbers at the end of a contents page's dot leaders (cy_gazette_p1, p2), figures in
a table (ccu_thesis_p23). On the real pages the other short runs were bullets, rings and pieces
of logos, read as O, 0, M or 中, and set larger than the text. So a short run is looked for only
when it is no taller than the text's characters, and what is read on it is taken only when it
is a number (its letters and digits all digits). The line read around a short run may be
longer than the run (a leader's dots are not text ink): a line is taken when it lies on the
run's rows and either lies mostly in its columns or covers most of them.
Everything after that (figures, reading order, the look-alike correction) treats them as any
other line. A page without such a run (nearly every page) costs the ink measurement alone,
tens of milliseconds at pagelook's working scale.

Only horizontal pages: on vertical pages the unread ink measured was seals, 版心 marks and
emphasis circles, none of them lines of the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import cv2
import numpy as np
from PIL import Image

from .engines import Box, OcrLine, Reading
from .pagelook import PageInk, page_ink

# The page step recorded when lines were added this way.
STEP_MISSED_LINES = "missed-lines"
# A run of unread ink becomes a line to look for when it is at least this many characters long
# (a digit is half a character wide)...
_MIN_CHARS = 0.4
# ...and between these many characters high (a line, not a paragraph or a speck).
_MIN_HIGH, _MAX_HIGH = 0.5, 1.8
# A run shorter than this many characters is a short run (see the module's doc): it is looked
# for only up to one character high, and only numbers read on it are taken.
_LINE_CHARS = 4.0
_SHORT_MAX_HIGH = 1.0
# Characters of a line lie this close (in characters); a run is joined across such gaps.
_JOIN = 1.0
# The strip read around a run: this many characters above, below and to each side of it (the
# detector needs some page around a line to find it).
_CONTEXT = 1.5
# A line read in the strip is taken when this share of its height lies inside the run's rows
# and of its width inside the run's columns, and this little of it overlaps a line read before.
_ON_RUN = 0.5
_OVERLAP = 0.2
# At most this many runs are read again on one page: a page with more is not a page with a line
# or two missed but one the detector did not read (a picture, a chart), and the strips would
# cost more than the page.
_MOST_RUNS = 6


def missed_runs(image: Image.Image, lines: Sequence[OcrLine], known: PageInk | None = None
                ) -> list[Box]:
    """Boxes (in `image` pixels) of line-like runs of text ink outside every line read (the
    page's ink measured with them: `known` when given, see pagelook.page_ink)."""
    if not lines or sum(line.vertical for line in lines) * 2 > len(lines):
        return []
    ink = page_ink(image, [line.box for line in lines], known)
    if ink is None:
        return []
    char = ink.size * ink.scale
    unread = (ink.text_ink & ~ink.covered).astype(np.uint8)
    if not unread.any():
        return []
    join = max(1, int(round(_JOIN * char)))
    joined = cv2.morphologyEx(unread, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (join, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    runs = []
    for x, y, w, h, area in stats[1:]:
        highest = _MAX_HIGH if w >= _LINE_CHARS * char else _SHORT_MAX_HIGH
        if w >= _MIN_CHARS * char and _MIN_HIGH * char <= h <= highest * char:
            runs.append((int(area), (x, y, x + w, y + h)))
    runs.sort(reverse=True)
    return [tuple(int(round(v / ink.scale)) for v in box)  # type: ignore[misc]
            for _, box in runs[:_MOST_RUNS]]


def read_missed(reading: Reading, image: Image.Image,
                read: Callable[[Image.Image], Reading]) -> tuple[Reading, int]:
    """`reading` with the lines found by reading again, with `read`, a strip around each missed
    run; and how many lines were added. The page's ink measured on the way is kept in the
    reading (`Reading.ink`, for the lines it was measured with)."""
    ink = page_ink(image, [line.box for line in reading.lines], reading.ink)
    reading = replace(reading, ink=ink)
    runs = missed_runs(image, reading.lines, ink)
    if not runs or ink is None:
        return reading, 0
    pad = int(_CONTEXT * ink.size)
    added: list[OcrLine] = []
    for run in runs:
        short = run[2] - run[0] < _LINE_CHARS * ink.size
        left, top = max(0, run[0] - pad), max(0, run[1] - pad)
        right, bottom = min(image.width, run[2] + pad), min(image.height, run[3] + pad)
        strip = read(image.crop((left, top, right, bottom)))
        for line in strip.lines:
            moved = _moved(line, left, top)
            if short and not _number(line.text):
                continue
            if _on(moved.box, run) and not any(
                    _overlap(moved.box, other.box) > _OVERLAP
                    for other in (*reading.lines, *added)):
                added.append(moved)
    if not added:
        return reading, 0
    return replace(reading, lines=reading.lines + tuple(added)), len(added)


def _number(text: str) -> bool:
    """The text's letters and digits are all digits (a page number, a figure in a table)."""
    signs = [c for c in text if c.isalnum()]
    return bool(signs) and all(c.isdigit() for c in signs)


def _moved(line: OcrLine, dx: int, dy: int) -> OcrLine:
    def box(b: Box) -> Box:
        return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)
    return replace(line, box=box(line.box),
                   polygon=tuple((x + dx, y + dy) for x, y in line.polygon),
                   glyphs=tuple(replace(g, box=box(g.box)) for g in line.glyphs))


def _on(box: Box, run: Box) -> bool:
    """The line lies on the run: most of its height in the run's rows, and most of its width in
    the run's columns or most of the run's width in its own."""
    high = min(box[3], run[3]) - max(box[1], run[1])
    wide = min(box[2], run[2]) - max(box[0], run[0])
    return (high >= _ON_RUN * (box[3] - box[1])
            and wide >= _ON_RUN * min(box[2] - box[0], run[2] - run[0]))


def _overlap(a: Box, b: Box) -> float:
    """The share of `a`'s area that `b` covers."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1, (a[2] - a[0]) * (a[3] - a[1]))
