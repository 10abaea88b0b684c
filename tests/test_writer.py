"""The index writer in bounded memory (index/writer.py, issue 18): batches flushed by the
writer's budget, the same search results as a build in one piece, recovery after a writer
killed between two segments, and back-pressure on the index queue. Real Whoosh and SQLite."""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from index import library as library_module
from index.grams import MANIFEST
from index.library import LibraryFolder
from index.search import SearchContext, SearchRequest, run
from index.writer import IndexQueue, WriterBudget
from pipeline.config import Config
from pipeline.errors import UsageError
from pipeline.records import KIND_TEXT, METHOD_TEXT, Page, SourceFile
from pipeline.run.sources import DocumentPlan

from .conftest import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"
BATCH_CHARS = 20_000  # a budget this small makes a few thousand corpus characters a batch


def _laws(pages: int) -> list[tuple[str, list[str]]]:
    """Documents of 1-4 corpus pages each, about `pages` pages in all (fixed order)."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"][:1500] for line, _ in zip(fh, range(pages))]
    rng = random.Random(18)
    docs, i = [], 0
    while i < len(texts):
        n = rng.randint(1, 4)
        docs.append((f"law{len(docs):03d}", texts[i:i + n]))
        i += n
    return docs


def _feed(lib: LibraryFolder, docs: list[tuple[str, list[str]]]) -> None:
    for doc_id, texts in docs:
        pages = tuple(Page(number=n + 1, text=t, method=METHOD_TEXT) for n, t in enumerate(texts))
        plan = DocumentPlan(SourceFile(f"{doc_id}.txt", KIND_TEXT, doc_id, 1), doc_id, pages)
        lib.begin_document(plan, "法规", {})
        for page in pages:
            lib.store_page(doc_id, page)
        lib.finish_document(doc_id)


def _build(library: Path, docs: list[tuple[str, list[str]]], jobs: int = 1) -> None:
    cfg = Config.resolve(library=library, jobs=jobs)
    with LibraryFolder(cfg, create=True, writable=True) as lib:
        lib.auto_tags = False
        _feed(lib, docs)


def _segments_written(library: Path) -> int:
    manifest = json.loads((library / "index" / "grams" / MANIFEST).read_text())
    return int(manifest["next"]) - 1


def _queries(docs: list[tuple[str, list[str]]]) -> list[str]:
    rng = random.Random(5)
    texts = [t for _, ts in docs for t in ts]
    out = []
    for n in (1, 2, 3, 5, 8) * 6:
        t = "".join(rng.choice(texts).split())
        start = rng.randrange(len(t) - n)
        out.append(f'"{t[start:start + n]}"')
    return out + ["法律 责任", "人民政府", '"不存在的字符串甲乙"']


def _results(library: Path, queries: list[str]) -> list[object]:
    """Each query's hits: quoted ones with their scores, word queries as a set of pages with
    scores to 1%. (Whoosh keeps each page's word count to one byte's precision and sums those
    when it merges its segments, so the average length behind BM25F moves by a few tenths of a
    percent with the number of commits, as it did before the budget.)"""
    out: list[object] = []
    with LibraryFolder(Config.resolve(library=library)) as lib:
        with lib.open_index().searcher() as searcher:
            ctx = SearchContext(searcher, lib.catalog)
            try:
                for q in queries:
                    hits = run(ctx, SearchRequest(q, limit=0, snippets=False)).hits
                    if q.startswith('"'):
                        out.append([(h.doc_id, h.page, h.score) for h in hits])
                    else:
                        out.append({(h.doc_id, h.page): h.score for h in hits})
            finally:
                ctx.close()
    return out


def _assert_same(got: list[object], expected: list[object]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, dict):
            assert isinstance(g, dict) and g.keys() == e.keys()
            assert all(math.isclose(g[k], e[k], rel_tol=0.01, abs_tol=1e-3) for k in e)
        else:
            assert g == e


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of BATCH_CHARS characters and merges of a few thousand entries at a time."""
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: BATCH_CHARS))
    monkeypatch.setattr(WriterBudget, "merge_bytes", property(lambda self: 3_000))
    monkeypatch.setattr(library_module, "COMMIT_SECONDS", 1e9)  # only the budget commits


def test_budget_comes_from_the_environment_and_is_checked():
    assert Config.resolve(env={}).writer_memory == 256
    assert Config.resolve(env={"WENSHI_WRITER_MEMORY": "1024"}).writer_memory == 1024
    with pytest.raises(UsageError, match="at least 32 MB"):
        Config.resolve(env={"WENSHI_WRITER_MEMORY": "8"})
    small, big = WriterBudget(64), WriterBudget(1024)
    assert small.batch_chars < big.batch_chars and small.merge_bytes < big.merge_bytes
    assert small.whoosh_limitmb == 32


def test_a_small_budget_flushes_batches_and_finds_what_one_batch_finds(tmp_path, monkeypatch):
    docs = _laws(120)  # ~180,000 characters
    one, many = tmp_path / "one", tmp_path / "many"
    monkeypatch.setattr(library_module, "COMMIT_SECONDS", 1e9)
    _build(one, docs)
    assert _segments_written(one) == 1
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: BATCH_CHARS))
    monkeypatch.setattr(WriterBudget, "merge_bytes", property(lambda self: 3_000))
    _build(many, docs)
    # ~9 batches, each its own gram segment and Whoosh commit, merged along the way.
    assert _segments_written(many) >= 9
    queries = _queries(docs)
    expected = _results(one, queries)
    assert sum(map(len, expected)) > 100
    _assert_same(_results(many, queries), expected)
    runner = CliRunner()
    assert runner.invoke(main, ["--library", str(many), "check"]).exit_code == 0


def test_back_pressure_bounds_the_index_queue(tmp_path, monkeypatch, small_budget):
    """With index workers, documents queued for the index never hold much more than two
    batches: the writer waits for the workers and writes instead of queueing more."""
    monkeypatch.setattr(IndexQueue, "POOL_MIN_CHARS", 0)
    seen: list[int] = []
    queue_for_index = LibraryFolder._queue_for_index

    def watched(self: LibraryFolder, doc_id: str, pages: int) -> None:
        queue_for_index(self, doc_id, pages)
        seen.append(self._pending_chars)

    monkeypatch.setattr(LibraryFolder, "_queue_for_index", watched)
    docs = _laws(120)
    _build(tmp_path / "lib", docs, jobs=2)
    largest = max(sum(len(t) for t in texts) for _, texts in docs)
    assert len(seen) == len(docs)
    assert max(seen) <= 2 * BATCH_CHARS + largest
    assert _segments_written(tmp_path / "lib") >= 5
    runner = CliRunner()
    assert runner.invoke(main, ["--library", str(tmp_path / "lib"), "check"]).exit_code == 0
    queries = _queries(docs)
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: 10**9))
    _build(tmp_path / "one", docs)
    _assert_same(_results(tmp_path / "lib", queries), _results(tmp_path / "one", queries))


def test_issue_18_commits_with_index_workers_are_whole_batches(tmp_path, monkeypatch,
                                                               small_budget):
    """While the index workers lag behind, the writer commits only a whole batch of what they
    have finished (and helps them meanwhile), not every handful of documents that is ready:
    each commit is a Whoosh and a gram segment that later merges rewrite."""
    monkeypatch.setattr(IndexQueue, "POOL_MIN_CHARS", 0)
    written: list[int] = []
    write = library_module.write_documents

    def counted(ix, catalog, docs, *args, **kwargs):  # type: ignore[no-untyped-def]
        docs = list(docs)
        written.append(sum(len(p.text) for d in docs for p in catalog.pages(d.doc_id)))
        return write(ix, catalog, docs, *args, **kwargs)

    monkeypatch.setattr(library_module, "write_documents", counted)
    docs = _laws(200)
    _build(tmp_path / "lib", docs, jobs=2)
    assert len(written) >= 5  # the budget still splits the batch
    assert min(written[:-1]) >= BATCH_CHARS  # only the last commit may be smaller
    runner = CliRunner()
    assert runner.invoke(main, ["--library", str(tmp_path / "lib"), "check"]).exit_code == 0


def test_a_writer_killed_between_two_segments_is_repaired_by_check(tmp_path, small_budget):
    docs = _laws(120)
    library = tmp_path / "library"
    # The writer dies (os._exit: no clean-up) right after publishing its fourth gram segment:
    # three batches are in the index, the fourth's pages are in the gram index but not in
    # Whoosh, and complete in the catalog.
    script = f'''
import os, sys
sys.path.insert(0, {str(ROOT)!r})
from index import grams, library as library_module
from index.library import LibraryFolder
from index.writer import WriterBudget
from pipeline.config import Config
from tests.test_writer import _feed, _laws
WriterBudget.batch_chars = property(lambda self: {BATCH_CHARS})
WriterBudget.merge_bytes = property(lambda self: 3000)
library_module.COMMIT_SECONDS = 1e9
add = grams.GramWriter.add
calls = []
def dying_add(self, keys, compacts):
    calls.append(1)
    add(self, keys, compacts)
    if len(calls) == 4:
        os._exit(0)
grams.GramWriter.add = dying_add
lib = LibraryFolder(Config.resolve(library={str(library)!r}, jobs=1), create=True,
                    writable=True)
lib.auto_tags = False
_feed(lib, _laws(120))
'''
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    try:
        assert writer.wait(timeout=120) == 0
    finally:
        try:
            os.killpg(writer.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    runner = CliRunner()
    found = runner.invoke(main, ["--library", str(library), "check"])
    assert found.exit_code == 1 and "missing from the index" in found.stdout
    repaired = runner.invoke(main, ["--library", str(library), "check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(main, ["--library", str(library), "check"]).exit_code == 0
    assert not list((library / "index" / "grams").glob("*.tmp"))
    # The documents the killed writer never saw are resumed by feeding them again.
    with LibraryFolder(Config.resolve(library=library), writable=True) as lib:
        lib.auto_tags = False
        _feed(lib, [d for d in docs if lib.document_state(d[0]) is None])
    queries = _queries(docs)
    _build(tmp_path / "clean", docs)
    _assert_same(_results(library, queries), _results(tmp_path / "clean", queries))


def test_the_summary_shows_the_writers_peak_memory(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "条例.txt").write_text(
        "第一条　为了规范管理，制定本条例。\f第二条　本条例自公布之日起施行。", encoding="utf-8")
    runner = CliRunner()
    wenshi = ["--library", str(tmp_path / "lib")]
    text = runner.invoke(main, [*wenshi, "ingest", str(tmp_path / "in"), "-c", "法规"])
    assert text.exit_code == 0, text.output
    line = text.stdout.strip().splitlines()[-1]
    assert line.startswith("1 ingested") and "writer peak memory" in line
    assert int(line.rsplit("writer peak memory ", 1)[1].split()[0]) > 50  # Python + jieba
    (tmp_path / "in" / "第二份.txt").write_text("第三条　附则。", encoding="utf-8")
    as_json = runner.invoke(main, [*wenshi, "ingest", str(tmp_path / "in"), "-c", "法规",
                                   "--json"])
    report = json.loads(as_json.stdout)
    assert report["ingested"] == 1 and report["skipped"] == 1 and report["writer_peak_rss_mb"] > 50


def test_issue_18_the_writers_peak_is_its_own_not_its_parents():
    """A writer started by a process that had 300 MB resident reports its own peak (Linux
    keeps `ru_maxrss` across exec; VmHWM starts afresh)."""
    script = f"""
import subprocess, sys
ballast = bytearray(300 * 2**20)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
child = "import sys; sys.path.insert(0, {str(ROOT)!r}); from index.writer import peak_rss_mb; "
child += "print(peak_rss_mb())"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                     check=True).stdout)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert 5 < float(out) < 200


# -- a long document (a scanned volume is one document of hundreds of pages) ------------------

def _long_docs() -> list[tuple[str, list[str]]]:
    """A short document, one of 130 pages (~200 characters each), another short one."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line, _ in zip(fh, range(60))]
    joined = "\n".join(texts)
    pages = [joined[i:i + 200] for i in range(0, 130 * 200, 200)]
    return [("before", texts[0:2]), ("volume", pages), ("after", texts[2:3])]


def _build_tagged(library: Path, docs: list[tuple[str, list[str]]], jobs: int) -> None:
    cfg = Config.resolve(library=library, jobs=jobs)
    with LibraryFolder(cfg, create=True, writable=True) as lib:
        _feed(lib, docs)


def _index_contents(library: Path) -> tuple[dict[str, object], list[tuple[object, ...]],
                                            dict[str, object]]:
    """Every page's stored fields, every posting (field, term, page, weight, value) and column
    value by page id, and every document's tags: what a search can see, whatever the segments."""
    with LibraryFolder(Config.resolve(library=library)) as lib:
        tags = {d.doc_id: d.tags for d in lib.catalog.documents()}
        with lib.open_index().searcher() as searcher:
            reader = searcher.reader()
            ids = {n: f["id"] for n, f in reader.iter_docs()}
            stored = {ids[n]: f for n, f in reader.iter_docs()}
            postings = sorted((field, term, ids[n], weight, value)
                              for field, term, n, weight, value in reader.iter_postings())
            for field in ("pk", "sort_year", "sort_title"):
                column = reader.column_reader(field)
                postings += sorted((field, ids[n], column[n]) for n in ids)
    return stored, postings, tags


def test_issue_18_a_long_document_is_indexed_in_chunks_with_the_same_contents(
        tmp_path, monkeypatch, small_budget):
    """A document of more than CHUNK_PAGES pages is read and indexed a chunk of pages at a time
    (its tags made whole, by an index worker or here): the index holds exactly what indexing it
    whole gave, and its tags are the same."""
    from index import writer

    docs = _long_docs()
    monkeypatch.setattr(writer, "CHUNK_PAGES", 10**9)
    monkeypatch.setattr(WriterBudget, "chunk_chars", property(lambda self: 10**9))
    _build_tagged(tmp_path / "whole", docs, jobs=1)
    expected = _index_contents(tmp_path / "whole")
    monkeypatch.setattr(writer, "CHUNK_PAGES", 20)
    monkeypatch.setattr(WriterBudget, "chunk_chars", property(lambda self: 3_000))
    chunks: list[int] = []
    page_chunks = library_module.Catalog.page_chunks

    def counted(self, doc_id, max_pages, max_chars):  # type: ignore[no-untyped-def]
        for pages in page_chunks(self, doc_id, max_pages, max_chars):
            chunks.append(len(pages))
            yield pages

    monkeypatch.setattr(library_module.Catalog, "page_chunks", counted)
    _build_tagged(tmp_path / "chunked", docs, jobs=1)  # tagged here, when finished
    assert len(chunks) >= 2 * 130 // 20 and max(chunks) <= 20  # grams, then Whoosh
    monkeypatch.setattr(IndexQueue, "POOL_MIN_CHARS", 0)
    _build_tagged(tmp_path / "pooled", docs, jobs=2)  # tagged by an index worker
    stored, postings, tags = expected
    assert len(stored) == 2 + 130 + 1 and len(postings) > 5000
    assert tags["volume"]["keywords"] and tags["volume"]["char_count"] > 20_000
    for built in ("chunked", "pooled"):
        got = _index_contents(tmp_path / built)
        assert got[0] == stored
        assert got[1] == postings
        assert got[2] == tags
    queries = ['"' + "".join(docs[1][1][7].split())[40:46] + '"', "人民政府"]
    _assert_same(_results(tmp_path / "pooled", queries), _results(tmp_path / "whole", queries))
    assert _results(tmp_path / "pooled", queries)[0]


def test_issue_18_the_writers_memory_does_not_grow_with_a_long_documents_pages(
        tmp_path, monkeypatch, small_budget):
    """Indexing one document of 4x the pages takes (nearly) no more of the writer's memory:
    its pages, word counts and gram batches are held a chunk at a time, and Whoosh's posting
    pool is kept tiny here (its `limitmb` bounds it). Before chunking the peak grew with the
    pages: 5.6 -> 8.6 MiB (1.54x) for 100 -> 400 pages, measured as here; with it 5.0 -> 5.9
    MiB (Whoosh's per-page bookkeeping until its commit, ~3 KB a page)."""
    import tracemalloc

    from index import writer
    from index.analysis import word_counts

    monkeypatch.setattr(writer, "CHUNK_PAGES", 20)
    monkeypatch.setattr(WriterBudget, "whoosh_limitmb", property(lambda self: 0.05))
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        joined = "\n".join(json.loads(line)["text"] for line, _ in zip(fh, range(400)))
    texts = [joined[i:i + 200] for i in range(0, 400 * 200, 200)]
    assert len(texts) == 400 and all(len(t) == 200 for t in texts)
    peaks = []
    for n in (100, 400):
        cfg = Config.resolve(library=tmp_path / f"lib{n}", jobs=1)
        with LibraryFolder(cfg, create=True, writable=True) as lib:
            lib.auto_tags = False
            pages = tuple(Page(number=i + 1, text=t, method=METHOD_TEXT)
                          for i, t in enumerate(texts[:n]))
            plan = DocumentPlan(SourceFile("long.txt", KIND_TEXT, "long", 1), "long", pages)
            lib.begin_document(plan, "法规", {})
            for page in pages:
                lib.store_page("long", page)
            del pages, plan
            word_counts("中华人民共和国")  # jieba's and pypinyin's tables are not the document's
            writer.title_sort_key("法规")
            tracemalloc.start()
            try:
                lib.finish_document("long")
                lib.commit()
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        with LibraryFolder(Config.resolve(library=tmp_path / f"lib{n}")) as lib:
            assert lib.catalog.document("long").indexed  # type: ignore[union-attr]
    assert peaks[1] < 1.3 * peaks[0], [p / 2**20 for p in peaks]


def test_issue_18_the_block_posting_pool_gives_whoosh_the_same_postings(
        tmp_path, monkeypatch, small_budget):
    """Whoosh's posting pool spills sorted runs to disk beyond its limit (and every posting of
    the segments a commit merges passes through it); `BlockPostingPool` writes and reads them
    a block at a time. With a pool small enough to spill all the time and blocks of 7
    postings, the index holds exactly what Whoosh's own pool gave it."""
    from index import writer

    docs = _laws(120)
    monkeypatch.setattr(WriterBudget, "whoosh_limitmb", property(lambda self: 0.02))
    monkeypatch.setattr(writer.BlockPostingPool, "block", property(lambda self: 7))
    blocks: list[int] = []
    real_dump = writer.pickle.dump

    def dump(obj, f, protocol):  # type: ignore[no-untyped-def]
        blocks.append(len(obj))
        real_dump(obj, f, protocol)

    monkeypatch.setattr(writer.pickle, "dump", dump)
    _build(tmp_path / "blocks", docs)
    monkeypatch.undo()
    assert len(blocks) > 100 and max(blocks) == 7 and min(blocks) < 7
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: BATCH_CHARS))
    monkeypatch.setattr(library_module, "COMMIT_SECONDS", 1e9)
    monkeypatch.setattr(WriterBudget, "whoosh_limitmb", property(lambda self: 0.02))
    monkeypatch.setattr(writer, "index_writer",
                        lambda ix, limitmb: ix.writer(limitmb=limitmb, compound=False))
    _build(tmp_path / "whoosh", docs)
    assert _index_contents(tmp_path / "blocks") == _index_contents(tmp_path / "whoosh")


def test_issue_18_the_ingest_asks_after_a_new_file_by_its_whole_id(tmp_path):
    """`document_state` (asked for each file an ingest plans) looks the id up exactly: the
    prefix lookup the CLI uses (LIKE, which reads every row) ran for every new file and took
    7.5% of the writer's time on the 1亿 set, growing with the library."""
    cfg = Config.resolve(library=tmp_path / "lib", jobs=1)
    with LibraryFolder(cfg, create=True, writable=True) as lib:
        lib.auto_tags = False
        _feed(lib, [("0123456789abcdef", ["第一条 为了规范管理，制定本办法。"])])
        statements: list[str] = []
        lib.catalog.db.set_trace_callback(statements.append)
        assert lib.document_state("0123456789ab") is None  # a prefix is not the document
        assert lib.document_state("fedcba9876543210") is None
        state = lib.document_state("0123456789abcdef")
        lib.catalog.db.set_trace_callback(None)
        assert state is not None and state[0] == "complete"
        assert statements and not [s for s in statements if "LIKE" in s.upper()]
        found = lib.catalog.document("0123456789ab")  # the CLI's prefix lookup stays
        assert found is not None and found.doc_id == "0123456789abcdef"


def _whoosh_segments(library: Path) -> list[int]:
    """Pages (Whoosh documents, deleted ones included) of each segment of the index, sorted."""
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(library / "index")).reader() as reader:
        return sorted(sub.doc_count_all() for sub, _ in reader.leaf_readers())


def _split(docs: list[tuple[str, list[str]]], *pages: int) -> list[list[tuple[str, list[str]]]]:
    """`docs` cut into parts of at least the given numbers of pages, and the rest."""
    parts: list[list[tuple[str, list[str]]]] = [[]]
    for doc in docs:
        if len(parts) <= len(pages) and sum(len(t) for _, t in parts[-1]) >= pages[len(parts) - 1]:
            parts.append([])
        parts[-1].append(doc)
    return parts


def test_issue_18_an_ingest_ends_with_its_small_segments_merged(tmp_path, monkeypatch,
                                                                small_budget):
    """`wenshi ingest` of ~14 batches ends with at most two Whoosh segments, each an eighth of
    the index or more, where the same batches written by commits alone leave seven (Whoosh's
    MERGE_SMALL merges only once enough have gathered); searches find what an ingest in one
    batch finds."""
    docs = _laws(200)
    _build(tmp_path / "commits", docs)
    assert len(_whoosh_segments(tmp_path / "commits")) >= 6
    folder = tmp_path / "in"
    folder.mkdir()
    for doc_id, texts in docs:
        (folder / f"{doc_id}.txt").write_text("\f".join(texts), encoding="utf-8")
    runner = CliRunner()
    for name in ("many", "one"):
        if name == "one":
            monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: 10**9))
        got = runner.invoke(main, ["--library", str(tmp_path / name), "ingest", str(folder),
                                   "-c", "法规", "--jobs", "1"])
        assert got.exit_code == 0, got.output
    assert _segments_written(tmp_path / "many") >= 12
    segments = _whoosh_segments(tmp_path / "many")
    assert len(segments) <= 2 and sum(segments) == 200
    assert all(n * 8 >= 200 for n in segments)
    assert _whoosh_segments(tmp_path / "one") == [200]
    queries = _queries(docs)
    expected = _results(tmp_path / "one", queries)
    assert sum(map(len, expected)) > 100
    _assert_same(_results(tmp_path / "many", queries), expected)
    assert runner.invoke(main, ["--library", str(tmp_path / "many"), "check"]).exit_code == 0
    # `reindex` writes the same batches and merges the same way at its end.
    got = runner.invoke(main, ["--library", str(tmp_path / "many"), "reindex"])
    assert got.exit_code == 0, got.output
    segments = _whoosh_segments(tmp_path / "many")
    assert len(segments) <= 2 and all(n * 8 >= 200 for n in segments)
    _assert_same(_results(tmp_path / "many", queries), expected)


def test_issue_18_the_last_commit_merges_no_more_than_the_ingest_wrote(
        tmp_path, monkeypatch, small_budget):
    """The last commit leaves big segments (an eighth of the index or more) alone and reads at
    most as many pages as its ingest indexed: a one-page ingest into a library does not pay
    for the small segments an earlier one left; a bigger ingest merges them."""
    docs = _laws(300)
    big, small, rest = _split(docs, 120, 40)
    one_page = next(d for d in rest if len(d[1]) == 1)
    rest = [d for d in rest if d is not one_page]
    library = tmp_path / "lib"
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: 10**9))
    _build(library, big)
    monkeypatch.setattr(WriterBudget, "batch_chars", property(lambda self: BATCH_CHARS))
    _build(library, small)  # commits alone: no last-commit merge
    before = _whoosh_segments(library)
    assert len(before) >= 4 and before[-1] == sum(len(t) for _, t in big)
    cfg = Config.resolve(library=library, jobs=1)

    def ingest(part: list[tuple[str, list[str]]]) -> None:
        with LibraryFolder(cfg, writable=True) as lib:
            lib.auto_tags = False
            _feed(lib, part)
            lib.index_unindexed(last=True)

    ingest([one_page])
    assert _whoosh_segments(library) == sorted(before + [1])
    ingest(rest)
    after = _whoosh_segments(library)
    assert sum(after) == 300 and before[-1] in after  # the big segment was left alone
    assert all(n * 8 >= 300 for n in after)  # the small ones (and the one page) were merged
    queries = _queries(docs)
    _build(tmp_path / "clean", docs)
    _assert_same(_results(library, queries), _results(tmp_path / "clean", queries))
