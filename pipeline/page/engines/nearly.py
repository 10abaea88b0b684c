"""Characters PP-OCR's recogniser nearly read, and those of them put back into the line.

PP-OCR's recogniser gives, in every frame of a line (8 pixels of the line at its 48-pixel
height), a softmax over its characters and the CTC blank; rapidocr's decoder keeps each frame's
argmax, and a character read once, then blank, is one character. A character the blank outweighs
in every one of its frames is dropped, while the characters read around it keep a confidence of
1.0 (the 〇 of 一九七〇年 on an A5 page, dropped in every rendered condition). Its trace stays in
the frames between its neighbours: another character than theirs reaches a probability the
blank's own frames never give it.

`nearly_read` finds, in each stretch of frames between two characters read (and before the
first, after the last), the best such character: their count, less the spaces (a space nearly
read between two words is no character dropped), is the page quality's `hidden`
(engines/paddle.py, pipeline/page/quality.py). `restorable` picks those put back into the line's
text (`restored-hidden-characters`), where the line itself shows room for a character: the
frames between the two characters read either side span at least RESTORE_ROOM of the line's own
character pitch (the median distance, in frames, between the characters it read), both were
read sure (SURE), and the character reached RESTORE. A restored character keeps that
probability as its confidence, so the ALTO, `wenshi show --json` and the proofreading list mark
it as doubtful; the ALTO tags it as put back (alto.RESTORED_TAG), and the page quality estimate
reads the page's confidences without it. Measured on the real pages and the rendered
conditions, every candidate listed (benchmarks/README.md, "Session 13, characters PP-OCR nearly
read").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# The page step recorded where the lines written hold a character put back
# (pipeline/page/assemble.py).
STEP_RESTORED = "restored-hidden-characters"
# A character nearly read reaches this probability in a frame the blank wins (chosen for the
# quality estimate in session 11 among 0.01, 0.03, 0.1, 0.2, 0.3; benchmarks/README.md, "Page
# quality").
HIDDEN = 0.1
# A character nearly read is put back when it reached this probability ...
RESTORE = 0.1
# ... and the characters read either side of it stand at least this many of the line's
# character pitches apart. A dropped character leaves its neighbours two pitches apart (1.9-2.4
# on the pages measured); between characters read one after the other they stand about one
# apart, after a punctuation mark, which the recogniser reads early or late in its cell, up to
# 1.4 (where a bleed-through page's reverse side showed between them).
RESTORE_ROOM = 1.7
# ... and the recogniser read both of them at least this sure (the quality estimate's UNSURE,
# 90, pipeline/page/quality.py). A character dropped from a line read well leaves its
# neighbours at ~1.0 (of the candidates judged right on the pages measured, all but one had both
# at 0.8 or more, all but two at 0.9, most at 0.98-1.0); where a neighbour is doubtful the line
# itself is misread there, and what the recogniser nearly read between is as doubtful (a
# bleed-through page's mirrored reverse side read as a line: neighbours at 0.15-0.9).
SURE = 0.9
# The pitch is measured on lines of at least this many characters read: on shorter lines the
# gap itself is most of the distances the median is taken over.
MIN_READ = 4
# The recogniser's near miss for the numeral zero 〇 (U+3007) is the symbol ○ (U+25CB), a
# class of its own: restored beside a Chinese numeral it is the numeral (一九七〇年, 二〇〇五),
# which a search for 一九七〇年 finds (the year tagger reads both as 0).
_CIRCLE, _ZERO = "○", "〇"
_NUMERALS = set("〇零一二三四五六七八九十")


@dataclass(frozen=True)
class Nearly:
    """A character nearly read in one line: put back, it would stand before the line's character
    `at` (decoded order; the line's length after its last)."""

    at: int
    label: int  # the recogniser's class (0 is the CTC blank)
    probability: float
    frame: int  # the frame in which it reached `probability`
    room: int  # frames between the characters read either side; 0 at the line's ends


def nearly_read(probs: np.ndarray, frames: int, floor: float = HIDDEN
                ) -> tuple[np.ndarray, list[Nearly]]:
    """The frames the decoder read the line's characters at (the first of each run, as
    rapidocr's word boxes place them) and, in each stretch of blank between and around them, the
    character other than its neighbours that reached the most above `floor`, if any.

    `probs`: the recogniser's output for one line (frames x classes, softmax, class 0 the CTC
    blank), its first `frames` frames the line's. Only frames whose blank is under 1 - `floor`
    are looked at: elsewhere no class reaches `floor` and the decoder reads blank. That is a few
    frames a character, not the ~18,700 classes of every frame."""
    p = probs[:max(1, frames)]
    at = np.flatnonzero(p[:, 0] < 1.0 - floor)
    if not len(at):
        return np.zeros(0, dtype=np.int64), []
    sub = p[at]
    best = sub.argmax(axis=1)
    # the class read in the frame before (blank where that frame is not looked at: its blank
    # is at least 1 - floor, more than any other class)
    before = np.zeros_like(best)
    follows = np.flatnonzero(at[1:] == at[:-1] + 1) + 1
    before[follows] = best[follows - 1]
    read = (best != 0) & (best != before)  # the CTC decoder's characters
    cols = at[read]
    classes = best[read]
    gap = np.cumsum(read)  # characters read at or before each frame
    blank = np.flatnonzero(best == 0)
    if not len(blank):
        return cols, []
    g = gap[blank]
    others = sub[blank]  # a copy: the blank frames looked at, few
    rows = np.arange(len(blank))
    others[:, 0] = -1.0
    if len(classes):
        has_before, has_after = g > 0, g < len(classes)
        others[rows[has_before], classes[g[has_before] - 1]] = -1.0
        others[rows[has_after], classes[g[has_after]]] = -1.0
    label = others.argmax(axis=1)
    top = others[rows, label]
    found: list[Nearly] = []
    for i in np.flatnonzero(top > floor):
        k = int(g[i])
        room = int(cols[k] - cols[k - 1]) if 0 < k < len(cols) else 0
        nearly = Nearly(k, int(label[i]), float(top[i]), int(at[blank[i]]), room)
        if found and found[-1].at == k:  # the stretch's best
            if nearly.probability > found[-1].probability:
                found[-1] = nearly
        else:
            found.append(nearly)
    return cols, found


def read_frames(probs: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
    """The frames the line's character `k` was read in (first frames `cols`, as `nearly_read`
    gives them): the run from its first frame while its class stays the best, at least one
    (`variants.varied`, `alternatives.alternatives` look there for what else the recogniser
    saw)."""
    col = int(cols[k])
    label = int(probs[col].argmax())
    end = int(cols[k + 1]) if k + 1 < len(cols) else len(probs)
    span = probs[col:max(col + 1, end)]
    run = span.argmax(axis=1) == label
    return span[:max(1, int(np.argmin(run)) if not run.all() else len(run))]


def pitch(cols: np.ndarray) -> float | None:
    """The line's character pitch in frames: the median distance between the characters read,
    None on a line of fewer than MIN_READ."""
    if len(cols) < MIN_READ:
        return None
    return float(np.median(np.diff(cols)))


def restorable(cols: np.ndarray, found: Sequence[Nearly], space: int,
               confs: Sequence[float]) -> list[Nearly]:
    """The characters of `found` put back into the line: between two characters read (at
    confidences `confs`, 0-1) at SURE or more, not the recogniser's space (class `space`), at
    RESTORE or more, with room for a character (see RESTORE_ROOM)."""
    step = pitch(cols)
    if step is None or step <= 0 or len(confs) != len(cols):
        return []
    return [n for n in found
            if n.room and n.label != space and n.probability >= RESTORE
            and n.room >= RESTORE_ROOM * step
            and min(confs[n.at - 1], confs[n.at]) >= SURE]


def put_back(text: str, cols: np.ndarray, confs: Sequence[float], back: Sequence[Nearly],
             characters: Sequence[str]) -> tuple[str, list[int], list[float]]:
    """`text` (one character per frame of `cols`, confidences `confs`) with the characters of
    `back` inserted where they were nearly read: the new text, its characters' frames and
    confidences (a restored character's: its probability)."""
    chars, frames, scores = list(text), [int(c) for c in cols], list(confs)
    for n in sorted(back, key=lambda n: n.at, reverse=True):
        char = characters[n.label]
        if char == _CIRCLE and _NUMERALS & set(text[max(0, n.at - 1):n.at + 1]):
            char = _ZERO
        chars.insert(n.at, char)
        frames.insert(n.at, n.frame)
        scores.insert(n.at, round(n.probability, 5))
    return "".join(chars), frames, scores


def put_at(back: Sequence[Nearly]) -> list[int]:
    """Where the characters of `back` stand in the text `put_back` gives (offsets, in order)."""
    return [n.at + k for k, n in enumerate(sorted(back, key=lambda n: n.at))]
