"""Automatic tags of a document, computed from its text alone (no OCR), so a new tagger or new
dictionaries re-tag a library from the catalog.

Everything is read from the search normal form of the text (simplified script, half-width
digits: `normalize.to_search_form`), so traditional and simplified material get the same tags,
and tag values are in simplified characters. Data files under `pipeline/text/data/` are loaded once,
lazily: `subjects.tsv` (subject lexicon), `periods.tsv` (period terms) and `eras.tsv` (民国 and
reign eras). Persons, places and organisations come from `pipeline.text.names`, which holds the
gazetteer.

Rules worth knowing:
- years: 1958年, 一九五八年 / 一九〇五年, 民国二十六年 / 民国26年 / 民国元年, reign years such as
  光绪八年 (Ming and Qing eras); ranges and lists (1958—1960年, 1958、1959年) give each year.
  Not years: numbers without 年 (1958吨, 第12页), 年代 (1950年代), spans of time (近2000年来).
- period: each year mention votes 建国前 (before 1 October 1949) or 建国后; 1949 counts as 建国后
  only when written with October to December (1949年10月). The majority wins; on a tie the
  period terms decide, then the latest year. Without years, period terms vote (抗日战争时期,
  解放前 / 文化大革命, 改革开放 ...), then decades (五十年代); a tie goes to 建国后.
- subjects: lexicon weights summed over the text (title words count twice); every subject
  scoring at least half the best score is kept, best first, at most three.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from operator import mul
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import UsageError
from ..records import Tags
from . import segment
from .names import (Matcher, Token, TokenTable, find_names, read_table, tokenize,
                    tokens_from_pairs)
from .normalize import to_search_form

DATA_DIR = Path(__file__).with_name("data")
SUBJECT_LEXICON = DATA_DIR / "subjects.tsv"
SUBJECTS = ("政治", "经济", "社会", "军事", "文化")
BEFORE, AFTER = "建国前", "建国后"
DEFAULT_KEYWORD_COUNT = 10
_FOUNDING_YEAR = 1949  # 1 October 1949
_MIN_SUBJECT_SCORE = 2.0
_SUBJECT_RATIO = 0.5
_MAX_SUBJECTS = 3
_TITLE_WEIGHT = 2


@dataclass(frozen=True)
class TagOptions:
    """Dictionaries the tagger uses besides the bundled ones (paths from the library)."""

    user_dicts: tuple[str, ...] = ()  # jieba user dictionaries: word [freq] [flag]
    subject_lexicons: tuple[str, ...] = ()  # word<TAB>subject<TAB>weight, over subjects.tsv
    keyword_count: int = DEFAULT_KEYWORD_COUNT


def tag_text(text: str, title: str = "", options: TagOptions = TagOptions(),
             pos_pairs: Sequence[tuple[str, str]] | None = None) -> Tags:
    """All automatic tags of a document's text (its pages joined) and title.

    `pos_pairs` are `segment.pos_tag` pairs of the search form of f"{title}\n{text}" (of `text`
    alone without a title), when the caller has cut the text already; pairs that do not spell
    that text are ignored and the text is cut again.
    """
    full = f"{title}\n{text}" if title else text
    norm = to_search_form(full)
    mentions = _year_mentions(norm)
    if pos_pairs is not None and "".join(w for w, _ in pos_pairs) != norm:
        pos_pairs = None
    tokens: Sequence[Token]
    if len(norm) > LONG_TEXT_CHARS:
        # A long document (a scanned volume is one): its tokens in compact arrays, cut a piece
        # at a time; the same tags as a list of tokens gives (tests/test_tagging.py).
        tokens = TokenTable(norm, pos_pairs if pos_pairs is not None
                            else _pos_pairs_in_pieces(norm, options.user_dicts),
                            options.user_dicts)
    elif pos_pairs is not None:
        tokens = tokens_from_pairs(pos_pairs, options.user_dicts)
    else:
        tokens = tokenize(norm, options.user_dicts)
    names = find_names(norm, tokens, options.user_dicts, _not_place_spans(norm))
    return Tags(
        years=tuple(sorted({y for y, _ in mentions})),
        period=_period(mentions, norm),
        subjects=classify_subjects(text, title, options.subject_lexicons),
        persons=names.persons,
        places=names.places,
        organizations=names.organizations,
        keywords=_textrank(tokens, options.keyword_count),
        doctype=detect_doctype(text, title),
        char_count=count_chars(text),
    )


# Texts longer than this are tagged from a TokenTable (~10 bytes a token) instead of a list of
# Token tuples (~250 bytes a character with the lookups over them): tagging a 2.92 M-character
# volume took 948 MB that way (benchmarks/README.md, issue 18).
LONG_TEXT_CHARS = 100_000
# A long text is cut into parts of about this many characters (at line ends) for jieba.
_CUT_PIECE_CHARS = 20_000


def _pos_pairs_in_pieces(norm: str, user_dicts: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """`segment.pos_tag(norm)`'s pairs, cut a piece at a time (so never all held at once).

    jieba never joins characters across a newline, and the pieces are cut just after one that
    does not end a \r\n (which jieba keeps as one token), so the pairs are the same.
    """
    start = 0
    while start < len(norm):
        cut = len(norm)
        at = start + _CUT_PIECE_CHARS
        while at < len(norm):
            nl = norm.find("\n", at)
            if nl < 0:
                break
            if norm[nl - 1] != "\r":
                cut = nl + 1
                break
            at = nl + 1
        yield from segment.pos_tag(norm[start:cut], user_dicts)
        start = cut


def count_chars(text: str) -> int:
    """字数: characters that are not whitespace."""
    return sum(1 for ch in text if not ch.isspace())


# --- data files ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _subject_lexicon(extra: tuple[str, ...]) -> tuple[dict[str, dict[str, float]], Matcher]:
    weights: dict[tuple[str, str], float] = {}
    for path in (SUBJECT_LEXICON, *(Path(p) for p in extra)):
        for word, subject, raw in read_table(path, 3, "subject lexicon"):
            try:
                weights[(to_search_form(word), subject)] = float(raw)
            except ValueError as exc:
                raise UsageError(f"{path}: weight {raw!r} of {word!r} is not a number") from exc
    lexicon: dict[str, dict[str, float]] = {}
    for (word, subject), value in weights.items():
        if value > 0:
            lexicon.setdefault(word, {})[subject] = value
    return lexicon, Matcher(lexicon)


@lru_cache(maxsize=1)
def _period_terms() -> tuple[dict[str, str], Matcher]:
    terms = {t: p for t, p in read_table(DATA_DIR / "periods.tsv", 2, "period term list")}
    return terms, Matcher(terms)


@lru_cache(maxsize=1)
def _eras() -> tuple[dict[str, tuple[int, int]], re.Pattern[str]]:
    eras = {e: (int(a), int(b)) for e, a, b in read_table(DATA_DIR / "eras.tsv", 3, "era list")}
    names = "|".join(sorted(eras, key=len, reverse=True))
    return eras, re.compile(rf"({names})\s*(元|\d{{1,2}}|[一二三四五六七八九十廿卅]{{1,4}})\s*年")


# --- years and period -------------------------------------------------------------------

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "o": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_YEAR = r"(?:(?<![\d.])[12]\d{3}(?![\d.])|(?<![〇○零一二三四五六七八九十])[一二][〇○零o一二三四五六七八九]{3})"
_YEAR_RE = re.compile(_YEAR)
_YEARS_RE = re.compile(rf"{_YEAR}(?:\s*[-—–~～至到、和及与]\s*{_YEAR})*\s*年(?!代)")
_MONTH_RE = re.compile(r"\s*(\d{1,2}|[一二三四五六七八九十]{1,3}|正)\s*月")
# A span of time, not a year: 近2000年来, 有1500年历史.
_SPAN_BEFORE = re.compile(r"(近|约|达|共|长达|历时|历经|经过|有|距今|相距|前后)\s*$")
_SPAN_AFTER = re.compile(r"(来|之久|的历史|历史|以上|左右)")
_DECADE_RE = re.compile(r"(?:(1[89]\d0)|([一二三四五六七八九]十)|([1-9]0))\s*年代")
_MIN_YEAR, _MAX_YEAR = 1000, 2100


def _small_number(s: str) -> int | None:
    """元 / 26 / 二十六 / 廿四 as an int (1-99), None if it is not one."""
    if s == "元":
        return 1
    if s.isdigit():
        return int(s)
    s = s.replace("廿", "二十").replace("卅", "三十")
    tens, ten, ones = s.partition("十")
    if not ten:
        return _CN_DIGIT.get(s) if len(s) == 1 else None
    if len(tens) > 1 or len(ones) > 1:
        return None
    t = _CN_DIGIT.get(tens, -1) if tens else 1
    o = _CN_DIGIT.get(ones, -1) if ones else 0
    return t * 10 + o if t > 0 and o >= 0 else None


def _year_value(s: str) -> int:
    return int(s) if s.isdigit() else int("".join(str(_CN_DIGIT[ch]) for ch in s))


def _year_mentions(norm: str) -> list[tuple[int, int]]:
    """(year, month or 0) for each year the normalised text speaks of, in text order."""
    found: list[tuple[int, int, int]] = []  # (offset, year, month)
    for m in _YEARS_RE.finditer(norm):
        if _SPAN_BEFORE.search(norm[max(0, m.start() - 4):m.start()]) or _SPAN_AFTER.match(
            norm, m.end()
        ):
            continue
        month_m = _MONTH_RE.match(norm, m.end())
        month = _small_number(month_m.group(1).replace("正", "一")) or 0 if month_m else 0
        years = [_year_value(y) for y in _YEAR_RE.findall(m.group(0))]
        for i, year in enumerate(years):
            if _MIN_YEAR <= year <= _MAX_YEAR:
                found.append((m.start(), year, month if i == len(years) - 1 else 0))
    eras, era_re = _eras()
    for m in era_re.finditer(norm):
        first, last = eras[m.group(1)]
        n = _small_number(m.group(2))
        if n is not None and 1 <= n <= last:
            month_m = _MONTH_RE.match(norm, m.end())
            month = _small_number(month_m.group(1).replace("正", "一")) or 0 if month_m else 0
            found.append((m.start(), first + n - 1, month))
    return [(year, month) for _, year, month in sorted(found)]


def extract_years(text: str) -> list[int]:
    """The years a text speaks of, sorted and unique."""
    return sorted({y for y, _ in _year_mentions(to_search_form(text))})


def _term_votes(norm: str) -> Counter[str]:
    terms, matcher = _period_terms()
    return Counter(terms[w] for _, _, w in matcher.scan(norm))


def _period(mentions: Sequence[tuple[int, int]], norm: str) -> str:
    votes: Counter[str] = Counter()
    for year, month in mentions:
        after = year > _FOUNDING_YEAR or (year == _FOUNDING_YEAR and month >= 10)
        votes[AFTER if after else BEFORE] += 1
    if votes[AFTER] != votes[BEFORE]:
        return AFTER if votes[AFTER] > votes[BEFORE] else BEFORE
    terms = _term_votes(norm)
    if mentions:
        if terms[AFTER] != terms[BEFORE]:
            return AFTER if terms[AFTER] > terms[BEFORE] else BEFORE
        latest = max(mentions)
        return AFTER if latest[0] > _FOUNDING_YEAR or latest[1] >= 10 else BEFORE
    if not terms:
        terms = Counter(_decade_period(m) for m in _DECADE_RE.finditer(norm))
        terms.pop("", None)
    if not terms:
        return ""
    return BEFORE if terms[BEFORE] > terms[AFTER] else AFTER


def _decade_period(m: re.Match[str]) -> str:
    if m.group(1):
        decade = int(m.group(1))
    elif m.group(2):
        decade = 1900 + 10 * (_small_number(m.group(2)) or 0)
    else:
        decade = 1900 + int(m.group(3))
    return BEFORE if decade < 1940 else AFTER if decade >= 1950 else ""


def period_of(years: Iterable[int], text: str = "") -> str:
    """建国前, 建国后 or "" from year mentions (repeats count), else from period terms in text.

    A 1949 mention counts as 建国后 only as often as the text writes 1949 with October to
    December.
    """
    norm = to_search_form(text)
    late = sum(1 for y, m in _year_mentions(norm) if y == _FOUNDING_YEAR and m >= 10)
    mentions = []
    for year in years:
        month = 0
        if year == _FOUNDING_YEAR and late:
            month, late = 10, late - 1
        mentions.append((year, month))
    return _period(mentions, norm)


def _not_place_spans(norm: str) -> list[tuple[int, int]]:
    """(start, end) of era years and of period terms naming the new state."""
    # find_names would read these as places: 咸丰十年 is a year, not 咸丰县, and 新中国 or
    # 中华人民共和国成立 names an era, not a country.
    _, term_matcher = _period_terms()
    spans = [(s, e) for s, e, term in term_matcher.scan(norm) if "中国" in term or "共和国" in term]
    spans += [m.span() for m in _eras()[1].finditer(norm)]
    return spans


# --- subjects and document type ---------------------------------------------------------


def subject_scores(text: str, title: str = "", lexicons: tuple[str, ...] = ()) -> dict[str, float]:
    """Summed lexicon weight per subject; words in the title count twice."""
    lexicon, matcher = _subject_lexicon(tuple(lexicons))
    scores: dict[str, float] = {}
    for part, factor in ((to_search_form(text), 1), (to_search_form(title), _TITLE_WEIGHT)):
        for _, _, word in matcher.scan(part):
            for subject, weight in lexicon[word].items():
                scores[subject] = scores.get(subject, 0.0) + weight * factor
    return scores


def classify_subjects(
    text: str, title: str = "", lexicons: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The subjects (政治, 经济, 社会, 军事, 文化 or user-defined), best first."""
    scores = subject_scores(text, title, lexicons)
    if not scores or max(scores.values()) < _MIN_SUBJECT_SCORE:
        return ()
    floor = max(_MIN_SUBJECT_SCORE, _SUBJECT_RATIO * max(scores.values()))
    order = {s: i for i, s in enumerate(SUBJECTS)}
    ranked = sorted(scores, key=lambda s: (-scores[s], order.get(s, len(order)), s))
    return tuple(s for s in ranked if scores[s] >= floor)[:_MAX_SUBJECTS]


# Checked in order; the first rule that fires names the type. Title rules come first.
_TITLE_RULES = (
    ("提案", "提案"), ("纪要", "会议纪要"), ("通知", "通知"), ("通告", "通知"),
    ("调研报告", "调研报告"), ("调查报告", "调研报告"), ("考察报告", "调研报告"),
    ("回忆", "回忆录"), ("忆", "回忆录"), ("亲历", "回忆录"), ("口述", "回忆录"),
    ("图片", "图片说明"), ("照片", "图片说明"), ("大事记", "大事记"),
)
_TEXT_RULES = (
    (re.compile(r"提案人|案由"), "提案"),
    (re.compile(r"会议纪要|大会纪要|纪要[:：]|^\s*出席[:：]|(出席|列席)[:：]"), "会议纪要"),
    (re.compile(r"特此通知|特此通告"), "通知"),
    (re.compile(r"调研报告|调查报告|调研组|考察报告"), "调研报告"),
    (re.compile(r"^\s*(图为|照片说明|图片说明|照片[:：])|左起[:：]|右起[:：]|摄于"), "图片说明"),
    (re.compile(r"大事记"), "大事记"),
)
_MEMOIR_STRONG = re.compile(r"我(还)?记得|我回忆|回想起|回忆.{0,12}我|当年我|我当时|那时候|那几年")
_MEMOIR_WEAK = re.compile(r"我(是|们|在|刚|曾|参加|进入|到)")


def detect_doctype(text: str, title: str = "") -> str:
    """回忆录, 史料, 提案, 调研报告, 通知, 会议纪要, 图片说明 or 大事记, by rules."""
    t, body = to_search_form(title), to_search_form(text)
    for word, doctype in _TITLE_RULES:
        if word in t:
            return doctype
    head = body[:400]
    for pattern, doctype in _TEXT_RULES:
        if pattern.search(head):
            return doctype
    if _MEMOIR_STRONG.search(body) or (_MEMOIR_WEAK.search(body) and body.count("我") >= 2):
        return "回忆录"
    return "史料" if body.strip() else ""


# --- keywords ---------------------------------------------------------------------------

_KEYWORD_FLAGS = frozenset(("n", "nr", "ns", "nt", "nz", "vn", "l", "j", "nrt", "nrfg", "an"))
_STOPWORDS = frozenset(("时候", "时期", "方面", "情况", "问题", "工作", "同志", "部分", "全国",
                        "当时", "当年", "年代", "人们", "单位", "地方", "有关", "我们", "他们"))


def _textrank(tokens: Sequence[Token], count: int, window: int = 5) -> tuple[str, ...]:
    """TextRank over nouns (as jieba.analyse.textrank, on our own tokens)."""
    words = [t.word for t in tokens if t.flag in _KEYWORD_FLAGS and len(t.word) >= 2
             and t.word not in _STOPWORDS and not t.word.isdigit()]
    if count <= 0 or not words:
        return ()
    # Plain dicts filled in the same order as before, and each word's neighbours with their
    # weights listed once: the 20 rounds then only multiply and add (they were 2/5 of the
    # tagger's time). The sums run in the same order, so the ranks are the same floats.
    edges: dict[str, dict[str, int]] = {}
    for i, w in enumerate(words):
        for v in words[i + 1:i + window]:
            if v != w:
                ew = edges.setdefault(w, {})
                ew[v] = ew.get(v, 0) + 1
                ev = edges.setdefault(v, {})
                ev[w] = ev.get(w, 0) + 1
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    index = {w: k for k, w in enumerate(first)}
    out_weight = {w: sum(edges.get(w, {}).values()) for w in first}
    # Each word's neighbours leave `edges` as they are listed, so that the graph is not held
    # twice over (a long document's graph is most of its tagging's memory).
    columns: list[list[int]] = []
    shares: list[list[float]] = []
    for w in first:
        neighbours = edges.pop(w, {})
        columns.append([index[v] for v in neighbours])
        shares.append([c / out_weight[v] for v, c in neighbours.items()])
    del edges
    rank = [1.0] * len(first)
    for _ in range(20):
        get = rank.__getitem__
        rank = [0.15 + 0.85 * sum(map(mul, share, map(get, cols)))
                for share, cols in zip(shares, columns)]
    ranked = sorted(first, key=lambda w: (-rank[index[w]], first[w]))
    return tuple(ranked[:count])
