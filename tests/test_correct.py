"""Post-OCR correction: a misread look-alike is fixed on dictionary and image evidence, correct
text is left alone, and the ALTO word boxes say what the text says."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.page import correct, engines
from pipeline.page.alto import parse_alto, strings
from pipeline.page.engines import tesseract
from pipeline.page.glyphs import glyph_similarity

from .conftest import tesseract_or_skip

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
CELL = 44  # 10.5 pt at 300 dpi, as the benchmark pages are set

# Real correct Chinese: local-history prose and a statute (laws-zh corpus style), with the
# single-character function words (由, 对, 省, 未) that a dictionary alone would "correct".
CORRECT = (
    "一九五八年春，县人民委员会决定在城东白沙河畔兴建第一座火力发电厂，由省电业管理局派技术人员协助勘测设计。",
    "前款规定的资料，由区住房和城乡建设主管部门报省人民政府批准，对产品质量未作规定的，适用本条例。",
    "清光绪末年，地方士绅曾集股筹建商办铁路，终因资金不足而中辍。",
)


def _line(text: str) -> tuple[Image.Image, str]:
    """`text` set one character per cell on a 300-dpi line, and an ALTO String per character."""
    font = ImageFont.truetype(FONT, CELL, index=2)
    image = Image.new("L", (CELL * (len(text) + 2), CELL * 3), 255)
    draw = ImageDraw.Draw(image)
    strings = []
    for k, ch in enumerate(text):
        x, y = CELL * (k + 1), CELL
        draw.text((x + CELL / 2, y + CELL / 2), ch, font=font, fill=0, anchor="mm")
        # Tesseract's boxes are the ink's own extent: take it from the character drawn alone.
        alone = Image.new("L", image.size, 0)
        ImageDraw.Draw(alone).text((x + CELL / 2, y + CELL / 2), ch, font=font, fill=255,
                                   anchor="mm")
        left, top, right, bottom = alone.getbbox()
        strings.append(f'<String ID="string_{k}" HPOS="{left}" VPOS="{top}" WIDTH="{right - left}" '
                       f'HEIGHT="{bottom - top}" WC="0.95" CONTENT="{ch}"/>')
    alto = ('<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>'
            '<TextBlock><TextLine>' + "".join(strings) + '</TextLine></TextBlock>'
            '</PrintSpace></Page></Layout></alto>')
    return image, alto


def _misread(text: str, index: int, wrong: str) -> tuple[Image.Image, str, str]:
    """The page shows `text`; Tesseract's text and ALTO say `wrong` at `index`."""
    image, alto = _line(text)
    misread = text[:index] + wrong + text[index + 1:]
    return image, alto.replace(f'CONTENT="{text[index]}"', f'CONTENT="{wrong}"', 1), misread


@pytest.mark.parametrize("text,index,wrong", [
    ("清光绪末年，地方士绅曾集股筹建商办铁路", 3, "未"),
    ("两台1500千瓦汽轮发电机组先后并网发电", 6, "干"),
    ("年平均降水量一千二百毫米，适宜种植水稻", 14, "宣"),
])
def test_known_confusion_is_fixed_in_text_and_alto(text, index, wrong):
    image, alto, misread = _misread(text, index, wrong)
    fixed, new_alto, corrections = correct.correct_page(misread + "\n", alto, image)
    assert fixed == text + "\n"
    made = [(c.index, c.original, c.replacement) for c in corrections]
    assert made == [(index, wrong, text[index])]
    assert "".join(w.text for w in tesseract.parse_alto_words(new_alto)) == text


@pytest.mark.parametrize("confidence,fixed", [("1.00", False), ("0.90", False), ("0.89", True),
                                              ("0.50", True), (None, True)])
def test_a_character_the_engine_was_sure_of_is_kept(confidence, fixed):
    # Every change the correction made to a character PP-OCR read at 0.9 or more was wrong on the
    # pages measured (benchmarks/correction_paddle.py): the engine's confidence decides whether
    # the dictionary and the glyph are asked at all.
    image, alto, misread = _misread("清光绪末年，地方士绅曾集股筹建商办铁路", 3, "未")
    wc = 'WC="0.95" CONTENT="未"'
    alto = alto.replace(wc, "CONTENT=\"未\"" if confidence is None
                        else f'WC="{confidence}" CONTENT="未"')
    text, new_alto, made = correct.correct_page(misread, alto, image, sure=0.9)
    assert (text[3], [c.original for c in made]) == (("末", ["未"]) if fixed else ("未", []))
    assert ('CONTENT="末"' in new_alto) == fixed
    # Without a threshold (Tesseract, whose WC is a whole word's) the confidence is not read.
    assert correct.correct_page(misread, alto, image)[0][3] == "末"


def test_run_coverage_agrees_with_the_word_search_at_each_character():
    # `covered` stops at a string jieba's table lacks (its prefixes are all there); it must
    # find exactly what looking for a word around each character finds.
    import math

    from pipeline.text import segment

    freq, total = segment.word_frequencies()
    scorer = correct._Scorer(freq, math.log(total))
    for text in CORRECT + ("清光绪未年地方士绅曾集股筹建", "两台1500干瓦汽轮发电机组"):
        for run in correct._han_runs(text):
            han = "".join(text[k] for k in run)
            found = [bool(scorer.covering_word(han, i)) for i in range(len(han))]
            assert scorer.covered(han) == found


def test_word_search_and_segmentation_score_skip_what_no_word_can_start_with() -> None:
    # Both stop at a string jieba's table lacks, as `covered` does; they must find what trying
    # every span finds: the most frequent word (of equal ones the shortest, then the first)
    # and the same log probability, on real text with characters swapped for look-alikes.
    import math
    import random

    from pipeline.text import segment

    freq, total = segment.word_frequencies()
    scorer = correct._Scorer(freq, math.log(total))

    def every_span_word(text: str, i: int) -> str:
        best, best_freq = "", 0
        for length in range(2, correct.MAX_WORD + 1):
            for start in range(max(0, i - length + 1), min(i, len(text) - length) + 1):
                count = freq.get(text[start:start + length], 0)
                if count > best_freq:
                    best, best_freq = text[start:start + length], count
        return best

    def every_span_route(text: str) -> float:
        score = [0.0] * (len(text) + 1)
        for start in range(len(text) - 1, -1, -1):
            best = math.log(freq.get(text[start]) or 1) - scorer.log_total + score[start + 1]
            for end in range(start + 2, min(len(text), start + correct.MAX_WORD) + 1):
                count = freq.get(text[start:end], 0)
                if count > 0:
                    best = max(best, math.log(count) - scorer.log_total + score[end])
            score[start] = best
        return score[0]

    rng = random.Random(3)
    han = "".join(ch for ch in "".join(CORRECT) if "\u4e00" <= ch <= "\u9fff")
    table = correct.confusables()
    for _ in range(1500):
        start = rng.randrange(len(han) - 8)
        text = list(han[start:start + rng.randrange(2, 9)])
        for k, ch in enumerate(text):
            if ch in table and rng.random() < 0.3:
                text[k] = rng.choice(table[ch])[0]
        trial = "".join(text)
        i = rng.randrange(len(trial))
        assert scorer.covering_word(trial, i) == every_span_word(trial, i)
        assert scorer.route(trial) == every_span_route(trial)


def test_runs_look_through_whitespace_only():
    assert correct._han_runs("光绪 \n末年，地方a士绅") == [[0, 1, 4, 5], [7, 8], [10, 11]]


def test_a_parsed_alto_is_corrected_in_place_as_its_text_is():
    image, alto, misread = _misread("清光绪末年，地方士绅曾集股筹建商办铁路", 3, "未")
    tree = parse_alto(alto)
    fixed, new_alto, corrections = correct.correct_page(misread, alto, image, tree=tree)
    assert fixed == "清光绪末年，地方士绅曾集股筹建商办铁路" and len(corrections) == 1
    assert [s.get("CONTENT") for s in strings(tree)] == [
        s.get("CONTENT") for s in strings(parse_alto(new_alto))]
    # Nothing but the corrected CONTENT changes in the ALTO text.
    assert new_alto == alto.replace('CONTENT="未"', 'CONTENT="末"', 1)


@pytest.mark.parametrize("text", CORRECT)
def test_correct_text_is_untouched(text):
    image, alto = _line(text)
    assert correct.correct_page(text, alto, image) == (text, alto, ())


def test_dictionary_alone_proposes_but_the_glyph_decides():
    # 由区住房 reads better to the dictionary as 山区住房; the glyph on the page is 由.
    text = "前款规定的资料，由区住房和城乡建设主管部门报送"
    assert correct.correct_text(text)[0] != text
    image, alto = _line(text)
    assert correct.correct_page(text, alto, image)[2] == ()


def test_glyph_similarity_prefers_the_drawn_character():
    image, alto = _line("末千")
    box = correct._GlyphBoxes(strings(parse_alto(alto)), ["末", "千"], vertical=False).box(0)
    assert box is not None
    mo, wei, none = glyph_similarity(image, box, CELL, ("末", "未", "\ue000"))
    assert mo is not None and wei is not None and mo > wei + 0.02
    assert none is None  # a private-use code point: no face draws it


def test_text_and_alto_that_disagree_are_left_alone():
    image, alto, misread = _misread("清光绪末年，地方士绅曾集股筹建商办铁路", 3, "未")
    assert correct.correct_page(misread + "多", alto, image) == (misread + "多", alto, ())


def test_only_simplified_models_are_corrected():
    assert engines.simplified("chi_sim") and engines.simplified("chi_sim_vert")
    assert not engines.simplified("chi_tra") and not engines.simplified("chi_tra_vert")
    assert not engines.simplified("chi_sim+chi_tra")


@pytest.mark.tesseract
def test_ocr_image_keeps_words_and_text_alike():
    tesseract_or_skip()
    image, _ = _line("清光绪末年，地方士绅曾集股筹建商办铁路")
    for flag in (True, False):
        result = tesseract.ocr_image(image, "chi_sim", psm=7, correct=flag)
        assert "".join(w.text for w in result.words) == "".join(result.text.split())
        assert flag or result.corrections == ()


@pytest.mark.tesseract
@pytest.mark.parametrize("engine", ["tesseract", "paddle"])
def test_the_ingest_and_ocr_page_path_corrects(monkeypatch, engine):
    # process_page is what `wenshi ingest` and `wenshi ocr` run for every scanned page, whichever
    # engine reads it (engines.finish_result corrects both).
    tesseract_or_skip()
    if engine == "paddle":
        from .test_paddle import paddle_or_skip

        paddle_or_skip()
    import io

    from pipeline.config import Config
    from pipeline.records import KIND_IMAGE, PageTask
    from pipeline.page import process

    calls = []
    real = engines.correct_page

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(engines, "correct_page", spy)
    image, _ = _line("清光绪末年，地方士绅曾集股筹建商办铁路")
    png = io.BytesIO()
    image.save(png, format="PNG")
    task = PageTask(doc_id="d", path="page.png", kind=KIND_IMAGE, number=1,
                    image_png=png.getvalue(), dpi=300)
    page = process.process_page(task, Config(lang="chi_sim", engine=engine))
    assert len(calls) == 1 and not page.error and page.engine == engine
    # Debian's chi_sim reads this line 清光绪未年; right either way after the correction.
    assert page.text.startswith("清光绪末年，地方士绅")
    assert "".join(w.text for w in page.words) == page.text
