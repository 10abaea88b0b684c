"""Issue 17: BagIt packages. A collection leaves as a bag that validates (sha256 and sha512) and
comes back into a fresh library with its catalog fields, corrections and tags: the same hits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import bagit
from click.testing import CliRunner

from cli import main
from index.api import Library
from tests.conftest import SAMPLES


def wenshi(library: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--library", str(library), *args])


def hits(library: Path, query: str) -> list[tuple[str, int, str]]:
    result = wenshi(library, "search", query, "--limit", "0", "--json")
    assert result.exit_code == 0, result.output
    return sorted((h["doc_id"], h["page"], h["title"]) for h in json.loads(result.stdout)["hits"])


def test_bag_validates_and_restores_a_collection_in_a_fresh_library(built_library: Any,
                                                                    tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(built_library["library"], library)
    # A correction, catalog fields and a tag correction the bag must carry.
    with Library.open(library) as lib:
        doc = next(d for d in lib.search("collection:电力工业史", limit=0).hits
                   if d.title == "青石滩水电站")
        lib.add_editor("校对员", "a long enough password")
        page = lib.page_text(doc.doc_id, 1)
        lib.save_page(doc.doc_id, 1, page.text + "\n校对补记：拦河坝一九六八年合龙。",
                      editor="校对员", base_version=page.version, proofread=True)
        lib.tag(doc.doc_id, {"contributor": "陈国栋", "period": "建国后"})
    bag_dir = tmp_path / "bag"
    result = wenshi(library, "export", "电力工业史", "--format", "bagit", "-o", str(bag_dir))
    assert result.exit_code == 0, result.output

    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # every payload file against both manifests
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Wenshi-Collection"] == "电力工业史"
    documents = {d.name for d in (bag_dir / "data" / "documents").iterdir()}
    collections = json.loads(wenshi(library, "collections", "--json").stdout)
    assert len(documents) == next(c["documents"] for c in collections if c["name"] == "电力工业史")
    assert doc.doc_id in documents
    record = json.loads((bag_dir / "data" / "documents" / doc.doc_id / "catalog.json")
                        .read_text(encoding="utf-8"))
    assert record["metadata"]["contributor"] == "陈国栋"
    assert [v["version"] for v in record["versions"] if v["number"] == 1] == [0, 1]
    pages = bag_dir / "data" / "documents" / doc.doc_id / "pages"
    assert (pages / "0001.alto.xml").is_file() and (pages / "0001.alto.ocr.xml").is_file()
    assert "拦河坝一九六八年合龙" in (pages / "0001.txt").read_text(encoding="utf-8")
    assert (bag_dir / "data" / "documents" / doc.doc_id / "original" / "青石滩水电站.tif").is_file()
    assert (bag_dir / "data" / "documents" / doc.doc_id / "dc.xml").is_file()
    assert (bag_dir / "data" / "目录.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    fresh = tmp_path / "fresh"
    restored = wenshi(fresh, "ingest", str(bag_dir), "--collection", "unused")
    assert restored.exit_code == 0, restored.output
    assert wenshi(fresh, "check").exit_code == 0
    for query in ("电厂", '"水电站"', "合龙", "contributor:陈国栋", "period:建国后",
                  "collection:电力工业史", "person:王德明"):
        assert hits(fresh, query) == hits(library, f"({query}) collection:电力工业史"), query
    with Library.open(library) as lib, Library.open(fresh) as back_lib:
        scans = lib.page_scans(doc.doc_id)  # the reading room's page images come back too
        assert scans and {n: s.images for n, s in back_lib.page_scans(doc.doc_id).items()} == {
            n: s.images for n, s in scans.items()}
        for n, scan in scans.items():
            for size in scan.images:
                assert (back_lib.page_image_file(doc.doc_id, n, size).read_bytes()
                        == lib.page_image_file(doc.doc_id, n, size).read_bytes())
    with Library.open(fresh) as lib:
        back = lib.page_text(doc.doc_id, 1)
        assert back.version == 1 and back.proofread and "合龙" in back.text
        shown = lib.document(doc.doc_id)
        assert shown.metadata["contributor"] == "陈国栋" and shown.tags["period"] == "建国后"
    # Again: nothing twice.
    again = wenshi(fresh, "ingest", str(bag_dir), "--collection", "unused")
    assert again.exit_code == 0 and "0 ingested" in again.output


def test_a_damaged_bag_is_refused_and_a_missing_original_is_listed(tmp_path: Path) -> None:
    scan = tmp_path / "scans" / "输电线路.webp"
    scan.parent.mkdir()
    shutil.copy(SAMPLES / "power" / "输电线路.webp", scan)
    library = tmp_path / "library"
    assert wenshi(library, "ingest", str(scan), "--collection", "c").exit_code == 0
    scan.unlink()
    bag_dir = tmp_path / "bag"
    assert wenshi(library, "export", "c", "--format", "bagit", "-o", str(bag_dir)).exit_code == 0
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["Wenshi-Missing-Original"].endswith(str(scan))
    text = next((bag_dir / "data" / "documents").glob("*/pages/0001.txt"))
    text.write_text(text.read_text(encoding="utf-8") + "篡改", encoding="utf-8")
    refused = wenshi(tmp_path / "fresh", "ingest", str(bag_dir), "--collection", "c")
    assert refused.exit_code == 1 and "not a valid bag" in refused.stderr


def test_page_images_in_a_subfolder_get_checksums_travel_in_the_bag_and_come_back(
        tmp_path: Path) -> None:
    library = tmp_path / "library"
    scan = SAMPLES / "power" / "输电线路.webp"
    assert wenshi(library, "ingest", str(scan), "--collection", "c").exit_code == 0
    [folder] = list((library / "pages").iterdir())
    (folder / "images").mkdir()
    shutil.copy(scan, folder / "images" / "0001.webp")  # a page image kept by the library
    listed = json.loads(wenshi(library, "check", "--json").stdout)
    assert listed["fixity"]["unrecorded"] == [f"pages/{folder.name}/images/0001.webp"]
    assert wenshi(library, "check", "--repair").exit_code == 0
    bag_dir = tmp_path / "bag"
    assert wenshi(library, "export", "c", "--format", "bagit", "-o", str(bag_dir)).exit_code == 0
    bagit.Bag(str(bag_dir)).validate()
    bagged = bag_dir / "data" / "documents" / folder.name / "pages" / "images" / "0001.webp"
    assert bagged.read_bytes() == scan.read_bytes()
    fresh = tmp_path / "fresh"
    assert wenshi(fresh, "ingest", str(bag_dir), "--collection", "c").exit_code == 0
    restored = fresh / "pages" / folder.name / "images" / "0001.webp"
    assert restored.read_bytes() == scan.read_bytes()
    report = json.loads(wenshi(fresh, "check", "--json").stdout)
    assert report["ok"] and report["fixity"]["unrecorded"] == []
