"""Page quality estimate (pipeline/page/quality.py): fit, cross-validate and score it.

Pages with ground truth, each read by two engines:
- real pages (../shared/realpages, `order_ok` pages, 300 and 150 dpi), read by PP-OCR
  (rapidocr) and Tesseract, from a cache of the raw engine outputs (`--cache`, the format of
  /work/scratch/ocrcache: `rapidocr/NAME.json`, `tesseract/NAME.json`, `tesseract_psm5/NAME.json`
  for the vertical pages; `--make-cache` fills what is missing, slowly);
- the rendered conditions of benchmarks/ocr_accuracy.py (built-in and sample texts), read by
  Wenshi's Tesseract pipeline (`recognise_page`), from `--rendered DIR` (filled when missing).

The page text is the engine's lines in reading order (pipeline.page.layout) after the clean-up;
true CER = Levenshtein distance / reference length, whitespace removed. The features are the
ones `pipeline.page.quality.features` reads from a page's ALTO (lines of (text, confidence)).

Fit: least squares of log(CER + OFFSET) on the features (ridge, alpha 1e-3 on standardised
features), leave-one-source-out: each source document (a realpages PDF, a rendered text) is
predicted by a model fitted without any of its pages. Printed: the cross-validated figures per
set (real, rendered) — share of pages with CER > 3% listed, share of pages with CER <= 1%
listed, Spearman — then the coefficients fitted on all pages (what quality.MODEL holds).

    .venv/bin/python benchmarks/page_quality.py --cache /work/scratch/ocrcache \
        --rendered /work/scratch/quality/rendered
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import DEFAULT_PROOFREAD_THRESHOLD  # noqa: E402
from pipeline.page import quality  # noqa: E402
from pipeline.page.alto import parse_alto  # noqa: E402
from pipeline.page.layout import order_lines  # noqa: E402
from pipeline.text.clean import clean_ocr_text  # noqa: E402

REAL = ROOT.parent / "shared" / "realpages"
ALPHA = 1e-3


class _Line:
    def __init__(self, text: str, box: tuple[int, int, int, int], vertical: bool,
                 tokens: list[quality.Token]) -> None:
        self.text, self.box, self.vertical, self.tokens = text, box, vertical, tokens


def _cer(text: str, reference: str) -> float:
    import Levenshtein
    a, b = "".join(text.split()), "".join(reference.split())
    return min(1.0, Levenshtein.distance(a, b) / max(len(b), 1))


def _rapid_lines(data: dict[str, Any]) -> list[_Line]:
    out = []
    for ln in data["lines"]:
        xs = [p[0] for p in ln["box"]]
        ys = [p[1] for p in ln["box"]]
        box = (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys)))
        vertical = (box[3] - box[1]) > 1.5 * (box[2] - box[0]) and len(ln["text"]) > 1
        tokens = [(w["text"], w["score"] * 100) for w in ln.get("words") or []]
        if "".join(t for t, _ in tokens) != ln["text"]:
            tokens = [(ln["text"], ln["score"] * 100)]
        out.append(_Line(ln["text"], box, vertical, tokens))
    return out


def _tess_lines(data: dict[str, Any], vertical: bool) -> list[_Line]:
    groups: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for w in data["words"]:
        if w["text"].strip() and float(w["conf"]) >= 0:
            groups.setdefault((w["block_num"], w["par_num"], w["line_num"]), []).append(w)
    out = []
    for ws in groups.values():
        box = (min(w["left"] for w in ws), min(w["top"] for w in ws),
               max(w["left"] + w["width"] for w in ws), max(w["top"] + w["height"] for w in ws))
        tokens = [(w["text"], float(w["conf"])) for w in ws]
        out.append(_Line("".join(t for t, _ in tokens), box, vertical, tokens))
    return out


def real_pages(cache: Path, make: bool) -> list[dict[str, Any]]:
    """One record per (order_ok realpage, engine): features, true CER, group."""
    manifest = json.loads((REAL / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for e in manifest:
        if not e["order_ok"]:
            continue
        gt = (REAL / e["gt"]).read_text(encoding="utf-8")
        vertical = e["direction"] == "v"
        for engine in ("rapidocr", "tesseract"):
            sub = "tesseract_psm5" if engine == "tesseract" and vertical else engine
            path = cache / sub / f"{e['name']}.json"
            if not path.exists():
                if not make:
                    continue
                _make_cache(e, sub, path)
            data = json.loads(path.read_text(encoding="utf-8"))
            lines = (_rapid_lines(data) if engine == "rapidocr"
                     else _tess_lines(data, vertical))
            layout = order_lines(lines, data["width"], data["height"])
            text = clean_ocr_text(layout.text())
            t = time.process_time()
            feats, n = quality.features([ln.tokens for ln in lines])
            cost = time.process_time() - t
            wconf = _word_confidence([ln.tokens for ln in lines])
            rows.append({"name": e["name"], "engine": engine, "group": e["source"].split("#")[0],
                         "cer": _cer(text, gt), "x": feats, "n": n, "cost": cost,
                         "set": "real", "wconf": wconf})
    return rows


def _make_cache(e: dict[str, Any], sub: str, path: Path) -> None:
    from PIL import Image
    image = Image.open(REAL / e["image"]).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"name": e["name"], "width": image.width, "height": image.height}
    if sub == "rapidocr":
        from rapidocr import RapidOCR
        res = RapidOCR()(np.asarray(image), return_word_box=True)
        data["lines"] = []
        for i, (box, text, score) in enumerate(zip(res.boxes, res.txts, res.scores)):
            words = [{"text": w[0], "score": float(w[1]), "box": w[2]}
                     for w in (res.word_results[i] if res.word_results else [])]
            data["lines"].append({"text": text, "box": np.asarray(box).tolist(),
                                  "score": float(score), "words": words})
    else:
        import pytesseract
        lang = ("chi_tra_vert" if e["direction"] == "v"
                else "chi_tra" if e["script"] == "tra" else "chi_sim")
        psm = 5 if sub.endswith("5") else 3
        d = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm}",
                                      output_type=pytesseract.Output.DICT)
        keys = ("block_num", "par_num", "line_num", "word_num", "left", "top", "width",
                "height", "conf", "text")
        data["words"] = [dict(zip(keys, vals)) for vals in zip(*(d[k] for k in keys))]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def rendered_pages(folder: Path, make: bool) -> list[dict[str, Any]]:
    """One record per rendered page (Wenshi's Tesseract pipeline)."""
    if make:
        _make_rendered(folder)
    rows = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("sample_"):
            continue
        d = json.loads(path.read_text(encoding="utf-8"))
        root = parse_alto(d["alto"])
        t = time.process_time()
        feats, n = quality.features(quality.alto_lines(root))
        cost = time.process_time() - t
        rows.append({"name": d["name"], "engine": "tesseract", "group": d["group"],
                     "cer": _cer(d["text"], d["reference"]), "x": feats, "n": n, "cost": cost,
                     "set": "rendered", "seconds": d["seconds"],
                     "wconf": _word_confidence(quality.alto_lines(root))})
    return rows


def _make_rendered(folder: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import ocr_accuracy as oa

    from pipeline.page.process import recognise_page
    folder.mkdir(parents=True, exist_ok=True)
    for source, pages in (("builtin", 4), ("samples", 3)):
        simp, trad = oa.sample_texts(source)
        for cond in oa.CONDITIONS:
            for s in oa.make_samples(cond, pages, simp, trad):
                path = folder / f"{source}_{cond}_{s.index}.json"
                if path.exists():
                    continue
                t = time.time()
                res, _, choice = recognise_page(s.image, s.dpi, "auto")
                texts = trad if cond == "g" else simp
                group = f"{source}:{'tra' if cond == 'g' else 'sim'}:{s.index % len(texts)}"
                path.write_text(json.dumps({
                    "name": path.stem, "condition": cond, "group": group,
                    "text": clean_ocr_text(res.text), "reference": s.reference,
                    "lang": choice.lang, "seconds": time.time() - t, "alto": res.alto,
                }, ensure_ascii=False), encoding="utf-8")


def sample_pages(folder: Path, make: bool) -> list[dict[str, Any]]:
    """One record per OCR page of samples/ (images, scanned PDF pages), read by Wenshi's
    Tesseract pipeline; cached in `folder` as sample_*.json."""
    manifest = json.loads((ROOT / "samples" / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for entry in manifest["files"]:
        for number, (how, reference) in enumerate(zip(entry["page_sources"], entry["texts"]), 1):
            if how != "ocr":
                continue
            path = folder / f"sample_{Path(entry['path']).stem}_{number}.json"
            if not path.exists():
                if not make:
                    continue
                _make_sample(entry, number, reference, path)
            d = json.loads(path.read_text(encoding="utf-8"))
            t = time.process_time()
            lines = quality.alto_lines(parse_alto(d["alto"]))
            feats, n = quality.features(lines)
            cost = time.process_time() - t
            rows.append({"name": path.stem, "engine": "tesseract", "group": entry["path"],
                         "cer": _cer(d["text"], reference), "x": feats, "n": n, "cost": cost,
                         "set": "samples", "seconds": d["seconds"],
                         "wconf": _word_confidence(lines)})
    return rows


def _make_sample(entry: dict[str, Any], number: int, reference: str, path: Path) -> None:
    from pipeline.config import Config
    from pipeline.page.images import load_page_image
    from pipeline.page.process import recognise_page
    from pipeline.records import PageTask
    from pipeline.run.sources import identify, plan_document
    cfg = Config()
    plan = plan_document(identify(ROOT / "samples" / entry["path"]), cfg)
    task = next(t for t in plan.pages if isinstance(t, PageTask) and t.number == number)
    image, dpi = load_page_image(task, cfg)
    t = time.time()
    res, _, choice = recognise_page(image, dpi, "auto")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": path.stem, "text": clean_ocr_text(res.text),
                                "reference": reference, "lang": choice.lang,
                                "seconds": time.time() - t, "alto": res.alto},
                               ensure_ascii=False), encoding="utf-8")


def _word_confidence(lines: Sequence[Sequence[quality.Token]]) -> float:
    """The page's mean word confidence (what Wenshi stores as the page's confidence)."""
    values = [c for tokens in lines for t, c in tokens if t.strip() and c is not None]
    return sum(values) / len(values) if values else 0.0


def fit(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """Ridge least squares of log(CER + OFFSET) on the features: (intercept, coefficients) in
    the features' own units. Every signal may only raise the estimate: a feature whose weight
    comes out negative is dropped (weight 0) and the rest refitted, so each reason reads one way."""
    keep = np.ones(len(quality.FEATURES), dtype=bool)
    while True:
        model = _fit(rows, keep)
        negative = model[1:] < 0
        if not negative.any():
            return model
        keep &= ~negative


def _fit(rows: Sequence[dict[str, Any]], keep: np.ndarray) -> np.ndarray:
    x = np.array([r["x"] for r in rows], dtype=float) * keep
    y = np.log(np.array([r["cer"] for r in rows]) + quality.OFFSET)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    mu[~keep] = 0.0
    z = (x - mu) / sd
    a = np.hstack([np.ones((len(z), 1)), z])
    # Each set (real, rendered) weighs the same in the fit, however many pages it has.
    sets = [r["set"] for r in rows]
    w = np.array([1.0 / sets.count(s) for s in sets]) * len(rows) / len(set(sets))
    reg = ALPHA * len(z) * np.eye(a.shape[1])
    reg[0, 0] = 0.0
    beta = np.linalg.solve(a.T @ (a * w[:, None]) + reg, a.T @ (w * y))
    coef = beta[1:] / sd * keep
    return np.concatenate([[beta[0] - float(coef @ mu)], coef])


def predict(model: np.ndarray, x: Sequence[float]) -> float:
    """Estimated CER of a page with features `x` (as quality.estimate computes it)."""
    log_rate = model[0] + float(np.dot(model[1:], x))
    return min(1.0, max(0.0, float(np.exp(log_rate)) - quality.OFFSET))


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    def ranks(v: Sequence[float]) -> np.ndarray:
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        vals = np.asarray(v)
        for u in np.unique(vals):  # average ranks of ties
            m = vals == u
            r[m] = r[m].mean()
        return r
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def report(label: str, rows: Sequence[dict[str, Any]], est: Sequence[float],
           rate: float) -> None:
    """Print the targets' figures for one set of pages. Listed: index/quality.py's rule, the
    estimate above `rate` or the mean word confidence below the default threshold."""
    cer = [r["cer"] for r in rows]
    listed = [e > rate or r["wconf"] < DEFAULT_PROOFREAD_THRESHOLD for r, e in zip(rows, est)]
    bad = [li for c, li in zip(cer, listed) if c > 0.03]
    good = [li for c, li in zip(cer, listed) if c <= 0.01]
    bad_listed = sum(bad)
    good_listed = sum(good)
    print(f"{label:<28} pages {len(rows):3d}  CER>3%: {bad_listed}/{len(bad)} listed "
          f"({bad_listed / max(len(bad), 1):.0%})  CER<=1%: {good_listed}/{len(good)} listed "
          f"({good_listed / max(len(good), 1):.0%})  Spearman {_spearman(est, cer):.2f}")


def main(argv: list[str] | None = None) -> int:
    """Fit, cross-validate, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="raw engine outputs (realpages)")
    parser.add_argument("--rendered", type=Path, required=True, help="rendered pages' outputs")
    parser.add_argument("--make-cache", action="store_true", help="OCR what the caches miss")
    parser.add_argument("--show", action="store_true", help="print every page")
    args = parser.parse_args(argv)
    rows = real_pages(args.cache, args.make_cache)
    rows += rendered_pages(args.rendered, args.make_cache)
    rows += sample_pages(args.rendered, args.make_cache)
    groups = sorted({r["group"] for r in rows})
    est = [0.0] * len(rows)
    for g in groups:
        model = fit([r for r in rows if r["group"] != g])
        for i, r in enumerate(rows):
            if r["group"] == g:
                est[i] = predict(model, r["x"])
    rate = quality.LIST_RATE
    print(f"leave-one-source-out over {len(groups)} sources; listed = estimate > {rate:.0%} "
          f"or mean word confidence < {DEFAULT_PROOFREAD_THRESHOLD:.0f}")
    for label, keep in (("real pages, both engines", lambda r: r["set"] == "real"),
                        ("real pages, PP-OCR", lambda r: r["set"] == "real"
                         and r["engine"] == "rapidocr"),
                        ("real pages, Tesseract", lambda r: r["set"] == "real"
                         and r["engine"] == "tesseract"),
                        ("rendered (Tesseract)", lambda r: r["set"] == "rendered"),
                        ("samples (Tesseract)", lambda r: r["set"] == "samples")):
        idx = [i for i, r in enumerate(rows) if keep(r)]
        if idx:
            report(label, [rows[i] for i in idx], [est[i] for i in idx], rate)
    if args.show:
        for r, e in sorted(zip(rows, est), key=lambda p: -p[0]["cer"]):
            print(f"  {r['set']:<8} {r['engine']:<9} {r['name']:<26} CER {r['cer']:.3f} "
                  f"est {e:.3f}  " + " ".join(f"{v:.3f}" for v in r["x"]))
    model = fit(rows)
    print("fitted on all pages: MODEL = (" + ", ".join(f"{v:.3f}" for v in model) + ")")
    print("  intercept, " + ", ".join(quality.FEATURES))
    clean = np.array([r["x"] for r in rows if r["cer"] <= 0.01])
    if len(clean):
        print("REFERENCE (medians, CER <= 1%) = ("
              + ", ".join(f"{v:.3f}" for v in np.median(clean, axis=0)) + ")")
    real = [r for r in rows if r["set"] == "rendered" and r.get("seconds")]
    cost = np.mean([r["cost"] for r in rows])
    print(f"feature cost: {cost * 1000:.1f} ms CPU per page (mean over {len(rows)} pages, "
          f"{np.mean([r['n'] for r in rows]):.0f} characters)")
    if real:
        print(f"  OCR wall time of the rendered pages: {np.mean([r['seconds'] for r in real]):.1f}"
              f" s per page (this run's load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
