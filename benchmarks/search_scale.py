"""Search at scale: build a library from the laws corpus, then measure exact search and latency.

    .venv/bin/python benchmarks/search_scale.py                 # full corpus, 330 queries
    .venv/bin/python benchmarks/search_scale.py --pages 1000    # a quick run
    .venv/bin/python benchmarks/search_scale.py --reuse --from-catalog --library LIB  # any library

Builds through the library's ingest sink (the path `wenshi ingest` of .txt files takes, minus
file discovery): each law is a document, each corpus record one of its pages, the corpus
category its collection. Then samples queries from the texts with a fixed seed — single
characters, 2-4 character jieba words, strings across jieba word boundaries, 5-12 character
phrases, strings with digits or Latin letters, traditional-script versions, absent strings —
and prints build throughput, index size / raw UTF-8 text, exact-search recall and precision
against a plain substring scan of the same texts in the same normal form, p50/p95 latency of
top-10 with snippets (quoted and unquoted, one warm process), and the wall time of cold
`wenshi search` processes. Targets from issue 5 are printed beside the figures.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.library import LibraryFolder  # noqa: E402
from index.search import SearchContext, SearchRequest, run  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.records import KIND_TEXT, METHOD_TEXT, Page, SourceFile  # noqa: E402
from pipeline.run.sources import DocumentPlan  # noqa: E402
from pipeline.text.normalize import to_search_form  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"
TARGETS = {"build": 50_000, "size": 4.0, "p95_ms": 100.0, "cold_s": 1.0}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WS = re.compile(r"\s+")
_SYNTAX = re.compile(r"[()（）\"“”「」『』:：]|(?<!\S)-|\b(?:AND|OR|NOT)\b")  # unquoted: words only


@dataclass(frozen=True)
class Query:
    """One sampled query: its kind and text (what a researcher would type between quotes)."""

    kind: str
    text: str


def load_corpus(path: Path, limit: int | None) -> list[dict[str, Any]]:
    """Corpus records in file order (the first `limit` of them)."""
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            records.append(json.loads(line))
            if limit and len(records) >= limit:
                break
    return records


def group_documents(records: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Consecutive records of one law (title 'name 第N页') become one document's pages."""
    docs: list[tuple[str, dict[str, Any], list[str]]] = []
    for r in records:
        name = re.sub(r"\s*第\d+页$", "", r["title"])
        if not docs or docs[-1][0] != name:
            docs.append((name, r, []))
        docs[-1][2].append(r["text"])
    return docs


_WORKER_CPU: list[float] = []


def _count_worker_cpu() -> None:
    """Add the CPU seconds of the index's jieba workers to _WORKER_CPU as their pool closes.

    The workers are children of multiprocessing's fork server, not of this process, so
    os.times() never sees them; /proc does, while they live."""
    from index import writer

    close = writer.AnalysisPool.close

    def counting_close(pool: Any) -> None:
        executor = getattr(pool, "_executor", None)
        for pid in list(getattr(executor, "_processes", None) or ()):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                _WORKER_CPU.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except (OSError, IndexError, ValueError):
                pass
        close(pool)

    writer.AnalysisPool.close = counting_close  # type: ignore[method-assign, assignment]


def _timed(method: Callable[..., Any], timing: dict[str, float], key: str) -> Callable[..., Any]:
    """`method`, adding its wall and CPU seconds to timing[key] and timing[key + "_cpu"]."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            timing[key] += time.perf_counter() - t
            timing[key + "_cpu"] += time.process_time() - c

    return timed


def build(library: Path, docs: list[tuple[str, dict[str, Any], list[str]]],
          tags: bool) -> dict[str, float]:
    """Feed the documents to the library sink; wall time split into tagging in the sink (the
    first documents, before the index workers start), index commits and the rest.

    Once the workers run, they tag documents with their index analysis: that time is in the
    workers' CPU, in the commits where the writer takes documents off them, and in "catalog and
    sink", where the writer analyses documents itself while the workers are far behind."""
    shutil.rmtree(library, ignore_errors=True)
    timing = {"tagging": 0.0, "index": 0.0, "tagging_cpu": 0.0, "index_cpu": 0.0}
    _count_worker_cpu()
    cpu = os.times()
    started = time.perf_counter()
    lib = LibraryFolder(Config.resolve(library=library), create=True, writable=True)
    lib.auto_tags = tags
    lib.compute_tags = _timed(lib.compute_tags, timing, "tagging")  # type: ignore[method-assign]
    lib.commit = _timed(lib.commit, timing, "index")  # type: ignore[method-assign]
    try:
        for name, first, texts in docs:
            doc_id = hashlib.sha1(first["id"].encode()).hexdigest()[:16]
            pages = tuple(Page(number=i + 1, text=t, method=METHOD_TEXT)
                          for i, t in enumerate(texts))
            size = sum(len(t.encode()) for t in texts)
            plan = DocumentPlan(SourceFile(f"laws/{first['id']}.txt", KIND_TEXT, doc_id, size),
                                name, pages)
            lib.begin_document(plan, first["category"],
                               {"date": first["date"]} if first.get("date") else {})
            for page in pages:
                lib.store_page(doc_id, page)
            lib.finish_document(doc_id)
    finally:
        lib.close()
    # The index workers stop when their library is collected; CPU counts them once reaped.
    del lib
    gc.collect()
    timing["total"] = time.perf_counter() - started
    after = os.times()
    timing["main_cpu"] = sum(after[:2]) - sum(cpu[:2])
    timing["cpu"] = timing["main_cpu"] + sum(_WORKER_CPU)
    timing["catalog"] = timing["total"] - timing["tagging"] - timing["index"]
    return timing


def catalog_pages(library: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """(doc_id, page) keys and texts of every page of the library's complete documents."""
    import sqlite3

    with sqlite3.connect(library / "catalog.sqlite") as db:
        rows = db.execute("SELECT p.doc_id, p.number, p.text FROM pages p JOIN documents d "
                          "USING (doc_id) WHERE d.status = 'complete' ORDER BY d.seq, p.number")
        keys, texts = [], []
        for doc_id, number, text in rows:
            keys.append((doc_id, int(number)))
            texts.append(text)
    return keys, texts


def folder_size(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def compact(text: str) -> str:
    """The normal form exact search is defined over, computed here independently."""
    return _WS.sub("", to_search_form(text))


def sample_queries(texts: list[str], rng: random.Random, per_kind: int) -> list[Query]:
    """Queries of each kind, drawn from the texts (absent ones checked absent)."""
    from index.analysis import query_words

    def passage() -> str:
        t = rng.choice(texts)
        start = rng.randrange(max(1, len(t) - 200))
        return t[start:start + 200]

    def substring(lo: int, hi: int, pattern: re.Pattern[str] | None = None) -> str:
        while True:
            p = _WS.sub("", passage())
            n = rng.randint(lo, hi)
            if len(p) < n:
                continue
            s = rng.randrange(len(p) - n + 1)
            q = p[s:s + n]
            if _CJK.search(q) and (pattern is None or pattern.search(q)):
                return q

    queries: list[Query] = []
    for _ in range(per_kind):
        queries.append(Query("char", substring(1, 1, _CJK)))
    while sum(q.kind == "word" for q in queries) < per_kind:
        words = [w for w in query_words(passage()) if 2 <= len(w) <= 4 and _CJK.search(w)]
        if words:
            queries.append(Query("word", rng.choice(words)))
    while sum(q.kind == "cross" for q in queries) < per_kind:
        words = [w for w in query_words(passage()) if _CJK.search(w)]
        if len(words) >= 2:
            i = rng.randrange(len(words) - 1)
            left, right = words[i], words[i + 1]
            q = (left[-rng.randint(1, min(2, len(left))):]
                 + right[:rng.randint(1, min(2, len(right)))])
            queries.append(Query("cross", q))
    for _ in range(per_kind):
        queries.append(Query("phrase", substring(5, 12)))
    for _ in range(per_kind // 2):
        queries.append(Query("mixed", substring(3, 10, re.compile(r"[0-9A-Za-z]"))))
    import opencc  # the benchmark needs simplified -> traditional, which the library never does

    s2t = opencc.OpenCC("s2t")
    while sum(q.kind == "traditional" for q in queries) < per_kind:
        q = s2t.convert(substring(2, 8))
        if q != to_search_form(q):
            queries.append(Query("traditional", q))
    pool = "".join(_CJK.findall("".join(texts[:200])))
    joined = "\n".join(compact(t) for t in texts)
    while sum(q.kind == "absent" for q in queries) < per_kind:
        q = "".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
        if compact(q) not in joined:
            queries.append(Query("absent", q))
    return queries


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def evaluate(library: Path, keys: list[tuple[str, int]], compacts: list[str],
             queries: list[Query]) -> dict[str, Any]:
    """Exactness of quoted queries against a substring scan, and warm latencies."""
    tp = fp = fn = exact = 0
    latency: dict[str, list[float]] = {"quoted": [], "unquoted": []}
    cpu: dict[str, list[float]] = {"quoted": [], "unquoted": []}  # steadier on a loaded machine
    by_kind: Counter[str] = Counter()
    wrong: list[str] = []
    with LibraryFolder(Config.resolve(library=library)) as lib:
        with lib.open_index().searcher() as searcher:
            ctx = SearchContext(searcher, lib.catalog)
            try:
                run(ctx, SearchRequest("法律 责任"))  # loads jieba once, as --queries would
                for q in queries:
                    needle = compact(q.text)
                    truth = {k for k, c in zip(keys, compacts) if needle in c}
                    quoted = f'"{q.text}"'
                    ctx.clear_cache()
                    t, c = time.perf_counter(), time.process_time()
                    top = run(ctx, SearchRequest(quoted, limit=10))
                    latency["quoted"].append(time.perf_counter() - t)
                    cpu["quoted"].append(time.process_time() - c)
                    got = {(h.doc_id, h.page)
                           for h in run(ctx, SearchRequest(quoted, limit=0, snippets=False)).hits}
                    tp += len(got & truth)
                    fp += len(got - truth)
                    fn += len(truth - got)
                    ok = got == truth and top.total == len(truth)
                    exact += ok
                    by_kind[q.kind] += ok
                    if not ok and len(wrong) < 10:
                        wrong.append(f"{q.kind} {q.text!r}: truth {len(truth)}, "
                                     f"found {len(got)}, total {top.total}")
                    words = _SYNTAX.sub(" ", q.text).strip()
                    if q.kind != "absent" and words:
                        ctx.clear_cache()
                        t, c = time.perf_counter(), time.process_time()
                        run(ctx, SearchRequest(words, limit=10))
                        latency["unquoted"].append(time.perf_counter() - t)
                        cpu["unquoted"].append(time.process_time() - c)
            finally:
                ctx.close()
    return {"tp": tp, "fp": fp, "fn": fn, "exact": exact, "by_kind": by_kind, "wrong": wrong,
            "latency": latency, "cpu": cpu}


def cold_runs(library: Path, queries: list[Query], n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of fresh `wenshi search '"..."'` processes."""
    exe = Path(sys.executable).with_name("wenshi")
    command = [str(exe)] if exe.exists() else [sys.executable, str(ROOT / "cli.py")]
    # As installed: Python caches compiled modules (__pycache__). This sandbox sets
    # PYTHONDONTWRITEBYTECODE, which makes every process recompile Wenshi's own modules
    # (~0.1-0.2 s): let the children write and use the cache, and warm it with one untimed run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def search(text: str) -> None:
        subprocess.run([*command, "--library", str(library), "search", f'"{text}"',
                        "--limit", "10"],
                       check=True, capture_output=True, cwd=ROOT, env=env)

    search(queries[0].text)
    walls, cpus = [], []
    for q in queries[:n]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        search(q.text)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def main() -> None:
    """Build, query, print."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, default=0,
                        help="use the first N corpus pages (0: all)")
    parser.add_argument("--per-kind", type=int, default=50, help="queries of each kind (x7 in all)")
    parser.add_argument("--library", type=Path, default=None,
                        help="build here (default: a temp folder)")
    parser.add_argument("--reuse", action="store_true", help="query an already built --library")
    parser.add_argument("--from-catalog", action="store_true",
                        help="with --reuse: take the pages (and the truth) from the library's "
                             "catalog, for a library `wenshi ingest` built (e.g. of the 1亿 set)")
    parser.add_argument("--no-tags", action="store_true",
                        help="skip automatic tagging during the build")
    parser.add_argument("--cold", type=int, default=5,
                        help="cold `wenshi search` processes to time")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    library = args.library or Path(tempfile.mkdtemp(prefix="wenshi-search-scale-")) / "library"
    if args.from_catalog:
        if not (args.reuse and args.library):
            parser.error("--from-catalog needs --reuse --library LIB")
        keys, texts = catalog_pages(library)
        docs = []
        ndocs = len({k[0] for k in keys})
    else:
        records = load_corpus(args.corpus, args.pages or None)
        docs = group_documents(records)
        texts = [t for _, _, ts in docs for t in ts]
        keys = [(hashlib.sha1(first["id"].encode()).hexdigest()[:16], i + 1)
                for _, first, ts in docs for i in range(len(ts))]
        ndocs = len(docs)
    chars = sum(len(t) for t in texts)
    raw = sum(len(t.encode("utf-8")) for t in texts)
    print(f"corpus: {len(texts)} pages in {ndocs} documents, {chars:,} characters, "
          f"{raw:,} bytes UTF-8")

    if not args.reuse:
        timing = build(library, docs, tags=not args.no_tags)
        rate = chars / timing["total"]
        print(f"build: {timing['total']:.1f} s wall ({timing['cpu']:.1f} s CPU), "
              f"{rate:,.0f} characters/s (target >= {TARGETS['build']:,}) "
              f"{'OK' if rate >= TARGETS['build'] else 'MISSED'}")
        print(f"  split: tagging in the sink {timing['tagging']:.1f} s, "
              f"catalog and sink {timing['catalog']:.1f} s, "
              "index commits (with the writer's share of segmenting and tagging) "
              f"{timing['index']:.1f} s")
        worker = timing["cpu"] - timing["main_cpu"]
        other = timing["main_cpu"] - timing["tagging_cpu"] - timing["index_cpu"]
        print(f"  CPU: main process {timing['main_cpu']:.1f} s = "
              f"tagging in the sink {timing['tagging_cpu']:.1f} + "
              f"index commits {timing['index_cpu']:.1f} + catalog and sink {other:.1f}; "
              f"index workers (jieba{' and tagging' if not args.no_tags else ''}) {worker:.1f} s; "
              f"{chars / max(1e-9, timing['cpu']):,.0f} chars per CPU second in all")
    index_bytes = folder_size(library / "index")
    grams_bytes = folder_size(library / "index" / "grams")
    catalog_bytes = (library / "catalog.sqlite").stat().st_size
    ratio = index_bytes / raw
    print(f"index size: {index_bytes / 1e6:.1f} MB = {ratio:.2f} x raw text "
          f"(target <= {TARGETS['size']}) "
          f"{'OK' if ratio <= TARGETS['size'] else 'MISSED'}; grams {grams_bytes / 1e6:.1f} MB, "
          f"Whoosh {(index_bytes - grams_bytes) / 1e6:.1f} MB; "
          f"catalog {catalog_bytes / 1e6:.1f} MB (not counted)")

    rng = random.Random(args.seed)
    queries = sample_queries(texts, rng, args.per_kind)
    compacts = [compact(t) for t in texts]
    result = evaluate(library, keys, compacts, queries)
    tp, fp, fn = result["tp"], result["fp"], result["fn"]
    recall = tp / (tp + fn) if tp + fn else 1.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    kinds = Counter(q.kind for q in queries)
    print(f"exact search: {len(queries)} quoted queries, recall {recall:.2%}, "
          f"precision {precision:.2%} ({tp:,} true page hits, {fp} false, {fn} missed); "
          f"{result['exact']}/{len(queries)} queries exact "
          f"{'OK' if result['exact'] == len(queries) else 'MISSED'}")
    print("  by kind: " + ", ".join(f"{k} {result['by_kind'][k]}/{n}" for k, n in kinds.items()))
    for line in result["wrong"]:
        print(f"  wrong: {line}")
    for kind, values in result["latency"].items():
        p50, p95 = percentile(values, 50) * 1000, percentile(values, 95) * 1000
        print(f"latency {kind} top-10 with snippets: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max "
              f"{max(values) * 1000:.1f} ms over {len(values)} queries "
              f"(target p95 <= {TARGETS['p95_ms']:.0f} ms) "
              f"{'OK' if p95 <= TARGETS['p95_ms'] else 'MISSED'}; CPU p50 "
              f"{percentile(result['cpu'][kind], 50) * 1000:.1f} ms, p95 "
              f"{percentile(result['cpu'][kind], 95) * 1000:.1f} ms")
    if args.cold:
        cold, cpu = cold_runs(library, [q for q in queries if q.kind in ("phrase", "word")],
                              args.cold)
        print(f"cold `wenshi search \"...\"` process: median {statistics.median(cold):.2f} s, "
              f"max {max(cold):.2f} s "
              f"wall (CPU median {statistics.median(cpu):.2f} s) over {len(cold)} runs "
              f"(target <= {TARGETS['cold_s']} s) "
              f"{'OK' if max(cold) <= TARGETS['cold_s'] else 'MISSED'}")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} "
          "(2 cores; other work inflates wall times)")
    print(f"library: {library}")


if __name__ == "__main__":
    main()
