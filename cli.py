"""The `wenshi` command: parse options, call one method of `index.Library`, format the result.
Nothing else."""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import click

from index.export import FOLDER_FORMATS, FORMATS, ORDERS
from index.results import SORTS, SearchRequest, SearchResults
from index.snippets import MARK_END, MARK_START
from pipeline.config import ENGINE_CHOICES, LANG_CHOICES, PREPROCESS_STEPS, Config
from pipeline.errors import UsageError, WenshiError
from pipeline.run import workers

if TYPE_CHECKING:
    from index.api import Library

F = TypeVar("F", bound=Callable[..., Any])
EXIT_SOME_FAILED = 1


def _open(cfg: Config, create: bool = False) -> Library:
    """The library the command works on. It is imported when a command runs, not at start-up
    (0.2-0.45 CPU s): `ingest` starts its page workers' server first, so that the two import
    side by side (pipeline/run/workers.py)."""
    from index.api import Library

    return Library(cfg, create=create)


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _config(ctx: click.Context, **overrides: Any) -> Config:
    return Config.resolve(library=ctx.obj["library"], **overrides)


def json_option(func: F) -> F:
    """The shared --json flag."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON (UTF-8, unescaped).")(func)


def handle_errors(func: F) -> F:
    """Turn WenshiError into one `Error: ...` line and its exit code; tracebacks only with
    --verbose."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WenshiError as exc:
            if click.get_current_context().obj.get("verbose"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("--library", envvar="WENSHI_LIBRARY", default="library", show_default=True,
              type=click.Path(file_okay=False), help="Library folder (or WENSHI_LIBRARY).")
@click.option("--verbose", "-v", is_flag=True, help="Log details and show tracebacks.")
@click.version_option("0.1.0", prog_name="wenshi")
@click.pass_context
def main(ctx: click.Context, library: str, verbose: bool) -> None:
    """Wenshi: scanned local-history material into a searchable, citable archive."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s")
    ctx.ensure_object(dict)
    ctx.obj.update(library=library, verbose=verbose)


def ocr_options(func: F) -> F:
    """The shared OCR options of `ingest` and `ocr`: engine, model, preprocessing switches."""
    func = click.option("--engine", type=click.Choice(ENGINE_CHOICES), default=None,
                        help="OCR engine: paddle (PP-OCR), tesseract, or auto (default): "
                             "chosen per page by its measurements (or WENSHI_ENGINE).")(func)
    func = click.option("--skip-step", "skip_steps", multiple=True,
                        type=click.Choice(PREPROCESS_STEPS),
                        help="Leave out one preprocessing step (repeatable), for diagnosis.")(func)
    func = click.option("--no-preprocess", is_flag=True,
                        help="Hand the page image to Tesseract as it is (for diagnosis).")(func)
    return click.option("--lang", type=click.Choice(LANG_CHOICES), default=None,
                        help="Script and direction (the Tesseract model); auto (default) decides "
                             "per page.")(func)


def _ocr_config(ctx: click.Context, lang: str | None, no_preprocess: bool,
                skip_steps: tuple[str, ...], engine: str | None, **overrides: Any) -> Config:
    return _config(ctx, lang=lang, preprocess=False if no_preprocess else None,
                   skip_steps=tuple(skip_steps) or None, engine=engine, **overrides)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--collection", "-c", required=True, help="Collection to add the documents to.")
@ocr_options
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="OCR worker processes (default: all cores).")
@click.option("--metadata", "metadata_csv", type=click.Path(exists=True, dir_okay=False),
              default=None,
              help="Catalog sheet (CSV, UTF-8 or GBK): "
                   "file,title,collection,contributor,region,volume,date,doctype,notes.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Send page OCR to this Dask scheduler's workers (or WENSHI_SCHEDULER).")
@click.option("--progress/--no-progress", default=None,
              help="Progress line on stderr (default: when stderr is a terminal).")
@json_option
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, paths: tuple[str, ...], collection: str, lang: str | None,
           no_preprocess: bool, skip_steps: tuple[str, ...], engine: str | None, jobs: int | None,
           metadata_csv: str | None, scheduler: str | None, progress: bool | None,
           as_json: bool) -> None:
    """Ingest files and folders (images, PDFs, .docx, .txt/.md) into a collection.

    Resumable: run the same command again after an interruption; stored pages are kept and
    failed pages are retried.

    Example: wenshi ingest scans/ drafts/县电厂.docx --collection 电力工业史 --jobs 4
    """
    cfg = _ocr_config(ctx, lang, no_preprocess, skip_steps, engine, jobs=jobs,
                      scheduler=scheduler)
    workers.start_server(cfg)
    line = _ProgressLine() if (sys.stderr.isatty() if progress is None else progress) else None
    try:
        with _open(cfg, create=True) as library:
            summary = library.ingest(paths, collection, metadata=metadata_csv, progress=line)
    finally:
        if line:
            line.close()
    failed = [o for o in summary.outcomes if o.status == "failed"]
    failed_pages = [(o, n, e) for o in summary.outcomes if o.status == "ingested"
                    for n, e in o.failed_pages]
    for o in failed:
        click.echo(f"{o.path}: {o.error}", err=True)
    for o, number, error in failed_pages:
        click.echo(f"{o.path}: page {number}: {error}", err=True)
    if as_json:
        _echo_json(summary.to_dict())
    else:
        for o in summary.outcomes:
            if o.status == "ingested":
                extra = f", {len(o.failed_pages)} failed" if o.failed_pages else ""
                extra += f", {o.reused_pages} already stored" if o.reused_pages else ""
                click.echo(f"ingested     {o.path}  ({o.pages} pages{extra}, "
                           f"{o.characters} 字, id {o.doc_id})")
            elif o.status == "skipped":
                click.echo(f"skipped      {o.path}  (already in the library, id {o.doc_id})")
            elif o.status == "unsupported":
                click.echo(f"unsupported  {o.path}")
        if summary.kept_corrections:
            click.echo(f"kept the corrected text of {summary.kept_corrections} pages "
                       "(proofread by an editor; the new OCR replaced only their OCR data)")
        for change in summary.updates:
            click.echo(f"updated      {change}")
        click.echo(f"{summary.count('ingested')} ingested, {summary.count('skipped')} skipped, "
                   f"{len(failed)} failed, {summary.count('unsupported')} unsupported; "
                   f"{summary.pages} pages ({len(failed_pages)} failed), "
                   f"{summary.characters} characters "
                   f"in {summary.elapsed:.1f} s ({summary.pages_per_minute:.1f} pages/min); "
                   f"writer peak memory {summary.writer_peak_rss_mb:.0f} MB")
    if failed or failed_pages:
        sys.exit(EXIT_SOME_FAILED)


class _ProgressLine:
    """`pages 120/480 · 41.3 pages/min · ETA 8 min 43 s` on stderr, redrawn in place."""

    REDRAW_SECONDS = 0.5
    RATE_WINDOW = 120.0  # the rate (and so the ETA) follows the last two minutes

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self.drawn_at = 0.0
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.RATE_WINDOW:
            self.samples.pop(0)
        if now - self.drawn_at < self.REDRAW_SECONDS and done < total:
            return
        self.drawn_at = now
        (then, before) = self.samples[0]
        rate = (done - before) / (now - then) * 60 if now > then else 0.0
        eta = _duration((total - done) / rate * 60) if rate > 0 else "?"
        from index.writer import peak_rss_mb  # loaded by the ingest already; not at `import cli`

        text = (f"pages {done}/{total} · {rate:.1f} pages/min · ETA {eta} · "
                f"writer {peak_rss_mb():.0f} MB")
        click.echo("\r" + text.ljust(self.width), err=True, nl=False)
        self.width = len(text)

    def close(self) -> None:
        """Clear the line so the summary starts on a clean one."""
        if self.width:
            click.echo("\r" + " " * self.width + "\r", err=True, nl=False)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@main.command()
@click.option("--repair", is_flag=True,
              help="Re-index from the catalog what the index lacks or holds wrongly.")
@json_option
@click.pass_context
@handle_errors
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Verify that the catalog and the search index agree: every page of every complete
    document indexed exactly once, nothing else. Exit 1 when they disagree.

    Example: wenshi check --repair
    """
    with _open(_config(ctx)) as library:
        report = library.check(repair=repair).to_dict()
    if as_json:
        _echo_json(report)
    else:
        for line in _check_lines(report):
            click.echo(line)
    if not report["ok"]:
        sys.exit(EXIT_SOME_FAILED)


def _check_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"catalog: {report['catalog']['documents']} complete documents, "
             f"{report['catalog']['pages']} pages",
             f"index:   {report['index']['pages']} pages"]
    if report["ingest_running"]:
        lines.append(f"an ingest (pid {report['ingest_running']}) is running: "
                     "its newest pages may not be indexed yet")
    if report["repaired"]:
        r = report["repaired"]
        lines.append(f"repaired: {r['documents_reindexed']} documents re-indexed, "
                     f"{r['documents_dropped']} dropped")
    for key, label in (("missing", "pages missing from the index"),
                       ("extra", "index entries with no complete document"),
                       ("duplicates", "pages indexed more than once"),
                       ("unindexed_documents", "complete documents not marked indexed"),
                       ("unfinished_removals", "documents an interrupted rm left"),
                       ("orphan_page_folders", "page folders of no document")):
        if report[key]:
            shown = ", ".join(report[key][:5]) + (", ..." if len(report[key]) > 5 else "")
            lines.append(f"{len(report[key])} {label}: {shown}")
    if report["catalog_integrity"] != ["ok"]:
        lines.append("catalog.sqlite fails SQLite's integrity check: "
                     + "; ".join(report["catalog_integrity"][:5]))
    # A damaged page image fails its checksum too; the image check's line (below) says more.
    image_files = {problem["file"] for problem in report["images"]["problems"]}
    for key, label in (("changed", "page file changed since it was stored (restore it from a "
                                   "copy or a bag)"),
                       ("missing", "page file missing")):
        for name in report["fixity"][key]:
            if not any(file.endswith("/" + name) for file in image_files):
                lines.append(f"{label}: {name}")
    unrecorded = report["fixity"]["unrecorded"]
    if unrecorded:  # a library made before checksums has many: say how many
        shown = ", ".join(unrecorded[:3]) + (", ..." if len(unrecorded) > 3 else "")
        lines.append(f"{len(unrecorded)} page files without a checksum yet (check --repair "
                     f"records them): {shown}")
    for path in report["originals"]["changed"]:
        lines.append(f"source file changed since ingest: {path}")
    for path in report["catalog"]["partial_documents"]:
        lines.append(f"interrupted: {path} (run its ingest again to finish it)")
    if report["catalog"]["failed_pages"]:
        lines.append(f"{report['catalog']['failed_pages']} failed pages "
                     "(see `wenshi stats`; the next ingest retries them)")
    images = report["images"]
    lines.append(f"page images: {images['checked']} checked, {len(images['problems'])} damaged "
                 "or missing")
    for problem in images["problems"][:20]:
        lines.append(f"image {problem['doc_id']} page {problem['page']}: {problem['reason']} "
                     f"({problem['file']})")
    index_ok = not any(report[k] for k in ("missing", "extra", "duplicates",
                                           "unindexed_documents"))
    lines.append("OK: catalog and index agree" if index_ok
                 else "run `wenshi check --repair` to re-index them")
    if images["problems"]:
        lines.append("run `wenshi reindex --images` to make the damaged page images again from "
                     "the originals")
    return lines


def _print_results(results: SearchResults, offset: int) -> None:
    color = sys.stdout.isatty()

    def mark(snippet: str) -> str:
        return (snippet.replace(MARK_START, "\x1b[1;33m").replace(MARK_END, "\x1b[0m") if color
                else snippet)

    for n, g in enumerate(results.groups, start=offset + 1):
        pages = ", ".join(map(str, g.pages))
        click.echo(f"{n}. {g.title} | {g.collection} | {len(g.pages)} pages: {pages} "
                   f"| score {g.score:.2f} | {g.doc_id}")
        click.echo(f"   page {g.best.page}: {mark(g.best.snippet)}")
    for n, h in enumerate(() if results.groups else results.hits, start=offset + 1):
        click.echo(f"{n}. {h.title} | {h.collection} | page {h.page} "
                   f"| score {h.score:.2f} | {h.doc_id}")
        click.echo(f"   {mark(h.snippet)}")
    for name, counts in (results.facets or {}).items():
        click.echo(f"{name}: " + (", ".join(f"{value} {n}" for value, n in counts.items()) or "-"))
    shown = len(results.groups or results.hits)
    what = "documents" if results.groups else "hits"
    click.echo(f"{results.total} matching pages in {results.documents} documents"
               + (f", showing {what} {offset + 1}-{offset + shown}" if shown else ""))


@main.command()
@click.argument("query", required=False)
@click.option("--collection", "-c", default=None, help="Only this collection.")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=10, show_default=True,
              help="Hits (or documents with --group) to show; 0: all.")
@click.option("--offset", type=click.IntRange(min=0), default=0,
              help="Skip this many hits (or documents).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="relevance, earliest year named, title (pinyin), or document (archive order).")
@click.option("--group", is_flag=True, help="One result per document, listing its matching pages.")
@click.option("--facets", is_flag=True,
              help="Also count matching pages by collection, period and subject.")
@click.option("--queries", "queries_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Run each line of FILE as a query in one process; prints JSON lines.")
@json_option
@click.pass_context
@handle_errors
def search(ctx: click.Context, query: str | None, collection: str | None, limit: int, offset: int,
           sort: str, group: bool, facets: bool, queries_file: Any, as_json: bool) -> None:
    """Full-text search; "quoted strings" match exactly, across word boundaries, in either script.

    Example: wenshi search '"发电机组" year:1950-1960 -公路' --collection 电力工业史 --group
    """
    def request(q: str) -> SearchRequest:
        return SearchRequest(q, collection, limit, offset, sort, group=group, facets=facets)

    if queries_file is not None:
        lines = [line.strip() for line in queries_file if line.strip()]
        failed = None
        with _open(_config(ctx)) as library:
            for q, result in zip(lines, library.search_many(request(q) for q in lines)):
                if isinstance(result, WenshiError):
                    failed = result
                    click.echo(json.dumps({"query": q, "error": str(result)},
                                          ensure_ascii=False))
                else:
                    click.echo(json.dumps({"query": q, **result.to_dict()}, ensure_ascii=False))
        if failed is not None:
            sys.exit(failed.exit_code)
        return
    if not query:
        raise UsageError("give a QUERY, or --queries FILE")
    with _open(_config(ctx)) as library:
        results = library.search(request(query))
    if as_json:
        _echo_json(results.to_dict())
    else:
        _print_results(results, offset)


@main.command()
@click.argument("doc_id")
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, doc_id: str, as_json: bool) -> None:
    """Show a document: catalog fields, tags, and each page's text.

    Example: wenshi show 3f2a9c1d07b4e6a1
    """
    from index.catalog import tags_pending

    with _open(_config(ctx)) as library:
        doc = library.document(doc_id).to_dict()
    if as_json:
        _echo_json(doc)
        return
    for key in ("doc_id", "title", "collection", "path", "kind", "page_count", "char_count"):
        click.echo(f"{key:12} {doc[key]}")
    for key, value in doc["metadata"].items():
        click.echo(f"{key:12} {value}")
    if tags_pending(doc["tags"]):
        # Tagging runs just before a document is indexed: seconds after its pages are stored.
        click.echo("tags         pending: made when the document is indexed "
                   "(after a crash, `wenshi check --repair`)")
    else:
        for key, value in doc["tags"].items():
            click.echo(f"tag {key:8} {value}")
    for page in doc["pages"]:
        conf = f", {page['engine']}" if page.get("engine") else ""
        conf += f", {page['lang']}" if page["lang"] else ""
        conf += f", confidence {page['confidence']:.0f}" if page["confidence"] is not None else ""
        q = page["quality"]
        conf += (f", ~{q['estimated_errors']} errors ({q['estimated_error_rate']:.1%})"
                 if q["estimated_error_rate"] is not None else "")
        flag = "  需校对" if page["needs_proofreading"] else ""
        if page["needs_proofreading"] and q["reasons"]:
            flag += f" ({'; '.join(q['reasons'])})"
        error = f"  FAILED: {page['error']}" if page["error"] else ""
        click.echo(f"\n--- page {page['number']} ({page['method']}{conf}){flag}{error}")
        click.echo(page["text"])


@main.command()
@json_option
@click.pass_context
@handle_errors
def collections(ctx: click.Context, as_json: bool) -> None:
    """List collections with documents, pages and 字数.

    Example: wenshi collections
    """
    with _open(_config(ctx)) as library:
        rows = [c.to_dict() for c in library.collections()]
    if as_json:
        _echo_json(rows)
        return
    click.echo(f"{'collection':24} {'documents':>9} {'pages':>7} {'字数':>10}")
    for r in rows:
        click.echo(f"{r['name']:24} {r['documents']:>9} {r['pages']:>7} {r['characters']:>10}")


@main.command()
@click.option("--collection", "-c", default=None, help="Only this collection.")
@click.option("--by", type=click.Choice(["collection", "contributor"]), default="collection",
              show_default=True,
              help="contributor: 字数 per document and per contributor, for fees "
                   "(the table of export --format wordcount).")
@json_option
@click.pass_context
@handle_errors
def stats(ctx: click.Context, collection: str | None, by: str, as_json: bool) -> None:
    """Documents, pages and 字数 per collection (or per contributor); failures; pages needing
    proofreading (需校对).

    Example: wenshi stats --collection 铁路建设史 --by contributor
    """
    with _open(_config(ctx)) as library:
        if by == "contributor":
            counts = library.word_counts(collection)
            if as_json:
                _echo_json(counts.to_dict())
                return
            from index.export.catalog_formats import wordcount_table

            for line in wordcount_table(counts):
                click.echo(line)
            return
        data = library.stats(collection)
    if as_json:
        _echo_json(data.to_dict())
        return
    click.echo(f"{'collection':24} {'documents':>9} {'pages':>7} {'字数':>10}")
    for r in data.collections:
        click.echo(f"{r.name:24} {r.documents:>9} {r.pages:>7} {r.characters:>10}")
    click.echo(f"{'total':24} {data.documents:>9} {data.pages:>7} {data.characters:>10}")
    if data.failures:
        click.echo(f"\ningest failures ({len(data.failures)}):")
        for f in data.failures:
            click.echo(f"  {f.path}: {f.error}")
    if data.failed_pages:
        click.echo(f"\nfailed pages ({len(data.failed_pages)}):")
        for p in data.failed_pages:
            click.echo(f"  {p.path} page {p.number}: {p.error}")
    if data.proofreading:
        click.echo(f"\npages needing proofreading (需校对, {len(data.proofreading)}), most "
                   "estimated errors first:")
        for q in data.proofreading:
            if q.est_errors is not None and q.error_rate is not None:
                why = f"~{q.est_errors} errors ({q.error_rate:.1%})"
                why += f": {'; '.join(q.reasons_in_words())}" if q.reasons else ""
            else:
                why = f"no estimate; confidence {q.confidence:.0f}"
            click.echo(f"  {q.doc_id} {q.title} page {q.number} ({why})")
        click.echo("estimated errors to fix per collection: " + ", ".join(
            f"{name} {n}" for name, n in data.proofreading_errors().items()))


@main.command()
@click.option("--retag", is_flag=True, help="Recompute automatic tags from the catalog text first.")
@click.option("--images", is_flag=True,
              help="Instead: make the reading room's page images the library lacks or has "
                   "damaged (libraries ingested before they were kept), from the originals.")
@click.pass_context
@handle_errors
def reindex(ctx: click.Context, retag: bool, images: bool) -> None:
    """Rebuild the search index from the catalog (no OCR).

    Example: wenshi reindex --retag
    """
    with _open(_config(ctx)) as library:
        if images:
            if retag:
                raise UsageError("--images and --retag are separate runs")
            made = library.make_images()
            for doc_id, page, reason in made.unavailable:
                click.echo(f"{doc_id} page {page}: {reason}", err=True)
            click.echo(f"made page images for {made.pages} pages ({made.bytes / 1e6:.1f} MB); "
                       f"{len(made.unavailable)} pages without a usable source")
            if made.unavailable:
                sys.exit(EXIT_SOME_FAILED)
            return
        pages = library.reindex(retag=retag)
    click.echo(f"reindexed {pages} pages" + (" with fresh tags" if retag else ""))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--edit", is_flag=True,
              help="Let signed-in editors proofread (校对): correct page text, mark 已校对, "
                   "revert (accounts: `wenshi editor add`).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, edit: bool) -> None:
    """Serve the library in a browser: the reading room (search, page views with the scan,
    IIIF), read-only unless --edit. Stops on Ctrl-C.

    Example: wenshi serve --port 8000, then open http://127.0.0.1:8000/
    """
    from index.web import serve as run_server

    with _open(_config(ctx)) as library:
        run_server(library, host, port, edit=edit)


@main.command("tag")
@click.argument("doc_id")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="Catalog field (title, contributor, region, volume, date, doctype, notes, ...) "
                   "or tag (period, subjects, persons, places, organizations, keywords, years; "
                   "lists comma-separated).")
@json_option
@click.pass_context
@handle_errors
def tag_command(ctx: click.Context, doc_id: str, assignments: tuple[str, ...],
                as_json: bool) -> None:
    """Correct a document's catalog fields or tags without re-OCR.

    Example: wenshi tag b5ba023a --set contributor=王德明 --set period=建国前
    """
    with _open(_config(ctx)) as library:
        doc = library.tag(doc_id, _assignments(assignments)).to_dict()
    if as_json:
        _echo_json({k: doc[k] for k in ("doc_id", "title", "metadata", "tags")})
        return
    click.echo(f"updated {doc['doc_id']} {doc['title']}")
    for key, value in doc["metadata"].items():
        click.echo(f"  {key:12} {value}")


def _assignments(items: tuple[str, ...]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set needs field=value, not {item!r}")
        changes[name] = value
    return changes


@main.command("ocr")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@ocr_options
@click.pass_context
@handle_errors
def ocr_command(ctx: click.Context, file: str, lang: str | None, no_preprocess: bool,
                skip_steps: tuple[str, ...], engine: str | None) -> None:
    """OCR one file without a library; pages are separated by a form feed.

    Example: wenshi ocr 'samples/power/县电厂 回忆录.png'
    """
    from index.api import ocr_file

    pages = ocr_file(_ocr_config(ctx, lang, no_preprocess, skip_steps, engine), file)
    failed = [p for p in pages if p.error]
    click.echo("\f".join(p.text for p in pages))
    for p in failed:
        click.echo(f"{file}: page {p.number}: {p.error}", err=True)
    if failed:
        sys.exit(EXIT_SOME_FAILED)


@main.command("export")
@click.argument("collection")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), required=True,
              help="docx/md/txt: manuscript with 出处 lines and name indexes; wordcount: 字数 CSV; "
                   "csv/json: the catalog; dc: Dublin Core records; alto: ALTO per OCR page; "
                   "pdf: searchable PDF per scanned document; proofread: the pages needing "
                   "proofreading as a .docx for `wenshi proofread import`.")
@click.option("--output", "-o", required=True, type=click.Path(),
              help=f"File to write, or folder for {', '.join(FOLDER_FORMATS)}; "
                   "nothing is written outside it.")
@click.option("--query", "-q", default=None,
              help="Only the documents with a page matching this search.")
@click.option("--order", type=click.Choice(ORDERS), default="ingest", show_default=True,
              help="Order of the documents (year: metadata date, else the earliest year in "
                   "the text; contributor: pinyin order).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@json_option
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, collection: str, fmt: str, output: str, query: str | None,
                   order: str, force: bool, as_json: bool) -> None:
    """Export a collection as a manuscript (docx, md, txt), 字数 table, catalog (csv, json),
    Dublin Core (dc), ALTO (alto) or searchable PDFs (pdf).

    Example: wenshi export 电力工业史 --format docx --output 电力工业史.docx --order year
    """
    with _open(_config(ctx)) as library:
        result = library.export(collection, fmt, output, query=query, order=order, force=force)
    for issue in result.failed:
        click.echo(f"{issue.doc_id} {issue.title}: {issue.message}", err=True)
    if as_json:
        _echo_json(result.to_dict())
    else:
        for issue in result.skipped:
            click.echo(f"skipped {issue.doc_id} {issue.title}: {issue.message}")
        if fmt in FOLDER_FORMATS:
            click.echo(f"wrote {len(result.files)} files to {result.output} ({result.documents} "
                       f"documents selected, {len(result.skipped)} skipped, "
                       f"{len(result.failed)} failed)")
        else:
            click.echo(f"wrote {result.files[0]} ({result.documents} documents, "
                       f"{result.characters} 字)")
    if result.failed:
        sys.exit(EXIT_SOME_FAILED)


@main.group()
def editor() -> None:
    """Editor accounts for proofreading in `wenshi serve --edit` (passwords kept as salted
    scrypt hashes only).

    Example: wenshi editor add 王编辑
    """


@editor.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.pass_context
@handle_errors
def editor_add(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Add an editor (or set a new password); the password is asked twice.

    Example: printf '%s\\n' "$PASSWORD" | wenshi editor add 王编辑 --password-stdin
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _open(_config(ctx)) as library:
        stored = library.add_editor(name, password)
    click.echo(f"editor {stored} can sign in to `wenshi serve --edit`")


@editor.command("list")
@json_option
@click.pass_context
@handle_errors
def editor_list(ctx: click.Context, as_json: bool) -> None:
    """List editors and how many versions each saved.

    Example: wenshi editor list
    """
    with _open(_config(ctx)) as library:
        rows = library.editors()
    if as_json:
        _echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        click.echo(f"{r.name:20} since {r.created_at}  {r.versions} versions saved")
    if not rows:
        click.echo("no editors; add one with `wenshi editor add NAME`")


@editor.command("remove")
@click.argument("name")
@click.pass_context
@handle_errors
def editor_remove(ctx: click.Context, name: str) -> None:
    """Remove an editor account (the versions they saved keep their name).

    Example: wenshi editor remove 王编辑
    """
    with _open(_config(ctx)) as library:
        library.remove_editor(name)
    click.echo(f"removed editor {name}")


@main.group()
def proofread() -> None:
    """Proofreading (校对) outside the reading room: corrections from Word.

    Example: wenshi proofread import 电力工业史-校对.docx --editor 王编辑
    """


@proofread.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--editor", "editor_name", required=True, help="The editor who made the corrections.")
@click.option("--mark-proofread", is_flag=True,
              help="Also mark the corrected pages 已校对 (they leave the 需校对 list).")
@json_option
@click.pass_context
@handle_errors
def proofread_import(ctx: click.Context, file: str, editor_name: str, mark_proofread: bool,
                     as_json: bool) -> None:
    """Read corrections back from a .docx written by `export --format proofread`: each changed
    page becomes a new version by the editor; unchanged pages are left alone; unknown page ids
    and pages changed in the library since the export are reported and skipped (exit 1).

    Example: wenshi proofread import 电力工业史-校对.docx --editor 王编辑
    """
    with _open(_config(ctx)) as library:
        result = library.import_proofread(file, editor=editor_name, mark_proofread=mark_proofread)
    for page_id in result.unknown:
        click.echo(f"{file}: page {page_id}: not in this library; skipped", err=True)
    for conflict in result.conflicts:
        click.echo(f"{file}: page {conflict}; skipped", err=True)
    if as_json:
        _echo_json(result.to_dict())
    else:
        for page_id in result.corrected:
            click.echo(f"corrected  {page_id}")
        click.echo(f"{len(result.corrected)} corrected, {len(result.unchanged)} unchanged, "
                   f"{len(result.unknown)} unknown, {len(result.conflicts)} conflicts")
        if not result.indexed:
            click.echo("an ingest is running: it indexes the corrections before it ends")
    if result.unknown or result.conflicts:
        sys.exit(EXIT_SOME_FAILED)


@main.group("catalog")
def catalog_group() -> None:
    """The catalog as a spreadsheet: export it, edit it in Excel, import the changes.

    Example: wenshi catalog export 电力工业史 -o 目录.xlsx; wenshi catalog import 目录.xlsx
    """


@catalog_group.command("export")
@click.argument("collection")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="The sheet to write: NAME.xlsx or NAME.csv (UTF-8 with BOM).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
@handle_errors
def catalog_export(ctx: click.Context, collection: str, output: str, force: bool) -> None:
    """Write a collection's catalog sheet: one row per document, keyed by 编号 (doc_id).

    Example: wenshi catalog export 电力工业史 -o 目录.xlsx
    """
    with _open(_config(ctx)) as library:
        click.echo(f"wrote {library.export_catalog(collection, output, force=force)}")


@catalog_group.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False))
@click.option("--clear", "clear", multiple=True, metavar="COLUMN",
              help="Empty cells of this column (field name, e.g. notes) clear the value "
                   "(repeatable); otherwise an empty cell leaves the value alone.")
@click.option("--dry-run", is_flag=True, help="Show the changes and write nothing.")
@click.pass_context
@handle_errors
def catalog_import(ctx: click.Context, sheet: str, clear: tuple[str, ...], dry_run: bool) -> None:
    """Apply an edited catalog sheet (.xlsx or .csv): changed cells only, printed as
    `doc_id field: old -> new`. Bad cells and unknown rows or columns are reported (exit 1);
    the good rows still apply.

    Example: wenshi catalog import 目录.xlsx --dry-run
    """
    with _open(_config(ctx)) as library:
        plan = library.import_catalog(sheet, clear=clear, dry_run=dry_run)
    for change in plan.changes:
        click.echo(str(change))
    for problem in plan.problems:
        click.echo(problem, err=True)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{verb} {len(plan.changes)} fields of {plan.documents} documents"
               + (" (dry run: nothing written)" if dry_run else ""))
    if plan.problems:
        sys.exit(EXIT_SOME_FAILED)


def _list_documents(docs: list[Any]) -> None:
    for d in docs:
        click.echo(f"  {d.doc_id}  {d.title}  ({d.collection}, {d.page_count} pages)")


@main.command("rm")
@click.argument("doc_ids", nargs=-1)
@click.option("--query", "-q", default=None, help="Remove the documents this search finds.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.pass_context
@handle_errors
def rm_command(ctx: click.Context, doc_ids: tuple[str, ...], query: str | None, yes: bool,
               dry_run: bool) -> None:
    """Remove documents from the library: catalog, search index, exact index and page files.
    The source files are not touched.

    Example: wenshi rm b5ba023a 41ac8d6f --yes
    """
    with _open(_config(ctx)) as library:
        docs = library.select(doc_ids, query)
        click.echo(f"{'would remove' if dry_run else 'to remove'}: {len(docs)} documents")
        _list_documents(docs)
        if dry_run:
            return
        try:
            agreed = yes or click.confirm("Remove them?", default=False, err=True)
        except click.Abort:
            agreed = False
        if not agreed:
            raise UsageError("nothing removed (answer y, or pass --yes)")
        pages = library.remove([d.doc_id for d in docs])
    click.echo(f"removed {len(docs)} documents ({pages} pages)")


@main.command("move")
@click.argument("doc_ids", nargs=-1)
@click.option("--collection", "-c", required=True, help="The collection to move them to.")
@click.option("--query", "-q", default=None, help="Move the documents this search finds.")
@click.pass_context
@handle_errors
def move_command(ctx: click.Context, doc_ids: tuple[str, ...], collection: str,
                 query: str | None) -> None:
    """Move documents to another collection (created if needed).

    Example: wenshi move b5ba023a --collection 铁路建设史
    """
    with _open(_config(ctx)) as library:
        docs = library.select(doc_ids, query)
        library.move([d.doc_id for d in docs], collection)
    click.echo(f"moved {len(docs)} documents to {collection}:")
    _list_documents(docs)


def run() -> None:
    """The `wenshi` command: `main`, then an exit that skips the interpreter's teardown.

    A command that segmented or tagged leaves jieba's dictionaries, the gazetteer and pypinyin's
    tables in memory, millions of objects; freeing them one by one at interpreter exit took
    0.4-0.8 s after the work was done (measured: an ingest's last page to its exit, a search).
    The exit functions still run (logging, multiprocessing's clean-up of its queues), and the
    output is flushed; then the process ends. With other threads still running, or a profiler
    or tracer watching, the normal exit happens instead."""
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    if threading.active_count() > 1 or sys.getprofile() or sys.gettrace():
        sys.exit(code)  # a profiler or coverage tool writes its results after this returns
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # as `sys.exit("message")` would
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    run()
