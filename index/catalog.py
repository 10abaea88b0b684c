"""The catalog: one SQLite file, the source of truth for documents, pages, tags and errors."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.errors import LibraryError, NotFoundError, UsageError, VersionConflictError
from pipeline.records import Page, Tags

from .faults import out_of_space

from .quality import candidates_sql, needs_proofreading

CATALOG_VERSION = 1
# What the tags column holds for a complete document whose tags the index workers have still to
# make (in their jieba pass, just before it is indexed: see index/writer.py).
_PENDING_TAGS = {"pending": True}


def tags_pending(tags: dict[str, Any]) -> bool:
    """True for the stored tags of a document that is still to be tagged."""
    return bool(tags.get("pending"))


_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    collection TEXT NOT NULL REFERENCES collections(name),
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    size INTEGER NOT NULL,
    page_count INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('partial', 'complete')),
    indexed INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '{}',
    char_count INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_collection ON documents(collection);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    compact TEXT NOT NULL,
    method TEXT NOT NULL,
    confidence REAL,
    lang TEXT NOT NULL DEFAULT '',
    engine TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    char_count INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    error_rate REAL,
    est_errors INTEGER,
    quality_reasons TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (doc_id, number)
);
-- JPEG copies of scanned pages kept for readers (pages/DOC_ID/NNNN.WxH.jpg), largest first
CREATE TABLE IF NOT EXISTS page_images (
    doc_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (doc_id, number, width)
);
-- Fixity: the checksum of every file the library keeps for a page (ALTO, page images), taken
-- when it is written; `wenshi check` reads the files again and compares.
-- A file being rewritten has its new checksum in `pending` until the rename is done, so a crash
-- between the two leaves a file that matches one of them.
CREATE TABLE IF NOT EXISTS fixity (
    name TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    at TEXT NOT NULL,
    pending TEXT NOT NULL DEFAULT '',
    pending_size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS fixity_doc ON fixity(doc_id);
CREATE TABLE IF NOT EXISTS removals (
    doc_id TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_errors (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    doc_id TEXT NOT NULL DEFAULT '',
    collection TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
-- Proofreading (校对). A page's current text stays in pages.text (so every reader, export and
-- the index use it); each correction adds a version here. Version 0 is the OCR text, kept when
-- the first correction is saved; a page without rows here is uncorrected (version 0).
CREATE TABLE IF NOT EXISTS page_versions (
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    editor TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    proofread INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, number, version)
);
CREATE TABLE IF NOT EXISTS editors (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
# The current version of page `p` and its 已校对 flag (each one lookup in the primary key).
_VERSION_OF_P = ("COALESCE((SELECT MAX(v.version) FROM page_versions v"
                 " WHERE v.doc_id = p.doc_id AND v.number = p.number), 0)")
_PROOFREAD_OF_P = ("COALESCE((SELECT v.proofread FROM page_versions v"
                   " WHERE v.doc_id = p.doc_id AND v.number = p.number"
                   " ORDER BY v.version DESC LIMIT 1), 0)")
MAX_PAGE_CHARS = 100_000  # a page's text as an editor may save it


# The page quality estimate (index/quality.py, pipeline/page/quality.py): expected share and
# number of wrong characters, and the reasons (JSON list); NULL: no estimate. In the pages DDL
# for new catalogs too (fewer writes when a catalog is made on a nearly full disk).
# The OCR engine, its model and the clean-up steps that read each page (issue 13).
_ADDED_COLUMNS = (("pages", "engine", "TEXT NOT NULL DEFAULT ''"),
                  ("pages", "model", "TEXT NOT NULL DEFAULT ''"),
                  ("pages", "steps", "TEXT NOT NULL DEFAULT ''"),
                  ("fixity", "pending", "TEXT NOT NULL DEFAULT ''"),
                  ("fixity", "pending_size", "INTEGER NOT NULL DEFAULT 0"),
                  ("pages", "error_rate", "REAL"), ("pages", "est_errors", "INTEGER"),
                  ("pages", "quality_reasons", "TEXT NOT NULL DEFAULT '[]'"))


def char_count(text: str) -> int:
    """字数: characters that are not white space."""
    return sum(1 for ch in text if not ch.isspace())


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class DocumentRow:
    """A document as the catalog stores it (pages not included)."""

    doc_id: str
    seq: int
    collection: str
    path: str
    kind: str
    title: str
    size: int
    page_count: int
    status: str
    indexed: bool
    metadata: dict[str, str]
    tags: dict[str, Any]  # the JSON form of its `Tags` (`{"pending": true}` until tagged)
    char_count: int
    ingested_at: str

    @property
    def tags_pending(self) -> bool:
        """True until the index workers have tagged the document."""
        return tags_pending(self.tags)


@dataclass(frozen=True)
class PageRow:
    """A stored page."""

    doc_id: str
    number: int
    text: str
    method: str
    confidence: float | None
    lang: str
    char_count: int
    error: str
    engine: str = ""  # OCR pages: paddle or tesseract ('' for pages stored before it was kept)
    model: str = ""
    steps: str = ""  # the clean-up steps before the engine, comma-separated
    version: int = 0  # 0: the OCR (or file) text; each saved correction adds one
    proofread: bool = False  # 已校对: an editor marked the current version proofread
    error_rate: float | None = None  # quality estimate: expected share of wrong characters
    est_errors: int | None = None  # expected number of wrong characters
    quality_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageVersion:
    """One version of a page's text: who saved it, when, and whether it was marked 已校对."""

    doc_id: str
    number: int
    version: int
    text: str
    editor: str  # '' for version 0 (the OCR text)
    at: str
    proofread: bool
    source: str  # ocr (version 0), web, docx, revert, cli


@dataclass(frozen=True)
class ImageSize:
    """One kept JPEG copy of a page: its pixel size and its file's length."""

    width: int
    height: int
    bytes: int


class Catalog:
    """Thin typed access to catalog.sqlite. One connection; WAL so readers never block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise LibraryError(f"{path}: cannot open the catalog: {exc}") from exc
        self.db.row_factory = sqlite3.Row
        # SQLite makes its WAL and shared-memory files on opening: a full disk shows here.
        with out_of_space(path.parent, lambda: "nothing was changed"):
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()

    def _migrate(self) -> None:
        self.db.executescript(_DDL)
        # Columns added after a table first shipped (idempotent: only when missing).
        for table, column, ddl in _ADDED_COLUMNS:
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'catalog_version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('catalog_version', ?)",
                            (str(CATALOG_VERSION),))
        elif int(row["value"]) != CATALOG_VERSION:
            raise LibraryError(
                f"{self.path}: catalog version {row['value']}, this Wenshi reads version "
                f"{CATALOG_VERSION}: use a matching Wenshi release"
            )

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def transaction(self) -> "_Transaction":
        """A `with` block that commits on success and rolls back on error."""
        return _Transaction(self.db)

    # -- writing -----------------------------------------------------------------------------

    def begin_document(self, doc_id: str, collection: str, path: str, kind: str, title: str,
                       size: int, page_count: int, metadata: dict[str, str]) -> None:
        """Insert a document in state 'partial' (its pages follow one by one)."""
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO collections VALUES (?, ?)", (collection, _now()))
            seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM documents").fetchone()[0]
            self.db.execute(
                "INSERT INTO documents (doc_id, seq, collection, path, kind, title, size,"
                " page_count, status, metadata, ingested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'partial', ?, ?)",
                (doc_id, seq, collection, path, kind, title, size, page_count,
                 json.dumps(metadata, ensure_ascii=False), _now()),
            )

    def store_page(self, doc_id: str, page: Page, compact: str) -> bool:
        """Insert or replace one page (a retried failed page replaces its earlier row).

        A page an editor corrected keeps its text: only the OCR's fields (method, confidence,
        model, size, error) are replaced. Returns False when a correction was kept so."""
        with self.transaction():
            if self.page_version(doc_id, page.number) > 0:
                self.db.execute(
                    "UPDATE pages SET method = ?, confidence = ?, lang = ?, engine = ?, model = ?,"
                    " steps = ?, width = ?, height = ?, error = ? WHERE doc_id = ? AND number = ?",
                    (page.method, page.confidence, page.lang, page.engine, page.model,
                     ",".join(page.steps), page.width, page.height, page.error, doc_id,
                     page.number))
                self.set_quality(doc_id, page.number, page.error_rate, page.est_errors,
                                 page.quality_reasons)
                return False
            self.db.execute(
                "INSERT OR REPLACE INTO pages (doc_id, number, text, compact, method, confidence,"
                " lang, engine, model, steps, width, height, char_count, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, page.number, page.text, compact, page.method, page.confidence, page.lang,
                 page.engine, page.model, ",".join(page.steps), page.width, page.height,
                 char_count(page.text), page.error),
            )
            self.set_quality(doc_id, page.number, page.error_rate, page.est_errors,
                             page.quality_reasons)
        return True

    def set_quality(self, doc_id: str, number: int, error_rate: float | None,
                    errors: int | None, reasons: tuple[str, ...]) -> None:
        """Store a page's quality estimate (None: no estimate)."""
        self.db.execute("UPDATE pages SET error_rate = ?, est_errors = ?, quality_reasons = ?"
                        " WHERE doc_id = ? AND number = ?",
                        (error_rate, errors, json.dumps(list(reasons), ensure_ascii=False),
                         doc_id, number))

    def pages_without_estimate(self) -> list[tuple[str, int]]:
        """OCR pages stored without a quality estimate (libraries made before it existed)."""
        return [(r[0], int(r[1])) for r in self.db.execute(
            "SELECT doc_id, number FROM pages WHERE method = 'ocr' AND error = ''"
            " AND error_rate IS NULL ORDER BY doc_id, number")]

    def store_page_images(self, doc_id: str, number: int,
                          sizes: Iterable[tuple[int, int, int]]) -> None:
        """Record a page's image copies as (width, height, bytes), replacing earlier ones."""
        with self.transaction():
            self.db.execute("DELETE FROM page_images WHERE doc_id = ? AND number = ?",
                            (doc_id, number))
            self.db.executemany("INSERT INTO page_images VALUES (?, ?, ?, ?, ?)",
                                [(doc_id, number, w, h, n) for w, h, n in sizes])

    def finish_document(self, doc_id: str, tags: Tags | None) -> int:
        """Mark a document complete with its tags (None: pending, the index workers make them);
        returns its 字数."""
        with self.transaction():
            total = self.db.execute(
                "SELECT COALESCE(SUM(char_count), 0) FROM pages WHERE doc_id = ?", (doc_id,)
            ).fetchone()[0]
            self.db.execute(
                "UPDATE documents SET status = 'complete', tags = ?, char_count = ?"
                " WHERE doc_id = ?",
                (_tags_json(tags), total, doc_id),
            )
        return int(total)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document, its pages and their text versions."""
        with self.transaction():
            self.db.execute("DELETE FROM page_versions WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM page_images WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def move_documents(self, doc_ids: list[str], collection: str) -> None:
        """Put documents in another collection (created if needed; emptied ones go); they are
        marked missing from the index until it is rewritten."""
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO collections VALUES (?, ?)", (collection, _now()))
            self.db.executemany("UPDATE documents SET collection = ?, indexed = 0 WHERE doc_id = ?",
                                [(collection, d) for d in doc_ids])
            self._drop_empty_collections()

    def _drop_empty_collections(self) -> None:
        self.db.execute("DELETE FROM collections WHERE name NOT IN"
                        " (SELECT DISTINCT collection FROM documents)")

    def mark_for_removal(self, doc_ids: list[str]) -> None:
        """Record the intent to remove documents before anything is removed (so an interrupted
        `rm` is finished by `check --repair`), and mark them missing from the index."""
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO removals VALUES (?, ?)",
                                [(d, _now()) for d in doc_ids])
            self.db.executemany("UPDATE documents SET indexed = 0 WHERE doc_id = ?",
                                [(d,) for d in doc_ids])

    def pending_removals(self) -> list[str]:
        """Documents an `rm` has begun to remove."""
        return [r[0] for r in self.db.execute("SELECT doc_id FROM removals ORDER BY at, doc_id")]

    def remove_documents(self, doc_ids: list[str]) -> None:
        """Delete documents and every row that names them, in every table, in one transaction."""
        tables = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'documents'")]
        with_doc_id = [t for t in tables
                       if any(c[1] == "doc_id" for c in self.db.execute(f"PRAGMA table_info({t})"))]
        with self.transaction():
            for table in with_doc_id:  # pages, page versions, checksums, errors, removals
                self.db.executemany(f"DELETE FROM {table} WHERE doc_id = ?",
                                    [(d,) for d in doc_ids])
            self.db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in doc_ids])
            self._drop_empty_collections()

    def restore_page_versions(self, doc_id: str, versions: list[dict[str, Any]]) -> None:
        """Put back a page text history (from a bag) as it was: editors, times, flags."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO page_versions (doc_id, number, version, text, editor, at,"
                " proofread, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(doc_id, int(v["number"]), int(v["version"]), str(v["text"]),
                  str(v.get("editor") or ""), str(v.get("at") or _now()),
                  int(bool(v.get("proofread"))), str(v.get("source") or ""))
                 for v in versions])

    def set_ingested_at(self, doc_id: str, when: str) -> None:
        """Keep the first ingest's time on a document restored from a bag."""
        if when:
            with self.transaction():
                self.db.execute("UPDATE documents SET ingested_at = ? WHERE doc_id = ?",
                                (when, doc_id))

    def record_fixity(self, doc_id: str, files: list[tuple[str, str, int]]) -> None:
        """Keep (name relative to the library, sha256, size) of page files just written."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO fixity (name, doc_id, sha256, size, at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(name, doc_id, sha, size, _now()) for name, sha, size in files])

    def expect_fixity(self, doc_id: str, name: str, sha: str, size: int) -> None:
        """Announce the checksum a page file is about to be rewritten with."""
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO fixity (name, doc_id, sha256, size, at)"
                            " VALUES (?, ?, '', 0, ?)", (name, doc_id, _now()))
            self.db.execute("UPDATE fixity SET pending = ?, pending_size = ? WHERE name = ?",
                            (sha, size, name))

    def fixity(self) -> list[tuple[str, str, int, str, int]]:
        """(name, sha256, size, pending sha256, pending size) of every page file with a
        checksum, in name order."""
        return [(r[0], r[1], int(r[2]), r[3], int(r[4])) for r in self.db.execute(
            "SELECT name, sha256, size, pending, pending_size FROM fixity ORDER BY name")]

    def integrity_problems(self) -> list[str]:
        """SQLite's own check of the catalog file: empty when it is sound."""
        rows = [str(r[0]) for r in self.db.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def set_indexed(self, doc_ids: Iterable[str], indexed: bool = True) -> None:
        """Record that the index holds (or no longer holds) these documents."""
        with self.transaction():
            self.db.executemany("UPDATE documents SET indexed = ? WHERE doc_id = ?",
                                [(int(indexed), d) for d in doc_ids])

    def mark_all_tags_pending(self) -> None:
        """Mark every complete document's tags pending and the document missing from the index
        (`reindex --retag`: the index workers tag each document as they index it)."""
        with self.transaction():
            self.db.execute("UPDATE documents SET tags = ?, indexed = 0 WHERE status = 'complete'",
                            (_tags_json(None),))

    def mark_tags_pending(self, doc_id: str) -> None:
        """Mark one document's tags pending and the document missing from the index (the index
        workers retag it as they index it again)."""
        with self.transaction():
            self.db.execute("UPDATE documents SET tags = ?, indexed = 0 WHERE doc_id = ?",
                            (_tags_json(None), doc_id))

    def store_tags(self, tags: dict[str, Tags]) -> None:
        """Store documents' tags (made by the index workers just before they are indexed)."""
        with self.transaction():
            self.db.executemany("UPDATE documents SET tags = ? WHERE doc_id = ?",
                                [(_tags_json(t), d) for d, t in tags.items()])

    def clear_errors(self, doc_id: str) -> None:
        """Forget the recorded ingest failures of a document (a new attempt supersedes them)."""
        with self.transaction():
            self.db.execute("DELETE FROM ingest_errors WHERE doc_id = ?", (doc_id,))

    def record_error(self, path: str, error: str, doc_id: str = "", collection: str = "") -> None:
        """Keep an ingest failure for `stats` and later review."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO ingest_errors (path, doc_id, collection, error, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (path, doc_id, collection, error, _now()),
            )

    def update_document_fields(self, doc_id: str, title: str | None = None,
                               metadata: dict[str, str] | None = None,
                               tags: Tags | None = None) -> None:
        """Change catalog fields of a document without touching its pages."""
        with self.transaction():
            if title is not None:
                self.db.execute("UPDATE documents SET title = ? WHERE doc_id = ?", (title, doc_id))
            if metadata is not None:
                self.db.execute("UPDATE documents SET metadata = ? WHERE doc_id = ?",
                                (json.dumps(metadata, ensure_ascii=False), doc_id))
            if tags is not None:
                self.db.execute("UPDATE documents SET tags = ? WHERE doc_id = ?",
                                (_tags_json(tags), doc_id))
            self.db.execute("UPDATE documents SET indexed = 0 WHERE doc_id = ?", (doc_id,))

    # -- reading -----------------------------------------------------------------------------

    def document(self, doc_id: str, prefix: bool = True) -> DocumentRow | None:
        """One document by id (or, with `prefix`, by a unique id prefix), or None.

        The prefix lookup reads every row of the table (LIKE with a bound pattern cannot use the
        index): an ingest asking after each new file with it spent 7.5% of the writer's time
        there on the 1亿 set, more the bigger the library (benchmarks/README.md, issue 18)."""
        row = self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None and prefix and len(doc_id) >= 6:
            rows = self.db.execute("SELECT * FROM documents WHERE doc_id LIKE ? || '%' LIMIT 2",
                                   (doc_id,)).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return _document_row(row) if row is not None else None

    def documents(self, collection: str | None = None, status: str | None = "complete",
                  indexed: bool | None = None) -> Iterator[DocumentRow]:
        """Documents in ingest order, optionally filtered."""
        sql, args = "SELECT * FROM documents WHERE 1=1", []  # type: tuple[str, list[Any]]
        if collection is not None:
            sql += " AND collection = ?"
            args.append(collection)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if indexed is not None:
            sql += " AND indexed = ?"
            args.append(int(indexed))
        for row in self.db.execute(sql + " ORDER BY seq", args).fetchall():
            yield _document_row(row)

    def complete_page_ids(self) -> set[str]:
        """The index ids (doc_id#page) of every stored page of every complete document."""
        return {f"{r[0]}#{r[1]}" for r in self.db.execute(
            "SELECT p.doc_id, p.number FROM pages p JOIN documents d USING (doc_id)"
            " WHERE d.status = 'complete'")}

    def doc_ids(self) -> set[str]:
        """Ids of every document, complete or not."""
        return {r[0] for r in self.db.execute("SELECT doc_id FROM documents")}

    def page_count(self) -> int:
        """Pages stored, of every document."""
        return int(self.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0])

    def document_pages_for_bag(self, doc_id: str) -> tuple[list[dict[str, Any]],
                                                           list[dict[str, Any]]]:
        """A document's page rows and text versions as plain dicts (for a BagIt package)."""
        pages = [dict(r) for r in self.db.execute(
            "SELECT number, text, method, confidence, lang, width, height, error FROM pages"
            " WHERE doc_id = ? ORDER BY number", (doc_id,))]
        versions = [dict(r) for r in self.db.execute(
            "SELECT number, version, text, editor, at, proofread, source FROM page_versions"
            " WHERE doc_id = ? ORDER BY number, version", (doc_id,))]
        return pages, versions

    def page_numbers(self, doc_ids: list[str]) -> list[tuple[int, int]]:
        """(document seq, page number) of every stored page of these documents."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT d.seq, p.number FROM pages p JOIN documents d USING (doc_id)"
            f" WHERE doc_id IN ({','.join('?' * len(doc_ids))})", doc_ids)]

    def complete_doc_ids(self) -> set[str]:
        """Ids of the complete documents."""
        return {r[0] for r in self.db.execute(
            "SELECT doc_id FROM documents WHERE status = 'complete'")}

    def partial_paths(self) -> tuple[str, ...]:
        """Source paths of the documents an interrupted ingest left partial, in ingest order."""
        return tuple(r[0] for r in self.db.execute(
            "SELECT path FROM documents WHERE status = 'partial' ORDER BY seq"))

    def unindexed_doc_ids(self) -> tuple[str, ...]:
        """Complete documents not marked indexed, in ingest order."""
        return tuple(r[0] for r in self.db.execute(
            "SELECT doc_id FROM documents WHERE status = 'complete' AND indexed = 0 ORDER BY seq"))

    def failed_page_count(self) -> int:
        """Pages stored with an error."""
        return int(self.db.execute("SELECT COUNT(*) FROM pages WHERE error != ''").fetchone()[0])

    def pages(self, doc_id: str, numbers: tuple[int, int] | None = None) -> list[PageRow]:
        """A document's stored pages in page order (those numbered first..last of `numbers`)."""
        where, args = ("", ()) if numbers is None else (" AND p.number BETWEEN ? AND ?", numbers)
        rows = self.db.execute(
            "SELECT p.doc_id, p.number, p.text, p.method, p.confidence, p.lang, p.char_count,"
            " p.error, p.engine, p.model, p.steps,"
            f" {_VERSION_OF_P} AS version, {_PROOFREAD_OF_P} AS proofread,"
            " p.error_rate, p.est_errors, p.quality_reasons"
            f" FROM pages p WHERE p.doc_id = ?{where} ORDER BY p.number",
            (doc_id, *args)).fetchall()
        return [PageRow(**{**dict(r), "proofread": bool(r["proofread"]),
                           "quality_reasons": tuple(json.loads(r["quality_reasons"] or "[]"))})
                for r in rows]

    def page_chunks(self, doc_id: str, max_pages: int, max_chars: int) -> Iterator[list[PageRow]]:
        """A document's stored pages in page order, read a run of at most `max_pages` pages and
        `max_chars` characters of text at a time (a page bigger than that comes alone)."""
        sizes = self.db.execute("SELECT number, length(text) FROM pages WHERE doc_id = ?"
                                " ORDER BY number", (doc_id,)).fetchall()
        start = chars = count = 0
        for i, (_number, size) in enumerate(sizes):
            if count and (count >= max_pages or chars + size > max_chars):
                yield self.pages(doc_id, (sizes[start][0], sizes[i - 1][0]))
                start, chars, count = i, 0, 0
            chars += size
            count += 1
        if count:
            yield self.pages(doc_id, (sizes[start][0], sizes[-1][0]))

    def stored_page_numbers(self, doc_id: str, include_failed: bool = False) -> set[int]:
        """Numbers of the pages already stored for a document (failed ones only if asked).

        A corrected page counts as stored even if its OCR failed: an editor gave its text."""
        sql = ("SELECT number FROM pages p WHERE doc_id = ?"
               + ("" if include_failed else
                  " AND (error = '' OR EXISTS (SELECT 1 FROM page_versions v"
                  " WHERE v.doc_id = p.doc_id AND v.number = p.number))"))
        return {r[0] for r in self.db.execute(sql, (doc_id,))}

    def page_texts(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """Original text of the given (doc_id, page) keys."""
        return self._page_column("text", keys)

    def page_compacts(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """Compact search form of the given (doc_id, page) keys."""
        return self._page_column("compact", keys)

    def _page_column(self, column: str, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        out: dict[tuple[str, int], str] = {}
        by_doc: dict[str, list[int]] = {}
        for doc_id, number in keys:
            by_doc.setdefault(doc_id, []).append(number)
        for doc_id, numbers in by_doc.items():
            for start in range(0, len(numbers), 500):
                chunk = numbers[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for r in self.db.execute(
                    f"SELECT number, {column} FROM pages WHERE doc_id = ? AND number IN ({marks})",
                    (doc_id, *chunk),
                ):
                    out[(doc_id, r[0])] = r[1]
        return out

    def page_images(self, doc_id: str) -> dict[int, list[ImageSize]]:
        """A document's kept page images: page number -> sizes, largest first."""
        out: dict[int, list[ImageSize]] = {}
        for r in self.db.execute(
                "SELECT number, width, height, bytes FROM page_images WHERE doc_id = ?"
                " ORDER BY number, width DESC", (doc_id,)):
            out.setdefault(r[0], []).append(ImageSize(r[1], r[2], r[3]))
        return out

    def page_dimensions(self, doc_id: str) -> dict[int, tuple[int, int]]:
        """Width and height in pixels of each scanned page as read (0, 0 for text pages)."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT number, width, height FROM pages WHERE doc_id = ?", (doc_id,))}

    def scanned_pages_without_images(self) -> list[tuple[str, int]]:
        """(doc_id, page) of complete documents' OCR pages that have no kept image."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT p.doc_id, p.number FROM pages p JOIN documents d USING (doc_id)"
            " WHERE d.status = 'complete' AND p.method = 'ocr' AND p.error = ''"
            " AND NOT EXISTS (SELECT 1 FROM page_images i"
            "                 WHERE i.doc_id = p.doc_id AND i.number = p.number)"
            " ORDER BY d.seq, p.number")]

    def all_page_images(self) -> Iterator[tuple[str, int, ImageSize]]:
        """Every kept page image of a complete document: (doc_id, page, size)."""
        for r in self.db.execute(
                "SELECT i.doc_id, i.number, i.width, i.height, i.bytes FROM page_images i"
                " JOIN documents d USING (doc_id) WHERE d.status = 'complete'"
                " ORDER BY d.seq, i.number, i.width DESC"):
            yield r[0], r[1], ImageSize(r[2], r[3], r[4])

    def collections(self) -> list[dict[str, Any]]:
        """Each collection with its document, page and 字数 totals."""
        rows = self.db.execute(
            "SELECT c.name AS name, COUNT(d.doc_id) AS documents,"
            " COALESCE(SUM(d.page_count), 0) AS pages, COALESCE(SUM(d.char_count), 0) AS characters"
            " FROM collections c LEFT JOIN documents d"
            " ON d.collection = c.name AND d.status = 'complete'"
            " GROUP BY c.name ORDER BY c.name").fetchall()
        return [dict(r) for r in rows]

    def errors(self, collection: str | None = None) -> list[dict[str, Any]]:
        """Recorded ingest failures, newest last."""
        sql, args = "SELECT path, doc_id, collection, error, at FROM ingest_errors", []
        if collection is not None:
            sql += " WHERE collection = ?"
            args.append(collection)
        return [dict(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def failed_pages(self, collection: str | None = None) -> list[dict[str, Any]]:
        """Pages stored with an error (OCR crash or timeout), for `stats` and retries."""
        sql = ("SELECT p.doc_id, d.path, p.number, p.error"
               " FROM pages p JOIN documents d USING (doc_id)"
               " WHERE p.error != ''")
        args: list[Any] = []
        if collection is not None:
            sql += " AND d.collection = ?"
            args.append(collection)
        return [dict(r) for r in self.db.execute(sql + " ORDER BY d.seq, p.number", args)]

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version`: changes when another connection commits to the
        catalog (an ingest, an editor's save), not when this one does."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def proofreading_pages(self, threshold: float,
                           collection: str | None = None) -> list[dict[str, Any]]:
        """Pages that need proofreading (需校对, the rule of `index/quality.py`) of complete
        documents (those `collections` counts and the reading room shows): most estimated wrong
        characters first (pages without an estimate after them, in archive order)."""
        sql = ("SELECT p.doc_id, d.title, d.path, d.collection, p.number, p.confidence, p.method,"
               " p.error, p.error_rate, p.est_errors, p.quality_reasons,"
               f" {_PROOFREAD_OF_P} AS proofread FROM pages p JOIN documents d USING (doc_id)"
               " WHERE d.status = 'complete'")
        narrow, args_of_rule = candidates_sql(threshold)
        sql += " AND " + narrow
        args: list[Any] = list(args_of_rule)
        if collection is not None:
            sql += " AND d.collection = ?"
            args.append(collection)
        listed = []
        for r in self.db.execute(sql + " ORDER BY d.seq, p.number", args):
            reasons = tuple(json.loads(r["quality_reasons"] or "[]"))
            if needs_proofreading(_RowPage(r["method"], r["confidence"], r["error"],
                                           bool(r["proofread"]), r["error_rate"], reasons),
                                  threshold):
                listed.append({"doc_id": r["doc_id"], "title": r["title"], "path": r["path"],
                               "collection": r["collection"], "number": r["number"],
                               "confidence": r["confidence"], "error_rate": r["error_rate"],
                               "est_errors": r["est_errors"], "reasons": reasons})
        # Stable sort: worst first; pages without an estimate keep archive order at the end.
        listed.sort(key=lambda d: -1 if d["est_errors"] is None else -d["est_errors"])
        listed.sort(key=lambda d: d["est_errors"] is None)
        return listed

    # -- proofreading: page text versions and editors ----------------------------------------

    def page_version(self, doc_id: str, number: int) -> int:
        """The current version of a page's text (0: never corrected)."""
        row = self.db.execute("SELECT MAX(version) FROM page_versions WHERE doc_id = ?"
                              " AND number = ?", (doc_id, number)).fetchone()
        return int(row[0] or 0)

    def page(self, doc_id: str, number: int) -> PageRow | None:
        """One stored page, with its version and 已校对 flag, or None."""
        return next((p for p in self.pages(doc_id) if p.number == number), None)

    def page_history(self, doc_id: str, number: int) -> list[PageVersion]:
        """Every version of a page's text, oldest first (only version 0 if never corrected)."""
        rows = self.db.execute(
            "SELECT doc_id, number, version, text, editor, at, proofread, source"
            " FROM page_versions WHERE doc_id = ? AND number = ? ORDER BY version",
            (doc_id, number)).fetchall()
        if rows:
            return [_version_row(r) for r in rows]
        row = self.db.execute(
            "SELECT p.text, d.ingested_at FROM pages p JOIN documents d USING (doc_id)"
            " WHERE p.doc_id = ? AND p.number = ?", (doc_id, number)).fetchone()
        if row is None:
            return []
        return [PageVersion(doc_id, number, 0, row[0], "", row[1], False, "ocr")]

    def corrected_pages(self, doc_id: str | None = None) -> set[tuple[str, int]]:
        """(doc_id, page) of every page that has a saved correction."""
        sql = "SELECT DISTINCT doc_id, number FROM page_versions"
        args: list[Any] = []
        if doc_id is not None:
            sql += " WHERE doc_id = ?"
            args.append(doc_id)
        return {(r[0], int(r[1])) for r in self.db.execute(sql, args)}

    def save_page_text(self, doc_id: str, number: int, text: str, compact: str, editor: str,
                       base_version: int, proofread: bool, source: str) -> PageVersion | None:
        """Store `text` as a new version of a page, in one transaction with the page row and
        its document's 字数. `base_version` is the version the editor started from: if another
        save came first, VersionConflictError carries that version. Returns the new version,
        or None when neither the text nor the 已校对 flag changed."""
        if len(text) > MAX_PAGE_CHARS:
            raise UsageError(f"page {doc_id}#{number}: {len(text)} characters; a page may hold "
                             f"at most {MAX_PAGE_CHARS}")
        with self.transaction():
            row = self.db.execute(
                "SELECT p.text, d.ingested_at FROM pages p JOIN documents d USING (doc_id)"
                " WHERE p.doc_id = ? AND p.number = ?", (doc_id, number)).fetchone()
            if row is None:
                raise NotFoundError(f"no page {number} in document {doc_id!r}")
            history = self.page_history(doc_id, number)
            current = history[-1]
            if base_version != current.version:
                raise VersionConflictError(
                    f"page {doc_id}#{number} was saved as version {current.version} by "
                    f"{current.editor or 'the OCR'} at {current.at} while you edited version "
                    f"{base_version}; reload it and apply your change again",
                    {"version": current.version, "editor": current.editor, "at": current.at,
                     "text": current.text, "proofread": current.proofread})
            if text == current.text and proofread == current.proofread:
                return None
            at = _now()
            if current.version == 0:  # keep the OCR text as version 0
                self.db.execute(
                    "INSERT INTO page_versions (doc_id, number, version, text, editor, at,"
                    " proofread, source) VALUES (?, ?, 0, ?, '', ?, 0, 'ocr')",
                    (doc_id, number, row[0], row[1]))
            new = PageVersion(doc_id, number, current.version + 1, text, editor, at, proofread,
                              source)
            self.db.execute(
                "INSERT INTO page_versions (doc_id, number, version, text, editor, at, proofread,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, number, new.version, text, editor, at, int(proofread), source))
            self.db.execute("UPDATE pages SET text = ?, compact = ?, char_count = ?"
                            " WHERE doc_id = ? AND number = ?",
                            (text, compact, char_count(text), doc_id, number))
            self.db.execute(
                "UPDATE documents SET indexed = 0, char_count = (SELECT COALESCE(SUM(char_count),"
                " 0) FROM pages WHERE doc_id = ?) WHERE doc_id = ?", (doc_id, doc_id))
        return new

    def add_editor(self, name: str, password_hash: str) -> None:
        """Add an editor account (or give an existing one a new password)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO editors (name, password_hash, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
                (name, password_hash, _now()))

    def remove_editor(self, name: str) -> bool:
        """Remove an editor account (their saved versions keep their name). False if unknown."""
        with self.transaction():
            return self.db.execute("DELETE FROM editors WHERE name = ?", (name,)).rowcount > 0

    def editors(self) -> list[dict[str, Any]]:
        """Editor accounts (names and creation times; never the hashes), with their saves."""
        return [dict(r) for r in self.db.execute(
            "SELECT e.name, e.created_at, (SELECT COUNT(*) FROM page_versions v"
            " WHERE v.editor = e.name) AS versions FROM editors e ORDER BY e.name")]

    def editor_hash(self, name: str) -> str | None:
        """The stored password hash of an editor, or None."""
        row = self.db.execute("SELECT password_hash FROM editors WHERE name = ?",
                              (name,)).fetchone()
        return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class _RowPage:
    method: str
    confidence: float | None
    error: str
    proofread: bool
    error_rate: float | None = None
    quality_reasons: tuple[str, ...] = ()


def _version_row(row: sqlite3.Row) -> PageVersion:
    return PageVersion(row["doc_id"], int(row["number"]), int(row["version"]), row["text"],
                       row["editor"], row["at"], bool(row["proofread"]), row["source"])


def _tags_json(tags: Tags | None) -> str:
    return json.dumps(_PENDING_TAGS if tags is None else tags.to_dict(), ensure_ascii=False)


def _document_row(row: sqlite3.Row) -> DocumentRow:
    data = dict(row)
    data["metadata"] = json.loads(data["metadata"])
    data["tags"] = json.loads(data["tags"])
    data["indexed"] = bool(data["indexed"])
    return DocumentRow(**data)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error; nests by doing nothing inside."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.outer:
            return
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
