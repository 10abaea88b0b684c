"""The reading room's URL scheme, in one place: the HTML pages, the images and the IIIF ids share
it (a IIIF canvas id is the page's own URL; an image service id is the image's base URL).

    /                                   search page (query box, collections)
    /search?q=...&collection=...&page=2  results, facets as parameters
    /doc/DOC_ID                         document view: record, tags, pages as thumbnails
    /doc/DOC_ID/PAGE?q=...              page view: scan with hits outlined, text with hits marked
    /proofread?collection=...&page=2    the 需校对 list: most estimated errors first, per collection
    /iiif/image/DOC_ID-PAGE/info.json   IIIF Image API 3, level 0 (sizes kept at ingest)
    /iiif/image/DOC_ID-PAGE/full/W,H/0/default.jpg   (also full/max/0/default.jpg)
    /iiif/DOC_ID/manifest.json          IIIF Presentation 3 manifest
    /iiif/DOC_ID/search?q=...           IIIF Content Search 2.0
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import quote, urlencode

DOC_ID = re.compile(r"[0-9a-f]{16}")
IMAGE_ID = re.compile(r"([0-9a-f]{16})-([1-9][0-9]{0,5})")
SIZE = re.compile(r"([1-9][0-9]{0,5}),([1-9][0-9]{0,5})")

# Facet parameters of /search and the query filter each one adds.
FACET_PARAMS = ("collection", "decade", "period", "subject", "person", "place", "doctype")


def search_url(query: str = "", filters: Mapping[str, str] | None = None, page: int = 1) -> str:
    """A shareable search URL."""
    params = [("q", query)] if query else []
    params += [(k, v) for k, v in (filters or {}).items() if v]
    if page > 1:
        params.append(("page", str(page)))
    return "/search?" + urlencode(params) if params else "/"


def proofread_url(collection: str | None = None, page: int = 1) -> str:
    """The 需校对 list, of one collection or of the whole library."""
    params = [("collection", collection)] if collection else []
    if page > 1:
        params.append(("page", str(page)))
    return "/proofread" + (f"?{urlencode(params)}" if params else "")


def document_url(doc_id: str) -> str:
    """The document view."""
    return f"/doc/{doc_id}"


def page_url(doc_id: str, number: int, query: str = "") -> str:
    """The page view, with the query whose matches it marks."""
    return f"/doc/{doc_id}/{number}" + (f"?{urlencode({'q': query})}" if query else "")


def image_id(doc_id: str, number: int) -> str:
    """The IIIF image identifier of a page."""
    return f"{doc_id}-{number}"


def image_service(base: str, doc_id: str, number: int) -> str:
    """The IIIF Image API service id (base URL) of a page's image."""
    return f"{base}/iiif/image/{image_id(doc_id, number)}"


def image_url(doc_id: str, number: int, width: int, height: int, base: str = "") -> str:
    """One kept size of a page's image."""
    return f"{base}/iiif/image/{image_id(doc_id, number)}/full/{width},{height}/0/default.jpg"


def manifest_url(base: str, doc_id: str) -> str:
    """The IIIF Presentation 3 manifest of a document."""
    return f"{base}/iiif/{doc_id}/manifest.json"


def canvas_id(base: str, doc_id: str, number: int) -> str:
    """The IIIF canvas id of a page: the page view's URL."""
    return f"{base}{page_url(doc_id, number)}"


def content_search_url(base: str, doc_id: str, query: str | None = None) -> str:
    """The IIIF Content Search 2.0 service of a document (with a query: its answer)."""
    url = f"{base}/iiif/{doc_id}/search"
    return url + (f"?q={quote(query)}" if query is not None else "")
