"""Ingest orchestration: resume, page failures and retries, worker crashes, progress, timeouts.

Most tests hand the ingest a small fake engine (tests/scanned_pages.FakeEngine) and run inline
(no Tesseract, no processes), so the exact sequence of pages is known; the page loop around the
engine (decoding, preprocessing, the script and direction choice) is the real one. The timeout
test runs the real CLI and Tesseract.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from index.library import LibraryFolder
from pipeline.config import Config
from pipeline.errors import InputFileError
from pipeline.page import images
from pipeline.page.engines import tesseract
from pipeline.run import ingest, pool
from pipeline.run.ingest import ingest_paths

from .conftest import tesseract_or_skip
from .scanned_pages import (
    LANG,
    PHRASES,
    FakeEngine,
    install_slow_tesseract,
    write_pdf,
    write_png,
    write_tiff,
)


class _Abort(BaseException):
    """Ends a run the way a crash would: nothing in the ingest catches it."""


def _ingest(cfg: Config, paths: list[Path], engine: FakeEngine, progress: Any = None) -> Any:
    with LibraryFolder(cfg, create=True, writable=True) as library:
        library.index_unindexed()
        return ingest_paths(paths, "测试", cfg, library, progress=progress, engine=engine)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return Config(library=tmp_path / "library", jobs=1, lang=LANG)


def test_interrupted_ingest_resumes_without_redoing_stored_pages(tmp_path, cfg, monkeypatch):
    volume = write_pdf(tmp_path / "卷一.pdf", list(PHRASES[:4]))
    singles = [write_png(tmp_path / f"图{i}.png", PHRASES[i]) for i in (4, 5)]
    real_store = LibraryFolder.store_page
    stores = []

    def crash_after_three(library: LibraryFolder, doc_id: str, page: Any) -> None:
        if len(stores) == 3:
            raise _Abort()  # the writer dies between two pages of the volume
        real_store(library, doc_id, page)
        stores.append(page.number)

    monkeypatch.setattr(LibraryFolder, "store_page", crash_after_three)
    with pytest.raises(_Abort):
        _ingest(cfg, [volume, *singles], FakeEngine())
    monkeypatch.setattr(LibraryFolder, "store_page", real_store)
    with LibraryFolder(cfg) as library:
        partial = next(iter(library.catalog.documents(status="partial")))
        assert library.document_state(partial.doc_id) == ("partial", set(stores))

    again = FakeEngine()
    summary = _ingest(cfg, [volume, *singles], again)
    # The last page of the volume and the two single pages, nothing twice.
    assert len(again.reads) == 3
    assert [(o.status, o.pages, o.reused_pages) for o in summary.outcomes] == [
        ("ingested", 4, 3), ("ingested", 1, 0), ("ingested", 1, 0)]

    third = FakeEngine()
    summary = _ingest(cfg, [volume, *singles], third)
    assert third.reads == [] and summary.count("skipped") == 3
    with LibraryFolder(cfg) as library:
        found = library.check()
        assert found.ok, found
        assert (found.catalog_documents, found.catalog_pages, found.index_pages) == (3, 6, 6)


def test_failed_page_is_stored_listed_and_retried_by_the_next_ingest(tmp_path, cfg):
    tiff = write_tiff(tmp_path / "档案.tif", list(PHRASES[:3]))
    summary = _ingest(cfg, [tiff], FakeEngine(fail_reads=(2,)))
    outcome = summary.outcomes[0]
    assert outcome.status == "ingested" and outcome.pages == 3
    assert outcome.failed_pages == ((2, "Tesseract timed out after 1 s"),)
    assert summary.failed_pages == 1
    with LibraryFolder(cfg) as library:
        assert [(p["number"], p["error"]) for p in library.catalog.failed_pages()] == [
            (2, "Tesseract timed out after 1 s")]
        assert library.document_state(outcome.doc_id) == ("partial", {1, 3})

    retry = FakeEngine()
    summary = _ingest(cfg, [tiff], retry)
    assert len(retry.reads) == 1
    outcome = summary.outcomes[0]
    assert (outcome.status, outcome.failed_pages, outcome.reused_pages) == ("ingested", (), 2)
    with LibraryFolder(cfg) as library:
        assert library.catalog.failed_pages() == []
        assert library.document_state(outcome.doc_id) == ("complete", {1, 2, 3})
        assert library.catalog.pages(outcome.doc_id)[1].text == "第1次识别的文字"
        assert library.check().ok


def test_unreadable_pdf_page_fails_alone(tmp_path, cfg, monkeypatch):
    volume = write_pdf(tmp_path / "卷二.pdf", list(PHRASES[:3]))
    real = images.pdf_page_image

    def damaged_page_two(path: str, number: int, config: Config) -> Any:
        if number == 2:
            raise InputFileError("page 2: cannot rasterise PDF page (damaged content stream)")
        return real(path, number, config)

    monkeypatch.setattr(images, "pdf_page_image", damaged_page_two)
    summary = _ingest(cfg, [volume], FakeEngine())
    assert summary.outcomes[0].status == "ingested"
    assert summary.outcomes[0].failed_pages == (
        (2, "cannot rasterise PDF page (damaged content stream)"),)


def test_document_with_no_readable_page_is_a_failed_input_until_a_retry_succeeds(
        tmp_path, cfg):
    scan = write_png(tmp_path / "单页.png", PHRASES[0])
    summary = _ingest(cfg, [scan], FakeEngine(fail_reads=(1,)))
    outcome = summary.outcomes[0]
    assert (outcome.status, outcome.error) == ("failed", "Tesseract timed out after 1 s")
    with LibraryFolder(cfg) as library:
        assert library.catalog.document(outcome.doc_id) is None
        assert [e["error"] for e in library.catalog.errors()] == ["Tesseract timed out after 1 s"]

    summary = _ingest(cfg, [scan], FakeEngine())
    assert summary.outcomes[0].status == "ingested"
    with LibraryFolder(cfg) as library:
        assert library.catalog.errors() == []  # the successful retry supersedes the old failure


def test_worker_crash_fails_only_the_page_that_caused_it(tmp_path, monkeypatch):
    from . import scanned_pages

    cfg = Config(library=tmp_path / "library", jobs=2)
    tiff = write_tiff(tmp_path / "四页.tif", list(PHRASES[:4]))
    # Runs in the pool's worker processes, which import it by name: page 2 kills its worker.
    monkeypatch.setattr(ingest, "process_page", scanned_pages.crash_on_page_two)
    with LibraryFolder(cfg, create=True, writable=True) as library:
        summary = ingest_paths([tiff], "测试", cfg, library)
    outcome = summary.outcomes[0]
    assert outcome.status == "ingested" and outcome.pages == 4
    assert [n for n, _ in outcome.failed_pages] == [2]
    assert "worker process died" in outcome.failed_pages[0][1]


@pytest.mark.paddle
@pytest.mark.tesseract
def test_a_page_that_kills_its_pp_ocr_worker_is_read_by_tesseract(tmp_path, monkeypatch):
    """issue 13: an engine crash on a page retries the page with the other engine before the
    page counts as failed; the other pages are read by the real PP-OCR, page 2 by the real
    Tesseract, and the page records why."""
    from pipeline.page.engines import paddle

    from . import scanned_pages

    tesseract_or_skip()
    if not paddle.available():
        if os.environ.get("CI") == "true":
            pytest.fail("rapidocr/onnxruntime are not installed but CI=true")
        pytest.skip("rapidocr is not installed")
    cfg = Config(library=tmp_path / "library", jobs=2, lang=LANG)  # --engine auto
    tiff = write_tiff(tmp_path / "四页.tif", list(PHRASES[:4]))
    monkeypatch.setattr(ingest, "process_page", scanned_pages.crash_unless_tesseract)
    with LibraryFolder(cfg, create=True, writable=True) as library:
        summary = ingest_paths([tiff], "测试", cfg, library)
        outcome = summary.outcomes[0]
        assert (outcome.status, outcome.pages, outcome.failed_pages) == ("ingested", 4, ())
        pages = {p.number: p for p in library.catalog.pages(outcome.doc_id)}
    assert pages[2].engine == "tesseract" and "after-paddle-crashed" in pages[2].steps
    assert PHRASES[1][:4] in pages[2].text.replace(" ", "")
    assert {pages[n].engine for n in (1, 3, 4)} == {"paddle"}
    assert all("crashed" not in pages[n].steps for n in (1, 3, 4))


def test_progress_counts_pages_and_estimates_the_total(tmp_path, cfg):
    files = [write_tiff(tmp_path / "a.tif", list(PHRASES[:2]))] + [
        write_png(tmp_path / f"b{i}.png", PHRASES[i]) for i in range(2, 8)]
    seen: list[tuple[int, int]] = []
    _ingest(cfg, files, FakeEngine(),
            progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == list(range(1, 9))
    # The first report comes before every file is planned: the total is extrapolated from the
    # files planned so far, not just the pages known.
    first_done, first_total = seen[0]
    assert ingest.TASKS_PER_WORKER < first_total
    assert seen[-1] == (8, 8)


def test_same_content_twice_in_one_batch_is_ingested_once(tmp_path, cfg):
    first = write_png(tmp_path / "原件.png", PHRASES[0])
    copy = tmp_path / "副本.png"
    shutil.copy(first, copy)
    summary = _ingest(cfg, [first, copy], FakeEngine())
    assert [o.status for o in summary.outcomes] == ["ingested", "skipped"]


@pytest.mark.tesseract
def test_tesseract_timeout_fails_one_page_and_a_later_ingest_retries_it(tmp_path, monkeypatch):
    tesseract_or_skip()
    real = shutil.which("tesseract")
    assert real is not None
    inputs = tmp_path / "scans"
    inputs.mkdir()
    write_tiff(inputs / "三页.tif", list(PHRASES[:3]))
    library = tmp_path / "library"
    runner = CliRunner()
    wenshi = ["--library", str(library)]
    slow = install_slow_tesseract(tmp_path / "bin", real)
    # one job: Tesseract runs from this process, with this PATH
    with monkeypatch.context() as patched:
        patched.setenv("PATH", f"{slow}:{os.environ['PATH']}")
        patched.setenv("WENSHI_OCR_TIMEOUT", "3")
        first = runner.invoke(main, [*wenshi, "ingest", str(inputs), "-c", "超时", "--jobs", "1",
                                     "--lang", LANG, "--engine", "tesseract", "--json"])
    assert first.exit_code == 1, first.output
    report = json.loads(first.stdout)
    assert report["ingested"] == 1 and report["failed"] == []
    [failure] = report["failed_pages"]
    assert failure["error"] == "Tesseract timed out after 3 s"
    assert f"page {failure['page']}: Tesseract timed out after 3 s" in first.stderr

    stats = json.loads(runner.invoke(main, [*wenshi, "stats", "--json"]).stdout)
    assert [(p["number"], p["error"]) for p in stats["failed_pages"]] == [
        (failure["page"], "Tesseract timed out after 3 s")]

    second = runner.invoke(main, [*wenshi, "ingest", str(inputs), "-c", "超时", "--lang", LANG,
                                  "--engine", "tesseract", "--json"])
    assert second.exit_code == 0, second.output
    retried = json.loads(second.stdout)
    assert retried["failed_pages"] == []
    assert retried["documents"][0]["reused_pages"] == 2 and retried["documents"][0]["pages"] == 3
    stats = json.loads(runner.invoke(main, [*wenshi, "stats", "--json"]).stdout)
    assert stats["failed_pages"] == [] and stats["pages"] == 3


# Reads with chi_tra confidently and with chi_sim not (below the script recheck at 80): the
# pages of a traditional volume.
TRADITIONAL = {"chi_tra": 91.0, "chi_sim": 70.0}
TRIAL = [("chi_sim", False), ("chi_tra", False)]  # the script trial's two strips, uncorrected


def test_auto_lang_is_decided_by_the_first_pages_and_handed_to_the_rest(tmp_path):
    cfg = Config(library=tmp_path / "library", jobs=1, lang="auto")
    volume = write_pdf(tmp_path / "卷三.pdf", list(PHRASES[:6]))
    engine = FakeEngine(TRADITIONAL)
    summary = _ingest(cfg, [volume], engine)
    assert summary.outcomes[0].pages == 6
    # Four pages are in flight before the first comes back (TASKS_PER_WORKER): the first runs
    # the trial; the next three read provisionally with chi_sim, which reads them badly, so each
    # runs its own trial and reads again; the last two get the model the others voted for.
    provisional = [("chi_sim", True), *TRIAL, ("chi_tra", True)]
    assert engine.reads == [*TRIAL, ("chi_tra", True), *provisional * 3, *[("chi_tra", True)] * 2]
    with LibraryFolder(cfg) as library:
        pages = library.catalog.pages(summary.outcomes[0].doc_id)
        assert [p.lang for p in pages] == ["chi_tra"] * 6


def test_single_page_files_share_their_folder_decision_but_a_volume_decides_alone(tmp_path):
    cfg = Config(library=tmp_path / "library", jobs=1, lang="auto")
    folder = tmp_path / "散页"
    folder.mkdir()
    singles = [write_png(folder / f"第{i}页.png", PHRASES[i]) for i in range(6)]
    volume = write_pdf(folder / "卷四.pdf", list(PHRASES[6:8]))
    engine = FakeEngine(TRADITIONAL)
    _ingest(cfg, [*singles, volume], engine)
    provisional = [("chi_sim", True), *TRIAL, ("chi_tra", True)]
    decided = [*TRIAL, ("chi_tra", True)]
    assert engine.reads == [*decided, *provisional * 3, *[("chi_tra", True)] * 2,
                            *decided, *provisional]


def test_pages_read_with_low_confidence_or_explicit_lang_give_no_hint(tmp_path):
    volume = write_pdf(tmp_path / "卷五.pdf", list(PHRASES[:6]))
    unsure = FakeEngine({"chi_sim": 70.0, "chi_tra": 70.0})  # too unsure to vote
    _ingest(Config(library=tmp_path / "lib1", jobs=1, lang="auto"), [volume], unsure)
    # No page votes, so every page after the first reads provisionally and, reading below 80,
    # runs its own trial (which keeps chi_sim: no margin for chi_tra).
    assert unsure.reads == [*TRIAL, ("chi_sim", True), *[("chi_sim", True), *TRIAL] * 5]
    explicit = FakeEngine()
    _ingest(Config(library=tmp_path / "lib2", jobs=1, lang="chi_sim"), [volume], explicit)
    assert explicit.reads == [("chi_sim", True)] * 6


def test_an_ingest_removes_page_folders_its_killed_workers_left(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f"{tesseract.WORK_DIR_PREFIX}{gone.stdout.strip()}-abc123"
    live = tmp_path / f"{tesseract.WORK_DIR_PREFIX}{os.getpid()}-def456"
    unrelated = tmp_path / f"{tesseract.WORK_DIR_PREFIX}xyz"
    for folder in (dead, live, unrelated):
        folder.mkdir()
        (folder / "page.pnm").write_bytes(b"P5 1 1 255 \x00")
    assert pool.remove_orphaned_work_dirs() == 1
    assert not dead.exists() and live.exists() and unrelated.exists()
