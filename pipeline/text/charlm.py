"""A character-bigram language model of modern Chinese: how plausible a run of characters is.

The table (`data/charlm.tsv.gz`, ~1 MB) is built by scripts/make_charlm.py from the shared law
corpus and the words of jieba's dictionary; both are simplified Chinese, so text is mapped to
simplified (OpenCC t2s, same length) before it is scored. Loaded once per process.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .normalize import to_simplified

TABLE = Path(__file__).with_name("data") / "charlm.tsv.gz"
# Weight of the bigram estimate against the character's own frequency (simple interpolation).
_BIGRAM_WEIGHT = 0.9


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (basic block, extension A, compatibility ideographs)."""
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@dataclass(frozen=True)
class CharModel:
    """Counts of characters and of adjacent character pairs."""

    chars: dict[str, int]
    bigrams: dict[str, int]
    total: int

    def unigram(self, ch: str) -> float:
        """P(ch) with a floor for characters the table does not know."""
        return (self.chars.get(ch, 0) + 0.5) / (self.total + 0.5 * len(self.chars))

    def known(self, ch: str) -> bool:
        """True when the character was seen in the training text."""
        return ch in self.chars

    def surprise(self, prev: str, ch: str) -> float:
        """-log P(ch | prev) in nats; `prev` '' for the first character of a run."""
        uni = self.unigram(ch)
        count_prev = self.chars.get(prev, 0) if prev else 0
        if not count_prev:
            return -math.log(uni)
        pair = self.bigrams.get(prev + ch, 0) / count_prev
        return -math.log(_BIGRAM_WEIGHT * pair + (1 - _BIGRAM_WEIGHT) * uni)

    def seen_pair(self, prev: str, ch: str) -> bool:
        """True when the pair is in the (pruned) table."""
        return prev + ch in self.bigrams

    def simplified(self, text: str) -> str:
        """`text` in simplified characters, the table's script (same length)."""
        return to_simplified(text)


@lru_cache(maxsize=1)
def model() -> CharModel:
    """The shipped table, read once."""
    chars: dict[str, int] = {}
    bigrams: dict[str, int] = {}
    total = 1
    with gzip.open(TABLE, "rt", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key == "#total":
                total = int(value)
            elif len(key) == 1:
                chars[key] = int(value)
            else:
                bigrams[key] = int(value)
    return CharModel(chars, bigrams, total)
