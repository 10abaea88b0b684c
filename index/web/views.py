"""One view class per page kind. Each reads through the ReadingRoom and formats; none touches
SQLite, Whoosh or a file path built from the request."""

from __future__ import annotations

import math
from typing import Any

from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from pipeline.errors import NotFoundError, UsageError

from ..reading import PageSummary, ReadingRoom
from ..results import FACETS, SearchRequest
from . import iiif, urls
from .format import FACET_LABELS, citation, filters_query, record_fields, snippet_parts, tag_fields

PER_PAGE = 20
PER_PROOFREAD = 50  # pages of the 需校对 list to a list page
MAX_RESULT_PAGE = 500  # /search?page=N beyond this is refused (offset stays bounded)
IIIF_HEADERS = {"Access-Control-Allow-Origin": "*"}  # other archives' viewers load them
JSON_LD = "application/ld+json"


def _room(request: Request) -> ReadingRoom:
    room: ReadingRoom = request.app.state.room
    return room


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _doc_id(request: Request) -> str:
    doc_id = str(request.path_params["doc_id"])
    if not urls.DOC_ID.fullmatch(doc_id):
        raise HTTPException(404, "没有这份文献")
    return doc_id


def _page_number(request: Request) -> int:
    raw = str(request.path_params["page"])
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise HTTPException(404, "没有这一页")
    return int(raw)


class SearchView(HTTPEndpoint):
    """`/` and `/search`: the query box, results with marked snippets, paging and facets."""

    async def get(self, request: Request) -> Response:
        params = request.query_params
        query = params.get("q", "").strip()
        filters = {name: params[name].strip() for name in urls.FACET_PARAMS
                   if params.get(name, "").strip()}
        page_param = params.get("page", "1")
        page = int(page_param) if page_param.isdigit() else 1
        page = min(max(1, page), MAX_RESULT_PAGE)
        room = _room(request)
        context: dict[str, Any] = {"query": query, "filters": filters, "page": page,
                                   "facet_labels": FACET_LABELS, "urls": urls, "error": None,
                                   "results": None, "hits": [], "pages": 1, "facets": [],
                                   "remove_links": {}}
        if not query and not filters:
            context["collections"] = room.collections()
            return _templates(request).TemplateResponse(request, "home.html", context)
        full_query = filters_query(query, filters)
        status = 200
        try:
            results = room.search(SearchRequest(full_query, limit=PER_PAGE,
                                                offset=(page - 1) * PER_PAGE, facets=True,
                                                facet_fields=FACETS))
        except UsageError as exc:
            context["error"] = str(exc)
            results = None
            status = 400
        context["results"] = results
        if results is not None:
            context["hits"] = [(hit, snippet_parts(hit.snippet)) for hit in results.hits]
            context["pages"] = max(1, math.ceil(results.total / PER_PAGE))
            context["facets"] = _facet_links(query, filters, results.facets or {})
        context["remove_links"] = {
            name: urls.search_url(query, {k: v for k, v in filters.items() if k != name})
            for name in filters}
        return _templates(request).TemplateResponse(request, "search.html", context,
                                                    status_code=status)


def _facet_links(query: str, filters: dict[str, str],
                 facets: dict[str, dict[str, int]]) -> list[tuple[str, str, list[Any]]]:
    """(facet, label, [(value, count, url, chosen)]) for the side bar, most frequent first."""
    out = []
    for name in urls.FACET_PARAMS:
        counts = facets.get(name) or {}
        values = []
        for value, count in list(counts.items())[:12]:
            label = f"{value}年代" if name == "decade" else value
            chosen = filters.get(name) == value
            values.append((label, count, urls.search_url(query, {**filters, name: value}),
                           chosen))
        if values:
            out.append((name, FACET_LABELS[name], values))
    return out


class ProofreadList(HTTPEndpoint):
    """`/proofread?collection=...&page=N`: the 需校对 list, most estimated errors first, with
    each collection's estimated errors (how much proofreading it needs), as `wenshi stats`
    gives them."""

    async def get(self, request: Request) -> Response:
        params = request.query_params
        collection = params.get("collection", "").strip() or None
        listing = _room(request).proofreading(collection)
        pages = max(1, math.ceil(len(listing.pages) / PER_PROOFREAD))
        raw = params.get("page", "1")
        page = min(max(1, int(raw) if raw.isdigit() and len(raw) < 7 else 1), pages)
        shown = listing.pages[(page - 1) * PER_PROOFREAD:page * PER_PROOFREAD]
        context = {"listing": listing, "shown": shown, "page": page, "pages": pages,
                   "first": (page - 1) * PER_PROOFREAD + 1, "urls": urls}
        return _templates(request).TemplateResponse(request, "proofread.html", context)


class DocumentPage(HTTPEndpoint):
    """`/doc/DOC_ID`: the record, the tags and the pages as thumbnails."""

    async def get(self, request: Request) -> Response:
        document = _room(request).document(_doc_id(request))
        context = {"document": document, "doc": document.doc, "urls": urls,
                   "record": record_fields(document.doc), "tags": tag_fields(document.doc),
                   "manifest": urls.manifest_url(_base(request), document.doc.doc_id)}
        return _templates(request).TemplateResponse(request, "document.html", context)


class PageView(HTTPEndpoint):
    """`/doc/DOC_ID/PAGE?q=...`: the scan with the hits outlined, the text with them marked."""

    async def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        try:
            view = _room(request).page(_doc_id(request), _page_number(request), query)
        except UsageError:
            view = _room(request).page(_doc_id(request), _page_number(request))
        page = view.page
        doc = view.document.doc
        context = {
            "view": view, "doc": doc, "page": page, "query": query, "urls": urls,
            "segments": view.segments(), "record": record_fields(doc), "tags": tag_fields(doc),
            "citation": citation(doc, page.number),
            "info": (f"/iiif/image/{urls.image_id(doc.doc_id, page.number)}/info.json"
                     if page.images else ""),
            "boxes": [(i, box) for i, boxes in enumerate(view.boxes) for box in boxes],
        }
        return _templates(request).TemplateResponse(request, "page.html", context)


def _image_page(request: Request) -> tuple[str, int, PageSummary]:
    match = urls.IMAGE_ID.fullmatch(str(request.path_params["ident"]))
    if not match:
        raise HTTPException(404, "没有这张图像")
    doc_id, number = match.group(1), int(match.group(2))
    page = _room(request).document(doc_id).page(number)
    if not page.images:
        raise HTTPException(404, "这一页没有扫描图像")
    return doc_id, number, page


class ImageInfo(HTTPEndpoint):
    """IIIF Image API: `/iiif/image/DOC_ID-PAGE/info.json` (level 0)."""

    async def get(self, request: Request) -> Response:
        doc_id, number, page = _image_page(request)
        return JSONResponse(iiif.image_info(_base(request), doc_id, number, page.images),
                            headers=IIIF_HEADERS, media_type=JSON_LD)


class ImageBase(HTTPEndpoint):
    """`/iiif/image/DOC_ID-PAGE`: the Image API's base URI redirects to info.json."""

    async def get(self, request: Request) -> Response:
        doc_id, number, _ = _image_page(request)
        return RedirectResponse(f"/iiif/image/{urls.image_id(doc_id, number)}/info.json", 303)


class ImageFile(HTTPEndpoint):
    """`/iiif/image/DOC_ID-PAGE/full/W,H/0/default.jpg` for a kept size, or full/max."""

    async def get(self, request: Request) -> Response:
        doc_id, number, page = _image_page(request)
        size_param = str(request.path_params["size"])
        if size_param == "max":
            size = page.images[0]
        else:
            match = urls.SIZE.fullmatch(size_param)
            wanted = (int(match.group(1)), int(match.group(2))) if match else None
            found = [s for s in page.images if (s.width, s.height) == wanted]
            if not found:
                raise HTTPException(404, "没有这个尺寸（此图像服务为 IIIF level 0，只提供 info.json 所列尺寸）")
            size = found[0]
        path = _room(request).image_file(doc_id, number, size)
        return FileResponse(path, media_type="image/jpeg",
                            headers={**IIIF_HEADERS, "Cache-Control": "public, max-age=86400"})


class ManifestView(HTTPEndpoint):
    """`/iiif/DOC_ID/manifest.json`: IIIF Presentation 3."""

    async def get(self, request: Request) -> Response:
        document = _room(request).document(_doc_id(request))
        return JSONResponse(iiif.manifest(_base(request), document), headers=IIIF_HEADERS,
                            media_type=JSON_LD)


class ContentSearchView(HTTPEndpoint):
    """`/iiif/DOC_ID/search?q=...`: IIIF Content Search 2.0."""

    async def get(self, request: Request) -> Response:
        doc_id = _doc_id(request)
        query = request.query_params.get("q", "").strip()
        room = _room(request)
        room.document(doc_id)  # 404 before a query error for an unknown document
        if not query:
            hits: list[Any] = []
        else:
            try:
                hits = room.document_hits(doc_id, query)
            except UsageError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400, headers=IIIF_HEADERS)
        return JSONResponse(iiif.content_search(_base(request), doc_id, query, hits),
                            headers=IIIF_HEADERS, media_type=JSON_LD)


def not_found(request: Request, exc: Exception) -> Response:
    """404 for an unknown document, page, image or path."""
    message = exc.detail if isinstance(exc, HTTPException) else "没有找到"
    if isinstance(exc, NotFoundError):
        message = "没有找到这份文献或这一页"
    if request.url.path.startswith("/iiif/"):
        return JSONResponse({"error": message}, status_code=404, headers=IIIF_HEADERS)
    return _templates(request).TemplateResponse(
        request, "error.html", {"message": message, "status": 404, "urls": urls},
        status_code=404)
