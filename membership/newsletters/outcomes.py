"""How a campaign is going and how it went: the figures the console's progress bar and
results show, read from the delivery rows (the truth about each message) and from what
came back afterwards.

- done / total: rows that reached an end state (sent, failed, skipped) of all rows;
- bounced: sent messages whose address later bounced (a BounceEvent, hard or soft,
  reported at or after the send), so a bounce from an older campaign does not count;
- unsubscribed: sent messages whose reader left this newsletter at or after the send.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select

from membership.extensions import db
from membership.mail.models import BounceEvent
from membership.newsletters.bounces import HARD, SOFT
from membership.newsletters.deliveries import status_counts
from membership.newsletters.models import Campaign, Delivery, DeliveryStatus, NewsletterSubscription, OptInStatus


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    pending: int
    sent: int
    failed: int
    skipped: int
    bounced: int
    unsubscribed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def progress(campaign: Campaign) -> Progress:
    counts = status_counts(campaign.id)
    bounced, unsubscribed = _after_sending(campaign) if counts[DeliveryStatus.SENT.value] else (0, 0)
    sent, failed, skipped = (counts[s.value] for s in (DeliveryStatus.SENT, DeliveryStatus.FAILED,
                                                        DeliveryStatus.SKIPPED))
    return Progress(total=sum(counts.values()), done=sent + failed + skipped,
                    pending=counts[DeliveryStatus.PENDING.value] + counts[DeliveryStatus.SENDING.value],
                    sent=sent, failed=failed, skipped=skipped, bounced=bounced, unsubscribed=unsubscribed)


def _after_sending(campaign: Campaign) -> tuple[int, int]:
    bounced = exists().where(BounceEvent.email == Delivery.email, BounceEvent.kind.in_((HARD, SOFT)),
                             BounceEvent.reported_at >= Delivery.sent_at)
    left = exists().where(NewsletterSubscription.reader_id == Delivery.reader_id,
                          NewsletterSubscription.newsletter_id == campaign.newsletter_id,
                          NewsletterSubscription.status == OptInStatus.UNSUBSCRIBED,
                          NewsletterSubscription.unsubscribed_at >= Delivery.sent_at)
    row = db.session.execute(
        select(func.count().filter(bounced), func.count().filter(left))
        .where(and_(Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.SENT))
    ).one()
    return int(row[0]), int(row[1])
