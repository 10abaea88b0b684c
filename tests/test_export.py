"""Exports (issue 4): manuscripts (docx, md, txt), 字数, catalogs, Dublin Core, ALTO, searchable PDF.

One library is built per module from five sample files with the real Tesseract; metadata and
tags are then set directly in the catalog so contributors, names and years are deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from cli import main
from index import Library
from index.catalog import DocumentRow
from index.export.catalog_formats import fee_thousands
from index.export.common import (
    document_stem,
    folder_targets,
    inside,
    page_list,
    pinyin_key,
    safe_name,
)
from index.export.manuscript import join_paragraph_lines, text_blocks, without_marginal
from index.export.pdf import alto_words
from index.library import LibraryFolder
from pipeline.config import Config
from pipeline.errors import UsageError
from pipeline.records import Tags

from .conftest import SAMPLES, tesseract_or_skip

COLLECTION = "电力工业史"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v3#}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"

# file -> (metadata, tags) set on the ingested document
MEMOIR, DRAFT, CHRONICLE, RURAL, BRIDGE = (
    "power/县电厂 回忆录.png", "power/县电厂简介.docx", "power/岚江县电力工业大事记.pdf",
    "power/电力志稿_农村电气化.txt", "railway/岚江大桥 施工纪实.pdf")
FIELDS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    MEMOIR: ({"title": "县电厂创办回忆", "contributor": "王德明", "volume": "第三辑", "date": "1985-06"},
             {"persons": [["王德明", 1], ["李秀英", 1]], "places": [["汉口", 1]], "years": [1937]}),
    DRAFT: ({"title": "岚江县电厂简介", "contributor": "李秀英", "date": "1990", "来源": "政协征集",
             "tag.places": "东郊"},
            {"persons": [], "places": [["东郊", 1]], "years": [1937, 1993]}),
    CHRONICLE: ({}, {"persons": [["周汉卿", 1]], "places": [["上海", 1], ["东郊", 1]],
                     "years": [1882, 1998]}),
    # A title with path parts: shown as it is, but never used raw in a file name.
    RURAL: ({"title": "../../电力志稿：农村电气化"},
            {"persons": [["赵春生", 1]], "places": [["株洲", 1]], "years": [1959, 1976]}),
    BRIDGE: ({"contributor": "曾宪文", "date": "1972", "region": "岚江县"},
             {"subjects": ["经济"], "persons": [], "places": [], "years": [1959, 1964]}),
}
YEAR_ORDER = [CHRONICLE, RURAL, BRIDGE, MEMOIR, DRAFT]
PERSONS_IN_PINYIN_ORDER = ["李秀英", "王德明", "赵春生", "周汉卿"]  # code-point order differs
PLACES_IN_PINYIN_ORDER = ["东郊", "汉口", "上海", "株洲"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A library of five samples (two OCR pages) with deterministic metadata and tags."""
    tesseract_or_skip()
    base = tmp_path_factory.mktemp("export")
    cfg = Config(library=base / "library", jobs=2)
    with Library(cfg, create=True) as opened:
        summary = opened.ingest([str(SAMPLES / f) for f in FIELDS], COLLECTION)
    assert summary.count("ingested") == len(FIELDS), summary
    ids = {}
    with LibraryFolder(cfg) as library:
        for doc in library.documents(COLLECTION):
            name = next(f for f in FIELDS if doc.path == str(SAMPLES / f))
            metadata, tags = FIELDS[name]
            library.catalog.update_document_fields(doc.doc_id, title=metadata.get("title"),
                                                   metadata=metadata,
                                                   tags=Tags.from_dict({**doc.tags, **tags}))
            ids[name] = doc.doc_id
        docs = {name: library.document(ids[name]) for name in FIELDS}
        pages = {name: library.catalog.pages(ids[name]) for name in FIELDS}
    return {"cfg": cfg, "base": base, "ids": ids, "docs": docs, "pages": pages}


def _export(lib: dict[str, Any], fmt: str, name: str, **kwargs: Any) -> Any:
    cfg = kwargs.pop("cfg", lib["cfg"])
    with Library(cfg) as opened:
        return opened.export(COLLECTION, fmt, lib["base"] / name, **kwargs)


def _title(lib: dict[str, Any], name: str) -> str:
    doc: DocumentRow = lib["docs"][name]
    return doc.metadata.get("title") or doc.title


def _compact(text: str) -> str:
    return "".join(text.split())


# -- docx ------------------------------------------------------------------------------------

@pytest.mark.tesseract
def test_docx_has_chapters_in_order_heading_styles_sources_and_pinyin_indexes(lib):
    import docx

    result = _export(lib, "docx", "书稿.docx", order="year")
    assert result.files == (lib["base"] / "书稿.docx",)
    document = docx.Document(str(result.files[0]))
    paragraphs = document.paragraphs
    assert paragraphs[0].style.name == "Title" and paragraphs[0].text == COLLECTION
    headings = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert headings == [_title(lib, f) for f in YEAR_ORDER] + ["人名索引", "地名索引"]

    # The 目录 is a real TOC field over the heading styles, with the chapters already listed.
    toc = next(i for i, p in enumerate(paragraphs) if p.style.name == "TOC Heading")
    instructions = "".join(t.text for t in document.element.body.iter(f"{W}instrText"))
    assert "TOC \\o" in instructions
    assert [p.text for p in paragraphs[toc + 1:toc + 6]] == headings[:5]
    assert document.settings.element.find(f"{W}updateFields") is not None

    # Song for the body, Hei for headings, in the East-Asian slot and with no theme font over them.
    for style, font in (("Normal", "宋体"), ("Heading 1", "黑体"), ("Title", "黑体")):
        fonts = document.styles[style].element.rPr.find(f"{W}rFonts")
        assert fonts.get(f"{W}eastAsia") == font, style
        assert fonts.get(f"{W}eastAsiaTheme") is None and fonts.get(f"{W}asciiTheme") is None

    # After each chapter one 出处 line, in chapter order, naming file, volume, pages, contributor.
    sources = [p.text for p in paragraphs if p.style.name == "出处"]
    assert len(sources) == len(YEAR_ORDER)
    for line, name in zip(sources, YEAR_ORDER):
        assert line.startswith(f"出处：{Path(name).name}；"), line
        assert lib["ids"][name] in line
    memoir = sources[YEAR_ORDER.index(MEMOIR)]
    assert "卷次：第三辑" in memoir and "页码：第1页" in memoir and "撰稿：王德明" in memoir
    assert "页码：第1—2页" in sources[YEAR_ORDER.index(BRIDGE)]
    assert "撰稿：未署名" in sources[YEAR_ORDER.index(CHRONICLE)]
    for name in (DRAFT, CHRONICLE, RURAL):  # text pages never need proofreading
        assert "需校对" not in sources[YEAR_ORDER.index(name)]
    for i, heading in enumerate(headings[:5]):  # each 出处 comes after its own heading
        start = _heading_at(paragraphs, heading)
        assert next(p.text for p in paragraphs[start:] if p.style.name == "出处") == sources[i]

    # A draft's first line that repeats its title is not repeated under the heading.
    draft = _heading_at(paragraphs, "岚江县电厂简介")
    assert paragraphs[draft + 1].text.startswith("岚江县电厂位于县城东郊")
    assert [c.text for c in document.tables[0].rows[0].cells] == ["年份", "机组", "容量", "备注"]

    persons, places = _index_entries(paragraphs, "人名索引"), _index_entries(paragraphs, "地名索引")
    assert [e.split("　")[0] for e in persons] == PERSONS_IN_PINYIN_ORDER
    assert sorted(PERSONS_IN_PINYIN_ORDER) != PERSONS_IN_PINYIN_ORDER  # the test can tell
    assert [e.split("　")[0] for e in places] == PLACES_IN_PINYIN_ORDER
    # Both documents name him (samples/manifest.json); PP-OCR reads the memoir's 周汉卿 right.
    assert "周汉卿　《岚江县电力工业大事记》第1页；《县电厂创办回忆》第1页" in persons
    assert "赵春生　《../../电力志稿：农村电气化》第1页" in persons
    assert any(e.startswith("东郊　《岚江县电力工业大事记》第1页；《岚江县电厂简介》第1页") for e in places)


def _heading_at(paragraphs: Any, text: str) -> int:
    return next(i for i, p in enumerate(paragraphs)
                if p.text == text and p.style.name == "Heading 1")


def _index_entries(paragraphs: Any, heading: str) -> list[str]:
    start = _heading_at(paragraphs, heading)
    entries = []
    for p in paragraphs[start + 1:]:
        if p.style.name == "Heading 1":
            break
        if len(p.text) > 1:  # not a letter group
            entries.append(p.text)
    return entries


@pytest.mark.tesseract
def test_pages_needing_proofreading_are_marked(lib):
    import docx

    strict = lib["cfg"].with_(proofread_threshold=101.0)  # every OCR page is below 101
    result = _export(lib, "docx", "校对.docx", cfg=strict)
    document = docx.Document(str(result.files[0]))
    sources = {p.text.split("；")[0]: p.text for p in document.paragraphs if p.style.name == "出处"}
    assert "需校对：第1页" in sources[f"出处：{Path(MEMOIR).name}"]
    assert "需校对：第2页" in sources[f"出处：{Path(BRIDGE).name}"]  # its page 1 is a text layer
    assert "需校对" not in sources[f"出处：{Path(DRAFT).name}"]
    marks = [r for p in document.paragraphs for r in p.runs
             if "需校对" in r.text and r.text.startswith("〔")]
    assert [m.text for m in marks] == ["〔第1页·需校对〕", "〔第2页·需校对〕"]  # memoir, bridge
    assert all(m.font.highlight_color is not None for m in marks)


# -- Markdown and plain text ------------------------------------------------------------------

@pytest.mark.tesseract
def test_markdown_and_text_hold_the_same_manuscript(lib):
    md = _export(lib, "md", "书稿.md", order="year").files[0].read_text(encoding="utf-8")
    chapters = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    titles = [_title(lib, f) for f in YEAR_ORDER]
    assert chapters == ["目录"] + titles + ["人名索引", "地名索引"]
    assert len([line for line in md.splitlines() if line.startswith("> 出处：")]) == 5
    assert "**〔第2页〕**" in md  # multi-page chapters mark where each source page starts
    persons = md.split("## 人名索引")[1].split("## 地名索引")[0]
    assert [line[2:].split("　")[0] for line in persons.splitlines() if line.startswith("- ")] == \
        PERSONS_IN_PINYIN_ORDER

    txt = _export(lib, "txt", "书稿.txt", order="year").files[0].read_text(encoding="utf-8")
    positions = [txt.index("\n" + t + "\n\n") for t in titles]
    assert positions == sorted(positions)
    assert txt.count("\n出处：") == 5
    # Hard line breaks inside a sentence are joined; the heading line of the draft stays apart.
    assert "\n　　第三章　农村电气化（初稿）\n　　岚江县农村用电始于一九五九年。" in txt


@pytest.mark.tesseract
def test_a_query_exports_only_matching_documents_and_empty_indexes_say_none(lib):
    md = _export(lib, "md", "查询.md", query='"工业遗产陈列馆"').files[0].read_text(encoding="utf-8")
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == \
        ["目录", "岚江县电厂简介", "人名索引", "地名索引"]
    assert md.split("## 人名索引")[1].split("## 地名索引")[0].strip() == "无"
    assert "检索条件：\"工业遗产陈列馆\"" in md


# -- word counts and catalogs ----------------------------------------------------------------

@pytest.mark.tesseract
def test_wordcount_csv_matches_the_catalog_and_stats_prints_the_same(lib):
    result = _export(lib, "wordcount", "字数.csv")
    raw = result.files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    blank = rows.index([])
    documents, contributors = rows[1:blank - 1], rows[blank + 2:-1]
    assert rows[0][:7] == ["序号", "题名", "撰稿人", "卷次", "页数", "字数", "计酬千字"]
    by_id = {r[7]: r for r in documents}
    for name, doc in lib["docs"].items():
        assert int(by_id[doc.doc_id][5]) == doc.char_count > 0
    total = sum(d.char_count for d in lib["docs"].values())
    assert rows[blank - 1][0] == "合计" and int(rows[blank - 1][5]) == total
    assert [c[0] for c in contributors] == ["李秀英", "王德明", "曾宪文", "未署名"]  # 曾 read as zeng
    unsigned = lib["docs"][CHRONICLE].char_count + lib["docs"][RURAL].char_count
    assert contributors[3][1:3] == ["2", str(unsigned)]
    assert rows[-1][0] == "合计" and int(rows[-1][2]) == total

    runner = CliRunner()
    library = ["--library", str(lib["cfg"].library)]
    stats = runner.invoke(main, [*library, "stats", "--by", "contributor", "-c", COLLECTION])
    assert stats.exit_code == 0, stats.output
    printed = [line.split() for line in stats.output.splitlines() if line.strip()]
    for c in contributors:
        assert [c[0], c[1], c[2], c[3]] in printed
    as_json = json.loads(
        runner.invoke(main, [*library, "stats", "--by", "contributor", "--json"]).stdout)
    assert as_json["characters"] == total
    assert {c["contributor"]: c["characters"] for c in as_json["contributors"]} == \
        {c[0]: int(c[2]) for c in contributors}


@pytest.mark.tesseract
def test_catalog_csv_and_json_list_every_document_with_metadata_and_tags(lib):
    raw = _export(lib, "csv", "目录.csv").files[0].read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 5
    memoir = next(r for r in rows if r["编号"] == lib["ids"][MEMOIR])
    assert (memoir["题名"], memoir["撰稿人"], memoir["卷次"], memoir["日期"]) == \
        ("县电厂创办回忆", "王德明", "第三辑", "1985-06")
    assert memoir["人名"] == "王德明|李秀英" and memoir["源文件"] == "县电厂 回忆录.png"
    assert int(memoir["字数"]) == lib["docs"][MEMOIR].char_count
    # An extra column of the metadata sheet is kept; a tag correction (tag.*) shows as the tag.
    assert next(r for r in rows if r["编号"] == lib["ids"][DRAFT])["来源"] == "政协征集"
    assert not any(column.startswith("tag.") for column in rows[0])

    data = json.loads(_export(lib, "json", "目录.json").files[0].read_text(encoding="utf-8"))
    assert data["collection"] == COLLECTION
    by_id = {d["doc_id"]: d for d in data["documents"]}
    for name, doc in lib["docs"].items():
        assert by_id[doc.doc_id]["metadata"] == doc.metadata
        assert by_id[doc.doc_id]["tags"] == doc.tags
    assert "\\u" not in _export(lib, "json", "目录2.json").files[0].read_text(encoding="utf-8")


@pytest.mark.tesseract
def test_order_options(lib):
    def order(how: str) -> list[str]:
        written = _export(lib, "json", f"order-{how}.json", order=how).files[0]
        data = json.loads(written.read_text("utf-8"))
        ids = {v: k for k, v in lib["ids"].items()}
        return [ids[d["doc_id"]] for d in data["documents"]]

    assert order("year") == YEAR_ORDER
    # Contributors in pinyin order (曾 as zeng), then the unsigned ones by year.
    assert order("contributor") == [DRAFT, MEMOIR, BRIDGE, CHRONICLE, RURAL]
    titles = [_title(lib, f) for f in order("title")]
    assert titles == sorted(titles, key=lambda t: pinyin_key(t)) and titles[-1] == "县电厂创办回忆"
    assert order("ingest") == sorted(FIELDS, key=lambda f: lib["docs"][f].seq)


# -- archival formats ------------------------------------------------------------------------

@pytest.mark.tesseract
def test_dublin_core_records_are_namespaced_oai_dc_and_stay_inside_output(lib):
    result = _export(lib, "dc", "dc")
    out = (lib["base"] / "dc").resolve()
    assert len(result.files) == 5
    for path in result.files:
        assert path.resolve().parent == out
    rural = next(p for p in result.files if lib["ids"][RURAL][:8] in p.name)
    assert rural.name == f"电力志稿：农村电气化-{lib['ids'][RURAL][:8]}.xml"
    assert not (lib["base"] / "电力志稿：农村电气化").exists()
    for name, doc in lib["docs"].items():
        path = next(p for p in result.files if doc.doc_id[:8] in p.name)
        root = etree.parse(str(path)).getroot()
        assert root.tag == f"{OAI_DC}dc"
        assert root.findtext(f"{DC}title") == _title(lib, name)
        assert root.findtext(f"{DC}identifier") == f"wenshi:{doc.doc_id}"
        assert root.findtext(f"{DC}source") == Path(name).name
        assert root.findtext(f"{DC}creator") == (doc.metadata.get("contributor") or None)
    bridge = etree.parse(str(next(p for p in result.files if lib["ids"][BRIDGE][:8] in p.name)))
    assert {e.text for e in bridge.iterfind(f"{DC}coverage")} >= {"岚江县"}
    assert bridge.findtext(f"{DC}format") == "application/pdf"


@pytest.mark.tesseract
def test_alto_files_per_ocr_page_in_one_folder_per_document(lib):
    result = _export(lib, "alto", "alto")
    relative = sorted(str(p.relative_to((lib["base"] / "alto").resolve())) for p in result.files)
    assert relative == sorted([f"{document_stem(lib['docs'][MEMOIR])}/0001.alto.xml",
                               f"{document_stem(lib['docs'][BRIDGE])}/0002.alto.xml"])
    assert {i.doc_id for i in result.skipped} == {lib["ids"][f] for f in (DRAFT, CHRONICLE, RURAL)}
    for path in result.files:
        root = etree.parse(str(path)).getroot()
        assert root.tag == f"{ALTO}alto"
        strings = root.findall(f".//{ALTO}String")
        assert len(strings) > 20
        assert root.findtext(f".//{ALTO}fileName") in (Path(MEMOIR).name, Path(BRIDGE).name)
    memoir = etree.parse(str(next(p for p in result.files if "0001" in p.name))).getroot()
    text = "".join(s.get("CONTENT") for s in memoir.iter(f"{ALTO}String"))
    assert "西门外的旧盐仓" in text


@pytest.mark.tesseract
def test_searchable_pdf_has_the_scan_and_invisible_ocr_text_that_pdfplumber_extracts(lib):
    import pdfplumber
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    result = _export(lib, "pdf", "pdf")
    assert {i.doc_id for i in result.skipped} == {lib["ids"][f] for f in (DRAFT, CHRONICLE, RURAL)}
    memoir_pdf = next(p for p in result.files if lib["ids"][MEMOIR][:8] in p.name)
    bridge_pdf = next(p for p in result.files if lib["ids"][BRIDGE][:8] in p.name)
    with pdfplumber.open(str(memoir_pdf)) as pdf:
        page = pdf.pages[0]
        assert (round(page.width), round(page.height)) == (298, 420)  # 1240x1748 px at 300 dpi
        assert len(page.images) == 1
        text = _compact(page.extract_text())
        assert "西门外的旧盐仓" in text and "县电厂" in text
        # The first word sits where Tesseract found it on the scan.
        alto = lib["cfg"].library / "pages" / lib["ids"][MEMOIR] / "0001.alto.xml"
        first = etree.parse(str(alto)).getroot().find(f".//{ALTO}String")
        char = min(page.chars, key=lambda c: (round(c["top"] / 5), c["x0"]))
        assert abs(char["x0"] - float(first.get("HPOS")) * 72 / 300) < 3
        assert char["text"] == first.get("CONTENT")[0]
    with pdfplumber.open(str(bridge_pdf)) as pdf:
        assert len(pdf.pages) == 2
        assert "潜水工下水" in _compact(pdf.pages[0].extract_text())  # its own text layer, kept
        assert "没有架桥机" in _compact(pdf.pages[1].extract_text())  # OCR'd
    document = pypdfium2.PdfDocument(str(memoir_pdf))
    try:
        modes = {pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
                 for obj in document[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT])}
    finally:
        document.close()
    assert modes == {pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE}


@pytest.mark.tesseract
def test_searchable_pdf_is_pdfa_2b_with_its_cjk_font_embedded(lib):
    """Issue 17: PDF/A-2b. Every font embedded (a Noto CJK subset), XMP saying part 2
    conformance B and mirroring the document information, an sRGB output intent, and the text
    layer giving the catalog's text in reading order."""
    import pdfplumber
    import pikepdf

    result = _export(lib, "pdf", "pdfa")
    memoir_pdf = next(p for p in result.files if lib["ids"][MEMOIR][:8] in p.name)
    assert memoir_pdf.read_bytes()[:8] == b"%PDF-1.7"
    for path in result.files:
        with pikepdf.open(path) as pdf:
            assert "/Encrypt" not in pdf.trailer and "/ID" in pdf.trailer
            meta = pdf.open_metadata()
            assert meta.pdfa_status == "2B"
            assert meta["dc:title"] == str(pdf.docinfo["/Title"])
            assert meta["xmp:CreatorTool"] == str(pdf.docinfo["/Creator"])
            [intent] = pdf.Root.OutputIntents
            assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
            profile = intent.DestOutputProfile.read_bytes()
            assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "
            fonts = [f for page in pdf.pages for f in page.Resources.Font.values()]
            assert fonts
            for font in fonts:
                assert "NotoSansCJKsc" in str(font.BaseFont)
                assert "/FontFile2" in font.FontDescriptor and "/ToUnicode" in font
                embedded = font.FontDescriptor.FontFile2.read_bytes()
                assert embedded[:4] == b"\x00\x01\x00\x00"  # TrueType outlines
    with LibraryFolder(lib["cfg"]) as library:
        stored = library.catalog.pages(lib["ids"][MEMOIR])[0].text
    with pdfplumber.open(str(memoir_pdf)) as pdf:
        extracted = _compact(pdf.pages[0].extract_text())
    # Reading order: the catalog's lines come out in their order (OCR's look-alike fixes and
    # clean-up apply to both, so they agree character for character on most lines).
    lines = [_compact(line) for line in stored.splitlines() if len(_compact(line)) >= 8]
    found = [extracted.find(line) for line in lines if line in extracted]
    assert len(found) >= 0.7 * len(lines) and found == sorted(found)


@pytest.mark.tesseract
def test_a_moved_or_changed_source_is_a_clear_per_document_error(tmp_path):
    tesseract_or_skip()
    scan = tmp_path / "scans" / "输电线路.webp"
    scan.parent.mkdir()
    shutil.copy(SAMPLES / "power" / "输电线路.webp", scan)
    library = tmp_path / "library"
    runner = CliRunner()
    ingest = runner.invoke(main, ["--library", str(library), "ingest", str(scan), "-c", "c"])
    assert ingest.exit_code == 0, ingest.output
    moved = scan.with_name("改名.webp")
    scan.rename(moved)
    export = ["--library", str(library), "export", "c", "-f", "pdf", "-o", str(tmp_path / "out")]
    result = runner.invoke(main, export)
    assert result.exit_code == 1
    error = result.stderr.strip()
    assert f"source file {scan} not found" in error and "moved or deleted since ingest" in error
    assert "0 files" in result.stdout
    scan.write_bytes(b"RIFF" + moved.read_bytes()[4:100])
    result = runner.invoke(main, export)
    assert result.exit_code == 1 and "has changed since ingest" in result.stderr


# -- errors through the CLI ------------------------------------------------------------------

@pytest.mark.tesseract
def test_cli_refuses_to_overwrite_and_reports_empty_selections(lib):
    runner = CliRunner()
    target = lib["base"] / "已有.md"
    target.write_text("旧稿", encoding="utf-8")
    args = ["--library", str(lib["cfg"].library), "export", COLLECTION]
    result = runner.invoke(main, [*args, "--format", "md", "--output", str(target)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {target} already exists; pass --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "旧稿"
    result = runner.invoke(main, [*args, "--format", "md", "--output", str(target), "--force"])
    assert result.exit_code == 0 and result.stdout.startswith(f"wrote {target} (5 documents")
    assert target.read_text(encoding="utf-8").startswith(f"# {COLLECTION}")

    empty = lib["base"] / "空.docx"
    result = runner.invoke(main, [*args, "-f", "docx", "-o", str(empty), "--query", '"没有这句话"'])
    assert result.exit_code == 5
    assert result.stderr == (f"Error: no document in collection '{COLLECTION}' matches the query "
                             "'\"没有这句话\"'; nothing exported\n")
    assert not empty.exists()
    result = runner.invoke(main, [*args[:2], "export", "没有的汇集", "-f", "csv", "-o", str(empty)])
    assert result.exit_code == 5
    assert result.stderr == "Error: no collection '没有的汇集'; see `wenshi collections`\n"
    folder = lib["base"] / "dc-again"
    assert runner.invoke(main, [*args, "-f", "dc", "-o", str(folder)]).exit_code == 0
    result = runner.invoke(main, [*args, "-f", "dc", "-o", str(folder)])
    assert result.exit_code == 2 and "and 4 more files already exist; pass --force" in result.stderr


@pytest.mark.tesseract
def test_a_collection_without_documents_is_an_error(tmp_path):
    tesseract_or_skip()
    broken = tmp_path / "broken scan.png"
    broken.write_bytes((SAMPLES / "power" / "县电厂 回忆录.png").read_bytes()[:4000])
    runner = CliRunner()
    library = ["--library", str(tmp_path / "library")]
    assert runner.invoke(main, [*library, "ingest", str(broken), "-c", "空汇集"]).exit_code == 1
    target = tmp_path / "a.txt"
    result = runner.invoke(main, [*library, "export", "空汇集", "-f", "txt", "-o", str(target)])
    assert result.exit_code == 5
    assert result.stderr == "Error: collection '空汇集' has no documents to export\n"
    assert not target.exists()


# -- pure helpers (no Tesseract) -------------------------------------------------------------

def test_file_names_never_leave_the_output_folder(tmp_path):
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("第1.2节 a/b") == "第1.2节 a_b"
    assert safe_name("..") == "未命名" and safe_name(" . ") == "未命名"
    assert safe_name("CON") == "_CON"
    assert "/" not in safe_name("a/b\\c:d") and "\x00" not in safe_name("a\x00b")
    assert len(safe_name("长" * 200).encode("utf-8")) <= 120
    with pytest.raises(UsageError):
        inside(tmp_path, "../outside.xml")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(UsageError):
        inside(tmp_path / "out", "link/escape.xml")
    (tmp_path / "out" / "a.xml").write_text("x")
    with pytest.raises(UsageError, match="already exists; pass --force"):
        folder_targets(tmp_path / "out", ["a.xml"], force=False)
    targets = folder_targets(tmp_path / "out", ["a.xml"], force=True)
    assert targets == [(tmp_path / "out" / "a.xml").resolve()]


def test_pinyin_order_reads_surnames_and_page_lists_read_like_chinese():
    names = ["周汉卿", "曾宪文", "李秀英", "单田芳", "王德明"]
    in_order = sorted(names, key=lambda n: pinyin_key(n, surname=True))
    assert in_order == ["李秀英", "单田芳", "王德明", "曾宪文", "周汉卿"]
    assert page_list([3, 1, 2, 5, 7, 8]) == "第1—3、5、7—8页"
    assert page_list([4]) == "第4页"


def test_fee_thousands_follows_the_2014_rule():
    counts = (0, 300, 500, 501, 1000, 2036, 2600)
    assert [fee_thousands(n) for n in counts] == [0, 0.5, 0.5, 1, 1, 2.5, 3]


@pytest.mark.paddle
def test_issue_13_a_running_head_is_searchable_but_left_out_of_the_manuscript(tmp_path):
    """A real manual page read by PP-OCR: its running head (Java 开发手册（黄山版）) and page
    number (1/51) are found by search, and the manuscript leaves them out."""
    from .test_paddle import paddle_or_skip

    paddle_or_skip()
    tesseract_or_skip()
    source = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages" / "pages"
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(source / "javamanual_p4@150.png", scans / "手册第一页.png")
    cfg = Config(library=tmp_path / "library", jobs=1, engine="paddle")
    with Library(cfg, create=True) as opened:
        summary = opened.ingest([str(scans)], "手册")
        assert summary.count("ingested") == 1, summary
        assert opened.search("开发手册").total == 1
        assert opened.search("命名风格").total == 1
        opened.export("手册", "md", tmp_path / "书稿.md")
    manuscript = _compact((tmp_path / "书稿.md").read_text(encoding="utf-8"))
    assert "命名风格" in manuscript and "编程规约" in manuscript
    assert "开发手册" not in manuscript and "1/51" not in manuscript


def test_running_heads_feet_and_page_numbers_stay_out_of_the_manuscript():
    page = "Java 开发手册（黄山版）\n\n一、编程规约\n（一）命名风格\n\n9/51"
    marginal = ("Java 开发手册（黄山版）", "9/51")
    assert without_marginal(page, marginal) == "一、编程规约\n（一）命名风格"
    # A head whose lines the clean-up joined into one is still recognised; body text that
    # merely contains the head's words is kept.
    joined = "2计算机学报2019年\n\n计算机学报的正文\n\n3"
    assert without_marginal(joined, ("2", "计算机学报", "2019年", "3")) == "计算机学报的正文"
    assert without_marginal(page, ()) == page


def test_paragraphs_join_wrapped_lines_keep_headings_and_tables():
    lines = ["县电厂创办回忆", "我是民国二十六年进厂的，那年我十七岁。当时岚江县城里还没有电",
             "灯，商户晚上都点煤油灯。", "", "Power plant", "history"]
    assert join_paragraph_lines(lines) == [
        "县电厂创办回忆", "我是民国二十六年进厂的，那年我十七岁。当时岚江县城里还没有电灯，商户晚上都点煤油灯。",
        "Power plant history"]
    blocks = text_blocks("下表：\n年份\t容量\n1937\t40千瓦\n表后一段。")
    assert [b.kind for b in blocks] == ["paragraph", "table", "paragraph"]
    assert blocks[1].rows == (("年份", "容量"), ("1937", "40千瓦"))


def test_text_layer_words_do_not_overlap_and_chinese_gets_no_spaces():
    alto = """<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout>
      <Page WIDTH="1000" HEIGHT="2000"><PrintSpace><TextBlock>
      <TextLine HPOS="100" VPOS="100" WIDTH="600" HEIGHT="50">
        <String HPOS="100" VPOS="100" WIDTH="400" HEIGHT="50" CONTENT="青石"/>
        <String HPOS="200" VPOS="100" WIDTH="50" HEIGHT="50" CONTENT="滩"/>
        <String HPOS="300" VPOS="100" WIDTH="100" HEIGHT="50" CONTENT="Power"/>
        <String HPOS="420" VPOS="100" WIDTH="100" HEIGHT="50" CONTENT="plant"/>
      </TextLine></TextBlock></PrintSpace></Page></Layout></alto>""".encode("utf-8")
    words = alto_words(alto, 500.0, 1000.0)  # half size: 0.5 pt per pixel
    assert [w.text for w in words] == ["青石", "滩", "Power ", "plant"]
    assert words[0].x == 50 and words[0].width == 50  # cut back to where 滩 starts
    assert words[1].width == 50  # stretched to the next word: no gap, no space when copied
    assert all(w.size == 25 and w.baseline == pytest.approx(1000 - 75 + 0.12 * 25) for w in words)


@pytest.mark.tesseract
def test_searchable_pdf_text_of_a_skewed_scan_lies_on_its_glyphs(tmp_path):
    """Preprocessing deskews the page before Tesseract reads it; the invisible text must still
    land on the characters of the scan as it is, not of the straightened copy."""
    tesseract_or_skip()
    import numpy as np
    import pdfplumber
    from PIL import Image, ImageDraw, ImageFont

    from tests.scanned_pages import FONT, FONT_SC

    font = ImageFont.truetype(FONT, 40, index=FONT_SC)
    page = Image.new("L", (1240, 900), 255)
    draw = ImageDraw.Draw(page)
    lines = ("一九五八年县电厂在东郊扩建，", "新装汽轮发电机组两台，", "全县工农业用电大增。",
             "铁路勘测队沿岚江河谷踏勘，", "在河谷东岸设站。")
    for i, line in enumerate(lines):
        draw.text((100, 120 + i * 130), line, font=font, fill=0)
    # skewed 4° clockwise
    scan = page.rotate(-4.0, resample=Image.Resampling.BICUBIC, fillcolor=255)
    path = tmp_path / "斜扫.png"
    scan.save(path, dpi=(300, 300))
    cfg = Config(library=tmp_path / "library", jobs=1, lang="chi_sim")
    with Library(cfg, create=True) as opened:
        assert opened.ingest([str(path)], "c").count("ingested") == 1
        result = opened.export("c", "pdf", tmp_path / "pdf")
    ink = np.asarray(scan) < 128
    with pdfplumber.open(str(result.files[0])) as pdf:
        chars = [c for c in pdf.pages[0].chars if c["text"].strip()]
    assert len(chars) >= 40
    scale = 300 / 72  # PDF points -> scan pixels

    def on_ink(c: dict[str, Any]) -> bool:
        x0, x1 = int(c["x0"] * scale), int(c["x1"] * scale)
        top, bottom = int(c["top"] * scale), int(c["bottom"] * scale)
        return (bool(ink[max(0, top):bottom, max(0, x0):x1].mean() > 0.05)
                if x1 > x0 and bottom > top else False)

    share = sum(map(on_ink, chars)) / len(chars)
    assert share >= 0.9, share


@pytest.mark.tesseract
def test_searchable_pdf_keeps_rare_characters_noto_lacks(tmp_path):
    """Local history has rare characters in names: an editor's 𪚥 (Extension B, not in Noto
    Sans CJK SC) is drawn in HanaMin and found in the PDF's text layer; a character no installed
    font has is left out (PDF/A forbids drawing .notdef) and the export still succeeds."""
    tesseract_or_skip()
    import pdfplumber
    import pikepdf
    import pypdfium2

    scan = tmp_path / "回忆录.png"
    shutil.copy(SAMPLES / "power" / "县电厂 回忆录.png", scan)
    cfg = Config(library=tmp_path / "library", jobs=1, lang="chi_sim", engine="tesseract")
    with Library(cfg, create=True) as opened:
        ingested = opened.ingest([str(scan)], "c")
        assert ingested.count("ingested") == 1
        doc_id = ingested.outcomes[0].doc_id
        # An export before, in the same process: the second must not draw with its font.
        opened.export("c", "pdf", tmp_path / "before")
        page = opened.page_text(doc_id, 1)
        opened.add_editor("王编辑", "correct horse 电池")
        unencoded = "\U00031350"  # CJK Extension H (2022): in neither Noto nor HanaMin
        text = f"{page.text}\n𪚥姓族谱，𬌗水{unencoded}村"
        opened.save_page(doc_id, 1, text, editor="王编辑", base_version=page.version,
                         proofread=False)
        result = opened.export("c", "pdf", tmp_path / "pdf")
    [pdf_path] = result.files
    with pdfplumber.open(str(pdf_path)) as pdf:
        extracted = _compact(pdf.pages[0].extract_text())
    assert "𪚥姓族谱" in extracted and "𬌗水村" in extracted and unencoded not in extracted
    assert "\x00" not in extracted and _compact(page.text) in extracted
    document = pypdfium2.PdfDocument(str(pdf_path))
    assert "𪚥姓族谱" in _compact(document[0].get_textpage().get_text_range())
    document.close()
    with pikepdf.open(pdf_path) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        fonts = {str(f.BaseFont): f for f in pdf.pages[0].Resources.Font.values()}
        assert any("HanaMin" in name for name in fonts), fonts
        assert all("/FontFile2" in f.FontDescriptor and "/ToUnicode" in f
                   for f in fonts.values())
