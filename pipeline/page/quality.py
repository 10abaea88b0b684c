"""Page quality estimate: how much of an OCR page is likely wrong, and why (issue 19).

Read from the page's ALTO (what every engine writes and every library stores) and, when the
page is OCR'd (`pipeline.page.process`), from its image: an old library re-indexed from its
stored ALTO gets the text's and the lines' part, the image's signals counted at a clean page's
values.
Signals, per character of the recognised text:

- the engine's confidence (ALTO `WC`, a String's confidence given to each of its characters):
  the share of characters below `LOW_CONFIDENCE` and below `UNSURE`, and the mean shortfall;
- how plausible the text is as Chinese: the mean surprise (nats per character) of a character
  bigram model (pipeline/text/charlm.py) and the share of characters that form no known pair
  with either neighbour;
- characters unknown to that model (rare or unusual characters, garbage from handwriting);
- stray symbols, Latin letters, and text in fragments of 1-3 characters;
- the boxes of the lines and Strings read (`shape_features`): blank stretches inside lines
  (text missed within a line, dot leaders), and lines side by side (columns, tables: on real
  pages much of the error is reading order, which neither confidences nor language show), and
  vertical lines (PP-OCR misreads vertical text more than its confidences say: in its model the
  vertical share counts times the log of the page's confidence shortfall, `model_inputs`);
- the page image (pipeline/page/pagelook.py): text-like ink outside every line read (text the
  engine missed: on real pages the largest errors), figure and dark-background area, contrast,
  character size;
- the recogniser's own doubt beyond its confidences, PP-OCR's (pipeline/page/engines/paddle.py,
  given by the engine with the page, not stored in the ALTO): characters it nearly read between
  those it read (`hidden`: characters it may have dropped, its confidence in the characters
  around them full; not the spaces it nearly read between words), and characters read where
  it nearly read another form of them (`variants`, pipeline/page/engines/variants.py: a page
  printed in variant forms the text keeps, read as the standard ones at full confidence).

`MODELS` (one per engine) combine them (as `model_inputs` gives them) linearly into
log(page CER + 0.01);
benchmarks/page_quality.py fits the coefficients (leave-one-source-out over real pages and the
rendered conditions) and prints them; they are copied here. The estimate is the page's expected
character error rate, times its characters: the expected number of characters an editor will
have to fix. Where `--engine auto` compared two engines' readings of the page and they agree, it
is at most the share of characters they differ on (`checked`, pipeline/page/crosscheck.py).

`mark_alto` writes a `CC` attribute (ALTO: one digit per character, 0 sure .. 9 unsure) on every
String, so a proofreading view can highlight the characters likely wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from lxml import etree

from ..text.charlm import CharModel, is_han, model
from .alto import RESTORED_TAG, alternatives
from .signals import SIGNALS

if TYPE_CHECKING:  # opening a library must not import the image stack (tests/test_api.py)
    from PIL import Image

    from .pagelook import PageInk

LOW_CONFIDENCE = 60.0  # a character read below this (0-100) counts as low-confidence
# A character is marked likely wrong (CC >= SUSPECT_CC) ...
SUSPECT_CC = 5
# Punctuation and marks that are part of ordinary Chinese and Western text.
_COMMON = set("，。、；：？！“”‘’（）《》〈〉【】「」『』—…·．,.;:?!\"'()[]-%/+=<>&*#@_~|°")

# Features read from the text and confidences (ALTO), then the page image's (pagelook.SIGNALS),
# in the order of a model's coefficients.
TEXT_FEATURES = ("low_conf", "unsure", "conf_gap", "lm_surprise", "odd_pairs", "unknown",
                 "symbols", "fragments", "latin")
# Read from the boxes of the ALTO's lines and Strings (`shape_features`).
SHAPE_FEATURES = ("gaps", "side_by_side", "vertical")
# Given by the engine with the page (`estimate`'s `hidden` and `variants`: PP-OCR's; Tesseract
# gives none).
READ_FEATURES = ("hidden", "variants")
FEATURES = TEXT_FEATURES + SHAPE_FEATURES + SIGNALS + READ_FEATURES
UNSURE = 90.0  # a character read below this is not sure (PP-OCR's wrong reads sit at 80-95)
OFFSET = 0.01
# Fitted by benchmarks/page_quality.py (see benchmarks/README.md, "Page quality"), one model
# per engine (their confidences mean different things: PP-OCR scores its misreadings 0.9+):
# intercept, then one coefficient per FEATURE, for log(CER + OFFSET). Copied from the script's
# last lines ("MODELS"). Since session 21 fitted for ranks as well as for the error rate (least
# squares plus a pairwise ranking loss, `page_quality.fit`), with `unread_ink` weighing at least
# 2 ln 2 (text left unread is text missing: `page_quality.MIN_WEIGHT`).
MODELS: dict[str, tuple[float, ...]] = {
    "paddle": (-5.004, 0.175, 2.393, 5.037, 0.0, 0.0, 22.579, 0.0, 3.272, 1.262,
               15.324, 1.498, 0.135, 1.386, 0.0, 0.0, 0.539, 0.123, 0.196, 46.720),
    "tesseract": (-6.256, 1.497, 1.099, 1.592, 0.333, 1.270, 0.0, 0.0, 0.0, 0.238,
                  1.975, 1.010, 0.0, 1.386, 2.795, 0.354, 0.0, 0.0, 0.0, 0.0),
}
# How PP-OCR's model reads three features (`model_inputs`; benchmarks/README.md, "Page
# quality", sessions 10-11). `low_conf` as ln(1 + low_conf / UNIT): errors grow with the share
# of characters read under LOW_CONFIDENCE, and from one character in a thousand up that share
# spans two orders of magnitude (clean renders 0.1%, a bleed-through page 6%). `vertical` as
# vertical x ln(1 + conf_gap / UNIT): PP-OCR misreads vertical text more than its confidences
# say, but not every vertical page: a vertical page read at mean confidence 99.7 (a catalogue
# in large type) is read right, one at 99.0 has its variant forms and small notes wrong; the
# vertical share counts by how unsure the page was read. `hidden` (session 11) on the same log
# scale as `low_conf`, for the same reason. UNIT, one character in a thousand, is the smallest
# share a page shows (~900 characters on an A5 page), not fitted.
UNIT = 0.001
_LOG_INPUTS: dict[str, tuple[str, ...]] = {"paddle": ("low_conf", "hidden")}
_VERTICAL_DOUBT: dict[str, bool] = {"paddle": True}
# Reference values of a clean page (the medians of each engine's pages under 3% CER in the
# fit): a reason is given for a feature whose contribution above its reference is at least
# REASON_MIN of log CER. A page estimated without its image (re-indexed from stored ALTO)
# counts at the reference for the image's signals, and for the recogniser's doubt.
REFERENCE: dict[str, tuple[float, ...]] = {
    "paddle": (0.0, 0.005, 0.002, 6.491, 0.076, 0.0, 0.0, 0.0, 0.0,
               0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.592, 0.0, 0.0, 0.0),
    "tesseract": (0.035, 0.148, 0.103, 6.406, 0.080, 0.0, 0.0, 0.0, 0.0,
                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.624, 0.0, 0.0, 0.0),
}
# The estimated error rate above which a page is listed 需校对: set a priori between the
# targets' 1% (pages that should not be listed) and 3% (pages that must be), not fitted.
LIST_RATE = 0.02
# A page with more than this share of its text-like ink outside every line read (`unread_ink`)
# is given that reason whatever its weight (that much of its text is probably missing). It no
# longer lists the page by itself (session 10): on the real pages read on session 9's main every
# page over 3% CER it listed the estimate lists too, and the pages it added were read right, their
# unread ink a 版心 or logos the transcriptions leave out (benchmarks/README.md, "Page quality").
MISSED_SHOWN = 0.03
MISSED = "unread_ink"
# The reason given first where a second engine's reading bounded the estimate (`checked`).
CHECKED = "checked"
REASON_MIN = 0.1
# What each reason says, in English (CLI) and Chinese (reading room), with its value.
_REASON_TEXT: dict[str, tuple[str, str]] = {
    "low_conf": ("{:.0%} of characters read with low engine confidence",
                 "{:.0%}的字识别置信度低"),
    "unsure": ("{:.0%} of characters read with engine confidence under 90",
               "{:.0%}的字识别置信度不足90"),
    "conf_gap": ("mean engine confidence {:.0f}", "平均识别置信度{:.0f}"),
    "fragments": ("{:.0%} of the text in fragments of 1-3 characters (tables, figures, noise)",
                  "{:.0%}的文字是1至3字的零碎片段（表格、插图或污点）"),
    "latin": ("{:.0%} Latin letters", "拉丁字母占{:.0%}"),
    "gaps": ("gaps inside lines: {:.0%} of their length (text missing within a line, dot "
             "leaders, table columns run together)",
             "行内空缺占行长{:.0%}（行中漏字、引导点或表格各栏连成一行）"),
    "side_by_side": ("{:.0%} of the text in lines side by side (columns, tables: the reading "
                     "order may be wrong)",
                     "{:.0%}的文字分栏或成表并排（阅读顺序可能有误）"),
    "vertical": ("{:.0%} of the text in vertical lines, read with some doubt (vertical text is "
                 "misread more than its confidence says: variant forms, small notes, columns)",
                 "{:.0%}的文字为竖排且识别置信度不足（竖排较横排易错：异体字、双行小注、分栏）"),
    "lm_surprise": ("text reads unlike Chinese (language-model surprise {:.1f} nats/char)",
                    "文字不像通顺的中文（字频模型每字意外度{:.1f}）"),
    "odd_pairs": ("{:.0%} of characters form no known word pair with their neighbours",
                  "{:.0%}的字与前后字构不成常见搭配"),
    "unknown": ("{:.0%} rare or unknown characters", "生僻字或未知字占{:.0%}"),
    "symbols": ("{:.0%} stray symbols", "杂乱符号占{:.0%}"),
    "unread_ink": ("{:.0%} of the page's text-like ink lies outside every line read "
                   "(text probably missed)",
                   "页面上{:.0%}的字迹不在任何识别出的行内（可能漏识）"),
    "figure_area": ("{:.0%} of the page is pictures or figures", "图片、插图占页面{:.0%}"),
    "dark_area": ("{:.0%} of the page has a dark background", "深色底占页面{:.0%}"),
    "low_contrast": ("low contrast between ink and paper ({:.0%} short of full)",
                     "字迹与纸色反差小（差{:.0%}）"),
    "baseline": ("pages this engine reads have about {:.0%} of characters wrong as a rule",
                 "此识别引擎所读页面一般约{:.0%}的字有误"),
    "small_text": ("small characters in the scan ({:.0%} below a good size)",
                   "扫描图中字太小（比适宜大小小{:.0%}）"),
    CHECKED: ("two engines' readings differ on only {:.1%} of the characters (the estimate "
              "is at most that)", "两种识别引擎的读法仅有{:.1%}的字不同（估计至多为此）"),
    "hidden": ("{:.1%} of characters nearly read between the characters read (characters "
               "probably dropped)", "字与字之间另有约{:.1%}的字几乎被识出（可能漏字）"),
    "variants": ("{:.1%} of characters read where another form of them was nearly read (the "
                 "page may print variant forms the text does not keep)",
                 "{:.1%}的字另有异体几乎被识出（原书可能用异体字，识读未保留）"),
}

Token = tuple[str, float | None]  # a String's text and its confidence 0-100 (None: not given)
Box = tuple[int, int, int, int]  # left, top, right, bottom
# A line's box and its Strings' text and boxes (`alto_shapes`).
Shape = tuple[Box, Sequence[tuple[str, Box]]]
# A gap between two Strings of a line wider than this many line thicknesses is a gap in the text.
_GAP = 1.0
# Two lines this many line thicknesses apart or more along their direction, side by side, are
# in different columns or table cells (a line PP-OCR cut in two has its pieces closer).
_APART = 2.0


@dataclass(frozen=True)
class PageQuality:
    """The estimate for one page."""

    error_rate: float  # expected share of characters wrong (0-1)
    errors: int  # expected number of wrong characters
    characters: int  # characters the estimate read
    # Why, worst first, as codes "feature=value" (`describe` words them in English or Chinese):
    # stored so, a reason reads in the reader's language.
    reasons: tuple[str, ...]
    features: tuple[float, ...]  # the FEATURES' values

    def listed(self, rate: float = LIST_RATE) -> bool:
        """True when the page is likely bad enough to be proofread first: its estimate is above
        `rate`."""
        return self.error_rate > rate


@dataclass(frozen=True)
class _Scored:
    """Per character: its confidence, surprise, whether it is unknown / odd, its CC digit."""

    chars: str
    confidence: tuple[float | None, ...]
    surprise: tuple[float, ...]  # nats; 0 for characters the model does not score (non-Han)
    odd: tuple[bool, ...]
    unknown: tuple[bool, ...]


def _score_line(tokens: Sequence[Token], lm: CharModel) -> _Scored:
    chars = "".join(t for t, _ in tokens)
    conf: list[float | None] = []
    for text, c in tokens:
        conf.extend([c] * len(text))
    simple = lm.simplified(chars)
    surprise: list[float] = []
    odd: list[bool] = []
    unknown: list[bool] = []
    for i, ch in enumerate(simple):
        if not is_han(ch):
            surprise.append(0.0)
            odd.append(False)
            unknown.append(False)
            continue
        prev = simple[i - 1] if i and is_han(simple[i - 1]) else ""
        nxt = simple[i + 1] if i + 1 < len(simple) and is_han(simple[i + 1]) else ""
        surprise.append(lm.surprise(prev, ch))
        unknown.append(not lm.known(ch))
        pairs = [lm.seen_pair(prev, ch)] if prev else []
        if nxt:
            pairs.append(lm.seen_pair(ch, nxt))
        odd.append(bool(pairs) and not any(pairs))
    return _Scored(chars, tuple(conf), tuple(surprise), tuple(odd), tuple(unknown))


def features(lines: Sequence[Sequence[Token]]) -> tuple[tuple[float, ...], int]:
    """The TEXT_FEATURES of a page given as lines of (text, confidence) tokens, and its
    character count (non-blank characters)."""
    lm = model()
    n = han = low = unsure = sym = odd = unk = frag = latin = 0
    conf_sum = 0.0
    conf_n = 0
    surprise = 0.0
    for tokens in lines:
        s = _score_line([(t.strip(), c) for t, c in tokens if t.strip()], lm)
        if len(s.chars) <= 3:
            frag += len(s.chars)
        for ch, c, sp, o, u in zip(s.chars, s.confidence, s.surprise, s.odd, s.unknown):
            n += 1
            if c is not None:
                conf_n += 1
                conf_sum += c
                low += c < LOW_CONFIDENCE
                unsure += c < UNSURE
            if is_han(ch):
                han += 1
                surprise += sp
                odd += o
                unk += u
            elif ch.isascii() and ch.isalpha():
                latin += 1
            elif not ch.isalnum() and ch not in _COMMON:
                sym += 1
    if not n:
        return (0.0,) * len(TEXT_FEATURES), 0
    return ((low / conf_n if conf_n else 0.0),
            (unsure / conf_n if conf_n else 0.0),
            (1 - conf_sum / conf_n / 100 if conf_n else 0.0),
            (surprise / han if han else 0.0),
            (odd / han if han else 0.0),
            (unk / han if han else 0.0),
            sym / n, frag / n, latin / n), n


def shape_features(shapes: Sequence[Shape]) -> tuple[float, ...]:
    """The SHAPE_FEATURES of a page's lines (`alto_shapes`), shares of the characters read:

    - `gaps`: the blank stretches inside lines (between a line's Strings, wider than `_GAP`
      line thicknesses), in thicknesses, over the lines' length in thicknesses: text missing
      within a line, dot leaders, table columns run together;
    - `side_by_side`: the characters in lines that have another line beside them along their
      own direction, `_APART` thicknesses away or more (columns, tables, slides): pages whose
      reading order is easily wrong;
    - `vertical`: the characters in vertical lines (taller than wide): on the real pages PP-OCR
      reads vertical pages worse than its confidences show (variant forms read as the standard
      ones, 版心 text, lines out of order)."""
    found = [(box, [(t.strip(), b) for t, b in strings if t.strip()])
             for box, strings in shapes]
    found = [(box, strings) for box, strings in found if strings]
    length = gaps = 0.0
    chars = beside = upright = 0
    for i, ((left, top, right, bottom), strings) in enumerate(found):
        vertical = bottom - top > right - left
        thick = max(1, min(right - left, bottom - top))
        length += max(right - left, bottom - top) / thick
        spans = sorted((b[1], b[3]) if vertical else (b[0], b[2]) for _, b in strings)
        end = spans[0][1]
        for start, stop in spans[1:]:
            if start - end > _GAP * thick:
                gaps += (start - end) / thick
            end = max(end, stop)
        n = sum(len(t) for t, _ in strings)
        chars += n
        upright += n if vertical else 0
        if any(_beside((left, top, right, bottom), other, vertical, thick)
               for j, (other, _) in enumerate(found) if j != i):
            beside += n
    if not chars:
        return (0.0,) * len(SHAPE_FEATURES)
    return gaps / max(length, 1.0), beside / chars, upright / chars


def _beside(box: Box, other: Box, vertical: bool, thick: int) -> bool:
    """True when `other` lies beside `box` along `box`'s direction (rows for a horizontal line,
    columns for a vertical one), overlapping half its thickness, `_APART` thicknesses away."""
    a0, a1, b0, b1 = (1, 3, 0, 2) if vertical else (0, 2, 1, 3)  # along, then across
    overlap = min(box[b1], other[b1]) - max(box[b0], other[b0])
    across = min(box[b1] - box[b0], other[b1] - other[b0])
    gap = _APART * thick
    return overlap > 0.5 * across and (other[a0] >= box[a1] + gap or box[a0] >= other[a1] + gap)


def model_inputs(key: str, values: Sequence[float]) -> tuple[float, ...]:
    """The FEATURES' `values` as the model `key` weighs them (see UNIT): for PP-OCR, `low_conf`
    and `hidden` on a log scale and `vertical` times the log of the confidence shortfall; as
    they are for Tesseract."""
    out = list(values)
    for name in _LOG_INPUTS.get(key, ()):
        k = FEATURES.index(name)
        out[k] = math.log1p(max(0.0, values[k]) / UNIT)
    if _VERTICAL_DOUBT.get(key, False):
        k = FEATURES.index("vertical")
        out[k] = values[k] * math.log1p(max(0.0, values[FEATURES.index("conf_gap")]) / UNIT)
    return tuple(out)


def model_of(engine: str) -> str:
    """The MODELS key for a page read by `engine` (an ALTO's software name will do)."""
    return "paddle" if "paddle" in engine.lower() or "pp-ocr" in engine.lower() else "tesseract"


def estimate(lines: Sequence[Sequence[Token]], signals: Sequence[float] | None = None,
             engine: str = "tesseract", shapes: Sequence[Shape] | None = None,
             hidden: int | None = None, checked: float | None = None,
             variants: int | None = None) -> PageQuality | None:
    """The quality estimate of a page given as lines of (text, confidence) tokens, read by
    `engine`, whose image measured `signals` (pagelook.measure), whose lines and Strings have
    `shapes` (`alto_shapes`) and whose recogniser nearly read `hidden` characters between
    those it read (engines.OcrResult.hidden) and `variants` characters read where it nearly read
    another form of them (OcrResult.variants; None for any of these: not known, the clean page's
    values are taken); at most `checked`, the share of its characters a second engine's
    reading of the page differs on (crosscheck.differ; None: no second reading compared). None
    for a page with no text (nothing to estimate: a blank page, or one the engine found no text
    on)."""
    text_values, n = features(lines)
    if not n:
        return None
    key = model_of(engine)
    weights, reference = MODELS[key], REFERENCE[key]
    at = len(TEXT_FEATURES)
    shape = (shape_features(shapes) if shapes is not None
             else reference[at:at + len(SHAPE_FEATURES)])
    at += len(SHAPE_FEATURES)
    image = (tuple(signals) if signals is not None else reference[at:at + len(SIGNALS)])
    read = tuple(reference[at + len(SIGNALS) + k] if count is None else count / n
                 for k, count in enumerate((hidden, variants)))
    values = text_values + tuple(shape) + tuple(image) + tuple(read)
    inputs, at_reference = model_inputs(key, values), model_inputs(key, reference)
    log_rate = weights[0] + sum(w * v for w, v in zip(weights[1:], inputs))
    rate = min(1.0, max(0.0, math.exp(log_rate) - OFFSET))
    bound = checked is not None and checked < rate
    if checked is not None:
        # Nearly every misreading is a place where two engines' readings differ (crosscheck.py):
        # the model's figure is the rate of pages that look like this one; the check is this page's.
        rate = min(rate, checked)
    excess = sorted(((w * (v - r), name, value) for w, v, r, name, value
                     in zip(weights[1:], inputs, at_reference, FEATURES, values)), reverse=True)
    reasons = tuple(reason_code(name, v) for e, name, v in excess
                    if e >= REASON_MIN or (name == MISSED and v > MISSED_SHOWN))
    if not reasons and excess[0][0] > 0:
        reasons = (reason_code(excess[0][1], excess[0][2]),)
    if bound:  # the check set the figure: it comes first, the model's reasons after it
        reasons = (reason_code(CHECKED, rate),) + reasons
    if not reasons and rate > LIST_RATE:
        # Nothing on the page stands out: the engine's pages are this bad as a rule (on the real
        # pages most of PP-OCR's errors are layout, which a clean-looking page may still have).
        reasons = (reason_code("baseline", rate),)
    return PageQuality(round(rate, 4), round(rate * n), n, reasons,
                       tuple(round(v, 4) for v in values))


def reason_code(name: str, value: float) -> str:
    """The stored form of a reason: "feature=value"."""
    return f"{name}={value:.4g}"


def describe(reason: str, chinese: bool = False) -> str:
    """A stored reason in words: English (CLI) or Chinese (reading room). A reason stored before
    the codes (English words) is given as it is."""
    name, _, raw = reason.partition("=")
    if name not in _REASON_TEXT:
        return reason
    try:
        value = float(raw)
    except ValueError:
        return reason
    text = _REASON_TEXT[name][1 if chinese else 0]
    return text.format(100 * (1 - value) if name == "conf_gap" else value)


def alto_lines(root: etree._Element | None) -> list[list[Token]]:
    """The page's lines as (text, confidence) tokens from its ALTO (String CONTENT and WC).

    A String put back rather than read (TAGREFS RESTORED_TAG, engines/nearly.py) has no
    confidence here: its WC is the probability the recogniser nearly read it with, which marks
    it for proofreaders (`mark_alto`), but the characters put back were right 106 of 106 on the
    rendered pages and 33 of 33 on the real ones (benchmarks/README.md, "Session 14, page
    quality"); counted as read that unsure they made a clean page look bad. The page's
    confidences are the recogniser's reading, as before they were put back."""
    lines: list[list[Token]] = []
    if root is None:
        return lines
    for line in root.iter("{*}TextLine"):
        tokens: list[Token] = []
        for s in line.iter("{*}String"):
            wc = s.get("WC")
            put = RESTORED_TAG in (s.get("TAGREFS") or "").split()
            tokens.append((s.get("CONTENT", ""),
                           float(wc) * 100 if wc is not None and not put else None))
        lines.append(tokens)
    return lines


def alto_engine(root: etree._Element | None) -> str:
    """The software that wrote the ALTO (its softwareName: "tesseract 5.3.0", "paddle ...")."""
    if root is None:
        return ""
    for element in root.iter("{*}softwareName"):
        return element.text or ""
    return ""


def alto_line_boxes(root: etree._Element | None) -> list[tuple[int, int, int, int]]:
    """The boxes (left, top, right, bottom) of the ALTO's TextLines."""
    if root is None:
        return []
    return [box for line in root.iter("{*}TextLine") if (box := _box(line)) is not None]


def alto_figure_boxes(root: etree._Element | None) -> list[tuple[int, int, int, int]]:
    """The boxes of the ALTO's Illustrations (lines read and left out as a figure's text:
    pipeline/page/assemble.py)."""
    if root is None:
        return []
    return [box for element in root.iter("{*}Illustration") if (box := _box(element)) is not None]


def alto_shapes(root: etree._Element | None) -> list[Shape]:
    """The boxes of the ALTO's TextLines, each with its Strings' text and boxes (a String
    without a box is left out; a line without one, too)."""
    shapes: list[Shape] = []
    if root is None:
        return shapes
    for line in root.iter("{*}TextLine"):
        box = _box(line)
        if box is None:
            continue
        strings = [(s.get("CONTENT", ""), b) for s in line.iter("{*}String")
                   if (b := _box(s)) is not None]
        shapes.append((box, strings))
    return shapes


def _box(element: etree._Element) -> Box | None:
    try:
        x, y, w, h = (float(element.get(k, "")) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    except ValueError:
        return None
    return int(x), int(y), int(x + w), int(y + h)


def estimate_alto(root: etree._Element | None, image: "Image.Image | None" = None,
                  ink: "PageInk | None" = None, hidden: int | None = None,
                  checked: float | None = None, variants: int | None = None
                  ) -> PageQuality | None:
    """`estimate` of the page whose parsed ALTO is `root` (positions in `image`'s pixels), its
    image measured when given (from `ink`, the engine's measurement of it, where that was made
    with the same lines: pagelook.page_ink), with the characters its recogniser nearly read
    (`hidden`), those read whose other forms it nearly read (`variants`) and the share a second
    engine's reading differs on (`checked`) when known."""
    lines = alto_lines(root)
    if not any(t.strip() for tokens in lines for t, _ in tokens):
        return None
    signals = alto_signals(root, image, ink) if image is not None else None
    return estimate(lines, signals, alto_engine(root), alto_shapes(root), hidden, checked,
                    variants)


def alto_signals(root: etree._Element | None, image: "Image.Image",
                 ink: "PageInk | None" = None) -> tuple[float, ...]:
    """The image's SIGNALS (pagelook.measure) for the page whose parsed ALTO is `root`, from
    `ink` where it measured the same lines. Lines read and left out as a figure's text (the
    ALTO's Illustrations: a logo, a plot's labels) count as read, not as text missed."""
    from .pagelook import measure
    return measure(image, alto_line_boxes(root) + alto_figure_boxes(root), ink)


def char_doubt(confidence: float | None, surprise: float, odd: bool, unknown: bool) -> int:
    """One character's CC digit: 0 (sure) .. 9 (unsure), from its engine confidence and how
    odd it is in its line."""
    doubt = 0.0 if confidence is None else (100 - confidence) / 10
    if unknown:
        doubt += 6
    elif odd:
        doubt += 5 if surprise > 9 else 4
    return min(9, round(doubt))


def mark_alto(root: etree._Element | None) -> int:
    """Write CC (per-character doubt) on every String of the ALTO tree `root`, in place; the
    number of characters marked likely wrong (CC >= SUSPECT_CC)."""
    if root is None:
        return 0
    lm = model()
    suspects = 0
    for line in root.iter("{*}TextLine"):
        elements = [s for s in line.iter("{*}String")]
        tokens: list[Token] = []
        for s in elements:
            wc = s.get("WC")
            tokens.append((s.get("CONTENT", ""), float(wc) * 100 if wc is not None else None))
        scored = _score_line(tokens, lm)
        at = 0
        for s, (text, _) in zip(elements, tokens):
            digits = []
            for i in range(at, at + len(text)):
                d = char_doubt(scored.confidence[i], scored.surprise[i], scored.odd[i],
                               scored.unknown[i]) if not text[i - at].isspace() else 0
                suspects += d >= SUSPECT_CC
                digits.append(str(d))
            at += len(text)
            if digits:
                s.set("CC", " ".join(digits))
    return suspects


def suspect_lines(root: etree._Element | None) -> list[dict[str, object]]:
    """Lines holding characters marked likely wrong in `root`'s CC attributes: each line's text,
    the offsets (in that text) of its doubtful characters and, where the engine nearly read
    something else there (ALTO's ALTERNATIVE, PP-OCR's: pipeline/page/engines/alternatives.py),
    those characters by offset."""
    found: list[dict[str, object]] = []
    if root is None:
        return found
    for number, line in enumerate(root.iter("{*}TextLine")):
        text = ""
        offsets: list[int] = []
        others: dict[str, list[str]] = {}
        for s in line.iter("{*}String"):
            content = s.get("CONTENT", "")
            digits = (s.get("CC") or "").split()
            for i, d in enumerate(digits[:len(content)]):
                if d.isdigit() and int(d) >= SUSPECT_CC:
                    offsets.append(len(text) + i)
            seen = [a.text for a in alternatives(s) if a.text]
            if seen and len(content) == 1:
                others[str(len(text))] = seen
            text += content
        if offsets:
            entry: dict[str, object] = {"line": number + 1, "text": text, "suspect": offsets}
            if others:
                entry["alternatives"] = others
            found.append(entry)
    return found
