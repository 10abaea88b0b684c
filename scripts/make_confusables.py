"""Build pipeline/page/data/confusables.tsv: for each common simplified character, the characters
whose glyphs look most like it.

The post-OCR correction (pipeline/page/correct.py) needs candidates for what a misread character may
really have been. Tesseract's own per-character alternatives (`lstm_choice_mode=2`) did not hold
them (benchmarks/README.md), so the candidates come from the glyphs themselves: every GB 2312
character (6,763) is drawn in three typefaces (a serif 宋体-like face, a sans face and WenQuanYi
Zen Hei), centred on its em box as it sits in a line, reduced to 32x32 grey levels; two
characters are close when their images are close in all three faces (`nearest`).
Nothing here knows any text or any OCR output, so the table is the same for every page.

    .venv/bin/python scripts/make_confusables.py            # ~1 min, writes the data file
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),  # Noto Serif CJK SC
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
EM = 64  # drawing size in pixels
GRID = 32  # compared at this resolution: fine enough to tell 未 from 末, coarse enough to forgive
NEIGHBOURS = 8  # per character, nearest first
MAX_DISTANCE = 0.40  # farther than this, glyphs share too little to be misread for each other
OUTPUT = Path(__file__).resolve().parent.parent / "pipeline" / "page" / "data" / "confusables.tsv"


def gb2312_hanzi() -> list[str]:
    """The 6,763 characters of GB 2312 levels 1 and 2, in code order."""
    chars = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def glyph_images(chars: list[str], path: str, index: int) -> np.ndarray:
    """One row per character: its glyph at GRID x GRID, ink 1.0, paper 0.0."""
    font = ImageFont.truetype(path, EM, index=index)
    out = np.zeros((len(chars), GRID * GRID), np.float32)
    for i, ch in enumerate(chars):
        image = Image.new("L", (EM, EM), 0)
        # Anchored at the em box's middle, not the ink's: where the ink sits matters (一 vs 丨).
        ImageDraw.Draw(image).text((EM / 2, EM / 2), ch, font=font, fill=255, anchor="mm")
        small = image.resize((GRID, GRID), Image.Resampling.BOX)
        out[i] = np.asarray(small, np.float32).ravel() / 255
    return out


def nearest(features: list[np.ndarray], k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest characters of each character (indexes) and their distances.

    Distance: squared difference of the two images over the sum of their squared ink, averaged
    over the typefaces: 0 for identical glyphs, 1 for glyphs with no ink in common, so that
    one stroke more counts alike in 士 and in 骡.
    """
    n = features[0].shape[0]
    squares = [(f * f).sum(axis=1) for f in features]
    index = np.zeros((n, k), np.int32)
    distance = np.zeros((n, k), np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        dist = np.zeros((stop - start, n), np.float32)
        for f, sq in zip(features, squares):
            ink = sq[start:stop, None] + sq[None, :]
            dist += (ink - 2 * f[start:stop] @ f.T) / np.maximum(ink, 1e-6)
        dist /= len(features)
        dist[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        part = np.argpartition(dist, k, axis=1)[:, :k]
        order = np.take_along_axis(dist, part, axis=1).argsort(axis=1)
        index[start:stop] = np.take_along_axis(part, order, axis=1)
        distance[start:stop] = np.take_along_axis(dist, index[start:stop], axis=1)
    return index, distance


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbours", type=int, default=NEIGHBOURS)
    parser.add_argument("--max-distance", type=float, default=MAX_DISTANCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    chars = gb2312_hanzi()
    features = [glyph_images(chars, path, index) for path, index in FONTS]
    index, distance = nearest(features, args.neighbours)
    lines = []
    for ch, row, dist in zip(chars, index, distance):
        near = [(chars[j], d) for j, d in zip(row, dist) if d <= args.max_distance]
        if near:
            lines.append(f"{ch}\t{' '.join(f'{c}{d:.2f}' for c, d in near)}")
    header = (f"# Look-alike characters (scripts/make_confusables.py): character, tab, up to "
              f"{args.neighbours} look-alikes each followed by its glyph distance (0 identical, 1 "
              f"nothing in common), nearest first, up to {args.max_distance}.\n")
    args.output.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(lines)} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
