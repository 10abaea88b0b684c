"""Analysis (index/analysis.py): the compact normal form, jieba word counts, the words field."""

from __future__ import annotations

import pickle
import subprocess
import sys

from index.analysis import JiebaTokenizer, WordsField, compact_search_form, query_words, word_counts
from index.schema import build_schema
from pipeline.text.normalize import to_search_form


def test_compact_form_folds_script_width_case_and_drops_white_space():
    assert compact_search_form("發電機 組\n") == "发电机组"
    assert compact_search_form("ＡＢＣ　１２３") == "abc123"
    assert compact_search_form("民國 二十六 年") == "民国二十六年"
    assert compact_search_form(" \t\n") == ""


def test_word_counts_are_over_the_normal_form_without_punctuation():
    counts = word_counts("發電機組投產，發電機組運轉。")
    assert counts["发电机组"] == 2
    assert "，" not in counts and "。" not in counts
    assert all(w == w.strip() and w for w in counts)
    assert word_counts("") == {}


def test_query_words_match_index_words():
    text = "县电厂扩建后，发电机组投产"
    assert set(query_words(text)) <= set(word_counts(text))
    assert query_words("縣電廠") == query_words("县电厂")


def test_words_field_takes_text_or_precounted_words():
    field = WordsField(field_boost=2.0)
    from_text = {t: (n, w) for t, n, w, _ in field.index("电厂 电厂 铁路")}
    assert from_text["电厂".encode()] == (2, 4.0)
    pre = {t: (n, w) for t, n, w, _ in field.index({"电厂": 3})}
    assert pre == {"电厂".encode(): (3, 6.0)}


def test_tokenizer_offsets_point_into_the_original_text():
    text = "民國二十六年，電燈公司開辦"
    tokens = [(t.text, t.startchar, t.endchar) for t in JiebaTokenizer()(text, chars=True)]
    assert tokens, "no tokens"
    for word, start, end in tokens:
        assert compact_search_form(text[start:end]) == word


def test_the_schema_pickles_without_loading_jieba():
    # Opening an index unpickles the schema: that must not import jieba (a quoted search never
    # segments anything), which only a fresh interpreter can show.
    code = ("import pickle, sys; from index.schema import build_schema; "
            "s = pickle.loads(pickle.dumps(build_schema())); "
            "print('jieba' in sys.modules, sorted(s.names())[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("False")
    restored = pickle.loads(pickle.dumps(build_schema()))
    assert restored.names() == build_schema().names()
    assert (isinstance(restored["text"], WordsField)
            and restored["text"].analyzer == JiebaTokenizer())


def test_tokenizer_positions_are_sequential_so_whoosh_phrases_and_highlights_work(tmp_path):
    """Issue 2: jieba's bundled ChineseAnalyzer stores character offsets as positions."""
    from whoosh import fields, highlight, index, query

    positions = [t.pos for t in JiebaTokenizer()("县电厂开始建设发电机组", positions=True)]
    assert positions == list(range(len(positions))) and len(positions) >= 4
    schema = fields.Schema(id=fields.ID(stored=True),
                           body=fields.TEXT(analyzer=JiebaTokenizer(), stored=True))
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        writer.add_document(id="a", body="一九五八年，县电厂开始建设发电机组。")
        writer.add_document(id="b", body="发电机组建设以后，县电厂开始供电。")
    with ix.searcher() as searcher:
        phrase = query.Phrase("body", ["开始", "建设", "发电机组"])
        hits = searcher.search(phrase)
        assert [h["id"] for h in hits] == ["a"]
        hits.formatter = highlight.HtmlFormatter(tagname="b", classname="m", termclass="t")
        hits.fragmenter = highlight.WholeFragmenter()
        marked = hits[0].highlights("body")
        # The query words are marked on exactly their own characters (Whoosh joins adjacent ones).
        import re

        assert "".join(re.findall(r"<b[^>]*>([^<]*)</b>", marked)) == "开始建设发电机组"
        assert re.sub(r"<[^>]+>", "", marked) == "一九五八年，县电厂开始建设发电机组。"


_MIXED = ("1958年，石景山发电厂扩建，新装2.5万千瓦机组；产值增长10%-20%。\r\n"
          "王德明任厂长（见图3-1）。由市和区人民政府并向省里报告，Email: a-b_c@x.org  第五师\n\n"
          "發電機組投產，電力工業〇一二。")


def test_one_jieba_pass_gives_the_index_words_and_the_part_of_speech_pairs():
    import jieba
    import jieba.posseg

    from pipeline.text import segment

    # jieba's own cutters over their own copy of the dictionaries
    plain = jieba.Tokenizer()
    plain.initialize()
    plain.load_userdict(str(segment.BUNDLED_USER_DICT))
    pos = jieba.posseg.POSTokenizer(plain)
    for text in (_MIXED, to_search_form(_MIXED), "", " ", "-", "%%", "张三李四王五"):
        words, pairs = segment.cut_words_and_flags(text, ())
        assert words == list(plain.cut(text, HMM=True))
        assert pairs == [(p.word, p.flag) for p in pos.cut(text)]
        assert "".join(w for w, _ in pairs) == text


def test_analyze_document_counts_words_per_page_and_tags_as_the_tagger_alone(tmp_path):
    from index.analysis import analyze_document
    from index.tags import tag_job, tags_for_text

    pages = ["一九五六年春，勘测队从株洲市出发，李秀英担任测量员。", "", _MIXED]
    for title in ("勘测日记", ""):
        words, title_words, tags = analyze_document(title, pages, (),
                                                    tag_job(tmp_path, {"tag.doctype": "史料"}))
        assert words == [word_counts(p) for p in pages] and title_words == word_counts(title)
        assert tags == tags_for_text("\n".join(pages), title, tmp_path, {"tag.doctype": "史料"})
        assert tags.doctype == "史料" and ("李秀英", 1) in tags.persons
    assert analyze_document("勘测日记", pages, ())[2] is None


def test_a_long_run_of_unknown_characters_is_tagged_in_pieces(monkeypatch):
    # posseg's HMM is quadratic in a run's length (17 CPU s for 2,000 unknown characters in a
    # row, OCR noise off a photo): such runs go to it in pieces; the pairs still cover the text
    from pipeline.text import segment

    lengths: list[int] = []
    hmm = segment._unknown_run_flags

    def spy(run: str) -> tuple[tuple[str, str], ...]:
        lengths.append(len(run))
        return hmm(run)

    monkeypatch.setattr(segment, "_unknown_run_flags", spy)
    noise = "鍂" * 1000 + "，县人民委员会决定" + "鍂𠀋" * 300
    words, pairs = segment.cut_words_and_flags(noise, ())
    assert "".join(w for w, _ in pairs) == noise == "".join(words)
    assert lengths and max(lengths) == segment.MAX_TAGGED_RUN
    assert sum(lengths) >= 1000
