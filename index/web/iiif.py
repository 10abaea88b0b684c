"""IIIF answers as data: Image API 3 (level 0) info.json, a Presentation 3 manifest per
document built with iiif-prezi3's models, and Content Search 2.0 answers whose annotations
target the canvas region (#xywh=) of each hit. Ids come from urls.py, shared with the HTML.

Canvases are in the scan's pixels (as read at ingest): the ALTO boxes, the page view's hit boxes
and the search answers' regions all use them. The kept images may be smaller (at most
READING_LONG_SIDE on the long side); their sizes are listed in the image service.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..catalog import ImageSize
from ..hitboxes import Box
from ..reading import DocumentView, PageSummary
from . import urls
from .format import record_fields

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH_CONTEXT = "http://iiif.io/api/search/2/context.json"
LEVEL0 = "level0"


def image_info(base: str, doc_id: str, number: int, sizes: Sequence[ImageSize]) -> dict[str, Any]:
    """info.json of a page's image service: level 0, the kept sizes, no tiles."""
    largest = sizes[0]
    return {
        "@context": IMAGE_CONTEXT,
        "id": urls.image_service(base, doc_id, number),
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": LEVEL0,
        "width": largest.width,
        "height": largest.height,
        "sizes": [{"width": s.width, "height": s.height} for s in reversed(sizes)],
        "preferredFormats": ["jpg"],
    }


def _lang(text: str) -> dict[str, list[str]]:
    return {"zh": [text]}


def manifest(base: str, document: DocumentView) -> dict[str, Any]:
    """The Presentation 3 manifest of a document: one canvas per scanned page (text pages have
    no image to paint and are left out), catalog metadata, a Content Search 2.0 service."""
    import warnings

    with warnings.catch_warnings():  # iiif-prezi3 3.1 imports with pydantic 2 deprecation notes
        warnings.simplefilter("ignore")
        from iiif_prezi3 import Annotation, AnnotationPage, Canvas, KeyValueString, Manifest

    doc = document.doc
    canvases = []
    for page in document.pages:
        if not page.images or not page.width or not page.height:
            continue
        canvas_id = urls.canvas_id(base, doc.doc_id, page.number)
        largest = page.images[0]
        body = {
            "id": urls.image_url(doc.doc_id, page.number, largest.width, largest.height, base),
            "type": "Image", "format": "image/jpeg",
            "width": largest.width, "height": largest.height,
            "service": [{"id": urls.image_service(base, doc.doc_id, page.number),
                         "type": "ImageService3", "profile": LEVEL0}],
        }
        thumb = page.images[-1]
        canvases.append(Canvas(
            id=canvas_id, label=_lang(f"第{page.number}页"), width=page.width, height=page.height,
            thumbnail=[{"id": urls.image_url(doc.doc_id, page.number, thumb.width, thumb.height,
                                             base),
                        "type": "Image", "format": "image/jpeg",
                        "width": thumb.width, "height": thumb.height}],
            items=[AnnotationPage(id=f"{canvas_id}/page", items=[Annotation(
                id=f"{canvas_id}/image", motivation="painting", body=body, target=canvas_id)])],
        ))
    made = Manifest(
        id=urls.manifest_url(base, doc.doc_id),
        label=_lang(doc.title),
        metadata=[KeyValueString(label=_lang(label), value=_lang(value))
                  for label, value in record_fields(doc)],
        homepage=[{"id": f"{base}{urls.document_url(doc.doc_id)}", "type": "Text",
                   "label": _lang(doc.title), "format": "text/html"}],
        service=[{"id": urls.content_search_url(base, doc.doc_id), "type": "SearchService2"}],
        items=canvases,
    )
    # jsonld() is the library's own JSON form (URLs as strings, None left out, its context)
    data: dict[str, Any] = json.loads(made.jsonld())
    return data


def content_search(base: str, doc_id: str, query: str,
                   hits: Sequence[tuple[PageSummary, str, tuple[int, int], tuple[Box, ...]]]
                   ) -> dict[str, Any]:
    """A Content Search 2.0 answer: one highlighting annotation per hit and line, targeting
    the region of its canvas where the matched characters are."""
    items = []
    for n, (page, matched, _, boxes) in enumerate(hits):
        canvas = urls.canvas_id(base, doc_id, page.number)
        for k, box in enumerate(boxes):
            items.append({
                "id": f"{urls.content_search_url(base, doc_id)}/hit/{n}/{k}",
                "type": "Annotation",
                "motivation": "highlighting",
                "body": {"type": "TextualBody", "value": matched, "format": "text/plain",
                         "language": "zh"},
                "target": f"{canvas}#xywh={box.x},{box.y},{box.w},{box.h}",
            })
    return {
        "@context": SEARCH_CONTEXT,
        "id": urls.content_search_url(base, doc_id, query),
        "type": "AnnotationPage",
        "items": items,
    }
