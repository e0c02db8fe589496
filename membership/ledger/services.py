"""Reading the journal back: trial balance, balance checks, deferred revenue position.

Used by reports, staff checks and tests; read-only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, JournalTransaction, LedgerEntry, RevenueSchedule


def trial_balance(through: date | None = None, stream: Stream | None = None) -> dict[tuple[Account, str], int]:
    """(account, currency) -> signed balance (debit positive) of every group posted to a
    period up to `through` (inclusive, any day of the month); sums to zero per currency."""
    query = (select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
             .join(JournalTransaction, JournalTransaction.id == LedgerEntry.transaction_id)
             .group_by(LedgerEntry.account, LedgerEntry.currency))
    if through is not None:
        query = query.where(JournalTransaction.period <= through.replace(day=1))
    if stream is not None:
        query = query.where(LedgerEntry.stream == stream)
    return {(Account(account), currency): int(total) for account, currency, total in db.session.execute(query)}


def unbalanced_transactions(limit: int = 100) -> list[tuple[int, str, int]]:
    """(transaction id, currency, off by) for any group that does not sum to zero. The
    journal service and (on PostgreSQL) a commit-time trigger prevent these; this is
    the auditor's independent check."""
    rows = db.session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(func.sum(LedgerEntry.amount_minor) != 0)
        .limit(limit)
    ).all()
    return [(int(t), str(c), int(s)) for t, c, s in rows]


def totals_balance(balance: dict[tuple[Account, str], int]) -> bool:
    per_currency: dict[str, int] = defaultdict(int)
    for (_account, currency), amount in balance.items():
        per_currency[currency] += amount
    return all(v == 0 for v in per_currency.values())


def deferred_by_schedules() -> dict[str, int]:
    """Currency -> deferred revenue still held according to the schedules; must equal
    the deferred_revenue account's credit balance (a reconciliation finance can run)."""
    rows = db.session.execute(
        select(RevenueSchedule.currency,
               func.sum(RevenueSchedule.amount_minor - RevenueSchedule.reversed_minor
                        - RevenueSchedule.recognized_minor))
        .group_by(RevenueSchedule.currency)
    ).all()
    return {str(c): int(v) for c, v in rows}
