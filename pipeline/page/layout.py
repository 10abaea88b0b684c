"""Reading order and roles of a page's text lines, from the OCR engine's line boxes alone.

PP-OCR (rapidocr) returns lines sorted top to bottom, left to right: right for one column of
text, wrong for two columns, tables read cell by cell and vertical pages (it sorts columns left
to right). This module puts the lines of one page into reading order and gives each a role, from
nothing but the line boxes, so it runs (and is tested) without an image or an engine.

The algorithm is a recursive XY-cut (Nagy & Seth 1984; Ha, Haralick & Phillips 1995) on the line
boxes, with every threshold a multiple of the page's own character size (the median line height,
or column width on vertical pages) rather than pixels:

1. Direction: the page is vertical when most of its characters sit in vertical lines. A vertical
   page is turned a quarter (x' = y, y' = width - x), so its columns, read right to left and each
   top to bottom, become rows read top to bottom and each left to right; from here on one
   algorithm serves both.
2. Running heads and feet: the first (last) band of lines across the page is a header (footer)
   when it lies in the outer eighth of the page, is no taller than two lines of body text, is
   not set larger than the body, and is set apart from the body by a wider gap than the body's
   own line gaps. Page numbers (digits, 第N页, - 3 -, roman numerals) in those bands get their
   own role. A 版心 strip at the edge of a vertical half-leaf comes out the same way.
3. The body is cut recursively: in each region, the blank bands that cross it entirely, across
   (between rows) and down (gutters between columns). The wider kind of gap wins, measured in
   character sizes, so a two-column page is cut at its gutter before its lines, and a title
   spanning both columns (no gutter crosses it) is cut off first. A region whose columns are
   not running text (narrow, ragged lines) and whose rows line up across them is a table: it
   is cut into rows first, so it is read row by row, each cell top to bottom. Rows of a table
   that share a band (a value centred over them, boxes touching) are read as rows
   (`_sub_rows`). A list's numbers or bullets, or a contents column's page numbers, beside one
   column of text are read with the line they stand beside (`_labelled`). A region with no gap
   left is read in rows of overlapping lines, left to right; the two rows of a double-row note
   (夹注) in a classical page's column are read one after the other where the note stands
   (`_double_row`).
4. Captions (图 1, 表 2-3, Figure 4, ...) keep their place in the body with their own role.
5. Lines inside a figure the caller found on the page image (pipeline.page.figures: plots,
   photos, drawings) get the role `figure` and stay out of the page text: an axis tick or a
   logo in a photo is not text of the page; a line set clearly larger than the page's text is
   a label set on the graphics, and stays the page's. A figure that a line of the page runs
   into, two characters and more, lies behind the text instead (a seal stamped over the columns, a
   watermark, a tinted panel): it is not a figure, and the lines inside it stay the page's
   (`behind_text`). Lines at least half inside a figure a layout model found
   (pipeline.page.engines.layout_model: boxed diagrams, example boxes, plots with their labels)
   get the role `figure` too, where `model_figures` accepts it: on a horizontal page, holding
   less than a third of the page's characters, captions (图 1 ...) kept, and not a table's cells
   (`_holds_table`: a ruled table scanned askew is a figure to the model). Lines the caller
   found set in a picture placed on the page (pipeline.page.pictured: a logo, a diagram pasted
   in as an image) get the role `figure` wherever they stand, margins included.

Headers, footers and page numbers come first and last in the order (where a printed page puts
them), so the page text stays complete and searchable; manuscripts drop them by role.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from lxml import etree

BODY = "body"
HEADER = "header"
FOOTER = "footer"
PAGE_NUMBER = "page-number"
CAPTION = "caption"
FIGURE = "figure"  # text inside a plot, photo or drawing: not part of the page's text
ROLES = (BODY, HEADER, FOOTER, PAGE_NUMBER, CAPTION, FIGURE)
# Roles a manuscript leaves out (they repeat on every page); search still finds them.
MARGINAL_ROLES = frozenset({HEADER, FOOTER, PAGE_NUMBER})

# A running head or foot lies in the outer eighth of the page (the printing convention the
# realpages ground truth also follows) ...
_MARGIN_SHARE = 0.125
# ... is at most this many body lines tall (a head with a rule, or a two-line foot) ...
_MARGIN_MAX_LINES = 2.5
# ... is not set larger than the body (a title at the top of a page is) ...
_MARGIN_MAX_SIZE = 1.05
_MARGIN_PIECES = 3
# ... and is parted from the body by a gap wider than this many times the body's usual gap.
_MARGIN_GAP_RATIO = 1.5
_MARGIN_MIN_GAP = 0.75
# Blank bands narrower than this share of a character do not separate anything (detector boxes
# of neighbouring lines touch or overlap by a few pixels).
_MIN_GAP = 0.01
# A line counts as inside a figure if it sticks out of it by at most this many characters: the
# figure is its graphics (curves, a photo), and tick labels and legends sit at their edge.
_FIGURE_LEEWAY = 1.5
# ... and when it is set no larger than this many times the page's character size. The text of a
# plot or drawing found in the page's ink (tick labels, legends, axis labels) is set no larger
# than the text around it: on ../shared/realpages its lines measured 0.40-1.26 times the page's
# character size (48 lines: ccu_thesis_p14 and p15, at 300 and 150 dpi; the larger ones are
# legends with superscripts, whose boxes are looser). Text set clearly larger is a label set on
# the graphics, which the page's text holds: the names on the coloured discs of a diagram
# (ali_slides_p13, 1.50-1.62), whose ring the ink test takes for a figure. Dropping real text
# costs more than keeping a figure's word, so the line stays the page's (benchmarks/README.md,
# "Session 14, text in logos and diagrams"). The layout model's figures are not held to it: the
# model sees a diagram with its labels.
_FIGURE_TEXT_MAX = 1.4
# A figure is behind the text when a line that is not inside it overlaps it by at least this
# many characters' area: text set around a figure stops at its edge (within the leeway above),
# while text printed over a seal or a watermark runs on through it. Seen first on
# ../shared/realpages made to look scanned (`ocr_accuracy.py --realpages --degrade e`): on
# shiji_col_p1 the red seal behind the first columns, grey once the page is a black-and-white
# scan, was a figure, and the four columns inside it were left out (benchmarks/README.md).
_BEHIND_TEXT = 2.0
# A layout model's figure is taken on a horizontal page when it holds less than this share of
# the page's characters: a figure is part of a page, not its body. Measured on
# ../shared/realpages (benchmarks/README.md, "Real pages"): on horizontal pages the CDLA
# model's figures that were figures held 0-18% of their page's characters (javamanual_p40's
# diagram 7%, journal_cjc_p2's example box 14%, plots 16-18%); three sub-plots with their
# sub-captions, which the page's text holds, 37%; gazette columns, slides and whole pages it
# called figures 52-100%.
_MODEL_FIGURE_SHARE = 1 / 3
# ... and a line belongs to it when at least this share of its box lies inside (the model's box
# takes in the figure's labels; a caption or the body line next to it only touches it).
_MODEL_FIGURE_INSIDE = 0.5
# A layout model's figure whose lines are a table's cells is not taken (`_holds_table`). Seen
# first on ../shared/realpages made to look scanned (`ocr_accuracy.py --realpages --degrade
# b2.5`): turned 2.5°, the ruled table of luatexcn_doc_p4 became the CDLA model's figure (as it
# is, the model finds no region there) and its cells were left out of the page text
# (benchmarks/README.md, "Session 15, real pages made to look scanned"). The model's figures on
# the pages as they are hold labels, ticks and legends, or one framed paragraph (journal_cjc_p2's
# example box, which the ground truth leaves out): none has a column of running text beside
# another column. Askew, a row's cells lie a few pixels higher or lower the further right they
# are, so a row partner need only overlap a line by _ROW_OVERLAP of its height, not _GRID_OVERLAP.
# Where a region could be cut either way, a cut down it (between columns) must be at least this
# wide to win: narrower gaps down a region part a heading from its run-in note, not columns.
_GUTTER = 0.5
# A column runs down at least this share of the region it is cut from.
_COLUMN_RUN = 0.5
# Columns of running text: at least this many characters wide, their lines filling this share
# of the column's width (median). Table columns are narrower or ragged.
_PROSE_MIN_WIDTH = 6.0
_PROSE_MIN_FILL = 0.8
# Page columns are about as wide as each other (narrowest / widest at least this).
_EVEN_COLUMNS = 0.85
# A region is a grid (a table, or page columns set on one baseline grid) when this share of its
# lines has a partner in another column overlapping it by this share of the height.
_TABLE_ROW_SHARE = 0.6
_GRID_OVERLAP = 0.8
# Two lines are on one row when they overlap by this share of the shorter one's height.
_ROW_OVERLAP = 0.5
# A double-row note (夹注, 双行小注: commentary set in two half-width rows inside a column of a
# classical page, right row first): two lines one above the other in the reading frame (they
# overlap across by at most _STACKED of the smaller one's height) that together span a line of
# the row set larger than they are, to _COVER of its height each side. The notes of shiji_bw_p4
# and shiji_col_p3 in ../shared/realpages are set at 0.71-0.79 of the main text's size, not
# half: one row alone does not lie within the main line, the two together reach across it.
# Their rows are at most _NOTE_SIZE of the line beside them; lines one above the other beside a
# line of their own size (zupu_p1 and p2's genealogy tables) measure 0.94-1.0.
_STACKED = 0.25
_COVER = 0.1
_NOTE_SIZE = 0.9

_PAGE_NUMBER = re.compile(
    r"^[\s\-–—·.(（\[]*"
    r"(?:(?:第\s*)?[0-9０-９]+(?:\s*[页頁])?(?:\s*[/／]\s*[0-9０-９]+)?"
    r"|(?:page|p\.)\s*[0-9]+"
    r"|[ivxlcdm]+"
    r"|第\s*[〇零一二三四五六七八九十百]+\s*[页頁]"
    r"|共\s*[0-9]+\s*[页頁]\s*第\s*[0-9]+\s*[页頁])"
    r"[\s\-–—·.)）\]]*$",
    re.IGNORECASE,
)
# A page number or amount in a table-of-contents column: digits, maybe with leader dots.
_NUMBER = re.compile(r"^[\s.…·‧,，:：-]*[0-9０-９]+[\s.…·‧]*$")
_NUMBER_SHARE = 0.7
# A list's label: an item number ([1], (2), 3., 4、, ①) or a bullet; a page number beside a
# contents entry (_NUMBER) is one too. Not ○: a classical page's section mark and emphasis
# circles, and a misread 〇.
_LABEL = re.compile(r"^\s*(?:[\[(（]?[0-9０-９]{1,3}[\])）.．、]?|[①-⑳]|[•·■□◆◇▪●▶►*])\s*$")
_CAPTION = re.compile(
    r"^\s*(?:[图圖表]|附[图圖表]|插[图圖]|照片|Fig\.?|Figure|Table|Photo)\s*"
    r"[0-9０-９一二三四五六七八九十]+(?:\s*[-–.．]\s*[0-9０-９]+)*"
    # then a title: a caption, not a sentence that mentions 表 4-2。
    r"(?:\s*[:：.．]\s*|\s+|(?![\s\d.．。，,、；;)）\-–]))[^\s。，,、；;]",
    re.IGNORECASE,
)

Box = tuple[int, int, int, int]


class LineLike(Protocol):
    """What layout needs of an engine's line: its text, box, confidence and direction."""

    @property
    def text(self) -> str: ...

    @property
    def box(self) -> Box: ...

    @property
    def vertical(self) -> bool: ...


L = TypeVar("L", bound=LineLike)
L_co = TypeVar("L_co", bound=LineLike, covariant=True)


class ReadingLike(Protocol[L_co]):
    """What one engine run returns for a page: its lines and the size of the image read."""

    @property
    def lines(self) -> Sequence[L_co]: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...


@dataclass(frozen=True)
class PlacedLine(Generic[L]):
    """One engine line in its place: its role on the page and the block it was read in."""

    line: L
    role: str
    block: int


@dataclass(frozen=True)
class PageLayout(Generic[L]):
    """The lines of one page in reading order (heads first, feet last), with their roles."""

    lines: tuple[PlacedLine[L], ...]
    vertical: bool
    char_size: float

    def text(self, marginal: bool = True, figures: bool = False) -> str:
        """The page text, one line per line; the head and the foot set apart from the body by a
        blank line (so the clean-up never joins them to it); without them if asked. Text read
        inside figures is left out unless asked for."""
        parts: list[list[str]] = [[], [], []]
        seen_body = False
        for p in self.lines:
            if p.role == FIGURE and not figures:
                continue
            if p.role in MARGINAL_ROLES:
                if marginal:
                    parts[2 if seen_body else 0].append(p.line.text)
            else:
                seen_body = True
                parts[1].append(p.line.text)
        return "\n\n".join("\n".join(part) for part in parts if part)


@dataclass(frozen=True)
class _Item:
    index: int
    left: float
    top: float
    right: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def width(self) -> float:
        return self.right - self.left


def order_lines(lines: Sequence[L], width: int, height: int, figures: Sequence[Box] = (),
                model_regions: Sequence[Box] = (),
                pictured: Collection[int] = ()) -> PageLayout[L]:
    """Put one page's engine lines into reading order and give each a role (see module doc).

    `figures` are the boxes of the page's plots, photos and drawings (pipeline.page.figures):
    a line inside one is text of the figure (role `figure`), not of the page. `model_regions`
    are the figures a layout model found; those `model_figures` accepts count the same way.
    `pictured`: the indexes in `lines` of lines set in a picture (pipeline.page.pictured), text
    of the picture wherever they stand."""
    kept = [i for i, line in enumerate(lines) if line.text.strip()]
    vertical = is_vertical([lines[i] for i in kept])
    taken = () if vertical else model_figures([lines[i] for i in kept], model_regions,
                                              figures)
    items = [_frame(i, lines[i], width, vertical) for i in kept]
    extent = float(width if vertical else height)
    if not items:
        return PageLayout((), vertical, 0.0)
    size = _char_size(items)
    figures = [f for f in figures if not behind_text(f, [lines[i] for i in kept], size)]
    heads, body, feet = _margins(items, size, extent)
    # Double-row notes are a vertical page's: a horizontal page's notes are footnotes, and its
    # lines one above the other beside a taller one are a slide's or a form's (scu_slides_p28).
    blocks = _xy_cut(body, size, notes=vertical)
    placed: list[PlacedLine[L]] = []
    for it in _rows(heads):
        placed.append(PlacedLine(lines[it.index], FIGURE if it.index in pictured
                                 else _margin_role(it.text, HEADER), -1))
    for n, block in enumerate(blocks):
        for it in block:
            line = lines[it.index]
            caption = bool(_CAPTION.match(it.text))
            role = (FIGURE if (any(_within(line.box, f, size) for f in figures)
                               and _short_side(line.box) <= _FIGURE_TEXT_MAX * size)
                    or it.index in pictured
                    or (not caption and any(_mostly_inside(line.box, f) for f in taken))
                    else CAPTION if caption else BODY)
            placed.append(PlacedLine(line, role, n))
    for it in _rows(feet):
        placed.append(PlacedLine(lines[it.index], FIGURE if it.index in pictured
                                 else _margin_role(it.text, FOOTER), -1))
    return PageLayout(tuple(placed), vertical, size)


def _short_side(box: Box) -> int:
    """A line's height (a vertical line's width): the size its characters are set in."""
    return min(box[2] - box[0], box[3] - box[1])


def _within(box: Box, figure: Box, size: float) -> bool:
    """The line lies inside the figure, give or take the leeway (tick labels stick out)."""
    leeway = _FIGURE_LEEWAY * size
    return (box[0] >= figure[0] - leeway and box[1] >= figure[1] - leeway
            and box[2] <= figure[2] + leeway and box[3] <= figure[3] + leeway)


def behind_text(figure: Box, lines: Sequence[LineLike], size: float) -> bool:
    """Some line of the page runs into the figure without lying inside it (_BEHIND_TEXT)."""
    for line in lines:
        box = line.box
        across = min(box[2], figure[2]) - max(box[0], figure[0])
        down = min(box[3], figure[3]) - max(box[1], figure[1])
        if (across > 0 and down > 0 and across * down >= _BEHIND_TEXT * size * size
                and not _within(box, figure, size)):
            return True
    return False


def _mostly_inside(box: Box, region: Box) -> bool:
    """At least _MODEL_FIGURE_INSIDE of the line's box lies inside the region."""
    across = min(box[2], region[2]) - max(box[0], region[0])
    down = min(box[3], region[3]) - max(box[1], region[1])
    area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
    return across > 0 and down > 0 and across * down >= _MODEL_FIGURE_INSIDE * area


def model_figures(lines: Sequence[LineLike], regions: Sequence[Box],
                  figures: Sequence[Box] = ()) -> tuple[Box, ...]:
    """The figures of a layout model taken as figures on a horizontal page of `lines`: those
    holding less than _MODEL_FIGURE_SHARE of the page's characters (captions not counted), and
    not the cells of a table (`_holds_table`) unless the page's ink holds graphics there too
    (`figures`, pipeline.page.figures: a plot's curves)."""
    def chars(line: LineLike) -> int:
        return len("".join(line.text.split()))

    total = sum(chars(line) for line in lines)
    size = _char_size([_frame(i, line, 0, False) for i, line in enumerate(lines)]) if lines else 1.0
    taken = []
    for region in regions:
        held = [line for line in lines
                if _mostly_inside(line.box, region) and not _CAPTION.match(line.text)]
        if sum(chars(line) for line in held) >= _MODEL_FIGURE_SHARE * total:
            continue
        if _holds_table(held, size) and not any(_overlaps(region, f) for f in figures):
            continue
        taken.append(region)
    return tuple(taken)


def _holds_table(lines: Sequence[LineLike], size: float) -> bool:
    """The lines are a table's cells: they stand in two or more columns (blank bands down
    between them), most of them on a row with a line of another column, and one column is
    running text (wrapped lines filling it, `_is_prose`). A figure's text is labels, ticks and
    legends, or one framed paragraph."""
    items = [_frame(i, line, 0, False) for i, line in enumerate(lines)]
    if len(items) < 2:
        return False
    columns = _split(items, _gaps([(it.left, it.right) for it in items], _MIN_GAP * size),
                     across=False)
    return (len(columns) > 1 and _aligned(columns, _ROW_OVERLAP)
            and any(len(column) > 1 and _is_prose(column, size) for column in columns))


def _overlaps(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def marginal_texts(alto: etree._Element | None) -> tuple[str, ...]:
    """The texts of the lines an ALTO page tags as running head, foot or page number.

    The page's ALTO carries each line's role as a LayoutTag (LABEL = the role) that its
    TextBlock names in TAGREFS; a manuscript leaves these lines out of the page text.
    """
    if alto is None:
        return ()
    marginal = {tag.get("ID") for tag in alto.iter("{*}LayoutTag")
                if tag.get("LABEL") in MARGINAL_ROLES}
    texts = []
    for block in alto.iter("{*}TextBlock"):
        if marginal.intersection((block.get("TAGREFS") or "").split()):
            for line in block.iter("{*}TextLine"):
                texts.append("".join(s.get("CONTENT", "") for s in line.iter("{*}String")))
    return tuple(texts)


def order_reading(reading: ReadingLike[L], figures: Sequence[Box] = (),
                  model_regions: Sequence[Box] = (),
                  pictured: Collection[int] = ()) -> PageLayout[L]:
    """`order_lines` on what an engine returned for one page."""
    return order_lines(reading.lines, reading.width, reading.height, figures, model_regions,
                       pictured)


def _margin_role(text: str, role: str) -> str:
    """A line in a running head or foot: a page number, or the head (foot) itself."""
    return PAGE_NUMBER if _PAGE_NUMBER.match(text.strip()) else role


def is_vertical(lines: Sequence[LineLike]) -> bool:
    """Most characters sit in vertical lines (one-character lines have no direction)."""
    down = sum(len(line.text) for line in lines if line.vertical and len(line.text) > 1)
    across = sum(len(line.text) for line in lines if not line.vertical and len(line.text) > 1)
    return down > across


def _frame(index: int, line: LineLike, width: int, vertical: bool) -> _Item:
    """The line's box in the reading frame: vertical pages turned so columns become rows."""
    left, top, right, bottom = line.box
    if vertical:
        return _Item(index, float(top), float(width - right), float(bottom), float(width - left),
                     line.text)
    return _Item(index, float(left), float(top), float(right), float(bottom), line.text)


def _char_size(items: Sequence[_Item]) -> float:
    """Median line height in the reading frame (the character size), lines of 2+ characters."""
    heights = [it.height for it in items if len(it.text.strip()) > 1] or [
        it.height for it in items]
    return max(float(statistics.median(heights)), 1.0)


def _gaps(spans: Sequence[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    """Blank stretches (start, end) at least `min_gap` long between the union of the spans."""
    order = sorted(spans)
    gaps: list[tuple[float, float]] = []
    reach = order[0][1]
    for start, end in order[1:]:
        if start - reach >= min_gap:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def _split(items: Sequence[_Item], gaps: Sequence[tuple[float, float]],
           across: bool) -> list[list[_Item]]:
    """Items into the pieces between the gaps, first piece first (top, or left)."""
    pieces: list[list[_Item]] = [[] for _ in range(len(gaps) + 1)]
    for it in items:
        pos = it.top if across else it.left
        pieces[sum(1 for g in gaps if pos >= g[1])].append(it)
    return [p for p in pieces if p]


def _margins(items: list[_Item], size: float, extent: float
             ) -> tuple[list[_Item], list[_Item], list[_Item]]:
    """Split off the running head (first band) and foot (last band) where they are set apart."""
    gaps = _gaps([(it.top, it.bottom) for it in items], _MIN_GAP * size)
    if not gaps:
        return [], items, []
    bands = _split(items, gaps, across=True)
    # A margin's gap must be wider than the body's leading, and than half a character.
    parted = max(_MARGIN_GAP_RATIO * _leading(items), _MARGIN_MIN_GAP * size)

    def marginal(group: list[list[_Item]], gap: tuple[float, float], at_top: bool) -> bool:
        band = [it for b in group for it in b]
        top = min(it.top for it in band)
        bottom = max(it.bottom for it in band)
        inside = bottom <= extent * _MARGIN_SHARE if at_top else top >= extent * (
            1 - _MARGIN_SHARE)
        # A band holding a page number, or pieces spread across the page (title, author,
        # folio), is a running head or foot whatever its type size (a journal's name is often
        # set larger than its text); a heading alone at the top of a page is one piece.
        small = (max(it.height for it in band) <= _MARGIN_MAX_SIZE * size
                 or len(band) >= _MARGIN_PIECES
                 or any(_PAGE_NUMBER.match(it.text.strip()) for it in band))
        return (inside and bottom - top <= _MARGIN_MAX_LINES * size and small
                and gap[1] - gap[0] >= parted)

    heads: list[_Item] = []
    feet: list[_Item] = []
    # A head or foot is one band, or two (a running head over a rule and a page number line).
    for k in (2, 1):
        if len(bands) > k and marginal(bands[:k], gaps[k - 1], at_top=True):
            heads = [it for b in bands[:k] for it in b]
            bands, gaps = bands[k:], gaps[k:]
            break
    for k in (2, 1):
        if len(bands) > k and marginal(bands[-k:], gaps[-k], at_top=False):
            feet = [it for b in bands[-k:] for it in b]
            bands, gaps = bands[:-k], gaps[:-k]
            break
    body = [it for band in bands for it in band]
    return heads, body, feet


def _leading(items: Sequence[_Item]) -> float:
    """The body's usual gap between a line and the next one below it in the same column."""
    ordered = sorted(items, key=lambda i: i.top)
    tops = [it.top for it in ordered]
    gaps = []
    for it in ordered:
        best: float | None = None
        # Candidates start below the line's middle; sorted by top, so once a candidate's top is
        # further down than the best gap found, none after it can be nearer.
        for o in ordered[bisect.bisect_right(tops, (it.top + it.bottom) / 2):]:
            gap = max(o.top - it.bottom, 0.0)
            if best is not None and gap > best:
                break
            if min(o.right, it.right) - max(o.left, it.left) >= _ROW_OVERLAP * min(o.width,
                                                                                   it.width):
                best = gap if best is None else min(best, gap)
        if best is not None:
            gaps.append(best)
    return float(statistics.median(gaps)) if gaps else 0.0


def _xy_cut(items: list[_Item], size: float, notes: bool = False) -> list[list[_Item]]:
    """Recursive XY-cut: the blocks of the region in reading order, each in rows (`notes`:
    double-row notes kept together, `_rows`)."""
    if len(items) <= 1:
        return [items] if items else []
    min_gap = _MIN_GAP * size
    down = _gaps([(it.top, it.bottom) for it in items], min_gap)
    across = _gaps([(it.left, it.right) for it in items], min_gap)
    if not down and not across:
        return [_rows(items, notes)]
    columns = _split(items, across, across=False)
    if across and _labelled(columns):
        return [_rows(items, notes)]
    table = False
    if down and across:
        gutters = _page_columns(columns, across, size)
        if gutters:
            pieces = _split(items, gutters, across=False)
            return [block for piece in pieces for block in _xy_cut(piece, size, notes)]
        table = _is_table(columns, size)
        by_rows = (table or _widest(down) >= _widest(across) or _widest(across) < _GUTTER * size
                   or not _columns_run_down(columns, items))
    else:
        by_rows = bool(down)
    gaps = down if by_rows else across
    # Only the widest gaps (within a tenth of a character) are cut at this level: a title's gap
    # before the columns is wider than the line gaps that run across both columns. A table is
    # cut at every row gap at once.
    cut = gaps if table else [g for g in gaps if g[1] - g[0] >= _widest(gaps) - min_gap]
    pieces = _split(items, cut, across=by_rows)
    if table:
        return [_table_row(piece, min_gap, notes) for piece in pieces]
    return [block for piece in pieces for block in _xy_cut(piece, size, notes)]


def _columns_run_down(columns: list[list[_Item]], items: list[_Item]) -> bool:
    """Each piece a gutter would make runs down most of the region, as columns do; a short
    piece beside a tall one (a slide's corner logo) is no column."""
    height = max(it.bottom for it in items) - min(it.top for it in items)
    return all(max(it.bottom for it in c) - min(it.top for it in c) >= _COLUMN_RUN * height
               for c in columns)


def _labelled(columns: list[list[_Item]]) -> bool:
    """One column of text with labels beside its lines: every other column holds only labels
    (item numbers, bullets, page numbers: `_LABEL`, `_NUMBER`), each on a row with a line of
    another column. A hanging list's numbers, or a contents column's page numbers, read with
    the line they stand beside, not as a column of their own."""
    where = {id(it): n for n, col in enumerate(columns) for it in col}
    everything = [it for col in columns for it in col]

    def partnered(it: _Item) -> bool:
        return any(where[id(o)] != where[id(it)] and _on_a_row(it, o) for o in everything)

    labels = [all((_LABEL.match(it.text) or _NUMBER.match(it.text)) and partnered(it)
                  for it in col) for col in columns]
    return len(columns) - sum(labels) == 1


def _widest(gaps: Sequence[tuple[float, float]]) -> float:
    return max(g[1] - g[0] for g in gaps)


def _table_row(items: list[_Item], min_gap: float, notes: bool = False) -> list[_Item]:
    """One row band of a table: cell by cell when every cell is a stack of wrapped lines; in
    rows of overlapping lines when a cell spans others (a heading over sub-columns) or the band
    holds rows of the table (`_sub_rows`: a value centred over two rows; `_touching_rows`: a
    stack of numbers)."""
    cells = _cells(items, min_gap)
    if _sub_rows(cells) or _touching_rows(cells) or not all(_stack(cell) for cell in cells):
        return _rows(items, notes)
    return [it for cell in cells for it in sorted(cell, key=lambda i: i.top)]


def _cells(band: list[_Item], min_gap: float) -> list[list[_Item]]:
    """A row band's cells: its pieces between the blank bands down it, left to right."""
    return _split(band, _gaps([(it.left, it.right) for it in band], min_gap), across=False)


def _stack(cell: list[_Item]) -> bool:
    """A cell's lines lie one under the other (wrapped lines), none beside another."""
    lines = sorted(cell, key=lambda i: i.top)
    return all(min(a.right, b.right) - max(a.left, b.left) >= _ROW_OVERLAP * min(a.width, b.width)
               for a, b in zip(lines, lines[1:]))


def _sub_rows(cells: list[list[_Item]]) -> bool:
    """The band holds rows of the table, not cells of wrapped lines: its cells of two lines and
    more (two such cells at least) hold as many lines each, and their first lines lie on one
    row, their second lines on another, and so on. Such rows share a band when a cell centred
    over them (a p-value over two rows) or boxes touching leave no gap across the table."""
    stacks = [sorted(cell, key=lambda i: i.top) for cell in cells if len(cell) > 1]
    if len(stacks) < 2 or len({len(stack) for stack in stacks}) > 1:
        return False
    # Half the taller line's height: one tall line (a cell centred over rows) is on no row.
    return all(min(a.bottom, b.bottom) - max(a.top, b.top)
               >= _ROW_OVERLAP * max(a.height, b.height)
               for row in zip(*stacks) for a, b in zip(row, row[1:]))


def _touching_rows(cells: list[list[_Item]]) -> bool:
    """The band's cells are rows whose boxes touch, not stacks of wrapped lines: one of them is
    a stack of two or more numbers (a contents page's page numbers, whose dot leaders the engine
    dropped, _NUMBER), and a number is not wrapped onto a second line. A wrapped title beside
    its one page number is a stack."""
    return len(cells) > 1 and any(
        len(cell) > 1 and all(_NUMBER.match(it.text) for it in cell) for cell in cells)


def _aligned(columns: list[list[_Item]], overlap: float = _GRID_OVERLAP) -> bool:
    """A grid: most lines have a partner on the same row (overlapping it by `overlap` of the
    height) in another column. Columns of running text set off a grid rarely do."""
    where = {id(it): n for n, col in enumerate(columns) for it in col}
    ordered = sorted((it for col in columns for it in col), key=lambda i: i.top)
    tops = [it.top for it in ordered]
    tallest = max(it.height for it in ordered)
    partnered = 0
    for it in ordered:
        # Only lines whose top lies within one line height of this one's can overlap it enough.
        start = bisect.bisect_left(tops, it.top - tallest)
        stop = bisect.bisect_right(tops, it.bottom)
        if any(where[id(o)] != where[id(it)] and _on_a_row(it, o, overlap)
               for o in ordered[start:stop]):
            partnered += 1
    return partnered >= _TABLE_ROW_SHARE * len(ordered)


def _is_table(columns: list[list[_Item]], size: float) -> bool:
    """Rows line up across the columns, and the columns are not running text."""
    if not _aligned(columns):
        return False
    return not all(_is_prose(col, size) for col in columns if len(col) > 1)


def _on_a_row(a: _Item, b: _Item, overlap: float = _GRID_OVERLAP) -> bool:
    """The two lines overlap down by `overlap` of the shorter one's height."""
    return min(a.bottom, b.bottom) - max(a.top, b.top) >= overlap * min(a.height, b.height)


def _page_columns(columns: list[list[_Item]], across: list[tuple[float, float]],
                  size: float) -> list[tuple[float, float]]:
    """The gutters of a grid that is page columns, not a table ([] for a table).

    A column of numbers belongs to the column on its left (the page numbers of a table of
    contents or an index, whose dot leaders the engine drops). What remains are page columns
    when there are two or more, each wide enough for text and as wide as the others; a table's
    columns differ or are narrow, and its number columns leave a single group."""
    if not _aligned(columns) or all(_is_prose(c, size) for c in columns if len(c) > 1):
        return []
    starts = [0] + [n for n in range(1, len(columns))
                    if sum(1 for it in columns[n] if _NUMBER.match(it.text))
                    < _NUMBER_SHARE * len(columns[n])]
    if len(starts) < 2:
        return []
    ends = starts[1:] + [len(columns)]
    spans = [max(it.right for it in columns[e - 1]) - min(it.left for it in columns[b])
             for b, e in zip(starts, ends)]
    if min(spans) >= _PROSE_MIN_WIDTH * size and min(spans) >= _EVEN_COLUMNS * max(spans):
        return [across[b - 1] for b in starts[1:]]
    return []


def _is_prose(column: list[_Item], size: float) -> bool:
    """A column of running text: wide, and its lines fill it (ragged cells do not)."""
    span = max(it.right for it in column) - min(it.left for it in column)
    fill = statistics.median(it.width / span for it in column) if span > 0 else 0.0
    return span >= _PROSE_MIN_WIDTH * size and fill >= _PROSE_MIN_FILL


def _rows(items: Sequence[_Item], notes: bool = False) -> list[_Item]:
    """Items in rows of overlapping lines, top to bottom, each row left to right; with `notes`
    (a vertical page), the two rows of a double-row note (`_double_row`) stay in its row, read
    one after the other where the note stands."""
    rows: list[list[_Item]] = []
    for it in sorted(items, key=lambda i: (i.top + i.bottom) / 2):
        if rows:
            # Compared with the row's first line, not the row's growing extent: a cell centred
            # over two rows must not pull the second row into the first.
            # Lines side by side on a row do not overlap across: two long lines that do are
            # lines one above the other whose boxes a skewed scan made overlap.
            row = rows[-1]
            seed = row[0]
            overlap = min(seed.bottom, it.bottom) - max(seed.top, it.top)
            beside = all(_apart(r, it) for r in row)
            if beside and overlap >= _ROW_OVERLAP * min(it.height, seed.height):
                row.append(it)
                continue
            # The second row of a note whose first row is on this row, beside the text the
            # note interrupts: it overlaps only the note's first row across.
            upper = [r for r in row if _stacked(r, it)] if notes else []
            if (upper and all(_apart(r, it) or r in upper for r in row)
                    and any(_double_row(u, it, t) for u in upper for t in row if _apart(t, it))):
                row.append(it)
                continue
        rows.append([it])
    return [it for row in rows for it in _along(row)]


def _apart(a: _Item, b: _Item) -> bool:
    """Side by side: the two overlap across by less than _ROW_OVERLAP of the narrower."""
    return min(a.right, b.right) - max(a.left, b.left) < _ROW_OVERLAP * min(a.width, b.width)


def _stacked(upper: _Item, lower: _Item) -> bool:
    """One above the other: overlapping across, hardly at all down."""
    return (not _apart(upper, lower) and min(upper.bottom, lower.bottom)
            - max(upper.top, lower.top) <= _STACKED * min(upper.height, lower.height))


def _double_row(upper: _Item, lower: _Item, beside: _Item) -> bool:
    """`upper` and `lower`, one above the other, are the two rows of a note set in the line of
    `beside`: together they span it, each reaches into it, and it is set larger than they are
    (a line of the next column beside a note's row is not: it lies past the note; nor are lines
    of one size in a table)."""
    if max(upper.height, lower.height) > _NOTE_SIZE * beside.height:
        return False
    slack = _COVER * beside.height
    return (beside.top >= min(upper.top, lower.top) - slack
            and beside.bottom <= max(upper.bottom, lower.bottom) + slack
            and min(beside.bottom, upper.bottom) > max(beside.top, upper.top)
            and min(beside.bottom, lower.bottom) > max(beside.top, lower.top))


def _along(row: list[_Item]) -> list[_Item]:
    """A row's lines left to right; lines one above the other in it (a double-row note's two
    rows) top first, where they stand. A row without a note: its lines by their left edge."""
    out: list[_Item] = []
    stack: list[_Item] = []
    for it in sorted(row, key=lambda i: i.left):
        if stack and not all(_apart(it, s) for s in stack):
            stack.append(it)
            continue
        out += sorted(stack, key=lambda i: i.top)
        stack = [it]
    return out + sorted(stack, key=lambda i: i.top)
