"""The reading room (`wenshi serve`): a Starlette app over a library, read-only."""

from __future__ import annotations

from .app import build_app
from .server import serve

__all__ = ["build_app", "serve"]
