"""The reading room's ASGI app, built by one function from the library the CLI opens."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import AsyncIterator

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.errors import LibraryError, NotFoundError

from ..api import Library
from ..reading import ReadingRoom
from . import editing, urls, views

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def build_app(library: Library, edit: bool = False) -> Starlette:
    """The reading room over an open library (the object the CLI and scripts use), every page
    kind one view; read-only unless `edit` (`serve --edit`: signed-in editors proofread, see
    index/web/editing.py). The caller keeps and closes `library`."""
    room = ReadingRoom(library)
    editor = editing.Editor(library.cfg)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            editor.close()
            room.close()

    routes = [
        Route("/", views.SearchView, name="home"),
        Route("/search", views.SearchView, name="search"),
        Route("/proofread", views.ProofreadList, name="proofread"),
        Route("/doc/{doc_id}", views.DocumentPage, name="document"),
        Route("/doc/{doc_id}/{page}", views.PageView, name="page"),
        Route("/iiif/image/{ident}", views.ImageBase, name="image_base"),
        Route("/iiif/image/{ident}/info.json", views.ImageInfo, name="image_info"),
        Route("/iiif/image/{ident}/full/{size}/0/default.jpg", views.ImageFile, name="image"),
        Route("/iiif/{doc_id}/manifest.json", views.ManifestView, name="manifest"),
        Route("/iiif/{doc_id}/search", views.ContentSearchView, name="content_search"),
        *editing.routes(),
        # Starlette's StaticFiles refuses paths that leave the folder, symbolic links included.
        Mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_ServerTiming), *editing.middleware()],
        exception_handlers={404: views.not_found, NotFoundError: views.not_found,
                            LibraryError: _unavailable, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.room = room
    app.state.edit = edit
    app.state.editor = editor
    app.state.sign_in_throttle = editing.sign_in_throttle()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals.update(line_boxes=lambda view: editing.line_boxes(room, view),
                       page_record=editing.page_record, history_url=editing.history_url)
    app.state.templates = Jinja2Templates(env=env, context_processors=[editing.template_context])
    return app


async def _unavailable(request: Request, exc: Exception) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"message": f"书库暂时不能读取：{exc}", "status": 503,
                                "urls": urls}, status_code=503)


async def _http_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code == 404:
        return views.not_found(request, exc)
    templates: Jinja2Templates = request.app.state.templates
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return templates.TemplateResponse(
        request, "error.html", {"message": str(getattr(exc, "detail", exc)), "status": status,
                                "urls": urls}, status_code=status)


class _ServerTiming:
    """Adds `Server-Timing: app;dur=MS` to every response (what benchmarks/serve_speed.py and
    the browser's developer tools read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={ms:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)
