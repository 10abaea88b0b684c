#!/usr/bin/env python3
"""Generate every file under samples/ from the texts written in this script.

    python samples/make_samples.py            # regenerate all sample files and manifest.json
    python samples/make_samples.py --verify   # regenerate, then check them (runs Tesseract)
    python samples/make_samples.py --verify-only

The texts are short original drafts written for the Wenshi project about a fictional county
(岚江县) in Hunan: collection "电力工业史" (samples/power/) and "铁路建设史" (samples/railway/).
Everything is seeded, so a re-run writes the same bytes on the same library versions.

Needs: Pillow, numpy, reportlab, python-docx (generation); pdfplumber, pypdfium2, opencc and the
tesseract binary with chi_sim (verification only). Fonts (Debian): fonts-noto-cjk (page images)
and fonts-wqy-zenhei (TrueType outlines, embedded in the born-digital PDF).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SEED = 20240517
DPI = 300
PAGE_W, PAGE_H = 1240, 1748  # 105 x 148 mm (A6) at 300 dpi
BODY_PX = 32
COLLECTIONS = {"power": "电力工业史", "railway": "铁路建设史"}

FONT_DIRS = [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto")]
SERIF_FILE = "NotoSerifCJK-Regular.ttc"
SANS_FILE = "NotoSansCJK-Regular.ttc"
WQY_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


# --------------------------------------------------------------------------------------------
# Texts. A page is (title, byline or "", [paragraphs]). Its source text is these lines joined
# with "\n"; comparisons elsewhere ignore whitespace.
# --------------------------------------------------------------------------------------------

@dataclass
class Page:
    title: str
    paragraphs: list[str]
    byline: str = ""

    @property
    def lines(self) -> list[str]:
        return [self.title] + ([self.byline] if self.byline else []) + self.paragraphs

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


PNG_MEMOIR = Page(
    "县电厂创办回忆",
    [
        "我是民国二十六年进厂的，那年我十七岁。当时岚江县城里还没有电灯，商户晚上都点煤油灯。"
        "城西米商周汉卿约了几家商号集资，办起了岚江电灯公司，这就是后来县电厂的前身。",
        "公司从汉口买回一台四十千瓦的柴油发电机，用木船沿湘江运到县城，光是搬上岸就用了三天。"
        "厂房设在西门外的旧盐仓，屋顶漏雨，机器旁边常年摆着几只接水的木桶。",
        "每天傍晚六点开机，夜里十一点停机，全城只有二百多盏灯。老百姓说这灯“不用添油也会亮”，"
        "常有人专门跑来看热闹。抗战后期柴油紧缺，公司一度改烧木炭煤气，灯光时明时暗，"
        "一九四四年干脆停了一年多。",
        "解放后电灯公司收归县里，改称岚江县电厂，我也从学徒成了机工班长。",
    ],
    byline="王德明口述　李秀英整理",
)

JPG_1958 = Page(
    "一九五八年的扩建工程",
    [
        "1958年春，县委决定扩建县电厂，提出“县县有电、社社通电”的口号。厂里抽调三十多名职工，"
        "又从各公社招来一百二十名民工，在东郊杉木塘平整场地，新建锅炉房和汽机间。",
        "新厂安装两台五百千瓦的汽轮发电机组，部分设备由株洲市一家机械厂协助改制。因为缺少起重设备，"
        "工人们用滚木和绞盘把四吨多重的发电机一寸一寸挪进厂房。女电工李秀英带领青年突击队连续奋战，"
        "负责敷设厂内电缆，被评为县里的先进生产者。",
        "同年十月一日，新机组并网发电，县城供电由每晚五小时延长到全天。但由于煤炭供应不稳，"
        "加上设备赶工，第二年曾发生多次停机事故。",
    ],
)

TIFF_HYDRO = [
    Page(
        "青石滩水电站建设始末（上）",
        [
            "岚江上游的青石滩，河道狭窄，落差较大，早在民国三十五年就有人提议在此筑坝发电，"
            "终因时局动荡而作罢。一九六四年，省水利电力厅派出勘测组复查坝址，认为可以兴建一座中型水电站。",
            "一九六六年冬，工程正式开工。县里组织了六个公社的民工，最多时工地上有四千余人。没有机械，"
            "大家就用箩筐挑土、用钢钎打炮眼，拦河坝的每一块条石都是人工凿成的。技术员陈国栋带着几个"
            "刚毕业的中专生，住在河边的竹棚里，白天放线测量，晚上核算图纸。",
        ],
    ),
    Page(
        "青石滩水电站建设始末（下）",
        [
            "一九七〇年五月，第一台二千五百千瓦水轮发电机组试运行成功，当天晚上，附近村庄第一次亮起了电灯。"
            "一九七二年第二台机组投产，电站总装机达到五千千瓦，年发电量约两千万千瓦时。",
            "电站建成后，县里又架设了一条通往县城的输电线路，把电送到沿线的农机厂和碾米厂。"
            "枯水季节发电不足时，还要从株洲电网购电补充。",
            "改革开放以后，电站进行了两次技术改造，更换了调速器和励磁装置，至今仍在运行。",
        ],
    ),
]

WEBP_LINE = Page(
    "第一条高压输电线路",
    [
        "一九六六年，岚江县架设了第一条三十五千伏高压输电线路，从县电厂经白沙铺、龙口渡到马鞍山铁矿，"
        "全长四十二公里。线路所用的水泥电杆由县建材厂自制，导线则由省里调拨。",
        "施工队冒雨翻山，把电杆一根根抬上山梁。线路建成后，铁矿告别了柴油机自备电源，产量比往年翻了一番。",
    ],
)

PDF_CHRONICLE = [
    Page(
        "岚江县电力工业大事记",
        [
            "光绪八年（1882年），上海始有电灯照明，此后电灯逐渐传入内地城市，本县士绅始闻“电气”之名。",
            "民国二十六年（1937年），米商周汉卿等集资创办岚江电灯公司，装有柴油发电机一台，供县城照明。",
            "民国三十三年（1944年），因燃料断绝，电灯公司停止供电一年余。",
            "1950年，电灯公司由县人民政府接管，改名岚江县电厂。",
            "1958年，县电厂在东郊扩建，新装汽轮发电机组两台。",
            "1966年，第一条三十五千伏输电线路建成。",
        ],
    ),
    Page(
        "大事记（续）",
        [
            "1970年，青石滩水电站第一台机组发电。",
            "1976年，全县实现公社通电，大队通电率达到百分之六十八。",
            "1979年，县电厂开始实行经济责任制，职工奖金与发电量、煤耗指标挂钩。",
            "1985年，城北一百一十千伏变电站建成投运，县电网与省电网联网。",
            "1993年，县电厂关停老旧机组，厂区改建为供电公司调度所。",
            "1998年，全县完成农村电网改造，城乡用电实现同网同价。",
            "编者按：本大事记依据县档案馆所藏厂史资料及老职工口述整理，个别年代尚待核实。",
        ],
    ),
]

DOCX_HEADING = "岚江县电厂简介"
DOCX_PARAS_BEFORE = [
    "岚江县电厂位于县城东郊，前身是民国二十六年创办的岚江电灯公司。建国后经过多次扩建，"
    "曾是全县最大的工业企业之一，为县城照明、工业生产和农田排灌提供电力。",
    "下表列出该厂历年装机情况（据厂志稿整理）。",
]
DOCX_TABLE = [
    ["年份", "机组", "容量", "备注"],
    ["1937", "柴油发电机一台", "40千瓦", "电灯公司时期"],
    ["1958", "汽轮发电机组两台", "各500千瓦", "东郊新厂"],
    ["1975", "汽轮发电机组一台", "1500千瓦", "燃煤机组"],
]
DOCX_PARAS_AFTER = [
    "一九九三年老机组关停后，厂区部分建筑被保留下来，现辟为县工业遗产陈列馆，供参观学习。",
]

GBK_TEXT = Page(
    "第三章　农村电气化（初稿）",
    [
        "岚江县农村用电始于一九五九年。当年县电厂向城郊红星公社架设低压线路，建成全县第一座电力排灌站，"
        "七十五亩望天田从此改种双季稻。",
        "六十年代中期以后，各公社纷纷兴办小水电。由于资金缺乏，多采取“社队自筹、国家补助”的办法，"
        "水轮机和发电机多从邵阳、株洲等地购置旧设备修复使用。至一九七五年，全县先后建成小水电站三十七处。",
        "通电以后，农村碾米、榨油、抽水逐步改用电力。每到双抢季节，公社电工日夜守在排灌站，"
        "确保稻田及时灌水。老电工赵春生回忆，那几年他几乎没在家里吃过一顿安稳饭。",
        "一九七六年，全县实现社社通电，部分偏远山区直到八十年代初才用上电灯。",
    ],
)

G4_DIARY = Page(
    "勘测队日记（一九五六年）",
    [
        "三月十二日　晴。勘测队今日从株洲市出发，一行十四人，带经纬仪两台、水准仪三台。"
        "队长孙永福交代，本月须完成株洲至岚江段的初测。",
        "三月十八日　小雨。在黄泥坳一带选线，山势陡峭，原定线位须向东绕行。老乡送来红薯和热茶，"
        "大家很受感动。",
        "三月二十五日　阴。测至岚江北岸，河面宽约三百米，初步选定桥址于渡口上游。晚上整理记录，"
        "发现两处高程有误，明日返工复测。",
    ],
)

BMP_ROADBED = Page(
    "路基施工",
    [
        "一九五八年秋，株岚铁路全线开工。路基土方全靠人力，民工们推着独轮车，喊着号子，"
        "一天要往返几十趟。遇到软土地段，就先铺一层碎石，再分层夯实。",
        "工地上开展劳动竞赛，红旗每周评比一次。青年民工刘桂兰所在的班组，"
        "创造了日挖土方一百二十立方米的记录。",
    ],
)

SCANNED_OVERVIEW = [
    Page(
        "株岚铁路建设概况",
        [
            "株岚铁路北起株洲市，南至岚江县城，全长八十六公里，是湘中地区一条地方铁路支线。"
            "早在光绪末年，就有乡绅倡议修筑铁路，但一直没有实现。民国二十五年曾进行过一次踏勘，"
            "也因战事中断。",
            "一九五六年，湘中铁路局组织勘测队完成初测，一九五八年九月全线开工，"
            "参加施工的有铁道兵一个团和沿线各县的民工。",
        ],
    ),
    Page(
        "株岚铁路建设概况（续）",
        [
            "全线共有大小桥梁四十三座，隧道三座，其中岚江大桥最为艰巨。施工中遇到国民经济调整，"
            "工程一度缓建，一九六二年恢复施工。",
            "一九六五年七月一日，株岚铁路正式通车，首趟列车由株洲开出，沿途群众夹道欢迎。"
            "通车后，岚江县的煤炭、木材和稻谷得以外运，县里的工业也随之发展起来。"
            "七十年代，铁路又增建了两个会让站，运输能力进一步提高。",
        ],
    ),
]

MIXED_BRIDGE = [
    Page(
        "岚江大桥施工纪实",
        [
            "岚江大桥是株岚铁路上最长的桥梁，全长四百六十米，共有十一孔钢筋混凝土梁。"
            "大桥由湘中铁路局桥梁工程队承建，一九五九年开始打桩。",
            "江心的三号、四号桥墩最难施工。工人们采用沉井法，在江中筑岛后下沉沉井，每天只能下沉几十厘米。"
            "汛期来临前，全队日夜赶工，终于在洪水到来之前把沉井沉到了设计标高。",
            "桥梁工程师吴振华回忆：那年冬天，江水冰冷刺骨，潜水工下水一次只能坚持二十分钟。",
        ],
    ),
    Page(
        "老桥工的回忆",
        [
            "我叫马长胜，一九五九年从衡阳调到岚江大桥工地，那年二十二岁。我们班负责架梁，"
            "当时没有架桥机，用的是人字扒杆和卷扬机，一片梁要吊一整天。",
            "一九六四年底，最后一孔梁落位，全队的人都激动得说不出话来。后来我又参加过好几座桥的建设，"
            "但最难忘的还是岚江大桥。",
        ],
        byline="马长胜",
    ),
]

# Traditional script (Big5). Written in simplified, converted once with OpenCC s2tw and checked.
BIG5_MEMOIR = Page(
    "一個老築路工的回憶",
    [
        "我叫張福生，湖南省衡陽縣人，民國二十年生。一九五二年，我進了鐵路工程隊當養路工，先後在好幾條線路上幹過。",
        "一九五八年，隊裡調我去修株嵐鐵路。那時候住的是油毛氈搭的工棚，吃的是糙米飯和醃菜，"
        "冬天腳上的凍瘡一直爛到開春。最苦的是鋪軌，一根鋼軌三四百斤，八個人抬著走，肩膀磨破了也不敢停下來。"
        "遇上下雨天，路基泡軟了，剛鋪好的軌道又得拆開重來。",
        "一九六五年通車那天，我們站在路肩上看火車開過去，汽笛一響，好幾個人當場掉了眼淚。"
        "後來我在嵐江工務段幹到一九七九年退休，一輩子沒離開過鐵路。",
        "現在年紀大了，常常夢見當年的工地。寫下這些，是想讓年輕人知道，這條鐵路是怎麼一鍬一鎬修出來的。",
    ],
)

MARKDOWN_TEXT = """# 《岚江铁路建设史》编写说明

## 一、编写缘起

株岚铁路通车已近六十年，当年参加勘测、施工的老同志多已年过八旬。为抢救这段铁路建设的历史，
县政协文史委于二〇二三年启动本书的资料征集和编写工作。

## 二、资料来源

- 县档案馆所藏湘中铁路局工程档案（1956—1975年）；
- 老职工口述记录四十余份，其中张福生、马长胜等人的回忆较为完整；
- 《岚江县志》（一九八八年版）交通篇及有关报刊资料。

## 三、时间断限

上限始于光绪三十二年乡绅倡议修路，下限止于一九七八年株岚铁路完成技术改造。

## 四、体例

1. 纪年以公历为主，民国纪年和清代年号加注公历，如“民国二十五年（1936年）”。
2. 人名一律直书其名，不加褒贬之词。
3. 数字用法依照出版物有关规定执行。

| 章 | 内容 | 执笔 |
| --- | --- | --- |
| 第一章 | 勘测与选线 | 孙永福 |
| 第二章 | 路基与桥梁施工 | 吴振华 |
| 第三章 | 通车与运营 | 编写组 |
"""


@dataclass
class Sample:
    path: str  # relative to samples/
    kind: str  # image / pdf / docx / text
    fmt: str
    pages: list[Page] | None  # None for text-like files (see texts)
    unique_phrase: str
    page_phrases: list[str]
    page_sources: list[str]  # per page: "ocr" (image only) or "text" (text layer / text file)
    texts_override: list[str] | None = None
    encoding: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def collection_dir(self) -> str:
        return self.path.split("/")[0]

    @property
    def texts(self) -> list[str]:
        if self.texts_override is not None:
            return self.texts_override
        assert self.pages is not None
        return [p.text for p in self.pages]


def docx_text() -> str:
    rows = ["\t".join(r) for r in DOCX_TABLE]
    return "\n".join([DOCX_HEADING, *DOCX_PARAS_BEFORE, *rows, *DOCX_PARAS_AFTER])


SAMPLES: list[Sample] = [
    Sample("power/县电厂 回忆录.png", "image", "png", [PNG_MEMOIR], "西门外的旧盐仓", ["西门外的旧盐仓"], ["ocr"]),
    Sample("power/扩建工程_1958.jpg", "image", "jpeg", [JPG_1958], "青年突击队", ["青年突击队"], ["ocr"],
           extra={"noisy": True}),
    Sample("power/青石滩水电站.tif", "image", "tiff", TIFF_HYDRO, "刚毕业的中专生",
           ["刚毕业的中专生", "更换了调速器"], ["ocr", "ocr"]),
    Sample("power/输电线路.webp", "image", "webp", [WEBP_LINE], "水泥电杆", ["水泥电杆"], ["ocr"]),
    Sample("power/岚江县电力工业大事记.pdf", "pdf", "pdf", PDF_CHRONICLE, "同网同价",
           ["上海始有电灯", "同网同价"], ["text", "text"],
           extra={"pdf_font": "WenQuanYi Zen Hei (embedded subset)"}),
    Sample("power/县电厂简介.docx", "docx", "docx", None, "工业遗产陈列馆", ["工业遗产陈列馆"], ["text"],
           texts_override=[docx_text()]),
    Sample("power/电力志稿_农村电气化.txt", "text", "txt", None, "七十五亩望天田", ["七十五亩望天田"], ["text"],
           texts_override=[GBK_TEXT.text + "\n"], encoding="gbk", extra={"newline": "CRLF"}),
    Sample("railway/勘测队日记 1956.tif", "image", "tiff-g4", [G4_DIARY], "水准仪三台", ["水准仪三台"], ["ocr"],
           extra={"bilevel": True, "compression": "group4"}),
    Sample("railway/路基施工.bmp", "image", "bmp", [BMP_ROADBED], "分层夯实", ["分层夯实"], ["ocr"],
           extra={"bilevel": True}),
    Sample("railway/株岚铁路建设概况（扫描件）.pdf", "pdf", "pdf", SCANNED_OVERVIEW, "乡绅倡议修筑铁路",
           ["乡绅倡议修筑铁路", "沿途群众夹道欢迎"], ["ocr", "ocr"]),
    Sample("railway/岚江大桥 施工纪实.pdf", "pdf", "pdf", MIXED_BRIDGE, "没有架桥机",
           ["潜水工下水", "没有架桥机"], ["text", "ocr"],
           extra={"pdf_font": "STSong-Light (CID, not embedded)"}),
    Sample("railway/老工人回憶錄（繁體）.txt", "text", "txt", None, "油毛氈搭的工棚", ["油毛氈搭的工棚"], ["text"],
           texts_override=[BIG5_MEMOIR.text + "\n"], encoding="big5",
           extra={"newline": "LF", "script": "traditional", "unique_phrase_simplified": "油毛毡搭的工棚"}),
    Sample("railway/铁路建设史编写说明.md", "text", "md", None, "时间断限", ["时间断限"], ["text"],
           texts_override=[MARKDOWN_TEXT], encoding="utf-8", extra={"newline": "LF"}),
]


# --------------------------------------------------------------------------------------------
# Rendering page images
# --------------------------------------------------------------------------------------------

NO_LINE_START = set("，。、；：？！）》」』”’…—·%,.;:?!)")
NO_LINE_END = set("（《「『“‘(")


def find_font_file(name: str) -> Path:
    for d in FONT_DIRS:
        if (d / name).is_file():
            return d / name
    sys.exit(f"font {name} not found: apt-get install fonts-noto-cjk")


def cjk_font(file_name: str, size: int, family: str) -> ImageFont.FreeTypeFont:
    """The face of a .ttc whose family name is `family` (indices differ between releases)."""
    path = find_font_file(file_name)
    for index in range(16):
        try:
            font = ImageFont.truetype(str(path), size, index=index)
        except OSError:
            break
        if font.getname()[0] == family:
            return font
    sys.exit(f"{family} not found in {path}")


def tokens(text: str) -> list[str]:
    """Break units: one CJK character, or a run of ASCII letters/digits (never split)."""
    out: list[str] = []
    for ch in text:
        prev = out[-1][-1] if out else ""
        if prev.isascii() and prev.isalnum() and ch.isascii() and ch.isalnum():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, measure, width: float, indent: float) -> list[tuple[list[str], float]]:
    """Greedy line breaking with simple kinsoku. Returns (tokens, left offset) per line."""
    lines: list[tuple[list[str], float]] = []
    cur: list[str] = []
    cur_w = 0.0
    offset = indent
    for tok in tokens(text):
        w = measure(tok)
        if cur and offset + cur_w + w > width and tok[0] not in NO_LINE_START:
            carry: list[str] = []
            while len(cur) > 1 and cur[-1][-1] in NO_LINE_END:
                carry.insert(0, cur.pop())
            lines.append((cur, offset))
            cur, offset = carry, 0.0
            cur_w = sum(measure(t) for t in cur)
        cur.append(tok)  # closing punctuation may hang into the margin
        cur_w += w
    if cur:
        lines.append((cur, offset))
    return lines


@dataclass
class Layout:
    body_px: int = BODY_PX
    margin_x: int = 118
    margin_top: int = 150
    margin_bottom: int = 120
    leading: float = 1.78


def render_page(page: Page, width: int = PAGE_W, height: int | None = PAGE_H,
                layout: Layout = Layout(), ink: int = 18) -> Image.Image:
    body = cjk_font(SERIF_FILE, layout.body_px, "Noto Serif CJK SC")
    title_font = cjk_font(SANS_FILE, round(layout.body_px * 1.4), "Noto Sans CJK SC")
    text_w = width - 2 * layout.margin_x
    line_h = round(layout.body_px * layout.leading)
    ops: list[tuple[float, float, str, ImageFont.FreeTypeFont]] = []
    y = float(layout.margin_top + title_font.size)
    tw = title_font.getlength(page.title)
    ops.append(((width - tw) / 2, y, page.title, title_font))
    y += round(title_font.size * 1.2)
    if page.byline:
        y += line_h
        bw = body.getlength(page.byline)
        ops.append(((width - bw) / 2, y, page.byline, body))
        y += round(line_h * 0.5)
    y += round(line_h * 0.4)
    for para in page.paragraphs:
        lines = wrap(para, body.getlength, text_w, 2 * layout.body_px)
        for i, (toks, offset) in enumerate(lines):
            y += line_h
            widths = [body.getlength(t) for t in toks]
            extra = text_w - offset - sum(widths)
            # Justify full lines (not the last of a paragraph), as typeset CJK pages are.
            full = i < len(lines) - 1 and extra > 0 and len(toks) > 1
            gap = extra / (len(toks) - 1) if full else 0.0
            x = layout.margin_x + offset
            for tok, w in zip(toks, widths):
                ops.append((x, y, tok, body))
                x += w + gap
    if height is None:
        height = int(y + layout.body_px * 0.4 + layout.margin_bottom)
    if y > height - layout.margin_bottom:
        raise ValueError(f"text of {page.title!r} does not fit on a {width}x{height} page")
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    for x, yy, s, font in ops:
        draw.text((x, yy), s, font=font, fill=ink, anchor="ls")
    return img


def seed_for(key: str) -> int:
    return SEED ^ zlib.crc32(key.encode("utf-8"))


def scanify(img: Image.Image, key: str, skew_deg: float, noise_sigma: float, paper: float = 238.0,
            paper_var: float = 6.0, ink: float = 30.0, blur: float = 0.55) -> Image.Image:
    """Make a clean rendering look like a scan: grey uneven paper, soft edges, skew, noise."""
    rng = np.random.default_rng(seed_for(key))
    a = np.asarray(img, dtype=np.float32) / 255.0
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 2 * math.pi, size=2)
    wave = np.sin(xx / w * math.pi + phase[0]) * np.cos(yy / h * math.pi * 0.7 + phase[1])
    base = paper + paper_var * wave - paper_var * (yy / h)
    out = base * a + ink * (1.0 - a)
    scan = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "L")
    if blur:
        scan = scan.filter(ImageFilter.GaussianBlur(blur))
    if skew_deg:
        scan = scan.rotate(skew_deg, resample=Image.Resampling.BICUBIC,
                           fillcolor=int(paper - paper_var))
    arr = np.asarray(scan, dtype=np.float32)
    if noise_sigma:
        arr = arr + rng.normal(0.0, noise_sigma, size=arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")


def bilevel(img: Image.Image, threshold: int = 180) -> Image.Image:
    return img.point(lambda v: 255 if v > threshold else 0).convert("1", dither=Image.Dither.NONE)


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

def jpeg_bytes(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(DPI, DPI), optimize=True)
    return buf.getvalue()


def pdf_canvas(path: Path, pagesize: tuple[float, float], title: str):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=pagesize, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Wenshi project (sample)")
    c.setCreator("samples/make_samples.py")
    return c


def draw_text_page(c, page: Page, pagesize: tuple[float, float], font: str, size: float,
                   margin: float) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    pw, ph = pagesize
    text_w = pw - 2 * margin
    leading = size * 1.75
    y = ph - margin - size * 1.5
    c.setFont(font, size * 1.5)
    c.drawCentredString(pw / 2, y, page.title)
    y -= leading * 0.6
    if page.byline:
        y -= leading
        c.setFont(font, size)
        c.drawCentredString(pw / 2, y, page.byline)
    c.setFont(font, size)
    for para in page.paragraphs:
        for toks, offset in wrap(para, lambda t: stringWidth(t, font, size), text_w, 2 * size):
            y -= leading
            if y < margin:
                raise ValueError(f"text of {page.title!r} does not fit on the PDF page")
            c.drawString(margin + offset, y, "".join(toks))


def image_page(c, img_jpeg: bytes, pagesize: tuple[float, float]) -> None:
    from reportlab.lib.utils import ImageReader

    c.drawImage(ImageReader(io.BytesIO(img_jpeg)), 0, 0, width=pagesize[0], height=pagesize[1])


A6_PT = (PAGE_W / DPI * 72, PAGE_H / DPI * 72)


def write_born_digital_pdf(path: Path, pages: list[Page]) -> None:
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not WQY_FILE.is_file():
        sys.exit(f"{WQY_FILE} not found: apt-get install fonts-wqy-zenhei")
    pdfmetrics.registerFont(TTFont("WenQuanYiZenHei", str(WQY_FILE), subfontIndex=0))
    c = pdf_canvas(path, A5, pages[0].title)
    for page in pages:
        draw_text_page(c, page, A5, "WenQuanYiZenHei", 10.5, 56)
        c.showPage()
    c.save()


def write_scanned_pdf(path: Path, images: list[Image.Image], title: str) -> None:
    c = pdf_canvas(path, A6_PT, title)
    for img in images:
        image_page(c, jpeg_bytes(img, 70), A6_PT)
        c.showPage()
    c.save()


def write_mixed_pdf(path: Path, text_page: Page, image: Image.Image) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = pdf_canvas(path, A6_PT, text_page.title)
    draw_text_page(c, text_page, A6_PT, "STSong-Light", 8.5, 30)
    c.showPage()
    image_page(c, jpeg_bytes(image, 75), A6_PT)
    c.showPage()
    c.save()


FIXED_TIME = datetime(2024, 5, 17, 9, 0, 0)


def normalize_zip(path: Path) -> None:
    """Rewrite a zip (docx) with fixed timestamps so regeneration gives the same bytes."""
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)


def write_docx(path: Path) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    heading = d.add_heading(DOCX_HEADING, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in DOCX_PARAS_BEFORE:
        d.add_paragraph(text).paragraph_format.first_line_indent = Pt(21)
    table = d.add_table(rows=len(DOCX_TABLE), cols=len(DOCX_TABLE[0]))
    table.style = "Table Grid"
    for r, row in enumerate(DOCX_TABLE):
        for col, value in enumerate(row):
            table.cell(r, col).text = value
    for text in DOCX_PARAS_AFTER:
        d.add_paragraph(text).paragraph_format.first_line_indent = Pt(21)
    cp = d.core_properties
    cp.title = DOCX_HEADING
    cp.author = "Wenshi project (sample)"
    cp.last_modified_by = "Wenshi project (sample)"
    cp.created = FIXED_TIME
    cp.modified = FIXED_TIME
    cp.revision = 1
    d.save(str(path))
    normalize_zip(path)


def write_text(path: Path, text: str, encoding: str, crlf: bool) -> None:
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(data.encode(encoding))  # strict: fails if a character is not encodable


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------

def by_path(rel: str) -> Sample:
    return next(s for s in SAMPLES if s.path == rel)


def check_phrases_in_sources() -> None:
    """Every phrase is in its own file's text and in no other file's text or file name."""
    all_texts = {s.path: "".join("".join(s.texts).split()) for s in SAMPLES}
    for s in SAMPLES:
        own = all_texts[s.path]
        phrases = [s.unique_phrase, *s.page_phrases]
        for i, p in enumerate(s.page_phrases):
            assert p in "".join(s.texts[i].split()), (s.path, p)
        simp = s.extra.get("unique_phrase_simplified")
        for p in phrases + ([str(simp)] if simp else []):
            assert 4 <= len(p) <= 8, (s.path, p)
            for other in SAMPLES:
                if other is s:
                    continue
                assert p not in all_texts[other.path], f"{p!r} of {s.path} also in {other.path}"
                assert p not in other.path, f"{p!r} of {s.path} in file name {other.path}"
        assert s.unique_phrase in own, (s.path, s.unique_phrase)


def generate() -> list[dict[str, object]]:
    check_phrases_in_sources()
    for d in COLLECTIONS:
        out_dir = HERE / d
        out_dir.mkdir(exist_ok=True)
        for old in out_dir.iterdir():
            if old.is_file():
                old.unlink()

    def out(rel: str) -> Path:
        return HERE / rel

    # power: clean PNG
    s = by_path("power/县电厂 回忆录.png")
    render_page(PNG_MEMOIR).save(out(s.path), "PNG", optimize=True, dpi=(DPI, DPI))

    # power: noisy JPEG (grey paper, 0.7 degree skew, gaussian noise, quality 75)
    s = by_path("power/扩建工程_1958.jpg")
    scanify(render_page(JPG_1958), s.path, skew_deg=0.7, noise_sigma=7.0).save(
        out(s.path), "JPEG", quality=75, dpi=(DPI, DPI), optimize=True)

    # power: two-page greyscale TIFF (deflate), pages slightly skewed like a flatbed scan
    s = by_path("power/青石滩水电站.tif")
    pages = [render_page(p).rotate(a, resample=Image.Resampling.BICUBIC, fillcolor=255)
             for p, a in zip(TIFF_HYDRO, (-0.3, 0.25))]
    pages[0].save(out(s.path), "TIFF", save_all=True, append_images=pages[1:],
                  compression="tiff_adobe_deflate", dpi=(DPI, DPI))

    # power: small one-page WebP (lossy)
    s = by_path("power/输电线路.webp")
    render_page(WEBP_LINE, height=None).save(out(s.path), "WEBP", quality=80, method=6)

    # power: born-digital PDF with embedded TrueType subset
    write_born_digital_pdf(out("power/岚江县电力工业大事记.pdf"), PDF_CHRONICLE)

    # power: docx and GBK text
    write_docx(out("power/县电厂简介.docx"))
    s = by_path("power/电力志稿_农村电气化.txt")
    write_text(out(s.path), s.texts[0], "gbk", crlf=True)

    # railway: one-page bilevel CCITT G4 TIFF
    s = by_path("railway/勘测队日记 1956.tif")
    bilevel(render_page(G4_DIARY)).save(out(s.path), "TIFF", compression="group4", dpi=(DPI, DPI))

    # railway: small bilevel BMP
    s = by_path("railway/路基施工.bmp")
    bilevel(render_page(BMP_ROADBED, height=None)).save(out(s.path), "BMP", dpi=(DPI, DPI))

    # railway: scanned (image-only) two-page PDF
    s = by_path("railway/株岚铁路建设概况（扫描件）.pdf")
    imgs = [scanify(render_page(p), f"{s.path}#{i}", skew_deg=a, noise_sigma=3.0, paper=242)
            for i, (p, a) in enumerate(zip(SCANNED_OVERVIEW, (0.4, -0.5)))]
    write_scanned_pdf(out(s.path), imgs, SCANNED_OVERVIEW[0].title)

    # railway: mixed PDF, page 1 text layer, page 2 image only
    s = by_path("railway/岚江大桥 施工纪实.pdf")
    img = scanify(render_page(MIXED_BRIDGE[1]), f"{s.path}#1", skew_deg=-0.3, noise_sigma=0.0,
                  paper=240)
    write_mixed_pdf(out(s.path), MIXED_BRIDGE[0], img)

    # railway: Big5 text and UTF-8 markdown
    s = by_path("railway/老工人回憶錄（繁體）.txt")
    write_text(out(s.path), s.texts[0], "big5", crlf=False)
    write_text(out("railway/铁路建设史编写说明.md"), MARKDOWN_TEXT, "utf-8", crlf=False)

    entries: list[dict[str, object]] = []
    for s in SAMPLES:
        data = out(s.path).read_bytes()
        entry: dict[str, object] = {
            "path": s.path,
            "collection": COLLECTIONS[s.collection_dir],
            "collection_dir": s.collection_dir,
            "kind": s.kind,
            "format": s.fmt,
            "pages": len(s.texts),
            "page_sources": s.page_sources,
            "texts": s.texts,
            "unique_phrase": s.unique_phrase,
            "page_phrases": s.page_phrases,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if s.encoding:
            entry["encoding"] = s.encoding
        entry.update(s.extra)
        entries.append(entry)
    manifest = {
        "description": "Sample files for Wenshi tests and demo, made by samples/make_samples.py",
        "paths_relative_to": "samples/",
        "collections": COLLECTIONS,
        "files": entries,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    return entries


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------

def squeeze(text: str) -> str:
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def tesseract(path: Path) -> str:
    cmd = ["tesseract", str(path), "-", "-l", "chi_sim"]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return r.stdout


def ocr_pages(path: Path, s: Sample, tmp: Path) -> dict[int, str]:
    """OCR text of every image-only page, running `tesseract FILE - -l chi_sim` per page."""
    res: dict[int, str] = {}
    if s.kind == "image":
        if s.fmt in ("tiff", "tiff-g4"):
            with Image.open(path) as im:
                if getattr(im, "n_frames", 1) == 1:
                    return {0: tesseract(path)}
                for i in range(im.n_frames):
                    im.seek(i)
                    p = tmp / f"page{i}.tif"
                    comp = "group4" if im.mode == "1" else "tiff_adobe_deflate"
                    im.save(p, "TIFF", compression=comp, dpi=(DPI, DPI))
                    res[i] = tesseract(p)
        else:
            res[0] = tesseract(path)
    elif s.kind == "pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        for i, src in enumerate(s.page_sources):
            if src == "ocr":
                p = tmp / f"page{i}.png"
                pdf[i].render(scale=DPI / 72).to_pil().convert("L").save(p, dpi=(DPI, DPI))
                res[i] = tesseract(p)
        pdf.close()
    return res


def extracted_texts(path: Path, s: Sample) -> list[str | None]:
    """Text read back without OCR (text layer, docx, text file); None for image-only pages."""
    if s.kind == "pdf":
        import pdfplumber

        with pdfplumber.open(str(path)) as pdf:
            assert len(pdf.pages) == len(s.texts), (s.path, len(pdf.pages))
            out: list[str | None] = []
            for src, page in zip(s.page_sources, pdf.pages):
                if src == "ocr":
                    assert not page.chars, f"{s.path}: image-only page has a text layer"
                    out.append(None)
                else:
                    out.append(page.extract_text())
            return out
    if s.kind == "docx":
        import docx

        d = docx.Document(str(path))
        body = d.element.body
        parts: list[str] = []
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                parts.append("".join(t.text or "" for t in child.iter("{*}t")))
            elif tag == "tbl":
                for tr in child.iter("{*}tr"):
                    parts.append("\t".join("".join(t.text or "" for t in tc.iter("{*}t"))
                                           for tc in tr.iter("{*}tc")))
        return ["\n".join(p for p in parts if p)]
    if s.kind == "text":
        return [path.read_bytes().decode(s.encoding or "utf-8").replace("\r\n", "\n")]
    return [None] * len(s.texts)


def jieba_aligned():
    """A check that a phrase's jieba words appear contiguously in a text's jieba words.

    Informational: a word-based index finds a phrase only if segmentation agrees. Uses the
    project's bundled user dictionary when it exists.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.tmp_dir = tempfile.gettempdir()
    userdict = HERE.parent / "pipeline" / "data" / "userdict.txt"
    if userdict.is_file():
        tok.load_userdict(str(userdict))

    def words(text: str) -> list[str]:
        return [w for w in tok.cut(text, HMM=True) if any(ch.isalnum() for ch in w)]

    def aligned(phrase: str, text: str) -> bool:
        q, d = words(phrase), words(text)
        return any(d[i:i + len(q)] == q for i in range(len(d) - len(q) + 1))

    return aligned


def verify(entries: list[dict[str, object]]) -> bool:
    import opencc

    t2s = opencc.OpenCC("t2s")
    aligned = jieba_aligned()
    ok_all = True
    readme_path = HERE / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.exists() else ""
    simplified = {s.path: squeeze(t2s.convert("".join(s.texts))) for s in SAMPLES}
    rows = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        for s in SAMPLES:
            path = HERE / s.path
            problems: list[str] = []
            pages_read: list[str] = []
            ocr = ocr_pages(path, s, tmp)
            if s.kind == "image":
                with Image.open(path) as im:
                    n = getattr(im, "n_frames", 1)
                    comp = im.info.get("compression")
                    if s.fmt == "tiff-g4" and (im.mode != "1" or comp != "group4"):
                        problems.append(f"not a G4 bilevel TIFF ({im.mode}, {comp})")
                if n != len(s.texts):
                    problems.append(f"{n} frames, expected {len(s.texts)}")
            accs: list[str] = []
            texts = extracted_texts(path, s)
            for i, src in enumerate(s.texts):
                if i in ocr:
                    got = squeeze(ocr[i])
                    want = squeeze(src)
                    accs.append(f"{1 - edit_distance(want, got) / len(want):.1%}")
                else:
                    got = squeeze(texts[i] or "")
                    if got != squeeze(src):
                        problems.append(f"page {i + 1}: extracted text differs from source")
                    accs.append("exact" if got == squeeze(src) else "DIFF")
                pages_read.append(got)
                phrase = s.page_phrases[i]
                if phrase not in got:
                    problems.append(f"page {i + 1}: phrase {phrase!r} not read")
            joined = "".join(pages_read)
            found = s.unique_phrase in joined
            seg = aligned(t2s.convert(s.unique_phrase), t2s.convert(joined))
            if not found:
                problems.append(f"unique phrase {s.unique_phrase!r} not read")
            simp = s.extra.get("unique_phrase_simplified")
            if simp:
                if t2s.convert(s.unique_phrase) != simp:
                    problems.append(f"t2s({s.unique_phrase}) != {simp}")
                if simp not in simplified[s.path]:
                    problems.append("simplified phrase not in simplified text")
            for p in [s.unique_phrase, *s.page_phrases] + ([str(simp)] if simp else []):
                sp = t2s.convert(p)
                for other in SAMPLES:
                    if other is not s and sp in simplified[other.path]:
                        problems.append(f"{p!r} also in {other.path} (after t2s)")
                if p in readme or sp in readme:
                    problems.append(f"{p!r} in README.md")
            if s.kind == "text" and s.fmt == "txt":
                from charset_normalizer import from_bytes

                best = from_bytes(path.read_bytes()).best()
                enc = best.encoding if best else None
                accs.append(f"charset-normalizer: {enc}")
            ok = not problems
            ok_all &= ok
            rows.append((s.path, s.kind, len(s.texts), "+".join(s.page_sources),
                         ", ".join(accs), "yes" if found else "NO",
                         "yes" if seg else "no (warning)", "ok" if ok else "; ".join(problems)))
    total = sum(f.stat().st_size for f in HERE.rglob("*")
                if f.is_file() and "__pycache__" not in f.parts)
    header = ("file", "kind", "pages", "read by", "accuracy / extraction", "phrase read",
              "jieba-aligned", "result")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for r in [header, *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " | " + r[-1])
    print(f"samples/ total size: {total / 1024 / 1024:.2f} MiB")
    if total > 4.2 * 1024 * 1024:
        print("samples/ is larger than ~4 MiB")
        ok_all = False
    print("ALL CHECKS PASSED" if ok_all else "SOME CHECKS FAILED")
    return ok_all


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", action="store_true", help="check the files after generating them")
    ap.add_argument("--verify-only", action="store_true", help="check the existing files only")
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.verify_only:
        entries = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))["files"]
    else:
        entries = generate()
        print(f"generated {len(entries)} files in {time.monotonic() - t0:.1f} s")
    if args.verify or args.verify_only:
        t1 = time.monotonic()
        ok = verify(entries)
        print(f"verified in {time.monotonic() - t1:.1f} s")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
