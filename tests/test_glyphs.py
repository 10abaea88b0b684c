"""The glyph check's windows, computed together in numpy, are what Pillow makes of each one."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.page import glyphs

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"


def _page(seed: int) -> Image.Image:
    """Characters in several sizes on a noisy grey page: ink, paper and everything between."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(150, 256, (360, 420), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    for k, size in enumerate((14, 31, 44, 67)):
        font = ImageFont.truetype(FONT, size, index=2)
        draw.text((10 + 3 * k, 10 + 85 * k), "清光绪末年骡马驮运", font=font, fill=int(rng.integers(0, 90)))
    return image


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("vertical", [False, True])
def test_window_vectors_equal_pillows_window_by_window(seed, vertical):
    page = _page(seed)
    rng = np.random.default_rng(seed)
    # Odd and even sizes (odd ones cut windows a pixel narrower or wider), boxes at the page's
    # edges (windows reach outside it: black there, as Pillow's crop pads).
    for size in (8, 9, 20, 31, 32, 33, 45, 46, 47, 70, 101):
        for left, top in ((int(rng.integers(0, 380)), int(rng.integers(0, 320))), (-5, 300)):
            windows = glyphs._windows(glyphs.Box(left, top, size, size), size, vertical)
            expected = [glyphs._vector(page.crop(w)) for w in windows]
            got = glyphs._window_vectors(page, windows)
            want = np.stack([v for v in expected if v is not None])
            assert got.shape == want.shape
            # The same pixels: what is left is float32 rounding in the mean and the norm.
            assert np.abs(got - want).max() < 1e-5


def test_box_blur_is_pillows_gaussian_blur():
    from PIL import ImageFilter

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (20, glyphs._SIZE, glyphs._SIZE), dtype=np.uint8)
    blurred = glyphs._box_blur(images.astype(np.int32))
    for image, ours in zip(images, blurred):
        theirs = Image.fromarray(image).filter(ImageFilter.GaussianBlur(glyphs._BLUR))
        assert np.array_equal(np.asarray(theirs), ours)
