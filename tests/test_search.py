"""Search (index/search.py) over small libraries built from text through the library sink.

Tags are fixed per document here (the tagger has its own tests), so each filter's expected
pages are known exactly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from index import Library
from index.analysis import compact_search_form
from index.library import LibraryFolder
from index.search import (
    MARK_END,
    MARK_START,
    SearchContext,
    SearchRequest,
    find_matches,
    make_snippet,
    run,
)
from pipeline.config import Config
from pipeline.errors import UsageError
from pipeline.records import KIND_TEXT, METHOD_TEXT, Page, SourceFile, Tags
from pipeline.run.sources import DocumentPlan

ROOT = Path(__file__).resolve().parent.parent

# (doc_id, title, collection, metadata, tags, pages)
DOCS: list[tuple[str, str, str, dict[str, str], dict[str, Any], list[str]]] = [
    ("d1-county-plant", "县电厂回忆录", "电力工业史", {"contributor": "钱玉芬", "doctype": "回忆录"},
     {"years": [1958, 1960], "period": "建国后", "subjects": ["经济"], "persons": [["王德明", 2]],
      "places": [["岚江县", 1]]},
     ["一九五八年，县电厂扩建，新装发电机组两台。工厂的制造生产线日夜赶工。",
      "发电机组投产后，全县用电大增。王德明任厂长，电厂扩建完成。",
      "附录：电厂大事记。1960年，电厂并入地区电网。"]),
    ("d2-railway-survey", "铁路勘测日记", "铁路建设史", {"contributor": "孙永福"},
     {"years": [1956], "period": "建国后", "subjects": ["经济", "社会"], "persons": [["李秀英", 1]],
      "places": [["株洲市", 1]]},
     ["勘测队从株洲市出发，沿岚江河谷踏勘铁路线路，李秀英担任测量员。",
      "铁路线路避开公路，在河谷东岸设站。"]),
    ("d3-old-lamp-company", "民國電燈公司始末", "电力工业史", {"doctype": "回忆录"},
     {"years": [1937], "period": "建国前", "subjects": ["经济"], "persons": [["周汉卿", 1]],
      "places": [["岚江县", 1]]},
     ["民國二十六年，周漢卿創辦電燈公司，裝柴油發電機一臺，供縣城商鋪照明。",
      "抗日戰爭時期，電燈公司幾度停辦。"]),
    ("d4-ocr-spaces", "水电站 OCR 稿", "电力工业史", {},
     {"years": [], "period": "", "subjects": ["文化"]},
     ["岚江 水 电 站 于 1975 年 建 成 ， 装 机 ＡＢＣ-１２３ 型 发 电 机 组 。"]),
]


def _build(root: Path, docs: list[tuple[str, str, str, dict[str, str], dict[str, Any], list[str]]],
           commit_each: bool = False, library: LibraryFolder | None = None) -> Config:
    cfg = Config.resolve(library=root, jobs=1)
    lib = library or LibraryFolder(cfg, create=True, writable=True)
    tags = {d[0]: d[4] for d in docs}
    lib.compute_tags = lambda text, title, metadata: Tags()  # type: ignore[method-assign]
    try:
        for doc_id, title, collection, metadata, _, pages in docs:
            plan = DocumentPlan(SourceFile(f"{doc_id}.txt", KIND_TEXT, doc_id, 1), title,
                                tuple(Page(number=i + 1, text=t, method=METHOD_TEXT)
                                      for i, t in enumerate(pages)))
            lib.begin_document(plan, collection, metadata)
            for page in plan.pages:
                lib.store_page(doc_id, page)  # type: ignore[arg-type]
            lib.compute_tags = (  # type: ignore[method-assign]
                lambda text, title, metadata, _t=Tags.from_dict(tags[doc_id]): _t)
            lib.finish_document(doc_id)
            if commit_each:
                lib.commit()
    finally:
        if library is None:
            lib.close()
    return cfg


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return _build(tmp_path_factory.mktemp("search") / "library", DOCS)


def _search(cfg: Config, query: str, **options: Any) -> Any:
    with Library(cfg) as lib:
        return lib.search(SearchRequest(query, limit=options.pop("limit", 0), **options))


def _pages(cfg: Config, query: str, **options: Any) -> set[tuple[str, int]]:
    results = _search(cfg, query, **options)
    pages = {(h.doc_id, h.page) for h in results.hits}
    assert results.total == len(pages)
    return pages


def _scan(needle: str) -> set[tuple[str, int]]:
    """The truth: pages whose compact normal form contains the needle's."""
    target = compact_search_form(needle)
    return {(d[0], i + 1) for d in DOCS for i, t in enumerate(d[5])
            if target in compact_search_form(t)}


@pytest.mark.parametrize("needle", ["造生产", "厂", "电厂扩建", "发电机组", "1960年，电厂", "的制造生产线日夜赶工",
                                    "機組", "电灯公司", "abc-123", "水电站于1975年建成", "，", "不存在的字串"])
def test_quoted_strings_find_exactly_the_pages_that_contain_them(cfg: Config, needle: str):
    assert _pages(cfg, f'"{needle}"') == _scan(needle)


def test_phrase_across_a_jieba_word_boundary(cfg: Config):
    # jieba cuts 制造/生产线: the words of the page do not contain 造生产, the page does.
    from index.analysis import word_counts

    assert "造生产" not in word_counts(DOCS[0][5][0])
    assert _pages(cfg, '"造生产"') == {("d1-county-plant", 1)}


def test_single_character(cfg: Config):
    assert _pages(cfg, '"站"') == {("d2-railway-survey", 2), ("d4-ocr-spaces", 1)}
    assert _pages(cfg, "站") == _pages(cfg, '"站"')


def test_traditional_and_simplified_find_each_other_and_snippets_show_the_original(cfg: Config):
    assert _pages(cfg, '"电灯公司"') == {("d3-old-lamp-company", 1), ("d3-old-lamp-company", 2)}
    assert _pages(cfg, '"發電機組"') == _scan("发电机组")
    hit = _search(cfg, '"周汉卿创办"').hits[0]
    assert f"{MARK_START}周漢卿創辦{MARK_END}" in hit.snippet
    assert _pages(cfg, "縣電廠 擴建") == _pages(cfg, "县电厂 扩建") != set()


def test_unquoted_words_are_anded_and_ranked_by_relevance(cfg: Config):
    results = _search(cfg, "电厂 扩建")
    assert ({(h.doc_id, h.page) for h in results.hits}
            == {("d1-county-plant", 1), ("d1-county-plant", 2)})
    assert [h.score for h in results.hits] == sorted((h.score for h in results.hits), reverse=True)
    assert results.hits[0].score > 0


def test_or_not_and_parentheses(cfg: Config):
    assert _pages(cfg, "公路 OR 柴油") == _scan("公路") | _scan("柴油")
    assert _pages(cfg, "铁路 NOT 公路") == _scan("铁路") - _scan("公路")
    assert _pages(cfg, "铁路 -公路") == _scan("铁路") - _scan("公路")
    assert _pages(cfg, '(公路 OR 柴油) "河谷东岸"') == {("d2-railway-survey", 2)}
    assert _pages(cfg, '-"电"') == (
        {(d[0], i + 1) for d in DOCS for i in range(len(d[5]))} - _scan("电"))


@pytest.mark.parametrize("query, doc_ids", [
    ("collection:铁路建设史", {"d2-railway-survey"}),
    ("collection:鐵路建設史", {"d2-railway-survey"}),
    ("year:1937", {"d3-old-lamp-company"}),
    ("year:1950-1960", {"d1-county-plant", "d2-railway-survey"}),
    ("year:1957-", {"d1-county-plant"}),
    ("year:-1940", {"d3-old-lamp-company"}),
    ("period:建国前", {"d3-old-lamp-company"}),
    ("period:建國後", {"d1-county-plant", "d2-railway-survey"}),
    ("subject:社会", {"d2-railway-survey"}),
    ("subject:经济 -subject:社会", {"d1-county-plant", "d3-old-lamp-company"}),
    ("person:王德明", {"d1-county-plant"}),
    ("place:岚江县", {"d1-county-plant", "d3-old-lamp-company"}),
    ("contributor:钱玉芬", {"d1-county-plant"}),
    ("doctype:回忆录", {"d1-county-plant", "d3-old-lamp-company"}),
    ("title:电灯", {"d3-old-lamp-company"}),
    ('person:李秀英 "河谷"', {"d2-railway-survey"}),
])
def test_each_field_filter(cfg: Config, query: str, doc_ids: set[str]):
    assert {d for d, _ in _pages(cfg, query)} == doc_ids


def test_collection_option_and_a_bad_year(cfg: Config):
    assert {d for d, _ in _pages(cfg, '"电"', collection="铁路建设史")} == set()
    assert {d for d, _ in _pages(cfg, '"河谷"', collection="铁路建设史")} == {"d2-railway-survey"}
    # the other script's spelling of a collection's name is the same collection
    assert {d for d, _ in _pages(cfg, '"河谷"', collection="鐵路建設史")} == {"d2-railway-survey"}
    with pytest.raises(UsageError, match="year filter needs a year or a range"):
        _search(cfg, "year:fifties")


def test_facets_count_matching_pages(cfg: Config):
    results = _search(cfg, '"电"', facets=True)
    assert results.facets == {
        "collection": {"电力工业史": 6},
        "period": {"建国后": 3, "建国前": 2},
        "subject": {"经济": 5, "文化": 1},
    }
    assert results.total == 6


def test_group_lists_each_documents_matching_pages(cfg: Config):
    results = _search(cfg, '"电"', group=True)
    assert results.total == 6 and results.documents == 3
    groups = {g.doc_id: g.pages for g in results.groups}
    assert groups == {"d1-county-plant": (1, 2, 3), "d3-old-lamp-company": (1, 2),
                      "d4-ocr-spaces": (1,)}
    for g in results.groups:
        assert g.best.doc_id == g.doc_id and g.best.page in g.pages and MARK_START in g.best.snippet
    second = _search(cfg, '"电"', group=True, limit=1, offset=1)
    assert [g.doc_id for g in second.groups] == [results.groups[1].doc_id]


def test_pagination_windows_are_slices_of_one_ranking_with_an_exact_total(cfg: Config):
    everything = _search(cfg, '"电"', limit=0)
    keys = [(h.doc_id, h.page) for h in everything.hits]
    windows = [_search(cfg, '"电"', limit=2, offset=o) for o in range(0, 8, 2)]
    assert [(h.doc_id, h.page) for w in windows for h in w.hits] == keys
    assert {w.total for w in windows} == {6}
    assert windows[-1].hits == ()


@pytest.mark.parametrize("query", ['"电厂"', "电厂 扩建", '"發電機"', '"水电站于1975年"', '"abc-123"', "ABC"])
def test_highlights_sit_at_the_true_offsets_of_the_original_text(cfg: Config, query: str):
    results = _search(cfg, query)
    assert results.hits
    texts = {(d[0], i + 1): t for d in DOCS for i, t in enumerate(d[5])}
    needles = [compact_search_form(w) for w in re.findall(r'"([^"]+)"|(\S+)', query)
               for w in w if w]
    for hit in results.hits:
        text = texts[(hit.doc_id, hit.page)]
        assert hit.matches
        for start, end in hit.matches:
            marked = compact_search_form(text[start:end])
            assert any(n in marked for n in needles) or any(marked in n for n in needles)
            assert not text[start].isspace() and not text[end - 1].isspace()
            # These pages are short: every match fits in the snippet's fragments, marked.
            assert f"{MARK_START}{text[start:end].replace(chr(10), ' ')}{MARK_END}" in hit.snippet


def test_a_match_across_ocr_spaces_is_highlighted_with_its_spaces(cfg: Config):
    hit = _search(cfg, '"水电站于1975年"').hits[0]
    assert f"{MARK_START}水 电 站 于 1975 年{MARK_END}" in hit.snippet


def test_snippets_have_several_fragments_with_about_40_characters_of_context():
    text = "甲" * 100 + "目标" + "乙" * 200 + "目标" + "丙" * 100
    matches = find_matches(text, ["目标"])
    assert matches == [(100, 102), (302, 304)]
    snippet = make_snippet(text, matches)
    fragments = snippet.split(" ")
    assert len(fragments) == 2
    assert fragments[0] == "…" + "甲" * 40 + "«目标»" + "乙" * 40 + "…"
    assert fragments[1] == "…" + "乙" * 40 + "«目标»" + "丙" * 40 + "…"


def test_sort_by_year_title_and_archive_order(cfg: Config):
    by_year = [h.doc_id for h in _search(cfg, '"电"', sort="year").hits]
    assert by_year == ["d3-old-lamp-company"] * 2 + ["d1-county-plant"] * 3 + ["d4-ocr-spaces"]
    by_title = [h.doc_id for h in _search(cfg, '"电"', sort="title").hits]
    # pinyin: min guo dian deng... < shui dian zhan... < xian dian chang...
    assert by_title == ["d3-old-lamp-company"] * 2 + ["d4-ocr-spaces"] + ["d1-county-plant"] * 3
    archive = [(h.doc_id, h.page) for h in _search(cfg, '"电"', sort="document").hits]
    assert archive == sorted(archive, key=lambda k: ([d[0] for d in DOCS].index(k[0]), k[1]))
    with pytest.raises(UsageError, match="--sort must be one of"):
        _search(cfg, '"电"', sort="colour")


def test_search_while_an_ingest_runs_sees_what_was_committed(tmp_path: Path):
    root = tmp_path / "library"
    writer = LibraryFolder(Config.resolve(library=root, jobs=1), create=True, writable=True)
    try:
        cfg = _build(root, DOCS[:1], library=writer)
        writer.commit()
        assert {d for d, _ in _pages(cfg, '"电"')} == {"d1-county-plant"}
        _build(root, DOCS[2:3], library=writer)  # queued, not committed yet
        assert {d for d, _ in _pages(cfg, '"电"')} == {"d1-county-plant"}
        writer.commit()
        assert {d for d, _ in _pages(cfg, '"电"')} == {"d1-county-plant", "d3-old-lamp-company"}
    finally:
        writer.close()


def test_reindex_and_reindexing_a_document_keep_results_exact(tmp_path: Path):
    cfg = _build(tmp_path / "library", DOCS, commit_each=True)
    before = _pages(cfg, '"电"')
    with LibraryFolder(cfg, writable=True) as lib:
        lib._pending.append("d1-county-plant")  # re-index one document (as retag or repair do)
        lib.commit()
    assert _pages(cfg, '"电"') == before
    with Library(cfg) as lib:
        assert lib.reindex() == sum(len(d[5]) for d in DOCS)
    assert _pages(cfg, '"电"') == before
    assert _pages(cfg, "year:1937") == {("d3-old-lamp-company", 1), ("d3-old-lamp-company", 2)}


def test_many_commits_merge_segments_and_stay_exact(tmp_path: Path):
    many = [(f"doc{i:03d}", f"卷{i}", "电力工业史", {}, {"years": [1950 + i % 20]},
             [f"第{i}卷第{p}页，电厂第{i * 7 + p}号记录。" for p in range(1, 4)]) for i in range(40)]
    cfg = _build(tmp_path / "library", many, commit_each=True)
    grams = sorted((tmp_path / "library" / "index" / "grams").glob("*.grams"))
    assert 1 <= len(grams) <= 8
    assert _search(cfg, '"电厂"').total == 120
    assert _pages(cfg, '"第17卷第2页"') == {("doc017", 2)}
    assert _pages(cfg, '"电厂第121号"') == {("doc017", 2)}


def test_a_search_context_serves_many_queries(cfg: Config):
    with LibraryFolder(cfg) as lib, lib.open_index().searcher() as searcher:
        ctx = SearchContext(searcher, lib.catalog)
        try:
            first = run(ctx, SearchRequest('"电厂"'))
            assert run(ctx, SearchRequest('"电厂"')) == first
            ctx.clear_cache()
            assert run(ctx, SearchRequest('"电厂"', limit=1)).hits == first.hits[:1]
        finally:
            ctx.close()


def test_cli_json_group_facets_and_queries_file(cfg: Config, tmp_path: Path):
    runner = CliRunner()
    out = runner.invoke(main, ["--library", str(cfg.library), "search", '"电"', "--group",
                               "--facets", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["total"] == 6 and data["documents"] == 3 and len(data["groups"]) == 3
    assert data["facets"]["collection"] == {"电力工业史": 6}
    queries = tmp_path / "queries.txt"
    queries.write_text('"电厂"\n\n铁路 -公路\nnosuch:x\n', encoding="utf-8")
    out = runner.invoke(main, ["--library", str(cfg.library), "search", "--queries", str(queries),
                               "--limit", "1"])
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["query"] for line in lines] == ['"电厂"', "铁路 -公路", "nosuch:x"]
    assert lines[0]["total"] == len(_scan("电厂")) and len(lines[0]["hits"]) == 1
    assert lines[2]["error"].startswith("unknown field 'nosuch'")
    assert out.exit_code == 2
    text = runner.invoke(main, ["--library", str(cfg.library), "search", '"电厂"', "--limit", "2"])
    assert text.exit_code == 0 and text.stdout.strip().endswith("showing hits 1-2")


def test_a_quoted_search_process_never_loads_jieba(cfg: Config):
    code = ("import sys; from cli import main\n"
            "try:\n    main(['--library', sys.argv[1], 'search', '\"电厂扩建\"'])\n"
            "except SystemExit:\n    pass\n"
            "print('jieba loaded' if 'jieba' in sys.modules else 'no jieba')")
    out = subprocess.run([sys.executable, "-c", code, str(cfg.library)], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert "«电厂扩建»" in out and out.strip().endswith("no jieba")


def test_worker_processes_segment_big_batches_with_the_same_result(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    from index.writer import IndexQueue

    inline = _build(tmp_path / "inline", DOCS)
    monkeypatch.setattr(IndexQueue, "POOL_MIN_CHARS", 0)
    root = tmp_path / "pooled"
    lib = LibraryFolder(Config.resolve(library=root, jobs=2), create=True, writable=True)
    try:
        pooled = _build(root, DOCS, library=lib)
        assert lib._index_queue()._pool is not None
    finally:
        lib.close()
    for query in ["电厂 扩建", '"电"', "铁路 OR 电灯"]:
        a, b = _search(inline, query), _search(pooled, query)
        assert ([(h.doc_id, h.page, h.score) for h in a.hits]
                == [(h.doc_id, h.page, h.score) for h in b.hits])


def test_an_empty_library_finds_nothing(tmp_path: Path):
    cfg = Config.resolve(library=tmp_path / "library", jobs=1)
    LibraryFolder(cfg, create=True, writable=True).close()
    results = _search(cfg, '"电厂" OR 铁路', facets=True, group=True)
    assert (results.total, results.documents, results.hits, results.groups) == (0, 0, (), ())
    assert results.facets == {"collection": {}, "period": {}, "subject": {}}


def test_an_index_from_another_wenshi_version_gets_one_clear_line(tmp_path: Path):
    # An older Wenshi pickled analysis classes into its index that this version no longer has:
    # the version check must speak before Whoosh tries to unpickle them.
    import shutil
    import types

    from whoosh import fields
    from whoosh import index as whoosh_index

    gone = types.ModuleType("wenshi_gone_module")

    class OldField(fields.TEXT):
        pass

    OldField.__module__, OldField.__qualname__ = gone.__name__, "OldField"
    gone.OldField = OldField  # type: ignore[attr-defined]
    sys.modules[gone.__name__] = gone
    cfg = _build(tmp_path / "library", DOCS[:1])
    folder = tmp_path / "library" / "index"
    shutil.rmtree(folder)
    folder.mkdir()
    try:
        whoosh_index.create_in(str(folder), fields.Schema(text=OldField()))
    finally:
        del sys.modules[gone.__name__]
    (folder / "schema_version").write_text("1\n")
    runner = CliRunner()
    out = runner.invoke(main, ["--library", str(cfg.library), "search", '"电"'])
    assert out.exit_code != 0 and isinstance(out.exception, SystemExit)
    assert "schema version 1" in out.output and "wenshi reindex" in out.output
    assert "Traceback" not in out.output
    # ... and the command it names rebuilds the index from the catalog.
    rebuilt = runner.invoke(main, ["--library", str(cfg.library), "reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _pages(cfg, '"电厂"') == {
        ("d1-county-plant", 1), ("d1-county-plant", 2), ("d1-county-plant", 3)}


def test_issue_14_an_open_search_survives_a_commit_that_merges_its_segments(tmp_path: Path):
    # Whoosh opened stored fields and columns on first use; a commit that merged segments had
    # deleted them by then (TypeError in stored_fields, IndexError in a column, page keys read
    # as zeros). api.search retried on any TypeError or KeyError; now the files are held open.
    cfg = _build(tmp_path / "library", DOCS, commit_each=True)
    with LibraryFolder(cfg) as reader:
        context = reader.search_context()
        before = {sort: run(context, SearchRequest('"电"', limit=0, sort=sort))
                  for sort in ("relevance", "title", "year")}
        context.close()
        context.searcher.close()
        context = reader.search_context()
        files = set((tmp_path / "library" / "index").iterdir())
        with LibraryFolder(cfg, writable=True) as writer:
            writer._index().optimize()  # one segment: the others' files are deleted
        assert files - set((tmp_path / "library" / "index").iterdir())
        try:
            for sort, expected in before.items():
                assert run(context, SearchRequest('"电"', limit=0, sort=sort)) == expected
        finally:
            context.close()
            context.searcher.close()
