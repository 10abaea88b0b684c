"""The library API (index/api.py): one open Library serves a script's every step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from index import Library
from index.records import CollectionRecord, DocumentRecord
from index.results import SearchResults
from pipeline.errors import LibraryError, NotFoundError


@pytest.fixture()
def drafts(tmp_path: Path) -> list[Path]:
    (tmp_path / "a.txt").write_text("一九五八年，县电厂扩建，新装发电机组两台。", encoding="utf-8")
    (tmp_path / "b.txt").write_text("铁路勘测队从株洲市出发。", encoding="utf-8")
    return [tmp_path / "a.txt", tmp_path / "b.txt"]


def test_one_open_library_ingests_searches_and_shows(tmp_path: Path, drafts: list[Path]):
    with Library.open(tmp_path / "lib", create=True, jobs=1) as lib:
        summary = lib.ingest(drafts, collection="电力工业史")
        assert summary.count("ingested") == 2
        first = lib.search('"发电机组"')
        assert isinstance(first, SearchResults) and [h.page for h in first.hits] == [1]
        assert lib.search('"发电机组"').total == 1  # the kept searcher answers again
        doc = lib.document(first.hits[0].doc_id)
        assert isinstance(doc, DocumentRecord) and doc.title == "a"
        assert [p.number for p in doc.pages] == [1] and not doc.pages[0].needs_proofreading
        assert lib.collections() == [CollectionRecord("电力工业史", 2, 2, 21 + 12)]
        lib.ingest([drafts[1]], collection="铁路建设史")  # already there: skipped
        assert lib.stats("电力工业史").documents == 2
        assert lib.tag(doc.doc_id, {"contributor": "王德明"}).metadata["contributor"] == "王德明"
        assert lib.search("contributor:王德明").total == 1  # the searcher saw the new generation
        assert lib.check().ok


def test_to_dict_is_what_the_command_prints(tmp_path: Path, drafts: list[Path]):
    runner = CliRunner()
    library = str(tmp_path / "lib")
    ingested = runner.invoke(main, ["--library", library, "ingest", *map(str, drafts),
                                    "--collection", "c", "--json"])
    assert ingested.exit_code == 0, ingested.output
    with Library.open(library) as lib:
        doc_id = lib.search('"株洲"').hits[0].doc_id
        expected = {
            ("search", '"株洲"'): lib.search('"株洲"').to_dict(),
            ("show", doc_id): lib.document(doc_id).to_dict(),
            ("stats",): lib.stats().to_dict(),
            ("collections",): [c.to_dict() for c in lib.collections()],
            ("check",): lib.check().to_dict(),
        }
    for args, value in expected.items():
        out = runner.invoke(main, ["--library", library, *args, "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout) == value, args


def test_a_missing_library_or_collection_is_named(tmp_path: Path, drafts: list[Path]):
    with pytest.raises(LibraryError, match="no library here"):
        Library.open(tmp_path / "none")
    with Library.open(tmp_path / "lib", create=True, jobs=1) as lib:
        lib.ingest(drafts[:1], collection="c")
        for call in (lambda: lib.stats("d"), lambda: lib.word_counts("d"),
                     lambda: lib.export("d", "csv", tmp_path / "d.csv"),
                     lambda: lib.search("电", collection="d")):
            with pytest.raises(NotFoundError, match="no collection 'd'; see `wenshi collections`"):
                call()


def test_every_command_exits_5_for_a_missing_collection(tmp_path: Path, drafts: list[Path]):
    runner = CliRunner()
    library = str(tmp_path / "lib")
    runner.invoke(main, ["--library", library, "ingest", str(drafts[0]), "--collection", "c"])
    for args in (["stats", "--collection", "d"],
                 ["stats", "--collection", "d", "--by", "contributor"],
                 ["export", "d", "--format", "csv", "--output", str(tmp_path / "d.csv")],
                 ["catalog", "export", "d", "--output", str(tmp_path / "d.xlsx")],
                 ["search", "电", "--collection", "d"]):
        out = runner.invoke(main, ["--library", library, *args])
        assert (out.exit_code, out.stderr) == (
            5, "Error: no collection 'd'; see `wenshi collections`\n"), args


ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "library-api.md"


def test_the_notebook_in_the_docs_prints_what_the_docs_show(monkeypatch: pytest.MonkeyPatch):
    # Each ```python cell between the notebook markers runs in one namespace, from the
    # repository's root; its output must be the ```text block that follows it.
    import contextlib
    import io
    import re

    notebook = DOC.read_text(encoding="utf-8").split("<!-- notebook -->", 1)[1]
    notebook = notebook.split("<!-- /notebook -->", 1)[0]
    cells = re.findall(r"```python\n(.*?)```\n```text\n(.*?)```", notebook, re.S)
    assert len(cells) >= 8 and len(cells) == notebook.count("```python")
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "notebook"}
    try:
        for number, (code, shown) in enumerate(cells, start=1):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{DOC.name} cell {number}", "exec"), namespace)
            assert out.getvalue() == shown, f"cell {number}"
    finally:
        lib = namespace.get("lib")
        if isinstance(lib, Library):
            lib.close()


def test_opening_a_library_and_searching_imports_no_ocr_stack(tmp_path: Path, drafts: list[Path]):
    with Library.open(tmp_path / "lib", create=True, jobs=1) as lib:
        lib.ingest(drafts, collection="c")
    heavy = ("PIL", "pytesseract", "pdfplumber", "docx", "pipeline.run.ingest",
             "pipeline.page.process")
    code = ("import sys; from index import Library\n"
            "with Library.open(sys.argv[1]) as lib:\n"
            "    print(lib.search('\"电厂\"').total, lib.document(lib.search('电厂').hits[0]"
            ".doc_id).title, lib.stats().documents)\n"
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "lib")], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["1 a 2", "[]"]
