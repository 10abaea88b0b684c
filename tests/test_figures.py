"""Figures on a page image (pipeline.page.figures) and the role they give the text inside them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.config import Config
from pipeline.page.figures import find_figures
from pipeline.page.layout import BODY, FIGURE, order_lines
from pipeline.page.process import recognise

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SIZE = 40


@dataclass(frozen=True)
class _Line:
    text: str
    box: tuple[int, int, int, int]
    confidence: float = 99.0
    vertical: bool = False


def _page(rule: int = 3) -> tuple[Image.Image, list[_Line], tuple[int, int, int, int]]:
    """A page: text lines, a ruled table (rules `rule` pixels wide), and a plot (axes, a curve,
    tick labels)."""
    image = Image.new("L", (1600, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, SIZE, index=2)
    lines = []

    def text(s: str, x: int, y: int) -> None:
        draw.text((x, y), s, font=font, fill=0)
        left, top, right, bottom = draw.textbbox((x, y), s, font=font)
        lines.append(_Line(s, (left, top, right, bottom)))

    for n in range(6):
        text("县城旧有城墙一道周长四里有余设东南西北四门", 150, 150 + 70 * n)
    # A ruled table: frame and grid lines, text in the cells.
    top, rows, cols = 700, 4, 3
    for r in range(rows + 1):
        draw.line((150, top + 80 * r, 1350, top + 80 * r), fill=0, width=rule)
    for c in range(cols + 1):
        draw.line((150 + 400 * c, top, 150 + 400 * c, top + 80 * rows), fill=0, width=rule)
    for r in range(rows):
        for c in range(cols):
            text(f"单元{r}{c}", 180 + 400 * c, top + 20 + 80 * r)
    # A plot: axes, a sine curve, tick labels inside its area.
    x0, y0, w, h = 300, 1250, 900, 600
    draw.line((x0, y0 + h, x0 + w, y0 + h), fill=0, width=3)
    draw.line((x0, y0, x0, y0 + h), fill=0, width=3)
    points = [(x0 + i, y0 + h / 2 - (h / 2.5) * math.sin(i / 60)) for i in range(0, w, 4)]
    draw.line(points, fill=0, width=4)
    for k in range(4):
        text(f"{k}.5", x0 + 60 + 220 * k, y0 + h - 60)
    return image, lines, (x0, y0, x0 + w, y0 + h)


def test_a_plot_is_a_figure_and_a_ruled_table_is_not() -> None:
    image, lines, plot = _page()
    figures = find_figures(image, [line.box for line in lines])
    assert len(figures) == 1
    left, top, right, bottom = figures[0]
    # The curve spans the plot (the axes, being straight rules, may be left out).
    assert left < plot[0] + 100 and right > plot[2] - 100
    assert top < plot[1] + 150 and bottom > plot[3] - 250


def test_text_inside_a_figure_leaves_the_page_text() -> None:
    image, lines, _ = _page()
    figures = find_figures(image, [line.box for line in lines])
    result = order_lines(lines, image.width, image.height, figures)
    roles = {p.line.text: p.role for p in result.lines}
    assert {roles[f"{k}.5"] for k in range(4)} == {FIGURE}
    assert roles["单元00"] == BODY
    assert "0.5" not in result.text() and "单元00" in result.text()
    assert "0.5" in result.text(figures=True)


def test_a_page_of_text_has_no_figures() -> None:
    image, lines, _ = _page()
    blank = Image.new("L", image.size, 255)
    draw = ImageDraw.Draw(blank)
    font = ImageFont.truetype(FONT, SIZE, index=2)
    for line in lines[:6]:
        draw.text((line.box[0], line.box[1]), line.text, font=font, fill=0)
    assert find_figures(blank, [line.box for line in lines[:6]]) == ()
    assert find_figures(blank, []) == ()


def _skewed(image: Image.Image, lines: list[_Line], degrees: float
            ) -> tuple[Image.Image, list[_Line], Callable[[float, float], tuple[float, float]]]:
    """The page placed on a scanner askew (counter-clockwise for positive `degrees`, the page
    enlarged to hold it), its lines' boxes the upright boxes round their turned corners, and
    the map from a point of the page to the turned one."""
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    a = math.radians(degrees)
    cx, cy = image.width / 2, image.height / 2

    def to(x: float, y: float) -> tuple[float, float]:
        # y grows downwards: counter-clockwise on the page is a negative angle in (x, y).
        dx, dy = x - cx, y - cy
        return (dx * math.cos(a) + dy * math.sin(a) + turned.width / 2,
                -dx * math.sin(a) + dy * math.cos(a) + turned.height / 2)

    out = []
    for line in lines:
        left, top, right, bottom = line.box
        xs, ys = zip(*(to(x, y) for x in (left, right) for y in (top, bottom)))
        out.append(_Line(line.text, (int(min(xs)), int(min(ys)), int(max(xs)) + 1,
                                     int(max(ys)) + 1)))
    return turned, out, to


@pytest.mark.parametrize("rule", [1, 3])
@pytest.mark.parametrize("degrees", [2.5, -2.5])
def test_issue13_a_ruled_table_scanned_askew_stays_the_page_text(degrees: float, rule: int
                                                                  ) -> None:
    # A table skewed 2.5° was one figure: its hairline rules, a pixel thick at the working
    # scale, broke into steps shorter than a rule, so the grid stayed as graphics and every
    # cell was left out as figure text (ccu_thesis_p23, cy_gazette_p30 under --degrade e).
    image, lines, plot = _page(rule)
    image, lines, to = _skewed(image, lines, degrees)
    figures = find_figures(image, [line.box for line in lines])
    assert len(figures) == 1  # the plot, still a figure
    middle = to((plot[0] + plot[2]) / 2, (plot[1] + plot[3]) / 2)
    left, top, right, bottom = figures[0]
    assert left < middle[0] < right and top < middle[1] < bottom
    result = order_lines(lines, image.width, image.height, figures)
    roles = {p.line.text: p.role for p in result.lines}
    assert {roles[f"单元{r}{c}"] for r in range(4) for c in range(3)} == {BODY}
    assert {roles[f"{k}.5"] for k in range(4)} == {FIGURE}
    assert "单元32" in result.text() and "0.5" not in result.text()


REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


@pytest.mark.paddle
def test_issue13_a_real_table_scanned_askew_is_read_whole() -> None:
    # The first table of ccu_thesis_p23 (hairline rules, merged cells) put on the scanner 2.5°
    # askew: read for real, every cell is the page's text (as a figure, all but its caption and
    # one heading were left out).
    from .test_paddle import paddle_or_skip

    paddle_or_skip()
    path = REALPAGES / "pages" / "ccu_thesis_p23.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        table = page.crop((400, 380, 2100, 1020)).convert("L")
    image = table.rotate(2.5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    text = "".join(recognise(image, 300, Config(engine="paddle")).text.split())
    assert "表4-4" in text
    cells = [f"({r},{c})" for r in range(3, 6) for c in range(2, 7)]
    assert [c for c in cells if c not in text] == []


def test_issue13_a_label_set_larger_than_the_text_on_a_figure_stays_the_page_text() -> None:
    # A figure found in the ink is its graphics (a curve, a ring); a line counts as inside it
    # when it sticks out by at most the leeway. Its own text is set no larger than the page's
    # (ticks, legends); a label set half as large again, lying across the figure's edge, is a
    # name set on the graphics (ali_slides_p13's diagram: 参数化 on a disc over a ring), and the
    # page's text holds it.
    body = [_Line("县城旧有城墙一道周长四里有余", (100, 100 + 60 * n, 1000, 140 + 60 * n))
            for n in range(6)]
    figure = (200, 600, 900, 1200)
    tick = _Line("0.5", (150, 1210, 190, 1240))  # beside the figure, small: the figure's
    label = _Line("参数化", (400, 1150, 600, 1214))  # across its edge, 1.6 characters high
    inside = _Line("乙", (500, 800, 540, 840))  # inside, the page's size: the figure's
    result = order_lines([*body, tick, label, inside], 1200, 1600, [figure])
    roles = {p.line.text: p.role for p in result.lines}
    assert roles["参数化"] == BODY
    assert roles["0.5"] == FIGURE and roles["乙"] == FIGURE
    assert "参数化" in result.text() and "0.5" not in result.text()


@pytest.mark.paddle
def test_issue13_the_names_on_a_real_diagram_are_the_page_text() -> None:
    # ali_slides_p13 (../shared/realpages) read for real: the grey ring behind the diagram's
    # five coloured discs is found as four figures, and three of the names on the discs lay
    # within them; they are in the ground truth (the slide's text), and were left out.
    from .test_paddle import paddle_or_skip

    paddle_or_skip()
    path = REALPAGES / "pages" / "ali_slides_p13.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        image = page.convert("RGB").resize((page.width // 2, page.height // 2),
                                           Image.Resampling.LANCZOS)
    text = "".join(recognise(image, 150, Config(engine="paddle")).text.split())
    assert [name for name in ("参数化", "产品线", "类型", "部门", "执行插件") if name not in text] == []
    assert "配置单可以分享、收藏" in text
