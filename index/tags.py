"""Automatic tags of a document, with the library's own dictionaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalog import char_count


def tags_for_text(text: str, title: str, library_root: Path) -> dict[str, Any]:
    """The tags object stored in the catalog for one document."""
    return {"char_count": char_count(text)}
