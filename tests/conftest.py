"""Shared fixtures: the sample manifest, generated bad inputs, a library built from samples."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def tesseract_or_skip() -> None:
    """Outside CI a missing Tesseract skips; under CI it is a failure (a hidden install gap)."""
    if shutil.which("tesseract") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Tesseract is not installed but CI=true: the install step is broken")
        pytest.skip("Tesseract is not installed")


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """samples/manifest.json: every sample file with kind, page count and a unique phrase."""
    return json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_bad_inputs(folder: Path) -> dict[str, str]:
    """Write one file per kind of bad input; returns {file name: words its error must contain}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "空文件.png").write_bytes(b"")
    good_png = (SAMPLES / "power" / "县电厂 回忆录.png").read_bytes()
    (folder / "truncated scan.png").write_bytes(good_png[: len(good_png) // 3])
    (folder / "not really.pdf").write_text("这不是PDF文件，只是一段文字。", encoding="utf-8")
    # A PNG header claiming 100000 x 100000 pixels: the decompression-bomb guard must refuse it
    # from the header alone, before any pixel is decoded.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))
    (folder / "bomb.png").write_bytes(bomb)
    (folder / "损坏的草稿.docx").write_bytes(b"PK\x03\x04 this is not a real zip archive at all")
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(folder / "encrypted.pdf"), encrypt="secret-password")
    pdf.drawString(72, 720, "locked")
    pdf.save()
    (folder / "notes.xyz").write_text("unknown type", encoding="utf-8")
    return {
        "空文件.png": "empty file",
        "truncated scan.png": "damaged",
        "not really.pdf": "not a readable PDF",
        "bomb.png": "decompression bomb",
        "损坏的草稿.docx": "docx",
        "encrypted.pdf": "encrypted",
    }


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory,
                  manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The two sample collections plus bad inputs, ingested once through the CLI with real OCR."""
    tesseract_or_skip()
    from cli import main

    base = tmp_path_factory.mktemp("e2e")
    library = base / "library"
    bad = base / "bad inputs 坏文件"
    expected_errors = make_bad_inputs(bad)
    runner = CliRunner()
    results = {}
    for collection_dir in ("power", "railway"):
        collection = next(f["collection"] for f in manifest["files"]
                          if f["collection_dir"] == collection_dir)
        paths = [str(SAMPLES / collection_dir)]
        if collection_dir == "power":
            paths.append(str(bad))
        results[collection_dir] = runner.invoke(
            main, ["--library", str(library), "ingest", *paths, "--collection", collection,
                   "--json"])
    yield {"library": library, "bad": bad, "expected_errors": expected_errors, "results": results,
           "runner": runner}


# -- the reading room (index/web/): a library with known scans, a server, a browser ------------
# Shared with other web tests (proofreading): see tests/browser.py for what each fixture offers.

WEB_PHRASE = "清水江大桥"  # chi_sim reads it exactly at this size (tests/scanned_pages.py)
WEB_XSS_TITLE = "<img src=x onerror=\"window.__xss='title'\">标题'\"&amp;"
WEB_XSS_TEXT = ("桃花渡口的故事。<script>window.__xss='text'</script>"
                "<img src=x onerror=\"window.__xss='img'\"> 他说：\"好\"，'对' & </p>")


def _web_scan(lines: list[str], phrase: str) -> tuple[Any, tuple[int, int, int, int] | None]:
    """A page of Chinese lines at 300 dpi and the box (x, y, w, h) where `phrase` was drawn."""
    from PIL import Image, ImageDraw, ImageFont

    from tests.scanned_pages import FONT, FONT_SC

    font = ImageFont.truetype(FONT, 44, index=FONT_SC)
    image = Image.new("L", (1300, 160 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    box = None
    for i, line in enumerate(lines):
        y = 100 + 90 * i
        draw.text((90, y), line, font=font, fill=0)
        at = line.find(phrase)
        if at >= 0 and box is None:
            left = 90 + font.getlength(line[:at])
            x0, y0, x1, y1 = draw.textbbox((left, y), phrase, font=font)
            box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    return image, box


@pytest.fixture(scope="session")
def web_library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A library for the reading room: a two-page scanned TIFF whose page 1 carries WEB_PHRASE
    at a known place, a text file and a metadata title full of markup (XSS), a plain text
    document; ingested through the CLI with the real Tesseract.

    Yields {"library": Path, "scan": doc_id, "phrase": str, "phrase_box": (x, y, w, h) in the
    scan's pixels, "xss": doc_id, "text": doc_id}."""
    tesseract_or_skip()
    from cli import main
    from tests.scanned_pages import LANG

    base = tmp_path_factory.mktemp("web")
    sources = base / "源文件"
    sources.mkdir()
    page1, box = _web_scan(["岚江县交通志（选录）", "一九五八年春，县里决定在城南兴建",
                            f"{WEB_PHRASE}，由省交通厅派员勘测设计。", "次年十月建成通车。"],
                           WEB_PHRASE)
    page2, _ = _web_scan(["大桥建成以后，两岸往来方便，", "集市也日渐兴旺起来。"], WEB_PHRASE)
    page1.save(sources / "交通志.tif", save_all=True, append_images=[page2],
               compression="tiff_deflate", dpi=(300, 300))
    (sources / "渡口.txt").write_text(WEB_XSS_TEXT + "\n一九四六年渡口重修。", encoding="utf-8")
    (sources / "纪事.txt").write_text("一九六二年，县里修通了公路，清水江两岸有了汽车。",
                                    encoding="utf-8")
    sheet = base / "目录.csv"
    sheet.write_text("file,title,contributor,date\n"
                     f"渡口.txt,\"{WEB_XSS_TITLE.replace(chr(34), chr(34) * 2)}\","
                     "\"<script>window.__xss='contributor'</script>\",1946\n"
                     "交通志.tif,岚江县交通志,王德明,1985-06\n", encoding="utf-8")
    library = base / "library"
    result = CliRunner().invoke(main, ["--library", str(library), "ingest", str(sources),
                                       "--collection", "交通史", "--metadata", str(sheet),
                                       "--lang", LANG, "--json"])
    assert result.exit_code == 0, result.output
    docs = {Path(d["path"]).name: d["doc_id"] for d in json.loads(result.stdout)["documents"]}
    assert box is not None
    return {"library": library, "scan": docs["交通志.tif"], "phrase": WEB_PHRASE,
            "phrase_box": box, "xss": docs["渡口.txt"], "text": docs["纪事.txt"]}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for the session."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip

    sync_playwright = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page (1280x800); `page.console_errors` lists its console errors."""
    from tests.browser import new_page

    page = new_page(chromium)
    yield page
    page.context.close()


@pytest.fixture
def wenshi_server() -> Iterator[Any]:
    """`wenshi_server(library, *args)` starts `wenshi serve` on a free port, returns the
    Server (`.url`, `.process`, `.ready_after`); every one is stopped (Ctrl-C) after the test."""
    from tests.browser import Server

    started: list[Server] = []

    def start(library: Path, *args: str) -> Server:
        server = Server(library, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def served(web_library: dict[str, Any]) -> Iterator[Any]:
    """The reading room over `web_library`, for the session (a tests.browser.Server)."""
    from tests.browser import Server

    server = Server(web_library["library"])
    yield server
    server.stop()
