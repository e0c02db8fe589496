"""The demo reader every reader page can show: a sustaining member for five months, with
their payments, and a monthly recurring gift, so /account, its receipts and statements,
and /join's "already a member" path show something real on a fresh `make run`.

`seed-demo` prints this reader's sign-in link in development only (never in production
or tests): a magic link like the one mail carries, valid 15 minutes, for the person
trying the demo on their own machine. Local rows only (ids `demo_rp_*`): Stripe never
sees them, so changing the plan or the card of this reader fails with a clear
processor error rather than touching the simulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from membership.billing.models import Payment, Plan, Price, Subscription, SubscriptionEvent
from membership.enums import Interval, MrrMovement, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.links import public_link
from membership.identity.models import Reader, TokenPurpose
from membership.identity.tokens import issue_token
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus

DEMO_EMAIL = "ani@demo-reader.example"
DESCRIPTIONS = {
    "member": "Our reporting, the weekly members' letter and a say in what we investigate next.",
    "sustainer": "Everything members get, plus a yearly call with the editors and your name in our annual report.",
}
MONTH = timedelta(days=30)


def _price(plan: str, interval: Interval = Interval.MONTH) -> Price:
    price = db.session.scalar(select(Price).join(Plan).where(Plan.code == plan, Price.currency == "USD",
                                                             Price.interval == interval).order_by(Price.id))
    assert price is not None, f"the catalogue has no USD {interval.value} price for {plan}"
    return price


def _subscription(reader: Reader, price: Price, stream: Stream, amount: int, months: int, now: datetime,
                  tag: str) -> Subscription:
    start = now - months * MONTH
    sub = Subscription(reader_id=reader.id, stripe_subscription_id=f"demo_rp_sub_{tag}", price_id=price.id,
                       stream=stream, status=SubscriptionStatus.ACTIVE, unit_amount_minor=amount, currency="USD",
                       interval=Interval.MONTH, current_period_start=now - timedelta(days=10),
                       current_period_end=now + timedelta(days=20), mrr_minor=amount, first_paid_at=start,
                       stripe_created_at=start)
    db.session.add(sub)
    db.session.flush()
    db.session.add(SubscriptionEvent(subscription_id=sub.id, reader_id=reader.id, kind=MrrMovement.NEW,
                                     stream=stream, mrr_delta_minor=amount, mrr_after_minor=amount, currency="USD",
                                     occurred_at=start, dedupe_key=f"demo_rp:{tag}:new"))
    for n in range(months):
        paid = start + n * MONTH
        fee = amount * 29 // 1000 + 30
        db.session.add(Payment(
            reader_id=reader.id, subscription_id=sub.id, stripe_charge_id=f"demo_rp_ch_{tag}_{n}",
            stripe_invoice_id=f"demo_rp_in_{tag}_{n}", balance_transaction_id=f"demo_rp_txn_{tag}_{n}",
            stream=stream, billing_reason="subscription_create" if n == 0 else "subscription_cycle",
            gross_minor=amount, fee_minor=fee, net_minor=amount - fee, currency="USD", paid_at=paid,
            service_period_start=paid, service_period_end=paid + MONTH))
    return sub


def add_demo_reader(now: datetime) -> Reader:
    """The demo reader with a membership, its payments and a recurring gift (idempotent)."""
    for code, text in DESCRIPTIONS.items():
        plan = db.session.scalar(select(Plan).where(Plan.code == code))
        if plan is not None and not plan.description:
            plan.description = text
    existing = db.session.scalar(select(Reader).where(Reader.email == DEMO_EMAIL))
    if existing is not None:
        return existing
    reader = Reader(email=DEMO_EMAIL, name="Ani Hakobyan", created_at=now - 6 * MONTH,
                    email_verified_at=now - 6 * MONTH)
    db.session.add(reader)
    db.session.flush()
    sustainer = _price("sustainer")
    _subscription(reader, sustainer, Stream.MEMBERSHIP, sustainer.amount_minor or 0, 5, now, "member")
    _subscription(reader, _price("recurring-gift"), Stream.RECURRING_DONATION, 1500, 3, now, "gift")
    for newsletter in db.session.scalars(select(Newsletter).where(Newsletter.slug.in_(["daily", "investigations"]))):
        db.session.add(NewsletterSubscription(reader_id=reader.id, newsletter_id=newsletter.id,
                                              status=OptInStatus.CONFIRMED, confirmed_at=reader.created_at,
                                              source="demo"))
    db.session.flush()
    return reader


def demo_sign_in_link() -> str | None:
    """A fresh sign-in link for the demo reader (15 minutes), or None without one. Flushes."""
    reader = db.session.scalar(select(Reader).where(Reader.email == DEMO_EMAIL, Reader.deleted_at.is_(None)))
    if reader is None:
        return None
    return public_link(f"/signin/{issue_token(reader, TokenPurpose.SIGN_IN)}")
