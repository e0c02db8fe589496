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
for the cells, one for the per-currency payers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import Select, case, distinct, func, select

from membership.extensions import db
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from membership.reports.periods import without_jit

NAME, VERSION = "cash-summary", 1
KINDS = ("charge", "refund", "refund_failure", "dispute", "dispute_reversal")
FEE_ACCOUNTS = (Account.PROCESSOR_FEES, Account.DISPUTE_FEES)
CASH_ACCOUNTS = (Account.STRIPE_CLEARING, *FEE_ACCOUNTS)
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
    for period, kind, stream, currency, clearing, processor_fees, dispute_fees, groups, payers in _cells(start, end):
        cell = cells[(period, _stream(stream), currency)]
        for tally in (cell, totals[currency]):
            tally.add_money(kind, Account.STRIPE_CLEARING, int(clearing))
            tally.add_money(kind, Account.PROCESSOR_FEES, int(processor_fees))
            tally.add_money(kind, Account.DISPUTE_FEES, int(dispute_fees))
            tally.counts[kind] += int(groups)
        if kind == "charge":
            cell.payers = int(payers)
    for currency, payers in _payers_per_currency(start, end):
        totals[currency].payers = int(payers)
    return CashSummary(
        start, end,
        [CashCell(p, s, c, t.figures()) for (p, s, c), t in sorted(cells.items())],
        [CashTotals(c, t.figures()) for c, t in sorted(totals.items())],
    )


def _stream(stream: Any) -> str:
    return str(stream.value) if stream is not None else UNATTRIBUTED


def _cash_lines(start: date, end: date, *columns: Any) -> Select[Any]:
    """The cash lines (clearing and fees) of the money kinds posted to periods in [start, end)."""
    return (select(*columns).select_from(JournalTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == JournalTransaction.id)
            .where(JournalTransaction.period >= start, JournalTransaction.period < end,
                   JournalTransaction.kind.in_(KINDS), LedgerEntry.account.in_(CASH_ACCOUNTS)))


def _on(account: Account) -> Any:
    """One account's share of the cell's amount (conditional aggregation: one pass for all)."""
    return func.sum(case((LedgerEntry.account == account, LedgerEntry.amount_minor), else_=0))


def _cells(start: date, end: date) -> list[Any]:
    """Per (period, kind, stream, currency): clearing and fee sums, groups and distinct
    readers, in one pass over the join. Every posted group of these kinds has a clearing
    or a fee line (if both were zero its gross would be zero: nothing posts)."""
    keys = (JournalTransaction.period, JournalTransaction.kind, LedgerEntry.stream, LedgerEntry.currency)
    return list(db.session.execute(
        _cash_lines(start, end, *keys, *(_on(a) for a in CASH_ACCOUNTS),
                    func.count(distinct(JournalTransaction.id)),
                    func.count(distinct(JournalTransaction.reader_id))).group_by(*keys)))


def _payers_per_currency(start: date, end: date) -> list[Any]:
    return list(db.session.execute(
        _cash_lines(start, end, LedgerEntry.currency, func.count(distinct(JournalTransaction.reader_id)))
        .where(JournalTransaction.kind == "charge").group_by(LedgerEntry.currency)))
