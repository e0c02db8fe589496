"""Stripe's search query language, the subset a billing backend writes.

Clauses are ``field:value`` (exact; case-insensitive for text), ``field~value``
(substring, at least 3 characters), ``field>n`` / ``<`` / ``>=`` / ``<=``
(numbers and timestamps), ``metadata['key']:value``, ``field:null``, and a
leading ``-`` to negate. Values are quoted with ``'`` or ``"`` (numbers and
``null`` may be bare). Clauses join with ``AND`` or ``OR`` but not both, at
most 10, as Stripe enforces. Each resource declares which fields it searches
and how to read them from a stored object; anything else is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import invalid

Getter = Callable[[dict[str, Any]], Any]

_TOKEN = re.compile(r"""\s*(?:(?P<join>AND|OR)\b|(?P<clause>(?P<neg>-)?(?P<field>[\w.]+)
    (?:\[\s*(?P<q>['"])(?P<key>[^'"]+)(?P=q)\s*\])?
    \s*(?P<op>>=|<=|:|~|>|<)\s*
    (?:(?P<vq>['"])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)|(?P<bare>[^\s'"]+))))""", re.X)


@dataclass
class Clause:
    field: str
    key: str | None
    op: str
    value: str | None  # None: null
    negate: bool


def parse(query: str) -> tuple[list[Clause], str]:
    """Clauses and how they join ("AND"/"OR"); a 400 naming ``query`` for anything else."""
    clauses: list[Clause] = []
    joins: set[str] = set()
    pos, expect_clause = 0, True
    text = query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or (m.group("join") is not None) == expect_clause:
            raise invalid(f"Invalid search query: {query!r}. Check the syntax near position {pos}.", "query")
        pos = m.end()
        if m.group("join"):
            joins.add(m.group("join"))
            expect_clause = True
            continue
        raw = m.group("value")
        value = raw.replace("\\'", "'").replace('\\"', '"') if raw is not None else m.group("bare")
        clauses.append(Clause(m.group("field"), m.group("key"), m.group("op"),
                              None if raw is None and value == "null" else value, bool(m.group("neg"))))
        expect_clause = False
    if not clauses or expect_clause:
        raise invalid("Invalid search query: it must contain at least one clause and end with one.", "query")
    if len(joins) > 1:
        raise invalid("Search queries cannot mix AND and OR.", "query")
    if len(clauses) > 10:
        raise invalid("Search queries can contain at most 10 clauses.", "query")
    return clauses, joins.pop() if joins else "AND"


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _test(have: Any, c: Clause) -> bool:
    if c.value is None:
        return have is None if c.op == ":" else False
    if c.op == "~":
        return have is not None and c.value.lower() in str(have).lower()
    if c.op == ":":
        if isinstance(have, bool):
            return str(have).lower() == c.value.lower()
        a, b = _number(have), _number(c.value)
        if a is not None and b is not None and not isinstance(have, str):
            return a == b
        return have is not None and str(have).lower() == c.value.lower()
    a, b = _number(have), _number(c.value)
    if a is None or b is None:
        return False
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[c.op]


def matcher(query: str, fields: dict[str, Getter], resource: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate for stored objects; unknown fields and misuse of ``~`` are refused up front."""
    clauses, join = parse(query)
    for c in clauses:
        name = "metadata" if c.key is not None else c.field
        if name not in fields or (c.key is not None and c.field != "metadata"):
            raise invalid(f"Field `{c.field}` is an unsupported search field for resource `{resource}`. "
                          f"See the search documentation for supported fields.", "query")
        if c.op == "~" and (c.value is None or len(c.value) < 3):
            raise invalid("Substring (~) search needs at least 3 characters.", "query")

    def one(o: dict[str, Any], c: Clause) -> bool:
        have = (o.get("metadata") or {}).get(c.key) if c.key is not None else fields[c.field](o)
        return _test(have, c) != c.negate

    if join == "OR":
        return lambda o: any(one(o, c) for c in clauses)
    return lambda o: all(one(o, c) for c in clauses)
