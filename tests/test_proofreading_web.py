"""Proofreading in the reading room (issue 16) in a real browser (Debian's Chromium under
Playwright) against a real `wenshi serve --edit`: sign-in, correcting a page beside its scan,
search and 字数 following the correction, history and revert, re-ingest and `reindex --retag`
keeping it, CSRF and anonymous saves refused, two editors saving one version."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.browser import Server, box_on_image, new_page

pytestmark = pytest.mark.tesseract
SCREENSHOTS = Path(os.environ["WENSHI_SCREENSHOTS"]) if os.environ.get(
    "WENSHI_SCREENSHOTS") else None
EDITORS = {"王编辑": "correct horse 电池", "李校对": "battery staple 订书"}
OLD, NEW = "勘测设计", "勘察设计"  # on page 1 of the scan: "...由省交通厅派员勘测设计。"
WENSHI = [sys.executable, "-c", "from cli import run; run()"]


def _shot(page: Any, name: str) -> None:
    """Screenshots for the README when WENSHI_SCREENSHOTS names a folder."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def wenshi(library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as an editor would run it beside the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENSHI_")}
    return subprocess.run([*WENSHI, "--library", str(library), *args], capture_output=True,
                          text=True, env=env, cwd=Path(__file__).resolve().parent.parent,
                          timeout=300)


def pages_found(library: Path, query: str) -> set[str]:
    out = wenshi(library, "search", query, "--json", "--limit", "0")
    assert out.returncode == 0, out.stderr
    return {f"{h['doc_id']}:{h['page']}" for h in json.loads(out.stdout)["hits"]}


def total_chars(library: Path, tmp: Path) -> int:
    target = tmp / f"字数-{len(list(tmp.glob('字数-*')))}.csv"
    out = wenshi(library, "export", "交通史", "--format", "wordcount", "--output", str(target))
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    total = [r for r in rows if r and r[0] in ("合计", "总计")]
    assert total, rows
    return int(next(c for c in reversed(total[0]) if c.isdigit()))


@pytest.fixture()
def editing(web_library: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A copy of the reading room's library with two editors, served with --edit; every OCR
    page needs proofreading (threshold 101)."""
    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    for name, password in EDITORS.items():
        added = subprocess.run([*WENSHI, "--library", str(library), "editor", "add", name,
                                "--password-stdin"], input=password + "\n", text=True,
                               capture_output=True, cwd=Path(__file__).resolve().parent.parent)
        assert added.returncode == 0, added.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENSHI_")}
    env["WENSHI_PROOFREAD_THRESHOLD"] = "101"
    server = Server(library, "--edit", env=env)
    try:
        yield {**web_library, "library": library, "server": server,
               "sources": web_library["library"].parent / "源文件"}
    finally:
        server.stop()


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', EDITORS[name])
    page.click('form[action="/login"] button[type="submit"]')
    page.wait_for_selector("[data-editor]")


def open_editor(page: Any, url: str, doc_id: str) -> Any:
    page.goto(f"{url}/doc/{doc_id}/1")
    page.click("[data-edit]")
    area = page.locator('textarea[name="text"]')
    area.wait_for(state="visible")
    return area


def post(url: str, fields: dict[str, str], cookie: str = "") -> int:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(),
                                     headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_editor_corrects_a_page_beside_its_scan(editing: dict[str, Any], chromium: Any,
                                                   tmp_path: Path) -> None:
    url, scan, library = editing["server"].url, editing["scan"], editing["library"]
    save_url = f"{url}/doc/{scan}/1/save"
    assert f"{scan}:1" in pages_found(library, f'"{OLD}"')
    chars_before = total_chars(library, tmp_path)

    # Anonymous: no edit controls, and a save is refused.
    page = new_page(chromium)
    page.goto(f"{url}/doc/{scan}/1")
    assert page.locator("[data-edit]").count() == 0
    assert page.locator('textarea[name="text"]').count() == 0
    assert page.locator("[data-login]").count() == 1
    assert post(save_url, {"text": "篡改", "version": "0"}) == 403

    sign_in(page, url, "王编辑")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    session = next(c for c in page.context.cookies() if c["name"] == "wenshi_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    # Signed in, but a POST without the CSRF token is refused (the browser's cookie, no token).
    assert post(save_url, {"text": "篡改", "version": "0"}, cookies) == 403
    assert page.context.request.post(save_url, form={"text": "篡改", "version": "0"}).status == 403

    area = open_editor(page, url, scan)
    assert page.locator(".crumbs .flag").first.inner_text() == "需校对"
    text = area.input_value()
    assert OLD in text and editing["phrase"] in text
    # The cursor in the phrase: its line is outlined on the scan, over the phrase's box.
    at = text.index(editing["phrase"]) + 2
    area.evaluate("(el, at) => { el.focus(); el.setSelectionRange(at, at); }", at)
    area.press("ArrowRight")
    page.wait_for_selector("[data-line-outline]", state="visible")
    outline = box_on_image(page, "[data-line-outline]")
    x, y, w, h = editing["phrase_box"]
    assert outline["y"] - 15 <= y and y + h <= outline["y"] + outline["h"] + 15, outline
    assert outline["x"] - 15 <= x and x + w <= outline["x"] + outline["w"] + 15, outline
    _shot(page, "proofread-edit.png")

    corrected = text.replace(OLD, NEW).replace("省交通厅", "湖南省交通厅")
    area.fill(corrected)
    page.keyboard.press("Control+s")
    page.wait_for_selector('[data-saved="1"]')
    assert page.locator('textarea[name="text"]').input_value() == corrected
    found = pages_found(library, f'"{NEW}"')
    assert f"{scan}:1" in found
    assert f"{scan}:1" not in pages_found(library, f'"{OLD}"')
    assert total_chars(library, tmp_path) == chars_before + 2

    # History with the diff, then revert to the OCR's text.
    page.click("[data-history]")
    page.wait_for_selector('[data-version="1"]')
    assert page.locator(".version").count() == 2
    diff = page.locator('[data-version="1"] .diff')
    assert "察" in " ".join(diff.locator("ins").all_inner_texts())
    assert "测" in " ".join(diff.locator("del").all_inner_texts())
    _shot(page, "proofread-history.png")
    page.click('[data-revert="0"]')
    page.wait_for_selector('[data-version="2"]')
    assert "恢复" in page.locator('[data-version="2"] h2').inner_text()
    assert f"{scan}:1" in pages_found(library, f'"{OLD}"')
    assert f"{scan}:1" not in pages_found(library, f'"{NEW}"')
    assert total_chars(library, tmp_path) == chars_before

    # Correct again, marked 已校对: the page leaves the 需校对 list.
    area = open_editor(page, url, scan)
    area.fill(area.input_value().replace(OLD, NEW))
    page.check('input[name="proofread"]')
    page.click("[data-save]")
    page.wait_for_selector('[data-saved="3"]')
    assert page.locator("[data-proofread]").count() == 1
    assert page.locator(".crumbs .flag", has_text="需校对").count() == 0
    stats = json.loads(wenshi(library, "stats", "--json").stdout)
    assert not any(p["doc_id"] == scan and p["number"] == 1 for p in stats["proofreading"])

    # Re-ingest of the same file, and reindex --retag, keep the correction.
    again = wenshi(library, "ingest", str(editing["sources"]), "--collection", "交通史")
    assert again.returncode == 0, again.stderr
    for args in (("reindex", "--retag"), ("check",)):
        done = wenshi(library, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    assert f"{scan}:1" in pages_found(library, f'"{NEW}"')
    assert f"{scan}:1" not in pages_found(library, f'"{OLD}"')
    page.goto(f"{url}/doc/{scan}/1")
    assert NEW in page.locator(".page-text").inner_text()

    # Alt+N: the next page needing proofreading (page 2 of the scan).
    area = open_editor(page, url, scan)
    page.keyboard.press("Alt+n")
    page.wait_for_url(re.compile(rf"/doc/{scan}/2\?edit=1$"))
    page.context.close()


def test_two_editors_saving_one_version(editing: dict[str, Any], chromium: Any) -> None:
    url, scan = editing["server"].url, editing["scan"]
    first, second = new_page(chromium), new_page(chromium)
    sign_in(first, url, "王编辑")
    sign_in(second, url, "李校对")
    area_1 = open_editor(first, url, scan)
    area_2 = open_editor(second, url, scan)
    text = area_1.input_value()
    area_1.fill(text.replace(OLD, NEW))
    area_2.fill(text.replace("次年十月", "次年十一月"))
    first.click("[data-save]")
    first.wait_for_selector('[data-saved="1"]')
    second.click("[data-save]")
    second.wait_for_selector("[data-conflict]")
    conflict = second.locator(".conflict").inner_text()
    assert "王编辑" in conflict and "第1版" in conflict
    # The loser's text is not lost: it is in the form, now based on the winner's version.
    assert "次年十一月" in second.locator('textarea[name="text"]').input_value()
    assert second.locator('input[name="version"]').input_value() == "1"
    _shot(second, "proofread-conflict.png")
    state = json.loads(wenshi(editing["library"], "show", scan, "--json").stdout)["pages"][0]
    assert state["version"] == 1 and NEW in state["text"] and "次年十一月" not in state["text"]
    assert [h["editor"] for h in state["history"]] == ["", "王编辑"]
    first.context.close()
    second.context.close()


def test_a_save_refused_for_a_lapsed_sign_in_loses_nothing(
        editing: dict[str, Any], chromium: Any) -> None:
    # A server restart, the 12 hours, or signing out in another tab end the session while an
    # editor is correcting; clearing the cookie does the same to this browser.
    url, scan, library = editing["server"].url, editing["scan"], editing["library"]
    page = new_page(chromium)
    sign_in(page, url, "王编辑")
    area = open_editor(page, url, scan)
    corrected = area.input_value().replace(OLD, NEW)
    area.fill(corrected)
    page.context.clear_cookies()
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-unsaved]")
    assert "登录已失效" in page.locator(".unsaved .error").inner_text()
    assert NEW in page.locator(".unsaved textarea").input_value()  # shown back, as text
    _shot(page, "proofread-unsaved.png")
    state = json.loads(wenshi(library, "show", scan, "--json").stdout)["pages"][0]
    assert state["version"] == 0 and OLD in state["text"]

    # Signing in again from there returns to the page, which offers the kept text back.
    page.click("[data-unsaved-login]")
    page.fill('input[name="name"]', "王编辑")
    page.fill('input[name="password"]', EDITORS["王编辑"])
    page.click('form[action="/login"] button[type="submit"]')
    page.wait_for_url(re.compile(rf"/doc/{scan}/1\?edit=1$"))
    note = page.locator("[data-draft]")
    assert "未保存的修改" in note.inner_text() and "第0版" in note.inner_text()
    _shot(page, "proofread-draft.png")
    page.click("[data-draft-restore]")
    assert page.locator('textarea[name="text"]').input_value() == corrected
    page.keyboard.press("Control+s")
    page.wait_for_selector('[data-saved="1"]')
    state = json.loads(wenshi(library, "show", scan, "--json").stdout)["pages"][0]
    assert state["version"] == 1 and NEW in state["text"] and OLD not in state["text"]
    # Saved: nothing is offered any more.
    page.goto(f"{url}/doc/{scan}/1")
    page.wait_for_selector("[data-edit]")
    assert page.locator("[data-draft]").count() == 0

    # A draft written on a version someone has since replaced comes back as a conflict, not
    # as a silent overwrite.
    area = open_editor(page, url, scan)
    area.fill(corrected.replace("次年十月", "次年十一月"))
    page.wait_for_function(
        "() => Object.keys(localStorage).some(k => k.startsWith('wenshi-draft'))")
    other = new_page(chromium)
    sign_in(other, url, "李校对")
    other_area = open_editor(other, url, scan)
    other_area.fill(other_area.input_value() + "。")
    other.click("[data-save]")
    other.wait_for_selector('[data-saved="2"]')
    page.goto(f"{url}/doc/{scan}/1")  # a reload (the unsaved-changes prompt is answered)
    page.click("[data-draft-restore]")
    assert page.locator('input[name="version"]').input_value() == "1"
    page.click("[data-save]")
    page.wait_for_selector("[data-conflict]")
    assert "次年十一月" in page.locator('textarea[name="text"]').input_value()
    other.context.close()
    page.context.close()


def test_without_edit_nothing_changes(web_library: dict[str, Any], served: Any,
                                      chromium: Any) -> None:
    """The plain reading room: no sign-in, no controls, every change refused."""
    page = new_page(chromium)
    page.goto(f"{served.url}/doc/{web_library['scan']}/1")
    assert page.locator("[data-edit], [data-login], textarea").count() == 0
    for path in ("/login", f"/doc/{web_library['scan']}/1/save",
                 f"/doc/{web_library['scan']}/1/revert", "/logout"):
        assert post(served.url + path, {"name": "王编辑", "password": "x", "text": "x",
                                        "version": "0", "to_version": "0"}) == 403, path
    page.context.close()


# -- in-process (Starlette's TestClient): the gate, redirects, markup in the text --------------

@pytest.fixture()
def signed_in(web_library: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A TestClient over a copy of the library with --edit, signed in as 王编辑; and its CSRF."""
    from starlette.testclient import TestClient

    from index import Library
    from index.web import build_app

    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    with Library.open(library) as lib:
        lib.add_editor("王编辑", EDITORS["王编辑"])
        with TestClient(build_app(lib, edit=True)) as client:
            token = _csrf(client.get("/login").text)
            signed = client.post("/login", data={"name": "王编辑", "password": EDITORS["王编辑"],
                                                 "csrf": token, "next": "//evil.example/x"},
                                 follow_redirects=False)
            assert signed.status_code == 303 and signed.headers["location"] == "/"
            yield client, _csrf(client.get("/").text)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_markup_in_a_page_reaches_the_editor_as_text(signed_in: tuple[Any, str],
                                                     web_library: dict[str, Any]) -> None:
    client, _ = signed_in
    html = client.get(f"/doc/{web_library['xss']}/1").text
    area = re.search(r'<textarea name="text"[^>]*>\n(.*?)</textarea>', html, re.S)
    assert area is not None
    assert "<script>" not in area.group(1) and "&lt;script&gt;" in area.group(1)
    assert "</p>" not in area.group(1)


def test_the_gate_csrf_header_json_and_limits(signed_in: tuple[Any, str],
                                              web_library: dict[str, Any]) -> None:
    client, token = signed_in
    doc = web_library["text"]
    url = f"/doc/{doc}/1/save"
    text = client.get(f"/doc/{doc}/1").text
    assert client.post(url, data={"text": "x", "version": "0", "csrf": "forged"}).status_code == 403
    saved = client.post(url, data={"text": "一九六二年，县里修通了公路。", "version": "0"},
                        headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert saved.status_code == 200 and saved.json()["version"] == 1, text
    stale = client.post(url, data={"text": "旧版上的改动", "version": "0", "csrf": token},
                        headers={"Accept": "application/json"})
    assert stale.status_code == 409 and stale.json()["conflict"]["version"] == 1
    too_long = client.post(url, data={"text": "字" * 100_001, "version": "1", "csrf": token})
    assert too_long.status_code in (400, 413)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.post(url, data={"text": "x", "version": "1", "csrf": token}).status_code == 403


def test_sign_in_is_refused_for_a_while_after_wrong_passwords(
        web_library: dict[str, Any], tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from index import Library
    from index.web import build_app
    from index.web.editing import FAILED_SIGN_INS_PER_ACCOUNT

    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    with Library.open(library) as lib:
        for name, password in EDITORS.items():
            lib.add_editor(name, password)
        with TestClient(build_app(lib, edit=True)) as client:
            token = _csrf(client.get("/login").text)

            def sign_in(name: str, password: str) -> Any:
                return client.post("/login", data={"name": name, "password": password,
                                                   "csrf": token}, follow_redirects=False)

            for _ in range(FAILED_SIGN_INS_PER_ACCOUNT):
                assert sign_in("王编辑", "guess").status_code == 403
            refused = sign_in("王编辑", EDITORS["王编辑"])  # even the right password, for now
            assert refused.status_code == 429
            assert "登录失败次数过多" in refused.text and int(refused.headers["retry-after"]) > 60
            assert "data-editor" not in client.get("/").text  # not signed in
            assert sign_in("李校对", EDITORS["李校对"]).status_code == 303  # others still can


def test_the_sign_in_throttle_forgets_after_its_window() -> None:
    from index.web.editing import SignInThrottle

    now = [1000.0]
    throttle = SignInThrottle({"account": 2, "client": 3}, 60, clock=lambda: now[0])
    keys = {"account": "王编辑", "client": "127.0.0.1"}
    throttle.failed(keys)
    assert throttle.wait_seconds(keys) == 0
    throttle.failed(keys)
    assert throttle.wait_seconds(keys) == 61
    assert throttle.wait_seconds({"account": "李校对", "client": "10.0.0.2"}) == 0
    now[0] += 30
    assert throttle.wait_seconds(keys) == 31
    now[0] += 31
    assert throttle.wait_seconds(keys) == 0  # the window has passed
    throttle.failed(keys)
    throttle.succeeded(keys)  # a right password clears the account, not the client
    assert throttle.wait_seconds({"account": "李校对", "client": "127.0.0.1"}) == 0
    throttle.failed({"account": "李校对", "client": "127.0.0.1"})
    assert throttle.wait_seconds({"account": "赵", "client": "127.0.0.1"}) == 0  # client: 2 of 3
    throttle.failed({"account": "李校对", "client": "127.0.0.1"})
    assert throttle.wait_seconds({"account": "赵", "client": "127.0.0.1"}) == 61  # 3 of 3
