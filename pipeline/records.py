"""Plain typed records passed between the stages. All frozen and picklable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from .errors import UsageError

# Kinds of source file Wenshi reads.
KIND_IMAGE = "image"
KIND_PDF = "pdf"
KIND_DOCX = "docx"
KIND_TEXT = "text"

# How a page's text was obtained.
METHOD_TEXT = "text"  # text layer, Word draft or plain text: no OCR
METHOD_OCR = "ocr"


@dataclass(frozen=True)
class Word:
    """One OCR word (for Chinese usually one or a few characters) with its box in pixels."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0-100, as Tesseract reports it


@dataclass(frozen=True)
class PageImage:
    """A JPEG copy of a scanned page kept for readers (pipeline/derivatives.py)."""

    width: int
    height: int
    jpeg: bytes


@dataclass(frozen=True)
class SourceFile:
    """An input file recognised as one of the supported kinds."""

    path: str
    kind: str
    doc_id: str  # content hash: the same bytes always get the same id
    size: int


@dataclass(frozen=True)
class PageTask:
    """What a worker needs to produce one page: the file and the page index in it.

    Page images travel as PNG bytes (`image_png`) where the page was already rendered, so a
    worker on another machine needs no shared file system.
    """

    doc_id: str
    path: str
    kind: str
    number: int  # 1-based page number within the document
    image_png: bytes = b""
    dpi: int = 300
    # `--lang auto`: the model most pages read so far of this document (or, for single-page files,
    # of its folder) were read with; the worker takes its script and runs no trial ('' = decide).
    lang_hint: str = ""


@dataclass(frozen=True)
class Page:
    """One page of a document after processing."""

    number: int
    text: str
    method: str
    confidence: float | None = None  # mean word confidence 0-100, OCR pages only
    words: tuple[Word, ...] = ()
    alto: str = ""  # Tesseract's ALTO XML for OCR pages
    lang: str = ""
    width: int = 0
    height: int = 0
    error: str = ""  # non-empty: the page failed and this is why
    # JPEG copies of the scan for the reading room and IIIF, largest first (scanned pages only)
    images: tuple[PageImage, ...] = ()
    # Page quality estimate (pipeline/page/quality.py): expected share and number of characters
    # wrong, and why; None for pages not OCR'd or with no text.
    error_rate: float | None = None
    est_errors: int | None = None
    quality_reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """True when the page could not be processed."""
        return bool(self.error)


@dataclass(frozen=True)
class Document:
    """A source file split into pages, with catalog metadata and automatic tags."""

    doc_id: str
    path: str
    kind: str
    title: str
    collection: str
    pages: tuple[Page, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input path during an ingest."""

    path: str
    status: str  # "ingested" | "skipped" | "failed" | "unsupported"
    doc_id: str = ""
    pages: int = 0
    characters: int = 0
    error: str = ""
    failed_pages: tuple[tuple[int, str], ...] = ()  # (page number, error): stored, retried later
    reused_pages: int = 0  # pages an earlier, interrupted run had stored: not processed again


@dataclass(frozen=True)
class IngestSummary:
    """The result of one ingest run, in input order."""

    outcomes: tuple[FileOutcome, ...]
    elapsed: float = 0.0
    kept_corrections: int = 0  # corrected pages a new OCR did not overwrite (the text is kept)
    # `doc_id field: old -> new` for documents already stored that a metadata sheet changed
    updates: tuple[str, ...] = ()
    writer_peak_rss_mb: float = 0.0  # the peak resident memory of the ingest's writer process

    def count(self, status: str) -> int:
        """How many inputs ended with `status`."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def pages(self) -> int:
        """Pages stored by this run."""
        return sum(o.pages for o in self.outcomes if o.status == "ingested")

    @property
    def failed_pages(self) -> int:
        """Pages that failed in this run (stored with their error; a later ingest retries them)."""
        return sum(len(o.failed_pages) for o in self.outcomes if o.status == "ingested")

    @property
    def characters(self) -> int:
        """字数 stored by this run."""
        return sum(o.characters for o in self.outcomes if o.status == "ingested")

    @property
    def pages_per_minute(self) -> float:
        """Pages processed (not those an earlier run had stored) per minute of this run."""
        processed = sum(o.pages - o.reused_pages for o in self.outcomes
                        if o.status == "ingested")
        return processed / self.elapsed * 60 if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `wenshi ingest --json` prints."""
        failed = [o for o in self.outcomes if o.status == "failed"]
        return {
            "ingested": self.count("ingested"), "skipped": self.count("skipped"),
            "pages": self.pages, "characters": self.characters,
            "failed": [{"path": o.path, "error": o.error} for o in failed],
            "failed_pages": [{"path": o.path, "doc_id": o.doc_id, "page": n, "error": e}
                             for o in self.outcomes if o.status == "ingested"
                             for n, e in o.failed_pages],
            "unsupported": [o.path for o in self.outcomes if o.status == "unsupported"],
            "documents": [{"path": o.path, "doc_id": o.doc_id, "status": o.status,
                           "pages": o.pages, "failed_pages": len(o.failed_pages),
                           "reused_pages": o.reused_pages}
                          for o in self.outcomes if o.status != "unsupported"],
            "elapsed": round(self.elapsed, 2), "pages_per_minute": round(self.pages_per_minute, 1),
            "kept_corrections": self.kept_corrections,
            "updates": list(self.updates),
            "writer_peak_rss_mb": round(self.writer_peak_rss_mb),
        }


# -- tags ------------------------------------------------------------------------------------

# How a kind of tag is shaped; it decides its index field, its JSON, its csv cell and how an
# archivist's correction (`wenshi tag --set NAME=...`) is read.
YEARS = "years"  # sorted years (ints): a NUMERIC index field, one term a year
TEXT = "text"  # one value: an ID index field
TERMS = "terms"  # values of a fixed vocabulary, indexed as written (comma keywords)
WORDS = "words"  # free words, indexed lower-cased (comma keywords)
NAMES = "names"  # (name, count) pairs, most frequent first; the names indexed lower-cased


@dataclass(frozen=True)
class TagKind:
    """One kind of tag: its name (the `Tags` field and the key of the catalog's tags JSON) and
    everything derived from it elsewhere (index/schema.py, index/writer.py, the csv export,
    `show`, `wenshi tag --set`)."""

    name: str
    label: str  # the column heading Chinese readers see (csv export)
    shape: str  # YEARS | TEXT | TERMS | WORDS | NAMES
    index_field: str  # the Whoosh field it fills (and the search filter `index_field:value`)
    correctable: bool  # an archivist may set it with `wenshi tag --set`
    catalog_field: str  # a catalog field that, when a document has it, the index uses instead


def _kind(label: str, shape: str, index_field: str, correctable: bool = True,
          catalog_field: str = "") -> Any:
    return field(default="" if shape == TEXT else (),
                 metadata={"tag": (label, shape, index_field, correctable, catalog_field)})


@dataclass(frozen=True)
class Tags:
    """The automatic tags of one document: THE definition of the tag kinds. A new kind is a new
    field here (with `_kind`); the catalog, the index fields, the exports, `show` and
    `wenshi tag --set` derive theirs from `TAG_KINDS`."""

    years: tuple[int, ...] = _kind("年代", YEARS, "year")
    period: str = _kind("时期", TEXT, "period")  # 建国前 | 建国后 | ""
    subjects: tuple[str, ...] = _kind("主题", TERMS, "subject")
    persons: tuple[tuple[str, int], ...] = _kind("人名", NAMES, "person")
    places: tuple[tuple[str, int], ...] = _kind("地名", NAMES, "place")
    organizations: tuple[tuple[str, int], ...] = _kind("机构", NAMES, "organization")
    keywords: tuple[str, ...] = _kind("关键词", WORDS, "keyword")
    # The catalog field `doctype`, when a sheet or the archivist gave one, wins over this guess.
    doctype: str = _kind("文献类型（自动）", TEXT, "doctype", correctable=False,
                         catalog_field="doctype")
    char_count: int = 0  # not a tag: 字数 of the text tagged (the catalog keeps its own count)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; name counts become [name, count] lists."""
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Tags":
        """The inverse of `to_dict`; missing (and unknown) keys take their defaults."""
        values: dict[str, Any] = {k.name: _parse(k.shape, data[k.name])
                                  for k in TAG_KINDS if k.name in data}
        return cls(char_count=int(data.get("char_count", 0)), **values)

    def corrected(self, name: str, value: str) -> "Tags":
        """These tags with the archivist's value for one correctable kind ("a,b" for lists)."""
        kind = TAG_KINDS_BY_NAME.get(name)
        if kind is None or not kind.correctable:
            raise UsageError(f"{name!r} is not a tag that can be set; tags: "
                             + ", ".join(TAG_OVERRIDES))
        items = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        parsed: Any = tuple(items)
        if kind.shape == TEXT:
            parsed = value.strip()
        elif kind.shape == YEARS:
            parsed = tuple(sorted({int(v) for v in items if v.isdigit()}))
        elif kind.shape == NAMES:
            parsed = tuple((v, 1) for v in items)
        changes: dict[str, Any] = {name: parsed}
        return replace(self, **changes)


def _parse(shape: str, value: Any) -> Any:
    if shape == TEXT:
        return str(value or "")
    if shape == YEARS:
        return tuple(int(y) for y in value or ())
    if shape == NAMES:
        return tuple((str(n), int(c)) for n, c in value or ())
    return tuple(str(v) for v in value or ())


TAG_KINDS: tuple[TagKind, ...] = tuple(TagKind(f.name, *f.metadata["tag"])
                                       for f in fields(Tags) if "tag" in f.metadata)
TAG_KINDS_BY_NAME = {k.name: k for k in TAG_KINDS}
# The tags `wenshi tag --set` may correct.
TAG_OVERRIDES = tuple(k.name for k in TAG_KINDS if k.correctable)


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
