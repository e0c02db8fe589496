"""The journal export of closed months read from a stored copy (issue 15).

Why: a month's export is ~48k journals and ~122k ledger lines at 100k readers. Live,
they are read by ~48k index probes into pages scattered over the whole journal (the
groups of one month are not stored together), which is most of the ~1 s it took. A
sum cannot stand in for them (the export lists every line), so when a month rolls
(`rollup_build.build_journal`, the `journal` source) its journals are copied into
`report_export_journals`: one row per journal and currency, in export order, lines
as arrays (~7 MB a month at 100k readers, read in one short index range scan).

What is stored is what does not change once the month is closed and clean: journal
ids, dates, memos, each line's account (an index into `ACCOUNT_KEYS`) and amount.
Applied when read, as the live export does:
- the reader's name or email (joined by id: a rename, or an erasure, shows at once);
- account names and codes from settings (`accounting.chart`), and the CSV text itself
  (accounting_csv's `_layout`, the same SQL as the live file).
Dates are the outlet-local journal dates at roll time: `report_export_months.layout`
records the zone (and the account key list), and a month built with another one is
read live.

Which months: those `rollup.current` says are rolled and clean for the `journal`
source (the triggers of migration 0009 mark a month dirty for any change to its
ledger lines or journal groups, memos included; such a month is read live until the
next roll-up rebuilds its copy). A month whose copy the live export would refuse (an
unbalanced journal, a line without an export account) is read live too, so the same
409 is raised. The open month, later months, SQLite: always live.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import delete, select, text

from membership.csv_safe import DANGEROUS_PREFIXES
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import next_month, outlet_zone
from membership.ledger.models import Account
from membership.money import decimals
from membership.reports import accounting, accounting_csv, rollup
from membership.reports.periods import without_jit
from membership.reports.rollup_models import ReportExportJournal, ReportExportMonth

# Every (account, stream) a ledger line can carry; a stored line's account is its
# 1-based position here. Part of the layout: a new account or stream re-reads live.
ACCOUNT_KEYS = tuple(f"{account.value}|{stream.value if stream else ''}" for account in Account
                     for stream in (None, *Stream))

BUILD = """
INSERT INTO report_export_journals (month, currency, seq, journal_id, reader_id, day, memo, accounts, amounts)
SELECT t.period, e.currency,
       row_number() OVER (PARTITION BY t.period, e.currency ORDER BY t.occurred_at, t.id),
       t.id, t.reader_id,
       CASE WHEN date_trunc('month', timezone(:zone, t.occurred_at))::date = t.period
            THEN timezone(:zone, t.occurred_at)::date ELSE t.period END,
       t.memo, e.accounts, e.amounts
FROM journal_transactions t
CROSS JOIN LATERAL (
    SELECT l.currency,
           array_agg(array_position(CAST(:keys AS text[]), l.account || '|' || coalesce(l.stream, ''))::smallint
                     ORDER BY l.id) AS accounts,
           array_agg(l.amount_minor ORDER BY l.id) AS amounts
    FROM ledger_entries l WHERE l.transaction_id = t.id GROUP BY l.currency) AS e
WHERE t.period = ANY(:months)
ORDER BY 1, 2, 3
"""

# Refused as the live export refuses: a journal whose lines do not sum to zero in the
# currency, or a line whose account and stream are not in ACCOUNT_KEYS.
SUMMARISE = """
INSERT INTO report_export_months (month, currency, layout, refused)
SELECT month, currency, :layout,
       bool_or((SELECT sum(a) FROM unnest(amounts) AS a) <> 0 OR array_position(accounts, NULL) IS NOT NULL)
FROM report_export_journals WHERE month = ANY(:months) GROUP BY month, currency
"""

# The live file's own cell SQL (accounting_csv._layout) over the stored columns; a
# journal's lines are rendered in their stored (entry id) order by its own subquery.
READ = """
SELECT (SELECT string_agg(j.head || {line} || j.tail || E'\\r\\n', '')
        FROM (SELECT (CAST(:ref_names AS text[]))[l.ref] AS name_cell,
                     (CAST(:ref_codes AS text[]))[l.ref] AS code_cell, l.amount
              FROM unnest(j.accounts, j.amounts) AS l(ref, amount)) AS cells)
FROM (SELECT {head} AS head, {tail} AS tail, accounts, amounts, month, seq
      FROM (SELECT 'M-' || s.journal_id AS journal_no, to_char(s.day, 'YYYY-MM-DD') AS day, s.memo,
                   coalesce(nullif(r.name, ''), nullif(r.email, ''), '') AS who,
                   s.accounts, s.amounts, s.month, s.seq
            FROM report_export_journals s LEFT JOIN readers r ON r.id = s.reader_id
            WHERE s.month >= :start AND s.month < :end AND s.currency = :currency) AS dated) AS j
ORDER BY month, seq
"""


def layout() -> str:
    """What a stored month's dates and account indexes depend on besides the journal."""
    keys = hashlib.sha256("\n".join(ACCOUNT_KEYS).encode()).hexdigest()[:16]
    return f"{outlet_zone().key};{keys}"


def build(months: list[date]) -> None:
    """Copy the journals of `months` (rolled, closed), replacing any earlier copy."""
    db.session.execute(delete(ReportExportJournal).where(ReportExportJournal.month.in_(months)))
    db.session.execute(delete(ReportExportMonth).where(ReportExportMonth.month.in_(months)))
    db.session.execute(text(BUILD), {"months": months, "zone": outlet_zone().key, "keys": list(ACCOUNT_KEYS)})
    db.session.execute(text(SUMMARISE), {"months": months, "layout": layout()})


def stored_months(start: date, end: date, currency: str) -> set[date]:
    """The months of [start, end) whose file is read from the copy: current (rolled,
    clean), built with today's layout and not refused; a current month with no copy in
    `currency` has no line in it (every journal of a rolled month is copied)."""
    if start.day != 1 or end.day != 1:
        return set()
    current = rollup.current(rollup.JOURNAL, rollup.month_firsts(start, end))
    if not current:
        return set()
    built = {month: (kind == layout() and not refused) for month, kind, refused in db.session.execute(
        select(ReportExportMonth.month, ReportExportMonth.layout, ReportExportMonth.refused).where(
            ReportExportMonth.currency == currency, ReportExportMonth.month.in_(sorted(current))))}
    return {month for month in current if built.get(month, True)}


def stored_part(start: date, end: date, currency: str, target: str) -> str:
    """The lines of the stored months [start, end), byte for byte the live ones."""
    refs = accounting._refs(accounting.chart())
    ordered = [refs[(account, stream or None)] for account, stream in (key.split("|") for key in ACCOUNT_KEYS)]
    params: dict[str, Any] = {
        "start": start, "end": end, "currency": currency, "dangerous": list(DANGEROUS_PREFIXES),
        "whitespace": accounting_csv.WHITESPACE, "tax_rate": accounting_csv.rendered(accounting.XERO_TAX_RATE),
        "ref_names": [accounting_csv.rendered(r.name) for r in ordered],
        "ref_codes": [accounting_csv.rendered(r.code) for r in ordered]}
    sql = READ.format(**accounting_csv._layout(target, decimals(currency)))
    return "".join(db.session.execute(text(sql), params).scalars())


def csv_file(start: date, end: date, currency: str, target: str) -> str:
    """`accounting_csv.csv_file`, with stored months read from the copy: runs of
    consecutive months alternate between the copy and the live query, in month order
    (the export is ordered by month first), and refusals come from the live runs."""
    stored = stored_months(start, end, currency)
    if not stored:
        return accounting_csv.csv_file(start, end, currency, target)
    without_jit()  # the copy's rendering is one-shot string work JIT only slows down
    bodies: list[str] = []
    unbalanced: list[str] = []
    missing = False
    for first, after, from_copy in _runs(rollup.month_firsts(start, end), stored):
        if from_copy:
            bodies.append(stored_part(first, after, currency, target))
            continue
        body, bad, unmapped = accounting_csv.live_part(first, after, currency, target)
        bodies.append(body)
        unbalanced += bad
        missing = missing or unmapped
    return accounting_csv.checked(accounting_csv.header(target), bodies, unbalanced, missing, currency)


def _runs(months: list[date], stored: set[date]) -> list[tuple[date, date, bool]]:
    """Consecutive months as [first, after-last) runs, each all stored or all live."""
    out: list[tuple[date, date, bool]] = []
    for month in months:
        from_copy = month in stored
        if out and out[-1][2] == from_copy:
            out[-1] = (out[-1][0], next_month(month), from_copy)
        else:
            out.append((month, next_month(month), from_copy))
    return out
