"""Tokenizers and field types Whoosh pickles into the index. Keep their import path stable.

Nothing here holds a jieba object or imports jieba at import time: opening an index unpickles
the schema, and a researcher's `wenshi search` must not pay for loading jieba to do that.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Iterator

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import FieldType
from whoosh.formats import Existence

from pipeline import segment
from pipeline.normalize import to_search_form

_SPACE = re.compile(r"\s+")


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

    def __call__(  # type: ignore[override]
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


def compact_search_form(text: str) -> str:
    """The normal form with all white space removed: what exact-occurrence search matches."""
    return _SPACE.sub("", to_search_form(text))


def char_grams(compact: str) -> set[str]:
    """Distinct characters and character bigrams of an already compacted text."""
    grams = set(compact)
    grams.update(map(operator.add, compact, compact[1:]))
    return grams


class CharGramField(FieldType):  # type: ignore[misc]
    """Which 1- and 2-character strings occur on a page (no positions, no frequencies).

    Any string of length <= 2 is answered exactly from its postings; a longer one by
    intersecting its bigrams' postings and checking the candidate pages' text. Positions would
    make phrases exact without the check but cost twice the disk and, in pure-Python Whoosh,
    hundreds of milliseconds a query (measured on 5,000 pages of the benchmark corpus).
    """

    def __init__(self) -> None:
        self.format = Existence()
        self.analyzer = None
        self.scorable = False
        self.stored = False
        self.unique = False
        self.vector = None
        self.multitoken_query = "and"

    def index(self, value: str, **kwargs: Any) -> list[tuple[bytes, int, float, bytes]]:
        """Index terms for `value`, which is raw page text."""
        return [(g.encode("utf-8"), 1, 1.0, b"") for g in char_grams(compact_search_form(value))]
