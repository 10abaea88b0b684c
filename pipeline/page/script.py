"""Script and writing direction of a page: which Tesseract model and psm read it.

`--lang auto` has to pick one of four Tesseract models per page: chi_sim or chi_tra, horizontal
or vertical (`*_vert`). The wrong one is ruinous, not a small loss: chi_tra reads vertical
traditional pages at ~98% CER, chi_tra_vert with psm 5 at a few percent. The choice is made in
two cheap steps, measured in benchmarks/README.md:

- direction, from the page image alone (milliseconds): text lines leave blank bands between
  them, across the page for horizontal text and down it for vertical text;
- script, by a short trial: chi_sim and chi_tra (or their _vert models) each read a strip of
  the first two lines (columns) of the page; the model that knows the glyphs is markedly surer
  of them. A trial costs two Tesseract starts on ~40 characters (figures in the README);
  `--lang chi_sim` etc. skip it.

The page loop that uses this choice (and turns pages upright) is
`pipeline.page.process.recognise_page`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from ..errors import OcrError
from .engines import Engine, ReadOptions
from .engines.tesseract import TesseractEngine

log = logging.getLogger(__name__)

AUTO = "auto"
# A hint for pages whose document is still deciding (its first page is out for its trial):
# read with chi_sim, and run the trial only if that reads badly, as a hinted page would.
PROVISIONAL = "provisional"
# Page segmentation modes: 3 (automatic layout) for horizontal pages: as accurate as 6 (one
# block) on our pages, and it also copes with headings, page numbers and two-column layouts;
# 5 (one uniform block of vertical text) for vertical pages, which the *_vert models then read
# column by column, right to left (tests/test_layout.py checks the order).
PSM_HORIZONTAL = 3
PSM_VERTICAL = 5
_PSM_TRIAL = 6  # the trial strip is one uniform block: no layout analysis to pay for
# Script trial: mean word confidence of chi_tra minus that of chi_sim on the same strip. Each
# model transcribes the other's script into its own (chi_tra reads 县 as 縣, chi_sim 縣 as 县),
# so the text says nothing, but the model that knows the glyphs is surer: measured on two-line
# strips, +6.6 to +19 on traditional pages and -5.5 to +3.3 on simplified ones, degraded or not.
_TRADITIONAL_MARGIN = 5.0
_MIN_TRIAL_WORDS = 4  # fewer words than this: no evidence, keep the default script
_TRIAL_TIMEOUT = 30.0
# Direction: the blank-band share across must beat the one down the page by this margin.
_DIRECTION_MARGIN = 0.05
_STRIP_RATIO = 4  # inked extent this elongated: a single line or column
_TRIAL_LINES = 2  # text lines (columns) in the script trial strip


@dataclass(frozen=True)
class LangChoice:
    """The Tesseract model and page segmentation mode chosen for one page, and why."""

    lang: str  # e.g. 'chi_tra_vert'
    psm: int
    vertical: bool
    traditional: bool
    reason: str


def choose_lang(image: Image.Image, requested: str, hint: str = "",
                engine: Engine | None = None) -> LangChoice:
    """The model and psm to read `image` (a preprocessed page) with; decides when 'auto'.

    `hint`, a model name, gives the script decided for the document: then only the direction
    is measured on this page (milliseconds), and no script trial runs. The trial reads with
    `engine` (Tesseract when None)."""
    if requested != AUTO:
        return _explicit(requested)
    vertical, direction_reason = detect_vertical(image)
    if hint == PROVISIONAL:
        traditional, script_reason = False, "provisionally simplified (the document is deciding)"
    elif hint:
        traditional, script_reason = hint.startswith("chi_tra"), f"script of the document ({hint})"
    else:
        traditional, script_reason = _trial_script(image, vertical, engine or TesseractEngine())
    lang = ("chi_tra" if traditional else "chi_sim") + ("_vert" if vertical else "")
    return LangChoice(lang, PSM_VERTICAL if vertical else PSM_HORIZONTAL, vertical, traditional,
                      f"auto: {direction_reason}; {script_reason}")


def _explicit(lang: str) -> LangChoice:
    vertical = any(part.endswith("_vert") for part in lang.split("+"))
    traditional = any(part.startswith("chi_tra") for part in lang.split("+"))
    return LangChoice(lang, PSM_VERTICAL if vertical else PSM_HORIZONTAL, vertical, traditional,
                      "requested")


# --- direction ---------------------------------------------------------------------------------

def detect_vertical(image: Image.Image) -> tuple[bool, str]:
    """True when the page is set in vertical columns, from the blank bands between lines.

    Horizontal lines leave blank rows between them and almost no blank columns (CJK characters
    sit in a tight grid), vertical columns the reverse. On a quarter-size copy this takes a few
    milliseconds. A page with no clear signal counts as horizontal, the common case in modern
    local-history print.
    """
    ink = _small_ink(image)
    if ink.sum() < 50:
        return False, "blank page: horizontal"
    # A single line or column (a photo caption, a title strip) has no gaps between lines to
    # compare, only the gaps between its characters: its inked extent decides instead.
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if width >= _STRIP_RATIO * height:
        return False, f"one horizontal line ({width}x{height} inked)"
    if height >= _STRIP_RATIO * width:
        return True, f"one vertical column ({width}x{height} inked)"
    across = _blank_share(ink.sum(axis=1))  # blank rows: gaps between horizontal lines
    down = _blank_share(ink.sum(axis=0))  # blank columns: gaps between vertical columns
    vertical = down > across + _DIRECTION_MARGIN
    word = "vertical" if vertical else "horizontal"
    return vertical, f"{word} (blank rows {across:.2f}, blank columns {down:.2f})"


def _small_ink(image: Image.Image, factor: int = 4) -> npt.NDArray[np.bool_]:
    gray = image if image.mode == "L" else image.convert("L")
    return _box_shrink(gray, factor) < 160


def _box_shrink(gray: Image.Image, factor: int) -> npt.NDArray[np.uint8]:
    """`gray` resized by Pillow's box filter to 1/`factor` of its size (rounded down).

    When `factor`, a power of two, divides both sides, every pixel of a block weighs exactly
    1/factor in Pillow's fixed-point arithmetic, and its two passes (across, then down, each
    rounded to 8 bits) are sums of `factor` strided columns, then rows, in 16 bits: 4 ms a
    300-dpi A5 page against Pillow's 8. Pillow 13 resizes an image more than twice as tall as
    wide down first (measured: the rounding differs), so the shortcut is kept to pages at most
    1.5 times as tall as wide; tests/test_layout.py compares the two.
    """
    if (factor & (factor - 1) == 0 and gray.width % factor == 0 and gray.height % factor == 0
            and 2 * gray.height <= 3 * gray.width):
        pixels = np.asarray(gray, dtype=np.uint8)
        half = factor // 2
        across = pixels[:, ::factor].astype(np.uint16)
        for k in range(1, factor):
            across += pixels[:, k::factor]
        across += half
        across >>= factor.bit_length() - 1
        down = across[::factor].copy()
        for k in range(1, factor):
            down += across[k::factor]
        down += half
        down >>= factor.bit_length() - 1
        return down.astype(np.uint8)
    small = gray.resize((max(1, gray.width // factor), max(1, gray.height // factor)),
                        Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def _blank_share(profile: npt.NDArray[np.int64]) -> float:
    """Share of near-blank positions between the first and the last inked one."""
    inked = np.nonzero(profile)[0]
    if inked.size < 2:
        return 0.0
    span = profile[inked[0]:inked[-1] + 1]
    # 'Blank' tolerates a stray speck or a descending stroke: under 3% of a typical full line.
    level = 0.03 * float(np.percentile(span[span > 0], 90))
    return float(np.mean(span <= level))


# --- script ------------------------------------------------------------------------------------

def _trial_script(image: Image.Image, vertical: bool, engine: Engine) -> tuple[bool, str]:
    strip = _trial_strip(image, vertical)
    if strip is None:
        return False, "no text for a script trial: simplified"
    suffix = "_vert" if vertical else ""
    psm = PSM_VERTICAL if vertical else _PSM_TRIAL
    scores: dict[str, float] = {}
    for model in ("chi_sim" + suffix, "chi_tra" + suffix):
        try:
            # Only the confidence counts here: no look-alike correction of the strip's text.
            result = engine.read(strip, ReadOptions(model, psm, timeout=_TRIAL_TIMEOUT,
                                                    correct=False))
        except OcrError as exc:  # the trial is advice; the page itself is still read
            log.debug("script trial with %s failed: %s", model, exc)
            return False, "script trial failed: simplified"
        if len(result.words) < _MIN_TRIAL_WORDS or result.confidence is None:
            return False, f"script trial found {len(result.words)} words: simplified"
        scores[model] = result.confidence
    margin = scores["chi_tra" + suffix] - scores["chi_sim" + suffix]
    traditional = margin > _TRADITIONAL_MARGIN
    word = "traditional" if traditional else "simplified"
    return traditional, f"{word} (chi_tra - chi_sim confidence {margin:+.1f})"


def _trial_strip(image: Image.Image, vertical: bool) -> Image.Image | None:
    """The first few lines (columns, from the right) of the text block, at full resolution."""
    ink = _small_ink(image)
    if ink.sum() < 50:
        return None
    factor = image.width / ink.shape[1]
    # Along the reading axis: rows for horizontal text, columns (right to left) for vertical.
    profile = ink.sum(axis=0 if vertical else 1)
    if vertical:
        profile = profile[::-1]
    bands = _bands(profile)
    if not bands:
        return None
    picked = bands[:_TRIAL_LINES]
    start, end = picked[0][0], picked[-1][1]
    cross = ink.sum(axis=1 if vertical else 0)
    inked = np.nonzero(cross)[0]
    lo, hi = int(inked[0]), int(inked[-1]) + 1
    pad = 3
    if vertical:
        n = ink.shape[1]
        box = (n - end - pad, lo - pad, n - start + pad, hi + pad)
    else:
        box = (lo - pad, start - pad, hi + pad, end + pad)
    left, top, right, bottom = (int(round(v * factor)) for v in box)
    return image.crop((max(0, left), max(0, top), min(image.width, right),
                       min(image.height, bottom)))


def _bands(profile: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """Runs of inked positions at least 3 long (text lines), as (start, end) half-open."""
    if not profile.any():
        return []
    level = 0.03 * float(np.percentile(profile[profile > 0], 90))
    inked = profile > level
    bands: list[tuple[int, int]] = []
    start: int | None = None
    for i, on in enumerate(inked):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start >= 3:
                bands.append((start, i))
            start = None
    if start is not None and len(inked) - start >= 3:
        bands.append((start, len(inked)))
    return bands
