"""CLI error handling: one `Error:` line and the documented exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main


def test_missing_library_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["--library", str(tmp_path / "none"), "search", "电厂"])
    assert result.exit_code == 4
    assert result.stderr.strip() == (f"Error: {tmp_path / 'none'}: no library here "
                                     "(ingest something first, or pass --library)")


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    lib = tmp_path / "lib"
    (tmp_path / "a.txt").write_text("县电厂", encoding="utf-8")
    assert runner.invoke(main, ["--library", str(lib), "ingest", str(tmp_path / "a.txt"),
                                "--collection", "c"]).exit_code == 0
    bad_field = runner.invoke(main, ["--library", str(lib), "search", "nosuch:x"])
    assert bad_field.exit_code == 2
    assert bad_field.stderr.startswith("Error: unknown field 'nosuch' in query")
    # no --collection
    assert runner.invoke(main, ["--library", str(lib), "ingest", str(tmp_path)]).exit_code == 2


def test_unknown_document_exits_5(tmp_path):
    runner = CliRunner()
    lib = tmp_path / "lib"
    (tmp_path / "a.txt").write_text("县电厂", encoding="utf-8")
    runner.invoke(main, ["--library", str(lib), "ingest", str(tmp_path / "a.txt"),
                         "--collection", "c"])
    result = runner.invoke(main, ["--library", str(lib), "show", "0000000000000000"])
    assert result.exit_code == 5
    assert result.stderr.strip() == f"Error: no document '0000000000000000' in {lib}"


def test_every_command_has_help_with_an_example():
    for name, command in main.commands.items():
        assert command.help and "Example:" in command.help, name


def test_the_command_starts_without_the_library():
    # `wenshi ingest` starts its page workers' server (pipeline/run/workers.py) before it imports
    # the library, so that the two import side by side; importing the command must not import
    # the library (Whoosh) or the page pipeline (numpy, PIL, jieba) already.
    heavy = ("whoosh", "index.api", "index.library", "pipeline.run.ingest", "numpy", "PIL", "jieba")
    code = f"import sys, cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_keeps_exit_codes_and_output_through_its_quick_exit(tmp_path):
    # `run` ends the process with os._exit after flushing (cli.run): exit codes and buffered
    # output must come through as a normal exit would give them.
    root = Path(__file__).parent.parent

    def wenshi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(root / "cli.py"), *args], cwd=tmp_path,
                              capture_output=True, text=True)

    version = wenshi("--version")
    assert (version.returncode, version.stdout.strip()) == (0, "wenshi, version 0.1.0")
    missing = wenshi("--library", str(tmp_path / "none"), "search", "电厂")
    assert missing.returncode == 4
    assert missing.stderr.startswith(f"Error: {tmp_path / 'none'}: no library here")
    usage = wenshi("ingest", str(tmp_path))  # no --collection
    assert usage.returncode == 2 and "Missing option '--collection'" in usage.stderr
    helped = wenshi("search", "--help")
    assert helped.returncode == 0 and helped.stdout.rstrip().endswith("Show this message and exit.")


def test_each_error_class_has_its_own_exit_code_and_the_docs_list_it():
    from pipeline import errors

    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.WenshiError)]
    codes: dict[int, list[str]] = {}
    for cls in classes:
        codes.setdefault(cls.exit_code, []).append(cls.__name__)
    # An input that failed (file or page) is exit 1 either way: the batch's partial failure.
    assert {k: sorted(v) for k, v in codes.items() if len(v) > 1} == {
        1: ["InputFileError", "OcrError"]}
    operations = Path(__file__).parent.parent / "docs" / "operations.md"
    table = operations.read_text(encoding="utf-8").split("## Exit codes", 1)[1]
    for code in codes:
        assert f"\n| {code} | " in table, code


def test_text_documents_ingest_without_an_ocr_engine_and_scans_stop_with_one_line(tmp_path):
    # An office may ingest typed drafts and born-digital PDFs on a machine without Tesseract:
    # the engines are checked when the first page needs OCR. That stops the run (exit 3) with
    # the install line; what was stored before stays.
    root = Path(__file__).parent.parent
    typed, scanned = tmp_path / "typed", tmp_path / "scanned"
    typed.mkdir()
    scanned.mkdir()
    for name in ("power/电力志稿_农村电气化.txt", "power/县电厂简介.docx",
                 "power/岚江县电力工业大事记.pdf"):  # the PDF has a text layer
        shutil.copy(root / "samples" / name, typed)
    shutil.copy(root / "samples/railway/路基施工.bmp", scanned)
    no_tesseract = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    assert shutil.which("tesseract", path=no_tesseract["PATH"]) is None

    def wenshi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(root / "cli.py"), "--library",
                               str(tmp_path / "lib"), *args], cwd=tmp_path, env=no_tesseract,
                              capture_output=True, text=True)

    typed_run = wenshi("ingest", str(typed), "--collection", "电力", "--jobs", "1")
    assert typed_run.returncode == 0, typed_run.stderr
    assert "3 ingested, 0 skipped, 0 failed" in typed_run.stdout
    scanned_run = wenshi("ingest", str(scanned), "--collection", "电力", "--jobs", "1")
    assert scanned_run.returncode == 3
    assert scanned_run.stderr.strip().splitlines() == [
        "Error: Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim"]
    stored = wenshi("collections", "--json")
    assert stored.returncode == 0, stored.stderr
    assert [(c["name"], c["documents"]) for c in json.loads(stored.stdout)] == [("电力", 3)]
