"""OCR text clean-up: CJK spacing, full-width punctuation and brackets, line joins."""

from __future__ import annotations

import re

# CJK ideographs (basic, extension A, compatibility) and CJK punctuation / full-width forms.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014"
_CJKISH = f"[{_CJK}{_CJK_PUNCT}]"

# A space is dropped when it sits between two CJK characters, or between CJK and a digit
# (Tesseract writes "1958 年", "第 12 页"). Spaces between Latin words stay.
_SPACE_CJK_CJK = re.compile(rf"(?<={_CJKISH})[ \t\u3000]+(?={_CJKISH})")
_SPACE_CJK_DIGIT = re.compile(rf"(?<={_CJKISH})[ \t]+(?=[0-9])|(?<=[0-9])[ \t]+(?={_CJKISH})")

_HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
# Half-width punctuation touching a CJK character on the left becomes full width; an opening
# parenthesis before a CJK character too. A period only after CJK (never 3.5 or a.m.).
_PUNCT_AFTER_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]*([,:;!?)])")
_PAREN_BEFORE_CJK = re.compile(rf"\((?=[{_CJK}])")
_PERIOD_AFTER_CJK = re.compile(rf"(?<=[{_CJK}])\.(?![0-9A-Za-z])")

# An opening bracket closed by a parenthesis was a parenthesis: Tesseract reads the thin curve
# of a full-width （ as 〈 or 《, whose own closers are 〉 and 》. Brackets do not nest here.
_MISREAD_PAREN = re.compile(r"[〈《]([^〈《〉》()（）]{0,40})[)）]")

# Where a line ends a sentence (or a heading), the break is kept.
_SENTENCE_END = tuple("。！？；：」』”）》…!?")


def remove_cjk_spaces(text: str) -> str:
    """Drop the spaces OCR puts between Chinese characters; keep those between Latin words."""
    text = _SPACE_CJK_CJK.sub("", text)
    return _SPACE_CJK_DIGIT.sub("", text)


def fullwidth_punctuation(text: str) -> str:
    """Half-width punctuation inside Chinese text in its full-width form."""
    text = _PUNCT_AFTER_CJK.sub(lambda m: _HALF_TO_FULL[m.group(1)], text)
    text = _PAREN_BEFORE_CJK.sub("（", text)
    return _PERIOD_AFTER_CJK.sub("。", text)


def paired_parentheses(text: str) -> str:
    """An opening 〈 or 《 that a parenthesis closes becomes a full-width parenthesis pair."""
    return _MISREAD_PAREN.sub(lambda m: f"（{m.group(1)}）", text)


def join_lines(text: str) -> str:
    """Join hard line breaks inside a sentence; keep paragraph breaks (blank lines)."""
    paragraphs = re.split(r"\n[ \t]*\n+", text)
    out = []
    for para in paragraphs:
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        joined = lines[0]
        for line in lines[1:]:
            if joined.endswith(_SENTENCE_END):
                joined += "\n" + line
            elif re.match(r"[A-Za-z0-9]", joined[-1]) and re.match(r"[A-Za-z0-9]", line[0]):
                joined += " " + line
            else:
                joined += line
        out.append(joined)
    return "\n\n".join(out)


def clean_ocr_text(text: str) -> str:
    """The whole clean-up, in order, on one page of Tesseract output."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    # Spaces go before and after the punctuation pass: "落 (草稿)" only touches CJK once the
    # parenthesis has become full width.
    text = remove_cjk_spaces(fullwidth_punctuation(remove_cjk_spaces(text)))
    text = paired_parentheses(text)
    return join_lines(text).strip()
