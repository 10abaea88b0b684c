"""A character-bigram language model of modern Chinese: how plausible a run of characters is.

The table (`data/charlm.tsv.gz`, ~1 MB) is built by scripts/make_charlm.py from the shared law
corpus and the words of jieba's dictionary; both are simplified Chinese, so text is mapped to
simplified (OpenCC t2s, same length) before it is scored. Loaded once per process: in the
forkserver every page worker is forked from (pipeline/page/forkserver_preload.py).

The ~195,000 pairs are kept as two sorted arrays (each pair's two code points in one 64-bit
number, and its count), looked up by binary search, not as a dict of 2-character strings: ~3 MB
instead of ~25, in the forkserver and, as RSS counts the pages a worker shares with it, again
in each worker (benchmarks/README.md, "Session 11").
"""

from __future__ import annotations

import gzip
import math
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .normalize import to_simplified

TABLE = Path(__file__).with_name("data") / "charlm.tsv.gz"
# Weight of the bigram estimate against the character's own frequency (simple interpolation).
_BIGRAM_WEIGHT = 0.9


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (basic block, extension A, compatibility ideographs)."""
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@dataclass(frozen=True)
class CharModel:
    """Counts of characters and of adjacent character pairs (`pairs`: `pair_code` of each pair,
    sorted; `counts`: its count)."""

    chars: dict[str, int]
    pairs: array[int]
    counts: array[int]
    total: int

    def unigram(self, ch: str) -> float:
        """P(ch) with a floor for characters the table does not know."""
        return (self.chars.get(ch, 0) + 0.5) / (self.total + 0.5 * len(self.chars))

    def known(self, ch: str) -> bool:
        """True when the character was seen in the training text."""
        return ch in self.chars

    def pair_count(self, prev: str, ch: str) -> int:
        """How often `prev` was followed by `ch` (0: not in the pruned table)."""
        i = self._find(prev, ch)
        return int(self.counts[i]) if i >= 0 else 0

    def _find(self, prev: str, ch: str) -> int:
        """The pair's index in `pairs`, -1 when it is not there."""
        code = pair_code(prev, ch)
        i = bisect_left(self.pairs, code)
        return i if i < len(self.pairs) and self.pairs[i] == code else -1

    def surprise(self, prev: str, ch: str) -> float:
        """-log P(ch | prev) in nats; `prev` '' for the first character of a run."""
        uni = self.unigram(ch)
        count_prev = self.chars.get(prev, 0) if prev else 0
        if not count_prev:
            return -math.log(uni)
        pair = self.pair_count(prev, ch) / count_prev
        return -math.log(_BIGRAM_WEIGHT * pair + (1 - _BIGRAM_WEIGHT) * uni)

    def seen_pair(self, prev: str, ch: str) -> bool:
        """True when the pair is in the (pruned) table."""
        return self._find(prev, ch) >= 0

    def simplified(self, text: str) -> str:
        """`text` in simplified characters, the table's script (same length)."""
        return to_simplified(text)


def pair_code(prev: str, ch: str) -> int:
    """One number for a pair of characters (code points are below 2**21)."""
    return ord(prev) << 21 | ord(ch)


@lru_cache(maxsize=1)
def model() -> CharModel:
    """The shipped table, read once."""
    chars: dict[str, int] = {}
    codes, counts = array("q"), array("q")
    total = 1
    with gzip.open(TABLE, "rt", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key == "#total":
                total = int(value)
            elif len(key) == 1:
                chars[key] = int(value)
            elif len(key) == 2:
                codes.append(pair_code(key[0], key[1]))
                counts.append(int(value))
    keys = np.frombuffer(codes, dtype=np.int64)
    if not (keys[1:] > keys[:-1]).all():  # scripts/make_charlm.py writes the pairs sorted
        order = np.argsort(keys, kind="stable")
        codes = array("q", keys[order].tobytes())
        counts = array("q", np.frombuffer(counts, dtype=np.int64)[order].tobytes())
    del keys
    return CharModel(chars, codes, counts, total)
