"""The exact-occurrence index: where every character and character bigram occurs, in numpy.

It lives beside the Whoosh index (`index/grams/`) and answers one question exactly: on which
pages, and how often, does a string occur in the compact search form (simplified, width-folded,
lower-case, white space removed)? Whoosh keeps the jieba words for ranking and the metadata for
filters; this index replaces a Whoosh n-gram field, which in pure Python cost 3x the text on disk
and most of the build time, and could not say *where* a gram occurs without positions that made
phrase queries take hundreds of milliseconds.

Layout: each commit adds one immutable segment file; `manifest.json` lists the live ones and is
replaced atomically, so a reader sees either the old or the new list. A segment holds its pages'
compact texts laid end to end, with one empty position between pages, and for each

- bigram (code ``(c1 + 1) << 21 | c2``): every position where it starts, and
- character (code ``c`` < 2**21): every page it is on, with its count,

as varint-coded deltas, plus a sorted table of codes so a lookup is one binary search in a
memory-mapped array. A string of two or more characters occurs at position p exactly when each
of a set of its bigrams that covers all its characters occurs at p + offset; the one-position gap
between pages means such a chain never crosses a page boundary. No text is read to verify.

Pages are named by a 64-bit key (`page_key`). A key in a newer segment supersedes the same key in
older ones (a re-indexed page); which keys are live at all is for the Whoosh index to say.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

GRAMS_DIR = "grams"  # inside the Whoosh index folder
MANIFEST = "manifest.json"
SEGMENT_SUFFIX = ".grams"
_MAGIC = b"WSGRAM01"
_BIGRAM_BASE = 1 << 21  # codes below this are single characters (Unicode ends at 0x10FFFF)
PAGE_BITS = 20  # page_key = document sequence number << 20 | page number
_MANIFEST_RETRIES = 5
_COPY_BLOCK = 1 << 22

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def page_key(seq: int, page: int) -> int:
    """The 64-bit key of a page: its document's ingest sequence number and its page number."""
    if not 0 <= page < 1 << PAGE_BITS:
        raise ValueError(f"page number {page} out of range for a page key")
    return (seq << PAGE_BITS) | page


def code_points(compact: str) -> npt.NDArray[np.uint32]:
    """The code points of a string as a uint32 array (lone surrogates kept as they are)."""
    return np.frombuffer(compact.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def bigram_codes(cps: npt.NDArray[np.uint32]) -> U64:
    """Codes of the bigrams starting at each position but the last."""
    c = cps.astype(np.uint64)
    return ((c[:-1] + np.uint64(1)) << np.uint64(21)) | c[1:]


# -- varint coding (LEB128, vectorised) ----------------------------------------------------------


def _varint_lengths(values: U64) -> I64:
    n = np.ones(len(values), dtype=np.int64)
    for k in range(1, 10):
        n += values >= np.uint64(1 << (7 * k))
    return n


def encode_varints(values: U64) -> tuple[U8, I64]:
    """LEB128 bytes of `values` and the byte length of each value."""
    values = values.astype(np.uint64, copy=False)
    lengths = _varint_lengths(values)
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    for k in range(int(lengths.max()) if len(lengths) else 0):
        sel = np.flatnonzero(lengths > k)
        byte = (values[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[sel] + k] = (byte | more).astype(np.uint8)
    return out, lengths


def decode_varints(buf: U8) -> U64:
    """The values of a LEB128 byte string."""
    b = np.asarray(buf, dtype=np.uint8)
    last = b < 0x80
    if last.all():
        return b.astype(np.uint64)
    ends = np.flatnonzero(last)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    within = np.arange(len(b), dtype=np.int64) - np.repeat(starts, ends - starts + 1)
    parts = (b & 0x7F).astype(np.uint64) << (within.astype(np.uint64) * np.uint64(7))
    result: U64 = np.add.reduceat(parts, starts)
    return result


def _segmented_cumsum(values: U64, starts: I64) -> U64:
    """Cumulative sums restarting at each index in `starts` (sorted, starting with 0)."""
    total = np.cumsum(values, dtype=np.uint64)
    before = np.zeros(len(starts), dtype=np.uint64)
    before[1:] = total[starts[1:] - 1]
    lengths = np.diff(np.append(starts, len(values)))
    result: U64 = total - np.repeat(before, lengths)
    return result


def runs(sorted_values: I64) -> tuple[I64, I64]:
    """(distinct values, how often each occurs) of a sorted array; np.unique without numpy.ma."""
    v = np.asarray(sorted_values, dtype=np.int64)
    if not len(v):
        return v, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    counts = np.diff(np.append(starts, len(v)))
    return v[starts], counts.astype(np.int64)


# -- segments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postings:
    """The entries of one segment before coding: what a build or a merge produces."""

    uni_codes: U64  # sorted by (code, page)
    uni_pages: I64
    uni_counts: I64
    bi_codes: U64  # sorted by (code, position)
    bi_positions: I64
    page_starts: I64  # n_pages + 1 offsets; page i is [starts[i], starts[i + 1] - 1)
    page_keys: I64


def postings_for_pages(keys: Sequence[int], compacts: Sequence[str]) -> Postings:
    """Every character and bigram occurrence of some pages' compact texts."""
    arrays = [code_points(c) for c in compacts]
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    page_starts = np.zeros(len(arrays) + 1, dtype=np.int64)
    page_starts[1:] = np.cumsum(lengths + 1)
    # Each page followed by one gap position (code 0, never indexed).
    laid = np.zeros(int(page_starts[-1]), dtype=np.uint32)
    for start, arr in zip(page_starts[:-1], arrays):
        laid[start:start + len(arr)] = arr
    in_page = np.ones(len(laid), dtype=bool)
    in_page[page_starts[1:] - 1] = False
    # Bigrams: both characters inside the same page.
    starts_ok = in_page[:-1] & in_page[1:]
    bi_pos = np.flatnonzero(starts_ok).astype(np.int64)
    bi_all = bigram_codes(laid)
    bi_codes = bi_all[bi_pos]
    order = np.argsort(bi_codes, kind="stable")
    # Characters: (code, page) pairs with counts.
    page_of = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths + 1)
    chars = laid[in_page].astype(np.uint64)
    pages = page_of[in_page].astype(np.uint64)
    pair, counts = np.unique((chars << np.uint64(32)) | pages, return_counts=True)
    return Postings(
        uni_codes=pair >> np.uint64(32), uni_pages=(pair & np.uint64(0xFFFFFFFF)).astype(np.int64),
        uni_counts=counts.astype(np.int64), bi_codes=bi_codes[order], bi_positions=bi_pos[order],
        page_starts=page_starts, page_keys=np.asarray(keys, dtype=np.int64),
    )


def _with_values(delta: U64, values: U64 | None, first: I64) -> tuple[U64, I64]:
    """The numbers to code for a run of postings: each key's delta, followed by its value (the
    count of characters) where there are values; and where each term's numbers start."""
    if values is None:
        return delta, first
    coded = np.empty(2 * len(delta), dtype=np.uint64)
    coded[0::2] = delta
    coded[1::2] = values
    return coded, 2 * first


def _encode_terms(codes: U64, keys: I64, values: U64 | None) -> tuple[U64, U8, U64, I64]:
    """Varint-code one kind of entries sorted by (code, key): (terms, postings, byte lengths of
    each term's postings, entries of each term). A term's first key is stored as it is, the
    others as deltas; `values` (the counts of characters) follow each key."""
    terms, first, n = _runs_u64(codes)
    delta = np.diff(keys, prepend=0).astype(np.uint64)
    delta[first] = keys[first].astype(np.uint64)
    coded, value_starts = _with_values(delta, values, first)
    postings, lengths = encode_varints(coded)
    byte_ends = np.zeros(len(coded) + 1, dtype=np.uint64)
    byte_ends[1:] = np.cumsum(lengths)
    term_bytes: U64 = np.diff(np.append(byte_ends[value_starts], byte_ends[-1])).astype(np.uint64)
    return terms, postings, term_bytes, n


def _runs_u64(codes: U64) -> tuple[U64, I64, I64]:
    """(distinct codes, index of the first of each, how many) of a sorted code array."""
    if not len(codes):
        return codes, np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1]))).astype(np.int64)
    n = np.diff(np.append(first, len(codes))).astype(np.int64)
    return codes[first], first, n


def _encode(p: Postings) -> dict[str, np.ndarray]:
    """The arrays of a segment file: code table, byte offsets, entry counts, postings, pages."""
    uni = _encode_terms(p.uni_codes, p.uni_pages, p.uni_counts.astype(np.uint64))
    bi = _encode_terms(p.bi_codes, p.bi_positions, None)
    return _segment_arrays([uni, bi], p.page_starts, p.page_keys)


def _segment_arrays(parts: Sequence[tuple[U64, U8, U64, I64]], page_starts: I64,
                    page_keys: I64) -> dict[str, np.ndarray]:
    """The arrays of a segment file from coded parts in code order."""
    term_bytes = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.uint64)
    offsets = np.zeros(len(term_bytes) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(term_bytes, dtype=np.uint64)
    return {
        "codes": np.concatenate([p[0] for p in parts]).astype(np.uint64),
        "offsets": offsets,
        "counts": np.concatenate([p[3] for p in parts]).astype(np.uint32),
        "postings": np.concatenate([p[1] for p in parts]).astype(np.uint8),
        "page_starts": page_starts.astype(np.int64),
        "page_keys": page_keys.astype(np.int64),
    }


def write_segment(path: Path, postings: Postings) -> None:
    """Write a segment file (atomically: a reader never sees half of it)."""
    _write_file(path, _encode(postings))


@dataclass(frozen=True)
class _Spilled:
    """An array written to a file of its own while a merge made it, copied in at the end."""

    path: Path
    nbytes: int
    dtype: np.dtype[Any] = np.dtype(np.uint8)

    def __len__(self) -> int:
        return self.nbytes // self.dtype.itemsize


def _write_file(path: Path, arrays: Mapping[str, np.ndarray | _Spilled]) -> None:
    header: dict[str, object] = {}
    offset = 0
    for name, arr in arrays.items():
        offset = (offset + 7) // 8 * 8
        header[name] = [arr.dtype.str, len(arr), offset]
        offset += arr.nbytes
    head = json.dumps(header).encode()
    base = (len(_MAGIC) + 4 + len(head) + 7) // 8 * 8
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(_MAGIC + len(head).to_bytes(4, "little") + head)
        for name, arr in arrays.items():
            fh.seek(base + int(header[name][2]))  # type: ignore[index]
            if isinstance(arr, _Spilled):
                with open(arr.path, "rb") as src:
                    shutil.copyfileobj(src, fh, _COPY_BLOCK)
            else:
                fh.write(np.ascontiguousarray(arr).tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Segment:
    """One segment file, memory-mapped: lookups read only the pages of the file they touch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self._map = mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) if size else None
        if self._map is None or self._map[:len(_MAGIC)] != _MAGIC:
            raise ValueError(f"{path}: not a gram segment")
        head_len = int.from_bytes(self._map[8:12], "little")
        header = json.loads(self._map[12:12 + head_len])
        base = (12 + head_len + 7) // 8 * 8
        arrays = {name: np.frombuffer(self._map, dtype=np.dtype(dt), count=n, offset=base + off)
                  for name, (dt, n, off) in header.items()}
        self.codes: U64 = arrays["codes"]
        self.offsets: U64 = arrays["offsets"]
        self.counts: npt.NDArray[np.uint32] = arrays["counts"]
        self.postings: U8 = arrays["postings"]
        self.page_starts: I64 = arrays["page_starts"]
        self.page_keys: I64 = arrays["page_keys"]

    @property
    def page_count(self) -> int:
        """Pages in this segment (superseded ones included)."""
        return len(self.page_keys)

    @property
    def size(self) -> int:
        """Bytes of postings: what a merge has to rewrite."""
        return len(self.postings)

    def page_lengths(self) -> I64:
        """Length of each page's compact text."""
        lengths: I64 = np.diff(self.page_starts) - 1
        return lengths

    def _term(self, code: int) -> int:
        i = int(np.searchsorted(self.codes, np.uint64(code)))
        return i if i < len(self.codes) and int(self.codes[i]) == code else -1

    def _values(self, term: int) -> U64:
        return decode_varints(self.postings[int(self.offsets[term]):int(self.offsets[term + 1])])

    def char_pages(self, code: int) -> tuple[I64, I64]:
        """(pages, counts) of one character."""
        term = self._term(code)
        if term < 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pairs = self._values(term).reshape(-1, 2)
        return np.cumsum(pairs[:, 0]).astype(np.int64), pairs[:, 1].astype(np.int64)

    def bigram_positions(self, code: int) -> I64:
        """Sorted start positions of one bigram."""
        term = self._term(code)
        if term < 0:
            return np.zeros(0, np.int64)
        return np.cumsum(self._values(term)).astype(np.int64)

    def occurrences(self, cps: npt.NDArray[np.uint32]) -> tuple[I64, I64]:
        """(pages, counts): every page holding the string, and how often (overlaps counted)."""
        if len(cps) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if len(cps) == 1:
            return self.char_pages(int(cps[0]))
        codes = bigram_codes(cps)
        terms = [self._term(int(c)) for c in codes]
        if min(terms) < 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        # Rarest bigrams first; skip one whose two characters are already covered.
        order = sorted(range(len(codes)), key=lambda i: int(self.counts[terms[i]]))
        covered = np.zeros(len(cps), dtype=bool)
        starts: I64 | None = None
        for i in order:
            if covered[i] and covered[i + 1]:
                continue
            covered[i] = covered[i + 1] = True
            pos = np.cumsum(self._values(terms[i])).astype(np.int64) - i
            if starts is None:
                starts = pos
            else:
                idx = np.searchsorted(pos, starts)
                idx[idx == len(pos)] = 0
                starts = starts[pos[idx] == starts] if len(pos) else pos
            if len(starts) == 0:
                break
        assert starts is not None
        return runs(np.searchsorted(self.page_starts, starts, side="right") - 1)

    def all_postings(self) -> Postings:
        """Every entry of the segment, decoded (for a merge)."""
        values = decode_varints(self.postings)
        is_uni = self.codes < np.uint64(_BIGRAM_BASE)
        n_uni = int(is_uni.sum())
        counts = self.counts.astype(np.int64)
        uni_n, bi_n = counts[:n_uni], counts[n_uni:]
        uni_values = values[:2 * int(uni_n.sum())].reshape(-1, 2)
        bi_values = values[2 * int(uni_n.sum()):]
        uni_starts = (np.cumsum(uni_n) - uni_n).astype(np.int64)
        bi_starts = (np.cumsum(bi_n) - bi_n).astype(np.int64)
        uni_pages = (_segmented_cumsum(uni_values[:, 0].copy(), uni_starts) if len(uni_n)
                     else uni_values[:, 0])
        bi_pos = _segmented_cumsum(bi_values, bi_starts) if len(bi_n) else bi_values
        return Postings(
            uni_codes=np.repeat(self.codes[:n_uni], uni_n), uni_pages=uni_pages.astype(np.int64),
            uni_counts=uni_values[:, 1].astype(np.int64),
            bi_codes=np.repeat(self.codes[n_uni:], bi_n), bi_positions=bi_pos.astype(np.int64),
            page_starts=np.asarray(self.page_starts, dtype=np.int64),
            page_keys=np.asarray(self.page_keys, dtype=np.int64),
        )

    def release(self) -> None:
        """Drop the file's pages this process has read from its resident set (they stay in the
        page cache): a merge reads whole segments, which would otherwise all count as the
        writer's memory until the segment is closed."""
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        """Release the memory map (arrays taken from it must not be used afterwards)."""
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # numpy views still alive: the map goes with them
                pass


def merge_postings(parts: Sequence[tuple[Postings, npt.NDArray[np.bool_]]]) -> Postings:
    """One segment's entries from several, keeping only the pages each `keep` mask selects."""
    uni_codes, uni_pages, uni_counts, bi_codes, bi_pos, keys, lengths = [], [], [], [], [], [], []
    page_base = 0
    pos_base = 0
    for p, keep in parts:
        old_lengths = np.diff(p.page_starts)  # including the gap
        new_index = np.cumsum(keep) - 1 + page_base
        new_starts = pos_base + np.concatenate([[0], np.cumsum(old_lengths[keep])])[:-1]
        shift = np.full(len(keep), -1, dtype=np.int64)
        shift[keep] = new_starts - p.page_starts[:-1][keep]
        ok = keep[p.uni_pages]
        uni_codes.append(p.uni_codes[ok])
        uni_pages.append(new_index[p.uni_pages[ok]])
        uni_counts.append(p.uni_counts[ok])
        page = np.searchsorted(p.page_starts, p.bi_positions, side="right") - 1
        ok = keep[page]
        bi_codes.append(p.bi_codes[ok])
        bi_pos.append(p.bi_positions[ok] + shift[page[ok]])
        keys.append(p.page_keys[keep])
        lengths.append(old_lengths[keep])
        page_base += int(keep.sum())
        pos_base += int(old_lengths[keep].sum())
    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    page_starts = np.zeros(len(all_lengths) + 1, dtype=np.int64)
    page_starts[1:] = np.cumsum(all_lengths)
    u_codes = np.concatenate(uni_codes)
    u_order = np.argsort(u_codes, kind="stable")
    b_codes = np.concatenate(bi_codes)
    b_order = np.argsort(b_codes, kind="stable")
    return Postings(
        uni_codes=u_codes[u_order], uni_pages=np.concatenate(uni_pages)[u_order],
        uni_counts=np.concatenate(uni_counts)[u_order], bi_codes=b_codes[b_order],
        bi_positions=np.concatenate(bi_pos)[b_order], page_starts=page_starts,
        page_keys=np.concatenate(keys).astype(np.int64),
    )


# Bytes of postings a merge decodes at once (a range of codes, or a window of one very frequent
# bigram's postings). A merge holds ~MERGE_BYTES_PER_BYTE bytes for each (the entries decoded,
# renumbered, sorted and coded again; about two bytes of postings an entry): 4 MB here.
MERGE_CHUNK_BYTES = 1 << 20
_END_CODE = 1 << 63  # above every code
_MAX_VARINT = 10  # bytes of the longest LEB128 value (64 bits)


def merge_segments(path: Path, segs: Sequence[Segment], keeps: Sequence[npt.NDArray[np.bool_]],
                   chunk_bytes: int = MERGE_CHUNK_BYTES) -> None:
    """Write one segment holding the pages each `keep` mask selects from `segs` (oldest first),
    `chunk_bytes` of the segments' postings at a time: a range of codes, or, for a code whose
    postings alone are more, a window of them, segment by segment. The merged postings and
    code table go to files as they are made, so memory stays bounded by `chunk_bytes`, however
    big the segments or their vocabulary. The file is the one `write_segment(merge_postings(
    ...))` writes."""
    chunk_bytes = max(chunk_bytes, 2 * _MAX_VARINT)
    tables = []
    keys, lengths = [], []
    page_base = pos_base = 0
    for seg, keep in zip(segs, keeps):
        old_lengths = np.diff(np.asarray(seg.page_starts))  # including the gap
        new_index = np.cumsum(keep) - 1 + page_base
        new_starts = pos_base + np.concatenate([[0], np.cumsum(old_lengths[keep])])[:-1]
        shift = np.full(len(keep), -1, dtype=np.int64)
        shift[keep] = new_starts - np.asarray(seg.page_starts)[:-1][keep]
        tables.append((new_index.astype(np.int64), shift))
        keys.append(np.asarray(seg.page_keys)[keep])
        lengths.append(old_lengths[keep])
        page_base += int(keep.sum())
        pos_base += int(old_lengths[keep].sum())
    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    page_starts = np.zeros(len(all_lengths) + 1, dtype=np.int64)
    page_starts[1:] = np.cumsum(all_lengths)
    page_keys = (np.concatenate(keys) if keys else np.zeros(0, np.int64)).astype(np.int64)
    del keys, lengths, all_lengths

    stream = _TermStream(path)
    try:
        lo = 0
        while lo < _END_CODE:
            cap = _BIGRAM_BASE if lo < _BIGRAM_BASE else _END_CODE
            first = _first_code(segs, lo, cap)
            if first is None:
                lo = cap
                continue
            if _postings_bytes(segs, lo, first + 1) > chunk_bytes:
                for s, (seg, keep, table) in enumerate(zip(segs, keeps, tables)):
                    for codes, keys_, values in _term_windows(seg, keep, table, first,
                                                              chunk_bytes):
                        stream.add(codes, keys_, values)
                        seg.release()
                lo = first + 1
                continue
            hi = _range_end(segs, lo, first + 1, cap, chunk_bytes)
            stream.add(*_chunk_entries(segs, keeps, tables, lo, hi))
            for seg in segs:
                seg.release()
            lo = hi
        arrays = stream.close()
        arrays["page_starts"] = page_starts
        arrays["page_keys"] = page_keys
        _write_file(path, {name: arrays[name] for name in (
            "codes", "offsets", "counts", "postings", "page_starts", "page_keys")})
    finally:
        stream.remove()


def _postings_bytes(segs: Sequence[Segment], lo: int, hi: int) -> int:
    """Bytes of postings of the codes in [lo, hi), over all segments."""
    total = 0
    for seg in segs:
        i0, i1 = np.searchsorted(seg.codes, np.array([lo, hi], dtype=np.uint64))
        total += int(seg.offsets[i1]) - int(seg.offsets[i0])
    return total


def _first_code(segs: Sequence[Segment], lo: int, hi: int) -> int | None:
    """The smallest code in [lo, hi) any segment has."""
    found = None
    for seg in segs:
        i = int(np.searchsorted(seg.codes, np.uint64(lo)))
        if i < len(seg.codes) and int(seg.codes[i]) < hi:
            found = int(seg.codes[i]) if found is None else min(found, int(seg.codes[i]))
    return found


def _range_end(segs: Sequence[Segment], lo: int, least: int, cap: int, chunk_bytes: int) -> int:
    """The largest end in [least, cap] whose range [lo, end) holds at most `chunk_bytes` of
    postings (the range [lo, least) does), by bisection over the codes."""
    if _postings_bytes(segs, lo, cap) <= chunk_bytes:
        return cap
    good, bad = least, cap
    while bad - good > 1:
        mid = (good + bad) // 2
        if _postings_bytes(segs, lo, mid) <= chunk_bytes:
            good = mid
        else:
            bad = mid
    return good


def _term_windows(seg: Segment, keep: npt.NDArray[np.bool_], table: tuple[I64, I64], code: int,
                  chunk_bytes: int) -> Iterator[tuple[U64, I64, U64 | None]]:
    """The merged entries of one code in one segment, `chunk_bytes` of postings at a time."""
    term = seg._term(code)
    if term < 0:
        return
    new_index, shift = table
    uni = code < _BIGRAM_BASE  # a character's postings are (page delta, count) pairs
    start, end = int(seg.offsets[term]), int(seg.offsets[term + 1])
    page_starts = np.asarray(seg.page_starts)
    base = 0  # the page or position the window's first delta counts from
    while start < end:
        buf = np.asarray(seg.postings[start:min(start + chunk_bytes, end)])
        ends = np.flatnonzero(buf < 0x80)  # the last byte of each value
        whole = len(ends) - (len(ends) % 2 if uni else 0)  # values the window holds whole
        stop = start + int(ends[whole - 1]) + 1
        values = decode_varints(buf[:stop - start])
        del buf, ends
        if uni:
            pairs = values.reshape(-1, 2)
            pages = base + np.cumsum(pairs[:, 0]).astype(np.int64)
            base = int(pages[-1])
            ok = keep[pages]
            yield (np.full(int(ok.sum()), code, dtype=np.uint64), new_index[pages[ok]],
                   pairs[:, 1][ok].astype(np.uint64))
        else:
            pos = base + np.cumsum(values).astype(np.int64)
            base = int(pos[-1])
            page = np.searchsorted(page_starts, pos, side="right") - 1
            ok = keep[page]
            yield np.full(int(ok.sum()), code, dtype=np.uint64), pos[ok] + shift[page[ok]], None
        start = stop


class _TermStream:
    """A merged segment's postings and code table, written to files beside it as its entries
    arrive in (code, key) order, a chunk at a time; a code's entries may come in several chunks
    (a very frequent bigram): its postings continue and its row is written when it ends."""

    def __init__(self, path: Path) -> None:
        self.paths = {name: path.with_suffix(f".{name}.tmp")
                      for name in ("codes", "offsets", "counts", "postings")}
        self.files = {name: open(p, "wb") for name, p in self.paths.items()}
        self.terms = 0
        self.written = 0  # bytes of postings
        self.row_start = 0  # byte offset of the next row's postings
        self.open_row: tuple[int, int, int] | None = None  # (code, bytes, entries) of the last
        self.last_key = 0

    def add(self, codes: U64, keys: I64, values: U64 | None) -> None:
        """Append entries sorted by (code, key), all after the ones added before."""
        if not len(codes):
            return
        terms, first, n = _runs_u64(codes)
        delta = np.diff(keys, prepend=0).astype(np.uint64)
        delta[first] = keys[first].astype(np.uint64)
        row = self.open_row
        continues = row is not None and row[0] == int(terms[0])
        if continues:
            delta[0] = np.uint64(int(keys[0]) - self.last_key)
        coded, value_starts = _with_values(delta, values, first)
        del delta
        postings, lengths = encode_varints(coded)
        byte_ends = np.zeros(len(coded) + 1, dtype=np.uint64)
        byte_ends[1:] = np.cumsum(lengths)
        del coded, lengths
        term_bytes = np.diff(np.append(byte_ends[value_starts], byte_ends[-1])).astype(np.int64)
        self.files["postings"].write(postings.tobytes())
        self.written += len(postings)
        self.last_key = int(keys[-1])
        if row is not None:
            if continues:
                term_bytes[0] += row[1]
                n[0] += row[2]
            else:
                self._rows(np.array([row[0]], np.uint64), np.array([row[1]], np.int64),
                           np.array([row[2]], np.int64))
        self._rows(terms[:-1], term_bytes[:-1], n[:-1])
        self.open_row = (int(terms[-1]), int(term_bytes[-1]), int(n[-1]))

    def _rows(self, codes: U64, term_bytes: I64, n: I64) -> None:
        if not len(codes):
            return
        ends = self.row_start + np.cumsum(term_bytes)
        self.files["codes"].write(codes.astype("<u8").tobytes())
        self.files["offsets"].write((ends - term_bytes).astype("<u8").tobytes())
        self.files["counts"].write(n.astype("<u4").tobytes())
        self.row_start = int(ends[-1])
        self.terms += len(codes)

    def close(self) -> dict[str, np.ndarray | _Spilled]:
        """Write the last row; the spilled arrays of the segment file."""
        if self.open_row is not None:
            code, nbytes, n = self.open_row
            self._rows(np.array([code], np.uint64), np.array([nbytes], np.int64),
                       np.array([n], np.int64))
            self.open_row = None
        self.files["offsets"].write(np.array([self.row_start], "<u8").tobytes())
        if self.row_start != self.written:
            raise AssertionError("merged postings and code table disagree")
        for fh in self.files.values():
            fh.close()
        return {
            "codes": _Spilled(self.paths["codes"], 8 * self.terms, np.dtype(np.uint64)),
            "offsets": _Spilled(self.paths["offsets"], 8 * (self.terms + 1),
                                np.dtype(np.uint64)),
            "counts": _Spilled(self.paths["counts"], 4 * self.terms, np.dtype(np.uint32)),
            "postings": _Spilled(self.paths["postings"], self.written),
        }

    def remove(self) -> None:
        """Delete the files (after they have been copied into the segment, or on failure)."""
        for fh in self.files.values():
            fh.close()
        for p in self.paths.values():
            p.unlink(missing_ok=True)


def _chunk_entries(segs: Sequence[Segment], keeps: Sequence[npt.NDArray[np.bool_]],
                   tables: Sequence[tuple[I64, I64]], lo: int,
                   hi: int) -> tuple[U64, I64, U64 | None]:
    """The merged entries with codes in [lo, hi), sorted by (code, page or position)."""
    uni = hi <= _BIGRAM_BASE
    codes_, keys_, values_ = [], [], []
    for seg, keep, (new_index, shift) in zip(segs, keeps, tables):
        i0 = int(np.searchsorted(seg.codes, np.uint64(lo)))
        i1 = int(np.searchsorted(seg.codes, np.uint64(hi)))
        if i0 == i1:
            continue
        values = decode_varints(seg.postings[int(seg.offsets[i0]):int(seg.offsets[i1])])
        n = seg.counts[i0:i1].astype(np.int64)
        starts = (np.cumsum(n) - n).astype(np.int64)
        codes = np.repeat(np.asarray(seg.codes[i0:i1]), n)
        if uni:
            pairs = values.reshape(-1, 2)
            pages = _segmented_cumsum(pairs[:, 0].copy(), starts).astype(np.int64)
            ok = keep[pages]
            codes_.append(codes[ok])
            keys_.append(new_index[pages[ok]])
            values_.append(pairs[:, 1][ok])
        else:
            pos = _segmented_cumsum(values, starts).astype(np.int64)
            del values
            page = np.searchsorted(np.asarray(seg.page_starts), pos, side="right") - 1
            ok = keep[page]
            codes_.append(codes[ok])
            keys_.append(pos[ok] + shift[page[ok]])
    if not codes_:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64), None
    all_codes = np.concatenate(codes_)
    del codes_
    order = np.argsort(all_codes, kind="stable")
    all_keys = np.concatenate(keys_)[order]
    del keys_
    all_values = np.concatenate(values_)[order].astype(np.uint64) if uni else None
    return all_codes[order], all_keys, all_values


# -- the index: manifest + segments --------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
        return data
    except FileNotFoundError:
        return {"segments": [], "next": 1}


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest))
    os.replace(tmp, folder / MANIFEST)


class GramReader:
    """The live segments of a gram index, newest last."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for attempt in range(_MANIFEST_RETRIES):
            manifest = _read_manifest(folder)
            try:
                self.segments = [Segment(folder / str(name)) for name in manifest["segments"]]
                break
            except FileNotFoundError:  # a merge replaced a segment between the two reads
                if attempt == _MANIFEST_RETRIES - 1:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        """Release the segment files."""
        for seg in self.segments:
            seg.close()

    def __enter__(self) -> "GramReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GramWriter:
    """Adds segments and merges them. Only the library's single writer (ingest lock) uses it."""

    merge_ratio = 1.0  # merge the newest two while the older is no bigger than this x the newer
    max_segments = 12

    def __init__(self, folder: Path, chunk_bytes: int = MERGE_CHUNK_BYTES) -> None:
        self.folder = folder
        self.chunk_bytes = chunk_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self.manifest = _read_manifest(folder)
        # A writer killed while it wrote a segment leaves its temporary files behind (the
        # manifest never named them); the ingest lock says no other writer is at work.
        for stray in folder.glob("*.tmp"):
            stray.unlink(missing_ok=True)

    @property
    def names(self) -> list[str]:
        """Segment file names, oldest first."""
        return [str(name) for name in self.manifest["segments"]]

    def _new_name(self) -> str:
        n = int(self.manifest.get("next", 1))
        self.manifest["next"] = n + 1
        return f"seg-{n:06d}{SEGMENT_SUFFIX}"

    def add(self, keys: Sequence[int], compacts: Sequence[str]) -> None:
        """Index some pages as a new segment and publish it."""
        if not keys:
            return
        name = self._new_name()
        write_segment(self.folder / name, postings_for_pages(keys, compacts))
        self.manifest["segments"] = self.names + [name]
        _write_manifest(self.folder, self.manifest)

    def maintain(self, live_keys: Callable[[], I64] | None = None) -> None:
        """Merge segments so there stay few of them (logarithmically many in the page count).

        `live_keys` returns the page keys the Whoosh index holds; a merge drops the others.
        """
        live: I64 | None = None
        while True:
            segs = [Segment(self.folder / n) for n in self.names]
            try:
                take = self._to_merge(segs)
                if take < 2:
                    return
                if live is None and live_keys is not None:
                    live = live_keys()
                self._merge(segs, take, live)
            finally:
                for s in segs:
                    s.close()

    def purge(self, dead_keys: Sequence[int]) -> int:
        """Rewrite the segments that hold any of these page keys without them (the pages of
        removed documents), each replaced in place; returns the pages dropped."""
        dead = np.asarray(sorted(dead_keys), dtype=np.int64)
        dropped = 0
        for name in self.names:
            seg = Segment(self.folder / name)
            names = self.names
            try:
                hit = np.isin(np.asarray(seg.page_keys), dead)
                if not hit.any():
                    continue
                if hit.all():
                    names.remove(name)
                else:  # rewritten a chunk at a time, like a merge
                    new = self._new_name()
                    merge_segments(self.folder / new, [seg], [~hit], self.chunk_bytes)
                    names[names.index(name)] = new
            finally:
                seg.close()
            dropped += int(hit.sum())
            self.manifest["segments"] = names
            _write_manifest(self.folder, self.manifest)
            (self.folder / name).unlink(missing_ok=True)
        return dropped

    def _to_merge(self, segs: list[Segment]) -> int:
        take = 1
        while take < len(segs):
            newer = sum(s.size for s in segs[-take:])
            if segs[-take - 1].size > self.merge_ratio * newer:
                break
            take += 1
        if take < 2 and len(segs) > self.max_segments:
            take = len(segs) - self.max_segments + 1
        return take

    def _merge(self, segs: list[Segment], take: int, live_keys: I64 | None) -> None:
        merged, kept = segs[-take:], segs[:-take]
        newer: I64 = np.zeros(0, np.int64)
        keeps: list[npt.NDArray[np.bool_]] = []
        for seg in reversed(merged):  # newest first: a key seen in a newer segment supersedes
            keys = np.asarray(seg.page_keys)
            keep = ~np.isin(keys, newer)
            if live_keys is not None:
                keep &= np.isin(keys, live_keys)
            keeps.append(keep)
            newer = np.union1d(newer, keys)
        keeps.reverse()
        name = self._new_name()
        merge_segments(self.folder / name, merged, keeps, self.chunk_bytes)
        self.manifest["segments"] = [s.name for s in kept] + [name]
        _write_manifest(self.folder, self.manifest)
        for seg in merged:
            (self.folder / seg.name).unlink(missing_ok=True)
