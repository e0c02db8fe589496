"""How a campaign is going and how it went: the figures the console's progress bar and
results show, read from the delivery rows (the truth about each message) and from what
came back afterwards.

- done / total: rows that reached an end state (sent, failed, skipped) of all rows;
- bounced: sent messages whose address later bounced (a BounceEvent, hard or soft,
  reported at or after the send), so a bounce from an older campaign does not count;
- unsubscribed: sent messages whose reader left this newsletter at or after the send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select

from membership.extensions import db
from membership.mail.models import BounceEvent
from membership.newsletters.bounces import HARD, SOFT
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
    return progress_of([campaign])[campaign.id]


def progress_of(campaigns: Sequence[Campaign]) -> dict[int, Progress]:
    """Each campaign's figures by its id, in two queries whatever the number of campaigns
    (the Newsletters page lists up to 25 per newsletter)."""
    ids = [c.id for c in campaigns]
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in DeliveryStatus} for i in ids}
    for campaign_id, status, n in db.session.execute(
        select(Delivery.campaign_id, Delivery.status, func.count()).where(Delivery.campaign_id.in_(ids))
        .group_by(Delivery.campaign_id, Delivery.status)
    ):
        counts[campaign_id][str(getattr(status, "value", status))] = int(n)
    after = _after_sending([i for i in ids if counts[i][DeliveryStatus.SENT.value]])
    return {i: _figures(counts[i], *after.get(i, (0, 0))) for i in ids}


def _figures(counts: dict[str, int], bounced: int, unsubscribed: int) -> Progress:
    sent, failed, skipped = (counts[s.value] for s in (DeliveryStatus.SENT, DeliveryStatus.FAILED,
                                                        DeliveryStatus.SKIPPED))
    return Progress(total=sum(counts.values()), done=sent + failed + skipped,
                    pending=counts[DeliveryStatus.PENDING.value] + counts[DeliveryStatus.SENDING.value],
                    sent=sent, failed=failed, skipped=skipped, bounced=bounced, unsubscribed=unsubscribed)


def _after_sending(campaign_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(bounced, unsubscribed) of each campaign that sent something."""
    if not campaign_ids:
        return {}
    bounced = exists().where(BounceEvent.email == Delivery.email, BounceEvent.kind.in_((HARD, SOFT)),
                             BounceEvent.reported_at >= Delivery.sent_at)
    left = exists().where(NewsletterSubscription.reader_id == Delivery.reader_id,
                          NewsletterSubscription.newsletter_id == Campaign.newsletter_id,
                          NewsletterSubscription.status == OptInStatus.UNSUBSCRIBED,
                          NewsletterSubscription.unsubscribed_at >= Delivery.sent_at)
    rows = db.session.execute(
        select(Delivery.campaign_id, func.count().filter(bounced), func.count().filter(left))
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(and_(Delivery.campaign_id.in_(campaign_ids), Delivery.status == DeliveryStatus.SENT))
        .group_by(Delivery.campaign_id)
    )
    return {campaign_id: (int(b), int(u)) for campaign_id, b, u in rows}
