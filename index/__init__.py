"""The library: catalog (SQLite, source of truth), Whoosh index (derived), exports, and the
public API, `Library` (index/api.py): `from index import Library`.

`Library` is imported on first use, so that importing a light module of this package (results,
records, the export format names) does not import Whoosh, numpy or the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Library

__all__ = ["Library"]


def __getattr__(name: str) -> Any:
    if name == "Library":
        from .api import Library

        return Library
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
