"""Characters PP-OCR's recogniser nearly read, and which are put back (engines/nearly.py), on
made-up recogniser outputs; tests/test_paddle.py reads a real line."""

from __future__ import annotations

import numpy as np

from pipeline.page.engines import nearly

SPACE = 9  # the space's class in these made-up outputs
CHARS = ["blank", "一", "九", "七", "年", "○", "乙", "丙", "丁", " "]


def recogniser_output(frames: list[dict[int, float]], classes: int = len(CHARS)) -> np.ndarray:
    """A recogniser's output over `classes` classes (the blank first): in each frame the
    probabilities given, the rest on the blank."""
    probs = np.zeros((len(frames), classes), dtype=np.float32)
    for t, given in enumerate(frames):
        for c, p in given.items():
            probs[t, c] = p
        probs[t, 0] = 1.0 - sum(given.values())
    return probs


def _line(*cells: dict[int, float], pitch: int = 5) -> list[dict[int, float]]:
    """Frames of a line: each cell `pitch` frames, its first frame as given, the rest blank."""
    frames: list[dict[int, float]] = []
    for cell in cells:
        frames += [cell] + [{}] * (pitch - 1)
    return frames


def test_a_character_nearly_read_where_the_line_leaves_room_for_one_is_put_back():
    # 一 九 七 [○ nearly read] 年 一 九: the 〇's cell lies between 七 and 年, two pitches apart
    probs = recogniser_output(_line({1: .99}, {2: .99}, {3: .99}, {5: .3}, {4: .99}, {1: .99}, {2: .99}))
    cols, found = nearly.nearly_read(probs, len(probs))
    assert list(cols) == [0, 5, 10, 20, 25, 30]
    assert [(n.at, n.label, round(n.probability, 2), n.frame, n.room) for n in found] == [
        (3, 5, 0.3, 15, 10)]
    sure = [0.99] * len(cols)
    back = nearly.restorable(cols, found, SPACE, sure)
    assert back == found
    # not where a neighbour was read unsure: the line is misread there
    unsure = sure[:3] + [nearly.SURE - 0.05] + sure[4:]  # 年
    assert nearly.restorable(cols, found, SPACE, unsure) == []
    text, frames, confs = nearly.put_back("一九七年一九", cols, [1.0] * 6, back, CHARS)
    # the circle beside a numeral is the numeral 〇, with its probability as confidence
    assert text == "一九七〇年一九"
    assert frames == [0, 5, 10, 15, 20, 25, 30]
    assert confs == [1.0, 1.0, 1.0, 0.3, 1.0, 1.0, 1.0]
    # beside no numeral the circle stays the symbol
    text, _, _ = nearly.put_back("乙丙丁年乙丙", cols, [1.0] * 6, back, CHARS)
    assert text == "乙丙丁○年乙丙"


def test_a_character_nearly_read_without_room_for_it_is_counted_not_put_back():
    # the same character between two read one pitch apart (the reverse side of a bleed-through
    # page showing between them): counted for the quality estimate, not put back
    probs = recogniser_output(_line({1: .99}, {2: .99}, {3: .99}, {4: .99}, {1: .99}, {2: .99}))
    probs[12] = 0.0
    probs[12, 0], probs[12, 6] = 0.6, 0.4
    cols, found = nearly.nearly_read(probs, len(probs))
    assert len(found) == 1 and found[0].room == 5
    assert nearly.restorable(cols, found, SPACE, [0.99] * len(cols)) == []
    # nor the recogniser's space, nor a character under RESTORE, nor one at the line's end
    for label, p in ((SPACE, 0.4), (6, nearly.RESTORE * 0.9)):
        probs = recogniser_output(_line({1: .99}, {2: .99}, {3: .99}, {label: p}, {4: .99}, {1: .99}))
        cols, found = nearly.nearly_read(probs, len(probs))
        assert len(found) == (1 if p > nearly.HIDDEN else 0)
        assert nearly.restorable(cols, found, SPACE, [0.99] * len(cols)) == []
    probs = recogniser_output(_line({1: .99}, {2: .99}, {3: .99}, {4: .99}, {6: .4}))
    cols, found = nearly.nearly_read(probs, len(probs))
    assert [n.room for n in found] == [0]
    assert nearly.restorable(cols, found, SPACE, [0.99] * len(cols)) == []


def test_a_short_line_has_no_pitch_to_measure_a_gap_by():
    probs = recogniser_output(_line({1: .99}, {6: .4}, {4: .99}, {1: .99}))
    cols, found = nearly.nearly_read(probs, len(probs))
    assert len(cols) < nearly.MIN_READ and len(found) == 1
    assert nearly.pitch(cols) is None
    assert nearly.restorable(cols, found, SPACE, [0.99] * len(cols)) == []
