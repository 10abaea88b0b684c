"""Real pages for `ocr_accuracy.py --realpages`: raw Tesseract, raw PP-OCR and Wenshi on
../shared/realpages, scored as its README says.

Runs, each on every page of the manifest (300 dpi, and the 150 dpi copies with --dpi 150):

- `raw-tesseract`: Tesseract as a user would run it, told the page's script and direction from the
  manifest: `chi_sim`/`chi_tra` at psm 3, `chi_tra_vert` at psm 5 for vertical pages (psm 3 read
  them worse: 39% against 73% bag F1, measured), the page as it is, no correction;
- `raw-paddle`: rapidocr's defaults on the page as it is (its own line order, text score 0.5, its
  text-direction classifier on, which Wenshi's engine turns off);
- `wenshi`: `pipeline.page.process.recognise` with `--engine` (default auto) and `--lang auto`,
  then the text clean-up: what `wenshi ocr` prints;
- `wenshi-tesseract`: the same with `--engine tesseract` (Wenshi before PP-OCR).

Scores (realpages/README.md): NFKC, letters and digits only; bag F1 (order-insensitive) pooled
over the pages of a group; ordered CER = edit distance / ground-truth length, pooled over the
pages whose ground-truth order is trustworthy (`order_ok`). Each page's outputs are cached as
JSON in `--cache` (reused when present), so a long run can be split or resumed.

The GT is the PDF's text layer, so text inside raster images (logos, plots, a raster title) is
not in it although a reader sees it; the manifest describes it per page (`image_text`). A second
figure per Wenshi run says how much of the F1 lost to extra characters is that text: the extra
characters (OCR's, beyond the GT's count) that also stand in the page's `image_text`, and the
F1 with them not counted. It is a diagnostic beside the score, not the score: `image_text` is a
description ("logo 云栖社区 | 云效平台 (top left)"), so its own words can absorb a few extras.
"""

from __future__ import annotations

import collections
import functools
import json
import resource
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

# One edit distance for the benchmarks and the engines' check (ocr_accuracy.py, page_quality.py
# and reading_order.py import it from here).
from pipeline.page.crosscheck import edit_distance as levenshtein

ROOT = Path(__file__).resolve().parent.parent
REALPAGES = ROOT.parent / "shared" / "realpages"
RUNS = ("raw-tesseract", "raw-paddle", "wenshi", "wenshi-tesseract")
GROUP_ORDER = ("all", "sim-h", "tra-h", "tra-v", "bg:white", "bg:colour", "bg:dark",
               "layout:single", "layout:multi-column", "layout:table", "layout:figure",
               "layout:mixed")


def norm(text: str) -> str:
    """NFKC, then letters and digits only (the realpages README's scoring)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c)[0] in "LN")


@dataclass(frozen=True)
class Score:
    """Counts for one page: true positives, OCR and GT lengths, edit distance."""

    tp: int
    n_ocr: int
    n_gt: int
    edits: int

    @property
    def f1(self) -> float:
        """Bag-of-characters F1."""
        return _f1(self.tp, self.n_ocr, self.n_gt)


def _f1(tp: int, n_ocr: int, n_gt: int) -> float:
    p, r = tp / max(n_ocr, 1), tp / max(n_gt, 1)
    return 2 * p * r / (p + r) if p + r else 0.0


def image_text_extras(ocr_text: str, gt_text: str, image_text: str) -> int:
    """How many of the OCR's extra characters (beyond the GT's count of each) stand in the
    manifest's description of the page's raster-image text."""
    extra = collections.Counter(norm(ocr_text)) - collections.Counter(norm(gt_text))
    return sum((extra & collections.Counter(norm(image_text))).values())


def score(ocr_text: str, gt_text: str) -> Score:
    """One page scored against its ground truth."""
    o, g = norm(ocr_text), norm(gt_text)
    tp = sum((collections.Counter(o) & collections.Counter(g)).values())
    return Score(tp, len(o), len(g), levenshtein(o, g))


def manifest(dpis: Iterable[int], names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The manifest's entries at these dpis (all names, or those given)."""
    entries = json.loads((REALPAGES / "manifest.json").read_text(encoding="utf-8"))
    return [e for e in entries if e["dpi"] in set(dpis)
            and (not names or e["name"] in names or Path(e["image"]).stem in names)]


def groups(entry: dict[str, Any]) -> list[str]:
    """The groups a page counts in (the manifest's labels)."""
    return ["all", f"{entry['script']}-{entry['direction']}", f"bg:{entry['background']}",
            f"layout:{entry['layout']}"]


# --- runs --------------------------------------------------------------------------------------

def _raw_tesseract(image: Image.Image, entry: dict[str, Any], timeout: float) -> str:
    from pipeline.page.engines.tesseract import ocr_image
    vertical = entry["direction"] == "v"
    lang = ("chi_sim" if entry["script"] == "sim" else "chi_tra") + ("_vert" if vertical else "")
    return ocr_image(image, lang, psm=5 if vertical else 3, dpi=entry["dpi"], timeout=timeout,
                     correct=False).text


def _raw_paddle(image: Image.Image, entry: dict[str, Any], timeout: float) -> str:
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # BGR
    out = _rapidocr_defaults()(rgb)
    return "\n".join(str(text) for text in (out.txts or ()))


@functools.lru_cache(maxsize=1)
def _rapidocr_defaults() -> Any:
    """rapidocr as it comes (its direction classifier on, text score 0.5), on one ONNX thread
    and with the models in the wheel, as Wenshi's engine (pipeline/page/engines/paddle.py)."""
    from rapidocr import RapidOCR

    from pipeline.page.engines import paddle
    engine = paddle._engine()  # its model files
    return RapidOCR(params={
        "Global.log_level": "error",
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        **{f"{task}.model_path": engine.cfg[task].model_path for task in ("Det", "Cls", "Rec")}})


def _wenshi(engine: str) -> Callable[[Image.Image, dict[str, Any], float], str]:
    def run(image: Image.Image, entry: dict[str, Any], timeout: float) -> str:
        from pipeline.config import Config
        from pipeline.page.process import recognise
        from pipeline.text.clean import clean_ocr_text
        recognised = recognise(image, entry["dpi"], Config(engine=engine, ocr_timeout=timeout))
        return clean_ocr_text(recognised.text) + "\n" + json.dumps(
            {"engine": recognised.engine, "steps": recognised.steps}, ensure_ascii=False)
    return run


def _runner(run: str, engine: str) -> Callable[[Image.Image, dict[str, Any], float], str]:
    if run == "raw-tesseract":
        return _raw_tesseract
    if run == "raw-paddle":
        return _raw_paddle
    return _wenshi("tesseract" if run == "wenshi-tesseract" else engine)


def run_pages(runs: Sequence[str], entries: Sequence[dict[str, Any]], cache: Path,
              engine: str = "auto", timeout: float = 180.0,
              log: Callable[[str], None] = print,
              degrade: tuple[str, Callable[[Image.Image, str, int], tuple[Image.Image, int]]]
              | None = None,
              ) -> dict[str, dict[str, dict[str, Any]]]:
    """{run: {image stem: {"text", "seconds", "cpu"}}}, from the cache or run now. `degrade`
    (a name and a function of the page, its stem and dpi, giving the page and the dpi to read it
    at) makes each page look scanned before every run reads it; its outputs are cached apart,
    under `cache`/degraded-NAME."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if degrade is not None:
        cache = cache / f"degraded-{degrade[0]}"
    for run in runs:
        folder = cache / (run if run != "wenshi" else f"wenshi-{engine}")
        folder.mkdir(parents=True, exist_ok=True)
        fn = _runner(run, engine)
        out[run] = {}
        for entry in entries:
            stem = Path(entry["image"]).stem
            path = folder / f"{stem}.json"
            if path.exists():
                out[run][stem] = json.loads(path.read_text(encoding="utf-8"))
                continue
            image: Image.Image = Image.open(REALPAGES / entry["image"])
            image.load()
            if degrade is not None:
                image, dpi = degrade[1](image, stem, entry["dpi"])
                entry = {**entry, "dpi": dpi}  # a page scanned at a lower dpi is read at it
            wall, cpu = time.perf_counter(), _cpu()
            text = fn(image, entry, timeout)
            result = {"text": text, "seconds": round(time.perf_counter() - wall, 2),
                      "cpu": round(_cpu() - cpu, 2)}
            path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
            out[run][stem] = result
            log(f"{run} {stem}: {result['seconds']:.1f} s")
    return out


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (Tesseract runs as one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# --- report ------------------------------------------------------------------------------------

def report(runs: Sequence[str], entries: Sequence[dict[str, Any]],
           outputs: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The printed tables: per group, per page below the better raw engine."""
    scores: dict[str, dict[str, Score]] = {run: {} for run in runs}
    in_images: dict[str, dict[str, int]] = {run: {} for run in runs}
    for entry in entries:
        stem = Path(entry["image"]).stem
        gt = (REALPAGES / entry["gt"]).read_text(encoding="utf-8")
        for run in runs:
            text = outputs[run][stem]["text"]
            if run.startswith("wenshi"):
                text = text.rsplit("\n", 1)[0]  # the engine note is not page text
            scores[run][stem] = score(text, gt)
            in_images[run][stem] = image_text_extras(text, gt, entry.get("image_text", ""))
    lines: list[str] = []
    for dpi in sorted({e["dpi"] for e in entries}, reverse=True):
        at = [e for e in entries if e["dpi"] == dpi]
        lines.append(f"realpages at {dpi} dpi ({len(at)} pages): bag F1 / ordered CER (order_ok)")
        lines.append(f"{'group':<22} {'n':>3} " + " ".join(f"{r:>22}" for r in runs))
        by_group: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for e in at:
            for g in groups(e):
                by_group[g].append(e)
        for g in GROUP_ORDER:
            if g not in by_group:
                continue
            cells = []
            for run in runs:
                pages = [scores[run][Path(e["image"]).stem] for e in by_group[g]]
                ordered = [scores[run][Path(e["image"]).stem] for e in by_group[g]
                           if e["order_ok"]]
                f1 = _f1(sum(p.tp for p in pages), sum(p.n_ocr for p in pages),
                         sum(p.n_gt for p in pages))
                cer = sum(p.edits for p in ordered) / max(1, sum(p.n_gt for p in ordered))
                cells.append(f"{f1:>12.2%} {cer:>8.2%}")
            lines.append(f"{g:<22} {len(by_group[g]):>3} " + " ".join(cells))
        for run in runs:
            secs = [outputs[run][Path(e["image"]).stem]["seconds"] for e in at]
            cpu = [outputs[run][Path(e["image"]).stem].get("cpu", 0.0) for e in at]
            lines.append(f"  {run}: {np.mean(secs):.2f} s a page (wall, mean); "
                         f"CPU {sum(cpu):.0f} s in all, median {np.median(cpu):.2f} s a page")
        for run in (r for r in runs if r.startswith("wenshi")):
            lines.append(_image_text_line(run, by_group, scores[run], in_images[run]))
        if "raw-tesseract" in runs and "raw-paddle" in runs:
            for run in (r for r in runs if r.startswith("wenshi")):
                worse = []
                for e in at:
                    stem = Path(e["image"]).stem
                    best = max(scores["raw-tesseract"][stem].f1, scores["raw-paddle"][stem].f1)
                    if scores[run][stem].f1 < best - 0.005:
                        page = scores[run][stem]
                        worse.append(f"{stem} {page.f1:.1%} (raw best {best:.1%}; extra "
                                     f"{page.n_ocr - page.tp}, in image_text "
                                     f"{in_images[run][stem]})")
                lines.append(f"  {run}: {len(worse)} pages more than 0.5 F1 points below the "
                             f"better raw engine" + (": " + "; ".join(worse) if worse else ""))
        lines.append("")
    return lines


def _image_text_line(run: str, by_group: dict[str, list[dict[str, Any]]],
                     scores: dict[str, Score], in_images: dict[str, int]) -> str:
    """Per group: bag F1 with the extra characters found in `image_text` not counted."""
    cells = []
    for g in GROUP_ORDER:
        stems = [Path(e["image"]).stem for e in by_group.get(g, [])]
        if not stems:
            continue
        tp = sum(scores[s].tp for s in stems)
        n_gt = sum(scores[s].n_gt for s in stems)
        n_ocr = sum(scores[s].n_ocr - in_images[s] for s in stems)
        cells.append(f"{g} {_f1(tp, n_ocr, n_gt):.2%}")
    every = [Path(e["image"]).stem for e in by_group["all"]]
    extra = sum(scores[s].n_ocr - scores[s].tp for s in every)
    found = sum(in_images[s] for s in every)
    return (f"  {run}: {found} of its extra characters stand in the manifest's image_text "
            f"(raster text the GT leaves out); bag F1 without them: " + ", ".join(cells)
            + f" [extra characters in all: {extra}]")
