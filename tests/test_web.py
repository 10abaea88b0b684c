"""The reading room's routes and JSON, called in-process (Starlette's TestClient over httpx)."""

from __future__ import annotations

import io
import re
import warnings
from typing import Any, Iterator

import pytest
from PIL import Image
from starlette.testclient import TestClient

from index import Library
from index.web import build_app

pytestmark = pytest.mark.tesseract


@pytest.fixture(scope="module")
def client(web_library: dict[str, Any]) -> Iterator[TestClient]:
    with Library.open(web_library["library"]) as library:
        with TestClient(build_app(library)) as test_client:
            yield test_client


def _hits(html: str) -> list[tuple[str, int]]:
    return [(d, int(p)) for d, p in re.findall(r'data-hit="([0-9a-f]{16}):(\d+)"', html)]


def test_home_lists_the_collections_and_has_one_query_box(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.count('name="q"') == 1
    assert "交通史" in response.text and "3 篇" in response.text
    assert re.search(r"app;dur=[0-9.]+", response.headers["server-timing"])


def test_search_marks_the_match_and_links_each_hit_to_its_page(client, web_library):
    response = client.get("/search", params={"q": f'"{web_library["phrase"]}"'})
    assert response.status_code == 200
    assert _hits(response.text) == [(web_library["scan"], 1)]
    assert f"<mark>{web_library['phrase']}</mark>" in response.text
    assert "共 <strong>1</strong> 页" in response.text
    link = re.search(r'href="(/doc/[0-9a-f]{16}/1\?q=[^"]+)"', response.text)
    assert link and client.get(link.group(1).replace("&amp;", "&")).status_code == 200


def test_facets_count_pages_and_narrow_the_query(client, web_library):
    response = client.get("/search", params={"q": "县里"})
    assert response.status_code == 200
    both = _hits(response.text)
    assert len(both) == 2  # the scan's page 1 and 纪事.txt
    decades = re.findall(r'<a href="([^"]+)">(\d+)年代</a> <span class="count">(\d+)</span>',
                         response.text)
    assert {(d, int(n)) for _, d, n in decades} >= {("1950", 1), ("1960", 1)}
    url = next(u for u, d, _ in decades if d == "1960").replace("&amp;", "&")
    assert "decade=1960" in url
    narrowed = client.get(url)
    assert _hits(narrowed.text) == [(web_library["text"], 1)]
    assert "年代：1960年代 ×" in narrowed.text


def test_search_paging_and_shareable_urls(client):
    first = client.get("/search", params={"collection": "交通史"})
    assert first.status_code == 200
    assert len(_hits(first.text)) == 4  # every page of the collection, no query needed
    assert client.get("/search", params={"collection": "交通史", "page": "2"}).status_code == 200
    assert _hits(client.get("/search", params={"collection": "交通史", "page": "2"}).text) == []


def test_a_malformed_query_is_a_400_page_that_says_why(client):
    response = client.get("/search", params={"q": "(铁路"})
    assert response.status_code == 400
    assert "检索式有误" in response.text and "parentheses" in response.text


def test_page_view_outlines_and_marks_the_same_occurrence(client, web_library):
    response = client.get(f"/doc/{web_library['scan']}/1", params={"q": web_library["phrase"]})
    assert response.status_code == 200
    marks = re.findall(r'<mark data-hit="(\d+)">([^<]*)</mark>', response.text)
    assert marks == [("0", web_library["phrase"])]
    boxes = re.findall(r'data-hit-box="(\d+)" data-x="(\d+)" data-y="(\d+)" data-w="(\d+)" '
                       r'data-h="(\d+)"', response.text)
    assert [b[0] for b in boxes] == ["0"]
    x, y, w, h = (int(v) for v in boxes[0][1:])
    px, py, pw, ph = web_library["phrase_box"]
    assert x <= px + 8 and y <= py + 8 and x + w >= px + pw - 8 and y + h >= py + ph - 8
    assert w * h < 3 * pw * ph  # around the phrase, not the whole line or page
    assert 'rel="next"' in response.text and 'rel="prev"' not in response.text
    assert "王德明. 岚江县交通志[A]. 交通史, 1985-06: 1." in response.text
    assert "/static/openseadragon/openseadragon.min.js" in response.text


def test_text_pages_show_the_text_alone(client, web_library):
    response = client.get(f"/doc/{web_library['text']}/1", params={"q": "公路"})
    assert response.status_code == 200
    assert 'id="viewer"' not in response.text and "openseadragon" not in response.text
    assert '<mark data-hit="0">公路</mark>' in response.text


def test_document_view_has_the_record_tags_and_thumbnails(client, web_library):
    response = client.get(f"/doc/{web_library['scan']}")
    assert response.status_code == 200
    thumbs = re.findall(r'<img loading="lazy" src="([^"]+)"', response.text)
    assert len(thumbs) == 2
    image = client.get(thumbs[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(image.content)).size) <= 320
    assert "撰稿人" in response.text and "王德明" in response.text
    assert f"/iiif/{web_library['scan']}/manifest.json" in response.text


def test_image_service_is_level_0_with_the_sizes_kept_at_ingest(client, web_library):
    ident = f"{web_library['scan']}-1"
    info = client.get(f"/iiif/image/{ident}/info.json")
    assert info.status_code == 200
    data = info.json()
    assert data["type"] == "ImageService3" and data["profile"] == "level0"
    assert data["id"].endswith(f"/iiif/image/{ident}")
    assert info.headers["access-control-allow-origin"] == "*"
    sizes = [(s["width"], s["height"]) for s in data["sizes"]]
    assert sizes == sorted(sizes) and sizes[-1] == (data["width"], data["height"])
    for w, h in sizes:
        jpeg = client.get(f"/iiif/image/{ident}/full/{w},{h}/0/default.jpg")
        assert jpeg.status_code == 200
        assert Image.open(io.BytesIO(jpeg.content)).size == (w, h)
    assert client.get(f"/iiif/image/{ident}/full/max/0/default.jpg").status_code == 200
    assert client.get(f"/iiif/image/{ident}/full/17,23/0/default.jpg").status_code == 404
    assert client.get(f"/iiif/image/{ident}", follow_redirects=False).status_code == 303


def test_manifest_validates_with_iiif_prezi3(client, web_library):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from iiif_prezi3 import Manifest
    response = client.get(f"/iiif/{web_library['scan']}/manifest.json")
    assert response.status_code == 200
    data = response.json()
    manifest = Manifest(**{k: v for k, v in data.items() if k != "@context"})
    assert len(manifest.items) == 2
    canvas = data["items"][0]
    assert canvas["id"].endswith(f"/doc/{web_library['scan']}/1")
    assert canvas["label"] == {"zh": ["第1页"]}
    body = canvas["items"][0]["items"][0]["body"]
    assert body["service"][0]["profile"] == "level0"
    assert client.get(body["id"]).status_code == 200
    assert data["service"][0]["type"] == "SearchService2"
    assert {"label": {"zh": ["撰稿人"]}, "value": {"zh": ["王德明"]}} in data["metadata"]


def test_content_search_targets_the_canvas_region_of_each_hit(client, web_library):
    response = client.get(f"/iiif/{web_library['scan']}/search",
                          params={"q": f'"{web_library["phrase"]}"'})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 1
    target = items[0]["target"]
    canvas, xywh = target.split("#xywh=")
    assert canvas.endswith(f"/doc/{web_library['scan']}/1")
    x, y, w, h = map(int, xywh.split(","))
    px, py, pw, ph = web_library["phrase_box"]
    assert x <= px + 8 and y <= py + 8 and x + w >= px + pw - 8 and y + h >= py + ph - 8
    assert items[0]["body"]["value"] == web_library["phrase"]


def test_unknown_ids_pages_and_paths_are_404(client, web_library):
    scan = web_library["scan"]
    for path in ["/doc/0123456789abcdef", f"/doc/{scan}/9", f"/doc/{scan}/0",
                 f"/doc/{scan[:8]}", "/doc/..%2f..%2fcatalog.sqlite",
                 "/iiif/0123456789abcdef/manifest.json", "/iiif/image/0123456789abcdef-1/info.json",
                 f"/iiif/image/{web_library['text']}-1/info.json", "/static/..%2fapp.py",
                 "/static/%2e%2e/%2e%2e/catalog.sqlite", "/catalog.sqlite", "/pages/"]:
        assert client.get(path).status_code == 404, path


def test_read_only(client, web_library):
    assert client.post("/search", data={"q": "x"}).status_code == 405
    assert client.delete(f"/doc/{web_library['scan']}/1").status_code == 405


def test_an_image_file_linked_out_of_the_library_is_not_served(tmp_path, web_library):
    import shutil

    library = tmp_path / "copy"
    shutil.copytree(web_library["library"], library)
    target = next((library / "pages" / web_library["scan"]).glob("0001.*.jpg"))
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(secret)
    width, height = target.name.split(".")[1].split("x")
    with Library.open(library) as opened, TestClient(build_app(opened)) as client:
        url = f"/iiif/image/{web_library['scan']}-1/full/{width},{height}/0/default.jpg"
        assert client.get(url).status_code == 404


def _listed(html: str) -> list[tuple[str, int]]:
    return [(d, int(p)) for d, p in re.findall(r'data-proofread="([0-9a-f]{16}):(\d+)"', html)]


def test_the_proofreading_list_is_stats_order_with_each_collections_errors(
        tmp_path, web_library, monkeypatch):
    import shutil
    import sqlite3

    from index.web import views

    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    scan = web_library["scan"]
    with Library.open(library, proofread_threshold=101) as lib:  # every OCR page is listed
        lib.tag(scan, {"title": "<b>岚江</b><script>window.__x=1</script>"})
        stats = lib.stats()
        expected = [(p.doc_id, p.number) for p in stats.proofreading]
        assert sorted(expected) == [(scan, 1), (scan, 2)]
        errors = stats.proofreading_errors()["交通史"]
        monkeypatch.setattr(views, "PER_PROOFREAD", 1)  # one listed page to a list page
        with TestClient(build_app(lib)) as client:
            assert 'href="/proofread"' in client.get("/").text  # in the header, read-only too
            first = client.get("/proofread")
            assert first.status_code == 200
            assert _listed(first.text) == expected[:1]
            assert "共 <strong>2</strong> 页需校对" in first.text and "第 1 / 2 页" in first.text
            row = re.search(r'<tr data-collection="交通史" data-errors="(\d+)">(.*?)</tr>',
                            first.text, re.S)
            assert row and int(row.group(1)) == errors
            assert re.search(r"<td>2</td>", row.group(2))  # pages to proofread
            # the title is shown as text, never markup
            assert "&lt;script&gt;window.__x=1&lt;/script&gt;" in first.text
            assert "<script>window.__x" not in first.text and "<b>岚江" not in first.text
            second = client.get("/proofread", params={"page": "2"})
            assert _listed(second.text) == expected[1:]
            # past the end: the last list page, not an empty one
            assert _listed(client.get("/proofread", params={"page": "99"}).text) == expected[1:]
            one = client.get("/proofread", params={"collection": "交通史"})
            assert _listed(one.text) == expected[:1] and "需校对：交通史" in one.text
            assert client.get("/proofread", params={"collection": "无此汇集"}).status_code == 404
            link = re.search(r'href="(/doc/[0-9a-f]{16}/\d+)"', first.text.split("<ol", 1)[1])
            assert link and client.get(link.group(1)).status_code == 200
    # A document whose ingest did not complete is neither counted nor listed.
    with sqlite3.connect(library / "catalog.sqlite") as db:
        db.execute("UPDATE documents SET status = 'partial' WHERE doc_id = ?", (scan,))
    with Library.open(library, proofread_threshold=101) as lib:
        assert lib.stats().proofreading == ()
        with TestClient(build_app(lib)) as client:
            empty = client.get("/proofread")
            assert empty.status_code == 200 and _listed(empty.text) == []
            assert "没有需校对的页" in empty.text


def test_the_proofreading_list_is_kept_until_the_catalog_changes(tmp_path, web_library,
                                                                 monkeypatch):
    import shutil

    from index.catalog import Catalog

    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    scan = web_library["scan"]
    reads: list[float] = []
    listing = Catalog.proofreading_pages

    def counted(self, threshold, collection=None):
        reads.append(threshold)
        return listing(self, threshold, collection)

    monkeypatch.setattr(Catalog, "proofreading_pages", counted)
    with Library.open(library, proofread_threshold=101) as lib:  # every OCR page is listed
        lib.add_editor("王编辑", "校对用的口令123")
        with TestClient(build_app(lib)) as client:
            assert sorted(_listed(client.get("/proofread").text)) == [(scan, 1), (scan, 2)]
            client.get("/proofread", params={"page": "1"})
            assert len(reads) == 1  # the second request read nothing
            # An editor marks page 1 已校对 through another connection (serve --edit's editor,
            # the CLI): the next request reads the list again.
            with Library.open(library, proofread_threshold=101) as other:
                text = other.page_text(scan, 1).text
                other.save_page(scan, 1, text, editor="王编辑", base_version=0, proofread=True)
            assert _listed(client.get("/proofread").text) == [(scan, 2)]
            assert len(reads) == 2
