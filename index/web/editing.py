"""Proofreading in the reading room (`wenshi serve --edit`): sign-in, saving a corrected page,
its history with diffs and revert, the next page to proofread.

Every request that changes anything goes through `ChangeEndpoint.dispatch`, the one place that
checks that editing is on, that the CSRF token of the session came with the form, and (but for
signing in) that an editor is signed in; anything else is 403 before a handler runs. Sessions
are Starlette's signed cookies (itsdangerous), HttpOnly and SameSite=strict, with a key made at
start-up: restarting the server signs everyone out. Without `--edit` nothing here changes
anything, and the templates show no edit controls.
"""

from __future__ import annotations

import asyncio
import difflib
import hmac
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.errors import NotFoundError, UsageError, VersionConflictError

from ..catalog import MAX_PAGE_CHARS
from ..reading import ReadingRoom
from . import urls
from .views import _room, _templates

if TYPE_CHECKING:
    from ..api import Library

T = TypeVar("T")

SESSION_COOKIE = "wenshi_session"
SESSION_HOURS = 12
CSRF_FIELD = "csrf"  # form field; fetch() may send the header instead
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 4 * MAX_PAGE_CHARS + 10_000  # a full page in UTF-8 plus the other fields
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Wrong passwords allowed per account, and per client address, in one window before sign-in is
# refused (429) until the window has passed: a guesser gets a few tries an hour, an editor who
# mistypes is kept out a quarter of an hour at most. Per client higher: an office behind one
# address has several editors.
FAILED_SIGN_INS_PER_ACCOUNT = 5
FAILED_SIGN_INS_PER_CLIENT = 20
SIGN_IN_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class EditState:
    """What the templates know about editing: on or off, who is signed in, the CSRF token."""

    enabled: bool
    editor: str  # '' when no one is signed in
    csrf: str

    @property
    def can_edit(self) -> bool:
        """True when edit controls are shown: editing is on and an editor is signed in."""
        return self.enabled and bool(self.editor)


def middleware() -> list[Middleware]:
    """The signed session cookie (a fresh key each start)."""
    return [Middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32),
                       session_cookie=SESSION_COOKIE, max_age=SESSION_HOURS * 3600,
                       same_site="strict", https_only=False)]


def routes() -> list[Route]:
    """The editing routes (they exist with or without --edit; without it they refuse)."""
    return [
        Route("/login", LoginView, name="login"),
        Route("/logout", LogoutView, name="logout"),
        Route("/doc/{doc_id}/{page}/save", SaveView, name="save"),
        Route("/doc/{doc_id}/{page}/revert", RevertView, name="revert"),
        Route("/doc/{doc_id}/{page}/history", HistoryView, name="history"),
        Route("/proofread/next", NextView, name="proofread_next"),
    ]


class SignInThrottle:
    """Counts failed sign-ins per key (an account, a client address) in a sliding window.

    Kept in the server's memory: a restart forgets the counts, as it signs everyone out."""

    def __init__(self, limits: dict[str, int], window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.window, self.clock = limits, window, clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, keys: dict[str, str]) -> int:
        """0 when a sign-in with these keys may be tried; else seconds until it may."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for kind, value in keys.items():
                recent = self._recent((kind, value), now)
                if len(recent) >= self.limits[kind]:
                    wait = max(wait, recent[-self.limits[kind]] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, keys: dict[str, str]) -> None:
        """Count a wrong password against each key."""
        now = self.clock()
        with self._lock:
            for key in keys.items():
                self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, keys: dict[str, str]) -> None:
        """A right password clears the account's count (not the client's)."""
        with self._lock:
            self._failures.pop(("account", keys["account"]), None)

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        recent = [t for t in self._failures.get(key, []) if t > now - self.window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent


def sign_in_throttle() -> SignInThrottle:
    """The throttle a server starts with (build_app keeps it in app.state)."""
    return SignInThrottle({"account": FAILED_SIGN_INS_PER_ACCOUNT,
                           "client": FAILED_SIGN_INS_PER_CLIENT}, SIGN_IN_WINDOW_SECONDS)


def edit_state(request: Request) -> EditState:
    """The editing state of this request (a session gets its CSRF token on first sight)."""
    enabled = bool(getattr(request.app.state, "edit", False))
    if "session" not in request.scope:
        return EditState(enabled, "", "")
    session = request.session
    if enabled and CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return EditState(enabled, str(session.get("editor", "")) if enabled else "",
                     str(session.get(CSRF_FIELD, "")))


def template_context(request: Request) -> dict[str, Any]:
    """Jinja2 context processor: `edit` in every template."""
    return {"edit": edit_state(request)}


class Editor:
    """The library calls of proofreading, on one worker thread that owns its own Library.

    Saves take a second or two (jieba, the index commit): off the event loop, readers keep
    reading. One thread, so saves in this server take turns, and its SQLite connection is used
    and closed on the thread that opened it."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wenshi-editor")
        self._library: Library | None = None

    def _lib(self) -> Library:
        if self._library is None:
            from ..api import Library

            self._library = Library(self.cfg)
        return self._library

    async def run(self, call: Callable[[Library], T]) -> T:
        """`call(library)` on the worker thread."""
        return await asyncio.wrap_future(self._pool.submit(lambda: call(self._lib())))

    def close(self) -> None:
        """Close the worker's library (on its thread) and stop the thread."""
        def close_library() -> None:
            if self._library is not None:
                self._library.close()
                self._library = None
        self._pool.submit(close_library).result()
        self._pool.shutdown(wait=True)


def _throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


def _editor(request: Request) -> Editor:
    editor: Editor = request.app.state.editor
    return editor


def _page_ref(request: Request) -> tuple[str, int]:
    doc_id = str(request.path_params["doc_id"])
    raw = str(request.path_params["page"])
    if not urls.DOC_ID.fullmatch(doc_id) or not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise HTTPException(404, "没有这一页")
    return doc_id, int(raw)


# Why the gate refuses a change; a refused save says it in an editor's terms (SaveView.refused).
CSRF_REFUSED = "表单已失效（缺少或不符的 CSRF 令牌），请刷新页面后再试"
SIGN_IN_NEEDED = "请先登录（编辑账号）"
EDITOR_GONE = "编辑账号已不存在，请重新登录"
SAVE_LAPSED = "登录已失效（服务器重启、超过 12 小时或在别处退出），这次保存没有成功"
SAVE_STALE_FORM = "表单已过期（此后在别处重新登录过），这次保存没有成功"


def _forbidden(reason: str) -> HTTPException:
    return HTTPException(403, reason)


class ChangeEndpoint(HTTPEndpoint):
    """The one gate for changes: every non-GET request of every editing route passes here.

    It refuses (403) unless editing is on (`serve --edit`), the form (or the X-CSRF-Token
    header) carries the session's CSRF token, and, where `needs_editor`, an editor is signed
    in. Handlers are `change(request, form, editor)`."""

    needs_editor = True

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive)
        if request.method in SAFE_METHODS:
            await super().dispatch()
            return
        response = await self._guarded(request)
        await response(self.scope, self.receive, self.send)

    async def _guarded(self, request: Request) -> Response:
        state = edit_state(request)
        if not state.enabled:
            raise _forbidden("编辑未开启（以 wenshi serve --edit 启动）")
        if request.method != "POST":
            raise HTTPException(405, "只接受 POST")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FORM_BYTES:
            raise HTTPException(413, f"页面文字过长（每页至多 {MAX_PAGE_CHARS} 字）")
        form = await request.form(max_part_size=MAX_FORM_BYTES)
        sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, ""))
        if not state.csrf or not hmac.compare_digest(sent.encode(), state.csrf.encode()):
            return self.refused(request, form, CSRF_REFUSED)
        if self.needs_editor and not state.editor:
            return self.refused(request, form, SIGN_IN_NEEDED)
        return await self.change(request, form, state.editor)

    async def change(self, request: Request, form: FormData, editor: str) -> Response:
        """The change itself, once the gate has let it through."""
        raise HTTPException(405)

    def refused(self, request: Request, form: FormData, reason: str) -> Response:
        """The answer to a change the gate refuses (403)."""
        raise _forbidden(reason)


def _local_target(raw: str) -> str:
    """A redirect target inside this site only (no scheme, no //host)."""
    return raw if raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else "/"


class LoginView(ChangeEndpoint):
    """`/login`: the sign-in form (fields `name`, `password`) and signing in."""

    needs_editor = False

    async def get(self, request: Request) -> Response:
        state = edit_state(request)
        return _templates(request).TemplateResponse(
            request, "login.html", {"urls": urls, "error": "",
                                    "next": _local_target(request.query_params.get("next", "/")),
                                    "name": ""},
            status_code=200 if state.enabled else 403)

    async def change(self, request: Request, form: FormData, editor: str) -> Response:
        name = str(form.get("name") or "")[:200]
        password = str(form.get("password") or "")[:1000]
        target = _local_target(str(form.get("next") or "/"))
        throttle = _throttle(request)
        keys = {"account": name, "client": request.client.host if request.client else ""}
        wait = throttle.wait_seconds(keys)
        if wait:
            return _templates(request).TemplateResponse(
                request, "login.html",
                {"urls": urls, "next": target, "name": name,
                 "error": f"登录失败次数过多，请 {(wait + 59) // 60} 分钟后再试"},
                status_code=429, headers={"Retry-After": str(wait)})
        signed = await _editor(request).run(lambda lib: lib.authenticate(name, password))
        if signed is None:
            throttle.failed(keys)
            return _templates(request).TemplateResponse(
                request, "login.html", {"urls": urls, "error": "用户名或密码不对",
                                        "next": target, "name": name}, status_code=403)
        throttle.succeeded(keys)
        request.session.clear()
        request.session.update({"editor": signed, CSRF_FIELD: secrets.token_urlsafe(32)})
        return RedirectResponse(target, 303)


class LogoutView(ChangeEndpoint):
    """`/logout` (POST): sign out."""

    needs_editor = False

    async def change(self, request: Request, form: FormData, editor: str) -> Response:
        request.session.clear()
        return RedirectResponse("/", 303)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _int_field(form: FormData, name: str) -> int:
    raw = str(form.get(name) or "")
    if not raw.isdigit() or len(raw) > 9:
        raise HTTPException(400, f"表单字段 {name} 缺失或不是数字")
    return int(raw)


class SaveView(ChangeEndpoint):
    """`/doc/DOC_ID/PAGE/save` (POST: text, version, proofread, csrf[, next]): a new version."""

    async def change(self, request: Request, form: FormData, editor: str) -> Response:
        doc_id, number = _page_ref(request)
        text = str(form.get("text") or "").replace("\r\n", "\n")  # browsers send CRLF
        base = _int_field(form, "version")
        proofread = form.get("proofread") in ("1", "on", "true")
        try:
            saved = await _editor(request).run(lambda lib: lib.save_page(
                doc_id, number, text, editor=editor, base_version=base, proofread=proofread,
                source="web"))
        except VersionConflictError as exc:
            return _conflict(request, doc_id, number, text, proofread, exc)
        except UsageError as exc:
            raise HTTPException(400, str(exc)) from exc
        except NotFoundError as exc:
            if "editor" in str(exc):
                request.session.clear()
                return self.refused(request, form, EDITOR_GONE)
            raise
        if _wants_json(request):
            return JSONResponse({"version": saved.version, "changed": saved.changed,
                                 "indexed": saved.indexed, "proofread": saved.proofread})
        if form.get("next") == "1":
            return RedirectResponse(_next_url(doc_id, number), 303)
        query = {"edit": "1", "saved": str(saved.version)}
        if not saved.indexed:
            query["pending"] = "1"
        return RedirectResponse(f"{urls.page_url(doc_id, number)}?{urlencode(query)}", 303)

    def refused(self, request: Request, form: FormData, reason: str) -> Response:
        """A save refused because the sign-in or the form's token has lapsed (the server
        restarted, 12 hours passed, another tab signed out): the editor's text is shown back,
        and edit.js has kept it in the browser to restore after signing in."""
        doc_id, number = _page_ref(request)
        if _wants_json(request):
            return JSONResponse({"error": reason}, status_code=403)
        if reason in (CSRF_REFUSED, SIGN_IN_NEEDED):
            reason = SAVE_LAPSED if not edit_state(request).editor else SAVE_STALE_FORM
        back = f"{urls.page_url(doc_id, number)}?edit=1"
        context = {"urls": urls, "reason": reason, "doc_id": doc_id, "number": number,
                   "text": str(form.get("text") or ""), "back": back,
                   "login": f"/login?{urlencode({'next': back})}"}
        return _templates(request).TemplateResponse(request, "unsaved.html", context,
                                                    status_code=403)


def _conflict(request: Request, doc_id: str, number: int, text: str, proofread: bool,
              exc: VersionConflictError) -> Response:
    """409: another editor saved first. Their version is shown; the editor's own text stays in
    the form, now based on their version, to merge and save deliberately."""
    current = exc.current
    if _wants_json(request):
        return JSONResponse({"conflict": current}, status_code=409)
    document = _room(request).document(doc_id)
    context = {"urls": urls, "doc": document.doc, "number": number, "theirs": current,
               "mine": text, "proofread": proofread,
               "diff": diff_segments(str(current["text"]), text)}
    return _templates(request).TemplateResponse(request, "conflict.html", context,
                                                status_code=409)


class RevertView(ChangeEndpoint):
    """`/doc/DOC_ID/PAGE/revert` (POST: to_version, version, csrf): an earlier text as the newest
    version."""

    async def change(self, request: Request, form: FormData, editor: str) -> Response:
        doc_id, number = _page_ref(request)
        to_version = _int_field(form, "to_version")
        base = _int_field(form, "version")
        try:
            await _editor(request).run(lambda lib: lib.revert_page(
                doc_id, number, to_version, editor=editor, base_version=base))
        except VersionConflictError as exc:
            return _conflict(request, doc_id, number, "", False, exc)
        return RedirectResponse(history_url(doc_id, number), 303)


def history_url(doc_id: str, number: int) -> str:
    """The history view of a page."""
    return f"{urls.page_url(doc_id, number)}/history"


def _next_url(doc_id: str, number: int) -> str:
    return f"/proofread/next?{urlencode({'after': f'{doc_id}:{number}'})}"


@dataclass(frozen=True)
class Segment:
    """A piece of a character diff: kept, inserted or deleted text."""

    kind: str  # equal | insert | delete
    text: str


def diff_segments(old: str, new: str) -> list[Segment]:
    """Character diff of two texts, for <del>/<ins> in a template (text, never markup)."""
    out: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(Segment("equal", old[i1:i2]))
            continue
        if i2 > i1:
            out.append(Segment("delete", old[i1:i2]))
        if j2 > j1:
            out.append(Segment("insert", new[j1:j2]))
    return out


class HistoryView(HTTPEndpoint):
    """`/doc/DOC_ID/PAGE/history`: every version, newest first, each with its diff from the one
    before and (for a signed-in editor) a revert button."""

    async def get(self, request: Request) -> Response:
        doc_id, number = _page_ref(request)
        document = _room(request).document(doc_id)
        state = await _editor(request).run(lambda lib: lib.page_text(doc_id, number))
        versions = list(state.history)
        rows = [(v, diff_segments(versions[i - 1].text, v.text) if i else [])
                for i, v in enumerate(versions)]
        context = {"urls": urls, "doc": document.doc, "number": number, "state": state,
                   "rows": list(reversed(rows)), "page_url": urls.page_url(doc_id, number)}
        return _templates(request).TemplateResponse(request, "history.html", context)


class NextView(HTTPEndpoint):
    """`/proofread/next?after=DOC_ID:PAGE`: the next page needing proofreading (需校对)."""

    async def get(self, request: Request) -> Response:
        after = request.query_params.get("after", "")
        doc_id, _, raw = after.partition(":")
        here = (doc_id, int(raw)) if urls.DOC_ID.fullmatch(doc_id) and raw.isdigit() else None
        found = await _editor(request).run(
            lambda lib: lib.next_to_proofread(*(here or (None, 0))))
        if found is None or (here is not None and (found.doc_id, found.number) == here):
            return _templates(request).TemplateResponse(
                request, "error.html", {"message": "没有其他需校对的页了。", "status": 200,
                                        "urls": urls})
        target = urls.page_url(found.doc_id, found.number)
        return RedirectResponse(target + ("?edit=1" if edit_state(request).can_edit else ""),
                                303)


def line_boxes(room: ReadingRoom, view: Any) -> list[dict[str, int]]:
    """The ALTO lines of a page view, each with the span of the text it holds and its box on
    the scan, for the editor's line outline (empty for pages without ALTO)."""
    from ..hitboxes import PageBoxes

    alto = view.page.alto
    if alto is None:
        return []
    return [{"start": span[0], "end": span[1], "x": box.x, "y": box.y, "w": box.w, "h": box.h}
            for span, box in PageBoxes.from_file(view.text, alto).line_spans()]


def page_record(view: Any) -> Any:
    """The PageRecord (text, version, 已校对, history) of a page view's page."""
    return next(p for p in view.document.doc.pages if p.number == view.page.number)
