"""Demo data for the embedded default: a catalogue, newsletters and readers with history.

The readers' history is local only (ids prefixed `demo_`): enough for the finance
pages and newsletters to show something real without touching Stripe.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from membership.billing.models import Payment, Plan, PlanKind, Price, Subscription, SubscriptionEvent
from membership.db import utcnow
from membership.demo import history, reader_pages, staff
from membership.enums import Interval, MrrMovement, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.journal import next_month
from membership.ledger.models import FxRate
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus

PriceRow = tuple[str, Interval, int | None, int, int]
CATALOGUE: list[tuple[str, str, PlanKind, Stream, int, list[PriceRow]]] = [
    # code, name, kind, stream, rank, [(currency, interval, amount or None, min, benefit)]
    ("member", "Member", PlanKind.MEMBERSHIP, Stream.MEMBERSHIP, 1, [
        ("USD", Interval.MONTH, 1000, 0, 0), ("USD", Interval.YEAR, 10000, 0, 2500),
        ("EUR", Interval.MONTH, 900, 0, 0), ("EUR", Interval.YEAR, 9000, 0, 2000)]),
    ("sustainer", "Sustaining member", PlanKind.MEMBERSHIP, Stream.MEMBERSHIP, 2, [
        ("USD", Interval.MONTH, 2500, 0, 0), ("USD", Interval.YEAR, 25000, 0, 2500),
        ("EUR", Interval.MONTH, 2200, 0, 0), ("EUR", Interval.YEAR, 22000, 0, 2000)]),
    ("recurring-gift", "Recurring gift", PlanKind.RECURRING_DONATION, Stream.RECURRING_DONATION, 0, [
        ("USD", Interval.MONTH, None, 500, 0), ("USD", Interval.YEAR, None, 2500, 0),
        ("EUR", Interval.MONTH, None, 500, 0), ("EUR", Interval.YEAR, None, 2500, 0)]),
    ("one-time-gift", "One-time gift", PlanKind.ONE_TIME_DONATION, Stream.ONE_TIME_DONATION, 0, [
        ("USD", Interval.ONE_TIME, None, 500, 0), ("EUR", Interval.ONE_TIME, None, 500, 0)]),
]
NEWSLETTERS = [("daily", "The Daily Brief"), ("weekly", "Weekend Reads"), ("investigations", "Investigations")]


def seed_catalogue() -> list[Price]:
    """Idempotent: plans and prices by code; returns the membership prices."""
    for code, name, kind, stream, rank, rows in CATALOGUE:
        plan = db.session.scalar(select(Plan).where(Plan.code == code))
        if plan is None:
            plan = Plan(code=code, name=name, kind=kind, stream=stream, rank=rank)
            db.session.add(plan)
            db.session.flush()
            for cur, interval, amount, minimum, benefit in rows:
                db.session.add(Price(plan_id=plan.id, currency=cur, interval=interval, amount_minor=amount,
                                     min_amount_minor=minimum, benefit_value_minor=benefit,
                                     max_amount_minor=None if amount else 10_000_000))
    db.session.flush()
    for code, name in NEWSLETTERS:
        if db.session.scalar(select(Newsletter).where(Newsletter.slug == code)) is None:
            db.session.add(Newsletter(slug=code, name=name))
    db.session.flush()
    return list(db.session.scalars(
        select(Price).join(Plan).where(Plan.kind == PlanKind.MEMBERSHIP, Price.amount_minor.is_not(None))
    ))


def seed(readers: int, only_if_empty: bool = False, rng_seed: int = 7) -> int:
    """Create the demo; returns how many readers were created (0 when skipped)."""
    if only_if_empty and db.session.scalar(select(func.count(Reader.id))):
        return 0
    rng = random.Random(rng_seed)
    prices = seed_catalogue()
    newsletters = list(db.session.scalars(select(Newsletter)))
    now = utcnow()
    for n in range(readers):
        reader = Reader(email=f"reader{n}@demo.example", name=f"Demo Reader {n}",
                        created_at=now - timedelta(days=rng.randint(1, 700)), email_verified_at=now)
        db.session.add(reader)
        db.session.flush()
        for nl in rng.sample(newsletters, rng.randint(0, len(newsletters))):
            db.session.add(NewsletterSubscription(reader_id=reader.id, newsletter_id=nl.id,
                                                  status=OptInStatus.CONFIRMED, confirmed_at=reader.created_at,
                                                  source="demo"))
        if rng.random() < 0.4:
            _member_history(reader, rng.choice(prices), n, rng)
    _demo_rates(now)
    reader_pages.add_demo_reader(now)  # the reader whose pages show something real (sign-in link: seed-demo)
    history.add_history(rng, now)  # a year+ of joins, changes, churn, gifts, refunds (console charts)
    staff.add_demo_admin()  # the console's demo admin (sign-in link: seed-demo)
    db.session.flush()
    return readers


def _demo_rates(now: datetime) -> None:
    """Monthly EUR->USD rates over the demo's two years (illustrative, source "demo"), so
    the converted MRR roll-forward answers out of the box; real ones come from `flask fx import`."""
    first = (now - timedelta(days=760)).date().replace(day=1)
    months = [first]
    while months[-1] < now.date():
        months.append(next_month(months[-1]))
    db.session.add_all(FxRate(on_date=day, currency="EUR", base_currency="USD",
                              rate=Decimal("1.08") + Decimal(i % 5) / 100, source="demo")
                       for i, day in enumerate(months))


def _member_history(reader: Reader, price: Price, n: int, rng: random.Random) -> None:
    start = reader.created_at
    months = 12 if price.interval == Interval.YEAR else 1
    amount = price.amount_minor or 0
    mrr = amount // months
    sub = Subscription(reader_id=reader.id, stripe_subscription_id=f"demo_sub_{n}", price_id=price.id,
                       stream=Stream.MEMBERSHIP, status=SubscriptionStatus.ACTIVE, unit_amount_minor=amount,
                       currency=price.currency, interval=price.interval, current_period_start=start,
                       current_period_end=start + timedelta(days=30 * months), mrr_minor=mrr,
                       first_paid_at=start, stripe_created_at=start)
    db.session.add(sub)
    db.session.flush()
    db.session.add(SubscriptionEvent(subscription_id=sub.id, reader_id=reader.id, kind=MrrMovement.NEW,
                                     stream=Stream.MEMBERSHIP, mrr_delta_minor=mrr, mrr_after_minor=mrr,
                                     currency=price.currency, occurred_at=start, dedupe_key=f"demo:{n}:new"))
    fee = amount * 29 // 1000 + 30
    db.session.add(Payment(reader_id=reader.id, subscription_id=sub.id, stripe_charge_id=f"demo_ch_{n}",
                           balance_transaction_id=f"demo_txn_{n}", stream=Stream.MEMBERSHIP,
                           billing_reason="subscription_create", gross_minor=amount, fee_minor=fee,
                           net_minor=amount - fee, currency=price.currency, paid_at=start,
                           service_period_start=sub.current_period_start, service_period_end=sub.current_period_end))
