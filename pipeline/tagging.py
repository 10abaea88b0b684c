"""Automatic tags of a document, computed from its text alone (no OCR), so a new tagger or new
dictionaries re-tag a library from the catalog.

Everything is read from the search normal form of the text (simplified script, half-width
digits: `normalize.to_search_form`), so traditional and simplified material get the same tags,
and tag values are in simplified characters. Data files under `pipeline/data/` are loaded once,
lazily: `subjects.tsv` (subject lexicon), `periods.tsv` (period terms), `eras.tsv` (民国 and
reign eras), `places.tsv` (gazetteer extracted from jionlp, see its header) and
`places_extra.tsv` (hand-kept former names, regions, rivers).

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
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from . import segment
from .errors import UsageError
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


@dataclass(frozen=True)
class Tags:
    """The automatic tags of one document."""

    years: tuple[int, ...] = ()
    period: str = ""  # 建国前 | 建国后 | ""
    subjects: tuple[str, ...] = ()
    persons: tuple[tuple[str, int], ...] = ()  # (name, count), most frequent first
    places: tuple[tuple[str, int], ...] = ()
    organizations: tuple[tuple[str, int], ...] = ()
    keywords: tuple[str, ...] = ()
    doctype: str = ""
    char_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; name counts become [name, count] lists."""
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Tags":
        """The inverse of `to_dict`; missing keys take their defaults."""
        def names(key: str) -> tuple[tuple[str, int], ...]:
            return tuple((str(n), int(c)) for n, c in data.get(key, ()))

        return cls(
            years=tuple(int(y) for y in data.get("years", ())),
            period=str(data.get("period", "")),
            subjects=tuple(str(s) for s in data.get("subjects", ())),
            persons=names("persons"),
            places=names("places"),
            organizations=names("organizations"),
            keywords=tuple(str(k) for k in data.get("keywords", ())),
            doctype=str(data.get("doctype", "")),
            char_count=int(data.get("char_count", 0)),
        )


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def tag_text(text: str, title: str = "", options: TagOptions = TagOptions()) -> Tags:
    """All automatic tags of a document's text (its pages joined) and title."""
    full = f"{title}\n{text}" if title else text
    norm = to_search_form(full)
    mentions = _year_mentions(norm)
    tokens = _tokens(norm, options.user_dicts)
    persons, places, orgs = _entities(norm, tokens, options.user_dicts)
    return Tags(
        years=tuple(sorted({y for y, _ in mentions})),
        period=_period(mentions, norm),
        subjects=classify_subjects(text, title, options.subject_lexicons),
        persons=persons,
        places=places,
        organizations=orgs,
        keywords=_textrank(tokens, options.keyword_count),
        doctype=detect_doctype(text, title),
        char_count=count_chars(text),
    )


def count_chars(text: str) -> int:
    """字数: characters that are not whitespace."""
    return sum(1 for ch in text if not ch.isspace())


# --- data files ---------------------------------------------------------------------------


def _read_table(path: Path, columns: int, what: str) -> list[list[str]]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = line.split("\t") if "\t" in line else line.split()
        cells = [c.strip() for c in cells if c.strip()]
        if len(cells) != columns:
            raise UsageError(
                f"{path}:{number}: the {what} needs {columns} tab-separated columns, got {line!r}"
            )
        rows.append(cells)
    return rows


class _Matcher:
    """Greedy longest-first, non-overlapping matching of a fixed word list."""

    def __init__(self, words: Iterable[str]) -> None:
        lengths: dict[str, set[int]] = {}
        self.words = frozenset(w for w in words if w)
        for w in self.words:
            lengths.setdefault(w[0], set()).add(len(w))
        self.lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    def scan(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Yield (start, end, word) for each match, left to right."""
        i = 0
        while i < len(text):
            for n in self.lengths.get(text[i], ()):
                if text[i:i + n] in self.words:
                    yield i, i + n, text[i:i + n]
                    i += n
                    break
            else:
                i += 1


@lru_cache(maxsize=8)
def _subject_lexicon(extra: tuple[str, ...]) -> tuple[dict[str, dict[str, float]], _Matcher]:
    weights: dict[tuple[str, str], float] = {}
    for path in (SUBJECT_LEXICON, *(Path(p) for p in extra)):
        for word, subject, raw in _read_table(path, 3, "subject lexicon"):
            try:
                weights[(to_search_form(word), subject)] = float(raw)
            except ValueError as exc:
                raise UsageError(f"{path}: weight {raw!r} of {word!r} is not a number") from exc
    lexicon: dict[str, dict[str, float]] = {}
    for (word, subject), value in weights.items():
        if value > 0:
            lexicon.setdefault(word, {})[subject] = value
    return lexicon, _Matcher(lexicon)


@lru_cache(maxsize=1)
def _period_terms() -> tuple[dict[str, str], _Matcher]:
    terms = {t: p for t, p in _read_table(DATA_DIR / "periods.tsv", 2, "period term list")}
    return terms, _Matcher(terms)


@lru_cache(maxsize=1)
def _eras() -> tuple[dict[str, tuple[int, int]], re.Pattern[str]]:
    eras = {e: (int(a), int(b)) for e, a, b in _read_table(DATA_DIR / "eras.tsv", 3, "era list")}
    names = "|".join(sorted(eras, key=len, reverse=True))
    return eras, re.compile(rf"({names})\s*(元|\d{{1,2}}|[一二三四五六七八九十廿卅]{{1,4}})\s*年")


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, tuple[str, str]], _Matcher]:
    places: dict[str, tuple[str, str]] = {}
    for name in ("places_extra.tsv", "places.tsv"):  # hand-kept rows first: they win
        for place, key, kind in _read_table(DATA_DIR / name, 3, "gazetteer"):
            places.setdefault(place, (key, kind))
    places = {p: v for p, v in places.items() if v[1] != _NOT_A_PLACE}
    # Long names match anywhere; short ones and bare town names only where jieba agrees.
    long_names = (p for p, (k, kind) in places.items() if len(p) >= 3 and kind != "town")
    return places, _Matcher(long_names)


@lru_cache(maxsize=8)
def _user_words(user_dicts: tuple[str, ...]) -> dict[str, str]:
    """word -> part-of-speech flag declared in the user dictionaries (nr, ns, nt ...)."""
    flags: dict[str, str] = {}
    for path in (segment.BUNDLED_USER_DICT, *(Path(p) for p in user_dicts)):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            cells = line.split()
            if len(cells) >= 2 and not cells[-1].isdigit():
                flags[to_search_form(cells[0])] = cells[-1]
    return flags


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
_NOT_A_PLACE = "not-a-place"  # kind of a places_extra.tsv row that blocks a common word


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


# --- tokens and names -------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    word: str
    flag: str
    start: int
    end: int
    known: bool  # in jieba's dictionary (not found by its HMM)


def _tokens(norm: str, user_dicts: tuple[str, ...]) -> list[_Token]:
    out, pos = [], 0
    for word, flag in segment.pos_tag(norm, user_dicts):
        start = norm.find(word, pos) if not norm.startswith(word, pos) else pos
        start = pos if start < 0 else start
        pos = start + len(word)
        out.append(_Token(word, flag, start, pos, segment.is_known_word(word, user_dicts)))
    return out


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤施詹盛殷庞樊兰牛葛邢安齐乔伍颜倪庄聂章鲁岳翟申耿关焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农卓古吉缪简车项连麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬"
)
_RARE_SURNAMES = (  # need a title or a verb of speech next to them
    "师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚"
    "鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋"
    "相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银"
    "亢嵇公哈湛宾戎勾茅利呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由易"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "皇甫", "尉迟", "公孙", "慕容",
                      "长孙", "宇文", "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "澹台")
_NOT_GIVEN = set("的了在是和与及等为被把将对从向于也都就还又而或但之其以这那们着过说年月日时"
                 "，。、；：？！“”‘’（）《》—…·,.;:?!()[] \n\t0123456789")
_TITLES = (
    "书记", "厂长", "局长", "处长", "科长", "段长", "站长", "队长", "组长", "师长", "军长", "团长",
    "营长", "连长", "政委", "主任", "主席", "委员", "代表", "会长", "社长", "校长", "院长", "所长",
    "部长", "省长", "市长", "县长", "区长", "乡长", "镇长", "村长", "经理", "工程师", "技术员",
    "技师", "工人", "司机", "干部", "教授", "专家", "老师", "烈士", "作者", "口述", "整理", "执笔",
    "提案人", "出席", "列席", "记录", "主持人", "左起", "右起", "记者", "摄影", "英雄", "劳模",
    "师傅", "总理", "总统", "先生", "同志", "学徒", "讲述", "撰文", "右一", "右二", "右三",
    "左一", "左二", "左三", "中为", "大臣", "总督", "巡抚", "知县", "知府", "督办", "总办", "董事长",
)
_AFTER_NAME = re.compile(
    r"(同志|先生|女士|老人|师傅|等人|说|回忆|主持|指出|讲话|发言|担任|出任|辞去|任|作|率|带领|"
    r"下令|提出|介绍|口述|整理|执笔|奏|牺牲|烈士|等(?!地|处|单位|部门|省|市|县|国))"
)
_WORD_FLAGS = frozenset(("v", "vn", "n", "d", "a", "ad", "an", "t", "f", "m", "q", "r", "p", "c",
                        "s", "l", "i", "vd", "ng", "b"))
_ROUTE_AFTER = re.compile(r"(铁路|公路|线|路|站|厂|矿|公司)")
_PLACE_BEFORE = set("在到至往从由经赴于去抵离")
_PLACE_AFTER = re.compile(r"(至|到|等地|一带|附近|地区|境内|以[东南西北]|城|火车站|车站|站|铁路|"
                          r"水电站|发电厂|电厂|机务段|解放)")
_SETTLEMENT_END = set("村庄屯堡寨镇乡铺集店沟营")
_PLACE_END = set("门关口村庄镇县市省区路街桥站屯堡寨营店集沟峪")  # no 山江海: 孙中山
_GEO_SUFFIXES = ("江", "河", "湖", "海", "山", "岭", "峰", "关", "口", "岛", "湾", "港", "桥", "门",
                 "庄", "村", "屯", "堡", "寨", "镇", "乡", "县", "州", "府", "城", "沟", "峪", "洲",
                 "店", "集", "广场", "平原", "高原", "盆地", "草原")
_NOT_PLACES = frozenset(("开山", "江山", "河山", "深山", "高山", "上山", "下山", "出山", "靠山",
                         "山区", "沿海地区", "地区", "城乡", "中华", "南北", "东西", "内地", "外地",
                         "本地", "当地", "各地", "全国", "国内", "国外", "海外", "边疆"))
_EVENT_WORDS = frozenset(("事变", "起义", "战役", "会战", "惨案", "暴动", "大捷", "电厂", "发电厂",
                          "车站", "火车站"))
_FACILITY_SUFFIXES = ("大桥", "火车站", "车站", "站", "机场", "码头")
# Words that end an organisation name; a one-character one only ends a dictionary word of
# three or more characters (郑州铁路局, 八路军) or follows 第N (第五师).
_ORG_SUFFIXES = (
    "委员会", "公司", "政府", "衙门", "军区", "纵队", "党委", "政协", "文史委", "中央", "银行", "学院",
    "大学", "中学", "小学", "学校", "医院", "档案馆", "纪念馆", "博物馆", "图书馆", "研究所",
    "发电厂", "电厂", "水电站", "煤矿", "铁路局", "管理局", "工会", "商会", "协会", "学会",
    "军管会", "联合会", "联谊会", "研究会", "基金会", "促进会", "机务段", "工务段", "电务段", "车务段", "工程处", "办事处", "防疫所",
)
_ORG_SHORT_SUFFIXES = ("局", "厂", "部", "社", "院", "馆", "军", "兵", "委", "师", "团", "旅")
_NOT_ORG_ENDS = ("工程师", "技师", "教师", "老师", "律师", "医师", "大师", "师长", "军长", "大会",
                 "会议", "部分", "部门", "全部", "内部", "外部", "干部", "局面", "局长", "厂长")
_ORG_PART_FLAGS = frozenset(("ns", "nr", "nrt", "nz", "nt", "j", "n", "nrfg", "m", "an", "b"))
_ORG_GENERIC = frozenset(("部", "处", "所", "会", "院", "馆", "军", "师", "段", "兵", "委", "局",
                          "厂", "社", "部队", "社会", "大会", "机会", "会议", "工会", "公司",
                          "政府", "学校", "中学", "国会", "都会", "人民政府"))


def _surname_at(norm: str, i: int) -> str:
    if norm[i:i + 2] in _COMPOUND_SURNAMES:
        return norm[i:i + 2]
    return norm[i] if norm[i] in _SURNAMES or norm[i] in _RARE_SURNAMES else ""


def _persons(norm: str, tokens: Sequence[_Token], places: Mapping[str, Any],
             declared: Iterable[str]) -> dict[str, int]:
    """Person names: jieba's unknown or 3-character names, and surname + given name in context."""
    starts = {t.start for t in tokens}
    ends = {t.end for t in tokens}
    words = {(t.start, t.end): t for t in tokens}
    first_word = {t.start: t for t in tokens}
    jieba_names = {k: t for k, t in words.items() if t.flag in ("nr", "nrfg", "nrt")}
    found: dict[tuple[int, int], str] = {}
    for _ in range(2):  # the second pass adds names listed next to found ones (甲、乙)
        found_ends = {e for _, e in found}
        found_starts = {s for s, _ in found}
        for i in sorted(starts):
            if i >= len(norm) or any(s < i < e for s, e in found):
                continue
            if not (surname := _surname_at(norm, i)):
                continue
            titled = norm[max(0, i - 4):i].rstrip(":：").endswith(_TITLES)
            for size in (2, 1):
                end = i + len(surname) + size
                name = norm[i:end]
                if end > len(norm) or end not in ends or _NOT_GIVEN & set(name[len(surname):]):
                    continue
                if name in places and not titled:
                    break
                common = surname in _SURNAMES or len(surname) == 2
                word = words.get((i, end))
                if word is None and not (titled and common):
                    word = first_word.get(i)  # 南迁|至, but 副局长 方志|强
                if word is not None and word.known and word.flag in _WORD_FLAGS and (
                    len(word.word) > len(surname) and word.end <= end
                ):
                    continue  # 史料, 连夜: an ordinary word after a title
                tok = jieba_names.get((i, end))
                by_jieba = tok is not None and common and (not tok.known or len(name) >= 3)
                cued = titled or bool(_AFTER_NAME.match(norm, end))
                listed = (norm[i - 1:i] == "、" and i - 1 in found_ends) or (
                    norm[end:end + 1] == "、" and end + 1 in found_starts)
                if not titled and (name[-1] in _PLACE_END or _ROUTE_AFTER.match(norm, end)):
                    continue  # 柳村, 唐胥铁路
                if by_jieba or cued or listed:
                    found[(i, end)] = name
                    break
    for t in tokens:  # transliterated foreign names (伊万诺夫)
        if t.flag == "nrt" and len(t.word) >= 3 and t.word not in places:
            found.setdefault((t.start, t.end), t.word)
    names = set(found.values()) | set(declared)
    return {n: norm.count(n) for n in names if norm.count(n)}


def _entities(norm: str, tokens: Sequence[_Token], user_dicts: tuple[str, ...]) -> tuple[
    tuple[tuple[str, int], ...], tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]
]:
    places, long_names = _gazetteer()
    declared = _user_words(user_dicts)
    persons = _persons(norm, tokens, places, (w for w, f in declared.items() if f == "nr"))
    taken = _covered(norm, persons)
    _, term_matcher = _period_terms()
    for s, e, term in term_matcher.scan(norm):  # 新中国, 中华人民共和国成立: eras, not places
        if "中国" in term or "共和国" in term:
            taken.update(range(s, e))
    for m in _eras()[1].finditer(norm):  # 咸丰十年 is a year, not 咸丰县
        taken.update(range(m.start(), m.end()))

    found: dict[tuple[int, int], str] = {}
    for s, e, name in long_names.scan(norm):
        found[(s, e)] = name
    for i, t in enumerate(tokens):
        if t.word in places:
            kind = places[t.word][1]
            cued = norm[t.start - 1:t.start] in _PLACE_BEFORE or bool(
                _PLACE_AFTER.match(norm, t.end))
            if t.flag == "ns" or not t.known or cued and t.flag in ("n", "a", "nz", "s") or (
                kind != "town" and t.flag in ("nr", "nrfg", "j", "s")
            ):
                found.setdefault((t.start, t.end), t.word)
        elif not t.known and 2 <= len(t.word) <= 4 and t.word[-1] in _SETTLEMENT_END and (
            t.flag in ("nr", "ns", "n", "nz")
        ):
            found.setdefault((t.start, t.end), t.word)
        elif t.flag in ("ns", "nt", "nz", "l") and len(t.word) > 2:
            prefix = _place_prefix(t.word, places)
            if prefix:
                found.setdefault((t.start, t.start + len(prefix)), prefix)
            elif t.flag == "ns" and t.word not in _NOT_PLACES and (
                not t.known or t.word.endswith(_GEO_SUFFIXES)
            ):
                found.setdefault((t.start, t.end), t.word)
        elif t.flag == "ns" and t.word not in _NOT_PLACES and len(t.word) >= 2 and (
            not t.known or t.word.endswith(_GEO_SUFFIXES)
        ):
            found.setdefault((t.start, t.end), t.word)
    for w, f in declared.items():
        if f == "ns":
            for m in re.finditer(re.escape(w), norm):
                found.setdefault((m.start(), m.end()), w)
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for (s, e), name in sorted(found.items()):
        if any(k in taken for k in range(s, e)) or name in _NOT_PLACES:
            continue
        key = places[name][0] if name in places else name
        counts[key] += 1
        surface.setdefault(key, Counter())[name] += 1
    place_counts = {
        max(surface[k], key=lambda n: (surface[k][n], len(n))): c for k, c in counts.items()
    }
    orgs = _organizations(norm, tokens, places, (w for w, f in declared.items() if f == "nt"))
    return _ranked(persons), _ranked(place_counts), _ranked(orgs)


def _place_prefix(word: str, places: Mapping[str, tuple[str, str]]) -> str:
    for facility in _FACILITY_SUFFIXES:
        if word.endswith(facility) and len(word) - len(facility) >= 2:
            rest = word[: -len(facility)]
            if rest in places or rest.endswith(_GEO_SUFFIXES):
                return rest
    for n in range(len(word) - 2, 1, -1):
        head = word[:n]
        if head in places and (places[head][1] != "town" or word[n:] in _EVENT_WORDS):
            return head
    return ""


def _covered(norm: str, names: Iterable[str]) -> set[int]:
    taken: set[int] = set()
    for name in names:
        for m in re.finditer(re.escape(name), norm):
            taken.update(range(m.start(), m.end()))
    return taken


def _organizations(norm: str, tokens: Sequence[_Token], places: Mapping[str, Any],
                   declared: Iterable[str]) -> dict[str, int]:
    """Names ending in an organisation word (局, 公司, 委员会 ...), led by a proper name."""
    names: set[str] = set(declared)
    for j, t in enumerate(tokens):
        if t.flag == "nt" and len(t.word) >= 3 and t.word not in _ORG_GENERIC:
            names.add(t.word)
        if not _ends_org(t, tokens[j - 1] if j else None):
            continue
        k, proper = j, t.flag in ("nt", "nz", "ns", "j") or (len(t.word) >= 3 and t.known)
        while k > 0 and j - k < 3 and (
            tokens[k - 1].flag in _ORG_PART_FLAGS or tokens[k - 1].word in places
        ):
            prev = tokens[k - 1]
            numbered = tokens[k].flag == "m"  # 铁道兵 + 第五师
            if prev.flag == "m" and not prev.word.startswith("第") or (
                _ends_org(prev, None) and not numbered
            ):
                break
            k -= 1
            proper = proper or prev.flag in ("ns", "nz", "nt", "nr", "nrfg", "j") or (
                prev.word in places or not prev.known)
        name = norm[tokens[k].start:t.end]
        if norm[tokens[k].start - 1:tokens[k].start] in ("市", "县", "省", "区"):
            name = norm[tokens[k].start - 1:t.end]  # 县档案馆, 市政协
            proper = True
        elif k == j and t.word in _ORG_SUFFIXES:
            continue  # a bare 水电站 or 博物馆 names no organisation
        strong = t.word.endswith(_ORG_SUFFIXES) and k < j
        if (proper or strong) and len(name) >= 3 and name not in _ORG_GENERIC and (
            name not in places
        ):
            names.add(name)
    for a in list(names):  # keep 郑州铁路局, drop the 铁路局 inside it
        if any(a != b and a in b for b in names) and a not in declared:
            names.discard(a)
    return {n: norm.count(n) for n in names if norm.count(n)}


def _ends_org(t: _Token, prev: _Token | None) -> bool:
    if t.flag in ("v", "vn", "x", "p", "uj", "d", "r") or t.word.endswith(_NOT_ORG_ENDS):
        return False
    if t.word.endswith(_ORG_SUFFIXES):
        return True
    if t.word in _ORG_SHORT_SUFFIXES:  # 第五 + 师, 北宁铁路 + 局
        return prev is not None and (
            prev.flag == "m" and prev.word.startswith("第") or prev.flag in ("nz", "nt", "ns", "j")
        )
    return len(t.word) >= 3 and t.known and t.word.endswith(_ORG_SHORT_SUFFIXES)


def _ranked(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda nc: (-nc[1], nc[0])))


# --- keywords ---------------------------------------------------------------------------

_KEYWORD_FLAGS = frozenset(("n", "nr", "ns", "nt", "nz", "vn", "l", "j", "nrt", "nrfg", "an"))
_STOPWORDS = frozenset(("时候", "时期", "方面", "情况", "问题", "工作", "同志", "部分", "全国",
                        "当时", "当年", "年代", "人们", "单位", "地方", "有关", "我们", "他们"))


def _textrank(tokens: Sequence[_Token], count: int, window: int = 5) -> tuple[str, ...]:
    """TextRank over nouns (as jieba.analyse.textrank, on our own tokens)."""
    words = [t.word for t in tokens if t.flag in _KEYWORD_FLAGS and len(t.word) >= 2
             and t.word not in _STOPWORDS and not t.word.isdigit()]
    if count <= 0 or not words:
        return ()
    edges: dict[str, Counter[str]] = {}
    for i, w in enumerate(words):
        for v in words[i + 1:i + window]:
            if v != w:
                edges.setdefault(w, Counter())[v] += 1
                edges.setdefault(v, Counter())[w] += 1
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    rank = {w: 1.0 for w in first}
    out_weight = {w: sum(edges.get(w, Counter()).values()) for w in first}
    for _ in range(20):
        rank = {
            w: 0.15 + 0.85 * sum(c / out_weight[v] * rank[v] for v, c in edges.get(w, {}).items())
            for w in first
        }
    ranked = sorted(first, key=lambda w: (-rank[w], first[w]))
    return tuple(ranked[:count])
