"""A library made before a change keeps opening, searching and taking new documents.

tests/data/library-592c1e5 was built by the code before the pipeline's rooms were split
(tests/data/README.md says how). Whoosh unpickles its schema (index.analysis) on open.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

from .conftest import SAMPLES

OLD = Path(__file__).resolve().parent / "data" / "library-592c1e5"
OCR_DOC = "eec9b3d99048f6e0"  # 勘测队日记 1956.tif, read by Tesseract at the time


@pytest.fixture()
def old_library(tmp_path: Path) -> Path:
    library = tmp_path / "library"
    shutil.copytree(OLD, library)
    return library


def _run(library: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--library", str(library), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_old_library_opens_and_searches(old_library: Path) -> None:
    found = json.loads(_run(old_library, "search", "铁路", "--json"))
    assert [hit["title"] for hit in found["hits"]] == ["老工人回憶錄（繁體）"]
    shown = json.loads(_run(old_library, "show", OCR_DOC, "--json"))
    assert shown["title"] == "勘测队日记 1956" and shown["status"] == "complete"
    assert shown["pages"][0]["text"] and shown["pages"][0]["confidence"] > 50
    assert json.loads(_run(old_library, "search", '"勘测队"', "--json"))["total"] == 1


def test_an_old_library_takes_new_documents(old_library: Path) -> None:
    _run(old_library, "ingest", str(SAMPLES / "railway" / "铁路建设史编写说明.md"),
         "--collection", "新卷")
    found = json.loads(_run(old_library, "search", "铁路", "--json", "--limit", "0"))
    assert {hit["collection"] for hit in found["hits"]} == {"旧库", "新卷"}
    stats = json.loads(_run(old_library, "stats", "--json"))
    assert {c["name"]: c["documents"] for c in stats["collections"]} == {"旧库": 3, "新卷": 1}
    # Ingesting an old document again finds it stored.
    again = _run(old_library, "ingest", str(SAMPLES / "power" / "电力志稿_农村电气化.txt"),
                 "--collection", "旧库", "--json")
    assert json.loads(again)["skipped"] == 1
