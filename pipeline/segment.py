"""Chinese word segmentation. The only module that imports jieba.

jieba is loaded lazily, once per set of user dictionaries, so importing this module (and the
Whoosh analyzer that uses it) costs nothing: a quoted search never loads the dictionary.
"""

from __future__ import annotations

import logging
import os
import pickle
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
    tok.tmp_dir = _cache_dir()
    _load_dictionary(tok)
    for path in (str(BUNDLED_USER_DICT), *user_dicts):
        if Path(path).is_file():
            tok.load_userdict(path)
    return tok


def _cache_dir() -> str:
    return os.environ.get("WENSHI_CACHE_DIR") or tempfile.gettempdir()


def _load_dictionary(tok: Any) -> None:
    """jieba's own dictionary into `tok` (before any user dictionary), through a pickle cache.

    jieba caches its prefix dictionary (500,000 words and prefixes) with marshal, which took
    1.2-1.6 CPU s to load here; the same dict pickled loads in 0.4 s (measured). Every process
    that segments pays it once: an ingest's writer, the forkserver of its page workers, a
    `wenshi search`. The pickle is only read when this user wrote it and no one else can
    write to it: unpickling someone else's file could run their code."""
    import jieba

    source = Path(jieba.__file__).with_name("dict.txt")
    try:
        stat = source.stat()
    except OSError:
        tok.initialize()
        return
    cache = Path(_cache_dir()) / (f"wenshi-jieba-{jieba.__version__}-{os.getuid()}-"
                                  f"{stat.st_size}-{int(stat.st_mtime)}.pickle")
    loaded = _read_private_pickle(cache)
    if loaded is not None:
        tok.FREQ, tok.total = loaded
        tok.initialized = True
        return
    tok.initialize()
    _write_private_pickle(cache, (tok.FREQ, tok.total))


def _read_private_pickle(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
                return None
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - unreadable or damaged: jieba's own load rebuilds it
        return None


def _write_private_pickle(path: Path, value: Any) -> None:
    # Written under a temporary name and renamed: a process reading it never sees half a file.
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")  # mode 0600
    except OSError:
        return  # no cache: the next process loads jieba's own again
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


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


def iter_words(text: str,
               user_dicts: tuple[str, ...] | None = None) -> Iterator[tuple[str, int, int]]:
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
    """(word, part-of-speech flag) pairs, as jieba.posseg cuts them, sharing the same dictionaries.

    The pairs cover `text` exactly: their words joined give `text` back.
    """
    return cut_words_and_flags(text, user_dicts, words=False)[1]


def cut_words_and_flags(
    text: str, user_dicts: tuple[str, ...] | None = None, words: bool = True
) -> tuple[list[str], list[tuple[str, str]]]:
    """jieba's words of `text` (as `Tokenizer.cut` with HMM gives them, for the index) and its
    part-of-speech pairs (as `jieba.posseg` gives them, for the tagger), from one dictionary pass.

    Both cutters build the same word graph and best route over a run of Chinese characters and
    differ only on runs of single characters the dictionary does not know: the plain cutter
    splits those with its small HMM, posseg with its part-of-speech HMM. So the route is built
    once and only those runs are cut twice; the part-of-speech HMM (a Viterbi over ~250 states,
    most of posseg's time) is cached by run, since the same runs recur (由市, 并向, 是指).
    Blocks holding % or - are split differently by the two cutters: those go through each whole.
    """
    import jieba

    dicts = _library_dicts if user_dicts is None else tuple(user_dicts)
    tok = _tokenizer(dicts)
    pos = _pos_tokenizer(dicts)
    pos.makesure_userdict_loaded()
    tags = pos.word_tag_tab
    out_words: list[str] = []
    pairs: list[tuple[str, str]] = []
    for blk in jieba.re_han_default.split(text):
        if not blk:
            continue
        if not jieba.re_han_default.match(blk):
            # Spaces and punctuation: both cutters give each white-space piece and every other
            # character alone, posseg with the flag x.
            for piece in jieba.re_skip_default.split(blk):
                for item in ((piece,) if jieba.re_skip_default.match(piece) else piece):
                    if words:
                        out_words.append(item)
                    pairs.append((item, "x"))
            continue
        if "%" in blk or "-" in blk:
            if words:
                out_words.extend(tok.cut(blk, HMM=True))
            pairs.extend((p.word, p.flag) for p in pos.cut(blk))
            continue
        _cut_block(tok, tags, blk, out_words if words else None, pairs)
    return out_words, pairs


def _cut_block(tok: Any, tags: dict[str, str], blk: str, words: list[str] | None,
               pairs: list[tuple[str, str]]) -> None:
    """Both cutters' `__cut_DAG` (jieba 0.42) over one block of Chinese, digits and Latin."""
    freq = tok.FREQ
    dag = tok.get_DAG(blk)
    route: dict[int, tuple[float, int]] = {}
    tok.calc(blk, dag, route)
    x, n, buf = 0, len(blk), ""
    while x < n:
        y = route[x][1] + 1
        if y - x == 1:
            buf += blk[x]
        else:
            if buf:
                _flush(buf, freq, tags, words, pairs)
                buf = ""
            word = blk[x:y]
            if words is not None:
                words.append(word)
            pairs.append((word, tags.get(word, "x")))
        x = y
    if buf:
        _flush(buf, freq, tags, words, pairs)


def _flush(buf: str, freq: dict[str, int], tags: dict[str, str], words: list[str] | None,
           pairs: list[tuple[str, str]]) -> None:
    if len(buf) == 1:
        if words is not None:
            words.append(buf)
        pairs.append((buf, tags.get(buf, "x")))
    elif not freq.get(buf):
        if words is not None:
            from jieba import finalseg

            words.extend(finalseg.cut(buf))
        pairs.extend(_unknown_run_flags(buf))
    else:
        for ch in buf:
            if words is not None:
                words.append(ch)
            pairs.append((ch, tags.get(ch, "x")))


@lru_cache(maxsize=200_000)
def _unknown_run_flags(run: str) -> tuple[tuple[str, str], ...]:
    """posseg's cut of a run of characters no dictionary word covers (its HMM, no dictionary)."""
    import jieba.posseg

    # posseg's own (private) routine for such runs: its HMM reads no dictionary, so the shared
    # default instance serves every library.
    return tuple((p.word, p.flag) for p in jieba.posseg.dt._POSTokenizer__cut_detail(run))


@lru_cache(maxsize=4)
def _pos_tokenizer(user_dicts: tuple[str, ...]) -> Any:
    import jieba
    import jieba.posseg

    tok = tokenizer(user_dicts)
    if tok.dictionary != jieba.dt.dictionary:
        return jieba.posseg.POSTokenizer(tok)
    # Our tokenizer reads jieba's own dictionary file, whose part-of-speech table posseg's
    # default instance already parsed on import (350,000 lines, ~0.5 CPU s): start from a copy
    # of that table instead of parsing the file a second time. The user dictionaries' tags are
    # added to the copy by makesure_userdict_loaded, as POSTokenizer would.
    pos = object.__new__(jieba.posseg.POSTokenizer)
    pos.tokenizer = tok
    pos.word_tag_tab = dict(jieba.posseg.dt.word_tag_tab)
    return pos


def known_words(user_dicts: tuple[str, ...] | None = None) -> dict[str, int]:
    """word -> frequency of jieba's and the user dictionaries (0 or absent: not a word there)."""
    return tokenizer(user_dicts).FREQ  # type: ignore[no-any-return]


def is_known_word(word: str, user_dicts: tuple[str, ...] | None = None) -> bool:
    """True when `word` is in jieba's or a user dictionary (not found by its HMM)."""
    return bool(tokenizer(user_dicts).FREQ.get(word, 0) > 0)


def word_frequencies(user_dicts: tuple[str, ...] | None = None) -> tuple[dict[str, int], int]:
    """jieba's word counts (prefixes of words count 0) and their total, user dictionaries included.

    For scoring text against the dictionary (pipeline/correct.py) without importing jieba there.
    """
    tok = tokenizer(user_dicts)
    return tok.FREQ, int(tok.total)
