"""Who a campaign goes to, as one SQL SELECT of (reader_id, email) per segment.

Every segment starts from the newsletter's confirmed subscribers, minus erased readers
and suppressed addresses, so a segment can never widen who receives a newsletter.
Entitlement = a membership subscription that is active, trialing or past_due (Stripe
keeps retrying past_due, so the reader still has access), a live complimentary
membership, or a redeemed gift that has not expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, or_, select, true

from membership.billing.models import ComplimentaryMembership, GiftMembership, Payment, Price, Subscription
from membership.db import utcnow
from membership.enums import Stream, SubscriptionStatus
from membership.errors import InvalidInput
from membership.identity.models import Reader
from membership.mail.models import Suppression
from membership.newsletters.models import NewsletterSubscription, OptInStatus, Segment

ENTITLED_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
DONATION_STREAMS = (Stream.RECURRING_DONATION, Stream.ONE_TIME_DONATION)


def _paying_member(plan_id: int | None = None) -> ColumnElement[bool]:
    query = select(Subscription.id).where(
        Subscription.reader_id == Reader.id,
        Subscription.stream == Stream.MEMBERSHIP,
        Subscription.status.in_(ENTITLED_STATUSES),
    )
    if plan_id is not None:
        query = query.join(Price, Price.id == Subscription.price_id).where(Price.plan_id == plan_id)
    return exists(query)


def _entitled(now: datetime) -> ColumnElement[bool]:
    comp = exists().where(
        ComplimentaryMembership.reader_id == Reader.id,
        ComplimentaryMembership.revoked_at.is_(None),
        ComplimentaryMembership.starts_at <= now,
        ComplimentaryMembership.expires_at > now,
    )
    gift = exists().where(
        GiftMembership.redeemed_by_reader_id == Reader.id,
        or_(GiftMembership.expires_at.is_(None), GiftMembership.expires_at > now),
    )
    return or_(_paying_member(), comp, gift)


def _donor() -> ColumnElement[bool]:
    return exists().where(Payment.reader_id == Reader.id, Payment.stream.in_(DONATION_STREAMS))


def segment_filter(segment: Segment, plan_id: int | None, now: datetime | None = None) -> ColumnElement[bool]:
    now = now or utcnow()
    if segment == Segment.ALL_CONFIRMED:
        return true()
    if segment == Segment.PAYING_MEMBERS:
        return _paying_member()
    if segment == Segment.DONORS:
        return _donor()
    if segment == Segment.FREE_READERS:
        return ~_entitled(now)
    if segment == Segment.TIER:
        if plan_id is None:
            raise InvalidInput("the tier segment needs segment_plan_id")
        return _paying_member(plan_id)
    raise InvalidInput(f"unknown segment {segment}")


def recipients(newsletter_id: int, segment: Segment, plan_id: int | None = None) -> Select[int, str]:
    """SELECT reader_id, email for a campaign: confirmed, not erased, not suppressed, in the segment."""
    return (
        select(Reader.id, Reader.email)
        .join(NewsletterSubscription, NewsletterSubscription.reader_id == Reader.id)
        .where(
            NewsletterSubscription.newsletter_id == newsletter_id,
            NewsletterSubscription.status == OptInStatus.CONFIRMED,
            Reader.deleted_at.is_(None),
            ~exists().where(Suppression.email == Reader.email),
            segment_filter(segment, plan_id),
        )
    )
