"""Closed months roll up once: which months a report may read from its roll-up, and
the roll-up itself (run hourly by beat and by `flask reports rollup`).

A month is *closed* for the roll-ups when it has ended in the outlet's time zone (the
finance close of `closed_periods` is a separate, later decision; a month nobody has
closed yet still stops changing, except for late events, handled below). The open
month, and anything after it, is always computed live.

A month is *current* when it was rolled and no change touched it since. Late events
(a webhook processed days later, a refund of an old payment, a replayed event) are
caught by PostgreSQL statement triggers (migration 0009) that insert a `report_dirty`
row for every month a write to the journal or the revenue schedules touches: such a
month is read live until the next roll-up re-rolls it and deletes the marks it saw
(marks that arrive during a roll-up stay, so the month is re-rolled again next time).
So a report never reads a stale roll-up, and its numbers are always the live ones.

SQLite (the embedded default) has the tables but no triggers: there `current()` is
always empty, so every report computes live, and `roll_up` says so and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, insert, select, text

from membership.db import utcnow
from membership.extensions import db
from membership.ledger.journal import month_of, next_month
from membership.ledger.models import JournalTransaction
from membership.reports.rollup_models import ReportDirty, ReportRollup
from membership.unit_of_work import checkpoint

JOURNAL, SCHEDULES, MRR = "journal", "schedules", "mrr"
SOURCES = (JOURNAL, SCHEDULES, MRR)
# A change in one month of these changes every later month too (a reader's paying state
# carries forward): they roll, and are read, as a prefix (churn_rollup.py).
CASCADING = frozenset({MRR})
LOCK_KEY = 0x2E90_11F0  # pg advisory lock: one roll-up at a time


def enabled() -> bool:
    return bool(db.session.get_bind().dialect.name == "postgresql")


def open_month() -> date:
    """The first month not closed: the outlet-local month of now."""
    return month_of(utcnow())


def month_firsts(start: date, end: date) -> list[date]:
    """The first days of months that lie in [start, end)."""
    month = start if start.day == 1 else next_month(start.replace(day=1))
    out = []
    while month < end:
        out.append(month)
        month = next_month(month)
    return out


def dirty_months(source: str) -> set[date]:
    """Months of `source` a change touched since they were rolled (their marks)."""
    return {month for _id, month in _marks(source)}


def _marks(source: str) -> list[tuple[int, date]]:
    rows = db.session.execute(select(ReportDirty.id, ReportDirty.month, ReportDirty.at)
                              .where(ReportDirty.source == source))
    marks = []
    for i, month, at in rows:
        if month is None and at is not None:
            month = month_of(at)
        if month is not None:
            marks.append((int(i), month))
    return marks


def current(source: str, months: Iterable[date]) -> set[date]:
    """Of `months`, those a report may read from the roll-up: closed, rolled, not dirty."""
    wanted = sorted(m for m in set(months) if m < open_month())
    if not wanted or not enabled():
        return set()
    rolled = set(db.session.scalars(select(ReportRollup.month).where(
        ReportRollup.source == source, ReportRollup.month >= wanted[0], ReportRollup.month <= wanted[-1])))
    return (rolled & set(wanted)) - dirty_months(source)


def current_before(source: str, end: date) -> set[date]:
    """Every month before `end` a report may read from the roll-up."""
    if not enabled():
        return set()
    return current(source, db.session.scalars(select(ReportRollup.month).where(
        ReportRollup.source == source, ReportRollup.month < end)))


def frontier(source: str) -> date | None:
    """For a CASCADING source: the first month a report must compute live (unrolled,
    marked or open), walking from the source's first month; None when that is the
    first month itself (nothing to read from the roll-up) or on SQLite."""
    if not enabled():
        return None
    first = _first_month(source)
    if first is None:
        return None
    rolled = set(db.session.scalars(select(ReportRollup.month).where(
        ReportRollup.source == source, ReportRollup.month >= first)))
    dirty, closed, month = dirty_months(source), open_month(), first
    while month < closed and month in rolled and month not in dirty:
        month = next_month(month)
    return month if month > first else None


def runs(months: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive months as [first, after-last) ranges, oldest first."""
    out: list[tuple[date, date]] = []
    for month in sorted(months):
        if out and out[-1][1] == month:
            out[-1] = (out[-1][0], next_month(month))
        else:
            out.append((month, next_month(month)))
    return out


def roll_up(months: list[date] | None = None) -> dict[str, list[date]]:
    """Roll `months` (default: every closed month not rolled yet, and every dirty one)
    of each source, in the caller's transaction; returns what was rolled per source.
    Idempotent: a month is deleted and summed again, never added to."""
    if not enabled():
        return {}
    from membership.reports import rollup_build  # the builders import the reports, which import this module

    closed = open_month()
    done: dict[str, list[date]] = {}
    for source in SOURCES:
        marks = _marks(source)
        targets = {m for m in months if m < closed} if months is not None else _unrolled(source, closed)
        targets |= {m for _id, m in marks if m < closed}
        if source in CASCADING and targets:  # every closed month from the earliest one touched
            targets = set(month_firsts(min(targets), closed))
        ordered = sorted(targets)
        if ordered:
            rollup_build.BUILDERS[source](ordered)
            db.session.execute(delete(ReportRollup).where(ReportRollup.source == source,
                                                          ReportRollup.month.in_(ordered)))
            db.session.execute(insert(ReportRollup), [{"source": source, "month": m, "rolled_at": utcnow()}
                                                      for m in ordered])
        seen = [i for i, _m in marks]  # every month they name is now summed past them, or not rolled at all
        for chunk in range(0, len(seen), 10_000):
            db.session.execute(delete(ReportDirty).where(ReportDirty.id.in_(seen[chunk:chunk + 10_000])))
        done[source] = ordered
    return done


def closed_months() -> list[date]:
    """Every closed month from the first with data in any source."""
    firsts = [f for f in (_first_month(s) for s in SOURCES) if f is not None]
    return month_firsts(min(firsts), open_month()) if firsts else []


def _unrolled(source: str, closed: date) -> set[date]:
    """Closed months from the source's first month that have no roll-up yet."""
    first = _first_month(source)
    if first is None:
        return set()
    rolled = set(db.session.scalars(select(ReportRollup.month).where(ReportRollup.source == source)))
    return {m for m in month_firsts(first, closed) if m not in rolled}


def _first_month(source: str) -> date | None:
    if source == JOURNAL:
        return db.session.scalar(select(func.min(JournalTransaction.period)))
    if source == MRR:
        from membership.billing.models import SubscriptionEvent

        moved = db.session.scalar(select(func.min(SubscriptionEvent.occurred_at)))
        return month_of(moved) if moved is not None else None
    from membership.billing.models import Payment
    from membership.ledger.models import RevenueSchedule

    first = db.session.scalar(select(func.min(Payment.paid_at)).join(
        RevenueSchedule, RevenueSchedule.payment_id == Payment.id))
    return month_of(first) if first is not None else None


def run(months: list[date] | None = None) -> dict[str, list[date]] | None:
    """The task's and the command's entry: its own REPEATABLE READ transaction (the
    marks it deletes are the ones its sums saw), under a lock; None if another runs."""
    db.session.rollback()
    if enabled():
        db.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        if not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}):
            db.session.rollback()
            return None
    try:
        done = roll_up(months)
        checkpoint()  # its own REPEATABLE READ transaction, whoever called
    except Exception:
        db.session.rollback()
        raise
    return done
