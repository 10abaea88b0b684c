"""Which of two characters a glyph on the page looks more like.

The post-OCR correction (pipeline/correct.py) proposes a look-alike where the dictionary says the
recognised character makes no sense; the page image then has the last word. The glyph is cut
out of the page by its ALTO box and compared with both characters drawn in the CJK faces
installed with Wenshi's fonts (a serif 宋体-like face and two sans faces): a correction is made
only when the proposed character matches the glyph better than the recognised one in the best
matching face. On correct text that is what stops the dictionary: 由区住房 reads better to it as
山区住房, but the glyph is 由.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FACES = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),  # Noto Serif CJK SC
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
# How far from Tesseract's box the glyph is looked for, in character sizes: along the line and
# across it. Measured on rendered pages read by chi_sim: with 0.4 along and nothing across, the
# median correlation of each recognised character with its own glyph was 0.69 and 37% were under
# 0.5; with these 0.87 and 10-14%.
REACH = 0.7
ACROSS = (-0.14, -0.07, 0.0, 0.07, 0.14)
_SIZE = 32  # glyphs are compared at this many pixels square
_DRAW = 96  # drawing size of a reference glyph before it is reduced


@dataclass(frozen=True)
class Box:
    """Where Tesseract puts a character, in page pixels."""

    left: int
    top: int
    width: int
    height: int


def glyph_similarity(page: Image.Image, box: Box, size: int, chars: tuple[str, ...],
                     vertical: bool = False) -> tuple[float | None, ...]:
    """For each of `chars`, its best correlation (-1..1) with the glyph at `box` in a face.

    Tesseract's LSTM boxes locate a character only roughly (measured: up to ~20 px off at 300
    dpi, often narrower than the glyph), so the glyph is looked for: a square window of the
    body text's character `size` slides along the line (down the column for vertical text) and
    a little across it around the box's centre (`REACH`, `ACROSS`), and the best match counts.
    The characters are drawn centred on their em squares as type sets them, so where the ink
    sits in the cell counts too. None for a character no installed face can draw.
    """
    refs = [_references(ch) for ch in chars]
    gray = page if page.mode == "L" else page.convert("L")
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    reach = int(REACH * size)
    step = max(1, size // 12)
    best: list[float | None] = [None] * len(chars)
    for shift, across in itertools.product(range(-reach, reach + 1, step), ACROSS):
        off = across * size
        x, y = (cx + off, cy + shift) if vertical else (cx + shift, cy + off)
        window = gray.crop((round(x - size / 2), round(y - size / 2),
                            round(x + size / 2), round(y + size / 2)))
        vec = _vector(window)
        if vec is None:
            continue
        for k, faces in enumerate(refs):
            for ref in faces:
                score = float(vec @ ref)
                if best[k] is None or score > best[k]:  # type: ignore[operator]
                    best[k] = score
    return tuple(best)


@lru_cache(maxsize=512)
def _references(char: str) -> tuple[npt.NDArray[np.float32], ...]:
    out = []
    for path, index in _faces():
        font = _font(path, index)
        mask = font.getmask(char)
        if not mask.getbbox() or bytes(mask) == _missing_glyph(path, index):
            continue  # the face has no glyph for it (it would draw its empty-box glyph)
        image = Image.new("L", (_DRAW, _DRAW), 255)
        ImageDraw.Draw(image).text((_DRAW / 2, _DRAW / 2), char, font=font, fill=0, anchor="mm")
        vec = _vector(image)
        if vec is not None:
            out.append(vec)
    return tuple(out)


@lru_cache(maxsize=8)
def _font(path: str, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, _DRAW, index=index)


@lru_cache(maxsize=8)
def _missing_glyph(path: str, index: int) -> bytes:
    # A noncharacter no font maps: what the face draws for a character it lacks.
    return bytes(_font(path, index).getmask("\U0010fffe"))


@lru_cache(maxsize=1)
def _faces() -> tuple[tuple[str, int], ...]:
    return tuple((path, index) for path, index in FACES if Path(path).is_file())


def _vector(square: Image.Image) -> npt.NDArray[np.float32] | None:
    """A square grey image as ink, reduced, slightly blurred, zero mean and unit length.

    The small blur forgives a stroke that lies a pixel off between a scan and a font.
    """
    small = square.resize((_SIZE, _SIZE), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(1.0))
    vec = 255.0 - np.asarray(small, dtype=np.float32).ravel()
    vec = vec - vec.mean()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 1e-3 else None
