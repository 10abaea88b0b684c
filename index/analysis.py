"""Tokenizers and field types Whoosh pickles into the index. Keep their import path stable.

Nothing here holds a jieba object or imports jieba at import time: opening an index unpickles
the schema, and a researcher's `wenshi search` must not pay for loading jieba to do that.
Index-time analysis (`analyze_page`) runs in worker processes during big ingests, so it is a
plain module-level function over plain values.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import TEXT
from whoosh.system import pack_uint

from pipeline import segment
from pipeline.normalize import to_search_form

_SPACE = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"[^\W_]")


class JiebaTokenizer(Tokenizer):  # type: ignore[misc]
    """Words from jieba over the search normal form (simplified, half-width, lower-case).

    Positions count words (0, 1, 2, ...) so phrase queries work; startchar/endchar are character
    offsets into the original value, so highlights land on the right characters. jieba's own
    ChineseAnalyzer stores character offsets as positions, which breaks both.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer)

    def __hash__(self) -> int:
        return hash(JiebaTokenizer)

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False,
        keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
        start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for word, start, end in segment.iter_words(to_search_form(value)):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            pos += 1
            yield token


def chinese_analyzer() -> JiebaTokenizer:
    """The analyzer of the word fields (a tokenizer alone: normalising happens inside it)."""
    return JiebaTokenizer()


class WordsField(TEXT):  # type: ignore[misc]
    """A jieba-words field (term frequencies, no positions) that also takes pre-counted words.

    `index()` accepts the page text, or a {word: count} mapping from `word_counts` computed
    earlier (in a worker process): then the main process only hands the counts to Whoosh.
    """

    def __init__(self, stored: bool = False, field_boost: float = 1.0) -> None:
        super().__init__(analyzer=chinese_analyzer(), phrase=False, stored=stored, field_boost=field_boost)

    def index(self, value: Any, **kwargs: Any) -> Iterable[tuple[bytes, int, float, bytes]]:
        """(term bytes, frequency, weight, value bytes) for each distinct word."""
        counts = value if isinstance(value, Mapping) else word_counts(str(value))
        boost = self.format.field_boost
        return [(w.encode("utf-8"), n, n * boost, pack_uint(n)) for w, n in counts.items()]


def query_words(text: str) -> list[str]:
    """The jieba words of some text in the normal form, punctuation dropped."""
    return [w for w, _, _ in segment.iter_words(to_search_form(text)) if w]


def word_counts(text: str) -> dict[str, int]:
    """How often each jieba word occurs in `text` (normal form, punctuation and spaces dropped)."""
    cut = segment.tokenizer().cut(to_search_form(text), HMM=True)
    return dict(Counter(w.strip() for w in cut if w.isalnum() or _WORD_CHAR.search(w)))


def analyze_texts(texts: list[str], user_dicts: tuple[str, ...]) -> list[dict[str, int]]:
    """Word counts of several texts with the given user dictionaries (a worker-process task)."""
    segment.use_user_dicts(user_dicts)
    return [word_counts(t) for t in texts]


def compact_search_form(text: str) -> str:
    """The normal form with all white space removed: what exact-occurrence search matches."""
    return _SPACE.sub("", to_search_form(text))
