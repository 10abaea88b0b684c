"""The search normal form: simplified script, half-width, lower-case. Sole importer of OpenCC
(also a character's regional forms, for the page quality estimate: `regional_forms`).

The normal form keeps a 1:1 character correspondence with the original text, so a match found
at offset i in the normal form is at offset i in the original: snippets and highlights show the
original characters at their true positions.
"""

from __future__ import annotations

from functools import lru_cache

_FULLWIDTH_START, _FULLWIDTH_END = 0xFF01, 0xFF5E  # ！ .. ～ map onto ! .. ~


def _build_fold_table() -> dict[int, int]:
    table = {cp: cp - 0xFEE0 for cp in range(_FULLWIDTH_START, _FULLWIDTH_END + 1)}
    table[0x3000] = 0x20  # ideographic space
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = cp + 32
    for cp in range(0xFF21, 0xFF3A + 1):  # full-width capitals fold straight to lower case
        table[cp] = cp - 0xFEE0 + 32
    return table


_FOLD = _build_fold_table()


@lru_cache(maxsize=1)
def _t2s() -> "object":
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC t2s), same length as the input."""
    converter = _t2s()
    converted: str = converter.convert(text)  # type: ignore[attr-defined]
    if len(converted) == len(text):
        return converted
    # A phrase rule changed the length: convert character by character instead, keeping any
    # character whose conversion is not a single character, so offsets stay aligned.
    out = []
    for ch in text:
        c: str = converter.convert(ch)  # type: ignore[attr-defined]
        out.append(c if len(c) == 1 else ch)
    return "".join(out)


# A character's regional standard forms (Japanese, Taiwan, Hong Kong: `regional_forms`), and
# its other script, which they leave out.
_REGIONAL = ("jp2t", "t2jp", "tw2t", "t2tw", "hk2t", "t2hk")
_SCRIPT = ("t2s", "s2t")


@lru_cache(maxsize=1)
def _forms_converters() -> tuple[tuple["object", ...], tuple["object", ...]]:
    import opencc  # loaded on first use (0.1 s)

    return (tuple(opencc.OpenCC(k) for k in _REGIONAL),
            tuple(opencc.OpenCC(k) for k in _SCRIPT))


@lru_cache(maxsize=65536)
def regional_forms(char: str) -> frozenset[str]:
    """The other regional standard forms of the single character `char`, those OpenCC's
    dictionaries map it to or from (jp2t t2jp: Japanese 新字體/舊字體; tw2t t2tw; hk2t t2hk), less
    its simplified or traditional counterpart (t2s, s2t): 德 -> {徳}, 為 -> {爲}, 隱 -> {隠}; none
    for 書 (书 is its simplified form). For pipeline/page/engines/variants.py."""
    regional, script = _forms_converters()
    found = {c.convert(char) for c in regional}  # type: ignore[attr-defined]
    found -= {char} | {c.convert(char) for c in script}  # type: ignore[attr-defined]
    return frozenset(f for f in found if len(f) == 1)


def to_search_form(text: str) -> str:
    """The normal form both the index and queries use; len(result) == len(text)."""
    return to_simplified(text).translate(_FOLD)
