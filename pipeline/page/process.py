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
from dataclasses import dataclass, replace
from functools import lru_cache

from lxml import etree
from PIL import Image

from ..config import DEFAULT_OCR_TIMEOUT, Config
from ..errors import InputFileError, OcrError
from ..records import METHOD_OCR, Page, PageTask, Word
from ..text.clean import clean_ocr_text
from .alto import parse_alto
from .derivatives import page_derivatives
from .engines import Engine, OcrResult, ReadOptions
from .engines.tesseract import TesseractEngine
from .geometry import PageGeometry, alto_to_source, words_to_source
from .images import load_page_image
from .preprocess import (
    STEP_ORIENTATION,
    PreprocessOptions,
    PreprocessResult,
    detect_rotation,
    preprocess_image,
    rotate_upright,
)
from .quality import PageQuality, estimate_alto, mark_alto
from .script import AUTO, PROVISIONAL, LangChoice, choose_lang

log = logging.getLogger(__name__)

# Below this mean word confidence a page is looked at again: orientation, and the script when it
# came from a hint. Upright pages in the right model read at 86-90 (clean or degraded), pages
# turned by 90/180/270° at 16-27.
LOW_CONFIDENCE = 60.0
# A page read with the document's script is given its own script trial below this: a traditional
# page read with chi_sim scored 74 (chi_tra: 88), so the orientation threshold would miss it.
SCRIPT_RECHECK_CONFIDENCE = 80.0
_OSD_CROP = 500  # pixels at 300 dpi: ~100 characters, enough for OSD (preprocess.detect_rotation)


def engine_for(cfg: Config) -> Engine:
    """The engine `cfg` reads pages with, built once per process: a worker keeps it for every
    page it is handed. Tesseract, the one engine today."""
    return _engine(TesseractEngine.name)


@lru_cache(maxsize=None)
def _engine(name: str) -> Engine:
    return TesseractEngine()


def process_page(task: PageTask, cfg: Config, engine: Engine | None = None) -> Page:
    """Load, preprocess, OCR and clean one page. Runs in a worker process.

    `engine` reads the page; None: the engine `cfg` names (`engine_for`).

    A page that cannot be read or recognised (damaged image data, Tesseract crash or timeout)
    comes back with its error, so the rest of the document goes on. Only a missing Tesseract or
    language model raises: then no page anywhere can be recognised.
    """
    try:
        image, dpi = load_page_image(task, cfg)
        recognised = recognise(image, dpi, cfg, task.lang_hint, engine or engine_for(cfg))
    except (InputFileError, OcrError) as exc:
        return Page(number=task.number, text="", method=METHOD_OCR,
                    error=page_error(task.number, exc))
    alto, estimate = assess_alto(recognised.alto)
    return Page(
        number=task.number, text=clean_ocr_text(recognised.text), method=METHOD_OCR,
        confidence=recognised.confidence, words=recognised.words, alto=alto,
        lang=recognised.lang, width=image.width, height=image.height,
        images=page_derivatives(image),
        error_rate=estimate.error_rate if estimate else None,
        est_errors=estimate.errors if estimate else None,
        quality_reasons=estimate.reasons if estimate else (),
    )


def assess_alto(alto: str) -> tuple[str, PageQuality | None]:
    """The page's ALTO with per-character doubt (CC) marked, and its quality estimate."""
    root = parse_alto(alto)
    if root is None:
        return alto, None
    estimate = estimate_alto(root)
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
    """OCR output of one page plus the model that read it."""

    text: str
    confidence: float | None
    words: tuple[Word, ...]
    alto: str
    lang: str


def recognise(image: Image.Image, dpi: int | None, cfg: Config, hint: str = "",
              engine: Engine | None = None) -> Recognised:
    """Image -> text: preprocessing, model choice (`--lang auto`, with the document's `hint`)
    and, for a page that reads well, one engine run."""
    result, pre, choice = recognise_page(image, dpi, cfg.lang, preprocess_options(cfg),
                                         timeout=cfg.ocr_timeout, hint=hint,
                                         engine=engine or engine_for(cfg))
    # Word boxes and ALTO are kept in the scan's pixels: exports draw them over the scan.
    geometry = PageGeometry.of(image.size, pre)
    return Recognised(result.text, result.confidence, words_to_source(result.words, geometry),
                      alto_to_source(result.alto, geometry, result.tree), choice.lang)


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
