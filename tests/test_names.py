"""Tests of pipeline.text.names: persons, places, organisations, user dictionaries, tokens."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from pipeline.text import names
from pipeline.text.names import Names, find_names, tokenize
from pipeline.text.normalize import to_search_form


def _names(text: str, user_dicts: tuple[str, ...] = ()) -> Names:
    """find_names on text prepared as tag_text prepares it (search form, its own tokens)."""
    norm = to_search_form(text)
    return find_names(norm, tokenize(norm, user_dicts), user_dicts)


def test_persons_and_places_from_a_sentence() -> None:
    names = _names(
        "光绪三十一年，清政府任命詹天佑为京张铁路总工程师。铁路自丰台起，经南口至张家口。"
        "厂长李长海作报告，出席：刘振华、陈志远、赵桂兰等。詹天佑的铜像立在青龙桥车站。"
    )
    persons = dict(names.persons)
    assert persons["詹天佑"] == 2
    assert {"李长海", "刘振华", "陈志远", "赵桂兰"} <= set(persons)
    assert names.persons[0] == ("詹天佑", 2)  # most frequent first
    places = {name for name, _ in names.places}
    assert {"丰台", "南口", "张家口", "青龙桥"} <= places
    assert not places & set(persons)
    assert "京张" not in places


def test_place_forms_are_merged_and_traditional_text_simplified() -> None:
    names = _names("北京市石景山区的电厂，北京人称之为石景山电厂，北京很早就通电。")
    places = dict(names.places)
    assert places.get("北京") == 3
    names = _names("民國十三年，北平電車公司通車，線路由前門至西直門。")
    assert {"北平", "前门", "西直门"} <= {n for n, _ in names.places}


def test_common_words_are_not_places_or_persons() -> None:
    names = _names("决定年内新建宿舍两栋，由于仓促上马，1949年北平和平解放。")
    places = {n for n, _ in names.places}
    assert not places & {"新建", "上马", "和平", "解放"}
    assert names.persons == ()
    names = _names("厂长王文华率职工南迁至重庆，部分工人南下参加抗日，口述史料。")
    assert names.persons == (("王文华", 1),)


def test_user_dictionary_names(tmp_path: Path) -> None:
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("钱阿毛 5 nr\n三道沟 5 ns\n东风机械厂 5 nt\n", encoding="utf-8")
    names = _names("钱阿毛在三道沟的东风机械厂工作，钱阿毛后来调走。", (str(userdict),))
    assert ("钱阿毛", 2) in names.persons
    assert "三道沟" in {n for n, _ in names.places}
    assert "东风机械厂" in {n for n, _ in names.organizations}


def test_organizations() -> None:
    names = _names("郑州铁路局和资源委员会联合发文，八路军晋察冀军区组织民兵。")
    orgs = {n for n, _ in names.organizations}
    assert {"郑州铁路局", "八路军", "晋察冀军区"} <= orgs
    assert "铁路局" not in orgs


def test_not_places_spans_hold_no_place() -> None:
    norm = to_search_form("咸丰十年，英法联军攻入北京。")
    tokens = tokenize(norm)
    assert "咸丰" in dict(find_names(norm, tokens).places)
    era = (norm.index("咸丰"), norm.index("年") + 1)
    assert find_names(norm, tokens, not_places=[era]).places == (("北京", 1),)


def test_tokens_carry_offsets_into_the_text() -> None:
    norm = to_search_form("1958年，北京石景山发电厂投产。")
    tokens = tokenize(norm)
    assert tokens and all(norm[t.start:t.end] == t.word for t in tokens)
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)


def test_the_gazetteer_cache_holds_what_the_files_say(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    parsed = names._gazetteer_places()  # no cache yet: parses the files, writes it
    cache = next(tmp_path.glob("wenshi-gazetteer1-*.pickle"))
    assert cache.stat().st_mode & 0o777 == 0o600
    assert names._gazetteer_places() == parsed
    first: dict[str, tuple[str, str]] = {}
    for place, key, kind in names.read_table(names._DATA_DIR / "places_extra.tsv", 3, "g"):
        first.setdefault(place, (key, kind))
    assert len(first) > 50
    for place, (key, kind) in first.items():  # hand-kept rows win over places.tsv
        assert parsed.get(place) == (None if kind == "not-a-place" else (key, kind))
    assert len(parsed) > 60_000 and parsed["石景山"][1] != "not-a-place"


def test_a_damaged_or_foreign_gazetteer_cache_is_not_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    parsed = names._gazetteer_places()
    cache = next(tmp_path.glob("wenshi-gazetteer1-*.pickle"))
    cache.write_bytes(cache.read_bytes()[:1000])  # cut short, as by a full disk
    assert names._gazetteer_places() == parsed
    assert cache.stat().st_size > 100_000  # written again, whole
    cache.write_bytes(pickle.dumps({"假地": ("假地", "county")}))
    os.chmod(cache, 0o666)  # planted, or left writable: anyone could have put code in it
    assert names._gazetteer_places() == parsed
