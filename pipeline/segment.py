"""Chinese word segmentation. The only module that imports jieba.

jieba is loaded lazily, once per set of user dictionaries, so importing this module (and the
Whoosh analyzer that uses it) costs nothing: a quoted search never loads the dictionary.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

# Domain words shipped with Wenshi (power industry, railways, offices, periods).
BUNDLED_USER_DICT = Path(__file__).with_name("data") / "userdict.txt"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


@lru_cache(maxsize=4)
def _tokenizer(user_dicts: tuple[str, ...]) -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    # Cache the prefix dictionary where this user can write, to cut start-up on later runs.
    tok.tmp_dir = os.environ.get("WENSHI_CACHE_DIR") or tempfile.gettempdir()
    tok.initialize()
    for path in (str(BUNDLED_USER_DICT), *user_dicts):
        if Path(path).is_file():
            tok.load_userdict(path)
    return tok


# User dictionaries of the open library. Whoosh rebuilds our analyzer from the pickled schema,
# where no paths can live (a library may move), so the library registers its dictionaries here
# once when it is opened, before anything is segmented.
_library_dicts: tuple[str, ...] = ()


def use_user_dicts(paths: tuple[str, ...]) -> None:
    """Register the open library's user dictionaries for every later segmentation."""
    global _library_dicts
    _library_dicts = tuple(str(p) for p in paths)


def tokenizer(user_dicts: tuple[str, ...] | None = None) -> Any:
    """The shared jieba Tokenizer with the bundled and the library's user dictionaries loaded."""
    return _tokenizer(_library_dicts if user_dicts is None else tuple(user_dicts))


def iter_words(text: str, user_dicts: tuple[str, ...] | None = None) -> Iterator[tuple[str, int, int]]:
    """Yield (word, start, end) for each word of `text`, skipping punctuation and spaces.

    Offsets are character offsets into `text`.
    """
    pos = 0
    for word in tokenizer(user_dicts).cut(text, HMM=True):
        start = pos
        pos += len(word)
        if any(_is_word_char(ch) for ch in word):
            yield word.strip(), start, pos


def segment_text(text: str, user_dicts: tuple[str, ...] | None = None) -> list[str]:
    """The words of `text` in order (punctuation and spaces dropped)."""
    return [w for w, _, _ in iter_words(text, user_dicts)]


def pos_tag(text: str, user_dicts: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) pairs from jieba.posseg, sharing the same dictionaries."""
    pos_tokenizer = _pos_tokenizer(_library_dicts if user_dicts is None else tuple(user_dicts))
    return [(p.word, p.flag) for p in pos_tokenizer.cut(text)]


@lru_cache(maxsize=4)
def _pos_tokenizer(user_dicts: tuple[str, ...]) -> Any:
    import jieba.posseg

    return jieba.posseg.POSTokenizer(tokenizer(user_dicts))


def is_known_word(word: str, user_dicts: tuple[str, ...] | None = None) -> bool:
    """True when `word` is in jieba's or a user dictionary (not found by its HMM)."""
    return bool(tokenizer(user_dicts).FREQ.get(word, 0) > 0)
