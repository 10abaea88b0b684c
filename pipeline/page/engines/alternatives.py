"""The other characters PP-OCR's recogniser saw where it read a character it doubted.

In the frames a character was read in, the recogniser's softmax gives every one of its classes
a share. Where it reads a character at under SURE, the runner-up is often the printed character:
鸣 read at 0.51 on a page printing 呜呼, its look-alike 呜 just below. These are the engine's own
alternatives (ALTO's ALTERNATIVE, written by pipeline/page/assemble.py): the look-alike
correction (pipeline/page/correct.py) weighs them with the dictionary beside its table of
look-alikes, and a proofreader can see them. Tesseract gives none that help (its own choices held
the right character for 3 of 25 misreadings, benchmarks/README.md, "Correction of misread
characters").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .nearly import SURE, read_frames

# A class is an alternative where it reaches this share in a frame the character was read in.
ALTERNATIVE = 0.05
# At most this many alternatives a character, likeliest first.
MOST = 3


def alternatives(probs: np.ndarray, frames: int, cols: np.ndarray, confs: Sequence[float],
                 characters: Sequence[str], floor: float = ALTERNATIVE
                 ) -> list[tuple[str, ...]]:
    """For each character read (first frames `cols`, at confidences `confs`, 0-1), the other
    characters reaching `floor` in the frames it was read in (the run of frames from `cols`
    whose best class is its own), likeliest first; none for a character read at SURE or more.

    `probs`: the recogniser's output for one line (frames x classes, softmax, class 0 the CTC
    blank), its first `frames` frames the line's; `characters`: the classes' characters."""
    p = probs[:max(1, frames)]
    out: list[tuple[str, ...]] = []
    for k, col in enumerate(cols):
        if k < len(confs) and confs[k] >= SURE:
            out.append(())
            continue
        label = int(p[col].argmax())
        best = read_frames(p, cols, k).max(axis=0)
        top = np.argsort(best)[::-1][:MOST + 1]
        out.append(tuple(characters[int(c)] for c in top
                         if c != 0 and c != label and best[c] >= floor
                         and 0 < c < len(characters) and len(characters[int(c)].strip()) == 1
                         )[:MOST])
    return out
