"""Lines PP-OCR's detector missed on the whole page, read again in strips (pipeline/page/missed.py),
with the real engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pipeline.page.engines import ReadOptions, paddle
from pipeline.page.missed import STEP_MISSED_LINES, missed_runs, read_missed

from .test_paddle import _horizontal, _vertical, paddle_or_skip

REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"

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
    path = REALPAGES / "pages" / "ccu_thesis_p3.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        page.load()
        result = paddle.PaddleEngine().read(page, ReadOptions("chi_tra", dpi=300))
    assert "我忽然覺得我平靜如水的情感翻起滔天巨浪來" in result.text
    assert STEP_MISSED_LINES in result.steps
    assert result.text.count("滔天巨浪") == 1
