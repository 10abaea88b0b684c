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
