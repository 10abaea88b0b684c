"""An engine's lines made into a page: reading order, ALTO, words, look-alike correction.

PP-OCR returns lines with boxes, not a page: `assemble` orders them (pipeline/page/layout.py:
columns, vertical pages right to left, running heads and page numbers apart), writes the text
in that order and an ALTO document with one String per character, and runs the same look-alike
correction Tesseract's pages get (simplified pages only). The result is the `OcrResult` every
later step takes, whichever engine read the page.
"""

from __future__ import annotations

from PIL import Image

from ..text.normalize import to_simplified
from .alto import alto_words, build_alto, parse_alto
from .correct import Correction, correct_page
from .engines import OcrResult, Reading
from .layout import order_reading

# A page whose Han characters change under traditional-to-simplified conversion at least this
# often is traditional. Measured on the ground truth of ../shared/realpages (300 dpi): 0.0% on
# all 26 simplified pages, 4.3-46.9% on the 33 traditional ones (the lowest: short pages of
# names and numbers).
_TRADITIONAL_SHARE = 0.02


def assemble(reading: Reading, image: Image.Image | None = None, correct: bool = True
             ) -> tuple[OcrResult, bool, bool]:
    """The page `reading` makes, and whether it reads vertical and traditional.

    `image` (the image the engine read) lets the look-alike correction look at the glyphs."""
    layout = order_reading(reading)
    placed = [(p.line, p.role, p.block) for p in layout.lines]
    text = "\n".join(line.text for line, _, _ in placed)
    alto = build_alto(placed, reading.width, reading.height,
                      f"{reading.engine} {reading.model}")
    tree = parse_alto(alto)
    traditional = is_traditional(text)
    corrections: tuple[Correction, ...] = ()
    if correct and not traditional and text.strip():
        text, alto, corrections = correct_page(text, alto, image, layout.vertical, tree=tree)
    words = alto_words(tree)
    confidence = sum(w.confidence for w in words) / len(words) if words else None
    result = OcrResult(text=text, words=words, alto=alto, confidence=confidence,
                       corrections=corrections, engine=reading.engine, model=reading.model,
                       tree=tree)
    return result, layout.vertical, traditional


def is_traditional(text: str) -> bool:
    """True when `text` is written in traditional characters (OpenCC t2s changes enough of it)."""
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if len(han) < 5:
        return False
    simplified = to_simplified("".join(han))
    changed = sum(1 for a, b in zip(han, simplified) if a != b)
    return changed >= _TRADITIONAL_SHARE * len(han)
