"""Metadata sheets: encodings, validation messages naming row and column, extra columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.run.metadata import read_metadata_csv

SHEET = ("file,title,contributor,region,volume,date,doctype,notes,页码范围\n"
         "a.txt,县电厂的创建,王德明,岚江县,第三辑,1958-07,回忆录,初稿,1-12\n"
         "b.txt,铁路勘测,李秀英,株洲市,3,1956年5月,史料,,\n"
         "c.txt,坏日期,张三,,1,1958-13-01,,,\n"
         ",没有文件,,,,,,,\n"
         "a.txt,重复,,,,,,,\n"
         "d.txt,坏卷号,,,volume three,,,,\n")


def test_gbk_sheet_with_errors_named_by_row_and_column(tmp_path):
    path = tmp_path / "目录.csv"
    path.write_bytes(SHEET.encode("gbk"))
    sheet = read_metadata_csv(path)
    assert [f for f, _ in sheet.rows] == ["a.txt", "b.txt"]
    a = sheet.for_path(tmp_path / "a.txt")
    assert a["title"] == "县电厂的创建" and a["contributor"] == "王德明" and a["volume"] == "第三辑"
    assert a["页码范围"] == "1-12"  # unknown columns are kept
    assert sheet.errors == (
        f"{path}: row 4, column date: '1958-13-01' is not a date (month 1-12, day 1-31)",
        f"{path}: row 5, column file: empty (name the file this row describes)",
        f"{path}: row 6, column file: 'a.txt' is already described in row 2",
        f"{path}: row 7, column volume: 'volume three' is not a volume number (e.g. 3 or 第三辑)",
    )


def test_utf8_bom_sheet_from_excel_and_lookup_by_file_name(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_bytes("\ufeff".encode("utf-8") + SHEET.encode("utf-8"))
    sheet = read_metadata_csv(path)
    assert sheet.for_path(Path("/elsewhere/b.txt"))["region"] == "株洲市"
    assert sheet.for_path(tmp_path / "unknown.txt") == {}


def test_sheet_without_file_column_is_a_usage_error(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("title,contributor\n一,二\n", encoding="utf-8")
    with pytest.raises(UsageError, match="needs a 'file' column"):
        read_metadata_csv(path)


def test_xlsx_sheet_with_chinese_headers_excel_dates_and_numbers(tmp_path):
    """Issue 17: the headers `catalog export` writes, dates as Excel dates or text."""
    import datetime as dt

    import openpyxl

    path = tmp_path / "目录.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "源文件", "题名", "撰稿人", "卷次", "日期", "人名", "页数", "来源"])
    sheet.append(["", "a.txt", "县电厂的创建", "王德明", 3, dt.datetime(1958, 7, 1), "王德明", 1,
                  "政协征集"])
    sheet.append(["", "b.txt", "铁路勘测", "李秀英", "第三辑", "1956年5月", "", 2, ""])
    sheet.append(["", "c.txt", "坏日期", "", "", "1958-13-01", "", "", ""])
    book.save(path)
    sheet_read = read_metadata_csv(path)
    a = sheet_read.for_path(tmp_path / "a.txt")
    # Tag columns, 编号 and the catalog's counts are not fields of a new document.
    assert a == {"title": "县电厂的创建", "contributor": "王德明", "volume": "3",
                 "date": "1958-07-01", "来源": "政协征集"}
    assert sheet_read.for_path(tmp_path / "b.txt")["date"] == "1956年5月"
    assert sheet_read.errors == (f"{path}: row 4, column date: '1958-13-01' is not a date "
                                 "(month 1-12, day 1-31)",)
    number, cells = sheet_read.full_row(tmp_path / "a.txt")
    assert number == 2 and cells["persons"] == "王德明"
