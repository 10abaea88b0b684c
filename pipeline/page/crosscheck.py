"""Two engines' readings of one page, checked against each other: where they differ.

`--engine auto` reads a vertical page with both engines (process.recognise) and keeps one
reading where the two agree on the characters. There the other reading is a measurement the
quality estimate has no other way to make: two engines built apart rarely misread a character
the same way, so nearly every misreading of the kept reading is a place where the readings
differ, and the share of the kept reading's characters that differ bounds its misreadings from
above. The estimate (quality.estimate, `checked`) takes the smaller of its model's figure and
this bound. What it is for (benchmarks/README.md, "Page quality", session 14): Tesseract's model
puts an error-free vertical page at 1.2-1.6%, because the pages it was fitted on that look like
it are read at 1-5%; where PP-OCR's reading holds the same characters, the page is read right.

Compared: letters and digits only (the marks PP-OCR drops from vertical columns are what
Tesseract's reading is kept for, and are not checked), both in simplified script (PP-OCR reads
the traditional 內 橫 毀 as 内 横 毁 on pages Tesseract reads right: a difference of script form,
not a misreading either engine's model could be told apart from), in reading order (an edit
distance, not a bag of characters: a page whose columns the two engines order differently is
not bounded by their having read the same characters). A misreading the two share (a variant
form both read alike) is not seen, nor is the order of columns both got wrong.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from ..text.normalize import to_simplified


def differ(kept: str, other: str) -> float | None:
    """The share of `kept`'s letters and digits that `other` does not give in the same order
    (edit distance in simplified script over `kept`'s length, at most 1); None when `kept` has
    none."""
    a, b = _letters(kept), _letters(other)
    if not a:
        return None
    return min(1.0, edit_distance(a, b) / len(a))


def _letters(text: str) -> str:
    return to_simplified("".join(c for c in unicodedata.normalize("NFKC", text)
                                 if unicodedata.category(c)[0] in "LN"))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time in numpy (a page of 900 characters: ~10 ms); the
    benchmarks score with it too (benchmarks/realpages.py)."""
    if not a or not b:
        return len(a) or len(b)
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    ramp = np.arange(len(b) + 1, dtype=np.int64)
    prev = ramp.copy()
    for i, ch in enumerate(a, start=1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[:-1] + (bb != ord(ch)), prev[1:] + 1)
        cur = np.minimum.accumulate(cur - ramp) + ramp
        prev = cur
    return int(prev[-1])
