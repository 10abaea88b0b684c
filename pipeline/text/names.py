"""Names of persons, places and organisations in a document's search-form text.

A pure stage under `tagging`: it takes the text in search normal form (`normalize.to_search_form`)
and its jieba tokens, and returns name counts, most frequent first. Data is loaded once, lazily:
the gazetteer `places_extra.tsv` (hand-kept former names, regions, rivers; its rows win) over
`places.tsv` (extracted from jionlp, see its header), and the words the bundled and user
dictionaries declare as nr (person), ns (place) or nt (organisation).

`read_table` and `Matcher` live here, not in `tagging`, because the gazetteer needs them and
`tagging` imports this module, not the other way round.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Mapping, NamedTuple, Sequence, overload

from ..errors import UsageError
from . import loading, segment
from .normalize import to_search_form

_DATA_DIR = Path(__file__).with_name("data")
_NOT_A_PLACE = "not-a-place"  # kind of a places_extra.tsv row that blocks a common word

_Counts = tuple[tuple[str, int], ...]
_Gazetteer = Mapping[str, tuple[str, str]]  # name -> (key shared by its other names, kind)


class Token(NamedTuple):
    """One jieba word with its part-of-speech flag and offsets into the text."""

    # A named tuple, not a dataclass: a long document has hundreds of thousands of tokens, and
    # building frozen dataclasses took a tenth of the tagger's time.
    word: str
    flag: str
    start: int
    end: int
    known: bool  # in jieba's dictionary (not found by its HMM)


@dataclass(frozen=True)
class Names:
    """Person, place and organisation names as (name, count), most frequent first."""

    persons: _Counts = ()
    places: _Counts = ()
    organizations: _Counts = ()


def tokenize(norm: str, user_dicts: tuple[str, ...] = ()) -> list[Token]:
    """jieba part-of-speech tokens of search-form text, with offsets into it."""
    return tokens_from_pairs(segment.pos_tag(norm, user_dicts), user_dicts)


def tokens_from_pairs(pairs: Iterable[tuple[str, str]],
                      user_dicts: tuple[str, ...] = ()) -> list[Token]:
    """Tokens from `segment.pos_tag` pairs (which cover their text exactly, so offsets add up)."""
    known = segment.known_words(user_dicts)
    out, pos = [], 0
    for word, flag in pairs:
        end = pos + len(word)
        out.append(Token(word, flag, pos, end, known.get(word, 0) > 0))
        pos = end
    return out


class TokenTable(Sequence[Token]):
    """A long document's tokens in compact arrays: ~10 bytes a token, where a list of `Token`
    tuples (with their word strings and offsets) takes ~200 and the lookups `find_names` builds
    over them as much again (~250 bytes a character of text in all, measured with tracemalloc).

    Tokens must cover `norm` exactly, one after the other (as `segment.pos_tag` pairs do): a
    token's end is the next one's start, its word the slice of `norm` between. Each token read
    is made afresh; words are shared through a vocabulary, so that a list of them holds each
    distinct word once. `find_names` gives the same names with it as with the list.
    """

    def __init__(self, norm: str, pairs: Iterable[tuple[str, str]],
                 user_dicts: tuple[str, ...] = ()) -> None:
        known = segment.known_words(user_dicts)
        self.norm = norm
        self._starts = array("q")
        self._flags = bytearray()
        self._known = bytearray()
        self._flag_names: list[str] = []
        self._vocab: dict[str, str] = {}
        flag_codes: dict[str, int] = {}
        pos = 0
        for word, flag in pairs:
            code = flag_codes.get(flag)
            if code is None:
                code = flag_codes[flag] = len(self._flag_names)
                self._flag_names.append(flag)
                if code > 255:
                    raise ValueError("more than 256 part-of-speech flags")
            self._starts.append(pos)
            self._flags.append(code)
            self._known.append(known.get(word, 0) > 0)
            pos += len(word)
        if pos != len(norm):
            raise ValueError("the tokens do not spell the text")

    def __len__(self) -> int:
        return len(self._starts)

    def _make(self, k: int) -> Token:
        start = self._starts[k]
        end = self._starts[k + 1] if k + 1 < len(self._starts) else len(self.norm)
        word = self.norm[start:end]
        return Token(self._vocab.setdefault(word, word), self._flag_names[self._flags[k]],
                     start, end, bool(self._known[k]))

    @overload
    def __getitem__(self, k: int) -> Token: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[Token]: ...

    def __getitem__(self, k: int | slice) -> Token | Sequence[Token]:
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self._make(k)

    def __iter__(self) -> Iterator[Token]:
        for k in range(len(self._starts)):
            yield self._make(k)

    def starting_at(self, offset: int) -> Token | None:
        """The token that starts at `offset`, if one does."""
        k = bisect_left(self._starts, offset)
        return self._make(k) if k < len(self._starts) and self._starts[k] == offset else None

    def starts(self) -> Iterator[int]:
        """Every token's start offset, in order."""
        return iter(self._starts)

    def is_end(self, offset: int) -> bool:
        """True if some token ends at `offset`."""
        if not self._starts:
            return False
        if offset == len(self.norm):
            return True
        k = bisect_left(self._starts, offset)
        return 0 < offset and k < len(self._starts) and self._starts[k] == offset


class _TokenIndex:
    """Tokens by offset, for `_persons`: built from a list of tokens, or read off a TokenTable."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.table = tokens if isinstance(tokens, TokenTable) else None
        if self.table is None:
            self._starts = {t.start for t in tokens}
            self._ends = {t.end for t in tokens}
            self._words = {(t.start, t.end): t for t in tokens}
            self._first = {t.start: t for t in tokens}

    def starts(self) -> Iterable[int]:
        return self.table.starts() if self.table is not None else self._starts

    def is_end(self, offset: int) -> bool:
        return self.table.is_end(offset) if self.table is not None else offset in self._ends

    def first(self, offset: int) -> Token | None:
        """The token that starts at `offset`."""
        if self.table is not None:
            return self.table.starting_at(offset)
        return self._first.get(offset)

    def word(self, start: int, end: int) -> Token | None:
        """The token that spans exactly `start`..`end`."""
        if self.table is not None:
            t = self.table.starting_at(start)
            return t if t is not None and t.end == end else None
        return self._words.get((start, end))


def find_names(
    norm: str,
    tokens: Sequence[Token],
    user_dicts: tuple[str, ...] = (),
    not_places: Iterable[tuple[int, int]] = (),  # (start, end) spans known to hold no place
) -> Names:
    """Persons, places and organisations named in search-form text, given its `tokenize` tokens."""
    # The caller passes not_places because it knows dates (咸丰十年 is a year, not 咸丰县) and
    # this module does not; text inside a person name is never a place either.
    places, long_names = _gazetteer()
    declared = _user_words(user_dicts)
    persons = _persons(norm, tokens, places, {w for w, f in declared.items() if f == "nr"})
    taken = _covered(norm, persons)
    for start, end in not_places:
        taken.update(range(start, end))
    found = _places(norm, tokens, places, long_names, declared, taken)
    orgs = _organizations(norm, tokens, places, {w for w, f in declared.items() if f == "nt"})
    return Names(_ranked(persons), _ranked(found), _ranked(orgs))


# --- data files ---------------------------------------------------------------------------


def read_table(path: Path, columns: int, what: str) -> list[list[str]]:
    """Rows of a tab-separated data file (# comments skipped); UsageError names a bad line."""
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


class Matcher:
    """Greedy longest-first, non-overlapping matching of a fixed word list."""

    def __init__(self, words: Iterable[str]) -> None:
        lengths: dict[str, set[int]] = {}
        self.words = frozenset(w for w in words if w)
        for w in self.words:
            lengths.setdefault(w[0], set()).add(len(w))
        self.lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}
        # Jumps to the next character some word starts with, in C rather than a char at a time.
        first = "".join(sorted(lengths))
        self._next_start = re.compile(f"[{re.escape(first)}]" if first else r"(?!)").search

    def scan(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Yield (start, end, word) for each match, left to right."""
        i = 0
        while (m := self._next_start(text, i)) is not None:
            i = m.start()
            for n in self.lengths[text[i]]:
                if text[i:i + n] in self.words:
                    yield i, i + n, text[i:i + n]
                    i += n
                    break
            else:
                i += 1


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, tuple[str, str]], Matcher]:
    with loading.gc_paused():
        places = _gazetteer_places()
        # Long names match anywhere; short ones and bare town names only where jieba agrees.
        long_names = (p for p, (k, kind) in places.items() if len(p) >= 3 and kind != "town")
        return places, Matcher(long_names)


_GAZETTEER_FILES = ("places_extra.tsv", "places.tsv")  # hand-kept rows first: they win
# The cache is keyed by the files' sizes and mtimes; change this name when the parse changes.
_GAZETTEER_CACHE = "wenshi-gazetteer1"


def _gazetteer_places() -> dict[str, tuple[str, str]]:
    """name -> (key, kind) of the gazetteer files, through a private pickle cache.

    Parsing the 64,500 rows took 0.14-0.18 CPU s even with the collector paused, reading the
    cache 0.05 s (measured): paid once by each process that tags."""
    sources = tuple(_DATA_DIR / name for name in _GAZETTEER_FILES)
    cache = loading.cache_path(_GAZETTEER_CACHE, sources)
    if cache is not None:
        cached = loading.read_private_pickle(cache)
        if isinstance(cached, dict):
            return cached
    places: dict[str, tuple[str, str]] = {}
    for path in sources:
        for place, key, kind in read_table(path, 3, "gazetteer"):
            places.setdefault(place, (key, kind))
    # One tuple object per (key, kind) (31,700 for 64,500 names): the pickle then holds each
    # once, which halved its load (0.09 -> 0.05 CPU s).
    shared: dict[tuple[str, str], tuple[str, str]] = {}
    places = {p: shared.setdefault(v, v) for p, v in places.items() if v[1] != _NOT_A_PLACE}
    if cache is not None:
        loading.write_private_pickle(cache, places)
    return places


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


# --- persons ---------------------------------------------------------------------------

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
_PLACE_END = set("门关口村庄镇县市省区路街桥站屯堡寨营店集沟峪")  # no 山江海: 孙中山


_PERSON_FLAGS = frozenset(("nr", "nrfg", "nrt"))
_SURNAME_STARTS = frozenset(_SURNAMES + _RARE_SURNAMES + "".join(_COMPOUND_SURNAMES))


def _surname_at(norm: str, i: int) -> str:
    if norm[i:i + 2] in _COMPOUND_SURNAMES:
        return norm[i:i + 2]
    return norm[i] if norm[i] in _SURNAMES or norm[i] in _RARE_SURNAMES else ""


def _persons(norm: str, tokens: Sequence[Token], places: _Gazetteer,
             declared: Iterable[str]) -> dict[str, int]:
    """Person names: jieba's unknown or 3-character names, and surname + given name in context."""
    index = _TokenIndex(tokens)
    found: dict[tuple[int, int], str] = {}
    inside: set[int] = set()  # offsets strictly inside a found name
    candidates = sorted(i for i in index.starts() if i < len(norm) and norm[i] in _SURNAME_STARTS)
    for _ in range(2):  # the second pass adds names listed next to found ones (甲、乙)
        found_ends = {e for _, e in found}
        found_starts = {s for s, _ in found}
        for i in candidates:
            if not (surname := _surname_at(norm, i)) or i in inside:
                continue
            titled = norm[max(0, i - 4):i].rstrip(":：").endswith(_TITLES)
            for size in (2, 1):
                end = i + len(surname) + size
                name = norm[i:end]
                if end > len(norm) or not index.is_end(end) or _NOT_GIVEN & set(
                        name[len(surname):]):
                    continue
                if name in places and not titled:
                    break
                common = surname in _SURNAMES or len(surname) == 2
                word = index.word(i, end)
                if word is None and not (titled and common):
                    word = index.first(i)  # 南迁|至, but 副局长 方志|强
                if word is not None and word.known and word.flag in _WORD_FLAGS and (
                    len(word.word) > len(surname) and word.end <= end
                ):
                    continue  # 史料, 连夜: an ordinary word after a title
                tok = index.word(i, end)
                by_jieba = (tok is not None and tok.flag in _PERSON_FLAGS and common
                            and (not tok.known or len(name) >= 3))
                cued = titled or bool(_AFTER_NAME.match(norm, end))
                listed = (norm[i - 1:i] == "、" and i - 1 in found_ends) or (
                    norm[end:end + 1] == "、" and end + 1 in found_starts)
                if not titled and (name[-1] in _PLACE_END or _ROUTE_AFTER.match(norm, end)):
                    continue  # 柳村, 唐胥铁路
                if by_jieba or cued or listed:
                    found[(i, end)] = name
                    inside.update(range(i + 1, end))
                    break
    for t in tokens:  # transliterated foreign names (伊万诺夫)
        if t.flag == "nrt" and len(t.word) >= 3 and t.word not in places:
            found.setdefault((t.start, t.end), t.word)
    names = set(found.values()) | set(declared)
    return {n: norm.count(n) for n in names if norm.count(n)}


# --- places ----------------------------------------------------------------------------

_PLACE_BEFORE = set("在到至往从由经赴于去抵离")
_PLACE_AFTER = re.compile(r"(至|到|等地|一带|附近|地区|境内|以[东南西北]|城|火车站|车站|站|铁路|"
                          r"水电站|发电厂|电厂|机务段|解放)")
_SETTLEMENT_END = set("村庄屯堡寨镇乡铺集店沟营")
_GEO_SUFFIXES = ("江", "河", "湖", "海", "山", "岭", "峰", "关", "口", "岛", "湾", "港", "桥", "门",
                 "庄", "村", "屯", "堡", "寨", "镇", "乡", "县", "州", "府", "城", "沟", "峪", "洲",
                 "店", "集", "广场", "平原", "高原", "盆地", "草原")
_NOT_PLACES = frozenset(("开山", "江山", "河山", "深山", "高山", "上山", "下山", "出山", "靠山",
                         "山区", "沿海地区", "地区", "城乡", "中华", "南北", "东西", "内地", "外地",
                         "本地", "当地", "各地", "全国", "国内", "国外", "海外", "边疆"))
_EVENT_WORDS = frozenset(("事变", "起义", "战役", "会战", "惨案", "暴动", "大捷", "电厂", "发电厂",
                          "车站", "火车站"))
_FACILITY_SUFFIXES = ("大桥", "火车站", "车站", "站", "机场", "码头")


def _places(norm: str, tokens: Sequence[Token], places: _Gazetteer, long_names: Matcher,
            declared: Mapping[str, str], taken: set[int]) -> dict[str, int]:
    """Place names, counted under the gazetteer name their forms most often take."""
    found: dict[tuple[int, int], str] = {}
    for s, e, name in long_names.scan(norm):
        found[(s, e)] = name
    for t in tokens:
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
    return {
        max(surface[k], key=lambda n: (surface[k][n], len(n))): c for k, c in counts.items()
    }


def _place_prefix(word: str, places: _Gazetteer) -> str:
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


# --- organisations ---------------------------------------------------------------------

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


def _organizations(norm: str, tokens: Sequence[Token], places: _Gazetteer,
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
    # Keep 郑州铁路局, drop the 铁路局 inside it, even when the user dictionary declares 铁路局:
    # counted both ways, every 县政协 would also count as a 政协 (organisation precision fell
    # from 0.79 to 0.64 on the tagging eval when declared words were kept).
    for a in list(names):
        if any(a != b and a in b for b in names):
            names.discard(a)
    return {n: norm.count(n) for n in names if norm.count(n)}


def _ends_org(t: Token, prev: Token | None) -> bool:
    if t.flag in ("v", "vn", "x", "p", "uj", "d", "r") or t.word.endswith(_NOT_ORG_ENDS):
        return False
    if t.word.endswith(_ORG_SUFFIXES):
        return True
    if t.word in _ORG_SHORT_SUFFIXES:  # 第五 + 师, 北宁铁路 + 局
        return prev is not None and (
            prev.flag == "m" and prev.word.startswith("第") or prev.flag in ("nz", "nt", "ns", "j")
        )
    return len(t.word) >= 3 and t.known and t.word.endswith(_ORG_SHORT_SUFFIXES)


def _ranked(counts: Mapping[str, int]) -> _Counts:
    return tuple(sorted(counts.items(), key=lambda nc: (-nc[1], nc[0])))
