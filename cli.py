"""The `wenshi` command: parse options, call index.api, format the result. Nothing else."""

from __future__ import annotations

import functools
import json
import logging
import sys
from typing import Any, Callable, TypeVar

import click

from index import api
from index.search import MARK_END, MARK_START, SearchRequest
from pipeline.config import LANG_CHOICES, Config
from pipeline.errors import WenshiError

F = TypeVar("F", bound=Callable[..., Any])
EXIT_SOME_FAILED = 1


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _config(ctx: click.Context, **overrides: Any) -> Config:
    return Config.resolve(library=ctx.obj["library"], **overrides)


def json_option(func: F) -> F:
    """The shared --json flag."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (UTF-8, unescaped).")(func)


def handle_errors(func: F) -> F:
    """Turn WenshiError into one `Error: ...` line and its exit code; tracebacks only with --verbose."""
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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--collection", "-c", required=True, help="Collection to add the documents to.")
@click.option("--lang", type=click.Choice(LANG_CHOICES), default=None,
              help="Tesseract model (default chi_sim).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="OCR worker processes (default: all cores).")
@click.option("--metadata", "metadata_csv", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Catalog sheet (CSV, UTF-8 or GBK): file,title,collection,contributor,region,volume,date,doctype,notes.")
@json_option
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, paths: tuple[str, ...], collection: str, lang: str | None,
           jobs: int | None, metadata_csv: str | None, as_json: bool) -> None:
    """Ingest files and folders (images, PDFs, .docx, .txt/.md) into a collection.

    Example: wenshi ingest scans/ drafts/县电厂.docx --collection 电力工业史
    """
    cfg = _config(ctx, lang=lang, jobs=jobs)
    summary = api.ingest(cfg, paths, collection, metadata_csv=metadata_csv)
    failed = [o for o in summary.outcomes if o.status == "failed"]
    for o in failed:
        click.echo(f"{o.path}: {o.error}", err=True)
    if as_json:
        _echo_json({
            "ingested": summary.count("ingested"), "skipped": summary.count("skipped"),
            "pages": summary.pages, "characters": summary.characters,
            "failed": [{"path": o.path, "error": o.error} for o in failed],
            "unsupported": [o.path for o in summary.outcomes if o.status == "unsupported"],
            "documents": [{"path": o.path, "doc_id": o.doc_id, "status": o.status, "pages": o.pages}
                          for o in summary.outcomes if o.status != "unsupported"],
            "elapsed": round(summary.elapsed, 2),
        })
    else:
        for o in summary.outcomes:
            if o.status == "ingested":
                click.echo(f"ingested     {o.path}  ({o.pages} pages, {o.characters} 字, id {o.doc_id})")
            elif o.status == "skipped":
                click.echo(f"skipped      {o.path}  (already in the library, id {o.doc_id})")
            elif o.status == "unsupported":
                click.echo(f"unsupported  {o.path}")
        click.echo(f"{summary.count('ingested')} ingested, {summary.count('skipped')} skipped, "
                   f"{len(failed)} failed, {summary.count('unsupported')} unsupported; "
                   f"{summary.pages} pages, {summary.characters} characters in {summary.elapsed:.1f} s")
    if failed:
        sys.exit(EXIT_SOME_FAILED)


@main.command()
@click.argument("query")
@click.option("--collection", "-c", default=None, help="Only this collection.")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=10, show_default=True,
              help="Hits to show (0: all).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits.")
@click.option("--sort", type=click.Choice(["relevance", "year", "title", "document"]), default="relevance",
              show_default=True)
@json_option
@click.pass_context
@handle_errors
def search(ctx: click.Context, query: str, collection: str | None, limit: int, offset: int,
           sort: str, as_json: bool) -> None:
    """Full-text search; "quoted strings" match exactly, across word boundaries.

    Example: wenshi search '"发电机组" year:1950-1960' --collection 电力工业史
    """
    results = api.search(_config(ctx), SearchRequest(query, collection, limit, offset, sort))
    if as_json:
        _echo_json({"total": results.total, "hits": [
            {"doc_id": h.doc_id, "title": h.title, "collection": h.collection, "page": h.page,
             "snippet": h.snippet, "score": h.score, "matches": [list(m) for m in h.matches]}
            for h in results.hits]})
        return
    color = sys.stdout.isatty()
    for n, h in enumerate(results.hits, start=offset + 1):
        snippet = h.snippet
        if color:
            snippet = snippet.replace(MARK_START, "\x1b[1;33m").replace(MARK_END, "\x1b[0m")
        click.echo(f"{n}. {h.title} | {h.collection} | page {h.page} | score {h.score:.2f} | {h.doc_id}")
        click.echo(f"   {snippet}")
    shown = len(results.hits)
    click.echo(f"{results.total} matching pages" + (f", showing {offset + 1}-{offset + shown}" if shown else ""))


@main.command()
@click.argument("doc_id")
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, doc_id: str, as_json: bool) -> None:
    """Show a document: catalog fields, tags, and each page's text.

    Example: wenshi show 3f2a9c1d07b4e6a1
    """
    cfg = _config(ctx)
    doc = api.show(cfg, doc_id)
    if as_json:
        _echo_json(doc)
        return
    for key in ("doc_id", "title", "collection", "path", "kind", "page_count", "char_count"):
        click.echo(f"{key:12} {doc[key]}")
    for key, value in doc["metadata"].items():
        click.echo(f"{key:12} {value}")
    for key, value in doc["tags"].items():
        click.echo(f"tag {key:8} {value}")
    for page in doc["pages"]:
        conf = f", confidence {page['confidence']:.0f}" if page["confidence"] is not None else ""
        flag = "  需校对" if page["needs_proofreading"] else ""
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
    rows = api.collections(_config(ctx))
    if as_json:
        _echo_json(rows)
        return
    click.echo(f"{'collection':24} {'documents':>9} {'pages':>7} {'字数':>10}")
    for r in rows:
        click.echo(f"{r['name']:24} {r['documents']:>9} {r['pages']:>7} {r['characters']:>10}")


@main.command()
@click.option("--collection", "-c", default=None, help="Only this collection.")
@json_option
@click.pass_context
@handle_errors
def stats(ctx: click.Context, collection: str | None, as_json: bool) -> None:
    """Documents, pages and 字数 per collection; failures; pages needing proofreading (需校对).

    Example: wenshi stats --collection 铁路建设史
    """
    data = api.stats(_config(ctx), collection)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{'collection':24} {'documents':>9} {'pages':>7} {'字数':>10}")
    for r in data["collections"]:
        click.echo(f"{r['name']:24} {r['documents']:>9} {r['pages']:>7} {r['characters']:>10}")
    click.echo(f"{'total':24} {data['documents']:>9} {data['pages']:>7} {data['characters']:>10}")
    if data["failures"]:
        click.echo(f"\ningest failures ({len(data['failures'])}):")
        for f in data["failures"]:
            click.echo(f"  {f['path']}: {f['error']}")
    if data["failed_pages"]:
        click.echo(f"\nfailed pages ({len(data['failed_pages'])}):")
        for p in data["failed_pages"]:
            click.echo(f"  {p['path']} page {p['number']}: {p['error']}")
    if data["proofreading"]:
        click.echo(f"\npages needing proofreading (需校对, confidence < {data['proofread_threshold']:.0f}):")
        for p in data["proofreading"]:
            click.echo(f"  {p['doc_id']} {p['title']} page {p['number']} (confidence {p['confidence']:.0f})")


@main.command()
@click.option("--retag", is_flag=True, help="Recompute automatic tags from the catalog text first.")
@click.pass_context
@handle_errors
def reindex(ctx: click.Context, retag: bool) -> None:
    """Rebuild the search index from the catalog (no OCR).

    Example: wenshi reindex --retag
    """
    pages = api.reindex(_config(ctx), retag=retag)
    click.echo(f"reindexed {pages} pages" + (" with fresh tags" if retag else ""))


@main.command("tag")
@click.argument("doc_id")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="Catalog field (title, contributor, region, volume, date, doctype, notes, ...) "
                   "or tag (period, subjects, persons, places, organizations, keywords, years; "
                   "lists comma-separated).")
@json_option
@click.pass_context
@handle_errors
def tag_command(ctx: click.Context, doc_id: str, assignments: tuple[str, ...], as_json: bool) -> None:
    """Correct a document's catalog fields or tags without re-OCR.

    Example: wenshi tag b5ba023a --set contributor=王德明 --set period=建国前
    """
    doc = api.tag(_config(ctx), doc_id, assignments)
    if as_json:
        _echo_json({k: doc[k] for k in ("doc_id", "title", "metadata", "tags")})
        return
    click.echo(f"updated {doc['doc_id']} {doc['title']}")
    for key, value in doc["metadata"].items():
        click.echo(f"  {key:12} {value}")


@main.command("ocr")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", type=click.Choice(LANG_CHOICES), default=None, help="Tesseract model.")
@click.pass_context
@handle_errors
def ocr_command(ctx: click.Context, file: str, lang: str | None) -> None:
    """OCR one file without a library; pages are separated by a form feed.

    Example: wenshi ocr 'samples/power/县电厂 回忆录.png'
    """
    pages = api.ocr_file(_config(ctx, lang=lang), file)
    failed = [p for p in pages if p.error]
    click.echo("\f".join(p.text for p in pages))
    for p in failed:
        click.echo(f"{file}: page {p.number}: {p.error}", err=True)
    if failed:
        sys.exit(EXIT_SOME_FAILED)


if __name__ == "__main__":
    main()
