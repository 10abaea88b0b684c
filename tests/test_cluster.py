"""Page OCR on a Dask cluster: pages travel as bytes, results return to the one writer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from index import Library
from index.search import SearchRequest
from pipeline.config import Config
from pipeline.errors import EnvironmentProblemError
from pipeline.records import KIND_IMAGE, KIND_PDF, PageTask
from pipeline.run import pool
from pipeline.run.cluster import run_shipped, ship_page
from pipeline.run.sources import identify, plan_document

from .conftest import tesseract_or_skip
from .scanned_pages import LANG, PHRASES, SEARCHABLE, FakeEngine, write_pdf, write_png, write_tiff


def _dask_or_skip() -> None:
    """Like Tesseract: outside CI a missing Dask skips, under CI it fails."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("dask[distributed] is not installed but CI=true: "
                        "the install step is broken")
        pytest.skip("dask[distributed] is not installed")


@pytest.mark.parametrize("kind", ["pdf", "tiff", "png"])
def test_shipped_page_is_processed_without_the_source_file(tmp_path, kind):
    writers: dict[str, Any] = {
        "pdf": lambda: write_pdf(tmp_path / "卷.pdf", list(PHRASES[:3])),
        "tiff": lambda: write_tiff(tmp_path / "卷.tif", list(PHRASES[:3])),
        "png": lambda: write_png(tmp_path / "页.png", PHRASES[0]),
    }
    source = writers[kind]()
    plan = plan_document(identify(source), Config())
    task = plan.pages[-1]
    assert isinstance(task, PageTask) and task.kind == (KIND_PDF if kind == "pdf" else KIND_IMAGE)
    shipped = ship_page(task, Config())
    source.unlink()  # a cluster worker shares no file system with the writer
    engine = FakeEngine(text="读过")
    page = run_shipped(shipped, Config(lang=LANG), engine)
    # Decoded as the original: its size, its dpi (seen by the engine), read once.
    assert (page.number, page.error, page.text) == (task.number, "", "读过")
    assert (page.width, page.height, engine.dpis) == (1000, 300, [300])
    assert len(shipped.data) < 200_000  # one page, not the volume


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    _dask_or_skip()
    from pipeline.run import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(EnvironmentProblemError,
                       match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        pool.make_executor(Config(scheduler="tcp://127.0.0.1:9"))


@pytest.mark.tesseract
def test_ingest_through_a_local_cluster_of_two_workers(tmp_path: Path):
    tesseract_or_skip()
    _dask_or_skip()
    from distributed import LocalCluster

    files = [write_pdf(tmp_path / "卷一.pdf", list(PHRASES[:3])),
             write_tiff(tmp_path / "卷二.tif", list(PHRASES[3:5])),
             write_png(tmp_path / "单页.png", PHRASES[5])]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        cfg = Config(library=tmp_path / "library", lang=LANG, scheduler=local.scheduler_address)
        with Library(cfg, create=True) as lib:
            summary = lib.ingest([str(f) for f in files], "集群")
        done = local.scheduler.task_prefixes["wenshi-page"].state_counts["released"] + \
            local.scheduler.task_prefixes["wenshi-page"].state_counts["forgotten"]
    assert done == 6  # every page went through the scheduler
    assert [(o.status, o.pages, o.failed_pages) for o in summary.outcomes] == [
        ("ingested", 3, ()), ("ingested", 2, ()), ("ingested", 1, ())]
    local_cfg = Config(library=tmp_path / "library")
    with Library(local_cfg) as lib:
        assert lib.search(SearchRequest(f'"{SEARCHABLE}"')).total == 1
        assert lib.check().ok


@pytest.mark.paddle
@pytest.mark.tesseract
def test_a_page_that_kills_dask_workers_is_read_by_the_other_engine(tmp_path, monkeypatch):
    """issue 13: under --scheduler too, a page whose worker dies (here under PP-OCR, page 2)
    is read by Tesseract before it counts as failed; the other pages by the real PP-OCR."""
    import dask

    from pipeline.page.engines import paddle
    from pipeline.run import ingest

    from . import scanned_pages

    tesseract_or_skip()
    _dask_or_skip()
    if not paddle.available():
        if os.environ.get("CI") == "true":
            pytest.fail("rapidocr/onnxruntime are not installed but CI=true")
        pytest.skip("rapidocr is not installed")
    from distributed import LocalCluster

    tiff = write_tiff(tmp_path / "三页.tif", list(PHRASES[:3]))
    # Runs on the workers, which import it by name: page 2 kills its worker unless the task
    # names Tesseract. The scheduler gives up on a task after its first worker death here, and
    # hands a worker one task at a time (else the tasks queued on it die with it).
    monkeypatch.setattr(ingest, "process_page", scanned_pages.crash_unless_tesseract)
    settings = {"distributed.scheduler.allowed-failures": 0,
                "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings):
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None)
    try:
        cfg = Config(library=tmp_path / "library", lang=LANG, scheduler=local.scheduler_address)
        with Library(cfg, create=True) as lib:
            summary = lib.ingest([str(tiff)], "集群")
    finally:
        try:  # a restarted worker still loading PP-OCR may outlast the nannies' 5 s to close
            local.close()
        except TimeoutError:
            pass
    (outcome,) = summary.outcomes
    assert (outcome.status, outcome.pages, outcome.failed_pages) == ("ingested", 3, ())
    with Library(Config(library=tmp_path / "library")) as lib:
        pages = {p.number: p for p in lib.document(outcome.doc_id).pages}
    assert pages[2].engine == "tesseract" and "after-paddle-crashed" in pages[2].steps
    assert {pages[1].engine, pages[3].engine} == {"paddle"}
