"""Tesseract through pytesseract, the first engine behind the seam (`pipeline.page.engines`).
The only module that runs Tesseract.

One Tesseract run per page writes the plain text and the ALTO XML (word boxes and confidences)
together, so a page is never recognised twice. Orientation detection (OSD) is Tesseract's too
(`detect_orientation`, used by pipeline.page.preprocess), whatever engine reads the page.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytesseract
from PIL import Image

from ...errors import EnvironmentProblemError, OcrError
from ...records import Word
from ..alto import parse_alto
from . import EngineInfo, OcrResult, ReadOptions, finish_result, words_of

log = logging.getLogger(__name__)

_LANG_PACKAGES = {
    "chi_sim": "tesseract-ocr-chi-sim",
    "chi_tra": "tesseract-ocr-chi-tra",
    "chi_sim_vert": "tesseract-ocr-chi-sim-vert",
    "chi_tra_vert": "tesseract-ocr-chi-tra-vert",
    "osd": "tesseract-ocr-osd",
    "eng": "tesseract-ocr-eng",
}


class TesseractEngine:
    """The Tesseract engine (stateless: building one costs nothing)."""

    name = "tesseract"

    def read(self, image: Image.Image, options: ReadOptions) -> OcrResult:
        """Recognise one page image with Tesseract (`ocr_image`)."""
        return ocr_image(image, options.lang, psm=options.psm, dpi=options.dpi,
                         timeout=options.timeout, correct=options.correct)

    def info(self, model: str) -> EngineInfo:
        """Tesseract, its version and `model`."""
        return EngineInfo(self.name, tesseract_version(), model)

    def check(self, lang: str) -> None:
        """Fail when a language model named in `lang` is missing (`check_languages`)."""
        check_languages(lang)


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """The installed Tesseract version, e.g. '5.3.0'."""
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError as exc:
        raise EnvironmentProblemError(
            "Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim"
        ) from exc


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Tesseract language models present on this machine."""
    tesseract_version()
    return frozenset(pytesseract.get_languages(config=""))


def check_languages(lang: str) -> None:
    """Fail before any work when a language model named in `lang` ('a+b') is missing."""
    missing = [part for part in lang.split("+") if part not in installed_languages()]
    if missing:
        packages = " ".join(_LANG_PACKAGES.get(m, f"tesseract-ocr-{m.replace('_', '-')}")
                            for m in missing)
        raise EnvironmentProblemError(
            f"Tesseract language model {', '.join(missing)} is not installed: "
            f"apt-get install {packages}"
        )


def _tesseract_args(psm: int, dpi: int) -> str:
    # One place builds the arguments for every run. The extra outputs ride on the same run.
    return f"--psm {psm} --dpi {dpi} -c tessedit_create_alto=1 -c tessedit_create_txt=1"


def ocr_image(image: Image.Image, lang: str, psm: int = 3, dpi: int = 300, timeout: float = 180.0,
              correct: bool = True) -> OcrResult:
    """Recognise one page image: text, word boxes, confidences and ALTO from one run.

    With `correct` (the default), characters the model misread for a look-alike are replaced
    where the dictionary gives evidence for it, in the text and the ALTO alike
    (pipeline.page.correct, through `engines.finish_result`); simplified-Chinese models only.
    `correct=False` is Tesseract's output as it is.
    """
    with tempfile.TemporaryDirectory(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-") as tmp:
        # PNM, not PNG: Tesseract reads both the same (identical text and ALTO), but compressing
        # a 300-dpi page to PNG took 0.2-0.3 s, ~8 % of the page's Tesseract time; PNM takes ms.
        src = Path(tmp) / "page.pnm"
        if image.mode not in ("1", "L", "RGB"):
            image = image.convert("L")
        image.save(src, format="PPM")
        base = str(Path(tmp) / "out")
        try:
            pytesseract.pytesseract.run_tesseract(
                str(src), base, extension="txt", lang=lang,
                config=_tesseract_args(psm, dpi), timeout=_seconds(timeout),
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise EnvironmentProblemError(
                "Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim"
            ) from exc
        except pytesseract.TesseractError as exc:
            raise OcrError(f"Tesseract failed: {exc.message}") from exc
        except RuntimeError as exc:  # pytesseract signals its timeout with a bare RuntimeError
            raise OcrError(f"Tesseract timed out after {timeout:g} s") from exc
        text = Path(base + ".txt").read_text(encoding="utf-8", errors="replace")
        alto = Path(base + ".xml").read_text(encoding="utf-8", errors="replace")
    result = finish_result(text, alto, image, ReadOptions(lang, psm, dpi, timeout, correct))
    log.debug("[tesseract] %s psm %d: %d words", lang, psm, len(result.words))
    return result


# A page's work folder (its image and Tesseract's outputs, ~5 MB) carries the pid of the process
# that made it: a worker killed mid-page leaves it behind, and an ingest can tell it from a live
# one (ingest.remove_orphaned_work_dirs).
WORK_DIR_PREFIX = "wenshi-ocr-"


def parse_alto_words(alto: str) -> tuple[Word, ...]:
    """The String elements of a Tesseract ALTO document as Words (confidence 0-100)."""
    return words_of(parse_alto(alto))


def _seconds(timeout: float) -> float:
    """pytesseract's timeout: 0 would mean none, so a tiny limit stays a limit (not rounded up
    to 1 s, which a quick page beats on a quiet machine)."""
    return max(timeout, 0.001)


def detect_orientation(image: Image.Image, timeout: float = 60.0) -> tuple[int, float]:
    """Tesseract OSD: (degrees to rotate clockwise to make the page upright, confidence)."""
    try:
        osd = pytesseract.image_to_osd(image, config="--psm 0", timeout=_seconds(timeout),
                                       output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError as exc:
        # Too few characters for OSD is common on sparse pages: treat as upright.
        log.debug("[tesseract] osd: %s", exc.message)
        return 0, 0.0
    except RuntimeError as exc:
        raise OcrError(f"Tesseract orientation detection timed out after {timeout:g} s") from exc
    return int(osd.get("rotate", 0)), float(osd.get("orientation_conf", 0.0))


def single_threaded_env() -> None:
    """Make every Tesseract this process starts single-threaded.

    Tesseract's OpenMP threads fight each other when several pages run at once: measured on a
    2-core machine, one page took 2.5x longer with the default threads than with one.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def tesseract_available() -> bool:
    """True when a tesseract binary is on PATH."""
    return shutil.which(pytesseract.pytesseract.tesseract_cmd) is not None
