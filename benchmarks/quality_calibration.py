"""Calibration pages for the page-quality estimate (benchmarks/page_quality.py, `--calibration`).

The OCR benchmark's conditions (benchmarks/ocr_accuracy.py: its typesetting and degradations)
set with texts the rendered benchmark never uses, so the estimate's coefficients can be fitted
(or judged) on rendered pages other than the ones its target is measured on:
- the vertical condition (g): traditional passages of the real pages' own ground truths
  (../shared/realpages; OpenCC s2t where they are simplified), in the real pages' own
  leave-one-source-out groups, so that no model estimating a real page was fitted on a
  rendering of its text;
- the horizontal conditions: simplified passages of the shared law corpus (../shared/corpus),
  each from a different law. Not for the vertical pages: the character-bigram model the
  estimate scores text with (pipeline/text/charlm.py) is built from that corpus, so its text
  reads as far more fluent than text the model never saw (clean, 4.6 nats a character against
  the benchmark's texts' 6.4; built without the laws the passages come from, still 4.65), and
  Tesseract's model, which `auto` stores vertical pages from, weighs that surprise; PP-OCR's
  model, which the horizontal pages go to, leaves it out.
Each passage is as long as the benchmark's texts of its kind and ends at a sentence's end; the
laws are chosen at a fixed stride through the corpus: the same pages every run.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import ocr_accuracy as oa  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"
# Passage lengths in characters, as the benchmark's own texts of each kind run (A6: one text a
# page, 271-314 simplified, 157-169 traditional; A5: 759-906, the vertical one 787).
LENGTH = {("a6", False): 300, ("a6", True): 165, ("a5", False): 850, ("a5", True): 790}
# h last: the passages are drawn in this order, so the other conditions' pages keep their texts.
HORIZONTAL = ("a", "b2.5", "b5", "c", "d", "e", "f", "h")
SEED = 5000  # the degradations' seeds (the benchmark's pages use 1000 + i)


@dataclass(frozen=True)
class Page:
    """One calibration page: its name, source document (its group), condition, image, dpi and
    the text set on it."""

    name: str
    group: str
    condition: str
    image: Any
    dpi: int
    reference: str


@lru_cache(maxsize=1)
def _documents() -> tuple[tuple[str, str, str], ...]:
    """(page id, law title, text) of every corpus page, in the corpus's order."""
    out = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append((d["id"], d["title"].rsplit(" ", 1)[0], d["text"]))
    return tuple(out)


_FULL_WIDTH = str.maketrans(",:;()?!", "，：；（）？！")


def _passage(text: str, length: int) -> str | None:
    """A passage of about `length` characters from `text`: its paragraphs joined, from the first
    whole sentence, cut after the last sentence end within `length`; None when none fits."""
    # Some laws are stored with half-width punctuation; a Chinese page sets it full-width (as
    # the benchmark's texts have it, and as Wenshi's text clean-up gives it).
    flat = "".join(text.split()).translate(_FULL_WIDTH)
    start = flat.find("。") + 1 if not flat.startswith("第") else 0
    body = flat[start:start + length]
    cut = max(body.rfind(p) for p in "。；")
    if cut < length * 0.8:
        return None
    return body[:cut + 1]


def _passages(count: int, length: int, offset: int) -> Iterator[tuple[str, str]]:
    """`count` (group, passage) pairs, each from a different law, walking the corpus at a stride
    from `offset`."""
    docs = _documents()
    stride = 97  # prime: the chosen pages spread over the corpus's categories and regions
    seen: set[str] = set()
    i, found = offset, 0
    while found < count and i < offset + stride * len(docs):
        doc_id, title, text = docs[(i * stride) % len(docs)]
        i += 1
        if title in seen:
            continue
        passage = _passage(text, length)
        if passage is None:
            continue
        seen.add(title)
        found += 1
        yield f"law:{title}", passage


def pages(a6_texts: int = 4, a5_texts: int = 2, vertical_a6: int = 2) -> list[Page]:
    """The calibration pages: traditional vertical pages (condition g) of the real pages' own
    texts (`vertical_pages`), then law passages in each horizontal condition, `a6_texts` on A6
    pages and `a5_texts` on A5, every passage from a different law."""
    out = vertical_pages(vertical_a6)
    offset = 0
    for size_name, n_h in (("a6", a6_texts), ("a5", a5_texts)):
        size = oa.PAGES[size_name]
        horizontal = list(_passages(n_h * len(HORIZONTAL) + 1, LENGTH[(size_name, False)],
                                    offset))
        offset += 10_000
        for k, cond in enumerate(HORIZONTAL):
            for j in range(n_h):
                idx = k * n_h + j
                group, text = horizontal[idx]
                # The reverse page of a bleed-through page: the next passage.
                reverse = horizontal[idx + 1][1]
                image, dpi = degrade(cond, oa.render_horizontal(text, size=size), idx, reverse,
                                     size)
                out.append(Page(f"cal_{size_name}_{cond}_{j}", group, cond, image, dpi, text))
    return out


# What a passage of a real page's text is made of: Han characters and the punctuation set in
# running text (no Latin letters, digits or symbols: a vertical 志书 page prints none).
_PROSE = re.compile(r"[\u4e00-\u9fff，。、；：？！「」『』（）《》“”‘’…]{20,}")


def real_texts() -> dict[str, str]:
    """The running text of each real page's source document (../shared/realpages: every page's
    ground truth at 300 dpi, in the manifest's order; its runs of Han characters and
    punctuation of 20 characters or more, joined), in traditional characters (OpenCC s2t),
    keyed by the source, the real pages' own leave-one-source-out group. A run that repeats
    one already taken (a text set in both scripts) is left out."""
    import opencc

    from pipeline.text.normalize import to_simplified
    real = ROOT.parent / "shared" / "realpages"
    manifest = json.loads((real / "manifest.json").read_text(encoding="utf-8"))
    s2t = opencc.OpenCC("s2t")
    texts: dict[str, str] = {}
    seen: set[str] = set()
    for e in manifest:
        if e["dpi"] != 300:
            continue
        flat = "".join((real / e["gt"]).read_text(encoding="utf-8").split())
        for run in _PROSE.findall(flat):
            key = to_simplified(run)
            if key in seen:
                continue
            seen.add(key)
            group = e["source"].split("#")[0]
            texts[group] = texts.get(group, "") + s2t.convert(run)
    return texts


def vertical_pages(per_source: int = 2) -> list[Page]:
    """Traditional vertical pages (condition g) of the real pages' texts: from each source up
    to `per_source` A6 pages of consecutive passages as long as the benchmark's vertical texts,
    and one A5 page where its text is long enough. Their group is the real pages' source, so
    no model that estimates a real page was fitted on a rendering of its text."""
    out: list[Page] = []
    for k, (group, text) in enumerate(real_texts().items()):
        for size_name, count in (("a6", per_source), ("a5", 1)):
            length = LENGTH[(size_name, True)]
            for j in range(min(count, len(text) // length)):
                passage = text[j * length:(j + 1) * length]
                out.append(Page(f"cal_{size_name}_g_{k}_{j}", group, "g",
                                oa.render_vertical(passage, size=oa.PAGES[size_name]), oa.DPI,
                                passage))
    return out


def degrade(condition: str, clean: Any, i: int, reverse: str, size: tuple[int, int]
            ) -> tuple[Any, int]:
    """A page in one of the benchmark's horizontal conditions (ocr_accuracy.make_samples's
    degradations, their own strengths; seeds of their own)."""
    seed = SEED + i
    sign = 1 if i % 2 == 0 else -1
    if condition == "a":
        return clean, oa.DPI
    if condition == "b2.5":
        return oa.skew(clean, 2.5 * sign), oa.DPI
    if condition == "b5":
        return oa.skew(clean, 5.0 * sign), oa.DPI
    if condition == "c":
        return oa.aged_scan(clean, seed), oa.DPI
    if condition == "d":
        return oa.low_resolution(clean), 150
    if condition == "e":
        return oa.aged_scan(oa.skew(clean, 2.5 * sign), seed), oa.DPI
    if condition == "f":
        return oa.bleed_through(clean, oa.render_horizontal(reverse, size=size)), oa.DPI
    if condition == oa.GRADED:
        # the worn copy's level as the benchmark's page i has it (i mod 4): on A6 pages the
        # four passages come out at levels 0-3, on A5 (two passages) at 2 and 3
        return oa.worn_copy(clean, i % len(oa.WORN), seed)
    raise ValueError(f"unknown condition {condition!r}")
