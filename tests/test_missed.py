"""Lines PP-OCR's detector missed on the whole page, read again in strips (pipeline/page/missed.py),
with the real engine."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.page.engines import OcrResult, ReadOptions, paddle
from pipeline.page.missed import STEP_MISSED_LINES, missed_runs, read_missed

from .test_paddle import FONT, SC, _horizontal, _vertical, paddle_or_skip

REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


def _read_real_page(name: str) -> OcrResult:
    """PP-OCR's reading, as the engine gives it, of a page of ../shared/realpages."""
    path = REALPAGES / "pages" / f"{name}.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        page.load()
        return paddle.PaddleEngine().read(page, ReadOptions("chi_tra", dpi=300))


LINES = ["县电厂开始建设发电机组", "一九五八年春兴建火力发电厂", "全县用电由此逐年增加"]


@pytest.mark.paddle
def test_a_line_left_out_of_a_reading_is_found_and_read_again_in_a_strip():
    paddle_or_skip()
    image = _horizontal(LINES)
    whole = paddle.read_image(image)
    assert [line.text for line in whole.lines] == LINES
    assert missed_runs(image, whole.lines) == []  # every line read: nothing to look for
    # As if the detector had not found the middle line.
    without = replace(whole, lines=(whole.lines[0], whole.lines[2]))
    runs = missed_runs(image, without.lines)
    assert len(runs) == 1
    middle = whole.lines[1].box
    assert runs[0][1] < (middle[1] + middle[3]) / 2 < runs[0][3]
    again, added = read_missed(without, image, paddle.read_image)
    assert added == 1
    found = again.lines[-1]
    assert found.text == LINES[1]
    # Its boxes are the page's, not the strip's.
    assert abs(found.box[0] - middle[0]) <= 8 and abs(found.box[1] - middle[1]) <= 8
    assert all(middle[0] - 8 <= g.box[0] <= middle[2] + 8 for g in found.glyphs)


@pytest.mark.paddle
def test_a_page_number_standing_alone_is_found_and_read_again():
    """A short run (two digits, one character wide) left unread is looked for as a line is."""
    paddle_or_skip()
    image = _horizontal(LINES + ["第一章  总论"])
    ImageDraw.Draw(image).text((900, 60 + 90 * len(LINES)), "38",
                               font=ImageFont.truetype(FONT, 44, index=SC), fill=0)
    whole = paddle.read_image(image)
    number = [line for line in whole.lines if line.text.strip() == "38"]
    assert len(number) == 1
    without = replace(whole, lines=tuple(line for line in whole.lines if line is not number[0]))
    runs = missed_runs(image, without.lines)
    assert len(runs) == 1 and runs[0][0] >= 880  # the number's run, not the line beside it
    again, added = read_missed(without, image, paddle.read_image)
    assert added == 1
    assert again.lines[-1].text.strip() == "38"
    assert abs(again.lines[-1].box[0] - number[0].box[0]) <= 8


@pytest.mark.paddle
def test_page_numbers_at_the_end_of_dot_leaders_are_read():
    """cy_gazette_p2, a table of contents in two columns: the detector, looking at the whole
    page, finds no box on four of its page numbers; read in strips, each comes back once with its
    leader, and no other line is added twice."""
    paddle_or_skip()
    result = _read_real_page("cy_gazette_p2")
    numbers = Counter(re.findall(r"\d+", result.text))
    for missed in ("46", "78", "109", "111"):
        assert numbers[missed] == 1
    assert STEP_MISSED_LINES in result.steps
    printed = Counter(re.findall(r"\d+", (REALPAGES / "gt" / "cy_gazette_p2.txt").read_text()))
    assert not numbers - printed  # nothing read twice or made up


@pytest.mark.paddle
def test_vertical_pages_are_not_searched_for_missed_lines():
    paddle_or_skip()
    image = _vertical(["县电厂开始建设发电机组", "一九五八年春兴建火力发电厂"])
    whole = paddle.read_image(image)
    assert whole.lines and all(line.vertical for line in whole.lines)
    assert missed_runs(image, whole.lines[:1]) == []


@pytest.mark.paddle
def test_the_body_line_over_a_watermark_emblem_is_read():
    """ccu_thesis_p3: the detector, looking at the whole page, finds no box on the one body line
    printed over the university's emblem (rapidocr's defaults miss it too)."""
    paddle_or_skip()
    result = _read_real_page("ccu_thesis_p3")
    assert "我忽然覺得我平靜如水的情感翻起滔天巨浪來" in result.text
    assert STEP_MISSED_LINES in result.steps
    assert result.text.count("滔天巨浪") == 1
