"""What the page image says about its reading (pipeline/page/pagelook.py), with the real PP-OCR
on a crop of a real page."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from pipeline.config import Config
from pipeline.page import figures, pagelook, process, quality
from pipeline.page.engines import paddle

from .test_layout import _real_crop

UNREAD = pagelook.SIGNALS.index("unread_ink")
DARK = pagelook.SIGNALS.index("dark_area")


@pytest.mark.paddle
def test_text_the_engine_did_not_read_is_unread_ink_also_on_a_dark_background() -> None:
    crop = _real_crop("lunbian_sim_p4", (0, 300, 2480, 1300))  # plain prose, ~10 lines
    boxes = [line.box for line in paddle.read_image(crop).lines]
    assert len(boxes) >= 6
    read_all = pagelook.measure(crop, boxes)
    half_read = pagelook.measure(crop, boxes[::2])
    assert read_all[UNREAD] < 0.05 < 0.3 < half_read[UNREAD]
    assert read_all[DARK] == 0.0
    # The same page as light text on a dark ground (slides, covers): the ink is found all the same.
    dark: Image.Image = ImageOps.invert(crop.convert("RGB"))
    dark_all, dark_half = pagelook.measure(dark, boxes), pagelook.measure(dark, boxes[::2])
    assert dark_all[DARK] > 0.9 and dark_all[UNREAD] < 0.05 < 0.3 < dark_half[UNREAD]


@pytest.mark.paddle
def test_missed_lines_raise_the_estimate_and_say_why() -> None:
    crop = _real_crop("lunbian_sim_p4", (0, 300, 2480, 1300))
    lines = paddle.read_image(crop).lines
    tokens = [[(g.text, g.confidence) for g in line.glyphs] or [(line.text, line.confidence)]
              for line in lines]
    read_all = pagelook.measure(crop, [line.box for line in lines])
    half_read = pagelook.measure(crop, [line.box for line in lines][::2])
    full = quality.estimate(tokens, read_all, "paddle")
    missed = quality.estimate(tokens[::2], half_read, "paddle")
    assert full is not None and missed is not None
    assert missed.error_rate > 2 * full.error_rate
    assert missed.reasons[0].startswith("unread_ink=")
    assert "可能漏识" in quality.describe(missed.reasons[0], chinese=True)


@pytest.mark.paddle
def test_a_page_pp_ocr_reads_has_its_ink_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The missed lines, the figures and the quality estimate share one measurement of the page
    (it holds the figures: find_figures runs once), and the estimate is the one measured anew."""
    crop = _real_crop("lunbian_sim_p4", (0, 300, 2480, 1300))
    calls: list[int] = []
    find_figures = figures.find_figures

    def counted(image: Image.Image, boxes: list[tuple[int, int, int, int]]
                ) -> tuple[tuple[int, int, int, int], ...]:
        calls.append(len(boxes))
        return find_figures(image, boxes)

    monkeypatch.setattr(pagelook, "find_figures", counted)
    recognised = process.recognise(crop, 300, Config(engine="paddle"))
    shared = process.assess_alto(recognised.alto, crop, recognised.ink)
    assert recognised.ink is not None and len(calls) == 1
    assert shared == process.assess_alto(recognised.alto, crop)  # measured again
    assert len(calls) == 2
    # A measurement is reused for the same lines in any order, not for other lines.
    boxes = [line.box for line in paddle.read_image(crop).lines]
    ink = pagelook.page_ink(crop, boxes)
    assert pagelook.page_ink(crop, boxes[::-1], ink) is ink
    assert pagelook.page_ink(crop, boxes[1:], ink) is not ink
