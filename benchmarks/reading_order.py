"""Reading order on real pages: each engine's own line order against `pipeline.page.layout`.

Every image of `../shared/realpages` is read by PP-OCR (rapidocr, ONNX Runtime, one thread) and
by Tesseract (`image_to_data`, psm 3; chi_sim, chi_tra or chi_tra_vert as the manifest says;
psm 5 too for the vertical pages, Wenshi's own choice for them), once. The engines' lines are
scored as the engine orders them and as `order_lines` orders them, following
`../shared/realpages/README.md`: NFKC, letters and digits only; ordered CER (edit distance /
ground-truth length) pooled over the pages whose ground-truth order can be trusted (`order_ok`),
bag-of-characters F1 pooled over all pages; per dpi and per manifest group.

    .venv/bin/python benchmarks/reading_order.py                  # ~15 min on an idle 2-core box
    .venv/bin/python benchmarks/reading_order.py --cache DIR      # keep/reuse raw engine output
    .venv/bin/python benchmarks/reading_order.py --pages          # also one row per page
    .venv/bin/python benchmarks/reading_order.py --rendered 2     # ocr_accuracy.py's pages too

`--rendered N` also reads N pages of each condition of `ocr_accuracy.py` (clean, skewed, aged,
150 dpi, vertical: one text block each) with both engines and prints their CER (whitespace
removed, punctuation kept, as that benchmark counts) in the engine's order and in layout's: the
check that layout never makes a single-column page worse.

`--cache DIR` stores each engine's raw output per image (DIR/rapidocr/NAME.json,
DIR/tesseract/NAME.json, DIR/tesseract_psm5/NAME.json) and reads it back on the next run, so
the layout can be re-scored in seconds. Layout takes no image: only the line boxes.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ocr_accuracy import levenshtein  # noqa: E402

from pipeline.page.figures import find_figures  # noqa: E402
from pipeline.page.layout import order_lines  # noqa: E402

REALPAGES = ROOT.parent / "shared" / "realpages"
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Line:
    """An engine line as `order_lines` needs it."""

    text: str
    box: Box
    confidence: float
    vertical: bool


def _line(text: str, box: Box, confidence: float) -> Line:
    # A line taller than wide with two or more characters is a vertical column.
    return Line(text, box, confidence, box[3] - box[1] > box[2] - box[0] and len(text) > 1)


def _rapidocr() -> Callable[[Path], dict[str, Any]]:
    import numpy as np
    from PIL import Image
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                              "Global.log_level": "warning"})

    def run(path: Path) -> dict[str, Any]:
        image = Image.open(path).convert("RGB")
        start = time.perf_counter()
        out = engine(np.asarray(image)[:, :, ::-1].copy())
        lines = [{"text": out.txts[i], "box": np.asarray(out.boxes[i], dtype=float).tolist(),
                  "score": float(out.scores[i])}
                 for i in range(0 if out.boxes is None else len(out.boxes))]
        return {"width": image.width, "height": image.height, "lines": lines,
                "seconds": time.perf_counter() - start}
    return run


def _tesseract(psm: int) -> Callable[[Path, str], dict[str, Any]]:
    import pytesseract
    from PIL import Image

    def run(path: Path, lang: str) -> dict[str, Any]:
        image = Image.open(path)
        start = time.perf_counter()
        d = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm}",
                                      output_type=pytesseract.Output.DICT, timeout=600)
        words = [{k: d[k][i] for k in ("block_num", "par_num", "line_num", "left", "top",
                                       "width", "height", "conf", "text")}
                 for i in range(len(d["text"])) if d["level"][i] == 5]
        return {"width": image.width, "height": image.height, "words": words, "psm": psm,
                "lang": lang, "seconds": time.perf_counter() - start}
    return run


def rapid_lines(raw: dict[str, Any]) -> list[Line]:
    """rapidocr's lines, in its order, as axis-aligned boxes."""
    out = []
    for rec in raw["lines"]:
        xs = [p[0] for p in rec["box"]]
        ys = [p[1] for p in rec["box"]]
        out.append(_line(rec["text"], (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))),
                         100 * rec["score"]))
    return out


def tesseract_lines(raw: dict[str, Any]) -> list[Line]:
    """Tesseract's text lines (block, paragraph, line), in its order."""
    groups: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for w in raw["words"]:
        if str(w["text"]).strip():
            groups.setdefault((w["block_num"], w["par_num"], w["line_num"]), []).append(w)
    out = []
    for ws in groups.values():
        box = (min(w["left"] for w in ws), min(w["top"] for w in ws),
               max(w["left"] + w["width"] for w in ws), max(w["top"] + w["height"] for w in ws))
        out.append(_line("".join(str(w["text"]) for w in ws), box,
                         sum(float(w["conf"]) for w in ws) / len(ws)))
    return out


def norm(text: str) -> str:
    """NFKC, letters and digits only (the realpages scoring)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c)[0] in "LN")


def score(hypothesis: str, truth: str) -> tuple[int, int, int, int]:
    """Edit distance, ground-truth length, bag true positives, hypothesis length."""
    o, g = norm(hypothesis), norm(truth)
    tp = sum((collections.Counter(o) & collections.Counter(g)).values())
    return levenshtein(o, g), len(g), tp, len(o)


def _cached(cache: Path | None, engine: str, name: str,
            run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    if cache is None:
        return run()
    path = cache / engine / f"{name}.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    data = run()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, help="folder for raw engine output (reused)")
    parser.add_argument("--pages", action="store_true", help="print one row per page too")
    parser.add_argument("--dpi", type=int, choices=(150, 300), help="only these images")
    parser.add_argument("--figures", action="store_true",
                        help="find figures on the page image; their text leaves the page text")
    parser.add_argument("--rendered", type=int, default=0, metavar="N",
                        help="also N rendered pages per ocr_accuracy.py condition")
    args = parser.parse_args(argv)
    manifest = json.loads((REALPAGES / "manifest.json").read_text(encoding="utf-8"))
    engines: dict[str, Any] = {}

    def engine(key: str) -> Any:
        if key not in engines:
            engines[key] = (_rapidocr() if key == "rapidocr" else
                            _tesseract(5 if key == "tesseract_psm5" else 3))
        return engines[key]

    runs = ("rapidocr", "tesseract", "tesseract_psm5")
    results: list[tuple[dict[str, Any], dict[str, tuple[int, int, int, int]]]] = []
    for entry in manifest:
        if args.dpi and entry["dpi"] != args.dpi:
            continue
        path = REALPAGES / entry["image"]
        truth = (REALPAGES / entry["gt"]).read_text(encoding="utf-8")
        lang = ("chi_tra_vert" if entry["direction"] == "v" else
                "chi_tra" if entry["script"] == "tra" else "chi_sim")
        scores: dict[str, tuple[int, int, int, int]] = {}
        for run in runs:
            if run == "tesseract_psm5" and entry["direction"] != "v":
                continue
            if run == "rapidocr":
                raw = _cached(args.cache, run, entry["name"], lambda: engine(run)(path))
                lines = rapid_lines(raw)
            else:
                raw = _cached(args.cache, run, entry["name"], lambda: engine(run)(path, lang))
                lines = tesseract_lines(raw)
            scores[f"{run} own"] = score("\n".join(x.text for x in lines), truth)
            figures = (find_figures(Image.open(path), [x.box for x in lines]) if args.figures
                       else ())
            scores[f"{run} layout"] = score(
                order_lines(lines, raw["width"], raw["height"], figures).text(), truth)
        results.append((entry, scores))
        if args.pages:
            print(entry["name"], " ".join(
                f"{k}={100 * s[0] / max(s[1], 1):.1f}" for k, s in scores.items()), flush=True)
    _report(results)
    if args.rendered:
        _rendered(args.rendered, engine, args.cache, args.figures)
    return 0


def _rendered(pages: int, engine: Callable[[str], Any], cache: Path | None,
              figures: bool) -> None:
    """Wenshi's rendered benchmark pages: engine order against layout order."""
    import tempfile

    from ocr_accuracy import _distance, make_samples

    totals: dict[tuple[str, str], list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for condition in ("a", "b5", "c", "d", "g"):
            for sample in make_samples(condition, pages):
                path = Path(tmp) / f"{condition}_{sample.index}.png"
                sample.image.save(path)
                vertical = condition == "g"
                for run in ("rapidocr", "tesseract_psm5" if vertical else "tesseract"):
                    name = f"rendered_{condition}_{sample.index}"
                    if run == "rapidocr":
                        raw = _cached(cache, run, name, lambda: engine(run)(path))
                        lines = rapid_lines(raw)
                    else:
                        lang = "chi_tra_vert" if vertical else "chi_sim"
                        raw = _cached(cache, run, name, lambda: engine(run)(path, lang))
                        lines = tesseract_lines(raw)
                    own, length = _distance(sample.reference, "\n".join(x.text for x in lines))
                    found = (find_figures(sample.image, [x.box for x in lines]) if figures
                             else ())
                    ordered, _ = _distance(sample.reference, order_lines(
                        lines, raw["width"], raw["height"], found).text())
                    total = totals.setdefault((condition, run), [0, 0, 0])
                    total[0] += own
                    total[1] += ordered
                    total[2] += length
    print(f"\nrendered pages ({pages} per condition): CER % in the engine's order / layout's")
    for (condition, run), (own, ordered, length) in totals.items():
        print(f"{condition:4s} {run:16s} {100 * own / length:7.2f} {100 * ordered / length:7.2f}")


def _report(results: list[tuple[dict[str, Any], dict[str, tuple[int, int, int, int]]]]) -> None:
    keys = ["rapidocr own", "rapidocr layout", "tesseract own", "tesseract layout",
            "tesseract_psm5 own", "tesseract_psm5 layout"]
    groups: dict[str, list[tuple[dict[str, Any], dict[str, tuple[int, int, int, int]]]]] = {}
    for entry, scores in results:
        dpi = f"{entry['dpi']} dpi"
        for group in ("all", f"{entry['script']}-{entry['direction']}", entry["layout"],
                      entry["background"]):
            groups.setdefault(f"{dpi} {group}", []).append((entry, scores))
    short = {"rapidocr own": "PP own", "rapidocr layout": "PP lay", "tesseract own": "T3 own",
             "tesseract layout": "T3 lay", "tesseract_psm5 own": "T5 own",
             "tesseract_psm5 layout": "T5 lay"}
    print("\nordered CER % (order_ok pages) | bag F1 % (all pages); T5 = psm 5 on vertical "
          "pages, psm 3 elsewhere")
    print(f"{'group':24s} {'n':>3s} {'ok':>3s} " + " ".join(f"{short[k]:>7s}" for k in keys)
          + "    best | " + " ".join(f"{short[k]:>7s}" for k in keys))
    for name in sorted(groups):
        rows = groups[name]

        def pick(scores: dict[str, tuple[int, int, int, int]], key: str
                 ) -> tuple[int, int, int, int]:
            # Horizontal pages have no psm-5 run: T5 is T3 there.
            return scores.get(key) or scores[key.replace("tesseract_psm5", "tesseract")]

        cer = []
        f1 = []
        for key in keys:
            ok = [pick(s, key) for e, s in rows if e["order_ok"]]
            cer.append(100 * sum(x[0] for x in ok) / max(sum(x[1] for x in ok), 1))
            tp = sum(pick(s, key)[2] for _, s in rows)
            p = tp / max(sum(pick(s, key)[3] for _, s in rows), 1)
            r = tp / max(sum(pick(s, key)[1] for _, s in rows), 1)
            f1.append(100 * 2 * p * r / (p + r) if p + r else 0.0)
        # The better of PP-OCR and Tesseract (psm 5 on vertical pages) per page, both ordered
        # by layout: what a per-page engine choice could reach at best.
        best = [min((pick(s, "rapidocr layout"), pick(s, "tesseract_psm5 layout")),
                    key=lambda x: x[0] / max(x[1], 1)) for e, s in rows if e["order_ok"]]
        cer.append(100 * sum(x[0] for x in best) / max(sum(x[1] for x in best), 1))
        n_ok = sum(1 for e, _ in rows if e["order_ok"])
        print(f"{name:24s} {len(rows):3d} {n_ok:3d} " + " ".join(f"{c:7.1f}" for c in cer)
              + " | " + " ".join(f"{f:7.1f}" for f in f1))


if __name__ == "__main__":
    sys.exit(main())
