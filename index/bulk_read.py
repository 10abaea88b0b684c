"""Whoosh columns and postings read in bulk, as numpy arrays.

Ranking a common word touches thousands of postings; Whoosh's matcher hands them out one call at
a time (microseconds each in pure Python). These functions read whole posting blocks and whole
columns through whoosh-reloaded 2.7.5's W3 codec (pinned in setup.cfg) and fall back to the
public one-at-a-time API for anything else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.util.numeric import _length_byte_cache

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_LENGTH_OF_BYTE = np.array(_length_byte_cache, dtype=np.float64)


def _raw_column(creader: Any, count: int, dtype: str, default: int) -> npt.NDArray[Any]:
    """All values of a fixed-width Whoosh column as one array (falls back to item access)."""
    out = np.full(count, default, dtype=np.dtype(dtype).newbyteorder("="))
    dbfile = getattr(creader, "_dbfile", None)
    fixed = getattr(creader, "_fixedlen", None)
    stored = getattr(creader, "_count", None)
    base = getattr(creader, "_basepos", None)
    if (dbfile is not None and fixed == np.dtype(dtype).itemsize
            and stored is not None and base is not None):
        n = min(int(stored), count)
        if n:
            out[:n] = np.frombuffer(dbfile.get(base, n * fixed), dtype=dtype)
        return out
    for i in range(count):
        out[i] = creader[i]
    return out


def hold_segment_files(reader: IndexReader) -> None:
    """Open now every per-document file of each segment that a search reads later (stored
    fields, columns, field lengths), and answer the segment's later "has this column?" questions
    from what was opened.

    Whoosh opens these files on first use and asks the file system, each time, whether a column
    file exists. A commit deletes the files of the segments it merged away; a searcher that
    opened the generation before then, then touched a column, found it missing: stored fields
    came back as None (TypeError), a column reader skipped the segment (IndexError), a page key
    column read as zeros (pages silently missing). Files opened before the deletion stay
    readable; the caller checks that no commit came before they were all open
    (`LibraryFolder.search_context`)."""
    for sub, _ in reader.leaf_readers():
        perdoc = getattr(sub, "_perdoc", None)
        if perdoc is None or not hasattr(perdoc, "_cached_reader"):
            continue  # not a W3 segment: nothing is opened late
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, _lenfield

        schema = sub.schema
        perdoc._cached_reader("_stored", STORED_COLUMN)
        for name in schema.names():
            field = schema[name]
            if field.scorable:
                perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)
            if field.column_type and perdoc.has_column(name):
                perdoc.column_reader(name, field.column_type)
        held = frozenset(perdoc._colfiles) | frozenset(perdoc._readers)
        perdoc.has_column = held.__contains__


def page_key_array(reader: IndexReader) -> Ints:
    """The gram page key of every Whoosh document number (0 where there is none)."""
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        if sub.has_column("pk"):
            parts.append(_raw_column(sub.column_reader("pk", translate=False), n, ">i8", 0))
        else:
            parts.append(np.zeros(n, dtype=np.int64))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def int_column(reader: IndexReader, name: str, typecode: str, default: int) -> Ints:
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        if sub.has_column(name):
            parts.append(_raw_column(sub.column_reader(name, translate=False), n, typecode,
                                     default))
        else:
            parts.append(np.full(n, default, dtype=np.int64))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def field_lengths(reader: IndexReader, fieldname: str) -> Floats:
    """Each document's length in a scorable field (Whoosh keeps it as one lossy byte)."""
    parts = []
    for sub, _ in reader.leaf_readers():
        n = sub.doc_count_all()
        perdoc = getattr(sub, "_perdoc", None)
        creader = None
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            creader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if creader is not None:
            parts.append(_LENGTH_OF_BYTE[_raw_column(creader, n, "u1", 0)])
        else:
            lengths = [sub.doc_field_length(d, fieldname, 0) for d in range(n)]
            parts.append(np.array(lengths, dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros(0, np.float64)


def postings(reader: IndexReader, fieldname: str, text: str) -> tuple[Ints, Floats]:
    """(document numbers, weights) of a term, block by block rather than posting by posting."""
    ids: list[Ints] = []
    weights: list[Floats] = []
    for sub, base in reader.leaf_readers():
        try:
            m = sub.postings(fieldname, text)
        except TermNotFound:
            continue
        if isinstance(m, W3LeafMatcher):
            while True:
                m._read_data()
                block_ids = np.cumsum(np.asarray(m._data[0], dtype=np.int64))
                w = m._data[1]
                ids.append(block_ids + base)
                weights.append(np.ones(len(block_ids)) if w is None else
                               np.full(len(block_ids), float(w)) if isinstance(w, float) else
                               np.asarray(w, dtype=np.float64))
                if m._lastblock:
                    break
                m._goto(m._nextoffset)
        else:
            found = []
            while m.is_active():
                found.append((m.id(), m.weight()))
                m.next()
            if found:
                ids.append(np.array([d for d, _ in found], dtype=np.int64) + base)
                weights.append(np.array([w for _, w in found], dtype=np.float64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    return np.concatenate(ids), np.concatenate(weights)
