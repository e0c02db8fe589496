"""Facts become outbox events in the same transaction, whichever code path writes them."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from membership.billing.models import Refund
from membership.db import utcnow
from membership.enums import Stream, SubscriptionStatus
from membership.extensions import db
from membership.integrations.models import OutboundDelivery
from membership.newsletters import services as newsletters
from membership.newsletters.models import OptInStatus
from tests.factories.billing import PaymentFactory, PlanFactory, PriceFactory, SubscriptionFactory
from tests.factories.newsletters import NewsletterFactory, NewsletterSubscriptionFactory
from tests.factories.readers import ReaderFactory
from tests.integrations.helpers import add_endpoint, events


def test_no_endpoint_no_rows(app: Flask, db_session: object) -> None:
    ReaderFactory()
    db.session.commit()
    assert events() == []


def test_each_fact_is_one_event_in_order(app: Flask, db_session: object) -> None:
    add_endpoint(app, "http://127.0.0.1:9/hooks")
    reader = ReaderFactory(email_verified_at=None)
    db.session.commit()
    assert events(reader.id) == []  # an unconfirmed sign-up is nobody yet
    reader.email_verified_at = utcnow()
    db.session.commit()
    reader.name = "New Name"
    db.session.commit()
    plan = PlanFactory(code="basic")
    sub = SubscriptionFactory(reader_id=reader.id, price_id=PriceFactory(plan_id=plan.id).id)
    db.session.commit()
    sub.quantity = 2
    db.session.commit()
    sub.status = SubscriptionStatus.CANCELED
    db.session.commit()
    payment = PaymentFactory(reader_id=reader.id, stream=Stream.ONE_TIME_DONATION)
    db.session.commit()
    refund = Refund(payment_id=payment.id, stripe_refund_id="re_1", amount_minor=500, currency="USD", status="pending")
    db.session.add(refund)
    db.session.commit()
    refund.status = "succeeded"
    db.session.commit()
    letter = NewsletterFactory()
    NewsletterSubscriptionFactory(reader_id=reader.id, newsletter_id=letter.id, status=OptInStatus.PENDING)
    db.session.commit()
    newsletters.confirm(reader.id, letter.id, None)
    db.session.commit()
    newsletters.unsubscribe(reader.id, letter.id)
    db.session.commit()
    reader.deleted_at, reader.email, reader.name = utcnow(), f"erased-{reader.id}@invalid", ""
    db.session.commit()
    assert [t for t, _ in events(reader.id)] == [
        "member.created", "member.updated", "subscription.started", "subscription.changed", "subscription.canceled",
        "payment.succeeded", "donation.received", "payment.refunded", "newsletter.subscribed",
        "newsletter.unsubscribed", "member.deleted"]


def test_a_rolled_back_fact_leaves_no_event(app: Flask, db_session: object) -> None:
    add_endpoint(app, "http://127.0.0.1:9/hooks", "payment.succeeded")
    reader = ReaderFactory()
    db.session.commit()
    PaymentFactory(reader_id=reader.id, stream=Stream.MEMBERSHIP)
    db.session.flush()
    db.session.rollback()
    assert events(reader.id) == []


def test_endpoints_get_only_their_types(app: Flask, db_session: object) -> None:
    payments, _ = add_endpoint(app, "http://127.0.0.1:9/a", "payment.succeeded")
    members, _ = add_endpoint(app, "http://127.0.0.1:9/b", "member.created")
    reader = ReaderFactory()
    PaymentFactory(reader_id=reader.id, stream=Stream.MEMBERSHIP, paid_at=utcnow() - timedelta(days=1))
    db.session.commit()
    by_endpoint = {d.endpoint_id: d.event.type for d in db.session.query(OutboundDelivery)}
    assert by_endpoint == {payments.id: "payment.succeeded", members.id: "member.created"}
