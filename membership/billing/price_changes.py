"""A price change, as staff run it: preview who is told what and when, then announce it.

The notices themselves are recorded by `notices.scheduling.record_price_change`, as
`flask mail price-change` records them after the same check, and the preview reads the very candidates it records
(`price_change_candidates`), so what the page promises is what gets scheduled.

Announcing also makes the new price: a local Price row for the same plan, currency and
interval, mirrored to Stripe like every fixed price (`catalog.ensure_price`: lookup key
first, so a second announcement finds it). It is created *not on sale*: joiners keep
the old price and subscribers stay on it until the change applies; moving them is
billing's job on the day, after the legal notice went out (a subscription moved
earlier would have its notice suppressed as "moved to another price"):
`price_change_apply.py`, which also puts the new price on sale then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from membership.billing.catalog import ensure_price
from membership.billing.models import Plan, Price
from membership.billing.notices.policy import POLICIES, NoticePolicy
from membership.billing.notices.scheduling import (
    check_price_change,
    price_change_audience,
    price_change_candidates,
    record_price_change,
)
from membership.billing.price_change_records import KIND, Change, notices_of
from membership.db import utcnow
from membership.enums import Interval
from membership.extensions import db
from membership.mail.models import Notice

PREVIEW_ROWS = 50


@dataclass(frozen=True)
class NoticeLine:
    """One subscriber's notice: to whom, which kind, due when, inside which legal window."""

    reader_id: int
    email: str
    subscription: str  # Stripe id
    interval: Interval
    current_amount_minor: int
    renews_at: datetime | None
    kind: str
    due_at: datetime
    window_opens_at: datetime
    window_closes_at: datetime


@dataclass(frozen=True)
class Preview:
    plan: Plan
    price: Price
    new_amount_minor: int
    effective_at: datetime
    policy: NoticePolicy
    count: int  # every subscriber told
    lines: list[NoticeLine]  # the first PREVIEW_ROWS of them, by subscription


@dataclass(frozen=True)
class Announced:
    price: Price
    new_price: Price
    created: int  # notices recorded now (0 when the same change was announced before)


def preview(price_id: int, new_amount_minor: int, effective_at: datetime, now: datetime | None = None,
            rows: int = PREVIEW_ROWS) -> Preview:
    """What confirming would record; refuses exactly what the scheduler refuses. Reads only."""
    now = now or utcnow()
    price = check_price_change(price_id, new_amount_minor, effective_at, now)
    policy = POLICIES[KIND]
    count = db.session.scalar(select(func.count()).select_from(price_change_audience(price).subquery())) or 0
    first = next(price_change_candidates(price, new_amount_minor, effective_at, now, size=rows), [])
    lines = [NoticeLine(c.reader_id, c.email, sub.stripe_subscription_id, sub.interval, sub.unit_amount_minor,
                        sub.current_period_end, KIND, c.due_at.astimezone(UTC),
                        policy.window_opens_at(effective_at).astimezone(UTC),
                        policy.window_closes_at(effective_at).astimezone(UTC)) for sub, c in first]
    return Preview(db.session.get_one(Plan, price.plan_id), price, new_amount_minor, effective_at, policy, count,
                   lines)


def announce(price_id: int, new_amount_minor: int, effective_at: datetime, now: datetime | None = None) -> Announced:
    """Make the new price (here and at Stripe, not on sale yet) and record every notice.
    Checked before anything is made; flushes only (the caller's unit of work commits)."""
    now = now or utcnow()
    price = check_price_change(price_id, new_amount_minor, effective_at, now)
    new_price = successor(price, new_amount_minor)
    created = record_price_change(price, new_amount_minor, effective_at, now)  # checked above
    return Announced(price, new_price, created)


def find_successor(price: Price, amount_minor: int) -> Price | None:
    """The price a change of `price` to `amount_minor` moves to, if it exists here yet."""
    return db.session.scalar(select(Price).where(
        Price.plan_id == price.plan_id, Price.currency == price.currency, Price.interval == price.interval,
        Price.amount_minor == amount_minor))


def successor(price: Price, amount_minor: int) -> Price:
    """The new price of a change (made here and at Stripe when missing, not on sale). Flushes."""
    same = find_successor(price, amount_minor)
    if same is None:
        same = Price(plan_id=price.plan_id, currency=price.currency, interval=price.interval, amount_minor=amount_minor,
                     min_amount_minor=price.min_amount_minor, benefit_value_minor=price.benefit_value_minor,
                     trial_days=price.trial_days, active=False)
        db.session.add(same)
        db.session.flush()
    ensure_price(same)
    return same


def scheduled(price_id: int, new_amount_minor: int, effective_at: datetime,
              rows: int = PREVIEW_ROWS) -> tuple[int, list[Notice]]:
    """The notices recorded for one announced change: how many, and the first rows."""
    where = notices_of(Change(effective_at, price_id, new_amount_minor))
    count = db.session.scalar(select(func.count(Notice.id)).where(*where)) or 0
    return count, list(db.session.scalars(select(Notice).where(*where).order_by(Notice.id).limit(rows)))
