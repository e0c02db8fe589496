"""Membership revenue recognised day by day over each invoice line's service period.

A membership charge credits `deferred_revenue`; one `RevenueSchedule` per invoice
line holds that line's share. Recognition moves deferred -> `membership_revenue` in
whole outlet-local days: after `e` of the period's `total` days the schedule has
recognised `net * e // total` (cumulative floor), so a 365-day year recognises 31,
28, 31, ... days' worth per month and the last day takes the remainder: the sums
are exact, never off by a rounding cent.

Column meanings (so reports can read schedules directly):
- `amount_minor`: the line's share of the charge, as billed.
- `reversed_minor`: refunded / charged back so far (a reinstated dispute gives back).
- `recognized_minor`: revenue recognised and not reversed, i.e. the net recognised.
  The schedule's deferred balance is `amount - reversed - recognized`.
- `recognized_through`: the last outlet-local day recognised (None: not started).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.journal import credit, debit, local_date, outlet_zone, post
from membership.ledger.models import Account, RevenueSchedule


def span(schedule: RevenueSchedule) -> tuple[date, int]:
    """(first service day, number of service days), in outlet-local days; at least one day."""
    start = local_date(schedule.service_start)
    end = local_date(schedule.service_end)
    return start, max(1, (end - start).days)


def last_day(schedule: RevenueSchedule) -> date:
    start, total = span(schedule)
    return start + timedelta(days=total - 1)


def elapsed_days(schedule: RevenueSchedule, through: date | None) -> int:
    if through is None:
        return 0
    start, total = span(schedule)
    return min(total, max(0, (through - start).days + 1))


def net_amount(schedule: RevenueSchedule) -> int:
    return schedule.amount_minor - schedule.reversed_minor


def target(schedule: RevenueSchedule, through: date | None, net: int | None = None) -> int:
    """Net revenue recognised once every day up to and including `through` is."""
    _start, total = span(schedule)
    amount = net_amount(schedule) if net is None else net
    return amount * elapsed_days(schedule, through) // total


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), summing exactly."""
    base = sum(weights)
    if not weights:
        return []
    if base == 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w // base for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (total * weights[i]) % base, reverse=True)
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def recognized_by_month(schedule: RevenueSchedule) -> dict[date, int]:
    """Month -> revenue this schedule recognises in it over its whole period (net of reversals
    so far): the waterfall row of one invoice line, from the same formula the postings use."""
    start, total = span(schedule)
    out: dict[date, int] = defaultdict(int)
    done = 0
    for day_index in range(total):
        day = start + timedelta(days=day_index)
        cumulative = net_amount(schedule) * (day_index + 1) // total
        out[day.replace(day=1)] += cumulative - done
        done = cumulative
    return dict(out)


def _end_of_day(day: date) -> datetime:
    local = datetime.combine(day + timedelta(days=1), time(), tzinfo=outlet_zone()) - timedelta(seconds=1)
    return local.astimezone(UTC)


def _month_ends(first: date, through: date) -> list[date]:
    """Cut-off days from `first`'s month to `through`: each month's last day, then `through`."""
    cuts: list[date] = []
    month = first.replace(day=1)
    while month <= through:
        nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        cuts.append(min(nxt - timedelta(days=1), through))
        month = nxt
    return cuts


def _pending(through: date) -> list[RevenueSchedule]:
    started_before = _end_of_day(through)
    return list(db.session.scalars(
        select(RevenueSchedule)
        .where(RevenueSchedule.recognized_minor != RevenueSchedule.amount_minor - RevenueSchedule.reversed_minor,
               RevenueSchedule.service_start <= started_before)
        .order_by(RevenueSchedule.id)
        .with_for_update()
    ))


def recognize_through(through: date) -> int:
    """Recognise every schedule through the end of outlet-local day `through`.

    Posts one journal transaction per month crossed (so a missed night still lands
    each month's revenue in its own month), grouped by currency and stream. Safe to
    re-run: schedules remember how far they got. Returns how many groups it posted.
    """
    schedules = _pending(through)
    if not schedules:
        return 0
    first = min((s.recognized_through + timedelta(days=1)) if s.recognized_through else span(s)[0]
                for s in schedules)
    posted = 0
    for cut in _month_ends(min(first, through), through):
        posted += _recognize_cut(schedules, cut)
    return posted


def _recognize_cut(schedules: list[RevenueSchedule], cut: date) -> int:
    sums: dict[tuple[str, Stream], int] = defaultdict(int)
    moved: list[tuple[int, int]] = []
    for schedule in schedules:
        start, _total = span(schedule)
        if start > cut or (schedule.recognized_through is not None and schedule.recognized_through >= cut):
            continue
        delta = target(schedule, cut) - schedule.recognized_minor
        schedule.recognized_through = min(cut, last_day(schedule))
        if delta:
            schedule.recognized_minor += delta
            sums[(schedule.currency, schedule.stream)] += delta
            moved.append((schedule.id, delta))
    if not moved:
        return 0
    digest = hashlib.sha256(repr(moved).encode()).hexdigest()[:16]
    lines = []
    for (currency, stream), amount in sorted(sums.items()):
        lines += [debit(Account.DEFERRED_REVENUE, amount, currency, stream),
                  credit(Account.MEMBERSHIP_REVENUE, amount, currency, stream)]
    txn = post(f"recognition:{cut.isoformat()}:{digest}", "recognition", _end_of_day(cut), lines,
               memo=f"membership revenue recognised through {cut.isoformat()}")
    return 1 if txn is not None else 0


def reverse(schedules: Sequence[RevenueSchedule], amount: int) -> tuple[int, int]:
    """Take `amount` out of a payment's schedules (negative: give it back, e.g. a dispute
    reinstated). Returns (recognised part, deferred part): the recognised part reverses
    revenue already earned, the deferred part clears what was still deferred. Updates
    the schedules so later recognition only recognises what is left. Flushes nothing.
    """
    if not schedules or amount == 0:
        return amount, 0
    weights = [net_amount(s) for s in schedules] if amount > 0 else [s.reversed_minor for s in schedules]
    recognised = 0
    for schedule, part in zip(schedules, allocate(amount, weights), strict=True):
        if not part:
            continue
        after = target(schedule, schedule.recognized_through, net_amount(schedule) - part)
        recognised += schedule.recognized_minor - after
        schedule.recognized_minor = after
        schedule.reversed_minor += part
    return recognised, amount - recognised


def schedules_of(payment_id: int) -> list[RevenueSchedule]:
    return list(db.session.scalars(
        select(RevenueSchedule).where(RevenueSchedule.payment_id == payment_id)
        .order_by(RevenueSchedule.id).with_for_update()
    ))
