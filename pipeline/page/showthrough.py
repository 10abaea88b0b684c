"""Characters an engine read in show-through: the faint mirrored text of a page's back.

PP-OCR reads the page as it is (no binarisation, which thins real strokes), so on a page with
bleed-through it reads characters of the back side in the gaps of the front's lines: after a
comma, before a line's first character (measured on the bleed-through pages of
`benchmarks/ocr_accuracy.py`: 1.3-6.7% CER, against 1.2% on Wenshi's Tesseract path).

Such a character is faint beside the line it was read into. Its ink is measured as the colour
distance from the line's background (the median colour of the line's box), taken at its
strongest pixels (the 99.5th percentile), and compared with the line's median character. A
letter or digit below FAINT of it, alone or with one other (a run of at most MAX_RUN), is
dropped; punctuation is left alone, and so is a run of faint characters (light grey or coloured
text set inside a darker line). Measured: the show-through characters PP-OCR read on the
rendered bleed-through pages came out at 0.15-0.46 of their line; across the 28,465 characters
PP-OCR read on the 59 real pages at 300 dpi (../shared/realpages), the faintest letter or digit
outside such a run was at 0.44 (a grey slide counter "32" beside a red "27"), and the only
fainter ones were a 37-character grey note inside a black line (javamanual_p25). Colour
distance, not grey level: an orange label reads as light grey but is far from the paper.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from PIL import Image

from .engines import Glyph, OcrLine, Reading

FAINT = 0.3
MAX_RUN = 2
_STRONGEST = 99.5  # percentile of a character's pixels taken as its ink


def drop_show_through(reading: Reading, image: Image.Image) -> tuple[Reading, int]:
    """`reading` without the characters read in show-through, and how many were dropped.
    `image` is the image the engine read (its boxes are in its pixels)."""
    if not any(len(line.glyphs) > MAX_RUN for line in reading.lines):
        return reading, 0
    pixels = np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    lines, dropped = [], 0
    for line in reading.lines:
        kept = _kept(line, pixels)
        if kept is None:
            lines.append(line)
            continue
        dropped += kept.count(False)
        lines.append(_without(line, kept))
    return (replace(reading, lines=tuple(lines)) if dropped else reading), dropped


def _kept(line: OcrLine, pixels: npt.NDArray[np.uint8]) -> list[bool] | None:
    """Which glyphs of `line` stay; None when all do (or the line cannot be measured)."""
    glyphs = line.glyphs
    if len(glyphs) <= MAX_RUN or _spelled(line) is None:
        return None
    left, top, right, bottom = line.box
    height, width = pixels.shape[:2]
    left, top, right, bottom = max(0, left), max(0, top), min(width, right), min(height, bottom)
    if right <= left or bottom <= top:
        return None
    crop = pixels[top:bottom, left:right].astype(np.int16)
    background = np.median(crop.reshape(-1, crop.shape[2]), axis=0)
    distance = np.abs(crop - background).max(axis=2)
    inks = []
    for g in glyphs:
        box = distance[max(0, g.box[1] - top):max(0, g.box[3] - top),
                       max(0, g.box[0] - left):max(0, g.box[2] - left)]
        inks.append(_percentile(box, _STRONGEST) if box.size else -1.0)
    typical = float(np.median([i for i in inks if i >= 0] or [0.0]))
    if typical <= 0:
        return None
    faint = [0 <= i < FAINT * typical and _letter(g) for g, i in zip(glyphs, inks)]
    keep = [True] * len(glyphs)
    start = 0
    while start < len(faint):
        if not faint[start]:
            start += 1
            continue
        end = start
        while end < len(faint) and faint[end]:
            end += 1
        if end - start <= MAX_RUN:
            for k in range(start, end):
                keep[k] = False
        start = end
    return None if all(keep) else keep


def _percentile(values: npt.NDArray[np.int16], q: float) -> float:
    """`float(np.percentile(values, q))` (its default, linear method) for integer values, in a
    fraction of its time: np.percentile's own overhead was 0.2 ms a call, ~0.1 CPU s on a page of
    480 characters. The same arithmetic as numpy's `_quantile` and `_lerp`, so the same float
    (tests/test_showthrough.py compares them)."""
    flat = values.ravel()
    n = flat.size
    virtual = (n - 1) * (q / 100)
    below = min(max(int(np.floor(virtual)), 0), n - 1)
    above = min(below + 1, n - 1)
    gamma = virtual - below
    ordered = np.partition(flat, (below, above)) if above != below else np.partition(flat, below)
    a, b = float(ordered[below]), float(ordered[above])
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def _letter(glyph: Glyph) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in glyph.text)


def _spelled(line: OcrLine) -> list[tuple[int, int]] | None:
    """Where each glyph's text lies in the line's text (whitespace between glyphs skipped);
    None when the glyphs do not spell the line."""
    spans, at = [], 0
    text = line.text
    for g in line.glyphs:
        while at < len(text) and text[at].isspace():
            at += 1
        piece = g.text.strip()
        if not piece or not text.startswith(piece, at):
            return None
        spans.append((at, at + len(piece)))
        at += len(piece)
    return spans if not text[at:].strip() else None


def _without(line: OcrLine, keep: list[bool]) -> OcrLine:
    spans = _spelled(line)
    assert spans is not None  # _kept measured only lines whose glyphs spell them
    text = line.text
    for (start, end), kept in reversed(list(zip(spans, keep))):
        if not kept:
            text = text[:start] + text[end:]
    glyphs = tuple(g for g, kept in zip(line.glyphs, keep) if kept)
    return replace(line, text=text, glyphs=glyphs)
