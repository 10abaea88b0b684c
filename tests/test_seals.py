"""Red seals stamped over the text (pipeline/page/seals.py): found by colour, lifted off a copy,
and read through by both engines."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from pipeline.config import Config
from pipeline.page import process
from pipeline.page.preprocess import STEP_SEAL, preprocess_image
from pipeline.page.seals import find_seals, lift_seals

from .conftest import tesseract_or_skip
from .test_paddle import FONT, SC, _horizontal, paddle_or_skip

REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"
SEAL_RED = (205, 105, 100)  # the seal paste's colour on shiji_col_p1
STAMP = (300, 40, 620, 360)  # where the test stamps its seal, over the text


def _stamped() -> Image.Image:
    """Four lines of black text with a red seal stamped over two of them: seal paste multiplies
    the paper's colour, so the black strokes under it stay black."""
    page = _horizontal(["县电厂开始建设发电机组", "一九五八年春兴建火力发电厂",
                        "全县用电由此逐年增加", "电力工业史编写组整理"]).convert("RGB")
    seal = Image.new("RGB", page.size, (255, 255, 255))
    draw = ImageDraw.Draw(seal)
    draw.rectangle(STAMP, fill=SEAL_RED)
    font = ImageFont.truetype(FONT, 130, index=SC)
    for i, ch in enumerate("文史"):  # the seal's own characters, cut out of the red
        draw.text((STAMP[0] + 20 + 150 * i, STAMP[1] + 90), ch, font=font, fill=(255, 255, 255))
    return ImageChops.multiply(page, seal)


def _red(pixels: np.ndarray) -> np.ndarray:
    wide = pixels.astype(np.int16)
    return (wide[..., 0] - np.maximum(wide[..., 1], wide[..., 2])) > 40


def test_a_seal_over_text_is_found_and_lifted_leaving_the_black_text():
    page = _stamped()
    seals = find_seals(page)
    assert len(seals) == 1
    left, top, right, bottom = seals[0]
    assert abs(left - STAMP[0]) <= 8 and abs(top - STAMP[1]) <= 8
    assert abs(right - STAMP[2]) <= 8 and abs(bottom - STAMP[3]) <= 8

    lifted = lift_seals(page, seals)
    before, after = np.asarray(page), np.asarray(lifted)
    inside = (slice(top, bottom), slice(left, right))
    assert _red(before[inside]).mean() > 0.5
    assert not _red(after[inside]).any()  # the seal is gone...
    # ...the text under it not: every pixel of its strokes' core is still black.
    core = before[inside].max(axis=2) < 60
    assert core.sum() > 1000
    assert (after[inside].max(axis=2)[core] < 100).all()
    outside = before.copy()
    outside[inside] = after[inside]
    assert np.array_equal(outside, after)  # nothing outside the seal's box changed


def test_red_ink_that_is_no_seal_over_text_is_left_alone():
    heading = Image.new("RGB", (1100, 300), (255, 255, 255))
    draw = ImageDraw.Draw(heading)
    font = ImageFont.truetype(FONT, 90, index=SC)
    draw.text((60, 40), "县政府文件", font=font, fill=(200, 30, 30))  # a red heading (红头)
    draw.rectangle((20, 20, 1080, 280), outline=(190, 40, 40), width=6)  # a red frame
    draw.rectangle((600, 160, 1000, 260), fill=(180, 50, 40))  # a red bar...
    draw.text((620, 170), "白字", font=font, fill=(255, 255, 255))  # ...with white text
    assert find_seals(heading) == ()
    assert find_seals(_stamped().convert("L")) == ()  # a grey scan shows no red

    for name in ("shiji_col_p3", "cy_gazette_p1", "scu_slides_p7", "javamanual_p40"):
        # Red frames, a red raster title, red title bars with white text, an orange diagram.
        path = REALPAGES / "pages" / f"{name}.png"
        if not path.exists():
            pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the "
                        "repository")
        assert find_seals(Image.open(path)) == (), name


def _seal_page() -> tuple[Image.Image, Counter[str]]:
    """shiji_col_p1 (a red seal over six of its columns) at half size, and its ground truth's
    letters."""
    path = REALPAGES / "pages" / "shiji_col_p1.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    image = Image.open(path).convert("RGB")
    image = image.resize((image.width // 2, image.height // 2), Image.Resampling.BOX)
    truth = (REALPAGES / "gt" / "shiji_col_p1.txt").read_text(encoding="utf-8")
    return image, _letters(truth)


def _letters(text: str) -> Counter[str]:
    return Counter(c for c in unicodedata.normalize("NFKC", text) if c.isalnum())


def _right(text: str, truth: Counter[str]) -> int:
    return sum((_letters(text) & truth).values())


@pytest.mark.paddle
def test_pp_ocr_reads_the_page_with_the_seal_lifted_when_that_reads_better():
    paddle_or_skip()
    image, truth = _seal_page()
    lifted = process.recognise(image, 150, Config(engine="paddle"))
    plain = process.recognise(image, 150, Config(engine="paddle", skip_steps=(STEP_SEAL,)))
    assert STEP_SEAL in lifted.steps and STEP_SEAL not in plain.steps
    # The columns under the seal: 唐國子博士弘文館學士 and 宋中郎外兵曹參軍.
    assert "國子博士" in lifted.text and "中郎外兵" in lifted.text
    assert _right(lifted.text, truth) >= _right(plain.text, truth) + 5
    # The reading keeps the scan's pixels: its words lie on the page as it is.
    assert lifted.words
    assert all(0 <= w.left and w.left + w.width <= image.width for w in lifted.words)


@pytest.mark.tesseract
def test_tesseract_reads_the_page_with_the_seal_lifted():
    tesseract_or_skip()
    image, truth = _seal_page()
    assert STEP_SEAL in preprocess_image(image, 150).steps
    lifted = process.recognise(image, 150, Config(engine="tesseract", lang="chi_tra_vert"))
    plain = process.recognise(image, 150, Config(engine="tesseract", lang="chi_tra_vert",
                                                 skip_steps=(STEP_SEAL,)))
    assert STEP_SEAL in lifted.steps and STEP_SEAL not in plain.steps
    assert _right(lifted.text, truth) >= _right(plain.text, truth) + 20
