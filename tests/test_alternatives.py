"""The other characters PP-OCR's recogniser saw where it doubted one (engines/alternatives.py),
and the look-alike correction weighing them (pipeline/page/correct.py)."""

from __future__ import annotations

import numpy as np

from pipeline.page import correct
from pipeline.page.engines.alternatives import alternatives

from .test_paddle import _softmax

CLASSES = ["blank", "鸣", "呜", "呼", "吗", " "]


def _frames(rows: list[dict[int, float]]) -> np.ndarray:
    return _softmax(rows, len(CLASSES))


def test_a_doubted_character_gets_what_else_its_frames_held():
    # 鸣 read at 0.51 over two frames with 呜 at 0.45 then 0.30, and 吗 at 0.06 in one; 呼
    # read sure after a blank.
    probs = _frames([{1: 0.51, 2: 0.45, 3: 0.01}, {1: 0.6, 2: 0.3, 4: 0.06}, {}, {3: 0.98}])
    cols = np.array([0, 3])
    assert alternatives(probs, 4, cols, [0.51, 0.98], CLASSES) == [("呜", "吗"), ()]


def test_a_sure_character_the_blank_and_the_space_are_no_alternatives():
    probs = _frames([{1: 0.92, 5: 0.07}, {2: 0.6, 3: 0.3}])
    cols = np.array([0, 1])
    out = alternatives(probs, 2, cols, [0.92, 0.6], CLASSES)
    assert out[0] == ()  # read at 0.92: sure, nothing kept
    assert out[1] == ("呼",)  # not the blank (0.1), not the space


def test_the_correction_takes_the_engines_alternative_without_asking_the_glyph_again():
    text = "你就是他的同党。鸣呼，党同伐异之"
    refuse = lambda index, original, replacement, distance: False  # noqa: E731
    # The glyph check alone refuses 呜 (on lunbian_sim_p4 it measured 0.508 against 0.483,
    # short of the margin its table distance asks).
    assert correct.correct_text(text, check=refuse)[0] == text
    fixed, made = correct.correct_text(text, check=refuse, seen={8: ("呜",)})
    assert fixed == "你就是他的同党。呜呼，党同伐异之"
    assert [(c.original, c.replacement, c.word) for c in made] == [("鸣", "呜", "呜呼")]
    # The dictionary must still want it: an alternative that forms no word is not taken.
    assert correct.correct_text(text, check=refuse, seen={8: ("吗",)})[0] == text


def test_the_alto_keeps_what_the_engine_read_as_the_alternative():
    strings = "".join(
        f'<String ID="s{k}" HPOS="{k * 10}" VPOS="0" WIDTH="10" HEIGHT="10" WC="{wc}" '
        f'CONTENT="{ch}">{alt}</String>'
        for k, (ch, wc, alt) in enumerate([("同", "1.00", ""), ("党", "1.00", ""),
                                           ("鸣", "0.51", "<ALTERNATIVE>呜</ALTERNATIVE>"),
                                           ("呼", "1.00", "")]))
    alto = ('<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>'
            f'<TextBlock><TextLine>{strings}</TextLine></TextBlock></PrintSpace></Page></Layout>'
            '</alto>')
    text, new_alto, made = correct.correct_page("同党鸣呼", alto, None, sure=0.9)
    assert text == "同党呜呼" and len(made) == 1
    assert 'CONTENT="呜"><ALTERNATIVE>鸣</ALTERNATIVE></String>' in new_alto
    assert new_alto.replace("呜", "X").replace("鸣", "呜").replace("X", "鸣") == alto
