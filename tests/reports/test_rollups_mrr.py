"""The MRR roll-up (churn_rollup.py) answers exactly what the live churn and cohort
reports compute: random subscription movements over June 2025 .. the open month
(several currencies and plans per reader, same-instant movements, zero movements before
a first positive one, readers who start in the open month) are rolled up; churn and
cohorts over random ranges equal the live reports. A late movement in an old month and
a subscription's plan changing make every month from theirs on live (same numbers)
until the next roll-up re-rolls that suffix."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from membership.billing.models import Subscription, SubscriptionEvent
from membership.db import utcnow
from membership.enums import Interval, MrrMovement, Stream
from membership.extensions import db
from membership.reports import churn, rollup
from tests.factories.billing import SubscriptionFactory
from tests.factories.readers import ReaderFactory

FIRST = date(2025, 6, 1)
STREAMS = (Stream.MEMBERSHIP, Stream.RECURRING_DONATION)
M = MrrMovement


def _event(sub: Any, kind: MrrMovement, delta: int, when: datetime, n: int) -> None:
    db.session.add(SubscriptionEvent(
        subscription_id=sub.id, reader_id=sub.reader_id, kind=kind, stream=sub.stream, mrr_delta_minor=delta,
        mrr_after_minor=0, currency=sub.currency, occurred_at=when, dedupe_key=f"mrr-rollup:{sub.id}:{n}"))


def _life(rng: random.Random, sub: Any, start: datetime, end: datetime) -> None:
    """One subscription's movements: new, maybe expansion/contraction, churn, reactivation."""
    when, n, mrr = start, 0, 0
    if rng.random() < 0.3:  # a zero or negative movement before the first positive one
        _event(sub, M.FX, -rng.choice((0, 100)), when - timedelta(days=rng.choice((3, 40))), n)
        n += 1
    while when < end:
        if mrr <= 0:
            delta = rng.choice((500, 1000, 2500))
            _event(sub, M.NEW if n == 0 else M.REACTIVATION, delta, when, n)
        else:
            kind = rng.choice((M.EXPANSION, M.CONTRACTION, M.CHURN_VOLUNTARY, M.CHURN_DELINQUENT))
            delta = {M.EXPANSION: 300, M.CONTRACTION: -min(200, mrr)}.get(kind, -mrr)
            _event(sub, kind, delta, when if rng.random() < 0.8 else when.replace(hour=0), n)
        mrr += delta
        n += 1
        when += timedelta(days=rng.randint(5, 120), hours=rng.randint(0, 23))


def _generate(seed: int) -> list[Any]:
    rng = random.Random(seed)
    now = utcnow()
    begin = datetime(2025, 6, 1, 12, tzinfo=UTC)
    subs = []
    for _ in range(30):
        reader = ReaderFactory()
        for _k in range(rng.choice((1, 1, 2))):
            sub = SubscriptionFactory(reader_id=reader.id, stream=rng.choice(STREAMS),
                                      currency=rng.choice(("USD", "USD", "EUR")),
                                      interval=rng.choice((Interval.MONTH, Interval.YEAR)))
            late_starter = rng.random() < 0.1
            start = (now - timedelta(days=1)) if late_starter else begin + (now - begin) * rng.random()
            _life(rng, sub, start, now)
            subs.append(sub)
    edge = SubscriptionFactory(stream=Stream.MEMBERSHIP)  # moved before its cohort month (September 2025)
    _event(edge, M.FX, -100, datetime(2025, 8, 20, 12, tzinfo=UTC), 0)
    _event(edge, M.NEW, 1000, datetime(2025, 9, 20, 12, tzinfo=UTC), 1)
    db.session.flush()
    return subs


def _month(k: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + k) // 12, (FIRST.month - 1 + k) % 12 + 1, 1)


def _reports(start: date, end: date) -> tuple[Any, ...]:
    return tuple(f(s, start, end) for s in STREAMS for f in (churn.churn, churn.cohorts))


def _compare(monkeypatch: pytest.MonkeyPatch, rng: random.Random, draws: int) -> None:
    """Random ranges from before the data to past the open month, and one across the
    late movement's month below."""
    opened = rollup.open_month()
    span = (opened.year - FIRST.year) * 12 + opened.month - FIRST.month + 2
    ranges = [(date(2025, 7, 1), date(2026, 1, 1))]
    for _ in range(draws):
        a = rng.randrange(0, span)
        b = rng.randrange(a + 1, span + 1)
        ranges.append((_month(a - 1), _month(b)))
    for start, end in ranges:
        rolled = _reports(start, end)
        with monkeypatch.context() as m:
            m.setattr(rollup, "frontier", lambda source: None)
            assert rolled == _reports(start, end), (start, end)


def test_mrr_rollup_equals_live_over_random_ranges(db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    subs = _generate(seed=15)
    rng = random.Random(2)
    done = rollup.roll_up()
    opened = rollup.open_month()
    assert done[rollup.MRR] and done[rollup.MRR][-1] < opened
    assert rollup.frontier(rollup.MRR) == opened  # every closed month is read from the roll-up
    _compare(monkeypatch, rng, 20)

    # A late movement in an old month: that month and every later one are live until re-rolled.
    old = next(s for s in subs if s.stream is Stream.MEMBERSHIP)
    _event(old, M.EXPANSION, 700, datetime(2025, 9, 15, 12, tzinfo=UTC), 99)
    db.session.flush()
    assert rollup.frontier(rollup.MRR) == date(2025, 9, 1)
    _compare(monkeypatch, rng, 8)
    again = rollup.roll_up()
    assert again[rollup.MRR][0] == date(2025, 9, 1) and rollup.frontier(rollup.MRR) == opened
    _compare(monkeypatch, rng, 8)

    # A plan changing restates the per-plan figures of every month the subscription moved in.
    db.session.execute(update(Subscription).where(Subscription.id == old.id).values(
        interval=Interval.YEAR if old.interval is Interval.MONTH else Interval.MONTH))
    db.session.flush()
    assert rollup.frontier(rollup.MRR) is None or rollup.frontier(rollup.MRR) < opened
    _compare(monkeypatch, rng, 8)
    rollup.roll_up()
    assert rollup.frontier(rollup.MRR) == opened
    _compare(monkeypatch, rng, 8)
    assert not rollup.roll_up()[rollup.MRR]  # idempotent
