"""The query language (index/query.py): words, exact strings, operators, parentheses, fields."""

from __future__ import annotations

import pytest

from index.query import And, FieldFilter, Not, Or, Phrase, Words, parse_query, positive_terms
from pipeline.errors import UsageError


def test_words_are_anded_and_quoted_strings_are_phrases():
    assert parse_query("电力 工业") == And((Words("电力"), Words("工业")))
    assert parse_query('"造生产"') == Phrase("造生产")
    assert parse_query('"人民 政府" 1958年') == And((Phrase("人民 政府"), Words("1958年")))


def test_chinese_quotation_marks_and_an_unclosed_quote():
    assert parse_query("“人民政府” 「發電機組」『铁路』") == And(
        (Phrase("人民政府"), Phrase("發電機組"), Phrase("铁路")))
    assert parse_query('"没有结尾') == Phrase("没有结尾")


def test_or_binds_looser_than_and():
    assert parse_query("发电 供电 OR 铁路") == Or((And((Words("发电"), Words("供电"))), Words("铁路")))
    assert parse_query("发电 || 供电 && 铁路") == Or((Words("发电"), And((Words("供电"), Words("铁路")))))


def test_not_minus_and_parentheses():
    assert parse_query("铁路 NOT 公路") == And((Words("铁路"), Not(Words("公路"))))
    assert parse_query('铁路 -公路 -"国道" -period:建国前') == And(
        (Words("铁路"), Not(Words("公路")), Not(Phrase("国道")), Not(FieldFilter("period", "建国前"))))
    assert parse_query("(水电站 OR 火电厂) 1958年") == And(
        (Or((Words("水电站"), Words("火电厂"))), Words("1958年")))
    assert parse_query("（甲 OR 乙）-(丙 丁)") == And(
        (Or((Words("甲"), Words("乙"))), Not(And((Words("丙"), Words("丁"))))))
    assert parse_query("1950-1960年") == Words("1950-1960年")  # a hyphen inside a word is text


def test_field_filters():
    assert parse_query("collection:电力工业史 year:1950-1960 subject:经济") == And(
        (FieldFilter("collection", "电力工业史"), FieldFilter("year", "1950-1960"),
         FieldFilter("subject", "经济")))
    assert parse_query('title:"县 电厂" Person:王德明 doctype：回忆录') == And(
        (FieldFilter("title", "县 电厂"), FieldFilter("person", "王德明"), FieldFilter("doctype", "回忆录")))


@pytest.mark.parametrize("query, message", [
    ("", "empty query"),
    ("   ", "empty query"),
    ("nosuch:x", "unknown field 'nosuch' in query"),
    ("(电力 工业", "unbalanced parentheses"),
    ("电力)", "unbalanced parentheses"),
    ("电力 NOT", "NOT (or -) needs something to exclude"),
    ("电力 OR", "OR needs something on both sides"),
    ("电力 ()", "empty query (or parentheses with nothing inside)"),
    ("OR 电力", "OR needs something on both sides"),
    ('""', "empty quoted string"),
    ("year:", "year: needs a value, e.g. year:1950-1960"),
])
def test_malformed_queries_say_why(query, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_query(query)


def test_positive_terms_skip_what_is_excluded():
    node = parse_query('"发电机组" 电厂 NOT "公路" -铁路 (甲 OR 乙) year:1958')
    assert positive_terms(node) == (["发电机组"], ["电厂", "甲", "乙"])
