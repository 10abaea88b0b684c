"""The page images a library keeps: `wenshi check` verifies them, `wenshi reindex --images`
makes them for libraries ingested before they were kept (and again for damaged ones)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.tesseract


def _copy(web_library: dict[str, Any], tmp_path: Path) -> Path:
    library = tmp_path / "library"
    shutil.copytree(web_library["library"], library)
    return library


def _wenshi(library: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--library", str(library), *args])


def _images(library: Path, doc_id: str) -> list[Path]:
    return sorted((library / "pages" / doc_id).glob("*.jpg"))


def test_ingest_keeps_the_images_and_check_verifies_them(web_library, tmp_path):
    library = _copy(web_library, tmp_path)
    kept = _images(library, web_library["scan"])
    assert [p.name for p in kept if p.name.startswith("0001.")] == [
        "0001.1300x520.jpg", "0001.163x65.jpg", "0001.325x130.jpg", "0001.650x260.jpg"]
    assert _images(library, web_library["text"]) == []  # a text file has no scan
    result = _wenshi(library, "check", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["images"] == {"checked": len(kept), "problems": []}

    damaged = next((library / "pages" / web_library["scan"]).glob("0002.650x*.jpg"))
    damaged.write_bytes(damaged.read_bytes()[:100])
    (library / "pages" / web_library["scan"] / "0001.163x65.jpg").unlink()
    result = _wenshi(library, "check")
    assert result.exit_code == 1
    assert f"image {web_library['scan']} page 2: 100 bytes, " in result.output
    assert f"image {web_library['scan']} page 1: missing" in result.output
    # each damaged image is named once: by the image check, not again by the checksums
    assert damaged.name in result.output and "0001.163x65.jpg" in result.output
    assert result.output.count(damaged.name) == 1
    assert result.output.count("0001.163x65.jpg") == 1
    assert "wenshi reindex --images" in result.output

    result = _wenshi(library, "reindex", "--images")
    assert result.exit_code == 0, result.output
    assert "made page images for 2 pages" in result.output
    assert _wenshi(library, "check").exit_code == 0


def test_a_library_from_before_kept_images_gets_them_from_the_originals(web_library, tmp_path):
    library = _copy(web_library, tmp_path)
    shutil.rmtree(library / "pages" / web_library["scan"])  # ALTO too: a re-made ALTO is not
    db = sqlite3.connect(library / "catalog.sqlite")
    db.execute("DROP TABLE page_images")  # as a catalog written before the table existed
    db.execute("DELETE FROM fixity WHERE doc_id = ?", (web_library["scan"],))  # its files' sums
    db.commit()
    db.close()
    result = _wenshi(library, "check", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["images"]["checked"] == 0

    result = _wenshi(library, "reindex", "--images")
    assert result.exit_code == 0, result.output
    assert "made page images for 2 pages" in result.output and "0 pages without" in result.output
    assert len(_images(library, web_library["scan"])) == 8
    assert _wenshi(library, "check").exit_code == 0


def test_pages_whose_source_is_gone_are_listed(web_library, tmp_path):
    library = _copy(web_library, tmp_path)
    for image in _images(library, web_library["scan"]):
        image.unlink()
    db = sqlite3.connect(library / "catalog.sqlite")
    db.execute("DELETE FROM page_images")
    db.execute("UPDATE documents SET path = ? WHERE doc_id = ?",
               (str(tmp_path / "moved away.tif"), web_library["scan"]))
    db.commit()
    db.close()
    result = _wenshi(library, "reindex", "--images")
    assert result.exit_code == 1
    for page in (1, 2):
        assert f"{web_library['scan']} page {page}: source file " in result.output
    assert "not found" in result.output
    assert "made page images for 0 pages" in result.output
