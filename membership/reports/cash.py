"""Monthly cash summary (REVENUE.md report 1, "Accounting basis"): per accounting month,
stream and currency, the money that moved through Stripe, tied to its balance transactions.

Source: the double-entry journal, not the Payment/Refund/Dispute rows, so the summary
is the books finance closes. Each money event is one journal group whose cash side is
its `stripe_clearing` entry (= the balance transaction's `net`) and its fee entry
(`processor_fees` or `dispute_fees` = the balance transaction's `fee`); so a group's
gross (= the balance transaction's `amount`) is clearing + fee. Other lines (revenue,
deferred, contra accounts) are the accrual side and are not read here.

Month: the journal's `period`, i.e. the accounting month a group posted to: the event's
month in the outlet's time zone, or, when finance had already closed that month, the
first open month after it (journal.open_period). A late event therefore shows in the
month it was booked, never re-opening a closed month. A period is reported when its
first day lies in [start, end): ask for whole months.

Figures per (period, stream, currency); every amount in minor units of that currency,
never summed across currencies:
- gross_charges: the gross of kind `charge` groups (settled charges).
- refunds: money returned by refunds (kind `refund`) net of refunds that later failed
  (kind `refund_failure`, the mirror group); shown positive. A failure booked in a later
  month than its refund makes that month's figure negative: that is the cash truth.
- disputes: funds Stripe withdrew for chargebacks (kind `dispute`), positive.
  REVENUE.md says "disputes lost", but a withdrawal is money out the day it happens,
  whether or not the dispute is later won; so withdrawals and reinstatements
  (`dispute_reversals`, kind `dispute_reversal`: funds returned when a dispute is won)
  are two lines, and a won dispute nets to zero across them. This is what ties to the
  balance transactions.
- net_sales = gross_charges - refunds - disputes + dispute_reversals.
- fees: every fee entry of those groups: `processor_fees` (charge fees, any refund
  fees) plus `dispute_fees` (withdrawal fee, less any fee returned on reinstatement);
  both parts are shown too.
- net_received = net_sales - fees = the sum of those groups' clearing entries, i.e.
  the sum of the balance transactions' `net` (the tests assert this identity).
- counts: groups of each kind (one per balance transaction).
- unique_payers: distinct readers (journal_transactions.reader_id) with a charge in the
  cell; charges without a known reader are not payers. In the per-currency totals it is
  distinct over the whole range and every stream, so it is not the sum of the cells.
Payouts, payout attributions and recognition are not sales and are left out: payouts
are the payout reconciliation report's, recognition the deferred-revenue report's.

Everything is aggregated in the database: one GROUP BY pass over the journal x ledger join
for the cells, one for the per-currency payers. Closed periods are read from their
roll-up (rollup.py): the same cell rows, and per reader a bitmask of the months they
paid in, so distinct payers over many months are one count over ~100k rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from membership.reports import rollup
from membership.reports.periods import index_probes, without_jit
from membership.reports.rollup_models import ReportCashCell, ReportCashPayer

NAME, VERSION = "cash-summary", 1
KINDS = ("charge", "refund", "refund_failure", "dispute", "dispute_reversal")
FEE_ACCOUNTS = (Account.PROCESSOR_FEES, Account.DISPUTE_FEES)
CASH_ACCOUNTS = (Account.STRIPE_CLEARING, *FEE_ACCOUNTS)
LIVE_FEW = 2  # live months read by index probes when the rest is rolled (periods.index_probes)
UNATTRIBUTED = "unattributed"  # a line without a stream; postings of these kinds always carry one


@dataclass(frozen=True)
class Figures:
    """The money and counts of one cell (or of a currency's totals), in minor units."""

    gross_charges_minor: int
    refunds_minor: int
    disputes_minor: int
    dispute_reversals_minor: int
    net_sales_minor: int
    processor_fees_minor: int
    dispute_fees_minor: int
    fees_minor: int
    net_received_minor: int
    charge_count: int
    refund_count: int
    refund_failure_count: int
    dispute_count: int
    dispute_reversal_count: int
    unique_payers: int


FIGURES = tuple(f.name for f in fields(Figures))


@dataclass
class _Tally:
    """Sums the grouped rows of one cell; `figures()` derives the lines from them."""

    gross: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    clearing: int = 0
    processor_fees: int = 0
    dispute_fees: int = 0
    payers: int = 0

    def add_money(self, kind: str, account: Account, amount: int) -> None:
        """One (kind, account) sum: a group's gross is its clearing plus its fee."""
        self.gross[kind] += amount
        if account is Account.STRIPE_CLEARING:
            self.clearing += amount
        elif account is Account.PROCESSOR_FEES:
            self.processor_fees += amount
        else:
            self.dispute_fees += amount

    def figures(self) -> Figures:
        """Gross is signed as Stripe signs it (money out negative); the lines show money
        out as positive. net_received is the clearing sum itself, not net_sales - fees,
        so the identity between them is a real check of the books (see the tests)."""
        g = self.gross
        refunds, disputes = -(g["refund"] + g["refund_failure"]), -g["dispute"]
        return Figures(
            gross_charges_minor=g["charge"], refunds_minor=refunds, disputes_minor=disputes,
            dispute_reversals_minor=g["dispute_reversal"],
            net_sales_minor=g["charge"] - refunds - disputes + g["dispute_reversal"],
            processor_fees_minor=self.processor_fees, dispute_fees_minor=self.dispute_fees,
            fees_minor=self.processor_fees + self.dispute_fees, net_received_minor=self.clearing,
            charge_count=self.counts["charge"], refund_count=self.counts["refund"],
            refund_failure_count=self.counts["refund_failure"], dispute_count=self.counts["dispute"],
            dispute_reversal_count=self.counts["dispute_reversal"], unique_payers=self.payers,
        )


@dataclass(frozen=True)
class CashCell:
    period: date
    stream: str
    currency: str
    figures: Figures


@dataclass(frozen=True)
class CashTotals:
    currency: str
    figures: Figures


@dataclass(frozen=True)
class CashSummary:
    start: date
    end: date
    cells: list[CashCell]
    totals: list[CashTotals]


def cash_summary(start: date, end: date) -> CashSummary:
    cells: dict[tuple[date, str, str], _Tally] = defaultdict(_Tally)
    totals: dict[str, _Tally] = defaultdict(_Tally)
    without_jit()  # JIT compiled each pass for ~0.4 s at 100k readers, saving nothing
    periods = rollup.month_firsts(start, end)
    rolled = rollup.current(rollup.JOURNAL, periods)
    live = [p for p in periods if p not in rolled]
    few = bool(rolled) and len(live) <= LIVE_FEW  # rolled: PostgreSQL only
    with index_probes(few):
        if few and live:
            live_rows, per_currency = _live_once(rolled, live)
            rows = _rolled_cells(rolled) + live_rows
        else:
            rows = _rolled_cells(rolled) + _cells(live)
            per_currency = _payers_per_currency(rolled, live)
    for period, kind, stream, currency, clearing, processor_fees, dispute_fees, groups, payers in rows:
        cell = cells[(period, _stream(stream), currency)]
        for tally in (cell, totals[currency]):
            tally.add_money(kind, Account.STRIPE_CLEARING, int(clearing))
            tally.add_money(kind, Account.PROCESSOR_FEES, int(processor_fees))
            tally.add_money(kind, Account.DISPUTE_FEES, int(dispute_fees))
            tally.counts[kind] += int(groups)
        if kind == "charge":
            cell.payers = int(payers)
    for currency, payers in per_currency:
        totals[currency].payers = int(payers)
    return CashSummary(
        start, end,
        [CashCell(p, s, c, t.figures()) for (p, s, c), t in sorted(cells.items())],
        [CashTotals(c, t.figures()) for c, t in sorted(totals.items())],
    )


def _stream(stream: Any) -> str:
    return Stream(stream).value if stream is not None else UNATTRIBUTED


def _cash_lines(periods: list[date], *columns: Any) -> Select[Any]:
    """The cash lines (clearing and fees) of the money kinds posted to `periods` (first days)."""
    return (select(*columns).select_from(JournalTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == JournalTransaction.id)
            .where(JournalTransaction.period.in_(periods),
                   JournalTransaction.kind.in_(KINDS), LedgerEntry.account.in_(CASH_ACCOUNTS)))


def _on(account: Account) -> Any:
    """One account's share of the cell's amount (conditional aggregation: one pass for all)."""
    return func.sum(case((LedgerEntry.account == account, LedgerEntry.amount_minor), else_=0))


def cells_query(periods: list[date]) -> Select[Any]:
    """Per (period, kind, stream, currency): clearing and fee sums, groups and distinct
    readers, in one pass over the join. Every posted group of these kinds has a clearing
    or a fee line (if both were zero its gross would be zero: nothing posts). The
    roll-up stores exactly these rows for a closed period."""
    keys = (JournalTransaction.period, JournalTransaction.kind, LedgerEntry.stream, LedgerEntry.currency)
    return _cash_lines(periods, *keys, *(_on(a) for a in CASH_ACCOUNTS),
                       func.count(distinct(JournalTransaction.id)),
                       func.count(distinct(JournalTransaction.reader_id))).group_by(*keys)


def _cells(periods: list[date]) -> list[Any]:
    return list(db.session.execute(cells_query(periods))) if periods else []


def _rolled_cells(periods: set[date]) -> list[Any]:
    c = ReportCashCell
    return list(db.session.execute(
        select(c.period, c.kind, c.stream, c.currency, c.clearing_minor, c.processor_fees_minor,
               c.dispute_fees_minor, c.groups, c.payers).where(c.period.in_(sorted(periods))))) if periods else []


def payer_months_query(periods: list[date]) -> Select[Any]:
    """(currency, reader, year, months bitmask) of the charges posted to `periods`: the
    roll-up's payer rows (the bits of distinct months are distinct powers, so their
    distinct sum is their OR, on every database)."""
    year, month = (cast(extract(part, JournalTransaction.period), Integer) for part in ("year", "month"))
    keys = (LedgerEntry.currency, JournalTransaction.reader_id, year)
    return (_cash_lines(periods, *keys, func.sum(distinct(literal(1).op("<<")(month - 1))))
            .where(JournalTransaction.kind == "charge", JournalTransaction.reader_id.is_not(None))
            .group_by(*keys))


def _payers_per_currency(rolled: set[date], live: list[date]) -> list[Any]:
    """Distinct payers per currency over the rolled and the live periods together."""
    live_payers = (_cash_lines(live, LedgerEntry.currency.label("currency"),
                               JournalTransaction.reader_id.label("reader_id"))
                   .where(JournalTransaction.kind == "charge")) if live else None
    query = _payers_query(rolled, live_payers)
    return list(db.session.execute(query)) if query is not None else []


def _payers_query(rolled: set[date], live_payers: Select[Any] | None) -> Select[Any] | None:
    """(currency, distinct readers) over the live payers' (currency, reader_id) rows and
    the rolled periods' payer bitmasks."""
    parts: list[Any] = [live_payers] if live_payers is not None else []
    masks: dict[int, int] = defaultdict(int)
    for period in rolled:
        masks[period.year] |= 1 << (period.month - 1)
    if masks:
        p = ReportCashPayer
        parts.append(select(p.currency.label("currency"), p.reader_id.label("reader_id")).where(
            or_(*(and_(p.year == year, p.months.op("&")(mask) != 0) for year, mask in sorted(masks.items())))))
    if not parts:
        return None
    both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return select(both.c.currency, func.count(distinct(both.c.reader_id)).label("payers")).group_by(both.c.currency)


def _live_once(rolled: set[date], live: list[date]) -> tuple[list[Any], list[Any]]:
    """`_cells(live)` and `_payers_per_currency(rolled, live)` in one statement over one
    read of the live months' cash lines (PostgreSQL, a few live months beside roll-ups:
    the open month's ~50k groups are probed through the indexes, and their pages,
    scattered and larger than shared_buffers, cost as much the second time)."""
    lines = _cash_lines(live, JournalTransaction.period, JournalTransaction.kind, LedgerEntry.stream,
                        LedgerEntry.currency, LedgerEntry.account, LedgerEntry.amount_minor,
                        JournalTransaction.id.label("jid"), JournalTransaction.reader_id,
                        ).cte("live_lines").prefix_with("MATERIALIZED")
    keys = (lines.c.period, lines.c.kind, lines.c.stream, lines.c.currency)
    cells = select(literal("cell").label("part"), *keys,
                   *(func.sum(case((lines.c.account == a, lines.c.amount_minor), else_=0)) for a in CASH_ACCOUNTS),
                   func.count(distinct(lines.c.jid)), func.count(distinct(lines.c.reader_id))).group_by(*keys)
    payers = _payers_query(rolled, select(lines.c.currency.label("currency"), lines.c.reader_id.label("reader_id"))
                           .where(lines.c.kind == "charge"))
    assert payers is not None  # it has the live part
    per = payers.subquery()
    blank = (cast(null(), Date), cast(null(), String), cast(null(), String))
    padded = select(literal("payers"), *blank, per.c.currency, *(cast(null(), BigInteger) for _ in CASH_ACCOUNTS),
                    cast(null(), BigInteger), per.c.payers)
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # ~100k live lines and ~290k payers sort in memory
    rows = list(db.session.execute(union_all(cells, padded)))
    return ([tuple(r[1:]) for r in rows if r[0] == "cell"], [(r[4], r[-1]) for r in rows if r[0] == "payers"])
