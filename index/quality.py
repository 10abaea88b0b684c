"""Page quality: which stored pages need proofreading (需校对).

The one rule `show`, `stats` and the manuscript exports apply; change it here only. An OCR page
stored without error, that no editor marked 已校对 (index/proofreading.py), whose estimated
character error rate (pipeline/page/quality.py, issue 19) is above `LIST_RATE`, or whose
mean word confidence is below the configured threshold (`--proofread-threshold` /
WENSHI_PROOFREAD_THRESHOLD, 70 by default: the earlier rule, kept as a floor; a page stored
before the estimate existed, until `wenshi reindex` gives it one, is listed by it alone).
"""

from __future__ import annotations

from typing import Protocol, Sequence

from pipeline.page.quality import LIST_RATE
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

    @property
    def error_rate(self) -> float | None: ...  # noqa: E704 - the quality estimate, if any

    @property
    def quality_reasons(self) -> Sequence[str]: ...  # noqa: E704 - the estimate's reason codes


def needs_proofreading(page: StoredPage, threshold: float) -> bool:
    """需校对: an OCR page, stored without error, not marked 已校对 (proofread), whose estimated
    error rate is above LIST_RATE, or whose mean word confidence is below `threshold`."""
    if page.proofread or page.method != METHOD_OCR or page.error:
        return False
    if page.error_rate is not None and page.error_rate > LIST_RATE:
        return True
    return page.confidence is not None and page.confidence < threshold


def candidates_sql(threshold: float) -> tuple[str, tuple[float, float]]:
    """A condition on the catalog's `pages p` (with its arguments) that every page
    `needs_proofreading` lists meets: it only narrows what the rule reads (a 1亿字 library has
    ~300,000 pages, a tenth of them listed), the rule still decides. Change both together."""
    return (f"p.method = '{METHOD_OCR}' AND p.error = ''"
            " AND (p.error_rate > ? OR p.confidence < ?)", (LIST_RATE, threshold))

