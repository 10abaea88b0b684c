"""Red seals over the text (pipeline/page/seals.py) on ../shared/realpages: where they are found,
what looking for them costs, and what lifting them does to the readings.

For every image of the manifest: the seals found and the CPU time of `find_seals` (median of
three runs, the image already decoded). With `--read`, every page with a seal is read by
`wenshi ocr`'s path (`pipeline.page.process.recognise`, then the text clean-up) with the step on
and with `--skip-step seal`, for `--engine auto` and `--engine tesseract`, and scored as
realpages.py scores (NFKC, letters and digits, bag F1 against the ground truth):

    .venv/bin/python benchmarks/seals.py            # ~20 s: where and how fast
    .venv/bin/python benchmarks/seals.py --read     # + the readings (~1 CPU min a seal page)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from realpages import REALPAGES, manifest, score  # noqa: E402

from pipeline.config import Config  # noqa: E402
from pipeline.page.preprocess import STEP_SEAL  # noqa: E402
from pipeline.page.process import recognise  # noqa: E402
from pipeline.page.seals import find_seals  # noqa: E402
from pipeline.text.clean import clean_ocr_text  # noqa: E402


def _cpu_ms(image: Image.Image) -> float:
    times = []
    for _ in range(3):
        start = time.process_time()
        find_seals(image)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _f1(image: Image.Image, dpi: int, gt: str, engine: str, skip: tuple[str, ...]) -> float:
    recognised = recognise(image, dpi, Config(engine=engine, skip_steps=skip))
    return score(clean_ocr_text(recognised.text), gt).f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--read", action="store_true",
                        help="read the pages with seals, with the step and without it")
    args = parser.parse_args()
    entries = manifest((300, 150))
    costs, found = [], []
    for entry in entries:
        image = Image.open(REALPAGES / entry["image"])
        image.load()
        seals = find_seals(image)
        costs.append(_cpu_ms(image))
        if seals:
            found.append((entry, image, seals))
    costs.sort()
    print(f"{len(entries)} images; find_seals CPU ms a page: "
          f"median {statistics.median(costs):.1f}, max {costs[-1]:.1f}")
    print(f"seals found on {len(found)}:")
    for entry, _, seals in found:
        print(f"  {entry['name']:<22} {entry['background']:<7} {entry['layout']:<13} {seals}")
    if not args.read:
        return
    print("bag F1 with the seal step / with --skip-step seal:")
    for entry, image, _ in found:
        gt = (REALPAGES / entry["gt"]).read_text(encoding="utf-8")
        row = [f"  {entry['name']:<22}"]
        for engine in ("auto", "tesseract"):
            on = _f1(image, entry["dpi"], gt, engine, ())
            off = _f1(image, entry["dpi"], gt, engine, (STEP_SEAL,))
            row.append(f"{engine} {on:.2%} / {off:.2%}")
        print("   ".join(row), flush=True)


if __name__ == "__main__":
    main()
