"""A campaign's figures (newsletters/outcomes.py), read for many campaigns at once as the
Newsletters page does and for one as its own page does: the same numbers either way,
with a bounce or an unsubscribe counted only after that campaign's send."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import BounceEvent
from membership.newsletters.bounces import COMPLAINT, HARD
from membership.newsletters.models import CampaignStatus, Delivery, DeliveryStatus, NewsletterSubscription, OptInStatus
from membership.newsletters.outcomes import Progress, progress, progress_of
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter

S = DeliveryStatus


def test_figures_for_many_campaigns_equal_each_ones_own(db_session: Any) -> None:
    now = utcnow()
    daily, weekly = make_newsletter(), make_newsletter("weekly", "The Weekly")
    daily_readers, weekly_readers = add_readers(daily.id, 5, "d"), add_readers(weekly.id, 2, "w")
    sent = make_campaign(daily.id, CampaignStatus.SENDING)
    other = make_campaign(weekly.id, CampaignStatus.SENT)
    draft = make_campaign(daily.id)
    statuses = (S.SENT, S.SENT, S.SENT, S.FAILED, S.PENDING)
    for n, (reader_id, status) in enumerate(zip(daily_readers, statuses, strict=True)):
        db.session.add(Delivery(campaign_id=sent.id, reader_id=reader_id, email=f"d{n}@example.org", status=status,
                                sent_at=now - timedelta(hours=1) if status == S.SENT else None))
    for n, reader_id in enumerate(weekly_readers):
        db.session.add(Delivery(campaign_id=other.id, reader_id=reader_id, email=f"w{n}@example.org", status=S.SENT,
                                sent_at=now - timedelta(hours=1)))
    db.session.add_all([
        BounceEvent(email="d0@example.org", kind=HARD, reported_at=now),  # after the send: counted
        BounceEvent(email="d1@example.org", kind=HARD, reported_at=now - timedelta(days=2)),  # an older one
        BounceEvent(email="d2@example.org", kind=COMPLAINT, reported_at=now),  # not a bounce
        BounceEvent(email="w1@example.org", kind=HARD, reported_at=now),
    ])
    db.session.execute(update(NewsletterSubscription).where(NewsletterSubscription.reader_id.in_(
        [daily_readers[1], daily_readers[2], weekly_readers[0]])).values(status=OptInStatus.UNSUBSCRIBED,
                                                                         unsubscribed_at=now))
    db.session.flush()

    figures = progress_of([sent, other, draft])
    assert figures[sent.id] == Progress(total=5, done=4, pending=1, sent=3, failed=1, skipped=0, bounced=1,
                                        unsubscribed=2)
    assert figures[other.id] == Progress(total=2, done=2, pending=0, sent=2, failed=0, skipped=0, bounced=1,
                                         unsubscribed=1)
    assert figures[draft.id] == Progress(0, 0, 0, 0, 0, 0, 0, 0)
    assert {c.id: progress(c) for c in (sent, other, draft)} == figures
    assert progress_of([]) == {}
