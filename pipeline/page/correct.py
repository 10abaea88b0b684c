"""Post-OCR correction of misread characters, with the dictionary and the page as evidence.

Debian's chi_sim model misreads some glyphs whatever the image quality: 末 as 未, 千 as 干, 骡 as
骤, 宜 as 宣 (benchmarks/README.md). Each such misreading leaves a character that forms no word
with its neighbours where a look-alike would: 清光绪未年 has no word around 未, 清光绪末年 has 末年.
A character is replaced only on that evidence, and the page's:

- the replacement is one of the character's look-alikes, from a table derived from the glyphs
  of three typefaces (scripts/make_confusables.py; no text and no OCR output went into it);
- the original character is not part of any dictionary word of 2-4 characters with its
  neighbours, and the replacement is;
- the jieba dictionary's best segmentation of the few characters around it is markedly more
  probable with the replacement (`MIN_GAIN`, less so for less alike glyphs);
- the glyph on the page looks more like the replacement than like the recognised character
  (pipeline/page/glyphs.py, `SIMILARITY_PER_DISTANCE`). The dictionary alone would "correct" correct
  text: 由区住房 reads better to it as 山区住房.

The correction was made for Tesseract's misreadings. PP-OCR (`--engine auto` on horizontal pages)
misreads far less, and says when: a character it read at confidence 0.9 or more (its String's
WC; `sure`, pipeline/page/assemble.py) is kept as read. On the simplified real pages every change
the correction made to such a character was wrong (问门主 -> 同门主: 同门 is a word, 问门 is
not), its right ones were of characters PP-OCR doubted (0.54, 0.83), and PP-OCR's characters read
that sure were wrong 3 times in 25,556 (35 in 11,776 on real pages made to look scanned;
benchmarks/correction_paddle.py, benchmarks/README.md session 16). Tesseract's WC is a whole
word's, not the character's: its characters are all looked at, as before.

Tesseract's own per-character alternatives (`lstm_choice_mode=2`) would have been the natural
source of candidates, but with this model they held the right character for 3 of 25 misreadings
measured (benchmarks/README.md). Only simplified text is corrected: the dictionary is simplified
Chinese, and a traditional page must not gain simplified look-alikes.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Container, Mapping, Sequence
from xml.sax.saxutils import escape, unescape

from lxml import etree
from PIL import Image

from ..text import segment
from .alto import alternatives as alto_alternatives
from .alto import parse_alto
from .alto import strings as alto_strings
from .glyphs import Box, glyph_similarity

CONFUSABLES = Path(__file__).with_name("data") / "confusables.tsv"
MAX_WORD = 4  # longest dictionary word looked for around a character
CONTEXT = 3  # characters each side that the segmentation score looks at
# Natural-log probability gain the replacement must bring to the best segmentation of its
# context, after GAIN_PER_DISTANCE x the glyph distance: the less alike, the less likely the
# misreading. Chosen with benchmarks/correction_check.py (benchmarks/README.md, "OCR accuracy").
MIN_GAIN = 1.5
GAIN_PER_DISTANCE = 5.0
# The proposed character must match the glyph on the page better than the recognised one, by a
# correlation margin of this times their glyph distance (pipeline.page.glyphs): the less alike the
# two characters, the more clearly the page must show the proposed one. Chosen on
# benchmarks/correction_check.py: its fixes of OCR'd pages won by 0.28-0.54 x distance, its
# false corrections of correct text by 0.03-0.13 x distance.
SIMILARITY_PER_DISTANCE = 0.2
EM_PER_INK = 1.05  # a character's em square over its ink extent, in the faces compared
# The glyph distance given an engine's alternative the look-alike table does not list: the
# table's own horizon (scripts/make_confusables.py lists look-alikes up to 0.4), so the dictionary
# must bring the gain the least alike listed pair needs.
SEEN_DISTANCE = 0.4

_HAN_RUN = re.compile(r"[\u4e00-\u9fff](?:\s*[\u4e00-\u9fff])*")


@dataclass(frozen=True)
class Correction:
    """One character replaced, and the evidence for it."""

    index: int  # offset in the text
    original: str
    replacement: str
    word: str  # the dictionary word the replacement forms with its neighbours
    gain: float  # log-probability gain of the context's best segmentation


Lookalikes = Mapping[str, tuple[tuple[str, float], ...]]


@lru_cache(maxsize=1)
def confusables() -> Lookalikes:
    """Character -> its look-alikes with their glyph distances (0-1), nearest first."""
    table: dict[str, tuple[tuple[str, float], ...]] = {}
    for line in CONFUSABLES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            char, _, similar = line.partition("\t")
            table[char] = tuple((item[0], float(item[1:])) for item in similar.split())
    return table


# (offset in the text, original, replacement, glyph distance) -> does the evidence agree?
Check = Callable[[int, str, str, float], bool]


def correct_text(text: str, lookalikes: Lookalikes | None = None,
                 user_dicts: tuple[str, ...] | None = None,
                 check: Check | None = None, kept: Container[int] = frozenset(),
                 seen: Mapping[int, Sequence[str]] | None = None
                 ) -> tuple[str, tuple[Correction, ...]]:
    """`text` with misread characters replaced, and the replacements made.

    Whitespace and line breaks are looked through (Tesseract breaks lines inside words), anything
    else that is not a Chinese character ends the context. `check`, when given, has the last word
    on each replacement the dictionary proposes (the page image: `correct_page`). The characters
    at the offsets `kept` (those the engine was sure of) are never replaced, only read as
    context. `seen`: the engine's own alternatives by offset (ALTO's ALTERNATIVE: what PP-OCR's
    recogniser saw where it doubted a character, pipeline/page/engines/alternatives.py), weighed
    beside the look-alikes; the engine has looked at the glyph, so `check` is not asked again.
    """
    table = confusables() if lookalikes is None else lookalikes
    freq, total = segment.word_frequencies(user_dicts)
    scorer = _Scorer(freq, math.log(total))
    chars = list(text)
    made: list[Correction] = []
    for run in _han_runs(text):
        han = [chars[k] for k in run]
        covered = scorer.covered("".join(han))
        for i, ch in enumerate(han):
            if covered[i] or run[i] in kept:
                continue
            similar = table.get(ch, ())
            engine = _seen_candidates(ch, seen.get(run[i], ()) if seen else (), similar)
            for replacement, word, gain, distance in scorer.replacements(
                    han, i, similar + tuple(c for c in engine if c not in similar)):
                if check is None or (replacement, distance) in engine or check(
                        run[i], ch, replacement, distance):
                    han[i] = replacement
                    chars[run[i]] = replacement
                    made.append(Correction(run[i], ch, replacement, word, round(gain, 2)))
                    # The characters after it are judged with it, as they were before.
                    covered = scorer.covered("".join(han))
                    break
    return "".join(chars), tuple(made)


def _seen_candidates(ch: str, seen: Sequence[str], similar: tuple[tuple[str, float], ...]
                     ) -> tuple[tuple[str, float], ...]:
    """The engine's alternatives to `ch` that are Chinese characters, each with its glyph
    distance from the look-alike table (`similar`, ch's entries) or SEEN_DISTANCE."""
    listed = dict(similar)
    return tuple((c, listed.get(c, SEEN_DISTANCE)) for c in seen
                 if c != ch and len(c) == 1 and "\u4e00" <= c <= "\u9fff")


def _han_runs(text: str) -> list[list[int]]:
    """Offsets of the Chinese characters of `text`, in runs broken by anything but whitespace."""
    return [[m.start() + k for k, ch in enumerate(m.group()) if not ch.isspace()]
            for m in _HAN_RUN.finditer(text)]


class _Scorer:
    """Dictionary look-ups on a run of characters: covering words and segmentation scores."""

    def __init__(self, freq: Mapping[str, int], log_total: float) -> None:
        self.freq = freq
        self.log_total = log_total

    def covered(self, run: str) -> list[bool]:
        """For each character of `run`, whether a dictionary word of 2-MAX_WORD characters
        includes it (what `covering_word` finds, for the whole run at once)."""
        freq = self.freq
        out = [False] * len(run)
        for start in range(len(run) - 1):
            for end in range(start + 2, min(len(run), start + MAX_WORD) + 1):
                count = freq.get(run[start:end])
                if count is None:
                    break  # jieba's table holds every prefix of its words: no longer word here
                if count > 0:
                    out[start:end] = [True] * (end - start)
        return out

    def covering_word(self, text: str, i: int) -> str:
        """The most frequent dictionary word of 2-MAX_WORD characters that includes text[i]
        (of equal ones, the shortest, then the first)."""
        freq = self.freq
        best, best_freq, best_key = "", 0, (0, 0)
        for start in range(max(0, i - MAX_WORD + 1), i + 1):
            for end in range(start + 2, min(len(text), start + MAX_WORD) + 1):
                count = freq.get(text[start:end])
                if count is None:
                    break  # jieba's table holds every prefix of its words: no longer word here
                if end > i and count > 0:
                    key = (end - start, start)
                    if count > best_freq or (count == best_freq and key < best_key):
                        best, best_freq, best_key = text[start:end], count, key
        return best

    def replacements(self, han: list[str], i: int, similar: tuple[tuple[str, float], ...]
                     ) -> list[tuple[str, str, float, float]]:
        """(replacement, word it forms, gain, glyph distance) of each look-alike with enough gain,
        best first."""
        # Only the characters a word or the score around han[i] reaches: copies stay short.
        reach = max(CONTEXT, MAX_WORD - 1)
        start = max(0, i - reach)
        near, i = "".join(han[start:i + reach + 1]), i - start
        lo, hi = max(0, i - CONTEXT), min(len(near), i + CONTEXT + 1)
        before = self.route(near[lo:hi])
        found = []
        for candidate, distance in similar:
            trial = near[:i] + candidate + near[i + 1:]
            word = self.covering_word(trial, i)
            if not word:
                continue
            # The less alike the glyphs, the less likely the misreading: more evidence needed.
            gain = self.route(trial[lo:hi]) - before - GAIN_PER_DISTANCE * distance
            if gain >= MIN_GAIN:
                found.append((candidate, word, gain, distance))
        return sorted(found, key=lambda item: -item[2])

    def route(self, text: str) -> float:
        """Log probability of the best segmentation of `text` into dictionary words (jieba's)."""
        n = len(text)
        freq, log, log_total = self.freq, math.log, self.log_total
        score = [0.0] * (n + 1)
        for start in range(n - 1, -1, -1):
            # A character no word explains still counts, as jieba counts it: frequency 1.
            best = log(freq.get(text[start]) or 1) - log_total + score[start + 1]
            for end in range(start + 2, min(n, start + MAX_WORD) + 1):
                count = freq.get(text[start:end])
                if count is None:
                    break  # no longer word starts here either (the table holds every prefix)
                if count > 0:
                    best = max(best, log(count) - log_total + score[end])
            score[start] = best
        return score[0]


_ALTO_CONTENT = re.compile(r'(<String\b[^>]*?\bCONTENT=")([^"]*)(")')


def correct_page(text: str, alto: str, image: Image.Image | None = None, vertical: bool = False,
                 user_dicts: tuple[str, ...] | None = None, tree: etree._Element | None = None,
                 sure: float | None = None) -> tuple[str, str, tuple[Correction, ...]]:
    """An engine's text and ALTO of one page, both corrected alike, and the corrections.

    `sure`: the engine's confidence (a String's WC, 0-1) at or above which a character it read
    stays as read (PP-OCR's: `assemble.SURE`); None, every character may be replaced
    (Tesseract's, whose WC is a whole word's).

    Tesseract writes the same characters to both, in the same order, apart from whitespace; a
    correction at the n-th non-space character of the text goes to the n-th one of the ALTO
    String contents. Should the two ever disagree, the page is left as it is rather than letting
    the text and the word boxes drift apart. `tree`, the same ALTO already parsed
    (pipeline.page.alto), spares parsing it again and is corrected too, in place.
    """
    try:
        elements = alto_strings(tree if tree is not None else parse_alto(alto))
    except etree.XMLSyntaxError:
        return text, alto, ()
    contents = [e.get("CONTENT", "") for e in elements]
    if "".join("".join(contents).split()) != "".join(text.split()):
        return text, alto, ()
    # Position of each character of the text among the non-space characters.
    nonspace = {}
    count = 0
    for k, ch in enumerate(text):
        if not ch.isspace():
            nonspace[k] = count
            count += 1
    check = None
    if image is not None:
        check = _image_check(image, elements, contents, nonspace, vertical)
    kept = frozenset() if sure is None else _sure_offsets(elements, contents, nonspace, sure)
    corrected, corrections = correct_text(text, user_dicts=user_dicts, check=check, kept=kept,
                                          seen=_alternatives(elements, contents, nonspace))
    if not corrections:
        return text, alto, ()
    replace = {nonspace[c.index]: c.replacement for c in corrections}
    # The text of the ALTO is edited where it stands, so that nothing else in it changes.
    matches = list(_ALTO_CONTENT.finditer(alto))
    before = [_unescape(m.group(2)) for m in matches]
    if "".join("".join(before).split()) != "".join("".join(contents).split()):
        return text, alto, ()  # an ALTO the expression does not read as lxml does: leave it
    # A String's ALTERNATIVEs stay the other readings: the replacement's place goes to what
    # the engine read.
    for element, old, new in zip(elements, contents, _replaced(contents, replace)):
        if new != old:
            element.set("CONTENT", new)
            for other in alto_alternatives(element):
                if other.text == new.strip():
                    other.text = old.strip()
    pieces = []
    end = 0
    for match, old, new in zip(matches, before, _replaced(before, replace)):
        if new != old:
            pieces += [alto[end:match.start(2)], escape(new, _ATTR_ENTITIES_OUT)]
            end = match.end(2)
            opened, close = alto.find(">", end), alto.find("</String>", end)
            if 0 <= opened < close and alto[opened - 1] != "/":  # a String with children
                inner = alto[end:close]
                swapped = inner.replace(f"<ALTERNATIVE>{escape(new.strip())}</ALTERNATIVE>",
                                        f"<ALTERNATIVE>{escape(old.strip())}</ALTERNATIVE>")
                pieces.append(swapped)
                end = close
    return corrected, "".join(pieces) + alto[end:], corrections


def _sure_offsets(elements: list[etree._Element], contents: list[str], nonspace: dict[int, int],
                  sure: float) -> frozenset[int]:
    """Offsets in the text of the characters whose String has a confidence (WC) of `sure` or
    more."""
    confident: set[int] = set()  # among the non-space characters
    count = 0
    for element, content in zip(elements, contents):
        n = len("".join(content.split()))
        try:
            wc = float(element.get("WC", ""))
        except ValueError:
            wc = None  # no confidence given: the character may be replaced
        if wc is not None and wc >= sure:
            confident.update(range(count, count + n))
        count += n
    return frozenset(k for k, n in nonspace.items() if n in confident)


def _alternatives(elements: list[etree._Element], contents: list[str],
                  nonspace: dict[int, int]) -> dict[int, tuple[str, ...]]:
    """Offsets in the text of the characters whose String (of that one character) holds the
    engine's ALTERNATIVEs, and those alternatives."""
    at = {n: k for k, n in nonspace.items()}
    found: dict[int, tuple[str, ...]] = {}
    count = 0
    for element, content in zip(elements, contents):
        n = len("".join(content.split()))
        if n == 1:
            others = tuple(a.text.strip() for a in alto_alternatives(element)
                           if a.text and a.text.strip())
            if others and count in at:
                found[at[count]] = others
        count += n
    return found


def _unescape(value: str) -> str:
    return unescape(value, _ATTR_ENTITIES) if "&" in value else value


def _replaced(contents: list[str], replace: dict[int, str]) -> list[str]:
    """`contents` with the n-th non-space character of them all replaced by replace[n]."""
    out = list(contents)
    targets = sorted(replace)
    seen = 0
    for n, content in enumerate(contents):
        if not targets:
            break
        count = len("".join(content.split()))
        if targets[0] < seen + count:  # only the few Strings with a correction are rebuilt
            chars = list(content)
            k = seen
            for i, ch in enumerate(chars):
                if not ch.isspace():
                    chars[i] = replace.get(k, ch)
                    k += 1
            out[n] = "".join(chars)
            targets = [t for t in targets if t >= seen + count]
        seen += count
    return out


_ATTR_ENTITIES = {"&quot;": '"', "&apos;": "'", "&#39;": "'", "&#34;": '"'}
_ATTR_ENTITIES_OUT = {'"': "&quot;"}


def _image_check(image: Image.Image, elements: list[etree._Element], contents: list[str],
                 nonspace: dict[int, int], vertical: bool) -> Check:
    """A check that the glyph on the page looks more like the replacement than the original.

    The boxes are read and the body text's size worked out at the first check: most pages have
    no character the dictionary doubts."""
    boxes: _GlyphBoxes | None = None
    size = 0

    def check(index: int, original: str, replacement: str, distance: float) -> bool:
        nonlocal boxes, size
        if boxes is None:
            boxes = _GlyphBoxes(elements, contents, vertical)
            size = round(EM_PER_INK * boxes.ink)
        k = nonspace[index]
        if boxes.box(k) is None or size < 8:
            return False
        near = max(0, k - _NEIGHBOURS)
        box = _line_centred([boxes.box(j) for j in range(near, k + _NEIGHBOURS + 1)], k - near,
                            boxes.ink, vertical)
        ours, theirs = glyph_similarity(image, box, size, (replacement, original), vertical)
        return (ours is not None and theirs is not None
                and ours > theirs + SIMILARITY_PER_DISTANCE * distance)
    return check


_NEIGHBOURS = 6  # characters each side whose boxes say where the line runs


def _line_centred(boxes: list[Box | None], i: int, ink: int, vertical: bool) -> Box:
    """boxes[i] moved across the line onto the line's middle, as its neighbours place it.

    A single box can reach well above or below its glyph (measured: 66 px tall for a 42 px
    character, its middle 14 px low); the boxes of the characters around it that have the body
    text's size agree on where the line runs.
    """
    def middle(b: Box) -> float:
        return b.left + b.width / 2 if vertical else b.top + b.height / 2

    def extent(b: Box) -> int:
        return b.width if vertical else b.height

    box = boxes[i]
    assert box is not None
    near = sorted(middle(b) for b in boxes[max(0, i - _NEIGHBOURS):i + _NEIGHBOURS + 1]
                  if b is not None and abs(extent(b) - ink) <= 0.2 * ink
                  and abs(middle(b) - middle(box)) < 0.6 * ink)
    if not near:
        return box
    shift = round(near[len(near) // 2] - middle(box))
    return (Box(box.left + shift, box.top, box.width, box.height) if vertical
            else Box(box.left, box.top + shift, box.width, box.height))


class _GlyphBoxes:
    """The box of each non-space character of the ALTO Strings, in order, and their body size.

    A String of several characters (光绪) is cut into equal cells along its longer side: Chinese
    characters are set one to a square cell, across for horizontal lines, down for vertical ones.
    Cells are cut only for the few characters checked, not for the whole page.
    """

    def __init__(self, elements: list[etree._Element], contents: list[str],
                 vertical: bool) -> None:
        self.starts: list[int] = []  # first character of each String with any
        self.strings: list[tuple[int, tuple[float, float, float, float] | None]] = []
        extents: list[tuple[int, int]] = []  # (extent across the line, characters)
        count = 0
        for element, content in zip(elements, contents):
            n = len("".join(content.split()))
            if not n:
                continue
            get = element.get
            coords: tuple[float, float, float, float] | None
            try:
                coords = (float(get("HPOS")), float(get("VPOS")), float(get("WIDTH")),
                          float(get("HEIGHT")))
            except (TypeError, ValueError):
                coords = None
            else:
                width, height = coords[2], coords[3]
                along = width >= height  # cut across the line's direction or down it
                if vertical:
                    extents.append((round(width / n) if along else round(width), n))
                else:
                    extents.append((round(height) if along else round(height / n), n))
            self.starts.append(count)
            self.strings.append((n, coords))
            count += n
        # Body text is set in one size: the characters' typical extent across the reading
        # direction (the median over characters). Boxes hold the ink, a little less than the em
        # square it is set on.
        self.ink = 0
        middle = sum(n for _, n in extents) // 2
        for extent, n in sorted(extents):
            if middle < n:
                self.ink = extent
                break
            middle -= n
        self.count = count

    def box(self, k: int) -> Box | None:
        """The box of the k-th non-space character; None past the end or without a position."""
        if not 0 <= k < self.count:
            return None
        s = bisect.bisect_right(self.starts, k) - 1
        n, coords = self.strings[s]
        if coords is None:
            return None
        left, top, width, height = coords
        i = k - self.starts[s]
        if width >= height:
            return Box(round(left + i * width / n), round(top), round(width / n), round(height))
        return Box(round(left), round(top + i * height / n), round(width), round(height / n))
