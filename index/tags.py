"""Automatic tags of a document, with the library's own dictionaries and the archivist's fixes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pipeline.run.metadata import TAG_OVERRIDES

USER_DICT_FILE = "userdict.txt"
SUBJECTS_FILE = "subjects.tsv"
OVERRIDE_PREFIX = "tag."
# The tags of a complete document the index workers have still to tag
# (see LibraryFolder.finish_document).
PENDING_TAGS = {"pending": True}


def tags_pending(tags: dict[str, Any]) -> bool:
    """True for the tags of a document that is still to be tagged."""
    return bool(tags.get("pending"))


def library_dictionaries(library_root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(user dictionaries, subject lexicons) the library adds to the bundled ones."""
    user = library_root / USER_DICT_FILE
    subjects = library_root / SUBJECTS_FILE
    return ((str(user),) if user.is_file() else (), (str(subjects),) if subjects.is_file() else ())


@dataclass(frozen=True)
class TagJob:
    """What tagging one document needs besides its text; plain values, so a worker can run it."""

    user_dicts: tuple[str, ...]
    subject_lexicons: tuple[str, ...]
    # the document's catalog fields, `tag.*` overrides among them
    metadata: tuple[tuple[str, str], ...]

    def run(self, text: str, title: str,
            pos_pairs: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
        """The tags object stored in the catalog: computed, then corrected by `tag.*` overrides."""
        from pipeline.text.tagging import TagOptions, tag_text

        options = TagOptions(user_dicts=self.user_dicts, subject_lexicons=self.subject_lexicons)
        tags = tag_text(text, title, options, pos_pairs).to_dict()
        for key, value in self.metadata:
            if key.startswith(OVERRIDE_PREFIX) and key[len(OVERRIDE_PREFIX):] in TAG_OVERRIDES:
                tags[key[len(OVERRIDE_PREFIX):]] = _override_value(key[len(OVERRIDE_PREFIX):],
                                                                   value)
        return tags


def tag_job(library_root: Path, metadata: dict[str, str] | None = None) -> TagJob:
    """The tagging of a document of this library with these catalog fields."""
    user_dicts, lexicons = library_dictionaries(library_root)
    return TagJob(user_dicts, lexicons, tuple((metadata or {}).items()))


def tags_for_text(text: str, title: str, library_root: Path,
                  metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """The tags object stored in the catalog: computed, then corrected by `tag.*` overrides."""
    return tag_job(library_root, metadata).run(text, title)


def _override_value(name: str, value: str) -> Any:
    items = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    if name == "period":
        return value.strip()
    if name == "years":
        return sorted({int(v) for v in items if v.isdigit()})
    if name in ("persons", "places", "organizations"):
        return [[v, 1] for v in items]
    return items
