"""The reading room in a real browser (Debian's Chromium under Playwright) against a real
`wenshi serve`: search, open a hit, the scan with the hit outlined over its characters, the
text with the same occurrence marked, document content shown as text, screenshots."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser import PHONE, box_on_image, new_page

pytestmark = pytest.mark.tesseract
SCREENSHOTS = Path(os.environ.get("WENSHI_SCREENSHOTS", "")) if os.environ.get(
    "WENSHI_SCREENSHOTS") else None


def _shot(page: Any, name: str) -> None:
    """Screenshots for the README when WENSHI_SCREENSHOTS names a folder."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def test_search_open_a_hit_and_see_it_outlined_on_the_scan_and_marked_in_the_text(
        served, web_library, browser_page):
    page = browser_page
    page.goto(served.url + "/")
    page.fill('input[name="q"]', f'"{web_library["phrase"]}"')
    page.press('input[name="q"]', "Enter")
    page.wait_for_selector("a[data-hit]")
    assert page.locator("a[data-hit]").count() == 1
    assert page.locator(".snippet mark").first.inner_text() == web_library["phrase"]
    _shot(page, "reading-search.png")
    page.click(f'a[data-hit="{web_library["scan"]}:1"]')
    page.wait_for_selector("#viewer[data-loaded]", timeout=15000)
    page.wait_for_function("document.querySelector('[data-hit-box]').offsetParent !== null"
                           " && document.querySelector('[data-hit-box]').getBoundingClientRect()"
                           ".width > 0")
    # The scan loaded: the image service answered and OpenSeadragon drew a level of it.
    assert page.evaluate("window.wenshiViewer.world.getItemCount()") == 1
    assert page.evaluate("window.wenshiViewer.world.getItemAt(0).getFullyLoaded()"
                         " || document.getElementById('viewer').dataset.loaded === '1'")
    box = box_on_image(page, '[data-hit-box="0"]')
    px, py, pw, ph = web_library["phrase_box"]
    tolerance = 10  # pixels of the scan: OCR boxes hug the ink, the drawn box includes bearings
    assert box["shown"]
    assert box["x"] <= px + tolerance and box["y"] <= py + tolerance, (box, (px, py, pw, ph))
    assert box["x"] + box["w"] >= px + pw - tolerance, (box, (px, py, pw, ph))
    assert box["y"] + box["h"] >= py + ph - tolerance, (box, (px, py, pw, ph))
    assert box["w"] * box["h"] <= 3 * pw * ph, (box, (px, py, pw, ph))
    marks = page.locator("mark[data-hit]")
    assert marks.count() == 1
    assert marks.first.get_attribute("data-hit") == "0"
    assert marks.first.inner_text() == web_library["phrase"]
    assert page.console_errors == []
    _shot(page, "reading-page.png")


def test_the_page_view_at_phone_width(served, web_library, chromium):
    page = new_page(chromium, PHONE)
    try:
        page.goto(f"{served.url}/doc/{web_library['scan']}/1?q={quote(web_library['phrase'])}")
        page.wait_for_selector("#viewer[data-loaded]", timeout=15000)
        viewer = page.locator("#viewer").bounding_box()
        text = page.locator(".page-text").bounding_box()
        assert viewer and text
        assert viewer["width"] <= PHONE["width"] and text["width"] <= PHONE["width"]
        assert text["y"] >= viewer["y"] + viewer["height"]  # stacked, not side by side
        no_sideways_scroll = page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth")
        assert no_sideways_scroll
        page.wait_for_timeout(300)
        _shot(page, "reading-page-phone.png")
    finally:
        page.context.close()


def test_document_content_is_shown_as_text_and_no_script_runs(served, web_library, browser_page):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in [f"/search?q={quote('桃花渡口')}", f"/doc/{web_library['xss']}/1?q=%E6%B8%A1%E5%8F%A3",
                f"/doc/{web_library['xss']}", f"/search?q={quote('script')}"]:
        page.goto(served.url + url)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__xss") == "undefined", url
        assert page.locator("img[src='x']").count() == 0, url
        assert page.locator("main script").count() == 0, url
    page.goto(f"{served.url}/doc/{web_library['xss']}/1")
    text = page.locator(".page-text").inner_text()
    assert "<script>window.__xss='text'</script>" in text
    assert "<img src=x onerror=\"window.__xss='img'\">" in text
    assert "他说：\"好\"，'对' & </p>" in text
    crumbs = page.locator(".crumbs").inner_text()
    assert "<img src=x onerror=" in crumbs and "标题'\"&amp;" in crumbs
    assert "<script>window.__xss='contributor'</script>" in page.locator(".record").inner_text()
    assert dialogs == []
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_paths_out_of_the_library_are_refused(served, web_library):
    # Sent as written (urllib does not fold `..` away as a browser would).
    for path in ["/static/../../catalog.sqlite", "/static/..%2f..%2fcatalog.sqlite",
                 "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/doc/../catalog.sqlite",
                 f"/iiif/image/{web_library['scan']}-1/full/..%2f..%2fcatalog.sqlite/0/default.jpg",
                 "/iiif/image/..%2f..%2fcatalog.sqlite/info.json"]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(served.url + path, timeout=10)
        assert refused.value.code == 404, path


def test_serve_starts_in_about_a_second_binds_localhost_and_stops_on_ctrl_c(
        web_library, wenshi_server):
    server = wenshi_server(web_library["library"])
    assert server.ready_after < 5.0  # about one second unloaded; generous for a busy CI machine
    assert server.process.poll() is None
    assert server.listening_on() == ["127.0.0.1"]
    assert server.stop() == 0
    assert f"at http://127.0.0.1:{server.port}/" in server.output
    assert "Traceback" not in server.output


def test_documents_ingested_while_it_runs_appear_in_it(web_library, wenshi_server, tmp_path):
    import shutil
    import subprocess
    import sys
    import time

    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    server = wenshi_server(library)
    phrase = "黄泥坳新修水渠"
    url = f"{server.url}/search?q={quote(phrase)}"
    with urllib.request.urlopen(url, timeout=10) as before:
        assert "data-hit=" not in before.read().decode()
    source = tmp_path / "新稿.txt"
    source.write_text(f"一九七三年冬，{phrase}，全长八里。", encoding="utf-8")
    wenshi = Path(sys.executable).parent / "wenshi"
    ingest = subprocess.run([str(wenshi), "--library", str(library), "ingest", str(source),
                             "--collection", "交通史"], capture_output=True, text=True,
                            timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    deadline = time.monotonic() + 15
    found = False
    while time.monotonic() < deadline and not found:
        with urllib.request.urlopen(url, timeout=10) as after:
            found = "data-hit=" in after.read().decode()
        time.sleep(0.2)
    assert found, "the new document never appeared in the running reading room"
