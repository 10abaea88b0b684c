"""Small generated scans for the ingest tests: short Chinese lines, fast to OCR, known text."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.config import Config
from pipeline.errors import OcrError
from pipeline.page.engines import EngineInfo, OcrResult, ReadOptions
from pipeline.records import METHOD_OCR, Page, PageTask, Word

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FONT_SC = 2  # Noto Serif CJK SC in the collection
DPI = 300

# One phrase per page, each unique in the whole test set, so a search names exactly one page.
# Tesseract reads short strips unevenly, so tests that search look only for SEARCHABLE, which
# chi_sim read exactly at this size; the rest only need to be distinct pages.
PHRASES = (
    "清水江大桥通车", "白沙河畔兴建电厂", "县城东门旧盐仓", "青石岭车站落成",
    "夜校讲授锅炉知识", "公社排灌用电", "粮食产量逐年提高", "城墙周长四里",
    "县人民委员会决定", "汽轮发电机组并网", "茶叶油菜水稻", "护城河环绕县城",
    "乡镇企业发展", "纺织机械制造", "初级社高级社", "省电业管理局派员",
)
SEARCHABLE = "清水江大桥"
# The tests name the model: `--lang auto` guesses script and direction from the page, and a
# one-line strip is too little page for that (it was read as vertical text, backwards).
LANG = "chi_sim"


def page_image(phrase: str, width: int = 1000, height: int = 300) -> Image.Image:
    """A clean 300-dpi greyscale strip with one line of text: Tesseract reads it in well under
    a second, so tests stay fast on a loaded two-core machine."""
    font = ImageFont.truetype(FONT, 44, index=FONT_SC)
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((80, 100), phrase + "。", font=font, fill=0)
    return image


def write_png(path: Path, phrase: str) -> Path:
    """One page as a PNG file."""
    page_image(phrase).save(path, dpi=(DPI, DPI))
    return path


def write_pdf(path: Path, phrases: list[str]) -> Path:
    """A scanned PDF: one JPEG image per page, no text layer."""
    pages = [page_image(p) for p in phrases]
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=DPI)
    return path


def write_tiff(path: Path, phrases: list[str]) -> Path:
    """A multi-page greyscale TIFF."""
    pages = [page_image(p) for p in phrases]
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate",
                  dpi=(DPI, DPI))
    return path


def png_bytes(phrase: str) -> bytes:
    """One page as PNG bytes."""
    buffer = io.BytesIO()
    page_image(phrase).save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


SLOW_TESSERACT = '''#!{python}
"""Stands in for tesseract: the first recognition run hangs (until the caller's timeout kills
it); every other call, version and language queries included, is the real tesseract."""
import os, sys, time
real = {real!r}
args = sys.argv[1:]
if ("--version" not in args and "--list-langs" not in args
        and "0" != (args[args.index("--psm") + 1] if "--psm" in args else "")):
    try:
        os.close(os.open({sentinel!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        pass
    else:
        time.sleep(120)
        sys.exit(1)
os.execv(real, [real] + args)
'''


def install_slow_tesseract(folder: Path, real: str) -> Path:
    """Put a `tesseract` on a PATH folder whose first recognition run hangs; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "tesseract"
    script.write_text(SLOW_TESSERACT.format(python=sys.executable, real=real,
                                            sentinel=str(folder / "hung-once")), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for running `wenshi` in a subprocess from the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENSHI_")}
    env.update(extra)
    return env


def crash_on_page_two(task: PageTask, cfg: Config, engine: object = None) -> Page:
    """Stands in for `process_page` in pool workers, which import it by name: page 2 kills
    its worker process outright, as a segfault in a decoder would."""
    if task.number == 2:
        os._exit(3)
    return Page(number=task.number, text=f"第{task.number}页", method=METHOD_OCR)


def crash_unless_tesseract(task: PageTask, cfg: Config, engine: object = None) -> Page:
    """Stands in for `process_page` in pool workers: page 2 kills its worker process unless
    the task names Tesseract, as a crash inside PP-OCR on that page would; every page (page 2
    too, once it names Tesseract) is then read for real by `process_page`."""
    from pipeline.page.engines import ENGINE_TESSERACT
    from pipeline.page.process import process_page

    if task.number == 2 and task.engine != ENGINE_TESSERACT:
        os._exit(3)
    return process_page(task, cfg)


class FakeEngine:
    """A small OCR engine for the tests of the page loop and the ingest around it: no Tesseract.

    Every read returns 25 one-character words at the confidence `confidences` gives the model
    (by its script: 'chi_sim' or 'chi_tra'), and notes what it was asked (model, corrected or
    not: the script trial reads uncorrected). Chosen reads (1-based) fail as a timed-out
    Tesseract would."""

    name = "fake"

    def __init__(self, confidences: dict[str, float] | None = None, text: str = "",
                 fail_reads: tuple[int, ...] = ()) -> None:
        self.confidences = confidences or {"chi_sim": 91.0, "chi_tra": 91.0}
        self.text = text
        self.fail_reads = fail_reads
        self.reads: list[tuple[str, bool]] = []
        self.dpis: list[int] = []

    def read(self, image: Image.Image, options: ReadOptions) -> OcrResult:
        self.reads.append((options.lang, options.correct))
        self.dpis.append(options.dpi)
        count = len(self.reads)
        if count in self.fail_reads:
            raise OcrError("Tesseract timed out after 1 s")
        confidence = self.confidences[options.lang[:7]]
        words = tuple(Word("字", 10 * i, 0, 10, 10, confidence) for i in range(25))
        return OcrResult(self.text or f"第{count}次识别的文字", words, "", confidence)

    def info(self, model: str) -> EngineInfo:
        return EngineInfo(self.name, "1", model)

    def check(self, lang: str) -> None:
        return None

    def page_reads(self) -> list[str]:
        """The corrected reads (one per page read, the trial's strips left out), by model."""
        return [lang for lang, corrected in self.reads if corrected]
