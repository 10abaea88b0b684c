"""The page quality estimate's character-bigram table (pipeline/text/charlm.py)."""

from __future__ import annotations

import gzip
import math

from pipeline.text import charlm


def _shipped() -> tuple[dict[str, int], dict[str, int], int]:
    chars: dict[str, int] = {}
    pairs: dict[str, int] = {}
    total = 0
    with gzip.open(charlm.TABLE, "rt", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key == "#total":
                total = int(value)
            else:
                (chars if len(key) == 1 else pairs)[key] = int(value)
    return chars, pairs, total


def test_every_pair_of_the_table_is_found_with_its_count_and_no_other() -> None:
    """The pairs are kept in sorted arrays, not a dict: every line of the shipped table is
    found, with its count, and pairs it does not hold are not."""
    chars, pairs, total = _shipped()
    model = charlm.model()
    assert model.total == total and model.chars == chars
    assert len(model.pairs) == len(pairs) > 100_000
    for key, count in pairs.items():
        assert model.pair_count(key[0], key[1]) == count, key
        assert model.seen_pair(key[0], key[1])
    absent = [a + b for a in "一县龢䑩" for b in "一县龢䑩丁" if a + b not in pairs]
    assert absent
    for key in absent:
        assert model.pair_count(key[0], key[1]) == 0 and not model.seen_pair(key[0], key[1])


def test_surprise_is_the_interpolated_bigram_estimate() -> None:
    chars, pairs, total = _shipped()
    model = charlm.model()
    floor = total + 0.5 * len(chars)
    for prev, ch in ("一九", "九五", "县志", "志县", "龢龢", ("", "县")):
        uni = (chars.get(ch, 0) + 0.5) / floor
        if prev and chars.get(prev):
            expected = -math.log(0.9 * pairs.get(prev + ch, 0) / chars[prev] + 0.1 * uni)
        else:
            expected = -math.log(uni)
        assert model.surprise(prev, ch) == expected


def test_the_pairs_take_a_few_megabytes() -> None:
    """~195,000 pairs in two arrays of 8-byte numbers (a dict of 2-character strings took ~25 MB
    in every page worker)."""
    model = charlm.model()
    size = model.pairs.itemsize * len(model.pairs) + model.counts.itemsize * len(model.counts)
    assert size < 4 * 2**20
