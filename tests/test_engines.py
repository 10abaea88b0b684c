"""The engine seam and the Tesseract engine: one run per page, text plus word boxes, clear
errors."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import EnvironmentProblemError
from pipeline.page.engines import Engine, ReadOptions, finish_result, tesseract

from .conftest import tesseract_or_skip

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"


def _page(text: str) -> Image.Image:
    font = ImageFont.truetype(FONT, 48, index=2)
    image = Image.new("L", (1400, 200), 255)
    ImageDraw.Draw(image).text((40, 60), text, font=font, fill=0)
    return image


@pytest.mark.tesseract
def test_one_tesseract_run_gives_text_words_and_alto(monkeypatch):
    tesseract_or_skip()
    calls = []
    real = tesseract.pytesseract.pytesseract.run_tesseract

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tesseract.pytesseract.pytesseract, "run_tesseract", counting)
    result = tesseract.ocr_image(_page("县电厂开始建设发电机组"), lang="chi_sim", psm=6)
    assert len(calls) == 1
    assert "发电机组" in result.text.replace(" ", "")
    assert result.words and all(w.width > 0 and w.height > 0 for w in result.words)
    assert result.confidence is not None and 50 < result.confidence <= 100
    assert "<alto" in result.alto


@pytest.mark.tesseract
def test_missing_language_model_names_the_package():
    tesseract_or_skip()
    with pytest.raises(EnvironmentProblemError, match="apt-get install tesseract-ocr-chi-xx"):
        tesseract.check_languages("chi_xx")


def test_alto_parsing_reads_boxes_and_confidence():
    alto = ('<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>'
            '<String HPOS="10" VPOS="20" WIDTH="30" HEIGHT="40" WC="0.91" CONTENT="电厂"/>'
            '</PrintSpace></Page></Layout></alto>')
    (word,) = tesseract.parse_alto_words(alto)
    assert ((word.text, word.left, word.top, word.width, word.height, word.confidence)
            == ("电厂", 10, 20, 30, 40, 91.0))


def test_the_result_gives_lines_with_their_boxes_words_and_confidence():
    alto = ('<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>'
            '<TextBlock><TextLine HPOS="10" VPOS="20" WIDTH="70" HEIGHT="40">'
            '<String HPOS="10" VPOS="20" WIDTH="30" HEIGHT="40" WC="0.90" CONTENT="县电"/>'
            '<SP/><String HPOS="45" VPOS="20" WIDTH="35" HEIGHT="40" WC="0.70" CONTENT="厂"/>'
            '</TextLine><TextLine HPOS="10" VPOS="80" WIDTH="30" HEIGHT="40">'
            '<String HPOS="10" VPOS="80" WIDTH="30" HEIGHT="40" WC="0.50" CONTENT="建设"/>'
            '</TextLine></TextBlock></PrintSpace></Page></Layout></alto>')
    result = finish_result("县电 厂\n建设", alto, Image.new("L", (100, 130), 255),
                           ReadOptions("chi_tra", correct=False))
    assert [w.text for w in result.words] == ["县电", "厂", "建设"]
    assert result.confidence == pytest.approx(70.0)
    first, second = result.lines()
    assert (first.text, first.left, first.top, first.width, first.height) == ("县电厂", 10, 20,
                                                                              70, 40)
    assert first.confidence == pytest.approx(80.0) and len(first.words) == 2
    assert (second.text, second.confidence) == ("建设", 50.0)


@pytest.mark.tesseract
def test_the_tesseract_engine_reads_through_the_seam():
    tesseract_or_skip()
    engine: Engine = tesseract.TesseractEngine()
    page = _page("县电厂开始建设发电机组")
    result = engine.read(page, ReadOptions("chi_sim", psm=6))
    direct = tesseract.ocr_image(page, "chi_sim", psm=6)
    # The same run (the ALTO differs only in the temporary file name it records).
    assert (result.text, result.words, result.confidence) == (direct.text, direct.words,
                                                              direct.confidence)
    assert "".join(line.text for line in result.lines()) == "".join(result.text.split())
    info = engine.info("chi_sim")
    assert (info.name, info.model) == ("tesseract", "chi_sim") and info.version[0].isdigit()
    with pytest.raises(EnvironmentProblemError, match="tesseract-ocr-chi-xx"):
        engine.check("chi_xx")


@pytest.mark.tesseract
def test_wenshi_ocr_decides_the_script_on_the_first_page_only(monkeypatch, tmp_path):
    """`wenshi ocr` of a volume: the first page runs the script trial (two short Tesseract runs
    besides its reading), the pages after it are read once each with its decision."""
    tesseract_or_skip()
    from index.api import ocr_file
    from pipeline.config import Config

    from .test_script import SIMPLIFIED, horizontal_page

    pages = [horizontal_page(SIMPLIFIED[i:] + SIMPLIFIED[:i]) for i in (0, 7, 14)]
    volume = tmp_path / "卷.tif"
    pages[0].save(volume, save_all=True, append_images=pages[1:], dpi=(300, 300))
    langs = []
    real = tesseract.pytesseract.pytesseract.run_tesseract

    def counting(*args, **kwargs):
        langs.append(kwargs.get("lang"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tesseract.pytesseract.pytesseract, "run_tesseract", counting)
    read = ocr_file(Config(library=tmp_path / "unused", jobs=1), str(volume))
    assert [p.lang for p in read] == ["chi_sim"] * 3 and not any(p.error for p in read)
    assert "第一座火力发电厂" in read[0].text
    # page 1: trial pair + reading; 2, 3: one each
    assert sorted(langs) == ["chi_sim"] * 4 + ["chi_tra"]
