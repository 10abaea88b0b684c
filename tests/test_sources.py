"""Files -> pages without OCR: discovery, encodings, Word drafts, PDFs with text layers, bad
files."""

from __future__ import annotations

import pytest

from pipeline.config import Config
from pipeline.errors import InputFileError
from pipeline.records import Page, PageTask
from pipeline.run.sources import decode_text, discover_files, identify, plan_document

from .conftest import SAMPLES, make_bad_inputs

TEXT = "一九五八年，县电厂开始建设第一台发电机组。"
TRAD = "一九五八年，縣電廠開始建設第一臺發電機組。"


@pytest.mark.parametrize("data, encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gbk"), "gb18030"),
    (TRAD.encode("big5"), "big5"),
])
def test_text_encodings_are_detected(data, encoding):
    text, found = decode_text(data)
    assert text in (TEXT, TRAD)
    assert found == encoding


def test_discovery_recurses_sorts_and_lists_unsupported(tmp_path):
    (tmp_path / "b 卷").mkdir()
    (tmp_path / "b 卷" / "二.txt").write_text("二", encoding="utf-8")
    (tmp_path / "a.md").write_text("# 一", encoding="utf-8")
    (tmp_path / "x.xyz").write_text("?", encoding="utf-8")
    found = discover_files([tmp_path, tmp_path / "missing"])
    assert [p.name for p in found.files] == ["a.md", "二.txt"]
    assert [p.name for p in found.unsupported] == ["x.xyz"]
    assert [p.name for p in found.missing] == ["missing"]


def test_same_bytes_same_id_and_text_pages_split_on_form_feed(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    for p in (a, b):
        p.write_text("第一页\f第二页", encoding="utf-8")
    assert identify(a).doc_id == identify(b).doc_id
    plan = plan_document(identify(a), Config())
    assert [p.text for p in plan.pages] == ["第一页", "第二页"]  # type: ignore[union-attr]


def test_docx_headings_paragraphs_and_tables():
    plan = plan_document(identify(SAMPLES / "power" / "县电厂简介.docx"), Config())
    assert len(plan.pages) == 1 and isinstance(plan.pages[0], Page)
    text = plan.pages[0].text
    assert plan.title and plan.title in text
    assert "\t" in text  # table rows keep their cells apart
    assert "柴油发电机一台" in text


def test_mixed_pdf_uses_text_layer_then_ocr_task():
    plan = plan_document(identify(SAMPLES / "railway" / "岚江大桥 施工纪实.pdf"), Config())
    assert isinstance(plan.pages[0], Page) and plan.pages[0].method == "text"
    assert isinstance(plan.pages[1], PageTask) and plan.pages[1].number == 2


def test_multipage_tiff_makes_one_task_per_frame():
    plan = plan_document(identify(SAMPLES / "power" / "青石滩水电站.tif"), Config())
    assert [p.number for p in plan.pages] == [1, 2]
    assert all(isinstance(p, PageTask) for p in plan.pages)


def test_bad_files_raise_input_errors_naming_the_reason(tmp_path):
    expected = make_bad_inputs(tmp_path)
    for name, words in expected.items():
        if name == "truncated scan.png":
            continue  # header is fine; the damage shows when the worker decodes the pixels
        with pytest.raises(InputFileError, match=words):
            plan_document(identify(tmp_path / name), Config())


def test_truncated_image_fails_when_decoded(tmp_path):
    from pipeline.page.images import load_page_image

    make_bad_inputs(tmp_path)
    plan = plan_document(identify(tmp_path / "truncated scan.png"), Config())
    with pytest.raises(InputFileError, match="damaged"):
        load_page_image(plan.pages[0], Config())  # type: ignore[arg-type]
