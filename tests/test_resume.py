"""Crash safety and concurrency of a real ingest: `kill -9` halfway then the same command
again, a second ingest into a locked library, searches while an ingest writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner

from cli import main
from index import Library
from index.search import SearchRequest
from pipeline.config import Config

from .conftest import ROOT, tesseract_or_skip
from .scanned_pages import LANG, PHRASES, SEARCHABLE, cli_env, write_pdf, write_png

pytestmark = pytest.mark.tesseract


def _wenshi(library: Path, *args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), "--library", str(library), *args]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stored_pages(library: Path) -> set[tuple[str, int]]:
    catalog = library / "catalog.sqlite"
    if not catalog.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5) as db:
            return {(r[0], r[1]) for r in db.execute(
                "SELECT doc_id, number FROM pages WHERE error = ''")}
    except sqlite3.OperationalError:  # tables not created yet
        return set()


def _scans(folder: Path, pages_in_volume: int, singles: int) -> Path:
    folder.mkdir()
    write_pdf(folder / "卷一 扫描.pdf", list(PHRASES[:pages_in_volume]))
    for i in range(pages_in_volume, pages_in_volume + singles):
        write_png(folder / f"图{i:02d}.png", PHRASES[i])
    return folder


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_kill_9_halfway_then_the_same_command_finishes_with_exact_counts(tmp_path):
    tesseract_or_skip()
    scans = _scans(tmp_path / "scans", pages_in_volume=5, singles=3)
    library = tmp_path / "library"
    command = _wenshi(library, "ingest", str(scans), "-c", "断点续传", "--jobs", "2", "--lang", LANG,
                      "--json")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
                             start_new_session=True)
    try:
        _wait_for(lambda: len(_stored_pages(library)) >= 2, "two stored pages")
        first.send_signal(signal.SIGKILL)  # only the ingest itself, as `kill -9 PID` would
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        # Its pool workers notice and leave (with any Tesseract they started) instead of
        # lingering as orphans.
        _wait_for(lambda: _group_gone(first.pid), "the killed ingest's workers to exit", timeout=30)
    finally:
        if not _group_gone(first.pid):
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    before = _stored_pages(library)
    assert 2 <= len(before) < 8
    altos = {p: p.stat().st_mtime_ns for p in (library / "pages").rglob("*.alto.xml")}

    second = subprocess.run(command, capture_output=True, text=True, env=cli_env(), timeout=180)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["ingested"] + report["skipped"] == 4 and report["failed_pages"] == []
    # Every page stored before the kill was kept: skipped documents whole, the rest page by page.
    skipped = {d["doc_id"] for d in report["documents"] if d["status"] == "skipped"}
    reused = sum(d["reused_pages"] for d in report["documents"] if d["status"] == "ingested")
    assert reused + sum(1 for doc_id, _ in before if doc_id in skipped) == len(before)

    with sqlite3.connect(library / "catalog.sqlite") as db:
        assert db.execute("SELECT COUNT(*), SUM(status = 'complete')"
                          " FROM documents").fetchone() == (4, 4)
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT doc_id || '#' || number)"
                          " FROM pages").fetchone() == (8, 8)
    # No page stored before the kill was recognised again: its ALTO file is untouched.
    for path, mtime in altos.items():
        assert path.stat().st_mtime_ns == mtime, path
    with Library(Config(library=library)) as lib:
        found = lib.check().to_dict()
    assert found["ok"], found
    assert (found["catalog"]["documents"], found["catalog"]["pages"],
            found["index"]["pages"]) == (4, 8, 8)
    assert found["duplicates"] == [] and found["missing"] == [] and found["extra"] == []


@pytest.fixture(scope="module")
def busy_library(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """One ingest of a few pages with one worker, already holding the library's lock; the tests
    below run while it writes (the last one waits for it to end)."""
    tesseract_or_skip()
    base = tmp_path_factory.mktemp("busy")
    scans = _scans(base / "scans", pages_in_volume=4, singles=3)
    library = base / "library"
    proc = subprocess.Popen(_wenshi(library, "ingest", str(scans), "-c", "并发", "--jobs", "1",
                                    "--lang", LANG, "--json"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        _wait_for(lambda: len(_stored_pages(library)) >= 1, "the first stored page")
        yield proc, library
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_second_ingest_into_a_busy_library_fails_with_a_clear_message(busy_library, tmp_path):
    proc, library = busy_library
    other = write_png(tmp_path / "other.png", PHRASES[12])
    second = CliRunner().invoke(main, ["--library", str(library), "ingest", str(other), "-c", "并发",
                                       "--lang", LANG])
    assert proc.poll() is None, "the first ingest ended too early for this test"
    assert second.exit_code == 4
    assert second.stderr == (f"Error: {library}: another ingest (pid {proc.pid}) is writing to "
                             "this library; wait for it to finish, then run the command again\n")
    assert isinstance(second.exception, SystemExit)  # a clean exit, no traceback


def test_searches_work_while_an_ingest_writes(busy_library):
    proc, library = busy_library
    cfg = Config(library=library)
    searches = seen_running = 0
    while proc.poll() is None:
        with Library(cfg) as lib:  # as a `wenshi search` and a `wenshi check` would
            results = lib.search(SearchRequest("县城", limit=0))
            assert results.total >= 0
            running = lib.check().ingest_running
        assert running in (proc.pid, None)
        seen_running += running == proc.pid
        searches += 1
    assert searches >= 3 and seen_running >= 1
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["ingested"] == 4
    with Library(cfg) as lib:
        assert lib.search(SearchRequest(f'"{SEARCHABLE}"')).total >= 1
        assert lib.check().ok
