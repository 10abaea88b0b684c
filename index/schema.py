"""The one Whoosh schema. Bump SCHEMA_VERSION on any change to fields or analysis."""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

from .analysis import CharGramField, chinese_analyzer

SCHEMA_VERSION = 1

# Tag fields filled from the catalog (metadata + automatic tags); comma-separated keywords.
TAG_FIELDS = ("person", "place", "organization", "subject", "keyword")


def build_schema() -> Schema:
    """A Whoosh document is one page, id 'doc_id#page', carrying its document's metadata."""
    return Schema(
        id=ID(stored=True, unique=True),
        doc_id=ID(stored=True),
        page=NUMERIC(int, stored=True, signed=False),
        collection=ID(stored=True),
        title=TEXT(analyzer=chinese_analyzer(), stored=True, field_boost=2.0),
        # Words for ranking; phrase=False: exact strings are answered by `grams`, so word
        # positions would only cost disk.
        text=TEXT(analyzer=chinese_analyzer(), phrase=False),
        grams=CharGramField(),
        contributor=ID(stored=True),
        doctype=ID(stored=True),
        period=ID(stored=True),
        year=NUMERIC(int, signed=False),
        person=KEYWORD(commas=True, lowercase=True),
        place=KEYWORD(commas=True, lowercase=True),
        organization=KEYWORD(commas=True, lowercase=True),
        subject=KEYWORD(commas=True),
        keyword=KEYWORD(commas=True, lowercase=True),
        ingest_seq=NUMERIC(int, stored=True, signed=False),
    )
