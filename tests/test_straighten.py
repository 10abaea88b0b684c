"""A page PP-OCR reads askew is laid out in a straightened frame (pipeline/page/straighten.py):
its skew measured from the lines' polygons, its lines ordered as on the page straight, its boxes
mapped back onto the image the engine was given. Real PP-OCR reads a real page turned 2.5°."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from PIL import Image

from pipeline.config import Config
from pipeline.page.engines import OcrLine, OcrResult, ReadOptions, Reading
from pipeline.page.engines.paddle import PaddleEngine
from pipeline.page.geometry import PageGeometry
from pipeline.page.pagelook import weighted_median
from pipeline.page.process import recognise
from pipeline.page.skew import estimate_skew
from pipeline.page.straighten import (STEP_STRAIGHTENED, line_skew, matters, straightened)

from .test_foldstrip import _realpage
from .test_paddle import paddle_or_skip

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# Rows 第一章 to 第三章 of a thesis's table of contents: titles at the left, dot leaders, page
# numbers at the right (ccu_thesis_p6, 300 dpi).
CONTENTS = ("ccu_thesis_p6", (300, 1310, 2200, 2350))


def _askew(image: Image.Image, degrees: float) -> Image.Image:
    """The page turned counter-clockwise, on a canvas that holds all of it (as
    benchmarks/ocr_accuracy.py's --degrade b2.5 makes a real page look scanned)."""
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True,
                        fillcolor=(255, 255, 255))


def _onto_askew(image: Image.Image, degrees: float, x: float, y: float) -> tuple[float, float]:
    """Where the point (x, y) of `image` lies on `_askew(image, degrees)`."""
    turned = _askew(image, degrees)
    a = math.radians(degrees)
    dx, dy = x - image.width / 2.0, y - image.height / 2.0
    return (turned.width / 2.0 + dx * math.cos(a) + dy * math.sin(a),
            turned.height / 2.0 - dx * math.sin(a) + dy * math.cos(a))


def _line(x0: float, y0: float, length: float, thick: float, degrees: float) -> OcrLine:
    """A line `length` long and `thick` thick from (x0, y0), turned `degrees` anticlockwise."""
    a = math.radians(degrees)
    along, down = np.array([math.cos(a), -math.sin(a)]), np.array([math.sin(a), math.cos(a)])
    start = np.array([x0, y0])
    pts = [start, start + length * along, start + length * along + thick * down,
           start + thick * down]
    polygon = tuple((int(round(p[0])), int(round(p[1]))) for p in pts)
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return OcrLine("文" * 5, (min(xs), min(ys), max(xs), max(ys)), polygon, 99.0)


def _column(x0: float, y0: float, length: float, thick: float, degrees: float) -> OcrLine:
    """A vertical column from (x0, y0) down, turned `degrees` anticlockwise (its foot moves
    right), corners from the top left clockwise."""
    a = math.radians(degrees)
    down, across = np.array([math.sin(a), math.cos(a)]), np.array([math.cos(a), -math.sin(a)])
    start = np.array([x0, y0])
    pts = [start, start + thick * across, start + thick * across + length * down,
           start + length * down]
    polygon = tuple((int(round(p[0])), int(round(p[1]))) for p in pts)
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return OcrLine("文" * 5, (min(xs), min(ys), max(xs), max(ys)), polygon, 99.0, vertical=True)


@pytest.mark.parametrize("degrees", [2.5, -2.5, 1.0, -0.7, 5.0])
def test_the_skew_of_lines_and_of_columns_is_measured_from_their_polygons(degrees: float) -> None:
    lines = [_line(100, 100 + 60 * i, 1500 - 100 * (i % 3), 40, degrees) for i in range(8)]
    assert line_skew(lines) == pytest.approx(degrees, abs=0.1)
    columns = [_column(100 + 60 * i, 100, 1500, 40, degrees) for i in range(8)]
    assert line_skew(columns) == pytest.approx(degrees, abs=0.1)


def test_the_weighted_median_counts_each_value_by_its_weight() -> None:
    """The median straighten.py takes of its lines' angles and pictured.py of its lines' edge
    widths (pagelook.weighted_median): a long line, or one with many edges, counts for more; of
    two halves equally weighted, the lower value."""
    assert weighted_median([], []) is None
    assert weighted_median([3.0, 1.0, 2.0], [1, 1, 1]) == 2.0
    assert weighted_median([1.0, 2.0, 3.0], [1, 1, 5]) == 3.0
    assert weighted_median([1.0, 2.0, 3.0], [5.0, 1.0, 1.0]) == 1.0
    assert weighted_median([2.0, 1.0], [1, 1]) == 1.0
    assert weighted_median([0.5, -0.5, 0.4], [400.0, 900.0, 1200.0]) == 0.4


def test_no_skew_without_enough_long_lines_that_agree() -> None:
    assert line_skew([_line(100, 100 + 60 * i, 1500, 40, 2.5) for i in range(2)]) == 0.0
    # Lines at odd angles (lettering on a poster): no one skew.
    assert line_skew([_line(100, 100 + 200 * i, 800, 40, d)
                      for i, d in enumerate((-9, -5, -1, 3, 7, 11))]) == 0.0
    # Steeper than a scan is askew: set at an angle.
    assert line_skew([_line(100, 100 + 400 * i, 800, 40, 30) for i in range(5)]) == 0.0


def test_the_skew_matters_when_it_lifts_a_rows_far_end_half_a_line() -> None:
    # Lines 40 px high across 1500 px: half a line over 1500 px is 0.76°.
    lines = [_line(100, 100 + 60 * i, 1500, 40, 0.0) for i in range(6)]
    assert not matters(lines, 0.6)
    assert matters(lines, 0.9)
    assert not matters(lines, 0.0)
    # The same angle on a narrow column of text does not.
    narrow = [_line(100, 100 + 60 * i, 300, 40, 0.0) for i in range(6)]
    assert not matters(narrow, 0.9)


@pytest.mark.parametrize("degrees,corner", [(2.5, False), (-3.0, False), (2.5, True),
                                             (-3.0, True)])
def test_lines_turned_straight_map_back_exactly(degrees: float, corner: bool) -> None:
    page = Image.new("RGB", (800, 600), (250, 248, 240))
    lines = tuple(_line(20, 40 + 60 * i, 760, 30, degrees) for i in range(8))
    if corner:  # text set level in the page's corners: turned, it would leave the canvas
        lines += (_line(2, 2, 300, 30, 0.0), _line(498, 2, 300, 30, 0.0))
    straight = straightened(Reading(lines, 800, 600, "paddle", "m"), page, degrees)
    margin = straight.geometry.margin
    assert (margin > 0) == corner
    assert straight.image.size == (800 + 2 * margin, 600 + 2 * margin)
    assert (straight.reading.width, straight.reading.height) == straight.image.size
    for before, after in zip(lines, straight.reading.lines):
        xs, ys = np.array(after.polygon, dtype=np.float64).T
        assert xs.min() >= 0 and ys.min() >= 0
        assert xs.max() <= straight.image.width and ys.max() <= straight.image.height
        back = np.array(straight.geometry.to_source(xs, ys)).T
        assert back == pytest.approx(np.array(before.polygon, dtype=np.float64), abs=1.0)
    for after in straight.reading.lines[:8]:  # the page's own lines lie level
        assert abs(after.polygon[0][1] - after.polygon[1][1]) <= 1
    assert straight.geometry == PageGeometry((800, 600), straight.image.size, degrees,
                                             margin=margin)


def _read(image: Image.Image) -> OcrResult:
    return PaddleEngine().read(image, ReadOptions("chi_tra"))


def _rows(text: str) -> list[str]:
    return [row for row in text.split("\n") if row.strip()]


def test_issue13_a_contents_page_askew_reads_in_the_order_of_the_page_straight() -> None:
    paddle_or_skip()
    page = _realpage(*CONTENTS)
    straight = _read(page)
    assert STEP_STRAIGHTENED not in straight.steps
    assert _rows(straight.text)[:4] == ["第一章 緒論", "1", "1.1", "中文測試"]
    # The engine, and the page loop as `wenshi ocr` runs it (its steps and boxes).
    cfg = Config(engine="paddle")
    for degrees, askew in ((2.5, _read(_askew(page, 2.5))),
                           (-2.5, recognise(_askew(page, -2.5), 300, cfg))):
        assert STEP_STRAIGHTENED in askew.steps
        # Each page number right after its title, as on the page straight (askew and laid out
        # as it lies, the page numbers came after all the titles, a column of their own). A
        # short page number the recogniser misses askew may be missing.
        rows, expected = _rows(askew.text), iter(_rows(straight.text))
        assert all(row in expected for row in rows)  # in the same order
        assert len(rows) >= len(_rows(straight.text)) - 1
    # Switched off (--skip-step deskew), the page is laid out as it lies.
    off = recognise(_askew(page, -2.5), 300, replace(cfg, skip_steps=(STEP_STRAIGHTENED,)))
    assert STEP_STRAIGHTENED not in off.steps


def test_issue13_boxes_of_a_page_askew_land_on_its_characters() -> None:
    paddle_or_skip()
    page = _realpage(*CONTENTS)
    degrees = 2.5
    askew_image = _askew(page, degrees)
    straight, askew = _read(page), _read(askew_image)

    def strings(result: OcrResult) -> list[tuple[str | None, float, float, float, float]]:
        root = etree.fromstring(result.alto.encode("utf-8"))
        return [(s.get("CONTENT"), *(float(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH",
                                                              "HEIGHT")))
                for s in root.iter("{*}String")]

    page_element = etree.fromstring(askew.alto.encode("utf-8")).find(".//{*}Page")
    assert page_element is not None
    assert (page_element.get("WIDTH"), page_element.get("HEIGHT")) == (
        str(askew_image.width), str(askew_image.height))
    grey = np.asarray(askew_image.convert("L"))
    for char in "研獻緒":
        (_, x, y, w, h), = [s for s in strings(straight) if s[0] == char]
        found = [s for s in strings(askew) if s[0] == char]
        assert len(found) == 1
        _, ax, ay, aw, ah = found[0]
        # The character's centre on the page askew is its box's centre (laid out straight and
        # not mapped back, the boxes lay up to 19 px off, a third of a character) ...
        cx, cy = _onto_askew(page, degrees, x + w / 2, y + h / 2)
        assert abs(ax + aw / 2 - cx) <= 0.15 * h and abs(ay + ah / 2 - cy) <= 0.15 * h
        # ... which is about the character's size (the upright box round it turned 2.5°) ...
        assert aw <= w * 1.3 + 4 and ah <= h * 1.3 + 4
        # ... and holds its ink.
        assert (grey[int(ay):int(ay + ah), int(ax):int(ax + aw)] < 128).mean() > 0.05
    # The words (hit boxes) are the ALTO's.
    words = {w.text: (w.left, w.top, w.width, w.height) for w in askew.words}
    for content, x, y, w, h in strings(askew):
        if content in words and content == "研":
            assert words[content] == (int(x), int(y), int(w), int(h))


def test_a_skew_from_polygons_is_refined_on_the_ink_near_it_and_kept_without_a_peak() -> None:
    page = _askew(_realpage(*CONTENTS), 2.5)
    ink = np.asarray(page.convert("L")) < 128
    # From the short lines' polygons, which measured 1.84° on the whole page turned 2.5°.
    assert estimate_skew(ink, around=1.8) == pytest.approx(2.5, abs=0.15)
    assert estimate_skew(ink, around=3.2) == pytest.approx(2.5, abs=0.15)
    # Nowhere near the text's own skew the projection has no peak: the angle given stands.
    assert estimate_skew(ink, around=6.0) == 6.0
    assert estimate_skew(np.zeros((50, 50), dtype=bool), around=1.5) == 1.5


def test_a_skew_the_polygons_put_far_short_is_followed_outward_not_inward() -> None:
    page = _askew(_realpage(*CONTENTS), 2.5)
    ink = np.asarray(page.convert("L")) < 128
    # The polygons of short lines on a noisy, blurred scan lie further short of the skew than
    # the window reaches (cy_gazette_p2 turned 2.5° and made to look scanned: 1.36°): the
    # projection's best then lies at the window's outer edge, and the search moves outward.
    assert estimate_skew(ink, around=1.3) == pytest.approx(2.5, abs=0.15)
    assert estimate_skew(ink, around=-1.3) == -1.3  # no peak that way: the angle given stands
    # Beyond the skew the projection's best lies at the inner edge: never followed inward
    # (a slide's panel peaked nearer straight than its text).
    assert estimate_skew(ink, around=6.0) == 6.0


@pytest.mark.paddle
def test_issue13_a_contents_page_made_to_look_scanned_reads_each_number_after_its_title() -> None:
    # The left column of a two-column table of contents, turned 2.5° on aged, noisy paper as
    # `ocr_accuracy.py --realpages --degrade e` makes it: the dot leaders are lost in the
    # noise, the short titles' polygons measure the skew 1.1° short, and the boxes, grown with
    # the blur, touch from row to row. Each page number is read right after its title, as on
    # the page clean (the titles of several rows came first, then their numbers).
    paddle_or_skip()
    sys.path.insert(0, str(BENCHMARKS))
    import ocr_accuracy as oa

    crop = _realpage("cy_gazette_p2", (250, 100, 2450, 1100))
    page, _ = oa.degrade_real("e")(crop, "cy_gazette_p2", 300)
    result = PaddleEngine().read(page, ReadOptions("chi_tra"))
    assert STEP_STRAIGHTENED in result.steps
    text = "".join(result.text.split())
    order = ["世界勞工黨", "40", "台灣人權聯盟", "42", "台灣主義黨", "44", "台灣民主共和黨", "46"]
    at = [text.find(part) for part in order]
    assert -1 not in at and at == sorted(at), text
