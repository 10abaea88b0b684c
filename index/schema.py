"""The one Whoosh schema. Bump SCHEMA_VERSION on any change to fields or analysis.

Exact occurrences are not in Whoosh: `index/grams.py` keeps them beside it, under the same
version. Whoosh holds the jieba words (ranking), the metadata and tags (filters, facets) and a
few per-page columns that sorting and grouping read in bulk.
"""

from __future__ import annotations

from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, FieldType, Schema

from pipeline.records import TAG_KINDS, TERMS, TEXT, YEARS

from .analysis import WordsField

# 2: character grams moved out of Whoosh into the positional gram index; pre-counted words;
#    page key, sort year and sort title columns; collection indexed in the search normal form.
SCHEMA_VERSION = 2

NO_YEAR = 0  # sort_year of a page whose document names no year


def build_schema() -> Schema:
    """A Whoosh document is one page, id 'doc_id#page', carrying its document's metadata and
    tags (one field per tag kind, `pipeline.records.TAG_KINDS`)."""
    return Schema(
        id=ID(stored=True, unique=True),
        doc_id=ID(stored=True),
        page=STORED(),
        # Indexed in the search normal form (either script finds it), stored as written.
        collection=ID(stored=True),
        title=WordsField(stored=True, field_boost=2.0),
        # Words for ranking only: exact strings are answered by the gram index.
        text=WordsField(),
        contributor=ID(stored=True),
        ingest_seq=STORED(),
        # Per-page columns read in bulk: the gram index's page key (ingest order, page order),
        # the earliest year named, and a pinyin sort key of the title.
        pk=COLUMN(NumericColumn("q", default=0)),
        sort_year=COLUMN(NumericColumn("i", default=NO_YEAR)),
        sort_title=COLUMN(VarBytesColumn()),
        **{kind.index_field: _tag_field(kind.shape) for kind in TAG_KINDS},
    )


def _tag_field(shape: str) -> FieldType:
    if shape == YEARS:
        return NUMERIC(int, bits=16, signed=False, shift_step=0)  # one term a year
    if shape == TEXT:
        return ID(stored=True)
    # Comma-separated values in the search normal form; names and free words lower-cased.
    return KEYWORD(commas=True, lowercase=shape != TERMS)
