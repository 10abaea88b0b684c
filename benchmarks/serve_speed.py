"""The reading room's speed and the page images' cost (issue 15).

    .venv/bin/python benchmarks/serve_speed.py --library /tmp/corpus-library   # builds it once
    .venv/bin/python benchmarks/serve_speed.py --library L --queries 200 --pages 0

1. Search page: a library built from the laws corpus (../shared/corpus, as search_scale.py
   builds it: each law a document, its category the collection, automatic tags on, so every
   facet has values). Sampled queries (jieba words and quoted strings from the texts, a fixed
   seed), each requested as `/search?q=...` through the real ASGI app in one process (what
   `wenshi serve` runs): server time from the app's Server-Timing header, which covers search,
   all seven facets, snippets and the template. p50/p95 against the target p95 <= 150 ms, and
   the same searches through the library alone (no facets, no HTML) as the baseline.
2. Page view: `/doc/DOC/PAGE?q=...` for hits of those queries (text pages), and for the scanned
   pages of the samples library (OCR'd here with the real Tesseract unless --samples-library is
   given), where it also aligns the ALTO and places the hit boxes.
3. Page images: bytes per page the library keeps (all sizes), and the CPU time to make them, on
   the 300-dpi renders of ../shared/realpages (colour and grey pages) and the samples' scans;
   the time beside the time to decode the same page image (work the worker does anyway).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from index import Library  # noqa: E402
from index.reading import ReadingRoom  # noqa: E402
from index.results import SearchRequest  # noqa: E402

SHARED = ROOT.parent / "shared"
TARGET_P95_MS = 150.0
_HIT = re.compile(r'data-hit="([0-9a-f]{16}):(\d+)"')


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    """p50 / p95 / max in ms."""
    return (f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
            f"max {max(values):.1f} ms over {len(values)}")


def ensure_corpus_library(library: Path, pages: int) -> None:
    """Build the laws-corpus library (search_scale.build) unless it is there."""
    if (library / "catalog.sqlite").exists():
        return
    from search_scale import DEFAULT_CORPUS, build, group_documents, load_corpus

    docs = group_documents(load_corpus(DEFAULT_CORPUS, pages or None))
    started = time.perf_counter()
    build(library, docs, tags=True)
    print(f"built the corpus library in {time.perf_counter() - started:.0f} s: {library}")


def sample_queries(library: Path, count: int, seed: int) -> list[str]:
    """Half jieba words, half quoted 2-6 character strings, from random pages' texts."""
    from index.analysis import query_words

    rng = random.Random(seed)
    with Library.open(library) as lib:
        keys = sorted((h.doc_id, h.page) for c in lib.collections()
                      for h in lib.search(SearchRequest(f'collection:"{c.name}"', limit=0,
                                                        snippets=False)).hits)
        texts = {}
        for doc_id, page in rng.sample(keys, min(len(keys), count)):
            texts[(doc_id, page)] = next(p.text for p in lib.document(doc_id).pages
                                         if p.number == page)
    queries = []
    for i, text in enumerate(texts.values()):
        chinese = re.sub(r"[^\u4e00-\u9fff]", "", text)
        if len(chinese) < 8:
            continue
        if i % 2:
            words = [w for w in query_words(chinese[:200]) if len(w) >= 2]
            if words:
                queries.append(rng.choice(words))
        else:
            start = rng.randrange(0, len(chinese) - 6)
            queries.append(f'"{chinese[start:start + rng.randint(2, 6)]}"')
    return queries[:count]


def time_app(library: Path, urls: list[str]) -> tuple[list[float], list[float], list[str]]:
    """(server ms from Server-Timing, client ms, response bodies) for GETs through the app."""
    from starlette.testclient import TestClient

    from index.web import build_app

    server, client, bodies = [], [], []
    with Library.open(library) as opened, TestClient(build_app(opened)) as http:
        http.get("/search?q=%E6%B3%95")  # open the searcher and load jieba once
        for url in urls:
            started = time.perf_counter()
            response = http.get(url)
            client.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            server.append(float(response.headers["server-timing"].split("dur=")[1]))
            bodies.append(response.text)
    return server, client, bodies


def time_library(library: Path, queries: list[str]) -> list[float]:
    """The same searches through the library alone (top 20, snippets, no facets): ms each."""
    out = []
    with Library.open(library) as opened:
        opened.search(SearchRequest("法"))
        for query in queries:
            started = time.perf_counter()
            opened.search(SearchRequest(query, limit=20))
            out.append((time.perf_counter() - started) * 1000)
    return out


def samples_library(path: Path | None, scratch: Path) -> Path:
    """The samples ingested with OCR (kept page images included)."""
    if path is not None:
        return path
    library = scratch / "samples-library"
    if not (library / "catalog.sqlite").exists():
        for folder, collection in (("power", "电力工业史"), ("railway", "铁路建设史")):
            subprocess.run([sys.executable, "-m", "cli", "--library", str(library), "ingest",
                            str(ROOT / "samples" / folder), "--collection", collection],
                           cwd=ROOT, check=False, capture_output=True)
    return library


def start_times(library: Path, runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of the server process) from starting `wenshi serve` to its
    first answer of `/`; each stopped by SIGINT (Ctrl-C) and required to exit 0. The CPU time
    (from /proc) is what an idle machine's wall time would be, near enough."""
    import signal
    import socket
    import urllib.request

    wenshi = Path(sys.executable).parent / "wenshi"
    times, cpu = [], []
    ticks = os.sysconf("SC_CLK_TCK")
    for _ in range(runs):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        started = time.perf_counter()
        server = subprocess.Popen([str(wenshi), "--library", str(library), "serve", "--port",
                                   str(port)], stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                        times.append(time.perf_counter() - started)
                        fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1]
                        cpu.append(sum(int(v) for v in fields.split()[11:13]) / ticks)
                        break
                except OSError:
                    if time.perf_counter() - started > 60:
                        raise SystemExit("wenshi serve did not answer within 60 s")
                    time.sleep(0.02)
        finally:
            server.send_signal(signal.SIGINT)
            if server.wait(timeout=30) != 0:
                raise SystemExit(f"wenshi serve exited {server.returncode} on Ctrl-C")
    return times, cpu


def image_cost(files: list[Path]) -> None:
    """Bytes kept per page and the time to make them, beside the time to decode the page."""
    from PIL import Image

    from pipeline.page.derivatives import page_derivatives

    made, decoded, sizes = [], [], []
    for path in files:  # CPU time (this process): steadier than wall time on a shared machine
        started = time.process_time()
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGB") if opened.mode not in ("L", "RGB") else opened.copy()
        decoded.append(time.process_time() - started)
        started = time.process_time()
        copies = page_derivatives(image)
        made.append(time.process_time() - started)
        sizes.append(sum(len(c.jpeg) for c in copies))
    ratio = statistics.median(made) / statistics.median(decoded)
    print(f"  {len(files)} pages: {statistics.mean(sizes) / 1024:.0f} KiB a page kept on average "
          f"(median {statistics.median(sizes) / 1024:.0f}, max {max(sizes) / 1024:.0f} KiB; all "
          f"sizes together), made in {statistics.median(made) * 1000:.0f} CPU ms median "
          f"({max(made) * 1000:.0f} max) = {ratio:.1f} x the page's PNG decode "
          f"({statistics.median(decoded) * 1000:.0f} CPU ms)")


def main() -> None:
    """Build what is missing, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, required=True,
                        help="the laws-corpus library (built here if missing)")
    parser.add_argument("--pages", type=int, default=0, help="corpus pages to build (0: all)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--samples-library", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    scratch = args.library.parent

    ensure_corpus_library(args.library, args.pages)
    wall, cpu = start_times(args.library, 5)
    print(f"start-up: `wenshi serve` answered / after {statistics.median(wall):.2f} s median "
          f"({min(wall):.2f}-{max(wall):.2f} s) having used {statistics.median(cpu):.2f} CPU s "
          f"median, over {len(wall)} starts; each stopped with Ctrl-C, exit 0")
    queries = sample_queries(args.library, args.queries, args.seed)
    print(f"search page: {len(queries)} queries on {args.library}")
    server, client, bodies = time_app(args.library, [f"/search?q={quote(q)}" for q in queries])
    ok = percentile(server, 95) <= TARGET_P95_MS
    print(f"  server time (search, 7 facets, snippets, HTML): {summary(server)} "
          f"(target p95 <= {TARGET_P95_MS:.0f} ms) {'OK' if ok else 'MISSED'}")
    print(f"  client round trip in-process: {summary(client)}")
    baseline = time_library(args.library, queries)
    print(f"  baseline, the same searches in the library alone (no facets, no HTML): "
          f"{summary(baseline)}; page/baseline p50 "
          f"{statistics.median(server) / statistics.median(baseline):.2f}")

    hits = [(m.group(1), m.group(2), q) for body, q in zip(bodies, queries)
            for m in list(_HIT.finditer(body))[:1]]
    server, _, _ = time_app(args.library, [f"/doc/{d}/{p}?q={quote(q)}" for d, p, q in hits])
    print(f"page view, text pages with the query marked: {summary(server)}")

    library = samples_library(args.samples_library, scratch)
    scanned = []
    with Library.open(library) as opened:
        room = ReadingRoom(opened)
        for collection in opened.collections():
            found = opened.search(SearchRequest(f'collection:"{collection.name}"', limit=0,
                                                snippets=False))
            for hit in found.hits:
                page = room.document(hit.doc_id).page(hit.page)
                if page.images:
                    text = room.page(hit.doc_id, hit.page).text
                    word = re.sub(r"[^\u4e00-\u9fff]", "", text)[10:13]
                    scanned.append((hit.doc_id, hit.page, word))
    urls = [f"/doc/{d}/{p}?q={quote(w)}" for d, p, w in scanned] * 5
    server, _, bodies = time_app(library, urls)
    boxes = sum(b.count("data-hit-box=") for b in bodies[:len(scanned)])
    print(f"page view, scanned pages with hit boxes ({len(scanned)} pages x 5, {boxes} boxes): "
          f"{summary(server)}")

    kept = sorted((library / "pages").rglob("*.jpg"))
    per_page: dict[str, int] = {}
    for f in kept:
        key = f"{f.parent.name}/{f.name.split('.')[0]}"
        per_page[key] = per_page.get(key, 0) + f.stat().st_size
    if per_page:
        values = list(per_page.values())
        print(f"page images kept by the samples library: {len(per_page)} scanned pages, "
              f"{statistics.mean(values) / 1024:.0f} KiB a page on average "
              f"(max {max(values) / 1024:.0f} KiB)")
    print("page images of ../shared/realpages at 300 dpi:")
    image_cost([p for p in sorted((SHARED / "realpages" / "pages").glob("*.png"))
                if "@" not in p.name])
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
