"""The look-alike correction (pipeline/page/correct.py) on the pages PP-OCR reads: each change it
makes, right or wrong against the reference, with the confidence the engine gave the character
it replaced (the ALTO String's WC).

The correction was made for Tesseract's misreadings (benchmarks/README.md, "Correction of
misread characters"); `--engine auto` now reads horizontal pages with PP-OCR, whose confident
characters it also replaces. Pages (each read by `pipeline.page.process.recognise`, as
`wenshi ocr` reads it; the correction's input is captured where `engines.finish_result` calls
it, so every change can be judged and the page corrected again offline):

- `--realpages`: the simplified pages of ../shared/realpages (300 and 150 dpi);
- `--rendered N`: N pages of each horizontal condition of ocr_accuracy.py (a-f), the built-in
  texts then the samples' (`--texts all`), rendered and degraded as that script does;
- `--samples`: the scanned pages of samples/ (manifest page_sources "ocr").

A change is judged on the engine's text aligned with the reference (difflib, letters and digits
after NFKC, as realpages scores): *right* where the reference has the replacement, *wrong* where
it has the character replaced, *other* where it has neither or the place does not align. For the
same pages, the engine's characters by confidence: how often a character read at that confidence
is wrong at all (what the correction could find there). For the real pages, the pooled bag F1
and edit distance (realpages' scoring, after the text clean-up) with the correction as it is and
with every character open to it, as before the engine's confidence was read.

    .venv/bin/python benchmarks/correction_paddle.py --realpages --rendered 6 --samples \\
        --capture /tmp/cap      # inputs kept: a second run with the same folder reads no page
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import pickle
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_accuracy as bench  # noqa: E402
import realpages  # noqa: E402
from correction_check import sample_scans  # noqa: E402

from pipeline.page import assemble, correct, engines  # noqa: E402
from pipeline.page.alto import RESTORED_TAG, parse_alto, strings  # noqa: E402
from pipeline.text.clean import clean_ocr_text  # noqa: E402

HORIZONTAL = ("a", "b2.5", "b5", "c", "d", "e", "f")
BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)


def _keep(ch: str) -> str:
    """The character as realpages scores it: NFKC, letters and digits only ('' otherwise)."""
    return "".join(c for c in unicodedata.normalize("NFKC", ch)
                   if unicodedata.category(c)[0] in "LN")


class Capture:
    """What `engines.finish_result` hands the correction on each call, kept per page read."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._correct_page = engines.correct_page

    def __enter__(self) -> Capture:
        def spy(text: str, alto: str, image: Image.Image | None = None, vertical: bool = False,
                **kwargs: Any) -> Any:
            out = self._correct_page(text, alto, image, vertical, **kwargs)
            self.calls.append({"text": text, "alto": alto, "image": image, "vertical": vertical,
                               "corrected": out[0], "corrections": out[2]})
            return out
        engines.correct_page = spy
        return self

    def __exit__(self, *exc: object) -> None:
        engines.correct_page = self._correct_page


def read(image: Image.Image, dpi: int, engine: str) -> dict[str, Any] | None:
    """The correction's input for the reading of `image` that Wenshi kept (None: no call)."""
    from pipeline.config import Config
    from pipeline.page.process import recognise
    with Capture() as capture:
        result = recognise(image, dpi, Config(engine=engine))
    kept = [c for c in capture.calls if c["corrected"] == result.text] or capture.calls[-1:]
    if not kept:
        return None
    call = kept[-1]
    return {**call, "engine": result.engine, "image": call["image"].copy()
            if call["image"] is not None else None}


def pages(args: argparse.Namespace) -> list[tuple[str, Image.Image, int, str]]:
    """(name, image, dpi, reference) of the pages asked for."""
    out = []
    if args.realpages:
        for entry in realpages.manifest((300, 150), args.names.split(",") if args.names else ()):
            if entry["script"] != "sim":
                continue
            image = Image.open(realpages.REALPAGES / entry["image"])
            image.load()
            reference = (realpages.REALPAGES / entry["gt"]).read_text(encoding="utf-8")
            stem, dpi = Path(entry["image"]).stem, entry["dpi"]
            if args.degrade:
                image, dpi = bench.degrade_real(args.degrade)(image, stem, dpi)
                stem = f"{stem}~{args.degrade}"
            out.append((f"real:{stem}", image, dpi, reference))
    if args.rendered:
        simplified, _ = bench.sample_texts("all")
        for condition in HORIZONTAL:
            for sample in bench.make_samples(condition, args.rendered, simplified):
                out.append((f"rendered:{condition}:{sample.index}", sample.image, sample.dpi,
                            sample.reference))
    if args.samples:
        # the OCR pages of samples/ (correction_check.py lists them)
        out += [(name, image, dpi or 300, reference)
                for name, image, dpi, reference in sample_scans()]
    return out


def confidences(alto: str) -> list[tuple[float | None, bool]]:
    """(WC, put back by engines/nearly.py) of each non-space character of the ALTO's Strings."""
    out: list[tuple[float | None, bool]] = []
    for element in strings(parse_alto(alto)):
        content = "".join(element.get("CONTENT", "").split())
        wc = element.get("WC")
        put = RESTORED_TAG in (element.get("TAGREFS") or "")
        out += [(float(wc) if wc is not None else None, put)] * len(content)
    return out


def aligned(text: str, reference: str) -> dict[int, str | None]:
    """Offset in `text` of each character scored -> the reference's character at its place
    (None where the two do not align one to one)."""
    # One entry per character scored: NFKC may make several of one (㎡ -> m2).
    ours = [(k, c) for k, ch in enumerate(text) for c in _keep(ch)]
    theirs = _keep(reference)
    a = "".join(ch for _, ch in ours)
    out: dict[int, str | None] = {}
    matcher = difflib.SequenceMatcher(None, a, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for n in range(i1, i2):
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                out[ours[n][0]] = theirs[j1 + n - i1]
            else:
                out[ours[n][0]] = None
    return out


def judge(call: dict[str, Any], reference: str, corrections: tuple[correct.Correction, ...]
          ) -> list[dict[str, Any]]:
    """Each correction with its verdict, the WC of the character it replaced and its gain."""
    text = call["text"]
    places = aligned(text, reference)
    nonspace = [k for k, ch in enumerate(text) if not ch.isspace()]
    order = {k: n for n, k in enumerate(nonspace)}
    confs = confidences(call["alto"])
    out = []
    for c in corrections:
        truth = places.get(c.index)
        verdict = ("right" if truth == c.replacement else "wrong" if truth == c.original
                   else "other")
        if truth is None:  # out of order (slides, columns): the reference read around it
            verdict = _in_context(text, c, _keep(reference))
        n = order.get(c.index)
        wc, put = confs[n] if n is not None and n < len(confs) else (None, False)
        out.append({"change": f"{c.original}>{c.replacement}", "word": c.word, "gain": c.gain,
                    "verdict": verdict, "wc": wc, "restored": put,
                    "context": text[max(0, c.index - 4):c.index + 5].replace("\n", " ")})
    return out


def _in_context(text: str, c: correct.Correction, reference: str) -> str:
    """'wrong' where the reference holds the character replaced between its neighbours, 'right'
    where it holds the replacement there (3, then 2, then 1 neighbour each side, then 2 and 1 on
    one side), else 'other'."""
    before = _keep(text[:c.index])
    after = _keep(text[c.index + 1:])
    for width in (3, 2, 1):
        left, right = before[-width:], after[:width]
        had = (left + c.original + right) in reference
        made = (left + c.replacement + right) in reference
        if had != made:
            return "wrong" if had else "right"
    for left, right in ((before[-2:], ""), ("", after[:2]), (before[-1:], ""), ("", after[:1])):
        # one side only (a variant form next to it: 倶乐部, GT 俱乐部)
        had = (left + c.original + right) in reference
        made = (left + c.replacement + right) in reference
        if had != made:
            return "wrong" if had else "right"
    return "other"


def character_rates(call: dict[str, Any], reference: str, counts: Counter[tuple[int, bool]]
                    ) -> None:
    """Count the engine's Han characters by confidence bin and whether the reference agrees."""
    text = call["text"]
    places = aligned(text, reference)
    confs = confidences(call["alto"])
    n = 0
    for k, ch in enumerate(text):
        if ch.isspace():
            continue
        if n < len(confs) and "\u4e00" <= ch <= "\u9fff" and places.get(k) is not None:
            wc = confs[n][0]
            if wc is not None:
                counts[(_bin(wc), places[k] == ch)] += 1
        n += 1


def _bin(wc: float) -> int:
    return max(b for b in range(len(BINS)) if wc >= BINS[b])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realpages", action="store_true", help="the simplified real pages")
    parser.add_argument("--names", help="--realpages: only these pages (comma list)")
    parser.add_argument("--degrade", choices=("b2.5", "c", "d", "e", "f"),
                        help="--realpages: make each page look scanned first (ocr_accuracy.py)")
    parser.add_argument("--rendered", type=int, default=0,
                        help="this many pages of each horizontal rendered condition")
    parser.add_argument("--samples", action="store_true", help="the scanned pages of samples/")
    parser.add_argument("--engine", default="auto", help="Wenshi's engine (default auto)")
    parser.add_argument("--capture", type=Path, help="keep/reuse each page's captured input here")
    parser.add_argument("--json", type=Path, help="write every change judged to this file")
    args = parser.parse_args(argv)
    changes: list[dict[str, Any]] = []
    rates: dict[str, Counter[tuple[int, bool]]] = {}
    scores: dict[str, list[int]] = {}  # real pages: tp, OCR and GT lengths, edits
    for name, image, dpi, reference in pages(args):
        source = name.split(":")[0]
        path = args.capture / f"{args.engine}-{name.replace(':', '_')}.pickle" \
            if args.capture else None
        if path is not None and path.exists():
            call = pickle.loads(path.read_bytes())
        else:
            call = read(image, dpi, args.engine)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(pickle.dumps(call))
        if call is None:
            continue
        # Corrected again with the code as it is now (the capture may be older code's), and as
        # the correction did before the engine's confidence was read (all characters open).
        text, _, made = correct.correct_page(call["text"], call["alto"], call["image"],
                                             call["vertical"], **_engine_kwargs(call))
        if source == "real":
            before = correct.correct_page(call["text"], call["alto"], call["image"],
                                          call["vertical"])[0]
            for key, ours in (("all open", before), ("now", text)):
                s = realpages.score(clean_ocr_text(ours), reference)
                scores[key] = [a + b for a, b in zip(scores.get(key, [0, 0, 0, 0]),
                                                     (s.tp, s.n_ocr, s.n_gt, s.edits))]
        for change in judge(call, reference, made):
            changes.append({"page": name, "engine": call["engine"], **change})
        character_rates(call, reference, rates.setdefault(f"{source} {call['engine']}",
                                                          Counter()))
    report(changes, rates)
    for key, (tp, n_ocr, n_gt, edits) in scores.items():
        print(f"real pages, correction {key}: bag F1 {realpages._f1(tp, n_ocr, n_gt):.2%}, "
              f"edit distance {edits} (pooled)")
    if args.json:
        args.json.write_text(json.dumps(changes, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _engine_kwargs(call: dict[str, Any]) -> dict[str, Any]:
    """What the engine that read the page hands the correction besides the page (as
    `engines.finish_result` is called by pipeline/page/assemble.py for PP-OCR)."""
    return {"sure": assemble.SURE} if call["engine"] == "paddle" else {}


def report(changes: list[dict[str, Any]], rates: dict[str, Counter[tuple[int, bool]]]) -> None:
    by: dict[str, Counter[str]] = {}
    for c in changes:
        by.setdefault(f"{c['page'].split(':')[0]} {c['engine']}", Counter())[c["verdict"]] += 1
    for key, counter in sorted(by.items()):
        print(f"{key}: {sum(counter.values())} changes: right {counter['right']}, "
              f"wrong {counter['wrong']}, other {counter['other']}")
    for c in changes:
        wc = "-" if c["wc"] is None else f"{c['wc']:.2f}"
        put = " put back" if c["restored"] else ""
        print(f"  {c['verdict']:5} WC {wc:>4} gain {c['gain']:5.2f}{put}  {c['change']} "
              f"({c['word']})  {c['page']}  [{c['context']}]")
    labels = [f">={b:.2f}" for b in BINS]
    for key, counter in sorted(rates.items()):
        cells = []
        for b, label in enumerate(labels):
            good, bad = counter[(b, True)], counter[(b, False)]
            if good + bad:
                cells.append(f"{label} {bad}/{good + bad} wrong")
        print(f"characters by WC, {key}: " + "; ".join(cells))


if __name__ == "__main__":
    raise SystemExit(main())
