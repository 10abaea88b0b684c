"""Issue 17: the catalog sheet round trip (export, edit in openpyxl, import), `ingest --metadata`
updating stored documents, `rm` and `move` (kill -9 included), all on a real library."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import SAMPLES, tesseract_or_skip

MEMOIR = "b5ba023a93ec6160"  # 县电厂 回忆录.png
BRIEF = "3ccff24783cf9cfc"  # 县电厂简介.docx
CHRONICLE = "41ac8d6f46422d4b"  # 岚江县电力工业大事记.pdf
LINES = "67c15c38b73b58f2"  # 输电线路.webp


@pytest.fixture(scope="module")
def power_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/power ingested once with real OCR; tests work on copies."""
    tesseract_or_skip()
    library = tmp_path_factory.mktemp("power") / "library"
    result = CliRunner().invoke(main, ["--library", str(library), "ingest", str(SAMPLES / "power"),
                                       "--collection", "电力工业史"])
    assert result.exit_code == 0, result.output
    return library


@pytest.fixture
def library(power_library: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "library"
    shutil.copytree(power_library, copy)
    yield copy


def wenshi(library: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, ["--library", str(library), *args], input=input)


def show(library: Path, doc_id: str) -> dict[str, Any]:
    result = wenshi(library, "show", doc_id, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def search(library: Path, query: str, *extra: str) -> dict[str, Any]:
    result = wenshi(library, "search", query, "--limit", "0", "--json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def check_ok(library: Path) -> None:
    result = wenshi(library, "check", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["ok"] is True


def column(sheet: Any, header: str) -> int:
    return [c.value for c in sheet[1]].index(header) + 1


def row_of(sheet: Any, doc_id: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == doc_id)


def test_xlsx_round_trip_dry_run_then_import(library: Path, tmp_path: Path) -> None:
    sheet_path = tmp_path / "目录.xlsx"
    result = wenshi(library, "catalog", "export", "电力工业史", "-o", str(sheet_path))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(sheet_path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    assert headers[:10] == ["编号", "源文件", "题名", "汇集", "撰稿人", "地区", "卷次", "日期",
                            "文献类型", "备注"]
    assert sheet.max_row == 8  # seven documents
    memoir, brief, chronicle = (row_of(sheet, d) for d in (MEMOIR, BRIEF, CHRONICLE))
    assert sheet.cell(memoir, column(sheet, "人名")).value == "李秀英|王德明"
    sheet.cell(memoir, column(sheet, "题名")).value = "县电厂的创建"
    sheet.cell(memoir, column(sheet, "日期")).value = dt.datetime(1958, 7, 1)  # an Excel date
    sheet.cell(brief, column(sheet, "日期")).value = "1960-05"  # a date typed as text
    sheet.cell(brief, column(sheet, "撰稿人")).value = "钱玉芬"
    sheet.cell(row_of(sheet, LINES), column(sheet, "汇集")).value = "输变电志"  # a move
    sheet.cell(chronicle, column(sheet, "日期")).value = "1958-13-01"
    sheet.cell(chronicle, column(sheet, "撰稿人")).value = "不应写入"
    book.save(sheet_path)

    dry = wenshi(library, "catalog", "import", str(sheet_path), "--dry-run")
    assert dry.exit_code == 1
    assert dry.stdout.splitlines() == [
        f"{MEMOIR} title: 县电厂 回忆录 -> 县电厂的创建",
        f"{MEMOIR} date: '' -> 1958-07-01",
        f"{BRIEF} contributor: '' -> 钱玉芬",
        f"{BRIEF} date: '' -> 1960-05",
        f"{LINES} collection: 电力工业史 -> 输变电志",
        "would change 5 fields of 3 documents (dry run: nothing written)",
    ]
    bad_row = f"{sheet_path}: row {chronicle}, column date: '1958-13-01' is not a date"
    assert dry.stderr.splitlines() == [bad_row + " (month 1-12, day 1-31)"]
    assert show(library, MEMOIR)["title"] == "县电厂 回忆录"  # nothing written

    done = wenshi(library, "catalog", "import", str(sheet_path))
    assert done.exit_code == 1  # the bad row; the good rows apply
    assert done.stdout.splitlines()[-1] == "changed 5 fields of 3 documents"
    assert done.stderr.startswith(bad_row)
    memoir_doc = show(library, MEMOIR)
    assert memoir_doc["title"] == "县电厂的创建"
    assert memoir_doc["metadata"]["date"] == "1958-07-01"
    assert show(library, CHRONICLE)["metadata"].get("contributor") is None
    assert [h["doc_id"] for h in search(library, "title:创建")["hits"]] == [MEMOIR]
    assert [h["doc_id"] for h in search(library, "contributor:钱玉芬")["hits"]] == [BRIEF]
    assert search(library, "电杆", "--facets")["facets"]["collection"] == {"输变电志": 1}
    check_ok(library)

    again = wenshi(library, "catalog", "import", str(sheet_path))
    assert "changed 0 fields of 0 documents" in again.stdout  # idempotent: nothing left to change


def test_tag_cells_reach_facets_and_survive_retag(library: Path, tmp_path: Path) -> None:
    sheet_path = tmp_path / "目录.xlsx"
    assert wenshi(library, "catalog", "export", "电力工业史", "-o", str(sheet_path)).exit_code == 0
    book = openpyxl.load_workbook(sheet_path)
    sheet = book.active
    brief = row_of(sheet, BRIEF)
    assert sheet.cell(brief, column(sheet, "时期")).value == "建国后"
    before = search(library, "电厂", "--facets")["facets"]["period"]
    sheet.cell(brief, column(sheet, "时期")).value = "建国前"
    sheet.cell(brief, column(sheet, "人名")).value = "周汉卿|王德明"
    book.save(sheet_path)
    result = wenshi(library, "catalog", "import", str(sheet_path))
    assert result.exit_code == 0, result.output
    assert f"{BRIEF} period: 建国后 -> 建国前" in result.stdout.splitlines()
    after = search(library, "电厂", "--facets")["facets"]["period"]
    assert after["建国前"] == before.get("建国前", 0) + 1
    assert [h["doc_id"] for h in search(library, "person:周汉卿")["hits"]] == [BRIEF]
    assert wenshi(library, "reindex", "--retag").exit_code == 0
    tags = show(library, BRIEF)["tags"]
    assert tags["period"] == "建国前" and [p[0] for p in tags["persons"]] == ["周汉卿", "王德明"]
    assert [h["doc_id"] for h in search(library, "person:周汉卿")["hits"]] == [BRIEF]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_import_in_each_encoding_clear_and_unknowns(library: Path, tmp_path: Path,
                                                        encoding: str) -> None:
    sheet_path = tmp_path / "目录.csv"
    assert wenshi(library, "catalog", "export", "电力工业史", "-o", str(sheet_path)).exit_code == 0
    raw = sheet_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    lines = raw.decode("utf-8-sig").splitlines()
    lines[0] += ",来源"  # a column the library does not have
    lines = [line + ",x" if i else line for i, line in enumerate(lines)]
    memoir = next(i for i, line in enumerate(lines) if line.startswith(MEMOIR))
    cells = lines[memoir].split(",")
    cells[9] = "初稿"  # 备注
    lines[memoir] = ",".join(cells)
    lines.append("ffffffffffffffff,,,,,,,,,,,,,,,,,,,,")
    sheet_path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    result = wenshi(library, "catalog", "import", str(sheet_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{MEMOIR} notes: '' -> 初稿"
    assert result.stderr.splitlines() == [
        f"{sheet_path}: column '来源' is not a catalog field of this library; ignored",
        f"{sheet_path}: row {len(lines)}, column doc_id: no document 'ffffffffffffffff' in the "
        "library",
    ]
    assert show(library, MEMOIR)["metadata"]["notes"] == "初稿"
    # An empty cell leaves the value alone; with --clear it clears it.
    cells[9] = ""
    lines[memoir] = ",".join(cells)
    sheet_path.write_bytes(("\r\n".join(lines[:-1]) + "\r\n").encode(encoding))
    kept = wenshi(library, "catalog", "import", str(sheet_path))
    assert "changed 0 fields" in kept.stdout
    assert show(library, MEMOIR)["metadata"]["notes"] == "初稿"
    cleared = wenshi(library, "catalog", "import", str(sheet_path), "--clear", "notes")
    assert f"{MEMOIR} notes: 初稿 -> ''" in cleared.stdout.splitlines()
    assert "notes" not in show(library, MEMOIR)["metadata"]


def test_ingest_metadata_sheet_updates_stored_documents(library: Path, tmp_path: Path) -> None:
    sheet_path = tmp_path / "目录.xlsx"
    assert wenshi(library, "catalog", "export", "电力工业史", "-o", str(sheet_path)).exit_code == 0
    book = openpyxl.load_workbook(sheet_path)
    sheet = book.active
    sheet.cell(row_of(sheet, LINES), column(sheet, "撰稿人")).value = "赵春生"
    sheet.cell(row_of(sheet, LINES), column(sheet, "卷次")).value = 3  # a number cell
    book.save(sheet_path)
    result = wenshi(library, "ingest", str(SAMPLES / "power" / "输电线路.webp"), "--collection",
                    "电力工业史", "--metadata", str(sheet_path))
    assert result.exit_code == 0, result.output
    assert f"updated      {LINES} contributor: '' -> 赵春生" in result.stdout.splitlines()
    assert show(library, LINES)["metadata"] == {"contributor": "赵春生", "volume": "3"}
    assert [h["doc_id"] for h in search(library, "contributor:赵春生")["hits"]] == [LINES]


def test_rm_removes_everything_of_a_document(library: Path) -> None:
    assert search(library, '"输电线路"')["total"] == 3
    assert (library / "pages" / LINES).is_dir()
    dry = wenshi(library, "rm", LINES, "--dry-run")
    assert dry.exit_code == 0 and "输电线路" in dry.stdout
    refused = wenshi(library, "rm", LINES, input="n\n")
    assert refused.exit_code == 2 and "nothing removed" in refused.stderr
    assert search(library, '"输电线路"')["total"] == 3
    result = wenshi(library, "rm", LINES, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "removed 1 documents (1 pages)"
    assert LINES not in {h["doc_id"] for h in search(library, '"输电线路"')["hits"]}
    assert LINES not in {h["doc_id"] for h in search(library, "铁矿 OR 电杆")["hits"]}
    assert wenshi(library, "show", LINES).exit_code == 5
    assert not (library / "pages" / LINES).exists()
    db = sqlite3.connect(library / "catalog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM pages WHERE doc_id = ?", (LINES,)).fetchone() == (0,)
    # The exact index no longer holds the text: pages in gram segments = pages in the catalog.
    from index.grams import GramReader

    with GramReader(library / "index" / "grams") as grams:
        assert sum(s.page_count for s in grams.segments) == 8
    check_ok(library)


def test_rm_by_query_and_move_changes_facets(library: Path) -> None:
    result = wenshi(library, "move", BRIEF, CHRONICLE, "--collection", "工业志")
    assert result.exit_code == 0, result.output
    facets = search(library, "电厂", "--facets")["facets"]["collection"]
    assert facets["工业志"] == 3  # the chronicle has two pages
    assert {h["doc_id"] for h in search(library, "电厂", "--collection", "工业志")["hits"]} == {
        BRIEF, CHRONICLE}
    check_ok(library)
    gone = wenshi(library, "rm", "--query", "collection:工业志", "--yes")
    assert gone.exit_code == 0, gone.output
    assert {h["doc_id"] for h in search(library, "电厂")["hits"]}.isdisjoint({BRIEF, CHRONICLE})
    names = [c["name"] for c in json.loads(wenshi(library, "collections", "--json").stdout)]
    assert names == ["电力工业史"]  # an emptied collection goes
    assert wenshi(library, "search", "电厂", "--collection", "工业志").exit_code == 5
    check_ok(library)


def _large_text_library(tmp_path: Path, pages: int) -> tuple[Path, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "大卷.txt"
    chars = "岚江县电厂建设铁路工人农村电气化水电站公社民国发电机组输电线路"
    body = "\f".join("".join(chars[(i * 7 + j) % len(chars)] for j in range(300)) + f"第{i}页"
                     for i in range(pages))
    source.write_text(body, encoding="utf-8")
    library = tmp_path / "library"
    result = CliRunner().invoke(main, ["--library", str(library), "ingest", str(source),
                                       "--collection", "大卷", "--json"])
    assert result.exit_code == 0, result.output
    return library, json.loads(result.output)["documents"][0]["doc_id"]


def test_kill_9_during_rm_of_a_large_document_then_repair(tmp_path: Path) -> None:
    library, doc_id = _large_text_library(tmp_path, 600)
    assert search(library, '"第599页"')["total"] == 1
    killed_midway = 0
    for attempt in range(3):
        if not (library / "catalog.sqlite").exists() or wenshi(library, "show", doc_id).exit_code:
            library, doc_id = _large_text_library(tmp_path / f"again{attempt}", 600)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from cli import run; run()", "--library", str(library), "rm",
             doc_id, "--yes"], cwd=Path(__file__).parent.parent, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        db = sqlite3.connect(library / "catalog.sqlite", timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if db.execute("SELECT COUNT(*) FROM removals").fetchone()[0]:
                break
            time.sleep(0.002)
        time.sleep(0.01 * attempt)  # at the start of the removal, then later in it
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        db.close()
        report = json.loads(wenshi(library, "check", "--json").stdout)
        # Whatever the moment, search finds the whole document or nothing of it.
        hits = search(library, '"岚江县电厂"')["total"]
        assert hits in (0, 600)
        if not report["ok"]:
            killed_midway += 1
            repaired = wenshi(library, "check", "--repair")
            assert repaired.exit_code == 0, repaired.output
        check_ok(library)
        assert search(library, '"第599页"')["total"] == 0
        assert not (library / "pages" / doc_id).exists()
        assert wenshi(library, "show", doc_id).exit_code == 5
    print(f"kills inside the removal: {killed_midway} of 3")
    assert killed_midway >= 1  # at least one kill landed inside the removal


def test_kill_9_during_move_of_a_large_document_then_repair(tmp_path: Path) -> None:
    library, doc_id = _large_text_library(tmp_path, 600)
    for attempt, target in enumerate(("甲", "乙", "丙")):
        proc = subprocess.Popen(
            [sys.executable, "-c", "from cli import run; run()", "--library", str(library),
             "move", doc_id, "--collection", target], cwd=Path(__file__).parent.parent,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = sqlite3.connect(library / "catalog.sqlite", timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if db.execute("SELECT collection FROM documents").fetchone()[0] == target:
                break
            time.sleep(0.002)
        time.sleep(0.02 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        db.close()
        # The index holds the document in one collection or the other, never in both.
        facets = search(library, '"岚江县电厂"', "--facets")["facets"]["collection"]
        assert list(facets.values()) == [600], facets
        if wenshi(library, "check").exit_code != 0:
            assert wenshi(library, "check", "--repair").exit_code == 0
        check_ok(library)
        assert search(library, '"岚江县电厂"', "--facets")["facets"]["collection"] == {target: 600}
