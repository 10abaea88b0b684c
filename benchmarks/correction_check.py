"""What the post-OCR correction (pipeline/page/correct.py) does to text it should not touch, and
what it costs.

1. Correct text: real Chinese (every 50th page of ../shared/corpus/laws-zh.jsonl.gz and the
   texts of samples/) is set in lines of 30 characters, in faces the correction does not draw
   its references with (Noto Serif CJK SC Bold, Noto Sans CJK SC Bold), with one ALTO String
   per character at its ink box, as if Tesseract had read every character right. Every change
   the correction makes there is a false correction. Printed: characters, what the dictionary
   alone would change (`correct_text` without the image), what the correction changes.
2. With --ocr-pages N: N other pages of the corpus (not the ones above, not the texts of
   ocr_accuracy.py) rendered as ocr_accuracy.py renders its pages, clean and at 150 dpi + JPEG
   q40, read by Tesseract (chi_sim, no correction); then corrected: edit distance before and
   after, and the correction's CPU seconds per page.

3. With --sample-scans: the scanned pages of samples/ (manifest page_sources "ocr"), read raw
   (chi_sim, psm 3, no correction) and by Wenshi's page path: CER of raw Tesseract, of Wenshi
   without the correction and with it (pooled; the clean-up applied to Wenshi's text).

    .venv/bin/python benchmarks/correction_check.py                  # ~1 min
    .venv/bin/python benchmarks/correction_check.py --ocr-pages 8    # + ~16 Tesseract runs
    .venv/bin/python benchmarks/correction_check.py --sample-scans   # + the bundled scans
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_accuracy as bench  # noqa: E402

from pipeline.page import correct  # noqa: E402
from pipeline.page.engines.tesseract import ocr_image  # noqa: E402
from pipeline.page.preprocess import preprocess_image  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"
FACES = {"Noto Serif CJK SC Bold": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
         "Noto Sans CJK SC Bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2)}
CELL = 44
LINE = 30


def corpus_pages(every: int, offset: int, limit: int | None = None) -> list[str]:
    """Texts of every `every`-th page of the corpus, starting at `offset`."""
    out = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for k, line in enumerate(f):
            if k % every == offset:
                out.append(json.loads(line)["text"])
                if limit and len(out) >= limit:
                    break
    return out


def set_line(text: str, font: ImageFont.FreeTypeFont) -> tuple[Image.Image, str]:
    """`text` one character per cell, and an ALTO String per character at its ink box."""
    image = Image.new("L", (CELL * (len(text) + 2), CELL * 3), 255)
    draw = ImageDraw.Draw(image)
    strings = []
    for k, ch in enumerate(text):
        centre = (CELL * (k + 1) + CELL / 2, CELL * 1.5)
        draw.text(centre, ch, font=font, fill=0, anchor="mm")
        alone = Image.new("L", image.size, 0)
        ImageDraw.Draw(alone).text(centre, ch, font=font, fill=255, anchor="mm")
        box = alone.getbbox()
        if ch.strip() and box:
            left, top, right, bottom = box
            strings.append(f'<String HPOS="{left}" VPOS="{top}" WIDTH="{right - left}" '
                           f'HEIGHT="{bottom - top}" CONTENT="{ch}"/>')
    return image, "<alto>" + "".join(strings) + "</alto>"


def check_correct_text(texts: list[str]) -> None:
    lines = []
    for text in texts:
        for para in text.split("\n"):
            for start in range(0, len(para), LINE):
                chunk = "".join(ch for ch in para[start:start + LINE] if ch not in '"&<>')
                if chunk.strip():
                    lines.append(chunk)
    chars = sum(len(line) for line in lines)
    proposed = [line for line in lines if correct.correct_text(line)[1]]
    n_proposed = sum(len(correct.correct_text(line)[1]) for line in proposed)
    print(f"correct text: {chars:,} characters in {len(lines):,} lines; the dictionary alone "
          f"would change {n_proposed} characters in {len(proposed)} lines")
    for name, (path, index) in FACES.items():
        font = ImageFont.truetype(path, CELL, index=index)
        changes = []
        began = time.process_time()
        for line in proposed:  # a line the dictionary leaves alone cannot change
            image, alto = set_line(line, font)
            _, _, made = correct.correct_page(line, alto, image)
            changes += [f"{line[max(0, c.index - 3):c.index + 4]} {c.original}>{c.replacement}"
                        for c in made]
        seconds = time.process_time() - began
        print(f"  set in {name}: {len(changes)} characters changed "
              f"({len(changes) / chars * 1e5:.1f} per 100,000), image checks {seconds:.1f} CPU s")
        for change in changes:
            print(f"    {change}")


def check_ocr_pages(pages: int) -> None:
    texts = ["".join(t.split()) for t in corpus_pages(50, 25, pages)]
    before = after = length = 0
    seconds: list[float] = []
    made_all = []
    for text in texts:
        text = text[len(text) // 3:len(text) // 3 + 300]
        clean = bench.render_horizontal(text)
        for image, dpi in ((clean, 300), (bench.low_resolution(clean), 150)):
            pre = preprocess_image(image, dpi)
            raw = ocr_image(pre.image, "chi_sim", psm=3, dpi=pre.dpi, correct=False)
            start = time.process_time()
            fixed, _, made = correct.correct_page(raw.text, raw.alto, pre.image)
            seconds.append(time.process_time() - start)
            before += bench.levenshtein(text, "".join(raw.text.split()))
            after += bench.levenshtein(text, "".join(fixed.split()))
            length += len(text)
            made_all += [f"{c.original}>{c.replacement}({c.word})" for c in made]
    print(f"OCR pages: {len(seconds)} pages, {length:,} characters; edit distance {before} -> "
          f"{after} ({before / length:.2%} -> {after / length:.2%})")
    print(f"  corrections: {' '.join(made_all) or 'none'}")
    seconds.sort()
    print(f"  correction CPU s per page: median {seconds[len(seconds) // 2]:.3f}, "
          f"max {seconds[-1]:.3f} (dictionary already loaded)")


def sample_scans() -> list[tuple[str, Image.Image, int | None, str]]:
    """The pages of samples/ that are read by OCR (no text layer), with what the manifest says
    they hold: name, image, dpi (None where the file does not say), reference text."""
    from pipeline.config import Config
    from pipeline.page.images import load_page_image
    from pipeline.records import PageTask
    from pipeline.run.sources import identify, plan_document

    root = Path(__file__).resolve().parent.parent / "samples"
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    cfg = Config()
    out = []
    for entry in manifest["files"]:
        ocr_pages = [n for n, how in enumerate(entry["page_sources"], start=1) if how == "ocr"]
        if not ocr_pages:
            continue
        plan = plan_document(identify(root / entry["path"]), cfg)
        for task in plan.pages:
            if not isinstance(task, PageTask) or task.number not in ocr_pages:
                continue  # a page with a text layer: nothing was read
            image, dpi = load_page_image(task, cfg)
            out.append((f"sample:{Path(entry['path']).stem}:{task.number}", image, dpi,
                        entry["texts"][task.number - 1]))
    return out


def check_sample_scans() -> None:
    from pipeline.page.process import recognise_page
    from pipeline.text.clean import clean_ocr_text

    raw_errors = plain_errors = errors = length = 0
    made_all = []
    for _, image, dpi, reference in sample_scans():
        raw = ocr_image(image, "chi_sim", psm=3, dpi=dpi or 300, correct=False)
        result, _, _ = recognise_page(image, dpi, "auto")
        chars = list(result.text)
        for c in result.corrections:
            chars[c.index] = c.original
        raw_errors += bench._distance(reference, raw.text)[0]
        plain_errors += bench._distance(reference, clean_ocr_text("".join(chars)))[0]
        errors += bench._distance(reference, clean_ocr_text(result.text))[0]
        length += bench._distance(reference, "")[1]
        made_all += [f"{c.original}>{c.replacement}({c.word})" for c in result.corrections]
    print(f"sample scans: {length:,} reference characters; CER raw Tesseract "
          f"{raw_errors / length:.2%}, Wenshi without correction {plain_errors / length:.2%}, "
          f"Wenshi {errors / length:.2%}")
    print(f"  corrections: {' '.join(made_all) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr-pages", type=int, default=0,
                        help="also read this many corpus pages with Tesseract (x2 conditions)")
    parser.add_argument("--sample-scans", action="store_true",
                        help="also measure the scanned pages of samples/")
    args = parser.parse_args(argv)
    start = time.process_time()
    correct.correct_text("预热")  # load the dictionary and the table once, outside the timings
    print(f"dictionary and look-alike table loaded: {time.process_time() - start:.2f} CPU s")
    check_correct_text(corpus_pages(50, 0) + list(bench.sample_texts("samples")[0]))
    if args.ocr_pages:
        check_ocr_pages(args.ocr_pages)
    if args.sample_scans:
        check_sample_scans()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
