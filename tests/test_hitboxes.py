"""Matched characters of the page text placed on the scan from the ALTO boxes."""

from __future__ import annotations

from index.hitboxes import Box, PageBoxes

ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>
<TextBlock><TextLine HPOS="100" VPOS="50" WIDTH="400" HEIGHT="40">
<String HPOS="100" VPOS="50" WIDTH="80" HEIGHT="40" CONTENT="清水"/>
<String HPOS="180" VPOS="50" WIDTH="120" HEIGHT="40" CONTENT="江大桥"/>
<String HPOS="300" VPOS="50" WIDTH="40" HEIGHT="40" CONTENT=","/>
<String HPOS="340" VPOS="50" WIDTH="80" HEIGHT="40" CONTENT="通车"/>
</TextLine>
<TextLine HPOS="100" VPOS="120" WIDTH="160" HEIGHT="40">
<String HPOS="100" VPOS="120" WIDTH="160" HEIGHT="40" CONTENT="光绪未年"/>
</TextLine></TextBlock>
<TextBlock><TextLine HPOS="600" VPOS="50" WIDTH="40" HEIGHT="160">
<String HPOS="600" VPOS="50" WIDTH="40" HEIGHT="160" CONTENT="竖排文字"/>
</TextLine></TextBlock>
</PrintSpace></Page></Layout></alto>"""
# As clean-up and proofreading leave it: full-width comma, a line break, 未 corrected to 末,
# and a space OCR put inside a word.
TEXT = "清水江大桥，通车\n光绪末 年\n竖排文字"


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def test_a_match_inside_one_line_gets_the_cells_of_its_characters():
    boxes = PageBoxes(TEXT, ALTO)
    assert boxes.boxes(_span(TEXT, "江大桥")) == [Box(180, 50, 120, 40)]
    assert boxes.boxes(_span(TEXT, "水江")) == [Box(140, 50, 80, 40)]


def test_a_match_across_lines_gets_one_box_per_line():
    boxes = PageBoxes(TEXT, ALTO)
    expected = [Box(340, 50, 80, 40), Box(100, 120, 80, 40)]
    assert boxes.boxes(_span(TEXT, "通车\n光绪")) == expected


def test_clean_up_and_corrections_keep_the_boxes_of_the_characters_they_replaced():
    boxes = PageBoxes(TEXT, ALTO)
    assert boxes.boxes(_span(TEXT, "桥，通")) == [Box(260, 50, 120, 40)]
    assert boxes.boxes(_span(TEXT, "末 年")) == [Box(180, 120, 80, 40)]


def test_vertical_strings_are_split_down_the_column():
    boxes = PageBoxes(TEXT, ALTO)
    assert boxes.boxes(_span(TEXT, "文字")) == [Box(600, 130, 40, 80)]


def test_no_alto_means_no_boxes():
    assert PageBoxes(TEXT, "").boxes(_span(TEXT, "通车")) == []


def test_characters_the_engine_doubted_are_found_in_the_text_until_an_editor_changes_them():
    # CC, one digit per character of CONTENT (pipeline/page/quality.mark_alto): the engine was
    # unsure of 江, of 未 (which the text has corrected to 末) and of 字.
    marked = (ALTO.replace('CONTENT="江大桥"', 'CONTENT="江大桥" CC="7 0 1"')
              .replace('CONTENT="光绪未年"', 'CONTENT="光绪未年" CC="0 0 9 2"')
              .replace('CONTENT="竖排文字"', 'CONTENT="竖排文字" CC="0 0 0 5"'))
    boxes = PageBoxes(TEXT, marked)
    assert boxes.doubtful(5) == [TEXT.index("江"), TEXT.index("字")]
    assert boxes.doubtful(8) == []
    assert boxes.boxes((TEXT.index("字"), TEXT.index("字") + 1)) == [Box(600, 170, 40, 40)]
    assert PageBoxes(TEXT, ALTO).doubtful(0) == []  # no CC: nothing to show
    uncorrected = TEXT.replace("末", "未")
    assert PageBoxes(uncorrected, marked).doubtful(5) == [
        uncorrected.index("江"), uncorrected.index("未"), uncorrected.index("字")]
