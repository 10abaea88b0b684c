"""OCR engines behind one seam: an engine reads one page image and returns an `OcrResult`.

The page loop (`pipeline.page.process`) cleans the page up and chooses the model and the
segmentation (`pipeline.page.script`); the engine is then given the cleaned image and
`ReadOptions`, and returns the page's text and ALTO v3 XML (blocks, lines, words with boxes in
the pixels of the image it was given, and confidences). `finish_result` builds the rest from
those two the same way whatever the engine: the look-alike correction of simplified-Chinese
pages (`pipeline.page.correct`), the words as records, the mean confidence, the lines. A new
engine (PP-OCR through rapidocr: `paddle.py`) produces text and ALTO and calls it.

Engines: `tesseract` (pytesseract; its sole importer) and `paddle` (PP-OCR through rapidocr on
ONNX Runtime; its sole importer). An engine is built once per worker process
(`pipeline.page.process.engine_for`) and handed to `process_page`; tests hand in a small fake
instead. PP-OCR returns lines with boxes, not a page: its lines (`OcrLine`, in a `Reading`) are
put in reading order by `pipeline.page.layout` before its text and ALTO are written
(`pipeline.page.assemble`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import TYPE_CHECKING, Protocol

from lxml import etree
from PIL import Image

from ...config import DEFAULT_OCR_TIMEOUT, ENGINE_CHOICES
from ...records import Word
from ..alto import parse_alto, strings
from ..correct import Correction, correct_page

if TYPE_CHECKING:
    from ..pagelook import PageInk

ENGINE_AUTO, ENGINE_PADDLE, ENGINE_TESSERACT = ENGINE_CHOICES

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)
Point = tuple[int, int]


@dataclass(frozen=True)
class Glyph:
    """One character (PP-OCR's per-character boxes) or word (Tesseract's) of a line."""

    text: str
    box: Box
    confidence: float  # 0-100
    # Not read but put back: a character the recogniser nearly read (engines/nearly.py).
    restored: bool = False
    # Other characters the recogniser saw where it doubted this one, likeliest first
    # (engines/alternatives.py; PP-OCR's, ALTO's ALTERNATIVE).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class OcrLine:
    """One text line, or one column of vertical text, as an engine found it on the image."""

    text: str
    box: Box  # the axis-aligned rectangle around `polygon`
    polygon: tuple[Point, ...]  # top-left, top-right, bottom-right, bottom-left
    confidence: float  # 0-100
    glyphs: tuple[Glyph, ...] = ()  # in reading order within the line; may be empty
    vertical: bool = False  # the line runs top to bottom
    block: int = -1  # the engine's own block number, -1 when it has none
    # Characters the recogniser nearly read between those it read, ones it may have dropped
    # (PP-OCR: engines/nearly.py, `nearly_read`), for the page quality estimate.
    hidden: int = 0
    # Of those, the characters put back into `text` (engines/nearly.py, `restorable`).
    restored: int = 0
    # Characters read where the recogniser nearly read another form of them (PP-OCR:
    # engines/variants.py, `varied`), for the page quality estimate.
    variants: int = 0


@dataclass(frozen=True)
class Reading:
    """An engine's lines for one page image, in the engine's order, boxes in its pixels."""

    lines: tuple[OcrLine, ...]
    width: int
    height: int
    engine: str
    model: str
    # The page's ink measured with these lines (pipeline.page.pagelook.page_ink), once for the
    # missed lines, the figures and the quality estimate; None when not measured.
    ink: PageInk | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReadOptions:
    """How to read one page image."""

    # The model as Tesseract names it ('chi_sim', 'chi_tra_vert', 'chi_sim+eng'): the script
    # and, with `_vert`, vertical columns read right to left. Other engines map it to theirs.
    lang: str
    psm: int = 3  # Tesseract's page segmentation mode; other engines may ignore it
    dpi: int = 300
    timeout: float = DEFAULT_OCR_TIMEOUT  # seconds; a stuck page must not stall a batch
    correct: bool = True  # look-alike correction (simplified-Chinese models only)
    # A page found askew is laid out in a straightened frame (PP-OCR: pipeline/page/straighten.py;
    # Tesseract's page is deskewed before it is read, by preprocess.py, and ignores this).
    deskew: bool = True

    @property
    def vertical(self) -> bool:
        """True when the model reads vertical columns."""
        return self.lang.endswith("_vert")


@dataclass(frozen=True)
class EngineInfo:
    """Which engine and model read a page."""

    name: str  # 'tesseract'
    version: str  # the engine's own version, e.g. '5.3.0'
    model: str  # e.g. 'chi_sim_vert'


@dataclass(frozen=True)
class Line:
    """One text line (a column on a vertical page) with its box and words."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float | None  # mean of its words' confidences, 0-100
    words: tuple[Word, ...]


@dataclass(frozen=True)
class OcrResult:
    """What one engine run produced for one page image."""

    text: str
    words: tuple[Word, ...]  # in reading order; for Chinese usually one or a few characters
    alto: str  # ALTO v3 XML, boxes in the pixels of the image read
    confidence: float | None  # mean word confidence 0-100; None when no word was found
    corrections: tuple[Correction, ...] = ()  # misread characters replaced (pipeline.page.correct)
    # `alto` parsed (pipeline.page.alto), so that pipeline.page.geometry need not parse it
    # again; None for an empty one. Not a record field: mapping the boxes changes it in place.
    tree: etree._Element | None = field(default=None, compare=False, repr=False)
    # The script and direction the engine found on the page, as a Tesseract model name (PP-OCR
    # reads both scripts and directions with one model); '' when the caller's model decided.
    lang: str = ""
    steps: tuple[str, ...] = ()  # what the engine did beyond reading (e.g. 'layout-model')
    # The page's ink as the engine measured it (Reading.ink), for the quality estimate.
    ink: PageInk | None = field(default=None, compare=False, repr=False)
    # Characters the recogniser nearly read in the page's lines (`OcrLine.hidden` summed), for
    # the quality estimate; None from an engine that does not count them (Tesseract).
    hidden: int | None = None
    # Characters read where the recogniser nearly read another form of them (`OcrLine.variants`
    # summed), for the quality estimate; None from an engine that does not count them.
    variants: int | None = None

    def lines(self) -> tuple[Line, ...]:
        """The text lines of `tree` (in its current pixels), each with its words."""
        found = []
        for element in () if self.tree is None else self.tree.iter("{*}TextLine"):
            words = words_of(element)
            found.append(Line("".join(w.text for w in words), *_box(element),
                              _mean(words), words))
        return tuple(found)


class Engine(Protocol):
    """An OCR engine: reads a page image; says what it is; checks its models are installed."""

    @property
    def name(self) -> str:
        """Short name, e.g. 'tesseract'."""

    def read(self, image: Image.Image, options: ReadOptions) -> OcrResult:
        """Recognise one page image. Raises OcrError for this page, EnvironmentProblemError
        when the engine or a model is missing (then no page can be read)."""

    def info(self, model: str) -> EngineInfo:
        """Name, version and `model` for the record of a page."""

    def check(self, lang: str) -> None:
        """Raise EnvironmentProblemError, naming the package to install, when a model named in
        `lang` ('a+b') is missing."""


def finish_result(text: str, alto: str, image: Image.Image, options: ReadOptions,
                  sure: float | None = None) -> OcrResult:
    """An engine's text and ALTO for `image` -> the result: corrected where `options.correct`
    and the model is simplified Chinese, with its words and mean confidence. `sure`: the
    confidence (WC, 0-1) at or above which the engine's characters are not corrected (None: all
    may be; pipeline.page.correct.correct_page)."""
    # Parsed once: the correction, the words and (pipeline.page.geometry) the box mapping read it.
    tree = parse_alto(alto)
    corrections: tuple[Correction, ...] = ()
    if options.correct and simplified(options.lang):
        text, alto, corrections = correct_page(text, alto, image, options.vertical, tree=tree,
                                               sure=sure)
    words = words_of(tree)
    confidence = sum(w.confidence for w in words) / len(words) if words else None
    return OcrResult(text=text, words=words, alto=alto, confidence=confidence,
                     corrections=corrections, tree=tree)


def simplified(lang: str) -> bool:
    """True for simplified-Chinese models only: the correction's dictionary is simplified
    Chinese, so a traditional page is left alone."""
    parts = lang.split("+")
    return (any(p.startswith("chi_sim") for p in parts)
            and not any(p.startswith("chi_tra") for p in parts))


def words_of(root: etree._Element | None) -> tuple[Word, ...]:
    """The non-blank ALTO String elements under `root` as Words (WC 0-1 -> confidence 0-100)."""
    words = []
    for s in strings(root):
        get = s.get
        content = get("CONTENT", "")
        if not content.strip():
            continue
        words.append(Word(content, int(float(get("HPOS", 0))), int(float(get("VPOS", 0))),
                          int(float(get("WIDTH", 0))), int(float(get("HEIGHT", 0))),
                          round(float(get("WC", 0)) * 100, 1)))
    return tuple(words)


def _box(element: etree._Element) -> tuple[int, int, int, int]:
    get = element.get
    return (int(float(get("HPOS", 0))), int(float(get("VPOS", 0))),
            int(float(get("WIDTH", 0))), int(float(get("HEIGHT", 0))))


def _mean(words: tuple[Word, ...]) -> float | None:
    return sum(w.confidence for w in words) / len(words) if words else None


def installed(*modules: str) -> bool:
    """True when each of `modules` (top-level packages) is installed: found, not imported. The
    command checks its engines this way before any work; importing ONNX Runtime, rapidocr and
    rapid_layout there (~30 MB, benchmarks/README.md, "Session 10") would only add to the
    memory of a process that never reads a page (its pool workers import them)."""
    for module in modules:
        try:
            if find_spec(module) is None:
                return False
        except (ImportError, ValueError):  # a parent that fails, or a broken module entry
            return False
    return True
