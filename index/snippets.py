"""Snippets: the original page text around the matches, the matched strings marked «like this».

Matches are found in the compact normal form (the form exact search matches) and mapped back
to character offsets in the original text, so a highlight covers exactly the original
characters, in their own script, with any white space OCR put inside them.
"""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.text.normalize import to_search_form

SNIPPET_CONTEXT = 40  # characters each side of a match
MAX_FRAGMENTS = 3
MARK_START, MARK_END = "«", "»"
_SPACES = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S+")


def compact_map(text: str) -> tuple[str, list[int]]:
    """The compact normal form of `text` and, for each of its characters, the original offset."""
    norm = to_search_form(text)
    offsets: list[int] = []
    for run_ in _NON_SPACE.finditer(norm):
        offsets.extend(range(run_.start(), run_.end()))
    return _SPACES.sub("", norm), offsets


def find_matches(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Every occurrence of each needle (compact normal form) as (start, end) in `text`."""
    compact, offsets = compact_map(text)
    spans: list[tuple[int, int]] = []
    for needle in {n for n in needles if n}:
        start = compact.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = compact.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def make_snippet(text: str, matches: list[tuple[int, int]], context: int = SNIPPET_CONTEXT) -> str:
    """Up to MAX_FRAGMENTS fragments of original text around the matches, marked «like this».

    A fragment takes the next match while it stays within `context` characters of the previous
    one and the fragment's matched stretch within 2 x `context`; each shows about `context`
    characters on either side.
    """
    if not matches:
        return _one_line(text[: 2 * context])
    groups: list[list[tuple[int, int]]] = []
    for span in matches:
        if (groups and span[0] - groups[-1][-1][1] <= context
                and span[1] - groups[-1][0][0] <= 2 * context):
            groups[-1].append(span)
        else:
            groups.append([span])
    fragments = []
    previous_end = 0
    for group in groups[:MAX_FRAGMENTS]:
        start = max(0, group[0][0] - context, previous_end)
        end = min(len(text), group[-1][1] + context)
        previous_end = end
        out, pos = [], start
        for s, e in group:
            out.append(text[pos:s])
            out.append(MARK_START + text[s:e] + MARK_END)
            pos = e
        out.append(text[pos:end])
        fragment = _one_line("".join(out))
        fragments.append(("…" if start > 0 else "") + fragment + ("…" if end < len(text) else ""))
    return " ".join(fragments)


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\n\t\r\f]\s*", " ", text).strip()
