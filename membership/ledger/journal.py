"""The one way money enters the double-entry journal.

Every money event becomes one `JournalTransaction` whose lines sum to zero in each
currency (debits positive, credits negative). `post` refuses an unbalanced group
before anything is written, and is idempotent by `key`, so a webhook processed twice
posts once. Two more guards stand behind it: a session hook re-checks every group a
commit touched (all databases, see `guard.py`), and on PostgreSQL a deferred
constraint trigger checks at COMMIT (migration 0005), so not even raw SQL can leave
an unbalanced group behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, ClosedPeriod, JournalTransaction, LedgerEntry


class UnbalancedJournal(ValueError):
    """A group of lines does not sum to zero in some currency: a programming error."""


@dataclass(frozen=True)
class Line:
    """One journal line to post: `amount_minor` > 0 is a debit, < 0 a credit."""

    account: Account
    amount_minor: int
    currency: str
    stream: Stream | None = None


def debit(account: Account, amount_minor: int, currency: str, stream: Stream | None = None) -> Line:
    return Line(account, amount_minor, currency.upper(), stream)


def credit(account: Account, amount_minor: int, currency: str, stream: Stream | None = None) -> Line:
    return Line(account, -amount_minor, currency.upper(), stream)


def imbalances(lines: Iterable[Line]) -> dict[str, int]:
    """Currency -> non-zero total; empty when the group balances."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency.upper()] += line.amount_minor
    return {cur: total for cur, total in totals.items() if total != 0}


def outlet_zone() -> ZoneInfo:
    """Months close in the outlet's time zone (REVENUE.md), not in UTC."""
    return ZoneInfo(current_app.config["SETTINGS"].outlet_timezone)


def local_date(moment: datetime) -> date:
    return moment.astimezone(outlet_zone()).date()


def month_of(moment: datetime) -> date:
    """The first day of the outlet-local month the moment falls in."""
    return local_date(moment).replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def open_period(moment: datetime) -> date:
    """The event's month, or the first open month after it when that one is closed."""
    closed = set(
        db.session.scalars(select(ClosedPeriod.period).where(ClosedPeriod.reopened_at.is_(None))).all()
    )
    period = month_of(moment)
    while period in closed:
        period = next_month(period)
    return period


def find(key: str) -> JournalTransaction | None:
    return db.session.scalar(select(JournalTransaction).where(JournalTransaction.key == key))


def post(
    key: str,
    kind: str,
    occurred_at: datetime,
    lines: Sequence[Line],
    *,
    memo: str = "",
    reader_id: int | None = None,
    payment_id: int | None = None,
) -> JournalTransaction | None:
    """Post a balanced group once per `key`; returns it (or the earlier one with that key).

    Zero lines are dropped (an entry of 0 says nothing); a group with nothing left is
    not posted and returns None. Raises UnbalancedJournal before writing anything.
    Flushes only; the caller's transaction boundary commits.
    """
    existing = find(key)
    if existing is not None:
        return existing
    kept = [line for line in lines if line.amount_minor != 0]
    off = imbalances(kept)
    if off:
        raise UnbalancedJournal(f"journal {key!r} does not balance: {off}")
    if not kept:
        return None
    txn = JournalTransaction(
        key=key, kind=kind, occurred_at=occurred_at, period=open_period(occurred_at), memo=memo,
        reader_id=reader_id, payment_id=payment_id,
    )
    db.session.add(txn)
    db.session.flush()
    db.session.add_all(
        LedgerEntry(transaction_id=txn.id, account=line.account, amount_minor=line.amount_minor,
                    currency=line.currency.upper(), stream=line.stream)
        for line in kept
    )
    db.session.flush()
    return txn
