"""Automatic tags of a document, with the library's own dictionaries and the archivist's fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.metadata import TAG_OVERRIDES

USER_DICT_FILE = "userdict.txt"
SUBJECTS_FILE = "subjects.tsv"
OVERRIDE_PREFIX = "tag."


def library_dictionaries(library_root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(user dictionaries, subject lexicons) the library adds to the bundled ones."""
    user = library_root / USER_DICT_FILE
    subjects = library_root / SUBJECTS_FILE
    return ((str(user),) if user.is_file() else (), (str(subjects),) if subjects.is_file() else ())


def tags_for_text(text: str, title: str, library_root: Path, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """The tags object stored in the catalog: computed, then corrected by `tag.*` overrides."""
    from pipeline.tagging import TagOptions, tag_text

    user_dicts, lexicons = library_dictionaries(library_root)
    tags = tag_text(text, title, TagOptions(user_dicts=user_dicts, subject_lexicons=lexicons)).to_dict()
    for key, value in (metadata or {}).items():
        if key.startswith(OVERRIDE_PREFIX) and key[len(OVERRIDE_PREFIX):] in TAG_OVERRIDES:
            tags[key[len(OVERRIDE_PREFIX):]] = _override_value(key[len(OVERRIDE_PREFIX):], value)
    return tags


def _override_value(name: str, value: str) -> Any:
    items = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    if name == "period":
        return value.strip()
    if name == "years":
        return sorted({int(v) for v in items if v.isdigit()})
    if name in ("persons", "places", "organizations"):
        return [[v, 1] for v in items]
    return items
