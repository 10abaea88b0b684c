"""The query language: words, "exact strings", AND/OR/NOT, parentheses and field filters.

    电力 工业                  both words (AND is the default); ranked by relevance
    "造生产"                   the exact string, wherever it occurs, across word boundaries
    “人民政府” 「發電機組」     Chinese quotation marks work too
    发电 OR 供电               either
    铁路 NOT 公路  /  -公路     exclude (also -"exact string", -field:value, -(...))
    (水电站 OR 火电厂) 1958年   grouping; full-width （ ） work too
    collection:电力工业史  year:1950-1960  period:建国前  subject:经济  person:王德明
    place:株洲市  contributor:钱玉芬  doctype:回忆录  title:电厂  field:"value with spaces"

Operators are upper case (AND, OR, NOT, also && || !), so the English word "or" stays a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from pipeline.errors import UsageError

FILTER_FIELDS = ("collection", "year", "period", "subject", "person", "place", "organization",
                 "contributor", "doctype", "keyword", "title")
_OPEN_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_OPERATORS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT", "!": "NOT"}


@dataclass(frozen=True)
class Phrase:
    """An exact string (quoted)."""

    text: str


@dataclass(frozen=True)
class Words:
    """Unquoted text: its words, all required, ranked by relevance."""

    text: str


@dataclass(frozen=True)
class FieldFilter:
    """field:value, or field:lo-hi for years."""

    name: str
    value: str


@dataclass(frozen=True)
class And:
    """All children."""

    children: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    """Any child."""

    children: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    """Pages not matching the child."""

    child: "Node"


Node = Union[Phrase, Words, FieldFilter, And, Or, Not]

_FIELD = re.compile(r"([A-Za-z_]+)[:：]")
_BARE = re.compile(r"[^\s()（）\"“”「」『』]+")


def _quoted(query: str, pos: int) -> tuple[str, int]:
    """The text of a quoted string starting at `pos` and the position after it."""
    close = _OPEN_QUOTES[query[pos]]
    end = query.find(close, pos + 1)
    if end < 0:  # an unclosed quote runs to the end of the query
        return query[pos + 1:], len(query)
    return query[pos + 1:end], end + 1


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    n = len(query)
    while pos < n:
        ch = query[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch in "(（":
            out.append(("(", ch))
            pos += 1
            continue
        if ch in ")）":
            out.append((")", ch))
            pos += 1
            continue
        if ch == "-" and pos + 1 < n and not query[pos + 1].isspace():
            out.append(("NOT", "-"))
            pos += 1
            continue
        if ch in _OPEN_QUOTES:
            text, pos = _quoted(query, pos)
            out.append(("phrase", text))
            continue
        field = _FIELD.match(query, pos)
        if field and field.group(1).lower() in FILTER_FIELDS:
            name = field.group(1).lower()
            pos = field.end()
            if pos < n and query[pos] in _OPEN_QUOTES:
                value, pos = _quoted(query, pos)
            else:
                m = _BARE.match(query, pos)
                value = m.group(0) if m else ""
                pos = m.end() if m else pos
            if not value.strip():
                raise UsageError(f"{name}: needs a value, e.g. {name}:{_EXAMPLES.get(name, '...')}")
            out.append(("field", f"{name}\x00{value}"))
            continue
        if field:
            raise UsageError(f"unknown field {field.group(1)!r} in query; "
                             f"fields: {', '.join(FILTER_FIELDS)}")
        m = _BARE.match(query, pos)
        assert m is not None  # ch is neither space, parenthesis nor quote
        word = m.group(0)
        pos = m.end()
        if word in _OPERATORS:
            out.append((_OPERATORS[word], word))
        else:
            out.append(("word", word))
    return out


_EXAMPLES = {"year": "1950-1960", "period": "建国前", "subject": "经济", "collection": "电力工业史"}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children: list[Node] = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                continue
            children.append(self.parse_unary())
        if not children:
            if self.peek() == "OR" or (self.i and self.tokens[self.i - 1][0] == "OR"):
                raise UsageError("OR needs something on both sides")
            raise UsageError("empty query (or parentheses with nothing inside)")
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        kind, _ = self.tokens[self.i]
        if kind == "NOT":
            self.take()
            if self.peek() in (None, ")", "OR", "AND", "NOT"):
                raise UsageError("NOT (or -) needs something to exclude right after it")
            return Not(self.parse_atom())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        kind, value = self.take()
        if kind == "(":
            node = self.parse_or()
            if self.peek() != ")":
                raise UsageError("unbalanced parentheses in query")
            self.take()
            return node
        if kind == ")":
            raise UsageError("unbalanced parentheses in query")
        if kind == "phrase":
            if not value.strip():
                raise UsageError("empty quoted string in query")
            return Phrase(value)
        if kind == "field":
            name, _, field_value = value.partition("\x00")
            return FieldFilter(name, field_value)
        if kind in ("AND", "OR"):
            raise UsageError(f"{value} needs something on both sides")
        return Words(value)


def parse_query(query: str) -> Node:
    """Parse a query string into a tree; UsageError with the reason when it is malformed."""
    tokens = _tokens(query)
    if not tokens:
        raise UsageError("empty query")
    parser = _Parser(tokens)
    node = parser.parse_or()
    if parser.i != len(tokens):
        raise UsageError("unbalanced parentheses in query")
    return node


def positive_terms(node: Node) -> tuple[list[str], list[str]]:
    """(phrases, word texts) that are not under a NOT: what to highlight and rank by."""
    phrases: list[str] = []
    words: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Phrase):
            phrases.append(n.text)
        elif isinstance(n, Words):
            words.append(n.text)
        elif isinstance(n, (And, Or)):
            for c in n.children:
                walk(c)

    walk(node)
    return phrases, words
