"""One page's work, start to end: the entry every executor (inline, local pool, Dask) calls.

`process_page` decodes the page a task names, and `recognise_page` runs the page loop:
preprocess -> choose script and direction -> OCR -> turn upright if it reads badly -> OCR again.
Then the text is cleaned and the boxes are mapped back onto the scan.

Both, and the page's orientation, are paid for only when needed. An ingest passes the decision
of the document's first pages on to the rest (`hint`: the script of the model they were read
with), so a 500-page volume runs one trial, not 500; orientation (Tesseract OSD) runs only when
the page reads with low confidence or its direction disagrees with the hint's, both of which a
page turned by 90° or 180° does (mean word confidence 16-27 against 86-90 upright, measured);
a page read under a hint with low confidence gets its own script trial too.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from lxml import etree
from PIL import Image

from ..config import DEFAULT_OCR_TIMEOUT, Config
from ..errors import InputFileError, OcrError
from ..records import METHOD_OCR, Page, PageTask, Word
from ..text.clean import clean_ocr_text
from .alto import parse_alto
from .bleed import MIN_CHARS as BLEED_MIN_CHARS
from .bleed import read_faint_layer, shows_through, whitened
from .correct import Correction
from .crosscheck import differ
from .derivatives import page_derivatives
from .engines import ENGINE_AUTO, ENGINE_PADDLE, ENGINE_TESSERACT, Engine, OcrResult, ReadOptions
from .engines.paddle import PaddleEngine, read_mirrored
from .engines.tesseract import TesseractEngine
from .geometry import PageGeometry, alto_to_source, words_to_source
from .images import load_page_image
from .preprocess import (
    DEFAULT_TARGET_DPI,
    STEP_BLEED_THROUGH,
    STEP_DESKEW,
    STEP_ORIENTATION,
    STEP_SEAL,
    PreprocessOptions,
    PreprocessResult,
    detect_rotation,
    preprocess_image,
    rotate_upright,
)
from .quality import PageQuality, estimate_alto, mark_alto
from .seals import find_seals, lift_seals
from .script import AUTO, PROVISIONAL, LangChoice, choose_lang

if TYPE_CHECKING:
    from .pagelook import PageInk

log = logging.getLogger(__name__)

# Below this mean word confidence a page is looked at again: orientation, and the script when it
# came from a hint. Upright pages in the right model read at 86-90 (clean or degraded), pages
# turned by 90/180/270° at 16-27.
LOW_CONFIDENCE = 60.0
# A page read with the document's script is given its own script trial below this: a traditional
# page read with chi_sim scored 74 (chi_tra: 88), so the orientation threshold would miss it.
SCRIPT_RECHECK_CONFIDENCE = 80.0
_OSD_CROP = 500  # pixels at 300 dpi: ~100 characters, enough for OSD (preprocess.detect_rotation)
# `--engine auto` on vertical pages (recognise): Tesseract's reading is kept when it holds this
# share of PP-OCR's characters, and they make this share of it. On the real vertical pages of
# ../shared/realpages Tesseract's reading held 0-88% of PP-OCR's (PP-OCR read them at 97% bag
# F1, Tesseract at 0-94%); on Wenshi's rendered vertical pages (benchmarks/ocr_accuracy.py,
# condition g), which Tesseract reads at 2.6% CER, 94-95%: they differ in look-alike forms
# (内/內, 毁/毀) that one or the other misreads. The threshold lies between the two.
AGREE_COVER = 0.90
AGREE_SHARE = 0.80
# Tesseract's reading is kept for the punctuation PP-OCR drops: the marks that end and divide
# sentences (句读, SENTENCE_MARKS), at least PUNCTUATION_GAIN more of them than PP-OCR's reading
# holds per character of PP-OCR's. A page printed without them (白文) gains nothing from
# Tesseract's reading but its misreadings. Measured (benchmarks/README.md, session 12), the
# gain on the whole page: Wenshi's rendered vertical pages 0.072-0.153; the 6 punctuated vertical
# images of ../shared/realpages 0.020-0.076 (Tesseract reads few of shiji16_modern_p2's marks);
# the 16 unpunctuated ones 0-0.009, and 0-0.006 made to look scanned: what Tesseract reads in
# their rules and noise is other marks (_ / - 》), and a stray 、 or : now and then.
SENTENCE_MARKS = frozenset("。,、;:!?")  # after NFKC: ，；：！？ are , ; : ! ?
PUNCTUATION_GAIN = 0.015
# Tesseract's reading of a vertical page starts with a strip of its first columns holding this
# share of PP-OCR's characters (_second_reading), and reads the whole page only where the two
# agree there; no strip when it would hold more than SAMPLE_MOST of them.
SAMPLE_SHARE = 0.3
SAMPLE_MOST = 0.7
# PP-OCR's pages are read again turned 180 degrees below this mean character confidence
# (_read_paddle). Measured without the direction classifier: the 79 real pages of
# ../shared/realpages read upright at 94.1-100 (mean per page), two half pages turned upside down
# at 57.6 and 68.3 (benchmarks/README.md).
PADDLE_DOUBT = 80.0
# Steps recorded for the choice `auto` made on a vertical page.
STEP_ENGINES_AGREE = "engines-agree"
STEP_ENGINES_DISAGREE = "engines-disagree"
STEP_NO_PUNCTUATION = "tesseract-adds-no-punctuation"


def engine_for(cfg: Config, name: str = "") -> Engine:
    """The engine named (default: `cfg`'s; `auto` reads with PP-OCR first), built once per
    process: a worker keeps it for every page it is handed."""
    name = name or cfg.engine
    return _engine(ENGINE_PADDLE if name == ENGINE_AUTO else name)


@lru_cache(maxsize=None)
def _engine(name: str) -> Engine:
    if name == ENGINE_PADDLE:
        return PaddleEngine()
    return TesseractEngine()


def check_engines(cfg: Config) -> None:
    """Fail before any work when an engine the configuration needs cannot run: Tesseract and
    its models (it reads what PP-OCR fails on, and every page under `--engine tesseract`), and
    PP-OCR unless `--engine tesseract`."""
    engine_for(cfg, ENGINE_TESSERACT).check(
        cfg.lang if cfg.lang != AUTO else "chi_sim+chi_tra+chi_sim_vert+chi_tra_vert")
    if cfg.engine != ENGINE_TESSERACT:
        engine_for(cfg, ENGINE_PADDLE).check(cfg.lang)


def crash_engine(cfg: Config) -> str:
    """Under `--engine auto`, the engine for a page that killed its worker process: the one that
    did not read it first ('' under an engine named on purpose: no second engine)."""
    return ENGINE_TESSERACT if cfg.engine == ENGINE_AUTO else ""


def other_engine(engine: str) -> str:
    """The engine a page goes to when `engine` fails on it."""
    return ENGINE_TESSERACT if engine == ENGINE_PADDLE else ENGINE_PADDLE


def process_page(task: PageTask, cfg: Config, engine: Engine | None = None) -> Page:
    """Load, preprocess, OCR and clean one page. Runs in a worker process.

    `engine` reads the page; None: the engine the task or `cfg` names (`recognise`).

    A page that cannot be read or recognised (damaged image data, Tesseract crash or timeout)
    comes back with its error, so the rest of the document goes on. Only a missing Tesseract or
    language model raises: then no page anywhere can be recognised.
    """
    try:
        image, dpi = load_page_image(task, cfg)
        recognised = recognise(image, dpi, cfg, task.lang_hint, engine, task.engine)
    except (InputFileError, OcrError) as exc:
        return Page(number=task.number, text="", method=METHOD_OCR,
                    error=page_error(task.number, exc))
    alto, estimate = assess_alto(recognised.alto, image, recognised.ink, recognised.hidden,
                                 recognised.checked, recognised.variants)
    return Page(
        number=task.number, text=clean_ocr_text(recognised.text), method=METHOD_OCR,
        confidence=recognised.confidence, words=recognised.words, alto=alto,
        lang=recognised.lang, width=image.width, height=image.height,
        engine=recognised.engine, model=recognised.model, steps=recognised.steps,
        images=page_derivatives(image),
        error_rate=estimate.error_rate if estimate else None,
        est_errors=estimate.errors if estimate else None,
        quality_reasons=estimate.reasons if estimate else (),
    )


def assess_alto(alto: str, image: Image.Image | None = None, ink: PageInk | None = None,
                hidden: int | None = None, checked: float | None = None,
                variants: int | None = None) -> tuple[str, PageQuality | None]:
    """The page's ALTO with per-character doubt (CC) marked, and its quality estimate (with the
    page image's signals when `image`, the scan the ALTO's positions refer to, is given; from
    `ink`, the engine's measurement of that image, where it measured the same lines; with the
    characters the recogniser nearly read, `hidden`, and those read whose other forms it nearly
    read, `variants`, when the engine counted them; bounded by `checked`, the share a second
    engine's reading differs on, when one was compared)."""
    root = parse_alto(alto)
    if root is None:
        return alto, None
    estimate = estimate_alto(root, image, ink, hidden, checked, variants)
    mark_alto(root)
    return etree.tostring(root, encoding="unicode"), estimate


def page_error(number: int, exc: Exception) -> str:
    """The error stored with a page: the message without a leading "page N: "."""
    # The page number is stored beside the error; don't repeat it inside the message.
    message = str(exc)
    prefix = f"page {number}: "
    return message[len(prefix):] if message.startswith(prefix) else message


@dataclass(frozen=True)
class Recognised:
    """OCR output of one page plus what read it: engine, model, clean-up steps."""

    text: str
    confidence: float | None
    words: tuple[Word, ...]
    alto: str
    lang: str  # script and direction as a Tesseract model name (chi_sim, chi_tra_vert...)
    engine: str = ENGINE_TESSERACT
    model: str = ""
    steps: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()  # misread characters replaced (pipeline.page.correct)
    # The scan's ink as the engine measured it (pipeline.page.pagelook), for the quality
    # estimate; None when the engine read another image (cleaned up, turned) or did not measure.
    ink: PageInk | None = field(default=None, compare=False, repr=False)
    # Characters the recogniser nearly read (OcrResult.hidden), for the quality estimate; None
    # when the engine did not count them (Tesseract).
    hidden: int | None = None
    # Where `auto` read the page with both engines and they agreed: the share of this reading's
    # characters the other engine's reading differs on (crosscheck.differ), a bound the quality
    # estimate takes; None when no second reading was compared.
    checked: float | None = None
    # Characters read where the recogniser nearly read another form of them (OcrResult.variants),
    # for the quality estimate; None when the engine did not count them (Tesseract).
    variants: int | None = None


def recognise(image: Image.Image, dpi: int | None, cfg: Config, hint: str = "",
              engine: Engine | None = None, name: str = "") -> Recognised:
    """Image -> text with `engine`, or else the engine `name` (default: `cfg`'s) names.

    `auto` reads every page with PP-OCR, and a page PP-OCR finds vertical also with Tesseract's
    vertical model: where the two agree on the characters and Tesseract's reading has the
    punctuation PP-OCR drops from vertical columns, Tesseract's is kept, otherwise PP-OCR's
    (measured in benchmarks/README.md: bag F1 on real vertical pages 97% against 0-94%). Under
    `auto`, an engine that fails on the page (error, timeout) hands it to the other engine before
    the page counts as failed; an engine named on purpose (`--engine paddle|tesseract`) reads
    alone.
    """
    if engine is not None:
        return _read_page(engine, image, dpi, cfg, hint)
    wanted = name or cfg.engine
    first = ENGINE_PADDLE if wanted == ENGINE_AUTO else wanted
    try:
        recognised = _read_page(engine_for(cfg, first), image, dpi, cfg, hint)
    except OcrError as exc:
        if wanted != ENGINE_AUTO:
            raise  # an engine named on purpose reads alone (diagnosis, comparisons)
        second = other_engine(first)
        log.warning("%s failed on a page (%s); reading it with %s", first, exc, second)
        try:
            recognised = _read_page(engine_for(cfg, second), image, dpi, cfg, hint)
        except OcrError as again:
            raise OcrError(f"{exc}; {second} too: {again}") from again
        return replace(recognised, steps=recognised.steps + (f"after-{first}-failed",))
    if wanted == ENGINE_AUTO and recognised.lang.endswith("_vert"):
        return _second_reading(recognised, image, dpi, cfg)
    return recognised


def _second_reading(first: Recognised, image: Image.Image, dpi: int | None,
                    cfg: Config) -> Recognised:
    """A vertical page PP-OCR read, read again by Tesseract; the reading kept (see recognise).

    Tesseract first reads a strip: the page's first columns (its right side), holding
    SAMPLE_SHARE of PP-OCR's characters. Where the two disagree there, PP-OCR's reading is kept
    without reading the rest: on the real vertical pages measured they disagreed everywhere."""
    tesseract = engine_for(cfg, ENGINE_TESSERACT)
    # PP-OCR found the page's script and direction, and read it upright: Tesseract is told them
    # (no trial of models, no orientation check), unless --lang named a model.
    told = replace(cfg, lang=first.lang if cfg.lang == AUTO else cfg.lang,
                   skip_steps=tuple(dict.fromkeys(cfg.skip_steps + (STEP_ORIENTATION,))))
    strip = first_columns(first.words, image.width)
    try:
        if strip is not None:
            cut, text = strip
            trial = _read_page(tesseract, image.crop((cut, 0, image.width, image.height)), dpi,
                               told, first.lang)
            if not readings_agree(text, trial.text):
                return replace(first, steps=first.steps + (STEP_ENGINES_DISAGREE,))
        second = _read_page(tesseract, image, dpi, told, first.lang)
    except OcrError as exc:
        log.debug("Tesseract's second reading failed: %s", exc)
        return first
    if not readings_agree(first.text, second.text):
        return replace(first, steps=first.steps + (STEP_ENGINES_DISAGREE,))
    # The two agree: the reading kept is checked against the other (crosscheck.py).
    if not adds_punctuation(first.text, second.text):
        return replace(first, steps=first.steps + (STEP_NO_PUNCTUATION,),
                       checked=differ(first.text, second.text))
    return replace(second, steps=second.steps + (STEP_ENGINES_AGREE,),
                   checked=differ(second.text, first.text))


def first_columns(words: Sequence[Word], width: int) -> tuple[int, str] | None:
    """Where to cut a vertical page (columns read right to left) so that the strip right of
    the cut holds at least SAMPLE_SHARE of the characters of `words`, and those characters.

    The cut lies in a gap no word covers, the first one left of the words that make the share;
    None when there is none before the strip would hold most of the page (a page of one or two
    columns: then the whole page is the sample)."""
    found = [w for w in words if w.text.strip()]
    total = sum(len(w.text) for w in found)
    if not total or width <= 0:
        return None
    covered = np.zeros(width + 1, dtype=bool)
    for w in found:
        covered[max(0, w.left):max(0, min(width, w.left + w.width))] = True
    count, cut = 0, 0
    for w in sorted(found, key=lambda w: w.left + w.width / 2, reverse=True):
        count += len(w.text)
        if count >= SAMPLE_SHARE * total:
            cut = min(max(0, w.left), width)
            break
    while cut > 0 and covered[cut]:
        cut -= 1
    inside = [w for w in found if w.left >= cut]
    if cut <= 0 or sum(len(w.text) for w in inside) > SAMPLE_MOST * total:
        return None
    return cut, "".join(w.text for w in inside)


def readings_agree(paddle_text: str, tesseract_text: str) -> bool:
    """True when Tesseract's reading holds PP-OCR's characters (letters and digits) and little
    else: at least AGREE_COVER of PP-OCR's are in it, and they make AGREE_SHARE of it (it may
    hold a column PP-OCR's detector missed, not a page of misreadings)."""
    ours, theirs = Counter(_letters(paddle_text)), Counter(_letters(tesseract_text))
    if not ours or not theirs:
        return False
    common = sum((ours & theirs).values())
    return (common >= AGREE_COVER * sum(ours.values())
            and common >= AGREE_SHARE * sum(theirs.values()))


def adds_punctuation(paddle_text: str, tesseract_text: str) -> bool:
    """True when Tesseract's reading holds at least PUNCTUATION_GAIN sentence marks more than
    PP-OCR's per letter or digit of PP-OCR's: what keeping it is for."""
    letters = len(_letters(paddle_text))
    gain = _marks(tesseract_text) - _marks(paddle_text)
    return letters > 0 and gain >= PUNCTUATION_GAIN * letters


def _marks(text: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFKC", text) if c in SENTENCE_MARKS)


def _letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c)[0] in "LN")


def _read_page(engine: Engine, image: Image.Image, dpi: int | None, cfg: Config,
               hint: str) -> Recognised:
    """One engine's reading of the page, its boxes and ALTO in the scan's pixels."""
    if engine.name == ENGINE_PADDLE:
        result, pre = _read_paddle(engine, image, dpi, cfg)
        lang = result.lang
    else:
        result, pre, choice = recognise_page(image, dpi, cfg.lang, preprocess_options(cfg),
                                             timeout=cfg.ocr_timeout, hint=hint, engine=engine)
        lang = choice.lang
    # Word boxes and ALTO are kept in the scan's pixels: exports draw them over the scan.
    geometry = PageGeometry.of(image.size, pre)
    return Recognised(result.text, result.confidence, words_to_source(result.words, geometry),
                      alto_to_source(result.alto, geometry, result.tree), lang, engine.name,
                      engine.info(lang).model, pre.steps + result.steps, result.corrections,
                      result.ink if pre.image is image else None, result.hidden,
                      variants=result.variants)


def _read_paddle(engine: Engine, image: Image.Image, dpi: int | None, cfg: Config
                 ) -> tuple[OcrResult, PreprocessResult]:
    """PP-OCR's reading of the page as it is, or of a copy with its red seals lifted, or of the
    page turned 180 degrees, whichever reads better.

    PP-OCR reads the page as it is: on the rendered and real pages measured it read as well or
    better without Wenshi's clean-up (benchmarks/README.md). Its line direction classifier is
    off (engines/paddle.py), so a page scanned upside down is turned here: a page read with a
    mean character confidence under PADDLE_DOUBT (or no text at all) is read again turned, and
    the reading with more confident characters kept. A page with a red seal stamped over its
    text (pipeline/page/seals.py) is read again with the seals lifted, and the same way the
    reading with more confident characters kept: the copy loses whatever red ink the seals'
    boxes hold besides the seal. A page whose back shows through its paper (bleed.py: its
    faint ink reads as text mirrored) is read, from the start, with its faint ink whitened but for
    the faint lines that read as the page's own."""
    steps = preprocess_options(cfg)
    options = ReadOptions("chi_sim", dpi=dpi or DEFAULT_TARGET_DPI, timeout=cfg.ocr_timeout,
                          deskew=steps.runs(STEP_DESKEW))
    pre = PreprocessResult(image, options.dpi, 0.0, 0, ())
    # The back's text seen through thin paper: the page is read with it whitened (bleed.py).
    if steps.runs(STEP_BLEED_THROUGH):
        faint = read_faint_layer(image, lambda layer, most: read_mirrored(layer, most,
                                                                          cfg.ocr_timeout))
        if shows_through(faint):
            pre = replace(pre, image=whitened(image, faint.own), steps=(STEP_BLEED_THROUGH,))
    result = engine.read(pre.image, options)
    if pre.steps and _characters(result) < BLEED_MIN_CHARS:
        # Whitening left (almost) nothing to read: what read as a back was the page's own faded
        # text (an aged scan whose dark border set the ink level: shiji16_modern_p2 under
        # `ocr_accuracy.py --realpages --degrade e` read as nothing; benchmarks/README.md,
        # "Session 15, real pages made to look scanned"). The page as it is is read too, and
        # kept when it reads with confidence (a blank page's mirrored back reads doubtfully).
        plain = engine.read(image, options)
        if not _below(plain, PADDLE_DOUBT) and _characters(plain) > _characters(result):
            result, pre = plain, PreprocessResult(image, options.dpi, 0.0, 0, ())
    seals = find_seals(pre.image) if steps.runs(STEP_SEAL) else ()
    if seals:
        # A red seal over the text: the copy with the seals lifted is read too (seals.py).
        lifted = replace(pre, image=lift_seals(pre.image, seals), steps=pre.steps + (STEP_SEAL,))
        again = engine.read(lifted.image, options)
        log.debug("page with %d seals read with confidence %s; lifted: %s", len(seals),
                  result.confidence, again.confidence)
        if _weight(again) > _weight(result):
            result, pre = again, lifted
    if not steps.runs(STEP_ORIENTATION) or not _below(result, PADDLE_DOUBT):
        return result, pre
    turned = replace(pre, image=rotate_upright(pre.image, 180), rotation=180,
                     steps=pre.steps + (STEP_ORIENTATION,))
    again = engine.read(turned.image, options)
    log.debug("page read with confidence %s; turned 180 degrees: %s", result.confidence,
              again.confidence)
    if _weight(again) > _weight(result):
        return again, turned
    return result, pre


def _characters(result: OcrResult) -> int:
    return sum(len(w.text) for w in result.words)


def _weight(result: OcrResult) -> float:
    """The characters a reading holds, each counted by its confidence."""
    return sum(w.confidence * len(w.text) for w in result.words)


def preprocess_options(cfg: Config) -> PreprocessOptions:
    """The preprocessing steps the configuration leaves on."""
    if not cfg.preprocess:
        return PreprocessOptions.nothing()
    return PreprocessOptions.without(*cfg.skip_steps)


def recognise_page(image: Image.Image, source_dpi: int | None, requested_lang: str,
                   options: PreprocessOptions = PreprocessOptions(),
                   timeout: float = DEFAULT_OCR_TIMEOUT, hint: str = "",
                   engine: Engine | None = None) -> tuple[OcrResult, PreprocessResult, LangChoice]:
    """Preprocess one page, choose the model, and recognise it with `engine` (Tesseract when
    None).

    One Tesseract run when the page reads well; orientation and (under a `hint`) the script are
    checked only when it does not, or when its direction contradicts the hint's."""
    engine = engine or TesseractEngine()
    pre = preprocess_image(image, source_dpi,
                           replace(options, skip=options.skip | {STEP_ORIENTATION}))
    hint = hint if requested_lang == AUTO else ""
    choice = choose_lang(pre.image, requested_lang, hint, engine)
    checked = False
    decided = hint not in ("", PROVISIONAL)
    if options.runs(STEP_ORIENTATION) and decided and choice.vertical != hint.endswith("_vert"):
        # A horizontal volume's page that looks vertical is most likely scanned sideways.
        pre, checked = _turn_upright(pre, options), True
        if pre.rotation:
            choice = choose_lang(pre.image, requested_lang, hint, engine)
    result = _read(engine, pre, choice, timeout)
    if _below(result, LOW_CONFIDENCE) and options.runs(STEP_ORIENTATION) and not checked:
        turned = _turn_upright(pre, options)
        if turned.rotation:
            retry = choose_lang(turned.image, requested_lang, hint, engine)
            result, pre, choice = _better((result, pre, choice),
                                          (_read(engine, turned, retry, timeout), turned, retry))
    if hint and _below(result, SCRIPT_RECHECK_CONFIDENCE):
        # The document's script may not be this page's: give the page its own trial.
        own = choose_lang(pre.image, requested_lang, engine=engine)
        if own.lang != choice.lang:
            result, pre, choice = _better((result, pre, choice),
                                          (_read(engine, pre, own, timeout), pre, own))
    log.debug("page: %s psm %d (%s); steps %s", choice.lang, choice.psm, choice.reason,
              ",".join(pre.steps))
    return result, pre, choice


def _read(engine: Engine, pre: PreprocessResult, choice: LangChoice, timeout: float
          ) -> OcrResult:
    return engine.read(pre.image, ReadOptions(choice.lang, choice.psm, pre.dpi, timeout))


def _below(result: OcrResult, confidence: float) -> bool:
    return result.confidence is None or result.confidence < confidence


Reading = tuple[OcrResult, PreprocessResult, LangChoice]


def _better(first: Reading, second: Reading) -> Reading:
    return second if (second[0].confidence or 0.0) > (first[0].confidence or 0.0) else first


def _turn_upright(pre: PreprocessResult, options: PreprocessOptions) -> PreprocessResult:
    """The page turned upright by Tesseract OSD (unchanged when OSD finds it upright)."""
    rotation = detect_rotation(pre.sharp or pre.image, options.osd_min_confidence,
                               round(_OSD_CROP * pre.dpi / 300))
    if not rotation:
        return pre
    sharp = rotate_upright(pre.sharp, rotation) if pre.sharp else None
    return replace(pre, image=rotate_upright(pre.image, rotation), rotation=rotation,
                   steps=pre.steps + (STEP_ORIENTATION,), sharp=sharp)
