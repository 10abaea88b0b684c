"""The page images a library keeps: JPEG copies at halving sizes."""

from __future__ import annotations

import io

from PIL import Image

from pipeline.page.derivatives import READING_LONG_SIDE, THUMBNAIL_LONG_SIDE, page_derivatives


def _decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def test_a_large_scan_is_capped_and_halved_down_to_a_thumbnail():
    scan = Image.new("L", (2480, 3508), 235)
    copies = page_derivatives(scan)
    sizes = [(c.width, c.height) for c in copies]
    assert sizes[0] == (1697, READING_LONG_SIDE)
    assert all(b == ((a[0] + 1) // 2, (a[1] + 1) // 2) for a, b in zip(sizes, sizes[1:]))
    assert max(sizes[-1]) <= THUMBNAIL_LONG_SIDE < max(sizes[-2])
    for copy in copies:
        image = _decoded(copy.jpeg)
        assert image.format == "JPEG" and image.size == (copy.width, copy.height)
        assert image.mode == "L"


def test_a_small_colour_page_keeps_its_size_and_colour():
    page = Image.new("RGB", (1000, 700), (200, 180, 140))
    copies = page_derivatives(page)
    assert (copies[0].width, copies[0].height) == (1000, 700)
    image = _decoded(copies[0].jpeg)
    assert image.mode == "RGB"
    r, g, b = image.getpixel((500, 350))
    assert abs(r - 200) < 6 and abs(g - 180) < 6 and abs(b - 140) < 6


def test_bilevel_and_palette_pages_become_grey_and_colour():
    assert _decoded(page_derivatives(Image.new("1", (800, 600), 1))[0].jpeg).mode == "L"
    assert _decoded(page_derivatives(Image.new("P", (800, 600)))[0].jpeg).mode == "RGB"
