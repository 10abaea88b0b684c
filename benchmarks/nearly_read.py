"""Every character PP-OCR's recogniser nearly read, judged against the page's known text.

For each page (the real pages of ../shared/realpages, and the rendered conditions of
`ocr_accuracy.py`: A6 built-in texts, A5 built-in texts, A5 built-in and sample texts), PP-OCR
reads the page (`paddle.read_image`); in each line rapidocr keeps, every character nearly read
(`engines/nearly.py`, `nearly_read`: in a stretch of blank frames, another character than the
neighbours at 0.1 or more) is listed with its probability, the frames between the characters
read either side over the line's character pitch (`room`), the confidences of those two, and a
verdict: put into the line there, does it make the page's text?

Verdict, from the two characters either side of the gap (three on one side at a line's ends),
in the page's text with whitespace removed, NFKC, every punctuation mark and symbol (and 〇)
folded into one (PP-OCR reads a vertical page's ， as ’, the numeral 〇 as the symbol ○): `right`
when the context with the character stands in the text and without it does not, `wrong` the
other way round, `both` when both do, `unknown` when neither does (the neighbours themselves
misread: show-through read as text, a formula).

Printed: what `restorable` would put back at each probability floor and room ratio (right /
wrong / both / unknown, and among them letters and digits right / wrong), with and without the
condition that both neighbours were read sure (`nearly.SURE`), for the real and the rendered
pages; `--list` prints every candidate too.

`--ends` reports the line's ends instead (session 14): how many characters of the known text
each line lost just before its first or after its last character read, and the candidates
nearly read there, with their room to the edge of the line's crop (the frames before the first
character read, or after the last, over the line's pitch). A line end is judged where its three
characters there stand once in the known text: `clean` when another line read starts (ends)
with the known text's next (previous) three characters, `lost` when one character lies between
and another line read starts (ends) after it (no line of one or two characters read holds
it), `other` otherwise (several lost, the neighbouring
line misread or cut elsewhere). A candidate at a `lost` end is `right` when it is that
character (folded as above), `substitution` when it is another; at a `clean` end `wrong`.

    .venv/bin/python benchmarks/nearly_read.py --jsonl /tmp/nearly.jsonl        # ~1 CPU hour
    .venv/bin/python benchmarks/nearly_read.py --jsonl /tmp/nearly.jsonl --list  # read again
    .venv/bin/python benchmarks/nearly_read.py --jsonl /tmp/nearly.jsonl --ends --list
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_accuracy as oa  # noqa: E402
import realpages  # noqa: E402
from pipeline.page.engines import nearly, paddle  # noqa: E402

FLOORS = (0.1, 0.15, 0.2, 0.3)
ROOMS = (1.3, 1.5, 1.6, 1.7, 1.8, 1.9)


def pages(which: str) -> Iterator[tuple[str, Image.Image, str]]:
    """(name, image, known text) of the real pages, or of the rendered conditions."""
    if which == "real":
        for entry in realpages.manifest([300, 150]):
            image = Image.open(realpages.REALPAGES / entry["image"])
            image.load()
            yield (Path(entry["image"]).stem, image,
                   (realpages.REALPAGES / entry["gt"]).read_text(encoding="utf-8"))
        return
    # (label, page size, texts, pages a condition, vertical pages)
    sets = (("a6", oa.A6, "builtin", 3, 3), ("a5", oa.A5, "builtin", 2, 2),
            ("all-a5", oa.A5, "all", 5, 1))
    for label, size, source, count, vertical in sets:
        texts = oa.sample_texts(source)
        if size != oa.A6:
            texts = (oa.page_texts(texts[0], size, False), oa.page_texts(texts[1], size, True))
        for condition in oa.CONDITIONS:
            n = vertical if condition == "g" else count
            for sample in oa.make_samples(condition, n, *texts, size=size):
                yield f"{label}-{condition}-{sample.index}", sample.image, sample.reference


def collect(which: str, out: Any) -> None:
    """Read each page, writing its lines as rapidocr decodes them, with the candidates."""
    record: list[dict[str, Any]] = []
    inner = paddle._DoubtingDecoder.__call__

    def recording(self: Any, preds: Any, return_word_box: bool = False, **kwargs: Any) -> Any:
        plain, words = self._decoder(preds, return_word_box, **kwargs)
        ratios = kwargs.get("wh_ratio_list", (1.0,))
        widest = float(kwargs.get("max_wh_ratio", 1.0)) or 1.0
        for b, (text, score) in enumerate(plain):
            frames = int(round(preds.shape[1] * float(ratios[b]) / widest))
            cols, found = nearly.nearly_read(preds[b], frames)
            record.append({"text": text, "score": float(score), "frames": frames,
                           "cols": [int(c) for c in cols], "confs": list(words[b].confs),
                           "cands": [{"at": n.at, "char": self._decoder.character[n.label],
                                      "p": round(n.probability, 4), "room": n.room}
                                     for n in found]})
        return inner(self, preds, return_word_box, **kwargs)

    setattr(paddle._DoubtingDecoder, "__call__", recording)
    for name, image, known in pages(which):
        record.clear()
        paddle.read_image(image)
        out.write(json.dumps({"page": name, "set": which, "gt": known, "lines": record},
                             ensure_ascii=False) + "\n")
        out.flush()
        print(name, file=sys.stderr, flush=True)


def _fold(text: str) -> str:
    out = "".join(unicodedata.normalize("NFKC", c) for c in text if not c.isspace())
    return "".join("·" if unicodedata.category(c)[0] in "PS" or c == "〇" else c for c in out)


def verdict(text: str, at: int, char: str, known: str) -> str:
    """right / wrong / both / unknown: see the module's docstring."""
    left, right = text[:at], text[at:]
    if left and right:
        left, right = left[-2:], right[:2]
    elif right:
        right = right[:3]
    else:
        left = left[-3:]
    with_it, without = _fold(left + char + right) in known, _fold(left + right) in known
    return {(True, False): "right", (False, True): "wrong", (True, True): "both"}.get(
        (with_it, without), "unknown")


def candidates(path: Path) -> list[dict[str, Any]]:
    """Every candidate of the pages in `path` between two characters read, on lines of at
    least nearly.MIN_READ (where `restorable` can measure a pitch), with its verdict."""
    rows = []
    for page in map(json.loads, path.open(encoding="utf-8")):
        known = _fold(page["gt"])
        for line in page["lines"]:
            cols, text = line["cols"], line["text"]
            if line["score"] < 0.5 or not text.strip() or len(cols) != len(text):
                continue
            if len(cols) < nearly.MIN_READ:
                continue
            step = statistics.median(b - a for a, b in zip(cols, cols[1:]))
            for c in line["cands"]:
                if not c["room"] or c["char"] == " ":
                    continue
                confs = line.get("confs") or []
                sure = (min(confs[c["at"] - 1], confs[c["at"]]) if len(confs) == len(cols)
                        else None)
                kind = unicodedata.category(unicodedata.normalize("NFKC", c["char"])[:1] or " ")
                rows.append({"page": page["page"], "set": page["set"], "char": c["char"],
                             "p": c["p"], "ratio": c["room"] / step, "sure": sure,
                             "letter": kind[0] in "LN", "at": c["at"], "text": text,
                             "verdict": verdict(text, c["at"], c["char"], known)})
    return rows


END_CONTEXT = 3  # characters of a line's end looked for in the known text


def _alone(char: str, texts: list[str]) -> bool:
    """`char` read in a line of its own (a page number the detector boxed apart)."""
    return any(len(t) <= 2 and char in t for t in texts)


def _end(known: str, texts: list[str], text: str, start: bool
         ) -> tuple[str, tuple[int, str] | None]:
    """How the line `text` (folded) ends at its start or end against the known text: clean,
    lost (with the character lost and its place in `known`), other, or n/a (its end not found
    once); `texts`: the page's lines read, folded."""
    k = END_CONTEXT
    ctx = text[:k] if start else text[-k:]
    if len(ctx) < k or known.count(ctx) != 1:
        return "n/a", None
    i = known.find(ctx)
    if start:
        before = known[max(0, i - k):i]
        if i == 0 or any(t.endswith(before) for t in texts):
            return "clean", None
        lost = (i - 1, known[i - 1])
        # one character between: the line before ends just before it, and none read holds it
        after_one = i > k and any(t.endswith(known[i - 1 - k:i - 1]) for t in texts)
        held = any(known[i - 1:i + 1] in t for t in texts) or _alone(lost[1], texts)
        return ("lost", lost) if after_one and not held else ("other", None)
    e = i + k
    if e == len(known) or any(t.startswith(known[e:e + k]) for t in texts):
        return "clean", None
    lost = (e, known[e])
    before_one = e + 1 + k <= len(known) and any(
        t.startswith(known[e + 1:e + 1 + k]) for t in texts)
    held = any(known[e - 1:e + 1] in t for t in texts) or _alone(lost[1], texts)
    return ("lost", lost) if before_one and not held else ("other", None)


def ends(path: Path) -> tuple[Counter[tuple[str, str, str]], list[dict[str, Any]]]:
    """The line ends of the pages in `path` (lines of at least nearly.MIN_READ read, at 0.5 or
    more) counted by set, side and how they end, and every candidate nearly read at them or
    character lost there, with its verdict."""
    counts: Counter[tuple[str, str, str]] = Counter()
    rows = []
    for page in map(json.loads, path.open(encoding="utf-8")):
        known = _fold(page["gt"])
        lines = [line for line in page["lines"] if line["score"] >= 0.5]
        texts = [_fold(line["text"]) for line in lines]
        for line in lines:
            cols, text = line["cols"], line["text"]
            folded = _fold(text)
            if len(cols) != len(text) or len(cols) < nearly.MIN_READ or len(folded) != len(text):
                continue
            step = statistics.median(b - a for a, b in zip(cols, cols[1:]))
            at_end = {c["at"]: c for c in line["cands"] if c["char"] != " "}
            for start in (True, False):
                state, lost = _end(known, texts, folded, start)
                side = "start" if start else "end"
                counts[(page["set"], side, state)] += 1
                cand = at_end.get(0 if start else len(cols))
                if cand is None and state != "lost":
                    continue
                if cand is None:
                    judged = "-"
                elif lost is not None:
                    judged = "right" if _fold(cand["char"]) == lost[1] else "substitution"
                else:
                    judged = "wrong" if state == "clean" else "unknown"
                room = (cols[0] if start else line["frames"] - cols[-1]) / step
                confs = line.get("confs") or []
                rows.append({"page": page["page"], "set": page["set"], "side": side,
                             "lost": lost[1] if lost else None,
                             "at": lost[0] if lost else None,
                             "verdict": judged, "room": room, "text": text,
                             "char": cand["char"] if cand else "", "p": cand["p"] if cand else 0,
                             "sure": (confs[0] if start else confs[-1]) if confs else None})
    return counts, rows


def report_ends(path: Path, which: list[str], listed: bool) -> None:
    counts, rows = ends(path)
    for s in which:
        print(f"\n{s}: line ends (lines of >= {nearly.MIN_READ} read)")
        for side in ("start", "end"):
            print(f"  {side}: " + ", ".join(f"{state} {counts[(s, side, state)]}" for state in
                                            ("clean", "lost", "other", "n/a")))
        mine = [r for r in rows if r["set"] == s]
        # a character lost between two lines is seen from both: counted once
        lost: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for r in mine:
            if r["lost"]:
                lost.setdefault((r["page"], r["at"]), []).append(r)
        print(f"  characters lost at a line's end: {len(lost)}, with a candidate there "
              f"{sum(any(r['verdict'] != '-' for r in v) for v in lost.values())}, left out "
              f"of the box (room < 1 pitch on each side seen) "
              f"{sum(all(r['room'] < 1 for r in v) for v in lost.values())}; punctuation or "
              f"symbols {sum(v[0]['lost'] == '·' for v in lost.values())}")
        cands = [r for r in mine if r["verdict"] != "-"]
        print(f"  candidates: {Counter(r['verdict'] for r in cands)}")
        if listed:
            for r in sorted(mine, key=lambda r: (r["verdict"] == "-", r["room"])):
                t = r["text"]
                shown = (f"[{r['char']}]{t[:7]}" if r["side"] == "start" else
                         f"{t[-7:]}[{r['char']}]")
                sure = "-" if r["sure"] is None else f"{r['sure']:.2f}"
                print(f"  {r['page']:24} {r['side']:5} {r['verdict']:12} lost {r['lost'] or '-'} "
                      f"p {r['p']:.2f} room {r['room']:.2f} sure {sure:>4} {shown}")


def table(rows: list[dict[str, Any]], sure: bool) -> list[str]:
    out = ["p >= \\ room >= " + "".join(f"{r:>24}" for r in ROOMS)]
    for p in FLOORS:
        cells = []
        for room in ROOMS:
            kept = [r for r in rows if r["p"] >= p and r["ratio"] >= room
                    and (not sure or (r["sure"] is not None and r["sure"] >= nearly.SURE))]
            n = Counter(r["verdict"] for r in kept)
            ln = Counter(r["verdict"] for r in kept if r["letter"])
            cells.append(f"{n['right']}/{n['wrong']}/{n['both']}/{n['unknown']} "
                         f"({ln['right']}/{ln['wrong']})")
        out.append(f"{p:<15}" + "".join(f"{c:>24}" for c in cells))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, required=True,
                        help="the pages' readings: written when missing, read when present")
    parser.add_argument("--sets", default="real,rendered", help="real, rendered or both")
    parser.add_argument("--list", action="store_true", help="print every candidate too")
    parser.add_argument("--ends", action="store_true",
                        help="the characters lost and nearly read at the lines' ends instead")
    args = parser.parse_args(argv)
    if not args.jsonl.exists():
        with args.jsonl.open("w", encoding="utf-8") as out:
            for which in args.sets.split(","):
                collect(which, out)
    if args.ends:
        report_ends(args.jsonl, args.sets.split(","), args.list)
        return 0
    rows = candidates(args.jsonl)
    for which in args.sets.split(","):
        mine = [r for r in rows if r["set"] == which]
        print(f"\n{which}: {len(mine)} candidates between two characters read "
              f"({Counter(r['verdict'] for r in mine)})")
        for sure in (False, True):
            print(f"put back: right / wrong / both / unknown (letters and digits right / wrong)"
                  + (f", both neighbours read at >= {nearly.SURE}" if sure else ""))
            print("\n".join(table(mine, sure)))
        if args.list:
            for r in sorted(mine, key=lambda r: r["ratio"]):
                t, a = r["text"], r["at"]
                sure_text = "-" if r["sure"] is None else f"{r['sure']:.2f}"
                print(f"  {r['page']:24} {r['verdict']:8} p {r['p']:.3f} room {r['ratio']:.2f} "
                      f"sure {sure_text:>4} {t[max(0, a - 6):a]}[{r['char']}]{t[a:a + 6]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
