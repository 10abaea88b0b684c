"""Characters read where PP-OCR's recogniser nearly read another form of them
(engines/variants.py), on made-up recogniser outputs; tests/test_paddle.py reads a real page's
column."""

from __future__ import annotations

import numpy as np

from pipeline.page.engines import variants
from pipeline.text.normalize import regional_forms

from .test_nearly import recogniser_output

CHARS = ["blank", "德", "徳", "書", "书", "隱", "隠", "天", " "]


def _output(frames: list[dict[int, float]]) -> np.ndarray:
    return recogniser_output(frames, len(CHARS))


def test_a_characters_other_forms_are_its_regional_forms_not_its_other_script() -> None:
    # the forms classical pages print and their transcriptions keep (OpenCC's Japanese, Taiwan
    # and Hong Kong dictionaries)
    assert regional_forms("德") == {"徳"}
    assert regional_forms("隱") == {"隠"}
    assert regional_forms("錄") == {"録"}
    assert regional_forms("為") == {"爲"}
    # the simplified counterpart is not another form: 书 is 書 in the other script
    assert regional_forms("書") == frozenset()
    assert regional_forms("溫") == frozenset()  # 温: simplified, and Japanese too
    assert regional_forms("天") == frozenset()


def test_characters_read_whose_other_form_the_recogniser_nearly_read_are_counted() -> None:
    # 德 read at 0.97 with 徳 at 0.03 in its frames (a page printing 徳: shiji_bw_p2), 隱 read
    # sure, 書 with 书 at 0.05 (the other script: not counted), 天 (no other form)
    probs = _output([{1: .97, 2: .03}, {1: .9, 2: .002}, {}, {5: .999, 6: .0005}, {},
                     {3: .95, 4: .05}, {}, {7: .99}, {}])
    index = variants.FormIndex(CHARS)
    cols = np.array([0, 3, 5, 7])
    assert list(index.of(1)) == [2] and list(index.of(3)) == []
    assert variants.varied(probs, len(probs), cols, index) == 1
    # a floor above 0.03: none; at 0.0005 隱's 隠 counts too
    assert variants.varied(probs, len(probs), cols, index, 0.05) == 0
    assert variants.varied(probs, len(probs), cols, index, 0.0005) == 2
    # only the frames the character was read in: 徳 in the blank frame after 德 does not count
    later = probs.copy()
    later[0] = 0.0
    later[0, 0], later[0, 1] = 0.01, 0.99
    later[1] = 0.0
    later[1, 0], later[1, 2] = 0.9, 0.1
    assert variants.varied(later, len(later), cols, index) == 0
    # frames past the line's own (`frames`: padding in a batch of wider lines) are not read
    assert variants.varied(probs, 3, cols[:1], index) == 1
