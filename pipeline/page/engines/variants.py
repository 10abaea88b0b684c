"""Characters PP-OCR read where it nearly read another form of the same character.

Classical pages print many characters in forms other than the standard traditional ones (徳 隠
録 爲 懐 for 德 隱 錄 為 懷), which a transcription keeps. PP-OCR's 18,708 classes hold both forms,
and on such pages it reads the standard one at confidence 0.95 and more (德 at 0.97-0.98 on
shiji_bw_p2), which no confidence signal sees; but its frames give the printed form a share (0.01-0.46) they seldom give another form of
a character the page prints as read (benchmarks/README.md, "Session 15, page quality").

A character's other forms are the regional standard forms OpenCC's dictionaries (a Wenshi
dependency; pipeline/text/normalize.py, `regional_forms`) map it to or from: Japanese (jp2t, t2jp: the 新字體 and 舊字體 forms), Taiwan's
(tw2t, t2tw) and Hong Kong's (hk2t, t2hk); not its simplified or traditional counterpart (t2s,
s2t): a page is in one script or the other as a whole, and on traditional pages read right the
recogniser gives the simplified form its share too (溫 温 0.07-0.39, 題 题 0.04 on siku_mulu_p30,
whose transcription has 溫 題). `varied` counts, in one line, the characters read whose other forms reach VARIANT
in the frames the recogniser read them in: the page quality's `variants`
(pipeline/page/quality.py). Nothing is changed in the text.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...text.normalize import regional_forms
from .nearly import read_frames

# A character's other form counts as nearly read when it reaches this probability in a frame
# the character was read in (chosen with the quality estimate among 0.001, 0.003 and 0.01, on
# the same pages: benchmarks/README.md, "Session 15, page quality"). On the real pages, of the
# 28 characters read whose other form the page prints (and its transcription keeps) 25 reach it
# (median 0.035); of the 101 whose other form reaches 0.001 where the page prints the form read,
# 17 (median 0.003).
VARIANT = 0.01


class FormIndex:
    """The recogniser's classes of each class's other forms (normalize.regional_forms), looked
    up as read."""

    def __init__(self, characters: Sequence[str]) -> None:
        self._characters = characters
        self._index = {c: i for i, c in enumerate(characters)}
        self._of: dict[int, np.ndarray] = {}

    def of(self, label: int) -> np.ndarray:
        """The classes of the other forms of class `label` the recogniser holds."""
        found = self._of.get(label)
        if found is None:
            char = self._characters[label] if 0 <= label < len(self._characters) else ""
            found = np.array(sorted(self._index[f] for f in regional_forms(char)
                                    if f in self._index)
                             if len(char) == 1 else [], dtype=np.int64)
            self._of[label] = found
        return found


def varied(probs: np.ndarray, frames: int, cols: np.ndarray, index: FormIndex,
           floor: float = VARIANT) -> int:
    """How many of the line's characters read (first frames `cols`, as `nearly.nearly_read`
    gives them) have another form reaching `floor` in the frames they were read in (the run of
    frames from the first whose best class is theirs). `probs`: the recogniser's output for the
    line (frames x classes, softmax), its first `frames` frames the line's."""
    p = probs[:max(1, frames)]
    count = 0
    for k, col in enumerate(cols):
        others = index.of(int(p[col].argmax()))
        if len(others) and float(read_frames(p, cols, k)[:, others].max()) >= floor:
            count += 1
    return count
