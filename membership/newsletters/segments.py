"""Who a campaign goes to, as one SQL SELECT of (reader_id, email) per segment.

Every segment starts from the newsletter's confirmed subscribers, minus erased readers
and suppressed addresses, so a segment can never widen who receives a newsletter.
Who is a member is billing's one definition (`billing/entitlement.py`: active,
trialing, or past due within the grace period; a live comp; a redeemed gift), the same
one the account page, the reports and the API use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, select, true

from membership.billing.entitlement import is_member_clause, paying_member
from membership.billing.models import Payment
from membership.db import utcnow
from membership.enums import Stream
from membership.errors import InvalidInput
from membership.identity.models import Reader, ReaderLabel
from membership.mail.models import Suppression
from membership.newsletters.models import NewsletterSubscription, OptInStatus, Segment

DONATION_STREAMS = (Stream.RECURRING_DONATION, Stream.ONE_TIME_DONATION)


def _donor() -> ColumnElement[bool]:
    return exists().where(Payment.reader_id == Reader.id, Payment.stream.in_(DONATION_STREAMS))


def segment_filter(segment: Segment, plan_id: int | None, now: datetime | None = None,
                   label: str | None = None) -> ColumnElement[bool]:
    now = now or utcnow()
    if segment == Segment.ALL_CONFIRMED:
        return true()
    if segment == Segment.PAYING_MEMBERS:
        return paying_member(Reader.id, now)
    if segment == Segment.DONORS:
        return _donor()
    if segment == Segment.FREE_READERS:
        return ~is_member_clause(Reader.id, now)
    if segment == Segment.TIER:
        if plan_id is None:
            raise InvalidInput("the tier segment needs segment_plan_id")
        return paying_member(Reader.id, now, plan_id)
    if segment == Segment.LABEL:
        if not label:
            raise InvalidInput("the label segment needs segment_label")
        return exists().where(ReaderLabel.reader_id == Reader.id, ReaderLabel.label == label)
    raise InvalidInput(f"unknown segment {segment}")


def recipients(newsletter_id: int, segment: Segment, plan_id: int | None = None,
               label: str | None = None) -> Select[int, str]:
    """SELECT reader_id, email for a campaign: confirmed, not erased, not suppressed, in the segment."""
    return (
        select(Reader.id, Reader.email)
        .join(NewsletterSubscription, NewsletterSubscription.reader_id == Reader.id)
        .where(
            NewsletterSubscription.newsletter_id == newsletter_id,
            NewsletterSubscription.status == OptInStatus.CONFIRMED,
            Reader.deleted_at.is_(None),
            ~exists().where(Suppression.email == Reader.email),
            segment_filter(segment, plan_id, label=label),
        )
    )
