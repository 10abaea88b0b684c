"""jieba's dictionary and posseg's word tags through Wenshi's pickle cache
(pipeline.text.segment)."""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from pipeline.text import segment

ROOT = Path(__file__).resolve().parent.parent
TEXT = "一九五八年春，县人民委员会决定在城东白沙河畔兴建第一座火力发电厂，钱阿毛任厂长"


def _fresh_tokenizer(cache_dir):
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(cache_dir)
    return tok


def _jieba_word_tags():
    """posseg's word-tag table as jieba itself parses it from its dictionary file."""
    import jieba.posseg

    pos = object.__new__(jieba.posseg.POSTokenizer)
    pos.load_word_tag(jieba.Tokenizer().get_dict_file())
    return pos.word_tag_tab


def _cache(tmp_path):
    caches = list(tmp_path.glob("wenshi-jieba2-*.pickle"))
    assert len(caches) == 1
    return caches[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A folder with Wenshi's dictionary cache and jieba's, built once for this module."""
    folder = tmp_path_factory.mktemp("caches")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WENSHI_CACHE_DIR", str(folder))
        segment._load_dictionary(_fresh_tokenizer(folder))
    return folder


@pytest.fixture
def cache_dir(built, tmp_path, monkeypatch):
    """WENSHI_CACHE_DIR set to a folder of this test's own, holding a copy of both caches."""
    for cache in built.iterdir():
        shutil.copy2(cache, tmp_path)
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_dictionary_cache_is_private_and_loads_what_jieba_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    first = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(first)  # jieba's own load; writes the pickle
    assert _cache(tmp_path).stat().st_mode & 0o777 == 0o600
    second = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(second)  # from the pickle
    assert second.initialized and second.total == first.total and second.FREQ == first.FREQ
    assert list(second.cut(TEXT)) == list(first.cut(TEXT))


def test_the_cached_word_tags_are_jiebas_even_after_user_dictionaries(cache_dir):
    tmp_path = cache_dir
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    freq, _, codes, names = pickle.loads(_cache(tmp_path).read_bytes())
    assert segment._decode_tags(freq, codes, names) == _jieba_word_tags()
    # User dictionaries add words and change existing ones: the keys the codes were made from
    # keep their order, so the table decoded from the tokenizer's FREQ is still jieba's.
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("钱阿毛 5 nr\n发电厂 99999 nt\n白沙河 7 ns\n", encoding="utf-8")
    tok.load_userdict(str(segment.BUNDLED_USER_DICT))
    tok.load_userdict(str(userdict))
    assert len(tok.FREQ) > len(freq) and tok.FREQ["发电厂"] != freq["发电厂"]
    assert segment._decode_tags(tok.FREQ, codes, names) == _jieba_word_tags()


def test_a_cache_others_can_write_is_not_unpickled(cache_dir):
    tmp_path = cache_dir
    cache = _cache(tmp_path)
    cache.write_bytes(pickle.dumps(({"假词": 1}, 1, b"\x01", ("", "n"))))
    os.chmod(cache, 0o666)  # planted, or left writable: anyone could have put code in it
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    assert "假词" not in tok.FREQ and tok.FREQ.get("发电厂", 0) > 0


def test_a_damaged_cache_is_rebuilt(cache_dir):
    tmp_path = cache_dir
    cache = _cache(tmp_path)
    cache.write_bytes(cache.read_bytes()[:1000])  # cut short, as by a full disk
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    assert tok.FREQ.get("发电厂", 0) > 0
    assert cache.stat().st_size > 1_000_000  # written again, whole
    freq, _, codes, names = pickle.loads(cache.read_bytes())
    assert segment._decode_tags(freq, codes, names) == _jieba_word_tags()


def test_a_cache_of_the_old_format_is_rebuilt(cache_dir):
    tmp_path = cache_dir
    cache = _cache(tmp_path)
    freq, total, _, _ = pickle.loads(cache.read_bytes())
    cache.write_bytes(pickle.dumps((freq, total)))  # FREQ and total only, no tags
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    assert tok.FREQ == freq and len(pickle.loads(cache.read_bytes())) == 4


# posseg is imported once per process, so the import that skips its parse of dict.txt is
# checked in fresh interpreters: how often jieba's dictionary file was opened, the table posseg
# ends up with, and the tagged words of a sentence.
_PROBE = """
import json, sys
import jieba
opened = []
get = jieba.get_module_res
jieba.get_module_res = lambda *res: (opened.append(res), get(*res))[1]
from pipeline.text import segment
pairs = segment.pos_tag(sys.argv[1], (sys.argv[2],))
import jieba.posseg
pos = object.__new__(jieba.posseg.POSTokenizer)
pos.load_word_tag(get("dict.txt"))
json.dump({"opened": len(opened), "pairs": pairs,
           "same_table": jieba.posseg.dt.word_tag_tab == pos.word_tag_tab}, sys.stdout)
"""


def _probe(tmp_path, userdict):
    env = dict(os.environ, WENSHI_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _PROBE, TEXT, str(userdict)], env=env,
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def test_posseg_gets_its_table_from_the_cache_without_parsing_the_dictionary(cache_dir):
    tmp_path = cache_dir
    _cache(tmp_path).unlink()  # jieba's own cache stays: only ours is missing
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("钱阿毛 5 nr\n", encoding="utf-8")
    missing = _probe(tmp_path, userdict)  # no cache yet: jieba loads and parses dict.txt
    assert missing["opened"] >= 1 and missing["same_table"]
    cached = _probe(tmp_path, userdict)
    assert cached["opened"] == 0 and cached["same_table"]
    assert cached["pairs"] == missing["pairs"] and ["钱阿毛", "nr"] in cached["pairs"]
    _cache(tmp_path).write_bytes(b"damaged")
    damaged = _probe(tmp_path, userdict)
    assert damaged["opened"] >= 1 and damaged["same_table"]
    assert damaged["pairs"] == missing["pairs"]
