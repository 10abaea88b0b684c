"""Tokenizers and field types Whoosh pickles into the index. Keep their import path stable.

Nothing here holds a jieba object or imports jieba at import time: opening an index unpickles
the schema, and a researcher's `wenshi search` must not pay for loading jieba to do that.
Index-time analysis (`analyze_page`) runs in worker processes during big ingests, so it is a
plain module-level function over plain values.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping, Optional, Protocol, Sequence

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import TEXT
from whoosh.system import pack_uint

from pipeline.records import Tags
from pipeline.text import segment
from pipeline.text.normalize import to_search_form

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
        super().__init__(analyzer=chinese_analyzer(), phrase=False, stored=stored,
                         field_boost=field_boost)

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
    return _counted(segment.tokenizer().cut(to_search_form(text), HMM=True))


def _counted(words: Iterable[str]) -> dict[str, int]:
    return dict(Counter(w.strip() for w in words if w.isalnum() or _WORD_CHAR.search(w)))


def analyze_texts(texts: list[str], user_dicts: tuple[str, ...]) -> list[dict[str, int]]:
    """Word counts of several texts with the given user dictionaries (a worker-process task)."""
    segment.use_user_dicts(user_dicts)
    return [word_counts(t) for t in texts]


class Tagger(Protocol):
    """Computes a document's tags (index.tags.TagJob), given its part-of-speech cut."""

    user_dicts: tuple[str, ...]

    def run(self, text: str, title: str,
            pos_pairs: Sequence[tuple[str, str]] | None = None) -> Tags:
        ...


# Word counts of each page, of the title, and the tags when the document was tagged here.
DocumentAnalysis = tuple[list[dict[str, int]], dict[str, int], Optional[Tags]]


def analyze_document(title: str, texts: list[str], user_dicts: tuple[str, ...],
                     tagger: Tagger | None = None) -> DocumentAnalysis:
    """Word counts of a document's pages and title and, with a `tagger`, its tags: one jieba pass
    serves both (a worker-process task; also run in the writer for small batches).

    The tagger reads the search form of title + newline + pages joined by newlines; jieba cuts at
    a newline whatever surrounds it, so the cuts of the parts, joined with newline tokens, are
    the cut of the whole, and each page is segmented once, not twice.
    """
    segment.use_user_dicts(user_dicts)
    share = tagger is not None and tuple(tagger.user_dicts) == tuple(user_dicts)
    parts = [title, *texts]
    counts, pairs = [], []  # type: tuple[list[dict[str, int]], list[tuple[str, str]]]
    for i, part in enumerate(parts):
        if share:
            words, part_pairs = segment.cut_words_and_flags(to_search_form(part))
            counts.append(_counted(words))
            if i > 0 or title:  # tag_text leaves out an empty title and its newline
                if i > (0 if title else 1):
                    pairs.append(("\n", "x"))
                pairs.extend(part_pairs)
        else:
            counts.append(word_counts(part))
    tags = None
    if tagger is not None:
        # "\r" before the joining newline would make one "\r\n" token of the whole: cut it again.
        exact = share and not any(p.endswith("\r") for p in parts[:-1])
        tags = tagger.run("\n".join(texts), title, pairs if exact else None)
    return counts[1:], counts[0], tags


def tag_document(title: str, texts: list[str], tagger: Tagger) -> DocumentAnalysis:
    """A long document's tags alone (a worker-process task): its pages' word counts are made
    a chunk of pages at a time when it is written (index.writer), not held all at once. The
    tags are those `analyze_document` gives: the tagger cuts the joined text itself."""
    return [], {}, tagger.run("\n".join(texts), title)


def compact_search_form(text: str) -> str:
    """The normal form with all white space removed: what exact-occurrence search matches."""
    return _SPACE.sub("", to_search_form(text))
