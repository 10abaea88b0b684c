"""Two engines' readings of a page checked against each other (crosscheck.py), and the quality
estimate of a page `--engine auto` read with both."""

from __future__ import annotations

import io

import pytest

from pipeline.config import Config
from pipeline.page import process, quality
from pipeline.page.crosscheck import differ
from pipeline.records import KIND_IMAGE, PageTask

from .conftest import tesseract_or_skip
from .test_paddle import _vertical, paddle_or_skip

PAGE = "縣城舊有城牆一道周長四里有餘設東南西北四門"  # 21 characters


def test_a_difference_of_script_form_is_no_difference():
    # PP-OCR reads the traditional 內 橫 毀 as 内 横 毁 on pages Tesseract reads right.
    assert differ("城內街巷，橫毀。", "城内街巷横毁") == 0.0
    assert differ(PAGE, PAGE) == 0.0


def test_misreadings_count_against_the_kept_readings_length():
    misread = PAGE.replace("城牆", "域牆").replace("四門", "匹門")
    assert differ(PAGE, misread) == pytest.approx(2 / 21)
    assert differ(PAGE, PAGE[:16]) == pytest.approx(5 / 21)  # five the other did not read
    assert differ(PAGE + "。，、", PAGE) == 0.0  # marks are not checked
    assert differ("，。", PAGE) is None  # nothing to check
    assert differ(PAGE, "") == 1.0


def test_the_same_characters_in_another_order_differ():
    # Columns the two engines order differently: the same bag of characters, not the same text.
    assert differ(PAGE, PAGE[10:] + PAGE[:10]) >= 0.5


def test_the_estimate_is_at_most_the_share_the_readings_differ_on():
    lines = [[("縣城舊有城牆一道", 80.0), ("周長四里有餘", 70.0)]]
    alone = quality.estimate(lines)
    assert alone is not None and alone.error_rate > 0.01
    checked = quality.estimate(lines, checked=0.0)
    assert checked is not None and checked.error_rate == 0.0 and checked.errors == 0
    assert quality.estimate(lines, checked=0.5) == alone  # a looser bound changes nothing
    assert quality.estimate(lines, checked=None) == alone
    # where the check set the figure, the page's reasons say so first, the model's after
    bound = quality.estimate(lines, checked=0.004)
    assert bound is not None and bound.reasons == ("checked=0.004",) + alone.reasons
    assert quality.describe(bound.reasons[0]) == (
        "two engines' readings differ on only 0.4% of the characters (the estimate is at most "
        "that)")
    assert "0.4%" in quality.describe(bound.reasons[0], chinese=True)


@pytest.mark.paddle
@pytest.mark.tesseract
def test_a_vertical_page_both_engines_read_alike_is_estimated_by_where_they_differ():
    paddle_or_skip()
    tesseract_or_skip()
    columns = ["縣城舊有城牆一道，周", "長四里有餘，設東、南", "、西、北四門，城外環", "繞護城河。城內街巷狹"]
    image = _vertical(columns)
    recognised = process.recognise(image, 300, Config())
    # auto read it with both engines, and they agreed on the characters (test_paddle.py)
    assert {process.STEP_ENGINES_AGREE, process.STEP_NO_PUNCTUATION} & set(recognised.steps)
    assert recognised.checked is not None and recognised.checked < 0.1
    _, alone = process.assess_alto(recognised.alto, image, recognised.ink, recognised.hidden)
    assert alone is not None and alone.error_rate > recognised.checked
    # as an ingest stores the page: the estimate bounded by the check
    png = io.BytesIO()
    image.save(png, format="PNG")
    task = PageTask(doc_id="d", path="page.png", kind=KIND_IMAGE, number=1,
                    image_png=png.getvalue(), dpi=300)
    page = process.process_page(task, Config())
    assert not page.error and page.engine == recognised.engine
    assert page.error_rate is not None and page.error_rate <= recognised.checked + 1e-4
    assert page.error_rate < alone.error_rate


def test_a_page_read_by_one_engine_is_not_checked():
    assert process.Recognised("", None, (), "", "chi_sim").checked is None
