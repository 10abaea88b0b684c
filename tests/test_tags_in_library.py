"""Catalog metadata and automatic tags in a library: CSV on ingest, tag --set, retag, filters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main

from .conftest import ROOT

DRAFTS = {
    "民国电灯公司.txt": "民国二十六年，周汉卿在岚江县创办电灯公司，装柴油发电机一台，供县城商铺照明。"
                  "抗日战争时期，电灯公司几度停办。",
    "新厂扩建.txt": "1958年，县电厂在东郊扩建，新装汽轮发电机组两台，王德明任厂长。工厂产值和发电量大幅增长。",
    "铁路勘测.txt": "一九五六年春，勘测队从株洲市出发，沿岚江河谷踏勘铁路线路，李秀英担任测量员。",
}
EXPECTED_TAG_KEYS = {"years", "period", "subjects", "persons", "places", "organizations",
                     "keywords", "doctype", "char_count"}


def _library(tmp_path: Path) -> tuple[CliRunner, Path, dict[str, str]]:
    folder = tmp_path / "稿件"
    folder.mkdir()
    for name, text in DRAFTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    sheet = tmp_path / "目录.csv"
    sheet.write_bytes((
        "file,title,contributor,region,volume,date,doctype,notes,来源\n"
        "民国电灯公司.txt,岚江电灯公司始末,赵春生,岚江县,第一辑,1987-05,回忆录,,政协征集\n"
        "新厂扩建.txt,县电厂扩建,钱玉芬,岚江县,第二辑,1988,史料,,\n"
        "铁路勘测.txt,勘测日记,孙永福,株洲市,13th,1990,,,\n"
    ).encode("gbk"))
    runner = CliRunner()
    library = tmp_path / "library"
    result = runner.invoke(main, ["--library", str(library), "ingest", str(folder),
                                  "--collection", "电力工业史", "--metadata", str(sheet), "--json"])
    assert result.exit_code == 1, result.output  # the bad volume row
    summary = json.loads(result.stdout)
    assert summary["ingested"] == 3
    assert summary["failed"] == [{"path": str(sheet),
                                  "error": "row 4, column volume: '13th' is not a volume number "
                                           "(e.g. 3 or 第三辑)"}]
    ids = {Path(d["path"]).name: d["doc_id"] for d in summary["documents"]}
    return runner, library, ids


def _run(runner: CliRunner, library: Path, *args: str) -> dict:
    result = runner.invoke(main, ["--library", str(library), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_metadata_and_tags_are_stored_and_shown(tmp_path):
    runner, library, ids = _library(tmp_path)
    doc = _run(runner, library, "show", ids["民国电灯公司.txt"], "--json")
    assert doc["title"] == "岚江电灯公司始末"
    assert doc["metadata"]["contributor"] == "赵春生" and doc["metadata"]["来源"] == "政协征集"
    assert set(doc["tags"]) == EXPECTED_TAG_KEYS
    assert doc["tags"]["years"] == [1937] and doc["tags"]["period"] == "建国前"
    assert ["周汉卿", 1] in doc["tags"]["persons"]
    assert any(name == "岚江县" for name, _ in doc["tags"]["places"])
    unlisted = _run(runner, library, "show", ids["铁路勘测.txt"], "--json")
    assert "contributor" not in unlisted["metadata"]  # its row was refused, the file still went in
    assert unlisted["tags"]["years"] == [1956]


def test_every_tag_kind_reaches_the_index_show_the_csv_export_and_tag_set(tmp_path):
    # A new kind of tag is one field of pipeline.records.Tags: everything else derives from it.
    from dataclasses import fields

    from index.schema import build_schema
    from pipeline.records import TAG_KINDS, Tags

    assert {f.name for f in fields(Tags)} - {k.name for k in TAG_KINDS} == {"char_count"}
    runner, library, ids = _library(tmp_path)
    doc_id = ids["民国电灯公司.txt"]
    values = {"years": ("1888", "1888"), "period": ("试验期", "试验期"), "subjects": ("文化", "文化"),
              "persons": ("张三丰", "张三丰"), "places": ("青石滩", "青石滩"),
              "organizations": ("岚江县档案局", "岚江县档案局"), "keywords": ("Dynamo", "dynamo")}
    assert set(values) == {k.name for k in TAG_KINDS if k.correctable}
    tagged = runner.invoke(main, ["--library", str(library), "tag", doc_id,
                                  *(f"--set={k}={v}" for k, (v, _) in values.items())])
    assert tagged.exit_code == 0, tagged.output
    shown = _run(runner, library, "show", doc_id, "--json")["tags"]
    text = runner.invoke(main, ["--library", str(library), "show", doc_id]).stdout
    schema = build_schema()
    export = tmp_path / "catalog-export.csv"
    exported = runner.invoke(main, ["--library", str(library), "export", "电力工业史",
                                    "--format", "csv", "--output", str(export)])
    assert exported.exit_code == 0, exported.output
    header = export.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    for kind in TAG_KINDS:
        assert kind.index_field in schema.names(), kind
        assert kind.name in shown and f"tag {kind.name:8}" in text, kind
        assert kind.label in header, kind
        if kind.correctable:
            query = f"{kind.index_field}:{values[kind.name][1]}"
            found = _run(runner, library, "search", query, "--json")["hits"]
            assert [h["doc_id"] for h in found] == [doc_id], kind


def test_tag_filters_in_search(tmp_path):
    runner, library, ids = _library(tmp_path)

    def docs(query: str) -> set[str]:
        return {h["doc_id"]
                for h in _run(runner, library, "search", query, "--json", "--limit", "0")["hits"]}

    assert docs("period:建国前") == {ids["民国电灯公司.txt"]}
    assert docs("year:1937") == {ids["民国电灯公司.txt"]}
    assert docs("year:1950-1960") == {ids["新厂扩建.txt"], ids["铁路勘测.txt"]}
    assert docs("person:王德明") == {ids["新厂扩建.txt"]}
    assert docs("person:李秀英 place:株洲市") == {ids["铁路勘测.txt"]}
    assert docs("contributor:钱玉芬") == {ids["新厂扩建.txt"]}
    assert docs("subject:经济") >= {ids["新厂扩建.txt"]}
    assert docs("doctype:回忆录") == {ids["民国电灯公司.txt"]}


def test_tag_set_corrects_fields_and_retag_uses_new_dictionaries_without_ocr(tmp_path):
    runner, library, ids = _library(tmp_path)
    doc_id = ids["铁路勘测.txt"]
    fixed = _run(runner, library, "tag", doc_id, "--set", "contributor=孙永福", "--set",
                 "period=建国前", "--json")
    assert fixed["metadata"]["contributor"] == "孙永福" and fixed["tags"]["period"] == "建国前"
    hits = _run(runner, library, "search", "period:建国前", "--json", "--limit", "0")["hits"]
    assert doc_id in {h["doc_id"] for h in hits}

    # A name jieba does not know is found once the library's user dictionary lists it.
    before = _run(runner, library, "show", ids["新厂扩建.txt"], "--json")
    assert "东郊扩建" not in {n for n, _ in before["tags"]["places"]}
    (library / "userdict.txt").write_text("东郊扩建 50 ns\n", encoding="utf-8")
    pages_before = before["pages"]
    result = runner.invoke(main, ["--library", str(library), "reindex", "--retag"])
    assert result.exit_code == 0 and "with fresh tags" in result.stdout
    after = _run(runner, library, "show", ids["新厂扩建.txt"], "--json")
    assert "东郊扩建" in {n for n, _ in after["tags"]["places"]}
    assert after["pages"] == pages_before  # the text was not touched, no OCR
    # The archivist's correction outlives the retag, and the retagged documents are all indexed.
    assert _run(runner, library, "show", doc_id, "--json")["tags"]["period"] == "建国前"
    assert runner.invoke(main, ["--library", str(library), "check"]).exit_code == 0
    bad = runner.invoke(main, ["--library", str(library), "tag", doc_id, "--set", "date=1958-13"])
    assert bad.exit_code == 2 and bad.stderr.strip() == (
        "Error: field date: '1958-13' is not a date (month 1-12, day 1-31)")


# Documents fed to the library sink the way an ingest of .txt files feeds them.
_FEED = '''
import sys
from pathlib import Path
from index.library import LibraryFolder
from index.writer import IndexQueue
from pipeline.config import Config
from pipeline.records import KIND_TEXT, METHOD_TEXT, Page, SourceFile
from pipeline.run.sources import DocumentPlan

def feed(lib, drafts):
    for i, (name, text) in enumerate(drafts):
        doc_id = f"doc{i:03d}"
        pages = tuple(Page(number=n + 1, text=t, method=METHOD_TEXT)
                      for n, t in enumerate(text.split("|")))
        plan = DocumentPlan(SourceFile(f"{name}.txt", KIND_TEXT, doc_id, len(text.encode())),
                            name, pages)
        lib.begin_document(plan, "电力工业史", {"tag.period": "建国前"} if i == 1 else {})
        for page in pages:
            lib.store_page(doc_id, page)
        lib.finish_document(doc_id)
'''


def _drafts(copies: int) -> list[tuple[str, str]]:
    # Pages joined by "|"; the copies differ in their year so no two documents are alike.
    return [(f"{Path(name).stem}{k}", text.replace("。", f"。|{1950 + k}年，", 1))
            for k in range(copies) for name, text in DRAFTS.items()]


def _catalog_tags(library: Path) -> dict[str, tuple[str, dict, str]]:
    import sqlite3

    with sqlite3.connect(library / "catalog.sqlite") as db:
        rows = db.execute("SELECT doc_id, title, metadata, tags, indexed FROM documents").fetchall()
        texts = {d: "\n".join(r[0] for r in db.execute(
            "SELECT text FROM pages WHERE doc_id = ? ORDER BY number", (d,))) for d, *_ in rows}
    return {d: (title, {**json.loads(meta), "indexed": indexed}, json.loads(tags), texts[d])
            for d, title, meta, tags, indexed in rows}


def _expected_tags(library: Path, title: str, metadata: dict, text: str) -> dict:
    from index.tags import tags_for_text

    metadata = {k: v for k, v in metadata.items() if k != "indexed"}
    return tags_for_text(text, title, library, metadata).to_dict()


def test_index_workers_tag_documents_as_the_writer_would(tmp_path, monkeypatch):
    from index.library import LibraryFolder
    from index.writer import IndexQueue
    from pipeline.config import Config

    # Workers from the first document on, and a backlog so small that the writer commits what
    # they have done and tags documents itself as it goes: every path of the pooled writer.
    monkeypatch.setattr(IndexQueue, "POOL_MIN_CHARS", 0)
    monkeypatch.setattr(IndexQueue, "BACKLOG_CHARS", 150)
    namespace: dict = {}
    exec(_FEED, namespace)
    library = tmp_path / "library"
    (tmp_path / "library").mkdir()
    (library / "userdict.txt").write_text("东郊扩建 50 ns\n", encoding="utf-8")
    with LibraryFolder(Config.resolve(library=library, jobs=2), create=True, writable=True) as lib:
        namespace["feed"](lib, _drafts(4))
    docs = _catalog_tags(library)
    assert len(docs) == 12
    for title, metadata, tags, text in docs.values():
        assert metadata["indexed"] == 1
        assert tags == _expected_tags(library, title, metadata, text)
    assert "东郊扩建" in {n for n, _ in docs["doc001"][2]["places"]}  # the library's user dictionary
    assert docs["doc001"][2]["period"] == "建国前"  # the tag.period override, though 1950 is after
    runner = CliRunner()
    hits = _run(runner, library, "search", "person:王德明", "--json", "--limit", "0")["hits"]
    assert {h["doc_id"] for h in hits} == {"doc001", "doc004", "doc007", "doc010"}


def test_documents_left_untagged_by_a_killed_writer_are_tagged_by_check_repair(tmp_path):
    from index.catalog import tags_pending

    library = tmp_path / "library"
    # The writer dies (os._exit: no commit, no clean-up) after its last document is complete:
    # what the workers computed is lost with it.
    script = _FEED + f'''
IndexQueue.POOL_MIN_CHARS = 0
lib = LibraryFolder(Config.resolve(library={str(library)!r}, jobs=2), create=True, writable=True)
feed(lib, {_drafts(2)!r})
import os
os._exit(0)
'''
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    try:
        assert writer.wait(timeout=120) == 0
    finally:
        try:  # its worker processes outlive it (as they would a `kill -9`): end them
            os.killpg(writer.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    left = _catalog_tags(library)
    assert any(tags_pending(tags) and not meta["indexed"] for _, meta, tags, _ in left.values())
    runner = CliRunner()
    waiting = next(d for d, (_, meta, tags, _) in left.items() if tags_pending(tags))
    shown = runner.invoke(main, ["--library", str(library), "show", waiting])
    assert "tags         pending" in shown.stdout and "tag pending" not in shown.stdout
    found = runner.invoke(main, ["--library", str(library), "check"])
    assert found.exit_code == 1 and "missing from the index" in found.stdout
    repaired = runner.invoke(main, ["--library", str(library), "check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    for title, metadata, tags, text in _catalog_tags(library).values():
        assert metadata["indexed"] == 1 and not tags_pending(tags)
        assert tags == _expected_tags(library, title, metadata, text)
    hits = _run(runner, library, "search", "person:李秀英", "--json", "--limit", "0")["hits"]
    assert {h["doc_id"] for h in hits} == {"doc002", "doc005"}
