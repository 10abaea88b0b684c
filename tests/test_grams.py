"""The positional gram index (index/grams.py): codec, exact occurrences, segments and merges."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from index.grams import (
    GramReader,
    GramWriter,
    Segment,
    code_points,
    decode_varints,
    encode_varints,
    merge_postings,
    merge_segments,
    page_key,
    postings_for_pages,
    write_segment,
)

ALPHABET = "的是一人民国中华共和法律师事务所ab1，。"


def _count(text: str, needle: str) -> int:
    return sum(1 for i in range(len(text) - len(needle) + 1) if text.startswith(needle, i))


def _find(reader: GramReader, needle: str) -> dict[int, int]:
    """{page key: count} with newer segments superseding older copies of a page."""
    out: dict[int, int] = {}
    seen: set[int] = set()
    for seg in reversed(reader.segments):
        pages, counts = seg.occurrences(code_points(needle))
        for p, c in zip(pages.tolist(), counts.tolist()):
            key = int(seg.page_keys[p])
            if key not in seen:
                out[key] = c
        seen |= set(seg.page_keys.tolist())
    return out


def test_varints_round_trip_small_and_huge_values():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.integers(0, 128, 50), rng.integers(0, 1 << 40, 50),
                             np.array([0, 127, 128, 16383, 16384,
                                       (1 << 63) - 1])]).astype(np.uint64)
    data, lengths = encode_varints(values)
    assert lengths.sum() == len(data)
    assert (decode_varints(data) == values).all()
    assert encode_varints(np.array([300], dtype=np.uint64))[0].tolist() == [0xAC, 0x02]


def test_occurrences_match_a_substring_scan(tmp_path: Path):
    rng = random.Random(7)
    pages = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(120)]
    keys = [page_key(1, n) for n in range(1, 121)]
    write_segment(tmp_path / "s.grams", postings_for_pages(keys, pages))
    seg = Segment(tmp_path / "s.grams")
    for _ in range(800):
        source = rng.choice(pages)
        n = rng.randint(1, 7)
        if rng.random() < 0.7 and len(source) >= n:
            start = rng.randrange(len(source) - n + 1)
            needle = source[start:start + n]
        else:
            needle = "".join(rng.choice(ALPHABET) for _ in range(n))
        found, counts = seg.occurrences(code_points(needle))
        got = {keys[p]: c for p, c in zip(found.tolist(), counts.tolist())}
        truth = {k: _count(t, needle) for k, t in zip(keys, pages) if needle in t}
        assert got == truth, needle
    seg.close()


def test_a_string_never_matches_across_two_pages(tmp_path: Path):
    write_segment(tmp_path / "s.grams", postings_for_pages([1, 2], ["甲乙丙丁", "戊己庚辛"]))
    seg = Segment(tmp_path / "s.grams")
    # "丙丁戊己" would match if the pages were laid end to end without a gap.
    assert len(seg.occurrences(code_points("丙丁戊己"))[0]) == 0
    assert len(seg.occurrences(code_points("丁戊"))[0]) == 0
    assert seg.occurrences(code_points("乙丙丁"))[0].tolist() == [0]
    assert seg.occurrences(code_points("庚"))[0].tolist() == [1]
    seg.close()


def test_newer_segments_supersede_pages_and_merges_keep_every_live_page(tmp_path: Path):
    rng = random.Random(11)
    texts = {page_key(1, n): "".join(rng.choice(ALPHABET) for _ in range(30))
             for n in range(1, 201)}
    writer = GramWriter(tmp_path)
    items = list(texts.items())
    for start in range(0, 200, 25):
        chunk = items[start:start + 25]
        writer.add([k for k, _ in chunk], [t for _, t in chunk])
        writer.maintain()
    assert 1 <= len(writer.names) <= 4  # merged as it grew
    changed = {k: "".join(rng.choice(ALPHABET) for _ in range(30)) for k in list(texts)[:40:3]}
    writer.add(list(changed), list(changed.values()))
    texts.update(changed)
    dropped = list(texts)[-5:]
    live = np.array(sorted(k for k in texts if k not in dropped), dtype=np.int64)
    writer.merge_ratio = 100.0  # force everything into one segment
    writer.maintain(lambda: live)
    assert len(writer.names) == 1
    for k in dropped:
        del texts[k]
    with GramReader(tmp_path) as reader:
        assert reader.segments[0].page_count == len(texts)
        for needle in ["的", "人民", "师事务", "ab1", "，。", "中华人民共和国"]:
            truth = {k: _count(t, needle) for k, t in texts.items() if needle in t}
            assert _find(reader, needle) == truth, needle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", writer.names[0]]


def test_empty_pages_and_an_empty_index(tmp_path: Path):
    with GramReader(tmp_path) as reader:
        assert reader.segments == []
    writer = GramWriter(tmp_path)
    writer.add([5, 6, 7], ["", "ab", ""])
    with GramReader(tmp_path) as reader:
        assert _find(reader, "ab") == {6: 1}
        assert _find(reader, "b") == {6: 1}
        assert reader.segments[0].page_lengths().tolist() == [0, 2, 0]


def test_a_segment_file_is_checked(tmp_path: Path):
    bad = tmp_path / "bad.grams"
    bad.write_bytes(b"not a segment at all")
    with pytest.raises(ValueError, match="not a gram segment"):
        Segment(bad)


def _segments_to_merge(folder: Path, pages: int, seed: int) -> tuple[list[Segment], list]:
    """Four segments of random pages (some keys repeated: newer copies supersede), with the
    keep masks a merge computes (newest copy of each live key)."""
    rng = random.Random(seed)
    segs, key = [], 1
    for s in range(4):
        keys, texts = [], []
        for _ in range(pages):
            keys.append(rng.choice([key, rng.randint(1, key)]))
            key += 1
            texts.append("".join(rng.choice(ALPHABET + "乙丙丁戊己庚辛") for _ in
                                 range(rng.randint(0, 300))))
        write_segment(folder / f"s{s}.grams", postings_for_pages(keys, texts))
        segs.append(Segment(folder / f"s{s}.grams"))
    live = np.arange(1, key, 2)
    newer: np.ndarray = np.zeros(0, np.int64)
    keeps = []
    for seg in reversed(segs):
        keys_ = np.asarray(seg.page_keys)
        keeps.append(~np.isin(keys_, newer) & np.isin(keys_, live))
        newer = np.union1d(newer, keys_)
    return segs, keeps[::-1]


def test_a_merge_by_chunks_writes_the_segment_a_merge_in_memory_writes(tmp_path: Path):
    segs, keeps = _segments_to_merge(tmp_path, 40, 18)
    write_segment(tmp_path / "whole.grams",
                  merge_postings([(s.all_postings(), k) for s, k in zip(segs, keeps)]))
    whole = (tmp_path / "whole.grams").read_bytes()
    for chunk in (1, 7, 40, 500, 10**9):
        merge_segments(tmp_path / "chunked.grams", segs, keeps, chunk)
        assert (tmp_path / "chunked.grams").read_bytes() == whole, chunk
    assert not list(tmp_path.glob("*.tmp"))


def _one_bigram_segments(folder: Path, pages: int) -> tuple[list[Segment], list]:
    """Two segments whose pages are one bigram repeated (every other page dropped by the
    merge): nearly all their postings are one code's."""
    segs = []
    for s in range(2):
        keys = list(range(1 + s * pages, 1 + (s + 1) * pages))
        write_segment(folder / f"b{s}.grams",
                      postings_for_pages(keys, ["天地" * (100 + k % 7) for k in keys]))
        segs.append(Segment(folder / f"b{s}.grams"))
    return segs, [np.arange(seg.page_count) % 2 == 0 for seg in segs]


def test_a_code_bigger_than_a_chunk_is_merged_in_windows(tmp_path: Path):
    segs, keeps = _one_bigram_segments(tmp_path, 300)
    write_segment(tmp_path / "whole.grams",
                  merge_postings([(s.all_postings(), k) for s, k in zip(segs, keeps)]))
    whole = (tmp_path / "whole.grams").read_bytes()
    for chunk in (20, 33, 1000, 10**9):  # windows inside one segment's term, across both
        merge_segments(tmp_path / "chunked.grams", segs, keeps, chunk)
        assert (tmp_path / "chunked.grams").read_bytes() == whole, chunk
    merged = Segment(tmp_path / "chunked.grams")
    assert merged.page_count == 300
    pages, counts = merged.occurrences(code_points("天地天"))
    assert len(pages) == 300 and counts.min() >= 99


def test_a_merge_holds_the_same_memory_whatever_the_size_of_its_biggest_code(tmp_path: Path):
    peaks = []
    for pages in (1000, 4000):
        folder = tmp_path / str(pages)
        folder.mkdir()
        segs, keeps = _one_bigram_segments(folder, pages)
        tracemalloc.start()
        try:
            merge_segments(folder / "merged.grams", segs, keeps, 20_000)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert Segment(folder / "merged.grams").page_count == pages
    # 4x the postings of the one code (~200 entries a page), the same chunk: the peak is the
    # chunk's and the copy buffer's; only the per-page tables grow (page starts, keys, the
    # renumbering: ~300 bytes a page at the peak), not the entries (~100 bytes each decoded).
    assert peaks[1] - peaks[0] < 350 * 2 * 3000, peaks


def test_a_merge_by_chunks_holds_a_chunk_not_the_segments(tmp_path: Path):
    segs, keeps = _segments_to_merge(tmp_path, 1200, 19)  # ~720,000 entries
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        write_segment(tmp_path / "whole.grams",
                      merge_postings([(s.all_postings(), k) for s, k in zip(segs, keeps)]))
        in_memory = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        merge_segments(tmp_path / "chunked.grams", segs, keeps, 5_000)
        chunked = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "chunked.grams").read_bytes() == (tmp_path / "whole.grams").read_bytes()
    # 5 MB of it is fixed (the 4 MB buffer that copies the postings into place), 34 MB in memory
    assert chunked < in_memory / 4, (chunked, in_memory)
