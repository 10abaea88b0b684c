"""What every export format shares: choosing and ordering documents, labels, pinyin sorting,
proofreading marks, and output paths that never leave `--output` nor overwrite without --force."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.config import Config
from pipeline.errors import InputFileError, LibraryError, NotFoundError, UsageError

from ..catalog import DocumentRow
from ..library import LibraryFolder
from .orders import ORDERS

UNSIGNED = "未署名"  # contributor of a document whose metadata names none
MAX_NAME_BYTES = 120  # file-name stems stay well below the 255-byte limit of common file systems
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                   *(f"lpt{i}" for i in range(1, 10))}
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
# pypinyin reads these characters with their common reading; as a surname they read otherwise.
_SURNAME_PINYIN = {
    "曾": "zeng1", "单": "shan4", "解": "xie4", "仇": "qiu2", "朴": "piao2", "查": "zha1",
    "区": "ou1", "乐": "yue4", "翟": "zhai2", "盖": "ge3", "缪": "miao4", "种": "chong2",
    "覃": "qin2", "召": "shao4", "员": "yun4", "秘": "bi4", "长": "chang2", "万": "wan4",
}


@dataclass(frozen=True)
class DocumentIssue:
    """A document an export left out, and why."""

    doc_id: str
    title: str
    message: str


@dataclass(frozen=True)
class ExportJob:
    """Everything a format writer needs: the open library, the chosen documents, the target."""

    library: LibraryFolder
    cfg: Config
    collection: str
    query: str | None
    documents: tuple[DocumentRow, ...]
    output: Path
    force: bool


@dataclass
class WriterOutcome:
    """What a format writer wrote and which documents it left out."""

    files: list[Path] = field(default_factory=list)
    skipped: list[DocumentIssue] = field(default_factory=list)
    failed: list[DocumentIssue] = field(default_factory=list)


# -- choosing and ordering documents ---------------------------------------------------------

def select_documents(library: LibraryFolder, collection: str, query: str | None,
                     order: str) -> tuple[DocumentRow, ...]:
    """The complete documents of a collection (those matching `query` if given), in `order`."""
    if order not in ORDERS:
        raise UsageError(f"--order must be one of {', '.join(ORDERS)}, not {order!r}")
    documents = list(library.documents(collection))
    if not documents:
        raise NotFoundError(f"collection {collection!r} has no documents to export")
    if query is not None:
        if not query.strip():
            raise UsageError("--query must not be empty")
        matching = _matching_doc_ids(library, collection, query)
        documents = [d for d in documents if d.doc_id in matching]
        if not documents:
            raise NotFoundError(f"no document in collection {collection!r} matches the query "
                                f"{query!r}; nothing exported")
    return tuple(order_documents(documents, order))


def _matching_doc_ids(library: LibraryFolder, collection: str, query: str) -> set[str]:
    from ..search import SearchRequest, run

    context = library.search_context()
    try:
        results = run(context, SearchRequest(query, collection, limit=0, snippets=False))
    finally:
        context.close()
    return {hit.doc_id for hit in results.hits}


def order_documents(documents: Iterable[DocumentRow], order: str) -> list[DocumentRow]:
    """Documents sorted for a manuscript; ties (and documents without the key) in ingest order."""
    docs = sorted(documents, key=lambda d: d.seq)
    if order == "year":
        return sorted(docs, key=lambda d: (document_year(d) is None, document_year(d) or 0, d.seq))
    if order == "title":
        return sorted(docs, key=lambda d: (pinyin_key(display_title(d)), d.seq))
    if order == "contributor":
        return sorted(docs, key=lambda d: (not contributor_of(d),
                                           pinyin_key(contributor_of(d), surname=True),
                                           document_year(d) or 9999, d.seq))
    return docs


def document_year(doc: DocumentRow) -> int | None:
    """The year a document is from: its metadata date, else the earliest year its text names."""
    date = str(doc.metadata.get("date") or "").translate(_CHINESE_DIGITS)
    match = _YEAR.search(date)
    if match:
        return int(match.group(1))
    years = [int(y) for y in doc.tags.get("years") or () if str(y).isdigit()]
    return min(years) if years else None


# -- labels ----------------------------------------------------------------------------------

def display_title(doc: DocumentRow) -> str:
    """The title readers see: the archivist's metadata title, else the catalog title."""
    return str(doc.metadata.get("title") or "").strip() or doc.title


def contributor_of(doc: DocumentRow) -> str:
    """The contributor (撰稿人) named in the metadata, or ''."""
    return str(doc.metadata.get("contributor") or "").strip()


def source_name(doc: DocumentRow) -> str:
    """The source file's name, without the folders of the machine it was ingested on."""
    return Path(doc.path).name


def tag_names(value: Any) -> list[str]:
    """Names from a tag list: [name, count] pairs, {"name": ...} objects or plain strings."""
    names: list[str] = []
    for item in value or ():
        if isinstance(item, str):
            name = item
        elif isinstance(item, dict):
            name = str(item.get("name") or "")
        elif isinstance(item, (list, tuple)) and item:
            name = str(item[0])
        else:
            continue
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return names


def page_list(numbers: Sequence[int]) -> str:
    """Page numbers as Chinese readers write them: 第1—3、5页."""
    if not numbers:
        return ""
    nums = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    parts = [f"{a}" if a == b else f"{a}—{b}" for a, b in runs]
    return f"第{'、'.join(parts)}页"


# -- pinyin ----------------------------------------------------------------------------------

def pinyin_key(text: str, surname: bool = False) -> tuple[tuple[str, ...], str]:
    """Sort key in pinyin order (tone numbers break ties, then the characters themselves).

    `surname` reads the first character as a surname (曾 zeng, 单 shan), as name indexes must.
    """
    from pypinyin import Style, lazy_pinyin

    text = text.strip()
    readings = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    syllables = [s.strip().lower() for s in readings]
    if surname and text[:1] in _SURNAME_PINYIN and syllables:
        syllables[0] = _SURNAME_PINYIN[text[0]]
    return tuple(s for s in syllables if s), text


def index_letter(key: tuple[tuple[str, ...], str]) -> str:
    """The A-Z group of a pinyin sort key; '#' for names that start with no letter."""
    first = key[0][0][:1].upper() if key[0] else ""
    return first if "A" <= first <= "Z" else "#"


# -- source files ----------------------------------------------------------------------------

def open_source(doc: DocumentRow) -> Path:
    """The document's source file, checked to be the very file that was ingested."""
    path = Path(doc.path)
    where = "" if path.is_absolute() else (
        f" (relative to {Path.cwd()}; run the export from the folder the ingest ran in)")
    if not path.is_file():
        raise InputFileError(f"source file {doc.path} not found{where}: it was moved or deleted "
                             "since ingest; put it back to export this document")
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputFileError(f"source file {doc.path}: cannot read it ({exc.strerror})") from exc
    if not digest.hexdigest().startswith(doc.doc_id):
        raise InputFileError(f"source file {doc.path} has changed since ingest (its content is "
                             "different); re-ingest it to export this document")
    return path


# -- output paths ----------------------------------------------------------------------------

def safe_name(name: str, fallback: str = "未命名") -> str:
    """A file-name stem from a title: no separators, no `..`, no control or reserved names."""
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"_+", "_", re.sub(r"\.{2,}", "_", name))  # ../../x -> x, not .._.._x
    name = re.sub(r"\s+", " ", name).strip(" ._")
    if name.split(".")[0].lower() in _RESERVED_NAMES:
        name = "_" + name
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        name = encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
    return name or fallback


def document_stem(doc: DocumentRow) -> str:
    """A stable, unique file-name stem for a document: its title and the start of its id."""
    return f"{safe_name(display_title(doc))}-{doc.doc_id[:8]}"


def inside(root: Path, relative: str) -> Path:
    """`root/relative`, refused when it would resolve outside `root` (`..`, symbolic links)."""
    base = root.resolve()
    target = (base / relative).resolve()
    if target == base or not target.is_relative_to(base):
        raise UsageError(f"refusing to write {relative!r}: it is outside {root}")
    return target


def file_target(output: Path, default_name: str, force: bool) -> Path:
    """Where a single-file format writes: `output`, or `default_name` inside an existing folder."""
    target = inside(output, safe_name(default_name)) if output.is_dir() else output
    check_targets([target], force)
    return target


def folder_targets(output: Path, relatives: Sequence[str], force: bool) -> list[Path]:
    """The files a folder format will write, all inside `output`, checked before any is written."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output} is a file; this format writes a folder: "
                         "pass a folder as --output")
    targets = [inside(output, rel) for rel in relatives]
    if len({str(t).casefold() for t in targets}) != len(targets):  # same title and id prefix
        raise LibraryError(f"two documents would be written to the same file in {output}; "
                           "export them separately with --query")
    check_targets(targets, force)
    return targets


def check_targets(targets: Sequence[Path], force: bool) -> None:
    """Refuse to overwrite existing files unless forced; refuse to replace folders."""
    for target in targets:
        if target.is_dir():
            raise UsageError(f"{target} is a folder; pass a file path as --output")
    if force:
        return
    existing = [t for t in targets if t.exists()]
    if len(existing) == 1:
        raise UsageError(f"{existing[0]} already exists; pass --force to overwrite it")
    if existing:
        raise UsageError(f"{existing[0]} and {len(existing) - 1} more files already exist; "
                         "pass --force to overwrite them")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(target: Path, data: bytes) -> Path:
    """Write a whole file or nothing: a temporary file in the same folder, then a rename."""
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".wenshi-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; exports are ordinary files
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
