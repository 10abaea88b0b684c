"""Page quality: which stored pages need proofreading (需校对).

The one rule `show`, `stats` and the manuscript exports apply; change it here only. Today: an OCR
page stored without error whose mean word confidence is below the configured threshold
(`--proofread-threshold` / WENSHI_PROOFREAD_THRESHOLD, 70 by default), unless an editor
marked it 已校对 (index/proofreading.py).
"""

from __future__ import annotations

from typing import Protocol

from pipeline.records import METHOD_OCR


class StoredPage(Protocol):
    """What the rule reads of a stored page (a catalog `PageRow` has it)."""

    @property
    def method(self) -> str: ...  # noqa: E704 - a protocol's member

    @property
    def confidence(self) -> float | None: ...  # noqa: E704

    @property
    def error(self) -> str: ...  # noqa: E704

    @property
    def proofread(self) -> bool: ...  # noqa: E704 - 已校对: an editor marked it proofread


def needs_proofreading(page: StoredPage, threshold: float) -> bool:
    """需校对: an OCR page, stored without error, whose mean word confidence is below
    `threshold`, and that no editor has marked 已校对 (proofread)."""
    return (not page.proofread and page.method == METHOD_OCR and not page.error
            and page.confidence is not None and page.confidence < threshold)
