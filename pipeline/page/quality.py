"""Page quality estimate: how much of an OCR page is likely wrong, and why (issue 19).

Read from the page's ALTO alone (what every engine writes and every library stores), so a page
gets the same estimate when it is OCR'd (`pipeline.page.process`) and when an old library is
re-indexed from its stored ALTO. Signals, per character of the recognised text:

- the engine's confidence (ALTO `WC`, a String's confidence given to each of its characters):
  the share of characters below `LOW_CONFIDENCE`, and the mean shortfall from 100;
- how plausible the text is as Chinese: the mean surprise (nats per character) of a character
  bigram model (pipeline/text/charlm.py) and the share of characters that form no known pair
  with either neighbour;
- characters unknown to that model (rare or unusual characters, garbage from handwriting);
- stray symbols (neither ideograph, letter, digit nor common punctuation).

`MODEL` combines them linearly into log(page CER + 0.01); benchmarks/page_quality.py fits the
coefficients (leave-one-source-out over real pages and the rendered conditions, two engines)
and prints them; they are copied here. The estimate is the page's expected character error
rate, times its characters: the expected number of characters an editor will have to fix.

`mark_alto` writes a `CC` attribute (ALTO: one digit per character, 0 sure .. 9 unsure) on every
String, so a proofreading view can highlight the characters likely wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from lxml import etree

from ..text.charlm import CharModel, is_han, model

LOW_CONFIDENCE = 60.0  # a character read below this (0-100) counts as low-confidence
# A character is marked likely wrong (CC >= SUSPECT_CC) ...
SUSPECT_CC = 5
# Punctuation and marks that are part of ordinary Chinese and Western text.
_COMMON = set("，。、；：？！“”‘’（）《》〈〉【】「」『』—…·．,.;:?!\"'()[]-%/+=<>&*#@_~|°")

# Features, in the order of MODEL's coefficients.
FEATURES = ("low_conf", "unsure", "conf_gap", "lm_surprise", "odd_pairs", "unknown", "symbols",
            "fragments", "latin")
UNSURE = 90.0  # a character read below this is not sure (PP-OCR's wrong reads sit at 80-95)
# Fitted by benchmarks/page_quality.py (see benchmarks/README.md, "Page quality"):
# intercept, then one coefficient per feature, for log(CER + OFFSET).
OFFSET = 0.01
MODEL: tuple[float, ...] = (
    -4.101, 5.111, 0.165, 0.0, 0.0, 3.2, 0.0, 17.557, 6.719, 1.774)
# The estimated error rate above which a page is listed 需校对: set a priori between the
# targets' 1% (pages that should not be listed) and 3% (pages that must be), not fitted.
LIST_RATE = 0.02
# Reference values of a clean page (the medians of pages under 1% CER in the fit): a reason is
# given for a feature whose contribution above its reference is at least REASON_MIN of log CER.
REFERENCE: tuple[float, ...] = (0.026, 0.139, 0.098, 6.175, 0.064, 0.0, 0.0, 0.0, 0.0)
REASON_MIN = 0.1
_REASON_TEXT = {
    "low_conf": "{:.0%} of characters read with low engine confidence",
    "unsure": "{:.0%} of characters read with engine confidence under 90",
    "conf_gap": "mean engine confidence {:.0f}",
    "fragments": "{:.0%} of the text in fragments of 1-3 characters (tables, figures, noise)",
    "latin": "{:.0%} Latin letters",
    "lm_surprise": "text reads unlike Chinese (language-model surprise {:.1f} nats/char)",
    "odd_pairs": "{:.0%} of characters form no known word pair with their neighbours",
    "unknown": "{:.0%} rare or unknown characters",
    "symbols": "{:.0%} stray symbols",
}

Token = tuple[str, float | None]  # a String's text and its confidence 0-100 (None: not given)


@dataclass(frozen=True)
class PageQuality:
    """The estimate for one page."""

    error_rate: float  # expected share of characters wrong (0-1)
    errors: int  # expected number of wrong characters
    characters: int  # characters the estimate read
    reasons: tuple[str, ...]  # why, in words, worst first
    features: tuple[float, ...]  # the FEATURES' values

    def listed(self, rate: float = LIST_RATE) -> bool:
        """True when the page is likely bad enough to be proofread first."""
        return self.error_rate > rate


@dataclass(frozen=True)
class _Scored:
    """Per character: its confidence, surprise, whether it is unknown / odd, its CC digit."""

    chars: str
    confidence: tuple[float | None, ...]
    surprise: tuple[float, ...]  # nats; 0 for characters the model does not score (non-Han)
    odd: tuple[bool, ...]
    unknown: tuple[bool, ...]


def _score_line(tokens: Sequence[Token], lm: CharModel) -> _Scored:
    chars = "".join(t for t, _ in tokens)
    conf: list[float | None] = []
    for text, c in tokens:
        conf.extend([c] * len(text))
    simple = lm.simplified(chars)
    surprise: list[float] = []
    odd: list[bool] = []
    unknown: list[bool] = []
    for i, ch in enumerate(simple):
        if not is_han(ch):
            surprise.append(0.0)
            odd.append(False)
            unknown.append(False)
            continue
        prev = simple[i - 1] if i and is_han(simple[i - 1]) else ""
        nxt = simple[i + 1] if i + 1 < len(simple) and is_han(simple[i + 1]) else ""
        surprise.append(lm.surprise(prev, ch))
        unknown.append(not lm.known(ch))
        pairs = [lm.seen_pair(prev, ch)] if prev else []
        if nxt:
            pairs.append(lm.seen_pair(ch, nxt))
        odd.append(bool(pairs) and not any(pairs))
    return _Scored(chars, tuple(conf), tuple(surprise), tuple(odd), tuple(unknown))


def features(lines: Sequence[Sequence[Token]]) -> tuple[tuple[float, ...], int]:
    """The FEATURES of a page given as lines of (text, confidence) tokens, and its character
    count (non-blank characters)."""
    lm = model()
    n = han = low = unsure = sym = odd = unk = frag = latin = 0
    conf_sum = 0.0
    conf_n = 0
    surprise = 0.0
    for tokens in lines:
        s = _score_line([(t.strip(), c) for t, c in tokens if t.strip()], lm)
        if len(s.chars) <= 3:
            frag += len(s.chars)
        for ch, c, sp, o, u in zip(s.chars, s.confidence, s.surprise, s.odd, s.unknown):
            n += 1
            if c is not None:
                conf_n += 1
                conf_sum += c
                low += c < LOW_CONFIDENCE
                unsure += c < UNSURE
            if is_han(ch):
                han += 1
                surprise += sp
                odd += o
                unk += u
            elif ch.isascii() and ch.isalpha():
                latin += 1
            elif not ch.isalnum() and ch not in _COMMON:
                sym += 1
    if not n:
        return (0.0,) * len(FEATURES), 0
    return ((low / conf_n if conf_n else 0.0),
            (unsure / conf_n if conf_n else 0.0),
            (1 - conf_sum / conf_n / 100 if conf_n else 0.0),
            (surprise / han if han else 0.0),
            (odd / han if han else 0.0),
            (unk / han if han else 0.0),
            sym / n, frag / n, latin / n), n


def estimate(lines: Sequence[Sequence[Token]]) -> PageQuality | None:
    """The quality estimate of a page given as lines of (text, confidence) tokens; None for a
    page with no text (nothing to estimate: a blank page, or one the engine found no text on)."""
    values, n = features(lines)
    if not n:
        return None
    contributions = [w * v for w, v in zip(MODEL[1:], values)]
    log_rate = MODEL[0] + sum(contributions)
    rate = min(1.0, max(0.0, math.exp(log_rate) - OFFSET))
    excess = sorted(((w * (v - r), name, v) for w, v, r, name
                     in zip(MODEL[1:], values, REFERENCE, FEATURES)), reverse=True)
    reasons = tuple(_reason(name, v) for e, name, v in excess if e >= REASON_MIN)
    if not reasons and excess[0][0] > 0:
        reasons = (_reason(excess[0][1], excess[0][2]),)
    return PageQuality(round(rate, 4), round(rate * n), n, reasons,
                       tuple(round(v, 4) for v in values))


def _reason(name: str, value: float) -> str:
    if name == "conf_gap":
        return _REASON_TEXT[name].format(100 * (1 - value))
    return _REASON_TEXT[name].format(value)


def alto_lines(root: etree._Element | None) -> list[list[Token]]:
    """The page's lines as (text, confidence) tokens from its ALTO (String CONTENT and WC)."""
    lines: list[list[Token]] = []
    if root is None:
        return lines
    for line in root.iter("{*}TextLine"):
        tokens: list[Token] = []
        for s in line.iter("{*}String"):
            wc = s.get("WC")
            tokens.append((s.get("CONTENT", ""), float(wc) * 100 if wc is not None else None))
        lines.append(tokens)
    return lines


def estimate_alto(root: etree._Element | None) -> PageQuality | None:
    """`estimate` of the page whose parsed ALTO is `root`."""
    return estimate(alto_lines(root))


def char_doubt(confidence: float | None, surprise: float, odd: bool, unknown: bool) -> int:
    """One character's CC digit: 0 (sure) .. 9 (unsure), from its engine confidence and how
    odd it is in its line."""
    doubt = 0.0 if confidence is None else (100 - confidence) / 10
    if unknown:
        doubt += 6
    elif odd:
        doubt += 5 if surprise > 9 else 4
    return min(9, round(doubt))


def mark_alto(root: etree._Element | None) -> int:
    """Write CC (per-character doubt) on every String of the ALTO tree `root`, in place; the
    number of characters marked likely wrong (CC >= SUSPECT_CC)."""
    if root is None:
        return 0
    lm = model()
    suspects = 0
    for line in root.iter("{*}TextLine"):
        elements = [s for s in line.iter("{*}String")]
        tokens: list[Token] = []
        for s in elements:
            wc = s.get("WC")
            tokens.append((s.get("CONTENT", ""), float(wc) * 100 if wc is not None else None))
        scored = _score_line(tokens, lm)
        at = 0
        for s, (text, _) in zip(elements, tokens):
            digits = []
            for i in range(at, at + len(text)):
                d = char_doubt(scored.confidence[i], scored.surprise[i], scored.odd[i],
                               scored.unknown[i]) if not text[i - at].isspace() else 0
                suspects += d >= SUSPECT_CC
                digits.append(str(d))
            at += len(text)
            if digits:
                s.set("CC", " ".join(digits))
    return suspects


def suspect_lines(root: etree._Element | None) -> list[dict[str, object]]:
    """Lines holding characters marked likely wrong in `root`'s CC attributes: each line's text
    and the offsets (in that text) of its doubtful characters."""
    found: list[dict[str, object]] = []
    if root is None:
        return found
    for number, line in enumerate(root.iter("{*}TextLine")):
        text = ""
        offsets: list[int] = []
        for s in line.iter("{*}String"):
            content = s.get("CONTENT", "")
            digits = (s.get("CC") or "").split()
            for i, d in enumerate(digits[:len(content)]):
                if d.isdigit() and int(d) >= SUSPECT_CC:
                    offsets.append(len(text) + i)
            text += content
        if offsets:
            found.append({"line": number + 1, "text": text, "suspect": offsets})
    return found
