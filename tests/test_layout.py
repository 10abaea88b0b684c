"""Reading order and line roles (pipeline.page.layout) on synthetic line boxes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from pipeline.page import layout
from pipeline.page.engines import paddle
from pipeline.page.layout import (
    BODY,
    CAPTION,
    FOOTER,
    HEADER,
    PAGE_NUMBER,
    order_lines,
)


@dataclass(frozen=True)
class _Line:
    text: str
    box: tuple[int, int, int, int]
    confidence: float = 99.0
    vertical: bool = False


def _hline(text: str, left: int, top: int, size: int = 40) -> _Line:
    return _Line(text, (left, top, left + size * len(text), top + size))


def _vline(text: str, left: int, top: int, size: int = 40) -> _Line:
    return _Line(text, (left, top, left + size, top + size * len(text)), vertical=True)


def _shuffled(lines: list[_Line], seed: int = 13) -> list[_Line]:
    out = list(lines)
    random.Random(seed).shuffle(out)
    return out


def _texts(lines: list[_Line], width: int, height: int) -> list[str]:
    return [p.line.text for p in order_lines(_shuffled(lines), width, height).lines]


def _column(prefix: str, left: int, top: int, rows: int, chars: int = 18,
            pitch: int = 60) -> list[_Line]:
    return [_hline(f"{prefix}{n:02d}" + "字" * (chars - 3), left, top + n * pitch)
            for n in range(rows)]


def test_single_column_reads_top_to_bottom() -> None:
    lines = _column("甲", 200, 300, rows=20, chars=30)
    assert _texts(lines, 1600, 2400) == [line.text for line in lines]


def test_skewed_lines_whose_boxes_overlap_stay_in_order() -> None:
    # A page scanned 5° askew: each line's upright box is taller than the line pitch, so the
    # boxes of neighbouring lines overlap; the short last line starts further left.
    lines = [_Line(f"第{n:02d}行" + "字" * 20,
                   (150 - 7 * n, 100 + 80 * n, 1040 - 7 * n, 230 + 80 * n)) for n in range(12)]
    lines.append(_Line("末行较短", (60, 1060, 600, 1150)))
    assert _texts(lines, 1200, 1400) == [x.text for x in lines]


def test_two_columns_after_a_full_width_title() -> None:
    # Baselines line up across the columns (a journal grid), so only the gutter tells them apart.
    title = _hline("标题跨两栏的一行", 500, 200, size=60)
    abstract = _hline("摘要" + "字" * 30, 200, 320)
    left = _column("左", 200, 450, rows=25)
    right = _column("右", 200 + 18 * 40 + 80, 450, rows=25)
    expected = [title.text, abstract.text] + [x.text for x in left] + [x.text for x in right]
    assert _texts([title, abstract] + left + right, 1700, 2400) == expected


def test_three_columns_left_to_right() -> None:
    cols = [_column(c, 100 + k * 560, 200, rows=10, chars=12) for k, c in enumerate("甲乙丙")]
    assert _texts(cols[0] + cols[1] + cols[2], 1800, 1000) == [
        x.text for col in cols for x in col]


def test_a_corner_label_beside_the_title_is_no_column() -> None:
    # A slide: a label in the top right corner, far from a block of text on the left that
    # starts lower down. The gap beside the block is wider than the one under the label, but
    # the label does not run down the slide as a column would.
    corner = _hline("标语", 2500, 40, size=50)
    title = _hline("传统数据准备现状", 1100, 200, size=100)
    block = _column("点", 600, 450, rows=8, chars=20)
    assert _texts([corner, title] + block, 3000, 1700) == [corner.text, title.text] + [
        x.text for x in block]


def test_table_reads_row_by_row() -> None:
    cells = []
    for row in range(6):
        top = 300 + row * 70
        cells += [_hline(f"名{row}", 200, top), _hline(f"数值{row}", 700, top),
                  _hline(f"备注说明{row}", 1100, top)]
    assert _texts(cells, 1600, 1200) == [c.text for c in cells]


def test_two_column_contents_page_reads_each_column_down() -> None:
    # A table of contents in two page columns, each a name column and a page-number column
    # whose dot leaders the engine dropped: four columns on one baseline grid, read as two.
    lines = []
    for half, left in enumerate((200, 1300)):
        for row in range(15):
            top = 300 + row * 70
            name = "甲乙丙丁戊"[: 2 + row % 4] + f"{half}{row:02d}"
            lines += [_hline(name, left, top), _hline(str(10 + 3 * row + 50 * half), left + 800,
                                                      top)]
    assert _texts(lines, 2480, 1800) == [x.text for x in lines]


def test_contents_rows_whose_boxes_touch_read_row_by_row() -> None:
    # A blurred, noisy scan of a table of contents (cy_gazette_p2 made to look scanned,
    # `ocr_accuracy.py --realpages --degrade e`): the dot leaders are lost in the noise, so each
    # title and its page number are lines apart, and the detector's boxes, grown with the blur,
    # touch from row to row, leaving a gap only now and then. A band of several rows is then
    # no cell of wrapped lines: a stack of page numbers is rows (a number does not wrap).
    lines = []
    top = 300
    for row in range(12):
        name = "甲乙丙丁戊"[: 2 + row % 4] + f"黨{row:02d}"
        lines += [_hline(name, 200, top, 70), _hline(str(38 + 2 * row), 900, top + 6, 56)]
        top += 70 if row % 3 else 76  # every third row a few pixels apart
    assert _texts(lines, 1400, 1500) == [x.text for x in lines]
    # A wrapped title beside its one page number is still a stack: the title first.
    wrapped = [_hline("第一章緒論與研究", 200, 300, 70), _hline("動機及目的", 200, 370, 70),
               _hline("12", 900, 376, 56), _hline("第二章文獻", 200, 460, 70),
               _hline("15", 900, 466, 56)]
    assert _texts(wrapped, 1400, 900) == [x.text for x in wrapped]


def test_table_of_names_and_figures_reads_row_by_row() -> None:
    cells = []
    for row in range(8):
        top = 300 + row * 70
        cells += [_hline("收入支出"[: 2 + row % 3] + str(row), 200, top),
                  _hline(f"{1000 + 37 * row}", 900, top), _hline(f"{20 + row}", 1300, top)]
    assert _texts(cells, 1800, 1200) == [c.text for c in cells]


def test_a_lists_numbers_read_with_the_line_they_stand_beside() -> None:
    # A reference list set with hanging numbers: the numbers stand in a narrow column of their
    # own, the lines are set close (4 px apart), and the gap beside the numbers is wider than the
    # gaps between the lines. Each number reads before the first line of its item.
    lines = []
    top = 300
    for n, rows in enumerate((3, 2, 4, 3, 2), start=1):
        lines.append(_hline(f"[{n}]", 200, top))
        for row in range(rows):
            lines.append(_hline(f"文献{n}第{row}行" + "字" * 14, 400, top))
            top += 44
    assert _texts(lines, 1600, 1200) == [x.text for x in lines]


def test_page_numbers_of_a_contents_column_with_headings_read_with_their_entries() -> None:
    # A contents column of headings and entries; only the entries have page numbers, far to
    # the right. Few lines have a partner on their row, so it is no table, but the numbers are
    # read with their entries, not as a column of their own after the headings.
    lines = []
    top = 300
    for n, entries in enumerate((1, 1, 2)):
        lines.append(_hline(f"第{n}编选举", 200, top))
        lines.append(_hline(f"县市{n}", 240, top + 70))
        top += 140
        for k in range(entries):
            lines += [_hline(f"候选人{n}{k}", 280, top), _hline(str(90 + 3 * n + k), 1000, top)]
            top += 70
    assert _texts(lines, 1600, 1600) == [x.text for x in lines]


def test_rows_a_value_centred_over_them_joins_into_one_band_read_as_rows() -> None:
    # A statistics table: the p-value is centred over the rows of 男性 and 女性, so no blank
    # band parts those two rows across the table; they are still rows, not cells of two lines.
    head = [_hline("性别", 200, 300), _hline("N", 600, 300), _hline("%", 800, 300),
            _hline("p值", 1100, 300)]
    men = [_hline("男性", 200, 400), _hline("13", 600, 400), _hline("72.75", 800, 400)]
    women = [_hline("女性", 200, 450), _hline("53", 600, 450), _hline("27.25", 800, 450)]
    p_value = _hline("0.637", 1100, 425)
    age = [_hline("年龄", 200, 560), _hline("66", 600, 560), _hline("18.2", 800, 560),
           _hline("0.623", 1100, 560)]
    lines = head + men + [p_value] + women + age
    assert _texts(lines, 1600, 1000) == [x.text for x in lines]


def test_a_head_row_whose_boxes_touch_the_first_row_reads_as_rows() -> None:
    # The detector's boxes of a table's head row reach down to the first row's: no blank band
    # parts them, yet each is a row of the table.
    rows = [["λ", "A↑", "B↓"], ["1", "0.5648", "0.0426"], ["0.7", "0.6841", "0.0341"],
            ["0.5", "0.4845", "0.0369"]]
    tops = (300, 340, 400, 460)
    lines = [_hline(text, 400 + 300 * k, top) for cells, top in zip(rows, tops)
             for k, text in enumerate(cells)]
    assert _texts(lines, 1600, 1000) == [x.text for x in lines]


def test_running_head_page_number_and_foot_are_roles_apart() -> None:
    head = _hline("自动化学报第四十卷", 200, 60, size=30)
    folio = _hline("123", 1300, 62, size=30)
    body = _column("正", 200, 300, rows=30, chars=30)
    foot = _hline("收稿日期2014年", 200, 2250, size=30)
    number = _hline("- 5 -", 760, 2300, size=30)
    result = order_lines(_shuffled([head, folio, foot, number] + body), 1600, 2400)
    roles = {p.line.text: p.role for p in result.lines}
    assert roles[head.text] == HEADER
    assert roles[folio.text] == PAGE_NUMBER
    assert roles[foot.text] == FOOTER
    assert roles[number.text] == PAGE_NUMBER
    assert {roles[x.text] for x in body} == {BODY}
    texts = [p.line.text for p in result.lines]
    assert texts[:2] == [head.text, folio.text] and texts[-2:] == [foot.text, number.text]
    assert result.text(marginal=False) == "\n".join(x.text for x in body)
    # Heads and feet are set apart by a blank line, so the clean-up never joins them to the body.
    assert result.text() == "\n\n".join([f"{head.text}\n{folio.text}",
                                         "\n".join(x.text for x in body),
                                         f"{foot.text}\n{number.text}"])


def test_large_title_at_the_top_is_body_not_header() -> None:
    title = _hline("第一章緒論", 600, 100, size=80)
    body = _column("正", 200, 350, rows=30, chars=30)
    result = order_lines([title] + body, 1600, 2400)
    assert result.lines[0].line is title and result.lines[0].role == BODY


def test_a_sentence_naming_a_table_is_not_a_caption() -> None:
    body = _column("正", 200, 300, rows=5, chars=30)
    tail = _hline("表4-2。", 200, 300 + 5 * 60)
    result = order_lines(body + [tail], 1600, 2400)
    assert {p.role for p in result.lines} == {BODY}


def test_margin_bands_by_size_and_pieces() -> None:
    body = _column("正", 200, 300, rows=30, chars=30)
    # A section heading alone at the top, set a little larger than the body: not a head.
    heading = _hline("第三节", 200, 100, size=46)
    first = order_lines([heading] + body, 1600, 2400).lines[0]
    assert first.line is heading and first.role == BODY
    # The same size in three pieces across the page (journal, volume, date): a running head.
    pieces = [_hline("计算机学报", 200, 100, size=46), _hline("第四十卷", 800, 100, size=46),
              _hline("二〇一九年", 1300, 100, size=46)]
    roles = [p.role for p in order_lines(pieces + body, 1600, 2400).lines[:3]]
    assert roles == [HEADER] * 3


def test_caption_keeps_its_place_with_its_own_role() -> None:
    above = _column("上", 200, 300, rows=5, chars=30)
    caption = _hline("图 3 某县地形图", 500, 1200)
    below = _column("下", 200, 1400, rows=5, chars=30)
    result = order_lines(_shuffled(above + [caption] + below), 1600, 2400)
    assert [p.line.text for p in result.lines] == [x.text for x in above + [caption] + below]
    assert [p.role for p in result.lines if p.line is caption] == [CAPTION]


def test_vertical_columns_right_to_left_with_double_row_note() -> None:
    # Main text column, then a column holding a heading over a double-row note (夹注): the
    # heading first, then the note's right sub-column, then its left one; then the next column.
    first = _vline("天地玄黄宇宙洪荒日月盈昃", 1400, 200, size=80)
    heading = _vline("黄帝者", 1280, 200, size=80)
    note_right = _vline("集解徐廣曰號有熊索隱", 1322, 460, size=38)
    note_left = _vline("黄故稱黄帝猶神農火德", 1280, 460, size=38)
    last = _vline("辰宿列張寒來暑往秋收", 1160, 200, size=80)
    lines = [first, heading, note_right, note_left, last]
    result = order_lines(_shuffled(lines), 1600, 1400)
    assert result.vertical
    assert [p.line.text for p in result.lines] == [x.text for x in lines]


def test_a_double_row_note_wider_than_the_text_it_interrupts_reads_where_it_stands() -> None:
    # shiji_bw_p4's second column (boxes as PP-OCR found them, in pixels of the page): a note
    # run on from the column before (two rows, right first), the main text, a new note. Its
    # rows are set at 0.7 of the main text's size, so the two together are wider than the
    # main column, and neither row alone lies within it.
    def v(text: str, box: tuple[int, int, int, int]) -> _Line:
        return _Line(text, box, vertical=True)

    before = [v("姓公孫名曰軒轅", (1258, 841, 1396, 1662)),
              v("索隱按皇甫謐云黄帝生於壽丘長", (1332, 1659, 1439, 3278)),
              v("於姬水因以為姓居軒轅之丘因以", (1214, 1662, 1323, 3278))]
    column = [v("為名又以為號是本姓公", (1111, 842, 1232, 2016)),
              v("孫長居姬水因改姓姬", (1002, 846, 1109, 1881)),
              v("生而神靈弱而能言", (1032, 1994, 1194, 2952)),
              v("索隱弱", (1120, 2941, 1223, 3278)),
              v("謂幼弱", (1002, 2932, 1120, 3282))]
    after = [v("时也盖未合能言之时而黄帝即言所以为神异也潘", (908, 846, 1013, 3278))]
    lines = before + column + after
    assert _texts(lines, 2358, 3714) == [x.text for x in lines]


def test_lines_of_one_size_in_a_vertical_table_are_no_double_row_note() -> None:
    # A genealogy table (zupu_p1, p2), one band of a vertical page: a name, then a cell wrapped
    # into two columns of the name's type size, the first running on into the next cell. Each
    # column of the cell is a row of its own: the second is read after the row of the first.
    def v(text: str, box: tuple[int, int, int, int]) -> _Line:
        return _Line(text, box, vertical=True)

    name = v("伯龍", (1210, 200, 1270, 345))
    first = v("立伯熹公長子", (1240, 340, 1300, 700))
    second = v("思勤為嗣", (1180, 340, 1240, 580))
    more = v("生于民", (1240, 690, 1300, 870))
    result = order_lines(_shuffled([name, first, second, more]), 1600, 1400)
    assert result.vertical
    assert [p.line.text for p in result.lines] == [x.text for x in (name, first, more, second)]
    # Set at 0.7 of the name's size, the two columns are a double-row note: read one after the
    # other where they stand, then the text after them.
    first = v("立伯熹公長子", (1240, 340, 1282, 592))
    second = v("思勤為嗣", (1198, 340, 1240, 508))
    more = v("生于民", (1210, 585, 1270, 765))
    result = order_lines(_shuffled([name, first, second, more]), 1600, 1400)
    assert [p.line.text for p in result.lines] == [x.text for x in (name, first, second, more)]


def test_decisions_do_not_depend_on_the_scale() -> None:
    title = _hline("标题跨两栏的一行", 500, 200, size=60)
    left = _column("左", 200, 450, rows=12)
    right = _column("右", 200 + 18 * 40 + 80, 450, rows=12)
    lines = [title] + left + right

    def scaled(line: _Line, k: int) -> _Line:
        return _Line(line.text, (line.box[0] * k, line.box[1] * k, line.box[2] * k,
                                 line.box[3] * k))

    small = [p.line.text for p in order_lines(lines, 1700, 1300).lines]
    big = [p.line.text for p in order_lines([scaled(x, 3) for x in lines], 5100, 3900).lines]
    assert small == big == [x.text for x in lines]


def test_empty_and_blank_lines() -> None:
    assert order_lines([], 100, 100).lines == ()
    only_blank = order_lines([_hline("  ", 10, 10)], 100, 100)
    assert only_blank.lines == () and only_blank.text() == ""


def test_marginal_roles_are_the_ones_manuscripts_drop() -> None:
    assert layout.MARGINAL_ROLES == {HEADER, FOOTER, PAGE_NUMBER}


def test_marginal_texts_are_read_from_the_alto_layout_tags() -> None:
    alto = etree.fromstring(
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Tags>'
        '<LayoutTag ID="role-header" LABEL="header"/><LayoutTag ID="role-body" LABEL="body"/>'
        '<LayoutTag ID="role-page-number" LABEL="page-number"/></Tags><Layout><Page><PrintSpace>'
        '<TextBlock ID="b0" TAGREFS="role-header"><TextLine><String CONTENT="自动化"/>'
        '<String CONTENT="学报"/></TextLine></TextBlock>'
        '<TextBlock ID="b1" TAGREFS="role-body"><TextLine><String CONTENT="正文"/></TextLine>'
        '</TextBlock><TextBlock ID="b2" TAGREFS="role-page-number"><TextLine>'
        '<String CONTENT="12"/></TextLine></TextBlock></PrintSpace></Page></Layout></alto>')
    assert layout.marginal_texts(alto) == ("自动化学报", "12")
    assert layout.marginal_texts(None) == ()


# -- the real engine on crops of real pages -------------------------------------------------

REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


def _real_crop(name: str, box: tuple[int, int, int, int]) -> Image.Image:
    from .test_paddle import paddle_or_skip

    paddle_or_skip()
    path = REALPAGES / "pages" / f"{name}.png"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared/realpages beside the repository")
    with Image.open(path) as image:
        return image.crop(box).copy()


@pytest.mark.paddle
def test_pp_ocr_two_column_contents_page_reads_each_column_down() -> None:
    # The top of a gazette's two-column table of contents (party names, page numbers).
    image = _real_crop("cy_gazette_p2", (200, 100, 2300, 900))
    reading = paddle.read_image(image)
    middle = image.width / 2

    def side(box: tuple[int, int, int, int]) -> int:
        return 0 if (box[0] + box[2]) / 2 < middle else 1

    own = [side(line.box) for line in reading.lines]
    assert own != sorted(own), "PP-OCR's own order goes across the columns"
    result = layout.order_reading(reading)
    ours = [side(p.line.box) for p in result.lines]
    assert ours == sorted(ours) and set(ours) == {0, 1}
    text = result.text()
    assert text.index("世界和平中立黨") < text.index("台灣獨立黨") < text.index("賴清德")


@pytest.mark.paddle
def test_pp_ocr_vertical_columns_read_right_to_left() -> None:
    # Seven columns of a classical page (史記 五帝本紀), ruled, on beige paper.
    image = _real_crop("shiji_col_p3", (1030, 820, 1800, 1900))
    reading = paddle.read_image(image)
    result = layout.order_reading(reading)
    assert result.vertical
    centres = [(p.line.box[0] + p.line.box[2]) / 2 for p in result.lines]
    assert centres == sorted(centres, reverse=True) and len(centres) >= 5
    assert result.text().startswith("以黄帝為五帝之首")


@pytest.mark.paddle
def test_pp_ocr_a_double_row_note_is_read_row_by_row_where_it_stands() -> None:
    # Four columns of shiji_bw_p4 (史記 五帝本紀, black and white): main text interrupted by
    # double-row notes, set at 0.6-0.8 of its size, right row first (the transcription's order).
    image = _real_crop("shiji_bw_p4", (880, 800, 1460, 3320))
    result = layout.order_reading(paddle.read_image(image))
    assert result.vertical
    text = result.text().replace("\n", "")
    at = [text.find(part) for part in ("姓公孫名曰軒轅", "是本姓公", "孫長居姬水", "生而神靈",
                                        "謂幼弱", "时也盖未合")]
    assert -1 not in at and at == sorted(at), text


def test_a_layout_models_figure_holding_a_minority_of_the_text_is_a_figure() -> None:
    above = _column("上", 200, 300, rows=6, chars=30)
    labels = [_hline("终端显示层", 500, 800), _hline("数据持久层", 900, 1000)]
    caption = _hline("图 3 分层结构", 600, 1130)
    below = _column("下", 200, 1300, rows=6, chars=30)
    region = (450, 760, 1200, 1100)  # the model's box around the diagram and its labels
    result = order_lines(_shuffled(above + labels + [caption] + below), 1600, 2400,
                         model_regions=[region])
    roles = {p.line.text: p.role for p in result.lines}
    assert [roles[x.text] for x in labels] == [layout.FIGURE] * 2
    assert roles[caption.text] == CAPTION  # a caption the box takes in stays the page's
    assert all(roles[x.text] == BODY for x in above + below)
    assert "终端显示层" not in result.text() and "图 3 分层结构" in result.text()


def _skewed_table(drop: int = 2) -> list[_Line]:
    """A ruled table scanned askew (luatexcn_doc_p4 turned 2.5°, as the model saw it): a column
    of short cells, a column of wrapped running text, a narrow column; each cell sits `drop`
    pixels lower for every 40 pixels it lies further right."""
    def cell(text: str, left: int, top: int, width: int) -> _Line:
        top += drop * left // 40
        return _Line(text, (left, top, left + width, top + 40))

    return [cell("宏包", 400, 700, 80), cell("用途", 700, 700, 80), cell("详", 1240, 690, 40),
            cell("情", 1240, 740, 40),
            cell("usepackage", 400, 800, 250), cell("(横排)", 400, 850, 140),
            cell("按W3C排版的现代中文横排：中西间距", 700, 800, 500),
            cell("行内挤压拉伸、行间标号与拼音、段落", 700, 850, 500),
            cell("到任意横排文档类之上，非文档类", 700, 900, 430),
            cell("现代横排", 1240, 800, 40)]


def test_issue13_a_layout_models_figure_over_a_table_is_not_taken() -> None:
    # Scanned askew, a ruled table becomes the layout model's figure: its lines are cells in a
    # grid (columns side by side, rows lined up across them, a column of running text), the
    # page's text. A figure's text is labels in a grid, ticks or one framed paragraph.
    body = _column("正", 200, 1100, rows=12, chars=30)
    region = (380, 680, 1300, 1000)
    table = _skewed_table()
    assert layout.model_figures(body + table, [region]) == ()
    result = order_lines(_shuffled(body + table), 1600, 2400, model_regions=[region])
    assert {p.role for p in result.lines} == {BODY}
    assert "按W3C排版的现代中文横排：中西间距" in result.text()
    # Labels set in a grid (a diagram: journal_aas_p2's) have no running text: a figure.
    labels = [_hline(text, left, top) for top in (700, 800, 900)
              for text, left in (("状态", 400), ("突变数据", 700), ("智能体", 1100))]
    assert layout.model_figures(body + labels, [region]) == (region,)
    # One framed paragraph (journal_cjc_p2's example box): no second column, a figure.
    box = _column("框", 400, 700, rows=5, chars=20, pitch=50)
    assert layout.model_figures(body + box, [region]) == (region,)
    # Where the page's ink holds graphics in the region (a plot's curves) it stays a figure.
    assert layout.model_figures(body + table, [region], [(500, 720, 1000, 950)]) == (region,)


def test_a_layout_models_figure_holding_most_of_the_text_is_not_taken() -> None:
    # A column, a slide or an aged page the model calls a figure: it holds the page's body.
    left = _column("左", 200, 300, rows=20, chars=12)
    right = _column("右", 1000, 300, rows=20, chars=12)
    assert layout.model_figures(left + right, [(950, 250, 1800, 1600)]) == ()
    assert layout.model_figures(left + right, [(0, 0, 1800, 1600)]) == ()
    result = order_lines(_shuffled(left + right), 1800, 2000,
                         model_regions=[(950, 250, 1800, 1600)])
    assert {p.role for p in result.lines} == {BODY}


def test_a_layout_models_figures_are_not_used_on_vertical_pages() -> None:
    columns = [_vline("天地玄黄宇宙洪荒日月盈昃" * 2, 1400 - 120 * k, 200) for k in range(8)]
    result = order_lines(_shuffled(columns), 1600, 1400, model_regions=[(1150, 150, 1500, 1300)])
    assert result.vertical and {p.role for p in result.lines} == {BODY}


def test_a_line_belongs_to_a_layout_models_figure_when_half_of_it_lies_inside() -> None:
    body = _column("正", 200, 300, rows=12, chars=30)
    touching = _hline("紧邻图框的正文行紧邻图框的正文行", 200, 1100)  # a quarter inside
    inside = _hline("图中标注", 700, 1250)
    result = order_lines(body + [touching, inside], 1600, 2400,
                         model_regions=[(500, 1130, 1400, 1400)])
    roles = {p.line.text: p.role for p in result.lines}
    assert roles[touching.text] == BODY and roles[inside.text] == layout.FIGURE


def test_a_seal_stamped_over_the_columns_lies_behind_the_text() -> None:
    # shiji_col_p1 as a black-and-white scan: a seal, grey now, behind the first columns. The
    # short columns inside its box and the long ones running on through it are all the page's.
    long = [_vline("宋中郎外兵曹參軍裴駰集解", 1600 - 60 * k, 300) for k in range(4)]
    short = [_vline("史記卷", 1720, 300), _vline("漢", 1660, 300), _vline("唐諸王", 1360, 300)]
    rest = [_vline("天地玄黄宇宙洪荒日月盈昃", 1200 - 60 * k, 300) for k in range(8)]
    seal = (1340, 280, 1780, 600)  # the stamp's ink: the long columns run on through it
    result = order_lines(_shuffled(long + short + rest), 2400, 1400, figures=[seal])
    assert {p.role for p in result.lines} == {BODY}
    assert "唐諸王" in result.text() and "漢" in result.text()
    assert layout.behind_text(seal, long + short, 40.0)


def test_a_plot_beside_the_text_keeps_its_labels_out() -> None:
    # Text set around a figure stops at its edge: the tick labels inside stay the figure's.
    body = _column("正", 200, 300, rows=8, chars=30)
    ticks = [_hline("0.5", 700, 900 + 80 * k, size=24) for k in range(4)]
    below = _column("下", 200, 1400, rows=4, chars=30)
    plot = (650, 860, 1300, 1250)
    result = order_lines(_shuffled(body + ticks + below), 1600, 2400, figures=[plot])
    roles = {p.line.text: p.role for p in result.lines}
    assert roles["0.5"] == layout.FIGURE and "0.5" not in result.text()
    assert all(roles[x.text] == BODY for x in body + below)
    assert not layout.behind_text(plot, body + ticks + below, 40.0)


@pytest.mark.paddle
def test_pp_ocr_a_reference_lists_numbers_stay_with_their_references() -> None:
    # The reference list of a two-column journal page (journal_cjc_p3, left column): hanging
    # numbers [2]-[11] beside references of one to three lines set close together.
    image = _real_crop("journal_cjc_p3", (190, 980, 1220, 2220))
    text = layout.order_reading(paddle.read_image(image)).text().replace("\n", "")
    at = [text.find(part) for part in ("[2]中文的参考文献", "[3]Zhou", "[4]期刊", "[5]作者",
                                        "[6]作者", "[7]作者")]
    assert -1 not in at and at == sorted(at), text
