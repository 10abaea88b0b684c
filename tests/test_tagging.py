"""Tests of pipeline.text.tagging: year notations, period rules, subjects, doctype, the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.text.tagging import (
    TagOptions,
    Tags,
    classify_subjects,
    count_chars,
    detect_doctype,
    extract_years,
    period_of,
    tag_text,
)

# --- years -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("1958年，第二台机组投产。", [1958]),
        ("１９５８年全厂扩建。", [1958]),  # full-width digits
        ("一九五八年大炼钢铁。", [1958]),
        ("一九〇五年开工，一九零九年通车，一九○五年立项。", [1905, 1909]),
        ("民国二十六年七月，日军侵占北平。", [1937]),
        ("民国26年南迁，民国元年成立。", [1912, 1937]),
        ("中华民国三十八年。", [1949]),
        ("光绪八年始建。", [1882]),
        ("光绪三十一年任命总工程师，宣统元年通车。", [1905, 1909]),
        ("同治四年，咸丰十年，道光二十年。", [1840, 1860, 1865]),
        ("康熙二十年始建，乾隆五十年重修，嘉庆元年，雍正三年，顺治二年。",
         [1645, 1681, 1725, 1785, 1796]),
        ("光绪廿四年。", [1898]),
        ("万历十年修志。", [1582]),
        ("光緒二十三年，民國十三年。", [1897, 1924]),  # traditional script
        ("1958—1960年掀起热潮，1962年调整。", [1958, 1960, 1962]),
        ("一九五八至一九六〇年。", [1958, 1960]),
        ("1958、1959年连续增产。", [1958, 1959]),
        ("民国三十年（1941年）筹建。", [1941]),
    ],
)
def test_year_notations(text: str, years: list[int]) -> None:
    assert extract_years(text) == years


@pytest.mark.parametrize(
    "text",
    [
        "装机容量1500千瓦，职工3000名。",
        "详见第12页，日产生铁1958吨。",
        "当年发电量1996万千瓦时，编号2008号档案。",
        "1950年代，五十年代末。",  # decades are not years
        "近2000年来，这里有1500年历史。",  # spans of time
        "光绪三十五年。",  # 光绪 ended in its 34th year
        "今年4月，次年通车，两年内完成。",
    ],
)
def test_digits_that_are_not_years(text: str) -> None:
    assert extract_years(text) == []


# --- period ------------------------------------------------------------------------------


def test_period_from_years_and_majority() -> None:
    assert period_of([1937]) == "建国前"
    assert period_of([1958]) == "建国后"
    assert period_of([1905, 1919, 1922, 1950]) == "建国前"
    assert period_of([1943, 1951, 1953]) == "建国后"
    assert period_of([]) == ""


def test_period_boundary_1949() -> None:
    assert period_of([1949], "1949年1月31日北平和平解放。") == "建国前"
    assert period_of([1949], "1949年10月1日中华人民共和国成立。") == "建国后"
    assert period_of([1949], "一九四九年十二月，工厂复工。") == "建国后"
    assert period_of([1949], "1949年，天津解放。") == "建国前"
    assert tag_text("1949年9月30日，1949年10月1日，1950年。").period == "建国后"


def test_period_tie_goes_to_terms_then_latest_year() -> None:
    assert period_of([1943, 1951], "抗日战争时期停工，1951年复建。") == "建国前"
    assert period_of([1943, 1951], "1943年始建，1951年复建。") == "建国后"


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("抗日战争时期，民兵破袭铁路。", "建国前"),
        ("解放前，镇上只有一家碾米厂。", "建国前"),
        ("新中国成立前，全县没有电灯。", "建国前"),
        ("新中国成立后，该厂扩建三次。", "建国后"),
        ("文化大革命中，技术档案散失。", "建国后"),
        ("改革开放以来，用电负荷迅速增长。", "建国后"),
        ("五十年代，厂里开展劳动竞赛。", "建国后"),
        ("委员马建国、杨秀英提出建议。", ""),  # 建国 inside a name is no term
        ("锅炉房内共有四台锅炉。", ""),
    ],
)
def test_period_from_terms(text: str, period: str) -> None:
    assert extract_years(text) == []
    assert period_of([], text) == period


def test_years_win_over_terms() -> None:
    assert tag_text("1985年，他回忆起抗日战争时期的往事。").period == "建国后"


# --- subjects ----------------------------------------------------------------------------


def test_subjects_from_bundled_lexicon() -> None:
    assert classify_subjects("日军攻入县城，八路军组织民兵破袭铁路。")[0] == "军事"
    assert classify_subjects("电厂装机容量增至12000千瓦，发电量翻番。") == ("经济",)
    assert classify_subjects("县志记载庙会和民俗。")[0] in ("文化", "社会")
    assert classify_subjects("今天天气很好。") == ()


def test_subjects_lexicon_extended_by_user_file(tmp_path: Path) -> None:
    text = "合作社社员在田间插秧，又组织秧歌队演出。"
    assert "农业" not in classify_subjects(text)
    user = tmp_path / "subjects.tsv"
    user.write_text("# 用户词表\n插秧\t农业\t3\n秧歌队\t文化\t4\n", encoding="utf-8")
    subjects = classify_subjects(text, lexicons=(str(user),))
    assert subjects[:2] == ("文化", "农业")
    tags = tag_text(text, options=TagOptions(subject_lexicons=(str(user),)))
    assert "农业" in tags.subjects


def test_subjects_user_file_can_disable_a_word(tmp_path: Path) -> None:
    user = tmp_path / "off.tsv"
    user.write_text("战争\t军事\t0\n战役\t军事\t0\n", encoding="utf-8")
    text = "战争和战役。"
    assert classify_subjects(text) == ("军事",)
    assert classify_subjects(text, lexicons=(str(user),)) == ()


def test_bad_lexicon_row_names_file_and_line(tmp_path: Path) -> None:
    user = tmp_path / "bad.tsv"
    user.write_text("插秧\t农业\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad\.tsv:1"):
        classify_subjects("插秧", lexicons=(str(user),))


def test_title_words_count_twice() -> None:
    assert classify_subjects("会上讨论了生产问题。", title="关于职工住房和食堂的报告")[0] == "社会"


# --- doctype and char count --------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "doctype"),
    [
        ("关于加快农村水电建设的提案", "案由：建议……", "提案"),
        ("", "提案人：县政协委员马建国。案由：……", "提案"),
        ("", "会议纪要：1983年4月12日，分局党委召开扩大会议。", "会议纪要"),
        ("关于召开文史资料征集工作会议的通知", "各区县政协：定于……", "通知"),
        ("", "各站段：要加强巡查。特此通知。", "通知"),
        ("农村电网改造情况的调研报告", "我们对全县乡镇进行了调查。", "调研报告"),
        ("", "图为1954年丰满水电站检修现场。左起：孙立平、韩福山。", "图片说明"),
        ("", "我记得民国三十七年冬天，沈阳城里缺煤。", "回忆录"),
        ("", "我是1946年进厂的。那时候我们每天干十二个小时。", "回忆录"),
        ("", "县委书记王德林后来在回忆中说，那年浪费很大。", "史料"),
        ("", "", ""),
    ],
)
def test_doctype_rules(title: str, text: str, doctype: str) -> None:
    assert detect_doctype(text, title) == doctype


def test_char_count_ignores_whitespace() -> None:
    assert count_chars("电力 工业\n史\t料　１９５８") == 10
    assert tag_text(" 一二 三 ", title="标题").char_count == 3


# --- names (found by pipeline.text.names, tested in test_names.py) ----------------------------


def test_names_skip_era_years_and_state_terms() -> None:
    tags = tag_text("咸丰十年，英法联军攻入北京。中华人民共和国成立，天津解放。")
    assert tags.places == (("北京", 1), ("天津", 1))


# --- the record --------------------------------------------------------------------------


def test_tags_round_trip_through_json() -> None:
    tags = tag_text("1958年，北京石景山发电厂第二台发电机组投入运行。", title="电力史料")
    data = json.loads(json.dumps(tags.to_dict(), ensure_ascii=False))
    assert set(data) == {"years", "period", "subjects", "persons", "places", "organizations",
                         "keywords", "doctype", "char_count"}
    assert Tags.from_dict(data) == tags
    assert data["years"] == [1958] and data["period"] == "建国后"
    assert Tags.from_dict({}) == Tags()


def test_keywords_are_limited_and_deterministic() -> None:
    text = "发电厂扩建发电机组，发电机组投产后发电量增长，发电厂职工开展劳动竞赛。" * 3
    first = tag_text(text, options=TagOptions(keyword_count=3)).keywords
    assert len(first) == 3
    assert "发电机组" in first or "发电厂" in first
    assert tag_text(text, options=TagOptions(keyword_count=3)).keywords == first
    assert tag_text(text, options=TagOptions(keyword_count=0)).keywords == ()


def test_tag_text_does_not_mutate_options() -> None:
    options = TagOptions()
    tag_text("1958年", options=options)
    assert options == TagOptions()


# --- long documents (issue 18) ----------------------------------------------------------

_LAWS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"


def _law_texts(count: int, skip: int = 0) -> list[tuple[str, str]]:
    """(title, text) of real documents of the laws corpus."""
    import gzip
    import itertools

    with gzip.open(_LAWS, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, skip, skip + count)]
    return [(str(r.get("title", "")), str(r["text"])) for r in rows]


def test_issue_18_a_long_text_tagged_from_a_token_table_gets_the_same_tags(monkeypatch) -> None:
    """Above LONG_TEXT_CHARS the tagger keeps its tokens in a TokenTable, cut in pieces at line
    ends; the tags must be those of the list of tokens, on real text: 60 documents of the laws
    corpus one by one, and 400 of its pages joined into one long document (pages as a scanned
    volume has them, with a \\r\\n line end across a cut)."""
    from pipeline.text import tagging

    docs = _law_texts(60)
    pages = [text for _, text in _law_texts(400, skip=60)]
    pages[10] = pages[10] + "\r"  # the joining newline makes a \r\n jieba keeps as one token
    volume = ("某县志", "\n".join(pages))
    assert len(volume[1]) > 200_000
    monkeypatch.setattr(tagging, "_CUT_PIECE_CHARS", 5_000)  # many cuts
    cuts = []
    real_pos_tag = tagging.segment.pos_tag
    monkeypatch.setattr(tagging.segment, "pos_tag",
                        lambda text, user_dicts=None: cuts.append(len(text))
                        or real_pos_tag(text, user_dicts))

    def tags(long_from: int) -> list[Tags]:
        monkeypatch.setattr(tagging, "LONG_TEXT_CHARS", long_from)
        return [tag_text(text, title) for title, text in [*docs, volume]]

    as_list = tags(10**12)
    assert len(cuts) == len(docs) + 1  # one cut each: the lists
    cuts.clear()
    as_table = tags(0)
    assert len(cuts) > len(volume[1]) // 6_000  # the volume was cut in pieces
    assert sum(cuts) == sum(len(tagging.to_search_form(t if not ti else f"{ti}\n{t}"))
                            for ti, t in [*docs, volume])
    for (title, _), a, b in zip([*docs, volume], as_list, as_table):
        assert a == b, title
    assert as_list[-1].persons and as_list[-1].places and as_list[-1].keywords


def test_issue_18_tagging_a_long_text_takes_a_fraction_of_the_memory(monkeypatch) -> None:
    """The token table holds ~6 bytes a token where the list and its lookups held ~250 bytes a
    character (tracemalloc): tagging 120,000 characters of real text must peak at under 0.4x
    what the list of tokens takes (measured: 248 -> 60 bytes a character at 200,000)."""
    import tracemalloc

    from pipeline.text import tagging

    text = "\n".join(t for _, t in _law_texts(200, skip=500))[:120_000]
    tag_text(text[:2_000], "热身")  # dictionaries and tables are not the document's
    peaks = []
    for long_from in (10**12, 0):
        monkeypatch.setattr(tagging, "LONG_TEXT_CHARS", long_from)
        tracemalloc.start()
        try:
            tag_text(text, "某县志")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 0.4 * peaks[0], [p / len(text) for p in peaks]
