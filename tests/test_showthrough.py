"""Characters read in show-through (the back of the page seen through the paper) are dropped;
light or coloured text that belongs to the page is not (pipeline/page/showthrough.py)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from pipeline.page.engines import Glyph, OcrLine, Reading
from pipeline.page.showthrough import drop_show_through

PAPER = (250, 246, 235)


def _line(text: str, top: int, colours: list[tuple[int, int, int]],
          draw: ImageDraw.ImageDraw) -> OcrLine:
    """A line whose character k is a cross of strokes of colour k in a 40 px cell (ink on a
    fifth of the cell, as a printed character)."""
    glyphs = []
    for k, (ch, colour) in enumerate(zip(text, colours)):
        left = 10 + 40 * k
        draw.rectangle((left + 17, top + 5, left + 22, top + 34), fill=colour)
        draw.rectangle((left + 5, top + 17, left + 34, top + 22), fill=colour)
        glyphs.append(Glyph(ch, (left, top, left + 40, top + 40), 95.0))
    box = (10, top, 10 + 40 * len(text), top + 40)
    polygon = ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))
    return OcrLine(text, box, polygon, 95.0, tuple(glyphs))


def test_faint_letters_alone_go_light_runs_coloured_text_and_punctuation_stay() -> None:
    image = Image.new("RGB", (520, 260), PAPER)
    draw = ImageDraw.Draw(image)
    black, faint, orange, grey = (20, 20, 20), (225, 220, 210), (250, 165, 0), (150, 150, 150)
    lines = (
        # a show-through 南 after the comma, and 里 alone at the end: both go
        _line("县电厂，南开始建设里", 10, [black] * 4 + [faint] + [black] * 4 + [faint], draw),
        # three faint characters in a row are light text set in the line: they stay
        _line("注此类型为双", 60, [black, faint, faint, faint, black, black], draw),
        # an orange label looks light in grey but is far from the paper; grey text is not faint
        _line("推荐循环体内", 110, [orange, orange, black, black, grey, black], draw),
        # faint punctuation stays (it may be a light comma)
        _line("县城，四门", 160, [black, black, faint, black, black], draw),
        # two characters: too short a line to judge
        _line("南北", 210, [faint, black], draw),
    )
    reading = Reading(lines, image.width, image.height, "paddle", "test")
    cleaned, dropped = drop_show_through(reading, image)
    assert dropped == 2
    texts = [line.text for line in cleaned.lines]
    assert texts == ["县电厂，开始建设", "注此类型为双", "推荐循环体内", "县城，四门", "南北"]
    first = cleaned.lines[0]
    assert "".join(g.text for g in first.glyphs) == first.text  # glyphs still spell the line
    # the same on a grey page image
    grey_page, dropped = drop_show_through(reading, image.convert("L"))
    assert dropped == 2 and grey_page.lines[0].text == "县电厂，开始建设"


def test_a_page_without_show_through_comes_back_as_it_was() -> None:
    image = Image.new("RGB", (520, 60), PAPER)
    draw = ImageDraw.Draw(image)
    line = _line("县电厂开始建设", 10, [(0, 0, 0)] * 7, draw)
    reading = Reading((line,), image.width, image.height, "paddle", "test")
    assert drop_show_through(reading, image) == (reading, 0)
    assert drop_show_through(reading, image.convert("L")) == (reading, 0)


def test_latin_words_keep_their_spaces() -> None:
    image = Image.new("RGB", (520, 60), PAPER)
    draw = ImageDraw.Draw(image)
    black, faint = (20, 20, 20), (228, 224, 214)
    base = _line("ABCDE", 10, [black, black, faint, black, black], draw)
    words = (Glyph("Work", base.glyphs[0].box, 95.0), Glyph("Like", base.glyphs[1].box, 95.0),
             Glyph("x", base.glyphs[2].box, 95.0), Glyph("Ali", base.glyphs[3].box, 95.0),
             Glyph("baba", base.glyphs[4].box, 95.0))
    line = OcrLine("Work Like x Alibaba", base.box, base.polygon, 95.0, words)
    cleaned, dropped = drop_show_through(Reading((line,), 520, 60, "paddle", "t"), image)
    assert dropped == 1 and cleaned.lines[0].text == "Work Like  Alibaba"


def test_the_ink_percentile_is_numpys_to_the_bit():
    """showthrough._percentile stands in for np.percentile (linear) on a glyph's colour
    distances: the same float for every size, including one value and ties."""
    import numpy as np

    from pipeline.page import showthrough

    rng = np.random.default_rng(19)
    sizes = list(range(1, 60)) + [97, 200, 999, 1000, 1001, 1600, 2047, 4096, 12345]
    for n in sizes:
        for high in (2, 40, 256):
            values = rng.integers(0, high, (n,), dtype=np.int16).reshape(1, n)
            for q in (99.5, 50.0, 0.0, 100.0, 12.5):
                expected = float(np.percentile(values, q))
                assert showthrough._percentile(values, q) == expected, (n, high, q)
