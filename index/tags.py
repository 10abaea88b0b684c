"""Automatic tags of a document, with the library's own dictionaries and the archivist's fixes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.records import TAG_OVERRIDES, Tags

USER_DICT_FILE = "userdict.txt"
SUBJECTS_FILE = "subjects.tsv"
OVERRIDE_PREFIX = "tag."


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
            pos_pairs: Sequence[tuple[str, str]] | None = None) -> Tags:
        """The tags stored in the catalog: computed, then corrected by `tag.*` overrides."""
        from pipeline.text.tagging import TagOptions, tag_text

        options = TagOptions(user_dicts=self.user_dicts, subject_lexicons=self.subject_lexicons)
        tags = tag_text(text, title, options, pos_pairs)
        for key, value in self.metadata:
            name = key[len(OVERRIDE_PREFIX):]
            if key.startswith(OVERRIDE_PREFIX) and name in TAG_OVERRIDES:
                tags = tags.corrected(name, value)
        return tags


def tag_job(library_root: Path, metadata: dict[str, str] | None = None) -> TagJob:
    """The tagging of a document of this library with these catalog fields."""
    user_dicts, lexicons = library_dictionaries(library_root)
    return TagJob(user_dicts, lexicons, tuple((metadata or {}).items()))


def tags_for_text(text: str, title: str, library_root: Path,
                  metadata: dict[str, str] | None = None) -> Tags:
    """The tags stored in the catalog: computed, then corrected by `tag.*` overrides."""
    return tag_job(library_root, metadata).run(text, title)
