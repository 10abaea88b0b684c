"""jieba's dictionary through Wenshi's own pickle cache (pipeline.segment)."""

import os
import pickle

import jieba

from pipeline import segment


def _fresh_tokenizer(cache_dir):
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(cache_dir)
    return tok


def test_dictionary_cache_is_private_and_loads_what_jieba_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    first = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(first)  # jieba's own load; writes the pickle
    caches = list(tmp_path.glob("wenshi-jieba-*.pickle"))
    assert len(caches) == 1 and caches[0].stat().st_mode & 0o777 == 0o600
    second = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(second)  # from the pickle
    assert second.initialized and second.total == first.total and second.FREQ == first.FREQ
    text = "一九五八年春，县人民委员会决定在城东白沙河畔兴建第一座火力发电厂"
    assert list(second.cut(text)) == list(first.cut(text))


def test_a_cache_others_can_write_is_not_unpickled(tmp_path, monkeypatch):
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    segment._load_dictionary(_fresh_tokenizer(tmp_path))
    cache = next(tmp_path.glob("wenshi-jieba-*.pickle"))
    cache.write_bytes(pickle.dumps(({"假词": 1}, 1)))
    os.chmod(cache, 0o666)  # planted, or left writable: anyone could have put code in it
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    assert "假词" not in tok.FREQ and tok.FREQ.get("发电厂", 0) > 0


def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("WENSHI_CACHE_DIR", str(tmp_path))
    segment._load_dictionary(_fresh_tokenizer(tmp_path))
    cache = next(tmp_path.glob("wenshi-jieba-*.pickle"))
    cache.write_bytes(cache.read_bytes()[:1000])  # cut short, as by a full disk
    tok = _fresh_tokenizer(tmp_path)
    segment._load_dictionary(tok)
    assert tok.FREQ.get("发电厂", 0) > 0
    assert cache.stat().st_size > 1_000_000  # written again, whole
