"""Where matched characters lie on the scan: the page text's character offsets mapped onto the
ALTO boxes of the page (in the scan's pixels).

Tesseract's ALTO gives a box per String, which for Chinese is one to a few characters; a String
of n characters is split into n equal cells along its line. The stored page text went through
clean-up (spaces dropped, punctuation made full-width, lines joined) and possibly proofreading,
so text and ALTO are aligned in the compact normal form (the form exact search matches) with
difflib, not assumed equal: a corrected character keeps the box of the character it replaced,
and characters the ALTO lacks get no box.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from lxml import etree

from pipeline.page.alto import parse_alto

from .snippets import compact_map

Span = tuple[int, int]


@dataclass(frozen=True)
class Box:
    """A rectangle on the scan, in its pixels."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, other: "Box") -> bool:
        """True when `other` lies wholly inside this box."""
        return (self.x <= other.x and self.y <= other.y and other.x + other.w <= self.x + self.w
                and other.y + other.h <= self.y + self.h)


@dataclass(frozen=True)
class _Cell:
    line: int
    x: float
    y: float
    w: float
    h: float
    doubt: int = -1  # the character's ALTO CC digit (0 sure .. 9 unsure), -1 when not given


class PageBoxes:
    """The character cells of one page's ALTO, aligned with the page's text."""

    def __init__(self, text: str, alto: str) -> None:
        self.cells: list[_Cell] = []
        chars: list[str] = []
        root = parse_alto(alto)
        for line_no, line in enumerate(root.iter("{*}TextLine") if root is not None else ()):
            for string in line.iter("{*}String"):
                _add_string(string, line_no, chars, self.cells)
        alto_compact, alto_offsets = compact_map("".join(chars))
        text_compact, self._text_offsets = compact_map(text)
        # compact index in the text -> index of its ALTO cell
        self._cell_of: dict[int, int] = {}
        self._same: set[int] = set()  # compact indices whose character is the ALTO's own
        matcher = difflib.SequenceMatcher(None, text_compact, alto_compact, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for k in range(i2 - i1):
                    self._cell_of[i1 + k] = alto_offsets[j1 + k]
                    if tag == "equal":
                        self._same.add(i1 + k)

    @classmethod
    def from_file(cls, text: str, alto_file: Path) -> "PageBoxes":
        """From a stored ALTO file (an empty set of cells when there is none)."""
        try:
            alto = alto_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            alto = ""
        return cls(text, alto)

    def boxes(self, span: Span) -> list[Box]:
        """The boxes covering the characters of text[start:end], one per line they are on."""
        start, end = span
        lo = bisect.bisect_left(self._text_offsets, start)
        hi = bisect.bisect_left(self._text_offsets, end)
        by_line: dict[int, list[_Cell]] = {}
        for i in range(lo, hi):
            cell_index = self._cell_of.get(i)
            if cell_index is not None:
                cell = self.cells[cell_index]
                by_line.setdefault(cell.line, []).append(cell)
        out = []
        for cells in by_line.values():
            x0 = min(c.x for c in cells)
            y0 = min(c.y for c in cells)
            x1 = max(c.x + c.w for c in cells)
            y1 = max(c.y + c.h for c in cells)
            out.append(Box(int(x0), int(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))))
        return out

    def line_spans(self) -> list[tuple[Span, Box]]:
        """Each ALTO line that holds characters of the text: the span of text it covers and its
        box on the scan, in text order (the proofreading editor outlines the cursor's line)."""
        lines: dict[int, list[tuple[int, _Cell]]] = {}
        for i, cell_index in self._cell_of.items():
            cell = self.cells[cell_index]
            lines.setdefault(cell.line, []).append((self._text_offsets[i], cell))
        out = []
        for found in lines.values():
            cells = [c for _, c in found]
            x0, y0 = min(c.x for c in cells), min(c.y for c in cells)
            x1, y1 = max(c.x + c.w for c in cells), max(c.y + c.h for c in cells)
            out.append(((min(o for o, _ in found), max(o for o, _ in found) + 1),
                        Box(int(x0), int(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)))))
        return sorted(out, key=lambda item: item[0])

    def doubtful(self, threshold: int) -> list[int]:
        """Offsets in the text of the characters the engine was unsure of (their ALTO CC digit
        `threshold` or more, pipeline/page/quality.py), in text order. A character an editor
        changed is not the engine's reading any more and is not among them."""
        return sorted(self._text_offsets[i] for i in self._same
                      if self.cells[self._cell_of[i]].doubt >= threshold)

    def all_boxes(self, spans: Sequence[Span]) -> list[list[Box]]:
        """`boxes` of each span."""
        return [self.boxes(s) for s in spans]


def _add_string(string: etree._Element, line_no: int, chars: list[str],
                cells: list[_Cell]) -> None:
    content = string.get("CONTENT") or ""
    try:
        x, y = float(string.get("HPOS", "")), float(string.get("VPOS", ""))
        w, h = float(string.get("WIDTH", "")), float(string.get("HEIGHT", ""))
    except ValueError:
        return
    # CC: one digit per character of CONTENT, space-separated (pipeline/page/quality.mark_alto)
    digits = (string.get("CC") or "").split()
    letters = [(c, int(digits[i]) if i < len(digits) and digits[i].isdigit() else -1)
               for i, c in enumerate(content) if not c.isspace()]
    if not letters:
        return
    n = len(letters)
    vertical = n > 1 and h > w  # a String taller than wide holds a column of characters
    for k, (letter, doubt) in enumerate(letters):
        chars.append(letter)
        if vertical:
            cells.append(_Cell(line_no, x, y + h * k / n, w, h / n, doubt))
        else:
            cells.append(_Cell(line_no, x + w * k / n, y, w / n, h, doubt))
