"""Chinese word segmentation. The only module that imports jieba.

jieba is loaded lazily, once per set of user dictionaries, so importing this module (and the
Whoosh analyzer that uses it) costs nothing: a quoted search never loads the dictionary.
"""

from __future__ import annotations

import importlib
import io
import logging
import sys
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import Any, Iterator, TypeGuard

from . import loading

# Domain words shipped with Wenshi (power industry, railways, offices, periods).
BUNDLED_USER_DICT = Path(__file__).with_name("data") / "userdict.txt"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba, imported without pkg_resources when nothing has imported that yet.

    jieba imports pkg_resources only to open its own data files (a 0.08 CPU s import that
    scans every installed distribution, measured in the writer); without it, it opens the
    same files by their path, which is all pkg_resources does for a package installed as
    files."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # its import fails
    try:
        import jieba
    finally:
        if sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


@lru_cache(maxsize=4)
def _tokenizer(user_dicts: tuple[str, ...]) -> Any:
    jieba = _jieba()

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    # Cache the prefix dictionary where this user can write, to cut start-up on later runs.
    tok.tmp_dir = loading.cache_dir()
    _load_dictionary(tok)
    for path in (str(BUNDLED_USER_DICT), *user_dicts):
        if Path(path).is_file():
            tok.load_userdict(path)
    return tok


# The dictionary cache's name, changed with what it holds: 2 added posseg's word tags to FREQ
# and total (a process of the previous version reading this file would fail to unpack it).
_JIEBA_CACHE = "wenshi-jieba2"

# posseg's word-tag table as the last dictionary cache read holds it, until posseg is needed:
# (the FREQ read with it, one tag number per FREQ key in its order (0: none), the tag names).
_cached_tags: tuple[dict[str, int], bytes, tuple[str, ...]] | None = None


def _load_dictionary(tok: Any) -> None:
    """jieba's own dictionary into `tok` (before any user dictionary), through a pickle cache.

    jieba caches its prefix dictionary (500,000 words and prefixes) with marshal, which took
    1.2-1.6 CPU s to load here; the same dict pickled loads in 0.4 s (measured). Every process
    that segments pays it once: an ingest's writer, the forkserver of its page workers, a
    `wenshi search`. The cache also holds posseg's word tags of the same dictionary, for
    `_posseg` (see there), as one byte per FREQ key: 0.5 MB more (7.3 MB) and 0.02-0.03 s more
    to load, where a pickled tag dict added 0.12-0.23 s to every load, tagging or not; the
    bytes become a table only in a process that tags (measured)."""
    jieba = _jieba()

    global _cached_tags
    cache = loading.cache_path(f"{_JIEBA_CACHE}-{jieba.__version__}",
                               (Path(jieba.__file__).with_name("dict.txt"),))
    with loading.gc_paused():
        loaded = loading.read_private_pickle(cache) if cache is not None else None
        if _is_dictionary_cache(loaded):
            tok.FREQ, tok.total, codes, names = loaded
            tok.initialized = True
            _cached_tags = (tok.FREQ, codes, names)
            return
        tok.initialize()
    if cache is None:
        return
    # posseg parses its table on import here, even in a process that never tags (a search, the
    # page workers' forkserver): once, while this cache is missing.
    encoded = _encode_tags(tok.FREQ, _posseg().dt.word_tag_tab)
    if encoded is not None:  # else no cache: jieba's own load every time, still right
        loading.write_private_pickle(cache, (tok.FREQ, tok.total, *encoded))


def _is_dictionary_cache(
    value: Any,
) -> TypeGuard[tuple[dict[str, int], int, bytes, tuple[str, ...]]]:
    return (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], dict)
            and isinstance(value[1], int) and isinstance(value[2], bytes)
            and isinstance(value[3], tuple) and len(value[2]) == len(value[0]))


def _encode_tags(freq: dict[str, int],
                 tags: dict[str, str]) -> tuple[bytes, tuple[str, ...]] | None:
    """posseg's table as one tag number per key of `freq`, or None if it cannot be exact."""
    names = ("", *sorted(set(tags.values())))
    if len(names) > 256:
        return None
    number = {name: i for i, name in enumerate(names)}
    codes = bytes(number[tags[w]] if w in tags else 0 for w in freq)
    if _decode_tags(freq, codes, names) != tags:  # a tagged word jieba's FREQ lacks
        return None
    return codes, names


def _decode_tags(freq: dict[str, int], codes: bytes, names: tuple[str, ...]) -> dict[str, str]:
    # The first len(codes) keys of `freq` are those the codes were made from, in that order,
    # even after user dictionaries: jieba only adds keys to FREQ or changes their values.
    # All in C: 0.11-0.25 CPU s for 349,000 words (building a dict that size costs that much;
    # posseg's parse took 0.41-0.47 s, plus 0.013 s for `_pos_tokenizer`'s copy either way).
    return dict(zip(compress(freq, codes), map(names.__getitem__, filter(None, codes))))


@lru_cache(maxsize=1)
def _posseg() -> Any:
    """jieba.posseg, imported without parsing jieba's dictionary when the cache has its tags.

    On import posseg builds its default POSTokenizer, which parses dict.txt (350,000 lines,
    0.41-0.47 CPU s) for a table of word tags, the same table for every process. Here jieba's
    default tokenizer hands it an empty dictionary file meanwhile (Wenshi never uses that
    tokenizer: its own are built by `_tokenizer`), and the table decoded from the cache is then
    installed as if posseg had parsed it; tests/test_segment.py checks that it is the same.
    """
    jieba = _jieba()
    if "jieba.posseg" in sys.modules or _cached_tags is None:
        with loading.gc_paused():
            return importlib.import_module("jieba.posseg")
    freq, codes, names = _cached_tags
    table = _decode_tags(freq, codes, names)
    jieba.dt.get_dict_file = lambda: io.BytesIO()  # an instance attribute over the method
    try:
        with loading.gc_paused():
            posseg = importlib.import_module("jieba.posseg")
    finally:
        del jieba.dt.get_dict_file
    posseg.dt.word_tag_tab = table
    return posseg


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
    jieba = _jieba()

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


# posseg's part-of-speech HMM (jieba 0.42 viterbi) copies its whole path at every character:
# quadratic in the length of a run of unknown characters — 17 CPU s for 2,000 in a row (OCR noise
# read off a photo), over 4 minutes for 4,000. Longer runs are tagged in pieces of this many;
# runs of real unknown text (names, classical phrases) are a few characters long.
MAX_TAGGED_RUN = 80


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
        for at in range(0, len(buf), MAX_TAGGED_RUN):
            pairs.extend(_unknown_run_flags(buf[at:at + MAX_TAGGED_RUN]))
    else:
        for ch in buf:
            if words is not None:
                words.append(ch)
            pairs.append((ch, tags.get(ch, "x")))


@lru_cache(maxsize=200_000)
def _unknown_run_flags(run: str) -> tuple[tuple[str, str], ...]:
    """posseg's cut of a run of characters no dictionary word covers (its HMM, no dictionary)."""
    # posseg's own (private) routine for such runs: its HMM reads no dictionary, so the shared
    # default instance serves every library.
    return tuple((p.word, p.flag) for p in _posseg().dt._POSTokenizer__cut_detail(run))


@lru_cache(maxsize=4)
def _pos_tokenizer(user_dicts: tuple[str, ...]) -> Any:
    jieba = _jieba()

    tok = tokenizer(user_dicts)  # first: its dictionary cache holds posseg's table
    posseg = _posseg()
    if tok.dictionary != jieba.dt.dictionary:
        return posseg.POSTokenizer(tok)
    # Our tokenizer reads jieba's own dictionary file, whose part-of-speech table posseg's
    # default instance already holds: start from a copy of that table (0.013 CPU s) instead of
    # parsing the file again. The user dictionaries' tags are added to the copy by
    # makesure_userdict_loaded, as POSTokenizer would.
    pos = object.__new__(posseg.POSTokenizer)
    pos.tokenizer = tok
    pos.word_tag_tab = dict(posseg.dt.word_tag_tab)
    return pos


def known_words(user_dicts: tuple[str, ...] | None = None) -> dict[str, int]:
    """word -> frequency of jieba's and the user dictionaries (0 or absent: not a word there)."""
    return tokenizer(user_dicts).FREQ  # type: ignore[no-any-return]


def word_frequencies(user_dicts: tuple[str, ...] | None = None) -> tuple[dict[str, int], int]:
    """jieba's word counts (prefixes of words count 0) and their total, user dictionaries included.

    For scoring text against the dictionary (pipeline/page/correct.py) without importing jieba
    there.
    """
    tok = tokenizer(user_dicts)
    return tok.FREQ, int(tok.total)
