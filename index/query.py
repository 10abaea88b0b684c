"""The query language: words, "exact strings", AND/OR/NOT, parentheses and field filters.

    电力 工业                  both words (AND is the default)
    "造生产"                   the exact string, wherever it occurs, across word boundaries
    发电 OR 供电               either
    铁路 NOT 公路  /  -公路     exclude
    (水电站 OR 火电厂) 1958年   grouping
    collection:电力工业史  year:1950-1960  period:建国前  subject:经济  person:王德明
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from pipeline.errors import UsageError

FILTER_FIELDS = ("collection", "year", "period", "subject", "person", "place", "organization",
                 "contributor", "doctype", "keyword", "title")


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

_TOKEN = re.compile(r'\s*(?:(?P<field>[A-Za-z_]+):(?:"(?P<fq>[^"]*)"|(?P<fv>[^\s()"]+))'
                    r'|"(?P<phrase>[^"]*)"?|(?P<lp>\()|(?P<rp>\))|(?P<word>[^\s()"]+))')


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group("field") is not None:
            name = m.group("field").lower()
            if name not in FILTER_FIELDS:
                raise UsageError(f"unknown field {name!r} in query; fields: {', '.join(FILTER_FIELDS)}")
            out.append(("field", f"{name}\x00{m.group('fq') if m.group('fq') is not None else m.group('fv')}"))
        elif m.group("phrase") is not None:
            out.append(("phrase", m.group("phrase")))
        elif m.group("lp"):
            out.append(("(", "("))
        elif m.group("rp"):
            out.append((")", ")"))
        else:
            word = m.group("word")
            if word in ("AND", "OR", "NOT", "&&", "||"):
                out.append(({"&&": "AND", "||": "OR"}.get(word, word), word))
            else:
                out.append(("word", word))
    return out


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
        children = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                continue
            children.append(self.parse_unary())
        if not children:
            raise UsageError("empty query (or an operator with nothing on one side)")
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        kind, value = self.tokens[self.i]
        if kind == "NOT":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise UsageError("NOT needs something to exclude")
            return Not(self.parse_unary())
        if kind == "word" and value.startswith("-") and len(value) > 1:
            self.take()
            return Not(Words(value[1:]))
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
            return Phrase(value)
        if kind == "field":
            name, _, field_value = value.partition("\x00")
            return FieldFilter(name, field_value)
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
