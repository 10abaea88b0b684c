"""Searches while an ingest commits: how many fail, with the index files held open and without.

    .venv/bin/python benchmarks/search_during_commits.py             # 2 x 60 s
    .venv/bin/python benchmarks/search_during_commits.py --seconds 20

A writer process adds one three-page document and commits every 0.3 s (Whoosh merges segments
and deletes the merged ones' files as it goes), while this process runs searches as a cold
`wenshi search` does: the library opened, one relevance search and one title-sorted search with
facets, closed again. Two rounds, the same in all but one thing: in the "not held" round the
searcher opens its files on first use, as Whoosh does (`bulk_read.hold_segment_files` made a
no-op), which is what Wenshi did before it held them. Prints searches and failures per round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import bulk_read  # noqa: E402
from index.library import LibraryFolder  # noqa: E402
from index.results import SearchRequest  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.records import KIND_TEXT, METHOD_TEXT, Page, SourceFile, Tags  # noqa: E402
from pipeline.run.sources import DocumentPlan  # noqa: E402

COMMIT_EVERY = 0.3


def _add(lib: LibraryFolder, n: int) -> None:
    doc_id = f"doc{n:05d}"
    pages = tuple(Page(number=p, text=f"第{n}卷第{p}页，电厂第{n * 7 + p}号记录。发电机组",
                       method=METHOD_TEXT) for p in (1, 2, 3))
    lib.begin_document(DocumentPlan(SourceFile(f"{doc_id}.txt", KIND_TEXT, doc_id, 1), f"卷{n}",
                                    pages), "电力工业史", {})
    for page in pages:
        lib.store_page(doc_id, page)
    lib.finish_document(doc_id)


def _writer(root: Path, stop: float) -> None:
    lib = LibraryFolder(Config.resolve(library=root, jobs=1), create=True, writable=True)
    lib.compute_tags = lambda text, title, metadata: Tags()  # type: ignore[method-assign]
    n = 1
    while time.time() < stop:
        _add(lib, n)
        lib.commit()
        n += 1
        time.sleep(COMMIT_EVERY)
    lib.close()


def _round(seconds: float, held: bool) -> tuple[int, Counter[str]]:
    import index.search

    real_hold = bulk_read.hold_segment_files
    if not held:  # SearchContext calls the name it imported from bulk_read
        index.search.hold_segment_files = lambda reader: None  # type: ignore[attr-defined]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "library"
            seed = LibraryFolder(Config.resolve(library=root, jobs=1), create=True, writable=True)
            seed.compute_tags = lambda text, title, metadata: Tags()  # type: ignore[method-assign]
            _add(seed, 0)
            seed.close()
            stop = time.time() + seconds
            writer = multiprocessing.get_context("fork").Process(target=_writer,
                                                                 args=(root, stop))
            writer.start()
            from index import Library

            searches, failures = 0, Counter[str]()
            while time.time() < stop:
                searches += 1
                try:
                    with Library.open(root) as lib:
                        lib.search('"电厂" 发电机组', limit=5)
                        lib.search(SearchRequest('"电厂"', limit=5, sort="title", facets=True))
                except Exception as exc:  # noqa: BLE001 - counted by kind and place
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    failures[f"{type(exc).__name__} in {Path(where.filename).name}:"
                             f"{where.lineno}"] += 1
            writer.join()
            return searches, failures
    finally:
        index.search.hold_segment_files = real_hold  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each round")
    args = parser.parse_args()
    for name, held in (("not held", False), ("held", True)):
        searches, failures = _round(args.seconds, held)
        total = sum(failures.values())
        print(f"{name:9} {searches:5} searches, {total:3} failed "
              f"({100 * total / max(1, searches):.1f} %)"
              + "".join(f"\n          {n} x {kind}" for kind, n in failures.most_common()))


if __name__ == "__main__":
    main()
