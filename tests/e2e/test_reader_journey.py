"""A reader's whole journey through every real part: sign up -> confirm -> checkout ->
pay on the simulator's hosted page -> signed webhook to the app on a real HTTP server
-> inbox -> real Celery worker (Redis, PostgreSQL, committed transactions) -> member,
as our single entitlement function sees it. Then self-service (cancel, resume) shows
in Stripe's state and ours and the webhooks that follow do not undo it; a gift
membership bought by A is fulfilled by the worker and redeemed by B; A never sees B's
subscription. Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing.entitlement import entitlement
from membership.billing.gateway import stripe_client
from membership.billing.models import CheckoutSession, CheckoutStatus, GiftMembership, Subscription, WebhookEvent
from membership.demo import seed_catalogue
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.secrets import reveal
from tests.readers.helpers import new_client, sign_up_and_confirm, unique_email
from tests.support.live import webhook_target
from tests.support.worker import wait_until

MEMBER = {"plan": "member", "currency": "USD", "interval": "month", "accept_auto_renewal": True}


@pytest.fixture
def live_app(app: Flask, committed_db: None, stripe_sim: Any) -> Iterator[str]:
    """The app on a real HTTP server thread, registered as the sim's webhook endpoint."""
    with webhook_target(app, stripe_sim) as (_, endpoint):
        yield endpoint


def _settled(stripe_sim: Any) -> bool:
    if not stripe_sim.wait_for_deliveries(30):
        return False
    db.session.rollback()  # see the worker's commits
    pending = db.session.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.status.not_in(["processed", "dead"])))
    return pending == 0


def _pay(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    res = client.post("/api/checkout", json=body)
    assert res.status_code == 201, res.get_json()
    out: dict[str, Any] = res.get_json()
    paid = requests.post(out["url"], data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=10)
    assert paid.status_code == 303, paid.text
    return out


@pytest.mark.slow
def test_sign_up_to_member_and_self_service_through_the_worker(
        app: Flask, live_app: str, stripe_sim: Any, start_worker: Callable[..., Any]) -> None:
    seed_catalogue()
    db.session.commit()
    start_worker(queues="webhooks", concurrency=1)
    sdk = stripe_client()
    a = new_client(app)
    a_id = sign_up_and_confirm(a, unique_email("journey"))["reader_id"]
    assert not entitlement(a_id).active

    out = _pay(a, MEMBER)
    assert wait_until(lambda: _settled(stripe_sim) and entitlement(a_id).active, timeout=90)
    assert entitlement(a_id).source == "subscription"
    assert a.get("/api/me").get_json()["membership"]["active"] is True
    local = db.session.scalar(select(CheckoutSession).where(
        CheckoutSession.stripe_session_id == out["stripe_session_id"]))
    assert local is not None and local.status is CheckoutStatus.COMPLETE
    sub = db.session.scalar(select(Subscription).where(Subscription.reader_id == a_id))
    assert sub is not None and sub.status.value == "active"

    # cancel at period end: Stripe's state and ours at once; the webhooks that follow agree
    res = a.post(f"/api/me/subscriptions/{sub.id}/cancel", json={"reason": "unused"})
    assert res.status_code == 200 and res.get_json()["cancel_at_period_end"] is True
    assert sdk.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is True
    assert wait_until(lambda: _settled(stripe_sim), timeout=60)
    db.session.refresh(sub)
    assert sub.cancel_at_period_end and entitlement(a_id).active
    res = a.post(f"/api/me/subscriptions/{sub.id}/resume")
    assert res.status_code == 200 and res.get_json()["cancel_at_period_end"] is False
    assert wait_until(lambda: _settled(stripe_sim), timeout=60)
    db.session.refresh(sub)
    assert not sub.cancel_at_period_end
    assert sdk.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is False

    # A buys a gift membership; the worker fulfils it; B redeems it and becomes a member
    gift_out = _pay(a, {"plan": "member", "currency": "USD",
                        "gift": {"recipient_email": "b@news-reader.org", "recipient_name": "B", "months": 3}})
    assert gift_out["amount_minor"] == 3000

    def delivered() -> bool:
        return _settled(stripe_sim) and db.session.scalar(
            select(Notice).where(Notice.kind == "gift_delivered", Notice.reader_id == a_id)) is not None

    assert wait_until(delivered, timeout=60)
    notice = db.session.scalar(select(Notice).where(Notice.kind == "gift_delivered", Notice.reader_id == a_id))
    assert notice is not None
    code = reveal(notice.context, "code")
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.purchaser_reader_id == a_id))
    assert gift is not None and gift.status == "paid"
    b = new_client(app)
    b_id = sign_up_and_confirm(b, unique_email("giftee"))["reader_id"]
    assert b.post("/api/gifts/redeem", json={"code": code}).status_code == 200
    assert entitlement(b_id).source == "gift"

    # B cannot see or touch A's subscription
    assert b.get("/api/me/billing").get_json()["subscriptions"] == []
    assert b.post(f"/api/me/subscriptions/{sub.id}/cancel", json={}).status_code == 404
    assert sdk.v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is False
