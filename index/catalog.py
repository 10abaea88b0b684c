"""The catalog: one SQLite file, the source of truth for documents, pages, tags and errors."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.errors import LibraryError
from pipeline.records import Page

from .quality import needs_proofreading

CATALOG_VERSION = 1

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
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    char_count INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, number)
);
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
"""


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
    tags: dict[str, Any]
    char_count: int
    ingested_at: str


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


class Catalog:
    """Thin typed access to catalog.sqlite. One connection; WAL so readers never block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise LibraryError(f"{path}: cannot open the catalog: {exc}") from exc
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        self.db.executescript(_DDL)
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

    def store_page(self, doc_id: str, page: Page, compact: str) -> None:
        """Insert or replace one page (a retried failed page replaces its earlier row)."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO pages (doc_id, number, text, compact, method, confidence,"
                " lang, width, height, char_count, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, page.number, page.text, compact, page.method, page.confidence, page.lang,
                 page.width, page.height, char_count(page.text), page.error),
            )

    def finish_document(self, doc_id: str, tags: dict[str, Any]) -> int:
        """Mark a document complete; returns its 字数."""
        with self.transaction():
            total = self.db.execute(
                "SELECT COALESCE(SUM(char_count), 0) FROM pages WHERE doc_id = ?", (doc_id,)
            ).fetchone()[0]
            self.db.execute(
                "UPDATE documents SET status = 'complete', tags = ?, char_count = ?"
                " WHERE doc_id = ?",
                (json.dumps(tags, ensure_ascii=False), total, doc_id),
            )
        return int(total)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document and its pages."""
        with self.transaction():
            self.db.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
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

    def integrity_problems(self) -> list[str]:
        """SQLite's own check of the catalog file: empty when it is sound."""
        rows = [str(r[0]) for r in self.db.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def set_indexed(self, doc_ids: Iterable[str], indexed: bool = True) -> None:
        """Record that the index holds (or no longer holds) these documents."""
        with self.transaction():
            self.db.executemany("UPDATE documents SET indexed = ? WHERE doc_id = ?",
                                [(int(indexed), d) for d in doc_ids])

    def replace_all_tags(self, tags: dict[str, Any]) -> None:
        """Set every complete document's tags to `tags`, and mark it missing from the index."""
        with self.transaction():
            self.db.execute("UPDATE documents SET tags = ?, indexed = 0 WHERE status = 'complete'",
                            (json.dumps(tags, ensure_ascii=False),))

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
                               tags: dict[str, Any] | None = None) -> None:
        """Change catalog fields of a document without touching its pages."""
        with self.transaction():
            if title is not None:
                self.db.execute("UPDATE documents SET title = ? WHERE doc_id = ?", (title, doc_id))
            if metadata is not None:
                self.db.execute("UPDATE documents SET metadata = ? WHERE doc_id = ?",
                                (json.dumps(metadata, ensure_ascii=False), doc_id))
            if tags is not None:
                self.db.execute("UPDATE documents SET tags = ? WHERE doc_id = ?",
                                (json.dumps(tags, ensure_ascii=False), doc_id))
            self.db.execute("UPDATE documents SET indexed = 0 WHERE doc_id = ?", (doc_id,))

    # -- reading -----------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentRow | None:
        """One document by id (or by a unique id prefix), or None."""
        row = self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None and len(doc_id) >= 6:
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

    def pages(self, doc_id: str) -> list[PageRow]:
        """A document's stored pages in page order."""
        rows = self.db.execute(
            "SELECT doc_id, number, text, method, confidence, lang, char_count, error FROM pages"
            " WHERE doc_id = ? ORDER BY number", (doc_id,)).fetchall()
        return [PageRow(**dict(r)) for r in rows]

    def stored_page_numbers(self, doc_id: str, include_failed: bool = False) -> set[int]:
        """Numbers of the pages already stored for a document (failed ones only if asked)."""
        sql = ("SELECT number FROM pages WHERE doc_id = ?"
               + ("" if include_failed else " AND error = ''"))
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

    def proofreading_pages(self, threshold: float,
                           collection: str | None = None) -> list[dict[str, Any]]:
        """Pages that need proofreading (需校对, the rule of `index/quality.py`), in archive order."""
        sql = ("SELECT p.doc_id, d.title, d.path, p.number, p.confidence, p.method, p.error"
               " FROM pages p JOIN documents d USING (doc_id)")
        args: list[Any] = []
        if collection is not None:
            sql += " WHERE d.collection = ?"
            args.append(collection)
        return [{"doc_id": r["doc_id"], "title": r["title"], "path": r["path"],
                 "number": r["number"], "confidence": r["confidence"]}
                for r in self.db.execute(sql + " ORDER BY d.seq, p.number", args)
                if needs_proofreading(_RowPage(r["method"], r["confidence"], r["error"]),
                                      threshold)]


@dataclass(frozen=True)
class _RowPage:
    method: str
    confidence: float | None
    error: str


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
