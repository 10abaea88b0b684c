"""OCR text clean-up rules."""

from __future__ import annotations

from pipeline.text.clean import (
    clean_ocr_text,
    fullwidth_punctuation,
    join_lines,
    paired_parentheses,
    remove_cjk_spaces,
)


def test_spaces_between_chinese_characters_are_removed_latin_spaces_stay():
    assert remove_cjk_spaces("县 电 厂 开 始 建 设 Power Plant") == "县电厂开始建设 Power Plant"
    assert remove_cjk_spaces("第 12 页 ， 1958 年") == "第12页，1958年"


def test_half_width_punctuation_inside_chinese_becomes_full_width():
    assert fullwidth_punctuation("发电,供电;(草稿)结束.") == "发电，供电；（草稿）结束。"
    assert fullwidth_punctuation("version 3.5, see p.12") == "version 3.5, see p.12"


def test_an_opening_bracket_closed_by_a_parenthesis_was_a_parenthesis():
    assert paired_parentheses("明洪武三年〈1370年）设县") == "明洪武三年（1370年）设县"
    assert paired_parentheses("依照《中华人民共和国电力法》(2018)办理") == "依照《中华人民共和国电力法》(2018)办理"
    assert clean_ocr_text("第八条;《一) 供电") == "第八条；（一）供电"


def test_line_breaks_inside_a_sentence_are_joined_paragraph_breaks_kept():
    text = "一九五八年，县电厂在东郊\n扩建新厂。\n工人们日夜施工\n\n第二段开始"
    assert join_lines(text) == "一九五八年，县电厂在东郊扩建新厂。\n工人们日夜施工\n\n第二段开始"
    assert join_lines("the power\nplant") == "the power plant"


def test_clean_ocr_text_runs_every_rule():
    raw = "一 九 五 八 年 ， 县 电 厂\n开 始 建 设 (草 稿) 3.5 米\r\n\r\n新 段 落\f"
    assert clean_ocr_text(raw) == "一九五八年，县电厂开始建设（草稿）3.5米\n\n新段落"
