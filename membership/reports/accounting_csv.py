"""The journal export's CSV written by PostgreSQL (issue 15): byte for byte the file
`accounting.csv_rows` + `csv_safe.csv_text` write, without a Python object per line.

Why: a month is ~120k lines at 100k readers; building, neutralising and writing them
in Python took ~1.4 s, more than the query. Here each line is one text value built by
the query, so Python only joins them.

The same rules, in SQL:
- Text a reader or processor can write (memo, the reader's name or email) is
  neutralised as `csv_safe.safe_cell` does (a leading `'` before a dangerous first
  character, the prefixes taken from csv_safe itself), then quoted as Python's csv
  module quotes (QUOTE_MINIMAL: a field holding `,`, `"`, CR or LF is wrapped in quotes,
  inner quotes doubled).
- Account names and codes come from settings: rendered once per (account, stream) in
  Python by the csv module itself and passed in as an array.
- Journal numbers, ISO dates and amounts cannot hold a special character. Amounts are
  `accounting.formatter`'s text (integer arithmetic: sign, whole units, zero-padded
  fraction); numbers are never neutralised, as in csv_safe.
- Xero's narration is `f"{journal_no} {memo}".strip()`: `rtrim` with every character
  Python's `str.isspace` accepts (the journal number never starts with one).
The tests compare this file with the Python one over tricky text (tests/reports).
PostgreSQL only: SQLite keeps the Python writer (it has no time zones to date a journal).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from typing import Any

from sqlalchemy import text

from membership.csv_safe import DANGEROUS_PREFIXES, csv_text, safe_cell
from membership.extensions import db
from membership.ledger.journal import outlet_zone
from membership.money import decimals
from membership.reports import accounting
from membership.reports.periods import without_jit

WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def supported() -> bool:
    return bool(db.session.get_bind().dialect.name == "postgresql")


def _cell(sql: str) -> str:
    """SQL text of one reader-writable text cell: neutralised, then quoted if it must be."""
    safe = f"(CASE WHEN left({sql}, 1) = ANY(:dangerous) THEN '''' || {sql} ELSE {sql} END)"
    return (f"(CASE WHEN {sql} ~ '[,\"\\r\\n]' THEN '\"' || replace({safe}, '\"', '\"\"') || '\"' "
            f"ELSE {safe} END)")


def _amount(sql: str, places: int) -> str:
    """`accounting.formatter(currency)(amount)` as SQL, for a bigint expression."""
    if places == 0:
        return f"({sql})::text"
    scale = 10**places
    return (f"((CASE WHEN {sql} < 0 THEN '-' ELSE '' END) || (abs({sql}) / {scale})::text || '.' || "
            f"lpad((abs({sql}) % {scale})::text, {places}, '0'))")


def rendered(value: Any) -> str:
    """One cell as csv_text writes it (inside a row of more than one cell)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([safe_cell(value), ""])
    return out.getvalue()[:-2]  # the row is "<cell>,\n"


LINES = """
WITH journals AS MATERIALIZED (
    SELECT t.id AS jid, t.period, t.occurred_at, 'M-' || t.id AS journal_no, t.memo,
           coalesce(nullif(r.name, ''), nullif(r.email, ''), '') AS who,
           timezone(:zone, t.occurred_at)::date AS local_day
    FROM journal_transactions t
    LEFT JOIN readers r ON r.id = t.reader_id
    WHERE t.period >= :start AND t.period < :end
), lines AS (
    SELECT h.jid, h.period, h.occurred_at, e.id AS eid, h.head, h.tail, e.amount_minor AS amount,
           array_position(CAST(:ref_keys AS text[]), e.account || '|' || coalesce(e.stream, '')) AS ref
    FROM (SELECT jid, period, occurred_at, {head} AS head, {tail} AS tail
          FROM (SELECT journals.*,
                       to_char(CASE WHEN date_trunc('month', local_day)::date = period THEN local_day
                                    ELSE period END, 'YYYY-MM-DD') AS day
                FROM journals) AS dated
          ORDER BY period, occurred_at, jid OFFSET 0) AS h
    CROSS JOIN LATERAL (SELECT e.id, e.account, e.stream, e.amount_minor FROM ledger_entries e
                        WHERE e.transaction_id = h.jid AND e.currency = :currency OFFSET 0) AS e
), cells AS (
    SELECT lines.*, (CAST(:ref_names AS text[]))[ref] AS name_cell, (CAST(:ref_codes AS text[]))[ref] AS code_cell
    FROM lines
)
SELECT jid, string_agg(head || {line} || tail || E'\\r\\n', '' ORDER BY eid), sum(amount) <> 0,
       bool_or(ref IS NULL)
FROM cells GROUP BY period, occurred_at, jid ORDER BY period, occurred_at, jid
"""


def _layout(target: str, places: int) -> dict[str, str]:
    """The line's SQL in three parts: what is the journal's (rendered once per journal,
    ~40k a month), what is the line's, and the journal's again."""
    if target == "quickbooks":
        debit = f"(CASE WHEN amount > 0 THEN {_amount('amount', places)} ELSE '' END)"
        credit = f"(CASE WHEN amount < 0 THEN {_amount('-amount', places)} ELSE '' END)"
        return {"head": "journal_no || ',' || day || ','", "line": f"name_cell || ',' || {debit} || ',' || {credit}",
                "tail": f"',' || {_cell('memo')} || ',' || {_cell('who')}"}
    narration = _cell("rtrim(journal_no || ' ' || memo, :whitespace)")
    return {"head": f"{narration} || ',' || day || ',' || {_cell('memo')} || ','",
            "line": f"code_cell || ',' || :tax_rate || ',' || {_amount('amount', places)}", "tail": "''"}


def statement(start: date, end: date, currency: str, target: str) -> tuple[str, dict[str, Any]]:
    """The query and its parameters (bench/reports.py explains them)."""
    refs = accounting._refs(accounting.chart())
    keys = [f"{account}|{stream or ''}" for account, stream in refs]
    return LINES.format(**_layout(target, decimals(currency))), {
        "start": start, "end": end, "currency": currency, "zone": outlet_zone().key,
        "dangerous": list(DANGEROUS_PREFIXES), "whitespace": WHITESPACE,
        "tax_rate": rendered(accounting.XERO_TAX_RATE), "ref_keys": keys,
        "ref_names": [rendered(r.name) for r in refs.values()],
        "ref_codes": [rendered(r.code) for r in refs.values()]}


def csv_file(start: date, end: date, currency: str, target: str) -> str:
    """The whole import file (header included); refuses (409) an unbalanced journal
    exactly as `accounting.journal_export` does."""
    body, unbalanced, missing = live_part(start, end, currency, target)
    return checked(header(target), [body], unbalanced, missing, currency)


def live_part(start: date, end: date, currency: str, target: str) -> tuple[str, list[str], bool]:
    """The lines of the months [start, end) computed live, the journal numbers that do
    not balance, and whether a line has no export account; unchecked (`checked` refuses)."""
    without_jit()
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # the month's lines sort in memory
    sql, params = statement(start, end, currency, target)
    rows = db.session.execute(text(sql), params).all()
    return ("".join(lines for _jid, lines, *_rest in rows), [f"M-{jid}" for jid, _lines, bad, _missing in rows if bad],
            any(missing for *_rest, missing in rows))


def header(target: str) -> str:
    return csv_text(accounting.QUICKBOOKS_HEADER if target == "quickbooks" else accounting.XERO_HEADER, [])


def checked(head: str, bodies: list[str], unbalanced: list[str], missing: bool, currency: str) -> str:
    """The file, or the export's refusals in its order: unbalanced journals (409), then
    a line without an export account."""
    if unbalanced:
        raise accounting.UnbalancedExport(f"journals {', '.join(unbalanced)} do not balance in {currency}")
    if missing:
        raise KeyError("a ledger line's account and stream have no export account")
    return head + "".join(bodies)
