"""Churn and retention (REVENUE.md report 5): logo churn (voluntary vs delinquent, monthly
vs annual plans), revenue churn per currency, the annual renewal rate, and cohorts.

Definitions (REVENUE.md "Subscription metrics"; where it is silent, chosen here):
- Months are whole months in the outlet's zone; an instant "at a month's start" is its
  first midnight (`day_start`), and MRR at an instant sums the movements strictly before
  it (as the MRR roll-forward does), so the end of a month is the start of the next.
- A reader is *paying* at an instant when their summed MRR in the stream is > 0 in at
  least one currency.
- Logo churn (month) = readers paying at the month's start, not paying at its end, who
  had a churn movement (churn_voluntary / churn_delinquent) in the month, over readers
  paying at the start. A pause is not churn, and a reader who churns and comes back
  within the month is not churned. Voluntary vs delinquent: the kind of the reader's
  last churn movement in the month (same denominator). Per plan: the plan is the
  interval of the subscription of that last churn movement; the denominator of a plan is
  the readers paying at the start with a subscription of that interval whose own MRR
  was > 0 then (a reader holding both counts in both).
- Revenue churn per currency: gross = (churn + contraction) / MRR(start); net = (churn +
  contraction - expansion - reactivation) / MRR(start); positive numerators are losses
  (a negative net is net expansion). Pause/resume are in neither.
- Annual renewal rate (month): annual subscriptions whose paid period ended in the month
  (a settled payment's `service_period_end`, since `subscriptions.current_period_end`
  only keeps the latest period) that renewed, i.e. have a paid later period, over all
  that came up. Those not renewed are split into *lapsed* (a churn movement at or after
  the period end) and *pending* (neither yet, e.g. still in dunning).
- Cohorts: the month of the reader's first positive movement in the stream; returning
  readers stay there. Per cohort month in [start, end) and each month from it to the
  last: readers paying at that month's end over the cohort's readers (logo retention),
  and the cohort's MRR at that month's end over its MRR at the end of the cohort month
  (net MRR retention, per currency; the cohort month is the base because readers join
  during it).
- Every rate carries numerator and denominator; percent has one decimal (half up) and
  is None when the denominator is 0.

All counting is in SQL: a reader's paying state only changes at "flips" (window sums
over the movement history), so paying readers at every month boundary are cumulative
sums of flips grouped by month, never a per-month per-reader loop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select

from membership.billing.models import Payment, Subscription, SubscriptionEvent
from membership.enums import Interval, MrrMovement, Stream
from membership.extensions import db
from membership.reports import churn_rollup
from membership.reports.periods import day_start, without_jit

CHURN_NAME, COHORTS_NAME, VERSION = "churn", "cohorts", 1
CHURN_KINDS = (MrrMovement.CHURN_VOLUNTARY, MrrMovement.CHURN_DELINQUENT)
PLANS = (Interval.MONTH, Interval.YEAR)
REVENUE_KINDS = ("churn", "contraction", "expansion", "reactivation")


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    percent: str | None


def rate(numerator: int, denominator: int) -> Rate:
    if not denominator:
        return Rate(numerator, denominator, None)
    percent = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rate(numerator, denominator, str(percent))


@dataclass(frozen=True)
class RevenueChurn:
    currency: str
    mrr_start_minor: int
    movements: dict[str, int]  # churn, contraction (losses, >= 0), expansion, reactivation (gains, >= 0)
    gross: Rate
    net: Rate


@dataclass(frozen=True)
class Renewals:
    came_up: int
    renewed: int
    lapsed: int
    pending: int
    rate: Rate


@dataclass(frozen=True)
class ChurnMonth:
    month: date
    paying_start: int
    paying_end: int
    logo_churn: Rate
    voluntary: Rate
    delinquent: Rate
    plans: dict[str, Rate]  # "month", "year"
    revenue: list[RevenueChurn]
    annual_renewals: Renewals


@dataclass(frozen=True)
class Churn:
    stream: Stream
    start: date
    end: date
    months: list[ChurnMonth]


@dataclass(frozen=True)
class CohortMonth:
    month: date
    age: int
    logo_retention: Rate
    mrr_minor: dict[str, int]
    net_mrr_retention: dict[str, Rate]


@dataclass(frozen=True)
class Cohort:
    cohort: date
    readers: int
    starting_mrr_minor: dict[str, int]
    months: list[CohortMonth]


@dataclass(frozen=True)
class Cohorts:
    stream: Stream
    start: date
    end: date
    cohorts: list[Cohort]


def month_starts(start: date, end: date) -> list[date]:
    """First days of the months in [start, end), and `end` itself (the last boundary)."""
    days, day = [], start
    while day < end:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return [*days, end]


class _Months:
    """The report's month boundaries as UTC instants, and the SQL month index of a time:
    -1 before the first month, k inside month k (a portable CASE, no dialect date maths)."""

    def __init__(self, start: date, end: date) -> None:
        self.days = month_starts(start, end)
        self.bounds: list[datetime] = [day_start(d) for d in self.days]
        self.count = len(self.days) - 1

    def index(self, column: Any) -> Any:
        return case(*[(column < b, k - 1) for k, b in enumerate(self.bounds)], else_=self.count)

    def slot(self, month: date) -> int:
        """A month's slot in the per-month lists: 0 before the first month, k + 1 for month k."""
        return 0 if month < self.days[0] else self.days.index(month) + 1

    def zeros(self) -> list[int]:
        return [0] * (self.count + 1)

    @property
    def last(self) -> datetime:
        return self.bounds[-1]


def _stream_events(stream: Stream, months: _Months, *extra: Any, since: datetime | None = None) -> Any:
    """The stream's movements up to the report's end, with the columns flips need; with
    `since`, only of the readers with a movement from then on (only they can flip then;
    the roll-up holds everything before, churn_rollup.py), over their whole history."""
    e = SubscriptionEvent
    query = select(e.id, e.reader_id, e.subscription_id, e.currency, e.occurred_at, e.mrr_delta_minor, *extra)
    if extra:
        query = query.join(Subscription, Subscription.id == e.subscription_id)
    if since is not None:
        query = query.where(e.reader_id.in_(_movers(stream, months, since)))
    return query.where(e.stream == stream, e.occurred_at < months.last)


def _movers(stream: Stream, months: _Months, since: datetime) -> Any:
    e = SubscriptionEvent
    return select(e.reader_id).where(e.stream == stream, e.occurred_at >= since, e.occurred_at < months.last)


def _since(flips: Any, since: datetime | None) -> Any:
    """Flips from `since` on (all of them without it)."""
    return flips if since is None else select(flips).where(flips.c.occurred_at >= since).subquery()


def _flips(events: Any, unit: tuple[str, ...], holder: tuple[str, ...]) -> Any:
    """Instants where a holder starts (+1) or stops (-1) holding positive MRR.

    A unit (e.g. reader x currency) is positive when its running sum is > 0; a holder
    (e.g. the reader) is positive while any of its units is. Summing a holder's flips
    before an instant gives 1 if it was positive then, 0 if not.
    """
    ev = events.subquery()
    order = (ev.c.occurred_at, ev.c.id)
    after = func.sum(ev.c.mrr_delta_minor).over(partition_by=[ev.c[c] for c in unit], order_by=order)
    running = select(*[ev.c[c] for c in holder], ev.c.occurred_at, ev.c.id, ev.c.mrr_delta_minor,
                     after.label("after")).subquery()
    became = case((and_(running.c.after > 0, running.c.after - running.c.mrr_delta_minor <= 0), 1),
                  (and_(running.c.after <= 0, running.c.after - running.c.mrr_delta_minor > 0), -1), else_=0)
    changes = select(*[running.c[c] for c in holder], running.c.occurred_at, running.c.id,
                     became.label("change")).subquery()
    changes_kept = select(changes).where(changes.c.change != 0).subquery()
    positives = func.sum(changes_kept.c.change).over(partition_by=[changes_kept.c[c] for c in holder],
                                                     order_by=(changes_kept.c.occurred_at, changes_kept.c.id))
    counted = select(*[changes_kept.c[c] for c in holder], changes_kept.c.occurred_at, changes_kept.c.change,
                     positives.label("positives")).subquery()
    flip = case((and_(counted.c.change == 1, counted.c.positives == 1), 1),
                (and_(counted.c.change == -1, counted.c.positives == 0), -1), else_=0)
    flips = select(*[counted.c[c] for c in holder], counted.c.occurred_at, flip.label("flip")).subquery()
    return select(flips).where(flips.c.flip != 0).subquery()


def _reader_flips(stream: Stream, months: _Months, since: datetime | None = None) -> Any:
    return _since(_flips(_stream_events(stream, months, since=since), ("reader_id", "currency"), ("reader_id",)),
                  since)


def _plan_flips(stream: Stream, months: _Months, since: datetime | None = None) -> Any:
    return _since(_flips(_stream_events(stream, months, Subscription.interval, since=since),
                         ("reader_id", "subscription_id"), ("reader_id", "interval")), since)


def flip_slots(flips: Any, months: _Months, *keys: Any) -> dict[Any, list[int]]:
    """Per key: the holders' flips summed per slot (before the first month, then each month)."""
    k = months.index(flips.c.occurred_at).label("k")  # grouped by its label: PostgreSQL binds differ
    rows = db.session.execute(select(*keys, k, func.sum(flips.c.flip)).group_by(*keys, k))
    per_month: dict[Any, list[int]] = defaultdict(months.zeros)
    for *key, month, total in rows:
        per_month[tuple(key)][month + 1] += int(total)
    return per_month


def _add(into: list[int], slots: list[int]) -> list[int]:
    for i, v in enumerate(slots):
        into[i] += v
    return into


def _cumulative(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def churn(stream: Stream, start: date, end: date) -> Churn:
    without_jit()
    months = _Months(start, end)
    rolled = churn_rollup.split(stream, months.days)
    since = rolled.since
    moved, churned = ((months.zeros(), {}) if rolled.all else _paying_and_churned(stream, months, since))
    paying = _cumulative(_add(moved, rolled.flips(months)))
    for key, n in rolled.churned(months).items():
        churned[key] = churned.get(key, 0) + n
    plan_slots: dict[Any, list[int]] = defaultdict(months.zeros)
    if not rolled.all:
        plan = _plan_flips(stream, months, since)
        plan_slots.update(flip_slots(plan, months, plan.c.interval))
    for plan_key, slots in rolled.plan_flips(months).items():
        _add(plan_slots[plan_key], slots)
    plan_paying = {key: _cumulative(slots) for key, slots in plan_slots.items()}
    revenue = _revenue(stream, months, rolled)
    renewals = _renewals(stream, months)
    out = []
    for k, day in enumerate(months.days[:-1]):
        base = paying[k]
        by_kind = {kind: sum(n for (m, kd, _p), n in churned.items() if m == k and kd == kind) for kind in CHURN_KINDS}
        plans = {plan.value: rate(sum(n for (m, _kd, p), n in churned.items() if m == k and p == plan),
                                  plan_paying.get((plan,), [0] * (months.count + 1))[k]) for plan in PLANS}
        out.append(ChurnMonth(day, base, paying[k + 1], rate(sum(by_kind.values()), base),
                              rate(by_kind[MrrMovement.CHURN_VOLUNTARY], base),
                              rate(by_kind[MrrMovement.CHURN_DELINQUENT], base), plans, revenue[k],
                              renewals.get(k, Renewals(0, 0, 0, 0, rate(0, 0)))))
    return Churn(stream, start, end, out)


def _paying_and_churned(stream: Stream, months: _Months, since: datetime | None = None
                        ) -> tuple[list[int], dict[tuple[int, MrrMovement, Interval], int]]:
    """One pass over the reader flips: their sum per slot (the paying readers' changes),
    and logo churn per (month, kind, plan). A reader's flips within a month sum to -1
    exactly when they were paying at its start and not at its end; they churned if they
    also had a churn movement in it, classified by their last one. With `since`: only
    the flips and churn movements from then on."""
    flips = _reader_flips(stream, months, since)
    k = months.index(flips.c.occurred_at).label("k")
    net = select(flips.c.reader_id, k, func.sum(flips.c.flip).label("net")).group_by(flips.c.reader_id, k).subquery()
    last = _last_churns(stream, months, since)
    lost = func.sum(case((and_(net.c.net < 0, last.c.kind.is_not(None)), 1), else_=0))
    rows = db.session.execute(
        select(net.c.k, last.c.kind, last.c.interval, func.sum(net.c.net), lost)
        .outerjoin(last, and_(last.c.reader_id == net.c.reader_id, last.c.k == net.c.k))
        .group_by(net.c.k, last.c.kind, last.c.interval))
    moved, churned = months.zeros(), {}
    for month, kind, plan, total, n in rows:
        moved[month + 1] += int(total)
        if n:
            churned[(month, kind, plan)] = int(n)
    return moved, churned


def _last_churns(stream: Stream, months: _Months, since: datetime | None = None) -> Any:
    """Each reader's last churn movement per month, with its subscription's interval."""
    e = SubscriptionEvent
    k = months.index(e.occurred_at)
    lower = months.bounds[0] if since is None else max(months.bounds[0], since)
    order = func.row_number().over(partition_by=(e.reader_id, k), order_by=(e.occurred_at.desc(), e.id.desc()))
    moves = (select(e.reader_id, k.label("k"), e.kind, Subscription.interval, order.label("nth"))
             .join(Subscription, Subscription.id == e.subscription_id)
             .where(e.stream == stream, e.kind.in_(CHURN_KINDS), e.occurred_at >= lower,
                    e.occurred_at < months.last)).subquery()
    return select(moves).where(moves.c.nth == 1).subquery()


def _revenue(stream: Stream, months: _Months, rolled: churn_rollup.Split) -> list[list[RevenueChurn]]:
    """Per month, per currency: MRR at the start and the revenue-churn movements (the
    roll-up's months summed with the live ones')."""
    e = SubscriptionEvent
    k = months.index(e.occurred_at).label("k")
    since = [] if rolled.since is None else [e.occurred_at >= rolled.since]
    live: Any = [] if rolled.all else db.session.execute(
        select(k, e.currency, e.kind, func.sum(e.mrr_delta_minor))
        .where(e.stream == stream, e.occurred_at < months.last, *since).group_by(k, e.currency, e.kind))
    moved: dict[str, list[dict[str, int]]] = defaultdict(lambda: [defaultdict(int) for _ in range(months.count + 1)])
    for month, currency, kind, total in live:
        moved[currency][month + 1][MrrMovement(kind).value] += int(total)
    for slot, currency, kind, total in rolled.moved(months):
        moved[currency][slot][kind] += total
    out: list[list[RevenueChurn]] = [[] for _ in range(months.count)]
    for currency in sorted(moved):
        held = _cumulative([sum(m.values()) for m in moved[currency]])
        for month in range(months.count):
            out[month].append(_revenue_churn(currency, held[month], moved[currency][month + 1]))
    return out


def _revenue_churn(currency: str, mrr_start: int, moved: dict[str, int]) -> RevenueChurn:
    amounts = {"churn": -(moved[MrrMovement.CHURN_VOLUNTARY.value] + moved[MrrMovement.CHURN_DELINQUENT.value]),
               "contraction": -moved[MrrMovement.CONTRACTION.value],
               "expansion": moved[MrrMovement.EXPANSION.value],
               "reactivation": moved[MrrMovement.REACTIVATION.value]}
    gross = amounts["churn"] + amounts["contraction"]
    net = gross - amounts["expansion"] - amounts["reactivation"]
    return RevenueChurn(currency, mrr_start, amounts, rate(gross, mrr_start), rate(net, mrr_start))


def _renewals(stream: Stream, months: _Months) -> dict[int, Renewals]:
    """Annual paid periods ending in each month: renewed (a later paid period), lapsed
    (a churn movement at or after the period end) or pending. Joins and group-bys only:
    one scan of the annual payments and one of the churn movements."""
    p, e = Payment, SubscriptionEvent
    latest = func.max(p.service_period_end).over(partition_by=p.subscription_id)
    annual = (select(p.subscription_id, p.service_period_end.label("ends"), latest.label("latest"))
              .join(Subscription, Subscription.id == p.subscription_id)
              .where(Subscription.stream == stream, Subscription.interval == Interval.YEAR,
                     p.service_period_end.is_not(None))).subquery()
    periods = (select(months.index(annual.c.ends).label("k"), annual.c.subscription_id, annual.c.ends, annual.c.latest)
               .where(annual.c.ends >= months.bounds[0], annual.c.ends < months.last).distinct()).subquery()
    churned = (select(e.subscription_id, func.max(e.occurred_at).label("at"))
               .where(e.stream == stream, e.kind.in_(CHURN_KINDS)).group_by(e.subscription_id)).subquery()
    outcome = case((periods.c.latest > periods.c.ends, literal("renewed")),
                   (churned.c.at >= periods.c.ends, literal("lapsed")), else_=literal("pending")).label("outcome")
    rows = db.session.execute(select(periods.c.k, outcome, func.count())
                              .outerjoin(churned, churned.c.subscription_id == periods.c.subscription_id)
                              .group_by(periods.c.k, outcome))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, what, n in rows:
        counts[month][what] += int(n)
    return {month: Renewals(sum(c.values()), c["renewed"], c["lapsed"], c["pending"],
                            rate(c["renewed"], sum(c.values()))) for month, c in counts.items()}


def cohorts(stream: Stream, start: date, end: date) -> Cohorts:
    without_jit()
    months = _Months(start, end)
    rolled = churn_rollup.split(stream, months.days)
    sizes: dict[int, int] = defaultdict(int, rolled.joined(months))
    retained: dict[int, list[int]] = defaultdict(months.zeros)
    mrr: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(months.zeros))
    if not rolled.all:
        members = _members(stream, months, rolled.since)
        for c, n in db.session.execute(select(members.c.cohort, func.count()).where(
                *_joined_since(members, rolled.since)).group_by(members.c.cohort)):
            sizes[int(c)] += int(n)
        flips = _reader_flips(stream, months, rolled.since)
        joined = flips.join(members, members.c.reader_id == flips.c.reader_id)
        cohort_flips = select(flips.c.occurred_at, flips.c.flip, members.c.cohort).select_from(joined).subquery()
        for (c,), slots in flip_slots(cohort_flips, months, cohort_flips.c.cohort).items():
            _add(retained[c], slots)
        for (c, currency), slots in _cohort_mrr(stream, months, members, rolled.since).items():
            _add(mrr[c][currency], slots)
    for c, slots in rolled.cohort_flips(months).items():
        _add(retained[c], slots)
    for (c, currency), slots in rolled.cohort_mrr(months).items():
        _add(mrr[c][currency], slots)
    return Cohorts(stream, start, end, [
        _cohort(months, c, sizes.get(c, 0), _cumulative(retained[c]),
                {cur: _cumulative(v) for cur, v in mrr[c].items()}) for c in range(months.count)])


def _members(stream: Stream, months: _Months, since: datetime | None) -> Any:
    """Readers whose first positive movement in the stream (their cohort) falls in the
    report's months, with it; with `since`, only of the readers who moved from then on."""
    e = SubscriptionEvent
    movers = [] if since is None else [e.reader_id.in_(_movers(stream, months, since))]
    first = (select(e.reader_id, months.index(func.min(e.occurred_at)).label("cohort"),
                    func.min(e.occurred_at).label("first_at"))
             .where(e.stream == stream, e.mrr_delta_minor > 0, e.occurred_at < months.last, *movers)
             .group_by(e.reader_id)).subquery()
    return select(first).where(first.c.cohort >= 0).subquery()


def _joined_since(members: Any, since: datetime | None) -> list[Any]:
    """Cohorts the roll-up does not hold: those that started from `since` on."""
    return [] if since is None else [members.c.first_at >= since]


def _cohort_mrr(stream: Stream, months: _Months, members: Any, since: datetime | None
                ) -> dict[tuple[int, str], list[int]]:
    """Per cohort and currency: the members' movements per slot (with `since`: those
    from then on, and all of a cohort that started from then on; the roll-up has the rest)."""
    e = SubscriptionEvent
    k = months.index(e.occurred_at).label("k")
    live = [] if since is None else [or_(e.occurred_at >= since, members.c.first_at >= since)]
    rows = db.session.execute(select(members.c.cohort, e.currency, k, func.sum(e.mrr_delta_minor))
                              .join(members, members.c.reader_id == e.reader_id)
                              .where(e.stream == stream, e.occurred_at < months.last, *live)
                              .group_by(members.c.cohort, e.currency, k))
    moved: dict[tuple[int, str], list[int]] = defaultdict(months.zeros)
    for cohort, currency, month, total in rows:
        moved[(int(cohort), currency)][month + 1] += int(total)
    return moved


def _cohort(months: _Months, c: int, size: int, paying: list[int], mrr: dict[str, list[int]]) -> Cohort:
    """Cohort month `c`: boundary c + 1 is its end, the base of net MRR retention."""
    base = {cur: held[c + 1] for cur, held in sorted(mrr.items())}
    rows = [CohortMonth(months.days[m], m - c, rate(paying[m + 1], size),
                        {cur: held[m + 1] for cur, held in sorted(mrr.items())},
                        {cur: rate(held[m + 1], base[cur]) for cur, held in sorted(mrr.items())})
            for m in range(c, months.count)]
    return Cohort(months.days[c], size, base, rows)
