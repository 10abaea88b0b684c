"""Text set in a picture pasted on the page (a logo, a diagram made as an image) is the
picture's, not the page's: its edges are softer than the page's type (pipeline/page/pictured.py).
A page whose paper is grainy (a scan) is left as it is. Real PP-OCR reads a real slide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.page.assemble import STEP_PICTURE_TEXT
from pipeline.page.engines import ReadOptions
from pipeline.page.engines.paddle import PaddleEngine
from pipeline.page.pagelook import SIGNALS, measure
from pipeline.page.pictured import edge_ratios, pictured_lines
from pipeline.page.quality import alto_figure_boxes, alto_line_boxes

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
REALPAGES = Path(__file__).resolve().parents[2] / "shared" / "realpages" / "pages"
LINES = ("地方文史资料的整理与出版", "一九五八年电厂第一台机组发电", "铁路建设史编写组收集的原始材料")
LOGO = "云栖社区"


def _real(name: str) -> Image.Image:
    path = REALPAGES / f"{name}.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    return Image.open(path).convert("RGB")


def _page(scale: float = 2.0) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Three lines of type drawn on the page, then a logo made as a small picture and scaled up
    `scale` times onto it; the boxes of the four lines, the logo's last."""
    px = 40
    font = ImageFont.truetype(FONT, px)
    page = Image.new("L", (900, 420), 255)
    draw = ImageDraw.Draw(page)
    boxes = []
    for i, line in enumerate(LINES):
        top = 140 + i * 80
        draw.text((40, top), line, font=font, fill=20)
        left, upper, right, lower = draw.textbbox((40, top), line, font=font)
        boxes.append((left - 4, upper - 6, right + 4, lower + 6))
    small = ImageFont.truetype(FONT, round(48 / scale))
    picture = Image.new("L", (round(260 / scale), round(64 / scale)), 255)
    ImageDraw.Draw(picture).text((2, 2), LOGO, font=small, fill=20)
    picture = picture.resize((260, 64), Image.Resampling.BICUBIC)
    page.paste(picture, (40, 30))
    boxes.append((40, 30, 300, 94))
    return page, boxes


def test_the_text_of_a_picture_scaled_onto_the_page_is_the_picture_s() -> None:
    page, boxes = _page()
    assert pictured_lines(page, boxes) == (False, False, False, True)
    ratios = edge_ratios(page, boxes)
    assert all(r is not None and r < 1.1 for r in ratios[:3])  # the type: one edge width


def test_a_picture_drawn_at_the_page_s_resolution_is_not_told_from_the_type() -> None:
    # Unscaled, the logo's edges are the type's: nothing in the ink says it is a picture.
    page, boxes = _page(scale=1.0)
    assert pictured_lines(page, boxes) == (False, False, False, False)


def test_type_of_other_sizes_and_weights_is_the_page_s() -> None:
    page = Image.new("L", (1000, 500), 255)
    draw = ImageDraw.Draw(page)
    boxes = []
    bold = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
    for top, size, name, line in ((20, 72, bold, "电力工业史"), (140, 40, FONT, LINES[0]),
                                  (220, 40, FONT, LINES[1]), (300, 24, FONT, LINES[2] * 2)):
        font = ImageFont.truetype(name, size)
        draw.text((20, top), line, font=font, fill=0)
        left, upper, right, lower = draw.textbbox((20, top), line, font=font)
        boxes.append((left - 3, upper - 4, right + 3, lower + 4))
    assert pictured_lines(page, boxes) == (False, False, False, False)


def test_a_scanned_page_is_left_as_it_is() -> None:
    # Blur and grain widen every edge unevenly: the rule does not hold there, and the logo
    # stays the page's as before.
    page, boxes = _page()
    page = page.filter(ImageFilter.GaussianBlur(1.0))
    noisy = np.asarray(page, np.float32) + np.random.default_rng(3).normal(0, 8, (page.height,
                                                                                   page.width))
    page = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    assert pictured_lines(page, boxes) == (False, False, False, False)


def test_a_blurred_page_on_white_paper_is_left_as_it_is() -> None:
    # A scan levelled to white paper: the paper is flat, but blur widens the type's edges, a bold
    # heading's more than thin strokes', and nothing tells a picture from the type any more.
    page, boxes = _page()
    blurred = np.asarray(page.filter(ImageFilter.GaussianBlur(1.0)), np.float32)
    levelled = np.clip((blurred - 30) * 255 / (225 - 30), 0, 255).astype(np.uint8)
    assert pictured_lines(Image.fromarray(levelled), boxes) == (False, False, False, False)


def test_real_pp_ocr_leaves_a_slide_s_logo_out_of_its_text() -> None:
    # The top of a real slide (ali_slides_p8): the deck's logo, a raster image in the slide, on
    # a dark band; the slide's heading and first points below it, set as type.
    slide = _real("ali_slides_p8")
    top = slide.crop((0, 0, slide.width, slide.height // 2))
    result = PaddleEngine().read(top, ReadOptions("chi_sim", dpi=300))
    text = "".join(result.text.split())
    assert "云栖社区" not in text and "云效平台" not in text and "YUNXIAO" not in text
    assert "传统数据准备现状" in text
    assert STEP_PICTURE_TEXT in result.steps
    assert "云栖" not in result.alto  # nor a String of the ALTO: the picture's text
    # The logo's lines were read: their boxes stay in the ALTO as Illustrations, and the quality
    # estimate does not take the logo's ink for text the engine missed.
    root = etree.fromstring(result.alto.encode())
    figures = alto_figure_boxes(root)
    assert len(figures) == 3 and all(box[2] < 750 and box[3] < 110 for box in figures), figures
    unread = SIGNALS.index("unread_ink")
    lines = alto_line_boxes(root)
    assert measure(top, lines + figures)[unread] < measure(top, lines)[unread] - 0.05


def test_real_pp_ocr_keeps_every_line_of_a_slide_without_pictures() -> None:
    # A slide of the other deck (scu_slides_p7): its logo is drawn as type-like outlines in the
    # footer, its headings are coloured and bold; nothing on it is a picture's.
    slide = _real("scu_slides_p7")
    result = PaddleEngine().read(slide, ReadOptions("chi_sim", dpi=300))
    assert STEP_PICTURE_TEXT not in result.steps
    assert "建议使用" in "".join(result.text.split())
