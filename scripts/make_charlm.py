"""Build the character-bigram table the page-quality estimate scores OCR text with.

    .venv/bin/python scripts/make_charlm.py          # writes pipeline/text/data/charlm.tsv.gz

Counts come from two sources, both simplified Chinese (the estimate maps traditional text to
simplified with OpenCC before scoring, pipeline/text/normalize.to_simplified):
- ../shared/corpus/laws-zh.jsonl.gz: 19.6 M characters of PRC laws and regulations (official
  documents of state bodies: not subject to copyright, PRC Copyright Law art. 5);
- the words of jieba's own dictionary (jieba 0.42.1, MIT licence), each word's internal
  character bigrams counted with the word's frequency, so that vocabulary outside the law texts
  (history, literature, place names) is known too.

The table keeps every character seen at least MIN_CHAR times and the bigrams seen at least
MIN_BIGRAM times (pruned: a few MB). Deterministic: the same inputs give the same bytes.
Format (UTF-8, gzip, mtime 0): a header `#total<TAB>N`, then `c<TAB>count` lines for characters
and `ab<TAB>count` lines for bigrams, sorted.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "laws-zh.jsonl.gz"
OUT = ROOT / "pipeline" / "text" / "data" / "charlm.tsv.gz"
MIN_CHAR = 2
MIN_BIGRAM = 8


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _count_text(text: str, chars: Counter[str], bigrams: Counter[str], weight: int = 1) -> None:
    prev = ""
    for ch in text:
        if _cjk(ch):
            chars[ch] += weight
            if prev:
                bigrams[prev + ch] += weight
            prev = ch
        else:
            prev = ""


def main() -> int:
    """Count, prune, write."""
    import jieba  # the build script only; Wenshi imports jieba in pipeline/text/segment.py

    chars: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            _count_text(json.loads(line)["text"], chars, bigrams)
    dict_path = Path(jieba.__file__).with_name("dict.txt")
    with open(dict_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                _count_text(parts[0], chars, bigrams, int(parts[1]))
    total = sum(chars.values())
    buf = io.StringIO()
    buf.write(f"#total\t{total}\n")
    kept_chars = sorted(c for c, n in chars.items() if n >= MIN_CHAR)
    for c in kept_chars:
        buf.write(f"{c}\t{chars[c]}\n")
    kept = sorted(b for b, n in bigrams.items() if n >= MIN_BIGRAM)
    for b in kept:
        buf.write(f"{b}\t{bigrams[b]}\n")
    raw = buf.getvalue().encode("utf-8")
    with open(OUT, "wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(raw)
    print(f"{len(kept_chars)} characters, {len(kept)} bigrams (of {len(bigrams)}), "
          f"{OUT.stat().st_size / 1e6:.2f} MB -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
