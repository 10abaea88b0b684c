"""Proofreading (issue 16) without the browser: versions in the catalog, corrections used by
search, show, 字数 and exports, never overwritten by ingest/reindex/re-OCR/repair, editors, the
.docx round trip, a save killed half-way, and libraries made before the version table."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from cli import main
from pipeline.config import Config
from pipeline.errors import NotFoundError, UsageError, VersionConflictError

from .conftest import ROOT, SAMPLES, tesseract_or_skip

SCANS = ("power/县电厂 回忆录.png", "power/扩建工程_1958.jpg", "power/输电线路.webp")
TEXT_FILE = "power/电力志稿_农村电气化.txt"
COLLECTION = "电力工业史"
EXPANSION = "6db1aed4fb2c2028"  # 扩建工程_1958.jpg: the OCR reads 滚木 as 滚林, 敷设 as 数设
EDITOR, PASSWORD = "王编辑", "correct horse 电池"


@pytest.fixture(scope="module")
def base_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three scans and a text file ingested once with the real Tesseract, plus one editor."""
    tesseract_or_skip()
    library = tmp_path_factory.mktemp("proof") / "library"
    runner = CliRunner()
    result = runner.invoke(main, ["--library", str(library), "ingest",
                                  *(str(SAMPLES / s) for s in SCANS), str(SAMPLES / TEXT_FILE),
                                  "--collection", COLLECTION, "--jobs", "1",
                                  # Tesseract's known misreads of these scans are what the
                                  # tests correct (PP-OCR reads 滚木 and 敷设 right).
                                  "--engine", "tesseract"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["--library", str(library), "editor", "add", EDITOR,
                                  "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return library


@pytest.fixture()
def library(base_library: Path, tmp_path: Path) -> Path:
    """A fresh copy of the module's library for one test to change."""
    target = tmp_path / "library"
    shutil.copytree(base_library, target)
    return target


def cfg_for(library: Path, **overrides: Any) -> Config:
    return Config.resolve(library=str(library), **overrides)


def run(library: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, ["--library", str(library), *args], input=input)


def hit_pages(library: Path, query: str) -> set[str]:
    result = run(library, "search", query, "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    return {f"{h['doc_id']}#{h['page']}" for h in json.loads(result.output)["hits"]}


class Api:
    """The Library API as the tests call it: one library opened per call, dict results."""

    def __init__(self, library: Path, **settings: Any) -> None:
        self.library = library
        self.settings = settings

    def _open(self) -> Any:
        from index.api import Library

        return Library(cfg_for(self.library, **self.settings))

    def page_text(self, doc_id: str, number: int) -> dict[str, Any]:
        with self._open() as lib:
            return lib.page_text(doc_id, number).to_dict()  # type: ignore[no-any-return]

    def save_page(self, doc_id: str, number: int, text: str, editor: str, base: int,
                  proofread: bool) -> dict[str, Any]:
        with self._open() as lib:
            return lib.save_page(doc_id, number, text, editor=editor,  # type: ignore[no-any-return]
                                 base_version=base, proofread=proofread).to_dict()

    def revert_page(self, doc_id: str, number: int, to: int, editor: str,
                    base: int) -> dict[str, Any]:
        with self._open() as lib:
            return lib.revert_page(doc_id, number, to, editor=editor,  # type: ignore[no-any-return]
                                   base_version=base).to_dict()

    def stats(self) -> dict[str, Any]:
        with self._open() as lib:
            return lib.stats().to_dict()  # type: ignore[no-any-return]

    def show(self, doc_id: str) -> dict[str, Any]:
        with self._open() as lib:
            return lib.document(doc_id).to_dict()  # type: ignore[no-any-return]


def correct(library: Path, old: str, new: str, doc_id: str = EXPANSION,
            proofread: bool = False) -> dict[str, Any]:
    api = Api(library)
    state = api.page_text(doc_id, 1)
    assert old in state["text"]
    return api.save_page(doc_id, 1, state["text"].replace(old, new), EDITOR,
                         state["version"], proofread)


def show_page(library: Path, doc_id: str = EXPANSION) -> dict[str, Any]:
    result = run(library, "show", doc_id, "--json")
    assert result.exit_code == 0, result.output
    page: dict[str, Any] = json.loads(result.output)["pages"][0]
    return page


# -- corrections used everywhere --------------------------------------------------------------

def test_correction_replaces_search_show_and_counts(library: Path, tmp_path: Path) -> None:
    assert f"{EXPANSION}#1" in hit_pages(library, '"滚林"')
    before = show_page(library)
    assert before["version"] == 0 and before["proofread"] is False and before["history"] == []
    chars_before = json.loads(run(library, "collections", "--json").output)[0]["characters"]

    saved = correct(library, "滚林", "滚木二号")
    assert saved["version"] == 1 and saved["changed"] and saved["indexed"]

    assert f"{EXPANSION}#1" in hit_pages(library, '"滚木二号"')
    assert f"{EXPANSION}#1" not in hit_pages(library, '"滚林"')
    assert f"{EXPANSION}#1" in hit_pages(library, "滚木二号")  # the jieba field too
    page = show_page(library)
    assert "滚木二号" in page["text"] and "滚林" not in page["text"]
    assert page["version"] == 1 and page["proofread"] is False
    assert [(h["version"], h["editor"], h["source"]) for h in page["history"]] == [
        (0, "", "ocr"), (1, EDITOR, "cli")]
    assert "滚林" in page["history"][0]["text"]
    chars_after = json.loads(run(library, "collections", "--json").output)[0]["characters"]
    assert chars_after == chars_before + 2  # 林 -> 木二号
    check = run(library, "check")
    assert check.exit_code == 0, check.output


def test_exports_use_the_corrected_text(library: Path, tmp_path: Path) -> None:
    correct(library, "滚林", "滚木二号")
    out = tmp_path / "out"
    out.mkdir()
    for fmt, name in (("txt", "m.txt"), ("md", "m.md")):
        result = run(library, "export", COLLECTION, "--format", fmt, "--output", str(out / name))
        assert result.exit_code == 0, result.output
        text = (out / name).read_text(encoding="utf-8")
        assert "滚木二号" in text and "滚林" not in text
    result = run(library, "export", COLLECTION, "--format", "wordcount", "--output",
                 str(out / "wc.csv"))
    assert result.exit_code == 0, result.output
    show = json.loads(run(library, "show", EXPANSION, "--json").output)
    assert show["char_count"] == sum(p["char_count"] for p in show["pages"])
    rows = (out / "wc.csv").read_text(encoding="utf-8-sig")
    assert str(show["char_count"]) in rows
    result = run(library, "export", COLLECTION, "--format", "docx", "--output",
                 str(out / "m.docx"))
    assert result.exit_code == 0, result.output
    import docx

    body = "\n".join(p.text for p in docx.Document(str(out / "m.docx")).paragraphs)
    assert "滚木二号" in body and "滚林" not in body


def test_alto_realigned_to_the_corrected_text(library: Path) -> None:
    from index.realign import CORRECTED_TAG, aligned_version

    correct(library, "滚林", "滚木")  # one for one: boxes kept, not tagged
    alto = library / "pages" / EXPANSION / "0001.alto.xml"
    ocr = library / "pages" / EXPANSION / "0001.alto.ocr.xml"
    assert ocr.is_file() and b'CONTENT="\xe6\x9e\x97"' in ocr.read_bytes()  # 林 kept there
    data = alto.read_bytes()
    assert "滚木".encode() in data.replace(b'"', b"") or 'CONTENT="木"'.encode() in data
    assert aligned_version(data) == 1 and CORRECTED_TAG.encode() not in data
    correct(library, "数设", "敷设铺设")  # two characters more: the Strings around are tagged
    data = alto.read_bytes()
    assert aligned_version(data) == 2 and CORRECTED_TAG.encode() in data


def test_stale_save_is_refused_with_the_other_version(library: Path) -> None:
    api = Api(library)
    text = api.page_text(EXPANSION, 1)["text"]
    api.save_page(EXPANSION, 1, text.replace("滚林", "滚木"), EDITOR, 0, False)
    with pytest.raises(VersionConflictError) as info:
        api.save_page(EXPANSION, 1, text.replace("数设", "敷设"), EDITOR, 0, False)
    assert info.value.current["version"] == 1 and "滚木" in str(info.value.current["text"])
    assert "滚木" in api.page_text(EXPANSION, 1)["text"]  # the first save stands


def test_text_limit_and_stored_as_given(library: Path) -> None:
    api = Api(library)
    with pytest.raises(UsageError, match="at most 100000"):
        api.save_page(EXPANSION, 1, "字" * 100_001, EDITOR, 0, False)
    given = "<script>alert(1)</script> &amp; 滚木  \n\n  尾  "
    api.save_page(EXPANSION, 1, given, EDITOR, 0, False)
    assert api.page_text(EXPANSION, 1)["text"] == given
    # Real text (a run of one character makes jieba slow: 100,000 of 史 took minutes).
    big = (api.page_text("b5ba023a93ec6160", 1)["text"] * 400)[:100_000]
    api.save_page(EXPANSION, 1, big, EDITOR, 1, False)
    assert api.page_text(EXPANSION, 1)["text"] == big
    with pytest.raises(NotFoundError, match="no editor"):
        api.save_page(EXPANSION, 1, "x", "nobody", 2, False)


def test_proofread_flag_drives_the_needs_proofreading_list(library: Path) -> None:
    api = Api(library, proofread_threshold=101.0)  # every OCR page needs proofreading
    listed = {(p["doc_id"], p["number"]) for p in api.stats()["proofreading"]}
    assert (EXPANSION, 1) in listed and len(listed) == len(SCANS)
    state = api.page_text(EXPANSION, 1)
    marked = api.save_page(EXPANSION, 1, state["text"], EDITOR, 0, True)
    assert marked["changed"] and marked["proofread"] and marked["version"] == 1
    listed = {(p["doc_id"], p["number"]) for p in api.stats()["proofreading"]}
    assert (EXPANSION, 1) not in listed and len(listed) == len(SCANS) - 1
    assert api.show(EXPANSION)["pages"][0]["needs_proofreading"] is False
    unchanged = api.save_page(EXPANSION, 1, state["text"], EDITOR, 1, True)
    assert unchanged["changed"] is False and unchanged["version"] == 1


def test_revert_restores_an_earlier_version(library: Path) -> None:
    api = Api(library)
    original = api.page_text(EXPANSION, 1)["text"]
    correct(library, "滚林", "滚木二号")
    reverted = api.revert_page(EXPANSION, 1, 0, EDITOR, 1)
    assert reverted["text"] == original and reverted["version"] == 2
    assert [h["source"] for h in reverted["history"]] == ["ocr", "cli", "revert"]
    assert f"{EXPANSION}#1" in hit_pages(library, '"滚林"')
    assert f"{EXPANSION}#1" not in hit_pages(library, '"滚木二号"')


# -- never overwritten -----------------------------------------------------------------------

def test_reingest_reindex_retag_and_repair_keep_corrections(library: Path) -> None:
    correct(library, "滚林", "滚木二号")

    def kept() -> None:
        assert "滚木二号" in show_page(library)["text"]
        assert f"{EXPANSION}#1" in hit_pages(library, '"滚木二号"')
        assert f"{EXPANSION}#1" not in hit_pages(library, '"滚林"')

    again = run(library, "ingest", str(SAMPLES / SCANS[1]), "--collection", COLLECTION)
    assert again.exit_code == 0 and "skipped" in again.output
    kept()
    # An interrupted ingest of the same file: the document is resumed, its corrected page kept.
    with sqlite3.connect(library / "catalog.sqlite") as db:
        db.execute("UPDATE documents SET status = 'partial' WHERE doc_id = ?", (EXPANSION,))
        db.execute("UPDATE pages SET error = 'timeout' WHERE doc_id = ?", (EXPANSION,))
    resumed = run(library, "ingest", str(SAMPLES / SCANS[1]), "--collection", COLLECTION,
                  "--json")
    assert resumed.exit_code in (0, 1), resumed.output
    document = json.loads(resumed.output)["documents"][0]
    assert document["status"] == "ingested" and document["reused_pages"] == 1
    kept()
    for args in (("reindex",), ("reindex", "--retag")):
        result = run(library, *args)
        assert result.exit_code == 0, result.output
        kept()
    from index.library import LibraryFolder

    with LibraryFolder(cfg_for(library), writable=True) as lib:  # lose the page from the index
        lib._delete_from_index([EXPANSION])
    assert run(library, "check").exit_code == 1
    repaired = run(library, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    kept()


def test_reocr_with_another_model_keeps_the_correction(library: Path) -> None:
    """A new OCR of a corrected page (here the traditional-Chinese model, as another engine
    would) replaces its OCR data and ALTO boxes but never its text; the count is reported."""
    from pipeline.page.process import process_page
    from pipeline.run.sources import identify, plan_document

    from index.library import LibraryFolder

    correct(library, "滚林", "滚木二号")
    cfg = cfg_for(library, lang="chi_tra", jobs=1, engine="tesseract")
    plan = plan_document(identify(SAMPLES / SCANS[1]), cfg)
    fresh = process_page(plan.pages[0], cfg)  # type: ignore[arg-type]
    assert fresh.text and "滚木二号" not in fresh.text
    with LibraryFolder(cfg, writable=True) as lib:
        lib.store_page(EXPANSION, fresh)
        assert lib.kept_corrections == 1
        page = lib.catalog.page(EXPANSION, 1)
        assert page is not None and "滚木二号" in page.text and page.lang == "chi_tra"
        assert lib.alto_ocr_path(EXPANSION, 1).read_text(encoding="utf-8") == fresh.alto
    alto = (library / "pages" / EXPANSION / "0001.alto.xml").read_text(encoding="utf-8")
    assert "wenshi-text-version=1" in alto


def test_a_save_killed_midway_leaves_old_or_new(library: Path) -> None:
    """A process saving versions in a loop is killed (SIGKILL) at random moments: each time the
    page's text is exactly its newest version, versions run 0..N, and 字数 adds up."""
    script = (
        "import sys\n"
        "from pipeline.config import Config\n"
        "from index.library import LibraryFolder\n"
        "from index.proofreading import save_text\n"
        "with LibraryFolder(Config.resolve(library=sys.argv[1])) as lib:\n"
        "    for i in range(100000):\n"
        "        v = lib.catalog.page_version(sys.argv[2], 1)\n"
        "        save_text(lib, sys.argv[2], 1, ('改' * (i % 50)) + str(i) + '滚木' * 300,\n"
        "                  'killer', v, False, 'cli')\n"
        "        print(v + 1, flush=True)\n")
    rng = random.Random(16)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", script, str(library), EXPANSION],
                                stdout=subprocess.PIPE, env=env, cwd=ROOT)
        assert proc.stdout is not None
        proc.stdout.readline()  # it is saving
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with sqlite3.connect(library / "catalog.sqlite") as db:
            versions = [r for r in db.execute(
                "SELECT version, text FROM page_versions WHERE doc_id = ? AND number = 1"
                " ORDER BY version", (EXPANSION,))]
            text, count = db.execute("SELECT text, char_count FROM pages WHERE doc_id = ?"
                                     " AND number = 1", (EXPANSION,)).fetchone()
            doc_count = db.execute("SELECT char_count FROM documents WHERE doc_id = ?",
                                   (EXPANSION,)).fetchone()[0]
        assert [v for v, _ in versions] == list(range(len(versions))) and len(versions) > 1
        assert text == versions[-1][1]
        assert count == doc_count == sum(1 for ch in text if not ch.isspace())
    assert run(library, "check", "--repair").exit_code == 0


# -- editors ---------------------------------------------------------------------------------

def test_editor_accounts(library: Path) -> None:
    result = run(library, "editor", "add", "李校对", input="pass-word-1\npass-word-2\n"
                 "pass-word-1\npass-word-1\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output  # asked again after a mismatch
    short = run(library, "editor", "add", "张", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    same = run(library, "editor", "add", "赵", "--password-stdin", input=PASSWORD + "\n")
    assert same.exit_code == 0
    listed = json.loads(run(library, "editor", "list", "--json").output)
    assert [e["name"] for e in listed] == sorted([EDITOR, "李校对", "赵"])
    assert all("hash" not in json.dumps(e) for e in listed)
    with sqlite3.connect(library / "catalog.sqlite") as db:
        hashes = dict(db.execute("SELECT name, password_hash FROM editors"))
    assert hashes[EDITOR] != hashes["赵"]  # salted: one password, two hashes
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes.values())
    from index.api import Library

    with Library(cfg_for(library)) as lib:
        assert lib.authenticate("李校对", "pass-word-1") == "李校对"
        assert lib.authenticate("李校对", "pass-word-2") is None
        assert lib.authenticate("nobody", "pass-word-1") is None
    assert run(library, "editor", "remove", "李校对").exit_code == 0
    gone = run(library, "editor", "remove", "李校对")
    assert gone.exit_code == 5 and "Error: no editor '李校对'" in gone.output


# -- the offline path ------------------------------------------------------------------------

def test_docx_round_trip(library: Path, tmp_path: Path) -> None:
    import docx

    os.environ["WENSHI_PROOFREAD_THRESHOLD"] = "101"  # every OCR page needs proofreading
    try:
        out = tmp_path / "校对.docx"
        result = run(library, "export", COLLECTION, "--format", "proofread", "--output", str(out))
        assert result.exit_code == 0, result.output
    finally:
        del os.environ["WENSHI_PROOFREAD_THRESHOLD"]
    before = {d: show_page(library, d)["text"] for d in _scan_ids(library)}
    document = docx.Document(str(out))
    headings = [p for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert len(headings) == len(SCANS) and len(document.sections) == len(SCANS) + 1
    assert len(document.inline_shapes) == len(SCANS)  # each page's scan above its text
    ids = [h.text.split()[0] for h in headings]
    assert f"{EXPANSION}#1" in ids
    changed = {EXPANSION: ("滚林", "滚木"), ids[0].split("#")[0]: None}
    for paragraph in document.paragraphs:
        if "滚林" in paragraph.text:
            paragraph.text = paragraph.text.replace("滚林", "滚木")
    paragraphs = document.paragraphs
    first = [p._p for p in paragraphs].index(headings[0]._p)
    paragraphs[first + 1].text += "（校）"
    document.add_heading("ffffffffffffffff#3 v0 · 不存在的页", level=1)
    document.add_paragraph("无")
    edited = tmp_path / "edited.docx"
    document.save(str(edited))

    result = run(library, "proofread", "import", str(edited), "--editor", EDITOR, "--json",
                 "--mark-proofread")
    assert result.exit_code == 1, result.output
    assert "ffffffffffffffff#3: not in this library; skipped" in result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert sorted(report["corrected"]) == sorted(f"{d}#1" for d in changed)
    assert len(report["unchanged"]) == len(SCANS) - 2 and report["unknown"] == [
        "ffffffffffffffff#3"]
    for doc_id, text in before.items():
        page = show_page(library, doc_id)
        if doc_id == EXPANSION:
            assert "滚木" in page["text"] and "滚林" not in page["text"] and page["proofread"]
            assert page["history"][-1]["editor"] == EDITOR
            assert page["history"][-1]["source"] == "docx"
        elif doc_id in changed:
            assert "（校）" in page["text"] and page["version"] == 1
        else:
            assert page["text"] == text and page["version"] == 0 and not page["proofread"]
    assert f"{EXPANSION}#1" in hit_pages(library, '"滚木"')
    again = run(library, "proofread", "import", str(edited), "--editor", EDITOR)
    assert again.exit_code == 1 and "0 corrected, 3 unchanged, 1 unknown" in again.output
    for paragraph in document.paragraphs:  # a later change to the same export: refused
        paragraph.text = paragraph.text.replace("滚木", "滚木头")
    document.save(str(edited))
    stale = run(library, "proofread", "import", str(edited), "--editor", EDITOR)
    assert stale.exit_code == 1 and f"{EXPANSION}#1: exported at version 0" in stale.output
    assert "滚木头" not in show_page(library)["text"]


def _scan_ids(library: Path) -> list[str]:
    data = json.loads(run(library, "stats", "--json").output)
    assert data["documents"] == len(SCANS) + 1
    with sqlite3.connect(library / "catalog.sqlite") as db:
        return [r[0] for r in db.execute("SELECT doc_id FROM documents WHERE kind = 'image'")]


# -- older libraries -------------------------------------------------------------------------

def test_library_made_before_versions_opens(library: Path) -> None:
    with sqlite3.connect(library / "catalog.sqlite") as db:
        db.execute("DROP TABLE page_versions")
        db.execute("DROP TABLE editors")
    page = show_page(library)
    assert page["version"] == 0 and page["proofread"] is False
    assert run(library, "editor", "add", EDITOR, "--password-stdin",
               input=PASSWORD + "\n").exit_code == 0
    assert correct(library, "滚林", "滚木")["version"] == 1


def iter_strings(alto: bytes) -> Iterator[str]:
    from lxml import etree

    from pipeline.page.alto import ALTO_NS

    for s in etree.fromstring(alto).iter(f"{{{ALTO_NS}}}String"):
        yield str(s.get("CONTENT"))


def test_realign_alto_unit() -> None:
    from index.realign import CORRECTED_TAG, realign_alto

    ns = "http://www.loc.gov/standards/alto/ns-v3#"
    strings = "".join(
        f'<String ID="s{i}" HPOS="{i * 10}" VPOS="0" WIDTH="10" HEIGHT="10" CONTENT="{c}"/>'
        f'<SP WIDTH="1" VPOS="0" HPOS="0"/>' for i, c in enumerate(["县", "电厂", "扩", "建", "程"]))
    alto = (f'<alto xmlns="{ns}"><Description><OCRProcessing ID="o"/></Description><Layout>'
            f'<Page><PrintSpace><TextBlock><TextLine ID="l">{strings}</TextLine></TextBlock>'
            '</PrintSpace></Page></Layout></alto>').encode()
    same = realign_alto(alto, "县电厂\n扩建程", 1)
    assert list(iter_strings(same)) == ["县", "电厂", "扩", "建", "程"]
    assert CORRECTED_TAG.encode() not in same
    replaced = realign_alto(alto, "县电站扩建程", 1)  # one for one: boxes kept, untagged
    assert list(iter_strings(replaced)) == ["县", "电站", "扩", "建", "程"]
    assert CORRECTED_TAG.encode() not in replaced
    inserted = realign_alto(alto, "县电厂扩建工程", 2)
    assert "".join(iter_strings(inserted)) == "县电厂扩建工程"
    assert inserted.count(f'TAGREFS="{CORRECTED_TAG}"'.encode()) == 1
    deleted = realign_alto(alto, "县电厂扩程", 3)  # 建 gone: its String removed, line tagged
    assert list(iter_strings(deleted)) == ["县", "电厂", "扩", "程"]
    assert b'ID="l"' in deleted and f'TAGREFS="{CORRECTED_TAG}"'.encode() in deleted


def test_an_edited_character_loses_the_engines_alternatives() -> None:
    """ALTERNATIVE holds what the engine nearly read instead of what it read; once an editor
    has written another character there, they are not its alternatives."""
    from index.realign import realign_alto

    ns = "http://www.loc.gov/standards/alto/ns-v3#"
    strings = "".join(
        f'<String ID="s{i}" HPOS="{i * 10}" VPOS="0" WIDTH="10" HEIGHT="10" CONTENT="{c}">'
        f'<ALTERNATIVE>{a}</ALTERNATIVE></String>' for i, (c, a) in enumerate(["鸣吗", "呼乎"]))
    alto = (f'<alto xmlns="{ns}"><Description><OCRProcessing ID="o"/></Description><Layout>'
            f'<Page><PrintSpace><TextBlock><TextLine ID="l">{strings}</TextLine></TextBlock>'
            '</PrintSpace></Page></Layout></alto>').encode()
    edited = realign_alto(alto, "呜呼", 1)
    assert list(iter_strings(edited)) == ["呜", "呼"]
    assert "吗".encode() not in edited and "<ALTERNATIVE>乎</ALTERNATIVE>".encode() in edited


def test_a_save_during_an_ingest_is_indexed_when_it_ends(library: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """While another writer holds the ingest lock, a save is stored (the catalog is the truth)
    and reported unindexed; the next ingest indexes it."""
    from index import proofreading
    from index.library import LibraryFolder

    monkeypatch.setattr(proofreading, "INDEX_WAIT", 0.5)
    holder = LibraryFolder(cfg_for(library), writable=True)  # as a running ingest does
    try:
        saved = correct(library, "滚林", "滚木二号")
    finally:
        holder.close()
    assert saved["version"] == 1 and saved["indexed"] is False
    assert "滚木二号" in show_page(library)["text"]
    assert f"{EXPANSION}#1" not in hit_pages(library, '"滚木二号"')
    assert run(library, "check").exit_code == 1  # the document is marked unindexed
    again = run(library, "ingest", str(SAMPLES / SCANS[0]), "--collection", COLLECTION)
    assert again.exit_code == 0, again.output
    assert f"{EXPANSION}#1" in hit_pages(library, '"滚木二号"')
    assert f"{EXPANSION}#1" not in hit_pages(library, '"滚林"')
    assert run(library, "check").exit_code == 0


def test_repair_realigns_alto_a_crash_left_behind(library: Path) -> None:
    from index.realign import aligned_version

    correct(library, "滚林", "滚木")
    alto = library / "pages" / EXPANSION / "0001.alto.xml"
    shutil.copy(library / "pages" / EXPANSION / "0001.alto.ocr.xml", alto)  # the save's ALTO lost
    assert aligned_version(alto.read_bytes()) is None
    assert run(library, "check", "--repair").exit_code == 0
    assert aligned_version(alto.read_bytes()) == 1
    assert 'CONTENT="木"' in alto.read_text(encoding="utf-8")
