"""Deferred revenue roll-forward and recognition waterfall (REVENUE.md report 3).

Roll-forward: per accounting month (the journal's `period`), currency and stream, the
`deferred_revenue` account's balance at the month's opening, what moved it, and its
closing balance. The account holds a credit balance, so every figure is shown as a
positive amount still owed to readers (the signed ledger sum, negated):
    closing = opening + deferred - recognized - refunded - disputed + other, exactly.
- deferred:   kind `charge` (membership money received for service not yet given);
- recognized: kind `recognition` (deferred -> membership revenue, day by day);
- refunded:   kind `refund`, less `refund_failure` (a failed refund puts it back);
- disputed:   kind `dispute`, less `dispute_reversal` (a reinstated dispute puts it back);
- other:      any other kind touching the account (none today; kept so the identity
              can never silently break if one is added).
One GROUP BY (currency, stream, month, kind) over the account's lines gives both the
opening balance and the movements; the months are carried forward in Python over
those few aggregated rows.

Waterfall: billing month (the outlet-local month of the payment's `paid_at`) x service
month: how much of what was billed in month B is recognised in service month S. Cells
come from `recognition.recognized_by_month`, the same day-by-day cumulative-floor rule
the recognition postings use, applied to each schedule's amount net of reversals so
far: each row's cells sum to billed - reversed. `reversed_minor` is its own column
(refunds and disputed funds withdrawn so far, net of failed refunds and reinstatements); cells are the
line's spread as it stands now, so a refund restates the cells of months before it
(the journal instead books the recognised part of a refund to `refunds`/`chargebacks`
in the refund's month, and never edits a closed month). Months not yet recognised are
the forecast of what will be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select, true

from membership.billing.models import Payment
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import next_month
from membership.ledger.models import Account, JournalTransaction, LedgerEntry, RevenueSchedule
from membership.reports import rollup
from membership.reports.periods import as_local_day, day_start, index_probes, local_day, without_jit
from membership.reports.rollup_models import (
    ReportDeferredMove,
    ReportWaterfallCell,
    ReportWaterfallPending,
    ReportWaterfallRow,
)

ROLLFORWARD_NAME, WATERFALL_NAME, VERSION = "deferred-revenue", "recognition-waterfall", 1
MOVEMENTS = ("deferred", "recognized", "refunded", "disputed", "other")
# kind -> (movement, sign applied to the signed ledger sum so the movement reads as
# shown in the identity above: a credit that adds to what is owed is a positive
# `deferred`; a debit that takes from it is a positive `recognized`/`refunded`/...).
KINDS: dict[str, tuple[str, int]] = {
    "charge": ("deferred", -1),
    "recognition": ("recognized", 1),
    "refund": ("refunded", 1),
    "refund_failure": ("refunded", 1),
    "dispute": ("disputed", 1),
    "dispute_reversal": ("disputed", 1),
}
Key = tuple[str, str | None]  # (currency, stream value or None)


@dataclass(frozen=True)
class MonthRollForward:
    """One month of one currency and stream; every amount positive = owed / moved as named."""

    period: date
    currency: str
    stream: str | None
    opening_minor: int
    deferred_minor: int
    recognized_minor: int
    refunded_minor: int
    disputed_minor: int
    other_minor: int
    closing_minor: int


def months(start: date, end: date) -> list[date]:
    """First days of the months in [start, end) (start is a month's first day)."""
    out, month = [], start
    while month < end:
        out.append(month)
        month = next_month(month)
    return out


def roll_forward(start: date, end: date) -> list[MonthRollForward]:
    """Months [start, end) (first days of months), by currency, stream, month."""
    opening, moved = _sums(start, end)
    keys = sorted(set(opening) | {key for key, _period in moved}, key=lambda k: (k[0], k[1] or ""))
    rows: list[MonthRollForward] = []
    for key in keys:
        balance = opening.get(key, 0)
        for period in months(start, end):
            row = _month(key, period, balance, moved.get((key, period), {}))
            rows.append(row)
            balance = row.closing_minor
    return rows


def _month(key: Key, period: date, opening: int, moved: dict[str, int]) -> MonthRollForward:
    a = {m: moved.get(m, 0) for m in MOVEMENTS}
    closing = opening + a["deferred"] - a["recognized"] - a["refunded"] - a["disputed"] + a["other"]
    return MonthRollForward(period, key[0], key[1], opening, a["deferred"], a["recognized"], a["refunded"],
                            a["disputed"], a["other"], closing)


def _sums(start: date, end: date) -> tuple[dict[Key, int], dict[tuple[Key, date], dict[str, int]]]:
    """The account's lines posted before `end`, summed per (currency, stream, month,
    kind): the rolled months from their roll-up, the others in one GROUP BY (a few
    hundred rows back). Returns (currency, stream) -> owed before `start`, and
    ((currency, stream), month) -> movement -> amount for the months of the period."""
    rolled = rollup.current_before(rollup.JOURNAL, end)
    m = ReportDeferredMove
    rows = list(db.session.execute(select(m.currency, m.stream, m.period, m.kind, m.amount_minor)
                                   .where(m.period.in_(sorted(rolled))))) if rolled else []
    with index_probes(bool(rolled) and len(months(max(rolled or {end}), end)) <= 3):
        rows += db.session.execute(moves_query(JournalTransaction.period < end, _not_in(rolled)))
    opening: dict[Key, int] = defaultdict(int)
    moved: dict[tuple[Key, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MOVEMENTS, 0))
    for currency, stream, period, kind, total in rows:
        key = (currency, _stream(stream))
        if period < start:
            opening[key] -= int(total)
            continue
        movement, sign = KINDS.get(kind, ("other", -1))
        moved[(key, period)][movement] += sign * int(total)
    return {k: v for k, v in opening.items() if v}, moved


def moves_query(*where: Any) -> Any:
    """(currency, stream, period, kind, sum) of the deferred-revenue lines: what the
    roll-up stores per closed period."""
    keys = (LedgerEntry.currency, LedgerEntry.stream, JournalTransaction.period, JournalTransaction.kind)
    return (select(*keys, func.sum(LedgerEntry.amount_minor))
            .join(JournalTransaction, JournalTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerEntry.account == Account.DEFERRED_REVENUE, *where).group_by(*keys))


def _not_in(rolled: set[date]) -> Any:
    """Periods outside `rolled`, as ranges around it (the planner keeps its index)."""
    if not rolled:
        return true()
    first, last = min(rolled), max(rolled)
    holes = [mo for mo in months(first, last) if mo not in rolled]
    period = JournalTransaction.period
    return or_(period < first, period > last, *([period.in_(holes)] if holes else []))


def _stream(stream: Stream | str | None) -> str | None:
    return None if stream is None else Stream(stream).value


@dataclass
class WaterfallRow:
    """What was billed in one month (one currency and stream) and when it is recognised."""

    billing_month: date
    currency: str
    stream: str
    billed_minor: int = 0
    reversed_minor: int = 0
    net_minor: int = 0  # billed - reversed = the sum of the cells
    recognized_minor: int = 0  # recognised so far by the journal (net of reversals)
    deferred_minor: int = 0  # net - recognised: still owed
    lines: int = 0  # invoice lines (schedules) behind the row
    cells: dict[date, int] = field(default_factory=dict)  # service month -> amount


@dataclass(frozen=True)
class Waterfall:
    rows: list[WaterfallRow]
    service_months: list[date]  # the columns: every service month any row has


def waterfall(start: date, end: date) -> Waterfall:
    """Billing months [start, end) x service months, per currency and stream: the rolled
    billing months from their roll-up, the others live (`live_rows`)."""
    billing = rollup.month_firsts(start, end)
    rolled = rollup.current(rollup.SCHEDULES, billing)
    rows = _rolled_rows(rolled)
    for first, after in rollup.runs(m for m in billing if m not in rolled):
        with index_probes(bool(rolled) and len(months(first, after)) <= 2):
            rows.update(live_rows(first, after))
    ordered = [rows[k] for k in sorted(rows)]
    for row in ordered:
        row.cells = dict(sorted(row.cells.items()))
    return Waterfall(ordered, sorted({m for row in ordered for m in row.cells}))


def live_rows(start: date, end: date) -> dict[tuple[str, str, date], WaterfallRow]:
    """The rows of billing months [start, end) from the schedules themselves.

    A schedule's spread depends only on its outlet-local first day, end day and net
    amount, so the database groups the period's schedules by those (and billing month,
    currency, stream); each distinct (first day, end day) span's month boundaries are
    found once and every group's cells are the cumulative floor at them, scaled by how
    many lines share it (tens of thousands of groups, a few hundred distinct spans).
    """
    rows: dict[tuple[str, str, date], WaterfallRow] = {}
    spans: dict[tuple[date, date], tuple[int, list[tuple[date, int]]]] = {}
    for group in _groups(start, end):
        key = (group.currency, group.stream, group.billing_month)
        row = rows.get(key)
        if row is None:
            row = rows[key] = WaterfallRow(group.billing_month, group.currency, group.stream)
        bounds = spans.get((group.first_day, group.end_day))
        if bounds is None:
            bounds = spans[(group.first_day, group.end_day)] = _month_bounds(group.first_day, group.end_day)
        _add(row, group, _spread(group.net, *bounds))
    return rows


def _rolled_rows(rolled: set[date]) -> dict[tuple[str, str, date], WaterfallRow]:
    """Rolled rows and cells, with what recognition has moved since read live: a schedule
    recognition finished has recognised exactly its net (amount - reversed), so a row's
    deferred part is the sum over the schedules unfinished when it was rolled (listed in
    report_waterfall_pending: ~8k of 1.3M at 100k readers), and recognised = net - deferred."""
    if not rolled:
        return {}
    months = sorted(rolled)
    r, c = ReportWaterfallRow, ReportWaterfallCell
    rows: dict[tuple[str, str, date], WaterfallRow] = {}
    for month, cur, stream, lines, billed, reversed_ in db.session.execute(
            select(r.billing_month, r.currency, r.stream, r.lines, r.billed_minor, r.reversed_minor)
            .where(r.billing_month.in_(months))):
        net = int(billed) - int(reversed_)
        rows[(cur, stream, month)] = WaterfallRow(month, cur, stream, int(billed), int(reversed_), net, net, 0,
                                                  int(lines))
    for month, cur, stream, service, amount in db.session.execute(
            select(c.billing_month, c.currency, c.stream, c.service_month, c.amount_minor)
            .where(c.billing_month.in_(months))):
        rows[(cur, stream, month)].cells[service] = int(amount)
    for key, owed in _unfinished(months).items():
        row = rows.get(key)
        if row is not None:
            row.deferred_minor += owed
            row.recognized_minor -= owed
    return rows


def _unfinished(months: list[date]) -> dict[tuple[str, str, date], int]:
    """Per (currency, stream, billing month) of rolled `months`: what the schedules
    recognition had not finished at the roll-up still defer (amount - reversed -
    recognised; zero for those finished since). A new schedule in a rolled month dirties it."""
    rs, pending = RevenueSchedule, ReportWaterfallPending
    query = (select(rs.currency, rs.stream, pending.billing_month,
                    func.sum(rs.amount_minor - rs.reversed_minor - rs.recognized_minor))
             .join(rs, rs.id == pending.schedule_id).where(pending.billing_month.in_(months))
             .group_by(rs.currency, rs.stream, pending.billing_month))
    out: dict[tuple[str, str, date], int] = defaultdict(int)
    for cur, stream, month, owed in db.session.execute(query):
        out[(cur, Stream(stream).value, month)] += int(owed)
    return out


def unfinished_query(start: date, end: date) -> Any:
    """(schedule id, billing month) of the schedules of billing months [start, end) that
    recognition has not finished (the partial index ix_revenue_schedules_pending)."""
    rs = RevenueSchedule
    return (select(rs.id, local_day(Payment.paid_at, month=True))
            .join(Payment, Payment.id == rs.payment_id)
            .where(rs.recognized_minor != rs.amount_minor - rs.reversed_minor,
                   Payment.paid_at >= day_start(start), Payment.paid_at < day_start(end)))


@dataclass(frozen=True)
class _Group:
    """Schedules of one billing month, currency and stream sharing one spread."""

    billing_month: date
    currency: str
    stream: str
    first_day: date
    end_day: date
    net: int
    lines: int
    billed: int
    reversed: int
    recognized: int


def _groups(start: date, end: date) -> Iterable[_Group]:
    """The period's schedules (by the payment's paid_at), grouped in the database."""
    rs = RevenueSchedule
    inner = (select(local_day(Payment.paid_at, month=True).label("billing"), rs.currency, rs.stream,
                    local_day(rs.service_start).label("first"), local_day(rs.service_end).label("end"),
                    (rs.amount_minor - rs.reversed_minor).label("net"), rs.amount_minor, rs.reversed_minor,
                    rs.recognized_minor)
             .join(Payment, Payment.id == rs.payment_id)
             .where(Payment.paid_at >= day_start(start), Payment.paid_at < day_start(end),
                    # every payment has one of these (the column is NOT NULL, its values a
                    # Stream): the condition is always true, but it lets PostgreSQL range-scan
                    # ix_payments_stream_paid_at once per stream for the open month instead of
                    # filtering all 1.4M payments (payments has no index led by paid_at)
                    Payment.stream.in_(list(Stream)))).subquery()
    c = inner.c
    # Most distinct keys first: PostgreSQL sorts the ~1.3M joined rows in this order to
    # group them, and led by the billing month most comparisons fell through to the
    # currency and stream strings (collation compares); led by dates and amounts they
    # rarely get there (~20% less time at 100k readers over three years).
    keys = (c.first, c.end, c.net, c.billing, c.currency, c.stream)
    query = select(*keys, func.count(), func.sum(c.amount_minor), func.sum(c.reversed_minor),
                   func.sum(c.recognized_minor)).group_by(*keys)
    without_jit()  # JIT compiled this one-pass GROUP BY for ~90 ms of its ~2 s, saving nothing
    for first, end_, net, billing, cur, stream, lines, billed, reversed_, recognized in db.session.execute(query):
        yield _Group(as_local_day(billing).replace(day=1), cur, Stream(stream).value, as_local_day(first), as_local_day(end_), int(net),
                     int(lines), int(billed), int(reversed_), int(recognized))


def _month_bounds(first_day: date, end_day: date) -> tuple[int, list[tuple[date, int]]]:
    """(service days, [(service month, days elapsed at its last service day)]), as
    recognition.span counts them: at least one day, from the first day on."""
    total = max(1, (end_day - first_day).days)
    last = first_day + timedelta(days=total - 1)
    bounds: list[tuple[date, int]] = []
    month = first_day.replace(day=1)
    while month <= last:
        following = next_month(month)
        bounds.append((month, (min(following, last + timedelta(days=1)) - first_day).days))
        month = following
    return total, bounds


def _spread(net: int, total: int, bounds: list[tuple[date, int]]) -> dict[date, int]:
    """Service month -> amount by recognition.recognized_by_month's rule: day d's share is
    net*d//total - net*(d-1)//total, so a month's days telescope to the cumulative floor at
    its last day less the one at the previous month's (the same numbers, per month not per day)."""
    out: dict[date, int] = {}
    done = 0
    for month, elapsed in bounds:
        cumulative = net * elapsed // total
        out[month] = cumulative - done
        done = cumulative
    return out


def _add(row: WaterfallRow, group: _Group, spread: dict[date, int]) -> None:
    row.billed_minor += group.billed
    row.reversed_minor += group.reversed
    row.net_minor += group.billed - group.reversed
    row.recognized_minor += group.recognized
    row.deferred_minor += group.billed - group.reversed - group.recognized
    row.lines += group.lines
    for month, amount in spread.items():
        if amount:
            row.cells[month] = row.cells.get(month, 0) + amount * group.lines
