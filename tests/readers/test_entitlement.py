"""The one entitlement rule: statuses, grace period, comps, gifts; and its SQL twin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from membership.billing.entitlement import entitlement, member_ids
from membership.billing.models import ComplimentaryMembership, GiftMembership, Plan, Subscription
from membership.db import utcnow
from membership.enums import Interval, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from tests.readers.helpers import unique_email


def _reader() -> Reader:
    reader = Reader(email=unique_email("ent"))
    db.session.add(reader)
    db.session.flush()
    return reader


def _sub(reader: Reader, status: SubscriptionStatus, stream: Stream = Stream.MEMBERSHIP, **kw: Any) -> Subscription:
    now = utcnow()
    sub = Subscription(reader_id=reader.id, stripe_subscription_id=f"sub_{unique_email()}", stream=stream,
                       status=status, unit_amount_minor=1000, currency="USD", interval=Interval.MONTH,
                       stripe_created_at=now, current_period_end=now + timedelta(days=10), **kw)
    db.session.add(sub)
    db.session.flush()
    return sub


def test_statuses_and_grace(db_session: Any, catalogue: None) -> None:
    now = utcnow()
    grace = timedelta(days=14)  # PAST_DUE_GRACE_DAYS default
    cases = {
        "active": (SubscriptionStatus.ACTIVE, {}, True),
        "trialing": (SubscriptionStatus.TRIALING, {}, True),
        "past_due_recent": (SubscriptionStatus.PAST_DUE, {"past_due_since": now - timedelta(days=3)}, True),
        "past_due_old": (SubscriptionStatus.PAST_DUE, {"past_due_since": now - grace - timedelta(hours=1)}, False),
        "unpaid": (SubscriptionStatus.UNPAID, {}, False),
        "canceled": (SubscriptionStatus.CANCELED, {}, False),
        "incomplete": (SubscriptionStatus.INCOMPLETE, {}, False),
        "paused": (SubscriptionStatus.PAUSED, {}, False),
    }
    ids = {}
    for name, (status, extra, _) in cases.items():
        reader = _reader()
        _sub(reader, status, **extra)
        ids[name] = reader.id
    donor = _reader()
    _sub(donor, SubscriptionStatus.ACTIVE, stream=Stream.RECURRING_DONATION)
    members = set(db.session.scalars(member_ids()))
    for name, (_, _, expected) in cases.items():
        assert entitlement(ids[name]).active is expected, name
        assert (ids[name] in members) is expected, name
    assert not entitlement(donor.id).active and donor.id not in members


def test_comps_and_gifts_windows(db_session: Any, catalogue: None) -> None:
    plan = db.session.scalar(select(Plan).where(Plan.code == "member"))
    assert plan is not None
    now = utcnow()
    comped, revoked, gifted, buyer = _reader(), _reader(), _reader(), _reader()
    db.session.add_all([
        ComplimentaryMembership(reader_id=comped.id, plan_id=plan.id, starts_at=now - timedelta(days=1),
                                expires_at=now + timedelta(days=5)),
        ComplimentaryMembership(reader_id=revoked.id, plan_id=plan.id, starts_at=now - timedelta(days=1),
                                expires_at=now + timedelta(days=5), revoked_at=now),
        GiftMembership(purchaser_reader_id=buyer.id, recipient_email="x@news-reader.org", plan_id=plan.id, months=1,
                       code_hash="0" * 64, amount_minor=1000, currency="USD", status="redeemed",
                       redeemed_by_reader_id=gifted.id, redeemed_at=now - timedelta(days=1),
                       expires_at=now + timedelta(days=29)),
    ])
    db.session.flush()
    assert entitlement(comped.id).source == "comp"
    assert not entitlement(comped.id, at=now + timedelta(days=6)).active
    assert not entitlement(revoked.id).active
    assert entitlement(gifted.id).source == "gift" and not entitlement(buyer.id).active
    assert set(db.session.scalars(member_ids())) >= {comped.id, gifted.id}
