"""Proofreading (校对): editors, saving a corrected page text as a new version, re-aligning the
page's ALTO, replacing its index entries, and reading corrections back from a .docx.

A save is one catalog transaction (the version row, the page's text and its document's 字数);
the ALTO and the index follow it. The index needs the ingest lock: while an ingest holds it, the
saved page is left marked unindexed, and the ingest indexes it before it ends (or `wenshi check
--repair` does)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from lxml import etree

from pipeline.errors import LibraryError, NotFoundError, UsageError

from .analysis import compact_search_form
from .catalog import PageVersion
from .library import LibraryFolder

# scrypt at n=2**14, r=8, p=1: 16 MB and ~50 ms a hash (the parameters OWASP lists as minimum
# are n=2**17; a sign-in form of a local reading room is not an online service's login page,
# and 2**15 would need maxmem raised). Stored with its parameters, so they can grow later.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2 ** 14, 8, 1
_NAME = re.compile(r"^[\w.@-]{1,64}$")
PAGE_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{16})#(\d+)(?:\s*v(\d+))?")
MIN_PASSWORD = 8
SOURCES = ("web", "docx", "revert", "cli")
INDEX_WAIT = 10.0  # seconds a save waits for the ingest lock (a `check --repair` holds it briefly)
_INDEX_TURN = threading.Lock()  # one index refresh at a time in this process (the web server)


# -- editors ---------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """A salted scrypt hash with its parameters: scrypt$n$r$p$salt$hash (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a hash made by `hash_password` (constant-time compare)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        found = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def check_editor_name(name: str) -> str:
    """An editor name as stored: NFC, letters, digits and . _ @ - (Chinese names are letters)."""
    name = unicodedata.normalize("NFC", name.strip())
    if not _NAME.match(name):
        raise UsageError(f"editor name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def add_editor(library: LibraryFolder, name: str, password: str) -> str:
    """Create an editor account (or set a new password); returns the stored name."""
    name = check_editor_name(name)
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must have at least {MIN_PASSWORD} characters")
    library.catalog.add_editor(name, hash_password(password))
    return name


def authenticate(library: LibraryFolder, name: str, password: str) -> str | None:
    """The editor's stored name when name and password match an account, else None."""
    try:
        name = check_editor_name(name)
    except UsageError:
        return None
    stored = library.catalog.editor_hash(name)
    if stored is None:
        verify_password(password, hash_password("x" * MIN_PASSWORD))  # same time either way
        return None
    return name if verify_password(password, stored) else None


def require_editor(library: LibraryFolder, name: str) -> str:
    """The stored name of an existing editor; NotFoundError naming the fix otherwise."""
    name = check_editor_name(name)
    if library.catalog.editor_hash(name) is None:
        raise NotFoundError(f"no editor {name!r}; add one with `wenshi editor add {name}`")
    return name


# -- saving ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SaveOutcome:
    """What a save did: the new version (None: nothing changed) and whether the index has it."""

    doc_id: str
    number: int
    version: PageVersion | None
    indexed: bool


def save_text(library: LibraryFolder, doc_id: str, number: int, text: str, editor: str,
              base_version: int, proofread: bool, source: str) -> PageVersion | None:
    """Store a corrected page text (catalog transaction, then the ALTO). The index is
    `refresh_index`'s work."""
    if source not in SOURCES:
        raise UsageError(f"unknown save source {source!r}")
    doc = library.document(doc_id)
    new = library.catalog.save_page_text(doc.doc_id, number, text, compact_search_form(text),
                                         editor, base_version, proofread, source)
    if new is not None:
        library.realign_page(doc.doc_id, number)
    return new


def refresh_index(library: LibraryFolder, doc_ids: list[str]) -> bool:
    """Replace these documents' index entries under the ingest lock, waiting up to
    INDEX_WAIT seconds for it; False if another process (an ingest) still holds it: it indexes
    them before it ends, or `check --repair` does. Saves in one process take turns."""
    if library.writable:
        for doc_id in dict.fromkeys(doc_ids):
            library.refresh_document(doc_id)
        return True
    deadline = time.monotonic() + INDEX_WAIT
    with _INDEX_TURN:
        while True:
            try:
                with LibraryFolder(library.cfg, writable=True) as writer:
                    for doc_id in dict.fromkeys(doc_ids):
                        writer.refresh_document(doc_id)
                return True
            except LibraryError:
                if library.lock_holder() is None:
                    raise  # not the lock: a real problem
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.2)


def realign_stale(library: LibraryFolder) -> int:
    """Re-align the ALTO of every corrected page whose ALTO names another text version (a
    crash between a save and its ALTO); returns how many."""
    from .realign import aligned_version

    done = 0
    for doc_id, number in sorted(library.catalog.corrected_pages()):
        current = library.alto_path(doc_id, number)
        if not library.alto_ocr_path(doc_id, number).is_file() or not current.is_file():
            continue
        try:
            found = aligned_version(current.read_bytes())
        except etree.XMLSyntaxError:
            found = None
        if found != library.catalog.page_version(doc_id, number):
            library.realign_page(doc_id, number)
            done += 1
    return done


def revert_text(library: LibraryFolder, doc_id: str, number: int, to_version: int, editor: str,
                base_version: int) -> PageVersion | None:
    """Save an earlier version's text as the newest version (history is never rewritten)."""
    history = library.catalog.page_history(library.document(doc_id).doc_id, number)
    old = next((v for v in history if v.version == to_version), None)
    if old is None:
        raise NotFoundError(f"page {doc_id}#{number} has no version {to_version}")
    return save_text(library, doc_id, number, old.text, editor, base_version, old.proofread,
                     "revert")


def page_state(library: LibraryFolder, doc_id: str, number: int) -> dict[str, Any]:
    """A page's current text, version, 已校对 flag and history (oldest first), as JSON data."""
    doc = library.document(doc_id)
    page = library.catalog.page(doc.doc_id, number)
    if page is None:
        raise NotFoundError(f"no page {number} in document {doc.doc_id}")
    return {"doc_id": doc.doc_id, "number": number, "text": page.text, "version": page.version,
            "proofread": page.proofread,
            "history": [version_dict(v) for v in library.catalog.page_history(doc.doc_id, number)]}


def version_dict(version: PageVersion) -> dict[str, Any]:
    """One version as JSON data."""
    return {"version": version.version, "editor": version.editor, "at": version.at,
            "proofread": version.proofread, "source": version.source, "text": version.text}


# -- the offline path: .docx ----------------------------------------------------------------

@dataclass(frozen=True)
class DocxPage:
    """One page read back from a proofreading .docx."""

    doc_id: str
    number: int
    version: int | None  # the version the file was exported at (None: heading without it)
    text: str


@dataclass(frozen=True)
class ImportOutcome:
    """What `import_docx` did, page by page."""

    corrected: list[str]  # page ids saved as a new version
    unchanged: list[str]
    unknown: list[str]  # page ids the library does not have: skipped
    conflicts: list[str]  # pages changed in the library since the export: skipped, with why
    indexed: bool


def read_docx_pages(path: Path) -> Iterator[DocxPage]:
    """The pages of a proofreading .docx: each heading naming a page id starts a page; the
    paragraphs up to the next such heading are its text (one line each)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise UsageError(f"{path}: not a readable .docx ({exc})") from exc
    current: tuple[str, int, int | None] | None = None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        match = PAGE_ID.search(paragraph.text) if style.startswith("Heading") else None
        if match:
            if current is not None:
                yield DocxPage(current[0], current[1], current[2], _joined(lines))
            current = (match.group(1), int(match.group(2)),
                       int(match.group(3)) if match.group(3) else None)
            lines = []
        elif current is not None and not _is_picture(paragraph):
            lines.append(paragraph.text)
    if current is not None:
        yield DocxPage(current[0], current[1], current[2], _joined(lines))


def _is_picture(paragraph: Any) -> bool:
    """A paragraph holding only a picture (the scan the export puts above the text)."""
    return not paragraph.text.strip() and bool(paragraph._p.xpath(".//w:drawing"))


def _joined(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def same_text(a: str, b: str) -> bool:
    """Equal but for trailing white space on lines and at the end (what Word may change)."""
    def norm(text: str) -> list[str]:
        out = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while out and not out[-1]:
            out.pop()
        return out
    return norm(a) == norm(b)


def import_docx(library: LibraryFolder, path: Path, editor: str,
                mark_proofread: bool = False) -> ImportOutcome:
    """Save each page of a proofreading .docx whose text differs from the library's as a new
    version by `editor`; unknown page ids and pages changed since the export are skipped."""
    editor = require_editor(library, editor)
    corrected: list[str] = []
    unchanged: list[str] = []
    unknown: list[str] = []
    conflicts: list[str] = []
    docs: list[str] = []
    for item in read_docx_pages(path):
        page_id = f"{item.doc_id}#{item.number}"
        doc = library.catalog.document(item.doc_id)
        page = (library.catalog.page(doc.doc_id, item.number)
                if doc is not None and doc.doc_id == item.doc_id else None)
        if page is None:
            unknown.append(page_id)
            continue
        if same_text(item.text, page.text):  # left alone, 已校对 flag included
            unchanged.append(page_id)
            continue
        base = page.version if item.version is None else item.version
        if base != page.version:
            conflicts.append(f"{page_id}: exported at version {base}, the library has version "
                             f"{page.version} now (export again and redo this page)")
            continue
        save_text(library, item.doc_id, item.number, item.text, editor, base,
                  mark_proofread or page.proofread, "docx")
        corrected.append(page_id)
        docs.append(item.doc_id)
    indexed = refresh_index(library, docs) if docs else True
    return ImportOutcome(corrected, unchanged, unknown, conflicts, indexed)
