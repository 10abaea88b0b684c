"""The page images a library keeps for readers: JPEG copies of the scan at a few sizes.

Made in the worker from the page image it has already decoded (no second decode), so the
reading room and IIIF work after the original files move. The largest copy is the scan at
most READING_LONG_SIDE pixels on its long side (a 300-dpi A4 page's 5号 characters stay about
30 px tall); each further copy halves the one before, down to a thumbnail. Together they are
the `sizes` of a IIIF Image API level 0 service: a viewer builds its zoom pyramid from them.
"""

from __future__ import annotations

import io

from PIL import Image

from ..records import PageImage

READING_LONG_SIDE = 2400  # pixels, the largest copy's long side (smaller scans stay as they are)
THUMBNAIL_LONG_SIDE = 320  # halving stops once the long side is at most this
JPEG_QUALITY = 80  # libjpeg's 0-100 scale; with 4:2:0 chroma for colour pages


def page_derivatives(image: Image.Image) -> tuple[PageImage, ...]:
    """JPEG copies of a decoded page image, largest first, for the reading room and IIIF."""
    mode = "RGB" if image.mode in ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV") \
        else "L"
    picture = image if image.mode == mode else image.convert(mode)
    width, height = picture.size
    if width < 1 or height < 1:
        return ()
    scale = min(1.0, READING_LONG_SIDE / max(width, height))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Pillow's bilinear filter widens with the scale (a true downsampling filter): half the
        # time of Lanczos on a 3000-px colour page (0.10 s against 0.22-0.25 s here).
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    copies = [_jpeg(picture)]
    while max(picture.size) > THUMBNAIL_LONG_SIDE and min(picture.size) >= 2:
        picture = picture.reduce(2)
        copies.append(_jpeg(picture))
    return tuple(copies)


def _jpeg(picture: Image.Image) -> PageImage:
    buffer = io.BytesIO()
    # optimize: Huffman tables for this image, 10 % smaller for 3 ms; not progressive (+50 ms
    # a page for 5 % less).
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return PageImage(width=picture.width, height=picture.height, jpeg=buffer.getvalue())
