"""Segments as SQL, the double opt-in services and the one INSERT ... SELECT of rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from membership.db import utcnow
from membership.enums import Stream, SubscriptionStatus
from membership.errors import NotFound
from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader
from membership.mail.models import Suppression, SuppressionReason
from membership.newsletters import services
from membership.newsletters.deliveries import create_deliveries
from membership.newsletters.models import CampaignStatus, Delivery, OptInStatus, Segment
from membership.newsletters.segments import recipients
from tests.factories.billing import PaymentFactory, PlanFactory, PriceFactory, SubscriptionFactory
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter


def _ids(newsletter_id: int, segment: Segment, plan_id: int | None = None) -> set[int]:
    return {row[0] for row in db.session.execute(recipients(newsletter_id, segment, plan_id))}


def test_segments_pick_the_right_readers(db_session: Any) -> None:
    newsletter = make_newsletter()
    member, past_due, other_tier, donor, free, lapsed, erased, suppressed = add_readers(newsletter.id, 8)
    gold, silver = PlanFactory(), PlanFactory()
    gold_price, silver_price = PriceFactory(plan_id=gold.id), PriceFactory(plan_id=silver.id)
    SubscriptionFactory(reader_id=member, price_id=gold_price.id)
    SubscriptionFactory(reader_id=past_due, price_id=gold_price.id, status=SubscriptionStatus.PAST_DUE)
    SubscriptionFactory(reader_id=other_tier, price_id=silver_price.id, status=SubscriptionStatus.TRIALING)
    SubscriptionFactory(reader_id=lapsed, price_id=gold_price.id, status=SubscriptionStatus.CANCELED)
    PaymentFactory(reader_id=donor, stream=Stream.ONE_TIME_DONATION)
    PaymentFactory(reader_id=member, stream=Stream.MEMBERSHIP)
    db.session.get(Reader, erased).deleted_at = utcnow()
    db.session.add(Suppression(email=db.session.get(Reader, suppressed).email, reason=SuppressionReason.COMPLAINT))
    outsider = add_readers(make_newsletter("weekly", "Weekly").id, 1, prefix="w")[0]
    db.session.flush()

    assert _ids(newsletter.id, Segment.ALL_CONFIRMED) == {member, past_due, other_tier, donor, free, lapsed}
    assert _ids(newsletter.id, Segment.PAYING_MEMBERS) == {member, past_due, other_tier}
    assert _ids(newsletter.id, Segment.TIER, gold.id) == {member, past_due}
    assert _ids(newsletter.id, Segment.DONORS) == {donor}
    assert _ids(newsletter.id, Segment.FREE_READERS) == {donor, free, lapsed}
    assert outsider not in _ids(newsletter.id, Segment.ALL_CONFIRMED)


def test_segments_use_the_one_definition_of_membership(db_session: Any) -> None:
    """Past due beyond the grace period is no longer a member: the same answer as
    billing.entitlement gives the account page, reader by reader."""
    from membership.billing.entitlement import is_member

    newsletter = make_newsletter()
    in_grace, lapsed_grace, free = add_readers(newsletter.id, 3)
    price = PriceFactory(plan_id=PlanFactory().id)
    SubscriptionFactory(reader_id=in_grace, price_id=price.id, status=SubscriptionStatus.PAST_DUE,
                        past_due_since=utcnow() - timedelta(days=3))
    SubscriptionFactory(reader_id=lapsed_grace, price_id=price.id, status=SubscriptionStatus.PAST_DUE,
                        past_due_since=utcnow() - timedelta(days=30))
    db.session.flush()

    assert _ids(newsletter.id, Segment.PAYING_MEMBERS) == {in_grace}
    assert _ids(newsletter.id, Segment.FREE_READERS) == {lapsed_grace, free}
    for reader_id in (in_grace, lapsed_grace, free):
        paying = reader_id in _ids(newsletter.id, Segment.PAYING_MEMBERS)
        assert paying == is_member(reader_id)


def test_one_insert_select_creates_each_row_once(db_session: Any) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 25)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED)
    assert create_deliveries(campaign) == 25
    assert create_deliveries(campaign) == 0  # a repeated task adds nobody twice
    assert db.session.query(Delivery).filter_by(campaign_id=campaign.id, status="pending").count() == 25


def test_double_opt_in_keeps_time_ip_and_consent(db_session: Any) -> None:
    newsletter = make_newsletter()
    reader = Reader(email="new@example.org")
    db.session.add(reader)
    db.session.flush()
    sub = services.subscribe(reader.id, newsletter.id, ip="203.0.113.9", source="signup")
    assert sub.status == OptInStatus.PENDING and sub.confirmed_at is None
    assert _ids(newsletter.id, Segment.ALL_CONFIRMED) == set()
    assert services.confirm_pending(reader.id, ip="203.0.113.10") == [newsletter.id]
    assert sub.status == OptInStatus.CONFIRMED and sub.confirm_ip == "203.0.113.10"
    assert sub.confirmed_at is not None and utcnow() - sub.confirmed_at < timedelta(minutes=1)
    consent = db.session.query(Consent).filter_by(reader_id=reader.id, kind=ConsentKind.NEWSLETTER).one()
    assert consent.ip == "203.0.113.10"
    assert services.unsubscribe(reader.id, newsletter.id) is True
    assert services.unsubscribe(reader.id, newsletter.id) is False
    assert services.subscribe(reader.id, newsletter.id, None, "page").status == OptInStatus.PENDING
    with pytest.raises(NotFound):
        services.subscribe(reader.id, 999_999, None, "page")


def test_claim_rechecks_suppression_unsubscribe_and_erasure(db_session: Any) -> None:
    from membership.newsletters.deliveries import claim

    newsletter = make_newsletter()
    suppressed, unsubscribed, erased, kept1, kept2 = add_readers(newsletter.id, 5)
    campaign = make_campaign(newsletter.id, CampaignStatus.SENDING)
    create_deliveries(campaign)
    db.session.add(Suppression(email="r0@example.org", reason=SuppressionReason.HARD_BOUNCE))
    services.unsubscribe(unsubscribed, newsletter.id)
    db.session.get(Reader, erased).deleted_at = utcnow()
    db.session.flush()
    claimed = claim(campaign.id, newsletter.id, size=3)  # the first chunk is all skipped ...
    assert {c.reader_id for c in claimed} == {kept1, kept2}  # ... so the next one is claimed
    assert claim(campaign.id, newsletter.id, size=10) == []
    statuses = {d.reader_id: d.status.value for d in db.session.query(Delivery).filter_by(campaign_id=campaign.id)}
    assert statuses == {suppressed: "skipped", unsubscribed: "skipped", erased: "skipped",
                        kept1: "sending", kept2: "sending"}
    campaign.status = CampaignStatus.PAUSED
    db.session.flush()
    assert claim(campaign.id, newsletter.id, size=10) == []  # paused campaigns are not claimed


def test_due_campaigns_and_idempotent_start(db_session: Any) -> None:
    from membership.newsletters import campaigns

    newsletter = make_newsletter()
    add_readers(newsletter.id, 3)
    due = make_campaign(newsletter.id)
    later = make_campaign(newsletter.id)
    campaigns.schedule(due.id, utcnow() - timedelta(minutes=1))
    campaigns.schedule(later.id, utcnow() + timedelta(days=1))
    assert campaigns.due_campaign_ids() == [due.id]
    assert campaigns.start_sending(due.id) == 3
    assert campaigns.start_sending(due.id) is None  # a repeated task does nothing
    assert campaigns.start_sending(later.id) == 3  # early start by hand is allowed from scheduled
    assert campaigns.due_campaign_ids() == []
    assert not campaigns.finish_if_done(due.id)  # rows still pending
